#!/usr/bin/env bash
# Builds a second tree with -fsanitize=address,undefined and runs the unit
# tests under it (the integration tests already ran in the normal build).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(mktemp -d /tmp/layervpn-asan.XXXXXX)
trap 'rm -rf "$build"' EXIT
cp -a "$src/." "$build/"
cd "$build"
if [ -f Makefile ]; then make distclean >/dev/null 2>&1 || true; fi
./autogen.sh >/dev/null 2>&1
./configure --quiet --enable-sanitizers --disable-integration --disable-shared
make -j"$(nproc)" >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CK_FORK=no
make -j"$(nproc)" check VERBOSE=1
