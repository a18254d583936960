#!/usr/bin/env bash
# Runs every unit test binary under valgrind (memcheck, full leak check) with
# CK_FORK=no so leaks in the tests' own process are seen. Needs a built tree.
#   bash tools/valgrind-unit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -j"$(nproc)" check TESTS= >/dev/null
export CK_FORK=no LVPN_SRCDIR=$PWD
fail=0
for t in tests/*/check_*; do
    case $t in *.c | *.h | *.o | *.log | *.trs) continue ;; esac
    [ -x "$t" ] || continue
    # libtool wrappers: run the real binary
    bin=$t
    [ -x "$(dirname "$t")/.libs/$(basename "$t")" ] && bin="$(dirname "$t")/.libs/$(basename "$t")"
    if valgrind -q --leak-check=full \
        --error-exitcode=1 "$bin" >"/tmp/valgrind-$(basename "$t").log" 2>&1; then
        echo "valgrind clean: $(basename "$t")"
    else
        rc=$?
        if [ "$rc" = 77 ]; then echo "valgrind skip: $(basename "$t")"; continue; fi
        echo "valgrind FAIL: $(basename "$t") (see /tmp/valgrind-$(basename "$t").log)"
        fail=1
    fi
done
exit $fail
