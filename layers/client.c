/* lvpn_client_t: builds the stack from a config and reacts to its events. */
#include "layers/client.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "layers/packetmuxer/wire.h"

#define IV_PROTO_BITS                                                       \
  (LVPN__IV_PROTO_DATA_V2 | LVPN__IV_PROTO_REQUEST_PUSH |                   \
   LVPN__IV_PROTO_TLS_KEY_EXPORT | LVPN__IV_PROTO_CC_EXIT_NOTIFY)
#define IV_MTU 1600
#define EXIT_POLL_MS 50

static void client_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
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

void lvpn_client_set_event_cb(lvpn_client_t *c, lvpn_event_cb cb) {
  c->event_cb = cb;
}

void lvpn_client_set_inside_write(lvpn_client_t *c, lvpn_inside_write_cb cb) {
  c->inside_write = cb;
}

void lvpn_client_set_data(lvpn_client_t *c, void *data) { c->data = data; }
void *lvpn_client_get_data(const lvpn_client_t *c) { return c->data; }

static void client_log(lvpn_client_t *c, int level, const char *fmt,
                       const char *arg) {
  LVPN__LOG(&c->log, level, "client", fmt, arg);
}

/* ---- set-up ---- */

static int client_rng(lvpn_client_t *c) {
  static const char pers[] = "layervpn";
  int err;
  mbedtls_entropy_init(&c->entropy);
  mbedtls_ctr_drbg_init(&c->drbg);
  c->rng_ready = 1;
  err = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
                              (const unsigned char *)pers, sizeof(pers) - 1);
  return err != 0 ? LVPN_ECRYPTO : 0;
}

static int client_session(lvpn_client_t *c, char *err, size_t errlen) {
  lvpn_config_t *cfg = c->cfg;
  const lvpn__blob_t *b = NULL;
  int mode = LVPN__TLSWRAP_NONE, dir = -1, rc;

  do {
    if (mbedtls_ctr_drbg_random(&c->drbg, c->session.own_sid, 8) != 0)
      return LVPN_ECRYPTO;
  } while (memcmp(c->session.own_sid, "\0\0\0\0\0\0\0\0", 8) == 0);
  c->session.is_tcp = lvpn__config_remote_proto(cfg, 0).tcp;
  if (cfg->tls_crypt_v2.data != NULL) {
    mode = LVPN__TLSWRAP_CRYPT_V2;
    b = &cfg->tls_crypt_v2;
  } else if (cfg->tls_crypt.data != NULL) {
    mode = LVPN__TLSWRAP_CRYPT;
    b = &cfg->tls_crypt;
  } else if (cfg->tls_auth.data != NULL) {
    mode = LVPN__TLSWRAP_AUTH;
    b = &cfg->tls_auth;
    dir = lvpn__config_tls_auth_direction(cfg);
  }
  if (b == NULL)
    return 0;
  rc = lvpn__tlswrap_init(&c->session.wrap, mode, b->data, b->len, dir,
                          cfg->auth, err, errlen);
  if (rc != 0)
    return rc;
  if (mode == LVPN__TLSWRAP_CRYPT_V2)
    lvpn__tlswrap_set_early_neg(&c->session.wrap);
  return 0;
}

