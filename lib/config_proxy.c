/* Config options of the outbound proxies, as OpenVPN 2.6 parses them:
 *
 *   http-proxy HOST PORT [AUTHFILE|auto|auto-nct] [METHOD]
 *       METHOD none or basic (the default with an AUTHFILE); the file holds
 *       the username and password on two lines.
 *   <http-proxy-user-pass> / http-proxy-user-pass FILE
 *       the credentials, used instead of the AUTHFILE.
 *   http-proxy-option VERSION V | AGENT STRING | CUSTOM-HEADER NAME [VALUE]
 *       (EXT1 and EXT2 are CUSTOM-HEADER's older names).
 *   socks-proxy HOST [PORT] [AUTHFILE]
 *       SOCKS5; PORT defaults to 1080; AUTHFILE as for http-proxy turns on
 *       RFC 1929 username/password authentication.
 *
 * 'auto' / 'auto-nct' connect without auth and learn Basic from the
 * proxy's answer (auto-nct refuses it), with the credentials of
 * <http-proxy-user-pass>. Refused with the reason: the auth methods
 * ntlm/ntlm2 (OpenVPN 2.7 removed NTLM) and digest, and 'stdin' as the
 * auth file (prompting for proxy credentials). http-proxy-retry,
 * socks-proxy-retry and http-proxy-timeout are warned about in
 * lib/config_conn.c, as OpenVPN 2.6 ignores them.
 *
 * Every handler writes to proxy_of(a), one lvpn__proxy_t: the config's own
 * today; a <connection> block can point it at its entry's.
 */
#include "lib/config_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#define SOCKS_CRED_MAX 255 /* RFC 1929: one length byte */

static lvpn__proxy_t *proxy_of(lvpn__opt_ctx_t *a) {
  if (a->block_remote != NULL && a->block_remote->own_proxy)
    return &a->block_remote->proxy; /* inside a <connection> block */
  return &a->cfg->proxy;
}

static void clear_ptr(char **pp, size_t size, void *ud) {
  (void)ud;
  if (*pp == NULL)
    return;
  mbedtls_platform_zeroize(*pp, size != 0 ? size : strlen(*pp));
  free(*pp);
  *pp = NULL;
}

static void dup_str(char **pp, size_t size, void *ud) {
  bool *failed = ud;
  (void)size;
  if (*pp != NULL && !*failed && (*pp = strdup(*pp)) == NULL)
    *failed = true;
  else if (*failed)
    *pp = NULL; /* after a failure: NULL, so the copy frees only its own */
}

void lvpn__config_proxy_clear(lvpn__proxy_t *px) {
  lvpn__config_proxy_walk(px, clear_ptr, NULL);
  memset(px, 0, sizeof(*px));
}

int lvpn__config_proxy_dup(lvpn__proxy_t *dst, const lvpn__proxy_t *src) {
  bool failed = false;
  *dst = *src;
  lvpn__config_proxy_walk(dst, dup_str, &failed);
  if (failed) {
    lvpn__config_proxy_clear(dst);
    return LVPN_ENOMEM;
  }
  return 0;
}

static const char *kind_name(int kind) {
  return kind == LVPN__PROXY_HTTP ? "http-proxy" : "socks-proxy";
}

static void free_str(char **s) {
  if (*s != NULL) {
    mbedtls_platform_zeroize(*s, strlen(*s));
    free(*s);
    *s = NULL;
  }
}

/* Sets the proxy's kind, host and port; refuses mixing the two kinds. */
static int set_server(lvpn__opt_ctx_t *a, lvpn__proxy_t *px, int kind,
                      const char *host, const char *port) {
  uint64_t v;
  if (px->kind != LVPN__PROXY_NONE && px->kind != kind)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'http-proxy' and 'socks-proxy' cannot be used "
                          "together");
  if (host[0] == '\0' || strlen(host) > 255)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s': bad host name",
                          kind_name(kind));
  if (lvpn__lex_uint(port, 1, 65535, &v) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s': bad port '%s' (1..65535)",
                          kind_name(kind), port);
  if (lvpn__opt_set_str(&px->host, host) != 0)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  px->kind = (uint8_t)kind;
  px->port = (uint16_t)v;
  return 0;
}

/* "user\npass" from a file (p[0]) or the inline block into the proxy's
 * credentials. Both lines are required; `max` bounds each (0: none). */
