/* networkio through an outbound proxy: see proxyio.h. The protocols are in
 * proxy.c; this file moves their bytes over the loop.
 *
 * HTTP and SOCKS over TCP: networkio resolves and connects to the proxy,
 * the handshake runs on that connection under the connect timeout, and the
 * bytes after the proxy's reply are the server's first frames.
 * SOCKS over UDP (as OpenVPN): the TCP connection carries UDP ASSOCIATE and
 * stays open for the association's life (its end ends the link); the
 * server's name is resolved here, IPv4 only as OpenVPN's 10-byte header
 * allows, and every datagram goes to the relay the proxy named. */
#include "layers/networkio/proxyio.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#define LAYER_NAME "networkio"

/* One handshake request in flight: owns a copy of the bytes (zeroed when
 * done, they may hold the password). */
typedef struct {
  uv_write_t req;
  lvpn__networkio_t *n;
  size_t len;
  uint8_t data[];
} px_write_t;

int lvpn__networkio_proxy_init(lvpn__networkio_t *n,
                               const lvpn__networkio_opts_t *o) {
  lvpn__proxy_t *px = o->proxy;
  size_t len;

  n->proxy = NULL;
  n->hs = NULL;
  n->px_resolver = NULL;
  n->target[0] = '\0';
  n->target_port = 0;
  memset(&n->px_server, 0, sizeof(n->px_server));
  if (px == NULL || px->kind == LVPN__PROXY_NONE)
    return 0;
  if (px->host == NULL || px->port == 0 ||
      (px->kind == LVPN__PROXY_HTTP && !lvpn__net_proto_is_tcp(n->proto)))
    return LVPN_EINVAL;
  len = strlen(px->host);
  if (len == 0 || len > LVPN__NETWORKIO_HOST_MAX)
    return LVPN_EINVAL;
  memcpy(n->target, n->host, sizeof(n->target));
  n->target_port = n->port;
  memcpy(n->host, px->host, len + 1);
  n->port = px->port;
  n->proxy = px;
  return 0;
}

static void px_free_hs(lvpn__networkio_t *n) {
  if (n->hs != NULL) {
    lvpn__proxy_hs_wipe(n->hs);
    free(n->hs);
    n->hs = NULL;
  }
}

static void px_fail(lvpn__networkio_t *n, int err) {
  if (n->hs != NULL && n->hs->want_basic) {
    /* 'auto': the next attempt (the restart) sends Basic, as OpenVPN */
    n->proxy->basic = true;
    LVPN__LOG(n->base.log, LVPN_LOG_INFO, LAYER_NAME, "%s", n->hs->err);
  } else if (n->hs != NULL && n->hs->err[0] != '\0') {
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME, "%s", n->hs->err);
  }
  px_free_hs(n);
  lvpn__layer_fail(&n->base, err);
}

static void px_write_cb(uv_write_t *req, int status) {
  px_write_t *w = container_of(req, px_write_t, req);
  lvpn__networkio_t *n = w->n;

  mbedtls_platform_zeroize(w->data, w->len);
  free(w);
  if (status < 0 && status != UV_ECANCELED && lvpn__layer_running(&n->base)) {
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "%s: cannot send to the proxy: %s", lvpn__proxy_name(n->proxy),
              uv_strerror(status));
    px_fail(n, LVPN_EPROXY);
  }
}

/* Sends and clears the handshake's pending request. */
static int px_send(lvpn__networkio_t *n) {
  lvpn__proxy_hs_t *hs = n->hs;
  px_write_t *w;
  uv_buf_t b;
  int err;

  if (hs->out_len == 0)
    return 0;
  if ((w = malloc(sizeof(*w) + hs->out_len)) == NULL)
    return LVPN_ENOMEM;
  w->n = n;
  w->len = hs->out_len;
  memcpy(w->data, hs->out, hs->out_len);
  mbedtls_platform_zeroize(hs->out, hs->out_len);
  hs->out_len = 0;
  b = uv_buf_init((char *)w->data, (unsigned)w->len);
  err = uv_write(&w->req, (uv_stream_t *)&n->tcp, &b, 1, px_write_cb);
  if (err != 0) {
    mbedtls_platform_zeroize(w->data, w->len);
    free(w);
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "%s: cannot send to the proxy: %s", lvpn__proxy_name(n->proxy),
              uv_strerror(err));
    return LVPN_EPROXY;
  }
  return 0;
}

static void px_timer_cb(uv_timer_t *h) {
  lvpn__networkio_t *n = container_of(h, lvpn__networkio_t, timer);
  if (n->px_resolver != NULL) { /* SOCKS UDP: the server's address */
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "cannot resolve host '%s': no answer within %llu ms", n->target,
              (unsigned long long)n->timeout_ms);
    lvpn__layer_fail(&n->base, LVPN_ERESOLVE);
    return;
  }
  LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
            "%s: no complete answer from the proxy within %llu ms",
            lvpn__proxy_name(n->proxy), (unsigned long long)n->timeout_ms);
  px_fail(n, UV_ETIMEDOUT);
}

