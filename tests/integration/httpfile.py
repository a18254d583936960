#!/usr/bin/env python3
"""A tiny HTTP server for tunnel transfer tests.

Usage: httpfile.py ADDR PORT FILE

GET /file   sends FILE.
PUT /up     reads the body (Content-Length) and answers with its sha256
            in hex, so the client can compare what arrived.
"""
import hashlib
import http.server
import socket
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        if self.path != "/file":
            self.send_error(404)
            return
        with open(self.server.path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        body = (h.hexdigest() + "\n").encode()
        self.send_response(200 if left == 0 else 400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    addr, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cls = http.server.ThreadingHTTPServer
    if ":" in addr:
        cls = type("Server6", (cls,), {"address_family": socket.AF_INET6})
    for _ in range(100):  # an IPv6 address may still be tentative (DAD)
        try:
            srv = cls((addr, port), Handler)
            break
        except OSError:
            time.sleep(0.1)
    else:
        srv = cls((addr, port), Handler)
    srv.path = path
    print("listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
