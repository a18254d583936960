#!/usr/bin/env bash
# The demo: on a fresh Debian 12 machine, as root:
#   bash tools/demo.sh
# installs what is needed, builds layervpn, starts a local OpenVPN 2.6 server
# in a network namespace (198.18.0.1, tunnel 198.19.0.0/24), connects
# layervpn to it from a second namespace, pings and fetches a web page
# through the tunnel, shows what happened, and cleans everything up.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "demo: run as root (it creates network namespaces and a tun device)" >&2
    exit 1
fi
bash tools/install-deps.sh
if [ ! -x cmd/layervpn ]; then
    ./autogen.sh >/dev/null
    ./configure --quiet
    make -j"$(nproc)" >/dev/null
fi
. tests/integration/lib.sh
it_setup demo
it_pki
it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt
echo
echo "== client config ($IT_DIR/client.ovpn)"
sed 's/^/   /' "$IT_DIR/client.ovpn"
echo
echo "== layervpn connect client.ovpn"
log=$IT_DIR/layervpn.log
pid=$(it_lvpn_start "$log")
if ! it_wait_log "$log" 'Initialization Sequence Completed' 15; then
    echo "demo: the tunnel did not come up:"; cat "$log"; exit 1
fi
sed 's/^/   /' "$log"
echo
echo "== inside the client namespace"
ip -n "$IT_NS_C" -brief addr show dev tun0 | sed 's/^/   /'
ip -n "$IT_NS_C" route | grep 198.19 | sed 's/^/   /'
echo
echo "== ping 198.19.0.1 (the server's tunnel address)"
ip netns exec "$IT_NS_C" ping -c 5 -i 0.2 198.19.0.1 | sed 's/^/   /'
echo
echo "== fetch a page served on 198.19.0.1 through the tunnel"
mkdir -p "$IT_DIR/www"
echo "hello through layervpn at $(date -u +%FT%TZ)" >"$IT_DIR/www/index.txt"
IT_BG_LOG=$IT_DIR/http.log it_bg_in_server python3 -m http.server 8080 \
    --bind 198.19.0.1 --directory "$IT_DIR/www" >/dev/null
sleep 0.5
ip netns exec "$IT_NS_C" curl -sS --max-time 5 http://198.19.0.1:8080/index.txt | sed 's/^/   /'
echo
echo "== stopping (SIGTERM): per-layer counters"
it_lvpn_stop "$pid" 10
grep -E '^counter (networkio|packetmuxer|reliabletransport|datachannel|tun)\.(rx_packets|tx_packets|rx_control|rx_data|retransmits|pings_rx|drop_auth)' "$log" | sed 's/^/   /' || true
tail -n 1 "$log" | sed 's/^/   /'
if ip -n "$IT_NS_C" link show tun0 >/dev/null 2>&1; then
    echo "demo: tun0 still exists after stop" >&2; exit 1
fi
echo
echo "demo: OK (tun0 and its routes are gone; the namespaces go next)"
