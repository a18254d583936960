#!/usr/bin/env bash
# layervpn against Debian's stock openvpn 2.6 client, one OpenVPN 2.6 server,
# same client.ovpn (UDP, tls-crypt, AES-256-GCM or BENCH_CIPHER). As root:
#
#   bash bench/bench.sh
#
# For each client: time from process start to "Initialization Sequence
# Completed" (this start's, and the medians of BENCH_STARTS more starts of
# every client, alternately, with the server on a CPU of its own and
# without, at the start of each run), iperf3 TCP upload
# and download through the tunnel, the client's CPU time per GB moved
# (utime+stime of the client process over each iperf3 run only, so startup
# and handshake are not in it), the ping RTT (p50, p99
# and max, one ping every 0.05 s to the server's tunnel address, so about 200
# replies per run and p99 is not simply the largest) during each iperf3 run,
# the datagrams the server's UDP socket dropped for a full receive buffer
# during each run, and its peak RSS: VmHWM of /proc/PID/status read once the
# tunnel is up (idle, "peak RSS kB, idle") and after both iperf3 runs, PID
# being the client process itself for both clients (ip netns exec and the
# libtool wrapper exec into it; checked through /proc/PID/comm).
# VmHWM counts every resident page mapped, shared library pages included; Pss
# and Private (smaps_rollup, read at the same moment) show how much of it is
# the client's own.
# A third column, openvpn27, is the stock OpenVPN 2.7 client from the cached
# Debian sid chroot of tests/integration/lib.sh (skipped when the chroot is not
# there; BENCH_NO_27=1 skips it too). It runs with disable-dco: with the
# kernel's ovpn module its data channel would run in the kernel, outside the
# CPU time this bench counts.
# Prints numbers; asserts nothing beyond "the tunnel came up".
#
#   BENCH_MODE=epoch bash bench/bench.sh
#
# instead runs layervpn twice against one OpenVPN 2.7 server (the sid chroot of
# tests/integration/lib.sh, DCO off): in the epoch data format (aead-epoch) and
# in the classic one (LVPN_TEST_NO_EPOCH=1 leaves epoch out of IV_PROTO), and
# compares their CPU per GB side by side (issue 10: epoch must cost no more).
#
#   BENCH_MODE=offload bash bench/bench.sh
#
# instead runs layervpn twice against the OpenVPN 2.6 server: with UDP GSO/GRO
# (layers/networkio/udpbatch.c, the default) and without (LVPN_NO_UDP_OFFLOAD=1:
# libuv's one-datagram-per-syscall path). The default mode passes
# LVPN_NO_UDP_OFFLOAD through too, so `LVPN_NO_UDP_OFFLOAD=1 bash bench/bench.sh`
# compares the offload-free layervpn with OpenVPN.
#
# Environment:
#   BENCH_SECONDS=10   iperf3 duration per direction
#   BENCH_RUNS=1       repeat the whole measurement (both clients) N times
#   BENCH_STARTS=5     time-to-tunnel starts per client per run and
#                      placement (apart, shared) besides the measured
#                      client's own start (bench_starts below: the median
#                      and range of the time to the line, and the median
#                      CPU time to it); 0 leaves them out
#   BENCH_CIPHER=AES-256-GCM  the data-channel cipher the server offers and
#                      the clients use: AES-128-GCM, AES-256-GCM or
#                      CHACHA20-POLY1305 (issue 13 shows all three)
#   BENCH_PING_INTERVAL=0.05  seconds between pings under load (ping -i;
#                      below 0.2 needs root, which the bench is)
#   BENCH_BITRATE=200M iperf3 -b: cap both directions at this rate for every
#                      client alike (default: no cap, each tunnel saturated),
#                      to compare ping under the same load
#   BENCH_VIA_WRAPPER=1  start an uninstalled layervpn through its libtool
#                      wrapper script (adds bash's startup to time-to-tunnel)
#   BENCH_LVPN_ARGS="--trace /tmp/t.jsonl"  extra words for layervpn connect
#   BENCH_MODE=epoch   epoch vs classic data format against OpenVPN 2.7 (above)
#   BENCH_MODE=offload layervpn with and without UDP GSO/GRO (above)
#   BENCH_VETH_GRO=0   leave GRO off on the client namespace's veth (below)
#   BENCH_SERVER_NAPI=0  leave the server namespace's veth as veth has it (below)
#   BENCH_PERF=DIR     perf record -g each layervpn iperf3 run into
#                      DIR/perf-NAME-DIR-RUN.data (summarise with perf report)
#   IT_KEEP=1          keep the work dir (logs, iperf3 JSON) afterwards
#
# GRO on the client's veth: a veth has GRO off by default (unlike a physical
# NIC, where it is on), and without it the kernel never coalesces UDP
# datagrams for a socket that asked for them with UDP_GRO. bench.sh sets up
# the client namespace's veth vc0 like a NIC, once, for every client alike:
#   ethtool -K vc0 gro on             GRO (since Linux 5.13 this also gives
#                                     the veth the NAPI GRO needs);
#   ethtool -K vc0 rx-udp-gro-forwarding on
#                                     a veth hands a packet from a TSO-capable
#                                     peer to NAPI only with this (or
#                                     rx-gro-list) on; it coalesces only
#                                     datagrams that no local socket receives,
#                                     i.e. none here;
#   echo 1 > /sys/class/net/vc0/threaded
#                                     NAPI in its own kernel thread, so that
#                                     datagrams queue up between two polls as
#                                     on a NIC between two interrupts (else
#                                     each poll runs right after each send and
#                                     finds one datagram: nothing to coalesce).
# Only a socket with UDP_GRO set gets coalesced datagrams: layervpn sets it,
# OpenVPN 2.6 and 2.7 do not, so the kernel delivers their datagrams one by
# one as before. The output's footer says which setting was used.
#
# The server's veth vs0 gets the same three settings. Without NAPI a veth
# receives inside the sender's send call: the whole of the server side's IP
# and UDP receive of each datagram ran in the client's sendmsg and was
# charged to the client's CPU, which a client on a real NIC never pays.
# Which client that favoured is not settled: one A/B pair under load moved
# OpenVPN 2.6's upload from 19.4 to 13.7 CPU-s/GB and ours not at all, two
# pairs on a quiet machine moved OpenVPN's from 16.7-17.7 to 18.3-19.3 and
# ours from 4.6-4.9 to 4.3 (doc/performance.md, "The server's veth").
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "bench: run as root (it creates network namespaces and tun devices)" >&2
    exit 1
