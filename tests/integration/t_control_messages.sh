#!/usr/bin/env bash
# Control messages from a real server: a PUSH_REPLY split with
# push-continuation (over 1 KB of pushed routes) is reassembled and applied;
# AUTH_FAILED (no shared data cipher) and RESTART (server shutting down with
# explicit-exit-notify) end the client with their own errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup ctlmsg
it_pki
fail=0

# 1. push-continuation: 80 routes make the reply span several messages.
pushes=()
for i in $(seq 101 180); do pushes+=("push=route 198.19.$i.0 255.255.255.0"); done
it_server_conf proto=udp wrap=tls-crypt "${pushes[@]}"
it_server_start
it_client_conf proto=udp wrap=tls-crypt
log=$IT_DIR/lvpn-cont.log
pid=$(it_lvpn_start "$log")
if it_wait_log "$log" 'Initialization Sequence Completed' 15; then
    n=$(grep -c "PUSH: Received control message: 'PUSH_REPLY" "$log" || true)
    routes=$(ip -n "$IT_NS_C" route | grep -cE '^198\.19\.(10[1-9]|1[1-7][0-9]|180)\.0/24' || true)
    grep -q 'push-continuation 2' "$log" || { echo "FAIL: reply was not split (test setup)"; fail=1; }
    if ((n < 2 || routes != 80)); then
        echo "FAIL: push-continuation: $n messages, $routes of 80 routes installed"; fail=1
    else
        echo "ok: push-continuation: $n PUSH_REPLY messages, 80 routes installed"
    fi
else
    echo "FAIL: push-continuation: no tunnel"; tail -n 20 "$log"; fail=1
fi
it_lvpn_stop "$pid" 10 || fail=1
left=$(ip -n "$IT_NS_C" route | grep -c '^198\.19\.' || true)
((left == 0)) || { echo "FAIL: $left routes left after stop"; fail=1; }

# 2. RESTART: the server stops (explicit-exit-notify 1 makes it tell us);
# like OpenVPN, the client reports it and reconnects once the server is back.
rlog=$IT_DIR/lvpn-restart.log
pid=$(it_lvpn_start "$rlog")
it_wait_log "$rlog" 'Initialization Sequence Completed' 15 || fail=1
it_server_stop
if it_wait_log "$rlog" 'server sent RESTART' 10 && it_wait_log "$rlog" 'Restart pause' 5; then
    echo "ok: RESTART reported: $(grep -m1 'server sent RESTART' "$rlog")"
else
    echo "FAIL: RESTART not reported"; tail -n 10 "$rlog"; fail=1
fi
it_server_start
for ((i = 0; i < 300; i++)); do
    [[ $(grep -c 'Initialization Sequence Completed' "$rlog") -ge 2 ]] && break
    sleep 0.1
done
if [[ $(grep -c 'Initialization Sequence Completed' "$rlog") -ge 2 ]]; then
    out=$(ip netns exec "$IT_NS_C" ping -c 3 -i 0.2 -W 2 198.19.0.1 2>&1 || true)
    if grep -q ' 0% packet loss' <<<"$out"; then
        echo "ok: reconnected after RESTART, tunnel works"
    else
        echo "FAIL: reconnected but ping fails"; fail=1
    fi
else
    echo "FAIL: no reconnection after RESTART"; tail -n 15 "$rlog"; fail=1
fi
it_lvpn_stop "$pid" 10 || fail=1
it_server_stop

# 3. AUTH_FAILED: the server only has AES-256-GCM, we only offer AES-128-GCM.
it_server_conf proto=udp wrap=tls-crypt ciphers=AES-256-GCM
it_server_start
it_client_conf proto=udp wrap=tls-crypt ciphers=AES-128-GCM
rc=0
timeout -s KILL 20 ip netns exec "$IT_NS_C" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" \
    >"$IT_DIR/lvpn-authfail.log" 2>&1 </dev/null || rc=$?
if ((rc != 0 && rc != 137)) && grep -q 'AUTH_FAILED' "$IT_DIR/lvpn-authfail.log" &&
    grep -q 'exiting: server sent AUTH_FAILED' "$IT_DIR/lvpn-authfail.log"; then
    echo "ok: AUTH_FAILED reported (exit $rc): $(grep -m1 'AUTH_FAILED' "$IT_DIR/lvpn-authfail.log")"
else
    echo "FAIL: AUTH_FAILED (exit $rc)"; tail -n 10 "$IT_DIR/lvpn-authfail.log"; fail=1
fi
it_server_stop

if ((fail)); then echo "FAIL: t_control_messages"; exit 1; fi
echo "PASS: t_control_messages"
