/* layers/reliabletransport between two capture layers: below, a fake peer
 * that sees what the layer sends (metadata as the packetmuxer would encode
 * it) and acknowledges or not; above, the application side (the control
 * channel). A small tls-timeout keeps the retransmission tests fast. */
#include <string.h>

#include "layers/layer.h"
#include "layers/packetmuxer/wire.h"
#include "layers/reliabletransport/reliabletransport.h"
#include "tests/fakes.h"

/* ---- environment: peer (capture) | reliabletransport | app (capture) ---- */

typedef struct {
  fake_env_t fe;
  lvpn__reltrans_t rt;
  fake_cap_t peer, app;
  uv_timer_t settle; /* spin()'s bound */
  int settled;
} env_t;

static env_t E;

static void env_start(env_t *e, uint32_t tls_timeout_ms) {
  memset(e, 0, sizeof(*e));
  fake_env_init(&e->fe);
  lvpn__reltrans_init(&e->rt, &e->fe.loop, &e->fe.pool, tls_timeout_ms,
                      &e->fe.log);
  fake_env_cap(&e->fe, &e->peer, "peer");
  fake_env_cap(&e->fe, &e->app, "app");
  fake_env_stack(&e->fe, &e->peer.base, &e->rt.base, &e->app.base, NULL);
  ck_assert(lvpn__reltrans_all_acked(&e->rt));
  ck_assert_int_eq(uv_timer_init(&e->fe.loop, &e->settle), 0);
  e->settle.data = e;
  fake_env_start(&e->fe);
}

static void settle_cb(uv_timer_t *t) {
  ((env_t *)t->data)->settled = 1;
}

/* Loop turns until the queues drained, for at least 10 ms so that what the
 * layer defers by a few ms (the ACK flush) happens too. With a long
 * tls-timeout no retransmission can be due meanwhile. */
static void spin(env_t *e) {
  int i;
  for (i = 0; i < 8; i++)
    uv_run(&e->fe.loop, UV_RUN_NOWAIT);
  e->settled = 0;
  uv_timer_start(&e->settle, settle_cb, 10, 0);
  while (!e->settled)
    uv_run(&e->fe.loop, UV_RUN_ONCE);
  for (i = 0; i < 8; i++) /* a slow machine may need the turns after it */
    uv_run(&e->fe.loop, UV_RUN_NOWAIT);
}

static void env_finish(env_t *e) {
  uv_close((uv_handle_t *)&e->settle, NULL);
  fake_env_finish(&e->fe, LVPN_ESTOPPED);
}

static uint64_t counter(env_t *e, const char *name) {
  return fake_counter(&e->rt.base, "reliabletransport", name);
}

/* ---- the fake peer and the app ---- */

/* A packet from the peer, as the packetmuxer hands it up. msg_id < 0: an
 * ACK-only packet. */
static void peer_send(env_t *e, uint8_t opcode, int64_t msg_id,
                      const uint32_t *acks, int n_acks, const char *payload) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
  size_t n = payload ? strlen(payload) : 0;
  memcpy(lvpn__pbuf_put(p, n), payload ? payload : "", n);
  p->meta.opcode = opcode;
  p->meta.key_id = 0;
  p->meta.has_msg_id = msg_id >= 0;
  p->meta.msg_id = msg_id >= 0 ? (uint32_t)msg_id : 0;
  p->meta.n_acks = (uint8_t)n_acks;
  if (n_acks > 0)
    memcpy(p->meta.acks, acks, sizeof(uint32_t) * (size_t)n_acks);
  lvpn__layer_send_up(&e->peer.base, p);
}

static void peer_ack(env_t *e, uint32_t id) {
  peer_send(e, LVPN__P_ACK_V1, -1, &id, 1, NULL);
}

static void peer_msg(env_t *e, uint32_t id, const char *payload) {
  peer_send(e, LVPN__P_CONTROL_V1, id, NULL, 0, payload);
}

