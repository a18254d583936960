/* TUN device, netlink configuration, planner and up/down scripts.
 *
 * Pure cases (planner, masks, scripts) run anywhere. Cases that touch the
 * kernel run only as root, each inside its own private network namespace
 * (unshare(CLONE_NEWNET)), so nothing on the host changes; they use only
 * 198.18.0.0/15 and 2001:2::/48. Without root they are skipped with a note.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "layers/tun/device.h"
#include "layers/tun/netlink.h"
#include "layers/tun/script.h"
#include "layervpn.h"
#include "tests/fakes.h"

#define IP4(a, b, c, d)                                                        \
  (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) |      \
   (uint32_t)(d))

static void ip6(const char *s, uint8_t out[16]) {
  ck_assert_int_eq(inet_pton(AF_INET6, s, out), 1);
}

/* The lab's subnet: 198.19.0.2/24, route-gateway 198.19.0.1. */
static void subnet4(lvpn__tun_ipv4_params_t *p) {
  memset(p, 0, sizeof(*p));
  p->topology = LVPN__TOPOLOGY_SUBNET;
  p->ifconfig_local = IP4(198, 19, 0, 2);
  p->ifconfig_remote_netmask = IP4(255, 255, 255, 0);
  p->route_gateway = IP4(198, 19, 0, 1);
}

/* net30: 198.19.0.6 with the peer 198.19.0.5, and `route`. */
static void net30(lvpn__tun_ipv4_params_t *p,
                  const lvpn__tun_route4_param_t *route) {
  memset(p, 0, sizeof(*p));
  p->topology = LVPN__TOPOLOGY_NET30;
  p->ifconfig_local = IP4(198, 19, 0, 6);
  p->ifconfig_remote_netmask = IP4(198, 19, 0, 5);
  p->routes = route;
  p->n_routes = 1;
}

/* ifconfig-ipv6 2001:2:0:8::1000/64 2001:2:0:8::1, route-ipv6 net/bits. */
static void lab6(lvpn__tun_ipv6_params_t *p, lvpn__tun_route6_param_t *r,
                 const char *net, unsigned int bits) {
  memset(p, 0, sizeof(*p));
  memset(r, 0, sizeof(*r));
  p->has_ifconfig = p->has_remote = 1;
  ip6("2001:2:0:8::1000", p->local);
  p->prefixlen = 64;
  ip6("2001:2:0:8::1", p->remote);
  ip6(net, r->net);
  r->prefixlen = bits;
  p->routes = r;
  p->n_routes = 1;
}

/* ================= pure: masks and the planner ================= */

/* A fresh plan from p4 and p6 (NULL: none), with MTU mtu (0: none). */
static void plan_from(lvpn__tun_plan_t *plan, int mtu,
                      const lvpn__tun_ipv4_params_t *p4,
                      const lvpn__tun_ipv6_params_t *p6) {
  char err[128] = "";
  lvpn__tun_plan_init(plan);
  plan->mtu = mtu;
  ck_assert_msg(lvpn__tun_plan_ipv4(plan, p4, err, sizeof(err)) == 0, "%s",
                err);
  if (p6 != NULL)
    ck_assert_msg(lvpn__tun_plan_ipv6(plan, p6, err, sizeof(err)) == 0, "%s",
                  err);
}

START_TEST(test_tun_netmask_to_prefix) {
  unsigned int i;
  ck_assert_int_eq(lvpn__netmask_to_prefix(IP4(255, 255, 255, 0)), 24);
  ck_assert_int_eq(lvpn__netmask_to_prefix(IP4(255, 255, 255, 252)), 30);
  ck_assert_int_eq(lvpn__netmask_to_prefix(0xffffffffu), 32);
  ck_assert_int_eq(lvpn__netmask_to_prefix(0), 0);
  ck_assert_int_eq(lvpn__netmask_to_prefix(IP4(128, 0, 0, 0)), 1);
  ck_assert_int_eq(lvpn__netmask_to_prefix(IP4(255, 0, 255, 0)), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__netmask_to_prefix(IP4(0, 255, 255, 255)), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__netmask_to_prefix(IP4(255, 255, 255, 253)),
                   LVPN_EINVAL);
  for (i = 0; i <= 32; i++)
    ck_assert_int_eq(lvpn__netmask_to_prefix(lvpn__prefix_to_netmask(i)),
                     (int)i);
}
END_TEST

START_TEST(test_tun_ip4_parse_and_print) {
  uint32_t a = 0;
  char buf[16];
  ck_assert_int_eq(lvpn__ip4_parse("198.19.0.1", &a), 0);
  ck_assert_uint_eq(a, IP4(198, 19, 0, 1));
  ck_assert_str_eq(lvpn__ip4_str(a, buf), "198.19.0.1");
  ck_assert_int_eq(lvpn__ip4_parse("198.19.0", &a), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__ip4_parse("198.19.0.256", &a), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__ip4_parse("", &a), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__ip4_parse(NULL, &a), LVPN_EINVAL);
}
END_TEST

START_TEST(test_tun_plan_subnet_gateway_defaults) {
  lvpn__tun_route4_param_t routes[] = {
      {IP4(198, 19, 100, 0), IP4(255, 255, 255, 0), 0, 0, 0},
      {IP4(198, 19, 101, 7), IP4(255, 255, 255, 0), IP4(198, 19, 0, 9), 50, 0},
      {IP4(198, 19, 102, 1), 0xffffffffu, 0, 0, 0},
      /* a LAN router the tunnel does not reach: no interface named */
      {IP4(198, 19, 103, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 254), 0,
       0}};
  lvpn__tun_ipv4_params_t p;
  lvpn__tun_plan_t plan;

  subnet4(&p);
  p.routes = routes;
  p.n_routes = 4;
  plan_from(&plan, 0, &p, NULL);
  ck_assert(plan.has_addr4);
  ck_assert_uint_eq(plan.addr4, IP4(198, 19, 0, 2));
  ck_assert_uint_eq(plan.prefixlen4, 24);
  ck_assert_uint_eq(plan.peer4, 0);
  ck_assert_uint_eq(plan.vpn_gateway, IP4(198, 19, 0, 1));
  ck_assert_uint_eq(plan.n_routes4, 4);
  ck_assert_uint_eq(plan.routes4[0].dst, IP4(198, 19, 100, 0));
  ck_assert_uint_eq(plan.routes4[0].prefixlen, 24);
  ck_assert_uint_eq(plan.routes4[0].gateway, IP4(198, 19, 0, 1));
  /* explicit gateway and metric kept; host bits cleared */
  ck_assert_uint_eq(plan.routes4[1].dst, IP4(198, 19, 101, 0));
  ck_assert_uint_eq(plan.routes4[1].gateway, IP4(198, 19, 0, 9));
  ck_assert_uint_eq(plan.routes4[1].metric, 50);
  ck_assert(plan.routes4[1].via_tun); /* in the tunnel's subnet */
  ck_assert_uint_eq(plan.routes4[2].prefixlen, 32);
  ck_assert(plan.routes4[2].via_tun);
  ck_assert_uint_eq(plan.routes4[3].gateway, IP4(198, 18, 0, 254));
  ck_assert(!plan.routes4[3].via_tun);
  ck_assert_int_eq(plan.routes4[3].oif, 0);
  ck_assert(!plan.has_server_route);
  lvpn__tun_plan_free(&plan);
}
END_TEST

START_TEST(test_tun_plan_net30_gateway_is_remote) {
  lvpn__tun_route4_param_t route = {IP4(198, 19, 100, 0), IP4(255, 255, 255, 0),
                                    0, 0, 0};
  lvpn__tun_ipv4_params_t p;
  lvpn__tun_plan_t plan;
  char err[128] = "";

  net30(&p, &route);
  plan_from(&plan, 0, &p, NULL);
  ck_assert_uint_eq(plan.prefixlen4, 32);
  ck_assert_uint_eq(plan.peer4, IP4(198, 19, 0, 5));
  ck_assert_uint_eq(plan.vpn_gateway, IP4(198, 19, 0, 5));
  ck_assert_uint_eq(plan.routes4[0].gateway, IP4(198, 19, 0, 5));
  ck_assert(plan.routes4[0].via_tun);

  /* p2p reads ifconfig the same way; route-gateway wins over the peer */
  p.topology = LVPN__TOPOLOGY_P2P;
  p.route_gateway = IP4(198, 19, 0, 1);
  ck_assert_int_eq(lvpn__tun_plan_ipv4(&plan, &p, err, sizeof(err)), 0);
  ck_assert_uint_eq(plan.peer4, IP4(198, 19, 0, 5));
  ck_assert_uint_eq(plan.routes4[0].gateway, IP4(198, 19, 0, 1));
  ck_assert_uint_eq(plan.n_routes4, 1); /* replanning replaced the routes */
  lvpn__tun_plan_free(&plan);
}
END_TEST

START_TEST(test_tun_plan_rejects_bad_input) {
  lvpn__tun_route4_param_t route = {IP4(198, 19, 100, 0), IP4(255, 0, 255, 0),
                                    0, 0, 0};
  lvpn__tun_ipv4_params_t p;
  lvpn__tun_plan_t plan;
  char err[128];

  memset(&p, 0, sizeof(p));
  lvpn__tun_plan_init(&plan);
  /* non-contiguous ifconfig netmask */
  p.topology = LVPN__TOPOLOGY_SUBNET;
  p.ifconfig_local = IP4(198, 19, 0, 2);
  p.ifconfig_remote_netmask = IP4(255, 255, 0, 255);
  ck_assert_int_eq(lvpn__tun_plan_ipv4(&plan, &p, err, sizeof(err)),
                   LVPN_ECONFIG);
  ck_assert_ptr_nonnull(strstr(err, "255.255.0.255"));
  /* non-contiguous route mask */
  p.ifconfig_remote_netmask = IP4(255, 255, 255, 0);
  p.route_gateway = IP4(198, 19, 0, 1);
  p.routes = &route;
  p.n_routes = 1;
  ck_assert_int_eq(lvpn__tun_plan_ipv4(&plan, &p, err, sizeof(err)),
                   LVPN_ECONFIG);
  ck_assert_ptr_nonnull(strstr(err, "route 198.19.100.0 255.0.255.0"));
  /* subnet without route-gateway: a route has no gateway */
  route.mask = IP4(255, 255, 255, 0);
  p.route_gateway = 0;
  ck_assert_int_eq(lvpn__tun_plan_ipv4(&plan, &p, err, sizeof(err)),
                   LVPN_ECONFIG);
  ck_assert_ptr_nonnull(strstr(err, "no gateway"));
  /* net30 without a remote */
  p.topology = LVPN__TOPOLOGY_NET30;
  p.ifconfig_remote_netmask = 0;
  p.n_routes = 0;
  ck_assert_int_eq(lvpn__tun_plan_ipv4(&plan, &p, err, sizeof(err)),
                   LVPN_ECONFIG);
  /* def1 with no VPN gateway at all; NULL errbuf is fine */
  p.topology = LVPN__TOPOLOGY_SUBNET;
  p.ifconfig_remote_netmask = IP4(255, 255, 255, 0);
  p.redirect_def1 = 1;
  ck_assert_int_eq(lvpn__tun_plan_ipv4(&plan, &p, NULL, 0), LVPN_ECONFIG);
  lvpn__tun_plan_free(&plan);
  lvpn__tun_plan_free(&plan); /* twice is harmless */
}
END_TEST

