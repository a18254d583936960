/* PUSH_UPDATE (OpenVPN 2.7, IV_PROTO bit 12): the server changes pushed
 * options of a running session.
 *
 * Pure parsing, as 2.7's apply_push_options(is_update) and update_option():
 * - "PUSH_UPDATE,opt,opt,..."; a sequence may span several messages with
 *   "push-continuation 2" (more follows) and ends with one without it (or
 *   with "push-continuation 1");
 * - "-name" removes the option ("-route": every pushed route); "?name"
 *   marks an option the client may ignore; "-?" both;
 * - only these are updatable: block-ipv6, block-outside-dns, dhcp-option,
 *   dns, ifconfig, ifconfig-ipv6, push-continuation, redirect-gateway,
 *   redirect-private, route, route-gateway, route-ipv6, route-metric,
 *   topology, tun-mtu, keepalive. Another option without '?' is an error
 *   (2.7 restarts the session, "Offending option received from server");
 *   with '?' it is skipped;
 * - the first route / route-ipv6 / redirect-* / dns / dhcp-option of a
 *   sequence replaces the whole list of its kind; later ones in the same
 *   sequence add to it.
 * Updates apply to a copy of the current options; the caller commits the
 * copy when the sequence is complete and then applies the difference.
 */
#ifndef LVPN_LAYERS_TLSSESSION_PUSH_UPDATE_H
#define LVPN_LAYERS_TLSSESSION_PUSH_UPDATE_H

#include "layers/tlssession/push.h"

/* Kinds of options an update touched (bit set in `changed`). */
enum {
  LVPN__PU_ROUTE = 1 << 0,
  LVPN__PU_ROUTE6 = 1 << 1,
  LVPN__PU_REDIRECT = 1 << 2, /* redirect-gateway, redirect-private */
  LVPN__PU_DNS = 1 << 3,      /* the structured `dns` option */
  LVPN__PU_DHCP = 1 << 4,     /* dhcp-option */
  LVPN__PU_IFCONFIG = 1 << 5,
  LVPN__PU_IFCONFIG6 = 1 << 6,
  LVPN__PU_TOPOLOGY = 1 << 7,
  LVPN__PU_TUN_MTU = 1 << 8,
  LVPN__PU_ROUTE_GATEWAY = 1 << 9,
  LVPN__PU_ROUTE_METRIC = 1 << 10,
  LVPN__PU_BLOCK_IPV6 = 1 << 11,
  LVPN__PU_KEEPALIVE = 1 << 12,
  LVPN__PU_OTHER = 1 << 13 /* block-outside-dns (Windows only) */
};

typedef struct lvpn__push_update_s {
  lvpn__push_t *next; /* heap: the options as updated so far; NULL: idle */
  unsigned reset;     /* list kinds already replaced in this sequence */
  unsigned changed;   /* LVPN__PU_* touched in this sequence */
  int n_set, n_removed, n_skipped; /* options applied / removed / ignored */
  int not_updatable; /* the error was a non-updatable option */
  char err[300];     /* why the last call failed */
} lvpn__push_update_t;

void lvpn__push_update_init(lvpn__push_update_t *u);
/* Drops a sequence in progress. */
void lvpn__push_update_free(lvpn__push_update_t *u);

/* Parses one PUSH_UPDATE message (a trailing NUL is allowed), starting a
 * sequence from `cur` when none is in progress. Returns 1 when the sequence
 * continues (push-continuation 2), 0 when it is complete (then call
 * lvpn__push_update_commit), or LVPN_EPUSH with u->err set and the sequence
 * dropped: a malformed message or value, a pull-filter reject, or (then
 * u->not_updatable is 1) an option that cannot be updated. Unknown detail
 * of known options goes to `warn`. */
int lvpn__push_update_parse(lvpn__push_update_t *u, const lvpn__push_t *cur,
                            const char *msg, size_t len,
                            lvpn__push_warn_cb warn, void *ud);

/* Replaces `cur` with the updated options; `cur`'s auth-token stays (it is
 * not updatable). Ends the sequence. */
void lvpn__push_update_commit(lvpn__push_update_t *u, lvpn__push_t *cur);

#endif
