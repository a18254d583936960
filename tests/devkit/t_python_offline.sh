#!/usr/bin/env bash
# The Python binding's offline tests without root or a server (the
# Offline class of tests/integration/test_layervpn.py), against the library
# of this build tree (loaded by its soname through LD_LIBRARY_PATH): version,
# state names, configuration errors as layervpn.Error naming file and line.
# t_python.sh runs the whole file, installed, against a real server.
set -euo pipefail
S=$(cd "${LVPN_SRCDIR:?LVPN_SRCDIR not set}" && pwd) # normalised, as Python reports paths
B=$(cd "$(dirname "${LVPN_BIN:?LVPN_BIN not set}")/.." && pwd)
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[[ -e $B/.libs/liblayers.so.0 ]] || { echo "SKIP: no shared liblayers in this build"; exit 77; }
if grep -qE '^LVPN_CFLAGS = .*-fsanitize' "$B/Makefile"; then
    echo "SKIP: sanitizer build (python3 would need the sanitizer runtime preloaded)"; exit 77
fi
env -C "$S/tests/integration" PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$S/python" \
    LD_LIBRARY_PATH="$B/.libs" LVPN_PY_PREFIX="$S/python" \
    python3 -m unittest -v test_layervpn.Offline
echo "PASS: t_python_offline"
