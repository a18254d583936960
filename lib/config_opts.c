/* Helpers shared by the config loader's option handlers: messages,
 * strings, files and inline blocks, numbers. See lib/config_opts.h. */
#include "lib/config_opts.h"
#include "lib/grow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

int lvpn__opt_fail(lvpn__opt_ctx_t *a, int code, const char *fmt, ...) {
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

void lvpn__opt_warn(lvpn__opt_ctx_t *a, const char *fmt, ...) {
  char msg[512], *s;
  lvpn_config_t *c = a->cfg;
  va_list ap;
  if (c->n_warnings >= LVPN__CONFIG_MAX_LIST)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (lvpn__grow((void **)&c->warnings, &c->cap_warnings, c->n_warnings,
                 LVPN__CONFIG_MAX_LIST, sizeof(*c->warnings)) != 0)
    return; /* dropped, as when full */
  if (asprintf(&s, "%s: %s", a->prefix, msg) >= 0)
    c->warnings[c->n_warnings++] = s;
}

int lvpn__opt_set_str(char **dst, const char *s) {
  char *d = strdup(s);
  if (d == NULL)
    return LVPN_ENOMEM;
  free(*dst);
  *dst = d;
  return 0;
}

void lvpn__opt_blob_clear(lvpn__blob_t *b) {
  if (b->data != NULL) {
    mbedtls_platform_zeroize(b->data, b->len);
    free(b->data);
  }
  free(b->origin);
  memset(b, 0, sizeof(*b));
}

void lvpn__opt_blob_walk(lvpn__blob_t *b, lvpn__config_ptr_fn fn, void *ud) {
  fn(&b->data, b->data != NULL ? b->len + 1 : 0, ud);
  fn(&b->origin, 0, ud);
}

/* Resolves `path` against a->dir into a heap string. */
static char *resolve(const lvpn__opt_ctx_t *a, const char *path) {
  const char *dir = a->cfg->cd != NULL ? a->cfg->cd : a->dir; /* cd DIR */
  char *s;
  if (dir == NULL || path[0] == '/')
    return strdup(path);
  if (asprintf(&s, "%s/%s", dir, path) < 0)
    return NULL;
  return s;
}

int lvpn__opt_load_blob(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                        char *const *p, int n, lvpn__blob_t *b) {
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
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'%s' needs a file name or an inline "
                          "<%s> block",
                          o->name, o->name);
  } else {
    nb.origin = resolve(a, p[0]);
    if (nb.origin == NULL)
      return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
    e = lvpn__lex_slurp(nb.origin, LVPN__CONFIG_MAX_FILE, &nb.data, &nb.len);
    if (e != 0) {
      lvpn__opt_fail(a, e == ENOMEM ? LVPN_ENOMEM : LVPN_EKEYFILE,
                     "cannot read '%s': %s", nb.origin,
                     e == EFBIG ? "file too large" : strerror(e));
      free(nb.origin);
      return e == ENOMEM ? LVPN_ENOMEM : LVPN_EKEYFILE;
    }
  }
  if (nb.data == NULL || nb.origin == NULL) {
    lvpn__opt_blob_clear(&nb);
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  }
  lvpn__opt_blob_clear(b);
  *b = nb;
  return 0;
}

int lvpn__opt_keyword(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, const char *s,
                      const char *const *names, int *out) {
  int k = lvpn__lex_keyword(s, names);
  if (k < 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s': unknown value '%s'", o->name,
                          s);
  *out = k;
  return 0;
}

int lvpn__opt_get_int(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, const char *s,
                      int64_t lo, int64_t hi, int *out) {
  uint64_t v;
  if (lvpn__lex_uint(s, (uint64_t)lo, (uint64_t)hi, &v) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'%s' must be a number from %lld to %lld, "
                          "not '%s'",
                          o->name, (long long)lo, (long long)hi, s);
  *out = (int)v;
  return 0;
}

int lvpn__opt_get_int_pair(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                           char *const *p, int n, int64_t lo, int64_t hi_a,
                           int64_t hi_b, int *first, int *second) {
  int x = *first, y = *second;
  if (lvpn__opt_get_int(a, o, p[0], lo, hi_a, &x) != 0 ||
      (n > 1 && lvpn__opt_get_int(a, o, p[1], lo, hi_b, &y) != 0))
    return LVPN_ECONFIG;
  *first = x;
  *second = y;
  return 0;
}

int lvpn__opt_room(lvpn__opt_ctx_t *a, int count, int max, const char *what) {
  if (count < max)
    return 0;
  return lvpn__opt_fail(a, LVPN_ECONFIG, "too many '%s' entries (max %d)", what,
                        max);
}

int lvpn__opt_grow(lvpn__opt_ctx_t *a, void **arr, int *cap, int n, int max,
                   size_t elem) {
  if (lvpn__grow(arr, cap, n, max, elem) != 0)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  return 0;
}
