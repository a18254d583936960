/* PKCS#12 bundles and PBES2-encrypted keys through libcrypto, turned into
 * PEM for mbedTLS. See keyload.h.
 *
 * libcrypto is loaded on first use (dlopen), not linked: only PKCS#12 and
 * encrypted keys need it, and a linked libcrypto costs every process about
 * 1.6 MB resident before main (doc/performance.md). The OpenSSL headers
 * still give the types and macros; every function called goes through the
 * table `lc` (the #defines below), so the code reads as plain OpenSSL. In
 * the EVP data-channel build dlopen just returns the linked library.
 *
 * PKCS#12 files from older exports (pfSense, OpenVPN Access Server) use
 * RC2-40 or 3DES, which OpenSSL 3 only has in its "legacy" provider: when
 * the default provider cannot open a bundle, the legacy provider is loaded
 * (once, process-wide) and the bundle retried. */
#include "layers/tlssession/keyload.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "layervpn.h"
#include "lib/dl.h"

#define LC_SONAME "libcrypto.so.3"

/* Every libcrypto function this file calls, macros' targets included
 * (sk_X509_* are OPENSSL_sk_*, BIO_get_mem_data is BIO_ctrl). */
#define LC_FUNCS(X)                                                            \
  X(OPENSSL_init_crypto)                                                       \
  X(ERR_peek_last_error)                                                       \
  X(ERR_error_string_n)                                                        \
  X(ERR_clear_error)                                                           \
  X(BIO_new)                                                                   \
  X(BIO_new_mem_buf)                                                           \
  X(BIO_s_mem)                                                                 \
  X(BIO_s_secmem)                                                              \
  X(BIO_ctrl)                                                                  \
  X(BIO_free)                                                                  \
  X(PEM_write_bio_PKCS8PrivateKey)                                             \
  X(PEM_write_bio_X509)                                                        \
  X(PEM_read_bio_PrivateKey)                                                   \
  X(OPENSSL_sk_num)                                                            \
  X(OPENSSL_sk_value)                                                          \
  X(OPENSSL_sk_pop_free)                                                       \
  X(d2i_PKCS12)                                                                \
  X(PKCS12_mac_present)                                                        \
  X(PKCS12_verify_mac)                                                         \
  X(PKCS12_parse)                                                              \
  X(PKCS12_free)                                                               \
  X(EVP_PKEY_free)                                                             \
  X(X509_free)                                                                 \
  X(OSSL_PROVIDER_try_load)

#define LC_FIELD(f) __typeof__(&f) f;
static struct { LC_FUNCS(LC_FIELD) } lc;
static int lc_state; /* 1: loaded, -1: failed (set once, lc_load) */
static char lc_error[200];

#define LC_SYM(f)                                                              \
  lvpn__dl_sym(lib, LC_SONAME, #f, &lc.f, sizeof(lc.f), lc_error,              \
               sizeof(lc_error)) == 0 &&

/* Loads libcrypto, once (pthread_once: clients of an embedding program
 * may load keys on loops in several threads). On failure lc_state is -1,
 * lc_error says why and the table stays all NULL. */
static void lc_load_once(void) {
  void *lib;
  lc_state = -1;
  if ((lib = lvpn__dl_open(LC_SONAME, lc_error, sizeof(lc_error))) == NULL)
    return;
  if (!(LC_FUNCS(LC_SYM) 1)) {
    memset(&lc, 0, sizeof(lc));
    dlclose(lib);
    return;
  }
  /* As the EVP data channel (cipher_evp.c): the system's openssl.cnf is
   * read only when the user points OPENSSL_CONF at one; the first
   * libcrypto call in the process decides. */
  if (getenv("OPENSSL_CONF") == NULL)
    lc.OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
  lc_state = 1; /* stays loaded: the table points into it */
}

/* 0 once libcrypto is loaded, else -1 (the reason in lc_error). */
static int lc_load(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, lc_load_once);
  return lc_state > 0 ? 0 : -1;
}

