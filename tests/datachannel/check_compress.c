/* Data-channel compression: round trips, OpenVPN 2.6's framing bytes (swap
 * for `compress lz4`, prefix for comp-lzo, 0x50 escape for lz4-v2),
 * streams made by the libraries' own encoders, corrupt and oversized input
 * dropped and counted, comp-lzo adaptive, and the allow-compression policy. */
#include <check.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <string.h>

#include "layers/datachannel/compress.h"
#include "layervpn.h"
#include "lib/config.h"
#include "tests/fakes.h"

static lvpn__pbuf_pool_t pool;
static lvpn__compress_t cc;

static void setup(void) {
  lvpn__pbuf_pool_init(&pool, 4);
  memset(&cc, 0, sizeof(cc));
}

static void teardown(void) {
  lvpn__compress_free(&cc);
  lvpn__pbuf_pool_destroy(&pool);
}

static lvpn__pbuf_t *mk(const uint8_t *d, size_t n) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&pool);
  ck_assert_ptr_nonnull(p);
  memcpy(lvpn__pbuf_put(p, n), d, n);
  return p;
}

/* An IPv4-looking, compressible payload of n bytes. */
static void text(uint8_t *b, size_t n) {
  static const char s[] = "GET /index.html HTTP/1.1 Host: 198.19.0.1 ";
  size_t i;
  for (i = 0; i < n; i++)
    b[i] = (uint8_t)s[i % (sizeof(s) - 1)];
  b[0] = 0x45;
}

static void noise(uint8_t *b, size_t n, uint32_t seed) {
  size_t i;
  for (i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    b[i] = (uint8_t)(seed >> 16);
  }
}

static void roundtrip(int mode, bool tx, const uint8_t *d, size_t n,
                      bool expect_compressed) {
  lvpn__pbuf_t *p = mk(d, n);
  uint64_t before = cc.compressed;
  ck_assert_int_eq(lvpn__compress_setup(&cc, mode, tx), 0);
  ck_assert_int_eq(lvpn__compress(&cc, p, 100), 0);
  ck_assert_uint_eq(cc.compressed - before, expect_compressed ? 1 : 0);
  if (expect_compressed)
    ck_assert_uint_lt(p->len, n);
  ck_assert_int_eq(lvpn__decompress(&cc, p), 0);
  ck_assert_uint_eq(p->len, n);
  ck_assert_mem_eq(p->data, d, n);
  lvpn__pbuf_free(p);
}

START_TEST(test_compress_roundtrips) {
  static const int modes[] = {LVPN__COMP_LZO, LVPN__COMP_LZO_ADAPTIVE,
                              LVPN__COMP_LZ4, LVPN__COMP_LZ4_V2};
  uint8_t d[1500];
  size_t i;
  text(d, sizeof(d));
  for (i = 0; i < 4; i++) {
    roundtrip(modes[i], true, d, sizeof(d), true);
    roundtrip(modes[i], false, d, sizeof(d), false); /* asym: framing only */
    roundtrip(modes[i], true, d, 99, false);         /* below threshold */
    roundtrip(modes[i], true, d, 1, false);
    d[0] = 0x50; /* looks like a v2 header: escaped, not misread */
    roundtrip(modes[i], true, d, 60, false);
    roundtrip(modes[i], true, d, sizeof(d), true);
    d[0] = 0x45;
  }
  noise(d, sizeof(d), 7); /* incompressible: sent as is */
  for (i = 0; i < 4; i++)
    roundtrip(modes[i], true, d, sizeof(d), false);
  /* stub modes still go through crypto.c's framing */
  roundtrip(LVPN__COMP_LZO_NO, true, d, 200, false);
  roundtrip(LVPN__COMP_STUB, true, d, 200, false);
  roundtrip(LVPN__COMP_STUB_V2, true, d, 200, false);
  roundtrip(LVPN__COMP_NONE, true, d, 200, false);
}
END_TEST

