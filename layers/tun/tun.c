#include "layers/tun/tun.h"
#include "layers/tun/dns_host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void tun_write(lvpn__tun_layer_t *t, lvpn__pbuf_t *p);

/* What passed the hooks (or was injected), in either direction. */
static void tun_hooks_deliver(void *ud, lvpn_inside_dir_t dir,
                              lvpn__pbuf_t *p) {
  lvpn__tun_layer_t *t = ud;
  if (!lvpn__layer_running(&t->base))
    lvpn__layer_drop(&t->base, p);
  else if (dir == LVPN_INSIDE_OUTBOUND)
    lvpn__layer_send_down(&t->base, p);
  else
    tun_write(t, p);
}

static void tun_poll_cb(uv_poll_t *h, int status, int events) {
  lvpn__tun_layer_t *t = container_of(h, lvpn__tun_layer_t, poll);

  if (status < 0) {
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name, "poll %s: %s",
              t->ifname, uv_strerror(status));
    lvpn__layer_fail(&t->base, LVPN_ETUN);
    return;
  }
  if (events & UV_READABLE)
    lvpn__tun_io_read(t);
}

static void tun_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__tun_layer_t *t = container_of(l, lvpn__tun_layer_t, base);
  if (t->hooks != NULL && t->hooks->active != 0)
    lvpn__hooks_process(t->hooks, LVPN_INSIDE_INBOUND, p);
  else
    tun_write(t, p);
}

/* Inbound: to the device or the host. Owns `p`. */
static void tun_write(lvpn__tun_layer_t *t, lvpn__pbuf_t *p) {
  lvpn__layer_t *l = &t->base;
  LVPN__TRACE_PKT(l->trace, 1, l->name, "write", "bytes=%zu to=%s", p->len,
                  t->host_write != NULL ? "host" : "device");
  LVPN__TAP(l->trace, LVPN_TAP_INSIDE, 0, 0, NULL, NULL, p->data, p->len);
  if (t->host_write != NULL) {
    t->host_write(t->host_ud, p->data, p->len);
    t->tx_packets++;
    t->tx_bytes += p->len;
    lvpn__pbuf_free(p);
    return;
  }
  if (t->fd < 0) {
    lvpn__layer_drop(l, p);
    return;
  }
  lvpn__tun_io_write(t, p);
}

static void tun_down(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__layer_drop(l, p); /* nothing sits above the inside */
}

int lvpn__tun_layer_inject(lvpn__tun_layer_t *t, const uint8_t *pkt,
                           size_t len) {
  lvpn__pbuf_t *p;
  if (!lvpn__layer_running(&t->base))
    return LVPN_ESTATE;
  p = lvpn__pbuf_alloc(t->pool);
  if (p == NULL)
    return LVPN_ENOMEM;
  if (len > lvpn__pbuf_tailroom(p)) {
    lvpn__pbuf_free(p);
    return LVPN_ETOOBIG;
  }
  memcpy(lvpn__pbuf_put(p, len), pkt, len);
  LVPN__TRACE_PKT(t->base.trace, 1, t->base.name, "read", "bytes=%zu from=%s",
                  len, "host");
  LVPN__TAP(t->base.trace, LVPN_TAP_INSIDE, 1, 0, NULL, NULL, pkt, len);
  t->rx_packets++;
  t->rx_bytes += len;
  lvpn__tun_send(t, p);
  return 0;
}

static void script_free(lvpn__tun_script_t *s) {
  size_t i;
  free(s->up);
  free(s->down);
  free(s->route_up);
  free(s->route_pre_down);
  free(s->ipchange);
  lvpn__script_env_free(&s->env);
  for (i = 0; i < s->n_dhcp; i++)
    free(s->dhcp[i]);
  memset(s, 0, sizeof(*s));
}

