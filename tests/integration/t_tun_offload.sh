#!/usr/bin/env bash
# TUN offloads against OpenVPN 2.6 (UDP, AES-256-GCM), one server start:
# a 50 MB random file goes down (HTTP GET) and up (HTTP PUT) through the
# tunnel byte-exact (sha256), first with offloads on (the default), then
# with --disable-offload (every offload: the TUN's and UDP GSO/GRO); with
# offloads on, the same again over IPv6 (TSO6 and coalesced TCPv6 writes).
# With offloads on, the client's counters must show that the kernel handed
# it TSO super-packets (tun.tso_superpackets), that it wrote coalesced ones
# (tun.gro_writes) and that it sent UDP GSO runs (networkio.udp_gso_sends);
# with them off, none of these, and no GRO datagram received.
# Between the two, UDP sent with UDP_SEGMENT (as QUIC stacks send;
# udp_gso.py): 200 sends of 16 x 1,200 bytes to the server's tunnel
# address, over IPv4 and IPv6. With USO on the TUN (Linux 6.2 on) the client
# reads one super-packet per send and cuts it itself (tun.tso_superpackets,
# tun.tso_segments); every datagram that arrives must be whole, in place and
# numbered in range, and 95 % must arrive.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v curl >/dev/null || { echo "SKIP: curl not installed (tools/install-deps.sh)"; exit 77; }
it_setup tun_offload
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }
MB=${LVPN_OFFLOAD_MB:-50}

head -c "$((MB * 1024 * 1024))" /dev/urandom >"$IT_DIR/file"
want=$(sha256sum "$IT_DIR/file" | cut -d' ' -f1)

it_server_conf proto=udp wrap=tls-crypt ciphers=AES-256-GCM ipv6=1
it_client_conf proto=udp wrap=tls-crypt ciphers=AES-256-GCM
it_server_start
IT_BG_LOG=$IT_DIR/http.log it_bg_in_server python3 \
    "$(dirname "$0")/httpfile.py" 198.19.0.1 8080 "$IT_DIR/file" >/dev/null
it_wait_log "$IT_DIR/http.log" listening 10 || { cat "$IT_DIR/http.log"; exit 1; }
IT_BG_LOG=$IT_DIR/http6.log it_bg_in_server python3 \
    "$(dirname "$0")/httpfile.py" 2001:2:0:8::1 8080 "$IT_DIR/file" >/dev/null
it_wait_log "$IT_DIR/http6.log" listening 10 || { cat "$IT_DIR/http6.log"; exit 1; }

transfer() { # name url-host
    local name=$1 host=$2 got t0 t1
    t0=$(date +%s.%N)
    got=$(ip netns exec "$IT_NS_C" curl -sS --max-time 60 \
        "http://$host:8080/file" | sha256sum | cut -d' ' -f1) || true
    t1=$(date +%s.%N)
    if [[ $got == "$want" ]]; then
        echo "  $name: down ${MB} MB byte-exact in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
    else
        bad "$name: download sha256 $got, want $want"
    fi
    t0=$(date +%s.%N)
    got=$(ip netns exec "$IT_NS_C" curl -sS --max-time 60 -T "$IT_DIR/file" \
        "http://$host:8080/up") || true
    t1=$(date +%s.%N)
    if [[ $got == "$want" ]]; then
        echo "  $name: up ${MB} MB byte-exact in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
    else
        bad "$name: upload sha256 '$got', want $want"
    fi
}

run_mode() { # name [client args...]
    local name=$1 log pid c
    shift
    offload_flags=0 tso_superpackets=0 gro_writes=0 udp_gso_sends=0 udp_gro_datagrams=0
    log=$IT_DIR/lvpn-$name.log
    pid=$(it_lvpn_start "$log" "$@")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        bad "$name: tunnel did not come up"; tail -n 20 "$log"
        it_lvpn_stop "$pid" 5 || true; return
    fi
    transfer "$name" 198.19.0.1
    [[ $name == on ]] && transfer "$name-ipv6" "[2001:2:0:8::1]"
    it_lvpn_stop "$pid" 10 || bad "$name: client did not exit on SIGTERM"
    grep -q 'layervpn: stopped' "$log" || bad "$name: not an orderly stop"
    for c in offload_flags tso_superpackets tso_segments gro_writes \
        gro_segments csum_completed offload_errors; do
        eval "$c=$(it_counter "$log" "tun.$c")"
    done
    for c in udp_gso_sends udp_gro_datagrams; do
        eval "$c=$(it_counter "$log" "networkio.$c")"
    done
    echo "  $name: offload_flags=$offload_flags tso_superpackets=$tso_superpackets" \
        "tso_segments=$tso_segments gro_writes=$gro_writes gro_segments=$gro_segments" \
        "csum_completed=$csum_completed offload_errors=$offload_errors" \
        "udp_gso_sends=$udp_gso_sends udp_gro_datagrams=$udp_gro_datagrams"
    [[ $offload_errors == 0 ]] || bad "$name: offload_errors=$offload_errors"
}

