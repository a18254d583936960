/* The shared tracer: one JSON object per event, handed to the host's trace
 * callback (lvpn_client_set_trace). One tracer hangs off each client; every
 * layer holds a pointer to it (a static "off" tracer until the client
 * attaches its own), so a trace point costs one branch when tracing is off:
 *
 *   LVPN__TRACE(l->trace, l->name, "write", "bytes=%zu proto=%s", n, "udp");
 *
 * The format is printf's (the compiler checks the arguments), read as
 * "key=%conv" pairs separated by spaces: strings are escaped (invalid UTF-8
 * becomes U+FFFD, a NULL string becomes null), integers and doubles are
 * written as JSON numbers. Every event starts with "t" (seconds since the
 * tracer started, float), "layer" and "operation".
 *
 * Control packets and negotiation states use minivpn's tracex schema
 * (operation packet_in / packet_out / packet_dropped / state, "stage",
 * "packet", "tags", "transaction_id") so its consumers can read ours.
 *
 * Never pass key material, passwords or tokens to a trace point; control
 * messages go through lvpn__trace_ctlmsg(), which redacts auth-token values
 * (lib/redact.h, as the log does) and keeps only the keyword of every other
 * message. */
#ifndef LVPN_LIB_TRACE_H
#define LVPN_LIB_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "layervpn.h"
#include "lib/pbuf.h"

/* minivpn's negotiation states (model.NegotiationState), "S_" dropped. */
typedef enum {
  LVPN__STAGE_ERROR = -1,
  LVPN__STAGE_UNDEF = 0,
  LVPN__STAGE_INITIAL,
  LVPN__STAGE_PRE_START,
  LVPN__STAGE_START,
  LVPN__STAGE_SENT_KEY,
  LVPN__STAGE_GOT_KEY,
  LVPN__STAGE_ACTIVE,
  LVPN__STAGE_GENERATED_KEYS
} lvpn__stage_t;

typedef struct lvpn__tracer_s {
  int on;       /* a callback is set: the one branch of every trace point */
  int data_all; /* on, and one event per data packet (LVPN_TRACE_DATA_ALL) */
  lvpn_trace_cb cb;
  void *ud;
  int stage;      /* lvpn__stage_t, as last traced */
  int64_t txid;   /* transaction_id: the connection attempt, from 1 */
  uint64_t t0_ns; /* uv_hrtime() at the start of the trace */
  /* Packet taps (lvpn_client_set_tap): `taps` is 0 when off. */
  unsigned taps;
  lvpn_tap_cb tap;
  void *tap_ud;
  /* TLS key log (lvpn_client_set_keylog): NULL when off. Kept beside the
   * taps because every layer already holds the tracer; the key lines never
   * go through the trace callback. */
  lvpn_keylog_cb keylog;
  void *keylog_ud;
} lvpn__tracer_t;

/* Tracing off: what a layer points at until a client attaches its tracer.
 * Never written (every write is behind `on`). */
extern lvpn__tracer_t lvpn__trace_off;

/* Off, stage UNDEF. */
void lvpn__trace_init(lvpn__tracer_t *tr);
/* Sets the callback (NULL: off) and the level (LVPN_TRACE_*); `t` counts
 * from now when the tracer was off. */
void lvpn__trace_set(lvpn__tracer_t *tr, lvpn_trace_cb cb, void *ud, int level);
/* Restarts `t` at 0. */
void lvpn__trace_restart_clock(lvpn__tracer_t *tr);

