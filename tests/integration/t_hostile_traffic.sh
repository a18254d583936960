#!/usr/bin/env bash
# Hostile traffic against a live session (issue 14 item 4, UDP). From the
# server's namespace, flood.py sends spoofed datagrams with the server's
# address and port to the client's port (raw socket): random bytes,
# valid-looking opcodes, P_DATA_V2 with the session's peer id, replays and
# truncations of real server packets captured on the link.
#  1. no amplification: with the tunnel idle, the client sends at most one
#     datagram per spoofed one (nftables counter on its way to the server;
#     keepalives included);
#  2. under attack, while iperf3 runs through the tunnel, the client stays
#     up and keeps >= 60% of the throughput it had unattacked (iperf3 paced
#     at 30 Mbit/s, so a loaded machine is not what is measured);
#  3. every spoofed datagram that reached the client's socket (sent minus the
#     kernel's receive-buffer drops) is dropped and counted by reason (sum
#     of the drop counters >= 95% of them).
# Rate: LVPN_FLOOD_RATE datagrams/s (default 20000).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v iperf3 >/dev/null || { echo "SKIP: iperf3 not installed"; exit 77; }
command -v nft >/dev/null || { echo "SKIP: nft not installed"; exit 77; }
it_setup hostile
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }
RATE=${LVPN_FLOOD_RATE:-20000}
IPERF_S=5
FLOOD=$(dirname "$0")/flood.py

it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
it_wait_log "$log" 'Initialization Sequence Completed' 30 || { echo "FAIL: no tunnel"; tail -n 20 "$log"; exit 1; }
port=$(grep -Eo 'link local: [0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/.*://')
[[ -n $port ]] || { echo "FAIL: cannot find the client's UDP port in its log"; exit 1; }
IT_BG_LOG=$IT_DIR/iperf.log it_bg_in_server iperf3 -s >/dev/null
sleep 0.5

iperf() {
    local out
    out=$(ip netns exec "$IT_NS_C" timeout $((IPERF_S + 20)) iperf3 -c 198.19.0.1 \
        -t "$IPERF_S" -b 30M -f m 2>&1 || true)
    awk '/receiver/ {print $(NF-2)}' <<<"$out" | tail -n 1
}
rcvbuf_errors() { # the client namespace's UDP receive-buffer drops
    ip netns exec "$IT_NS_C" awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp
}
flood() { # seconds capture extra-args...
    local secs=$1 cap=$2
    shift 2
    ip netns exec "$IT_NS_S" python3 "$FLOOD" --src "$IT_SERVER_IP" --sport "$IT_PORT" \
        --dst "$IT_CLIENT_IP" --dport "$port" --rate "$RATE" --seconds "$secs" \
        --capture "$cap" "$@"
}

base=$(iperf)
echo "  unattacked: ${base:-?} Mbit/s"
[[ -n $base ]] || bad "no baseline iperf3 result"

# 2. attack during traffic (flood.py first captures 0.5 s of real packets
#    for the replays; the flood covers the rest of the iperf3 run)
rb0=$(rcvbuf_errors)
iperf >"$IT_DIR/iperf-attacked.txt" &
ipid=$!
sleep 0.5
flood "$IPERF_S" 0.5 --save "$IT_DIR/captured.bin" >"$IT_DIR/flood-attack.txt" 2>&1 ||
    bad "flood.py failed: $(cat "$IT_DIR/flood-attack.txt")"
wait "$ipid" || true
under=$(cat "$IT_DIR/iperf-attacked.txt")
echo "  attacked: ${under:-?} Mbit/s; $(cat "$IT_DIR/flood-attack.txt")"
if [[ -n $base && -n $under ]]; then
    awk -v b="$base" -v u="$under" 'BEGIN { exit !(u >= 0.6 * b) }' ||
        bad "throughput under attack ${under} < 60% of ${base} Mbit/s"
else
    bad "no iperf3 result under attack"
fi
kill -0 "$pid" 2>/dev/null || bad "the client died under attack"
out=$(ip netns exec "$IT_NS_C" ping -c 5 -i 0.2 -W 2 198.19.0.1 2>&1 || true)
grep -q ' 0% packet loss' <<<"$out" || bad "tunnel after the attack: $(grep 'packet loss' <<<"$out")"

# 1. amplification, tunnel idle
ip netns exec "$IT_NS_C" nft -f - <<EOF
table inet lvpn_amp {
    chain out {
        type filter hook output priority 0;
        ip daddr $IT_SERVER_IP udp dport $IT_PORT counter
    }
}
EOF
flood 3 0 --load "$IT_DIR/captured.bin" --seed 2 >"$IT_DIR/flood-idle.txt" 2>&1 ||
    bad "flood.py failed: $(cat "$IT_DIR/flood-idle.txt")"
sleep 0.5
answers=$(ip netns exec "$IT_NS_C" nft list table inet lvpn_amp | grep -Eo 'packets [0-9]+' | awk '{print $2}')
ip netns exec "$IT_NS_C" nft delete table inet lvpn_amp
idle_sent=$(grep -Eo 'sent [0-9]+' "$IT_DIR/flood-idle.txt" | awk '{print $2}')
echo "  idle: $(cat "$IT_DIR/flood-idle.txt"); client sent ${answers:-?} datagrams meanwhile"
((${answers:-999999999} <= ${idle_sent:-0})) || bad "amplification: ${answers} datagrams out for ${idle_sent} spoofed"
rb1=$(rcvbuf_errors)

# 3. counted drops
it_lvpn_stop "$pid" 10 || bad "client did not stop"
it_wait_log "$log" 'counter ' 5 || true
sent=$(($(grep -Eo 'sent [0-9]+' "$IT_DIR/flood-attack.txt" | awk '{print $2}') + ${idle_sent:-0}))
reached=$((sent - (rb1 - rb0)))
counted=0
reasons=""
while read -r _ name v; do
    case $name in
    *.drop_tx | *.drop_encode | *.drop_foreign) continue ;;
    networkio.drop_* | packetmuxer.drop_* | datachannel.drop_* | reliabletransport.window_drops | reliabletransport.stale_key_drops) ;;
    *) continue ;;
    esac
    ((v > 0)) || continue
    counted=$((counted + v))
    reasons="$reasons $name=$v"
done < <(grep '^counter ' "$log")
echo "  spoofed: $sent sent, $((rb1 - rb0)) dropped by the kernel (receive buffer), $reached reached the client"
echo "  counted drops: $counted ($reasons )"
((counted * 100 >= reached * 95)) || bad "only $counted of $reached spoofed datagrams counted as drops"
it_server_stop
if ((fail)); then echo "FAIL: t_hostile_traffic"; exit 1; fi
echo "PASS: t_hostile_traffic"
