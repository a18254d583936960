#include "hooks/chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lvpn__hooks_init(lvpn__hooks_t *h, lvpn__pbuf_pool_t *pool,
                      lvpn_client_t *client) {
  memset(h, 0, sizeof(*h));
  lvpn__queue_init(&h->inj);
  h->pool = pool;
  h->client = client;
  h->next_id = 1;
}

static void hooks_drop_injected(lvpn__hooks_t *h) {
  lvpn__qnode_t *n;
  while ((n = lvpn__queue_pop(&h->inj)) != NULL)
    lvpn__pbuf_free(container_of(n, lvpn__pbuf_t, node));
}

void lvpn__hooks_free(lvpn__hooks_t *h) {
  lvpn__hook_t *v = h->v;
  size_t i, n = h->n;
  hooks_drop_injected(h);
  h->v = NULL; /* the callbacks below see an empty chain */
  h->n = h->cap = h->active = 0;
  h->dirty = 0;
  for (i = 0; i < n; i++)
    if (v[i].ops.removed != NULL)
      v[i].ops.removed(v[i].ud);
  free(v);
}

int lvpn__hooks_add(lvpn__hooks_t *h, const lvpn_inside_hook_t *ops, void *ud,
                    lvpn_hook_id_t *out) {
  lvpn__hook_t *e;
  if (ops == NULL || ops->packet == NULL)
    return LVPN_EINVAL;
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 4;
    lvpn__hook_t *v = realloc(h->v, cap * sizeof(*v));
    if (v == NULL)
      return LVPN_ENOMEM;
    h->v = v;
    h->cap = cap;
  }
  e = &h->v[h->n++];
  memset(e, 0, sizeof(*e));
  e->ops = *ops;
  snprintf(e->name, sizeof(e->name), "%s",
           ops->name != NULL && ops->name[0] ? ops->name : "hook");
  e->ops.name = e->name;
  if (e->ops.dirs == 0)
    e->ops.dirs = LVPN_INSIDE_OUTBOUND | LVPN_INSIDE_INBOUND;
  e->ud = ud;
  e->id = h->next_id++;
  if (h->next_id == 0)
    h->next_id = 1;
  h->active++;
  if (out != NULL)
    *out = e->id;
  return 0;
}

/* Drops removed entries (never while the chain runs: indices must hold),
 * then tells their owners, once the array is consistent again (a `removed`
 * callback may add or remove hooks). */
static void hooks_compact(lvpn__hooks_t *h) {
  while (h->dirty && h->depth == 0) {
    lvpn__hook_t gone[8];
    size_t i, j = 0, n_gone = 0;
    h->dirty = 0;
    for (i = 0; i < h->n; i++) {
      if (h->v[i].removed && n_gone < sizeof(gone) / sizeof(gone[0])) {
        gone[n_gone++] = h->v[i];
        continue;
      }
      if (h->v[i].removed)
        h->dirty = 1; /* the next round takes it */
      if (j != i)
        h->v[j] = h->v[i];
      h->v[j].ops.name = h->v[j].name;
      j++;
    }
    h->n = j;
    for (i = 0; i < n_gone; i++)
      if (gone[i].ops.removed != NULL)
        gone[i].ops.removed(gone[i].ud);
  }
}

int lvpn__hooks_remove(lvpn__hooks_t *h, lvpn_hook_id_t id) {
  size_t i;
  for (i = 0; i < h->n; i++)
    if (h->v[i].id == id && !h->v[i].removed) {
      h->v[i].removed = 1;
      h->active--;
      h->dirty = 1;
      hooks_compact(h);
      return 0;
    }
  return LVPN_EINVAL;
}

const lvpn__hook_t *lvpn__hooks_find(const lvpn__hooks_t *h,
                                     lvpn_hook_id_t id) {
  size_t i;
  for (i = 0; i < h->n; i++)
    if (h->v[i].id == id && !h->v[i].removed)
      return &h->v[i];
  return NULL;
}

