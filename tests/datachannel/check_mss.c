/* layers/datachannel/mss.c: TCP MSS clamping on IPv4 and IPv6 SYNs (the
 * checksum recomputed from scratch must match the incremental update), and
 * OpenVPN 2.6's fragment/mssfix/link-mtu arithmetic. */
#include <check.h>
#include <string.h>

#include "layers/datachannel/mss.h"
#include "lib/bytes.h"
#include "tests/fakes.h"

static void setup(void) {}
static void teardown(void) {}

/* Linux's SYN options: MSS, SACK_PERM, timestamps, NOP, window scale. */
static const uint8_t linux_opts[20] = {2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 1,
                                       2, 3, 0,    0,    0, 0, 1, 3, 3, 7};

/* The TCP checksum of the segment at pkt+off, computed from scratch. */
static uint16_t tcp_csum(const uint8_t *pkt, size_t len, int v6) {
  uint8_t tmp[1600];
  size_t off = v6 ? 40 : (size_t)(pkt[0] & 15) * 4, tl = len - off;
  uint32_t s = 0;
  memcpy(tmp, pkt + off, tl);
  tmp[16] = tmp[17] = 0;
  if (v6)
    s = fake_sum16(pkt + 8, 32, 0);
  else
    s = fake_sum16(pkt + 12, 8, 0);
  s += 6 + (uint32_t)tl;
  return fake_csum_fold(fake_sum16(tmp, tl, s));
}

/* An IPv4 (or IPv6) TCP segment with flags and options `opts`, and a few
 * payload bytes; its checksum is correct. */
static size_t build(uint8_t *pkt, int v6, uint8_t flags, const uint8_t *opts,
                    size_t olen) {
  size_t ip = v6 ? 40 : 20, tl = 20 + olen + 3, i;
  uint8_t *t = pkt + ip;
  memset(pkt, 0, ip + tl);
  if (v6) {
    pkt[0] = 0x60;
    lvpn__put_u16(pkt + 4, (uint16_t)tl);
    pkt[6] = 6;
    pkt[7] = 64;
    for (i = 0; i < 32; i++) /* 2001:2::... addresses */
      pkt[8 + i] = (uint8_t)(i % 16 == 0 ? 0x20 : i % 16 == 1 ? 0x01 : i);
  } else {
    pkt[0] = 0x45;
    lvpn__put_u16(pkt + 2, (uint16_t)(ip + tl));
    lvpn__put_u16(pkt + 6, 0x4000); /* DF */
    pkt[8] = 64;
    pkt[9] = 6;
    memcpy(pkt + 12, (const uint8_t[]){198, 18, 0, 2, 198, 18, 0, 1}, 8);
  }
  lvpn__put_u16(t, 40000);
  lvpn__put_u16(t + 2, 80);
  lvpn__put_u32(t + 4, 0x12345678);
  t[12] = (uint8_t)((20 + olen) / 4 << 4);
  t[13] = flags;
  lvpn__put_u16(t + 14, 64240);
  memcpy(t + 20, opts, olen);
  memcpy(t + 20 + olen, "abc", 3);
  lvpn__put_u16(t + 16, tcp_csum(pkt, ip + tl, v6));
  return ip + tl;
}

static unsigned mss_of(const uint8_t *pkt, int v6, size_t at) {
  return lvpn__get_u16(pkt + (v6 ? 40 : 20) + 20 + at + 2);
}

START_TEST(test_mss_clamps_ipv4_and_ipv6_syn) {
  uint8_t pkt[200];
  size_t n;
  int v6;
  for (v6 = 0; v6 < 2; v6++) {
    n = build(pkt, v6, 0x02, linux_opts, sizeof(linux_opts)); /* SYN */
    ck_assert_int_eq(lvpn__mss_clamp(pkt, n, 1400), 1);
    ck_assert_uint_eq(mss_of(pkt, v6, 0), v6 ? 1380 : 1400);
    ck_assert_uint_eq(lvpn__get_u16(pkt + (v6 ? 40 : 20) + 16),
                      tcp_csum(pkt, n, v6));
    n = build(pkt, v6, 0x12, linux_opts, sizeof(linux_opts)); /* SYN-ACK */
    ck_assert_int_eq(lvpn__mss_clamp(pkt, n, 1300), 1);
    ck_assert_uint_eq(mss_of(pkt, v6, 0), v6 ? 1280 : 1300);
    ck_assert_uint_eq(lvpn__get_u16(pkt + (v6 ? 40 : 20) + 16),
                      tcp_csum(pkt, n, v6));
  }
}
END_TEST

