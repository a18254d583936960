#include "layers/tlssession/x25519.h"

#include <string.h>

#include <mbedtls/platform_util.h>

#include "layervpn.h"
#include "lib/bytes.h"

#include "layers/tlssession/ecc_nettle.h"

static void clamp(uint8_t sk[LVPN__X25519_LEN]) {
  sk[0] &= 248;
  sk[31] &= 127;
  sk[31] |= 64;
}

#ifdef LVPN_HS_NETTLE

int lvpn__x25519_available(void) {
  return lvpn__nettle_ready();
}
const char *lvpn__x25519_library(void) {
  return "Nettle";
}

/* out = X25519(k, u). Nettle ignores the top bit of u itself (checked
 * against RFC 7748's vectors in check_engine); k comes clamped. */
static int mul(const uint8_t k[LVPN__X25519_LEN],
               const uint8_t u[LVPN__X25519_LEN],
               uint8_t out[LVPN__X25519_LEN]) {
  static const uint8_t base[LVPN__X25519_LEN] = {9};
  if (!lvpn__nettle_ready())
    return LVPN_ETLS;
  if (memcmp(u, base, sizeof(base)) == 0)
    curve25519_mul_g(out, k); /* Nettle's table of the base point */
  else
    curve25519_mul(out, k, u);
  return 0;
}

#else /* mbedTLS does it */

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
