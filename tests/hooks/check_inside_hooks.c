/* The inside-packet hook chain (hooks/chain.c) with a fake delivery, the
 * filter's rule parser and matcher, and the built-ins through a client. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "hooks/chain.h"
#include "layers/client.h"
#include "tests/fakes.h"

static lvpn__pbuf_pool_t pool;
static lvpn__hooks_t chain;
/* what the fake delivery got, in order */
static int got_dir[16];
static uint8_t got_first[16];
static size_t got_len[16];
static int n_got;
static char order[64]; /* hook names, in the order they ran */
static int removed_calls;

static void fake_deliver(void *ud, lvpn_inside_dir_t dir, lvpn__pbuf_t *p) {
  (void)ud;
  if (n_got < 16) {
    got_dir[n_got] = dir;
    got_first[n_got] = p->len ? p->data[0] : 0;
    got_len[n_got] = p->len;
    n_got++;
  }
  lvpn__pbuf_free(p);
}

static void setup(void) {
  lvpn__pbuf_pool_init(&pool, 8);
  lvpn__hooks_init(&chain, &pool, NULL);
  chain.deliver = fake_deliver;
  n_got = 0;
  order[0] = '\0';
  removed_calls = 0;
}

static void teardown(void) {
  lvpn__hooks_free(&chain);
  ck_assert_uint_eq(pool.outstanding, 0);
  lvpn__pbuf_pool_destroy(&pool);
}

static void send_pkt(lvpn_inside_dir_t dir, uint8_t first, size_t len) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&pool);
  memset(lvpn__pbuf_put(p, len), first, len);
  lvpn__hooks_process(&chain, dir, p);
}

/* Hook behaviours, chosen by the first character of the name (ud). */
typedef struct {
  char tag;
  int verdict;
  lvpn_hook_id_t self, other;
  int remove_self, remove_other, inject, add_one;
} fake_hook_t;

static int fake_packet(void *ud, lvpn_client_t *c, lvpn_inside_dir_t dir,
                       lvpn_inside_pkt_t *pkt);
static void fake_removed(void *ud) {
  (void)ud;
  removed_calls++;
}
static lvpn_inside_hook_t fake_ops = {.name = "fake",
                                      .packet = fake_packet,
                                      .removed = fake_removed};

static int fake_packet(void *ud, lvpn_client_t *c, lvpn_inside_dir_t dir,
                       lvpn_inside_pkt_t *pkt) {
  fake_hook_t *f = ud;
  size_t n = strlen(order);
  (void)c;
  if (n + 1 < sizeof(order)) {
    order[n] = f->tag;
    order[n + 1] = '\0';
  }
  if (f->inject) {
    uint8_t b[3] = {0xEE, 0xEE, 0xEE};
    ck_assert_int_eq(lvpn__hooks_inject(&chain,
                                        dir == LVPN_INSIDE_OUTBOUND
                                            ? LVPN_INSIDE_INBOUND
                                            : LVPN_INSIDE_OUTBOUND,
                                        b, sizeof(b)),
                     0);
    ck_assert_int_eq(n_got, 0); /* queued, not delivered in the callback */
  }
  if (f->remove_self)
    ck_assert_int_eq(lvpn__hooks_remove(&chain, f->self), 0);
  if (f->remove_other)
    ck_assert_int_eq(lvpn__hooks_remove(&chain, f->other), 0);
  if (f->add_one) {
    static fake_hook_t late = {.tag = 'z'};
    f->add_one = 0;
    ck_assert_int_eq(lvpn__hooks_add(&chain, &fake_ops, &late, NULL), 0);
  }
  if (f->verdict == 2) { /* modify: shrink by one, mark */
    pkt->data[0] = 0x77;
    pkt->len -= 1;
    return LVPN_HOOK_PASS;
  }
  if (f->verdict == 3) { /* modify: grow to the buffer's end */
    pkt->len = pkt->cap;
    return LVPN_HOOK_PASS;
  }
  if (f->verdict == 4) { /* a buggy hook overruns its buffer */
    pkt->len = pkt->cap + 1;
    return LVPN_HOOK_PASS;
  }
  return f->verdict;
}

