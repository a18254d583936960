/* Applying a PUSH_REPLY (cipher negotiation, data keys, the tun plan and
 * the scripts' environment), renegotiated keys, and reneg-sec. */
#include "layers/client.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "layers/datachannel/kdf.h"
#include "layers/packetmuxer/wire.h"

/* protocol-flags dyn-tls-crypt: from now on every control packet with
 * key_id != 0 is wrapped with tls-crypt keyed by EKM("EXPORTER-OpenVPN-
 * dynamic-tls-crypt") XOR the configured wrap key (tls_crypt.c), derived once
 * from the key_id-0 TLS session, as the server does before PUSH_REPLY. */
static int dyn_tls_crypt(lvpn_client_t *c, lvpn__tlssession_t *t,
                         const lvpn__push_t *push) {
  uint8_t ekm[LVPN__TLSWRAP_KEY2_LEN];
  int rc;
  if (!(push->protocol_flags & LVPN__PROTO_F_DYN_TLS_CRYPT) ||
      !(c->iv_proto & LVPN__IV_PROTO_DYN_TLS_CRYPT) || c->session.have_dyn)
    return 0;
  rc = lvpn__tlssession_ekm(t, LVPN__KDF_DYN_TLS_CRYPT_LABEL, ekm, sizeof(ekm));
  if (rc == 0)
    rc = lvpn__tlswrap_init_dynamic(&c->session.dyn, ekm, &c->session.wrap);
  mbedtls_platform_zeroize(ekm, sizeof(ekm));
  if (rc != 0)
    return rc;
  c->session.have_dyn = 1;
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "dynamic tls-crypt: renegotiations use the derived key");
  return 0;
}

static void fmt4(char *buf, size_t len, struct in_addr a) {
  inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

/* Converts one `route` for the tun planner; returns 1, or 0 (and says why)
 * when it cannot be installed: a remote_host network or gateway while the
 * server is not an IPv4 address (`remote4` 0). The vpn_gateway and
 * net_gateway keywords are resolved by the planner. */
static int client_route4(lvpn_client_t *c, const lvpn__route4_t *r,
                         const char *origin, int metric, uint32_t remote4,
                         lvpn__tun_route4_param_t *out) {
  const uint32_t *nets = NULL, *gws = NULL;
  int n_nets = 1, i, net_bad, gw_bad;
  memset(out, 0, sizeof(*out));
  /* host names: a route per address of the network's name, the first
   * address of the gateway's (OpenVPN's init_route_list / getaddr) */
  net_bad = r->net_kind == LVPN__GW_NAME &&
            (n_nets = lvpn__client_names_addrs(c, r->net_name, &nets)) == 0;
  gw_bad = !net_bad && r->gw_kind == LVPN__GW_NAME &&
           lvpn__client_names_addrs(c, r->gw_name, &gws) == 0;
  if (net_bad || gw_bad) {
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: ignoring %s route with '%s': the host name did not "
              "resolve",
              origin,
              c->cfg->route_names[(net_bad ? r->net_name : r->gw_name) - 1]);
    return 0;
  }
  if ((r->net_kind == LVPN__GW_REMOTE || r->gw_kind == LVPN__GW_REMOTE) &&
      remote4 == 0) {
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: ignoring %s route: remote_host is undefined (the "
              "server is not an IPv4 address)",
              origin);
    return 0;
  }
  switch (r->net_kind) {
  case LVPN__GW_REMOTE:
    out->net = remote4;
    break;
  case LVPN__GW_NET:
    out->kw |= LVPN__TUN_RT_NET_DST;
    break;
  case LVPN__GW_VPN:
    out->kw |= LVPN__TUN_RT_VPN_DST;
    break;
  default:
    out->net = ntohl(r->net.s_addr);
  }
  out->mask = ntohl(r->mask.s_addr);
  switch (r->gw_kind) {
  case LVPN__GW_ADDR:
    out->gateway = ntohl(r->gateway.s_addr);
    break;
  case LVPN__GW_NAME:
    out->gateway = gws[0];
    break;
  case LVPN__GW_NET:
    out->kw |= LVPN__TUN_RT_NET_GW;
    break;
  case LVPN__GW_REMOTE:
    out->gateway = remote4;
    out->kw |= LVPN__TUN_RT_OUTSIDE_GW;
    break;
  default: /* vpn_gateway or none: the VPN gateway */
    break;
  }
  out->metric = r->has_metric ? r->metric : metric >= 0 ? (uint32_t)metric : 0;
  if (r->has_metric || metric >= 0)
    out->kw |= LVPN__TUN_RT_METRIC;
  if (r->net_kind != LVPN__GW_NAME)
    return 1;
  for (i = 0; i < n_nets; i++) {
    out[i] = out[0];
    out[i].net = nets[i];
  }
  return n_nets;
}

/* Converts one `route-ipv6` (pushed or configured) for the tun planner;
 * `metric` (-1: none) applies when the route has none of its own. */
static void client_route6(const lvpn__route6_t *r, int metric,
                          lvpn__tun_route6_param_t *out) {
  memset(out, 0, sizeof(*out));
  memcpy(out->net, &r->net, 16);
  out->prefixlen = r->bits;
  out->has_gateway = r->has_gateway;
  memcpy(out->gateway, &r->gateway, 16);
  out->metric = r->has_metric ? r->metric : metric >= 0 ? (uint32_t)metric : 0;
  out->metric_set = r->has_metric || metric >= 0;
}

/* Builds the tun plan and script description from the pushed options and
 * the local config. */