static void app_send(env_t *e, uint8_t opcode, const char *payload) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
  size_t n = strlen(payload);
  memcpy(lvpn__pbuf_put(p, n), payload, n);
  p->meta.opcode = opcode;
  p->meta.key_id = 0;
  lvpn__layer_send_down(&e->app.base, p);
}

/* The next packet the peer got, of type `opcode`; the caller frees it. */
static lvpn__pbuf_t *peer_pop(env_t *e, uint8_t opcode) {
  lvpn__pbuf_t *p = fake_cap_pop(&e->peer);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->meta.opcode, opcode);
  return p;
}

/* The next packet to the peer: `opcode`, acking exactly `id`. */
static lvpn__pbuf_t *pop_acking(env_t *e, uint8_t opcode, uint32_t id) {
  lvpn__pbuf_t *p = peer_pop(e, opcode);
  ck_assert_uint_eq(p->meta.n_acks, 1);
  ck_assert_uint_eq(p->meta.acks[0], id);
  return p;
}

static int has_payload(const lvpn__pbuf_t *p, const char *s) {
  return p->len == strlen(s) && memcmp(p->data, s, p->len) == 0;
}

/* Pops everything the peer received; ORs the acked ids (< 32) into *acked
 * and counts the ACK-only packets. */
static int drain_peer_acks(env_t *e, uint32_t *acked) {
  lvpn__pbuf_t *p;
  int i, ack_only = 0;
  while ((p = fake_cap_pop(&e->peer)) != NULL) {
    for (i = 0; i < p->meta.n_acks; i++) {
      ck_assert_uint_lt(p->meta.acks[i], 32);
      *acked |= 1u << p->meta.acks[i];
    }
    if (p->meta.opcode == LVPN__P_ACK_V1) {
      ck_assert_uint_eq(p->meta.has_msg_id, 0);
      ck_assert_uint_eq(p->len, 0);
      ack_only++;
    }
    lvpn__pbuf_free(p);
  }
  return ack_only;
}

/* ---- tests ---- */

START_TEST(test_reliabletransport_ack_only_after_receiving) {
  env_t *e = &E;
  lvpn__pbuf_t *p;

  env_start(e, 10000);
  peer_msg(e, 0, "m0");
  spin(e);
  p = fake_cap_pop(&e->app);
  ck_assert_ptr_nonnull(p);
  ck_assert(has_payload(p, "m0"));
  ck_assert_uint_eq(p->meta.msg_id, 0);
  lvpn__pbuf_free(p);
  /* nothing to send: the ACK goes out alone, as P_ACK_V1 */
  ck_assert_uint_eq(e->peer.got.count, 1);
  p = pop_acking(e, LVPN__P_ACK_V1, 0);
  ck_assert_uint_eq(p->meta.has_msg_id, 0);
  ck_assert_uint_eq(p->len, 0);
  lvpn__pbuf_free(p);
  ck_assert_uint_eq(counter(e, "acks_only_sent"), 1);
  ck_assert_int_eq(lvpn__rel_acks_pending(&e->rt.rel), 0);

  /* an ACK is never acknowledged, nor delivered */
  peer_ack(e, 0);
  spin(e);
  ck_assert(lvpn__queue_empty(&e->peer.got));
  ck_assert(lvpn__queue_empty(&e->app.got));
  ck_assert_uint_eq(counter(e, "acks_only_sent"), 1);
  ck_assert(lvpn__reltrans_all_acked(&e->rt));
  env_finish(e);
}
END_TEST

