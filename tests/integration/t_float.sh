#!/usr/bin/env bash
# float against OpenVPN 2.6 (UDP, tls-crypt). Once the tunnel is up, the
# server "moves": nftables in the server namespace rewrites, statelessly, the
# source of its UDP packets from 198.18.0.1 to 198.18.0.5 (an address it also
# owns) and the destination of packets to .5 back to .1.
# 1. with float: the client accepts the authenticated packets from .5,
#    switches to it ("peer floated") and ping through the tunnel goes on;
# 2. without float, server already moved: everything from .5 is dropped
#    and counted (networkio.drop_foreign), the client never connects.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup float
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }
S=$IT_SERVER_IP
M=198.18.0.5

it_server_conf proto=udp wrap=tls-crypt
it_server_start

ping_ok() { ip netns exec "$IT_NS_C" ping -c 1 -W 1 198.19.0.1 >/dev/null 2>&1; }

# 1. float
it_client_conf proto=udp wrap=tls-crypt extra="float"
log=$IT_DIR/lvpn-float.log
pid=$(it_lvpn_start "$log")
for ((i = 0; i < 60; i++)); do
    grep -q 'Initialization Sequence Completed' "$log" && ping_ok && break
    sleep 0.5
done
((i < 60)) || { bad "float: no tunnel"; tail -n 20 "$log"; exit 1; }
ip -n "$IT_NS_S" addr add "$M/24" dev vs0
ip netns exec "$IT_NS_S" nft -f - <<EOF
table ip it_float {
    chain pre {
        type filter hook prerouting priority -300; policy accept;
        ip daddr $M udp dport $IT_PORT notrack ip daddr set $S
    }
    chain out {
        type filter hook output priority -300; policy accept;
        ip saddr $S udp sport $IT_PORT notrack ip saddr set $M
    }
}
EOF
for ((i = 0; i < 40; i++)); do
    ping_ok && grep -q "peer floated from $S:$IT_PORT to $M:$IT_PORT" "$log" && break
    sleep 0.5
done
if ((i < 40)); then
    echo "ok: float: the client followed the server to $M, ping through the tunnel"
else
    bad "float: no float to $M with a working tunnel within 20 s"; tail -n 20 "$log"
fi
n=0
for ((i = 0; i < 3; i++)); do ping_ok && n=$((n + 1)); done
((n == 3)) || bad "float: $n/3 pings after the move"
it_lvpn_stop "$pid" 10 || bad "float: client did not exit on SIGTERM"
floated=$(it_counter "$log" networkio.floated)
((floated == 1)) || bad "float: networkio.floated=$floated, want 1"

# 2. no float: the moved server's packets are dropped and counted
it_client_conf proto=udp wrap=tls-crypt
log=$IT_DIR/lvpn-nofloat.log
pid=$(it_lvpn_start "$log")
for ((i = 0; i < 40; i++)); do
    grep -q 'link local' "$log" && break
    sleep 0.25
done
sleep 4 # the server answers the reset (and retransmits) from .5
it_lvpn_stop "$pid" 10 || bad "no float: client did not exit on SIGTERM"
foreign=$(it_counter "$log" networkio.drop_foreign)
if ((foreign > 0)) && ! grep -q 'Initialization Sequence Completed' "$log"; then
    echo "ok: no float: $foreign datagrams from $M dropped and counted, no tunnel"
else
    bad "no float: drop_foreign=$foreign"; tail -n 20 "$log"
fi

if ((fail)); then echo "FAIL: t_float"; exit 1; fi
echo "PASS: t_float"
