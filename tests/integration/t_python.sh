#!/usr/bin/env bash
# The Python binding as installed: after `make install DESTDIR=...`, the
# layervpn package (ctypes over liblayers, loaded by its soname) runs as uid
# 65534 without capabilities and without TUN against a real OpenVPN 2.6
# server: it pings the server through the tunnel three times, reads the
# counters, drops the echo with the filter hook and restores it (add/remove),
# iterates over events, routes the log to `logging`, and reports
# a wrong CA as layervpn.Error naming the cause (tests/integration/test_layervpn.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
B=$(cd "$(dirname "$LVPN_BIN")/.." && pwd)
if grep -q '^PYTHON = :$' "$B/Makefile"; then echo "SKIP: configured without Python"; exit 77; fi
if [[ $(grep -m1 '^build_libtool_libs=' "$B/libtool") == *=no ]]; then
    echo "SKIP: configured --disable-shared: the binding loads the shared liblayers"; exit 77
fi
it_setup python
it_pki
chmod o+x "$IT_DIR"

D=$IT_DIR/root
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$B" install DESTDIR="$D" >"$IT_DIR/install.log" 2>&1; then
    echo "FAIL: make install"; tail -n 30 "$IT_DIR/install.log"; exit 1
fi
init=$(find "$D" -path '*/layervpn/__init__.py' | head -n 1)
so=$(find "$D" -name 'liblayers.so.0' | head -n 1)
[[ -n $init && -n $so ]] || { echo "FAIL: binding or library not installed"; exit 1; }
site=$(dirname "$(dirname "$init")")
echo "ok: installed ${init#"$D"} and ${so#"$D"}"

it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt
it_nobody_setup
install -m 0644 "$(dirname "$0")/test_layervpn.py" "$U/test_layervpn.py"

rc=0
timeout -s KILL 180 ip netns exec "$IT_NS_C" "${NOBODY[@]}" \
    env -i -C "$U" PATH=/usr/bin:/bin HOME=/nonexistent PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH="$site" LD_LIBRARY_PATH="$(dirname "$so")" LVPN_PY_PREFIX="$site" \
    LVPN_PY_CONFIG="$U/client.ovpn" LVPN_PY_WRONG_CA="$U/wrong-ca.ovpn" \
    LVPN_PY_TARGET="$IT_TUN_SERVER_IP" \
    python3 -m unittest -v test_layervpn >"$IT_DIR/py.log" 2>&1 </dev/null || rc=$?
cat "$IT_DIR/py.log"
if ((rc != 0)); then echo "FAIL: t_python (exit $rc)"; exit 1; fi
if grep -q 'skipped' "$IT_DIR/py.log"; then echo "FAIL: t_python: tests were skipped"; exit 1; fi
echo "PASS: t_python"
