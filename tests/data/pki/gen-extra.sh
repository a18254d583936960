#!/bin/sh
# Files derived from the fixture PKI of gen.sh (rerun after it):
#   crl-revoked.pem   CRL of ca.crt revoking server.crt (crl-verify tests)
#   crl-empty.pem     CRL of ca.crt revoking nothing
#                     (both valid from 2020 for 20 years)
#   client-enc.key    client.key encrypted (PKCS#8, AES-256), passphrase in
#                     client-enc.pass (askpass tests)
#   ta.key, tc2-client.key  tls-auth/tls-crypt and tls-crypt-v2 keys
#   client.p12        client.crt + client.key + ca.crt, PKCS#12 with the
#                     same passphrase (pkcs12 tests)
#   client-legacy.p12 the same with RC2-40 and 3DES, as older exports
#                     (OpenSSL 3 opens it only with its legacy provider)
# Needs only the openssl CLI.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/ca.cnf" <<CNF
[ca]
default_ca = tca
[tca]
database = $tmp/index.txt
crlnumber = $tmp/crlnumber
default_md = sha256
default_crl_days = 7300
CNF
echo 01 > "$tmp/crlnumber"
: > "$tmp/index.txt"
openssl ca -config "$tmp/ca.cnf" -gencrl -keyfile ca.key -cert ca.crt -crl_lastupdate 20200101000000Z \
  -out crl-empty.pem 2>/dev/null
serial=$(openssl x509 -in server.crt -noout -serial | cut -d= -f2)
subject=$(openssl x509 -in server.crt -noout -subject -nameopt compat | sed 's/^subject=//')
printf 'R\t391231235959Z\t240101000000Z\t%s\tunknown\t%s\n' "$serial" "$subject" > "$tmp/index.txt"
openssl ca -config "$tmp/ca.cnf" -gencrl -keyfile ca.key -cert ca.crt -crl_lastupdate 20200101000000Z \
  -out crl-revoked.pem 2>/dev/null
printf 'test-passphrase\n' > client-enc.pass
openssl pkcs8 -topk8 -in client.key -v2 aes-256-cbc \
  -passout file:client-enc.pass -out client-enc.key
openssl pkcs12 -export -in client.crt -inkey client.key -certfile ca.crt \
  -passout file:client-enc.pass -out client.p12
openssl pkcs12 -export -legacy -in client.crt -inkey client.key \
  -certfile ca.crt -passout file:client-enc.pass -out client-legacy.p12
# static keys for tls-auth / tls-crypt and a tls-crypt-v2 client key (the
# compatibility configs of tests/data/compat use them); needs openvpn
openvpn --genkey secret ta.key
openvpn --genkey tls-crypt-v2-server "$tmp/tc2-server.key"
openvpn --tls-crypt-v2 "$tmp/tc2-server.key" --genkey tls-crypt-v2-client \
  tc2-client.key
