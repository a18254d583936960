/* The Linux TUN device, and the plan that turns OpenVPN's ifconfig/route
 * options into netlink changes.
 *
 * No event loop here: the tun layer polls the fd these functions return.
 *
 * The planner is pure (no I/O, no root): it reads OpenVPN's option
 * semantics from a small input struct and produces a list of actions,
 * applied by lvpn__tun_apply_plan() through a netlink context, whose undo
 * journal then holds everything to remove at teardown.
 *
 * IPv4 addresses are uint32_t in HOST byte order (see netlink.h); IPv6
 * addresses are 16 bytes in network order.
 */
#ifndef LVPN_LAYERS_TUN_DEVICE_H
#define LVPN_LAYERS_TUN_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "layers/tun/netlink.h"

#define LVPN__IFNAMSIZ 16

/** Open /dev/net/tun (or `node`, the dev-node clone device, when not NULL)
 * as an IFF_TUN|IFF_NO_PI device, non-blocking and close-on-exec. `dev`
 * NULL, "" or "tun": the kernel picks the first free "tun%d"; any other name (with or without a "%d") is asked for as is.
 * On success fills `ifname_out` (LVPN__IFNAMSIZ bytes) with the actual name
 * and `*fd_out`. Errors are negative errnos (libuv codes), for the caller
 * to report as LVPN_ETUN with this text: UV_ENOENT (no /dev/net/tun),
 * UV_EPERM / UV_EACCES (no CAP_NET_ADMIN), UV_EBUSY (name in use by
 * another tun owner), UV_EINVAL (name too long or not a tun device). */
int lvpn__tun_open(const char *dev, const char *node, char *ifname_out,
                   int *fd_out);
/** As lvpn__tun_open, with TUN offloads: IFF_VNET_HDR (every read and write
 * starts with a 10-byte struct virtio_net_hdr) and TUNSETOFFLOAD with
 * TUN_F_CSUM|TSO4|TSO6, plus USO4|USO6 when the kernel takes them (6.2+).
 * `*offload` gets the TUN_F_* flags set; 0 when the kernel refused (then
 * the device is a plain one and `why` says what was refused). */
int lvpn__tun_open_offload(const char *dev, const char *node,
                           char *ifname_out, int *fd_out, unsigned *offload,
                           char *why, size_t whylen);
/** Close the device fd (a non-persistent device disappears with it, taking
 * its addresses and routes along). Harmless with fd < 0. */
void lvpn__tun_close(int fd);

typedef enum {
  LVPN__TOPOLOGY_NET30 = 0, /* OpenVPN 2.x default */
  LVPN__TOPOLOGY_P2P = 1,
  LVPN__TOPOLOGY_SUBNET = 2
} lvpn__tun_topology_t;

/* A route's keywords (OpenVPN route.c get_special_addr): what is only known
 * when the plan is made or applied. */
enum {
  /* the network is the default gateway from before the tunnel
   * ("net_gateway"), found when applying */
  LVPN__TUN_RT_NET_DST = 1,
  /* the network is the VPN gateway ("vpn_gateway") */
  LVPN__TUN_RT_VPN_DST = 2,
  /* through the default gateway from before the tunnel ("net_gateway"), on
   * its interface, found when applying */
  LVPN__TUN_RT_NET_GW = 4,
  /* `gateway` lies outside the tunnel ("remote_host"): the kernel picks the
   * interface, as OpenVPN's route without one */
  LVPN__TUN_RT_OUTSIDE_GW = 8,
  /* the metric was given (by the route or route-metric): scripts see it */
  LVPN__TUN_RT_METRIC = 16
};

/** One `route network [netmask [gateway [metric]]]`. */
typedef struct lvpn__tun_route4_param_s {
  uint32_t net;
  uint32_t mask;    /* OpenVPN's default is 255.255.255.255 */
  uint32_t gateway; /* 0: route-gateway, or the net30/p2p remote */
  uint32_t metric;  /* 0: kernel default */
  unsigned int kw;  /* LVPN__TUN_RT_* */
} lvpn__tun_route4_param_t;

typedef struct lvpn__tun_ipv4_params_s {
  lvpn__tun_topology_t topology;
  uint32_t ifconfig_local;          /* 0: no IPv4 ifconfig */
  uint32_t ifconfig_remote_netmask; /* subnet: netmask; net30/p2p: peer */
  uint32_t route_gateway;           /* 0: not given */
  const lvpn__tun_route4_param_t *routes;
  size_t n_routes;
  int redirect_def1; /* redirect-gateway def1 */
  /* redirect-private: what redirect-gateway does but the 0.0.0.0/1 and
   * 128.0.0.0/1 routes (the server's host route, block-local) */
  int redirect_private;
  uint32_t server;   /* IPv4 address of the VPN server; 0: unknown, or no
                        host route wanted (redirect-gateway local) */
  int autolocal;     /* redirect-gateway autolocal: no host route when the
                        server is on a local subnet (reached on-link) */
  /* Previous default path to the server (route_net_gateway). 0 and 0:
   * lvpn__tun_apply_plan asks the kernel (lvpn__nl_route_get4) before it
   * changes anything. */
  uint32_t net_gateway;
  int net_ifindex;
  /* redirect-gateway block-local (with def1): the default gateway's local
   * subnet goes through the tunnel, but for a host route to the gateway
   * itself; nothing is blocked when `remote4` (the server's IPv4 address,
   * 0 for an IPv6 server) is on that subnet (OpenVPN route.c
   * add_block_local). */
  int block_local;
  uint32_t remote4;
} lvpn__tun_ipv4_params_t;

