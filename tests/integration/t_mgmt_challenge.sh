#!/usr/bin/env bash
# Challenges through the management interface, as a GUI answers them
# (OpenVPN's management-notes.txt), against OpenVPN 2.6 with the verify
# script of auth_lib.sh: static-challenge asks ">PASSWORD:Need 'Auth'
# username/password SC:1,TEXT" and the GUI's SCRV1 reply reaches the
# server's script; a dynamic challenge (AUTH_FAILED,CRV1 with auth-retry
# interact) shows ">PASSWORD:Verification Failed: 'Auth' ['CRV1:...']", and
# the next query's "CRV1::state::response" reply connects. Then a server
# whose management interface asks a CR_TEXT challenge (2FA): the GUI's
# cr-response answer is sent as CR_RESPONSE and admits us; a wrong one is
# refused by the server; without a management interface, layervpn asks it
# on its terminal.
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

# 3. CR_TEXT (management-notes.txt "crtext"): the server's management
# interface answers our connection with client-pending-auth ... "CR_TEXT:..."
# (AUTH_PENDING and INFO_PRE,CR_TEXT:...). The GUI sees >INFOMSG:CR_TEXT:...,
# a response that is not base64 is refused, then the cr-response answer
# reaches the server as CR_RESPONSE and admits us; the answer is never in
# our log. A wrong answer: the server denies the client (AUTH_FAILED).
here=$(cd "$(dirname "$0")" && pwd)
it_server_conf proto=udp wrap=tls-crypt extra=disable-dco \
    extra="management 127.0.0.1 7505" extra=management-hold \
    extra=management-client-auth extra=auth-user-pass-optional
mlog=$IT_DIR/mgmt-crtext.log
IT_BG_LOG=$mlog it_bg_in_server python3 "$here/mgmt_crtext.py" 7505 \
    "CR_TEXT:R,E:Enter the code from your token" 30 424242 >/dev/null
it_server_start
it_client_conf proto=udp wrap=tls-crypt extra="setenv IV_SSO crtext" \
    extra="management $IT_DIR/mgmt.sock unix" extra=management-hold
cr_steps() { # ANSWER -> CR: the GUI's side up to the accepted cr-response
    CR=("<>HOLD:Waiting for hold release:0" ">state on" ">hold release"
        "<>INFOMSG:CR_TEXT:R,E:Enter the code from your token"
        ">cr-response $1!" "<ERROR: cr-response: the response is not base64 .*"
        ">cr-response $(printf %s "$1" | base64)" "<SUCCESS: command succeeded")
}
cr_steps 424242
if session crtext "${CR[@]}" "<>STATE:\d+,CONNECTED,SUCCESS,.*" "${END[@]}" &&
    grep -qx 'iv_sso crtext' "$mlog" && grep -qx 'response 424242' "$mlog" &&
    grep -qx 'allow' "$mlog" &&
    grep -qF "SENT CONTROL [client1]: 'INFO_PRE,CR_TEXT:R,E:Enter the code" "$IT_DIR/server.log"; then
    echo "ok: CR_TEXT: >INFOMSG:CR_TEXT shown, bad base64 refused, the cr-response answer admitted us"
else
    bad "CR_TEXT challenge through the management interface"
    cat "$mlog"
fi
if grep -q -e 424242 -e "$(printf 424242 | base64)" "$IT_DIR/crtext.log"; then
    bad "CR_TEXT: the answer is in our log"
fi
cr_steps 999999
rm -f "$IT_DIR/mgmt.sock"
pid=$(it_lvpn_start "$IT_DIR/crtext_wrong.log")
rc=0
timeout -s KILL 90 python3 "$IT_DIR/drive.py" "$IT_DIR/mgmt.sock" \
    "$IT_DIR/crtext_wrong.transcript" "${CR[@]}" \
    "<>STATE:\d+,EXITING,auth-failure,.*" >"$IT_DIR/crtext_wrong.drive" 2>&1 || rc=$?
it_lvpn_wait_exit "$pid" 20 || { it_lvpn_stop "$pid" 5 || true; rc=1; }
if ((rc == 0)) && grep -q 'exiting: .*(LVPN_EAUTH_FAILED)' "$IT_DIR/crtext_wrong.log" &&
    grep -qx 'response 999999' "$mlog" && grep -qx 'deny' "$mlog"; then
    echo "ok: CR_TEXT: a wrong answer reached the server, which refused it (auth-failure)"
else
    bad "CR_TEXT with a wrong answer"
    cat "$mlog" "$IT_DIR/crtext_wrong.drive" "$IT_DIR/crtext_wrong.transcript"
    tail -n 20 "$IT_DIR/crtext_wrong.log"
fi

# 4. The same challenge without a management interface: layervpn connect
# asks it on its terminal (a pty here) while the loop runs, and the typed
# answer admits us.
it_client_conf proto=udp wrap=tls-crypt extra="setenv IV_SSO crtext"
log=$IT_DIR/crtext_tty.log
pid=$(auth_client_start "$log" "CHALLENGE: Enter the code from your token" 424242)
if it_wait_log "$log" 'Initialization Sequence Completed' 30 &&
    (($(grep -cx 'response 424242' "$mlog") == 2)); then
    echo "ok: CR_TEXT: asked on the terminal, the typed answer admitted us"
else
    bad "CR_TEXT on the terminal"
    cat "$mlog"; tail -n 20 "$log"
fi
it_lvpn_stop "$pid" 10 || bad "CR_TEXT on the terminal: no exit on SIGTERM"
[[ $(auth_runner_status) == 0 ]] || bad "CR_TEXT on the terminal: exit status $(auth_runner_status)"
it_server_stop
if ((fail)); then echo "FAIL: t_mgmt_challenge"; exit 1; fi
echo "PASS: t_mgmt_challenge"
