/* <connection> blocks and the per-connection settings.
 *
 * OpenVPN 2.6 parses a block into a copy of the global connection entry as
 * it stands where the block appears (options.c, "connection"), accepting
 * only options marked OPT_P_CONNECTION. We do the same on the config
 * itself: the per-connection fields (conn_fields) are saved, the block's
 * lines applied, the result copied into the entry's `fields`, and the
 * global fields put back. lvpn__config_use_remote() copies an entry's
 * fields into the config when the client moves to that remote, so the rest
 * of the code keeps reading the plain fields.
 *
 * tls-auth, tls-crypt, tls-crypt-v2 and key-direction in a block give the
 * entry its own wrap key (lvpn__remote_t.wrap_key): the block starts with
 * none, and an entry without one uses the global key at connect time
 * (lvpn__config_remote_wrap), as OpenVPN's options_postprocess_mutate_ce.
 * Everything else not in conn_names is refused as OpenVPN refuses it.
 */
#include "lib/config_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

/* clang-format off */
/* OpenVPN 2.6's OPT_P_CONNECTION options. */
static const char *const conn_names[] = {
    "remote", "proto", "port", "lport", "rport", "bind", "nobind", "local",
    "float", "connect-retry", "connect-retry-max", "connect-timeout",
    "server-poll-timeout", "explicit-exit-notify", "link-mtu", "udp-mtu",
    "tun-mtu", "tun-mtu-max", "tun-mtu-extra", "max-packet-size", "mtu-disc",
    "fragment", "mssfix", "http-proxy", "http-proxy-option",
    "http-proxy-retry", "http-proxy-timeout", "socks-proxy",
    "socks-proxy-retry", "key-direction", "tls-auth", "tls-crypt",
    "tls-crypt-v2", NULL};
/* clang-format on */

#define CF(f) {OPT_OFF(f), sizeof(((lvpn_config_t *)0)->f)}
/* The config fields a <connection> block may set. Options of other areas
 * that OpenVPN keeps per connection add their fields here. */
static const struct {
  size_t off, size;
} conn_fields[] = {
    CF(port),           CF(proto),
    CF(local),          CF(lport),
    CF(lport_given),    CF(bind_given),
    CF(nobind),         CF(floating),
    CF(connect_retry),  CF(connect_retry_max_delay),
    CF(connect_retry_max), CF(connect_timeout),
    CF(server_poll_timeout), CF(explicit_exit_notify),
    CF(tun_mtu),        CF(tun_mtu_given),
    CF(tun_mtu_max),
    CF(mssfix),
    CF(mssfix_mtu),     CF(mssfix_fixed),
    CF(mssfix_default), CF(tun_mtu_extra),
    CF(link_mtu),       CF(fragment),
    CF(fragment_mtu),   CF(mtu_disc),
    CF(tls_mtu), /* max-packet-size (OpenVPN's ce.tls_mtu) */
};
#define N_FIELDS (sizeof(conn_fields) / sizeof(conn_fields[0]))

bool lvpn__config_is_conn_option(const char *name) {
  return lvpn__lex_keyword(name, conn_names) >= 0;
}

size_t lvpn__config_conn_fields_size(void) {
  size_t i, n = 0;
  for (i = 0; i < N_FIELDS; i++)
    n += conn_fields[i].size;
  return n;
}

static void fields_save(const lvpn_config_t *c, uint8_t *out) {
  size_t i;
  for (i = 0; i < N_FIELDS; i++) {
    memcpy(out, (const char *)c + conn_fields[i].off, conn_fields[i].size);
    out += conn_fields[i].size;
  }
}

static void fields_load(lvpn_config_t *c, const uint8_t *in) {
  size_t i;
  for (i = 0; i < N_FIELDS; i++) {
    memcpy((char *)c + conn_fields[i].off, in, conn_fields[i].size);
    in += conn_fields[i].size;
  }
}

void lvpn__config_use_remote(lvpn_config_t *cfg, int i) {
  if (i >= 0 && i < cfg->n_remotes && cfg->remotes[i].fields != NULL)
    fields_load(cfg, cfg->remotes[i].fields);
}