run_mode on
((offload_flags != 0)) || bad "on: the tun has no offloads (see the log)"
((tso_superpackets > 0)) || bad "on: no TSO super-packet was read"
((gro_writes > 0)) || bad "on: no coalesced write"
((udp_gso_sends > 0)) || bad "on: no UDP GSO send"
[[ $fail == 0 ]] && echo "ok: offloads on"

# uso NAME HOST — 200 UDP_SEGMENT sends of 16 x 1,200 bytes from the client
# namespace to HOST:9000 in the server's (udp_gso.py): every datagram that
# arrives must be whole and in its place, and 95 % of them must arrive (a
# wrong checksum would drop them all at the receiver)
uso() {
    local name=$1 host=$2 res got nbad
    IT_BG_LOG=$IT_DIR/uso-$name.log it_bg_in_server python3 \
        "$(dirname "$0")/udp_gso.py" recv "$host" 9000 3200 3 >/dev/null
    it_wait_log "$IT_DIR/uso-$name.log" listening 10 || { bad "$name: no receiver"; return; }
    ip netns exec "$IT_NS_C" python3 "$(dirname "$0")/udp_gso.py" send "$host" 9000 200 16 1200 ||
        bad "$name: the UDP_SEGMENT sender failed"
    it_wait_log "$IT_DIR/uso-$name.log" '^received' 15 || { bad "$name: the receiver never ended"; return; }
    res=$(grep '^received' "$IT_DIR/uso-$name.log")
    read -r _ got _ nbad <<<"$res"
    echo "  $name: UDP_SEGMENT sends of 16 x 1200 bytes: $got of 3200 datagrams, $nbad bad"
    ((nbad == 0)) || bad "$name: $nbad datagrams cut wrong or duplicated"
    ((got >= 3040)) || bad "$name: only $got of 3200 datagrams arrived"
}

# UDP sent with UDP_SEGMENT (as QUIC stacks do): with USO on the TUN the
# kernel hands the client one super-packet per send, IPv4 and IPv6
log=$IT_DIR/lvpn-uso.log
if pid=$(it_bg_tunnel "$log" "$LVPN_BIN" connect --counters "$IT_DIR/client.ovpn"); then
    uso uso 198.19.0.1
    uso uso-ipv6 2001:2:0:8::1
    it_lvpn_stop "$pid" 10 || bad "uso: client did not exit on SIGTERM"
    flags=$(it_counter "$log" tun.offload_flags)
    sp=$(it_counter "$log" tun.tso_superpackets)
    segs=$(it_counter "$log" tun.tso_segments)
    errs=$(it_counter "$log" tun.offload_errors)
    echo "  uso: offload_flags=$flags tso_superpackets=$sp tso_segments=$segs offload_errors=$errs"
    ((errs == 0)) || bad "uso: offload_errors=$errs"
    # TUN_F_USO4|USO6 (0x20|0x40) where the kernel has them (6.2 on)
    if ((flags & 0x60)); then
        ((sp >= 400)) || bad "uso: $sp super-packets for 400 UDP_SEGMENT sends"
        ((segs >= 6400)) || bad "uso: $segs segments cut from them"
    fi
    [[ $fail == 0 ]] && echo "ok: UDP_SEGMENT sends cut by the client (USO)"
else
    bad "uso: tunnel did not come up"
fi

run_mode off --disable-offload
((offload_flags == 0 && tso_superpackets == 0 && gro_writes == 0)) ||
    bad "off: TUN offloads were used with --disable-offload"
((udp_gso_sends == 0 && udp_gro_datagrams == 0)) ||
    bad "off: UDP offloads were used with --disable-offload"
[[ $fail == 0 ]] && echo "ok: offloads off"

it_server_stop
if ((fail)); then echo "FAIL: t_tun_offload"; exit 1; fi
echo "PASS: t_tun_offload"
