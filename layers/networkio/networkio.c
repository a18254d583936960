#include "layers/networkio/networkio.h"
#include "layers/networkio/proxyio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LAYER_NAME "networkio"

static const lvpn__layer_ops_t networkio_ops;

static void networkio_send(lvpn__networkio_t *n, lvpn__pbuf_t *p);

/* ---- addresses ---- */

int lvpn__networkio_remote_str(const lvpn__networkio_t *n, char *buf,
                               size_t len) {
  return lvpn__networkio_addr_str(&n->remote, buf, len);
}

const struct sockaddr_storage *
lvpn__networkio_remote(const lvpn__networkio_t *n) {
  return &n->remote;
}

const struct sockaddr_storage *
lvpn__networkio_local(const lvpn__networkio_t *n) {
  return &n->local;
}

/* "UDPv4" / "TCPv6" as OpenVPN logs it, from the resolved family. */
static const char *link_name(const lvpn__networkio_t *n) {
  int v6 = n->remote.ss_family == AF_INET6;
  if (lvpn__net_proto_is_tcp(n->proto))
    return v6 ? "TCPv6" : "TCPv4";
  return v6 ? "UDPv6" : "UDPv4";
}

/* ---- send/write requests: a fixed free list, no allocation per packet ---- */

lvpn__networkio_req_t *lvpn__networkio_req_get(lvpn__networkio_t *n) {
  lvpn__qnode_t *q = lvpn__queue_pop(&n->free_reqs);
  lvpn__networkio_req_t *r;
  if (q != NULL)
    return container_of(q, lvpn__networkio_req_t, node);
  if (n->n_reqs >= LVPN__NETWORKIO_NREQ || (r = malloc(sizeof(*r))) == NULL)
    return NULL;
  n->n_reqs++;
  r->n = n;
  r->p = NULL;
  lvpn__queue_init(&r->chain);
  return r;
}

void lvpn__networkio_release(lvpn__networkio_t *n) {
  lvpn__qnode_t *q;
  while ((q = lvpn__queue_pop(&n->free_reqs)) != NULL) {
    free(container_of(q, lvpn__networkio_req_t, node));
    n->n_reqs--;
  }
  free(n->rxbuf);
  n->rxbuf = NULL;
}

/* Frees the request's packet and returns the request to the free list. */
void lvpn__networkio_req_put(lvpn__networkio_req_t *r) {
  lvpn__pbuf_free(r->p);
  r->p = NULL;
  lvpn__pbufq_clear(&r->chain);
  lvpn__queue_push(&r->n->free_reqs, &r->node);
}

/* ---- init ---- */

