/* packetmuxer: between networkio and the rest. Serializes and parses control
 * packet headers (with the session's wrapping), checks session ids, learns
 * the server's session id from its hard reset, and demultiplexes wire
 * packets: control packets go up the control path (reliabletransport), data
 * packets (P_DATA_V1/V2) to the datachannel. Malformed or unexpected packets
 * are dropped and counted per reason. */
#ifndef LVPN_LAYERS_PACKETMUXER_PACKETMUXER_H
#define LVPN_LAYERS_PACKETMUXER_PACKETMUXER_H

#include "layers/layer.h"
#include "layers/packetmuxer/session.h"

enum {
  LVPN__MUX_DROP_SHORT = 0,
  LVPN__MUX_DROP_OPCODE,
  LVPN__MUX_DROP_AUTH,
  LVPN__MUX_DROP_REPLAY,
  LVPN__MUX_DROP_DECODE,
  LVPN__MUX_DROP_SESSION,
  LVPN__MUX_DROP_NO_SESSION,
  LVPN__MUX_DROP_ENCODE,
  LVPN__MUX_DROP_MAX
};

typedef struct lvpn__packetmuxer_s {
  lvpn__layer_t base;
  lvpn__session_t *session;
  lvpn__layer_t *data_up; /* the datachannel */
  uint64_t rx_control, rx_data, tx_control, tx_data;
  uint64_t drops[LVPN__MUX_DROP_MAX];
  /* float: a control packet from a new server address passed tls-auth /
   * tls-crypt and belongs to our session (meta.float_gen != 0). May be
   * NULL. */
  void (*on_authentic)(void *ud, uint8_t float_gen);
  void *auth_ud;
} lvpn__packetmuxer_t;

void lvpn__packetmuxer_init(lvpn__packetmuxer_t *m, uv_loop_t *loop,
                            lvpn__session_t *session,
                            const lvpn__logger_t *log);

#endif
