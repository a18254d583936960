#!/usr/bin/env bash
# Data-channel robustness against a real server: a captured data packet sent
# again (replay), a copy with one flipped bit and a truncated copy reach the
# client from the server's address; each is dropped and counted, and the
# tunnel keeps working.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup tamper
it_pki

it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt port=1195
IT_BG_LOG=$IT_DIR/relay.log it_bg_in_server python3 "$(dirname "$0")/relay.py" \
    --listen 198.18.0.1:1195 --server 198.18.0.1:1194 --seed 5 --tamper-data 5 >/dev/null
it_wait_log "$IT_DIR/relay.log" 'listening' 5

fail=0
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
it_wait_log "$log" 'Initialization Sequence Completed' 15 || { echo "FAIL: no tunnel"; tail -n 20 "$log"; exit 1; }
# Ten pings: the 5th data packet from the server triggers the tampered copies.
ip netns exec "$IT_NS_C" ping -c 10 -i 0.1 -W 2 198.19.0.1 >/dev/null 2>&1 || true
it_wait_log "$IT_DIR/relay.log" 'tampered data injected' 5 || { echo "FAIL: relay injected nothing"; fail=1; }
# The tunnel still works afterwards.
out=$(ip netns exec "$IT_NS_C" ping -c 10 -i 0.1 -W 2 198.19.0.1 2>&1 || true)
grep -q ' 0% packet loss' <<<"$out" || { echo "FAIL: ping after tampering: $(grep 'packet loss' <<<"$out")"; fail=1; }
it_lvpn_stop "$pid" 10 || fail=1
it_wait_log "$log" 'counter client.pool_allocs' 5 || true
replay=$(it_counter "$log" datachannel.drop_replay)
auth=$(it_counter "$log" datachannel.drop_auth)
short=$(it_counter "$log" datachannel.drop_short)
echo "datachannel drops: replay=$replay auth=$auth short=$short"
((replay >= 1)) || { echo "FAIL: replayed packet not counted"; fail=1; }
((auth >= 1)) || { echo "FAIL: bit-flipped packet not counted"; fail=1; }
((short >= 1)) || { echo "FAIL: truncated packet not counted"; fail=1; }
if ((fail)); then echo "FAIL: t_tunnel_tamper"; exit 1; fi
echo "PASS: t_tunnel_tamper"
