/* Shared test fakes for the Check suites: one capture layer, one test
 * environment (loop, pbuf pool, logger, workers), a fake clock, key and PEM
 * builders, an in-memory TLS peer (an mbedTLS server over memory buffers)
 * and the runner every suite's main() uses. Fakes over mocks: each fake is
 * a small working thing a test drives, never a recording of expected calls.
 * Every failure inside a fake is a Check assertion of the calling test. */
#ifndef LVPN_TESTS_FAKES_H
#define LVPN_TESTS_FAKES_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "layers/layer.h"
#include "lib/log.h"
#include "lib/pbuf.h"

/* ---- runner ---- */

/* A test case named `name` in `s` holding `tests` (NULL-terminated), with a
 * timeout in seconds (0: Check's default). Returns it, for fixtures. */
TCase *fake_tcase(Suite *s, const char *name, int timeout_s,
                  const TTest *const *tests);

/* Runs `s`, frees it; the process exit status. */
int fake_run(Suite *s);

/* main() of a suite with one test case "core": a checked fixture (or NULL,
 * NULL), a function that adds more to the case (loop tests; or NULL), then
 * its tests. */
#define LVPN_TEST_MAIN_WITH(suite_name, timeout_s, setup, teardown, more, ...) \
  int main(void) {                                                             \
    const TTest *tests_[] = {__VA_ARGS__, NULL};                               \
    void (*more_)(TCase * tc) = more;                                          \
    Suite *s_ = suite_create(suite_name);                                      \
    TCase *tc_ = fake_tcase(s_, "core", timeout_s, tests_);                    \
    tcase_add_checked_fixture(tc_, setup, teardown);                           \
    if (more_ != NULL)                                                         \
      more_(tc_);                                                              \
    return fake_run(s_);                                                       \
  }

#define LVPN_TEST_MAIN(suite_name, timeout_s, setup, teardown, ...)            \
  LVPN_TEST_MAIN_WITH(suite_name, timeout_s, setup, teardown, NULL, __VA_ARGS__)

/* Elements of a static array. */
#define FAKE_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A table of configs that must fail: `bad` (the suite's own checker) is
 * called with each case's text, error code, line and message. */
typedef struct {
  const char *text;
  int code, line;
  const char *msg;
} fake_bad_case_t;
void fake_bad_each(void (*bad)(const char *text, int code, int line,
                               const char *msg),
                   const fake_bad_case_t *cases, size_t n);

/* ---- a packet pool per test ---- */

/* The checked fixture of the loop-free suites: a fresh `fake_pool` (a small
 * cache) for every test, and no packet left outstanding after it. */
extern lvpn__pbuf_pool_t fake_pool;
void fake_pool_setup(void);
void fake_pool_teardown(void);

/* ---- loop ---- */

/* Handles still known to the loop (open or closing). */
int fake_handles(uv_loop_t *loop);

/* Closes every handle of `loop` not already closing (the test's own
 * servers and timers; never a layer's, which the workers close). */
void fake_close_all(uv_loop_t *loop);

/* The end of every test that touched a loop: runs it until the pending
 * closes finished, fails naming any handle still open, then asserts
 * uv_loop_close() == 0. */
void fake_loop_close(uv_loop_t *loop);

/* 1 when the test runs under valgrind (its preload library is in
 * LD_PRELOAD): 20-50 times slower, so a test whose point is a timing of
 * the order of a millisecond may not reach it there. */
int fake_under_valgrind(void);

/* ---- logger ---- */

/* A logger at TRACE verbosity whose lines are formatted and discarded, so
 * every log statement runs. */
void fake_logger_init(lvpn__logger_t *log);

/* A logger that keeps its lines ("layer: message\n") for assertions. */
typedef struct {
  lvpn__logger_t log;
  char text[16384];
  size_t len;
  int lines;
} fake_log_t;

void fake_log_init(fake_log_t *l, int verb);

