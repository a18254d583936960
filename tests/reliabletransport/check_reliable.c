/* layers/reliable: control-channel reliability with a fake clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/packetmuxer/wire.h"
#include "layers/reliabletransport/reliable.h"
#include "lib/pbuf.h"
#include "tests/fakes.h"

static lvpn__pbuf_t *msg(int n) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&fake_pool);
  ck_assert_ptr_nonnull(p);
  p->len = (size_t)snprintf((char *)p->data, 32, "msg %d", n);
  p->meta.opcode = LVPN__P_CONTROL_V1;
  return p;
}

static lvpn__pbuf_t *rmsg(uint32_t id) {
  lvpn__pbuf_t *p = msg((int)id);
  p->meta.msg_id = id;
  return p;
}

/* Polls once and expects a packet with `id`; returns its piggybacked acks. */
static lvpn__acks_t expect_packet(lvpn__rel_t *r, uint64_t now, uint32_t id) {
  lvpn__pbuf_t *out;
  lvpn__acks_t a;
  ck_assert_int_eq(lvpn__rel_poll(r, now, &out, &a), LVPN__REL_POLL_PACKET);
  ck_assert_ptr_nonnull(out);
  ck_assert_uint_eq(out->meta.msg_id, id);
  ck_assert_uint_eq(out->meta.opcode, LVPN__P_CONTROL_V1);
  lvpn__pbuf_free(out);
  return a;
}

/* expect_packet, then the next deadline is `next`. */
static void expect_packet_then(lvpn__rel_t *r, uint64_t now, uint32_t id,
                               uint64_t next) {
  expect_packet(r, now, id);
  ck_assert_uint_eq(lvpn__rel_next_deadline(r), next);
}

static void expect_none(lvpn__rel_t *r, uint64_t now) {
  lvpn__pbuf_t *out = (lvpn__pbuf_t *)1;
  lvpn__acks_t a;
  ck_assert_int_eq(lvpn__rel_poll(r, now, &out, &a), LVPN__REL_POLL_NONE);
  ck_assert_ptr_null(out);
  ck_assert_uint_eq(a.n, 0);
}

static void expect_acks(const lvpn__acks_t *a, const uint32_t *ids, int n) {
  int i;
  ck_assert_uint_eq(a->n, n);
  for (i = 0; i < n; i++)
    ck_assert_uint_eq(a->ids[i], ids[i]);
}

START_TEST(test_reliable_window_full_refusal) {
  lvpn__rel_t r;
  lvpn__pbuf_t *p;
  uint32_t one = 1, zero = 0;
  int i;

  lvpn__rel_init(&r, 0);
  ck_assert_uint_eq(r.initial_timeout, 2000);
  for (i = 0; i < 6; i++) {
    ck_assert_int_eq(lvpn__rel_can_send(&r), 1);
    p = msg(i);
    ck_assert_int_eq(lvpn__rel_send(&r, p, 0), 0);
    ck_assert_uint_eq(p->meta.msg_id, i);
  }
  ck_assert_int_eq(lvpn__rel_can_send(&r), 0);
  p = msg(6);
  ck_assert_int_eq(lvpn__rel_send(&r, p, 0), LVPN_ESTATE); /* caller keeps p */
  /* acking a higher id does not open the window: id 0 still blocks it */
  lvpn__rel_on_acks(&r, &one, 1);
  ck_assert_int_eq(lvpn__rel_can_send(&r), 0);
  lvpn__rel_on_acks(&r, &zero, 1);
  ck_assert_int_eq(lvpn__rel_can_send(&r), 1);
  ck_assert_int_eq(lvpn__rel_send(&r, p, 0), 0);
  ck_assert_uint_eq(p->meta.msg_id, 6);
  ck_assert_int_eq(lvpn__rel_can_send(&r), 1); /* lowest 2, next 7 */
  ck_assert_int_eq(lvpn__rel_send(&r, msg(7), 0), 0);
  ck_assert_int_eq(lvpn__rel_can_send(&r), 0); /* lowest 2, next 8 */
  ck_assert_int_eq(lvpn__rel_all_acked(&r), 0);
  lvpn__rel_reset(&r);
  ck_assert_int_eq(lvpn__rel_all_acked(&r), 1);
}
END_TEST

