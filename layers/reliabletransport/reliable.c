#include "layers/reliabletransport/reliable.h"

#include <string.h>

/* a < b for uint32 ids with wrap-around (OpenVPN's reliable_pid_min). */
static int id_lt(uint32_t a, uint32_t b) {
  return (uint32_t)(a - b) >= 0x80000000u;
}

static int acks_has(const lvpn__acks_t *a, uint32_t id) {
  int i;
  for (i = 0; i < a->n; i++) {
    if (a->ids[i] == id)
      return 1;
  }
  return 0;
}

/* Moves `id` to the front of the MRU list (newest first, at most 8). */
static void mru_touch(lvpn__acks_t *mru, uint32_t id) {
  int i, n = mru->n;
  for (i = 0; i < n; i++) {
    if (mru->ids[i] == id)
      break;
  }
  if (i == n && n < LVPN__REL_ACK_MAX)
    n++;
  if (i == LVPN__REL_ACK_MAX)
    i--; /* full and absent: the oldest falls off */
  memmove(&mru->ids[1], &mru->ids[0], sizeof(uint32_t) * (size_t)i);
  mru->ids[0] = id;
  mru->n = (uint8_t)n;
}

/* Takes up to `max` pending ids into the MRU list and writes the first `max`
 * MRU ids to *out, so recently sent ACKs are repeated for free
 * (reliable_ack_write / copy_acks_to_mru). */
static void take_acks(lvpn__rel_t *r, lvpn__acks_t *out, int max) {
  int n = r->pending.n < max ? r->pending.n : max, i;
  for (i = n - 1; i >= 0; i--)
    mru_touch(&r->mru, r->pending.ids[i]);
  memmove(&r->pending.ids[0], &r->pending.ids[n],
          sizeof(uint32_t) * (size_t)(r->pending.n - n));
  r->pending.n = (uint8_t)(r->pending.n - n);
  out->n = (uint8_t)(r->mru.n < max ? r->mru.n : max);
  memcpy(out->ids, r->mru.ids, sizeof(uint32_t) * out->n);
  r->acks_sent += out->n;
}

void lvpn__rel_init(lvpn__rel_t *r, uint32_t initial_timeout_ms) {
  memset(r, 0, sizeof(*r));
  r->initial_timeout =
      initial_timeout_ms ? initial_timeout_ms : LVPN__REL_INITIAL_TIMEOUT_MS;
}

void lvpn__rel_reset(lvpn__rel_t *r) {
  int i;
  for (i = 0; i < LVPN__REL_SEND_WINDOW; i++)
    lvpn__pbuf_free(r->send[i].p);
  for (i = 0; i < LVPN__REL_RECV_WINDOW; i++)
    lvpn__pbuf_free(r->recv[i]);
  {
    uint64_t cap = r->max_timeout;
    lvpn__rel_init(r, (uint32_t)r->initial_timeout);
    r->max_timeout = cap;
  }
}

int lvpn__rel_skip_to(lvpn__rel_t *r, uint32_t next_send_id,
                      uint32_t next_recv_id) {
  int i;
  for (i = 0; i < LVPN__REL_SEND_WINDOW; i++) {
    if (r->send[i].p != NULL)
      return LVPN_ESTATE;
  }
  for (i = 0; i < LVPN__REL_RECV_WINDOW; i++) {
    if (r->recv[i] != NULL)
      return LVPN_ESTATE;
  }
  r->next_send_id = next_send_id;
  r->expected = next_recv_id;
  return 0;
}

int lvpn__rel_can_send(const lvpn__rel_t *r) {
  const lvpn__rel_entry_t *lowest = NULL;
  int i;
  for (i = 0; i < LVPN__REL_SEND_WINDOW; i++) {
    const lvpn__rel_entry_t *e = &r->send[i];
    if (e->p != NULL && (lowest == NULL || id_lt(e->id, lowest->id)))
      lowest = e;
  }
  return lowest == NULL ||
         (uint32_t)(r->next_send_id - lowest->id) < LVPN__REL_SEND_WINDOW;
}

int lvpn__rel_send(lvpn__rel_t *r, lvpn__pbuf_t *payload, uint64_t now) {
  lvpn__rel_entry_t *e = NULL;
  int i;
  if (!lvpn__rel_can_send(r))
    return LVPN_ESTATE;
  for (i = 0; i < LVPN__REL_SEND_WINDOW && e == NULL; i++) {
    if (r->send[i].p == NULL)
      e = &r->send[i];
  }
  if (e == NULL) /* cannot happen: the window is as large as the array */
    return LVPN_ESTATE;
  e->p = payload;
  e->id = r->next_send_id++;
  e->n_acks = 0;
  e->sends = 0;
  e->next_try = now;
  e->timeout = r->rto ? r->rto : r->initial_timeout;
  payload->meta.msg_id = e->id;
  return 0;
}