static int client_plan(lvpn_client_t *c, const lvpn__push_t *push,
                       lvpn__tun_plan_t *plan, lvpn__tun_script_t *sc,
                       char *err, size_t errlen) {
  lvpn_config_t *cfg = c->cfg;
  lvpn__tun_route4_param_t *routes4 = NULL;
  lvpn__tun_route6_param_t *routes6 = NULL;
  lvpn__tun_ipv4_params_t p4;
  lvpn__tun_ipv6_params_t p6;
  const struct sockaddr_storage *ss = lvpn__networkio_remote(&c->net);
  int i, n4 = 0, n6 = 0, rg, rp, redir, rc = 0, metric;
  uint32_t remote4;

  /* a network host name may give a route per address; sized to what is
   * there (the limits' 10 and 20 KiB would be fresh pages on the way) */
  i = cfg->n_route_names > 0 ? LVPN__ROUTE_NAME_MAX_ADDRS : 1;
  routes4 = calloc(((size_t)cfg->n_routes + (size_t)push->n_routes) *
                           (size_t)i + 1,
                   sizeof(*routes4));
  routes6 = calloc((size_t)cfg->n_routes6 + (size_t)push->n_routes6 + 1,
                   sizeof(*routes6));
  if (routes4 == NULL || routes6 == NULL) {
    rc = LVPN_ENOMEM;
    goto out;
  }
  memset(&p4, 0, sizeof(p4));
  memset(&p6, 0, sizeof(p6));
  p4.topology = push->has_topology ? (lvpn__tun_topology_t)push->topology
                                   : LVPN__TOPOLOGY_NET30;
  if (push->has_ifconfig) {
    p4.ifconfig_local = ntohl(push->ifconfig_local.s_addr);
    p4.ifconfig_remote_netmask = ntohl(push->ifconfig_remote.s_addr);
  }
  if (push->has_route_gateway && !push->route_gateway_dhcp)
    p4.route_gateway = ntohl(push->route_gateway.s_addr);
  else if (cfg->has_route_gateway)
    p4.route_gateway = ntohl(cfg->route_gateway.s_addr);
  /* The config's routes, then the pushed ones (unless route-nopull), the
   * order OpenVPN installs them in and numbers them for scripts (its
   * option list and route list are each built by prepending). */
  /* route-metric: the default of routes without one (pushed wins) */
  metric = push->route_metric >= 0 ? push->route_metric : cfg->route_metric;
  remote4 = ss->ss_family == AF_INET
                ? ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr)
                : 0;
  for (i = 0; i < cfg->n_routes; i++)
    n4 += client_route4(c, &cfg->routes[i], "configured", metric, remote4,
                        &routes4[n4]);
  for (i = 0; !cfg->route_nopull && i < push->n_routes; i++)
    n4 += client_route4(c, &push->routes[i], "pushed", metric, remote4,
                        &routes4[n4]);
  p4.routes = routes4;
  p4.n_routes = (size_t)n4;
  rg = cfg->route_nopull ? cfg->redirect_gateway
                         : (cfg->redirect_gateway | push->redirect_gateway);
  /* redirect-private: redirect-gateway without the default route (the
   * server's host route, block-local), unless redirect-gateway is on */
  rp = cfg->route_nopull ? cfg->redirect_private
                         : (cfg->redirect_private | push->redirect_private);
  redir = (rg & LVPN__RG_ENABLE) && !(rg & LVPN__RG_NO_IPV4) ? rg
          : (rp & LVPN__RG_ENABLE) && !(rp & LVPN__RG_NO_IPV4) ? rp
                                                              : 0;
  if (redir != 0) {
    if (redir == rg && !(rg & LVPN__RG_DEF1))
      LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
                "redirect-gateway: using def1 routes (0.0.0.0/1 and "
                "128.0.0.0/1) instead of replacing the default route");
    p4.redirect_def1 = redir == rg;
    p4.redirect_private = redir != rg;
    /* local: no host route to the server; autolocal: none if it is on a
     * local subnet (route.c redirect_default_route_to_vpn). bypass-dhcp
     * and bypass-dns add no route on Linux, as in OpenVPN (route.c
     * get_bypass_addresses is Windows-only). */
    if (ss->ss_family == AF_INET && !(redir & LVPN__RG_LOCAL))
      p4.server = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
    p4.autolocal = (redir & LVPN__RG_AUTOLOCAL) != 0;
    /* block-local: the LAN through the tunnel unless the server is on it
     * (found when the tun layer applies the plan) */
    p4.block_local = (redir & LVPN__RG_BLOCK_LOCAL) != 0;
    p4.remote4 = remote4;
  }
  /* block-ipv6, configured or pushed (a route option: route-nopull drops
   * it, as OpenVPN's OPT_P_ROUTE) */
  c->tun.block_ipv6 =
      cfg->block_ipv6 || (!cfg->route_nopull && push->block_ipv6);
  if (((rg | rp) & LVPN__RG_BLOCK_LOCAL) && redir == 0)
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: %s block-local: IPv4 is not redirected (!ipv4), so "
              "the local LAN is not blocked",
              (rg & LVPN__RG_BLOCK_LOCAL) ? "redirect-gateway"
                                          : "redirect-private");
  if ((rg & LVPN__RG_IPV6) && !push->has_ifconfig6)
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: redirect-gateway ipv6: the server pushed no IPv6 "
              "address, IPv6 is not redirected");
  if (push->has_ifconfig || n4 > 0 || redir != 0) {
    rc = lvpn__tun_plan_ipv4(plan, &p4, err, errlen);
    if (rc != 0)
      goto out;
  }
  if (push->has_ifconfig6) {
    p6.has_ifconfig = 1;
    memcpy(p6.local, &push->ifconfig6_local, 16);
    p6.prefixlen = push->ifconfig6_bits;
    p6.has_remote = push->has_ifconfig6_remote;
    memcpy(p6.remote, &push->ifconfig6_remote, 16);
    p6.has_default_gateway = cfg->has_route_ipv6_gateway;
    memcpy(p6.default_gateway, &cfg->route_ipv6_gateway, 16);
    for (i = 0; i < cfg->n_routes6; i++) /* the config's route-ipv6 */
      client_route6(&cfg->routes6[i], metric, &routes6[n6++]);
    for (i = 0; !cfg->route_nopull && i < push->n_routes6; i++)
      client_route6(&push->routes6[i], metric, &routes6[n6++]);
    p6.routes = routes6;
    p6.n_routes = (size_t)n6;
    p6.redirect = (rg & LVPN__RG_IPV6) != 0;
    if (ss->ss_family == AF_INET6) {
      p6.has_server = 1;
      memcpy(p6.server, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    }
    rc = lvpn__tun_plan_ipv6(plan, &p6, err, errlen);
    if (rc != 0)
      goto out;
  } else if (cfg->n_routes6 > 0) {
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: %d route-ipv6 not installed: the server pushed no "
              "IPv6 address",
              cfg->n_routes6);
  }
  plan->mtu = (unsigned)(push->tun_mtu > 0 ? push->tun_mtu
                                           : lvpn__client_config_tun_mtu(cfg));
  /* route-noexec / ifconfig-noexec: the scripts' job (their environment
   * has the addresses and routes) */
  plan->no_routes = cfg->route_noexec;
  plan->no_ifconfig = cfg->ifconfig_noexec;
  if ((cfg->route_noexec || cfg->ifconfig_noexec) &&
      (cfg->script_security < 2 || (cfg->up == NULL && cfg->route_up == NULL)))
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: %s%s%s: no up or route-up script runs to do what "
              "is left out",
              cfg->ifconfig_noexec ? "ifconfig-noexec" : "",
              cfg->ifconfig_noexec && cfg->route_noexec ? ", " : "",
              cfg->route_noexec ? "route-noexec" : "");

  /* What up/down scripts see (OpenVPN's environment). */
  memset(sc, 0, sizeof(*sc));
  lvpn__script_env_init(&sc->env);
  if (cfg->script_security >= 2) {
    sc->up = cfg->up;
    sc->down = cfg->down;
    sc->route_up = cfg->route_up;
    sc->route_pre_down = cfg->route_pre_down;
    sc->ipchange = cfg->ipchange;
  } else if (cfg->up != NULL || cfg->down != NULL || cfg->route_up != NULL ||
             cfg->route_pre_down != NULL || cfg->ipchange != NULL) {
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: scripts (up, down, route-up, route-pre-down, "
              "ipchange) are not run unless 'script-security 2' or higher "
              "is set");
  }
  for (i = 0; i < cfg->n_setenv; i++) /* setenv: for every script */
    if (lvpn__script_env_add(&sc->env, cfg->setenv[i].name,
                             cfg->setenv[i].value) == LVPN_ENOMEM) {
      rc = LVPN_ENOMEM;
      goto out;
    }
  /* the server's certificates: X509_N_*, tls_id_N, tls_digest_N, ... */
  {
    const lvpn__certenv_t *ce = lvpn__tls_peer_env(&c->tls.tls);
    const char *v = NULL;
    char name[128];
    while ((v = lvpn__certenv_next(ce, v)) != NULL) {
      size_t n = (size_t)(strchr(v, '=') - v);
      if (n >= sizeof(name))
        continue;
      memcpy(name, v, n);
      name[n] = '\0';
      if (lvpn__script_env_add(&sc->env, name, v + n + 1) == LVPN_ENOMEM) {
        rc = LVPN_ENOMEM;
        goto out;
      }
    }
  }
  if (push->has_ifconfig) {
    fmt4(sc->local, sizeof(sc->local), push->ifconfig_local);
    fmt4(sc->remote_netmask, sizeof(sc->remote_netmask),
         push->ifconfig_remote);
  }
  if (push->has_ifconfig6) {
    inet_ntop(AF_INET6, &push->ifconfig6_local, sc->local6,
              sizeof(sc->local6));
    sc->netbits6 = push->ifconfig6_bits;
    if (push->has_ifconfig6_remote)
      inet_ntop(AF_INET6, &push->ifconfig6_remote, sc->remote6,
                sizeof(sc->remote6));
  }
  if (plan->vpn_gateway != 0)
    lvpn__ip4_str(plan->vpn_gateway, sc->vpn_gw);
  if (ss->ss_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
              sc->remote, sizeof(sc->remote));
    sc->remote_port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr,
              sc->remote, sizeof(sc->remote));
    sc->remote_port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
  }
  snprintf(sc->proto, sizeof(sc->proto), "%s",
           c->session.is_tcp ? "tcp-client" : "udp");
  snprintf(sc->common_name, sizeof(sc->common_name), "%s",
           lvpn__tls_peer_cn(&c->tls.tls) ? lvpn__tls_peer_cn(&c->tls.tls)
                                          : "");
  for (i = 0; i < push->n_dhcp && sc->n_dhcp < LVPN__TUN_MAX_DHCP; i++) {
    char buf[LVPN__DHCP_VALUE_MAX + 64];
    /* without the keyword: script.c writes "dhcp-option " before it */
    snprintf(buf, sizeof(buf), "%s%s%s", push->dhcp[i].name,
             push->dhcp[i].value[0] ? " " : "", push->dhcp[i].value);
    sc->dhcp[sc->n_dhcp++] = buf[0] ? strdup(buf) : NULL;
  }
  sc->info.tun_mtu = (int)plan->mtu;
  sc->info.topology = p4.topology;
  sc->verb = c->log.verb;
