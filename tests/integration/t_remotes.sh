#!/usr/bin/env bash
# Remote lists against OpenVPN 2.6: server A (UDP 1194, pool 198.19.0.0/24)
# and server B (TCP 1195, pool 198.19.1.0/24), started once.
# 1. four remotes, the first three dead (a closed UDP port, a closed TCP
#    port, an address nobody answers in 198.18.0.0/24), server-poll-timeout
#    2: the client connects to the fourth (A) and pings through the tunnel;
# 2. two <connection> blocks, the first dead (its own server-poll-timeout),
#    the second TCP to B: connects over TCP and pings B;
# 6. (run after 2) two <connection> blocks to A with their own tls-crypt
#    keys, only the second's A's: the first times out, the second connects;
# 3. a host name resolving (/etc/netns/<ns>/hosts) to a dead address and
#    then A's, with lport: the client tries the dead address, then A's,
#    from local port 40001, and pings;
# 4. remote-random-hostname: a random label before the name, none before
#    an IP address;
# 5. persist-remote-ip: a name resolved once is not resolved again when the
#    list comes round to it;
# 7. proto-force: with B (TCP) listed before A (UDP), 'proto-force udp'
#    connects to A without trying B, 'proto-force tcp' to B (the manual's
#    meaning: OpenVPN 2.6.14 compares it with tcp-client and finds no
#    entry), and 'proto-force tcp' over UDP remotes only is one error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup remotes
trap 'rm -rf "/etc/netns/${IT_NS_C:-none}"; it_cleanup' EXIT
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }
S=$IT_SERVER_IP

# Server B: TCP on port 1195, its own pool, tun and log.
it_server_conf proto=tcp wrap=tls-crypt port=1195
sed -e 's/^server 198\.19\.0\.0 /server 198.19.1.0 /' \
    -e "s|^log-append .*|log-append $IT_DIR/server-b.log|" \
    -e "s|^status .*|status $IT_DIR/server-b.status 1|" \
    -e 's/^dev tun$/dev tun1/' \
    "$IT_DIR/server.conf" >"$IT_DIR/server-b.conf"
it_server_conf proto=udp wrap=tls-crypt
it_server_start
b_pid=$(it_bg_in_server openvpn --config "$IT_DIR/server-b.conf")
it_wait_log "$IT_DIR/server-b.log" 'Initialization Sequence Completed' 10 || { bad "server B did not start"; exit 1; }

# connected LABEL LOG PID TUN_IP: tunnel up and ping within 40 s, then stop.
connected() {
    local label=$1 log=$2 pid=$3 ip=$4 i
    for ((i = 0; i < 80; i++)); do
        grep -q 'Initialization Sequence Completed' "$log" &&
            ip netns exec "$IT_NS_C" ping -c 1 -W 1 "$ip" >/dev/null 2>&1 && break
        sleep 0.5
    done
    if ((i < 80)); then
        echo "ok: $label: connected, ping $ip through the tunnel"
    else
        bad "$label: no ping through the tunnel to $ip within 40 s"; tail -n 25 "$log"
    fi
    it_lvpn_stop "$pid" 10 || bad "$label: client did not exit on SIGTERM"
}

# 1. four remotes, three dead
it_client_conf proto=udp wrap=tls-crypt extra="server-poll-timeout 2"
sed -i "s/^remote .*/remote $S 1300 udp\nremote $S 1301 tcp\nremote 198.18.0.77 1194 udp\nremote $S 1194 udp/" "$IT_DIR/client.ovpn"
log=$IT_DIR/lvpn-four.log
pid=$(it_lvpn_start "$log")
connected "four remotes" "$log" "$pid" 198.19.0.1
grep -q "remote: $S:1300" "$log" || bad "four remotes: the closed UDP port was not tried"
grep -qE "TCP connect to $S:1301 failed" "$log" || bad "four remotes: the closed TCP port was not tried"
grep -q "remote: 198.18.0.77:1194" "$log" || bad "four remotes: the silent address was not tried"
grep -q "remote: $S:1194" "$log" || bad "four remotes: not connected to the fourth"

