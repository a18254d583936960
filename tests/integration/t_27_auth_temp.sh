#!/usr/bin/env bash
# AUTH_FAILED,TEMP against a real OpenVPN 2.7 server: its management interface
# (management-client-auth, answered by mgmt_auth.py) denies our first connection
# with client-deny ... "TEMP[backoff 7,advance no]:pool exhausted". layervpn
# must not exit: it waits at least the 7 s back-off, reconnects to the same
# server, is admitted and pings through the tunnel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
it_setup t27authtemp
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }
BACKOFF=7
REASON="TEMP[backoff $BACKOFF,advance no]:pool exhausted"

it_server_conf wrap=tls-crypt extra=disable-dco extra="management 127.0.0.1 7505" \
    extra=management-hold extra=management-client-auth extra=auth-user-pass-optional
# The answering script first: it releases the server's management hold.
mlog=$IT_DIR/mgmt.log
IT_BG_LOG=$mlog it_bg_in_server python3 "$(dirname "$0")/mgmt_auth.py" 7505 1 "$REASON" >/dev/null
it_server27_start
it_client_conf wrap=tls-crypt
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
if ! it_wait_log "$log" 'Initialization Sequence Completed' $((BACKOFF + 30)); then
    bad "tunnel did not come up after the temporary failure"
    tail -n 20 "$log"; tail -n 20 "$IT_DIR/server.log"; cat "$mlog"
else
    grep -qF "SENT CONTROL [client1]: 'AUTH_FAILED,$REASON'" "$IT_DIR/server.log" ||
        bad "the server did not send AUTH_FAILED,$REASON"
    grep -qF "AUTH_FAILED,TEMP (backoff $BACKOFF s, advance no): pool exhausted" "$log" ||
        bad "layervpn did not log the temporary failure"
    grep -q "SIGUSR1\[soft,LVPN_EAUTH_FAIL_TEMP\]" "$log" || bad "no soft restart logged"
    grep -qF "Restart pause, $BACKOFF second(s)" "$log" || bad "restart pause is not the server's back-off"
    t0=$(awk '$2 == "deny" {print $1}' "$mlog" | head -n 1)
    t1=$(awk '$2 == "allow" {print $1}' "$mlog" | head -n 1)
    gap=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
    echo "  denied, then admitted ${gap} s later (backoff $BACKOFF s)"
    awk -v g="$gap" -v b="$BACKOFF" 'BEGIN {exit !(g >= b - 0.5)}' ||
        bad "reconnected after ${gap} s, before the ${BACKOFF} s back-off"
    out=$(ip netns exec "$IT_NS_C" ping -c 10 -i 0.1 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "ping: $(grep 'packet loss' <<<"$out")"
fi
it_lvpn_stop "$pid" 10 || bad "client did not exit on SIGTERM"
grep -q 'layervpn: stopped' "$log" || bad "not an orderly stop"
echo "  restarts: $(grep -c 'SIGUSR1' "$log")"
[[ $(grep -c 'SIGUSR1' "$log") == 1 ]] || bad "expected exactly one restart"
it_server_stop

if ((fail)); then echo "FAIL: t_27_auth_temp"; exit 1; fi
echo "PASS: t_27_auth_temp"
