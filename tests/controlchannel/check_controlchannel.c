/* layers/controlchannel between two capture layers: below in place of the
 * reliable transport, above in place of the tlssession. Sizes are checked
 * against what the packetmuxer would put on the wire: the worst-case
 * control header (4 piggybacked ACKs) plus the session's wrapping. */
#include <stdio.h>
#include <string.h>

#include "layers/controlchannel/controlchannel.h"
#include "layers/layer.h"
#include "layers/packetmuxer/session.h"
#include "layers/packetmuxer/tlswrap.h"
#include "layers/packetmuxer/wire.h"
#include "tests/fakes.h"

/* ---- environment: rel (capture) | controlchannel | tls (capture) ---- */

typedef struct {
  fake_env_t fe;
  lvpn__session_t session;
  lvpn__controlchannel_t cc;
  fake_cap_t rel, tls;
} env_t;

static env_t E;

static void spin(env_t *e) {
  fake_env_run(&e->fe);
}

/* The hard reset the layer sent when it started. */
static void expect_reset(env_t *e, uint8_t opcode) {
  lvpn__pbuf_t *p;
  spin(e);
  ck_assert_uint_eq(e->rel.got.count, 1);
  p = fake_cap_pop(&e->rel);
  ck_assert_uint_eq(p->meta.opcode, opcode);
  ck_assert_uint_eq(p->meta.key_id, 0);
  ck_assert_uint_eq(p->len, 0);
  lvpn__pbuf_free(p);
}

/* The soft reset the layer sent down for key_id. */
static void expect_soft_reset_out(env_t *e, uint8_t key_id) {
  lvpn__pbuf_t *p = fake_cap_pop(&e->rel);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_CONTROL_SOFT_RESET_V1);
  ck_assert_uint_eq(p->meta.key_id, key_id);
  lvpn__pbuf_free(p);
}

/* mode: a LVPN__TLSWRAP_*; for AUTH the digest is SHA512 (the largest). */
static void stack_start(env_t *e, int mode, size_t tls_mtu) {
  char pem[4096], err[256] = "";

  memset(e, 0, sizeof(*e));
  fake_env_init(&e->fe);
  memset(e->session.own_sid, 0xc1, 8);
  if (mode == LVPN__TLSWRAP_CRYPT_V2)
    fake_v2_client_key_pem(pem, sizeof(pem), 17, 9, 330);
  else
    fake_static_key_pem(pem, sizeof(pem), 11, 1);
  ck_assert_msg(lvpn__tlswrap_init(&e->session.wrap, mode, pem, strlen(pem), 1,
                                   "SHA512", err, sizeof(err)) == 0,
                "%s", err);
  lvpn__controlchannel_init(&e->cc, &e->fe.loop, &e->session, &e->fe.pool,
                            tls_mtu, &e->fe.log);
  fake_env_cap(&e->fe, &e->rel, "rel");
  fake_env_cap(&e->fe, &e->tls, "tls");
  fake_env_stack(&e->fe, &e->rel.base, &e->cc.base, &e->tls.base, NULL);
  fake_env_start(&e->fe);
}

/* Started, and the hard reset it sent taken (v3 with a tls-crypt-v2 key). */
static void env_start(env_t *e, int mode, size_t tls_mtu) {
  stack_start(e, mode, tls_mtu);
  expect_reset(e, mode == LVPN__TLSWRAP_CRYPT_V2
                      ? LVPN__P_CONTROL_HARD_RESET_CLIENT_V3
                      : LVPN__P_CONTROL_HARD_RESET_CLIENT_V2);
}

static void env_finish(env_t *e) {
  fake_env_finish(&e->fe, LVPN_ESTOPPED);
  lvpn__tlswrap_free(&e->session.wrap);
}

/* From below, as the reliable transport delivers it. */
static void rel_deliver(env_t *e, uint8_t opcode, const void *payload,
                        size_t len) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, len), payload, len);
  p->meta.opcode = opcode;
  p->meta.has_msg_id = 1;
  lvpn__layer_send_up(&e->rel.base, p);
}

/* The server's P_CONTROL_SOFT_RESET_V1 for key_id, from below. */
static void soft_reset_in(env_t *e, uint8_t key_id) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
  p->meta.opcode = LVPN__P_CONTROL_SOFT_RESET_V1;
  p->meta.key_id = key_id;
  p->meta.has_msg_id = 1;
  lvpn__layer_send_up(&e->rel.base, p);
}

/* ---- tests ---- */

