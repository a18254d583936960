/* Batched UDP I/O for networkio: GSO sends, GRO receives (see udpbatch.h
 * for the design: one uv_poll_t is the socket's only reader and writer). */
#include "layers/networkio/udpbatch.h"
#include "layers/networkio/networkio.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#define LAYER_NAME "networkio"

/* ---- loop-free parts ---- */

size_t lvpn__udpbatch_split(size_t len, size_t seg, size_t off) {
  if (off >= len)
    return 0;
  if (seg == 0 || len - off < seg)
    return len - off;
  return seg;
}

size_t lvpn__udpbatch_run(const size_t *lens, size_t n, size_t max_segs,
                          size_t max_bytes) {
  size_t i, total;

  if (n == 0)
    return 0;
  total = lens[0];
  for (i = 1; i < n && i < max_segs; i++) {
    if (lens[i] > lens[0] || total + lens[i] > max_bytes)
      break;
    total += lens[i];
    if (lens[i] < lens[0]) /* a shorter one ends the run */
      return i + 1;
  }
  return i;
}

size_t lvpn__udpbatch_gso_cmsg(void *ctrl, size_t cap, uint16_t seg) {
  struct msghdr m;
  struct cmsghdr *c;

  if (cap < CMSG_SPACE(sizeof(uint16_t)))
    return 0;
  memset(ctrl, 0, CMSG_SPACE(sizeof(uint16_t)));
  memset(&m, 0, sizeof(m));
  m.msg_control = ctrl;
  m.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
  c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  memcpy(CMSG_DATA(c), &seg, sizeof(seg));
  return CMSG_SPACE(sizeof(uint16_t));
}

size_t lvpn__udpbatch_gro_size(const struct msghdr *msg) {
  struct cmsghdr *c;

  for (c = CMSG_FIRSTHDR(msg); c != NULL;
       c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
    if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO)
      continue;
    if (c->cmsg_len >= CMSG_LEN(sizeof(int))) { /* the kernel sends an int */
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof(v));
      return v > 0 ? (size_t)v : 0;
    }
    if (c->cmsg_len >= CMSG_LEN(sizeof(uint16_t))) {
      uint16_t v;
      memcpy(&v, CMSG_DATA(c), sizeof(v));
      return v;
    }
  }
  return 0;
}

int lvpn__udpbatch_in_stream(uint64_t gap_ns) {
  return gap_ns < (uint64_t)LVPN__UDPBATCH_STREAM_GAP_US * 1000;
}

int lvpn__udpbatch_should_hold(unsigned got, size_t bytes, int drained,
                               uint64_t gap_ns, unsigned hold_us) {
  return hold_us > 0 && got > 0 && got < LVPN__UDPBATCH_HOLD_BATCH &&
         bytes >= (size_t)got * LVPN__UDPBATCH_HOLD_MIN_LEN && drained &&
         lvpn__udpbatch_in_stream(gap_ns);
}

uint64_t lvpn__udpbatch_gap_avg(uint64_t avg, unsigned got, uint64_t gap_ns) {
  uint64_t sample;

  if (got == 0)
    return avg;
  sample = gap_ns / got;
  return avg == 0 ? sample : avg - avg / 4 + sample / 4;
}

unsigned lvpn__udpbatch_hold_len(unsigned hold_us, uint64_t gap_ns_avg) {
  uint64_t want = gap_ns_avg / 1000 * LVPN__UDPBATCH_HOLD_TARGET;
  uint64_t most = (uint64_t)hold_us * LVPN__UDPBATCH_HOLD_STRETCH_PCT / 100;

  if (want < hold_us)
    return hold_us;
  return (unsigned)(want > most ? most : want);
}

long lvpn__udpbatch_hold_us(const char *env) {
  char *end;
  long v;

  if (env == NULL || *env == '\0')
    return LVPN__UDPBATCH_HOLD_US;
  errno = 0;
  v = strtol(env, &end, 10);
  if (errno != 0 || *end != '\0' || v < 0 || v > LVPN__UDPBATCH_HOLD_MAX_US)
    return -1;
  return v;
}

/* ---- the loop part ---- */

int lvpn__udpbatch_possible(int tcp, int proxied, int passtos) {
  return !tcp && !proxied && !passtos;
}