static lvpn_hook_id_t add(fake_hook_t *f) {
  lvpn_hook_id_t id = 0;
  ck_assert_int_eq(lvpn__hooks_add(&chain, &fake_ops, f, &id), 0);
  f->self = id;
  return id;
}

START_TEST(test_inside_hooks_order_both_directions) {
  fake_hook_t a = {.tag = 'a'}, b = {.tag = 'b'}, cc = {.tag = 'c'};
  add(&a);
  add(&b);
  add(&cc);
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  ck_assert_str_eq(order, "abc");
  order[0] = '\0';
  send_pkt(LVPN_INSIDE_INBOUND, 0x45, 20);
  ck_assert_str_eq(order, "cba"); /* inbound: reverse, as an onion */
  ck_assert_int_eq(n_got, 2);
  ck_assert_int_eq(got_dir[0], LVPN_INSIDE_OUTBOUND);
  ck_assert_int_eq(got_dir[1], LVPN_INSIDE_INBOUND);
  ck_assert_uint_eq(chain.v[1].seen, 2);
}
END_TEST

START_TEST(test_inside_hooks_dirs_mask) {
  fake_hook_t a = {.tag = 'a'};
  lvpn_inside_hook_t ops = fake_ops;
  ops.dirs = LVPN_INSIDE_INBOUND;
  ck_assert_int_eq(lvpn__hooks_add(&chain, &ops, &a, NULL), 0);
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  ck_assert_str_eq(order, "");
  send_pkt(LVPN_INSIDE_INBOUND, 0x45, 20);
  ck_assert_str_eq(order, "a");
  ck_assert_int_eq(n_got, 2);
  ck_assert_int_eq(lvpn__hooks_add(&chain, NULL, &a, NULL), LVPN_EINVAL);
}
END_TEST

START_TEST(test_inside_hooks_drop_stops_chain) {
  fake_hook_t a = {.tag = 'a'}, b = {.tag = 'b', .verdict = LVPN_HOOK_DROP},
              cc = {.tag = 'c'};
  lvpn_hook_id_t idb;
  uint64_t seen, dropped;
  add(&a);
  idb = add(&b);
  add(&cc);
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  ck_assert_str_eq(order, "ab");
  ck_assert_int_eq(n_got, 0);
  ck_assert_uint_eq(pool.outstanding, 0); /* the library freed it */
  ck_assert_ptr_nonnull(lvpn__hooks_find(&chain, idb));
  seen = lvpn__hooks_find(&chain, idb)->seen;
  dropped = lvpn__hooks_find(&chain, idb)->dropped;
  ck_assert_uint_eq(seen, 1);
  ck_assert_uint_eq(dropped, 1);
  ck_assert_uint_eq(chain.v[2].seen, 0);
}
END_TEST

START_TEST(test_inside_hooks_modify_in_place) {
  fake_hook_t a = {.tag = 'a', .verdict = 2};
  fake_hook_t g = {.tag = 'g', .verdict = 3};
  add(&a);
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  ck_assert_int_eq(n_got, 1);
  ck_assert_uint_eq(got_first[0], 0x77);
  ck_assert_uint_eq(got_len[0], 19);
  add(&g); /* runs after a: grows to the end of the buffer */
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  ck_assert_int_eq(n_got, 2);
  ck_assert_uint_eq(got_len[1], LVPN_PBUF_CAP - LVPN_PBUF_HEADROOM);
}
END_TEST

START_TEST(test_inside_hooks_overrun_is_dropped) {
  fake_hook_t a = {.tag = 'a', .verdict = 4};
  lvpn_hook_id_t id = add(&a);
  send_pkt(LVPN_INSIDE_INBOUND, 0x45, 20);
  ck_assert_int_eq(n_got, 0);
  ck_assert_uint_eq(lvpn__hooks_find(&chain, id)->dropped, 1);
}
END_TEST

