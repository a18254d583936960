#include "layers/controlchannel/controlchannel.h"

#include <string.h>

#include "layers/packetmuxer/wire.h"

/* Largest control header we send: byte0, session id, 4 piggybacked ACKs with
 * the remote session id, message id. */
#define CC_MAX_HEADER (1 + 8 + 1 + 4 * 4 + 8 + 4)

static int cc_start(lvpn__layer_t *l) {
  lvpn__controlchannel_t *c = container_of(l, lvpn__controlchannel_t, base);
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(c->pool);
  if (p == NULL)
    return LVPN_ENOMEM;
  p->meta.opcode = c->session->wrap.mode == LVPN__TLSWRAP_CRYPT_V2
                       ? LVPN__P_CONTROL_HARD_RESET_CLIENT_V3
                       : LVPN__P_CONTROL_HARD_RESET_CLIENT_V2;
  p->meta.key_id = 0;
  c->packets_out++;
  LVPN__TRACE_STATE(l->trace, l->name, LVPN__STAGE_PRE_START);
  LVPN__TRACE(l->trace, l->name, "reset_out", "opcode=%s key_id=%u",
              lvpn__ctl_opcode_name(p->meta.opcode), 0u);
  lvpn__layer_send_down(l, p);
  return 0;
}

static void cc_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__controlchannel_t *c = container_of(l, lvpn__controlchannel_t, base);

  c->packets_in++;
  switch (p->meta.opcode) {
  case LVPN__P_CONTROL_HARD_RESET_SERVER_V2:
    /* Its payload is early-negotiation TLVs, never TLS (§1.5). */
    if (p->len > 0 &&
        lvpn__ctl_parse_early_neg(p->data, p->len,
                                  &c->session->early_neg_flags) != 0)
      LVPN__LOG(l->log, LVPN_LOG_ERROR, l->name,
                "ignoring malformed early-negotiation TLVs in server reset");
    LVPN__TRACE(
        l->trace, l->name, "reset_in",
        "opcode=%s early_negotiation_bytes=%zu early_negotiation_flags=%u",
        lvpn__ctl_opcode_name(p->meta.opcode), p->len,
        (unsigned)c->session->early_neg_flags);
    LVPN__TRACE_STATE(l->trace, l->name, LVPN__STAGE_START);
    p->len = 0;
    lvpn__layer_send_up(l, p); /* tells the tlssession to start */
    break;
  case LVPN__P_CONTROL_SOFT_RESET_V1:
    /* Renegotiation (§8). If the server started it, answer with our own
     * soft reset for the same key_id; either way the tlssession then runs
     * a new TLS handshake on that key_id. */
    LVPN__TRACE(l->trace, l->name, "soft_reset_in", "key_id=%u initiator=%s",
                p->meta.key_id,
                p->meta.key_id != c->key_id ? "server" : "client");
    if (p->meta.key_id != c->key_id && c->session->tls_busy) {
      /* the tlssession will ignore it (and count it): no answer, and the
       * key_id of the handshake in progress stays */
      c->soft_resets_unanswered++;
    } else if (p->meta.key_id != c->key_id) {
      lvpn__pbuf_t *r = lvpn__pbuf_alloc(c->pool);
      if (r == NULL) {
        lvpn__layer_drop(l, p);
        lvpn__layer_fail(l, LVPN_ENOMEM);
        return;
      }
      c->key_id = p->meta.key_id;
      r->meta.opcode = LVPN__P_CONTROL_SOFT_RESET_V1;
      r->meta.key_id = c->key_id;
      c->packets_out++;
      lvpn__layer_send_down(l, r);
    }
    c->soft_resets++;
    LVPN__TRACE_STATE(l->trace, l->name, LVPN__STAGE_START);
    p->len = 0;
    lvpn__layer_send_up(l, p);
    break;
  case LVPN__P_CONTROL_V1:
    c->tls_bytes_in += p->len;
    LVPN__TRACE(l->trace, l->name, "tls_in", "bytes=%zu", p->len);
    lvpn__layer_send_up(l, p);
    break;
  default:
    LVPN__LOG(l->log, LVPN_LOG_DEBUG, l->name, "unexpected %s ignored",
              lvpn__ctl_opcode_name(p->meta.opcode));
    lvpn__layer_drop(l, p);
  }
}