/* Points the script's info at its own strings (after a copy or a move). */
static void script_point(lvpn__tun_script_t *dst, const char *ifname) {
  dst->info.dev = ifname;
  dst->info.ifconfig_local = dst->local[0] ? dst->local : NULL;
  dst->info.ifconfig_remote_netmask =
      dst->remote_netmask[0] ? dst->remote_netmask : NULL;
  dst->info.ifconfig_ipv6_local = dst->local6[0] ? dst->local6 : NULL;
  dst->info.ifconfig_ipv6_netbits = dst->netbits6;
  dst->info.ifconfig_ipv6_remote = dst->remote6[0] ? dst->remote6 : NULL;
  dst->info.route_vpn_gateway = dst->vpn_gw[0] ? dst->vpn_gw : NULL;
  dst->info.route_net_gateway = dst->net_gw[0] ? dst->net_gw : NULL;
  dst->info.trusted_ip = dst->remote[0] ? dst->remote : NULL;
  dst->info.trusted_port = dst->remote_port;
  dst->info.untrusted_ip = dst->info.trusted_ip;
  dst->info.untrusted_port = dst->remote_port;
  dst->info.remote_1 = dst->info.trusted_ip;
  dst->info.remote_port_1 = dst->remote_port;
  dst->info.proto_1 = dst->proto[0] ? dst->proto : NULL;
  dst->info.common_name = dst->common_name[0] ? dst->common_name : NULL;
  dst->info.dhcp_options = (const char *const *)dst->dhcp;
  dst->info.n_dhcp_options = dst->n_dhcp;
  dst->info.verb = dst->verb;
}

/* Deep-copies the script description and points its info at our copies. */
static void script_copy(lvpn__tun_script_t *dst, const lvpn__tun_script_t *src,
                        const char *ifname) {
  size_t i;
  *dst = *src;
  dst->up = src->up ? strdup(src->up) : NULL;
  dst->down = src->down ? strdup(src->down) : NULL;
  dst->route_up = src->route_up ? strdup(src->route_up) : NULL;
  dst->route_pre_down = src->route_pre_down ? strdup(src->route_pre_down)
                                            : NULL;
  dst->ipchange = src->ipchange ? strdup(src->ipchange) : NULL;
  lvpn__script_env_init(&dst->env);
  for (i = 0; i < src->env.n; i++) {
    const char *eq = strchr(src->env.vars[i], '=');
    char name[128];
    size_t len = eq ? (size_t)(eq - src->env.vars[i]) : 0;
    if (len == 0 || len >= sizeof(name))
      continue;
    memcpy(name, src->env.vars[i], len);
    name[len] = '\0';
    lvpn__script_env_add(&dst->env, name, eq + 1);
  }
  for (i = 0; i < src->n_dhcp; i++)
    dst->dhcp[i] = strdup(src->dhcp[i]);
  script_point(dst, ifname);
}

static int script_run(const lvpn__logger_t *log, lvpn__tracer_t *trace,
                      lvpn__tun_script_t *sc, const char *cmd,
                      const char *type) {
  int status = 0, err;
  sc->info.script_type = type;
  sc->info.args_kind =
      strcmp(type, "ipchange") == 0 ? LVPN__SCRIPT_ARGS_IPCHANGE
      : strcmp(type, "route-up") == 0 ? LVPN__SCRIPT_ARGS_NONE
                                        : LVPN__SCRIPT_ARGS_UPDOWN;
  err = lvpn__script_run_updown(cmd, &sc->info, &sc->env, &status);
  LVPN__TRACE(trace, "tun", "script", "type=%s status=%d error=%s", type,
              status, err != 0 ? lvpn_err_name(err) : NULL);
  if (err != 0 || status != 0) {
    LVPN__LOG(log, LVPN_LOG_ERROR, "tun",
              "%s script '%s' failed: %s", type, cmd,
              err != 0 ? lvpn_strerror(err) : "non-zero exit status");
    return LVPN_ESCRIPT;
  }
  return 0;
}

static int run_script(lvpn__tun_layer_t *t, const char *cmd,
                      const char *type) {
  return script_run(t->base.log, t->base.trace, &t->script, cmd, type);
}