void lvpn__networkio_proxy_begin(lvpn__networkio_t *n) {
  char proxy[64];
  int udp = !lvpn__net_proto_is_tcp(n->proto), err;

  lvpn__networkio_remote_str(n, proxy, sizeof(proxy));
  if ((n->hs = malloc(sizeof(*n->hs))) == NULL) {
    lvpn__layer_fail(&n->base, LVPN_ENOMEM);
    return;
  }
  err = lvpn__proxy_hs_init(n->hs, n->proxy, n->target, n->target_port, udp);
  if (err == 0)
    err = lvpn__proxy_hs_start(n->hs);
  if (err == 0)
    err = px_send(n);
  if (err != 0) {
    px_fail(n, err);
    return;
  }
  LVPN__LOG(n->base.log, LVPN_LOG_INFO, LAYER_NAME,
            "%s: connected to the proxy %s; asking for %s %s:%u",
            lvpn__proxy_name(n->proxy), proxy,
            udp ? "UDP ASSOCIATE for" : "CONNECT to", n->target,
            (unsigned)n->target_port);
  LVPN__TRACE(n->base.trace, LAYER_NAME, "proxy", "kind=%s proxy=%s",
              lvpn__proxy_name(n->proxy), proxy);
  /* The handshake gets the connect timeout once more. */
  uv_timer_start(&n->timer, px_timer_cb, n->timeout_ms, 0);
}

/* ---- SOCKS UDP: the relay and the server's address ---- */

static void px_udp_up(lvpn__networkio_t *n) {
  char relay[64];
  int err;

  uv_timer_stop(&n->timer);
  lvpn__networkio_addr_str(&n->remote, relay, sizeof(relay));
  LVPN__LOG(n->base.log, LVPN_LOG_INFO, LAYER_NAME,
            "SOCKS proxy wants us to send UDP to %s", relay);
  if ((err = lvpn__networkio_udp_open(n)) != 0)
    lvpn__layer_fail(&n->base, err);
}

static void px_resolved_cb(uv_getaddrinfo_t *req, int status,
                           struct addrinfo *res) {
  struct lvpn__networkio_resolver_s *r =
      container_of(req, struct lvpn__networkio_resolver_s, req);
  lvpn__networkio_t *n = r->n;
  struct addrinfo *ai;

  free(r);
  if (n == NULL) { /* stopped meanwhile */
    uv_freeaddrinfo(res);
    return;
  }
  n->px_resolver = NULL;
  for (ai = status == 0 ? res : NULL; ai != NULL; ai = ai->ai_next)
    if (ai->ai_family == AF_INET &&
        ai->ai_addrlen >= sizeof(struct sockaddr_in))
      break;
  if (ai == NULL) {
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "cannot resolve host '%s' to IPv4 (SOCKS over UDP): %s",
              n->target, status < 0 ? uv_strerror(status) : "no IPv4 address");
    uv_freeaddrinfo(res);
    lvpn__layer_fail(&n->base, LVPN_ERESOLVE);
    return;
  }
  memcpy(&n->px_server.sin_addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
         4);
  uv_freeaddrinfo(res);
  px_udp_up(n);
}

/* UDP ASSOCIATE succeeded: the relay (the proxy's own address when it
 * answered 0.0.0.0), then the server's IPv4 address. */
static void px_udp_associated(lvpn__networkio_t *n,
                              const struct sockaddr_storage *bound) {
  struct sockaddr_in *relay = (struct sockaddr_in *)&n->remote;
  struct addrinfo hints;
  struct lvpn__networkio_resolver_s *r;
  int err;

  if (bound->ss_family != AF_INET) {
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "socks-proxy: the UDP relay must be an IPv4 address (as "
              "with OpenVPN)");
    lvpn__layer_fail(&n->base, LVPN_EPROXY);
    return;
  }
  if (n->remote.ss_family == AF_INET &&
      ((const struct sockaddr_in *)bound)->sin_addr.s_addr == INADDR_ANY) {
    relay->sin_port = ((const struct sockaddr_in *)bound)->sin_port;
  } else {
    memset(&n->remote, 0, sizeof(n->remote));
    memcpy(&n->remote, bound, sizeof(struct sockaddr_in));
  }
  n->px_server.sin_family = AF_INET;
  n->px_server.sin_port = htons(n->target_port);
  if (uv_inet_pton(AF_INET, n->target, &n->px_server.sin_addr) == 0) {
    px_udp_up(n);
    return;
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  if ((r = malloc(sizeof(*r))) == NULL) {
    lvpn__layer_fail(&n->base, LVPN_ENOMEM);
    return;
  }
  r->n = n;
  err = uv_getaddrinfo(n->base.loop, &r->req, px_resolved_cb, n->target, NULL,
                       &hints);
  if (err != 0) {
    free(r);
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
              "cannot resolve host '%s': %s", n->target, uv_strerror(err));
    lvpn__layer_fail(&n->base, LVPN_ERESOLVE);
    return;
  }
  n->px_resolver = r;
}

