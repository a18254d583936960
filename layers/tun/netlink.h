/* Interface configuration over rtnetlink (libmnl): MTU, link state,
 * addresses and routes, with an undo journal.
 *
 * One context per client (no globals). Calls are synchronous: the kernel
 * answers rtnetlink requests at once, so they are made from the loop thread
 * at tunnel setup and teardown, never on the data path.
 *
 * Addresses: IPv4 as uint32_t in HOST byte order (as OpenVPN's in_addr_t
 * handling: 198.19.0.1 is 0xc6130001); IPv6 as 16 bytes in network order.
 *
 * Errors: 0 or a negative errno, which on Linux equals libuv's code
 * (UV_EPERM, UV_ENETUNREACH, UV_EEXIST, ...), so lvpn_strerror() names it.
 * After a failed request lvpn__nl_last_error() holds a readable line such as
 * "RTM_NEWROUTE 198.19.100.0/24 via 198.19.0.1: Network is unreachable",
 * with the kernel's extended-ack text appended when it sent one.
 *
 * Undo journal: every address and route this context added successfully
 * is recorded; lvpn__nl_undo_all() deletes them in reverse order, ignoring
 * "already gone" answers (ENOENT, ESRCH, ENODEV, EADDRNOTAVAIL: the tun
 * device may have vanished with its addresses and routes). An add answered
 * with EEXIST is returned as UV_EEXIST and not journaled: that object is
 * not ours to delete. A delete by hand (addr_del*, route_del*) drops the
 * matching journal entry. MTU and link state are not journaled.
 */
#ifndef LVPN_LAYERS_TUN_NETLINK_H
#define LVPN_LAYERS_TUN_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"

#define LVPN__NL_ERRLEN 256
#define LVPN__NL_BUFSIZE 8192

struct mnl_socket;

/* One journaled change (internal layout; read-only for callers). */
typedef struct lvpn__nl_undo_s {
  uint8_t kind;   /* LVPN__NL_UNDO_ADDR or LVPN__NL_UNDO_ROUTE */
  uint8_t family; /* AF_INET or AF_INET6 */
  uint8_t prefixlen;
  uint8_t has_other; /* peer (address) or gateway (route) present */
  int ifindex;
  uint32_t metric;
  uint8_t addr[16];  /* local address or route destination (network order) */
  uint8_t other[16]; /* IPv4 peer or route gateway (network order) */
} lvpn__nl_undo_t;

enum { LVPN__NL_UNDO_ADDR = 1, LVPN__NL_UNDO_ROUTE = 2 };

typedef struct lvpn__nl_s {
  struct mnl_socket *sock;
  unsigned int portid;
  unsigned int seq;
  const lvpn__logger_t *log; /* may be NULL */
  lvpn__nl_undo_t *undo;
  size_t n_undo, cap_undo;
  lvpn__nl_undo_t *prev; /* between replace_begin and replace_end */
  uint8_t *prev_kept;
  size_t n_prev;
  char err[LVPN__NL_ERRLEN];
  char *buf; /* LVPN__NL_BUFSIZE bytes of scratch, from open to close */
} lvpn__nl_t;

/** Open the rtnetlink socket (close-on-exec) and its scratch buffer: the
 * other calls are for an open context only. `log` may be NULL; it must
 * outlive the context. Returns 0 or a negative errno. */
int lvpn__nl_open(lvpn__nl_t *nl, const lvpn__logger_t *log);
/** Close the socket and free the journal (without undoing anything). */
void lvpn__nl_close(lvpn__nl_t *nl);
/** Text of the last failure ("" if none). Valid until the next call. */
const char *lvpn__nl_last_error(const lvpn__nl_t *nl);

/** Interface index of `ifname`, or a negative errno (UV_ENODEV). */
int lvpn__nl_ifindex(lvpn__nl_t *nl, const char *ifname);
int lvpn__nl_set_mtu(lvpn__nl_t *nl, const char *ifname, unsigned int mtu);
int lvpn__nl_link_up(lvpn__nl_t *nl, const char *ifname);
/* Both in one RTM_NEWLINK (the kernel sets the MTU first): the start's
 * path has one request less. mtu 0: up only. */
int lvpn__nl_link_up_mtu(lvpn__nl_t *nl, const char *ifname, unsigned int mtu);

/** Add an IPv4 address. `peer` 0: `addr/prefixlen` on a subnet (with its
 * broadcast address). `peer` != 0: point-to-point form (net30/p2p):
 * IFA_LOCAL=addr, IFA_ADDRESS=peer, prefixlen normally 32. */