out:
  free(routes4);
  free(routes6);
  return rc;
}

static void client_script_free(lvpn__tun_script_t *sc) {
  size_t i;
  for (i = 0; i < sc->n_dhcp; i++)
    free(sc->dhcp[i]);
  sc->n_dhcp = 0;
  lvpn__script_env_free(&sc->env);
}

static void client_arm_reneg(lvpn_client_t *c);

static void client_fail(lvpn_client_t *c, int err, const char *msg) {
  LVPN__LOG(&c->log, LVPN_LOG_FATAL, "client", "%s", msg);
  lvpn__workers_shutdown(&c->workers, err);
}

/* Test hook: LVPN_TEST_EPOCH_USAGE_LIMIT=N moves our epoch-format send key
 * every N blocks+packets instead of at the AEAD limit, so that integration
 * tests see epoch updates within seconds. */
static uint64_t epoch_usage_limit(lvpn_client_t *c) {
  const char *s = getenv("LVPN_TEST_EPOCH_USAGE_LIMIT");
  char *end;
  unsigned long long v;
  if (s == NULL || *s == '\0')
    return 0;
  v = strtoull(s, &end, 10);
  if (*end != '\0' || v == 0) {
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "LVPN_TEST_EPOCH_USAGE_LIMIT='%s' is not a positive number: "
              "ignored",
              s);
    return 0;
  }
  LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
            "test hook: epoch usage limit lowered to %llu", v);
  return (uint64_t)v;
}

