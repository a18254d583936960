/* Peer certificate policy of the TLS engine, as OpenVPN 2.6 applies it
 * (ssl_verify.c verify_cert / verify_peer_cert, ssl_verify_mbedtls.c):
 * mbedTLS validates the chain (and the CRL given with crl-verify); these
 * checks add, at depth 0, ns-cert-type, remote-cert-ku, remote-cert-eku
 * (remote-cert-tls sets the last two) and verify-x509-name, and at the
 * configured depth the verify-hash / peer-fingerprint list. Loop-free,
 * called from the engine's verify callback. */
#include "layers/tlssession/engine.h"
#include "layers/tlssession/ecsign.h"
#include "layers/tlssession/ecverify.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl_ciphersuites.h>

#include "layervpn.h"
#include "lib/bytes.h"

#define LAYER "tlssession"

static int fail(char *msg, size_t msglen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *msg, size_t msglen, int code, const char *fmt, ...) {
  va_list ap;
  if (msg != NULL && msglen > 0) {
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
  }
  return code;
}

void lvpn__tls_first_cn(const mbedtls_x509_crt *crt, char *out, size_t max) {
  const mbedtls_x509_name *n;
  size_t len;

  out[0] = '\0';
  for (n = &crt->subject; n != NULL; n = n->next) {
    if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
      len = n->val.len < max - 1 ? n->val.len : max - 1;
      memcpy(out, n->val.p, len);
      out[len] = '\0';
      return;
    }
  }
}

/* The option that asked for a check, for messages. */
static const char *who(const lvpn__tls_conf_t *c, const char *other) {
  return c->remote_cert_tls == 1   ? "remote-cert-tls server"
         : c->remote_cert_tls == 2 ? "remote-cert-tls client"
                                   : other;
}

/* Whether the EKU list has `want`, given as an OID ("1.3.6.1.5.5.7.3.1")
 * or as mbedTLS's description ("TLS Web Server Authentication"), as
 * OpenVPN's x509_verify_cert_eku compares. `seen` lists what it has. */
static int has_eku(const mbedtls_x509_crt *crt, const char *want, char *seen,
                   size_t seenlen) {
  const mbedtls_x509_sequence *seq;
  const char *desc;
  char num[128];
  size_t used = 0;

  seen[0] = '\0';
  for (seq = &crt->ext_key_usage; seq != NULL && seq->buf.p != NULL;
       seq = seq->next) {
    if (mbedtls_oid_get_numeric_string(num, sizeof(num), &seq->buf) < 0)
      strcpy(num, "?");
    if (strcmp(num, want) == 0)
      return 1;
    if (mbedtls_oid_get_extended_key_usage(&seq->buf, &desc) == 0) {
      if (strcmp(desc, want) == 0)
        return 1;
    } else {
      desc = num;
    }
    if (used < seenlen)
      used += (size_t)snprintf(seen + used, seenlen - used, "%s%s",
                               used ? ", " : "", desc);
  }
  return 0;
}

static int check_ku(const lvpn__tls_conf_t *c, const mbedtls_x509_crt *crt,
                    const char *subject, char *msg, size_t msglen) {
  char want[80] = "";
  size_t used = 0;
  int i;

  if (!(crt->ext_types & MBEDTLS_X509_EXT_KEY_USAGE))
    return fail(msg, msglen, LVPN_ECERT_KU,
                "certificate rejected (%s): %s requires a keyUsage "
                "extension; the certificate has none",
                subject, who(c, "remote-cert-ku"));
  if (c->n_ku == 0)
    return 0; /* present is enough; its value fits the suite (mbedTLS) */
  for (i = 0; i < c->n_ku; i++) {
    if (mbedtls_x509_crt_check_key_usage(crt, c->ku[i]) == 0)
      return 0;
    used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%04x",
                             i ? ", " : "", c->ku[i]);
  }
  return fail(msg, msglen, LVPN_ECERT_KU,
              "certificate rejected (%s): keyUsage %04x is none of "
              "remote-cert-ku %s",
              subject, crt->key_usage, want);
}

