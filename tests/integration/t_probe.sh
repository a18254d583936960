#!/usr/bin/env bash
# layervpn probe --json as uid 65534 without capabilities (no TUN device)
# against one real OpenVPN 2.6 server with two configs run concurrently:
# the good one reports every stage in order (resolve .. data_channel), the
# TLS version, the key PUSH_REPLY options, 5 of 5 ping replies from the
# pushed gateway with RTTs, and minivpn-schema network events; the one with
# the wrong CA fails at tls_handshake with LVPN_ECERT_UNTRUSTED by name.
# Exit status 1 (one failed); the good config alone exits 0, and the text
# report (with --parallel 1: one endpoint after the other) names the stage
# and error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
it_setup probe
it_pki
it_server_conf proto=udp wrap=tls-crypt
it_server_start
it_client_conf proto=udp wrap=tls-crypt
it_nobody_setup
mv "$U/client.ovpn" "$U/good.ovpn" # the reports name the file
NOBODY=(ip netns exec "$IT_NS_C" "${NOBODY[@]}")
fail=0
bad() { echo "FAIL: $*"; fail=1; }

rc=0
timeout -s KILL 60 "${NOBODY[@]}" "$LVPN_BIN" probe --json -c 5 -i 0.2 --timeout 30 \
    "$U/good.ovpn" "$U/wrong-ca.ovpn" >"$IT_DIR/probe.json" 2>"$IT_DIR/probe.err" </dev/null || rc=$?
((rc == 1)) || bad "exit status $rc with one failing endpoint (want 1): $(cat "$IT_DIR/probe.err")"
python3 - "$IT_DIR/probe.json" "$U" <<'PY' || fail=1
import json, sys
path, u = sys.argv[1:3]
docs = [json.loads(l) for l in open(path)]
errors = []
def bad(m): errors.append(m)
by = {d["config"]: d for d in docs}
if len(docs) != 2 or set(by) != {u + "/good.ovpn", u + "/wrong-ca.ovpn"}:
    sys.exit("FAIL: want one JSON document per config, got %r" % list(by))
g, w = by[u + "/good.ovpn"], by[u + "/wrong-ca.ovpn"]
order = ["resolve", "first_packet", "server_reset", "tls_handshake",
         "key_exchange", "push_reply", "data_channel", "ping"]
st = g["stages_ms"]
if not g["ok"] or g["error"] is not None or g["failed_stage"] is not None:
    bad("good: not ok: %s %s %s" % (g["failed_stage"], g["error"], g["detail"]))
if any(not isinstance(st.get(s), (int, float)) for s in order):
    bad("good: stages missing: %r" % st)
elif [st[s] for s in order] != sorted(st[s] for s in order):
    bad("good: stage times out of order: %r" % st)
if g.get("tls_version") != "TLSv1.2":
    bad("good: tls_version %r" % g.get("tls_version"))
po = g.get("push_options", {})
for k in ("cipher", "peer-id", "ifconfig", "route-gateway"):
    if k not in po:
        bad("good: push option %s not reported: %r" % (k, po))
p = g["ping"]
if p["target"] != po.get("route-gateway") or p["sent"] != 5 or p["received"] != 5 \
        or p["loss_percent"] != 0 or not (0 < p["rtt_ms"]["min"] <= p["rtt_ms"]["avg"] <= p["rtt_ms"]["max"]):
    bad("good: ping %r" % p)
ev = g["network_events"]
if not any(e["operation"] == "packet_out" and e["packet"]["opcode"] == "P_CONTROL_HARD_RESET_CLIENT_V2" for e in ev) \
        or not any(e["operation"] == "state" and e["stage"] == "GENERATED_KEYS" for e in ev):
    bad("good: minivpn network events incomplete (%d events)" % len(ev))
if w["ok"] or w["failed_stage"] != "tls_handshake" or w["error"] != "LVPN_ECERT_UNTRUSTED":
    bad("wrong-ca: %r %r %r" % (w["failed_stage"], w["error"], w["detail"]))
for s in order[:3]:
    if not isinstance(w["stages_ms"].get(s), (int, float)):
        bad("wrong-ca: stage %s before the failure not reported" % s)
if w["ping"]["sent"] != 0:
    bad("wrong-ca: pings sent")
for m in errors: print("FAIL:", m)
if errors: sys.exit(1)
print("  good: %s; ping %d/%d rtt %.3f/%.3f/%.3f ms" % (
    ", ".join("%s %.1f" % (s, st[s]) for s in order), p["received"], p["sent"],
    p["rtt_ms"]["min"], p["rtt_ms"]["avg"], p["rtt_ms"]["max"]))
print("  wrong-ca: %s at %s (%s)" % (w["error"], w["failed_stage"], w["detail"]))
PY

rc=0
timeout -s KILL 60 "${NOBODY[@]}" "$LVPN_BIN" probe -c 2 -i 0.2 "$U/good.ovpn" \
    >"$IT_DIR/good.txt" 2>&1 </dev/null || rc=$?
((rc == 0)) || bad "the good config alone: exit $rc"
grep -qE '^  ping +2/2 replies from ' "$IT_DIR/good.txt" || bad "text report: $(cat "$IT_DIR/good.txt")"
rc=0
timeout -s KILL 60 "${NOBODY[@]}" "$LVPN_BIN" probe --parallel 1 -c 1 "$U/wrong-ca.ovpn" \
    "$U/good.ovpn" >"$IT_DIR/bad.txt" 2>&1 </dev/null || rc=$?
((rc == 1)) || bad "wrong CA then good, one at a time: exit $rc"
grep -q 'wrong-ca.ovpn: FAILED at tls_handshake: LVPN_ECERT_UNTRUSTED' "$IT_DIR/bad.txt" &&
    grep -q 'good.ovpn: ok' "$IT_DIR/bad.txt" || bad "text report: $(cat "$IT_DIR/bad.txt")"
if ip -n "$IT_NS_C" link show | grep -q tun; then bad "a tun device was created"; fi
((fail)) && { cat "$IT_DIR/good.txt" "$IT_DIR/bad.txt"; }
if ((fail)); then echo "FAIL: t_probe"; exit 1; fi
echo "PASS: t_probe"
