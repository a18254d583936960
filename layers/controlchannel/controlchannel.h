/* controlchannel: between reliabletransport and tlssession.
 * On start it sends our hard reset. Up: the server's hard reset becomes a
 * "start TLS" signal for the tlssession (an empty packet whose meta opcode is
 * the reset), P_CONTROL_V1 payloads are the TLS byte stream. Down: TLS
 * ciphertext is cut into P_CONTROL_V1 payloads so that no control packet on
 * the wire exceeds tls-mtu (1250 bytes) with every header and the wrapping. */
#ifndef LVPN_LAYERS_CONTROLCHANNEL_CONTROLCHANNEL_H
#define LVPN_LAYERS_CONTROLCHANNEL_CONTROLCHANNEL_H

#include "layers/layer.h"
#include "layers/packetmuxer/session.h"

typedef struct lvpn__controlchannel_s {
  lvpn__layer_t base;
  lvpn__session_t *session;
  lvpn__pbuf_pool_t *pool;
  size_t tls_mtu; /* limit for a whole control packet on the wire */
  uint8_t key_id;
  uint64_t tls_bytes_out, tls_bytes_in, packets_out, packets_in, soft_resets;
  uint64_t soft_resets_unanswered; /* the tlssession was busy (session.h) */
} lvpn__controlchannel_t;

/* `tls_mtu` is the limit for a whole control packet (default 1250). */
void lvpn__controlchannel_init(lvpn__controlchannel_t *c, uv_loop_t *loop,
                               lvpn__session_t *session,
                               lvpn__pbuf_pool_t *pool, size_t tls_mtu,
                               const lvpn__logger_t *log);

/* TLS bytes per P_CONTROL_V1 now: tls-mtu less the worst-case header and
 * the wrap in use for the current key_id (dynamic tls-crypt after the first
 * renegotiation). */
size_t lvpn__controlchannel_max_payload(const lvpn__controlchannel_t *c);

/* Starts a renegotiation from our side: a P_CONTROL_SOFT_RESET_V1 with the
 * next key_id. The server answers with its own, which starts the new TLS
 * handshake as when the server initiates. */
int lvpn__controlchannel_soft_reset(lvpn__controlchannel_t *c);

#endif
