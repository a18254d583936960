/* Data-channel cipher primitives on OpenSSL 3 libcrypto (EVP).
 *
 * Per packet: EVP_CipherInit_ex() with only an IV (the context keeps its
 * fetched cipher and key schedule), the AD, one in-place update, final, and
 * the tag through a ctrl. EVP allows input == output (only partial overlap is
 * refused), for GCM, ChaCha20-Poly1305 and CBC alike.
 *
 * OpenSSL leaves a failure's reason in the thread's error queue; a data path
 * that drops the packet has no use for it, so it is cleared there and then.
 */
#include "layers/datachannel/cipher.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "layervpn.h"

static int fail(int rc) {
  ERR_clear_error();
  return rc;
}

const char *lvpn__dcc_backend(void) {
  return OpenSSL_version(OPENSSL_VERSION);
}

/* The data channel needs only the default provider's ciphers and HMAC.
 * Reading the system's openssl.cnf (and whatever it loads) costs start-up
 * time and heap for nothing, so it is skipped unless the user points
 * OPENSSL_CONF at a configuration on purpose. The first libcrypto call
 * decides; later calls are no-ops. */
static void evp_init_once(void) {
  static int done;
  if (done)
    return;
  done = 1;
  if (getenv("OPENSSL_CONF") == NULL)
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
}

void lvpn__dcc_prepare(void) {
  EVP_CIPHER *ev;
  evp_init_once();
  ev = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL); /* loads the provider */
  EVP_CIPHER_free(ev);
}

int lvpn__dcc_init(lvpn__dc_cipher_t *c, const char *cipher,
                   const uint8_t *key, size_t key_len, int encrypt) {
  EVP_CIPHER *ev;
  int ok;

  evp_init_once();
  memset(c, 0, sizeof(*c));
  ev = EVP_CIPHER_fetch(NULL, cipher, NULL);
  if (ev == NULL)
    return fail(LVPN_ENOCIPHER);
  if ((size_t)EVP_CIPHER_get_key_length(ev) != key_len) {
    EVP_CIPHER_free(ev);
    return fail(LVPN_ENOCIPHER);
  }
  c->ctx = EVP_CIPHER_CTX_new();
  /* The context takes its own reference to the fetched cipher. */
  ok = c->ctx != NULL &&
       EVP_CipherInit_ex(c->ctx, ev, NULL, key, NULL, encrypt ? 1 : 0) == 1;
  if (ok && EVP_CIPHER_get_mode(ev) == EVP_CIPH_CBC_MODE)
    ok = EVP_CIPHER_CTX_set_padding(c->ctx, 0) == 1;
  else if (ok)
    ok = EVP_CIPHER_CTX_get_iv_length(c->ctx) == LVPN__DCC_NONCE_LEN;
  EVP_CIPHER_free(ev);
  if (!ok) {
    lvpn__dcc_free(c);
    return fail(LVPN_ECRYPTO);
  }
  return 0;
}

int lvpn__dcc_hmac_init(lvpn__dc_cipher_t *c, const char *digest,
                        const uint8_t *key, size_t *mac_len) {
  OSSL_PARAM params[2];
  EVP_MAC *mac;
  EVP_MD *md;
  int size;

  evp_init_once();
  md = EVP_MD_fetch(NULL, digest, NULL);
  if (md == NULL)
    return fail(LVPN_EUNSUPPORTED);
  size = EVP_MD_get_size(md);
  EVP_MD_free(md);
  if (size <= 0 || size > LVPN__DCC_MAX_MAC)
    return fail(LVPN_EUNSUPPORTED);
  mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
  if (mac == NULL)
    return fail(LVPN_ECRYPTO);
  c->mac = EVP_MAC_CTX_new(mac); /* holds its own reference to mac */
  EVP_MAC_free(mac);
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                               (char *)digest, 0);
  params[1] = OSSL_PARAM_construct_end();
  if (c->mac == NULL || EVP_MAC_init(c->mac, key, (size_t)size, params) != 1) {
    EVP_MAC_CTX_free(c->mac);
    c->mac = NULL;
    return fail(LVPN_ECRYPTO);
  }
  *mac_len = (size_t)size;
  return 0;
}

