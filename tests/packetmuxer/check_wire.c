/* layers/packetmuxer/wire: control packet encode/decode, early-neg TLVs. */
#include <stdlib.h>
#include <string.h>

#include "layers/packetmuxer/wire.h"
#include "lib/pbuf.h"
#include "tests/fakes.h"

static const uint8_t CS[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t SS[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};

static lvpn__pbuf_t *pbuf_with(const uint8_t *b, size_t n) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&fake_pool);
  ck_assert_ptr_nonnull(p);
  memcpy(lvpn__pbuf_put(p, n), b, n);
  return p;
}

START_TEST(test_wire_roundtrip_every_opcode) {
  static const uint8_t ops[] = {3, 4, 5, 7, 8, 10, 11};
  size_t i;
  int n;
  for (i = 0; i < sizeof(ops); i++) {
    for (n = 0; n <= LVPN__RELIABLE_ACK_SIZE; n++) {
      lvpn__ctl_pkt_t h, d;
      lvpn__pbuf_t *p = lvpn__pbuf_alloc(&fake_pool);
      uint8_t *payload;
      int k;

      memset(&h, 0, sizeof(h));
      h.opcode = ops[i];
      h.key_id = (uint8_t)((i + (size_t)n) % 8);
      memcpy(h.own_sid, CS, 8);
      h.n_acks = (uint8_t)n;
      for (k = 0; k < n; k++)
        h.acks[k] = 0xfffffff0u + (uint32_t)k * 7;
      memcpy(h.remote_sid, SS, 8);
      h.msg_id = 0x01020304u + i;
      payload = lvpn__pbuf_put(p, 5);
      memcpy(payload, "hello", 5);

      ck_assert_int_eq(lvpn__ctl_encode(p, &h), 0);
      ck_assert_uint_eq(p->len, 5 + lvpn__ctl_header_len(&h));
      ck_assert_uint_eq(lvpn__ctl_header_len(&h),
                        10 + 4 * (size_t)n + (n ? 8 : 0) +
                            (ops[i] == LVPN__P_ACK_V1 ? 0 : 4));
      ck_assert_uint_eq(p->data[0], (ops[i] << 3) | h.key_id);
      ck_assert_int_eq(lvpn__ctl_decode(p, &d), 0);
      ck_assert_ptr_eq(p->data, payload); /* header pulled, no copy */
      ck_assert_uint_eq(p->len, 5);
      ck_assert_uint_eq(d.opcode, ops[i]);
      ck_assert_uint_eq(d.key_id, h.key_id);
      ck_assert_mem_eq(d.own_sid, CS, 8);
      ck_assert_uint_eq(d.n_acks, n);
      for (k = 0; k < n; k++)
        ck_assert_uint_eq(d.acks[k], h.acks[k]);
      if (n > 0)
        ck_assert_mem_eq(d.remote_sid, SS, 8);
      ck_assert_int_eq(d.has_msg_id, ops[i] != LVPN__P_ACK_V1);
      if (d.has_msg_id)
        ck_assert_uint_eq(d.msg_id, h.msg_id);
      lvpn__pbuf_free(p);
    }
  }
}
END_TEST

/* Every prefix of a valid packet is rejected as truncated, p unchanged. */
START_TEST(test_wire_truncated_every_length) {
  static const uint8_t ops[] = {LVPN__P_CONTROL_V1, LVPN__P_ACK_V1};
  size_t i, cut, full;
  for (i = 0; i < sizeof(ops); i++) {
    lvpn__ctl_pkt_t h, d;
    uint8_t wire[64];
    lvpn__pbuf_t *p = lvpn__pbuf_alloc(&fake_pool);
    int k;

    memset(&h, 0, sizeof(h));
    h.opcode = ops[i];
    memcpy(h.own_sid, CS, 8);
    h.n_acks = 8;
    for (k = 0; k < 8; k++)
      h.acks[k] = (uint32_t)k;
    memcpy(h.remote_sid, SS, 8);
    ck_assert_int_eq(lvpn__ctl_encode(p, &h), 0);
    full = p->len;
    ck_assert_uint_eq(full, ops[i] == LVPN__P_ACK_V1 ? 50 : 54);
    memcpy(wire, p->data, full);
    lvpn__pbuf_free(p);
    for (cut = 0; cut < full; cut++) {
      uint8_t *data;
      p = pbuf_with(wire, cut);
      data = p->data;
      ck_assert_int_eq(lvpn__ctl_decode(p, &d), LVPN_ESHORT);
      ck_assert_ptr_eq(p->data, data);
      ck_assert_uint_eq(p->len, cut);
      lvpn__pbuf_free(p);
    }
    p = pbuf_with(wire, full);
    ck_assert_int_eq(lvpn__ctl_decode(p, &d), 0);
    ck_assert_uint_eq(p->len, 0);
    lvpn__pbuf_free(p);
  }
}
END_TEST

