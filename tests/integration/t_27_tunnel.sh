#!/usr/bin/env bash
# A working tunnel against a real OpenVPN 2.7 server (Debian sid's package in the
# cached mmdebstrap chroot, see lib.sh it_server27_start): 20 pings with 0% loss
# over UDP with tls-crypt, and the server's PUSH_REPLY carries the protocol-flags
# that match what layervpn announces.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup t27tunnel
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }

run_case() { # name proto cipher
    local name=$1 proto=$2 cipher=$3 log pid out push
    it_server_conf proto="$proto" wrap=tls-crypt ciphers="$cipher" extra=disable-dco
    it_server27_start
    it_client_conf proto="$proto" wrap=tls-crypt ciphers="$cipher"
    log=$IT_DIR/lvpn-$name.log
    pid=$(it_lvpn_start "$log")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        bad "$name: tunnel did not come up"; tail -n 20 "$log"; tail -n 20 "$IT_DIR/server.log"
        it_lvpn_stop "$pid" 5 || true; it_server_stop; return
    fi
    push=$(grep -o "SENT CONTROL \[client1\]: 'PUSH_REPLY,[^']*'" "$IT_DIR/server.log" | tail -n 1)
    echo "  $name: server pushed: ${push#*: }"
    # What a 2.7 server negotiates with a client announcing IV_PROTO bits 1,2,3,7.
    grep -q 'protocol-flags cc-exit tls-ekm,' <<<"$push" ||
        bad "$name: expected 'protocol-flags cc-exit tls-ekm' in the PUSH_REPLY"
    grep -q "peer-id 0" <<<"$push" || bad "$name: no peer-id pushed"
    grep -q "cipher $cipher" <<<"$push" || bad "$name: cipher $cipher not pushed"
    out=$(ip netns exec "$IT_NS_C" ping -c 20 -i 0.1 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "$name: ping: $(grep 'packet loss' <<<"$out")"
    grep -q 'Outgoing Data Channel: Cipher' "$IT_DIR/server.log" ||
        bad "$name: server did not use the classic data channel format"
    it_lvpn_stop "$pid" 10 || bad "$name: client did not exit on SIGTERM"
    [[ $fail == 0 ]] && echo "ok: $name ($IT_SID_VERSION)"
    it_server_stop
}

run_case aes256gcm-udp udp AES-256-GCM

if ((fail)); then echo "FAIL: t_27_tunnel"; exit 1; fi
echo "PASS: t_27_tunnel"
