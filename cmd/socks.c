/* The streams of `layervpn socks`: one local connection (SOCKS5 or HTTP
 * CONNECT, sniffed from the first byte) relayed to one lwIP TCP connection
 * in the tunnel.
 *
 * Per stream, buffers are bounded: towards the tunnel we read from the local
 * socket only when lwIP's send buffer took the last read; towards the local
 * socket we acknowledge (tcp_recved) only what libuv has written, so lwIP's
 * receive window (TCP_WND) bounds what is queued. */
#include "cmd/socks.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/ip4.h>
#include <lwip/pbuf.h>
#include <lwip/timeouts.h>

static void connect_timeout(void *arg);

static void slog(const stream_t *s, const char *fmt, const char *a,
                 const char *b) {
  fprintf(stderr, "layervpn socks: stream %lu: ", s->id);
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
}

/* ---- writing to the local socket ---- */

static void write_cb(uv_write_t *req, int status) {
  wreq_t *w = (wreq_t *)req;
  stream_t *s = w->s;
  s->writes--;
  if (status == 0 && w->recved && s->pcb != NULL)
    tcp_recved(s->pcb, w->recved);
  free(w);
  if (s->writes == 0 && s->close_after_write)
    socks_stream_close(s);
  else if (status != 0 && s->state != ST_DONE)
    socks_stream_close(s);
  else if (s->direct && s->writes == 0)
    socks_direct_resume(s);
}

/* Queues len bytes for the local socket; `recved` of them are acknowledged
 * to lwIP once written. Returns 0 or -1 (the stream is then closing). */
static int local_send(stream_t *s, const void *data, size_t len,
                      int recved) {
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  wreq_t *w;
  int n = 0;
  if (s->writes == 0) { /* nothing queued: try to write now */
    n = uv_try_write((uv_stream_t *)&s->sock, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
      socks_stream_close(s);
      return -1;
    }
    if (n < 0)
      n = 0;
    if (recved && n > 0 && s->pcb != NULL)
      tcp_recved(s->pcb, (u16_t)n);
    if ((size_t)n == len)
      return 0;
  }
  w = malloc(sizeof(*w) + len - (size_t)n);
  if (w == NULL) {
    socks_stream_close(s);
    return -1;
  }
  memcpy(w->data, (const char *)data + n, len - (size_t)n);
  w->s = s;
  w->recved = recved ? (uint16_t)(len - (size_t)n) : 0;
  b = uv_buf_init(w->data, (unsigned)(len - (size_t)n));
  if (uv_write(&w->req, (uv_stream_t *)&s->sock, &b, 1, write_cb) != 0) {
    free(w);
    socks_stream_close(s);
    return -1;
  }
  s->writes++;
  return 0;
}

int local_send_reply(stream_t *s, const void *data, size_t len) {
  return local_send(s, data, len, 0);
}

/* One error reply (SOCKS5 code or HTTP status) and a log line; closes. */
void socks_stream_fail(stream_t *s, uint8_t rep, const char *why) {
  char out[128];
  size_t len;
  const char *status = "502 Bad Gateway";
  if (s->state == ST_DONE)
    return;
  slog(s, "refused: %s%s", why, "");
  if (s->http) {
    if (rep == SP_REP_NOT_ALLOWED)
      status = "403 Forbidden";
    else if (rep == SP_REP_TTL)
      status = "504 Gateway Timeout";
    else if (rep == SP_REP_CMD_UNSUPPORTED)
      status = "405 Method Not Allowed";
    else if (rep == SP_REP_FAILURE && s->state == ST_HTTP)
      status = "400 Bad Request";
    len = (size_t)snprintf(out, sizeof(out),
                           "HTTP/1.1 %s\r\nConnection: close\r\n"
                           "Content-Length: 0\r\n\r\n",
                           status);
  } else if (s->state == ST_GREETING) {
    out[0] = 5;
    out[1] = (char)0xff; /* no acceptable methods */
    len = 2;
  } else if (s->state == ST_USERPASS) {
    out[0] = 1;
    out[1] = 1;
    len = 2;
  } else if (s->state == ST_SNIFF) { /* SOCKS4: "request rejected" */
    memset(out, 0, 8);
    out[1] = 0x5b;
    len = 8;
  } else {
    len = sp_socks5_reply((uint8_t *)out, rep, 0, 0);
  }
  s->state = ST_DONE;
  s->close_after_write = 1;
  if (s->reading) {
    uv_read_stop((uv_stream_t *)&s->sock);
    s->reading = 0;
  }
  if (len == 0) {
    socks_stream_close(s);
    return;
  }
  if (local_send(s, out, len, 0) == 0 && s->writes == 0)
    socks_stream_close(s);
}

