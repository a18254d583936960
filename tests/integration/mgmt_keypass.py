#!/usr/bin/env python3
"""Answers the private key passphrase over the management interface
(t_key_passphrase.sh).

usage: mgmt_keypass.py SOCKET PASSPHRASE TRANSCRIPT ok|wrong

The client (management-query-passwords, no hold) asks before anyone is
connected, so the query is repeated after the greeting. ok: the passphrase
connects (CONNECTED,SUCCESS), then `signal SIGTERM`. wrong: the client
reports >PASSWORD:Verification Failed: 'Private Key' and exits. Exit status
0 on success."""
import sys

from mgmt_session import Session

sock_path, passphrase, transcript, mode = sys.argv[1:5]
m = Session(sock_path, transcript)
m.expect(r">INFO:OpenVPN Management Interface Version 5 .*")
m.expect(r">PASSWORD:Need 'Private Key' password", timeout=30)
m.send("state on")
m.expect(r"SUCCESS: real-time state notification set to ON")
m.send('username "Private Key" x')
m.expect(r"ERROR: no username is currently needed at this time")
m.send('password "Private Key" "%s"' % passphrase.replace("\\", "\\\\").replace('"', '\\"'))
m.expect(r"SUCCESS: 'Private Key' password entered, but not yet verified")
if mode == "ok":
    m.expect(r">STATE:\d+,CONNECTED,SUCCESS,.*", timeout=60)
    m.send("signal SIGTERM")
    m.expect(r"SUCCESS: signal SIGTERM thrown")
else:
    m.expect(r">PASSWORD:Verification Failed: 'Private Key'", timeout=30)
    m.expect(r">STATE:\d+,EXITING,.*", timeout=30)
m.until_closed()
m.note("PASS")
print("private key passphrase over management: %s" % mode)