int lvpn__udpbatch_wanted(const lvpn__networkio_t *n) {
  const char *e = getenv("LVPN_NO_UDP_OFFLOAD");
  if (!lvpn__udpbatch_possible(lvpn__net_proto_is_tcp(n->proto),
                               n->proxy != NULL, n->passtos) ||
      n->no_udp_offload)
    return 0;
  return e == NULL || strcmp(e, "1") != 0;
}

static void prepare_cb(uv_prepare_t *h);
static void poll_cb(uv_poll_t *h, int status, int events);
static void hold_cb(uv_poll_t *h, int status, int events);

/* The socket's poll: readable unless held, writable while a send waits. */
static int poll_update(lvpn__udpbatch_t *b) {
  int ev = (b->holding ? 0 : UV_READABLE) | (b->want_write ? UV_WRITABLE : 0);
  return ev == 0 ? uv_poll_stop(&b->poll) : uv_poll_start(&b->poll, ev, poll_cb);
}

/* One GRO receive buffer per thread, shared by every socket of the loop(s)
 * the thread runs (a loop and its handles belong to one thread): a wake-up
 * copies each datagram into a pbuf before it returns, so the buffer holds
 * nothing between two of them, and 512 KiB per socket would be what a
 * thousand sessions in one process spend on it. It is one 64 KiB slice per
 * message of a recvmmsg; a page of it becomes resident only when a GRO
 * message reaches that far into its slice (most messages fit their pbuf).
 * Taken at open, freed with its last user's close. */
static _Thread_local uint8_t *rx_scratch;
static _Thread_local unsigned rx_users;

static uint8_t *rx_scratch_take(void) {
  if (rx_scratch == NULL &&
      (rx_scratch = malloc(LVPN__UDPBATCH_RXBUF * LVPN__UDPBATCH_VLEN)) ==
          NULL)
    return NULL;
  rx_users++;
  return rx_scratch;
}

static void rx_scratch_put(void) {
  if (rx_users > 0 && --rx_users == 0) {
    free(rx_scratch);
    rx_scratch = NULL;
  }
}

void lvpn__udpbatch_init(lvpn__networkio_t *n, unsigned hold_us) {
  lvpn__udpbatch_t *b = &n->batch;

  memset(b, 0, sizeof(*b));
  b->on = lvpn__udpbatch_wanted(n);
  if (!b->on) {
    if (n->no_udp_offload && !lvpn__net_proto_is_tcp(n->proto))
      LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME,
                "UDP offload off (disable-offload): one datagram per call");
    return;
  }
  b->gso = 1;
  b->gso_seg_max = SIZE_MAX;
  b->hold_fd = -1;
  b->hold_us = hold_us;
  uv_prepare_init(n->base.loop, &b->flush);
}

static int fd_of(lvpn__networkio_t *n) {
  uv_os_fd_t fd;
  return uv_fileno((const uv_handle_t *)&n->udp, &fd) == 0 ? fd : -1;
}

int lvpn__udpbatch_open(lvpn__networkio_t *n) {
  lvpn__udpbatch_t *b = &n->batch;
  int fd = fd_of(n), err;

  if (fd < 0)
    return UV_EBADF;
  b->rxbuf = rx_scratch_take();
  if (b->rxbuf == NULL)
    return UV_ENOMEM;
  err = uv_poll_init(n->base.loop, &b->poll, fd);
  if (err != 0)
    return err;
  b->poll_inited = 1;
  if (!n->gro_later)
    lvpn__udpbatch_gro_on(n);
  err = uv_poll_start(&b->poll, UV_READABLE, poll_cb);
  if (err == 0)
    LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME,
              "UDP offload: GSO send (until refused), GRO receive %s, "
              "receive hold %u us",
              n->gro_later ? "once the tunnel is up"
              : b->gro     ? "on"
                           : "off",
              b->hold_us);
  return err;
}

void lvpn__udpbatch_gro_on(lvpn__networkio_t *n) {
  lvpn__udpbatch_t *b = &n->batch;
  int fd = fd_of(n), one = 1;

  if (!b->on || !b->poll_inited || b->gro_asked || fd < 0)
    return;
  b->gro_asked = 1;
  b->gro = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
  if (!b->gro)
    LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME,
              "UDP GRO not available: %s", strerror(errno));
}

