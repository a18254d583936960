/* Signatures checked ahead (see engine.h, "the CA's signatures checked
 * ahead"). A CA's EC key becomes an ECDSA context that remembers the last
 * few signatures it verified: a verification of the same hash and
 * signature under the same key has the same answer, so the chain check of
 * a handshake finds the CA's signature on the server's certificate already
 * checked when an earlier handshake of the conf, or
 * lvpn__tls_conf_check_ahead() in a wait on the network, checked it.
 * Only successes are remembered, and only by this process. Loop-free. */
#include "layers/tlssession/engine.h"
#include "layers/tlssession/ecverify.h"

#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk_internal.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "layervpn.h"

/* An ECDSA key with the signatures it verified. */
typedef struct {
  mbedtls_ecdsa_context ecdsa; /* first: pk_ec() and mbedTLS take this */
  uint8_t seen[LVPN__TLS_AHEAD_MAX][32]; /* SHA-256 of what verified */
  unsigned n_seen, next;
  unsigned long hits;
} ahead_key_t;

/* What identifies one verification: the digest, the hash, the signature. */
static int ahead_id(mbedtls_md_type_t md_alg, const unsigned char *hash,
                    size_t hash_len, const unsigned char *sig, size_t sig_len,
                    uint8_t id[32]) {
  mbedtls_sha256_context sha;
  uint8_t head[9];
  int ret;

  head[0] = (uint8_t)md_alg;
  for (int i = 0; i < 4; i++) {
    head[1 + i] = (uint8_t)((uint32_t)hash_len >> (24 - 8 * i));
    head[5 + i] = (uint8_t)((uint32_t)sig_len >> (24 - 8 * i));
  }
  mbedtls_sha256_init(&sha);
  ret = mbedtls_sha256_starts_ret(&sha, 0);
  if (ret == 0)
    ret = mbedtls_sha256_update_ret(&sha, head, sizeof(head));
  if (ret == 0 && hash_len > 0)
    ret = mbedtls_sha256_update_ret(&sha, hash, hash_len);
  if (ret == 0)
    ret = mbedtls_sha256_update_ret(&sha, sig, sig_len);
  if (ret == 0)
    ret = mbedtls_sha256_finish_ret(&sha, id);
  mbedtls_sha256_free(&sha);
  return ret;
}

static int ahead_verify(void *ctx, mbedtls_md_type_t md_alg,
                        const unsigned char *hash, size_t hash_len,
                        const unsigned char *sig, size_t sig_len) {
  ahead_key_t *k = ctx;
  uint8_t id[32];
  int have_id, ret;
  unsigned i;

  have_id = ahead_id(md_alg, hash, hash_len, sig, sig_len, id) == 0;
  for (i = 0; have_id && i < k->n_seen; i++)
    if (memcmp(k->seen[i], id, sizeof(id)) == 0) {
      k->hits++;
      return 0;
    }
  /* what mbedTLS's own ECDSA verify_func does (pk_wrap.c), on Nettle
   * where this build has it (ecverify.h) */
  ret = lvpn__ecverify(&k->ecdsa, hash, hash_len, sig, sig_len);
  if (ret == MBEDTLS_ERR_ECP_SIG_LEN_MISMATCH)
    return MBEDTLS_ERR_PK_SIG_LEN_MISMATCH;
  if (ret == 0 && have_id) {
    memcpy(k->seen[k->next], id, sizeof(id));
    k->next = (k->next + 1) % LVPN__TLS_AHEAD_MAX;
    if (k->n_seen < LVPN__TLS_AHEAD_MAX)
      k->n_seen++;
  }
  return ret;
}

static size_t ahead_bitlen(const void *ctx) {
  return ((const ahead_key_t *)ctx)->ecdsa.grp.pbits;
}

static int ahead_can_do(mbedtls_pk_type_t type) {
  return type == MBEDTLS_PK_ECDSA;
}

/* a public key: it signs nothing and pairs with nothing */
static int ahead_check_pair(const void *pub, const void *prv) {
  (void)pub;
  (void)prv;
  return MBEDTLS_ERR_PK_TYPE_MISMATCH;
}

static void *ahead_alloc(void) {
  ahead_key_t *k = mbedtls_calloc(1, sizeof(*k));
  if (k != NULL)
    mbedtls_ecdsa_init(&k->ecdsa);
  return k;
}

