#!/usr/bin/env bash
# Real compression against OpenVPN 2.6 (issue 8): for comp-lzo and compress
# lz4-v2, with allow-compression yes on both ends, 20 compressible pings and a
# 2 MB compressible file fetched over HTTP through the tunnel, byte-exact
# (sha256). Our counters prove both directions were really compressed: the
# server compressed what we decompressed, and answered pings we compressed.
# The same for compress lz4 (the swapped header byte). Another case: the
# client has no compress option, only allow-compression asym, and takes the
# lz4-v2 framing from the server's push (receive-only). Last: 2.6's default
# (no option) announces stubs only and refuses a pushed comp-lzo.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v curl >/dev/null || { echo "SKIP: curl not installed (tools/install-deps.sh)"; exit 77; }
it_setup compress
it_pki

fail=0
http_pid=""
bad() { echo "FAIL: $*"; fail=1; }

# 2 MB of compressible text (varied lines, so it is not trivially a run).
mkdir -p "$IT_DIR/www"
python3 - "$IT_DIR/www/big.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    i = 0
    while f.tell() < 2 * 1024 * 1024:
        f.write("line %08d: the quick brown fox jumps over the lazy dog %d\n" % (i, i * 7919 % 1000))
        i += 1
PY
want=$(sha256sum <"$IT_DIR/www/big.txt" | cut -d' ' -f1)

run_case() { # name "server extra lines" "client extra lines" expect_tx
    local name=$1 sx=$2 cx=$3 expect_tx=$4 log pid out got n line
    local -a sargs=() cargs=()
    while IFS= read -r line; do [[ -n $line ]] && sargs+=("extra=$line"); done <<<"$sx"
    while IFS= read -r line; do [[ -n $line ]] && cargs+=("extra=$line"); done <<<"$cx"
    it_server_conf wrap=tls-crypt "${sargs[@]}"
    it_server_start
    it_client_conf wrap=tls-crypt "${cargs[@]}"
    log=$IT_DIR/lvpn-$name.log
    pid=$(it_lvpn_start "$log" --verb 4)
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        bad "$name: tunnel did not come up"; tail -n 20 "$log"
        it_lvpn_stop "$pid" 5 || true; it_server_stop; return
    fi
    # peer-info as OpenVPN 2.6 announces it when compression is allowed
    for line in IV_LZ4=1 IV_LZ4v2=1 IV_LZO=1 IV_COMP_STUB=1 IV_COMP_STUBv2=1; do
        grep -q "peer info: $line\$" "$IT_DIR/server.log" ||
            bad "$name: server did not see $line"
    done
    if [[ -z $http_pid ]] || ! kill -0 "$http_pid" 2>/dev/null; then
        http_pid=$(IT_BG_LOG=$IT_DIR/http.log it_bg_in_server \
            python3 -m http.server 8000 --bind 198.19.0.1 --directory "$IT_DIR/www")
        for n in $(seq 50); do
            ip netns exec "$IT_NS_C" curl -s -o /dev/null --max-time 2 \
                http://198.19.0.1:8000/ && break
            sleep 0.2
        done
    fi
    # 20 pings with a compressible payload (above the 100-byte threshold)
    out=$(ip netns exec "$IT_NS_C" ping -c 20 -i 0.05 -W 3 -s 600 -p 61 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "$name: ping: $(grep 'packet loss' <<<"$out")"
    rm -f "$IT_DIR/got.txt"
    ip netns exec "$IT_NS_C" curl -s --max-time 120 -o "$IT_DIR/got.txt" \
        http://198.19.0.1:8000/big.txt || bad "$name: curl failed"
    got=$(sha256sum <"$IT_DIR/got.txt" 2>/dev/null | cut -d' ' -f1 || true)
    [[ $got == "$want" ]] || bad "$name: file differs (sha256 $got, want $want)"
    it_lvpn_stop "$pid" 10 || bad "$name: client did not exit on SIGTERM"
    local dec comp hdr cor ovs
    dec=$(it_counter "$log" datachannel.comp_decompressed)
    comp=$(it_counter "$log" datachannel.comp_compressed)
    hdr=$(it_counter "$log" datachannel.comp_drop_header)
    cor=$(it_counter "$log" datachannel.comp_drop_corrupt)
    ovs=$(it_counter "$log" datachannel.comp_drop_oversize)
    echo "  $name: decompressed $dec, compressed $comp, dropped header/corrupt/oversize $hdr/$cor/$ovs"
    ((dec >= 500)) || bad "$name: only $dec packets decompressed (server did not compress?)"
    if ((expect_tx)); then
        ((comp >= 20)) || bad "$name: only $comp packets compressed"
    else
        ((comp == 0)) || bad "$name: $comp packets compressed without allow-compression yes"
    fi
    ((hdr + cor + ovs == 0)) || bad "$name: compressed packets dropped"
    [[ $fail == 0 ]] && echo "ok: $name"
    it_server_stop
}

run_case comp-lzo "comp-lzo yes
allow-compression yes" "comp-lzo
allow-compression yes" 1
run_case lz4-v2 "compress lz4-v2
allow-compression yes" "compress lz4-v2
allow-compression yes" 1
run_case lz4-swap "compress lz4
allow-compression yes" "compress lz4
allow-compression yes" 1
run_case pushed-lz4-v2-asym "compress lz4-v2
push \"compress lz4-v2\"
allow-compression yes" "allow-compression asym" 0

# OpenVPN 2.6's default (no compression option, no allow-compression) is
# stub-only: stubs announced, pushed real compression refused clearly.
refused_case() {
    local log pid
    it_server_conf wrap=tls-crypt "extra=comp-lzo yes" 'extra=push "comp-lzo yes"' \
        "extra=allow-compression yes"
    it_server_start
    it_client_conf wrap=tls-crypt
    log=$IT_DIR/lvpn-refused.log
    pid=$(it_lvpn_start "$log" --verb 4)
    if it_wait_log "$log" "pushed compression 'lzo', which is not allowed" 20; then
        echo "  refused: $(grep -o "the server pushed compression.*" "$log" | head -n 1)"
    else
        bad "refused: no clear refusal of pushed comp-lzo"; tail -n 20 "$log"
    fi
    if grep -q 'Initialization Sequence Completed' "$log"; then
        bad "refused: the tunnel came up with a refused compression"
    fi
    grep -q 'peer info: IV_LZO_STUB=1$' "$IT_DIR/server.log" ||
        bad "refused: IV_LZO_STUB=1 not announced"
    if grep -qE 'peer info: IV_(LZO|LZ4)=' "$IT_DIR/server.log"; then
        bad "refused: real compression announced without being allowed"
    fi
    it_lvpn_stop "$pid" 10 || true
    [[ $fail == 0 ]] && echo "ok: refused"
    it_server_stop
}
refused_case

if ((fail)); then echo "FAIL: t_compress"; exit 1; fi
echo "PASS: t_compress"
