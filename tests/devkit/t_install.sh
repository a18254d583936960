#!/usr/bin/env bash
# The developer kit as installed: `make install DESTDIR=...` puts the library,
# header, liblayers.pc, the CLI and the man pages in place; the embedding
# example (examples/state_watch.c) builds from the installed liblayers.pc alone
# (pkg-config --cflags --libs) and runs against the installed library; the man
# pages render without warnings (man --warnings) and layervpn(8) documents
# every subcommand and option the CLI's usage texts show.
set -euo pipefail
S=${LVPN_SRCDIR:?LVPN_SRCDIR not set}
B=$(cd "$(dirname "${LVPN_BIN:?LVPN_BIN not set}")/.." && pwd)
for tool in make cc pkg-config man; do
    command -v $tool >/dev/null || { echo "FAIL: $tool not installed (tools/install-deps.sh)"; exit 1; }
done
# An installed liblayers is a shared library built without sanitizers; the
# sanitizer tree (tools/test-sanitizers.sh: --disable-shared) has none.
if [[ $(grep -m1 '^build_libtool_libs=' "$B/libtool") == *=no ]]; then
    echo "SKIP: configured --disable-shared: no shared liblayers to install and link"; exit 77
fi
if grep -qE '^LVPN_CFLAGS = .*-fsanitize' "$B/Makefile"; then
    echo "SKIP: sanitizer build: programs linking the installed library would need the sanitizer runtime"
    exit 77
fi
T=$(mktemp -d /tmp/lvpn-install.XXXXXX)
trap '[[ -n ${LVPN_KEEP:-} ]] || rm -rf "$T"' EXIT
D=$T/root
fail=0

# make install from inside make check: not part of the parent's jobserver.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$B" install DESTDIR="$D" >"$T/install.log" 2>&1; then
    echo "FAIL: make install"; tail -n 30 "$T/install.log"; exit 1
fi
pc=$(find "$D" -name liblayers.pc -path '*/pkgconfig/*' | head -n 1)
[[ -n $pc ]] || { echo "FAIL: liblayers.pc not installed"; exit 1; }
# pkgconf prefixes the sysroot to -I, -L and to path variables
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$D
libdir=$(pkg-config --variable=libdir liblayers)
includedir=$(pkg-config --variable=includedir liblayers)
prefix=$(pkg-config --variable=prefix liblayers)
for f in "$includedir/layervpn.h" "$libdir/liblayers.so" "$prefix/bin/layervpn" \
    "$prefix/share/man/man8/layervpn.8" "$prefix/share/man/man3/liblayers.3"; do
    [[ -e $f ]] || { echo "FAIL: not installed: ${f#"$D"}"; fail=1; }
done
((fail == 0)) && echo "ok: installed library, header, liblayers.pc, layervpn, man pages"

# The example, from the installed .pc only (no -I/-L into the source or build tree).
flags=$(pkg-config --cflags --libs liblayers)
if [[ $flags == *"$S"* || $flags == *"$B"* ]]; then
    echo "FAIL: pkg-config points into the source or build tree: $flags"; fail=1
fi
# shellcheck disable=SC2086
if cc -Wall -Wextra -Werror -o "$T/state_watch" "$S/examples/state_watch.c" $flags 2>"$T/cc.err"; then
    echo "ok: examples/state_watch.c builds with: cc ... \$(pkg-config --cflags --libs liblayers)"
else
    echo "FAIL: the example does not build from liblayers.pc"; cat "$T/cc.err"; fail=1
fi
if [[ -x $T/state_watch ]]; then
    rc=0
    LD_LIBRARY_PATH=$libdir "$T/state_watch" >"$T/run.out" 2>&1 || rc=$?
    lib=$(LD_LIBRARY_PATH=$libdir ldd "$T/state_watch" | awk '$1 ~ /^liblayers/ { print $3 }')
    if ((rc != 2)) || ! grep -q '^usage: state_watch' "$T/run.out"; then
        echo "FAIL: the example does not run (exit $rc)"; cat "$T/run.out"; fail=1
    elif [[ $lib != "$libdir"/* ]]; then
        echo "FAIL: the example loads liblayers from '$lib', not the installed copy"; fail=1
    else
        rc=0
        printf 'client\nremote 198.18.0.1\nfrobnicate yes\n' >"$T/bad.ovpn"
        LD_LIBRARY_PATH=$libdir "$T/state_watch" "$T/bad.ovpn" >"$T/bad.out" 2>&1 || rc=$?
        if ((rc != 2)) || ! grep -q 'bad.ovpn:3' "$T/bad.out"; then
            echo "FAIL: the example with a bad config: exit $rc"; cat "$T/bad.out"; fail=1
        else
            echo "ok: the example runs on the installed liblayers ($(head -n 1 "$T/bad.out"))"
        fi
    fi
fi

# Man pages: render without warnings.
for m in "$prefix/share/man/man8/layervpn.8" "$prefix/share/man/man3/liblayers.3"; do
    [[ -f $m ]] || continue
    if ! MANWIDTH=80 man --warnings -l "$m" >"$T/man.txt" 2>"$T/man.err" || [[ -s $T/man.err ]] ||
        [[ $(wc -l <"$T/man.txt") -lt 40 ]]; then
        echo "FAIL: $(basename "$m") does not render cleanly:"; cat "$T/man.err"; fail=1
    else
        echo "ok: $(basename "$m") renders without warnings ($(wc -l <"$T/man.txt") lines)"
    fi
done

# layervpn(8) names every subcommand and option of the usage texts.
man8=$(sed 's/\\-/-/g' "$S/doc/layervpn.8")
usage=$("$LVPN_BIN" --help; "$LVPN_BIN" ping -h)
missing=()
while read -r opt; do
    grep -qE -- "(^|[][ ])$opt([][ ]|\$)" <<<"$man8" || missing+=("$opt")
done < <(grep -oE '(^|[[ ])--?[A-Za-z][A-Za-z0-9-]*' <<<"$usage" | sed 's/^[[ ]//' | sort -u)
for sub in $(sed -n 's/^ *\(usage: \)\{0,1\}layervpn \([a-z]\{1,\}\) .*/\2/p' <<<"$usage" | sort -u); do
    grep -q "^\.SS $sub\$" "$S/doc/layervpn.8" || missing+=("subcommand $sub")
done
if ((${#missing[@]})); then
    echo "FAIL: layervpn(8) does not document: ${missing[*]}"; fail=1
else
    echo "ok: layervpn(8) documents every subcommand and option of the usage texts"
fi

if ((fail)); then echo "FAIL: t_install"; exit 1; fi
echo "PASS: t_install"
