#!/usr/bin/env bash
# The path to the server disappears for 20 s and comes back, with the
# server's "keepalive 2 10" pushed: once with nftables dropping all UDP both
# ways on the client's veth, once with the client's veth link set down. The
# client notices (ping-restart), keeps retrying while the link is dead, and
# ping through the tunnel works again within 30 s of the link's return, in
# the same process. LVPN_RECONNECT_ROUNDS (default 1, for the CI budget;
# the acceptance run uses 5) repeats each event.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v nft >/dev/null || { echo "SKIP: nft not installed (tools/install-deps.sh)"; exit 77; }
it_setup reconnect_linkdown
it_pki
ROUNDS=${LVPN_RECONNECT_ROUNDS:-1}
DOWN_S=${LVPN_RECONNECT_DOWN_S:-20}
fail=0
bad() { echo "FAIL: $*"; fail=1; }

it_server_conf proto=udp wrap=tls-crypt extra="keepalive 2 10"
it_server_start
it_client_conf proto=udp wrap=tls-crypt
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
it_wait_log "$log" 'Initialization Sequence Completed' 15 || { bad "no tunnel"; tail -n 20 "$log"; exit 1; }

# ping_back LABEL T0: ping through the tunnel until it answers (at most 30 s
# after T0, the moment the link came back); prints the delay.
ping_back() {
    local label=$1 t0=$2 now
    while :; do
        if ip netns exec "$IT_NS_C" ping -c 1 -W 1 198.19.0.1 >/dev/null 2>&1; then
            now=$(date +%s.%N)
            echo "ok: $label: ping through the tunnel again $(awk -v a="$t0" -v b="$now" 'BEGIN{printf "%.1f", b-a}') s after the link came back"
            return 0
        fi
        now=$(date +%s)
        if ((now - ${t0%.*} > 30)); then
            bad "$label: no ping through the tunnel 30 s after the link came back"
            tail -n 25 "$log"
            return 1
        fi
        sleep 0.5
    done
}

for ((r = 1; r <= ROUNDS; r++)); do
    for how in nft link; do
        n0=$(grep -c 'Initialization Sequence Completed' "$log" || true)
        p0=$(grep -c 'Inactivity timeout (--ping-restart)' "$log" || true)
        if [[ $how == nft ]]; then
            it_impair_client 100
        else
            ip -n "$IT_NS_C" link set vc0 down
        fi
        sleep "$DOWN_S"
        if [[ $how == nft ]]; then
            it_impair_clear
        else
            ip -n "$IT_NS_C" link set vc0 up
        fi
        t0=$(date +%s.%N)
        (($(grep -c 'Inactivity timeout (--ping-restart)' "$log" || true) > p0)) ||
            bad "$how: no ping-restart while the link was down"
        ping_back "round $r, $how down ${DOWN_S} s" "$t0" || break 2
        n1=$(grep -c 'Initialization Sequence Completed' "$log" || true)
        ((n1 > n0)) || bad "$how: the tunnel answered without a new session (test setup)"
        kill -0 "$pid" 2>/dev/null || { bad "client exited"; break 2; }
    done
done

it_lvpn_stop "$pid" 10 || bad "client did not exit on SIGTERM"
grep -q 'layervpn: stopped' "$log" || bad "not an orderly stop"
echo "restarts: $(grep -c 'Restart pause' "$log" || true), sessions: $(grep -c 'Initialization Sequence Completed' "$log" || true)"
it_server_stop
if ((fail)); then echo "FAIL: t_reconnect_linkdown"; exit 1; fi
echo "PASS: t_reconnect_linkdown"