START_TEST(test_reliable_doubling_timeouts) {
  lvpn__rel_t r;
  uint64_t t0 = 1000000;
  lvpn__rel_init(&r, 2000);
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), UINT64_MAX);
  ck_assert_int_eq(lvpn__rel_send(&r, msg(0), t0), 0);
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), t0); /* due at once */
  expect_packet(&r, t0, 0);
  expect_none(&r, t0);
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), t0 + 2000);
  expect_none(&r, t0 + 1999);
  expect_packet_then(&r, t0 + 2000, 0, t0 + 2000 + 4000);
  expect_none(&r, t0 + 5999);
  expect_packet_then(&r, t0 + 6000, 0, t0 + 6000 + 8000);
  expect_packet_then(&r, t0 + 14000, 0, t0 + 14000 + 16000);
  ck_assert_uint_eq(r.sent, 1);
  ck_assert_uint_eq(r.retransmits, 3);
  ck_assert_uint_eq(r.fast_retransmits, 0);
  /* the peer's reset arrives: everything due now, timeout back to 2 s */
  lvpn__rel_schedule_now(&r);
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), 0);
  expect_packet_then(&r, t0 + 15000, 0, t0 + 17000);
  lvpn__rel_reset(&r);
}
END_TEST

/* Adaptive timeout: a clean round trip of 30 ms brings new messages' first
 * timeout down to the 200 ms floor (never above tls-timeout), still
 * doubling; a retransmitted message gives no sample (Karn). */
START_TEST(test_reliable_adaptive_timeout) {
  lvpn__rel_t r;
  uint64_t t0 = 5000;
  uint32_t id0 = 0, id1 = 1;
  lvpn__rel_init(&r, 2000);
  ck_assert_int_eq(lvpn__rel_send(&r, msg(0), t0), 0);
  expect_packet_then(&r, t0, 0, t0 + 2000); /* no sample */
  lvpn__rel_on_acks_at(&r, &id0, 1, t0 + 30);
  ck_assert_uint_eq(r.srtt, 30);
  ck_assert_uint_eq(r.rto, LVPN__REL_MIN_RTO_MS); /* 30 + 4*15 < floor */
  ck_assert_int_eq(lvpn__rel_send(&r, msg(1), t0 + 40), 0);
  expect_packet_then(&r, t0 + 40, 1, t0 + 240);
  expect_packet_then(&r, t0 + 240, 1, t0 + 640); /* retransmitted: 200 -> 400 */
  lvpn__rel_on_acks_at(&r, &id1, 1, t0 + 5000);  /* Karn: no sample */
  ck_assert_uint_eq(r.srtt, 30);
  /* a slow path: samples of 1.5 s cap the timeout at tls-timeout */
  ck_assert_int_eq(lvpn__rel_send(&r, msg(2), t0 + 6000), 0);
  expect_packet(&r, t0 + 6000, 2);
  id1 = 2;
  lvpn__rel_on_acks_at(&r, &id1, 1, t0 + 7500);
  ck_assert_uint_le(r.rto, 2000);
  ck_assert_uint_gt(r.rto, LVPN__REL_MIN_RTO_MS);
  lvpn__rel_reset(&r);
}
END_TEST

/* With a cap (the layer uses tls-timeout), timeouts double up to it and
 * then stay there. */
START_TEST(test_reliable_capped_backoff) {
  lvpn__rel_t r;
  uint64_t t0 = 1000;
  lvpn__rel_init(&r, 2000);
  lvpn__rel_set_max_timeout(&r, 2000);
  ck_assert_int_eq(lvpn__rel_send(&r, msg(0), t0), 0);
  expect_packet_then(&r, t0, 0, t0 + 2000);
  expect_packet_then(&r, t0 + 2000, 0, t0 + 4000);
  expect_packet_then(&r, t0 + 4000, 0, t0 + 6000);
  lvpn__rel_reset(&r);
}
END_TEST

/* A hole in what we received: two extra P_ACK_V1s repeat the higher id, so
 * that (with the normal ACK) the peer sees 3 ACK records for a higher id
 * and fast-retransmits the missing packet. */
