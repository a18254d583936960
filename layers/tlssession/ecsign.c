#include "layers/tlssession/ecsign.h"

#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk_internal.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>

#include "layers/tlssession/ecc_nettle.h"
#include "layers/tlssession/ecverify.h"

#ifdef LVPN_HS_NETTLE

/* Our key: mbedTLS's view first, Nettle's copy of the private key. */
typedef struct {
  mbedtls_ecdsa_context ecdsa; /* first: mbedtls_pk_ec() reads this */
  const struct ecc_curve *curve;
  struct ecc_scalar d;
  int have_d;
} own_key_t;

/* Nettle draws the nonce from mbedTLS's RNG; a failure is remembered, and
 * what was signed with the bytes it got instead is never given out. Not
 * zeroes: Nettle draws again until the nonce is in [1, n-1], so zeroes
 * would have it draw for ever; a run of 0x01 bytes is in range on every
 * curve here. */
typedef struct {
  int (*f_rng)(void *, unsigned char *, size_t);
  void *p_rng;
  int failed;
} rng_bridge_t;

static void bridge_random(void *ctx, size_t len, uint8_t *dst) {
  rng_bridge_t *b = ctx;
  if (b->failed || b->f_rng(b->p_rng, dst, len) != 0) {
    b->failed = 1;
    memset(dst, 1, len);
  }
}

/* *p (writing backwards, as mbedTLS's asn1write does) gets the positive
 * `z` as a DER INTEGER, by mbedTLS's own writer, as
 * mbedtls_ecdsa_write_signature writes r and s. */
static int write_integer(unsigned char **p, unsigned char *start,
                         const mpz_t z) {
  unsigned char be[LVPN__NETTLE_LIMBS * sizeof(mp_limb_t)];
  size_t n = (mpz_sizeinbase(z, 2) + 7) / 8;
  mbedtls_mpi x;
  int ret;

  if (mpz_sgn(z) <= 0 || n > sizeof(be))
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  mpz_export(be, &n, 1, 1, 1, 0, z);
  mbedtls_mpi_init(&x);
  ret = mbedtls_mpi_read_binary(&x, be, n);
  if (ret == 0)
    ret = mbedtls_asn1_write_mpi(p, start, &x);
  mbedtls_mpi_free(&x);
  return ret;
}