int lvpn__tls_check_leaf(const lvpn__tls_conf_t *c, const mbedtls_x509_crt *crt,
                         char *msg, size_t msglen) {
  const char *want = c->verify_x509_name, *kind, *got;
  char subject[256], cn[128], seen[128];
  unsigned bit;
  int ok, rc;

  if (mbedtls_x509_dn_gets(subject, sizeof(subject), &crt->subject) < 0)
    strcpy(subject, "?");
  lvpn__tls_first_cn(crt, cn, sizeof(cn));
  if (c->ns_cert_type != 0) {
    bit = c->ns_cert_type == 1 ? MBEDTLS_X509_NS_CERT_TYPE_SSL_SERVER
                               : MBEDTLS_X509_NS_CERT_TYPE_SSL_CLIENT;
    if (!(crt->ext_types & MBEDTLS_X509_EXT_NS_CERT_TYPE) ||
        !(crt->ns_cert_type & bit))
      return fail(msg, msglen, LVPN_ECERT,
                  "certificate rejected (%s): ns-cert-type %s requires the "
                  "Netscape certificate type '%s' (use remote-cert-tls "
                  "with certificates made after 2010)",
                  subject, c->ns_cert_type == 1 ? "server" : "client",
                  c->ns_cert_type == 1 ? "SSL server" : "SSL client");
  }
  if (c->ku_required && (rc = check_ku(c, crt, subject, msg, msglen)) != 0)
    return rc;
  if (c->eku[0] != '\0') {
    if (!(crt->ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE))
      return fail(msg, msglen, LVPN_ECERT_EKU,
                  "certificate rejected (%s): %s requires extendedKeyUsage "
                  "%s; the certificate has no extendedKeyUsage",
                  subject, who(c, "remote-cert-eku"),
                  c->remote_cert_tls == 1   ? "serverAuth"
                  : c->remote_cert_tls == 2 ? "clientAuth"
                                            : c->eku);
    if (!has_eku(crt, c->eku, seen, sizeof(seen)))
      return fail(msg, msglen, LVPN_ECERT_EKU,
                  "certificate rejected (%s): extendedKeyUsage is not %s "
                  "(has: %s)",
                  subject,
                  c->remote_cert_tls == 1 ? "serverAuth"
                  : c->remote_cert_tls == 2 ? "clientAuth"
                                            : c->eku,
                  seen);
  }
  if (want[0] == '\0')
    return 0;
  switch (c->verify_x509_type) {
  case LVPN__X509_NAME_NAME:
    ok = strcmp(want, cn) == 0;
    kind = "CN";
    got = cn;
    break;
  case LVPN__X509_NAME_NAME_PREFIX:
    ok = strncmp(want, cn, strlen(want)) == 0;
    kind = "CN prefix";
    got = cn;
    break;
  default:
    ok = strcmp(want, subject) == 0;
    kind = "subject";
    got = subject;
    break;
  }
  if (!ok)
    return fail(msg, msglen, LVPN_ECERT_NAME,
                "certificate rejected: verify-x509-name expected %s '%s', "
                "got '%s'",
                kind, want, got);
  return 0;
}

int lvpn__tls_check_hash(const lvpn__tls_conf_t *c, const mbedtls_x509_crt *crt,
                         int depth, char *msg, size_t msglen) {
  const mbedtls_md_info_t *md;
  uint8_t fp[32];
  char hex[100];
  size_t i, used = 0;
  int k;

  if (c->n_hashes == 0 || depth != c->hash_depth)
    return 0;
  md = mbedtls_md_info_from_type(c->hash_len == 20 ? MBEDTLS_MD_SHA1
                                                   : MBEDTLS_MD_SHA256);
  if (md == NULL || mbedtls_md(md, crt->raw.p, crt->raw.len, fp) != 0)
    return fail(msg, msglen, LVPN_ECRYPTO, "cannot hash the certificate");
  for (k = 0; k < c->n_hashes; k++)
    if (!lvpn__ct_differ(fp, c->hashes[k], (size_t)c->hash_len))
      return 0;
  for (i = 0; i < (size_t)c->hash_len; i++)
    used += (size_t)snprintf(hex + used, sizeof(hex) - used, "%s%02X",
                             i ? ":" : "", fp[i]);
  return fail(msg, msglen, LVPN_ECERT_FINGERPRINT,
              "certificate rejected: %s fingerprint %s is not in '%s'",
              depth == 0 ? "the server certificate's" : "its issuer's", hex,
              depth == 0 ? "peer-fingerprint" : "verify-hash");
}

