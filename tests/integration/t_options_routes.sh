#!/usr/bin/env bash
# Route options of the config against a real OpenVPN 2.6 server (which
# pushes "route 198.19.100.0 255.255.255.0"):
#  - route-metric 77: the pushed route gets metric 77; route-ipv6 from the
#    config is installed on an IPv6 tunnel;
#  - pull-filter ignore "route 198.19.100": the pushed route is not
#    installed, the tunnel still pings;
#  - recursive routing: with the server's own address routed into the
#    tunnel (our socket kept on the veth by bind-dev), a ping to it is read
#    from the device and dropped, as OpenVPN's drop_if_recursive_routing,
#    while the tunnel still pings; with allow-recursive-routing the packet
#    goes through the tunnel and the server answers it;
#  - host names in `route` (/etc/netns/<ns>/hosts): a network name with two
#    addresses gives two routes, a gateway name its address, a name that
#    does not resolve leaves its route out with a warning; the routes are
#    the stock 2.6 client's on the same config;
#  - a pushed route with a host name: ignored with the reason, as OpenVPN
#    without allow-pull-fqdn, the rest of the PUSH_REPLY applied.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup optroutes
it_pki

fail=0
# (on stderr and in $IT_DIR/failed too: up() runs in a $(...) subshell,
# where its stdout is the pid and a variable set is lost)
bad() { echo "FAIL: $*" >&2; fail=1; : >>"$IT_DIR/failed"; }

up() { # NAME -> echoes the pid once the tunnel is up
    local log=$IT_DIR/lvpn-$1.log pid
    pid=$(it_lvpn_start "$log")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        bad "$1: tunnel did not come up"; tail -n 20 "$log" >&2
        it_lvpn_stop "$pid" 5 || true; echo ""; return
    fi
    echo "$pid"
}

it_server_conf wrap=tls-crypt ipv6=1
it_server_start
trap 'rm -rf "/etc/netns/${IT_NS_C:-none}"; it_cleanup' EXIT

