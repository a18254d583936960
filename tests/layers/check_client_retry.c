/* The reconnection policy (layers/client_retry.c) against OpenVPN 2.6's
 * socket_restart_pause() and next_connection_entry(). */
#include <check.h>

#include "layervpn.h"
#include "layers/client_retry.h"
#include "tests/fakes.h"

static const lvpn__retry_opts_t defaults = {1, 300, 0, 1, 0};

/* Fails `n` attempts in a row after the first; stores each pause. */
static void fail_n(lvpn__retry_t *r, const lvpn__retry_opts_t *o, int n,
                   unsigned *pauses, int *remotes) {
  int i;
  for (i = 0; i < n; i++)
    ck_assert_int_eq(lvpn__retry_next(r, o, 0, &pauses[i], &remotes[i]), 0);
}

START_TEST(test_client_retry_first_attempt_counts_without_pause) {
  lvpn__retry_t r;
  unsigned pause = 99;
  int remote = -5;
  lvpn__retry_init(&r);
  ck_assert_int_eq(lvpn__retry_next(&r, &defaults, 1, &pause, &remote), 0);
  ck_assert_uint_eq(pause, 0);
  ck_assert_int_eq(remote, 0);
  ck_assert_uint_eq(r.unsuccessful, 1);
}
END_TEST

/* One remote, defaults: 1 s until 5 unsuccessful attempts, then doubling
 * (OpenVPN: backoff = attempts / remotes - 4), capped at 300 s. */
START_TEST(test_client_retry_backoff_doubles_after_five_and_caps) {
  static const unsigned want[] = {1, 1, 1, 1, 2, 4, 8, 16, 32,
                                  64, 128, 256, 300, 300};
  unsigned pauses[14];
  int remotes[14], i;
  lvpn__retry_t r;
  unsigned p;
  int rem;
  lvpn__retry_init(&r);
  lvpn__retry_next(&r, &defaults, 1, &p, &rem);
  fail_n(&r, &defaults, 14, pauses, remotes);
  for (i = 0; i < 14; i++) {
    ck_assert_uint_eq(pauses[i], want[i]);
    ck_assert_int_eq(remotes[i], 0);
  }
  ck_assert_uint_eq(r.unsuccessful, 15);
}
END_TEST

START_TEST(test_client_retry_pause_formula) {
  lvpn__retry_opts_t o = {5, 60, 0, 3, 0};
  ck_assert_uint_eq(lvpn__retry_pause(&o, 0), 5);
  ck_assert_uint_eq(lvpn__retry_pause(&o, 14), 5);  /* 14/3 - 4 = 0 */
  ck_assert_uint_eq(lvpn__retry_pause(&o, 15), 10); /* 15/3 - 4 = 1 */
  ck_assert_uint_eq(lvpn__retry_pause(&o, 18), 20);
  ck_assert_uint_eq(lvpn__retry_pause(&o, 21), 40);
  ck_assert_uint_eq(lvpn__retry_pause(&o, 24), 60); /* capped */
  /* connect-retry 0: no pause until the backoff starts, then from 1 s */
  o = (lvpn__retry_opts_t){0, 300, 0, 1, 0};
  ck_assert_uint_eq(lvpn__retry_pause(&o, 4), 0);
  ck_assert_uint_eq(lvpn__retry_pause(&o, 5), 2);
  /* the cap is at least the base (OpenVPN: max(second, first)) */
  o = (lvpn__retry_opts_t){10, 5, 0, 1, 0};
  ck_assert_uint_eq(lvpn__retry_pause(&o, 0), 10);
  /* at most 15 doublings: no overflow with the largest base */
  o = (lvpn__retry_opts_t){65535, 0xFFFFFFFFu, 0, 1, 0};
  ck_assert_uint_eq(lvpn__retry_pause(&o, 1000), 65535u << 15);
}
END_TEST

START_TEST(test_client_retry_rotates_remotes) {
  lvpn__retry_opts_t o = {1, 300, 0, 3, 0};
  unsigned pauses[5];
  int remotes[5];
  lvpn__retry_t r;
  unsigned p;
  int rem;
  lvpn__retry_init(&r);
  lvpn__retry_next(&r, &o, 1, &p, &rem);
  ck_assert_int_eq(rem, 0);
  fail_n(&r, &o, 5, pauses, remotes);
  ck_assert_int_eq(remotes[0], 1);
  ck_assert_int_eq(remotes[1], 2);
  ck_assert_int_eq(remotes[2], 0);
  ck_assert_int_eq(remotes[3], 1);
  ck_assert_int_eq(remotes[4], 2);
}
END_TEST