/* tls-cert-profile as OpenVPN's ssl_mbedtls.c maps it. */
void lvpn__tls_cert_profile(int profile, mbedtls_x509_crt_profile *out) {
  if (profile == LVPN__TLS_PROFILE_SUITEB) {
    *out = mbedtls_x509_crt_profile_suiteb;
    return;
  }
  out->allowed_mds = MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA224) |
                     MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA256) |
                     MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA384) |
                     MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA512);
  out->allowed_pks = 0xFFFFFFF;
  out->allowed_curves = 0xFFFFFFF;
  out->rsa_min_bitlen = 2048;
  if (profile == LVPN__TLS_PROFILE_PREFERRED)
    return;
  out->allowed_mds |= MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA1) |
                      MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_RIPEMD160);
  out->rsa_min_bitlen = 1024;
}

/* ---- the engine's verify callback and its verdict ---- */

const mbedtls_ecp_group *lvpn__tls_conf_g_table(const lvpn__tls_conf_t *c) {
  if (mbedtls_pk_get_type(&c->key) != MBEDTLS_PK_ECDSA ||
      lvpn__ecsign_is_ours(&c->key)) /* Nettle signs: no table */
    return NULL;
  return &mbedtls_pk_ec(c->key)->grp;
}

/* The server certificate's key next verifies the ServerKeyExchange: on
 * Nettle where this build has it (lvpn__tls_ca_key_prepare), else with
 * our key's table of G when the curve is the same
 * (lvpn__tls_share_g_table). Only a curve of the conf's list: the chain
 * check rejects the certificate's key otherwise, by mbedTLS's curve check,
 * which looks for an ECKEY context; and not when a static ECDH suite
 * (tls-cipher) may be chosen: that key exchange wants an ECKEY context
 * too. Best effort: as it is, mbedTLS builds its own table. */
void lvpn__tls_peer_key_prepare(const lvpn__tls_conf_t *c,
                                mbedtls_x509_crt *crt) {
  const mbedtls_ecp_group *g = lvpn__tls_conf_g_table(c);
  size_t i;

  if (mbedtls_pk_get_type(&crt->pk) != MBEDTLS_PK_ECKEY)
    return;
  for (i = 0; c->suites[i] != 0; i++) {
    const mbedtls_ssl_ciphersuite_t *cs =
        mbedtls_ssl_ciphersuite_from_id(c->suites[i]);
    if (cs == NULL || cs->key_exchange == MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA ||
        cs->key_exchange == MBEDTLS_KEY_EXCHANGE_ECDH_RSA)
      return;
  }
  for (i = 0; c->curves[i] != MBEDTLS_ECP_DP_NONE; i++)
    if (c->curves[i] == mbedtls_pk_ec(crt->pk)->grp.id) {
      if (lvpn__ecverify_elsewhere(c->curves[i]))
        (void)lvpn__tls_ca_key_prepare(&crt->pk, NULL);
      else if (g != NULL)
        (void)lvpn__tls_share_g_table(&crt->pk, g);
      return;
    }
}

int lvpn__tls_verify_cb(void *ud, mbedtls_x509_crt *crt, int depth,
                        uint32_t *flags) {
  lvpn__tls_session_t *s = ud;
  char subject[256];
  int rc;

  /* peer-fingerprint without 'ca': the hash is the trust anchor, so an
   * untrusted or out-of-date certificate is fine (as OpenVPN); anything
   * else wrong with it still fails. */
  if (s->conf->no_ca)
    *flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_NOT_TRUSTED |
                          MBEDTLS_X509_BADCERT_EXPIRED |
                          MBEDTLS_X509_BADCERT_FUTURE);
  s->chain_flags |= *flags;
  if (mbedtls_x509_dn_gets(subject, sizeof(subject), &crt->subject) < 0)
    strcpy(subject, "?");
  if (depth == 0) {
    strcpy(s->subject, subject);
    lvpn__tls_first_cn(crt, s->cn, sizeof(s->cn));
  }
  if (*flags != 0) {
    LVPN__LOG(s->log, LVPN_LOG_ERROR, LAYER,
              "VERIFY ERROR: depth=%d, %s (flags 0x%x)", depth, subject,
              (unsigned)*flags);
    return 0;
  }
  rc = lvpn__tls_check_hash(s->conf, crt, depth, s->errmsg, sizeof(s->errmsg));
  if (rc == 0 && depth == 0 && s->chain_flags == 0)
    rc = lvpn__tls_check_leaf(s->conf, crt, s->errmsg, sizeof(s->errmsg));
  if (rc != 0) {
    s->leaf_err = rc;
    *flags |= MBEDTLS_X509_BADCERT_OTHER;
    s->chain_flags |= MBEDTLS_X509_BADCERT_OTHER;
    LVPN__LOG(s->log, LVPN_LOG_ERROR, LAYER, "VERIFY ERROR: %s",
              s->errmsg);
    return 0;
  }
  /* what scripts see of it, as OpenVPN's verify_cert_set_env */
  if (lvpn__certenv_add(&s->certenv, crt, depth) != 0)
    LVPN__LOG(s->log, LVPN_LOG_ERROR, LAYER,
              "out of memory: scripts will not see the certificate "
              "variables of depth %d",
              depth);
  LVPN__LOG(s->log, LVPN_LOG_INFO, LAYER, "VERIFY OK: depth=%d, %s",
            depth, subject);
  return 0;
}

