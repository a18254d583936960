/* lib/: errors, packet buffers, queue, logging, libraries loaded on first
 * use. (config.h, included first, defines _GNU_SOURCE: dlinfo.) */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "layervpn.h"
#include "lib/dl.h"
#include "lib/log.h"
#include "lib/pbuf.h"
#include "lib/queue.h"
#include "tests/fakes.h"

START_TEST(test_error_names_and_texts) {
  ck_assert_str_eq(lvpn_err_name(LVPN_ECERT_EKU), "LVPN_ECERT_EKU");
  ck_assert_str_eq(lvpn_strerror(LVPN_ECERT_EKU),
                   "certificate rejected: extendedKeyUsage is not serverAuth");
  ck_assert_str_eq(lvpn_err_name(LVPN_EINVAL), "LVPN_EINVAL");
  ck_assert_str_eq(lvpn_err_name(LVPN_ESCRIPT), "LVPN_ESCRIPT");
  /* libuv codes pass through */
  ck_assert_str_eq(lvpn_err_name(UV_ECONNREFUSED), "ECONNREFUSED");
  ck_assert_str_eq(lvpn_strerror(0), "success");
  ck_assert_int_lt(LVPN_EINVAL, -4096);
}
END_TEST

START_TEST(test_error_every_code_has_text) {
  int e;
  for (e = LVPN__ERR_FIRST + 1; e < LVPN__ERR_LAST; e++) {
    ck_assert_ptr_nonnull(lvpn_strerror(e));
    ck_assert_int_eq(strncmp(lvpn_err_name(e), "LVPN_E", 6), 0);
  }
}
END_TEST

START_TEST(test_pbuf_push_pull_without_copy) {
  lvpn__pbuf_pool_t pool;
  lvpn__pbuf_t *p;
  uint8_t *payload, *h;

  lvpn__pbuf_pool_init(&pool, 4);
  p = lvpn__pbuf_alloc(&pool);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->len, 0);
  ck_assert_uint_eq(lvpn__pbuf_headroom(p), LVPN_PBUF_HEADROOM);
  payload = lvpn__pbuf_put(p, 5);
  memcpy(payload, "hello", 5);
  h = lvpn__pbuf_push(p, 3);
  memcpy(h, "ABC", 3);
  ck_assert_uint_eq(p->len, 8);
  ck_assert_int_eq(memcmp(p->data, "ABChello", 8), 0);
  ck_assert_ptr_eq(lvpn__pbuf_pull(p, 3), h);
  ck_assert_ptr_eq(p->data, payload); /* payload never moved */
  ck_assert_ptr_null(lvpn__pbuf_pull(p, 6));
  ck_assert_ptr_null(lvpn__pbuf_push(p, LVPN_PBUF_HEADROOM + 4));
  ck_assert_ptr_null(lvpn__pbuf_put(p, LVPN_PBUF_CAP));
  ck_assert_int_eq(lvpn__pbuf_trim(p, 2), 0);
  ck_assert_int_eq(memcmp(p->data, "hel", 3), 0);
  ck_assert_int_eq(lvpn__pbuf_trim(p, 4), -1);
  lvpn__pbuf_free(p);
  lvpn__pbuf_pool_destroy(&pool);
}
END_TEST

START_TEST(test_pbuf_pool_reuses_buffers) {
  lvpn__pbuf_pool_t pool;
  lvpn__pbuf_t *a, *b;
  int i;

  lvpn__pbuf_pool_init(&pool, 2);
  for (i = 0; i < 1000; i++) {
    a = lvpn__pbuf_alloc(&pool);
    b = lvpn__pbuf_alloc(&pool);
    lvpn__pbuf_free(a);
    lvpn__pbuf_free(b);
  }
  ck_assert_uint_eq(pool.allocs, 2); /* steady state: no heap traffic */
  ck_assert_uint_eq(pool.outstanding, 0);
  lvpn__pbuf_pool_destroy(&pool);
}
END_TEST

