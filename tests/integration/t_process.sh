#!/usr/bin/env bash
# Process options against a real OpenVPN 2.6 server:
#  1. daemon + writepid + log + status FILE 1 + reneg-bytes: the command
#     returns at once, the pid file holds the running daemon, the log file
#     shows the tunnel up, pings work, the status file's byte counts grow,
#     the traffic triggers a renegotiation the server sees, SIGTERM to the
#     pid ends it (tun0 gone, pid file removed, status file final); with
#     passtos (an inner TOS on the outer packets), ipchange, up, route-up,
#     route-pre-down, down scripts and setenv/setenv-safe variables.
#  2. inactive 6: exits by itself, status 0, OpenVPN's message (and
#     push-peer-info: the server logs the extended peer info).
#  remap-usr1 SIGTERM: SIGUSR1 ends the client.
#  3. ping-exit 4: exits (not restarts) once the server is gone.
#  4. session-timeout, configured and pushed (two more server starts): ends
#     the client that long after the tunnel came up, busy or not, status 0,
#     OpenVPN's message.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup process
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# run_client LOG: the client in the background, its exit status into LOG.rc
run_client() {
    rm -f "$1.rc"
    (
        rc=0
        ip netns exec "$IT_NS_C" timeout 60 "$LVPN_BIN" connect "$IT_DIR/client.ovpn" \
            >"$1" 2>&1 </dev/null || rc=$?
        echo "$rc" >"$1.rc"
    ) &
}
# wait_rc LOG TIMEOUT_S: the exit status, or "running"
wait_rc() {
    it_wait_log "$1.rc" '^[0-9]+$' "$2" && cat "$1.rc" || echo running
}

it_server_conf proto=udp
it_server_start

# ---- 1. daemon ----
# scripts: each appends its type, arguments and two variables to scripts.out
# shellcheck disable=SC2016 # the script expands its own variables
printf '%s\n' '#!/bin/sh' \
    'echo "$script_type args=$# [$*] MYVAR=$MYVAR OPENVPN_SAFE=$OPENVPN_SAFE" >>"$OUT_FILE"' \
    'echo "    foreign_option_1=$foreign_option_1" >>"$OUT_FILE"' \
    >"$IT_DIR/script.sh"
chmod +x "$IT_DIR/script.sh"
it_client_conf proto=udp \
    "extra=daemon" "extra=writepid $IT_DIR/lvpn.pid" "extra=log $IT_DIR/lvpn-daemon.log" \
    "extra=status $IT_DIR/lvpn.status 1" "extra=reneg-bytes 200000" "extra=passtos" \
    "extra=script-security 2" "extra=setenv OUT_FILE $IT_DIR/scripts.out" \
    "extra=setenv MYVAR hello" "extra=setenv-safe SAFE yes" \
    "extra=up $IT_DIR/script.sh" "extra=route-up $IT_DIR/script.sh" \
    "extra=ipchange $IT_DIR/script.sh" "extra=route-pre-down $IT_DIR/script.sh" \
    "extra=down $IT_DIR/script.sh"
# passtos: count tunnel packets that reach the server with DSCP cs4 (TOS 0x80)
printf 'table inet lvpn_tos {\n chain input {\n  type filter hook input priority 0;\n  udp dport %s ip dscp cs4 counter\n }\n}\n' \
    "$IT_SERVER_PORT" | ip netns exec "$IT_NS_S" nft -f -
tos_count() {
    ip netns exec "$IT_NS_S" nft list table inet lvpn_tos |
        awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}
t0=$(date +%s)
rc=0
ip netns exec "$IT_NS_C" timeout 20 "$LVPN_BIN" connect --counters "$IT_DIR/client.ovpn" \
    >"$IT_DIR/lvpn-parent.out" 2>&1 </dev/null || rc=$?
t1=$(date +%s)
echo "  daemon: the command returned $rc after $((t1 - t0)) s"
((rc == 0)) || bad "daemon: the command returned $rc"
((t1 - t0 <= 3)) || bad "daemon: the command did not return at once"
it_wait_log "$IT_DIR/lvpn.pid" '^[0-9]+$' 5 || bad "daemon: no pid file"
dpid=$(cat "$IT_DIR/lvpn.pid" 2>/dev/null || echo "")
if [[ -n $dpid ]] && kill -0 "$dpid" 2>/dev/null; then
    _it_register_pid "$dpid"
    comm=$(ps -o comm= -p "$dpid")
    [[ $comm == *layervpn* ]] || bad "daemon: pid $dpid is '$comm', not layervpn"
else
    bad "daemon: pid file '$dpid' names no running process"
