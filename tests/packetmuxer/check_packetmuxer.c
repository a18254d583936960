/* layers/packetmuxer: between a capture layer in place of networkio and
 * capture layers for the control and data paths. Server packets are crafted
 * with the wire codec and a server-direction tls-crypt wrap (tlswrap.h), and
 * what the muxer sends down is unwrapped and decoded the same way. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/base64.h>

#include "layers/layer.h"
#include "layers/packetmuxer/packetmuxer.h"
#include "layers/packetmuxer/session.h"
#include "layers/packetmuxer/tlswrap.h"
#include "layers/packetmuxer/wire.h"
#include "tests/fakes.h"

/* ---- capture layer: keeps what it receives, from either side ---- */

typedef struct {
  lvpn__layer_t base;
  lvpn__queue_t got;
} cap_t;

static void cap_recv(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__pbufq_push(&container_of(l, cap_t, base)->got, p);
}

static void cap_close(lvpn__layer_t *l) {
  lvpn__pbufq_clear(&container_of(l, cap_t, base)->got);
}

static const lvpn__layer_ops_t cap_ops = {
    .up = cap_recv, .down = cap_recv, .close = cap_close};

static void cap_init(cap_t *c, uv_loop_t *loop, const char *name,
                     const lvpn__logger_t *log) {
  lvpn__layer_init(&c->base, loop, name, &cap_ops, log);
  lvpn__queue_init(&c->got);
}

/* ---- keys built from fixed bytes ---- */

static void static_key_pem(char *out, size_t max, uint8_t seed) {
  size_t off, i;
  off = (size_t)snprintf(out, max, "-----BEGIN OpenVPN Static key V1-----\n");
  for (i = 0; i < LVPN__TLSWRAP_KEY2_LEN; i++)
    off += (size_t)snprintf(out + off, max - off, "%02x%s",
                            (unsigned)(uint8_t)(i * 7 + seed),
                            i % 16 == 15 ? "\n" : "");
  snprintf(out + off, max - off, "-----END OpenVPN Static key V1-----\n");
}

#define WKC_LEN 300 /* any length: only the test server checks it */

/* Kc(256) || WKc, WKc ending with its own length (u16 big-endian). */
static void v2_client_key_pem(char *out, size_t max) {
  unsigned char raw[LVPN__TLSWRAP_KEY2_LEN + WKC_LEN], b64[1024];
  size_t i, olen = 0;
  for (i = 0; i < sizeof(raw); i++)
    raw[i] = (unsigned char)(i * 13 + 5);
  raw[sizeof(raw) - 2] = WKC_LEN >> 8;
  raw[sizeof(raw) - 1] = WKC_LEN & 0xff;
  ck_assert_int_eq(
      mbedtls_base64_encode(b64, sizeof(b64), &olen, raw, sizeof(raw)), 0);
  snprintf(out, max,
           "-----BEGIN OpenVPN tls-crypt-v2 client key-----\n%s\n"
           "-----END OpenVPN tls-crypt-v2 client key-----\n",
           (char *)b64);
}

/* ---- environment ---- */

static const uint8_t client_sid[8] = {0xc1, 0xc2, 0xc3, 0xc4,
                                      0xc5, 0xc6, 0xc7, 0xc8};
static const uint8_t server_sid[8] = {0x51, 0x52, 0x53, 0x54,
                                      0x55, 0x56, 0x57, 0x58};
static const uint8_t other_sid[8] = {0x61, 0x62, 0x63, 0x64,
                                     0x65, 0x66, 0x67, 0x68};

typedef struct {
  uv_loop_t loop;
  lvpn__workers_t w;
  lvpn__pbuf_pool_t pool;
  lvpn__logger_t log;
  lvpn__session_t session;
  lvpn__tlswrap_t srv; /* the server's side of the session's wrap */
  lvpn__packetmuxer_t mux;
  cap_t net, ctl, data;
  int down_calls, down_err;
} env_t;

static env_t E;

static void log_sink(void *ud, int level, const char *layer, const char *msg) {
  (void)ud;
  (void)level;
  (void)layer;
  (void)msg; /* formatting runs (verb 11), output is discarded */
}

static void on_down(lvpn__workers_t *w, int err) {
  env_t *e = w->data;
  e->down_calls++;
  e->down_err = err;
}