/* The device and routes as configured, one event each (trace on). */
static void tun_trace_plan(lvpn__tun_layer_t *t, const lvpn__tun_plan_t *pl) {
  char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
  size_t i;

  lvpn__ip4_str(pl->addr4, a);
  lvpn__ip4_str(pl->peer4, b);
  LVPN__TRACE(t->base.trace, t->base.name, "device",
              "name=%s mtu=%u ipv4=%s prefixlen=%u peer=%s routes=%zu",
              t->ifname, pl->mtu, pl->has_addr4 ? a : NULL, pl->prefixlen4,
              pl->peer4 ? b : NULL, pl->n_routes4 + pl->n_routes6);
  if (pl->has_addr6 && inet_ntop(AF_INET6, pl->addr6, a, sizeof(a)) != NULL)
    LVPN__TRACE(t->base.trace, t->base.name, "address", "ipv6=%s prefixlen=%u",
                a, pl->prefixlen6);
  for (i = 0; i < pl->n_routes4; i++) {
    lvpn__ip4_str(pl->routes4[i].dst, a);
    lvpn__ip4_str(pl->routes4[i].gateway, b);
    LVPN__TRACE(t->base.trace, t->base.name, "route",
                "dst=%s prefixlen=%u gateway=%s via=%s metric=%u", a,
                pl->routes4[i].prefixlen, pl->routes4[i].gateway ? b : NULL,
                pl->routes4[i].via_tun                          ? "tun"
                : pl->routes4[i].net_kw & LVPN__TUN_RT_NET_GW ? "net_gateway"
                                                              : "outside",
                pl->routes4[i].metric);
  }
  for (i = 0; i < pl->n_routes6; i++)
    if (inet_ntop(AF_INET6, pl->routes6[i].dst, a, sizeof(a)) != NULL)
      LVPN__TRACE(t->base.trace, t->base.name, "route",
                  "dst=%s prefixlen=%u via=%s metric=%u", a,
                  pl->routes6[i].prefixlen, "tun", pl->routes6[i].metric);
}

static int same_addresses(const lvpn__tun_plan_t *a,
                          const lvpn__tun_plan_t *b) {
  return a->has_addr4 == b->has_addr4 && a->addr4 == b->addr4 &&
         a->prefixlen4 == b->prefixlen4 && a->peer4 == b->peer4 &&
         a->has_addr6 == b->has_addr6 &&
         memcmp(a->addr6, b->addr6, 16) == 0 && a->prefixlen6 == b->prefixlen6;
}

/* persist-tun: the device, its netlink journal, script and plan move
 * between the layer and the client's keep; the script's info is pointed
 * at its new home. */
static void tun_adopt(lvpn__tun_layer_t *t) {
  lvpn__tun_keep_t *k = t->keep;
  t->fd = k->fd;
  t->offload = k->offload;
  memcpy(t->ifname, k->ifname, sizeof(t->ifname));
  t->nl = k->nl;
  t->nl.log = t->base.log;
  t->nl_open = 1;
  t->up_ran = k->up_ran;
  t->script = k->script;
  script_point(&t->script, t->ifname);
  t->applied = k->plan;
  memset(k, 0, sizeof(*k));
}

static void tun_hand_over(lvpn__tun_layer_t *t) {
  lvpn__tun_keep_t *k = t->keep;
  k->fd = t->fd;
  k->offload = t->offload;
  memcpy(k->ifname, t->ifname, sizeof(k->ifname));
  k->nl = t->nl;
  k->up_ran = t->up_ran;
  k->script = t->script;
  script_point(&k->script, k->ifname);
  k->plan = t->applied;
  k->dns = t->dns;
  k->have = 1;
  memset(&t->applied, 0, sizeof(t->applied));
  memset(&t->script, 0, sizeof(t->script));
  t->nl_open = 0;
  t->up_ran = 0;
  t->fd = -1;
  /* the fd stays open: only the poll handle goes */
  if (t->poll_init)
    lvpn__layer_close_handle(&t->base, (uv_handle_t *)&t->poll);
  LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
            "persist-tun: keeping %s and its routes", k->ifname);
}

void lvpn__tun_keep_release(lvpn__tun_keep_t *k, const lvpn__logger_t *log,
                            lvpn__tracer_t *trace) {
  if (!k->have)
    return;
  /* as tun_close: route-pre-down, then DNS, routes and addresses */
  if (k->up_ran && k->script.route_pre_down != NULL)
    script_run(log, trace, &k->script, k->script.route_pre_down,
               "route-pre-down");
  if (k->dns != NULL)
    lvpn__dns_host_revert(k->dns);
  k->nl.log = log;
  if (lvpn__nl_undo_all(&k->nl) != 0)
    LVPN__LOG(log, LVPN_LOG_ERROR, "tun", "cleanup: %s",
              lvpn__nl_last_error(&k->nl));
  lvpn__nl_close(&k->nl);
  if (k->up_ran && k->script.down != NULL)
    script_run(log, trace, &k->script, k->script.down, "down");
  script_free(&k->script);
  lvpn__tun_plan_free(&k->plan);
  lvpn__tun_close(k->fd);
  memset(k, 0, sizeof(*k));
}