static int is_due(const lvpn__rel_entry_t *e, uint64_t now) {
  return e->p != NULL &&
         (e->n_acks >= LVPN__REL_FAST_RETRANSMIT || now >= e->next_try);
}

/* 1 when payloads wait behind a missing id (nothing deliverable in order). */
static int rel_has_hole(const lvpn__rel_t *r) {
  int i, stored = 0;
  for (i = 0; i < LVPN__REL_RECV_WINDOW; i++) {
    if (r->recv[i] == NULL)
      continue;
    if (r->recv[i]->meta.msg_id == r->expected)
      return 0;
    stored = 1;
  }
  return stored;
}

/* Arms, repeats or forgets the duplicate-ACK rounds for an open hole. */
static void gap_probe(lvpn__rel_t *r, uint64_t now) {
  uint64_t cap = r->max_timeout ? r->max_timeout : r->initial_timeout;
  if (!rel_has_hole(r)) {
    r->gap_probe_at = 0;
    return;
  }
  if (r->gap_probe_at == 0) { /* first round went out with the arrival */
    r->gap_probe_timeout = r->rto ? r->rto : r->initial_timeout;
    r->gap_probe_at = now + r->gap_probe_timeout;
    return;
  }
  if (now < r->gap_probe_at)
    return;
  r->dup_acks = LVPN__REL_FAST_RETRANSMIT;
  r->gap_probes++;
  r->gap_probe_timeout *= 2;
  if (r->gap_probe_timeout > cap)
    r->gap_probe_timeout = cap;
  r->gap_probe_at = now + r->gap_probe_timeout;
}

int lvpn__rel_poll(lvpn__rel_t *r, uint64_t now, lvpn__pbuf_t **out,
                   lvpn__acks_t *acks) {
  lvpn__rel_entry_t *best = NULL;
  lvpn__pbuf_t *c;
  int i;

  *out = NULL;
  acks->n = 0;
  gap_probe(r, now);
  for (i = 0; i < LVPN__REL_SEND_WINDOW; i++) {
    lvpn__rel_entry_t *e = &r->send[i];
    if (is_due(e, now) && (best == NULL || id_lt(e->id, best->id)))
      best = e;
  }
  if (best != NULL) {
    c = lvpn__pbuf_clone(best->p);
    if (c == NULL)
      return LVPN_ENOMEM;
    if (best->sends == 0) {
      r->sent++;
      best->first_sent = now;
    } else {
      r->retransmits++;
      if (now < best->next_try)
        r->fast_retransmits++;
    }
    best->sends++;
    best->next_try =
        UINT64_MAX - now < best->timeout ? UINT64_MAX : now + best->timeout;
    if (best->timeout <= UINT64_MAX / 2)
      best->timeout *= 2;
    if (r->max_timeout != 0 && best->timeout > r->max_timeout)
      best->timeout = r->max_timeout;
    best->n_acks = 0;
    take_acks(r, acks, LVPN__REL_ACK_PIGGYBACK);
    *out = c;
    return LVPN__REL_POLL_PACKET;
  }
  if (r->pending.n > 0) {
    take_acks(r, acks, LVPN__REL_ACK_MAX);
    r->ack_packets++;
    return LVPN__REL_POLL_ACK;
  }
  if (r->dup_acks > 0 && r->mru.n > 0) {
    r->dup_acks--;
    take_acks(r, acks, LVPN__REL_ACK_MAX); /* the MRU ids again */
    r->ack_packets++;
    r->gap_acks++;
    return LVPN__REL_POLL_ACK;
  }
  return LVPN__REL_POLL_NONE;
}

uint64_t lvpn__rel_next_deadline(const lvpn__rel_t *r) {
  uint64_t t = UINT64_MAX;
  int i;
  if (r->pending.n > 0 || r->dup_acks > 0)
    return 0;
  if (r->gap_probe_at != 0)
    t = r->gap_probe_at;
  for (i = 0; i < LVPN__REL_SEND_WINDOW; i++) {
    const lvpn__rel_entry_t *e = &r->send[i];
    if (e->p == NULL)
      continue;
    if (e->n_acks >= LVPN__REL_FAST_RETRANSMIT)
      return 0;
    if (e->next_try < t)
      t = e->next_try;
  }
  return t;
}

void lvpn__rel_schedule_now(lvpn__rel_t *r) {
  int i;
  for (i = 0; i < LVPN__REL_SEND_WINDOW; i++) {
    if (r->send[i].p != NULL) {
      r->send[i].next_try = 0;
      r->send[i].timeout = r->rto ? r->rto : r->initial_timeout;
    }
  }
}

int lvpn__rel_acks_pending(const lvpn__rel_t *r) {
  return r->pending.n;
}