fi

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
MODE=${BENCH_MODE:-openvpn}
case $MODE in
openvpn) CL_A=layervpn CL_B=openvpn ;;
epoch) CL_A=epoch CL_B=classic ;;
offload) CL_A=offload CL_B=no-offload ;;
*)
    echo "bench: BENCH_MODE=$MODE: want 'openvpn' (default), 'epoch' or 'offload'" >&2
    exit 1
    ;;
esac
RUNS=${BENCH_RUNS:-1}
CIPHER=${BENCH_CIPHER:-AES-256-GCM}
case $CIPHER in
AES-128-GCM | AES-256-GCM | CHACHA20-POLY1305) ;;
*)
    echo "bench: BENCH_CIPHER=$CIPHER: want AES-128-GCM, AES-256-GCM or CHACHA20-POLY1305" >&2
    exit 1
    ;;
esac
if ! [[ $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ ]]; then
    echo "bench: BENCH_SECONDS=$SECONDS_PER_RUN: want a positive integer" >&2
    exit 1
fi
PING_INTERVAL=${BENCH_PING_INTERVAL:-0.05}
if ! [[ $PING_INTERVAL =~ ^(0\.[0-9]*[1-9][0-9]*|[1-9][0-9]*(\.[0-9]+)?)$ ]]; then
    echo "bench: BENCH_PING_INTERVAL=$PING_INTERVAL: want seconds above 0 (0.05, 0.2, 1)" >&2
    exit 1
fi
BITRATE=${BENCH_BITRATE:-}
if [[ -n $BITRATE ]] && ! [[ $BITRATE =~ ^[1-9][0-9]*[KMG]?$ ]]; then
    echo "bench: BENCH_BITRATE=$BITRATE: want a rate as iperf3 -b takes it (200M, 1G)" >&2
    exit 1
fi
if ! [[ $RUNS =~ ^[1-9][0-9]*$ ]]; then
    echo "bench: BENCH_RUNS=$RUNS: want a positive integer" >&2
    exit 1
fi
STARTS=${BENCH_STARTS:-5}
if ! [[ $STARTS =~ ^(0|[1-9][0-9]*)$ ]]; then
    echo "bench: BENCH_STARTS=$STARTS: want a number of starts (0 for none)" >&2
    exit 1
fi
PLACEMENTS=""
if ((STARTS > 0)); then
    PLACEMENTS="apart shared"
    (($(nproc) >= 2)) || PLACEMENTS=shared # apart needs a CPU for each side
fi

. bench/common.sh
bench_prepare iperf3 openvpn ethtool

