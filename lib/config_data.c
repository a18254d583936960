/* Config options of the data channel: ciphers, HMAC digest, compression,
 * replay protection, tun MTU and mssfix.
 *
 * MTU options have OpenVPN 2.6's meaning: fragment N [mtu] (UDP only),
 * mssfix [N [mtu|fixed]], tun-mtu-extra N (lowers the computed MSS; our
 * buffers are fixed-size), link-mtu N (deprecated: warns; the tun MTU is
 * derived from it, and it excludes tun-mtu), tun-mtu-max N (the largest
 * pushed tun-mtu taken, sent as IV_MTU). Our packet buffers are fixed:
 * tun-mtu and tun-mtu-max above LVPN_TUN_MTU_LIMIT, link-mtu above
 * LVPN_LINK_MTU_LIMIT are refused with that limit.
 * Accepted with a warning: prng (as OpenVPN 2.6: the TLS library's
 *   generator is used).
 * Accepted, our behaviour being what it asks: mute-replay-warnings (replay
 *   drops are counted and logged only at verb 7, where OpenVPN warns at
 *   verb 1).
 * Refused: no-replay, no-iv (would weaken the tunnel), and replay-persist,
 *   shaper until implemented.
 */
#include "lib/config_opts.h"
#include "lib/ovpn_lex.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/pbuf.h"

static int fn_cipher(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                     int n) {
  const char *c = lvpn__config_cipher_supported(p[0]);
  if (c == NULL)
    lvpn__opt_warn(a,
                   "cipher '%s' is not a supported data cipher; only the "
                   "negotiated data-ciphers can be used",
                   p[0]);
  return lvpn__opt_set_str(&a->cfg->cipher, c != NULL ? c : p[0]);
}

static int fn_data_ciphers(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                           char *const *p, int n) {
  char list[512], *tok, *save = NULL;
  char out[512] = "";
  const char *c;
  bool optional;

  if (strlen(p[0]) >= sizeof(list))
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s': list too long", o->name);
  snprintf(list, sizeof(list), "%s", p[0]);
  for (tok = strtok_r(list, ":", &save); tok != NULL;
       tok = strtok_r(NULL, ":", &save)) {
    optional = tok[0] == '?'; /* 2.6: "?NAME" = use if available */
    c = lvpn__config_cipher_supported(tok + optional);
    if (c == NULL) {
      if (!optional)
        lvpn__opt_warn(a, "%s: skipping unsupported cipher '%s'", o->name, tok);
      continue;
    }
    if (strstr(out, c) != NULL) /* names are not substrings of others */
      continue;
    if (out[0] != '\0')
      strcat(out, ":");
    strcat(out, c);
  }
  if (out[0] == '\0')
    return lvpn__opt_fail(a, LVPN_ENOCIPHER,
                          "'%s': no supported cipher in '%s'", o->name, p[0]);
  return lvpn__opt_set_str(&a->cfg->data_ciphers, out);
}

static int fn_fallback(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                       int n) {
  const char *c = lvpn__config_cipher_supported(p[0]);
  if (c == NULL)
    return lvpn__opt_fail(a, LVPN_ENOCIPHER, "'%s': unsupported cipher '%s'",
                          o->name, p[0]);
  return lvpn__opt_set_str(&a->cfg->data_ciphers_fallback, c);
}

static int fn_auth(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                   int n) {
  static const char *const names[] = {"SHA1",   "SHA256", "SHA384",
                                      "SHA512", "none",   NULL};
  int k = lvpn__lex_keyword(p[0], names);
  if (k < 0)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "auth '%s' is not supported (SHA1, "
                          "SHA256, SHA384, SHA512, none)",
                          p[0]);
  return lvpn__opt_set_str(&a->cfg->auth, names[k]);
}

