#include "layers/reliabletransport/reliabletransport.h"

#include <string.h>

#include "layers/packetmuxer/wire.h"

static void rt_timer_cb(uv_timer_t *t);

/* Transmissions so far of the stored message `id` (for the trace). */
static int rt_sends(const lvpn__reltrans_t *r, uint32_t id) {
  int i;
  for (i = 0; i < LVPN__REL_SEND_WINDOW; i++)
    if (r->rel.send[i].p != NULL && r->rel.send[i].id == id)
      return (int)r->rel.send[i].sends;
  return 1;
}

/* Why a message goes out again (for the trace); NULL the first time. */
static const char *rt_why(const lvpn__reltrans_t *r, uint32_t id, int fast) {
  if (rt_sends(r, id) <= 1)
    return NULL;
  return fast ? "fast_retransmit" : r->burst_now ? "burst" : "timeout";
}

/* A soft reset starts a new key state with a fresh reliability state
 * (message ids from 0 again, §8). What the old one still held is dropped:
 * its TLS session is finished. */
/* Keeps the counters of r->rel (which lvpn__rel_reset clears) in prev_*. */
static void rt_fold_counters(lvpn__reltrans_t *r) {
  r->prev_retransmits += r->rel.retransmits;
  r->prev_fast_retransmits += r->rel.fast_retransmits;
  r->prev_dup_received += r->rel.dup_received;
  r->prev_window_drops += r->rel.window_drops;
  r->prev_bogus_acks += r->rel.bogus_acks;
  r->prev_gap_acks += r->rel.gap_acks;
  r->prev_gap_probes += r->rel.gap_probes;
}

static void rt_new_key_state(lvpn__reltrans_t *r, uint8_t key_id) {
  uint64_t srtt = r->rel.srtt, rttvar = r->rel.rttvar, rto = r->rel.rto;
  rt_fold_counters(r);
  lvpn__rel_reset(&r->rel);
  lvpn__rel_init(&r->rel, r->tls_timeout_ms);
  /* the path is the same: keep what we learned about its round trip */
  r->rel.srtt = srtt;
  r->rel.rttvar = rttvar;
  r->rel.rto = rto;
  lvpn__rel_set_max_timeout(&r->rel, r->tls_timeout_ms);
  r->key_id = key_id;
  r->burst_done = 0;
  r->key_changes++;
  LVPN__TRACE(r->base.trace, r->base.name, "key_state", "key_id=%u", key_id);
  LVPN__LOG(r->base.log, LVPN_LOG_DEBUG, r->base.name,
            "new key state: key_id %u", key_id);
}

/* Moves backlog into the send window, sends what is due, and re-arms the
 * timer for the next retransmission. */
static void rt_flush(lvpn__reltrans_t *r) {
  uint64_t now = uv_now(r->base.loop);
  uint64_t deadline;
  lvpn__pbuf_t *p;
  lvpn__acks_t acks;
  int kind;

  r->flush_pending = 0;

  while (!lvpn__queue_empty(&r->backlog) && lvpn__rel_can_send(&r->rel)) {
    p = lvpn__pbufq_pop(&r->backlog);
    if (lvpn__rel_send(&r->rel, p, now) != 0) {
      lvpn__queue_push_front(&r->backlog, &p->node); /* still ours */
      break;
    }
  }
  for (;;) {
    uint64_t fast = r->rel.fast_retransmits;
    p = NULL;
    memset(&acks, 0, sizeof(acks));
    kind = lvpn__rel_poll(&r->rel, now, &p, &acks);
    if (kind == LVPN__REL_POLL_NONE || kind < 0)
      break; /* nothing due, or no memory for a clone: retry on the timer */
    if (kind == LVPN__REL_POLL_ACK) {
      /* Only ACKs are due: a dedicated P_ACK_V1 (no message id). */
      p = lvpn__pbuf_alloc(r->pool);
      if (p == NULL)
        break;
      p->meta.opcode = LVPN__P_ACK_V1;
      p->meta.key_id = r->key_id;
      p->meta.has_msg_id = 0;
      r->acks_only_sent++;
    } else {
      p->meta.has_msg_id = 1;
    }
    p->meta.n_acks = acks.n;
    memcpy(p->meta.acks, acks.ids, sizeof(uint32_t) * acks.n);
    LVPN__TRACE_CTL(r->base.trace, r->base.name, "packet_out",
                    lvpn__ctl_opcode_name(p->meta.opcode), &p->meta, p->data,
                    p->len,
                    p->meta.has_msg_id ? rt_sends(r, p->meta.msg_id) : 1,
                    p->meta.has_msg_id ? rt_why(r, p->meta.msg_id,
                                                r->rel.fast_retransmits != fast)
                                       : NULL);
    lvpn__layer_send_down(&r->base, p);
  }
  r->burst_now = 0;
  deadline = lvpn__rel_next_deadline(&r->rel);
  if (deadline != UINT64_MAX && lvpn__layer_running(&r->base))
    uv_timer_start(&r->timer, rt_timer_cb, deadline > now ? deadline - now : 0,
                   0);
  else
    uv_timer_stop(&r->timer);
}

