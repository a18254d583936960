/* TUN offloads, the packet side. See offload.h. */
#include "layers/tun/offload.h"

#include <string.h>

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80
#define PROTO_TCP 6
#define PROTO_UDP 17

static inline uint16_t rd16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static inline void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

void lvpn__vnet_hdr_decode(const uint8_t b[LVPN__VNET_HDR_LEN],
                           lvpn__vnet_hdr_t *h) {
  h->flags = b[0];
  h->gso_type = b[1];
  memcpy(&h->hdr_len, b + 2, 2);
  memcpy(&h->gso_size, b + 4, 2);
  memcpy(&h->csum_start, b + 6, 2);
  memcpy(&h->csum_offset, b + 8, 2);
}

void lvpn__vnet_hdr_encode(uint8_t b[LVPN__VNET_HDR_LEN],
                           const lvpn__vnet_hdr_t *h) {
  b[0] = h->flags;
  b[1] = h->gso_type;
  memcpy(b + 2, &h->hdr_len, 2);
  memcpy(b + 4, &h->gso_size, 2);
  memcpy(b + 6, &h->csum_start, 2);
  memcpy(b + 8, &h->csum_offset, 2);
}

/* ---- checksums ---- */

/* One's-complement sums do not care about word order as long as it is the
 * same throughout: add native 32-bit words, fold, then swap to big-endian
 * order once. */
uint32_t lvpn__csum_add(uint32_t sum, const uint8_t *p, size_t n) {
  uint64_t s = 0;
  uint32_t w;
  uint16_t h;
  while (n >= 16) {
    uint32_t a, b, c, d;
    memcpy(&a, p, 4);
    memcpy(&b, p + 4, 4);
    memcpy(&c, p + 8, 4);
    memcpy(&d, p + 12, 4);
    s += (uint64_t)a + b + c + d;
    p += 16;
    n -= 16;
  }
  while (n >= 4) {
    memcpy(&w, p, 4);
    s += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    memcpy(&h, p, 2);
    s += h;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    uint8_t last[2] = {p[0], 0};
    memcpy(&h, last, 2);
    s += h;
  }
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  h = (uint16_t)s;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  h = (uint16_t)((h >> 8) | (h << 8));
#endif
  sum += h;
  return sum;
}

