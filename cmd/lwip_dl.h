/* liblwip for `layervpn socks`, loaded when that command starts
 * (cli_lwip_load) instead of linked: `layervpn connect` never uses it, and
 * a linked library costs every run its start-up pages (about 150 kB
 * resident before main, see cmd/memtrim.h).
 *
 * Include this (socks.h does) before any other lwIP header: it includes
 * every lwIP header the CLI uses, then turns each lwIP function the CLI
 * calls into a call through the table, so the callers keep lwIP's names. */
#ifndef LVPN_CMD_LWIP_DL_H
#define LVPN_CMD_LWIP_DL_H

#include <stddef.h>

#include <lwip/init.h>
#include <lwip/ip.h>
#include <lwip/ip4.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>
#include <lwip/udp.h>

/* X(name) for every lwIP function the CLI calls */
#define CLI_LWIP_FUNCS(X) \
  X(ip_input) \
  X(lwip_init) \
  X(netif_add) \
  X(netif_ip6_addr_set) \
  X(netif_ip6_addr_set_state) \
  X(netif_remove) \
  X(netif_set_addr) \
  X(netif_set_default) \
  X(netif_set_link_up) \
  X(netif_set_up) \
  X(pbuf_alloc) \
  X(pbuf_copy_partial) \
  X(pbuf_free) \
  X(pbuf_take) \
  X(sys_check_timeouts) \
  X(sys_timeout) \
  X(sys_untimeout) \
  X(tcp_abort) \
  X(tcp_arg) \
  X(tcp_close) \
  X(tcp_connect) \
  X(tcp_err) \
  X(tcp_new_ip_type) \
  X(tcp_output) \
  X(tcp_recv) \
  X(tcp_recved) \
  X(tcp_sent) \
  X(tcp_shutdown) \
  X(tcp_write) \
  X(udp_bind) \
  X(udp_new) \
  X(udp_new_ip_type) \
  X(udp_recv) \
  X(udp_remove) \
  X(udp_sendto)

typedef struct {
#define CLI_LWIP_FIELD(name) __typeof__(&name) name;
  CLI_LWIP_FUNCS(CLI_LWIP_FIELD)
#undef CLI_LWIP_FIELD
} cli_lwip_api_t;

extern cli_lwip_api_t cli_lwip;

/* Loads liblwip.so.0 and its functions once. Returns 0, or -1 with the
 * reason (naming the library) in err. */
int cli_lwip_load(char *err, size_t errlen);

#ifndef CLI_LWIP_DL_IMPL
#define ip_input (*cli_lwip.ip_input)
#define lwip_init (*cli_lwip.lwip_init)
#define netif_add (*cli_lwip.netif_add)
#define netif_ip6_addr_set (*cli_lwip.netif_ip6_addr_set)
#define netif_ip6_addr_set_state (*cli_lwip.netif_ip6_addr_set_state)
#define netif_remove (*cli_lwip.netif_remove)
#define netif_set_addr (*cli_lwip.netif_set_addr)
#define netif_set_default (*cli_lwip.netif_set_default)
#define netif_set_link_up (*cli_lwip.netif_set_link_up)
#define netif_set_up (*cli_lwip.netif_set_up)
#define pbuf_alloc (*cli_lwip.pbuf_alloc)
#define pbuf_copy_partial (*cli_lwip.pbuf_copy_partial)
#define pbuf_free (*cli_lwip.pbuf_free)
#define pbuf_take (*cli_lwip.pbuf_take)
#define sys_check_timeouts (*cli_lwip.sys_check_timeouts)
#define sys_timeout (*cli_lwip.sys_timeout)
#define sys_untimeout (*cli_lwip.sys_untimeout)
#define tcp_abort (*cli_lwip.tcp_abort)
#define tcp_arg (*cli_lwip.tcp_arg)
#define tcp_close (*cli_lwip.tcp_close)
#define tcp_connect (*cli_lwip.tcp_connect)
#define tcp_err (*cli_lwip.tcp_err)
#define tcp_new_ip_type (*cli_lwip.tcp_new_ip_type)
#define tcp_output (*cli_lwip.tcp_output)
#define tcp_recv (*cli_lwip.tcp_recv)
#define tcp_recved (*cli_lwip.tcp_recved)
#define tcp_sent (*cli_lwip.tcp_sent)
#define tcp_shutdown (*cli_lwip.tcp_shutdown)
#define tcp_write (*cli_lwip.tcp_write)
#define udp_bind (*cli_lwip.udp_bind)
#define udp_new (*cli_lwip.udp_new)
#define udp_new_ip_type (*cli_lwip.udp_new_ip_type)
#define udp_recv (*cli_lwip.udp_recv)
#define udp_remove (*cli_lwip.udp_remove)
#define udp_sendto (*cli_lwip.udp_sendto)
#endif

#endif
