/* cmd/ping.c: echo requests, reply parsing, ping(8)'s statistics and
 * output. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "tests/fakes.h"
#include "cmd/ping.h"

static ping_echo_t echo_params(size_t size) {
  ping_echo_t e;
  memset(&e, 0, sizeof(e));
  inet_pton(AF_INET, "198.19.0.2", &e.src);
  inet_pton(AF_INET, "198.19.0.1", &e.dst);
  e.id = 0x4c56;
  e.ttl = 64;
  e.size = size;
  return e;
}

static uint16_t csum(const uint8_t *b, size_t n) {
  uint32_t s = 0;
  size_t i;
  for (i = 0; i + 1 < n; i += 2)
    s += (uint32_t)(b[i] << 8 | b[i + 1]);
  if (n & 1)
    s += (uint32_t)b[n - 1] << 8;
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static void fix_sums(uint8_t *pkt, size_t n) {
  uint16_t c;
  pkt[10] = pkt[11] = 0;
  c = csum(pkt, 20);
  pkt[10] = (uint8_t)(c >> 8);
  pkt[11] = (uint8_t)c;
  pkt[22] = pkt[23] = 0;
  c = csum(pkt + 20, n - 20);
  pkt[22] = (uint8_t)(c >> 8);
  pkt[23] = (uint8_t)c;
}

/* What the server sends back: addresses swapped, type 0, its TTL. */
static void make_reply(uint8_t *pkt, size_t n, uint8_t ttl) {
  uint8_t a[4];
  memcpy(a, pkt + 12, 4);
  memcpy(pkt + 12, pkt + 16, 4);
  memcpy(pkt + 16, a, 4);
  pkt[8] = ttl;
  pkt[20] = 0;
  fix_sums(pkt, n);
}

START_TEST(test_ping_build_is_valid_ipv4_icmp) {
  ping_echo_t e = echo_params(56);
  uint8_t pkt[128];
  size_t n = ping_build(&e, 7, 0x0102030405060708ull, pkt, sizeof(pkt));

  ck_assert_uint_eq(n, 84);
  ck_assert_uint_eq(pkt[0], 0x45);
  ck_assert_uint_eq(pkt[2] << 8 | pkt[3], 84);
  ck_assert_uint_eq(pkt[8], 64);
  ck_assert_uint_eq(pkt[9], 1);
  ck_assert_uint_eq(csum(pkt, 20), 0);
  ck_assert_uint_eq(csum(pkt + 20, 64), 0);
  ck_assert_uint_eq(pkt[20], 8); /* echo request */
  ck_assert_uint_eq(pkt[24] << 8 | pkt[25], 0x4c56);
  ck_assert_uint_eq(pkt[26] << 8 | pkt[27], 7);
  ck_assert_int_eq(memcmp(pkt + 12, &e.src, 4), 0);
  ck_assert_int_eq(memcmp(pkt + 16, &e.dst, 4), 0);
  ck_assert_uint_eq(pkt[28], 0x01); /* the time, big-endian */
  ck_assert_uint_eq(pkt[35], 0x08);
  ck_assert_uint_eq(pkt[28 + 8], 8); /* then byte i = i */
  ck_assert_uint_eq(pkt[28 + 55], 55);
  /* too small a buffer, too large a payload */
  ck_assert_uint_eq(ping_build(&e, 1, 0, pkt, 83), 0);
  e.size = PING_MAX_SIZE + 1;
  ck_assert_uint_eq(ping_build(&e, 1, 0, pkt, sizeof(pkt)), 0);
  /* odd sizes keep the checksum right */
  e.size = 3;
  n = ping_build(&e, 1, 0, pkt, sizeof(pkt));
  ck_assert_uint_eq(n, 31);
  ck_assert_uint_eq(csum(pkt + 20, 11), 0);
}
END_TEST

START_TEST(test_ping_parse_reply) {
  ping_echo_t e = echo_params(56);
  uint8_t pkt[128];
  size_t n = ping_build(&e, 9, 123456789, pkt, sizeof(pkt));
  ping_reply_t r;

  make_reply(pkt, n, 63);
  ping_parse(&e, pkt, n, &r);
  ck_assert_int_eq(r.kind, PING_REPLY);
  ck_assert_uint_eq(r.seq, 9);
  ck_assert_uint_eq(r.ttl, 63);
  ck_assert_uint_eq(r.icmp_len, 64);
  ck_assert_int_eq(r.has_time, 1);
  ck_assert_uint_eq(r.sent_us, 123456789);
  ck_assert_int_eq(r.bad_byte, -1);
  ck_assert_int_eq(memcmp(&r.from, &e.dst, 4), 0);
}
END_TEST

