#!/usr/bin/env bash
# --pcap against a real OpenVPN 2.6 server, read back with tshark:
# --pcap-layer wire over UDP and TCP (no control-channel wrapping): tshark's
# OpenVPN dissector finds our hard reset and the server's, and the TLS
# ClientHello / ServerHello inside the control packets; --pcap-layer control
# with tls-crypt (UDP) and tls-auth (TCP) on the server: the same, because
# the packets are written after unwrapping; --pcap-layer inside:
# the ICMP echo requests and replies of a ping through the tunnel, written by
# an inside-packet hook (hooks.pcap_seen counts them). The files
# are mode 0600.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v tshark >/dev/null || { echo "SKIP: tshark not installed (tools/install-deps.sh)"; exit 77; }
it_setup pcap
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }

count() { # file decode-as filter
    local f=$1 dec=$2 filt=$3
    tshark -r "$f" ${dec:+-d "$dec"} -Y "$filt" 2>/dev/null | wc -l
}

run_case() { # name proto layer [wrap]
    local name=$1 proto=$2 layer=$3 wrap=${4:-none} log pid cap n
    it_server_conf proto="$proto" wrap="$wrap"
    it_server_start
    it_client_conf proto="$proto" wrap="$wrap"
    log=$IT_DIR/lvpn-$name.log
    cap=$IT_DIR/$name.pcap
    pid=$(it_lvpn_start "$log" --pcap "$cap" --pcap-layer "$layer")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        bad "$name: tunnel did not come up"; tail -n 20 "$log"
        it_lvpn_stop "$pid" 5 || true; it_server_stop; return
    fi
    ip netns exec "$IT_NS_C" ping -c 3 -i 0.2 -W 2 198.19.0.1 >/dev/null 2>&1 ||
        bad "$name: ping through the tunnel failed"
    it_lvpn_stop "$pid" 10 || bad "$name: client did not exit on SIGTERM"
    grep -q 'layervpn: stopped' "$log" || bad "$name: not an orderly stop"
    [[ $(stat -c %a "$cap") == 600 ]] || bad "$name: capture mode $(stat -c %a "$cap")"
    if [[ $layer == wire || $layer == control ]]; then
        local dec="$proto.port==$IT_SERVER_PORT,openvpn"
        n=$(count "$cap" "$dec" "openvpn.opcode == 7")
        ((n >= 1)) || bad "$name: no P_CONTROL_HARD_RESET_CLIENT_V2 in the capture"
        n=$(count "$cap" "$dec" "openvpn.opcode == 8")
        ((n >= 1)) || bad "$name: no P_CONTROL_HARD_RESET_SERVER_V2 in the capture"
        n=$(count "$cap" "$dec" "tls.handshake.type == 1")
        ((n >= 1)) || bad "$name: no TLS ClientHello dissected"
        n=$(count "$cap" "$dec" "tls.handshake.type == 2")
        ((n >= 1)) || bad "$name: no TLS ServerHello dissected"
    else
        n=$(count "$cap" "" "icmp.type == 8 && ip.dst == 198.19.0.1")
        ((n >= 3)) || bad "$name: $n ICMP echo requests captured, want 3"
        n=$(count "$cap" "" "icmp.type == 0 && ip.src == 198.19.0.1")
        ((n >= 3)) || bad "$name: $n ICMP echo replies captured, want 3"
        # written by an inside-packet hook (the public hook chain), not a tap
        n=$(it_counter "$log" hooks.pcap_seen)
        ((n >= 6)) || bad "$name: hooks.pcap_seen $n, want >= 6"
    fi
    if ((fail == 0)); then
        echo "ok: $name ($(tshark -r "$cap" 2>/dev/null | wc -l) packets)"
    else
        tshark -r "$cap" ${dec:+-d "$dec"} 2>/dev/null | head -n 20
    fi
    it_server_stop
}

run_case udp-wire udp wire
run_case tcp-wire tcp wire
run_case udp-inside udp inside
run_case udp-control-tlscrypt udp control tls-crypt
run_case tcp-control-tlsauth tcp control tls-auth

if ((fail)); then echo "FAIL: t_pcap"; exit 1; fi
echo "PASS: t_pcap"