int lvpn__networkio_init(lvpn__networkio_t *n, uv_loop_t *loop,
                         const lvpn__networkio_opts_t *o,
                         lvpn__pbuf_pool_t *pool, const lvpn__logger_t *log) {
  const char *hold_env = getenv("LVPN_UDP_RX_HOLD_US");
  long hold_us = lvpn__udpbatch_hold_us(hold_env);
  size_t hlen;

  if (o == NULL || o->host == NULL || pool == NULL || o->port == 0 ||
      (unsigned)o->proto > LVPN__NET_TCP6)
    return LVPN_EINVAL;
  hlen = strlen(o->host);
  if (hlen == 0 || hlen > LVPN__NETWORKIO_HOST_MAX)
    return LVPN_EINVAL;
  if (o->bind_local &&
      lvpn__net_bind_addr(o->local, o->lport, AF_INET, &n->bind_addr) != 0 &&
      lvpn__net_bind_addr(o->local, o->lport, AF_INET6, &n->bind_addr) != 0)
    return LVPN_EINVAL; /* 'local' is not an IP address */
  if (hold_us < 0) {
    LVPN__LOG(log, LVPN_LOG_ERROR, LAYER_NAME,
              "LVPN_UDP_RX_HOLD_US='%s': want 0 to %d microseconds", hold_env,
              LVPN__UDPBATCH_HOLD_MAX_US);
    return LVPN_EINVAL;
  }

  memset(n, 0, offsetof(lvpn__networkio_t, rxbuf));
  lvpn__layer_init(&n->base, loop, LAYER_NAME, &networkio_ops, log);
  n->pool = pool;
  memcpy(n->host, o->host, hlen + 1);
  n->port = o->port;
  n->proto = o->proto;
  n->timeout_ms =
      1000 * (uint64_t)(o->connect_timeout ? o->connect_timeout
                                           : LVPN__NETWORKIO_CONNECT_TIMEOUT);
  n->on_ready = o->on_ready;
  if (lvpn__networkio_proxy_init(n, o) != 0)
    return LVPN_EINVAL;
  n->passtos = o->passtos;
  n->gro_later = o->gro_later;
  n->no_udp_offload = o->no_udp_offload;
  n->mark = o->mark;
  n->mtu_disc = o->mtu_disc_set ? o->mtu_disc : -1;
  if (o->bind_dev != NULL)
    snprintf(n->bind_dev, sizeof(n->bind_dev), "%s", o->bind_dev);
  n->tos = -1;
  if ((lvpn__net_proto_is_tcp(n->proto) || n->proxy != NULL) &&
      n->rxbuf == NULL && (n->rxbuf = malloc(LVPN__NETWORKIO_RXBUF)) == NULL)
    return LVPN_ENOMEM;
  n->remote.ss_family = AF_UNSPEC;
  if (o->addr != NULL && n->proxy == NULL) /* a proxy: connect to it */
    n->remote = *o->addr;
  n->floating = o->floating && !lvpn__net_proto_is_tcp(o->proto);
  n->bind_local = o->bind_local;
  if (o->bind_local) /* checked above; memset cleared it */
    if (lvpn__net_bind_addr(o->local, o->lport, AF_INET, &n->bind_addr) != 0)
      lvpn__net_bind_addr(o->local, o->lport, AF_INET6, &n->bind_addr);
  n->local.ss_family = AF_UNSPEC;
  lvpn__queue_init(&n->pending);
  lvpn__queue_init(&n->free_reqs);
  /* Neither init creates a socket: that happens at bind/connect. */
  if (lvpn__net_proto_is_tcp(n->proto) || n->proxy != NULL)
    uv_tcp_init(loop, &n->tcp);
  if (!lvpn__net_proto_is_tcp(n->proto))
    uv_udp_init(loop, &n->udp);
  uv_timer_init(loop, &n->timer);
  lvpn__udpbatch_init(n, (unsigned)hold_us);
  if (lvpn__net_proto_is_tcp(n->proto))
    lvpn__tcpbatch_init(n);
  return 0;
}

/* ---- becoming ready ---- */

void lvpn__networkio_become_ready(lvpn__networkio_t *n) {
  char local[64], remote[64];
  lvpn__pbuf_t *p;

  n->ready = 1;
  lvpn__networkio_addr_str(&n->local, local, sizeof(local));
  lvpn__networkio_addr_str(&n->remote, remote, sizeof(remote));
  LVPN__LOG(n->base.log, LVPN_LOG_INFO, LAYER_NAME,
            "%s link local: %s, remote: %s", link_name(n), local, remote);
  LVPN__TRACE(n->base.trace, LAYER_NAME, "ready", "link=%s local=%s remote=%s",
              link_name(n), local, remote);
  /* Held packets go first, in the order they came. */
  while (lvpn__layer_running(&n->base) &&
         (p = lvpn__pbufq_pop(&n->pending)) != NULL)
    networkio_send(n, p);
  if (lvpn__layer_running(&n->base) && n->on_ready != NULL)
    n->on_ready(n);
}

static void timer_cb(uv_timer_t *h) {
  lvpn__networkio_t *n = container_of(h, lvpn__networkio_t, timer);
  char remote[64];

  if (n->resolver != NULL) {
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "cannot resolve host '%s': no answer within %llu ms", n->host,
              (unsigned long long)n->timeout_ms);
    lvpn__layer_fail(&n->base, LVPN_ERESOLVE);
    return;
  }
  lvpn__networkio_remote_str(n, remote, sizeof(remote));
  LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
            "TCP connect to %s timed out after %llu ms", remote,
            (unsigned long long)n->timeout_ms);
  lvpn__layer_fail(&n->base, UV_ETIMEDOUT);
}

