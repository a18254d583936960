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
  /* Clients made from one config share one read-only copy of it; one that
   * writes to its config (auth-nocache forgets the password, an 'auto'
   * HTTP proxy remembers Basic) gets its own. */
  if (cfg->auth_nocache || cfg->proxy.kind != LVPN__PROXY_NONE) {
    err = lvpn__config_clone(cfg, &c->cfg);
    if (err == 0)
      c->cfg->snap_refs = 1;
  } else {
    err = lvpn__config_share(cfg, &c->cfg);
  }
  /* one packet pool per loop: an idle session keeps no buffers */
  if (err == 0 && (c->pool = lvpn__pbuf_pool_share(loop, 512)) == NULL) {
    lvpn__config_unshare(c->cfg);
    err = LVPN_ENOMEM;
  }
  if (err != 0) {
    free(c);
    return err;
  }
  c->loop = loop;
  lvpn__logger_init(&c->log);
  c->log.verb = c->cfg->verb;
  c->mute.cutoff = c->cfg->mute; /* mute N */
  c->log.mute = &c->mute;
  lvpn__trace_init(&c->trace);
  lvpn__hooks_init(&c->hooks, c->pool, c);
  uv_timer_init(loop, &c->timer);
  uv_timer_init(loop, &c->reneg_timer);
  uv_timer_init(loop, &c->poll_timer);
  lvpn__dns_host_init(&c->dns_host, &c->log, NULL, NULL);
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

void lvpn_client_set_keylog(lvpn_client_t *c, lvpn_keylog_cb cb, void *ud) {
  c->trace.keylog = cb;
  c->trace.keylog_ud = cb != NULL ? ud : NULL;
}

void lvpn_client_set_event_cb(lvpn_client_t *c, lvpn_event_cb cb) {
  c->event_cb = cb;
}

void lvpn_client_set_inside_write(lvpn_client_t *c, lvpn_inside_write_cb cb) {
  c->inside_write = cb;
}

void lvpn_client_set_data(lvpn_client_t *c, void *data) { c->data = data; }

int lvpn__client_set_credentials(lvpn_client_t *c, const char *user,
                                 const char *pass) {
  lvpn_config_t *cfg;
  char *u = strdup(user), *p = strdup(pass);
  if (u == NULL || p == NULL || lvpn__config_own(&c->cfg) != 0) {
    free(u);
    if (p != NULL)
      mbedtls_platform_zeroize(p, strlen(p));
    free(p);
    return LVPN_ENOMEM;
  }
  cfg = c->cfg;
  free(cfg->username);
  if (cfg->password != NULL) {
    mbedtls_platform_zeroize(cfg->password, strlen(cfg->password));
    free(cfg->password);
  }
  cfg->username = u;
  cfg->password = p;
  cfg->auth_user_pass = LVPN__AUP_GIVEN;
  return 0;
}
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
    c->cred_wait = 0;
    lvpn__tun_keep_release(&c->tun_keep, &c->log, &c->trace);
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
  lvpn__config_attach_put(c->tls_ref); /* the last user frees it */
  lvpn__tlswrap_free(&c->session.wrap);
  lvpn__tlswrap_free(&c->session.dyn);
  if (c->rng_ready) {
    mbedtls_ctr_drbg_free(&c->drbg);
  }
  lvpn__networkio_release(&c->net);
  lvpn__pbuf_pool_unshare(c->pool);
  lvpn__client_auth_free(c);
  lvpn__client_names_free(c);
  lvpn__dns_host_close(&c->dns_host);
  free(c->persist);
  free(c->cache_dir);
  lvpn__client_dns_free(c);
  lvpn__config_unshare(c->cfg);
  mbedtls_platform_zeroize(c, sizeof(*c));
  free(c);
}

/* The client's timers all go through here; the last one frees the client (close
 * callbacks do not run in the order of the uv_close calls). */
static void client_timer_closed(uv_handle_t *h) {
  lvpn_client_t *c = h->data;
  lvpn_close_cb cb = c->close_cb;
  if (--c->timers_open > 0)
    return;
  lvpn__hooks_free(&c->hooks); /* `removed` before the close callback */
  if (cb != NULL)
    cb(c);
  client_free(c);
}

