#!/usr/bin/env bash
# Builds a second tree with -fsanitize=address,undefined and runs under it
# the unit tests and then the real-server integration tests
# (tests/integration/t_*.sh; they skip, exit 77, when not root). Every
# sanitized process of an integration test writes its reports to a
# directory the test's driver checks (tools/sanitizer-test-driver.sh): any
# ASan, LeakSanitizer or UBSan report fails that test.
#   bash tools/test-sanitizers.sh [--unit-only]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(mktemp -d /tmp/layervpn-asan.XXXXXX)
trap 'rm -rf "$build"' EXIT
cp -a "$src/." "$build/"
cd "$build"
if [ -f Makefile ]; then make distclean >/dev/null 2>&1 || true; fi
./autogen.sh >/dev/null 2>&1
./configure --quiet --enable-sanitizers --disable-shared
make -j"$(nproc)" >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CK_FORK=no
make -j"$(nproc)" check VERBOSE=1 'TESTS=$(UNIT_TESTS)'
if [ "${1:-}" = --unit-only ]; then
    exit 0
fi
# One at a time, like tools/test.sh: the tests share namespace names.
start=$(date +%s)
make -j1 check VERBOSE=1 'TESTS=$(INTEGRATION_TESTS)' \
    SH_LOG_COMPILER="bash $build/tools/sanitizer-test-driver.sh"
echo "test-sanitizers: integration suite under ASan+UBSan took $(($(date +%s) - start)) s"