/* ---- UDP ---- */

static lvpn__pbuf_t *pbuf_from_data(char *base) {
  /* Receive buffers are handed out at p->data = p->buf + HEADROOM. */
  return container_of((uint8_t *)base - LVPN_PBUF_HEADROOM, lvpn__pbuf_t, buf);
}

static void udp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  lvpn__networkio_t *n = container_of((uv_udp_t *)h, lvpn__networkio_t, udp);
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(n->pool);

  (void)suggested;
  if (p == NULL) {
    *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
    return;
  }
  *buf = uv_buf_init((char *)p->data, (unsigned)lvpn__pbuf_tailroom(p));
}

/* Owns the pbuf behind buf->base (if any): passes it up or frees it. */
static void udp_recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags) {
  lvpn__networkio_t *n = container_of(h, lvpn__networkio_t, udp);
  lvpn__pbuf_t *p = buf->base != NULL ? pbuf_from_data(buf->base) : NULL;

  if (nread < 0) {
    if (nread == UV_ENOBUFS) {
      n->stats.no_buffer++;
    } else {
      n->stats.rx_errors++;
      LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME, "UDP receive: %s",
                uv_strerror((int)nread));
    }
    lvpn__pbuf_free(p);
    return;
  }
  if (addr == NULL) { /* nothing more to read */
    lvpn__pbuf_free(p);
    return;
  }
  if (flags & UV_UDP_PARTIAL) {
    n->stats.partial++;
    LVPN__TRACE(n->base.trace, LAYER_NAME, "drop", "reason=%s", "too_big");
    LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME,
              "dropping datagram larger than %zu bytes",
              (size_t)LVPN__NETWORKIO_MAX_PACKET);
    lvpn__layer_drop(&n->base, p);
    return;
  }
  p->len = (size_t)nread;
  lvpn__networkio_udp_deliver(n, p, addr);
}

void lvpn__networkio_udp_deliver(lvpn__networkio_t *n, lvpn__pbuf_t *p,
                                 const struct sockaddr *addr) {
  size_t nread = p->len;

  if (!lvpn__net_same_addr(addr, &n->remote) && n->floating && nread > 0) {
    /* float: up for authentication, marked with the candidate address */
    if (n->cand_gen == 0 || !lvpn__net_same_addr(addr, &n->candidate)) {
      memset(&n->candidate, 0, sizeof(n->candidate));
      memcpy(&n->candidate, addr,
             addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
      n->cand_gen = (uint8_t)(n->cand_gen % 255 + 1);
    }
    p->meta.float_gen = n->cand_gen;
    n->stats.float_rx++;
  } else if (!lvpn__net_same_addr(addr, &n->remote)) {
    n->stats.foreign++;
    LVPN__TRACE(n->base.trace, LAYER_NAME, "drop", "reason=%s bytes=%zu",
                "foreign_address", nread);
    if (n->base.log != NULL && n->base.log->verb >= LVPN_LOG_DEBUG) {
      struct sockaddr_storage from;
      char s[64];
      memset(&from, 0, sizeof(from));
      memcpy(&from, addr,
             addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
      lvpn__networkio_addr_str(&from, s, sizeof(s));
      LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME,
                "dropping datagram from unknown address %s", s);
    }
    lvpn__layer_drop(&n->base, p);
    return;
  }
  if (nread == 0) {
    n->stats.zero_len++;
    lvpn__layer_drop(&n->base, p);
    return;
  }
  if (n->proxy != NULL && lvpn__networkio_proxy_udp_in(n, p) != 0)
    return;
  n->stats.rx_packets++;
  n->stats.rx_bytes += p->len;
  LVPN__TRACE_PKT(n->base.trace, lvpn__trace_is_data(p->data, p->len),
                  LAYER_NAME, "read", "bytes=%zu framing=%s", p->len, "udp");
  LVPN__TAP(n->base.trace, LVPN_TAP_WIRE, 0, 0, &n->local, &n->remote, p->data,
            p->len);
  lvpn__layer_send_up(&n->base, p);
}

static void udp_send_cb(uv_udp_send_t *req, int status) {
  lvpn__networkio_req_t *r = container_of(req, lvpn__networkio_req_t, u.send);
  lvpn__networkio_t *n = r->n;

  if (status == 0) {
    n->stats.tx_packets++;
    n->stats.tx_bytes += r->p->len;
  } else if (status != UV_ECANCELED) {
    n->stats.tx_errors++;
    LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME, "UDP send: %s",
              uv_strerror(status));
  }
  lvpn__networkio_req_put(r);
}