START_TEST(test_tun_plan_def1) {
  lvpn__tun_ipv4_params_t p;
  lvpn__tun_plan_t plan;

  subnet4(&p);
  p.redirect_def1 = 1;
  p.server = IP4(198, 18, 50, 1);
  plan_from(&plan, 0, &p, NULL);
  ck_assert_uint_eq(plan.n_routes4, 2);
  ck_assert_uint_eq(plan.routes4[0].dst, 0);
  ck_assert_uint_eq(plan.routes4[0].prefixlen, 1);
  ck_assert_uint_eq(plan.routes4[1].dst, IP4(128, 0, 0, 0));
  ck_assert_uint_eq(plan.routes4[1].prefixlen, 1);
  ck_assert_uint_eq(plan.routes4[0].gateway, IP4(198, 19, 0, 1));
  ck_assert_uint_eq(plan.routes4[1].gateway, IP4(198, 19, 0, 1));
  ck_assert(plan.has_server_route);
  ck_assert_uint_eq(plan.server, IP4(198, 18, 50, 1));
  ck_assert_uint_eq(plan.net_gateway, 0); /* resolved when applied */
  lvpn__tun_plan_free(&plan);
}
END_TEST

/* redirect-private: the server's host route (and block-local) without
 * the two default halves; no VPN gateway needed for that alone. */
START_TEST(test_tun_plan_redirect_private) {
  lvpn__tun_ipv4_params_t p;
  lvpn__tun_plan_t plan;

  subnet4(&p);
  p.redirect_private = 1;
  p.server = IP4(198, 18, 50, 1);
  plan_from(&plan, 0, &p, NULL);
  ck_assert_uint_eq(plan.n_routes4, 0);
  ck_assert(plan.has_server_route);
  ck_assert_uint_eq(plan.server, IP4(198, 18, 50, 1));
  ck_assert(!plan.block_local);
  lvpn__tun_plan_free(&plan);
  p.block_local = 1;
  p.remote4 = p.server;
  plan_from(&plan, 0, &p, NULL);
  ck_assert(plan.block_local);
  ck_assert_uint_eq(plan.n_routes4, 0);
  lvpn__tun_plan_free(&plan);
}
END_TEST

/* Route keywords: vpn_gateway as the network is the VPN gateway now; a
 * net_gateway network or gateway waits for the apply (outside the tunnel);
 * a remote_host gateway is outside the tunnel for the kernel to place. The
 * address a net_gateway finds does not make two plans differ. */
START_TEST(test_tun_plan_route_keywords) {
  lvpn__tun_route4_param_t r[4];
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_plan_t plan, other;

  memset(r, 0, sizeof(r));
  r[0].net = IP4(198, 19, 88, 0);
  r[0].mask = IP4(255, 255, 255, 0);
  r[0].kw = LVPN__TUN_RT_NET_GW;
  r[1].mask = 0xffffffffu;
  r[1].kw = LVPN__TUN_RT_VPN_DST;
  r[2].mask = 0xffffffffu;
  r[2].kw = LVPN__TUN_RT_NET_DST;
  r[3].net = IP4(198, 19, 99, 0);
  r[3].mask = IP4(255, 255, 255, 0);
  r[3].gateway = IP4(198, 18, 0, 1);
  r[3].kw = LVPN__TUN_RT_OUTSIDE_GW;
  subnet4(&p4);
  p4.routes = r;
  p4.n_routes = 4;
  plan_from(&plan, 0, &p4, NULL);
  ck_assert_uint_eq(plan.n_routes4, 4);
  ck_assert_uint_eq(plan.routes4[0].dst, IP4(198, 19, 88, 0));
  ck_assert_uint_eq(plan.routes4[0].net_kw, LVPN__TUN_RT_NET_GW);
  ck_assert_int_eq(plan.routes4[0].via_tun, 0);
  ck_assert_uint_eq(plan.routes4[0].gateway, 0); /* found when applied */
  ck_assert_uint_eq(plan.routes4[1].dst, IP4(198, 19, 0, 1));
  ck_assert_uint_eq(plan.routes4[1].prefixlen, 32);
  ck_assert_int_eq(plan.routes4[1].via_tun, 1);
  ck_assert_uint_eq(plan.routes4[2].net_kw, LVPN__TUN_RT_NET_DST);
  ck_assert_int_eq(plan.routes4[2].via_tun, 1);
  ck_assert_uint_eq(plan.routes4[2].gateway, IP4(198, 19, 0, 1));
  ck_assert_uint_eq(plan.routes4[3].gateway, IP4(198, 18, 0, 1));
  ck_assert_int_eq(plan.routes4[3].via_tun, 0);
  ck_assert_int_eq(plan.routes4[3].oif, 0);

  /* what an apply fills in is not a difference */
  plan_from(&other, 0, &p4, NULL);
  plan.routes4[0].gateway = IP4(198, 18, 0, 1);
  plan.routes4[0].oif = 7;
  plan.routes4[2].dst = IP4(198, 18, 0, 1);
  ck_assert(lvpn__tun_plan_same(&plan, &other));
  lvpn__tun_plan_free(&other);
  r[0].kw = 0; /* through the tunnel instead */
  plan_from(&other, 0, &p4, NULL);
  ck_assert(!lvpn__tun_plan_same(&plan, &other));
  lvpn__tun_plan_free(&other);
  lvpn__tun_plan_free(&plan);

  /* vpn_gateway without one */
  {
    char err[128] = "";
    lvpn__tun_plan_init(&plan);
    p4.route_gateway = 0;
    p4.ifconfig_local = 0;
    p4.n_routes = 2;
    r[0].kw = LVPN__TUN_RT_NET_GW;
    ck_assert_int_eq(lvpn__tun_plan_ipv4(&plan, &p4, err, sizeof(err)),
                     LVPN_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "vpn_gateway"));
    lvpn__tun_plan_free(&plan);
  }
}
END_TEST

START_TEST(test_tun_plan_ipv6_gateway_default) {
  lvpn__tun_route6_param_t routes[2];
  lvpn__tun_ipv6_params_t p;
  lvpn__tun_plan_t plan;
  uint8_t want[16];
  char err[128];

  lab6(&p, &routes[0], "2001:2:0:100::", 56);
  memset(&routes[1], 0, sizeof(routes[1]));
  ip6("2001:2:0:200::", routes[1].net);
  routes[1].prefixlen = 64;
  routes[1].has_gateway = 1;
  ip6("2001:2:0:8::2", routes[1].gateway);
  p.routes = routes;
  p.n_routes = 2;
  lvpn__tun_plan_init(&plan);
  ck_assert_int_eq(lvpn__tun_plan_ipv6(&plan, &p, err, sizeof(err)), 0);
  ck_assert(plan.has_addr6);
  ck_assert_uint_eq(plan.prefixlen6, 64);
  ck_assert_uint_eq(plan.n_routes6, 2);
  ck_assert(plan.routes6[0].has_gateway);
  ip6("2001:2:0:8::1", want);
  ck_assert_mem_eq(plan.routes6[0].gateway, want, 16);
  ip6("2001:2:0:8::2", want);
  ck_assert_mem_eq(plan.routes6[1].gateway, want, 16);
  ck_assert(!plan.has_addr4); /* IPv6 planning leaves IPv4 alone */
  lvpn__tun_plan_free(&plan);

  /* route-ipv6-gateway: the gateway of routes without one (the redirect
   * routes too) in place of the remote; a route's own gateway stays */
  p.has_default_gateway = 1;
  ip6("2001:2:ff00::1", p.default_gateway);
  p.redirect = 1;
  lvpn__tun_plan_init(&plan);
  ck_assert_int_eq(lvpn__tun_plan_ipv6(&plan, &p, err, sizeof(err)), 0);
  ck_assert_uint_eq(plan.n_routes6, 6);
  ip6("2001:2:ff00::1", want);
  ck_assert(plan.routes6[0].has_gateway); /* redirect ::/3 */
  ck_assert_mem_eq(plan.routes6[0].gateway, want, 16);
  ck_assert_mem_eq(plan.routes6[4].gateway, want, 16);
  ip6("2001:2:0:8::2", want);
  ck_assert_mem_eq(plan.routes6[5].gateway, want, 16);
  p.redirect = 0;
  p.has_default_gateway = 0;

  routes[0].prefixlen = 129;
  ck_assert_int_eq(lvpn__tun_plan_ipv6(&plan, &p, err, sizeof(err)),
                   LVPN_ECONFIG);
  lvpn__tun_plan_free(&plan);
}
END_TEST

/* redirect-gateway ipv6: OpenVPN's four routes via the tun, and a /128
 * to an IPv6 server they cover. */
