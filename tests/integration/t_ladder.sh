#!/usr/bin/env bash
# `layervpn trace` on a real session's --trace file (OpenVPN 2.6, UDP,
# tls-crypt): the terminal ladder has our hard reset going right, the
# server's coming back, the ClientHello's TLS record kind, PUSH_REQUEST and
# PUSH_REPLY (with its options) and the state changes; --format svg is
# well-formed XML; the --html page is self-contained (no script, no link,
# no URL but the SVG namespace) and renders in headless Chromium to a
# screenshot that is not blank (PNG decoded with Python's zlib). The same
# session prints --stats-interval 1 tables.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
it_setup ladder
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }

it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt
log=$IT_DIR/lvpn.log trace=$IT_DIR/session.jsonl
pid=$(it_lvpn_start "$log" --trace "$trace" --stats-interval 1)
if it_wait_log "$log" 'Initialization Sequence Completed' 20; then
    ip netns exec "$IT_NS_C" ping -c 2 -i 0.2 -W 2 198.19.0.1 >/dev/null 2>&1 ||
        bad "ping through the tunnel failed"
    # --stats-interval: a per-layer table once the tunnel carried traffic
    it_wait_log "$log" '^  datachannel .* rx_packets=[1-9]' 10 ||
        bad "no --stats-interval table with datachannel packets"
    grep -q '^layervpn stats at [0-9]* s (CONNECTED):' "$log" ||
        bad "no --stats-interval heading"
else
    bad "tunnel did not come up"; tail -n 20 "$log"
fi
it_lvpn_stop "$pid" 10 || bad "client did not exit on SIGTERM"
it_server_stop

txt=$IT_DIR/ladder.txt
"$LVPN_BIN" trace "$trace" >"$txt" || bad "layervpn trace exited $?"
want() { grep -qE -- "$1" "$txt" || bad "text ladder: no line matching '$1'"; }
want '\|-+ CONTROL_HARD_RESET_CLIENT_V2 k0 #0 -+>\|'
want '\|<-+ CONTROL_HARD_RESET_SERVER_V2 k0 #0 ack0 -+\|'
want 'CONTROL_V1 k0 #1 .*\[client_hello\]'
want '\[server_hello certificate'
want '\|=+ PUSH_REQUEST =+>\|'
want '\|<=+ PUSH_REPLY '
want '\|  PUSH_REPLY,.*route 198\.19\.100\.0'
want '\| state ACTIVE'
want '\| TLS done k0: TLSv1\.2'
((fail)) && cat "$txt"

"$LVPN_BIN" trace "$trace" --format svg -o "$IT_DIR/ladder.svg" || bad "svg: exit $?"
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' \
    "$IT_DIR/ladder.svg" || bad "the SVG is not well-formed XML"
html=$IT_DIR/ladder.html
"$LVPN_BIN" trace "$trace" --html "$html" || bad "html: exit $?"
grep -qi '<script\|<link\|@import\|url(http' "$html" && bad "the HTML page loads something"
[[ $(grep -o 'https\?://[^"]*' "$html" | sort -u) == http://www.w3.org/2000/svg ]] ||
    bad "the HTML page has URLs: $(grep -o 'https\?://[^"]*' "$html" | sort -u | head -3)"
grep -q 'PUSH_REQUEST' "$html" && grep -q 'PUSH_REPLY' "$html" || bad "HTML ladder without PUSH_REQUEST/PUSH_REPLY"
! "$LVPN_BIN" trace "$IT_DIR/client.ovpn" >/dev/null 2>&1 || bad "a non-trace file was drawn"

chrome=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chrome ]]; then
    echo "note: chromium not installed (tools/install-deps.sh): HTML rendering not checked"
else
    png=$IT_DIR/ladder.png
    # a private profile and HOME: headless Chromium writes its state there
    HOME=$IT_DIR timeout 90 "$chrome" --headless --no-sandbox --disable-gpu \
        --user-data-dir="$IT_DIR/chromium" --window-size=1100,1400 \
        --screenshot="$png" "file://$html" >"$IT_DIR/chromium.log" 2>&1 ||
        bad "chromium failed: $(tail -n 3 "$IT_DIR/chromium.log")"
    python3 - "$png" <<'PY' || bad "the screenshot is blank or not a PNG"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        hdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = hdr
assert depth == 8 and ctype in (2, 6) and interlace == 0, hdr
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, rows, off = bytearray(stride), [], 0
for _ in range(h):   # undo the PNG row filters
    f, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
    off += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
ink = sum(1 for line in rows for i in range(0, stride, bpp)
          if min(line[i:i + 3]) < 200)
colored = sum(1 for line in rows for i in range(0, stride, bpp)
              if max(line[i:i + 3]) - min(line[i:i + 3]) > 60)
print("  screenshot %dx%d: %d dark pixels, %d coloured" % (w, h, ink, colored))
assert ink > 0.01 * w * h and colored > 1000
PY
fi

if ((fail)); then echo "FAIL: t_ladder"; exit 1; fi
echo "PASS: t_ladder ($(grep -c '|' "$txt") ladder lines)"
