/* .ovpn loader and command-line overrides: the core that reads lines,
 * looks options up in the areas' tables and applies them, and the config's
 * lifecycle (new, free, clone, validate).
 *
 * Each line is split by lvpn__lex_split() (OpenVPN's rules), an optional
 * leading "--" is dropped, and the option is looked up in the table of
 * each area in lvpn__config_areas (lib/config_opts.h lists them; each area
 * file says which options it accepts and ignores on purpose). A
 * single-word line "<tag>" starts an inline block that ends at "</tag>";
 * its content is kept verbatim and applied as if it were a file.
 *
 * Every client option of OpenVPN 2.6's manual (and 2.7's) is in one table:
 * implemented, accepted because our behaviour is what it asks (NOOP),
 * accepted with one warning saying why it means nothing here (WARN), or
 * refused with the reason (REFUSE); tests/lib/check_options.c walks the
 * manual's list to keep it so. Anything in no table: "unsupported option
 * 'X'", or "'X' is a server option" for the names in `server_opts`.
 */
#include "lib/config_opts.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

/* Guards snapshot/snap_refs: clients on different threads may share one. */
static pthread_mutex_t share_lock = PTHREAD_MUTEX_INITIALIZER;

const lvpn__config_area_t *const lvpn__config_areas[] = {
    &lvpn__config_conn,  &lvpn__config_tls,  &lvpn__config_data,
    &lvpn__config_route, &lvpn__config_proc,
    &lvpn__config_mgmt, &lvpn__config_proxy, NULL};

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
    "connect-freq-initial", "multihome", "tls-crypt-v2-max-age",
    "x509-username-field", "ifconfig-pool-linear", "single-session",
    NULL};
/* clang-format on */

static bool is_ignored(const lvpn_config_t *c, const char *name) {
  int i;
  for (i = 0; i < c->n_ignore_unknown; i++)
    if (strcmp(c->ignore_unknown[i], name) == 0)
      return true;
  return false;
}

bool lvpn__config_is_server_option(const char *name) {
  return lvpn__lex_keyword(name, server_opts) >= 0;
}

const lvpn__opt_t *lvpn__config_lookup(const char *name) {
  const lvpn__config_area_t *const *ar;
  size_t i;
  for (ar = lvpn__config_areas; *ar != NULL; ar++)
    for (i = 0; i < (*ar)->n_opts; i++)
      if (strcmp((*ar)->opts[i].name, name) == 0)
        return &(*ar)->opts[i];
  return NULL;
}