static int fn_comp(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                   int n) {
  char msg[128];
  bool lzo = strcmp(o->name, "comp-lzo") == 0;
  int k;
  if (!lzo && n == 1 && strcmp(p[0], "migrate") == 0)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "'compress migrate' is a server "
                          "option");
  k = lvpn__comp_parse(lzo, p, n, msg, sizeof(msg));
  if (k < 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "%s: %s", o->name, msg);
  if (k >= LVPN__COMP_LZO && a->cfg->allow_compression_set &&
      a->cfg->allow_compression == LVPN__ALLOW_COMP_NO)
    return lvpn__opt_fail(a, LVPN_ECOMPRESSION,
                          "%s%s%s: compression is not allowed since "
                          "allow-compression is 'no'",
                          o->name, n > 0 ? " " : "", n > 0 ? p[0] : "");
  if (k >= LVPN__COMP_LZO &&
      a->cfg->allow_compression != LVPN__ALLOW_COMP_YES)
    lvpn__opt_warn(a, "compression for receiving enabled; sent packets are "
                      "not compressed unless 'allow-compression yes' is set");
  a->cfg->comp = k;
  return 0;
}

static int fn_replay(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                     int n) {
  return lvpn__opt_get_int_pair(a, o, p, n, 0, 65536, 600,
                                &a->cfg->replay_window, &a->cfg->replay_time);
}

static int fn_mssfix(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                     int n) {
  static const char *const names[] = {"mtu", "fixed", NULL};
  uint64_t v = 1492;
  int k = -1;
  if (n > 0 && (lvpn__lex_uint(p[0], 0, 65535, &v) != 0 || (v != 0 && v < 154)))
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "mssfix must be 0 or 154..65535, not '%s'", p[0]);
  if (n > 1 && lvpn__opt_keyword(a, o, p[1], names, &k) != 0)
    return LVPN_ECONFIG;
  /* 2.6: a value alone excludes the encapsulation; bare: the defaults */
  a->cfg->mssfix = (int)v;
  a->cfg->mssfix_mtu = n == 0 || k == 0;
  a->cfg->mssfix_fixed = k == 1;
  a->cfg->mssfix_default = n == 0;
  return 0;
}

/* max-packet-size N (2.6): the largest packet on the wire, for both
 * channels: control packets up to N (kept within 154..2048, with OpenVPN's
 * note when cut) and 'mssfix N mtu'. Below 154 no packet of either channel
 * fits, so it is refused where OpenVPN only notes it. */
static int fn_max_packet_size(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                              char *const *p, int n) {
  uint64_t v;
  (void)o;
  (void)n;
  if (lvpn__lex_uint(p[0], 154, 65535, &v) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "max-packet-size must be 154..65535, not '%s'", p[0]);
  a->cfg->tls_mtu = v > 2048 ? 2048 : (int)v;
  if (v > 2048)
    lvpn__opt_warn(a, "max-packet-size %u is above the largest control "
                      "channel packet (2048): control packets use 2048",
                   (unsigned)v);
  a->cfg->mssfix = (int)v;
  a->cfg->mssfix_mtu = true;
  a->cfg->mssfix_fixed = false;
  a->cfg->mssfix_default = false;
  return 0;
}

static int fn_fragment(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                       char *const *p, int n) {
  static const char *const names[] = {"mtu", NULL};
  int v, k;
  if (lvpn__opt_get_int(a, o, p[0], 68, 65535, &v) != 0)
    return LVPN_ECONFIG; /* 2.6: "--fragment needs to be at least 68" */
  if (n > 1 && lvpn__opt_keyword(a, o, p[1], names, &k) != 0)
    return LVPN_ECONFIG;
  a->cfg->fragment = v;
  a->cfg->fragment_mtu = n > 1;
  return 0;
}

/* An MTU OpenVPN takes (68..hi) but our packet buffers do not hold: one
 * error that says the largest that works. */
static int get_mtu(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, const char *s,
                   int lo, int hi, int limit, int *out) {
  int v = 0;
  if (lvpn__opt_get_int(a, o, s, lo, hi, &v) != 0)
    return LVPN_ECONFIG;
  if (v > limit)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'%s %d' is more than layervpn's packet buffers "
                          "hold: at most %d",
                          o->name, v, limit);
  *out = v;
  return 0;
}

