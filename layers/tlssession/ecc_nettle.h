/* What x25519.c, ecverify.c and ecsign.c share to hand the handshake's
 * elliptic-curve work to Nettle (configure's LVPN_HS_NETTLE).
 *
 * libhogweed (with libnettle and GMP under it) is loaded on first use
 * (dlopen, lib/dl.h), not linked: linked, the dynamic linker's work on the
 * three libraries cost every start about 440 kB of resident memory before
 * `main`, where the peak is set. Loaded by lvpn__tls_conf_init(), after
 * the CLI's start trim (cmd/memtrim.h), they cost only the pages the
 * handshake touches once the CLI has trimmed them too. The calls go
 * through the table below; the macros keep Nettle's and GMP's names.
 *
 * Then the curve of an mbedTLS group and its big numbers as GMP's:
 * read-only views on limbs the caller owns, so that no secret is copied to
 * memory GMP allocates and frees unzeroed. */
#ifndef LVPN_LAYERS_TLSSESSION_ECC_NETTLE_H
#define LVPN_LAYERS_TLSSESSION_ECC_NETTLE_H

/* 1 once libhogweed and GMP are loaded with every function below (the
 * first call loads them, once per process; thread-safe), 0 when they
 * cannot be (a build without Nettle, or the libraries missing): mbedTLS
 * does the work then. */
int lvpn__nettle_ready(void);

#ifdef LVPN_HS_NETTLE
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <nettle/curve25519.h>
#include <nettle/dsa.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>

/* libhogweed's functions we call ("nettle_" NAME) and GMP's ("__gmpz_"
 * NAME) */
#define LVPN__NETTLE_FUNCS(X)                                                  \
  X(get_secp_256r1)                                                            \
  X(get_secp_384r1)                                                            \
  X(get_secp_521r1)                                                            \
  X(ecc_point_init)                                                            \
  X(ecc_point_clear)                                                           \
  X(ecc_point_set)                                                             \
  X(ecc_point_get)                                                             \
  X(ecc_point_mul_g)                                                           \
  X(ecc_scalar_init)                                                           \
  X(ecc_scalar_clear)                                                          \
  X(ecc_scalar_set)                                                            \
  X(ecc_size)                                                                  \
  X(ecdsa_sign)                                                                \
  X(ecdsa_verify)                                                              \
  X(dsa_signature_init)                                                        \
  X(dsa_signature_clear)                                                       \
  X(curve25519_mul)                                                            \
  X(curve25519_mul_g)
#define LVPN__GMP_FUNCS(X)                                                     \
  X(roinit_n)                                                                  \
  X(sizeinbase)                                                                \
  X(export)                                                                    \
  X(cmp)                                                                       \
  X(init)                                                                      \
  X(clear)

#define LVPN__NETTLE_FIELD(f) __typeof__(&nettle_##f) n_##f;
#define LVPN__GMP_FIELD(f) __typeof__(&__gmpz_##f) g_##f;
typedef struct {
  LVPN__NETTLE_FUNCS(LVPN__NETTLE_FIELD)
  LVPN__GMP_FUNCS(LVPN__GMP_FIELD)
} lvpn__nettle_t;
#undef LVPN__NETTLE_FIELD
#undef LVPN__GMP_FIELD
extern lvpn__nettle_t lvpn__nettle;

/* their names, through the table (after the headers' declarations) */
#undef nettle_get_secp_256r1
#define nettle_get_secp_256r1 (*lvpn__nettle.n_get_secp_256r1)
#undef nettle_get_secp_384r1
#define nettle_get_secp_384r1 (*lvpn__nettle.n_get_secp_384r1)
#undef nettle_get_secp_521r1
#define nettle_get_secp_521r1 (*lvpn__nettle.n_get_secp_521r1)
#undef ecc_point_init
#define ecc_point_init (*lvpn__nettle.n_ecc_point_init)
#undef ecc_point_clear
#define ecc_point_clear (*lvpn__nettle.n_ecc_point_clear)
#undef ecc_point_set
#define ecc_point_set (*lvpn__nettle.n_ecc_point_set)
#undef ecc_point_get
#define ecc_point_get (*lvpn__nettle.n_ecc_point_get)
#undef ecc_point_mul_g
#define ecc_point_mul_g (*lvpn__nettle.n_ecc_point_mul_g)
#undef ecc_scalar_init
#define ecc_scalar_init (*lvpn__nettle.n_ecc_scalar_init)
#undef ecc_scalar_clear
#define ecc_scalar_clear (*lvpn__nettle.n_ecc_scalar_clear)
#undef ecc_scalar_set
#define ecc_scalar_set (*lvpn__nettle.n_ecc_scalar_set)
#undef ecc_size
#define ecc_size (*lvpn__nettle.n_ecc_size)
#undef ecdsa_sign
#define ecdsa_sign (*lvpn__nettle.n_ecdsa_sign)
#undef ecdsa_verify
#define ecdsa_verify (*lvpn__nettle.n_ecdsa_verify)
#undef dsa_signature_init
#define dsa_signature_init (*lvpn__nettle.n_dsa_signature_init)
#undef dsa_signature_clear
#define dsa_signature_clear (*lvpn__nettle.n_dsa_signature_clear)
#undef curve25519_mul
#define curve25519_mul (*lvpn__nettle.n_curve25519_mul)
#undef curve25519_mul_g
#define curve25519_mul_g (*lvpn__nettle.n_curve25519_mul_g)
#undef mpz_roinit_n
#define mpz_roinit_n (*lvpn__nettle.g_roinit_n)
#undef mpz_sizeinbase
#define mpz_sizeinbase (*lvpn__nettle.g_sizeinbase)
#undef mpz_export
#define mpz_export (*lvpn__nettle.g_export)
#undef mpz_cmp
#define mpz_cmp (*lvpn__nettle.g_cmp)
#undef mpz_init
#define mpz_init (*lvpn__nettle.g_init)
#undef mpz_clear
#define mpz_clear (*lvpn__nettle.g_clear)

