/* udpbatch's loop-free parts: GRO splitting, GSO run selection, the
 * UDP_SEGMENT control message and the receive hold's decision (also checked against the kernel on
 * 127.0.0.1: a GSO send read back through a UDP_GRO socket). */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "layers/networkio/udpbatch.h"
#include "tests/fakes.h"

START_TEST(test_udpbatch_split_by_segment_size) {
  size_t off = 0, len, n = 0, lens[8];

  while ((len = lvpn__udpbatch_split(3000, 1400, off)) != 0) {
    ck_assert_uint_lt(n, 8);
    lens[n++] = len;
    off += len;
  }
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(lens[0], 1400);
  ck_assert_uint_eq(lens[1], 1400);
  ck_assert_uint_eq(lens[2], 200);
  /* exact multiple: no empty tail */
  ck_assert_uint_eq(lvpn__udpbatch_split(2800, 1400, 1400), 1400);
  ck_assert_uint_eq(lvpn__udpbatch_split(2800, 1400, 2800), 0);
  /* no GRO control message: the whole buffer is one datagram */
  ck_assert_uint_eq(lvpn__udpbatch_split(3000, 0, 0), 3000);
  ck_assert_uint_eq(lvpn__udpbatch_split(3000, 0, 3000), 0);
  /* a segment size larger than the buffer: one datagram */
  ck_assert_uint_eq(lvpn__udpbatch_split(100, 1400, 0), 100);
}
END_TEST

START_TEST(test_udpbatch_run_equal_sizes_last_shorter) {
  const size_t same[] = {1400, 1400, 1400, 1400};
  const size_t tail[] = {1400, 1400, 600, 1400};
  const size_t grow[] = {600, 1400, 1400};
  const size_t one[] = {1400};

  ck_assert_uint_eq(lvpn__udpbatch_run(same, 4, 64, 65000), 4);
  ck_assert_uint_eq(lvpn__udpbatch_run(tail, 4, 64, 65000), 3);
  ck_assert_uint_eq(lvpn__udpbatch_run(grow, 3, 64, 65000), 1);
  ck_assert_uint_eq(lvpn__udpbatch_run(one, 1, 64, 65000), 1);
  ck_assert_uint_eq(lvpn__udpbatch_run(one, 0, 64, 65000), 0);
  /* bounded by count and by bytes */
  ck_assert_uint_eq(lvpn__udpbatch_run(same, 4, 2, 65000), 2);
  ck_assert_uint_eq(lvpn__udpbatch_run(same, 4, 64, 4199), 2);
  ck_assert_uint_eq(lvpn__udpbatch_run(same, 4, 64, 4200), 3);
  /* the first alone may exceed max_bytes: it is sent singly */
  ck_assert_uint_eq(lvpn__udpbatch_run(same, 4, 64, 100), 1);
}
END_TEST

START_TEST(test_udpbatch_gso_cmsg_layout) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(uint16_t))];
  } ctrl;
  struct msghdr m;
  struct cmsghdr *c;
  uint16_t v;

  ck_assert_uint_eq(lvpn__udpbatch_gso_cmsg(ctrl.buf, 4, 1400), 0);
  ck_assert_uint_eq(lvpn__udpbatch_gso_cmsg(ctrl.buf, sizeof(ctrl.buf), 1400),
                    CMSG_SPACE(sizeof(uint16_t)));
  memset(&m, 0, sizeof(m));
  m.msg_control = ctrl.buf;
  m.msg_controllen = sizeof(ctrl.buf);
  c = CMSG_FIRSTHDR(&m);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(c->cmsg_level, SOL_UDP);
  ck_assert_int_eq(c->cmsg_type, UDP_SEGMENT);
  ck_assert_uint_eq(c->cmsg_len, CMSG_LEN(sizeof(uint16_t)));
  memcpy(&v, CMSG_DATA(c), sizeof(v));
  ck_assert_uint_eq(v, 1400);
}
END_TEST

START_TEST(test_udpbatch_gro_size_from_cmsg) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int)) * 2];
  } ctrl;
  struct msghdr m;
  struct cmsghdr *c;
  int seg = 1337, tos = 4;

  memset(&ctrl, 0, sizeof(ctrl));
  memset(&m, 0, sizeof(m));
  m.msg_control = ctrl.buf;
  m.msg_controllen = sizeof(ctrl.buf);
  /* another message first, then UDP_GRO as the kernel writes it (an int) */
  c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_TOS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &tos, sizeof(tos));
  c = CMSG_NXTHDR(&m, c);
  ck_assert_ptr_nonnull(c);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_GRO;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &seg, sizeof(seg));
  ck_assert_uint_eq(lvpn__udpbatch_gro_size(&m), 1337);
  /* none: 0 */
  m.msg_controllen = CMSG_SPACE(sizeof(int));
  ck_assert_uint_eq(lvpn__udpbatch_gro_size(&m), 0);
  m.msg_controllen = 0;
  m.msg_control = NULL;
  ck_assert_uint_eq(lvpn__udpbatch_gro_size(&m), 0);
}
END_TEST

