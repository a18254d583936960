#include "layers/packetmuxer/packetmuxer.h"

#include <string.h>
#include <time.h>

#include "layers/packetmuxer/wire.h"

static const char *const drop_names[LVPN__MUX_DROP_MAX] = {
    "drop_short",  "drop_opcode",  "drop_auth",       "drop_replay",
    "drop_decode", "drop_session", "drop_no_session", "drop_encode"};

static const char *wrap_name(const lvpn__session_t *s) {
  switch (s->wrap.mode) {
  case LVPN__TLSWRAP_AUTH:
    return "tls-auth";
  case LVPN__TLSWRAP_CRYPT:
    return "tls-crypt";
  case LVPN__TLSWRAP_CRYPT_V2:
    return "tls-crypt-v2";
  default:
    return "none";
  }
}

static void mux_drop(lvpn__packetmuxer_t *m, lvpn__pbuf_t *p, int reason,
                     int err) {
  m->drops[reason]++;
  LVPN__TRACE(m->base.trace, m->base.name, "drop",
              "reason=%s error=%s bytes=%zu", drop_names[reason] + 5,
              err != 0 ? lvpn_err_name(err) : NULL, p->len);
  LVPN__LOG(m->base.log, LVPN_LOG_DEBUG, m->base.name,
            "dropped %zu-byte packet: %s (%s)", p->len, drop_names[reason] + 5,
            err != 0 ? lvpn_strerror(err) : "unexpected");
  lvpn__layer_drop(&m->base, p);
}

static int from_server_opcode(uint8_t op) {
  return op == LVPN__P_CONTROL_HARD_RESET_SERVER_V2 ||
         op == LVPN__P_CONTROL_V1 || op == LVPN__P_ACK_V1 ||
         op == LVPN__P_CONTROL_SOFT_RESET_V1;
}

static void mux_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__packetmuxer_t *m = container_of(l, lvpn__packetmuxer_t, base);
  lvpn__session_t *s = m->session;
  lvpn__ctl_pkt_t h;
  uint8_t op;
  int err;

  if (p->len < 1) {
    mux_drop(m, p, LVPN__MUX_DROP_SHORT, LVPN_ESHORT);
    return;
  }
  op = p->data[0] >> 3;
  p->meta.opcode = op;
  p->meta.key_id = p->data[0] & 7;
  if (op == LVPN__P_DATA_V1 || op == LVPN__P_DATA_V2) {
    m->rx_data++;
    LVPN__TRACE_PKT(l->trace, 1, l->name, "route",
                    "to=%s opcode=%s key_id=%u bytes=%zu", "datachannel",
                    lvpn__ctl_opcode_name(op), p->meta.key_id, p->len);
    lvpn__layer_send_up_to(l, m->data_up, p);
    return;
  }
  if (!from_server_opcode(op)) {
    mux_drop(m, p, LVPN__MUX_DROP_OPCODE, LVPN_EBADOPCODE);
    return;
  }
  err = lvpn__tlswrap_unwrap(lvpn__session_wrap(s, p->meta.key_id), p,
                             (uint32_t)time(NULL));
  if (err != 0) {
    mux_drop(m, p,
             err == LVPN_EREPLAY ? LVPN__MUX_DROP_REPLAY
             : err == LVPN_EAUTH ? LVPN__MUX_DROP_AUTH
                                 : LVPN__MUX_DROP_SHORT,
             err);
    return;
  }
  LVPN__TAP(l->trace, LVPN_TAP_CONTROL, 0, s->is_tcp, NULL, NULL, p->data,
            p->len);
  err = lvpn__ctl_decode(p, &h);
  if (err != 0) {
    mux_drop(m, p, LVPN__MUX_DROP_DECODE, err);
    return;
  }
  if (!s->have_remote_sid) {
    /* Only the server's hard reset may open the session. */
    if (h.opcode != LVPN__P_CONTROL_HARD_RESET_SERVER_V2) {
      mux_drop(m, p, LVPN__MUX_DROP_NO_SESSION, LVPN_EBADSESSION);
      return;
    }
  } else if (memcmp(h.own_sid, s->remote_sid, 8) != 0) {
    /* Keep the first server session id: a reset retransmitted across the
     * server's cookie time slot may be answered with a different one. */
    mux_drop(m, p, LVPN__MUX_DROP_SESSION, LVPN_EBADSESSION);
    return;
  }
  if (h.n_acks > 0 && memcmp(h.remote_sid, s->own_sid, 8) != 0) {
    mux_drop(m, p, LVPN__MUX_DROP_SESSION, LVPN_EBADSESSION);
    return;
  }
  if (!s->have_remote_sid) {
    memcpy(s->remote_sid, h.own_sid, 8);
    s->have_remote_sid = 1;
  } else if (p->meta.float_gen != 0 && m->on_authentic != NULL &&
             lvpn__session_wrap(s, p->meta.key_id)->mode !=
                 LVPN__TLSWRAP_NONE) {
    /* authenticated (HMAC or AEAD) and our session: the server moved */
    m->on_authentic(m->auth_ud, p->meta.float_gen);
  }
  p->meta.opcode = h.opcode;
  p->meta.key_id = h.key_id;
  p->meta.has_msg_id = (uint8_t)h.has_msg_id;
  p->meta.msg_id = h.msg_id;
  p->meta.n_acks = h.n_acks;
  memcpy(p->meta.acks, h.acks, sizeof(uint32_t) * h.n_acks);
  m->rx_control++;
  LVPN__TRACE(
      l->trace, l->name, "route",
      "to=%s opcode=%s key_id=%u id=%u acks=%u payload_size=%zu wrap=%s",
      "reliabletransport", lvpn__ctl_opcode_name(h.opcode), h.key_id,
      h.has_msg_id ? h.msg_id : 0, h.n_acks, p->len, wrap_name(s));
  LVPN__LOG(l->log, LVPN_LOG_PACKET, l->name,
            "rx %s kid=%u msg=%u acks=%u len=%zu",
            lvpn__ctl_opcode_name(h.opcode), h.key_id,
            h.has_msg_id ? h.msg_id : 0, h.n_acks, p->len);
  lvpn__layer_send_up(l, p);
}

