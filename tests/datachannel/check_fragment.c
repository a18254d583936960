/* layers/datachannel/fragment.c: OpenVPN 2.6's data-channel fragment
 * header, split and reassembly (in any order), the TTL, and every malformed
 * or oversized piece dropped and counted. */
#include <check.h>
#include <string.h>

#include "layers/datachannel/fragment.h"
#include "layervpn.h"
#include "lib/bytes.h"
#include "tests/fakes.h"

static lvpn__pbuf_pool_t pool;
static lvpn__fragment_t tx, rx;

static void setup(void) {
  lvpn__pbuf_pool_init(&pool, 64);
  memset(&tx, 0, sizeof(tx));
  memset(&rx, 0, sizeof(rx));
  ck_assert_int_eq(lvpn__fragment_setup(&tx, 972, 41), 0);
  ck_assert_int_eq(lvpn__fragment_setup(&rx, 972, 0), 0);
}

static void teardown(void) {
  lvpn__fragment_free(&tx);
  lvpn__fragment_free(&rx);
  lvpn__pbuf_pool_destroy(&pool);
}

static lvpn__pbuf_t *packet(size_t len, uint8_t salt) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&pool);
  uint8_t *d;
  size_t i;
  ck_assert_ptr_nonnull(p);
  d = lvpn__pbuf_put(p, len);
  ck_assert_ptr_nonnull(d);
  for (i = 0; i < len; i++)
    d[i] = (uint8_t)(i * 7 + salt);
  return p;
}

static void check_payload(const lvpn__pbuf_t *p, size_t len, uint8_t salt) {
  size_t i;
  ck_assert_uint_eq(p->len, len);
  for (i = 0; i < len; i++)
    ck_assert_uint_eq(p->data[i], (uint8_t)(i * 7 + salt));
}

/* A piece with a hand-made header and `len` bytes of filler. */
static lvpn__pbuf_t *raw(uint32_t hdr, size_t len) {
  lvpn__pbuf_t *p = packet(len + 4, 0);
  lvpn__put_u32(p->data, hdr);
  return p;
}

/* Feeds p to rx: returns the result and frees p unless it holds a packet. */
static int feed(lvpn__pbuf_t *p, uint64_t now) {
  int rc = lvpn__fragment_incoming(&rx, p, now);
  if (rc != 0)
    lvpn__pbuf_free(p);
  return rc;
}

/* The bit layout of fragment.h (OpenVPN's FRAG_* masks and shifts). */
START_TEST(test_fragment_header_layout) {
  ck_assert_uint_eq(lvpn__fragment_header(LVPN__FRAG_WHOLE, 0, 0, 0), 0);
  ck_assert_uint_eq(lvpn__fragment_header(LVPN__FRAG_NOTLAST, 5, 2, 1000),
                    1u | 5u << 2 | 2u << 10);
  ck_assert_uint_eq(lvpn__fragment_header(LVPN__FRAG_LAST, 255, 31, 1000),
                    2u | 255u << 2 | 31u << 10 | 250u << 15);
  /* optimal_fragment_size: 1400 bytes in two even pieces of 700 */
  ck_assert_uint_eq(lvpn__fragment_optimal_size(1400, 972), 700);
  ck_assert_uint_eq(lvpn__fragment_optimal_size(1900, 972), 972);
  ck_assert_uint_eq(lvpn__fragment_optimal_size(972 * 2, 974), 972);
  ck_assert_uint_eq(lvpn__fragment_optimal_size(100, 2), 0);
}
END_TEST

