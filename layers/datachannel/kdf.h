/* Data-channel key derivation: the 256-byte key2 (doc §4.3).
 *
 * Pure functions, no state. key2 is OpenVPN's `struct key2` keys[2] laid out
 * flat: keys[0] = {cipher[64], hmac[64]} carries client->server traffic,
 * keys[1] = {cipher[64], hmac[64]} server->client. The client uses direction
 * NORMAL (encrypts with keys[0]); a server, INVERSE.
 *
 * Callers own every buffer; intermediates are zeroed before return. key2 is
 * key material: zero it with mbedtls_platform_zeroize once the data-channel
 * key is set up.
 */
#ifndef LVPN_LAYERS_DATACHANNEL_KDF_H
#define LVPN_LAYERS_DATACHANNEL_KDF_H

#include <stddef.h>
#include <stdint.h>

#define LVPN__KEY2_LEN 256
#define LVPN__KDF_EKM_LABEL "EXPORTER-OpenVPN-datakeys"

/* RFC 5705 exporter without context ("tls-ekm"):
 * key2 = PRF(ms, "EXPORTER-OpenVPN-datakeys", client_random || server_random).
 * `mbedtls_tls_prf_type` is the mbedtls_tls_prf_types value the mbedTLS
 * export-keys callback reported (MBEDTLS_SSL_TLS_PRF_SHA256 / _SHA384, or
 * _TLS1 for TLS 1.0/1.1). `ms` is the (extended) master secret from the same
 * callback. Returns 0, LVPN_EUNSUPPORTED for a PRF type this mbedTLS lacks, or
 * LVPN_ECRYPTO. */
int lvpn__kdf_ekm(int mbedtls_tls_prf_type, const uint8_t ms[48],
                  const uint8_t client_random[32],
                  const uint8_t server_random[32], uint8_t key2[256]);

/* The same exporter with another label and length (no context), e.g.
 * "EXPORTER-OpenVPN-dynamic-tls-crypt", 256 bytes (dynamic tls-crypt,
 * tls_crypt.c). Returns as lvpn__kdf_ekm, LVPN_EINVAL for out_len 0. */
#define LVPN__KDF_DYN_TLS_CRYPT_LABEL "EXPORTER-OpenVPN-dynamic-tls-crypt"
int lvpn__kdf_ekm_label(int mbedtls_tls_prf_type, const uint8_t ms[48],
                        const uint8_t client_random[32],
                        const uint8_t server_random[32], const char *label,
                        uint8_t *out, size_t out_len);

/* OpenVPN's legacy PRF (key-method 2 without tls-ekm), ssl.c
 * generate_key_expansion_openvpn_prf:
 *   master = PRF(pre_master, "OpenVPN master secret", c_random1 || s_random1)
 *   key2   = PRF(master, "OpenVPN key expansion",
 *                c_random2 || s_random2 || c_sid || s_sid)
 * with the TLS 1.0 PRF. c_sid/s_sid are the control-channel session ids of
 * client and server. Returns 0 or LVPN_ECRYPTO. */
int lvpn__kdf_openvpn_prf(const uint8_t pre_master[48],
                          const uint8_t c_random1[32],
                          const uint8_t s_random1[32],
                          const uint8_t c_random2[32],
                          const uint8_t s_random2[32], const uint8_t c_sid[8],
                          const uint8_t s_sid[8], uint8_t key2[256]);

/* The TLS 1.0 PRF (RFC 2246 §5): P_MD5(S1, label||seed) XOR
 * P_SHA1(S2, label||seed), S1/S2 the halves of `secret` (overlapping by one
 * byte when its length is odd). Built on mbedtls_md_hmac so it does not
 * depend on mbedTLS's TLS 1.0 support. strlen(label) + seed_len must not
 * exceed 128. Returns 0, LVPN_EINVAL or LVPN_ECRYPTO. */
int lvpn__kdf_tls1_prf(const uint8_t *secret, size_t secret_len,
                       const char *label, const uint8_t *seed, size_t seed_len,
                       uint8_t *out, size_t out_len);

/* key2 slices for the client (direction NORMAL). The hmac slice holds the
 * HMAC key (CBC) or, in its first 8 bytes, the implicit IV (AEAD). */
static inline const uint8_t *lvpn__key2_enc_cipher(const uint8_t *key2) {
  return key2;
}
static inline const uint8_t *lvpn__key2_enc_hmac(const uint8_t *key2) {
  return key2 + 64;
}
static inline const uint8_t *lvpn__key2_dec_cipher(const uint8_t *key2) {
  return key2 + 128;
}
static inline const uint8_t *lvpn__key2_dec_hmac(const uint8_t *key2) {
  return key2 + 192;
}

/* Swap the two directions: a key set up from the result behaves as the
 * server (direction INVERSE). For in-memory peers in tests. `out` may not
 * alias `in`. */
void lvpn__key2_inverse(const uint8_t in[256], uint8_t out[256]);

#endif