/* Takes ownership of p. */
static void udp_send(lvpn__networkio_t *n, lvpn__pbuf_t *p) {
  const struct sockaddr *to = (const struct sockaddr *)&n->remote;
  uv_buf_t b = uv_buf_init((char *)p->data, (unsigned)p->len);
  lvpn__networkio_req_t *r;
  int err;

  LVPN__TRACE_PKT(n->base.trace, lvpn__trace_is_data(p->data, p->len),
                  LAYER_NAME, "write", "bytes=%zu framing=%s", p->len, "udp");
  LVPN__TAP(n->base.trace, LVPN_TAP_WIRE, 1, 0, &n->local, &n->remote, p->data,
            p->len);
  if (n->proxy != NULL) {
    if (lvpn__networkio_proxy_udp_out(n, p) != 0)
      return;
    b = uv_buf_init((char *)p->data, (unsigned)p->len);
  } else if (n->batch.on) {
    lvpn__udpbatch_send(n, p);
    return;
  }
  /* Most sends complete at once: no request, no callback. */
  err = uv_udp_try_send(&n->udp, &b, 1, to);
  if (err >= 0) {
    n->stats.tx_packets++;
    n->stats.tx_bytes += p->len;
    lvpn__pbuf_free(p);
    return;
  }
  if (err == UV_EAGAIN) {
    r = lvpn__networkio_req_get(n);
    if (r == NULL) {
      n->stats.queue_full++;
      lvpn__layer_drop(&n->base, p);
      return;
    }
    r->p = p;
    err = uv_udp_send(&r->u.send, &n->udp, &b, 1, to, udp_send_cb);
    if (err == 0)
      return;
    r->p = NULL;
    lvpn__queue_push(&n->free_reqs, &r->node);
  }
  n->stats.tx_errors++;
  LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME, "UDP send: %s",
            uv_strerror(err));
  lvpn__layer_drop(&n->base, p);
}

void lvpn__networkio_gro_on(lvpn__networkio_t *n) {
  lvpn__udpbatch_gro_on(n);
}

int lvpn__networkio_udp_open(lvpn__networkio_t *n) {
  struct sockaddr_storage any;
  int len = sizeof(n->local);
  int err;

  if ((err = lvpn__networkio_local_addr(n, &any)) != 0)
    return err;
  err = uv_udp_bind(&n->udp, (const struct sockaddr *)&any, 0);
  if (err == 0 && lvpn__net_has_sockopts(n)) {
    uv_os_fd_t fd;
    err = uv_fileno((const uv_handle_t *)&n->udp, &fd);
    if (err == 0 && (err = lvpn__net_sockopts(n, fd, any.ss_family)) != 0)
      return err; /* logged */
  }
  if (err == 0)
    err = n->batch.on ? lvpn__udpbatch_open(n)
                      : uv_udp_recv_start(&n->udp, udp_alloc_cb, udp_recv_cb);
  if (err == 0)
    err = uv_udp_getsockname(&n->udp, (struct sockaddr *)&n->local, &len);
  if (err != 0) {
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "cannot open UDP socket: %s", uv_strerror(err));
    return err;
  }
  lvpn__networkio_become_ready(n);
  return 0;
}

/* ---- TCP ---- */