/* From here on each libcrypto call goes through the table. */
#define ERR_peek_last_error (*lc.ERR_peek_last_error)
#define ERR_error_string_n (*lc.ERR_error_string_n)
#define ERR_clear_error (*lc.ERR_clear_error)
#define BIO_new (*lc.BIO_new)
#define BIO_new_mem_buf (*lc.BIO_new_mem_buf)
#define BIO_s_mem (*lc.BIO_s_mem)
#define BIO_s_secmem (*lc.BIO_s_secmem)
#define BIO_ctrl (*lc.BIO_ctrl)
#define BIO_free (*lc.BIO_free)
#define PEM_write_bio_PKCS8PrivateKey (*lc.PEM_write_bio_PKCS8PrivateKey)
#define PEM_write_bio_X509 (*lc.PEM_write_bio_X509)
#define PEM_read_bio_PrivateKey (*lc.PEM_read_bio_PrivateKey)
#define OPENSSL_sk_num (*lc.OPENSSL_sk_num)
#define OPENSSL_sk_value (*lc.OPENSSL_sk_value)
#define OPENSSL_sk_pop_free (*lc.OPENSSL_sk_pop_free)
#define d2i_PKCS12 (*lc.d2i_PKCS12)
#define PKCS12_mac_present (*lc.PKCS12_mac_present)
#define PKCS12_verify_mac (*lc.PKCS12_verify_mac)
#define PKCS12_parse (*lc.PKCS12_parse)
#define PKCS12_free (*lc.PKCS12_free)
#define EVP_PKEY_free (*lc.EVP_PKEY_free)
#define X509_free (*lc.X509_free)
#define OSSL_PROVIDER_try_load (*lc.OSSL_PROVIDER_try_load)

/* The load failure as the caller's error: `what` names the option. */
static int lc_fail(char *err, size_t errlen, const char *what) {
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, "%s: %s", what, lc_error);
  return LVPN_EKEYFILE;
}

static int fail(char *err, size_t errlen, int code, const char *what) {
  unsigned long e = ERR_peek_last_error();
  char text[160] = "";
  if (e != 0)
    ERR_error_string_n(e, text, sizeof(text));
  ERR_clear_error();
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, "%s%s%s", what, text[0] ? ": " : "", text);
  return code;
}

void lvpn__keyload_free(char *s) {
  if (s == NULL)
    return;
  mbedtls_platform_zeroize(s, strlen(s));
  free(s);
}

/* The content of a memory BIO as a NUL-terminated heap string; the BIO is
 * a secure-memory one, so freeing it clears it. */
static char *bio_string(BIO *b) {
  char *data, *s;
  long n = BIO_get_mem_data(b, &data);
  if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
    return NULL;
  memcpy(s, data, (size_t)n);
  s[n] = '\0';
  return s;
}

static char *key_pem(EVP_PKEY *k) {
  BIO *b = BIO_new(BIO_s_secmem());
  char *s = NULL;
  if (b != NULL &&
      PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1)
    s = bio_string(b);
  BIO_free(b);
  return s;
}

static char *certs_pem(X509 *one, STACK_OF(X509) * more) {
  BIO *b = BIO_new(BIO_s_mem());
  char *s = NULL;
  int i, ok = b != NULL;
  if (ok && one != NULL)
    ok = PEM_write_bio_X509(b, one) == 1;
  for (i = 0; ok && more != NULL && i < sk_X509_num(more); i++)
    ok = PEM_write_bio_X509(b, sk_X509_value(more, i)) == 1;
  if (ok)
    s = bio_string(b);
  BIO_free(b);
  return s;
}

/* DER, or base64 of it (whitespace allowed), into a heap buffer. */
static unsigned char *der_of(const char *data, size_t len, size_t *outlen) {
  unsigned char *der;
  size_t n = 0;
  if (len > 0 && (unsigned char)data[0] == 0x30) {
    if ((der = malloc(len)) != NULL)
      memcpy(der, data, len);
    *outlen = len;
    return der;
  }
  if (mbedtls_base64_decode(NULL, 0, &n, (const unsigned char *)data, len) !=
          MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL ||
      (der = malloc(n)) == NULL)
    return NULL;
  if (mbedtls_base64_decode(der, n, outlen, (const unsigned char *)data,
                            len) != 0) {
    free(der);
    return NULL;
  }
  return der;
}

/* The bundle's DER: a file's bytes, or an inline block's base64. */
static unsigned char *p12_der(const char *data, size_t len, size_t *n) {
  if (len > 0 && data[len - 1] == '\0' && (unsigned char)data[0] != 0x30)
    len--; /* base64 text given with its NUL */
  return der_of(data, len, n);
}

int lvpn__pkcs12_needs_pass(const char *data, size_t len) {
  unsigned char *der;
  const unsigned char *p;
  PKCS12 *p12;
  size_t n = 0;
  int needs = 0;

  if (data == NULL || lc_load() != 0 || (der = p12_der(data, len, &n)) == NULL)
    return 0; /* opening it names the problem */
  p = der;
  p12 = d2i_PKCS12(NULL, &p, (long)n);
  /* as PKCS12_parse() with no password: the MAC checks with none or "" */
  if (p12 != NULL && PKCS12_mac_present(p12) &&
      PKCS12_verify_mac(p12, NULL, 0) != 1 && PKCS12_verify_mac(p12, "", 0) != 1)
    needs = 1;
  PKCS12_free(p12);
  ERR_clear_error();
  free(der);
  return needs;
}

