/* The reconnection policy, loop-free: which remote the next attempt uses,
 * how long to pause before it, and when to give up. It follows OpenVPN
 * 2.6's socket_restart_pause() and next_connection_entry():
 *
 * - Every attempt that moves on to a remote (the first one included) counts
 *   as unsuccessful until a connection completes, which resets the count.
 *   The first attempt after a completed connection stays on the same remote
 *   and is not counted.
 * - The pause before an attempt is connect-retry (default 1 s), doubled for
 *   every attempt beyond 5 per remote (counted / n_remotes - 4 doublings, at
 *   most 15), and never above connect-retry's second value (default 300 s,
 *   at least the first value).
 * - A restart after server-poll-timeout does not pause.
 * - With connect-retry-max N, more than N attempts per remote without a
 *   completed connection end the client.
 * - A host name resolving to several addresses: each address is tried
 *   before moving on to the next remote (next_connection_entry()); moving
 *   to the next address is not counted. "advance remote" skips the rest.
 * - persist-remote-ip: a remote's addresses are kept when the list comes
 *   round to it again (here for one remote; the client keeps every
 *   remote's, see client.h `persist`. OpenVPN 2.6 keeps the one list it
 *   has, whichever remote comes next: a FIXME in its init.c).
 */
#ifndef LVPN_LAYERS_CLIENT_RETRY_H
#define LVPN_LAYERS_CLIENT_RETRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct lvpn__retry_opts_s {
  unsigned connect_retry;     /* s, the base pause */
  unsigned connect_retry_cap; /* s, the longest pause (raised to the base) */
  unsigned connect_retry_max; /* attempts per remote; 0: no limit */
  unsigned n_remotes;         /* >= 1 */
  int persist_remote_ip;      /* one remote: keep its addresses */
} lvpn__retry_opts_t;

typedef struct lvpn__retry_s {
  unsigned unsuccessful; /* OpenVPN's unsuccessful_attempts */
  int remote;            /* index of the remote in use; -1 before the first */
  int no_advance;        /* the next attempt stays on this remote, uncounted */
  int no_pause;          /* the next attempt starts at once */
  int addr;              /* index of the address in use */
  int n_addrs;           /* addresses known for this remote; 0: resolve */
  int advance_remote;    /* skip the remote's other addresses */
} lvpn__retry_t;

void lvpn__retry_init(lvpn__retry_t *r);

/* Plans the next attempt: `*pause_s` (0 for the first) and `*remote`.
 * `first` is set for the very first attempt (no pause). Returns 0, or
 * LVPN_ERETRY_MAX when connect-retry-max is used up (then nothing is
 * planned: OpenVPN would pause first and then exit; we exit at once). */
int lvpn__retry_next(lvpn__retry_t *r, const lvpn__retry_opts_t *o,
                     int first, unsigned *pause_s, int *remote);

/* The attempt in progress resolved its remote to `n` addresses (and uses
 * the first): later attempts walk through them. */
void lvpn__retry_set_addrs(lvpn__retry_t *r, int n);

/* The next attempt moves on to the next remote, whatever addresses are
 * left (AUTH_FAILED,TEMP with "advance remote"). */
void lvpn__retry_advance_remote(lvpn__retry_t *r);

/* A connection completed (Initialization Sequence Completed). */
void lvpn__retry_connected(lvpn__retry_t *r);

/* The attempt ended on server-poll-timeout: restart without a pause. */
void lvpn__retry_no_pause(lvpn__retry_t *r);

/* The server's RESTART carried the N flag: the next attempt moves on to the
 * next remote (and counts) even right after a completed connection. */
void lvpn__retry_advance(lvpn__retry_t *r);

/* The next attempt stays on the remote in use (AUTH_FAILED,TEMP without
 * "advance remote"). */
void lvpn__retry_stay(lvpn__retry_t *r);

/* remote-random: shuffles `n` items of `size` bytes at `base` as OpenVPN's
 * init_connection_list() does, swapping item i with item rnd[i] % n, for i
 * from 0 to n - 1 (`rnd` holds n random values). */
void lvpn__retry_shuffle(void *base, size_t size, int n, const uint32_t *rnd);

/* UDP's first handshake starts over when the server sends nothing new for
 * a while (tlssession's stall_ms; LVPN_EHANDSHAKE_STALL, same remote, no
 * pause, uncounted): 8 s, then 16 and 32 s after the restarts before it
 * (`restarts`: stalled handshakes since the last connection); none after
 * three, over TCP (the kernel retransmits), with tls-exit (a failed
 * negotiation ends the client) or when hand-window ends the attempt first.
 * The wait in ms, 0 for none. */
#define LVPN__RETRY_STALL_MAX 3
uint64_t lvpn__retry_stall_ms(unsigned restarts, int tcp, int tls_exit,
                              uint64_t hand_window_ms);

/* The pause OpenVPN takes before an attempt, given the unsuccessful count so
 * far. Exposed for the tests. */
unsigned lvpn__retry_pause(const lvpn__retry_opts_t *o, unsigned unsuccessful);

#endif
