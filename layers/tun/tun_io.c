/* tun: reading and writing the device, with or without TUN offloads.
 *
 * With offloads (IFF_VNET_HDR + TUNSETOFFLOAD) every read starts with a
 * virtio-net header. A read lands in a pbuf first and spills into one large
 * buffer only when it is a super-packet; offload.c then cuts it into
 * ordinary packets, each written straight into its own pbuf with the
 * headroom the data channel needs. On the way in, the packets one wake of
 * this layer drains are coalesced per TCP flow (offload.c) and each
 * super-packet goes out in one writev over the pbufs: nothing waits for
 * more packets than are already queued. */
#include "layers/tun/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Spilled reads: room in front for the part that went into the pbuf, so
 * the super-packet is contiguous after one small copy. */
#define SPILL_FRONT LVPN_PBUF_CAP
#define SPILL_LEN (65535 + 1)

struct lvpn__tun_io_s {
  uint8_t rxbuf[SPILL_FRONT + SPILL_LEN];
  lvpn__gro_t gro;
  lvpn__pbuf_t *pending[LVPN__GRO_MAX]; /* owned until written */
  struct iovec iov[LVPN__GRO_MAX + 1];
};

int lvpn__tun_io_init(lvpn__tun_layer_t *t) {
  if (t->offload == 0 || t->io != NULL)
    return 0;
  t->io = malloc(sizeof(*t->io));
  if (t->io == NULL)
    return LVPN_ENOMEM;
  lvpn__gro_reset(&t->io->gro);
  return 0;
}

void lvpn__tun_io_free(lvpn__tun_layer_t *t) {
  unsigned i;
  if (t->io == NULL)
    return;
  for (i = 0; i < t->io->gro.n_pkts; i++)
    lvpn__pbuf_free(t->io->pending[i]);
  free(t->io);
  t->io = NULL;
}

/* Outbound: towards the datachannel. Owns `p`. */
void lvpn__tun_send(lvpn__tun_layer_t *t, lvpn__pbuf_t *p) {
  if (t->hooks != NULL && t->hooks->active != 0)
    lvpn__hooks_process(t->hooks, LVPN_INSIDE_OUTBOUND, p);
  else
    lvpn__layer_send_down(&t->base, p);
}

/* One write of a whole packet, behind a zero virtio-net header when the
 * device wants one. */
static int tun_write_one(lvpn__tun_layer_t *t, const uint8_t *pkt, size_t len) {
  uint8_t vh[LVPN__VNET_HDR_LEN];
  struct iovec iov[2];
  ssize_t n;
  if (t->offload == 0)
    return write(t->fd, pkt, len) == (ssize_t)len ? 0 : -1;
  memset(vh, 0, sizeof(vh));
  iov[0].iov_base = vh;
  iov[0].iov_len = sizeof(vh);
  iov[1].iov_base = (void *)pkt;
  iov[1].iov_len = len;
  n = writev(t->fd, iov, 2);
  return n == (ssize_t)(len + sizeof(vh)) ? 0 : -1;
}

/* tun_write_one, counted in tx_packets/tx_bytes or tx_errors: 0 or -1. */
static int tun_write_counted(lvpn__tun_layer_t *t, const uint8_t *pkt,
                             size_t len) {
  if (tun_write_one(t, pkt, len) != 0) {
    t->tx_errors++;
    return -1;
  }
  t->tx_packets++;
  t->tx_bytes += len;
  return 0;
}

/* block-ipv6: the packet never leaves; the answer goes back on the tun. */
static void tun_block6(lvpn__tun_layer_t *t, const lvpn__pbuf_t *p) {
  uint8_t out[1280];
  size_t n =
      lvpn__icmp6_unreachable(p->data, p->len, t->block_src6, out, sizeof(out));
  t->blocked6++;
  if (n > 0 && tun_write_one(t, out, n) != 0)
    t->tx_errors++;
}

/* A packet to the server's own address would be encrypted, sent, routed
 * back into the device and read again (OpenVPN's
 * drop_if_recursive_routing): 1 to drop it. */
