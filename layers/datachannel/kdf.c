/* Data-channel key derivation (doc §4.3; OpenVPN ssl.c, crypto_mbedtls.c). */
#include "layers/datachannel/kdf.h"

#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>

#include "layervpn.h"

#define KDF_SEED_MAX 128 /* label + randoms + session ids: 21 + 80 */

/* out (op)= P_hash(secret, seed)[0..n). XOR when `xor_into` is set, so the
 * two halves of the TLS 1.0 PRF combine without a second buffer. */
static int p_hash(mbedtls_md_type_t type, const uint8_t *secret, size_t slen,
                  const uint8_t *seed, size_t seed_len, uint8_t *out, size_t n,
                  int xor_into) {
  const mbedtls_md_info_t *info = mbedtls_md_info_from_type(type);
  mbedtls_md_context_t md;
  uint8_t a[MBEDTLS_MD_MAX_SIZE], block[MBEDTLS_MD_MAX_SIZE];
  size_t hlen, done = 0, i, take;
  int rc = LVPN_ECRYPTO;

  if (info == NULL)
    return LVPN_EUNSUPPORTED;
  hlen = mbedtls_md_get_size(info);
  mbedtls_md_init(&md);
  if (mbedtls_md_setup(&md, info, 1) != 0 ||
      mbedtls_md_hmac_starts(&md, secret, slen) != 0)
    goto out;
  /* A(1) = HMAC(secret, seed) */
  if (mbedtls_md_hmac_update(&md, seed, seed_len) != 0 ||
      mbedtls_md_hmac_finish(&md, a) != 0)
    goto out;
  while (done < n) {
    /* block = HMAC(secret, A(i) || seed) */
    if (mbedtls_md_hmac_reset(&md) != 0 ||
        mbedtls_md_hmac_update(&md, a, hlen) != 0 ||
        mbedtls_md_hmac_update(&md, seed, seed_len) != 0 ||
        mbedtls_md_hmac_finish(&md, block) != 0)
      goto out;
    take = n - done < hlen ? n - done : hlen;
    for (i = 0; i < take; i++)
      out[done + i] = xor_into ? (uint8_t)(out[done + i] ^ block[i]) : block[i];
    done += take;
    /* A(i+1) = HMAC(secret, A(i)) */
    if (mbedtls_md_hmac_reset(&md) != 0 ||
        mbedtls_md_hmac_update(&md, a, hlen) != 0 ||
        mbedtls_md_hmac_finish(&md, a) != 0)
      goto out;
  }
  rc = 0;
out:
  mbedtls_md_free(&md); /* zeroizes the HMAC key schedule */
  mbedtls_platform_zeroize(a, sizeof(a));
  mbedtls_platform_zeroize(block, sizeof(block));
  return rc;
}

int lvpn__kdf_tls1_prf(const uint8_t *secret, size_t secret_len,
                       const char *label, const uint8_t *seed, size_t seed_len,
                       uint8_t *out, size_t out_len) {
  uint8_t full[KDF_SEED_MAX];
  size_t llen = strlen(label), half;
  int rc;

  if (llen > sizeof(full) || seed_len > sizeof(full) - llen || secret_len == 0)
    return LVPN_EINVAL;
  memcpy(full, label, llen);
  memcpy(full + llen, seed, seed_len);
  half = (secret_len + 1) / 2;
  rc = p_hash(MBEDTLS_MD_MD5, secret, half, full, llen + seed_len, out, out_len,
              0);
  if (rc == 0)
    rc = p_hash(MBEDTLS_MD_SHA1, secret + secret_len - half, half, full,
                llen + seed_len, out, out_len, 1);
  mbedtls_platform_zeroize(full, sizeof(full));
  if (rc != 0)
    mbedtls_platform_zeroize(out, out_len);
  return rc;
}

int lvpn__kdf_ekm(int mbedtls_tls_prf_type, const uint8_t ms[48],
                  const uint8_t client_random[32],
                  const uint8_t server_random[32], uint8_t key2[256]) {
  uint8_t seed[64];
  int ret;

  memcpy(seed, client_random, 32);
  memcpy(seed + 32, server_random, 32);
  ret = mbedtls_ssl_tls_prf((mbedtls_tls_prf_types)mbedtls_tls_prf_type, ms, 48,
                            LVPN__KDF_EKM_LABEL, seed, sizeof(seed), key2,
                            LVPN__KEY2_LEN);
  mbedtls_platform_zeroize(seed, sizeof(seed));
  if (ret == 0)
    return 0;
  mbedtls_platform_zeroize(key2, LVPN__KEY2_LEN);
  return ret == MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE ? LVPN_EUNSUPPORTED
                                                    : LVPN_ECRYPTO;
}

int lvpn__kdf_ekm_label(int mbedtls_tls_prf_type, const uint8_t ms[48],
                        const uint8_t client_random[32],
                        const uint8_t server_random[32], const char *label,
                        uint8_t *out, size_t out_len) {
  uint8_t seed[64];
  int ret;

  if (out_len == 0 || label == NULL)
    return LVPN_EINVAL;
  memcpy(seed, client_random, 32);
  memcpy(seed + 32, server_random, 32);
  ret = mbedtls_ssl_tls_prf((mbedtls_tls_prf_types)mbedtls_tls_prf_type, ms, 48,
                            label, seed, sizeof(seed), out, out_len);
  mbedtls_platform_zeroize(seed, sizeof(seed));
  if (ret == 0)
    return 0;
  mbedtls_platform_zeroize(out, out_len);
  return ret == MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE ? LVPN_EUNSUPPORTED
                                                    : LVPN_ECRYPTO;
}

int lvpn__kdf_openvpn_prf(const uint8_t pre_master[48],
                          const uint8_t c_random1[32],
                          const uint8_t s_random1[32],
                          const uint8_t c_random2[32],
                          const uint8_t s_random2[32], const uint8_t c_sid[8],
                          const uint8_t s_sid[8], uint8_t key2[256]) {
  uint8_t master[48];
  uint8_t seed[32 + 32 + 8 + 8];
  int rc;

  memcpy(seed, c_random1, 32);
  memcpy(seed + 32, s_random1, 32);
  rc = lvpn__kdf_tls1_prf(pre_master, 48, "OpenVPN master secret", seed, 64,
                          master, sizeof(master));
  if (rc == 0) {
    memcpy(seed, c_random2, 32);
    memcpy(seed + 32, s_random2, 32);
    memcpy(seed + 64, c_sid, 8);
    memcpy(seed + 72, s_sid, 8);
    rc = lvpn__kdf_tls1_prf(master, sizeof(master), "OpenVPN key expansion",
                            seed, sizeof(seed), key2, LVPN__KEY2_LEN);
  }
  mbedtls_platform_zeroize(master, sizeof(master));
  mbedtls_platform_zeroize(seed, sizeof(seed));
  if (rc != 0)
    mbedtls_platform_zeroize(key2, LVPN__KEY2_LEN);
  return rc;
}

void lvpn__key2_inverse(const uint8_t in[256], uint8_t out[256]) {
  memcpy(out, in + 128, 128);
  memcpy(out + 128, in, 128);
}
