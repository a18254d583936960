# Shared by t_27_tunnel.sh and t_27_reneg.sh (sourced after lib.sh's
# it_setup and it_pki): one OpenVPN 2.7 server and our client per case, in the
# epoch data format with dynamic tls-crypt, and the checks each case makes.
# shellcheck shell=bash

IPERF_S=${LVPN_IPERF_SECONDS:-3}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
iperf_pid=""
LOG=""
PID=""

# up NAME PROTO CIPHER [server switches] — server + our client, checks the push
# (WRAP=tls-crypt unless set)
up() {
    local name=$1 proto=$2 cipher=$3 push wrap=${WRAP:-tls-crypt}
    shift 3
    it_server_conf proto="$proto" wrap="$wrap" ciphers="$cipher" extra=disable-dco "$@"
    it_server27_start
    it_client_conf proto="$proto" wrap="$wrap" ciphers="$cipher"
    LOG=$IT_DIR/lvpn-$name.log
    PID=$(it_lvpn_start "$LOG" ${TRACE:+--trace "$TRACE"})
    if ! it_wait_log "$LOG" 'Initialization Sequence Completed' 20; then
        bad "$name: tunnel did not come up"; tail -n 20 "$LOG"; tail -n 20 "$IT_DIR/server.log"
        it_lvpn_stop "$PID" 5 || true; it_server_stop; return 1
    fi
    push=$(grep -o "SENT CONTROL \[client1\]: 'PUSH_REPLY,[^']*'" "$IT_DIR/server.log" | tail -n 1)
    echo "  $name: server pushed: ${push#*: }"
    grep -q 'peer info: IV_PROTO=8094$' "$IT_DIR/server.log" ||
        bad "$name: server did not see IV_PROTO=8094 (2+4+8+16+128+256+512+1024+2048+4096)"
    grep -q 'protocol-flags cc-exit tls-ekm dyn-tls-crypt aead-epoch,' <<<"$push" ||
        bad "$name: expected 'protocol-flags cc-exit tls-ekm dyn-tls-crypt aead-epoch' in the PUSH_REPLY"
    it_wait_log "$IT_DIR/server.log" "Outgoing dynamic tls-crypt: Cipher 'AES-256-CTR'" 5 ||
        bad "$name: the server did not set up the dynamic tls-crypt key"
    grep -q 'dynamic tls-crypt: renegotiations use the derived key' "$LOG" ||
        bad "$name: layervpn did not derive the dynamic tls-crypt key"
    grep -q "peer-id 0" <<<"$push" || bad "$name: no peer-id pushed"
    grep -q "cipher $cipher" <<<"$push" || bad "$name: cipher $cipher not pushed"
    grep -q "Outgoing Epoch Data key 1: Cipher '$cipher'" "$IT_DIR/server.log" ||
        bad "$name: the server did not set up epoch data keys"
    grep -q "Data Channel: cipher '$cipher'.*epoch data keys" "$LOG" ||
        bad "$name: layervpn did not use epoch data keys"
    return 0
}

down() { # NAME
    it_lvpn_stop "$PID" 10 || bad "$1: client did not exit on SIGTERM"
    grep -q 'layervpn: stopped' "$LOG" || bad "$1: not an orderly stop"
    # (Not "TLS Error: could not determine wrapping": a tls-crypt-v2 server logs
    # it for our bare ACK of its first reset, 2.6.14 too, and goes on.)
    local rej='AEAD Decrypt error|unknown epoch|Authenticate/Decrypt packet error|tls-crypt unwrapping failed|incoming packet authentication failed|TLS handshake failed'
    if grep -qE "$rej" "$IT_DIR/server.log"; then
        bad "$1: server rejected packets: $(grep -m1 -E "$rej" "$IT_DIR/server.log")"
    fi
    local d
    for d in drop_auth drop_replay; do
        [[ $(it_counter "$LOG" "packetmuxer.$d") == 0 ]] ||
            bad "$1: packetmuxer.$d = $(it_counter "$LOG" "packetmuxer.$d")"
    done
    it_server_stop
}

pings() { # NAME COUNT INTERVAL MAXLOST
    local out lost
    out=$(ip netns exec "$IT_NS_C" ping -c "$2" -i "$3" -W 2 198.19.0.1 2>&1 || true)
    lost=$(awk '/packets transmitted/ {print $1 - $4}' <<<"$out")
    if [[ -z $lost ]] || ((lost > $4)); then
        bad "$1: ping: $(grep 'packet loss' <<<"$out")"
    else
        echo "  $1: $(grep 'packet loss' <<<"$out")"
    fi
}

iperf() { # NAME up|down
    it_iperf_check "$1" "$2" "$IPERF_S" || fail=1
}

start_iperf() {
    if [[ -z $iperf_pid ]] || ! kill -0 "$iperf_pid" 2>/dev/null; then
        iperf_pid=$(IT_BG_LOG=$IT_DIR/iperf.log it_bg_in_server iperf3 -s)
        sleep 0.3
    fi
}
