/* PUSH_REPLY parser and control-message classifier.
 *
 * As OpenVPN does (push.c, options.c): the text after "PUSH_REPLY," is cut
 * at every ',' (no quoting across commas), and each piece is split into
 * words with the config syntax. pull-filter rules see each piece first.
 */
#include "layers/tlssession/push.h"
#include "lib/grow.h"
#include "lib/redact.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#define PUSH_REPLY "PUSH_REPLY"

static int perr(lvpn__push_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int perr(lvpn__push_t *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err, sizeof(p->err), fmt, ap);
  va_end(ap);
  return LVPN_EPUSH;
}

typedef int (*push_fn)(lvpn__push_t *p, const char *name, char *const *a,
                       int n);

/* Number in [lo, hi] for option `name`. */
static int num(lvpn__push_t *p, const char *name, const char *s, long lo,
               long hi, int *out) {
  long v;
  if (lvpn__lex_int(s, lo, hi, &v) != 0)
    return perr(p, "%s: '%s' is not a number from %ld to %ld", name, s, lo, hi);
  *out = (int)v;
  return 0;
}

static int fn_ifconfig(lvpn__push_t *p, const char *name, char *const *a,
                       int n) {
  if (lvpn__lex_ipv4(a[0], &p->ifconfig_local) != 0 ||
      lvpn__lex_ipv4(a[1], &p->ifconfig_remote) != 0)
    return perr(p, "ifconfig: bad address in '%s %s'", a[0], a[1]);
  p->has_ifconfig = true;
  return 0;
}

static int fn_ifconfig6(lvpn__push_t *p, const char *name, char *const *a,
                        int n) {
  unsigned bits;
  if (lvpn__lex_ipv6(a[0], &p->ifconfig6_local, &bits) != 0 ||
      lvpn__lex_ipv6(a[1], &p->ifconfig6_remote, NULL) != 0)
    return perr(p, "ifconfig-ipv6: bad address in '%s %s'", a[0], a[1]);
  if (bits < 64 || bits > 124) /* OpenVPN's limits */
    return perr(p, "ifconfig-ipv6: /%u is not from /64 to /124", bits);
  p->ifconfig6_bits = (uint8_t)bits;
  p->has_ifconfig6 = true;
  p->has_ifconfig6_remote = true;
  return 0;
}

static int fn_topology(lvpn__push_t *p, const char *name, char *const *a,
                       int n) {
  static const char *const names[] = {"net30", "p2p", "subnet", NULL};
  int k = lvpn__lex_keyword(a[0], names);
  if (k < 0)
    return perr(p, "topology: unknown value '%s'", a[0]);
  p->topology = k;
  p->has_topology = true;
  return 0;
}

static int fn_route(lvpn__push_t *p, const char *name, char *const *a, int n) {
  char msg[128];
  bool v6 = strcmp(name, "route-ipv6") == 0;
  int cnt = v6 ? p->n_routes6 : p->n_routes, e;
  if (cnt >= LVPN__PUSH_MAX_ROUTES)
    return perr(p, "%s: too many routes (max %d)", name, LVPN__PUSH_MAX_ROUTES);
  e = v6 ? lvpn__grow((void **)&p->routes6, &p->cap_routes6, cnt,
                      LVPN__PUSH_MAX_ROUTES, sizeof(*p->routes6))
         : lvpn__grow((void **)&p->routes, &p->cap_routes, cnt,
                      LVPN__PUSH_MAX_ROUTES, sizeof(*p->routes));
  if (e != 0)
    return perr(p, "%s: out of memory", name);
  /* A host name: OpenVPN takes it only with allow-pull-fqdn, and without
   * it ignores the route (an options error that does not stop the push). */
  if (!v6 && (lvpn__lex_is_hostname(a[0]) ||
              (n > 2 && lvpn__lex_is_hostname(a[2])))) {
    p->why = "host names in pushed routes need 'allow-pull-fqdn', which "
             "is not supported yet";
    return 1;
  }
  e = v6 ? lvpn__route6_parse(a, n, &p->routes6[cnt], msg, sizeof(msg))
         : lvpn__route4_parse(a, n, &p->routes[cnt], msg, sizeof(msg));
  if (e != 0)
    return perr(p, "%s: %s", name, msg);
  if (v6)
    p->n_routes6++;
  else
    p->n_routes++;
  return 0;
}

