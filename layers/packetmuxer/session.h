/* Control-session state shared by the control-path layers of one client:
 * session ids and the control-channel wrapping. Owned by the client object;
 * the layers hold a pointer. (Not a layer: no handles, no queues.) */
#ifndef LVPN_LAYERS_PACKETMUXER_SESSION_H
#define LVPN_LAYERS_PACKETMUXER_SESSION_H

#include <stdint.h>

#include "layers/packetmuxer/tlswrap.h"

typedef struct lvpn__session_s {
  uint8_t own_sid[8];    /* our random session id (non-zero) */
  uint8_t remote_sid[8]; /* the server's, from its first hard reset */
  int have_remote_sid;
  int is_tcp;
  lvpn__tlswrap_t wrap;  /* tls-auth / tls-crypt / tls-crypt-v2 / none */
  uint16_t early_neg_flags; /* from the server's reset TLVs */
  /* Dynamic tls-crypt (protocol-flags dyn-tls-crypt): derived once with the
   * key_id-0 data keys; wraps every control packet with key_id != 0. */
  lvpn__tlswrap_t dyn;
  int have_dyn;
  /* Set by the tlssession while it takes no soft reset (its key state is
   * not up yet, or a renegotiation is running: tlssession.c
   * tlss_renegotiate): the controlchannel then neither answers a server's
   * soft reset nor moves its key_id, so a flood of them (a hostile server,
   * or a spoofer without tls-auth) gets no answer and cannot move the
   * running handshake to another key_id. */
  int tls_busy;
} lvpn__session_t;

/* The wrap of a control packet with `key_id`, either direction. */
static inline lvpn__tlswrap_t *lvpn__session_wrap(lvpn__session_t *s,
                                                  uint8_t key_id) {
  return key_id != 0 && s->have_dyn ? &s->dyn : &s->wrap;
}

#endif