/* One pool per key (the clients of one loop), until its last holder. */
START_TEST(test_pbuf_pool_shared_per_key) {
  static const int k1 = 1, k2 = 2;
  lvpn__pbuf_pool_t *a = lvpn__pbuf_pool_share(&k1, 4);
  lvpn__pbuf_pool_t *b = lvpn__pbuf_pool_share(&k1, 4);
  lvpn__pbuf_pool_t *c = lvpn__pbuf_pool_share(&k2, 4);
  lvpn__pbuf_t *p;

  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_eq(a, b);
  ck_assert_ptr_ne(a, c);
  ck_assert_uint_eq(a->share_users, 2);
  p = lvpn__pbuf_alloc(a);
  lvpn__pbuf_free(p);
  lvpn__pbuf_pool_unshare(a); /* b still holds it, and its cached buffer */
  p = lvpn__pbuf_alloc(b);
  ck_assert_uint_eq(b->allocs, 1);
  lvpn__pbuf_free(p);
  lvpn__pbuf_pool_unshare(b); /* destroyed */
  a = lvpn__pbuf_pool_share(&k1, 4);
  ck_assert_uint_eq(a->allocs, 0); /* a new one */
  ck_assert_uint_eq(a->share_users, 1);
  lvpn__pbuf_pool_unshare(a);
  lvpn__pbuf_pool_unshare(c);
  lvpn__pbuf_pool_unshare(NULL);
}
END_TEST

START_TEST(test_pbuf_clone_keeps_headroom_and_meta) {
  lvpn__pbuf_pool_t pool;
  lvpn__pbuf_t *a, *b;

  lvpn__pbuf_pool_init(&pool, 2);
  a = lvpn__pbuf_alloc(&pool);
  memcpy(lvpn__pbuf_put(a, 4), "data", 4);
  a->meta.msg_id = 42;
  b = lvpn__pbuf_clone(a);
  ck_assert_uint_eq(b->len, 4);
  ck_assert_uint_eq(b->meta.msg_id, 42);
  ck_assert_uint_eq(lvpn__pbuf_headroom(b), lvpn__pbuf_headroom(a));
  ck_assert_int_eq(memcmp(b->data, "data", 4), 0);
  lvpn__pbuf_free(a);
  lvpn__pbuf_free(b);
  lvpn__pbuf_pool_destroy(&pool);
}
END_TEST

struct item {
  lvpn__qnode_t node;
  int v;
};

START_TEST(test_queue_fifo_order) {
  lvpn__queue_t q;
  struct item it[5];
  int i;

  lvpn__queue_init(&q);
  ck_assert(lvpn__queue_empty(&q));
  for (i = 0; i < 5; i++) {
    it[i].v = i;
    lvpn__queue_push(&q, &it[i].node);
  }
  ck_assert_uint_eq(q.count, 5);
  for (i = 0; i < 5; i++)
    ck_assert_int_eq(container_of(lvpn__queue_pop(&q), struct item, node)->v,
                     i);
  ck_assert_ptr_null(lvpn__queue_pop(&q));
  lvpn__queue_push(&q, &it[1].node);
  lvpn__queue_push_front(&q, &it[0].node);
  ck_assert_int_eq(container_of(lvpn__queue_pop(&q), struct item, node)->v, 0);
  ck_assert_int_eq(container_of(lvpn__queue_pop(&q), struct item, node)->v, 1);
  ck_assert(lvpn__queue_empty(&q));
}
END_TEST

static int log_calls;
static char log_last[256];
static void log_capture(void *ud, int level, const char *layer,
                        const char *msg) {
  (void)ud;
  log_calls++;
  snprintf(log_last, sizeof(log_last), "%d %s %s", level, layer, msg);
}

START_TEST(test_log_levels_filter) {
  lvpn__logger_t lg;
  lvpn__logger_init(&lg);
  ck_assert_int_eq(lg.verb, 3);
  LVPN__LOG(&lg, LVPN_LOG_INFO, "x", "no sink: %d", 1); /* no crash */
  lg.cb = log_capture;
  log_calls = 0;
  LVPN__LOG(&lg, LVPN_LOG_INFO, "tls", "hello %s", "world");
  LVPN__LOG(&lg, LVPN_LOG_DEBUG, "tls", "hidden");
  ck_assert_int_eq(log_calls, 1);
  ck_assert_str_eq(log_last, "3 tls hello world");
  lg.verb = 11;
  LVPN__LOG(&lg, LVPN_LOG_TRACE, "tls", "shown");
  ck_assert_int_eq(log_calls, 2);
}
END_TEST

/* mute 2: a run of one category shows 3 messages and a NOTE, the next
 * other message is preceded by the count of dropped ones. */
