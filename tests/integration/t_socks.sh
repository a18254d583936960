#!/usr/bin/env bash
# `layervpn socks` as uid 65534 with no capabilities and no TUN device, in the
# client namespace, against a real OpenVPN 2.6 server. In the server namespace
# an HTTP server on the server's tunnel address serves a 5 MB random file and a
# tiny DNS responder (the pushed `dhcp-option DNS 198.19.0.1`) knows one name.
# Through the proxy, curl fetches the file byte-exact with --socks5, with
# --socks5-hostname (resolved through the tunnel), with HTTP CONNECT, and in
# twenty parallel transfers, and a DNS query through UDP ASSOCIATE; a
# destination outside the pushed routes (an HTTP server and a DNS responder
# on the server's link address 198.18.0.1, reachable from the client
# namespace without the tunnel) is refused with SOCKS reply 2 / HTTP 403 and
# its UDP datagrams dropped, and with --direct-outside reached directly from
# the host (the HTTP server sees the client's link address, not its tunnel
# address), TCP and UDP; --auth requires the right password.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
it_setup socks
it_pki
it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt

HERE=$(cd "$(dirname "$0")" && pwd)
WWW=$IT_DIR/www
mkdir -p "$WWW"
head -c 5000000 /dev/urandom >"$WWW/big.bin"
want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
IT_BG_LOG=$IT_DIR/http.log it_bg_in_server python3 -m http.server 8080 \
    --bind "$IT_TUN_SERVER_IP" --directory "$WWW" >/dev/null
IT_BG_LOG=$IT_DIR/dns.log it_bg_in_server python3 "$HERE/dns_responder.py" \
    "$IT_TUN_SERVER_IP" 53 "files.socks.test=$IT_TUN_SERVER_IP" >/dev/null

# outside the tunnel's routes, reachable directly over the link
IT_BG_LOG=$IT_DIR/http-out.log it_bg_in_server python3 -m http.server 8081 \
    --bind "$IT_SERVER_IP" --directory "$WWW" >/dev/null
IT_BG_LOG=$IT_DIR/dns-out.log it_bg_in_server python3 "$HERE/dns_responder.py" \
    "$IT_SERVER_IP" 53 "outside.socks.test=$IT_SERVER_IP" >/dev/null

n=100 # the HTTP servers listening on the tunnel and link addresses
until ip netns exec "$IT_NS_S" ss -H -ltn 2>/dev/null | grep -q ":8080\b" &&
    ip netns exec "$IT_NS_S" ss -H -ltn 2>/dev/null | grep -q ":8081\b"; do
    ((n-- > 0)) || { echo "FAIL: http.server did not start"; cat "$IT_DIR/http.log"; exit 1; }
    sleep 0.1
done

it_nobody_setup
printf '# local users\nalice:s3cret\n' >"$U/users"
chmod 0644 "$U/users"
fail=0

PORT=1080
SOCKS_LOG=$IT_DIR/socks.log
socks_pid=$(IT_BG_LOG=$SOCKS_LOG it_bg_in_client "${NOBODY[@]}" "$LVPN_BIN" socks \
    --listen 127.0.0.1:$PORT "$U/client.ovpn")
if ! it_wait_log "$SOCKS_LOG" "tunnel up" 30; then
    echo "FAIL: the tunnel did not come up"; cat "$SOCKS_LOG"; exit 1
fi
grep "tunnel up" "$SOCKS_LOG"
if ip -n "$IT_NS_C" link show | grep -q tun; then echo "FAIL: a tun device was created"; fail=1; fi
if ! it_wait_log "$IT_DIR/dns.log" "listening" 10; then echo "FAIL: dns responder"; fail=1; fi