static void cc_send_chunk(lvpn__controlchannel_t *c, lvpn__pbuf_t *p) {
  p->meta.opcode = LVPN__P_CONTROL_V1;
  p->meta.key_id = c->key_id;
  c->tls_bytes_out += p->len;
  c->packets_out++;
  lvpn__layer_send_down(&c->base, p);
}

/* TLS bytes per P_CONTROL_V1 on the current key_id. The wrap is the one in
 * use for it, not the configured one: with dynamic tls-crypt, key_id != 0
 * goes out under tls-crypt (40 bytes) even when the config has no wrap or
 * a smaller tls-auth. tls-crypt-v2 appends WKc to some key_id-0 packets. */
size_t lvpn__controlchannel_max_payload(const lvpn__controlchannel_t *c) {
  const lvpn__tlswrap_t *w = lvpn__session_wrap(c->session, c->key_id);
  size_t overhead = CC_MAX_HEADER + lvpn__tlswrap_overhead(w) +
                    (w == &c->session->wrap ? lvpn__tlswrap_wkc_len(w) : 0);
  size_t mtu = c->tls_mtu;
  if (mtu < overhead + 64)
    mtu = overhead + 64;
  return mtu - overhead;
}

/* TLS ciphertext from above: one P_CONTROL_V1 per max_payload bytes. */
static void cc_down(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__controlchannel_t *c = container_of(l, lvpn__controlchannel_t, base);
  size_t max_payload = lvpn__controlchannel_max_payload(c);

  LVPN__TRACE(l->trace, l->name, "fragment",
              "tls_bytes=%zu packets=%zu max_payload=%zu key_id=%u", p->len,
              (p->len + max_payload - 1) / max_payload, max_payload,
              c->key_id);
  while (p->len > max_payload) {
    lvpn__pbuf_t *q = lvpn__pbuf_alloc(c->pool);
    if (q == NULL) {
      lvpn__layer_drop(l, p);
      lvpn__layer_fail(l, LVPN_ENOMEM);
      return;
    }
    memcpy(lvpn__pbuf_put(q, max_payload), p->data, max_payload);
    lvpn__pbuf_pull(p, max_payload);
    cc_send_chunk(c, q);
  }
  if (p->len > 0)
    cc_send_chunk(c, p);
  else
    lvpn__pbuf_free(p);
}

int lvpn__controlchannel_soft_reset(lvpn__controlchannel_t *c) {
  lvpn__pbuf_t *p;
  if (!lvpn__layer_running(&c->base))
    return LVPN_ESTATE;
  p = lvpn__pbuf_alloc(c->pool);
  if (p == NULL)
    return LVPN_ENOMEM;
  c->key_id = lvpn__next_key_id(c->key_id);
  p->meta.opcode = LVPN__P_CONTROL_SOFT_RESET_V1;
  p->meta.key_id = c->key_id;
  c->packets_out++;
  LVPN__TRACE(c->base.trace, c->base.name, "soft_reset_out", "key_id=%u",
              c->key_id);
  lvpn__layer_send_down(&c->base, p);
  return 0;
}

static void cc_counters(const lvpn__layer_t *l,
                        void (*cb)(void *, const char *, const char *,
                                   uint64_t),
                        void *ud) {
  const lvpn__controlchannel_t *c =
      container_of(l, const lvpn__controlchannel_t, base);
  cb(ud, l->name, "tls_bytes_out", c->tls_bytes_out);
  cb(ud, l->name, "tls_bytes_in", c->tls_bytes_in);
  cb(ud, l->name, "packets_out", c->packets_out);
  cb(ud, l->name, "packets_in", c->packets_in);
  cb(ud, l->name, "soft_resets", c->soft_resets);
  cb(ud, l->name, "soft_resets_unanswered", c->soft_resets_unanswered);
  cb(ud, l->name, "key_id", c->key_id);
}

static const lvpn__layer_ops_t cc_ops = {
    .start = cc_start, .up = cc_up, .down = cc_down, .counters = cc_counters};

void lvpn__controlchannel_init(lvpn__controlchannel_t *c, uv_loop_t *loop,
                               lvpn__session_t *session,
                               lvpn__pbuf_pool_t *pool, size_t tls_mtu,
                               const lvpn__logger_t *log) {
  memset(c, 0, sizeof(*c));
  lvpn__layer_init(&c->base, loop, "controlchannel", &cc_ops, log);
  c->session = session;
  c->pool = pool;
  c->tls_mtu = tls_mtu;
}
