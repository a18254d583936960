#!/usr/bin/env bash
# OpenVPN's management interface against a real OpenVPN 2.6 server that
# checks username/password (auth-user-pass-verify), driven as a GUI would by
# mgmt_drive.py over the unix socket: greeting, >HOLD, a hostile overlong
# line, version/pid/help, hold release, the >PASSWORD: request answered,
# >STATE:...CONNECTED,SUCCESS, bytecount, status, log, then `signal SIGTERM`
# and a clean exit (status 0). Then hostile peers (a second connection, a
# flood that never reads) and a wrong password: >PASSWORD:Verification
# Failed: 'Auth' and exit status 1. Then the CLI's signals. Then
# management-hold across a server killed and restarted (mgmt_hold.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup mgmt
it_pki
fail=0
DRIVE=$(cd "$(dirname "$0")" && pwd)/mgmt_drive.py

cat >"$IT_DIR/verify.sh" <<'V'
#!/bin/sh
# via-file: line 1 the username, line 2 the password
{ read -r u; read -r p; } <"$1"
[ "$u" = alice ] && [ "$p" = "s3cret pass" ]
V
chmod 755 "$IT_DIR/verify.sh"
it_server_conf wrap=tls-crypt extra="script-security 2" \
    extra="auth-user-pass-verify $IT_DIR/verify.sh via-file"
it_server_start
it_client_conf wrap=tls-crypt extra="auth-user-pass" \
    extra="management $IT_DIR/mgmt.sock unix" extra="management-hold" \
    extra="management-query-passwords"

run() { # name password -> exit status of the driver; client log in name.log
    local name=$1 pw=$2 pid rc=0
    rm -f "$IT_DIR/mgmt.sock"
    pid=$(it_lvpn_start "$IT_DIR/$name.log")
    timeout -s KILL 90 python3 "$DRIVE" "$IT_DIR/mgmt.sock" alice "$pw" \
        "$IT_DIR/$name.transcript" >"$IT_DIR/$name.drive" 2>&1 || rc=$?
    if ! it_lvpn_wait_exit "$pid" 20; then
        echo "FAIL: $name: client still running"; fail=1
        it_lvpn_stop "$pid" 5 || true
    fi
    return $rc
}

# 1: the whole session
if run ok "s3cret pass"; then
    echo "ok: management session: $(cat "$IT_DIR/ok.drive")"
else
    echo "FAIL: management session:"; cat "$IT_DIR/ok.drive" "$IT_DIR/ok.transcript"; fail=1
fi
grep -q '^layervpn: stopped$' "$IT_DIR/ok.log" ||
    { echo "FAIL: client did not stop cleanly (exit status 0)"; cat "$IT_DIR/ok.log"; fail=1; }
grep -q "Initialization Sequence Completed" "$IT_DIR/ok.log" ||
    { echo "FAIL: no tunnel"; fail=1; }
[[ ! -e $IT_DIR/mgmt.sock ]] || { echo "FAIL: socket left behind"; fail=1; }
grep -q "TLS: Username/Password authentication succeeded for username 'alice'" \
    "$IT_DIR/server.log" || { echo "FAIL: server did not verify alice"; fail=1; }

# 2: wrong password: the failure reaches the management client, exit 1
cat >"$IT_DIR/bad.py" <<'PY'
import socket, sys, time
path, out = sys.argv[1], open(sys.argv[2], "w")
for _ in range(200):
    try:
        h = socket.socket(socket.AF_UNIX); h.connect(path); break
    except OSError:
        time.sleep(0.1)
# hostile: a second client is turned away; the first floods commands and
# never reads, so the interface drops it once its output queue is full
t = socket.socket(socket.AF_UNIX); t.connect(path); t.settimeout(30)
if t.recv(100) != b"":
    out.write("FAIL: second client not closed\n")
h.settimeout(2)
try:
    for _ in range(20000):
        h.sendall(b"help\n" * 10)
    out.write("FAIL: flood never blocked\n")
except OSError:
    pass
h.settimeout(30)
try:
    while h.recv(65536):
        pass
    out.write("flood: dropped\n")
except ConnectionResetError:  # closed with our unread commands queued
    out.write("flood: dropped\n")
except OSError as e:
    out.write("FAIL: flood: %s\n" % e)
s = socket.socket(socket.AF_UNIX); s.connect(path)
s.settimeout(60)
for cmd in ("state on", "hold release", "username Auth alice", "password Auth wrong"):
    s.sendall(cmd.encode() + b"\n")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
out.write(data.decode())
PY
rm -f "$IT_DIR/mgmt.sock"
# management-client-user root: a peer with another uid is turned away even
# when the socket's permissions let it connect
echo "management-client-user root" >>"$IT_DIR/client.ovpn"
pid=$(it_lvpn_start "$IT_DIR/bad.log")
for _ in $(seq 200); do [[ -S $IT_DIR/mgmt.sock ]] && break; sleep 0.1; done
chmod 777 "$IT_DIR"; chmod 666 "$IT_DIR/mgmt.sock"
nobody_got=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(30)
print(repr(s.recv(100)))' "$IT_DIR/mgmt.sock" 2>&1) || true
if [[ $nobody_got == "b''" ]] && grep -q "client connection rejected: uid 65534" "$IT_DIR/bad.log"; then
    echo "ok: management-client-user root: uid 65534 rejected"
else
    echo "FAIL: management-client-user: nobody got '$nobody_got'"; fail=1