static void env_start(env_t *e, int mode) {
  char pem[4096], err[256] = "";

  memset(e, 0, sizeof(*e));
  ck_assert_int_eq(uv_loop_init(&e->loop), 0);
  lvpn__pbuf_pool_init(&e->pool, 0); /* no cache: ASan sees reuse */
  lvpn__logger_init(&e->log);
  e->log.cb = log_sink;
  e->log.verb = LVPN_LOG_TRACE;
  memcpy(e->session.own_sid, client_sid, 8);
  if (mode == LVPN__TLSWRAP_CRYPT_V2)
    v2_client_key_pem(pem, sizeof(pem));
  else
    static_key_pem(pem, sizeof(pem), 3);
  ck_assert_msg(lvpn__tlswrap_init(&e->session.wrap, mode, pem, strlen(pem), -1,
                                   NULL, err, sizeof(err)) == 0,
                "%s", err);
  ck_assert_msg(lvpn__tlswrap_init_server(&e->srv, mode, pem, strlen(pem), -1,
                                          NULL, err, sizeof(err)) == 0,
                "%s", err);
  lvpn__packetmuxer_init(&e->mux, &e->loop, &e->session, &e->log);
  cap_init(&e->net, &e->loop, "net", &e->log);
  cap_init(&e->ctl, &e->loop, "ctl", &e->log);
  cap_init(&e->data, &e->loop, "data", &e->log);
  lvpn__workers_init(&e->w, &e->loop, &e->log, on_down);
  e->w.data = e;
  ck_assert_int_eq(lvpn__workers_add(&e->w, &e->net.base), 0);
  ck_assert_int_eq(lvpn__workers_add(&e->w, &e->mux.base), 0);
  ck_assert_int_eq(lvpn__workers_add(&e->w, &e->ctl.base), 0);
  ck_assert_int_eq(lvpn__workers_add(&e->w, &e->data.base), 0);
  lvpn__layer_link(&e->net.base, &e->mux.base);
  lvpn__layer_link(&e->mux.base, &e->ctl.base);
  e->mux.data_up = &e->data.base;
  e->data.base.below = &e->mux.base;
  ck_assert_int_eq(lvpn__workers_start(&e->w), 0);
}

/* Runs the loop until every layer's queues are drained (idle handles stop:
 * the muxer owns no timer). */
static void spin(env_t *e) {
  ck_assert_int_eq(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
}

static void env_finish(env_t *e) {
  lvpn__workers_shutdown(&e->w, 0);
  ck_assert_int_eq(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(e->down_calls, 1);
  ck_assert_int_eq(e->down_err, LVPN_ESTOPPED);
  lvpn__tlswrap_free(&e->session.wrap);
  lvpn__tlswrap_free(&e->srv);
  ck_assert_uint_eq(e->pool.outstanding, 0);
  lvpn__pbuf_pool_destroy(&e->pool);
  ck_assert_int_eq(uv_loop_close(&e->loop), 0);
}

typedef struct {
  const char *name;
  uint64_t value;
  int found;
} counter_q_t;

static void counter_cb(void *ud, const char *layer, const char *name,
                       uint64_t value) {
  counter_q_t *q = ud;
  ck_assert_str_eq(layer, "packetmuxer");
  if (strcmp(name, q->name) == 0) {
    q->value = value;
    q->found++;
  }
}

/* A counter as lvpn_client_counters() would report it. */
static uint64_t counter(env_t *e, const char *name) {
  counter_q_t q = {name, 0, 0};
  e->mux.base.ops->counters(&e->mux.base, counter_cb, &q);
  ck_assert_msg(q.found == 1, "counter %s", name);
  return q.value;
}

static uint64_t total_drops(env_t *e) {
  uint64_t n = 0;
  int i;
  for (i = 0; i < LVPN__MUX_DROP_MAX; i++)
    n += e->mux.drops[i];
  return n;
}

/* ---- the fake server ---- */

typedef struct {
  uint8_t opcode, key_id;
  const uint8_t *sid;  /* server's own sid */
  const uint8_t *rsid; /* echoed client sid (with acks) */
  int n_acks;
  uint32_t acks[8];
  uint32_t msg_id;
  const char *payload;
  size_t plen; /* 0: strlen(payload) */
} srv_pkt_t;

/* The server's wire packet for `s`, wrapped with the server's key. */
static lvpn__pbuf_t *srv_packet(env_t *e, const srv_pkt_t *s) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->pool);
  lvpn__ctl_pkt_t h;
  size_t n = s->plen ? s->plen : s->payload ? strlen(s->payload) : 0;

  ck_assert_ptr_nonnull(p);
  memcpy(lvpn__pbuf_put(p, n), s->payload ? s->payload : "", n);
  memset(&h, 0, sizeof(h));
  h.opcode = s->opcode;
  h.key_id = s->key_id;
  memcpy(h.own_sid, s->sid, 8);
  h.n_acks = (uint8_t)s->n_acks;
  memcpy(h.acks, s->acks, sizeof(h.acks));
  if (s->rsid != NULL)
    memcpy(h.remote_sid, s->rsid, 8);
  h.msg_id = s->msg_id;
  ck_assert_int_eq(lvpn__ctl_encode(p, &h), 0);
  ck_assert_int_eq(lvpn__tlswrap_wrap(&e->srv, p, (uint32_t)time(NULL)), 0);
  return p;
}

