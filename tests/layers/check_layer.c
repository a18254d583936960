/* Layer runtime and workers manager, proven with test layers:
 * [edge(bottom)] <-> pass-through x N <-> [edge(top)]. */
#include <string.h>

#include "layers/layer.h"
#include "tests/fakes.h"

#define NPKT 500
#define NPASS 5

typedef struct {
  lvpn__layer_t base;
  int is_top;
  int received;
  int in_order;
  int fail_after; /* pass-through: fail on this packet (0 = never) */
  int seen;
  uv_timer_t timer; /* an extra handle, to prove layers' handles close */
} test_layer_t;

/* Each test's loop, stack and layers; the fixture closes the loop. */
static uv_loop_t loop;
static lvpn__workers_t w;
static test_layer_t layers[NPASS + 2];
static lvpn__pbuf_pool_t pool;
static lvpn__logger_t logger;
static int down_calls;
static int down_err;

static void edge_emit(test_layer_t *t) {
  int i;
  for (i = 0; i < NPKT; i++) {
    lvpn__pbuf_t *p = lvpn__pbuf_alloc(&pool);
    memcpy(lvpn__pbuf_put(p, sizeof(i)), &i, sizeof(i));
    if (t->is_top)
      lvpn__layer_send_down(&t->base, p);
    else
      lvpn__layer_send_up(&t->base, p);
  }
}

static void edge_timer_cb(uv_timer_t *h) {
  edge_emit(container_of(h, test_layer_t, timer));
}

static int edge_start(lvpn__layer_t *l) {
  test_layer_t *t = container_of(l, test_layer_t, base);
  /* Emit from the loop, not from start, like a socket would. */
  return uv_timer_start(&t->timer, edge_timer_cb, 0, 0);
}

static void edge_recv(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  test_layer_t *t = container_of(l, test_layer_t, base);
  int v;
  memcpy(&v, p->data, sizeof(v));
  if (v != t->received)
    t->in_order = 0;
  t->received++;
  lvpn__pbuf_free(p);
  if (t->received == NPKT && l->mgr->layers[0] != l) {
    /* top: done once the bottom also got everything */
    test_layer_t *bottom = container_of(l->mgr->layers[0], test_layer_t, base);
    if (bottom->received == NPKT)
      lvpn__workers_shutdown(l->mgr, 0);
  } else if (t->received == NPKT) {
    lvpn__layer_t *topl = l->mgr->layers[l->mgr->n - 1];
    test_layer_t *top = container_of(topl, test_layer_t, base);
    if (top->received == NPKT)
      lvpn__workers_shutdown(l->mgr, 0);
  }
}

static void layer_close_timer(lvpn__layer_t *l) {
  test_layer_t *t = container_of(l, test_layer_t, base);
  lvpn__layer_close_handle(l, (uv_handle_t *)&t->timer);
}

static void layer_stop_timer(lvpn__layer_t *l) {
  test_layer_t *t = container_of(l, test_layer_t, base);
  uv_timer_stop(&t->timer);
}

static void pass_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  test_layer_t *t = container_of(l, test_layer_t, base);
  if (t->fail_after && ++t->seen == t->fail_after) {
    lvpn__layer_drop(l, p);
    lvpn__layer_fail(l, LVPN_EPROTO);
    return;
  }
  lvpn__layer_send_up(l, p);
}

static void pass_down(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__layer_send_down(l, p);
}

static const lvpn__layer_ops_t edge_ops = {.start = edge_start,
                                           .up = edge_recv,
                                           .down = edge_recv,
                                           .stop = layer_stop_timer,
                                           .close = layer_close_timer};
static const lvpn__layer_ops_t pass_ops = {.up = pass_up,
                                           .down = pass_down,
                                           .stop = layer_stop_timer,
                                           .close = layer_close_timer};

static void on_down(lvpn__workers_t *mgr, int err) {
  (void)mgr;
  down_calls++;
  down_err = err;
}

/* Into the file's loop and workers. */
static void build_stack(int n, int fail_layer, int fail_after) {
  int i;
  lvpn__workers_init(&w, &loop, &logger, on_down);
  for (i = 0; i < n; i++) {
    test_layer_t *t = &layers[i];
    int edge = (i == 0 || i == n - 1);
    memset(t, 0, sizeof(*t));
    lvpn__layer_init(&t->base, &loop, edge ? "edge" : "pass",
                     edge ? &edge_ops : &pass_ops, &logger);
    uv_timer_init(&loop, &t->timer);
    t->is_top = (i == n - 1);
    t->in_order = 1;
    if (i == fail_layer)
      t->fail_after = fail_after;
    ck_assert_int_eq(lvpn__workers_add(&w, &t->base), 0);
    if (i > 0)
      lvpn__layer_link(&layers[i - 1].base, &t->base);
  }
}

static void setup(void) {
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  lvpn__pbuf_pool_init(&pool, 64);
  lvpn__logger_init(&logger);
  down_calls = 0;
  down_err = 0;
}

static void teardown(void) {
  ck_assert_uint_eq(pool.outstanding, 0); /* no packet leaked */
  lvpn__pbuf_pool_destroy(&pool);
  fake_loop_close(&loop);
}