static void client_finish_close(lvpn_client_t *c) {
  if (c->timer_closed)
    return;
  lvpn__tun_keep_release(&c->tun_keep, &c->log, &c->trace);
  c->timer_closed = 1;
  c->timers_open = 3;
  c->timer.data = c->reneg_timer.data = c->poll_timer.data = c;
  uv_close((uv_handle_t *)&c->poll_timer, client_timer_closed);
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
  case LVPN_EAUTH_FAIL_TEMP:
  case LVPN_EHANDSHAKE_TIMEOUT:
  case LVPN_EHANDSHAKE_STALL:
  case LVPN_EPUSH_TIMEOUT:
  case LVPN_ESERVER_POLL:
  case LVPN_ERESOLVE:
  case LVPN_EPROTO:
  case LVPN_EPROXY: /* OpenVPN: SIGUSR1 "proxy-error" */
  case UV_ECONNREFUSED:
  case UV_ETIMEDOUT:
  case UV_ENETUNREACH:
  case UV_EHOSTUNREACH:
  case UV_ENETDOWN:       /* the interface went down under a TCP connect */
  case UV_EADDRNOTAVAIL:  /* our address vanished (DHCP, link change) */
  case UV_ECONNABORTED:
  case UV_ECONNRESET:
    return 1;
  default:
    return 0;
  }
}

/* Does a running connection that ends with `err` restart? For the state
 * shown while the stack shuts down; whether connect-retry-max is used up is
 * decided by the retry policy once the stack is down. */
static int client_will_restart(const lvpn_client_t *c, int err) {
  /* tls-exit: a failed TLS negotiation ends the client (OpenVPN's
   * tls_exit_signal SIGTERM in place of SIGUSR1) */
  if (c->cfg->tls_exit &&
      (err == LVPN_EHANDSHAKE_TIMEOUT || err == LVPN_EPROTO))
    return 0;
  /* remap-usr1 SIGTERM: every restart (OpenVPN's SIGUSR1) is an exit */
  if (c->cfg->remap_usr1 == 2)
    return 0;
  return client_restartable(err);
}

static void client_restart_cb(uv_timer_t *h) {
  lvpn_client_t *c = container_of(h, lvpn_client_t, timer);
  if (c->state != LVPN__CLIENT_RESTARTING)
    return;
  if (lvpn__client_build(c) != 0 && c->workers.state == LVPN__WORKERS_IDLE) {
    /* failed before anything started: nothing will call on_down */
    lvpn__tun_keep_release(&c->tun_keep, &c->log, &c->trace);
    c->state = LVPN__CLIENT_DOWN;
    lvpn__client_event(c, LVPN_EVENT_STOPPED, c->err);
  }
}

void lvpn__client_resume(lvpn_client_t *c) {
  if (c->state == LVPN__CLIENT_RESTARTING)
    uv_timer_start(&c->timer, client_restart_cb, 0, 0);
}

unsigned lvpn__client_poll_timeout(const lvpn_client_t *c) {
  /* OpenVPN: one setting under two names, the last one given wins. */
  int s = c->cfg->server_poll_timeout > 0 ? c->cfg->server_poll_timeout
                                          : c->cfg->connect_timeout;
  return s > 0 ? (unsigned)s : 0;
}

/* server-poll-timeout: an attempt that has heard nothing valid from the
 * server (no authenticated control packet) is abandoned, and the next one
 * starts without a pause. After the first packet the handshake is bounded
 * by hand-window instead. */
static void client_poll_cb(uv_timer_t *h) {
  lvpn_client_t *c = container_of(h, lvpn_client_t, poll_timer);
  if (c->state != LVPN__CLIENT_RUNNING ||
      c->workers.state != LVPN__WORKERS_RUNNING || c->rel.base.stats.up_in > 0)
    return;
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "Server poll timeout, restarting");
  lvpn__retry_no_pause(&c->retry);
  lvpn__workers_shutdown(&c->workers, LVPN_ESERVER_POLL);
}

void lvpn__client_arm_poll(lvpn_client_t *c) {
  unsigned s = lvpn__client_poll_timeout(c);
  if (s > 0)
    uv_timer_start(&c->poll_timer, client_poll_cb, (uint64_t)s * 1000, 0);
}

static void client_retry_opts(const lvpn_client_t *c, lvpn__retry_opts_t *o) {
  const lvpn_config_t *cfg = c->cfg;
  o->connect_retry = cfg->connect_retry > 0 ? (unsigned)cfg->connect_retry : 0;
  o->connect_retry_cap =
      cfg->connect_retry_max_delay > 0 ? (unsigned)cfg->connect_retry_max_delay
                                       : 0;
  o->connect_retry_max =
      cfg->connect_retry_max > 0 ? (unsigned)cfg->connect_retry_max : 0;
  o->n_remotes = cfg->n_remotes > 0 ? (unsigned)cfg->n_remotes : 1;
  o->persist_remote_ip = cfg->persist_remote_ip;
}

/* The first attempt: remote 0, counted, no pause. */
void lvpn__client_first_attempt(lvpn_client_t *c) {
  lvpn__retry_opts_t o;
  unsigned pause;
  client_retry_opts(c, &o);
  lvpn__retry_init(&c->retry);
  lvpn__retry_next(&c->retry, &o, 1, &pause, &c->remote);
}

