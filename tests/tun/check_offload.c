/* layers/tun/offload.c: segmentation of TSO/USO super-packets (TCP over
 * IPv4 and IPv6, UDP), completion of partial checksums, and the coalescing
 * rules (what merges into one super-packet and what must not); and
 * tun_io.c's writes when the device refuses a coalesced one. Packets are
 * built by hand; every checksum is verified with the independent routine
 * below, not with offload.c's own. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "layers/tun/offload.h"
#include "layers/tun/tun.h"
#include "lib/bytes.h"
#include "tests/fakes.h"

static void setup(void) {}
static void teardown(void) {}

/* ---- packet fields (the checksum is fakes.h's independent one) ---- */

static int v6_of(const uint8_t *p) {
  return (p[0] >> 4) == 6;
}
static size_t iphl(const uint8_t *p) {
  return v6_of(p) ? 40 : (size_t)(p[0] & 15) * 4;
}

static uint32_t pseudo(const uint8_t *p, uint8_t proto, size_t l4len) {
  size_t alen = v6_of(p) ? 16 : 4, at = v6_of(p) ? 8 : 12;
  uint32_t s = fake_sum16(p + at, 2 * alen, 0);
  return s + proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xFFFF);
}

/* Is the whole packet right: IPv4 header checksum and length, IPv6
 * payload length, the TCP/UDP checksum (and UDP length)? */
static int packet_ok(const uint8_t *p, size_t len) {
  size_t h = iphl(p);
  uint8_t proto = v6_of(p) ? p[6] : p[9];
  if (v6_of(p)) {
    if (lvpn__get_u16(p + 4) != len - 40)
      return 0;
  } else {
    if (lvpn__get_u16(p + 2) != len || fake_csum_fold(fake_sum16(p, h, 0)) != 0)
      return 0;
  }
  if (proto == 17 && lvpn__get_u16(p + h + 4) != len - h)
    return 0;
  return fake_csum_fold(fake_sum16(p + h, len - h, pseudo(p, proto, len - h))) == 0;
}

/* ---- packet builders ---- */

typedef struct {
  int v6;
  uint8_t proto; /* 6 or 17 */
  uint16_t sport, dport;
  uint32_t seq, ack;
  uint8_t flags;
  uint16_t id;
  uint8_t tos, ttl;
  const uint8_t *opts; /* TCP options, a multiple of 4 */
  size_t optlen;
} spec_t;

static spec_t tcp_spec(int v6) {
  spec_t s = {.v6 = v6,
              .proto = 6,
              .sport = 40000,
              .dport = 80,
              .seq = 1000000,
              .ack = 777,
              .flags = 0x10,
              .id = 100,
              .ttl = 64};
  return s;
}

/* Payload byte i of a stream: distinct enough to catch misplaced bytes. */
static uint8_t pay(size_t i) {
  return (uint8_t)(i * 7 + (i >> 8));
}

/* Builds one packet whose payload is stream bytes [from, from+n); with
 * `csum` the transport checksum is right, else left 0. */
static size_t build(uint8_t *b, const spec_t *s, size_t from, size_t n,
                    int csum) {
  size_t h = s->v6 ? 40 : 20, l4h = s->proto == 6 ? 20 + s->optlen : 8;
  size_t len = h + l4h + n, i;
  uint8_t *l4 = b + h;
  memset(b, 0, h + l4h);
  if (s->v6) {
    b[0] = 0x60 | (s->tos >> 4);
    b[1] = (uint8_t)(s->tos << 4);
    lvpn__put_u16(b + 4, (uint16_t)(len - 40));
    b[6] = s->proto;
    b[7] = s->ttl;
    b[8] = 0x20;
    b[9] = 0x01;
    b[10] = 0x00;
    b[11] = 0x02;
    b[23] = 1;
    b[24] = 0x20;
    b[25] = 0x01;
    b[26] = 0x00;
    b[27] = 0x02;
    b[39] = 2;
  } else {
    b[0] = 0x45;
    b[1] = s->tos;
    lvpn__put_u16(b + 2, (uint16_t)len);
    lvpn__put_u16(b + 4, s->id);
    b[6] = 0x40; /* DF */
    b[8] = s->ttl;
    b[9] = s->proto;
    b[12] = 198;
    b[13] = 19;
    b[14] = 0;
    b[15] = 1;
    b[16] = 198;
    b[17] = 19;
    b[18] = 0;
    b[19] = 2;
    lvpn__put_u16(b + 10, fake_csum_fold(fake_sum16(b, 20, 0)));
  }
  lvpn__put_u16(l4, s->sport);
  lvpn__put_u16(l4 + 2, s->dport);
  if (s->proto == 6) {
    lvpn__put_u32(l4 + 4, s->seq);
    lvpn__put_u32(l4 + 8, s->ack);
    l4[12] = (uint8_t)((l4h / 4) << 4);
    l4[13] = s->flags;
    lvpn__put_u16(l4 + 14, 501);
    if (s->optlen > 0)
      memcpy(l4 + 20, s->opts, s->optlen);
  } else {
    lvpn__put_u16(l4 + 4, (uint16_t)(l4h + n));
  }
  for (i = 0; i < n; i++)
    b[h + l4h + i] = pay(from + i);
  if (csum) {
    uint16_t c = fake_csum_fold(fake_sum16(l4, len - h, pseudo(b, s->proto, len - h)));
    lvpn__put_u16(l4 + (s->proto == 6 ? 16 : 6), c);
  }
  return len;
}