static int client_tls(lvpn_client_t *c, char *err, size_t errlen) {
  lvpn_config_t *cfg = c->cfg;
  lvpn__tls_params_t p;
  int rc;

  memset(&p, 0, sizeof(p));
  p.ca_pem = cfg->ca.data;
  p.ca_len = cfg->ca.data ? cfg->ca.len + 1 : 0;
  p.cert_pem = cfg->cert.data;
  p.cert_len = cfg->cert.data ? cfg->cert.len + 1 : 0;
  p.key_pem = cfg->key.data;
  p.key_len = cfg->key.data ? cfg->key.len + 1 : 0;
  p.extra_certs_pem = cfg->extra_certs.data;
  p.extra_certs_len = cfg->extra_certs.data ? cfg->extra_certs.len + 1 : 0;
  p.remote_cert_tls_server = cfg->remote_cert_tls == LVPN__CERT_TLS_SERVER;
  p.verify_x509_name = cfg->verify_x509_name;
  p.verify_x509_type = cfg->verify_x509_type == LVPN__X509_NAME
                           ? LVPN__X509_NAME_NAME
                       : cfg->verify_x509_type == LVPN__X509_NAME_PREFIX
                           ? LVPN__X509_NAME_NAME_PREFIX
                           : LVPN__X509_NAME_SUBJECT;
  p.tls_version_min = cfg->tls_version_min;
  p.tls_cipher = cfg->tls_cipher;
  p.rng = mbedtls_ctr_drbg_random;
  p.rng_ctx = &c->drbg;
  p.log = &c->log;
  rc = lvpn__tls_conf_init(&c->tls_conf, &p, err, errlen);
  if (rc == 0)
    c->tls_conf_ready = 1;
  return rc;
}

static int client_km2(lvpn_client_t *c, lvpn__km2_client_t *km2) {
  lvpn_config_t *cfg = c->cfg;
  lvpn__km2_opts_t o;
  lvpn__peer_info_opts_t pi;
  int tcp = lvpn__config_remote_proto(cfg, 0).tcp;
  int rc;

  memset(&o, 0, sizeof(o));
  o.link_mtu = (unsigned)cfg->tun_mtu + 41;
  o.tun_mtu = cfg->tun_mtu;
  o.tcp = tcp;
  o.comp_lzo = cfg->comp == LVPN__COMP_LZO_NO;
  o.auth = cfg->auth;
  o.keysize = 128;
  o.tls_auth = cfg->tls_auth.data != NULL;
  rc = lvpn__km2_options_string(c->km2_options, sizeof(c->km2_options), &o);
  if (rc != 0)
    return rc;
  memset(&pi, 0, sizeof(pi));
  pi.version = PACKAGE_VERSION;
  pi.mtu = IV_MTU;
  pi.ciphers = cfg->data_ciphers;
  pi.proto = c->iv_proto = IV_PROTO_BITS;
  pi.comp_stubs = 1; /* we implement every stub framing */
  rc = lvpn__peer_info_build(c->peer_info, sizeof(c->peer_info), &pi);
  if (rc != 0)
    return rc;
  memset(km2, 0, sizeof(*km2));
  rc = lvpn__km2_client_randomize(km2, mbedtls_ctr_drbg_random, &c->drbg);
  km2->options = c->km2_options;
  km2->peer_info = c->peer_info;
  if (cfg->auth_user_pass == LVPN__AUP_GIVEN) {
    km2->username = cfg->username;
    km2->password = cfg->password;
  }
  return rc;
}

static void client_inside_write(void *ud, const uint8_t *pkt, size_t len) {
  lvpn_client_t *c = ud;
  c->inside_write(c, pkt, len);
}

static void client_on_push(lvpn__tlssession_t *t, const lvpn__push_t *push);
static void client_on_rekey(lvpn__tlssession_t *t, uint8_t key_id);
static void client_on_down(lvpn__workers_t *w, int err);

/* Builds the seven layers for one connection attempt to remote `c->remote`
 * and starts them. Called at start and again for every reconnection, once
 * the previous stack has fully closed. */
