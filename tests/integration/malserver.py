#!/usr/bin/env python3
"""A malicious OpenVPN server for the hostile-server tests (issue 14 item 5).

    malserver.py --listen IP:PORT --pki DIR --mode MODE [--count N]

It speaks just enough of OpenVPN 2.6 over UDP, with no control-channel
wrapping, to bring a client to the point where it trusts the server: the
hard reset, the reliability layer (ACKs, in-order message ids), TLS 1.2
(Python's ssl module over memory BIOs, with DIR/server.crt, server.key and
ca.crt), the key-method-2 exchange and PUSH_REQUEST. Then it misbehaves as
MODE says:

  endless-continuation  answers PUSH_REQUEST with PUSH_REPLY parts that all
                        end in "push-continuation 2", --count of them
                        (default 100000), as fast as the client ACKs them
  huge-value            one PUSH_REPLY carrying a 12,000-byte option value
                        (a real server caps a bundle at 1,024 bytes)
  thousands-routes      5,000 routes over push-continuation parts of about
                        1,000 bytes each (a real server's size)
  absurd-cipher         PUSH_REPLY with "cipher ABSURD-CIPHER-9000"
  reneg-storm           a normal PUSH_REPLY, then P_CONTROL_SOFT_RESET_V1
                        packets for key ids 1..7, --count of them (default
                        20000), as fast as it can send
  bogus-acks            P_ACK_V1 and P_CONTROL_V1 packets acknowledging
                        message ids the client never sent (--count packets,
                        default 20000), after a normal PUSH_REPLY

It prints one line per event on stderr and, on SIGTERM, a summary line
"malserver: sent N packets, received M" and exits 0. Python 3 standard
library only.
"""

import argparse
import os
import select
import signal
import socket
import ssl
import struct
import sys
import time

P_SOFT_RESET = 3
P_CONTROL = 4
P_ACK = 5
P_HARD_RESET_CLIENT_V2 = 7
P_HARD_RESET_SERVER_V2 = 8
TLS_CHUNK = 1100  # TLS bytes per P_CONTROL_V1 (stays under tls-mtu 1250)
STOP = []  # set by SIGTERM/SIGINT; every loop checks it
NORMAL_PUSH = ("PUSH_REPLY,route-gateway 198.19.0.1,topology subnet,"
               "ping 10,ping-restart 60,ifconfig 198.19.0.2 255.255.255.0,"
               "peer-id 0,cipher AES-256-GCM")


def log(msg):
    print("malserver: " + msg, file=sys.stderr, flush=True)


