/* udpbatch: batched UDP I/O for networkio (Linux UDP GSO and GRO).
 *
 * Used for a direct UDP link (no proxy; a SOCKS relay prefixes each
 * datagram with its own header, so nothing is coalesced there) without
 * passtos (its per-packet IP_TOS would apply to a whole batch), unless
 * LVPN_NO_UDP_OFFLOAD=1 is set in the environment.
 *
 * One reader and one writer per socket: the socket is still created, bound
 * and closed through networkio's uv_udp_t, but that handle never starts
 * receiving or queues a send (either would register libuv's own watcher on
 * the fd). All I/O goes through one uv_poll_t on the same fd:
 *  - receive: UDP_GRO is enabled; each recvmmsg takes up to
 *    LVPN__UDPBATCH_VLEN messages, and every message can hold several
 *    datagrams of one sender coalesced, split by the segment size of its
 *    UDP_GRO control message. Each message scatters into a fresh pbuf
 *    first, then its slice of the large buffer: the first (usually the
 *    only) datagram lands in its pbuf with no copy; further coalesced ones
 *    are copied into their own pbufs. A call that fills fewer messages than
 *    it offered found the socket empty. Each datagram goes through
 *    networkio's usual checks (foreign address, float).
 *  - send: pbufs from above wait in a small ring; at the end of the loop
 *    turn (a uv_prepare_t, which runs before the loop blocks, so a packet
 *    never waits for the next event) the ring is flushed: runs of equal-size
 *    datagrams (the last may be shorter) go out in one sendmsg with a
 *    UDP_SEGMENT control message, the iovec pointing into the pbufs (no
 *    copy). EAGAIN keeps the ring and waits for UV_WRITABLE. EIO on a GSO
 *    send turns GSO off; EINVAL (also: segments over the path MTU) stops
 *    GSO for that segment size and larger; logged once, and the run is
 *    sent singly.
 *  - receive hold (interrupt moderation, as a NIC's rx-usecs): a wake-up
 *    that found a few datagrams of a stream (the previous read was under
 *    LVPN__UDPBATCH_STREAM_GAP_US ago, or ended a hold) stops reading the
 *    socket for a while (a timerfd, made on the first hold: libuv's timers
 *    have 1 ms resolution), so that the next wake-up finds a larger batch:
 *    fewer wake-ups, fuller GRO reads and fuller coalesced TUN writes,
 *    each one a TCP receive and an ACK less for the kernel. A hold lasts
 *    as long as LVPN__UDPBATCH_HOLD_TARGET datagrams of the stream take to
 *    come (its smoothed rate), from `hold_us` up to
 *    LVPN__UDPBATCH_HOLD_STRETCH_PCT % of it: a slower stream costs as
 *    few wake-ups per byte as a fast one. The delay is bounded by that
 *    (count and time bound the batch); isolated packets (a ping, an
 *    interactive session) and streams of small datagrams (the ACKs of an
 *    upload) are never held.
 *    LVPN_UDP_RX_HOLD_US in the environment sets `hold_us` (0: off).
 *
 * The loop-free parts (segment splitting, run selection, the cmsg, the hold
 * decision) are exported for the unit tests.
 */
#ifndef LVPN_LAYERS_NETWORKIO_UDPBATCH_H
#define LVPN_LAYERS_NETWORKIO_UDPBATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "lib/pbuf.h"

