#!/usr/bin/env bash
# Certificate and identity options against a real OpenVPN 2.6 server:
#  - crl-verify with a CRL revoking the server's certificate: refused with a
#    clear error, not retried; the same CA's CRL without it (file, then
#    inline <crl-verify>): connects and pings;
#  - peer-fingerprint without 'ca': connects and pings; a wrong fingerprint
#    is refused;
#  - pkcs12 (key, certificate and CA from one bundle): connects and pings;
#  - user nobody / group nogroup: the client runs as nobody once connected
#    and still pings;
#  - what an up script sees of the server's chain (X509_N_*, tls_id_N,
#    tls_digest_N, tls_digest_sha256_N, tls_serial_N, tls_serial_hex_N):
#    the same as the stock 2.6 client's, for a leaf with many attributes
#    (repeated OU, UTF-8, EV and PKCS #9 attributes, an OID OpenSSL has no
#    name for) under an intermediate CA with a multi-valued RDN (three
#    depths).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_require_root
it_lvpn_require_bin
it_setup optcerts
it_pki

fail=0
bad() { echo "FAIL: $*"; fail=1; }
P=$IT_DIR/pki

# CRLs of the test CA: one revoking server.crt, one revoking nothing
make_crls() (
    cd "$P" || exit 1
    cat >crl.cnf <<CNF
[ca]
default_ca = tca
[tca]
database = $P/index.txt
crlnumber = $P/crlnumber
default_md = sha256
default_crl_days = 30
CNF
    echo 01 >crlnumber
    : >index.txt
    openssl ca -config crl.cnf -gencrl -keyfile ca.key -cert ca.crt -out crl-empty.pem
    serial=$(openssl x509 -in server.crt -noout -serial | cut -d= -f2)
    subject=$(openssl x509 -in server.crt -noout -subject -nameopt compat | sed 's/^subject=//')
    printf 'R\t391231235959Z\t240101000000Z\t%s\tunknown\t%s\n' "$serial" "$subject" >index.txt
    openssl ca -config crl.cnf -gencrl -keyfile ca.key -cert ca.crt -out crl-revoked.pem
)
make_crls >"$IT_DIR/crl.log" 2>&1 || { cat "$IT_DIR/crl.log"; echo "FAIL: cannot make CRLs"; exit 1; }

# refused NAME PATTERN: the client exits non-zero within 10 s, says PATTERN
refused() {
    local name=$1 pattern=$2 log=$IT_DIR/lvpn-$1.log rc=0
    timeout -s KILL 10 ip netns exec "$IT_NS_C" "$LVPN_BIN" connect "$IT_DIR/client.ovpn" \
        >"$log" 2>&1 </dev/null || rc=$?
    if ((rc == 0 || rc == 137)); then
        bad "$name: exit status $rc (want non-zero within 10 s)"; tail -n 20 "$log"
    elif ! grep -q -- "$pattern" "$log"; then
        bad "$name: expected '$pattern'"; tail -n 20 "$log"
    elif grep -q 'Initialization Sequence Completed' "$log"; then
        bad "$name: connection went through"
    elif grep -q 'process restarting' "$log"; then
        bad "$name: retried"
    else
        echo "ok: $name: $(grep -m1 -o -- "$pattern.*" "$log")"
    fi
}

# connects NAME [CHECK_CMD]: tunnel up, 10 pings with 0% loss, orderly stop
connects() {
    local name=$1 check=${2:-} log=$IT_DIR/lvpn-$1.log pid out
    pid=$(it_lvpn_start "$log")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        bad "$name: tunnel did not come up"; tail -n 20 "$log"
        it_lvpn_stop "$pid" 5 || true; return
    fi
    out=$(ip netns exec "$IT_NS_C" ping -c 10 -i 0.1 -W 2 198.19.0.1 2>&1 || true)
    grep -q ' 0% packet loss' <<<"$out" || bad "$name: ping: $(grep 'packet loss' <<<"$out")"
    if [[ -n $check ]] && ! "$check" "$pid" "$log"; then bad "$name: $check failed"; fi
    it_lvpn_stop "$pid" 15 || bad "$name: client did not exit on SIGTERM"
    [[ $fail == 0 ]] && echo "ok: $name"
}

it_server_conf wrap=tls-crypt
it_server_start

# ---- crl-verify ----
it_client_conf wrap=tls-crypt extra="crl-verify $P/crl-revoked.pem"
refused crl-revoked 'certificate rejected.*revoked'
it_client_conf wrap=tls-crypt extra="crl-verify $P/crl-empty.pem"
connects crl-not-revoked
it_client_conf wrap=tls-crypt
printf '<crl-verify>\n%s\n</crl-verify>\n' "$(cat "$P/crl-revoked.pem")" >>"$IT_DIR/client.ovpn"
refused crl-inline-revoked 'certificate rejected.*revoked'

