#!/usr/bin/python3
"""Makes an OpenVPN server ask a CR_TEXT challenge through its management
interface (management-client-auth), as a 2FA back end does (tests only).

Usage: mgmt_crtext.py PORT EXTRA TIMEOUT ANSWER
Connects to 127.0.0.1:PORT (retrying for 10 s) and releases the server's hold.
Each '>CLIENT:CONNECT' block is read to its '>CLIENT:ENV,END' (IV_SSO is
printed), then answered with
  client-pending-auth CID KID "EXTRA" TIMEOUT
(the server sends AUTH_PENDING and INFO_PRE,EXTRA to the client). The
client's '>CLIENT:CR_RESPONSE,CID,KID,BASE64' is decoded: ANSWER admits it
(client-auth-nt), anything else denies it (client-deny). Prints one line per
step: iv_sso VALUE | pending CID KID | response TEXT | allow | deny
"""
import base64
import binascii
import re
import sys

import server_mgmt


def main():
    port, extra, timeout, answer = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    f = server_mgmt.connect(port, release_hold=True)
    if f is None:
        return 1
    try:
        serve(f, extra, timeout, answer)
    except OSError:
        pass  # the server stopped
    return 0


def serve(f, extra, timeout, answer):
    cid = kid = None
    for line in f:
        line = line.rstrip("\r\n")
        m = re.match(r">CLIENT:CONNECT,(\d+),(\d+)", line)
        if m:
            cid, kid = m.groups()
            continue
        m = re.match(r">CLIENT:ENV,IV_SSO=(.*)", line)
        if m:
            print("iv_sso %s" % m.group(1), flush=True)
            continue
        if line == ">CLIENT:ENV,END" and cid is not None:
            f.write('client-pending-auth %s %s "%s" %s\n' % (cid, kid, extra, timeout))
            f.flush()
            print("pending %s %s" % (cid, kid), flush=True)
            cid = kid = None  # ESTABLISHED and DISCONNECT have ENV blocks too
            continue
        m = re.match(r">CLIENT:CR_RESPONSE,(\d+),(\d+),(.*)", line)
        if m:
            try:
                text = base64.b64decode(m.group(3), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                text = "<not base64: %s>" % m.group(3)
            print("response %s" % text, flush=True)
            if text == answer:
                f.write("client-auth-nt %s %s\n" % (m.group(1), m.group(2)))
                print("allow", flush=True)
            else:
                f.write('client-deny %s %s "wrong answer"\n' % (m.group(1), m.group(2)))
                print("deny", flush=True)
            f.flush()
        elif line.startswith(("SUCCESS:", "ERROR:")):
            print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