/* Fails, printing the log, when no line contains `needle`. */
void fake_log_assert(const fake_log_t *l, const char *needle);

/* ---- fake clock ---- */

/* Time for the loop-free modules that take `now` (ms) as an argument. */
typedef struct {
  uint64_t now;
} fake_clock_t;

static inline uint64_t fake_clock_advance(fake_clock_t *c, uint64_t ms) {
  c->now += ms;
  return c->now;
}

/* ---- capture layer ---- */

#define FAKE_CAP_MAX 64

/* A layer in place of a neighbour: keeps every packet it gets, from either
 * side, with the loop time of each arrival. What it captured outlives the
 * stack (a test may look after a failure); fake_cap_clear frees it. */
typedef struct {
  lvpn__layer_t base;
  lvpn__queue_t got;
  uint64_t at[FAKE_CAP_MAX]; /* loop time of the first arrivals */
  int n;                     /* arrivals so far */
} fake_cap_t;

void fake_cap_init(fake_cap_t *c, uv_loop_t *loop, const char *name,
                   const lvpn__logger_t *log);

/* Its up and down operation, for a test layer that captures one way. */
void fake_cap_recv(lvpn__layer_t *l, lvpn__pbuf_t *p);

/* The oldest captured packet (the caller owns it), or NULL. */
lvpn__pbuf_t *fake_cap_pop(fake_cap_t *c);

void fake_cap_clear(fake_cap_t *c);

/* ---- test environment ---- */

#define FAKE_ENV_CAPS 4

/* Loop, pool (no cache, so ASan sees reuse), logger and workers of a stack
 * under test. Embed it in the suite's environment. */
typedef struct {
  uv_loop_t loop;
  lvpn__workers_t w;
  lvpn__pbuf_pool_t pool;
  lvpn__logger_t log;
  fake_cap_t *caps[FAKE_ENV_CAPS]; /* cleared by fake_env_finish */
  int ncaps;
  int down_calls, down_err;
  uint64_t started, down_at; /* loop times of start and of the down call */
} fake_env_t;

/* Loop, pool, logger (fake_logger_init) and workers; no layer yet. */
void fake_env_init(fake_env_t *e);

/* Initialises `c` on the environment's loop; cleared at finish. */
void fake_env_cap(fake_env_t *e, fake_cap_t *c, const char *name);

/* Adds the layers (NULL-terminated, bottom first) to the workers and links
 * each to the next. */
void fake_env_stack(fake_env_t *e, ...);

/* Starts the workers and notes the start time. */
void fake_env_start(fake_env_t *e);

/* `turns` loop turns that do not block. */
void fake_env_spin(fake_env_t *e, int turns);

/* Runs the loop until nothing is left to do. */
void fake_env_run(fake_env_t *e);

/* Shuts the stack down, asserts it went down once with `want_err`, frees
 * what the capture layers hold, asserts no packet leaked and closes the
 * loop (fake_loop_close). */
void fake_env_finish(fake_env_t *e, int want_err);

/* A layer counter as lvpn_client_counters() would report it: `layer` must
 * report it exactly once, under the layer name `layer_name`. */
uint64_t fake_counter(const lvpn__layer_t *layer, const char *layer_name,
                      const char *name);

/* ---- bytes, keys and PEM ---- */

/* out[i] = i * mul + add: recognisable, deterministic bytes. */
void fake_fill(uint8_t *out, size_t n, unsigned mul, unsigned add);

/* Hex to bytes; asserts it fits `cap` and is hex. Returns the length. */
size_t fake_unhex(const char *hex, uint8_t *out, size_t cap);

/* Asserts `got` holds exactly the bytes of `want_hex`. */
void fake_assert_hex(const uint8_t *got, size_t n, const char *want_hex);

/* Deterministic "random" bytes (an LCG over *(uint32_t *)ctx), for IVs
 * and nonces where any bytes do. */
int fake_lcg_rng(void *ctx, unsigned char *out, size_t len);

