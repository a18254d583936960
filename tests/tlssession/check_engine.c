/* layers/tlssession/engine: our client against the in-memory TLS peer of
 * tests/fakes.h, with the fixture PKI of tests/data/pki (regenerate with
 * gen.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/md.h>
#include <mbedtls/ssl_internal.h>

#include "layers/tlssession/engine.h"
#include "layers/tlssession/ecsign.h"
#include "layers/tlssession/ecverify.h"
#include "layers/tlssession/keyload.h"
#include "layers/tlssession/x25519.h"
#include "layervpn.h"
#include "lib/log.h"
#include "tests/fakes.h"

/* Log capture: the last line at ERROR level, and whether VERIFY OK was seen. */
typedef struct {
  char last_error[512];
  int verify_ok;
} logcap_t;

static void log_cb(void *ud, int level, const char *layer, const char *msg) {
  logcap_t *lc = ud;
  ck_assert_str_eq(layer, "tlssession");
  if (level <= LVPN_LOG_ERROR)
    snprintf(lc->last_error, sizeof(lc->last_error), "%s", msg);
  if (strncmp(msg, "VERIFY OK", 9) == 0)
    lc->verify_ok++;
}

/* Moves bytes both ways until both handshakes finished or nothing moves.
 * Server -> client bytes go in `chunk`-sized pieces, a step after each.
 * Returns the client's first error, or 0. */
static int pump(lvpn__tls_session_t *cl, fake_tls_peer_t *sv, size_t chunk) {
  uint8_t tmp[4096];
  const uint8_t *d;
  size_t n;
  int rc, round, moved;

  for (round = 0; round < 100; round++) {
    moved = 0;
    rc = lvpn__tls_step(cl);
    if (rc < 0)
      return rc;
    while ((n = lvpn__tls_take_output(cl, tmp, sizeof(tmp))) > 0) {
      fake_tls_peer_feed(sv, tmp, n);
      moved = 1;
    }
    fake_tls_peer_handshake(sv);
    while ((n = fake_tls_peer_take(sv, &d, chunk)) > 0) {
      ck_assert_int_eq(lvpn__tls_feed(cl, d, n), 0);
      moved = 1;
      rc = lvpn__tls_step(cl);
      if (rc < 0)
        return rc;
    }
    if (lvpn__tls_handshake_done(cl) && sv->done &&
        lvpn__tls_pending_output(cl) == 0)
      return 0;
    if (!moved)
      break;
  }
  return lvpn__tls_step(cl);
}

/* ---- per-test state ---- */

typedef struct {
  fake_pem_t ca, cert, key;
  fake_rng_t rng;
  logcap_t lc;
  lvpn__logger_t log;
  lvpn__tls_params_t p;
  lvpn__tls_conf_t conf;
  lvpn__tls_session_t cl;
  fake_tls_peer_t sv;
  char err[256];
} env_t;

static void env_params(env_t *e, const char *cert, const char *key) {
  memset(e, 0, sizeof(*e));
  fake_rng_init(&e->rng);
  e->ca = fake_pem_load("ca.crt");
  if (cert != NULL) {
    e->cert = fake_pem_load(cert);
    e->key = fake_pem_load(key);
  }
  e->log.cb = log_cb;
  e->log.ud = &e->lc;
  e->log.verb = LVPN_LOG_TRACE;
  e->p.ca_pem = e->ca.pem;
  e->p.ca_len = e->ca.len;
  e->p.cert_pem = e->cert.pem;
  e->p.cert_len = e->cert.len;
  e->p.key_pem = e->key.pem;
  e->p.key_len = e->key.len;
  e->p.tls_version_min = LVPN__TLS_VERSION_1_2;
  e->p.rng = mbedtls_ctr_drbg_random;
  e->p.rng_ctx = &e->rng.drbg;
  e->p.log = &e->log;
}

/* lvpn__tls_conf_init() on e->p succeeds. */
static void conf_ok(env_t *e) {
  ck_assert_msg(lvpn__tls_conf_init(&e->conf, &e->p, e->err, sizeof(e->err)) ==
                    0,
                "%s", e->err);
}

/* conf + session + server, ready to pump */
static void env_start(env_t *e, const char *srv_cert, const char *srv_key,
                      const char *client_ca) {
  ck_assert_msg(lvpn__tls_conf_init(&e->conf, &e->p, e->err, sizeof(e->err)) ==
                    0,
                "%s", e->err);
  ck_assert_int_eq(lvpn__tls_init(&e->cl, &e->conf), 0);
  fake_tls_peer_init(&e->sv, srv_cert, srv_key, client_ca);
  /* what the tlssession layer does while the ClientHello is on its way */
  ck_assert_msg(lvpn__tls_conf_warm(&e->conf, e->err, sizeof(e->err)) == 0,
                "%s", e->err);
}

static void env_free(env_t *e) {
  lvpn__tls_free(&e->cl);
  lvpn__tls_free(&e->cl); /* harmless twice */
  lvpn__tls_conf_free(&e->conf);
  fake_tls_peer_free(&e->sv);
  fake_rng_free(&e->rng);
  free(e->ca.pem);
  free(e->cert.pem);
  free(e->key.pem);
}

/* Good client, server `srv` (a fixture name without extension). */
static int handshake_with(env_t *e, const char *srv) {
  char crt[64], key[64];

  snprintf(crt, sizeof(crt), "%s.crt", srv);
  snprintf(key, sizeof(key), "%s.key", srv);
  env_start(e, crt, key, "ca.crt");
  return pump(&e->cl, &e->sv, 4096);
}

/* The fixture client, with or without remote-cert-tls server. */
static int handshake_client(env_t *e, int remote_cert_tls, const char *srv) {
  env_params(e, "client.crt", "client.key");
  e->p.remote_cert_tls_server = remote_cert_tls;
  return handshake_with(e, srv);
}

/* ---- tests ---- */

static const char *suite_family(const lvpn__tls_session_t *s) {
  static char prefix[32];
  snprintf(prefix, sizeof(prefix), "%.21s", lvpn__tls_ciphersuite(s));
  return prefix;
}

static void assert_exports_match(env_t *e) {
  uint8_t ms[48], cr[32], sr[32];
  int prf = -1;

  ck_assert_int_eq(lvpn__tls_get_export(&e->cl, ms, cr, sr, &prf), 0);
  ck_assert(e->sv.have_export);
  ck_assert_int_eq(memcmp(ms, e->sv.ms, 48), 0);
  ck_assert_int_eq(memcmp(cr, e->sv.cr, 32), 0);
  ck_assert_int_eq(memcmp(sr, e->sv.sr, 32), 0);
  ck_assert_int_eq(prf, e->sv.prf_type);
  ck_assert(prf == MBEDTLS_SSL_TLS_PRF_SHA256 ||
            prf == MBEDTLS_SSL_TLS_PRF_SHA384);
}

/* `want` ("name=value") is one of the variables. */
static void env_has(const lvpn__certenv_t *ce, const char *want) {
  const char *v = NULL;
  while ((v = lvpn__certenv_next(ce, v)) != NULL)
    if (strcmp(v, want) == 0)
      return;
  ck_abort_msg("no '%s' among the certificate variables", want);
}

/* One subject attribute: OID bytes, string tag and value. */
static void dn_set(mbedtls_x509_name *n, const char *oid, size_t oid_len,
                   int tag, const char *val, size_t val_len,
                   mbedtls_x509_name *next, int merged) {
  memset(n, 0, sizeof(*n));
  n->oid.tag = MBEDTLS_ASN1_OID;
  n->oid.p = (unsigned char *)oid;
  n->oid.len = oid_len;
  n->val.tag = tag;
  n->val.p = (unsigned char *)val;
  n->val.len = val_len;
  n->next = next;
  n->next_merged = (unsigned char)merged;
}

/* certenv on hand-built certificates: each string type converted to UTF-8
 * (BMP, Universal, T61), control characters escaped in tls_id and '_' in
 * X509_, a repeated name numbered, a multi-valued RDN, an unknown OID
 * (dotted in tls_id only), negative and zero-padded serials, digests of
 * the DER bytes, a new chain replacing the last, and the size bound. */
START_TEST(test_certenv_formats) {
  static const char cn[] = "\x55\x04\x03", ou[] = "\x55\x04\x0B",
                    c[] = "\x55\x04\x06", odd[] = "\x2A\x03\x04",
                    mail[] = "\x2A\x86\x48\x86\xF7\x0D\x01\x09\x01";
  mbedtls_x509_name n[7];
  mbedtls_x509_crt crt;
  lvpn__certenv_t ce;
  unsigned char serial_neg[] = {0xFF, 0x01}, serial_pad[] = {0x00, 0x80};
  char *big;
  const char *v = NULL;
  int count = 0;

  dn_set(&n[6], mail, sizeof(mail) - 1, MBEDTLS_ASN1_IA5_STRING,
         "a@b.example", 11, NULL, 0);
  dn_set(&n[5], odd, sizeof(odd) - 1, MBEDTLS_ASN1_UTF8_STRING, "x", 1,
         &n[6], 0);
  dn_set(&n[4], cn, sizeof(cn) - 1, MBEDTLS_ASN1_UNIVERSAL_STRING,
         "\x00\x01\xF6\x00", 4, &n[5], 0); /* U+1F600 */
  dn_set(&n[3], ou, sizeof(ou) - 1, MBEDTLS_ASN1_T61_STRING, "caf\xE9", 4,
         &n[4], 0); /* Latin-1 */
  dn_set(&n[2], ou, sizeof(ou) - 1, MBEDTLS_ASN1_UTF8_STRING, "a\x01" "b", 3,
         &n[3], 0);
  dn_set(&n[1], cn, sizeof(cn) - 1, MBEDTLS_ASN1_BMP_STRING, "\x03\xA9\x00\x7F",
         4, &n[2], 0); /* Omega, DEL */
  dn_set(&n[0], c, sizeof(c) - 1, MBEDTLS_ASN1_PRINTABLE_STRING, "DE", 2,
         &n[1], 1); /* C and CN in one RDN */
  memset(&crt, 0, sizeof(crt));
  crt.subject = n[0];
  crt.raw.p = (unsigned char *)"abc";
  crt.raw.len = 3;
  crt.serial.p = serial_neg;
  crt.serial.len = sizeof(serial_neg);
  lvpn__certenv_init(&ce);
  ck_assert_int_eq(lvpn__certenv_add(&ce, &crt, 1), 0);
  env_has(&ce, "X509_1_C=DE");
  env_has(&ce, "X509_1_CN=\xCE\xA9_");
  env_has(&ce, "X509_1_OU=a_b");
  env_has(&ce, "X509_1_OU_1=caf\xC3\xA9");
  env_has(&ce, "X509_1_CN_1=\xF0\x9F\x98\x80");
  env_has(&ce, "X509_1_emailAddress=a@b.example");
  env_has(&ce, "tls_id_1=C=DE + CN=\xCE\xA9\\7F, OU=a\\01b, OU=caf\xC3\xA9, "
               "CN=\xF0\x9F\x98\x80, 1.2.3.4=x, emailAddress=a@b.example");
  env_has(&ce, "tls_digest_1=a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:"
               "6c:9c:d0:d8:9d");
  env_has(&ce, "tls_digest_sha256_1=ba:78:16:bf:8f:01:cf:ea:41:41:40:de:5d:"
               "ae:22:23:b0:03:61:a3:96:17:7a:9c:b4:10:ff:61:f2:00:15:ad");
  env_has(&ce, "tls_serial_1=-255");
  env_has(&ce, "tls_serial_hex_1=ff");
  while ((v = lvpn__certenv_next(&ce, v)) != NULL)
    count++;
  ck_assert_int_eq(count, 11); /* 6 X509_ (not the unknown OID) + 5 */

  /* depth 0 below it: the same chain goes on */
  crt.subject = n[6];
  crt.serial.p = serial_pad;
  crt.serial.len = sizeof(serial_pad);
  ck_assert_int_eq(lvpn__certenv_add(&ce, &crt, 0), 0);
  env_has(&ce, "X509_1_C=DE");
  env_has(&ce, "tls_id_0=emailAddress=a@b.example");
  env_has(&ce, "tls_serial_0=128");
  env_has(&ce, "tls_serial_hex_0=80");
  /* depth 0 again: a new chain (a renegotiation) replaces it */
  ck_assert_int_eq(lvpn__certenv_add(&ce, &crt, 0), 0);
  count = 0;
  for (v = NULL; (v = lvpn__certenv_next(&ce, v)) != NULL;)
    count++;
  ck_assert_int_eq(count, 6);
  ck_assert(!ce.truncated);

  /* a value larger than the bound is left out, and said */
  big = malloc(LVPN__CERTENV_MAX);
  ck_assert_ptr_nonnull(big);
  memset(big, 'x', LVPN__CERTENV_MAX);
  dn_set(&n[0], cn, sizeof(cn) - 1, MBEDTLS_ASN1_UTF8_STRING, big,
         LVPN__CERTENV_MAX, NULL, 0);
  crt.subject = n[0];
  ck_assert_int_eq(lvpn__certenv_add(&ce, &crt, 0), 0);
  ck_assert(ce.truncated);
  ck_assert_uint_le(ce.len, LVPN__CERTENV_MAX);
  env_has(&ce, "tls_serial_0=128");
  free(big);
  lvpn__certenv_free(&ce);
  ck_assert_ptr_null(lvpn__certenv_next(&ce, NULL));
}
END_TEST