static uint8_t super_[70000], seg[4096];

/* Segments super_ (len) with header `vh` and checks every segment. */
static size_t segment_all(size_t len, const lvpn__vnet_hdr_t *vh,
                          const spec_t *s, size_t hdrlen, size_t gso_size,
                          size_t payload) {
  lvpn__gso_t g;
  size_t n = 0, outlen, off = 0;
  int r;
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, vh), 0);
  ck_assert_uint_eq(lvpn__gso_count(&g), (payload + gso_size - 1) / gso_size);
  while ((r = lvpn__gso_next(&g, seg, sizeof(seg), &outlen)) == 1) {
    size_t want = payload - off < gso_size ? payload - off : gso_size, i;
    int last = off + want == payload;
    const uint8_t *l4 = seg + (s->v6 ? 40 : 20);
    ck_assert_uint_eq(outlen, hdrlen + want);
    ck_assert_msg(packet_ok(seg, outlen), "segment %zu checksums", n);
    for (i = 0; i < want; i++)
      ck_assert_uint_eq(seg[hdrlen + i], pay(off + i));
    if (!s->v6)
      ck_assert_uint_eq(lvpn__get_u16(seg + 4), (uint16_t)(s->id + n));
    if (s->proto == 6) {
      uint8_t f = l4[13];
      ck_assert_uint_eq(lvpn__get_u32(l4 + 4), s->seq + (uint32_t)off);
      ck_assert_uint_eq(lvpn__get_u32(l4 + 8), s->ack);
      ck_assert_int_eq((f & 0x01) != 0, last && (s->flags & 0x01));   /* FIN */
      ck_assert_int_eq((f & 0x08) != 0, last && (s->flags & 0x08));   /* PSH */
      ck_assert_int_eq((f & 0x80) != 0, n == 0 && (s->flags & 0x80)); /* CWR */
      ck_assert_uint_eq(f & 0x10, 0x10);
      if (s->optlen > 0)
        ck_assert_mem_eq(l4 + 20, s->opts, s->optlen);
    }
    off += want;
    n++;
  }
  ck_assert_int_eq(r, 0);
  ck_assert_uint_eq(off, payload);
  return n;
}

static lvpn__vnet_hdr_t gso_hdr(uint8_t type, size_t iph, size_t hdrlen,
                                size_t gso_size) {
  lvpn__vnet_hdr_t vh = {.flags = LVPN__VNET_F_NEEDS_CSUM,
                         .gso_type = type,
                         .hdr_len = (uint16_t)hdrlen,
                         .gso_size = (uint16_t)gso_size,
                         .csum_start = (uint16_t)iph,
                         .csum_offset = type == LVPN__VNET_GSO_UDP_L4 ? 6 : 16};
  return vh;
}

START_TEST(test_offload_vnet_hdr_roundtrip) {
  lvpn__vnet_hdr_t a = {1, 4, 60, 1448, 40, 16}, b;
  uint8_t raw[LVPN__VNET_HDR_LEN];
  lvpn__vnet_hdr_encode(raw, &a);
  lvpn__vnet_hdr_decode(raw, &b);
  ck_assert_mem_eq(&a, &b, sizeof(a));
  ck_assert_uint_eq(raw[0], 1);
  ck_assert_uint_eq(raw[1], 4);
}
END_TEST

