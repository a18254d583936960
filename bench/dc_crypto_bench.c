/* Data-channel crypto throughput: encrypt and decrypt N packets in place.
 *
 *   bench/dc_crypto_bench [cipher [packets [size]]]
 *   (defaults: AES-256-GCM, 200000, 1400)
 *
 * Prints, does not assert. Build from the top directory with:
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -include config.h -I include -I . \
 *     -o bench/dc_crypto_bench bench/dc_crypto_bench.c \
 *     layers/datachannel/crypto.c layers/datachannel/kdf.c lib/pbuf.c lib/error.c \
 *     -lmbedtls -lmbedx509 -lmbedcrypto -luv
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layers/datachannel/crypto.h"
#include "layers/datachannel/kdf.h"
#include "layervpn.h"
#include "lib/pbuf.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Not random: a benchmark needs distinct IVs, not unpredictable ones. */
static int bench_rng(void *ctx, unsigned char *out, size_t len) {
  unsigned *ctr = ctx;
  size_t i;
  (*ctr)++;
  for (i = 0; i < len; i++)
    out[i] = (unsigned char)(*ctr >> (8 * (i % 4)));
  return 0;
}

static void report(const char *what, long n, size_t size, double secs) {
  printf("%-8s %8ld pkts  %7.3f s  %9.0f pkts/s  %8.1f MB/s  %6.0f Mbit/s\n",
         what, n, secs, (double)n / secs, (double)n * (double)size / secs / 1e6,
         (double)n * (double)size * 8 / secs / 1e6);
}

int main(int argc, char **argv) {
  const char *cipher = argc > 1 ? argv[1] : "AES-256-GCM";
  long n = argc > 2 ? atol(argv[2]) : 200000, i;
  size_t size = argc > 3 ? (size_t)atol(argv[3]) : 1400;
  uint8_t key2[256], inv[256];
  lvpn__dc_key_t cli, srv;
  lvpn__pbuf_pool_t pool;
  lvpn__pbuf_t *p;
  unsigned ctr = 0;
  double t0, tdec = 0;
  int rc;

  if (n <= 0 || size == 0 || size > 1600) {
    fprintf(stderr, "usage: %s [cipher [packets [size<=1600]]]\n", argv[0]);
    return 2;
  }
  for (i = 0; i < 256; i++)
    key2[i] = (uint8_t)(i * 37 + 11);
  lvpn__key2_inverse(key2, inv);
  if ((rc = lvpn__dc_key_init(&cli, cipher, "SHA256", key2, 0, bench_rng,
                              &ctr)) != 0 ||
      (rc = lvpn__dc_key_init(&srv, cipher, "SHA256", inv, 0, bench_rng,
                              &ctr)) != 0) {
    fprintf(stderr, "%s: %s\n", cipher, lvpn_strerror(rc));
    return 1;
  }
  lvpn__pbuf_pool_init(&pool, 1);
  p = lvpn__pbuf_alloc(&pool);
  memset(lvpn__pbuf_put(p, size), 0x45, size);

  printf("%s, %zu-byte payloads (HMAC SHA256 if CBC)\n", cipher, size);
  t0 = now_s();
  for (i = 0; i < n; i++) { /* the buffer's bytes change; its size does not */
    lvpn__pbuf_reset(p, LVPN_PBUF_HEADROOM);
    p->len = size;
    if (lvpn__dc_encrypt(&cli, p, 1) != 0)
      return 1;
  }
  report("encrypt", n, size, now_s() - t0);

  for (i = 0; i < n; i++) {
    double t;
    lvpn__pbuf_reset(p, LVPN_PBUF_HEADROOM);
    p->len = size;
    if (lvpn__dc_encrypt(&srv, p, 1) != 0)
      return 1;
    t = now_s();
    if (lvpn__dc_decrypt(&cli, p) != 0)
      return 1;
    tdec += now_s() - t;
  }
  report("decrypt", n, size, tdec);
  printf("pbuf heap allocations: %llu\n", (unsigned long long)pool.allocs);

  lvpn__pbuf_free(p);
  lvpn__pbuf_pool_destroy(&pool);
  lvpn__dc_key_free(&cli);
  lvpn__dc_key_free(&srv);
  return 0;
}