static int fn_route_gateway(lvpn__push_t *p, const char *name, char *const *a,
                            int n) {
  p->route_gateway_dhcp = strcmp(a[0], "dhcp") == 0;
  if (!p->route_gateway_dhcp && lvpn__lex_ipv4(a[0], &p->route_gateway) != 0)
    return perr(p, "route-gateway: bad address '%s'", a[0]);
  p->has_route_gateway = true;
  return 0;
}

static int fn_redirect(lvpn__push_t *p, const char *name, char *const *a,
                       int n) {
  char msg[128];
  int f = lvpn__redirect_parse(a, n, msg, sizeof(msg));
  if (f < 0)
    return perr(p, "%s: %s", name, msg);
  if (strcmp(name, "redirect-gateway") == 0)
    p->redirect_gateway = f;
  else
    p->redirect_private = f;
  return 0;
}

static int fn_dhcp(lvpn__push_t *p, const char *name, char *const *a, int n) {
  char msg[128];
  if (p->n_dhcp >= LVPN__DHCP_MAX)
    return perr(p, "dhcp-option: too many (max %d)", LVPN__DHCP_MAX);
  if (lvpn__grow((void **)&p->dhcp, &p->cap_dhcp, p->n_dhcp, LVPN__DHCP_MAX,
                 sizeof(*p->dhcp)) != 0)
    return perr(p, "dhcp-option: out of memory");
  if (lvpn__dhcp_parse(a, n, &p->dhcp[p->n_dhcp], msg, sizeof(msg)) != 0)
    return perr(p, "dhcp-option: %s", msg);
  p->n_dhcp++;
  return 0;
}

/* The 2.7 `dns` option, every form (lib/dns_opt.c). */
static int fn_dns(lvpn__push_t *p, const char *name, char *const *a, int n) {
  char msg[200];
  if (p->dns == NULL && (p->dns = calloc(1, sizeof(*p->dns))) == NULL)
    return perr(p, "dns: out of memory");
  if (lvpn__dns_opt_parse(p->dns, a, n, true, msg, sizeof(msg)) != 0)
    return perr(p, "%s", msg);
  return 0;
}

static int fn_peer_id(lvpn__push_t *p, const char *name, char *const *a,
                      int n) {
  uint64_t v;
  if (lvpn__lex_uint(a[0], 0, LVPN__PEER_ID_DISABLED, &v) != 0)
    return perr(p, "peer-id: '%s' is not a number from 0 to %u", a[0],
                LVPN__PEER_ID_DISABLED);
  p->peer_id = (uint32_t)v;
  p->has_peer_id = true;
  return 0;
}

static int fn_name(lvpn__push_t *p, const char *name, char *const *a, int n) {
  char *dst = strcmp(name, "cipher") == 0 ? p->cipher : p->auth;
  if (a[0][0] == '\0' || strlen(a[0]) >= sizeof(p->cipher))
    return perr(p, "%s: bad name '%.40s'", name, a[0]);
  strcpy(dst, a[0]);
  return 0;
}

static int fn_timer(lvpn__push_t *p, const char *name, char *const *a, int n) {
  static const char *const names[] = {"ping",
                                      "ping-restart",
                                      "ping-exit",
                                      "inactive",
                                      "session-timeout",
                                      "route-metric",
                                      "tun-mtu",
                                      NULL};
  int *dst[] = {&p->ping,     &p->ping_restart,    &p->ping_exit,
                &p->inactive, &p->session_timeout, &p->route_metric,
                &p->tun_mtu};
  int k = lvpn__lex_keyword(name, names);
  bool mtu = k == 6;
  int e;
  if (k == 3 && n > 1 &&
      (e = num(p, name, a[1], 0, INT_MAX, &p->inactive_bytes)) != 0)
    return e;
  return num(p, name, a[0], mtu ? 68 : 0, mtu ? 65535 : INT_MAX, dst[k]);
}