/* protocol-flags aead-epoch: only with what 2.7 requires of it (ssl.c and
 * the 2.7.8 release notes): our announcement, a peer-id, an AEAD cipher. */
static int epoch_check(lvpn_client_t *c, const lvpn__push_t *push,
                       const char *cipher) {
  char msg[200];
  if (!(push->protocol_flags & LVPN__PROTO_F_AEAD_EPOCH))
    return 0;
  if (!(c->iv_proto & LVPN__IV_PROTO_DATA_EPOCH))
    snprintf(msg, sizeof(msg), "the server pushed protocol-flags aead-epoch, "
                               "which we did not announce");
  else if (!push->has_peer_id)
    snprintf(msg, sizeof(msg),
             "the server pushed protocol-flags aead-epoch without a peer-id");
  else if (!lvpn__epoch_cipher_ok(cipher))
    snprintf(msg, sizeof(msg),
             "the server pushed protocol-flags aead-epoch with cipher '%s', "
             "which is not an AEAD cipher",
             cipher);
  else
    return 1;
  client_fail(c, LVPN_EPUSH, msg);
  return -1;
}

/* The data packet's wire cost for this connection (OpenVPN 2.6 mtu.c,
 * mss.c): `cipher` negotiated, peer id and compression as pushed, the
 * transport and address family of the remote in use. */
static void client_frame(lvpn_client_t *c, const lvpn__push_t *push,
                         const char *cipher, int epoch, int comp,
                         lvpn__frame_t *fr) {
  const lvpn_config_t *cfg = c->cfg;
  const struct sockaddr_storage *ss = lvpn__networkio_remote(&c->net);
  memset(fr, 0, sizeof(*fr));
  lvpn__frame_set_cipher(fr, cipher, cfg->auth, epoch);
  fr->op_len = push->has_peer_id ? 4 : 1;
  fr->tcp = c->session.is_tcp;
  fr->socks_udp = !c->session.is_tcp && c->net.proxy != NULL &&
                  c->net.proxy->kind == LVPN__PROXY_SOCKS;
  fr->comp_hdr = comp == LVPN__COMP_LZO_NO || comp == LVPN__COMP_STUB ||
                         comp == LVPN__COMP_LZO ||
                         comp == LVPN__COMP_LZO_ADAPTIVE ||
                         comp == LVPN__COMP_LZ4
                     ? 1
                     : 0;
  fr->fragment = cfg->fragment > 0;
  fr->extra_tun = (unsigned)cfg->tun_mtu_extra;
  fr->encap = lvpn__frame_encap(ss != NULL && ss->ss_family == AF_INET6,
                                c->session.is_tcp);
}

/* The tun MTU of the config: tun-mtu, or what link-mtu stands for in
 * OpenVPN 2.6 (computed with the `cipher` option, or none, and the
 * P_DATA_V1 header, as 2.6 does before the server answers). */
int lvpn__client_config_tun_mtu(const lvpn_config_t *cfg) {
  lvpn__frame_t fr;
  const char *cipher = lvpn__config_cipher_supported(cfg->cipher);
  if (cfg->link_mtu <= 0 || cfg->tun_mtu_given)
    return cfg->tun_mtu;
  memset(&fr, 0, sizeof(fr));
  lvpn__frame_set_cipher(&fr, cipher, cfg->auth, false);
  fr.op_len = 1;
  return lvpn__frame_link_to_tun_mtu(&fr, (unsigned)cfg->link_mtu);
}

