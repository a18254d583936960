/* networkio: the bottom layer. Moves OpenVPN packets between the stack and
 * one UDP or TCP socket to the server.
 *
 * Up: every datagram (UDP) or every length-framed packet (TCP) from the
 * server becomes one pbuf passed to the layer above. Down: every pbuf from
 * above is one wire packet; over TCP its 2-byte big-endian length is pushed
 * into the headroom and the frames of one loop turn go out in one writev
 * (tcpbatch.h).
 *
 * start resolves the host (uv_getaddrinfo), then binds (UDP) or connects
 * (TCP). Packets arriving from above before that are held in order (at most
 * LVPN__NETWORKIO_PENDING_MAX; the rest are dropped and counted). Fatal
 * errors go to lvpn__layer_fail: LVPN_ERESOLVE, LVPN_EPROTO (bad TCP
 * framing), LVPN_ECONNRESET (TCP lost), or libuv's code for a failed
 * connect (UV_ECONNREFUSED, UV_ETIMEDOUT, ...).
 */
#ifndef LVPN_LAYERS_NETWORKIO_NETWORKIO_H
#define LVPN_LAYERS_NETWORKIO_NETWORKIO_H

#include <stdint.h>
#include <netdb.h>
#include <sys/socket.h>
#include <uv.h>

#include "layers/layer.h"
#include "layers/networkio/proxy.h"
#include "layers/networkio/tcpbatch.h"
#include "layers/networkio/udpbatch.h"

/* Transport, as OpenVPN's --proto: the 4/6 variants restrict the address
 * family, the plain ones take the first address the resolver returns. */
typedef enum {
  LVPN__NET_UDP = 0,
  LVPN__NET_UDP4,
  LVPN__NET_UDP6,
  LVPN__NET_TCP,
  LVPN__NET_TCP4,
  LVPN__NET_TCP6
} lvpn__net_proto_t;

#define LVPN__NETWORKIO_HOST_MAX 255        /* bytes, without the NUL */
#define LVPN__NETWORKIO_PENDING_MAX 64      /* packets held until ready */
#define LVPN__NETWORKIO_NREQ 64             /* send/write requests in flight */
#define LVPN__NETWORKIO_RXBUF 16384         /* TCP reassembly buffer */
#define LVPN__NETWORKIO_CONNECT_TIMEOUT 120 /* s, OpenVPN's default */
#define LVPN__NETWORKIO_MAX_ADDRS 16        /* resolved addresses kept */
/* Largest packet (without the TCP length) that fits a pbuf after the
 * headroom every received buffer keeps. */
#define LVPN__NETWORKIO_MAX_PACKET (LVPN_PBUF_CAP - LVPN_PBUF_HEADROOM)

typedef struct lvpn__networkio_s lvpn__networkio_t;

