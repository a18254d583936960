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
python3 - "$IT_DIR/spec.json" "$RUNS" "$IT_DIR" "$LVPN_LDPATH" "${#lvpn_argv[@]}" \
    "${lvpn_argv[@]}" "${ovpn_argv[@]}" <<'EOF'
import json, sys
out, runs, outdir, ldpath, n = sys.argv[1:6]
rest = sys.argv[6:]
n = int(n)
env = {"LD_LIBRARY_PATH": ldpath} if ldpath else {}
spec = {"runs": int(runs), "outdir": outdir, "timeout": 30,
        "pattern": "Initialization Sequence Completed", "pause": 0.5,
        "clients": [{"name": "layervpn", "argv": rest[:n], "env": env},
                    {"name": "openvpn", "argv": rest[n:]}]}
with open(out, "w") as f:
    json.dump(spec, f)
EOF

ncpu=$(nproc)
rounds=()
case $PLACEMENT in
both) rounds=(apart shared) ;;
*) rounds=("$PLACEMENT") ;;
esac
if ((ncpu < 2)) && [[ ${rounds[0]} == apart ]]; then
    echo "startup: one CPU: no 'apart' round" >&2
    rounds=("${rounds[@]:1}")
    ((${#rounds[@]} > 0)) || rounds=(shared)
fi
server_cpu=$((ncpu - 1))
client_cpus=0-$((ncpu > 2 ? ncpu - 2 : 0))

# run_round apart|shared: one round of alternate starts, then its table
run_round() {
    local pin=()
    if [[ $1 == apart ]]; then
        taskset -a -p -c "$server_cpu" "$IT_SERVER_PID" >/dev/null
        pin=(taskset -c "$client_cpus")
    else
        taskset -a -p -c "0-$((ncpu - 1))" "$IT_SERVER_PID" >/dev/null
    fi
    echo "startup: round '$1': $RUNS starts each, alternately; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    ip netns exec "$IT_NS_C" "${pin[@]}" python3 bench/startup_driver.py \
        "$IT_DIR/spec.json" >"$IT_DIR/results-$1.jsonl"
    echo
    if [[ $1 == apart ]]; then
        echo "== apart: server on CPU $server_cpu, clients on CPUs $client_cpus"
    else
        echo "== shared: no pinning"
    fi
    python3 - "$IT_DIR/results-$1.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault(r["run"], {})[r["name"]] = r
def f(r, k):
    if r is None or not r.get("ok") or k not in r:
        return "FAIL" if r is not None and not r.get("ok") else "-"
    return "%.1f" % r[k]
print("%-5s %28s   %28s" % ("", "layervpn", "openvpn"))
print("%-5s %9s %9s %8s   %9s %9s %8s" % ("run", "wall ms", "CPU ms", "all ms",
                                         "wall ms", "CPU ms", "all ms"))
for i in sorted(by):
    l, o = by[i].get("layervpn"), by[i].get("openvpn")
    print("%-5d %9s %9s %8s   %9s %9s %8s" % (i, f(l, "wall_ms"), f(l, "cpu_ms"),
          f(l, "total_cpu_ms"), f(o, "wall_ms"), f(o, "cpu_ms"), f(o, "total_cpu_ms")))
def med(name, k):
    v = [r[k] for r in rows if r["name"] == name and r.get("ok") and k in r]
    return statistics.median(v) if v else None
print()
print("%-22s %9s %9s %7s" % ("median", "layervpn", "openvpn", "ratio"))
for k, label in (("wall_ms", "wall ms to tunnel"), ("cpu_ms", "CPU ms to tunnel"),
                 ("total_cpu_ms", "CPU ms whole life"), ("hwm_kb", "peak kB at the line"),
                 ("minflt", "minor faults to it")):
    a, b = med("layervpn", k), med("openvpn", k)
    ratio = "%.2f" % (a / b) if a is not None and b else "-"
    print("%-22s %9s %9s %7s" % (label, "%.1f" % a if a is not None else "-",
                                 "%.1f" % b if b is not None else "-", ratio))
fails = [r for r in rows if not r.get("ok")]
if fails:
    print("FAILED starts: %s" % ", ".join("%s#%d" % (r["name"], r["run"]) for r in fails))
    sys.exit(1)
EOF
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