START_TEST(test_layer_passthrough_both_ways_in_order) {
  build_stack(NPASS + 2, -1, 0);
  ck_assert_int_eq(lvpn__workers_start(&w), 0);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(layers[0].received, NPKT);
  ck_assert_int_eq(layers[NPASS + 1].received, NPKT);
  ck_assert(layers[0].in_order);
  ck_assert(layers[NPASS + 1].in_order);
  ck_assert_uint_eq(layers[2].base.stats.up_in, NPKT);
  ck_assert_uint_eq(layers[2].base.stats.down_out, NPKT);
  ck_assert_int_eq(down_calls, 1);
  ck_assert_int_eq(down_err, LVPN_ESTOPPED);
}
END_TEST

START_TEST(test_layer_failure_mid_stream_brings_stack_down) {
  int i;

  build_stack(NPASS + 2, 3, NPKT / 2);
  ck_assert_int_eq(lvpn__workers_start(&w), 0);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(down_calls, 1);
  ck_assert_int_eq(down_err, LVPN_EPROTO);
  ck_assert_int_lt(layers[NPASS + 1].received, NPKT);
  for (i = 0; i < NPASS + 2; i++)
    ck_assert_int_eq(layers[i].base.state, LVPN__LAYER_CLOSED);
}
END_TEST

START_TEST(test_layer_stop_twice_is_harmless) {
  build_stack(3, -1, 0);
  ck_assert_int_eq(lvpn__workers_start(&w), 0);
  lvpn__workers_shutdown(&w, 0);
  lvpn__workers_shutdown(&w, LVPN_EPROTO); /* second reason is ignored */
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  lvpn__workers_shutdown(&w, 0); /* after down: still harmless */
  ck_assert_int_eq(down_calls, 1);
  ck_assert_int_eq(down_err, LVPN_ESTOPPED);
  ck_assert_int_eq(lvpn__workers_start(&w), LVPN_ESTATE);
}
END_TEST

START_TEST(test_layer_never_started_closes_clean) {
  build_stack(4, -1, 0);
  lvpn__workers_shutdown(&w, 0);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(down_calls, 1);
  ck_assert_int_eq(fake_handles(&loop), 0);
}
END_TEST

static int failing_start(lvpn__layer_t *l) {
  (void)l;
  return LVPN_ETUN;
}

START_TEST(test_layer_start_failure_returns_error_and_closes) {
  lvpn__layer_ops_t bad = pass_ops;

  bad.start = failing_start;
  build_stack(3, -1, 0);
  layers[1].base.ops = &bad;
  ck_assert_int_eq(lvpn__workers_start(&w), LVPN_ETUN);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(down_calls, 1);
  ck_assert_int_eq(down_err, LVPN_ETUN);
}
END_TEST

START_TEST(test_layer_bounded_drain_per_turn) {
  build_stack(3, -1, 0);
  layers[1].base.budget = 7;
  ck_assert_int_eq(lvpn__workers_start(&w), 0);
  /* each loop turn drains at most 7 per side */
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_uint_le(layers[1].base.stats.up_in, 7);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_uint_le(layers[1].base.stats.up_in, 14);
  ck_assert_uint_gt(layers[1].base.up_in.count, 0);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(layers[2].received, NPKT);
}
END_TEST

/* Layers woken while a wake callback runs are drained in the same loop
 * turn: a packet crosses all NPASS pass-through layers in one turn (one
 * epoll_wait), not one turn per hop. */
START_TEST(test_layer_one_turn_crosses_the_stack) {
  build_stack(NPASS + 2, -1, 0);
  ck_assert_int_eq(lvpn__workers_start(&w), 0);
  uv_run(&loop, UV_RUN_NOWAIT); /* the edges' timers emit; then the drain */
  ck_assert_int_ge(layers[NPASS + 1].received, LVPN__LAYER_BUDGET_DEFAULT);
  ck_assert_int_ge(layers[0].received, LVPN__LAYER_BUDGET_DEFAULT);
  ck_assert(layers[0].in_order);
  ck_assert(layers[NPASS + 1].in_order);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(layers[NPASS + 1].received, NPKT);
  ck_assert_int_eq(layers[0].received, NPKT);
}
END_TEST

/* up_next_turn (reliabletransport): what that layer passes up waits for
 * the next turn; the other direction still crosses in one. */
START_TEST(test_layer_up_next_turn_defers_the_layer_above) {
  build_stack(NPASS + 2, -1, 0);
  layers[2].base.up_next_turn = 1;
  ck_assert_int_eq(lvpn__workers_start(&w), 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_uint_gt(layers[2].base.stats.up_out, 0);
  ck_assert_uint_eq(layers[3].base.stats.up_in, 0);
  ck_assert_int_eq(layers[NPASS + 1].received, 0);
  ck_assert_int_ge(layers[0].received, LVPN__LAYER_BUDGET_DEFAULT);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(layers[NPASS + 1].received, NPKT);
  ck_assert(layers[NPASS + 1].in_order);
}
END_TEST

LVPN_TEST_MAIN("layer", 0, setup, teardown,
               test_layer_up_next_turn_defers_the_layer_above,
               test_layer_one_turn_crosses_the_stack,
               test_layer_passthrough_both_ways_in_order,
               test_layer_failure_mid_stream_brings_stack_down,
               test_layer_stop_twice_is_harmless,
               test_layer_never_started_closes_clean,
               test_layer_start_failure_returns_error_and_closes,
               test_layer_bounded_drain_per_turn)
