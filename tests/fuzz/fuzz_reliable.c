/* Reliable ACK and receive processing (layers/reliabletransport/reliable.c),
 * driven the way the reliabletransport layer drives it: every received
 * control packet is decoded (packetmuxer/wire.c), its ACK record goes to
 * lvpn__rel_on_acks_at and its payload to lvpn__rel_on_receive; the sender
 * side numbers and polls messages in between.
 *
 * Input: a sequence of operations, op(1) then its arguments:
 *   0 len(1) bytes   a received unwrapped control packet (decoded)
 *   1 len(1) bytes   send a message if the window allows
 *   2                poll until nothing is due
 *   3 ms(2)          advance the clock by ms * 8
 *   4 n(1) ids       an ACK record: per id one byte b, b & 0x80: a raw u32
 *                    follows, else next_send_id - 8 + (b & 0x7f)
 *   5 b(1) len(1)    a received message whose id is expected - 4 + b
 *                    (b & 0x80: a raw u32 follows instead)
 *   6                schedule_now (the peer's reset)
 *   7 send(4) recv(4) skip_to (refused when something is outstanding)
 *   8                reset
 * Checked: poll results are well formed, and once poll says nothing is due
 * the next deadline is in the future (else the layer's timer would spin). */
#include "layers/packetmuxer/wire.h"
#include "layers/reliabletransport/reliable.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(lvpn__rel_t *r) {
  lvpn__pbuf_t *q;
  while ((q = lvpn__rel_pop_inorder(r)) != NULL)
    lvpn__pbuf_free(q);
}

static void receive(lvpn__rel_t *r, lvpn__pbuf_t *p, uint64_t now) {
  if (p->meta.n_acks > 0)
    lvpn__rel_on_acks_at(r, p->meta.acks, p->meta.n_acks, now);
  if (p->meta.opcode == LVPN__P_ACK_V1 || !p->meta.has_msg_id) {
    lvpn__pbuf_free(p);
    return;
  }
  if ((p->meta.opcode == LVPN__P_CONTROL_HARD_RESET_SERVER_V2 ||
       p->meta.opcode == LVPN__P_CONTROL_SOFT_RESET_V1) &&
      p->meta.msg_id == 0)
    lvpn__rel_schedule_now(r);
  (void)lvpn__rel_on_receive(r, p);
  drain(r);
}

static void poll_all(lvpn__rel_t *r, uint64_t now) {
  lvpn__pbuf_t *out;
  lvpn__acks_t acks;
  int i, k;

  for (i = 0; i < 64; i++) {
    k = lvpn__rel_poll(r, now, &out, &acks);
    if (k == LVPN__REL_POLL_NONE) {
      if (out != NULL || acks.n != 0 || lvpn__rel_next_deadline(r) <= now)
        abort();
      return;
    }
    if (k == LVPN__REL_POLL_PACKET) {
      if (out == NULL || acks.n > LVPN__REL_ACK_PIGGYBACK)
        abort();
      lvpn__pbuf_free(out);
    } else if (k == LVPN__REL_POLL_ACK) {
      if (out != NULL || acks.n < 1 || acks.n > LVPN__REL_ACK_MAX)
        abort();
    } else {
      abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lvpn__rel_t r;
  fuzz_in_t in = {data, size};
  uint64_t now = 1000;

  lvpn__rel_init(&r, 2000);
  lvpn__rel_set_max_timeout(&r, 2000);
  while (in.n > 0) {
    uint8_t op = fuzz_u8(&in), len, b;
    const uint8_t *bytes;
    lvpn__pbuf_t *p;
    lvpn__ctl_pkt_t h = {0};
    uint32_t ids[LVPN__REL_ACK_MAX], a, c;
    size_t got;
    int i, n;

    switch (op % 9) {
    case 0:
      len = fuzz_u8(&in);
      bytes = fuzz_bytes(&in, len, &got);
      p = fuzz_pbuf(bytes, got);
      if (lvpn__ctl_decode(p, &h) != 0) {
        lvpn__pbuf_free(p);
        break;
      }
      p->meta.opcode = h.opcode;
      p->meta.key_id = h.key_id;
      p->meta.has_msg_id = (uint8_t)h.has_msg_id;
      p->meta.msg_id = h.msg_id;
      p->meta.n_acks = h.n_acks;
      memcpy(p->meta.acks, h.acks, sizeof(uint32_t) * h.n_acks);
      receive(&r, p, now);
      break;
    case 1:
      len = fuzz_u8(&in);
      bytes = fuzz_bytes(&in, len, &got);
      p = fuzz_pbuf(bytes, got);
      p->meta.opcode = LVPN__P_CONTROL_V1;
      if (lvpn__rel_send(&r, p, now) != 0)
        lvpn__pbuf_free(p);
      break;
    case 2:
      poll_all(&r, now);
      break;
    case 3:
      now += (uint64_t)fuzz_u16(&in) * 8;
      break;
    case 4:
      n = fuzz_u8(&in) % (LVPN__REL_ACK_MAX + 1);
      for (i = 0; i < n; i++) {
        b = fuzz_u8(&in);
        ids[i] = b & 0x80 ? fuzz_u32(&in) : r.next_send_id - 8 + (b & 0x7f);
      }
      lvpn__rel_on_acks_at(&r, ids, n, now);
      break;
    case 5:
      b = fuzz_u8(&in);
      a = b & 0x80 ? fuzz_u32(&in) : r.expected - 4 + (b & 0x7f);
      len = fuzz_u8(&in);
      bytes = fuzz_bytes(&in, len, &got);
      p = fuzz_pbuf(bytes, got);
      p->meta.opcode = LVPN__P_CONTROL_V1;
      p->meta.has_msg_id = 1;
      p->meta.msg_id = a;
      receive(&r, p, now);
      break;
    case 6:
      lvpn__rel_schedule_now(&r);
      break;
    case 7:
      a = fuzz_u32(&in);
      c = fuzz_u32(&in);
      (void)lvpn__rel_skip_to(&r, a, c);
      break;
    default:
      lvpn__rel_reset(&r);
      break;
    }
    if (lvpn__rel_acks_pending(&r) > LVPN__REL_ACK_MAX)
      abort();
  }
  lvpn__rel_reset(&r);
  fuzz_pool_check();
  return 0;
}
