#!/usr/bin/env bash
# RESTART,[N] from OpenVPN 2.6: a server with "explicit-exit-notify 2" tells
# its clients, when it stops, to reconnect to their next remote. The client
# has two remotes (ports 1194 and 1195, a second server on another tunnel
# subnet); after server A stops it goes straight to B, without first retrying
# the dead A, and ping through the tunnel reaches B.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup reconnect_next
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# Server B: the same configuration on port 1195, pool 198.19.1.0/24, own log.
it_server_conf proto=udp wrap=tls-crypt port=1195
sed -e 's/^server 198\.19\.0\.0 /server 198.19.1.0 /' \
    -e "s|^log-append .*|log-append $IT_DIR/server-b.log|" \
    -e "s|^status .*|status $IT_DIR/server-b.status 1|" \
    -e 's/^dev tun$/dev tun1/' \
    "$IT_DIR/server.conf" >"$IT_DIR/server-b.conf"
# Server A (the harness's server): explicit-exit-notify 2 = RESTART,[N].
it_server_conf proto=udp wrap=tls-crypt extra="explicit-exit-notify 2"
it_server_start
b_pid=$(it_bg_in_server openvpn --config "$IT_DIR/server-b.conf")
it_wait_log "$IT_DIR/server-b.log" 'Initialization Sequence Completed' 10 || { bad "server B did not start"; exit 1; }

it_client_conf proto=udp wrap=tls-crypt extra="remote $IT_SERVER_IP 1195"
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
it_wait_log "$log" 'Initialization Sequence Completed' 15 || { bad "no tunnel to A"; tail -n 20 "$log"; exit 1; }
grep -q "remote: $IT_SERVER_IP:1194" "$log" || bad "first connection not to A"

it_server_stop # A sends RESTART,[N]
if it_wait_log "$log" 'server sent RESTART: \[N\]' 10; then
    echo "ok: A sent RESTART,[N]"
else
    bad "no RESTART,[N] from A"; tail -n 10 "$log"
fi
for ((i = 0; i < 60; i++)); do
    (($(grep -c 'Initialization Sequence Completed' "$log" || true) >= 2)) &&
        ip netns exec "$IT_NS_C" ping -c 1 -W 1 198.19.1.1 >/dev/null 2>&1 && break
    sleep 0.5
done
if ((i < 60)); then
    echo "ok: reconnected to B, ping 198.19.1.1 through the tunnel"
else
    bad "no tunnel to B within 30 s"; tail -n 20 "$log"
fi
links=$(grep -c 'UDPv4 link local' "$log" || true)
((links == 2)) || bad "expected 2 connection attempts (A, then B), saw $links"
grep -q "remote: $IT_SERVER_IP:1195" "$log" || bad "second connection not to B"

it_lvpn_stop "$pid" 10 || bad "client did not exit on SIGTERM"
_it_stop_pids 30 "$b_pid"
if ((fail)); then echo "FAIL: t_reconnect_next"; exit 1; fi
echo "PASS: t_reconnect_next"