fi
it_wait_log "$IT_DIR/lvpn-daemon.log" 'Initialization Sequence Completed' 20 ||
    bad "daemon: no 'Initialization Sequence Completed' in the log file"
ip netns exec "$IT_NS_C" ping -c 3 -i 0.2 -W 2 198.19.0.1 >/dev/null || bad "daemon: no ping"
t0=$(tos_count)
ip netns exec "$IT_NS_C" ping -c 5 -i 0.2 -W 2 -Q 0x80 198.19.0.1 >/dev/null || bad "passtos: no ping"
t1=$(tos_count)
echo "  passtos: $((t1 - t0)) outer packets with TOS 0x80 for 5 inner ones (before: $t0)"
((t1 - t0 >= 5)) || bad "passtos: the inner TOS did not reach the outer packets"
((t0 == 0)) || bad "passtos: TOS 0x80 on packets whose inner TOS was 0"
s1=$(awk -F, '$1 == "TCP/UDP read bytes" { print $2 }' "$IT_DIR/lvpn.status" 2>/dev/null || echo 0)
# ~ 600 kB both ways: past reneg-bytes 200000, and visible in the status file
ip netns exec "$IT_NS_C" ping -q -c 200 -i 0.01 -s 1400 -W 2 198.19.0.1 >/dev/null || true
sleep 2.2 # two status periods
s2=$(awk -F, '$1 == "TCP/UDP read bytes" { print $2 }' "$IT_DIR/lvpn.status" 2>/dev/null || echo 0)
echo "  status: TCP/UDP read bytes $s1 -> $s2"
head -n 1 "$IT_DIR/lvpn.status" | grep -qx 'OpenVPN STATISTICS' || bad "status: no 'OpenVPN STATISTICS' header"
grep -q '^Updated,[0-9-]* [0-9:]*$' "$IT_DIR/lvpn.status" || bad "status: no Updated line"
grep -qx 'END' "$IT_DIR/lvpn.status" || bad "status: no END"
((${s2:-0} > ${s1:-0} + 100000)) || bad "status: byte counts did not grow with the traffic"
it_wait_log "$IT_DIR/lvpn-daemon.log" 'reneg-bytes/reneg-pkts reached' 10 ||
    bad "reneg-bytes: no renegotiation started"
it_wait_log "$IT_DIR/lvpn-daemon.log" 'new key \(key_id 1\) after renegotiation' 15 ||
    bad "reneg-bytes: the renegotiation did not complete"
n=$(grep -c 'Control Channel: TLS' "$IT_DIR/server.log" || true)
echo "  reneg-bytes: server log shows $n TLS handshakes"
((n >= 2)) || bad "reneg-bytes: the server saw no renegotiation"
if [[ -n $dpid ]]; then
    kill -TERM "$dpid" 2>/dev/null || true
    it_lvpn_wait_exit "$dpid" 15 || bad "daemon: still running 15 s after SIGTERM"
fi
it_wait_log "$IT_DIR/lvpn-daemon.log" 'layervpn: stopped' 5 || bad "daemon: no clean stop in the log"
if ip -n "$IT_NS_C" link show tun0 >/dev/null 2>&1; then bad "daemon: tun0 still exists"; fi
[[ ! -e $IT_DIR/lvpn.pid ]] || bad "daemon: pid file left behind"
grep -qx 'END' "$IT_DIR/lvpn.status" || bad "status: not written at exit"
# scripts: order, OpenVPN's arguments, setenv and setenv-safe variables
sed 's/^/    /' "$IT_DIR/scripts.out" 2>/dev/null || true
want="ipchange up route-up route-pre-down down"
got=$(awk '$1 !~ /^foreign/ { printf "%s%s", (n++ ? " " : ""), $1 }' "$IT_DIR/scripts.out" 2>/dev/null || true)
grep -qx '    foreign_option_1=dhcp-option DNS 198.19.0.1' "$IT_DIR/scripts.out" ||
    bad "scripts: foreign_option_1 is not 'dhcp-option DNS 198.19.0.1'"
[[ $got == "$want" ]] || bad "scripts: ran '$got', want '$want'"
grep -q "^ipchange args=1 \\[$IT_SERVER_IP $IT_SERVER_PORT\\]" "$IT_DIR/scripts.out" ||
    bad "ipchange: want one argument 'ADDRESS PORT'"
grep -q '^route-up args=0 ' "$IT_DIR/scripts.out" || bad "route-up: want no arguments"
grep -q '^route-pre-down args=6 ' "$IT_DIR/scripts.out" || bad "route-pre-down: want down's 6 arguments"
n=$(grep -c 'MYVAR=hello OPENVPN_SAFE=yes$' "$IT_DIR/scripts.out" || true)
((n == 5)) || bad "setenv: $n of 5 scripts saw MYVAR and OPENVPN_SAFE"

