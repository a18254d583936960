/* Data-channel cipher primitives: seal/open one packet in place with a key
 * set up once (AEAD, or AES-CBC plus HMAC). crypto.c builds the OpenVPN
 * packet around them (header, packet id, nonce, padding, replay window).
 *
 * Backends (configure --with-dc-crypto=evp|gcrypt|mbedtls), all keyed once
 * per key and direction, only the IV set per packet:
 * - gcrypt (default when configure finds libgcrypt >= 1.10): libgcrypt
 *   (cipher_gcrypt.c), one cipher handle (and, for CBC, one HMAC handle)
 *   per key and direction; nothing allocated per packet. Faster here than
 *   EVP, and lighter to map (doc/performance.md).
 * - evp (default without libgcrypt): OpenSSL 3 libcrypto EVP
 *   (cipher_evp.c), one EVP_CIPHER_CTX per key and direction. Nothing is
 *   allocated per packet except inside OpenSSL 3.0's HMAC
 *   re-initialisation (CBC only).
 * - mbedtls: mbedTLS 2.28 (cipher_mbedtls.c), one GCM, ChaCha20-Poly1305 or
 *   AES-CBC context (and, for CBC, one HMAC context) per key and direction;
 *   nothing allocated per packet.
 *
 * All buffers are processed in place (input == output). Key bytes passed in
 * are copied into the contexts; the caller zeroes its own copy.
 */
#ifndef LVPN_LAYERS_DATACHANNEL_CIPHER_H
#define LVPN_LAYERS_DATACHANNEL_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#if defined(LVPN_DC_CRYPTO_GCRYPT)
#include <gcrypt.h>
#elif defined(LVPN_DC_CRYPTO_MBEDTLS)
#include <mbedtls/chachapoly.h>
#include <mbedtls/cipher.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#else
#include <openssl/types.h>
#endif

#define LVPN__DCC_NONCE_LEN 12
#define LVPN__DCC_TAG_LEN 16
#define LVPN__DCC_BLOCK 16
#define LVPN__DCC_MAX_MAC 64

/* One direction: a keyed cipher context and, for CBC, a keyed HMAC. Both
 * NULL (mbedtls: kind and has_mac 0) when not set up; lvpn__dcc_free() on a
 * zeroed struct is harmless. */
typedef struct lvpn__dc_cipher_s {
#ifdef LVPN_DC_CRYPTO_GCRYPT
  gcry_cipher_hd_t ctx;
  gcry_md_hd_t mac;
  size_t mac_len;
  int encrypt; /* CBC: the direction keyed */
#elif defined(LVPN_DC_CRYPTO_MBEDTLS)
  int kind;    /* 0: nothing keyed, else the cipher family (cipher_mbedtls.c) */
  int encrypt; /* the direction keyed */
  union {
    mbedtls_gcm_context gcm;
    mbedtls_chachapoly_context chachapoly;
    mbedtls_cipher_context_t cbc;
  } u;
  int has_mac;
  size_t mac_len;
  mbedtls_md_context_t mac;
#else
  EVP_CIPHER_CTX *ctx;
  EVP_MAC_CTX *mac;
#endif
} lvpn__dc_cipher_t;

/* The backend's name and version, e.g. "OpenSSL 3.0.19 27 Jan 2026". */
const char *lvpn__dcc_backend(void);
/* The backend's one-time set-up ahead of the first key (libgcrypt's
 * initialization, OpenSSL's default provider): start-up work a wait on the
 * network can take. Optional, idempotent, never fails: lvpn__dcc_init()
 * does it anyway. */
void lvpn__dcc_prepare(void);

/* Key `c` for `cipher` (an OpenSSL/OpenVPN name: AES-128-GCM,
 * CHACHA20-POLY1305, AES-256-CBC, ...), whose key length must be key_len.
 * encrypt: 1 to seal, 0 to open. CBC runs without padding (the caller pads).
 * Returns 0, LVPN_ENOCIPHER (the library lacks it or key_len differs) or
 * LVPN_ECRYPTO. On failure `c` holds nothing (free is still harmless). */
int lvpn__dcc_init(lvpn__dc_cipher_t *c, const char *cipher,
                   const uint8_t *key, size_t key_len, int encrypt);
/* Key an HMAC with `digest` (SHA1, SHA256, SHA384, SHA512) and a key as long
 * as the digest; *mac_len gets the digest size. Returns 0,
 * LVPN_EUNSUPPORTED (no such digest) or LVPN_ECRYPTO. */
int lvpn__dcc_hmac_init(lvpn__dc_cipher_t *c, const char *digest,
                        const uint8_t *key, size_t *mac_len);
/* Free both contexts (the library wipes their key schedules), zero `c`. */
void lvpn__dcc_free(lvpn__dc_cipher_t *c);

/* AEAD: encrypt buf[0..n) in place and write the 16-byte tag. ad may be
 * anywhere (also inside buf's headroom). Returns 0 or LVPN_ECRYPTO. */
int lvpn__dcc_seal(lvpn__dc_cipher_t *c,
                   const uint8_t nonce[LVPN__DCC_NONCE_LEN], const uint8_t *ad,
                   size_t ad_len, uint8_t *buf, size_t n,
                   uint8_t tag[LVPN__DCC_TAG_LEN]);
/* AEAD: decrypt buf[0..n) in place and check the tag. Returns 0, LVPN_EAUTH
 * (bad tag: buf then holds unauthenticated bytes, drop them) or
 * LVPN_ECRYPTO. */
int lvpn__dcc_open(lvpn__dc_cipher_t *c,
                   const uint8_t nonce[LVPN__DCC_NONCE_LEN], const uint8_t *ad,
                   size_t ad_len, uint8_t *buf, size_t n,
                   const uint8_t tag[LVPN__DCC_TAG_LEN]);
/* CBC: encrypt or decrypt (as keyed) buf[0..n) in place; n is a multiple of
 * 16. Returns 0, LVPN_EINVAL (n not a multiple of 16) or LVPN_ECRYPTO. */
int lvpn__dcc_cbc(lvpn__dc_cipher_t *c, const uint8_t iv[LVPN__DCC_BLOCK],
                  uint8_t *buf, size_t n);
/* HMAC of in[0..n) into out (mac_len bytes). Returns 0 or LVPN_ECRYPTO. */
int lvpn__dcc_hmac(lvpn__dc_cipher_t *c, const uint8_t *in, size_t n,
                   uint8_t *out);

#endif
