/* Shared by the libFuzzer targets in tests/fuzz/ and by gen_corpus.c: the
 * fixed test keys (tests/data/test_keys.h, from tests/vectors/
 * tlswrap_vectors.py), a byte reader over the fuzzer's input, and the one
 * packet pool.
 *
 * Every target is deterministic: all state is rebuilt per input, and the
 * clock is taken from the input, so a crash reproduces from its file. */
#ifndef LVPN_TESTS_FUZZ_FUZZ_H
#define LVPN_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pbuf.h"
#include "tests/data/test_keys.h"

/* A read cursor over the fuzzer's bytes: reads past the end yield zeros
 * and short slices, never an out-of-bounds access. */
typedef struct {
  const uint8_t *p;
  size_t n;
} fuzz_in_t;

static inline uint8_t fuzz_u8(fuzz_in_t *in) {
  uint8_t v = 0;
  if (in->n > 0) {
    v = in->p[0];
    in->p++;
    in->n--;
  }
  return v;
}

static inline uint16_t fuzz_u16(fuzz_in_t *in) {
  uint16_t hi = fuzz_u8(in);
  return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(fuzz_in_t *in) {
  uint32_t hi = fuzz_u16(in);
  return hi << 16 | fuzz_u16(in);
}

/* Up to `want` bytes; *got receives how many. */
static inline const uint8_t *fuzz_bytes(fuzz_in_t *in, size_t want,
                                        size_t *got) {
  const uint8_t *p = in->p;
  if (want > in->n)
    want = in->n;
  in->p += want;
  in->n -= want;
  *got = want;
  return p;
}

/* One pool for every target; buffers are returned before each input ends
 * (fuzz_pool_check aborts otherwise, so a leaked pbuf is a finding even
 * when the pool caches it). */
static lvpn__pbuf_pool_t fuzz_pool __attribute__((unused));
static int fuzz_pool_ready __attribute__((unused));

static inline lvpn__pbuf_t *fuzz_pbuf(const uint8_t *b, size_t n) {
  lvpn__pbuf_t *p;
  if (!fuzz_pool_ready) {
    lvpn__pbuf_pool_init(&fuzz_pool, 16);
    fuzz_pool_ready = 1;
  }
  p = lvpn__pbuf_alloc(&fuzz_pool);
  if (p == NULL)
    abort();
  if (n > lvpn__pbuf_tailroom(p))
    n = lvpn__pbuf_tailroom(p);
  if (n > 0)
    memcpy(lvpn__pbuf_put(p, n), b, n);
  return p;
}

static inline void fuzz_pool_check(void) {
  if (fuzz_pool_ready && fuzz_pool.outstanding != 0)
    abort();
}

#endif