START_TEST(test_tun_plan_ipv6_redirect_and_server) {
  lvpn__tun_route6_param_t r;
  lvpn__tun_ipv6_params_t p;
  lvpn__tun_plan_t plan;
  const char *want[] = {"::", "2000::", "3000::", "fc00::"};
  const unsigned bits[] = {3, 4, 4, 7};
  uint8_t a[16];
  char err[128];
  size_t i;

  lab6(&p, &r, "2001:2:0:100::", 56);
  p.redirect = 1;
  p.has_server = 1;
  ip6("2001:2:0:1::1", p.server);
  lvpn__tun_plan_init(&plan);
  ck_assert_int_eq(lvpn__tun_plan_ipv6(&plan, &p, err, sizeof(err)), 0);
  ck_assert_uint_eq(plan.n_routes6, 5);
  for (i = 0; i < 4; i++) {
    ip6(want[i], a);
    ck_assert_mem_eq(plan.routes6[i].dst, a, 16);
    ck_assert_uint_eq(plan.routes6[i].prefixlen, bits[i]);
  }
  ck_assert(plan.has_server6_route); /* 2000::/4 covers it */
  ck_assert_mem_eq(plan.server6, p.server, 16);

  /* a server outside every tun route needs none; no redirect without an
   * IPv6 address, as OpenVPN */
  p.redirect = 0;
  ip6("2001:2:0:1::1", p.server);
  ck_assert_int_eq(lvpn__tun_plan_ipv6(&plan, &p, err, sizeof(err)), 0);
  ck_assert(!plan.has_server6_route);
  p.redirect = 1;
  p.has_ifconfig = 0;
  ck_assert_int_eq(lvpn__tun_plan_ipv6(&plan, &p, err, sizeof(err)), 0);
  ck_assert_uint_eq(plan.n_routes6, 1);
  lvpn__tun_plan_free(&plan);
}
END_TEST

/* persist-tun: a copied plan is the same; any route or address change is
 * not; the previous gateway found when applying does not count. */
START_TEST(test_tun_plan_copy_and_same) {
  lvpn__tun_route4_param_t r4 = {IP4(198, 19, 100, 0), IP4(255, 255, 255, 0),
                                 0, 0, 0};
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_plan_t a, b;
  char err[128];

  subnet4(&p4);
  p4.routes = &r4;
  p4.n_routes = 1;
  p4.redirect_def1 = 1;
  p4.server = IP4(198, 18, 0, 1);
  lvpn__tun_plan_init(&a);
  lvpn__tun_plan_init(&b);
  ck_assert_int_eq(lvpn__tun_plan_ipv4(&a, &p4, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn__tun_plan_copy(&b, &a), 0);
  ck_assert_ptr_ne(b.routes4, a.routes4);
  ck_assert(lvpn__tun_plan_same(&a, &b));
  b.net_gateway = IP4(198, 18, 0, 254);
  b.net_ifindex = 7;
  ck_assert(lvpn__tun_plan_same(&a, &b));
  b.routes4[2].metric = 5;
  ck_assert(!lvpn__tun_plan_same(&a, &b));
  r4.net = IP4(198, 19, 101, 0);
  ck_assert_int_eq(lvpn__tun_plan_ipv4(&b, &p4, err, sizeof(err)), 0);
  ck_assert(!lvpn__tun_plan_same(&a, &b));
  ck_assert_int_eq(lvpn__tun_plan_copy(&b, &a), 0);
  b.addr4 = IP4(198, 19, 0, 3);
  ck_assert(!lvpn__tun_plan_same(&a, &b));
  ck_assert_int_eq(lvpn__tun_plan_copy(&b, &a), 0);
  b.block_local = 1; /* redirect-gateway block-local added */
  ck_assert(!lvpn__tun_plan_same(&a, &b));
  lvpn__tun_plan_free(&a);
  lvpn__tun_plan_free(&b);
}
END_TEST

/* Sum of 16-bit words, folded (RFC 1071). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum) {
  size_t i;
  for (i = 0; i + 1 < n; i += 2)
    sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1)
    sum += (uint32_t)(p[n - 1] << 8);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

/* block-ipv6: the ICMPv6 no-route answer, its checksum, the quote cut at
 * 1280 bytes; nothing for what is not IPv6. */
START_TEST(test_tun_icmp6_unreachable) {
  static uint8_t pkt[1500], out[1280];
  uint8_t src[16], pseudo[40];
  size_t n, len;

  memset(pkt, 0xab, sizeof(pkt));
  pkt[0] = 0x60;
  pkt[1] = 0x01; /* traffic class / flow */
  pkt[6] = 17;
  pkt[7] = 63;
  ip6("2001:2:0:8::1000", pkt + 8);
  ip6("2001:2:ffff::1", pkt + 24);
  ip6("2001:2:0:8::1", src);
  for (len = 60; len <= sizeof(pkt); len += sizeof(pkt) - 60) {
    n = lvpn__icmp6_unreachable(pkt, len, src, out, sizeof(out));
    ck_assert_uint_eq(n, len + 48 <= 1280 ? len + 48 : 1280);
    ck_assert_mem_eq(out, pkt, 4);
    ck_assert_uint_eq((size_t)(out[4] << 8 | out[5]), n - 40);
    ck_assert_uint_eq(out[6], 58);
    ck_assert_uint_eq(out[7], 63);
    ck_assert_mem_eq(out + 8, src, 16);
    ck_assert_mem_eq(out + 24, pkt + 8, 16);
    ck_assert_uint_eq(out[40], 1); /* destination unreachable */
    ck_assert_uint_eq(out[41], 0); /* no route */
    ck_assert_mem_eq(out + 48, pkt, n - 48);
    /* the checksum verifies: pseudo-header plus message sum to 0xffff */
    memcpy(pseudo, out + 8, 32);
    memset(pseudo + 32, 0, 8);
    pseudo[34] = (uint8_t)((n - 40) >> 8);
    pseudo[35] = (uint8_t)(n - 40);
    pseudo[39] = 58;
    ck_assert_uint_eq(sum16(out + 40, n - 40, sum16(pseudo, 40, 0)), 0xffff);
  }
  pkt[0] = 0x45;
  ck_assert_uint_eq(lvpn__icmp6_unreachable(pkt, 60, src, out, sizeof(out)),
                    0);
  pkt[0] = 0x60;
  ck_assert_uint_eq(lvpn__icmp6_unreachable(pkt, 39, src, out, sizeof(out)),
                    0);
}
END_TEST

/* ================= pure: scripts ================= */

static char tmpdir[64];

static void script_setup(void) {
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/lvpn_check_tun_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void script_teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", tmpdir);
}

static void write_script(const char *name, const char *body, char *path,
                         size_t len) {
  FILE *f;
  snprintf(path, len, "%s/%s", tmpdir, name);
  f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(body, f);
  fclose(f);
  ck_assert_int_eq(chmod(path, 0755), 0);
}

static char *slurp(const char *path) {
  static char buf[16384];
  size_t n;
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  n = fread(buf + 1, 1, sizeof(buf) - 2, f);
  fclose(f);
  buf[0] = '\n'; /* so every line can be matched as "\nNAME=value\n" */
  buf[n + 1] = '\0';
  return buf;
}

START_TEST(test_script_split_quoting) {
  char *argv[8], store[128];
  int n = lvpn__script_split(" /bin/x 'a b' \"c \\\"d\\\"\" e\\ f\t'g\\h' ",
                             argv, 8, store, sizeof(store));
  ck_assert_int_eq(n, 5);
  ck_assert_str_eq(argv[0], "/bin/x");
  ck_assert_str_eq(argv[1], "a b");
  ck_assert_str_eq(argv[2], "c \"d\"");
  ck_assert_str_eq(argv[3], "e f");
  ck_assert_str_eq(argv[4], "g\\h");
  ck_assert_ptr_null(argv[5]);
  ck_assert_int_eq(lvpn__script_split("", argv, 8, store, sizeof(store)),
                   LVPN_EINVAL);
  ck_assert_int_eq(lvpn__script_split("  \t ", argv, 8, store, sizeof(store)),
                   LVPN_EINVAL);
  ck_assert_int_eq(
      lvpn__script_split("/bin/x 'open", argv, 8, store, sizeof(store)),
      LVPN_EINVAL);
  ck_assert_int_eq(
      lvpn__script_split("/bin/x end\\", argv, 8, store, sizeof(store)),
      LVPN_EINVAL);
  ck_assert_int_eq(
      lvpn__script_split("a b c d e f g h i", argv, 8, store, sizeof(store)),
      LVPN_EINVAL);
  ck_assert_int_eq(lvpn__script_split("abcdef", argv, 8, store, 4),
                   LVPN_EINVAL);
}
END_TEST

START_TEST(test_script_env_builder) {
  lvpn__script_env_t env;
  const char *const *list;
  char big[600];

  lvpn__script_env_init(&env);
  ck_assert_ptr_null(lvpn__script_env_list(&env)[0]);
  ck_assert_int_eq(lvpn__script_env_add(&env, "dev", "tun0"), 0);
  ck_assert_int_eq(lvpn__script_env_add_fmt(&env, "tun_mtu", "%d", 1500), 0);
  ck_assert_int_eq(lvpn__script_env_add(&env, "dev", "tun1"), 0); /* replace */
  ck_assert_int_eq(lvpn__script_env_add(&env, "empty", NULL), 0);
  ck_assert_int_eq(lvpn__script_env_add(&env, "", "x"), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__script_env_add(&env, "a=b", "x"), LVPN_EINVAL);
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  ck_assert_int_eq(lvpn__script_env_add_fmt(&env, "big", "%s", big), 0);
  ck_assert_uint_eq(strlen(lvpn__script_env_get(&env, "big")), 599);
  ck_assert_str_eq(lvpn__script_env_get(&env, "dev"), "tun1");
  ck_assert_str_eq(lvpn__script_env_get(&env, "empty"), "");
  ck_assert_ptr_null(lvpn__script_env_get(&env, "de"));
  list = lvpn__script_env_list(&env);
  ck_assert_str_eq(list[0], "dev=tun1");
  ck_assert_str_eq(list[1], "tun_mtu=1500");
  ck_assert_ptr_null(list[4]);
  lvpn__script_env_free(&env);
}
END_TEST

static const char *const dhcp_opts[] = {"DNS 198.19.0.1", "DOMAIN vpn.example"};

/* The scripts' route variables: `route` options numbered in plan order
 * (def1's routes are not options), the metric only when given, a
 * net_gateway route that found nothing keeps its number; route-ipv6 with
 * its gateway (the ifconfig-ipv6 remote by default). */
START_TEST(test_script_env_routes) {
  lvpn__tun_route4_param_t r[3];
  lvpn__tun_route6_param_t r6;
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_ipv6_params_t p6;
  lvpn__tun_plan_t plan;
  lvpn__script_env_t env;

  memset(r, 0, sizeof(r));
  r[0].net = IP4(198, 19, 77, 0);
  r[0].mask = IP4(255, 255, 255, 0);
  r[0].metric = 5;
  r[0].kw = LVPN__TUN_RT_METRIC;
  r[1].net = IP4(198, 19, 88, 0);
  r[1].mask = IP4(255, 255, 255, 0);
  r[1].kw = LVPN__TUN_RT_NET_GW;
  r[2].net = IP4(198, 19, 100, 7);
  r[2].mask = IP4(255, 255, 255, 0);
  subnet4(&p4);
  p4.routes = r;
  p4.n_routes = 3;
  p4.redirect_def1 = 1;
  lab6(&p6, &r6, "2001:2:ff02::", 48);
  r6.metric = 9;
  r6.metric_set = 1;
  plan_from(&plan, 0, &p4, &p6);
  plan.routes4[3].skip = 1; /* no net_gateway found */

  lvpn__script_env_init(&env);
  ck_assert_int_eq(lvpn__script_env_routes(&env, &plan), 0);
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_network_1"),
                   "198.19.77.0");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_netmask_1"),
                   "255.255.255.0");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_gateway_1"),
                   "198.19.0.1");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_metric_1"), "5");
  ck_assert_ptr_null(lvpn__script_env_get(&env, "route_network_2"));
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_network_3"),
                   "198.19.100.0");
  ck_assert_ptr_null(lvpn__script_env_get(&env, "route_metric_3"));
  ck_assert_ptr_null(lvpn__script_env_get(&env, "route_network_4"));
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_network_1"),
                   "2001:2:ff02::/48");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_gateway_1"),
                   "2001:2:0:8::1");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_metric_1"), "9");
  ck_assert_uint_eq(env.n, 10);
  lvpn__script_env_free(&env);
  lvpn__tun_plan_free(&plan);

  /* redirect-gateway ipv6 with an IPv6 server it covers, found on-link:
   * the server's /128 first (gateway ::, metric 1), the route-ipv6, then
   * the four redirect routes (OpenVPN's order) */
  p6.redirect = 1;
  p6.has_server = 1;
  ip6("2001:2:0:1::1", p6.server);
  plan_from(&plan, 0, &p4, &p6);
  plan.net6_looked_up = 1; /* as lvpn__tun_apply_ifconfig finds it */
  plan.net6_has_gateway = 0;
  lvpn__script_env_init(&env);
  ck_assert_int_eq(lvpn__script_env_routes(&env, &plan), 0);
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_network_1"),
                   "2001:2:0:1::1/128");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_gateway_1"), "::");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_metric_1"), "1");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_network_2"),
                   "2001:2:ff02::/48");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_network_3"),
                   "::/3");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_gateway_3"),
                   "2001:2:0:8::1");
  ck_assert_str_eq(lvpn__script_env_get(&env, "route_ipv6_network_6"),
                   "fc00::/7");
  ck_assert_ptr_null(lvpn__script_env_get(&env, "route_ipv6_network_7"));
  lvpn__script_env_free(&env);
  lvpn__tun_plan_free(&plan);
}
END_TEST