START_TEST(test_controlchannel_start_sends_hard_reset_v2) {
  static const int modes[] = {LVPN__TLSWRAP_CRYPT, LVPN__TLSWRAP_NONE};
  env_t *e = &E;
  size_t i;

  for (i = 0; i < FAKE_COUNT(modes); i++) {
    stack_start(e, modes[i], 1250);
    expect_reset(e, LVPN__P_CONTROL_HARD_RESET_CLIENT_V2);
    env_finish(e);
  }
}
END_TEST

START_TEST(test_controlchannel_start_sends_hard_reset_v3_for_v2_key) {
  env_t *e = &E;
  stack_start(e, LVPN__TLSWRAP_CRYPT_V2, 1250);
  expect_reset(e, LVPN__P_CONTROL_HARD_RESET_CLIENT_V3);
  env_finish(e);
}
END_TEST

START_TEST(test_controlchannel_server_reset_goes_up_empty) {
  env_t *e = &E;
  static const uint8_t tlv[] = {0x00, 0x01, 0x00, 0x02, 0x00, 0x01};
  static const uint8_t bad_tlv[] = {0x00, 0x01, 0x00, 0x03, 0x00, 0x01, 0x00};
  lvpn__pbuf_t *p;

  env_start(e, LVPN__TLSWRAP_CRYPT_V2, 1250);
  /* its payload is early-negotiation TLVs: read, never handed to TLS */
  rel_deliver(e, LVPN__P_CONTROL_HARD_RESET_SERVER_V2, tlv, sizeof(tlv));
  spin(e);
  ck_assert_uint_eq(e->session.early_neg_flags,
                    LVPN__EARLY_NEG_FLAG_RESEND_WKC);
  p = fake_cap_pop(&e->tls);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_CONTROL_HARD_RESET_SERVER_V2);
  ck_assert_uint_eq(p->len, 0);
  lvpn__pbuf_free(p);
  /* malformed TLVs: still the start signal, still empty */
  rel_deliver(e, LVPN__P_CONTROL_HARD_RESET_SERVER_V2, bad_tlv,
              sizeof(bad_tlv));
  spin(e);
  p = fake_cap_pop(&e->tls);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->len, 0);
  lvpn__pbuf_free(p);
  ck_assert(lvpn__queue_empty(&e->rel.got));
  env_finish(e);
}
END_TEST

/* A server's soft reset for another key_id is answered with ours and moves
 * the key_id, unless the tlssession is busy (not up yet, or renegotiating:
 * session.tls_busy), when it goes up unanswered (the tlssession counts it)
 * and the key_id of the handshake in progress stays: a flood of them gets
 * no packet back. */
START_TEST(test_controlchannel_soft_reset_answered_only_when_taken) {
  env_t *e = &E;
  lvpn__pbuf_t *p;
  int i;

  env_start(e, LVPN__TLSWRAP_CRYPT, 1250);
  e->session.tls_busy = 1;
  for (i = 0; i < 50; i++) {
    soft_reset_in(e, (uint8_t)(1 + i % 7));
  }
  spin(e);
  ck_assert(lvpn__queue_empty(&e->rel.got));
  ck_assert_uint_eq(e->cc.key_id, 0);
  ck_assert_uint_eq(e->cc.soft_resets_unanswered, 50);
  for (i = 0; i < 50; i++) {
    p = fake_cap_pop(&e->tls);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->meta.opcode, LVPN__P_CONTROL_SOFT_RESET_V1);
    lvpn__pbuf_free(p);
  }
  /* up and running: the next one is answered on its key_id */
  e->session.tls_busy = 0;
  soft_reset_in(e, 3);
  spin(e);
  expect_soft_reset_out(e, 3);
  ck_assert(lvpn__queue_empty(&e->rel.got));
  ck_assert_uint_eq(e->cc.key_id, 3);
  p = fake_cap_pop(&e->tls);
  ck_assert_ptr_nonnull(p);
  lvpn__pbuf_free(p);
  env_finish(e);
}
END_TEST

