#!/usr/bin/env bash
# An encrypted private key ('key' without 'askpass FILE'), against OpenVPN
# 2.6: the CLI asks "Enter Private Key Password:" on the terminal (a pty),
# without echo; the right passphrase connects and pings; a wrong one exits 1
# with "private key: wrong passphrase"; with no terminal the client fails at
# once with a clear error. With management-query-passwords the management
# client is asked instead (>PASSWORD:Need 'Private Key' password, answered by
# `password "Private Key" ...`): the right passphrase connects, a wrong one
# gives >PASSWORD:Verification Failed: 'Private Key' and exit. An encrypted
# pkcs12 bundle without askpass is asked for at the same prompt. One server
# start for the six checks.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auth_lib.sh"
it_require_root
it_lvpn_require_bin
it_require_pty
command -v openssl >/dev/null || { echo "SKIP: openssl needed to encrypt the key"; exit 77; }
it_setup key_passphrase
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# the harness's client key, encrypted (PKCS#8, AES-256; test data)
pass=kp-test-4711
openssl pkey -in "$IT_DIR/pki/client.key" -aes256 -passout "pass:$pass" \
    -out "$IT_DIR/client-enc.key"
# client.ovpn with the encrypted key; extra lines after it
enc_conf() {
    it_client_conf proto=udp wrap=tls-crypt "$@"
    sed -i "s|^key .*|key $IT_DIR/client-enc.key|" "$IT_DIR/client.ovpn"
}

it_server_conf proto=udp wrap=tls-crypt
it_server_start

# 1. bare 'askpass' (OpenVPN: prompt), the right passphrase typed at the prompt
enc_conf extra="askpass"
log=$IT_DIR/ok.log
pid=$(auth_client_start "$log" "Enter Private Key Password:" "$pass")
if it_wait_log "$log" 'Initialization Sequence Completed' 30; then
    echo "ok: connected with the passphrase typed at the prompt"
    ip netns exec "$IT_NS_C" ping -c 1 -W 5 198.19.0.1 >/dev/null || bad "no ping through the tunnel"
else
    bad "no tunnel after typing the passphrase"; tail -n 20 "$log"
fi
if grep -q "$pass" "$log"; then bad "the passphrase was echoed or logged"; else echo "ok: the passphrase was not echoed"; fi
it_lvpn_stop "$pid" 10 || bad "client did not stop"
rc=$(auth_runner_status)
[[ $rc == 0 ]] || bad "exit status $rc after SIGTERM"

# 2. no askpass at all, a wrong passphrase: exit 1, one clear error
enc_conf
log=$IT_DIR/wrong.log
pid=$(auth_client_start "$log" "Enter Private Key Password:" not-it)
it_lvpn_wait_exit "$pid" 20 || bad "client still running after a wrong passphrase"
rc=$(auth_runner_status)
if [[ $rc == 1 ]]; then echo "ok: wrong passphrase: exit status 1"; else bad "wrong passphrase: exit status $rc"; fi
if grep -q 'private key: wrong passphrase' "$log"; then
    echo "ok: wrong passphrase: $(grep -m1 'wrong passphrase' "$log" | tr -d '\r')"
else
    bad "no clear error for a wrong passphrase"; tail -n 10 "$log"
fi
n=$(grep -c 'Enter Private Key Password:' "$log" || true)
((n == 1)) || bad "asked $n times"

# 3. no terminal, no askpass: a clear error, exit 1, no hang
enc_conf
auth_notty_check 'no terminal can be asked for its passphrase'

# 4./5. management-query-passwords: the management client is asked
keypass_mgmt() { # ok|wrong PASSPHRASE
    local mode=$1 pid rc=0
    enc_conf extra="management $IT_DIR/mgmt.sock unix" extra="management-query-passwords"
    rm -f "$IT_DIR/mgmt.sock"
    pid=$(it_lvpn_start "$IT_DIR/mgmt-$mode.log")
    timeout -s KILL 90 python3 "$(dirname "$0")/mgmt_keypass.py" "$IT_DIR/mgmt.sock" "$2" \
        "$IT_DIR/mgmt-$mode.transcript" "$mode" >"$IT_DIR/mgmt-$mode.out" 2>&1 || rc=$?
    if ((rc == 0)); then
        echo "ok: $(cat "$IT_DIR/mgmt-$mode.out")"
    else
        bad "management ($mode):"; cat "$IT_DIR/mgmt-$mode.out" "$IT_DIR/mgmt-$mode.transcript"
    fi
    if ! it_lvpn_wait_exit "$pid" 20; then
        bad "management ($mode): client still running"
        it_lvpn_stop "$pid" 5 || true
    fi
    if grep -q -- "$2" "$IT_DIR/mgmt-$mode.log"; then bad "management ($mode): the passphrase was logged"; fi
}
keypass_mgmt ok "$pass"
grep -q 'Initialization Sequence Completed' "$IT_DIR/mgmt-ok.log" || bad "management: no tunnel"
keypass_mgmt wrong not-it
grep -q 'private key: wrong passphrase' "$IT_DIR/mgmt-wrong.log" ||
    { bad "management: no clear error for a wrong passphrase"; tail -n 10 "$IT_DIR/mgmt-wrong.log"; }

# 6. an encrypted pkcs12 bundle (key, certificate, CA), no askpass: the same
#    prompt, and the tunnel
openssl pkcs12 -export -in "$IT_DIR/pki/client.crt" -inkey "$IT_DIR/pki/client.key" \
    -certfile "$IT_DIR/pki/ca.crt" -passout "pass:$pass" -out "$IT_DIR/client-enc.p12"
it_client_conf proto=udp wrap=tls-crypt extra="pkcs12 $IT_DIR/client-enc.p12"
sed -i '/^ca \|^cert \|^key /d' "$IT_DIR/client.ovpn"
log=$IT_DIR/p12.log
pid=$(auth_client_start "$log" "Enter Private Key Password:" "$pass")
if it_wait_log "$log" 'Initialization Sequence Completed' 30; then
    echo "ok: pkcs12: connected with the passphrase typed at the prompt"
else
    bad "pkcs12: no tunnel after typing the passphrase"; tail -n 20 "$log"
fi
grep -q "$pass" "$log" && bad "pkcs12: the passphrase was echoed or logged"
it_lvpn_stop "$pid" 10 || bad "pkcs12: client did not stop"
rc=$(auth_runner_status)
[[ $rc == 0 ]] || bad "pkcs12: exit status $rc after SIGTERM"

it_server_stop
if ((fail)); then echo "FAIL: t_key_passphrase"; exit 1; fi
echo "PASS: t_key_passphrase"