int lvpn__client_tun_mtu_max(const lvpn_config_t *cfg) {
  int m = 1600, t = lvpn__client_config_tun_mtu(cfg);
  if (t > m)
    m = t;
  if (cfg->tun_mtu_max > m)
    m = cfg->tun_mtu_max;
  return m < LVPN_TUN_MTU_LIMIT ? m : LVPN_TUN_MTU_LIMIT;
}

/* A pushed tun-mtu above what we announced (IV_MTU) is cut to it, with
 * OpenVPN 2.6's error line (init.c do_deferred_options). */
static void clamp_pushed_mtu(lvpn_client_t *c) {
  int max = lvpn__client_tun_mtu_max(c->cfg);
  if (c->tls.push.tun_mtu <= max)
    return;
  LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
            "Server-pushed tun-mtu is too large, please add tun-mtu-max %d "
            "in the client configuration (tun-mtu %d used)",
            c->tls.push.tun_mtu, max);
  c->tls.push.tun_mtu = max;
}

/* fragment and mssfix sizes into the data channel parameters; -1 (the
 * client failed) when `fragment` leaves no room for data. */
static int client_mtu(lvpn_client_t *c, const lvpn__push_t *push,
                      const lvpn__frame_t *fr, lvpn__dc_params_t *dp) {
  const lvpn_config_t *cfg = c->cfg;
  int mssfix;
  bool mtu, fixed;
  char msg[160];
  if (cfg->fragment > 0 && !c->session.is_tcp) {
    dp->fragment_size =
        lvpn__frame_fragment_size(fr, (unsigned)cfg->fragment,
                                  cfg->fragment_mtu);
    if (dp->fragment_size == 0) {
      snprintf(msg, sizeof(msg),
               "'fragment %d%s' leaves no room for data with cipher %s",
               cfg->fragment, cfg->fragment_mtu ? " mtu" : "", dp->cipher);
      client_fail(c, LVPN_ECONFIG, msg);
      return -1;
    }
  }
  lvpn__config_mssfix(cfg, &mssfix, &mtu, &fixed);
  if (mssfix > 0)
    dp->mss = lvpn__frame_mss(fr, (unsigned)mssfix, mtu, fixed);
  /* OpenVPN 2.6's MTU advisories (init.c), word for word */
  if (cfg->fragment > 0 && mssfix > cfg->fragment)
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: if you use --mssfix and --fragment, you should set "
              "--fragment (%d) larger or equal than --mssfix (%d)",
              cfg->fragment, mssfix);
  if (cfg->fragment > 0 && mssfix > 0 && cfg->fragment_mtu != mtu)
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: if you use --mssfix and --fragment, you should use "
              "the \"mtu\" flag for both or none of of them.");
  if (cfg->link_mtu > 0 && !cfg->tun_mtu_given)
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "MTU: link-mtu %d stands for tun-mtu %d%s", cfg->link_mtu,
              lvpn__client_config_tun_mtu(cfg),
              push->tun_mtu > 0 ? " (the server's pushed tun-mtu applies)"
                                : "");
  if (dp->fragment_size > 0)
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "MTU: fragment %d%s: data pieces of at most %u bytes",
              cfg->fragment, cfg->fragment_mtu ? " mtu" : "",
              dp->fragment_size);
  if (dp->mss > 0)
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "MTU: mssfix %d%s: TCP MSS clamped to %u (IPv6 %u)", mssfix,
              fixed ? " fixed" : mtu ? " mtu" : "", dp->mss,
              dp->mss > 20 ? dp->mss - 20 : 0);
  return 0;
}