/* `n` bytes of junk from the generator state *x (a classic LCG), so a
 * test replays the same junk every run. */
void fake_junk(uint32_t *x, uint8_t *out, size_t n);

/* A real DRBG for mbedTLS. */
typedef struct {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
} fake_rng_t;

void fake_rng_init(fake_rng_t *r);
void fake_rng_free(fake_rng_t *r);

/* An OpenVPN static key (2048 bits) whose byte i is i * mul + add. */
void fake_static_key_pem(char *out, size_t max, unsigned mul, unsigned add);

/* A tls-crypt-v2 client key: Kc (256 bytes) || WKc of `wkc_len` bytes
 * ending with its own length (u16 big-endian); byte i is i * mul + add. */
void fake_v2_client_key_pem(char *out, size_t max, unsigned mul, unsigned add,
                            size_t wkc_len);

/* A fixture of tests/data/pki (below $LVPN_SRCDIR), NUL-terminated; `len`
 * counts the NUL, as mbedTLS wants for PEM. The caller frees it. */
typedef struct {
  char *pem;
  size_t len;
} fake_pem_t;

fake_pem_t fake_pem_load(const char *name);

/* A certificate of tests/data/pki, parsed. Free with mbedtls_x509_crt_free. */
void fake_crt_load(mbedtls_x509_crt *crt, const char *name);

/* ---- in-memory TLS peer ---- */

/* An mbedTLS server whose transport is two memory buffers: `in` holds what
 * the client sent (appended with fake_tls_peer_feed), `out` what the server
 * wrote, from `out_off` on not yet taken by the test. */
typedef struct {
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  mbedtls_x509_crt ca, cert;
  mbedtls_pk_context key;
  fake_rng_t rng;
  uint8_t in[65536]; /* client -> server */
  size_t in_off, in_len;
  uint8_t out[65536]; /* server -> client */
  size_t out_off, out_len;
  int done;   /* handshake finished */
  int hs_ret; /* the handshake's error, once failed */
  /* the key export, to compare with the client's */
  int have_export, prf_type;
  uint8_t ms[48], cr[32], sr[32];
} fake_tls_peer_t;

/* A server with the fixtures `cert`/`key`, verifying the client's
 * certificate against `client_ca` (NULL: no client certificate asked). */
void fake_tls_peer_init(fake_tls_peer_t *p, const char *cert, const char *key,
                        const char *client_ca);
void fake_tls_peer_free(fake_tls_peer_t *p);

/* Bytes from the client. */
void fake_tls_peer_feed(fake_tls_peer_t *p, const void *data, size_t len);

/* Runs the server's handshake on what it has: 1 once done, 0 while it waits
 * for the client, or the mbedTLS error it failed with (kept in hs_ret). */
int fake_tls_peer_handshake(fake_tls_peer_t *p);

/* Writes one record of `len` bytes (asserts it all went). */
void fake_tls_peer_write(fake_tls_peer_t *p, const void *buf, size_t len);

/* Up to `max` bytes of the server's output not yet taken, or 0; the buffer
 * empties once everything was taken. */
size_t fake_tls_peer_take(fake_tls_peer_t *p, const uint8_t **data, size_t max);

/* An independent Internet checksum for the packet tests (RFC 1071, one
 * 16-bit word at a time): fake_sum16 adds the bytes to s, fake_csum_fold
 * folds and inverts the total. */
static inline uint32_t fake_sum16(const uint8_t *b, size_t n, uint32_t s) {
  size_t i;
  for (i = 0; i + 1 < n; i += 2)
    s += (uint32_t)b[i] << 8 | b[i + 1];
  if (n % 2)
    s += (uint32_t)b[n - 1] << 8;
  return s;
}

static inline uint16_t fake_csum_fold(uint32_t s) {
  while (s >> 16)
    s = (s & 0xFFFF) + (s >> 16);
  return (uint16_t)~s;
}

#endif