/* limbs of the largest number we hand over: a P-521 coordinate */
#define LVPN__NETTLE_LIMBS ((521 + GMP_NUMB_BITS - 1) / GMP_NUMB_BITS)

/* Nettle's curve for an mbedTLS group, or NULL for a curve we leave to
 * mbedTLS (the table must be loaded: lvpn__nettle_ready()). */
static inline const struct ecc_curve *
lvpn__nettle_curve(mbedtls_ecp_group_id id) {
  if (!lvpn__nettle_ready())
    return NULL;
  switch (id) {
  case MBEDTLS_ECP_DP_SECP256R1:
    return nettle_get_secp_256r1();
  case MBEDTLS_ECP_DP_SECP384R1:
    return nettle_get_secp_384r1();
  case MBEDTLS_ECP_DP_SECP521R1:
    return nettle_get_secp_521r1();
  default:
    return NULL;
  }
}

/* The unsigned big-endian integer be[0..len) as limbs[0..n) (least
 * significant first) and `z` a read-only GMP view of them; -1 when it
 * needs more than `n` limbs. */
static inline int lvpn__nettle_mpz_be(mpz_t z, mp_limb_t *limbs, size_t n,
                                      const uint8_t *be, size_t len) {
  size_t i;
  while (len > 0 && be[0] == 0) {
    be++;
    len--;
  }
  if (len > n * sizeof(mp_limb_t))
    return -1;
  for (i = 0; i < n; i++)
    limbs[i] = 0;
  for (i = 0; i < len; i++)
    limbs[i / sizeof(mp_limb_t)] |= (mp_limb_t)be[len - 1 - i]
                                    << (8 * (i % sizeof(mp_limb_t)));
  mpz_roinit_n(z, limbs, (mp_size_t)((len + sizeof(mp_limb_t) - 1) /
                                     sizeof(mp_limb_t)));
  return 0;
}

/* The same for an mbedTLS big number (non-negative), through `buf` of
 * `cap` bytes, which the caller wipes when the number is secret. */
static inline int lvpn__nettle_mpz_mpi(mpz_t z, mp_limb_t *limbs, size_t n,
                                       const mbedtls_mpi *x, uint8_t *buf,
                                       size_t cap) {
  size_t len = mbedtls_mpi_size(x);
  if (x->s < 0 || len > cap || mbedtls_mpi_write_binary(x, buf, len) != 0)
    return -1;
  return lvpn__nettle_mpz_be(z, limbs, n, buf, len);
}

/* `p` (initialized on `curve`) set to the mbedTLS point `q`; -1 when it is
 * not on the curve (Nettle checks) or cannot be read. */
static inline int lvpn__nettle_point(struct ecc_point *p,
                                     const mbedtls_ecp_point *q) {
  mp_limb_t xl[LVPN__NETTLE_LIMBS], yl[LVPN__NETTLE_LIMBS];
  uint8_t buf[LVPN__NETTLE_LIMBS * sizeof(mp_limb_t)];
  mpz_t x, y;
  if (mbedtls_mpi_cmp_int(&q->Z, 1) != 0 ||
      lvpn__nettle_mpz_mpi(x, xl, LVPN__NETTLE_LIMBS, &q->X, buf,
                           sizeof(buf)) != 0 ||
      lvpn__nettle_mpz_mpi(y, yl, LVPN__NETTLE_LIMBS, &q->Y, buf,
                           sizeof(buf)) != 0)
    return -1;
  return ecc_point_set(p, x, y) == 1 ? 0 : -1;
}

#endif /* LVPN_HS_NETTLE */
#endif
