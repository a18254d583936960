#!/usr/bin/env python3
"""A tiny DNS responder for the integration tests: answers A queries for the
names given as NAME=IPV4 arguments and AAAA queries for NAME=IPV6 ones (an
empty answer for the other type), NXDOMAIN for everything else. LISTEN_IP
may be IPv6.

usage: dns_responder.py LISTEN_IP PORT NAME=IPV4|IPV6...
"""
import socket
import struct
import sys


def main():
    ip, port = sys.argv[1], int(sys.argv[2])
    names = {}
    for a in sys.argv[3:]:
        n, v = a.split("=", 1)
        if ":" in v:
            names[n.lower().rstrip(".")] = (28, socket.inet_pton(socket.AF_INET6, v))
        else:
            names[n.lower().rstrip(".")] = (1, socket.inet_aton(v))
    s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET,
                      socket.SOCK_DGRAM)
    s.bind((ip, port))
    print("dns_responder: listening", flush=True)
    while True:
        q, peer = s.recvfrom(1500)
        if len(q) < 12:
            continue
        qid, _flags, qd = struct.unpack("!HHH", q[:6])
        if qd != 1:
            continue
        off, labels = 12, []
        while off < len(q) and q[off] != 0:
            ln = q[off]
            labels.append(q[off + 1:off + 1 + ln].decode("ascii", "replace"))
            off += 1 + ln
        off += 1
        question = q[12:off + 4]
        qtype = struct.unpack("!H", q[off:off + 2])[0] if off + 2 <= len(q) else 0
        name = ".".join(labels).lower()
        rec = names.get(name)
        addr = rec[1] if rec is not None else None
        if rec is not None and qtype == rec[0]:
            hdr = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
            ans = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 60, len(addr)) + addr
            s.sendto(hdr + question + ans, peer)
        else:
            rcode = 0 if addr is not None else 3
            hdr = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, 0, 0, 0)
            s.sendto(hdr + question, peer)
        print("dns_responder: %s -> %s" % (name, "found" if addr else "nxdomain"),
              flush=True)


if __name__ == "__main__":
    main()