/** One `route-ipv6 network/bits [gateway [metric]]`. */
typedef struct lvpn__tun_route6_param_s {
  uint8_t net[16];
  unsigned int prefixlen;
  int has_gateway;
  uint8_t gateway[16]; /* default: route-ipv6-gateway, else the
                          ifconfig-ipv6 remote */
  uint32_t metric;
  int metric_set; /* given (by the route or route-metric): scripts see it */
} lvpn__tun_route6_param_t;

typedef struct lvpn__tun_ipv6_params_s {
  int has_ifconfig; /* ifconfig-ipv6 local/prefixlen remote */
  uint8_t local[16];
  unsigned int prefixlen;
  int has_remote;
  uint8_t remote[16];
  /* route-ipv6-gateway: the gateway of routes without one, in place of
   * `remote` */
  int has_default_gateway;
  uint8_t default_gateway[16];
  const lvpn__tun_route6_param_t *routes;
  size_t n_routes;
  /* redirect-gateway ipv6: OpenVPN's ::/3, 2000::/4, 3000::/4 and fc00::/7
   * via the tun (only with an IPv6 address, as OpenVPN) */
  int redirect;
  /* The server's IPv6 address (the remote is IPv6): a /128 to it via its
   * previous path when a tun route covers it. */
  int has_server;
  uint8_t server[16];
} lvpn__tun_ipv6_params_t;

/* ---- the plan ---- */

typedef struct lvpn__tun_route4_s {
  uint32_t dst;
  unsigned int prefixlen;
  uint32_t gateway; /* 0: on-link */
  uint32_t metric;
  int via_tun; /* 1: through the tun; 0: outside it (`oif`, or the kernel's
                  choice when 0) */
  /* LVPN__TUN_RT_NET_DST / LVPN__TUN_RT_NET_GW: `dst` / `gateway` and `oif`
   * are filled in when the plan is applied, or `skip` is set (no default
   * gateway: the route is not installed, as OpenVPN) */
  unsigned int net_kw;
  int oif;
  int skip;
  /* from a `route` option: scripts see it as route_*_N (N counts these in
   * plan order), with route_metric_N when `metric_set` */
  int env, metric_set;
} lvpn__tun_route4_t;

typedef struct lvpn__tun_route6_s {
  uint8_t dst[16];
  unsigned int prefixlen;
  int has_gateway;
  uint8_t gateway[16]; /* resolved, for scripts and logs */
  uint32_t metric;
  /* scripts see it (route_ipv6_*_N): 1 from a `route-ipv6` option, 2 one
   * of redirect-gateway ipv6's (numbered after the others, as OpenVPN) */
  int env, metric_set;
} lvpn__tun_route6_t;

typedef struct lvpn__tun_plan_s {
  unsigned int mtu; /* 0: leave the device's MTU alone */
  /* ifconfig-noexec: no MTU, link state or address is set; route-noexec: no
   * route is added (scripts get them in their environment instead) */
  int no_ifconfig, no_routes;
  /* IPv4 address */
  int has_addr4;
  uint32_t addr4;
  unsigned int prefixlen4;
  uint32_t peer4;       /* net30/p2p: the point-to-point remote */
  uint32_t vpn_gateway; /* route_vpn_gateway (0: none) */
  /* redirect-gateway def1: host route to the server via the old gateway */
  int has_server_route;
  uint32_t server;
  uint32_t net_gateway; /* 0 with net_ifindex 0: look up when applying */
  int net_ifindex;
  int server_autolocal; /* skip the host route if the server is on-link */
  /* block-local: asked for, and the server address it spares; the local
   * network found when applying (lan_done: its three routes are in) */
  int block_local;
  uint32_t block_remote;
  int lan_done;
  uint32_t lan_gw, lan_net;
  unsigned int lan_prefix;
  int lan_ifindex;
  /* the default gateway from before the tunnel, for net_gateway routes:
   * 0 not looked up yet, 1 found (netgw, netgw_ifindex), -1 none */
  int netgw_state;
  uint32_t netgw;
  int netgw_ifindex;
  lvpn__tun_route4_t *routes4;
  size_t n_routes4;
  /* IPv6 */
  int has_addr6;
  uint8_t addr6[16];
  unsigned int prefixlen6;
  lvpn__tun_route6_t *routes6;
  size_t n_routes6;
  /* the IPv6 server's host route, previous path found when applying */
  int has_server6_route;
  uint8_t server6[16];
  int net6_looked_up, net6_has_gateway, net6_ifindex;
  uint8_t net6_gateway[16];
  /* the server's IPv6 address (an IPv6 remote), for net_gateway_ipv6 */
  int has_remote6;
  uint8_t remote6[16];
} lvpn__tun_plan_t;

