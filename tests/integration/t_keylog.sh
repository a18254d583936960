#!/usr/bin/env bash
# --keylog against a real OpenVPN 2.6 server, read back with tshark:
# with the key log, tshark decrypts both TLS Finished messages of every
# handshake in a --pcap capture: on the wire (UDP, no control-channel
# wrapping), and at --pcap-layer control with tls-crypt on the server across
# a client-initiated renegotiation (one CLIENT_RANDOM line per handshake).
# (A renegotiation cannot be read on the wire even without wrapping: 2.6
# pushes protocol-flags dyn-tls-crypt, and renegotiations are then tls-crypt
# wrapped with a key derived from the first session.)
# Without the key log no Finished is readable. The key log is mode 0600 and
# its secrets appear in neither the log nor the trace; a symlink and an
# existing file others may read are refused before any I/O.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v tshark >/dev/null || { echo "SKIP: tshark not installed (tools/install-deps.sh)"; exit 77; }
it_setup keylog
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }

# tshark reads all control packets of one UDP conversation as one TLS
# stream, so a renegotiation (a new TLS session under the next key_id)
# looks like a TLS renegotiation inside the first session; each key_id's
# packets are split into their own file first.
finished() { # pcap proto key_id [keylog]: decrypted TLS Finished messages
    local dec="$2.port==$IT_SERVER_PORT,openvpn" k=$IT_DIR/key$3.pcap
    tshark -r "$1" -d "$dec" -Y "openvpn.keyid == $3 && openvpn.opcode != 9" \
        -w "$k" 2>/dev/null
    tshark -r "$k" -d "$dec" ${4:+-o "tls.keylog_file:$4"} \
        -Y 'tls.handshake.type == 20' -T fields -e tls.handshake.type \
        2>/dev/null | tr ',' '\n' | grep -c '^20$' || true
}

# Refusals, before any I/O.
it_client_conf proto=udp
ln -s "$IT_DIR/elsewhere" "$IT_DIR/link.keys"
out=$("$LVPN_BIN" connect --keylog "$IT_DIR/link.keys" "$IT_DIR/client.ovpn" 2>&1) && rc=0 || rc=$?
((rc == 2)) && grep -q 'symbolic link' <<<"$out" || bad "a symlinked key log was not refused (rc $rc: $out)"
[[ ! -e $IT_DIR/elsewhere ]] || bad "the symlink's target was created"
install -m 0644 /dev/null "$IT_DIR/open.keys"
out=$("$LVPN_BIN" connect --keylog "$IT_DIR/open.keys" "$IT_DIR/client.ovpn" 2>&1) && rc=0 || rc=$?
((rc == 2)) && grep -q 'readable or writable by others' <<<"$out" || bad "a mode 0644 key log was not refused (rc $rc: $out)"

run_case() { # name proto layer wrap client-args...
    local name=$1 proto=$2 layer=$3 wrap=$4 log pid cap keys trace n i lines
    shift 4
    it_server_conf proto="$proto" wrap="$wrap"
    it_server_start
    it_client_conf proto="$proto" wrap="$wrap"
    log=$IT_DIR/lvpn-$name.log cap=$IT_DIR/$name.pcap
    keys=$IT_DIR/$name.keys trace=$IT_DIR/$name.trace
    pid=$(it_lvpn_start "$log" --pcap "$cap" --pcap-layer "$layer" \
        --keylog "$keys" --trace "$trace" "$@")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        bad "$name: tunnel did not come up"; tail -n 20 "$log"
        it_lvpn_stop "$pid" 5 || true; it_server_stop; return
    fi
    if [[ $* == *reneg-sec* ]]; then
        it_wait_log "$log" 'renegotiation complete' 30 || bad "$name: no renegotiation"
    fi
    it_lvpn_stop "$pid" 10 || bad "$name: client did not exit on SIGTERM"
    grep -q 'WARNING: writing TLS keys' "$log" || bad "$name: no key log warning"
    [[ $(stat -c %a "$keys") == 600 ]] || bad "$name: key log mode $(stat -c %a "$keys")"
    lines=$(grep -cE '^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$' "$keys" || true)
    want=1; [[ $* == *reneg-sec* ]] && want=2
    ((lines >= want)) || bad "$name: $lines CLIENT_RANDOM lines, want $want"
    [[ $(wc -l <"$keys") == "$lines" ]] || bad "$name: key log has other lines"
    [[ $(cut -d' ' -f2 "$keys" | sort -u | wc -l) == "$lines" ]] || bad "$name: repeated client random"
    while read -r _ _ secret; do
        if grep -qi "$secret" "$log" "$trace"; then bad "$name: a master secret in the log or trace"; fi
    done <"$keys"
    n=$(finished "$cap" "$proto" 0)
    ((n == 0)) || bad "$name: $n Finished readable without the key log"
    for ((i = 0; i < lines; i++)); do
        n=$(finished "$cap" "$proto" "$i" "$keys")
        ((n == 2)) || bad "$name: key_id $i: $n TLS Finished decrypted, want 2"
    done
    ((fail)) || echo "ok: $name ($lines handshakes, both Finished of each decrypted)"
    it_server_stop
}

run_case udp-wire udp wire none
run_case udp-control-tlscrypt-reneg udp control tls-crypt --reneg-sec 6

if ((fail)); then echo "FAIL: t_keylog"; exit 1; fi
echo "PASS: t_keylog"
