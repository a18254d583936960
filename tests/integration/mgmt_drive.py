#!/usr/bin/env python3
"""Drives layervpn's management interface as a GUI would (t_mgmt.sh).

usage: mgmt_drive.py SOCKET USER PASSWORD TRANSCRIPT

Waits for the unix SOCKET, checks the greeting and the hold, runs the
informational commands, releases the hold, answers the password request,
waits for CONNECTED, reads bytecount and status, then sends SIGTERM and
waits for EXITING and the end of the connection. Exit status 0 on success;
every line sent and received is written to TRANSCRIPT."""
import sys

from mgmt_session import Session

sock_path, user, password, transcript = sys.argv[1:5]
m = Session(sock_path, transcript)
send, until_end, fail = m.send, m.until_end, m.fail


def expect(pattern, timeout=60):
    """Next line matching `pattern`; only real-time lines may come before it."""
    return m.expect(pattern, timeout, strict=True)


expect(r">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info")
expect(r">HOLD:Waiting for hold release:0")

# a hostile line: far too long, then the session still answers
m.send_raw(b"x" * 5000 + b"\n")
expect(r"ERROR: command line too long \(max 1024 bytes\)")
send("no-such-command")
expect(r"ERROR: unknown command, enter 'help' for more options")
send("pid")
expect(r"SUCCESS: pid=\d+")
send("version")
v = until_end()
if not v[0].startswith("OpenVPN Version: layervpn") or v[1] != "Management Version: 5":
    fail("version: %r" % v)
send("help")
h = until_end()
if not any(l.startswith("signal s ") for l in h):
    fail("help lacks signal")
send("hold")
expect(r"SUCCESS: hold=1")
send("username Auth early")
expect(r"ERROR: no username is currently needed at this time")
send("state on")
expect(r"SUCCESS: real-time state notification set to ON")
send("log on")
expect(r"SUCCESS: real-time log notification set to ON")
send("hold release")
expect(r"SUCCESS: hold release succeeded")
expect(r">PASSWORD:Need 'Auth' username/password")
send('username "Auth" %s' % user)
expect(r"SUCCESS: 'Auth' username entered, but not yet verified")
send('password "Auth" "%s"' % password.replace("\\", "\\\\").replace('"', '\\"'))
expect(r"SUCCESS: 'Auth' password entered, but not yet verified")
st = expect(r">STATE:\d+,CONNECTED,SUCCESS,198\.19\.0\.\d+,198\.18\.0\.1,1194,.*")
send("log off")
expect(r"SUCCESS: real-time log notification set to OFF")
send("state")
cur = until_end()
if len(cur) != 1 or ",CONNECTED,SUCCESS," not in cur[0]:
    fail("state: %r" % cur)
send("state all")
hist = [l.split(",")[1] for l in until_end()]
m.note("states: %s" % " ".join(hist))
for name in ("WAIT", "AUTH", "CONNECTED"):
    if name not in hist:
        fail("state all lacks " + name)
send("bytecount 1")
expect(r"SUCCESS: bytecount interval changed")
bc = expect(r">BYTECOUNT:\d+,\d+", timeout=10)
rx, tx = map(int, bc.split(":")[1].split(","))
if rx <= 0 or tx <= 0:
    fail("bytecount: " + bc)
send("bytecount 0")
expect(r"SUCCESS: bytecount interval changed")
send("status")
stat = until_end()
if stat[0] != "OpenVPN STATISTICS" or not stat[4].startswith("TCP/UDP read bytes,"):
    fail("status: %r" % stat)
send("log 5")
if len(until_end()) == 0:
    fail("log 5: no history")
send("signal SIGBOGUS")
expect(r"ERROR: signal 'SIGBOGUS' is not a known signal type")
send("signal SIGTERM")
expect(r"SUCCESS: signal SIGTERM thrown")
expect(r">STATE:\d+,EXITING,SIGTERM,.*")
m.until_closed()  # the client closes the connection as it exits
m.note("PASS rx=%d tx=%d" % (rx, tx))
print("bytecount rx=%d tx=%d" % (rx, tx))
