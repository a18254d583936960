/* ECDSA verification on Nettle (lvpn__ecverify,
 * layers/tlssession/ecverify.c) against mbedTLS's own: the signature and
 * the signed hash of a ServerKeyExchange come from the server. Ours must
 * never accept what mbedtls_ecdsa_read_signature refuses, and must accept
 * what it accepts, except a DER INTEGER written as a negative number,
 * which ours refuses on purpose. Input: the curve (first byte % 3: P-256,
 * P-384, P-521), the hash length (second byte % 65) and the hash; then
 * either a signature as it is (next byte even), or (next byte odd) the
 * fixed key's own signature of that hash, with the rest of the input as
 * (offset, xor) pairs over it, so that the verification itself is reached.
 * The keys are made once from a fixed generator: a crash reproduces from
 * its file. */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ecdsa.h>

#include "layers/tlssession/ecverify.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int counter_rng(void *ctx, unsigned char *out, size_t len) {
  uint32_t *n = ctx;
  size_t i;
  for (i = 0; i < len; i++)
    out[i] = (unsigned char)((*n)++ * 2654435761u >> 24);
  return 0;
}

/* Does the DER signature hold an INTEGER whose first byte has its top bit
 * set (a negative number)? */
static int has_negative(const unsigned char *sig, size_t slen) {
  unsigned char *p = (unsigned char *)sig;
  const unsigned char *end = sig + slen;
  size_t len;
  int i;
  if (mbedtls_asn1_get_tag(
          &p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
    return 0;
  for (i = 0; i < 2; i++) {
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_INTEGER) != 0)
      return 0;
    if (len > 0 && (p[0] & 0x80) != 0)
      return 1;
    p += len;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const mbedtls_ecp_group_id ids[3] = {MBEDTLS_ECP_DP_SECP256R1,
                                              MBEDTLS_ECP_DP_SECP384R1,
                                              MBEDTLS_ECP_DP_SECP521R1};
  static mbedtls_ecdsa_context keys[3];
  static int have_keys;
  fuzz_in_t in = {data, size};
  unsigned char hash[64], sig[MBEDTLS_ECDSA_MAX_LEN + 64];
  const uint8_t *b;
  size_t hlen, slen, got;
  uint32_t ctr = 1;
  int c, ours, theirs;

  if (!have_keys) {
    for (c = 0; c < 3; c++) {
      mbedtls_ecdsa_init(&keys[c]);
      if (mbedtls_ecdsa_genkey(&keys[c], ids[c], counter_rng, &ctr) != 0)
        abort();
    }
    have_keys = 1;
  }
  c = fuzz_u8(&in) % 3;
  hlen = fuzz_u8(&in) % 65;
  memset(hash, 0, sizeof(hash));
  b = fuzz_bytes(&in, hlen, &got);
  memcpy(hash, b, got);
  if (fuzz_u8(&in) & 1) {
    if (mbedtls_ecdsa_write_signature(&keys[c], MBEDTLS_MD_SHA256, hash, hlen,
                                      sig, &slen, counter_rng, &ctr) != 0)
      return 0; /* mbedTLS will not sign that hash (length 0) */
    while (in.n >= 2) {
      size_t at = fuzz_u8(&in);
      uint8_t x = fuzz_u8(&in);
      if (at < slen)
        sig[at] ^= x;
      else if (at - slen < 2 && slen < sizeof(sig))
        sig[slen++] = x; /* a byte after the DER */
      else if (slen > 0)
        slen--; /* the DER cut short */
    }
  } else {
    b = fuzz_bytes(&in, sizeof(sig), &slen);
    memcpy(sig, b, slen);
  }
  ours = lvpn__ecverify(&keys[c], hash, hlen, sig, slen);
  theirs = mbedtls_ecdsa_read_signature(&keys[c], hash, hlen, sig, slen);
  if (ours == 0 && theirs != 0)
    abort(); /* accepted what mbedTLS refuses */
  if (theirs == 0 && ours != 0 &&
      !(ours == MBEDTLS_ERR_ECP_VERIFY_FAILED && has_negative(sig, slen)))
    abort(); /* refused what mbedTLS accepts */
  return 0;
}