#define LVPN__UDPBATCH_MAX_SEGS 64 /* kernels before 6.x: UDP_MAX_SEGMENTS */
#define LVPN__UDPBATCH_MAX_BYTES 65000 /* one GSO send, under 64 KiB IP */
#define LVPN__UDPBATCH_RING 256        /* pbufs waiting to be sent */
#define LVPN__UDPBATCH_RXBUF 65536     /* one GRO receive */
#define LVPN__UDPBATCH_VLEN 8          /* messages per recvmmsg */
#define LVPN__UDPBATCH_READS 32        /* messages read per wake-up */
#define LVPN__UDPBATCH_HOLD_US 400     /* default receive hold */
#define LVPN__UDPBATCH_HOLD_MAX_US 5000
#define LVPN__UDPBATCH_HOLD_BATCH 32   /* a wake-up with this many: no hold */
#define LVPN__UDPBATCH_STREAM_GAP_US 1000 /* reads closer than this: a stream */
#define LVPN__UDPBATCH_HOLD_MIN_LEN 512 /* mean datagram: bulk data, not ACKs */
#define LVPN__UDPBATCH_HOLD_TARGET 32  /* datagrams a hold waits for */
#define LVPN__UDPBATCH_HOLD_STRETCH_PCT 250 /* longest hold, % of hold_us */

typedef struct lvpn__networkio_s lvpn__networkio_t;

/* Embedded in lvpn__networkio_t. */
typedef struct lvpn__udpbatch_s {
  int on;             /* this path carries the link's datagrams */
  int gso;            /* UDP_SEGMENT sends (off after EIO) */
  size_t gso_seg_max; /* longest segment GSO takes (lowered by EINVAL) */
  int gso_logged;     /* the first refusal was logged */
  int gro;            /* UDP_GRO was accepted by the socket */
  int gro_asked;      /* UDP_GRO was asked for (accepted or not) */
  int poll_inited;    /* `poll` exists (from open on) */
  int want_write;     /* EAGAIN: waiting for UV_WRITABLE */
  uv_poll_t poll;
  uv_prepare_t flush;
  int holding;           /* the socket is not read until `hold` fires */
  int hold_fd;           /* timerfd, made on the first hold; or -1 */
  unsigned hold_us;      /* 0: no receive hold; else the shortest hold */
  uint64_t gap_ns_avg;   /* a stream's time between datagrams, smoothed
                            (0: no stream yet) */
  uint64_t last_rx_ns;   /* uv_hrtime() of the last read that found data */
  uv_poll_t hold;        /* on hold_fd (exists when hold_fd >= 0) */
  uint8_t *rxbuf; /* LVPN__UDPBATCH_VLEN slices of LVPN__UDPBATCH_RXBUF
                     bytes from open on, shared by
                     the thread's sockets (udpbatch.c) */
  lvpn__pbuf_t *ring[LVPN__UDPBATCH_RING];
  unsigned head, count;
  uint64_t gso_sends;     /* sendmsg calls carrying more than one datagram */
  uint64_t gro_datagrams; /* datagrams that came coalesced */
  uint64_t rx_in_place;   /* datagrams received straight into their pbuf */
  uint64_t rx_holds;      /* receive holds started */
  uint64_t rx_hold_us;    /* their lengths, summed */
} lvpn__udpbatch_t;

/* The length of the datagram at offset `off` of a received buffer of `len`
 * bytes cut into `seg`-byte datagrams (the last may be shorter; seg 0: the
 * whole buffer is one). 0 once off reaches len. */
size_t lvpn__udpbatch_split(size_t len, size_t seg, size_t off);

/* How many of the datagrams lens[0..n-1] go out in one GSO send: all of
 * the size of the first but the last, which may be shorter; at most
 * `max_segs` and `max_bytes` in total. Returns at least 1 when n > 0. */
size_t lvpn__udpbatch_run(const size_t *lens, size_t n, size_t max_segs,
                          size_t max_bytes);

/* Writes a SOL_UDP/UDP_SEGMENT control message for `seg`-byte segments
 * into `ctrl` (aligned, at least CMSG_SPACE(sizeof(uint16_t)) bytes) and
 * returns its length, or 0 when `cap` is too small. */
size_t lvpn__udpbatch_gso_cmsg(void *ctrl, size_t cap, uint16_t seg);

/* The segment size from a received message's UDP_GRO control message, or
 * 0 when there is none (one datagram). */
