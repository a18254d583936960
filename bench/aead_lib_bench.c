/* Which library seals a data-channel packet fastest here? The same per-packet
 * AEAD flow as the data channel (key set up once; per packet: IV, 8 bytes of
 * AD, 1400 bytes in place, tag out) on OpenSSL 3 EVP and on libgcrypt.
 *
 *   bench/aead_lib_bench [packets]     (default 200000)
 *
 * Prints GB per CPU-second of this thread; asserts nothing. Not built by make
 * (libgcrypt is not a dependency). Build from the top directory with:
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -o bench/aead_lib_bench \
 *     bench/aead_lib_bench.c -lcrypto -lgcrypt      (Debian: libgcrypt20-dev)
 */
#include <gcrypt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PKT 1400

static unsigned char buf[PKT], key[32], iv[12], ad[8], tag[16];

static double cpu_s(void) {
  struct timespec c;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
  return (double)c.tv_sec + (double)c.tv_nsec / 1e9;
}

static double evp_run(const char *name, long n) {
  EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, NULL);
  EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
  double t0;
  long i;
  int ol, fl, ok = 1;

  if (c == NULL || x == NULL || !EVP_EncryptInit_ex(x, c, NULL, key, NULL))
    return -1;
  t0 = cpu_s();
  for (i = 0; i < n; i++) {
    iv[0] = (unsigned char)i;
    ok &= EVP_CipherInit_ex(x, NULL, NULL, NULL, iv, -1);
    ok &= EVP_CipherUpdate(x, NULL, &ol, ad, sizeof(ad));
    ok &= EVP_CipherUpdate(x, buf, &ol, buf, PKT);
    ok &= EVP_CipherFinal_ex(x, buf + ol, &fl);
    ok &= EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag);
  }
  t0 = cpu_s() - t0;
  EVP_CIPHER_CTX_free(x);
  EVP_CIPHER_free(c);
  return ok == 1 ? t0 : -1;
}

static double gcry_run(int algo, int mode, size_t klen, long n) {
  gcry_cipher_hd_t h;
  gcry_error_t e = 0;
  double t0;
  long i;

  if (gcry_cipher_open(&h, algo, mode, 0) || gcry_cipher_setkey(h, key, klen))
    return -1;
  t0 = cpu_s();
  for (i = 0; i < n; i++) {
    iv[0] = (unsigned char)i;
    e |= gcry_cipher_setiv(h, iv, sizeof(iv));
    e |= gcry_cipher_authenticate(h, ad, sizeof(ad));
    e |= gcry_cipher_final(h);
    e |= gcry_cipher_encrypt(h, buf, PKT, NULL, 0);
    e |= gcry_cipher_gettag(h, tag, sizeof(tag));
  }
  t0 = cpu_s() - t0;
  gcry_cipher_close(h);
  return e == 0 ? t0 : -1;
}

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    int algo, mode;
    size_t klen;
  } a[] = {{"AES-128-GCM", GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_GCM, 16},
           {"AES-256-GCM", GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 32},
           {"CHACHA20-POLY1305", GCRY_CIPHER_CHACHA20,
            GCRY_CIPHER_MODE_POLY1305, 32}};
  long n = argc > 1 ? atol(argv[1]) : 200000;
  size_t i;

  if (n <= 0 || !gcry_check_version(NULL))
    return 2;
  gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
  printf("%d-byte packets, %ld each; GB per CPU-second\n", PKT, n);
  printf("%-18s %10s %10s   (%s, libgcrypt %s)\n", "", "EVP", "libgcrypt",
         OpenSSL_version(OPENSSL_VERSION), gcry_check_version(NULL));
  for (i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
    double te = evp_run(a[i].name, n);
    double tg = gcry_run(a[i].algo, a[i].mode, a[i].klen, n);
    if (te <= 0 || tg <= 0) {
      fprintf(stderr, "%s: a library failed\n", a[i].name);
      return 1;
    }
    printf("%-18s %10.3f %10.3f\n", a[i].name, (double)n * PKT / te / 1e9,
           (double)n * PKT / tg / 1e9);
  }
  return 0;
}
