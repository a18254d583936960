#include "layers/datachannel/compress.h"

#include <dlfcn.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layervpn.h"
#include "layers/datachannel/crypto.h"
#include "lib/config.h"
#include "lib/dl.h"

/* Framing bytes (OpenVPN comp.h). */
#define LZO_COMPRESS_BYTE 0x66
#define LZ4_COMPRESS_BYTE 0x69
#define NO_COMPRESS_BYTE 0xFA
#define NO_COMPRESS_BYTE_SWAP 0xFB
#define V2_INDICATOR 0x50
#define V2_UNCOMPRESSED 0x00
#define V2_UNCOMPRESSED_ALG 0x0A /* see crypto.c: accepted on receive */
#define V2_LZ4 0x01

/* comp-lzo adaptive (OpenVPN lzo.h): sample period, minimum sample,
 * minimum saving, back-off. */
#define AC_SAMP_SEC 2
#define AC_MIN_BYTES 1000
#define AC_SAVE_PCT 5
#define AC_OFF_SEC 60

/* liblzo2 and liblz4 are loaded on first use, not linked: most sessions
 * compress nothing (OpenVPN 2.6 pushes no compression or only its framing),
 * and a linked library costs every process its start-up pages (both
 * together about 150 kB resident before main, cmd/memtrim.h). */
static struct {
  __typeof__(&__lzo_init_v2) lzo_init_v2;
  __typeof__(&lzo1x_1_15_compress) lzo_compress;
  __typeof__(&lzo1x_decompress_safe) lzo_decompress;
  __typeof__(&LZ4_compress_default) lz4_compress;
  __typeof__(&LZ4_decompress_safe) lz4_decompress;
} api;
static int lzo_state, lz4_state; /* 0: not tried, 1: loaded, -1: failed */
static char load_error[200];

/* lzo_init() is a macro passing the header's type sizes to __lzo_init_v2:
 * call it through the table, sizes unchanged. */
#define __lzo_init_v2 (*api.lzo_init_v2)

#define SYM(lib, soname, field, name)                                          \
  (lvpn__dl_sym(lib, soname, name, &api.field, sizeof(api.field), load_error, \
                sizeof(load_error)) == 0)

static int load(int *state, const char *soname, bool lz4) {
  void *lib;
  if (*state != 0)
    return *state > 0 ? 0 : -1;
  *state = -1;
  if ((lib = lvpn__dl_open(soname, load_error, sizeof(load_error))) == NULL)
    return -1;
  if (lz4 ? SYM(lib, soname, lz4_compress, "LZ4_compress_default") &&
                SYM(lib, soname, lz4_decompress, "LZ4_decompress_safe")
          : SYM(lib, soname, lzo_init_v2, "__lzo_init_v2") &&
                SYM(lib, soname, lzo_compress, "lzo1x_1_15_compress") &&
                SYM(lib, soname, lzo_decompress, "lzo1x_decompress_safe")) {
    *state = 1; /* stays loaded: the table points into it */
    return 0;
  }
  dlclose(lib);
  return -1;
}

const char *lvpn__compress_load_error(void) { return load_error; }

int lvpn__compress_setup(lvpn__compress_t *c, int mode, bool tx) {
  if (mode < LVPN__COMP_NONE || mode > LVPN__COMP_LZ4_V2)
    return LVPN_EINVAL;
  c->mode = mode;
  c->tx = tx && lvpn__comp_is_real(mode);
  c->adaptive = mode == LVPN__COMP_LZO_ADAPTIVE;
  c->ac_off = false;
  c->ac_next_s = 0;
  c->ac_total = c->ac_comp = 0;
  if (lvpn__comp_is_real(mode) &&
      (mode == LVPN__COMP_LZ4 || mode == LVPN__COMP_LZ4_V2
           ? load(&lz4_state, "liblz4.so.1", true)
           : load(&lzo_state, "liblzo2.so.2", false)) != 0) {
    c->mode = LVPN__COMP_NONE;
    c->tx = false;
    return LVPN_EUNSUPPORTED;
  }
  /* work memory only for a real algorithm: most sessions have none */
  if (lvpn__comp_is_real(mode) && c->work == NULL &&
      (c->work = malloc(LVPN__COMP_WORK_LEN)) == NULL)
    return LVPN_ENOMEM;
  if (c->tx && (mode == LVPN__COMP_LZO || mode == LVPN__COMP_LZO_ADAPTIVE)) {
    if (lzo_init() != LZO_E_OK)
      return LVPN_EINVAL;
    if (c->lzo_wmem == NULL &&
        (c->lzo_wmem = malloc(LZO1X_1_15_MEM_COMPRESS)) == NULL)
      return LVPN_ENOMEM;
  }
  return 0;
}