/* ---- lwIP TCP: the tunnel side of a stream ---- */

/* The pcb whose lwIP callback is running, and whether we aborted it: the
 * callback must then return ERR_ABRT (lwIP's rule). */
static struct tcp_pcb *cb_pcb;
static int cb_aborted;

static void pcb_drop(stream_t *s, int abort) {
  struct tcp_pcb *pcb = s->pcb;
  if (pcb == NULL)
    return;
  s->pcb = NULL;
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);
  tcp_sent(pcb, NULL);
  tcp_err(pcb, NULL);
  if (abort || tcp_close(pcb) != ERR_OK) {
    tcp_abort(pcb);
    if (pcb == cb_pcb)
      cb_aborted = 1;
  }
}

static void cb_enter(struct tcp_pcb *pcb) {
  cb_pcb = pcb;
  cb_aborted = 0;
}

static err_t cb_leave(void) {
  cb_pcb = NULL;
  return cb_aborted ? ERR_ABRT : ERR_OK;
}


/* Moves what the local socket sent into lwIP's send buffer. */
static void push_to_tunnel(stream_t *s) {
  while (s->pcb != NULL && s->pend_off < s->pend) {
    size_t n = s->pend - s->pend_off;
    if (n > tcp_sndbuf(s->pcb))
      n = tcp_sndbuf(s->pcb);
    if (n == 0 ||
        tcp_write(s->pcb, s->rbuf + s->pend_off, (u16_t)n,
                  TCP_WRITE_FLAG_COPY) != ERR_OK)
      break; /* full: tcp_sent calls us again */
    s->pend_off += n;
  }
  if (s->pcb == NULL)
    return;
  tcp_output(s->pcb);
  if (s->pend_off < s->pend)
    return;
  s->pend = s->pend_off = 0;
  if (s->local_eof && !s->shut_tx) {
    s->shut_tx = 1;
    tcp_shutdown(s->pcb, 0, 1);
    if (s->remote_eof && s->writes == 0)
      socks_stream_close(s);
  } else if (!s->local_eof) {
    socks_read_start(s);
  }
}

static err_t on_tcp_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  stream_t *s = arg;
  (void)len;
  if (s == NULL)
    return ERR_OK;
  cb_enter(pcb);
  push_to_tunnel(s);
  return cb_leave();
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  stream_t *s = req->data;
  (void)status;
  free(req);
  if (s->local_eof || status != 0)
    socks_stream_close(s);
}