int lvpn__opt_apply(lvpn__opt_ctx_t *a, char *const *w, int n) {
  const lvpn__opt_t *o;
  const char *name = w[0];
  char *base = (char *)a->cfg;
  uint64_t v;
  int nargs = n - 1, k = 0;

  if ((o = lvpn__config_lookup(name)) == NULL) {
    if (a->soft || a->cfg->forward_compatible || is_ignored(a->cfg, name)) {
      lvpn__opt_warn(a, "ignoring unsupported option '%s'", name);
      return 0;
    }
    if (lvpn__lex_keyword(name, server_opts) >= 0)
      return lvpn__opt_fail(a, LVPN_EUNSUPPORTED, "'%s' is a server option",
                            name);
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED, "unsupported option '%s'",
                          name);
  }
  if (a->cfg->conn_blocks && a->block_remote == NULL &&
      strcmp(name, "remote") != 0 && lvpn__config_is_conn_option(name))
    lvpn__opt_warn(a, "option '%s' is ignored by previous <connection> "
                   "blocks", name); /* OpenVPN's warning; later blocks see it */
  if (o->kind == LVPN__OPT_REFUSE) {
    if (o->lo == 0 &&
        (a->soft || a->cfg->forward_compatible || is_ignored(a->cfg, name))) {
      lvpn__opt_warn(a, "ignoring unsupported option '%s': it %s", name,
                     o->why);
      return 0;
    }
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED, "'%s' %s", name, o->why);
  }
  if (a->inl != NULL && !o->inline_ok)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s' cannot be an inline block",
                          name);
  if (a->inl == NULL && (nargs < o->min || nargs > o->max)) {
    if (o->max == 0)
      return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s' takes no arguments", name);
    if (o->min == 0) /* "needs 0 to 1 arguments" would read oddly */
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'%s' takes at most %d argument%s (%d given)", name,
                            o->max, o->max == 1 ? "" : "s", nargs);
    if (o->min == o->max)
      return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s' needs %d argument%s", name,
                            o->min, o->min == 1 ? "" : "s");
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s' needs %d to %d arguments",
                          name, o->min, o->max);
  }
  switch (o->kind) {
  case LVPN__OPT_FLAG:
    *(bool *)(base + o->off) = true;
    return 0;
  case LVPN__OPT_INT:
    return lvpn__opt_get_int(a, o, w[1], o->lo, o->hi, (int *)(base + o->off));
  case LVPN__OPT_U64:
    if (lvpn__lex_uint(w[1], 0, UINT64_MAX, &v) != 0)
      return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s' must be a number, not '%s'",
                            name, w[1]);
    *(uint64_t *)(base + o->off) = v;
    return 0;
  case LVPN__OPT_STR:
    return lvpn__opt_set_str((char **)(base + o->off), w[1]);
  case LVPN__OPT_BLOB:
    return lvpn__opt_load_blob(a, o, w + 1, nargs,
                               (lvpn__blob_t *)(base + o->off));
  case LVPN__OPT_KW:
    if (lvpn__opt_keyword(a, o, w[1], o->kw, &k) != 0)
      return LVPN_ECONFIG;
    *(int *)(base + o->off) = k + (int)o->lo;
    return 0;
  case LVPN__OPT_NOOP:
    return 0;
  case LVPN__OPT_WARN:
    lvpn__opt_warn(a, "'%s' ignored: %s", name, o->why);
    return 0;
  default:
    return o->fn(a, o, w + 1, nargs);
  }
}

/* ---- public API ---- */

int lvpn_config_new(lvpn_config_t **out) {
  const lvpn__config_area_t *const *ar;
  lvpn_config_t *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return LVPN_ENOMEM;
  for (ar = lvpn__config_areas; *ar != NULL; ar++)
    if ((*ar)->init != NULL && (*ar)->init(c) != 0) {
      lvpn_config_free(c);
      return LVPN_ENOMEM;
    }
  *out = c;
  return 0;
}

int lvpn_config_set(lvpn_config_t *cfg, const char *name,
                    const char *const *args, char *errbuf, size_t errlen) {
  char *w[LVPN__LEX_MAX_WORDS + 1];
  char prefix[80];
  lvpn__opt_ctx_t a = {0};
  lvpn_config_t *snap;
  int n = 1;

  if (cfg == NULL || name == NULL)
    return LVPN_EINVAL;
  /* clients made before keep their copy; later ones get a new one */
  pthread_mutex_lock(&share_lock);
  snap = cfg->snapshot;
  cfg->snapshot = NULL;
  pthread_mutex_unlock(&share_lock);
  lvpn__config_unshare(snap);
  if (strncmp(name, "--", 2) == 0)
    name += 2;
  snprintf(prefix, sizeof(prefix), "--%.60s", name);
  a.cfg = cfg;
  a.prefix = prefix;
  a.errbuf = errbuf;
  a.errlen = errlen;
  if (name[0] == '\0')
    return lvpn__opt_fail(&a, LVPN_EINVAL, "empty option name");
  w[0] = (char *)name;
  while (args != NULL && args[n - 1] != NULL) {
    if (n >= LVPN__LEX_MAX_WORDS)
      return lvpn__opt_fail(&a, LVPN_ECONFIG, "too many arguments");
    w[n] = (char *)args[n - 1];
    n++;
  }
  w[n] = NULL;
  return lvpn__opt_apply(&a, w, n);
}