CLK_TCK=$(getconf CLK_TCK)
INIT_PATTERN='Initialization Sequence Completed'
INIT_TIMEOUT_S=30
STOP_TIMEOUT_S=10
declare -A RES=()

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

# cpu_ticks PID — "UTIME STIME" (all threads) in clock ticks: fields 14 and 15 of
# /proc/PID/stat, counted after the ")" that ends the command name.
cpu_ticks() {
    local s f
    { s=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
    s=${s##*) }
    read -r -a f <<<"$s"
    echo "${f[11]} ${f[12]}"
}

# vm_hwm PID — peak resident set size in kB.
vm_hwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }

# rss_split PID — "ANON/FILE": resident anonymous memory (heap, stacks) and
# file-backed pages (shared libraries' code and data, shared with every other
# process mapping them), in kB, now (not at the peak).
rss_split() {
    awk '$1 == "RssAnon:" { a = $2 } $1 == "RssFile:" { f = $2 }
        END { print a "/" f }' "/proc/$1/status"
}

# pss_priv PID — "PSS PRIVATE" in kB from /proc/PID/smaps_rollup, now: the
# proportional share (shared library pages divided among the processes that
# map them) and the pages no other process maps (heap, stacks, written data).
pss_priv() {
    awk '$1 == "Pss:" { p = $2 } $1 == "Private_Clean:" || $1 == "Private_Dirty:" { v += $2 }
        END { print p, v }' "/proc/$1/smaps_rollup"
}

# proc_state PID — one-letter state (R, S, Z, ...), empty once the process is gone.
proc_state() {
    local s
    { s=$(<"/proc/$1/stat"); } 2>/dev/null || return 0
    s=${s##*) }
    echo "${s%% *}"
}

alive() {
    local st
    st=$(proc_state "$1")
    [[ -n $st && $st != Z ]]
}

# stop_client PID NAME — SIGTERM, wait up to STOP_TIMEOUT_S, reap; SIGKILL if stuck.
# Sets STOP_MS (SIGTERM to exit) and STOP_RC (exit status; 137 after SIGKILL).
STOP_MS=""
STOP_RC=""
stop_client() {
    local pid=$1 name=$2 i rc=0 t0
    t0=$(date +%s.%N)
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        say "$name (pid $pid) still running ${STOP_TIMEOUT_S} s after SIGTERM; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    STOP_MS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
    STOP_RC=$rc
    if ((rc != 0)); then
        say "$name (pid $pid) exited with status $rc"
    fi
}

# ping_start OUT — ping the server's tunnel address from the client namespace
# every PING_INTERVAL s (in the background, for the length of one iperf3 run);
# sets PING_PID.
PING_PID=""
ping_start() {
    ip netns exec "$IT_NS_C" ping -n -i "$PING_INTERVAL" -w $((SECONDS_PER_RUN + 2)) \
        "$IT_TUN_SERVER_IP" >"$1" 2>&1 &
    PING_PID=$!
}

# ping_stats OUT — "P50/P99/MAX/N" RTT in ms of the N replies in OUT (nearest
# rank), "-/-/-/0" without replies.
ping_stats() {
    kill "$PING_PID" 2>/dev/null || true
    wait "$PING_PID" 2>/dev/null || true
    sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' "$1" | sort -n | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "-/-/-/0"; exit }
            i = int(NR * 0.5 + 0.999999); j = int(NR * 0.99 + 0.999999)
            printf "%.2f/%.2f/%.2f/%d", v[i], v[j], v[NR], NR }'
}

# server_drops — datagrams the server's UDP socket has dropped so far (a full
# receive buffer: the drops column of its /proc/PID/net/udp line), "-" if
# unreadable.
server_drops() {
    local hexport
    hexport=$(printf '%04X' "$IT_SERVER_PORT")
    # the files that exist only: one line out whatever is missing
    { cat "/proc/$IT_SERVER_PID/net/udp" "/proc/$IT_SERVER_PID/net/udp6" 2>/dev/null || true; } |
        awk -v p=":$hexport" '$2 ~ p"$" { d += $13; n++ } END { if (n) print d; else print "-" }'
}

# iperf_run DIR JSON — iperf3 through the tunnel from the client namespace;
# prints "BYTES BITS_PER_SECOND" (receiver side).
iperf_run() {
    local dir=$1 json=$2 flags=()
    [[ $dir == down ]] && flags=(-R)
    [[ -n $BITRATE ]] && flags+=(-b "$BITRATE")
    ip netns exec "$IT_NS_C" timeout $((SECONDS_PER_RUN + 30)) \
        iperf3 -c "$IT_TUN_SERVER_IP" -t "$SECONDS_PER_RUN" -J "${flags[@]}" \
        >"$json" 2>&1 || true
    python3 - "$json" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
except (OSError, ValueError) as e:
    sys.exit("iperf3 output unreadable: %s" % e)
if "error" in d:
    sys.exit("iperf3: %s" % d["error"])
r = d["end"]["sum_received"]
print(int(r["bytes"]), float(r["bits_per_second"]))
EOF
}

# client_cmd NAME — the command that runs client NAME (layervpn|openvpn|
# openvpn27, or epoch|classic|offload|no-offload: layervpn variants) in CMD,
# its process name in EXE, and for layervpn the values of LVPN_TEST_NO_EPOCH
# and LVPN_NO_UDP_OFFLOAD it runs with in NO_EPOCH and NO_OFFLOAD.
client_cmd() {
    EXE=$1 NO_EPOCH="" NO_OFFLOAD=${LVPN_NO_UDP_OFFLOAD:-}
    case $1 in
    layervpn | epoch | classic | offload | no-offload)
        EXE=layervpn
        [[ $1 == classic ]] && NO_EPOCH=1
        [[ $1 == offload ]] && NO_OFFLOAD=""
        [[ $1 == no-offload ]] && NO_OFFLOAD=1
        CMD=("$LVPN_EXEC" connect --counters "$IT_DIR/client.ovpn")
        if [[ -n ${BENCH_LVPN_ARGS:-} ]]; then
            # shellcheck disable=SC2206 # words on purpose: "--trace FILE"
            CMD+=($BENCH_LVPN_ARGS)
        fi
        ;;
    openvpn) CMD=("$(command -v openvpn)" --config "$IT_DIR/client.ovpn") ;;
    openvpn27)
        # as it_server27_start: a private mount namespace with /dev, /proc,
        # /tmp and $IT_DIR mounted into the chroot; unshare, sh and chroot
        # exec into openvpn, so the PID stays the client's
        EXE=openvpn
        # shellcheck disable=SC2016
        CMD=(unshare --mount --propagation private sh -c '
            r=$1 d=$2; shift 2
            mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" &&
                mount -t tmpfs -o mode=1777 tmpfs "$r/tmp" && mkdir -p "$r$d" &&
                mount --bind "$d" "$r$d" && exec chroot "$r" openvpn "$@"' \
            sh "$IT_SID_DIR" "$IT_DIR" --config "$IT_DIR/client.ovpn" --disable-dco)
        ;;
    *) die "unknown client $1" ;;
    esac
}