/* Plans the next attempt after a restartable error. Returns 0 with the
 * restart timer armed, or LVPN_ERETRY_MAX. */
static int client_schedule_restart(lvpn_client_t *c, int err) {
  lvpn__retry_opts_t o;
  unsigned pause;
  int rc;

  client_retry_opts(c, &o);
  rc = lvpn__retry_next(&c->retry, &o, 0, &pause, &c->remote);
  if (rc == 0 && err == LVPN_EAUTH_FAIL_TEMP) {
    /* The server's back-off, never shorter than ours, capped like it
     * (connect-retry's second value, 300 s by default). */
    unsigned cap = o.connect_retry_cap > 0 ? o.connect_retry_cap : 300;
    unsigned b = (unsigned)c->tls.auth_temp_backoff_s;
    if (b > pause)
      pause = b < cap ? b : cap;
  }
  if (rc != 0) {
    LVPN__LOG(&c->log, LVPN_LOG_FATAL, "client",
              "All connections have been connect-retry-max (%u) times "
              "unsuccessful, exiting",
              o.connect_retry_max);
    return rc;
  }
  c->state = LVPN__CLIENT_RESTARTING;
  c->restarts++;
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "SIGUSR1[soft,%s] received, process restarting",
            lvpn_err_name(err));
  lvpn__client_event(c, LVPN_EVENT_RESTARTING, err);
  LVPN__TRACE(&c->trace, "client", "restarting", "error=%s delay_s=%u",
              lvpn_err_name(err), pause);
  /* management-hold: OpenVPN's do_hold at each restart replaces the pause;
   * hold release calls lvpn__client_resume(). */
  if (c->state == LVPN__CLIENT_RESTARTING && c->restart_hold != NULL &&
      c->restart_hold(c->restart_hold_ud, pause) == 1)
    return 0;
  if (pause > 0 && c->state == LVPN__CLIENT_RESTARTING)
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client", "Restart pause, %u second(s)",
              pause);
  /* Even without a pause, rebuild from a timer: we are inside the close
   * callback of the old stack's last handle. */
  if (c->state == LVPN__CLIENT_RESTARTING)
    uv_timer_start(&c->timer, client_restart_cb, (uint64_t)pause * 1000, 0);
  return 0;
}