static void rt_timer_cb(uv_timer_t *t) {
  lvpn__reltrans_t *r = container_of(t, lvpn__reltrans_t, timer);
  rt_flush(r);
}

/* ACKs for received packets go out on the next loop turn. A reply that the
 * layers above produce a few turns later repeats them (MRU list), so a bare
 * P_ACK_V1 usually goes first: one extra small packet per flight, but the
 * server learns at once that its flight arrived. Measured against OpenVPN
 * 2.6 over TCP, waiting for the reply instead cost ~40 ms per handshake
 * (the server's transmissions stall until our ACK). */
static void rt_schedule_flush(lvpn__reltrans_t *r) {
  if (!r->flush_pending) {
    r->flush_pending = 1;
    uv_timer_start(&r->timer, rt_timer_cb, 0, 0);
  }
}

static void rt_down(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__reltrans_t *r = container_of(l, lvpn__reltrans_t, base);
  if (p->meta.key_id != r->key_id) {
    if (p->meta.opcode != LVPN__P_CONTROL_SOFT_RESET_V1) {
      r->stale_key_drops++; /* output of a key state that is gone */
      LVPN__TRACE(l->trace, l->name, "drop", "reason=%s key_id=%u",
                  "stale_key_id", p->meta.key_id);
      lvpn__layer_drop(l, p);
      return;
    }
    lvpn__pbufq_clear(&r->backlog);
    rt_new_key_state(r, p->meta.key_id); /* we start a renegotiation */
  }
  lvpn__pbufq_push(&r->backlog, p);
  if (r->backlog.count > r->backlog_peak)
    r->backlog_peak = r->backlog.count;
  rt_flush(r);
}

static void rt_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__reltrans_t *r = container_of(l, lvpn__reltrans_t, base);
  lvpn__pmeta_t meta;
  lvpn__pbuf_t *q;
  uint32_t expected;
  size_t len;
  int err;

  LVPN__TRACE_CTL(l->trace, l->name, "packet_in",
                  lvpn__ctl_opcode_name(p->meta.opcode), &p->meta, p->data,
                  p->len, -1, NULL);
  if (p->meta.key_id != r->key_id) {
    if (p->meta.opcode != LVPN__P_CONTROL_SOFT_RESET_V1 ||
        p->meta.key_id != lvpn__next_key_id(r->key_id)) {
      r->stale_key_drops++; /* e.g. a late ACK for the previous key */
      LVPN__TRACE_CTL(l->trace, l->name, "packet_dropped",
                      lvpn__ctl_opcode_name(p->meta.opcode), &p->meta, NULL,
                      p->len, -1, "stale_key_id");
      lvpn__layer_drop(l, p);
      return;
    }
    lvpn__pbufq_clear(&r->backlog);
    rt_new_key_state(r, p->meta.key_id); /* the server renegotiates */
  }
  if (p->meta.n_acks > 0) {
    lvpn__rel_on_acks_at(&r->rel, p->meta.acks, p->meta.n_acks,
                         uv_now(l->loop));
    LVPN__TRACE(l->trace, l->name, "ack_in",
                "count=%u srtt_ms=%llu rto_ms=%llu", p->meta.n_acks,
                (unsigned long long)r->rel.srtt,
                (unsigned long long)r->rel.rto);
  }
  if (p->meta.opcode == LVPN__P_ACK_V1 || !p->meta.has_msg_id) {
    lvpn__pbuf_free(p); /* never acknowledge an ACK */
    rt_flush(r);        /* the window may have opened */
    return;
  }
  if ((p->meta.opcode == LVPN__P_CONTROL_HARD_RESET_SERVER_V2 ||
       p->meta.opcode == LVPN__P_CONTROL_SOFT_RESET_V1) &&
      p->meta.msg_id == 0 && !r->burst_done) {
    r->burst_done = 1; /* once per session, as OpenVPN */
    r->burst_now = 1;
    lvpn__rel_schedule_now(&r->rel); /* peer's reset: burst what's pending */
  }
  meta = p->meta; /* for the trace: p may be freed */
  len = p->len;
  expected = r->rel.expected;
  err = lvpn__rel_on_receive(&r->rel, p);
  if (err != 0 && err != LVPN_EDUPLICATE)
    LVPN__LOG(l->log, LVPN_LOG_DEBUG, l->name, "not stored: %s",
              lvpn_strerror(err));
  if (err != 0)
    LVPN__TRACE_CTL(l->trace, l->name, "packet_dropped",
                    lvpn__ctl_opcode_name(meta.opcode), &meta, NULL, len, -1,
                    err == LVPN_EDUPLICATE ? "duplicate" : "window");
  else if (meta.msg_id != expected)
    LVPN__TRACE(l->trace, l->name, "held", "id=%u expected=%u", meta.msg_id,
                expected);
  while ((q = lvpn__rel_pop_inorder(&r->rel)) != NULL) {
    LVPN__TRACE(l->trace, l->name, "deliver", "id=%u payload_size=%zu",
                q->meta.msg_id, q->len);
    lvpn__layer_send_up(l, q);
  }
  rt_schedule_flush(r);
}

