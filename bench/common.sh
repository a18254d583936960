# shellcheck shell=bash
# shellcheck disable=SC2034 # LVPN_EXEC, LVPN_LDPATH: used by the scripts that source this
# Shared set-up of bench/bench.sh and bench/startup.sh; sourced from the
# source root after the caller's own argument checks.
#
# bench_prepare CMD...  installs the dependencies (tools/install-deps.sh)
#     when one of the commands CMD is missing, builds layervpn if there is
#     no cmd/layervpn yet, loads the integration harness and checks root
#     and the binary. Then it sets:
#   LVPN_EXEC    the program to run: an uninstalled build's cmd/layervpn
#                is a libtool wrapper script (bash that sets
#                LD_LIBRARY_PATH and execs cmd/.libs/layervpn); starting
#                bash costs 15-20 ms that would be charged to layervpn's
#                time to tunnel, and an installed layervpn has no wrapper,
#                so the real binary is run with the wrapper's library path
#                (BENCH_VIA_WRAPPER=1 keeps the wrapper);
#   LVPN_LDPATH  the LD_LIBRARY_PATH to run it with.
# Both are absolute, so they work from any directory.
bench_prepare() {
    local c real ldp
    for c in "$@"; do
        if ! command -v "$c" >/dev/null; then
            bash tools/install-deps.sh
            break
        fi
    done
    if [ ! -x cmd/layervpn ]; then
        ./autogen.sh >/dev/null
        ./configure --quiet
        make -j"$(nproc)" >/dev/null
    fi
    # shellcheck source=tests/integration/lib.sh
    . tests/integration/lib.sh
    it_require_root
    it_lvpn_require_bin
    LVPN_EXEC=$LVPN_BIN
    LVPN_LDPATH=${LD_LIBRARY_PATH:-}
    if [[ ${BENCH_VIA_WRAPPER:-0} != 1 ]] && grep -qs 'libtool wrapper' "$LVPN_BIN"; then
        real=$(dirname -- "$LVPN_BIN")/.libs/$(basename -- "$LVPN_BIN")
        # shellcheck disable=SC2016 # the $ is literal: it is the wrapper's own text
        ldp=$(sed -n 's/^ *LD_LIBRARY_PATH="\([^"$]*\):\$LD_LIBRARY_PATH"$/\1/p' "$LVPN_BIN" | head -n 1)
        if [[ -x $real && -n $ldp ]] &&
            LD_LIBRARY_PATH=$ldp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$real" --version >/dev/null 2>&1; then
            LVPN_EXEC=$(realpath -- "$real")
            LVPN_LDPATH=$(realpath -- "$ldp")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        fi
    fi
}

# bench_start_round PLACEMENT SPEC RESULTS — one round of alternate starts:
# bench/startup_driver.py runs SPEC inside the client namespace, one JSON
# line per start into RESULTS. PLACEMENT 'apart' pins the server
# ($IT_SERVER_PID, all its threads) to the last CPU and the driver and its
# clients to the others, as a real server runs on another host; 'shared'
# pins nothing, so the kernel may run the server on the client's CPU. The
# server is unpinned again afterwards. Returns the driver's status.
# BENCH_SERVER_CPU and BENCH_CLIENT_CPUS say where 'apart' puts them, of
# BENCH_NCPU CPUs (0 to BENCH_SERVER_CPU).
BENCH_NCPU=$(nproc)
BENCH_SERVER_CPU=$((BENCH_NCPU - 1))
BENCH_CLIENT_CPUS=0-$((BENCH_NCPU > 2 ? BENCH_NCPU - 2 : 0))
bench_start_round() {
    local rc=0
    local -a pin=()
    if [[ $1 == apart ]]; then
        taskset -a -p -c "$BENCH_SERVER_CPU" "$IT_SERVER_PID" >/dev/null
        pin=(taskset -c "$BENCH_CLIENT_CPUS")
    fi
    ip netns exec "$IT_NS_C" "${pin[@]}" python3 bench/startup_driver.py run "$2" >"$3" || rc=$?
    taskset -a -p -c "0-$BENCH_SERVER_CPU" "$IT_SERVER_PID" >/dev/null
    return "$rc"
}