CURL=(ip netns exec "$IT_NS_C" curl -sS --max-time 60)
# fetch NAME OUT CURL-ARGS...: byte-exact 5 MB and its speed
fetch() {
    local name=$1 out=$2 speed got
    shift 2
    if ! speed=$("${CURL[@]}" -o "$out" -w '%{speed_download}' "$@" 2>"$out.err"); then
        echo "FAIL: $name: curl failed: $(cat "$out.err")"; fail=1; return
    fi
    got=$(sha256sum <"$out" | cut -d' ' -f1)
    if [[ $got != "$want" ]]; then
        echo "FAIL: $name: sha256 differs ($(stat -c %s "$out") bytes)"; fail=1; return
    fi
    echo "ok: $name: 5 MB byte-exact, $(awk -v s="$speed" 'BEGIN{printf "%.1f", s/1e6}') MB/s"
}
URL=http://$IT_TUN_SERVER_IP:8080/big.bin
fetch "--socks5" "$IT_DIR/o1" --socks5 127.0.0.1:$PORT "$URL"
fetch "--socks5-hostname" "$IT_DIR/o2" --socks5-hostname 127.0.0.1:$PORT \
    http://files.socks.test:8080/big.bin
fetch "HTTP CONNECT" "$IT_DIR/o3" -p -x http://127.0.0.1:$PORT "$URL"
if ! "${CURL[@]}" -o /dev/null -p -x http://127.0.0.1:$PORT http://files.socks.test:8080/ 2>"$IT_DIR/o4.err"; then
    echo "FAIL: HTTP CONNECT to a name: $(cat "$IT_DIR/o4.err")"; fail=1
else
    echo "ok: HTTP CONNECT to a name resolved through the tunnel"
fi

# twenty parallel transfers
pids=()
for i in $(seq 1 20); do
    "${CURL[@]}" --max-time 120 -o "$IT_DIR/p$i" --socks5 127.0.0.1:$PORT "$URL" 2>"$IT_DIR/p$i.err" &
    pids+=($!)
done
bad=0
for i in $(seq 1 20); do
    wait "${pids[$((i - 1))]}" || { bad=$((bad + 1)); cat "$IT_DIR/p$i.err"; continue; }
    [[ $(sha256sum <"$IT_DIR/p$i" | cut -d' ' -f1) == "$want" ]] || bad=$((bad + 1))
done
rm -f "$IT_DIR"/p[0-9]*
if ((bad)); then echo "FAIL: $bad of 20 parallel transfers failed"; fail=1; else
    echo "ok: 20 parallel transfers, all byte-exact"; fi

# outside the pushed routes (reachable directly, but not through the tunnel):
# SOCKS reply 2 (curl: "connection not allowed by ruleset"), HTTP 403, and
# UDP datagrams dropped
OUT_URL=http://$IT_SERVER_IP:8081/big.bin
rc=0
"${CURL[@]}" -o /dev/null --socks5 127.0.0.1:$PORT "$OUT_URL" 2>"$IT_DIR/out.err" || rc=$?
code=$("${CURL[@]}" -o /dev/null -w '%{http_connect}' -p -x http://127.0.0.1:$PORT "$OUT_URL" \
    2>/dev/null || true)
if ((rc == 0)) || ! grep -q "(2)" "$IT_DIR/out.err" || [[ $code != 403 ]] ||
    ! grep -q "$IT_SERVER_IP:8081 is outside the tunnel's routes" "$SOCKS_LOG"; then
    echo "FAIL: outside destination (curl exit $rc, HTTP $code)"; cat "$IT_DIR/out.err"; fail=1
else
    echo "ok: destination outside the routes refused (reply 2, HTTP 403)"
fi
got=$(ip netns exec "$IT_NS_C" timeout 30 python3 "$HERE/socks_udp.py" $PORT "$IT_SERVER_IP" \
    outside.socks.test 1 2>&1) || true
if [[ $got == "$IT_SERVER_IP" ]] || ! grep -q "UDP datagram dropped: destination outside" "$SOCKS_LOG"; then
    echo "FAIL: UDP ASSOCIATE to an outside address was not dropped: $got"; fail=1
