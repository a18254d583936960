/* Linux TUN device and the ifconfig/route planner. See tun_linux.h. */
#include "layers/tun/device.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "layervpn.h"

#define TUN_LAYER "tun"

/* ---- device ---- */

static int tun_open_flags(const char *dev, const char *node, short flags,
                          char *ifname_out, int *fd_out) {
  struct ifreq ifr;
  const char *name = dev;
  int fd;

  if (name == NULL || name[0] == '\0' || strcmp(name, "tun") == 0)
    name = "tun%d";
  if (strlen(name) >= IFNAMSIZ)
    return UV_EINVAL;
  fd = open(node != NULL ? node : "/dev/net/tun",
            O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = flags;
  memcpy(ifr.ifr_name, name, strlen(name));
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  memcpy(ifname_out, ifr.ifr_name, IFNAMSIZ);
  ifname_out[IFNAMSIZ - 1] = '\0';
  *fd_out = fd;
  return 0;
}

int lvpn__tun_open(const char *dev, const char *node, char *ifname_out,
                   int *fd_out) {
  return tun_open_flags(dev, node, IFF_TUN | IFF_NO_PI, ifname_out, fd_out);
}

/* TUN_F_USO4/6 arrived in Linux 6.2; older headers lack them */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

int lvpn__tun_open_offload(const char *dev, const char *node,
                           char *ifname_out, int *fd_out, unsigned *offload,
                           char *why, size_t whylen) {
  const unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  int fd, err, hdrsz = 10, e = 0;

  *offload = 0;
  err = tun_open_flags(dev, node, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR,
                       ifname_out, &fd);
  if (err != 0) /* IFF_VNET_HDR is as old as 2.6.27: not the reason */
    return err;
  if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
    e = errno;
    snprintf(why, whylen, "TUNSETVNETHDRSZ: %s", strerror(e));
  } else if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(tcp | TUN_F_USO4 |
                                                     TUN_F_USO6)) == 0) {
    *offload = tcp | TUN_F_USO4 | TUN_F_USO6;
  } else if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tcp) == 0) {
    *offload = tcp;
  } else {
    e = errno;
    snprintf(why, whylen, "TUNSETOFFLOAD: %s", strerror(e));
  }
  if (*offload != 0) {
    *fd_out = fd;
    return 0;
  }
  /* a vnet header without offloads only costs: a plain device instead
   * (non-persistent: the name is free again once this fd is closed) */
  close(fd);
  return lvpn__tun_open(dev, node, ifname_out, fd_out);
}

void lvpn__tun_close(int fd) {
  if (fd >= 0)
    close(fd);
}

/* ---- planner ---- */

static int plan_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int plan_err(char *errbuf, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (errbuf != NULL && errlen > 0) {
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
  }
  return LVPN_ECONFIG;
}

void lvpn__tun_plan_init(lvpn__tun_plan_t *plan) {
  memset(plan, 0, sizeof(*plan));
}

void lvpn__tun_plan_free(lvpn__tun_plan_t *plan) {
  free(plan->routes4);
  free(plan->routes6);
  plan->routes4 = NULL;
  plan->routes6 = NULL;
  plan->n_routes4 = plan->n_routes6 = 0;
}

int lvpn__tun_plan_copy(lvpn__tun_plan_t *dst, const lvpn__tun_plan_t *src) {
  lvpn__tun_plan_free(dst);
  *dst = *src;
  dst->routes4 = NULL;
  dst->routes6 = NULL;
  if (src->n_routes4 > 0 &&
      (dst->routes4 = malloc(src->n_routes4 * sizeof(*src->routes4))) != NULL)
    memcpy(dst->routes4, src->routes4, src->n_routes4 * sizeof(*src->routes4));
  if (src->n_routes6 > 0 &&
      (dst->routes6 = malloc(src->n_routes6 * sizeof(*src->routes6))) != NULL)
    memcpy(dst->routes6, src->routes6, src->n_routes6 * sizeof(*src->routes6));
  if ((src->n_routes4 > 0 && dst->routes4 == NULL) ||
      (src->n_routes6 > 0 && dst->routes6 == NULL)) {
    lvpn__tun_plan_free(dst);
    return LVPN_ENOMEM;
  }
  return 0;
}

