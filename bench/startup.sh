#!/usr/bin/env bash
# Time to tunnel, layervpn against Debian's stock openvpn 2.6 client, as root:
#
#   bash bench/startup.sh
#
# One OpenVPN 2.6 server (bench.sh's: UDP, tls-crypt, AES-256-GCM, the P-256
# ECDSA PKI of tests/integration/lib.sh); both clients use the same
# client.ovpn and are started alternately (layervpn, openvpn, layervpn, ...)
# by bench/startup_driver.py, which runs inside the client namespace, so
# `ip netns exec` is not in the figures. Per start it prints:
#   wall ms  from just before fork to the "Initialization Sequence Completed"
#            line arriving on the client's stdout pipe;
#   CPU ms   the client's CPU time at that moment (sum of its threads'
#            /proc/PID/task/*/schedstat: nanoseconds, not 10 ms ticks);
#   all ms   its CPU time over its whole life (rusage at exit: start-up,
#            tunnel up, SIGTERM, exit), for comparison;
#   and in the medians only: its peak RSS (VmHWM) and minor faults so far
#   when the line arrives.
# then the medians and the ratios of the medians (layervpn/openvpn).
# CPU time is the steadier figure on a loaded machine: wall time includes
# waiting for a CPU and for the server.
#
# Two placements, each a full round of alternate starts:
#   apart   the server on the last CPU, the clients on the others (taskset),
#           as a real server is on another host: a client's work while it
#           waits for the server (layervpn's start-up work, tlssession's
#           on_wait) overlaps the server's;
#   shared  no pinning: the kernel wakes the server on the CPU of the client
#           that just sent to it (a sync wakeup over the veth pair), so work
#           the client does while it waits delays the server instead.
# The same for both clients; the issue's target is read on "apart".
#
# Environment:
#   STARTUP_RUNS=10     starts per client
#   STARTUP_LVPN_ARGS   extra words for layervpn connect
#   STARTUP_OVPN_ARGS   extra words for openvpn (e.g. "--tls-groups secp256r1")
#   STARTUP_PLACEMENT=both|apart|shared  which rounds to run (default both;
#                       apart needs 2 CPUs or more, skipped otherwise)
#   STARTUP_PERF=FILE   also run `perf record` (all CPUs, 20 kHz) over the
#                       layervpn starts only, into FILE (needs perf)
#   IT_KEEP=1           keep the work dir (client logs, results.jsonl)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "startup: run as root (it creates network namespaces and tun devices)" >&2
    exit 1
fi
RUNS=${STARTUP_RUNS:-10}
PLACEMENT=${STARTUP_PLACEMENT:-both}
case $PLACEMENT in
both | apart | shared) ;;
*)
    echo "startup: STARTUP_PLACEMENT=$PLACEMENT: want both, apart or shared" >&2
    exit 1
    ;;
esac
if ! [[ $RUNS =~ ^[1-9][0-9]*$ ]]; then
    echo "startup: STARTUP_RUNS=$RUNS: want a positive integer" >&2
    exit 1
fi
. bench/common.sh
bench_prepare openvpn

it_setup startup
it_pki
it_server_conf proto=udp wrap=tls-crypt ciphers=AES-256-GCM
it_server_start
it_client_conf proto=udp wrap=tls-crypt ciphers=AES-256-GCM

# shellcheck disable=SC2206 # words on purpose
lvpn_argv=("$LVPN_EXEC" connect "$IT_DIR/client.ovpn" ${STARTUP_LVPN_ARGS:-})
# shellcheck disable=SC2206
ovpn_argv=("$(command -v openvpn)" --config "$IT_DIR/client.ovpn" ${STARTUP_OVPN_ARGS:-})
lvpn_env=()
[[ -n $LVPN_LDPATH ]] && lvpn_env=(LD_LIBRARY_PATH "$LVPN_LDPATH")
python3 bench/startup_driver.py spec "$IT_DIR/spec.json" "$RUNS" "$IT_DIR" \
    "Initialization Sequence Completed" 30 \
    layervpn $((${#lvpn_env[@]} / 2)) "${lvpn_env[@]}" "${#lvpn_argv[@]}" "${lvpn_argv[@]}" \
    openvpn 0 "${#ovpn_argv[@]}" "${ovpn_argv[@]}"

rounds=()
case $PLACEMENT in
both) rounds=(apart shared) ;;
*) rounds=("$PLACEMENT") ;;
esac
if ((BENCH_NCPU < 2)) && [[ ${rounds[0]} == apart ]]; then
    echo "startup: one CPU: no 'apart' round" >&2
    rounds=("${rounds[@]:1}")
    ((${#rounds[@]} > 0)) || rounds=(shared)
fi
# run_round apart|shared: one round of alternate starts, then its table
run_round() {
    echo "startup: round '$1': $RUNS starts each, alternately; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    bench_start_round "$1" "$IT_DIR/spec.json" "$IT_DIR/results-$1.jsonl" || return 1
    echo
    if [[ $1 == apart ]]; then
        echo "== apart: server on CPU $BENCH_SERVER_CPU, clients on CPUs $BENCH_CLIENT_CPUS"
    else
        echo "== shared: no pinning"
    fi
    python3 bench/startup_driver.py table "$IT_DIR/results-$1.jsonl" layervpn openvpn
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
perf_pid=""
if [[ -n ${STARTUP_PERF:-} ]]; then
    perf record -F 20000 -a -g -o "$STARTUP_PERF" -- sleep 100000 >"$IT_DIR/perf.log" 2>&1 &
    perf_pid=$!
fi
status=0
for r in "${rounds[@]}"; do
    run_round "$r" || status=1
done
if [[ -n $perf_pid ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "layervpn:  $(LD_LIBRARY_PATH=$LVPN_LDPATH "$LVPN_EXEC" --version 2>&1 | head -n 1 || true) ($LVPN_EXEC)"
echo "           built $(date -r "$LVPN_EXEC" '+%F %T %Z'), HEAD $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "openvpn:   $(openvpn --version 2>&1 | head -n 1 || true)"
echo "mbedTLS:   $(dpkg-query -W libmbedtls-dev 2>/dev/null || echo '?')"
echo "host:      $(uname -r), $(nproc) CPU(s), $(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $load_before before, $load_after after"
exit "$status"
