/* networkio through an outbound proxy (proxyio.c): the HTTP CONNECT or
 * SOCKS5 handshake on the TCP connection to the proxy, run before the link
 * is ready, and the SOCKS UDP relay's datagram header. Internal to
 * networkio: networkio.c calls these hooks, and proxyio.c the few
 * networkio.c functions below. */
#ifndef LVPN_LAYERS_NETWORKIO_PROXYIO_H
#define LVPN_LAYERS_NETWORKIO_PROXYIO_H

#include "layers/networkio/networkio.h"

/* Outlives the layer when the lookup is still running in the thread pool at
 * stop: the layer then detaches itself (n = NULL) and the callback frees. */
struct lvpn__networkio_resolver_s {
  uv_getaddrinfo_t req;
  lvpn__networkio_t *n;
};

/* ---- in networkio.c ---- */
void lvpn__networkio_become_ready(lvpn__networkio_t *n);
int lvpn__networkio_udp_open(lvpn__networkio_t *n);
int lvpn__networkio_tcp_deframe(lvpn__networkio_t *n);

/* ---- in proxyio.c ---- */
/* At init, after host/port were copied: with a proxy, the server becomes
 * the target and host/port the proxy's. 0 or LVPN_EINVAL. */
int lvpn__networkio_proxy_init(lvpn__networkio_t *n,
                               const lvpn__networkio_opts_t *o);
/* TCP to the proxy is connected and reading: starts the handshake. */
void lvpn__networkio_proxy_begin(lvpn__networkio_t *n);
/* A read on the TCP connection (into rxbuf + rx_len, `nread` bytes or an
 * error). Returns 1 when handled here, 0 when it is the server's framed
 * data (the handshake is over). */
int lvpn__networkio_proxy_read(lvpn__networkio_t *n, ssize_t nread);
/* A datagram from the SOCKS relay (p->len set): strips the header; returns
 * 0, or -1 after dropping p. */
int lvpn__networkio_proxy_udp_in(lvpn__networkio_t *n, lvpn__pbuf_t *p);
/* Pushes the SOCKS UDP header onto p; returns 0, or -1 after dropping p. */
int lvpn__networkio_proxy_udp_out(lvpn__networkio_t *n, lvpn__pbuf_t *p);
/* Cancels the server lookup and frees the handshake; harmless when idle. */
void lvpn__networkio_proxy_stop(lvpn__networkio_t *n);

#endif
