/* Packet buffer with headroom (after lwIP's pbuf).
 *
 * A pbuf is one contiguous buffer: [ headroom | data (len) | tailroom ].
 * Layers prepend headers with lvpn__pbuf_push() and strip them with
 * lvpn__pbuf_pull() without moving the payload. Buffers come from a pool that
 * hangs off the client: after warm-up, no heap allocation per packet.
 *
 * Ownership: whoever holds a pbuf pointer owns it and must pass it on (queue
 * it, hand it to a neighbour) or release it with lvpn__pbuf_free(), on every
 * path, errors included. Enqueuing transfers ownership to the queue's owner.
 */
#ifndef LVPN_LIB_PBUF_H
#define LVPN_LIB_PBUF_H

#include <stddef.h>
#include <stdint.h>

#include "lib/queue.h"

/* Room for the largest wire packet we accept: tun MTU 1500 (up to IV_MTU
 * 1600) + OpenVPN overhead, and 1250-byte control packets plus wrapping. */
#define LVPN_PBUF_CAP 2048
/* Headroom reserved when a buffer is handed out: enough for TCP length (2) +
 * P_DATA_V2 header (4) + packet id (4) + tag/HMAC (64) + IV (16), or any
 * control header including tls-crypt (1+8+8+32+1+32+8+4 = 94). */
#define LVPN_PBUF_HEADROOM 160
/* The largest wire packet a buffer holds after its headroom, and so the
 * largest link-mtu; and the largest tun MTU whose packets still fit once
 * the costliest data-channel wrapping is added (P_DATA_V2 4, HMAC-SHA512 64,
 * CBC IV 16, packet id 4, CBC padding 16, compression header 2, fragment
 * header 4: 110). tun-mtu, tun-mtu-max and a pushed tun-mtu stay within it. */
#define LVPN_LINK_MTU_LIMIT (LVPN_PBUF_CAP - LVPN_PBUF_HEADROOM)
#define LVPN_TUN_MTU_LIMIT (LVPN_LINK_MTU_LIMIT - 110)

/* Per-packet metadata carried between layers, so a header is parsed once:
 * the packetmuxer decodes a control header into it on the way up, the
 * reliable transport fills it on the way down and the muxer encodes it. */
typedef struct lvpn__pmeta_s {
  uint8_t opcode;     /* OpenVPN opcode (P_CONTROL_V1, ...) */
  uint8_t key_id;     /* 0..7 */
  uint8_t has_msg_id; /* 0 for P_ACK_V1 */
  uint8_t n_acks;     /* ACK record: 0..8 ids */
  uint32_t msg_id;    /* control message packet id */
  uint32_t acks[8];
  uint8_t float_gen; /* networkio, float: from a new server address (the
                        candidate of this generation); 0: from the server */
  uint8_t has_tos; /* data: the inner packet is IPv4 with TOS `tos` */
  uint8_t tos;     /* (passtos copies it to the outer socket) */
} lvpn__pmeta_t;

typedef struct lvpn__pbuf_pool_s lvpn__pbuf_pool_t;

typedef struct lvpn__pbuf_s {
  lvpn__qnode_t node; /* queue link: owned by whichever queue holds it */
  lvpn__pbuf_pool_t *pool;
  uint8_t *data; /* first valid byte */
  size_t len;    /* valid bytes from data */
  lvpn__pmeta_t meta;
  uint8_t buf[LVPN_PBUF_CAP];
} lvpn__pbuf_t;

struct lvpn__pbuf_pool_s {
  lvpn__queue_t free;   /* cached buffers */
  size_t max_cached;    /* beyond this, freed buffers go back to the heap */
  size_t outstanding;   /* buffers handed out and not yet freed */
  uint64_t allocs;      /* heap allocations made (for benchmarks/tests) */
  /* lvpn__pbuf_pool_share(): its key, holders, and the next shared pool */
  const void *share_key;
  unsigned share_users;
  struct lvpn__pbuf_pool_s *share_next;
};