static void rt_stop(lvpn__layer_t *l) {
  lvpn__reltrans_t *r = container_of(l, lvpn__reltrans_t, base);
  uv_timer_stop(&r->timer);

}

static void rt_close(lvpn__layer_t *l) {
  lvpn__reltrans_t *r = container_of(l, lvpn__reltrans_t, base);
  lvpn__pbufq_clear(&r->backlog);
  rt_fold_counters(r); /* the counters outlive the close (--counters) */
  lvpn__rel_reset(&r->rel);
  lvpn__layer_close_handle(l, (uv_handle_t *)&r->timer);

}

static void rt_counters(const lvpn__layer_t *l,
                        void (*cb)(void *, const char *, const char *,
                                   uint64_t),
                        void *ud) {
  const lvpn__reltrans_t *r = container_of(l, const lvpn__reltrans_t, base);
  cb(ud, l->name, "retransmits", r->prev_retransmits + r->rel.retransmits);
  cb(ud, l->name, "fast_retransmits",
     r->prev_fast_retransmits + r->rel.fast_retransmits);
  cb(ud, l->name, "dup_received", r->prev_dup_received + r->rel.dup_received);
  cb(ud, l->name, "window_drops", r->prev_window_drops + r->rel.window_drops);
  cb(ud, l->name, "bogus_acks", r->prev_bogus_acks + r->rel.bogus_acks);
  cb(ud, l->name, "stale_key_drops", r->stale_key_drops);
  cb(ud, l->name, "key_changes", r->key_changes);
  cb(ud, l->name, "gap_acks", r->prev_gap_acks + r->rel.gap_acks);
  cb(ud, l->name, "gap_probes", r->prev_gap_probes + r->rel.gap_probes);
  cb(ud, l->name, "srtt_ms", r->rel.srtt);
  cb(ud, l->name, "rto_ms", r->rel.rto ? r->rel.rto : r->rel.initial_timeout);
  cb(ud, l->name, "acks_only_sent", r->acks_only_sent);
  cb(ud, l->name, "backlog_peak", r->backlog_peak);
}

static const lvpn__layer_ops_t rt_ops = {.up = rt_up,
                                         .down = rt_down,
                                         .stop = rt_stop,
                                         .close = rt_close,
                                         .counters = rt_counters};

void lvpn__reltrans_init(lvpn__reltrans_t *r, uv_loop_t *loop,
                         lvpn__pbuf_pool_t *pool, uint32_t tls_timeout_ms,
                         const lvpn__logger_t *log) {
  memset(r, 0, sizeof(*r));
  lvpn__layer_init(&r->base, loop, "reliabletransport", &rt_ops, log);
  /* prompt ACKs: see rt_schedule_flush */
  r->base.up_next_turn = 1;
  lvpn__rel_init(&r->rel, tls_timeout_ms);
  /* Retries never wait longer than tls-timeout: with OpenVPN's uncapped
   * doubling (2, 4, 8, 16 s) one handshake in ten at 20% loss each way
   * took more than 30 s here, mostly stuck on the hard reset, which the
   * server answers statelessly every time it arrives. */
  lvpn__rel_set_max_timeout(&r->rel, tls_timeout_ms);
  r->tls_timeout_ms = tls_timeout_ms;
  r->pool = pool;
  lvpn__queue_init(&r->backlog);
  uv_timer_init(loop, &r->timer);

}

int lvpn__reltrans_all_acked(const lvpn__reltrans_t *r) {
  return lvpn__queue_empty(&r->backlog) && lvpn__rel_all_acked(&r->rel);
}