START_TEST(test_controlchannel_tls_bytes_up_other_opcodes_dropped) {
  env_t *e = &E;
  lvpn__pbuf_t *p;

  env_start(e, LVPN__TLSWRAP_CRYPT, 1250);
  rel_deliver(e, LVPN__P_CONTROL_V1, "\x16\x03\x03", 3);
  rel_deliver(e, LVPN__P_ACK_V1, "ack", 3);
  rel_deliver(e, LVPN__P_CONTROL_HARD_RESET_CLIENT_V2, "odd", 3);
  spin(e);
  ck_assert_uint_eq(e->tls.got.count, 1);
  p = fake_cap_pop(&e->tls);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_CONTROL_V1);
  ck_assert_uint_eq(p->len, 3);
  ck_assert_int_eq(memcmp(p->data, "\x16\x03\x03", 3), 0);
  lvpn__pbuf_free(p);
  ck_assert_uint_eq(e->cc.base.stats.dropped, 2);
  ck_assert_uint_eq(e->cc.tls_bytes_in, 3);
  env_finish(e);
}
END_TEST

/* What the packetmuxer would put on the wire for this chunk: the largest
 * header the reliable layer can ask for (4 piggybacked ACKs), the wrapping,
 * and (tls-crypt-v2) WKc, which message 1 carries when the server asks. */
static size_t wire_size(lvpn__session_t *s, uint8_t key_id, size_t payload) {
  lvpn__ctl_pkt_t h;
  const lvpn__tlswrap_t *w = lvpn__session_wrap(s, key_id);
  memset(&h, 0, sizeof(h));
  h.opcode = LVPN__P_CONTROL_V1;
  h.n_acks = LVPN__CONTROL_SEND_ACK_MAX;
  return lvpn__ctl_header_len(&h) + lvpn__tlswrap_overhead(w) +
         (w == &s->wrap ? lvpn__tlswrap_wkc_len(w) : 0) + payload;
}

/* Dynamic tls-crypt from an arbitrary EKM, then our soft reset: what the
 * client does at its first renegotiation. Returns the new key_id. */
static uint8_t go_dynamic(env_t *e) {
  uint8_t ekm[LVPN__TLSWRAP_KEY2_LEN];
  memset(ekm, 0x5a, sizeof(ekm));
  ck_assert_int_eq(
      lvpn__tlswrap_init_dynamic(&e->session.dyn, ekm, &e->session.wrap), 0);
  e->session.have_dyn = 1;
  ck_assert_int_eq(lvpn__controlchannel_soft_reset(&e->cc), 0);
  spin(e);
  expect_soft_reset_out(e, 1);
  return 1;
}

/* 5000 bytes of TLS ciphertext from above: P_CONTROL_V1 chunks, each
 * fitting tls-mtu once encoded and wrapped, in order, lossless. */
static void cut_and_reassemble_on(int mode, size_t tls_mtu, size_t total,
                                  int dyn) {
  env_t *e = &E;
  static uint8_t tls[5000], back[5000];
  lvpn__pbuf_t *p, *w;
  lvpn__ctl_pkt_t h;
  size_t i, off = 0, chunks = 0, maxp;
  uint8_t key_id = 0;

  ck_assert_uint_le(total, sizeof(tls));
  for (i = 0; i < total; i++)
    tls[i] = (uint8_t)(i * 7 + i / 251);
  env_start(e, mode, tls_mtu);
  if (dyn)
    key_id = go_dynamic(e);
  maxp = lvpn__controlchannel_max_payload(&e->cc);
  ck_assert_uint_gt(maxp, 0);
  /* as the tlssession does: up to a pbuf's tailroom per packet */
  while (off < total) {
    size_t n = total - off;
    p = lvpn__pbuf_alloc(&e->fe.pool);
    if (n > lvpn__pbuf_tailroom(p))
      n = lvpn__pbuf_tailroom(p);
    memcpy(lvpn__pbuf_put(p, n), tls + off, n);
    off += n;
    lvpn__layer_send_down(&e->tls.base, p);
  }
  spin(e);
  off = 0;
  while ((p = fake_cap_pop(&e->rel)) != NULL) {
    ck_assert_uint_eq(p->meta.opcode, LVPN__P_CONTROL_V1);
    ck_assert_uint_eq(p->meta.key_id, key_id);
    ck_assert_uint_gt(p->len, 0);
    ck_assert_uint_le(p->len, maxp);
    ck_assert_msg(wire_size(&e->session, key_id, p->len) <= tls_mtu,
                  "chunk %zu: %zu bytes on the wire", chunks,
                  wire_size(&e->session, key_id, p->len));
    /* and for real: encode + wrap a copy with 4 ACKs. The first chunk is
     * message 1 (0 was the reset): with v2 it may become P_CONTROL_WKC_V1
     * and carry WKc, so its buffer needs that tailroom too. */
    w = lvpn__pbuf_clone(p);
    memset(&h, 0, sizeof(h));
    h.opcode = mode == LVPN__TLSWRAP_CRYPT_V2 && chunks == 0 && !dyn
                   ? LVPN__P_CONTROL_WKC_V1
                   : LVPN__P_CONTROL_V1;
    h.key_id = key_id;
    h.n_acks = LVPN__CONTROL_SEND_ACK_MAX;
    h.msg_id = (uint32_t)chunks + 1;
    ck_assert_int_eq(lvpn__ctl_encode(w, &h), 0);
    ck_assert_int_eq(lvpn__tlswrap_wrap(lvpn__session_wrap(&e->session, key_id),
                                        w, 1700000000u),
                     0);
    ck_assert_uint_le(w->len, tls_mtu);
    lvpn__pbuf_free(w);
    ck_assert_uint_le(off + p->len, total);
    memcpy(back + off, p->data, p->len);
    off += p->len;
    chunks++;
    lvpn__pbuf_free(p);
  }
  ck_assert_uint_eq(off, total);
  ck_assert_int_eq(memcmp(back, tls, total), 0);
  ck_assert_uint_ge(chunks, (total + maxp - 1) / maxp);
  ck_assert_uint_eq(e->cc.tls_bytes_out, total);
  if (dyn)
    lvpn__tlswrap_free(&e->session.dyn);
  env_finish(e);
}

