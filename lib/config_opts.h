/* Internal to the config loader (lib/config*.c): the option table shape,
 * the context every handler gets, and the helpers handlers share.
 *
 * Options are grouped by area, one file each, and every area exports one
 * lvpn__config_area_t: its table of options plus optional hooks for its
 * defaults, the heap pointers it owns and its checks. The core
 * (lib/config.c) walks the areas in the order of lvpn__config_areas, so
 * adding an option touches only its area file (and the field in
 * lib/config.h).
 *
 *   lib/config_conn.c   mode, device, remotes, protocol, timers, retries
 *   lib/config_tls.c    certificates, keys, tls-auth/crypt, TLS settings,
 *                       renegotiation, auth-user-pass
 *   lib/config_data.c   data ciphers, HMAC, compression, replay, MTU/mssfix
 *   lib/config_route.c  routes, redirect-gateway, DNS, pull-filter
 *   lib/config_proc.c   scripts, setenv, logging, ignore-unknown-option
 *   lib/config_proxy.c  http-proxy, socks-proxy
 */
#ifndef LVPN_LIB_CONFIG_OPTS_H
#define LVPN_LIB_CONFIG_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"

/* One option being applied. */
typedef struct {
  lvpn_config_t *cfg;
  const char *prefix; /* "file:line" or "--name": starts every message */
  const char *dir;    /* base for relative paths; NULL: as given */
  const char *inl;    /* inline block content, or NULL */
  size_t inl_len;
  bool soft; /* setenv opt: unknown options only warn */
  /* inside a <connection> block: its remote (lib/config_conn.c) */
  lvpn__remote_t *block_remote;
  char *errbuf;
  size_t errlen;
} lvpn__opt_ctx_t;

typedef struct lvpn__opt_s lvpn__opt_t;
/* `p` are the option's arguments (without its name), `n` of them; for an
 * inline block p[0] is NULL and a->inl holds the content. Returns 0 or a
 * negative code after writing the message with lvpn__opt_fail(). */
typedef int (*lvpn__opt_fn)(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                            char *const *p, int n);

typedef enum {
  LVPN__OPT_FLAG, /* bool at `off` = true */
  LVPN__OPT_INT,  /* int at `off`, lo..hi */
  LVPN__OPT_U64,  /* uint64_t at `off` */
  LVPN__OPT_STR,  /* char * at `off` */
  LVPN__OPT_BLOB, /* lvpn__blob_t at `off`: a file or an inline block */
  LVPN__OPT_KW,   /* int at `off` = lo + index of the value in `kw` */
  LVPN__OPT_NOOP, /* accepted and ignored on purpose: our behaviour already
                     is what the option asks for */
  LVPN__OPT_WARN, /* accepted, has no meaning here: one warning says `why` */
  LVPN__OPT_REFUSE, /* refused: "'<name>' <why>" (lo = 1: even where
                       unknown options are only warned about) */
  LVPN__OPT_FN    /* handled by `fn` */
} lvpn__opt_kind_t;

struct lvpn__opt_s {
  const char *name;
  uint8_t kind;      /* lvpn__opt_kind_t */
  uint16_t min, max; /* argument count, without the name */
  bool inline_ok;
  size_t off;
  int64_t lo, hi;
  lvpn__opt_fn fn;
  const char *const *kw; /* LVPN__OPT_KW: values; the index is stored */
  const char *why;       /* LVPN__OPT_WARN / LVPN__OPT_REFUSE: the reason */
};

/* Called with every heap pointer the config owns and its size in bytes
 * (0: a NUL-terminated string). */
typedef void (*lvpn__config_ptr_fn)(char **pp, size_t size, void *ud);
/* The walk that frees: zeroes `size` bytes (0: the string) and frees. */
void lvpn__config_ptr_free(char **pp, size_t size, void *ud);

