#!/usr/bin/python3
"""Records what layervpn's management interface says (tests only).

Usage: mgmt_listen.py SOCKET OUT
Connects to the unix SOCKET (retrying for 20 s), turns state notifications on,
releases the hold and appends every line received to OUT until the client
closes the connection.
"""
import sys

from mgmt_session import connect_unix


def main():
    path, out = sys.argv[1], sys.argv[2]
    s = connect_unix(path)
    s.sendall(b"state on\nhold release\n")
    with open(out, "a", encoding="utf-8") as log:
        for line in s.makefile("r", encoding="utf-8", errors="replace"):
            log.write(line)
            log.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
