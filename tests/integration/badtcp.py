#!/usr/bin/env python3
"""A misbehaving OpenVPN-over-TCP "server" for t_hostile_tcp.sh.

    badtcp.py --listen IP:PORT --mode zero|big|silent

On each accepted connection:
  zero    sends 2000 zero-length frames (00 00 each), then stays silent;
  big     sends one 64 KiB frame header (ff ff) and 65535 bytes;
  silent  sends nothing and never reads (a peer that went away).
The connection is held open until the client closes it. Says "listening" and
"accepted" on stderr. 198.18.0.0/15 only; Python standard library only.
"""
import argparse
import ipaddress
import socket
import sys
import threading


def serve(conn, mode):
    try:
        if mode == "zero":
            conn.sendall(b"\x00\x00" * 2000)
        elif mode == "big":
            conn.sendall(b"\xff\xff" + bytes(65535))
        if mode != "silent":
            while conn.recv(65536):
                pass
        else:
            threading.Event().wait()
    except OSError:
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--mode", choices=["zero", "big", "silent"], required=True)
    a = ap.parse_args()
    host, _, port = a.listen.rpartition(":")
    if ipaddress.ip_address(host) not in ipaddress.ip_network("198.18.0.0/15"):
        sys.exit("badtcp.py: only 198.18.0.0/15 addresses")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(8)
    print("listening", file=sys.stderr, flush=True)
    while True:
        conn, peer = s.accept()
        print("accepted %s:%d" % peer, file=sys.stderr, flush=True)
        threading.Thread(target=serve, args=(conn, a.mode), daemon=True).start()


if __name__ == "__main__":
    main()
