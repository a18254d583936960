#!/usr/bin/env bash
# persist-tun against a real OpenVPN 2.6 server ("keepalive 2 10"): the
# server is killed and restarted; while the client reconnects, tun0 and its
# routes stay (same ifindex), and no packet for the tunnel's networks leaves
# the veth, though the client namespace has a default route through it.
# Counted by nftables on the veth's output while pinging through the outage.
# A second restart with another route pushed reconfigures the same device.
# Then the same ping without the tunnel leaks, which shows the counter works.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v nft >/dev/null || { echo "SKIP: no nft"; exit 77; }
it_setup persist_tun
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

ping_ok() { ip netns exec "$IT_NS_C" ping -c 1 -W 1 198.19.100.1 >/dev/null 2>&1; }
ifindex() { ip -n "$IT_NS_C" -o link show tun0 2>/dev/null | cut -d: -f1; }
leaked() { ip netns exec "$IT_NS_C" nft list counter inet lvpnt leak | awk '/packets/ { print $2 }'; }
via_tun() { ip netns exec "$IT_NS_C" nft list counter inet lvpnt tun | awk '/packets/ { print $2 }'; }

# Without the tunnel's routes, 198.19.0.0/16 would leave through the veth.
ip -n "$IT_NS_C" route add default via "$IT_SERVER_IP" dev vc0
ip netns exec "$IT_NS_C" nft -f - <<'EOF'
table inet lvpnt {
    counter leak {}
    counter tun {}
    chain out {
        type filter hook output priority 0; policy accept;
        oifname "vc0" ip daddr 198.19.0.0/16 counter name leak
        oifname "tun0" ip daddr 198.19.100.0/24 counter name tun
    }
}
EOF

# 198.19.100.1 answers on the server side, so pings work through the tunnel.
ip -n "$IT_NS_S" addr add 198.19.100.1/32 dev lo
it_server_conf wrap=tls-crypt extra="keepalive 2 10"
it_server_start
# scripts: up once, route-pre-down and down only when the device goes for
# good (as OpenVPN's do_close_tun), not on the restarts
# shellcheck disable=SC2016 # the script expands its own variable
printf '%s\n' '#!/bin/sh' 'echo "$script_type" >>"$0.out"' >"$IT_DIR/script.sh"
chmod +x "$IT_DIR/script.sh"
it_client_conf wrap=tls-crypt "extra=persist-tun" "extra=script-security 2" \
    "extra=up $IT_DIR/script.sh" "extra=route-pre-down $IT_DIR/script.sh" \
    "extra=down $IT_DIR/script.sh"
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
it_wait_log "$log" 'Initialization Sequence Completed' 20 || { bad "no tunnel"; grep -v '^counter' "$log" | tail -n 20; exit 1; }
ping_ok || bad "no ping through the tunnel"
idx0=$(ifindex)

# The outage: server killed, the client pings all along; restarted once the
# client has given up the old session (ping-restart).
kill -KILL "$IT_SERVER_PID"
wait "$IT_SERVER_PID" 2>/dev/null || true
IT_SERVER_PID=""
ip netns exec "$IT_NS_C" ping -i 0.2 -W 1 -w 40 198.19.100.1 >"$IT_DIR/ping.out" 2>&1 &
pinger=$!
it_wait_log "$log" 'persist-tun: keeping tun0' 20 || bad "the client did not restart"
during=$(ip -n "$IT_NS_C" route show 198.19.100.0/24)
grep -q 'dev tun0' <<<"$during" || bad "route gone while reconnecting: '$during'"
it_server_start
ok=0
for ((i = 0; i < 60; i++)); do
    if (($(grep -c 'Initialization Sequence Completed' "$log") >= 2)) && ping_ok; then
        ok=1
        break
    fi
    sleep 0.5
done
kill "$pinger" 2>/dev/null || true
wait "$pinger" 2>/dev/null || true
((ok)) || { bad "no ping after the server restart"; grep -v '^counter' "$log" | tail -n 25; }
grep -q 'Preserving previous TUN/TAP instance: tun0' "$log" || bad "tun not preserved"
idx1=$(ifindex)
[[ -n $idx0 && $idx0 == "$idx1" ]] || bad "ifindex changed: $idx0 -> $idx1"
l=$(leaked) t=$(via_tun)
((l == 0)) || bad "$l packets for the tunnel's networks left the veth while reconnecting"
((t > 10)) || bad "only $t packets went to tun0 (outage included)"
[[ $fail == 0 ]] && echo "ok: persist-tun: ifindex $idx0 kept, $t packets into tun0 in all, $l on the veth while reconnecting"

# The server comes back with another route pushed (stopped with SIGTERM: it
# sends RESTART): the same device is reconfigured, the new route is there.
ip netns exec "$IT_NS_C" ping -i 0.2 -W 1 -w 40 198.19.100.1 >"$IT_DIR/ping2.out" 2>&1 &
pinger=$!
it_server_stop
it_server_conf wrap=tls-crypt extra="keepalive 2 10" push="route 198.19.101.0 255.255.255.0"
it_server_start
for ((i = 0; i < 60; i++)); do
    (($(grep -c 'Initialization Sequence Completed' "$log") >= 3)) && break
    sleep 0.5
done
kill "$pinger" 2>/dev/null || true
wait "$pinger" 2>/dev/null || true
grep -q 'pulled options changed on restart: reconfiguring tun0' "$log" || bad "no reconfiguration on changed options"
l=$(leaked)
((l == 0)) || bad "$l packets left the veth around the reconfiguration"
r=$(ip -n "$IT_NS_C" route show 198.19.101.0/24)
grep -q 'dev tun0' <<<"$r" || bad "new pushed route missing: '$r'"
idx2=$(ifindex)
[[ $idx2 == "$idx0" ]] || bad "ifindex changed on reconfiguration: $idx0 -> $idx2"
ping_ok || bad "no ping after the reconfiguration"
[[ $fail == 0 ]] && echo "ok: changed PUSH_REPLY: tun0 (ifindex $idx2) reconfigured, new route '$r'"

it_lvpn_stop "$pid" 15 || bad "no exit on SIGTERM"
[[ -z $(ip -n "$IT_NS_C" route show 198.19.101.0/24) ]] || bad "new route left after SIGTERM"
if ip -n "$IT_NS_C" link show tun0 >/dev/null 2>&1; then bad "tun0 still there after SIGTERM"; fi
[[ -z $(ip -n "$IT_NS_C" route show 198.19.100.0/24) ]] || bad "route left after SIGTERM"
scripts=$(tr '\n' ' ' <"$IT_DIR/script.sh.out" 2>/dev/null || true)
[[ $scripts == "up route-pre-down down " ]] ||
    bad "scripts ran as '$scripts', want 'up route-pre-down down ' (once each, the last two at SIGTERM)"

# Control: without the tunnel the same ping leaves through the veth.
ip netns exec "$IT_NS_C" ping -c 2 -i 0.2 -W 1 198.19.100.1 >/dev/null 2>&1 || true
l=$(leaked)
((l > 0)) || bad "the leak counter sees nothing without the tunnel (rule broken?)"
[[ $fail == 0 ]] && echo "ok: without the tunnel the counter sees $l packets on the veth"
it_server_stop
if ((fail)); then echo "FAIL: t_persist_tun"; exit 1; fi
echo "PASS: t_persist_tun"