static void fill_info(lvpn__script_info_t *in) {
  memset(in, 0, sizeof(*in));
  in->script_type = "up";
  in->dev = "tun0";
  in->tun_mtu = 1500;
  in->topology = LVPN__TOPOLOGY_SUBNET;
  in->ifconfig_local = "198.19.0.2";
  in->ifconfig_remote_netmask = "255.255.255.0";
  in->ifconfig_ipv6_local = "2001:2:0:8::1000";
  in->ifconfig_ipv6_netbits = 64;
  in->ifconfig_ipv6_remote = "2001:2:0:8::1";
  in->route_vpn_gateway = "198.19.0.1";
  in->route_net_gateway = "198.18.0.1";
  in->dhcp_options = dhcp_opts;
  in->n_dhcp_options = 2;
  in->common_name = "server";
  in->trusted_ip = "198.18.50.1";
  in->trusted_port = 1194;
  in->untrusted_ip = "198.18.50.1";
  in->untrusted_port = 1194;
  in->remote_1 = "vpn.example";
  in->remote_port_1 = 1194;
  in->verb = 3;
  in->config = "client.conf";
}

START_TEST(test_script_env_standard) {
  lvpn__script_env_t env;
  lvpn__script_info_t in;

  fill_info(&in);
  lvpn__script_env_init(&env);
  ck_assert_int_eq(lvpn__script_env_standard(&env, &in), 0);
  ck_assert_str_eq(lvpn__script_env_get(&env, "dev"), "tun0");
  ck_assert_str_eq(lvpn__script_env_get(&env, "dev_type"), "tun");
  ck_assert_str_eq(lvpn__script_env_get(&env, "script_type"), "up");
  ck_assert_str_eq(lvpn__script_env_get(&env, "script_context"), "init");
  ck_assert_str_eq(lvpn__script_env_get(&env, "tun_mtu"), "1500");
  ck_assert_ptr_null(lvpn__script_env_get(&env, "link_mtu"));
  ck_assert_str_eq(lvpn__script_env_get(&env, "ifconfig_netmask"),
                   "255.255.255.0");
  ck_assert_ptr_null(lvpn__script_env_get(&env, "ifconfig_remote"));
  ck_assert_str_eq(lvpn__script_env_get(&env, "ifconfig_ipv6_netbits"), "64");
  ck_assert_str_eq(lvpn__script_env_get(&env, "foreign_option_1"),
                   "dhcp-option DNS 198.19.0.1");
  ck_assert_str_eq(lvpn__script_env_get(&env, "foreign_option_2"),
                   "dhcp-option DOMAIN vpn.example");
  ck_assert_ptr_null(lvpn__script_env_get(&env, "foreign_option_3"));
  ck_assert_str_eq(lvpn__script_env_get(&env, "trusted_ip"), "198.18.50.1");
  ck_assert_str_eq(lvpn__script_env_get(&env, "trusted_port"), "1194");
  ck_assert_str_eq(lvpn__script_env_get(&env, "untrusted_port"), "1194");
  ck_assert_str_eq(lvpn__script_env_get(&env, "remote_1"), "vpn.example");
  ck_assert_str_eq(lvpn__script_env_get(&env, "verb"), "3");
  ck_assert_str_eq(lvpn__script_env_get(&env, "config"), "client.conf");
  lvpn__script_env_free(&env);

  /* net30: ifconfig_remote; IPv6 transport: trusted_ip6; link_mtu given */
  in.topology = LVPN__TOPOLOGY_NET30;
  in.ifconfig_remote_netmask = "198.19.0.5";
  in.trusted_ip = "2001:2::50";
  in.link_mtu = 1541;
  in.script_type = "down";
  lvpn__script_env_init(&env);
  ck_assert_int_eq(lvpn__script_env_standard(&env, &in), 0);
  ck_assert_str_eq(lvpn__script_env_get(&env, "ifconfig_remote"), "198.19.0.5");
  ck_assert_ptr_null(lvpn__script_env_get(&env, "ifconfig_netmask"));
  ck_assert_str_eq(lvpn__script_env_get(&env, "trusted_ip6"), "2001:2::50");
  ck_assert_ptr_null(lvpn__script_env_get(&env, "trusted_ip"));
  ck_assert_str_eq(lvpn__script_env_get(&env, "link_mtu"), "1541");
  ck_assert_str_eq(lvpn__script_env_get(&env, "script_type"), "down");
  lvpn__script_env_free(&env);
}
END_TEST

START_TEST(test_script_updown_env_and_args) {
  static const char body[] =
      "#!/bin/sh\n"
      "{ for a in \"$@\"; do echo \"arg=$a\"; done; env; } > \"$OUT\"\n";
  lvpn__script_env_t extra;
  lvpn__script_info_t in;
  char path[128], cmd[256], out[128];
  const char *text;
  int status = -5;

  setenv("LVPN_CHECK_TUN_LEAK", "1", 1);
  write_script("up.sh", body, path, sizeof(path));
  snprintf(out, sizeof(out), "%s/out.txt", tmpdir);
  snprintf(cmd, sizeof(cmd), "%s 'first arg' second", path);
  fill_info(&in);
  lvpn__script_env_init(&extra);
  ck_assert_int_eq(lvpn__script_env_add(&extra, "OUT", out), 0);
  ck_assert_int_eq(lvpn__script_run_updown(cmd, &in, &extra, &status), 0);
  ck_assert_int_eq(status, 0);
  text = slurp(out);
  ck_assert_ptr_nonnull(strstr(text, "\narg=first arg\narg=second\n"
                                     "arg=tun0\narg=1500\narg=0\n"
                                     "arg=198.19.0.2\narg=255.255.255.0\n"
                                     "arg=init\n"));
  ck_assert_ptr_nonnull(
      strstr(text, "\nforeign_option_1=dhcp-option DNS 198.19.0.1\n"));
  ck_assert_ptr_nonnull(strstr(text, "\ndev=tun0\n"));
  ck_assert_ptr_nonnull(strstr(text, "\nifconfig_local=198.19.0.2\n"));
  ck_assert_ptr_nonnull(strstr(text, "\nscript_context=init\n"));
  ck_assert_ptr_nonnull(strstr(text, "\nPATH="));
  ck_assert_ptr_null(strstr(text, "LVPN_CHECK_TUN_LEAK")); /* not inherited */
  lvpn__script_env_free(&extra);
  unsetenv("LVPN_CHECK_TUN_LEAK");
}
END_TEST

START_TEST(test_script_empty_values_stay_arguments) {
  static const char body[] = "#!/bin/sh\necho \"$#:$4:$5:$6\" > \"$OUT\"\n";
  const char *env[3];
  char path[128], out[128], var[160];
  lvpn__script_info_t in;
  lvpn__script_env_t extra;
  int status;

  write_script("down.sh", body, path, sizeof(path));
  snprintf(out, sizeof(out), "%s/out.txt", tmpdir);
  memset(&in, 0, sizeof(in));
  in.dev = "tun3";
  in.script_type = "down";
  lvpn__script_env_init(&extra);
  ck_assert_int_eq(lvpn__script_env_add(&extra, "OUT", out), 0);
  ck_assert_int_eq(lvpn__script_run_updown(path, &in, &extra, &status), 0);
  ck_assert_int_eq(status, 0);
  ck_assert_str_eq(slurp(out), "\n6:::init\n");
  lvpn__script_env_free(&extra);

  /* plain run: explicit PATH in the list is kept, no args appended */
  snprintf(var, sizeof(var), "OUT=%s", out);
  env[0] = var;
  env[1] = "PATH=/bin:/usr/bin";
  env[2] = NULL;
  ck_assert_int_eq(lvpn__script_run(path, NULL, env, &status), 0);
  ck_assert_str_eq(slurp(out), "\n0:::\n");
}
END_TEST

