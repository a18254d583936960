#!/usr/bin/env bash
# Renegotiation (soft reset) against a real server, with traffic flowing:
# server-initiated (reneg-sec 8 on the server) and client-initiated
# (reneg-sec 8 on our side). Pings every 0.1 s across several key changes
# must not lose more than one packet per renegotiation, and the key_id must
# have moved on. The previous key is kept for OpenVPN's default tran-window
# (3600 s): none is dropped in those runs. A third run (server reneg-sec 5,
# our tran-window 2, 12 s) must drop the previous key after each
# renegotiation that had 2-3 s left, and lose no more pings.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup reneg
it_pki
fail=0
SECS=${LVPN_RENEG_SECONDS:-20}

run_case() { # name server-switches client-args
    local name=$1 sw=$2 log pid out lost n
    shift 2
    # shellcheck disable=SC2086
    it_server_conf proto=udp wrap=tls-crypt $sw
    it_server_start
    it_client_conf proto=udp wrap=tls-crypt
    log=$IT_DIR/lvpn-$name.log
    pid=$(it_lvpn_start "$log" "$@")
    it_wait_log "$log" 'Initialization Sequence Completed' 15 || { echo "FAIL: $name: no tunnel"; fail=1; return; }
    out=$(ip netns exec "$IT_NS_C" ping -c $((SECS * 10)) -i 0.1 -W 1 198.19.0.1 2>&1 || true)
    n=$(grep -c 'renegotiation complete' "$log" || true)
    lost=$(grep -o '[0-9]* received' <<<"$out" | awk '{print $1}')
    echo "  $name: $n renegotiations, $lost/$((SECS * 10)) pings answered"
    if ((n < 2)); then echo "FAIL: $name: expected at least 2 renegotiations"; fail=1; fi
    if ((lost < SECS * 10 - n)); then echo "FAIL: $name: lost more than one ping per renegotiation"; fail=1; fi
    it_lvpn_stop "$pid" 10 || fail=1
    kid=$(it_counter "$log" datachannel.tx_key_id)
    ((kid >= 2)) || { echo "FAIL: $name: data channel still on key_id $kid"; fail=1; }
    expired=$(it_counter "$log" datachannel.keys_expired)
    drops=$(grep -c 'tran-window 2 s elapsed: previous key dropped' "$log" || true)
    echo "  $name: previous keys dropped: $expired (log lines: $drops)"
    if [[ $name == tran-window ]]; then
        ((expired >= 1 && expired >= n - 1 && drops == expired)) ||
            { echo "FAIL: $name: $expired keys dropped after $n renegotiations"; fail=1; }
    elif ((expired != 0)); then
        echo "FAIL: $name: a key was dropped before the default tran-window"; fail=1
    fi
    it_server_stop
}

run_case server-initiated "reneg=8"
run_case client-initiated "" --reneg-sec 8
SECS=12 run_case tran-window "reneg=5" --tran-window 2

if ((fail)); then echo "FAIL: t_tunnel_reneg"; exit 1; fi
echo "PASS: t_tunnel_reneg"
