/* OpenVPN 2.6's reconnection policy as a pure function of the attempt
 * count: see client_retry.h. */
#include "layers/client_retry.h"

#include "layervpn.h"

#define MAX_DOUBLINGS 15 /* 65535 << 15 still fits in 32 bits */

void lvpn__retry_init(lvpn__retry_t *r) {
  r->unsuccessful = 0;
  r->remote = -1;
  r->no_advance = 0;
  r->no_pause = 0;
  r->addr = 0;
  r->n_addrs = 0;
  r->advance_remote = 0;
}

unsigned lvpn__retry_pause(const lvpn__retry_opts_t *o,
                           unsigned unsuccessful) {
  unsigned n = o->n_remotes > 0 ? o->n_remotes : 1;
  unsigned sec = o->connect_retry;
  unsigned cap = o->connect_retry_cap;
  int backoff = (int)(unsuccessful / n) - 4;

  if (cap < o->connect_retry)
    cap = o->connect_retry;
  if (backoff > 0)
    sec = (sec > 0 ? sec : 1) << (backoff < MAX_DOUBLINGS ? backoff
                                                          : MAX_DOUBLINGS);
  return sec > cap ? cap : sec;
}

int lvpn__retry_next(lvpn__retry_t *r, const lvpn__retry_opts_t *o,
                     int first, unsigned *pause_s, int *remote) {
  unsigned n = o->n_remotes > 0 ? o->n_remotes : 1;
  unsigned pause = first || r->no_pause ? 0 : lvpn__retry_pause(o, r->unsuccessful);
  unsigned count = r->unsuccessful;
  int next = r->remote;

  int addr = r->addr, n_addrs = r->n_addrs;

  if (r->no_advance && r->remote >= 0) {
    /* right after a completed connection: same remote, not counted */
  } else if (r->remote >= 0 && addr + 1 < n_addrs && !r->advance_remote) {
    addr++; /* the remote's next address, not counted */
  } else {
    count++;
    next = (int)(((unsigned)(r->remote + 1)) % n);
    addr = 0;
    if (!(o->persist_remote_ip && n == 1))
      n_addrs = 0; /* resolve again */
  }
  if (o->connect_retry_max > 0 &&
      (unsigned long long)count >
          (unsigned long long)n * o->connect_retry_max)
    return LVPN_ERETRY_MAX;
  r->unsuccessful = count;
  r->remote = next;
  r->no_advance = 0;
  r->no_pause = 0;
  r->advance_remote = 0;
  r->addr = addr;
  r->n_addrs = n_addrs;
  *pause_s = pause;
  *remote = next;
  return 0;
}

void lvpn__retry_connected(lvpn__retry_t *r) {
  r->unsuccessful = 0;
  r->no_advance = 1;
}

void lvpn__retry_no_pause(lvpn__retry_t *r) { r->no_pause = 1; }

void lvpn__retry_advance(lvpn__retry_t *r) { r->no_advance = 0; }

void lvpn__retry_stay(lvpn__retry_t *r) {
  if (r->remote >= 0)
    r->no_advance = 1;
}

void lvpn__retry_shuffle(void *base, size_t size, int n, const uint32_t *rnd) {
  unsigned char *a, *b, t;
  size_t k;
  int i, j;

  for (i = 0; i < n; i++) {
    j = (int)(rnd[i] % (uint32_t)n);
    if (i == j)
      continue;
    a = (unsigned char *)base + (size_t)i * size;
    b = (unsigned char *)base + (size_t)j * size;
    for (k = 0; k < size; k++) {
      t = a[k];
      a[k] = b[k];
      b[k] = t;
    }
  }
}

void lvpn__retry_set_addrs(lvpn__retry_t *r, int n) {
  r->n_addrs = n;
  if (r->addr >= n)
    r->addr = 0;
}

void lvpn__retry_advance_remote(lvpn__retry_t *r) {
  r->no_advance = 0;
  r->advance_remote = 1;
}

uint64_t lvpn__retry_stall_ms(unsigned restarts, int tcp, int tls_exit,
                              uint64_t hand_window_ms) {
  uint64_t ms;
  if (tcp || tls_exit || restarts >= LVPN__RETRY_STALL_MAX)
    return 0;
  ms = 8000ull << restarts;
  return ms < hand_window_ms ? ms : 0;
}
