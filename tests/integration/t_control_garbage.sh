#!/usr/bin/env bash
# Random garbage and truncated packets reach the client's socket during the
# handshake (from the server's address, through the relay): they are dropped
# and counted, and the handshake still completes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup garbage
it_pki

it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt port=1195
IT_BG_LOG=$IT_DIR/relay.log it_bg_in_server python3 "$(dirname "$0")/relay.py" \
    --listen 198.18.0.1:1195 --server 198.18.0.1:1194 --seed 3 --garbage 12 >/dev/null
it_wait_log "$IT_DIR/relay.log" 'listening' 5

log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
fail=0
if ! it_wait_log "$log" 'Initialization Sequence Completed' 30; then
    echo "FAIL: handshake did not complete"; tail -n 30 "$log"; fail=1
fi
it_lvpn_stop "$pid" 10 || fail=1
it_wait_log "$log" 'counter ' 5 || true
drops=0
for c in drop_short drop_opcode drop_auth drop_replay drop_decode drop_session drop_no_session; do
    v=$(it_counter "$log" "packetmuxer.$c")
    [[ $v != 0 ]] && echo "packetmuxer.$c = $v"
    drops=$((drops + v))
done
dcdrops=$(( $(it_counter "$log" datachannel.drop_nokey) + $(it_counter "$log" datachannel.drop_short) + $(it_counter "$log" datachannel.drop_auth) ))
echo "dropped and counted: $drops in the packetmuxer, $dcdrops in the datachannel"
if ((drops + dcdrops < 12)); then
    echo "FAIL: expected at least 12 counted drops"; fail=1
fi
if ((fail)); then echo "FAIL: t_control_garbage"; exit 1; fi
echo "PASS: t_control_garbage"