else
    echo "ok: UDP ASSOCIATE to an outside address dropped"
fi
# UDP ASSOCIATE: a DNS query to the server's tunnel address through the relay
got=$(ip netns exec "$IT_NS_C" timeout 30 python3 "$HERE/socks_udp.py" $PORT "$IT_TUN_SERVER_IP" \
    files.socks.test 2>&1) || true
if [[ $got != "$IT_TUN_SERVER_IP" ]]; then
    echo "FAIL: UDP ASSOCIATE: $got"; fail=1
else
    echo "ok: UDP ASSOCIATE: DNS answer through the relay"
fi
# an unknown name: host unreachable, after an NXDOMAIN through the tunnel
rc=0
"${CURL[@]}" -o /dev/null --socks5-hostname 127.0.0.1:$PORT http://nope.socks.test:8080/ \
    2>"$IT_DIR/nx.err" || rc=$?
if ((rc == 0)) || ! grep -q "cannot resolve nope.socks.test" "$SOCKS_LOG"; then
    echo "FAIL: unknown name (curl exit $rc)"; cat "$IT_DIR/nx.err"; fail=1
else
    echo "ok: unknown name refused after NXDOMAIN"
fi
# bad requests: one clear reply and one log line each, the proxy keeps serving
bad() { # BYTES -> the first reply bytes, hex
    ip netns exec "$IT_NS_C" timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(bytes.fromhex(sys.argv[2]))
d = b""
while len(d) < 16:
    c = s.recv(16)
    if not c:
        break
    d += c
print(d[:16].hex())' "$PORT" "$1" 2>&1 || true
}
r1=$(bad "$(printf 'GET / HTTP/1.0\r\n\r\n' | od -An -tx1 | tr -d ' \n')")
r2=$(bad 04010050c613000100)
r3=$(bad 05010005020001010203040050) # CMD 2 (BIND)
if [[ $r1 != "$(printf 'HTTP/1.1 405 Met' | od -An -tx1 | tr -d ' \n')" ]] ||
    [[ $r2 != 005b000000000000 ]] || [[ $r3 != 0500050700010000000000* ]] ||
    ! grep -q "refused: not a SOCKS5 or HTTP CONNECT request" "$SOCKS_LOG" ||
    ! grep -q "refused: SOCKS4 is not supported" "$SOCKS_LOG" ||
    ! grep -q "refused: unsupported command" "$SOCKS_LOG"; then
    echo "FAIL: bad requests: replies '$r1' '$r2' '$r3'"; fail=1
else
    echo "ok: bad requests (GET, SOCKS4, BIND): one reply and one log line each"
fi

# SIGTERM: the proxy stops the client and closes every handle
kill -TERM "$socks_pid"
n=100
while kill -0 "$socks_pid" 2>/dev/null && ((n-- > 0)); do sleep 0.1; done
if kill -0 "$socks_pid" 2>/dev/null || grep -q "internal error" "$SOCKS_LOG"; then
    echo "FAIL: SIGTERM: still running or handles left open"; fail=1
else
    echo "ok: SIGTERM: stopped cleanly"
fi

# --auth: a second proxy requiring alice's password
IT_BG_LOG=$IT_DIR/socks-auth.log it_bg_in_client "${NOBODY[@]}" "$LVPN_BIN" socks \
    --listen 127.0.0.1:1081 --auth "$U/users" "$U/client.ovpn" >/dev/null
if ! it_wait_log "$IT_DIR/socks-auth.log" "tunnel up" 30; then
    echo "FAIL: --auth proxy: no tunnel"; cat "$IT_DIR/socks-auth.log"; fail=1