void lvpn__networkio_tcp_fail(lvpn__networkio_t *n, const char *what,
                              int err) {
  char remote[64];
  lvpn__networkio_remote_str(n, remote, sizeof(remote));
  if (err == UV_EOF)
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "connection closed by the server %s", remote);
  else
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "connection to %s lost (%s): %s", remote, what, uv_strerror(err));
  lvpn__layer_fail(&n->base, LVPN_ECONNRESET);
}

static void tcp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  lvpn__networkio_t *n = container_of((uv_tcp_t *)h, lvpn__networkio_t, tcp);
  (void)suggested;
  /* Never full: between reads it holds at most one incomplete frame of
   * 2 + MAX_PACKET bytes (a longer length fails at once). */
  *buf = uv_buf_init((char *)n->rxbuf + n->rx_len,
                     (unsigned)(LVPN__NETWORKIO_RXBUF - n->rx_len));
}

/* Splits rxbuf into frames; returns 0 or LVPN_EPROTO (already failed). */
int lvpn__networkio_tcp_deframe(lvpn__networkio_t *n) {
  size_t off = 0;

  while (n->rx_len - off >= 2) {
    const uint8_t *f = n->rxbuf + off;
    size_t flen = ((size_t)f[0] << 8) | f[1];
    lvpn__pbuf_t *p;

    if (flen == 0) {
      n->stats.zero_len++;
      off += 2;
      continue;
    }
    if (flen > LVPN__NETWORKIO_MAX_PACKET) {
      char remote[64];
      n->stats.oversize++;
      lvpn__networkio_remote_str(n, remote, sizeof(remote));
      LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
                "TCP frame of %zu bytes from %s exceeds the maximum of %zu",
                flen, remote, (size_t)LVPN__NETWORKIO_MAX_PACKET);
      lvpn__layer_fail(&n->base, LVPN_EPROTO);
      return LVPN_EPROTO;
    }
    if (n->rx_len - off < 2 + flen)
      break; /* incomplete: wait for more */
    p = lvpn__pbuf_alloc(n->pool);
    if (p == NULL) {
      n->stats.no_buffer++;
      n->base.stats.dropped++;
    } else {
      memcpy(lvpn__pbuf_put(p, flen), f + 2, flen);
      LVPN__TRACE_PKT(n->base.trace, lvpn__trace_is_data(p->data, p->len),
                      LAYER_NAME, "read",
                      "bytes=%zu framing=%s frame_bytes=%zu", flen, "tcp",
                      flen + 2);
      LVPN__TAP(n->base.trace, LVPN_TAP_WIRE, 0, 1, &n->local, &n->remote,
                p->data, p->len);
      n->stats.rx_packets++;
      n->stats.rx_bytes += flen;
      lvpn__layer_send_up(&n->base, p);
    }
    off += 2 + flen;
  }
  if (off > 0) {
    memmove(n->rxbuf, n->rxbuf + off, n->rx_len - off);
    n->rx_len -= off;
  }
  return 0;
}

static void tcp_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  lvpn__networkio_t *n = container_of((uv_tcp_t *)s, lvpn__networkio_t, tcp);
  (void)buf;
  if (!lvpn__layer_running(&n->base))
    return;
  if (n->proxy != NULL && lvpn__networkio_proxy_read(n, nread))
    return;
  if (nread < 0) {
    lvpn__networkio_tcp_fail(n, "read", (int)nread);
    return;
  }
  n->rx_len += (size_t)nread;
  LVPN__TRACE_PKT(n->base.trace, 1, LAYER_NAME, "stream_read",
                  "bytes=%zd buffered=%zu", nread, n->rx_len);
  lvpn__networkio_tcp_deframe(n);
}

