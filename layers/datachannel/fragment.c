#include "layers/datachannel/fragment.h"

#include <stdlib.h>
#include <string.h>

#include "layervpn.h"
#include "lib/bytes.h"

#define TYPE_MASK 0x3u
#define SEQ_SHIFT 2
#define SEQ_MASK 0xFFu
#define ID_SHIFT 10
#define ID_MASK 0x1Fu
#define SIZE_SHIFT 15
#define SIZE_MASK 0x3FFFu
#define SIZE_ROUND 4u /* sizes travel divided by 4 */
#define MAP_FULL 0xFFFFFFFFu

int lvpn__fragment_setup(lvpn__fragment_t *f, unsigned max_size,
                         uint8_t seq_seed) {
  if (max_size < SIZE_ROUND || max_size > LVPN__FRAG_MAX_PKT)
    return LVPN_EINVAL;
  if (f->slots == NULL) {
    f->slots = calloc(LVPN__FRAG_N_BUF, sizeof(*f->slots));
    if (f->slots == NULL)
      return LVPN_ENOMEM;
  } else {
    unsigned i;
    for (i = 0; i < LVPN__FRAG_N_BUF; i++)
      f->slots[i].defined = false;
  }
  f->max_size = max_size;
  f->out_seq = seq_seed;
  f->in_seq = -1;
  f->in_index = 0;
  return 0;
}

void lvpn__fragment_free(lvpn__fragment_t *f) {
  free(f->slots);
  f->slots = NULL;
  f->max_size = 0;
}

unsigned lvpn__fragment_optimal_size(size_t len, unsigned max_size) {
  unsigned aligned = max_size & ~(SIZE_ROUND - 1);
  size_t div, mod, even;
  if (aligned == 0)
    return 0;
  div = len / aligned;
  mod = len % aligned;
  /* a short last piece: spread the bytes over the same number of pieces */
  if (div > 0 && mod > 0 && mod < (size_t)aligned * 3 / 4) {
    even = (max_size - (max_size - mod) / (div + 1) + SIZE_ROUND - 1) &
           ~(size_t)(SIZE_ROUND - 1);
    return even < aligned ? (unsigned)even : aligned;
  }
  return aligned;
}

uint32_t lvpn__fragment_header(int type, unsigned seq, unsigned id,
                               unsigned size) {
  uint32_t h = ((uint32_t)type & TYPE_MASK) |
               ((seq & SEQ_MASK) << SEQ_SHIFT) | ((id & ID_MASK) << ID_SHIFT);
  if (type == LVPN__FRAG_LAST)
    h |= ((size / SIZE_ROUND) & SIZE_MASK) << SIZE_SHIFT;
  return h;
}

static int push_header(lvpn__pbuf_t *p, uint32_t h) {
  uint8_t *w = lvpn__pbuf_push(p, LVPN__FRAG_HDR_LEN);
  if (w == NULL)
    return LVPN_EINVAL;
  lvpn__put_u32(w, h);
  return 0;
}

int lvpn__fragment_split(lvpn__fragment_t *f, lvpn__pbuf_t *p,
                         lvpn__pbuf_pool_t *pool,
                         lvpn__pbuf_t *out[LVPN__FRAG_MAX_FRAGS], size_t *n) {
  unsigned size, seq;
  size_t pieces, i, off, len;
  int err;

  *n = 0;
  if (lvpn__pbuf_headroom(p) < LVPN__FRAG_HDR_LEN)
    return LVPN_EINVAL;
  if (p->len <= f->max_size) {
    f->tx_whole++;
    out[0] = p;
    *n = 1;
    return push_header(p, lvpn__fragment_header(LVPN__FRAG_WHOLE, 0, 0, 0));
  }
  size = lvpn__fragment_optimal_size(p->len, f->max_size);
  if (size == 0 || p->len > (size_t)size * LVPN__FRAG_MAX_FRAGS) {
    f->drop_too_big++;
    return LVPN_ETOOBIG;
  }
  pieces = (p->len + size - 1) / size;
  for (i = 1; i < pieces; i++) {
    out[i] = lvpn__pbuf_alloc(pool);
    if (out[i] == NULL)
      break;
  }
  if (i < pieces) {
    while (i > 1)
      lvpn__pbuf_free(out[--i]);
    return LVPN_ENOMEM;
  }
  seq = f->out_seq = (uint8_t)(f->out_seq + 1);
  for (i = 1; i < pieces; i++) {
    off = i * size;
    len = p->len - off < size ? p->len - off : size;
    memcpy(lvpn__pbuf_put(out[i], len), p->data + off, len);
    out[i]->meta = p->meta;
    err = push_header(out[i],
                      lvpn__fragment_header(i + 1 == pieces ? LVPN__FRAG_LAST
                                                            : LVPN__FRAG_NOTLAST,
                                            seq, (unsigned)i, size));
    (void)err; /* a fresh buffer has LVPN_PBUF_HEADROOM */
  }
  p->len = size;
  out[0] = p;
  *n = pieces;
  f->tx_split++;
  f->tx_pieces += pieces;
  return push_header(p, lvpn__fragment_header(LVPN__FRAG_NOTLAST, seq, 0, 0));
}