START_TEST(test_ping_parse_small_payload_has_no_time) {
  ping_echo_t e = echo_params(8);
  uint8_t pkt[64];
  size_t n = ping_build(&e, 1, 99, pkt, sizeof(pkt));
  ping_reply_t r;

  ck_assert_uint_eq(pkt[28], 0); /* pattern, no time */
  make_reply(pkt, n, 64);
  ping_parse(&e, pkt, n, &r);
  ck_assert_int_eq(r.kind, PING_REPLY);
  ck_assert_int_eq(r.has_time, 0);
  ck_assert_uint_eq(r.icmp_len, 16);
}
END_TEST

/* A copy of the reply `pkt` with byte `at` changed (XORed with `x`, or set to
 * `x` when `set`), checksums recomputed when `fix`: ping_parse ignores it. */
static void expect_ignored(const ping_echo_t *e, const uint8_t *pkt, size_t n,
                           size_t at, uint8_t x, int set, int fix) {
  uint8_t copy[128];
  ping_reply_t r;
  memcpy(copy, pkt, n);
  copy[at] = set ? x : (uint8_t)(copy[at] ^ x);
  if (fix)
    fix_sums(copy, n);
  ping_parse(e, copy, n, &r);
  ck_assert_int_eq(r.kind, PING_IGNORE);
}

START_TEST(test_ping_parse_ignores_what_is_not_ours) {
  ping_echo_t e = echo_params(56);
  uint8_t pkt[128], copy[128];
  size_t n = ping_build(&e, 1, 5, pkt, sizeof(pkt));
  ping_reply_t r;

  make_reply(pkt, n, 64);
  /* our own request (type 8) is not a reply */
  ping_build(&e, 1, 5, copy, sizeof(copy));
  ping_parse(&e, copy, n, &r);
  ck_assert_int_eq(r.kind, PING_IGNORE);
  expect_ignored(&e, pkt, n, 25, 1, 0, 1);    /* another id (another ping) */
  expect_ignored(&e, pkt, n, 50, 0xff, 0, 0); /* bad ICMP checksum */
  expect_ignored(&e, pkt, n, 11, 1, 0, 0);    /* bad IP checksum */
  expect_ignored(&e, pkt, n, 19, 1, 0, 1);    /* not addressed to us */
  expect_ignored(&e, pkt, n, 6, 0x20, 1, 1);  /* a fragment */
  expect_ignored(&e, pkt, n, 0, 0x60, 1, 0);  /* not IPv4 */
  /* truncated: shorter than its total length, or than the headers */
  ping_parse(&e, pkt, n - 1, &r);
  ck_assert_int_eq(r.kind, PING_IGNORE);
  ping_parse(&e, pkt, 27, &r);
  ck_assert_int_eq(r.kind, PING_IGNORE);
  ping_parse(&e, pkt, 0, &r);
  ck_assert_int_eq(r.kind, PING_IGNORE);
}
END_TEST

START_TEST(test_ping_parse_wrong_data_byte) {
  ping_echo_t e = echo_params(56);
  uint8_t pkt[128];
  size_t n = ping_build(&e, 2, 5, pkt, sizeof(pkt));
  ping_reply_t r;
  char out[512];
  FILE *f;

  pkt[28 + 20] = 0xee;
  make_reply(pkt, n, 64);
  ping_parse(&e, pkt, n, &r);
  ck_assert_int_eq(r.kind, PING_REPLY);
  ck_assert_int_eq(r.bad_byte, 20);
  ck_assert_uint_eq(r.want, 20);
  ck_assert_uint_eq(r.got, 0xee);
  f = fmemopen(out, sizeof(out), "w");
  ping_print_reply(f, &r, 0, 1500);
  fclose(f);
  ck_assert_str_eq(out, "64 bytes from 198.19.0.1: icmp_seq=2 ttl=64 "
                        "time=1.50 ms\nwrong data byte #20 should be 0x14 "
                        "but was 0xee\n");
}
END_TEST

