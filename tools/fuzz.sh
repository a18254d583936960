#!/usr/bin/env bash
# Builds the libFuzzer targets (./configure --enable-fuzzing, clang, ASan +
# UBSan) in a separate tree and runs each for SECONDS (default 20) from its
# seed corpus in tests/fuzz/corpus/<target>/. Any crash, leak, timeout or
# sanitizer report fails the run; the reproducer is kept in the work dir.
#
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]
#        tools/fuzz.sh --seeds      regenerate tests/fuzz/corpus/ (gen_corpus)
#        tools/fuzz.sh --build      build the targets, run nothing
# Environment: LVPN_FUZZ_BUILD  build tree (default /tmp/layervpn-fuzz-build),
#              LVPN_FUZZ_WORK   new inputs and crash files (default
#                               $LVPN_FUZZ_BUILD/work; the seeds stay as they are)
#              LVPN_FUZZ_ARGS   extra libFuzzer flags (e.g. "-max_len=1024")
#              LVPN_FUZZ_PARALLEL  targets run at once (default: nproc)
#              LVPN_FUZZ_TIMEOUT   s one input may take before it counts as a
#                               hang (default 10; .ci/run, which fuzzes while
#                               other tests have the CPU first, sets 120)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${LVPN_FUZZ_BUILD:-/tmp/layervpn-fuzz-build}
work=${LVPN_FUZZ_WORK:-$build/work}
TARGETS=(fuzz_wire fuzz_tls_auth fuzz_tls_crypt fuzz_tls_crypt_v2 fuzz_reliable
    fuzz_keymethod fuzz_push fuzz_config fuzz_datachannel fuzz_compress
    fuzz_epoch fuzz_mgmt fuzz_challenge fuzz_proxy fuzz_fragment fuzz_trace
    fuzz_filter fuzz_socks fuzz_offload fuzz_certenv fuzz_memtrim fuzz_chain
    fuzz_ecverify)

log() { printf 'fuzz: %s\n' "$*"; }

# shellcheck source=tools/sync-tree.sh
. "$src/tools/sync-tree.sh"

build_all() {
    sync_tree "$src" "$build"
    cd "$build"
    if [[ ! -f Makefile || configure.ac -nt Makefile || Makefile.am -nt Makefile ]]; then
        log "configuring $build (--enable-fuzzing)"
        ./autogen.sh >"$build/autogen.log" 2>&1 || { cat "$build/autogen.log"; exit 1; }
        ./configure --quiet --enable-fuzzing --disable-integration --disable-shared \
            >/dev/null
    fi
    log "building ${#TARGETS[@]} targets"
    make -j"$(nproc)" "${TARGETS[@]/#/tests/fuzz/}" tests/fuzz/gen_corpus >/dev/null
}

if [[ ${1:-} == --seeds ]]; then
    build_all
    rm -rf "$src/tests/fuzz/corpus"
    "$build/tests/fuzz/gen_corpus" "$src/tests/fuzz/corpus" "$src/tests/data/pki"
    log "seeds written: $(find "$src/tests/fuzz/corpus" -type f | wc -l) files"
    exit 0
fi

if [[ ${1:-} == --build ]]; then
    build_all
    exit 0
fi

secs=${1:-20}
shift || true
((${#@} > 0)) && TARGETS=("$@")
build_all

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# One target: libFuzzer's status in $work/<target>.rc, its output in .log.
run_one() {
    local t=$1 rc=0
    mkdir -p "$work/corpus/$t" "$work/artifacts"
    # shellcheck disable=SC2086 # LVPN_FUZZ_ARGS is a list of flags
    "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout="${LVPN_FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" ${LVPN_FUZZ_ARGS:-} \
        "$work/corpus/$t" "$src/tests/fuzz/corpus/$t" </dev/null >"$work/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$work/$t.rc"
}

# LVPN_FUZZ_PARALLEL targets at a time (default: one per CPU); each still
# gets SECONDS of its own.
par=${LVPN_FUZZ_PARALLEL:-$(nproc)}
mkdir -p "$work"
running=0
for t in "${TARGETS[@]}"; do
    rm -f "$work/$t.rc"
    if ((running >= par)); then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait || true
failed=()
for t in "${TARGETS[@]}"; do
    out=$work/$t.log
    if [[ $(cat "$work/$t.rc" 2>/dev/null) == 0 ]]; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n 1)
        cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$out" | tail -n 1)
        log "$t: OK, ${execs:-?} executions, ${cov:-no stats}"
    else
        failed+=("$t")
        tail -n 60 "$out"
        log "$t: FAILED (log $out, reproducer in $work/artifacts/)"
    fi
done
if ((${#failed[@]} > 0)); then
    log "failed: ${failed[*]}"
    exit 1
fi
log "all ${#TARGETS[@]} targets clean for ${secs}s each"