static void hooks_deliver(lvpn__hooks_t *h, lvpn_inside_dir_t dir,
                          lvpn__pbuf_t *p) {
  if (h->deliver == NULL)
    lvpn__pbuf_free(p);
  else
    h->deliver(h->deliver_ud, dir, p);
}

/* Injected packets carry their direction in meta.opcode. */
static void hooks_flush(lvpn__hooks_t *h) {
  lvpn__qnode_t *n;
  while (h->depth == 0 && (n = lvpn__queue_pop(&h->inj)) != NULL) {
    lvpn__pbuf_t *p = container_of(n, lvpn__pbuf_t, node);
    hooks_deliver(h, (lvpn_inside_dir_t)p->meta.opcode, p);
  }
}

void lvpn__hooks_process(lvpn__hooks_t *h, lvpn_inside_dir_t dir,
                         lvpn__pbuf_t *p) {
  size_t n = h->n, k;
  int verdict = LVPN_HOOK_PASS;

  h->depth++;
  for (k = 0; k < n && verdict == LVPN_HOOK_PASS; k++) {
    size_t i = dir == LVPN_INSIDE_OUTBOUND ? k : n - 1 - k;
    lvpn_inside_pkt_t pkt;
    lvpn__hook_t *e = &h->v[i];
    if (e->removed || !(e->ops.dirs & (unsigned)dir))
      continue;
    pkt.data = p->data;
    pkt.len = p->len;
    pkt.cap = p->len + lvpn__pbuf_tailroom(p);
    e->seen++;
    verdict = e->ops.packet(e->ud, h->client, dir, &pkt);
    e = &h->v[i]; /* the callback may have added hooks (realloc) */
    if (verdict == LVPN_HOOK_PASS && pkt.len > p->len + lvpn__pbuf_tailroom(p))
      verdict = LVPN_HOOK_DROP; /* a hook overran its buffer: never send */
    else
      p->len = pkt.len;
    if (verdict != LVPN_HOOK_PASS) {
      verdict = LVPN_HOOK_DROP;
      e->dropped++;
    }
  }
  h->depth--;
  if (verdict == LVPN_HOOK_PASS)
    hooks_deliver(h, dir, p);
  else
    lvpn__pbuf_free(p);
  hooks_flush(h);
  hooks_compact(h);
}

int lvpn__hooks_inject(lvpn__hooks_t *h, lvpn_inside_dir_t dir,
                       const uint8_t *pkt, size_t len) {
  lvpn__pbuf_t *p;
  if (dir != LVPN_INSIDE_OUTBOUND && dir != LVPN_INSIDE_INBOUND)
    return LVPN_EINVAL;
  if (h->deliver == NULL)
    return LVPN_ESTATE;
  if (pkt == NULL || len == 0)
    return LVPN_EINVAL;
  p = lvpn__pbuf_alloc(h->pool);
  if (p == NULL)
    return LVPN_ENOMEM;
  if (len > lvpn__pbuf_tailroom(p)) {
    lvpn__pbuf_free(p);
    return LVPN_ETOOBIG;
  }
  memcpy(lvpn__pbuf_put(p, len), pkt, len);
  p->meta.opcode = (uint8_t)dir;
  if (h->depth > 0)
    lvpn__queue_push(&h->inj, &p->node);
  else
    hooks_deliver(h, dir, p);
  return 0;
}

void lvpn__hooks_counters(const lvpn__hooks_t *h, lvpn_counter_cb cb,
                          void *ud) {
  char name[48];
  size_t i;
  for (i = 0; i < h->n; i++) {
    if (h->v[i].removed)
      continue;
    snprintf(name, sizeof(name), "%s_seen", h->v[i].name);
    cb(ud, "hooks", name, h->v[i].seen);
    snprintf(name, sizeof(name), "%s_dropped", h->v[i].name);
    cb(ud, "hooks", name, h->v[i].dropped);
  }
}
