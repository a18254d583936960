#include "lib/bytes.h"
#include "layers/packetmuxer/wire.h"

#include <string.h>



int lvpn__ctl_is_control_opcode(uint8_t op) {
  return op >= LVPN__P_FIRST_OPCODE && op <= LVPN__P_LAST_OPCODE &&
         op != LVPN__P_DATA_V1 && op != LVPN__P_DATA_V2;
}

const char *lvpn__ctl_opcode_name(uint8_t op) {
  switch (op) {
  case LVPN__P_CONTROL_HARD_RESET_CLIENT_V1:
    return "P_CONTROL_HARD_RESET_CLIENT_V1";
  case LVPN__P_CONTROL_HARD_RESET_SERVER_V1:
    return "P_CONTROL_HARD_RESET_SERVER_V1";
  case LVPN__P_CONTROL_SOFT_RESET_V1:
    return "P_CONTROL_SOFT_RESET_V1";
  case LVPN__P_CONTROL_V1:
    return "P_CONTROL_V1";
  case LVPN__P_ACK_V1:
    return "P_ACK_V1";
  case LVPN__P_DATA_V1:
    return "P_DATA_V1";
  case LVPN__P_CONTROL_HARD_RESET_CLIENT_V2:
    return "P_CONTROL_HARD_RESET_CLIENT_V2";
  case LVPN__P_CONTROL_HARD_RESET_SERVER_V2:
    return "P_CONTROL_HARD_RESET_SERVER_V2";
  case LVPN__P_DATA_V2:
    return "P_DATA_V2";
  case LVPN__P_CONTROL_HARD_RESET_CLIENT_V3:
    return "P_CONTROL_HARD_RESET_CLIENT_V3";
  case LVPN__P_CONTROL_WKC_V1:
    return "P_CONTROL_WKC_V1";
  default:
    return "P_???";
  }
}

size_t lvpn__ctl_header_len(const lvpn__ctl_pkt_t *h) {
  size_t n = 1 + LVPN__SID_SIZE + 1 + 4 * (size_t)h->n_acks;
  if (h->n_acks > 0)
    n += LVPN__SID_SIZE;
  if (h->opcode != LVPN__P_ACK_V1)
    n += 4;
  return n;
}

int lvpn__ctl_decode(lvpn__pbuf_t *p, lvpn__ctl_pkt_t *out) {
  const uint8_t *b = p->data;
  size_t len = p->len, off, need;
  uint8_t op, n, i;

  if (len < 1)
    return LVPN_ESHORT;
  op = (uint8_t)(b[0] >> LVPN__P_OPCODE_SHIFT);
  if (!lvpn__ctl_is_control_opcode(op))
    return LVPN_EBADOPCODE;
  if (len < 1 + LVPN__SID_SIZE + 1)
    return LVPN_ESHORT;
  n = b[1 + LVPN__SID_SIZE];
  if (n > LVPN__RELIABLE_ACK_SIZE)
    return LVPN_EBADACK;
  need = 1 + LVPN__SID_SIZE + 1 + 4 * (size_t)n + (n > 0 ? LVPN__SID_SIZE : 0) +
         (op != LVPN__P_ACK_V1 ? 4 : 0);
  if (len < need)
    return LVPN_ESHORT;

  memset(out, 0, sizeof(*out));
  out->opcode = op;
  out->key_id = (uint8_t)(b[0] & LVPN__P_KEY_ID_MASK);
  memcpy(out->own_sid, b + 1, LVPN__SID_SIZE);
  out->n_acks = n;
  off = 1 + LVPN__SID_SIZE + 1;
  for (i = 0; i < n; i++, off += 4)
    out->acks[i] = lvpn__get_u32(b + off);
  if (n > 0) {
    memcpy(out->remote_sid, b + off, LVPN__SID_SIZE);
    off += LVPN__SID_SIZE;
  }
  if (op != LVPN__P_ACK_V1) {
    out->msg_id = lvpn__get_u32(b + off);
    out->has_msg_id = 1;
    off += 4;
  }
  lvpn__pbuf_pull(p, off);
  return 0;
}

int lvpn__ctl_encode(lvpn__pbuf_t *p, const lvpn__ctl_pkt_t *h) {
  size_t hlen, off;
  uint8_t *b, i;

  if (h->n_acks > LVPN__RELIABLE_ACK_SIZE || h->key_id > LVPN__P_KEY_ID_MASK ||
      !lvpn__ctl_is_control_opcode(h->opcode))
    return LVPN_EINVAL;
  hlen = lvpn__ctl_header_len(h);
  b = lvpn__pbuf_push(p, hlen);
  if (b == NULL)
    return LVPN_ETOOBIG;

  b[0] = (uint8_t)((h->opcode << LVPN__P_OPCODE_SHIFT) | h->key_id);
  memcpy(b + 1, h->own_sid, LVPN__SID_SIZE);
  b[1 + LVPN__SID_SIZE] = h->n_acks;
  off = 1 + LVPN__SID_SIZE + 1;
  for (i = 0; i < h->n_acks; i++, off += 4)
    lvpn__put_u32(b + off, h->acks[i]);
  if (h->n_acks > 0) {
    memcpy(b + off, h->remote_sid, LVPN__SID_SIZE);
    off += LVPN__SID_SIZE;
  }
  if (h->opcode != LVPN__P_ACK_V1)
    lvpn__put_u32(b + off, h->msg_id);
  return 0;
}

int lvpn__ctl_parse_early_neg(const uint8_t *payload, size_t len,
                              uint16_t *flags) {
  size_t off = 0;
  uint16_t type, vlen, f = 0;

  while (off < len) {
    if (len - off < 4)
      return LVPN_ESHORT;
    type = (uint16_t)((payload[off] << 8) | payload[off + 1]);
    vlen = (uint16_t)((payload[off + 2] << 8) | payload[off + 3]);
    off += 4;
    if (len - off < vlen)
      return LVPN_ESHORT;
    if (type == LVPN__TLV_TYPE_EARLY_NEG_FLAGS) {
      if (vlen != 2)
        return LVPN_EPROTO;
      f = (uint16_t)((payload[off] << 8) | payload[off + 1]);
    }
    off += vlen;
  }
  *flags = f;
  return 0;
}
