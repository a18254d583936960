#!/usr/bin/env bash
# Challenges through the management interface, as a GUI answers them
# (OpenVPN's management-notes.txt), against OpenVPN 2.6 with the verify
# script of auth_lib.sh: static-challenge asks ">PASSWORD:Need 'Auth'
# username/password SC:1,TEXT" and the GUI's SCRV1 reply reaches the
# server's script; a dynamic challenge (AUTH_FAILED,CRV1 with auth-retry
# interact) shows ">PASSWORD:Verification Failed: 'Auth' ['CRV1:...']", and
# the next query's "CRV1::state::response" reply connects. One server start.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auth_lib.sh"
it_require_root
it_lvpn_require_bin
it_setup mgmt_challenge
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

auth_server_conf
it_server_start

cat >"$IT_DIR/drive.py" <<'PY'
import re, socket, sys, time
path, out = sys.argv[1], open(sys.argv[2], "w")
steps = sys.argv[3:]  # "<pattern" waits for a line, ">cmd" sends it
for _ in range(200):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(path); break
    except OSError:
        time.sleep(0.1)
s.settimeout(60)
f = s.makefile("rb")
for st in steps:
    if st[0] == ">":
        out.write(st + "\n"); out.flush()
        s.sendall(st[1:].encode() + b"\n")
        continue
    while True:
        raw = f.readline()
        if not raw:
            sys.exit("closed while waiting for " + st[1:])
        line = raw.decode().rstrip("\r\n")
        out.write("< " + line + "\n"); out.flush()
        if re.fullmatch(st[1:], line):
            break
print("ok")
PY

session() { # name drive-steps... -> 0 when the driver and the client end well
    local name=$1 pid rc=0
    shift
    rm -f "$IT_DIR/mgmt.sock"
    pid=$(it_lvpn_start "$IT_DIR/$name.log")
    timeout -s KILL 90 python3 "$IT_DIR/drive.py" "$IT_DIR/mgmt.sock" \
        "$IT_DIR/$name.transcript" "$@" >"$IT_DIR/$name.drive" 2>&1 || rc=$?
    it_lvpn_wait_exit "$pid" 20 || { it_lvpn_stop "$pid" 5 || true; rc=1; }
    grep -q '^layervpn: stopped$' "$IT_DIR/$name.log" || rc=1
    if ((rc != 0)); then
        cat "$IT_DIR/$name.drive" "$IT_DIR/$name.transcript"; tail -n 20 "$IT_DIR/$name.log"
    fi
    return $rc
}
MG=(extra="management $IT_DIR/mgmt.sock unix" extra="management-query-passwords")
END=(">signal SIGTERM" "<>STATE:\d+,EXITING,SIGTERM,.*")

# 1. static-challenge: SC:1 in the query, the SCRV1 reply as the GUI packs it
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass" \
    extra='static-challenge "Enter PIN" 1' "${MG[@]}"
if session static "<>PASSWORD:Need 'Auth' username/password SC:1,Enter PIN" \
    ">state on" ">username Auth alice" \
    ">password Auth SCRV1:$(printf secret | base64):$(printf 4242 | base64)" \
    "<>STATE:\d+,CONNECTED,SUCCESS,.*" "${END[@]}" &&
    grep -q 'scrv1 password=secret response=4242' "$IT_DIR/verify.log"; then
    echo "ok: static-challenge: SC:1 query, the SCRV1 reply reached the server's script"
else
    bad "static-challenge through the management interface"
fi

# 2. dynamic challenge: CRV1 in the failure, answered at the next query
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass" \
    extra="auth-retry interact" "${MG[@]}"
if session dynamic "<>PASSWORD:Need 'Auth' username/password" ">state on" \
    ">username Auth carol" ">password Auth secret" \
    "<>PASSWORD:Verification Failed: 'Auth' \['CRV1:R,E:sid42:$(printf carol | base64):Your OTP\?'\]" \
    "<>PASSWORD:Need 'Auth' username/password" \
    ">username Auth carol" ">password Auth CRV1::sid42::777" \
    "<>STATE:\d+,CONNECTED,SUCCESS,.*" "${END[@]}" &&
    grep -q 'user=carol pass=CRV1::sid42::777' "$IT_DIR/verify.log"; then
    echo "ok: dynamic challenge: Verification Failed with CRV1, the CRV1::sid42::777 reply connected"
else
    bad "dynamic challenge through the management interface"
fi

it_server_stop
if ((fail)); then echo "FAIL: t_mgmt_challenge"; exit 1; fi
echo "PASS: t_mgmt_challenge"