static void ahead_free(void *ctx) {
  ahead_key_t *k = ctx;
  mbedtls_ecdsa_free(&k->ecdsa);
  mbedtls_platform_zeroize(k, sizeof(*k));
  mbedtls_free(k);
}

static const mbedtls_pk_info_t ahead_info = {
    .type = MBEDTLS_PK_ECDSA,
    .name = "ECDSA",
    .get_bitlen = ahead_bitlen,
    .can_do = ahead_can_do,
    .verify_func = ahead_verify,
    .check_pair_func = ahead_check_pair,
    .ctx_alloc_func = ahead_alloc,
    .ctx_free_func = ahead_free,
};

int lvpn__tls_ca_key_prepare(mbedtls_pk_context *pk,
                             const mbedtls_ecp_group *from) {
  mbedtls_pk_context e;
  ahead_key_t *k;
  int ret;

  if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY)
    return 0;
  mbedtls_pk_init(&e);
  ret = mbedtls_pk_setup(&e, &ahead_info);
  k = ret == 0 ? e.pk_ctx : NULL;
  if (ret == 0)
    ret = mbedtls_ecdsa_from_keypair(&k->ecdsa, mbedtls_pk_ec(*pk));
  /* a table of G for mbedTLS's verification, not for another library's */
  if (ret == 0 && from != NULL && from->id == k->ecdsa.grp.id &&
      !lvpn__ecverify_elsewhere(k->ecdsa.grp.id))
    (void)lvpn__tls_copy_g_table(&k->ecdsa.grp, from); /* best effort */
  if (ret != 0) {
    mbedtls_pk_free(&e);
    return ret;
  }
  mbedtls_pk_free(pk);
  *pk = e;
  return 0;
}

unsigned long lvpn__tls_ca_key_hits(const mbedtls_pk_context *pk) {
  if (pk->pk_info != &ahead_info)
    return 0;
  return ((const ahead_key_t *)pk->pk_ctx)->hits;
}

unsigned long lvpn__tls_conf_ahead_hits(const lvpn__tls_conf_t *c) {
  const mbedtls_x509_crt *crt;
  unsigned long n = 0;
  for (crt = &c->ca; crt != NULL && crt->raw.p != NULL; crt = crt->next)
    n += lvpn__tls_ca_key_hits(&crt->pk);
  return n;
}

int lvpn__tls_conf_check_ahead(lvpn__tls_conf_t *c, const uint8_t *der,
                               size_t len) {
  mbedtls_x509_crt chain;
  uint32_t flags = 0;
  int ret = 0, n = 0;

  if (c == NULL || der == NULL)
    return LVPN_EINVAL;
  mbedtls_x509_crt_init(&chain);
  while (len > 0 && ret == 0) { /* DER certificates, one after the other */
    unsigned char *p = (unsigned char *)der, *end = p + len;
    size_t body;
    ret = mbedtls_asn1_get_tag(
        &p, end, &body, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (ret == 0) {
      size_t one = (size_t)(p - der) + body;
      ret = mbedtls_x509_crt_parse_der(&chain, der, one);
      der += one;
      len -= one;
      n++;
    }
  }
  if (ret == 0 && n > 0)
    ret = mbedtls_x509_crt_verify_with_profile(
        &chain, c->ssl.ca_chain, c->ssl.ca_crl, c->ssl.cert_profile, NULL,
        &flags, NULL, NULL);
  mbedtls_x509_crt_free(&chain);
  if (n == 0 || (ret != 0 && ret != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED))
    return LVPN_EINVAL; /* not a chain */
  return ret == 0 ? 0 : LVPN_ECERT;
}

size_t lvpn__tls_peer_chain_der(const lvpn__tls_session_t *s, uint8_t *out,
                                size_t cap) {
  const mbedtls_x509_crt *crt;
  size_t len = 0;

  if (s == NULL || s->verify != LVPN__TLS_VERIFY_DONE || s->err != 0)
    return 0;
  crt = s->ssl.session_negotiate != NULL ? s->ssl.session_negotiate->peer_cert
        : s->ssl.session != NULL         ? s->ssl.session->peer_cert
                                         : NULL;
  for (; crt != NULL && crt->raw.p != NULL; crt = crt->next) {
    if (out != NULL && len + crt->raw.len <= cap)
      memcpy(out + len, crt->raw.p, crt->raw.len);
    len += crt->raw.len;
  }
  return len;
}
