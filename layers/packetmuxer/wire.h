/* OpenVPN control-packet wire format (unwrapped form): pure encode/decode,
 * no loop, no I/O. Protocol reference: doc/openvpn-protocol.md §1.
 *
 *   byte0 (opcode<<3 | key_id) | own_sid(8) | ack_count(1) | acks(4n) |
 *   [remote_sid(8) if n > 0] | [msg_id(4) unless P_ACK_V1] | payload
 *
 * Decoding pulls the header off the packet buffer and encoding pushes it in
 * front of the payload: the payload is never copied.
 */
#ifndef LVPN_LAYERS_PACKETMUXER_WIRE_H
#define LVPN_LAYERS_PACKETMUXER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/pbuf.h"
#include "layervpn.h"

/* Opcodes [ssl_pkt.h]. 1 and 2 (key-method 1) are rejected by 2.6. */
#define LVPN__P_CONTROL_HARD_RESET_CLIENT_V1 1
#define LVPN__P_CONTROL_HARD_RESET_SERVER_V1 2
#define LVPN__P_CONTROL_SOFT_RESET_V1 3
#define LVPN__P_CONTROL_V1 4
#define LVPN__P_ACK_V1 5
#define LVPN__P_DATA_V1 6
#define LVPN__P_CONTROL_HARD_RESET_CLIENT_V2 7
#define LVPN__P_CONTROL_HARD_RESET_SERVER_V2 8
#define LVPN__P_DATA_V2 9
#define LVPN__P_CONTROL_HARD_RESET_CLIENT_V3 10
#define LVPN__P_CONTROL_WKC_V1 11

#define LVPN__P_OPCODE_SHIFT 3
#define LVPN__P_KEY_ID_MASK 0x07
#define LVPN__P_FIRST_OPCODE 3
#define LVPN__P_LAST_OPCODE 11

#define LVPN__SID_SIZE 8
#define LVPN__RELIABLE_ACK_SIZE 8    /* max ids in one ACK record */
#define LVPN__CONTROL_SEND_ACK_MAX 4 /* ids piggybacked on P_CONTROL_* */
#define LVPN__TLS_MTU 1250 /* whole control packet, headers included */
/* Largest unwrapped header: 1 + 8 + 1 + 4*8 + 8 + 4. */
#define LVPN__CTL_MAX_HEADER 54

/* Early negotiation (§1.5). */
#define LVPN__EARLY_NEG_START 0x0f000000u
#define LVPN__EARLY_NEG_MASK 0xff000000u
#define LVPN__TLV_TYPE_EARLY_NEG_FLAGS 0x0001
#define LVPN__EARLY_NEG_FLAG_RESEND_WKC 0x0001

typedef struct lvpn__ctl_pkt_s {
  uint8_t opcode;                  /* LVPN__P_* */
  uint8_t key_id;                  /* 0..7 */
  uint8_t own_sid[LVPN__SID_SIZE]; /* sender's session id */
  uint8_t n_acks;                  /* 0..8 */
  uint32_t acks[LVPN__RELIABLE_ACK_SIZE];
  uint8_t remote_sid[LVPN__SID_SIZE]; /* on the wire only when n_acks > 0 */
  uint32_t msg_id;                    /* message packet id */
  int has_msg_id; /* decode: 0 for P_ACK_V1, else 1. Encode ignores it: the
                     opcode decides (P_ACK_V1 never carries one). */
} lvpn__ctl_pkt_t;

/* The key_id after `k`: 1..7, wrapping to 1, never 0 (§1.2). */
static inline uint8_t lvpn__next_key_id(uint8_t k) {
  return (uint8_t)(k >= 7 ? 1 : k + 1);
}

/* 1 when `op` is a control opcode we parse (3..11 except the data opcodes). */
int lvpn__ctl_is_control_opcode(uint8_t op);

/* 1 when the first byte of a wire packet announces P_DATA_V1/P_DATA_V2. */
static inline int lvpn__wire_is_data(uint8_t byte0) {
  uint8_t op = (uint8_t)(byte0 >> LVPN__P_OPCODE_SHIFT);
  return op == LVPN__P_DATA_V1 || op == LVPN__P_DATA_V2;
}

/* "P_CONTROL_V1", ... ; "P_???" for unknown values. Static string. */
const char *lvpn__ctl_opcode_name(uint8_t op);

/* Size of the header that lvpn__ctl_encode() would push for `h`. */
size_t lvpn__ctl_header_len(const lvpn__ctl_pkt_t *h);

/* Parses the unwrapped control packet at p->data into *out and pulls the
 * header: afterwards p->data/p->len is the payload (not copied). The caller
 * keeps ownership of `p`. A P_ACK_V1 has no msg id; bytes after its ACK
 * record are accepted and left as the "payload" (OpenVPN ignores them too),
 * so the caller should ignore them.
 * Errors (p unchanged): LVPN_ESHORT truncated, LVPN_EBADACK ack_count > 8,
 * LVPN_EBADOPCODE not a control opcode. */
int lvpn__ctl_decode(lvpn__pbuf_t *p, lvpn__ctl_pkt_t *out);

/* Pushes the header described by `h` in front of the payload in `p`
 * (p->meta is not used). The caller keeps ownership of `p`.
 * Errors (p unchanged): LVPN_EINVAL n_acks > 8, key_id > 7 or a
 * non-control opcode; LVPN_ETOOBIG headroom too small. */
int lvpn__ctl_encode(lvpn__pbuf_t *p, const lvpn__ctl_pkt_t *h);

/* Parses the early-negotiation TLVs (type:u16 len:u16 value) carried in the
 * payload of a hard reset with msg id 0. Unknown types are skipped; *flags
 * receives the EARLY_NEG_FLAGS value (0 when absent).
 * Errors: LVPN_ESHORT truncated TLV, LVPN_EPROTO EARLY_NEG_FLAGS with a
 * length other than 2. */
int lvpn__ctl_parse_early_neg(const uint8_t *payload, size_t len,
                              uint16_t *flags);

#endif
