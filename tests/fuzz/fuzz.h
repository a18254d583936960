/* Shared by the libFuzzer targets in tests/fuzz/ and by gen_corpus.c: the
 * fixed test keys (the unit tests' tlswrap vectors, tests/vectors/
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

/* A 2048-bit OpenVPN static key (tls-auth, tls-crypt). */
static const char fuzz_static_pem[] __attribute__((unused)) =
    "#\n"
    "# 2048 bit OpenVPN static key\n"
    "#\n"
    "-----BEGIN OpenVPN Static key V1-----\n"
    "e438a3c1c035819c1562b82cb31cb19e\n"
    "ee4740fc9780e933c31bf76b80a5a041\n"
    "204d1ac81621f773a600a195b52a1761\n"
    "9f135ff56d8242c5a1b822c2489a5b51\n"
    "29dcf710977e220fd296a16aff95a183\n"
    "946d2d8e0b5e866bdf8c8d4bd9d1e61d\n"
    "005953032219af681e3df8f75e80438b\n"
    "5b9689daca69417489a5f8006c09eb56\n"
    "3bf07781be0c5f061e94f23a2fd62851\n"
    "3f613de73cff015521c4437d8f08bf68\n"
    "32bef832d232f5e68c6847641d47e553\n"
    "ea55bd2387d5387163b7830cce077006\n"
    "8c23853ea8a4a0c328592e80788c5207\n"
    "746238cd43b31450c89f3ddac22b1c4b\n"
    "807052cab1786fa92321109f53d4a692\n"
    "135d1053a43fddba0deed35228168e90\n"
    "-----END OpenVPN Static key V1-----\n";
/* A tls-crypt-v2 client key: Kc (the same 256 bytes) || WKc. */
static const char fuzz_v2_pem[] __attribute__((unused)) =
    "-----BEGIN OpenVPN tls-crypt-v2 client key-----\n"
    "5DijwcA1gZwVYrgssxyxnu5HQPyXgOkzwxv3a4CloEEgTRrIFiH3c6YAoZW1Khdh\n"
    "nxNf9W2CQsWhuCLCSJpbUSnc9xCXfiIP0pahav+VoYOUbS2OC16Ga9+MjUvZ0eYd\n"
    "AFlTAyIZr2gePfj3XoBDi1uWidrKaUF0iaX4AGwJ61Y78HeBvgxfBh6U8jov1ihR\n"
    "P2E95zz/AVUhxEN9jwi/aDK++DLSMvXmjGhHZB1H5VPqVb0jh9U4cWO3gwzOB3AG\n"
    "jCOFPqikoMMoWS6AeIxSB3RiOM1DsxRQyJ892sIrHEuAcFLKsXhvqSMhEJ9T1KaS\n"
    "E10QU6Q/3boN7tNSKBaOkElUzA94Geh1RgPlZCzxH1v6mnCaqBke0UbqaN0M8gvy\n"
    "7YKREC4YspqYpKsYt8UMzLKspr3jN/V7ZHzMGXmklUxGMImp/sybbW/3JyIX7hS8\n"
    "9lIxiQOzjQL0c7TfIoL4Ks22cma9BlEINbqE12sAPG3hLNvXXkr5m5FWtW5ecENA\n"
    "BkbpirLap4YpNWjxUVXcv9X6+GWyKkhUNOoCBt9jEg341OnQl7KfZV/KcJ6MTb9u\n"
    "qFBVNd+dOgXzmC7F5nw+PmnQqUzVus1eR2QLXqWD3tnbKhrL4r7XNZ3p9uxeg0Jn\n"
    "+8jUDLp3f0yqF8xS6kQ9NvNZW6Oug8guuKfYHhRZ2ehJd5CnQhGRUfqpJXTPJHQY\n"
    "4NfyXejCt7BEwJLKiSZiZXwDFQ1M/JTN3xSAuYCfATA=\n"
    "-----END OpenVPN tls-crypt-v2 client key-----\n";
/* The key2 both keys hold (data-channel key material for fuzz_datachannel). */
static const uint8_t fuzz_key2[256] __attribute__((unused)) = {
    0xe4, 0x38, 0xa3, 0xc1, 0xc0, 0x35, 0x81, 0x9c, 0x15, 0x62, 0xb8, 0x2c,
    0xb3, 0x1c, 0xb1, 0x9e, 0xee, 0x47, 0x40, 0xfc, 0x97, 0x80, 0xe9, 0x33,
    0xc3, 0x1b, 0xf7, 0x6b, 0x80, 0xa5, 0xa0, 0x41, 0x20, 0x4d, 0x1a, 0xc8,
    0x16, 0x21, 0xf7, 0x73, 0xa6, 0x00, 0xa1, 0x95, 0xb5, 0x2a, 0x17, 0x61,
    0x9f, 0x13, 0x5f, 0xf5, 0x6d, 0x82, 0x42, 0xc5, 0xa1, 0xb8, 0x22, 0xc2,
    0x48, 0x9a, 0x5b, 0x51, 0x29, 0xdc, 0xf7, 0x10, 0x97, 0x7e, 0x22, 0x0f,
    0xd2, 0x96, 0xa1, 0x6a, 0xff, 0x95, 0xa1, 0x83, 0x94, 0x6d, 0x2d, 0x8e,
    0x0b, 0x5e, 0x86, 0x6b, 0xdf, 0x8c, 0x8d, 0x4b, 0xd9, 0xd1, 0xe6, 0x1d,
    0x00, 0x59, 0x53, 0x03, 0x22, 0x19, 0xaf, 0x68, 0x1e, 0x3d, 0xf8, 0xf7,
    0x5e, 0x80, 0x43, 0x8b, 0x5b, 0x96, 0x89, 0xda, 0xca, 0x69, 0x41, 0x74,
    0x89, 0xa5, 0xf8, 0x00, 0x6c, 0x09, 0xeb, 0x56, 0x3b, 0xf0, 0x77, 0x81,
    0xbe, 0x0c, 0x5f, 0x06, 0x1e, 0x94, 0xf2, 0x3a, 0x2f, 0xd6, 0x28, 0x51,
    0x3f, 0x61, 0x3d, 0xe7, 0x3c, 0xff, 0x01, 0x55, 0x21, 0xc4, 0x43, 0x7d,
    0x8f, 0x08, 0xbf, 0x68, 0x32, 0xbe, 0xf8, 0x32, 0xd2, 0x32, 0xf5, 0xe6,
    0x8c, 0x68, 0x47, 0x64, 0x1d, 0x47, 0xe5, 0x53, 0xea, 0x55, 0xbd, 0x23,
    0x87, 0xd5, 0x38, 0x71, 0x63, 0xb7, 0x83, 0x0c, 0xce, 0x07, 0x70, 0x06,
    0x8c, 0x23, 0x85, 0x3e, 0xa8, 0xa4, 0xa0, 0xc3, 0x28, 0x59, 0x2e, 0x80,
    0x78, 0x8c, 0x52, 0x07, 0x74, 0x62, 0x38, 0xcd, 0x43, 0xb3, 0x14, 0x50,
    0xc8, 0x9f, 0x3d, 0xda, 0xc2, 0x2b, 0x1c, 0x4b, 0x80, 0x70, 0x52, 0xca,
    0xb1, 0x78, 0x6f, 0xa9, 0x23, 0x21, 0x10, 0x9f, 0x53, 0xd4, 0xa6, 0x92,
    0x13, 0x5d, 0x10, 0x53, 0xa4, 0x3f, 0xdd, 0xba, 0x0d, 0xee, 0xd3, 0x52,
    0x28, 0x16, 0x8e, 0x90,
};

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