START_TEST(test_inside_hooks_inject_queued_not_recursive) {
  fake_hook_t a = {.tag = 'a', .inject = 1}, b = {.tag = 'b'};
  uint8_t pkt[4] = {0x60, 1, 2, 3};
  add(&a);
  add(&b);
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  /* the packet first, then the injected one, which skipped every hook */
  ck_assert_str_eq(order, "ab");
  ck_assert_int_eq(n_got, 2);
  ck_assert_int_eq(got_dir[0], LVPN_INSIDE_OUTBOUND);
  ck_assert_uint_eq(got_first[0], 0x45);
  ck_assert_int_eq(got_dir[1], LVPN_INSIDE_INBOUND);
  ck_assert_uint_eq(got_first[1], 0xEE);
  ck_assert_uint_eq(got_len[1], 3);
  /* outside a callback: delivered at once, past the hooks */
  ck_assert_int_eq(lvpn__hooks_inject(&chain, LVPN_INSIDE_OUTBOUND, pkt, 4), 0);
  ck_assert_int_eq(n_got, 3);
  ck_assert_str_eq(order, "ab");
  ck_assert_int_eq(lvpn__hooks_inject(&chain, 7, pkt, 4), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__hooks_inject(&chain, LVPN_INSIDE_OUTBOUND, pkt, 0),
                   LVPN_EINVAL);
  ck_assert_int_eq(lvpn__hooks_inject(&chain, LVPN_INSIDE_OUTBOUND, pkt,
                                      LVPN_PBUF_CAP),
                   LVPN_ETOOBIG);
  chain.deliver = NULL; /* no stack running */
  ck_assert_int_eq(lvpn__hooks_inject(&chain, LVPN_INSIDE_OUTBOUND, pkt, 4),
                   LVPN_ESTATE);
}
END_TEST

START_TEST(test_inside_hooks_inject_then_drop) {
  /* a hook that replaces the packet: injects its answer, drops the original */
  fake_hook_t a = {.tag = 'a', .inject = 1, .verdict = LVPN_HOOK_DROP};
  add(&a);
  send_pkt(LVPN_INSIDE_INBOUND, 0x45, 20);
  ck_assert_int_eq(n_got, 1);
  ck_assert_int_eq(got_dir[0], LVPN_INSIDE_OUTBOUND);
  ck_assert_uint_eq(got_first[0], 0xEE);
}
END_TEST

START_TEST(test_inside_hooks_remove_self_in_callback) {
  fake_hook_t a = {.tag = 'a', .remove_self = 1}, b = {.tag = 'b'};
  lvpn_hook_id_t ida = add(&a);
  add(&b);
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  ck_assert_str_eq(order, "ab"); /* the packet went on */
  ck_assert_int_eq(n_got, 1);
  ck_assert_int_eq(removed_calls, 1); /* once, after the packet */
  ck_assert_ptr_null(lvpn__hooks_find(&chain, ida));
  ck_assert_uint_eq(chain.n, 1);
  ck_assert_uint_eq(chain.active, 1);
  order[0] = '\0';
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  ck_assert_str_eq(order, "b");
  ck_assert_int_eq(lvpn__hooks_remove(&chain, ida), LVPN_EINVAL);
}
END_TEST

START_TEST(test_inside_hooks_remove_other_and_add_in_callback) {
  fake_hook_t a = {.tag = 'a', .remove_other = 1, .add_one = 1},
              b = {.tag = 'b'};
  add(&a);
  a.other = add(&b);
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  /* b was removed before its turn; the hook added sees the next packet */
  ck_assert_str_eq(order, "a");
  ck_assert_int_eq(removed_calls, 1);
  order[0] = '\0';
  a.remove_other = 0;
  send_pkt(LVPN_INSIDE_OUTBOUND, 0x45, 20);
  ck_assert_str_eq(order, "az");
  ck_assert_int_eq(n_got, 2);
}
END_TEST

