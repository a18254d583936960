#!/usr/bin/python3
"""Makes an OpenVPN server's management-client-auth answer 'pending' (tests only).

Usage: mgmt_pending.py PORT EXTRA TIMEOUT DELAY
Connects to 127.0.0.1:PORT (retrying for 10 s) and releases the server's hold.
Each '>CLIENT:CONNECT' gets
  client-pending-auth CID KID "EXTRA" TIMEOUT
(the server sends AUTH_PENDING and INFO_PRE,EXTRA to the client), then, DELAY
seconds later, client-auth-nt CID KID. Each step is printed with a monotonic
timestamp: <t> pending|allow CID KID
"""
import re
import sys
import time

import server_mgmt


def main():
    port, extra, timeout, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    f = server_mgmt.connect(port, release_hold=True)
    if f is None:
        return 1
    for line in f:
        m = re.match(r">CLIENT:CONNECT,(\d+),(\d+)", line)
        if m:
            cid, kid = m.groups()
            f.write('client-pending-auth %s %s "%s" %s\n' % (cid, kid, extra, timeout))
            f.flush()
            print("%.3f pending %s %s" % (time.monotonic(), cid, kid), flush=True)
            time.sleep(delay)
            f.write("client-auth-nt %s %s\n" % (cid, kid))
            f.flush()
            print("%.3f allow %s %s" % (time.monotonic(), cid, kid), flush=True)
        elif line.startswith(("SUCCESS:", "ERROR:")):
            print(line.rstrip(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
