#!/usr/bin/env bash
# AUTH_PENDING with keywords against a real OpenVPN 2.7 server: its management
# interface (management-client-auth, answered by mgmt_pending.py) answers our
# connection with client-pending-auth ... "OPEN_URL:..." 30, so the server sends
# 'AUTH_PENDING,timeout 30' (we announce IV_PROTO bit 4) and 'INFO_PRE,OPEN_URL:...',
# and admits us with client-auth-nt 6 s later. Our hand-window is 3 s: layervpn
# must wait as long as the server asked, tell the host (log, and >INFOMSG: and
# >STATE:...,AUTH_PENDING on its own management interface), then come up.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
it_setup t27authpend
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }
here=$(cd "$(dirname "$0")" && pwd)
URL="OPEN_URL:https://sso.example.test/auth?session=1"
DELAY=6

it_server_conf wrap=tls-crypt extra=disable-dco extra="management 127.0.0.1 7505" \
    extra=management-hold extra=management-client-auth extra=auth-user-pass-optional
mlog=$IT_DIR/mgmt-server.log
IT_BG_LOG=$mlog it_bg_in_server python3 "$here/mgmt_pending.py" 7505 "$URL" 30 $DELAY >/dev/null
it_server27_start
it_client_conf wrap=tls-crypt extra="hand-window 3" \
    extra="management $IT_DIR/mgmt.sock unix" extra=management-hold
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
clog=$IT_DIR/mgmt-client.log
IT_BG_LOG=$IT_DIR/listen.log it_bg_in_client python3 "$here/mgmt_listen.py" "$IT_DIR/mgmt.sock" "$clog" >/dev/null
if ! it_wait_log "$log" 'Initialization Sequence Completed' $((DELAY + 25)); then
    bad "tunnel did not come up after the pending authentication"
    tail -n 20 "$log"; tail -n 20 "$IT_DIR/server.log"; cat "$mlog"
else
    grep -qF "SENT CONTROL [client1]: 'AUTH_PENDING,timeout 30'" "$IT_DIR/server.log" ||
        bad "the server did not send AUTH_PENDING with the keyword form"
    grep -qF "SENT CONTROL [client1]: 'INFO_PRE,$URL'" "$IT_DIR/server.log" ||
        bad "the server did not send INFO_PRE"
    grep -qF "AUTH_PENDING: authentication pending, waiting up to 30 s for the server (timeout 30)" "$log" ||
        bad "layervpn did not log the pending authentication with its timeout"
    grep -qF "INFO_PRE: $URL" "$log" || bad "layervpn did not show INFO_PRE"
    grep -q 'SIGUSR1' "$log" && bad "the client restarted instead of waiting"
    t0=$(awk '$2 == "pending" {print $1}' "$mlog" | head -n 1)
    t1=$(awk '$2 == "allow" {print $1}' "$mlog" | head -n 1)
    echo "  pending, then admitted $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s later (hand-window 3 s)"
    it_wait_log "$clog" '>STATE:[0-9]*,CONNECTED,SUCCESS' 5 || bad "management: no CONNECTED state"
    grep -qF ">INFOMSG:$URL" "$clog" || bad "management: no >INFOMSG: line"
    grep -qE '^>STATE:[0-9]+,AUTH_PENDING,timeout 30,' "$clog" || bad "management: no AUTH_PENDING state"
    grep -E '^>(INFOMSG|STATE:[0-9]+,AUTH_PENDING)' "$clog" | sed 's/^/  mgmt: /'
    out=$(ip netns exec "$IT_NS_C" ping -c 5 -i 0.2 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "ping: $(grep 'packet loss' <<<"$out")"
fi
it_lvpn_stop "$pid" 10 || bad "client did not exit on SIGTERM"
grep -q 'layervpn: stopped' "$log" || bad "not an orderly stop"
it_server_stop

if ((fail)); then echo "FAIL: t_27_auth_pending"; exit 1; fi
echo "PASS: t_27_auth_pending"