START_TEST(test_reliabletransport_acks_piggyback_on_outgoing) {
  env_t *e = &E;
  lvpn__pbuf_t *p;

  env_start(e, 10000);
  /* a message arrives and the app answers within the same loop turn */
  peer_msg(e, 0, "hello");
  app_send(e, LVPN__P_CONTROL_V1, "reply");
  spin(e);
  ck_assert_uint_eq(e->app.got.count, 1);
  ck_assert_uint_eq(e->peer.got.count, 1);
  p = pop_acking(e, LVPN__P_CONTROL_V1, 0);
  ck_assert_uint_eq(p->meta.has_msg_id, 1);
  ck_assert_uint_eq(p->meta.msg_id, 0);
  ck_assert(has_payload(p, "reply"));
  lvpn__pbuf_free(p);
  ck_assert_uint_eq(counter(e, "acks_only_sent"), 0);
  ck_assert(!lvpn__reltrans_all_acked(&e->rt));
  peer_ack(e, 0);
  spin(e);
  ck_assert(lvpn__reltrans_all_acked(&e->rt));
  ck_assert(lvpn__queue_empty(&e->peer.got));

  /* at most 4 acks ride on a control packet; the rest follow */
  peer_msg(e, 1, "a");
  peer_msg(e, 2, "b");
  peer_msg(e, 3, "c");
  peer_msg(e, 4, "d");
  peer_msg(e, 5, "e");
  peer_msg(e, 6, "f");
  app_send(e, LVPN__P_CONTROL_V1, "x");
  spin(e);
  ck_assert_uint_eq(e->app.got.count, 1 + 6);
  p = peer_pop(e, LVPN__P_CONTROL_V1);
  ck_assert_uint_le(p->meta.n_acks, 4);
  lvpn__pbuf_free(p);
  {
    uint32_t acked = 0;
    drain_peer_acks(e, &acked);
    ck_assert_int_eq(lvpn__rel_acks_pending(&e->rt.rel), 0);
  }
  env_finish(e);
}
END_TEST

/* A layer above that answers every message at once, as the TLS session
 * answers a handshake flight (here directly above, so even sooner). */
static void echo_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  fake_cap_recv(l, lvpn__pbuf_clone(p));
  memset(&p->meta, 0, sizeof(p->meta));
  p->meta.opcode = LVPN__P_CONTROL_V1;
  lvpn__layer_send_down(l, p);
}

/* Prompt ACK: the received packet is acknowledged on the next loop turn
 * (a P_ACK_V1), and the reply the layer above produces a few turns later
 * repeats the ACK (MRU), so losing either packet still acknowledges it. */
START_TEST(test_reliabletransport_ack_prompt_and_repeated_on_reply) {
  static const lvpn__layer_ops_t echo_ops = {.up = echo_up,
                                             .down = fake_cap_recv};
  env_t *e = &E;
  lvpn__pbuf_t *p;

  env_start(e, 10000);
  e->app.base.ops = &echo_ops;
  peer_msg(e, 0, "client hello, please");
  spin(e);
  ck_assert_uint_eq(e->app.got.count, 1);
  p = pop_acking(e, LVPN__P_ACK_V1, 0);
  lvpn__pbuf_free(p);
  p = peer_pop(e, LVPN__P_CONTROL_V1);
  ck_assert_uint_ge(p->meta.n_acks, 1);
  ck_assert_uint_eq(p->meta.acks[0], 0);
  lvpn__pbuf_free(p);
  ck_assert(lvpn__queue_empty(&e->peer.got));
  ck_assert_uint_eq(counter(e, "acks_only_sent"), 1);
  env_finish(e);
}
END_TEST