static int fn_tun_mtu(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                      char *const *p, int n) {
  if (get_mtu(a, o, p[0], 68, 65535, LVPN_TUN_MTU_LIMIT, &a->cfg->tun_mtu) !=
      0)
    return LVPN_ECONFIG;
  a->cfg->tun_mtu_given = true;
  return 0;
}

/* tun-mtu-max N (OpenVPN 2.6): the largest tun-mtu a server may push, sent
 * as IV_MTU; below 1600 it changes nothing (1600 is always taken). */
static int fn_tun_mtu_max(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                          char *const *p, int n) {
  return get_mtu(a, o, p[0], 68, 65536, LVPN_TUN_MTU_LIMIT,
                 &a->cfg->tun_mtu_max);
}

static int fn_link_mtu(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                       char *const *p, int n) {
  int v = 0;
  if (get_mtu(a, o, p[0], 100, 65535, LVPN_LINK_MTU_LIMIT, &v) != 0)
    return LVPN_ECONFIG;
  lvpn__opt_warn(a, "'%s' is deprecated (OpenVPN 2.6): the tun MTU is "
                    "derived from it as OpenVPN does; set 'tun-mtu' instead",
                 o->name);
  a->cfg->link_mtu = v;
  return 0;
}

/* OpenVPN 2.6: clears the adaptive flag of a comp-lzo given before it. */
static int fn_comp_noadapt(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                           char *const *p, int n) {
  if (a->cfg->comp == LVPN__COMP_LZO_ADAPTIVE)
    a->cfg->comp = LVPN__COMP_LZO;
  return 0;
}

static int fn_allow_comp(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                         char *const *p, int n) {
  static const char *const kw[] = {"no", "asym", "yes", NULL};
  int k;
  if (lvpn__opt_keyword(a, o, p[0], kw, &k) != 0)
    return LVPN_ECONFIG;
  if (k == LVPN__ALLOW_COMP_NO && a->cfg->comp >= LVPN__COMP_LZO)
    return lvpn__opt_fail(a, LVPN_ECOMPRESSION,
                          "'allow-compression no' conflicts with enabling "
                          "compression (%s)",
                          lvpn__comp_name(a->cfg->comp));
  if (k != LVPN__ALLOW_COMP_NO && a->cfg->allow_compression_set &&
      a->cfg->allow_compression == LVPN__ALLOW_COMP_NO)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "cannot set allow-compression to '%s' after "
                          "setting it to 'no'",
                          p[0]);
  a->cfg->allow_compression = k;
  a->cfg->allow_compression_set = true;
  return 0;
}

/* disable-offload [tun|udp]: without an argument every offload is off;
 * given once with each argument, both are. */
