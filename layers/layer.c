#include "layers/layer.h"

#include <assert.h>

static void layer_wake_cb(uv_idle_t *h);
static void workers_layer_closed(lvpn__workers_t *w);

void lvpn__layer_init(lvpn__layer_t *l, uv_loop_t *loop, const char *name,
                      const lvpn__layer_ops_t *ops, const lvpn__logger_t *log) {
  l->name = name;
  l->ops = ops;
  l->loop = loop;
  l->mgr = NULL;
  l->log = log;
  l->trace = &lvpn__trace_off;
  l->above = l->below = NULL;
  lvpn__queue_init(&l->up_in);
  lvpn__queue_init(&l->down_in);
  uv_idle_init(loop, &l->wake);
  l->wake.data = l;
  l->run_next = NULL;
  l->run_queued = 0;
  l->up_next_turn = 0;
  l->budget = LVPN__LAYER_BUDGET_DEFAULT;
  l->state = LVPN__LAYER_INIT;
  l->pending_closes = 0;
  l->stats = (lvpn__layer_stats_t){0};
}

/* The run list: layers woken while a wake callback runs are drained by
 * that same callback, in the order they were woken, so a packet crosses the
 * whole stack in one loop turn. Without it each hop would wait for the next
 * turn (an idle handle started from an idle callback runs in the next turn),
 * and every one of those turns costs an epoll_wait(..., 0). Each layer keeps
 * its own idle handle started too: whatever the list does not reach (the
 * bound below, a layer woken from an I/O callback) runs next turn as before.
 * A loop and its handles belong to one thread, hence one list per thread. */
#define LAYER_RUNS_PER_WAKE 16

static _Thread_local struct {
  lvpn__layer_t *head, *tail;
  int draining;
} run_list;

static void layer_wake(lvpn__layer_t *l, int next_turn) {
  if (!uv_is_active((uv_handle_t *)&l->wake))
    uv_idle_start(&l->wake, layer_wake_cb);
  if (run_list.draining && !l->run_queued && !next_turn) {
    l->run_queued = 1;
    l->run_next = NULL;
    if (run_list.tail != NULL)
      run_list.tail->run_next = l;
    else
      run_list.head = l;
    run_list.tail = l;
  }
}

void lvpn__layer_drop(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  l->stats.dropped++;
  LVPN__LOG(l->log, LVPN_LOG_PACKET, l->name, "drop %zu bytes", p->len);
  lvpn__pbuf_free(p);
}

void lvpn__layer_send_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__layer_send_up_to(l, l->above, p);
}

void lvpn__layer_send_up_to(lvpn__layer_t *l, lvpn__layer_t *n,
                            lvpn__pbuf_t *p) {
  if (n == NULL || !lvpn__layer_running(n)) {
    lvpn__layer_drop(l, p);
    return;
  }
  l->stats.up_out++;
  lvpn__pbufq_push(&n->up_in, p);
  layer_wake(n, l->up_next_turn);
}

void lvpn__layer_send_down(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__layer_t *n = l->below;
  if (n == NULL || !lvpn__layer_running(n)) {
    lvpn__layer_drop(l, p);
    return;
  }
  l->stats.down_out++;
  lvpn__pbufq_push(&n->down_in, p);
  layer_wake(n, 0);
}

static void layer_drain(lvpn__layer_t *l) {
  unsigned i;
  lvpn__pbuf_t *p;

  /* Alternate directions so neither starves; stop as soon as the stack is
   * no longer running (a packet may have made a layer fail). */
  for (i = 0; i < l->budget && lvpn__layer_running(l); i++) {
    int worked = 0;
    if ((p = lvpn__pbufq_pop(&l->up_in)) != NULL) {
      l->stats.up_in++;
      l->ops->up(l, p);
      worked = 1;
    }
    if (lvpn__layer_running(l) && (p = lvpn__pbufq_pop(&l->down_in)) != NULL) {
      l->stats.down_in++;
      l->ops->down(l, p);
      worked = 1;
    }
    if (!worked)
      break;
  }
  if (!lvpn__layer_running(l) ||
      (lvpn__queue_empty(&l->up_in) && lvpn__queue_empty(&l->down_in)))
    uv_idle_stop(&l->wake);
}

static void layer_wake_cb(uv_idle_t *h) {
  unsigned runs = 0;

  if (run_list.draining) { /* not expected: idle callbacks do not nest */
    layer_drain(h->data);
    return;
  }
  run_list.draining = 1;
  layer_drain(h->data);
  /* Handles are closed only in the loop's closing phase, so a layer on the
   * list is still there; one stopped meanwhile has its idle handle stopped. */
  while (run_list.head != NULL) {
    lvpn__layer_t *n = run_list.head;
    run_list.head = n->run_next;
    if (run_list.head == NULL)
      run_list.tail = NULL;
    n->run_queued = 0;
    if (runs++ < LAYER_RUNS_PER_WAKE && uv_is_active((uv_handle_t *)&n->wake))
      layer_drain(n);
  }
  run_list.draining = 0;
}