typedef struct lvpn__networkio_opts_s {
  const char *host; /* name or literal IPv4/IPv6; copied by init */
  uint16_t port;
  lvpn__net_proto_t proto;
  /* Seconds allowed for resolving, and again for the TCP connect; 0 means
   * LVPN__NETWORKIO_CONNECT_TIMEOUT. */
  unsigned connect_timeout;
  /* Called once, when the UDP socket is bound or TCP is connected (after
   * the held packets were handed to the socket). May be NULL. */
  void (*on_ready)(lvpn__networkio_t *n);
  /* An address an earlier attempt resolved (port included): used without
   * resolving `host` again. NULL: resolve. */
  const struct sockaddr_storage *addr;
  /* Local socket (local/lport/bind): bind to `local` (an IP address, NULL
   * or "": any) and `lport` (0: any) before sending or connecting. */
  int bind_local;
  const char *local;
  uint16_t lport;
  /* float (UDP): datagrams from another address are passed up marked
   * (meta.float_gen) instead of dropped; lvpn__networkio_float() switches
   * to that address once a layer above has authenticated one. */
  int floating;
  /* http-proxy / socks-proxy to go through (layers/networkio/proxyio.c),
   * NULL or kind NONE: direct. Lent: must outlive the layer; with
   * 'auto' the method the proxy asked for is recorded there. */
  lvpn__proxy_t *proxy;
  /* passtos: outgoing packets carry their inner IPv4 TOS (IP_TOS, set on
   * the socket when it changes; IPv4 servers only, as OpenVPN). */
  int passtos;
  /* mark, bind-dev, mtu-disc: SO_MARK (0: none), SO_BINDTODEVICE (NULL or
   * "": none), IP(V6)_MTU_DISCOVER (with mtu_disc_set: IP_PMTUDISC_DONT,
   * WANT or DO), set on the socket before it connects or sends; a socket
   * that refuses one fails the attempt. */
  uint32_t mark;
  const char *bind_dev;
  int mtu_disc_set, mtu_disc;
  /* UDP GRO (udpbatch) from lvpn__networkio_gro_on() instead of from the
   * socket's open: the client turns it on once the tunnel is up. */
  int gro_later;
  /* disable-offload (udp): libuv's one-datagram-per-call path, no
   * recvmmsg, GSO or GRO (as LVPN_NO_UDP_OFFLOAD=1). */
  int no_udp_offload;
} lvpn__networkio_opts_t;

typedef struct lvpn__networkio_stats_s {
  /* Bytes count OpenVPN packets, never the 2-byte TCP length. */
  uint64_t rx_packets, rx_bytes; /* passed up */
  uint64_t tx_packets, tx_bytes; /* handed to the socket */
  uint64_t foreign;    /* UDP datagrams not from the server: dropped */
  uint64_t float_rx;   /* float: ... passed up for authentication */
  uint64_t floated;    /* float: moves to a new server address */
  uint64_t partial;    /* UDP datagrams truncated (too big): dropped */
  uint64_t oversize;   /* TCP frames longer than a pbuf (fatal) */
  uint64_t zero_len;   /* empty datagrams / 0-length frames: dropped */
  uint64_t queue_full; /* from above, no room (pending or requests) */
  uint64_t no_buffer;  /* received while the pool was out of memory */
  uint64_t rx_errors;  /* UDP receive errors (not fatal) */
  uint64_t tx_errors;  /* send errors: packet dropped */
} lvpn__networkio_stats_t;

/* One send (UDP) or write (TCP) in flight; owns its pbuf until the
 * callback, which also runs with UV_ECANCELED when the handle closes. */
typedef struct lvpn__networkio_req_s {
  union {
    uv_udp_send_t send;
    uv_write_t write;
  } u;
  lvpn__qnode_t node; /* on the free list while idle */
  lvpn__networkio_t *n;
  lvpn__pbuf_t *p;
  lvpn__queue_t chain; /* TCP: the frames of one batched write */
} lvpn__networkio_req_t;

struct lvpn__networkio_resolver_s; /* heap; outlives the layer if needed */

struct lvpn__networkio_s {
  lvpn__layer_t base; /* first: the runtime sees the layer */
  void *data;         /* owner's */
  lvpn__pbuf_pool_t *pool;
  char host[LVPN__NETWORKIO_HOST_MAX + 1];
  uint16_t port;
  lvpn__net_proto_t proto;
  uint64_t timeout_ms; /* from connect_timeout; tests may lower it */
  void (*on_ready)(lvpn__networkio_t *n);
  int passtos;
  int gro_later;
  int no_udp_offload;
  uint32_t mark;
  char bind_dev[16];
  int mtu_disc;
  int tos; /* IP_TOS set on the socket; -1: the system's */

