/* Config options of routes and DNS on the client side (pushed ones live
 * in lvpn__push_t): route, route-ipv6, redirect-gateway/-private,
 * dhcp-option, pull-filter, dns (2.7), dns-updown disable, and our dns-mode
 * auto|none (whether a host that opted in applies DNS; not an OpenVPN
 * option).
 *
 * Accepted, our behaviour being what they ask:
 *   topology, tun-ipv6        a pulling client takes them from the server
 *   route-delay               routes are set as soon as the tun is up
 * Accepted with a warning: the Windows-only options, iproute (routes are
 *   set through netlink), ifconfig-nowarn (no option comparison), max-routes
 *   (as OpenVPN 2.6: no limit to raise).
 * Refused until implemented: ifconfig, ifconfig-ipv6, route-gateway, and
 *   the others in the table; dns-updown with a script or `force`.
 */
#include "lib/config_opts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dns_opt.h"

/* The 1-based index of host name `s` in route_names (added once). */
static int route_name(lvpn__opt_ctx_t *a, const char *s, uint16_t *idx) {
  lvpn_config_t *c = a->cfg;
  int k, e;
  for (k = 0; k < c->n_route_names; k++)
    if (strcasecmp(c->route_names[k], s) == 0) {
      *idx = (uint16_t)(k + 1);
      return 0;
    }
  if ((e = lvpn__opt_room(a, k, LVPN__CONFIG_MAX_ROUTES,
                          "route host names")) != 0 ||
      (e = lvpn__opt_grow(a, (void **)&c->route_names, &c->cap_route_names, k,
                          LVPN__CONFIG_MAX_ROUTES,
                          sizeof(*c->route_names))) != 0)
    return e;
  if ((c->route_names[k] = strdup(s)) == NULL)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  c->n_route_names++;
  *idx = (uint16_t)(k + 1);
  return 0;
}

static int fn_route(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                    int n) {
  lvpn_config_t *c = a->cfg;
  char msg[128];
  bool v6 = strcmp(o->name, "route-ipv6") == 0;
  int cnt = v6 ? c->n_routes6 : c->n_routes, e;
  if ((e = lvpn__opt_room(a, cnt, LVPN__CONFIG_MAX_ROUTES, o->name)) != 0)
    return e;
  e = v6 ? lvpn__opt_grow(a, (void **)&c->routes6, &c->cap_routes6, cnt,
                          LVPN__CONFIG_MAX_ROUTES, sizeof(*c->routes6))
         : lvpn__opt_grow(a, (void **)&c->routes, &c->cap_routes, cnt,
                          LVPN__CONFIG_MAX_ROUTES, sizeof(*c->routes));
  if (e != 0)
    return e;
  if (v6) {
    e = lvpn__route6_parse(p, n, &c->routes6[cnt], msg, sizeof(msg));
  } else { /* host names (OpenVPN resolves them when adding the routes) */
    char *w[4] = {NULL, NULL, NULL, NULL}, zero[] = "0.0.0.0";
    uint16_t idx[4] = {0, 0, 0, 0};
    int i;
    for (i = 0; i < n && i < 4; i++) {
      w[i] = p[i];
      if ((i == 0 || i == 2) && lvpn__lex_is_hostname(p[i])) {
        if ((e = route_name(a, p[i], &idx[i])) != 0)
          return e;
        w[i] = zero;
      }
    }
    e = lvpn__route4_parse(w, n, &c->routes[cnt], msg, sizeof(msg));
    if (e == 0 && idx[0]) {
      c->routes[cnt].net_kind = LVPN__GW_NAME;
      c->routes[cnt].net_name = idx[0];
    }
    if (e == 0 && idx[2]) {
      c->routes[cnt].gw_kind = LVPN__GW_NAME;
      c->routes[cnt].gw_name = idx[2];
    }
  }
  if (e != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "%s: %s", o->name, msg);
  if (v6)
    c->n_routes6++;
  else
    c->n_routes++;
  return 0;
}

static int fn_redirect(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                       int n) {
  char msg[128];
  int f = lvpn__redirect_parse(p, n, msg, sizeof(msg));
  if (f < 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "%s: %s", o->name, msg);
  if (strcmp(o->name, "redirect-gateway") == 0)
    a->cfg->redirect_gateway = f;
  else
    a->cfg->redirect_private = f;
  return 0;
}