void lvpn__tun_layer_set_keep(lvpn__tun_layer_t *t, lvpn__tun_keep_t *keep) {
  t->keep = keep;
}

/* A script to run: up, down, route-up, route-pre-down or ipchange. */
static int script_any(const lvpn__tun_script_t *s) {
  return s->up != NULL || s->down != NULL || s->route_up != NULL ||
         s->route_pre_down != NULL || s->ipchange != NULL;
}

/* What the scripts learn of the routes (OpenVPN route.c setenv_routes and
 * route_net_gateway), from `plan` once its gateways are looked up. */
static int script_routes_env(lvpn__tun_layer_t *t,
                             const lvpn__tun_plan_t *plan) {
  uint32_t gw = 0;
  int idx = 0;
  if (plan->netgw_state > 0)
    gw = plan->netgw;
  else if (plan->net_gateway != 0)
    gw = plan->net_gateway;
  else if (plan->netgw_state == 0 &&
           lvpn__nl_route_default4(&t->nl, &gw, &idx) != 0)
    gw = 0;
  if (gw != 0) {
    lvpn__ip4_str(gw, t->script.net_gw);
    t->script.info.route_net_gateway = t->script.net_gw;
  }
  /* net_gateway_ipv6 (OpenVPN sets it with IPv6 routes): the path to the
   * IPv6 server, else the default one; on-link: the address itself */
  if (plan->n_routes6 > 0) {
    static const uint8_t any[16];
    const uint8_t *dst = plan->has_remote6 ? plan->remote6 : any;
    uint8_t g[16];
    int has_g = 0, oif = 0, ok;
    char a[INET6_ADDRSTRLEN];
    if (plan->has_server6_route && plan->net6_looked_up) {
      memcpy(g, plan->net6_gateway, 16);
      has_g = plan->net6_has_gateway;
      ok = 1;
    } else {
      ok = lvpn__nl_route_get6(&t->nl, dst, g, &has_g, &oif) == 0;
    }
    if (ok && !(dst == any && !has_g) &&
        (inet_ntop(AF_INET6, has_g ? g : dst, a, sizeof(a)) == NULL ||
         lvpn__script_env_add(&t->script.env, "net_gateway_ipv6", a) < 0))
      return LVPN_ENOMEM;
  }
  return lvpn__script_env_routes(&t->script.env, plan) == 0 ? 0 : LVPN_ENOMEM;
}

/* The device, into t->fd: with the offloads unless --disable-offload, the
 * reason they are unavailable in t->open_why ("" if they are not). */
static int tun_open_device(lvpn__tun_layer_t *t) {
  int err;

  t->open_why[0] = '\0';
  if (t->offload_off)
    err = lvpn__tun_open(t->dev, t->node[0] ? t->node : NULL, t->ifname,
                         &t->fd);
  else
    err = lvpn__tun_open_offload(t->dev, t->node[0] ? t->node : NULL,
                                 t->ifname, &t->fd, &t->offload, t->open_why,
                                 sizeof(t->open_why));
  if (err != 0)
    t->fd = -1;
  return err;
}

