#!/usr/bin/env bash
# Embedding: a program using only the public API of liblayers runs a client
# on its own loop with host-provided inside I/O (no TUN device): ICMP echo
# requests it injects reach the server through the tunnel and the replies
# come back through its callback; the loop closes clean.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
EMBED=${LVPN_EMBED_BIN:-$(dirname "$LVPN_BIN")/../tests/embed_ping}
[[ -x $EMBED ]] || { echo "SKIP: tests/embed_ping not built"; exit 77; }
it_setup embed
it_pki
it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt
rc=0
timeout -s KILL 30 ip netns exec "$IT_NS_C" "$EMBED" "$IT_DIR/client.ovpn" 198.19.0.1 5 \
    >"$IT_DIR/embed.log" 2>&1 </dev/null || rc=$?
cat "$IT_DIR/embed.log" | grep -v '^\[' || true
if ip -n "$IT_NS_C" link show | grep -q tun; then echo "FAIL: a tun device was created"; rc=1; fi
if ((rc != 0)); then tail -n 20 "$IT_DIR/embed.log"; echo "FAIL: t_embed"; exit 1; fi
echo "PASS: t_embed"
