/* The outbound proxy protocols networkio speaks before the link is up, as
 * OpenVPN 2.6 does (proxy.c, socks.c): loop-free, no I/O.
 *
 * HTTP: one CONNECT request (HTTP/1.0 unless http-proxy-option VERSION,
 * custom headers, Host, User-Agent, Proxy-Authorization: Basic), then the
 * reply's status line and headers up to the blank line; a 2xx status opens
 * the tunnel.
 * SOCKS5 (RFC 1928): the method offer (no auth, or username/password of
 * RFC 1929 when credentials are set, the one method OpenVPN offers), the
 * sub-negotiation, then CONNECT to the server (TCP) or UDP ASSOCIATE
 * (UDP), whose reply names the relay every datagram goes to, behind the
 * 10-byte SOCKS UDP header.
 *
 * A handshake is driven by its owner: lvpn__proxy_hs_start() fills `out`
 * with the first request; every received chunk goes to
 * lvpn__proxy_hs_feed(), which may fill `out` with the next request. The
 * owner sends `out` and clears out_len. With 'http-proxy ... auto' a
 * 401/407 to the request without auth fails with `want_basic` set when
 * the proxy offers Basic: the owner records it and connects again. Replies are parsed incrementally,
 * split across any number of reads, and bounded: a reply that is too long
 * or malformed fails with one message in `err` naming the problem.
 * `out` may hold the password: lvpn__proxy_hs_wipe() zeroes everything.
 */
#ifndef LVPN_LAYERS_NETWORKIO_PROXY_H
#define LVPN_LAYERS_NETWORKIO_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/config.h"

#define LVPN__PROXY_OUT_MAX 8192     /* one request */
#define LVPN__PROXY_REPLY_LINE 1024  /* one line of an HTTP reply */
#define LVPN__PROXY_REPLY_HEAD 16384 /* the whole head of an HTTP reply */
#define LVPN__SOCKS_UDP_HDR_V4 10    /* RSV(2) FRAG ATYP IPv4 PORT */

typedef enum {
  LVPN__PXS_IDLE = 0,
  LVPN__PXS_HTTP_STATUS,  /* the status line */
  LVPN__PXS_HTTP_HEADERS, /* header lines up to the blank one */
  LVPN__PXS_SOCKS_METHOD, /* VER METHOD */
  LVPN__PXS_SOCKS_AUTH,   /* VER STATUS (RFC 1929) */
  LVPN__PXS_SOCKS_REPLY,  /* VER REP RSV ATYP BND.ADDR BND.PORT */
  LVPN__PXS_DONE,
  LVPN__PXS_FAILED
} lvpn__proxy_state_t;

typedef struct lvpn__proxy_hs_s {
  const lvpn__proxy_t *conf; /* lent: must outlive the handshake */
  uint8_t state;             /* lvpn__proxy_state_t */
  bool udp;                  /* SOCKS: UDP ASSOCIATE instead of CONNECT */
  bool interim;              /* HTTP: skipping a 1xx reply's headers */
  bool auth_probe;           /* HTTP 'auto': reading a 401/407's headers */
  bool offers_basic;         /* ... one of them offers Basic */
  bool want_basic;           /* failed so that the next attempt sends it */
  char scheme[32];           /* ... the first other scheme offered */
  char host[256];            /* the OpenVPN server, as the proxy reaches it */
  uint16_t port;
  int status;                /* HTTP: the final status code */
  size_t line_len, head_len; /* HTTP: current line, whole head so far */
  char line[LVPN__PROXY_REPLY_LINE];
  size_t have; /* SOCKS: bytes of the current reply */
  uint8_t rbuf[4 + 1 + 255 + 2];
  uint8_t method;                /* SOCKS: the one method offered */
  struct sockaddr_storage bound; /* SOCKS reply's BND (the UDP relay);
                                    AF_UNSPEC for a domain name */
  size_t out_len;
  uint8_t out[LVPN__PROXY_OUT_MAX];
  char err[256];
} lvpn__proxy_hs_t;

/* Prepares a handshake through `conf` (HTTP or SOCKS) to reach host:port;
 * `udp` asks SOCKS for UDP ASSOCIATE. Returns 0 or LVPN_EINVAL (no proxy,
 * host too long, HTTP with udp). */
int lvpn__proxy_hs_init(lvpn__proxy_hs_t *hs, const lvpn__proxy_t *conf,
                        const char *host, uint16_t port, bool udp);
/* Fills `out` with the first request. 0 or LVPN_EPROXY (err set). */
int lvpn__proxy_hs_start(lvpn__proxy_hs_t *hs);
/* Feeds `len` received bytes; *used says how many it took. Returns 0
 * (`out` may hold the next request: send it, then feed the rest, if any),
 * 1 (done: the bytes after *used are the server's) or LVPN_EPROXY /
 * LVPN_EPROXY_AUTH with `err` set. */
int lvpn__proxy_hs_feed(lvpn__proxy_hs_t *hs, const uint8_t *in, size_t len,
                        size_t *used);
/* The proxy closed the connection before the handshake ended: sets `err`
 * and returns LVPN_EPROXY (or, for an 'auto' 401/407 whose headers were
 * read, what they say, as at their end). */
int lvpn__proxy_hs_eof(lvpn__proxy_hs_t *hs);
/* Zeroes the whole state, requests included. */
void lvpn__proxy_hs_wipe(lvpn__proxy_hs_t *hs);

/* "http-proxy" or "socks-proxy". */
const char *lvpn__proxy_name(const lvpn__proxy_t *conf);

/* SOCKS UDP request header for an IPv4 destination, into hdr[10]. */
void lvpn__socks_udp_header(uint8_t *hdr, const struct sockaddr_in *to);
/* Checks a datagram from the relay: RSV, FRAG 0 (fragments are dropped, as
 * RFC 1928 allows) and an IPv4 or IPv6 source into *from. Returns the
 * header's length or -1. */
int lvpn__socks_udp_parse(const uint8_t *d, size_t len,
                          struct sockaddr_storage *from);

#endif
