/* The common layer shape and the workers manager.
 *
 * A layer is a libuv-driven module with two input queues: `up_in` holds
 * packets coming from the layer below, `down_in` packets coming from the
 * layer above. Pushing onto a neighbour's queue wakes it (a uv_idle_t that is
 * active only while there is work); each wake drains at most `budget`
 * packets per direction, so one busy layer cannot starve the others.
 *
 * Lifecycle (libuv's): init (no I/O) -> start -> stop (idempotent) ->
 * close (asynchronous; the layer's memory may be released only after the
 * manager reports that every handle is closed).
 *
 * Only the workers manager wires layers together and tears them down: it
 * starts them bottom-up, and on the first fatal error (lvpn__layer_fail) or a
 * stop request shuts every layer down exactly once, then calls its owner's
 * callback when the last handle has closed.
 */
#ifndef LVPN_LAYERS_LAYER_H
#define LVPN_LAYERS_LAYER_H

#include <stdint.h>
#include <uv.h>

#include "lib/log.h"
#include "lib/pbuf.h"
#include "lib/trace.h"

typedef struct lvpn__layer_s lvpn__layer_t;
typedef struct lvpn__workers_s lvpn__workers_t;

typedef struct lvpn__layer_ops_s {
  /* Begin I/O. Returns 0 or a negative error (the stack then shuts down). */
  int (*start)(lvpn__layer_t *l);
  /* One packet from below; the layer owns `p` (forward or free it). */
  void (*up)(lvpn__layer_t *l, lvpn__pbuf_t *p);
  /* One packet from above; the layer owns `p`. */
  void (*down)(lvpn__layer_t *l, lvpn__pbuf_t *p);
  /* Stop I/O and timers. Called once, before close. May be NULL. */
  void (*stop)(lvpn__layer_t *l);
  /* Close the layer's own handles with lvpn__layer_close_handle(). The
   * runtime closes the wake handle and frees queued packets itself. May be
   * NULL when the layer owns no handle. */
  void (*close)(lvpn__layer_t *l);
  /* Report layer-specific counters (beyond lvpn__layer_stats_t) through
   * `cb`. May be NULL. */
  void (*counters)(const lvpn__layer_t *l,
                   void (*cb)(void *ud, const char *layer, const char *name,
                              uint64_t value),
                   void *ud);
} lvpn__layer_ops_t;

enum {
  LVPN__LAYER_INIT = 0,
  LVPN__LAYER_RUNNING,
  LVPN__LAYER_STOPPED,
  LVPN__LAYER_CLOSING,
  LVPN__LAYER_CLOSED
};

/* Counters every layer keeps; layers add their own next to these. */
typedef struct lvpn__layer_stats_s {
  uint64_t up_in;     /* packets received from below */
  uint64_t down_in;   /* packets received from above */
  uint64_t up_out;    /* packets passed up */
  uint64_t down_out;  /* packets passed down */
  uint64_t dropped;   /* packets freed without being passed on */
} lvpn__layer_stats_t;

struct lvpn__layer_s {
  const char *name;
  const lvpn__layer_ops_t *ops;
  uv_loop_t *loop;
  lvpn__workers_t *mgr;
  const lvpn__logger_t *log;
  lvpn__tracer_t *trace; /* the client's tracer, or lvpn__trace_off */
  lvpn__layer_t *above;
  lvpn__layer_t *below;
  lvpn__queue_t up_in;
  lvpn__queue_t down_in;
  uv_idle_t wake;
  lvpn__layer_t *run_next; /* in this thread's run list (layer.c) */
  int run_queued;
  /* Packets this layer sends up wake the layer above in the next loop
   * turn, not through the run list in this one: set by reliabletransport,
   * whose prompt ACK (a timer due next turn) must leave before the layers
   * above spend time computing their reply. */
  int up_next_turn;
  unsigned budget;      /* packets per direction per wake */
  int state;
  int pending_closes;   /* handles whose close callback has not run */
  lvpn__layer_stats_t stats;
};