# 2. <connection> blocks: a dead one, then TCP to B
it_client_conf proto=udp wrap=tls-crypt
sed -i '/^remote /d; /^proto /d' "$IT_DIR/client.ovpn"
cat >>"$IT_DIR/client.ovpn" <<EOF
<connection>
remote $S 1302 udp
server-poll-timeout 2
</connection>
<connection>
remote $S 1195
proto tcp
</connection>
EOF
log=$IT_DIR/lvpn-blocks.log
pid=$(it_lvpn_start "$log")
connected "connection blocks" "$log" "$pid" 198.19.1.1
grep -q "UDPv4 link local: .*, remote: $S:1302" "$log" || bad "blocks: the first block was not tried"
grep -q "TCPv4 link local: .*, remote: $S:1195" "$log" || bad "blocks: the second block was not TCP to B"

# 6. per-connection tls-crypt: two blocks to A, no global key; the first
# block's key (ta.key) is not the server's, so A drops its packets and the
# poll timeout moves on; the second block's (tc.key) connects.
it_client_conf proto=udp wrap=none
sed -i '/^remote /d' "$IT_DIR/client.ovpn"
{
    printf '<connection>\nremote %s 1194 udp\nserver-poll-timeout 3\n<tls-crypt>\n' "$S"
    cat "$IT_DIR/pki/ta.key"
    printf '</tls-crypt>\n</connection>\n'
    printf '<connection>\nremote %s 1194 udp\ntls-crypt %s\n</connection>\n' "$S" "$IT_DIR/pki/tc.key"
} >>"$IT_DIR/client.ovpn"
grep -q '^tls-crypt\|^tls-auth' <(sed '/^<connection>/,/^<\/connection>/d' "$IT_DIR/client.ovpn") &&
    bad "per-connection tls-crypt: a global key in the config"
unwrap0=$(grep -c 'tls-crypt unwrapping failed' "$IT_DIR/server.log" || true)
log=$IT_DIR/lvpn-blockkeys.log
pid=$(it_lvpn_start "$log")
connected "per-connection tls-crypt (second block's key)" "$log" "$pid" 198.19.0.1
(($(grep -c "remote: $S:1194" "$log" || true) == 2)) ||
    bad "per-connection tls-crypt: expected two attempts on $S:1194"
(($(grep -c 'tls-crypt unwrapping failed' "$IT_DIR/server.log" || true) > unwrap0)) ||
    bad "per-connection tls-crypt: the server saw no packet with the first block's key"

# 3. one name, a dead address then A's; bound to local port 40001. The dead
# address (.3) shares a longer prefix with ours (.2) than A's (.1): glibc
# sorts it first (RFC 6724 rule 9).
mkdir -p "/etc/netns/$IT_NS_C"
printf '198.18.0.3 vpn.remotes.test\n%s vpn.remotes.test\n' "$S" >"/etc/netns/$IT_NS_C/hosts"
printf 'multi on\n' >"/etc/netns/$IT_NS_C/host.conf"
order=$(ip netns exec "$IT_NS_C" getent ahostsv4 vpn.remotes.test | awk '$2 == "DGRAM" {print $1}' | tr '\n' ' ')
it_client_conf proto=udp wrap=tls-crypt extra="server-poll-timeout 2" extra="lport 40001"
sed -i "s/^remote .*/remote vpn.remotes.test 1194 udp4/; /^nobind/d" "$IT_DIR/client.ovpn"
log=$IT_DIR/lvpn-name.log
pid=$(it_lvpn_start "$log")
connected "host name with two addresses ($order)" "$log" "$pid" 198.19.0.1
grep -q "remote: 198.18.0.3:1194" "$log" || bad "name: the first (dead) address was not tried"
grep -q "link local: 0.0.0.0:40001, remote: $S:1194" "$log" || bad "name: not connected to A's address from port 40001"
tries=$(grep -c 'link local' "$log" || true)
((tries == 2)) || bad "name: expected 2 attempts (one per address), saw $tries"

