#!/usr/bin/env bash
# What up and route-up scripts see and find, against a real OpenVPN 2.6
# server, compared with the stock OpenVPN client on the same config:
#  1. with scripts only: the routes' variables (route_network_N, _netmask_,
#     _gateway_, _metric_, route_ipv6_*; the config's routes first, then
#     the pushed ones, a pushed net_gateway route and a configured metric
#     among them), route_vpn_gateway and route_net_gateway, the ifconfig_*
#     variables; the device has its address but no route yet when `up`
#     runs, and its routes when `route-up` runs; route-ipv6-gateway is the
#     gateway of the IPv6 routes without one; a route via a literal
#     gateway outside the tunnel (the LAN router) goes out the LAN
#     interface, as the stock client's; over IPv6 with redirect-gateway
#     def1 ipv6, the server's /128 (on-link: gateway ::, metric 1) and the
#     four redirect routes are numbered among the route_ipv6_* variables,
#     and net_gateway_ipv6 is set, as OpenVPN;
#  2. with route-noexec and ifconfig-noexec as well: the same variables,
#     and the device stays as opened (no address, no route, link down)
#     while the tunnel is up; traffic flows once a script sets it up;
#  3. route-gateway in the config: the gateway of a route without one when
#     the server pushes none (push-remove route-gateway in its ccd file).
#  4. dev-node: the device is opened through another node of the clone
#     device (char 10:200) and carries the tunnel; a missing node ends the
#     client with one error naming it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v openvpn >/dev/null || { echo "SKIP: no openvpn"; exit 77; }
it_setup options_noexec
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# a default gateway on the client side, as on a real machine
ip -n "$IT_NS_C" route add default via 198.18.0.254 dev vc0
ip -n "$IT_NS_S" addr add 2001:2:0:1::1/64 dev vs0 nodad
ip -n "$IT_NS_C" addr add 2001:2:0:1::2/64 dev vc0 nodad

# The script: what it is told and what it finds, one block per run.
cat >"$IT_DIR/script.sh" <<'EOF'
#!/bin/sh
{
    echo "== $script_type"
    env | grep -E '^(route_|ifconfig_|dev=|net_gateway)' | sort
    echo "-- routes"
    ip route show dev "$dev" | sed -E 's/ (proto|metric|scope|src|linkdown) [^ ]+//g; s/ linkdown//; s/ +$//' | sort
    echo "-- address"
    ip -4 -o addr show dev "$dev" | awk '{print $4}'
} >>"$OUT_FILE"
EOF
chmod +x "$IT_DIR/script.sh"

run() { # NAME CMD... -> $IT_DIR/NAME.out, the scripts' report
    local name=$1 log=$IT_DIR/$1.log pid
    shift
    rm -f "$IT_DIR/$name.out"
    sed -i "s|^setenv OUT_FILE .*|setenv OUT_FILE $IT_DIR/$name.out|" "$IT_DIR/client.ovpn"
    pid=$(it_bg_tunnel "$log" "$@") || { bad "$name: no tunnel"; return 1; }
    if [[ -n ${RUN_CHECK:-} ]]; then $RUN_CHECK "$name"; fi
    it_lvpn_stop "$pid" 15 || bad "$name: no exit on SIGTERM"
}

compare() { # TAG: stock-TAG.out and lvpn-TAG.out must be the same
    if diff -u "$IT_DIR/stock-$1.out" "$IT_DIR/lvpn-$1.out" >"$IT_DIR/$1.diff"; then
        echo "ok: $1: the scripts saw what OpenVPN's saw ($(grep -c '^route_' "$IT_DIR/lvpn-$1.out") route variables)"
    else
        bad "$1: the scripts saw something else than OpenVPN's"
        cat "$IT_DIR/$1.diff"
    fi
}

it_server_conf wrap=tls-crypt ipv6=1 push="route 198.19.88.0 255.255.255.0 net_gateway" \
    push="route 198.19.101.0 255.255.255.0 198.19.0.9 20" push="route-ipv6 2001:2:ff01::/48"
sed -i 's/^local .*/local ::/; s/^proto udp$/proto udp6/' "$IT_DIR/server.conf"
it_server_start