START_TEST(test_inside_hooks_free_calls_removed) {
  fake_hook_t a = {.tag = 'a'}, b = {.tag = 'b'};
  add(&a);
  add(&b);
  ck_assert_uint_eq(chain.active, 2);
  lvpn__hooks_free(&chain);
  ck_assert_int_eq(removed_calls, 2);
  ck_assert_uint_eq(chain.active, 0);
  lvpn__hooks_free(&chain); /* twice is harmless */
  ck_assert_int_eq(removed_calls, 2);
}
END_TEST

/* ---- the filter ---- */

static size_t ip4(uint8_t *p, int proto, const char *src, const char *dst,
                  int sport, int dport) {
  memset(p, 0, 40);
  p[0] = 0x45;
  p[3] = 40;
  p[8] = 64;
  p[9] = (uint8_t)proto;
  inet_pton(AF_INET, src, p + 12);
  inet_pton(AF_INET, dst, p + 16);
  p[20] = (uint8_t)(sport >> 8);
  p[21] = (uint8_t)sport;
  p[22] = (uint8_t)(dport >> 8);
  p[23] = (uint8_t)dport;
  return 40;
}

static size_t ip6(uint8_t *p, int nh, const char *src, const char *dst,
                  int sport, int dport) {
  memset(p, 0, 60);
  p[0] = 0x60;
  p[5] = 20;
  p[6] = (uint8_t)nh;
  p[7] = 64;
  inet_pton(AF_INET6, src, p + 8);
  inet_pton(AF_INET6, dst, p + 24);
  p[40] = (uint8_t)(sport >> 8);
  p[41] = (uint8_t)sport;
  p[42] = (uint8_t)(dport >> 8);
  p[43] = (uint8_t)dport;
  return 60;
}

static void rules(lvpn__filter_t *f, const char *const *r) {
  char err[256];
  lvpn__filter_init(f);
  for (; *r != NULL; r++)
    ck_assert_msg(lvpn__filter_add(f, *r, err, sizeof(err)) == 0, "%s: %s",
                  *r, err);
}

START_TEST(test_inside_filter_parse_errors_name_the_problem) {
  static const struct {
    const char *rule, *msg;
  } bad[] = {
      {"", "must start with allow, deny or default"},
      {"permit tcp", "must start with allow, deny or default"},
      {"deny tcp udp", "unknown or repeated word (at 'udp')"},
      {"deny tcp port", "'port' needs P or P-Q"},
      {"deny tcp port 70000", "'port' needs P or P-Q"},
      {"deny tcp port 90-80", "'port' needs P or P-Q"},
      {"deny tcp port 1-", "'port' needs P or P-Q"},
      {"deny proto 300", "'proto' needs a number 0-255"},
      {"deny net 10.0.0.0/33", "'net' needs an IPv4 or IPv6 address"},
      {"deny net fe80::/129", "'net' needs an IPv4 or IPv6 address"},
      {"deny net banana", "'net' needs an IPv4 or IPv6 address"},
      {"deny icmp port 80", "'port' needs tcp or udp"},
      {"default maybe", "say 'default allow' or 'default deny'"},
      {"default deny now", "say 'default allow' or 'default deny'"},
      {"deny frobnicate", "unknown or repeated word (at 'frobnicate')"},
  };
  lvpn__filter_t f;
  char err[256];
  size_t i;
  lvpn__filter_init(&f);
  for (i = 0; i < FAKE_COUNT(bad); i++) {
    err[0] = '\0';
    ck_assert_msg(lvpn__filter_add(&f, bad[i].rule, err, sizeof(err)) ==
                      LVPN_EINVAL,
                  "accepted '%s'", bad[i].rule);
    ck_assert_msg(strstr(err, bad[i].msg) != NULL, "'%s': got '%s'",
                  bad[i].rule, err);
  }
  ck_assert_uint_eq(f.n, 0);
  for (i = 0; i < LVPN__FILTER_MAX_RULES; i++)
    ck_assert_int_eq(lvpn__filter_add(&f, "allow all", err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn__filter_add(&f, "allow all", err, sizeof(err)),
                   LVPN_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "too many filter rules"));
}
END_TEST