START_TEST(test_offload_segment_tcp4) {
  spec_t s = tcp_spec(0);
  size_t len;
  lvpn__vnet_hdr_t vh;
  s.flags = 0x10 | 0x08 | 0x01 | 0x80; /* ACK PSH FIN CWR */
  len = build(super_, &s, 0, 3500, 0);
  /* the kernel leaves the pseudo-header sum in the field: never read */
  lvpn__put_u16(super_ + 36, 0xbeef);
  vh = gso_hdr(LVPN__VNET_GSO_TCPV4, 20, 9999 /* not trusted */, 1000);
  ck_assert_uint_eq(segment_all(len, &vh, &s, 40, 1000, 3500), 4);
  /* one byte more than a segment, and exactly one segment */
  len = build(super_, &s, 0, 1001, 0);
  ck_assert_uint_eq(segment_all(len, &vh, &s, 40, 1000, 1001), 2);
  len = build(super_, &s, 0, 1000, 0);
  ck_assert_uint_eq(segment_all(len, &vh, &s, 40, 1000, 1000), 1);
  /* 64 KiB super-packet with the typical MSS */
  s.seq = 0xFFFFF000; /* wraps */
  len = build(super_, &s, 0, 65495, 0);
  vh = gso_hdr(LVPN__VNET_GSO_TCPV4, 20, 40, 1448);
  ck_assert_uint_eq(segment_all(len, &vh, &s, 40, 1448, 65495), 46);
}
END_TEST

START_TEST(test_offload_segment_tcp6_options) {
  static const uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7};
  spec_t s = tcp_spec(1);
  size_t len;
  lvpn__vnet_hdr_t vh;
  s.opts = ts;
  s.optlen = sizeof(ts);
  s.tos = 0x28;
  s.flags = 0x18;
  len = build(super_, &s, 0, 2 * 1208 + 77, 0);
  vh = gso_hdr(LVPN__VNET_GSO_TCPV6, 40, 72, 1208);
  ck_assert_uint_eq(segment_all(len, &vh, &s, 72, 1208, 2 * 1208 + 77), 3);
}
END_TEST

START_TEST(test_offload_segment_udp) {
  spec_t s = tcp_spec(0);
  size_t len;
  lvpn__vnet_hdr_t vh;
  s.proto = 17;
  s.sport = 5000;
  s.dport = 6000;
  len = build(super_, &s, 0, 5 * 1200 + 3, 0);
  vh = gso_hdr(LVPN__VNET_GSO_UDP_L4, 20, 28, 1200);
  ck_assert_uint_eq(segment_all(len, &vh, &s, 28, 1200, 5 * 1200 + 3), 6);
  s.v6 = 1;
  len = build(super_, &s, 0, 3 * 1000, 0);
  vh = gso_hdr(LVPN__VNET_GSO_UDP_L4, 40, 48, 1000);
  ck_assert_uint_eq(segment_all(len, &vh, &s, 48, 1000, 3000), 3);
}
END_TEST

START_TEST(test_offload_segment_rejects_malformed) {
  spec_t s = tcp_spec(0);
  lvpn__gso_t g;
  lvpn__vnet_hdr_t vh;
  size_t len = build(super_, &s, 0, 3000, 0), outlen;

  vh = gso_hdr(LVPN__VNET_GSO_TCPV6, 20, 40, 1000); /* v6 type on IPv4 */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), -1);
  vh = gso_hdr(LVPN__VNET_GSO_UDP, 20, 40, 1000); /* UFO: never asked for */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), -1);
  vh = gso_hdr(LVPN__VNET_GSO_TCPV4, 20, 40, 0); /* gso_size 0 */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), -1);
  vh = gso_hdr(LVPN__VNET_GSO_TCPV4, 24, 40, 1000); /* csum_start != IHL */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), -1);
  vh = gso_hdr(LVPN__VNET_GSO_TCPV4, 20, 40, 1000);
  vh.csum_offset = 6; /* not TCP's */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), -1);
  vh = gso_hdr(LVPN__VNET_GSO_UDP_L4, 20, 28, 1000); /* UDP type, TCP pkt */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), -1);
  vh = gso_hdr(LVPN__VNET_GSO_TCPV4, 20, 40, 1000);
  ck_assert_int_eq(lvpn__gso_init(&g, super_, 40, &vh), -1); /* no payload */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, 30, &vh), -1); /* cut TCP */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, 19, &vh), -1);
  super_[32] = 0x40; /* data offset 4 words */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), -1);
  super_[32] = 0xF0; /* 60 bytes of TCP header: fits, accepted */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), 0);
  super_[32] = 0x50;
  super_[0] = 0x55; /* IP version 5 */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), -1);
  super_[0] = 0x45;
  /* a segment larger than the output buffer */
  ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), 0);
  ck_assert_int_eq(lvpn__gso_next(&g, seg, 1039, &outlen), -1);
  ck_assert_int_eq(lvpn__gso_next(&g, seg, 1040, &outlen), 1);
}
END_TEST