static int fn_exit_notify(lvpn__push_t *p, const char *name, char *const *a,
                          int n) {
  p->explicit_exit_notify = 1;
  return n > 0 ? num(p, name, a[0], 0, 65535, &p->explicit_exit_notify) : 0;
}

static int fn_flags(lvpn__push_t *p, const char *name, char *const *a, int n) {
  static const char *const names[] = {"cc-exit", "tls-ekm", "dyn-tls-crypt",
                                      "aead-epoch", NULL};
  int i, k, unknown = 0;
  bool kd = strcmp(name, "key-derivation") == 0;
  for (i = 0; i < n; i++) {
    k = lvpn__lex_keyword(a[i], names);
    if (k < 0 || (kd && k != 1))
      unknown = 1; /* a newer server's flag: ignored, caller warns */
    else
      p->protocol_flags |= 1u << k;
  }
  return unknown;
}

static int fn_comp(lvpn__push_t *p, const char *name, char *const *a, int n) {
  char msg[128];
  int k =
      lvpn__comp_parse(strcmp(name, "comp-lzo") == 0, a, n, msg, sizeof(msg));
  if (k < 0)
    return perr(p, "%s: %s", name, msg);
  p->comp = k;
  p->has_comp = true;
  return 0;
}

static int fn_token(lvpn__push_t *p, const char *name, char *const *a, int n) {
  char **dst =
      strcmp(name, "auth-token") == 0 ? &p->auth_token : &p->auth_token_user;
  char *d = strdup(a[0]);
  if (d == NULL)
    return perr(p, "%s: out of memory", name);
  if (*dst != NULL) {
    mbedtls_platform_zeroize(*dst, strlen(*dst));
    free(*dst);
  }
  *dst = d;
  return 0;
}

static int fn_flag(lvpn__push_t *p, const char *name, char *const *a, int n) {
  if (strcmp(name, "block-ipv6") == 0)
    p->block_ipv6 = true;
  return 0;
}

static int fn_continuation(lvpn__push_t *p, const char *name, char *const *a,
                           int n) {
  if (strcmp(a[0], "1") != 0 && strcmp(a[0], "2") != 0)
    return perr(p, "push-continuation: unexpected value '%s'", a[0]);
  p->more = a[0][0] == '2';
  return 0;
}

static const struct {
  const char *name;
  uint16_t min, max;
  push_fn fn; /* NULL: accepted and ignored */
} popts[] = {
    {"ifconfig", 2, 2, fn_ifconfig},
    {"ifconfig-ipv6", 2, 2, fn_ifconfig6},
    {"topology", 1, 1, fn_topology},
    {"route", 1, 4, fn_route},
    {"route-ipv6", 1, 3, fn_route},
    {"route-gateway", 1, 1, fn_route_gateway},
    {"route-metric", 1, 1, fn_timer},
    {"redirect-gateway", 0, 8, fn_redirect},
    {"redirect-private", 0, 8, fn_redirect},
    {"block-ipv6", 0, 0, fn_flag},
    {"dhcp-option", 1, 2, fn_dhcp},
    {"dns", 2, LVPN__LEX_MAX_WORDS, fn_dns},
    {"peer-id", 1, 1, fn_peer_id},
    {"cipher", 1, 1, fn_name},
    {"auth", 1, 1, fn_name},
    {"ping", 1, 1, fn_timer},
    {"ping-restart", 1, 1, fn_timer},
    {"ping-exit", 1, 1, fn_timer},
    {"inactive", 1, 2, fn_timer},
    {"session-timeout", 1, 2, fn_timer},
    {"tun-mtu", 1, 1, fn_timer},
    {"explicit-exit-notify", 0, 1, fn_exit_notify},
    {"key-derivation", 1, 1, fn_flags},
    {"protocol-flags", 1, LVPN__LEX_MAX_WORDS, fn_flags},
    {"compress", 0, 1, fn_comp},
    {"comp-lzo", 0, 1, fn_comp},
    {"auth-token", 1, 1, fn_token},
    {"auth-token-user", 1, 1, fn_token},
    {"push-continuation", 1, 1, fn_continuation},
    /* harmless to ignore (doc §7); Windows-only ones too */
    {"tun-ipv6", 0, 0, NULL},
    {"setenv", 1, 2, NULL},
    {"echo", 0, LVPN__LEX_MAX_WORDS, NULL},
    {"block-outside-dns", 0, 0, NULL},
    {"register-dns", 0, 0, NULL},
    {"route-delay", 0, 2, NULL},
};