int lvpn__tun_plan_same(const lvpn__tun_plan_t *a, const lvpn__tun_plan_t *b) {
  size_t i;
  if (a->mtu != b->mtu || a->no_ifconfig != b->no_ifconfig ||
      a->no_routes != b->no_routes || a->has_addr4 != b->has_addr4 ||
      a->addr4 != b->addr4 || a->prefixlen4 != b->prefixlen4 ||
      a->peer4 != b->peer4 || a->vpn_gateway != b->vpn_gateway ||
      a->has_server_route != b->has_server_route || a->server != b->server ||
      a->block_local != b->block_local || a->block_remote != b->block_remote ||
      a->has_server6_route != b->has_server6_route ||
      memcmp(a->server6, b->server6, 16) != 0 ||
      a->n_routes4 != b->n_routes4 || a->has_addr6 != b->has_addr6 ||
      memcmp(a->addr6, b->addr6, 16) != 0 || a->prefixlen6 != b->prefixlen6 ||
      a->n_routes6 != b->n_routes6)
    return 0;
  for (i = 0; i < a->n_routes4; i++) {
    const lvpn__tun_route4_t *x = &a->routes4[i], *y = &b->routes4[i];
    /* a net_gateway's address is what applying found, not what was asked */
    if (x->net_kw != y->net_kw || x->prefixlen != y->prefixlen ||
        (!(x->net_kw & LVPN__TUN_RT_NET_DST) && x->dst != y->dst) ||
        (!(x->net_kw & LVPN__TUN_RT_NET_GW) && x->gateway != y->gateway) ||
        x->metric != y->metric || x->via_tun != y->via_tun)
      return 0;
  }
  for (i = 0; i < a->n_routes6; i++) {
    const lvpn__tun_route6_t *x = &a->routes6[i], *y = &b->routes6[i];
    if (memcmp(x->dst, y->dst, 16) != 0 || x->prefixlen != y->prefixlen ||
        x->metric != y->metric)
      return 0;
  }
  return 1;
}

static void reset_ipv4(lvpn__tun_plan_t *plan) {
  free(plan->routes4);
  plan->routes4 = NULL;
  plan->n_routes4 = 0;
  plan->has_addr4 = 0;
  plan->addr4 = plan->peer4 = plan->vpn_gateway = 0;
  plan->prefixlen4 = 0;
  plan->has_server_route = 0;
  plan->server = plan->net_gateway = 0;
  plan->net_ifindex = 0;
  plan->server_autolocal = 0;
  plan->block_local = plan->lan_done = 0;
  plan->block_remote = plan->lan_gw = plan->lan_net = 0;
  plan->lan_prefix = 0;
  plan->lan_ifindex = 0;
  plan->netgw_state = 0;
  plan->netgw = 0;
  plan->netgw_ifindex = 0;
}

/* Is `a` reached through the tunnel: its subnet (subnet topology), or
 * its peer (net30/p2p)? */
static int on_tunnel(const lvpn__tun_plan_t *plan, uint32_t a) {
  uint32_t mask = lvpn__prefix_to_netmask(plan->prefixlen4);
  if (plan->prefixlen4 == 32)
    return a == plan->peer4 || a == plan->addr4;
  return (a & mask) == (plan->addr4 & mask);
}

int lvpn__tun_plan_ipv4(lvpn__tun_plan_t *plan,
                        const lvpn__tun_ipv4_params_t *p, char *errbuf,
                        size_t errlen) {
  char a[16], b[16];
  uint32_t gw = p->route_gateway;
  lvpn__tun_route4_t *r;
  size_t i, n;
  int prefix;

  reset_ipv4(plan);
  if (p->ifconfig_local != 0) {
    plan->has_addr4 = 1;
    plan->addr4 = p->ifconfig_local;
    if (p->topology == LVPN__TOPOLOGY_SUBNET) {
      prefix = lvpn__netmask_to_prefix(p->ifconfig_remote_netmask);
      if (prefix < 0 || prefix == 0)
        return plan_err(errbuf, errlen, "ifconfig %s %s: bad netmask",
                        lvpn__ip4_str(p->ifconfig_local, a),
                        lvpn__ip4_str(p->ifconfig_remote_netmask, b));
      plan->prefixlen4 = (unsigned int)prefix;
    } else {
      if (p->ifconfig_remote_netmask == 0)
        return plan_err(errbuf, errlen,
                        "ifconfig %s: net30/p2p needs a remote address",
                        lvpn__ip4_str(p->ifconfig_local, a));
      plan->prefixlen4 = 32;
      plan->peer4 = p->ifconfig_remote_netmask;
      if (gw == 0)
        gw = p->ifconfig_remote_netmask;
    }
  }
  plan->vpn_gateway = gw;

  n = p->n_routes + (p->redirect_def1 ? 2 : 0);
  if (n > 0) {
    plan->routes4 = calloc(n, sizeof(*plan->routes4));
    if (plan->routes4 == NULL)
      return LVPN_ENOMEM;
  }
  if (p->redirect_def1 || p->redirect_private) {
    if (gw == 0 && (p->redirect_def1 || p->block_local))
      return plan_err(errbuf, errlen,
                      "%s: no VPN gateway (route-gateway not set)",
                      p->redirect_def1 ? "redirect-gateway def1"
                                       : "redirect-private block-local");
    if (p->server != 0) {
      plan->has_server_route = 1;
      plan->server = p->server;
      plan->net_gateway = p->net_gateway;
      plan->net_ifindex = p->net_ifindex;
      plan->server_autolocal = p->autolocal;
    }
    plan->block_local = p->block_local;
    plan->block_remote = p->block_local ? p->remote4 : 0;
    for (i = 0; p->redirect_def1 && i < 2; i++) {
      r = &plan->routes4[plan->n_routes4++];
      r->dst = i == 0 ? 0 : 0x80000000u;
      r->prefixlen = 1;
      r->gateway = gw;
      r->via_tun = 1;
    }
  }
  for (i = 0; i < p->n_routes; i++) {
    const lvpn__tun_route4_param_t *in = &p->routes[i];
    prefix = lvpn__netmask_to_prefix(in->mask);
    if (prefix < 0)
      return plan_err(errbuf, errlen, "route %s %s: bad netmask",
                      lvpn__ip4_str(in->net, a), lvpn__ip4_str(in->mask, b));
    r = &plan->routes4[plan->n_routes4++];
    r->prefixlen = (unsigned int)prefix;
    r->metric = in->metric;
    r->env = 1;
    r->metric_set = (in->kw & LVPN__TUN_RT_METRIC) != 0;
    r->net_kw = in->kw & (LVPN__TUN_RT_NET_DST | LVPN__TUN_RT_NET_GW);
    if (in->kw & LVPN__TUN_RT_VPN_DST) {
      if (gw == 0)
        return plan_err(errbuf, errlen,
                        "route vpn_gateway: no VPN gateway (route-gateway "
                        "not set)");
      r->dst = gw & in->mask;
    } else {
      r->dst = in->net & in->mask;
    }
    if (in->kw & LVPN__TUN_RT_NET_GW)
      continue; /* outside the tunnel, via the gateway found when applying */
    /* remote_host, or a literal gateway the tunnel does not reach (a LAN
     * router): OpenVPN names no interface, the kernel picks the one the
     * gateway is on */
    if ((in->kw & LVPN__TUN_RT_OUTSIDE_GW) ||
        (in->gateway != 0 && in->gateway != gw && plan->has_addr4 &&
         !on_tunnel(plan, in->gateway))) {
      r->gateway = in->gateway;
      continue;
    }
    r->gateway = in->gateway != 0 ? in->gateway : gw;
    r->via_tun = 1;
    if (r->gateway == 0)
      return plan_err(errbuf, errlen,
                      "route %s/%d: no gateway (route-gateway not set)",
                      lvpn__ip4_str(r->dst, a), prefix);
  }
  return 0;
}

