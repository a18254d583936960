#!/usr/bin/env bash
# Runs one integration test script (tests/integration/t_*.sh) against the
# ASan + UBSan build, as make's SH_LOG_COMPILER (tools/test-sanitizers.sh).
#
# layervpn runs as root inside network namespaces with its stderr in a log
# the test may never look at, and is usually stopped by SIGTERM, so an
# exit status alone would miss a report (a leak is only found at exit).
# Every sanitized process of this test therefore writes its reports to a
# fresh directory (log_path=<dir>/asan.<pid>; `ip netns exec` keeps the
# environment); after the test they are copied into the test's log, and any
# report fails the test, a skipped one included.
#   usage: sanitizer-test-driver.sh TEST.sh
set -u
dir=$(mktemp -d /tmp/layervpn-san-reports.XXXXXX) || exit 99
chmod 0777 "$dir" # the clients are root, but keep it usable for any uid
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:log_path=$dir/asan${LVPN_ASAN_EXTRA:+:$LVPN_ASAN_EXTRA}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$dir/ubsan"
bash "$@"
rc=$?
mapfile -t reports < <(find "$dir" -type f -size +0c | sort)
if ((${#reports[@]} > 0)); then
    for f in "${reports[@]}"; do
        echo "==== sanitizer report $(basename "$f") ===="
        cat "$f"
    done
    echo "FAIL: ${#reports[@]} sanitizer report(s) from this test (above)"
    ((rc == 0 || rc == 77)) && rc=1
fi
rm -rf "$dir"
exit "$rc"