class Session:
    """One client: the reliability layer and TLS, enough for key_id 0."""

    def __init__(self, sock, peer, ctx, args):
        self.sock, self.peer, self.args = sock, peer, args
        self.sid = os.urandom(8)
        self.csid = None
        self.next_out = 0       # our next message id
        self.next_in = 0        # the client's next message id we expect
        self.held = {}          # out-of-order client messages by id
        self.to_ack = []
        self.acked = set()      # our ids the client acknowledged
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_side=True)
        self.handshaken = False
        self.km_done = False
        self.plain = b""
        self.pushed = False
        self.sent = 0

    # ---- wire ----
    def send(self, op, key_id, payload=b"", acks=(), reliable=True):
        b = bytes([op << 3 | key_id]) + self.sid
        acks = list(acks)[:8]
        b += bytes([len(acks)])
        for a in acks:
            b += struct.pack(">I", a)
        if acks:
            b += self.csid
        if reliable:
            b += struct.pack(">I", self.next_out)
            self.next_out += 1
        b += payload
        self.sock.sendto(b, self.peer)
        self.sent += 1

    def flush_acks(self):
        if self.to_ack:
            self.send(P_ACK, 0, acks=self.to_ack[:8], reliable=False)
            self.to_ack = self.to_ack[8:]

    def send_tls(self):
        data = self.out.read()
        while data:
            chunk, data = data[:TLS_CHUNK], data[TLS_CHUNK:]
            acks, self.to_ack = self.to_ack[:4], self.to_ack[4:]
            self.send(P_CONTROL, 0, chunk, acks)

    def write_msg(self, text):
        self.tls.write(text.encode() + b"\0")
        self.send_tls()

    # ---- input ----
    def packet(self, b):
        if len(b) < 10:
            return
        op, kid = b[0] >> 3, b[0] & 7
        csid = b[1:9]
        n = b[9]
        pos = 10 + 4 * n
        if len(b) < pos:
            return
        for i in range(n):
            self.acked.add(struct.unpack(">I", b[10 + 4 * i:14 + 4 * i])[0])
        if n:
            pos += 8
        if op == P_ACK:
            return
        if len(b) < pos + 4:
            return
        mid = struct.unpack(">I", b[pos:pos + 4])[0]
        payload = b[pos + 4:]
        if op == P_HARD_RESET_CLIENT_V2:
            if self.csid is None:
                self.csid = csid
                log("hard reset from %s:%d" % self.peer)
                self.next_in = 1
                self.to_ack.append(mid)
                self.send(P_HARD_RESET_SERVER_V2, 0, acks=self.to_ack)
                self.to_ack = []
            return
        if kid != 0 or csid != self.csid:
            return  # a renegotiation attempt: never answered
        if mid not in self.to_ack:
            self.to_ack.append(mid)
        if mid < self.next_in:
            return
        self.held[mid] = payload
        while self.next_in in self.held:
            self.inc.write(self.held.pop(self.next_in))
            self.next_in += 1
        self.tls_step()

    def tls_step(self):
        if not self.handshaken:
            try:
                self.tls.do_handshake()
                self.handshaken = True
                log("TLS handshake done (%s)" % self.tls.cipher()[0])
            except ssl.SSLWantReadError:
                pass
            self.send_tls()
            if not self.handshaken:
                return
        while True:
            try:
                d = self.tls.read(65536)
            except ssl.SSLWantReadError:
                break
            if not d:
                break
            self.plain += d
        if not self.km_done and len(self.plain) >= 5:
            # the client's key-method-2 message is one record: take it all
            self.plain = b""
            self.km_done = True
            km = (b"\0\0\0\0\x02" + os.urandom(64) +
                  self.lenstr(b"V4,dev-type tun,link-mtu 1549,tun-mtu 1500,"
                              b"proto UDPv4,cipher AES-256-GCM,auth [null-digest],"
                              b"keysize 256,key-method 2,tls-server") +
                  b"\0\0" * 3)
            self.tls.write(km)
            self.send_tls()
            log("key-method 2 exchanged")
        while b"\0" in self.plain:
            msg, self.plain = self.plain.split(b"\0", 1)
            if msg.startswith(b"PUSH_REQUEST") and not self.pushed:
                self.pushed = True
                log("PUSH_REQUEST")
                self.misbehave()
        self.flush_acks()

    @staticmethod
    def lenstr(s):
        return struct.pack(">H", len(s) + 1) + s + b"\0"

    # ---- the attack ----
    def wait_window(self, limit=6, timeout=5.0):
        """Let the client's ACKs catch up so its receive window has room."""
        end = time.time() + timeout
        while self.next_out - len([a for a in self.acked if a < self.next_out]) > limit:
            if time.time() > end or STOP:
                return False
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if r:
                b, peer = self.sock.recvfrom(65535)
                if peer == self.peer:
                    self.packet(b)
        return True

    def misbehave(self):
        mode, count = self.args.mode, self.args.count
        if mode == "endless-continuation":
            # options that do not pile up (no routes): only the number
            # of parts can stop this
            part = ("PUSH_REPLY,ping 10,ping-restart 60,topology subnet,"
                    "route-gateway 198.19.0.1,push-continuation 2")
            n = count or 100000
            for i in range(n):
                self.write_msg(part)
                if not self.wait_window():
                    log("client stopped ACKing after %d parts" % (i + 1))
                    return
            log("sent %d continuation parts" % n)
        elif mode == "huge-value":
            self.write_msg("PUSH_REPLY,route-gateway 198.19.0.1,dhcp-option DOMAIN "
                           + "a" * 12000 + ",ifconfig 198.19.0.2 255.255.255.0")
            log("sent a 12000-byte option value")
        elif mode == "thousands-routes":
            routes = ["route 198.%d.%d.%d 255.255.255.255" % (18 + i // 65536,
                                                              (i // 256) % 256, i % 256)
                      for i in range(5000)]
            parts, cur = [], []
            for r in routes:
                cur.append(r)
                if sum(len(x) + 1 for x in cur) > 950:
                    parts.append(cur)
                    cur = []
            parts.append(cur)
            for i, p in enumerate(parts):
                flag = 1 if i == len(parts) - 1 else 2
                self.write_msg("PUSH_REPLY," + ",".join(p) + ",push-continuation %d" % flag)
                if not self.wait_window():
                    log("client stopped ACKing after %d parts" % (i + 1))
                    return
            log("sent 5000 routes in %d parts" % len(parts))
        elif mode == "absurd-cipher":
            self.write_msg(NORMAL_PUSH.replace("AES-256-GCM", "ABSURD-CIPHER-9000"))
            log("sent cipher ABSURD-CIPHER-9000")
        elif mode == "reneg-storm":
            self.write_msg(NORMAL_PUSH)
            n = count or 20000
            saved = self.next_out
            for i in range(n):
                if STOP:
                    break
                self.next_out = 0
                self.send(P_SOFT_RESET, 1 + i % 7)
                if i % 500 == 499:
                    self.pump(0.01)
            self.next_out = saved
            log("sent %d soft resets" % n)
        elif mode == "bogus-acks":
            self.write_msg(NORMAL_PUSH)
            n = count or 20000
            for i in range(n):
                if STOP:
                    break
                bogus = [1000 + (i * 8 + k) % 100000 for k in range(8)]
                if i % 2:
                    self.send(P_ACK, 0, acks=bogus, reliable=False)
                else:
                    saved = self.next_out
                    self.send(P_CONTROL, 0, b"", bogus[:4])
                    self.next_out = saved  # an empty control packet, resent id
                if i % 500 == 499:
                    self.pump(0.01)
            log("sent %d packets with ACKs for ids never sent" % n)

    def pump(self, t):
        r, _, _ = select.select([self.sock], [], [], t)
        if r:
            b, peer = self.sock.recvfrom(65535)
            if peer == self.peer:
                self.packet(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--mode", required=True, choices=[
        "endless-continuation", "huge-value", "thousands-routes", "absurd-cipher",
        "reneg-storm", "bogus-acks"])
    ap.add_argument("--count", type=int, default=0)
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(args.pki, "server.crt"),
                        os.path.join(args.pki, "server.key"))
    ctx.load_verify_locations(os.path.join(args.pki, "ca.crt"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.options |= ssl.OP_NO_TICKET
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, int(port)))
    sessions = {}
    received = [0]
    signal.signal(signal.SIGTERM, lambda *a: STOP.append(1))
    signal.signal(signal.SIGINT, lambda *a: STOP.append(1))
    log("listening on %s (%s)" % (args.listen, args.mode))
    while not STOP:
        try:
            r, _, _ = select.select([sock], [], [], 0.2)
        except InterruptedError:
            continue
        if not r:
            continue
        b, peer = sock.recvfrom(65535)
        received[0] += 1
        if peer not in sessions:
            if len(b) < 1 or b[0] >> 3 != P_HARD_RESET_CLIENT_V2:
                continue
            sessions[peer] = Session(sock, peer, ctx, args)
        try:
            sessions[peer].packet(b)
        except ssl.SSLError as e:
            log("TLS error: %s" % e)
            del sessions[peer]
    sent = sum(s.sent for s in sessions.values())
    log("sent %d packets, received %d" % (sent, received[0]))


if __name__ == "__main__":
    main()