int lvpn__tun_layer_configure(lvpn__tun_layer_t *t, lvpn__tun_plan_t *plan,
                              const lvpn__tun_script_t *script, char *errbuf,
                              size_t errlen) {
  int err;

  if (!lvpn__layer_running(&t->base))
    return LVPN_ESTATE;
  if (t->host_write == NULL) {
    int kept = t->keep != NULL && t->keep->have, same = 0, replace = 0;
    if (kept) {
      tun_adopt(t);
      same = lvpn__tun_plan_same(&t->applied, plan);
      LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
                same ? "Preserving previous TUN/TAP instance: %s"
                     : "NOTE: pulled options changed on restart: "
                       "reconfiguring %s (same device)",
                t->ifname);
      if (same) { /* the previous gateway as found the first time */
        plan->net_gateway = t->applied.net_gateway;
        plan->net_ifindex = t->applied.net_ifindex;
      } else {
        /* Same addresses: the new routes go in before the old ones that
         * are no longer wanted go out, so the tunnel's traffic is never
         * without a route. Changed addresses: undone first (deleting a
         * primary address would take a new one in its subnet along). */
        replace = same_addresses(&t->applied, plan) &&
                  lvpn__nl_replace_begin(&t->nl) == 0;
        if (!replace && lvpn__nl_undo_all(&t->nl) != 0)
          LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name, "cleanup: %s",
                    lvpn__nl_last_error(&t->nl));
        /* nothing applied until the new plan is: a failure below must not
         * look like the old plan to the next stack */
        lvpn__tun_plan_free(&t->applied);
        lvpn__tun_plan_init(&t->applied);
      }
    } else {
      if (!t->preopened) {
        err = tun_open_device(t);
        if (err != 0) {
          if (t->node[0])
            snprintf(errbuf, errlen, "cannot open tun device '%s' with "
                     "dev-node %s: %s", t->dev, t->node, lvpn_strerror(err));
          else
            snprintf(errbuf, errlen, "cannot open tun device '%s': %s",
                     t->dev, lvpn_strerror(err));
          return LVPN_ETUN;
        }
        err = lvpn__nl_open(&t->nl, t->base.log);
        if (err != 0) {
          snprintf(errbuf, errlen, "cannot open netlink socket: %s",
                   t->nl.err[0] ? t->nl.err : lvpn_strerror(err));
          return LVPN_ENETLINK;
        }
        t->nl_open = 1;
      }
      t->preopened = 0;
      if (t->open_why[0] != '\0')
        LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
                  "TUN offloads unavailable (%s): plain reads and writes",
                  t->open_why);
    }
    if (script != NULL) {
      /* the latest environment for the scripts (the down script too) */
      script_free(&t->script);
      script_copy(&t->script, script, t->ifname);
    }
    /* OpenVPN's order (init.c do_open_tun, do_route): the device's MTU and
     * addresses, the up script, the routes, the route-up script. Up runs
     * once per device (persist-tun: not again on restarts, as OpenVPN). */
    err = same ? 0 : lvpn__tun_apply_ifconfig(&t->nl, t->ifname, plan);
    /* (the routes' variables and their lookups only for a script to run:
     * the default route's dump is 0.1 ms on the way to the line) */
    if (err == 0 && script != NULL && script_any(&t->script) &&
        script_routes_env(t, same ? &t->applied : plan) != 0)
      LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
                "out of memory: the scripts get no route_* variables");
    if (err == 0 && script != NULL) {
      /* ipchange: the server's address is authenticated (a failure is only
       * logged, as OpenVPN) */
      if (t->script.ipchange != NULL)
        run_script(t, t->script.ipchange, "ipchange");
      if (t->script.up != NULL && !t->up_ran) {
        int se = run_script(t, t->script.up, "up");
        if (se != 0) {
          snprintf(errbuf, errlen, "up script '%s' failed", t->script.up);
          return se;
        }
      }
      t->up_ran = 1;
    }
    if (err == 0 && !same)
      err = lvpn__tun_apply_routes(&t->nl, t->ifname, plan);
    if (!same) {
      if (err != 0) /* before replace_end's requests reset the text */
        snprintf(errbuf, errlen, "configuring %s: %s", t->ifname,
                 lvpn__nl_last_error(&t->nl));
      if (replace && lvpn__nl_replace_end(&t->nl) != 0)
        LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name, "cleanup: %s",
                  lvpn__nl_last_error(&t->nl));
      if (err != 0)
        return LVPN_ENETLINK;
      if (lvpn__tun_plan_copy(&t->applied, plan) != 0) {
        snprintf(errbuf, errlen, "configuring %s: out of memory", t->ifname);
        return LVPN_ENOMEM;
      }
    }
    if (t->base.trace->on)
      tun_trace_plan(t, plan);
    /* block-ipv6 answers come from the IPv6 remote, else fe80::7 */
    if (script == NULL || script->remote6[0] == '\0' ||
        inet_pton(AF_INET6, script->remote6, t->block_src6) != 1)
      inet_pton(AF_INET6, "fe80::7", t->block_src6);
    /* route-up: after the routes */
    if (script != NULL && t->script.route_up != NULL)
      run_script(t, t->script.route_up, "route-up");
    if (lvpn__tun_io_init(t) != 0) {
      snprintf(errbuf, errlen, "%s: out of memory", t->ifname);
      return LVPN_ENOMEM;
    }
    err = uv_poll_init(t->base.loop, &t->poll, t->fd);
    if (err != 0) {
      snprintf(errbuf, errlen, "poll %s: %s", t->ifname, uv_strerror(err));
      return LVPN_ETUN;
    }
    t->poll_init = 1;
    err = uv_poll_start(&t->poll, UV_READABLE, tun_poll_cb);
    if (err != 0) {
      snprintf(errbuf, errlen, "poll %s: %s", t->ifname, uv_strerror(err));
      return LVPN_ETUN;
    }
    if (!kept)
      LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
                "TUN/TAP device %s opened", t->ifname);
    LVPN__TRACE(t->base.trace, t->base.name, "offload", "flags=%u",
                t->offload);
  } else {
    LVPN__TRACE(t->base.trace, t->base.name, "inside", "mode=%s", "host");
  }
  return 0;
}

