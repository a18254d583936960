#!/usr/bin/env bash
# fragment and mssfix against OpenVPN 2.6.
# 1. fragment 1000 on both ends (UDP; AES-256-GCM, then AES-256-CBC with
#    HMAC-SHA256, whose piece size differs): 10 pings of 3000 bytes (IP-fragmented
#    into 1500-byte tun packets, each cut into data-channel pieces) with 0%
#    loss; an nftables counter on the client's veth sees no data-channel
#    datagram with more than 1000 bytes of UDP payload either way (control
#    packets follow tls-mtu, as in OpenVPN 2.6), and the client's counters
#    show pieces sent and packets reassembled.
# 2. mssfix: the server has 'mssfix 0', the client the default (2.6: 'mssfix
#    1492 mtu'). A TCP connection to an HTTP server in the tunnel, over IPv4
#    and IPv6: the SYN seen on the server's tun (our outbound clamp) and the
#    SYN-ACK seen on the client's tun (our inbound clamp) carry MSS 1400
#    (IPv6: 1380) = 1492 - 28 (outer IPv4+UDP) - 24 (P_DATA_V2 + packet id +
#    GCM tag) - 40 (inner IP + TCP headers). Then 1 s of iperf3 UDP with
#    1,500-byte inner packets: the outer datagrams need IPv4 fragments, a
#    GSO send refuses them, and they must still arrive (sent singly).
# 3. link-mtu 1500, tun-mtu-extra 32, mssfix 1400: the tun MTU link-mtu stands
#    for and the MSS equal those of the stock OpenVPN 2.6 client.
# 4. tun-mtu-max: a server that pushes tun-mtu 1700 gets IV_MTU=1600 and a
#    tun0 of 1600 by default (OpenVPN 2.6's error line), IV_MTU=1700 and
#    working 1700-byte packets with tun-mtu-max 1700.
# 5. max-packet-size 400: none of our control packets has more than 400
#    bytes of UDP payload (the TLS flights are cut to fit), the MSS equals the
#    stock 2.6 client's with the same option ('mssfix 400 mtu'), and pings
#    cross.
# Between 1 and 2, fragment 1000 on the default path (UDP GSO sends of the
# pieces): pings of 3000 bytes, TCP and 1,500-byte UDP packets both ways.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
for t in nft tshark curl; do
    command -v $t >/dev/null || { echo "SKIP: $t not installed (tools/install-deps.sh)"; exit 77; }
done
it_setup mtu
it_pki

fail=0
# (on stderr and in $IT_DIR/failed too: up() runs in a $(...) subshell,
# where its stdout is the pid and a variable set is lost)
bad() { echo "FAIL: $*" >&2; fail=1; : >>"$IT_DIR/failed"; }

# Client-side nftables: data-channel datagrams (opcode P_DATA_V2, the top 5
# bits of the first payload byte) to/from the server, all and oversized.
# (fragment governs data packets only; as in OpenVPN 2.6, control packets
# follow tls-mtu / max-packet-size.)
nft_setup() {
    ip netns exec "$IT_NS_C" nft -f - <<EOF
table inet lvpnmtu {
    chain out {
        type filter hook output priority 0;
        udp dport $IT_PORT @th,64,5 9 counter
        udp dport $IT_PORT @th,64,5 9 udp length > 1008 counter
    }
    chain in {
        type filter hook input priority 0;
        udp sport $IT_PORT @th,64,5 9 counter
        udp sport $IT_PORT @th,64,5 9 udp length > 1008 counter
    }
}
EOF
}
# nft_counts — "out_all out_big in_all in_big" packet counts
nft_counts() {
    ip netns exec "$IT_NS_C" nft list table inet lvpnmtu |
        awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") printf "%s ", $(i + 1) }'
}

up() { # log -> pid, or fails
    it_bg_tunnel "$1" "$LVPN_BIN" connect --counters "$IT_DIR/client.ovpn" ||
        { bad "$1: tunnel did not come up"; return 1; }
}

