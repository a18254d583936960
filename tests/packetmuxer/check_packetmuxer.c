/* layers/packetmuxer: between a capture layer in place of networkio and
 * capture layers for the control and data paths. Server packets are crafted
 * with the wire codec and a server-direction tls-crypt wrap (tlswrap.h), and
 * what the muxer sends down is unwrapped and decoded the same way. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "layers/layer.h"
#include "layers/packetmuxer/packetmuxer.h"
#include "layers/packetmuxer/session.h"
#include "layers/packetmuxer/tlswrap.h"
#include "layers/packetmuxer/wire.h"
#include "tests/fakes.h"

/* ---- environment ---- */

static const uint8_t client_sid[8] = {0xc1, 0xc2, 0xc3, 0xc4,
                                      0xc5, 0xc6, 0xc7, 0xc8};
static const uint8_t server_sid[8] = {0x51, 0x52, 0x53, 0x54,
                                      0x55, 0x56, 0x57, 0x58};
static const uint8_t other_sid[8] = {0x61, 0x62, 0x63, 0x64,
                                     0x65, 0x66, 0x67, 0x68};

typedef struct {
  fake_env_t fe;
  lvpn__session_t session;
  lvpn__tlswrap_t srv; /* the server's side of the session's wrap */
  lvpn__packetmuxer_t mux;
  fake_cap_t net, ctl, data;
} env_t;

static env_t E;

#define WKC_LEN 300 /* any length: only the test server checks it */

static void env_start(env_t *e, int mode) {
  char pem[4096], err[256] = "";

  memset(e, 0, sizeof(*e));
  fake_env_init(&e->fe);
  memcpy(e->session.own_sid, client_sid, 8);
  if (mode == LVPN__TLSWRAP_CRYPT_V2)
    fake_v2_client_key_pem(pem, sizeof(pem), 13, 5, WKC_LEN);
  else
    fake_static_key_pem(pem, sizeof(pem), 7, 3);
  ck_assert_msg(lvpn__tlswrap_init(&e->session.wrap, mode, pem, strlen(pem), -1,
                                   NULL, err, sizeof(err)) == 0,
                "%s", err);
  ck_assert_msg(lvpn__tlswrap_init_server(&e->srv, mode, pem, strlen(pem), -1,
                                          NULL, err, sizeof(err)) == 0,
                "%s", err);
  lvpn__packetmuxer_init(&e->mux, &e->fe.loop, &e->session, &e->fe.log);
  fake_env_cap(&e->fe, &e->net, "net");
  fake_env_cap(&e->fe, &e->ctl, "ctl");
  fake_env_cap(&e->fe, &e->data, "data");
  fake_env_stack(&e->fe, &e->net.base, &e->mux.base, &e->ctl.base, NULL);
  ck_assert_int_eq(lvpn__workers_add(&e->fe.w, &e->data.base), 0);
  e->mux.data_up = &e->data.base;
  e->data.base.below = &e->mux.base;
  fake_env_start(&e->fe);
}

/* Runs the loop until every layer's queues are drained (idle handles stop:
 * the muxer owns no timer). */
static void spin(env_t *e) {
  fake_env_run(&e->fe);
}

static void env_finish(env_t *e) {
  fake_env_finish(&e->fe, LVPN_ESTOPPED);
  lvpn__tlswrap_free(&e->session.wrap);
  lvpn__tlswrap_free(&e->srv);
}

/* The next packet the control path got, of type `opcode`; the caller
 * frees it. */
static lvpn__pbuf_t *ctl_pop(env_t *e, uint8_t opcode) {
  lvpn__pbuf_t *p = fake_cap_pop(&e->ctl);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->meta.opcode, opcode);
  return p;
}

/* Neither the control nor the data path got anything. */
static void expect_nothing_up(env_t *e) {
  ck_assert(lvpn__queue_empty(&e->ctl.got));
  ck_assert(lvpn__queue_empty(&e->data.got));
}

