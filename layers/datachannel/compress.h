/* Data-channel compression (doc §6.5; OpenVPN 2.6 comp.c, lzo.c,
 * comp-lz4.c): LZO (`comp-lzo`, `compress lzo`) through liblzo2, LZ4
 * (`compress lz4`, `compress lz4-v2`) through liblz4, and the stub framings
 * (delegated to crypto.c's lvpn__comp_frame/unframe). Loop-free.
 *
 * Like OpenVPN 2.6, received packets are always decompressed in a real
 * compression mode; outgoing packets are compressed only when
 * `allow-compression yes` is set (otherwise they carry the "not compressed"
 * framing of the mode). `comp-lzo adaptive` stops trying to compress for
 * 60 s once a 2-s sample shows less than 5% saving.
 *
 * Decompressed output is bounded by a pbuf's payload room
 * (LVPN_PBUF_CAP - LVPN_PBUF_HEADROOM); a bad header byte, a corrupt stream
 * or an oversized result is an error the caller drops and that is counted
 * here per reason. */
#ifndef LVPN_LAYERS_DATACHANNEL_COMPRESS_H
#define LVPN_LAYERS_DATACHANNEL_COMPRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/comp.h"
#include "lib/pbuf.h"

/* Largest decompressed payload we accept. */
#define LVPN__COMP_MAX_OUT (LVPN_PBUF_CAP - LVPN_PBUF_HEADROOM)
/* Packets shorter than this are never compressed (OpenVPN's threshold). */
#define LVPN__COMP_THRESHOLD 100

/* (De)compression work buffer: larger than the limit so that an oversized
 * result can be told from a corrupt stream. */
#define LVPN__COMP_WORK_LEN (2 * LVPN_PBUF_CAP)

typedef struct lvpn__compress_s {
  int mode;     /* lvpn__comp_t */
  bool tx;      /* compress outgoing packets (allow-compression yes) */
  bool adaptive;
  /* comp-lzo adaptive state (OpenVPN's lzo_adaptive_compress) */
  bool ac_off;
  uint64_t ac_next_s;
  int64_t ac_total, ac_comp; /* signed: LZO may expand */
  void *lzo_wmem; /* LZO compressor work memory, only when tx */
  /* counters */
  uint64_t compressed, decompressed;
  uint64_t drop_header;  /* unknown framing byte for the mode */
  uint64_t drop_corrupt; /* the decompressor rejected the stream */
  uint64_t drop_oversize; /* decompresses to more than LVPN__COMP_MAX_OUT */
  uint64_t drop_refused; /* compressed payload in a stub mode */
  uint8_t *work; /* LVPN__COMP_WORK_LEN bytes, only in a real mode */
} lvpn__compress_t;

/* Sets the mode (any lvpn__comp_t) and whether to compress outgoing packets;
 * keeps the counters. Returns 0, LVPN_EINVAL, LVPN_ENOMEM, or
 * LVPN_EUNSUPPORTED when the algorithm's library cannot be loaded. */
int lvpn__compress_setup(lvpn__compress_t *c, int mode, bool tx);
/* Why the last lvpn__compress_setup returned LVPN_EUNSUPPORTED: the
 * compression library could not be loaded (a message naming it). */
const char *lvpn__compress_load_error(void);
/* Frees the work memory (the struct may be set up again). */
void lvpn__compress_free(lvpn__compress_t *c);

/* Compresses (when allowed and worth it) and frames p in place.
 * now_s drives the adaptive test. Returns 0 or LVPN_ETOOBIG. */
int lvpn__compress(lvpn__compress_t *c, lvpn__pbuf_t *p, uint64_t now_s);
/* Unframes and decompresses p in place. Returns 0, LVPN_ECOMPRESSION
 * (bad header, corrupt or oversized stream; compressed data in a stub
 * mode), LVPN_EPROTO or LVPN_ESHORT (malformed stub framing). */
int lvpn__decompress(lvpn__compress_t *c, lvpn__pbuf_t *p);

/* ---- policy (OpenVPN 2.6 options.c: allow-compression, comp_flags) ---- */

/* Whether real compression may be used (received) at all: false when
 * `allow-compression no` is set, or when it is not set and the config has
 * no compression option beyond `comp-lzo no` (2.6's stub-only default). */
bool lvpn__comp_real_allowed(int cfg_comp, int allow, bool allow_set);
/* Whether to announce IV_LZ4, IV_LZ4v2 and IV_LZO in the peer-info. */
bool lvpn__comp_advertise_real(int cfg_comp, int allow, bool allow_set);
/* Whether mode is a real compression algorithm. */
static inline bool lvpn__comp_is_real(int mode) {
  return mode >= LVPN__COMP_LZO && mode <= LVPN__COMP_LZ4_V2;
}

#endif
