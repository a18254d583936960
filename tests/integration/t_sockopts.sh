#!/usr/bin/env bash
# The outside socket's options against OpenVPN 2.6, over UDP and over TCP:
# - mark 42 (SO_MARK): an nftables counter on the client's output hook sees
#   the packets to the server carry mark 42, and none without it;
# - bind-dev vc0 (SO_BINDTODEVICE): ss shows the socket bound to vc0;
# - mtu-disc yes / no (IP_MTU_DISCOVER): the outer UDP packets carry DF, or
#   do not;
# - the tunnel carries pings each time.
# bind-dev to a device that does not exist ends the client at once (exit 1)
# with one line naming the device, instead of retrying.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
for t in nft ss; do
    command -v $t >/dev/null || { echo "SKIP: $t not installed (tools/install-deps.sh)"; exit 77; }
done
it_setup sockopts
it_pki
fail=0
bad() { echo "FAIL: $*"; fail=1; }

nft_reset() { # fresh counters of packets to the server: marked, DF, no DF
    ip netns exec "$IT_NS_C" nft delete table inet lvpnsock 2>/dev/null || true
    ip netns exec "$IT_NS_C" nft -f - <<EOF
table inet lvpnsock {
    counter marked {}
    counter df {}
    counter nodf {}
    chain out {
        type filter hook output priority 0;
        ip daddr $IT_SERVER_IP meta l4proto { udp, tcp } th dport $IT_PORT meta mark 42 counter name marked
        ip daddr $IT_SERVER_IP udp dport $IT_PORT ip frag-off & 0x4000 != 0 counter name df
        ip daddr $IT_SERVER_IP udp dport $IT_PORT ip frag-off & 0x4000 == 0 counter name nodf
    }
}
EOF
}
count() { # counter name -> packets
    ip netns exec "$IT_NS_C" nft list counter inet lvpnsock "$1" |
        sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# run NAME PROTO OPTIONS... -> checks after a ping through the tunnel
run() {
    local name=$1 proto=$2 log pid out
    shift 2
    nft_reset
    it_client_conf proto="$proto" wrap=tls-crypt "$@"
    log=$IT_DIR/$name.log
    pid=$(it_lvpn_start "$log")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        bad "$name: no tunnel"; tail -n 15 "$log"
        it_lvpn_stop "$pid" 5 || true
        return 1
    fi
    out=$(ip netns exec "$IT_NS_C" ping -c 3 -i 0.2 -W 2 "$IT_TUN_SERVER_IP" 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "$name: ping: $(grep 'packet loss' <<<"$out")"
    SS=$(ip netns exec "$IT_NS_C" ss -Hnaptu 2>/dev/null | grep -F "pid=$pid," || true)
    MARKED=$(count marked) DF=$(count df) NODF=$(count nodf)
    it_lvpn_stop "$pid" 10 || bad "$name: no exit on SIGTERM"
    echo "  $name: marked $MARKED, DF $DF, no DF $NODF; socket: $(awk '{print $1, $5}' <<<"$SS" | head -n 1)"
}

it_server_conf wrap=tls-crypt
it_server_start
if run udp-opts udp extra="mark 42" extra="bind-dev vc0" extra="mtu-disc yes"; then
    ((MARKED > 0)) || bad "udp: no packet carried mark 42"
    ((DF > 0 && NODF == 0)) || bad "udp: mtu-disc yes: DF $DF, without DF $NODF"
    grep -q '%vc0:' <<<"$SS" || bad "udp: socket not bound to vc0: $SS"
fi
if run udp-nodf udp extra="mtu-disc no"; then
    ((MARKED == 0)) || bad "udp without mark: $MARKED packets marked 42"
    ((NODF > 0 && DF == 0)) || bad "udp: mtu-disc no: DF $DF, without DF $NODF"
    grep -q '%vc0:' <<<"$SS" && bad "udp without bind-dev: socket bound to vc0"
fi
((fail == 0)) && echo "ok: UDP: mark 42, bind-dev vc0, mtu-disc yes/no on the outer packets"

# A device that is not there: one line, exit 1, no retry loop.
it_client_conf wrap=tls-crypt extra="bind-dev nosuchdev0"
log=$IT_DIR/nodev.log
pid=$(it_lvpn_start "$log")
if it_lvpn_wait_exit "$pid" 10; then
    grep -q "bind-dev: no network device 'nosuchdev0'" "$log" ||
        bad "bind-dev nosuchdev0: no line naming the device"
    (($(grep -c "bind-dev: no network device" "$log") == 1)) || bad "bind-dev nosuchdev0: retried"
    grep -qE 'exiting: .*\(UV_ENODEV|ENODEV' "$log" || bad "bind-dev nosuchdev0: not an exit with ENODEV: $(tail -n 2 "$log" | tr '\n' ' ')"
    [[ $fail == 0 ]] && echo "ok: bind-dev to a missing device: one line naming it, client ended"
else
    bad "bind-dev nosuchdev0: the client did not end"
    it_lvpn_stop "$pid" 5 || true
fi
it_server_stop

it_server_conf proto=tcp wrap=tls-crypt
it_server_start
if run tcp-opts tcp extra="mark 42" extra="bind-dev vc0"; then
    ((MARKED > 0)) || bad "tcp: no packet carried mark 42"
    grep -q '%vc0:' <<<"$SS" || bad "tcp: socket not bound to vc0: $SS"
    [[ $fail == 0 ]] && echo "ok: TCP: mark 42 from the SYN on, bind-dev vc0"
fi
it_server_stop

if ((fail)); then echo "FAIL: t_sockopts"; exit 1; fi
echo "PASS: t_sockopts"