# bench_starts RUN PLACEMENT CLIENT... — time to tunnel again, from
# BENCH_STARTS starts per client: bench/startup_driver.py (bench/startup.sh's
# driver) starts the clients alternately in the client namespace, each until
# its "Initialization Sequence Completed" line, then stops it. PLACEMENT as
# in startup.sh (bench_start_round, bench/common.sh): 'apart' pins the
# server to the last CPU and the clients to the others, as a real server
# runs on another host; 'shared' pins nothing, so the kernel may run the
# server on the client's CPU and the client's work while it waits delays
# the server instead (the iperf3 runs are unpinned, as 'shared').
# RES[NAME.ttt_PLACEMENT] gets the median wall ms from fork to the line,
# RES[NAME.tttcpu_PLACEMENT] the median CPU ms to it and
# RES[NAME.tttrange_PLACEMENT] the fastest and slowest start. A single
# start is one sample of a figure that moves by a third from start to start
# here (with the server's and the machine's timing as much as the
# client's), so bench_client's own start stays in the table as before, with
# the medians beside it.
bench_starts() {
    local run=$1 pl=$2 name spec out
    local -a specargs=()
    spec=$IT_DIR/starts-$run-$pl.json out=$IT_DIR/starts-$run-$pl.jsonl
    shift 2
    for name in "$@"; do
        client_cmd "$name"
        if [[ $EXE == layervpn ]]; then
            specargs+=("$name" 3 LD_LIBRARY_PATH "$LVPN_LDPATH" LVPN_TEST_NO_EPOCH "$NO_EPOCH"
                LVPN_NO_UDP_OFFLOAD "$NO_OFFLOAD" "${#CMD[@]}" "${CMD[@]}")
        else
            specargs+=("$name" 0 "${#CMD[@]}" "${CMD[@]}")
        fi
    done
    python3 bench/startup_driver.py spec "$spec" "$STARTS" "$IT_DIR/starts-$run-$pl" \
        "$INIT_PATTERN" "$INIT_TIMEOUT_S" "${specargs[@]}"
    bench_start_round "$pl" "$spec" "$out" ||
        die "run $run: the start driver failed (see $out)"
    for name in "$@"; do
        read -r "RES[$name.ttt_$pl]" "RES[$name.tttcpu_$pl]" "RES[$name.tttrange_$pl]" < <(
            python3 bench/startup_driver.py summary "$out" "$name"
        ) || die "run $run: $name: no start figures (see $out, logs in $IT_DIR/starts-$run-$pl)"
    done
}