#define LVPN__LAYER_BUDGET_DEFAULT 64

/* Prepares the common part; no I/O. `name` must be a static string. */
void lvpn__layer_init(lvpn__layer_t *l, uv_loop_t *loop, const char *name,
                      const lvpn__layer_ops_t *ops, const lvpn__logger_t *log);

/* Pass `p` to the layer above / below (ownership moves). With no neighbour,
 * or when the stack is shutting down, the packet is freed and counted as
 * dropped. */
void lvpn__layer_send_up(lvpn__layer_t *l, lvpn__pbuf_t *p);
void lvpn__layer_send_down(lvpn__layer_t *l, lvpn__pbuf_t *p);
/* Pass `p` to an arbitrary layer's up_in (from below), for forks such as the
 * packetmuxer's data path. Same drop rules as lvpn__layer_send_up. */
void lvpn__layer_send_up_to(lvpn__layer_t *l, lvpn__layer_t *to,
                            lvpn__pbuf_t *p);
/* Free a packet the layer decided not to pass on, counting it. */
void lvpn__layer_drop(lvpn__layer_t *l, lvpn__pbuf_t *p);

/* Report a fatal error: the manager shuts the whole stack down once. */
void lvpn__layer_fail(lvpn__layer_t *l, int err);

/* Close one of the layer's own handles (from ops->close). The handle's
 * `data` field is used by the runtime: layers recover themselves with
 * container_of instead. Harmless for a handle already closing. */
void lvpn__layer_close_handle(lvpn__layer_t *l, uv_handle_t *h);

static inline int lvpn__layer_running(const lvpn__layer_t *l) {
  return l->state == LVPN__LAYER_RUNNING;
}

/* ---- workers manager ---- */

#define LVPN__MAX_LAYERS 8

typedef void (*lvpn__workers_down_cb)(lvpn__workers_t *w, int err);

enum {
  LVPN__WORKERS_IDLE = 0,
  LVPN__WORKERS_RUNNING,
  LVPN__WORKERS_STOPPING,
  LVPN__WORKERS_DOWN
};

struct lvpn__workers_s {
  uv_loop_t *loop;
  lvpn__layer_t *layers[LVPN__MAX_LAYERS]; /* [0] is the bottom */
  int n;
  int state;
  int err;      /* first fatal error, or LVPN_ESTOPPED for a stop request */
  int nclosed;
  lvpn__workers_down_cb on_down;
  void *data;   /* owner's */
  const lvpn__logger_t *log;
};

/* `on_down` is called exactly once, after every handle of every layer is
 * closed, with the reason (LVPN_ESTOPPED for a stop request). */
void lvpn__workers_init(lvpn__workers_t *w, uv_loop_t *loop,
                        const lvpn__logger_t *log,
                        lvpn__workers_down_cb on_down);
/* Registers a layer; layers start in the order added (bottom first) and
 * stop in reverse. Returns 0 or LVPN_EINVAL when full or running. Wiring is
 * separate (lvpn__layer_link): the stack forks above the packetmuxer into
 * a control path and a data path. */
int lvpn__workers_add(lvpn__workers_t *w, lvpn__layer_t *l);
/* Makes `upper` the layer above `lower` (its send_up target) and `lower` the
 * layer below `upper` (its send_down target). Either may be NULL. */
void lvpn__layer_link(lvpn__layer_t *lower, lvpn__layer_t *upper);
/* Starts every layer bottom-up. If a layer fails to start, the stack shuts
 * down and that error is returned (on_down still follows, since layers own
 * handles from init on). Returns LVPN_ESTATE unless idle. */
int lvpn__workers_start(lvpn__workers_t *w);
/* Shut everything down once with `err` (0 means a user stop and is reported
 * as LVPN_ESTOPPED). Works from any state, also before start (that is how
 * a never-started stack is closed). Harmless when already stopping. */
void lvpn__workers_shutdown(lvpn__workers_t *w, int err);

#endif
