/* TUN offloads, the packet side (no I/O, no loop): the virtio-net header a
 * tun opened with IFF_VNET_HDR puts before every packet, segmentation of
 * the TCP/UDP super-packets the kernel hands over once TUNSETOFFLOAD has
 * TSO4/TSO6/USO on, completion of partial checksums, and coalescing of
 * received TCP segments into one super-packet for one write (GRO).
 *
 * Facts from the kernel's include/uapi/linux/virtio_net.h and
 * net/ipv4/tcp_offload.c, and wireguard-go's tun/offload_linux.go.
 * Every function here checks lengths against the buffer it is given:
 * malformed input is refused, never read or written past.
 */
#ifndef LVPN_LAYERS_TUN_OFFLOAD_H
#define LVPN_LAYERS_TUN_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* struct virtio_net_hdr: 10 bytes, host byte order (legacy virtio on a
 * little-endian host, which is what tun uses without TUNSETVNETBE). */
#define LVPN__VNET_HDR_LEN 10
#define LVPN__VNET_F_NEEDS_CSUM 1
#define LVPN__VNET_GSO_NONE 0
#define LVPN__VNET_GSO_TCPV4 1
#define LVPN__VNET_GSO_UDP 3 /* UFO: never asked for */
#define LVPN__VNET_GSO_TCPV6 4
#define LVPN__VNET_GSO_UDP_L4 5 /* USO */
#define LVPN__VNET_GSO_ECN 0x80

typedef struct lvpn__vnet_hdr_s {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
} lvpn__vnet_hdr_t;

void lvpn__vnet_hdr_decode(const uint8_t b[LVPN__VNET_HDR_LEN],
                           lvpn__vnet_hdr_t *h);
void lvpn__vnet_hdr_encode(uint8_t b[LVPN__VNET_HDR_LEN],
                           const lvpn__vnet_hdr_t *h);

/* Internet checksum pieces. A partial sum is a 32-bit accumulation of
 * big-endian 16-bit words; lvpn__csum_fold() folds it to 16 bits (not
 * complemented). `n` may be odd only for the last piece of a sum. */
uint32_t lvpn__csum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t lvpn__csum_fold(uint32_t sum);
/* The TCP/UDP pseudo header: addresses of `alen` (4 or 16) bytes each. */
uint32_t lvpn__csum_pseudo(const uint8_t *src, const uint8_t *dst, size_t alen,
                           uint8_t proto, uint32_t l4len);

/** VIRTIO_NET_HDR_F_NEEDS_CSUM on a packet that is not GSO: the field at
 * csum_start + csum_offset holds the pseudo-header sum; fold in the bytes
 * from csum_start to the end and store the complement. 0, or -1 when the
 * offsets do not fit the packet (nothing written). */
int lvpn__offload_csum_complete(uint8_t *pkt, size_t len,
                                const lvpn__vnet_hdr_t *h);

/* ---- segmentation (the read side: TSO/USO super-packets) ---- */

typedef struct lvpn__gso_s {
  const uint8_t *pkt;
  size_t len;
  size_t iphlen;   /* csum_start: the IP header with any extensions */
  size_t hdrlen;   /* IP + TCP/UDP header, copied into every segment */
  size_t gso_size; /* payload bytes per segment (the last may be shorter) */
  size_t off;      /* next payload byte */
  unsigned idx;    /* segments produced */
  int v6, tcp;
  uint32_t seq0;
  uint16_t id0;
} lvpn__gso_t;

/** Checks a super-packet against its virtio-net header (type, IP version
 * and protocol, header lengths parsed from the packet: the kernel's
 * hdr_len is not trusted, gso_size, checksum offset) and prepares the
 * iteration. `pkt` must stay unchanged while segments are taken. 0, or -1
 * when malformed. */
int lvpn__gso_init(lvpn__gso_t *g, const uint8_t *pkt, size_t len,
                   const lvpn__vnet_hdr_t *h);
