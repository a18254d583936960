/* `layervpn socks --direct-outside`: a destination outside the tunnel's
 * routes is reached from the host with a plain libuv socket, as if there
 * were no proxy, instead of being refused. Off by default: with it, the
 * proxy also carries traffic that never enters the tunnel.
 *
 * A direct stream relays between two libuv TCP sockets with one buffer in
 * flight each way: the local side is read only when the last read was
 * written to the destination, the destination only when every write to
 * the local side finished. UDP ASSOCIATE sends such datagrams from one
 * host UDP socket per association (opened on first use); what comes back
 * to it goes to the client with the SOCKS header of its source. */
#include "cmd/socks.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/timeouts.h>

static void out_read_start(stream_t *s);

uint8_t socks_direct_rep_for(int uverr) {
  switch (uverr) {
  case UV_ECONNREFUSED:
    return SP_REP_REFUSED;
  case UV_ENETUNREACH:
    return SP_REP_NET_UNREACH;
  case UV_EHOSTUNREACH:
  case UV_EHOSTDOWN:
    return SP_REP_HOST_UNREACH;
  case UV_ETIMEDOUT:
    return SP_REP_TTL;
  case UV_EACCES:
  case UV_EPERM:
    return SP_REP_NOT_ALLOWED;
  default:
    return SP_REP_FAILURE;
  }
}

static void dlog(const stream_t *s, const char *what, const char *detail) {
  fprintf(stderr, "layervpn socks: stream %lu: %s%s\n", s->id, what, detail);
}

static void direct_timeout(void *arg) {
  stream_t *s = arg;
  socks_stream_fail(s, SP_REP_TTL, "direct connection timed out");
}

/* Closes the stream when both directions have ended and nothing is queued. */
static void maybe_done(stream_t *s) {
  if (s->local_eof && s->out_eof && s->writes == 0 && !s->out_writing)
    socks_stream_close(s);
}

/* ---- destination -> local ---- */

static void out_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  stream_t *s = h->data;
  (void)hint;
  *buf = uv_buf_init((char *)s->dbuf, RBUF_SIZE);
}

/* Either side's write half closed (or failed: the stream goes). */
static void shutdown_cb(uv_shutdown_t *req, int status) {
  stream_t *s = req->data;
  free(req);
  if (status != 0 && status != UV_ECANCELED) {
    socks_stream_close(s);
    return;
  }
  if (status == 0)
    maybe_done(s);
}

static void out_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  stream_t *s = st->data;
  (void)buf;
  if (nread == 0)
    return;
  if (nread < 0) {
    uv_shutdown_t *req;
    uv_read_stop(st);
    s->out_reading = 0;
    if (nread != UV_EOF) {
      socks_stream_close(s);
      return;
    }
    s->out_eof = 1; /* libuv sends our FIN after the queued writes */
    req = malloc(sizeof(*req));
    if (req == NULL) {
      socks_stream_close(s);
      return;
    }
    req->data = s;
    if (uv_shutdown(req, (uv_stream_t *)&s->sock, shutdown_cb) != 0) {
      free(req);
      socks_stream_close(s);
    }
    return;
  }
  if (local_send_reply(s, s->dbuf, (size_t)nread) != 0)
    return; /* closing */
  if (s->writes > 0) { /* the local side is slow: wait for it */
    uv_read_stop(st);
    s->out_reading = 0;
  }
}

static void out_read_start(stream_t *s) {
  if (!s->out_reading && !s->out_eof && s->state == ST_RELAY &&
      uv_read_start((uv_stream_t *)&s->out, out_alloc, out_read) == 0)
    s->out_reading = 1;
}

void socks_direct_resume(stream_t *s) { out_read_start(s); }

/* ---- local -> destination ---- */

static void out_shutdown(stream_t *s) {
  uv_shutdown_t *req = malloc(sizeof(*req));
  if (req == NULL) {
    socks_stream_close(s);
    return;
  }
  req->data = s;
  if (uv_shutdown(req, (uv_stream_t *)&s->out, shutdown_cb) != 0) {
    free(req);
    socks_stream_close(s);
  }
}