typedef struct {
  const lvpn__opt_t *opts;
  size_t n_opts;
  /* Sets the area's defaults on a zeroed config; 0 or LVPN_ENOMEM. */
  int (*init)(lvpn_config_t *c);
  /* Visits every heap pointer the area's options own (free, clone). */
  void (*walk)(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud);
  /* First missing or conflicting setting, via lvpn__opt_fail(); 0 if
   * none. */
  int (*validate)(const lvpn_config_t *c, lvpn__opt_ctx_t *a);
} lvpn__config_area_t;

extern const lvpn__config_area_t lvpn__config_conn, lvpn__config_tls,
    lvpn__config_data, lvpn__config_route, lvpn__config_proc;
extern const lvpn__config_area_t lvpn__config_mgmt; /* config_mgmt.c */
extern const lvpn__config_area_t lvpn__config_proxy; /* config_proxy.c */
/* The checks of one proxy entry against the config (its remotes' protos);
 * 0 or the message via lvpn__opt_fail (lib/config_proxy.c). */
int lvpn__config_proxy_check(const lvpn__proxy_t *px, const lvpn_config_t *c,
                             lvpn__opt_ctx_t *a);
/* Visits one proxy entry's heap pointers (free, clone). */
/* A <connection> block's proxy: a deep copy (LVPN_ENOMEM), and its
 * strings zeroed and freed (the struct left empty). */
int lvpn__config_proxy_dup(lvpn__proxy_t *dst, const lvpn__proxy_t *src);
void lvpn__config_proxy_clear(lvpn__proxy_t *px);
void lvpn__config_proxy_walk(lvpn__proxy_t *px, lvpn__config_ptr_fn fn,
                             void *ud);

/* All areas, in the order options are looked up and checks run; ends with
 * NULL. */
extern const lvpn__config_area_t *const lvpn__config_areas[];

/* Table entries. */
#define OPT_OFF(f) offsetof(lvpn_config_t, f)
#define OPT_E(n, k, mn, mx) .name = n, .kind = k, .min = mn, .max = mx
#define OPT_FLAG(n, f)                                                         \
  { OPT_E(n, LVPN__OPT_FLAG, 0, 0), .off = OPT_OFF(f) }
#define OPT_INT(n, f, l, h)                                                    \
  { OPT_E(n, LVPN__OPT_INT, 1, 1), .off = OPT_OFF(f), .lo = l, .hi = h }
#define OPT_U64(n, f)                                                          \
  { OPT_E(n, LVPN__OPT_U64, 1, 1), .off = OPT_OFF(f) }
#define OPT_STR(n, f)                                                          \
  { OPT_E(n, LVPN__OPT_STR, 1, 1), .off = OPT_OFF(f) }
#define OPT_BLOB(n, f)                                                         \
  { OPT_E(n, LVPN__OPT_BLOB, 0, 1), .inline_ok = true, .off = OPT_OFF(f) }
#define OPT_KW(n, f, l, k)                                                     \
  { OPT_E(n, LVPN__OPT_KW, 1, 1), .off = OPT_OFF(f), .lo = l, .kw = k }
#define OPT_NOOP(n, mn, mx)                                                    \
  { OPT_E(n, LVPN__OPT_NOOP, mn, mx) }
/* Accepted with the warning "'<n>' ignored: <why>", any arguments. */
#define OPT_WARN(n, w)                                                         \
  { OPT_E(n, LVPN__OPT_WARN, 0, LVPN__LEX_MAX_WORDS), .inline_ok = true,       \
    .why = w }
/* Refused with "'<n>' <why>"; setenv opt / ignore-unknown-option /
 * FORWARD_COMPATIBLE turn it into a warning (as for an unknown option). */
#define OPT_REFUSE(n, w)                                                       \
  { OPT_E(n, LVPN__OPT_REFUSE, 0, LVPN__LEX_MAX_WORDS), .inline_ok = true,     \
    .why = w }