/* Applies the block's lines with the prefix "file:line" of each. */
static int block_apply(lvpn__opt_ctx_t *a, char *buf, size_t len,
                       lvpn__remote_t *r) {
  char *w[LVPN__LEX_MAX_WORDS + 1];
  char prefix[600], msg[256];
  const char *colon = strrchr(a->prefix, ':');
  int line0 = colon != NULL ? atoi(colon + 1) : 0;
  int plen = colon != NULL ? (int)(colon - a->prefix) : (int)strlen(a->prefix);
  lvpn__lex_reader_t rd;
  lvpn__opt_ctx_t b = *a;
  int n, e;

  b.prefix = prefix;
  b.block_remote = r;
  lvpn__lex_reader_init(&rd, buf, len);
  for (;;) {
    n = lvpn__lex_next(&rd, w, &b.inl, &b.inl_len, msg, sizeof(msg));
    snprintf(prefix, sizeof(prefix), "%.*s:%d", plen > 500 ? 500 : plen,
             a->prefix, line0 + rd.line);
    if (n == 0)
      return 0;
    if (n < 0)
      return lvpn__opt_fail(&b, LVPN_ECONFIG, "%s", msg);
    if (strncmp(w[0], "--", 2) == 0)
      w[0] += 2;
    if (!lvpn__config_is_conn_option(w[0]))
      return lvpn__opt_fail(&b, LVPN_ECONFIG,
                            "'%s' is not allowed inside <connection> (only "
                            "per-connection options are)",
                            w[0]);
    if ((e = lvpn__opt_apply(&b, w, n)) != 0)
      return e;
  }
}

/* The global wrap keys, set aside while a block is applied. */
typedef struct {
  lvpn__blob_t tls_auth, tls_crypt, tls_crypt_v2;
  int tls_auth_dir, key_direction;
} wrap_saved_t;

static void wrap_set_aside(lvpn_config_t *c, wrap_saved_t *g) {
  g->tls_auth = c->tls_auth;
  g->tls_crypt = c->tls_crypt;
  g->tls_crypt_v2 = c->tls_crypt_v2;
  g->tls_auth_dir = c->tls_auth_dir;
  g->key_direction = c->key_direction;
  memset(&c->tls_auth, 0, sizeof(c->tls_auth));
  memset(&c->tls_crypt, 0, sizeof(c->tls_crypt));
  memset(&c->tls_crypt_v2, 0, sizeof(c->tls_crypt_v2));
  c->tls_auth_dir = c->key_direction = -1;
}

/* Moves the key the block gave (if any) into its entry, then puts the
 * global keys back. Returns 0, or LVPN_ECONFIG when the block gave more
 * than one kind (nothing moved then). */
static int wrap_take(lvpn__opt_ctx_t *a, const wrap_saved_t *g,
                     lvpn__remote_t *r) {
  lvpn_config_t *c = a->cfg;
  lvpn__blob_t *keys[] = {&c->tls_auth, &c->tls_crypt, &c->tls_crypt_v2};
  int i, n = 0, e = 0;

  for (i = 0; i < 3; i++)
    if (keys[i]->data != NULL) {
      n++;
      r->wrap_kind = (uint8_t)(LVPN__WRAP_AUTH + i);
      r->wrap_key = *keys[i];
    }
  if (n > 1) {
    memset(&r->wrap_key, 0, sizeof(r->wrap_key));
    for (i = 0; i < 3; i++)
      lvpn__opt_blob_clear(keys[i]);
    e = lvpn__opt_fail(a, LVPN_ECONFIG,
                       "only one of 'tls-auth', 'tls-crypt' and "
                       "'tls-crypt-v2' may be given in a <connection>");
  } else if (n == 1) {
    r->own_wrap = true;
    r->wrap_dir = (int8_t)(r->wrap_kind == LVPN__WRAP_AUTH
                               ? lvpn__config_tls_auth_direction(c)
                               : -1);
  } else if (c->key_direction >= 0) {
    lvpn__opt_warn(a, "'key-direction' inside <connection> without a "
                      "'tls-auth' there is ignored: the global key and "
                      "direction apply (as OpenVPN)");
  }
  c->tls_auth = g->tls_auth;
  c->tls_crypt = g->tls_crypt;
  c->tls_crypt_v2 = g->tls_crypt_v2;
  c->tls_auth_dir = g->tls_auth_dir;
  c->key_direction = g->key_direction;
  return e;
}