START_TEST(test_compress_framing_bytes) {
  uint8_t d[400], z[800];
  lvpn__pbuf_t *p;
  int zl;
  text(d, sizeof(d));
  /* comp-lzo: 0x66 prefix + LZO stream; uncompressed 0xFA prefix */
  ck_assert_int_eq(lvpn__compress_setup(&cc, LVPN__COMP_LZO, true), 0);
  p = mk(d, sizeof(d));
  ck_assert_int_eq(lvpn__compress(&cc, p, 0), 0);
  ck_assert_uint_eq(p->data[0], 0x66);
  lvpn__pbuf_free(p);
  ck_assert_int_eq(lvpn__compress_setup(&cc, LVPN__COMP_LZO, false), 0);
  p = mk(d, sizeof(d));
  ck_assert_int_eq(lvpn__compress(&cc, p, 0), 0);
  ck_assert_uint_eq(p->len, sizeof(d) + 1);
  ck_assert_uint_eq(p->data[0], 0xFA);
  ck_assert_mem_eq(p->data + 1, d, sizeof(d));
  lvpn__pbuf_free(p);
  /* compress lz4: 0x69 in front, the stream's first byte moved to the end */
  zl = LZ4_compress_default((const char *)d, (char *)z, sizeof(d), sizeof(z));
  ck_assert_int_gt(zl, 0);
  ck_assert_int_eq(lvpn__compress_setup(&cc, LVPN__COMP_LZ4, true), 0);
  p = mk(d, sizeof(d));
  ck_assert_int_eq(lvpn__compress(&cc, p, 0), 0);
  ck_assert_uint_eq(p->len, (size_t)zl + 1);
  ck_assert_uint_eq(p->data[0], 0x69);
  ck_assert_uint_eq(p->data[zl], z[0]);
  ck_assert_mem_eq(p->data + 1, z + 1, (size_t)zl - 1);
  lvpn__pbuf_free(p);
  ck_assert_int_eq(lvpn__compress_setup(&cc, LVPN__COMP_LZ4, false), 0);
  p = mk(d, sizeof(d));
  ck_assert_int_eq(lvpn__compress(&cc, p, 0), 0);
  ck_assert_uint_eq(p->data[0], 0xFB);
  ck_assert_uint_eq(p->data[sizeof(d)], d[0]);
  lvpn__pbuf_free(p);
  /* lz4-v2: 0x50 0x01 + stream; uncompressed goes as is */
  ck_assert_int_eq(lvpn__compress_setup(&cc, LVPN__COMP_LZ4_V2, true), 0);
  p = mk(d, sizeof(d));
  ck_assert_int_eq(lvpn__compress(&cc, p, 0), 0);
  ck_assert_uint_eq(p->len, (size_t)zl + 2);
  ck_assert_uint_eq(p->data[0], 0x50);
  ck_assert_uint_eq(p->data[1], 0x01);
  ck_assert_mem_eq(p->data + 2, z, (size_t)zl);
  lvpn__pbuf_free(p);
  ck_assert_int_eq(lvpn__compress_setup(&cc, LVPN__COMP_LZ4_V2, false), 0);
  p = mk(d, sizeof(d));
  ck_assert_int_eq(lvpn__compress(&cc, p, 0), 0);
  ck_assert_uint_eq(p->len, sizeof(d));
  ck_assert_mem_eq(p->data, d, sizeof(d));
  lvpn__pbuf_free(p);
}
END_TEST

/* Streams from the libraries' other encoders (the server's LZO uses
 * lzo1x_1_15; lzo1x_1 here) decode. */
START_TEST(test_compress_decodes_foreign_streams) {
  uint8_t d[1400], z[1 + 1400 + 1400 / 16 + 64 + 3];
  static uint8_t wmem[LZO1X_1_MEM_COMPRESS];
  lzo_uint zl = 0;
  lvpn__pbuf_t *p;
  text(d, sizeof(d));
  ck_assert_int_eq(lzo_init(), LZO_E_OK);
  ck_assert_int_eq(lzo1x_1_compress(d, sizeof(d), z + 1, &zl, wmem), LZO_E_OK);
  z[0] = 0x66;
  ck_assert_int_eq(lvpn__compress_setup(&cc, LVPN__COMP_LZO_ADAPTIVE, false),
                   0);
  p = mk(z, zl + 1);
  ck_assert_int_eq(lvpn__decompress(&cc, p), 0);
  ck_assert_uint_eq(p->len, sizeof(d));
  ck_assert_mem_eq(p->data, d, sizeof(d));
  ck_assert_uint_eq(cc.decompressed, 1);
  lvpn__pbuf_free(p);
}
END_TEST

static void expect_drop(int mode, const uint8_t *d, size_t n,
                        uint64_t *counter) {
  uint64_t before = *counter;
  lvpn__pbuf_t *p = mk(d, n);
  ck_assert_int_eq(lvpn__compress_setup(&cc, mode, false), 0);
  ck_assert_int_eq(lvpn__decompress(&cc, p), LVPN_ECOMPRESSION);
  ck_assert_uint_eq(*counter, before + 1);
  lvpn__pbuf_free(p);
}