static void verify_text(uint32_t flags, char *out, size_t max) {
  char *p;

  if (mbedtls_x509_crt_verify_info(out, max, "", flags) < 0)
    snprintf(out, max, "verify flags 0x%x", (unsigned)flags);
  for (p = out; *p != '\0'; p++)
    if (*p == '\n')
      *p = p[1] != '\0' ? ';' : '\0';
}

int lvpn__tls_cert_error(lvpn__tls_session_t *s) {
  uint32_t flags = s->chain_flags | s->verify_flags;
  char text[200];
  int code;

  if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_MISSING))
    code = LVPN_ECERT_UNTRUSTED;
  else if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
    code = LVPN_ECERT_EXPIRED;
  else if (flags & MBEDTLS_X509_BADCERT_REVOKED)
    code = LVPN_ECERT_REVOKED;
  else if (s->leaf_err != 0)
    return s->leaf_err; /* errmsg already says why */
  else if (flags & MBEDTLS_X509_BADCERT_EXT_KEY_USAGE)
    code = LVPN_ECERT_EKU;
  else
    code = LVPN_ECERT;
  verify_text(flags & ~(uint32_t)MBEDTLS_X509_BADCERT_OTHER, text,
              sizeof(text));
  snprintf(s->errmsg, sizeof(s->errmsg), "certificate rejected (%s): %s",
           s->subject[0] ? s->subject : "no certificate", text);
  return code;
}

/* `*e`: a new ECDSA context holding a copy of the EC key `src` (a fresh
 * group, no table); initialized even when this fails (free it then). An
 * ECDSA context signs and verifies in its own group, keeping its table of
 * G, where an ECKEY one copies the group each time. */
static int ecdsa_context_of(mbedtls_pk_context *e,
                            const mbedtls_pk_context *src) {
  int ret;
  mbedtls_pk_init(e);
  ret = mbedtls_pk_setup(e, mbedtls_pk_info_from_type(MBEDTLS_PK_ECDSA));
  if (ret == 0)
    ret = mbedtls_ecdsa_from_keypair(mbedtls_pk_ec(*e), mbedtls_pk_ec(*src));
  return ret;
}

/* A certificate's EC key verifies one signature per handshake (the CA's:
 * the server's certificate; the server's: its ServerKeyExchange), and
 * mbedTLS 2.28 verifies with an ECKEY context in a fresh copy of its group,
 * so it builds the comb table of G for each (0.85 ms on P-256 here). An
 * ECDSA context verifies in its own group, and a group whose table is
 * there uses it (ecp_mul_comb takes grp->T as the table of G whenever the
 * point is G). The table is G's and the window mbedTLS picks depends only
 * on the curve, so a copy of the one our own key's group already holds is
 * what mbedTLS would build; it is a copy, owned and freed with the group
 * (lending the pointer would have it freed twice). */
int lvpn__tls_copy_g_table(mbedtls_ecp_group *grp,
                           const mbedtls_ecp_group *from) {
  size_t i;
  int ret = 0;

  if (from == NULL || from->T == NULL || from->T_size == 0 ||
      grp->id != from->id)
    return 0;
  if (grp->T != NULL)
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA; /* not a fresh group: leave it */
  grp->T = mbedtls_calloc(from->T_size, sizeof(mbedtls_ecp_point));
  if (grp->T == NULL)
    return MBEDTLS_ERR_ECP_ALLOC_FAILED;
  grp->T_size = from->T_size; /* freed with the group from here on */
  for (i = 0; i < from->T_size; i++)
    mbedtls_ecp_point_init(&grp->T[i]);
  for (i = 0; i < from->T_size && ret == 0; i++)
    ret = mbedtls_ecp_copy(&grp->T[i], &from->T[i]);
  return ret;
}

