#!/usr/bin/env bash
# Certificate checks against a real server: each bad server certificate is
# refused with its own clear message, exit status != 0, within 5 s, and is
# not retried.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup certs
it_pki

fail=0
expect_refusal() { # name server-cert pattern [client extra...]
    local name=$1 cert=$2 pattern=$3 log t0 t1 rc=0
    shift 3
    it_server_conf cert="$cert" wrap=tls-crypt
    it_server_start
    it_client_conf wrap=tls-crypt "$@"
    log=$IT_DIR/lvpn-$name.log
    t0=$(date +%s%N)
    timeout -s KILL 5 ip netns exec "$IT_NS_C" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" \
        >"$log" 2>&1 </dev/null || rc=$?
    t1=$(date +%s%N)
    if ((rc == 0 || rc == 137)); then
        echo "FAIL: $name: exit status $rc (want non-zero within 5 s)"; tail -n 20 "$log"; fail=1
    elif ! grep -q 'exiting:' "$log"; then
        echo "FAIL: $name: no exit line"; tail -n 20 "$log"; fail=1
    elif ! grep -q -- "$pattern" "$log"; then
        echo "FAIL: $name: expected '$pattern'"; tail -n 20 "$log"; fail=1
    elif grep -q 'Initialization Sequence Completed\|PUSH_REPLY after' "$log"; then
        echo "FAIL: $name: connection went through"; fail=1
    else
        echo "ok: $name: refused in $(((t1 - t0) / 1000000)) ms: $(grep -m1 -o "$pattern.*" "$log")"
    fi
    it_server_stop
}

expect_refusal other-ca other-server 'not signed by a trusted CA'
expect_refusal no-server-eku noeku-server 'extendedKeyUsage is not serverAuth'
expect_refusal x509-name-mismatch server 'verify-x509-name does not match' \
    extra="verify-x509-name other-server name"

if ((fail)); then echo "FAIL: t_control_certs"; exit 1; fi
echo "PASS: t_control_certs"
