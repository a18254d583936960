#!/usr/bin/env bash
# --trace against a real OpenVPN 2.6 server: every line of the file is a JSON
# object with t/layer/operation; the seven layers all appear; our
# key-method-2 message goes with our Finished (TLS False Start) and the
# handshake's two waits run; the control
# exchange reads as minivpn's tracex events (our hard reset as a packet_out
# with minivpn's packet fields, the server's reset as a packet_in, the
# client_hello / server_hello tags, the state sequence INITIAL .. GENERATED_KEYS,
# PUSH_REQUEST out and PUSH_REPLY in with its options); the file is mode 0600
# and holds no key bytes, no password and no auth-token value.
# Cases: UDP + tls-crypt + username/password + a pushed auth-token (default
# level: data as a per-second summary), TCP + tls-auth with --trace-data all
# (one event per data packet: encrypt/decrypt, tun read/write, TCP framing),
# and two server-initiated renegotiations (reneg-sec 5).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
it_setup trace
it_pki

PASSWORD='Tr4ce-S3cret-Passw0rd'
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# The server accepts user "tracer" with $PASSWORD and pushes an auth-token.
cat >"$IT_DIR/verify.sh" <<EOF
#!/bin/sh
[ "\$(sed -n 1p "\$1")" = tracer ] && [ "\$(sed -n 2p "\$1")" = '$PASSWORD' ]
EOF
chmod 755 "$IT_DIR/verify.sh"
printf 'tracer\n%s\n' "$PASSWORD" >"$IT_DIR/userpass.txt"
chmod 600 "$IT_DIR/userpass.txt"

