#!/usr/bin/env bash
# The outside link over IPv6, against OpenVPN 2.6: the veth between the
# namespaces also carries 2001:2:0:1::/64 (RFC 5180's benchmarking range) and
# the server listens only there.
#
# 1. `proto udp6`: 20 pings, iperf3 2 s each way; the offload counters show
#    UDP GSO sends and batched receives on the IPv6 socket. mssfix's default
#    (1492 mtu) counts the outer IPv6 and UDP headers (48 bytes, not IPv4's
#    28): the SYN that reaches the server's tun carries MSS 1380, the value
#    OpenVPN's own formula gives (mss.c). Datagrams too long for the link
#    (1,500-byte inner packets: 1,572-byte outer ones) need IPv6 fragments,
#    which a GSO send refuses (EMSGSIZE on Linux 6.x, EINVAL before): the
#    client must log the refusal and send those singly, so a burst of them arrives (iperf3 UDP, 1,472-byte
#    payloads, both ways) and pings of 1,472 bytes get their replies.
# 2. `proto udp` (either family) with an IPv6 literal: the link is IPv6.
# 3. `proto tcp6-client`: pings and iperf3 1 s each way.
# Every client stops in order and leaves no tun device.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
me=$(basename -- "$0" .sh)
it_require_root
it_lvpn_require_bin
for t in iperf3 tshark; do
    command -v "$t" >/dev/null || { echo "SKIP: $t not installed (tools/install-deps.sh)"; exit 77; }
done
it_setup "${me#t_}"
it_pki

S6=2001:2:0:1::1
C6=2001:2:0:1::2
ip -n "$IT_NS_S" addr add "$S6/64" dev vs0 nodad
ip -n "$IT_NS_C" addr add "$C6/64" dev vc0 nodad

fail=0
# (on stderr and in $IT_DIR/failed too: up() runs in a $(...) subshell,
# where its stdout is the pid and a variable set is lost)
bad() { echo "FAIL: $*" >&2; fail=1; : >>"$IT_DIR/failed"; }

# server6 udp6|tcp6-server — a server listening on $S6 only
server6() {
    it_server_conf proto="${1%6*}" wrap=tls-crypt ciphers=AES-256-GCM
    sed -i -e "s/^local .*/local $S6/" -e "s/^proto .*/proto $1/" "$IT_DIR/server.conf"
    it_server_start
}

# client6 PROTO — the client config aimed at $S6
client6() {
    it_client_conf proto="${1%%[0-9-]*}" wrap=tls-crypt ciphers=AES-256-GCM
    sed -i -e "s/^proto .*/proto $1/" -e "s/^remote .*/remote $S6 $IT_PORT/" \
        "$IT_DIR/client.ovpn"
}

# up NAME — start our client; echoes its pid once the tunnel is up
up() {
    local log=$IT_DIR/lvpn-$1.log pid
    if ! pid=$(it_bg_tunnel "$log" "$LVPN_BIN" connect --counters "$IT_DIR/client.ovpn"); then
        bad "$1: tunnel did not come up"
        return 1
    fi
    if ! grep -qF "[$S6]:$IT_PORT" "$log"; then
        bad "$1: the log never names the peer [$S6]:$IT_PORT"
    fi
    echo "$pid"
}

# down NAME PID — orderly stop, no tun left
down() {
    it_lvpn_stop "$2" 10 || bad "$1: client did not exit on SIGTERM"
    grep -q 'layervpn: stopped' "$IT_DIR/lvpn-$1.log" || bad "$1: not an orderly stop"
    if ip -n "$IT_NS_C" link show tun0 >/dev/null 2>&1; then bad "$1: tun0 still exists"; fi
}

# pings NAME SIZE COUNT — COUNT pings of SIZE bytes, none lost
pings() {
    local out
    out=$(ip netns exec "$IT_NS_C" ping -c "$3" -s "$2" -i 0.05 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" ||
        bad "$1: $3 pings of $2 bytes: $(grep 'packet loss' <<<"$out" || echo no result)"
}

IT_BG_LOG=$IT_DIR/iperf.log it_bg_in_server iperf3 -s >/dev/null

# ---- 1. udp6 -----------------------------------------------------------------------
server6 udp6
client6 udp6
if pid=$(up udp6); then
    pings udp6 56 20
    # the SYN of an iperf3 connection as the server's tun sees it
    IT_BG_LOG=$IT_DIR/cap.log it_bg_in_server tshark -n -l -i tun0 -f 'tcp port 5201' \
        -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields \
        -e tcp.options.mss_val >/dev/null
    it_wait_log "$IT_DIR/cap.log" 'Capturing on' 20 || bad "udp6: tshark did not start"
    for dir in up down; do
        it_iperf_check udp6 "$dir" 2 || fail=1
    done
    # tshark prints as it goes (-l), but on a loaded machine it may still be
    # decoding the SYNs when iperf3 is done; no line at all is a failure
    # below, not the end of the script
    it_wait_log "$IT_DIR/cap.log" '^[0-9]+$' 10 || true
    mss=$( (grep -E '^[0-9]+$' "$IT_DIR/cap.log" || true) | sort -u | tr '\n' ' ')
    echo "  udp6: MSS of the SYNs at the server: ${mss:-none}"
    [[ $mss == "1380 " ]] || bad "udp6: SYN MSS '${mss}' at the server, want 1380 (1492 - 48 - 24 - 40)"
    pings udp6-large 1472 5
    it_udp_burst udp6 up || fail=1
    it_udp_burst udp6 down || fail=1
    down udp6 "$pid"
    log=$IT_DIR/lvpn-udp6.log
    gso=$(it_counter "$log" networkio.udp_gso_sends)
    rx=$(it_counter "$log" networkio.udp_rx_in_place)
    echo "  udp6: udp_gso_sends=$gso udp_rx_in_place=$rx"
    ((gso > 0)) || bad "udp6: no UDP GSO send on the IPv6 socket"
    ((rx > 0)) || bad "udp6: no batched receive on the IPv6 socket"
    grep -qE 'UDP GSO refused for [0-9]+-byte datagrams' "$log" ||
        bad "udp6: no 'UDP GSO refused' line for the datagrams that need fragments"
    grep -q "$C6" "$IT_DIR/server.status" 2>/dev/null ||
        grep -q "$C6" "$IT_DIR/server.log" || bad "udp6: the server never saw $C6"
    [[ $fail == 0 ]] && echo "ok: udp6 (GSO $gso sends, MSS 1380, long datagrams sent singly)"
fi

# ---- 2. proto udp, an IPv6 literal ------------------------------------------------
client6 udp
if pid=$(up udp-any); then
    pings udp-any 56 10
    down udp-any "$pid"
    [[ $fail == 0 ]] && echo "ok: proto udp with an IPv6 remote"
fi
it_server_stop

# ---- 3. tcp6 -----------------------------------------------------------------------
server6 tcp6-server
client6 tcp6-client
if pid=$(up tcp6); then
    pings tcp6 56 20
    for dir in up down; do
        it_iperf_check tcp6 "$dir" 1 || fail=1
    done
    down tcp6 "$pid"
    [[ $fail == 0 ]] && echo "ok: tcp6"
fi
it_server_stop

[[ ! -e $IT_DIR/failed ]] || fail=1 # a bad in a $(...) subshell
if ((fail)); then echo "FAIL: $me"; exit 1; fi
echo "PASS: $me"
