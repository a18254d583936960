/* PUSH_REPLY parser and control-message classifier (protocol doc §7).
 *
 * Pure parsing: no loop, no I/O, no heap except the auth-token strings.
 * A PUSH_REPLY may come in several parts ("push-continuation 2"): call
 * lvpn__push_parse() once per message on the same struct; options
 * accumulate until the part without continuation (or with
 * "push-continuation 1") arrives.
 */
#ifndef LVPN_LAYERS_TLSSESSION_PUSH_H
#define LVPN_LAYERS_TLSSESSION_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/dns_opt.h"
#include "lib/ovpn_lex.h"

#define LVPN__PUSH_MAX_ROUTES 256
/* PUSH_REPLY parts (push-continuation) accepted for one reply: a 2.6 server
 * cuts at about 1,024 bytes, so this allows 64 KiB of options. */
#define LVPN__PUSH_MAX_PARTS 64
#define LVPN__PUSH_MAX_OPTION 2048       /* bytes in one pushed option */
#define LVPN__PEER_ID_DISABLED 0xFFFFFFu /* MAX_PEER_ID */

typedef enum {
  LVPN__TOPO_NET30 = 0, /* the 2.6 default when none is pushed */
  LVPN__TOPO_P2P,
  LVPN__TOPO_SUBNET
} lvpn__topology_t;

/* protocol-flags (and key-derivation tls-ekm) */
enum {
  LVPN__PROTO_F_CC_EXIT = 1 << 0,
  LVPN__PROTO_F_TLS_EKM = 1 << 1,
  LVPN__PROTO_F_DYN_TLS_CRYPT = 1 << 2,
  LVPN__PROTO_F_AEAD_EPOCH = 1 << 3 /* OpenVPN 2.7 epoch data keys */
};

typedef struct lvpn__push_s {
  /* ifconfig A B: B is the netmask (subnet) or the peer (net30/p2p) */
  bool has_ifconfig;
  struct in_addr ifconfig_local, ifconfig_remote;
  /* ifconfig-ipv6 A/bits [R] */
  bool has_ifconfig6, has_ifconfig6_remote;
  struct in6_addr ifconfig6_local, ifconfig6_remote;
  uint8_t ifconfig6_bits;
  int topology; /* lvpn__topology_t */
  bool has_topology;

  /* The lists are heap arrays grown as options arrive (up to
   * LVPN__PUSH_MAX_ROUTES / LVPN__DHCP_MAX), so a session pays for what its
   * server pushes, not for the largest push possible. */
  lvpn__route4_t *routes;
  int n_routes, cap_routes;
  lvpn__route6_t *routes6;
  int n_routes6, cap_routes6;
  bool has_route_gateway, route_gateway_dhcp;
  struct in_addr route_gateway;
  int route_metric;     /* -1: not pushed */
  int redirect_gateway; /* LVPN__RG_* flags, 0: not pushed */
  int redirect_private;
  bool block_ipv6;

  lvpn__dhcp_opt_t *dhcp;
  int n_dhcp, cap_dhcp;
  lvpn_dns_t *dns; /* the `dns` options (lib/dns_opt.h), verified; heap
                      from the first one, NULL: none pushed */

  bool has_peer_id;
  uint32_t peer_id;        /* LVPN__PEER_ID_DISABLED: use P_DATA_V1 */
  char cipher[40];         /* "" when not pushed */
  char auth[40];           /* pushed `auth` (OpenVPN 2.6 refuses it: not
                              pullable); "" when not pushed */
  unsigned protocol_flags; /* LVPN__PROTO_F_* */
  int comp;                /* lvpn__comp_t; the caller refuses real ones */
  bool has_comp;

  /* timers in seconds; -1: not pushed */
  int ping, ping_restart, ping_exit, inactive, session_timeout;
  int inactive_bytes; /* inactive's second value, 0 when not given */
  int tun_mtu;              /* -1: not pushed */
  int explicit_exit_notify; /* -1: not pushed */

  char *auth_token; /* heap, zeroed on free; NULL: none */
  char *auth_token_user;

  bool more;      /* last part said push-continuation 2 */
  int n_options;  /* options applied (all parts) */
  int n_filtered; /* options dropped by pull-filter ignore */
  char err[256];  /* why lvpn__push_parse failed */
  const char *why; /* why an option is ignored (for the warning), or NULL */

  /* set by the caller before parsing (optional): pull-filter rules */
  const lvpn__pull_filter_t *filters;
  int n_filters;
} lvpn__push_t;

