/* Intrusive FIFO queue (singly linked, O(1) push/pop, no allocation).
 * Embed an lvpn__qnode_t in the element and recover it with container_of.
 * A node is on at most one queue at a time. */
#ifndef LVPN_LIB_QUEUE_H
#define LVPN_LIB_QUEUE_H

#include <stddef.h>

#ifndef container_of
#define container_of(ptr, type, member)                                     \
  ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

typedef struct lvpn__qnode_s {
  struct lvpn__qnode_s *next;
} lvpn__qnode_t;

typedef struct lvpn__queue_s {
  lvpn__qnode_t *head;
  lvpn__qnode_t *tail;
  size_t count;
} lvpn__queue_t;

static inline void lvpn__queue_init(lvpn__queue_t *q) {
  q->head = q->tail = NULL;
  q->count = 0;
}

static inline int lvpn__queue_empty(const lvpn__queue_t *q) {
  return q->head == NULL;
}

static inline void lvpn__queue_push(lvpn__queue_t *q, lvpn__qnode_t *n) {
  n->next = NULL;
  if (q->tail != NULL)
    q->tail->next = n;
  else
    q->head = n;
  q->tail = n;
  q->count++;
}

static inline void lvpn__queue_push_front(lvpn__queue_t *q, lvpn__qnode_t *n) {
  n->next = q->head;
  q->head = n;
  if (q->tail == NULL)
    q->tail = n;
  q->count++;
}

static inline lvpn__qnode_t *lvpn__queue_pop(lvpn__queue_t *q) {
  lvpn__qnode_t *n = q->head;
  if (n == NULL)
    return NULL;
  q->head = n->next;
  if (q->head == NULL)
    q->tail = NULL;
  n->next = NULL;
  q->count--;
  return n;
}

#endif
