#!/usr/bin/python3
"""Answers an OpenVPN server's management-client-auth requests (tests only).

Usage: mgmt_auth.py PORT DENY_COUNT CLIENT_REASON
The first DENY_COUNT '>CLIENT:CONNECT' requests get
  client-deny CID KID "test" "CLIENT_REASON"
(CLIENT_REASON is what the client receives after 'AUTH_FAILED,'), later ones
client-auth-nt. Start it before the server, which should have management-hold:
it connects (retrying for 10 s) and releases the hold, so that no request is
missed. Each decision is printed with a monotonic timestamp:
  <t> deny|allow CID KID
"""
import re
import sys
import time

import server_mgmt


def main():
    port, deny, reason = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    f = server_mgmt.connect(port, release_hold=True)
    if f is None:
        return 1
    n = 0
    for line in f:
        m = re.match(r">CLIENT:CONNECT,(\d+),(\d+)", line)
        if not m:
            continue
        cid, kid = m.groups()
        if n < deny:
            f.write('client-deny %s %s "test" "%s"\n' % (cid, kid, reason))
            print("%.3f deny %s %s" % (time.monotonic(), cid, kid), flush=True)
        else:
            f.write("client-auth-nt %s %s\n" % (cid, kid))
            print("%.3f allow %s %s" % (time.monotonic(), cid, kid), flush=True)
        f.flush()
        n += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