it_client_conf wrap=tls-crypt extra="route-metric 77" extra="route-ipv6 2001:2:0:99::/64"
pid=$(up metric)
if [[ -n $pid ]]; then
    r4=$(ip -n "$IT_NS_C" route show 198.19.100.0/24)
    r6=$(ip -n "$IT_NS_C" -6 route show 2001:2:0:99::/64)
    grep -q 'metric 77' <<<"$r4" || bad "route-metric: '$r4'"
    grep -q 'dev tun0' <<<"$r6" || bad "route-ipv6 from the config: '$r6'"
    out=$(ip netns exec "$IT_NS_C" ping -c 5 -i 0.1 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "metric: ping: $(grep 'packet loss' <<<"$out")"
    it_lvpn_stop "$pid" 15 || bad "metric: no exit on SIGTERM"
    [[ $fail == 0 ]] && echo "ok: route-metric 77 ($r4), route-ipv6 ($r6)"
fi

it_client_conf wrap=tls-crypt extra='pull-filter ignore "route 198.19.100"'
pid=$(up pull-filter)
if [[ -n $pid ]]; then
    r4=$(ip -n "$IT_NS_C" route show 198.19.100.0/24)
    [[ -z $r4 ]] || bad "pull-filter: pushed route installed: '$r4'"
    out=$(ip netns exec "$IT_NS_C" ping -c 5 -i 0.1 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "pull-filter: ping: $(grep 'packet loss' <<<"$out")"
    it_lvpn_stop "$pid" 15 || bad "pull-filter: no exit on SIGTERM"
    [[ $fail == 0 ]] && echo "ok: pull-filter ignore: the pushed route was not installed"
fi

# recursive routing: a /32 to the server's address through the tunnel
for allow in 0 1; do
    extra=(extra="bind-dev vc0" extra="route $IT_SERVER_IP 255.255.255.255")
    ((allow)) && extra+=(extra="allow-recursive-routing")
    it_client_conf wrap=tls-crypt "${extra[@]}"
    name=recursive-$allow
    pid=$(up $name)
    [[ -n $pid ]] || continue
    r=$(ip -n "$IT_NS_C" route get "$IT_SERVER_IP")
    [[ $r == *"dev tun0"* ]] || bad "$name: the server's address is not routed into the tunnel: $r"
    out=$(ip netns exec "$IT_NS_C" ping -c 3 -i 0.2 -W 1 "$IT_SERVER_IP" 2>&1 || true)
    got=$(grep -o '[0-9]* received' <<<"$out" | awk '{print $1}')
    out2=$(ip netns exec "$IT_NS_C" ping -c 3 -i 0.2 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out2" || bad "$name: the tunnel itself: $(grep 'packet loss' <<<"$out2")"
    it_lvpn_stop "$pid" 15 || bad "$name: no exit on SIGTERM"
    drops=$(it_counter "$IT_DIR/lvpn-$name.log" tun.recursive_drops)
    echo "  $name: pings to the server's address answered: ${got:-0}/3, recursive drops: $drops"
    if ((allow)); then
        [[ ${got:-0} == 3 && $drops == 0 ]] || bad "$name: allow-recursive-routing did not send them"
    else
        [[ ${got:-0} == 0 && $drops -ge 3 ]] || bad "$name: not dropped"
        grep -q "Recursive routing detected, drop tun packet to $IT_SERVER_IP" "$IT_DIR/lvpn-$name.log" ||
            bad "$name: no 'Recursive routing detected' line"
    fi
done
[[ $fail == 0 ]] && echo "ok: recursive routing: dropped by default, sent with allow-recursive-routing"

# host names in routes, resolved from the namespace's own hosts file; the
# resolver's only server is on the namespace's loopback, where nftables
# drops the queries: an unknown name fails after 1 s (nothing leaves the
# namespace), later than the PUSH_REPLY, so the routes wait for it
mkdir -p "/etc/netns/$IT_NS_C"
printf '198.19.60.1 two.routes.test\n198.19.60.2 two.routes.test\n198.19.0.1 gw.routes.test\n' \
    >"/etc/netns/$IT_NS_C/hosts"
printf 'multi on\n' >"/etc/netns/$IT_NS_C/host.conf"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$IT_NS_C/resolv.conf"
ip -n "$IT_NS_C" link set lo up
ip netns exec "$IT_NS_C" nft add table ip lvpndns
ip netns exec "$IT_NS_C" nft add chain ip lvpndns in '{ type filter hook input priority 0; }'
ip netns exec "$IT_NS_C" nft add rule ip lvpndns in udp dport 53 drop
it_client_conf wrap=tls-crypt extra="route two.routes.test" \
    extra="route 198.19.61.0 255.255.255.0 gw.routes.test" \
    extra="route nosuch.routes.invalid 255.255.255.255" extra="route 198.19.62.0 255.255.255.0"
names_routes() {
    ip -n "$IT_NS_C" route show | grep -E '^198\.19\.6[0-2]\.' | sed -E 's/ (proto|metric) [^ ]+//g; s/ +$//' | sort
}
spid=$(it_bg_tunnel "$IT_DIR/stock-names.log" openvpn --config "$IT_DIR/client.ovpn") || spid=
stock=$(names_routes)
[[ -n $spid ]] && { it_lvpn_stop "$spid" 15 || true; }
pid=$(up names)
if [[ -n $pid ]]; then
    ours=$(names_routes)
    out=$(ip netns exec "$IT_NS_C" ping -c 2 -i 0.2 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "names: ping: $(grep 'packet loss' <<<"$out")"
    it_lvpn_stop "$pid" 15 || bad "names: no exit on SIGTERM"
    echo "  names: routes ours: $(tr '\n' ';' <<<"$ours")"
    echo "  names: routes stock: $(tr '\n' ';' <<<"$stock")"
    [[ $ours == "$stock" ]] || bad "names: our routes differ from the stock client's"
    grep -q '^198.19.60.1 via 198.19.0.1 dev tun0' <<<"$ours" && grep -q '^198.19.60.2 via 198.19.0.1 dev tun0' <<<"$ours" ||
        bad "names: no route per address of two.routes.test"
    grep -q '^198.19.61.0/24 via 198.19.0.1 dev tun0' <<<"$ours" || bad "names: the gateway name"
    grep -q "ignoring configured route with 'nosuch.routes.invalid'" "$IT_DIR/lvpn-names.log" ||
        bad "names: no warning for the name that does not resolve"
    grep -q "routes wait for 1 host name(s) to resolve" "$IT_DIR/lvpn-names.log" ||
        bad "names: the routes did not wait for the slow name"
    [[ $fail == 0 ]] && echo "ok: host names in routes: the stock client's routes"
fi

# a pushed route with a host name
it_server_stop
it_server_conf wrap=tls-crypt push="route two.routes.test 255.255.255.255"
it_server_start
it_client_conf wrap=tls-crypt
pid=$(up pushed-name)
if [[ -n $pid ]]; then
    r=$(ip -n "$IT_NS_C" route show 198.19.100.0/24)
    it_lvpn_stop "$pid" 15 || bad "pushed-name: no exit on SIGTERM"
    grep -q "ignoring pushed option 'route two.routes.test 255.255.255.255': host names in pushed routes need 'allow-pull-fqdn'" \
        "$IT_DIR/lvpn-pushed-name.log" || bad "pushed-name: no warning naming allow-pull-fqdn"
    [[ -n $r ]] || bad "pushed-name: the other pushed route is missing"
    [[ $fail == 0 ]] && echo "ok: a pushed route with a host name is ignored with the reason, the rest applied"
fi

it_server_stop
[[ ! -e $IT_DIR/failed ]] || fail=1 # a bad in a $(...) subshell
if ((fail)); then echo "FAIL: t_options_routes"; exit 1; fi
echo "PASS: t_options_routes"