static lvpn__pbuf_t *ring_at(lvpn__udpbatch_t *b, unsigned i) {
  return b->ring[(b->head + i) % LVPN__UDPBATCH_RING];
}

static void ring_drop(lvpn__networkio_t *n, size_t k, int sent) {
  lvpn__udpbatch_t *b = &n->batch;

  while (k-- > 0) {
    lvpn__pbuf_t *p = ring_at(b, 0);
    b->head = (b->head + 1) % LVPN__UDPBATCH_RING;
    b->count--;
    if (sent) {
      n->stats.tx_packets++;
      n->stats.tx_bytes += p->len;
      lvpn__pbuf_free(p);
    } else {
      n->stats.tx_errors++;
      lvpn__layer_drop(&n->base, p);
    }
  }
}

/* Sends what the ring holds; on EAGAIN waits for UV_WRITABLE. */
static void flush(lvpn__networkio_t *n) {
  lvpn__udpbatch_t *b = &n->batch;
  int fd = fd_of(n);

  while (b->count > 0 && fd >= 0) {
    size_t lens[LVPN__UDPBATCH_MAX_SEGS], k, i, nseg;
    struct iovec iov[LVPN__UDPBATCH_MAX_SEGS];
    union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(uint16_t))];
    } ctrl;
    struct msghdr m;
    ssize_t r;

    k = b->count < LVPN__UDPBATCH_MAX_SEGS ? b->count : LVPN__UDPBATCH_MAX_SEGS;
    for (i = 0; i < k; i++)
      lens[i] = ring_at(b, (unsigned)i)->len;
    nseg = b->gso && lens[0] <= b->gso_seg_max
               ? lvpn__udpbatch_run(lens, k, LVPN__UDPBATCH_MAX_SEGS,
                                    LVPN__UDPBATCH_MAX_BYTES)
               : 1;
    for (i = 0; i < nseg; i++) { /* iovec over the pbufs: no copy */
      iov[i].iov_base = ring_at(b, (unsigned)i)->data;
      iov[i].iov_len = lens[i];
    }
    memset(&m, 0, sizeof(m));
    m.msg_name = &n->remote;
    m.msg_namelen = n->remote.ss_family == AF_INET6
                        ? sizeof(struct sockaddr_in6)
                        : sizeof(struct sockaddr_in);
    m.msg_iov = iov;
    m.msg_iovlen = nseg;
    if (nseg > 1) {
      m.msg_control = ctrl.buf;
      m.msg_controllen = lvpn__udpbatch_gso_cmsg(ctrl.buf, sizeof(ctrl.buf),
                                                 (uint16_t)lens[0]);
    }
    r = sendmsg(fd, &m, 0);
    if (r >= 0) {
      if (nseg > 1)
        b->gso_sends++;
      ring_drop(n, nseg, 1);
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!b->want_write) {
        b->want_write = 1;
        if (poll_update(b) != 0)
          b->want_write = 0;
      }
      if (b->want_write)
        break;
      ring_drop(n, b->count, 0); /* cannot wait: nothing else to do */
      break;
    }
    if (nseg > 1 && (errno == EIO || errno == EINVAL || errno == EMSGSIZE)) {
      /* Refused: segments longer than the path MTU allows (those need IP
       * fragmentation, which a GSO send never does) get EMSGSIZE (Linux
       * 6.x, IPv4 and IPv6 alike; EINVAL on older kernels), so that size
       * and larger go singly, where the kernel fragments them as for any
       * datagram; EIO (no checksum offload) turns GSO off. This run is
       * sent again, singly. */
      if (errno != EIO && lens[0] > 1)
        b->gso_seg_max = lens[0] - 1;
      else
        b->gso = 0;
      if (!b->gso_logged)
        LVPN__LOG(n->base.log, LVPN_LOG_INFO, LAYER_NAME,
                  "UDP GSO refused for %zu-byte datagrams (%s): sending %s "
                  "one by one",
                  lens[0], strerror(errno),
                  b->gso ? "those and larger ones" : "all");
      b->gso_logged = 1;
      continue;
    }
    LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME, "UDP send: %s",
              strerror(errno));
    ring_drop(n, nseg, 0);
  }
  if (b->count == 0)
    uv_prepare_stop(&b->flush);
}