START_TEST(test_reliable_gap_triggers_duplicate_acks) {
  lvpn__rel_t r;
  lvpn__pbuf_t *out;
  lvpn__acks_t a;
  int i;
  lvpn__rel_init(&r, 2000);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(1)), 0); /* 0 missing */
  ck_assert_ptr_null(lvpn__rel_pop_inorder(&r));
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), 0);
  for (i = 0; i < 3; i++) {
    ck_assert_int_eq(lvpn__rel_poll(&r, 10, &out, &a), LVPN__REL_POLL_ACK);
    ck_assert_uint_eq(a.n, 1);
    ck_assert_uint_eq(a.ids[0], 1);
  }
  expect_none(&r, 10);
  ck_assert_uint_eq(r.gap_acks, 2);
  /* in-order arrival owes nothing extra */
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(0)), 0);
  ck_assert_int_eq(lvpn__rel_poll(&r, 11, &out, &a), LVPN__REL_POLL_ACK);
  expect_none(&r, 11);
  lvpn__rel_reset(&r);
}
END_TEST

/* The hole stays open (the peer's fast retransmit was lost as well): the
 * three ACKs go out again after the timeout for new messages, then after
 * twice that, and so on up to the cap, until the missing id arrives. */
START_TEST(test_reliable_gap_probes_repeat) {
  lvpn__rel_t r;
  lvpn__pbuf_t *out, *p;
  lvpn__acks_t a;
  size_t k;
  int i;
  lvpn__rel_init(&r, 2000);
  lvpn__rel_set_max_timeout(&r, 2000);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(2)), 0); /* 0, 1 missing */
  for (i = 0; i < 3; i++)
    ck_assert_int_eq(lvpn__rel_poll(&r, 1000, &out, &a), LVPN__REL_POLL_ACK);
  expect_none(&r, 1000);
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), 3000);
  expect_none(&r, 2999);
  for (k = 0; k < 2; k++) {
    uint64_t now = k == 0 ? 3000 : 5000;
    for (i = 0; i < 3; i++) {
      ck_assert_int_eq(lvpn__rel_poll(&r, now, &out, &a), LVPN__REL_POLL_ACK);
      ck_assert_uint_eq(a.n, 1);
      ck_assert_uint_eq(a.ids[0], 2);
    }
    expect_none(&r, now);
    ck_assert_uint_eq(lvpn__rel_next_deadline(&r), now + 2000);
  }
  ck_assert_uint_eq(r.gap_probes, 2);
  ck_assert_uint_eq(r.gap_acks, 2 + 6);
  /* 0 arrives: still a hole before 2, the rounds go on */
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(0)), 0);
  p = lvpn__rel_pop_inorder(&r);
  ck_assert_ptr_nonnull(p);
  lvpn__pbuf_free(p);
  ck_assert_int_eq(lvpn__rel_poll(&r, 5100, &out, &a), LVPN__REL_POLL_ACK);
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), 7000);
  /* 1 arrives: the hole is closed, nothing more is owed */
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(1)), 0);
  for (i = 0; i < 2; i++) {
    p = lvpn__rel_pop_inorder(&r);
    ck_assert_ptr_nonnull(p);
    lvpn__pbuf_free(p);
  }
  ck_assert_int_eq(lvpn__rel_poll(&r, 5200, &out, &a), LVPN__REL_POLL_ACK);
  expect_none(&r, 5200);
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), UINT64_MAX);
  expect_none(&r, 9000);
  ck_assert_uint_eq(r.gap_probes, 2);
  lvpn__rel_reset(&r);
}
END_TEST

START_TEST(test_reliable_fast_retransmit) {
  lvpn__rel_t r;
  uint32_t ids[3] = {1, 2, 3};
  int i;
  lvpn__rel_init(&r, 2000);
  for (i = 0; i < 5; i++)
    ck_assert_int_eq(lvpn__rel_send(&r, msg(i), 0), 0);
  for (i = 0; i < 5; i++)
    expect_packet(&r, 0, (uint32_t)i); /* lowest id first */
  expect_none(&r, 10);
  lvpn__rel_on_acks(&r, &ids[0], 1); /* id 0: 1 ack above it */
  lvpn__rel_on_acks(&r, &ids[1], 1); /* id 0: 2 */
  expect_none(&r, 10);
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), 2000);
  lvpn__rel_on_acks(&r, &ids[2], 1); /* id 0: 3 -> resend now */
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), 0);
  expect_packet(&r, 10, 0);
  ck_assert_uint_eq(r.fast_retransmits, 1);
  expect_none(&r, 10); /* counter reset */
  /* one record with 3 higher ids counts 3 at once (id 4 outstanding) */
  ck_assert_int_eq(lvpn__rel_send(&r, msg(5), 20), 0);
  expect_packet(&r, 20, 5);
  {
    /* 5 and 0 acked; id 4 counts every higher id listed: 2 so far */
    uint32_t rec[3] = {5, 0, 5};
    lvpn__rel_on_acks(&r, rec, 3);
  }
  expect_none(&r, 30);
  {
    uint32_t rec[1] = {5}; /* a repeated ACK of a higher id counts too: 3 */
    lvpn__rel_on_acks(&r, rec, 1);
  }
  expect_packet(&r, 30, 4);
  ck_assert_uint_eq(r.fast_retransmits, 2);
  lvpn__rel_reset(&r);
}
END_TEST

