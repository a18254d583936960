/* .ovpn loader and command-line overrides.
 *
 * Each line is split by lvpn__lex_split() (OpenVPN's rules), an optional
 * leading "--" is dropped, and the option is looked up in `opts` below.
 * A single-word line "<tag>" starts an inline block that ends at "</tag>";
 * its content is kept verbatim and applied as if it were a file.
 *
 * Options accepted and ignored on purpose (K_NOOP in the table):
 *   persist-key, persist-tun  we never drop keys or the tun across restarts
 *   nobind                    we never bind a local port
 *   resolv-retry              we retry name resolution on every attempt
 *   user, group               the library never changes its credentials
 *   auth-retry                the host decides whether to ask again
 *   ping-timer-rem, fast-io, sndbuf, rcvbuf, txqueuelen: tuning only
 *   topology, tun-ipv6        a pulling client takes them from the server
 *   key-method                2 is the only method (OpenVPN 2.5+)
 *   block-outside-dns, route-method, ip-win32: Windows only
 *   route-delay               routes are set as soon as the tun is up
 * Anything not in the table: "unsupported option 'X'", or "'X' is a
 * server option" for the names in `server_opts`.
 */
#include "lib/config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/platform_util.h>

typedef struct {
  lvpn_config_t *cfg;
  const char *prefix; /* "file:line" or "--name": starts every message */
  const char *dir;    /* base for relative paths; NULL: as given */
  const char *inl;    /* inline block content, or NULL */
  size_t inl_len;
  bool soft; /* setenv opt: unknown options only warn */
  char *errbuf;
  size_t errlen;
} apply_t;

typedef struct opt_s opt_t;
typedef int (*opt_fn)(apply_t *a, const opt_t *o, char *const *p, int n);

enum { K_FLAG, K_INT, K_U64, K_STR, K_BLOB, K_KW, K_NOOP, K_FN };

struct opt_s {
  const char *name;
  uint8_t kind;
  uint16_t min, max; /* argument count, without the name */
  bool inline_ok;
  size_t off;
  int64_t lo, hi;
  opt_fn fn;
  const char *const *kw; /* K_KW: values; the index is stored */
};