static void tcp_connect_cb(uv_connect_t *req, int status) {
  lvpn__networkio_t *n = container_of(req, lvpn__networkio_t, connect_req);
  char remote[64];
  int len = sizeof(n->local);
  int err;

  if (!lvpn__layer_running(&n->base))
    return; /* UV_ECANCELED: closing */
  uv_timer_stop(&n->timer);
  lvpn__networkio_remote_str(n, remote, sizeof(remote));
  if (status < 0) {
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "TCP connect to %s failed: %s", remote, uv_strerror(status));
    lvpn__layer_fail(&n->base, status);
    return;
  }
  uv_tcp_nodelay(&n->tcp, 1);
  err = uv_read_start((uv_stream_t *)&n->tcp, tcp_alloc_cb, tcp_read_cb);
  if (err == 0)
    err = uv_tcp_getsockname(&n->tcp, (struct sockaddr *)&n->local, &len);
  if (err != 0) {
    lvpn__networkio_tcp_fail(n, "start", err);
    return;
  }
  if (n->proxy != NULL)
    lvpn__networkio_proxy_begin(n); /* ready once the proxy is through */
  else
    lvpn__networkio_become_ready(n);
}

static int tcp_open(lvpn__networkio_t *n) {
  struct sockaddr_storage local;
  char remote[64];
  int err;

  /* mark / bind-dev / mtu-disc go on before the SYN: our own socket */
  if (lvpn__net_has_sockopts(n)) {
    int family = n->remote.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      err = -errno;
      LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
                "cannot open the TCP socket: %s", uv_strerror(err));
      return err;
    }
    if ((err = lvpn__net_sockopts(n, fd, family)) != 0 ||
        (err = uv_tcp_open(&n->tcp, fd)) != 0) {
      close(fd);
      return err;
    }
  }
  if (n->bind_local) { /* local/lport/bind: else the system picks at connect */
    if ((err = lvpn__networkio_local_addr(n, &local)) != 0)
      return err;
    if ((err = uv_tcp_bind(&n->tcp, (const struct sockaddr *)&local, 0)) !=
        0) {
      LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
                "cannot bind the TCP socket: %s", uv_strerror(err));
      return err;
    }
  }
  err = uv_tcp_connect(&n->connect_req, &n->tcp,
                       (const struct sockaddr *)&n->remote, tcp_connect_cb);
  if (err == 0)
    err = uv_timer_start(&n->timer, timer_cb, n->timeout_ms, 0);
  if (err != 0) {
    lvpn__networkio_remote_str(n, remote, sizeof(remote));
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "TCP connect to %s failed: %s", remote, uv_strerror(err));
  }
  return err;
}

/* ---- resolving ---- */

static void open_socket(lvpn__networkio_t *n) {
  int err = lvpn__net_proto_is_tcp(n->proto) || n->proxy != NULL
                ? tcp_open(n)
                : lvpn__networkio_udp_open(n);
  if (err != 0)
    lvpn__layer_fail(&n->base, err);
}

static void resolved_cb(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  struct lvpn__networkio_resolver_s *r =
      container_of(req, struct lvpn__networkio_resolver_s, req);
  lvpn__networkio_t *n = r->n;

  free(r);
  if (n == NULL) { /* the layer stopped meanwhile */
    uv_freeaddrinfo(res);
    return;
  }
  n->resolver = NULL;
  uv_timer_stop(&n->timer);
  n->n_addrs = status == 0 ? lvpn__net_collect_addrs(res, n->port, n->addrs,
                                                     LVPN__NETWORKIO_MAX_ADDRS)
                           : 0;
  uv_freeaddrinfo(res);
  if (n->n_addrs == 0) {
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "cannot resolve host '%s' (%s): %s", n->host,
              lvpn__net_proto_name(n->proto),
              status < 0 ? uv_strerror(status) : "no usable address");
    lvpn__layer_fail(&n->base, LVPN_ERESOLVE);
    return;
  }
  n->remote = n->addrs[0];
  open_socket(n);
}

/* An address from an earlier attempt: open at once (from the timer, so the
 * layers above have started). */
static void preset_cb(uv_timer_t *h) {
  open_socket(container_of(h, lvpn__networkio_t, timer));
}


/* ---- layer ops ---- */

