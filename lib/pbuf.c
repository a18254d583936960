#include "lib/pbuf.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void lvpn__pbuf_pool_init(lvpn__pbuf_pool_t *pool, size_t max_cached) {
  lvpn__queue_init(&pool->free);
  pool->max_cached = max_cached;
  pool->outstanding = 0;
  pool->allocs = 0;
  pool->share_key = NULL;
  pool->share_users = 0;
  pool->share_next = NULL;
}

void lvpn__pbuf_pool_destroy(lvpn__pbuf_pool_t *pool) {
  lvpn__pbuf_t *p;
  assert(pool->outstanding == 0);
  while ((p = lvpn__pbufq_pop(&pool->free)) != NULL)
    free(p);
}

static pthread_mutex_t share_lock = PTHREAD_MUTEX_INITIALIZER;
static lvpn__pbuf_pool_t *shared_pools;

lvpn__pbuf_pool_t *lvpn__pbuf_pool_share(const void *key, size_t max_cached) {
  lvpn__pbuf_pool_t *p;
  pthread_mutex_lock(&share_lock);
  for (p = shared_pools; p != NULL && p->share_key != key; p = p->share_next)
    ;
  if (p == NULL && (p = malloc(sizeof(*p))) != NULL) {
    lvpn__pbuf_pool_init(p, max_cached);
    p->share_key = key;
    p->share_next = shared_pools;
    shared_pools = p;
  }
  if (p != NULL)
    p->share_users++;
  pthread_mutex_unlock(&share_lock);
  return p;
}

void lvpn__pbuf_pool_unshare(lvpn__pbuf_pool_t *pool) {
  lvpn__pbuf_pool_t **pp;
  if (pool == NULL)
    return;
  pthread_mutex_lock(&share_lock);
  if (--pool->share_users > 0) {
    pthread_mutex_unlock(&share_lock);
    return;
  }
  for (pp = &shared_pools; *pp != NULL && *pp != pool; pp = &(*pp)->share_next)
    ;
  if (*pp != NULL)
    *pp = pool->share_next;
  pthread_mutex_unlock(&share_lock);
  lvpn__pbuf_pool_destroy(pool);
  free(pool);
}

lvpn__pbuf_t *lvpn__pbuf_alloc(lvpn__pbuf_pool_t *pool) {
  lvpn__pbuf_t *p = lvpn__pbufq_pop(&pool->free);
  if (p == NULL) {
    p = malloc(sizeof(*p));
    if (p == NULL)
      return NULL;
    pool->allocs++;
  }
  p->node.next = NULL;
  p->pool = pool;
  memset(&p->meta, 0, sizeof(p->meta));
  lvpn__pbuf_reset(p, LVPN_PBUF_HEADROOM);
  pool->outstanding++;
  return p;
}

void lvpn__pbuf_free(lvpn__pbuf_t *p) {
  lvpn__pbuf_pool_t *pool;
  if (p == NULL)
    return;
  pool = p->pool;
  assert(pool->outstanding > 0);
  pool->outstanding--;
  if (pool->free.count < pool->max_cached)
    lvpn__queue_push_front(&pool->free, &p->node); /* LIFO: reuse a hot one */
  else
    free(p);
}

lvpn__pbuf_t *lvpn__pbuf_clone(const lvpn__pbuf_t *p) {
  lvpn__pbuf_t *c = lvpn__pbuf_alloc(p->pool);
  if (c == NULL)
    return NULL;
  c->data = c->buf + lvpn__pbuf_headroom(p);
  c->len = p->len;
  c->meta = p->meta;
  memcpy(c->data, p->data, p->len);
  return c;
}

void lvpn__pbufq_clear(lvpn__queue_t *q) {
  lvpn__pbuf_t *p;
  while ((p = lvpn__pbufq_pop(q)) != NULL)
    lvpn__pbuf_free(p);
}
