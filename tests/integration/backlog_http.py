#!/usr/bin/env python3
"""An HTTP file server with a small listen queue, for t_socks_fanin.sh:
serves DIR on ADDR:PORT with listen(BACKLOG), one thread per connection.

usage: backlog_http.py ADDR PORT BACKLOG DIR
"""
import functools
import http.server
import socketserver
import sys


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    addr, port, backlog, root = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    Server.request_queue_size = backlog
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
    srv = Server((addr, port), handler)
    print("backlog_http: listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