/* Does prefix `net`/`bits` contain `host`? */
static int net6_contains(const uint8_t net[16], unsigned int bits,
                         const uint8_t host[16]) {
  unsigned int i;
  for (i = 0; i < 16 && bits > 0; i++, bits = bits >= 8 ? bits - 8 : 0) {
    uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
    if ((net[i] & mask) != (host[i] & mask))
      return 0;
  }
  return 1;
}

int lvpn__tun_plan_ipv6(lvpn__tun_plan_t *plan,
                        const lvpn__tun_ipv6_params_t *p, char *errbuf,
                        size_t errlen) {
  /* OpenVPN's redirect-gateway ipv6 (init.c do_init_route_ipv6_list) */
  static const struct {
    uint8_t first;
    unsigned int bits;
  } redirect[] = {{0x00, 3}, {0x20, 4}, {0x30, 4}, {0xfc, 7}};
  size_t i, n;

  free(plan->routes6);
  plan->routes6 = NULL;
  plan->n_routes6 = 0;
  plan->has_addr6 = 0;
  plan->has_server6_route = 0;
  plan->has_remote6 = p->has_server;
  memcpy(plan->remote6, p->server, 16);
  if (p->has_ifconfig) {
    if (p->prefixlen > 128)
      return plan_err(errbuf, errlen, "ifconfig-ipv6: prefix /%u too long",
                      p->prefixlen);
    plan->has_addr6 = 1;
    memcpy(plan->addr6, p->local, 16);
    plan->prefixlen6 = p->prefixlen;
  }
  n = p->n_routes + (p->redirect && p->has_ifconfig ? 4 : 0);
  if (n == 0)
    return 0;
  plan->routes6 = calloc(n, sizeof(*plan->routes6));
  if (plan->routes6 == NULL)
    return LVPN_ENOMEM;
  for (i = 0; p->redirect && p->has_ifconfig && i < 4; i++) {
    lvpn__tun_route6_t *r = &plan->routes6[plan->n_routes6++];
    r->dst[0] = redirect[i].first;
    r->prefixlen = redirect[i].bits;
    r->env = 2;
    if (p->has_default_gateway) {
      r->has_gateway = 1;
      memcpy(r->gateway, p->default_gateway, 16);
    } else if (p->has_remote) {
      r->has_gateway = 1;
      memcpy(r->gateway, p->remote, 16);
    }
  }
  for (i = 0; i < p->n_routes; i++) {
    const lvpn__tun_route6_param_t *in = &p->routes[i];
    lvpn__tun_route6_t *r = &plan->routes6[plan->n_routes6++];
    if (in->prefixlen > 128)
      return plan_err(errbuf, errlen, "route-ipv6: prefix /%u too long",
                      in->prefixlen);
    memcpy(r->dst, in->net, 16);
    r->prefixlen = in->prefixlen;
    r->metric = in->metric;
    r->env = 1;
    r->metric_set = in->metric_set;
    if (in->has_gateway) {
      r->has_gateway = 1;
      memcpy(r->gateway, in->gateway, 16);
    } else if (p->has_default_gateway) {
      r->has_gateway = 1;
      memcpy(r->gateway, p->default_gateway, 16);
    } else if (p->has_ifconfig && p->has_remote) {
      r->has_gateway = 1;
      memcpy(r->gateway, p->remote, 16);
    }
  }
  /* a tun route covering the server: keep its old path (route.c
   * init_route_ipv6_list, need_remote_ipv6_route) */
  for (i = 0; p->has_server && i < plan->n_routes6; i++)
    if (net6_contains(plan->routes6[i].dst, plan->routes6[i].prefixlen,
                      p->server)) {
      plan->has_server6_route = 1;
      memcpy(plan->server6, p->server, 16);
      break;
    }
  return 0;
}