START_TEST(test_compress_corrupt_and_oversized_dropped) {
  uint8_t big[8000], z[9000], bad[300];
  static uint8_t wmem[LZO1X_1_MEM_COMPRESS];
  lzo_uint zl = 0;
  int l4;

  /* unknown framing bytes */
  memset(bad, 0xAB, sizeof(bad));
  bad[0] = 0x42;
  expect_drop(LVPN__COMP_LZO, bad, 50, &cc.drop_header);
  expect_drop(LVPN__COMP_LZ4, bad, 50, &cc.drop_header);
  bad[0] = 0x50;
  bad[1] = 0x02; /* LZO in v2 framing: OpenVPN 2.6 has no such decoder */
  expect_drop(LVPN__COMP_LZ4_V2, bad, 50, &cc.drop_header);
  expect_drop(LVPN__COMP_LZ4_V2, bad, 1, &cc.drop_header);
  /* corrupt streams */
  bad[0] = 0x66;
  expect_drop(LVPN__COMP_LZO, bad, sizeof(bad), &cc.drop_corrupt);
  expect_drop(LVPN__COMP_LZO, bad, 1, &cc.drop_corrupt);
  bad[0] = 0x69;
  bad[sizeof(bad) - 1] = 0xF0; /* swapped back: a literal run past the end */
  expect_drop(LVPN__COMP_LZ4, bad, sizeof(bad), &cc.drop_corrupt);
  bad[0] = 0x50;
  bad[1] = 0x01;
  bad[2] = 0xF0;
  expect_drop(LVPN__COMP_LZ4_V2, bad, 20, &cc.drop_corrupt);
  /* valid streams that expand beyond a pbuf */
  memset(big, 'A', sizeof(big));
  ck_assert_int_eq(lzo_init(), LZO_E_OK);
  ck_assert_int_eq(lzo1x_1_compress(big, 3000, z + 1, &zl, wmem), LZO_E_OK);
  z[0] = 0x66;
  expect_drop(LVPN__COMP_LZO, z, zl + 1, &cc.drop_oversize);
  ck_assert_int_eq(lzo1x_1_compress(big, sizeof(big), z + 1, &zl, wmem),
                   LZO_E_OK);
  expect_drop(LVPN__COMP_LZO, z, zl + 1, &cc.drop_oversize);
  l4 = LZ4_compress_default((const char *)big, (char *)z + 2, 3000,
                            (int)sizeof(z) - 2);
  z[0] = 0x50;
  z[1] = 0x01;
  expect_drop(LVPN__COMP_LZ4_V2, z, (size_t)l4 + 2, &cc.drop_oversize);
  /* one byte over the limit is too much; the limit itself fits */
  l4 = LZ4_compress_default((const char *)big, (char *)z + 2,
                            LVPN__COMP_MAX_OUT + 1, (int)sizeof(z) - 2);
  expect_drop(LVPN__COMP_LZ4_V2, z, (size_t)l4 + 2, &cc.drop_oversize);
  l4 = LZ4_compress_default((const char *)big, (char *)z + 2,
                            LVPN__COMP_MAX_OUT, (int)sizeof(z) - 2);
  {
    lvpn__pbuf_t *p = mk(z, (size_t)l4 + 2);
    ck_assert_int_eq(lvpn__decompress(&cc, p), 0);
    ck_assert_uint_eq(p->len, LVPN__COMP_MAX_OUT);
    lvpn__pbuf_free(p);
  }
  /* far beyond the work buffer: still dropped (counted as corrupt) */
  l4 = LZ4_compress_default((const char *)big, (char *)z + 2, sizeof(big),
                            (int)sizeof(z) - 2);
  expect_drop(LVPN__COMP_LZ4_V2, z, (size_t)l4 + 2, &cc.drop_corrupt);
  /* a stub mode refuses a compressed payload */
  bad[0] = 0x66;
  expect_drop(LVPN__COMP_LZO_NO, bad, 50, &cc.drop_refused);
}
END_TEST

START_TEST(test_compress_garbage_never_crashes) {
  static const int modes[] = {LVPN__COMP_LZO, LVPN__COMP_LZO_ADAPTIVE,
                              LVPN__COMP_LZ4, LVPN__COMP_LZ4_V2};
  static const uint8_t heads[][2] = {
      {0x66, 0}, {0xFA, 0}, {0x69, 0}, {0xFB, 0}, {0x50, 0x01}, {0x50, 0}};
  uint8_t d[LVPN__COMP_MAX_OUT];
  uint32_t i;
  for (i = 0; i < 20000; i++) {
    size_t n = 1 + i % sizeof(d);
    lvpn__pbuf_t *p;
    int rc;
    noise(d, n, i);
    memcpy(d, heads[i % 6], n >= 2 ? 2 : 1);
    ck_assert_int_eq(lvpn__compress_setup(&cc, modes[i % 4], false), 0);
    p = mk(d, n);
    rc = lvpn__decompress(&cc, p);
    ck_assert(rc == 0 || rc == LVPN_ECOMPRESSION);
    ck_assert_uint_le(p->len, LVPN__COMP_MAX_OUT);
    ck_assert(p->data >= p->buf && p->data + p->len <= p->buf + LVPN_PBUF_CAP);
    lvpn__pbuf_free(p);
  }
}
END_TEST

