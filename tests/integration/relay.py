#!/usr/bin/env python3
"""Seeded UDP relay that impairs traffic between a VPN client and server.

    relay.py --listen IP:PORT --server IP:PORT --seed N \
             --loss P --reorder P --dup P [--delay-ms D] [--mute-after N]

Every datagram, client->server and server->client, is handled independently:
  * dropped with probability --loss;
  * otherwise duplicated with probability --dup (two copies go out back to back);
  * otherwise-or-also held back with probability --reorder: it is sent right after the
    next datagram in the same direction, or after 50 ms if none arrives;
  * every send is delayed by --delay-ms (default 0), preserving order.

Each direction has its own random generator derived from --seed, so the decisions for
one direction depend only on the seed and that direction's datagram sequence.

The client address is learned from the first datagram on the listen socket; if a later
datagram comes from a different address (e.g. a restarted client), the relay follows it
and says so on stderr. Traffic towards the server leaves from a separate socket bound to
the listen IP with an ephemeral port.

On SIGTERM/SIGINT it prints counters (one line per direction) and exits 0. Python 3
standard library only.
"""

import argparse
import heapq
import random
import selectors
import signal
import socket
import sys
import time

REORDER_HOLD_S = 0.050
MAX_DGRAM = 65535


def addr_arg(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"want IP:PORT, got {text!r}")
    host = host.strip("[]")
    try:
        return (host, int(port))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad port in {text!r}") from exc


def prob_arg(text):
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"probability must be in [0, 1], got {text}")
    return value


class Stop(Exception):
    """Raised from the signal handler so a blocking select() returns at once."""


class Direction:
    """Impairment state for one direction (c2s or s2c)."""

    def __init__(self, name, rng, args):
        self.name = name
        self.rng = rng
        self.loss = args.loss
        self.dup = args.dup
        self.reorder = args.reorder
        self.held = None          # list of payload copies held back for reordering
        self.per_client = 0       # datagrams seen for the current client address
        self.held_deadline = 0.0
        self.counts = dict(rx=0, tx=0, dropped=0, duplicated=0, reordered=0,
                           send_errors=0)

    def summary(self):
        c = self.counts
        return (f"{self.name}: rx={c['rx']} tx={c['tx']} dropped={c['dropped']} "
                f"duplicated={c['duplicated']} reordered={c['reordered']} "
                f"send_errors={c['send_errors']}"
                + (f" muted={c['muted']}" if "muted" in c else ""))


