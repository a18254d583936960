#!/usr/bin/env bash
# Builds a second tree with -fsanitize=address,undefined and runs under it
# the unit tests and then the real-server integration tests
# (tests/integration/t_*.sh; they skip, exit 77, when not root). Every
# sanitized process of an integration test writes its reports to a
# directory the test's driver checks (tools/sanitizer-test-driver.sh): any
# ASan, LeakSanitizer or UBSan report fails that test.
# The tree is a copy in LVPN_ASAN_BUILD (default /tmp/layervpn-asan-build),
# kept between runs like tools/fuzz.sh's: only what changed is rebuilt.
#   bash tools/test-sanitizers.sh [--unit-only | --build-only]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${LVPN_ASAN_BUILD:-/tmp/layervpn-asan-build}
# shellcheck source=tools/sync-tree.sh
. "$src/tools/sync-tree.sh"
sync_tree "$src" "$build"
cd "$build"
if [[ ! -f Makefile || configure.ac -nt Makefile || Makefile.am -nt Makefile ]]; then
    ./autogen.sh >/dev/null 2>&1
    ./configure --quiet --enable-sanitizers --disable-shared
fi
grep -q -- "--enable-sanitizers" config.status ||
    { echo "test-sanitizers: $build is not configured --enable-sanitizers" >&2; exit 1; }
make -j"$(nproc)" >/dev/null
# the unit test programs too, so that --build-only leaves nothing to build
make -j"$(nproc)" check TESTS= >/dev/null
if [ "${1:-}" = --build-only ]; then
    exit 0
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CK_FORK=no
make -j"$(nproc)" check VERBOSE=1 'TESTS=$(UNIT_TESTS)'
if [ "${1:-}" = --unit-only ]; then
    exit 0
fi
# Three at a time (LVPN_TEST_JOBS changes it; each test owns its
# namespaces): they mostly wait on servers and timers (in CI, `make
# distcheck` and the idle-priority fuzzers run beside them: .ci/run). Two
# at a time took 677 s in a CI rehearsal, three 507 s alone (524 s on
# 2026-12-02, with half of the two cores idle). The timing-sensitive ones of
# tools/serial-tests.txt and the iperf3-heavy ones of tools/pair-tests.txt
# run alone afterwards.
# Left out under the sanitizers, to keep CI within its time budget: tests
# that only repeat a code path another sanitized test already drives, with
# long waits (the 20 s link-down rounds repeat t_reconnect_kill's restart
# path; 30 lossy handshakes repeat t_control's; 64,000 pings repeat
# t_27_tunnel's epoch moves) and the valgrind session (valgrind itself).
# t_27_tunnel (12 cipher/transport/wrap combinations with iperf3: about
# 3 minutes plain) and t_27_reneg (76 s of pings while the 2.7 server
# renegotiates) are left out too: the sanitized t_27_dns, t_27_push_update,
# t_27_auth_pending and t_27_auth_temp run the same epoch and dynamic
# tls-crypt code against the 2.7 server, and t_tunnel_reneg renegotiation.
# t_tun_offload (150 MB over HTTP) is left out as well: the TUN offloads are
# on by default, so the sanitized tests that push bulk TCP through a TUN
# (the iperf3 runs of t_tunnel and t_hostile_traffic) read TSO super-packets
# and write coalesced ones, and check_offload runs sanitized.
# t_tunnel_nooffload (t_tunnel's matrix with the offloads off) is left out:
# the sanitized t_tunnel runs the same ciphers and framings, and libuv's
# UDP path and a plain TUN are what the sanitized TCP, proxy and
# --disable-offload cases of other tests use.
ASAN_SKIP="tests/integration/t_reconnect_linkdown.sh tests/integration/t_control_impair.sh \
tests/integration/t_27_epoch_wrap.sh tests/integration/t_valgrind_session.sh \
tests/integration/t_27_tunnel.sh tests/integration/t_27_reneg.sh \
tests/integration/t_tun_offload.sh tests/integration/t_tunnel_nooffload.sh"
start=$(date +%s)
# test_list FILE...: the tests those files name, on one line
test_list() { grep -hv '^#' "$@" | tr '\n' ' '; }
serial=$(test_list tools/serial-tests.txt tools/pair-tests.txt)
long=$(test_list tools/long-tests.txt)
make -j"${LVPN_TEST_JOBS:-3}" check VERBOSE=1 "ASAN_SKIP=$ASAN_SKIP $serial" "LVPN_LONG=$long" \
    'TESTS=$(filter-out $(ASAN_SKIP),$(LVPN_LONG)) $(filter-out $(ASAN_SKIP) $(LVPN_LONG),$(INTEGRATION_TESTS))' \
    SH_LOG_COMPILER="bash $build/tools/sanitizer-test-driver.sh"
make -j1 check VERBOSE=1 "ASAN_SKIP=$ASAN_SKIP" "LVPN_SERIAL=$serial" \
    'TESTS=$(filter-out $(ASAN_SKIP),$(filter $(LVPN_SERIAL),$(INTEGRATION_TESTS)))' \
    SH_LOG_COMPILER="bash $build/tools/sanitizer-test-driver.sh"
echo "test-sanitizers: integration suite under ASan+UBSan took $(($(date +%s) - start)) s"
