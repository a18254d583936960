/* UDP ASSOCIATE (RFC 1928 section 7) for `layervpn socks`: one local UDP
 * socket per association, bound to the listening address, relaying to one
 * lwIP UDP pcb in the tunnel. Datagrams are accepted only from the IP
 * address of the TCP connection that asked (and its port, once the first
 * datagram named it); the association ends with that TCP connection.
 * Destinations must be IPv4 or IPv6 addresses inside the tunnel's routes
 * (names and fragments are dropped, with one log line per association;
 * IPv4 ones outside go direct under --direct-outside); a datagram that
 * cannot be sent now is dropped, as UDP may. */
#include "cmd/socks.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <lwip/pbuf.h>

/* lwIP's IP_ANY_TYPE is its variable ip_addr_any_type: liblwip is loaded
 * with dlopen (cmd/lwip_dl.h), so the address is our own */
static const ip_addr_t any_type = IPADDR_ANY_TYPE_INIT;

static void udp_warn(stream_t *s, const char *why) {
  if (s->udp_warned)
    return;
  s->udp_warned = 1;
  fprintf(stderr, "layervpn socks: stream %lu: UDP datagram dropped: %s\n",
          s->id, why);
}

/* A datagram from the tunnel: to the client, with the SOCKS header. */
static void tunnel_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
                        const ip_addr_t *addr, u16_t port) {
  stream_t *s = arg;
  socks_srv_t *srv = s->srv;
  uv_buf_t b;
  size_t hl;
  (void)pcb;
  if (s->udp_client.sin_port == 0) {
    pbuf_free(p);
    return;
  }
  if (IP_IS_V6(addr))
    hl = sp_socks5_udp_build6(srv->usend,
                              (const uint8_t *)ip_2_ip6(addr)->addr, port);
  else
    hl = sp_socks5_udp_build(srv->usend, ip4_addr_get_u32(ip_2_ip4(addr)),
                             port);
  pbuf_copy_partial(p, srv->usend + hl, p->tot_len, 0);
  b = uv_buf_init((char *)srv->usend, (unsigned)(p->tot_len + hl));
  pbuf_free(p);
  (void)uv_udp_try_send(&s->udp, &b, 1,
                        (const struct sockaddr *)&s->udp_client);
}

static void local_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  stream_t *s = h->data;
  (void)hint;
  *buf = uv_buf_init((char *)s->srv->urecv, sizeof(s->srv->urecv));
}

/* A datagram from the client: header off, into the tunnel. */
static void local_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                       const struct sockaddr *from, unsigned flags) {
  stream_t *s = h->data;
  const struct sockaddr_in *in = (const struct sockaddr_in *)from;
  sp_request_t r;
  struct pbuf *p;
  ip_addr_t dst;
  uint32_t a;
  int hl;
  (void)flags;
  if (nread <= 0 || from == NULL || from->sa_family != AF_INET ||
      in->sin_addr.s_addr != s->udp_client.sin_addr.s_addr ||
      (s->udp_client.sin_port != 0 &&
       in->sin_port != s->udp_client.sin_port))
    return; /* not our client's */
  hl = sp_socks5_udp_header((const uint8_t *)buf->base, (size_t)nread, &r);
  if (hl < 0) {
    udp_warn(s, sp_strerror(hl));
    return;
  }
  if (r.atyp == SP_ATYP_IPV6) {
    if (!socks_dst6_allowed(s->srv, r.addr)) {
      udp_warn(s, "IPv6 destination outside the tunnel's routes");
      return;
    }
    s->udp_client.sin_port = in->sin_port;
    memcpy(ip_2_ip6(&dst)->addr, r.addr, 16);
    ip6_addr_clear_zone(ip_2_ip6(&dst));
    IP_SET_TYPE_VAL(dst, IPADDR_TYPE_V6);
    goto send;
  }
  if (r.atyp != SP_ATYP_IPV4) {
    udp_warn(s, "host names are not supported (send an address)");
    return;
  }
  memcpy(&a, r.addr, 4);
  if (!socks_dst_allowed(s->srv, a) && !s->srv->direct_outside) {
    udp_warn(s, "destination outside the tunnel's routes (see "
                "--direct-outside)");
    return;
  }
  s->udp_client.sin_port = in->sin_port;
  if (!socks_dst_allowed(s->srv, a)) {
    socks_direct_udp_send(s, a, r.port, (const uint8_t *)buf->base + hl,
                          (size_t)(nread - hl));
    return;
  }
  ip_addr_set_ip4_u32_val(dst, a);
send:
  p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)(nread - hl), PBUF_RAM);
  if (p == NULL)
    return;
  pbuf_take(p, buf->base + hl, (u16_t)(nread - hl));
  udp_sendto(s->upcb, p, &dst, r.port);
  pbuf_free(p);
}

void socks_udp_associate(stream_t *s) {
  socks_srv_t *srv = s->srv;
  struct sockaddr_storage local;
  struct sockaddr_in peer, bound;
  int len = sizeof(local), rc;
  uint8_t rep[10];

  if (uv_tcp_getsockname(&s->sock, (struct sockaddr *)&local, &len) != 0 ||
      local.ss_family != AF_INET) {
    socks_stream_fail(s, SP_REP_CMD_UNSUPPORTED,
                      "UDP ASSOCIATE needs an IPv4 listening address");
    return;
  }
  len = sizeof(peer);
  if (uv_tcp_getpeername(&s->sock, (struct sockaddr *)&peer, &len) != 0) {
    socks_stream_fail(s, SP_REP_FAILURE, "no peer address");
    return;
  }
  memset(&s->udp_client, 0, sizeof(s->udp_client));
  s->udp_client.sin_family = AF_INET;
  s->udp_client.sin_addr = peer.sin_addr;
  ((struct sockaddr_in *)&local)->sin_port = 0;
  s->upcb = udp_new_ip_type(IPADDR_TYPE_ANY); /* IPv4 and IPv6 */
  if (s->upcb == NULL || udp_bind(s->upcb, &any_type, 0) != ERR_OK) {
    socks_stream_fail(s, SP_REP_FAILURE, "out of memory");
    return;
  }
  udp_recv(s->upcb, tunnel_recv, s);
  uv_udp_init(srv->loop, &s->udp);
  s->udp.data = s;
  s->handles++;
  s->udp_open = 1;
  rc = uv_udp_bind(&s->udp, (const struct sockaddr *)&local, 0);
  if (rc == 0)
    rc = uv_udp_recv_start(&s->udp, local_alloc, local_recv);
  len = sizeof(bound);
  if (rc == 0)
    rc = uv_udp_getsockname(&s->udp, (struct sockaddr *)&bound, &len);
  if (rc != 0) {
    socks_stream_fail(s, SP_REP_FAILURE, uv_strerror(rc));
    return;
  }
  s->state = ST_UDP;
  sp_socks5_reply(rep, SP_REP_OK, bound.sin_addr.s_addr,
                  ntohs(bound.sin_port));
  if (local_send_reply(s, rep, sizeof(rep)) != 0)
    return;
  socks_read_start(s); /* to see the TCP connection end */
}

void socks_udp_close(stream_t *s) {
  if (s->upcb != NULL) {
    udp_remove(s->upcb);
    s->upcb = NULL;
  }
  if (s->udp_open && !uv_is_closing((uv_handle_t *)&s->udp))
    uv_close((uv_handle_t *)&s->udp, socks_stream_closed);
}