static err_t on_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
                         err_t err) {
  stream_t *s = arg;
  struct pbuf *q;
  (void)err;
  if (s == NULL) {
    if (p != NULL) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (p == NULL && s->remote_eof) {
    /* both sides closed: lwIP frees the pcb when we return */
    s->pcb = NULL;
    if (s->local_eof && s->writes == 0)
      socks_stream_close(s);
    return ERR_OK;
  }
  cb_enter(pcb);
  if (p == NULL) { /* the destination closed its side */
    uv_shutdown_t *req;
    s->remote_eof = 1;
    req = malloc(sizeof(*req));
    if (req == NULL) {
      socks_stream_close(s);
      return cb_leave();
    }
    req->data = s;
    if (uv_shutdown(req, (uv_stream_t *)&s->sock, shutdown_cb) != 0) {
      free(req);
      socks_stream_close(s);
    }
    return cb_leave();
  }
  for (q = p; q != NULL; q = q->next)
    if (q->len > 0 && local_send(s, q->payload, q->len, 1) != 0)
      break;
  pbuf_free(p);
  return cb_leave();
}

/* lwIP freed the pcb (reset, abort, timeout). */
static void on_tcp_err(void *arg, err_t err) {
  stream_t *s = arg;
  if (s == NULL)
    return;
  s->pcb = NULL;
  if (s->state == ST_CONNECT) {
    sys_untimeout(connect_timeout, s);
    socks_stream_fail(s, err == ERR_RST ? SP_REP_REFUSED : SP_REP_HOST_UNREACH,
                err == ERR_RST ? "connection refused by the destination"
                               : "destination unreachable (no answer to "
                                 "the SYN and its retries)");
    return;
  }
  socks_stream_close(s);
}

static err_t on_tcp_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  stream_t *s = arg;
  uint8_t rep[22];
  static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  (void)err;
  if (s == NULL)
    return ERR_OK;
  cb_enter(pcb);
  sys_untimeout(connect_timeout, s);
  s->state = ST_RELAY;
  /* the SYN's backoff must not carry over to the data (no RTT sample yet) */
  pcb->rto = (s16_t)((pcb->sa >> 3) + pcb->sv);
  s->first_seq = pcb->snd_nxt;
  if (s->http) {
    if (local_send(s, ok, sizeof(ok) - 1, 0) != 0)
      return cb_leave();
  } else {
    size_t n =
        IP_IS_V6(&pcb->local_ip)
            ? sp_socks5_reply6(rep, SP_REP_OK,
                               (const uint8_t *)ip_2_ip6(&pcb->local_ip)->addr,
                               pcb->local_port)
            : sp_socks5_reply(rep, SP_REP_OK,
                              ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)),
                              pcb->local_port);
    if (local_send(s, rep, n, 0) != 0)
      return cb_leave();
  }
  /* bytes the client sent after its request go first */
  if (s->hused < s->hlen) {
    s->pend = s->hlen - s->hused;
    memcpy(s->rbuf, s->hdr + s->hused, s->pend);
    s->pend_off = 0;
  }
  push_to_tunnel(s);
  return cb_leave();
}

/* Whether s's pcb retransmits its first data, none of it acknowledged. */
static int first_data_unacked(const stream_t *s, const struct tcp_pcb *pcb) {
  return s->state == ST_RELAY && pcb->state == ESTABLISHED &&
         pcb->unacked != NULL && pcb->nrtx > 0 &&
         pcb->lastack == s->first_seq;
}

void socks_handshake_backoff(socks_srv_t *srv) {
  stream_t *s;
  for (s = srv->streams; s != NULL; s = s->next) {
    struct tcp_pcb *pcb = s->pcb;
    int t;
    if (pcb == NULL ||
        (s->state == ST_CONNECT ? pcb->state != SYN_SENT
                                : !first_data_unacked(s, pcb)))
      continue;
    t = RTO_INIT_TICKS << (pcb->nrtx < 4 ? pcb->nrtx : 4);
    if (t > HS_RTO_MAX_TICKS)
      t = HS_RTO_MAX_TICKS;
    /* the SYN's is lwIP's fixed 3 s: set it; the data's only ever lowered */
    if (s->state == ST_CONNECT || pcb->rto > t)
      pcb->rto = (s16_t)t;
  }
}

void socks_icmp_unreach(socks_srv_t *srv, const sp_unreach_t *u,
                        uint8_t rep) {
  stream_t *s;
  char why[160], a[INET6_ADDRSTRLEN];
  for (s = srv->streams; s != NULL; s = s->next) {
    struct tcp_pcb *pcb = s->pcb;
    if (s->state != ST_CONNECT || pcb == NULL || pcb->state != SYN_SENT ||
        pcb->local_port != u->sport || pcb->remote_port != u->dport)
      continue;
    if (u->family == 4 ? !IP_IS_V4(&pcb->remote_ip) ||
                             memcmp(&ip_2_ip4(&pcb->remote_ip)->addr, u->dst,
                                    4) != 0
                       : !IP_IS_V6(&pcb->remote_ip) ||
                             memcmp(ip_2_ip6(&pcb->remote_ip)->addr, u->dst,
                                    16) != 0)
      continue;
    inet_ntop(u->family == 4 ? AF_INET : AF_INET6, u->dst, a, sizeof(a));
    snprintf(why, sizeof(why), "%s:%u: %s (ICMP through the tunnel)", a,
             (unsigned)u->dport,
             rep == SP_REP_NET_UNREACH    ? "network unreachable"
             : rep == SP_REP_REFUSED      ? "port unreachable"
             : rep == SP_REP_NOT_ALLOWED ? "administratively prohibited"
                                          : "host unreachable");
    sys_untimeout(connect_timeout, s);
    pcb_drop(s, 1);
    socks_stream_fail(s, rep, why);
    return;
  }
}