/* ACKs for ids never sent (a hostile or broken peer) are counted and
 * ignored: they neither free anything nor push outstanding messages
 * towards a fast retransmit, including across the 2^32 wrap. */
START_TEST(test_reliable_bogus_acks_ignored) {
  lvpn__rel_t r;
  uint32_t bogus[8] = {3, 4, 9, 1000, 0x7fffffffu, 3, 4, 5};
  int i;
  lvpn__rel_init(&r, 2000);
  for (i = 0; i < 3; i++) /* ids 0, 1, 2 */
    ck_assert_int_eq(lvpn__rel_send(&r, msg(i), 0), 0);
  for (i = 0; i < 3; i++)
    expect_packet(&r, 0, (uint32_t)i);
  for (i = 0; i < 4; i++)
    lvpn__rel_on_acks(&r, bogus, 8);
  ck_assert_uint_eq(r.bogus_acks, 32);
  expect_none(&r, 10); /* no fast retransmit */
  ck_assert_uint_eq(r.fast_retransmits, 0);
  ck_assert_int_eq(lvpn__rel_all_acked(&r), 0);
  {
    uint32_t real[3] = {0, 1, 2};
    lvpn__rel_on_acks(&r, real, 3);
  }
  ck_assert_int_eq(lvpn__rel_all_acked(&r), 1);
  ck_assert_uint_eq(r.bogus_acks, 32);
  lvpn__rel_reset(&r);
  /* near the wrap: sent ids 0xfffffffe, 0xffffffff; 0 and 1 never sent */
  lvpn__rel_init(&r, 2000);
  ck_assert_int_eq(lvpn__rel_skip_to(&r, 0xfffffffeu, 0), 0);
  ck_assert_int_eq(lvpn__rel_send(&r, msg(1), 0), 0);
  ck_assert_int_eq(lvpn__rel_send(&r, msg(2), 0), 0);
  expect_packet(&r, 0, 0xfffffffeu);
  expect_packet(&r, 0, 0xffffffffu);
  {
    uint32_t rec[3] = {0, 1, 0xffffffffu};
    lvpn__rel_on_acks(&r, rec, 3);
  }
  ck_assert_uint_eq(r.bogus_acks, 2);
  ck_assert_int_eq(lvpn__rel_all_acked(&r), 0); /* 0xfffffffe still out */
  lvpn__rel_reset(&r);
}
END_TEST

