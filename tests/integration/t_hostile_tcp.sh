#!/usr/bin/env bash
# A misbehaving server over TCP (issue 14 item 4, TCP part), played by
# badtcp.py on the server's address and port:
#  - 2000 zero-length frames: each dropped and counted
#    (networkio.drop_zero_len), the client keeps running;
#  - a 64 KiB frame: refused with the clear error "TCP frame of 65535 bytes
#    ... exceeds the maximum", the connection is dropped (and retried);
#  - a silent, never-reading peer (half-open): the handshake ends at
#    hand-window (5 s here) with OpenVPN's message, then a retry.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup hostiletcp
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

run_case() { # mode wait-regex seconds
    local mode=$1 want=$2 secs=$3 log pid spid
    spid=$(IT_BG_LOG=$IT_DIR/badtcp-$mode.log it_bg_in_server python3 \
        "$(dirname "$0")/badtcp.py" --listen "$IT_SERVER_IP:$IT_PORT" --mode "$mode")
    it_wait_log "$IT_DIR/badtcp-$mode.log" 'listening' 10 || { bad "$mode: badtcp.py did not start"; return; }
    it_client_conf proto=tcp wrap=tls-crypt extra="hand-window 5" extra="connect-retry 1"
    log=$IT_DIR/lvpn-$mode.log
    pid=$(it_lvpn_start "$log")
    it_wait_log "$IT_DIR/badtcp-$mode.log" 'accepted' 15 || bad "$mode: the client never connected"
    if ! it_wait_log "$log" "$want" "$secs"; then
        bad "$mode: nothing matching '$want' within $secs s"
        grep -v '^counter' "$log" | tail -n 8
    fi
    kill -0 "$pid" 2>/dev/null || bad "$mode: the client died"
    it_lvpn_stop "$pid" 10 || bad "$mode: the client did not stop on SIGTERM"
    it_wait_log "$log" 'counter ' 5 || true
    echo "  $mode: '$(grep -Eo -m1 "$want" "$log" || true)'," \
        "drop_zero_len=$(it_counter "$log" networkio.drop_zero_len)," \
        "drop_oversize=$(it_counter "$log" networkio.drop_oversize)," \
        "attempts=$(it_counter "$log" client.attempts)"
    kill "$spid" 2>/dev/null || true
    sleep 0.3
}

run_case zero 'Attempting to establish|TLS key negotiation failed' 15
zl=$(it_counter "$IT_DIR/lvpn-zero.log" networkio.drop_zero_len)
((zl >= 2000)) || bad "zero: $zl zero-length frames counted, 2000 sent"
run_case big 'TCP frame of 65535 bytes from [^ ]+ exceeds the maximum of [0-9]+' 15
run_case silent 'TLS key negotiation failed to occur within hand-window' 20

if ((fail)); then echo "FAIL: t_hostile_tcp"; exit 1; fi
echo "PASS: t_hostile_tcp"