/* Raw unwrapped bytes (possibly malformed) wrapped by the server. */
static lvpn__pbuf_t *srv_raw(env_t *e, const uint8_t *b, size_t n) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->pool);
  memcpy(lvpn__pbuf_put(p, n), b, n);
  ck_assert_int_eq(lvpn__tlswrap_wrap(&e->srv, p, (uint32_t)time(NULL)), 0);
  return p;
}

static lvpn__pbuf_t *copy_of(const lvpn__pbuf_t *p) {
  lvpn__pbuf_t *c = lvpn__pbuf_clone(p);
  ck_assert_ptr_nonnull(c);
  return c;
}

static void inject(env_t *e, lvpn__pbuf_t *p) {
  lvpn__layer_send_up(&e->net.base, p);
}

static void server_reset(env_t *e) {
  srv_pkt_t s = {.opcode = LVPN__P_CONTROL_HARD_RESET_SERVER_V2,
                 .sid = server_sid,
                 .rsid = client_sid,
                 .n_acks = 1,
                 .acks = {0}};
  inject(e, srv_packet(e, &s));
  spin(e);
  ck_assert(e->session.have_remote_sid);
  lvpn__pbufq_clear(&e->ctl.got);
}

/* What the server reads from a packet the muxer sent down. */
static lvpn__pbuf_t *srv_read(env_t *e, lvpn__ctl_pkt_t *h) {
  lvpn__pbuf_t *p = lvpn__pbufq_pop(&e->net.got);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(lvpn__tlswrap_unwrap(&e->srv, p, (uint32_t)time(NULL)), 0);
  ck_assert_int_eq(lvpn__ctl_decode(p, h), 0);
  return p;
}

/* ---- tests ---- */

START_TEST(test_packetmuxer_server_reset_opens_session) {
  env_t *e = &E;
  srv_pkt_t s = {.opcode = LVPN__P_CONTROL_HARD_RESET_SERVER_V2,
                 .sid = server_sid,
                 .rsid = client_sid,
                 .n_acks = 1,
                 .acks = {0},
                 .msg_id = 0,
                 .payload = "\x00\x01\x00\x02\x00\x01", /* a TLV */
                 .plen = 6};
  srv_pkt_t c = {.opcode = LVPN__P_CONTROL_V1,
                 .key_id = 0,
                 .sid = server_sid,
                 .rsid = client_sid,
                 .n_acks = 2,
                 .acks = {1, 2},
                 .msg_id = 1,
                 .payload = "tls bytes"};
  lvpn__pbuf_t *p;

  env_start(e, LVPN__TLSWRAP_CRYPT);
  ck_assert(!e->session.have_remote_sid);
  inject(e, srv_packet(e, &s));
  spin(e);
  ck_assert(e->session.have_remote_sid);
  ck_assert_int_eq(memcmp(e->session.remote_sid, server_sid, 8), 0);
  p = lvpn__pbufq_pop(&e->ctl.got);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_CONTROL_HARD_RESET_SERVER_V2);
  ck_assert_uint_eq(p->meta.key_id, 0);
  ck_assert_uint_eq(p->meta.has_msg_id, 1);
  ck_assert_uint_eq(p->meta.msg_id, 0);
  ck_assert_uint_eq(p->meta.n_acks, 1);
  ck_assert_uint_eq(p->meta.acks[0], 0);
  /* header pulled; the early-negotiation TLVs are the payload */
  ck_assert_uint_eq(p->len, 6);
  ck_assert_int_eq(memcmp(p->data, "\x00\x01\x00\x02\x00\x01", 6), 0);
  lvpn__pbuf_free(p);

  /* then a control packet of that session: payload and meta up */
  inject(e, srv_packet(e, &c));
  spin(e);
  p = lvpn__pbufq_pop(&e->ctl.got);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_CONTROL_V1);
  ck_assert_uint_eq(p->meta.msg_id, 1);
  ck_assert_uint_eq(p->meta.n_acks, 2);
  ck_assert_uint_eq(p->meta.acks[0], 1);
  ck_assert_uint_eq(p->meta.acks[1], 2);
  ck_assert_uint_eq(p->len, 9);
  ck_assert_int_eq(memcmp(p->data, "tls bytes", 9), 0);
  lvpn__pbuf_free(p);

  /* a bare ACK: no message id */
  c.opcode = LVPN__P_ACK_V1;
  c.payload = NULL;
  inject(e, srv_packet(e, &c));
  spin(e);
  p = lvpn__pbufq_pop(&e->ctl.got);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_ACK_V1);
  ck_assert_uint_eq(p->meta.has_msg_id, 0);
  ck_assert_uint_eq(p->meta.n_acks, 2);
  lvpn__pbuf_free(p);

  ck_assert_uint_eq(counter(e, "rx_control"), 3);
  ck_assert_uint_eq(total_drops(e), 0);
  ck_assert(lvpn__queue_empty(&e->data.got));
  env_finish(e);
}
END_TEST

