#!/usr/bin/python3
"""Records what layervpn's management interface says (tests only).

Usage: mgmt_listen.py SOCKET OUT
Connects to the unix SOCKET (retrying for 20 s), turns state notifications on,
releases the hold and appends every line received to OUT until the client
closes the connection.
"""
import socket
import sys
import time


def main():
    path, out = sys.argv[1], sys.argv[2]
    deadline = time.time() + 20
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.time() > deadline:
                print("no management socket at " + path, flush=True)
                return 1
            time.sleep(0.1)
    s.sendall(b"state on\nhold release\n")
    with open(out, "a", encoding="utf-8") as log:
        for line in s.makefile("r", encoding="utf-8", errors="replace"):
            log.write(line)
            log.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