START_TEST(test_reliabletransport_retransmits_after_timeout) {
  env_t *e = &E;
  lvpn__pbuf_t *p;
  uint64_t sent;
  int guard = 0;

  env_start(e, 100);
  sent = uv_now(&e->fe.loop); /* the layer sends at this loop time or later */
  app_send(e, LVPN__P_CONTROL_V1, "lost");
  spin(e);
  ck_assert_int_eq(e->peer.n, 1);
  /* no ACK from the peer: the layer's timer resends after 100 ms, then
   * again 100 ms later (the layer caps the doubling at tls-timeout).
   * Arrivals are stamped up to a few turns late, so bounds are taken from
   * the send; the upper ones allow a slow machine. */
  while (e->peer.n < 3 && guard++ < 100)
    uv_run(&e->fe.loop, UV_RUN_ONCE);
  ck_assert_int_eq(e->peer.n, 3);
  ck_assert_uint_ge(e->peer.at[1] - sent, 100);
  ck_assert_uint_lt(e->peer.at[1] - sent, 190);
  ck_assert_uint_ge(e->peer.at[2] - sent, 100 + 100);
  ck_assert_uint_lt(e->peer.at[2] - sent, 100 + 100 + 150);
  while ((p = fake_cap_pop(&e->peer)) != NULL) {
    ck_assert_uint_eq(p->meta.opcode, LVPN__P_CONTROL_V1);
    ck_assert_uint_eq(p->meta.msg_id, 0);
    ck_assert(has_payload(p, "lost"));
    lvpn__pbuf_free(p);
  }
  ck_assert_uint_eq(counter(e, "retransmits"), 2);
  ck_assert(!lvpn__reltrans_all_acked(&e->rt));
  /* acknowledged: no timer left, nothing more is sent */
  peer_ack(e, 0);
  spin(e);
  ck_assert(lvpn__reltrans_all_acked(&e->rt));
  ck_assert(!uv_is_active((uv_handle_t *)&e->rt.timer));
  ck_assert_int_eq(uv_run(&e->fe.loop, UV_RUN_DEFAULT),
                   0); /* nothing pending */
  ck_assert_int_eq(e->peer.n, 3);
  env_finish(e);
}
END_TEST

START_TEST(test_reliabletransport_delivers_in_order) {
  env_t *e = &E;
  static const char *const want[] = {"m0", "m1", "m2", "m3", "m4"};
  uint32_t acked = 0;
  lvpn__pbuf_t *p;
  int i;

  env_start(e, 10000);
  peer_msg(e, 2, "m2");
  spin(e);
  ck_assert(lvpn__queue_empty(&e->app.got)); /* held until 0 and 1 came */
  peer_msg(e, 4, "m4");
  peer_msg(e, 0, "m0");
  spin(e);
  ck_assert_uint_eq(e->app.got.count, 1);
  peer_msg(e, 3, "m3");
  peer_msg(e, 1, "m1");
  spin(e);
  ck_assert_uint_eq(e->app.got.count, 5);
  for (i = 0; i < 5; i++) {
    p = fake_cap_pop(&e->app);
    ck_assert_msg(has_payload(p, want[i]), "position %d", i);
    ck_assert_uint_eq(p->meta.msg_id, (uint32_t)i);
    lvpn__pbuf_free(p);
  }
  /* every id was acknowledged, out-of-order ones too */
  drain_peer_acks(e, &acked);
  ck_assert_uint_eq(acked, 0x1f);
  env_finish(e);
}
END_TEST

START_TEST(test_reliabletransport_duplicates_not_redelivered) {
  env_t *e = &E;
  uint32_t acked = 0;

  env_start(e, 10000);
  peer_msg(e, 0, "m0");
  spin(e);
  ck_assert_uint_eq(e->app.got.count, 1);
  drain_peer_acks(e, &acked);
  /* the peer did not get our ACK and resends: ACKed again, not delivered */
  acked = 0;
  peer_msg(e, 0, "m0");
  spin(e);
  ck_assert_uint_eq(e->app.got.count, 1);
  ck_assert_int_eq(drain_peer_acks(e, &acked), 1);
  ck_assert_uint_eq(acked, 1u << 0);
  /* a duplicate of a message still waiting for an earlier one */
  peer_msg(e, 2, "m2");
  peer_msg(e, 2, "m2");
  spin(e);
  peer_msg(e, 1, "m1");
  peer_msg(e, 2, "m2");
  spin(e);
  ck_assert_uint_eq(e->app.got.count, 3);
  ck_assert_uint_eq(counter(e, "dup_received"), 3);
  env_finish(e);
}
END_TEST