/* Entries from remote lines, when the first block comes: OpenVPN ignores
 * them once there is a block. */
static void drop_remote_lines(lvpn__opt_ctx_t *a) {
  lvpn_config_t *c = a->cfg;
  int k;
  if (c->n_remotes > 0)
    lvpn__opt_warn(a, "%d 'remote' line(s) ignored: <connection> blocks are "
                      "given (as OpenVPN does)",
                   c->n_remotes);
  for (k = 0; k < c->n_remotes; k++)
    free(c->remotes[k].host);
  if (c->n_remotes > 0)
    memset(c->remotes, 0, sizeof(*c->remotes) * (size_t)c->n_remotes);
  c->n_remotes = 0;
}

int lvpn__config_fn_connection(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                               char *const *p, int n) {
  lvpn_config_t *c = a->cfg;
  size_t fsize = lvpn__config_conn_fields_size();
  lvpn__remote_t r = {0};
  wrap_saved_t wrap;
  uint8_t *saved;
  char *buf;
  int e;

  if (a->inl == NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'connection' must be an inline <connection> "
                          "block");
  if (a->block_remote != NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "<connection> blocks cannot be nested");
  if (c->conn_blocks &&
      (e = lvpn__opt_room(a, c->n_remotes, LVPN__CONFIG_MAX_REMOTES,
                          "connection")) != 0)
    return e;
  /* room for the entry (remote lines before the first block are dropped) */
  if ((e = lvpn__opt_grow(a, (void **)&c->remotes, &c->cap_remotes,
                          c->conn_blocks ? c->n_remotes : 0,
                          LVPN__CONFIG_MAX_REMOTES, sizeof(*c->remotes))) != 0)
    return e;
  saved = malloc(fsize);
  buf = malloc(a->inl_len + 1);
  if (saved == NULL || buf == NULL) {
    free(saved);
    free(buf);
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  }
  memcpy(buf, a->inl, a->inl_len);
  buf[a->inl_len] = '\0';
  fields_save(c, saved);
  /* the proxy owns strings: the block gets a deep copy of the global one
   * (lib/config_proxy.c writes to it while the block is applied) */
  e = lvpn__config_proxy_dup(&r.proxy, &c->proxy);
  if (e != 0)
    e = lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  r.own_proxy = true;
  wrap_set_aside(c, &wrap);
  if (e == 0)
    e = block_apply(a, buf, a->inl_len, &r);
  if (e != 0) { /* what the block loaded before the error */
    lvpn__opt_blob_clear(&c->tls_auth);
    lvpn__opt_blob_clear(&c->tls_crypt);
    lvpn__opt_blob_clear(&c->tls_crypt_v2);
  }
  if (wrap_take(a, &wrap, &r) != 0 && e == 0)
    e = LVPN_ECONFIG;
  if (e == 0 && r.host == NULL)
    e = lvpn__opt_fail(a, LVPN_ECONFIG,
                       "each 'connection' block must contain a 'remote'");
  if (e == 0)
    e = lvpn__config_check_bind(c, a);
  if (e == 0 && (r.fields = malloc(fsize)) == NULL)
    e = lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  if (e == 0) {
    /* the block's port and protocol, unless its remote line gives them */
    if (r.port == 0)
      r.port = c->port;
    if (!r.has_proto) {
      r.proto = c->proto;
      r.has_proto = true;
    }
    fields_save(c, r.fields);
    if (c->fragment > 0 && r.proto.tcp) /* the block's own fragment */
      e = lvpn__opt_fail(a, LVPN_ECONFIG,
                         "'fragment' can only be used with 'proto udp' "
                         "(this <connection> is TCP)");
  }
  fields_load(c, saved); /* the global settings again */
  free(saved);
  mbedtls_platform_zeroize(buf, a->inl_len);
  free(buf);
  if (e != 0) {
    free(r.host);
    free(r.fields);
    lvpn__config_proxy_clear(&r.proxy);
    lvpn__opt_blob_clear(&r.wrap_key);
    return e;
  }
  if (!c->conn_blocks)
    drop_remote_lines(a);
  c->conn_blocks = true;
  c->remotes[c->n_remotes++] = r;
  return 0;
}