START_TEST(test_inside_filter_match_proto_port_prefix) {
  static const char *const r1[] = {"deny icmp",
                                   "allow tcp port 80-443 net 198.18.0.0/15",
                                   "deny tcp port 22", "deny proto 47",
                                   "deny udp net 2001:2::/48", NULL};
  lvpn__filter_t f;
  uint8_t p[64];
  size_t n;
  rules(&f, r1);
  n = ip4(p, 1, "198.19.0.2", "198.19.0.1", 0x0800, 0);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 0);
  n = ip6(p, 58, "2001:2::2", "2001:2::1", 0x8000, 0);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 0);
  n = ip4(p, 6, "198.19.0.2", "198.19.0.1", 40000, 443);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 1);
  n = ip4(p, 6, "198.19.0.1", "198.19.0.2", 80, 40000); /* reply: src port */
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 1);
  n = ip4(p, 6, "198.19.0.2", "198.19.0.1", 40000, 22);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 0);
  n = ip4(p, 6, "10.0.0.2", "10.0.0.1", 40000, 80); /* not in the prefix */
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 1); /* default allow */
  n = ip4(p, 47, "198.19.0.2", "198.19.0.1", 0, 0);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 0);
  n = ip6(p, 17, "2001:2::2", "2001:3::1", 5353, 53); /* src in 2001:2::/48 */
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 0);
  n = ip6(p, 17, "2001:3::2", "2001:3::1", 5353, 53);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 1);
  n = ip4(p, 17, "198.18.0.1", "198.18.0.2", 5353, 53);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 1); /* v6 rule, v4 packet */
}
END_TEST

START_TEST(test_inside_filter_first_match_and_default) {
  static const char *const r1[] = {"allow icmp4 net 198.19.0.1/32",
                                   "deny icmp", "default deny",
                                   "allow udp port 53", NULL};
  static const char *const r2[] = {"deny icmp6", NULL};
  lvpn__filter_t f;
  uint8_t p[64];
  size_t n;
  rules(&f, r1);
  ck_assert_int_eq(f.default_allow, 0);
  n = ip4(p, 1, "198.19.0.2", "198.19.0.1", 0x0800, 0);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 1); /* first match wins */
  n = ip4(p, 1, "198.19.0.2", "198.19.0.9", 0x0800, 0);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 0);
  n = ip4(p, 17, "198.19.0.2", "198.19.0.9", 4000, 53);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 1);
  n = ip4(p, 6, "198.19.0.2", "198.19.0.9", 4000, 53);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 0); /* default deny */
  ck_assert_int_eq(lvpn__filter_match(&f, p, 10), 0); /* short: default */
  ck_assert_int_eq(lvpn__filter_match(&f, (const uint8_t *)"", 0), 0);
  rules(&f, r2);
  n = ip4(p, 1, "198.19.0.2", "198.19.0.1", 0x0800, 0);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 1); /* icmp6 only */
  /* a non-first IPv4 fragment has no ports: a port rule cannot match */
  rules(&f, (const char *const[]){"deny udp port 53", NULL});
  n = ip4(p, 17, "198.19.0.2", "198.19.0.9", 4000, 53);
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 0);
  p[7] = 8; /* fragment offset 64 bytes */
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 1);
  /* IPv6 with a fragment header before UDP */
  n = ip6(p, 44, "2001:2::2", "2001:2::1", 0, 0);
  p[40] = 17; /* next header after the fragment header */
  p[48] = 0x0F;
  p[49] = 0xA0;
  p[50] = 0;
  p[51] = 53;
  ck_assert_int_eq(lvpn__filter_match(&f, p, n), 0);
}
END_TEST

/* ---- the built-ins through a client ---- */

