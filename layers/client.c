/* lvpn_client_t: the public API, the lifecycle (stop, close) and the
 * restart policy after a connection ends (OpenVPN's SIGUSR1 restart). The
 * stack itself is assembled in client_stack.c; PUSH_REPLY and rekeys are
 * applied in client_push.c. */
#include "layers/client.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#define EXIT_POLL_MS 50

void lvpn__client_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  if (c->event_cb != NULL)
    c->event_cb(c, ev, err);
}

int lvpn_client_new(lvpn_client_t **out, uv_loop_t *loop,
                    const lvpn_config_t *cfg) {
  lvpn_client_t *c;
  int err;

  if (out == NULL || loop == NULL || cfg == NULL)
    return LVPN_EINVAL;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return LVPN_ENOMEM;
  err = lvpn__config_clone(cfg, &c->cfg);
  if (err != 0) {
    free(c);
    return err;
  }
  c->loop = loop;
  lvpn__logger_init(&c->log);
  c->log.verb = c->cfg->verb;
  lvpn__trace_init(&c->trace);
  lvpn__pbuf_pool_init(&c->pool, 512);
  uv_timer_init(loop, &c->timer);
  uv_timer_init(loop, &c->reneg_timer);
  c->state = LVPN__CLIENT_NEW;
  *out = c;
  return 0;
}

void lvpn_client_set_log(lvpn_client_t *c, lvpn_log_cb cb, void *ud,
                         int verb) {
  c->log.cb = cb;
  c->log.ud = ud;
  if (verb >= 0)
    c->log.verb = verb;
}

void lvpn_client_set_trace(lvpn_client_t *c, lvpn_trace_cb cb, void *ud,
                           int level) {
  lvpn__trace_set(&c->trace, cb, ud, level);
}

void lvpn_client_set_tap(lvpn_client_t *c, unsigned points, lvpn_tap_cb cb,
                         void *ud) {
  c->trace.tap = cb;
  c->trace.tap_ud = ud;
  c->trace.taps = cb != NULL ? points : 0;
}

void lvpn_client_set_event_cb(lvpn_client_t *c, lvpn_event_cb cb) {
  c->event_cb = cb;
}

void lvpn_client_set_inside_write(lvpn_client_t *c, lvpn_inside_write_cb cb) {
  c->inside_write = cb;
}

void lvpn_client_set_data(lvpn_client_t *c, void *data) { c->data = data; }
void *lvpn_client_get_data(const lvpn_client_t *c) { return c->data; }


/* ---- set-up ---- */

static void client_exit_timer_cb(uv_timer_t *h) {
  lvpn_client_t *c = container_of(h, lvpn_client_t, timer);
  /* With cc-exit the EXIT message is reliable: done once it is acked. */
  if (c->state == LVPN__CLIENT_EXITING) {
    if (!c->cc_exit || lvpn__reltrans_all_acked(&c->rel) ||
        uv_now(c->loop) >= c->exit_deadline_ms) {
      uv_timer_stop(h);
      c->state = LVPN__CLIENT_STOPPING;
      lvpn__workers_shutdown(&c->workers, 0);
    }
  }
}

void lvpn_client_stop(lvpn_client_t *c) {
  int rc = LVPN_ESTATE;

  if (c->state == LVPN__CLIENT_RESTARTING) {
    /* between two connections: nothing is open but the timer */
    uv_timer_stop(&c->timer);
    c->state = LVPN__CLIENT_DOWN;
    c->err = LVPN_ESTOPPED;
    LVPN__TRACE(&c->trace, "client", "stopped", "error=%s",
                lvpn_err_name(LVPN_ESTOPPED));
    lvpn__client_event(c, LVPN_EVENT_STOPPED, LVPN_ESTOPPED);
    return;
  }
  if (c->state != LVPN__CLIENT_RUNNING)
    return;
  if (c->connected && c->exit_notify > 0 && !c->session.is_tcp) {
    if (c->cc_exit)
      rc = lvpn__tlssession_send_ctlmsg(&c->tls, "EXIT");
    else
      rc = lvpn__datachannel_send_occ_exit(&c->dc);
  }
  if (rc == 0) {
    /* Give the notification time to leave (and, for EXIT, to be acked):
     * at most explicit-exit-notify seconds, checked every 50 ms. */
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "SIGTERM received, sending exit notification to peer");
    c->state = LVPN__CLIENT_EXITING;
    c->exit_deadline_ms = uv_now(c->loop) + (uint64_t)c->exit_notify * 1000;
    uv_timer_start(&c->timer, client_exit_timer_cb, EXIT_POLL_MS,
                   EXIT_POLL_MS);
    return;
  }
  c->state = LVPN__CLIENT_STOPPING;
  lvpn__workers_shutdown(&c->workers, 0);
}

