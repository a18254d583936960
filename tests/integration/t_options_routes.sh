#!/usr/bin/env bash
# Route options of the config against a real OpenVPN 2.6 server (which
# pushes "route 198.19.100.0 255.255.255.0"):
#  - route-metric 77: the pushed route gets metric 77; route-ipv6 from the
#    config is installed on an IPv6 tunnel;
#  - pull-filter ignore "route 198.19.100": the pushed route is not
#    installed, the tunnel still pings.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup optroutes
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }

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

it_server_stop
if ((fail)); then echo "FAIL: t_options_routes"; exit 1; fi
echo "PASS: t_options_routes"
