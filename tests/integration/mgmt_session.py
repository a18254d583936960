"""One line-based session on layervpn's management socket (tests only).

Shared by the mgmt_*.py drivers of t_mgmt.sh and friends: connects to the
unix socket (retrying while the client creates it), writes every line sent
and received to a transcript, and reads CRLF-ended lines with timeouts."""
import re
import socket
import sys
import time


def connect_unix(path, wait=20):
    """A connected socket to the unix socket `path`, retried for `wait` s."""
    deadline = time.time() + wait
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                sys.exit("no management socket at " + path)
            time.sleep(0.1)


class Session:
    def __init__(self, sock_path, transcript):
        self.log = open(transcript, "w")
        self.s = connect_unix(sock_path)
        self.buf = b""

    def fail(self, msg):
        self.log.write("FAIL: " + msg + "\n")
        self.log.flush()
        sys.exit("FAIL: " + msg)

    def note(self, msg):
        self.log.write(msg + "\n")
        self.log.flush()

    def recv(self, timeout=60):
        """The next line (CRLF required); "" after `timeout` seconds without
        one, None at EOF."""
        end = time.time() + timeout
        while b"\n" not in self.buf:
            left = end - time.time()
            if left <= 0:
                return ""
            self.s.settimeout(left)
            try:
                d = self.s.recv(4096)
            except socket.timeout:
                return ""
            if not d:
                return None
            self.buf += d
        raw, self.buf = self.buf.split(b"\n", 1)
        if not raw.endswith(b"\r"):
            self.fail("line not ended by CRLF: %r" % raw)
        line = raw[:-1].decode()
        self.note("< " + line)
        return line

    def send(self, line):
        self.note("> " + line)
        self.s.sendall(line.encode() + b"\n")

    def send_raw(self, data):
        self.s.sendall(data)

    def expect(self, pattern, timeout=60, seen=None, strict=False):
        """The next line matching `pattern`. Lines before it are appended to
        `seen` (if given); with `strict`, only real-time ('>') lines may come
        before it."""
        end = time.time() + timeout
        while time.time() < end:
            line = self.recv(max(0.1, end - time.time()))
            if line is None:
                self.fail("connection closed while waiting for " + pattern)
            if not line:
                continue
            if re.fullmatch(pattern, line):
                return line
            if seen is not None:
                seen.append(line)
            if strict and not line.startswith(">"):
                self.fail("unexpected reply %r while waiting for %s" % (line, pattern))
        self.fail("timeout waiting for " + pattern)

    def until_end(self, timeout=60):
        """The lines of a multi-line answer, up to (without) END."""
        lines = []
        while True:
            line = self.recv(timeout)
            if line is None:
                self.fail("closed before END")
            if line == "":
                self.fail("timeout waiting for END")
            if line == "END":
                return lines
            lines.append(line)

    def until_closed(self, timeout=30):
        """Reads until the client closes the connection (as it exits)."""
        while True:
            line = self.recv(timeout)
            if line is None:
                return
            if line == "":
                self.fail("the connection stayed open")