void lvpn__trace_emit(lvpn__tracer_t *tr, const char *layer, const char *op,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A minivpn packet event for a control packet whose header is `m` and
 * whose payload is `payload[0..len)` (the control header not pushed yet, or
 * already pulled; `payload` may be NULL). `op` is "packet_in", "packet_out"
 * or "packet_dropped"; `opname` OpenVPN's opcode name; `send_attempts` < 0
 * writes null (incoming packets); `reason` (may be NULL) says why a packet
 * was dropped or sent again. Tags client_hello / server_hello come from the
 * payload. */
void lvpn__trace_ctl(lvpn__tracer_t *tr, const char *layer, const char *op,
                     const char *opname, const lvpn__pmeta_t *m,
                     const uint8_t *payload, size_t len, int send_attempts,
                     const char *reason);
/* A minivpn state event; records `stage` for the packet events after it. */
void lvpn__trace_state(lvpn__tracer_t *tr, const char *layer,
                       lvpn__stage_t stage);
/* A control message (`msg`, `len` bytes, not NUL-ended) in or out:
 * PUSH_REPLY and PUSH_UPDATE with their options (auth-token values
 * replaced by "[REDACTED]", lib/redact.h), any other
 * message by its keyword only (AUTH_FAILED's reason, INFO and AUTH_PENDING
 * texts can carry URLs with session tokens). */
void lvpn__trace_ctlmsg(lvpn__tracer_t *tr, const char *layer, const char *op,
                        const char *msg, size_t len);

const char *lvpn__trace_stage_name(int stage);

/* 1 when a wire packet (no TCP length) is a data packet: its first byte
 * carries P_DATA_V1 (6) or P_DATA_V2 (9). Such packets get per-packet events
 * only with LVPN_TRACE_DATA_ALL. */
static inline int lvpn__trace_is_data(const uint8_t *wire, size_t len) {
  uint8_t op = len > 0 ? (uint8_t)(wire[0] >> 3) : 0;
  return op == 6 || op == 9;
}

/* A copy of one packet for the host's tap at `point` (LVPN_TAP_*). */
void lvpn__tap(lvpn__tracer_t *tr, int point, int outbound, int tcp,
               const void *local, const void *remote, const uint8_t *data,
               size_t len);

#define LVPN__TAP(tr, point, outbound, tcp, local, remote, data, len)          \
  do {                                                                         \
    lvpn__tracer_t *lvpn__tr_ = (tr);                                          \
    if (lvpn__tr_->taps & (point))                                             \
      lvpn__tap(lvpn__tr_, (point), (outbound), (tcp), (local), (remote),      \
                (data), (len));                                                \
  } while (0)

#define LVPN__TRACE(tr, layer, op, ...)                                        \
  do {                                                                         \
    lvpn__tracer_t *lvpn__tr_ = (tr);                                          \
    if (lvpn__tr_->on)                                                         \
      lvpn__trace_emit(lvpn__tr_, (layer), (op), __VA_ARGS__);                 \
  } while (0)

/* A per-packet event that is traced only with LVPN_TRACE_DATA_ALL when
 * `is_data` (a data-channel packet): control packets are always traced. */
#define LVPN__TRACE_PKT(tr, is_data, layer, op, ...)                           \
  do {                                                                         \
    lvpn__tracer_t *lvpn__tr_ = (tr);                                          \
    if (lvpn__tr_->on && (lvpn__tr_->data_all || !(is_data)))                  \
      lvpn__trace_emit(lvpn__tr_, (layer), (op), __VA_ARGS__);                 \
  } while (0)

#define LVPN__TRACE_CTL(tr, layer, op, opname, meta, payload, len, attempts,   \
                        reason)                                                \
  do {                                                                         \
    lvpn__tracer_t *lvpn__tr_ = (tr);                                          \
    if (lvpn__tr_->on)                                                         \
      lvpn__trace_ctl(lvpn__tr_, (layer), (op), (opname), (meta), (payload),   \
                      (len), (attempts), (reason));                            \
  } while (0)

#define LVPN__TRACE_STATE(tr, layer, stage)                                    \
  do {                                                                         \
    lvpn__tracer_t *lvpn__tr_ = (tr);                                          \
    if (lvpn__tr_->on)                                                         \
      lvpn__trace_state(lvpn__tr_, (layer), (stage));                          \
  } while (0)

#define LVPN__TRACE_CTLMSG(tr, layer, op, msg, len)                            \
  do {                                                                         \
    lvpn__tracer_t *lvpn__tr_ = (tr);                                          \
    if (lvpn__tr_->on)                                                         \
      lvpn__trace_ctlmsg(lvpn__tr_, (layer), (op), (msg), (len));              \
  } while (0)

#endif
