/* Key material mbedTLS 2.28 cannot read, turned into PEM it can, with
 * OpenSSL's libcrypto: PKCS#12 bundles (pkcs12) and PKCS#8 keys encrypted
 * with PBES2 ciphers other than DES (what OpenSSL 3 writes by default).
 * Every buffer returned holds key material: free it with
 * lvpn__keyload_free() (zeroed first). Loop-free. */
#ifndef LVPN_LAYERS_TLSSESSION_KEYLOAD_H
#define LVPN_LAYERS_TLSSESSION_KEYLOAD_H

#include <stddef.h>

typedef struct {
  char *cert; /* PEM of the certificate, NUL-terminated */
  char *key;  /* unencrypted PEM (PKCS#8) of its private key */
  char *ca;   /* PEM of the other certificates in the bundle, or NULL */
} lvpn__pkcs12_pem_t;

/** Opens a PKCS#12 bundle: DER (a file) or base64 of it (an inline
 * <pkcs12> block, as OpenVPN takes it). `pass` may be NULL (no or empty
 * password). Returns 0, LVPN_EKEYFILE (unreadable, wrong password, or no
 * key/certificate inside; the reason in `err`) or LVPN_ENOMEM. */
int lvpn__pkcs12_to_pem(const char *data, size_t len, const char *pass,
                        lvpn__pkcs12_pem_t *out, char *err, size_t errlen);
void lvpn__pkcs12_pem_free(lvpn__pkcs12_pem_t *p);

/** 1 when the bundle (as for lvpn__pkcs12_to_pem) opens only with a
 * password (its MAC checks with neither none nor ""), else 0 (also when it
 * cannot be read at all: opening it then names the problem). */
int lvpn__pkcs12_needs_pass(const char *data, size_t len);

/** Decrypts an "ENCRYPTED PRIVATE KEY" PEM into an unencrypted one in
 * *out (NUL-terminated). Returns 0 or LVPN_EKEYFILE / LVPN_ENOMEM. */
int lvpn__key_decrypt_pem(const char *pem, size_t len, const char *pass,
                          char **out, char *err, size_t errlen);

/** 1 when the PEM holds an encrypted private key (PKCS#8 "ENCRYPTED
 * PRIVATE KEY" or a legacy "Proc-Type: 4,ENCRYPTED" header), else 0. */
int lvpn__key_pem_encrypted(const char *pem, size_t len);

/** Zeroes and frees a NUL-terminated buffer from this module. */
void lvpn__keyload_free(char *s);

#endif
