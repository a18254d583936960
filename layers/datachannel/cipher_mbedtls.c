/* Data-channel cipher primitives on mbedTLS 2.28 (configure
 * --with-dc-crypto=mbedtls), the library the TLS session already uses, so a
 * build needs no second crypto library for the data path.
 *
 * Per packet: mbedtls_gcm_crypt_and_tag() / mbedtls_gcm_auth_decrypt(), the
 * ChaCha20-Poly1305 equivalents, or mbedtls_cipher_crypt() for AES-CBC
 * (padding off: the caller pads) on a context keyed once; the nonce or IV is
 * the only per-packet input besides the data. All of them take
 * output == input. HMAC contexts keep their key across
 * mbedtls_md_hmac_reset(). Nothing is allocated per packet: the GCM and CBC
 * contexts allocate their AES schedule once, at set-up.
 *
 * mbedtls_*_free() zeroize the contexts and their key schedules.
 */
#include "layers/datachannel/cipher.h"

#include <string.h>
#include <strings.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/version.h>

#include "layervpn.h"

enum { KIND_NONE, KIND_GCM, KIND_CHACHAPOLY, KIND_CBC };

static const struct {
  const char *name;
  int kind;
  size_t key_len;
} algos[] = {
    {"AES-128-GCM", KIND_GCM, 16},
    {"AES-192-GCM", KIND_GCM, 24},
    {"AES-256-GCM", KIND_GCM, 32},
    {"CHACHA20-POLY1305", KIND_CHACHAPOLY, 32},
    {"AES-128-CBC", KIND_CBC, 16},
    {"AES-192-CBC", KIND_CBC, 24},
    {"AES-256-CBC", KIND_CBC, 32},
};

static const struct {
  const char *name;
  mbedtls_md_type_t type;
} digests[] = {
    {"SHA1", MBEDTLS_MD_SHA1},
    {"SHA256", MBEDTLS_MD_SHA256},
    {"SHA384", MBEDTLS_MD_SHA384},
    {"SHA512", MBEDTLS_MD_SHA512},
};

void lvpn__dcc_prepare(void) {} /* mbedTLS is set up already (TLS) */

const char *lvpn__dcc_backend(void) {
  static const char name[] = MBEDTLS_VERSION_STRING_FULL;
  return name;
}

static int cbc_init(mbedtls_cipher_context_t *ctx, const uint8_t *key,
                    size_t key_len, int encrypt) {
  const mbedtls_cipher_info_t *info = mbedtls_cipher_info_from_values(
      MBEDTLS_CIPHER_ID_AES, (int)key_len * 8, MBEDTLS_MODE_CBC);

  if (info == NULL)
    return LVPN_ENOCIPHER;
  if (mbedtls_cipher_setup(ctx, info) != 0 ||
      mbedtls_cipher_setkey(ctx, key, (int)key_len * 8,
                            encrypt ? MBEDTLS_ENCRYPT : MBEDTLS_DECRYPT) != 0 ||
      mbedtls_cipher_set_padding_mode(ctx, MBEDTLS_PADDING_NONE) != 0)
    return LVPN_ECRYPTO;
  return 0;
}

int lvpn__dcc_init(lvpn__dc_cipher_t *c, const char *cipher,
                   const uint8_t *key, size_t key_len, int encrypt) {
  size_t i;
  int rc = 0;

  memset(c, 0, sizeof(*c));
  for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
    if (strcasecmp(cipher, algos[i].name) == 0)
      break;
  if (i == sizeof(algos) / sizeof(algos[0]) || algos[i].key_len != key_len)
    return LVPN_ENOCIPHER;
  c->kind = algos[i].kind;
  c->encrypt = encrypt ? 1 : 0;
  switch (c->kind) {
  case KIND_GCM:
    mbedtls_gcm_init(&c->u.gcm);
    if (mbedtls_gcm_setkey(&c->u.gcm, MBEDTLS_CIPHER_ID_AES, key,
                           (unsigned)key_len * 8) != 0)
      rc = LVPN_ECRYPTO;
    break;
  case KIND_CHACHAPOLY:
    mbedtls_chachapoly_init(&c->u.chachapoly);
    if (mbedtls_chachapoly_setkey(&c->u.chachapoly, key) != 0)
      rc = LVPN_ECRYPTO;
    break;
  default:
    mbedtls_cipher_init(&c->u.cbc);
    rc = cbc_init(&c->u.cbc, key, key_len, encrypt);
    break;
  }
  if (rc != 0)
    lvpn__dcc_free(c);
  return rc;
}