static int client_build(lvpn_client_t *c) {
  lvpn_config_t *cfg = c->cfg;
  lvpn__km2_client_t km2;
  lvpn__networkio_opts_t no;
  lvpn__tlssession_cbs_t cbs;
  lvpn__proto_t proto;
  char err[512] = "";
  int rc, r = c->remote;

  lvpn__workers_init(&c->workers, c->loop, &c->log, client_on_down);
  c->workers.data = c;
  /* A new session: new session id, fresh replay state for the wrapping. */
  lvpn__tlswrap_free(&c->session.wrap);
  memset(&c->session, 0, sizeof(c->session));
  if ((rc = client_session(c, err, sizeof(err))) != 0) {
    client_log(c, LVPN_LOG_FATAL, "%s", err[0] ? err : lvpn_strerror(rc));
    return rc;
  }
  if ((rc = client_km2(c, &km2)) != 0) {
    client_log(c, LVPN_LOG_FATAL, "key-method-2 set-up: %s",
               lvpn_strerror(rc));
    return rc;
  }

  proto = lvpn__config_remote_proto(cfg, r);
  memset(&no, 0, sizeof(no));
  no.host = cfg->remotes[r].host;
  no.port = lvpn__config_remote_port(cfg, r);
  no.proto = proto.tcp ? (proto.family == 4   ? LVPN__NET_TCP4
                          : proto.family == 6 ? LVPN__NET_TCP6
                                              : LVPN__NET_TCP)
                       : (proto.family == 4   ? LVPN__NET_UDP4
                          : proto.family == 6 ? LVPN__NET_UDP6
                                              : LVPN__NET_UDP);
  no.connect_timeout = (unsigned)cfg->connect_timeout;
  rc = lvpn__networkio_init(&c->net, c->loop, &no, &c->pool, &c->log);
  if (rc != 0) {
    lvpn__km2_client_wipe(&km2);
    client_log(c, LVPN_LOG_FATAL, "remote: %s", lvpn_strerror(rc));
    return rc;
  }
  lvpn__packetmuxer_init(&c->mux, c->loop, &c->session, &c->log);
  lvpn__reltrans_init(&c->rel, c->loop, &c->pool,
                      (uint32_t)cfg->tls_timeout * 1000, &c->log);
  lvpn__controlchannel_init(&c->cc, c->loop, &c->session, &c->pool,
                            (size_t)cfg->tls_mtu, &c->log);
  memset(&cbs, 0, sizeof(cbs));
  cbs.on_push = client_on_push;
  cbs.on_rekey = client_on_rekey;
  cbs.ud = c;
  lvpn__tlssession_init(&c->tls, c->loop, &c->session, &c->pool, &c->tls_conf,
                        &km2, (unsigned)cfg->hand_window, &cbs, &c->log);
  lvpn__km2_client_wipe(&km2);
  lvpn__tlssession_set_rng(&c->tls, mbedtls_ctr_drbg_random, &c->drbg);
  lvpn__datachannel_init(&c->dc, c->loop, &c->pool, mbedtls_ctr_drbg_random,
                         &c->drbg,
                         cfg->ping_restart > 0 ? (unsigned)cfg->ping_restart
                                               : LVPN__PRE_PULL_PING_RESTART,
                         &c->log);
  lvpn__tun_layer_init(&c->tun, c->loop, &c->pool, cfg->dev, &c->log);
  if (c->inside_write != NULL)
    lvpn__tun_layer_set_host(&c->tun, client_inside_write, c);

  lvpn__workers_add(&c->workers, &c->net.base);
  lvpn__workers_add(&c->workers, &c->mux.base);
  lvpn__workers_add(&c->workers, &c->rel.base);
  lvpn__workers_add(&c->workers, &c->cc.base);
  lvpn__workers_add(&c->workers, &c->tls.base);
  lvpn__workers_add(&c->workers, &c->dc.base);
  lvpn__workers_add(&c->workers, &c->tun.base);
  /* control path */
  lvpn__layer_link(&c->net.base, &c->mux.base);
  lvpn__layer_link(&c->mux.base, &c->rel.base);
  lvpn__layer_link(&c->rel.base, &c->cc.base);
  lvpn__layer_link(&c->cc.base, &c->tls.base);
  /* data path: the muxer forks data packets to the datachannel */
  c->mux.data_up = &c->dc.base;
  c->dc.base.below = &c->mux.base;
  lvpn__layer_link(&c->dc.base, &c->tun.base);

  c->state = LVPN__CLIENT_RUNNING;
  c->connected = 0;
  c->start_ms = uv_now(c->loop);
  c->attempts++;
  rc = lvpn__workers_start(&c->workers);
  if (rc != 0)
    client_log(c, LVPN_LOG_FATAL, "start failed: %s", lvpn_strerror(rc));
  return rc;
}