START_TEST(test_reliable_duplicate_reacked) {
  lvpn__rel_t r;
  lvpn__pbuf_t *p, *out;
  lvpn__acks_t a;
  static const uint32_t want0[] = {0}, want2[] = {2, 0}, want3[] = {1, 0, 2};

  lvpn__rel_init(&r, 2000);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(0)), 0);
  p = lvpn__rel_pop_inorder(&r);
  ck_assert_ptr_nonnull(p);
  ck_assert_mem_eq(p->data, "msg 0", 5);
  lvpn__pbuf_free(p);
  ck_assert_ptr_null(lvpn__rel_pop_inorder(&r));
  ck_assert_int_eq(lvpn__rel_poll(&r, 0, &out, &a), LVPN__REL_POLL_ACK);
  expect_acks(&a, want0, 1);
  expect_none(&r, 0);
  /* the ACK was lost: the peer resends 0, we ack it again, no redelivery */
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(0)), LVPN_EDUPLICATE);
  ck_assert_ptr_null(lvpn__rel_pop_inorder(&r));
  ck_assert_int_eq(lvpn__rel_acks_pending(&r), 1);
  ck_assert_int_eq(lvpn__rel_poll(&r, 0, &out, &a), LVPN__REL_POLL_ACK);
  expect_acks(&a, want0, 1);
  /* a duplicate of a buffered out-of-order packet */
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(2)), 0);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(2)), LVPN_EDUPLICATE);
  ck_assert_int_eq(lvpn__rel_acks_pending(&r), 1); /* listed once */
  ck_assert_int_eq(lvpn__rel_poll(&r, 0, &out, &a), LVPN__REL_POLL_ACK);
  expect_acks(&a, want2, 2);
  ck_assert_ptr_null(lvpn__rel_pop_inorder(&r));
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(1)), 0);
  p = lvpn__rel_pop_inorder(&r);
  ck_assert_mem_eq(p->data, "msg 1", 5);
  lvpn__pbuf_free(p);
  p = lvpn__rel_pop_inorder(&r);
  ck_assert_mem_eq(p->data, "msg 2", 5);
  lvpn__pbuf_free(p);
  ck_assert_ptr_null(lvpn__rel_pop_inorder(&r));
  ck_assert_uint_eq(r.dup_received, 2);
  ck_assert_uint_eq(r.delivered, 3);
  /* pending [1, 0] goes to the MRU front in order: 1, 0, then the old 2 */
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(0)), LVPN_EDUPLICATE);
  ck_assert_int_eq(lvpn__rel_poll(&r, 0, &out, &a), LVPN__REL_POLL_ACK);
  expect_acks(&a, want3, 3);
  lvpn__rel_reset(&r);
}
END_TEST

START_TEST(test_reliable_out_of_window_dropped) {
  lvpn__rel_t r;
  lvpn__pbuf_t *p;
  uint32_t id;

  lvpn__rel_init(&r, 2000);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(12)), LVPN_EWINDOW);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(1000)), LVPN_EWINDOW);
  ck_assert_int_eq(lvpn__rel_acks_pending(&r), 0); /* not acked */
  ck_assert_uint_eq(r.window_drops, 2);
  for (id = 11; id >= 1; id--)
    ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(id)), 0);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(0)), 0);
  /* 12 buffers in use: even a duplicate is dropped without an ACK */
  ck_assert_int_eq(lvpn__rel_acks_pending(&r), 8);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(5)), LVPN_EWINDOW);
  ck_assert_uint_eq(r.window_drops, 3);
  for (id = 0; id < 12; id++) {
    p = lvpn__rel_pop_inorder(&r);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->meta.msg_id, id);
    lvpn__pbuf_free(p);
  }
  ck_assert_ptr_null(lvpn__rel_pop_inorder(&r));
  /* the window moved: 23 fits, 24 does not */
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(24)), LVPN_EWINDOW);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(23)), 0);
  lvpn__rel_reset(&r);
}
END_TEST

/* ACKs taken from the pending list go to the front of the MRU list and are
 * repeated on later packets for free (≤ 4 piggybacked, ≤ 8 on P_ACK_V1). */
START_TEST(test_reliable_mru_repetition) {
  lvpn__rel_t r;
  lvpn__pbuf_t *out;
  lvpn__acks_t a;
  uint32_t id;
  static const uint32_t w1[] = {0, 1, 2}, w2[] = {3, 4, 5, 6},
                        w3[] = {7, 3, 4, 5, 6, 0, 1, 2}, w4[] = {7, 3, 4, 5};

  lvpn__rel_init(&r, 2000);
  for (id = 0; id < 3; id++)
    ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(id)), 0);
  ck_assert_int_eq(lvpn__rel_poll(&r, 0, &out, &a), LVPN__REL_POLL_ACK);
  expect_acks(&a, w1, 3);
  /* nothing pending, but a new packet repeats the recent ACKs */
  ck_assert_int_eq(lvpn__rel_send(&r, msg(100), 0), 0);
  a = expect_packet(&r, 0, 0);
  expect_acks(&a, w1, 3);
  for (id = 3; id < 8; id++)
    ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(id)), 0);
  ck_assert_int_eq(lvpn__rel_send(&r, msg(101), 0), 0);
  a = expect_packet(&r, 0, 1);
  expect_acks(&a, w2, 4); /* 4 taken from pending, 7 still pending */
  ck_assert_int_eq(lvpn__rel_acks_pending(&r), 1);
  ck_assert_int_eq(lvpn__rel_poll(&r, 0, &out, &a), LVPN__REL_POLL_ACK);
  expect_acks(&a, w3, 8);
  a = expect_packet(&r, 2000, 0); /* retransmission: MRU repeated */
  expect_acks(&a, w4, 4);
  ck_assert_uint_eq(r.acks_sent, 3 + 3 + 4 + 8 + 4);
  ck_assert_uint_eq(r.ack_packets, 2);
  while ((out = lvpn__rel_pop_inorder(&r)) != NULL)
    lvpn__pbuf_free(out);
  lvpn__rel_reset(&r);
}
END_TEST