static int parse(const unsigned char *der, size_t n, const char *pass,
                 EVP_PKEY **k, X509 **c, STACK_OF(X509) * *ca) {
  const unsigned char *p = der;
  PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)n);
  int ok = p12 != NULL && PKCS12_parse(p12, pass, k, c, ca) == 1;
  PKCS12_free(p12);
  return ok;
}

/* OpenSSL 3's "legacy" provider (RC2, 3DES bundles), loaded once per
 * process and kept: like lc_load, behind a pthread_once, since clients of
 * an embedding program may load keys on loops in several threads. */
static OSSL_PROVIDER *legacy_provider;

static void legacy_load_once(void) {
  legacy_provider = OSSL_PROVIDER_try_load(NULL, "legacy", 1);
}

static int legacy_load(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, legacy_load_once);
  return legacy_provider != NULL;
}

int lvpn__pkcs12_to_pem(const char *data, size_t len, const char *pass,
                        lvpn__pkcs12_pem_t *out, char *err, size_t errlen) {
  unsigned char *der;
  EVP_PKEY *k = NULL;
  X509 *c = NULL;
  STACK_OF(X509) *ca = NULL;
  size_t n = 0;
  int e = 0;

  memset(out, 0, sizeof(*out));
  if (lc_load() != 0)
    return lc_fail(err, errlen, "cannot open 'pkcs12'");
  if ((der = p12_der(data, len, &n)) == NULL)
    return fail(err, errlen, LVPN_EKEYFILE,
                "cannot parse 'pkcs12': neither DER nor base64");
  if (!parse(der, n, pass, &k, &c, &ca)) {
    ERR_clear_error();
    if (!legacy_load() || !parse(der, n, pass, &k, &c, &ca))
      e = fail(err, errlen, LVPN_EKEYFILE,
               "cannot open 'pkcs12' (wrong passphrase ('askpass') or a "
               "damaged file)");
  }
  mbedtls_platform_zeroize(der, n);
  free(der);
  if (e == 0 && (k == NULL || c == NULL))
    e = fail(err, errlen, LVPN_EKEYFILE,
             "'pkcs12' holds no private key and certificate");
  if (e == 0) {
    out->key = key_pem(k);
    out->cert = certs_pem(c, NULL);
    if (ca != NULL && sk_X509_num(ca) > 0)
      out->ca = certs_pem(NULL, ca);
    if (out->key == NULL || out->cert == NULL ||
        (ca != NULL && sk_X509_num(ca) > 0 && out->ca == NULL)) {
      lvpn__pkcs12_pem_free(out);
      e = fail(err, errlen, LVPN_ENOMEM, "out of memory");
    }
  }
  EVP_PKEY_free(k);
  X509_free(c);
  sk_X509_pop_free(ca, X509_free);
  return e;
}

void lvpn__pkcs12_pem_free(lvpn__pkcs12_pem_t *p) {
  lvpn__keyload_free(p->key);
  lvpn__keyload_free(p->cert);
  lvpn__keyload_free(p->ca);
  memset(p, 0, sizeof(*p));
}

int lvpn__key_decrypt_pem(const char *pem, size_t len, const char *pass,
                          char **out, char *err, size_t errlen) {
  BIO *in;
  EVP_PKEY *k = NULL;
  int e = 0;

  *out = NULL;
  if (lc_load() != 0)
    return lc_fail(err, errlen, "cannot parse 'key'");
  if ((in = BIO_new_mem_buf(pem, (int)len)) == NULL)
    return fail(err, errlen, LVPN_ENOMEM, "out of memory");
  k = PEM_read_bio_PrivateKey(in, NULL, NULL, (void *)(pass ? pass : ""));
  BIO_free(in);
  if (k == NULL)
    return fail(err, errlen, LVPN_EKEYFILE,
                "cannot parse 'key': wrong passphrase ('askpass') or an "
                "unsupported encryption");
  if ((*out = key_pem(k)) == NULL)
    e = fail(err, errlen, LVPN_ENOMEM, "out of memory");
  EVP_PKEY_free(k);
  return e;
}

int lvpn__key_pem_encrypted(const char *pem, size_t len) {
  static const char pk8[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
  static const char legacy[] = "Proc-Type: 4,ENCRYPTED";
  if (pem == NULL)
    return 0;
  return memmem(pem, len, pk8, sizeof(pk8) - 1) != NULL ||
         memmem(pem, len, legacy, sizeof(legacy) - 1) != NULL;
}
