/* tun: the top of the data path, the *inside*. Either a Linux TUN device
 * (configured over netlink from the pushed options, undone on close, with
 * OpenVPN-style up/down scripts) or the host's own inside I/O: decrypted
 * packets go to a host callback and the host injects packets. */
#ifndef LVPN_LAYERS_TUN_TUN_H
#define LVPN_LAYERS_TUN_TUN_H

#include "layers/layer.h"
#include "layers/tun/netlink.h"
#include "layers/tun/script.h"
#include "layers/tun/device.h"
#include "layers/tun/offload.h"
#include "hooks/chain.h"

#define LVPN__TUN_MAX_DHCP 64

typedef void (*lvpn__inside_write_fn)(void *ud, const uint8_t *pkt,
                                      size_t len);

/* Strings for the up/down scripts, owned by the layer. */
typedef struct lvpn__tun_script_s {
  char *up, *down;
  char *route_up, *route_pre_down, *ipchange; /* script-security >= 2 */
  lvpn__script_env_t env; /* setenv NAME VALUE: for every script */
  char local[48], remote_netmask[48], local6[64], remote6[64];
  char vpn_gw[48], net_gw[48], remote[256], proto[16], common_name[256];
  int netbits6, remote_port, verb;
  char *dhcp[LVPN__TUN_MAX_DHCP];
  size_t n_dhcp;
  lvpn__script_info_t info;
} lvpn__tun_script_t;

/* A tun device kept between two stacks (persist-tun), owned by the client:
 * the open fd, its netlink context with the undo journal (its addresses and
 * routes), the script description and the plan applied. Zeroed = empty. */
typedef struct lvpn__tun_keep_s {
  int have;
  int fd;
  unsigned offload; /* the TUN_F_* flags the fd was opened with */
  char ifname[LVPN__IFNAMSIZ];
  lvpn__nl_t nl;
  int up_ran;
  lvpn__tun_script_t script;
  lvpn__tun_plan_t plan;
  struct lvpn__dns_host_s *dns; /* the DNS it kept (owned by the client) */
} lvpn__tun_keep_t;

/* Offload buffers (tun_io.c): the spill buffer and the coalescing batch. */
typedef struct lvpn__tun_io_s lvpn__tun_io_t;

typedef struct lvpn__tun_layer_s {
  lvpn__layer_t base;
  lvpn__pbuf_pool_t *pool;
  char dev[LVPN__IFNAMSIZ];    /* requested: "tun", "tun3", "vpn0" */
  char ifname[LVPN__IFNAMSIZ]; /* what the kernel gave us */
  int fd;
  uv_poll_t poll;
  int poll_init;
  lvpn__nl_t nl;
  int nl_open;
  int up_ran;
  lvpn__tun_script_t script;
  struct lvpn__dns_host_s *dns; /* DNS applied for this device (owned by
                                   the client); reverted on close */
  uint64_t updates;      /* plans applied by lvpn__tun_layer_update */
  lvpn__tun_plan_t applied;   /* what the device is set up with
                                 (PUSH_UPDATE and persist-tun move
                                 from it) */
  lvpn__tun_keep_t *keep;     /* non-NULL: hand the device over at close */
  int block_ipv6;             /* answer IPv6 with ICMPv6 no-route */
  /* The server's address (the outer socket's peer): a packet read from the
   * device to it would come back out of the device once sent (OpenVPN's
   * drop_if_recursive_routing); 0: no check (allow-recursive-routing). */
  int rr_family; /* 0, AF_INET or AF_INET6 */
  uint8_t rr_addr[16];
  uint64_t recursive_drops;
  uint8_t block_src6[16];     /* their source: the ifconfig-ipv6 remote */
  uint64_t blocked6;
  lvpn__inside_write_fn host_write; /* non-NULL: host inside I/O */
  void *host_ud;
  lvpn__hooks_t *hooks; /* the client's inside hooks, run when active */
  uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, tx_errors,
      rx_no_buffer;
  /* TUN offloads (tun_io.c, offload.c) */
  int offload_off;     /* --disable-offload: open a plain device */
  int preopened;       /* opened by lvpn__tun_layer_preopen, not set up */
  char open_why[128];  /* the device's "offloads unavailable" reason, or "" */
  char node[256];      /* dev-node; "": /dev/net/tun */
  unsigned offload;    /* TUN_F_* in use; 0: plain reads and writes */
  int gro_off;         /* the device refused a coalesced write */
  lvpn__tun_io_t *io;  /* non-NULL with offload */
  uint64_t tso_superpackets, tso_segments, csum_completed, gro_writes,
      gro_segments, offload_errors;
} lvpn__tun_layer_t;

