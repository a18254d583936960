#!/usr/bin/env bash
# Handshake under impairment: 20% loss each way (nftables numgen in the client
# namespace) plus 10% reordering and 5% duplication (seeded UDP relay in front
# of the server). 10 attempts, each must reach PUSH_REPLY within 30 s.
# Then, without loss, a server whose flight is lost for good after its reset
# (a second relay mutes it for that client socket): the client sees no new
# handshake data for 8 s, starts over on a new socket, and is up well within
# hand-window.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup impair
it_pki

it_server_conf proto=udp wrap=tls-crypt
it_server_start
# The client talks to the relay on 198.18.0.1:1195, which forwards to 1194.
it_client_conf proto=udp wrap=tls-crypt port=1195
IT_BG_LOG=$IT_DIR/relay.log it_bg_in_server python3 "$(dirname "$0")/relay.py" \
    --listen 198.18.0.1:1195 --server 198.18.0.1:1194 --seed 7 \
    --reorder 0.10 --dup 0.05 >/dev/null
it_wait_log "$IT_DIR/relay.log" 'listening' 5
it_impair_client 20

ATTEMPTS=${LVPN_IMPAIR_ATTEMPTS:-10}
ok=0 times=()
for ((i = 1; i <= ATTEMPTS; i++)); do
    log=$IT_DIR/lvpn-$i.log
    t0=$(date +%s%N)
    pid=$(it_lvpn_start "$log" --trace "$IT_DIR/trace-$i.jsonl")
    if it_wait_log "$log" 'PUSH_REPLY after' 30; then
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        times+=("$ms")
        ok=$((ok + 1))
        echo "attempt $i: PUSH_REPLY after $ms ms"
    else
        echo "attempt $i: FAILED (no PUSH_REPLY within 30 s)"; tail -n 15 "$log"
        # what each side saw: the client's layer events, the server's log
        echo "--- client trace, last 40 events"; tail -n 40 "$IT_DIR/trace-$i.jsonl"
        echo "--- server log, last 40 lines"; tail -n 40 "$IT_DIR/server.log"
        echo "--- relay"; tail -n 5 "$IT_DIR/relay.log"
    fi
    it_lvpn_stop "$pid" 5 || true
done
it_impair_clear
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "n/a")}')
max=$(echo "$sorted" | tail -n 1)
echo "impairment: $ok/$ATTEMPTS handshakes completed, median ${median} ms, max ${max} ms"
if ((ok != ATTEMPTS)); then echo "FAIL: t_control_impair"; exit 1; fi

# The stalled handshake: the server's reset passes, the rest is muted.
it_client_conf proto=udp wrap=tls-crypt port=1196
IT_BG_LOG=$IT_DIR/mute.log it_bg_in_server python3 "$(dirname "$0")/relay.py" \
    --listen 198.18.0.1:1196 --server 198.18.0.1:1194 --mute-after 1 >/dev/null
it_wait_log "$IT_DIR/mute.log" 'listening' 5
log=$IT_DIR/lvpn-stall.log
t0=$(date +%s%N)
pid=$(it_lvpn_start "$log")
if ! it_wait_log "$log" 'PUSH_REPLY after' 30; then
    tail -n 15 "$log"; echo "FAIL: t_control_impair: no tunnel after the stall"
    exit 1
fi
ms=$((($(date +%s%N) - t0) / 1000000))
it_lvpn_stop "$pid" 5 || true
grep -E 'stalled|no new handshake data' "$log"
stalls=$(grep -c 'no new handshake data from the server for 8000 ms' "$log" || true)
moves=$(grep -c 'client address changed' "$IT_DIR/mute.log" || true)
echo "stall: up after $ms ms, $stalls stall restart(s), the relay saw $moves new client socket(s)"
if ((stalls != 1 || moves != 1 || ms < 8000)); then
    echo "FAIL: t_control_impair: want one restart after 8 s on a new socket"
    exit 1
fi
echo "PASS: t_control_impair"