/* After "Initialization Sequence Completed" the count restarts at 0 and the
 * first reconnection stays on the same remote without being counted. */
START_TEST(test_client_retry_connected_resets_and_stays) {
  lvpn__retry_opts_t o = {1, 300, 0, 2, 0};
  lvpn__retry_t r;
  unsigned p, pauses[8];
  int rem, remotes[8];
  lvpn__retry_init(&r);
  lvpn__retry_next(&r, &o, 1, &p, &rem);
  fail_n(&r, &o, 8, pauses, remotes); /* 9 unsuccessful, 2 remotes */
  ck_assert_uint_eq(pauses[7], 1);     /* 8/2 - 4 = 0 */
  ck_assert_uint_eq(lvpn__retry_pause(&o, r.unsuccessful), 1);
  ck_assert_int_eq(remotes[7], 0);
  lvpn__retry_connected(&r);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert_uint_eq(p, 1);
  ck_assert_int_eq(rem, 0); /* same remote */
  ck_assert_uint_eq(r.unsuccessful, 0);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert_int_eq(rem, 1); /* then on to the next one, counted */
  ck_assert_uint_eq(r.unsuccessful, 1);
}
END_TEST

/* connect-retry-max N: N attempts per remote, then LVPN_ERETRY_MAX. */
START_TEST(test_client_retry_max_gives_up) {
  lvpn__retry_opts_t o = {1, 300, 2, 1, 0};
  lvpn__retry_t r;
  unsigned p;
  int rem;
  lvpn__retry_init(&r);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 1, &p, &rem), 0); /* 1 */
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0); /* 2 */
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), LVPN_ERETRY_MAX);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), LVPN_ERETRY_MAX);
  /* after a completed connection: one free retry, then two counted */
  lvpn__retry_connected(&r);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), LVPN_ERETRY_MAX);
  /* two remotes, connect-retry-max 1: each remote once */
  o = (lvpn__retry_opts_t){1, 300, 1, 2, 0};
  lvpn__retry_init(&r);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 1, &p, &rem), 0);
  ck_assert_int_eq(rem, 0);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert_int_eq(rem, 1);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), LVPN_ERETRY_MAX);
}
END_TEST

/* server-poll-timeout restarts at once; the attempt after that pauses as
 * usual again. */
START_TEST(test_client_retry_no_pause_once) {
  lvpn__retry_opts_t o = {3, 300, 0, 1, 0};
  lvpn__retry_t r;
  unsigned p;
  int rem;
  lvpn__retry_init(&r);
  lvpn__retry_next(&r, &o, 1, &p, &rem);
  lvpn__retry_no_pause(&r);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert_uint_eq(p, 0);
  ck_assert_uint_eq(r.unsuccessful, 2); /* still counted */
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert_uint_eq(p, 3);
}
END_TEST

/* RESTART,[N] right after a connection: the next remote, counted. */
START_TEST(test_client_retry_restart_next_advances) {
  lvpn__retry_opts_t o = {1, 300, 0, 2, 0};
  lvpn__retry_t r;
  unsigned p;
  int rem;
  lvpn__retry_init(&r);
  lvpn__retry_next(&r, &o, 1, &p, &rem);
  lvpn__retry_connected(&r);
  lvpn__retry_advance(&r);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert_int_eq(rem, 1);
  ck_assert_uint_eq(r.unsuccessful, 1);
}
END_TEST

/* Several addresses for one remote: each is tried (not counted) before the
 * next remote; then the next remote is resolved again. */
START_TEST(test_client_retry_walks_addresses_then_next_remote) {
  lvpn__retry_opts_t o = {1, 300, 0, 2, 0};
  lvpn__retry_t r;
  unsigned p;
  int rem;
  lvpn__retry_init(&r);
  lvpn__retry_next(&r, &o, 1, &p, &rem);
  lvpn__retry_set_addrs(&r, 3); /* remote 0 resolved to three addresses */
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert(rem == 0 && r.addr == 1 && r.unsuccessful == 1);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert(rem == 0 && r.addr == 2 && r.unsuccessful == 1);
  ck_assert_int_eq(lvpn__retry_next(&r, &o, 0, &p, &rem), 0);
  ck_assert(rem == 1 && r.addr == 0 && r.n_addrs == 0 && r.unsuccessful == 2);
  /* after a connection to remote 1's second address: the same one */
  lvpn__retry_set_addrs(&r, 2);
  lvpn__retry_next(&r, &o, 0, &p, &rem);
  ck_assert(rem == 1 && r.addr == 1);
  lvpn__retry_connected(&r);
  lvpn__retry_next(&r, &o, 0, &p, &rem);
  ck_assert(rem == 1 && r.addr == 1 && r.n_addrs == 2);
  /* "advance remote" skips the addresses left */
  lvpn__retry_set_addrs(&r, 4);
  lvpn__retry_advance_remote(&r);
  lvpn__retry_next(&r, &o, 0, &p, &rem);
  ck_assert(rem == 0 && r.addr == 0 && r.n_addrs == 0);
}
END_TEST