START_TEST(test_packetmuxer_control_before_reset_dropped) {
  env_t *e = &E;
  srv_pkt_t c = {.opcode = LVPN__P_CONTROL_V1,
                 .sid = server_sid,
                 .msg_id = 0,
                 .payload = "early"};
  srv_pkt_t a = {.opcode = LVPN__P_ACK_V1,
                 .sid = server_sid,
                 .rsid = client_sid,
                 .n_acks = 1,
                 .acks = {0}};

  env_start(e, LVPN__TLSWRAP_CRYPT);
  inject(e, srv_packet(e, &c));
  inject(e, srv_packet(e, &a));
  c.opcode = LVPN__P_CONTROL_SOFT_RESET_V1;
  inject(e, srv_packet(e, &c));
  spin(e);
  ck_assert(lvpn__queue_empty(&e->ctl.got));
  ck_assert(!e->session.have_remote_sid);
  ck_assert_uint_eq(counter(e, "drop_no_session"), 3);
  ck_assert_uint_eq(total_drops(e), 3);
  ck_assert_uint_eq(e->mux.base.stats.dropped, 3);
  env_finish(e);
}
END_TEST

START_TEST(test_packetmuxer_other_server_session_dropped) {
  env_t *e = &E;
  srv_pkt_t c = {.opcode = LVPN__P_CONTROL_V1,
                 .sid = other_sid,
                 .msg_id = 1,
                 .payload = "x"};
  srv_pkt_t r = {.opcode = LVPN__P_CONTROL_HARD_RESET_SERVER_V2,
                 .sid = other_sid,
                 .rsid = client_sid,
                 .n_acks = 1,
                 .acks = {0}};

  env_start(e, LVPN__TLSWRAP_CRYPT);
  server_reset(e);
  inject(e, srv_packet(e, &c));
  /* a second reset with another id does not replace the first */
  inject(e, srv_packet(e, &r));
  spin(e);
  ck_assert(lvpn__queue_empty(&e->ctl.got));
  ck_assert_int_eq(memcmp(e->session.remote_sid, server_sid, 8), 0);
  ck_assert_uint_eq(counter(e, "drop_session"), 2);
  ck_assert_uint_eq(total_drops(e), 2);
  /* the right session still passes */
  c.sid = server_sid;
  inject(e, srv_packet(e, &c));
  spin(e);
  ck_assert_uint_eq(e->ctl.got.count, 1);
  env_finish(e);
}
END_TEST