uint16_t lvpn__csum_fold(uint32_t sum) {
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

uint32_t lvpn__csum_pseudo(const uint8_t *src, const uint8_t *dst, size_t alen,
                           uint8_t proto, uint32_t l4len) {
  uint32_t sum = lvpn__csum_add(0, src, alen);
  sum = lvpn__csum_add(sum, dst, alen);
  sum += proto;
  sum += l4len >> 16;
  sum += l4len & 0xffff;
  return sum;
}

int lvpn__offload_csum_complete(uint8_t *pkt, size_t len,
                                const lvpn__vnet_hdr_t *h) {
  size_t at = (size_t)h->csum_start + h->csum_offset;
  uint16_t c;
  if (h->csum_start >= len || at + 2 > len)
    return -1;
  /* the field holds the pseudo-header sum: summing over it adds it in */
  c = (uint16_t)~lvpn__csum_fold(
      lvpn__csum_add(0, pkt + h->csum_start, len - h->csum_start));
  wr16(pkt + at, c);
  return 0;
}

/* Address offsets and length of an IPv4 or IPv6 header. */
static void ip_addrs(const uint8_t *pkt, int v6, const uint8_t **src,
                     const uint8_t **dst, size_t *alen) {
  *alen = v6 ? 16 : 4;
  *src = pkt + (v6 ? 8 : 12);
  *dst = *src + *alen;
}

/* ---- segmentation ---- */

int lvpn__gso_init(lvpn__gso_t *g, const uint8_t *pkt, size_t len,
                   const lvpn__vnet_hdr_t *h) {
  unsigned type = h->gso_type & (unsigned)~LVPN__VNET_GSO_ECN;
  size_t l4hlen;
  memset(g, 0, sizeof(*g));
  if (len < 20 || h->gso_size == 0)
    return -1;
  g->v6 = (pkt[0] >> 4) == 6;
  if (!g->v6 && (pkt[0] >> 4) != 4)
    return -1;
  if (type == LVPN__VNET_GSO_TCPV4 || type == LVPN__VNET_GSO_TCPV6) {
    if ((type == LVPN__VNET_GSO_TCPV6) != g->v6)
      return -1;
    g->tcp = 1;
  } else if (type != LVPN__VNET_GSO_UDP_L4) {
    return -1;
  }
  g->iphlen = h->csum_start;
  if (g->v6) {
    /* extension headers are copied as they are; only plain ones when the
     * next header is not the transport itself would need parsing */
    if (g->iphlen < 40 ||
        (g->iphlen == 40 && pkt[6] != (g->tcp ? PROTO_TCP : PROTO_UDP)))
      return -1;
  } else {
    if (g->iphlen != (size_t)(pkt[0] & 0x0f) * 4 || g->iphlen < 20 ||
        pkt[9] != (g->tcp ? PROTO_TCP : PROTO_UDP))
      return -1;
  }
  if (h->csum_offset != (g->tcp ? 16 : 6))
    return -1;
  if (g->tcp) {
    if (len < g->iphlen + 20)
      return -1;
    l4hlen = (size_t)(pkt[g->iphlen + 12] >> 4) * 4;
    if (l4hlen < 20)
      return -1;
  } else {
    l4hlen = 8;
  }
  g->hdrlen = g->iphlen + l4hlen;
  if (len <= g->hdrlen || len > 65535 + (size_t)(g->v6 ? 40 : 0))
    return -1;
  g->pkt = pkt;
  g->len = len;
  g->gso_size = h->gso_size;
  g->off = g->hdrlen;
  if (g->tcp)
    g->seq0 = rd32(pkt + g->iphlen + 4);
  if (!g->v6)
    g->id0 = rd16(pkt + 4);
  return 0;
}

size_t lvpn__gso_count(const lvpn__gso_t *g) {
  return g->pkt == NULL ? 0
                        : (g->len - g->hdrlen + g->gso_size - 1) / g->gso_size;
}

int lvpn__gso_next(lvpn__gso_t *g, uint8_t *out, size_t cap, size_t *outlen) {
  size_t seg, total, l4len, alen;
  const uint8_t *src, *dst;
  uint8_t *l4;
  uint32_t sum;
  uint16_t c;
  int last;

  if (g->pkt == NULL || g->off >= g->len)
    return 0;
  seg = g->len - g->off;
  if (seg > g->gso_size)
    seg = g->gso_size;
  last = g->off + seg == g->len;
  total = g->hdrlen + seg;
  if (total > cap)
    return -1;
  memcpy(out, g->pkt, g->hdrlen);
  memcpy(out + g->hdrlen, g->pkt + g->off, seg);
  if (g->v6) {
    wr16(out + 4, (uint16_t)(total - 40));
  } else {
    wr16(out + 2, (uint16_t)total);
    wr16(out + 4, (uint16_t)(g->id0 + g->idx));
    wr16(out + 10, 0);
    wr16(out + 10,
         (uint16_t)~lvpn__csum_fold(lvpn__csum_add(0, out, g->iphlen)));
  }
  l4 = out + g->iphlen;
  l4len = total - g->iphlen;
  if (g->tcp) {
    wr32(l4 + 4, g->seq0 + (uint32_t)(g->off - g->hdrlen));
    if (!last)
      l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
    if (g->idx > 0)
      l4[13] &= (uint8_t)~TCP_CWR;
    wr16(l4 + 16, 0);
  } else {
    wr16(l4 + 4, (uint16_t)l4len);
    wr16(l4 + 6, 0);
  }
  ip_addrs(out, g->v6, &src, &dst, &alen);
  sum = lvpn__csum_pseudo(src, dst, alen, g->tcp ? PROTO_TCP : PROTO_UDP,
                          (uint32_t)l4len);
  c = (uint16_t)~lvpn__csum_fold(lvpn__csum_add(sum, l4, l4len));
  if (!g->tcp && c == 0)
    c = 0xffff; /* UDP: 0 would mean no checksum */
  wr16(l4 + (g->tcp ? 16 : 6), c);
  g->off += seg;
  g->idx++;
  *outlen = total;
  return 1;
}

/* ---- coalescing ---- */

void lvpn__gro_reset(lvpn__gro_t *g) {
  g->n_pkts = 0;
  g->n_items = 0;
}

/* What lvpn__gro_add learns of one packet. */
typedef struct tcp_info_s {
  int v6; /* 0: IPv4 */
  size_t iphlen, tcphlen, payload;
  uint8_t flags;
  int candidate; /* may join or start a super-packet */
} tcp_info_t;

/* Is `p` a TCP packet whose 5-tuple we can read, and may it be coalesced?
 * Returns 0 when it is not TCP over plain IPv4/IPv6 at all. */
static int tcp_parse(const uint8_t *p, size_t len, tcp_info_t *ti) {
  memset(ti, 0, sizeof(*ti));
  if (len < 20)
    return 0;
  if ((p[0] >> 4) == 4) {
    ti->iphlen = (size_t)(p[0] & 0x0f) * 4;
    if (ti->iphlen != 20 || p[9] != PROTO_TCP || rd16(p + 2) != len)
      return 0;
    /* fragments have no TCP header to trust */
    if ((rd16(p + 6) & 0x3fff) != 0)
      return 0;
  } else if ((p[0] >> 4) == 6) {
    ti->v6 = 1;
    ti->iphlen = 40;
    if (len < 40 || p[6] != PROTO_TCP || (size_t)rd16(p + 4) + 40 != len)
      return 0;
  } else {
    return 0;
  }
  if (len < ti->iphlen + 20)
    return 0;
  ti->tcphlen = (size_t)(p[ti->iphlen + 12] >> 4) * 4;
  if (ti->tcphlen < 20 || len < ti->iphlen + ti->tcphlen)
    return 0;
  ti->payload = len - ti->iphlen - ti->tcphlen;
  ti->flags = p[ti->iphlen + 13];
  ti->candidate = ti->payload > 0 &&
                  (ti->flags == TCP_ACK || ti->flags == (TCP_ACK | TCP_PSH));
  return 1;
}

/* Same addresses and ports (the packet and the item's head parse alike). */
static int same_flow(const uint8_t *a, const uint8_t *b, const tcp_info_t *ti) {
  size_t alen = ti->v6 ? 16 : 4, at = ti->v6 ? 8 : 12;
  return (a[0] >> 4) == (b[0] >> 4) && memcmp(a + at, b + at, 2 * alen) == 0 &&
         memcmp(a + ti->iphlen, b + ti->iphlen, 4) == 0;
}

static int tcp_csum_ok(const uint8_t *p, size_t len, int v6, size_t iphlen) {
  const uint8_t *src, *dst;
  size_t alen;
  uint32_t sum;
  ip_addrs(p, v6, &src, &dst, &alen);
  sum = lvpn__csum_pseudo(src, dst, alen, PROTO_TCP, (uint32_t)(len - iphlen));
  return lvpn__csum_fold(lvpn__csum_add(sum, p + iphlen, len - iphlen)) ==
         0xffff;
}

/* May `p` follow item `it` (whose head is `h`)? */
static int can_append(lvpn__gro_t *g, lvpn__gro_item_t *it, const uint8_t *p,
                      size_t len, const tcp_info_t *ti) {
  const uint8_t *h = g->pkts[it->first].data;
  size_t th = ti->iphlen;
  if (it->tcp == 0 || it->psh || it->short_ || !ti->candidate ||
      it->tcp != (ti->v6 ? 6 : 4) || it->tcphlen != ti->tcphlen ||
      it->n >= LVPN__GRO_MAX)
    return 0;
  if (ti->payload > it->gso_size || it->total + ti->payload > LVPN__GRO_MAX_LEN)
    return 0;
  if (ti->v6) { /* version, traffic class, flow label; hop limit */
    if (memcmp(p, h, 4) != 0 || p[7] != h[7])
      return 0;
  } else { /* TOS; DF and the reserved bit; TTL */
    if (p[1] != h[1] || (p[6] >> 5) != (h[6] >> 5) || p[8] != h[8])
      return 0;
  }
  if (rd32(p + th + 4) != it->next_seq ||
      memcmp(p + th + 8, h + th + 8, 4) != 0 ||                /* ack */
      memcmp(p + th + 20, h + th + 20, ti->tcphlen - 20) != 0) /* options */
    return 0;
  if (!it->verified) {
    if (!tcp_csum_ok(h, g->pkts[it->first].len, ti->v6, th)) {
      it->tcp = 0; /* the kernel must see its bad checksum as it is */
      return 0;
    }
    it->verified = 1;
  }
  return tcp_csum_ok(p, len, ti->v6, th);
}

int lvpn__gro_add(lvpn__gro_t *g, uint8_t *data, size_t len) {
  tcp_info_t ti;
  int idx, is_tcp, i;
  lvpn__gro_item_t *it = NULL;

  if (g->n_pkts >= LVPN__GRO_MAX)
    return -1;
  idx = (int)g->n_pkts++;
  g->pkts[idx].data = data;
  g->pkts[idx].len = len;
  g->pkts[idx].next = -1;
  is_tcp = tcp_parse(data, len, &ti);
  if (is_tcp) {
    /* the flow's latest item only: its segments stay in order */
    for (i = (int)g->n_items - 1; i >= 0; i--) {
      lvpn__gro_item_t *c = &g->items[i];
      if (c->flow && c->iphlen == ti.iphlen &&
          same_flow(data, g->pkts[c->first].data, &ti)) {
        it = c;
        break;
      }
    }
    if (it != NULL && can_append(g, it, data, len, &ti)) {
      g->pkts[it->last].next = idx;
      it->last = idx;
      it->n++;
      it->total += (uint32_t)ti.payload;
      it->next_seq += (uint32_t)ti.payload;
      it->psh = (ti.flags & TCP_PSH) != 0;
      it->short_ = ti.payload < it->gso_size;
      return idx;
    }
  }
  it = &g->items[g->n_items++];
  memset(it, 0, sizeof(*it));
  it->first = it->last = idx;
  it->n = 1;
  it->total = (uint32_t)len;
  if (is_tcp) {
    it->flow = 1;
    it->iphlen = (uint8_t)ti.iphlen;
    it->tcphlen = (uint8_t)ti.tcphlen;
    if (ti.candidate && len <= LVPN__GRO_MAX_LEN) {
      it->tcp = ti.v6 ? 6 : 4;
      it->psh = (ti.flags & TCP_PSH) != 0;
      it->gso_size = (uint16_t)ti.payload;
      it->next_seq = rd32(data + ti.iphlen + 4) + (uint32_t)ti.payload;
    }
  }
  return idx;
}

size_t lvpn__gro_item_iov(lvpn__gro_t *g, unsigned i,
                          uint8_t vhdr[LVPN__VNET_HDR_LEN], struct iovec *iov) {
  lvpn__gro_item_t *it = &g->items[i];
  lvpn__vnet_hdr_t vh;
  uint8_t *h = g->pkts[it->first].data;
  size_t n = 0, hl = (size_t)it->iphlen + it->tcphlen, alen;
  const uint8_t *src, *dst;
  int k;

  memset(&vh, 0, sizeof(vh));
  if (it->n > 1) {
    int v6 = it->tcp == 6;
    it->readied = 1;
    it->head_iplen = rd16(h + (v6 ? 4 : 2));
    it->head_ipcsum = v6 ? 0 : rd16(h + 10);
    it->head_flags = h[it->iphlen + 13];
    it->head_tcpcsum = rd16(h + it->iphlen + 16);
    if (v6) {
      wr16(h + 4, (uint16_t)(it->total - 40));
    } else {
      wr16(h + 2, (uint16_t)it->total);
      wr16(h + 10, 0);
      wr16(h + 10, (uint16_t)~lvpn__csum_fold(lvpn__csum_add(0, h, 20)));
    }
    if (it->psh)
      h[it->iphlen + 13] |= TCP_PSH;
    ip_addrs(h, v6, &src, &dst, &alen);
    /* CHECKSUM_PARTIAL: the kernel finishes it from csum_start */
    wr16(h + it->iphlen + 16,
         lvpn__csum_fold(lvpn__csum_pseudo(src, dst, alen, PROTO_TCP,
                                           it->total - it->iphlen)));
    vh.flags = LVPN__VNET_F_NEEDS_CSUM;
    vh.gso_type = v6 ? LVPN__VNET_GSO_TCPV6 : LVPN__VNET_GSO_TCPV4;
    vh.hdr_len = (uint16_t)hl;
    vh.gso_size = it->gso_size;
    vh.csum_start = it->iphlen;
    vh.csum_offset = 16;
  }
  lvpn__vnet_hdr_encode(vhdr, &vh);
  iov[n].iov_base = vhdr;
  iov[n++].iov_len = LVPN__VNET_HDR_LEN;
  iov[n].iov_base = h;
  iov[n++].iov_len = g->pkts[it->first].len;
  for (k = g->pkts[it->first].next; k >= 0; k = g->pkts[k].next) {
    iov[n].iov_base = g->pkts[k].data + hl;
    iov[n++].iov_len = g->pkts[k].len - hl;
  }
  return n;
}

void lvpn__gro_item_restore(lvpn__gro_t *g, unsigned i) {
  lvpn__gro_item_t *it = &g->items[i];
  uint8_t *h = g->pkts[it->first].data;
  if (!it->readied)
    return;
  if (it->tcp == 6) {
    wr16(h + 4, it->head_iplen);
  } else {
    wr16(h + 2, it->head_iplen);
    wr16(h + 10, it->head_ipcsum);
  }
  h[it->iphlen + 13] = it->head_flags;
  wr16(h + it->iphlen + 16, it->head_tcpcsum);
  it->readied = 0;
}