/* Refused always: ignoring it would weaken security. */
#define OPT_REFUSE_HARD(n, w)                                                  \
  { OPT_E(n, LVPN__OPT_REFUSE, 0, LVPN__LEX_MAX_WORDS), .inline_ok = true,     \
    .lo = 1, .why = w }
/* A feature planned but not there yet. */
#define OPT_TODO(n) OPT_REFUSE(n, "is not supported yet")
#define OPT_FN(n, mn, mx, f)                                                   \
  { OPT_E(n, LVPN__OPT_FN, mn, mx), .fn = f }
#define OPT_COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* ---- shared helpers (lib/config_opts.c) ---- */

/* Writes "<prefix>: <message>" to a->errbuf; returns `code`. */
int lvpn__opt_fail(lvpn__opt_ctx_t *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends "<prefix>: <message>" to cfg->warnings (dropped when full). */
void lvpn__opt_warn(lvpn__opt_ctx_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Replaces *dst with a copy of `s`; 0 or LVPN_ENOMEM. */
int lvpn__opt_set_str(char **dst, const char *s);
/* Zeroes and frees a blob's content; leaves it empty. */
void lvpn__opt_blob_clear(lvpn__blob_t *b);
/* Passes a blob's data and origin to `fn`. */
void lvpn__opt_blob_walk(lvpn__blob_t *b, lvpn__config_ptr_fn fn, void *ud);
/* The option's content into *b: the inline block, or the file named by
 * p[0] (relative to a->dir). */
int lvpn__opt_load_blob(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                        char *const *p, int n, lvpn__blob_t *b);
/* Index of `s` in `names` into *out, or "'<opt>': unknown value". */
int lvpn__opt_keyword(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, const char *s,
                      const char *const *names, int *out);
/* `s` as a number in lo..hi into *out, or "'<opt>' must be a number...". */
int lvpn__opt_get_int(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, const char *s,
                      int64_t lo, int64_t hi, int *out);
/* "<opt> A [B]": p[0] in lo..hi_a into *first and, when given, p[1] in
 * lo..hi_b into *second (kept otherwise). Stores nothing unless all
 * given values are valid. */
int lvpn__opt_get_int_pair(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                           char *const *p, int n, int64_t lo, int64_t hi_a,
                           int64_t hi_b, int *first, int *second);
/* 0 while `count` < `max`, else "too many '<what>' entries (max N)". */
int lvpn__opt_room(lvpn__opt_ctx_t *a, int count, int max, const char *what);
/* Room for element `n` (< max, checked by the caller) in one of the
 * config's heap lists (lib/grow.h); 0, or LVPN_ENOMEM with "out of memory".
 */
int lvpn__opt_grow(lvpn__opt_ctx_t *a, void **arr, int *cap, int n, int max,
                   size_t elem);

/* The table entry for option `name` in any area, or NULL (lib/config.c). */
const lvpn__opt_t *lvpn__config_lookup(const char *name);
/* ---- per-connection settings (lib/config_block.c) ---- */

/* Whether `name` is a per-connection option (allowed in <connection>). */
bool lvpn__config_is_conn_option(const char *name);
/* Bytes of a <connection> block's saved settings (lvpn__remote_t.fields). */
size_t lvpn__config_conn_fields_size(void);
/* The <connection> option: parses the block's lines into a new entry. */
int lvpn__config_fn_connection(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                               char *const *p, int n);
/* OpenVPN's checks of local/lport/bind against nobind (lib/config_conn.c). */
int lvpn__config_check_bind(const lvpn_config_t *c, lvpn__opt_ctx_t *a);
/* Whether `name` is one of OpenVPN's server-only options. */
bool lvpn__config_is_server_option(const char *name);

/* Applies one option line: w[0] is the name, w[1..n-1] its arguments
 * (lib/config.c; setenv opt re-enters it). */
int lvpn__opt_apply(lvpn__opt_ctx_t *a, char *const *w, int n);

#endif