START_TEST(test_packetmuxer_acks_for_other_client_dropped) {
  env_t *e = &E;
  srv_pkt_t r = {.opcode = LVPN__P_CONTROL_HARD_RESET_SERVER_V2,
                 .sid = server_sid,
                 .rsid = other_sid, /* acks someone else's reset */
                 .n_acks = 1,
                 .acks = {0}};
  srv_pkt_t a = {.opcode = LVPN__P_ACK_V1,
                 .sid = server_sid,
                 .rsid = other_sid,
                 .n_acks = 2,
                 .acks = {0, 1}};

  env_start(e, LVPN__TLSWRAP_CRYPT);
  inject(e, srv_packet(e, &r));
  spin(e);
  ck_assert(!e->session.have_remote_sid); /* not learned from it */
  ck_assert_uint_eq(counter(e, "drop_session"), 1);
  server_reset(e);
  inject(e, srv_packet(e, &a));
  a.opcode = LVPN__P_CONTROL_V1;
  a.payload = "y";
  inject(e, srv_packet(e, &a));
  spin(e);
  ck_assert(lvpn__queue_empty(&e->ctl.got));
  ck_assert_uint_eq(counter(e, "drop_session"), 3);
  ck_assert_uint_eq(total_drops(e), 3);
  env_finish(e);
}
END_TEST

/* Bit flips anywhere (payload, tag/HMAC, sid, packet id) and a replay. */
static void bad_auth_and_replay(int mode) {
  env_t *e = &E;
  srv_pkt_t c = {.opcode = LVPN__P_CONTROL_V1,
                 .sid = server_sid,
                 .msg_id = 1,
                 .payload = "payload bytes"};
  lvpn__pbuf_t *p, *q;

  env_start(e, mode);
  server_reset(e);
  p = srv_packet(e, &c);
  p->data[p->len - 1] ^= 1;
  inject(e, p);
  p = srv_packet(e, &c);
  p->data[20] ^= 0x80; /* tag (tls-crypt) or HMAC (tls-auth) */
  inject(e, p);
  p = srv_packet(e, &c);
  p->data[3] ^= 0x01; /* own sid: authenticated too */
  inject(e, p);
  p = srv_packet(e, &c);
  p->data[12] ^= 0x01; /* packet id (tls-crypt) or HMAC (tls-auth) */
  inject(e, p);
  spin(e);
  ck_assert(lvpn__queue_empty(&e->ctl.got));
  ck_assert_uint_eq(counter(e, "drop_auth"), 4);

  /* a valid packet, then the same bytes again */
  p = srv_packet(e, &c);
  q = copy_of(p);
  inject(e, p);
  spin(e);
  ck_assert_uint_eq(e->ctl.got.count, 1);
  inject(e, q);
  spin(e);
  ck_assert_uint_eq(e->ctl.got.count, 1);
  ck_assert_uint_eq(counter(e, "drop_replay"), 1);
  ck_assert_uint_eq(total_drops(e), 5);
  env_finish(e);
}

START_TEST(test_packetmuxer_bad_auth_and_replay_dropped) {
  bad_auth_and_replay(LVPN__TLSWRAP_CRYPT);
  bad_auth_and_replay(LVPN__TLSWRAP_AUTH); /* HMAC-SHA1, no key direction */
}
END_TEST

START_TEST(test_packetmuxer_truncated_and_undecodable_dropped) {
  env_t *e = &E;
  srv_pkt_t c = {.opcode = LVPN__P_CONTROL_V1,
                 .sid = server_sid,
                 .msg_id = 1,
                 .payload = "abc"};
  uint8_t raw[64];
  lvpn__pbuf_t *p;
  size_t cut;

  env_start(e, LVPN__TLSWRAP_CRYPT);
  server_reset(e);
  /* empty datagram */
  inject(e, lvpn__pbuf_alloc(&e->pool));
  /* cut before the end of the tls-crypt header: every length */
  for (cut = 1; cut < 9 + 40; cut++) {
    p = srv_packet(e, &c);
    p->len = cut;
    inject(e, p);
  }
  spin(e);
  ck_assert_uint_eq(counter(e, "drop_short"), 1 + 48);
  /* authentic but the control header is short: byte0|sid only */
  raw[0] = LVPN__P_CONTROL_V1 << 3;
  memcpy(raw + 1, server_sid, 8);
  inject(e, srv_raw(e, raw, 9));
  /* ... ack count 0 but no message id */
  raw[9] = 0;
  inject(e, srv_raw(e, raw, 10));
  /* ... an ACK record of 9 ids */
  memset(raw + 9, 0, sizeof(raw) - 9);
  raw[9] = 9;
  inject(e, srv_raw(e, raw, sizeof(raw)));
  spin(e);
  ck_assert_uint_eq(counter(e, "drop_decode"), 3);
  ck_assert(lvpn__queue_empty(&e->ctl.got));
  ck_assert(lvpn__queue_empty(&e->data.got));
  env_finish(e);
}
END_TEST