int lvpn__tun_layer_update(lvpn__tun_layer_t *t, lvpn__tun_plan_t *plan,
                           char *errbuf, size_t errlen) {
  int err;
  if (!lvpn__layer_running(&t->base))
    return LVPN_ESTATE;
  if (t->host_write == NULL) {
    if (!t->nl_open)
      return LVPN_ESTATE;
    err = lvpn__tun_update_plan(&t->nl, t->ifname, &t->applied, plan);
    if (err != 0) {
      snprintf(errbuf, errlen, "updating %s: %s", t->ifname,
               lvpn__nl_last_error(&t->nl));
      return LVPN_ENETLINK;
    }
    if (t->base.trace->on)
      tun_trace_plan(t, plan);
  }
  lvpn__tun_plan_free(&t->applied);
  t->applied = *plan; /* taken over: the caller's is left empty */
  lvpn__tun_plan_init(plan);
  t->updates++;
  return 0;
}

static void tun_stop(lvpn__layer_t *l) {
  lvpn__tun_layer_t *t = container_of(l, lvpn__tun_layer_t, base);
  if (t->poll_init)
    uv_poll_stop(&t->poll);
  if (t->fd >= 0)
    lvpn__tun_io_flush(t); /* what this wake had batched */
}

static void tun_poll_closed(lvpn__tun_layer_t *t) {
  if (t->fd >= 0) {
    lvpn__tun_close(t->fd);
    t->fd = -1;
  }
}

static void tun_close(lvpn__layer_t *l) {
  lvpn__tun_layer_t *t = container_of(l, lvpn__tun_layer_t, base);
  int err;

  if (t->hooks != NULL && t->hooks->deliver_ud == t) {
    t->hooks->deliver = NULL; /* injections fail until the next stack */
    t->hooks->deliver_ud = NULL;
  }

  lvpn__tun_io_free(t);
  if (t->keep != NULL && t->fd >= 0 && t->nl_open && !t->preopened) {
    tun_hand_over(t); /* persist-tun: DNS stays too, nothing leaks */
    return;
  }
  /* route-pre-down, then DNS, routes and addresses (while the device still
   * exists), then the down script, then the device itself. */
  if (t->up_ran && t->script.route_pre_down != NULL)
    run_script(t, t->script.route_pre_down, "route-pre-down");
  if (t->dns != NULL)
    lvpn__dns_host_revert(t->dns);
  if (t->nl_open) {
    err = lvpn__nl_undo_all(&t->nl);
    if (err != 0)
      LVPN__LOG(l->log, LVPN_LOG_ERROR, l->name, "cleanup: %s",
                lvpn__nl_last_error(&t->nl));
    lvpn__nl_close(&t->nl);
    t->nl_open = 0;
  }
  if (t->up_ran && t->script.down != NULL)
    run_script(t, t->script.down, "down");
  script_free(&t->script);
  lvpn__tun_plan_free(&t->applied);
  if (t->poll_init) {
    /* The fd must outlive the poll handle's registration: close it after
     * uv_close has been requested (libuv stops watching it at once). */
    lvpn__layer_close_handle(l, (uv_handle_t *)&t->poll);
  }
  tun_poll_closed(t);
}