START_TEST(test_engine_handshake_ec) {
  env_t e;
  uint8_t ms[48];

  env_params(&e, "client.crt", "client.key");
  e.p.remote_cert_tls_server = 1;
  e.p.verify_x509_name = "vpn-server";
  e.p.verify_x509_type = LVPN__X509_NAME_NAME;
  env_start(&e, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(lvpn__tls_get_export(&e.cl, ms, NULL, NULL, NULL),
                   LVPN_ESTATE);
  ck_assert_str_eq(lvpn__tls_ciphersuite(&e.cl), "");
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
  ck_assert(lvpn__tls_handshake_done(&e.cl));
  ck_assert_int_eq(mbedtls_ssl_get_verify_result(&e.sv.ssl), 0);
  /* the server picks among our offers by its own preference */
  ck_assert_str_eq(suite_family(&e.cl), "TLS-ECDHE-ECDSA-WITH-");
  ck_assert_str_eq(lvpn__tls_version(&e.cl), "TLSv1.2");
  ck_assert_str_eq(lvpn__tls_peer_subject(&e.cl),
                   "O=layervpn test, CN=vpn-server");
  ck_assert_str_eq(lvpn__tls_peer_cn(&e.cl), "vpn-server");
  ck_assert_str_eq(lvpn__tls_last_error(&e.cl), "");
  ck_assert_int_eq(e.lc.verify_ok, 2); /* CA and leaf */
  /* the server's key verified its ServerKeyExchange as an ECDSA context
   * (libgcrypt's verification, or mbedTLS's with our table of G) */
  ck_assert_ptr_nonnull(mbedtls_ssl_get_peer_cert(&e.cl.ssl));
  ck_assert_int_eq(mbedtls_pk_get_type(&mbedtls_ssl_get_peer_cert(&e.cl.ssl)->pk),
                   MBEDTLS_PK_ECDSA);
  assert_exports_match(&e);
  /* what scripts will see of the chain (values from the openssl CLI) */
  env_has(lvpn__tls_peer_env(&e.cl), "tls_id_0=O=layervpn test, CN=vpn-server");
  env_has(lvpn__tls_peer_env(&e.cl), "X509_0_CN=vpn-server");
  env_has(lvpn__tls_peer_env(&e.cl), "X509_0_O=layervpn test");
  env_has(lvpn__tls_peer_env(&e.cl), "tls_id_1=CN=layervpn Test CA");
  env_has(lvpn__tls_peer_env(&e.cl),
          "tls_serial_hex_0=45:db:62:c6:56:f7:6d:43");
  env_has(lvpn__tls_peer_env(&e.cl), "tls_serial_0=5033725612518763843");
  env_has(lvpn__tls_peer_env(&e.cl),
          "tls_digest_0=5d:57:51:1e:52:c2:e3:08:a1:f4:8f:43:96:bc:c5:e5:15:4d:"
          "5f:65");
  env_free(&e);
}
END_TEST

/* Our flight out, the server's answer held back: steps the client until
 * it waits for the server's ChangeCipherSpec (our Finished sent, not yet
 * given to the server). */
static void until_our_finished(env_t *e) {
  uint8_t tmp[4096];
  const uint8_t *d;
  size_t n;
  int round;

  for (round = 0; round < 10; round++) {
    ck_assert_int_eq(lvpn__tls_step(&e->cl), 0);
    if (e->cl.ssl.state == MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC)
      return;
    while ((n = lvpn__tls_take_output(&e->cl, tmp, sizeof(tmp))) > 0)
      fake_tls_peer_feed(&e->sv, tmp, n);
    fake_tls_peer_handshake(&e->sv);
    while ((n = fake_tls_peer_take(&e->sv, &d, sizeof(tmp))) > 0)
      ck_assert_int_eq(lvpn__tls_feed(&e->cl, d, n), 0);
  }
  ck_abort_msg("the client never sent its Finished");
}

/* TLS False Start (RFC 7918): once our Finished is out, a record with the
 * session's keys reaches the server ahead of its Finished (OpenVPN's server
 * reads our key-method-2 message there); not before that point, not after
 * the handshake, and not with a CBC suite. */
START_TEST(test_engine_false_start) {
  static const char early[] = "key-method-2, early";
  uint8_t tmp[4096], got[64];
  env_t e;
  size_t n;
  int cbc;

  for (cbc = 0; cbc <= 1; cbc++) {
    env_params(&e, "client.crt", "client.key");
    if (cbc)
      e.p.tls_cipher = "TLS-ECDHE-ECDSA-WITH-AES-256-CBC-SHA384";
    env_start(&e, "server.crt", "server.key", "ca.crt");
    ck_assert(!lvpn__tls_false_start_ok(&e.cl));
    ck_assert_int_eq(lvpn__tls_write_early(&e.cl, (const uint8_t *)"x", 1),
                     LVPN_ESTATE);
    until_our_finished(&e);
    if (cbc) {
      ck_assert_str_eq(e.cl.ssl.handshake->ciphersuite_info->name,
                       "TLS-ECDHE-ECDSA-WITH-AES-256-CBC-SHA384");
      ck_assert(!lvpn__tls_false_start_ok(&e.cl));
      ck_assert_int_eq(
          lvpn__tls_write_early(&e.cl, (const uint8_t *)"x", 1), LVPN_ESTATE);
      ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
      ck_assert(lvpn__tls_handshake_done(&e.cl));
      env_free(&e);
      continue;
    }
    /* the server's chain is still unchecked: nothing may be written */
    ck_assert(lvpn__tls_verify_pending(&e.cl));
    ck_assert(!lvpn__tls_false_start_ok(&e.cl));
    ck_assert_int_eq(
        lvpn__tls_write_early(&e.cl, (const uint8_t *)"x", 1), LVPN_ESTATE);
    ck_assert_int_eq(lvpn__tls_verify_peer(&e.cl), 0);
    ck_assert(!lvpn__tls_verify_pending(&e.cl));
    ck_assert(lvpn__tls_false_start_ok(&e.cl));
    ck_assert_int_eq(
        lvpn__tls_write_early(&e.cl, (const uint8_t *)early, sizeof(early)), 0);
    while ((n = lvpn__tls_take_output(&e.cl, tmp, sizeof(tmp))) > 0)
      fake_tls_peer_feed(&e.sv, tmp, n);
    /* the server finishes on our flight and reads the record after it */
    ck_assert_int_eq(fake_tls_peer_handshake(&e.sv), 1);
    ck_assert_int_eq(mbedtls_ssl_read(&e.sv.ssl, got, sizeof(got)),
                     (int)sizeof(early));
    ck_assert_mem_eq(got, early, sizeof(early));
    ck_assert(!lvpn__tls_handshake_done(&e.cl));
    /* then the client takes the server's Finished, and writes as usual */
    ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
    ck_assert(lvpn__tls_handshake_done(&e.cl));
    ck_assert(!lvpn__tls_false_start_ok(&e.cl));
    ck_assert_int_eq(
        lvpn__tls_write_early(&e.cl, (const uint8_t *)"x", 1), LVPN_ESTATE);
    assert_exports_match(&e);
    ck_assert_int_eq(lvpn__tls_write(&e.cl, (const uint8_t *)"after", 5), 0);
    while ((n = lvpn__tls_take_output(&e.cl, tmp, sizeof(tmp))) > 0)
      fake_tls_peer_feed(&e.sv, tmp, n);
    ck_assert_int_eq(mbedtls_ssl_read(&e.sv.ssl, got, sizeof(got)), 5);
    ck_assert_mem_eq(got, "after", 5);
    env_free(&e);
  }
}
END_TEST

/* The server's chain is checked apart (lvpn__tls_verify_peer), after our
 * second flight went out: a server of another CA gets that flight but no
 * application data, and the check's verdict is the one mbedTLS gave
 * inline before (the same code, message and alert). */
START_TEST(test_engine_chain_checked_after_our_flight) {
  env_t e;

  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server-other-ca.crt", "server-other-ca.key", "ca.crt");
  ck_assert_int_eq(lvpn__tls_verify_peer(&e.cl), 0); /* nothing to check */
  until_our_finished(&e);
  ck_assert(lvpn__tls_verify_pending(&e.cl));
  ck_assert_str_eq(lvpn__tls_peer_subject(&e.cl), ""); /* not verified */
  ck_assert(!lvpn__tls_false_start_ok(&e.cl));
  ck_assert_int_eq(lvpn__tls_write_early(&e.cl, (const uint8_t *)"pw", 2),
                   LVPN_ESTATE);
  ck_assert_int_eq(lvpn__tls_verify_peer(&e.cl), LVPN_ECERT_UNTRUSTED);
  ck_assert_ptr_nonnull(strstr(lvpn__tls_last_error(&e.cl), "trusted CA"));
  ck_assert_uint_gt(lvpn__tls_pending_output(&e.cl), 0); /* the alert */
  ck_assert(!lvpn__tls_verify_pending(&e.cl));
  /* sticky everywhere */
  ck_assert_int_eq(lvpn__tls_verify_peer(&e.cl), LVPN_ECERT_UNTRUSTED);
  ck_assert_int_eq(lvpn__tls_step(&e.cl), LVPN_ECERT_UNTRUSTED);
  ck_assert_int_eq(lvpn__tls_write_early(&e.cl, (const uint8_t *)"pw", 2),
                   LVPN_ECERT_UNTRUSTED);
  ck_assert(!lvpn__tls_handshake_done(&e.cl));
  env_free(&e);
}
END_TEST

START_TEST(test_engine_handshake_rsa_client_key) {
  const mbedtls_x509_crt *peer;
  char dn[128];
  env_t e;

  env_params(&e, "client-rsa.crt", "client-rsa.key");
  e.p.remote_cert_tls_server = 1;
  ck_assert_int_eq(handshake_with(&e, "server"), 0);
  ck_assert_int_eq(mbedtls_ssl_get_verify_result(&e.sv.ssl), 0);
  peer = mbedtls_ssl_get_peer_cert(&e.sv.ssl);
  ck_assert_ptr_nonnull(peer);
  ck_assert_int_gt(mbedtls_x509_dn_gets(dn, sizeof(dn), &peer->subject), 0);
  ck_assert_str_eq(dn, "CN=client-rsa");
  ck_assert_int_eq(mbedtls_pk_get_type(&peer->pk), MBEDTLS_PK_RSA);
  assert_exports_match(&e);
  env_free(&e);
}
END_TEST

START_TEST(test_engine_no_client_cert) {
  env_t e;

  env_params(&e, NULL, NULL); /* user/pass only */
  env_start(&e, "server.crt", "server.key", NULL);
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
  ck_assert(lvpn__tls_handshake_done(&e.cl));
  env_free(&e);
}
END_TEST

/* client writes one record; the server reads exactly it */
static void client_to_server(env_t *e, const uint8_t *msg, size_t len) {
  uint8_t tmp[4096], got[4096];
  size_t n;
  int rc;

  ck_assert_int_eq(lvpn__tls_write(&e->cl, msg, len), 0);
  while ((n = lvpn__tls_take_output(&e->cl, tmp, sizeof(tmp))) > 0)
    fake_tls_peer_feed(&e->sv, tmp, n);
  rc = mbedtls_ssl_read(&e->sv.ssl, got, sizeof(got));
  ck_assert_int_eq(rc, (int)len);
  ck_assert_int_eq(memcmp(got, msg, len), 0);
}

static void records_flow(env_t *e, size_t chunk) {
  static const char m1[] = "\0\0\0\0\x02server key-method-2";
  static const char m2[] = "PUSH_REPLY,ping 10,ping-restart 60";
  static const char *expect[2] = {m1, m2};
  static const size_t expect_len[2] = {sizeof(m1), sizeof(m2)};
  uint8_t big[LVPN__TLS_MAX_RECORD + 1], buf[64];
  const uint8_t *d;
  size_t n;
  int rc, got = 0;

  memset(big, 'k', sizeof(big));
  client_to_server(e, big, LVPN__TLS_MAX_RECORD);
  client_to_server(e, (const uint8_t *)"PUSH_REQUEST", 13);
  ck_assert_int_eq(lvpn__tls_write(&e->cl, big, sizeof(big)), LVPN_ETOOBIG);

  /* two records in one flight: read one at a time, then nothing */
  fake_tls_peer_write(&e->sv, m1, sizeof(m1));
  fake_tls_peer_write(&e->sv, m2, sizeof(m2));
  ck_assert_int_eq(lvpn__tls_read(&e->cl, buf, sizeof(buf)), 0);
  while ((n = fake_tls_peer_take(&e->sv, &d, chunk)) > 0) {
    ck_assert_int_eq(lvpn__tls_feed(&e->cl, d, n), 0);
    while ((rc = lvpn__tls_read(&e->cl, buf, sizeof(buf))) > 0) {
      ck_assert_int_lt(got, 2);
      ck_assert_int_eq(rc, (int)expect_len[got]);
      ck_assert_int_eq(memcmp(buf, expect[got], expect_len[got]), 0);
      got++;
    }
    ck_assert_int_eq(rc, 0);
    if (e->sv.out_off < e->sv.out_len) /* incomplete: not delivered yet */
      ck_assert_int_lt(got, 2);
  }
  ck_assert_int_eq(got, 2);
  ck_assert_int_eq(lvpn__tls_read(&e->cl, buf, sizeof(buf)), 0);
}

START_TEST(test_engine_records_flow_both_ways) {
  env_t e;
  uint8_t buf[16];

  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(lvpn__tls_write(&e.cl, (const uint8_t *)"x", 1),
                   LVPN_ESTATE);
  ck_assert_int_eq(lvpn__tls_read(&e.cl, buf, sizeof(buf)), LVPN_ESTATE);
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
  records_flow(&e, 4096);
  env_free(&e);
}
END_TEST

START_TEST(test_engine_byte_by_byte) {
  env_t e;

  env_params(&e, "client.crt", "client.key");
  e.p.remote_cert_tls_server = 1;
  env_start(&e, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(pump(&e.cl, &e.sv, 1), 0);
  ck_assert(lvpn__tls_handshake_done(&e.cl));
  assert_exports_match(&e);
  records_flow(&e, 1);
  env_free(&e);
}
END_TEST

START_TEST(test_engine_peer_close_and_alert) {
  env_t e;
  uint8_t buf[64];
  const uint8_t *d;
  size_t n;

  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
  ck_assert_int_eq(mbedtls_ssl_close_notify(&e.sv.ssl), 0);
  n = fake_tls_peer_take(&e.sv, &d, sizeof(e.sv.out));
  ck_assert_int_eq(lvpn__tls_feed(&e.cl, d, n), 0);
  ck_assert_int_eq(lvpn__tls_read(&e.cl, buf, sizeof(buf)), LVPN_ETLS);
  ck_assert_str_eq(lvpn__tls_last_error(&e.cl), "peer closed the TLS session");
  /* sticky */
  ck_assert_int_eq(lvpn__tls_read(&e.cl, buf, sizeof(buf)), LVPN_ETLS);
  ck_assert_int_eq(lvpn__tls_write(&e.cl, buf, 1), LVPN_ETLS);
  env_free(&e);
}
END_TEST

START_TEST(test_engine_untrusted_ca) {
  env_t e;

  ck_assert_int_eq(handshake_client(&e, 0, "server-other-ca"),
                   LVPN_ECERT_UNTRUSTED);
  ck_assert_ptr_nonnull(
      strstr(lvpn__tls_last_error(&e.cl), "O=layervpn test, CN=vpn-server"));
  ck_assert_ptr_nonnull(strstr(lvpn__tls_last_error(&e.cl), "trusted CA"));
  ck_assert_str_eq(e.lc.last_error, lvpn__tls_last_error(&e.cl));
  /* sticky, and an alert is waiting to be sent */
  ck_assert_int_eq(lvpn__tls_step(&e.cl), LVPN_ECERT_UNTRUSTED);
  ck_assert_uint_gt(lvpn__tls_pending_output(&e.cl), 0);
  ck_assert(!lvpn__tls_handshake_done(&e.cl));
  env_free(&e);
}
END_TEST

START_TEST(test_engine_expired) {
  env_t e;

  ck_assert_int_eq(handshake_client(&e, 0, "server-expired"),
                   LVPN_ECERT_EXPIRED);
  ck_assert_ptr_nonnull(strstr(lvpn__tls_last_error(&e.cl), "expired"));
  env_free(&e);
}
END_TEST

START_TEST(test_engine_eku_without_server_auth) {
  env_t e;

  ck_assert_int_eq(handshake_client(&e, 1, "server-anyeku"), LVPN_ECERT_EKU);
  ck_assert_str_eq(lvpn__tls_last_error(&e.cl),
                   "certificate rejected (O=layervpn test, CN=vpn-server): "
                   "extendedKeyUsage is not serverAuth (has: TLS Web Client "
                   "Authentication, 2.5.29.37.0)");
  ck_assert_str_eq(e.lc.last_error, lvpn__tls_last_error(&e.cl));
  env_free(&e);
  /* without remote-cert-tls, mbedTLS takes anyExtendedKeyUsage */
  ck_assert_int_eq(handshake_client(&e, 0, "server-anyeku"), 0);
  env_free(&e);
}
END_TEST

static mbedtls_x509_crt *load_crt(const char *name) {
  static mbedtls_x509_crt crt;

  mbedtls_x509_crt_init(&crt);
  fake_crt_load(&crt, name);
  return &crt;
}

/* lvpn__tls_check_leaf() on fixture `name` gives `want`; its message is
 * left in msg. */
static void leaf_is(env_t *e, const char *name, int want, char *msg,
                    size_t len) {
  mbedtls_x509_crt *crt = load_crt(name);
  msg[0] = '\0';
  ck_assert_msg(lvpn__tls_check_leaf(&e->conf, crt, msg, len) == want, "%s: %s",
                name, msg);
  mbedtls_x509_crt_free(crt);
}

/* The leaf checks on certificates an mbedTLS server refuses to present
 * (clientAuth-only EKU), and on the others. */
START_TEST(test_engine_check_leaf) {
  static const struct {
    const char *crt;
    int want;
    const char *msg;
  } cases[] = {
      {"server.crt", 0, ""},
      {"server-clientauth.crt", LVPN_ECERT_EKU,
       "certificate rejected (O=layervpn test, CN=vpn-server): "
       "extendedKeyUsage is not serverAuth (has: TLS Web Client "
       "Authentication)"},
      {"server-noku.crt", LVPN_ECERT_KU,
       "certificate rejected (O=layervpn test, CN=vpn-server): "
       "remote-cert-tls server requires a keyUsage extension; the "
       "certificate has none"},
      {"client.crt", LVPN_ECERT_EKU, NULL},
      {"ca.crt", LVPN_ECERT_EKU,
       "certificate rejected (CN=layervpn Test CA): remote-cert-tls server "
       "requires extendedKeyUsage serverAuth; the certificate has no "
       "extendedKeyUsage"},
  };
  char msg[512];
  size_t i;
  env_t e;

  env_params(&e, "client.crt", "client.key");
  e.p.remote_cert_tls_server = 1;
  conf_ok(&e);
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    leaf_is(&e, cases[i].crt, cases[i].want, msg, sizeof(msg));
    if (cases[i].msg != NULL)
      ck_assert_str_eq(msg, cases[i].msg);
  }
  /* name checks need no remote-cert-tls */
  lvpn__tls_conf_free(&e.conf);
  e.p.remote_cert_tls_server = 0;
  e.p.verify_x509_name = "client";
  e.p.verify_x509_type = LVPN__X509_NAME_NAME_PREFIX;
  conf_ok(&e);
  leaf_is(&e, "client.crt", 0, msg, sizeof(msg));
  leaf_is(&e, "server-clientauth.crt", LVPN_ECERT_NAME, msg, sizeof(msg));
  env_free(&e);
}
END_TEST

START_TEST(test_engine_ku_missing) {
  env_t e;

  ck_assert_int_eq(handshake_client(&e, 1, "server-noku"), LVPN_ECERT_KU);
  ck_assert_ptr_nonnull(strstr(lvpn__tls_last_error(&e.cl), "keyUsage"));
  env_free(&e);
  /* without remote-cert-tls server the same certificate is fine */
  ck_assert_int_eq(handshake_client(&e, 0, "server-noku"), 0);
  env_free(&e);
}
END_TEST

START_TEST(test_engine_verify_x509_name) {
  static const struct {
    int type;
    const char *name;
    int want;
    const char *msg;
  } cases[] = {
      {LVPN__X509_NAME_NAME, "vpn-server", 0, NULL},
      {LVPN__X509_NAME_NAME, "vpn", LVPN_ECERT_NAME,
       "certificate rejected: verify-x509-name expected CN 'vpn', got "
       "'vpn-server'"},
      {LVPN__X509_NAME_NAME, "vpn-server2", LVPN_ECERT_NAME, NULL},
      {LVPN__X509_NAME_NAME_PREFIX, "vpn-", 0, NULL},
      {LVPN__X509_NAME_NAME_PREFIX, "vpx", LVPN_ECERT_NAME,
       "certificate rejected: verify-x509-name expected CN prefix 'vpx', "
       "got 'vpn-server'"},
      {LVPN__X509_NAME_SUBJECT, "O=layervpn test, CN=vpn-server", 0, NULL},
      {LVPN__X509_NAME_NONE, "O=layervpn test, CN=vpn-server", 0, NULL},
      {LVPN__X509_NAME_SUBJECT, "CN=vpn-server", LVPN_ECERT_NAME,
       "certificate rejected: verify-x509-name expected subject "
       "'CN=vpn-server', got 'O=layervpn test, CN=vpn-server'"},
  };
  size_t i;
  env_t e;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    env_params(&e, "client.crt", "client.key");
    e.p.remote_cert_tls_server = 1;
    e.p.verify_x509_type = cases[i].type;
    e.p.verify_x509_name = cases[i].name;
    ck_assert_msg(handshake_with(&e, "server") == cases[i].want, "case %zu", i);
    if (cases[i].msg != NULL)
      ck_assert_str_eq(lvpn__tls_last_error(&e.cl), cases[i].msg);
    env_free(&e);
  }
}
END_TEST