/* Applies one pushed option; `text` is its raw form (trimmed), `buf` and
 * `shown` scratch space of LVPN__PUSH_MAX_OPTION bytes: `shown` is the text
 * for error messages, auth-token values masked (lib/redact.h). */
static int apply_one_in(lvpn__push_t *p, const char *text, char *buf,
                        char *shown, lvpn__push_warn_cb warn, void *ud) {
  char *w[LVPN__LEX_MAX_WORDS + 1], msg[128];
  size_t i, tl;
  int n, e, k;

  strcpy(shown, text); /* length checked by the caller */
  lvpn__redact_mask(shown, strlen(shown));

  for (k = 0; k < p->n_filters; k++) {
    tl = strlen(p->filters[k].text);
    if (strncmp(text, p->filters[k].text, tl) != 0)
      continue;
    if (p->filters[k].action == LVPN__PULL_REJECT)
      return perr(p, "pushed option '%.200s' rejected by pull-filter", shown);
    if (p->filters[k].action == LVPN__PULL_IGNORE) {
      p->n_filtered++;
      return 0;
    }
    break; /* accept */
  }
  strcpy(buf, text); /* length checked by the caller */
  n = lvpn__lex_split(buf, w, msg, sizeof(msg));
  if (n < 0)
    return perr(p, "'%.200s': %s", shown, msg);
  if (n == 0)
    return 0;
  for (i = 0; i < sizeof(popts) / sizeof(popts[0]); i++) {
    if (strcmp(popts[i].name, w[0]) != 0)
      continue;
    if (n - 1 < popts[i].min || n - 1 > popts[i].max)
      return perr(p, "%s: wrong number of arguments in '%.200s'", w[0], shown);
    e = popts[i].fn != NULL ? popts[i].fn(p, w[0], w + 1, n - 1) : 0;
    if (e < 0)
      return e;
    p->n_options++;
    if (e > 0 && warn != NULL) /* known option: ignored, or a detail unknown */
      warn(ud, shown, p->why);
    p->why = NULL;
    return 0;
  }
  if (warn != NULL)
    warn(ud, shown, NULL);
  return 0;
}

/* The option's copies may hold an auth-token: wiped after use. */
static int apply_one(lvpn__push_t *p, const char *text, lvpn__push_warn_cb warn,
                     void *ud) {
  char buf[LVPN__PUSH_MAX_OPTION], shown[LVPN__PUSH_MAX_OPTION];
  int e = apply_one_in(p, text, buf, shown, warn, ud);
  mbedtls_platform_zeroize(buf, sizeof(buf));
  mbedtls_platform_zeroize(shown, sizeof(shown));
  return e;
}