/* An MSS option at an odd offset (after one NOP) enters the checksum
 * byte-swapped; the incremental update must still be exact. */
START_TEST(test_mss_odd_offset_checksum) {
  static const uint8_t opts[8] = {1, 2, 4, 0x23, 0x45, 1, 1, 0};
  uint8_t pkt[200];
  size_t n = build(pkt, 0, 0x02, opts, sizeof(opts));
  ck_assert_int_eq(lvpn__mss_clamp(pkt, n, 1357), 1);
  ck_assert_uint_eq(lvpn__get_u16(pkt + 20 + 20 + 3), 1357);
  ck_assert_uint_eq(lvpn__get_u16(pkt + 20 + 16), tcp_csum(pkt, n, 0));
}
END_TEST

START_TEST(test_mss_leaves_others_alone) {
  static const uint8_t small[4] = {2, 4, 0x02, 0x18}; /* MSS 536 */
  static const uint8_t bad_len[8] = {2, 5, 0x05, 0xB4, 0, 0, 0, 0};
  static const uint8_t zero_len[4] = {8, 0, 0, 0};
  uint8_t pkt[200] = {0}, copy[200];
  size_t n;
#define SAME(expr)                                                             \
  do {                                                                         \
    memcpy(copy, pkt, sizeof(pkt));                                            \
    ck_assert_int_eq(expr, 0);                                                 \
    ck_assert_mem_eq(copy, pkt, sizeof(pkt));                                  \
  } while (0)
  n = build(pkt, 0, 0x10, linux_opts, sizeof(linux_opts)); /* ACK only */
  SAME(lvpn__mss_clamp(pkt, n, 1000));
  n = build(pkt, 0, 0x02, small, sizeof(small)); /* already smaller */
  SAME(lvpn__mss_clamp(pkt, n, 1000));
  n = build(pkt, 0, 0x02, bad_len, sizeof(bad_len));
  SAME(lvpn__mss_clamp(pkt, n, 1000));
  n = build(pkt, 0, 0x02, zero_len, sizeof(zero_len));
  SAME(lvpn__mss_clamp(pkt, n, 1000));
  n = build(pkt, 0, 0x02, linux_opts, sizeof(linux_opts));
  SAME(lvpn__mss_clamp(pkt, n, 0));         /* mssfix 0 */
  SAME(lvpn__mss_clamp(pkt, n - 1, 1000));  /* truncated: tot_len differs */
  SAME(lvpn__mss_clamp(pkt, 30, 1000));
  pkt[9] = 17; /* UDP */
  SAME(lvpn__mss_clamp(pkt, n, 1000));
  pkt[9] = 6;
  lvpn__put_u16(pkt + 6, 0x0010); /* a later IP fragment */
  SAME(lvpn__mss_clamp(pkt, n, 1000));
  n = build(pkt, 1, 0x02, linux_opts, sizeof(linux_opts));
  pkt[6] = 0; /* hop-by-hop header first: not followed */
  SAME(lvpn__mss_clamp(pkt, n, 1000));
  pkt[6] = 6;
  SAME(lvpn__mss_clamp(pkt, n + 1, 1000));
  n = build(pkt, 0, 0x02, linux_opts, sizeof(linux_opts));
  pkt[20 + 12] = 0xF0; /* data offset beyond the packet */
  SAME(lvpn__mss_clamp(pkt, n, 1000));
  pkt[0] = 0x55; /* neither IPv4 nor IPv6 */
  SAME(lvpn__mss_clamp(pkt, n, 1000));
#undef SAME
}
END_TEST