void lvpn__client_on_push(lvpn__tlssession_t *t, const lvpn__push_t *push) {
  lvpn_client_t *c = t->cbs.ud;
  lvpn_config_t *cfg = c->cfg;
  lvpn__dc_params_t dp;
  lvpn__frame_t frame;
  uint8_t key2[256];
  char msg[600];
  const char *cipher;
  int rc, ekm, comp, epoch, st;

  clamp_pushed_mtu(c);
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "Control channel up: PUSH_REPLY after %llu ms (%d options)",
            (unsigned long long)(uv_now(c->loop) - c->start_ms),
            push->n_options);
  lvpn__client_event(c, LVPN_EVENT_PUSH_REPLY, 0);
  lvpn__client_auth_on_push(c, push);
  /* Cipher: the pushed one (NCP), else data-ciphers-fallback. */
  cipher = push->cipher[0] ? push->cipher : cfg->data_ciphers_fallback;
  if (cipher == NULL) {
    client_fail(c, LVPN_ENOCIPHER,
                "the server pushed no cipher and no 'data-ciphers-fallback' "
                "is configured");
    return;
  }
  if (push->cipher[0] && !lvpn__config_list_has(cfg->data_ciphers, cipher)) {
    snprintf(msg, sizeof(msg),
             "the server pushed cipher '%s', which is not in data-ciphers %s",
             cipher, cfg->data_ciphers);
    client_fail(c, LVPN_ENOCIPHER, msg);
    return;
  }
  comp = push->has_comp ? push->comp : cfg->comp;
  if (lvpn__comp_is_real(comp) &&
      !lvpn__comp_real_allowed(cfg->comp, cfg->allow_compression,
                               cfg->allow_compression_set)) {
    snprintf(msg, sizeof(msg),
             "the server pushed compression '%s', which is not allowed "
             "(see allow-compression)",
             lvpn__comp_name(comp));
    client_fail(c, LVPN_ECOMPRESSION, msg);
    return;
  }
  epoch = epoch_check(c, push, cipher);
  if (epoch < 0)
    return;
  ekm = (push->protocol_flags & LVPN__PROTO_F_TLS_EKM) &&
        (c->iv_proto & LVPN__IV_PROTO_TLS_KEY_EXPORT);
  c->cc_exit = (push->protocol_flags & LVPN__PROTO_F_CC_EXIT) != 0;
  c->exit_notify = push->explicit_exit_notify >= 0
                       ? push->explicit_exit_notify
                       : cfg->explicit_exit_notify;
  memset(&dp, 0, sizeof(dp));
  dp.cipher = cipher;
  dp.auth = cfg->auth;
  dp.key_id = 0;
  dp.peer_id = push->has_peer_id ? push->peer_id : LVPN__PEER_ID_DISABLED;
  dp.comp_mode = comp;
  dp.comp_tx = cfg->allow_compression == LVPN__ALLOW_COMP_YES;
  dp.epoch = epoch;
  dp.epoch_usage_limit = epoch ? epoch_usage_limit(c) : 0;
  dp.ping_s = (unsigned)(push->ping >= 0 ? push->ping : cfg->ping);
  /* ping-exit or ping-restart: pushed ones win over ours */
  if (push->ping_exit >= 0 || (push->ping_restart < 0 && cfg->ping_exit > 0)) {
    dp.ping_exit = 1;
    dp.ping_restart_s =
        (unsigned)(push->ping_exit >= 0 ? push->ping_exit : cfg->ping_exit);
  } else {
    dp.ping_restart_s = (unsigned)(
        push->ping_restart >= 0 ? push->ping_restart : cfg->ping_restart);
  }
  dp.reneg_bytes = cfg->reneg_bytes;
  dp.reneg_pkts = cfg->reneg_pkts;
  dp.tran_window_s = (unsigned)cfg->tran_window;
  dp.replay_given = cfg->replay_window != 64 || cfg->replay_time != 15;
  dp.replay_window = (unsigned)cfg->replay_window;
  dp.replay_time = (unsigned)cfg->replay_time;
  if (epoch && (cfg->replay_window != 64 || cfg->replay_time != 15))
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: 'replay-window %d %d' not applied: epoch data keys "
              "keep a 64-packet, 15-s window",
              cfg->replay_window, cfg->replay_time);
  client_frame(c, push, cipher, epoch, comp, &frame);
  if (client_mtu(c, push, &frame, &dp) != 0)
    return;
  rc = lvpn__tlssession_key2(t, ekm, key2);
  if (rc == 0)
    rc = lvpn__datachannel_set_key(&c->dc, &dp, key2);
  mbedtls_platform_zeroize(key2, sizeof(key2));
  if (rc == 0 && (rc = dyn_tls_crypt(c, t, push)) != 0) {
    client_fail(c, rc, "cannot derive the dynamic tls-crypt key");
    return;
  }
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "cannot set up data channel cipher %s: %s",
             cipher, lvpn_strerror(rc));
    client_fail(c, rc, msg);
    return;
  }
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "Data Channel: cipher '%s'%s%s, key derivation %s%s, %s, "
            "peer-id %u",
            cipher, strstr(cipher, "CBC") ? ", auth " : "",
            strstr(cipher, "CBC") ? cfg->auth : "",
            ekm ? "TLS-EKM" : "OpenVPN PRF", epoch ? ", epoch data keys" : "",
            dp.peer_id == LVPN__PEER_ID_DISABLED ? "P_DATA_V1" : "P_DATA_V2",
            dp.peer_id == LVPN__PEER_ID_DISABLED ? 0 : dp.peer_id);
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client", "Timers: ping %u, %s %u",
            dp.ping_s, dp.ping_exit ? "ping-exit" : "ping-restart",
            dp.ping_restart_s);
  if (push->inactive >= 0)
    lvpn__datachannel_set_inactive(&c->dc, (unsigned)push->inactive,
                                   (uint64_t)push->inactive_bytes);
  /* session-timeout, pushed or configured: counted from now, the tunnel
   * coming up (OpenVPN's do_init_timers after the push) */
  st = push->session_timeout >= 0 ? push->session_timeout
                                  : cfg->session_timeout;
  if (st > 0) {
    lvpn__datachannel_set_session_timeout(&c->dc, (unsigned)st);
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "session-timeout %d: the session ends in %d s", st, st);
  }
  c->ekm = ekm;
  if (!lvpn__client_names_waiting(c))
    lvpn__client_inside_up(c);
}

void lvpn__client_on_wait(lvpn__tlssession_t *t, int stage) {
  lvpn_client_t *c = t->cbs.ud;
  if (stage == 1) { /* the server makes its hello flight */
    lvpn__client_chain_ahead(c, t);
  } else if (stage == 2) { /* our Finished is out: the server checks us */
    lvpn__datachannel_prepare();
    lvpn__tun_layer_preopen(&c->tun);
    lvpn__client_chain_keep(c, t);
  } else if (stage == 3) { /* our PUSH_REQUEST is out */
    lvpn__datachannel_warm(c->cfg->data_ciphers,
                           c->cfg->data_ciphers_fallback, c->cfg->auth);
    lvpn__client_dns_prepare(c);
  }
}

