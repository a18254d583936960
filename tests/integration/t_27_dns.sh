#!/usr/bin/env bash
# The 2.7 'dns' option against a real OpenVPN 2.7 server: it pushes
# 'dns server 0 address 198.18.53.54' and 'dns search-domains example.test'
# (plus the harness's 'dhcp-option DNS 198.19.0.1', which 2.7's precedence
# leaves out); we announce IV_PROTO_DNS_OPTION_V2, and both are in the client
# namespace's /etc/resolv.conf during the session and gone after SIGTERM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup t27dns
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }
host_sum() { sha256sum /etc/resolv.conf 2>/dev/null | cut -d' ' -f1 || echo none; }
HOST_BEFORE=$(host_sum)
ORIG=$(cat "/etc/netns/$IT_NS_C/resolv.conf")
ns_conf() { ip netns exec "$IT_NS_C" cat /etc/resolv.conf; }

it_server_conf wrap=tls-crypt extra=disable-dco \
    push="dns server 0 address 198.18.53.54" push="dns search-domains example.test"
it_server27_start
it_client_conf wrap=tls-crypt
LOG=$IT_DIR/lvpn.log
PID=$(it_lvpn_start "$LOG")
if ! it_wait_log "$LOG" 'Initialization Sequence Completed' 20; then
    bad "tunnel did not come up"; tail -n 20 "$LOG"; tail -n 20 "$IT_DIR/server.log"
else
    push=$(grep -o "SENT CONTROL \[client1\]: 'PUSH_REPLY,[^']*'" "$IT_DIR/server.log" | tail -n 1)
    echo "  server pushed: ${push#*: }"
    grep -q 'dns server 0 address 198.18.53.54' <<<"$push" || bad "the server did not push the dns option"
    iv=$(grep -o 'peer info: IV_PROTO=[0-9]*' "$IT_DIR/server.log" | head -n 1 | cut -d= -f2)
    (( (iv & 2048) != 0 )) || bad "IV_PROTO=$iv lacks DNS_OPTION_V2 (2048)"
    it_wait_log "$LOG" 'DNS: applied to tun0 through resolv.conf' 5 || bad "no 'DNS: applied' in the log"
    grep -q 'DNS: server 0: 198.18.53.54; search example.test' "$LOG" ||
        bad "the log does not show the DNS: $(grep 'DNS' "$LOG" | head -n 3)"
    CONF=$(ns_conf)
    echo "  during the session the namespace's resolv.conf is:"; sed 's/^/    /' <<<"$CONF"
    grep -qx 'nameserver 198.18.53.54' <<<"$CONF" || bad "dns server 0 missing"
    grep -qx 'search example.test' <<<"$CONF" || bad "search domain missing"
    grep -q '198.19.0.1' <<<"$CONF" && bad "the dhcp-option DNS was used although 'dns' was pushed"
    grep -q '198.18.255.53' <<<"$CONF" && bad "the original nameserver is still listed"
fi
it_lvpn_stop "$PID" 10 || bad "client did not exit on SIGTERM"
[[ "$(ns_conf)" == "$ORIG" ]] || bad "original not restored after SIGTERM: $(ns_conf)"
[[ "$(host_sum)" == "$HOST_BEFORE" ]] || bad "the host's /etc/resolv.conf changed!"
it_server_stop
[[ $fail == 0 ]] && echo "ok: 2.7 dns option applied during the session, gone after SIGTERM"
exit "$fail"
