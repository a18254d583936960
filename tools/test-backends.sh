#!/usr/bin/env bash
# The data-channel crypto backends other than the default (configure
# --with-dc-crypto=evp, --with-dc-crypto=mbedtls): tools/test.sh and the
# sanitizer, valgrind and fuzz runs only ever build the default (libgcrypt,
# which tools/install-deps.sh installs), so without this a backend could
# stop building or fail the known-answer tests unnoticed. For each one: a
# separate build in /tmp/lvpn-backend-<name> (a copy of the tree: the source
# directory is already configured in place by tools/test.sh, which rules out
# a VPATH build), then only the unit suites that run packets through
# layers/datachannel/cipher.h or handshakes, built and run with `make check
# TESTS=...`. The mbedtls build is also configured --without-nettle: every
# handshake's X25519 and ECDSA on mbedTLS too (layers/tlssession/x25519.c,
# ecverify.c, ecsign.c), the fallback no other build runs.
#   bash tools/test-backends.sh [--build-only] [backend...]   (default: evp mbedtls)
# --build-only: configure and build, run nothing (.ci/run builds these trees
# in the background while the integration tests wait on their servers).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build_only=0
if [[ ${1:-} == --build-only ]]; then
    build_only=1
    shift
fi
backends=("$@")
((${#backends[@]} > 0)) || backends=(evp mbedtls)
# The suites whose tests seal/open packets (crypto.c, epoch.c, the layer,
# and the TLS-session suites that key the data channel from a handshake),
# and check_engine (X25519's vectors, ECDSA, handshakes).
suites=(tests/datachannel/check_crypto tests/datachannel/check_epoch
    tests/datachannel/check_datachannel tests/datachannel/check_mss
    tests/tlssession/check_keymethod tests/tlssession/check_tlssession
    tests/tlssession/check_push tests/tlssession/check_push_update
    tests/tlssession/check_engine)

log() { echo "test-backends: $*"; }

# shellcheck source=tools/sync-tree.sh
. "$src/tools/sync-tree.sh"

for b in "${backends[@]}"; do
    build=/tmp/lvpn-backend-$b
    start=$(date +%s)
    sync_tree "$src" "$build"
    cd "$build"
    if [[ ! -f Makefile || configure.ac -nt Makefile || Makefile.am -nt Makefile ]]; then
        log "$b: configuring $build"
        ./autogen.sh >autogen.log 2>&1 || { cat autogen.log; exit 1; }
        extra=()
        [[ $b != mbedtls ]] || extra=(--without-nettle)
        ./configure --quiet --disable-integration --with-dc-crypto="$b" "${extra[@]}" >/dev/null
    fi
    grep -q "with-dc-crypto=$b" config.status ||
        { log "$b: $build is not configured --with-dc-crypto=$b" >&2; exit 1; }
    if ! make -j2 "${suites[@]}" >build.log 2>&1; then
        tail -n 40 build.log
        log "$b: build failed" >&2
        exit 1
    fi
    if ((build_only)); then
        log "$b: built ($(($(date +%s) - start)) s)"
        continue
    fi
    # check_PROGRAMS: only these suites (`make check` builds every test
    # program first otherwise)
    if ! make -j2 check VERBOSE=1 "TESTS=${suites[*]}" "check_PROGRAMS=${suites[*]}" \
            >check.log 2>&1; then
        cat check.log
        log "$b: make check failed" >&2
        exit 1
    fi
    grep -E '^# (TOTAL|PASS|FAIL|ERROR):' check.log | tr '\n' ' ' | sed "s/^/test-backends: $b: /"
    echo "($(($(date +%s) - start)) s)"
done
log "OK (${backends[*]})"
