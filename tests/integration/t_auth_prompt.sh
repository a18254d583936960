#!/usr/bin/env bash
# auth-user-pass without a file, against OpenVPN 2.6 with an
# auth-user-pass-verify script: the user types username and password at the
# terminal prompt (a pty); the password is not echoed; the right password
# connects; a wrong one exits 1 with the server's AUTH_FAILED; auth-retry
# interact asks again; with no terminal the client fails at once, clearly;
# static-challenge's response reaches the server's script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auth_lib.sh"
it_require_root
it_lvpn_require_bin
it_require_pty
it_setup auth_prompt
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

auth_server_conf
it_server_start

# 1. right username and password, typed at the prompt
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass"
log=$IT_DIR/ok.log
pid=$(auth_client_start "$log" "Username:" alice "Password:" secret)
if it_wait_log "$log" 'Initialization Sequence Completed' 30; then
    echo "ok: connected with the credentials typed at the prompt"
    ip netns exec "$IT_NS_C" ping -c 1 -W 5 198.19.0.1 >/dev/null || bad "no ping through the tunnel"
else
    bad "no tunnel after typing the credentials"; tail -n 20 "$log"
fi
if grep -q 'user=alice pass=secret' "$IT_DIR/verify.log"; then
    echo "ok: the verify script got alice's password"
else
    bad "the verify script did not see alice/secret"
fi
if grep -q 'secret' "$log"; then bad "the password was echoed or logged"; else echo "ok: the password was not echoed"; fi
it_lvpn_stop "$pid" 10 || bad "client did not stop"
rc=$(auth_runner_status)
[[ $rc == 0 ]] || bad "exit status $rc after SIGTERM"

# 2. wrong password, auth-retry none (the default): exit 1 with AUTH_FAILED
log=$IT_DIR/wrong.log
pid=$(auth_client_start "$log" "Username:" alice "Password:" nope)
it_lvpn_wait_exit "$pid" 40 || bad "client still running after a wrong password"
rc=$(auth_runner_status)
if [[ $rc == 1 ]]; then echo "ok: wrong password: exit status 1"; else bad "wrong password: exit status $rc"; fi
if grep -q 'AUTH_FAILED' "$log"; then
    echo "ok: the server's message is shown: $(grep -m1 'AUTH_FAILED' "$log" | tr -d '\r')"
else
    bad "no AUTH_FAILED shown"; tail -n 10 "$log"
fi

# 3. auth-retry interact: a wrong password, asked again, then the right one
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass" extra="auth-retry interact"
log=$IT_DIR/interact.log
pid=$(auth_client_start "$log" "Username:" alice "Password:" nope "Username:" alice "Password:" secret)
if it_wait_log "$log" 'Initialization Sequence Completed' 60; then
    n=$(grep -c 'Enter Auth Password:' "$log" || true)
    if ((n == 2)); then echo "ok: auth-retry interact asked again and connected"; else bad "asked $n times"; fi
else
    bad "auth-retry interact: no tunnel"; tail -n 20 "$log"
fi
it_lvpn_stop "$pid" 10 || bad "client did not stop"
auth_runner_status >/dev/null

# 4. no terminal: a clear error, exit 1, no hang
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass"
auth_notty_check 'no terminal can be asked'

# 5. static-challenge: the response typed at "CHALLENGE:" reaches the server's
#    script as SCRV1:base64(password):base64(response)
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass" extra='static-challenge "Enter PIN" 1'
log=$IT_DIR/scrv1.log
pid=$(auth_client_start "$log" "Username:" alice "Password:" secret "CHALLENGE: Enter PIN" 4242)
if it_wait_log "$log" 'Initialization Sequence Completed' 30; then
    echo "ok: static-challenge: connected"
else
    bad "static-challenge: no tunnel"; tail -n 20 "$log"
fi
if grep -q 'scrv1 password=secret response=4242' "$IT_DIR/verify.log"; then
    echo "ok: static-challenge: the server's script got: $(grep -m1 'pass=SCRV1' "$IT_DIR/verify.log")"
else
    bad "static-challenge: the response did not reach the script"; cat "$IT_DIR/verify.log"
fi
grep -q '4242' "$log" && echo "ok: static-challenge with ECHO 1: the response was shown" ||
    bad "static-challenge ECHO 1: the response was not echoed"
it_lvpn_stop "$pid" 10 || bad "client did not stop"
auth_runner_status >/dev/null

# 7. dynamic challenge: the server answers carol's password with
#    AUTH_FAILED,CRV1:...; auth-retry interact shows the challenge, and the
#    reconnection sends CRV1::sid42::777
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass" extra="auth-retry interact"
log=$IT_DIR/crv1.log
pid=$(auth_client_start "$log" "Username:" carol "Password:" secret "CHALLENGE: Your OTP?" 777)
if it_wait_log "$log" 'Initialization Sequence Completed' 60; then
    echo "ok: dynamic challenge: connected"
else
    bad "dynamic challenge: no tunnel"; tail -n 20 "$log"
fi
if grep -q 'user=carol pass=CRV1::sid42::777' "$IT_DIR/verify.log"; then
    echo "ok: dynamic challenge: the server's script got: $(grep -m1 'pass=CRV1' "$IT_DIR/verify.log")"
else
    bad "dynamic challenge: no CRV1 answer at the script"; cat "$IT_DIR/verify.log"
fi
it_lvpn_stop "$pid" 10 || bad "client did not stop"
auth_runner_status >/dev/null

# 6. SIGTERM while the password prompt waits: the client exits at once
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass"
log=$IT_DIR/sigterm.log
pid=$(auth_client_start "$log" "Username:" alice)
it_wait_log "$log" 'Enter Auth Password:' 20 || bad "no password prompt"
kill -TERM "$pid"
rc=$(auth_runner_status)
if [[ $rc == 1 ]] && grep -q 'interrupted while asking' "$log"; then
    echo "ok: SIGTERM at the prompt: exit status 1, $(grep -m1 'interrupted' "$log" | tr -d '\r')"
else
    bad "SIGTERM at the prompt: exit status $rc"; tail -n 5 "$log"
fi

it_server_stop
if ((fail)); then echo "FAIL: t_auth_prompt"; exit 1; fi
echo "PASS: t_auth_prompt"