# ---- 2. inactive ----
# (with push-peer-info: the server sees the extended peer info)
it_client_conf proto=udp "extra=inactive 6" "extra=push-peer-info" "extra=setenv UV_LAB one"
log=$IT_DIR/lvpn-inactive.log
run_client "$log"
it_wait_log "$log" 'Initialization Sequence Completed' 15 || bad "inactive: no tunnel"
for v in IV_SSL=mbed IV_PLAT_VER= UV_LAB=one; do
    grep -q "peer info: $v" "$IT_DIR/server.log" || bad "push-peer-info: the server did not get $v"
done
rc=$(wait_rc "$log" 20)
echo "  inactive: exit status $rc"
[[ $rc == 0 ]] || bad "inactive: exit status $rc, want 0"
grep -q 'Inactivity timeout (--inactive), exiting' "$log" || bad "inactive: no message"

# ---- remap-usr1 SIGTERM: SIGUSR1 ends the client instead of restarting ----
it_client_conf proto=udp "extra=remap-usr1 SIGTERM"
log=$IT_DIR/lvpn-remap.log
run_client "$log"
it_wait_log "$log" 'Initialization Sequence Completed' 15 || bad "remap-usr1: no tunnel"
for p in $(ip netns pids "$IT_NS_C"); do
    [[ $(ps -o comm= -p "$p" 2>/dev/null) == *layervpn* ]] && kill -USR1 "$p"
done
rc=$(wait_rc "$log" 15)
echo "  remap-usr1 SIGTERM: exit status $rc after SIGUSR1"
[[ $rc == 0 ]] || bad "remap-usr1: exit status $rc, want 0"
if grep -q 'restarting' "$log"; then bad "remap-usr1: restarted"; fi

# ---- 3. ping-exit ----
# the server's pushed ping-restart would replace our ping-exit (as in
# OpenVPN): filtered; pings through the tunnel keep packets coming
it_client_conf proto=udp "extra=ping-exit 4" 'extra=pull-filter ignore "ping-restart"'
log=$IT_DIR/lvpn-pingexit.log
run_client "$log"
it_wait_log "$log" 'Initialization Sequence Completed' 15 || bad "ping-exit: no tunnel"
grep -q 'Timers: ping 10, ping-exit 4' "$log" || bad "ping-exit: not in effect"
it_bg_in_client ping -i 0.5 198.19.0.1 >/dev/null
sleep 6 # alive beyond ping-exit while the server answers
[[ ! -e $log.rc ]] || bad "ping-exit: exited while the server answered"
kill -KILL "$IT_SERVER_PID" # gone without a word: no RESTART, no EXIT
it_server_stop
rc=$(wait_rc "$log" 20)
echo "  ping-exit: exit status $rc"
[[ $rc == 0 ]] || bad "ping-exit: exit status $rc, want 0"
grep -q 'Inactivity timeout (--ping-exit), exiting' "$log" || bad "ping-exit: no message"
if grep -q 'restarting' "$log"; then bad "ping-exit: restarted"; fi

# ---- 4. session-timeout ----
# configured (4 s), then pushed by the server (3 s): the client ends that
# long after the tunnel came up although pings keep it busy, status 0,
# OpenVPN's message, no restart
session_case() { # name seconds
    local log=$IT_DIR/lvpn-$1.log rc t0 t1
    run_client "$log"
    it_wait_log "$log" 'Initialization Sequence Completed' 15 || bad "$1: no tunnel"
    t0=$(date +%s.%N)
    it_bg_in_client ping -i 0.3 198.19.0.1 >/dev/null
    rc=$(wait_rc "$log" 20)
    t1=$(date +%s.%N)
    echo "  $1: exit status $rc after $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
    [[ $rc == 0 ]] || bad "$1: exit status $rc, want 0"
    grep -q 'Session timeout, exiting' "$log" || bad "$1: no message"
    awk -v a="$t0" -v b="$t1" -v s="$2" 'BEGIN {exit !(b - a >= s - 0.5)}' ||
        bad "$1: ended before $2 s"
    if grep -q 'restarting' "$log"; then bad "$1: restarted"; fi
}
it_server_conf proto=udp
it_server_start
it_client_conf proto=udp "extra=session-timeout 4"
session_case session-timeout 4
it_server_stop
it_server_conf proto=udp 'push=session-timeout 3'
it_server_start
it_client_conf proto=udp
session_case session-timeout-pushed 3
it_server_stop

if ((fail)); then echo "FAIL: t_process"; exit 1; fi
echo "PASS: t_process"