/* Called for each pushed option ignored; `option` is its text, lent for
 * the call only; `why` says why, or is NULL for an option (or a detail of
 * it) we do not know. */
typedef void (*lvpn__push_warn_cb)(void *ud, const char *option,
                                   const char *why);

void lvpn__push_init(lvpn__push_t *p);
/* After a struct copy (*dst = *src): gives `dst` its own copies of the
 * lists (routes, routes6, dhcp, dns). Returns 0, or LVPN_ENOMEM with dst's
 * lists empty. The auth-token strings are not touched. */
int lvpn__push_dup_lists(lvpn__push_t *dst);
/* Frees the lists and empties them. */
void lvpn__push_free_lists(lvpn__push_t *p);
/* Frees the heap parts (lists, auth-token) and resets to lvpn__push_init().
 * The filters set by the caller are kept. */
void lvpn__push_free(lvpn__push_t *p);

/* Parses one "PUSH_REPLY[,opt,...]" message (a trailing NUL is allowed).
 * Returns 1 if another part is expected (push-continuation 2), 0 when the
 * reply is complete, LVPN_EPUSH for a malformed message or a value that does
 * not parse (text in p->err), or when a pull-filter rejects an option.
 * Unknown options are passed to `warn` (may be NULL) and skipped. */
int lvpn__push_parse(lvpn__push_t *p, const char *msg, size_t len,
                     lvpn__push_warn_cb warn, void *ud);

typedef enum {
  LVPN__CTL_UNKNOWN = 0,
  LVPN__CTL_PUSH_REPLY,
  LVPN__CTL_AUTH_FAILED,
  LVPN__CTL_AUTH_PENDING,
  LVPN__CTL_RESTART,
  LVPN__CTL_HALT,
  LVPN__CTL_INFO,
  LVPN__CTL_INFO_PRE,
  LVPN__CTL_EXIT,
  LVPN__CTL_CR_RESPONSE,
  LVPN__CTL_PUSH_UPDATE /* 2.7: layers/tlssession/push_update.h */
} lvpn__ctlmsg_t;

/* Classifies a NUL-terminated control message by its keyword, which must be
 * followed by ',' or the end. `*rest` (if not NULL) is set to the text after
 * the comma ("" when none). */
lvpn__ctlmsg_t lvpn__ctlmsg_classify(const char *msg, const char **rest);
/* Seconds from an AUTH_PENDING message's text ("timeout 300"), or -1. */
int lvpn__ctlmsg_pending_timeout(const char *rest);
/* AUTH_FAILED,TEMP[k1,k2,...]:reason (OpenVPN 2.7, IV_PROTO bit 8), given
 * the text after "AUTH_FAILED,". Keywords: "backoff S" (seconds to wait at
 * least), "advance no|addr|remote". */
enum {
  LVPN__ADVANCE_NO = 0, /* retry the same server (the default) */
  LVPN__ADVANCE_ADDR,   /* the next address of the same remote */
  LVPN__ADVANCE_REMOTE  /* the next remote */
};
typedef struct lvpn__auth_temp_s {
  unsigned backoff_s; /* 0: none given */
  int advance;        /* LVPN__ADVANCE_* */
  int unknown;        /* keywords ignored (unknown or malformed) */
  const char *reason; /* points into the message; "" when none */
} lvpn__auth_temp_t;
/* 1 and *out filled when `rest` is a TEMP failure, 0 when it is not. */
int lvpn__ctlmsg_auth_temp(const char *rest, lvpn__auth_temp_t *out);
/* Name for logs ("PUSH_REPLY"). */
const char *lvpn__ctlmsg_name(lvpn__ctlmsg_t t);

#endif
