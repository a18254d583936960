/* lwIP's netif for `layervpn socks` over the host inside I/O, and DNS
 * lookups through the tunnel.
 *
 * lwIP's one netif sends its IP packets with lvpn_client_inside_input() and
 * receives the tunnel's from the inside_write callback. Debian's liblwip is
 * built NO_SYS=0, but we never start its tcpip thread: lwip_init() and the
 * raw API run on the loop's thread only, and a uv_timer drives
 * sys_check_timeouts(). Debian builds lwIP without its DNS module
 * (LWIP_DNS 0), so a name is resolved with one UDP query at a time through
 * the tunnel to the pushed DNS servers (codec in cmd/socks_proto.c). */
#include "cmd/socks.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/ip4.h>
#include <lwip/pbuf.h>
#include <lwip/timeouts.h>

static void dns_timeout(void *arg);

/* ---- lwIP netif over the host inside I/O ---- */

static err_t nif_send(struct netif *nif, struct pbuf *p) {
  socks_srv_t *srv = nif->state;
  const uint8_t *pkt = p->payload;
  if (!srv->up)
    return ERR_IF;
  if (p->len != p->tot_len) {
    pbuf_copy_partial(p, srv->obuf, p->tot_len, 0);
    pkt = srv->obuf;
  }
  if (lvpn_client_inside_input(srv->client, pkt, p->tot_len) != 0) {
    srv->tx_dropped++; /* lwIP retransmits */
    return ERR_IF;
  }
  return ERR_OK;
}

static err_t nif_output(struct netif *nif, struct pbuf *p,
                        const ip4_addr_t *next_hop) {
  (void)next_hop;
  return nif_send(nif, p);
}

static err_t nif_output6(struct netif *nif, struct pbuf *p,
                         const ip6_addr_t *next_hop) {
  (void)next_hop;
  return nif_send(nif, p);
}