static void client_free(lvpn_client_t *c) {
  if (c->tls_conf_ready)
    lvpn__tls_conf_free(&c->tls_conf);
  lvpn__tlswrap_free(&c->session.wrap);
  if (c->rng_ready) {
    mbedtls_ctr_drbg_free(&c->drbg);
    mbedtls_entropy_free(&c->entropy);
  }
  lvpn__pbuf_pool_destroy(&c->pool);
  lvpn_config_free(c->cfg);
  mbedtls_platform_zeroize(c, sizeof(*c));
  free(c);
}

/* Both client timers go through here; the last one frees the client (close
 * callbacks do not run in the order of the uv_close calls). */
static void client_timer_closed(uv_handle_t *h) {
  lvpn_client_t *c = h->data;
  lvpn_close_cb cb = c->close_cb;
  if (--c->timers_open > 0)
    return;
  if (cb != NULL)
    cb(c);
  client_free(c);
}

static void client_finish_close(lvpn_client_t *c) {
  if (c->timer_closed)
    return;
  c->timer_closed = 1;
  c->timers_open = 2;
  c->timer.data = c->reneg_timer.data = c;
  uv_close((uv_handle_t *)&c->reneg_timer, client_timer_closed);
  uv_close((uv_handle_t *)&c->timer, client_timer_closed);
}

/* Errors after which OpenVPN restarts the connection (SIGUSR1) instead of
 * exiting. Certificate, authentication, configuration and local (tun,
 * netlink, script) failures are final: retrying cannot fix them. */
static int client_restartable(int err) {
  switch (err) {
  case LVPN_EPING_RESTART:
  case LVPN_ERESTART:
  case LVPN_EEXIT_NOTIFY:
  case LVPN_ECONNRESET:
  case LVPN_EHANDSHAKE_TIMEOUT:
  case LVPN_EPUSH_TIMEOUT:
  case LVPN_ERESOLVE:
  case LVPN_EPROTO:
  case UV_ECONNREFUSED:
  case UV_ETIMEDOUT:
  case UV_ENETUNREACH:
  case UV_EHOSTUNREACH:
  case UV_ECONNRESET:
    return 1;
  default:
    return 0;
  }
}

static void client_restart_cb(uv_timer_t *h) {
  lvpn_client_t *c = container_of(h, lvpn_client_t, timer);
  if (c->state != LVPN__CLIENT_RESTARTING)
    return;
  if (lvpn__client_build(c) != 0 && c->workers.state == LVPN__WORKERS_IDLE) {
    /* failed before anything started: nothing will call on_down */
    c->state = LVPN__CLIENT_DOWN;
    lvpn__client_event(c, LVPN_EVENT_STOPPED, c->err);
  }
}