/* ---- block-ipv6 ---- */

#define ICMP6_MAX 1280 /* RFC 4443 2.4: an error fits the minimum MTU */

size_t lvpn__icmp6_unreachable(const uint8_t *pkt, size_t len,
                               const uint8_t src[16], uint8_t *out,
                               size_t cap) {
  size_t quote, icmp_len, i;
  uint32_t sum = 0;

  if (len < 40 || (pkt[0] >> 4) != 6 || cap < ICMP6_MAX)
    return 0;
  quote = len < ICMP6_MAX - 48 ? len : ICMP6_MAX - 48;
  icmp_len = 8 + quote;
  memcpy(out, pkt, 4);               /* version, traffic class, flow label */
  out[4] = (uint8_t)(icmp_len >> 8); /* payload length */
  out[5] = (uint8_t)icmp_len;
  out[6] = 58;                       /* ICMPv6 */
  out[7] = pkt[7];                   /* hop limit, as OpenVPN */
  memcpy(out + 8, src, 16);
  memcpy(out + 24, pkt + 8, 16);     /* back to the sender */
  out[40] = 1;                       /* destination unreachable */
  out[41] = 0;                       /* no route to destination */
  memset(out + 42, 0, 6);            /* checksum, unused */
  memcpy(out + 48, pkt, quote);
  /* checksum over the pseudo-header (addresses, length, next header) */
  for (i = 8; i < 40; i += 2)
    sum += (uint32_t)(out[i] << 8 | out[i + 1]);
  sum += (uint32_t)icmp_len + 58;
  for (i = 0; i < icmp_len; i += 2)
    sum += (uint32_t)(out[40 + i] << 8 |
                      (i + 1 < icmp_len ? out[40 + i + 1] : 0));
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  sum = ~sum & 0xffff;
  out[42] = (uint8_t)(sum >> 8);
  out[43] = (uint8_t)sum;
  return 40 + icmp_len;
}

/* ---- apply ---- */

static int ok_or_exists(int r) {
  return r == UV_EEXIST ? 0 : r;
}

/* block-local: finds the default gateway's local network (OpenVPN on
 * Linux: the default route's gateway, and the subnet of the interface
 * address that holds it) into plan->lan_*. 1 when there is something to
 * block, 0 when not (logged once: no default gateway, an on-link default
 * route, a /32, or the server on that network, as OpenVPN's
 * add_block_local), or a negative error. */
static int lan_find(lvpn__nl_t *nl, lvpn__tun_plan_t *plan) {
  char a[16], b[16];
  uint32_t gw = 0, mask;
  int idx = 0, r;

  r = lvpn__nl_route_default4(nl, &gw, &idx);
  if (r == UV_ENETUNREACH || (r == 0 && gw == 0)) {
    LVPN__LOG(nl->log, LVPN_LOG_ERROR, TUN_LAYER,
              "WARNING: redirect-gateway block-local: %s: no local network "
              "to block",
              r < 0 ? "no IPv4 default route" : "the default route has no "
                                                 "gateway");
    return 0;
  }
  if (r < 0)
    return r;
  r = lvpn__nl_addr_subnet4(nl, idx, gw, &plan->lan_prefix);
  if (r == UV_ENOENT ||
      (r == 0 && (plan->lan_prefix == 0 || plan->lan_prefix >= 32))) {
    LVPN__LOG(nl->log, LVPN_LOG_ERROR, TUN_LAYER,
              "WARNING: redirect-gateway block-local: no local subnet holds "
              "the default gateway %s: nothing to block",
              lvpn__ip4_str(gw, a));
    return 0;
  }
  if (r < 0)
    return r;
  mask = ~0u << (32 - plan->lan_prefix);
  plan->lan_gw = gw;
  plan->lan_ifindex = idx;
  plan->lan_net = gw & mask;
  if (plan->block_remote != 0 && ((plan->block_remote ^ gw) & mask) == 0) {
    LVPN__LOG(nl->log, LVPN_LOG_ERROR, TUN_LAYER,
              "WARNING: redirect-gateway block-local: the server %s is on "
              "the local network %s/%u: it is not blocked",
              lvpn__ip4_str(plan->block_remote, a),
              lvpn__ip4_str(plan->lan_net, b), plan->lan_prefix);
    return 0;
  }
  return 1;
}