static int load_creds(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                      int n, const char *what, size_t max, lvpn__proxy_t *px) {
  lvpn__blob_t b = {0};
  char *user, *pass = NULL, *nl;
  int e;

  if (a->inl == NULL && n > 0 && strcmp(p[0], "stdin") == 0)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "'%s': prompting for the proxy's username and "
                          "password ('stdin') is not supported: put them "
                          "in a file or an inline <http-proxy-user-pass> "
                          "block",
                          what);
  if ((e = lvpn__opt_load_blob(a, o, p, n, &b)) != 0)
    return e == LVPN_EKEYFILE ? LVPN_ECONFIG : e;
  e = LVPN_ECONFIG;
  if (strlen(b.data) != b.len) {
    lvpn__opt_fail(a, e, "'%s': NUL byte in '%s'", what, b.origin);
    goto out;
  }
  user = b.data;
  if ((nl = strchr(user, '\n')) != NULL && nl[1] != '\0') {
    *nl = '\0';
    pass = nl + 1; /* may be an empty line: an empty password */
    pass[strcspn(pass, "\r\n")] = '\0';
  }
  user[strcspn(user, "\r")] = '\0';
  if (user[0] == '\0' || pass == NULL) {
    lvpn__opt_fail(a, e,
                   "'%s': '%s' needs the username and the password "
                   "on two lines",
                   what, b.origin);
    goto out;
  }
  if (max != 0 && (strlen(user) > max || strlen(pass) > max)) {
    lvpn__opt_fail(a, e,
                   "'%s': username and password are limited to %zu "
                   "bytes each",
                   what, max);
    goto out;
  }
  free_str(&px->username);
  free_str(&px->password);
  if ((px->username = strdup(user)) == NULL ||
      (px->password = strdup(pass)) == NULL) {
    free_str(&px->username);
    e = lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
    goto out;
  }
  e = 0;
out:
  lvpn__opt_blob_clear(&b);
  return e;
}

static int fn_http_proxy(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                         char *const *p, int n) {
  lvpn__proxy_t *px = proxy_of(a);
  const char *method = n > 3 ? p[3] : n > 2 ? "basic" : "none";
  int e;

  if (n < 2)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "http-proxy port number not "
                          "defined");
  if (n > 2 && (strcmp(p[2], "auto") == 0 || strcmp(p[2], "auto-nct") == 0)) {
    /* No auth first; the proxy's 407 names the method (basic only here,
     * never with auto-nct); the credentials come from
     * <http-proxy-user-pass>. A 4th argument is ignored, as OpenVPN. */
    if ((e = set_server(a, px, LVPN__PROXY_HTTP, p[0], p[1])) != 0)
      return e;
    px->basic = false;
    px->auto_auth = strcmp(p[2], "auto") == 0 ? 1 : 2;
    free(px->creds_error);
    px->creds_error = NULL;
    return 0;
  }
  if (strcmp(method, "ntlm") == 0 || strcmp(method, "ntlm2") == 0)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "'http-proxy': NTLM proxy authentication is not "
                          "supported (OpenVPN 2.7 removed it too): use "
                          "'basic' or 'none'");
  if (strcmp(method, "none") != 0 && strcmp(method, "basic") != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'http-proxy': unknown HTTP authentication method "
                          "'%s' (none or basic)",
                          method);
  if ((e = set_server(a, px, LVPN__PROXY_HTTP, p[0], p[1])) != 0)
    return e;
  px->basic = strcmp(method, "basic") == 0;
  px->auto_auth = 0;
  free(px->creds_error);
  px->creds_error = NULL;
  /* The file is read when basic needs it and no inline block replaced it
   * (OpenVPN prefers <http-proxy-user-pass>, even one given later: then
   * the file is never read, so its error waits for validate). */
  if (px->basic && n > 2 && !px->creds_inline &&
      load_creds(a, o, p + 2, 1, "http-proxy", 0, px) != 0 &&
      (px->creds_error = strdup(a->errbuf != NULL ? a->errbuf : "")) == NULL)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  return 0;
}

static int fn_http_proxy_user_pass(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                                   char *const *p, int n) {
  lvpn__proxy_t *px = proxy_of(a);
  int e = load_creds(a, o, p, n, "http-proxy-user-pass", 0, px);
  if (e == 0) {
    px->creds_inline = true;
    px->options_given = true;
    free(px->creds_error);
    px->creds_error = NULL;
  }
  return e;
}

