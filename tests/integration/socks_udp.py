#!/usr/bin/env python3
"""SOCKS5 UDP ASSOCIATE client for t_socks.sh: asks PROXY_PORT on 127.0.0.1
for an association, sends one DNS A query for NAME to DNS_IP:53 through it
and prints the address in the answer (exit 0), or exits 1 saying why.

usage: socks_udp.py PROXY_PORT DNS_IP NAME [TRIES]
(TRIES queries, 3 s apart, default 5)
"""
import socket
import struct
import sys


def main():
    port, dns_ip, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    tries = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    t = socket.create_connection(("127.0.0.1", port), timeout=10)
    t.sendall(b"\x05\x01\x00")
    if t.recv(2) != b"\x05\x00":
        sys.exit("no-auth refused")
    t.sendall(b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
    rep = t.recv(10)
    if len(rep) != 10 or rep[1] != 0:
        sys.exit("UDP ASSOCIATE refused: %r" % rep)
    relay = (socket.inet_ntoa(rep[4:8]), struct.unpack("!H", rep[8:10])[0])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(3)
    q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00\x00\x01\x00\x01"
    if ":" in dns_ip:
        hdr = b"\x00\x00\x00\x04" + socket.inet_pton(socket.AF_INET6, dns_ip)
    else:
        hdr = b"\x00\x00\x00\x01" + socket.inet_aton(dns_ip)
    hdr += struct.pack("!H", 53)
    for _ in range(tries):
        u.sendto(hdr + q, relay)
        try:
            d, _ = u.recvfrom(2048)
        except socket.timeout:
            continue
        if not d.startswith(hdr[:-2]):
            sys.exit("bad SOCKS UDP header %r" % d[:22])
        ans = d[len(hdr):]
        if ans[:2] != b"\x42\x42" or len(ans) < 4:
            sys.exit("not our DNS answer")
        print(socket.inet_ntoa(ans[-4:]))
        return
    sys.exit("no answer through the UDP relay")


if __name__ == "__main__":
    main()