void lvpn__client_on_down(lvpn__workers_t *w, int err) {
  lvpn_client_t *c = w->data;
  lvpn_config_t *cfg = c->cfg;
  int closing = c->state == LVPN__CLIENT_CLOSING;

  c->err = err;
  uv_timer_stop(&c->timer);
  uv_timer_stop(&c->reneg_timer);
  if (c->state == LVPN__CLIENT_RUNNING && client_restartable(err) &&
      (cfg->connect_retry_max == 0 || c->failures < cfg->connect_retry_max)) {
    /* connect-retry: 1 s by default, doubled after 5 failures in a row, up
     * to connect-retry-max's delay (OpenVPN's backoff). */
    uint64_t delay = (uint64_t)(cfg->connect_retry > 0 ? cfg->connect_retry : 1);
    int f = c->connected ? 0 : c->failures;
    c->failures = c->connected ? 0 : c->failures + 1;
    if (f > 5)
      delay <<= (f - 5 < 16 ? f - 5 : 16);
    if (cfg->connect_retry_max_delay > 0 &&
        delay > (uint64_t)cfg->connect_retry_max_delay)
      delay = (uint64_t)cfg->connect_retry_max_delay;
    if (!c->connected && cfg->n_remotes > 1)
      c->remote = (c->remote + 1) % cfg->n_remotes; /* try the next remote */
    c->connected = 0;
    c->state = LVPN__CLIENT_RESTARTING;
    c->restarts++;
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "SIGUSR1[soft,%s] received, process restarting",
              lvpn_err_name(err));
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client", "Restart pause, %llu second(s)",
              (unsigned long long)delay);
    lvpn__client_event(c, LVPN_EVENT_RESTARTING, err);
    LVPN__TRACE(&c->trace, "client", "restarting", "error=%s delay_s=%llu",
                lvpn_err_name(err), (unsigned long long)delay);
    uv_timer_start(&c->timer, client_restart_cb, delay * 1000, 0);
    return;
  }
  c->state = closing ? LVPN__CLIENT_CLOSING : LVPN__CLIENT_DOWN;
  LVPN__TRACE(&c->trace, "client", "stopped", "error=%s", lvpn_err_name(err));
  lvpn__client_event(c, LVPN_EVENT_STOPPED, err);
  if (closing)
    client_finish_close(c);
}

int lvpn_client_close(lvpn_client_t *c, lvpn_close_cb cb) {
  int was = c->state;
  if (was == LVPN__CLIENT_CLOSING)
    return LVPN_ESTATE;
  c->close_cb = cb;
  c->state = LVPN__CLIENT_CLOSING;
  if (was == LVPN__CLIENT_NEW || was == LVPN__CLIENT_DOWN ||
      was == LVPN__CLIENT_RESTARTING)
    client_finish_close(c);
  else
    lvpn__workers_shutdown(&c->workers, 0); /* on_down finishes the close */
  return 0;
}

int lvpn_client_inside_input(lvpn_client_t *c, const uint8_t *pkt,
                             size_t len) {
  if (c->state != LVPN__CLIENT_RUNNING || c->inside_write == NULL)
    return LVPN_ESTATE;
  return lvpn__tun_layer_inject(&c->tun, pkt, len);
}

int lvpn_client_tunnel_ipv4(const lvpn_client_t *c, uint32_t *addr,
                            uint32_t *netmask_or_peer) {
  const lvpn__push_t *p = &c->tls.push;
  if (!c->connected || !p->has_ifconfig)
    return LVPN_ESTATE;
  *addr = p->ifconfig_local.s_addr;
  *netmask_or_peer = p->ifconfig_remote.s_addr;
  return 0;
}

void lvpn_client_counters(const lvpn_client_t *c, lvpn_counter_cb cb,
                          void *ud) {
  int i;
  for (i = 0; i < c->workers.n; i++) {
    const lvpn__layer_t *l = c->workers.layers[i];
    cb(ud, l->name, "up_in", l->stats.up_in);
    cb(ud, l->name, "down_in", l->stats.down_in);
    cb(ud, l->name, "up_out", l->stats.up_out);
    cb(ud, l->name, "down_out", l->stats.down_out);
    cb(ud, l->name, "dropped", l->stats.dropped);
    if (l->ops->counters != NULL)
      l->ops->counters(l, cb, ud);
  }
  cb(ud, "client", "pool_allocs", c->pool.allocs);
  cb(ud, "client", "attempts", c->attempts);
  cb(ud, "client", "restarts", c->restarts);
}
