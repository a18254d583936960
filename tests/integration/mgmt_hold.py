#!/usr/bin/env python3
"""management-hold across the client's own restart (t_mgmt.sh).

usage: mgmt_hold.py SOCKET CONNECTED_FILE TRANSCRIPT

Releases the first hold, waits for CONNECTED and creates CONNECTED_FILE
(the test then kills the server and starts it again). The client's
ping-restart must bring >HOLD:Waiting for hold release:N again, and no
reconnection until `hold release` (checked for 4 s); after the release,
CONNECTED,SUCCESS again, then `signal SIGTERM`. Exit status 0 on success."""
import re
import sys
import time

from mgmt_session import Session

sock_path, connected_file, transcript = sys.argv[1:4]
m = Session(sock_path, transcript)
send, expect, recv, fail = m.send, m.expect, m.recv, m.fail

expect(r">HOLD:Waiting for hold release:0")
send("state on")
expect(r"SUCCESS: real-time state notification set to ON")
send("hold release")
expect(r"SUCCESS: hold release succeeded")
expect(r">STATE:\d+,CONNECTED,SUCCESS,.*")
open(connected_file, "w").close()
seen = []
hold = expect(r">HOLD:Waiting for hold release:\d+", timeout=90, seen=seen)
if not any(re.fullmatch(r">STATE:\d+,RECONNECTING,ping-restart,.*", l) for l in seen):
    fail("no RECONNECTING,ping-restart before the hold")
# held: nothing reconnects while the server is back
end = time.time() + 4
while time.time() < end:
    line = recv(max(0.1, end - time.time()))
    if line is None:
        fail("connection closed while held")
    if line and (",WAIT," in line or ",CONNECTED," in line or ",AUTH," in line):
        fail("reconnecting while held: " + line)
send("state")
cur = expect(r"\d+,RECONNECTING,.*", timeout=10)
expect(r"END", timeout=10)
send("hold release")
expect(r"SUCCESS: hold release succeeded")
t0 = time.time()
expect(r">STATE:\d+,CONNECTED,SUCCESS,.*", timeout=60)
took = time.time() - t0
send("signal SIGTERM")
expect(r"SUCCESS: signal SIGTERM thrown")
expect(r">STATE:\d+,EXITING,SIGTERM,.*")
m.until_closed()  # the client closes the connection as it exits
m.note("PASS")
print("%s; held 4 s while the server was up; CONNECTED %.1f s after release" % (hold, took))