# bench_client NAME RUN — start NAME (see client_cmd) in the client namespace,
# measure, stop it; results land in RES[NAME.*].
bench_client() {
    local name=$1 run=$2 log pidfile pid t0 t1 comm dir out bytes bps u0 s0 u1 s1
    local -a cmd
    local p50 p99 pmax pn sd0 sd1 exe no_epoch no_offload perf_pid
    log=$IT_DIR/$name-$run.log
    pidfile=$IT_DIR/$name-$run.pid
    client_cmd "$name"
    cmd=("${CMD[@]}") exe=$EXE no_epoch=$NO_EPOCH no_offload=$NO_OFFLOAD

    # The line is watched by one process that reads the log every
    # millisecond (bench/wait_line.py), started and ready before t0: a
    # shell loop of grep, awk and date forks cost 10-20 ms a round here.
    rm -f "$pidfile" "$IT_DIR/wait-ready" "$IT_DIR/wait-t1"
    python3 bench/wait_line.py "$log" "$INIT_PATTERN" "$INIT_TIMEOUT_S" \
        "$IT_DIR/wait-ready" "$pidfile" >"$IT_DIR/wait-t1" &
    local watcher=$! wrc=0
    while [[ ! -e $IT_DIR/wait-ready ]] && kill -0 "$watcher" 2>/dev/null; do
        sleep 0.01
    done
    # t0 is taken in the client's namespace, by the bash that then execs
    # the client ($EPOCHREALTIME, no fork): `ip netns exec` (a mount
    # namespace, /sys remounted: 10-20 ms here) is the harness, not the
    # client, and was most of both columns. What is left in the figure
    # besides the client is one small write and one exec. (The 2.7
    # column's chroot mounts come after t0, in its own figure.)
    rm -f "$IT_DIR/t0-$name"
    # shellcheck disable=SC2016 # expanded by the inner bash
    cmd=(bash -c 'printf "%s\n" "$EPOCHREALTIME" >"$0" && exec "$@"' \
        "$IT_DIR/t0-$name" "${cmd[@]}")
    # Started from this shell (not in a $(...) subshell), so the client is our
    # child and its exit status can be collected with wait.
    if [[ $exe == layervpn ]]; then
        LVPN_TEST_NO_EPOCH=$no_epoch LVPN_NO_UDP_OFFLOAD=$no_offload \
            LD_LIBRARY_PATH=$LVPN_LDPATH IT_BG_LOG=$log \
            it_bg_in_client "${cmd[@]}" >"$pidfile"
    else
        IT_BG_LOG=$log it_bg_in_client "${cmd[@]}" >"$pidfile"
    fi
    pid=$(<"$pidfile")

    t1=""
    wait "$watcher" || wrc=$?
    ((wrc == 0)) && t1=$(<"$IT_DIR/wait-t1")
    if [[ -z $t1 ]]; then
        say "$name: no '$INIT_PATTERN' (alive=$(alive "$pid" && echo yes || echo no)); tail of $log:"
        tail -n 25 "$log" >&2
        stop_client "$pid" "$name"
        return 1
    fi
    t0=$(tr , . <"$IT_DIR/t0-$name" 2>/dev/null || true) # (a locale's comma)
    if [[ -z $t0 ]]; then
        say "$name: no start time from $IT_DIR/t0-$name"
        stop_client "$pid" "$name"
        return 1
    fi
    RES[$name.ttt]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')

    # ip netns exec (and the libtool wrapper of an uninstalled layervpn) exec into
    # the client, so the PID we hold is the client process itself.
    comm=$(<"/proc/$pid/comm")
    if [[ $comm != "$exe" && $comm != "lt-$exe" ]]; then
        die "$name: pid $pid is '$comm', not the client; CPU/RSS would be wrong"
    fi
    # the connected, idle client's peak, before any transfer
    RES[$name.rss_idle]=$(vm_hwm "$pid")

    for dir in up down; do
        ping_start "$IT_DIR/ping-$name-$dir-$run.txt"
        perf_pid=""
        if [[ -n ${BENCH_PERF:-} && $exe == layervpn ]]; then
            mkdir -p "$BENCH_PERF"
            perf record -q -g -p "$pid" -o "$BENCH_PERF/perf-$name-$dir-$run.data" \
                >/dev/null 2>&1 &
            perf_pid=$!
        fi
        sd0=$(server_drops)
        read -r u0 s0 < <(cpu_ticks "$pid") || die "$name exited before iperf3 $dir"
        out=$(iperf_run "$dir" "$IT_DIR/iperf-$name-$dir-$run.json") ||
            die "$name: iperf3 $dir failed (see $IT_DIR/iperf-$name-$dir-$run.json)"
        read -r u1 s1 < <(cpu_ticks "$pid") || die "$name exited during iperf3 $dir"
        if [[ -n $perf_pid ]]; then
            kill -INT "$perf_pid" 2>/dev/null || true
            wait "$perf_pid" 2>/dev/null || true
        fi
        sd1=$(server_drops)
        if [[ $sd0 == - || $sd1 == - ]]; then
            RES[$name.sdrops_$dir]=-
        else
            RES[$name.sdrops_$dir]=$((sd1 - sd0))
        fi
        IFS=/ read -r p50 p99 pmax pn < <(ping_stats "$IT_DIR/ping-$name-$dir-$run.txt")
        RES[$name.ping50_$dir]=$p50
        RES[$name.ping99_$dir]=$p99
        RES[$name.pingmax_$dir]=$pmax
        RES[$name.pings_$dir]=$pn
        read -r bytes bps <<<"$out"
        RES[$name.mbps_$dir]=$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }')
        RES[$name.cpu_$dir]=$(awk -v t=$((u1 - u0 + s1 - s0)) -v hz="$CLK_TCK" -v n="$bytes" \
            'BEGIN { if (n > 0) printf "%.2f", (t / hz) / (n / 1e9); else print "nan" }')
        RES[$name.cpus_$dir]=$(awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$CLK_TCK" \
            'BEGIN { printf "%.2f/%.2f", u / hz, s / hz }')
        RES[$name.bytes_$dir]=$bytes
    done
    RES[$name.pings]=${RES[$name.pings_up]}/${RES[$name.pings_down]}
    RES[$name.sdrops]=${RES[$name.sdrops_up]}/${RES[$name.sdrops_down]}
    RES[$name.rss]=$(vm_hwm "$pid")
    RES[$name.rss_split]=$(rss_split "$pid")
    read -r RES[$name.pss] RES[$name.priv] < <(pss_priv "$pid")
    RES[$name.dco]=no
    if grep -q 'DCO device' "$log"; then
        RES[$name.dco]=yes
    fi

    if [[ $exe == layervpn ]]; then
        RES[$name.format]=classic
        grep -q 'Data Channel: .*epoch data keys' "$log" && RES[$name.format]=epoch
    fi
    stop_client "$pid" "$name"
    RES[$name.stop]="stop ${STOP_MS} ms, exit $STOP_RC"
    if [[ $exe == layervpn ]]; then
        # --counters output: anything dropped, retransmitted or failed is worth a look
        RES[$name.stopped]=no
        if grep -q 'layervpn: stopped' "$log"; then
            RES[$name.stopped]=yes
        fi
        RES[$name.gso]=$(awk '$1 == "counter" && $2 == "networkio.udp_gso_sends" { print $3 }' "$log")
        RES[$name.gro]=$(awk '$1 == "counter" && $2 == "networkio.udp_gro_datagrams" { print $3 }' "$log")
        RES[$name.holds]=$(awk '$1 == "counter" { c[$2] = $3 } END {
            h = c["networkio.udp_rx_holds"] + 0
            printf "%d, %.0f us on average", h, (h ? c["networkio.udp_rx_hold_us"] / h : 0) }' "$log")
        RES[$name.tunw]=$(awk '$1 == "counter" { c[$2] = $3 } END {
            w = c["tun.gro_writes"] + 0; s = c["tun.gro_segments"] + 0; t = c["tun.tx_packets"] + 0
            printf "%d packets in %d writes: %d coalesced in %d writes (%.1f per write), %d single",
                t, t - s + w, s, w, (w ? s / w : 0), t - s }' "$log")
        RES[$name.anomalies]=$(awk '$1 == "counter" && $2 ~ /drop|retrans|error|fail/ &&
            $3 != 0 { printf "%s%s=%s", sep, $2, $3; sep = " " }' "$log")
        if [[ ${RES[$name.stopped]} != yes ]]; then
            say "layervpn did not report an orderly stop (${RES[$name.stop]}); tail of $log:"
            grep -v '^counter ' "$log" | tail -n 15 >&2
        fi
    fi
}

# ratio A B — A/B with two decimals, "-" when undefined.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "" || b == "" || a == "nan" || b == "nan" || b + 0 == 0) print "-";
        else printf "%.2f", a / b }'
}