START_TEST(test_engine_server_rejects_client_cert) {
  env_t e;

  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server.crt", "server.key", "other-ca.crt");
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), LVPN_ETLS);
  ck_assert_ptr_nonnull(strstr(lvpn__tls_last_error(&e.cl), "alert"));
  env_free(&e);
}
END_TEST

static int conf_error(env_t *e, char *err, size_t errlen) {
  lvpn__tls_conf_t conf;
  int rc = lvpn__tls_conf_init(&conf, &e->p, err, errlen);
  if (rc == 0)
    lvpn__tls_conf_free(&conf);
  return rc;
}

START_TEST(test_engine_bad_pem) {
  static const char bad_crt[] =
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
      "-----END CERTIFICATE-----\n";
  static const char bad_key[] = "-----BEGIN PRIVATE KEY-----\n@@@@\n"
                                "-----END PRIVATE KEY-----\n";
  env_t e;
  char err[256];

  env_params(&e, "client.crt", "client.key");
  e.p.cert_pem = bad_crt;
  e.p.cert_len = sizeof(bad_crt);
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_EKEYFILE);
  ck_assert_msg(strncmp(err, "cannot parse 'cert': X509 - ", 28) == 0, "%s",
                err);
  e.p.cert_pem = e.cert.pem;
  e.p.cert_len = e.cert.len;
  e.p.key_pem = bad_key;
  e.p.key_len = sizeof(bad_key);
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_EKEYFILE);
  ck_assert_msg(strncmp(err, "cannot parse 'key': ", 20) == 0, "%s", err);
  e.p.key_pem = e.key.pem;
  e.p.key_len = e.key.len;
  e.p.ca_pem = "garbage";
  e.p.ca_len = 8;
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_EKEYFILE);
  ck_assert_msg(strncmp(err, "cannot parse 'ca': ", 19) == 0, "%s", err);
  e.p.ca_pem = e.ca.pem;
  e.p.ca_len = 0;
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_EKEYFILE);
  /* PEM without its NUL counted (strlen) is accepted */
  e.p.ca_len = strlen(e.ca.pem);
  e.p.cert_len = strlen(e.cert.pem);
  e.p.key_len = strlen(e.key.pem);
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), 0);
  /* missing pieces */
  e.p.key_pem = NULL;
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_ECONFIG);
  e.p.key_pem = e.key.pem;
  e.p.ca_pem = NULL;
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_ECONFIG);
  e.p.ca_pem = e.ca.pem;
  e.p.rng = NULL;
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_EINVAL);
  env_free(&e);
}
END_TEST

START_TEST(test_engine_key_cert_mismatch) {
  env_t e;
  fake_pem_t other = fake_pem_load("server.key");
  char err[256];

  env_params(&e, "client.crt", "client.key");
  e.p.key_pem = other.pem;
  e.p.key_len = other.len;
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_EKEYFILE);
  ck_assert_msg(strncmp(err, "'key' does not match 'cert': ", 29) == 0, "%s",
                err);
  free(other.pem);
  env_free(&e);
}
END_TEST

/* An EC client key becomes an ECDSA context at load, paired with the
 * certificate by its public key; lvpn__tls_conf_warm() (the wait for the
 * server's hello) completes the check, d·G == Q, which leaves the table of G
 * in the key's group so that the handshake's signature does not build it
 * again, and gives the CA's key a copy (doc/performance.md "Start-up");
 * with the conf's RNG and without one (a shared conf, as the client
 * builds). */