static lvpn__frame_t frame(const char *cipher, int v2, int v6) {
  lvpn__frame_t fr;
  memset(&fr, 0, sizeof(fr));
  lvpn__frame_set_cipher(&fr, cipher, "SHA1", false);
  fr.op_len = v2 ? 4 : 1;
  fr.encap = lvpn__frame_encap(v6, false);
  return fr;
}

/* OpenVPN 2.6 frame_calculate_mssfix / _fragment, worked by hand:
 * AES-GCM P_DATA_V2 costs 4 + 4 (packet id) + 16 (tag) = 24 bytes;
 * AES-CBC/SHA1 4 + 16 (IV) + 20 (HMAC), the packet id and padding inside. */
START_TEST(test_mss_frame_arithmetic) {
  lvpn__frame_t gcm = frame("AES-256-GCM", 1, 0), cbc = frame("AES-256-CBC", 1, 0);
  lvpn__frame_t gcm6 = frame("CHACHA20-POLY1305", 1, 1), none;
  ck_assert_uint_eq(lvpn__frame_header_size(&gcm, false), 24);
  ck_assert_uint_eq(lvpn__frame_header_size(&cbc, false), 40);
  /* mssfix 1492 mtu (the default): 1492 - 28 - 24 - 40 */
  ck_assert_uint_eq(lvpn__frame_mss(&gcm, 1492, true, false), 1400);
  ck_assert_uint_eq(lvpn__frame_mss(&gcm6, 1492, true, false), 1380);
  /* CBC: (1492 - 28 - 40) rounded down to 16, - 1, - 4 id - 40 */
  ck_assert_uint_eq(lvpn__frame_mss(&cbc, 1492, true, false), 1379);
  /* mssfix 1400 (no mtu): the UDP payload bound */
  ck_assert_uint_eq(lvpn__frame_mss(&gcm, 1400, false, false), 1336);
  ck_assert_uint_eq(lvpn__frame_mss(&gcm, 1450, false, true), 1410);
  /* fragment and compression headers count in the payload, so does
   * tun-mtu-extra */
  gcm.fragment = true;
  gcm.comp_hdr = 1;
  gcm.extra_tun = 32;
  ck_assert_uint_eq(lvpn__frame_mss(&gcm, 1000, true, false), 1000 - 52 - 77);
  /* fragment 1000: 1000 - 24 - 4 */
  ck_assert_uint_eq(lvpn__frame_fragment_size(&gcm, 1000, false), 972);
  ck_assert_uint_eq(lvpn__frame_fragment_size(&gcm, 1000, true), 944);
  /* CBC: 1000 - 40 = 960 (a block multiple) - 1 - 4 - 4 */
  ck_assert_uint_eq(lvpn__frame_fragment_size(&cbc, 1000, false), 951);
  ck_assert_uint_eq(lvpn__frame_fragment_size(&gcm, 30, false), 0);
  /* link-mtu: 2.6 counts the OCC extras (IV and block of AEAD; block of
   * CBC); no cipher option means "none": packet id and HMAC only. The
   * stock OpenVPN 2.6.14 client's frame dump (verb 4) with `link-mtu 1500`
   * says tun_mtu:1475, and with `cipher AES-256-CBC` tun_mtu:1447, both
   * with mss_fix:0 (before the server's pushed tun-mtu replaces them). */
  gcm = frame("AES-256-GCM", 0, 0);
  ck_assert_int_eq(lvpn__frame_link_to_tun_mtu(&gcm, 1500), 1500 - 34);
  cbc = frame("AES-128-CBC", 0, 0);
  ck_assert_int_eq(lvpn__frame_link_to_tun_mtu(&cbc, 1500), 1500 - 53);
  none = frame(NULL, 0, 0);
  ck_assert_int_eq(lvpn__frame_link_to_tun_mtu(&none, 1500), 1500 - 25);
}
END_TEST

LVPN_TEST_MAIN("datachannel_mss", 30, setup, teardown,
               test_mss_clamps_ipv4_and_ipv6_syn, test_mss_odd_offset_checksum,
               test_mss_leaves_others_alone, test_mss_frame_arithmetic)