static void prepare_cb(uv_prepare_t *h) {
  lvpn__networkio_t *n = container_of(h, lvpn__networkio_t, batch.flush);
  if (!n->batch.want_write)
    flush(n);
}

void lvpn__udpbatch_send(lvpn__networkio_t *n, lvpn__pbuf_t *p) {
  lvpn__udpbatch_t *b = &n->batch;

  if (b->count == LVPN__UDPBATCH_RING) {
    n->stats.queue_full++;
    lvpn__layer_drop(&n->base, p);
    return;
  }
  b->ring[(b->head + b->count) % LVPN__UDPBATCH_RING] = p;
  b->count++;
  if (b->want_write)
    return;
  if (b->count >= LVPN__UDPBATCH_MAX_SEGS) /* a full GSO send: now */
    flush(n);
  else
    uv_prepare_start(&b->flush, prepare_cb); /* at the end of this turn */
}

/* One wake-up's receives: every datagram of every (coalesced) read is
 * copied into a pbuf and delivered like libuv's path would. */
void lvpn__udpbatch_copy_out(uint8_t *dst, const uint8_t *head, size_t hlen,
                     const uint8_t *rest, size_t off, size_t len) {
  if (off < hlen) {
    size_t k = hlen - off < len ? hlen - off : len;
    memcpy(dst, head + off, k);
    dst += k;
    off += k;
    len -= k;
  }
  if (len > 0)
    memcpy(dst, rest + (off - hlen), len);
}

/* One received message (one datagram, or several coalesced by GRO) cut
 * into its datagrams, each delivered in its own pbuf: the first is already
 * in `first` (which this takes), the others are copied out of the two
 * parts. Returns the datagrams delivered and adds their bytes. */
static unsigned deliver_message(lvpn__networkio_t *n, const struct msghdr *m,
                                size_t r, lvpn__pbuf_t *first,
                                const uint8_t *rest, size_t *bytes) {
  lvpn__udpbatch_t *b = &n->batch;
  const uint8_t *head = first != NULL ? first->data : NULL;
  size_t hlen = first != NULL ? LVPN__NETWORKIO_MAX_PACKET : 0;
  size_t seg = lvpn__udpbatch_gro_size(m), off = 0, len, start;
  unsigned got = 0;

  if (m->msg_flags & MSG_TRUNC) { /* larger than the buffers: not ours */
    lvpn__pbuf_free(first);
    n->stats.partial++;
    n->base.stats.dropped++;
    return 0;
  }
  do {
    lvpn__pbuf_t *p;
    start = off;
    len = lvpn__udpbatch_split(r, seg, off);
    off += len;
    if (len > LVPN__NETWORKIO_MAX_PACKET) {
      n->stats.partial++;
      LVPN__TRACE(n->base.trace, LAYER_NAME, "drop", "reason=%s", "too_big");
      n->base.stats.dropped++;
      continue;
    }
    if (start == 0 && first != NULL) { /* already in place */
      p = first;
      first = NULL;
      lvpn__pbuf_put(p, len);
      b->rx_in_place++;
    } else if ((p = lvpn__pbuf_alloc(n->pool)) != NULL) {
      lvpn__udpbatch_copy_out(lvpn__pbuf_put(p, len), head, hlen, rest, start,
                              len);
    } else {
      n->stats.no_buffer++;
      n->base.stats.dropped++;
      continue;
    }
    if (seg != 0 && r > seg)
      b->gro_datagrams++;
    got++;
    *bytes += len;
    lvpn__networkio_udp_deliver(n, p, (const struct sockaddr *)m->msg_name);
  } while (off < r && lvpn__layer_running(&n->base));
  lvpn__pbuf_free(first); /* datagram 0 was dropped: unused */
  return got;
}

/* Each recvmmsg takes up to LVPN__UDPBATCH_VLEN messages; each message
 * scatters into a fresh pbuf (one packet's worth) and then its own slice of
 * the large buffer: the first (often only) datagram of a message is
 * received in place, with no copy; the further datagrams of a GRO message
 * are copied out. A call that fills fewer messages than it offered found
 * the socket empty: no further call to hear EAGAIN. */