static void out_write_cb(uv_write_t *req, int status) {
  stream_t *s = req->data;
  free(req);
  s->out_writing = 0;
  if (status == UV_ECANCELED)
    return;
  if (status != 0) {
    socks_stream_close(s);
    return;
  }
  if (s->local_eof)
    out_shutdown(s);
  else
    socks_read_start(s);
}

/* Writes s->rbuf[pend_off, pend) to the destination; reads the local side
 * again once it is all written. */
static void out_write(stream_t *s) {
  uv_buf_t b = uv_buf_init((char *)s->rbuf + s->pend_off,
                           (unsigned)(s->pend - s->pend_off));
  uv_write_t *req;
  int n = uv_try_write((uv_stream_t *)&s->out, &b, 1);
  if (n < 0 && n != UV_EAGAIN) {
    socks_stream_close(s);
    return;
  }
  if (n > 0)
    s->pend_off += (size_t)n;
  if (s->pend_off == s->pend) {
    s->pend = s->pend_off = 0;
    socks_read_start(s);
    return;
  }
  req = malloc(sizeof(*req));
  if (req == NULL) {
    socks_stream_close(s);
    return;
  }
  req->data = s;
  b = uv_buf_init((char *)s->rbuf + s->pend_off,
                  (unsigned)(s->pend - s->pend_off));
  /* rbuf stays untouched until the callback: reading is stopped */
  s->pend = s->pend_off = 0;
  if (uv_write(req, (uv_stream_t *)&s->out, &b, 1, out_write_cb) != 0) {
    free(req);
    socks_stream_close(s);
    return;
  }
  s->out_writing = 1;
}

void socks_direct_local_read(stream_t *s, ssize_t nread) {
  uv_read_stop((uv_stream_t *)&s->sock);
  s->reading = 0;
  if (nread < 0) {
    s->local_eof = 1;
    if (!s->out_writing)
      out_shutdown(s);
    return;
  }
  s->pend = (size_t)nread;
  s->pend_off = 0;
  out_write(s);
}

/* ---- connecting ---- */

static void connected(uv_connect_t *req, int status) {
  stream_t *s = req->data;
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  uint8_t rep[22];
  size_t rlen;
  uint32_t a = 0;
  uint16_t port = 0;
  static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  if (status == UV_ECANCELED || s->state != ST_CONNECT)
    return; /* closing */
  memset(&ss, 0, sizeof(ss));
  sys_untimeout(direct_timeout, s);
  if (status != 0) {
    char why[128];
    snprintf(why, sizeof(why), "direct connection failed: %s",
             uv_strerror(status));
    socks_stream_fail(s, socks_direct_rep_for(status), why);
    return;
  }
  s->dbuf = malloc(RBUF_SIZE);
  if (s->dbuf == NULL) {
    socks_stream_fail(s, SP_REP_FAILURE, "out of memory");
    return;
  }
  s->state = ST_RELAY;
  uv_tcp_nodelay(&s->out, 1);
  if (s->http) {
    if (local_send_reply(s, ok, sizeof(ok) - 1) != 0)
      return;
  } else {
    if (uv_tcp_getsockname(&s->out, (struct sockaddr *)&ss, &len) == 0 &&
        ss.ss_family == AF_INET) {
      const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
      a = in->sin_addr.s_addr;
      port = ntohs(in->sin_port);
    }
    if (ss.ss_family == AF_INET6) {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
      rlen = sp_socks5_reply6(rep, SP_REP_OK, in6->sin6_addr.s6_addr,
                              ntohs(in6->sin6_port));
    } else {
      rlen = sp_socks5_reply(rep, SP_REP_OK, a, port);
    }
    if (local_send_reply(s, rep, rlen) != 0)
      return;
  }
  out_read_start(s);
  if (s->hused < s->hlen) { /* bytes the client sent after its request */
    s->pend = s->hlen - s->hused;
    memcpy(s->rbuf, s->hdr + s->hused, s->pend);
    s->pend_off = 0;
    s->hused = s->hlen;
    out_write(s);
  } else {
    socks_read_start(s);
  }
}

