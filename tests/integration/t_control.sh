#!/usr/bin/env bash
# Control channel against a real OpenVPN 2.6 server, UDP and TCP, each wrap:
# our client completes the handshake and receives and parses PUSH_REPLY;
# the server logs "Peer Connection Initiated" and sends PUSH_REPLY; it takes
# under 1 s on the veth pair.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup control
it_pki

fail=0
run_case() { # proto wrap
    local proto=$1 wrap=$2 log ms pid
    it_server_conf proto="$proto" wrap="$wrap"
    it_server_start
    it_client_conf proto="$proto" wrap="$wrap"
    log=$IT_DIR/lvpn-$proto-$wrap.log
    pid=$(it_lvpn_start "$log")
    if ! it_wait_log "$log" 'Control channel up: PUSH_REPLY after' 10; then
        echo "FAIL: $proto/$wrap: no PUSH_REPLY"; tail -n 30 "$log"; fail=1
    else
        ms=$(sed -n 's/.*PUSH_REPLY after \([0-9]*\) ms.*/\1/p' "$log" | head -n 1)
        grep -q "PUSH: Received control message: 'PUSH_REPLY," "$log" || {
            echo "FAIL: $proto/$wrap: pushed options not logged"; fail=1; }
        grep -q 'Peer Connection Initiated' "$IT_DIR/server.log" || {
            echo "FAIL: $proto/$wrap: server did not log Peer Connection Initiated"; fail=1; }
        it_wait_log "$IT_DIR/server.log" "SENT CONTROL.*PUSH_REPLY" 5 || {
            echo "FAIL: $proto/$wrap: server did not send PUSH_REPLY"; fail=1; }
        if ((ms >= 1000)); then
            echo "FAIL: $proto/$wrap: handshake took $ms ms (limit 1000)"; fail=1
        else
            echo "ok: $proto/$wrap: PUSH_REPLY after $ms ms"
        fi
    fi
    it_lvpn_stop "$pid" 10 || { echo "FAIL: $proto/$wrap: client did not exit on SIGTERM"; fail=1; }
    grep -q 'layervpn: stopped' "$log" || { echo "FAIL: $proto/$wrap: not an orderly stop"; tail -n 5 "$log"; fail=1; }
    it_server_stop
}

run_case udp tls-crypt
run_case tcp tls-crypt
run_case udp tls-auth
run_case udp none
run_case tcp tls-auth
run_case udp tls-crypt-v2
run_case tcp tls-crypt-v2

if ((fail)); then echo "FAIL: t_control"; exit 1; fi
echo "PASS: t_control"