  int ready;                                   /* socket bound / connected */
  struct sockaddr_storage remote;              /* AF_UNSPEC until resolved */
  /* every usable address `host` resolved to, in the resolver's order, for
   * the owner to try one by one (0 when given opts.addr) */
  struct sockaddr_storage addrs[LVPN__NETWORKIO_MAX_ADDRS];
  int n_addrs;
  int bind_local;
  struct sockaddr_storage bind_addr; /* with bind_local; port = lport */
  int floating;
  struct sockaddr_storage candidate; /* float: the last new address seen */
  uint8_t cand_gen;                  /* its generation, 1..255; 0: none */
  struct sockaddr_storage local;               /* AF_UNSPEC until ready */
  struct lvpn__networkio_resolver_s *resolver; /* while resolving */

  uv_udp_t udp; /* UDP only */
  uv_tcp_t tcp; /* TCP only */
  uv_connect_t connect_req;
  uv_timer_t timer; /* resolve, then connect timeout */

  lvpn__queue_t pending; /* pbufs from above before ready */
  lvpn__queue_t free_reqs; /* idle requests, kept for the next send */
  int n_reqs; /* allocated on first need, at most LVPN__NETWORKIO_NREQ:
                 most sessions have one or two in flight */

  size_t rx_len; /* TCP: bytes held in rxbuf (an incomplete frame) */
  /* TCP (and proxies): LVPN__NETWORKIO_RXBUF bytes from the heap, kept from
   * one init to the next until lvpn__networkio_release(); NULL over UDP */
  uint8_t *rxbuf;

  lvpn__networkio_stats_t stats;
  lvpn__udpbatch_t batch; /* udpbatch.c: GSO/GRO on a direct UDP link */
  lvpn__tcpbatch_t tcpb;  /* tcpbatch.c: writev of a turn's frames (TCP) */

  /* Through a proxy (proxyio.c): host/port above are the proxy's; over UDP
   * `tcp` is the SOCKS control connection and `remote` the relay. */
  lvpn__proxy_t *proxy;                      /* NULL: direct */
  char target[LVPN__NETWORKIO_HOST_MAX + 1]; /* the OpenVPN server */
  uint16_t target_port;
  lvpn__proxy_hs_t *hs;                           /* heap, while handshaking */
  struct lvpn__networkio_resolver_s *px_resolver; /* SOCKS UDP: the server */
  struct sockaddr_in px_server; /* SOCKS UDP: in every datagram's header */
};

/* Prepares the layer and its handles; no I/O. Returns LVPN_EINVAL for a
 * missing/too long host, port 0 or an unknown proto (then nothing was
 * initialized and there is nothing to close). `pool` and `log` must outlive
 * the layer. */
int lvpn__networkio_init(lvpn__networkio_t *n, uv_loop_t *loop,
                         const lvpn__networkio_opts_t *o,
                         lvpn__pbuf_pool_t *pool, const lvpn__logger_t *log);
/* Frees the idle send requests and the TCP receive buffer of a layer whose
 * close has completed (all requests are back on the free list then). Harmless on a zeroed layer or
 * twice; call it before the next lvpn__networkio_init() on the same one. */
void lvpn__networkio_release(lvpn__networkio_t *n);

/* Server address: AF_UNSPEC until resolved. */
const struct sockaddr_storage *
lvpn__networkio_remote(const lvpn__networkio_t *n);
/* Local socket address: AF_UNSPEC until ready. */
const struct sockaddr_storage *
lvpn__networkio_local(const lvpn__networkio_t *n);
/* Formats an address as "198.18.0.1:1194" or "[2001:db8::1]:1194". Returns
 * 0, LVPN_EINVAL for AF_UNSPEC (buf gets "?") or UV_ENOSPC. */
int lvpn__networkio_addr_str(const struct sockaddr_storage *ss, char *buf,
                             size_t len);
/* lvpn__networkio_addr_str of the server address. */
int lvpn__networkio_remote_str(const lvpn__networkio_t *n, char *buf,
                               size_t len);

/* "udp", "udp4", "udp6", "tcp", "tcp4", "tcp6" and the "-client" forms of
 * tcp (OpenVPN's names). Returns 0 or LVPN_EINVAL. */