else
    small=http://$IT_TUN_SERVER_IP:8080/
    if "${CURL[@]}" -o /dev/null --socks5 127.0.0.1:1081 "$small" 2>/dev/null ||
        "${CURL[@]}" -o /dev/null --socks5 127.0.0.1:1081 -U alice:wrong "$small" 2>/dev/null ||
        ! "${CURL[@]}" -o /dev/null --socks5 127.0.0.1:1081 -U alice:s3cret "$small" ||
        ! "${CURL[@]}" -o /dev/null -p -x http://alice:s3cret@127.0.0.1:1081 "$small" ||
        [[ $("${CURL[@]}" -o /dev/null -w '%{http_connect}' -p -x http://127.0.0.1:1081 "$small" \
            2>/dev/null || true) != 407 ]]; then
        echo "FAIL: --auth"; cat "$IT_DIR/socks-auth.log"; fail=1
    else
        echo "ok: --auth: SOCKS5 and HTTP CONNECT need the right password"
    fi
fi

# --direct-outside: the same outside destinations, reached from the host
DLOG=$IT_DIR/socks-direct.log
IT_BG_LOG=$DLOG it_bg_in_client "${NOBODY[@]}" "$LVPN_BIN" socks \
    --listen 127.0.0.1:1082 --direct-outside "$U/client.ovpn" >/dev/null
if ! it_wait_log "$DLOG" "tunnel up" 30; then
    echo "FAIL: --direct-outside proxy: no tunnel"; cat "$DLOG"; fail=1
else
    fetch "--direct-outside, SOCKS5" "$IT_DIR/d1" --socks5 127.0.0.1:1082 "$OUT_URL"
    fetch "--direct-outside, HTTP CONNECT" "$IT_DIR/d2" -p -x http://127.0.0.1:1082 "$OUT_URL"
    fetch "--direct-outside, inside the routes still through the tunnel" "$IT_DIR/d3" \
        --socks5 127.0.0.1:1082 "$URL"
    # the outside server saw the client's link address; the inside one its tunnel address
    if ! grep -q "^$IT_CLIENT_IP .*GET /big.bin" "$IT_DIR/http-out.log" ||
        grep -q "^198\.19\." "$IT_DIR/http-out.log" ||
        [[ $(grep -c "^198\.19\..*GET /big.bin" "$IT_DIR/http.log") -lt 24 ]] ||
        ! grep -q "connecting directly to $IT_SERVER_IP:8081" "$DLOG"; then
        echo "FAIL: --direct-outside: wrong paths"; tail -n 5 "$IT_DIR/http-out.log" "$DLOG"; fail=1
    else
        echo "ok: --direct-outside: outside from $IT_CLIENT_IP directly, inside through the tunnel"
    fi
    got=$(ip netns exec "$IT_NS_C" timeout 30 python3 "$HERE/socks_udp.py" 1082 "$IT_SERVER_IP" \
        outside.socks.test 2>&1) || true
    if [[ $got != "$IT_SERVER_IP" ]]; then
        echo "FAIL: --direct-outside: UDP ASSOCIATE: $got"; fail=1
    else
        echo "ok: --direct-outside: UDP ASSOCIATE answered directly"
    fi
    # a refused direct connect gets reply 5 at once (nothing listens on 8082)
    rc=0
    "${CURL[@]}" -o /dev/null --socks5 127.0.0.1:1082 http://$IT_SERVER_IP:8082/ \
        2>"$IT_DIR/d4.err" || rc=$?
    if ((rc == 0)) || ! grep -q "(5)" "$IT_DIR/d4.err" ||
        ! grep -q "direct connection failed: connection refused" "$DLOG"; then
        echo "FAIL: --direct-outside: refused connect (curl exit $rc)"; cat "$IT_DIR/d4.err"; fail=1
    else
        echo "ok: --direct-outside: a refused connection gets reply 5"
    fi
fi
if grep -q "s3cret" "$SOCKS_LOG" "$IT_DIR/socks-auth.log"; then echo "FAIL: password logged"; fail=1; fi
exit $fail