/* The host route that keeps the LAN's gateway on the LAN (LAN_BYPASS) and
 * the two halves of the local network through the tunnel (LAN_HALVES):
 * added, or deleted when !add ("already gone" is no error then). */
enum { LAN_BYPASS = 1, LAN_HALVES = 2 };

static int lan_routes(lvpn__nl_t *nl, const lvpn__tun_plan_t *plan,
                      int ifindex, int add, int what) {
  uint32_t half = 1u << (31 - plan->lan_prefix);
  int i, r;

  if (what & LAN_BYPASS) {
    r = add ? ok_or_exists(lvpn__nl_route_add4(nl, plan->lan_gw, 32,
                                               plan->lan_gw,
                                               plan->lan_ifindex, 0))
            : lvpn__nl_route_del4(nl, plan->lan_gw, 32, plan->lan_gw,
                                  plan->lan_ifindex, 0);
    if (r < 0 && (add || (r != UV_ESRCH && r != UV_ENOENT)))
      return r;
  }
  for (i = 0; (what & LAN_HALVES) && i < 2; i++) {
    uint32_t dst = plan->lan_net + (i ? half : 0);
    r = add ? ok_or_exists(lvpn__nl_route_add4(nl, dst, plan->lan_prefix + 1,
                                               plan->vpn_gateway, ifindex, 0))
            : lvpn__nl_route_del4(nl, dst, plan->lan_prefix + 1,
                                  plan->vpn_gateway, ifindex, 0);
    if (r < 0 && (add || (r != UV_ESRCH && r != UV_ENOENT)))
      return r;
  }
  return 0;
}

static int lan_block(lvpn__nl_t *nl, lvpn__tun_plan_t *plan, int ifindex) {
  char a[16], b[16];
  int r = lan_find(nl, plan);
  if (r <= 0)
    return r;
  if ((r = lan_routes(nl, plan, ifindex, 1, LAN_BYPASS | LAN_HALVES)) < 0)
    return r;
  plan->lan_done = 1;
  LVPN__LOG(nl->log, LVPN_LOG_INFO, TUN_LAYER,
            "redirect-gateway block-local: %s/%u through the tunnel, but "
            "its gateway %s",
            lvpn__ip4_str(plan->lan_net, a), plan->lan_prefix,
            lvpn__ip4_str(plan->lan_gw, b));
  return 0;
}

/* PUSH_UPDATE: the network found the first time stays while block-local
 * does (its halves follow a new VPN gateway: same kernel key, so the old
 * ones go first); block-local dropped: its routes go; new: looked up. */
static int lan_update(lvpn__nl_t *nl, const lvpn__tun_plan_t *cur,
                      lvpn__tun_plan_t *next, int ifindex) {
  int r;
  if (cur->lan_done && next->block_local &&
      cur->block_remote == next->block_remote) {
    next->lan_gw = cur->lan_gw;
    next->lan_net = cur->lan_net;
    next->lan_prefix = cur->lan_prefix;
    next->lan_ifindex = cur->lan_ifindex;
    next->lan_done = 1;
    if (cur->vpn_gateway != next->vpn_gateway &&
        (r = lan_routes(nl, cur, ifindex, 0, LAN_HALVES)) < 0)
      return r;
    return lan_routes(nl, next, ifindex, 1, LAN_BYPASS | LAN_HALVES);
  }
  if (cur->lan_done &&
      (r = lan_routes(nl, cur, ifindex, 0, LAN_BYPASS | LAN_HALVES)) < 0)
    return r;
  return next->block_local ? lan_block(nl, next, ifindex) : 0;
}

/* The routes with net_gateway keywords get the default gateway from before
 * the tunnel (OpenVPN route.c get_default_gateway: the default route's
 * gateway and interface), looked up once per plan or taken from `prev`'s
 * lookup. Without one (no default route, or one without a gateway) those
 * routes are not installed, after one warning, as OpenVPN's "net_gateway
 * undefined". */