# 4. remote-random-hostname: the name is looked up with a random 12-hex-digit
# label in front (no such name: the lookup fails at once, the resolver
# being 127.0.0.1 in the namespace); an IP address is used as it is.
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' >"/etc/netns/$IT_NS_C/resolv.conf"
it_client_conf proto=udp wrap=tls-crypt extra="remote-random-hostname"
sed -i "s/^remote .*/remote vpn.remotes.test 1194 udp4\nremote $S 1194 udp/" "$IT_DIR/client.ovpn"
log=$IT_DIR/lvpn-random.log
pid=$(it_lvpn_start "$log")
connected "remote-random-hostname" "$log" "$pid" 198.19.0.1
grep -qE "cannot resolve host '[0-9a-f]{12}\.vpn\.remotes\.test'" "$log" ||
    bad "random hostname: no lookup of a randomized name"

# 5. persist-remote-ip: the name is resolved once. While A drops the
# client's packets, attempt 1 resolves the name to A's address and times
# out, attempt 2 (a silent address) runs; then the name is moved to a dead
# address and A answers again: attempt 3 uses the kept address and connects.
printf '%s vpn.remotes.test\n' "$S" >"/etc/netns/$IT_NS_C/hosts"
ip netns exec "$IT_NS_S" nft -f - <<EOF
table ip it_block {
    chain in {
        type filter hook input priority 0; policy accept;
        ip saddr $IT_CLIENT_IP udp dport $IT_PORT drop
    }
}
EOF
it_client_conf proto=udp wrap=tls-crypt extra="server-poll-timeout 2" extra="persist-remote-ip"
sed -i "s/^remote .*/remote vpn.remotes.test 1194 udp4\nremote 198.18.0.77 1194 udp/" "$IT_DIR/client.ovpn"
log=$IT_DIR/lvpn-persist.log
pid=$(it_lvpn_start "$log")
it_wait_log "$log" "remote: 198.18.0.77:1194" 20 || bad "persist: the second remote was not tried"
printf '198.18.0.3 vpn.remotes.test\n' >"/etc/netns/$IT_NS_C/hosts"
ip netns exec "$IT_NS_S" nft delete table ip it_block
connected "persist-remote-ip" "$log" "$pid" 198.19.0.1
grep -q "remote: 198.18.0.3:1194" "$log" && bad "persist: the name was resolved again"
(($(grep -c "remote: $S:1194" "$log" || true) == 2)) || bad "persist: expected two attempts on $S"

# 7. proto-force
for pf in udp tcp; do
    it_client_conf proto=udp wrap=tls-crypt extra="proto-force $pf"
    sed -i "s/^remote .*/remote $S 1195 tcp\nremote $S 1194 udp/" "$IT_DIR/client.ovpn"
    log=$IT_DIR/lvpn-proto-force-$pf.log
    pid=$(it_lvpn_start "$log")
    if [[ $pf == udp ]]; then
        connected "proto-force udp" "$log" "$pid" 198.19.0.1
        grep -q "remote: $S:1195" "$log" && bad "proto-force udp: the TCP remote was tried"
    else
        connected "proto-force tcp" "$log" "$pid" 198.19.1.1
        grep -q "remote: $S:1194" "$log" && bad "proto-force tcp: the UDP remote was tried"
    fi
    grep -q "proto-force $pf: 1 of 2 remotes left out" "$log" || bad "proto-force $pf: no log line"
done
it_client_conf proto=udp wrap=tls-crypt extra="proto-force tcp"
rc=0
out=$(timeout 10 ip netns exec "$IT_NS_C" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" 2>&1) || rc=$?
if ((rc != 0 && rc != 124)) && grep -q "proto-force tcp: none of the 1 remotes uses TCP" <<<"$out"; then
    echo "ok: proto-force tcp over UDP remotes only: exit $rc, one error"
else
    bad "proto-force tcp over UDP remotes only: exit $rc"; tail -n 5 <<<"$out"
fi

_it_stop_pids 30 "$b_pid"
if ((fail)); then echo "FAIL: t_remotes"; exit 1; fi
echo "PASS: t_remotes"
