"""Connects to an OpenVPN server's management port (tests only).

Shared by the scripts that drive a server's management interface
(mgmt_auth.py, mgmt_cmd.py, mgmt_crtext.py, mgmt_pending.py)."""
import socket
import time


def connect(port, timeout=5, release_hold=False):
    """A line file on 127.0.0.1:PORT, retrying for 10 s while the server
    starts; with `release_hold`, 'hold release' is sent first. None (and a
    line printed) when it cannot connect."""
    for _ in range(100):
        try:
            s = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)
            break
        except OSError:
            time.sleep(0.1)
    else:
        print("cannot connect to the management port", flush=True)
        return None
    if release_hold:
        s.settimeout(None)
    f = s.makefile("rw", encoding="utf-8", newline="\n")
    if release_hold:
        f.write("hold release\n")
        f.flush()
    return f