/* A GRO message scattered over a pbuf and the large buffer: datagrams
 * before, across and after the boundary come out whole. */
START_TEST(test_udpbatch_copy_out_across_the_two_parts) {
  static uint8_t msg[3000], head[1736], rest[4096], out[1000];
  size_t i, off;

  for (i = 0; i < sizeof(msg); i++)
    msg[i] = (uint8_t)(i * 13 + 1);
  memcpy(head, msg, sizeof(head));
  memcpy(rest, msg + sizeof(head), sizeof(msg) - sizeof(head));
  for (off = 0; off < sizeof(msg); off += 1000) {
    memset(out, 0, sizeof(out));
    lvpn__udpbatch_copy_out(out, head, sizeof(head), rest, off, 1000);
    ck_assert_mem_eq(out, msg + off, 1000);
  }
  /* no head (no pbuf for it): all from the rest */
  lvpn__udpbatch_copy_out(out, NULL, 0, msg, 1500, 1000);
  ck_assert_mem_eq(out, msg + 1500, 1000);
}
END_TEST

/* The kernel's view: 3 datagrams (1000, 1000, 300 bytes) in one GSO send to
 * a UDP_GRO socket come back as one read that splits into the same three,
 * or as three reads on a kernel that does not coalesce. */
START_TEST(test_udpbatch_gso_to_gro_on_loopback) {
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t alen = sizeof(a);
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int)) * 2];
  } ctrl;
  static uint8_t out[2300], in[65536];
  struct iovec iov[2];
  struct msghdr m;
  size_t got[8], ngot = 0, i;
  int tx, rx, one = 1;
  ssize_t r;

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  rx = socket(AF_INET, SOCK_DGRAM, 0);
  tx = socket(AF_INET, SOCK_DGRAM, 0);
  ck_assert_int_ge(rx, 0);
  ck_assert_int_ge(tx, 0);
  ck_assert_int_eq(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(getsockname(rx, (struct sockaddr *)&a, &alen), 0);
  if (setsockopt(rx, SOL_UDP, UDP_GRO, &one, sizeof(one)) != 0) {
    close(rx);
    close(tx);
    return; /* kernel without UDP_GRO: the loop path falls back */
  }
  for (i = 0; i < sizeof(out); i++)
    out[i] = (uint8_t)(i * 7);
  /* two iovecs, split inside the second segment: GSO cuts the whole */
  iov[0].iov_base = out;
  iov[0].iov_len = 1500;
  iov[1].iov_base = out + 1500;
  iov[1].iov_len = 800;
  memset(&m, 0, sizeof(m));
  m.msg_name = &a;
  m.msg_namelen = sizeof(a);
  m.msg_iov = iov;
  m.msg_iovlen = 2;
  m.msg_control = ctrl.buf;
  m.msg_controllen = lvpn__udpbatch_gso_cmsg(ctrl.buf, sizeof(ctrl.buf), 1000);
  r = sendmsg(tx, &m, 0);
  if (r < 0 && (errno == EIO || errno == EINVAL)) {
    close(rx);
    close(tx);
    return; /* no GSO here: networkio turns it off the same way */
  }
  ck_assert_int_eq(r, 2300);
  while (ngot < 3) {
    struct iovec v = {in, sizeof(in)};
    size_t seg, off = 0, len;
    memset(&m, 0, sizeof(m));
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    m.msg_control = ctrl.buf;
    m.msg_controllen = sizeof(ctrl.buf);
    r = recvmsg(rx, &m, 0);
    ck_assert_int_gt(r, 0);
    seg = lvpn__udpbatch_gro_size(&m);
    while ((len = lvpn__udpbatch_split((size_t)r, seg, off)) != 0) {
      ck_assert_uint_lt(ngot, 3);
      ck_assert_mem_eq(in + off, out + 1000 * ngot, len);
      got[ngot++] = len;
      off += len;
    }
  }
  ck_assert_uint_eq(got[0], 1000);
  ck_assert_uint_eq(got[1], 1000);
  ck_assert_uint_eq(got[2], 300);
  close(rx);
  close(tx);
}
END_TEST