int lvpn__tls_share_g_table(mbedtls_pk_context *pk,
                            const mbedtls_ecp_group *from) {
  mbedtls_pk_context e;
  int ret;

  if (from == NULL || from->T == NULL || from->T_size == 0 ||
      mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY ||
      mbedtls_pk_ec(*pk)->grp.id != from->id)
    return 0;
  ret = ecdsa_context_of(&e, pk);
  if (ret == 0)
    ret = lvpn__tls_copy_g_table(&mbedtls_pk_ec(e)->grp, from);
  if (ret != 0) {
    mbedtls_pk_free(&e);
    return ret;
  }
  mbedtls_pk_free(pk);
  *pk = e;
  return 0;
}

/* mbedtls_pk_check_pair() of mbedTLS 2.28 recomputes an EC public key as
 * d·G with an internal HMAC-DRBG for the blinding and in a fresh copy of the
 * group, so with the comb table of G built anew (Debian's build has no
 * static tables): 1.5 ms on P-256 here. The handshake's ECDSA signature
 * then copies the key's group again (an ECKEY context is turned into an
 * ECDSA one for every signature) and builds the same table once more.
 * An ECDSA context signs with its own group, and keeps the table the first
 * d·G builds for every signature of the configuration (0.6 ms each instead
 * of 1.5). So at load the key becomes that context and is paired as
 * OpenSSL's X509_check_private_key pairs it: the certificate's public key
 * is the one the key file holds (a key file without one had mbedTLS compute
 * it, d·G, when parsing). The whole check, d·G == Q, comes with the table
 * (lvpn__tls_own_key_warm), while the client waits for the server's hello:
 * 0.8 ms off the way to the tunnel. Where Nettle signs on the key's curve
 * (ecsign.h), the key becomes Nettle's instead, which needs no table, and
 * the check is Nettle's d·G (0.1 ms). */
int lvpn__tls_own_key_prepare(mbedtls_pk_context *key,
                              const mbedtls_pk_context *pub) {
  const mbedtls_ecp_keypair *k, *q;
  mbedtls_pk_context e;
  int ret;

  if (mbedtls_pk_get_type(pub) != MBEDTLS_PK_ECKEY ||
      mbedtls_pk_get_type(key) != MBEDTLS_PK_ECKEY)
    return mbedtls_pk_check_pair(pub, key);
  k = mbedtls_pk_ec(*key);
  q = mbedtls_pk_ec(*pub);
  if (q->grp.id == MBEDTLS_ECP_DP_NONE || q->grp.id != k->grp.id)
    return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
  if ((ret = mbedtls_ecp_check_privkey(&k->grp, &k->d)) != 0)
    return ret;
  if (mbedtls_ecp_point_cmp(&k->Q, &q->Q) != 0)
    return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
  if ((ret = lvpn__ecsign_prepare(key)) != LVPN__ECSIGN_NOT_HERE)
    return ret;
  if ((ret = ecdsa_context_of(&e, key)) != 0) {
    mbedtls_pk_free(&e); /* zeroes d */
    return ret;
  }
  mbedtls_pk_free(key);
  *key = e;
  return 0;
}

int lvpn__tls_own_key_warm(mbedtls_pk_context *key,
                           int (*rng)(void *, unsigned char *, size_t),
                           void *rng_ctx) {
  mbedtls_ecp_keypair *k;
  mbedtls_ecp_point t;
  int ret;

  if (lvpn__ecsign_is_ours(key))
    return lvpn__ecsign_check(key);
  if (mbedtls_pk_get_type(key) != MBEDTLS_PK_ECDSA)
    return 0;
  k = mbedtls_pk_ec(*key);
  mbedtls_ecp_point_init(&t);
  /* no `rng` (a shared conf has none): mbedTLS's internal blinding RNG,
   * as mbedtls_pk_check_pair() uses */
  ret = mbedtls_ecp_mul(&k->grp, &t, &k->d, &k->grp.G, rng, rng_ctx);
  if (ret == 0 && mbedtls_ecp_point_cmp(&t, &k->Q) != 0)
    ret = MBEDTLS_ERR_PK_BAD_INPUT_DATA;
  mbedtls_ecp_point_free(&t);
  return ret;
}