static int fn_dhcp(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                   int n) {
  lvpn_config_t *c = a->cfg;
  char msg[128];
  int e;
  if ((e = lvpn__opt_room(a, c->n_dhcp, LVPN__DHCP_MAX, o->name)) != 0)
    return e;
  if ((e = lvpn__opt_grow(a, (void **)&c->dhcp, &c->cap_dhcp, c->n_dhcp,
                          LVPN__DHCP_MAX, sizeof(*c->dhcp))) != 0)
    return e;
  if (lvpn__dhcp_parse(p, n, &c->dhcp[c->n_dhcp], msg, sizeof(msg)) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "%s: %s", o->name, msg);
  c->n_dhcp++;
  return 0;
}

static int fn_dns(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                  int n) {
  char msg[200];
  if (a->cfg->dns == NULL &&
      (a->cfg->dns = calloc(1, sizeof(*a->cfg->dns))) == NULL)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  if (lvpn__dns_opt_parse(a->cfg->dns, p, n, false, msg, sizeof(msg)) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "%s", msg);
  return 0;
}

/* 2.7's dns-updown: `disable` keeps the resolver as it is (our dns-mode
 * none); we apply DNS ourselves, so a script or `force` cannot be honoured.
 */
static int fn_dns_updown(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                         char *const *p, int n) {
  if (strcmp(p[0], "disable") == 0) {
    a->cfg->dns_mode = LVPN__DNS_MODE_NONE;
    return 0;
  }
  return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                        "'dns-updown %.100s' is not supported: layervpn "
                        "applies DNS itself (see dns-mode); only "
                        "'dns-updown disable' is accepted",
                        p[0]);
}

static int fn_pull_filter(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                          char *const *p, int n) {
  static const char *const names[] = {"accept", "ignore", "reject", NULL};
  lvpn_config_t *c = a->cfg;
  lvpn__pull_filter_t *f;
  int k = 0, e;
  if (lvpn__opt_keyword(a, o, p[0], names, &k) != 0)
    return LVPN_ECONFIG;
  if ((e = lvpn__opt_room(a, c->n_pull_filters, LVPN__CONFIG_MAX_LIST,
                          o->name)) != 0 ||
      (e = lvpn__opt_grow(a, (void **)&c->pull_filters, &c->cap_pull_filters,
                          c->n_pull_filters, LVPN__CONFIG_MAX_LIST,
                          sizeof(*c->pull_filters))) != 0)
    return e;
  f = &c->pull_filters[c->n_pull_filters];
  if ((f->text = strdup(p[1])) == NULL)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  f->action = (uint8_t)k;
  c->n_pull_filters++;
  return 0;
}

/* route-gateway ADDR|dhcp: the gateway of routes without one, unless the
 * server pushes its own (pushed options come later and win, as in
 * OpenVPN). `dhcp` (the gateway from the TAP device's DHCP) has no meaning
 * on a tun device: said, and left out. */
static int fn_route_gateway(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                            char *const *p, int n) {
  (void)n;
  if (strcmp(p[0], "dhcp") == 0) {
    lvpn__opt_warn(a, "%s dhcp: TAP devices only; ignored on a tun device",
                   o->name);
    a->cfg->has_route_gateway = false;
    return 0;
  }
  if (lvpn__lex_ipv4(p[0], &a->cfg->route_gateway) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "%s: bad address '%.64s'",
                          o->name, p[0]);
  a->cfg->has_route_gateway = true;
  return 0;
}

/* route-ipv6-gateway ADDR: the gateway of IPv6 routes without one, in
 * place of the pushed ifconfig-ipv6 remote (OpenVPN's init.c
 * do_init_route_ipv6_list). On a tun device routes go to the device, so
 * scripts (route_ipv6_gateway_N) are where it shows. */
static int fn_route_ipv6_gateway(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                                 char *const *p, int n) {
  unsigned bits = 0;
  (void)n;
  if (strchr(p[0], '/') != NULL ||
      lvpn__lex_ipv6(p[0], &a->cfg->route_ipv6_gateway, &bits) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "%s: '%.64s' must be an IPv6 address", o->name,
                          p[0]);
  a->cfg->has_route_ipv6_gateway = true;
  return 0;
}