START_TEST(test_offload_csum_complete) {
  spec_t s = tcp_spec(0);
  lvpn__vnet_hdr_t vh = {LVPN__VNET_F_NEEDS_CSUM, 0, 0, 0, 20, 16};
  size_t len = build(super_, &s, 0, 333, 0); /* odd length */
  uint32_t ps = pseudo(super_, 6, len - 20);
  while (ps >> 16)
    ps = (ps & 0xFFFF) + (ps >> 16);
  lvpn__put_u16(super_ + 36, (uint16_t)ps); /* what the kernel leaves */
  ck_assert(!packet_ok(super_, len));
  ck_assert_int_eq(lvpn__offload_csum_complete(super_, len, &vh), 0);
  ck_assert(packet_ok(super_, len));

  s.proto = 17;
  s.v6 = 1;
  len = build(super_, &s, 0, 1200, 0);
  ps = pseudo(super_, 17, len - 40);
  while (ps >> 16)
    ps = (ps & 0xFFFF) + (ps >> 16);
  lvpn__put_u16(super_ + 46, (uint16_t)ps);
  vh.csum_start = 40;
  vh.csum_offset = 6;
  ck_assert_int_eq(lvpn__offload_csum_complete(super_, len, &vh), 0);
  ck_assert(packet_ok(super_, len));

  vh.csum_start = (uint16_t)len; /* out of the packet: nothing written */
  ck_assert_int_eq(lvpn__offload_csum_complete(super_, len, &vh), -1);
  vh.csum_start = (uint16_t)(len - 7);
  ck_assert_int_eq(lvpn__offload_csum_complete(super_, len, &vh), -1);
  vh.csum_start = 0xFFFF;
  vh.csum_offset = 0xFFFF;
  ck_assert_int_eq(lvpn__offload_csum_complete(super_, len, &vh), -1);
}
END_TEST

/* ---- coalescing ---- */

static uint8_t pk[LVPN__GRO_MAX + 2][2048], orig[5][2048];
static lvpn__gro_t gro;

/* Segment `i` of a stream of `mss`-byte segments. */
static size_t seg_pkt_in(uint8_t *b, int i, const spec_t *base, size_t mss,
                         size_t n) {
  spec_t s = *base;
  s.seq = base->seq + (uint32_t)(i * mss);
  s.id = (uint16_t)(base->id + i);
  return build(b, &s, (size_t)i * mss, n, 1);
}
/* ... built into pk[i] */
static size_t seg_pkt(int i, const spec_t *base, size_t mss, size_t n) {
  return seg_pkt_in(pk[i], i, base, mss, n);
}

/* Writes item `i` out as the bytes one writev would give. */
static size_t flatten(unsigned i, lvpn__vnet_hdr_t *vh, uint8_t *out) {
  uint8_t raw[LVPN__VNET_HDR_LEN];
  struct iovec iov[LVPN__GRO_MAX + 1];
  size_t n = lvpn__gro_item_iov(&gro, i, raw, iov), k, len = 0;
  lvpn__vnet_hdr_decode(raw, vh);
  ck_assert_uint_eq(iov[0].iov_len, LVPN__VNET_HDR_LEN);
  for (k = 1; k < n; k++) {
    memcpy(out + len, iov[k].iov_base, iov[k].iov_len);
    len += iov[k].iov_len;
  }
  return len;
}

