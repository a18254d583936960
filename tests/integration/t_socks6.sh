#!/usr/bin/env bash
# `layervpn socks` with IPv6 in the tunnel (server-ipv6 2001:2:0:8::/64, so
# the server pushes ifconfig-ipv6), as uid 65534 with no capabilities,
# against a real OpenVPN 2.6 server: through the proxy, curl fetches a file
# from an HTTP server on the server's IPv6 tunnel address with SOCKS5 address
# type 4, with a name that only has an AAAA record (resolved through the
# tunnel: A first, then AAAA), and with HTTP CONNECT to [v6]:port; a DNS
# query goes through UDP ASSOCIATE to the server's IPv6 address; an IPv6
# address outside the tunnel's routes gets reply 2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
it_setup socks6
it_pki
it_server_conf proto=udp ipv6=1
it_server_start
it_client_conf proto=udp

HERE=$(cd "$(dirname "$0")" && pwd)
V6=2001:2:0:8::1
n=100 # the server's tunnel address, past duplicate address detection
until ip -n "$IT_NS_S" -6 addr show 2>/dev/null | grep "inet6 $V6/" | grep -qv tentative; do
    ((n-- > 0)) || { echo "FAIL: no $V6 on the server"; ip -n "$IT_NS_S" -6 addr; exit 1; }
    sleep 0.1
done
WWW=$IT_DIR/www
mkdir -p "$WWW"
head -c 1000000 /dev/urandom >"$WWW/f.bin"
want=$(sha256sum <"$WWW/f.bin" | cut -d' ' -f1)
IT_BG_LOG=$IT_DIR/http.log it_bg_in_server python3 -m http.server 8080 \
    --bind "$V6" --directory "$WWW" >/dev/null
IT_BG_LOG=$IT_DIR/dns.log it_bg_in_server python3 "$HERE/dns_responder.py" \
    "$IT_TUN_SERVER_IP" 53 "v6.socks.test=$V6" >/dev/null
IT_BG_LOG=$IT_DIR/dns6.log it_bg_in_server python3 "$HERE/dns_responder.py" \
    "$V6" 53 "v4.socks.test=$IT_TUN_SERVER_IP" >/dev/null
n=100
until ip netns exec "$IT_NS_S" ss -H -ltn 2>/dev/null | grep -q ":8080\b"; do
    ((n-- > 0)) || { echo "FAIL: http.server did not start"; cat "$IT_DIR/http.log"; exit 1; }
    sleep 0.1
done

it_nobody_setup
LOG=$IT_DIR/socks.log
IT_BG_LOG=$LOG it_bg_in_client "${NOBODY[@]}" "$LVPN_BIN" socks \
    --listen 127.0.0.1:1080 "$U/client.ovpn" >/dev/null
it_wait_log "$LOG" "tunnel up" 30 || { echo "FAIL: the tunnel did not come up"; cat "$LOG"; exit 1; }
grep "tunnel up" "$LOG"
fail=0
if ! grep -q "tunnel up, address 198.19.0.[0-9]* and 2001:2:0:8::" "$LOG"; then
    echo "FAIL: no IPv6 address on lwIP's netif"; fail=1
fi

CURL=(ip netns exec "$IT_NS_C" curl -sS --max-time 30)
fetch() { # NAME OUT CURL-ARGS...
    local name=$1 out=$2
    shift 2
    if ! "${CURL[@]}" -o "$out" "$@" 2>"$out.err"; then
        echo "FAIL: $name: $(cat "$out.err")"; fail=1; return
    fi
    if [[ $(sha256sum <"$out" | cut -d' ' -f1) != "$want" ]]; then
        echo "FAIL: $name: content differs"; fail=1; return
    fi
    echo "ok: $name: byte-exact"
}
fetch "SOCKS5 address type 4" "$IT_DIR/o1" --socks5 127.0.0.1:1080 "http://[$V6]:8080/f.bin"
fetch "SOCKS5 name with only an AAAA record" "$IT_DIR/o2" \
    --socks5-hostname 127.0.0.1:1080 http://v6.socks.test:8080/f.bin
fetch "HTTP CONNECT [v6]:port" "$IT_DIR/o3" -p -x http://127.0.0.1:1080 "http://[$V6]:8080/f.bin"
# the server saw the client's IPv6 tunnel address
if ! grep -q "^2001:2:0:8::.*GET /f.bin" "$IT_DIR/http.log"; then
    echo "FAIL: the HTTP server saw no IPv6 tunnel client"; tail -n 3 "$IT_DIR/http.log"; fail=1
fi
got=$(ip netns exec "$IT_NS_C" timeout 30 python3 "$HERE/socks_udp.py" 1080 "$V6" \
    v4.socks.test 2>&1) || true
if [[ $got != "$IT_TUN_SERVER_IP" ]]; then
    echo "FAIL: UDP ASSOCIATE to $V6: $got"; fail=1
else
    echo "ok: UDP ASSOCIATE: DNS answer from [$V6]:53 through the relay"
fi
rc=0
"${CURL[@]}" -o /dev/null --socks5 127.0.0.1:1080 "http://[2001:2:0:ff::1]:8080/" \
    2>"$IT_DIR/out.err" || rc=$?
if ((rc == 0)) || ! grep -q "(2)" "$IT_DIR/out.err" ||
    ! grep -q "\[2001:2:0:ff::1\]:8080 is outside the tunnel's routes" "$LOG"; then
    echo "FAIL: IPv6 outside the routes (curl exit $rc)"; cat "$IT_DIR/out.err"; fail=1
else
    echo "ok: IPv6 outside the routes refused (reply 2)"
fi
exit $fail
