#!/usr/bin/env bash
# PUSH_UPDATE against a real OpenVPN 2.7 server: its management interface sends
# updates while we ping the server through the tunnel every 50 ms.
#  1. push-update-broad "route A, route C, route-ipv6 R6": the first route of an
#     update replaces the pushed list (2.7), so B goes, C comes, A stays, and R6
#     is added; the client's routing table follows, with 0% ping loss;
#  2. push-update-cid CID "-route-ipv6, ?cipher AES-128-GCM": the IPv6 route goes,
#     the optional non-updatable cipher is skipped, the session stays up;
#  3. "redirect-gateway def1" then "-redirect-gateway": 0.0.0.0/1 and
#     128.0.0.0/1 via the tunnel come and go, the pushed routes stay.
# The server's log shows each PUSH_UPDATE sent; ours each one applied.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
it_setup t27pushupd
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }
MGMT=$(cd "$(dirname "$0")" && pwd)/mgmt_cmd.py
A=198.19.100.0/24 B=198.19.101.0/24 C=198.19.102.0/24 R6=2001:2:0:99::/64

mgmt() { ip netns exec "$IT_NS_S" python3 "$MGMT" 7505 "$@"; }
has_route() { [[ -n $(ip -n "$IT_NS_C" "${@:2}" route show "$1") ]]; }
wait_route() { # PREFIX present|absent [-6]
    local n=100
    while ((n-- > 0)); do
        if has_route "$1" "${@:3}"; then [[ $2 == present ]] && return 0
        else [[ $2 == absent ]] && return 0; fi
        sleep 0.1
    done
    return 1
}

it_server_conf wrap=tls-crypt ipv6=1 extra=disable-dco extra="management 127.0.0.1 7505" \
    push="route 198.19.101.0 255.255.255.0"
it_server27_start
it_client_conf wrap=tls-crypt
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
    bad "tunnel did not come up"; tail -n 20 "$log"; tail -n 20 "$IT_DIR/server.log"
else
    grep -q 'peer info: IV_PROTO=[0-9]*$' "$IT_DIR/server.log" &&
        (($(grep -o 'peer info: IV_PROTO=[0-9]*$' "$IT_DIR/server.log" | tail -n 1 | cut -d= -f2) & 4096)) ||
        bad "IV_PROTO does not announce PUSH_UPDATE (bit 12)"
    has_route $A && has_route $B || bad "pushed routes $A and $B not installed"
    ping_log=$IT_DIR/ping.log
    ping_pid=$(IT_BG_LOG=$ping_log it_bg_in_client ping -i 0.05 -W 2 198.19.0.1)
    it_wait_log "$ping_log" 'icmp_seq=5 ' 10 || bad "no ping replies before the update"

    out=$(mgmt "push-update-broad \"route 198.19.100.0 255.255.255.0, route 198.19.102.0 255.255.255.0, route-ipv6 $R6\"") ||
        bad "push-update-broad failed: $out"
    echo "  mgmt: $(grep -E 'SUCCESS|ERROR' <<<"$out")"
    wait_route $C present || bad "added route $C not in the client's table"
    wait_route $R6 present -6 || bad "added route $R6 not in the client's table"
    wait_route $B absent || bad "route $B still there after the update replaced the list"
    has_route $A || bad "route $A (in both lists) is gone"

    cid=$(mgmt "status 2" | awk -F, '$1 == "HEADER" && $2 == "CLIENT_LIST" {for (i = 3; i <= NF; i++) if ($i == "Client ID") c = i - 1}
        $1 == "CLIENT_LIST" && c {print $c; exit}')
    echo "  client id: ${cid:-?}"
    out=$(mgmt "push-update-cid ${cid:-0} \"-route-ipv6, ?cipher AES-128-GCM\"") ||
        bad "push-update-cid failed: $out"
    echo "  mgmt: $(grep -E 'SUCCESS|ERROR' <<<"$out")"
    wait_route $R6 absent -6 || bad "removed route $R6 still in the client's table"
    has_route $C && has_route $A || bad "IPv4 routes changed by an IPv6-only update"

    out=$(mgmt 'push-update-broad "redirect-gateway def1"') || bad "redirect-gateway update failed: $out"
    wait_route 0.0.0.0/1 present && has_route 128.0.0.0/1 ||
        bad "redirect-gateway def1: 0.0.0.0/1 and 128.0.0.0/1 not installed"
    out=$(mgmt 'push-update-broad "-redirect-gateway"') || bad "-redirect-gateway update failed: $out"
    wait_route 0.0.0.0/1 absent && ! has_route 128.0.0.0/1 ||
        bad "-redirect-gateway: the def1 routes are still there"
    has_route $C && has_route $A || bad "pushed routes changed by the redirect-gateway updates"
    sleep 0.5 # a few more pings after the last change
    kill -INT "$ping_pid" 2>/dev/null || true
    it_wait_log "$ping_log" 'packet loss' 5 || true
    loss=$(grep 'packet loss' "$ping_log" || echo "no summary")
    echo "  ping across the four updates: $loss"
    grep -q ' 0% packet loss' <<<"$loss" || bad "ping lost packets during the updates: $loss"

    n=$(grep -c "SENT CONTROL \[client1\]: 'PUSH_UPDATE," "$IT_DIR/server.log" || true)
    ((n == 4)) || bad "the server log shows $n PUSH_UPDATE messages, expected 4"
    grep "SENT CONTROL \[client1\]: 'PUSH_UPDATE," "$IT_DIR/server.log" | sed 's/^.*SENT CONTROL/  server: SENT CONTROL/'
    n=$(grep -c 'PUSH_UPDATE applied' "$log" || true)
    ((n == 4)) || bad "layervpn applied $n updates, expected 4"
    grep 'PUSH_UPDATE' "$log" | sed 's/^/  lvpn: /' | head -n 12
    grep -q 'SIGUSR1' "$log" && bad "the session restarted"
fi
it_lvpn_stop "$pid" 10 || bad "client did not exit on SIGTERM"
[[ $(it_counter "$log" tun.updates) == 4 ]] || bad "tun.updates = $(it_counter "$log" tun.updates), expected 4"
grep -q 'layervpn: stopped' "$log" || bad "not an orderly stop"
for p in $A $C; do has_route "$p" && bad "route $p left behind after the stop"; done
it_server_stop

if ((fail)); then echo "FAIL: t_27_push_update"; exit 1; fi
echo "PASS: t_27_push_update"