conf() { # EXTRA-LINE...: the client config with scripts and these lines
    local extra=() l
    for l in "$@"; do extra+=("extra=$l"); done
    it_client_conf wrap=tls-crypt "extra=script-security 2" "extra=setenv OUT_FILE x" \
        "extra=up $IT_DIR/script.sh" "extra=route-up $IT_DIR/script.sh" \
        "extra=route 198.19.77.0 255.255.255.0 vpn_gateway 5" \
        "extra=route-ipv6 2001:2:ff02::/48" "${extra[@]}"
}

# 1. scripts only
conf "route-ipv6-gateway 2001:2:ff00::1" "route 198.19.90.0 255.255.255.0 198.18.0.254" \
    "redirect-gateway def1 ipv6"
sed -i 's/^remote .*/remote 2001:2:0:1::1 1194 udp6/' "$IT_DIR/client.ovpn"
lan_check() { # NAME: the LAN router's route, as the kernel placed it
    ip -n "$IT_NS_C" route show 198.19.90.0/24 | sed -E 's/ (proto|metric) [^ ]+//g; s/ +$//' \
        >"$IT_DIR/$1.lan"
}
RUN_CHECK=lan_check run stock-scripts openvpn --config "$IT_DIR/client.ovpn" &&
    RUN_CHECK=lan_check run lvpn-scripts "$LVPN_BIN" connect "$IT_DIR/client.ovpn" && compare scripts
if [[ -f $IT_DIR/lvpn-scripts.lan ]]; then
    echo "  LAN-router route: ours '$(cat "$IT_DIR/lvpn-scripts.lan")', stock '$(cat "$IT_DIR/stock-scripts.lan" 2>/dev/null)'"
    grep -qx '198.19.90.0/24 via 198.18.0.254 dev vc0' "$IT_DIR/lvpn-scripts.lan" &&
        cmp -s "$IT_DIR/lvpn-scripts.lan" "$IT_DIR/stock-scripts.lan" ||
        bad "scripts: the LAN-router route is not the stock client's"
fi
# the order itself: no route of ours at `up`, all of them at `route-up`
if [[ -f $IT_DIR/lvpn-scripts.out ]]; then
    up=$(sed -n '/^== up/,/^== route-up/p' "$IT_DIR/lvpn-scripts.out")
    rup=$(sed -n '/^== route-up/,$p' "$IT_DIR/lvpn-scripts.out")
    grep -q '^198.19.100.0/24' <<<"$up" && bad "scripts: the routes were in before up ran"
    grep -q '^198.19.100.0/24 via 198.19.0.1' <<<"$rup" || bad "scripts: no routes when route-up ran"
    grep -qx 'route_net_gateway=198.18.0.254' <<<"$up" || bad "scripts: no route_net_gateway"
    grep -qx 'route_ipv6_gateway_2=2001:2:ff00::1' <<<"$up" ||
        bad "scripts: route-ipv6-gateway not the IPv6 routes' gateway"
    grep -qx 'route_ipv6_network_1=2001:2:0:1::1/128' <<<"$up" ||
        bad "scripts: the IPv6 server's host route is not route_ipv6_network_1"
    grep -q '^net_gateway_ipv6=' <<<"$up" || bad "scripts: no net_gateway_ipv6"
fi

# 2. route-noexec and ifconfig-noexec: nothing set up but by the scripts
bare_check() { # NAME: the device as opened, no address, no route
    local link
    link=$(ip -n "$IT_NS_C" link show tun0)
    [[ $link == *",UP"* || $link == *"<UP"* ]] && bad "$1: tun0 was brought up: $link"
    [[ -z $(ip -n "$IT_NS_C" -4 addr show dev tun0 | grep inet) ]] || bad "$1: tun0 has an address"
    [[ -z $(ip -n "$IT_NS_C" route show dev tun0) ]] || bad "$1: tun0 has routes"
    [[ -z $(ip -n "$IT_NS_C" route show 198.19.88.0/24) ]] || bad "$1: the net_gateway route was added"
}
conf route-noexec ifconfig-noexec
RUN_CHECK=bare_check run stock-noexec openvpn --config "$IT_DIR/client.ovpn" &&
    RUN_CHECK=bare_check run lvpn-noexec "$LVPN_BIN" connect "$IT_DIR/client.ovpn" && compare noexec