static unsigned read_burst(lvpn__networkio_t *n, size_t *bytes,
                           int *drained) {
  lvpn__udpbatch_t *b = &n->batch;
  int fd = fd_of(n), call, i;
  unsigned got = 0;

  *drained = 0;
  *bytes = 0;
  for (call = 0;
       call < LVPN__UDPBATCH_READS / LVPN__UDPBATCH_VLEN &&
       lvpn__layer_running(&n->base);
       call++) {
    struct sockaddr_storage from[LVPN__UDPBATCH_VLEN];
    union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int)) * 2];
    } ctrl[LVPN__UDPBATCH_VLEN];
    lvpn__pbuf_t *first[LVPN__UDPBATCH_VLEN];
    struct iovec iov[LVPN__UDPBATCH_VLEN][2];
    struct mmsghdr mm[LVPN__UDPBATCH_VLEN];
    int r;

    memset(mm, 0, sizeof(mm));
    for (i = 0; i < LVPN__UDPBATCH_VLEN; i++) {
      struct msghdr *m = &mm[i].msg_hdr;

      first[i] = lvpn__pbuf_alloc(n->pool);
      iov[i][0].iov_base = first[i] != NULL ? first[i]->data : NULL;
      iov[i][0].iov_len = first[i] != NULL ? LVPN__NETWORKIO_MAX_PACKET : 0;
      iov[i][1].iov_base = b->rxbuf + (size_t)i * LVPN__UDPBATCH_RXBUF;
      iov[i][1].iov_len = LVPN__UDPBATCH_RXBUF;
      m->msg_name = &from[i];
      m->msg_namelen = sizeof(from[i]);
      m->msg_iov = first[i] != NULL ? iov[i] : iov[i] + 1;
      m->msg_iovlen = first[i] != NULL ? 2 : 1;
      m->msg_control = ctrl[i].buf;
      m->msg_controllen = sizeof(ctrl[i].buf);
    }
    r = recvmmsg(fd, mm, LVPN__UDPBATCH_VLEN, 0, NULL);
    if (r < 0) {
      int e = errno;
      for (i = 0; i < LVPN__UDPBATCH_VLEN; i++)
        lvpn__pbuf_free(first[i]);
      if (e == EINTR)
        continue;
      if (e != EAGAIN && e != EWOULDBLOCK) {
        n->stats.rx_errors++;
        LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME, "UDP receive: %s",
                  strerror(e));
      } else {
        *drained = 1;
      }
      return got;
    }
    for (i = 0; i < r; i++) {
      if (lvpn__layer_running(&n->base))
        got += deliver_message(n, &mm[i].msg_hdr, mm[i].msg_len, first[i],
                               iov[i][1].iov_base, bytes);
      else
        lvpn__pbuf_free(first[i]);
    }
    for (; i < LVPN__UDPBATCH_VLEN; i++)
      lvpn__pbuf_free(first[i]);
    if (r < LVPN__UDPBATCH_VLEN) {
      *drained = 1;
      return got;
    }
  }
  return got;
}

/* Arms the hold's timer for `len_us`; the timerfd and its poll handle are
 * made on the first hold, so that a session that never carries a stream
 * (a thousand idle ones in one process, say) spends no descriptor on it.
 * If they cannot be made, the hold is off for this socket, logged. */
static int hold_arm(lvpn__networkio_t *n, unsigned len_us) {
  lvpn__udpbatch_t *b = &n->batch;
  struct itimerspec its;

  if (b->hold_fd < 0) {
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    int err = tfd < 0 ? uv_translate_sys_error(errno)
                      : uv_poll_init(n->base.loop, &b->hold, tfd);
    if (err == 0) {
      b->hold_fd = tfd; /* from here on, close() closes the handle */
      err = uv_poll_start(&b->hold, UV_READABLE, hold_cb);
    } else if (tfd >= 0) {
      close(tfd);
    }
    if (err != 0) {
      LVPN__LOG(n->base.log, LVPN_LOG_INFO, LAYER_NAME,
                "UDP receive hold off: its timer: %s", uv_strerror(err));
      b->hold_us = 0;
      return err;
    }
  }
  memset(&its, 0, sizeof(its));
  its.it_value.tv_sec = len_us / 1000000;
  its.it_value.tv_nsec = (long)(len_us % 1000000) * 1000;
  return timerfd_settime(b->hold_fd, 0, &its, NULL) == 0
             ? 0
             : uv_translate_sys_error(errno);
}

/* Reads what waits, then decides whether to hold the next read back. A
 * read that ends a hold (`after_hold`) and finds data continues the stream
 * however long the hold was. */