int lvpn__push_parse(lvpn__push_t *p, const char *msg, size_t len,
                     lvpn__push_warn_cb warn, void *ud) {
  char text[LVPN__PUSH_MAX_OPTION];
  const char *end, *s;
  size_t pos, olen;
  int e;

  if (msg == NULL)
    return perr(p, "not a PUSH_REPLY message");
  while (len > 0 && msg[len - 1] == '\0')
    len--;
  if (len > LVPN__LEX_MAX_LINE)
    return perr(p, "PUSH_REPLY too long (%zu bytes)", len);
  if (memchr(msg, '\0', len) != NULL)
    return perr(p, "NUL byte inside PUSH_REPLY");
  if (len < strlen(PUSH_REPLY) ||
      memcmp(msg, PUSH_REPLY, strlen(PUSH_REPLY)) != 0 ||
      (len > strlen(PUSH_REPLY) && msg[strlen(PUSH_REPLY)] != ','))
    return perr(p, "not a PUSH_REPLY message");
  p->more = false;
  for (pos = strlen(PUSH_REPLY) + 1; pos < len; pos = olen + 1) {
    end = memchr(msg + pos, ',', len - pos);
    olen = end != NULL ? (size_t)(end - msg) : len; /* end offset */
    s = msg + pos;
    while (s < msg + olen && isspace((unsigned char)*s))
      s++;
    if ((size_t)(msg + olen - s) >= sizeof(text))
      return perr(p, "pushed option too long (max %d bytes)",
                  LVPN__PUSH_MAX_OPTION - 1);
    memcpy(text, s, (size_t)(msg + olen - s));
    text[msg + olen - s] = '\0';
    e = apply_one(p, text, warn, ud);
    mbedtls_platform_zeroize(text, sizeof(text));
    if (e != 0)
      return e;
  }
  if (!p->more && p->dns != NULL &&
      lvpn__dns_opt_verify(p->dns, text, sizeof(text)) != 0)
    return perr(p, "%.200s", text);
  return p->more ? 1 : 0;
}

void lvpn__push_init(lvpn__push_t *p) {
  memset(p, 0, sizeof(*p));
  p->topology = LVPN__TOPO_NET30;
  p->peer_id = LVPN__PEER_ID_DISABLED;
  p->route_metric = p->ping = p->ping_restart = p->ping_exit = -1;
  p->inactive = p->session_timeout = p->tun_mtu = -1;
  p->explicit_exit_notify = -1;
}

static int dup_list(void **arr, int n, int *cap, size_t elem) {
  void *a = NULL;
  if (*arr != NULL && n > 0) {
    if ((a = malloc((size_t)n * elem)) == NULL) {
      *arr = NULL;
      *cap = 0;
      return LVPN_ENOMEM;
    }
    memcpy(a, *arr, (size_t)n * elem);
  }
  *arr = a;
  *cap = a != NULL ? n : 0;
  return 0;
}

int lvpn__push_dup_lists(lvpn__push_t *dst) {
  lvpn_dns_t *d = dst->dns;
  int e = 0;
  e |= dup_list((void **)&dst->routes, dst->n_routes, &dst->cap_routes,
                sizeof(*dst->routes));
  e |= dup_list((void **)&dst->routes6, dst->n_routes6, &dst->cap_routes6,
                sizeof(*dst->routes6));
  e |= dup_list((void **)&dst->dhcp, dst->n_dhcp, &dst->cap_dhcp,
                sizeof(*dst->dhcp));
  if (d != NULL && (dst->dns = malloc(sizeof(*d))) != NULL)
    memcpy(dst->dns, d, sizeof(*d));
  else if (d != NULL)
    e = 1;
  if (e != 0) {
    lvpn__push_free_lists(dst);
    return LVPN_ENOMEM;
  }
  return 0;
}

void lvpn__push_free_lists(lvpn__push_t *p) {
  free(p->routes);
  free(p->routes6);
  free(p->dhcp);
  free(p->dns);
  p->routes = NULL;
  p->routes6 = NULL;
  p->dhcp = NULL;
  p->dns = NULL;
  p->n_routes = p->cap_routes = p->n_routes6 = p->cap_routes6 = 0;
  p->n_dhcp = p->cap_dhcp = 0;
}

void lvpn__push_free(lvpn__push_t *p) {
  const lvpn__pull_filter_t *f = p->filters;
  int nf = p->n_filters;
  lvpn__push_free_lists(p);
  if (p->auth_token != NULL) {
    mbedtls_platform_zeroize(p->auth_token, strlen(p->auth_token));
    free(p->auth_token);
  }
  if (p->auth_token_user != NULL) {
    mbedtls_platform_zeroize(p->auth_token_user, strlen(p->auth_token_user));
    free(p->auth_token_user);
  }
  lvpn__push_init(p);
  p->filters = f;
  p->n_filters = nf;
}

