#!/usr/bin/env bash
# An encrypted private key ('key' without 'askpass FILE'), against OpenVPN
# 2.6: the CLI asks "Enter Private Key Password:" on the terminal (a pty),
# without echo; the right passphrase connects and pings; a wrong one exits 1
# with "private key: wrong passphrase"; with no terminal the client fails at
# once with a clear error. One server start for the three checks.
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

it_server_stop
if ((fail)); then echo "FAIL: t_key_passphrase"; exit 1; fi
echo "PASS: t_key_passphrase"