START_TEST(test_reliabletransport_window_and_backlog) {
  env_t *e = &E;
  char buf[8];
  lvpn__pbuf_t *p;
  uint32_t id, next = 0;
  int i;

  env_start(e, 10000);
  for (i = 0; i < 10; i++) {
    buf[0] = 'p';
    buf[1] = (char)('0' + i);
    buf[2] = '\0';
    app_send(e, LVPN__P_CONTROL_V1, buf);
  }
  spin(e);
  /* six in flight, four waiting */
  ck_assert_uint_eq(e->peer.got.count - counter(e, "retransmits"), 6);
  ck_assert_uint_eq(e->rt.backlog.count, 4);
  ck_assert_uint_eq(counter(e, "backlog_peak"), 4);
  ck_assert(!lvpn__reltrans_all_acked(&e->rt));
  /* an ACK for a later id does not slide the window */
  peer_ack(e, 5);
  spin(e);
  ck_assert_uint_eq(e->peer.got.count - counter(e, "retransmits"), 6);
  peer_ack(e, 0);
  peer_ack(e, 1);
  spin(e);
  /* (a loop turn slower than the RTO on a loaded machine retransmits:
   * those copies are not new messages) */
  ck_assert_uint_eq(e->peer.got.count - counter(e, "retransmits"), 8);
  for (id = 2; id <= 7; id++)
    peer_ack(e, id);
  spin(e);
  ck_assert_uint_eq(e->peer.got.count - counter(e, "retransmits"), 10);
  ck_assert_uint_eq(e->rt.backlog.count, 0);
  /* all in order, numbered 0..9, payloads in the order they came */
  while ((p = fake_cap_pop(&e->peer)) != NULL) {
    if (p->meta.msg_id < next) { /* a retransmission (see above) */
      lvpn__pbuf_free(p);
      continue;
    }
    ck_assert_uint_eq(p->meta.msg_id, next);
    ck_assert_uint_eq(p->len, 2);
    ck_assert_int_eq(p->data[1], '0' + (int)next);
    next++;
    lvpn__pbuf_free(p);
  }
  ck_assert_uint_eq(next, 10);
  ck_assert(!lvpn__reltrans_all_acked(&e->rt));
  peer_ack(e, 8);
  spin(e);
  ck_assert(!lvpn__reltrans_all_acked(&e->rt));
  peer_ack(e, 9);
  spin(e);
  ck_assert(lvpn__reltrans_all_acked(&e->rt));
  while ((p = fake_cap_pop(&e->peer)) != NULL) { /* no ACK for ACKs */
    ck_assert_uint_lt(p->meta.msg_id, 10); /* only retransmissions */
    ck_assert_uint_ne(p->meta.opcode, LVPN__P_ACK_V1);
    lvpn__pbuf_free(p);
  }
  env_finish(e);
}
END_TEST

START_TEST(test_reliabletransport_outside_receive_window_not_acked) {
  env_t *e = &E;

  env_start(e, 10000);
  peer_msg(e, 12, "too far"); /* expected 0, window 12 */
  spin(e);
  ck_assert(lvpn__queue_empty(&e->app.got));
  ck_assert(lvpn__queue_empty(&e->peer.got));
  ck_assert_uint_eq(counter(e, "window_drops"), 1);
  peer_msg(e, 11, "last in window");
  spin(e);
  ck_assert(lvpn__queue_empty(&e->app.got));
  /* acked and buffered; 0..10 are missing, so two more ACKs repeat 11
   * for the peer's fast retransmit */
  ck_assert_uint_eq(e->peer.got.count, 3);
  ck_assert_uint_eq(counter(e, "gap_acks"), 2);
  env_finish(e);
}
END_TEST

