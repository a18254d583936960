#include "layers/tlssession/ecverify.h"

#include <string.h>

#include <mbedtls/asn1.h>

#include "layers/tlssession/ecc_nettle.h"

#ifdef LVPN_HS_NETTLE

/* Nettle has no answer of its own (a key it will not take): mbedTLS gives
 * one. Positive, unlike every mbedTLS error. */
#define NO_ANSWER 1

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

static int nettle_verify(mbedtls_ecdsa_context *k,
                         const struct ecc_curve *curve,
                         const unsigned char *hash, size_t hlen,
                         const unsigned char *sig, size_t slen) {
  mp_limb_t rl[LVPN__NETTLE_LIMBS], sl[LVPN__NETTLE_LIMBS];
  const unsigned char *r = NULL, *s = NULL;
  size_t rlen = 0, s_len = 0;
  struct dsa_signature rs;
  struct ecc_point q;
  int ret;

  if ((ret = der_rs(sig, slen, &r, &rlen, &s, &s_len)) != 0)
    return ret;
  /* an r or s longer than any of the curve's: out of range, as mbedTLS
   * finds it */
  if (lvpn__nettle_mpz_be(rs.r, rl, LVPN__NETTLE_LIMBS, r, rlen) != 0 ||
      lvpn__nettle_mpz_be(rs.s, sl, LVPN__NETTLE_LIMBS, s, s_len) != 0)
    return MBEDTLS_ERR_ECP_VERIFY_FAILED;
  ecc_point_init(&q, curve);
  if (lvpn__nettle_point(&q, &k->Q) != 0) {
    ecc_point_clear(&q);
    return NO_ANSWER;
  }
  /* Nettle takes the hash's leftmost bits, as many as the order has, and
   * refuses an r or s out of [1, n-1] */
  ret = ecdsa_verify(&q, hlen, hash, &rs) == 1 ? 0
                                               : MBEDTLS_ERR_ECP_VERIFY_FAILED;
  ecc_point_clear(&q);
  return ret;
}

int lvpn__ecverify(mbedtls_ecdsa_context *k, const unsigned char *hash,
                   size_t hlen, const unsigned char *sig, size_t slen) {
  const struct ecc_curve *curve = lvpn__nettle_curve(k->grp.id);
  if (curve != NULL) {
    int ret = nettle_verify(k, curve, hash, hlen, sig, slen);
    if (ret != NO_ANSWER)
      return ret;
  }
  return mbedtls_ecdsa_read_signature(k, hash, hlen, sig, slen);
}

int lvpn__ecverify_elsewhere(mbedtls_ecp_group_id id) {
  return lvpn__nettle_curve(id) != NULL;
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

#endif /* LVPN_HS_NETTLE */