START_TEST(test_packetmuxer_unknown_opcode_dropped) {
  env_t *e = &E;
  static const uint8_t ops[] = {0,
                                LVPN__P_CONTROL_HARD_RESET_CLIENT_V1,
                                LVPN__P_CONTROL_HARD_RESET_SERVER_V1,
                                LVPN__P_CONTROL_HARD_RESET_CLIENT_V2,
                                LVPN__P_CONTROL_HARD_RESET_CLIENT_V3,
                                LVPN__P_CONTROL_WKC_V1,
                                12,
                                31};
  size_t i;
  lvpn__pbuf_t *p;

  env_start(e, LVPN__TLSWRAP_CRYPT);
  server_reset(e);
  for (i = 0; i < sizeof(ops); i++) {
    p = lvpn__pbuf_alloc(&e->pool);
    memset(lvpn__pbuf_put(p, 80), 0xab, 80);
    p->data[0] = (uint8_t)(ops[i] << 3 | 1);
    memcpy(p->data + 1, server_sid, 8);
    inject(e, p);
  }
  spin(e);
  ck_assert_uint_eq(counter(e, "drop_opcode"), sizeof(ops));
  ck_assert_uint_eq(total_drops(e), sizeof(ops));
  ck_assert(lvpn__queue_empty(&e->ctl.got));
  ck_assert(lvpn__queue_empty(&e->data.got));
  env_finish(e);
}
END_TEST

START_TEST(test_packetmuxer_data_packets_pass_untouched) {
  env_t *e = &E;
  uint8_t wire[100];
  lvpn__pbuf_t *p;
  size_t i;

  env_start(e, LVPN__TLSWRAP_CRYPT);
  for (i = 0; i < sizeof(wire); i++)
    wire[i] = (uint8_t)(i * 31 + 7);
  /* up: P_DATA_V2 key 0 (0x48) and P_DATA_V1 key 2 (0x32), before any
   * session too: data is not the muxer's to judge */
  wire[0] = 0x48;
  p = lvpn__pbuf_alloc(&e->pool);
  memcpy(lvpn__pbuf_put(p, sizeof(wire)), wire, sizeof(wire));
  inject(e, p);
  p = lvpn__pbuf_alloc(&e->pool);
  memcpy(lvpn__pbuf_put(p, 1), "\x32", 1);
  inject(e, p);
  spin(e);
  ck_assert_uint_eq(e->data.got.count, 2);
  ck_assert(lvpn__queue_empty(&e->ctl.got));
  p = lvpn__pbufq_pop(&e->data.got);
  ck_assert_uint_eq(p->len, sizeof(wire));
  ck_assert_int_eq(memcmp(p->data, wire, sizeof(wire)), 0);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_DATA_V2);
  ck_assert_uint_eq(p->meta.key_id, 0);
  lvpn__pbuf_free(p);
  p = lvpn__pbufq_pop(&e->data.got);
  ck_assert_uint_eq(p->len, 1);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_DATA_V1);
  ck_assert_uint_eq(p->meta.key_id, 2);
  lvpn__pbuf_free(p);
  ck_assert_uint_eq(counter(e, "rx_data"), 2);

  /* down: a finished wire packet from the datachannel goes out as is */
  p = lvpn__pbuf_alloc(&e->pool);
  memcpy(lvpn__pbuf_put(p, sizeof(wire)), wire, sizeof(wire));
  p->meta.opcode = LVPN__P_DATA_V2;
  lvpn__layer_send_down(&e->data.base, p);
  spin(e);
  p = lvpn__pbufq_pop(&e->net.got);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->len, sizeof(wire));
  ck_assert_int_eq(memcmp(p->data, wire, sizeof(wire)), 0);
  lvpn__pbuf_free(p);
  ck_assert_uint_eq(counter(e, "tx_data"), 1);
  ck_assert_uint_eq(total_drops(e), 0);
  env_finish(e);
}
END_TEST

