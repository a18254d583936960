#!/usr/bin/env bash
# Epoch exhaustion against a real OpenVPN 2.7 server: with our usage limit at 1
# (LVPN_TEST_EPOCH_USAGE_LIMIT) every packet we send moves our send epoch; a
# ping flood of 64000 echo requests drives both sides past epoch 0xF000, where
# 2.7 (and we) renegotiate: the tunnel goes on with key_id 1 at epoch 1, and
# the flood loses (almost) nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup t27epochwrap
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }

it_server_conf wrap=tls-crypt extra=disable-dco
it_server27_start
it_client_conf wrap=tls-crypt
log=$IT_DIR/lvpn.log
export LVPN_TEST_EPOCH_USAGE_LIMIT=1
pid=$(it_lvpn_start "$log")
unset LVPN_TEST_EPOCH_USAGE_LIMIT
if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
    bad "tunnel did not come up"; tail -n 20 "$log"
else
    out=$(ip netns exec "$IT_NS_C" timeout 600 ping -f -c 64000 -W 1 198.19.0.1 2>&1 || true)
    echo "  flood: $(grep 'packet loss' <<<"$out")"
    lost=$(awk '/packets transmitted/ {print $1 - $4}' <<<"$out")
    [[ -n $lost ]] && ((lost <= 640)) || bad "flood lost ${lost:-all} of 64000"
    it_wait_log "$log" 'new key \(key_id 1\)' 10 || bad "no renegotiation to key_id 1"
    out=$(ip netns exec "$IT_NS_C" ping -c 10 -i 0.2 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "ping after the renegotiation: $(grep 'packet loss' <<<"$out")"
fi
it_lvpn_stop "$pid" 10 || bad "client did not exit on SIGTERM"
moves=$(it_counter "$log" datachannel.epoch_moves_tx)
echo "  our send epoch moved $moves times; now key_id $(it_counter "$log" datachannel.tx_key_id)" \
    "epoch $(it_counter "$log" datachannel.tx_epoch); server:" \
    "$(grep -o 'TLS: soft reset sec=[^ ]*' "$IT_DIR/server.log" | head -n 1)"
((moves >= 61440)) || bad "only $moves epoch moves (0xF000 = 61440 needed)"
[[ $(it_counter "$log" datachannel.tx_key_id) == 1 ]] || bad "not sending on key_id 1"
n=$(grep -c "Outgoing Epoch Data key 1: Cipher" "$IT_DIR/server.log" || true)
((n == 2)) || bad "the server set up epoch keys $n times (want 2: key_id 0 and 1)"
if grep -qE 'AEAD Decrypt error|unknown epoch|tls-crypt unwrapping failed' "$IT_DIR/server.log"; then
    bad "server rejected packets: $(grep -m1 -E 'AEAD Decrypt error|unknown epoch|tls-crypt unwrapping failed' "$IT_DIR/server.log")"
fi
it_server_stop

if ((fail)); then echo "FAIL: t_27_epoch_wrap"; exit 1; fi
echo "PASS: t_27_epoch_wrap"