/* Short packets get a WHOLE header; the receiver strips it. */
START_TEST(test_fragment_whole_passes) {
  lvpn__pbuf_t *out[LVPN__FRAG_MAX_FRAGS], *p = packet(972, 3);
  size_t n;
  ck_assert_int_eq(lvpn__fragment_split(&tx, p, &pool, out, &n), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_ptr_eq(out[0], p);
  ck_assert_uint_eq(p->len, 976);
  ck_assert_uint_eq(lvpn__get_u32(p->data), 0);
  ck_assert_int_eq(lvpn__fragment_incoming(&rx, p, 1), 0);
  check_payload(p, 972, 3);
  ck_assert_uint_eq(rx.rx_whole, 1);
  lvpn__pbuf_free(p);
}
END_TEST

/* Split, then reassemble in order, reversed and interleaved with another
 * packet; sizes from two pieces to the 32-piece maximum. */
START_TEST(test_fragment_roundtrip_any_order) {
  static const size_t lens[] = {973, 1400, 1500, 1888, 1600};
  lvpn__pbuf_t *a[LVPN__FRAG_MAX_FRAGS], *b[LVPN__FRAG_MAX_FRAGS];
  size_t na, nb, i, k;
  int rc;
  for (k = 0; k < FAKE_COUNT(lens); k++) {
    ck_assert_int_eq(
        lvpn__fragment_split(&tx, packet(lens[k], (uint8_t)k), &pool, a, &na),
        0);
    ck_assert_int_eq(lvpn__fragment_split(&tx, packet(lens[k] - 1, 9), &pool,
                                          b, &nb),
                     0);
    ck_assert_uint_ge(na, 2);
    for (i = 0; i < na; i++) /* every piece within the limit */
      ck_assert_uint_le(a[i]->len, 972 + 4);
    /* a reversed, b in order, interleaved */
    for (i = 0; i < na || i < nb; i++) {
      if (i < na) {
        rc = lvpn__fragment_incoming(&rx, a[na - 1 - i], 100);
        if (i + 1 < na) {
          ck_assert_int_eq(rc, LVPN__FRAG_PENDING);
          lvpn__pbuf_free(a[na - 1 - i]);
        } else {
          ck_assert_int_eq(rc, 0);
          check_payload(a[0], lens[k], (uint8_t)k);
          lvpn__pbuf_free(a[0]);
        }
      }
      if (i < nb) {
        rc = lvpn__fragment_incoming(&rx, b[i], 100);
        if (i + 1 < nb) {
          ck_assert_int_eq(rc, LVPN__FRAG_PENDING);
          lvpn__pbuf_free(b[i]);
        } else {
          ck_assert_int_eq(rc, 0);
          check_payload(b[i], lens[k] - 1, 9);
          lvpn__pbuf_free(b[i]);
        }
      }
    }
  }
  /* (972 bytes, the second of the first pair, went whole) */
  ck_assert_uint_eq(rx.rx_reassembled, 2 * FAKE_COUNT(lens) - 1);
  ck_assert_uint_eq(rx.rx_whole, 1);
  /* 32 pieces is the most a packet may take */
  lvpn__fragment_free(&tx);
  ck_assert_int_eq(lvpn__fragment_setup(&tx, 48, 0), 0);
  ck_assert_int_eq(lvpn__fragment_split(&tx, packet(48 * 32, 1), &pool, a, &na),
                   0);
  ck_assert_uint_eq(na, 32);
  for (i = 0; i < na; i++)
    ck_assert_int_eq(feed(a[i], 5), i + 1 < na ? LVPN__FRAG_PENDING : 0);
  check_payload(a[na - 1], 48 * 32, 1);
  lvpn__pbuf_free(a[na - 1]);
}
END_TEST

/* A packet that needs more than 32 pieces is refused and counted; p is
 * still the caller's and nothing was allocated. */
START_TEST(test_fragment_too_many_pieces) {
  lvpn__pbuf_t *out[LVPN__FRAG_MAX_FRAGS], *p;
  size_t n;
  lvpn__fragment_free(&tx);
  ck_assert_int_eq(lvpn__fragment_setup(&tx, 40, 0), 0);
  p = packet(40 * 32 + 1, 0);
  ck_assert_int_eq(lvpn__fragment_split(&tx, p, &pool, out, &n), LVPN_ETOOBIG);
  ck_assert_uint_eq(tx.drop_too_big, 1);
  ck_assert_uint_eq(pool.outstanding, 1);
  lvpn__pbuf_free(p);
  ck_assert_int_eq(lvpn__fragment_setup(&tx, 3, 0), LVPN_EINVAL);
}
END_TEST

/* Malformed or oversized pieces: dropped, counted, nothing delivered. */
START_TEST(test_fragment_malformed_dropped) {
  lvpn__pbuf_t *p = packet(3, 0);
  ck_assert_int_eq(feed(p, 1), LVPN_EPROTO); /* no header */
  /* WHOLE with a sequence id or fragment id */
  ck_assert_int_eq(feed(raw(1u << 2, 10), 1), LVPN_EPROTO);
  ck_assert_int_eq(feed(raw(1u << 10, 10), 1), LVPN_EPROTO);
  /* FRAG_TEST */
  ck_assert_int_eq(feed(raw(3, 10), 1), LVPN_EPROTO);
  /* NOTLAST of a size not a multiple of 4, or empty */
  ck_assert_int_eq(feed(raw(lvpn__fragment_header(1, 1, 0, 0), 10), 1),
                   LVPN_EPROTO);
  ck_assert_int_eq(feed(raw(lvpn__fragment_header(1, 1, 0, 0), 0), 1),
                   LVPN_EPROTO);
  /* LAST with size 0, or longer than its size */
  ck_assert_int_eq(feed(raw(lvpn__fragment_header(2, 1, 1, 0), 8), 1),
                   LVPN_EPROTO);
  ck_assert_int_eq(feed(raw(lvpn__fragment_header(2, 1, 1, 8), 12), 1),
                   LVPN_EPROTO);
  ck_assert_uint_eq(rx.drop_malformed, 8);
  /* beyond the reassembly buffer */
  ck_assert_int_eq(feed(raw(lvpn__fragment_header(1, 2, 31, 0), 100), 1),
                   LVPN_ETOOBIG);
  ck_assert_int_eq(
      feed(raw(lvpn__fragment_header(2, 2, 2, 0xFFFC), 100), 1),
      LVPN_ETOOBIG);
  ck_assert_uint_eq(rx.drop_oversize, 2);
  /* a NOTLAST past the LAST one: the packet is dropped when "complete" */
  ck_assert_int_eq(feed(raw(lvpn__fragment_header(1, 3, 3, 0), 8), 1),
                   LVPN__FRAG_PENDING);
  ck_assert_int_eq(feed(raw(lvpn__fragment_header(1, 3, 0, 0), 8), 1),
                   LVPN__FRAG_PENDING);
  ck_assert_int_eq(feed(raw(lvpn__fragment_header(2, 3, 1, 8), 4), 1),
                   LVPN_EPROTO);
  ck_assert_uint_eq(rx.rx_reassembled, 0);
  ck_assert_uint_eq(pool.outstanding, 0);
}
END_TEST

/* An incomplete packet expires FRAG_TTL_SEC after its last piece; a piece
 * arriving later starts over and does not complete it. */
START_TEST(test_fragment_ttl_expires) {
  lvpn__pbuf_t *out[LVPN__FRAG_MAX_FRAGS];
  size_t n;
  ck_assert_int_eq(lvpn__fragment_split(&tx, packet(1500, 2), &pool, out, &n),
                   0);
  ck_assert_uint_eq(n, 2);
  ck_assert_int_eq(feed(out[0], 100), LVPN__FRAG_PENDING);
  lvpn__fragment_reap(&rx, 109);
  ck_assert_uint_eq(rx.drop_expired, 0);
  lvpn__fragment_reap(&rx, 110);
  ck_assert_uint_eq(rx.drop_expired, 1);
  ck_assert_int_eq(feed(out[1], 111), LVPN__FRAG_PENDING);
  ck_assert_uint_eq(rx.rx_reassembled, 0);
}
END_TEST

/* The sequence window: 25 packets in flight; an id far ahead starts over,
 * ids wrap at 256. */
START_TEST(test_fragment_sequence_window) {
  lvpn__pbuf_t *first[LVPN__FRAG_MAX_FRAGS], *out[LVPN__FRAG_MAX_FRAGS];
  size_t n, nf, i;
  tx.out_seq = 250; /* wraps during the test */
  ck_assert_int_eq(
      lvpn__fragment_split(&tx, packet(1500, 1), &pool, first, &nf), 0);
  ck_assert_int_eq(feed(first[0], 1), LVPN__FRAG_PENDING);
  for (i = 0; i < 24; i++) { /* 24 newer packets still leave room */
    ck_assert_int_eq(
        lvpn__fragment_split(&tx, packet(1500, 2), &pool, out, &n), 0);
    ck_assert_int_eq(feed(out[0], 1), LVPN__FRAG_PENDING);
    lvpn__pbuf_free(out[1]);
  }
  ck_assert_int_eq(feed(first[1], 1), 0);
  check_payload(first[1], 1500, 1);
  lvpn__pbuf_free(first[1]);
  /* one more pushes the oldest out of the window */
  ck_assert_int_eq(lvpn__fragment_split(&tx, packet(1500, 1), &pool, first, &nf),
                   0);
  ck_assert_int_eq(feed(first[0], 1), LVPN__FRAG_PENDING);
  for (i = 0; i < 25; i++) {
    ck_assert_int_eq(
        lvpn__fragment_split(&tx, packet(1500, 2), &pool, out, &n), 0);
    lvpn__pbuf_free(out[0]);
    lvpn__pbuf_free(out[1]);
  }
  ck_assert_int_eq(
      lvpn__fragment_split(&tx, packet(1500, 2), &pool, out, &n), 0);
  ck_assert_int_eq(feed(out[0], 1), LVPN__FRAG_PENDING);
  lvpn__pbuf_free(out[1]);
  /* the first packet fell out of the window: its last piece starts over */
  ck_assert_int_eq(feed(first[1], 1), LVPN__FRAG_PENDING);
}
END_TEST

LVPN_TEST_MAIN("datachannel_fragment", 60, setup, teardown,
               test_fragment_header_layout, test_fragment_whole_passes,
               test_fragment_roundtrip_any_order, test_fragment_too_many_pieces,
               test_fragment_malformed_dropped, test_fragment_ttl_expires,
               test_fragment_sequence_window)