static int tun_recursive(lvpn__tun_layer_t *t, const lvpn__pbuf_t *p) {
  char a[48];
  int v = p->len > 0 ? p->data[0] >> 4 : 0;
  int hit = t->rr_family == AF_INET
                ? v == 4 && p->len >= 20 &&
                      memcmp(p->data + 16, t->rr_addr, 4) == 0
                : v == 6 && p->len >= 40 &&
                      memcmp(p->data + 24, t->rr_addr, 16) == 0;
  if (!hit)
    return 0;
  if (t->recursive_drops++ == 0) {
    inet_ntop(t->rr_family, t->rr_addr, a, sizeof(a));
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "Recursive routing detected, drop tun packet to %s (further "
              "ones counted in tun.recursive_drops; allow-recursive-routing "
              "sends them)",
              a);
  }
  return 1;
}

/* One ordinary packet read (or cut from a super-packet). Owns `p`. */
static void tun_got(lvpn__tun_layer_t *t, lvpn__pbuf_t *p) {
  t->rx_packets++;
  t->rx_bytes += p->len;
  if (t->rr_family != 0 && tun_recursive(t, p)) {
    lvpn__pbuf_free(p);
    return;
  }
  if (t->block_ipv6 && p->len > 0 && (p->data[0] >> 4) == 6) {
    tun_block6(t, p);
    lvpn__pbuf_free(p);
    return;
  }
  LVPN__TRACE_PKT(t->base.trace, 1, t->base.name, "read", "bytes=%zu", p->len);
  LVPN__TAP(t->base.trace, LVPN_TAP_INSIDE, 1, 0, NULL, NULL, p->data, p->len);
  lvpn__tun_send(t, p);
}

/* A TSO/USO super-packet of `len` bytes whose first `inpbuf` bytes are in
 * `p` and the rest in the spill buffer: cut it into pbufs (`p` is reused
 * for the first). Owns `p`. */
static void tun_segment(lvpn__tun_layer_t *t, lvpn__pbuf_t *p, size_t len,
                        size_t inpbuf, const lvpn__vnet_hdr_t *vh) {
  uint8_t *pkt = t->io->rxbuf + SPILL_FRONT - inpbuf;
  lvpn__gso_t g;
  size_t seglen;
  int r;

  memcpy(pkt, p->data, inpbuf);
  if (lvpn__gso_init(&g, pkt, len, vh) != 0) {
    t->offload_errors++;
    lvpn__layer_drop(&t->base, p);
    return;
  }
  t->tso_superpackets++;
  for (;;) {
    if (p == NULL && (p = lvpn__pbuf_alloc(t->pool)) == NULL) {
      t->rx_no_buffer++;
      return;
    }
    r = lvpn__gso_next(&g, p->data, lvpn__pbuf_tailroom(p), &seglen);
    if (r <= 0) {
      if (r < 0) /* a segment larger than a pbuf: tun-mtu too large */
        t->offload_errors++;
      lvpn__pbuf_free(p);
      return;
    }
    p->len = seglen;
    t->tso_segments++;
    tun_got(t, p);
    p = NULL;
    if (!lvpn__layer_running(&t->base))
      return;
  }
}

/* Returns 1 to read on, 0 when the device is drained (or failed). */
static int tun_read_one(lvpn__tun_layer_t *t) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(t->pool);
  uint8_t vhb[LVPN__VNET_HDR_LEN];
  lvpn__vnet_hdr_t vh;
  struct iovec iov[3];
  size_t room, len;
  ssize_t n;

  if (p == NULL) {
    t->rx_no_buffer++;
    return 0;
  }
  room = lvpn__pbuf_tailroom(p);
  if (t->offload == 0) {
    n = read(t->fd, p->data, room);
  } else {
    iov[0].iov_base = vhb;
    iov[0].iov_len = sizeof(vhb);
    iov[1].iov_base = p->data;
    iov[1].iov_len = room;
    iov[2].iov_base = t->io->rxbuf + SPILL_FRONT;
    iov[2].iov_len = SPILL_LEN;
    n = readv(t->fd, iov, 3);
  }
  if (n <= 0) {
    int e = errno;
    lvpn__pbuf_free(p);
    if (n < 0 && e != EAGAIN && e != EINTR) {
      LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name, "read %s: %s",
                t->ifname, strerror(e));
      lvpn__layer_fail(&t->base, LVPN_ETUN);
    }
    return 0;
  }
  if (t->offload == 0) {
    p->len = (size_t)n;
    tun_got(t, p);
    return 1;
  }
  if ((size_t)n < sizeof(vhb)) {
    t->offload_errors++;
    lvpn__layer_drop(&t->base, p);
    return 1;
  }
  len = (size_t)n - sizeof(vhb);
  lvpn__vnet_hdr_decode(vhb, &vh);
  if (vh.gso_type != LVPN__VNET_GSO_NONE) {
    tun_segment(t, p, len, len < room ? len : room, &vh);
    return 1;
  }
  if (len > room) { /* larger than a pbuf: as without offloads, dropped */
    t->offload_errors++;
    lvpn__layer_drop(&t->base, p);
    return 1;
  }
  p->len = len;
  if (vh.flags & LVPN__VNET_F_NEEDS_CSUM) {
    if (lvpn__offload_csum_complete(p->data, len, &vh) != 0) {
      t->offload_errors++;
      lvpn__layer_drop(&t->base, p);
      return 1;
    }
    t->csum_completed++;
  }
  tun_got(t, p);
  return 1;
}

