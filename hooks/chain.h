/* The chain of inside-packet hooks (public API in include/layervpn.h,
 * "Inside-packet hooks"). Owned by the client, so hooks outlive
 * reconnections; the tun layer runs it at the inside edge and delivers what
 * passes. Loop-free: delivery is a callback, testable with fakes. */
#ifndef LVPN_HOOKS_CHAIN_H
#define LVPN_HOOKS_CHAIN_H

#include "layervpn.h"
#include "lib/pbuf.h"
#include "lib/queue.h"

typedef struct lvpn__hook_s {
  lvpn_inside_hook_t ops;
  char name[32];
  void *ud;
  lvpn_hook_id_t id;
  int removed; /* removal requested while the chain ran */
  uint64_t seen, dropped;
} lvpn__hook_t;

/* Delivers one packet that passed (or was injected) in `dir`; owns `p`. */
typedef void (*lvpn__hooks_deliver_fn)(void *ud, lvpn_inside_dir_t dir,
                                       lvpn__pbuf_t *p);

typedef struct lvpn__hooks_s {
  lvpn__hook_t *v;
  size_t n, cap;
  size_t active; /* hooks not removed: the data path's one branch */
  lvpn_hook_id_t next_id;
  int depth;     /* > 0 while the chain runs */
  int dirty;     /* removed entries waiting for the end of the run */
  lvpn__queue_t inj; /* injected while running, delivered afterwards */
  lvpn__pbuf_pool_t *pool;
  lvpn_client_t *client; /* passed to the hooks */
  lvpn__hooks_deliver_fn deliver; /* NULL: no stack running */
  void *deliver_ud;
} lvpn__hooks_t;

void lvpn__hooks_init(lvpn__hooks_t *h, lvpn__pbuf_pool_t *pool,
                      lvpn_client_t *client);
/* Removes every hook (their `removed` called) and frees queued packets. */
void lvpn__hooks_free(lvpn__hooks_t *h);
int lvpn__hooks_add(lvpn__hooks_t *h, const lvpn_inside_hook_t *ops, void *ud,
                    lvpn_hook_id_t *out);
int lvpn__hooks_remove(lvpn__hooks_t *h, lvpn_hook_id_t id);
/* Runs the chain on `p` (owned) in `dir`, delivers it when every hook
 * passed (frees it otherwise), then delivers what hooks injected. */
void lvpn__hooks_process(lvpn__hooks_t *h, lvpn_inside_dir_t dir,
                         lvpn__pbuf_t *p);
/* Copies `pkt` and delivers it past the chain (queued while it runs). */
int lvpn__hooks_inject(lvpn__hooks_t *h, lvpn_inside_dir_t dir,
                       const uint8_t *pkt, size_t len);
const lvpn__hook_t *lvpn__hooks_find(const lvpn__hooks_t *h,
                                     lvpn_hook_id_t id);
/* hooks.<name>_seen / _dropped for every hook. */
void lvpn__hooks_counters(const lvpn__hooks_t *h, lvpn_counter_cb cb,
                          void *ud);

/* Built-in hooks (filter.c, pcap.c): a rule set, parsed and matched alone. */
#define LVPN__FILTER_MAX_RULES 64
typedef struct lvpn__filter_rule_s {
  int allow;
  int proto;    /* -1: any; -2: ICMP of either family */
  int port_lo, port_hi; /* -1: any */
  int family;   /* 0: any address; 4 or 6 with `net` */
  uint8_t net[16];
  int bits;
} lvpn__filter_rule_t;
typedef struct lvpn__filter_s {
  lvpn__filter_rule_t rules[LVPN__FILTER_MAX_RULES];
  size_t n;
  int default_allow;
} lvpn__filter_t;
void lvpn__filter_init(lvpn__filter_t *f);
/* Parses one rule line into `f`; LVPN_EINVAL with `err` naming the problem. */
int lvpn__filter_add(lvpn__filter_t *f, const char *rule, char *err,
                     size_t errlen);
/* 1: allow, 0: deny, for one IPv4/IPv6 packet (malformed ones: default). */
int lvpn__filter_match(const lvpn__filter_t *f, const uint8_t *pkt,
                       size_t len);

#endif
