/* Shared test fakes: see fakes.h. */
#include "tests/fakes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "layervpn.h"

/* ---- runner ---- */

TCase *fake_tcase(Suite *s, const char *name, int timeout_s,
                  const TTest *const *tests) {
  TCase *tc = tcase_create(name);
  size_t i;

  if (timeout_s > 0)
    tcase_set_timeout(tc, timeout_s);
  for (i = 0; tests[i] != NULL; i++)
    tcase_add_test(tc, tests[i]);
  suite_add_tcase(s, tc);
  return tc;
}

int fake_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- a packet pool per test ---- */

lvpn__pbuf_pool_t fake_pool;

void fake_pool_setup(void) {
  lvpn__pbuf_pool_init(&fake_pool, 4);
}

void fake_pool_teardown(void) {
  ck_assert_uint_eq(fake_pool.outstanding, 0);
  lvpn__pbuf_pool_destroy(&fake_pool);
}

/* ---- loop ---- */

static void count_cb(uv_handle_t *h, void *arg) {
  (void)h;
  (*(int *)arg)++;
}

int fake_handles(uv_loop_t *loop) {
  int n = 0;
  uv_walk(loop, count_cb, &n);
  return n;
}

static void close_cb(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

void fake_close_all(uv_loop_t *loop) {
  uv_walk(loop, close_cb, NULL);
}

static void name_cb(uv_handle_t *h, void *arg) {
  char *names = arg;
  size_t len = strlen(names);
  snprintf(names + len, 256 - len, " %s%s", uv_handle_type_name(h->type),
           uv_is_closing(h) ? "(closing)" : "");
}

int fake_under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p != NULL && strstr(p, "vgpreload") != NULL;
}

void fake_loop_close(uv_loop_t *loop) {
  char names[256] = "";

  ck_assert_int_eq(uv_run(loop, UV_RUN_DEFAULT), 0);
  uv_walk(loop, name_cb, names);
  ck_assert_msg(names[0] == '\0', "handles left open:%s", names);
  ck_assert_int_eq(uv_loop_close(loop), 0);
}

/* ---- logger ---- */

static void log_discard(void *ud, int level, const char *layer,
                        const char *msg) {
  (void)ud;
  (void)level;
  (void)layer;
  (void)msg;
}

void fake_logger_init(lvpn__logger_t *log) {
  lvpn__logger_init(log);
  log->cb = log_discard;
  log->verb = LVPN_LOG_TRACE;
}

static void log_keep(void *ud, int level, const char *layer, const char *msg) {
  fake_log_t *l = ud;
  int r;

  (void)level;
  r = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s: %s\n", layer,
               msg);
  if (r > 0 && l->len + (size_t)r < sizeof(l->text))
    l->len += (size_t)r;
  l->lines++;
}

void fake_log_init(fake_log_t *l, int verb) {
  memset(l, 0, sizeof(*l));
  lvpn__logger_init(&l->log);
  l->log.cb = log_keep;
  l->log.ud = l;
  l->log.verb = verb;
}

void fake_log_assert(const fake_log_t *l, const char *needle) {
  if (strstr(l->text, needle) == NULL)
    ck_abort_msg("log lacks \"%s\":\n%s", needle, l->text);
}

/* ---- capture layer ---- */

void fake_cap_recv(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  fake_cap_t *c = container_of(l, fake_cap_t, base);
  if (c->n < FAKE_CAP_MAX)
    c->at[c->n] = uv_now(l->loop);
  c->n++;
  lvpn__pbufq_push(&c->got, p);
}

static const lvpn__layer_ops_t cap_ops = {.up = fake_cap_recv,
                                          .down = fake_cap_recv};

void fake_cap_init(fake_cap_t *c, uv_loop_t *loop, const char *name,
                   const lvpn__logger_t *log) {
  memset(c, 0, sizeof(*c));
  lvpn__layer_init(&c->base, loop, name, &cap_ops, log);
  lvpn__queue_init(&c->got);
}

lvpn__pbuf_t *fake_cap_pop(fake_cap_t *c) {
  return lvpn__pbufq_pop(&c->got);
}

void fake_cap_clear(fake_cap_t *c) {
  lvpn__pbufq_clear(&c->got);
}

/* ---- test environment ---- */

