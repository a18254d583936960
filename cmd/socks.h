/* `layervpn socks CONFIG [--listen ADDR:PORT] [--auth FILE]`: a SOCKS5 and
 * HTTP CONNECT proxy into the tunnel over lwIP, with no root and no TUN
 * device. cmd/cmd_socks.c is the CLI, cmd/socks.c the streams (local socket
 * <-> lwIP TCP), cmd/socks_netif.c lwIP's netif over the host inside I/O and
 * the DNS lookups through the tunnel; the request codecs are the loop-free
 * cmd/socks_proto.c. Everything runs on the loop's thread. */
#ifndef LVPN_CMD_SOCKS_H
#define LVPN_CMD_SOCKS_H

#include "cmd/lwip_dl.h" /* lwIP's headers, calls through the loaded table */

#include "cmd/socks_proto.h"
#include "layervpn.h"

#define MAX_STREAMS 4096
#define MAX_ROUTES 256
#define MAX_DNS 8
#define HDR_MAX (SP_HTTP_MAX + 1)
#define RBUF_SIZE 16384
#define DNS_TIMEOUT_MS 1500
#define DNS_TRIES 4
#define CONNECT_TIMEOUT_MS 30000
/* lwIP 2.1 retransmits a SYN every 3 s without backoff and starts every
 * connection's RTO at 3 s until the first RTT sample: a server whose listen
 * queue overflows (it drops SYNs and handshake ACKs) kept streams waiting
 * tens of seconds. We start at 1 s (RFC 6298) and back the SYN off 1, 2,
 * 4, 4... s, in ticks of lwIP's slow timer (500 ms). The first data after
 * the handshake gets the same cap until the server acknowledges any of it:
 * while the server's accept queue is full it drops that data, and lwIP's
 * own backoff (1, 4, 8, 16, 32 s) left a stream a minute behind the ones
 * whose SYNs got in later. */
#define RTO_INIT_TICKS 2
#define HS_RTO_MAX_TICKS 8
#define RTO_FIX_EVERY 25 /* lwIP timer calls (10 ms): every 250 ms */
#define AUTH_FILE_MAX (1 << 20)

typedef enum {
  ST_SNIFF,     /* first byte decides: 0x05 SOCKS5, 'C' HTTP CONNECT */
  ST_GREETING,  /* SOCKS5 method negotiation */
  ST_USERPASS,  /* RFC 1929 */
  ST_REQUEST,   /* SOCKS5 request */
  ST_HTTP,      /* HTTP CONNECT header */
  ST_RESOLVE,   /* DNS query in the tunnel */
  ST_CONNECT,   /* lwIP connecting */
  ST_RELAY,
  ST_UDP,       /* UDP ASSOCIATE: the TCP connection only holds it open */
  ST_DONE       /* reply sent or closing */
} stream_state_t;

typedef struct socks_srv_s socks_srv_t;

typedef struct stream_s {
  socks_srv_t *srv;
  struct stream_s *prev, *next;
  unsigned long id;
  uv_tcp_t sock;
  stream_state_t state;
  int http;
  struct tcp_pcb *pcb;
  struct udp_pcb *dns;
  uint16_t dns_id;
  int dns_try;
  sp_request_t req;
  uint32_t dst; /* network byte order */
  uint8_t dst6[16]; /* ... or an IPv6 destination (v6 set) */
  int v6;
  unsigned dns_qtype; /* SP_DNS_A, then SP_DNS_AAAA when the tunnel has IPv6 */
  uint8_t hdr[HDR_MAX];
  size_t hlen, hused;
  uint8_t rbuf[RBUF_SIZE]; /* local -> tunnel, not yet taken by lwIP */
  size_t pend, pend_off;
  uint32_t first_seq;    /* our first data's seqno (lastack till it's acked) */
  int reading, local_eof, remote_eof, shut_tx;
  int writes;            /* uv_write requests in flight */
  int handles;           /* open libuv handles (sock, udp): free at 0 */
  uv_udp_t udp;          /* UDP ASSOCIATE: the relay's local socket */
  struct udp_pcb *upcb;  /* ... and its lwIP side */
  struct sockaddr_in udp_client; /* where datagrams go back (port 0: none) */
  int udp_open, udp_warned;
  int close_after_write; /* ST_DONE: close when the reply is written */
  /* --direct-outside: a destination outside the tunnel's routes, reached
   * from the host with a plain socket instead of lwIP */
  int direct;            /* this stream's CONNECT goes direct */
  uv_tcp_t out;          /* ... its socket */
  uv_connect_t creq;
  int out_open, out_reading, out_eof, out_writing;
  uint8_t *dbuf;         /* destination -> local reads (RBUF_SIZE) */
  uv_udp_t dudp;         /* UDP ASSOCIATE: datagrams sent direct */
  int dudp_open;
} stream_t;

