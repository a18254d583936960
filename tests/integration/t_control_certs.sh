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
    timeout -s KILL 5 ip netns exec "$IT_NS_C" env LVPN_CACHE_DIR="$IT_DIR/cache" \
        "$LVPN_BIN" connect "$IT_DIR/client.ovpn" \
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

# The server's chain kept between starts (LVPN_CACHE_DIR): written after a
# passed check, checked ahead by the next start (the CA's signature then
# found verified), rewritten when the server's certificate changes or the
# file is damaged, and never a reason to accept another server.
cache=$IT_DIR/cache
( # a second certificate of the same CA for the server
    cd "$IT_DIR/pki" && umask 077 &&
        printf '%s\n' basicConstraints=CA:FALSE \
            keyUsage=critical,digitalSignature,keyAgreement \
            extendedKeyUsage=serverAuth subjectAltName=DNS:vpn-server >server2.ext &&
        _it_pki_leaf server2 vpn-server ca ec server2.ext
) >"$IT_DIR/server2.log" 2>&1 || { echo "FAIL: cannot make server2"; cat "$IT_DIR/server2.log"; exit 1; }
# cached_start NAME: one start with the cache and a trace, until the tunnel
cached_start() {
    local pid
    rm -f "$IT_DIR/trace-$1.jsonl"
    if ! pid=$(it_bg_tunnel "$IT_DIR/lvpn-$1.log" env LVPN_CACHE_DIR="$cache" \
        "$LVPN_BIN" connect --trace "$IT_DIR/trace-$1.jsonl" "$IT_DIR/client.ovpn"); then
        echo "FAIL: $1: no tunnel"; fail=1; return 1
    fi
    it_lvpn_stop "$pid" 10 || true
}
# trace_has NAME OPERATION FIELD VALUE
trace_has() {
    python3 - "$IT_DIR/trace-$1.jsonl" "$2" "$3" "$4" <<'PY'
import json, sys
path, op, field, want = sys.argv[1:]
got = [str(r.get(field)) for r in map(json.loads, open(path)) if r.get("operation") == op]
sys.exit(0 if got == [want] else print("%s %s: %s, want [%s]" % (op, field, got, want)) or 1)
PY
}
# cache_holds CERT: the one file in the cache is the chain the server sends:
# CERT's DER, then the CA's (OpenSSL sends the chain it builds from its CA)
cache_holds() {
    local files=("$cache"/peer-chain-*)
    if ((${#files[@]} != 1)) || [[ ! -f ${files[0]} ]]; then
        echo "FAIL: cache: want one file, have: ${files[*]}"; fail=1; return 1
    fi
    if ! { openssl x509 -in "$IT_DIR/pki/$1.crt" -outform DER &&
        openssl x509 -in "$IT_DIR/pki/ca.crt" -outform DER; } | cmp -s - "${files[0]}"; then
        echo "FAIL: cache: ${files[0]} is not $1's certificate"; fail=1; return 1
    fi
    [[ $(stat -c %a "${files[0]}") == 600 && $(stat -c %a "$cache") == 700 ]] ||
        { echo "FAIL: cache: modes $(stat -c %a "$cache" "${files[0]}")"; fail=1; return 1; }
}
check() { # NAME what-it-says OPERATION FIELD VALUE...
    local name=$1 what=$2
    shift 2
    while (($# >= 3)); do
        trace_has "$name" "$1" "$2" "$3" || { echo "FAIL: $name: $what"; fail=1; return 1; }
        shift 3
    done
    echo "ok: $name: $what"
}
it_server_conf cert=server wrap=tls-crypt
it_server_start
it_client_conf wrap=tls-crypt
if cached_start first; then
    check first "no cache yet; the chain is kept" chain_ahead result none \
        chain_check ahead 0 chain_keep result written && cache_holds server || true
fi
if cached_start second; then
    check second "checked ahead; the CA's signature found verified; not rewritten" \
        chain_ahead result verified chain_check ahead 1 &&
        { ! grep -q chain_keep "$IT_DIR/trace-second.jsonl" ||
            { echo "FAIL: second: the cache was rewritten"; fail=1; }; } || true
fi
it_server_stop
it_server_conf cert=server2 wrap=tls-crypt
it_server_start
if cached_start changed; then
    check changed "the server's new certificate verified in full and kept" \
        chain_ahead result verified chain_check ahead 0 chain_keep result written &&
        cache_holds server2 || true
fi
f=("$cache"/peer-chain-*)
head -c 300 /dev/urandom >"${f[0]}"
if cached_start damaged; then
    check damaged "a damaged cache file changes nothing; it is rewritten" \
        chain_ahead result damaged chain_check ahead 0 chain_keep result written &&
        cache_holds server2 || true
fi
it_server_stop
# another CA's server, with a valid chain of ours checked ahead: refused
expect_refusal cached-other-ca other-server 'not signed by a trusted CA'
cache_holds server2 || true
# no cache asked for: nothing written
it_server_conf cert=server wrap=tls-crypt
it_server_start
rm -rf "$cache"
pid=$(it_bg_tunnel "$IT_DIR/lvpn-nocache.log" env LVPN_CACHE_DIR= "$LVPN_BIN" connect \
    "$IT_DIR/client.ovpn") && it_lvpn_stop "$pid" 10 || { echo "FAIL: nocache: no tunnel"; fail=1; }
if [[ -e $cache ]]; then echo "FAIL: nocache: $cache was made"; fail=1; else echo "ok: nocache: nothing kept"; fi
# a directory others can write to (as /tmp): not used, said once
mkdir -m 1777 "$cache"
if pid=$(it_bg_tunnel "$IT_DIR/lvpn-opencache.log" env LVPN_CACHE_DIR="$cache" "$LVPN_BIN" \
    connect "$IT_DIR/client.ovpn"); then
    it_lvpn_stop "$pid" 10 || true
    if [[ -n $(ls -A "$cache") ]] ||
        [[ $(grep -c "cache directory $cache is not used" "$IT_DIR/lvpn-opencache.log") != 1 ]]; then
        echo "FAIL: opencache: used, or not said once"; ls -la "$cache"; fail=1
    else
        echo "ok: opencache: a directory others can write to is not used"
    fi
else
    echo "FAIL: opencache: no tunnel"; fail=1
fi
it_server_stop

if ((fail)); then echo "FAIL: t_control_certs"; exit 1; fi
echo "PASS: t_control_certs"
