#!/usr/bin/env bash
# Attempts that hear nothing from the server, against OpenVPN 2.6 started
# late (UDP):
# 1. hand-window 4: the first attempt ends with the TLS handshake timeout,
#    the client pauses (connect-retry) and tries again; once the server is
#    up, ping through the tunnel works within 30 s;
# 2. server-poll-timeout 3: attempts are abandoned after 3 s without an
#    answer and restart at once (no pause, as OpenVPN); same outcome;
# 3. connect-retry-max 2 with no server at all: the client gives up after
#    exactly two attempts and exits 1, naming connect-retry-max.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup reconnect_handshake
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

it_server_conf proto=udp wrap=tls-crypt extra="keepalive 2 10"

# late_server LABEL LOG PID: start the server, then wait (30 s) for a tunnel.
late_server() {
    local label=$1 log=$2 pid=$3 t0 i
    it_server_start
    t0=$(date +%s.%N)
    for ((i = 0; i < 60; i++)); do
        if grep -q 'Initialization Sequence Completed' "$log" &&
            ip netns exec "$IT_NS_C" ping -c 1 -W 1 198.19.0.1 >/dev/null 2>&1; then
            echo "ok: $label: ping through the tunnel $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s after the server started"
            break
        fi
        sleep 0.5
    done
    ((i < 60)) || { bad "$label: no ping through the tunnel 30 s after the server started"; tail -n 20 "$log"; }
    it_lvpn_stop "$pid" 10 || bad "$label: client did not exit on SIGTERM"
    it_server_stop
}

# 1. hand-window
it_client_conf proto=udp wrap=tls-crypt extra="hand-window 4"
log=$IT_DIR/lvpn-hand.log
pid=$(it_lvpn_start "$log")
if it_wait_log "$log" 'Restart pause, 1 second' 15 &&
    grep -q 'TLS key negotiation failed to occur within hand-window' "$log"; then
    echo "ok: hand-window: handshake timeout, then a pause of 1 s"
else
    bad "hand-window: no handshake timeout and restart"; tail -n 10 "$log"
fi
late_server "hand-window" "$log" "$pid"

# 2. server-poll-timeout
it_client_conf proto=udp wrap=tls-crypt extra="server-poll-timeout 3"
log=$IT_DIR/lvpn-poll.log
pid=$(it_lvpn_start "$log")
for ((i = 0; i < 150; i++)); do
    (($(grep -c 'Server poll timeout, restarting' "$log" || true) >= 2)) && break
    sleep 0.1
done
polls=$(grep -c 'Server poll timeout, restarting' "$log" || true)
if ((polls >= 2)) && ! grep -q 'Restart pause' "$log"; then
    echo "ok: server-poll-timeout: $polls attempts abandoned after 3 s, restarted without a pause"
else
    bad "server-poll-timeout: $polls poll timeouts, pauses: $(grep -c 'Restart pause' "$log" || true)"
    tail -n 10 "$log"
fi
late_server "server-poll-timeout" "$log" "$pid"

# 3. connect-retry-max: two attempts, then exit 1
it_client_conf proto=udp wrap=tls-crypt extra="server-poll-timeout 2" extra="connect-retry-max 2"
log=$IT_DIR/lvpn-max.log
rc=0
timeout -s KILL 30 ip netns exec "$IT_NS_C" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" \
    >"$log" 2>&1 </dev/null || rc=$?
attempts=$(grep -c 'UDPv4 link local' "$log" || true)
if ((rc == 1 && attempts == 2)) &&
    grep -q 'All connections have been connect-retry-max (2) times unsuccessful, exiting' "$log" &&
    grep -q 'exiting: connect-retry-max reached' "$log"; then
    echo "ok: connect-retry-max 2: $attempts attempts, exit $rc"
else
    bad "connect-retry-max 2: $attempts attempts, exit $rc"; tail -n 10 "$log"
fi

if ((fail)); then echo "FAIL: t_reconnect_handshake"; exit 1; fi
echo "PASS: t_reconnect_handshake"
