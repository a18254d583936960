#!/usr/bin/env bash
# socks-proxy against OpenVPN 2.6 through a real dante server (Debian's
# dante-server, our own instance and config) requiring username/password
# (RFC 1929), in the server's namespace on 198.18.0.3:1080. The server's
# namespace drops everything the client sends straight to 198.18.0.1, so
# only the proxy's way works. Dante checks SOCKS users against the system's
# accounts: it runs in a private mount namespace where /etc/passwd and
# /etc/shadow are copies with one extra test user, so the machine's own
# files are never touched.
# 1. TCP server, 'socks-proxy HOST PORT AUTHFILE': SOCKS5 CONNECT, the
#    tunnel comes up and pings;
# 2. UDP server: SOCKS5 UDP ASSOCIATE, every datagram through dante's relay
#    behind the 10-byte SOCKS UDP header; the tunnel comes up and pings;
# 3. a wrong password: one error line, exit status 1 (LVPN_EPROXY_AUTH).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v danted >/dev/null || { echo "SKIP: danted not installed (tools/install-deps.sh)"; exit 77; }
command -v nft >/dev/null || { echo "SKIP: nft not installed (tools/install-deps.sh)"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: unshare not available"; exit 77; }
it_setup proxy_socks
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

PROXY_IP=198.18.0.3
it_proxy_net "$PROXY_IP"

# The test user, in copies of passwd/shadow that only dante sees.
pw=s0cks-pw-$$
cp /etc/passwd "$IT_DIR/passwd"
cp /etc/shadow "$IT_DIR/shadow"
echo "lvpnsocks:x:64999:65534::/nonexistent:/usr/sbin/nologin" >>"$IT_DIR/passwd"
echo "lvpnsocks:$(openssl passwd -6 "$pw"):19000:0:99999:7:::" >>"$IT_DIR/shadow"
chmod 640 "$IT_DIR/shadow"
cat >"$IT_DIR/danted.conf" <<EOF
logoutput: $IT_DIR/danted.log
internal: $PROXY_IP port = 1080
external: $PROXY_IP
socksmethod: username
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
    from: 198.18.0.0/15 to: 0.0.0.0/0
}
socks pass {
    from: 198.18.0.0/15 to: 0.0.0.0/0
    command: connect udpassociate
    log: connect error
}
socks pass {
    from: 0.0.0.0/0 to: 198.18.0.0/15
    command: udpreply
    log: connect error
}
EOF
it_bg_in_server unshare -m sh -c \
    "mount --bind '$IT_DIR/passwd' /etc/passwd && mount --bind '$IT_DIR/shadow' /etc/shadow && exec danted -f '$IT_DIR/danted.conf' -N 1" >/dev/null
for ((i = 0; i < 100; i++)); do
    ip netns exec "$IT_NS_S" ss -H -ltn 2>/dev/null | grep -q "$PROXY_IP:1080" && break
    sleep 0.1
done
ip netns exec "$IT_NS_S" ss -H -ltn | grep -q "$PROXY_IP:1080" || { echo "FAIL: danted did not listen"; cat "$IT_DIR"/bg-*.log "$IT_DIR/danted.log" 2>/dev/null; exit 1; }
printf 'lvpnsocks\n%s\n' "$pw" >"$IT_DIR/socks-auth.txt"

# connect_ping LABEL: start the client, wait for the tunnel, ping, stop.
connect_ping() {
    local label=$1 log=$IT_DIR/lvpn-$1.log pid
    pid=$(it_lvpn_start "$log")
    if it_wait_log "$log" 'Initialization Sequence Completed' 30; then
        echo "ok: $label: tunnel up through the SOCKS proxy"
        if ip netns exec "$IT_NS_C" ping -c 3 -i 0.3 -W 2 "$IT_TUN_SERVER_IP" >/dev/null; then
            echo "ok: $label: 3 pings through the tunnel"
        else
            bad "$label: no ping through the tunnel"
        fi
    else
        bad "$label: no tunnel through the SOCKS proxy"
        tail -n 20 "$log"
    fi
    grep -q 'socks-proxy: the proxy opened the way' "$log" || bad "$label: no proxy line in the client log"
    grep -q "$pw" "$log" && bad "$label: the proxy password is in the client log"
    it_lvpn_stop "$pid" 10 || bad "$label: client did not exit on SIGTERM"
}

# 1. TCP: CONNECT
it_server_conf proto=tcp wrap=tls-crypt
it_server_start
it_client_conf proto=tcp wrap=tls-crypt extra="socks-proxy $PROXY_IP 1080 $IT_DIR/socks-auth.txt"
connect_ping tcp
it_server_stop

# 2. UDP: UDP ASSOCIATE
it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt extra="socks-proxy $PROXY_IP 1080 $IT_DIR/socks-auth.txt"
connect_ping udp
grep -q 'SOCKS proxy wants us to send UDP to 198.18.0.3:' "$IT_DIR/lvpn-udp.log" ||
    bad "udp: no relay address in the client log"
grep -qi 'udpassociate' "$IT_DIR/danted.log" || bad "udp: dante did not log the UDP association"

# 3. wrong password
printf 'lvpnsocks\nwrong-password\n' >"$IT_DIR/socks-bad.txt"
it_client_conf proto=udp wrap=tls-crypt extra="socks-proxy $PROXY_IP 1080 $IT_DIR/socks-bad.txt"
log=$IT_DIR/lvpn-badpw.log
rc=0
timeout -k 5 40 ip netns exec "$IT_NS_C" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" \
    </dev/null >"$log" 2>&1 || rc=$?
case $rc in
1) echo "ok: wrong proxy password: exit status 1" ;;
124 | 137) bad "wrong proxy password: the client kept running" ;;
*) bad "wrong proxy password: exit status $rc, not 1" ;;
esac
n=$(grep -c 'socks-proxy: username/password rejected by the proxy' "$log" || true)
[[ $n == 1 ]] && echo "ok: one error line: $(grep -m1 'socks-proxy: username' "$log")" ||
    { bad "expected one 'username/password rejected' line, got $n"; tail -n 10 "$log"; }
grep -q 'LVPN_EPROXY_AUTH' "$log" || bad "exit reason is not LVPN_EPROXY_AUTH"

((fail == 0)) && echo "PASS"
exit "$fail"
