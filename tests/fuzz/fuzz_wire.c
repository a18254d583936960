/* Control-packet decode (layers/packetmuxer/wire.c): the unwrapped packet
 * exactly as it reaches lvpn__ctl_decode, plus the early-negotiation TLVs
 * of a reset's payload. A decoded header must re-encode to the same bytes.
 * Input: one unwrapped control packet. */
#include "layers/packetmuxer/wire.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lvpn__ctl_pkt_t h = {0};
  lvpn__pbuf_t *p = fuzz_pbuf(data, size);
  size_t in_len = p->len, hlen;
  uint16_t flags;

  if (lvpn__ctl_decode(p, &h) == 0) {
    hlen = in_len - p->len;
    if (h.n_acks > LVPN__RELIABLE_ACK_SIZE || h.key_id > 7 ||
        hlen != lvpn__ctl_header_len(&h))
      abort();
    (void)lvpn__ctl_opcode_name(h.opcode);
    if (h.opcode != LVPN__P_ACK_V1 && h.msg_id == 0)
      (void)lvpn__ctl_parse_early_neg(p->data, p->len, &flags);
    /* Round trip: the header pushed back must be the bytes we pulled. */
    if (lvpn__ctl_encode(p, &h) != 0 || p->len != in_len ||
        memcmp(p->data, data, in_len) != 0)
      abort();
  } else if (p->len != in_len || memcmp(p->data, data, in_len) != 0) {
    abort(); /* errors leave p unchanged */
  }
  (void)lvpn__ctl_parse_early_neg(data, size, &flags);
  lvpn__pbuf_free(p);
  fuzz_pool_check();
  return 0;
}