typedef struct {
  uv_write_t req;
  stream_t *s;
  uint16_t recved; /* bytes to acknowledge to lwIP when written */
  char data[];
} wreq_t;

struct socks_srv_s {
  uv_loop_t *loop;
  lvpn_client_t *client;
  uv_tcp_t listener;
  uv_timer_t lwip_timer;
  uv_signal_t sigint, sigterm;
  struct netif nif;
  int nif_added, up, stopping, connected_once, verbose;
  int direct_outside; /* --direct-outside */
  unsigned timer_calls;
  int conn_err;
  lvpn_route4_t routes[MAX_ROUTES];
  int n_routes;
  int has6; /* the tunnel has an IPv6 address (ifconfig-ipv6) */
  lvpn_route6_t routes6[MAX_ROUTES];
  int n_routes6;
  uint32_t dns[MAX_DNS]; /* IPv4, network byte order */
  uint16_t dns_port[MAX_DNS];
  int n_dns;
  int mtu;
  unsigned long tx_dropped; /* packets the tunnel did not take */
  char *auth; /* --auth FILE contents, or NULL */
  stream_t *streams;
  int n_streams;
  unsigned long next_id;
  uint8_t obuf[65536]; /* a chained pbuf flattened for the tunnel */
  uint8_t urecv[65536]; /* UDP ASSOCIATE: one datagram from a client */
  uint8_t usend[65536 + 22]; /* ... and one towards a client */
};


/* argv after "socks"; returns the process exit status (cmd/cmd_socks.c). */
int cmd_socks(int argc, char **argv);

/* cmd/socks.c */
void socks_on_connection(uv_stream_t *server, int status);
void socks_stream_connect(stream_t *s); /* s->dst set */
/* One error reply (SOCKS5 code or HTTP status) and a log line; closes. */
void socks_stream_fail(stream_t *s, uint8_t rep, const char *why);
void socks_stream_close(stream_t *s);
/* An ICMP unreachable about a connecting stream's SYN: fails it now. */
void socks_icmp_unreach(socks_srv_t *srv, const sp_unreach_t *u,
                        uint8_t rep);
/* Caps the backoff of every stream's SYN and first data (lwIP has no SYN
 * backoff, and a long one on the first data): see HS_RTO_MAX_TICKS. */
void socks_handshake_backoff(socks_srv_t *srv);
/* Queues a reply for the local client; 0, or -1 when the stream is closing. */
int local_send_reply(stream_t *s, const void *data, size_t len);
void socks_read_start(stream_t *s);

void socks_stream_closed(uv_handle_t *h); /* close callback of s's handles */

/* cmd/socks_direct.c: --direct-outside. Connects s (s->dst, s->req.port)
 * from the host, then relays between the two libuv sockets. */
void socks_direct_connect(stream_t *s);
/* The local socket read nread bytes into s->rbuf (or ended) in ST_RELAY. */
void socks_direct_local_read(stream_t *s, ssize_t nread);
/* Every local write finished: read from the destination again. */
void socks_direct_resume(stream_t *s);
void socks_direct_close(stream_t *s);
/* UDP ASSOCIATE: one datagram (payload) to dst/port from the host. */
void socks_direct_udp_send(stream_t *s, uint32_t dst, uint16_t port,
                           const uint8_t *data, size_t len);
/* The SOCKS5 reply code for a libuv connect error. */
uint8_t socks_direct_rep_for(int uverr);

/* cmd/socks_udp.c: UDP ASSOCIATE for stream s (its request is parsed). */
void socks_udp_associate(stream_t *s);
void socks_udp_close(stream_t *s);

/* cmd/socks_netif.c */
void socks_inside_write(lvpn_client_t *c, const uint8_t *pkt, size_t len);
void socks_lwip_timer_cb(uv_timer_t *t);
/* The tunnel came up (or reconnected): address, MTU, routes, DNS. */
void socks_tunnel_up(socks_srv_t *srv);
int socks_dst_allowed(const socks_srv_t *srv, uint32_t dst);
int socks_dst6_allowed(const socks_srv_t *srv, const uint8_t dst[16]);
/* Resolves s->req.host, then socks_stream_connect() or fails the stream. */
void socks_resolve(stream_t *s);
void socks_dns_drop(stream_t *s);

#endif
