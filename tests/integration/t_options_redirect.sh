#!/usr/bin/env bash
# redirect-gateway flags and block-ipv6 against a real OpenVPN 2.6 server
# (IPv6 pushed): for each set of flags the stock OpenVPN client runs first
# and layervpn must leave the same routes (proto, metric and preference
# aside): def1 ipv6 bypass-dhcp bypass-dns, local, autolocal, !ipv4,
# def1 ipv6 to a server reached over IPv6 (its /128 host route), and def1
# block-local with the default gateway on a LAN of its own (the LAN's two
# halves into the tunnel, the gateway kept on the LAN: checked with `ip
# route get` and a ping to the gateway), and redirect-private block-local
# there (the same routes but the default ones); routes around the tunnel
# (net_gateway, pushed and configured, and remote_host). With
# block-ipv6, an IPv6 ping into the redirected space is answered by the
# client itself with ICMPv6 "no route" from the server's tunnel address;
# the same when the server pushes redirect-gateway ipv6 and block-ipv6.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v openvpn >/dev/null || { echo "SKIP: no openvpn"; exit 77; }
it_setup options_redirect
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# A default gateway on the client side (IPv4 and IPv6) that is not the
# server, as on a real machine.
ip -n "$IT_NS_S" addr add 2001:2:0:1::1/64 dev vs0 nodad
ip -n "$IT_NS_C" addr add 2001:2:0:1::2/64 dev vc0 nodad
ip -n "$IT_NS_C" route add default via 198.18.0.254 dev vc0
ip -n "$IT_NS_C" -6 route add default via 2001:2:0:1::fe dev vc0

routes() { # the client namespace's routes but the kernel's, normalised
    { ip -n "$IT_NS_C" route show; ip -n "$IT_NS_C" -6 route show; } |
        grep -v -e 'proto kernel' -e '^default' |
        sed -E 's/ (proto|metric|pref) [^ ]+//g; s/ +$//' | sort
}

run() { # NAME CMD... -> the routes while CMD's tunnel is up, in $IT_DIR/NAME.routes
    local name=$1 log=$IT_DIR/$1.log pid
    shift
    pid=$(it_bg_tunnel "$log" "$@") || { bad "$name: no tunnel"; return 1; }
    routes >"$IT_DIR/$name.routes"
    if [[ $name == lvpn-* && $name == *ipv6* ]]; then block6_check; fi
    if [[ $name == lvpn-*block-local ]]; then lan_check; fi
    if [[ $name == lvpn-* && -n ${RUN_CHECK:-} ]]; then $RUN_CHECK; fi
    it_lvpn_stop "$pid" 15 || bad "$name: no exit on SIGTERM"
    [[ -z $(routes) ]] || bad "$name: routes left: $(routes | tr '\n' ';')"
}

block6_check() { # block-ipv6: answered locally, nothing reaches the server
    local out
    out=$(ip netns exec "$IT_NS_C" ping -6 -c 1 -W 2 2001:2:ffff::1 2>&1 || true)
    grep -q 'From 2001:2:0:8::1 .*Destination unreachable: No route' <<<"$out" ||
        bad "block-ipv6: ping answer: $(head -n 2 <<<"$out" | tr '\n' ' ')"
}