int lvpn__nl_addr_add4(lvpn__nl_t *nl, int ifindex, uint32_t addr,
                       unsigned int prefixlen, uint32_t peer);
int lvpn__nl_addr_del4(lvpn__nl_t *nl, int ifindex, uint32_t addr,
                       unsigned int prefixlen, uint32_t peer);
int lvpn__nl_addr_add6(lvpn__nl_t *nl, int ifindex, const uint8_t addr[16],
                       unsigned int prefixlen);
int lvpn__nl_addr_del6(lvpn__nl_t *nl, int ifindex, const uint8_t addr[16],
                       unsigned int prefixlen);

/** Add a route in the main table. Host bits of `dst` are cleared.
 * `gateway` 0 / NULL: on-link route through `ifindex`. `ifindex` 0: the
 * kernel picks the interface from the gateway. `metric` 0: kernel default. */
int lvpn__nl_route_add4(lvpn__nl_t *nl, uint32_t dst, unsigned int prefixlen,
                        uint32_t gateway, int ifindex, uint32_t metric);
int lvpn__nl_route_del4(lvpn__nl_t *nl, uint32_t dst, unsigned int prefixlen,
                        uint32_t gateway, int ifindex, uint32_t metric);
int lvpn__nl_route_add6(lvpn__nl_t *nl, const uint8_t dst[16],
                        unsigned int prefixlen, const uint8_t *gateway,
                        int ifindex, uint32_t metric);
int lvpn__nl_route_del6(lvpn__nl_t *nl, const uint8_t dst[16],
                        unsigned int prefixlen, const uint8_t *gateway,
                        int ifindex, uint32_t metric);

/** Ask the kernel how it would reach `dst` (RTM_GETROUTE). `*gateway` is
 * the next hop (0 when on-link or local), `*ifindex` the output interface.
 * Returns 0, or a negative errno (UV_ENETUNREACH: no route). */
int lvpn__nl_route_get4(lvpn__nl_t *nl, uint32_t dst, uint32_t *gateway,
                        int *ifindex);

/** The main table's IPv4 default route with the lowest metric: gateway
 * (0 when on-link) and interface. UV_ENETUNREACH when there is none. */
int lvpn__nl_route_default4(lvpn__nl_t *nl, uint32_t *gateway, int *ifindex);
/** The prefix length of the first IPv4 address on `ifindex` whose subnet
 * holds `addr` (the local network of a gateway). UV_ENOENT when none. */
int lvpn__nl_addr_subnet4(lvpn__nl_t *nl, int ifindex, uint32_t addr,
                          unsigned int *prefixlen);
/** The same for IPv6: `*has_gateway` 0 when on-link. */
int lvpn__nl_route_get6(lvpn__nl_t *nl, const uint8_t dst[16],
                        uint8_t gateway[16], int *has_gateway, int *ifindex);

/** Delete everything this context added, newest first. Returns 0, or the
 * first error that was not "already gone" (the rest are still tried). */
int lvpn__nl_undo_all(lvpn__nl_t *nl);
/** Replacing a set-up without a gap (persist-tun with changed routes):
 * after lvpn__nl_replace_begin() the journal so far becomes the previous
 * set, and an add answered EEXIST for an object of that set keeps it (it
 * is journaled again); lvpn__nl_replace_end() then deletes what of the
 * previous set was not added again. Returns 0 or LVPN_ENOMEM / the first
 * error that was not "already gone". */
int lvpn__nl_replace_begin(lvpn__nl_t *nl);
int lvpn__nl_replace_end(lvpn__nl_t *nl);
/** Number of journaled changes. */
size_t lvpn__nl_undo_count(const lvpn__nl_t *nl);

/** "198.19.0.1" from a host-order address; `buf` holds 16 bytes. */
const char *lvpn__ip4_str(uint32_t addr, char buf[16]);
/** Parse dotted quad into host order. Returns 0 or LVPN_EINVAL. */
int lvpn__ip4_parse(const char *s, uint32_t *out);
/** Prefix length of a contiguous netmask (host order), or LVPN_EINVAL for
 * a non-contiguous one (255.0.255.0). 0.0.0.0 gives 0. */
int lvpn__netmask_to_prefix(uint32_t mask);
/** Netmask (host order) for a prefix length 0..32. */
uint32_t lvpn__prefix_to_netmask(unsigned int prefixlen);

#endif