/* The slot for sequence id `seq`: slides the window forward (forgetting
 * what falls out) or, for an id far away, starts over (OpenVPN's
 * fragment_list_get_buf). */
static lvpn__frag_slot_t *slot_for(lvpn__fragment_t *f, unsigned seq) {
  int diff;
  unsigned i;
  if (f->in_seq < 0) {
    f->in_seq = (int)seq;
    f->in_index = 0;
  }
  diff = (int)((seq - (unsigned)f->in_seq) & (LVPN__FRAG_N_SEQ - 1));
  if (diff >= LVPN__FRAG_N_SEQ / 2)
    diff -= LVPN__FRAG_N_SEQ;
  if (diff >= LVPN__FRAG_N_BUF || -diff >= LVPN__FRAG_N_BUF) {
    for (i = 0; i < LVPN__FRAG_N_BUF; i++)
      f->slots[i].defined = false;
    f->in_index = 0;
    f->in_seq = (int)seq;
    diff = 0;
  }
  for (; diff > 0; diff--) {
    f->in_index = (f->in_index + 1) % LVPN__FRAG_N_BUF;
    f->slots[f->in_index].defined = false;
    f->in_seq = (f->in_seq + 1) & (LVPN__FRAG_N_SEQ - 1);
  }
  /* here -LVPN__FRAG_N_BUF < diff <= 0 */
  return &f->slots[(f->in_index + LVPN__FRAG_N_BUF + diff) % LVPN__FRAG_N_BUF];
}

int lvpn__fragment_incoming(lvpn__fragment_t *f, lvpn__pbuf_t *p,
                            uint64_t now_s) {
  uint32_t h;
  unsigned type, seq, id, size;
  size_t off, end;
  lvpn__frag_slot_t *s;

  if (p->len < LVPN__FRAG_HDR_LEN) {
    f->drop_malformed++;
    return LVPN_EPROTO;
  }
  h = lvpn__get_u32(p->data);
  lvpn__pbuf_pull(p, LVPN__FRAG_HDR_LEN);
  type = h & TYPE_MASK;
  seq = (h >> SEQ_SHIFT) & SEQ_MASK;
  id = (h >> ID_SHIFT) & ID_MASK;
  if (type == LVPN__FRAG_WHOLE) {
    if (seq != 0 || id != 0) { /* "spurious FRAG_WHOLE flags" */
      f->drop_malformed++;
      return LVPN_EPROTO;
    }
    f->rx_whole++;
    return 0;
  }
  if (type == LVPN__FRAG_TEST) { /* never sent by OpenVPN */
    f->drop_malformed++;
    return LVPN_EPROTO;
  }
  size = type == LVPN__FRAG_LAST
             ? ((h >> SIZE_SHIFT) & SIZE_MASK) * SIZE_ROUND
             : (unsigned)p->len;
  /* every piece but the last is exactly `size` bytes, a multiple of 4 */
  if (size == 0 || size % SIZE_ROUND != 0 ||
      (type == LVPN__FRAG_LAST && p->len > size) ||
      (type == LVPN__FRAG_LAST && p->len == 0)) {
    f->drop_malformed++;
    return LVPN_EPROTO;
  }
  off = (size_t)id * size;
  end = off + p->len;
  if (end > LVPN__FRAG_MAX_PKT) {
    f->drop_oversize++;
    return LVPN_ETOOBIG;
  }
  f->rx_pieces++;
  s = slot_for(f, seq);
  if (!s->defined || s->size != size) { /* first piece of this packet */
    s->defined = true;
    s->size = size;
    s->map = 0;
    s->end = s->max_end = 0;
  }
  memcpy(s->data + off, p->data, p->len);
  if (end > s->max_end)
    s->max_end = end;
  if (type == LVPN__FRAG_LAST) {
    s->map |= MAP_FULL << id;
    s->end = end;
  } else {
    s->map |= 1u << id;
  }
  s->stamp_s = now_s;
  if (s->map != MAP_FULL)
    return LVPN__FRAG_PENDING;
  s->defined = false;
  if (s->max_end != s->end) { /* a piece past the last one */
    f->drop_malformed++;
    return LVPN_EPROTO;
  }
  lvpn__pbuf_reset(p, LVPN_PBUF_HEADROOM);
  memcpy(lvpn__pbuf_put(p, s->end), s->data, s->end);
  f->rx_reassembled++;
  return 0;
}

void lvpn__fragment_reap(lvpn__fragment_t *f, uint64_t now_s) {
  unsigned i;
  if (f->slots == NULL)
    return;
  for (i = 0; i < LVPN__FRAG_N_BUF; i++)
    if (f->slots[i].defined &&
        f->slots[i].stamp_s + LVPN__FRAG_TTL_S <= now_s) {
      f->slots[i].defined = false;
      f->drop_expired++;
    }
}