void lvpn__compress_free(lvpn__compress_t *c) {
  free(c->lzo_wmem);
  c->lzo_wmem = NULL;
  free(c->work);
  c->work = NULL;
}

/* OpenVPN's lzo_adaptive_compress_test(): true when we should try. */
static bool adaptive_try(lvpn__compress_t *c, uint64_t now_s) {
  if (!c->ac_off) {
    if (now_s >= c->ac_next_s) {
      if (c->ac_total > AC_MIN_BYTES &&
          c->ac_total - c->ac_comp < c->ac_total / (100 / AC_SAVE_PCT)) {
        c->ac_off = true;
        c->ac_next_s = now_s + AC_OFF_SEC;
      } else {
        c->ac_next_s = now_s + AC_SAMP_SEC;
      }
      c->ac_total = c->ac_comp = 0;
    }
  } else if (now_s >= c->ac_next_s) {
    c->ac_next_s = now_s + AC_SAMP_SEC;
    c->ac_total = c->ac_comp = 0;
    c->ac_off = false;
  }
  return !c->ac_off;
}

/* Compresses p's payload into c->work; returns the compressed length or 0
 * when not tried or failed. */
static size_t try_compress(lvpn__compress_t *c, const lvpn__pbuf_t *p,
                           uint64_t now_s) {
  if (!c->tx || p->len < LVPN__COMP_THRESHOLD || p->len > LVPN_PBUF_CAP)
    return 0;
  if (c->mode == LVPN__COMP_LZ4 || c->mode == LVPN__COMP_LZ4_V2) {
    int z = api.lz4_compress((const char *)p->data, (char *)c->work,
                                 (int)p->len, (int)LVPN__COMP_WORK_LEN);
    return z > 0 ? (size_t)z : 0;
  }
  lzo_uint zlen = 0;
  if (c->adaptive && !adaptive_try(c, now_s))
    return 0;
  if (c->lzo_wmem == NULL ||
      api.lzo_compress(p->data, p->len, c->work, &zlen, c->lzo_wmem) !=
          LZO_E_OK)
    return 0;
  if (c->adaptive) {
    c->ac_total += (int64_t)p->len;
    c->ac_comp += (int64_t)zlen;
  }
  return zlen;
}

int lvpn__compress(lvpn__compress_t *c, lvpn__pbuf_t *p, uint64_t now_s) {
  size_t z, hdr;
  uint8_t *b;

  if (!lvpn__comp_is_real(c->mode))
    return lvpn__comp_frame(c->mode, p);
  if (p->len == 0)
    return 0;
  z = try_compress(c, p, now_s);
  hdr = c->mode == LVPN__COMP_LZ4_V2 ? 2 : 0; /* v2 counts its header */
  if (z == 0 || z + hdr >= p->len) {          /* not worth it: framing only */
    if (c->mode == LVPN__COMP_LZ4)
      return lvpn__comp_frame(LVPN__COMP_STUB, p);
    if (c->mode == LVPN__COMP_LZ4_V2)
      return lvpn__comp_frame(LVPN__COMP_STUB_V2, p);
    return lvpn__comp_frame(LVPN__COMP_LZO_NO, p);
  }
  memcpy(p->data, c->work, z);
  p->len = z;
  c->compressed++;
  switch (c->mode) {
  case LVPN__COMP_LZ4: /* header byte in front, first byte to the end */
    if ((b = lvpn__pbuf_put(p, 1)) == NULL)
      return LVPN_ETOOBIG;
    *b = p->data[0];
    p->data[0] = LZ4_COMPRESS_BYTE;
    return 0;
  case LVPN__COMP_LZ4_V2:
    if ((b = lvpn__pbuf_push(p, 2)) == NULL)
      return LVPN_ETOOBIG;
    b[0] = V2_INDICATOR;
    b[1] = V2_LZ4;
    return 0;
  default:
    if ((b = lvpn__pbuf_push(p, 1)) == NULL)
      return LVPN_ETOOBIG;
    b[0] = LZO_COMPRESS_BYTE;
    return 0;
  }
}