static void netgw_resolve(lvpn__nl_t *nl, lvpn__tun_plan_t *plan,
                          const lvpn__tun_plan_t *prev) {
  char a[16];
  size_t i;
  int need = 0;

  for (i = 0; i < plan->n_routes4; i++)
    need |= plan->routes4[i].net_kw != 0;
  if (!need)
    return;
  if (plan->netgw_state == 0 && prev != NULL && prev->netgw_state != 0) {
    plan->netgw_state = prev->netgw_state;
    plan->netgw = prev->netgw;
    plan->netgw_ifindex = prev->netgw_ifindex;
  }
  if (plan->netgw_state == 0) {
    int r = lvpn__nl_route_default4(nl, &plan->netgw, &plan->netgw_ifindex);
    plan->netgw_state = r == 0 && plan->netgw != 0 ? 1 : -1;
    if (plan->netgw_state > 0)
      LVPN__LOG(nl->log, LVPN_LOG_VERBOSE, TUN_LAYER, "net_gateway: %s",
                lvpn__ip4_str(plan->netgw, a));
    else
      LVPN__LOG(nl->log, LVPN_LOG_ERROR, TUN_LAYER,
                "WARNING: net_gateway undefined (%s): routes via it are not "
                "installed",
                r < 0 ? lvpn__nl_last_error(nl)
                      : "the default route has no gateway");
  }
  for (i = 0; i < plan->n_routes4; i++) {
    lvpn__tun_route4_t *rt = &plan->routes4[i];
    if (rt->net_kw == 0)
      continue;
    if (plan->netgw_state < 0) {
      rt->skip = 1;
      continue;
    }
    rt->skip = 0;
    if (rt->net_kw & LVPN__TUN_RT_NET_DST)
      rt->dst = rt->prefixlen == 0
                    ? 0
                    : plan->netgw & (0xffffffffu << (32 - rt->prefixlen));
    if (rt->net_kw & LVPN__TUN_RT_NET_GW) {
      rt->gateway = plan->netgw;
      rt->oif = plan->netgw_ifindex;
    }
  }
}

/* The interface a route goes out of. */
static int route4_oif(const lvpn__tun_route4_t *rt, int ifindex) {
  return rt->via_tun ? ifindex : rt->oif;
}

int lvpn__tun_apply_plan(lvpn__nl_t *nl, const char *ifname,
                         lvpn__tun_plan_t *plan) {
  int r = lvpn__tun_apply_ifconfig(nl, ifname, plan);
  return r != 0 ? r : lvpn__tun_apply_routes(nl, ifname, plan);
}

int lvpn__tun_apply_ifconfig(lvpn__nl_t *nl, const char *ifname,
                             lvpn__tun_plan_t *plan) {
  char a[16];
  int ifindex, r;

  ifindex = lvpn__nl_ifindex(nl, ifname);
  if (ifindex < 0)
    return ifindex;

  /* Before any change: afterwards the default path may be the tunnel. */
  /* As OpenVPN on Linux (route.c get_default_gateway): the host route to
   * the server goes via the default route's gateway; with autolocal, a
   * server the kernel reaches on-link is local and gets none. */
  if (plan->has_server_route && plan->net_gateway == 0 &&
      plan->net_ifindex == 0) {
    uint32_t sgw = 0;
    int sidx = 0;
    r = lvpn__nl_route_default4(nl, &plan->net_gateway, &plan->net_ifindex);
    if (r < 0) {
      LVPN__LOG(nl->log, LVPN_LOG_ERROR, TUN_LAYER,
                "no default route (%s): no host route to the server %s",
                lvpn__nl_last_error(nl), lvpn__ip4_str(plan->server, a));
      plan->net_gateway = 0;
      plan->net_ifindex = 0;
    } else if (plan->server_autolocal &&
               lvpn__nl_route_get4(nl, plan->server, &sgw, &sidx) == 0 &&
               sgw == 0) {
      LVPN__LOG(nl->log, LVPN_LOG_VERBOSE, TUN_LAYER,
                "redirect-gateway autolocal: the server %s is local",
                lvpn__ip4_str(plan->server, a));
      plan->has_server_route = 0;
    }
  }

  if (plan->has_server6_route && !plan->net6_looked_up) {
    r = lvpn__nl_route_get6(nl, plan->server6, plan->net6_gateway,
                            &plan->net6_has_gateway, &plan->net6_ifindex);
    plan->net6_looked_up = r == 0;
    if (r < 0)
      LVPN__LOG(nl->log, LVPN_LOG_ERROR, TUN_LAYER,
                "no IPv6 route to the server (%s): no host route for it",
                lvpn__nl_last_error(nl));
  }

  netgw_resolve(nl, plan, NULL); /* route-noexec too: for the scripts */

  if (plan->no_ifconfig)
    return 0;
  if ((r = lvpn__nl_link_up_mtu(nl, ifname, plan->mtu)) < 0)
    return r;
  if (plan->has_addr4) {
    r = ok_or_exists(lvpn__nl_addr_add4(nl, ifindex, plan->addr4,
                                        plan->prefixlen4, plan->peer4));
    if (r < 0)
      return r;
  }
  if (plan->has_addr6) {
    r = ok_or_exists(
        lvpn__nl_addr_add6(nl, ifindex, plan->addr6, plan->prefixlen6));
    if (r < 0)
      return r;
  }
  return 0;
}

