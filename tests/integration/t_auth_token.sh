#!/usr/bin/env bash
# auth-gen-token on an OpenVPN 2.6 server: the client keeps the pushed
# auth-token (never logging it), sends it in renegotiations, and after a forced reconnect (the server
# restarts with SIGUSR1 and sends RESTART) authenticates with the token instead of the password:
# the server accepts the token without running the verify script again. A rejected token is dropped and the password used again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auth_lib.sh"
it_require_root
it_lvpn_require_bin
it_setup auth_token
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# The token's HMAC key from a file, so that it survives the server's restart.
openvpn --genkey auth-token "$IT_DIR/token.key" >/dev/null
auth_server_conf "auth-gen-token" "auth-gen-token-secret $IT_DIR/token.key"
it_server_start
printf 'alice\nsecret\n' >"$IT_DIR/up.txt"
it_client_conf proto=udp wrap=tls-crypt extra="auth-user-pass $IT_DIR/up.txt" extra="verb 5" extra="reneg-sec 10"
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
it_wait_log "$log" 'Initialization Sequence Completed' 30 || { bad "no tunnel"; tail -n 20 "$log"; exit 1; }
n1=$(grep -c 'pass=secret' "$IT_DIR/verify.log" || true)
((n1 == 1)) && echo "ok: first connection: the password went to the verify script" || bad "verify script ran $n1 times"
# the value is masked with '*' (as OpenVPN's sanitize_control_message does)
grep -qE 'auth-token \*+([,'"'"']|$)' "$log" && echo "ok: the pushed auth-token is redacted in the log" ||
    bad "no redacted auth-token in the client log"
grep -q 'SESS_ID' "$log" && bad "the auth-token was logged"

# A renegotiation (reneg-sec 10) authenticates with the token too.
if it_wait_log "$log" 'renegotiation complete' 40; then
    n=$(grep -c 'pass=' "$IT_DIR/verify.log" || true)
    t=$(grep -c 'auth-token authentication succeeded' "$IT_DIR/server.log" || true)
    if ((n == 1 && t >= 1)); then
        echo "ok: renegotiation: the server accepted the token, the verify script did not run"
    else
        bad "renegotiation: verify script ran $n times, token accepted $t times"
    fi
    # The server renews the token in a PUSH_REPLY of its own, on its own
    # timer: when it did, the client must have taken it.
    if auth_wait_count "$log" "'PUSH_REPLY,auth-token \\*+" 1 20; then
        if auth_wait_count "$log" 'auth-token received' 2 10; then
            echo "ok: the token the server renewed after the renegotiation was taken"
        else
            bad "the renewed token was not taken"
        fi
    else
        echo "note: the server sent no renewed token within 20 s"
    fi
else
    bad "no renegotiation"; tail -n 5 "$log"
fi

# Forced reconnect: the server restarts (SIGUSR1) and, with
# explicit-exit-notify, tells the client to RESTART.
kill -USR1 "$IT_SERVER_PID"
if it_wait_log "$log" 'SIGUSR1\[soft' 30 && auth_wait_count "$log" 'Initialization Sequence Completed' 2 60; then
    echo "ok: reconnected after the server's restart"
else
    bad "no reconnection after the server restart"; tail -n 20 "$log"
fi
n2=$(grep -c 'pass=' "$IT_DIR/verify.log" || true)
((n2 == 1)) && echo "ok: the reconnection did not run the verify script (the token was used)" ||
    { bad "verify script ran $n2 times"; cat "$IT_DIR/verify.log"; }
if grep -q "Username/auth-token authentication succeeded for username 'alice'" "$IT_DIR/server.log"; then
    echo "ok: server log: $(grep -m1 'auth-token authentication succeeded' "$IT_DIR/server.log" | cut -d' ' -f4-)"
else
    bad "the server log does not show the token accepted"
fi
ip netns exec "$IT_NS_C" ping -c 1 -W 5 198.19.0.1 >/dev/null && echo "ok: ping after the reconnection" || bad "no ping"

# The server comes back with a new token key: the old token is refused
# (AUTH_FAILED), the client drops it and authenticates with the password
# again, although auth-retry is none.
it_server_stop
rm -f "$IT_DIR/token.key"
openvpn --genkey auth-token "$IT_DIR/token.key" >/dev/null
it_server_start
if auth_wait_count "$log" 'Initialization Sequence Completed' 3 90; then
    echo "ok: reconnected after the token was refused"
else
    bad "no reconnection after the token was refused"; tail -n 20 "$log"
fi
grep -q 'AUTH: auth-token rejected, dropped' "$log" && echo "ok: the refused token was dropped" ||
    bad "no 'auth-token rejected' in the client log"
n3=$(grep -c 'pass=secret' "$IT_DIR/verify.log" || true)
((n3 == 2)) && echo "ok: the password was sent again after the token was refused" ||
    { bad "password sent $n3 times"; cat "$IT_DIR/verify.log"; }
grep -q 'SESS_ID' "$log" && bad "the auth-token was logged"

it_lvpn_stop "$pid" 10 || bad "client did not stop"
it_server_stop
if ((fail)); then echo "FAIL: t_auth_token"; exit 1; fi
echo "PASS: t_auth_token"
