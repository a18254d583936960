/* mbedTLS 2.28 TLS 1.2 client over in-memory byte queues. See tls_engine.h.
 *
 * Certificate policy follows OpenVPN: mbedTLS validates the chain (and the
 * leaf's keyUsage/extendedKeyUsage against the negotiated suite); our verify
 * callback adds, at depth 0, the remote-cert-tls server and verify-x509-name
 * checks (ssl_verify.c verify_peer_cert). No hostname check. */
#include "layers/tlssession/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_internal.h> /* MBEDTLS_SSL_{IN,OUT}_BUFFER_LEN */

#include "layers/tlssession/keyload.h"
#include "layers/tlssession/ecc_nettle.h"
#include "layers/tlssession/x25519.h"
#include "layervpn.h"

#define LAYER "tlssession"

/* Ordered as a 2.6 server with OpenSSL would prefer them; ECDHE only
 * (servers refuse RSA key transport; DHE needs a dh file). */
static const int default_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    0};

/* OpenSSL names users put in --tls-cipher, for the suites mbedTLS has. */
static const struct {
  const char *openssl;
  int id;
} openssl_suites[] = {
    {"ECDHE-ECDSA-AES256-GCM-SHA384",
     MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
    {"ECDHE-RSA-AES256-GCM-SHA384",
     MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
    {"ECDHE-ECDSA-CHACHA20-POLY1305",
     MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
    {"ECDHE-RSA-CHACHA20-POLY1305",
     MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
    {"ECDHE-ECDSA-AES128-GCM-SHA256",
     MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
    {"ECDHE-RSA-AES128-GCM-SHA256",
     MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
    {"ECDHE-ECDSA-AES256-SHA384",
     MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384},
    {"ECDHE-RSA-AES256-SHA384", MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384},
    {"ECDHE-ECDSA-AES128-SHA256",
     MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256},
    {"ECDHE-RSA-AES128-SHA256", MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
    {"DHE-RSA-AES256-GCM-SHA384", MBEDTLS_TLS_DHE_RSA_WITH_AES_256_GCM_SHA384},
    {"DHE-RSA-AES128-GCM-SHA256", MBEDTLS_TLS_DHE_RSA_WITH_AES_128_GCM_SHA256},
    {"DHE-RSA-CHACHA20-POLY1305",
     MBEDTLS_TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
    {"DHE-RSA-AES256-SHA256", MBEDTLS_TLS_DHE_RSA_WITH_AES_256_CBC_SHA256},
    {"DHE-RSA-AES128-SHA256", MBEDTLS_TLS_DHE_RSA_WITH_AES_128_CBC_SHA256},
};

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) {
  va_list ap;
  if (err != NULL && errlen > 0) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

static void mbed_text(int ret, char *buf, size_t len) {
  mbedtls_strerror(ret, buf, len);
}

/* mbedTLS wants PEM NUL-terminated with the NUL counted; callers holding
 * file contents often pass strlen(). Give it what it wants. */
static int pem_buffer(const char *pem, size_t len, const unsigned char **out,
                      size_t *outlen, unsigned char **tmp) {
  *tmp = NULL;
  *out = (const unsigned char *)pem;
  *outlen = len;
  if (len > 0 && pem[len - 1] != '\0' && memmem(pem, len, "-----BEGIN", 10)) {
    *tmp = malloc(len + 1);
    if (*tmp == NULL)
      return LVPN_ENOMEM;
    memcpy(*tmp, pem, len);
    (*tmp)[len] = '\0';
    *out = *tmp;
    *outlen = len + 1;
  }
  return 0;
}

/* Appends the certificates of `pem` to `chain`. */
static int parse_crt(mbedtls_x509_crt *chain, const char *what, const char *pem,
                     size_t len, char *err, size_t errlen) {
  const unsigned char *buf;
  unsigned char *tmp;
  size_t blen;
  char text[160];
  int ret = pem_buffer(pem, len, &buf, &blen, &tmp);

  if (ret != 0)
    return fail(err, errlen, ret, "cannot parse '%s': out of memory", what);
  ret = blen == 0 ? MBEDTLS_ERR_X509_INVALID_FORMAT
                  : mbedtls_x509_crt_parse(chain, buf, blen);
  free(tmp);
  if (ret < 0) {
    mbed_text(ret, text, sizeof(text));
    return fail(err, errlen, LVPN_EKEYFILE, "cannot parse '%s': %s", what,
                text);
  }
  if (ret > 0)
    return fail(err, errlen, LVPN_EKEYFILE,
                "cannot parse '%s': %d certificate(s) in it are invalid", what,
                ret);
  return 0;
}

static int parse_key(mbedtls_pk_context *key, const char *pem, size_t len,
                     const char *pwd, char *err, size_t errlen) {
  const unsigned char *buf;
  unsigned char *tmp;
  size_t blen;
  char text[160], *plain;
  int ret = pem_buffer(pem, len, &buf, &blen, &tmp);

  if (ret != 0)
    return fail(err, errlen, ret, "cannot parse 'key': out of memory");
  ret = blen == 0 ? MBEDTLS_ERR_PK_KEY_INVALID_FORMAT
                  : mbedtls_pk_parse_key(key, buf, blen,
                                         (const unsigned char *)pwd,
                                         pwd != NULL ? strlen(pwd) : 0);
  if (tmp != NULL) {
    mbedtls_platform_zeroize(tmp, blen);
    free(tmp);
  }
  if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED && pwd == NULL)
    return fail(err, errlen, LVPN_EKEYFILE, "cannot parse 'key': it is "
                "encrypted: give its passphrase with 'askpass FILE'");
  /* PBES2 with AES/SHA-256 (OpenSSL 3's default): libcrypto decrypts */
  if (ret != 0 && pwd != NULL && memmem(pem, len, "ENCRYPTED PRIVATE", 17)) {
    if ((ret = lvpn__key_decrypt_pem(pem, len, pwd, &plain, err, errlen)) == 0)
      ret = parse_key(key, plain, strlen(plain) + 1, NULL, err, errlen);
    lvpn__keyload_free(plain);
    return ret;
  }
  if (ret != 0) {
    mbed_text(ret, text, sizeof(text));
    return fail(err, errlen, LVPN_EKEYFILE, "cannot parse 'key': %s",
                ret == MBEDTLS_ERR_PK_PASSWORD_MISMATCH ? "wrong passphrase "
                                                          "('askpass')"
                                                        : text);
  }
  return 0;
}

static int suite_usable(int id) {
  const mbedtls_ssl_ciphersuite_t *cs = mbedtls_ssl_ciphersuite_from_id(id);
  return cs != NULL && cs->max_minor_ver >= MBEDTLS_SSL_MINOR_VERSION_3 &&
         cs->min_minor_ver <= MBEDTLS_SSL_MINOR_VERSION_3;
}

static int suite_by_name(const char *name) {
  char alt[128];
  size_t i;
  int id;

  for (i = 0; i < sizeof(openssl_suites) / sizeof(openssl_suites[0]); i++)
    if (strcasecmp(name, openssl_suites[i].openssl) == 0)
      return openssl_suites[i].id;
  id = mbedtls_ssl_get_ciphersuite_id(name);
  if (id != 0)
    return id;
  /* IANA spelling: TLS_ECDHE_ECDSA_WITH_... → mbedTLS's TLS-ECDHE-... */
  if (strlen(name) >= sizeof(alt))
    return 0;
  for (i = 0; name[i] != '\0'; i++)
    alt[i] = name[i] == '_' ? '-' : name[i];
  alt[i] = '\0';
  return mbedtls_ssl_get_ciphersuite_id(alt);
}

/* OpenSSL keywords and modifiers ("DEFAULT", "!aNULL", "@SECLEVEL=0")
 * mean nothing to mbedTLS: skip them. Suite names always have a '-'/'_'. */
static int is_openssl_keyword(const char *tok) {
  return strchr("!+-@", tok[0]) != NULL ||
         (strchr(tok, '-') == NULL && strchr(tok, '_') == NULL);
}

static int build_suites(lvpn__tls_conf_t *c, const char *list,
                        const lvpn__logger_t *log, char *err, size_t errlen) {
  char copy[1024], *tok, *save = NULL;
  int n = 0, keywords = 0, id;

  if (list == NULL || list[0] == '\0') {
    memcpy(c->suites, default_suites, sizeof(default_suites));
    return 0;
  }
  if (strlen(list) >= sizeof(copy))
    return fail(err, errlen, LVPN_ECONFIG, "tls-cipher: list too long");
  strcpy(copy, list);
  for (tok = strtok_r(copy, ":", &save); tok != NULL;
       tok = strtok_r(NULL, ":", &save)) {
    if (is_openssl_keyword(tok)) {
      keywords++;
      continue;
    }
    id = suite_by_name(tok);
    if (id == 0 || !suite_usable(id)) {
      LVPN__LOG(log, LVPN_LOG_ERROR, LAYER,
                "tls-cipher: ignoring '%s' (unknown to mbedTLS or not TLS 1.2)",
                tok);
      continue;
    }
    if (n < LVPN__TLS_MAX_SUITES)
      c->suites[n++] = id;
  }
  c->suites[n] = 0;
  if (n == 0 && keywords > 0) {
    LVPN__LOG(log, LVPN_LOG_INFO, LAYER,
              "tls-cipher '%s' names no suite; using the default list", list);
    memcpy(c->suites, default_suites, sizeof(default_suites));
    return 0;
  }
  if (n == 0)
    return fail(err, errlen, LVPN_ECONFIG,
                "tls-cipher '%s': no cipher suite usable with mbedTLS TLS 1.2",
                list);
  return 0;
}

/* The session whose call into mbedTLS (handshake, read, write) runs on this
 * thread: mbedTLS 2.28's random and export-keys callbacks only carry the
 * config, which may serve many clients' sessions (of one loop). Restored
 * after each call: a host callback from inside may drive another session. */
static _Thread_local lvpn__tls_session_t *tls_active;

static int session_rng(void *unused, unsigned char *out, size_t len) {
  lvpn__tls_session_t *s = tls_active;

  (void)unused;
  if (s == NULL || s->rng == NULL)
    return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
  return s->rng(s->rng_ctx, out, len);
}

static int export_keys_cb(void *p, const unsigned char *ms,
                          const unsigned char *kb, size_t maclen, size_t keylen,
                          size_t ivlen, const unsigned char client_random[32],
                          const unsigned char server_random[32],
                          mbedtls_tls_prf_types prf_type) {
  lvpn__tls_session_t *s = tls_active;

  (void)p;
  (void)kb;
  (void)maclen;
  (void)keylen;
  (void)ivlen;
  if (s == NULL)
    return 0;
  memcpy(s->master, ms, sizeof(s->master));
  memcpy(s->client_random, client_random, 32);
  memcpy(s->server_random, server_random, 32);
  s->prf_type = (int)prf_type;
  s->have_export = 1;
  return 0;
}

static int parse_crl(mbedtls_x509_crl *crl, const char *pem, size_t len,
                     char *err, size_t errlen) {
  const unsigned char *buf;
  unsigned char *tmp;
  size_t blen;
  char text[160];
  int ret = pem_buffer(pem, len, &buf, &blen, &tmp);

  if (ret != 0)
    return fail(err, errlen, ret, "cannot parse 'crl-verify': out of memory");
  ret = blen == 0 ? MBEDTLS_ERR_X509_INVALID_FORMAT
                  : mbedtls_x509_crl_parse(crl, buf, blen);
  free(tmp);
  if (ret != 0) {
    mbed_text(ret, text, sizeof(text));
    return fail(err, errlen, LVPN_EKEYFILE, "cannot parse 'crl-verify': %s",
                text);
  }
  return 0;
}

/* The peer checks, profile and curves of a conf (parameters checked). */
static void set_policy(lvpn__tls_conf_t *c, const lvpn__tls_params_t *p) {
  int i;

  c->remote_cert_tls = p->remote_cert_tls_server   ? 1
                       : p->remote_cert_tls_client ? 2
                                                   : 0;
  /* remote-cert-tls is OpenVPN's shorthand: keyUsage present plus the EKU */
  c->ku_required = c->remote_cert_tls != 0 || p->ku_required;
  if (c->remote_cert_tls != 0)
    strcpy(c->eku, c->remote_cert_tls == 1 ? "1.3.6.1.5.5.7.3.1"
                                           : "1.3.6.1.5.5.7.3.2");
  if (p->remote_cert_eku != NULL) {
    strcpy(c->eku, p->remote_cert_eku);
    c->remote_cert_tls = 0;
  }
  c->n_ku = p->n_ku;
  for (i = 0; i < p->n_ku; i++)
    c->ku[i] = p->ku[i];
  c->ns_cert_type = p->ns_cert_type;
  c->n_hashes = p->n_hashes;
  c->hash_len = p->hash_len;
  c->hash_depth = p->hash_depth;
  if (p->n_hashes > 0)
    memcpy(c->hashes, p->hashes, sizeof(c->hashes[0]) * (size_t)p->n_hashes);
  c->no_ca = p->ca_pem == NULL;
  if (p->verify_x509_name != NULL) {
    strcpy(c->verify_x509_name, p->verify_x509_name);
    c->verify_x509_type = p->verify_x509_type == LVPN__X509_NAME_NONE
                              ? LVPN__X509_NAME_SUBJECT
                              : p->verify_x509_type;
  }
  lvpn__tls_cert_profile(p->cert_profile, &c->profile);
  if (p->n_groups > 0) {
    for (i = 0; i < p->n_groups; i++)
      c->curves[i] = (mbedtls_ecp_group_id)p->groups[i];
    c->curves[i] = MBEDTLS_ECP_DP_NONE;
    return;
  }
  /* The curve list also limits the server certificate's EC key curve:
   * P-521 is accepted for that, and offered last. */
  c->curves[0] = MBEDTLS_ECP_DP_CURVE25519;
  c->curves[1] = MBEDTLS_ECP_DP_SECP256R1;
  c->curves[2] = MBEDTLS_ECP_DP_SECP384R1;
  c->curves[3] = MBEDTLS_ECP_DP_SECP521R1;
  c->curves[4] = MBEDTLS_ECP_DP_NONE;
}

int lvpn__tls_conf_init(lvpn__tls_conf_t *c, const lvpn__tls_params_t *p,
                        char *err, size_t errlen) {
  char text[160];
  int ret;

  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (c == NULL || p == NULL)
    return fail(err, errlen, LVPN_EINVAL, "missing argument");
  /* the handshake's ECC library, loaded now rather than in a wait on the
   * server: at the client's start, whose host may trim what loading it
   * touched (ecc_nettle.h) */
  (void)lvpn__nettle_ready();
  memset(c, 0, sizeof(*c));
  mbedtls_ssl_config_init(&c->ssl);
  mbedtls_x509_crt_init(&c->ca);
  mbedtls_x509_crl_init(&c->crl);
  mbedtls_x509_crt_init(&c->cert);
  mbedtls_pk_init(&c->key);
  if (!p->shared) { /* defaults of its sessions */
    c->log = p->log;
    c->rng = p->rng;
    c->rng_ctx = p->rng_ctx;
  }

  if (p->rng == NULL && !p->shared)
    ret = fail(err, errlen, LVPN_EINVAL, "no random generator");
  else if (p->ca_pem == NULL && !(p->n_hashes > 0 && p->hash_depth == 0))
    ret = fail(err, errlen, LVPN_ECONFIG,
               "'ca' is required (or 'peer-fingerprint')");
  else if (p->n_hashes > LVPN__TLS_MAX_HASHES || p->n_ku > LVPN__TLS_MAX_KU ||
           p->n_groups > LVPN__TLS_MAX_CURVES ||
           (p->n_hashes > 0 && p->hash_len != 20 && p->hash_len != 32))
    ret = fail(err, errlen, LVPN_EINVAL, "bad certificate check lists");
  else if (p->remote_cert_eku != NULL &&
           strlen(p->remote_cert_eku) >= sizeof(c->eku))
    ret = fail(err, errlen, LVPN_ECONFIG, "remote-cert-eku too long");
  else if ((p->cert_pem == NULL) != (p->key_pem == NULL))
    ret = fail(err, errlen, LVPN_ECONFIG, "'cert' and 'key' go together");
  else if (p->tls_version_min > LVPN__TLS_VERSION_1_2)
    ret = fail(err, errlen, LVPN_EUNSUPPORTED,
               "tls-version-min above 1.2 is not supported (mbedTLS 2.28)");
  else if (p->verify_x509_name != NULL &&
           strlen(p->verify_x509_name) >= sizeof(c->verify_x509_name))
    ret = fail(err, errlen, LVPN_ECONFIG, "verify-x509-name too long");
  else if (p->ca_pem != NULL)
    ret = parse_crt(&c->ca, "ca", p->ca_pem, p->ca_len, err, errlen);
  else
    ret = 0;
  if (ret == 0 && p->crl_pem != NULL)
    ret = parse_crl(&c->crl, p->crl_pem, p->crl_len, err, errlen);
  if (ret == 0 && p->cert_pem != NULL) {
    ret = parse_crt(&c->cert, "cert", p->cert_pem, p->cert_len, err, errlen);
    if (ret == 0)
      ret = parse_key(&c->key, p->key_pem, p->key_len, p->key_password, err,
                      errlen);
    if (ret == 0 &&
        (ret = lvpn__tls_own_key_prepare(&c->key, &c->cert.pk)) != 0) {
      mbed_text(ret, text, sizeof(text));
      ret = fail(err, errlen, LVPN_EKEYFILE, "'key' does not match 'cert': %s",
                 text);
    }
    if (ret == 0 && p->extra_certs_pem != NULL)
      ret = parse_crt(&c->cert, "extra-certs", p->extra_certs_pem,
                      p->extra_certs_len, err, errlen);
    c->have_cert = ret == 0;
  }
  if (ret == 0)
    ret = build_suites(c, p->tls_cipher, p->log, err, errlen);
  c->warm_pending = ret == 0;
  if (ret != 0) {
    lvpn__tls_conf_free(c);
    return ret;
  }

  set_policy(c, p);
  ret = mbedtls_ssl_config_defaults(&c->ssl, MBEDTLS_SSL_IS_CLIENT,
                                    MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) {
    mbed_text(ret, text, sizeof(text));
    lvpn__tls_conf_free(c);
    return fail(err, errlen, LVPN_ETLS, "mbedTLS config: %s", text);
  }
  mbedtls_ssl_conf_min_version(&c->ssl, MBEDTLS_SSL_MAJOR_VERSION_3,
                               MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&c->ssl, MBEDTLS_SSL_MAJOR_VERSION_3,
                               MBEDTLS_SSL_MINOR_VERSION_3);
  /* the chain is checked by lvpn__tls_verify_peer, overlapping the
   * server's work; the sessions refuse to write before it passed */
  mbedtls_ssl_conf_authmode(&c->ssl, MBEDTLS_SSL_VERIFY_NONE);
  mbedtls_ssl_conf_ca_chain(&c->ssl, &c->ca,
                            p->crl_pem != NULL ? &c->crl : NULL);
  mbedtls_ssl_conf_cert_profile(&c->ssl, &c->profile);
  mbedtls_ssl_conf_rng(&c->ssl, session_rng, NULL);
  mbedtls_ssl_conf_ciphersuites(&c->ssl, c->suites);
  mbedtls_ssl_conf_curves(&c->ssl, c->curves);
  mbedtls_ssl_conf_session_tickets(&c->ssl,
                                   MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
  mbedtls_ssl_conf_renegotiation(&c->ssl, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
  mbedtls_ssl_conf_export_keys_ext_cb(&c->ssl, export_keys_cb, NULL);
  if (c->have_cert &&
      (ret = mbedtls_ssl_conf_own_cert(&c->ssl, &c->cert, &c->key)) != 0) {
    lvpn__tls_conf_free(c);
    return fail(err, errlen, LVPN_ENOMEM, "mbedTLS own cert: out of memory");
  }
  return 0;
}

void lvpn__tls_conf_free(lvpn__tls_conf_t *c) {
  if (c == NULL)
    return;
  mbedtls_ssl_config_free(&c->ssl);
  mbedtls_x509_crt_free(&c->ca);
  mbedtls_x509_crl_free(&c->crl);
  mbedtls_x509_crt_free(&c->cert);
  mbedtls_pk_free(&c->key);
  mbedtls_platform_zeroize(c, sizeof(*c));
}

/* ---- byte queues and the BIO ---- */

static void bytes_free(lvpn__tls_bytes_t *b) {
  if (b->data != NULL) {
    mbedtls_platform_zeroize(b->data, b->cap);
    free(b->data);
  }
  memset(b, 0, sizeof(*b));
}

static int bytes_append(lvpn__tls_bytes_t *b, const uint8_t *p, size_t n) {
  uint8_t *nd;
  size_t cap;

  if (n == 0)
    return 0;
  if (b->len + n > LVPN__TLS_MAX_BUFFERED)
    return LVPN_ETOOBIG;
  if (b->off + b->len + n > b->cap && b->off > 0) {
    memmove(b->data, b->data + b->off, b->len);
    b->off = 0;
  }
  if (b->len + n > b->cap) {
    cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    nd = malloc(cap);
    if (nd == NULL)
      return LVPN_ENOMEM;
    if (b->data != NULL) {
      memcpy(nd, b->data + b->off, b->len);
      mbedtls_platform_zeroize(b->data, b->cap);
      free(b->data);
    }
    b->data = nd;
    b->cap = cap;
    b->off = 0;
  }
  memcpy(b->data + b->off + b->len, p, n);
  b->len += n;
  return 0;
}

static size_t bytes_take(lvpn__tls_bytes_t *b, uint8_t *p, size_t max) {
  size_t n = b->len < max ? b->len : max;

  if (n == 0)
    return 0;
  memcpy(p, b->data + b->off, n);
  b->off += n;
  b->len -= n;
  if (b->len == 0) /* idle most of a session's life: no buffer then */
    bytes_free(b);
  return n;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
  lvpn__tls_session_t *s = ctx;
  int ret = bytes_append(&s->out, buf, len);

  if (ret == LVPN_ETOOBIG || ret == LVPN_ENOMEM)
    return MBEDTLS_ERR_SSL_ALLOC_FAILED;
  return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len) {
  lvpn__tls_session_t *s = ctx;
  size_t n = bytes_take(&s->in, buf, len);

  return n == 0 ? MBEDTLS_ERR_SSL_WANT_READ : (int)n;
}

static int tls_error(lvpn__tls_session_t *s, const char *what, int ret) {
  char text[160];

  if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
    snprintf(s->errmsg, sizeof(s->errmsg), "%s: out of memory", what);
    return LVPN_ENOMEM;
  }
  mbed_text(ret, text, sizeof(text));
  snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s (-0x%04x)", what, text,
           (unsigned)-ret);
  return LVPN_ETLS;
}

/* ---- record buffers ---- */

/* Gives the kernel back the whole pages inside [p, p + len). */
static void release_pages(unsigned char *p, size_t len) {
  uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t lo = ((uintptr_t)p + pg - 1) & ~(pg - 1);
  uintptr_t hi = ((uintptr_t)p + len) & ~(pg - 1);

  if (pg > 1 && hi > lo)
    (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* mbedTLS 2.28 keeps its two record buffers (MBEDTLS_SSL_IN/OUT_BUFFER_LEN,
 * 16 KiB + 333 bytes each in Debian's build, allocated and zeroed by
 * mbedtls_ssl_setup) for the whole session, and OpenVPN keeps using the
 * session after the handshake, for a few small control messages. Between
 * records their content is stale: a record is read into in_buf from its
 * header on (in_left counts what arrived of it) and written into out_buf
 * from its header on (out_left counts what was not sent yet). The only
 * state kept there between records is TLS's incoming sequence number, the
 * 8 bytes at in_buf (ssl->in_ctr; the outgoing one is cur_out_ctr, copied
 * to out_buf per record). So once nothing is pending, the whole pages after
 * those 8 bytes go back to the kernel (MADV_DONTNEED on private anonymous
 * memory: they read as zeros and cost nothing until a record touches them,
 * usually one page); a 16 KiB record still fits. Also done at set-up. */
static void release_record_buffers(mbedtls_ssl_context *ssl) {
  release_pages(ssl->in_buf + 8, MBEDTLS_SSL_IN_BUFFER_LEN - 8);
  release_pages(ssl->out_buf + 8, MBEDTLS_SSL_OUT_BUFFER_LEN - 8);
}

static void tls_trim_buffers(lvpn__tls_session_t *s) {
  mbedtls_ssl_context *ssl = &s->ssl;

  if (!s->done || ssl->in_buf == NULL || ssl->out_buf == NULL ||
      ssl->in_left != 0 || ssl->out_left != 0 || ssl->in_offt != NULL ||
      mbedtls_ssl_check_pending(ssl) != 0)
    return;
  release_record_buffers(ssl);
}

int lvpn__tls_conf_warm(lvpn__tls_conf_t *c, char *err, size_t errlen) {
  static const char bad_key[] =
      "'key' does not match 'cert': the key file's private key is not the "
      "one of the public key it holds (a damaged key file?)";
  const mbedtls_ecp_group *g;
  mbedtls_x509_crt *crt;
  int ret, n_ca = 0;

  if (!c->warm_pending)
    return c->key_err != 0 ? fail(err, errlen, c->key_err, "%s", bad_key) : 0;
  c->warm_pending = 0;
  ret = lvpn__tls_own_key_warm(&c->key, c->rng, c->rng_ctx);
  if (ret == MBEDTLS_ERR_PK_BAD_INPUT_DATA)
    return c->key_err = fail(err, errlen, LVPN_EKEYFILE, "%s", bad_key);
  /* the CA keys remember what they verified (lvpn__tls_ca_key_prepare),
   * and verify on Nettle where this build has it (ecverify.h), else
   * with our key's table of G when it has one (out of memory: no table
   * now; mbedTLS builds one when it signs); not a bundle's: a copy of the
   * table for each of a hundred CAs costs more than the one it may save */
  g = ret == 0 ? lvpn__tls_conf_g_table(c) : NULL;
  for (crt = &c->ca; crt != NULL && crt->raw.p != NULL; crt = crt->next)
    n_ca++;
  for (crt = &c->ca;
       n_ca <= LVPN__TLS_SHARE_MAX_CA && crt != NULL && crt->raw.p != NULL;
       crt = crt->next)
    (void)lvpn__tls_ca_key_prepare(&crt->pk, g);
  return 0;
}

/* ---- session ---- */

int lvpn__tls_init(lvpn__tls_session_t *s, lvpn__tls_conf_t *conf) {
  int ret;

  if (s == NULL || conf == NULL)
    return LVPN_EINVAL;
  if (conf->key_err != 0) /* lvpn__tls_conf_warm() found the key damaged */
    return conf->key_err;
  memset(s, 0, sizeof(*s));
  mbedtls_ssl_init(&s->ssl);
  lvpn__certenv_init(&s->certenv);
  s->conf = conf;
  ret = mbedtls_ssl_setup(&s->ssl, &conf->ssl);
  if (ret != 0) {
    mbedtls_ssl_free(&s->ssl);
    memset(s, 0, sizeof(*s));
    return ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? LVPN_ENOMEM : LVPN_ETLS;
  }
  s->rng = conf->rng;
  s->rng_ctx = conf->rng_ctx;
  s->log = conf->log;
  release_record_buffers(&s->ssl); /* zeros yet: the handshake's pages only */
  mbedtls_ssl_set_bio(&s->ssl, s, bio_send, bio_recv, NULL);
  mbedtls_ssl_set_verify(&s->ssl, lvpn__tls_verify_cb, s);
  return 0;
}

void lvpn__tls_free(lvpn__tls_session_t *s) {
  if (s == NULL)
    return;
  if (tls_active == s)
    tls_active = NULL;
  mbedtls_ssl_free(&s->ssl);
  bytes_free(&s->in);
  bytes_free(&s->out);
  lvpn__certenv_free(&s->certenv);
  mbedtls_platform_zeroize(s, sizeof(*s));
}

void lvpn__tls_use(lvpn__tls_session_t *s,
                   int (*rng)(void *, unsigned char *, size_t), void *rng_ctx,
                   const lvpn__logger_t *log) {
  s->rng = rng;
  s->rng_ctx = rng_ctx;
  s->log = log;
}

int lvpn__tls_feed(lvpn__tls_session_t *s, const uint8_t *ciphertext,
                   size_t len) {
  if (s == NULL || s->conf == NULL || (ciphertext == NULL && len > 0))
    return LVPN_EINVAL;
  return bytes_append(&s->in, ciphertext, len);
}

/* The certificate the server sent in this handshake, or NULL. */
static mbedtls_x509_crt *peer_chain(const lvpn__tls_session_t *s) {
  const mbedtls_ssl_context *ssl = &s->ssl;
  if (ssl->session_negotiate != NULL)
    return ssl->session_negotiate->peer_cert;
  return ssl->session != NULL ? ssl->session->peer_cert : NULL;
}

/* The alert mbedTLS would send for a rejected certificate. */
static int cert_alert(uint32_t flags) {
  if (flags & MBEDTLS_X509_BADCERT_OTHER)
    return MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED;
  if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
    return MBEDTLS_SSL_ALERT_MSG_BAD_CERT;
  if (flags & (MBEDTLS_X509_BADCERT_KEY_USAGE |
               MBEDTLS_X509_BADCERT_EXT_KEY_USAGE |
               MBEDTLS_X509_BADCERT_NS_CERT_TYPE |
               MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY))
    return MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT;
  if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
    return MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED;
  if (flags & MBEDTLS_X509_BADCERT_REVOKED)
    return MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED;
  if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
    return MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA;
  return MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN;
}

int lvpn__tls_verify_pending(const lvpn__tls_session_t *s) {
  return s != NULL && s->err == 0 && s->verify == LVPN__TLS_VERIFY_PENDING;
}

/* What mbedTLS's own check does with authmode "required"
 * (ssl_parse_certificate_verify in 2.28's ssl_tls.c): the chain against
 * the CA and CRL under the profile, with our callback, then the leaf key's
 * curve and the usage extensions the suite needs. */
int lvpn__tls_verify_peer(lvpn__tls_session_t *s) {
  mbedtls_ssl_context *ssl;
  mbedtls_x509_crt *chain;
  uint32_t flags = 0;
  int ret = 0, usage_bad;

  if (s == NULL)
    return LVPN_EINVAL;
  if (s->err != 0 || s->verify != LVPN__TLS_VERIFY_PENDING)
    return s->err;
  s->verify = LVPN__TLS_VERIFY_DONE;
  ssl = &s->ssl;
  chain = peer_chain(s);
  if (chain == NULL || ssl->handshake == NULL) {
    snprintf(s->errmsg, sizeof(s->errmsg),
             "the server's certificate is gone before its check");
    return s->err = LVPN_ETLS;
  }
  ret = mbedtls_x509_crt_verify_with_profile(
      chain, ssl->conf->ca_chain, ssl->conf->ca_crl, ssl->conf->cert_profile,
      NULL, &flags, lvpn__tls_verify_cb, s);
  if (mbedtls_pk_can_do(&chain->pk, MBEDTLS_PK_ECKEY) &&
      mbedtls_ssl_check_curve(ssl, mbedtls_pk_ec(chain->pk)->grp.id) != 0)
    flags |= MBEDTLS_X509_BADCERT_BAD_KEY;
  /* it sets KEY_USAGE or EXT_KEY_USAGE in the flags when it fails */
  usage_bad = mbedtls_ssl_check_cert_usage(
                  chain, ssl->handshake->ciphersuite_info,
                  MBEDTLS_SSL_IS_SERVER, &flags) != 0;
  s->verify_flags = flags;
  if (ret == 0 && flags == 0 && !usage_bad)
    return 0;
  if (flags != 0 || usage_bad || ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)
    s->err = lvpn__tls_cert_error(s);
  else
    s->err = tls_error(s, "certificate check failed", ret);
  LVPN__LOG(s->log, LVPN_LOG_ERROR, LAYER, "%s", s->errmsg);
  {
    lvpn__tls_session_t *prev = tls_active;
    tls_active = s;
    (void)mbedtls_ssl_send_alert_message(ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                         (unsigned char)cert_alert(flags));
    tls_active = prev;
  }
  return s->err;
}

/* The ECDHE group of the ClientKeyExchange about to be written (mbedTLS's
 * legacy ECDH context holds the server's share by then), or 0: not that
 * step, or a suite without ECDHE. */
static int cke_ecdhe_group(const mbedtls_ssl_context *ssl) {
  const mbedtls_ssl_ciphersuite_t *cs;
  if (ssl->state != MBEDTLS_SSL_CLIENT_KEY_EXCHANGE ||
      ssl->handshake == NULL || ssl->handshake->ciphersuite_info == NULL)
    return 0;
  cs = ssl->handshake->ciphersuite_info;
  if (cs->key_exchange != MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA &&
      cs->key_exchange != MBEDTLS_KEY_EXCHANGE_ECDHE_RSA)
    return 0;
  return (int)ssl->handshake->ecdh_ctx.grp.id;
}

/* May x25519.h make that ClientKeyExchange? The server chose X25519, no
 * restartable ECC, and this build has a library for it. */
static int own_x25519_applies(const mbedtls_ssl_context *ssl) {
#if defined(MBEDTLS_SSL_ECP_RESTARTABLE_ENABLED)
  if (ssl->handshake != NULL && ssl->handshake->ecrs_enabled)
    return 0;
#endif
  return cke_ecdhe_group(ssl) == MBEDTLS_ECP_DP_CURVE25519 &&
         lvpn__x25519_available();
}

/* The ClientKeyExchange step of mbedTLS 2.28's client
 * (ssl_write_client_key_exchange in ssl_cli.c, ECDHE branch) with the
 * X25519 of x25519.h instead of mbedTLS's: our share as an ECPoint (one
 * length byte, the 32-byte u-coordinate), the shared secret as the
 * premaster secret (little-endian, as mbedtls_ecdh_calc_secret writes it
 * for Montgomery curves), then the message goes out and the state moves
 * on as there. mbedTLS derives the keys from the premaster in the next
 * step, as usual. */
static int write_own_x25519(lvpn__tls_session_t *s) {
  mbedtls_ssl_context *ssl = &s->ssl;
  mbedtls_ssl_handshake_params *hs = ssl->handshake;
  uint8_t sk[LVPN__X25519_LEN], peer[LVPN__X25519_LEN];
  int ret;

  if ((ret = mbedtls_ssl_flush_output(ssl)) != 0)
    return ret;
  if (mbedtls_mpi_size(&hs->ecdh_ctx.Qp.X) > sizeof(peer) ||
      mbedtls_mpi_write_binary_le(&hs->ecdh_ctx.Qp.X, peer, sizeof(peer)) != 0)
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  ret = ssl->conf->f_rng(ssl->conf->p_rng, sk, sizeof(sk));
  if (ret == 0 && lvpn__x25519_public(sk, ssl->out_msg + 5) != 0)
    ret = MBEDTLS_ERR_SSL_INTERNAL_ERROR;
  if (ret == 0 && lvpn__x25519_shared(sk, peer, hs->premaster) != 0)
    ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA; /* a small-order share */
  mbedtls_platform_zeroize(sk, sizeof(sk));
  if (ret != 0)
    return ret;
  hs->pmslen = LVPN__X25519_LEN;
  ssl->out_msg[4] = LVPN__X25519_LEN;
  ssl->out_msglen = 4 + 1 + LVPN__X25519_LEN;
  ssl->out_msgtype = MBEDTLS_SSL_MSG_HANDSHAKE;
  ssl->out_msg[0] = MBEDTLS_SSL_HS_CLIENT_KEY_EXCHANGE;
  ssl->state++;
  s->kx_own = 1;
  return mbedtls_ssl_write_handshake_msg(ssl);
}

/* The last handshake's ECDHE group ("x25519", "secp256r1", ...), or NULL
 * for a suite without one. */
static const char *kx_name(const lvpn__tls_session_t *s) {
  const mbedtls_ecp_curve_info *ci =
      s->kx_group != 0
          ? mbedtls_ecp_curve_info_from_grp_id(
                (mbedtls_ecp_group_id)s->kx_group)
          : NULL;
  return ci != NULL ? ci->name : NULL;
}

int lvpn__tls_step(lvpn__tls_session_t *s) {
  lvpn__tls_session_t *prev;
  int ret = 0;

  if (s == NULL || s->conf == NULL)
    return LVPN_EINVAL;
  if (s->err != 0 || s->done)
    return s->err;
  if (s->rng == NULL) {
    snprintf(s->errmsg, sizeof(s->errmsg), "no random generator");
    return s->err = LVPN_EINVAL;
  }
  prev = tls_active;
  tls_active = s;
  /* mbedtls_ssl_handshake(), one step at a time: the server's certificate,
   * once parsed, is marked for lvpn__tls_verify_peer, and its key gets the
   * table of G before it verifies the ServerKeyExchange */
  while (s->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
    /* nobody ran the check during the wait: now, while mbedTLS still has
     * the handshake's state, before the session can be used */
    if (s->ssl.state == MBEDTLS_SSL_HANDSHAKE_WRAPUP &&
        lvpn__tls_verify_peer(s) != 0) {
      tls_active = prev;
      return s->err;
    }
    if (s->ssl.state == MBEDTLS_SSL_CLIENT_KEY_EXCHANGE) {
      s->kx_own = 0;
      s->kx_group = cke_ecdhe_group(&s->ssl);
    }
    /* our ECDHE share, when ours is faster than mbedTLS's */
    if (own_x25519_applies(&s->ssl))
      ret = write_own_x25519(s);
    else
      ret = mbedtls_ssl_handshake_step(&s->ssl);
    if (ret != 0)
      break;
    if (s->verify == LVPN__TLS_VERIFY_WAIT && peer_chain(s) != NULL) {
      s->verify = LVPN__TLS_VERIFY_PENDING;
      lvpn__tls_peer_key_prepare(s->conf, peer_chain(s));
    }
  }
  tls_active = prev;
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
    return 0;
  if (ret == 0) {
    /* a server that sent no certificate gets no session */
    if (s->verify != LVPN__TLS_VERIFY_DONE) {
      snprintf(s->errmsg, sizeof(s->errmsg),
               "certificate rejected: the server sent none");
      LVPN__LOG(s->log, LVPN_LOG_ERROR, LAYER, "%s", s->errmsg);
      return s->err = LVPN_ECERT;
    }
    s->done = 1;
    LVPN__LOG(s->log, LVPN_LOG_INFO, LAYER,
              "Control Channel: %s, cipher %s, peer certificate: %s%s%s%s%s",
              mbedtls_ssl_get_version(&s->ssl),
              mbedtls_ssl_get_ciphersuite(&s->ssl), s->subject,
              kx_name(s) != NULL ? ", key exchange " : "",
              kx_name(s) != NULL ? kx_name(s) : "",
              s->kx_own ? " on " : "",
              s->kx_own ? lvpn__x25519_library() : "");
    tls_trim_buffers(s);
    return 0;
  }
  s->err = tls_error(s, "TLS handshake failed", ret);
  LVPN__LOG(s->log, LVPN_LOG_ERROR, LAYER, "%s", s->errmsg);
  return s->err;
}

int lvpn__tls_handshake_done(const lvpn__tls_session_t *s) {
  return s != NULL && s->done && s->err == 0;
}

size_t lvpn__tls_pending_output(const lvpn__tls_session_t *s) {
  return s == NULL ? 0 : s->out.len;
}

size_t lvpn__tls_take_output(lvpn__tls_session_t *s, uint8_t *buf, size_t max) {
  if (s == NULL || buf == NULL)
    return 0;
  return bytes_take(&s->out, buf, max);
}

/* The checks of lvpn__tls_write() (`early` 0) and lvpn__tls_write_early():
 * 0 to write, 1 when there is nothing to write, or the error. */
static int write_check(const lvpn__tls_session_t *s, const uint8_t *plain,
                       size_t len, int early) {
  if (s == NULL || (plain == NULL && len > 0))
    return LVPN_EINVAL;
  if (s->err != 0)
    return s->err;
  if (early ? !lvpn__tls_false_start_ok(s) : !s->done)
    return LVPN_ESTATE;
  if (s->verify != LVPN__TLS_VERIFY_DONE) /* nothing before the check */
    return LVPN_ESTATE;
  if (len > LVPN__TLS_MAX_RECORD)
    return LVPN_ETOOBIG;
  return len == 0;
}

int lvpn__tls_write(lvpn__tls_session_t *s, const uint8_t *plain, size_t len) {
  lvpn__tls_session_t *prev;
  int ret;

  if ((ret = write_check(s, plain, len, 0)) != 0)
    return ret < 0 ? ret : 0;
  prev = tls_active;
  tls_active = s;
  ret = mbedtls_ssl_write(&s->ssl, plain, len);
  tls_active = prev;
  if (ret == (int)len) {
    tls_trim_buffers(s);
    return 0;
  }
  s->err = ret < 0 ? tls_error(s, "TLS write failed", ret) : LVPN_ETLS;
  if (ret >= 0)
    snprintf(s->errmsg, sizeof(s->errmsg), "TLS write split a record");
  return s->err;
}

int lvpn__tls_false_start_ok(const lvpn__tls_session_t *s) {
  const mbedtls_ssl_context *ssl;
  const mbedtls_ssl_ciphersuite_t *cs;
  const mbedtls_cipher_info_t *ci;

  if (s == NULL || s->err != 0 || s->done ||
      s->verify != LVPN__TLS_VERIFY_DONE)
    return 0;
  ssl = &s->ssl;
  /* our Finished went out (a resumed handshake has the server's first) */
  if (ssl->state != MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC ||
      ssl->handshake == NULL || ssl->handshake->resume ||
      ssl->transform_out == NULL || ssl->minor_ver != MBEDTLS_SSL_MINOR_VERSION_3)
    return 0;
  cs = ssl->handshake->ciphersuite_info;
  if (cs == NULL || (cs->key_exchange != MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA &&
                     cs->key_exchange != MBEDTLS_KEY_EXCHANGE_ECDHE_RSA))
    return 0;
  ci = mbedtls_cipher_info_from_type(cs->cipher);
  if (ci == NULL || ci->key_bitlen < 128 ||
      (ci->mode != MBEDTLS_MODE_GCM && ci->mode != MBEDTLS_MODE_CCM &&
       ci->mode != MBEDTLS_MODE_CHACHAPOLY))
    return 0;
  return ssl->handshake->ecdh_ctx.grp.pbits >= 255;
}

int lvpn__tls_write_early(lvpn__tls_session_t *s, const uint8_t *plain,
                          size_t len) {
  mbedtls_ssl_context *ssl;
  lvpn__tls_session_t *prev;
  int ret;

  if ((ret = write_check(s, plain, len, 1)) != 0)
    return ret < 0 ? ret : 0;
  ssl = &s->ssl;
  ret = mbedtls_ssl_get_max_out_record_payload(ssl);
  if (ret < 0 || len > (size_t)ret)
    return LVPN_ETOOBIG;
  /* what mbedtls_ssl_write() does once the handshake is over: mbedTLS 2.28
   * has no False Start of its own, and its write would wait for the
   * server's Finished */
  prev = tls_active;
  tls_active = s;
  ssl->out_msgtype = MBEDTLS_SSL_MSG_APPLICATION_DATA;
  ssl->out_msglen = len;
  memcpy(ssl->out_msg, plain, len);
  ret = mbedtls_ssl_write_record(ssl, 1 /* flush */);
  mbedtls_platform_zeroize(ssl->out_msg, len);
  tls_active = prev;
  if (ret == 0)
    return 0;
  s->err = tls_error(s, "TLS write failed", ret);
  return s->err;
}

int lvpn__tls_read(lvpn__tls_session_t *s, uint8_t *buf, size_t max) {
  lvpn__tls_session_t *prev;
  int ret;

  if (s == NULL || buf == NULL || max == 0)
    return LVPN_EINVAL;
  if (s->err != 0)
    return s->err;
  if (!s->done)
    return LVPN_ESTATE;
  if (max > 0x7fffffff)
    max = 0x7fffffff;
  prev = tls_active;
  tls_active = s;
  ret = mbedtls_ssl_read(&s->ssl, buf, max);
  tls_active = prev;
  if (ret > 0)
    return ret;
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
    tls_trim_buffers(s); /* all read: until the next record */
    return 0;
  }
  if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
    snprintf(s->errmsg, sizeof(s->errmsg), "peer closed the TLS session");
    s->err = LVPN_ETLS;
  } else {
    s->err = tls_error(s, "TLS read failed", ret);
  }
  LVPN__LOG(s->log, LVPN_LOG_ERROR, LAYER, "%s", s->errmsg);
  return s->err;
}

int lvpn__tls_get_export(const lvpn__tls_session_t *s, uint8_t ms[48],
                         uint8_t client_random[32], uint8_t server_random[32],
                         int *prf_type) {
  if (s == NULL)
    return LVPN_EINVAL;
  if (!s->have_export || !s->done)
    return LVPN_ESTATE;
  if (ms != NULL)
    memcpy(ms, s->master, 48);
  if (client_random != NULL)
    memcpy(client_random, s->client_random, 32);
  if (server_random != NULL)
    memcpy(server_random, s->server_random, 32);
  if (prf_type != NULL)
    *prf_type = s->prf_type;
  return 0;
}

const char *lvpn__tls_last_error(const lvpn__tls_session_t *s) {
  return s == NULL ? "" : s->errmsg;
}

const char *lvpn__tls_peer_subject(const lvpn__tls_session_t *s) {
  return s == NULL ? "" : s->subject;
}

const char *lvpn__tls_peer_cn(const lvpn__tls_session_t *s) {
  return s == NULL ? "" : s->cn;
}

const lvpn__certenv_t *lvpn__tls_peer_env(const lvpn__tls_session_t *s) {
  return &s->certenv;
}

const char *lvpn__tls_ciphersuite(const lvpn__tls_session_t *s) {
  if (s == NULL || !s->done)
    return "";
  return mbedtls_ssl_get_ciphersuite(&s->ssl);
}

const char *lvpn__tls_version(const lvpn__tls_session_t *s) {
  if (s == NULL || !s->done)
    return "";
  return mbedtls_ssl_get_version(&s->ssl);
}
