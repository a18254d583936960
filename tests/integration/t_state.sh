#!/usr/bin/env bash
# lvpn_client_state() through real connections to OpenVPN 2.6, watched once per
# loop turn by examples/state_watch (host inside I/O, no TUN): OpenVPN's state
# names in OpenVPN's order over UDP and over TCP, ASSIGN_IP while the
# PUSH_REPLY is applied, EXITING when stopped, RECONNECTING while the server
# refuses the connection. RESOLVE only for a host name: as OpenVPN's
# openvpn_getaddrinfo, an IP address is parsed without a RESOLVE state.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
WATCH=$(dirname "$LVPN_BIN")/../examples/state_watch
[[ -x $WATCH ]] || { echo "SKIP: examples/state_watch not built"; exit 77; }
it_setup state
it_pki
fail=0

# check_order LOG STATE... — the "state:" lines of LOG are these states, in this
# order. A state marked with a trailing "?" may be missing: GET_CONFIG can last
# less than one loop turn when the server sends PUSH_REPLY right behind its
# key-method-2 message (request-push), and a watcher that samples once per
# turn then never sees it. Every other state spans at least one round trip.
check_order() {
    local log=$1 got w i=0 ok=1
    shift
    mapfile -t got < <(awk '$1 == "state:" { print $2 }' "$log")
    for w in "$@"; do
        if ((i < ${#got[@]})) && [[ ${got[i]} == "${w%\?}" ]]; then
            i=$((i + 1))
        elif [[ $w != *\? ]]; then
            ok=0
        fi
    done
    ((i == ${#got[@]})) || ok=0
    if ((ok)); then
        echo "ok: $(basename "$log" .log): ${got[*]}"
    else
        echo "FAIL: $(basename "$log"): states '${got[*]}', want '$*'"; cat "$log"; fail=1
    fi
}

run_watch() { # name args...
    local name=$1 rc=0
    shift
    timeout -s KILL 60 ip netns exec "$IT_NS_C" "$WATCH" "$@" >"$IT_DIR/$name.log" 2>&1 </dev/null || rc=$?
    return $rc
}

for proto in udp tcp; do
    it_server_conf proto=$proto wrap=tls-crypt
    it_server_start
    it_client_conf proto=$proto wrap=tls-crypt
    rc=0
    run_watch "$proto" "$IT_DIR/client.ovpn" 1 || rc=$?
    if ((rc != 0)); then echo "FAIL: $proto: exit $rc"; cat "$IT_DIR/$proto.log"; fail=1; fi
    if [[ $proto == udp ]]; then
        check_order "$IT_DIR/$proto.log" INITIAL WAIT AUTH GET_CONFIG? ASSIGN_IP CONNECTED EXITING
    else
        check_order "$IT_DIR/$proto.log" INITIAL TCP_CONNECT WAIT AUTH GET_CONFIG? ASSIGN_IP \
            CONNECTED EXITING
    fi
    grep -q '^state: ASSIGN_IP (PUSH_REPLY received)$' "$IT_DIR/$proto.log" ||
        { echo "FAIL: $proto: ASSIGN_IP not seen in the PUSH_REPLY event"; fail=1; }
    it_server_stop
done

# No server listening (TCP): refused, RECONNECTING between attempts, then
# EXITING once connect-retry-max's attempts (2 per remote, as OpenVPN counts
# them) failed. The remote is a host name (the client namespace's own
# /etc/hosts, which `ip netns exec` mounts), so each attempt resolves it.
printf '127.0.0.1 localhost\n%s vpn-server.test\n' "$IT_SERVER_IP" >"/etc/netns/$IT_NS_C/hosts"
it_client_conf proto=tcp wrap=tls-crypt extra="connect-retry-max 2" extra="connect-retry 1"
sed -i "s/^remote $IT_SERVER_IP /remote vpn-server.test /" "$IT_DIR/client.ovpn"
grep -q '^remote vpn-server.test ' "$IT_DIR/client.ovpn" || { echo "FAIL: no remote line to rename"; exit 1; }
rc=0
run_watch refused "$IT_DIR/client.ovpn" 1 || rc=$?
if ((rc != 1)); then echo "FAIL: refused: exit $rc (want 1)"; cat "$IT_DIR/refused.log"; fail=1; fi
check_order "$IT_DIR/refused.log" INITIAL RESOLVE TCP_CONNECT RECONNECTING RESOLVE TCP_CONNECT \
    EXITING
grep -q 'connection failed: .*ECONNREFUSED' "$IT_DIR/refused.log" ||
    { echo "FAIL: refused: no ECONNREFUSED"; cat "$IT_DIR/refused.log"; fail=1; }

if ((fail)); then echo "FAIL: t_state"; exit 1; fi
echo "PASS: t_state"