# the scripts' job done by hand (as a NetworkManager-style helper would):
# then traffic flows
traffic_check() { # NAME: with the address the up script was given
    local local
    local=$(sed -n 's/^ifconfig_local=//p' "$IT_DIR/$1.out" | head -n 1)
    ip -n "$IT_NS_C" link set tun0 up
    ip -n "$IT_NS_C" addr add "${local:-198.19.0.2}/24" dev tun0
    ip netns exec "$IT_NS_C" ping -c 2 -W 2 198.19.0.1 >/dev/null ||
        bad "noexec: no ping through the tunnel once set up by hand"
}
conf route-noexec ifconfig-noexec
RUN_CHECK=traffic_check run lvpn-noexec-by-hand "$LVPN_BIN" connect "$IT_DIR/client.ovpn" &&
    [[ $fail == 0 ]] && echo "ok: noexec: traffic flows once the device is set up by hand"

# 3. route-gateway from the config: the server pushes none (push-remove,
# which only a client-config-dir file may hold)
it_server_stop
mkdir -p "$IT_DIR/ccd"
echo "push-remove route-gateway" >"$IT_DIR/ccd/client1"
it_server_conf wrap=tls-crypt push="route 198.19.101.0 255.255.255.0" extra="client-config-dir $IT_DIR/ccd"
it_server_start
gw_check() {
    local via
    via=$(ip -n "$IT_NS_C" route show 198.19.101.0/24)
    [[ $via == *"via 198.19.0.1 "* ]] && return 0
    bad "route-gateway: pushed route not via the configured gateway: $via"
}
it_client_conf wrap=tls-crypt "extra=route-gateway 198.19.0.1"
RUN_CHECK=gw_check run lvpn-route-gateway "$LVPN_BIN" connect "$IT_DIR/client.ovpn" &&
    [[ $fail == 0 ]] && echo "ok: route-gateway: the configured gateway is used"

# 4. dev-node (in $IT_DIR, or under /dev where that is mounted nodev)
it_server_stop
it_server_conf wrap=tls-crypt
it_server_start
node=$IT_DIR/tun-node
mknod "$node" c 10 200
if ! { exec 3<>"$node"; } 2>/dev/null; then
    rm -f "$node"
    node=$(mktemp -u /dev/lvpn-it-tun-XXXXXX)
    mknod "$node" c 10 200
else
    exec 3>&-
fi
node_check() {
    local addrs # not piped into grep -q: under pipefail an early exit of grep is a SIGPIPE for ip
    addrs=$(ip -n "$IT_NS_C" -o addr show dev lvpnnode)
    grep -q 'inet 198\.19\.0\.' <<<"$addrs" ||
        bad "dev-node: lvpnnode has no tunnel address: $addrs"
    ip netns exec "$IT_NS_C" ping -c 2 -W 2 198.19.0.1 >/dev/null || bad "dev-node: no ping"
}
it_client_conf wrap=tls-crypt "extra=dev lvpnnode" "extra=dev-node $node"
RUN_CHECK=node_check run lvpn-dev-node "$LVPN_BIN" connect "$IT_DIR/client.ovpn" &&
    [[ $fail == 0 ]] && echo "ok: dev-node: the tunnel runs on a device opened through $node"
it_client_conf wrap=tls-crypt "extra=dev-node $IT_DIR/no-such-node"
rc=0
out=$(ip netns exec "$IT_NS_C" timeout 20 "$LVPN_BIN" connect "$IT_DIR/client.ovpn" 2>&1) || rc=$?
echo "  dev-node missing: exit $rc: $(grep 'dev-node' <<<"$out" | head -n 2)"
grep -q "dev-node $IT_DIR/no-such-node: .*[Nn]o such file" <<<"$out" ||
    { bad "dev-node: no error naming the missing node"; tail -n 5 <<<"$out"; }
((rc != 0 && rc != 124)) || bad "dev-node: missing node: exit $rc"
rm -f "$node"
it_server_stop

if ((fail)); then echo "FAIL: t_options_noexec"; exit 1; fi
echo "PASS: t_options_noexec"