row() { # label key
    local l=${RES[$CL_A.$2]:-} o=${RES[$CL_B.$2]:-} c
    printf '%-22s%10s %10s %13s' "$1" "${l:--}" "${o:--}" "$(ratio "$l" "$o")"
    if [[ -n $CL_C ]]; then
        c=${RES[$CL_C.$2]:-}
        printf ' %10s %13s' "${c:--}" "$(ratio "$l" "$c")"
    fi
    printf '\n'
}

row_plain() { # label key: values only, no ratio
    printf '%-22s%10s %10s' "$1" "${RES[$CL_A.$2]:--}" "${RES[$CL_B.$2]:--}"
    [[ -n $CL_C ]] && printf ' %24s' "${RES[$CL_C.$2]:--}"
    printf '\n'
}

print_table() {
    local run=$1
    echo
    echo "== run $run/$RUNS (iperf3 TCP, ${SECONDS_PER_RUN} s per direction${BITRATE:+ at most $BITRATE bit/s}, $CIPHER)"
    printf '%-22s%10s %10s %13s' "" "$CL_A" "$CL_B" "ratio($CL_A/$CL_B)"
    [[ -n $CL_C ]] && printf ' %10s %13s' "$CL_C" "ratio(/$CL_C)"
    printf '\n'
    row "time-to-tunnel ms" ttt
    local pl
    for pl in $PLACEMENTS; do
        row " median, $pl" "ttt_$pl"
        row " (CPU ms, $pl)" "tttcpu_$pl"
        row_plain " (range, $pl)" "tttrange_$pl"
    done
    row "upload Mbit/s" mbps_up
    row "download Mbit/s" mbps_down
    row "CPU s/GB upload" cpu_up
    row "CPU s/GB download" cpu_down
    row "ping p50 ms, up load" ping50_up
    row "ping p99 ms, up load" ping99_up
    row "ping p50 ms, dn load" ping50_down
    row "ping p99 ms, dn load" ping99_down
    row "(ping max ms, up)" pingmax_up
    row "(ping max ms, dn)" pingmax_down
    row_plain "(ping replies up/dn)" pings
    row_plain "(srv drops up/dn)" sdrops
    row "peak RSS kB, idle" rss_idle
    row "peak RSS kB" rss
    row "(Pss kB at the end)" pss
    row "(Private kB at end)" priv
    row_plain "(RSS kB anon/file)" rss_split
    row_plain "(CPU s up usr/sys)" cpus_up
    row_plain "(CPU s down usr/sys)" cpus_down
    echo "$CL_A: ${RES[$CL_A.stop]:-?}, orderly stop ${RES[$CL_A.stopped]:-?}," \
        "nonzero drop/retransmit/error counters: ${RES[$CL_A.anomalies]:-none}"
    if [[ -n ${RES[$CL_A.gso]:-} ]]; then
        echo "$CL_A: UDP GSO sends ${RES[$CL_A.gso]}, datagrams received coalesced (GRO) ${RES[$CL_A.gro]:-?}"
        echo "$CL_A: receive holds ${RES[$CL_A.holds]:-?}"
        echo "$CL_A: tun writes (both directions): ${RES[$CL_A.tunw]:-?}"
    fi
    if [[ -n ${RES[$CL_B.gso]:-} && $MODE != openvpn ]]; then
        echo "$CL_B: UDP GSO sends ${RES[$CL_B.gso]}, datagrams received coalesced (GRO) ${RES[$CL_B.gro]:-?}"
    fi
    echo "$CL_B: ${RES[$CL_B.stop]:-?}${RES[$CL_B.anomalies]:+, nonzero drop/retransmit/error counters: ${RES[$CL_B.anomalies]}}"
    [[ -n $CL_C ]] && echo "$CL_C: ${RES[$CL_C.stop]:-?}, DCO ${RES[$CL_C.dco]:-?}"
    if [[ $MODE == epoch ]]; then
        echo "data format used: $CL_A ${RES[$CL_A.format]:-?}, $CL_B ${RES[$CL_B.format]:-?}"
    fi
    if [[ ${RES[$CL_B.dco]:-no} == yes ]]; then
        echo "note: stock openvpn used DCO (kernel data channel): its CPU is mostly not in its process"
    fi
}