void lvpn__client_on_down(lvpn__workers_t *w, int err) {
  lvpn_client_t *c = w->data;
  int closing = c->state == LVPN__CLIENT_CLOSING;

  c->err = err;
  lvpn__networkio_release(&c->net); /* all layers are closed */
  lvpn__client_names_stop(c);
  uv_timer_stop(&c->timer);
  uv_timer_stop(&c->reneg_timer);
  uv_timer_stop(&c->poll_timer);
  if (c->state == LVPN__CLIENT_RUNNING &&
      (client_will_restart(c, err) ||
       (err == LVPN_EAUTH_FAILED &&
        lvpn__client_auth_failed(c, c->tls.auth_failed)))) {
    c->connected = 0;
    /* the addresses this attempt resolved: the next ones try the others */
    if (c->retry.n_addrs == 0 && c->net.n_addrs > 0) {
      memcpy(c->addrs, c->net.addrs, sizeof(c->addrs));
      lvpn__retry_set_addrs(&c->retry, c->net.n_addrs);
    }
    /* persist-remote-ip keeps the remote's addresses, and the one the
     * server floated to */
    if (c->persist != NULL && c->retry.n_addrs > 0) {
      if (c->net.stats.floated > 0)
        c->addrs[c->retry.addr] = c->net.remote;
      c->persist[c->remote].n = c->retry.n_addrs;
      memcpy(c->persist[c->remote].a, c->addrs, sizeof(c->addrs));
    }
    if (err == LVPN_ERESTART && c->tls.restart_next)
      lvpn__retry_advance(&c->retry);
    /* a stalled handshake: the same server at once, uncounted */
    if (err == LVPN_EHANDSHAKE_STALL) {
      c->stall_restarts++;
      lvpn__retry_stay(&c->retry);
      lvpn__retry_no_pause(&c->retry);
    }
    /* AUTH_FAILED,TEMP: the same remote unless the server said "advance
     * remote" (the next remote) or "advance addr" (its next address). */
    if (err == LVPN_EAUTH_FAIL_TEMP) {
      if (c->tls.auth_temp_advance == LVPN__ADVANCE_REMOTE)
        lvpn__retry_advance_remote(&c->retry);
      else if (c->tls.auth_temp_advance == LVPN__ADVANCE_ADDR)
        lvpn__retry_advance(&c->retry);
      else
        lvpn__retry_stay(&c->retry);
    }
    if (client_schedule_restart(c, err) == 0)
      return;
    c->err = err = LVPN_ERETRY_MAX;
  }
  /* not restarting: a kept tun (persist-tun) goes now */
  lvpn__tun_keep_release(&c->tun_keep, &c->log, &c->trace);
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

int lvpn_client_add_inside_hook(lvpn_client_t *c,
                                const lvpn_inside_hook_t *ops, void *ud,
                                lvpn_hook_id_t *out) {
  if (c == NULL || c->state == LVPN__CLIENT_CLOSING)
    return c == NULL ? LVPN_EINVAL : LVPN_ESTATE;
  return lvpn__hooks_add(&c->hooks, ops, ud, out);
}

int lvpn_client_remove_inside_hook(lvpn_client_t *c, lvpn_hook_id_t id) {
  return lvpn__hooks_remove(&c->hooks, id);
}

int lvpn_client_inject_inside(lvpn_client_t *c, lvpn_inside_dir_t dir,
                              const uint8_t *pkt, size_t len) {
  if (c->state != LVPN__CLIENT_RUNNING)
    return LVPN_ESTATE;
  return lvpn__hooks_inject(&c->hooks, dir, pkt, len);
}

int lvpn_client_inside_hook_stats(const lvpn_client_t *c, lvpn_hook_id_t id,
                                  uint64_t *seen, uint64_t *dropped) {
  const lvpn__hook_t *h = lvpn__hooks_find(&c->hooks, id);
  if (h == NULL)
    return LVPN_EINVAL;
  if (seen != NULL)
    *seen = h->seen;
  if (dropped != NULL)
    *dropped = h->dropped;
  return 0;
}

const char *lvpn_client_info(const lvpn_client_t *c,
                             unsigned *pending_timeout_s) {
  if (pending_timeout_s != NULL)
    *pending_timeout_s = c->connected ? 0 : c->pending_timeout_s;
  return c->info;
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
  lvpn__hooks_counters(&c->hooks, cb, ud);
  cb(ud, "client", "pool_allocs", c->pool->allocs);
  cb(ud, "client", "attempts", c->attempts);
  cb(ud, "client", "restarts", c->restarts);
}

/* ---- state, with OpenVPN's names ---- */

lvpn_state_t lvpn_client_state(const lvpn_client_t *c) {
  const lvpn__networkio_t *n = &c->net;

  switch (c->state) {
  case LVPN__CLIENT_NEW:
    return LVPN_STATE_INITIAL;
  case LVPN__CLIENT_RESTARTING:
    /* waiting for credentials before the first attempt: still connecting */
    return c->cred_wait && c->attempts == 0 ? LVPN_STATE_CONNECTING
                                            : LVPN_STATE_RECONNECTING;
  case LVPN__CLIENT_RUNNING:
    break;
  default: /* exiting, stopping, down, closing */
    return LVPN_STATE_EXITING;
  }
  if (c->workers.state != LVPN__WORKERS_RUNNING) {
    /* a layer failed or the peer ended it: the stack is shutting down and
     * the client will either restart or stop */
    if (c->workers.state == LVPN__WORKERS_IDLE)
      return LVPN_STATE_CONNECTING;
    return client_will_restart(c, c->workers.err) ? LVPN_STATE_RECONNECTING
                                                  : LVPN_STATE_EXITING;
  }
  if (c->connected)
    return LVPN_STATE_CONNECTED;
  if (!n->ready) {
    if (n->resolver != NULL)
      return LVPN_STATE_RESOLVE;
    return lvpn__net_proto_is_tcp(n->proto) ? LVPN_STATE_TCP_CONNECT
                                             : LVPN_STATE_CONNECTING;
  }
  switch (c->tls.state) {
  case LVPN__TLSS_WAIT_RESET:
    return LVPN_STATE_WAIT;
  case LVPN__TLSS_HANDSHAKE:
  case LVPN__TLSS_KM2_SENT:
    return LVPN_STATE_AUTH;
  case LVPN__TLSS_ACTIVE:
    return LVPN_STATE_GET_CONFIG;
  default: /* PUSH_REPLY received, tunnel being configured */
    return LVPN_STATE_ASSIGN_IP;
  }
}

const char *lvpn_state_name(lvpn_state_t state) {
  static const char *const names[] = {
      "INITIAL",      "CONNECTING", "ASSIGN_IP", "ADD_ROUTES",
      "CONNECTED",    "RECONNECTING", "EXITING", "WAIT",
      "AUTH",         "GET_CONFIG", "RESOLVE",   "TCP_CONNECT"};
  if ((unsigned)state >= sizeof(names) / sizeof(names[0]))
    return "?";
  return names[state];
}