void lvpn__client_inside_up(lvpn_client_t *c) {
  const lvpn__push_t *push = &c->tls.push;
  lvpn_config_t *cfg = c->cfg;
  lvpn__tun_plan_t plan;
  lvpn__tun_script_t sc;
  char err[512] = "";
  int rc;

  lvpn__tun_plan_init(&plan);
  memset(&sc, 0, sizeof(sc)); /* freed even when client_plan fails early */
  rc = client_plan(c, push, &plan, &sc, err, sizeof(err));
  if (!cfg->allow_recursive_routing) /* the device's packets to the server */
    lvpn__tun_layer_set_server(&c->tun, lvpn__networkio_remote(&c->net));
  if (rc == 0)
    rc = lvpn__tun_layer_configure(&c->tun, &plan, &sc, err, sizeof(err));
  if (rc == 0 && c->tun.ifname[0] && sc.local[0])
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "net_addr: %s %s/%s, mtu %u", c->tun.ifname, sc.local,
              sc.remote_netmask, plan.mtu);
  client_script_free(&sc);
  lvpn__tun_plan_free(&plan);
  if (rc == 0)
    lvpn__client_dns_on_push(c, push);
  if (rc == 0) /* tun, routes, DNS are up: user/group/chroot now */
    rc = lvpn__client_privileges_drop(c, err, sizeof(err));
  if (rc != 0) {
    client_fail(c, rc, err[0] ? err : lvpn_strerror(rc));
    return;
  }
  c->connected = 1;
  c->stall_restarts = 0;
  lvpn__retry_connected(&c->retry);
  client_arm_reneg(c);
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "Initialization Sequence Completed");
  lvpn__networkio_gro_on(&c->net); /* bulk data can come from now on */
  LVPN__TRACE(&c->trace, "client", "connected", "after_ms=%llu",
              (unsigned long long)(uv_now(c->loop) - c->start_ms));
  lvpn__client_event(c, LVPN_EVENT_CONNECTED, 0);
}

/* PUSH_UPDATE (2.7) complete: `push` is the session's options as updated.
 * 2.7 itself closes and reopens its tun; we move the device from the old
 * plan to the new one (routes in both untouched), so traffic keeps flowing.
 * Timers pushed by keepalive are recorded but not applied to the running
 * session (they apply at the next connection). */
void lvpn__client_on_push_update(lvpn__tlssession_t *t,
                                 const lvpn__push_t *push, unsigned changed) {
  lvpn_client_t *c = t->cbs.ud;
  lvpn__tun_plan_t plan;
  lvpn__tun_script_t sc;
  char err[512] = "";
  int rc;

  if (!c->connected)
    return;
  clamp_pushed_mtu(c);
  if (changed & LVPN__PU_KEEPALIVE)
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: PUSH_UPDATE keepalive (ping %d, ping-restart %d) "
              "applies from the next connection, not to this one",
              push->ping, push->ping_restart);
  if (changed & LVPN__PU_OTHER)
    LVPN__LOG(&c->log, LVPN_LOG_VERBOSE, "client",
              "PUSH_UPDATE: block-outside-dns is Windows-only: ignored");
  lvpn__tun_plan_init(&plan);
  memset(&sc, 0, sizeof(sc)); /* freed even when client_plan fails early */
  rc = client_plan(c, push, &plan, &sc, err, sizeof(err));
  client_script_free(&sc);
  if (rc == 0)
    rc = lvpn__tun_layer_update(&c->tun, &plan, err, sizeof(err));
  lvpn__tun_plan_free(&plan);
  if (rc != 0) {
    /* The device is between two plans: reconnect to get a coherent one. */
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client", "PUSH_UPDATE: %s",
              err[0] ? err : lvpn_strerror(rc));
    lvpn__workers_shutdown(&c->workers, LVPN_EPROTO);
    return;
  }
  if (changed & (LVPN__PU_DNS | LVPN__PU_DHCP))
    lvpn__client_dns_on_push(c, push); /* re-applied (or reverted) */
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "PUSH_UPDATE applied: %d route(s), %d IPv6 route(s)%s",
            push->n_routes, push->n_routes6,
            push->redirect_gateway ? ", redirect-gateway" : "");
  LVPN__TRACE(&c->trace, "client", "push_update_applied",
              "routes=%d routes6=%d changed=%u", push->n_routes,
              push->n_routes6, changed);
  lvpn__client_event(c, LVPN_EVENT_PUSH_UPDATE, 0);
}

/* A renegotiation finished: new data keys on the same cipher. */
void lvpn__client_on_rekey(lvpn__tlssession_t *t, uint8_t key_id) {
  lvpn_client_t *c = t->cbs.ud;
  uint8_t key2[256];
  int rc = lvpn__tlssession_key2(t, c->ekm, key2);
  if (rc == 0)
    rc = lvpn__datachannel_add_key(&c->dc, key_id, key2);
  mbedtls_platform_zeroize(key2, sizeof(key2));
  if (rc != 0) {
    client_fail(c, rc, "cannot install renegotiated data channel key");
    return;
  }
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "Data Channel: new key (key_id %u) after renegotiation", key_id);
  client_arm_reneg(c);
}

/* Our own renegotiation timer (reneg-sec): the server usually renegotiates
 * first (2.6 servers jitter theirs down by up to 10%). */
static void client_reneg_cb(uv_timer_t *h) {
  lvpn_client_t *c = container_of(h, lvpn_client_t, reneg_timer);
  int rc;
  if (c->state != LVPN__CLIENT_RUNNING || c->tls.state != LVPN__TLSS_PUSHED)
    return;
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "reneg-sec %d elapsed: renegotiating", c->cfg->reneg_sec);
  rc = lvpn__controlchannel_soft_reset(&c->cc);
  if (rc != 0)
    client_fail(c, rc, "cannot start renegotiation");
}

/* The data channel's sending key is nearly spent (epoch >= 0xF000 or
 * packet ids near the wrap): renegotiate now, as OpenVPN does. */