static void env_down(lvpn__workers_t *w, int err) {
  fake_env_t *e = w->data;
  e->down_calls++;
  e->down_err = err;
  e->down_at = uv_now(w->loop);
}

void fake_env_init(fake_env_t *e) {
  memset(e, 0, sizeof(*e));
  ck_assert_int_eq(uv_loop_init(&e->loop), 0);
  lvpn__pbuf_pool_init(&e->pool, 0);
  fake_logger_init(&e->log);
  lvpn__workers_init(&e->w, &e->loop, &e->log, env_down);
  e->w.data = e;
}

void fake_env_cap(fake_env_t *e, fake_cap_t *c, const char *name) {
  ck_assert_int_lt(e->ncaps, FAKE_ENV_CAPS);
  fake_cap_init(c, &e->loop, name, &e->log);
  e->caps[e->ncaps++] = c;
}

void fake_env_stack(fake_env_t *e, ...) {
  lvpn__layer_t *l, *prev = NULL;
  va_list ap;

  va_start(ap, e);
  while ((l = va_arg(ap, lvpn__layer_t *)) != NULL) {
    ck_assert_int_eq(lvpn__workers_add(&e->w, l), 0);
    if (prev != NULL)
      lvpn__layer_link(prev, l);
    prev = l;
  }
  va_end(ap);
}

void fake_env_start(fake_env_t *e) {
  ck_assert_int_eq(lvpn__workers_start(&e->w), 0);
  e->started = uv_now(&e->loop);
}

void fake_env_spin(fake_env_t *e, int turns) {
  int i;
  for (i = 0; i < turns; i++)
    uv_run(&e->loop, UV_RUN_NOWAIT);
}

void fake_env_run(fake_env_t *e) {
  ck_assert_int_eq(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
}

void fake_env_finish(fake_env_t *e, int want_err) {
  int i;

  lvpn__workers_shutdown(&e->w, 0);
  ck_assert_int_eq(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(e->down_calls, 1);
  ck_assert_msg(e->down_err == want_err, "down with %s, want %s",
                lvpn_err_name(e->down_err), lvpn_err_name(want_err));
  for (i = 0; i < e->ncaps; i++)
    fake_cap_clear(e->caps[i]);
  ck_assert_uint_eq(e->pool.outstanding, 0);
  lvpn__pbuf_pool_destroy(&e->pool);
  fake_loop_close(&e->loop);
}

typedef struct {
  const char *layer, *name;
  uint64_t value;
  int found;
} counter_q_t;

static void counter_cb(void *ud, const char *layer, const char *name,
                       uint64_t value) {
  counter_q_t *q = ud;
  ck_assert_str_eq(layer, q->layer);
  if (strcmp(name, q->name) == 0) {
    q->value = value;
    q->found++;
  }
}

uint64_t fake_counter(const lvpn__layer_t *layer, const char *layer_name,
                      const char *name) {
  counter_q_t q = {layer_name, name, 0, 0};
  layer->ops->counters(layer, counter_cb, &q);
  ck_assert_msg(q.found == 1, "counter %s", name);
  return q.value;
}

/* ---- bytes, keys and PEM ---- */

void fake_fill(uint8_t *out, size_t n, unsigned mul, unsigned add) {
  size_t i;
  for (i = 0; i < n; i++)
    out[i] = (uint8_t)(i * mul + add);
}

void fake_bad_each(void (*bad)(const char *text, int code, int line,
                               const char *msg),
                   const fake_bad_case_t *cases, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    bad(cases[i].text, cases[i].code, cases[i].line, cases[i].msg);
}

size_t fake_unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2, i;
  ck_assert_uint_le(n, cap);
  for (i = 0; i < n; i++) {
    unsigned v;
    ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
  return n;
}

void fake_assert_hex(const uint8_t *got, size_t n, const char *want_hex) {
  uint8_t want[256];
  ck_assert_uint_eq(fake_unhex(want_hex, want, sizeof(want)), n);
  ck_assert_mem_eq(got, want, n);
}

int fake_lcg_rng(void *ctx, unsigned char *out, size_t len) {
  uint32_t *s = ctx;
  size_t i;
  for (i = 0; i < len; i++) {
    *s = *s * 1664525u + 1013904223u;
    out[i] = (unsigned char)(*s >> 24);
  }
  return 0;
}

void fake_junk(uint32_t *x, uint8_t *out, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    *x = *x * 1103515245u + 12345u;
    out[i] = (uint8_t)(*x >> 16);
  }
}

void fake_rng_init(fake_rng_t *r) {
  mbedtls_entropy_init(&r->entropy);
  mbedtls_ctr_drbg_init(&r->drbg);
  ck_assert_int_eq(mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func,
                                         &r->entropy,
                                         (const unsigned char *)"t", 1),
                   0);
}