START_TEST(test_engine_ec_key_signs_in_its_group) {
  env_t e;
  lvpn__tls_conf_t conf;
  char err[256];
  int shared;

  for (shared = 0; shared <= 1; shared++) {
    env_params(&e, "client.crt", "client.key");
    if (shared) {
      e.p.shared = 1;
      e.p.rng = NULL;
      e.p.rng_ctx = NULL;
    }
    ck_assert_int_eq(lvpn__tls_conf_init(&conf, &e.p, err, sizeof(err)), 0);
    ck_assert_int_eq(mbedtls_pk_get_type(&conf.key), MBEDTLS_PK_ECDSA);
    ck_assert_ptr_null(mbedtls_pk_ec(conf.key)->grp.T); /* not at load */
    ck_assert_int_eq(mbedtls_pk_get_type(&conf.ca.pk), MBEDTLS_PK_ECKEY);
    ck_assert_int_eq(lvpn__tls_conf_warm(&conf, err, sizeof(err)), 0);
    ck_assert_int_eq(mbedtls_pk_get_type(&conf.ca.pk), MBEDTLS_PK_ECDSA);
    if (lvpn__ecverify_elsewhere(MBEDTLS_ECP_DP_SECP256R1)) {
      /* Nettle signs and verifies: no table anywhere */
      ck_assert(lvpn__ecsign_is_ours(&conf.key));
      ck_assert_ptr_null(mbedtls_pk_ec(conf.key)->grp.T);
      ck_assert_ptr_null(lvpn__tls_conf_g_table(&conf));
      ck_assert_ptr_null(mbedtls_pk_ec(conf.ca.pk)->grp.T);
      ck_assert_int_eq(lvpn__tls_conf_warm(&conf, err, sizeof(err)), 0);
      lvpn__tls_conf_free(&conf);
      env_free(&e);
      continue;
    }
    ck_assert(!lvpn__ecsign_is_ours(&conf.key));
    ck_assert_ptr_nonnull(mbedtls_pk_ec(conf.key)->grp.T);
    /* the CA's key verifies with a copy of that table */
    ck_assert_ptr_eq(lvpn__tls_conf_g_table(&conf),
                     &mbedtls_pk_ec(conf.key)->grp);
    {
      ck_assert_ptr_nonnull(mbedtls_pk_ec(conf.ca.pk)->grp.T);
      ck_assert_ptr_ne(mbedtls_pk_ec(conf.ca.pk)->grp.T,
                       mbedtls_pk_ec(conf.key)->grp.T);
      ck_assert_uint_eq(mbedtls_pk_ec(conf.ca.pk)->grp.T_size,
                        mbedtls_pk_ec(conf.key)->grp.T_size);
    }
    /* once per conf */
    ck_assert_int_eq(lvpn__tls_conf_warm(&conf, err, sizeof(err)), 0);
    lvpn__tls_conf_free(&conf);
    env_free(&e);
  }
}
END_TEST

/* A key file whose public key is the certificate's but whose private key
 * is another's (damaged): it passes the pairing at load, as OpenSSL's
 * X509_check_private_key would; lvpn__tls_conf_warm() finds it out, with
 * one clear error, and no session of that conf starts. */
START_TEST(test_engine_damaged_key_found_by_warm) {
  env_t e;
  fake_pem_t cl = fake_pem_load("client.key"), sv = fake_pem_load("server.key");
  mbedtls_pk_context a, b;
  unsigned char pem[2048];
  char err[256];

  mbedtls_pk_init(&a);
  mbedtls_pk_init(&b);
  ck_assert_int_eq(mbedtls_pk_parse_key(&a, (const unsigned char *)sv.pem,
                                        sv.len, NULL, 0),
                   0);
  ck_assert_int_eq(mbedtls_pk_parse_key(&b, (const unsigned char *)cl.pem,
                                        cl.len, NULL, 0),
                   0);
  ck_assert_int_eq(mbedtls_pk_ec(a)->grp.id, mbedtls_pk_ec(b)->grp.id);
  /* the server's private key with the client's public key */
  ck_assert_int_eq(mbedtls_ecp_copy(&mbedtls_pk_ec(a)->Q, &mbedtls_pk_ec(b)->Q),
                   0);
  ck_assert_int_eq(mbedtls_pk_write_key_pem(&a, pem, sizeof(pem)), 0);
  env_params(&e, "client.crt", "client.key");
  e.p.key_pem = (const char *)pem;
  e.p.key_len = strlen((const char *)pem) + 1;
  conf_ok(&e);
  ck_assert_int_eq(lvpn__tls_conf_warm(&e.conf, err, sizeof(err)),
                   LVPN_EKEYFILE);
  ck_assert_msg(strncmp(err, "'key' does not match 'cert': ", 29) == 0, "%s",
                err);
  /* said again to a later caller, and sessions refuse to start */
  err[0] = '\0';
  ck_assert_int_eq(lvpn__tls_conf_warm(&e.conf, err, sizeof(err)),
                   LVPN_EKEYFILE);
  ck_assert_msg(strstr(err, "damaged") != NULL, "%s", err);
  ck_assert_int_eq(lvpn__tls_init(&e.cl, &e.conf), LVPN_EKEYFILE);
  mbedtls_pk_free(&a);
  mbedtls_pk_free(&b);
  free(cl.pem);
  free(sv.pem);
  env_free(&e);
}
END_TEST

/* lvpn__tls_share_g_table(): a certificate's P-256 key given a copy of
 * the table still verifies what the private key signed, rejects what it
 * did not, and verifying does not build a table of its own; an RSA key,
 * another curve, a group with no table and a key already converted are
 * left as they are. */
START_TEST(test_engine_share_g_table) {
  env_t e;
  mbedtls_pk_context key;
  mbedtls_x509_crt *crt;
  mbedtls_ecp_group g256, g384, fresh;
  mbedtls_ecp_point r;
  mbedtls_mpi one;
  const mbedtls_ecp_group *g;
  const mbedtls_ecp_point *t;
  fake_pem_t pem;
  unsigned char hash[32], sig[MBEDTLS_ECDSA_MAX_LEN];
  size_t sig_len;
  int n;

  env_params(&e, "client.crt", "client.key");
  conf_ok(&e);
  /* a P-256 group with its table of G (the conf's key has none where
   * Nettle signs) */
  mbedtls_ecp_group_init(&g256);
  mbedtls_ecp_point_init(&r);
  mbedtls_mpi_init(&one);
  ck_assert_int_eq(mbedtls_mpi_lset(&one, 1), 0);
  ck_assert_int_eq(mbedtls_ecp_group_load(&g256, MBEDTLS_ECP_DP_SECP256R1), 0);
  ck_assert_int_eq(mbedtls_ecp_mul(&g256, &r, &one, &g256.G,
                                   mbedtls_ctr_drbg_random, &e.rng.drbg),
                   0);
  g = &g256;
  ck_assert_ptr_nonnull(g->T);

  /* what server.key signs */
  pem = fake_pem_load("server.key");
  mbedtls_pk_init(&key);
  ck_assert_int_eq(mbedtls_pk_parse_key(&key, (const unsigned char *)pem.pem,
                                        pem.len, NULL, 0),
                   0);
  memset(hash, 0x5a, sizeof(hash));
  ck_assert_int_eq(mbedtls_pk_sign(&key, MBEDTLS_MD_SHA256, hash, sizeof(hash),
                                   sig, &sig_len, mbedtls_ctr_drbg_random,
                                   &e.rng.drbg),
                   0);

  crt = load_crt("server.crt");
  ck_assert_int_eq(mbedtls_pk_get_type(&crt->pk), MBEDTLS_PK_ECKEY);
  ck_assert_int_eq(lvpn__tls_share_g_table(&crt->pk, g), 0);
  ck_assert_int_eq(mbedtls_pk_get_type(&crt->pk), MBEDTLS_PK_ECDSA);
  t = mbedtls_pk_ec(crt->pk)->grp.T;
  ck_assert_ptr_nonnull(t);
  ck_assert_ptr_ne(t, g->T);
  ck_assert_uint_eq(mbedtls_pk_ec(crt->pk)->grp.T_size, g->T_size);
  ck_assert_int_eq(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash,
                                     sizeof(hash), sig, sig_len),
                   0);
  ck_assert_ptr_eq(mbedtls_pk_ec(crt->pk)->grp.T, t); /* not rebuilt */
  hash[0] ^= 1;
  ck_assert_int_ne(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash,
                                     sizeof(hash), sig, sig_len),
                   0);
  hash[0] ^= 1;
  /* converted already: left alone */
  ck_assert_int_eq(lvpn__tls_share_g_table(&crt->pk, g), 0);
  ck_assert_ptr_eq(mbedtls_pk_ec(crt->pk)->grp.T, t);
  mbedtls_x509_crt_free(crt);

  /* another curve (a P-384 group with its table), no table, RSA */
  mbedtls_ecp_group_init(&g384);
  mbedtls_ecp_group_init(&fresh);
  ck_assert_int_eq(mbedtls_ecp_group_load(&g384, MBEDTLS_ECP_DP_SECP384R1), 0);
  ck_assert_int_eq(mbedtls_ecp_group_load(&fresh, MBEDTLS_ECP_DP_SECP256R1), 0);
  ck_assert_int_eq(mbedtls_ecp_mul(&g384, &r, &one, &g384.G,
                                   mbedtls_ctr_drbg_random, &e.rng.drbg),
                   0);
  ck_assert_ptr_nonnull(g384.T);
  crt = load_crt("server.crt");
  ck_assert_int_eq(lvpn__tls_share_g_table(&crt->pk, &g384), 0);
  ck_assert_int_eq(lvpn__tls_share_g_table(&crt->pk, &fresh), 0);
  ck_assert_int_eq(lvpn__tls_share_g_table(&crt->pk, NULL), 0);
  ck_assert_int_eq(mbedtls_pk_get_type(&crt->pk), MBEDTLS_PK_ECKEY);
  ck_assert_int_eq(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash,
                                     sizeof(hash), sig, sig_len),
                   0);
  mbedtls_x509_crt_free(crt);
  crt = load_crt("client-rsa.crt");
  ck_assert_int_eq(lvpn__tls_share_g_table(&crt->pk, g), 0);
  ck_assert_int_eq(mbedtls_pk_get_type(&crt->pk), MBEDTLS_PK_RSA);
  mbedtls_x509_crt_free(crt);

  mbedtls_mpi_free(&one);
  mbedtls_ecp_point_free(&r);
  mbedtls_ecp_group_free(&fresh);
  mbedtls_ecp_group_free(&g384);
  mbedtls_ecp_group_free(&g256);
  mbedtls_pk_free(&key);
  free(pem.pem);
  env_free(&e);

  /* a static ECDH suite among ours: the server's key stays an ECKEY
   * context (that key exchange wants one), and the handshake works */
  env_params(&e, "client.crt", "client.key");
  e.p.tls_cipher = "TLS-ECDH-ECDSA-WITH-AES-128-GCM-SHA256:"
                   "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256";
  ck_assert_int_eq(handshake_with(&e, "server"), 0);
  ck_assert_ptr_nonnull(mbedtls_ssl_get_peer_cert(&e.cl.ssl));
  ck_assert_int_eq(
      mbedtls_pk_get_type(&mbedtls_ssl_get_peer_cert(&e.cl.ssl)->pk),
      MBEDTLS_PK_ECKEY);
  env_free(&e);

  /* 'ca' with up to LVPN__TLS_SHARE_MAX_CA certificates: their keys get a
   * copy; a larger bundle: none does */
  for (n = LVPN__TLS_SHARE_MAX_CA; n <= LVPN__TLS_SHARE_MAX_CA + 1; n++) {
    size_t pem_len, k;
    char *bundle;
    env_params(&e, "client.crt", "client.key");
    pem_len = e.ca.len - 1; /* without the NUL */
    bundle = malloc(pem_len * (size_t)n + 1);
    ck_assert_ptr_nonnull(bundle);
    for (k = 0; k < (size_t)n; k++)
      memcpy(bundle + k * pem_len, e.ca.pem, pem_len);
    bundle[pem_len * (size_t)n] = '\0';
    e.p.ca_pem = bundle;
    e.p.ca_len = pem_len * (size_t)n + 1;
    conf_ok(&e);
    ck_assert_int_eq(lvpn__tls_conf_warm(&e.conf, e.err, sizeof(e.err)), 0);
    ck_assert_int_eq(mbedtls_pk_get_type(&e.conf.ca.pk),
                     n <= LVPN__TLS_SHARE_MAX_CA ? MBEDTLS_PK_ECDSA
                                                 : MBEDTLS_PK_ECKEY);
    env_free(&e);
    free(bundle);
  }
}
END_TEST

START_TEST(test_engine_tls_cipher_and_version) {
  static const struct {
    const char *list;
    const char *negotiated;
  } ok[] = {
      {"ECDHE-ECDSA-AES128-GCM-SHA256",
       "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
       "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256"},
      {"BOGUS-CIPHER:TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256",
       "TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256"},
      {"DEFAULT:!aNULL:@SECLEVEL=0", NULL}, /* keywords only: defaults */
  };
  size_t i;
  env_t e;
  char err[256];

  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    env_params(&e, "client.crt", "client.key");
    e.p.tls_cipher = ok[i].list;
    ck_assert_int_eq(handshake_with(&e, "server"), 0);
    if (ok[i].negotiated != NULL)
      ck_assert_str_eq(lvpn__tls_ciphersuite(&e.cl), ok[i].negotiated);
    else
      ck_assert_str_eq(suite_family(&e.cl), "TLS-ECDHE-ECDSA-WITH-");
    env_free(&e);
  }
  env_params(&e, "client.crt", "client.key");
  e.p.tls_cipher = "BOGUS-CIPHER:ALSO_BOGUS";
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_ECONFIG);
  ck_assert_ptr_nonnull(strstr(err, "BOGUS-CIPHER"));
  e.p.tls_cipher = NULL;
  e.p.tls_version_min = LVPN__TLS_VERSION_1_3;
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), LVPN_EUNSUPPORTED);
  e.p.tls_version_min = 0;
  ck_assert_int_eq(conf_error(&e, err, sizeof(err)), 0);
  env_free(&e);
}
END_TEST