START_TEST(test_offload_gro_merges_and_resegments) {
  static const uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7};
  int v6;
  for (v6 = 0; v6 <= 1; v6++) {
    spec_t s = tcp_spec(v6);
    size_t lens[5], len, hl = (v6 ? 40 : 20) + 32, out;
    lvpn__vnet_hdr_t vh;
    lvpn__gso_t g;
    int i;
    s.opts = ts;
    s.optlen = sizeof(ts);
    lvpn__gro_reset(&gro);
    for (i = 0; i < 5; i++) {
      spec_t x = s;
      if (i == 4)
        x.flags = 0x18; /* PSH on the last */
      lens[i] = seg_pkt(i, &x, 1000, i == 4 ? 321 : 1000);
      ck_assert_int_eq(lvpn__gro_add(&gro, pk[i], lens[i]), i);
    }
    ck_assert_uint_eq(gro.n_items, 1);
    ck_assert_uint_eq(gro.items[0].n, 5);
    for (i = 0; i < 5; i++)
      memcpy(orig[i], pk[i], lens[i]);
    len = flatten(0, &vh, super_);
    ck_assert_uint_eq(len, hl + 4321);
    ck_assert_uint_eq(vh.flags, LVPN__VNET_F_NEEDS_CSUM);
    ck_assert_uint_eq(vh.gso_type,
                      v6 ? LVPN__VNET_GSO_TCPV6 : LVPN__VNET_GSO_TCPV4);
    ck_assert_uint_eq(vh.gso_size, 1000);
    ck_assert_uint_eq(vh.hdr_len, hl);
    ck_assert_uint_eq(vh.csum_start, v6 ? 40 : 20);
    ck_assert_uint_eq(vh.csum_offset, 16);
    /* IP lengths and header checksum right; the TCP field holds the
     * pseudo-header sum (CHECKSUM_PARTIAL); PSH from the last */
    if (v6) {
      ck_assert_uint_eq(lvpn__get_u16(super_ + 4), len - 40);
    } else {
      ck_assert_uint_eq(lvpn__get_u16(super_ + 2), len);
      ck_assert_uint_eq(fake_csum_fold(fake_sum16(super_, 20, 0)), 0);
    }
    ck_assert_uint_eq(super_[vh.csum_start + 13], 0x18);
    ck_assert_uint_eq(
        (uint16_t)~fake_csum_fold(pseudo(super_, 6, len - vh.csum_start)),
        lvpn__get_u16(super_ + vh.csum_start + 16));
    /* what the kernel would cut it into is what went in */
    ck_assert_int_eq(lvpn__gso_init(&g, super_, len, &vh), 0);
    for (i = 0; i < 5; i++) {
      ck_assert_int_eq(lvpn__gso_next(&g, seg, sizeof(seg), &out), 1);
      ck_assert_uint_eq(out, lens[i]);
      ck_assert_mem_eq(seg, orig[i], out);
    }
    ck_assert_int_eq(lvpn__gso_next(&g, seg, sizeof(seg), &out), 0);
    /* a device that refuses the super-packet: every packet is again the
     * whole packet that was added, the head too (and restoring twice
     * changes nothing) */
    ck_assert_mem_ne(pk[0], orig[0], lens[0]);
    lvpn__gro_item_restore(&gro, 0);
    lvpn__gro_item_restore(&gro, 0);
    for (i = 0; i < 5; i++)
      ck_assert_mem_eq(pk[i], orig[i], lens[i]);
  }
}
END_TEST

/* Adds `n` packets and checks the item sizes that result. */
static void expect_items(const unsigned *sizes, unsigned n_items) {
  unsigned i;
  ck_assert_uint_eq(gro.n_items, n_items);
  for (i = 0; i < n_items; i++)
    ck_assert_msg(gro.items[i].n == sizes[i], "item %u has %u packets, want %u",
                  i, gro.items[i].n, sizes[i]);
}