int lvpn_config_load(lvpn_config_t **out, const char *path, char *errbuf,
                     size_t errlen) {
  char *w[LVPN__LEX_MAX_WORDS + 1];
  char prefix[600], msg[256], *buf = NULL, *dir, *slash;
  lvpn__lex_reader_t rd;
  lvpn_config_t *c = NULL;
  lvpn__opt_ctx_t a = {0};
  size_t len;
  int e, n;

  if (out == NULL || path == NULL)
    return LVPN_EINVAL;
  *out = NULL;
  a.errbuf = errbuf;
  a.errlen = errlen;
  if ((e = lvpn__lex_slurp(path, LVPN__CONFIG_MAX_FILE, &buf, &len)) != 0)
    return lvpn__opt_fail(&a,
                          e == EFBIG ? LVPN_ECONFIG : uv_translate_sys_error(e),
                          "cannot read '%s': %s", path,
                          e == EFBIG ? "file too large" : strerror(e));
  dir = strdup(path);
  if (dir == NULL || lvpn_config_new(&c) != 0) {
    e = lvpn__opt_fail(&a, LVPN_ENOMEM, "out of memory");
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
      e = lvpn__opt_fail(&a, LVPN_ECONFIG, "%s", msg);
      goto out;
    }
    if (strncmp(w[0], "--", 2) == 0)
      w[0] += 2;
    if ((e = lvpn__opt_apply(&a, w, n)) != 0)
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

/* Visits every heap pointer the config owns: each area's, then the
 * loader's own warnings. Used by free and clone, so a new field cannot be
 * forgotten in one of them. */
static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  const lvpn__config_area_t *const *ar;
  int k;

  for (ar = lvpn__config_areas; *ar != NULL; ar++)
    if ((*ar)->walk != NULL)
      (*ar)->walk(c, fn, ud);
  for (k = 0; k < c->n_warnings; k++)
    fn(&c->warnings[k], 0, ud);
}

/* The config's heap lists (lib/grow.h): the arrays themselves, whose
 * elements' own pointers walk() visits. */
typedef struct {
  void **arr;
  int *n, *cap;
  size_t elem;
} list_t;