check_trace() { # file mode(summary|all) proto
    python3 - "$@" "$IT_DIR" "$PASSWORD" <<'EOF'
import json, os, re, stat, sys

path, mode, proto, itdir, password = sys.argv[1:6]
errors = []
def bad(msg):
    errors.append(msg)

raw = open(path, "rb").read()
events = []
for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
    try:
        ev = json.loads(line)
    except ValueError as e:
        bad("line %d is not JSON (%s): %.120s" % (n, e, line))
        continue
    if not isinstance(ev, dict) or not isinstance(ev.get("t"), (int, float)) \
            or not isinstance(ev.get("layer"), str) \
            or not isinstance(ev.get("operation"), str):
        bad("line %d lacks t/layer/operation: %.120s" % (n, line))
        continue
    events.append(ev)
if not events:
    bad("empty trace")

ts = [e["t"] for e in events]
if ts != sorted(ts) or (ts and ts[0] < 0):
    bad("t is not non-decreasing from 0")

layers = {e["layer"] for e in events}
want = {"networkio", "packetmuxer", "reliabletransport", "controlchannel",
        "tlssession", "datachannel", "tun"}
if not want <= layers:
    bad("layers missing: %s" % sorted(want - layers))

def ctl(op, opcode):
    return [e for e in events if e["operation"] == op
            and isinstance(e.get("packet"), dict)
            and e["packet"].get("opcode") == opcode]

# minivpn's tracex packet fields, exactly
fields = {"operation", "opcode", "key_id", "id", "acks", "payload_size",
          "send_attempts"}
reset = ctl("packet_out", "P_CONTROL_HARD_RESET_CLIENT_V2")
if not reset:
    bad("no packet_out P_CONTROL_HARD_RESET_CLIENT_V2")
else:
    e = reset[0]
    p = e["packet"]
    if set(p) != fields:
        bad("packet fields %s, want minivpn's %s" % (sorted(p), sorted(fields)))
    if p["operation"] != "write" or p["id"] != 0 or p["send_attempts"] != 1 \
            or p["acks"] is not None or p["payload_size"] != 0 or p["key_id"] != 0:
        bad("hard reset packet: %s" % p)
    if e.get("stage") != "PRE_START" or e.get("tags") != [] \
            or e.get("layer") != "reliabletransport":
        bad("hard reset event: %s" % e)
sreset = ctl("packet_in", "P_CONTROL_HARD_RESET_SERVER_V2")
if not sreset:
    bad("no packet_in P_CONTROL_HARD_RESET_SERVER_V2")
elif sreset[0]["packet"]["operation"] != "read" \
        or sreset[0]["packet"]["send_attempts"] is not None \
        or 0 not in (sreset[0]["packet"]["acks"] or []):
    bad("server reset packet: %s" % sreset[0]["packet"])
if not any("client_hello" in e.get("tags", []) for e in ctl("packet_out", "P_CONTROL_V1")):
    bad("no packet_out tagged client_hello")
if not any("server_hello" in e.get("tags", []) for e in ctl("packet_in", "P_CONTROL_V1")):
    bad("no packet_in tagged server_hello")
if not ctl("packet_in", "P_ACK_V1") and not any(
        e["packet"]["acks"] for e in events
        if e["operation"] == "packet_in" and isinstance(e.get("packet"), dict)):
    bad("no ACK seen in packet_in events")

stages = [e["stage"] for e in events if e["operation"] == "state"]
order = ["INITIAL", "PRE_START", "START", "SENT_KEY", "GOT_KEY", "ACTIVE",
         "GENERATED_KEYS"]
it = iter(stages)
if not all(s in it for s in order):
    bad("state sequence %s lacks %s in order" % (stages, order))
for e in events:
    if e["operation"] == "state" and (e.get("packet") is not None
                                      or e.get("tags") != []):
        bad("state event not in minivpn's form: %s" % e)
        break

outs = [e for e in events if e["operation"] == "control_out"]
if not any(e.get("message") == "PUSH_REQUEST" for e in outs):
    bad("no control_out PUSH_REQUEST")
replies = [e for e in events if e["operation"] == "control_in"
           and e.get("message") == "PUSH_REPLY"]
if not replies:
    bad("no control_in PUSH_REPLY")
elif "route 198.19.100.0 255.255.255.0" not in replies[0].get("options", ""):
    bad("PUSH_REPLY options: %.200s" % replies[0].get("options"))
ops = {(e["layer"], e["operation"]) for e in events}
for need in [("tlssession", "key_method_2_out"), ("tlssession", "key_method_2_in"),
             ("tlssession", "tls_state"), ("tlssession", "tls_done"),
             ("controlchannel", "fragment"), ("packetmuxer", "route"),
             ("packetmuxer", "encode"), ("reliabletransport", "ack_in"),
             ("datachannel", "key_install"), ("tun", "device"),
             ("tun", "route"), ("networkio", "read"), ("networkio", "write"),
             ("client", "attempt"), ("client", "connected")]:
    if need not in ops:
        bad("no %s %s event" % need)
# TLS False Start against the real server: the first key-method-2 went
# with our Finished, before the server's Finished came (tls_done), and the
# server answered it; the first handshake's waits ran, in order
km2 = [i for i, e in enumerate(events) if e["operation"] == "key_method_2_out"]
done = [i for i, e in enumerate(events) if e["operation"] == "tls_done"]
if not km2 or not done or events[km2[0]].get("false_start") != 1 \
        or km2[0] > done[0]:
    bad("the first key-method-2 did not go with our Finished: %s"
        % (events[km2[0]] if km2 else None))
waits = [e.get("stage") for e in events
         if e["layer"] == "tlssession" and e["operation"] == "wait"]
# (wait 0 is left to wait 1 when the server's reset came back in the
# turn that sent ours: a loaded machine)
if waits not in ([0, 1, 2, 3], [1, 2, 3], [0, 1, 2], [1, 2]):
    bad("tlssession wait stages %s, want 0, 1, 2, 3 (0 and 3 may be "
        "left out)" % waits)
# each wait's work is traced once it is done, with its time
done_w = [(e.get("stage"), e.get("us")) for e in events
          if e["layer"] == "tlssession" and e["operation"] == "wait_done"]
if sorted(st for st, _ in done_w) != sorted(waits) or \
        any(not isinstance(us, int) or us < 0 or us > 10000000
            for _, us in done_w):
    bad("tlssession wait_done %s for the waits %s" % (done_w, waits))
# the last wait, for the PUSH_REPLY: after our PUSH_REQUEST, before the
# reply (left out when the reply came in the turn that sent the request)
w3 = [i for i, e in enumerate(events)
      if e["operation"] == "wait" and e.get("stage") == 3]
preq = [i for i, e in enumerate(events) if e["operation"] == "control_out"
        and e.get("message") == "PUSH_REQUEST"]
prep = [i for i, e in enumerate(events) if e["operation"] == "control_in"
        and e.get("message") == "PUSH_REPLY"]
if w3 and not (preq and prep and preq[0] < w3[0] < prep[0]):
    bad("wait 3 is not between our PUSH_REQUEST and the PUSH_REPLY")
# the first wait, the conf's start-up work, once our reset is on the wire
# and before the server's is read
w0 = [i for i, e in enumerate(events)
      if e["operation"] == "wait" and e.get("stage") == 0]
io = [(i, e["operation"]) for i, e in enumerate(events)
      if e["layer"] == "networkio" and e["operation"] in ("write", "read")]
if w0 and io and not (io[0] == (io[0][0], "write") and io[0][0] < w0[0]
                      and [i for i, op in io if op == "read"][0] > w0[0]):
    bad("wait 0 is not between our reset and the server's")
if [e for e in events if e["operation"] == "chain_check"][:1] == []:
    bad("no chain_check event")
if mode == "reneg":
    # two server-initiated renegotiations: soft resets both ways, a new TLS
    # handshake and key-method 2 per key, new keys installed, one retired,
    # and the stages running START .. GENERATED_KEYS again
    if not ctl("packet_in", "P_CONTROL_SOFT_RESET_V1"):
        bad("no packet_in P_CONTROL_SOFT_RESET_V1")
    if not ctl("packet_out", "P_CONTROL_SOFT_RESET_V1"):
        bad("no packet_out P_CONTROL_SOFT_RESET_V1")
    done = [e.get("key_id") for e in events if e["operation"] == "renegotiation_done"]
    if done[:2] != [1, 2]:
        bad("renegotiation_done key_ids %s, want 1, 2" % done)
    if not any(e["operation"] == "soft_reset_in" and e.get("initiator") == "server"
               for e in events):
        bad("no soft_reset_in from the server")
    kids = [e.get("key_id") for e in events if e["operation"] == "key_install"]
    if kids[:3] != [0, 1, 2]:
        bad("key_install key_ids %s, want 0, 1, 2" % kids)
    # (which key goes depends on whether the server already sent on key 1)
    if not any(e["operation"] == "key_retire" for e in events):
        bad("no key slot retired at the second renegotiation")
    again = stages[stages.index("GENERATED_KEYS") + 1:] if "GENERATED_KEYS" in stages else []
    it2 = iter(again)
    if not all(s in it2 for s in ["START", "SENT_KEY", "GOT_KEY", "ACTIVE",
                                  "GENERATED_KEYS"]):
        bad("stages after the first GENERATED_KEYS: %s" % again)
    kid_hello = [e["packet"]["key_id"] for e in ctl("packet_out", "P_CONTROL_V1")
                 if "client_hello" in e["tags"]]
    if kid_hello[:3] != [0, 1, 2]:
        bad("client_hello key_ids %s, want 0, 1, 2" % kid_hello)
elif mode == "summary":
    if ("datachannel", "summary") not in ops:
        bad("no datachannel summary")
    if ("datachannel", "encrypt") in ops or ("tun", "read") in ops:
        bad("per-packet data events without --trace-data all")
    if not any(e["operation"] == "write" and e["layer"] == "networkio"
               and e.get("framing") == proto for e in events):
        bad("no networkio write with framing %s" % proto)
else:
    for need in [("datachannel", "encrypt"), ("datachannel", "decrypt"),
                 ("tun", "read"), ("tun", "write")]:
        if need not in ops:
            bad("--trace-data all: no %s %s event" % need)
    if proto == "tcp" and not any(e.get("frame_bytes") for e in events
                                  if e["layer"] == "networkio"):
        bad("no TCP framing (frame_bytes) in networkio events")

# Nothing secret: no password, no auth-token value, no key-file bytes.
text = raw.decode("utf-8")
if password in text:
    bad("the password is in the trace")
for e in replies:
    if "auth-token" in e.get("options", "") and \
            "auth-token [REDACTED]" not in e["options"]:
        bad("auth-token not redacted: %.200s" % e["options"])
if re.search(r"SESS_ID_AT_[A-Za-z0-9+/=]{8,}", text):
    bad("an auth-token value is in the trace")
pki = os.path.join(itdir, "pki")
for name in ("tc.key", "ta.key", "client.key"):
    try:
        lines = open(os.path.join(pki, name)).read().splitlines()
    except OSError:
        continue
    for l in lines:
        l = l.strip()
        if len(l) >= 16 and not l.startswith("-----") and not l.startswith("#") \
                and l in text:
            bad("a line of %s is in the trace" % name)
            break
st = os.stat(path)
if stat.S_IMODE(st.st_mode) != 0o600:
    bad("trace file mode %o, want 600" % stat.S_IMODE(st.st_mode))

for m in errors:
    print("  " + m)
print("  %d events, layers %s, states %s" % (len(events), sorted(layers),
                                             " ".join(stages)))
sys.exit(1 if errors else 0)
EOF
}