START_TEST(test_offload_gro_must_not_merge) {
  spec_t s = tcp_spec(0), x;
  size_t len, l2;
  lvpn__vnet_hdr_t vh;
  static const unsigned two[] = {1, 1}, three[] = {1, 1, 1}, m2[] = {2, 1};

  /* a gap in the sequence */
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
  lvpn__gro_add(&gro, pk[2], seg_pkt(2, &s, 1000, 1000));
  expect_items(two, 2);
  /* a different ack */
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
  x = s;
  x.ack++;
  lvpn__gro_add(&gro, pk[1], seg_pkt(1, &x, 1000, 1000));
  expect_items(two, 2);
  /* different TOS, TTL, ports */
  x = s;
  x.tos = 4;
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
  lvpn__gro_add(&gro, pk[1], seg_pkt(1, &x, 1000, 1000));
  x = s;
  x.ttl = 3;
  lvpn__gro_add(&gro, pk[2], seg_pkt(2, &x, 1000, 1000));
  expect_items(three, 3);
  x = s;
  x.dport = 81;
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
  lvpn__gro_add(&gro, pk[1], seg_pkt(1, &x, 1000, 1000));
  expect_items(two, 2);
  /* options that differ (a newer timestamp) */
  {
    static const uint8_t t1[12] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7};
    static const uint8_t t2[12] = {1, 1, 8, 10, 0, 0, 0, 10, 0, 0, 0, 7};
    spec_t a = s;
    a.opts = t1;
    a.optlen = 12;
    x = a;
    x.opts = t2;
    lvpn__gro_reset(&gro);
    lvpn__gro_add(&gro, pk[0], seg_pkt(0, &a, 1000, 1000));
    lvpn__gro_add(&gro, pk[1], seg_pkt(1, &x, 1000, 1000));
    expect_items(two, 2);
    /* and an options length that differs */
    lvpn__gro_reset(&gro);
    lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
    lvpn__gro_add(&gro, pk[1], seg_pkt(1, &a, 1000, 1000));
    expect_items(two, 2);
  }
  /* nothing after PSH, after a shorter segment, nor a longer one */
  x = s;
  x.flags = 0x18;
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &x, 1000, 1000));
  lvpn__gro_add(&gro, pk[1], seg_pkt(1, &s, 1000, 1000));
  expect_items(two, 2);
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
  lvpn__gro_add(&gro, pk[1], seg_pkt(1, &s, 1000, 500));
  lvpn__gro_add(&gro, pk[2],
                build(pk[2],
                      &(spec_t){.v6 = 0,
                                .proto = 6,
                                .sport = 40000,
                                .dport = 80,
                                .seq = s.seq + 1500,
                                .ack = s.ack,
                                .flags = 0x10,
                                .ttl = 64},
                      1500, 500, 1));
  expect_items(m2, 2);
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 500));
  lvpn__gro_add(&gro, pk[1],
                build(pk[1],
                      &(spec_t){.v6 = 0,
                                .proto = 6,
                                .sport = 40000,
                                .dport = 80,
                                .seq = s.seq + 500,
                                .ack = s.ack,
                                .flags = 0x10,
                                .ttl = 64},
                      500, 1000, 1));
  expect_items(two, 2);
  /* FIN, SYN, RST, URG, CWR, and pure ACKs start their own items */
  {
    static const uint8_t fl[] = {0x11, 0x12, 0x14, 0x30, 0x90};
    size_t k;
    for (k = 0; k < sizeof(fl); k++) {
      x = s;
      x.flags = fl[k];
      lvpn__gro_reset(&gro);
      lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
      lvpn__gro_add(&gro, pk[1], seg_pkt(1, &x, 1000, 1000));
      lvpn__gro_add(&gro, pk[2], seg_pkt(2, &s, 1000, 1000));
      expect_items(three, 3);
    }
    lvpn__gro_reset(&gro);
    lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 0));
    lvpn__gro_add(&gro, pk[1], seg_pkt_in(pk[1], 0, &s, 1000, 0));
    expect_items(two, 2);
  }
  /* a wrong checksum: on the new packet, and on the head */
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
  l2 = seg_pkt(1, &s, 1000, 1000);
  pk[1][100] ^= 1;
  lvpn__gro_add(&gro, pk[1], l2);
  expect_items(two, 2);
  lvpn__gro_reset(&gro);
  len = seg_pkt(0, &s, 1000, 1000);
  pk[0][100] ^= 1;
  lvpn__gro_add(&gro, pk[0], len);
  lvpn__gro_add(&gro, pk[1], seg_pkt(1, &s, 1000, 1000));
  lvpn__gro_add(&gro, pk[2], seg_pkt(2, &s, 1000, 1000));
  ck_assert_uint_eq(gro.items[0].n, 1);
  /* the bad packet goes out untouched behind a zero header */
  ck_assert_uint_eq(flatten(0, &vh, super_), len);
  ck_assert_mem_eq(super_, pk[0], len);
  ck_assert_uint_eq(vh.gso_type, 0);
  ck_assert_uint_eq(vh.flags, 0);
  /* IPv4 fragments */
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
  len = seg_pkt(1, &s, 1000, 1000);
  pk[1][6] |= 0x20; /* MF */
  lvpn__gro_add(&gro, pk[1], len);
  expect_items(two, 2);
  /* IPv4 and IPv6 never mix */
  x = tcp_spec(1);
  x.seq = s.seq + 1000;
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt(0, &s, 1000, 1000));
  lvpn__gro_add(&gro, pk[1], build(pk[1], &x, 1000, 1000, 1));
  expect_items(two, 2);
}
END_TEST