START_TEST(test_packetmuxer_down_encodes_and_wraps) {
  env_t *e = &E;
  lvpn__ctl_pkt_t h;
  lvpn__pbuf_t *p;

  env_start(e, LVPN__TLSWRAP_CRYPT);
  /* our reset, before the server's: no acks, so no remote sid */
  p = lvpn__pbuf_alloc(&e->pool);
  p->meta.opcode = LVPN__P_CONTROL_HARD_RESET_CLIENT_V2;
  p->meta.has_msg_id = 1;
  lvpn__layer_send_down(&e->ctl.base, p);
  spin(e);
  p = srv_read(e, &h);
  ck_assert_uint_eq(h.opcode, LVPN__P_CONTROL_HARD_RESET_CLIENT_V2);
  ck_assert_int_eq(memcmp(h.own_sid, client_sid, 8), 0);
  ck_assert_uint_eq(h.n_acks, 0);
  ck_assert_uint_eq(h.msg_id, 0);
  ck_assert_uint_eq(p->len, 0);
  lvpn__pbuf_free(p);

  server_reset(e);
  /* P_CONTROL_V1 with piggybacked acks and a payload */
  p = lvpn__pbuf_alloc(&e->pool);
  memcpy(lvpn__pbuf_put(p, 5), "hello", 5);
  p->meta.opcode = LVPN__P_CONTROL_V1;
  p->meta.key_id = 0;
  p->meta.has_msg_id = 1;
  p->meta.msg_id = 3;
  p->meta.n_acks = 2;
  p->meta.acks[0] = 7;
  p->meta.acks[1] = 6;
  lvpn__layer_send_down(&e->ctl.base, p);
  /* P_ACK_V1 with 8 ids */
  p = lvpn__pbuf_alloc(&e->pool);
  p->meta.opcode = LVPN__P_ACK_V1;
  p->meta.n_acks = 8;
  for (int i = 0; i < 8; i++)
    p->meta.acks[i] = (uint32_t)(100 + i);
  lvpn__layer_send_down(&e->ctl.base, p);
  spin(e);

  p = srv_read(e, &h);
  ck_assert_uint_eq(h.opcode, LVPN__P_CONTROL_V1);
  ck_assert_uint_eq(h.key_id, 0);
  ck_assert_int_eq(memcmp(h.own_sid, client_sid, 8), 0);
  ck_assert_int_eq(memcmp(h.remote_sid, server_sid, 8), 0);
  ck_assert_uint_eq(h.msg_id, 3);
  ck_assert_uint_eq(h.n_acks, 2);
  ck_assert_uint_eq(h.acks[0], 7);
  ck_assert_uint_eq(h.acks[1], 6);
  ck_assert_uint_eq(p->len, 5);
  ck_assert_int_eq(memcmp(p->data, "hello", 5), 0);
  lvpn__pbuf_free(p);
  p = srv_read(e, &h);
  ck_assert_uint_eq(h.opcode, LVPN__P_ACK_V1);
  ck_assert_int_eq(h.has_msg_id, 0);
  ck_assert_uint_eq(h.n_acks, 8);
  ck_assert_uint_eq(h.acks[7], 107);
  ck_assert_int_eq(memcmp(h.remote_sid, server_sid, 8), 0);
  lvpn__pbuf_free(p);

  /* metadata that cannot be encoded (key id 9) is dropped, counted */
  p = lvpn__pbuf_alloc(&e->pool);
  p->meta.opcode = LVPN__P_CONTROL_V1;
  p->meta.key_id = 9;
  lvpn__layer_send_down(&e->ctl.base, p);
  spin(e);
  ck_assert(lvpn__queue_empty(&e->net.got));
  ck_assert_uint_eq(counter(e, "drop_encode"), 1);
  ck_assert_uint_eq(counter(e, "tx_control"), 3);
  env_finish(e);
}
END_TEST

/* Sends P_CONTROL_V1 (key_id, msg_id) down; returns the wire opcode the
 * server sees and the number of bytes the client put on the wire. */
static uint8_t send_ctl(env_t *e, uint8_t key_id, uint32_t msg_id,
                        size_t *wire_len) {
  lvpn__ctl_pkt_t h;
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->pool);

  memcpy(lvpn__pbuf_put(p, 4), "TLS!", 4);
  p->meta.opcode = LVPN__P_CONTROL_V1;
  p->meta.key_id = key_id;
  p->meta.has_msg_id = 1;
  p->meta.msg_id = msg_id;
  lvpn__layer_send_down(&e->ctl.base, p);
  spin(e);
  p = lvpn__pbufq_pop(&e->net.got);
  ck_assert_ptr_nonnull(p);
  *wire_len = p->len;
  lvpn__pbufq_push(&e->net.got, p);
  p = srv_read(e, &h); /* the v2 test server checks and strips WKc */
  ck_assert_uint_eq(h.msg_id, msg_id);
  ck_assert_uint_eq(p->len, 4);
  ck_assert_int_eq(memcmp(p->data, "TLS!", 4), 0);
  lvpn__pbuf_free(p);
  return h.opcode;
}

