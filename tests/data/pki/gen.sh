#!/bin/sh
# Regenerates the fixture PKI used by tests/check_tls_engine.c.
# Throwaway keys, for tests only. Run from anywhere:  sh tests/data/pki/gen.sh
# Needs only the openssl CLI (checked with OpenSSL 3.0).
set -eu
cd "$(dirname "$0")"
DAYS=7300   # 20 years
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ec() { echo "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1"; }
rsa() { echo "-newkey rsa:2048"; }

# ca NAME "SUBJECT"
ca() {
  # shellcheck disable=SC2046
  openssl req -x509 $(ec) -nodes -keyout "$1.key" -out "$1.crt" -days $DAYS \
    -subj "$2" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
}

# leaf NAME ec|rsa "SUBJECT" CA "EXTENSIONS" [ca-dates]
leaf() {
  # shellcheck disable=SC2046
  openssl req $($2) -nodes -keyout "$1.key" -out "$tmp/$1.csr" -subj "$3" 2>/dev/null
  printf '%b\n' "$5" > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$4.crt" -CAkey "$4.key" \
    -set_serial "0x$(openssl rand -hex 8)" -out "$1.crt" -days $DAYS \
    -extfile "$tmp/$1.ext" 2>/dev/null
}

SRV_EXT='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
subjectAltName=DNS:vpn-server'
CLI_EXT='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer'

ca ca "/CN=layervpn Test CA"
ca other-ca "/CN=layervpn Other CA"

leaf server ec "/O=layervpn test/CN=vpn-server" ca "$SRV_EXT"
leaf client ec "/CN=client1" ca "$CLI_EXT"
leaf client-rsa rsa "/CN=client-rsa" ca \
  "$(printf '%s' "$CLI_EXT" | sed 's/digitalSignature$/digitalSignature,keyEncipherment/')"
# same name as the good server, signed by a CA the client does not trust
leaf server-other-ca ec "/O=layervpn test/CN=vpn-server" other-ca "$SRV_EXT"
# extendedKeyUsage clientAuth only: fails remote-cert-tls server
leaf server-clientauth ec "/O=layervpn test/CN=vpn-server" ca \
  "$(printf '%s' "$SRV_EXT" | sed 's/^extendedKeyUsage=serverAuth$/extendedKeyUsage=clientAuth/')"
# clientAuth + anyExtendedKeyUsage: mbedTLS accepts it for a server (an
# mbedTLS server refuses to present the clientAuth-only one above), while
# OpenVPN's remote-cert-tls server wants the serverAuth OID itself
leaf server-anyeku ec "/O=layervpn test/CN=vpn-server" ca \
  "$(printf '%s' "$SRV_EXT" | sed 's/^extendedKeyUsage=serverAuth$/extendedKeyUsage=clientAuth,anyExtendedKeyUsage/')"
# no keyUsage extension at all: fails remote-cert-tls server
leaf server-noku ec "/O=layervpn test/CN=vpn-server" ca \
  "$(printf '%s' "$SRV_EXT" | grep -v '^keyUsage=')"

# expired server certificate (validity 2000-2001), via `openssl ca`
mkdir -p "$tmp/db" && : > "$tmp/db/index.txt"
cat > "$tmp/ca.cnf" <<CNF
[ca]
default_ca = tca
[tca]
database = $tmp/db/index.txt
new_certs_dir = $tmp/db
serial = $tmp/db/serial
default_md = sha256
policy = pol
copy_extensions = none
unique_subject = no
[pol]
organizationName = optional
commonName = supplied
CNF
openssl rand -hex 8 > "$tmp/db/serial"
printf '%s\n' "$SRV_EXT" > "$tmp/expired.ext"
openssl req $(ec) -nodes -keyout server-expired.key -out "$tmp/expired.csr" \
  -subj "/O=layervpn test/CN=vpn-server" 2>/dev/null
openssl ca -batch -notext -config "$tmp/ca.cnf" -cert ca.crt -keyfile ca.key \
  -startdate 20000101000000Z -enddate 20010101000000Z \
  -extfile "$tmp/expired.ext" -in "$tmp/expired.csr" -out server-expired.crt 2>/dev/null

openssl verify -CAfile ca.crt server.crt client.crt client-rsa.crt \
  server-clientauth.crt server-anyeku.crt server-noku.crt >/dev/null
openssl verify -CAfile other-ca.crt server-other-ca.crt >/dev/null
rm -f ca.srl other-ca.srl
echo "fixture PKI regenerated in $(pwd)"