START_TEST(test_offload_gro_flows_and_limits) {
  spec_t a = tcp_spec(0), b = tcp_spec(0), u = tcp_spec(0);
  static const unsigned ab[] = {3, 2, 1};
  lvpn__vnet_hdr_t vh;
  int i;
  b.sport = 40001;
  u.proto = 17;
  /* interleaved flows, a UDP packet in between: each flow merges */
  lvpn__gro_reset(&gro);
  lvpn__gro_add(&gro, pk[0], seg_pkt_in(pk[0], 0, &a, 1000, 1000));
  lvpn__gro_add(&gro, pk[1], seg_pkt_in(pk[1], 0, &b, 1000, 1000));
  lvpn__gro_add(&gro, pk[2], build(pk[2], &u, 0, 100, 1));
  lvpn__gro_add(&gro, pk[3], seg_pkt_in(pk[3], 1, &a, 1000, 1000));
  lvpn__gro_add(&gro, pk[4], seg_pkt_in(pk[4], 1, &b, 1000, 1000));
  lvpn__gro_add(&gro, pk[5], seg_pkt_in(pk[5], 2, &a, 1000, 1000));
  expect_items(ab, 3);
  ck_assert_uint_eq(gro.items[0].first, 0);
  ck_assert_uint_eq(gro.items[1].first, 1);
  ck_assert_uint_eq(flatten(2, &vh, super_), 128);
  ck_assert_uint_eq(vh.gso_type, 0);
  /* a super-packet stops below 64 KiB: 1448-byte segments, 45 fit */
  lvpn__gro_reset(&gro);
  for (i = 0; i < 47; i++)
    ck_assert_int_eq(lvpn__gro_add(&gro, pk[i], seg_pkt(i, &a, 1448, 1448)), i);
  ck_assert_uint_eq(gro.n_items, 2);
  ck_assert_uint_eq(gro.items[0].n, 45);
  ck_assert_uint_le(gro.items[0].total, 65535);
  ck_assert_uint_eq(gro.items[1].n, 2);
  /* the batch holds LVPN__GRO_MAX packets */
  lvpn__gro_reset(&gro);
  for (i = 0; i < LVPN__GRO_MAX; i++)
    ck_assert_int_eq(lvpn__gro_add(&gro, pk[i], seg_pkt(i, &a, 100, 100)), i);
  ck_assert(lvpn__gro_full(&gro));
  ck_assert_int_eq(lvpn__gro_add(&gro, pk[i], seg_pkt(i, &a, 100, 100)), -1);
  ck_assert_uint_eq(gro.items[0].n, LVPN__GRO_MAX);
}
END_TEST

/* ---- the tun layer's writes (tun_io.c) when the device refuses ---- */

/* A stand-in for the device that refuses long writes and takes short ones:
 * a UDP socket on ::1 with IPV6_MTU 1280 and IPV6_DONTFRAG, connected to
 * `*rx`. A write over 1232 bytes gets EMSGSIZE; each other one arrives as
 * one datagram. */
static int refusing_device(int *rx) {
  struct sockaddr_in6 a;
  socklen_t al = sizeof(a);
  int one = 1, mtu = 1280, fd;
  memset(&a, 0, sizeof(a));
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  *rx = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  ck_assert_int_ge(*rx, 0);
  ck_assert_int_eq(bind(*rx, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(getsockname(*rx, (struct sockaddr *)&a, &al), 0);
  fd = socket(AF_INET6, SOCK_DGRAM, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, sizeof(mtu)),
                   0);
  ck_assert_int_eq(
      setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof(one)), 0);
  return fd;
}

/* Segments [from, from + n) of a's stream of `mss`-byte segments go to the
 * layer in one drain (the queue holds a packet until the last), so they
 * are coalesced and written in one flush. */
static void tun_write_run(lvpn__tun_layer_t *t, lvpn__pbuf_pool_t *pool,
                          const spec_t *a, int from, int n, size_t mss) {
  lvpn__pbuf_t *held = lvpn__pbuf_alloc(pool);
  int i;
  ck_assert_ptr_nonnull(held);
  lvpn__pbufq_push(&t->base.up_in, held);
  for (i = from; i < from + n; i++) {
    lvpn__pbuf_t *p = lvpn__pbuf_alloc(pool);
    ck_assert_ptr_nonnull(p);
    p->len = seg_pkt_in(p->data, i, a, mss, mss);
    lvpn__tun_io_write(t, p);
  }
  ck_assert_ptr_eq(lvpn__pbufq_pop(&t->base.up_in), held);
  lvpn__pbuf_free(held);
  lvpn__tun_io_flush(t);
}

/* The next datagram the device got: a zero virtio-net header and then
 * exactly segment `i` of a's stream. */