/* One conf, several sessions (renegotiation = new full handshake). */
START_TEST(test_engine_conf_shared_by_sessions) {
  env_t e;
  lvpn__tls_session_t s2;
  fake_tls_peer_t sv2;
  uint8_t ms1[48], ms2[48];

  ck_assert_int_eq(handshake_client(&e, 0, "server"), 0);
  ck_assert_int_eq(lvpn__tls_get_export(&e.cl, ms1, NULL, NULL, NULL), 0);
  ck_assert_int_eq(lvpn__tls_init(&s2, &e.conf), 0);
  fake_tls_peer_init(&sv2, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(pump(&s2, &sv2, 700), 0);
  ck_assert_int_eq(lvpn__tls_get_export(&s2, ms2, NULL, NULL, NULL), 0);
  ck_assert_int_eq(memcmp(ms2, sv2.ms, 48), 0);
  ck_assert_int_ne(memcmp(ms1, ms2, 48), 0);
  /* the first session still works */
  client_to_server(&e, (const uint8_t *)"EXIT", 5);
  lvpn__tls_free(&s2);
  fake_tls_peer_free(&sv2);
  env_free(&e);
}
END_TEST

/* A conf built for several owners (`shared`) keeps no random generator or
 * logger: each session brings its own, and uses only its own. */
START_TEST(test_engine_conf_shared_between_owners) {
  env_t e;
  lvpn__tls_session_t s2;
  fake_tls_peer_t sv2;
  fake_rng_t rng2;
  logcap_t lc2;
  lvpn__logger_t log2;

  env_params(&e, "client.crt", "client.key");
  e.p.rng = NULL;
  e.p.rng_ctx = NULL;
  e.p.shared = 1;
  e.p.log = NULL;
  env_start(&e, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(lvpn__tls_step(&e.cl), LVPN_EINVAL); /* no generator */
  ck_assert_str_eq(lvpn__tls_last_error(&e.cl), "no random generator");
  lvpn__tls_free(&e.cl);
  ck_assert_int_eq(lvpn__tls_init(&e.cl, &e.conf), 0);
  lvpn__tls_use(&e.cl, mbedtls_ctr_drbg_random, &e.rng.drbg, &e.log);

  fake_rng_init(&rng2);
  memset(&lc2, 0, sizeof(lc2));
  memset(&log2, 0, sizeof(log2));
  log2.cb = log_cb;
  log2.ud = &lc2;
  log2.verb = LVPN_LOG_TRACE;
  ck_assert_int_eq(lvpn__tls_init(&s2, &e.conf), 0);
  lvpn__tls_use(&s2, mbedtls_ctr_drbg_random, &rng2.drbg, &log2);
  fake_tls_peer_init(&sv2, "server.crt", "server.key", "ca.crt");
  /* the second handshake runs between two steps of the first */
  ck_assert_int_eq(lvpn__tls_step(&e.cl), 0);
  ck_assert_int_eq(pump(&s2, &sv2, 700), 0);
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
  assert_exports_match(&e);
  ck_assert_int_eq(e.lc.verify_ok, 2);
  ck_assert_int_eq(lc2.verify_ok, 2);
  records_flow(&e, 4096);
  lvpn__tls_free(&s2);
  fake_tls_peer_free(&sv2);
  fake_rng_free(&rng2);
  env_free(&e);
}
END_TEST

/* Whole pages of mbedTLS's record buffers resident in [p, p + len). */
static size_t resident_pages(const unsigned char *p, size_t len) {
  uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), a;
  uintptr_t lo = ((uintptr_t)p + pg - 1) & ~(pg - 1);
  uintptr_t hi = ((uintptr_t)p + len) & ~(pg - 1);
  unsigned char v;
  size_t n = 0;

  for (a = lo; a < hi; a += pg)
    if (mincore((void *)a, (size_t)pg, &v) == 0 && (v & 1))
      n++;
  return n;
}

/* Once the handshake is done and no record is pending, the idle pages of
 * the two 16 KiB record buffers go back to the kernel; a full-size record
 * still fits afterwards, and the sequence numbers carry on. */
START_TEST(test_engine_idle_record_buffers_released) {
  static uint8_t big[16000], got[16000];
  env_t e;
  const uint8_t *d;
  size_t n, have = 0;
  int rc;

  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
  ck_assert_uint_eq(resident_pages(e.cl.ssl.in_buf + 8,
                                   MBEDTLS_SSL_IN_BUFFER_LEN - 8), 0);
  ck_assert_uint_eq(resident_pages(e.cl.ssl.out_buf + 8,
                                   MBEDTLS_SSL_OUT_BUFFER_LEN - 8), 0);
  memset(big, 'b', sizeof(big));
  fake_tls_peer_write(&e.sv, big, sizeof(big));
  while ((n = fake_tls_peer_take(&e.sv, &d, 1000)) > 0) {
    ck_assert_int_eq(lvpn__tls_feed(&e.cl, d, n), 0);
    while ((rc = lvpn__tls_read(&e.cl, got + have, 1024)) > 0)
      have += (size_t)rc;
    ck_assert_int_eq(rc, 0);
  }
  ck_assert_uint_eq(have, sizeof(big));
  ck_assert_int_eq(memcmp(got, big, sizeof(big)), 0);
  ck_assert_uint_eq(resident_pages(e.cl.ssl.in_buf + 8,
                                   MBEDTLS_SSL_IN_BUFFER_LEN - 8), 0);
  records_flow(&e, 100);
  records_flow(&e, 4096);
  env_free(&e);
}
END_TEST

START_TEST(test_engine_garbage_input) {
  env_t e;
  uint8_t junk[512];
  size_t i;
  static uint8_t lots[LVPN__TLS_MAX_BUFFERED];

  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(lvpn__tls_step(&e.cl), 0); /* ClientHello out */
  ck_assert_uint_gt(lvpn__tls_pending_output(&e.cl), 0);
  for (i = 0; i < sizeof(junk); i++)
    junk[i] = (uint8_t)(i * 37 + 11);
  ck_assert_int_eq(lvpn__tls_feed(&e.cl, junk, sizeof(junk)), 0);
  ck_assert_int_eq(lvpn__tls_step(&e.cl), LVPN_ETLS);
  ck_assert_str_ne(lvpn__tls_last_error(&e.cl), "");
  ck_assert_int_eq(lvpn__tls_feed(&e.cl, lots, sizeof(lots)), LVPN_ETOOBIG);
  env_free(&e);
}
END_TEST

/* ---- crl-verify, fingerprints, ns-cert-type, remote-cert-ku/-eku,
 * tls-cert-profile, encrypted keys (layers/tlssession/verify.c) ---- */

/* SHA1/SHA256 of a fixture certificate's DER. */
static void cert_hash(const char *name, int len, uint8_t out[32]) {
  mbedtls_x509_crt *crt = load_crt(name);
  ck_assert_int_eq(
      mbedtls_md(mbedtls_md_info_from_type(len == 20 ? MBEDTLS_MD_SHA1
                                                     : MBEDTLS_MD_SHA256),
                 crt->raw.p, crt->raw.len, out),
      0);
  mbedtls_x509_crt_free(crt);
}

START_TEST(test_tls_engine_crl_verify) {
  fake_pem_t crl = fake_pem_load("crl-revoked.pem");
  env_t e;

  env_params(&e, "client.crt", "client.key");
  e.p.crl_pem = crl.pem;
  e.p.crl_len = crl.len;
  ck_assert_int_eq(handshake_with(&e, "server"), LVPN_ECERT_REVOKED);
  ck_assert_ptr_nonnull(strstr(lvpn__tls_last_error(&e.cl), "revoked"));
  ck_assert_ptr_nonnull(strstr(lvpn__tls_last_error(&e.cl), "vpn-server"));
  env_free(&e);
  free(crl.pem);

  crl = fake_pem_load("crl-empty.pem");
  env_params(&e, "client.crt", "client.key");
  e.p.crl_pem = crl.pem;
  e.p.crl_len = crl.len;
  ck_assert_int_eq(handshake_with(&e, "server"), 0);
  ck_assert(lvpn__tls_handshake_done(&e.cl));
  env_free(&e);
  free(crl.pem);

  env_params(&e, "client.crt", "client.key");
  e.p.crl_pem = "not a crl";
  e.p.crl_len = 10;
  ck_assert_int_eq(lvpn__tls_conf_init(&e.conf, &e.p, e.err, sizeof(e.err)),
                   LVPN_EKEYFILE);
  ck_assert_ptr_nonnull(strstr(e.err, "cannot parse 'crl-verify'"));
  env_free(&e);
}
END_TEST

START_TEST(test_tls_engine_peer_fingerprint_without_ca) {
  uint8_t h[2][32];
  env_t e;

  memset(h[0], 0x5a, 32);
  cert_hash("server-other-ca.crt", 32, h[1]);
  /* no 'ca': the listed fingerprint is the trust anchor, even for a
   * certificate from a CA we do not know */
  env_params(&e, "client.crt", "client.key");
  e.p.ca_pem = NULL;
  e.p.ca_len = 0;
  e.p.hashes = (const uint8_t(*)[32])h;
  e.p.n_hashes = 2;
  e.p.hash_len = 32;
  e.p.hash_depth = 0;
  ck_assert_int_eq(handshake_with(&e, "server-other-ca"), 0);
  ck_assert(lvpn__tls_handshake_done(&e.cl));
  env_free(&e);

  /* another certificate: refused, with its fingerprint in the message */
  env_params(&e, "client.crt", "client.key");
  e.p.ca_pem = NULL;
  e.p.hashes = (const uint8_t(*)[32])h;
  e.p.n_hashes = 2;
  e.p.hash_len = 32;
  ck_assert_int_eq(handshake_with(&e, "server"), LVPN_ECERT_FINGERPRINT);
  ck_assert_ptr_nonnull(strstr(lvpn__tls_last_error(&e.cl),
                               "the server certificate's fingerprint"));
  env_free(&e);

  /* no 'ca' and no fingerprint: refused before any I/O */
  env_params(&e, "client.crt", "client.key");
  e.p.ca_pem = NULL;
  ck_assert_int_eq(lvpn__tls_conf_init(&e.conf, &e.p, e.err, sizeof(e.err)),
                   LVPN_ECONFIG);
  env_free(&e);
}
END_TEST

START_TEST(test_tls_engine_verify_hash_issuer) {
  uint8_t h[1][32];
  env_t e;

  cert_hash("ca.crt", 20, h[0]);
  env_params(&e, "client.crt", "client.key");
  e.p.hashes = (const uint8_t(*)[32])h;
  e.p.n_hashes = 1;
  e.p.hash_len = 20;
  e.p.hash_depth = 1;
  ck_assert_int_eq(handshake_with(&e, "server"), 0);
  env_free(&e);

  h[0][0] ^= 1;
  env_params(&e, "client.crt", "client.key");
  e.p.hashes = (const uint8_t(*)[32])h;
  e.p.n_hashes = 1;
  e.p.hash_len = 20;
  e.p.hash_depth = 1;
  ck_assert_int_eq(handshake_with(&e, "server"), LVPN_ECERT_FINGERPRINT);
  ck_assert_ptr_nonnull(strstr(lvpn__tls_last_error(&e.cl), "verify-hash"));
  env_free(&e);
}
END_TEST

START_TEST(test_tls_engine_leaf_ns_ku_eku) {
  static const uint16_t ku_ok[] = {0x20, 0x80}, ku_bad[] = {0x20, 0x04};
  char msg[512];
  env_t e;

  env_params(&e, "client.crt", "client.key");
  e.p.ns_cert_type = 1;
  conf_ok(&e);
  leaf_is(&e, "server.crt", LVPN_ECERT, msg, sizeof(msg));
  ck_assert_ptr_nonnull(strstr(msg, "ns-cert-type server requires"));
  lvpn__tls_conf_free(&e.conf);

  e.p.ns_cert_type = 0;
  e.p.ku_required = 1;
  e.p.ku = ku_ok; /* digitalSignature is set on server.crt */
  e.p.n_ku = 2;
  e.p.remote_cert_eku = "TLS Web Server Authentication";
  conf_ok(&e);
  leaf_is(&e, "server.crt", 0, msg, sizeof(msg));
  leaf_is(&e, "server-noku.crt", LVPN_ECERT_KU, msg, sizeof(msg));
  ck_assert_ptr_nonnull(strstr(msg, "remote-cert-ku requires a keyUsage"));
  lvpn__tls_conf_free(&e.conf);

  e.p.ku = ku_bad;
  e.p.remote_cert_eku = "1.3.6.1.5.5.7.3.1";
  conf_ok(&e);
  leaf_is(&e, "server.crt", LVPN_ECERT_KU, msg, sizeof(msg));
  ck_assert_ptr_nonnull(strstr(msg, "is none of remote-cert-ku 0020, 0004"));
  lvpn__tls_conf_free(&e.conf);

  e.p.ku_required = 0;
  e.p.remote_cert_eku = "1.3.6.1.5.5.7.3.2"; /* clientAuth, by OID */
  conf_ok(&e);
  leaf_is(&e, "server.crt", LVPN_ECERT_EKU, msg, sizeof(msg));
  ck_assert_str_eq(msg, "certificate rejected (O=layervpn test, "
                        "CN=vpn-server): extendedKeyUsage is not "
                        "1.3.6.1.5.5.7.3.2 (has: TLS Web Server "
                        "Authentication)");
  leaf_is(&e, "server-clientauth.crt", 0, msg, sizeof(msg));
  env_free(&e);
}
END_TEST

START_TEST(test_tls_engine_cert_profile_and_groups) {
  mbedtls_x509_crt_profile pr;
  static const int groups[] = {MBEDTLS_ECP_DP_SECP384R1,
                               MBEDTLS_ECP_DP_SECP256R1};
  env_t e;

  lvpn__tls_cert_profile(LVPN__TLS_PROFILE_PREFERRED, &pr);
  ck_assert_uint_eq(pr.rsa_min_bitlen, 2048);
  ck_assert_uint_eq(pr.allowed_mds & MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA1), 0);
  lvpn__tls_cert_profile(LVPN__TLS_PROFILE_LEGACY, &pr);
  ck_assert_uint_eq(pr.rsa_min_bitlen, 1024);
  ck_assert_uint_ne(pr.allowed_mds & MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA1), 0);
  lvpn__tls_cert_profile(LVPN__TLS_PROFILE_SUITEB, &pr);
  ck_assert_uint_eq(pr.allowed_pks,
                    mbedtls_x509_crt_profile_suiteb.allowed_pks);

  /* Suite B: the P-256/SHA-256 fixture chain passes */
  env_params(&e, "client.crt", "client.key");
  e.p.cert_profile = LVPN__TLS_PROFILE_SUITEB;
  e.p.groups = groups;
  e.p.n_groups = 2;
  ck_assert_int_eq(handshake_with(&e, "server"), 0);
  ck_assert_int_eq(e.conf.curves[0], MBEDTLS_ECP_DP_SECP384R1);
  ck_assert_int_eq(e.conf.curves[2], MBEDTLS_ECP_DP_NONE);
  env_free(&e);
}
END_TEST