/* ---- reads on the proxy connection ---- */

static void px_done(lvpn__networkio_t *n, size_t used, size_t nread) {
  struct sockaddr_storage bound = n->hs->bound;
  int udp = !lvpn__net_proto_is_tcp(n->proto);

  if (!udp) /* UDP: the timer still bounds the server's lookup */
    uv_timer_stop(&n->timer);
  LVPN__LOG(n->base.log, LVPN_LOG_INFO, LAYER_NAME,
            "%s: the proxy opened the way to %s:%u", lvpn__proxy_name(n->proxy),
            n->target, (unsigned)n->target_port);
  px_free_hs(n);
  if (udp) {
    px_udp_associated(n, &bound);
    return;
  }
  /* What followed the reply in this read is the server's. */
  memmove(n->rxbuf, n->rxbuf + n->rx_len + used, nread - used);
  n->rx_len = nread - used;
  lvpn__networkio_become_ready(n);
  if (n->rx_len > 0 && lvpn__layer_running(&n->base))
    lvpn__networkio_tcp_deframe(n);
}

int lvpn__networkio_proxy_read(lvpn__networkio_t *n, ssize_t nread) {
  size_t used = 0, off = 0;
  int rc;

  if (n->hs == NULL) {
    if (lvpn__net_proto_is_tcp(n->proto))
      return 0; /* the server's frames */
    /* SOCKS UDP: the control connection carries nothing more; its end
     * ends the association. */
    if (nread < 0) {
      LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
                "socks-proxy: the proxy closed the UDP association (%s)",
                uv_strerror((int)nread));
      lvpn__layer_fail(&n->base, LVPN_ECONNRESET);
    }
    return 1;
  }
  if (nread < 0) {
    rc = LVPN_EPROXY;
    if (nread == UV_EOF)
      rc = lvpn__proxy_hs_eof(n->hs);
    else
      LVPN__LOG(n->base.log, LVPN_LOG_ERROR, LAYER_NAME,
                "%s: connection to the proxy lost: %s",
                lvpn__proxy_name(n->proxy), uv_strerror((int)nread));
    px_fail(n, rc);
    return 1;
  }
  do {
    rc = lvpn__proxy_hs_feed(n->hs, n->rxbuf + n->rx_len + off,
                             (size_t)nread - off, &used);
    off += used;
    if (rc == 1) {
      px_done(n, off, (size_t)nread);
      return 1;
    }
    if (rc == 0)
      rc = px_send(n);
    if (rc != 0) {
      px_fail(n, rc);
      return 1;
    }
  } while (off < (size_t)nread);
  return 1;
}

/* ---- SOCKS UDP datagrams ---- */

int lvpn__networkio_proxy_udp_in(lvpn__networkio_t *n, lvpn__pbuf_t *p) {
  struct sockaddr_storage from;
  const struct sockaddr_in *f = (const struct sockaddr_in *)&from;
  int hl = lvpn__socks_udp_parse(p->data, p->len, &from);

  if (hl < 0 || f->sin_family != AF_INET ||
      f->sin_addr.s_addr != n->px_server.sin_addr.s_addr ||
      f->sin_port != n->px_server.sin_port) {
    n->stats.foreign++;
    LVPN__TRACE(n->base.trace, LAYER_NAME, "drop", "reason=%s bytes=%zu",
                "socks_header", p->len);
    lvpn__layer_drop(&n->base, p);
    return -1;
  }
  lvpn__pbuf_pull(p, (size_t)hl);
  if (p->len == 0) {
    n->stats.zero_len++;
    lvpn__layer_drop(&n->base, p);
    return -1;
  }
  return 0;
}

int lvpn__networkio_proxy_udp_out(lvpn__networkio_t *n, lvpn__pbuf_t *p) {
  uint8_t *hdr = lvpn__pbuf_push(p, LVPN__SOCKS_UDP_HDR_V4);
  if (hdr == NULL) {
    n->stats.tx_errors++;
    lvpn__layer_drop(&n->base, p);
    return -1;
  }
  lvpn__socks_udp_header(hdr, &n->px_server);
  return 0;
}

void lvpn__networkio_proxy_stop(lvpn__networkio_t *n) {
  if (n->px_resolver != NULL) {
    n->px_resolver->n = NULL;
    uv_cancel((uv_req_t *)&n->px_resolver->req);
    n->px_resolver = NULL;
  }
  px_free_hs(n);
}
