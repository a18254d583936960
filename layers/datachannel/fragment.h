/* Data-channel fragmentation (`fragment N`, OpenVPN 2.6 fragment.c; the
 * protocol doc has no section on it). Loop-free.
 *
 * With `fragment` on, every data-channel plaintext (after compression
 * framing, before encryption) starts with a 4-byte big-endian header:
 *   bits 0-1   type: WHOLE, NOTLAST, LAST, TEST
 *   bits 2-9   sequence id (all pieces of one packet share it; mod 256)
 *   bits 10-14 fragment id (0..31)
 *   bits 15-28 LAST only: the sender's fragment size / 4
 * A packet longer than the fragment size is cut into pieces of that size
 * (at most 32); each piece is encrypted and sent as its own datagram.
 *
 * Reassembly keeps up to 25 packets in flight (a window of sequence ids),
 * each in a bounded buffer of LVPN__FRAG_MAX_PKT bytes; an incomplete packet
 * is dropped LVPN__FRAG_TTL_S seconds after its last piece arrived. A
 * malformed header or a piece that would overflow the buffer is dropped and
 * counted, never trusted.
 *
 * Ownership: functions taking a pbuf borrow it; the caller keeps it on every
 * path. Pieces lvpn__fragment_split() allocates belong to the caller. */
#ifndef LVPN_LAYERS_DATACHANNEL_FRAGMENT_H
#define LVPN_LAYERS_DATACHANNEL_FRAGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/pbuf.h"

#define LVPN__FRAG_HDR_LEN 4
#define LVPN__FRAG_N_BUF 25    /* packets reassembled at once (N_FRAG_BUF) */
#define LVPN__FRAG_TTL_S 10    /* FRAG_TTL_SEC */
#define LVPN__FRAG_MAX_FRAGS 32
#define LVPN__FRAG_N_SEQ 256
/* Largest packet reassembled: what a pbuf can carry after its headroom. */
#define LVPN__FRAG_MAX_PKT (LVPN_PBUF_CAP - LVPN_PBUF_HEADROOM)

enum {
  LVPN__FRAG_WHOLE = 0,
  LVPN__FRAG_NOTLAST = 1,
  LVPN__FRAG_LAST = 2,
  LVPN__FRAG_TEST = 3
};

/* lvpn__fragment_incoming(): a piece was kept, nothing to deliver yet. */
#define LVPN__FRAG_PENDING 1

typedef struct lvpn__frag_slot_s {
  bool defined;
  unsigned size;     /* fragment size of this packet's pieces */
  uint32_t map;      /* bit n: piece n arrived (LAST sets n and above) */
  size_t end;        /* end of the LAST piece, 0 until it arrived */
  size_t max_end;    /* furthest byte written */
  uint64_t stamp_s;  /* last piece's arrival */
  uint8_t data[LVPN__FRAG_MAX_PKT];
} lvpn__frag_slot_t;

typedef struct lvpn__fragment_s {
  unsigned max_size;   /* largest plaintext (without header) sent whole */
  uint8_t out_seq;     /* sequence id of the last fragmented packet sent */
  int in_seq;          /* highest sequence id in the window (-1: none) */
  unsigned in_index;   /* its slot */
  lvpn__frag_slot_t *slots; /* LVPN__FRAG_N_BUF, heap */
  /* counters */
  uint64_t tx_whole, tx_split, tx_pieces;
  uint64_t rx_whole, rx_pieces, rx_reassembled;
  uint64_t drop_malformed; /* short, bad type bits or size, FRAG_TEST */
  uint64_t drop_oversize;  /* would not fit a reassembly buffer */
  uint64_t drop_expired;   /* incomplete packets reaped after the TTL */
  uint64_t drop_too_big;   /* outgoing: more than 32 pieces needed */
} lvpn__fragment_t;

/* Enables fragmentation with pieces of at most max_size plaintext bytes
 * (frame_calculate_fragment's max_fragment_size, >= 4). seq_seed starts the
 * outgoing sequence ids (OpenVPN randomises it). Returns 0, LVPN_EINVAL or
 * LVPN_ENOMEM. May be called again; the counters are kept. */
int lvpn__fragment_setup(lvpn__fragment_t *f, unsigned max_size,
                         uint8_t seq_seed);
/* Frees the buffers; harmless on a zeroed or freed struct. */
void lvpn__fragment_free(lvpn__fragment_t *f);
static inline bool lvpn__fragment_on(const lvpn__fragment_t *f) {
  return f->slots != NULL;
}

/* OpenVPN's optimal_fragment_size: a possibly smaller multiple of 4 that
 * keeps the number of pieces and evens out the last one. */
unsigned lvpn__fragment_optimal_size(size_t len, unsigned max_size);
/* Packs a header (type, seq id, fragment id, size for LAST). */
uint32_t lvpn__fragment_header(int type, unsigned seq, unsigned id,
                               unsigned size);

/* Outgoing: frames p. When it fits, prepends a WHOLE header to p and sets
 * *n = 1, out[0] = p. Otherwise cuts it: out[0] is p holding the first
 * piece, out[1..*n-1] new buffers from pool, each with its header.
 * Returns 0, LVPN_ETOOBIG (more than 32 pieces; counted), LVPN_ENOMEM (the
 * new buffers are freed) or LVPN_EINVAL (no headroom for the header). On
 * error no buffer was allocated and the caller still owns p. */
int lvpn__fragment_split(lvpn__fragment_t *f, lvpn__pbuf_t *p,
                         lvpn__pbuf_pool_t *pool,
                         lvpn__pbuf_t *out[LVPN__FRAG_MAX_FRAGS], size_t *n);

/* Incoming: reads p's header. Returns 0 when p now holds a whole packet
 * (the header pulled, or a completed reassembly copied into p),
 * LVPN__FRAG_PENDING when the piece was stored, LVPN_EPROTO for a malformed
 * piece, LVPN_ETOOBIG when it would overflow. now_s is any monotonic
 * clock in seconds. */
int lvpn__fragment_incoming(lvpn__fragment_t *f, lvpn__pbuf_t *p,
                            uint64_t now_s);
/* Drops incomplete packets whose last piece is LVPN__FRAG_TTL_S old. */
void lvpn__fragment_reap(lvpn__fragment_t *f, uint64_t now_s);

#endif
