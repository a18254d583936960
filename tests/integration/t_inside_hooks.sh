#!/usr/bin/env bash
# Inside-packet hooks against OpenVPN 2.6 (issue 12): a program using only the
# public API (tests/hooks_ctl) adds a pcap hook and a filter hook that denies
# ICMP at run time: ping through the tunnel then fails while a TCP transfer
# (curl from python3's http.server on the server's tunnel address) is still
# byte-exact; removing the hook restores ping. The pcap hook recorded the
# ICMP packets the filter later dropped. Then the CLI: `--inside-filter
# 'deny icmp'` blocks ping with the drops counted, and a bad rule is a usage
# error naming the problem.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
CTL=${LVPN_HOOKS_CTL_BIN:-$(dirname "$LVPN_BIN")/../tests/hooks_ctl}
[[ -x $CTL ]] || { echo "SKIP: tests/hooks_ctl not built"; exit 77; }
it_setup hooks
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }
ping_ok() { ip netns exec "$IT_NS_C" ping -c 2 -i 0.2 -W 2 198.19.0.1 >/dev/null 2>&1; }
ping_none() { # 3 echoes, not one answered
    local out
    out=$(ip netns exec "$IT_NS_C" ping -c 3 -i 0.2 -W 1 198.19.0.1 2>&1 || true)
    grep -q '100% packet loss' <<<"$out"
}

# CLI: a bad rule is a usage error (exit 2) before any I/O
it_server_conf proto=udp wrap=tls-crypt
it_client_conf proto=udp wrap=tls-crypt
rc=0
out=$("$LVPN_BIN" connect --inside-filter 'deny icmp port 80' "$IT_DIR/client.ovpn" 2>&1) || rc=$?
[[ $rc == 2 ]] || bad "bad rule: exit $rc, want 2"
grep -q "'port' needs tcp or udp" <<<"$out" || bad "bad rule: message '$out'"

it_server_start
mkdir -p "$IT_DIR/www"
head -c 300000 /dev/urandom >"$IT_DIR/www/blob"
want=$(sha256sum <"$IT_DIR/www/blob" | cut -d' ' -f1)

# ---- the public API, through hooks_ctl ----
mkfifo "$IT_DIR/ctl"
exec {ctlw}<>"$IT_DIR/ctl"
ip netns exec "$IT_NS_C" "$CTL" "$IT_DIR/client.ovpn" <"$IT_DIR/ctl" \
    >"$IT_DIR/ctl.out" 2>"$IT_DIR/ctl.log" &
ctl_pid=$!
cmd() { # CMD PATTERN: send a command, wait for its answer
    echo "$1" >&"$ctlw"
    it_wait_log "$IT_DIR/ctl.out" "$2" 10 || { bad "no answer to '$1'"; tail -n 5 "$IT_DIR/ctl.out"; }
}
if ! it_wait_log "$IT_DIR/ctl.out" '^connected' 20; then
    tail -n 20 "$IT_DIR/ctl.log"; echo "FAIL: tunnel did not come up"; exit 1
fi
http_pid=$(IT_BG_LOG=$IT_DIR/http.log it_bg_in_server \
    python3 -m http.server 8000 --bind 198.19.0.1 --directory "$IT_DIR/www")
for _ in $(seq 50); do
    ip netns exec "$IT_NS_C" curl -s -o /dev/null --max-time 2 http://198.19.0.1:8000/ && break
    sleep 0.2
done
ping_ok || bad "ping before any hook"

cmd "pcap $IT_DIR/inside.pcap" '^added 1$'
cmd "filter bogus" '^error .*must start with allow, deny or default'
cmd "filter deny icmp;allow tcp port 8000" '^added 2$'
ping_none || bad "ping passed the 'deny icmp' filter"
rm -f "$IT_DIR/got"
ip netns exec "$IT_NS_C" curl -s --max-time 30 -o "$IT_DIR/got" http://198.19.0.1:8000/blob ||
    bad "curl through the filter failed"
got=$(sha256sum <"$IT_DIR/got" 2>/dev/null | cut -d' ' -f1 || true)
[[ $got == "$want" ]] || bad "TCP transfer differs (sha256 $got)"
cmd "stats 2" '^stats 2 '
dropped=$(awk '$1 == "stats" && $2 == 2 {print $6}' "$IT_DIR/ctl.out" | tail -n 1)
((${dropped:-0} >= 3)) || bad "filter dropped ${dropped:-?} packets, want >= 3"
echo "  filter: $(grep '^stats 2' "$IT_DIR/ctl.out" | tail -n 1)"
cmd "remove 2" '^removed 2$'
ping_ok || bad "ping after the filter was removed"
cmd "stats 2" '^error '
cmd "remove 1" '^removed 1$' # closes the pcap file
cmd quit '^closed$'
wait "$ctl_pid" || bad "hooks_ctl exit status $?"
grep -q '^closed$' "$IT_DIR/ctl.out" || bad "the loop did not close clean"
# the pcap: echo requests out (some dropped after), TCP both ways
python3 - "$IT_DIR/inside.pcap" <<'PY' || bad "pcap check"
import struct, sys
d = open(sys.argv[1], "rb").read()
magic, _, _, _, _, snap, link = struct.unpack("<IHHiIII", d[:24])
assert magic == 0xa1b2c3d4 and link == 101, (hex(magic), link)
off, icmp_req, icmp_rep, tcp = 24, 0, 0, 0
while off + 16 <= len(d):
    _, _, incl, orig = struct.unpack("<IIII", d[off:off + 16])
    p = d[off + 16:off + 16 + incl]
    off += 16 + incl
    if p[0] >> 4 == 4 and p[9] == 1:
        icmp_req += p[20] == 8
        icmp_rep += p[20] == 0
    elif p[0] >> 4 == 4 and p[9] == 6:
        tcp += 1
assert off == len(d), "truncated record"
print(f"  pcap: {icmp_req} echo requests, {icmp_rep} replies, {tcp} TCP")
# 3 requests dropped by the filter (recorded, no reply), 2 answered after
assert icmp_req >= 5 and icmp_rep >= 2 and icmp_req - icmp_rep >= 3 and tcp >= 20
PY

# ---- the CLI: --inside-filter ----
log=$IT_DIR/lvpn-cli.log
pid=$(it_lvpn_start "$log" --inside-filter 'deny icmp' --inside-filter 'default allow')
if it_wait_log "$log" 'Initialization Sequence Completed' 20; then
    ping_none || bad "CLI: ping passed --inside-filter 'deny icmp'"
    ip netns exec "$IT_NS_C" curl -s --max-time 30 -o /dev/null http://198.19.0.1:8000/blob ||
        bad "CLI: curl failed"
    it_lvpn_stop "$pid" 10 || bad "CLI: client did not exit on SIGTERM"
    d=$(it_counter "$log" hooks.filter_dropped)
    ((d >= 3)) || bad "CLI: hooks.filter_dropped $d, want >= 3"
    echo "  CLI: hooks.filter_dropped $d"
else
    bad "CLI: tunnel did not come up"; tail -n 20 "$log"; it_lvpn_stop "$pid" 5 || true
fi
kill "$http_pid" 2>/dev/null || true
it_server_stop
((fail == 0)) || exit 1
echo "PASS: t_inside_hooks"
