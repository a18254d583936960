#!/usr/bin/env bash
# The test command: on a fresh Debian 12 machine (as root) installs the
# dependencies, builds, and runs every test (unit + real-server integration).
#   bash tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  bash tools/install-deps.sh
else
  echo "test.sh: not root: skipping package installation (integration tests will skip)"
fi
./autogen.sh >/dev/null
./configure --quiet
make -j"$(nproc)" >/dev/null
# LVPN_TEST_PAUSE_PGID: a process group (.ci/run's background builds, which
# it starts stopped) that is continued once this build is done, stopped
# while the timing-sensitive tests run, and continued after them.
pause() {
  [[ -z ${LVPN_TEST_PAUSE_PGID:-} ]] || kill "-$1" -- "-$LVPN_TEST_PAUSE_PGID" 2>/dev/null || true
}
pause CONT
# Unit tests and integration tests; print every test log on failure.
# Integration tests mostly wait on real servers and timers, and each one
# owns its namespaces (named after its PID) and work directory, so they run
# four at a time (on CI's 2 cores; LVPN_TEST_JOBS changes it). The ones
# whose assertions depend on throughput or on timing under load
# (tools/serial-tests.txt) run alone afterwards; then the two iperf3-heavy
# tests of tools/pair-tests.txt, beside each other. The longest of the
# others (tools/long-tests.txt) start first.
jobs=${LVPN_TEST_JOBS:-4}
# test_list FILE...: the tests those files name, on one line
test_list() { grep -hv '^#' "$@" | tr '\n' ' '; }
serial=$(test_list tools/serial-tests.txt)
pair=$(test_list tools/pair-tests.txt)
long=$(test_list tools/long-tests.txt)
start=$(date +%s)
if ! make -j"$jobs" check VERBOSE=1 "LVPN_SERIAL=$serial $pair" "LVPN_LONG=$long" \
        'TESTS=$(LVPN_LONG) $(filter-out $(LVPN_SERIAL) $(LVPN_LONG),$(UNIT_TESTS) $(INTEGRATION_TESTS) $(DEVKIT_TESTS))'; then
  echo "test.sh: make check failed" >&2
  exit 1
fi
pause STOP
if ! make -j1 check VERBOSE=1 "TESTS=$serial"; then
  pause CONT
  echo "test.sh: make check (serial tests) failed" >&2
  exit 1
fi
pause CONT
if ! make -j2 check VERBOSE=1 "TESTS=$pair"; then
  echo "test.sh: make check (paired tests) failed" >&2
  exit 1
fi
echo "test.sh: make check took $(($(date +%s) - start)) s"
