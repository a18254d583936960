#!/usr/bin/python3
"""Sends commands to an OpenVPN server's management port (tests only).

Usage: mgmt_cmd.py PORT COMMAND...
Connects to 127.0.0.1:PORT (retrying for 10 s), sends each COMMAND in turn and
prints its answer: the lines up to 'SUCCESS:', 'ERROR:' or 'END'. Real-time
notifications ('>...') are printed too. Exit status 1 when a command got
'ERROR:'.
"""
import sys

import server_mgmt


def main():
    port, cmds = int(sys.argv[1]), sys.argv[2:]
    f = server_mgmt.connect(port, timeout=10)
    if f is None:
        return 1
    rc = 0
    for cmd in cmds:
        f.write(cmd + "\n")
        f.flush()
        for line in f:
            line = line.rstrip("\r\n")
            print(line, flush=True)
            if line.startswith(">"):
                continue
            if line.startswith("ERROR:"):
                rc = 1
                break
            if line.startswith("SUCCESS:") or line == "END":
                break
    f.write("quit\n")
    f.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