void fake_rng_free(fake_rng_t *r) {
  mbedtls_ctr_drbg_free(&r->drbg);
  mbedtls_entropy_free(&r->entropy);
}

#define STATIC_KEY_LEN 256

void fake_static_key_pem(char *out, size_t max, unsigned mul, unsigned add) {
  size_t off, i;
  off = (size_t)snprintf(out, max, "-----BEGIN OpenVPN Static key V1-----\n");
  for (i = 0; i < STATIC_KEY_LEN; i++)
    off += (size_t)snprintf(out + off, max - off, "%02x%s",
                            (unsigned)(uint8_t)(i * mul + add),
                            i % 16 == 15 ? "\n" : "");
  ck_assert_uint_lt(off, max);
  snprintf(out + off, max - off, "-----END OpenVPN Static key V1-----\n");
}

void fake_v2_client_key_pem(char *out, size_t max, unsigned mul, unsigned add,
                            size_t wkc_len) {
  unsigned char raw[STATIC_KEY_LEN + 1024], b64[2048];
  size_t n = STATIC_KEY_LEN + wkc_len, olen = 0;
  int len;

  ck_assert_uint_le(n, sizeof(raw));
  fake_fill(raw, n, mul, add);
  raw[n - 2] = (unsigned char)(wkc_len >> 8);
  raw[n - 1] = (unsigned char)(wkc_len & 0xff);
  ck_assert_int_eq(mbedtls_base64_encode(b64, sizeof(b64), &olen, raw, n), 0);
  len = snprintf(out, max,
                 "-----BEGIN OpenVPN tls-crypt-v2 client key-----\n%s\n"
                 "-----END OpenVPN tls-crypt-v2 client key-----\n",
                 (char *)b64);
  ck_assert_uint_lt((size_t)len, max);
}

fake_pem_t fake_pem_load(const char *name) {
  const char *dir = getenv("LVPN_SRCDIR");
  char path[1024];
  fake_pem_t f;
  FILE *fp;
  long n;

  snprintf(path, sizeof(path), "%s/tests/data/pki/%s", dir ? dir : ".", name);
  fp = fopen(path, "rb");
  ck_assert_msg(fp != NULL, "cannot open %s (set LVPN_SRCDIR)", path);
  fseek(fp, 0, SEEK_END);
  n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  f.pem = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(f.pem);
  ck_assert_uint_eq(fread(f.pem, 1, (size_t)n, fp), (size_t)n);
  fclose(fp);
  f.pem[n] = '\0';
  f.len = (size_t)n + 1; /* mbedTLS convention: the NUL counts */
  return f;
}

void fake_crt_load(mbedtls_x509_crt *crt, const char *name) {
  fake_pem_t f = fake_pem_load(name);
  ck_assert_int_eq(mbedtls_x509_crt_parse(crt, (void *)f.pem, f.len), 0);
  free(f.pem);
}

/* ---- in-memory TLS peer ---- */

static int peer_send(void *ctx, const unsigned char *buf, size_t len) {
  fake_tls_peer_t *p = ctx;
  ck_assert_uint_le(p->out_len + len, sizeof(p->out));
  memcpy(p->out + p->out_len, buf, len);
  p->out_len += len;
  return (int)len;
}

static int peer_recv(void *ctx, unsigned char *buf, size_t len) {
  fake_tls_peer_t *p = ctx;
  size_t n = p->in_len - p->in_off;
  if (n == 0)
    return MBEDTLS_ERR_SSL_WANT_READ;
  if (n > len)
    n = len;
  memcpy(buf, p->in + p->in_off, n);
  p->in_off += n;
  return (int)n;
}