void lvpn__tun_layer_init(lvpn__tun_layer_t *t, uv_loop_t *loop,
                          lvpn__pbuf_pool_t *pool, const char *dev,
                          const lvpn__logger_t *log);
/* Opens the device (and the netlink socket) ahead of its configuration,
 * while the first handshake waits for the server: the open is the part of
 * lvpn__tun_layer_configure() that needs nothing pushed. Not with host
 * inside I/O or a kept (persist-tun) device. Best effort: a failure leaves
 * the open to lvpn__tun_layer_configure(), which reports it. A device
 * opened and never configured is closed with the layer, not kept. */
void lvpn__tun_layer_preopen(lvpn__tun_layer_t *t);
/* --disable-offload (before configure): a device without IFF_VNET_HDR. */
void lvpn__tun_layer_set_offload(lvpn__tun_layer_t *t, int on);
/* dev-node (before configure): the clone device to open; NULL: the
 * default /dev/net/tun. Paths of 256 bytes or more are cut (the config
 * refuses them). */
void lvpn__tun_layer_set_node(lvpn__tun_layer_t *t, const char *node);
/* The server's address for the recursive-routing check (any time; again
 * after a float); NULL or AF_UNSPEC: no check. */
void lvpn__tun_layer_set_server(lvpn__tun_layer_t *t,
                                const struct sockaddr_storage *ss);
/* Host inside I/O instead of a device (before start). */
void lvpn__tun_layer_set_host(lvpn__tun_layer_t *t, lvpn__inside_write_fn fn,
                              void *ud);
/* Opens and configures the device from `plan`, runs the up script
 * (`script` is copied), starts reading. In host mode only starts reading
 * from the host. `errbuf` names what failed. */
int lvpn__tun_layer_configure(lvpn__tun_layer_t *t, lvpn__tun_plan_t *plan,
                              const lvpn__tun_script_t *script, char *errbuf,
                              size_t errlen);
/* PUSH_UPDATE: moves the device to `plan` (taken over; the caller's is left
 * empty) without closing it. Host mode: only recorded. `errbuf` names what
 * failed. */
int lvpn__tun_layer_update(lvpn__tun_layer_t *t, lvpn__tun_plan_t *plan,
                           char *errbuf, size_t errlen);
/* Runs `hooks` (owned by the client) on the inside path while this layer
 * lives; packets that pass, and injected ones, are delivered here. */
void lvpn__tun_layer_set_hooks(lvpn__tun_layer_t *t, lvpn__hooks_t *hooks);
/* persist-tun: set before start. At close the device, its addresses and
 * routes go to `keep` instead of being removed; the next stack's
 * lvpn__tun_layer_configure() takes them back (same ifindex) and only
 * changes what the new plan changes. */
void lvpn__tun_layer_set_keep(lvpn__tun_layer_t *t, lvpn__tun_keep_t *keep);
/* Removes a kept device for good, in tun_close's order: route-pre-down,
 * its DNS, routes and addresses, the down script, the device. Harmless
 * when nothing is kept. */
void lvpn__tun_keep_release(lvpn__tun_keep_t *keep, const lvpn__logger_t *log,
                            lvpn__tracer_t *trace);
/* Host mode: one inside packet from the host (copied). */
int lvpn__tun_layer_inject(lvpn__tun_layer_t *t, const uint8_t *pkt,
                           size_t len);

/* tun_io.c: the device's reads and writes (offload buffers from
 * lvpn__tun_io_init once `offload` is known; freed, with any packet still
 * batched, by lvpn__tun_io_free). */
int lvpn__tun_io_init(lvpn__tun_layer_t *t);
void lvpn__tun_io_free(lvpn__tun_layer_t *t);
/* Reads up to a budget of packets (segmenting super-packets) and sends
 * them down. */
void lvpn__tun_io_read(lvpn__tun_layer_t *t);
/* Writes `p` (owned) to the device; with offloads it joins the batch that
 * is written, coalesced, once this layer's input queue is empty. */
void lvpn__tun_io_write(lvpn__tun_layer_t *t, lvpn__pbuf_t *p);
void lvpn__tun_io_flush(lvpn__tun_layer_t *t);
/* Outbound: a packet read from the inside, to the hooks or the
 * datachannel. Owns `p`. */
void lvpn__tun_send(lvpn__tun_layer_t *t, lvpn__pbuf_t *p);

#endif