START_TEST(test_wire_nine_acks_rejected) {
  uint8_t wire[80];
  lvpn__ctl_pkt_t h, d;
  lvpn__pbuf_t *p;

  memset(wire, 0, sizeof(wire));
  wire[0] = LVPN__P_CONTROL_V1 << 3;
  wire[9] = 9; /* 9 acks, all present: still too many */
  p = pbuf_with(wire, sizeof(wire));
  ck_assert_int_eq(lvpn__ctl_decode(p, &d), LVPN_EBADACK);
  ck_assert_uint_eq(p->len, sizeof(wire));
  lvpn__pbuf_free(p);
  wire[9] = 255;
  p = pbuf_with(wire, sizeof(wire));
  ck_assert_int_eq(lvpn__ctl_decode(p, &d), LVPN_EBADACK);
  lvpn__pbuf_free(p);

  memset(&h, 0, sizeof(h));
  h.opcode = LVPN__P_ACK_V1;
  h.n_acks = 9;
  p = lvpn__pbuf_alloc(&fake_pool);
  ck_assert_int_eq(lvpn__ctl_encode(p, &h), LVPN_EINVAL);
  ck_assert_uint_eq(p->len, 0);
  lvpn__pbuf_free(p);
}
END_TEST

START_TEST(test_wire_bad_opcodes) {
  uint8_t wire[32];
  lvpn__ctl_pkt_t h, d;
  lvpn__pbuf_t *p;
  int op;

  memset(wire, 0, sizeof(wire));
  for (op = 0; op < 32; op++) {
    int ok = op >= 3 && op <= 11 && op != 6 && op != 9;
    wire[0] = (uint8_t)(op << 3 | 2);
    p = pbuf_with(wire, sizeof(wire));
    ck_assert_int_eq(lvpn__ctl_decode(p, &d), ok ? 0 : LVPN_EBADOPCODE);
    ck_assert_int_eq(lvpn__ctl_is_control_opcode((uint8_t)op), ok);
    lvpn__pbuf_free(p);
    /* the opcode is judged from the first byte alone */
    p = pbuf_with(wire, 1);
    ck_assert_int_eq(lvpn__ctl_decode(p, &d),
                     ok ? LVPN_ESHORT : LVPN_EBADOPCODE);
    lvpn__pbuf_free(p);
  }
  memset(&h, 0, sizeof(h));
  p = lvpn__pbuf_alloc(&fake_pool);
  h.opcode = LVPN__P_DATA_V2;
  ck_assert_int_eq(lvpn__ctl_encode(p, &h), LVPN_EINVAL);
  h.opcode = LVPN__P_CONTROL_HARD_RESET_CLIENT_V1;
  ck_assert_int_eq(lvpn__ctl_encode(p, &h), LVPN_EINVAL);
  h.opcode = LVPN__P_CONTROL_V1;
  h.key_id = 8;
  ck_assert_int_eq(lvpn__ctl_encode(p, &h), LVPN_EINVAL);
  ck_assert_uint_eq(p->len, 0);
  lvpn__pbuf_free(p);
}
END_TEST

START_TEST(test_wire_headroom_short) {
  lvpn__ctl_pkt_t h;
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&fake_pool);
  memset(&h, 0, sizeof(h));
  h.opcode = LVPN__P_CONTROL_V1;
  h.n_acks = 2;
  lvpn__pbuf_reset(p, 10 + 8 + 8 + 4 - 1); /* one byte short */
  memcpy(lvpn__pbuf_put(p, 3), "abc", 3);
  ck_assert_int_eq(lvpn__ctl_encode(p, &h), LVPN_ETOOBIG);
  ck_assert_uint_eq(p->len, 3);
  lvpn__pbuf_reset(p, 30);
  ck_assert_int_eq(lvpn__ctl_encode(p, &h), 0);
  ck_assert_uint_eq(lvpn__pbuf_headroom(p), 0);
  lvpn__pbuf_free(p);
}
END_TEST