START_TEST(test_script_exit_status_and_failures) {
  char path[128], cmd[160];
  int status = -5;

  write_script("fail.sh", "#!/bin/sh\nexit 3\n", path, sizeof(path));
  ck_assert_int_eq(lvpn__script_run(path, NULL, NULL, &status), 0);
  ck_assert_int_eq(status, 3);

  write_script("kill.sh", "#!/bin/sh\nkill -TERM $$\nsleep 5\n", path,
               sizeof(path));
  ck_assert_int_eq(lvpn__script_run(path, NULL, NULL, &status), LVPN_ESCRIPT);
  ck_assert_int_eq(status, 128 + 15);

  snprintf(cmd, sizeof(cmd), "%s/missing.sh arg", tmpdir);
  ck_assert_int_eq(lvpn__script_run(cmd, NULL, NULL, &status), UV_ENOENT);
  ck_assert_int_eq(status, -1);

  write_script("noexec.sh", "#!/bin/sh\nexit 0\n", path, sizeof(path));
  ck_assert_int_eq(chmod(path, 0644), 0);
  ck_assert_int_eq(lvpn__script_run(path, NULL, NULL, &status), UV_EACCES);

  ck_assert_int_eq(lvpn__script_run("'unbalanced", NULL, NULL, &status),
                   LVPN_EINVAL);
  ck_assert_int_eq(lvpn__script_run("   ", NULL, NULL, &status), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__script_run(NULL, NULL, NULL, &status), LVPN_EINVAL);
}
END_TEST

/* ================= root: real devices in a private netns ================= */

static void netns_setup(void) {
  /* A fresh namespace per test (also without fork: CK_FORK=no). */
  ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
}

static int if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;
  ck_assert_int_ge(s, 0);
  memset(ifr, 0, sizeof(*ifr));
  snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
  r = ioctl(s, req, ifr);
  close(s);
  return r;
}

static uint32_t if_addr4(const char *ifname, unsigned long req) {
  struct ifreq ifr;
  if (if_ioctl(ifname, req, &ifr) < 0)
    return 0;
  return ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr);
}

/* Does /proc/net/route list dst/prefix via gw on ifname? (gw 0: any) */
static int proc_route4(const char *ifname, uint32_t dst, unsigned int prefix,
                       uint32_t gw) {
  char line[256], dev[IFNAMSIZ + 1];
  unsigned int d, g, flags, refc, use, metric, mask;
  FILE *f = fopen("/proc/net/route", "r");
  int found = 0;
  ck_assert_ptr_nonnull(f);
  while (fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, "%16s %x %x %x %u %u %u %x", dev, &d, &g, &flags, &refc,
               &use, &metric, &mask) != 8)
      continue;
    if ((ifname == NULL || strcmp(dev, ifname) == 0) && ntohl(d) == dst &&
        ntohl(mask) == lvpn__prefix_to_netmask(prefix) &&
        (gw == 0 || ntohl(g) == gw))
      found = 1;
  }
  fclose(f);
  return found;
}

/* Count lines of a /proc file that mention both `a` and `b`. */
static int proc_lines(const char *file, const char *a, const char *b) {
  char line[512];
  int n = 0;
  FILE *f = fopen(file, "r");
  if (f == NULL)
    return 0;
  while (fgets(line, sizeof(line), f) != NULL)
    if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
      n++;
  fclose(f);
  return n;
}

/* The root tests' start: TUN device `want` (its name in name) and a
 * netlink context. */
static void dev_open(const char *want, char *name, int *fd, lvpn__nl_t *nl) {
  ck_assert_int_eq(lvpn__tun_open(want, NULL, name, fd), 0);
  ck_assert_int_eq(lvpn__nl_open(nl, NULL), 0);
}

/* The root tests' end; plan may be NULL. */
static void dev_close(int fd, lvpn__nl_t *nl, lvpn__tun_plan_t *plan) {
  if (plan != NULL)
    lvpn__tun_plan_free(plan);
  lvpn__nl_close(nl);
  lvpn__tun_close(fd);
}

/* Applies plan to device name; a failure names netlink's error. */
static void apply_ok(lvpn__nl_t *nl, const char *name,
                     lvpn__tun_plan_t *plan) {
  ck_assert_msg(lvpn__tun_apply_plan(nl, name, plan) == 0, "%s",
                lvpn__nl_last_error(nl));
}

START_TEST(test_tun_open_names) {
  char name[LVPN__IFNAMSIZ], name2[LVPN__IFNAMSIZ];
  int fd = -1, fd2 = -1, fl;
  uint8_t buf[64];

  ck_assert_int_eq(lvpn__tun_open("tun", NULL, name, &fd), 0);
  ck_assert_str_eq(name, "tun0");
  ck_assert_int_eq(lvpn__tun_open(NULL, NULL, name2, &fd2), 0);
  ck_assert_str_eq(name2, "tun1");
  lvpn__tun_close(fd2);
  ck_assert_int_eq(lvpn__tun_open("lvpntest0", NULL, name2, &fd2), 0);
  ck_assert_str_eq(name2, "lvpntest0");
  ck_assert_uint_gt(if_nametoindex("lvpntest0"), 0);
  fl = fcntl(fd2, F_GETFL);
  ck_assert(fl & O_NONBLOCK);
  ck_assert(fcntl(fd2, F_GETFD) & FD_CLOEXEC);
  ck_assert_int_eq(read(fd2, buf, sizeof(buf)), -1);
  ck_assert_int_eq(errno, EAGAIN);
  /* the same name again while attached: busy */
  ck_assert_int_eq(lvpn__tun_open("lvpntest0", NULL, name, &fl), UV_EBUSY);
  ck_assert_int_eq(lvpn__tun_open("a-name-far-too-long", NULL, name, &fl), UV_EINVAL);
  lvpn__tun_close(fd2);
  ck_assert_uint_eq(if_nametoindex("lvpntest0"), 0); /* gone with the fd */
  lvpn__tun_close(fd);
  lvpn__tun_close(-1);
}
END_TEST

/* dev-node: a copy of the clone device (char 10:200) under another path
 * opens a device, plain and with offloads; a missing path and a file that
 * is no clone device give their errors. The node goes in a fresh directory
 * under /tmp, or /dev where /tmp is mounted nodev. */
START_TEST(test_tun_open_dev_node) {
  static const char *const bases[] = {"/tmp", "/dev"};
  char dir[64], node[80], file[80], name[LVPN__IFNAMSIZ], why[128];
  unsigned offload;
  int fd = -1, fd2 = -1, fl = -1, err = -1;
  size_t i;

  for (i = 0; i < 2 && err != 0; i++) {
    snprintf(dir, sizeof(dir), "%s/lvpn-devnode-XXXXXX", bases[i]);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(node, sizeof(node), "%s/tun", dir);
    ck_assert_int_eq(mknod(node, S_IFCHR | 0600, makedev(10, 200)), 0);
    err = lvpn__tun_open("lvpnnode0", node, name, &fd);
    if (err != 0) { /* nodev: EACCES */
      unlink(node);
      rmdir(dir);
    }
  }
  ck_assert_int_eq(err, 0);
  ck_assert_str_eq(name, "lvpnnode0");
  ck_assert_uint_gt(if_nametoindex("lvpnnode0"), 0);
  ck_assert_int_eq(lvpn__tun_open_offload("lvpnnode1", node, name, &fd2,
                                          &offload, why, sizeof(why)),
                   0);
  ck_assert_str_eq(name, "lvpnnode1");
  ck_assert_int_eq(lvpn__tun_open("lvpnnode2", "/nonexistent/net/tun", name,
                                  &fl),
                   UV_ENOENT);
  snprintf(file, sizeof(file), "%s/file", dir);
  fl = open(file, O_CREAT | O_WRONLY, 0600);
  ck_assert_int_ge(fl, 0);
  close(fl);
  ck_assert_int_eq(lvpn__tun_open("lvpnnode2", file, name, &fl), UV_ENOTTY);
  ck_assert_uint_eq(if_nametoindex("lvpnnode2"), 0);
  lvpn__tun_close(fd2);
  lvpn__tun_close(fd);
  ck_assert_int_eq(unlink(file), 0);
  ck_assert_int_eq(unlink(node), 0);
  ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_tun_configure_subnet) {
  lvpn__tun_route4_param_t route = {IP4(198, 19, 100, 0), IP4(255, 255, 255, 0),
                                    0, 0, 0};
  lvpn__tun_route6_param_t route6;
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_ipv6_params_t p6;
  lvpn__tun_plan_t plan;
  lvpn__nl_t nl;
  struct ifreq ifr;
  char name[LVPN__IFNAMSIZ];
  uint32_t gw = 0;
  int fd, idx = 0, tun_idx;

  dev_open("tun", name, &fd, &nl);
  tun_idx = lvpn__nl_ifindex(&nl, name);
  ck_assert_int_gt(tun_idx, 0);

  subnet4(&p4);
  p4.routes = &route;
  p4.n_routes = 1;
  lab6(&p6, &route6, "2001:2:0:100::", 56);
  plan_from(&plan, 1400, &p4, &p6);
  apply_ok(&nl, name, &plan);
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 4);

  ck_assert_int_eq(if_ioctl(name, SIOCGIFMTU, &ifr), 0);
  ck_assert_int_eq(ifr.ifr_mtu, 1400);
  ck_assert_int_eq(if_ioctl(name, SIOCGIFFLAGS, &ifr), 0);
  ck_assert(ifr.ifr_flags & IFF_UP);
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), IP4(198, 19, 0, 2));
  ck_assert_uint_eq(if_addr4(name, SIOCGIFNETMASK), IP4(255, 255, 255, 0));
  ck_assert(proc_route4(name, IP4(198, 19, 100, 0), 24, IP4(198, 19, 0, 1)));
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 19, 100, 9), &gw, &idx),
                   0);
  ck_assert_uint_eq(gw, IP4(198, 19, 0, 1));
  ck_assert_int_eq(idx, tun_idx);
  ck_assert_int_eq(proc_lines("/proc/net/if_inet6",
                              "20010002000000080000000000001000 ", name),
                   1);
  ck_assert_int_eq(proc_lines("/proc/net/ipv6_route",
                              "20010002000001000000000000000000 38 ", name),
                   1);
  /* applying twice: everything exists already, nothing more journaled */
  ck_assert_int_eq(lvpn__tun_apply_plan(&nl, name, &plan), 0);
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 4);

  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 0);
  ck_assert(!proc_route4(name, IP4(198, 19, 100, 0), 24, 0));
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), 0);
  ck_assert_int_eq(proc_lines("/proc/net/if_inet6", "2001000200", NULL), 0);
  ck_assert_int_eq(proc_lines("/proc/net/ipv6_route", "2001000200", NULL), 0);
  dev_close(fd, &nl, &plan);
}
END_TEST