static int fn_disable_offload(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                              char *const *p, int n) {
  static const char *const kw[] = {"tun", "udp", NULL};
  int k = n == 0 ? 2 : lvpn__lex_keyword(p[0], kw);
  if (k < 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'%s': unknown value '%s' (want 'tun', 'udp', or "
                          "nothing for both)",
                          o->name, p[0]);
  if (k != 1)
    a->cfg->disable_offload = true;
  if (k != 0)
    a->cfg->disable_udp_offload = true;
  return 0;
}

static const lvpn__opt_t opts[] = {
    OPT_FN("cipher", 1, 1, fn_cipher),
    OPT_FN("data-ciphers", 1, 1, fn_data_ciphers),
    OPT_FN("ncp-ciphers", 1, 1, fn_data_ciphers),
    OPT_FN("data-ciphers-fallback", 1, 1, fn_fallback),
    OPT_FN("auth", 1, 1, fn_auth),
    OPT_FN("comp-lzo", 0, 1, fn_comp),
    OPT_FN("compress", 0, 1, fn_comp),
    OPT_FN("comp-noadapt", 0, 0, fn_comp_noadapt),
    OPT_FN("allow-compression", 1, 1, fn_allow_comp),
    OPT_FN("replay-window", 1, 2, fn_replay),
    OPT_FLAG("mute-replay-warnings", mute_replay_warnings),
    OPT_FN("tun-mtu", 1, 1, fn_tun_mtu),
    OPT_FN("disable-offload", 0, 1, fn_disable_offload),
    OPT_FN("mssfix", 0, 2, fn_mssfix),
    OPT_FN("max-packet-size", 1, 1, fn_max_packet_size),
    OPT_FN("fragment", 1, 2, fn_fragment),
    OPT_FN("link-mtu", 1, 1, fn_link_mtu),
    OPT_FN("udp-mtu", 1, 1, fn_link_mtu),
    OPT_INT("tun-mtu-extra", tun_mtu_extra, 0, 65535),
    OPT_WARN("prng", "removed in OpenVPN 2.6: the TLS library's random "
                     "generator is used"),
    OPT_REFUSE_HARD("no-replay", "is not supported: replay protection cannot "
                                 "be turned off (removed in OpenVPN 2.7)"),
    OPT_REFUSE_HARD("no-iv", "was removed in OpenVPN 2.5: it weakened the "
                             "tunnel"),
    OPT_FN("tun-mtu-max", 1, 1, fn_tun_mtu_max),
    OPT_TODO("replay-persist"),
    OPT_TODO("shaper"),
};

static int init(lvpn_config_t *c) {
  c->replay_window = 64;
  c->replay_time = 15;
  c->tun_mtu = 1500;
  c->mssfix = 1492;
  c->mssfix_mtu = true;
  c->mssfix_default = true;
  if (lvpn__opt_set_str(&c->data_ciphers, LVPN__DEFAULT_DATA_CIPHERS) != 0)
    return LVPN_ENOMEM;
  return lvpn__opt_set_str(&c->auth, "SHA1");
}

static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  fn(&c->cipher, 0, ud);
  fn(&c->data_ciphers, 0, ud);
  fn(&c->data_ciphers_fallback, 0, ud);
  fn(&c->auth, 0, ud);
}

static int validate(const lvpn_config_t *c, lvpn__opt_ctx_t *a) {
  int i;
  if (c->tun_mtu_given && c->link_mtu > 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "only one of 'tun-mtu' or 'link-mtu' may be given");
  for (i = 0; c->fragment > 0 && i < c->n_remotes; i++)
    if (lvpn__config_remote_proto(c, i).tcp)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'fragment' can only be used with 'proto udp' "
                            "(remote %d is TCP)",
                            i + 1);
  return 0;
}

const lvpn__config_area_t lvpn__config_data = {opts, OPT_COUNT(opts), init,
                                               walk, validate};

void lvpn__config_mssfix(const lvpn_config_t *cfg, int *value, bool *mtu,
                         bool *fixed) {
  *value = cfg->mssfix;
  *mtu = cfg->mssfix_mtu;
  *fixed = cfg->mssfix_fixed;
  if (!cfg->mssfix_default)
    return;
  *fixed = false;
  *mtu = true;
  if (cfg->fragment > 0) {
    *value = cfg->fragment;
  } else if (cfg->link_mtu > 0 && !cfg->tun_mtu_given) {
    *value = 0; /* 2.6: no tun-mtu "defined", no default mssfix */
  } else if (cfg->tun_mtu == 1500) {
    *value = 1492;
  } else { /* only follow the tun size */
    *value = cfg->tun_mtu;
    *fixed = true;
  }
}

int lvpn__config_list_has(const char *list, const char *item) {
  size_t n = strlen(item);
  const char *p = list;

  while (p != NULL && *p != '\0') {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncasecmp(p, item, n) == 0)
      return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

const char *lvpn__config_cipher_supported(const char *name) {
  static const char *const names[] = {
      "AES-128-GCM", "AES-192-GCM", "AES-256-GCM", "CHACHA20-POLY1305",
      "AES-128-CBC", "AES-192-CBC", "AES-256-CBC", NULL};
  int k = name != NULL ? lvpn__lex_keyword(name, names) : -1;
  return k >= 0 ? names[k] : NULL;
}