static int own_sign(void *ctx, mbedtls_md_type_t md_alg,
                    const unsigned char *hash, size_t hash_len,
                    unsigned char *sig, size_t *sig_len,
                    int (*f_rng)(void *, unsigned char *, size_t),
                    void *p_rng) {
  own_key_t *k = ctx;
  unsigned char buf[MBEDTLS_ECDSA_MAX_LEN], *p = buf + sizeof(buf);
  rng_bridge_t rng = {f_rng, p_rng, 0};
  struct dsa_signature rs;
  size_t len = 0;
  int ret;

  (void)md_alg;
  if (!k->have_d || f_rng == NULL)
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  dsa_signature_init(&rs);
  /* the hash's leftmost bits, as many as the order has, as ECDSA says */
  ecdsa_sign(&k->d, &rng, bridge_random, hash_len, hash, &rs);
  if (rng.failed) {
    dsa_signature_clear(&rs);
    return MBEDTLS_ERR_ECP_RANDOM_FAILED;
  }
  /* SEQUENCE { INTEGER r, INTEGER s }, what mbedtls_ecdsa_write_signature
   * writes */
  ret = write_integer(&p, buf, rs.s);
  if (ret >= 0) {
    len += (size_t)ret;
    ret = write_integer(&p, buf, rs.r);
  }
  if (ret >= 0) {
    len += (size_t)ret;
    ret = mbedtls_asn1_write_len(&p, buf, len);
  }
  if (ret >= 0) {
    len += (size_t)ret;
    ret = mbedtls_asn1_write_tag(
        &p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
  }
  dsa_signature_clear(&rs);
  if (ret < 0)
    return ret;
  len += (size_t)ret;
  memcpy(sig, p, len);
  *sig_len = len;
  return 0;
}

static int own_verify(void *ctx, mbedtls_md_type_t md_alg,
                      const unsigned char *hash, size_t hash_len,
                      const unsigned char *sig, size_t sig_len) {
  own_key_t *k = ctx;
  int ret;
  (void)md_alg;
  ret = lvpn__ecverify(&k->ecdsa, hash, hash_len, sig, sig_len);
  return ret == MBEDTLS_ERR_ECP_SIG_LEN_MISMATCH
             ? MBEDTLS_ERR_PK_SIG_LEN_MISMATCH
             : ret;
}

static size_t own_bitlen(const void *ctx) {
  return ((const own_key_t *)ctx)->ecdsa.grp.pbits;
}

static int own_can_do(mbedtls_pk_type_t type) {
  return type == MBEDTLS_PK_ECDSA;
}

/* what mbedTLS's ECDSA contexts do (pk_wrap.c's eckey_check_pair) */
static int own_check_pair(const void *pub, const void *prv) {
  return mbedtls_ecp_check_pub_priv((const mbedtls_ecp_keypair *)pub,
                                    (const mbedtls_ecp_keypair *)prv);
}

static void *own_alloc(void) {
  own_key_t *k = mbedtls_calloc(1, sizeof(*k));
  if (k != NULL)
    mbedtls_ecdsa_init(&k->ecdsa);
  return k;
}

static void own_free(void *ctx) {
  own_key_t *k = ctx;
  if (k->have_d) {
    mbedtls_platform_zeroize(k->d.p, (size_t)ecc_size(k->curve) *
                                         sizeof(mp_limb_t));
    ecc_scalar_clear(&k->d);
  }
  mbedtls_ecdsa_free(&k->ecdsa);
  mbedtls_platform_zeroize(k, sizeof(*k));
  mbedtls_free(k);
}

static const mbedtls_pk_info_t own_info = {
    .type = MBEDTLS_PK_ECDSA,
    .name = "ECDSA",
    .get_bitlen = own_bitlen,
    .can_do = own_can_do,
    .verify_func = own_verify,
    .sign_func = own_sign,
    .check_pair_func = own_check_pair,
    .ctx_alloc_func = own_alloc,
    .ctx_free_func = own_free,
};

int lvpn__ecsign_is_ours(const mbedtls_pk_context *key) {
  return key->pk_info == &own_info;
}

int lvpn__ecsign_prepare(mbedtls_pk_context *key) {
  mp_limb_t limbs[LVPN__NETTLE_LIMBS];
  uint8_t buf[LVPN__NETTLE_LIMBS * sizeof(mp_limb_t)];
  const mbedtls_ecp_keypair *src;
  const struct ecc_curve *curve;
  mbedtls_pk_context e;
  own_key_t *k;
  mpz_t z;
  int ret;

  if (!mbedtls_pk_can_do(key, MBEDTLS_PK_ECDSA))
    return LVPN__ECSIGN_NOT_HERE;
  src = mbedtls_pk_ec(*key);
  if ((curve = lvpn__nettle_curve(src->grp.id)) == NULL)
    return LVPN__ECSIGN_NOT_HERE;
  mbedtls_pk_init(&e);
  if ((ret = mbedtls_pk_setup(&e, &own_info)) != 0)
    return ret;
  k = e.pk_ctx;
  k->curve = curve;
  ret = mbedtls_ecdsa_from_keypair(&k->ecdsa, src);
  if (ret == 0) {
    ecc_scalar_init(&k->d, curve);
    k->have_d = 1;
    /* Nettle refuses 0 and anything not below the order */
    if (lvpn__nettle_mpz_mpi(z, limbs, LVPN__NETTLE_LIMBS, &src->d, buf,
                             sizeof(buf)) != 0 ||
        ecc_scalar_set(&k->d, z) != 1)
      ret = MBEDTLS_ERR_ECP_INVALID_KEY;
  }
  mbedtls_platform_zeroize(limbs, sizeof(limbs));
  mbedtls_platform_zeroize(buf, sizeof(buf));
  if (ret != 0) {
    mbedtls_pk_free(&e); /* wipes what it holds */
    return ret;
  }
  mbedtls_pk_free(key);
  *key = e;
  return 0;
}

int lvpn__ecsign_check(const mbedtls_pk_context *key) {
  mp_limb_t xl[LVPN__NETTLE_LIMBS], yl[LVPN__NETTLE_LIMBS];
  uint8_t buf[LVPN__NETTLE_LIMBS * sizeof(mp_limb_t)];
  const own_key_t *k;
  struct ecc_point dg;
  mpz_t x, y, qx, qy;
  int ret;

  if (!lvpn__ecsign_is_ours(key))
    return MBEDTLS_ERR_PK_TYPE_MISMATCH;
  k = key->pk_ctx;
  ecc_point_init(&dg, k->curve);
  mpz_init(x);
  mpz_init(y);
  ecc_point_mul_g(&dg, &k->d);
  ecc_point_get(&dg, x, y);
  /* Q's coordinates as read-only views (Q is affine: mbedTLS parsed it) */
  ret = mbedtls_mpi_cmp_int(&k->ecdsa.Q.Z, 1) == 0 &&
                lvpn__nettle_mpz_mpi(qx, xl, LVPN__NETTLE_LIMBS,
                                     &k->ecdsa.Q.X, buf, sizeof(buf)) == 0 &&
                lvpn__nettle_mpz_mpi(qy, yl, LVPN__NETTLE_LIMBS,
                                     &k->ecdsa.Q.Y, buf, sizeof(buf)) == 0 &&
                mpz_cmp(x, qx) == 0 && mpz_cmp(y, qy) == 0
            ? 0
            : MBEDTLS_ERR_PK_BAD_INPUT_DATA;
  mpz_clear(x);
  mpz_clear(y);
  ecc_point_clear(&dg);
  return ret;
}

#else

int lvpn__ecsign_is_ours(const mbedtls_pk_context *key) {
  (void)key;
  return 0;
}

int lvpn__ecsign_prepare(mbedtls_pk_context *key) {
  (void)key;
  return LVPN__ECSIGN_NOT_HERE;
}

int lvpn__ecsign_check(const mbedtls_pk_context *key) {
  (void)key;
  return MBEDTLS_ERR_PK_TYPE_MISMATCH;
}

#endif /* LVPN_HS_NETTLE */