START_TEST(test_tls_engine_encrypted_key) {
  fake_pem_t pass = fake_pem_load("client-enc.pass");
  env_t e;

  pass.pem[strcspn(pass.pem, "\n")] = '\0';
  env_params(&e, "client.crt", "client-enc.key");
  ck_assert_int_eq(lvpn__tls_conf_init(&e.conf, &e.p, e.err, sizeof(e.err)),
                   LVPN_EKEYFILE);
  ck_assert_str_eq(e.err, "cannot parse 'key': it is encrypted: give its "
                          "passphrase with 'askpass FILE'");
  e.p.key_password = "wrong";
  ck_assert_int_eq(lvpn__tls_conf_init(&e.conf, &e.p, e.err, sizeof(e.err)),
                   LVPN_EKEYFILE);
  ck_assert_ptr_nonnull(strstr(e.err, "cannot parse 'key': wrong passphrase "
                                      "('askpass') or an unsupported "
                                      "encryption"));
  e.p.key_password = pass.pem;
  ck_assert_int_eq(handshake_with(&e, "server"), 0);
  env_free(&e);
  free(pass.pem);
}
END_TEST

START_TEST(test_tls_engine_pkcs12_bundle) {
  fake_pem_t p12 = fake_pem_load("client.p12"),
             legacy = fake_pem_load("client-legacy.p12"),
             pass = fake_pem_load("client-enc.pass");
  lvpn__pkcs12_pem_t pem;
  unsigned char b64[8192];
  size_t n = 0;
  env_t e;

  pass.pem[strcspn(pass.pem, "\n")] = '\0';
  /* encrypted: the client asks for the passphrase (no askpass) */
  ck_assert_int_eq(lvpn__pkcs12_needs_pass(p12.pem, p12.len), 1);
  ck_assert_int_eq(lvpn__pkcs12_needs_pass("not a bundle", 12), 0);
  ck_assert_int_eq(lvpn__pkcs12_needs_pass(NULL, 0), 0);
  ck_assert_int_eq(
      lvpn__pkcs12_to_pem(p12.pem, p12.len, "nope", &pem, e.err, sizeof(e.err)),
      LVPN_EKEYFILE);
  ck_assert_ptr_nonnull(strstr(e.err, "cannot open 'pkcs12'"));
  ck_assert_ptr_null(pem.key);
  /* inline blocks hold base64 */
  ck_assert_int_eq(mbedtls_base64_encode(b64, sizeof(b64), &n,
                                         (const unsigned char *)p12.pem,
                                         p12.len),
                   0);
  ck_assert_int_eq(lvpn__pkcs12_needs_pass((const char *)b64, n), 1);
  ck_assert_int_eq(lvpn__pkcs12_to_pem((const char *)b64, n, pass.pem, &pem,
                                       e.err, sizeof(e.err)),
                   0);
  lvpn__pkcs12_pem_free(&pem);
  ck_assert_int_eq(lvpn__pkcs12_to_pem(p12.pem, p12.len, pass.pem, &pem, e.err,
                                       sizeof(e.err)),
                   0);
  ck_assert_ptr_nonnull(strstr(pem.cert, "BEGIN CERTIFICATE"));
  ck_assert_ptr_nonnull(strstr(pem.key, "BEGIN PRIVATE KEY"));
  ck_assert_ptr_nonnull(pem.ca);
  /* RC2-40 and 3DES (older exports): opened through the legacy provider */
  lvpn__pkcs12_pem_free(&pem);
  ck_assert_int_eq(lvpn__pkcs12_to_pem(legacy.pem, legacy.len, pass.pem, &pem,
                                       e.err, sizeof(e.err)),
                   0);
  ck_assert_ptr_nonnull(strstr(pem.key, "BEGIN PRIVATE KEY"));
  ck_assert_ptr_nonnull(pem.ca);
  /* what the client does with it: key, cert and CA from the bundle */
  env_params(&e, NULL, NULL);
  e.p.cert_pem = pem.cert;
  e.p.cert_len = strlen(pem.cert) + 1;
  e.p.key_pem = pem.key;
  e.p.key_len = strlen(pem.key) + 1;
  e.p.ca_pem = pem.ca;
  e.p.ca_len = strlen(pem.ca) + 1;
  ck_assert_int_eq(handshake_with(&e, "server"), 0);
  env_free(&e);
  lvpn__pkcs12_pem_free(&pem);
  free(p12.pem);
  free(legacy.pem);
  free(pass.pem);
}
END_TEST

/* ---- the CA's signatures checked ahead (sigahead.c) ---- */

/* A fixture's DER, in `out` (asserts it fits). */
static size_t fixture_der(const char *name, uint8_t *out, size_t cap) {
  mbedtls_x509_crt crt;
  size_t n;
  mbedtls_x509_crt_init(&crt);
  fake_crt_load(&crt, name);
  n = crt.raw.len;
  ck_assert_uint_le(n, cap);
  memcpy(out, crt.raw.p, n);
  mbedtls_x509_crt_free(&crt);
  return n;
}

/* `der` with the first `from` in it replaced by `to` (same length). */
static void der_patch(uint8_t *der, size_t len, const char *from,
                      const char *to) {
  uint8_t *at = memmem(der, len, from, strlen(from));
  ck_assert_ptr_nonnull(at);
  ck_assert_uint_eq(strlen(from), strlen(to));
  memcpy(at, to, strlen(to));
}

/* The server's chain of an earlier start, checked ahead, leaves the CA's
 * signature on the same certificate verified for the handshake's chain
 * check (one hit); the session gives that chain back as it came, a second
 * session of the conf finds it too, and what the chain check logs and
 * keeps is what it was without the check ahead. */
START_TEST(test_engine_chain_checked_ahead) {
  env_t e;
  uint8_t der[4096], back[4096];
  size_t n;
  fake_tls_peer_t sv2;
  lvpn__tls_session_t cl2;

  n = fixture_der("server.crt", der, sizeof(der));
  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(mbedtls_pk_get_type(&e.conf.ca.pk), MBEDTLS_PK_ECDSA);
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, der, n), 0);
  ck_assert_uint_eq(lvpn__tls_conf_ahead_hits(&e.conf), 0);
  ck_assert_uint_eq(lvpn__tls_peer_chain_der(&e.cl, NULL, 0), 0);
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
  ck_assert(lvpn__tls_handshake_done(&e.cl));
  ck_assert_uint_eq(lvpn__tls_conf_ahead_hits(&e.conf), 1);
  ck_assert_str_eq(lvpn__tls_peer_cn(&e.cl), "vpn-server");
  ck_assert_int_eq(e.lc.verify_ok, 2); /* depth 1 and 0, as always */
  ck_assert_uint_eq(lvpn__tls_peer_chain_der(&e.cl, NULL, 0), n);
  ck_assert_uint_eq(lvpn__tls_peer_chain_der(&e.cl, back, sizeof(back)), n);
  ck_assert_int_eq(memcmp(back, der, n), 0);
  /* a later session of the conf (a renegotiation, a reconnection) */
  ck_assert_int_eq(lvpn__tls_init(&cl2, &e.conf), 0);
  fake_tls_peer_init(&sv2, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(pump(&cl2, &sv2, 4096), 0);
  ck_assert_uint_eq(lvpn__tls_conf_ahead_hits(&e.conf), 2);
  lvpn__tls_free(&cl2);
  fake_tls_peer_free(&sv2);
  env_free(&e);

  /* without a check ahead: the first session verifies, the second finds
   * what the first verified */
  env_params(&e, "client.crt", "client.key");
  ck_assert_int_eq(handshake_with(&e, "server"), 0);
  ck_assert_uint_eq(lvpn__tls_conf_ahead_hits(&e.conf), 0);
  ck_assert_int_eq(lvpn__tls_init(&cl2, &e.conf), 0);
  fake_tls_peer_init(&sv2, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(pump(&cl2, &sv2, 4096), 0);
  ck_assert_uint_eq(lvpn__tls_conf_ahead_hits(&e.conf), 1);
  lvpn__tls_free(&cl2);
  fake_tls_peer_free(&sv2);
  env_free(&e);
}
END_TEST

/* Nothing is trusted from a chain checked ahead: a forged certificate
 * (the real one's signature over another name, the same key) is refused
 * as untrusted, an expired one as expired; a chain that fails its check
 * ahead (a bad signature, another CA) leaves nothing behind; what is not
 * a chain is said so. */
START_TEST(test_engine_check_ahead_trusts_nothing) {
  env_t e;
  uint8_t der[4096], bad[4096];
  size_t n, m;

  n = fixture_der("server.crt", der, sizeof(der));

  /* the forged certificate: the server sends it with its own key */
  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server.crt", "server.key", "ca.crt");
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, der, n), 0);
  memcpy(bad, der, n);
  der_patch(bad, n, "vpn-server", "vpn-servex");
  mbedtls_x509_crt_free(&e.sv.cert);
  mbedtls_x509_crt_init(&e.sv.cert);
  ck_assert_int_eq(mbedtls_x509_crt_parse_der(&e.sv.cert, bad, n), 0);
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), LVPN_ECERT_UNTRUSTED);
  ck_assert_uint_eq(lvpn__tls_conf_ahead_hits(&e.conf), 0);
  ck_assert_uint_eq(lvpn__tls_peer_chain_der(&e.cl, NULL, 0), 0);
  env_free(&e);

  /* the real chain ahead, an expired certificate of the same CA sent */
  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server-expired.crt", "server-expired.key", "ca.crt");
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, der, n), 0);
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), LVPN_ECERT_EXPIRED);
  env_free(&e);

  /* a bad signature ahead: refused, nothing kept; the real chain then
   * verifies in full */
  env_params(&e, "client.crt", "client.key");
  env_start(&e, "server.crt", "server.key", "ca.crt");
  memcpy(bad, der, n);
  bad[n - 8] ^= 0x01; /* in the signature's s */
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, bad, n), LVPN_ECERT);
  m = fixture_der("server-other-ca.crt", bad, sizeof(bad));
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, bad, m), LVPN_ECERT);
  ck_assert_int_eq(pump(&e.cl, &e.sv, 4096), 0);
  ck_assert_uint_eq(lvpn__tls_conf_ahead_hits(&e.conf), 0);
  /* not chains: garbage, a cut certificate, a chain with a tail */
  memset(bad, 0x30, 64);
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, bad, 64), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, der, n - 1),
                   LVPN_EINVAL);
  memcpy(bad, der, n);
  bad[n] = 0x00;
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, bad, n + 1),
                   LVPN_EINVAL);
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, der, 0), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__tls_conf_check_ahead(&e.conf, NULL, 5), LVPN_EINVAL);
  env_free(&e);
}
END_TEST

/* A CA key made by lvpn__tls_ca_key_prepare(): it verifies what the CA
 * signed and nothing else, answers the same (hash, signature) from what it
 * remembers, never a failure, keeps the last LVPN__TLS_AHEAD_MAX, and has
 * a copy of the table of G it was given; other keys are left alone. */