int lvpn__tun_apply_routes(lvpn__nl_t *nl, const char *ifname,
                           lvpn__tun_plan_t *plan) {
  char a[16], g[16];
  size_t i;
  int ifindex, r;

  if (plan->no_routes)
    return 0;
  ifindex = lvpn__nl_ifindex(nl, ifname);
  if (ifindex < 0)
    return ifindex;
  /* The server keeps its old path, through the default gateway or on-link
   * on its interface, as OpenVPN does (route.c
   * redirect_default_route_to_vpn). */
  if (plan->has_server_route && plan->net_ifindex != 0 &&
      plan->net_ifindex != ifindex) {
    LVPN__LOG(nl->log, LVPN_LOG_VERBOSE, TUN_LAYER,
              "host route to the server %s via %s",
              lvpn__ip4_str(plan->server, a),
              plan->net_gateway ? lvpn__ip4_str(plan->net_gateway, g)
                                : "its link");
    r = ok_or_exists(lvpn__nl_route_add4(
        nl, plan->server, 32, plan->net_gateway, plan->net_ifindex, 0));
    if (r < 0)
      return r;
  }
  for (i = 0; i < plan->n_routes4; i++) {
    const lvpn__tun_route4_t *rt = &plan->routes4[i];
    if (rt->skip)
      continue;
    r = ok_or_exists(lvpn__nl_route_add4(nl, rt->dst, rt->prefixlen,
                                         rt->gateway, route4_oif(rt, ifindex),
                                         rt->metric));
    if (r < 0)
      return r;
  }
  if (plan->block_local) {
    /* lan_done: the network found the first time (persist-tun) */
    r = plan->lan_done
            ? lan_routes(nl, plan, ifindex, 1, LAN_BYPASS | LAN_HALVES)
            : lan_block(nl, plan, ifindex);
    if (r < 0)
      return r;
  }
  if (plan->has_server6_route && plan->net6_looked_up &&
      plan->net6_ifindex != ifindex && plan->net6_ifindex != 0) {
    /* metric 1, as OpenVPN */
    r = ok_or_exists(lvpn__nl_route_add6(
        nl, plan->server6, 128,
        plan->net6_has_gateway ? plan->net6_gateway : NULL,
        plan->net6_ifindex, 1));
    if (r < 0)
      return r;
  }
  for (i = 0; i < plan->n_routes6; i++) {
    const lvpn__tun_route6_t *rt = &plan->routes6[i];
    r = ok_or_exists(lvpn__nl_route_add6(nl, rt->dst, rt->prefixlen, NULL,
                                         ifindex, rt->metric));
    if (r < 0)
      return r;
  }
  return 0;
}

static int route4_eq(const lvpn__tun_route4_t *a, const lvpn__tun_route4_t *b) {
  return a->dst == b->dst && a->prefixlen == b->prefixlen &&
         a->gateway == b->gateway && a->metric == b->metric &&
         a->via_tun == b->via_tun && a->oif == b->oif && a->skip == b->skip;
}

static int route6_eq(const lvpn__tun_route6_t *a, const lvpn__tun_route6_t *b) {
  return memcmp(a->dst, b->dst, 16) == 0 && a->prefixlen == b->prefixlen &&
         a->metric == b->metric;
}

static int has_route4(const lvpn__tun_plan_t *p, const lvpn__tun_route4_t *r) {
  size_t i;
  for (i = 0; i < p->n_routes4; i++)
    if (route4_eq(&p->routes4[i], r))
      return 1;
  return 0;
}

static int has_route6(const lvpn__tun_plan_t *p, const lvpn__tun_route6_t *r) {
  size_t i;
  for (i = 0; i < p->n_routes6; i++)
    if (route6_eq(&p->routes6[i], r))
      return 1;
  return 0;
}

/* The kernel keys an IPv4 route by destination, prefix and metric: an old
 * route with the key of a new, different one must go before the new one
 * can be added. */
static int same_key4(const lvpn__tun_route4_t *a, const lvpn__tun_route4_t *b) {
  return a->dst == b->dst && a->prefixlen == b->prefixlen &&
         a->metric == b->metric;
}

static int del4(lvpn__nl_t *nl, const lvpn__tun_route4_t *rt, int ifindex) {
  int r;
  if (rt->skip)
    return 0; /* never installed */
  r = lvpn__nl_route_del4(nl, rt->dst, rt->prefixlen, rt->gateway,
                          route4_oif(rt, ifindex), rt->metric);
  return r == UV_ESRCH || r == UV_ENOENT ? 0 : r; /* already gone */
}