static void read_and_pace(lvpn__networkio_t *n, int after_hold) {
  lvpn__udpbatch_t *b = &n->batch;
  int drained;
  size_t bytes;
  unsigned got = read_burst(n, &bytes, &drained), len_us;
  uint64_t now, gap, stream_gap;

  if (got == 0 || !lvpn__layer_running(&n->base))
    return;
  now = uv_hrtime();
  gap = now - b->last_rx_ns; /* what was read came over this time */
  b->last_rx_ns = now;
  stream_gap = after_hold ? 0 : gap;
  b->gap_ns_avg = lvpn__udpbatch_in_stream(stream_gap)
                      ? lvpn__udpbatch_gap_avg(b->gap_ns_avg, got, gap)
                      : 0; /* a new stream, or none */
  if (!lvpn__udpbatch_should_hold(got, bytes, drained, stream_gap,
                                  b->hold_us))
    return;
  len_us = lvpn__udpbatch_hold_len(b->hold_us, b->gap_ns_avg);
  if (hold_arm(n, len_us) != 0)
    return;
  b->holding = 1;
  b->rx_holds++;
  b->rx_hold_us += len_us;
  if (poll_update(b) != 0) {
    b->holding = 0;
    poll_update(b);
  }
}

/* The hold is over: read again (the socket is polled again too). */
static void hold_cb(uv_poll_t *h, int status, int events) {
  lvpn__networkio_t *n = container_of(h, lvpn__networkio_t, batch.hold);
  lvpn__udpbatch_t *b = &n->batch;
  uint64_t ticks;

  (void)events;
  if (status < 0) { /* the timer cannot be trusted: no more holds */
    LVPN__LOG(n->base.log, LVPN_LOG_INFO, LAYER_NAME,
              "UDP receive hold off: timer poll failed: %s",
              uv_strerror(status));
    uv_poll_stop(&b->hold);
    b->hold_us = 0;
  } else if (read(b->hold_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN) {
    n->stats.rx_errors++;
  }
  if (!b->holding)
    return;
  b->holding = 0;
  poll_update(b);
  read_and_pace(n, 1);
}

static void poll_cb(uv_poll_t *h, int status, int events) {
  lvpn__networkio_t *n = container_of(h, lvpn__networkio_t, batch.poll);
  lvpn__udpbatch_t *b = &n->batch;

  if (status < 0) {
    n->stats.rx_errors++;
    LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME, "UDP poll: %s",
              uv_strerror(status));
    return;
  }
  if ((events & UV_WRITABLE) && b->want_write) {
    b->want_write = 0;
    poll_update(b);
    flush(n);
  }
  if ((events & UV_READABLE) && !b->holding)
    read_and_pace(n, 0);
}

void lvpn__udpbatch_stop(lvpn__networkio_t *n) {
  lvpn__udpbatch_t *b = &n->batch;

  if (!b->on)
    return;
  /* What the layers above sent in this turn still goes out (an exit
   * notification just before stopping, say); a blocked socket keeps it. */
  if (b->poll_inited && !b->want_write)
    flush(n);
  if (b->poll_inited)
    uv_poll_stop(&b->poll);
  if (b->hold_fd >= 0)
    uv_poll_stop(&b->hold);
  b->holding = 0;
  uv_prepare_stop(&b->flush);
}

void lvpn__udpbatch_close(lvpn__networkio_t *n) {
  lvpn__udpbatch_t *b = &n->batch;

  if (!b->on)
    return;
  while (b->count > 0) {
    lvpn__pbuf_free(ring_at(b, 0));
    b->head = (b->head + 1) % LVPN__UDPBATCH_RING;
    b->count--;
  }
  if (b->rxbuf != NULL)
    rx_scratch_put();
  b->rxbuf = NULL;
  if (b->poll_inited)
    lvpn__layer_close_handle(&n->base, (uv_handle_t *)&b->poll);
  if (b->hold_fd >= 0) { /* uv_close stops the poll at once: fd unused */
    lvpn__layer_close_handle(&n->base, (uv_handle_t *)&b->hold);
    close(b->hold_fd);
    b->hold_fd = -1;
  }
  lvpn__layer_close_handle(&n->base, (uv_handle_t *)&b->flush);
}
