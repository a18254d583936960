# shellcheck shell=bash
# Shared by the t_auth_*.sh tests: a server that checks username/password
# with an auth-user-pass-verify script (via-file), and a pty-driven client.
# Source after lib.sh; the tests define bad() (report a failure).

# auth_server_conf [extra server lines...] — the verify script accepts
# alice/secret, the static-challenge answer SCRV1 of secret + 4242, and
# carol/secret after the dynamic challenge (CRV1, state sid42, answer 777). It
# logs what it received to $IT_DIR/verify.log (test data, not real secrets).
auth_server_conf() {
    local extra=() l
    cat >"$IT_DIR/verify.sh" <<EOF
#!/bin/sh
u=\$(sed -n 1p "\$1"); p=\$(sed -n 2p "\$1")
echo "user=\$u pass=\$p" >>"$IT_DIR/verify.log"
case "\$p" in
SCRV1:*)
    pw=\$(echo "\$p" | cut -d: -f2 | base64 -d)
    r=\$(echo "\$p" | cut -d: -f3 | base64 -d)
    echo "scrv1 password=\$pw response=\$r" >>"$IT_DIR/verify.log"
    [ "\$u" = alice ] && [ "\$pw" = secret ] && [ "\$r" = 4242 ] && exit 0 ;;
secret)
    [ "\$u" = alice ] && exit 0
    # carol has a second factor: a dynamic challenge in AUTH_FAILED
    if [ "\$u" = carol ] && [ -n "\$auth_failed_reason_file" ]; then
        printf 'CRV1:R,E:sid42:%s:Your OTP?' "\$(printf carol | base64)" >"\$auth_failed_reason_file"
    fi ;;
CRV1::sid42::777)
    [ "\$u" = carol ] && exit 0 ;;
esac
exit 1
EOF
    chmod 755 "$IT_DIR/verify.sh"
    : >"$IT_DIR/verify.log"
    chmod 666 "$IT_DIR/verify.log"
    for l in "script-security 2" "auth-user-pass-verify $IT_DIR/verify.sh via-file" "$@"; do
        extra+=(extra="$l")
    done
    it_server_conf proto=udp wrap=tls-crypt "${extra[@]}"
}

# auth_client_start LOG [PROMPT ANSWER]... — layervpn on a pty in the client
# namespace, typing the answers; prints the client's pid.
auth_client_start() {
    local log=$1 pidf i
    shift
    pidf=$IT_DIR/pty-pid.$RANDOM
    rm -f "$IT_DIR/pty-rc"
    (
        rc=0
        python3 "$(dirname "${BASH_SOURCE[0]}")/pty_run.py" "$pidf" "$log" "$@" -- \
            ip netns exec "$IT_NS_C" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" || rc=$?
        echo "$rc" >"$IT_DIR/pty-rc"
    ) </dev/null >/dev/null 2>&1 &
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidf ]] && break
        sleep 0.1
    done
    _it_register_pid "$(<"$pidf")"
    cat "$pidf"
}

# auth_runner_status — waits (60 s at most) for the pty runner to end and
# prints the client's exit status ("timeout" if it did not end)
auth_runner_status() {
    local i
    for ((i = 0; i < 600; i++)); do
        [[ -s $IT_DIR/pty-rc ]] && break
        sleep 0.1
    done
    [[ -s $IT_DIR/pty-rc ]] && cat "$IT_DIR/pty-rc" || echo timeout
}

# auth_wait_count FILE PATTERN N SECONDS — until PATTERN occurs N times in FILE
auth_wait_count() {
    local i
    for ((i = 0; i < $4 * 10; i++)); do
        (($(grep -cE -- "$2" "$1" 2>/dev/null || true) >= $3)) && return 0
        sleep 0.1
    done
    return 1
}

# auth_notty_check PATTERN — `layervpn connect` of client.ovpn with no
# terminal (setsid, stdin /dev/null) exits 1 within 20 s, and its output has
# PATTERN (the clear error); reports ok/bad.
auth_notty_check() {
    local rc=0 start=$SECONDS
    timeout 20 setsid -w ip netns exec "$IT_NS_C" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" \
        </dev/null >"$IT_DIR/notty.log" 2>&1 || rc=$?
    if [[ $rc == 1 ]]; then
        echo "ok: no terminal: exit status 1 after $((SECONDS - start)) s"
    else
        bad "no terminal: exit status $rc"
    fi
    if grep -q -- "$1" "$IT_DIR/notty.log"; then
        echo "ok: no terminal: $(grep -m1 -- "$1" "$IT_DIR/notty.log")"
    else
        bad "no clear error without a terminal"; cat "$IT_DIR/notty.log"
    fi
}