static void check_encoded(const lvpn__ctl_pkt_t *h, const uint8_t *payload,
                          size_t plen, const uint8_t *want, size_t wlen) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&fake_pool);
  if (plen > 0)
    memcpy(lvpn__pbuf_put(p, plen), payload, plen);
  ck_assert_int_eq(lvpn__ctl_encode(p, h), 0);
  ck_assert_uint_eq(p->len, wlen);
  ck_assert_mem_eq(p->data, want, wlen);
  lvpn__pbuf_free(p);
}

/* The exact packets of doc/openvpn-protocol.md §1.4 (lab captures). */
START_TEST(test_wire_doc_examples) {
  lvpn__ctl_pkt_t h, d;
  lvpn__pbuf_t *p;
  /* 1. client hard reset: 14 bytes */
  static const uint8_t reset_c[] = {0x38, 1, 2,    3, 4, 5, 6,
                                    7,    8, 0x00, 0, 0, 0, 0};
  /* 2. server reset: 0x40 Ss | 01 00000000 <Cs> 00000000 | TLV 0001 0002 0001
   */
  static const uint8_t reset_s[] = {
      0x40, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0x01, 0,
      0,    0,    0,    1,    2,    3,    4,    5,    6,    7,    8,
      0,    0,    0,    0,    0x00, 0x01, 0x00, 0x02, 0x00, 0x01};
  /* 3. P_CONTROL_V1 pid=1: 01 00000000 <Ss> 00000001 16 03 01 */
  static const uint8_t ctl[] = {0x20, 1,    2,    3,    4,    5,    6,    7,
                                8,    0x01, 0,    0,    0,    0,    0xa1, 0xa2,
                                0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0,    0,
                                0,    1,    0x16, 0x03, 0x01};
  /* P_ACK_V1: 02 00000001 00000000 <Ss> */
  static const uint8_t ack[] = {
      0x28, 1, 2, 3, 4, 5,    6,    7,    8,    0x02, 0,    0,    0,
      1,    0, 0, 0, 0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
  uint16_t flags = 0xffff;

  memset(&h, 0, sizeof(h));
  h.opcode = LVPN__P_CONTROL_HARD_RESET_CLIENT_V2;
  memcpy(h.own_sid, CS, 8);
  check_encoded(&h, NULL, 0, reset_c, sizeof(reset_c));

  p = pbuf_with(reset_s, sizeof(reset_s));
  ck_assert_int_eq(lvpn__ctl_decode(p, &d), 0);
  ck_assert_uint_eq(d.opcode, LVPN__P_CONTROL_HARD_RESET_SERVER_V2);
  ck_assert_uint_eq(d.key_id, 0);
  ck_assert_mem_eq(d.own_sid, SS, 8);
  ck_assert_uint_eq(d.n_acks, 1);
  ck_assert_uint_eq(d.acks[0], 0);
  ck_assert_mem_eq(d.remote_sid, CS, 8);
  ck_assert_int_eq(d.has_msg_id, 1);
  ck_assert_uint_eq(d.msg_id, 0);
  ck_assert_uint_eq(p->len, 6);
  ck_assert_int_eq(lvpn__ctl_parse_early_neg(p->data, p->len, &flags), 0);
  ck_assert_uint_eq(flags, LVPN__EARLY_NEG_FLAG_RESEND_WKC);
  lvpn__pbuf_free(p);

  memset(&h, 0, sizeof(h));
  h.opcode = LVPN__P_CONTROL_V1;
  memcpy(h.own_sid, CS, 8);
  h.n_acks = 1;
  memcpy(h.remote_sid, SS, 8);
  h.msg_id = 1;
  check_encoded(&h, (const uint8_t *)"\x16\x03\x01", 3, ctl, sizeof(ctl));

  memset(&h, 0, sizeof(h));
  h.opcode = LVPN__P_ACK_V1;
  memcpy(h.own_sid, CS, 8);
  h.n_acks = 2;
  h.acks[0] = 1;
  h.acks[1] = 0;
  memcpy(h.remote_sid, SS, 8);
  h.msg_id = 77; /* ignored: P_ACK_V1 has none */
  check_encoded(&h, NULL, 0, ack, sizeof(ack));
}
END_TEST

START_TEST(test_wire_ack_trailing_bytes_ignored) {
  static const uint8_t ack[] = {0x28, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0xde, 0xad};
  lvpn__ctl_pkt_t d;
  lvpn__pbuf_t *p = pbuf_with(ack, sizeof(ack));
  ck_assert_int_eq(lvpn__ctl_decode(p, &d), 0);
  ck_assert_uint_eq(d.opcode, LVPN__P_ACK_V1);
  ck_assert_int_eq(d.has_msg_id, 0);
  ck_assert_uint_eq(d.n_acks, 0);
  ck_assert_uint_eq(p->len, 2); /* left as payload for the caller to ignore */
  lvpn__pbuf_free(p);
}
END_TEST

START_TEST(test_wire_early_neg_tlvs) {
  static const uint8_t ok[] = {0x12, 0x34, 0x00, 0x03, 9,    9,
                               9, /* unknown */
                               0x00, 0x01, 0x00, 0x02, 0x00, 0x01};
  static const uint8_t badlen[] = {0x00, 0x01, 0x00, 0x01, 0x01};
  uint16_t flags = 0xffff;
  size_t cut;

  ck_assert_int_eq(lvpn__ctl_parse_early_neg(NULL, 0, &flags), 0);
  ck_assert_uint_eq(flags, 0);
  ck_assert_int_eq(lvpn__ctl_parse_early_neg(ok, sizeof(ok), &flags), 0);
  ck_assert_uint_eq(flags, 1);
  for (cut = 1; cut < sizeof(ok); cut++) {
    if (cut == 7) /* a whole TLV: valid on its own */
      continue;
    ck_assert_int_eq(lvpn__ctl_parse_early_neg(ok, cut, &flags), LVPN_ESHORT);
  }
  ck_assert_int_eq(lvpn__ctl_parse_early_neg(ok, 7, &flags), 0);
  ck_assert_uint_eq(flags, 0);
  ck_assert_int_eq(lvpn__ctl_parse_early_neg(badlen, sizeof(badlen), &flags),
                   LVPN_EPROTO);
}
END_TEST

START_TEST(test_wire_names_and_data_test) {
  ck_assert_str_eq(lvpn__ctl_opcode_name(LVPN__P_CONTROL_WKC_V1),
                   "P_CONTROL_WKC_V1");
  ck_assert_str_eq(lvpn__ctl_opcode_name(LVPN__P_ACK_V1), "P_ACK_V1");
  ck_assert_str_eq(lvpn__ctl_opcode_name(LVPN__P_CONTROL_HARD_RESET_CLIENT_V3),
                   "P_CONTROL_HARD_RESET_CLIENT_V3");
  ck_assert_str_eq(lvpn__ctl_opcode_name(0), "P_???");
  ck_assert_str_eq(lvpn__ctl_opcode_name(31), "P_???");
  ck_assert_int_eq(lvpn__wire_is_data(0x48), 1);
  ck_assert_int_eq(lvpn__wire_is_data(0x30), 1);
  ck_assert_int_eq(lvpn__wire_is_data(0x4f), 1);
  ck_assert_int_eq(lvpn__wire_is_data(0x20), 0);
  ck_assert_int_eq(lvpn__wire_is_data(0x40), 0);
}
END_TEST

/* Random bytes never crash the decoder, and whatever it accepts re-encodes
 * to the same bytes. */
START_TEST(test_wire_garbage_roundtrip) {
  uint8_t wire[80];
  unsigned seed = 12345;
  int iter, accepted = 0;
  size_t i, len;
  for (iter = 0; iter < 20000; iter++) {
    lvpn__ctl_pkt_t d;
    lvpn__pbuf_t *p;
    len = (size_t)(rand_r(&seed) % (int)sizeof(wire));
    for (i = 0; i < len; i++)
      wire[i] = (uint8_t)rand_r(&seed);
    if (len > 9)
      wire[9] = (uint8_t)(wire[9] % 10); /* mostly plausible ack counts */
    p = pbuf_with(wire, len);
    if (lvpn__ctl_decode(p, &d) == 0) {
      accepted++;
      ck_assert_int_eq(lvpn__ctl_encode(p, &d), 0);
      ck_assert_uint_eq(p->len, len);
      ck_assert_mem_eq(p->data, wire, len);
    } else {
      ck_assert_uint_eq(p->len, len);
    }
    lvpn__pbuf_free(p);
  }
  ck_assert_int_gt(accepted, 1000);
}
END_TEST

LVPN_TEST_MAIN("wire", 0, fake_pool_setup, fake_pool_teardown,
               test_wire_roundtrip_every_opcode,
               test_wire_truncated_every_length, test_wire_nine_acks_rejected,
               test_wire_bad_opcodes, test_wire_headroom_short,
               test_wire_doc_examples, test_wire_ack_trailing_bytes_ignored,
               test_wire_early_neg_tlvs, test_wire_names_and_data_test,
               test_wire_garbage_roundtrip)