static void cut_and_reassemble(int mode, size_t tls_mtu, size_t total) {
  cut_and_reassemble_on(mode, tls_mtu, total, 0);
}

START_TEST(test_controlchannel_cuts_tls_into_mtu_sized_chunks) {
  cut_and_reassemble(LVPN__TLSWRAP_CRYPT, 1250, 5000);
}
END_TEST

START_TEST(test_controlchannel_chunks_fit_with_v2_wkc) {
  cut_and_reassemble(LVPN__TLSWRAP_CRYPT_V2, 1250, 5000);
}
END_TEST

START_TEST(test_controlchannel_chunks_fit_with_tls_auth_sha512) {
  cut_and_reassemble(LVPN__TLSWRAP_AUTH, 1250, 5000);
}
END_TEST

START_TEST(test_controlchannel_chunks_fit_small_and_unwrapped) {
  cut_and_reassemble(LVPN__TLSWRAP_NONE, 1250, 5000);
  cut_and_reassemble(LVPN__TLSWRAP_CRYPT, 512, 5000);
  cut_and_reassemble(LVPN__TLSWRAP_CRYPT, 1250, 1);
}
END_TEST

/* Renegotiation under dynamic tls-crypt: chunks are sized for the dynamic
 * wrap (tls-crypt, 40 bytes), not the configured one, which may be none or
 * a smaller tls-auth (these overflowed tls-mtu by up to 40 bytes). */
START_TEST(test_controlchannel_chunks_fit_dynamic_tls_crypt) {
  static const int modes[] = {LVPN__TLSWRAP_NONE, LVPN__TLSWRAP_CRYPT,
                              LVPN__TLSWRAP_CRYPT_V2, LVPN__TLSWRAP_AUTH};
  size_t i;
  for (i = 0; i < FAKE_COUNT(modes); i++) {
    cut_and_reassemble_on(modes[i], 1250, 5000, 1);
    cut_and_reassemble_on(modes[i], 600, 3000, 1);
  }
}
END_TEST

START_TEST(test_controlchannel_empty_from_above_sends_nothing) {
  env_t *e = &E;
  env_start(e, LVPN__TLSWRAP_CRYPT, 1250);
  lvpn__layer_send_down(&e->tls.base, lvpn__pbuf_alloc(&e->fe.pool));
  spin(e);
  ck_assert(lvpn__queue_empty(&e->rel.got));
  env_finish(e);
}
END_TEST

LVPN_TEST_MAIN("controlchannel", 0, NULL, NULL,
               test_controlchannel_start_sends_hard_reset_v2,
               test_controlchannel_start_sends_hard_reset_v3_for_v2_key,
               test_controlchannel_server_reset_goes_up_empty,
               test_controlchannel_tls_bytes_up_other_opcodes_dropped,
               test_controlchannel_soft_reset_answered_only_when_taken,
               test_controlchannel_cuts_tls_into_mtu_sized_chunks,
               test_controlchannel_chunks_fit_with_v2_wkc,
               test_controlchannel_chunks_fit_with_tls_auth_sha512,
               test_controlchannel_chunks_fit_small_and_unwrapped,
               test_controlchannel_chunks_fit_dynamic_tls_crypt,
               test_controlchannel_empty_from_above_sends_nothing)