static void tun_got_segment(int rx, const spec_t *a, int i, size_t mss) {
  uint8_t got[2048], want[2048], zero[LVPN__VNET_HDR_LEN];
  size_t wl = seg_pkt_in(want, i, a, mss, mss);
  ssize_t n = recv(rx, got, sizeof(got), 0);
  memset(zero, 0, sizeof(zero));
  ck_assert_msg(n == (ssize_t)(wl + LVPN__VNET_HDR_LEN),
                "segment %d: got %zd bytes, want %zu", i, n,
                wl + LVPN__VNET_HDR_LEN);
  ck_assert_mem_eq(got, zero, LVPN__VNET_HDR_LEN);
  ck_assert_mem_eq(got + LVPN__VNET_HDR_LEN, want, wl);
  ck_assert(packet_ok(got + LVPN__VNET_HDR_LEN, wl));
}

/* A device that refuses a coalesced write: the error is logged once,
 * coalescing stops, and every packet of the refused write still reaches
 * the device, whole and with its own header fields. Before that, a short
 * run is coalesced and accepted as one write. */
START_TEST(test_tun_io_refused_coalesced_write_loses_nothing) {
  int v6;
  for (v6 = 0; v6 <= 1; v6++) {
    uv_loop_t loop;
    lvpn__pbuf_pool_t pool;
    fake_log_t log;
    lvpn__tun_layer_t t;
    spec_t a = tcp_spec(v6);
    uint8_t got[2048];
    lvpn__vnet_hdr_t vh;
    int rx, i;

    ck_assert_int_eq(uv_loop_init(&loop), 0);
    lvpn__pbuf_pool_init(&pool, 0);
    fake_log_init(&log, 3);
    lvpn__tun_layer_init(&t, &loop, &pool, "tun", &log.log);
    snprintf(t.ifname, sizeof(t.ifname), "tunfake0");
    t.fd = refusing_device(&rx);
    t.offload = 1;
    ck_assert_int_eq(lvpn__tun_io_init(&t), 0);

    /* 3 x 100 bytes: one super-packet the device takes */
    tun_write_run(&t, &pool, &a, 0, 3, 100);
    ck_assert_int_eq(recv(rx, got, sizeof(got), 0),
                     LVPN__VNET_HDR_LEN + (v6 ? 40 : 20) + 20 + 300);
    lvpn__vnet_hdr_decode(got, &vh);
    ck_assert_uint_eq(vh.gso_type,
                      v6 ? LVPN__VNET_GSO_TCPV6 : LVPN__VNET_GSO_TCPV4);
    ck_assert_uint_eq(t.gro_writes, 1);
    ck_assert_int_eq(t.gro_off, 0);

    /* 6 x 400 bytes: too long for it; refused, then written singly */
    tun_write_run(&t, &pool, &a, 3, 6, 400);
    ck_assert_int_eq(t.gro_off, 1);
    for (i = 3; i < 9; i++)
      tun_got_segment(rx, &a, i, 400);
    ck_assert_int_eq(recv(rx, got, sizeof(got), 0), -1);
    ck_assert_int_eq(errno, EAGAIN);
    fake_log_assert(&log, "tunfake0 refused a coalesced write (Message too "
                          "long): writing packets one by one from now on");
    ck_assert_int_eq(log.lines, 1);

    /* from now on one write per packet, nothing held for coalescing */
    tun_write_run(&t, &pool, &a, 9, 4, 400);
    for (i = 9; i < 13; i++)
      tun_got_segment(rx, &a, i, 400);
    ck_assert_int_eq(log.lines, 1);

    ck_assert_uint_eq(t.tx_packets, 3 + 6 + 4);
    ck_assert_uint_eq(t.tx_errors, 0);
    ck_assert_uint_eq(t.gro_writes, 1);
    ck_assert_uint_eq(t.gro_segments, 3);
    ck_assert_uint_eq(t.base.stats.dropped, 0);

    lvpn__tun_io_free(&t);
    close(t.fd);
    close(rx);
    uv_close((uv_handle_t *)&t.base.wake, NULL);
    fake_loop_close(&loop);
    lvpn__pbuf_pool_destroy(&pool);
  }
}
END_TEST

LVPN_TEST_MAIN("tun_offload", 30, setup, teardown,
               test_offload_vnet_hdr_roundtrip, test_offload_segment_tcp4,
               test_offload_segment_tcp6_options, test_offload_segment_udp,
               test_offload_segment_rejects_malformed,
               test_offload_csum_complete,
               test_offload_gro_merges_and_resegments,
               test_offload_gro_must_not_merge,
               test_offload_gro_flows_and_limits,
               test_tun_io_refused_coalesced_write_loses_nothing)