START_TEST(test_log_mute_runs) {
  lvpn__logger_t lg;
  lvpn__mute_t m = {2, 0, 0, NULL};
  int i;
  lvpn__logger_init(&lg);
  lg.cb = log_capture;
  lg.mute = &m;
  log_calls = 0;
  for (i = 0; i < 6; i++)
    LVPN__LOG(&lg, LVPN_LOG_INFO, "tun", "same %d", i);
  ck_assert_int_eq(log_calls, 4); /* 3 shown + the NOTE */
  LVPN__LOG(&lg, LVPN_LOG_INFO, "tls", "other");
  ck_assert_int_eq(log_calls, 6);
  ck_assert_str_eq(log_last, "3 tls other");
  LVPN__LOG(&lg, LVPN_LOG_ERROR, "tls", "new category");
  ck_assert_int_eq(log_calls, 7);
  m.cutoff = 0; /* off */
  for (i = 0; i < 6; i++)
    LVPN__LOG(&lg, LVPN_LOG_INFO, "tun", "same %d", i);
  ck_assert_int_eq(log_calls, 13);
}
END_TEST

static char log_all[2048];
static void log_append(void *ud, int level, const char *layer,
                       const char *msg) {
  (void)ud;
  (void)layer;
  snprintf(log_all + strlen(log_all), sizeof(log_all) - strlen(log_all),
           "%d %s\n", level, msg);
}

START_TEST(test_log_mute_messages) {
  lvpn__logger_t lg;
  lvpn__mute_t m = {1, 0, 0, NULL};
  lvpn__logger_init(&lg);
  lg.cb = log_append;
  lg.mute = &m;
  log_all[0] = '\0';
  LVPN__LOG(&lg, LVPN_LOG_INFO, "dc", "a");
  LVPN__LOG(&lg, LVPN_LOG_INFO, "dc", "b");
  LVPN__LOG(&lg, LVPN_LOG_INFO, "dc", "c");
  LVPN__LOG(&lg, LVPN_LOG_INFO, "dc", "d");
  LVPN__LOG(&lg, LVPN_LOG_FATAL, "dc", "fatal is never muted");
  LVPN__LOG(&lg, LVPN_LOG_INFO, "tls", "e");
  ck_assert_str_eq(log_all, "3 a\n3 b\n3 NOTE: --mute triggered...\n"
                            "0 fatal is never muted\n"
                            "3 2 variation(s) on previous 1 message(s) "
                            "suppressed by --mute\n"
                            "3 e\n");
}
END_TEST

/* A library loaded on first use comes from the system's directory by path
 * (configure's LVPN_DL_DIR), without the loader's search; one that is not
 * there fails with one message naming it. */
START_TEST(test_dl_open_by_path) {
  char err[256] = "", want[600];
  struct link_map *lm = NULL;
  void *lib = lvpn__dl_open("libmnl.so.0", err, sizeof(err));
  void *fp = NULL;

  ck_assert_ptr_nonnull(lib);
  ck_assert_int_eq(dlinfo(lib, RTLD_DI_LINKMAP, &lm), 0);
  ck_assert_str_ne(LVPN_DL_DIR, "");
  snprintf(want, sizeof(want), "%s/libmnl.so.0", LVPN_DL_DIR);
  ck_assert_str_eq(lm->l_name, want);
  ck_assert_int_eq(lvpn__dl_sym(lib, "libmnl.so.0", "mnl_socket_open", &fp,
                                sizeof(fp), err, sizeof(err)),
                   0);
  ck_assert_ptr_nonnull(fp);
  ck_assert_int_eq(lvpn__dl_sym(lib, "libmnl.so.0", "no_such_function", &fp,
                                sizeof(fp), err, sizeof(err)),
                   -1);
  ck_assert_str_eq(err, "libmnl.so.0 has no no_such_function");
  dlclose(lib);
  ck_assert_ptr_null(
      lvpn__dl_open("liblayervpn-absent.so.9", err, sizeof(err)));
  ck_assert_int_eq(strncmp(err, "cannot load liblayervpn-absent.so.9: ", 37),
                   0);
}
END_TEST

LVPN_TEST_MAIN("lib", 0, NULL, NULL, test_error_names_and_texts,
               test_error_every_code_has_text, test_pbuf_push_pull_without_copy,
               test_pbuf_pool_reuses_buffers, test_pbuf_pool_shared_per_key,
               test_pbuf_clone_keeps_headroom_and_meta, test_queue_fifo_order,
               test_log_levels_filter, test_log_mute_runs,
               test_log_mute_messages, test_dl_open_by_path)
