#!/usr/bin/env bash
# http-proxy against OpenVPN 2.6 over TCP, through a real tinyproxy (Debian's
# package, our own instance and config) with BasicAuth, in the server's
# namespace on 198.18.0.3:8080. The server's namespace drops everything the
# client sends straight to 198.18.0.1, so only the proxy's way works.
# 1. right credentials (inline <http-proxy-user-pass>, which OpenVPN uses
#    instead of the "stdin" prompt, a custom header and
#    User-Agent): the tunnel comes up and pings; tinyproxy logged the
#    CONNECT and its connection to the server;
# 2. 'http-proxy HOST PORT auto' with inline credentials: the first attempt
#    goes without auth, the proxy's 401/407 asks for Basic, the next one
#    sends it and the tunnel comes up;
# 3. a wrong password (auth file): one error line naming the proxy's
#    answer ("401 Unauthorized" from tinyproxy), and the client exits by itself
#    with status 1 (LVPN_EPROXY_AUTH), without retrying.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v tinyproxy >/dev/null || { echo "SKIP: tinyproxy not installed (tools/install-deps.sh)"; exit 77; }
command -v nft >/dev/null || { echo "SKIP: nft not installed (tools/install-deps.sh)"; exit 77; }
it_setup proxy_http
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

PROXY_IP=198.18.0.3
it_proxy_net "$PROXY_IP"

it_tinyproxy_start "$PROXY_IP" lvpnuser s3cret-proxy-pw ||
    { echo "FAIL: tinyproxy did not listen"; cat "$IT_DIR"/bg-*.log; exit 1; }

it_server_conf proto=tcp wrap=tls-crypt
it_server_start

# 1. right credentials
it_client_conf proto=tcp wrap=tls-crypt extra="http-proxy $PROXY_IP 8080 stdin basic"
cat >>"$IT_DIR/client.ovpn" <<'EOF'
<http-proxy-user-pass>
lvpnuser
s3cret-proxy-pw
</http-proxy-user-pass>
http-proxy-option AGENT layervpn-test/1.0
http-proxy-option CUSTOM-HEADER X-Test-Header yes
EOF
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
if it_wait_log "$log" 'Initialization Sequence Completed' 30; then
    echo "ok: tunnel up through the HTTP proxy"
    if ip netns exec "$IT_NS_C" ping -c 3 -i 0.3 -W 2 "$IT_TUN_SERVER_IP" >/dev/null; then
        echo "ok: 3 pings through the tunnel"
    else
        bad "no ping through the tunnel"
    fi
else
    bad "no tunnel through the HTTP proxy"
    tail -n 20 "$log"
fi
grep -q 'http-proxy: the proxy opened the way' "$log" || bad "no proxy line in the client log"
grep -q "CONNECT.*$IT_SERVER_IP:$IT_PORT" "$IT_DIR/tinyproxy.log" || bad "tinyproxy did not log the CONNECT"
grep -q 'Established connection to host "'"$IT_SERVER_IP"'"' "$IT_DIR/tinyproxy.log" ||
    bad "tinyproxy did not connect to the server"
grep -q 's3cret-proxy-pw' "$log" && bad "the proxy password is in the client log"
it_lvpn_stop "$pid" 10 || bad "client did not exit on SIGTERM"

# 2. 'auto': no auth first; the proxy's answer asks for Basic, and the
#    next attempt sends it (as OpenVPN)
it_client_conf proto=tcp wrap=tls-crypt extra="http-proxy $PROXY_IP 8080 auto"
cat >>"$IT_DIR/client.ovpn" <<'EOF'
<http-proxy-user-pass>
lvpnuser
s3cret-proxy-pw
</http-proxy-user-pass>
EOF
log3=$IT_DIR/lvpn-auto.log
pid=$(it_lvpn_start "$log3")
if it_wait_log "$log3" 'Initialization Sequence Completed' 30; then
    echo "ok: auto: tunnel up after: $(grep -m1 'asks for Basic' "$log3" | cut -d' ' -f3-)"
    grep -q 'asks for Basic authentication: connecting again with it' "$log3" ||
        bad "auto: no line about learning Basic"
    ip netns exec "$IT_NS_C" ping -c 2 -i 0.3 -W 2 "$IT_TUN_SERVER_IP" >/dev/null ||
        bad "auto: no ping through the tunnel"
else
    bad "auto: no tunnel"
    tail -n 20 "$log3"
fi
it_lvpn_stop "$pid" 10 || bad "auto: client did not exit on SIGTERM"

# 3. wrong password, from an auth file: a final error
printf 'lvpnuser\nwrong-password\n' >"$IT_DIR/proxy-auth.txt"
it_client_conf proto=tcp wrap=tls-crypt extra="http-proxy $PROXY_IP 8080 $IT_DIR/proxy-auth.txt basic"
log2=$IT_DIR/lvpn-badpw.log
rc=0
timeout -k 5 40 ip netns exec "$IT_NS_C" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" \
    </dev/null >"$log2" 2>&1 || rc=$?
case $rc in
1) echo "ok: wrong proxy password: exit status 1" ;;
124 | 137) bad "wrong proxy password: the client kept running" ;;
*) bad "wrong proxy password: exit status $rc, not 1" ;;
esac
# tinyproxy answers a CONNECT with bad credentials "401 Unauthorized" (other
# proxies 407); the line names the proxy's answer, once: no retry.
n=$(grep -cE 'http-proxy: 40[17] [A-Za-z ]+ \(the proxy refused the username or password\)' "$log2" || true)
[[ $n == 1 ]] && echo "ok: one error line: $(grep -m1 'http-proxy: 40' "$log2")" ||
    bad "expected one 'http-proxy: 401/407 ...' line, got $n"
grep -q 'LVPN_EPROXY_AUTH' "$log2" || bad "exit reason is not LVPN_EPROXY_AUTH"
grep -q 'wrong-password' "$log2" && bad "the proxy password is in the client log"

((fail == 0)) && echo "PASS"
exit "$fail"