START_TEST(test_engine_ca_key_remembers) {
  env_t e;
  mbedtls_pk_context key;
  mbedtls_x509_crt *crt;
  fake_pem_t pem;
  unsigned char hash[LVPN__TLS_AHEAD_MAX + 1][32];
  unsigned char sig[LVPN__TLS_AHEAD_MAX + 1][MBEDTLS_ECDSA_MAX_LEN];
  size_t sig_len[LVPN__TLS_AHEAD_MAX + 1];
  const mbedtls_ecp_group *g;
  int i;

  env_params(&e, "client.crt", "client.key");
  conf_ok(&e);
  ck_assert_int_eq(lvpn__tls_conf_warm(&e.conf, e.err, sizeof(e.err)), 0);
  g = lvpn__tls_conf_g_table(&e.conf);
  pem = fake_pem_load("ca.key");
  mbedtls_pk_init(&key);
  ck_assert_int_eq(mbedtls_pk_parse_key(&key, (const unsigned char *)pem.pem,
                                        pem.len, NULL, 0),
                   0);
  for (i = 0; i <= LVPN__TLS_AHEAD_MAX; i++) {
    memset(hash[i], 0x40 + i, sizeof(hash[i]));
    ck_assert_int_eq(mbedtls_pk_sign(&key, MBEDTLS_MD_SHA256, hash[i], 32,
                                     sig[i], &sig_len[i],
                                     mbedtls_ctr_drbg_random, &e.rng.drbg),
                     0);
  }
  crt = load_crt("ca.crt");
  ck_assert_int_eq(lvpn__tls_ca_key_prepare(&crt->pk, g), 0);
  ck_assert_int_eq(mbedtls_pk_get_type(&crt->pk), MBEDTLS_PK_ECDSA);
  ck_assert(mbedtls_pk_can_do(&crt->pk, MBEDTLS_PK_ECDSA));
  ck_assert_uint_eq(mbedtls_pk_get_bitlen(&crt->pk), 256);
  if (lvpn__ecverify_elsewhere(MBEDTLS_ECP_DP_SECP256R1)) {
    ck_assert_ptr_null(mbedtls_pk_ec(crt->pk)->grp.T);
  } else {
    ck_assert_ptr_nonnull(mbedtls_pk_ec(crt->pk)->grp.T);
    ck_assert_ptr_ne(mbedtls_pk_ec(crt->pk)->grp.T, g->T);
  }
  ck_assert_int_ne(mbedtls_pk_sign(&crt->pk, MBEDTLS_MD_SHA256, hash[0], 32,
                                   sig[0], &sig_len[0],
                                   mbedtls_ctr_drbg_random, &e.rng.drbg),
                   0); /* a public key */
  ck_assert_int_eq(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash[0], 32,
                                     sig[0], sig_len[0]),
                   0);
  ck_assert_uint_eq(lvpn__tls_ca_key_hits(&crt->pk), 0);
  ck_assert_int_eq(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash[0], 32,
                                     sig[0], sig_len[0]),
                   0);
  ck_assert_uint_eq(lvpn__tls_ca_key_hits(&crt->pk), 1);
  /* the same hash with another signature, or another digest's name */
  ck_assert_int_ne(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash[0], 32,
                                     sig[1], sig_len[1]),
                   0);
  hash[0][31] ^= 1;
  ck_assert_int_ne(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash[0], 32,
                                     sig[0], sig_len[0]),
                   0);
  ck_assert_int_ne(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash[0], 32,
                                     sig[0], sig_len[0]),
                   0); /* a failure is not remembered either way */
  hash[0][31] ^= 1;
  ck_assert_uint_eq(lvpn__tls_ca_key_hits(&crt->pk), 1);
  /* a signature with trailing bytes: refused as mbedTLS's own ECDSA
   * context refuses it */
  sig[0][sig_len[0]] = 0;
  {
    mbedtls_pk_context plain;
    mbedtls_pk_init(&plain);
    ck_assert_int_eq(mbedtls_pk_setup(&plain, mbedtls_pk_info_from_type(
                                                  MBEDTLS_PK_ECDSA)),
                     0);
    ck_assert_int_eq(mbedtls_ecdsa_from_keypair(mbedtls_pk_ec(plain),
                                                mbedtls_pk_ec(crt->pk)),
                     0);
    ck_assert_int_eq(
        mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash[0], 32, sig[0],
                          sig_len[0] + 1),
        mbedtls_pk_verify(&plain, MBEDTLS_MD_SHA256, hash[0], 32, sig[0],
                          sig_len[0] + 1));
    ck_assert_int_ne(mbedtls_pk_verify(&plain, MBEDTLS_MD_SHA256, hash[0], 32,
                                       sig[0], sig_len[0] + 1),
                     0);
    mbedtls_pk_free(&plain);
  }
  /* the last LVPN__TLS_AHEAD_MAX: the first is forgotten */
  for (i = 1; i <= LVPN__TLS_AHEAD_MAX; i++)
    ck_assert_int_eq(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash[i],
                                       32, sig[i], sig_len[i]),
                     0);
  ck_assert_uint_eq(lvpn__tls_ca_key_hits(&crt->pk), 1);
  ck_assert_int_eq(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash[0], 32,
                                     sig[0], sig_len[0]),
                   0);
  ck_assert_uint_eq(lvpn__tls_ca_key_hits(&crt->pk), 1);
  ck_assert_int_eq(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256,
                                     hash[LVPN__TLS_AHEAD_MAX], 32,
                                     sig[LVPN__TLS_AHEAD_MAX],
                                     sig_len[LVPN__TLS_AHEAD_MAX]),
                   0);
  ck_assert_uint_eq(lvpn__tls_ca_key_hits(&crt->pk), 2);
  mbedtls_x509_crt_free(crt);

  /* no table given: still remembers; mbedTLS builds its own table once
   * (libgcrypt needs none) */
  crt = load_crt("ca.crt");
  ck_assert_int_eq(lvpn__tls_ca_key_prepare(&crt->pk, NULL), 0);
  ck_assert_ptr_null(mbedtls_pk_ec(crt->pk)->grp.T);
  ck_assert_int_eq(mbedtls_pk_verify(&crt->pk, MBEDTLS_MD_SHA256, hash[1], 32,
                                     sig[1], sig_len[1]),
                   0);
  if (lvpn__ecverify_elsewhere(MBEDTLS_ECP_DP_SECP256R1))
    ck_assert_ptr_null(mbedtls_pk_ec(crt->pk)->grp.T);
  else
    ck_assert_ptr_nonnull(mbedtls_pk_ec(crt->pk)->grp.T);
  mbedtls_x509_crt_free(crt);
  /* RSA: left alone, no hits */
  crt = load_crt("client-rsa.crt");
  ck_assert_int_eq(lvpn__tls_ca_key_prepare(&crt->pk, g), 0);
  ck_assert_int_eq(mbedtls_pk_get_type(&crt->pk), MBEDTLS_PK_RSA);
  ck_assert_uint_eq(lvpn__tls_ca_key_hits(&crt->pk), 0);
  mbedtls_x509_crt_free(crt);

  mbedtls_pk_free(&key);
  free(pem.pem);
  env_free(&e);
}
END_TEST

/* x25519.h against RFC 7748's vectors (section 5.2: scalars that need
 * clamping, a u-coordinate with its top bit set; section 6.1: both public
 * keys and the shared secret), and its refusal of an all-zero result. In
 * a build --without-nettle there is none: mbedTLS does X25519 itself. */
