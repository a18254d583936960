/* Data-channel cipher primitives on libgcrypt (configure
 * --with-dc-crypto=gcrypt).
 *
 * Per packet: gcry_cipher_setiv() on a handle keyed once, the AD, one
 * in-place encrypt/decrypt (outbuf == inbuf, as libgcrypt documents with a
 * NULL input), and the tag. HMAC handles keep their key across
 * gcry_md_reset(), so nothing is allocated per packet.
 *
 * libgcrypt wants initialising once per process: lvpn__gcry_ready()
 * (lib/gcry.c), at the first key set-up at the latest.
 */
#include "layers/datachannel/cipher.h"

#include <string.h>
#include <strings.h>

#include <mbedtls/platform_util.h>

#include "layervpn.h"
#include "lib/gcry.h"

static const struct {
  const char *name;
  int algo, mode;
} algos[] = {
    {"AES-128-GCM", GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_GCM},
    {"AES-192-GCM", GCRY_CIPHER_AES192, GCRY_CIPHER_MODE_GCM},
    {"AES-256-GCM", GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM},
    {"CHACHA20-POLY1305", GCRY_CIPHER_CHACHA20, GCRY_CIPHER_MODE_POLY1305},
    {"AES-128-CBC", GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_CBC},
    {"AES-192-CBC", GCRY_CIPHER_AES192, GCRY_CIPHER_MODE_CBC},
    {"AES-256-CBC", GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_CBC},
};

void lvpn__dcc_prepare(void) { (void)lvpn__gcry_ready(); }

const char *lvpn__dcc_backend(void) {
  static const char name[] = "libgcrypt " GCRYPT_VERSION;
  return name;
}

int lvpn__dcc_init(lvpn__dc_cipher_t *c, const char *cipher,
                   const uint8_t *key, size_t key_len, int encrypt) {
  size_t i;

  memset(c, 0, sizeof(*c));
  for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
    if (strcasecmp(cipher, algos[i].name) == 0)
      break;
  if (i == sizeof(algos) / sizeof(algos[0]) ||
      gcry_cipher_get_algo_keylen(algos[i].algo) != key_len)
    return LVPN_ENOCIPHER;
  if (!lvpn__gcry_ready())
    return LVPN_ECRYPTO;
  c->encrypt = encrypt ? 1 : 0;
  if (gcry_cipher_open(&c->ctx, algos[i].algo, algos[i].mode, 0) != 0) {
    c->ctx = NULL;
    return LVPN_ECRYPTO;
  }
  if (gcry_cipher_setkey(c->ctx, key, key_len) != 0) {
    lvpn__dcc_free(c);
    return LVPN_ECRYPTO;
  }
  return 0;
}

int lvpn__dcc_hmac_init(lvpn__dc_cipher_t *c, const char *digest,
                        const uint8_t *key, size_t *mac_len) {
  int algo = gcry_md_map_name(digest);
  unsigned size;

  if (algo == 0 || (size = gcry_md_get_algo_dlen(algo)) == 0 ||
      size > LVPN__DCC_MAX_MAC)
    return LVPN_EUNSUPPORTED;
  if (gcry_md_open(&c->mac, algo, GCRY_MD_FLAG_HMAC) != 0) {
    c->mac = NULL;
    return LVPN_ECRYPTO;
  }
  if (gcry_md_setkey(c->mac, key, size) != 0) {
    gcry_md_close(c->mac);
    c->mac = NULL;
    return LVPN_ECRYPTO;
  }
  c->mac_len = size;
  *mac_len = size;
  return 0;
}

void lvpn__dcc_free(lvpn__dc_cipher_t *c) {
  gcry_cipher_close(c->ctx); /* both wipe their key material */
  gcry_md_close(c->mac);
  mbedtls_platform_zeroize(c, sizeof(*c));
}

static int aead_start(lvpn__dc_cipher_t *c, const uint8_t *nonce,
                      const uint8_t *ad, size_t ad_len) {
  return gcry_cipher_setiv(c->ctx, nonce, LVPN__DCC_NONCE_LEN) == 0 &&
         gcry_cipher_authenticate(c->ctx, ad, ad_len) == 0 &&
         gcry_cipher_final(c->ctx) == 0; /* the next call is the last */
}

int lvpn__dcc_seal(lvpn__dc_cipher_t *c,
                   const uint8_t nonce[LVPN__DCC_NONCE_LEN], const uint8_t *ad,
                   size_t ad_len, uint8_t *buf, size_t n,
                   uint8_t tag[LVPN__DCC_TAG_LEN]) {
  if (!aead_start(c, nonce, ad, ad_len) ||
      gcry_cipher_encrypt(c->ctx, buf, n, NULL, 0) != 0 ||
      gcry_cipher_gettag(c->ctx, tag, LVPN__DCC_TAG_LEN) != 0)
    return LVPN_ECRYPTO;
  return 0;
}

int lvpn__dcc_open(lvpn__dc_cipher_t *c,
                   const uint8_t nonce[LVPN__DCC_NONCE_LEN], const uint8_t *ad,
                   size_t ad_len, uint8_t *buf, size_t n,
                   const uint8_t tag[LVPN__DCC_TAG_LEN]) {
  gcry_error_t e;

  if (!aead_start(c, nonce, ad, ad_len) ||
      gcry_cipher_decrypt(c->ctx, buf, n, NULL, 0) != 0)
    return LVPN_ECRYPTO;
  e = gcry_cipher_checktag(c->ctx, tag, LVPN__DCC_TAG_LEN);
  if (e == 0)
    return 0;
  return gcry_err_code(e) == GPG_ERR_CHECKSUM ? LVPN_EAUTH : LVPN_ECRYPTO;
}

int lvpn__dcc_cbc(lvpn__dc_cipher_t *c, const uint8_t iv[LVPN__DCC_BLOCK],
                  uint8_t *buf, size_t n) {
  gcry_error_t e;

  if (n % LVPN__DCC_BLOCK != 0)
    return LVPN_EINVAL;
  e = gcry_cipher_setiv(c->ctx, iv, LVPN__DCC_BLOCK);
  if (e == 0)
    e = c->encrypt ? gcry_cipher_encrypt(c->ctx, buf, n, NULL, 0)
                   : gcry_cipher_decrypt(c->ctx, buf, n, NULL, 0);
  return e == 0 ? 0 : LVPN_ECRYPTO;
}

int lvpn__dcc_hmac(lvpn__dc_cipher_t *c, const uint8_t *in, size_t n,
                   uint8_t *out) {
  const unsigned char *d;

  gcry_md_reset(c->mac); /* keeps the HMAC key */
  gcry_md_write(c->mac, in, n);
  if ((d = gcry_md_read(c->mac, 0)) == NULL)
    return LVPN_ECRYPTO;
  memcpy(out, d, c->mac_len);
  return 0;
}
