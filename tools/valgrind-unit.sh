#!/usr/bin/env bash
# Runs every unit test binary under valgrind (memcheck, full leak check) with
# CK_FORK=no so leaks in the tests' own process are seen. Needs a built tree.
# One suite per CPU at a time (LVPN_VALGRIND_JOBS changes it): each valgrind
# is single-threaded.
#   bash tools/valgrind-unit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -j"$(nproc)" check TESTS= >/dev/null
export CK_FORK=no LVPN_SRCDIR=$PWD
jobs=${LVPN_VALGRIND_JOBS:-$(nproc)}
res=$(mktemp -d /tmp/layervpn-valgrind.XXXXXX)
trap 'rm -rf "$res"' EXIT

# run_one TEST: its verdict line in $res/NAME
run_one() {
    local t=$1 name bin rc=0
    name=$(basename "$t")
    # libtool wrappers: run the real binary
    bin=$t
    [ -x "$(dirname "$t")/.libs/$name" ] && bin="$(dirname "$t")/.libs/$name"
    valgrind -q --leak-check=full --error-exitcode=1 "$bin" \
        >"/tmp/valgrind-$name.log" 2>&1 || rc=$?
    case $rc in
    0) echo "valgrind clean: $name" ;;
    77) echo "valgrind skip: $name" ;;
    *) echo "valgrind FAIL: $name (see /tmp/valgrind-$name.log)" ;;
    esac >"$res/$name"
}

running=0
for t in tests/*/check_*; do
    case $t in *.c | *.h | *.o | *.log | *.trs) continue ;; esac
    [ -x "$t" ] || continue
    if ((running >= jobs)); then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait
cat "$res"/*
! grep -q '^valgrind FAIL' "$res"/*