START_TEST(test_reliable_ack_only_poll_up_to_8) {
  lvpn__rel_t r;
  lvpn__pbuf_t *out;
  lvpn__acks_t a;
  uint32_t id;
  static const uint32_t w[] = {0, 1, 2, 3, 4, 5, 6, 7},
                        w9[] = {9, 0, 1, 2, 3, 4, 5, 6};

  lvpn__rel_init(&r, 2000);
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), UINT64_MAX);
  for (id = 0; id < 10; id++)
    ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(id)), 0);
  ck_assert_int_eq(lvpn__rel_acks_pending(&r), 8); /* list is full */
  ck_assert_uint_eq(lvpn__rel_next_deadline(&r), 0);
  ck_assert_int_eq(lvpn__rel_poll(&r, 5, &out, &a), LVPN__REL_POLL_ACK);
  ck_assert_ptr_null(out);
  expect_acks(&a, w, 8);
  expect_none(&r, 5); /* never an empty P_ACK_V1 */
  while ((out = lvpn__rel_pop_inorder(&r)) != NULL)
    lvpn__pbuf_free(out);
  /* 9 was never acked: the peer resends it, it is acked then */
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(9)), LVPN_EDUPLICATE);
  ck_assert_int_eq(lvpn__rel_poll(&r, 5, &out, &a), LVPN__REL_POLL_ACK);
  expect_acks(&a, w9, 8);
  lvpn__rel_reset(&r);
}
END_TEST

START_TEST(test_reliable_wraparound) {
  lvpn__rel_t a, b;
  lvpn__pbuf_t *out, *p;
  lvpn__acks_t acks;
  uint32_t base = 0xfffffffdu, id, hi = 1;
  int i;

  lvpn__rel_init(&a, 2000);
  lvpn__rel_init(&b, 2000);
  ck_assert_int_eq(lvpn__rel_skip_to(&a, base, 0), 0);
  ck_assert_int_eq(lvpn__rel_skip_to(&b, 0, base), 0);
  for (i = 0; i < 6; i++)
    ck_assert_int_eq(lvpn__rel_send(&a, msg(i), 0), 0);
  ck_assert_int_eq(lvpn__rel_can_send(&a), 0); /* window across the wrap */
  ck_assert_int_eq(lvpn__rel_skip_to(&a, 0, 0), LVPN_ESTATE);
  for (i = 0; i < 6; i++) {
    ck_assert_int_eq(lvpn__rel_poll(&a, 0, &out, &acks), LVPN__REL_POLL_PACKET);
    ck_assert_uint_eq(out->meta.msg_id, base + (uint32_t)i);
    ck_assert_int_eq(lvpn__rel_on_receive(&b, out), 0);
  }
  for (i = 0; i < 6; i++) {
    p = lvpn__rel_pop_inorder(&b);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->meta.msg_id, base + (uint32_t)i);
    lvpn__pbuf_free(p);
  }
  ck_assert_uint_eq(b.expected, 3);
  /* fast retransmit compares across the wrap: 0xffffffff < 1 */
  for (i = 0; i < 3; i++)
    lvpn__rel_on_acks(&a, &hi, 1);
  ck_assert_int_eq(lvpn__rel_poll(&a, 1, &out, &acks), LVPN__REL_POLL_PACKET);
  ck_assert_uint_eq(out->meta.msg_id, base); /* lowest first: 0xfffffffd */
  lvpn__pbuf_free(out);
  /* receive window across the wrap: expected 3 -> [3, 15) */
  ck_assert_int_eq(lvpn__rel_on_receive(&b, rmsg(15)), LVPN_EWINDOW);
  ck_assert_int_eq(lvpn__rel_on_receive(&b, rmsg(0xfffffffeu)),
                   LVPN_EDUPLICATE);
  ck_assert_int_eq(lvpn__rel_on_receive(&b, rmsg(14)), 0);
  /* near the top: expected 0xfffffffa -> window up to 5 */
  lvpn__rel_reset(&b);
  ck_assert_int_eq(lvpn__rel_skip_to(&b, 0, 0xfffffffau), 0);
  ck_assert_int_eq(lvpn__rel_on_receive(&b, rmsg(5)), 0);
  ck_assert_int_eq(lvpn__rel_on_receive(&b, rmsg(6)), LVPN_EWINDOW);
  ck_assert_int_eq(lvpn__rel_on_receive(&b, rmsg(0xfffffff9u)),
                   LVPN_EDUPLICATE);
  for (id = 0; id < 6; id++)
    lvpn__rel_on_acks(&a, &(uint32_t){base + id}, 1);
  ck_assert_int_eq(lvpn__rel_all_acked(&a), 1);
  ck_assert_int_eq(lvpn__rel_can_send(&a), 1);
  lvpn__rel_reset(&a);
  lvpn__rel_reset(&b);
}
END_TEST