void lvpn__pbuf_pool_init(lvpn__pbuf_pool_t *pool, size_t max_cached);
/* Frees cached buffers. Every buffer must have been returned (asserted). */
void lvpn__pbuf_pool_destroy(lvpn__pbuf_pool_t *pool);
/* The pool shared by the holders of `key` (the clients of one loop: a pool
 * is not thread-safe, a loop runs on one thread), made by the first
 * (max_cached buffers cached) and destroyed with the last
 * lvpn__pbuf_pool_unshare(): idle sessions then keep no buffers of their
 * own. NULL when out of memory. Thread-safe (a lock around the list). */
lvpn__pbuf_pool_t *lvpn__pbuf_pool_share(const void *key, size_t max_cached);
void lvpn__pbuf_pool_unshare(lvpn__pbuf_pool_t *pool);

/* Returns an empty buffer (len 0, LVPN_PBUF_HEADROOM bytes of headroom) or
 * NULL when out of memory. The caller owns it. */
lvpn__pbuf_t *lvpn__pbuf_alloc(lvpn__pbuf_pool_t *pool);
/* Returns the buffer to its pool. NULL is accepted. */
void lvpn__pbuf_free(lvpn__pbuf_t *p);
/* A new buffer with the same data, headroom and metadata (control channel
 * retransmissions; never on the data path). NULL when out of memory. */
lvpn__pbuf_t *lvpn__pbuf_clone(const lvpn__pbuf_t *p);

static inline size_t lvpn__pbuf_headroom(const lvpn__pbuf_t *p) {
  return (size_t)(p->data - p->buf);
}
static inline size_t lvpn__pbuf_tailroom(const lvpn__pbuf_t *p) {
  return LVPN_PBUF_CAP - lvpn__pbuf_headroom(p) - p->len;
}
/* Prepend n bytes; returns the new head or NULL if headroom is short. */
static inline uint8_t *lvpn__pbuf_push(lvpn__pbuf_t *p, size_t n) {
  if (lvpn__pbuf_headroom(p) < n)
    return NULL;
  p->data -= n;
  p->len += n;
  return p->data;
}
/* Strip n bytes from the front; returns the stripped bytes or NULL if short. */
static inline uint8_t *lvpn__pbuf_pull(lvpn__pbuf_t *p, size_t n) {
  uint8_t *old = p->data;
  if (p->len < n)
    return NULL;
  p->data += n;
  p->len -= n;
  return old;
}
/* Append n bytes; returns where they go or NULL if tailroom is short. */
static inline uint8_t *lvpn__pbuf_put(lvpn__pbuf_t *p, size_t n) {
  uint8_t *tail = p->data + p->len;
  if (lvpn__pbuf_tailroom(p) < n)
    return NULL;
  p->len += n;
  return tail;
}
/* Drop n bytes from the end; returns 0 or -1 if short. */
static inline int lvpn__pbuf_trim(lvpn__pbuf_t *p, size_t n) {
  if (p->len < n)
    return -1;
  p->len -= n;
  return 0;
}
/* Reset to empty with the given headroom (clamped to capacity). */
static inline void lvpn__pbuf_reset(lvpn__pbuf_t *p, size_t headroom) {
  if (headroom > LVPN_PBUF_CAP)
    headroom = LVPN_PBUF_CAP;
  p->data = p->buf + headroom;
  p->len = 0;
}
static inline lvpn__pbuf_t *lvpn__pbuf_from_node(lvpn__qnode_t *n) {
  return n == NULL ? NULL : container_of(n, lvpn__pbuf_t, node);
}
/* Queue helpers for pbufs. */
static inline void lvpn__pbufq_push(lvpn__queue_t *q, lvpn__pbuf_t *p) {
  lvpn__queue_push(q, &p->node);
}
static inline lvpn__pbuf_t *lvpn__pbufq_pop(lvpn__queue_t *q) {
  return lvpn__pbuf_from_node(lvpn__queue_pop(q));
}
/* Frees every buffer on the queue. */
void lvpn__pbufq_clear(lvpn__queue_t *q);

#endif
