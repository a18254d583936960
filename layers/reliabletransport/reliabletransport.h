/* reliabletransport: OpenVPN's reliability layer for the control channel,
 * as a loop-driven layer around the pure state machine in reliable.h.
 * Down: control payloads (meta opcode/key_id set) get message ids, are kept
 * for retransmission and sent with piggybacked ACKs. Up: ACK records are
 * applied, payloads are acknowledged and delivered strictly in order. */
#ifndef LVPN_LAYERS_RELIABLETRANSPORT_RELIABLETRANSPORT_H
#define LVPN_LAYERS_RELIABLETRANSPORT_RELIABLETRANSPORT_H

#include "layers/layer.h"
#include "layers/reliabletransport/reliable.h"

typedef struct lvpn__reltrans_s {
  lvpn__layer_t base;
  lvpn__rel_t rel;
  lvpn__pbuf_pool_t *pool;
  lvpn__queue_t backlog; /* payloads waiting for send-window room */
  uv_timer_t timer;      /* next retransmission, or the ACK flush */
  int flush_pending;
  int burst_done;
  int burst_now; /* the peer's reset made everything due (trace) */
  uint32_t tls_timeout_ms;
  uint8_t key_id;        /* key state the reliability state belongs to */
  uint64_t acks_only_sent, backlog_peak, stale_key_drops, key_changes;
  /* counters of earlier key states (lvpn__rel_reset clears its own) */
  uint64_t prev_retransmits, prev_fast_retransmits, prev_dup_received,
      prev_window_drops, prev_bogus_acks, prev_gap_acks, prev_gap_probes;
} lvpn__reltrans_t;

void lvpn__reltrans_init(lvpn__reltrans_t *r, uv_loop_t *loop,
                         lvpn__pbuf_pool_t *pool, uint32_t tls_timeout_ms,
                         const lvpn__logger_t *log);
/* True once every control packet we sent has been acknowledged. */
int lvpn__reltrans_all_acked(const lvpn__reltrans_t *r);

#endif