static int networkio_start(lvpn__layer_t *l) {
  lvpn__networkio_t *n = container_of(l, lvpn__networkio_t, base);
  struct lvpn__networkio_resolver_s *r;
  struct addrinfo hints;
  int err;

  if (n->resolver != NULL || n->ready)
    return LVPN_ESTATE;
  if (n->remote.ss_family != AF_UNSPEC) {
    LVPN__TRACE(l->trace, LAYER_NAME, "resolve", "host=%s cached=1", n->host);
    return uv_timer_start(&n->timer, preset_cb, 0, 0);
  }
  memset(&hints, 0, sizeof(hints));
  switch (n->proto) {
  case LVPN__NET_UDP4:
  case LVPN__NET_TCP4:
    hints.ai_family = AF_INET;
    break;
  case LVPN__NET_UDP6:
  case LVPN__NET_TCP6:
    hints.ai_family = AF_INET6;
    break;
  default:
    hints.ai_family = AF_UNSPEC;
  }
  hints.ai_socktype =
      lvpn__net_proto_is_tcp(n->proto) ? SOCK_STREAM : SOCK_DGRAM;
  if (lvpn__net_numeric_addr(n->host, n->port, hints.ai_family, &n->addrs[0])) {
    n->n_addrs = 1;
    n->remote = n->addrs[0];
    LVPN__TRACE(l->trace, LAYER_NAME, "resolve", "host=%s numeric=1", n->host);
    return uv_timer_start(&n->timer, preset_cb, 0, 0);
  }
  r = malloc(sizeof(*r));
  if (r == NULL)
    return LVPN_ENOMEM;
  r->n = n;
  err = uv_getaddrinfo(l->loop, &r->req, resolved_cb, n->host, NULL, &hints);
  if (err != 0) {
    free(r);
    LVPN__LOG(l->log, LVPN_LOG_ERROR, LAYER_NAME,
              "cannot resolve host '%s': %s", n->host, uv_strerror(err));
    return LVPN_ERESOLVE;
  }
  n->resolver = r;
  LVPN__TRACE(l->trace, LAYER_NAME, "resolve", "host=%s port=%u proto=%s",
              n->host, (unsigned)n->port, lvpn__net_proto_name(n->proto));
  /* Bound the lookup: with an unreachable DNS server getaddrinfo can take
   * a long time, and it cannot be interrupted once running. The loop's
   * cached time may be stale if the host blocked before starting us. */
  uv_update_time(l->loop);
  uv_timer_start(&n->timer, timer_cb, n->timeout_ms, 0);
  return 0;
}

/* passtos (link_socket_set_tos): the outer TOS follows the inner one's. */
static void networkio_pass_tos(lvpn__networkio_t *n, const lvpn__pbuf_t *p) {
  if (!p->meta.has_tos || p->meta.tos == n->tos ||
      n->remote.ss_family != AF_INET)
    return;
  if (lvpn__net_set_tos(lvpn__net_proto_is_tcp(n->proto)
                            ? (const uv_handle_t *)&n->tcp
                            : (const uv_handle_t *)&n->udp,
                        p->meta.tos) == 0)
    n->tos = p->meta.tos;
  else
    LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME,
              "passtos: cannot set IP_TOS %d", p->meta.tos);
}

static void networkio_send(lvpn__networkio_t *n, lvpn__pbuf_t *p) {
  if (n->passtos)
    networkio_pass_tos(n, p);
  if (lvpn__net_proto_is_tcp(n->proto))
    lvpn__tcpbatch_send(n, p);
  else
    udp_send(n, p);
}

/* One wire packet from above; owns p. */
static void networkio_down(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__networkio_t *n = container_of(l, lvpn__networkio_t, base);

  if (n->ready) {
    networkio_send(n, p);
    return;
  }
  if (n->pending.count >= LVPN__NETWORKIO_PENDING_MAX) {
    n->stats.queue_full++;
    lvpn__layer_drop(l, p);
    return;
  }
  LVPN__TRACE(l->trace, LAYER_NAME, "hold", "reason=%s bytes=%zu",
              "link_not_ready", p->len);
  lvpn__pbufq_push(&n->pending, p);
}

/* Nothing comes from below the bottom layer. */
static void networkio_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__layer_drop(l, p);
}