START_TEST(test_packetmuxer_wkc_on_message_1_only_when_asked) {
  env_t *e = &E;
  size_t base_len, len;

  env_start(e, LVPN__TLSWRAP_CRYPT_V2);
  lvpn__tlswrap_set_early_neg(&e->session.wrap);
  ck_assert_uint_eq(lvpn__tlswrap_wkc_len(&e->session.wrap), WKC_LEN);
  server_reset(e);
  /* server did not ask: plain P_CONTROL_V1, no WKc */
  ck_assert_uint_eq(send_ctl(e, 0, 1, &base_len), LVPN__P_CONTROL_V1);
  ck_assert_uint_eq(base_len, 9 + 40 + 1 + 4 + 4);
  /* server asked (EARLY_NEG_FLAGS RESEND_WKC): message 1 carries WKc */
  e->session.early_neg_flags = LVPN__EARLY_NEG_FLAG_RESEND_WKC;
  ck_assert_uint_eq(send_ctl(e, 0, 1, &len), LVPN__P_CONTROL_WKC_V1);
  ck_assert_uint_eq(len, base_len + WKC_LEN);
  /* ... and only message 1 of key 0 */
  ck_assert_uint_eq(send_ctl(e, 0, 2, &len), LVPN__P_CONTROL_V1);
  ck_assert_uint_eq(len, base_len);
  ck_assert_uint_eq(send_ctl(e, 0, 0, &len), LVPN__P_CONTROL_V1);
  ck_assert_uint_eq(send_ctl(e, 1, 1, &len), LVPN__P_CONTROL_V1);
  ck_assert_uint_eq(total_drops(e), 0);
  env_finish(e);
}
END_TEST

/* Garbage of every length with every first byte: never crashes, never goes
 * up the control path, every packet accounted for. */
START_TEST(test_packetmuxer_garbage_never_crashes) {
  env_t *e = &E;
  static const int modes[] = {LVPN__TLSWRAP_CRYPT, LVPN__TLSWRAP_NONE};
  uint32_t x = 12345;
  size_t m, i, j, n, sent;
  lvpn__pbuf_t *p;

  for (m = 0; m < 2; m++) {
    env_start(e, modes[m]);
    server_reset(e);
    sent = 0;
    for (i = 0; i < 256; i++) {
      if (lvpn__wire_is_data((uint8_t)i))
        continue;
      for (n = 0; n < 120; n += 7) {
        p = lvpn__pbuf_alloc(&e->pool);
        lvpn__pbuf_put(p, n);
        for (j = 0; j < n; j++) {
          x = x * 1103515245u + 12345u;
          p->data[j] = (uint8_t)(x >> 16);
        }
        if (n > 0)
          p->data[0] = (uint8_t)i;
        if (n > 9 && (x & 1))
          memcpy(p->data + 1, server_sid, 8); /* past the sid check */
        inject(e, p);
        sent++;
      }
      spin(e);
    }
    /* with no wrap a random packet may decode; with tls-crypt none may */
    if (modes[m] == LVPN__TLSWRAP_CRYPT)
      ck_assert_uint_eq(total_drops(e), sent);
    ck_assert_uint_eq(total_drops(e) + e->ctl.got.count, sent);
    ck_assert_uint_eq(e->mux.base.stats.dropped, total_drops(e));
    env_finish(e);
  }
}
END_TEST

LVPN_TEST_MAIN("packetmuxer", 0, NULL, NULL,
               test_packetmuxer_server_reset_opens_session,
               test_packetmuxer_control_before_reset_dropped,
               test_packetmuxer_other_server_session_dropped,
               test_packetmuxer_acks_for_other_client_dropped,
               test_packetmuxer_bad_auth_and_replay_dropped,
               test_packetmuxer_truncated_and_undecodable_dropped,
               test_packetmuxer_unknown_opcode_dropped,
               test_packetmuxer_data_packets_pass_untouched,
               test_packetmuxer_down_encodes_and_wraps,
               test_packetmuxer_wkc_on_message_1_only_when_asked,
               test_packetmuxer_garbage_never_crashes)