static const char *const ctl_names[] = {
    "",     "PUSH_REPLY", "AUTH_FAILED", "AUTH_PENDING", "RESTART",
    "HALT", "INFO",       "INFO_PRE",    "EXIT",         "CR_RESPONSE",
    "PUSH_UPDATE"};

lvpn__ctlmsg_t lvpn__ctlmsg_classify(const char *msg, const char **rest) {
  size_t i, l;
  if (rest != NULL)
    *rest = "";
  if (msg == NULL)
    return LVPN__CTL_UNKNOWN;
  for (i = 1; i < sizeof(ctl_names) / sizeof(ctl_names[0]); i++) {
    l = strlen(ctl_names[i]);
    if (strncmp(msg, ctl_names[i], l) != 0 || (msg[l] != '\0' && msg[l] != ','))
      continue;
    if (rest != NULL && msg[l] == ',')
      *rest = msg + l + 1;
    return (lvpn__ctlmsg_t)i;
  }
  return LVPN__CTL_UNKNOWN;
}

/* "timeout N" among the comma-separated fields of AUTH_PENDING. */
int lvpn__ctlmsg_pending_timeout(const char *rest) {
  char field[32];
  size_t l;
  long v;
  while (rest != NULL && *rest != '\0') {
    l = strcspn(rest, ",");
    if (l > 8 && l < sizeof(field) && strncmp(rest, "timeout ", 8) == 0) {
      memcpy(field, rest + 8, l - 8);
      field[l - 8] = '\0';
      return lvpn__lex_int(field, 0, INT_MAX, &v) == 0 ? (int)v : -1;
    }
    rest = rest[l] == ',' ? rest + l + 1 : NULL;
  }
  return -1;
}

/* One keyword of TEMP[...] (`kw` is `len` bytes, not terminated). */
static void auth_temp_keyword(const char *kw, size_t len,
                              lvpn__auth_temp_t *out) {
  char field[40];
  long v;
  while (len > 0 && (*kw == ' ' || *kw == '\t'))
    kw++, len--;
  if (len == 0)
    return;
  if (len >= sizeof(field)) {
    out->unknown++;
    return;
  }
  memcpy(field, kw, len);
  field[len] = '\0';
  if (strncmp(field, "backoff ", 8) == 0 &&
      lvpn__lex_int(field + 8, 0, 86400, &v) == 0)
    out->backoff_s = (unsigned)v;
  else if (strcmp(field, "advance no") == 0)
    out->advance = LVPN__ADVANCE_NO;
  else if (strcmp(field, "advance addr") == 0)
    out->advance = LVPN__ADVANCE_ADDR;
  else if (strcmp(field, "advance remote") == 0)
    out->advance = LVPN__ADVANCE_REMOTE;
  else
    out->unknown++;
}

int lvpn__ctlmsg_auth_temp(const char *rest, lvpn__auth_temp_t *out) {
  const char *p, *end;
  size_t l;

  memset(out, 0, sizeof(*out));
  out->reason = "";
  if (rest == NULL || strncmp(rest, "TEMP", 4) != 0 ||
      (rest[4] != '\0' && rest[4] != '[' && rest[4] != ':'))
    return 0;
  p = rest + 4;
  if (*p == '[') {
    end = strchr(p, ']');
    if (end == NULL) { /* unterminated: no keywords, no reason */
      out->unknown++;
      return 1;
    }
    for (p++; p < end; p += l + (p + l < end)) {
      l = strcspn(p, ",]");
      if (p + l > end)
        l = (size_t)(end - p);
      auth_temp_keyword(p, l, out);
    }
    p = end + 1;
  }
  if (*p == ':')
    out->reason = p + 1;
  return 1;
}

const char *lvpn__ctlmsg_name(lvpn__ctlmsg_t t) {
  if ((size_t)t >= sizeof(ctl_names) / sizeof(ctl_names[0]) ||
      t == LVPN__CTL_UNKNOWN)
    return "UNKNOWN";
  return ctl_names[t];
}