void lvpn__layer_fail(lvpn__layer_t *l, int err) {
  LVPN__LOG(l->log, LVPN_LOG_DEBUG, l->name, "fatal: %s", lvpn_strerror(err));
  if (l->mgr != NULL)
    lvpn__workers_shutdown(l->mgr, err);
}

static void layer_handle_closed(uv_handle_t *h) {
  lvpn__layer_t *l = h->data;
  assert(l->pending_closes > 0);
  if (--l->pending_closes == 0 && l->state == LVPN__LAYER_CLOSING) {
    l->state = LVPN__LAYER_CLOSED;
    if (l->mgr != NULL)
      workers_layer_closed(l->mgr);
  }
}

void lvpn__layer_close_handle(lvpn__layer_t *l, uv_handle_t *h) {
  if (uv_is_closing(h))
    return;
  h->data = l;
  l->pending_closes++;
  uv_close(h, layer_handle_closed);
}

static void layer_stop(lvpn__layer_t *l) {
  if (l->state == LVPN__LAYER_INIT || l->state == LVPN__LAYER_RUNNING) {
    l->state = LVPN__LAYER_STOPPED;
    uv_idle_stop(&l->wake);
    if (l->ops->stop != NULL)
      l->ops->stop(l);
  }
}

static void layer_close(lvpn__layer_t *l) {
  if (l->state != LVPN__LAYER_STOPPED)
    return;
  /* Guard so that a close callback running synchronously cannot report
   * the layer closed before all of its handles were handed to uv_close. */
  l->pending_closes++;
  l->state = LVPN__LAYER_CLOSING;
  lvpn__pbufq_clear(&l->up_in);
  lvpn__pbufq_clear(&l->down_in);
  if (l->ops->close != NULL)
    l->ops->close(l);
  lvpn__layer_close_handle(l, (uv_handle_t *)&l->wake);
  l->pending_closes--; /* the wake close above keeps it > 0 */
}

/* ---- workers manager ---- */

void lvpn__workers_init(lvpn__workers_t *w, uv_loop_t *loop,
                        const lvpn__logger_t *log,
                        lvpn__workers_down_cb on_down) {
  w->loop = loop;
  w->n = 0;
  w->state = LVPN__WORKERS_IDLE;
  w->err = 0;
  w->nclosed = 0;
  w->on_down = on_down;
  w->data = NULL;
  w->log = log;
}

int lvpn__workers_add(lvpn__workers_t *w, lvpn__layer_t *l) {
  if (w->state != LVPN__WORKERS_IDLE || w->n >= LVPN__MAX_LAYERS)
    return LVPN_EINVAL;
  l->mgr = w;
  w->layers[w->n++] = l;
  return 0;
}

void lvpn__layer_link(lvpn__layer_t *lower, lvpn__layer_t *upper) {
  if (lower != NULL)
    lower->above = upper;
  if (upper != NULL)
    upper->below = lower;
}

int lvpn__workers_start(lvpn__workers_t *w) {
  int i;
  int err;

  if (w->state != LVPN__WORKERS_IDLE)
    return LVPN_ESTATE;
  w->state = LVPN__WORKERS_RUNNING;
  /* Mark all running first: a layer's start may already send to a
   * neighbour (the control channel's reset goes down at once). */
  for (i = 0; i < w->n; i++)
    w->layers[i]->state = LVPN__LAYER_RUNNING;
  for (i = 0; i < w->n; i++) {
    lvpn__layer_t *l = w->layers[i];
    err = l->ops->start != NULL ? l->ops->start(l) : 0;
    if (err != 0) {
      LVPN__LOG(w->log, LVPN_LOG_ERROR, l->name, "start failed: %s",
                lvpn_strerror(err));
      lvpn__workers_shutdown(w, err);
      return err;
    }
    if (w->state != LVPN__WORKERS_RUNNING)
      return w->err; /* a start triggered a failure synchronously */
  }
  return 0;
}

void lvpn__workers_shutdown(lvpn__workers_t *w, int err) {
  int i;

  if (w->state == LVPN__WORKERS_STOPPING || w->state == LVPN__WORKERS_DOWN)
    return;
  w->state = LVPN__WORKERS_STOPPING;
  w->err = err != 0 ? err : LVPN_ESTOPPED;
  LVPN__LOG(w->log, LVPN_LOG_DEBUG, "workers", "shutting down: %s",
            lvpn_strerror(w->err));
  /* Stop all first (top down), so no layer sends into a closed one. */
  for (i = w->n - 1; i >= 0; i--)
    layer_stop(w->layers[i]);
  for (i = w->n - 1; i >= 0; i--)
    layer_close(w->layers[i]);
  if (w->n == 0)
    workers_layer_closed(w); /* nothing to wait for */
}

static void workers_layer_closed(lvpn__workers_t *w) {
  if (w->n > 0 && ++w->nclosed < w->n)
    return;
  w->state = LVPN__WORKERS_DOWN;
  if (w->on_down != NULL)
    w->on_down(w, w->err);
}