static err_t nif_init(struct netif *nif) {
  socks_srv_t *srv = nif->state;
  nif->name[0] = 't';
  nif->name[1] = 'n';
  nif->output = nif_output;
  nif->output_ip6 = nif_output6;
  nif->mtu6 = (u16_t)srv->mtu;
  nif->mtu = (u16_t)srv->mtu;
  nif->flags = NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

/* A decrypted packet from the tunnel (lent for the call). */
void socks_inside_write(lvpn_client_t *c, const uint8_t *pkt, size_t len) {
  socks_srv_t *srv = lvpn_client_get_data(c);
  struct pbuf *p;
  sp_unreach_t u;
  uint8_t rep;
  if (!srv->nif_added || len == 0 || len > 0xffff ||
      ((pkt[0] >> 4) != 4 && (pkt[0] >> 4) != 6))
    return;
  if ((rep = sp_icmp_unreach(pkt, len, &u)) != 0)
    socks_icmp_unreach(srv, &u, rep); /* lwIP ignores these */
  p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
  if (p == NULL)
    return;
  pbuf_take(p, pkt, (u16_t)len);
  if (srv->nif.input(p, &srv->nif) != ERR_OK)
    pbuf_free(p);
}

void socks_lwip_timer_cb(uv_timer_t *t) {
  socks_srv_t *srv = t->data;
  if (++srv->timer_calls % RTO_FIX_EVERY == 0)
    socks_handshake_backoff(srv);
  sys_check_timeouts();
}

/* The tunnel came up (or reconnected): address, MTU, routes, DNS. */
void socks_tunnel_up(socks_srv_t *srv) {
  uint32_t addr, mask;
  ip4_addr_t ip, nm, gw;
  lvpn_dns_t dns;
  int i, j, mtu, bits;
  uint8_t a6[16];
  ip6_addr_t ip6;
  char buf[INET_ADDRSTRLEN], buf6[INET6_ADDRSTRLEN];

  if (lvpn_client_tunnel_ipv4(srv->client, &addr, &mask) != 0) {
    fprintf(stderr, "layervpn socks: the server pushed no IPv4 address: "
                    "nothing to proxy\n");
    lvpn_client_stop(srv->client);
    return;
  }
  mtu = lvpn_client_tunnel_mtu(srv->client);
  srv->mtu = mtu > 576 && mtu <= 65535 ? mtu : 1500;
  srv->n_routes = lvpn_client_routes4(srv->client, srv->routes, MAX_ROUTES);
  if (srv->n_routes > MAX_ROUTES)
    srv->n_routes = MAX_ROUTES;
  if (srv->n_routes < 0)
    srv->n_routes = 0;
  srv->n_dns = 0;
  if (lvpn_client_dns(srv->client, &dns) == 0)
    for (i = 0; i < dns.n_servers; i++)
      for (j = 0; j < dns.servers[i].n_addrs && srv->n_dns < MAX_DNS; j++) {
        const lvpn_dns_addr_t *a = &dns.servers[i].addrs[j];
        if (a->family != AF_INET)
          continue;
        memcpy(&srv->dns[srv->n_dns], a->addr, 4);
        srv->dns_port[srv->n_dns++] = a->port ? a->port : 53;
      }
  ip.addr = addr;
  nm.addr = 0xffffffffu; /* everything goes to the one netif (default) */
  gw.addr = 0;
  if (!srv->nif_added) {
    netif_add(&srv->nif, &ip, &nm, &gw, srv, nif_init, ip_input);
    netif_set_default(&srv->nif);
    srv->nif_added = 1;
  } else {
    netif_set_addr(&srv->nif, &ip, &nm, &gw);
    srv->nif.mtu = (u16_t)srv->mtu;
  }
  srv->nif.mtu6 = (u16_t)srv->mtu;
  srv->has6 = lvpn_client_tunnel_ipv6(srv->client, a6, &bits) == 0;
  srv->n_routes6 = 0;
  if (srv->has6) {
    memcpy(ip6.addr, a6, 16);
    ip6_addr_clear_zone(&ip6);
    netif_ip6_addr_set(&srv->nif, 0, &ip6);
    netif_ip6_addr_set_state(&srv->nif, 0, IP6_ADDR_PREFERRED);
    srv->n_routes6 =
        lvpn_client_routes6(srv->client, srv->routes6, MAX_ROUTES);
    if (srv->n_routes6 > MAX_ROUTES)
      srv->n_routes6 = MAX_ROUTES;
    if (srv->n_routes6 < 0)
      srv->n_routes6 = 0;
  } else {
    netif_ip6_addr_set_state(&srv->nif, 0, IP6_ADDR_INVALID);
  }
  netif_set_up(&srv->nif);
  netif_set_link_up(&srv->nif);
  srv->nif.rs_count = 0; /* no router solicitations into the tunnel */
  srv->up = 1;
  inet_ntop(AF_INET, &addr, buf, sizeof(buf));
  if (srv->has6)
    inet_ntop(AF_INET6, a6, buf6, sizeof(buf6));
  fprintf(stderr,
          "layervpn socks: tunnel up, address %s%s%s, MTU %d, %d IPv4 "
          "routes, %d IPv6 routes, %d DNS servers\n",
          buf, srv->has6 ? " and " : "", srv->has6 ? buf6 : "", srv->mtu,
          srv->n_routes, srv->n_routes6, srv->n_dns);
}

int socks_dst_allowed(const socks_srv_t *srv, uint32_t dst) {
  int i;
  for (i = 0; i < srv->n_routes; i++)
    if ((dst & srv->routes[i].netmask) == srv->routes[i].net)
      return 1;
  return 0;
}

int socks_dst6_allowed(const socks_srv_t *srv, const uint8_t dst[16]) {
  int i, b;
  for (i = 0; i < srv->n_routes6; i++) {
    const lvpn_route6_t *r = &srv->routes6[i];
    for (b = 0; b < r->bits; b++)
      if ((dst[b / 8] ^ r->net[b / 8]) & (0x80u >> (b % 8)))
        break;
    if (b >= r->bits)
      return 1;
  }
  return 0;
}

/* ---- DNS through the tunnel ---- */

void socks_dns_drop(stream_t *s) {
  if (s->dns != NULL) {
    udp_remove(s->dns);
    s->dns = NULL;
  }
  sys_untimeout(dns_timeout, s);
}

static void dns_send(stream_t *s) {
  socks_srv_t *srv = s->srv;
  uint8_t q[512];
  int len = sp_dns_query_type(q, sizeof(q), s->dns_id, s->req.host,
                              s->dns_qtype);
  int i = s->dns_try % srv->n_dns;
  struct pbuf *p;
  ip_addr_t to;
  if (len < 0)
    return;
  p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
  if (p == NULL)
    return;
  pbuf_take(p, q, (u16_t)len);
  ip_addr_set_ip4_u32_val(to, srv->dns[i]);
  udp_sendto(s->dns, p, &to, srv->dns_port[i]);
  pbuf_free(p);
  sys_timeout(DNS_TIMEOUT_MS, dns_timeout, s);
}

static void dns_timeout(void *arg) {
  stream_t *s = arg;
  if (++s->dns_try >= DNS_TRIES * (s->srv->n_dns > 1 ? 2 : 1)) {
    socks_dns_drop(s);
    socks_stream_fail(s, SP_REP_HOST_UNREACH, "no answer from the DNS servers");
    return;
  }
  dns_send(s);
}

static void dns_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
                     const ip_addr_t *addr, u16_t port) {
  stream_t *s = arg;
  uint8_t buf[1500];
  u16_t n;
  uint32_t a;
  int rc;
  (void)pcb;
  (void)addr;
  (void)port;
  n = pbuf_copy_partial(p, buf, sizeof(buf), 0);
  pbuf_free(p);
  if (s->dns_qtype == SP_DNS_AAAA)
    rc = sp_dns_answer6(buf, n, s->dns_id, s->dst6);
  else
    rc = sp_dns_answer(buf, n, s->dns_id, &a);
  if (rc < 0)
    return; /* not our answer */
  sys_untimeout(dns_timeout, s);
  if (rc == 0 && s->dns_qtype == SP_DNS_A && s->srv->has6) {
    /* no IPv4 address: an IPv6 one, as the tunnel carries IPv6 */
    s->dns_qtype = SP_DNS_AAAA;
    s->dns_id = (uint16_t)rand();
    s->dns_try = 0;
    dns_send(s);
    return;
  }
  socks_dns_drop(s);
  if (rc == 0) {
    char why[SP_NAME_MAX + 32];
    snprintf(why, sizeof(why), "cannot resolve %s", s->req.host);
    socks_stream_fail(s, SP_REP_HOST_UNREACH, why);
    return;
  }
  if (s->dns_qtype == SP_DNS_AAAA)
    s->v6 = 1;
  else
    s->dst = a;
  socks_stream_connect(s);
}

void socks_resolve(stream_t *s) {
  socks_srv_t *srv = s->srv;
  if (srv->n_dns == 0) {
    socks_stream_fail(s, SP_REP_HOST_UNREACH,
                "a host name, but the server pushed no IPv4 DNS server");
    return;
  }
  s->dns = udp_new();
  if (s->dns == NULL) {
    socks_stream_fail(s, SP_REP_FAILURE, "out of memory");
    return;
  }
  udp_recv(s->dns, dns_recv, s);
  s->dns_qtype = SP_DNS_A;
  s->dns_id = (uint16_t)rand();
  s->dns_try = 0;
  s->state = ST_RESOLVE;
  dns_send(s);
}