int lvpn__tun_update_plan(lvpn__nl_t *nl, const char *ifname,
                          const lvpn__tun_plan_t *cur, lvpn__tun_plan_t *next) {
  static const lvpn__tun_plan_t none; /* no routes */
  const lvpn__tun_plan_t *old4 = cur; /* the IPv4 routes still in place */
  size_t i, j;
  int ifindex, r;

  ifindex = lvpn__nl_ifindex(nl, ifname);
  if (ifindex < 0)
    return ifindex;
  if (cur->has_server_route && next->has_server_route &&
      cur->server == next->server) {
    next->net_gateway = cur->net_gateway;
    next->net_ifindex = cur->net_ifindex;
  } else if (next->has_server_route &&
             lvpn__nl_route_get4(nl, next->server, &next->net_gateway,
                                 &next->net_ifindex) < 0) {
    next->net_gateway = 0;
    next->net_ifindex = 0;
  }
  netgw_resolve(nl, next, cur);
  if (next->no_ifconfig)
    goto routes;
  if (next->mtu != 0 && next->mtu != cur->mtu &&
      (r = lvpn__nl_set_mtu(nl, ifname, next->mtu)) < 0)
    return r;
  /* A new IPv4 address: the old one goes first (deleting a primary address
   * takes its secondaries with it), and with it every IPv4 route through
   * its subnet, so all of `next`'s routes are added again below. */
  if (cur->has_addr4 &&
      (!next->has_addr4 || cur->addr4 != next->addr4 ||
       cur->prefixlen4 != next->prefixlen4 || cur->peer4 != next->peer4)) {
    lvpn__nl_addr_del4(nl, ifindex, cur->addr4, cur->prefixlen4, cur->peer4);
    old4 = &none;
  }
  if (next->has_addr4 && old4 == &none) {
    r = ok_or_exists(lvpn__nl_addr_add4(nl, ifindex, next->addr4,
                                        next->prefixlen4, next->peer4));
    if (r < 0)
      return r;
  }
  /* IPv6: the new address before the old one goes (routes are on-link). */
  if (next->has_addr6 &&
      (!cur->has_addr6 || memcmp(cur->addr6, next->addr6, 16) != 0 ||
       cur->prefixlen6 != next->prefixlen6)) {
    r = ok_or_exists(
        lvpn__nl_addr_add6(nl, ifindex, next->addr6, next->prefixlen6));
    if (r < 0)
      return r;
    if (cur->has_addr6)
      lvpn__nl_addr_del6(nl, ifindex, cur->addr6, cur->prefixlen6);
  } else if (!next->has_addr6 && cur->has_addr6) {
    lvpn__nl_addr_del6(nl, ifindex, cur->addr6, cur->prefixlen6);
  }
routes:
  if (next->no_routes)
    return 0;
  if (next->has_server_route && !cur->has_server_route &&
      next->net_gateway != 0 && next->net_ifindex != ifindex) {
    r = ok_or_exists(lvpn__nl_route_add4(nl, next->server, 32,
                                         next->net_gateway, next->net_ifindex,
                                         0));
    if (r < 0)
      return r;
  }
  /* Old IPv4 routes whose kernel key a changed route takes. */
  for (i = 0; i < old4->n_routes4; i++) {
    if (has_route4(next, &old4->routes4[i]))
      continue;
    for (j = 0; j < next->n_routes4; j++)
      if (same_key4(&old4->routes4[i], &next->routes4[j]) &&
          (r = del4(nl, &old4->routes4[i], ifindex)) < 0)
        return r;
  }
  for (i = 0; i < next->n_routes4; i++) {
    const lvpn__tun_route4_t *rt = &next->routes4[i];
    if (rt->skip || has_route4(old4, rt))
      continue;
    r = ok_or_exists(lvpn__nl_route_add4(nl, rt->dst, rt->prefixlen,
                                         rt->gateway, route4_oif(rt, ifindex),
                                         rt->metric));
    if (r < 0)
      return r;
  }
  if ((r = lan_update(nl, cur, next, ifindex)) < 0)
    return r;
  for (i = 0; i < next->n_routes6; i++) {
    const lvpn__tun_route6_t *rt = &next->routes6[i];
    if (has_route6(cur, rt))
      continue;
    r = ok_or_exists(lvpn__nl_route_add6(nl, rt->dst, rt->prefixlen, NULL,
                                         ifindex, rt->metric));
    if (r < 0)
      return r;
  }
  /* Then what the update took away. */
  for (i = 0; i < old4->n_routes4; i++)
    if (!has_route4(next, &old4->routes4[i]) &&
        (r = del4(nl, &old4->routes4[i], ifindex)) < 0)
      return r;
  for (i = 0; i < cur->n_routes6; i++) {
    const lvpn__tun_route6_t *rt = &cur->routes6[i];
    if (has_route6(next, rt))
      continue;
    r = lvpn__nl_route_del6(nl, rt->dst, rt->prefixlen, NULL, ifindex,
                            rt->metric);
    if (r < 0 && r != UV_ESRCH && r != UV_ENOENT)
      return r;
  }
  if (cur->has_server_route && !next->has_server_route &&
      cur->net_gateway != 0 && cur->net_ifindex != ifindex) {
    r = lvpn__nl_route_del4(nl, cur->server, 32, cur->net_gateway,
                            cur->net_ifindex, 0);
    if (r < 0 && r != UV_ESRCH && r != UV_ENOENT)
      return r;
  }
  return 0;
}
