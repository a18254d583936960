#!/usr/bin/env bash
# A server pushing more than a client must swallow (issue 14 item 5, the part
# a stock OpenVPN 2.6 server can be made to send): 400 routes, more than
# LVPN__PUSH_MAX_ROUTES (256); the server splits them over several
# push-continuation parts. The client must refuse the reply with the clear
# error "too many routes (max 256)" and exit (LVPN_EPUSH), the tunnel never
# up, with a bounded peak RSS: pushed options live in one fixed-size struct
# (lvpn__push_t), so memory does not grow with what the server sends.
# Bound asserted: VmHWM below 64 MiB (sampled every 50 ms while it runs).
# (A pushed absurd "cipher" cannot be sent this way: the server appends its
# negotiated cipher after the configured pushes, and the last one wins.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup malpush
it_pki
fail=0
RSS_MAX_KB=$((64 * 1024))

routes=()
for ((i = 0; i < 400; i++)); do
    routes+=("push=route 198.18.$((100 + i / 250)).$((i % 250)) 255.255.255.255")
done
it_server_conf proto=udp wrap=tls-crypt "${routes[@]}"
it_server_start
it_client_conf proto=udp wrap=tls-crypt
log=$IT_DIR/lvpn.log
pid=$(it_lvpn_start "$log")
hwm=0
for ((i = 0; i < 1200; i++)); do # 60 s
    v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [[ -n $v ]] || break
    ((v > hwm)) && hwm=$v
    sleep 0.05
done
# Gone, or a zombie nobody reaped yet (its parent shell has exited).
if [[ -n $(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true) ]]; then
    echo "FAIL: the client still runs 60 s after a PUSH_REPLY with 400 routes"
    it_lvpn_stop "$pid" 10 || true
    fail=1
fi
echo "  $(grep -c 'PUSH: Received control message' "$log" || true) PUSH_REPLY parts, peak RSS ${hwm} kB"
grep -q 'too many routes (max 256)' "$log" || { echo "FAIL: no 'too many routes (max 256)' error"; fail=1; }
grep -q 'exiting: .*(LVPN_EPUSH)' "$log" || { echo "FAIL: the client did not exit with LVPN_EPUSH"; fail=1; }
if grep -q 'Initialization Sequence Completed' "$log"; then
    echo "FAIL: the tunnel came up anyway"
    fail=1
fi
((hwm > 0 && hwm < RSS_MAX_KB)) || { echo "FAIL: peak RSS ${hwm} kB (bound $RSS_MAX_KB kB)"; fail=1; }
((fail)) && tail -n 5 "$log"
it_server_stop
if ((fail)); then echo "FAIL: t_malicious_push"; exit 1; fi
echo "PASS: t_malicious_push"