# ---- 1. fragment 1000 ------------------------------------------------------------
# frag_counts NAME LOG MIN — the stopped client split and reassembled at
# least MIN packets with no malformed or oversized piece, and the server
# rejected none of ours
frag_counts() {
    local name=$1 log=$2 min=$3 split reasm bad_rx
    split=$(it_counter "$log" datachannel.frag_tx_split)
    reasm=$(it_counter "$log" datachannel.frag_rx_reassembled)
    bad_rx=$(($(it_counter "$log" datachannel.frag_drop_malformed) + $(it_counter "$log" datachannel.frag_drop_oversize)))
    echo "  $name: client split $split packets, reassembled $reasm, malformed $bad_rx"
    ((split >= min && reasm >= min)) || bad "$name: pieces not used (split $split, reassembled $reasm)"
    ((bad_rx == 0)) || bad "$name: $bad_rx malformed pieces"
    if grep -E 'FRAG_IN error|FRAG TTL expired' "$IT_DIR/server.log"; then
        bad "$name: the server rejected pieces"
    fi
}

frag_case() { # name piece cipher [switch...]: piece = the largest data piece expected
    local name=$1 piece=$2 cipher=$3 log pid out out_all out_big in_all in_big
    shift 3
    it_server_conf ciphers="$cipher" extra="fragment 1000" "$@"
    it_server_start
    it_client_conf ciphers="$cipher" extra="fragment 1000" "$@"
    nft_setup
    log=$IT_DIR/lvpn-$name.log
    if pid=$(up "$log"); then
        out=$(ip netns exec "$IT_NS_C" ping -c 10 -i 0.2 -W 3 -s 3000 198.19.0.1 2>&1 || true)
        grep -q ' 0% packet loss' <<<"$out" || bad "$name: ping -s 3000: $(grep 'packet loss' <<<"$out")"
        read -r out_all out_big in_all in_big <<<"$(nft_counts)"
        echo "  $name: P_DATA_V2 datagrams out $out_all (over 1000 B payload: $out_big), in $in_all (over: $in_big)"
        [[ ${out_big:-x} == 0 && ${in_big:-x} == 0 ]] || bad "$name: datagrams over 1000 bytes of payload"
        ((${out_all:-0} >= 30 && ${in_all:-0} >= 30)) || bad "$name: too few datagrams counted"
        it_lvpn_stop "$pid" 10 || bad "$name: client did not exit on SIGTERM"
        frag_counts "$name" "$log" 10
        grep -q "MTU: fragment 1000: data pieces of at most $piece bytes" "$log" ||
            bad "$name: no 'pieces of at most $piece' in the log"
        # the server computes the same MSS for this client (its frame dump
        # at verb 4 says mss_fix:N); ours is in the MTU log line
        local ours theirs
        ours=$(sed -n 's/.*TCP MSS clamped to \([0-9]*\).*/\1/p' "$log" | tail -n 1)
        theirs=$(grep -o 'mss_fix:[0-9]*' "$IT_DIR/server.log" | tail -n 1 | cut -d: -f2)
        echo "  $name: TCP MSS ours ${ours:-none}, the server's ${theirs:-none}"
        [[ -n $ours && $ours == "$theirs" ]] || bad "$name: MSS differs from the server's"
        theirs=$(grep -o 'max_frag:[0-9]*' "$IT_DIR/server.log" | tail -n 1 | cut -d: -f2)
        echo "  $name: largest piece ours $piece, the server's ${theirs:-none}"
        [[ $piece == "$theirs" ]] || bad "$name: fragment size differs from the server's"
        [[ $fail == 0 ]] && echo "ok: $name: fragment 1000, ping -s 3000"
    fi
    it_server_stop
    ip netns exec "$IT_NS_C" nft delete table inet lvpnmtu
}
# The nftables counters see each skb at the veth's netdev hooks, and a UDP GSO
# send (layers/networkio/udpbatch.c) is still one skb there: over veth it is
# cut into datagrams only at the receiving socket. So the wire sizes are
# counted on libuv's one-datagram-per-send path; the pieces the fragment layer
# makes are the same on both paths (GSO's segment size is each piece's length).
export LVPN_NO_UDP_OFFLOAD=1
# AES-GCM: 1000 - 24 (opcode/peer-id 4, packet id 4, tag 16) - 4 (fragment header)
frag_case fragment-gcm 972 AES-256-GCM
# AES-CBC/SHA256: 1000 - 52 (4 + IV 16 + HMAC 32) = 948, to whole blocks 944,
# - 1 (padding) - 4 (fragment header) - 4 (packet id, encrypted)
frag_case fragment-cbc 935 AES-256-CBC auth=SHA256
unset LVPN_NO_UDP_OFFLOAD

