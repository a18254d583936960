#include "layers/tlssession/x25519.h"

#include <string.h>

#include <mbedtls/platform_util.h>

#include "layervpn.h"
#include "lib/bytes.h"
#include "lib/gcry.h"

#if defined(LVPN_DC_CRYPTO_GCRYPT)
#include <gcrypt.h>
#elif !defined(LVPN_DC_CRYPTO_MBEDTLS)
#include <openssl/evp.h>
#endif

static void clamp(uint8_t sk[LVPN__X25519_LEN]) {
  sk[0] &= 248;
  sk[31] &= 127;
  sk[31] |= 64;
}

#if defined(LVPN_DC_CRYPTO_GCRYPT)

int lvpn__x25519_available(void) {
  return lvpn__gcry_ready();
}
const char *lvpn__x25519_library(void) {
  return "libgcrypt";
}

/* out = X25519(k, u). libgcrypt clamps the scalar and ignores the top bit
 * of u itself (checked against RFC 7748's vectors in check_engine). */
static int mul(const uint8_t k[LVPN__X25519_LEN],
               const uint8_t u[LVPN__X25519_LEN],
               uint8_t out[LVPN__X25519_LEN]) {
  if (!lvpn__gcry_ready())
    return LVPN_ETLS;
  return gcry_ecc_mul_point(GCRY_ECC_CURVE25519, out, k, u) == 0 ? 0
                                                                 : LVPN_ETLS;
}

#elif defined(LVPN_DC_CRYPTO_MBEDTLS)

int lvpn__x25519_available(void) {
  return 0;
}
const char *lvpn__x25519_library(void) {
  return "mbedTLS";
}

static int mul(const uint8_t k[LVPN__X25519_LEN],
               const uint8_t u[LVPN__X25519_LEN],
               uint8_t out[LVPN__X25519_LEN]) {
  (void)k;
  (void)u;
  (void)out;
  return LVPN_ETLS;
}

#else /* OpenSSL libcrypto, linked in this build */

int lvpn__x25519_available(void) {
  return 1;
}
const char *lvpn__x25519_library(void) {
  return "libcrypto";
}

static int mul(const uint8_t k[LVPN__X25519_LEN],
               const uint8_t u[LVPN__X25519_LEN],
               uint8_t out[LVPN__X25519_LEN]) {
  static const uint8_t base[LVPN__X25519_LEN] = {9};
  EVP_PKEY *key, *peer = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  size_t len = LVPN__X25519_LEN;
  int ok = 0;

  key =
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, k, LVPN__X25519_LEN);
  if (key == NULL)
    return LVPN_ETLS;
  if (memcmp(u, base, sizeof(base)) == 0) { /* X25519(k, 9): k's public key */
    ok = EVP_PKEY_get_raw_public_key(key, out, &len) == 1;
  } else {
    peer =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, u, LVPN__X25519_LEN);
    ctx = peer != NULL ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    /* libcrypto refuses an all-zero result itself */
    ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
         EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
         EVP_PKEY_derive(ctx, out, &len) == 1;
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(peer);
  EVP_PKEY_free(key);
  return ok && len == LVPN__X25519_LEN ? 0 : LVPN_ETLS;
}

#endif

int lvpn__x25519_public(uint8_t sk[LVPN__X25519_LEN],
                        uint8_t pub[LVPN__X25519_LEN]) {
  static const uint8_t base[LVPN__X25519_LEN] = {9};
  clamp(sk);
  return mul(sk, base, pub);
}

int lvpn__x25519_shared(const uint8_t sk[LVPN__X25519_LEN],
                        const uint8_t peer[LVPN__X25519_LEN],
                        uint8_t z[LVPN__X25519_LEN]) {
  uint8_t k[LVPN__X25519_LEN];
  int ret;
  memcpy(k, sk, sizeof(k));
  clamp(k);
  ret = mul(k, peer, z);
  mbedtls_platform_zeroize(k, sizeof(k));
  if (ret == 0 && lvpn__ct_all_zero(z, LVPN__X25519_LEN))
    ret = LVPN_ETLS;
  if (ret != 0)
    mbedtls_platform_zeroize(z, LVPN__X25519_LEN);
  return ret;
}