static void networkio_stop(lvpn__layer_t *l) {
  lvpn__networkio_t *n = container_of(l, lvpn__networkio_t, base);

  if (n->resolver != NULL) {
    /* Detach: the callback frees the request whenever it comes. */
    n->resolver->n = NULL;
    uv_cancel((uv_req_t *)&n->resolver->req);
    n->resolver = NULL;
  }
  uv_timer_stop(&n->timer);
  if (lvpn__net_proto_is_tcp(n->proto) || n->proxy != NULL)
    uv_read_stop((uv_stream_t *)&n->tcp);
  if (!lvpn__net_proto_is_tcp(n->proto) && n->ready)
    uv_udp_recv_stop(&n->udp);
  lvpn__udpbatch_stop(n);
  if (n->ready && n->tcpb.inited)
    lvpn__tcpbatch_flush(n); /* what this turn queued still goes out */
  lvpn__tcpbatch_stop(n);
  lvpn__networkio_proxy_stop(n);
}

/* In-flight sends/writes complete with UV_ECANCELED before the handle's
 * close callback, and free their packets there. */
static void networkio_close(lvpn__layer_t *l) {
  lvpn__networkio_t *n = container_of(l, lvpn__networkio_t, base);

  lvpn__pbufq_clear(&n->pending);
  lvpn__networkio_proxy_stop(n); /* frees the handshake */
  if (lvpn__net_proto_is_tcp(n->proto) || n->proxy != NULL)
    lvpn__layer_close_handle(l, (uv_handle_t *)&n->tcp);
  lvpn__udpbatch_close(n); /* before the uv_udp_t closes the fd */
  lvpn__tcpbatch_close(n);
  if (!lvpn__net_proto_is_tcp(n->proto))
    lvpn__layer_close_handle(l, (uv_handle_t *)&n->udp);
  lvpn__layer_close_handle(l, (uv_handle_t *)&n->timer);
}

/* ---- counters ---- */

void lvpn__networkio_counters(const lvpn__networkio_t *n, lvpn_counter_cb cb,
                              void *ud) {
  const lvpn__networkio_stats_t *s = &n->stats;
  cb(ud, LAYER_NAME, "rx_packets", s->rx_packets);
  cb(ud, LAYER_NAME, "rx_bytes", s->rx_bytes);
  cb(ud, LAYER_NAME, "tx_packets", s->tx_packets);
  cb(ud, LAYER_NAME, "tx_bytes", s->tx_bytes);
  cb(ud, LAYER_NAME, "drop_foreign", s->foreign);
  cb(ud, LAYER_NAME, "float_rx", s->float_rx);
  cb(ud, LAYER_NAME, "floated", s->floated);
  cb(ud, LAYER_NAME, "drop_partial", s->partial);
  cb(ud, LAYER_NAME, "drop_oversize", s->oversize);
  cb(ud, LAYER_NAME, "drop_zero_len", s->zero_len);
  cb(ud, LAYER_NAME, "drop_queue_full", s->queue_full);
  cb(ud, LAYER_NAME, "drop_no_buffer", s->no_buffer);
  cb(ud, LAYER_NAME, "rx_errors", s->rx_errors);
  cb(ud, LAYER_NAME, "tx_errors", s->tx_errors);
  cb(ud, LAYER_NAME, "udp_gso_sends", n->batch.gso_sends);
  cb(ud, LAYER_NAME, "udp_gro_datagrams", n->batch.gro_datagrams);
  cb(ud, LAYER_NAME, "udp_rx_in_place", n->batch.rx_in_place);
  cb(ud, LAYER_NAME, "udp_rx_holds", n->batch.rx_holds);
  cb(ud, LAYER_NAME, "udp_rx_hold_us", n->batch.rx_hold_us);
  cb(ud, LAYER_NAME, "tcp_writevs", n->tcpb.writevs);
}

static void networkio_counters_op(const lvpn__layer_t *l, lvpn_counter_cb cb,
                                  void *ud) {
  lvpn__networkio_counters(container_of(l, lvpn__networkio_t, base), cb, ud);
}

static const lvpn__layer_ops_t networkio_ops = {
    .start = networkio_start,
    .up = networkio_up,
    .down = networkio_down,
    .stop = networkio_stop,
    .close = networkio_close,
    .counters = networkio_counters_op,
};