int lvpn_client_start(lvpn_client_t *c) {
  lvpn_config_t *cfg = c->cfg;
  char err[512] = "";
  int rc, i;

  if (c->state != LVPN__CLIENT_NEW)
    return LVPN_ESTATE;
  rc = lvpn__config_validate(cfg, err, sizeof(err));
  if (rc != 0) {
    client_log(c, LVPN_LOG_FATAL, "config: %s", err);
    return rc;
  }
  for (i = 0; i < cfg->n_warnings; i++)
    client_log(c, LVPN_LOG_ERROR, "WARNING: %s", cfg->warnings[i]);
  if (cfg->comp > LVPN__COMP_STUB_V2) {
    client_log(c, LVPN_LOG_FATAL, "%s",
               "compression is not supported: use 'compress stub-v2' or "
               "'comp-lzo no'");
    return LVPN_ECOMPRESSION;
  }
  /* Once per client: RNG, and certificates and keys parsed. */
  if ((rc = client_rng(c)) != 0 || (rc = client_tls(c, err, sizeof(err))) != 0) {
    client_log(c, LVPN_LOG_FATAL, "%s", err[0] ? err : lvpn_strerror(rc));
    return rc;
  }
  c->remote = 0;
  return client_build(c);
}

/* ---- PUSH_REPLY: data keys and the inside ---- */

static int cipher_in_list(const char *list, const char *name) {
  size_t n = strlen(name);
  const char *p = list;
  while (p != NULL && *p) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncasecmp(p, name, n) == 0)
      return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

