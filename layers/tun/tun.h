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
#include "hooks/chain.h"

#define LVPN__TUN_MAX_DHCP 64

typedef void (*lvpn__inside_write_fn)(void *ud, const uint8_t *pkt,
                                      size_t len);

/* Strings for the up/down scripts, owned by the layer. */
typedef struct lvpn__tun_script_s {
  char *up, *down;
  char local[48], remote_netmask[48], local6[64], remote6[64];
  char vpn_gw[48], net_gw[48], remote[256], proto[16], common_name[256];
  int netbits6, remote_port, verb;
  char *dhcp[LVPN__TUN_MAX_DHCP];
  size_t n_dhcp;
  lvpn__script_info_t info;
} lvpn__tun_script_t;

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
  lvpn__tun_plan_t plan; /* as applied: PUSH_UPDATE moves from it */
  uint64_t updates;      /* plans applied by lvpn__tun_layer_update */
  lvpn__inside_write_fn host_write; /* non-NULL: host inside I/O */
  void *host_ud;
  lvpn__hooks_t *hooks; /* the client's inside hooks, run when active */
  uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, tx_errors,
      rx_no_buffer;
} lvpn__tun_layer_t;

void lvpn__tun_layer_init(lvpn__tun_layer_t *t, uv_loop_t *loop,
                          lvpn__pbuf_pool_t *pool, const char *dev,
                          const lvpn__logger_t *log);
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
/* Host mode: one inside packet from the host (copied). */
int lvpn__tun_layer_inject(lvpn__tun_layer_t *t, const uint8_t *pkt,
                           size_t len);

#endif