it_setup bench
it_pki
# veth_like_nic NS DEV WHERE: GRO, rx-udp-gro-forwarding and threaded NAPI
veth_like_nic() {
    ip netns exec "$1" ethtool -K "$2" gro on rx-udp-gro-forwarding on >/dev/null 2>&1 ||
        die "ethtool -K $2 gro on rx-udp-gro-forwarding on failed in the $3 namespace"
    ip netns exec "$1" sh -c "echo 1 >/sys/class/net/$2/threaded" ||
        die "threaded NAPI for $2 failed in the $3 namespace"
}
VETH_GRO="off (veth default)"
[[ ${BENCH_VETH_GRO:-1} == 0 ]] || veth_like_nic "$IT_NS_C" vc0 client
SERVER_NAPI="off (veth default: the server's receive runs in the sender's context)"
if [[ ${BENCH_SERVER_NAPI:-1} != 0 ]]; then
    veth_like_nic "$IT_NS_S" vs0 server
    SERVER_NAPI="on, threaded NAPI (as the server's NIC: its receive is not charged to the client)"
fi
say "server veth vs0 NAPI: $SERVER_NAPI"
if ip netns exec "$IT_NS_C" ethtool -k vc0 2>/dev/null | grep -q '^generic-receive-offload: on'; then
    VETH_GRO="on, threaded NAPI (as a physical NIC; only UDP_GRO sockets get coalesced datagrams: layervpn yes, openvpn no)"