/* Decompresses p's payload (the algorithm's stream, header removed) and
 * puts the result back into p at the standard headroom. */
static int inflate(lvpn__compress_t *c, lvpn__pbuf_t *p, bool lz4) {
  size_t out;
  if (lz4) {
    /* The work buffer is larger than the limit so that an oversized result
     * can be told from a corrupt stream. */
    int r = api.lz4_decompress((const char *)p->data, (char *)c->work,
                                (int)p->len, (int)LVPN__COMP_WORK_LEN);
    if (r < 0) {
      c->drop_corrupt++;
      return LVPN_ECOMPRESSION;
    }
    out = (size_t)r;
  } else {
    lzo_uint n = LVPN__COMP_WORK_LEN;
    int r = api.lzo_decompress(p->data, p->len, c->work, &n, NULL);
    if (r == LZO_E_OUTPUT_OVERRUN) {
      c->drop_oversize++;
      return LVPN_ECOMPRESSION;
    }
    if (r != LZO_E_OK) {
      c->drop_corrupt++;
      return LVPN_ECOMPRESSION;
    }
    out = n;
  }
  if (out > LVPN__COMP_MAX_OUT) {
    c->drop_oversize++;
    return LVPN_ECOMPRESSION;
  }
  p->data = p->buf + LVPN_PBUF_HEADROOM;
  memcpy(p->data, c->work, out);
  p->len = out;
  c->decompressed++;
  return 0;
}

static int bad_header(lvpn__compress_t *c) {
  c->drop_header++;
  return LVPN_ECOMPRESSION;
}

int lvpn__decompress(lvpn__compress_t *c, lvpn__pbuf_t *p) {
  uint8_t h;
  int err;

  if (!lvpn__comp_is_real(c->mode)) {
    err = lvpn__comp_unframe(c->mode, p);
    if (err == LVPN_ECOMPRESSION)
      c->drop_refused++;
    return err;
  }
  if (p->len == 0)
    return 0;
  h = p->data[0];
  switch (c->mode) {
  case LVPN__COMP_LZ4: /* undo the swap first */
    p->data[0] = p->data[p->len - 1];
    p->len--;
    if (h == NO_COMPRESS_BYTE_SWAP)
      return 0;
    if (h != LZ4_COMPRESS_BYTE)
      return bad_header(c);
    return inflate(c, p, true);
  case LVPN__COMP_LZ4_V2:
    if (h != V2_INDICATOR)
      return 0;
    if (p->len < 2)
      return bad_header(c);
    h = p->data[1];
    lvpn__pbuf_pull(p, 2);
    if (h == V2_UNCOMPRESSED || h == V2_UNCOMPRESSED_ALG)
      return 0;
    if (h != V2_LZ4)
      return bad_header(c);
    return inflate(c, p, true);
  default: /* LZO, LZO adaptive */
    lvpn__pbuf_pull(p, 1);
    if (h == NO_COMPRESS_BYTE)
      return 0;
    if (h != LZO_COMPRESS_BYTE)
      return bad_header(c);
    return inflate(c, p, false);
  }
}

bool lvpn__comp_real_allowed(int cfg_comp, int allow, bool allow_set) {
  if (allow_set)
    return allow != LVPN__ALLOW_COMP_NO;
  return cfg_comp != LVPN__COMP_NONE && cfg_comp != LVPN__COMP_LZO_NO;
}

bool lvpn__comp_advertise_real(int cfg_comp, int allow, bool allow_set) {
  return lvpn__comp_real_allowed(cfg_comp, allow, allow_set) &&
         cfg_comp != LVPN__COMP_STUB && cfg_comp != LVPN__COMP_STUB_V2;
}
