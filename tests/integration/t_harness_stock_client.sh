#!/usr/bin/env bash
# Proof test for the integration harness: a stock OpenVPN 2.6 client connects to the
# stock server (tls-crypt) through the namespaces set up by lib.sh, and pings the
# server's tunnel address without loss. Exit 0 = PASS, 1 = FAIL, 77 = SKIP.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$HERE/lib.sh"

fail() {
    echo "FAIL: $*"
    if [[ -n ${IT_DIR:-} ]]; then
        for f in "$IT_DIR/server.log" "$IT_DIR/client.log"; do
            [[ -f $f ]] || continue
            echo "---- tail of $(basename "$f") ----"
            tail -n 30 "$f"
        done
    fi
    exit 1
}

it_require_root
it_setup harness_stock_client
it_pki || fail "PKI generation"
it_server_conf wrap=tls-crypt || fail "server.conf"
it_server_start || fail "server did not start"
it_client_conf wrap=tls-crypt || fail "client.ovpn"

client_pid=$(IT_BG_LOG=$IT_DIR/client.log it_bg_in_client \
    openvpn --config "$IT_DIR/client.ovpn")

it_wait_log "$IT_DIR/client.log" "Initialization Sequence Completed" 20 ||
    fail "stock client did not complete initialization within 20 s"

ping_out=$(ip netns exec "$IT_NS_C" ping -c 5 -i 0.2 -W 2 "$IT_TUN_SERVER_IP" 2>&1) || true
echo "$ping_out"
grep -q " 0% packet loss" <<<"$ping_out" || fail "ping through the tunnel lost packets"

# The harness must clean up after itself: run it_cleanup now (the EXIT trap makes it a
# no-op later) and check that no namespace or openvpn process of this test survives.
pids_to_check=("$IT_SERVER_PID" "$client_pid")
ns_s=$IT_NS_S ns_c=$IT_NS_C
it_cleanup
leftover_ns=$(ip netns list | awk -v s="$ns_s" -v c="$ns_c" '$1 == s || $1 == c' || true)
[[ -z $leftover_ns ]] || fail "namespaces left behind: $leftover_ns"
for pid in "${pids_to_check[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
        fail "process $pid still running after cleanup"
    fi
done
echo "cleanup OK: namespaces $ns_s/$ns_c gone, openvpn pids ${pids_to_check[*]} gone"

echo "PASS: stock client <-> stock server via harness (udp, tls-crypt), ping 0% loss"
exit 0