static void mux_down(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__packetmuxer_t *m = container_of(l, lvpn__packetmuxer_t, base);
  lvpn__session_t *s = m->session;
  lvpn__ctl_pkt_t h;
  int err;

  if (p->meta.opcode == LVPN__P_DATA_V1 || p->meta.opcode == LVPN__P_DATA_V2) {
    m->tx_data++;
    LVPN__TRACE_PKT(l->trace, 1, l->name, "route", "to=%s opcode=%s bytes=%zu",
                    "networkio", lvpn__ctl_opcode_name(p->meta.opcode), p->len);
    lvpn__layer_send_down(l, p); /* already a complete wire packet */
    return;
  }
  memset(&h, 0, sizeof(h));
  h.opcode = p->meta.opcode;
  h.key_id = p->meta.key_id;
  memcpy(h.own_sid, s->own_sid, 8);
  h.n_acks = p->meta.n_acks <= LVPN__RELIABLE_ACK_SIZE
                 ? p->meta.n_acks
                 : LVPN__RELIABLE_ACK_SIZE;
  memcpy(h.acks, p->meta.acks, sizeof(uint32_t) * h.n_acks);
  if (h.n_acks > 0)
    memcpy(h.remote_sid, s->remote_sid, 8);
  h.has_msg_id = p->meta.has_msg_id;
  h.msg_id = p->meta.msg_id;
  /* tls-crypt-v2 early negotiation: when the server asked for it, our
   * message 1 carries the wrapped client key again (§1.5). */
  if (h.opcode == LVPN__P_CONTROL_V1 && h.key_id == 0 && h.msg_id == 1 &&
      (s->early_neg_flags & LVPN__EARLY_NEG_FLAG_RESEND_WKC))
    h.opcode = LVPN__P_CONTROL_WKC_V1;
  err = lvpn__ctl_encode(p, &h);
  if (err == 0) {
    LVPN__TAP(l->trace, LVPN_TAP_CONTROL, 1, s->is_tcp, NULL, NULL, p->data,
              p->len);
    err = lvpn__tlswrap_wrap(lvpn__session_wrap(s, h.key_id), p,
                             (uint32_t)time(NULL));
  }
  if (err != 0) {
    LVPN__LOG(l->log, LVPN_LOG_ERROR, l->name, "cannot encode %s: %s",
              lvpn__ctl_opcode_name(h.opcode), lvpn_strerror(err));
    mux_drop(m, p, LVPN__MUX_DROP_ENCODE, err);
    return;
  }
  m->tx_control++;
  LVPN__TRACE(l->trace, l->name, "encode",
              "opcode=%s key_id=%u id=%u acks=%u wire_bytes=%zu wrap=%s",
              lvpn__ctl_opcode_name(h.opcode), h.key_id,
              h.has_msg_id ? h.msg_id : 0, h.n_acks, p->len, wrap_name(s));
  LVPN__LOG(l->log, LVPN_LOG_PACKET, l->name,
            "tx %s kid=%u msg=%u acks=%u wire=%zu",
            lvpn__ctl_opcode_name(h.opcode), h.key_id,
            h.has_msg_id ? h.msg_id : 0, h.n_acks, p->len);
  lvpn__layer_send_down(l, p);
}

static void mux_counters(const lvpn__layer_t *l,
                         void (*cb)(void *, const char *, const char *,
                                    uint64_t),
                         void *ud) {
  const lvpn__packetmuxer_t *m =
      container_of(l, const lvpn__packetmuxer_t, base);
  int i;
  cb(ud, l->name, "rx_control", m->rx_control);
  cb(ud, l->name, "rx_data", m->rx_data);
  cb(ud, l->name, "tx_control", m->tx_control);
  cb(ud, l->name, "tx_data", m->tx_data);
  for (i = 0; i < LVPN__MUX_DROP_MAX; i++)
    cb(ud, l->name, drop_names[i], m->drops[i]);
}

static const lvpn__layer_ops_t mux_ops = {
    .up = mux_up, .down = mux_down, .counters = mux_counters};

void lvpn__packetmuxer_init(lvpn__packetmuxer_t *m, uv_loop_t *loop,
                            lvpn__session_t *session,
                            const lvpn__logger_t *log) {
  memset(m, 0, sizeof(*m));
  lvpn__layer_init(&m->base, loop, "packetmuxer", &mux_ops, log);
  m->session = session;
}