/* A counter as lvpn_client_counters() would report it. */
static uint64_t counter(env_t *e, const char *name) {
  return fake_counter(&e->mux.base, "packetmuxer", name);
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

/* A packet from `sid` acknowledging `rsid`'s reset (message 0). */
static srv_pkt_t acking(uint8_t opcode, const uint8_t *sid,
                        const uint8_t *rsid) {
  srv_pkt_t s = {.opcode = opcode, .sid = sid, .rsid = rsid, .n_acks = 1};
  return s;
}

/* A P_CONTROL_V1 from `sid`, acknowledging nothing. */
static srv_pkt_t control(const uint8_t *sid, uint32_t msg_id,
                         const char *payload) {
  srv_pkt_t s = {.opcode = LVPN__P_CONTROL_V1,
                 .sid = sid,
                 .msg_id = msg_id,
                 .payload = payload};
  return s;
}

/* The server's wire packet for `s`, wrapped with the server's key. */
static lvpn__pbuf_t *srv_packet(env_t *e, const srv_pkt_t *s) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
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
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
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
  srv_pkt_t s =
      acking(LVPN__P_CONTROL_HARD_RESET_SERVER_V2, server_sid, client_sid);
  inject(e, srv_packet(e, &s));
  spin(e);
  ck_assert(e->session.have_remote_sid);
  fake_cap_clear(&e->ctl);
}