START_TEST(test_engine_x25519_vectors) {
  static const char *const mul[][3] = {
      {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
       "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
       "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
      {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
       "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
       "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
      {"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
       "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
       "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
      {"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
       "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
       "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"}};
  static const char *const pub[][2] = {
      {"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
       "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"},
      {"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
       "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"}};
  uint8_t k[32], u[32], out[32];
  size_t i;

  if (!lvpn__x25519_available()) {
#ifndef LVPN_HS_NETTLE
    return;
#else
    ck_abort_msg("this build's X25519 library is not available");
#endif
  }
  for (i = 0; i < sizeof(mul) / sizeof(mul[0]); i++) {
    fake_unhex(mul[i][0], k, sizeof(k));
    fake_unhex(mul[i][1], u, sizeof(u));
    ck_assert_int_eq(lvpn__x25519_shared(k, u, out), 0);
    fake_assert_hex(out, sizeof(out), mul[i][2]);
    /* the scalar is the caller's, left as it was */
    fake_assert_hex(k, sizeof(k), mul[i][0]);
  }
  for (i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
    fake_unhex(pub[i][0], k, sizeof(k));
    ck_assert_int_eq(lvpn__x25519_public(k, out), 0);
    fake_assert_hex(out, sizeof(out), pub[i][1]);
    ck_assert_uint_eq(k[0] & 7, 0); /* clamped in place */
    ck_assert_uint_eq(k[31] & 0xc0, 0x40);
  }
  /* small-order shares (0, 1) give all zeros: refused, nothing left in out */
  fake_unhex(mul[0][0], k, sizeof(k));
  for (i = 0; i < 2; i++) {
    memset(u, 0, sizeof(u));
    u[0] = (uint8_t)i;
    memset(out, 0xaa, sizeof(out));
    ck_assert_int_eq(lvpn__x25519_shared(k, u, out), LVPN_ETLS);
    fake_assert_hex(out, sizeof(out),
                    "0000000000000000000000000000000000000000000000000000000000"
                    "000000");
  }
}
END_TEST

/* A server that chooses X25519: our ClientKeyExchange comes from
 * x25519.h (not in the mbedTLS build), and both ends derive the same
 * master secret from it. The server's default choice (a NIST curve) stays
 * with mbedTLS. */
START_TEST(test_engine_handshake_x25519) {
  /* X25519 first; P-256 for the certificates' keys */
  static const mbedtls_ecp_group_id x25519_first[] = {
      MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE};
  env_t e;
  int round;

  for (round = 0; round < 2; round++) {
    env_params(&e, "client.crt", "client.key");
    env_start(&e, "server.crt", "server.key", "ca.crt");
    if (round == 0)
      mbedtls_ssl_conf_curves(&e.sv.conf, x25519_first);
    ck_assert_msg(pump(&e.cl, &e.sv, 4096) == 0, "round %d: %s (server %d)",
                  round, lvpn__tls_last_error(&e.cl), e.sv.hs_ret);
    ck_assert(lvpn__tls_handshake_done(&e.cl));
    ck_assert_str_eq(suite_family(&e.cl), "TLS-ECDHE-ECDSA-WITH-");
    ck_assert_int_eq(e.cl.kx_own, round == 0 ? lvpn__x25519_available() : 0);
    if (round == 0)
      ck_assert_int_eq(e.cl.kx_group, MBEDTLS_ECP_DP_CURVE25519);
    else
      ck_assert(e.cl.kx_group != 0 &&
                e.cl.kx_group != MBEDTLS_ECP_DP_CURVE25519);
    assert_exports_match(&e);
    env_free(&e);
  }
}
END_TEST

/* `sig` with its r written without the zero byte DER puts in front of an
 * r whose top bit is set: a negative INTEGER. Its length, or 0 when r has
 * no such byte. */
static size_t negative_r(const unsigned char *sig, size_t slen,
                         unsigned char *out) {
  size_t rlen = sig[3], hdr = slen > 130 ? 3 : 2; /* P-521: 30 81 LL */
  if (hdr == 3)
    rlen = sig[4];
  if (sig[hdr + 2] != 0)
    return 0;
  memcpy(out, sig, hdr + 1);
  out[hdr + 1] = (unsigned char)(rlen - 1);
  memcpy(out + hdr + 2, sig + hdr + 3, slen - hdr - 3);
  out[hdr - 1] = (unsigned char)(sig[hdr - 1] - 1);
  return slen - 1;
}

/* A DER ECDSA signature as DER wants it: SEQUENCE { INTEGER r, INTEGER s }
 * of the exact length, each integer positive and minimal (a leading zero
 * only before a byte with its top bit set). mbedTLS's parser reads
 * magnitudes and would not notice. */
static int der_sig_strict(const unsigned char *sig, size_t len) {
  size_t i, n, k;
  if (len < 8 || sig[0] != 0x30)
    return 0;
  n = sig[1];
  i = 2;
  if (n == 0x81) { /* long form, one byte: P-521 */
    n = sig[2];
    i = 3;
    if (n < 0x80)
      return 0;
  } else if (n >= 0x80) {
    return 0;
  }
  if (i + n != len)
    return 0;
  for (k = 0; k < 2; k++) {
    size_t il;
    if (i + 2 > len || sig[i] != 0x02 || sig[i + 1] >= 0x80)
      return 0;
    il = sig[i + 1];
    i += 2;
    if (il == 0 || i + il > len || (sig[i] & 0x80) != 0 ||
        (il > 1 && sig[i] == 0 && (sig[i + 1] & 0x80) == 0))
      return 0;
    i += il;
  }
  return i == len;
}

static int rng_fails(void *ctx, unsigned char *buf, size_t len) {
  (void)ctx;
  memset(buf, 0xaa, len);
  return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

/* ecsign.h: a P-256, P-384 and P-521 key made Nettle's signs what
 * mbedTLS verifies under the same public key, for SHA-1 to SHA-512
 * hashes (longer than the order: cut to its leftmost bits), in strict DER,
 * with a fresh nonce each time; a changed hash does not verify; its check
 * passes, and fails for a private key that is not the public key's; a
 * failing RNG gives an error and no signature. A build without Nettle
 * leaves keys to mbedTLS. */
START_TEST(test_engine_ecsign_as_mbedtls) {
  static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_SECP256R1,
                                                MBEDTLS_ECP_DP_SECP384R1,
                                                MBEDTLS_ECP_DP_SECP521R1};
  static const size_t bits[] = {256, 384, 521};
  static const size_t hlens[] = {20, 32, 48, 64};
  fake_rng_t rng;
  size_t c, h, i;
  int high_r = 0;

  fake_rng_init(&rng);
  for (c = 0; c < 3; c++) {
    mbedtls_pk_context key, other;
    mbedtls_ecdsa_context ref;
    unsigned char hash[64], sig[MBEDTLS_ECDSA_MAX_LEN], last[2][8];
    size_t slen;

    mbedtls_pk_init(&key);
    mbedtls_pk_init(&other);
    mbedtls_ecdsa_init(&ref);
    ck_assert_int_eq(
        mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)),
        0);
    ck_assert_int_eq(mbedtls_ecp_gen_key(curves[c], mbedtls_pk_ec(key),
                                         mbedtls_ctr_drbg_random, &rng.drbg),
                     0);
    ck_assert_int_eq(mbedtls_ecdsa_from_keypair(&ref, mbedtls_pk_ec(key)), 0);
    if (!lvpn__ecverify_elsewhere(curves[c])) { /* built --without-nettle */
#ifdef LVPN_HS_NETTLE
      ck_abort_msg("Nettle does not sign on curve %zu", c);
#endif
      ck_assert_int_eq(lvpn__ecsign_prepare(&key), LVPN__ECSIGN_NOT_HERE);
      ck_assert_int_eq(mbedtls_pk_get_type(&key), MBEDTLS_PK_ECKEY);
      mbedtls_ecdsa_free(&ref);
      mbedtls_pk_free(&key);
      continue;
    }
    ck_assert_int_eq(lvpn__ecsign_prepare(&key), 0);
    ck_assert(lvpn__ecsign_is_ours(&key));
    ck_assert_int_eq(mbedtls_pk_get_type(&key), MBEDTLS_PK_ECDSA);
    ck_assert(mbedtls_pk_can_do(&key, MBEDTLS_PK_ECDSA));
    ck_assert_uint_eq(mbedtls_pk_get_bitlen(&key), bits[c]);
    ck_assert_int_eq(mbedtls_ecp_point_cmp(&mbedtls_pk_ec(key)->Q, &ref.Q), 0);
    ck_assert_int_eq(lvpn__ecsign_check(&key), 0);
    for (h = 0; h < 4; h++)
      for (i = 0; i < 8; i++) {
        ck_assert_int_eq(mbedtls_ctr_drbg_random(&rng.drbg, hash, hlens[h]),
                         0);
        if (i == 0)
          memset(hash, 0, 2); /* leading zero bytes */
        ck_assert_int_eq(mbedtls_pk_sign(&key, MBEDTLS_MD_NONE, hash,
                                         hlens[h], sig, &slen,
                                         mbedtls_ctr_drbg_random, &rng.drbg),
                         0);
        ck_assert_msg(der_sig_strict(sig, slen), "curve %zu: not strict DER",
                      c);
        /* r's first content byte is a zero (its top bit set) in about
         * half of them */
        high_r += sig[c == 2 ? 5 : 4] == 0;
        ck_assert_int_eq(
            mbedtls_ecdsa_read_signature(&ref, hash, hlens[h], sig, slen), 0);
        ck_assert_int_eq(mbedtls_pk_verify(&key, MBEDTLS_MD_NONE, hash,
                                           hlens[h], sig, slen),
                         0);
        memcpy(last[i % 2], sig + slen - 8, 8);
        if (i > 0) /* a fresh nonce: s differs every time */
          ck_assert(memcmp(last[0], last[1], 8) != 0);
        hash[0] ^= 0x80; /* within the leftmost bits, which count */
        ck_assert_int_ne(
            mbedtls_ecdsa_read_signature(&ref, hash, hlens[h], sig, slen), 0);
      }
    /* the RNG fails: an error, nothing signed */
    slen = 0;
    ck_assert_int_eq(mbedtls_pk_sign(&key, MBEDTLS_MD_NONE, hash, 32, sig,
                                     &slen, rng_fails, NULL),
                     MBEDTLS_ERR_ECP_RANDOM_FAILED);
    ck_assert_uint_eq(slen, 0);
    /* another private key under this public key: made, then found out */
    ck_assert_int_eq(
        mbedtls_pk_setup(&other, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)),
        0);
    ck_assert_int_eq(mbedtls_ecp_gen_key(curves[c], mbedtls_pk_ec(other),
                                         mbedtls_ctr_drbg_random, &rng.drbg),
                     0);
    ck_assert_int_eq(mbedtls_ecp_copy(&mbedtls_pk_ec(other)->Q, &ref.Q), 0);
    ck_assert_int_eq(lvpn__ecsign_prepare(&other), 0);
    ck_assert_int_eq(lvpn__ecsign_check(&other), MBEDTLS_ERR_PK_BAD_INPUT_DATA);
    mbedtls_pk_free(&other);
    mbedtls_ecdsa_free(&ref);
    mbedtls_pk_free(&key);
  }
#ifdef LVPN_HS_NETTLE
  ck_assert_int_gt(high_r, 10);
  ck_assert_int_lt(high_r, 86);
#endif
  /* not an EC key: left as it is */
  {
    mbedtls_pk_context rsa;
    fake_pem_t pem = fake_pem_load("client-rsa.key");
    mbedtls_pk_init(&rsa);
    ck_assert_int_eq(mbedtls_pk_parse_key(&rsa, (const unsigned char *)pem.pem,
                                          pem.len, NULL, 0),
                     0);
    ck_assert_int_eq(lvpn__ecsign_prepare(&rsa), LVPN__ECSIGN_NOT_HERE);
    ck_assert_int_eq(mbedtls_pk_get_type(&rsa), MBEDTLS_PK_RSA);
    ck_assert(!lvpn__ecsign_is_ours(&rsa));
    mbedtls_pk_free(&rsa);
    free(pem.pem);
  }
  fake_rng_free(&rng);
}
END_TEST

/* lvpn__ecverify() answers as mbedtls_ecdsa_read_signature() does, on
 * P-256, P-384 and P-521 with SHA-1 to SHA-512 (hashes longer than the
 * order are cut to its leftmost bits; hashes that start with zero bytes
 * too): the signature verifies; a changed hash, r or s does not; bytes
 * after the DER, a cut DER and a negative integer are refused. Where this
 * build has Nettle these curves go to Nettle. */
START_TEST(test_engine_ecverify_as_mbedtls) {
  static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_SECP256R1,
                                                MBEDTLS_ECP_DP_SECP384R1,
                                                MBEDTLS_ECP_DP_SECP521R1};
  static const size_t hlens[] = {20, 32, 48, 64};
  static const mbedtls_md_type_t mds[] = {MBEDTLS_MD_SHA1, MBEDTLS_MD_SHA256,
                                          MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA512};
  fake_rng_t rng;
  size_t c, h, z;
  int negatives = 0;

  fake_rng_init(&rng);
  for (c = 0; c < 3; c++) {
    mbedtls_ecdsa_context k;
    mbedtls_ecdsa_init(&k);
    ck_assert_int_eq(mbedtls_ecdsa_genkey(&k, curves[c],
                                          mbedtls_ctr_drbg_random, &rng.drbg),
                     0);
#ifdef LVPN_HS_NETTLE
    ck_assert_int_eq(lvpn__ecverify_elsewhere(curves[c]), 1); /* Nettle */
#else
    ck_assert_int_eq(lvpn__ecverify_elsewhere(curves[c]), 0); /* mbedTLS */
#endif
    for (h = 0; h < 4; h++)
      for (z = 0; z <= 2; z += 2) { /* z leading zero bytes */
        unsigned char hash[64], sig[MBEDTLS_ECDSA_MAX_LEN + 2];
        size_t slen;
        int want;
        memset(hash, 0, sizeof(hash));
        ck_assert_int_eq(mbedtls_ctr_drbg_random(&rng.drbg, hash + z,
                                                 hlens[h] - z),
                         0);
        ck_assert_int_eq(mbedtls_ecdsa_write_signature(
                             &k, mds[h], hash, hlens[h], sig, &slen,
                             mbedtls_ctr_drbg_random, &rng.drbg),
                         0);
        ck_assert_int_eq(lvpn__ecverify(&k, hash, hlens[h], sig, slen), 0);
        /* another hash: past the order's bits on P-256 with SHA-384/512
         * the byte changed is cut off, and both still say yes */
        hash[hlens[h] - 1] ^= 1;
        want = mbedtls_ecdsa_read_signature(&k, hash, hlens[h], sig, slen);
        ck_assert_int_eq(lvpn__ecverify(&k, hash, hlens[h], sig, slen), want);
        ck_assert_int_eq(want, (curves[c] == MBEDTLS_ECP_DP_SECP256R1 &&
                                hlens[h] > 32) ||
                                       (curves[c] == MBEDTLS_ECP_DP_SECP384R1 &&
                                        hlens[h] > 48)
                                   ? 0
                                   : MBEDTLS_ERR_ECP_VERIFY_FAILED);
        hash[hlens[h] - 1] ^= 1;
        hash[z] ^= 0x80; /* the leftmost bits count everywhere */
        ck_assert_int_eq(lvpn__ecverify(&k, hash, hlens[h], sig, slen),
                         MBEDTLS_ERR_ECP_VERIFY_FAILED);
        hash[z] ^= 0x80;
        /* s changed (its last byte) */
        sig[slen - 1] ^= 1;
        ck_assert_int_eq(lvpn__ecverify(&k, hash, hlens[h], sig, slen),
                         MBEDTLS_ERR_ECP_VERIFY_FAILED);
        sig[slen - 1] ^= 1;
        /* a byte after the DER, the DER cut short */
        sig[slen] = 0;
        ck_assert_int_eq(lvpn__ecverify(&k, hash, hlens[h], sig, slen + 1),
                         mbedtls_ecdsa_read_signature(&k, hash, hlens[h], sig,
                                                      slen + 1));
        ck_assert_int_ne(lvpn__ecverify(&k, hash, hlens[h], sig, slen + 1), 0);
        ck_assert_int_eq(lvpn__ecverify(&k, hash, hlens[h], sig, slen - 1),
                         mbedtls_ecdsa_read_signature(&k, hash, hlens[h], sig,
                                                      slen - 1));
        ck_assert_int_ne(lvpn__ecverify(&k, hash, hlens[h], sig, slen - 1), 0);
        /* r as a negative INTEGER: refused (mbedTLS reads its magnitude
         * and takes it) */
        {
          unsigned char neg[MBEDTLS_ECDSA_MAX_LEN];
          size_t nlen = negative_r(sig, slen, neg);
          if (nlen > 0) {
            ck_assert_int_eq(
                mbedtls_ecdsa_read_signature(&k, hash, hlens[h], neg, nlen), 0);
            ck_assert_int_eq(lvpn__ecverify(&k, hash, hlens[h], neg, nlen),
#ifdef LVPN_HS_NETTLE
                             MBEDTLS_ERR_ECP_VERIFY_FAILED
#else
                             0
#endif
            );
            negatives++;
          }
        }
      }
    mbedtls_ecdsa_free(&k);
  }
  ck_assert_int_gt(negatives, 0); /* half of all r have the zero byte */
  fake_rng_free(&rng);
}
END_TEST

LVPN_TEST_MAIN("tls_engine", 60, NULL, NULL, test_engine_handshake_ec,
               test_engine_x25519_vectors, test_engine_handshake_x25519,
               test_engine_ecverify_as_mbedtls, test_engine_ecsign_as_mbedtls,
               test_engine_chain_checked_after_our_flight,
               test_engine_handshake_rsa_client_key, test_engine_no_client_cert,
               test_engine_records_flow_both_ways, test_engine_byte_by_byte,
               test_engine_peer_close_and_alert, test_engine_untrusted_ca,
               test_engine_expired, test_engine_eku_without_server_auth,
               test_engine_check_leaf, test_engine_ku_missing,
               test_engine_verify_x509_name,
               test_engine_server_rejects_client_cert, test_engine_bad_pem,
               test_engine_key_cert_mismatch,
               test_engine_ec_key_signs_in_its_group,
               test_engine_share_g_table,
               test_engine_chain_checked_ahead,
               test_engine_check_ahead_trusts_nothing,
               test_engine_ca_key_remembers,
               test_engine_damaged_key_found_by_warm,
               test_engine_false_start,
               test_engine_tls_cipher_and_version,
               test_engine_conf_shared_by_sessions,
               test_engine_conf_shared_between_owners,
               test_engine_idle_record_buffers_released,
               test_engine_garbage_input,
               test_tls_engine_crl_verify,
               test_tls_engine_peer_fingerprint_without_ca,
               test_tls_engine_verify_hash_issuer,
               test_tls_engine_leaf_ns_ku_eku,
               test_tls_engine_cert_profile_and_groups,
               test_tls_engine_encrypted_key, test_tls_engine_pkcs12_bundle,
               test_certenv_formats)