void lvpn__client_dc_wants_rekey(lvpn__datachannel_t *d) {
  lvpn_client_t *c = d->ud;
  int rc;
  if (c->state != LVPN__CLIENT_RUNNING || c->tls.state != LVPN__TLSS_PUSHED)
    return;
  rc = lvpn__controlchannel_soft_reset(&c->cc);
  if (rc != 0)
    client_fail(c, rc, "cannot start renegotiation");
}

static void client_arm_reneg(lvpn_client_t *c) {
  if (c->cfg->reneg_sec > 0)
    uv_timer_start(&c->reneg_timer, client_reneg_cb,
                   (uint64_t)c->cfg->reneg_sec * 1000, 0);
}

/* ---- stop, close ---- */

/* ---- what the tunnel carries, for hosts without a TUN device ---- */

static void route4_add(lvpn_route4_t *out, int max, int *n, uint32_t net,
                       uint32_t mask) {
  if (*n < max) {
    out[*n].net = net & mask;
    out[*n].netmask = mask;
  }
  (*n)++;
}

/* A route to a literal network that goes into the tunnel (not via
 * net_gateway or remote_host). */
static int route_in_tunnel(const lvpn__route4_t *r) {
  return r->net_kind == LVPN__GW_ADDR && r->gw_kind != LVPN__GW_NET &&
         r->gw_kind != LVPN__GW_REMOTE;
}

int lvpn_client_routes4(const lvpn_client_t *c, lvpn_route4_t *out, int max) {
  const lvpn__push_t *p = &c->tls.push;
  const lvpn_config_t *cfg = c->cfg;
  int i, n = 0, rg;

  if (!c->connected)
    return LVPN_ESTATE;
  if (p->has_ifconfig) {
    if (p->has_topology && p->topology == LVPN__TOPOLOGY_SUBNET)
      route4_add(out, max, &n, p->ifconfig_local.s_addr,
                 p->ifconfig_remote.s_addr);
    else /* net30 / p2p: the peer address */
      route4_add(out, max, &n, p->ifconfig_remote.s_addr, 0xffffffffu);
  }
  for (i = 0; !cfg->route_nopull && i < p->n_routes; i++)
    if (route_in_tunnel(&p->routes[i]))
      route4_add(out, max, &n, p->routes[i].net.s_addr,
                 p->routes[i].mask.s_addr);
  for (i = 0; i < cfg->n_routes; i++) {
    const lvpn__route4_t *r = &cfg->routes[i];
    const uint32_t *a;
    int k, na;
    if (route_in_tunnel(r))
      route4_add(out, max, &n, r->net.s_addr, r->mask.s_addr);
    else if (r->net_kind == LVPN__GW_NAME && r->gw_kind != LVPN__GW_NET &&
             r->gw_kind != LVPN__GW_REMOTE)
      for (na = lvpn__client_names_addrs(c, r->net_name, &a), k = 0; k < na;
           k++)
        route4_add(out, max, &n, htonl(a[k]), r->mask.s_addr);
  }
  rg = cfg->route_nopull ? cfg->redirect_gateway
                         : (cfg->redirect_gateway | p->redirect_gateway);
  if ((rg & LVPN__RG_ENABLE) && !(rg & LVPN__RG_NO_IPV4))
    route4_add(out, max, &n, 0, 0);
  return n;
}

static void route6_add(lvpn_route6_t *out, int max, int *n,
                       const struct in6_addr *net, int bits) {
  int i;
  if (*n < max) {
    memcpy(out[*n].net, net, 16);
    for (i = bits < 0 ? 0 : bits; i < 128; i++)
      out[*n].net[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
    out[*n].bits = bits;
  }
  (*n)++;
}

int lvpn_client_tunnel_ipv6(const lvpn_client_t *c, uint8_t addr[16],
                            int *bits) {
  const lvpn__push_t *p = &c->tls.push;
  if (!c->connected || !p->has_ifconfig6)
    return LVPN_ESTATE;
  memcpy(addr, &p->ifconfig6_local, 16);
  *bits = p->ifconfig6_bits;
  return 0;
}

int lvpn_client_routes6(const lvpn_client_t *c, lvpn_route6_t *out, int max) {
  const lvpn__push_t *p = &c->tls.push;
  const lvpn_config_t *cfg = c->cfg;
  static const struct in6_addr any;
  int i, n = 0, rg;

  if (!c->connected)
    return LVPN_ESTATE;
  if (!p->has_ifconfig6)
    return 0; /* no IPv6 in the tunnel: nothing to route there */
  route6_add(out, max, &n, &p->ifconfig6_local, p->ifconfig6_bits);
  for (i = 0; !cfg->route_nopull && i < p->n_routes6; i++)
    route6_add(out, max, &n, &p->routes6[i].net, p->routes6[i].bits);
  for (i = 0; i < cfg->n_routes6; i++)
    route6_add(out, max, &n, &cfg->routes6[i].net, cfg->routes6[i].bits);
  rg = cfg->route_nopull ? cfg->redirect_gateway
                         : (cfg->redirect_gateway | p->redirect_gateway);
  if ((rg & LVPN__RG_ENABLE) && (rg & LVPN__RG_IPV6))
    route6_add(out, max, &n, &any, 0);
  return n;
}

int lvpn_client_tunnel_mtu(const lvpn_client_t *c) {
  if (!c->connected)
    return LVPN_ESTATE;
  return c->tls.push.tun_mtu > 0 ? c->tls.push.tun_mtu
                                 : lvpn__client_config_tun_mtu(c->cfg);
}