START_TEST(test_reliable_reset_frees_everything) {
  lvpn__rel_t r;
  lvpn__rel_init(&r, 500);
  ck_assert_int_eq(lvpn__rel_send(&r, msg(0), 0), 0);
  ck_assert_int_eq(lvpn__rel_send(&r, msg(1), 0), 0);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(3)), 0);
  ck_assert_int_eq(lvpn__rel_on_receive(&r, rmsg(7)), 0);
  ck_assert_uint_eq(fake_pool.outstanding, 4);
  lvpn__rel_reset(&r);
  ck_assert_uint_eq(fake_pool.outstanding, 0);
  ck_assert_uint_eq(r.initial_timeout, 500);
  ck_assert_uint_eq(r.next_send_id, 0);
  lvpn__rel_reset(&r); /* harmless twice */
}
END_TEST

/* ---- two endpoints over a lossy, reordering, duplicating channel -------- */

#define MAX_FRAMES 4096

typedef struct {
  int to;          /* endpoint index */
  uint64_t at;     /* arrival time */
  lvpn__pbuf_t *p; /* payload, or NULL for a P_ACK_V1 */
  lvpn__acks_t acks;
} frame_t;

typedef struct {
  lvpn__rel_t r;
  int to_send, queued, delivered;
} endpoint_t;

typedef struct {
  frame_t f[MAX_FRAMES];
  int n;
  unsigned seed;
  int dropped, duplicated;
} channel_t;

static unsigned rnd(channel_t *c, unsigned n) {
  c->seed = c->seed * 1103515245u + 12345u;
  return (c->seed >> 16) % n;
}

static void chan_put(channel_t *c, int to, uint64_t now, lvpn__pbuf_t *p,
                     const lvpn__acks_t *acks) {
  int copies = 1, i;
  if (rnd(c, 100) < 20) { /* 20% loss, ACK-only frames included */
    c->dropped++;
    lvpn__pbuf_free(p);
    return;
  }
  if (rnd(c, 100) < 10) {
    copies = 2;
    c->duplicated++;
  }
  for (i = 0; i < copies; i++) {
    frame_t *f = &c->f[c->n++];
    ck_assert_int_lt(c->n, MAX_FRAMES);
    f->to = to;
    f->at = now + 5 + rnd(c, 300); /* random delay: reordering */
    f->p = i == 0 || p == NULL ? p : lvpn__pbuf_clone(p);
    f->acks = *acks;
  }
}

static void endpoint_step(endpoint_t *e, int self, channel_t *c, uint64_t now) {
  lvpn__pbuf_t *out;
  lvpn__acks_t acks;
  int ret;
  while (e->queued < e->to_send && lvpn__rel_can_send(&e->r)) {
    ck_assert_int_eq(lvpn__rel_send(&e->r, msg(e->queued), now), 0);
    e->queued++;
  }
  while ((ret = lvpn__rel_poll(&e->r, now, &out, &acks)) !=
         LVPN__REL_POLL_NONE) {
    ck_assert_int_gt(ret, 0);
    chan_put(c, 1 - self, now, out, &acks);
  }
}