class Relay:
    def __init__(self, args):
        self.args = args
        self.delay = max(0.0, args.delay_ms / 1000.0)
        self.server = args.server
        self.client = None
        family = socket.AF_INET6 if ":" in args.listen[0] else socket.AF_INET
        self.lsock = socket.socket(family, socket.SOCK_DGRAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(args.listen)
        self.lsock.setblocking(False)
        sfamily = socket.AF_INET6 if ":" in args.server[0] else socket.AF_INET
        self.ssock = socket.socket(sfamily, socket.SOCK_DGRAM)
        if sfamily == family:
            self.ssock.bind((args.listen[0], 0))
        self.ssock.setblocking(False)
        self.c2s = Direction("client->server", random.Random(args.seed * 2 + 0), args)
        self.s2c = Direction("server->client", random.Random(args.seed * 2 + 1), args)
        self.queue = []            # (due, seq, sock, dest, payload, direction)
        self.seq = 0
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.lsock, selectors.EVENT_READ, "client")
        self.sel.register(self.ssock, selectors.EVENT_READ, "server")
        self.stop = False
        self.data_seen = 0
        self.clients = 1           # client addresses seen (the first counts as 1)
        self.first_data = b""

    def _new_upstream(self):
        """A new client gets a new upstream socket (a new source port), so the
        server sees a new peer, as it would without the relay, instead of the
        previous client's address coming back with a new session."""
        self.sel.unregister(self.ssock)
        self.ssock.close()
        sfamily = socket.AF_INET6 if ":" in self.server[0] else socket.AF_INET
        self.ssock = socket.socket(sfamily, socket.SOCK_DGRAM)
        self.ssock.bind((self.args.listen[0], 0))
        self.ssock.setblocking(False)
        self.sel.register(self.ssock, selectors.EVENT_READ, "server")
        # queued datagrams for the old upstream are dropped with it
        self.queue = [q for q in self.queue if q[2] is not self.ssock and
                      q[5] is not self.c2s]
        heapq.heapify(self.queue)
        self.c2s.held = None
        self.s2c.per_client = 0
        self.clients += 1

    # -- sending ---------------------------------------------------------------------
    def _schedule(self, d, sock, dest, payloads, now):
        for p in payloads:
            self.seq += 1
            heapq.heappush(self.queue, (now + self.delay, self.seq, sock, dest, p, d))

    def _flush_due(self, now):
        while self.queue and self.queue[0][0] <= now:
            _, _, sock, dest, payload, d = heapq.heappop(self.queue)
            if dest is None:
                continue
            try:
                sock.sendto(payload, dest)
                d.counts["tx"] += 1
            except OSError:
                d.counts["send_errors"] += 1

    def _release_held(self, d, sock, dest, now):
        if d.held is not None:
            self._schedule(d, sock, dest, d.held, now)
            d.held = None

    def _route(self, d):
        if d is self.c2s:
            return self.ssock, self.server
        return self.lsock, self.client

    # -- receiving -------------------------------------------------------------------
    def _inject(self, payload, now):
        """Extra server->client datagrams for robustness tests (--garbage,
        --tamper-data); they leave from the listen socket, so to the client
        they come from the server's address."""
        a = self.args
        d = self.s2c
        sock, dest = self._route(d)
        if a.garbage > 0 and d.counts["rx"] <= a.garbage:
            junk = bytes(d.rng.getrandbits(8) for _ in range(d.rng.randrange(1, 200)))
            cut = payload[:d.rng.randrange(1, max(2, len(payload)))]
            self._schedule(d, sock, dest, [junk, cut], now)
            d.counts["injected"] = d.counts.get("injected", 0) + 2
        if a.tamper_data > 0 and payload and (payload[0] >> 3) in (6, 9):
            self.data_seen += 1
            if self.data_seen == 1:
                self.first_data = payload
            if self.data_seen == a.tamper_data:
                flipped = bytearray(payload)
                flipped[len(flipped) // 2] ^= 0x01
                truncated = payload[:10]
                # replay of the first data packet, a bit flip, a truncation
                self._schedule(d, sock, dest,
                               [self.first_data, bytes(flipped), truncated], now)
                d.counts["injected"] = d.counts.get("injected", 0) + 3
                print("relay: tampered data injected (replay, bit flip, truncated)",
                      file=sys.stderr, flush=True)

    def _handle(self, d, payload, now):
        d.counts["rx"] += 1
        sock, dest = self._route(d)
        if d is self.s2c:
            d.per_client += 1
            if 0 < self.args.mute_after < d.per_client and self.clients == 1:
                d.counts["muted"] = d.counts.get("muted", 0) + 1
                return
            self._inject(payload, now)
        # Independent draws (always all three, so the stream of random numbers per
        # direction does not depend on earlier outcomes).
        r_loss, r_dup, r_reorder = d.rng.random(), d.rng.random(), d.rng.random()
        if r_loss < d.loss:
            d.counts["dropped"] += 1
            return
        copies = [payload]
        if r_dup < d.dup:
            copies.append(payload)
            d.counts["duplicated"] += 1
        if r_reorder < d.reorder and d.held is None:
            d.held = copies
            d.held_deadline = now + REORDER_HOLD_S
            d.counts["reordered"] += 1
            return
        self._schedule(d, sock, dest, copies, now)
        # the held datagram goes out right after this one
        self._release_held(d, sock, dest, now)

    def _recv(self, tag, now):
        sock = self.lsock if tag == "client" else self.ssock
        while True:
            try:
                payload, src = sock.recvfrom(MAX_DGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # e.g. ECONNREFUSED from an earlier ICMP port unreachable
                continue
            if tag == "client":
                if self.client != src:
                    if self.client is not None:
                        print(f"relay: client address changed {self.client} -> {src}",
                              file=sys.stderr, flush=True)
                        self._new_upstream()
                    self.client = src
                self._handle(self.c2s, payload, now)
            else:
                if src[:2] != self.server[:2]:
                    continue  # only the server may talk to this socket
                self._handle(self.s2c, payload, now)

    def _next_timeout(self, now):
        deadlines = []
        if self.queue:
            deadlines.append(self.queue[0][0])
        for d in (self.c2s, self.s2c):
            if d.held is not None:
                deadlines.append(d.held_deadline)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now)

    def run(self):
        print(f"relay: listening on {self.args.listen[0]}:{self.args.listen[1]} -> "
              f"{self.server[0]}:{self.server[1]} seed={self.args.seed} "
              f"loss={self.args.loss} reorder={self.args.reorder} dup={self.args.dup} "
              f"delay_ms={self.args.delay_ms}", flush=True)
        try:
            while not self.stop:
                now = time.monotonic()
                events = self.sel.select(self._next_timeout(now))
                now = time.monotonic()
                for key, _ in events:
                    self._recv(key.data, now)
                for d in (self.c2s, self.s2c):
                    if d.held is not None and d.held_deadline <= now:
                        sock, dest = self._route(d)
                        self._release_held(d, sock, dest, now)
                self._flush_due(now)
        except Stop:
            pass
        self.report()

    def report(self):
        print("relay: " + self.c2s.summary(), flush=True)
        print("relay: " + self.s2c.summary(), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description="seeded impairing UDP relay")
    ap.add_argument("--listen", type=addr_arg, required=True, help="IP:PORT to listen on")
    ap.add_argument("--server", type=addr_arg, required=True, help="IP:PORT to forward to")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--loss", type=prob_arg, default=0.0)
    ap.add_argument("--reorder", type=prob_arg, default=0.0)
    ap.add_argument("--dup", type=prob_arg, default=0.0)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--garbage", type=int, default=0,
                    help="with each of the first N server->client datagrams, also send "
                         "random bytes and a truncated copy to the client")
    ap.add_argument("--mute-after", type=int, default=0,
                    help="drop every server->client datagram after the first N "
                         "for the first client address only (a later one is served): "
                         "a flight lost for good mid-handshake")
    ap.add_argument("--tamper-data", type=int, default=0,
                    help="after the Nth server->client data packet, send a replay of "
                         "the first one, a bit-flipped copy and a truncated copy")
    args = ap.parse_args(argv)

    relay = Relay(args)

    def on_signal(_signum, _frame):
        relay.stop = True
        raise Stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    relay.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