void lvpn__dcc_free(lvpn__dc_cipher_t *c) {
  EVP_CIPHER_CTX_free(c->ctx); /* both cleanse their key material */
  EVP_MAC_CTX_free(c->mac);
  OPENSSL_cleanse(c, sizeof(*c));
}

/* IV, then the AD (an update without output). */
static int aead_start(lvpn__dc_cipher_t *c, const uint8_t *nonce,
                      const uint8_t *ad, size_t ad_len) {
  int outl;

  return c->ctx != NULL &&
         EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, nonce, -1) == 1 &&
         EVP_CipherUpdate(c->ctx, NULL, &outl, ad, (int)ad_len) == 1;
}

/* One in-place update and final; the whole input must come out. */
static int update_final(lvpn__dc_cipher_t *c, uint8_t *buf, size_t n) {
  int outl = 0, finl = 0;

  if (EVP_CipherUpdate(c->ctx, buf, &outl, buf, (int)n) != 1)
    return 0;
  if (EVP_CipherFinal_ex(c->ctx, buf + outl, &finl) != 1)
    return -1;
  return (size_t)outl + (size_t)finl == n;
}

int lvpn__dcc_seal(lvpn__dc_cipher_t *c,
                   const uint8_t nonce[LVPN__DCC_NONCE_LEN], const uint8_t *ad,
                   size_t ad_len, uint8_t *buf, size_t n,
                   uint8_t tag[LVPN__DCC_TAG_LEN]) {
  if (n > INT_MAX || ad_len > INT_MAX || !aead_start(c, nonce, ad, ad_len) ||
      update_final(c, buf, n) != 1 ||
      EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_GET_TAG, LVPN__DCC_TAG_LEN,
                          tag) != 1)
    return fail(LVPN_ECRYPTO);
  return 0;
}

int lvpn__dcc_open(lvpn__dc_cipher_t *c,
                   const uint8_t nonce[LVPN__DCC_NONCE_LEN], const uint8_t *ad,
                   size_t ad_len, uint8_t *buf, size_t n,
                   const uint8_t tag[LVPN__DCC_TAG_LEN]) {
  int rc;

  if (n > INT_MAX || ad_len > INT_MAX || !aead_start(c, nonce, ad, ad_len) ||
      EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_TAG, LVPN__DCC_TAG_LEN,
                          (void *)tag) != 1)
    return fail(LVPN_ECRYPTO);
  rc = update_final(c, buf, n);
  if (rc == 1)
    return 0;
  /* A failing final is the tag check: the only failure left there. */
  return fail(rc < 0 ? LVPN_EAUTH : LVPN_ECRYPTO);
}

int lvpn__dcc_cbc(lvpn__dc_cipher_t *c, const uint8_t iv[LVPN__DCC_BLOCK],
                  uint8_t *buf, size_t n) {
  if (n % LVPN__DCC_BLOCK != 0)
    return LVPN_EINVAL;
  if (n > INT_MAX ||
      EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, iv, -1) != 1 ||
      update_final(c, buf, n) != 1)
    return fail(LVPN_ECRYPTO);
  return 0;
}

int lvpn__dcc_hmac(lvpn__dc_cipher_t *c, const uint8_t *in, size_t n,
                   uint8_t *out) {
  size_t outl;

  /* No key: restart with the one given in lvpn__dcc_hmac_init(). */
  if (EVP_MAC_init(c->mac, NULL, 0, NULL) != 1 ||
      EVP_MAC_update(c->mac, in, n) != 1 ||
      EVP_MAC_final(c->mac, out, &outl, LVPN__DCC_MAX_MAC) != 1)
    return fail(LVPN_ECRYPTO);
  return 0;
}