void socks_direct_connect(stream_t *s) {
  struct sockaddr_storage ss;
  struct sockaddr_in *to = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *to6 = (struct sockaddr_in6 *)&ss;
  char buf[INET6_ADDRSTRLEN], detail[80];
  int rc;
  memset(&ss, 0, sizeof(ss));
  if (s->v6) {
    to6->sin6_family = AF_INET6;
    memcpy(&to6->sin6_addr, s->dst6, 16);
    to6->sin6_port = htons(s->req.port);
    inet_ntop(AF_INET6, s->dst6, buf, sizeof(buf));
    snprintf(detail, sizeof(detail), "[%s]:%u", buf, (unsigned)s->req.port);
  } else {
    to->sin_family = AF_INET;
    to->sin_addr.s_addr = s->dst;
    to->sin_port = htons(s->req.port);
    inet_ntop(AF_INET, &s->dst, buf, sizeof(buf));
    snprintf(detail, sizeof(detail), "%s:%u", buf, (unsigned)s->req.port);
  }
  uv_tcp_init(s->srv->loop, &s->out);
  s->out.data = s;
  s->handles++;
  s->out_open = 1;
  s->direct = 1;
  s->creq.data = s;
  s->state = ST_CONNECT;
  rc = uv_tcp_connect(&s->creq, &s->out, (const struct sockaddr *)&ss,
                      connected);
  if (rc != 0) {
    char why[128];
    snprintf(why, sizeof(why), "direct connection to %s failed: %s", detail,
             uv_strerror(rc));
    socks_stream_fail(s, socks_direct_rep_for(rc), why);
    return;
  }
  sys_timeout(CONNECT_TIMEOUT_MS, direct_timeout, s);
  dlog(s, "outside the tunnel's routes, connecting directly to ", detail);
}

void socks_direct_close(stream_t *s) {
  sys_untimeout(direct_timeout, s);
  if (s->out_open && !uv_is_closing((uv_handle_t *)&s->out))
    uv_close((uv_handle_t *)&s->out, socks_stream_closed);
  if (s->dudp_open && !uv_is_closing((uv_handle_t *)&s->dudp))
    uv_close((uv_handle_t *)&s->dudp, socks_stream_closed);
}

/* ---- UDP ASSOCIATE ---- */

static void dudp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  stream_t *s = h->data;
  (void)hint;
  *buf = uv_buf_init((char *)s->srv->urecv, sizeof(s->srv->urecv));
}

/* A datagram from outside: to the client, with the SOCKS header. */
static void dudp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                      const struct sockaddr *from, unsigned flags) {
  stream_t *s = h->data;
  socks_srv_t *srv = s->srv;
  const struct sockaddr_in *in = (const struct sockaddr_in *)from;
  uv_buf_t b;
  (void)flags;
  if (nread < 0 || from == NULL || from->sa_family != AF_INET ||
      s->udp_client.sin_port == 0 || !s->udp_open)
    return;
  sp_socks5_udp_build(srv->usend, in->sin_addr.s_addr, ntohs(in->sin_port));
  memcpy(srv->usend + 10, buf->base, (size_t)nread);
  b = uv_buf_init((char *)srv->usend, (unsigned)nread + 10);
  (void)uv_udp_try_send(&s->udp, &b, 1,
                        (const struct sockaddr *)&s->udp_client);
}

void socks_direct_udp_send(stream_t *s, uint32_t dst, uint16_t port,
                           const uint8_t *data, size_t len) {
  struct sockaddr_in to, any;
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  int rc;
  if (!s->dudp_open) {
    uv_udp_init(s->srv->loop, &s->dudp);
    s->dudp.data = s;
    s->handles++;
    s->dudp_open = 1;
    uv_ip4_addr("0.0.0.0", 0, &any);
    rc = uv_udp_bind(&s->dudp, (const struct sockaddr *)&any, 0);
    if (rc == 0)
      rc = uv_udp_recv_start(&s->dudp, dudp_alloc, dudp_recv);
    if (rc != 0) {
      fprintf(stderr,
              "layervpn socks: stream %lu: no UDP socket for direct "
              "datagrams: %s\n",
              s->id, uv_strerror(rc));
      socks_stream_close(s);
      return;
    }
    dlog(s, "UDP datagrams outside the tunnel's routes go directly", "");
  }
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = dst;
  to.sin_port = htons(port);
  (void)uv_udp_try_send(&s->dudp, &b, 1, (const struct sockaddr *)&to);
}