/* The hold decision and its setting, without a loop. */
START_TEST(test_udpbatch_hold_decision_and_setting) {
  const uint64_t ms = 1000000;
  const size_t big = 1400, small = LVPN__UDPBATCH_HOLD_MIN_LEN - 1;
  const unsigned few = LVPN__UDPBATCH_HOLD_BATCH - 1;

  ck_assert(lvpn__udpbatch_should_hold(1, big, 1, ms / 10, 200));
  ck_assert(lvpn__udpbatch_should_hold(few, few * big, 1, ms - 1, 200));
  ck_assert(lvpn__udpbatch_should_hold(2, LVPN__UDPBATCH_HOLD_MIN_LEN * 2, 1,
                                       ms / 10, 200));
  ck_assert(!lvpn__udpbatch_should_hold(0, 0, 1, ms / 10, 200)); /* nothing */
  ck_assert(!lvpn__udpbatch_should_hold(4, 4 * big, 0, ms / 10, 200)); /* more */
  ck_assert(!lvpn__udpbatch_should_hold(4, 4 * big, 1, ms, 200)); /* no stream */
  ck_assert(lvpn__udpbatch_in_stream(ms - 1));
  ck_assert(!lvpn__udpbatch_in_stream(ms));
  ck_assert(!lvpn__udpbatch_should_hold(few + 1, (few + 1) * big, 1, ms / 10,
                                        200)); /* batch large enough */
  ck_assert(!lvpn__udpbatch_should_hold(4, 4 * small, 1, ms / 10,
                                        200)); /* ACK-sized: not bulk */
  ck_assert(!lvpn__udpbatch_should_hold(4, 4 * big, 1, ms / 10, 0)); /* off */
  ck_assert_int_eq(lvpn__udpbatch_hold_us(NULL), LVPN__UDPBATCH_HOLD_US);
  ck_assert_int_eq(lvpn__udpbatch_hold_us(""), LVPN__UDPBATCH_HOLD_US);
  ck_assert_int_eq(lvpn__udpbatch_hold_us("0"), 0);
  ck_assert_int_eq(lvpn__udpbatch_hold_us("5000"), 5000);
  ck_assert_int_eq(lvpn__udpbatch_hold_us("5001"), -1);
  ck_assert_int_eq(lvpn__udpbatch_hold_us("-1"), -1);
  ck_assert_int_eq(lvpn__udpbatch_hold_us("200us"), -1);
  ck_assert_int_eq(lvpn__udpbatch_hold_us("99999999999999999999"), -1);
}
END_TEST

/* The hold's length: as long as LVPN__UDPBATCH_HOLD_TARGET datagrams of the
 * stream take, between hold_us and LVPN__UDPBATCH_HOLD_STRETCH_PCT % of it;
 * the time between datagrams is smoothed over reads. */
START_TEST(test_udpbatch_hold_length_follows_the_stream) {
  const unsigned base = 400;
  const unsigned most = base * LVPN__UDPBATCH_HOLD_STRETCH_PCT / 100;
  uint64_t avg;
  int i;

  ck_assert_uint_eq(most, 1000);
  /* a fast stream (5 us apart: 32 in 160 us): the shortest hold */
  ck_assert_uint_eq(lvpn__udpbatch_hold_len(base, 5000), base);
  ck_assert_uint_eq(lvpn__udpbatch_hold_len(base, 0), base); /* no estimate */
  /* 20 us apart: 32 take 640 us */
  ck_assert_uint_eq(lvpn__udpbatch_hold_len(base, 20000),
                    20 * LVPN__UDPBATCH_HOLD_TARGET);
  /* a slow stream (100 us apart): stretched only to the most */
  ck_assert_uint_eq(lvpn__udpbatch_hold_len(base, 100000), most);
  ck_assert_uint_eq(lvpn__udpbatch_hold_len(5000, UINT64_MAX / 2),
                    5000 * LVPN__UDPBATCH_HOLD_STRETCH_PCT / 100);
  /* the average: set by the first read, then a quarter of the way */
  avg = lvpn__udpbatch_gap_avg(0, 10, 200000); /* 10 in 200 us: 20 us */
  ck_assert_uint_eq(avg, 20000);
  ck_assert_uint_eq(lvpn__udpbatch_gap_avg(avg, 0, 999999), avg); /* none */
  avg = lvpn__udpbatch_gap_avg(avg, 1, 60000); /* one 60 us sample */
  ck_assert_uint_eq(avg, 30000);
  for (i = 0; i < 40; i++) /* a steady 40 us: converges */
    avg = lvpn__udpbatch_gap_avg(avg, 25, 1000000);
  ck_assert_uint_ge(avg, 39900);
  ck_assert_uint_le(avg, 40000);
}
END_TEST

LVPN_TEST_MAIN("udpbatch", 0, NULL, NULL, test_udpbatch_split_by_segment_size,
               test_udpbatch_run_equal_sizes_last_shorter,
               test_udpbatch_hold_length_follows_the_stream,
               test_udpbatch_gso_cmsg_layout, test_udpbatch_gro_size_from_cmsg,
               test_udpbatch_copy_out_across_the_two_parts,
               test_udpbatch_gso_to_gro_on_loopback,
               test_udpbatch_hold_decision_and_setting)