/* PUSH_UPDATE: from plan A (routes 100 and 101, an IPv6 route, MTU 1400)
 * to plan B (100 via another gateway, 102, no IPv6 route, MTU 1300, a new
 * address) on the live device. */
START_TEST(test_tun_update_plan_by_difference) {
  lvpn__tun_route4_param_t ra[2] = {
      {IP4(198, 19, 100, 0), IP4(255, 255, 255, 0), 0, 0, 0},
      {IP4(198, 19, 101, 0), IP4(255, 255, 255, 0), 0, 0, 0}};
  lvpn__tun_route4_param_t rb[2] = {
      {IP4(198, 19, 100, 0), IP4(255, 255, 255, 0), IP4(198, 19, 0, 3), 0, 0},
      {IP4(198, 19, 102, 0), IP4(255, 255, 255, 0), 0, 0, 0}};
  lvpn__tun_route6_param_t route6;
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_ipv6_params_t p6;
  lvpn__tun_plan_t a, b;
  lvpn__nl_t nl;
  struct ifreq ifr;
  char name[LVPN__IFNAMSIZ];
  int fd;

  dev_open("tun", name, &fd, &nl);
  subnet4(&p4);
  p4.routes = ra;
  p4.n_routes = 2;
  lab6(&p6, &route6, "2001:2:0:100::", 56);
  plan_from(&a, 1400, &p4, &p6);
  apply_ok(&nl, name, &a);
  ck_assert(proc_route4(name, IP4(198, 19, 101, 0), 24, IP4(198, 19, 0, 1)));

  p4.ifconfig_local = IP4(198, 19, 0, 9);
  p4.routes = rb;
  p6.n_routes = 0;
  plan_from(&b, 1300, &p4, &p6);
  ck_assert_msg(lvpn__tun_update_plan(&nl, name, &a, &b) == 0, "%s",
                lvpn__nl_last_error(&nl));
  ck_assert(proc_route4(name, IP4(198, 19, 100, 0), 24, IP4(198, 19, 0, 3)));
  ck_assert(!proc_route4(name, IP4(198, 19, 100, 0), 24, IP4(198, 19, 0, 1)));
  ck_assert(!proc_route4(name, IP4(198, 19, 101, 0), 24, 0));
  ck_assert(proc_route4(name, IP4(198, 19, 102, 0), 24, IP4(198, 19, 0, 1)));
  ck_assert_int_eq(proc_lines("/proc/net/ipv6_route",
                              "20010002000001000000000000000000 38 ", name),
                   0);
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), IP4(198, 19, 0, 9));
  ck_assert_int_eq(if_ioctl(name, SIOCGIFMTU, &ifr), 0);
  ck_assert_int_eq(ifr.ifr_mtu, 1300);
  /* the same update again changes nothing and fails on nothing */
  ck_assert_int_eq(lvpn__tun_update_plan(&nl, name, &b, &b), 0);
  ck_assert(proc_route4(name, IP4(198, 19, 102, 0), 24, 0));
  /* teardown removes what either plan added */
  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);
  ck_assert(!proc_route4(name, IP4(198, 19, 100, 0), 24, 0));
  ck_assert(!proc_route4(name, IP4(198, 19, 102, 0), 24, 0));
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), 0);
  lvpn__tun_plan_free(&b);
  dev_close(fd, &nl, &a);
}
END_TEST

/* persist-tun with other routes pushed: the new set goes in, the routes
 * still wanted stay (never removed), the others go, the journal holds the
 * new set only. */
START_TEST(test_tun_replace_routes_without_gap) {
  lvpn__tun_route4_param_t a[2] = {
      {IP4(198, 19, 100, 0), IP4(255, 255, 255, 0), 0, 0, 0},
      {IP4(198, 19, 101, 0), IP4(255, 255, 255, 0), 0, 0, 0}};
  lvpn__tun_route4_param_t b[2] = {
      {IP4(198, 19, 100, 0), IP4(255, 255, 255, 0), 0, 0, 0},
      {IP4(198, 19, 102, 0), IP4(255, 255, 255, 0), 0, 0, 0}};
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_plan_t plan;
  lvpn__nl_t nl;
  char name[LVPN__IFNAMSIZ], err[128];
  int fd;

  dev_open("tun", name, &fd, &nl);
  subnet4(&p4);
  p4.routes = a;
  p4.n_routes = 2;
  plan_from(&plan, 0, &p4, NULL);
  ck_assert_int_eq(lvpn__tun_apply_plan(&nl, name, &plan), 0);
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 3);

  p4.routes = b;
  ck_assert_int_eq(lvpn__tun_plan_ipv4(&plan, &p4, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn__nl_replace_begin(&nl), 0);
  ck_assert_int_eq(lvpn__tun_apply_plan(&nl, name, &plan), 0);
  /* before the end: old and new side by side */
  ck_assert(proc_route4(name, IP4(198, 19, 101, 0), 24, IP4(198, 19, 0, 1)));
  ck_assert(proc_route4(name, IP4(198, 19, 102, 0), 24, IP4(198, 19, 0, 1)));
  ck_assert_int_eq(lvpn__nl_replace_end(&nl), 0);
  ck_assert(proc_route4(name, IP4(198, 19, 100, 0), 24, IP4(198, 19, 0, 1)));
  ck_assert(!proc_route4(name, IP4(198, 19, 101, 0), 24, 0));
  ck_assert(proc_route4(name, IP4(198, 19, 102, 0), 24, IP4(198, 19, 0, 1)));
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), IP4(198, 19, 0, 2));
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 3);

  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);
  ck_assert(!proc_route4(name, IP4(198, 19, 100, 0), 24, 0));
  ck_assert(!proc_route4(name, IP4(198, 19, 102, 0), 24, 0));
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), 0);
  dev_close(fd, &nl, &plan);
}
END_TEST

START_TEST(test_tun_configure_net30_peer) {
  lvpn__tun_route4_param_t route = {IP4(198, 19, 100, 0), IP4(255, 255, 255, 0),
                                    0, 0, 0};
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_plan_t plan;
  lvpn__nl_t nl;
  char name[LVPN__IFNAMSIZ];
  int fd;

  dev_open("lvpntest0", name, &fd, &nl);
  net30(&p4, &route);
  plan_from(&plan, 0, &p4, NULL);
  apply_ok(&nl, name, &plan);
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), IP4(198, 19, 0, 6));
  ck_assert_uint_eq(if_addr4(name, SIOCGIFDSTADDR), IP4(198, 19, 0, 5));
  ck_assert(proc_route4(name, IP4(198, 19, 0, 5), 32, 0)); /* peer route */
  ck_assert(proc_route4(name, IP4(198, 19, 100, 0), 24, IP4(198, 19, 0, 5)));
  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), 0);
  ck_assert(!proc_route4(name, IP4(198, 19, 100, 0), 24, 0));
  dev_close(fd, &nl, &plan);
}
END_TEST

/* The "previous" network: tun `want` with 198.18.0.2/24 and the default
 * route via 198.18.0.1, set up by a separate netlink context so the tested
 * one's undo cannot touch it. Returns its ifindex. */
static int wan_open(const char *want, char *name, int *fd, lvpn__nl_t *nl) {
  int idx;
  ck_assert_int_eq(lvpn__tun_open(want, NULL, name, fd), 0);
  ck_assert_int_eq(lvpn__nl_open(nl, NULL), 0);
  idx = lvpn__nl_ifindex(nl, name);
  ck_assert_int_eq(lvpn__nl_link_up(nl, name), 0);
  ck_assert_int_eq(lvpn__nl_addr_add4(nl, idx, IP4(198, 18, 0, 2), 24, 0), 0);
  ck_assert_int_eq(lvpn__nl_route_add4(nl, 0, 0, IP4(198, 18, 0, 1), idx, 0),
                   0);
  return idx;
}

/* wan_open's end: its address and default route undone, closed. */
static void wan_close(int fd, lvpn__nl_t *nl) {
  ck_assert_int_eq(lvpn__nl_undo_all(nl), 0);
  lvpn__nl_close(nl);
  lvpn__tun_close(fd);
}

START_TEST(test_tun_def1_keeps_server_on_previous_gateway) {
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_plan_t plan;
  lvpn__nl_t wan_nl, nl;
  char wan[LVPN__IFNAMSIZ], name[LVPN__IFNAMSIZ];
  uint32_t gw = 0;
  int wan_fd, fd, wan_idx, tun_idx, idx = 0;

  wan_idx = wan_open("lvpnwan0", wan, &wan_fd, &wan_nl);
  ck_assert_int_eq(lvpn__nl_route_get4(&wan_nl, IP4(198, 18, 50, 1), &gw, &idx),
                   0);
  ck_assert_uint_eq(gw, IP4(198, 18, 0, 1));
  ck_assert_int_eq(idx, wan_idx);

  dev_open("tun", name, &fd, &nl);
  tun_idx = lvpn__nl_ifindex(&nl, name);
  subnet4(&p4);
  p4.redirect_def1 = 1;
  p4.server = IP4(198, 18, 50, 1);
  plan_from(&plan, 0, &p4, NULL);
  apply_ok(&nl, name, &plan);
  ck_assert_uint_eq(plan.net_gateway, IP4(198, 18, 0, 1));
  ck_assert_int_eq(plan.net_ifindex, wan_idx);

  ck_assert(proc_route4(wan, IP4(198, 18, 50, 1), 32, IP4(198, 18, 0, 1)));
  ck_assert(proc_route4(name, 0, 1, IP4(198, 19, 0, 1)));
  ck_assert(proc_route4(name, IP4(128, 0, 0, 0), 1, IP4(198, 19, 0, 1)));
  /* the server still leaves through the old gateway, the rest via VPN */
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 18, 50, 1), &gw, &idx), 0);
  ck_assert_uint_eq(gw, IP4(198, 18, 0, 1));
  ck_assert_int_eq(idx, wan_idx);
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 19, 200, 1), &gw, &idx),
                   0);
  ck_assert_uint_eq(gw, IP4(198, 19, 0, 1));
  ck_assert_int_eq(idx, tun_idx);

  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);
  ck_assert(!proc_route4(NULL, IP4(198, 18, 50, 1), 32, 0));
  ck_assert(!proc_route4(NULL, 0, 1, 0));
  ck_assert(!proc_route4(NULL, IP4(128, 0, 0, 0), 1, 0));
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), 0);
  ck_assert(proc_route4(wan, 0, 0, IP4(198, 18, 0, 1))); /* not ours: kept */

  dev_close(fd, &nl, &plan);
  ck_assert_int_eq(lvpn__nl_undo_all(&wan_nl), 0);
  ck_assert(!proc_route4(wan, 0, 0, 0));
  lvpn__nl_close(&wan_nl);
  lvpn__tun_close(wan_fd);
}
END_TEST