static int fail(apply_t *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(apply_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(apply_t *a, int code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (a->errbuf != NULL && a->errlen > 0)
    snprintf(a->errbuf, a->errlen, "%s%s%s", a->prefix ? a->prefix : "",
             a->prefix ? ": " : "", msg);
  return code;
}

static void warn(apply_t *a, const char *fmt, ...) {
  char msg[512], *s;
  lvpn_config_t *c = a->cfg;
  va_list ap;
  if (c->n_warnings >= LVPN__CONFIG_MAX_LIST)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (asprintf(&s, "%s: %s", a->prefix, msg) >= 0)
    c->warnings[c->n_warnings++] = s;
}

static int set_str(char **dst, const char *s) {
  char *d = strdup(s);
  if (d == NULL)
    return LVPN_ENOMEM;
  free(*dst);
  *dst = d;
  return 0;
}

static void blob_clear(lvpn__blob_t *b) {
  if (b->data != NULL) {
    mbedtls_platform_zeroize(b->data, b->len);
    free(b->data);
  }
  free(b->origin);
  memset(b, 0, sizeof(*b));
}

/* Resolves `path` against a->dir into a heap string. */
static char *resolve(const apply_t *a, const char *path) {
  char *s;
  if (a->dir == NULL || path[0] == '/')
    return strdup(path);
  if (asprintf(&s, "%s/%s", a->dir, path) < 0)
    return NULL;
  return s;
}

/* The option's content: the inline block, or the file named by p[0]. */
static int load_blob(apply_t *a, const opt_t *o, char *const *p, int n,
                     lvpn__blob_t *b) {
  lvpn__blob_t nb = {0};
  int e;

  if (a->inl != NULL) {
    nb.data = malloc(a->inl_len + 1);
    nb.origin = strdup(a->prefix);
    if (nb.data != NULL) {
      memcpy(nb.data, a->inl, a->inl_len);
      nb.data[a->inl_len] = '\0';
      nb.len = a->inl_len;
    }
  } else if (n < 1) {
    return fail(a, LVPN_ECONFIG,
                "'%s' needs a file name or an inline "
                "<%s> block",
                o->name, o->name);
  } else {
    nb.origin = resolve(a, p[0]);
    if (nb.origin == NULL)
      return fail(a, LVPN_ENOMEM, "out of memory");
    e = lvpn__lex_slurp(nb.origin, LVPN__CONFIG_MAX_FILE, &nb.data, &nb.len);
    if (e != 0) {
      fail(a, e == ENOMEM ? LVPN_ENOMEM : LVPN_EKEYFILE, "cannot read '%s': %s",
           nb.origin, e == EFBIG ? "file too large" : strerror(e));
      free(nb.origin);
      return e == ENOMEM ? LVPN_ENOMEM : LVPN_EKEYFILE;
    }
  }
  if (nb.data == NULL || nb.origin == NULL) {
    blob_clear(&nb);
    return fail(a, LVPN_ENOMEM, "out of memory");
  }
  blob_clear(b);
  *b = nb;
  return 0;
}

/* ---- option handlers ---- */

static int fn_client(apply_t *a, const opt_t *o, char *const *p, int n) {
  a->cfg->client = a->cfg->pull = a->cfg->tls_client = true;
  return 0;
}

static int fn_dev(apply_t *a, const opt_t *o, char *const *p, int n) {
  if (strcmp(o->name, "dev-type") == 0) {
    if (strcmp(p[0], "tun") == 0)
      return 0;
    if (strcmp(p[0], "tap") == 0)
      return fail(a, LVPN_EUNSUPPORTED, "dev-type tap is not supported");
    return fail(a, LVPN_ECONFIG, "unknown dev-type '%s' (only 'tun')", p[0]);
  }
  if (strncmp(p[0], "tap", 3) == 0)
    return fail(a, LVPN_EUNSUPPORTED, "dev-type tap is not supported");
  if (strcmp(p[0], "null") == 0)
    return fail(a, LVPN_EUNSUPPORTED, "dev null is not supported");
  if (p[0][0] == '\0' || strlen(p[0]) >= 16 || strchr(p[0], '/') != NULL)
    return fail(a, LVPN_ECONFIG, "bad device name '%s'", p[0]);
  return set_str(&a->cfg->dev, p[0]);
}

static int parse_proto(apply_t *a, const char *s, lvpn__proto_t *out) {
  static const char *const names[] = {
      "udp",  "udp4",       "udp6",        "tcp",         "tcp4",
      "tcp6", "tcp-client", "tcp4-client", "tcp6-client", NULL};
  static const uint8_t fam[] = {0, 4, 6, 0, 4, 6, 0, 4, 6};
  int k = lvpn__lex_keyword(s, names);
  if (k < 0 && strstr(s, "server") != NULL)
    return fail(a, LVPN_EUNSUPPORTED, "'proto %s' is a server option", s);
  if (k < 0)
    return fail(a, LVPN_ECONFIG, "unknown protocol '%s'", s);
  out->tcp = k >= 3;
  out->family = fam[k];
  return 0;
}

static int fn_proto(apply_t *a, const opt_t *o, char *const *p, int n) {
  return parse_proto(a, p[0], &a->cfg->proto);
}

static int parse_port(apply_t *a, const char *s, uint16_t *out) {
  uint64_t v;
  if (lvpn__lex_uint(s, 1, 65535, &v) != 0)
    return fail(a, LVPN_ECONFIG, "bad port '%s' (1..65535)", s);
  *out = (uint16_t)v;
  return 0;
}

static int fn_port(apply_t *a, const opt_t *o, char *const *p, int n) {
  return parse_port(a, p[0], &a->cfg->port);
}

static int fn_remote(apply_t *a, const opt_t *o, char *const *p, int n) {
  lvpn__remote_t r = {0};
  int e;
  if (a->cfg->n_remotes >= LVPN__CONFIG_MAX_REMOTES)
    return fail(a, LVPN_ECONFIG, "too many 'remote' entries (max %d)",
                LVPN__CONFIG_MAX_REMOTES);
  if (p[0][0] == '\0' || strlen(p[0]) > 255)
    return fail(a, LVPN_ECONFIG, "bad host name");
  if (n > 1 && (e = parse_port(a, p[1], &r.port)) != 0)
    return e;
  if (n > 2 && (e = parse_proto(a, p[2], &r.proto)) != 0)
    return e;
  r.has_proto = n > 2;
  if ((r.host = strdup(p[0])) == NULL)
    return fail(a, LVPN_ENOMEM, "out of memory");
  a->cfg->remotes[a->cfg->n_remotes++] = r;
  return 0;
}

static int fn_tls_auth(apply_t *a, const opt_t *o, char *const *p, int n) {
  int dir = -1, e;
  const char *d = a->inl == NULL && n > 1 ? p[1] : NULL; /* inline: none */
  if (d != NULL) {
    if (strcmp(d, "0") != 0 && strcmp(d, "1") != 0)
      return fail(a, LVPN_ECONFIG, "key direction must be 0 or 1, not '%s'", d);
    dir = d[0] - '0';
  }
  if ((e = load_blob(a, o, p, n, &a->cfg->tls_auth)) != 0)
    return e;
  a->cfg->tls_auth_dir = dir;
  return 0;
}

static int fn_keyword(apply_t *a, const opt_t *o, const char *s,
                      const char *const *names, int *out) {
  int k = lvpn__lex_keyword(s, names);
  if (k < 0)
    return fail(a, LVPN_ECONFIG, "'%s': unknown value '%s'", o->name, s);
  *out = k;
  return 0;
}

static int fn_verify_x509(apply_t *a, const opt_t *o, char *const *p, int n) {
  static const char *const names[] = {"subject", "name", "name-prefix", NULL};
  int type = LVPN__X509_SUBJECT, e;
  if (n > 1 && (e = fn_keyword(a, o, p[1], names, &type)) != 0)
    return e;
  a->cfg->verify_x509_type = type;
  return set_str(&a->cfg->verify_x509_name, p[0]);
}

static int fn_tls_version(apply_t *a, const opt_t *o, char *const *p, int n) {
  static const char *const names[] = {"1.0", "1.1", "1.2", "1.3", NULL};
  int k = lvpn__lex_keyword(p[0], names);
  bool min = strcmp(o->name, "tls-version-min") == 0;
  if (k < 0)
    return fail(a, LVPN_ECONFIG,
                "'%s': unknown TLS version '%s' (1.0, 1.1, "
                "1.2, 1.3)",
                o->name, p[0]);
  if (n > 1 && (!min || strcmp(p[1], "or-highest") != 0))
    return fail(a, LVPN_ECONFIG, "'%s': unexpected '%s'", o->name, p[1]);
  if (min) {
    a->cfg->tls_version_min = k;
    a->cfg->tls_version_min_or_highest = n > 1;
    if (k == 3)
      warn(a, "TLS 1.3 is not available with mbedTLS 2.28; %s",
           n > 1 ? "TLS 1.2 will be used" : "the handshake cannot succeed");
  } else {
    a->cfg->tls_version_max = k;
  }
  return 0;
}

static int fn_cipher(apply_t *a, const opt_t *o, char *const *p, int n) {
  const char *c = lvpn__config_cipher_supported(p[0]);
  if (c == NULL)
    warn(a,
         "cipher '%s' is not a supported data cipher; only the "
         "negotiated data-ciphers can be used",
         p[0]);
  return set_str(&a->cfg->cipher, c != NULL ? c : p[0]);
}

static int fn_data_ciphers(apply_t *a, const opt_t *o, char *const *p, int n) {
  char list[512], *tok, *save = NULL;
  char out[512] = "";
  const char *c;
  bool optional;

  if (strlen(p[0]) >= sizeof(list))
    return fail(a, LVPN_ECONFIG, "'%s': list too long", o->name);
  snprintf(list, sizeof(list), "%s", p[0]);
  for (tok = strtok_r(list, ":", &save); tok != NULL;
       tok = strtok_r(NULL, ":", &save)) {
    optional = tok[0] == '?'; /* 2.6: "?NAME" = use if available */
    c = lvpn__config_cipher_supported(tok + optional);
    if (c == NULL) {
      if (!optional)
        warn(a, "%s: skipping unsupported cipher '%s'", o->name, tok);
      continue;
    }
    if (strstr(out, c) != NULL) /* names are not substrings of others */
      continue;
    if (out[0] != '\0')
      strcat(out, ":");
    strcat(out, c);
  }
  if (out[0] == '\0')
    return fail(a, LVPN_ENOCIPHER, "'%s': no supported cipher in '%s'", o->name,
                p[0]);
  return set_str(&a->cfg->data_ciphers, out);
}

static int fn_fallback(apply_t *a, const opt_t *o, char *const *p, int n) {
  const char *c = lvpn__config_cipher_supported(p[0]);
  if (c == NULL)
    return fail(a, LVPN_ENOCIPHER, "'%s': unsupported cipher '%s'", o->name,
                p[0]);
  return set_str(&a->cfg->data_ciphers_fallback, c);
}

static int fn_auth(apply_t *a, const opt_t *o, char *const *p, int n) {
  static const char *const names[] = {"SHA1",   "SHA256", "SHA384",
                                      "SHA512", "none",   NULL};
  int k = lvpn__lex_keyword(p[0], names);
  if (k < 0)
    return fail(a, LVPN_EUNSUPPORTED,
                "auth '%s' is not supported (SHA1, "
                "SHA256, SHA384, SHA512, none)",
                p[0]);
  return set_str(&a->cfg->auth, names[k]);
}

/* "user\npass\n" (CR tolerated); the password line may be missing. */
static int fn_auth_user_pass(apply_t *a, const opt_t *o, char *const *p,
                             int n) {
  lvpn__blob_t b = {0};
  lvpn_config_t *c = a->cfg;
  char *user, *pass, *nl;
  int e;

  if (a->inl == NULL && n == 0) {
    c->auth_user_pass = LVPN__AUP_PROMPT;
    return 0;
  }
  if ((e = load_blob(a, o, p, n, &b)) != 0)
    return e == LVPN_EKEYFILE ? LVPN_ECONFIG : e;
  if (strlen(b.data) != b.len) {
    e = fail(a, LVPN_ECONFIG, "NUL byte in '%s'", b.origin);
    goto out;
  }
  user = b.data;
  pass = NULL;
  if ((nl = strchr(user, '\n')) != NULL) {
    *nl = '\0';
    pass = nl + 1;
    pass[strcspn(pass, "\r\n")] = '\0';
  }
  user[strcspn(user, "\r")] = '\0';
  if (user[0] == '\0') {
    e = fail(a, LVPN_ECONFIG, "no username in '%s'", b.origin);
    goto out;
  }
  e = set_str(&c->username, user);
  if (e == 0 && c->password != NULL) {
    mbedtls_platform_zeroize(c->password, strlen(c->password));
    free(c->password);
    c->password = NULL;
  }
  if (e == 0 && pass != NULL && pass[0] != '\0')
    e = set_str(&c->password, pass);
  if (e == 0)
    c->auth_user_pass = LVPN__AUP_GIVEN;
out:
  blob_clear(&b);
  return e;
}

static int fn_mssfix(apply_t *a, const opt_t *o, char *const *p, int n) {
  static const char *const names[] = {"mtu", "fixed", NULL};
  uint64_t v = 1492;
  int k = -1;
  if (n > 0 && (lvpn__lex_uint(p[0], 0, 65535, &v) != 0 || (v != 0 && v < 154)))
    return fail(a, LVPN_ECONFIG, "mssfix must be 0 or 154..65535, not '%s'",
                p[0]);
  if (n > 1 && fn_keyword(a, o, p[1], names, &k) != 0)
    return LVPN_ECONFIG;
  a->cfg->mssfix = (int)v;
  a->cfg->mssfix_mtu = n == 0 || k == 0;
  a->cfg->mssfix_fixed = k == 1;
  return 0;
}

static int fn_comp(apply_t *a, const opt_t *o, char *const *p, int n) {
  char msg[128];
  bool lzo = strcmp(o->name, "comp-lzo") == 0;
  int k;
  if (!lzo && n == 1 && strcmp(p[0], "migrate") == 0)
    return fail(a, LVPN_EUNSUPPORTED,
                "'compress migrate' is a server "
                "option");
  k = lvpn__comp_parse(lzo, p, n, msg, sizeof(msg));
  if (k < 0)
    return fail(a, LVPN_ECONFIG, "%s: %s", o->name, msg);
  if (k >= LVPN__COMP_LZO)
    return fail(a, LVPN_ECOMPRESSION,
                "%s%s%s: compression is not supported,"
                " use '%s'",
                o->name, n > 0 ? " " : "", n > 0 ? p[0] : "",
                lzo ? "comp-lzo no" : "compress stub-v2");
  a->cfg->comp = k;
  return 0;
}

static int get_int(apply_t *a, const opt_t *o, const char *s, int64_t lo,
                   int64_t hi, int *out) {
  uint64_t v;
  if (lvpn__lex_uint(s, (uint64_t)lo, (uint64_t)hi, &v) != 0)
    return fail(a, LVPN_ECONFIG,
                "'%s' must be a number from %lld to %lld, "
                "not '%s'",
                o->name, (long long)lo, (long long)hi, s);
  *out = (int)v;
  return 0;
}

static int fn_keepalive(apply_t *a, const opt_t *o, char *const *p, int n) {
  int ping = 0, restart = 0;
  if (get_int(a, o, p[0], 1, INT_MAX, &ping) != 0 ||
      get_int(a, o, p[1], 1, INT_MAX, &restart) != 0)
    return LVPN_ECONFIG;
  if (restart < 2 * (int64_t)ping)
    return fail(a, LVPN_ECONFIG,
                "keepalive: the second value "
                "(ping-restart) must be at least twice the first (ping)");
  a->cfg->ping = ping;
  a->cfg->ping_restart = restart;
  return 0;
}

static int fn_connect_retry(apply_t *a, const opt_t *o, char *const *p, int n) {
  int first = 0, max = a->cfg->connect_retry_max_delay;
  if (get_int(a, o, p[0], 0, 65535, &first) != 0 ||
      (n > 1 && get_int(a, o, p[1], 0, 65535, &max) != 0))
    return LVPN_ECONFIG;
  a->cfg->connect_retry = first;
  a->cfg->connect_retry_max_delay = max;
  return 0;
}

static int fn_exit_notify(apply_t *a, const opt_t *o, char *const *p, int n) {
  int v = 1; /* bare option: 1 second */
  if (n > 0 && get_int(a, o, p[0], 0, 65535, &v) != 0)
    return LVPN_ECONFIG;
  a->cfg->explicit_exit_notify = v;
  return 0;
}

static int fn_route(apply_t *a, const opt_t *o, char *const *p, int n) {
  lvpn_config_t *c = a->cfg;
  char msg[128];
  bool v6 = strcmp(o->name, "route-ipv6") == 0;
  int cnt = v6 ? c->n_routes6 : c->n_routes, e;
  if (cnt >= LVPN__CONFIG_MAX_ROUTES)
    return fail(a, LVPN_ECONFIG, "too many '%s' entries (max %d)", o->name,
                LVPN__CONFIG_MAX_ROUTES);
  e = v6 ? lvpn__route6_parse(p, n, &c->routes6[cnt], msg, sizeof(msg))
         : lvpn__route4_parse(p, n, &c->routes[cnt], msg, sizeof(msg));
  if (e != 0)
    return fail(a, LVPN_ECONFIG, "%s: %s", o->name, msg);
  if (v6)
    c->n_routes6++;
  else
    c->n_routes++;
  return 0;
}

static int fn_redirect(apply_t *a, const opt_t *o, char *const *p, int n) {
  char msg[128];
  int f = lvpn__redirect_parse(p, n, msg, sizeof(msg));
  if (f < 0)
    return fail(a, LVPN_ECONFIG, "%s: %s", o->name, msg);
  if (strcmp(o->name, "redirect-gateway") == 0)
    a->cfg->redirect_gateway = f;
  else
    a->cfg->redirect_private = f;
  return 0;
}

static int fn_dhcp(apply_t *a, const opt_t *o, char *const *p, int n) {
  lvpn_config_t *c = a->cfg;
  char msg[128];
  if (c->n_dhcp >= LVPN__DHCP_MAX)
    return fail(a, LVPN_ECONFIG, "too many 'dhcp-option' entries (max %d)",
                LVPN__DHCP_MAX);
  if (lvpn__dhcp_parse(p, n, &c->dhcp[c->n_dhcp], msg, sizeof(msg)) != 0)
    return fail(a, LVPN_ECONFIG, "dhcp-option: %s", msg);
  c->n_dhcp++;
  return 0;
}

static int apply_words(apply_t *a, char *const *w, int n);

static int fn_setenv(apply_t *a, const opt_t *o, char *const *p, int n) {
  lvpn_config_t *c = a->cfg;
  lvpn__setenv_t *s;
  bool soft = a->soft;
  int e;
  if (strcmp(p[0], "opt") == 0 && n > 1) { /* unknown option: warn only */
    a->soft = true;
    e = apply_words(a, p + 1, n - 1);
    a->soft = soft;
    return e;
  }
  if (n > 2)
    return fail(a, LVPN_ECONFIG, "'setenv' needs a name and a value");
  if (strcmp(p[0], "FORWARD_COMPATIBLE") == 0)
    c->forward_compatible = n > 1 && strcmp(p[1], "1") == 0;
  if (c->n_setenv >= LVPN__CONFIG_MAX_LIST)
    return fail(a, LVPN_ECONFIG, "too many 'setenv' entries (max %d)",
                LVPN__CONFIG_MAX_LIST);
  s = &c->setenv[c->n_setenv];
  s->name = strdup(p[0]);
  s->value = strdup(n > 1 ? p[1] : "");
  if (s->name == NULL || s->value == NULL) {
    free(s->name);
    free(s->value);
    s->name = s->value = NULL;
    return fail(a, LVPN_ENOMEM, "out of memory");
  }
  c->n_setenv++;
  return 0;
}

static int fn_pull_filter(apply_t *a, const opt_t *o, char *const *p, int n) {
  static const char *const names[] = {"accept", "ignore", "reject", NULL};
  lvpn_config_t *c = a->cfg;
  lvpn__pull_filter_t *f;
  int k = 0;
  if (fn_keyword(a, o, p[0], names, &k) != 0)
    return LVPN_ECONFIG;
  if (c->n_pull_filters >= LVPN__CONFIG_MAX_LIST)
    return fail(a, LVPN_ECONFIG, "too many 'pull-filter' entries (max %d)",
                LVPN__CONFIG_MAX_LIST);
  f = &c->pull_filters[c->n_pull_filters];
  if ((f->text = strdup(p[1])) == NULL)
    return fail(a, LVPN_ENOMEM, "out of memory");
  f->action = (uint8_t)k;
  c->n_pull_filters++;
  return 0;
}

static int fn_replay(apply_t *a, const opt_t *o, char *const *p, int n) {
  int win = 0, t = a->cfg->replay_time;
  if (get_int(a, o, p[0], 0, 65536, &win) != 0 ||
      (n > 1 && get_int(a, o, p[1], 0, 600, &t) != 0))
    return LVPN_ECONFIG;
  a->cfg->replay_window = win;
  a->cfg->replay_time = t;
  return 0;
}

static int fn_ignore_unknown(apply_t *a, const opt_t *o, char *const *p,
                             int n) {
  lvpn_config_t *c = a->cfg;
  int i;
  for (i = 0; i < n; i++) {
    if (c->n_ignore_unknown >= LVPN__CONFIG_MAX_LIST)
      return fail(a, LVPN_ECONFIG, "too many ignored options (max %d)",
                  LVPN__CONFIG_MAX_LIST);
    if ((c->ignore_unknown[c->n_ignore_unknown] = strdup(p[i])) == NULL)
      return fail(a, LVPN_ENOMEM, "out of memory");
    c->n_ignore_unknown++;
  }
  return 0;
}

#define OFF(f) offsetof(lvpn_config_t, f)
#define E(n, k, mn, mx) .name = n, .kind = k, .min = mn, .max = mx
#define FLAG(n, f)                                                             \
  { E(n, K_FLAG, 0, 0), .off = OFF(f) }
#define INT(n, f, l, h)                                                        \
  { E(n, K_INT, 1, 1), .off = OFF(f), .lo = l, .hi = h }
#define U64(n, f)                                                              \
  { E(n, K_U64, 1, 1), .off = OFF(f) }
#define STR(n, f)                                                              \
  { E(n, K_STR, 1, 1), .off = OFF(f) }
#define BLOB(n, f)                                                             \
  { E(n, K_BLOB, 0, 1), .inline_ok = true, .off = OFF(f) }
#define KW(n, f, l, k)                                                         \
  { E(n, K_KW, 1, 1), .off = OFF(f), .lo = l, .kw = k }
#define NOOP(n, mn, mx)                                                        \
  { E(n, K_NOOP, mn, mx) }
#define FN(n, mn, mx, f)                                                       \
  { E(n, K_FN, mn, mx), .fn = f }

static const char *const cert_tls_kw[] = {"server", "client", NULL};
static const char *const allow_comp_kw[] = {"no", "asym", "yes", NULL};

static const opt_t opts[] = {
    FN("client", 0, 0, fn_client),
    FLAG("pull", pull),
    FLAG("tls-client", tls_client),
    FN("dev", 1, 1, fn_dev),
    FN("dev-type", 1, 1, fn_dev),
    FN("proto", 1, 1, fn_proto),
    FN("remote", 1, 3, fn_remote),
    FLAG("remote-random", remote_random),
    FN("port", 1, 1, fn_port),
    FN("rport", 1, 1, fn_port),
    BLOB("ca", ca),
    BLOB("cert", cert),
    BLOB("key", key),
    BLOB("extra-certs", extra_certs),
    {E("tls-auth", K_FN, 0, 2), .inline_ok = true, .fn = fn_tls_auth},
    INT("key-direction", key_direction, 0, 1),
    BLOB("tls-crypt", tls_crypt),
    BLOB("tls-crypt-v2", tls_crypt_v2),
    KW("remote-cert-tls", remote_cert_tls, LVPN__CERT_TLS_SERVER, cert_tls_kw),
    FN("verify-x509-name", 1, 2, fn_verify_x509),
    FN("tls-version-min", 1, 2, fn_tls_version),
    FN("tls-version-max", 1, 1, fn_tls_version),
    STR("tls-cipher", tls_cipher),
    STR("tls-ciphersuites", tls_ciphersuites),
    INT("tls-mtu", tls_mtu, 154, 2048),
    INT("hand-window", hand_window, 1, INT_MAX),
    INT("tls-timeout", tls_timeout, 1, INT_MAX),
    {E("reneg-sec", K_INT, 1, 2), .off = OFF(reneg_sec), .hi = INT_MAX},
    U64("reneg-bytes", reneg_bytes),
    U64("reneg-pkts", reneg_pkts),
    FN("cipher", 1, 1, fn_cipher),
    FN("data-ciphers", 1, 1, fn_data_ciphers),
    FN("ncp-ciphers", 1, 1, fn_data_ciphers),
    FN("data-ciphers-fallback", 1, 1, fn_fallback),
    FN("auth", 1, 1, fn_auth),
    FN("comp-lzo", 0, 1, fn_comp),
    FN("compress", 0, 1, fn_comp),
    KW("allow-compression", allow_compression, 0, allow_comp_kw),
    FN("replay-window", 1, 2, fn_replay),
    FLAG("mute-replay-warnings", mute_replay_warnings),
    {E("auth-user-pass", K_FN, 0, 1), .inline_ok = true,
     .fn = fn_auth_user_pass},
    FLAG("auth-nocache", auth_nocache),
    INT("tun-mtu", tun_mtu, 68, 65535),
    FN("mssfix", 0, 2, fn_mssfix),
    FN("keepalive", 2, 2, fn_keepalive),
    INT("ping", ping, 0, INT_MAX),
    INT("ping-restart", ping_restart, 0, INT_MAX),
    INT("ping-exit", ping_exit, 0, INT_MAX),
    INT("inactive", inactive, 0, INT_MAX),
    INT("connect-timeout", connect_timeout, 0, INT_MAX),
    FN("connect-retry", 1, 2, fn_connect_retry),
    INT("connect-retry-max", connect_retry_max, 0, INT_MAX),
    INT("server-poll-timeout", server_poll_timeout, 0, INT_MAX),
    FN("explicit-exit-notify", 0, 1, fn_exit_notify),
    INT("verb", verb, 0, 11),
    INT("mute", mute, 0, INT_MAX),
    FLAG("route-nopull", route_nopull),
    FN("route", 1, 4, fn_route),
    FN("route-ipv6", 1, 3, fn_route),
    INT("route-metric", route_metric, 0, INT32_MAX),
    FN("redirect-gateway", 0, 8, fn_redirect),
    FN("redirect-private", 0, 8, fn_redirect),
    FN("dhcp-option", 1, 2, fn_dhcp),
    FN("pull-filter", 2, 2, fn_pull_filter),
    STR("up", up),
    STR("down", down),
    INT("script-security", script_security, 0, 3),
    FN("setenv", 1, LVPN__LEX_MAX_WORDS, fn_setenv),
    FLAG("push-peer-info", push_peer_info),
    FN("ignore-unknown-option", 1, LVPN__LEX_MAX_WORDS, fn_ignore_unknown),
    NOOP("persist-key", 0, 0),
    NOOP("persist-tun", 0, 0),
    NOOP("nobind", 0, 0),
    NOOP("resolv-retry", 1, 1),
    NOOP("user", 1, 1),
    NOOP("group", 1, 1),
    NOOP("auth-retry", 1, 1),
    NOOP("ping-timer-rem", 0, 0),
    NOOP("fast-io", 0, 0),
    NOOP("sndbuf", 1, 1),
    NOOP("rcvbuf", 1, 1),
    NOOP("txqueuelen", 1, 1),
    NOOP("topology", 1, 1),
    NOOP("tun-ipv6", 0, 0),
    NOOP("key-method", 1, 1),
    NOOP("block-outside-dns", 0, 0),
    NOOP("route-method", 1, 1),
    NOOP("ip-win32", 1, 3),
    NOOP("route-delay", 0, 2),
};

/* clang-format off */
static const char *const server_opts[] = {
    "server", "server-ipv6", "server-bridge", "mode", "tls-server",
    "ifconfig-pool", "ifconfig-pool-persist", "ifconfig-ipv6-pool",
    "ifconfig-push", "ifconfig-ipv6-push", "push", "push-reset", "push-remove",
    "client-config-dir", "ccd-exclusive", "client-to-client", "duplicate-cn",
    "client-connect", "client-disconnect", "learn-address",
    "auth-user-pass-verify", "auth-gen-token", "auth-gen-token-secret", "dh",
    "max-clients", "max-routes-per-client", "iroute", "iroute-ipv6",
    "username-as-common-name", "verify-client-cert",
    "client-cert-not-required", "port-share", "connect-freq",
    "stale-routes-check", "hash-size", "bcast-buffers", "tls-crypt-v2-verify",
    "opt-verify", "management-client-auth", "vlan-tagging", "vlan-accept",
    "vlan-pvid", "override-username", "auth-user-pass-optional", "disable",
    NULL};
/* clang-format on */

static bool is_ignored(const lvpn_config_t *c, const char *name) {
  int i;
  for (i = 0; i < c->n_ignore_unknown; i++)
    if (strcmp(c->ignore_unknown[i], name) == 0)
      return true;
  return false;
}

/* w[0] is the option name, w[1..n-1] its arguments. */
static int apply_words(apply_t *a, char *const *w, int n) {
  const opt_t *o = NULL;
  const char *name = w[0];
  char *base = (char *)a->cfg;
  uint64_t v;
  size_t i;
  int nargs = n - 1, k = 0;

  for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
    if (strcmp(opts[i].name, name) == 0)
      o = &opts[i];
  if (o == NULL) {
    if (a->soft || a->cfg->forward_compatible || is_ignored(a->cfg, name)) {
      warn(a, "ignoring unsupported option '%s'", name);
      return 0;
    }
    if (lvpn__lex_keyword(name, server_opts) >= 0)
      return fail(a, LVPN_EUNSUPPORTED, "'%s' is a server option", name);
    return fail(a, LVPN_EUNSUPPORTED, "unsupported option '%s'", name);
  }
  if (a->inl != NULL && !o->inline_ok)
    return fail(a, LVPN_ECONFIG, "'%s' cannot be an inline block", name);
  if (a->inl == NULL && (nargs < o->min || nargs > o->max)) {
    if (o->max == 0)
      return fail(a, LVPN_ECONFIG, "'%s' takes no arguments", name);
    if (o->min == o->max)
      return fail(a, LVPN_ECONFIG, "'%s' needs %d argument%s", name, o->min,
                  o->min == 1 ? "" : "s");
    return fail(a, LVPN_ECONFIG, "'%s' needs %d to %d arguments", name, o->min,
                o->max);
  }
  switch (o->kind) {
  case K_FLAG:
    *(bool *)(base + o->off) = true;
    return 0;
  case K_INT:
    return get_int(a, o, w[1], o->lo, o->hi, (int *)(base + o->off));
  case K_U64:
    if (lvpn__lex_uint(w[1], 0, UINT64_MAX, &v) != 0)
      return fail(a, LVPN_ECONFIG, "'%s' must be a number, not '%s'", name,
                  w[1]);
    *(uint64_t *)(base + o->off) = v;
    return 0;
  case K_STR:
    return set_str((char **)(base + o->off), w[1]);
  case K_BLOB:
    return load_blob(a, o, w + 1, nargs, (lvpn__blob_t *)(base + o->off));
  case K_KW:
    if (fn_keyword(a, o, w[1], o->kw, &k) != 0)
      return LVPN_ECONFIG;
    *(int *)(base + o->off) = k + (int)o->lo;
    return 0;
  case K_NOOP:
    return 0;
  default:
    return o->fn(a, o, w + 1, nargs);
  }
}

/* ---- public API ---- */

int lvpn_config_new(lvpn_config_t **out) {
  lvpn_config_t *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return LVPN_ENOMEM;
  c->dev = strdup("tun");
  c->data_ciphers = strdup(LVPN__DEFAULT_DATA_CIPHERS);
  c->auth = strdup("SHA1");
  if (c->dev == NULL || c->data_ciphers == NULL || c->auth == NULL) {
    lvpn_config_free(c);
    return LVPN_ENOMEM;
  }
  c->port = LVPN__DEFAULT_PORT;
  c->tls_auth_dir = c->key_direction = -1;
  c->tls_version_min = 2;
  c->tls_version_max = -1;
  c->tls_mtu = 1250;
  c->hand_window = 60;
  c->tls_timeout = 2;
  c->reneg_sec = 3600;
  c->replay_window = 64;
  c->replay_time = 15;
  c->tun_mtu = 1500;
  c->mssfix = 1492;
  c->mssfix_mtu = true;
  c->connect_timeout = 120;
  c->connect_retry = 1;
  c->connect_retry_max_delay = 300;
  c->verb = 3;
  c->route_metric = -1;
  c->script_security = 1;
  *out = c;
  return 0;
}

int lvpn_config_set(lvpn_config_t *cfg, const char *name,
                    const char *const *args, char *errbuf, size_t errlen) {
  char *w[LVPN__LEX_MAX_WORDS + 1];
  char prefix[80];
  apply_t a = {0};
  int n = 1;

  if (cfg == NULL || name == NULL)
    return LVPN_EINVAL;
  if (strncmp(name, "--", 2) == 0)
    name += 2;
  snprintf(prefix, sizeof(prefix), "--%.60s", name);
  a.cfg = cfg;
  a.prefix = prefix;
  a.errbuf = errbuf;
  a.errlen = errlen;
  if (name[0] == '\0')
    return fail(&a, LVPN_EINVAL, "empty option name");
  w[0] = (char *)name;
  while (args != NULL && args[n - 1] != NULL) {
    if (n >= LVPN__LEX_MAX_WORDS)
      return fail(&a, LVPN_ECONFIG, "too many arguments");
    w[n] = (char *)args[n - 1];
    n++;
  }
  w[n] = NULL;
  return apply_words(&a, w, n);
}

int lvpn_config_load(lvpn_config_t **out, const char *path, char *errbuf,
                     size_t errlen) {
  char *w[LVPN__LEX_MAX_WORDS + 1];
  char prefix[600], msg[256], *buf = NULL, *dir, *slash;
  lvpn__lex_reader_t rd;
  lvpn_config_t *c = NULL;
  apply_t a = {0};
  size_t len;
  int e, n;

  if (out == NULL || path == NULL)
    return LVPN_EINVAL;
  *out = NULL;
  a.errbuf = errbuf;
  a.errlen = errlen;
  if ((e = lvpn__lex_slurp(path, LVPN__CONFIG_MAX_FILE, &buf, &len)) != 0)
    return fail(&a, e == EFBIG ? LVPN_ECONFIG : uv_translate_sys_error(e),
                "cannot read '%s': %s", path,
                e == EFBIG ? "file too large" : strerror(e));
  dir = strdup(path);
  if (dir == NULL || lvpn_config_new(&c) != 0) {
    e = fail(&a, LVPN_ENOMEM, "out of memory");
    goto out;
  }
  slash = strrchr(dir, '/');
  if (slash != NULL)
    slash[slash == dir ? 1 : 0] = '\0';
  a.cfg = c;
  a.dir = slash != NULL ? dir : NULL;
  a.prefix = prefix;
  lvpn__lex_reader_init(&rd, buf, len);
  for (;;) {
    n = lvpn__lex_next(&rd, w, &a.inl, &a.inl_len, msg, sizeof(msg));
    snprintf(prefix, sizeof(prefix), "%.500s:%d", path, rd.line);
    if (n == 0)
      break;
    if (n < 0) {
      e = fail(&a, LVPN_ECONFIG, "%s", msg);
      goto out;
    }
    if (strncmp(w[0], "--", 2) == 0)
      w[0] += 2;
    if ((e = apply_words(&a, w, n)) != 0)
      goto out;
  }
  e = 0;
  *out = c;
  c = NULL;
out:
  lvpn_config_free(c);
  mbedtls_platform_zeroize(buf, len); /* may hold inline keys */
  free(buf);
  free(dir);
  return e;
}

/* Visits every heap pointer the config owns, with its size in bytes (for
 * blobs; 0: a NUL-terminated string). Used by free and clone, so a new
 * field cannot be forgotten in one of them. */
typedef void (*ptr_fn)(char **pp, size_t size, void *ud);

static void walk(lvpn_config_t *c, ptr_fn fn, void *ud) {
  char **strs[] = {&c->dev,
                   &c->verify_x509_name,
                   &c->tls_cipher,
                   &c->tls_ciphersuites,
                   &c->cipher,
                   &c->data_ciphers,
                   &c->data_ciphers_fallback,
                   &c->auth,
                   &c->username,
                   &c->password,
                   &c->up,
                   &c->down};
  lvpn__blob_t *blobs[] = {&c->ca,          &c->cert,     &c->key,
                           &c->extra_certs, &c->tls_auth, &c->tls_crypt,
                           &c->tls_crypt_v2};
  size_t i;
  int k;

  for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
    fn(strs[i], 0, ud);
  for (i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
    fn(&blobs[i]->data, blobs[i]->data != NULL ? blobs[i]->len + 1 : 0, ud);
    fn(&blobs[i]->origin, 0, ud);
  }
  for (k = 0; k < c->n_remotes; k++)
    fn(&c->remotes[k].host, 0, ud);
  for (k = 0; k < c->n_pull_filters; k++)
    fn(&c->pull_filters[k].text, 0, ud);
  for (k = 0; k < c->n_setenv; k++) {
    fn(&c->setenv[k].name, 0, ud);
    fn(&c->setenv[k].value, 0, ud);
  }
  for (k = 0; k < c->n_warnings; k++)
    fn(&c->warnings[k], 0, ud);
  for (k = 0; k < c->n_ignore_unknown; k++)
    fn(&c->ignore_unknown[k], 0, ud);
}

static void free_ptr(char **pp, size_t size, void *ud) {
  if (*pp == NULL)
    return;
  mbedtls_platform_zeroize(*pp, size != 0 ? size : strlen(*pp));
  free(*pp);
  *pp = NULL;
}

static void dup_ptr(char **pp, size_t size, void *ud) {
  bool *failed = ud;
  char *d = NULL;
  if (*pp != NULL && !*failed) {
    size = size != 0 ? size : strlen(*pp) + 1;
    if ((d = malloc(size)) != NULL)
      memcpy(d, *pp, size);
    *failed = d == NULL;
  }
  *pp = d; /* after a failure: NULL, so the clone frees only its own */
}

void lvpn_config_free(lvpn_config_t *cfg) {
  if (cfg == NULL)
    return;
  walk(cfg, free_ptr, NULL);
  mbedtls_platform_zeroize(cfg, sizeof(*cfg));
  free(cfg);
}

int lvpn__config_clone(const lvpn_config_t *cfg, lvpn_config_t **out) {
  lvpn_config_t *c = malloc(sizeof(*c));
  bool failed = false;
  if (c == NULL)
    return LVPN_ENOMEM;
  memcpy(c, cfg, sizeof(*c));
  walk(c, dup_ptr, &failed);
  if (failed) {
    lvpn_config_free(c);
    return LVPN_ENOMEM;
  }
  *out = c;
  return 0;
}

int lvpn__config_validate(const lvpn_config_t *c, char *errbuf, size_t errlen) {
  apply_t a = {0};
  a.errbuf = errbuf;
  a.errlen = errlen;
  if (c->n_remotes == 0)
    return fail(&a, LVPN_ECONFIG, "no 'remote' given");
  if (!c->tls_client)
    return fail(&a, LVPN_ECONFIG,
                "no 'client' given (or 'tls-client' "
                "with 'pull')");
  if (!c->pull)
    return fail(&a, LVPN_EUNSUPPORTED,
                "'tls-client' without 'pull' is not "
                "supported: use 'client'");
  if (c->ca.data == NULL)
    return fail(&a, LVPN_ECONFIG, "no 'ca' given");
  if (c->cert.data != NULL && c->key.data == NULL)
    return fail(&a, LVPN_ECONFIG, "'cert' given without 'key'");
  if (c->key.data != NULL && c->cert.data == NULL)
    return fail(&a, LVPN_ECONFIG, "'key' given without 'cert'");
  if (c->cert.data == NULL && c->auth_user_pass == LVPN__AUP_NONE)
    return fail(&a, LVPN_ECONFIG,
                "no 'cert'/'key' and no 'auth-user-pass' "
                "given: the client cannot authenticate");
  if ((c->tls_auth.data != NULL) + (c->tls_crypt.data != NULL) +
          (c->tls_crypt_v2.data != NULL) >
      1)
    return fail(&a, LVPN_ECONFIG,
                "only one of 'tls-auth', 'tls-crypt' and "
                "'tls-crypt-v2' may be given");
  if (c->tls_version_max >= 0 && c->tls_version_max < c->tls_version_min)
    return fail(&a, LVPN_ECONFIG,
                "'tls-version-max' is below "
                "'tls-version-min'");
  if (c->tls_version_min > 2 && !c->tls_version_min_or_highest)
    return fail(&a, LVPN_EUNSUPPORTED,
                "'tls-version-min 1.3' cannot be met:"
                " mbedTLS 2.28 supports TLS up to 1.2 (add 'or-highest')");
  return 0;
}

const char *lvpn__config_cipher_supported(const char *name) {
  static const char *const names[] = {
      "AES-128-GCM", "AES-192-GCM", "AES-256-GCM", "CHACHA20-POLY1305",
      "AES-128-CBC", "AES-192-CBC", "AES-256-CBC", NULL};
  int k = name != NULL ? lvpn__lex_keyword(name, names) : -1;
  return k >= 0 ? names[k] : NULL;
}

uint16_t lvpn__config_remote_port(const lvpn_config_t *cfg, int i) {
  return cfg->remotes[i].port != 0 ? cfg->remotes[i].port : cfg->port;
}

lvpn__proto_t lvpn__config_remote_proto(const lvpn_config_t *cfg, int i) {
  return cfg->remotes[i].has_proto ? cfg->remotes[i].proto : cfg->proto;
}

int lvpn__config_tls_auth_direction(const lvpn_config_t *cfg) {
  return cfg->tls_auth_dir >= 0 ? cfg->tls_auth_dir : cfg->key_direction;
}