START_TEST(test_ping_parse_icmp_error) {
  ping_echo_t e = echo_params(56);
  uint8_t req[128], pkt[256];
  size_t n = ping_build(&e, 4, 5, req, sizeof(req));
  ping_reply_t r;
  char out[256];
  FILE *f;
  size_t total = 20 + 8 + 20 + 8;

  /* a router (198.19.0.1) quotes our header and 8 bytes of ICMP */
  memset(pkt, 0, sizeof(pkt));
  pkt[0] = 0x45;
  pkt[2] = 0;
  pkt[3] = (uint8_t)total;
  pkt[8] = 255;
  pkt[9] = 1;
  memcpy(pkt + 12, &e.dst, 4);
  memcpy(pkt + 16, &e.src, 4);
  pkt[20] = 3; /* destination unreachable */
  pkt[21] = 1; /* host */
  memcpy(pkt + 28, req, 28);
  fix_sums(pkt, total);
  ping_parse(&e, pkt, total, &r);
  ck_assert_int_eq(r.kind, PING_ERROR);
  ck_assert_uint_eq(r.seq, 4);
  f = fmemopen(out, sizeof(out), "w");
  ping_print_reply(f, &r, 0, 0);
  fclose(f);
  ck_assert_str_eq(out,
                   "From 198.19.0.1 icmp_seq=4 Destination Host Unreachable\n");
  /* about somebody else's echo: ignored */
  pkt[28 + 20 + 5] ^= 1;
  fix_sums(pkt, total);
  ping_parse(&e, pkt, total, &r);
  ck_assert_int_eq(r.kind, PING_IGNORE);
  ck_assert_str_eq(ping_error_text(11, 0), "Time to live exceeded");
  ck_assert_str_eq(ping_error_text(3, 13), "Packet filtered");
  ck_assert_str_eq(ping_error_text(3, 200), "Dest Unreachable, Bad Code");
  (void)n;
}
END_TEST

START_TEST(test_ping_format_time_as_ping8) {
  static const struct {
    unsigned us;
    const char *want;
  } cases[] = {{0, "0.000"},   {45, "0.045"},   {999, "0.999"}, {1234, "1.23"},
               {12345, "12.3"}, {123456, "123"}, {99999, "100"}};
  char b[32];
  size_t i;
  for (i = 0; i < FAKE_COUNT(cases); i++) {
    ping_format_time(b, sizeof(b), cases[i].us);
    ck_assert_str_eq(b, cases[i].want);
  }
}
END_TEST

START_TEST(test_ping_stats_and_duplicates) {
  static ping_stats_t s;
  char out[512];
  FILE *f;

  ping_stats_init(&s);
  ping_stats_sent(&s, 1);
  ping_stats_sent(&s, 2);
  ping_stats_sent(&s, 3);
  ck_assert_int_eq(ping_stats_reply(&s, 1, 1, 100), 0);
  ck_assert_int_eq(ping_stats_reply(&s, 2, 1, 300), 0);
  ck_assert_int_eq(ping_stats_reply(&s, 2, 1, 300), 1); /* DUP! */
  ck_assert_uint_eq(s.received, 2);
  ck_assert_uint_eq(s.duplicates, 1);
  f = fmemopen(out, sizeof(out), "w");
  ping_stats_print(f, &s, "198.19.0.1", 2003);
  fclose(f);
  ck_assert_str_eq(out, "\n--- 198.19.0.1 ping statistics ---\n"
                        "3 packets transmitted, 2 received, +1 duplicates, "
                        "33.3333% packet loss, time 2003ms\n"
                        "rtt min/avg/max/mdev = 0.100/0.200/0.300/0.100 ms\n");
  ck_assert_int_eq(ping_exit_status(&s, 0, 3), 0);
  ck_assert_int_eq(ping_exit_status(&s, 1, 3), 1); /* -w: all or fail */
  /* a sequence number sent again (wrapped) is not a duplicate */
  ping_stats_sent(&s, 1);
  ck_assert_int_eq(ping_stats_reply(&s, 1, 1, 200), 0);
}
END_TEST

START_TEST(test_ping_stats_nothing_received) {
  static ping_stats_t s;
  char out[512];
  FILE *f;

  ping_stats_init(&s);
  ping_stats_sent(&s, 1);
  ping_stats_sent(&s, 2);
  s.errors = 2;
  f = fmemopen(out, sizeof(out), "w");
  ping_stats_print(f, &s, "198.19.0.9", 1001);
  fclose(f);
  ck_assert_str_eq(out, "\n--- 198.19.0.9 ping statistics ---\n"
                        "2 packets transmitted, 0 received, +2 errors, "
                        "100% packet loss, time 1001ms\n");
  ck_assert_int_eq(ping_exit_status(&s, 0, 2), 1);
}
END_TEST

LVPN_TEST_MAIN("ping", 0, NULL, NULL,
               test_ping_build_is_valid_ipv4_icmp,
               test_ping_parse_reply,
               test_ping_parse_small_payload_has_no_time,
               test_ping_parse_ignores_what_is_not_ours,
               test_ping_parse_wrong_data_byte,
               test_ping_parse_icmp_error,
               test_ping_format_time_as_ping8,
               test_ping_stats_and_duplicates,
               test_ping_stats_nothing_received)