/** Writes the next segment into `out` (`cap` bytes) as an ordinary packet:
 * IPv4 total length, id (+1 per segment) and header checksum; IPv6 payload
 * length; TCP sequence number, FIN/PSH only on the last segment, CWR only
 * on the first; UDP length; the full TCP/UDP checksum. Returns 1 with
 * `*outlen` set, 0 when all segments were taken, -1 when the segment does
 * not fit in `cap`. */
int lvpn__gso_next(lvpn__gso_t *g, uint8_t *out, size_t cap, size_t *outlen);
/** How many segments the whole packet gives. */
size_t lvpn__gso_count(const lvpn__gso_t *g);

/* ---- coalescing (the write side: GRO before one tun write) ---- */

#define LVPN__GRO_MAX 64        /* packets per batch */
#define LVPN__GRO_MAX_LEN 65535 /* bytes of one super-packet */

typedef struct lvpn__gro_pkt_s {
  uint8_t *data;
  size_t len;
  int next; /* next packet of the same item, -1: last */
} lvpn__gro_pkt_t;

typedef struct lvpn__gro_item_s {
  int first, last; /* packet indexes */
  unsigned n;      /* packets in the item */
  uint8_t tcp;     /* 4 or 6: a TCP segment that may take more; 0: not */
  uint8_t flow;    /* has a TCP 5-tuple (even when it takes no more) */
  uint8_t iphlen, tcphlen;
  uint8_t psh;       /* the last segment has PSH: nothing may follow */
  uint8_t short_;    /* the last segment is shorter than gso_size */
  uint8_t verified;  /* the head's checksum was checked and is right */
  uint16_t gso_size; /* the head's payload */
  uint32_t total;    /* bytes of the super-packet (no vnet header) */
  uint32_t next_seq; /* sequence number the next segment must carry */
  /* The head's fields as they were before lvpn__gro_item_iov readied it
   * (lvpn__gro_item_restore puts them back); `readied`: they are saved. */
  uint8_t readied, head_flags;
  uint16_t head_iplen, head_ipcsum, head_tcpcsum;
} lvpn__gro_item_t;

typedef struct lvpn__gro_s {
  unsigned n_pkts, n_items;
  lvpn__gro_pkt_t pkts[LVPN__GRO_MAX];
  lvpn__gro_item_t items[LVPN__GRO_MAX];
} lvpn__gro_t;

void lvpn__gro_reset(lvpn__gro_t *g);
static inline int lvpn__gro_full(const lvpn__gro_t *g) {
  return g->n_pkts >= LVPN__GRO_MAX;
}
/** Adds one decrypted packet (`data` is borrowed until the batch is
 * written and reset; the head of a merged item is modified by
 * lvpn__gro_item_iov). It joins the latest item of its TCP flow when it
 * continues it (same addresses, ports, ack, IP TOS/TTL/DF or traffic
 * class/flow label/hop limit, TCP header length and options; flags ACK, or
 * ACK|PSH on the last; sequence number right after; no longer than the
 * first; the checksums of both right), else starts a new item. Returns the
 * packet's index, or -1 when full (the caller writes the batch first). */
int lvpn__gro_add(lvpn__gro_t *g, uint8_t *data, size_t len);
/** Readies item `i` for writing: a merged item's head gets its IP length
 * (and IPv4 header checksum), PSH if the last segment had it, and the
 * pseudo-header sum in its TCP checksum field; `vhdr` gets the virtio-net
 * header (GSO TCPV4/TCPV6 with NEEDS_CSUM, or all zero for a single
 * packet). Fills `iov` (room for LVPN__GRO_MAX + 1) with the header, the
 * head and the following segments' payloads; returns the iov count. Call
 * once per item. */
size_t lvpn__gro_item_iov(lvpn__gro_t *g, unsigned i,
                          uint8_t vhdr[LVPN__VNET_HDR_LEN], struct iovec *iov);
/** Undoes what lvpn__gro_item_iov did to item `i`'s head (IP length,
 * IPv4 header checksum, TCP flags and checksum), so that every packet of
 * the item is again the whole packet it was when added and can be written
 * on its own (a device that refused the super-packet). Harmless for an
 * item that was never readied or holds one packet. */
void lvpn__gro_item_restore(lvpn__gro_t *g, unsigned i);

#endif