static int peer_export(void *ctx, const unsigned char *ms,
                       const unsigned char *kb, size_t maclen, size_t keylen,
                       size_t ivlen, const unsigned char cr[32],
                       const unsigned char sr[32],
                       mbedtls_tls_prf_types prf_type) {
  fake_tls_peer_t *p = ctx;
  (void)kb;
  (void)maclen;
  (void)keylen;
  (void)ivlen;
  memcpy(p->ms, ms, 48);
  memcpy(p->cr, cr, 32);
  memcpy(p->sr, sr, 32);
  p->prf_type = (int)prf_type;
  p->have_export = 1;
  return 0;
}

void fake_tls_peer_init(fake_tls_peer_t *p, const char *cert, const char *key,
                        const char *client_ca) {
  fake_pem_t f;

  memset(p, 0, sizeof(*p));
  fake_rng_init(&p->rng);
  mbedtls_ssl_config_init(&p->conf);
  mbedtls_ssl_init(&p->ssl);
  mbedtls_x509_crt_init(&p->ca);
  mbedtls_x509_crt_init(&p->cert);
  mbedtls_pk_init(&p->key);
  fake_crt_load(&p->cert, cert);
  f = fake_pem_load(key);
  ck_assert_int_eq(mbedtls_pk_parse_key(&p->key, (void *)f.pem, f.len, NULL, 0),
                   0);
  free(f.pem);
  ck_assert_int_eq(mbedtls_ssl_config_defaults(&p->conf, MBEDTLS_SSL_IS_SERVER,
                                               MBEDTLS_SSL_TRANSPORT_STREAM,
                                               MBEDTLS_SSL_PRESET_DEFAULT),
                   0);
  mbedtls_ssl_conf_rng(&p->conf, mbedtls_ctr_drbg_random, &p->rng.drbg);
  ck_assert_int_eq(mbedtls_ssl_conf_own_cert(&p->conf, &p->cert, &p->key), 0);
  if (client_ca != NULL) {
    fake_crt_load(&p->ca, client_ca);
    mbedtls_ssl_conf_ca_chain(&p->conf, &p->ca, NULL);
    mbedtls_ssl_conf_authmode(&p->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  } else {
    mbedtls_ssl_conf_authmode(&p->conf, MBEDTLS_SSL_VERIFY_NONE);
  }
  mbedtls_ssl_conf_export_keys_ext_cb(&p->conf, peer_export, p);
  ck_assert_int_eq(mbedtls_ssl_setup(&p->ssl, &p->conf), 0);
  mbedtls_ssl_set_bio(&p->ssl, p, peer_send, peer_recv, NULL);
}

void fake_tls_peer_free(fake_tls_peer_t *p) {
  mbedtls_ssl_free(&p->ssl);
  mbedtls_ssl_config_free(&p->conf);
  mbedtls_x509_crt_free(&p->ca);
  mbedtls_x509_crt_free(&p->cert);
  mbedtls_pk_free(&p->key);
  fake_rng_free(&p->rng);
}

void fake_tls_peer_feed(fake_tls_peer_t *p, const void *data, size_t len) {
  ck_assert_uint_le(p->in_len + len, sizeof(p->in));
  memcpy(p->in + p->in_len, data, len);
  p->in_len += len;
}

int fake_tls_peer_handshake(fake_tls_peer_t *p) {
  int rc;

  if (p->done)
    return 1;
  if (p->hs_ret != 0)
    return p->hs_ret;
  rc = mbedtls_ssl_handshake(&p->ssl);
  if (rc == 0)
    p->done = 1;
  else if (rc != MBEDTLS_ERR_SSL_WANT_READ)
    p->hs_ret = rc;
  return p->done ? 1 : p->hs_ret;
}

void fake_tls_peer_write(fake_tls_peer_t *p, const void *buf, size_t len) {
  ck_assert_int_eq(mbedtls_ssl_write(&p->ssl, buf, len), (int)len);
}

size_t fake_tls_peer_take(fake_tls_peer_t *p, const uint8_t **data,
                          size_t max) {
  size_t n = p->out_len - p->out_off;

  if (n > max)
    n = max;
  *data = p->out + p->out_off;
  p->out_off += n;
  if (p->out_off == p->out_len)
    p->out_off = p->out_len = 0; /* the data stays until the next write */
  return n;
}