void lvpn__tun_io_read(lvpn__tun_layer_t *t) {
  unsigned i;
  /* Bounded per wake-up, like the queues, so reading cannot starve. */
  for (i = 0; i < t->base.budget && lvpn__layer_running(&t->base); i++)
    if (!tun_read_one(t))
      return;
}

/* The device refused item `i`'s super-packet: coalescing stops for good
 * (logged once) and the item's packets, their head put back as it came,
 * are written one by one, so the refusal loses none of them. */
static void tun_write_refused(lvpn__tun_layer_t *t, unsigned i, int e) {
  lvpn__tun_io_t *io = t->io;
  int k;
  if (!t->gro_off) /* the first refusal (a batch may hold more) */
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "%s refused a coalesced write (%s): writing packets one by one "
              "from now on",
              t->ifname, strerror(e));
  t->gro_off = 1;
  lvpn__gro_item_restore(&io->gro, i);
  for (k = io->gro.items[i].first; k >= 0; k = io->gro.pkts[k].next)
    (void)tun_write_counted(t, io->gro.pkts[k].data, io->gro.pkts[k].len);
}

void lvpn__tun_io_flush(lvpn__tun_layer_t *t) {
  lvpn__tun_io_t *io = t->io;
  uint8_t vh[LVPN__VNET_HDR_LEN];
  unsigned i, k;

  if (io == NULL)
    return;
  for (i = 0; i < io->gro.n_items; i++) {
    const lvpn__gro_item_t *it = &io->gro.items[i];
    size_t niov = lvpn__gro_item_iov(&io->gro, i, vh, io->iov);
    size_t want = 0;
    for (k = 0; k < niov; k++)
      want += io->iov[k].iov_len;
    if (writev(t->fd, io->iov, (int)niov) != (ssize_t)want) {
      if (it->n > 1)
        tun_write_refused(t, i, errno);
      else
        t->tx_errors++;
      continue;
    }
    if (it->n > 1) {
      t->gro_writes++;
      t->gro_segments += it->n;
    }
    t->tx_packets += it->n;
    t->tx_bytes += want - sizeof(vh) +
                   (size_t)(it->n - 1) * ((size_t)it->iphlen + it->tcphlen);
  }
  for (i = 0; i < io->gro.n_pkts; i++)
    lvpn__pbuf_free(io->pending[i]);
  lvpn__gro_reset(&io->gro);
}

void lvpn__tun_io_write(lvpn__tun_layer_t *t, lvpn__pbuf_t *p) {
  lvpn__tun_io_t *io = t->io;
  int idx;
  if (io == NULL || t->gro_off) {
    if (tun_write_counted(t, p->data, p->len) != 0)
      lvpn__layer_drop(&t->base, p);
    else
      lvpn__pbuf_free(p);
    return;
  }
  idx = lvpn__gro_add(&io->gro, p->data, p->len);
  if (idx < 0) { /* cannot happen: flushed when full */
    lvpn__tun_io_flush(t);
    idx = lvpn__gro_add(&io->gro, p->data, p->len);
  }
  io->pending[idx] = p;
  /* The batch is what is queued now: once the queue is empty (or the
   * table full) it goes out, so coalescing never holds a packet back. */
  if (lvpn__gro_full(&io->gro) || lvpn__queue_empty(&t->base.up_in))
    lvpn__tun_io_flush(t);
}