compare() { # FLAGS... (the last may be "v6" for an IPv6 remote)
    local tag=${*// /_} v6=0 rg=$*
    if [[ ${!#} == v6 ]]; then v6=1; rg=${rg% v6}; fi
    tag=${tag//!/not}
    it_client_conf wrap=tls-crypt extra="${RG_OPT:-redirect-gateway} $rg" extra="block-ipv6"
    [[ -z ${CMP_EXTRA:-} ]] || printf '%s\n' "$CMP_EXTRA" >>"$IT_DIR/client.ovpn"
    if ((v6)); then
        sed -i "s/^remote .*/remote 2001:2:0:1::1 $IT_PORT/; s/^proto udp$/proto udp6/" "$IT_DIR/client.ovpn"
    fi
    run "stock-$tag" openvpn --config "$IT_DIR/client.ovpn" || return 0
    run "lvpn-$tag" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" || return 0
    if diff -u "$IT_DIR/stock-$tag.routes" "$IT_DIR/lvpn-$tag.routes" >"$IT_DIR/$tag.diff"; then
        echo "ok: ${RG_OPT:-redirect-gateway} $*: $(wc -l <"$IT_DIR/lvpn-$tag.routes") routes as OpenVPN's: $(tr '\n' ';' <"$IT_DIR/lvpn-$tag.routes")"
    else
        bad "${RG_OPT:-redirect-gateway} $*: routes differ from OpenVPN's"
        cat "$IT_DIR/$tag.diff"
    fi
}

it_server_conf wrap=tls-crypt ipv6=1
sed -i 's/^local .*/local ::/; s/^proto udp$/proto udp6/' "$IT_DIR/server.conf"
it_server_start

compare def1 ipv6 bypass-dhcp bypass-dns
compare def1 local
compare def1 autolocal
compare ipv6 '!ipv4'
compare def1 ipv6 v6

# block-local: the default gateway on its own LAN (198.19.77.0/24, which
# the server does not sit on, else OpenVPN blocks nothing). The server's
# namespace answers for the gateway, so the host route to the server via
# it works. While the tunnel is up the LAN goes into the tunnel, but for
# the gateway itself.
ip -n "$IT_NS_S" addr add 198.19.77.254/24 dev vs0
ip -n "$IT_NS_C" addr add 198.19.77.2/24 dev vc0
ip -n "$IT_NS_C" route replace default via 198.19.77.254 dev vc0
lan_check() { # while lvpn-def1_block-local is up
    local via
    via=$(ip -n "$IT_NS_C" route get 198.19.77.3 2>&1 || true)
    [[ $via == *"dev tun0"* ]] || bad "block-local: a LAN host is not routed into the tunnel: $via"
    via=$(ip -n "$IT_NS_C" route get 198.19.77.254 2>&1 || true)
    [[ $via == *"dev vc0"* ]] || bad "block-local: the LAN gateway is not on the LAN: $via"
    ip netns exec "$IT_NS_C" ping -c 1 -W 2 198.19.77.254 >/dev/null ||
        bad "block-local: the LAN gateway does not answer"
}
compare def1 block-local
# redirect-private: the same but the default route (the server's host
# route and the LAN's halves stay)
RG_OPT=redirect-private compare block-local
ip -n "$IT_NS_C" route replace default via 198.18.0.254 dev vc0
ip -n "$IT_NS_C" addr del 198.19.77.2/24 dev vc0
ip -n "$IT_NS_S" addr del 198.19.77.254/24 dev vs0

# Routes around the tunnel: one pushed via net_gateway, and configured
# ones via net_gateway (with a metric) and to remote_host (the server's
# host route again, which def1 adds too): the same routes as OpenVPN's,
# and the kernel sends those networks to the default gateway on vc0.
it_server_stop
it_server_conf wrap=tls-crypt ipv6=1 push="route 198.19.88.0 255.255.255.0 net_gateway"
sed -i 's/^local .*/local ::/; s/^proto udp$/proto udp6/' "$IT_DIR/server.conf"
it_server_start
netgw_check() {
    local via n
    for n in 198.19.88.1 198.19.89.1 "$IT_SERVER_IP"; do
        via=$(ip -n "$IT_NS_C" route get "$n" 2>&1 || true)
        [[ $via == *"via 198.18.0.254 dev vc0"* ]] || bad "net_gateway: $n is not routed to the default gateway: $via"
    done
    via=$(ip -n "$IT_NS_C" route get 198.19.90.1 2>&1 || true)
    [[ $via == *"dev tun0"* ]] || bad "net_gateway: the rest does not go into the tunnel: $via"
}
RUN_CHECK=netgw_check CMP_EXTRA=$'route remote_host 255.255.255.255 net_gateway\nroute 198.19.89.0 255.255.255.0 net_gateway 5' \
    compare def1

# Pushed by the server instead: redirect-gateway ipv6 and block-ipv6.
it_server_stop
it_server_conf wrap=tls-crypt ipv6=1 push="redirect-gateway ipv6" push="block-ipv6"
sed -i 's/^local .*/local ::/; s/^proto udp$/proto udp6/' "$IT_DIR/server.conf"
it_server_start
it_client_conf wrap=tls-crypt
if run lvpn-pushed_ipv6 "$LVPN_BIN" connect "$IT_DIR/client.ovpn"; then
    grep -q '^2000::/4 dev tun0' "$IT_DIR/lvpn-pushed_ipv6.routes" || bad "pushed redirect-gateway ipv6: no 2000::/4"
    [[ $fail == 0 ]] && echo "ok: pushed redirect-gateway ipv6 and block-ipv6 applied"
fi

it_server_stop
if ((fail)); then echo "FAIL: t_options_redirect"; exit 1; fi
echo "PASS: t_options_redirect"
