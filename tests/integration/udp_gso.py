#!/usr/bin/env python3
"""UDP sent with UDP_SEGMENT (as QUIC stacks send), to check what the
tunnel makes of it: on a TUN opened with USO, the kernel hands the client
one super-packet per send, which the client cuts into datagrams itself.

    udp_gso.py send HOST PORT SENDS SEGS SEGLEN
        SENDS sends of SEGS segments of SEGLEN bytes each, 2 ms apart.
    udp_gso.py recv HOST PORT COUNT SECONDS
        Prints "listening", then counts datagrams until COUNT arrived or
        SECONDS passed without one; prints "received N bad M" (bad: a
        number outside 0..COUNT-1 or seen before, or a length or content
        other than the sender's) and exits 0.

Every datagram carries its number (8 bytes) and a pattern that depends on
it, so a segment cut in the wrong place, or out of another's bytes, is bad.
A wrong checksum never arrives (the receiving kernel drops it).
"""
import socket
import struct
import sys
import time

SOL_UDP = 17
UDP_SEGMENT = 103


def payload(seq, seglen, pattern):
    k = seq % 256
    return seq.to_bytes(8, "big") + pattern[k:k + seglen - 8]


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def send(host, port, sends, segs, seglen):
    pattern = bytes(range(256)) * (seglen // 256 + 2)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.connect((host, port))
    seq = 0
    for _ in range(sends):
        data = b"".join(payload(seq + i, seglen, pattern) for i in range(segs))
        seq += segs
        s.sendmsg([data], [(SOL_UDP, UDP_SEGMENT, struct.pack("=H", seglen))])
        time.sleep(0.002)


def recv(host, port, count, seconds):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((host, port))
    s.settimeout(seconds)
    print("listening", flush=True)
    got = bad = 0
    pattern = None
    seen = set()
    while got < count:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if pattern is None:
            pattern = bytes(range(256)) * (len(d) // 256 + 2)
        seq = int.from_bytes(d[:8], "big")
        if (len(d) < 8 or seq >= count or seq in seen
                or d != payload(seq, len(d), pattern)):
            bad += 1
        else:
            seen.add(seq)
        got += 1
    print("received %d bad %d" % (got, bad), flush=True)


def main():
    a = sys.argv[1:]
    if len(a) == 6 and a[0] == "send":
        send(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]))
    elif len(a) == 5 and a[0] == "recv":
        recv(a[1], int(a[2]), int(a[3]), float(a[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