/* What the server reads from a packet the muxer sent down. */
static lvpn__pbuf_t *srv_read(env_t *e, lvpn__ctl_pkt_t *h) {
  lvpn__pbuf_t *p = fake_cap_pop(&e->net);
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
  p = ctl_pop(e, LVPN__P_CONTROL_HARD_RESET_SERVER_V2);
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
  p = ctl_pop(e, LVPN__P_CONTROL_V1);
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
  p = ctl_pop(e, LVPN__P_ACK_V1);
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
  srv_pkt_t c = control(server_sid, 0, "early");
  srv_pkt_t a = acking(LVPN__P_ACK_V1, server_sid, client_sid);

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
  srv_pkt_t c = control(other_sid, 1, "x");
  srv_pkt_t r =
      acking(LVPN__P_CONTROL_HARD_RESET_SERVER_V2, other_sid, client_sid);

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
  srv_pkt_t r = acking(LVPN__P_CONTROL_HARD_RESET_SERVER_V2, server_sid,
                       other_sid); /* acks someone else's reset */
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
  srv_pkt_t c = control(server_sid, 1, "payload bytes");
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

static int floats, float_gen;
static void on_authentic(void *ud, uint8_t gen) {
  ck_assert_ptr_eq(ud, &E);
  floats++;
  float_gen = gen;
}

/* float: a control packet from a new address (meta.float_gen) is reported
 * only once tls-crypt/tls-auth authenticated it and it is of our session;
 * with no wrap (nothing authenticates it) never. */
static void float_case(int mode, int want) {
  env_t *e = &E;
  srv_pkt_t c = control(server_sid, 1, "x"), o = control(other_sid, 2, "y");
  lvpn__pbuf_t *p;

  floats = float_gen = 0;
  env_start(e, mode);
  e->mux.on_authentic = on_authentic;
  e->mux.auth_ud = e;
  server_reset(e);
  p = srv_packet(e, &c);
  p->meta.float_gen = 7;
  if (mode != LVPN__TLSWRAP_NONE) { /* forged: not authenticated */
    p->data[p->len - 1] ^= 1;
    inject(e, p);
    p = srv_packet(e, &o); /* authenticated, another session */
    p->meta.float_gen = 7;
    inject(e, p);
    spin(e);
    ck_assert_int_eq(floats, 0);
    p = srv_packet(e, &c);
    p->meta.float_gen = 7;
  }
  inject(e, p);
  c.msg_id = 2;
  inject(e, srv_packet(e, &c)); /* from the server's address: nothing */
  spin(e);
  ck_assert_int_eq(floats, want);
  ck_assert_int_eq(float_gen, want ? 7 : 0);
  ck_assert_uint_eq(e->ctl.got.count, 2);
  env_finish(e);
}

START_TEST(test_packetmuxer_float_only_when_authenticated) {
  float_case(LVPN__TLSWRAP_CRYPT, 1);
  float_case(LVPN__TLSWRAP_AUTH, 1);
  float_case(LVPN__TLSWRAP_NONE, 0);
}
END_TEST

START_TEST(test_packetmuxer_bad_auth_and_replay_dropped) {
  bad_auth_and_replay(LVPN__TLSWRAP_CRYPT);
  bad_auth_and_replay(LVPN__TLSWRAP_AUTH); /* HMAC-SHA1, no key direction */
}
END_TEST

START_TEST(test_packetmuxer_truncated_and_undecodable_dropped) {
  env_t *e = &E;
  srv_pkt_t c = control(server_sid, 1, "abc");
  uint8_t raw[64];
  lvpn__pbuf_t *p;
  size_t cut;

  env_start(e, LVPN__TLSWRAP_CRYPT);
  server_reset(e);
  /* empty datagram */
  inject(e, lvpn__pbuf_alloc(&e->fe.pool));
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
  expect_nothing_up(e);
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
    p = lvpn__pbuf_alloc(&e->fe.pool);
    memset(lvpn__pbuf_put(p, 80), 0xab, 80);
    p->data[0] = (uint8_t)(ops[i] << 3 | 1);
    memcpy(p->data + 1, server_sid, 8);
    inject(e, p);
  }
  spin(e);
  ck_assert_uint_eq(counter(e, "drop_opcode"), sizeof(ops));
  ck_assert_uint_eq(total_drops(e), sizeof(ops));
  expect_nothing_up(e);
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
  p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, sizeof(wire)), wire, sizeof(wire));
  inject(e, p);
  p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, 1), "\x32", 1);
  inject(e, p);
  spin(e);
  ck_assert_uint_eq(e->data.got.count, 2);
  ck_assert(lvpn__queue_empty(&e->ctl.got));
  p = fake_cap_pop(&e->data);
  ck_assert_uint_eq(p->len, sizeof(wire));
  ck_assert_int_eq(memcmp(p->data, wire, sizeof(wire)), 0);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_DATA_V2);
  ck_assert_uint_eq(p->meta.key_id, 0);
  lvpn__pbuf_free(p);
  p = fake_cap_pop(&e->data);
  ck_assert_uint_eq(p->len, 1);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_DATA_V1);
  ck_assert_uint_eq(p->meta.key_id, 2);
  lvpn__pbuf_free(p);
  ck_assert_uint_eq(counter(e, "rx_data"), 2);

  /* down: a finished wire packet from the datachannel goes out as is */
  p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, sizeof(wire)), wire, sizeof(wire));
  p->meta.opcode = LVPN__P_DATA_V2;
  lvpn__layer_send_down(&e->data.base, p);
  spin(e);
  p = fake_cap_pop(&e->net);
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
  p = lvpn__pbuf_alloc(&e->fe.pool);
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
  p = lvpn__pbuf_alloc(&e->fe.pool);
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
  p = lvpn__pbuf_alloc(&e->fe.pool);
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
  p = lvpn__pbuf_alloc(&e->fe.pool);
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
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);

  memcpy(lvpn__pbuf_put(p, 4), "TLS!", 4);
  p->meta.opcode = LVPN__P_CONTROL_V1;
  p->meta.key_id = key_id;
  p->meta.has_msg_id = 1;
  p->meta.msg_id = msg_id;
  lvpn__layer_send_down(&e->ctl.base, p);
  spin(e);
  p = fake_cap_pop(&e->net);
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
  size_t m, i, n, sent;
  lvpn__pbuf_t *p;

  for (m = 0; m < 2; m++) {
    env_start(e, modes[m]);
    server_reset(e);
    sent = 0;
    for (i = 0; i < 256; i++) {
      if (lvpn__wire_is_data((uint8_t)i))
        continue;
      for (n = 0; n < 120; n += 7) {
        p = lvpn__pbuf_alloc(&e->fe.pool);
        fake_junk(&x, lvpn__pbuf_put(p, n), n);
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
               test_packetmuxer_float_only_when_authenticated,
               test_packetmuxer_truncated_and_undecodable_dropped,
               test_packetmuxer_unknown_opcode_dropped,
               test_packetmuxer_data_packets_pass_untouched,
               test_packetmuxer_down_encodes_and_wraps,
               test_packetmuxer_wkc_on_message_1_only_when_asked,
               test_packetmuxer_garbage_never_crashes)