#define LIST(c, f)                                                             \
  { (void **)&(c)->f, &(c)->n_##f, &(c)->cap_##f, sizeof(*(c)->f) }
enum { N_LISTS = 11 };

static void lists(lvpn_config_t *c, list_t *l) {
  const list_t all[N_LISTS] = {LIST(c, remotes),        LIST(c, hashes),
                               LIST(c, routes),         LIST(c, routes6),
                               LIST(c, dhcp),           LIST(c, pull_filters),
                               LIST(c, setenv),         LIST(c, warnings),
                               LIST(c, ignore_unknown), LIST(c, route_names),
                               {NULL, NULL, NULL, 0}};
  memcpy(l, all, sizeof(all));
}

/* Frees the lists (after walk() freed what their elements own), zeroing
 * them: they may hold key hashes and environment values. */
static void lists_free(lvpn_config_t *c) {
  list_t l[N_LISTS], *x;
  lists(c, l);
  for (x = l; x->arr != NULL; x++) {
    if (*x->arr != NULL)
      mbedtls_platform_zeroize(*x->arr, x->elem * (size_t)*x->cap);
    free(*x->arr);
    *x->arr = NULL;
    *x->n = *x->cap = 0;
  }
}

/* Gives clone `c` its own copy of each list (exactly n elements), before
 * walk() copies what the elements own. A list that cannot be copied is
 * left empty (NULL, 0) and *failed set. */
static void lists_dup(lvpn_config_t *c, bool *failed) {
  list_t l[N_LISTS], *x;
  void *d;
  lists(c, l);
  for (x = l; x->arr != NULL; x++) {
    d = NULL;
    if (*x->n > 0 && !*failed && (d = malloc(x->elem * (size_t)*x->n)) != NULL)
      memcpy(d, *x->arr, x->elem * (size_t)*x->n);
    if (*x->n > 0 && d == NULL)
      *failed = true;
    *x->arr = d;
    *x->cap = *x->n = d != NULL ? *x->n : 0;
  }
}

void lvpn__config_ptr_free(char **pp, size_t size, void *ud) {
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
  lvpn__config_unshare(cfg->snapshot);
  lvpn__config_attach_put(cfg->attach);
  walk(cfg, lvpn__config_ptr_free, NULL);
  lists_free(cfg);
  mbedtls_platform_zeroize(cfg, sizeof(*cfg));
  free(cfg);
}

int lvpn__config_clone(const lvpn_config_t *cfg, lvpn_config_t **out) {
  lvpn_config_t *c = malloc(sizeof(*c));
  bool failed = false;
  if (c == NULL)
    return LVPN_ENOMEM;
  memcpy(c, cfg, sizeof(*c));
  c->snapshot = NULL;
  c->snap_refs = 0;
  c->attach = NULL;
  lists_dup(c, &failed);
  walk(c, dup_ptr, &failed); /* after a failure: NULLs what is not ours */
  if (failed) {
    lvpn_config_free(c);
    return LVPN_ENOMEM;
  }
  *out = c;
  return 0;
}

int lvpn__config_share(const lvpn_config_t *cfg, lvpn_config_t **out) {
  /* The snapshot is a cache beside the config, not part of its value. */
  lvpn_config_t *c = (lvpn_config_t *)cfg, *snap;
  int err = 0;
  pthread_mutex_lock(&share_lock);
  if (c->snapshot == NULL && (err = lvpn__config_clone(c, &snap)) == 0) {
    snap->snap_refs = 1; /* the config's own reference */
    c->snapshot = snap;
  }
  if (err == 0) {
    c->snapshot->snap_refs++;
    *out = c->snapshot;
  }
  pthread_mutex_unlock(&share_lock);
  return err;
}

void lvpn__config_unshare(lvpn_config_t *snap) {
  unsigned left;
  if (snap == NULL)
    return;
  pthread_mutex_lock(&share_lock);
  left = --snap->snap_refs;
  pthread_mutex_unlock(&share_lock);
  if (left == 0)
    lvpn_config_free(snap);
}

lvpn__config_attach_t *lvpn__config_attach_get(lvpn_config_t *cfg,
                                               const void *owner) {
  lvpn__config_attach_t *a;
  pthread_mutex_lock(&share_lock);
  a = cfg->attach;
  if (a != NULL && a->owner == owner)
    a->refs++;
  else
    a = NULL;
  pthread_mutex_unlock(&share_lock);
  return a;
}

void lvpn__config_attach_set(lvpn_config_t *cfg, lvpn__config_attach_t *a) {
  pthread_mutex_lock(&share_lock);
  if (cfg->attach == NULL) {
    cfg->attach = a;
    a->refs++;
  }
  pthread_mutex_unlock(&share_lock);
}

void lvpn__config_attach_put(lvpn__config_attach_t *a) {
  unsigned left;
  if (a == NULL)
    return;
  pthread_mutex_lock(&share_lock);
  left = --a->refs;
  pthread_mutex_unlock(&share_lock);
  if (left == 0)
    a->free(a);
}

int lvpn__config_own(lvpn_config_t **cfg) {
  lvpn_config_t *mine;
  unsigned refs;
  int err;
  pthread_mutex_lock(&share_lock);
  refs = (*cfg)->snap_refs;
  pthread_mutex_unlock(&share_lock);
  if (refs <= 1)
    return 0; /* not shared (any more): ours alone */
  if ((err = lvpn__config_clone(*cfg, &mine)) != 0)
    return err;
  mine->snap_refs = 1;
  lvpn__config_unshare(*cfg);
  *cfg = mine;
  return 0;
}

int lvpn__config_validate(const lvpn_config_t *c, char *errbuf, size_t errlen) {
  const lvpn__config_area_t *const *ar;
  lvpn__opt_ctx_t a = {0};
  int e;
  a.errbuf = errbuf;
  a.errlen = errlen;
  for (ar = lvpn__config_areas; *ar != NULL; ar++)
    if ((*ar)->validate != NULL && (e = (*ar)->validate(c, &a)) != 0)
      return e;
  return 0;
}
