#!/usr/bin/env bash
# Many sessions per process (issue 12): N layervpn sessions in ONE process
# (bench/bench_sessions: the public API, one loop, host inside I/O, no TUN)
# against one OpenVPN 2.6 server in namespaces, then M stock openvpn 2.6
# clients (one process per tunnel, --dev null, no TUN) against the same
# server. As root:
#
#   bash bench/sessions.sh
#
# For each side: sessions, time until all were connected, handshakes per
# second, and peak RSS per session.
# - layervpn: (VmHWM of the process at the end - VmRSS before the first
#   client was made) / N, i.e. everything a session costs, with what clients
#   made from one config share spread over them. Every session must also pass
#   traffic (one ICMP echo through its tunnel to the server).
# - openvpn: the mean VmHWM of the M client processes (each process is one
#   session, so its whole peak RSS is that session's cost; shared library
#   pages are counted in every process, as `ps` does) and the mean Pss
#   (shared pages split between the processes that map them). M is smaller
#   (default 50): per-session numbers do not depend on M, and are
#   extrapolated to N in the last line.
#   Where a session's memory goes: bench/heapsites.c (heap by call site,
#   resident bytes counted with mincore at the same measurement point).
# Prints numbers; fails only when a session does not come up.
#
# Environment:
#   SESSIONS_N=1000       layervpn sessions in one process
#   SESSIONS_OVPN_N=50    openvpn client processes (0 skips OpenVPN)
#   SESSIONS_WINDOW=32    layervpn handshakes in flight at a time
#   SESSIONS_RUNS=1       repeat the whole measurement
#   SESSIONS_WRAP="valgrind --tool=massif"  run bench_sessions under a profiler
#   IT_KEEP=1             keep the work dir afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "sessions: run as root (it creates network namespaces)" >&2
    exit 1
fi
N=${SESSIONS_N:-1000}
M=${SESSIONS_OVPN_N:-50}
WINDOW=${SESSIONS_WINDOW:-32}
RUNS=${SESSIONS_RUNS:-1}

if [[ ! -f Makefile ]]; then
    ./autogen.sh >/dev/null
    ./configure --quiet
fi
make -j2 cmd/layervpn bench/bench_sessions >/dev/null
BENCH_BIN=$PWD/bench/bench_sessions
LVPN_BIN=${LVPN_BIN:-$PWD/cmd/layervpn}
export LVPN_BIN

. tests/integration/lib.sh
it_require_root