void lvpn__tun_plan_init(lvpn__tun_plan_t *plan);
void lvpn__tun_plan_free(lvpn__tun_plan_t *plan);
/** Deep copy of `src` into `dst` (initialised or freed). 0 or LVPN_ENOMEM. */
int lvpn__tun_plan_copy(lvpn__tun_plan_t *dst, const lvpn__tun_plan_t *src);
/** Do two plans ask for the same device set-up? The previous gateway
 * found when applying (net_gateway, net_ifindex) is not compared. */
int lvpn__tun_plan_same(const lvpn__tun_plan_t *a, const lvpn__tun_plan_t *b);

/** Plan the IPv4 side (replaces an earlier IPv4 plan). Route gateways
 * default to route-gateway, then (net30/p2p) to the ifconfig remote. With
 * def1, 0.0.0.0/1 and 128.0.0.0/1 go via that gateway and, if `server` is
 * set, a /32 to it via the previous default gateway. Errors: LVPN_ECONFIG
 * (non-contiguous netmask, a route with no gateway to use, def1 without a
 * VPN gateway) with a message in `errbuf`; LVPN_ENOMEM. */
int lvpn__tun_plan_ipv4(lvpn__tun_plan_t *plan,
                        const lvpn__tun_ipv4_params_t *p, char *errbuf,
                        size_t errlen);
/** Plan the IPv6 side: the address, and routes whose gateway defaults to
 * the ifconfig-ipv6 remote. Errors: LVPN_ECONFIG (prefix > 128), ENOMEM. */
int lvpn__tun_plan_ipv6(lvpn__tun_plan_t *plan,
                        const lvpn__tun_ipv6_params_t *p, char *errbuf,
                        size_t errlen);

/** block-ipv6 (OpenVPN forward.c ipv6_send_icmp_unreachable): for an IPv6
 * packet read from the tun, writes into `out` the ICMPv6 "destination
 * unreachable, no route" answer to put back on the tun: from `src` (the
 * ifconfig-ipv6 remote, or fe80::7) to the packet's source, the packet's
 * version/class/flow and hop limit, quoting as much of it as fits in 1280
 * bytes. Returns its length, or 0 when `pkt` is not a whole IPv6 header
 * (nothing to answer) or `cap` is below 1280. */
size_t lvpn__icmp6_unreachable(const uint8_t *pkt, size_t len,
                               const uint8_t src[16], uint8_t *out,
                               size_t cap);

/** Apply the plan to `ifname`: resolve the previous gateway if needed, set
 * the MTU, bring the link up, add the addresses, the server host route,
 * then the routes. IPv4 routes go via their gateway on the tun; IPv6
 * routes are on-link on the tun without a gateway, as OpenVPN does on tun
 * devices (no neighbour to resolve). A route or address that already
 * exists (EEXIST) is not an error and is left alone. Stops at the first
 * other error (the journal keeps what was done: call lvpn__nl_undo_all);
 * lvpn__nl_last_error() says what failed. On success `plan->net_gateway` /
 * `net_ifindex` hold what was used (route_net_gateway). */
int lvpn__tun_apply_plan(lvpn__nl_t *nl, const char *ifname,
                         lvpn__tun_plan_t *plan);
/** lvpn__tun_apply_plan in its two steps, as OpenVPN runs its up script
 * between them: the lookups of the previous gateway, MTU, link and
 * addresses (none with `no_ifconfig`); then the routes (none with
 * `no_routes`). */
int lvpn__tun_apply_ifconfig(lvpn__nl_t *nl, const char *ifname,
                             lvpn__tun_plan_t *plan);
int lvpn__tun_apply_routes(lvpn__nl_t *nl, const char *ifname,
                           lvpn__tun_plan_t *plan);

/** Moves a configured device from plan `cur` to plan `next` (PUSH_UPDATE)
 * without taking it down: the MTU if it changed, addresses, new routes
 * added (an old route holding a new one's kernel key first removed), then
 * old routes not in `next` deleted; the server host route follows
 * redirect-gateway. Routes in both stay untouched, so their traffic never
 * stops, unless the IPv4 address changes: the old one goes first (the
 * kernel would take a new secondary address with it) and the IPv4 routes
 * are added again. `next->net_gateway` is taken from `cur` or looked
 * up. Stops at the first error; lvpn__nl_last_error() says what failed. */
int lvpn__tun_update_plan(lvpn__nl_t *nl, const char *ifname,
                          const lvpn__tun_plan_t *cur, lvpn__tun_plan_t *next);

#endif