/* persist-remote-ip with one remote: its addresses are kept when the list
 * comes round; without it, resolved again. */
START_TEST(test_client_retry_persist_remote_ip_keeps_addresses) {
  lvpn__retry_opts_t o = {1, 300, 0, 1, 1};
  lvpn__retry_t r;
  unsigned p;
  int rem;
  lvpn__retry_init(&r);
  lvpn__retry_next(&r, &o, 1, &p, &rem);
  lvpn__retry_set_addrs(&r, 2);
  lvpn__retry_next(&r, &o, 0, &p, &rem);
  ck_assert(r.addr == 1);
  lvpn__retry_next(&r, &o, 0, &p, &rem);
  ck_assert(rem == 0 && r.addr == 0 && r.n_addrs == 2);
  o.persist_remote_ip = 0;
  lvpn__retry_next(&r, &o, 0, &p, &rem);
  lvpn__retry_next(&r, &o, 0, &p, &rem);
  ck_assert(r.addr == 0 && r.n_addrs == 0);
}
END_TEST

/* remote-random: OpenVPN's swaps, and always a permutation. */
START_TEST(test_client_retry_shuffle_as_openvpn) {
  static const uint32_t twos[4] = {2, 2, 6, 10}; /* all % 4 == 2 */
  uint32_t rnd[64];
  int v[64], seen[64] = {0}, i;
  for (i = 0; i < 4; i++)
    v[i] = i;
  lvpn__retry_shuffle(v, sizeof(v[0]), 4, twos);
  ck_assert(v[0] == 2 && v[1] == 0 && v[2] == 3 && v[3] == 1);
  for (i = 0; i < 64; i++) {
    v[i] = i;
    rnd[i] = (uint32_t)i * 2654435761u;
  }
  lvpn__retry_shuffle(v, sizeof(v[0]), 64, rnd);
  for (i = 0; i < 64; i++)
    seen[v[i]]++;
  for (i = 0; i < 64; i++)
    ck_assert_int_eq(seen[i], 1);
}
END_TEST

/* A stalled UDP handshake starts over after 8, 16, 32 s, then no more;
 * never over TCP, with tls-exit, or past hand-window. */
START_TEST(test_client_retry_stall_waits) {
  ck_assert_uint_eq(lvpn__retry_stall_ms(0, 0, 0, 60000), 8000);
  ck_assert_uint_eq(lvpn__retry_stall_ms(1, 0, 0, 60000), 16000);
  ck_assert_uint_eq(lvpn__retry_stall_ms(2, 0, 0, 60000), 32000);
  ck_assert_uint_eq(lvpn__retry_stall_ms(3, 0, 0, 60000), 0);
  ck_assert_uint_eq(lvpn__retry_stall_ms(40, 0, 0, 60000), 0);
  ck_assert_uint_eq(lvpn__retry_stall_ms(0, 1, 0, 60000), 0);
  ck_assert_uint_eq(lvpn__retry_stall_ms(0, 0, 1, 60000), 0);
  /* hand-window ends the attempt first: it decides */
  ck_assert_uint_eq(lvpn__retry_stall_ms(2, 0, 0, 32000), 0);
  ck_assert_uint_eq(lvpn__retry_stall_ms(0, 0, 0, 8000), 0);
  ck_assert_uint_eq(lvpn__retry_stall_ms(0, 0, 0, 8001), 8000);
}
END_TEST

LVPN_TEST_MAIN("client_retry", 0, NULL, NULL,
               test_client_retry_stall_waits,
               test_client_retry_shuffle_as_openvpn,
               test_client_retry_walks_addresses_then_next_remote,
               test_client_retry_persist_remote_ip_keeps_addresses,
               test_client_retry_first_attempt_counts_without_pause,
               test_client_retry_backoff_doubles_after_five_and_caps,
               test_client_retry_pause_formula,
               test_client_retry_rotates_remotes,
               test_client_retry_connected_resets_and_stays,
               test_client_retry_max_gives_up,
               test_client_retry_no_pause_once,
               test_client_retry_restart_next_advances)