# The same pieces on the default path, where equal pieces leave in UDP GSO
# sends (the last of a packet shorter, ending a run): pings of 3000 bytes,
# TCP both ways (iperf3 1 s; mssfix makes its segments fit one piece) and
# 1 s of 1,500-byte UDP packets each way (two pieces each): under 10 % lost,
# so the server and we reassemble them at that rate.
it_server_conf ciphers=AES-256-GCM extra="fragment 1000"
it_server_start
it_client_conf ciphers=AES-256-GCM extra="fragment 1000"
IT_BG_LOG=$IT_DIR/iperf.log it_bg_in_server iperf3 -s >/dev/null
log=$IT_DIR/lvpn-fragment-gso.log
if pid=$(up "$log"); then
    out=$(ip netns exec "$IT_NS_C" ping -c 10 -i 0.2 -W 3 -s 3000 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "fragment-gso: ping -s 3000: $(grep 'packet loss' <<<"$out")"
    for dir in up down; do
        it_iperf_check fragment-gso "$dir" 1 || fail=1
        it_udp_burst fragment-gso "$dir" || fail=1
    done
    it_lvpn_stop "$pid" 10 || bad "fragment-gso: client did not exit on SIGTERM"
    frag_counts fragment-gso "$log" 1000
    gso=$(it_counter "$log" networkio.udp_gso_sends)
    echo "  fragment-gso: GSO sends $gso"
    ((gso > 0)) || bad "fragment-gso: no UDP GSO send"
    [[ $fail == 0 ]] && echo "ok: fragment-gso: fragment 1000 with UDP GSO, ping -s 3000, TCP and UDP both ways"
fi
it_server_stop

# ---- 2. mssfix --------------------------------------------------------------------
it_server_conf ciphers=AES-256-GCM ipv6=1 extra="mssfix 0"
it_server_start
it_client_conf ciphers=AES-256-GCM
log=$IT_DIR/lvpn-mssfix.log
if pid=$(up "$log"); then
    echo hello >"$IT_DIR/index.html"
    IT_BG_LOG=$IT_DIR/http4.log it_bg_in_server python3 -m http.server -d "$IT_DIR" \
        -b 198.19.0.1 8080 >/dev/null
    IT_BG_LOG=$IT_DIR/http6.log it_bg_in_server python3 -m http.server -d "$IT_DIR" \
        -b 2001:2:0:8::1 8080 >/dev/null
    IT_BG_LOG=$IT_DIR/cap-s.log it_bg_in_server tshark -n -l -i tun0 -f 'tcp port 8080' \
        -Y 'tcp.flags.syn == 1' -T fields -e ip.version -e ipv6.version \
        -e tcp.flags.ack -e tcp.options.mss_val >/dev/null
    IT_BG_LOG=$IT_DIR/cap-c.log it_bg_in_client tshark -n -l -i tun0 -f 'tcp port 8080' \
        -Y 'tcp.flags.syn == 1' -T fields -e ip.version -e ipv6.version \
        -e tcp.flags.ack -e tcp.options.mss_val >/dev/null
    it_wait_log "$IT_DIR/cap-s.log" 'Capturing on' 20 || bad "mssfix: tshark (server) did not start"
    it_wait_log "$IT_DIR/cap-c.log" 'Capturing on' 20 || bad "mssfix: tshark (client) did not start"
    # the HTTP servers and the server's IPv6 address may take a moment
    # fields: ip.version ipv6.version ack mss; tshark prints as it goes (-l)
    mss_seen() { # file v4|v6 ack
        local col=1 v=4
        [[ $2 == v6 ]] && col=2 v=6
        awk -F'\t' -v c="$col" -v v="$v" -v a="$3" '$c == v && $3 == a { print $4 }' "$1" |
            sort -u | tr '\n' ' '
    }
    all_seen() {
        [[ -n $(mss_seen "$IT_DIR/cap-s.log" v4 0) && -n $(mss_seen "$IT_DIR/cap-s.log" v6 0) &&
            -n $(mss_seen "$IT_DIR/cap-c.log" v4 1) && -n $(mss_seen "$IT_DIR/cap-c.log" v6 1) ]]
    }
    # A capture just started can miss the first handshake on a loaded
    # machine: up to three rounds of connections until both tsharks saw all.
    for round in 1 2 3; do
        for url in http://198.19.0.1:8080/ 'http://[2001:2:0:8::1]:8080/'; do
            ok=0
            for _ in 1 2 3 4 5 6 7 8 9 10; do
                if [[ $(ip netns exec "$IT_NS_C" curl -gsS -m 5 "$url" 2>/dev/null) == hello ]]; then
                    ok=1; break
                fi
                sleep 0.5
            done
            ((ok)) || bad "mssfix: curl $url failed"
        done
        for _ in $(seq 50); do
            all_seen && break
            sleep 0.1
        done
        all_seen && break
    done
    syn4=$(mss_seen "$IT_DIR/cap-s.log" v4 0)
    syn6=$(mss_seen "$IT_DIR/cap-s.log" v6 0)
    ack4=$(mss_seen "$IT_DIR/cap-c.log" v4 1)
    ack6=$(mss_seen "$IT_DIR/cap-c.log" v6 1)
    echo "  mssfix: SYN at the server: IPv4 MSS ${syn4:-none}, IPv6 ${syn6:-none}; SYN-ACK at the client: IPv4 ${ack4:-none}, IPv6 ${ack6:-none}"
    [[ $syn4 == "1400 " ]] || bad "mssfix: IPv4 SYN MSS '${syn4}' at the server, want 1400"
    [[ $syn6 == "1380 " ]] || bad "mssfix: IPv6 SYN MSS '${syn6}' at the server, want 1380"
    [[ $ack4 == "1400 " ]] || bad "mssfix: IPv4 SYN-ACK MSS '${ack4}' at the client, want 1400"
    [[ $ack6 == "1380 " ]] || bad "mssfix: IPv6 SYN-ACK MSS '${ack6}' at the client, want 1380"
    # full-size inner UDP packets: their outer datagrams (1,552 bytes) need
    # IPv4 fragments, which a GSO send refuses; they must go singly
    it_udp_burst mssfix up || fail=1
    it_lvpn_stop "$pid" 10 || bad "mssfix: client did not exit on SIGTERM"
    grep -qE 'UDP GSO refused for [0-9]+-byte datagrams' "$log" ||
        bad "mssfix: no 'UDP GSO refused' line for the datagrams that need fragments"
    clamped=$(it_counter "$log" datachannel.mss_clamped)
    ((clamped >= 4 * round)) || bad "mssfix: mss_clamped counter $clamped, want >= $((4 * round))"
    [[ $fail == 0 ]] && echo "ok: mssfix default clamps SYN and SYN-ACK (IPv4 1400, IPv6 1380)"
fi

# ---- 3. link-mtu, tun-mtu-extra, mssfix N: ours against the stock 2.6 client ------
# The stock client's frame dump (verb 4): tun_mtu before the push (what
# link-mtu stands for), and mss_fix after it.
it_client_conf ciphers=AES-256-GCM extra="link-mtu 1500" extra="tun-mtu-extra 32" \
    extra="mssfix 1400"
spid=$(IT_BG_LOG=$IT_DIR/stock.log it_bg_in_client openvpn --config "$IT_DIR/client.ovpn" --verb 4)
if it_wait_log "$IT_DIR/stock.log" 'Initialization Sequence Completed' 20; then
    s_tun=$(grep 'Data Channel MTU parms' "$IT_DIR/stock.log" | head -n 1 |
        grep -o 'tun_mtu:[0-9]*' | cut -d: -f2)
    s_mss=$(grep 'Data Channel MTU parms' "$IT_DIR/stock.log" | tail -n 1 |
        grep -o 'mss_fix:[0-9]*' | cut -d: -f2)
else
    bad "options: the stock client did not come up"; tail -n 5 "$IT_DIR/stock.log"
fi
it_lvpn_stop "$spid" 10 || true
log=$IT_DIR/lvpn-options.log
if pid=$(up "$log"); then
    o_tun=$(sed -n 's/.*link-mtu 1500 stands for tun-mtu \([0-9]*\).*/\1/p' "$log")
    o_mss=$(sed -n 's/.*TCP MSS clamped to \([0-9]*\).*/\1/p' "$log")
    echo "  options: link-mtu 1500 -> tun-mtu ours ${o_tun:-none}, stock ${s_tun:-none}; mssfix 1400 + tun-mtu-extra 32 -> MSS ours ${o_mss:-none}, stock ${s_mss:-none}"
    [[ -n $o_tun && $o_tun == "${s_tun:-}" ]] || bad "options: link-mtu differs from the stock client"
    [[ -n $o_mss && $o_mss == "${s_mss:-}" ]] || bad "options: MSS differs from the stock client"
    it_lvpn_stop "$pid" 10 || bad "options: client did not exit on SIGTERM"
    [[ $fail == 0 ]] && echo "ok: link-mtu, tun-mtu-extra and mssfix N as the stock 2.6 client"
fi
it_server_stop

# ---- 4. tun-mtu-max ---------------------------------------------------------------
# The server runs tun-mtu 1700 and pushes it. By default we announce IV_MTU=1600
# and cut the pushed value to that, with OpenVPN 2.6's error line; with
# tun-mtu-max 1700 we announce 1700, take it, and 1700-byte packets (DF set)
# cross the tunnel both ways.
it_server_conf ciphers=AES-256-GCM extra="tun-mtu 1700" push="tun-mtu 1700"
it_server_start
it_client_conf ciphers=AES-256-GCM
log=$IT_DIR/lvpn-mtumax-default.log
if pid=$(up "$log"); then
    grep -q 'Server-pushed tun-mtu is too large, please add tun-mtu-max 1700' "$log" ||
        bad "tun-mtu-max: no error line for the pushed 1700"
    mtu=$(ip -n "$IT_NS_C" -o link show tun0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
    [[ $mtu == 1600 ]] || bad "tun-mtu-max: default tun0 mtu $mtu, want 1600"
    grep -q 'IV_MTU=1600' "$IT_DIR/server.log" || bad "tun-mtu-max: the server saw no IV_MTU=1600"
    it_lvpn_stop "$pid" 10 || bad "tun-mtu-max: client did not exit on SIGTERM"
fi
it_client_conf ciphers=AES-256-GCM extra="tun-mtu-max 1700"
log=$IT_DIR/lvpn-mtumax-1700.log
if pid=$(up "$log"); then
    mtu=$(ip -n "$IT_NS_C" -o link show tun0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
    [[ $mtu == 1700 ]] || bad "tun-mtu-max 1700: tun0 mtu $mtu, want 1700"
    grep -q 'IV_MTU=1700' "$IT_DIR/server.log" || bad "tun-mtu-max 1700: the server saw no IV_MTU=1700"
    out=$(ip netns exec "$IT_NS_C" ping -c 5 -i 0.2 -W 2 -M do -s 1672 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" ||
        bad "tun-mtu-max 1700: 1700-byte pings: $(grep -E 'loss|too long' <<<"$out" | head -n 2)"
    grep -q 'Server-pushed tun-mtu is too large' "$log" && bad "tun-mtu-max 1700: pushed 1700 refused"
    it_lvpn_stop "$pid" 10 || bad "tun-mtu-max 1700: client did not exit on SIGTERM"
    [[ $fail == 0 ]] && echo "ok: tun-mtu-max: pushed 1700 cut to IV_MTU 1600 by default, taken with tun-mtu-max 1700 (1700-byte pings cross)"
fi
it_server_stop

# ---- 5. max-packet-size --------------------------------------------------------------
it_server_conf ciphers=AES-256-GCM
it_server_start
it_client_conf ciphers=AES-256-GCM extra="max-packet-size 400"
spid=$(IT_BG_LOG=$IT_DIR/stock-mps.log it_bg_in_client openvpn --config "$IT_DIR/client.ovpn" --verb 4)
s_mss=
if it_wait_log "$IT_DIR/stock-mps.log" 'Initialization Sequence Completed' 20; then
    s_mss=$(grep 'Data Channel MTU parms' "$IT_DIR/stock-mps.log" | tail -n 1 |
        grep -o 'mss_fix:[0-9]*' | cut -d: -f2)
else
    bad "max-packet-size: the stock client did not come up"; tail -n 5 "$IT_DIR/stock-mps.log"
fi
it_lvpn_stop "$spid" 10 || true
# our control packets (any opcode but P_DATA_V2), all and over 400 B of payload
ip netns exec "$IT_NS_C" nft -f - <<EOF
table inet lvpnmps {
    chain out {
        type filter hook output priority 0;
        udp dport $IT_PORT @th,64,5 != 9 counter
        udp dport $IT_PORT @th,64,5 != 9 udp length > 408 counter
    }
}
EOF
log=$IT_DIR/lvpn-mps.log
# one datagram per send, as in case 1: a GSO send is one skb at these hooks
if pid=$(LVPN_NO_UDP_OFFLOAD=1 up "$log"); then
    read -r c_all c_big <<<"$(ip netns exec "$IT_NS_C" nft list table inet lvpnmps |
        awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") printf "%s ", $(i + 1) }')"
    o_mss=$(sed -n 's/.*TCP MSS clamped to \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    echo "  max-packet-size 400: control packets sent $c_all, over 400 B: $c_big; MSS ours ${o_mss:-none}, stock ${s_mss:-none}"
    [[ ${c_big:-x} == 0 ]] || bad "max-packet-size: $c_big control packets over 400 bytes"
    ((${c_all:-0} >= 6)) || bad "max-packet-size: only ${c_all:-0} control packets counted"
    [[ -n $o_mss && $o_mss == "$s_mss" ]] || bad "max-packet-size: MSS differs from the stock client"
    out=$(ip netns exec "$IT_NS_C" ping -c 3 -i 0.2 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "max-packet-size: ping: $(grep 'packet loss' <<<"$out")"
    it_lvpn_stop "$pid" 10 || bad "max-packet-size: client did not exit on SIGTERM"
    [[ $fail == 0 ]] && echo "ok: max-packet-size 400: control packets within 400 bytes, MSS as the stock client"
fi
ip netns exec "$IT_NS_C" nft delete table inet lvpnmps
it_server_stop

[[ ! -e $IT_DIR/failed ]] || fail=1 # a bad in a $(...) subshell
exit $fail
