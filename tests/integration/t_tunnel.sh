#!/usr/bin/env bash
# A working tunnel against OpenVPN 2.6: for each data-channel setup, 20 pings
# through the tunnel with 0% loss and iperf3 moving data both ways for 3 s.
# Setups: AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305 over UDP and TCP;
# AES-256-CBC with auth SHA256 over UDP; 'comp-lzo no' and 'compress
# stub-v2' servers (the framing is pushed). The tun device and every route we
# added are gone after SIGTERM. Every handshake's ECDHE is X25519 with our
# share made by Nettle, not mbedTLS (the "Control Channel" line says
# `key exchange x25519 on Nettle`); the server verifies our P-256 key's
# CertificateVerify, which Nettle signs in this build (check_engine).
#
# Offloads: by default the client's counters must show the TUN offloads in
# use (tun.offload_flags) and, over UDP, GSO sends (networkio.udp_gso_sends).
# Two more UDP cases (iperf3 1 s each way) then take `disable-offload tun`
# (a plain TUN, GSO still sent) and `disable-offload udp` (TUN offloads,
# libuv's one-datagram path: no GSO, GRO or batched receive), and a TCP
# case with `disable-offload udp`, which has nothing to turn off there: the
# client must warn so at start, and no other case may have that warning.
# t_tunnel_nooffload.sh runs this same matrix with every offload off
# (LVPN_IT_DISABLE_OFFLOAD=1: `disable-offload` in the client's config,
# both), and then the counters must show none: no TUN offload flags,
# super-packets or coalesced writes, no GSO send, GRO datagram or batched
# in-place receive. (LVPN_IT_DISABLE_OFFLOAD=tun or udp gives
# `disable-offload tun|udp`; LVPN_NO_UDP_OFFLOAD=1 in the environment is
# the same as the latter.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
me=$(basename -- "$0" .sh)
it_require_root
it_lvpn_require_bin
command -v iperf3 >/dev/null || { echo "SKIP: iperf3 not installed (tools/install-deps.sh)"; exit 77; }
offloads=on
case ${LVPN_IT_DISABLE_OFFLOAD:-} in
"") [[ -z ${LVPN_NO_UDP_OFFLOAD:-} ]] || offloads=mixed ;;
1) offloads=off ;;
tun) [[ ${LVPN_NO_UDP_OFFLOAD:-} == 1 ]] && offloads=off || offloads=mixed ;;
*) offloads=mixed ;; # one of the two off: the counters are not checked
esac
it_setup "${me#t_}"
it_pki

IPERF_S=${LVPN_IPERF_SECONDS:-3}
fail=0
iperf_pid=""
bad() { echo "FAIL: $*"; fail=1; }

run_case() { # name proto cipher [server/client switches...]
    local name=$1 proto=$2 cipher=$3 log pid out
    shift 3
    it_server_conf proto="$proto" wrap=tls-crypt ciphers="$cipher" "$@"
    it_server_start
    it_client_conf proto="$proto" wrap=tls-crypt ciphers="$cipher" "$@"
    log=$IT_DIR/lvpn-$name.log
    pid=$(it_lvpn_start "$log")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 15; then
        bad "$name: tunnel did not come up"; tail -n 20 "$log"
        it_lvpn_stop "$pid" 5 || true; it_server_stop; return
    fi
    # the ECDHE share: X25519, made by Nettle, not mbedTLS
    grep -q 'Control Channel: TLSv1.2, .*, key exchange x25519 on Nettle' "$log" ||
        bad "$name: no X25519 on Nettle: $(grep -m1 'Control Channel' "$log")"
    # 20 pings, 0% loss
    out=$(ip netns exec "$IT_NS_C" ping -c 20 -i 0.05 -W 2 198.19.0.1 2>&1 || true)
    if ! grep -q ' 0% packet loss' <<<"$out"; then
        bad "$name: ping: $(grep 'packet loss' <<<"$out")"
    fi
    # iperf3 both ways
    for dir in up down; do
        it_iperf_check "$name" "$dir" "${CASE_IPERF_S:-$IPERF_S}" || fail=1
    done
    # orderly stop removes the device and our routes
    it_lvpn_stop "$pid" 10 || bad "$name: client did not exit on SIGTERM"
    grep -q 'layervpn: stopped' "$log" || bad "$name: not an orderly stop"
    if ip -n "$IT_NS_C" link show tun0 >/dev/null 2>&1; then bad "$name: tun0 still exists"; fi
    if ip -n "$IT_NS_C" route | grep -q '198.19'; then
        bad "$name: routes left: $(ip -n "$IT_NS_C" route | grep 198.19)"
    fi
    check_offloads "$name" "$proto" "$log"
    # `disable-offload udp` on a TCP link has nothing to turn off: one
    # warning at start says so; every other case has none
    if [[ ${LVPN_IT_DISABLE_OFFLOAD:-} == udp && $proto == tcp ]]; then
        grep -q "WARNING: 'disable-offload udp' has nothing to turn off here: no remote is reached over direct UDP" "$log" ||
            bad "$name: no warning that disable-offload udp does nothing over TCP"
    elif grep -q 'nothing to turn off' "$log"; then
        bad "$name: $(grep -m1 'nothing to turn off' "$log")"
    fi
    [[ $fail == 0 ]] && echo "ok: $name ($(grep -o "Data Channel: .*" "$log" | head -n 1))"
    it_server_stop
}