# ---- peer-fingerprint without ca ----
fp=$(openssl x509 -in "$P/server.crt" -noout -fingerprint -sha256 | cut -d= -f2)
it_client_conf wrap=tls-crypt extra="peer-fingerprint $fp"
sed -i '/^ca /d' "$IT_DIR/client.ovpn"
grep -q '^ca ' "$IT_DIR/client.ovpn" && bad "ca still in the config"
connects peer-fingerprint-no-ca
# a wrong fingerprint: the real one with its first byte changed (00, or FF
# when it already starts with 00, so it never equals the real one)
wrong=00; [[ ${fp:0:2} == 00 ]] && wrong=FF
it_client_conf wrap=tls-crypt extra="peer-fingerprint $wrong${fp:2}"
sed -i '/^ca /d' "$IT_DIR/client.ovpn"
refused peer-fingerprint-wrong 'fingerprint'

# ---- pkcs12 bundle (no passphrase, as pfSense exports) ----
openssl pkcs12 -export -in "$P/client.crt" -inkey "$P/client.key" -certfile "$P/ca.crt" \
    -passout pass: -out "$P/client.p12" 2>/dev/null
it_client_conf wrap=tls-crypt extra="pkcs12 $P/client.p12"
sed -i '/^ca \|^cert \|^key /d' "$IT_DIR/client.ovpn"
connects pkcs12

# ---- user / group: the client drops root once connected ----
runs_as_nobody() { # PID LOG
    local uid
    uid=$(ps -o uid= -p "$1" | tr -d ' ')
    [[ $uid == "$(id -u nobody)" ]] || { echo "  uid is '$uid'"; return 1; }
    grep -q 'privileges dropped: group nogroup user nobody' "$2"
}
if id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null; then
    it_client_conf wrap=tls-crypt extra="user nobody" extra="group nogroup"
    connects user-group runs_as_nobody
else
    echo "skip: user-group (no nobody/nogroup)"
fi

# ---- the certificate variables scripts see ----
make_rich() (
    cd "$P" || exit 1
    umask 077
    cat >inter.ext <<'EOF'
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
    cat >rich.cnf <<'EOF'
oid_section = new_oids
[new_oids]
testAttr = 1.2.3.4
[req]
distinguished_name = dn
[dn]
EOF
    newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req "${newkey[@]}" -keyout inter.key -out inter.csr -multivalue-rdn \
        -subj "/O=Test Org/OU=Intermediate+OU=Sub/CN=Test Intermediate CA" &&
        openssl x509 -req -in inter.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -out inter.crt -days 825 -extfile inter.ext &&
        openssl req -config rich.cnf "${newkey[@]}" -keyout rich.key -out rich.csr -utf8 \
            -subj "/C=DE/ST=Berlin/L=Kreuzberg/O=Test Org, Inc./OU=Net/OU=VPN/CN=vpn-server/emailAddress=ops@example.org/serialNumber=42/title=Gateway/DC=example/street=Main St 1/name=Grüße Ω/testAttr=odd/organizationIdentifier=VATDE-1/UID=u1/jurisdictionC=DE/unstructuredName=two  spaces" &&
        openssl x509 -req -in rich.csr -CA inter.crt -CAkey inter.key -CAcreateserial \
            -out rich.crt -days 825 -extfile server.ext &&
        cat rich.crt inter.crt >rich-chain.crt
) >/dev/null 2>&1
it_server_stop
if make_rich; then
    it_server_conf wrap=tls-crypt
    sed -i "s|^cert .*|cert $P/rich-chain.crt|; s|^key .*|key $P/rich.key|" "$IT_DIR/server.conf"
    it_server_start
    cat >"$IT_DIR/certenv.sh" <<'EOF'
#!/bin/sh
env | grep -E '^(tls_|X509_)' | LC_ALL=C sort >"$OUT_FILE"
EOF
    chmod +x "$IT_DIR/certenv.sh"
    for who in stock lvpn; do
        it_client_conf wrap=tls-crypt "extra=script-security 2" "extra=up $IT_DIR/certenv.sh" \
            "extra=setenv OUT_FILE $IT_DIR/certenv-$who.out"
        if [[ $who == stock ]]; then
            pid=$(it_bg_tunnel "$IT_DIR/certenv-$who.log" openvpn --config "$IT_DIR/client.ovpn") || pid=
        else
            pid=$(it_bg_tunnel "$IT_DIR/certenv-$who.log" "$LVPN_BIN" connect "$IT_DIR/client.ovpn") || pid=
        fi
        [[ -n $pid ]] || bad "certenv: $who: no tunnel"
        [[ -n $pid ]] && { it_lvpn_stop "$pid" 15 || bad "certenv: $who: no exit on SIGTERM"; }
    done
    n=$(grep -c . "$IT_DIR/certenv-lvpn.out" 2>/dev/null || true)
    if diff -u "$IT_DIR/certenv-stock.out" "$IT_DIR/certenv-lvpn.out"; then
        if ((n >= 30)) && grep -q '^tls_id_2=' "$IT_DIR/certenv-lvpn.out"; then
            echo "ok: certenv: the up script saw the stock client's $n certificate variables (depths 0-2)"
        else
            bad "certenv: only $n variables (want three depths)"
        fi
    else
        bad "certenv: the up script saw other certificate variables than the stock client's"
    fi
else
    bad "certenv: could not make the certificates"
fi
it_server_stop
if ((fail)); then echo "FAIL: t_options_certs"; exit 1; fi
echo "PASS: t_options_certs"
