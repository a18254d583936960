/* Data-channel crypto throughput: encrypt and decrypt N packets in place.
 *
 *   bench/dc_crypto_bench [cipher [packets [size]]]
 *   (defaults: AES-256-GCM, 200000, 1400; cipher "all": every data cipher)
 *
 * Times each direction by wall clock and by this thread's CPU time: on a
 * shared, loaded machine the CPU time (and GB/s per CPU-second) is the figure
 * to compare. Decryption runs over batches of 64 packets encrypted just
 * before (untimed), so only lvpn__dc_decrypt is on the clock.
 *
 * Prints, does not assert. Build from the top directory with:
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -include config.h -I include -I . \
 *     -o bench/dc_crypto_bench bench/dc_crypto_bench.c \
 *     layers/datachannel/crypto.c layers/datachannel/cipher_gcrypt.c \
 *     layers/datachannel/kdf.c lib/pbuf.c lib/error.c \
 *     -lgcrypt -lmbedtls -lmbedx509 -lmbedcrypto -luv
 * (in a tree configured --with-dc-crypto=evp: cipher_evp.c, -lcrypto;
 * --with-dc-crypto=mbedtls: cipher_mbedtls.c, nothing more to link)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "layers/datachannel/crypto.h"
#include "layers/datachannel/kdf.h"
#include "layervpn.h"
#include "lib/pbuf.h"

#define BATCH 64

typedef struct clocks_s {
  double wall, cpu;
} clocks_t;

static clocks_t now(void) {
  struct timespec w, c;
  clock_gettime(CLOCK_MONOTONIC, &w);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
  return (clocks_t){(double)w.tv_sec + (double)w.tv_nsec / 1e9,
                    (double)c.tv_sec + (double)c.tv_nsec / 1e9};
}

static void add_since(clocks_t *acc, clocks_t t0) {
  clocks_t t1 = now();
  acc->wall += t1.wall - t0.wall;
  acc->cpu += t1.cpu - t0.cpu;
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

static void report(const char *cipher, const char *what, long n, size_t size,
                   clocks_t t) {
  double bytes = (double)n * (double)size;
  printf("%-18s %-7s %8ld pkts  wall %6.3f s  cpu %6.3f s  %9.0f pkts/cpu-s"
         "  %6.3f GB/cpu-s  %6.3f cpu-s/GB  (wall %6.3f GB/s)\n",
         cipher, what, n, t.wall, t.cpu, (double)n / t.cpu, bytes / t.cpu / 1e9,
         t.cpu / (bytes / 1e9), bytes / t.wall / 1e9);
}

static void fill(lvpn__pbuf_t *p, size_t size) {
  lvpn__pbuf_reset(p, LVPN_PBUF_HEADROOM);
  p->len = size;
}

static int bench(const char *cipher, long n, size_t size) {
  uint8_t key2[256], inv[256];
  lvpn__dc_key_t cli, srv;
  lvpn__pbuf_pool_t pool;
  lvpn__pbuf_t *p[BATCH];
  unsigned ctr = 0;
  clocks_t tenc = {0, 0}, tdec = {0, 0}, t0;
  long i, done;
  int rc, j, b;

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
  lvpn__pbuf_pool_init(&pool, BATCH);
  for (j = 0; j < BATCH; j++) {
    p[j] = lvpn__pbuf_alloc(&pool);
    memset(lvpn__pbuf_put(p[j], size), 0x45, size);
  }

  t0 = now();
  for (i = 0; i < n; i++) { /* the buffer's bytes change; its size does not */
    fill(p[0], size);
    if (lvpn__dc_encrypt(&cli, p[0], 1) != 0)
      return 1;
  }
  add_since(&tenc, t0);

  for (done = 0; done < n; done += b) {
    b = n - done < BATCH ? (int)(n - done) : BATCH;
    for (j = 0; j < b; j++) {
      fill(p[j], size);
      if (lvpn__dc_encrypt(&srv, p[j], 1) != 0)
        return 1;
    }
    t0 = now();
    for (j = 0; j < b; j++)
      if (lvpn__dc_decrypt(&cli, p[j]) != 0)
        return 1;
    add_since(&tdec, t0);
  }
  report(cipher, "encrypt", n, size, tenc);
  report(cipher, "decrypt", n, size, tdec);

  for (j = 0; j < BATCH; j++)
    lvpn__pbuf_free(p[j]);
  lvpn__pbuf_pool_destroy(&pool);
  lvpn__dc_key_free(&cli);
  lvpn__dc_key_free(&srv);
  return 0;
}

int main(int argc, char **argv) {
  static const char *const all[] = {"AES-128-GCM",       "AES-192-GCM",
                                    "AES-256-GCM",       "CHACHA20-POLY1305",
                                    "AES-128-CBC",       "AES-256-CBC"};
  const char *cipher = argc > 1 ? argv[1] : "AES-256-GCM";
  long n = argc > 2 ? atol(argv[2]) : 200000;
  size_t size = argc > 3 ? (size_t)atol(argv[3]) : 1400, i;
  int rc = 0;

  if (n <= 0 || size == 0 || size > 1600) {
    fprintf(stderr, "usage: %s [cipher|all [packets [size<=1600]]]\n",
            argv[0]);
    return 2;
  }
  printf("%zu-byte payloads, %ld packets each way (HMAC SHA256 for CBC), %s\n",
         size, n, lvpn__dcc_backend());
  if (strcasecmp(cipher, "all") != 0)
    return bench(cipher, n, size);
  for (i = 0; i < sizeof(all) / sizeof(all[0]) && rc == 0; i++)
    rc = bench(all[i], n, size);
  return rc;
}