fi
timeout -s KILL 90 python3 "$IT_DIR/bad.py" "$IT_DIR/mgmt.sock" "$IT_DIR/bad.transcript" || true
it_lvpn_wait_exit "$pid" 20 || { echo "FAIL: bad: client still running"; fail=1; }
if grep -q "^flood: dropped" "$IT_DIR/bad.transcript" &&
    ! grep -q "^FAIL" "$IT_DIR/bad.transcript" &&
    grep -q ">PASSWORD:Verification Failed: 'Auth'" "$IT_DIR/bad.transcript" &&
    grep -q ",EXITING,auth-failure," "$IT_DIR/bad.transcript" &&
    grep -q "exiting: .*AUTH_FAILED" "$IT_DIR/bad.log"; then
    echo "ok: flood dropped, second client refused; wrong password: Verification Failed, EXITING auth-failure, exit 1"
else
    echo "FAIL: wrong password"; cat "$IT_DIR/bad.transcript" "$IT_DIR/bad.log"; fail=1
fi

# 3: the CLI's signals, as OpenVPN's (issue 9 item 7): SIGUSR2 prints the
# counters, SIGUSR1 restarts, SIGHUP re-reads the config (here: a new
# route, then present in the client's table) and restarts; the tunnel comes
# back each time.
it_client_conf wrap=tls-crypt extra="auth-user-pass $IT_DIR/up.txt"
printf 'alice\ns3cret pass\n' >"$IT_DIR/up.txt"
pid=$(it_lvpn_start "$IT_DIR/sig.log")
n_up() { grep -c "Initialization Sequence Completed" "$IT_DIR/sig.log" || true; }
sig_ok=1
it_wait_log "$IT_DIR/sig.log" "Initialization Sequence Completed" 30 || sig_ok=0
kill -USR2 "$pid"
it_wait_log "$IT_DIR/sig.log" "^counter networkio.rx_bytes [1-9]" 10 || sig_ok=0
kill -USR1 "$pid"
it_wait_log "$IT_DIR/sig.log" "SIGUSR1 received, restarting" 10 || sig_ok=0
for _ in $(seq 300); do (($(n_up) >= 2)) && break; sleep 0.1; done
(($(n_up) >= 2)) || sig_ok=0
echo "route 198.19.123.0 255.255.255.0" >>"$IT_DIR/client.ovpn"
kill -HUP "$pid"
it_wait_log "$IT_DIR/sig.log" "SIGHUP received, restarting" 10 || sig_ok=0
for _ in $(seq 300); do (($(n_up) >= 3)) && break; sleep 0.1; done
(($(n_up) >= 3)) || sig_ok=0
ip -n "$IT_NS_C" route show 198.19.123.0/24 | grep -q tun0 ||
    { echo "FAIL: SIGHUP did not re-read the config (no new route)"; sig_ok=0; }
it_lvpn_stop "$pid" 20 || sig_ok=0
grep -q '^layervpn: stopped$' "$IT_DIR/sig.log" || sig_ok=0
if ((sig_ok)); then
    echo "ok: SIGUSR2 counters, SIGUSR1 and SIGHUP restarts ($(n_up) tunnels), SIGTERM exit 0"
else
    echo "FAIL: signals"; cat "$IT_DIR/sig.log"; fail=1
fi

# 4: management-hold holds the client's own restarts too (OpenVPN's do_hold
# in socket_restart_pause): the server is killed (SIGKILL, no goodbye) and
# started again; the pushed ping-restart brings >HOLD:...:N again and the
# client waits for `hold release` before it reconnects.
it_server_stop
it_server_conf wrap=tls-crypt extra="keepalive 2 10"
it_server_start
it_client_conf wrap=tls-crypt extra="management $IT_DIR/mgmt.sock unix" \
    extra="management-hold"
rm -f "$IT_DIR/mgmt.sock" "$IT_DIR/hold.connected"
pid=$(it_lvpn_start "$IT_DIR/hold.log")
timeout -s KILL 150 python3 "$(dirname "$DRIVE")/mgmt_hold.py" "$IT_DIR/mgmt.sock" \
    "$IT_DIR/hold.connected" "$IT_DIR/hold.transcript" >"$IT_DIR/hold.drive" 2>&1 &
drv=$!
for _ in $(seq 600); do [[ -e $IT_DIR/hold.connected ]] && break; sleep 0.1; done
if [[ -e $IT_DIR/hold.connected ]]; then
    kill -KILL "$IT_SERVER_PID"
    wait "$IT_SERVER_PID" 2>/dev/null || true
    IT_SERVER_PID=""
    it_server_start
fi
hold_rc=0
wait "$drv" || hold_rc=$?
it_lvpn_wait_exit "$pid" 20 || { echo "FAIL: hold: client still running"; it_lvpn_stop "$pid" 5 || true; fail=1; }
if ((hold_rc == 0)) && (($(grep -c "Initialization Sequence Completed" "$IT_DIR/hold.log") >= 2)) &&
    ! grep -q "Restart pause" "$IT_DIR/hold.log"; then
    echo "ok: management-hold on ping-restart: $(cat "$IT_DIR/hold.drive")"
else
    echo "FAIL: management-hold on restart"; cat "$IT_DIR/hold.drive" "$IT_DIR/hold.transcript"
    tail -n 30 "$IT_DIR/hold.log"; fail=1
fi

it_server_stop
if ((fail)); then echo "FAIL: t_mgmt"; exit 1; fi
echo "PASS: t_mgmt"