/* comp-lzo adaptive: a 2-s sample saving under 5% turns compression off for
 * 60 s; a non-adaptive comp-lzo keeps trying. */
START_TEST(test_compress_lzo_adaptive) {
  uint8_t d[1000];
  uint64_t t;
  lvpn__pbuf_t *p;
  noise(d, sizeof(d), 3);
  ck_assert_int_eq(lvpn__compress_setup(&cc, LVPN__COMP_LZO_ADAPTIVE, true),
                   0);
  for (t = 0; t < 10; t++) {
    p = mk(d, sizeof(d));
    ck_assert_int_eq(lvpn__compress(&cc, p, 1000 + t), 0);
    ck_assert_uint_eq(p->data[0], 0xFA);
    lvpn__pbuf_free(p);
  }
  ck_assert(cc.ac_off);
  ck_assert_int_eq(cc.ac_total, 0); /* no attempts counted while off */
  text(d, sizeof(d));
  p = mk(d, sizeof(d)); /* compressible, but still off */
  ck_assert_int_eq(lvpn__compress(&cc, p, 1030), 0);
  ck_assert_uint_eq(p->data[0], 0xFA);
  lvpn__pbuf_free(p);
  p = mk(d, sizeof(d)); /* 60 s later: tries again */
  ck_assert_int_eq(lvpn__compress(&cc, p, 1070), 0);
  ck_assert_uint_eq(p->data[0], 0x66);
  ck_assert(!cc.ac_off);
  lvpn__pbuf_free(p);
  /* comp-lzo yes never backs off */
  noise(d, sizeof(d), 3);
  ck_assert_int_eq(lvpn__compress_setup(&cc, LVPN__COMP_LZO, true), 0);
  for (t = 0; t < 10; t++) {
    p = mk(d, sizeof(d));
    ck_assert_int_eq(lvpn__compress(&cc, p, 1000 + t), 0);
    lvpn__pbuf_free(p);
  }
  ck_assert(!cc.ac_off);
  text(d, sizeof(d));
  p = mk(d, sizeof(d));
  ck_assert_int_eq(lvpn__compress(&cc, p, 1011), 0);
  ck_assert_uint_eq(p->data[0], 0x66);
  lvpn__pbuf_free(p);
}
END_TEST

/* OpenVPN 2.6 options.c: without allow-compression, only a config with real
 * compression accepts it (2.6's stub-only default otherwise); stub configs
 * other than `comp-lzo no` accept a pushed algorithm but advertise stubs. */
START_TEST(test_compress_policy) {
  ck_assert(!lvpn__comp_real_allowed(LVPN__COMP_NONE, 0, false));
  ck_assert(!lvpn__comp_real_allowed(LVPN__COMP_LZO_NO, 0, false));
  ck_assert(lvpn__comp_real_allowed(LVPN__COMP_STUB, 0, false));
  ck_assert(lvpn__comp_real_allowed(LVPN__COMP_LZO_ADAPTIVE, 0, false));
  ck_assert(lvpn__comp_real_allowed(LVPN__COMP_LZ4_V2, 0, false));
  ck_assert(!lvpn__comp_real_allowed(LVPN__COMP_STUB, LVPN__ALLOW_COMP_NO,
                                     true));
  ck_assert(lvpn__comp_real_allowed(LVPN__COMP_NONE, LVPN__ALLOW_COMP_ASYM,
                                    true));
  ck_assert(lvpn__comp_real_allowed(LVPN__COMP_NONE, LVPN__ALLOW_COMP_YES,
                                    true));
  ck_assert(!lvpn__comp_advertise_real(LVPN__COMP_NONE, 0, false));
  ck_assert(!lvpn__comp_advertise_real(LVPN__COMP_STUB, 0, false));
  ck_assert(!lvpn__comp_advertise_real(LVPN__COMP_STUB_V2,
                                       LVPN__ALLOW_COMP_YES, true));
  ck_assert(lvpn__comp_advertise_real(LVPN__COMP_LZO, 0, false));
  ck_assert(lvpn__comp_advertise_real(LVPN__COMP_LZO_NO,
                                      LVPN__ALLOW_COMP_ASYM, true));
  ck_assert_int_eq(lvpn__compress_setup(&cc, 99, false), LVPN_EINVAL);
}
END_TEST

LVPN_TEST_MAIN("datachannel_compress", 60, setup, teardown,
               test_compress_roundtrips, test_compress_framing_bytes,
               test_compress_decodes_foreign_streams,
               test_compress_corrupt_and_oversized_dropped,
               test_compress_garbage_never_crashes, test_compress_lzo_adaptive,
               test_compress_policy)