/* redirect-gateway block-local: the default gateway's LAN through the
 * tunnel in two halves, a host route keeping the gateway on the LAN; all
 * undone. Nothing is blocked when the server is on that LAN. A PUSH_UPDATE
 * dropping block-local takes its routes away. */
START_TEST(test_tun_block_local) {
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_plan_t plan, next;
  lvpn__nl_t wan_nl, nl;
  char wan[LVPN__IFNAMSIZ], name[LVPN__IFNAMSIZ];
  uint32_t gw = 0;
  unsigned int prefix = 0;
  int wan_fd, fd, wan_idx, tun_idx, idx = 0;

  wan_idx = wan_open("lvpnlan0", wan, &wan_fd, &wan_nl);
  ck_assert_int_eq(
      lvpn__nl_addr_subnet4(&wan_nl, wan_idx, IP4(198, 18, 0, 1), &prefix), 0);
  ck_assert_uint_eq(prefix, 24);
  ck_assert_int_eq(
      lvpn__nl_addr_subnet4(&wan_nl, wan_idx, IP4(198, 18, 1, 1), &prefix),
      UV_ENOENT);

  dev_open("tun", name, &fd, &nl);
  tun_idx = lvpn__nl_ifindex(&nl, name);
  subnet4(&p4);
  p4.redirect_def1 = 1;
  p4.server = p4.remote4 = IP4(198, 18, 50, 1);
  p4.block_local = 1;
  plan_from(&plan, 0, &p4, NULL);
  ck_assert(plan.block_local);
  ck_assert(!plan.lan_done); /* found when applied */
  apply_ok(&nl, name, &plan);
  ck_assert(plan.lan_done);
  ck_assert_uint_eq(plan.lan_net, IP4(198, 18, 0, 0));
  ck_assert_uint_eq(plan.lan_prefix, 24);
  ck_assert(proc_route4(name, IP4(198, 18, 0, 0), 25, IP4(198, 19, 0, 1)));
  ck_assert(proc_route4(name, IP4(198, 18, 0, 128), 25, IP4(198, 19, 0, 1)));
  ck_assert(proc_route4(wan, IP4(198, 18, 0, 1), 32, IP4(198, 18, 0, 1)));
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 18, 0, 77), &gw, &idx),
                   0);
  ck_assert_int_eq(idx, tun_idx);
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 18, 0, 200), &gw, &idx),
                   0);
  ck_assert_int_eq(idx, tun_idx);
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 18, 0, 1), &gw, &idx), 0);
  ck_assert_int_eq(idx, wan_idx);
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 18, 50, 1), &gw, &idx),
                   0);
  ck_assert_uint_eq(gw, IP4(198, 18, 0, 1));
  ck_assert_int_eq(idx, wan_idx);

  /* PUSH_UPDATE without block-local: the LAN is the LAN again */
  p4.block_local = 0;
  plan_from(&next, 0, &p4, NULL);
  ck_assert(!lvpn__tun_plan_same(&plan, &next));
  ck_assert_msg(lvpn__tun_update_plan(&nl, name, &plan, &next) == 0, "%s",
                lvpn__nl_last_error(&nl));
  ck_assert(!proc_route4(NULL, IP4(198, 18, 0, 0), 25, 0));
  ck_assert(!proc_route4(NULL, IP4(198, 18, 0, 128), 25, 0));
  ck_assert(!proc_route4(NULL, IP4(198, 18, 0, 1), 32, 0));
  lvpn__tun_plan_free(&next);

  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);
  ck_assert(!proc_route4(NULL, IP4(198, 18, 50, 1), 32, 0));
  ck_assert(!proc_route4(NULL, 0, 1, 0));
  lvpn__tun_plan_free(&plan);

  /* the server on the LAN: nothing blocked (as OpenVPN) */
  p4.block_local = 1;
  p4.server = p4.remote4 = IP4(198, 18, 0, 9);
  plan_from(&plan, 0, &p4, NULL);
  apply_ok(&nl, name, &plan);
  ck_assert(!plan.lan_done);
  ck_assert(!proc_route4(NULL, IP4(198, 18, 0, 0), 25, 0));
  ck_assert(!proc_route4(NULL, IP4(198, 18, 0, 1), 32, 0));
  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);

  dev_close(fd, &nl, &plan);
  wan_close(wan_fd, &wan_nl);
}
END_TEST

/* net_gateway routes: through the default gateway from before the tunnel,
 * on its interface (a net_gateway network is that gateway's address); a
 * remote_host gateway where the kernel puts it; a PUSH_UPDATE with the same
 * routes changes nothing, one without a route takes it away; all undone.
 * Without a default route the net_gateway routes are left out and the rest
 * is applied. */
START_TEST(test_tun_net_gateway_routes) {
  lvpn__tun_route4_param_t r[3];
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_plan_t plan, next;
  lvpn__nl_t wan_nl, nl;
  char wan[LVPN__IFNAMSIZ], name[LVPN__IFNAMSIZ];
  uint32_t gw = 0;
  int wan_fd, fd, wan_idx, tun_idx, idx = 0;

  wan_idx = wan_open("lvpnwan1", wan, &wan_fd, &wan_nl);
  dev_open("tun", name, &fd, &nl);
  tun_idx = lvpn__nl_ifindex(&nl, name);
  memset(r, 0, sizeof(r));
  r[0].net = IP4(198, 19, 88, 0); /* route 198.19.88.0 255.255.255.0 net_gateway */
  r[0].mask = IP4(255, 255, 255, 0);
  r[0].kw = LVPN__TUN_RT_NET_GW;
  r[1].net = IP4(198, 19, 99, 0); /* route 198.19.99.0 ... remote_host */
  r[1].mask = IP4(255, 255, 255, 0);
  r[1].gateway = IP4(198, 18, 0, 1);
  r[1].kw = LVPN__TUN_RT_OUTSIDE_GW;
  r[2].mask = 0xffffffffu; /* route net_gateway (into the tunnel) */
  r[2].kw = LVPN__TUN_RT_NET_DST;
  subnet4(&p4);
  p4.routes = r;
  p4.n_routes = 3;
  plan_from(&plan, 0, &p4, NULL);
  apply_ok(&nl, name, &plan);
  ck_assert_int_eq(plan.netgw_state, 1);
  ck_assert_uint_eq(plan.netgw, IP4(198, 18, 0, 1));
  ck_assert(proc_route4(wan, IP4(198, 19, 88, 0), 24, IP4(198, 18, 0, 1)));
  ck_assert(proc_route4(name, IP4(198, 18, 0, 1), 32, IP4(198, 19, 0, 1)));
  ck_assert(proc_route4(wan, IP4(198, 19, 99, 0), 24, IP4(198, 18, 0, 1)));
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 19, 88, 9), &gw, &idx),
                   0);
  ck_assert_uint_eq(gw, IP4(198, 18, 0, 1));
  ck_assert_int_eq(idx, wan_idx);
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 18, 0, 1), &gw, &idx), 0);
  ck_assert_int_eq(idx, tun_idx);

  /* the same routes pushed again: the same plan, nothing to do */
  plan_from(&next, 0, &p4, NULL);
  ck_assert(lvpn__tun_plan_same(&plan, &next));
  lvpn__tun_plan_free(&next);
  /* without the net_gateway network route */
  p4.n_routes = 2;
  plan_from(&next, 0, &p4, NULL);
  ck_assert(!lvpn__tun_plan_same(&plan, &next));
  ck_assert_msg(lvpn__tun_update_plan(&nl, name, &plan, &next) == 0, "%s",
                lvpn__nl_last_error(&nl));
  ck_assert(proc_route4(wan, IP4(198, 19, 88, 0), 24, IP4(198, 18, 0, 1)));
  ck_assert(!proc_route4(NULL, IP4(198, 18, 0, 1), 32, 0));
  ck_assert(proc_route4(wan, IP4(198, 19, 99, 0), 24, IP4(198, 18, 0, 1)));
  lvpn__tun_plan_free(&next);

  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);
  ck_assert(!proc_route4(NULL, IP4(198, 19, 88, 0), 24, 0));
  ck_assert(!proc_route4(NULL, IP4(198, 19, 99, 0), 24, 0));
  lvpn__tun_plan_free(&plan);

  /* no default route: the net_gateway route is left out, the rest goes in */
  ck_assert_int_eq(lvpn__nl_undo_all(&wan_nl), 0);
  ck_assert_int_eq(lvpn__nl_addr_add4(&wan_nl, wan_idx, IP4(198, 18, 0, 2), 24,
                                      0),
                   0);
  r[1].net = IP4(198, 19, 77, 0); /* through the tunnel */
  r[1].gateway = 0;
  r[1].kw = 0;
  plan_from(&plan, 0, &p4, NULL);
  apply_ok(&nl, name, &plan);
  ck_assert_int_eq(plan.netgw_state, -1);
  ck_assert(plan.routes4[0].skip);
  ck_assert(!proc_route4(NULL, IP4(198, 19, 88, 0), 24, 0));
  ck_assert(proc_route4(name, IP4(198, 19, 77, 0), 24, IP4(198, 19, 0, 1)));
  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);

  dev_close(fd, &nl, &plan);
  wan_close(wan_fd, &wan_nl);
}
END_TEST

/* ifconfig-noexec and route-noexec: the device as opened (no MTU, link,
 * address or route), the previous gateway still looked up; the two steps
 * of the apply one after the other do what the whole apply does. */
