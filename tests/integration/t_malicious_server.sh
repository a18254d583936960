#!/usr/bin/env bash
# A malicious server (issue 14 item 5): tests/integration/malserver.py speaks
# OpenVPN 2.6 far enough (reset, reliability, TLS, key-method 2) for the
# client to trust it, then misbehaves in ways a stock server never does.
# Each case must end in one clear error, or in a bounded drop that a
# counter shows, with peak RSS under RSS_MAX_KB (sampled every 50 ms) and
# never more than one packet sent per packet received (no amplification):
#   endless-continuation  PUSH_REPLY parts that never end: refused after
#                         LVPN__PUSH_MAX_PARTS (64) with LVPN_EPUSH
#   thousands-routes      5,000 routes: "too many routes (max 256)"
#   absurd-cipher         cipher ABSURD-CIPHER-9000: LVPN_ENOCIPHER
#   huge-value            a 12,000-byte option: the message is dropped whole
#                         and counted (tlssession.ctl_msgs_oversize), the
#                         client keeps asking and stays up
#   reneg-storm           20,000 soft resets: one log line, the rest counted
#                         (tlssession.soft_resets_ignored), the client stays up
#   bogus-acks            20,000 packets ACKing ids never sent: counted
#                         (reliabletransport.bogus_acks), the tunnel stays up
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup malserver
it_pki
it_client_conf proto=udp wrap=none
fail=0
RSS_MAX_KB=$((32 * 1024))
MAL=$LVPN_SRCDIR/tests/integration/malserver.py

# run_case MODE STAY_S: start the fake server and the client; sample the
# client's peak RSS until it exits or STAY_S seconds pass; then stop both.
# Sets CASE_LOG, CASE_ALIVE (1 if it was still running), CASE_HWM.
run_case() {
    local mode=$1 stay=$2 spid pid i v
    CASE_LOG=$IT_DIR/lvpn-$mode.log
    spid=$(IT_BG_LOG=$IT_DIR/mal-$mode.log it_bg_in_server python3 "$MAL" \
        --listen "$IT_SERVER_IP:$IT_SERVER_PORT" --pki "$IT_DIR/pki" --mode "$mode")
    it_wait_log "$IT_DIR/mal-$mode.log" 'listening on' 10 || {
        echo "FAIL: $mode: the fake server did not start"
        fail=1
        return
    }
    pid=$(it_lvpn_start "$CASE_LOG")
    CASE_HWM=0
    CASE_ALIVE=0
    for ((i = 0; i < stay * 20; i++)); do
        v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        [[ -n $v ]] || break
        ((v > CASE_HWM)) && CASE_HWM=$v
        sleep 0.05
    done
    [[ -n $(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true) ]] &&
        CASE_ALIVE=1
    it_lvpn_stop "$pid" 10 || { echo "FAIL: $mode: the client ignored SIGTERM"; fail=1; }
    kill -KILL "$spid" 2>/dev/null || true # a test tool: no goodbye needed
    for ((i = 0; i < 50; i++)); do
        ip netns exec "$IT_NS_S" ss -Hun "sport = :$IT_SERVER_PORT" 2>/dev/null |
            grep -q . || break
        sleep 0.1
    done
    local rx tx
    rx=$(it_counter "$CASE_LOG" networkio.rx_packets)
    tx=$(it_counter "$CASE_LOG" networkio.tx_packets)
    echo "  $mode: alive=$CASE_ALIVE peak RSS ${CASE_HWM} kB, packets in $rx out $tx"
    ((CASE_HWM > 0 && CASE_HWM < RSS_MAX_KB)) ||
        { echo "FAIL: $mode: peak RSS ${CASE_HWM} kB (bound $RSS_MAX_KB kB)"; fail=1; }
    ((tx <= rx + 20)) ||
        { echo "FAIL: $mode: sent $tx packets for $rx received"; fail=1; }
    if grep -qE 'AddressSanitizer|runtime error|Segmentation' "$CASE_LOG"; then
        echo "FAIL: $mode: crash or sanitizer report"
        fail=1
    fi
}

expect_exit() { # MODE PATTERN ERRNAME
    if ((CASE_ALIVE)); then
        echo "FAIL: $1: the client still runs; expected it to exit with $3"
        fail=1
    fi
    grep -qF -- "$2" "$CASE_LOG" || { echo "FAIL: $1: no '$2' in the log"; fail=1; }
    grep -q "exiting: .*($3)" "$CASE_LOG" || { echo "FAIL: $1: did not exit with $3"; fail=1; }
    if grep -q 'Initialization Sequence Completed' "$CASE_LOG"; then
        echo "FAIL: $1: the tunnel came up anyway"
        fail=1
    fi
}

expect_up_counted() { # MODE COUNTER MIN [MAX_LOG_LINES PATTERN]
    local v
    ((CASE_ALIVE)) || { echo "FAIL: $1: the client exited"; fail=1; }
    v=$(it_counter "$CASE_LOG" "$2")
    ((v >= $3)) || { echo "FAIL: $1: counter $2 = $v, expected >= $3"; fail=1; }
    if [[ -n ${5:-} ]]; then
        local n
        n=$(grep -c -- "$5" "$CASE_LOG" || true)
        ((n <= $4)) || { echo "FAIL: $1: $n log lines '$5' (at most $4)"; fail=1; }
    fi
}

run_case endless-continuation 30
expect_exit endless-continuation 'PUSH_REPLY: more than 64 push-continuation parts' LVPN_EPUSH

run_case thousands-routes 30
expect_exit thousands-routes 'too many routes (max 256)' LVPN_EPUSH

run_case absurd-cipher 30
expect_exit absurd-cipher "pushed cipher 'ABSURD-CIPHER-9000'" LVPN_ENOCIPHER

run_case huge-value 5
expect_up_counted huge-value tlssession.ctl_msgs_oversize 1 3 'longer than 2047 bytes'
if grep -q 'Initialization Sequence Completed' "$CASE_LOG"; then
    echo "FAIL: huge-value: the tunnel came up on a truncated PUSH_REPLY"
    fail=1
fi

run_case reneg-storm 6
expect_up_counted reneg-storm tlssession.soft_resets_ignored 1000 3 'soft reset for key_id'

run_case bogus-acks 6
expect_up_counted bogus-acks reliabletransport.bogus_acks 10000
grep -q 'Initialization Sequence Completed' "$CASE_LOG" ||
    { echo "FAIL: bogus-acks: the tunnel did not come up"; fail=1; }

((fail == 0)) && echo "PASS: six malicious-server cases: clear errors or counted drops, RSS bounded"
exit "$fail"
