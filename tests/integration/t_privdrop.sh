#!/usr/bin/env bash
# user nobody / group nogroup against a real OpenVPN 2.6 server ("keepalive 2
# 10", IPv6 pushed): after "Initialization Sequence Completed" the client runs
# as 65534/65534 with only CAP_NET_ADMIN, pings; the server is killed and
# restarted and the same process (still unprivileged) keeps the tun (the
# device cannot be reopened without root) and pings; after SIGTERM tun0 and
# every route it added are gone, the server's host route on the veth too.
# A user that does not exist is refused at start.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
if ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then
    echo "SKIP: needs a 'nobody' user and a 'nogroup' group"
    exit 77
fi
it_setup privdrop
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

ping_ok() { ip netns exec "$IT_NS_C" ping -c 1 -W 1 198.19.0.1 >/dev/null 2>&1; }
ids() { awk '/^Uid:|^Gid:/ { printf "%s %s %s %s ", $2, $3, $4, $5 }' "/proc/$1/status"; }
# Every route of the client namespace but the veth's own (kernel) ones.
vpn_routes() {
    { ip -n "$IT_NS_C" route show; ip -n "$IT_NS_C" -6 route show; } |
        grep -v -e 'proto kernel' -e '^default' || true
}

# An unknown user: one clear error, before any connection.
it_client_conf wrap=tls-crypt extra="user no-such-user-lvpn"
out=$(ip netns exec "$IT_NS_C" timeout 20 "$LVPN_BIN" connect "$IT_DIR/client.ovpn" 2>&1) && bad "unknown user accepted"
grep -q "user 'no-such-user-lvpn': no such name" <<<"$out" || bad "unknown user: '$out'"
[[ $fail == 0 ]] && echo "ok: unknown user refused: $(grep -o "user 'no-such-user-lvpn'.*" <<<"$out" | head -n 1)"

# a default route (through the server's address, which forwards nothing:
# only the tunnel is pinged), for the server's host route
ip -n "$IT_NS_C" route add default via "$IT_SERVER_IP" dev vc0
it_server_conf wrap=tls-crypt ipv6=1 extra="keepalive 2 10"
it_server_start
# redirect-gateway def1: the host route to the server sits on the veth and
# does not vanish with tun0, so its removal proves CAP_NET_ADMIN was kept.
it_client_conf wrap=tls-crypt extra="user nobody" extra="group nogroup" \
    extra="redirect-gateway def1"
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
it_wait_log "$log" 'Initialization Sequence Completed' 20 || { bad "no tunnel"; tail -n 20 "$log"; exit 1; }
it_wait_log "$log" 'Capabilities retained: CAP_NET_ADMIN' 2 || bad "no 'Capabilities retained' line"
id0=$(ids "$pid")
[[ $id0 == "65534 65534 65534 65534 65534 65534 65534 65534 " ]] || bad "uid/gid after connect: $id0"
capeff=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
[[ $capeff == 0000000000001000 ]] || bad "effective capabilities $capeff, want CAP_NET_ADMIN only"
ping_ok || bad "no ping through the tunnel"
[[ $fail == 0 ]] && echo "ok: uid/gid 65534 (CapEff $capeff), ping through the tunnel"

# The server vanishes and comes back: the unprivileged client reconnects.
kill -KILL "$IT_SERVER_PID"
wait "$IT_SERVER_PID" 2>/dev/null || true
IT_SERVER_PID=""
it_server_start
ok=0
for ((i = 0; i < 80; i++)); do
    if (($(grep -c 'Initialization Sequence Completed' "$log") >= 2)) && ping_ok; then
        ok=1
        break
    fi
    sleep 0.5
done
if ((ok)); then
    echo "ok: reconnected after a server restart, uid $(ids "$pid" | cut -d' ' -f1), ping works"
else
    bad "no ping after the server restart"
    grep -v "^counter" "$log" | tail -n 25
fi
grep -E 'cleanup|RTM_|Operation not permitted' "$log" && bad "netlink errors in the log"

routes=$(vpn_routes)
grep -q '198.19.100.0/24 .*dev tun0' <<<"$routes" || bad "pushed route missing after the reconnect: $routes"
grep -q '^198.18.0.1 via 198.18.0.1 dev vc0' <<<"$routes" || bad "no host route to the server: $routes"
it_lvpn_stop "$pid" 15 || bad "no exit on SIGTERM"
if ip -n "$IT_NS_C" link show tun0 >/dev/null 2>&1; then bad "tun0 still there after SIGTERM"; fi
left=$(vpn_routes)
[[ -z $left ]] || bad "routes left after SIGTERM: $left"
grep -E 'cleanup:' "$log" && bad "cleanup errors at exit"
[[ $fail == 0 ]] && echo "ok: after SIGTERM tun0 and its routes are gone"
it_server_stop
if ((fail)); then echo "FAIL: t_privdrop"; exit 1; fi
echo "PASS: t_privdrop"