static const char *const dns_mode_kw[] = {"auto", "none", NULL};

static const lvpn__opt_t opts[] = {
    OPT_FLAG("route-nopull", route_nopull),
    OPT_FLAG("route-noexec", route_noexec),
    OPT_FLAG("ifconfig-noexec", ifconfig_noexec),
    OPT_FN("route-gateway", 1, 1, fn_route_gateway),
    OPT_FN("route-ipv6-gateway", 1, 1, fn_route_ipv6_gateway),
    OPT_FN("route", 1, 4, fn_route),
    OPT_FN("route-ipv6", 1, 3, fn_route),
    OPT_INT("route-metric", route_metric, 0, INT32_MAX),
    OPT_FN("redirect-gateway", 0, 8, fn_redirect),
    OPT_FN("redirect-private", 0, 8, fn_redirect),
    OPT_FN("dhcp-option", 1, 2, fn_dhcp),
    OPT_FN("pull-filter", 2, 2, fn_pull_filter),
    OPT_FN("dns", 2, LVPN__LEX_MAX_WORDS, fn_dns),
    OPT_FN("dns-updown", 1, 1, fn_dns_updown),
    OPT_KW("dns-mode", dns_mode, LVPN__DNS_MODE_AUTO, dns_mode_kw),
    OPT_FLAG("block-ipv6", block_ipv6), /* layers/tun: ICMPv6 answers */
    OPT_FLAG("allow-recursive-routing", allow_recursive_routing), /* tun */
    OPT_NOOP("topology", 1, 1),
    OPT_NOOP("tun-ipv6", 0, 0),
    OPT_NOOP("route-delay", 0, 2),
    OPT_WARN("block-outside-dns", "Windows only"),
    OPT_WARN("route-method", "Windows only"),
    OPT_WARN("ip-win32", "Windows only"),
    OPT_WARN("allow-nonadmin", "Windows only"),
    OPT_WARN("dhcp-release", "Windows only"),
    OPT_WARN("dhcp-renew", "Windows only"),
    OPT_WARN("register-dns", "Windows only"),
    OPT_WARN("tap-sleep", "Windows only"),
    OPT_WARN("win-sys", "Windows only"),
    OPT_WARN("windows-driver", "Windows only (removed in OpenVPN 2.7)"),
    OPT_WARN("pause-exit", "Windows only"),
    OPT_WARN("service", "Windows only"),
    OPT_WARN("show-net-up", "Windows only"),
    OPT_WARN("show-adapters", "Windows only"),
    OPT_WARN("show-net", "Windows only"),
    OPT_WARN("show-valid-subnets", "Windows only"),
    OPT_WARN("iproute", "routes and addresses are set through netlink; no "
                        "command is run"),
    OPT_WARN("ifconfig-nowarn", "options are not compared with the "
                                "server's"),
    OPT_WARN("max-routes", "deprecated in OpenVPN 2.4: the number of routes "
                           "is not limited by this option"),
    OPT_TODO("ifconfig"),
    OPT_TODO("ifconfig-ipv6"),
    OPT_TODO("route-table"),
    OPT_TODO("allow-pull-fqdn"),
    OPT_TODO("client-nat"),
};

static int init(lvpn_config_t *c) {
  c->route_metric = -1;
  return 0;
}

static int validate(const lvpn_config_t *c, lvpn__opt_ctx_t *a) {
  char msg[200];
  if (c->dns != NULL && lvpn__dns_opt_verify(c->dns, msg, sizeof(msg)) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "%s", msg);
  return 0;
}

static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  int k;
  for (k = 0; k < c->n_pull_filters; k++)
    fn(&c->pull_filters[k].text, 0, ud);
  for (k = 0; k < c->n_route_names; k++)
    fn(&c->route_names[k], 0, ud);
  fn((char **)&c->dns, sizeof(*c->dns), ud);
}

const lvpn__config_area_t lvpn__config_route = {opts, OPT_COUNT(opts), init,
                                                walk, validate};