static void fmt4(char *buf, size_t len, struct in_addr a) {
  inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

/* Converts one `route` for the tun planner; returns 1, or 0 (and says why)
 * for forms we cannot install yet: a keyword network (vpn_gateway,
 * net_gateway, remote_host) or a route via net_gateway / remote_host. */
static int client_route4(lvpn_client_t *c, const lvpn__route4_t *r,
                         const char *origin, lvpn__tun_route4_param_t *out) {
  if (r->net_kind != LVPN__GW_ADDR ||
      (r->gw_kind != LVPN__GW_ADDR && r->gw_kind != LVPN__GW_VPN &&
       r->gw_kind != LVPN__GW_DEFAULT)) {
    char net[INET_ADDRSTRLEN] = "(keyword)";
    if (r->net_kind == LVPN__GW_ADDR)
      inet_ntop(AF_INET, &r->net, net, sizeof(net));
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: ignoring %s route %s: net_gateway/remote_host "
              "keywords are not supported yet",
              origin, net);
    return 0;
  }
  out->net = ntohl(r->net.s_addr);
  out->mask = ntohl(r->mask.s_addr);
  out->gateway = r->gw_kind == LVPN__GW_ADDR ? ntohl(r->gateway.s_addr) : 0;
  out->metric = r->has_metric ? r->metric : 0;
  return 1;
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
  int i, n4 = 0, n6 = 0, rg, rc = 0;

  routes4 = calloc(LVPN__PUSH_MAX_ROUTES + LVPN__CONFIG_MAX_ROUTES,
                   sizeof(*routes4));
  routes6 = calloc(LVPN__PUSH_MAX_ROUTES + LVPN__CONFIG_MAX_ROUTES,
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
  /* Pushed routes (unless route-nopull), then the config's own. */
  for (i = 0; !cfg->route_nopull && i < push->n_routes; i++)
    n4 += client_route4(c, &push->routes[i], "pushed", &routes4[n4]);
  for (i = 0; i < cfg->n_routes; i++)
    n4 += client_route4(c, &cfg->routes[i], "configured", &routes4[n4]);
  p4.routes = routes4;
  p4.n_routes = (size_t)n4;
  rg = cfg->route_nopull ? cfg->redirect_gateway
                         : (cfg->redirect_gateway | push->redirect_gateway);
  if ((rg & LVPN__RG_ENABLE) && !(rg & LVPN__RG_NO_IPV4)) {
    if (!(rg & LVPN__RG_DEF1))
      LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
                "redirect-gateway: using def1 routes (0.0.0.0/1 and "
                "128.0.0.0/1) instead of replacing the default route");
    p4.redirect_def1 = 1;
    if (ss->ss_family == AF_INET && !(rg & LVPN__RG_LOCAL))
      p4.server = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
  }
  if (push->has_ifconfig || n4 > 0 || p4.redirect_def1) {
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
    for (i = 0; !cfg->route_nopull && i < push->n_routes6; i++) {
      const lvpn__route6_t *r = &push->routes6[i];
      memcpy(routes6[n6].net, &r->net, 16);
      routes6[n6].prefixlen = r->bits;
      routes6[n6].has_gateway = r->has_gateway;
      memcpy(routes6[n6].gateway, &r->gateway, 16);
      routes6[n6].metric = r->has_metric ? r->metric : 0;
      n6++;
    }
    p6.routes = routes6;
    p6.n_routes = (size_t)n6;
    rc = lvpn__tun_plan_ipv6(plan, &p6, err, errlen);
    if (rc != 0)
      goto out;
  }
  plan->mtu = (unsigned)(push->tun_mtu > 0 ? push->tun_mtu : cfg->tun_mtu);

  /* What up/down scripts see (OpenVPN's environment). */
  memset(sc, 0, sizeof(*sc));
  if (cfg->script_security >= 2) {
    sc->up = cfg->up;
    sc->down = cfg->down;
  } else if (cfg->up != NULL || cfg->down != NULL) {
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: up/down scripts are not run unless "
              "'script-security 2' or higher is set");
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
    snprintf(buf, sizeof(buf), "dhcp-option %s%s%s", push->dhcp[i].name,
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
}

static void client_arm_reneg(lvpn_client_t *c);

static void client_fail(lvpn_client_t *c, int err, const char *msg) {
  LVPN__LOG(&c->log, LVPN_LOG_FATAL, "client", "%s", msg);
  lvpn__workers_shutdown(&c->workers, err);
}

static void client_on_push(lvpn__tlssession_t *t, const lvpn__push_t *push) {
  lvpn_client_t *c = t->cbs.ud;
  lvpn_config_t *cfg = c->cfg;
  lvpn__dc_params_t dp;
  lvpn__tun_plan_t plan;
  lvpn__tun_script_t sc;
  uint8_t key2[256];
  char err[512] = "", msg[600];
  const char *cipher;
  int rc, ekm, comp;

  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "Control channel up: PUSH_REPLY after %llu ms (%d options)",
            (unsigned long long)(uv_now(c->loop) - c->start_ms),
            push->n_options);
  client_event(c, LVPN_EVENT_PUSH_REPLY, 0);
  /* Cipher: the pushed one (NCP), else data-ciphers-fallback. */
  cipher = push->cipher[0] ? push->cipher : cfg->data_ciphers_fallback;
  if (cipher == NULL) {
    client_fail(c, LVPN_ENOCIPHER,
                "the server pushed no cipher and no 'data-ciphers-fallback' "
                "is configured");
    return;
  }
  if (push->cipher[0] && !cipher_in_list(cfg->data_ciphers, cipher)) {
    snprintf(msg, sizeof(msg),
             "the server pushed cipher '%s', which is not in data-ciphers %s",
             cipher, cfg->data_ciphers);
    client_fail(c, LVPN_ENOCIPHER, msg);
    return;
  }
  comp = push->has_comp ? push->comp : cfg->comp;
  if (comp > LVPN__COMP_STUB_V2) {
    snprintf(msg, sizeof(msg),
             "the server pushed compression '%s', which is not supported",
             lvpn__comp_name(comp));
    client_fail(c, LVPN_ECOMPRESSION, msg);
    return;
  }
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
  dp.ping_s = (unsigned)(push->ping >= 0 ? push->ping : cfg->ping);
  dp.ping_restart_s = (unsigned)(push->ping_restart >= 0 ? push->ping_restart
                                                          : cfg->ping_restart);
  rc = lvpn__tlssession_key2(t, ekm, key2);
  if (rc == 0)
    rc = lvpn__datachannel_set_key(&c->dc, &dp, key2);
  mbedtls_platform_zeroize(key2, sizeof(key2));
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "cannot set up data channel cipher %s: %s",
             cipher, lvpn_strerror(rc));
    client_fail(c, rc, msg);
    return;
  }
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "Data Channel: cipher '%s'%s%s, key derivation %s, %s, peer-id %u",
            cipher, strstr(cipher, "CBC") ? ", auth " : "",
            strstr(cipher, "CBC") ? cfg->auth : "",
            ekm ? "TLS-EKM" : "OpenVPN PRF",
            dp.peer_id == LVPN__PEER_ID_DISABLED ? "P_DATA_V1" : "P_DATA_V2",
            dp.peer_id == LVPN__PEER_ID_DISABLED ? 0 : dp.peer_id);
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client", "Timers: ping %u, ping-restart %u",
            dp.ping_s, dp.ping_restart_s);

  lvpn__tun_plan_init(&plan);
  rc = client_plan(c, push, &plan, &sc, err, sizeof(err));
  if (rc == 0)
    rc = lvpn__tun_layer_configure(&c->tun, &plan, &sc, err, sizeof(err));
  if (rc == 0 && c->tun.ifname[0] && sc.local[0])
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "net_addr: %s %s/%s, mtu %u", c->tun.ifname, sc.local,
              sc.remote_netmask, plan.mtu);
  client_script_free(&sc);
  lvpn__tun_plan_free(&plan);
  if (rc != 0) {
    client_fail(c, rc, err[0] ? err : lvpn_strerror(rc));
    return;
  }
  c->connected = 1;
  c->failures = 0;
  c->ekm = ekm;
  client_arm_reneg(c);
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "Initialization Sequence Completed");
  client_event(c, LVPN_EVENT_CONNECTED, 0);
}

/* A renegotiation finished: new data keys on the same cipher. */
static void client_on_rekey(lvpn__tlssession_t *t, uint8_t key_id) {
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

static void client_arm_reneg(lvpn_client_t *c) {
  if (c->cfg->reneg_sec > 0)
    uv_timer_start(&c->reneg_timer, client_reneg_cb,
                   (uint64_t)c->cfg->reneg_sec * 1000, 0);
}

/* ---- stop, close ---- */

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
    client_event(c, LVPN_EVENT_STOPPED, LVPN_ESTOPPED);
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
  if (client_build(c) != 0 && c->workers.state == LVPN__WORKERS_IDLE) {
    /* failed before anything started: nothing will call on_down */
    c->state = LVPN__CLIENT_DOWN;
    client_event(c, LVPN_EVENT_STOPPED, c->err);
  }
}

static void client_on_down(lvpn__workers_t *w, int err) {
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
    client_event(c, LVPN_EVENT_RESTARTING, err);
    uv_timer_start(&c->timer, client_restart_cb, delay * 1000, 0);
    return;
  }
  c->state = closing ? LVPN__CLIENT_CLOSING : LVPN__CLIENT_DOWN;
  client_event(c, LVPN_EVENT_STOPPED, err);
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