static void connect_timeout(void *arg) {
  stream_t *s = arg;
  pcb_drop(s, 1);
  socks_stream_fail(s, SP_REP_TTL, "connection timed out");
}

void socks_stream_connect(stream_t *s) {
  socks_srv_t *srv = s->srv;
  ip_addr_t dst;
  char buf[INET6_ADDRSTRLEN + 2], port[8];
  int allowed = s->v6 ? socks_dst6_allowed(srv, s->dst6)
                      : socks_dst_allowed(srv, s->dst);
  if (s->v6) {
    buf[0] = '[';
    inet_ntop(AF_INET6, s->dst6, buf + 1, INET6_ADDRSTRLEN);
    strcat(buf, "]");
  } else {
    inet_ntop(AF_INET, &s->dst, buf, sizeof(buf));
  }
  snprintf(port, sizeof(port), "%u", (unsigned)s->req.port);
  if (!allowed && srv->direct_outside) {
    socks_direct_connect(s);
    return;
  }
  if (!allowed) {
    char why[160];
    snprintf(why, sizeof(why), "%s:%s is outside the tunnel's routes%s", buf,
             port,
             s->v6 && !srv->has6
                 ? " (the server pushed no IPv6 address: see --direct-outside)"
                 : " (see --direct-outside)");
    socks_stream_fail(s, SP_REP_NOT_ALLOWED, why);
    return;
  }
  s->pcb = tcp_new_ip_type(s->v6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
  if (s->pcb == NULL) {
    socks_stream_fail(s, SP_REP_FAILURE, "out of memory");
    return;
  }
  tcp_arg(s->pcb, s);
  tcp_recv(s->pcb, on_tcp_recv);
  tcp_sent(s->pcb, on_tcp_sent);
  tcp_err(s->pcb, on_tcp_err);
  tcp_nagle_disable(s->pcb);
  s->pcb->sv = RTO_INIT_TICKS; /* lwIP's 3 s is too slow (socks.h) */
  s->pcb->rto = RTO_INIT_TICKS;
  if (s->v6) {
    memcpy(ip_2_ip6(&dst)->addr, s->dst6, 16);
    ip6_addr_clear_zone(ip_2_ip6(&dst));
    IP_SET_TYPE_VAL(dst, IPADDR_TYPE_V6);
  } else {
    ip_addr_set_ip4_u32_val(dst, s->dst);
  }
  s->state = ST_CONNECT;
  if (tcp_connect(s->pcb, &dst, s->req.port, on_tcp_connected) != ERR_OK) {
    pcb_drop(s, 1);
    socks_stream_fail(s, SP_REP_NET_UNREACH, "cannot route to the destination");
    return;
  }
  sys_timeout(CONNECT_TIMEOUT_MS, connect_timeout, s);
  if (srv->verbose)
    slog(s, "connecting to %s:%s", buf, port);
}

/* ---- the local side: requests ---- */

/* A parsed request (SOCKS5 or HTTP): check, then resolve or connect. */
static void stream_request(stream_t *s) {
  socks_srv_t *srv = s->srv;
  if (s->reading) { /* nothing more until the reply */
    uv_read_stop((uv_stream_t *)&s->sock);
    s->reading = 0;
  }
  if (!srv->up) {
    socks_stream_fail(s, SP_REP_NET_UNREACH, "the tunnel is not up");
    return;
  }
  if (s->req.cmd == SP_CMD_UDP_ASSOCIATE) {
    socks_udp_associate(s);
    return;
  }
  if (s->req.atyp == SP_ATYP_IPV6) {
    memcpy(s->dst6, s->req.addr, 16);
    s->v6 = 1;
    socks_stream_connect(s);
    return;
  }
  if (s->req.atyp == SP_ATYP_NAME) {
    socks_resolve(s);
    return;
  }
  memcpy(&s->dst, s->req.addr, 4);
  socks_stream_connect(s);
}

static int auth_ok(const socks_srv_t *srv, const char *user,
                   const char *pass) {
  return srv->auth == NULL || sp_auth_check(srv->auth, user, pass);
}

/* Parses what arrived so far; returns when more bytes are needed. */
static void stream_parse(stream_t *s) {
  socks_srv_t *srv = s->srv;
  const uint8_t *b;
  size_t n;
  unsigned methods;
  char user[256], pass[256];
  uint8_t out[2];
  int rc;

  for (;;) {
    b = s->hdr + s->hused;
    n = s->hlen - s->hused;
    switch (s->state) {
    case ST_SNIFF:
      if (n == 0)
        return;
      if (b[0] == 5) {
        s->state = ST_GREETING;
      } else if (b[0] == 4) {
        socks_stream_fail(s, 0, "SOCKS4 is not supported (use SOCKS5)");
        return;
      } else { /* HTTP: anything but CONNECT gets 405 */
        s->state = ST_HTTP;
        s->http = 1;
      }
      continue;
    case ST_GREETING:
      rc = sp_socks5_greeting(b, n, &methods);
      if (rc == SP_MORE)
        return;
      if (rc > 0 && !(methods & (srv->auth ? 2u : 1u)))
        rc = SP_EMETHOD;
      if (rc < 0) {
        socks_stream_fail(s, 0, sp_strerror(rc));
        return;
      }
      s->hused += (size_t)rc;
      out[0] = 5;
      out[1] = srv->auth ? 2 : 0;
      if (local_send(s, out, 2, 0) != 0)
        return;
      s->state = srv->auth ? ST_USERPASS : ST_REQUEST;
      continue;
    case ST_USERPASS:
      rc = sp_socks5_userpass(b, n, user, pass);
      if (rc == SP_MORE)
        return;
      if (rc < 0 || !auth_ok(srv, user, pass)) {
        socks_stream_fail(s, 0, rc < 0 ? sp_strerror(rc)
                                 : "wrong username or password");
        memset(pass, 0, sizeof(pass));
        return;
      }
      memset(pass, 0, sizeof(pass));
      s->hused += (size_t)rc;
      out[0] = 1;
      out[1] = 0;
      if (local_send(s, out, 2, 0) != 0)
        return;
      s->state = ST_REQUEST;
      continue;
    case ST_REQUEST:
      rc = sp_socks5_request(b, n, &s->req);
      if (rc == SP_MORE)
        return;
      if (rc < 0) {
        socks_stream_fail(s, sp_socks5_rep_for(rc), sp_strerror(rc));
        return;
      }
      s->hused += (size_t)rc;
      stream_request(s);
      return;
    case ST_HTTP:
      rc = sp_http_connect(b, n, &s->req);
      if (rc == SP_MORE)
        return;
      if (rc < 0) {
        socks_stream_fail(s,
                          rc == SP_EVERSION ? SP_REP_CMD_UNSUPPORTED
                                            : SP_REP_FAILURE,
                          sp_strerror(rc));
        return;
      }
      s->hused += (size_t)rc;
      if (srv->auth != NULL &&
          (!s->req.has_auth || !auth_ok(srv, s->req.user, s->req.pass))) {
        static const char r407[] =
            "HTTP/1.1 407 Proxy Authentication Required\r\n"
            "Proxy-Authenticate: Basic realm=\"layervpn\"\r\n"
            "Connection: close\r\nContent-Length: 0\r\n\r\n";
        memset(s->req.pass, 0, sizeof(s->req.pass));
        slog(s, "refused: %s%s",
             s->req.has_auth ? "wrong username or password"
                             : "no Proxy-Authorization",
             "");
        s->state = ST_DONE;
        s->close_after_write = 1;
        uv_read_stop((uv_stream_t *)&s->sock);
        s->reading = 0;
        if (local_send(s, r407, sizeof(r407) - 1, 0) == 0 && s->writes == 0)
          socks_stream_close(s);
        return;
      }
      memset(s->req.pass, 0, sizeof(s->req.pass));
      stream_request(s);
      return;
    default:
      return;
    }
  }
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  stream_t *s = h->data;
  (void)hint;
  if (s->state == ST_RELAY || s->state == ST_UDP)
    *buf = uv_buf_init((char *)s->rbuf, RBUF_SIZE);
  else
    *buf = uv_buf_init((char *)s->hdr + s->hlen,
                       (unsigned)(HDR_MAX - s->hlen));
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  stream_t *s = st->data;
  (void)buf;
  if (nread == 0)
    return;
  if (s->state == ST_UDP) { /* the association lives as long as this */
    if (nread < 0)
      socks_stream_close(s);
    return;
  }
  if (nread < 0) {
    if (nread != UV_EOF || s->state != ST_RELAY) {
      socks_stream_close(s);
      return;
    }
    if (s->direct) {
      socks_direct_local_read(s, nread);
      return;
    }
    s->local_eof = 1;
    uv_read_stop(st);
    s->reading = 0;
    push_to_tunnel(s); /* sends our FIN once the buffer is drained */
    return;
  }
  if (s->state == ST_RELAY && s->direct) {
    socks_direct_local_read(s, nread);
    return;
  }
  if (s->state == ST_RELAY) {
    s->pend = (size_t)nread;
    s->pend_off = 0;
    uv_read_stop(st);
    s->reading = 0;
    push_to_tunnel(s);
    return;
  }
  s->hlen += (size_t)nread;
  stream_parse(s);
  if (s->state != ST_DONE && s->reading && s->hlen >= HDR_MAX)
    socks_stream_fail(s, SP_REP_FAILURE, sp_strerror(SP_ETOOLONG));
}

void socks_read_start(stream_t *s) {
  if (!s->reading && s->state != ST_DONE &&
      uv_read_start((uv_stream_t *)&s->sock, alloc_cb, read_cb) == 0)
    s->reading = 1;
}

void socks_stream_closed(uv_handle_t *h) {
  stream_t *s = h->data;
  socks_srv_t *srv = s->srv;
  if (--s->handles > 0)
    return;
  if (s->prev)
    s->prev->next = s->next;
  else
    srv->streams = s->next;
  if (s->next)
    s->next->prev = s->prev;
  srv->n_streams--;
  free(s->dbuf);
  free(s);
}

void socks_stream_close(stream_t *s) {
  s->state = ST_DONE;
  pcb_drop(s, 0);
  socks_dns_drop(s);
  sys_untimeout(connect_timeout, s);
  socks_udp_close(s);
  socks_direct_close(s);
  if (!uv_is_closing((uv_handle_t *)&s->sock))
    uv_close((uv_handle_t *)&s->sock, socks_stream_closed);
}

void socks_on_connection(uv_stream_t *server, int status) {
  socks_srv_t *srv = server->data;
  stream_t *s;
  if (status != 0)
    return;
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return;
  s->srv = srv;
  s->id = ++srv->next_id;
  uv_tcp_init(srv->loop, &s->sock);
  s->sock.data = s;
  s->handles = 1;
  s->next = srv->streams;
  if (srv->streams)
    srv->streams->prev = s;
  srv->streams = s;
  srv->n_streams++;
  if (uv_accept(server, (uv_stream_t *)&s->sock) != 0 ||
      srv->n_streams > MAX_STREAMS || srv->stopping) {
    if (srv->n_streams > MAX_STREAMS)
      slog(s, "refused: more than %s streams%s", "4096", "");
    socks_stream_close(s);
    return;
  }
  uv_tcp_nodelay(&s->sock, 1);
  socks_read_start(s);
}