/* No CR, LF or other control bytes: a header line must stay one line. */
static int header_ok(const char *s) {
  for (; *s != '\0'; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 0;
  return 1;
}

static int fn_http_proxy_option(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                                char *const *p, int n) {
  lvpn__proxy_t *px = proxy_of(a);
  char line[LVPN__PROXY_MAX_LINE];
  int k;

  px->options_given = true;
  for (k = 1; k < n; k++)
    if (!header_ok(p[k]) || strlen(p[k]) >= sizeof(line))
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'http-proxy-option %s': control character or "
                            "value too long",
                            p[0]);
  if (strcmp(p[0], "VERSION") == 0 && n == 2) {
    if (strcmp(p[1], "1.0") != 0 && strcmp(p[1], "1.1") != 0)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'http-proxy-option VERSION': '%s' is not an "
                            "HTTP version (1.0 or 1.1)",
                            p[1]);
    return lvpn__opt_set_str(&px->http_version, p[1]);
  }
  if (strcmp(p[0], "AGENT") == 0 && n == 2)
    return lvpn__opt_set_str(&px->user_agent, p[1]);
  if ((strcmp(p[0], "CUSTOM-HEADER") == 0 || strcmp(p[0], "EXT1") == 0 ||
       strcmp(p[0], "EXT2") == 0) &&
      n >= 2) {
    int len;
    if (px->n_headers >= LVPN__PROXY_MAX_HEADERS)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "Cannot use more than %d http-proxy-option "
                            "CUSTOM-HEADER",
                            LVPN__PROXY_MAX_HEADERS);
    /* With one argument it is the whole line, as OpenVPN sends it. */
    len = n > 2 ? snprintf(line, sizeof(line), "%s: %s", p[1], p[2])
                : snprintf(line, sizeof(line), "%s", p[1]);
    if (len < 0 || (size_t)len >= sizeof(line))
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'http-proxy-option': header longer than %d "
                            "bytes",
                            LVPN__PROXY_MAX_LINE - 1);
    if ((px->headers[px->n_headers] = strdup(line)) == NULL)
      return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
    px->n_headers++;
    return 0;
  }
  return lvpn__opt_fail(a, LVPN_ECONFIG,
                        "Bad http-proxy-option or missing or extra "
                        "parameter: '%s' (VERSION, AGENT or CUSTOM-HEADER)",
                        p[0]);
}

static int fn_socks_proxy(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                          char *const *p, int n) {
  lvpn__proxy_t *px = proxy_of(a);
  int e = set_server(a, px, LVPN__PROXY_SOCKS, p[0], n > 1 ? p[1] : "1080");
  if (e == 0 && n > 2)
    e = load_creds(a, o, p + 2, 1, "socks-proxy", SOCKS_CRED_MAX, px);
  return e;
}

static const lvpn__opt_t opts[] = {
    OPT_FN("http-proxy", 1, 4, fn_http_proxy),
    {OPT_E("http-proxy-user-pass", LVPN__OPT_FN, 0, 1), .inline_ok = true,
     .fn = fn_http_proxy_user_pass},
    OPT_FN("http-proxy-option", 2, 3, fn_http_proxy_option),
    OPT_FN("socks-proxy", 1, 3, fn_socks_proxy),
};

void lvpn__config_proxy_walk(lvpn__proxy_t *px, lvpn__config_ptr_fn fn,
                             void *ud) {
  int k;
  fn(&px->host, 0, ud);
  fn(&px->username, 0, ud);
  fn(&px->password, 0, ud);
  fn(&px->http_version, 0, ud);
  fn(&px->user_agent, 0, ud);
  fn(&px->creds_error, 0, ud);
  for (k = 0; k < px->n_headers; k++)
    fn(&px->headers[k], 0, ud);
}

static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  lvpn__config_proxy_walk(&c->proxy, fn, ud);
}

int lvpn__config_proxy_check(const lvpn__proxy_t *px, const lvpn_config_t *c,
                             lvpn__opt_ctx_t *a) {
  int k;
  if (px->kind != LVPN__PROXY_HTTP && px->options_given)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'http-proxy-option' or 'http-proxy-user-pass' "
                          "given without 'http-proxy'");
  if (px->kind != LVPN__PROXY_HTTP)
    return 0;
  for (k = 0; k < c->n_remotes; k++)
    if ((c->remotes[k].own_proxy ? &c->remotes[k].proxy : &c->proxy) == px &&
        !lvpn__config_remote_proto(c, k).tcp)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'http-proxy' MUST be used in TCP Client mode "
                            "(i.e. 'proto tcp-client'): remote '%s' uses "
                            "UDP",
                            c->remotes[k].host);
  if (px->basic && px->username == NULL && px->creds_error != NULL) {
    if (a->errbuf != NULL && a->errlen > 0)
      snprintf(a->errbuf, a->errlen, "%s", px->creds_error);
    return LVPN_ECONFIG;
  }
  if (px->basic && px->username == NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'http-proxy ... basic' needs the username and "
                          "password: an auth file or "
                          "<http-proxy-user-pass>");
  return 0;
}

static int validate(const lvpn_config_t *c, lvpn__opt_ctx_t *a) {
  int k, e = lvpn__config_proxy_check(&c->proxy, c, a);
  for (k = 0; e == 0 && k < c->n_remotes; k++)
    if (c->remotes[k].own_proxy)
      e = lvpn__config_proxy_check(&c->remotes[k].proxy, c, a);
  return e;
}

const lvpn__config_area_t lvpn__config_proxy = {opts, OPT_COUNT(opts), NULL,
                                                walk, validate};

lvpn__proxy_t *lvpn__config_remote_proxy(lvpn_config_t *cfg, int i) {
  if (i >= 0 && i < cfg->n_remotes && cfg->remotes[i].own_proxy)
    return &cfg->remotes[i].proxy;
  return &cfg->proxy;
}