run_case() { # name proto wrap tracedata [switches...]
    local name=$1 proto=$2 wrap=$3 tdata=$4 log pid trace
    shift 4
    it_server_conf proto="$proto" wrap="$wrap" "$@"
    printf '%s' "${SERVER_LINES:-}" >>"$IT_DIR/server.conf"
    it_server_start
    it_client_conf proto="$proto" wrap="$wrap" "$@"
    printf '%s' "${CLIENT_LINES:-}" >>"$IT_DIR/client.ovpn"
    log=$IT_DIR/lvpn-$name.log
    trace=$IT_DIR/trace-$name.jsonl
    # a stale file with a wider mode: --trace makes it 0600
    : >"$trace"; chmod 644 "$trace"
    pid=$(it_lvpn_start "$log" --trace "$trace" \
        --trace-data "$([[ $tdata == all ]] && echo all || echo summary)")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        bad "$name: tunnel did not come up"; tail -n 20 "$log"
        it_lvpn_stop "$pid" 5 || true; it_server_stop; return
    fi
    ip netns exec "$IT_NS_C" ping -c 3 -i 0.2 -W 2 198.19.0.1 >/dev/null 2>&1 ||
        bad "$name: ping through the tunnel failed"
    sleep 2 # at least one per-second data summary
    if [[ $tdata == reneg ]]; then
        local i
        for ((i = 0; i < 300; i++)); do
            (($(grep -c 'renegotiation complete' "$log" || true) >= 2)) && break
            sleep 0.1
        done
        sleep 0.5
    fi
    it_lvpn_stop "$pid" 10 || bad "$name: client did not exit on SIGTERM"
    grep -q 'layervpn: stopped' "$log" || bad "$name: not an orderly stop"
    if check_trace "$trace" "$tdata" "$proto"; then
        echo "ok: $name"
    else
        bad "$name: trace check"
        head -c 3000 "$trace"
    fi
    it_server_stop
}

SERVER_LINES="script-security 2
auth-user-pass-verify $IT_DIR/verify.sh via-file
auth-gen-token 3600
" CLIENT_LINES="auth-user-pass $IT_DIR/userpass.txt
" run_case udp-userpass udp tls-crypt summary
# the server pushed an auth-token, and the trace shows it redacted
if ! grep -q 'auth-token \[REDACTED\]' "$IT_DIR/trace-udp-userpass.jsonl"; then
    bad "udp-userpass: no redacted auth-token in the trace (did the server push one?)"
fi
run_case tcp-all tcp tls-auth all
run_case udp-reneg udp tls-crypt reneg reneg=5

if ((fail)); then echo "FAIL: t_trace"; exit 1; fi
echo "PASS: t_trace"