static void rel_rtt_sample(lvpn__rel_t *r, uint64_t sample) {
  uint64_t rto;
  if (r->srtt == 0) {
    r->srtt = sample > 0 ? sample : 1;
    r->rttvar = sample / 2;
  } else {
    uint64_t diff = r->srtt > sample ? r->srtt - sample : sample - r->srtt;
    r->rttvar = (3 * r->rttvar + diff) / 4;
    r->srtt = (7 * r->srtt + sample) / 8;
    if (r->srtt == 0)
      r->srtt = 1;
  }
  rto = r->srtt + 4 * r->rttvar;
  if (rto < LVPN__REL_MIN_RTO_MS)
    rto = LVPN__REL_MIN_RTO_MS;
  if (rto > r->initial_timeout)
    rto = r->initial_timeout;
  r->rto = rto;
}

void lvpn__rel_on_acks_at(lvpn__rel_t *r, const uint32_t *ids, int n,
                          uint64_t now) {
  int i, j;
  for (i = 0; i < n; i++)
    for (j = 0; j < LVPN__REL_SEND_WINDOW; j++) {
      const lvpn__rel_entry_t *e = &r->send[j];
      if (e->p != NULL && e->id == ids[i] && e->sends == 1 &&
          now >= e->first_sent)
        rel_rtt_sample(r, now - e->first_sent);
    }
  lvpn__rel_on_acks(r, ids, n);
}

void lvpn__rel_on_acks(lvpn__rel_t *r, const uint32_t *ids, int n) {
  int i, j;
  for (i = 0; i < n; i++) {
    if (!id_lt(ids[i], r->next_send_id)) {
      /* never sent: ignored (OpenVPN would let it count as a later ACK
       * on every outstanding message and so force fast retransmits) */
      r->bogus_acks++;
      continue;
    }
    for (j = 0; j < LVPN__REL_SEND_WINDOW; j++) {
      lvpn__rel_entry_t *e = &r->send[j];
      if (e->p == NULL)
        continue;
      if (e->id == ids[i]) {
        lvpn__pbuf_free(e->p);
        e->p = NULL;
      } else if (id_lt(e->id, ids[i])) {
        e->n_acks++;
      }
    }
  }
}

static void ack_later(lvpn__rel_t *r, uint32_t id) {
  if (!acks_has(&r->pending, id) && r->pending.n < LVPN__REL_ACK_MAX)
    r->pending.ids[r->pending.n++] = id;
}

static int rel_buffered(const lvpn__rel_t *r, uint32_t id) {
  int i;
  for (i = 0; i < LVPN__REL_RECV_WINDOW; i++)
    if (r->recv[i] != NULL && r->recv[i]->meta.msg_id == id)
      return 1;
  return 0;
}

int lvpn__rel_on_receive(lvpn__rel_t *r, lvpn__pbuf_t *p) {
  uint32_t id = p->meta.msg_id;
  int i, slot = -1, buffered = 0;

  for (i = 0; i < LVPN__REL_RECV_WINDOW; i++) {
    if (r->recv[i] == NULL)
      slot = slot < 0 ? i : slot;
    else if (r->recv[i]->meta.msg_id == id)
      buffered = 1;
  }
  if (slot < 0) { /* no free buffer: drop without ACK (reliable_can_get) */
    r->window_drops++;
    lvpn__pbuf_free(p);
    return LVPN_EWINDOW;
  }
  if (!id_lt(id, r->expected) &&
      (uint32_t)(id - r->expected) >= LVPN__REL_RECV_WINDOW) {
    r->window_drops++; /* would break sequentiality: no ACK */
    lvpn__pbuf_free(p);
    return LVPN_EWINDOW;
  }
  ack_later(r, id);
  if (buffered || id_lt(id, r->expected)) {
    r->dup_received++;
    lvpn__pbuf_free(p);
    return LVPN_EDUPLICATE;
  }
  r->recv[slot] = p;
  /* A hole just before it (not merely packets waiting to be popped): ask
   * the peer for a fast retransmit. */
  if (id != r->expected && !rel_buffered(r, id - 1))
    r->dup_acks = LVPN__REL_FAST_RETRANSMIT - 1;
  return 0;
}

lvpn__pbuf_t *lvpn__rel_pop_inorder(lvpn__rel_t *r) {
  lvpn__pbuf_t *p;
  int i;
  for (i = 0; i < LVPN__REL_RECV_WINDOW; i++) {
    p = r->recv[i];
    if (p != NULL && p->meta.msg_id == r->expected) {
      r->recv[i] = NULL;
      r->expected++;
      r->delivered++;
      return p;
    }
  }
  return NULL;
}

int lvpn__rel_all_acked(const lvpn__rel_t *r) {
  int i;
  for (i = 0; i < LVPN__REL_SEND_WINDOW; i++) {
    if (r->send[i].p != NULL)
      return 0;
  }
  return 1;
}