say() { printf 'sessions: %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# One session per client: a pool big enough for N (a /20), no per-source
# rate limit on new sessions, the same certificate for all of them. The
# server holds a run's sessions until they time out, so max-clients counts
# every run's.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
it_setup sessions
it_pki
it_server_conf proto=udp wrap=tls-crypt \
    extra="max-clients $((RUNS * (N + M) + 16))" extra="duplicate-cn" \
    extra="connect-freq 100000 1" extra="connect-freq-initial 100000 1" \
    extra="verb 3"
sed -i 's/^server 198\.19\.0\.0 255\.255\.255\.0$/server 198.19.0.0 255.255.240.0/' \
    "$IT_DIR/server.conf"
it_server_start
it_client_conf proto=udp wrap=tls-crypt
# OpenVPN clients: no TUN device, no routes or addresses applied.
sed 's/^dev tun$/dev null/' "$IT_DIR/client.ovpn" >"$IT_DIR/ovpn-client.ovpn"
printf 'ifconfig-noexec\nroute-noexec\nverb 1\n' >>"$IT_DIR/ovpn-client.ovpn"

run_layervpn() {
    local out rc=0
    say "layervpn: $N sessions in one process (window $WINDOW)"
    # shellcheck disable=SC2086 # SESSIONS_WRAP is words (e.g. a profiler)
    out=$(ip netns exec "$IT_NS_C" ${SESSIONS_WRAP:-} "$BENCH_BIN" "$IT_DIR/client.ovpn" \
        "$IT_TUN_SERVER_IP" "$N" "$WINDOW" 600 2>"$IT_DIR/bench_sessions.log") || rc=$?
    echo "$out" >>"$IT_DIR/bench_sessions.out"
    say "layervpn: $out"
    if ((rc != 0)); then
        tail -n 20 "$IT_DIR/bench_sessions.log" >&2
        say "layervpn: FAILED (exit $rc): $out"
        return 1
    fi
    # key=value words -> L_<key>
    local kv
    for kv in $out; do
        printf -v "L_${kv%%=*}" '%s' "${kv#*=}"
    done
}

run_openvpn() {
    local i pids=() t0 t1 up hwm=0 pss=0 v
    say "openvpn: $M client processes"
    t0=$(now)
    for ((i = 0; i < M; i++)); do
        ip netns exec "$IT_NS_C" openvpn --config "$IT_DIR/ovpn-client.ovpn" \
            --writepid "$IT_DIR/ovpn-$i.pid" >"$IT_DIR/ovpn-$i.log" 2>&1 </dev/null &
        pids+=($!)
        _it_register_pid "$!"
    done
    for ((i = 0; i < 1200; i++)); do
        up=$(grep -l 'Initialization Sequence Completed' "$IT_DIR"/ovpn-*.log 2>/dev/null | wc -l)
        ((up >= M)) && break
        sleep 0.1
    done
    t1=$(now)
    if ((up < M)); then
        say "openvpn: only $up/$M connected"
        O_connected=$up
    else
        O_connected=$M
    fi
    O_connect_all_s=$(elapsed "$t0" "$t1")
    for i in "${pids[@]}"; do
        v=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$i/status" 2>/dev/null || echo 0)
        hwm=$((hwm + ${v:-0}))
        v=$(awk '$1 == "Pss:" { print $2 }' "/proc/$i/smaps_rollup" 2>/dev/null || echo 0)
        pss=$((pss + ${v:-0}))
    done
    O_hwm_per=$(awk -v s="$hwm" -v m="$M" 'BEGIN { printf "%.1f", s / m }')
    O_pss_per=$(awk -v s="$pss" -v m="$M" 'BEGIN { printf "%.1f", s / m }')
    O_hs=$(awk -v c="$O_connected" -v t="$O_connect_all_s" 'BEGIN { printf "%.1f", (t > 0) ? c / t : 0 }')
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
    ((up >= M))
}

fail=0
for ((run = 1; run <= RUNS; run++)); do
    L_sessions=- L_connected=- L_connect_all_s=- L_handshakes_per_s=- L_peak_rss_per_session_kib=-
    L_passed_traffic=-
    O_connected=- O_connect_all_s=- O_hs=- O_hwm_per=- O_pss_per=-
    run_layervpn || fail=1
    if ((M > 0)); then
        run_openvpn || fail=1
    fi
    printf '\nrun %d                        %-22s %s\n' "$run" "layervpn (1 process)" "openvpn 2.6 (1 process/tunnel)"
    printf '%-28s %-22s %s\n' "sessions" "$L_sessions" "$M"
    printf '%-28s %-22s %s\n' "connected" "$L_connected" "$O_connected"
    printf '%-28s %-22s %s\n' "passed traffic (ICMP echo)" "$L_passed_traffic" "-"
    printf '%-28s %-22s %s\n' "time to connect all (s)" "$L_connect_all_s" "$O_connect_all_s"
    printf '%-28s %-22s %s\n' "handshakes per second" "$L_handshakes_per_s" "$O_hs"
    printf '%-28s %-22s %s\n' "peak RSS per session (KiB)" "$L_peak_rss_per_session_kib" \
        "$O_hwm_per (VmHWM), $O_pss_per (Pss)"
    if [[ $O_hwm_per != - ]]; then
        printf '%-28s %-22s %s\n' "extrapolated to $N (MiB)" \
            "$(awk -v p="$L_peak_rss_per_session_kib" -v n="$N" 'BEGIN { printf "%.0f", p * n / 1024 }')" \
            "$(awk -v p="$O_hwm_per" -v q="$O_pss_per" -v n="$N" \
                'BEGIN { printf "%.0f (VmHWM), %.0f (Pss)", p * n / 1024, q * n / 1024 }')"
    fi
    echo
done
exit $fail