static void endpoint_receive(endpoint_t *e, frame_t *f) {
  lvpn__pbuf_t *p;
  char want[32];
  lvpn__rel_on_acks(&e->r, f->acks.ids, f->acks.n);
  if (f->p == NULL)
    return; /* P_ACK_V1: never acknowledged */
  (void)lvpn__rel_on_receive(&e->r, f->p);
  while ((p = lvpn__rel_pop_inorder(&e->r)) != NULL) {
    snprintf(want, sizeof(want), "msg %d", e->delivered);
    ck_assert_uint_eq(p->len, strlen(want));
    ck_assert_mem_eq(p->data, want, p->len); /* exactly once, in order */
    e->delivered++;
    lvpn__pbuf_free(p);
  }
}

START_TEST(test_reliable_lossy_channel_delivers_all_in_order) {
  static channel_t c;
  endpoint_t ep[2];
  fake_clock_t clk = {0}; /* jumps to the next event */
  uint64_t next;
  int i, j;

  memset(&c, 0, sizeof(c));
  c.seed = 0x5eed0000u + (unsigned)_i;
  for (i = 0; i < 2; i++) {
    lvpn__rel_init(&ep[i].r, 2000);
    ep[i].queued = ep[i].delivered = 0;
  }
  ep[0].to_send = 200; /* A -> B */
  ep[1].to_send = 40;  /* B -> A, so ACKs also ride on data */
  for (;;) {
    endpoint_step(&ep[0], 0, &c, clk.now);
    endpoint_step(&ep[1], 1, &c, clk.now);
    if (ep[1].delivered == ep[0].to_send && ep[0].delivered == ep[1].to_send &&
        lvpn__rel_all_acked(&ep[0].r) && lvpn__rel_all_acked(&ep[1].r))
      break;
    next = UINT64_MAX;
    for (i = 0; i < c.n; i++)
      next = c.f[i].at < next ? c.f[i].at : next;
    for (i = 0; i < 2; i++) {
      uint64_t d = lvpn__rel_next_deadline(&ep[i].r);
      ck_assert_uint_gt(d, clk.now); /* polled until NONE: nothing due now */
      next = d < next ? d : next;
    }
    ck_assert_uint_ne(next, UINT64_MAX);
    fake_clock_advance(&clk, next - clk.now);
    ck_assert_uint_lt(clk.now, 24ull * 3600 * 1000); /* no livelock */
    /* deliver everything that has arrived, in arrival order */
    for (;;) {
      int best = -1;
      for (i = 0; i < c.n; i++) {
        if (c.f[i].at <= clk.now && (best < 0 || c.f[i].at < c.f[best].at))
          best = i;
      }
      if (best < 0)
        break;
      {
        frame_t f = c.f[best];
        c.f[best] = c.f[--c.n];
        endpoint_receive(&ep[f.to], &f);
      }
    }
  }
  ck_assert_int_eq(ep[1].delivered, 200);
  ck_assert_int_eq(ep[0].delivered, 40);
  ck_assert_uint_gt(ep[0].r.retransmits, 0);
  ck_assert_uint_gt(ep[1].r.dup_received, 0);
  ck_assert_int_gt(c.dropped, 0);
  ck_assert_int_gt(c.duplicated, 0);
  for (j = 0; j < c.n; j++)
    lvpn__pbuf_free(c.f[j].p);
  for (i = 0; i < 2; i++)
    lvpn__rel_reset(&ep[i].r);
}
END_TEST

/* eight seeds of loss and duplication */
static void seeded_tests(TCase *tc) {
  tcase_add_loop_test(tc, test_reliable_lossy_channel_delivers_all_in_order, 0,
                      8);
}

LVPN_TEST_MAIN_WITH(
    "reliable", 0, fake_pool_setup, fake_pool_teardown, seeded_tests,
    test_reliable_window_full_refusal, test_reliable_doubling_timeouts,
    test_reliable_adaptive_timeout, test_reliable_capped_backoff,
    test_reliable_gap_triggers_duplicate_acks, test_reliable_gap_probes_repeat,
    test_reliable_fast_retransmit,
    test_reliable_bogus_acks_ignored,
    test_reliable_duplicate_reacked, test_reliable_out_of_window_dropped,
    test_reliable_mru_repetition, test_reliable_ack_only_poll_up_to_8,
    test_reliable_wraparound, test_reliable_reset_frees_everything)