START_TEST(test_tun_noexec_and_steps) {
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_plan_t plan;
  lvpn__nl_t wan_nl, nl;
  char wan[LVPN__IFNAMSIZ], name[LVPN__IFNAMSIZ];
  struct ifreq ifr;
  int wan_fd, fd;

  wan_open("lvpnwan2", wan, &wan_fd, &wan_nl);
  dev_open("tun", name, &fd, &nl);
  subnet4(&p4);
  p4.redirect_def1 = 1;
  p4.server = IP4(198, 18, 50, 1);
  plan_from(&plan, 1400, &p4, NULL);
  plan.no_ifconfig = plan.no_routes = 1;
  apply_ok(&nl, name, &plan);
  ck_assert_uint_eq(plan.net_gateway, IP4(198, 18, 0, 1)); /* for scripts */
  ck_assert_int_eq(if_ioctl(name, SIOCGIFFLAGS, &ifr), 0);
  ck_assert(!(ifr.ifr_flags & IFF_UP));
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), 0);
  ck_assert_int_eq(if_ioctl(name, SIOCGIFMTU, &ifr), 0);
  ck_assert_int_ne(ifr.ifr_mtu, 1400);
  ck_assert(!proc_route4(NULL, 0, 1, 0));
  ck_assert(!proc_route4(NULL, IP4(198, 18, 50, 1), 32, 0));
  lvpn__tun_plan_free(&plan);

  /* routes only: the script has set the address (here: by hand) */
  plan_from(&plan, 0, &p4, NULL);
  plan.no_ifconfig = 1;
  ck_assert_int_eq(lvpn__nl_link_up(&wan_nl, name), 0);
  ck_assert_int_eq(lvpn__nl_addr_add4(&wan_nl, lvpn__nl_ifindex(&wan_nl, name),
                                      IP4(198, 19, 0, 2), 24, 0),
                   0);
  ck_assert_int_eq(lvpn__tun_apply_ifconfig(&nl, name, &plan), 0);
  ck_assert(!proc_route4(NULL, 0, 1, 0)); /* not yet */
  ck_assert_msg(lvpn__tun_apply_routes(&nl, name, &plan) == 0, "%s",
                lvpn__nl_last_error(&nl));
  ck_assert(proc_route4(name, 0, 1, IP4(198, 19, 0, 1)));
  ck_assert(proc_route4(wan, IP4(198, 18, 50, 1), 32, IP4(198, 18, 0, 1)));
  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);
  ck_assert(!proc_route4(NULL, 0, 1, 0));
  ck_assert_uint_eq(if_addr4(name, SIOCGIFADDR), IP4(198, 19, 0, 2)); /* not ours */

  dev_close(fd, &nl, &plan);
  wan_close(wan_fd, &wan_nl);
}
END_TEST

START_TEST(test_tun_netlink_errors_are_readable) {
  lvpn__nl_t nl;
  char name[LVPN__IFNAMSIZ];
  uint32_t gw;
  int fd, idx, r;

  dev_open("tun", name, &fd, &nl);
  ck_assert_str_eq(lvpn__nl_last_error(&nl), "");
  idx = lvpn__nl_ifindex(&nl, name);
  ck_assert_int_eq(lvpn__nl_link_up(&nl, name), 0);
  ck_assert_int_eq(lvpn__nl_addr_add4(&nl, idx, IP4(198, 19, 0, 2), 24, 0), 0);
  r = lvpn__nl_route_add4(&nl, IP4(198, 19, 100, 0), 24, IP4(198, 19, 55, 1),
                          idx, 0);
  ck_assert_int_eq(r, UV_ENETUNREACH);
  ck_assert_msg(strstr(lvpn__nl_last_error(&nl),
                       "RTM_NEWROUTE 198.19.100.0/24 via 198.19.55.1 dev "
                       "tun0: Network is unreachable") != NULL,
                "%s", lvpn__nl_last_error(&nl));
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 1); /* only the address */

  /* the same address again: EEXIST, not journaled a second time */
  ck_assert_int_eq(lvpn__nl_addr_add4(&nl, idx, IP4(198, 19, 0, 2), 24, 0),
                   UV_EEXIST);
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 1);

  ck_assert_int_eq(lvpn__nl_set_mtu(&nl, "lvpnnosuch0", 1400), UV_ENODEV);
  ck_assert_ptr_nonnull(
      strstr(lvpn__nl_last_error(&nl), "RTM_NEWLINK lvpnnosuch0 mtu 1400: "));
  ck_assert_int_eq(lvpn__nl_ifindex(&nl, "lvpnnosuch0"), UV_ENODEV);
  ck_assert_int_eq(lvpn__nl_set_mtu(&nl, name, 0), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__nl_route_add4(&nl, IP4(198, 19, 1, 0), 24, 0, 0, 0),
                   LVPN_EINVAL);
  /* nothing routes in an empty namespace */
  ck_assert_int_eq(lvpn__nl_route_get4(&nl, IP4(198, 18, 50, 1), &gw, &idx),
                   UV_ENETUNREACH);
  ck_assert_ptr_nonnull(
      strstr(lvpn__nl_last_error(&nl), "RTM_GETROUTE 198.18.50.1: "));
  /* explicit delete drops the journal entry */
  ck_assert_int_eq(lvpn__nl_addr_del4(&nl, idx, IP4(198, 19, 0, 2), 24, 0), 0);
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 0);
  ck_assert_int_eq(lvpn__nl_addr_del4(&nl, idx, IP4(198, 19, 0, 2), 24, 0),
                   UV_EADDRNOTAVAIL);
  dev_close(fd, &nl, NULL);
}
END_TEST

START_TEST(test_tun_undo_after_device_is_gone) {
  lvpn__nl_t nl;
  char name[LVPN__IFNAMSIZ];
  uint8_t a6[16], n6[16];
  int fd, idx;

  dev_open("tun", name, &fd, &nl);
  idx = lvpn__nl_ifindex(&nl, name);
  ip6("2001:2:0:8::1000", a6);
  ip6("2001:2:0:300::", n6);
  ck_assert_int_eq(lvpn__nl_set_mtu(&nl, name, 1400), 0);
  ck_assert_int_eq(lvpn__nl_link_up(&nl, name), 0);
  ck_assert_int_eq(lvpn__nl_addr_add4(&nl, idx, IP4(198, 19, 0, 2), 24, 0), 0);
  ck_assert_int_eq(lvpn__nl_addr_add6(&nl, idx, a6, 64), 0);
  ck_assert_int_eq(lvpn__nl_route_add4(&nl, IP4(198, 19, 100, 0), 24,
                                       IP4(198, 19, 0, 1), idx, 10),
                   0);
  ck_assert_int_eq(lvpn__nl_route_add6(&nl, n6, 64, NULL, idx, 0), 0);
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 4);
  lvpn__tun_close(fd); /* the device takes everything with it */
  ck_assert_int_eq(lvpn__nl_undo_all(&nl), 0);
  ck_assert_uint_eq(lvpn__nl_undo_count(&nl), 0);
  lvpn__nl_close(&nl);
}
END_TEST

static Suite *tun_suite(int with_root) {
  Suite *s = suite_create("tun");
  TCase *tc = tcase_create("pure");
  TCase *ts = tcase_create("script");

  tcase_add_test(tc, test_tun_netmask_to_prefix);
  tcase_add_test(tc, test_tun_ip4_parse_and_print);
  tcase_add_test(tc, test_tun_plan_subnet_gateway_defaults);
  tcase_add_test(tc, test_tun_plan_net30_gateway_is_remote);
  tcase_add_test(tc, test_tun_plan_rejects_bad_input);
  tcase_add_test(tc, test_tun_plan_def1);
  tcase_add_test(tc, test_tun_plan_ipv6_gateway_default);
  tcase_add_test(tc, test_tun_plan_ipv6_redirect_and_server);
  tcase_add_test(tc, test_tun_plan_copy_and_same);
  tcase_add_test(tc, test_tun_plan_redirect_private);
  tcase_add_test(tc, test_tun_plan_route_keywords);
  tcase_add_test(tc, test_tun_icmp6_unreachable);
  suite_add_tcase(s, tc);

  tcase_add_checked_fixture(ts, script_setup, script_teardown);
  tcase_add_test(ts, test_script_split_quoting);
  tcase_add_test(ts, test_script_env_builder);
  tcase_add_test(ts, test_script_env_standard);
  tcase_add_test(ts, test_script_env_routes);
  tcase_add_test(ts, test_script_updown_env_and_args);
  tcase_add_test(ts, test_script_empty_values_stay_arguments);
  tcase_add_test(ts, test_script_exit_status_and_failures);
  suite_add_tcase(s, ts);

  if (with_root) {
    TCase *tr = tcase_create("root");
    tcase_add_checked_fixture(tr, netns_setup, NULL);
    tcase_add_test(tr, test_tun_open_names);
    tcase_add_test(tr, test_tun_open_dev_node);
    tcase_add_test(tr, test_tun_configure_subnet);
    tcase_add_test(tr, test_tun_update_plan_by_difference);
    tcase_add_test(tr, test_tun_configure_net30_peer);
    tcase_add_test(tr, test_tun_replace_routes_without_gap);
    tcase_add_test(tr, test_tun_def1_keeps_server_on_previous_gateway);
    tcase_add_test(tr, test_tun_block_local);
    tcase_add_test(tr, test_tun_net_gateway_routes);
    tcase_add_test(tr, test_tun_noexec_and_steps);
    tcase_add_test(tr, test_tun_netlink_errors_are_readable);
    tcase_add_test(tr, test_tun_undo_after_device_is_gone);
    suite_add_tcase(s, tr);
  }
  return s;
}

/* Why the kernel cases cannot run here, or NULL. On success the whole test
 * process has moved into a private network namespace. */
static const char *root_skip_reason(char *buf, size_t len) {
  if (geteuid() != 0)
    return "not root";
  if (access("/dev/net/tun", R_OK | W_OK) != 0) {
    snprintf(buf, len, "/dev/net/tun: %s", strerror(errno));
    return buf;
  }
  if (unshare(CLONE_NEWNET) != 0) {
    snprintf(buf, len, "unshare(CLONE_NEWNET): %s", strerror(errno));
    return buf;
  }
  return NULL;
}

int main(void) {
  char buf[128];
  const char *why = root_skip_reason(buf, sizeof(buf));

  if (why != NULL)
    printf("SKIP root-only tun cases: %s\n", why);
  return fake_run(tun_suite(why == NULL));
}