size_t lvpn__udpbatch_gro_size(const struct msghdr *msg);

/* Copies `len` bytes from offset `off` of a message received in two parts
 * (head[0..hlen), then rest) to dst. */
void lvpn__udpbatch_copy_out(uint8_t *dst, const uint8_t *head, size_t hlen,
                             const uint8_t *rest, size_t off, size_t len);

/* Whether a read `gap_ns` after the previous one that found data is part
 * of a stream (under LVPN__UDPBATCH_STREAM_GAP_US). */
int lvpn__udpbatch_in_stream(uint64_t gap_ns);

/* Whether a wake-up that read `got` datagrams of `bytes` in all
 * (`drained`: until EAGAIN) `gap_ns` after the previous read that found
 * any should stop reading for `hold_us`: only in a stream (gap under
 * LVPN__UDPBATCH_STREAM_GAP_US) of bulk data (a mean datagram of at least
 * LVPN__UDPBATCH_HOLD_MIN_LEN: the TCP ACKs coming back during an upload
 * are not held, batching them would make the sender burst), only when the
 * batch was small and the socket is empty. */
int lvpn__udpbatch_should_hold(unsigned got, size_t bytes, int drained,
                               uint64_t gap_ns, unsigned hold_us);

/* The stream's smoothed time between datagrams after a read of `got`
 * datagrams `gap_ns` after the previous read that found any: `avg` moved a
 * quarter of the way to gap_ns / got (or set to it when avg is 0). */
uint64_t lvpn__udpbatch_gap_avg(uint64_t avg, unsigned got, uint64_t gap_ns);

/* How long a hold lasts in a stream whose datagrams come `gap_ns_avg`
 * apart: long enough for LVPN__UDPBATCH_HOLD_TARGET of them, but at least
 * `hold_us` and at most LVPN__UDPBATCH_HOLD_STRETCH_PCT % of it. */
unsigned lvpn__udpbatch_hold_len(unsigned hold_us, uint64_t gap_ns_avg);

/* LVPN_UDP_RX_HOLD_US's value (`env`, may be NULL) as microseconds: the
 * default when unset, 0..LVPN__UDPBATCH_HOLD_MAX_US, or -1 when invalid. */
long lvpn__udpbatch_hold_us(const char *env);

/* Whether a link can batch at all: a direct UDP socket (`tcp` and
 * `proxied` 0) without passtos, which sets IP_TOS per packet (a batch
 * would send earlier packets with a later packet's TOS). The client's
 * start asks it of each remote (lvpn__client_offload_unused). */
int lvpn__udpbatch_possible(int tcp, int proxied, int passtos);

/* ---- the loop part: used by networkio.c ---- */

/* Whether networkio should use this path: a direct UDP link, no passtos
 * and no LVPN_NO_UDP_OFFLOAD=1 in the environment. */
int lvpn__udpbatch_wanted(const lvpn__networkio_t *n);
/* Once at init (no I/O); hold_us from lvpn__udpbatch_hold_us (0: off). */
void lvpn__udpbatch_init(lvpn__networkio_t *n, unsigned hold_us);
/* After the uv_udp_t is bound: starts the poll handle and enables GRO
 * (unless n->gro_later). Returns 0 or a libuv error. */
int lvpn__udpbatch_open(lvpn__networkio_t *n);
/* Enables GRO on the open socket; once. */
void lvpn__udpbatch_gro_on(lvpn__networkio_t *n);
/* Takes ownership of p (already traced): queued for the end of the turn. */
void lvpn__udpbatch_send(lvpn__networkio_t *n, lvpn__pbuf_t *p);
void lvpn__udpbatch_stop(lvpn__networkio_t *n);
/* Closes the poll and prepare handles (before the uv_udp_t closes the fd)
 * and frees what is queued. */
void lvpn__udpbatch_close(lvpn__networkio_t *n);

#endif
