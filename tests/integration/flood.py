#!/usr/bin/env python3
"""Spoofed-datagram flood for tests/integration/t_hostile_traffic.sh.

Runs in the server's namespace and sends UDP datagrams with the server's
address and port as source (a raw IPPROTO_RAW socket: the port is the real
server's, so an ordinary socket could not bind it) to the client's address
and port, at a fixed rate, for a fixed time. First it captures real
server->client datagrams on the interface (AF_PACKET) for --capture seconds
so that it can replay them. Kinds, in turn: random bytes; valid-looking
opcodes (every control and data opcode, key ids 0-7, random rest);
P_DATA_V2 with the session's peer id; replays of captured packets; and
captured packets truncated at a random length.

Only 198.18.0.0/15 addresses are accepted. Prints one line of totals.
"""
import argparse
import ipaddress
import random
import socket
import struct
import sys
import time

NET = ipaddress.ip_network("198.18.0.0/15")


def capture(iface, src, sport, dst, seconds, limit=256):
    got = []
    # ETH_P_ALL: a protocol-specific packet socket sees no outgoing frames.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    s.settimeout(0.1)
    end = time.time() + seconds
    src_b, dst_b = socket.inet_aton(src), socket.inet_aton(dst)
    while time.time() < end and len(got) < limit:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        if frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        if len(ip) < 28 or ip[9] != 17 or ip[12:16] != src_b or ip[16:20] != dst_b:
            continue
        ihl = (ip[0] & 15) * 4
        sp, dp, ln = struct.unpack("!HHH", ip[ihl:ihl + 6])
        if sp != sport:
            continue
        payload = ip[ihl + 8:ihl + ln]
        if payload:
            got.append(bytes(payload))
    s.close()
    return got


def packet(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    # Kernel fills in the IP checksum and total length (IPPROTO_RAW).
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip + udp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--sport", type=int, required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--dport", type=int, required=True)
    ap.add_argument("--rate", type=int, default=20000, help="datagrams/s")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--iface", default="vs0")
    ap.add_argument("--capture", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save", help="write the captured datagrams here")
    ap.add_argument("--load", help="replay datagrams captured by --save")
    a = ap.parse_args()
    for addr in (a.src, a.dst):
        if ipaddress.ip_address(addr) not in NET:
            sys.exit("flood.py: only 198.18.0.0/15 addresses")
    rnd = random.Random(a.seed)
    caught = capture(a.iface, a.src, a.sport, a.dst, a.capture) if a.capture > 0 else []
    if a.load:
        with open(a.load, "rb") as f:
            blob = f.read()
        while len(blob) >= 2:
            ln = struct.unpack("!H", blob[:2])[0]
            caught.append(blob[2:2 + ln])
            blob = blob[2 + ln:]
    if a.save:
        with open(a.save, "wb") as f:
            for c in caught:
                f.write(struct.pack("!H", len(c)) + c)
    pool, kinds = [], []
    for i in range(4096):
        k = i % 5 if caught else i % 3
        if k == 0:  # random bytes
            p = rnd.randbytes(rnd.randint(1, 1400))
        elif k == 1:  # a valid-looking opcode, random rest
            op = rnd.choice([3, 4, 5, 6, 7, 8, 9, 10, 11])
            p = bytes([op << 3 | rnd.randint(0, 7)]) + rnd.randbytes(rnd.randint(0, 200))
        elif k == 2:  # P_DATA_V2, key 0, peer id 0, random body
            p = bytes([9 << 3, 0, 0, 0]) + rnd.randbytes(rnd.randint(0, 1400))
        elif k == 3:  # replay
            p = rnd.choice(caught)
        else:  # truncated capture
            c = rnd.choice(caught)
            p = c[:rnd.randint(0, max(0, len(c) - 1))]
        pool.append(packet(a.src, a.dst, a.sport, a.dport, p))
        kinds.append(k)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sent = errors = 0
    per_kind = [0] * 5
    start = time.time()
    end = start + a.seconds
    batch = max(1, a.rate // 200)  # 5 ms slices
    n = len(pool)
    while True:
        now = time.time()
        if now >= end:
            break
        due = int((now - start) * a.rate)
        if sent >= due:
            time.sleep(0.002)
            continue
        # At most one slice per check of the clock: a sender slower than
        # the rate stops on time instead of catching up.
        for _ in range(min(batch, due - sent)):
            i = sent % n
            try:
                s.sendto(pool[i], (a.dst, 0))
                per_kind[kinds[i]] += 1
            except OSError:
                errors += 1
            sent += 1
    secs = time.time() - start
    names = ["random", "opcode", "data_v2", "replay", "truncated"]
    print("flood: sent %d in %.1f s (%.0f/s), %d send errors, captured %d; %s" % (
        sent - errors, secs, (sent - errors) / secs, errors, len(caught),
        ", ".join("%s %d" % (names[k], per_kind[k]) for k in range(5) if per_kind[k])))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