fi
say "client veth vc0 GRO: $VETH_GRO"
CL_C=""
if [[ $MODE == openvpn && -z ${BENCH_NO_27:-} ]]; then
    IT_SID_VERSION=$(_it_sid_version "$IT_SID_DIR")
    if [[ -n $IT_SID_VERSION ]]; then
        CL_C=openvpn27
    else
        say "no OpenVPN 2.7 sid chroot in $IT_SID_DIR: no openvpn27 column (the 2.7 tests build it)"
    fi
fi
if [[ $MODE == epoch ]]; then
    it_server_conf proto=udp wrap=tls-crypt ciphers="$CIPHER" extra=disable-dco
    it_server27_start
else
    it_server_conf proto=udp wrap=tls-crypt ciphers="$CIPHER"
    it_server_start
fi
it_client_conf proto=udp wrap=tls-crypt ciphers="$CIPHER"
IT_BG_LOG=$IT_DIR/iperf-server.log it_bg_in_server iperf3 -s >/dev/null
sleep 0.3

for ((run = 1; run <= RUNS; run++)); do
    RES=()
    for pl in $PLACEMENTS; do
        say "run $run/$RUNS: $STARTS starts per client, alternately, $pl"
        # shellcheck disable=SC2086 # CL_C: empty or one word
        bench_starts "$run" "$pl" "$CL_A" "$CL_B" $CL_C
    done
    for client in "$CL_A" "$CL_B" $CL_C; do
        say "run $run/$RUNS: $client"
        bench_client "$client" "$run" || die "$client: tunnel did not come up"
    done
    print_table "$run"
done

echo
echo "layervpn:  $(LD_LIBRARY_PATH=$LVPN_LDPATH "$LVPN_EXEC" --version 2>&1 | head -n 1 || true) ($LVPN_EXEC)"
echo "           built $(date -r "$LVPN_EXEC" '+%F %T %Z'), HEAD $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ $MODE == epoch ]]; then
    echo "server:    $IT_SID_VERSION (sid chroot, disable-dco)"
else
    echo "openvpn:   $(openvpn --version 2>&1 | head -n 1 || true)"
    [[ -n $CL_C ]] && echo "openvpn27: $IT_SID_VERSION (sid chroot, disable-dco)"
fi
echo "mbedTLS:   $(dpkg-query -W libmbedtls-dev 2>/dev/null || echo 'libmbedtls-dev not installed')"
echo "libcrypto: $(dpkg-query -W libssl3 2>/dev/null || echo 'libssl3 not installed')"
echo "libgcrypt: $(dpkg-query -W libgcrypt20 2>/dev/null || echo 'libgcrypt20 not installed')"
# the backend the measured binary was built with: its tree's config.h
echo "dc crypto: $(sed -n 's/^#define LVPN_DC_CRYPTO_\([A-Z]*\) 1$/\1/p' "$(dirname -- "$LVPN_BIN")/../config.h" 2>/dev/null | tr '[:upper:]' '[:lower:]') (configure --with-dc-crypto)"
echo "veth GRO:  client side vc0 $VETH_GRO"
echo "           server side vs0 $SERVER_NAPI"
echo "iperf3:    $(iperf3 --version 2>&1 | head -n 1 || true)"
echo "host:      $(uname -r), $(nproc) CPU(s), $(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