# zero WHY COUNTER... — in check_offloads: each counter (of its n, for its
# name) must read 0
zero() {
    local why=$1 k
    shift
    for k; do
        [[ ${n[$k]} == 0 ]] || bad "$name: $k=${n[$k]} $why"
    done
}

# check_offloads NAME PROTO LOG — the offload counters of the stopped client
check_offloads() {
    local name=$1 proto=$2 log=$3 c v line=""
    local -A n=()
    for c in tun.offload_flags tun.tso_superpackets tun.gro_writes \
        networkio.udp_gso_sends networkio.udp_gro_datagrams networkio.udp_rx_in_place; do
        v=$(it_counter "$log" "$c")
        n[$c]=$v
        line+=" ${c#*.}=$v"
    done
    echo "  $name: offloads $offloads:$line"
    case $offloads in
    on)
        ((${n[tun.offload_flags]} != 0)) || bad "$name: the TUN has no offloads (see the log)"
        if [[ $proto == udp ]]; then
            ((${n[networkio.udp_gso_sends]} > 0)) || bad "$name: no UDP GSO send"
        fi
        ;;
    off) zero "with every offload off" "${!n[@]}" ;;
    tun-off)
        zero "with disable-offload tun" tun.offload_flags tun.tso_superpackets tun.gro_writes
        ((${n[networkio.udp_gso_sends]} > 0)) || bad "$name: no UDP GSO send with disable-offload tun"
        ;;
    udp-off)
        ((${n[tun.offload_flags]} != 0)) || bad "$name: the TUN has no offloads with disable-offload udp"
        zero "with disable-offload udp" networkio.udp_gso_sends networkio.udp_gro_datagrams \
            networkio.udp_rx_in_place
        ;;
    esac
}

# iperf3 server inside the VPN server's namespace, on the tunnel address
# (started once the tun address exists, i.e. after the first server start).
start_iperf() {
    if [[ -z $iperf_pid ]] || ! kill -0 "$iperf_pid" 2>/dev/null; then
        iperf_pid=$(IT_BG_LOG=$IT_DIR/iperf.log it_bg_in_server iperf3 -s)
        sleep 0.3
    fi
}
start_iperf

run_case aes128gcm-udp udp AES-128-GCM
run_case aes256gcm-udp udp AES-256-GCM
run_case chacha-udp udp CHACHA20-POLY1305
run_case aes128gcm-tcp tcp AES-128-GCM
run_case aes256gcm-tcp tcp AES-256-GCM
run_case chacha-tcp tcp CHACHA20-POLY1305
run_case aes256cbc-sha256-udp udp AES-256-CBC auth=SHA256
run_case comp-lzo-no udp AES-256-GCM compress=lzo-no
run_case compress-stub-v2 udp AES-256-GCM compress=stub-v2
# disable-offload's two arguments, each turning one offload off
if [[ $offloads == on ]]; then
    offloads=tun-off LVPN_IT_DISABLE_OFFLOAD=tun CASE_IPERF_S=1 \
        run_case disable-offload-tun udp AES-256-GCM
    offloads=udp-off LVPN_IT_DISABLE_OFFLOAD=udp CASE_IPERF_S=1 \
        run_case disable-offload-udp udp AES-256-GCM
    # over TCP it turns nothing off (a warning; the TUN offloads stay on)
    LVPN_IT_DISABLE_OFFLOAD=udp CASE_IPERF_S=1 \
        run_case disable-offload-udp-tcp tcp AES-256-GCM
fi

if ((fail)); then echo "FAIL: $me"; exit 1; fi
echo "PASS: $me"