static void tun_counters(const lvpn__layer_t *l,
                         void (*cb)(void *, const char *, const char *,
                                    uint64_t),
                         void *ud) {
  const lvpn__tun_layer_t *t = container_of(l, const lvpn__tun_layer_t, base);
  cb(ud, l->name, "rx_packets", t->rx_packets);
  cb(ud, l->name, "rx_bytes", t->rx_bytes);
  cb(ud, l->name, "tx_packets", t->tx_packets);
  cb(ud, l->name, "tx_bytes", t->tx_bytes);
  cb(ud, l->name, "tx_errors", t->tx_errors);
  cb(ud, l->name, "rx_no_buffer", t->rx_no_buffer);
  cb(ud, l->name, "updates", t->updates);
  cb(ud, l->name, "blocked_ipv6", t->blocked6);
  cb(ud, l->name, "recursive_drops", t->recursive_drops);
  cb(ud, l->name, "offload_flags", t->offload);
  cb(ud, l->name, "tso_superpackets", t->tso_superpackets);
  cb(ud, l->name, "tso_segments", t->tso_segments);
  cb(ud, l->name, "csum_completed", t->csum_completed);
  cb(ud, l->name, "gro_writes", t->gro_writes);
  cb(ud, l->name, "gro_segments", t->gro_segments);
  cb(ud, l->name, "offload_errors", t->offload_errors);
}

static const lvpn__layer_ops_t tun_ops = {.up = tun_up,
                                          .down = tun_down,
                                          .stop = tun_stop,
                                          .close = tun_close,
                                          .counters = tun_counters};

void lvpn__tun_layer_init(lvpn__tun_layer_t *t, uv_loop_t *loop,
                          lvpn__pbuf_pool_t *pool, const char *dev,
                          const lvpn__logger_t *log) {
  memset(t, 0, sizeof(*t));
  lvpn__layer_init(&t->base, loop, "tun", &tun_ops, log);
  t->pool = pool;
  t->fd = -1;
  snprintf(t->dev, sizeof(t->dev), "%s", dev != NULL ? dev : "tun");
}

void lvpn__tun_layer_set_host(lvpn__tun_layer_t *t, lvpn__inside_write_fn fn,
                              void *ud) {
  t->host_write = fn;
  t->host_ud = ud;
}

void lvpn__tun_layer_preopen(lvpn__tun_layer_t *t) {
  int err;

  if (!lvpn__layer_running(&t->base) || t->host_write != NULL || t->fd >= 0 ||
      (t->keep != NULL && t->keep->have))
    return;
  if ((err = tun_open_device(t)) != 0)
    return;
  if (lvpn__nl_open(&t->nl, t->base.log) != 0) {
    lvpn__tun_close(t->fd);
    t->fd = -1;
    t->offload = 0;
    return;
  }
  t->nl_open = 1;
  t->preopened = 1;
}

void lvpn__tun_layer_set_offload(lvpn__tun_layer_t *t, int on) {
  t->offload_off = !on;
}

void lvpn__tun_layer_set_server(lvpn__tun_layer_t *t,
                                const struct sockaddr_storage *ss) {
  t->rr_family = 0;
  if (ss != NULL && ss->ss_family == AF_INET) {
    memcpy(t->rr_addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    t->rr_family = AF_INET;
  } else if (ss != NULL && ss->ss_family == AF_INET6) {
    memcpy(t->rr_addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    t->rr_family = AF_INET6;
  }
}

void lvpn__tun_layer_set_node(lvpn__tun_layer_t *t, const char *node) {
  snprintf(t->node, sizeof(t->node), "%s", node != NULL ? node : "");
}

void lvpn__tun_layer_set_hooks(lvpn__tun_layer_t *t, lvpn__hooks_t *hooks) {
  t->hooks = hooks;
  hooks->deliver = tun_hooks_deliver;
  hooks->deliver_ud = t;
}
