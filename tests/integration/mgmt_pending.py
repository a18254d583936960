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
import socket
import sys
import time


def main():
    port, extra, timeout, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    for _ in range(100):
        try:
            s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
            break
        except OSError:
            time.sleep(0.1)
    else:
        print("cannot connect to the management port", flush=True)
        return 1
    s.settimeout(None)
    f = s.makefile("rw", encoding="utf-8", newline="\n")
    f.write("hold release\n")
    f.flush()
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