START_TEST(test_reliabletransport_fast_retransmit) {
  env_t *e = &E;
  lvpn__pbuf_t *p;

  env_start(e, 10000);
  app_send(e, LVPN__P_CONTROL_V1, "a");
  app_send(e, LVPN__P_CONTROL_V1, "b");
  app_send(e, LVPN__P_CONTROL_V1, "c");
  app_send(e, LVPN__P_CONTROL_V1, "d");
  spin(e);
  ck_assert_uint_eq(e->peer.got.count, 4);
  fake_cap_clear(&e->peer);
  /* 0 got lost: three ACKs for later ids resend it long before 10 s */
  peer_ack(e, 1);
  peer_ack(e, 2);
  spin(e);
  ck_assert(lvpn__queue_empty(&e->peer.got));
  peer_ack(e, 3);
  spin(e);
  ck_assert_uint_eq(e->peer.got.count, 1);
  p = fake_cap_pop(&e->peer);
  ck_assert_uint_eq(p->meta.msg_id, 0);
  ck_assert(has_payload(p, "a"));
  lvpn__pbuf_free(p);
  ck_assert_uint_eq(counter(e, "fast_retransmits"), 1);
  env_finish(e);
}
END_TEST

START_TEST(test_reliabletransport_server_reset_bursts_once) {
  env_t *e = &E;
  lvpn__pbuf_t *p;

  env_start(e, 10000);
  app_send(e, LVPN__P_CONTROL_HARD_RESET_CLIENT_V2, "");
  spin(e);
  ck_assert_uint_eq(e->peer.got.count, 1);
  fake_cap_clear(&e->peer);
  /* the server's reset, not acking ours: ours goes again at once, with
   * the ACK for theirs */
  peer_send(e, LVPN__P_CONTROL_HARD_RESET_SERVER_V2, 0, NULL, 0, NULL);
  spin(e);
  ck_assert_uint_eq(e->app.got.count, 1);
  ck_assert_uint_eq(e->peer.got.count, 1);
  p = pop_acking(e, LVPN__P_CONTROL_HARD_RESET_CLIENT_V2, 0);
  ck_assert_uint_eq(p->meta.msg_id, 0);
  lvpn__pbuf_free(p);
  /* once per session: a repeated server reset is only re-acked */
  peer_send(e, LVPN__P_CONTROL_HARD_RESET_SERVER_V2, 0, NULL, 0, NULL);
  spin(e);
  ck_assert_uint_eq(e->peer.got.count, 1);
  lvpn__pbuf_free(peer_pop(e, LVPN__P_ACK_V1));
  ck_assert_uint_eq(e->app.got.count, 1);
  env_finish(e);
}
END_TEST

START_TEST(test_reliabletransport_shutdown_frees_everything) {
  env_t *e = &E;
  int i;

  env_start(e, 10000);
  for (i = 0; i < 10; i++)
    app_send(e, LVPN__P_CONTROL_V1, "pending");
  peer_msg(e, 3, "buffered out of order");
  spin(e);
  ck_assert_uint_gt(e->rt.backlog.count, 0);
  env_finish(e); /* asserts the pool is empty */
}
END_TEST

int main(void) {
  const TTest *core[] = {
      test_reliabletransport_ack_only_after_receiving,
      test_reliabletransport_acks_piggyback_on_outgoing,
      test_reliabletransport_retransmits_after_timeout,
      test_reliabletransport_delivers_in_order,
      test_reliabletransport_duplicates_not_redelivered,
      test_reliabletransport_window_and_backlog,
      test_reliabletransport_outside_receive_window_not_acked,
      test_reliabletransport_fast_retransmit,
      test_reliabletransport_server_reset_bursts_once,
      test_reliabletransport_shutdown_frees_everything,
      NULL};
  /* asserts intended behaviour the layer does not have yet (see the test) */
  const TTest *ack_timing[] = {
      test_reliabletransport_ack_prompt_and_repeated_on_reply, NULL};
  Suite *s = suite_create("reliabletransport");

  fake_tcase(s, "core", 0, core);
  fake_tcase(s, "ack_timing", 0, ack_timing);
  return fake_run(s);
}
