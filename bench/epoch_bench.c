/* Epoch data format (OpenVPN 2.7 aead-epoch) against the classic 2.6 AEAD
 * format: encrypt + decrypt N packets in place with each, same cipher and
 * payload, and print the CPU cost per GB of each.
 *
 *   bench/epoch_bench [cipher [packets [size]]]
 *   (defaults: AES-256-GCM, 200000, 1400)
 *
 * Prints, does not assert. Build from the top directory with:
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -include config.h -I include -I . \
 *     -o bench/epoch_bench bench/epoch_bench.c layers/datachannel/epoch.c \
 *     layers/datachannel/crypto.c layers/datachannel/kdf.c \
 *     layers/datachannel/cipher_evp.c lib/pbuf.c lib/error.c \
 *     -lmbedtls -lmbedx509 -lmbedcrypto -luv -lcrypto
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layers/datachannel/crypto.h"
#include "layers/datachannel/epoch.h"
#include "layers/datachannel/kdf.h"
#include "layervpn.h"
#include "lib/pbuf.h"

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int no_rng(void *ctx, unsigned char *out, size_t len) {
  (void)ctx;
  memset(out, 0, len);
  return 0;
}

/* One round trip per packet: client encrypts, server decrypts. */
static int run(int epoch, const char *cipher, long n, size_t size,
               lvpn__pbuf_t *p, double *secs) {
  uint8_t key2[256], inv[256];
  lvpn__dc_key_t *cc = calloc(1, sizeof(*cc)), *sc = calloc(1, sizeof(*sc));
  lvpn__epoch_key_t *ce = calloc(1, sizeof(*ce)), *se = calloc(1, sizeof(*se));
  double t0;
  long i;
  int rc;

  for (i = 0; i < 256; i++)
    key2[i] = (uint8_t)(i * 37 + 11);
  lvpn__key2_inverse(key2, inv);
  if (epoch)
    rc = lvpn__epoch_key_init(ce, cipher, key2, 0, 0);
  else
    rc = lvpn__dc_key_init(cc, cipher, NULL, key2, 0, no_rng, NULL);
  if (rc == 0)
    rc = epoch ? lvpn__epoch_key_init(se, cipher, inv, 0, 0)
               : lvpn__dc_key_init(sc, cipher, NULL, inv, 0, no_rng, NULL);
  t0 = cpu_s();
  for (i = 0; rc == 0 && i < n; i++) {
    lvpn__pbuf_reset(p, LVPN_PBUF_HEADROOM);
    p->len = size;
    rc = epoch ? lvpn__epoch_encrypt(ce, p, 1) : lvpn__dc_encrypt(cc, p, 1);
    if (rc == 0)
      rc = epoch ? lvpn__epoch_decrypt(se, p) : lvpn__dc_decrypt(sc, p);
  }
  *secs = cpu_s() - t0;
  lvpn__dc_key_free(cc);
  lvpn__dc_key_free(sc);
  lvpn__epoch_key_free(ce);
  lvpn__epoch_key_free(se);
  free(cc);
  free(sc);
  free(ce);
  free(se);
  return rc;
}

int main(int argc, char **argv) {
  const char *cipher = argc > 1 ? argv[1] : "AES-256-GCM";
  long n = argc > 2 ? atol(argv[2]) : 200000;
  size_t size = argc > 3 ? (size_t)atol(argv[3]) : 1400;
  lvpn__pbuf_pool_t pool;
  lvpn__pbuf_t *p;
  double secs[2];
  int f, rc;

  if (n <= 0 || size == 0 || size > 1600) {
    fprintf(stderr, "usage: %s [cipher [packets [size<=1600]]]\n", argv[0]);
    return 2;
  }
  lvpn__pbuf_pool_init(&pool, 1);
  p = lvpn__pbuf_alloc(&pool);
  memset(lvpn__pbuf_put(p, size), 0x45, size);
  printf("%s, %zu-byte payloads, %ld packets encrypted and decrypted\n", cipher,
         size, n);
  for (f = 0; f < 2; f++) {
    if ((rc = run(f, cipher, n, size, p, &secs[f])) != 0) {
      fprintf(stderr, "%s: %s\n", f ? "epoch" : "classic", lvpn_strerror(rc));
      return 1;
    }
    printf("%-8s %7.3f s CPU  %6.2f s CPU per GB (encrypt + decrypt)\n",
           f ? "epoch" : "classic", secs[f],
           secs[f] / ((double)n * (double)size / 1e9));
  }
  printf("epoch / classic: %.3f\n", secs[1] / secs[0]);
  lvpn__pbuf_free(p);
  lvpn__pbuf_pool_destroy(&pool);
  return 0;
}