START_TEST(test_inside_hooks_client_builtins) {
  uv_loop_t loop;
  lvpn_config_t *cfg;
  lvpn_client_t *c;
  lvpn_hook_id_t idf, idp;
  static const char *const deny[] = {"deny icmp", NULL};
  static const char *const bad[] = {"deny tcp port x", NULL};
  char err[256], path[] = "/tmp/check_inside_hooks_XXXXXX";
  uint8_t p[64], file[256];
  uint64_t seen = 9, dropped = 9;
  uint32_t word;
  size_t n;
  FILE *f;
  int fd;

  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  ck_assert_int_eq(lvpn_client_new(&c, &loop, cfg), 0);
  lvpn_config_free(cfg);
  ck_assert_int_eq(lvpn_client_add_inside_filter(c, bad, 1, 0, err,
                                                 sizeof(err), &idf),
                   LVPN_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "'port' needs"));
  ck_assert_int_eq(lvpn_client_add_inside_pcap(c, path, err, sizeof(err),
                                               &idp),
                   0);
  ck_assert_int_eq(lvpn_client_add_inside_filter(c, deny, 1, 0, err,
                                                 sizeof(err), &idf),
                   0);
  /* no connection: injection refused */
  ck_assert_int_eq(lvpn_client_inject_inside(c, LVPN_INSIDE_OUTBOUND, p, 20),
                   LVPN_ESTATE);
  c->hooks.deliver = fake_deliver; /* stand in for the tun layer */
  n = ip4(p, 1, "198.19.0.2", "198.19.0.1", 0x0800, 0);
  {
    lvpn__pbuf_t *b = lvpn__pbuf_alloc(c->pool);
    memcpy(lvpn__pbuf_put(b, n), p, n);
    lvpn__hooks_process(&c->hooks, LVPN_INSIDE_OUTBOUND, b);
    b = lvpn__pbuf_alloc(c->pool);
    n = ip4(p, 6, "198.19.0.1", "198.19.0.2", 80, 4000);
    memcpy(lvpn__pbuf_put(b, n), p, n);
    lvpn__hooks_process(&c->hooks, LVPN_INSIDE_INBOUND, b);
  }
  ck_assert_int_eq(n_got, 1); /* the TCP packet */
  ck_assert_int_eq(lvpn_client_inside_hook_stats(c, idf, &seen, &dropped), 0);
  ck_assert_uint_eq(seen, 2);
  ck_assert_uint_eq(dropped, 1);
  ck_assert_int_eq(lvpn_client_inside_hook_stats(c, idp, &seen, &dropped), 0);
  ck_assert_uint_eq(seen, 2); /* outbound before the filter, inbound after */
  ck_assert_uint_eq(dropped, 0);
  ck_assert_int_eq(lvpn_client_remove_inside_hook(c, idf), 0);
  ck_assert_int_eq(lvpn_client_inside_hook_stats(c, idf, &seen, &dropped),
                   LVPN_EINVAL);
  /* the pcap file: global header + 2 records of 40 bytes */
  f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  n = fread(file, 1, sizeof(file), f);
  fclose(f);
  ck_assert_uint_eq(n, 24 + 2 * (16 + 40));
  memcpy(&word, file, 4);
  ck_assert_uint_eq(word, 0xa1b2c3d4u);
  memcpy(&word, file + 20, 4);
  ck_assert_uint_eq(word, 101);
  ck_assert_uint_eq(file[24 + 16 + 9], 1); /* the ICMP one first */
  ck_assert_uint_eq(file[24 + 56 + 16 + 9], 6);
  ck_assert_int_eq(lvpn_client_close(c, NULL), 0);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  unlink(path);
}
END_TEST

LVPN_TEST_MAIN("inside_hooks", 10, setup, teardown,
               test_inside_hooks_order_both_directions,
               test_inside_hooks_dirs_mask, test_inside_hooks_drop_stops_chain,
               test_inside_hooks_modify_in_place,
               test_inside_hooks_overrun_is_dropped,
               test_inside_hooks_inject_queued_not_recursive,
               test_inside_hooks_inject_then_drop,
               test_inside_hooks_remove_self_in_callback,
               test_inside_hooks_remove_other_and_add_in_callback,
               test_inside_hooks_free_calls_removed,
               test_inside_filter_parse_errors_name_the_problem,
               test_inside_filter_match_proto_port_prefix,
               test_inside_filter_first_match_and_default,
               test_inside_hooks_client_builtins)
