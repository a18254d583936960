#!/usr/bin/env bash
# Reconnection over TCP against OpenVPN 2.6 ("keepalive 2 10" pushed):
# 1. the server is SIGKILLed (its kernel closes the connection) and comes
#    back 5 s later: the client retries with connect-retry's pauses while the
#    port refuses, and ping through the tunnel works again;
# 2. the connection is reset (the server's namespace answers our packets
#    with TCP RST for 3 s, as a firewall or NAT that lost the flow would):
#    the client restarts, and ping through the tunnel works again.
# Each within 30 s, in the same client process.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v nft >/dev/null || { echo "SKIP: nft not installed (tools/install-deps.sh)"; exit 77; }
it_setup reconnect_tcp
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

it_server_conf proto=tcp wrap=tls-crypt extra="keepalive 2 10"
it_server_start
it_client_conf proto=tcp wrap=tls-crypt
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
it_wait_log "$log" 'Initialization Sequence Completed' 15 || { bad "no tunnel"; tail -n 20 "$log"; exit 1; }

sessions() { grep -c 'Initialization Sequence Completed' "$log" || true; }
losses() { grep -cE 'connection closed by the server|connection to .* lost' "$log" || true; }

# ping_back LABEL N0 T0: wait (30 s from T0) for a session beyond the N0
# already seen, then for a ping through the tunnel; prints the delay.
ping_back() {
    local label=$1 n0=$2 t0=$3 i
    for ((i = 0; i < 60; i++)); do
        if (($(sessions) > n0)) &&
            ip netns exec "$IT_NS_C" ping -c 1 -W 1 198.19.0.1 >/dev/null 2>&1; then
            echo "ok: $label: ping through the tunnel again $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s later"
            return 0
        fi
        sleep 0.5
    done
    bad "$label: no ping through the tunnel within 30 s"
    tail -n 25 "$log"
    return 1
}

# 1. server killed, back 5 s later
n0=$(sessions)
kill -KILL "$IT_SERVER_PID"
wait "$IT_SERVER_PID" 2>/dev/null || true
IT_SERVER_PID=""
it_wait_log "$log" 'connection closed by the server|connection to .* lost' 10 ||
    bad "kill: the client did not notice the closed connection"
sleep 5
grep -q 'failed: connection refused' "$log" || bad "kill: no attempt while the server was down"
it_server_start
ping_back "server killed, back after 5 s" "$n0" "$(date +%s.%N)" || true

# 2. connection reset: RST for everything we send to the server for 3 s
n0=$(sessions)
l0=$(losses)
ip netns exec "$IT_NS_S" nft -f - <<EOF
table inet it_rst {
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr $IT_CLIENT_IP tcp dport $IT_PORT reject with tcp reset
    }
}
EOF
for ((i = 0; i < 100; i++)); do
    (($(losses) > l0)) && break
    sleep 0.1
done
(($(losses) > l0)) || bad "reset: the client did not see the reset"
sleep 3
ip netns exec "$IT_NS_S" nft delete table inet it_rst
ping_back "connection reset" "$n0" "$(date +%s.%N)" || true

kill -0 "$pid" 2>/dev/null || bad "client exited"
it_lvpn_stop "$pid" 10 || bad "client did not exit on SIGTERM"
grep -q 'layervpn: stopped' "$log" || bad "not an orderly stop"
echo "restarts: $(grep -c 'process restarting' "$log" || true), pauses (s): $(grep 'Restart pause' "$log" | awk '{print $5}' | tr -d , | tr '\n' ' ')"
it_server_stop
if ((fail)); then echo "FAIL: t_reconnect_tcp"; exit 1; fi
echo "PASS: t_reconnect_tcp"
