#!/usr/bin/env bash
# Rootless ping: `layervpn ping CONFIG TARGET -c 5` run as uid 65534 with no
# capabilities (inside the client namespace, no TUN device) gets 5 replies from
# the server's tunnel address through a real OpenVPN 2.6 server and exits 0 with
# ping(8)'s output; with the wrong CA it exits 1 with one line naming the cause.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup ping
it_pki
it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt
# The unprivileged user reads its own copy of the config and the PKI files.
it_nobody_setup
NOBODY=(ip netns exec "$IT_NS_C" "${NOBODY[@]}")

fail=0
# The unprivileged process really has no capabilities.
caps=$("${NOBODY[@]}" grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status | awk '{print $2}' | sort -u)
uid=$("${NOBODY[@]}" id -u)
if [[ $caps != 0000000000000000 || $uid != 65534 ]]; then
    echo "FAIL: setpriv did not drop privileges (uid $uid, caps $caps)"; fail=1
fi

rc=0
timeout -s KILL 60 "${NOBODY[@]}" "$LVPN_BIN" ping "$U/client.ovpn" "$IT_TUN_SERVER_IP" -c 5 -i 0.5 \
    >"$IT_DIR/ping.out" 2>"$IT_DIR/ping.err" </dev/null || rc=$?
cat "$IT_DIR/ping.out"
replies=$(grep -cE "^64 bytes from $IT_TUN_SERVER_IP: icmp_seq=[1-5] ttl=[0-9]+ time=[0-9.]+ ms$" \
    "$IT_DIR/ping.out" || true)
if ((rc != 0)); then
    echo "FAIL: ping exit status $rc (want 0)"; cat "$IT_DIR/ping.err"; fail=1
elif ((replies != 5)); then
    echo "FAIL: $replies reply lines (want 5)"; cat "$IT_DIR/ping.err"; fail=1
elif ! grep -q "^PING $IT_TUN_SERVER_IP ($IT_TUN_SERVER_IP) 56(84) bytes of data.$" "$IT_DIR/ping.out" ||
    ! grep -q "^--- $IT_TUN_SERVER_IP ping statistics ---$" "$IT_DIR/ping.out" ||
    ! grep -qE "^5 packets transmitted, 5 received, 0% packet loss, time [0-9]+ms$" "$IT_DIR/ping.out" ||
    ! grep -qE "^rtt min/avg/max/mdev = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms$" "$IT_DIR/ping.out"; then
    echo "FAIL: output is not ping(8)'s"; fail=1
else
    echo "ok: 5 replies as uid 65534 without capabilities, exit 0"
fi
if ip -n "$IT_NS_C" link show | grep -q tun; then echo "FAIL: a tun device was created"; fail=1; fi

# -s: a larger payload, checked byte for byte by the reply parser.
rc=0
timeout -s KILL 60 "${NOBODY[@]}" "$LVPN_BIN" ping -c 2 -i 0.2 -s 1000 "$U/client.ovpn" "$IT_TUN_SERVER_IP" \
    >"$IT_DIR/ping-s.out" 2>&1 </dev/null || rc=$?
if ((rc != 0)) || ((\
    $(grep -cE "^1008 bytes from $IT_TUN_SERVER_IP: icmp_seq=[12] " "$IT_DIR/ping-s.out" || true) != 2)) ||
    grep -q 'wrong data byte' "$IT_DIR/ping-s.out"; then
    echo "FAIL: ping -s 1000 (exit $rc)"; cat "$IT_DIR/ping-s.out"; fail=1
else
    echo "ok: -s 1000: 2 replies of 1008 bytes"
fi

# A host that does not answer: no reply, exit 1, statistics say 100% loss.
rc=0
timeout -s KILL 60 "${NOBODY[@]}" "$LVPN_BIN" ping -c 2 -i 0.2 -W 1 "$U/client.ovpn" 198.19.0.250 \
    >"$IT_DIR/ping-lost.out" 2>&1 </dev/null || rc=$?
if ((rc != 1)) || ! grep -qE "^2 packets transmitted, 0 received,.* 100% packet loss" "$IT_DIR/ping-lost.out"; then
    echo "FAIL: ping to a silent address: exit $rc (want 1)"; cat "$IT_DIR/ping-lost.out"; fail=1
else
    echo "ok: silent address: exit 1, 100% loss"
fi

# -w: a deadline; requests go on until -c replies came (none here): exit 1.
rc=0
t0=$(date +%s)
timeout -s KILL 60 "${NOBODY[@]}" "$LVPN_BIN" ping -c 2 -i 0.2 -w 4 "$U/client.ovpn" 198.19.0.250 \
    >"$IT_DIR/ping-w.out" 2>&1 </dev/null || rc=$?
t1=$(date +%s)
sent=$(awk '/packets transmitted/ { print $1 }' "$IT_DIR/ping-w.out")
if ((rc != 1)) || [[ -z $sent ]] || ((sent <= 2 || t1 - t0 > 30)); then
    echo "FAIL: ping -w 4: exit $rc, $sent sent in $((t1 - t0)) s"; cat "$IT_DIR/ping-w.out"; fail=1
else
    echo "ok: -w 4: exit 1 after $sent requests without reply ($((t1 - t0)) s)"
fi

# No -c: until SIGINT, then the statistics and exit 0 (replies came).
"${NOBODY[@]}" "$LVPN_BIN" ping -i 0.2 "$U/client.ovpn" "$IT_TUN_SERVER_IP" \
    >"$IT_DIR/ping-int.out" 2>&1 </dev/null &
pid=$!
it_wait_log "$IT_DIR/ping-int.out" 'icmp_seq=3 ' 30 || true
kill -INT "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
if ((rc != 0)) || ! grep -qE '^[0-9]+ packets transmitted, [0-9]+ received' "$IT_DIR/ping-int.out" ||
    ! grep -q 'icmp_seq=3 ' "$IT_DIR/ping-int.out"; then
    echo "FAIL: SIGINT: exit $rc"; cat "$IT_DIR/ping-int.out"; fail=1
else
    echo "ok: SIGINT: statistics, exit 0: $(grep 'packets transmitted' "$IT_DIR/ping-int.out")"
fi

# Wrong CA: one line naming the cause, exit 1, no retry.
rc=0
timeout -s KILL 60 "${NOBODY[@]}" "$LVPN_BIN" ping -c 5 "$U/wrong-ca.ovpn" "$IT_TUN_SERVER_IP" \
    >"$IT_DIR/ping-ca.out" 2>"$IT_DIR/ping-ca.err" </dev/null || rc=$?
if ((rc != 1)); then
    echo "FAIL: wrong CA: exit status $rc (want 1)"; cat "$IT_DIR/ping-ca.out" "$IT_DIR/ping-ca.err"; fail=1
elif [[ $(wc -l <"$IT_DIR/ping-ca.err") != 1 ]] || [[ -s $IT_DIR/ping-ca.out ]] ||
    ! grep -q 'not signed by a trusted CA' "$IT_DIR/ping-ca.err"; then
    echo "FAIL: wrong CA: want one line naming the cause"; cat "$IT_DIR/ping-ca.out" "$IT_DIR/ping-ca.err"; fail=1
else
    echo "ok: wrong CA: exit 1: $(cat "$IT_DIR/ping-ca.err")"
fi

if ((fail)); then echo "FAIL: t_ping_rootless"; exit 1; fi
echo "PASS: t_ping_rootless"