int lvpn__dcc_hmac_init(lvpn__dc_cipher_t *c, const char *digest,
                        const uint8_t *key, size_t *mac_len) {
  const mbedtls_md_info_t *info = NULL;
  size_t i, size;

  for (i = 0; i < sizeof(digests) / sizeof(digests[0]); i++)
    if (strcasecmp(digest, digests[i].name) == 0)
      info = mbedtls_md_info_from_type(digests[i].type);
  if (info == NULL || (size = mbedtls_md_get_size(info)) == 0 ||
      size > LVPN__DCC_MAX_MAC)
    return LVPN_EUNSUPPORTED;
  mbedtls_md_init(&c->mac);
  c->has_mac = 1;
  if (mbedtls_md_setup(&c->mac, info, 1) != 0 ||
      mbedtls_md_hmac_starts(&c->mac, key, size) != 0) {
    mbedtls_md_free(&c->mac);
    c->has_mac = 0;
    return LVPN_ECRYPTO;
  }
  c->mac_len = size;
  *mac_len = size;
  return 0;
}

void lvpn__dcc_free(lvpn__dc_cipher_t *c) {
  switch (c->kind) { /* each free zeroizes its context and key schedule */
  case KIND_GCM:
    mbedtls_gcm_free(&c->u.gcm);
    break;
  case KIND_CHACHAPOLY:
    mbedtls_chachapoly_free(&c->u.chachapoly);
    break;
  case KIND_CBC:
    mbedtls_cipher_free(&c->u.cbc);
    break;
  default:
    break;
  }
  if (c->has_mac)
    mbedtls_md_free(&c->mac); /* zeroizes the HMAC ipad/opad */
  mbedtls_platform_zeroize(c, sizeof(*c));
}

int lvpn__dcc_seal(lvpn__dc_cipher_t *c,
                   const uint8_t nonce[LVPN__DCC_NONCE_LEN], const uint8_t *ad,
                   size_t ad_len, uint8_t *buf, size_t n,
                   uint8_t tag[LVPN__DCC_TAG_LEN]) {
  int e;

  if (c->kind == KIND_GCM)
    e = mbedtls_gcm_crypt_and_tag(&c->u.gcm, MBEDTLS_GCM_ENCRYPT, n, nonce,
                                  LVPN__DCC_NONCE_LEN, ad, ad_len, buf, buf,
                                  LVPN__DCC_TAG_LEN, tag);
  else if (c->kind == KIND_CHACHAPOLY)
    e = mbedtls_chachapoly_encrypt_and_tag(&c->u.chachapoly, n, nonce, ad,
                                           ad_len, buf, buf, tag);
  else
    e = -1;
  return e == 0 ? 0 : LVPN_ECRYPTO;
}

int lvpn__dcc_open(lvpn__dc_cipher_t *c,
                   const uint8_t nonce[LVPN__DCC_NONCE_LEN], const uint8_t *ad,
                   size_t ad_len, uint8_t *buf, size_t n,
                   const uint8_t tag[LVPN__DCC_TAG_LEN]) {
  if (c->kind == KIND_GCM) {
    int e = mbedtls_gcm_auth_decrypt(&c->u.gcm, n, nonce, LVPN__DCC_NONCE_LEN,
                                     ad, ad_len, tag, LVPN__DCC_TAG_LEN, buf,
                                     buf);
    if (e == 0)
      return 0;
    return e == MBEDTLS_ERR_GCM_AUTH_FAILED ? LVPN_EAUTH : LVPN_ECRYPTO;
  }
  if (c->kind == KIND_CHACHAPOLY) {
    int e = mbedtls_chachapoly_auth_decrypt(&c->u.chachapoly, n, nonce, ad,
                                            ad_len, tag, buf, buf);
    if (e == 0)
      return 0;
    return e == MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED ? LVPN_EAUTH
                                                   : LVPN_ECRYPTO;
  }
  return LVPN_ECRYPTO;
}

int lvpn__dcc_cbc(lvpn__dc_cipher_t *c, const uint8_t iv[LVPN__DCC_BLOCK],
                  uint8_t *buf, size_t n) {
  size_t out = 0;

  if (n % LVPN__DCC_BLOCK != 0)
    return LVPN_EINVAL;
  if (c->kind != KIND_CBC ||
      mbedtls_cipher_crypt(&c->u.cbc, iv, LVPN__DCC_BLOCK, buf, n, buf,
                           &out) != 0 ||
      out != n)
    return LVPN_ECRYPTO;
  return 0;
}

int lvpn__dcc_hmac(lvpn__dc_cipher_t *c, const uint8_t *in, size_t n,
                   uint8_t *out) {
  if (!c->has_mac || mbedtls_md_hmac_reset(&c->mac) != 0 ||
      mbedtls_md_hmac_update(&c->mac, in, n) != 0 ||
      mbedtls_md_hmac_finish(&c->mac, out) != 0)
    return LVPN_ECRYPTO;
  return 0;
}
