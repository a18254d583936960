#!/usr/bin/env bash
# No secret in the logs at the highest verbosity. A session with tls-crypt,
# a client key, auth-user-pass and a server-generated auth-token
# (auth-gen-token), with traffic and renegotiations, runs at --verb 11;
# then the client's whole output is searched for the test secrets: every
# line of the tls-crypt key's hex (whole and in halves, also as spaced
# bytes), every base64 line of the client's private key, the password, and
# the auth-token (OpenVPN's tokens start with "SESS_ID_"). layervpn writes
# no status file, trace or key log yet; when it does, add them here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup secrets
it_pki
fail=0
PASS_WORD="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# The server checks the password with a script (via-file: user, password).
{
    echo '#!/bin/sh'
    echo "[ \"\$(sed -n 1p \"\$1\")\" = secret-user ] && [ \"\$(sed -n 2p \"\$1\")\" = $PASS_WORD ]"
} >"$IT_DIR/verify.sh"
chmod 0755 "$IT_DIR/verify.sh"
printf 'secret-user\n%s\n' "$PASS_WORD" >"$IT_DIR/up.txt"
chmod 0600 "$IT_DIR/up.txt"

it_server_conf proto=udp wrap=tls-crypt reneg=6 \
    extra="script-security 2" extra="tmp-dir $IT_DIR" \
    extra="auth-user-pass-verify $IT_DIR/verify.sh via-file" \
    extra="auth-gen-token 3600 120"
it_server_start
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass $IT_DIR/up.txt"
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log" --verb 11)
if ! it_wait_log "$log" 'Initialization Sequence Completed' 30; then
    echo "FAIL: no tunnel"
    tail -n 30 "$log"
    exit 1
fi
ip netns exec "$IT_NS_C" ping -c 60 -i 0.25 -W 1 198.19.0.1 >/dev/null 2>&1 || true
n=$(grep -c 'renegotiation complete' "$log" || true)
it_lvpn_stop "$pid" 10 || { echo "FAIL: client did not stop"; fail=1; }
echo "  $(wc -l <"$log") log lines at verb 11, $n renegotiations"
((n >= 1)) || { echo "FAIL: no renegotiation happened"; fail=1; }

# Patterns: key hex lines and halves, spaced bytes, key base64 lines.
pat=$IT_DIR/secret-patterns
{
    sed -n '/BEGIN OpenVPN Static key/,/END OpenVPN Static key/p' "$IT_DIR/pki/tc.key" |
        grep -E '^[0-9a-f]{32}$' | while read -r h; do
        echo "$h"
        echo "${h:0:16}"
        echo "${h:16:16}"
        sed -E 's/(..)/\1 /g; s/ $//' <<<"${h:0:16}"
    done
    grep -vE '^-----|^$' "$IT_DIR/pki/client.key" | awk 'length($0) >= 16'
    echo "$PASS_WORD"
    echo "SESS_ID_"
} >"$pat"
if hits=$(grep -n -i -F -f "$pat" "$log"); then
    echo "FAIL: secrets in the client log:"
    head -n 10 <<<"$hits"
    fail=1
fi
echo "  searched for $(wc -l <"$pat") secret patterns"
if ((fail)); then echo "FAIL: t_secrets"; exit 1; fi
echo "PASS: t_secrets"
