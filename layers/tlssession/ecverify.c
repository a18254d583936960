#include "layers/tlssession/ecverify.h"

#include <string.h>

#include <mbedtls/asn1.h>

#include "lib/gcry.h"

#ifdef LVPN_DC_CRYPTO_GCRYPT
#include <gcrypt.h>

/* gcry_verify has no answer of its own (a key libgcrypt will not take):
 * mbedTLS gives one. Positive, unlike every mbedTLS error. */
#define NO_ANSWER 1

/* libgcrypt's name for a curve it verifies on, or NULL. */
static const char *gcry_curve(mbedtls_ecp_group_id id) {
  switch (id) {
  case MBEDTLS_ECP_DP_SECP256R1:
    return "NIST P-256";
  case MBEDTLS_ECP_DP_SECP384R1:
    return "NIST P-384";
  case MBEDTLS_ECP_DP_SECP521R1:
    return "NIST P-521";
  default:
    return NULL;
  }
}

/* SEQUENCE { INTEGER r, INTEGER s } to the two unsigned big-endian
 * integers, checked as mbedtls_ecdsa_read_signature checks them. */
static int der_rs(const unsigned char *sig, size_t slen,
                  const unsigned char **r, size_t *rlen,
                  const unsigned char **s, size_t *s_len) {
  unsigned char *p = (unsigned char *)sig;
  const unsigned char *end = sig + slen;
  size_t len;
  int ret;

  ret = mbedtls_asn1_get_tag(&p, end, &len,
                             MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
  if (ret != 0)
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA + ret;
  if (p + len != end)
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA + MBEDTLS_ERR_ASN1_LENGTH_MISMATCH;
  if ((ret = mbedtls_asn1_get_tag(&p, end, rlen, MBEDTLS_ASN1_INTEGER)) != 0)
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA + ret;
  *r = p;
  p += *rlen;
  if ((ret = mbedtls_asn1_get_tag(&p, end, s_len, MBEDTLS_ASN1_INTEGER)) != 0)
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA + ret;
  *s = p;
  p += *s_len;
  if (p != end)
    return MBEDTLS_ERR_ECP_SIG_LEN_MISMATCH;
  /* a negative integer is no signature: DER forbids one for r and s, and
   * OpenSSL refuses it (mbedTLS reads its magnitude) */
  if (*rlen == 0 || *s_len == 0 || (**r & 0x80) != 0 || (**s & 0x80) != 0)
    return MBEDTLS_ERR_ECP_VERIFY_FAILED;
  return 0;
}

static int gcry_verify(mbedtls_ecdsa_context *k, const char *curve,
                       const unsigned char *hash, size_t hlen,
                       const unsigned char *sig, size_t slen) {
  unsigned char q[1 + 2 * MBEDTLS_ECP_MAX_BYTES];
  const unsigned char *r = NULL, *s = NULL;
  size_t qlen, rlen = 0, s_len = 0, nbytes;
  gcry_sexp_t key = NULL, data = NULL, sv = NULL;
  gcry_error_t err;
  int ret;

  if ((ret = der_rs(sig, slen, &r, &rlen, &s, &s_len)) != 0)
    return ret;
  if (mbedtls_ecp_point_write_binary(&k->grp, &k->Q,
                                     MBEDTLS_ECP_PF_UNCOMPRESSED, &qlen, q,
                                     sizeof(q)) != 0)
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  /* ECDSA takes the hash's leftmost bits, as many as the order has: whole
   * bytes for these curves (P-521's order has 521 bits, more than any
   * hash); libgcrypt would count the value's bits instead, leading zeros
   * left out */
  nbytes = (k->grp.nbits + 7) / 8;
  if (hlen > nbytes)
    hlen = nbytes;
  err = gcry_sexp_build(&key, NULL, "(public-key(ecc(curve %s)(q %b)))", curve,
                        (int)qlen, q);
  if (err == 0)
    err = gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))", (int)hlen,
                          hash);
  if (err == 0)
    err = gcry_sexp_build(&sv, NULL, "(sig-val(ecdsa(r %b)(s %b)))", (int)rlen,
                          r, (int)s_len, s);
  if (err == 0)
    err = gcry_pk_verify(sv, data, key);
  gcry_sexp_release(sv);
  gcry_sexp_release(data);
  gcry_sexp_release(key);
  if (err == 0)
    return 0;
  return gcry_err_code(err) == GPG_ERR_BAD_SIGNATURE
             ? MBEDTLS_ERR_ECP_VERIFY_FAILED
             : NO_ANSWER;
}

int lvpn__ecverify(mbedtls_ecdsa_context *k, const unsigned char *hash,
                   size_t hlen, const unsigned char *sig, size_t slen) {
  const char *curve = gcry_curve(k->grp.id);
  if (curve != NULL && lvpn__gcry_ready()) {
    int ret = gcry_verify(k, curve, hash, hlen, sig, slen);
    if (ret != NO_ANSWER)
      return ret;
  }
  return mbedtls_ecdsa_read_signature(k, hash, hlen, sig, slen);
}

int lvpn__ecverify_elsewhere(mbedtls_ecp_group_id id) {
  return gcry_curve(id) != NULL && lvpn__gcry_ready();
}

#else

int lvpn__ecverify(mbedtls_ecdsa_context *k, const unsigned char *hash,
                   size_t hlen, const unsigned char *sig, size_t slen) {
  return mbedtls_ecdsa_read_signature(k, hash, hlen, sig, slen);
}

int lvpn__ecverify_elsewhere(mbedtls_ecp_group_id id) {
  (void)id;
  return 0;
}

#endif