int lvpn__net_proto_parse(const char *s, lvpn__net_proto_t *out);
/* The canonical name: "udp", "udp4", ..., "tcp6". */
const char *lvpn__net_proto_name(lvpn__net_proto_t proto);
static inline int lvpn__net_proto_is_tcp(lvpn__net_proto_t proto) {
  return proto >= LVPN__NET_TCP;
}

/* float: a packet marked `float_gen` authenticated above: if that is still
 * the current candidate address, the server is there now. */
void lvpn__networkio_float(lvpn__networkio_t *n, uint8_t float_gen);
/* Turns UDP GRO on (opts.gro_later), if this link reads through udpbatch
 * and its socket is open; once: later calls do nothing. The first socket
 * on a host to ask for it costs about 0.6 ms here: the kernel enables its
 * UDP encapsulation static key, patching its code, so a start does it
 * after the handshake, when bulk data can begin. */
void lvpn__networkio_gro_on(lvpn__networkio_t *n);

/* Whether two addresses (family, address, port) are the same. */
int lvpn__net_same_addr(const struct sockaddr *a,
                        const struct sockaddr_storage *b);
/* Copies the usable addresses of `res` (AF_INET/AF_INET6 of the right
 * size) into out[0..max-1] with `port` set; returns how many. */
int lvpn__net_collect_addrs(const struct addrinfo *res, uint16_t port,
                            struct sockaddr_storage *out, int max);
/* `host` as an IP literal of `family` (AF_UNSPEC: either) with `port` into
 * *out: 1 when it is one, 0 when it needs the resolver. A literal needs no
 * getaddrinfo, so no libuv thread pool (four threads) is started for it. */
int lvpn__net_numeric_addr(const char *host, uint16_t port, int family,
                           struct sockaddr_storage *out);
/* The address to bind: local/lport (bind_local, of the server's family)
 * or any address with a port the system picks. 0 or UV_EAFNOSUPPORT. */
int lvpn__networkio_local_addr(lvpn__networkio_t *n,
                               struct sockaddr_storage *a);
/* IP_TOS on an IPv4 socket (passtos). 0, or -1 with errno. */
int lvpn__net_set_tos(const uv_handle_t *h, int tos);
/* Any of mark / bind-dev / mtu-disc asked for. */
static inline int lvpn__net_has_sockopts(const lvpn__networkio_t *n) {
  return n->mark != 0 || n->bind_dev[0] != '\0' || n->mtu_disc >= 0;
}
/* mark / bind-dev / mtu-disc on socket `fd` of `family` (netaddr.c); the
 * first refusal is logged, naming the option, and returned (-errno). */
int lvpn__net_sockopts(lvpn__networkio_t *n, int fd, int family);
/* The local address to bind: `local` (IP literal; NULL or "": any address
 * of `family`) with `port`. Returns 0 or LVPN_EINVAL (not an IP address,
 * or not of `family`). */
int lvpn__net_bind_addr(const char *local, uint16_t port, int family,
                        struct sockaddr_storage *out);

/* A datagram of p->len bytes from `addr` (UDP): the foreign-address, float
 * and empty checks, then up. Owns p. */
void lvpn__networkio_udp_deliver(lvpn__networkio_t *n, lvpn__pbuf_t *p,
                                 const struct sockaddr *addr);

/* A free write request (allocated on first need, at most
 * LVPN__NETWORKIO_NREQ), or NULL. */
lvpn__networkio_req_t *lvpn__networkio_req_get(lvpn__networkio_t *n);
/* Frees the request's packets and puts it back on the free list. */
void lvpn__networkio_req_put(lvpn__networkio_req_t *r);
/* The TCP connection failed in `what` with libuv error `err`: logged, and
 * the stack shuts down with LVPN_ECONNRESET. */
void lvpn__networkio_tcp_fail(lvpn__networkio_t *n, const char *what, int err);

/* Calls `cb` once per counter with the layer name "networkio". */
void lvpn__networkio_counters(const lvpn__networkio_t *n, lvpn_counter_cb cb,
                              void *ud);

#endif
