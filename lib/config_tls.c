/* Config options of the control channel: CA, certificate and key,
 * tls-auth / tls-crypt, TLS versions and ciphers, timeouts and
 * renegotiation, auth-user-pass, auth-retry, static-challenge.
 *
 * Accepted and ignored on purpose:
 *   key-method                2 is the only method (OpenVPN 2.5+)
 */
#include "lib/config_opts.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

static int fn_tls_auth(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                       int n) {
  int dir = -1, e;
  const char *d = a->inl == NULL && n > 1 ? p[1] : NULL; /* inline: none */
  if (d != NULL) {
    if (strcmp(d, "0") != 0 && strcmp(d, "1") != 0)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "key direction must be 0 or 1, not '%s'", d);
    dir = d[0] - '0';
  }
  if ((e = lvpn__opt_load_blob(a, o, p, n, &a->cfg->tls_auth)) != 0)
    return e;
  a->cfg->tls_auth_dir = dir;
  return 0;
}

static int fn_verify_x509(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                          char *const *p, int n) {
  static const char *const names[] = {"subject", "name", "name-prefix", NULL};
  int type = LVPN__X509_SUBJECT, e;
  if (n > 1 && (e = lvpn__opt_keyword(a, o, p[1], names, &type)) != 0)
    return e;
  a->cfg->verify_x509_type = type;
  return lvpn__opt_set_str(&a->cfg->verify_x509_name, p[0]);
}

static int fn_tls_version(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                          char *const *p, int n) {
  static const char *const names[] = {"1.0", "1.1", "1.2", "1.3", NULL};
  int k = lvpn__lex_keyword(p[0], names);
  bool min = strcmp(o->name, "tls-version-min") == 0;
  if (k < 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'%s': unknown TLS version '%s' (1.0, 1.1, "
                          "1.2, 1.3)",
                          o->name, p[0]);
  if (n > 1 && (!min || strcmp(p[1], "or-highest") != 0))
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s': unexpected '%s'", o->name,
                          p[1]);
  if (min) {
    a->cfg->tls_version_min = k;
    a->cfg->tls_version_min_or_highest = n > 1;
    if (k == 3)
      lvpn__opt_warn(a, "TLS 1.3 is not available with mbedTLS 2.28; %s",
                     n > 1 ? "TLS 1.2 will be used"
                           : "the handshake cannot succeed");
  } else {
    a->cfg->tls_version_max = k;
  }
  return 0;
}

/* "user\npass\n" (CR tolerated); the password line may be missing. */
static int fn_auth_user_pass(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                             char *const *p, int n) {
  lvpn__blob_t b = {0};
  lvpn_config_t *c = a->cfg;
  char *user, *pass, *nl;
  int e;

  if (a->inl == NULL && n == 0) {
    c->auth_user_pass = LVPN__AUP_PROMPT;
    return 0;
  }
  if ((e = lvpn__opt_load_blob(a, o, p, n, &b)) != 0)
    return e == LVPN_EKEYFILE ? LVPN_ECONFIG : e;
  if (strlen(b.data) != b.len) {
    e = lvpn__opt_fail(a, LVPN_ECONFIG, "NUL byte in '%s'", b.origin);
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
    e = lvpn__opt_fail(a, LVPN_ECONFIG, "no username in '%s'", b.origin);
    goto out;
  }
  e = lvpn__opt_set_str(&c->username, user);
  if (e == 0 && c->password != NULL) {
    mbedtls_platform_zeroize(c->password, strlen(c->password));
    free(c->password);
    c->password = NULL;
  }
  if (e == 0 && pass != NULL && pass[0] != '\0')
    e = lvpn__opt_set_str(&c->password, pass);
  if (e == 0)
    c->auth_user_pass = LVPN__AUP_GIVEN;
out:
  lvpn__opt_blob_clear(&b);
  return e;
}

/* ---- credentials: static-challenge, auth-retry (layers/client_auth.c) ---- */

/* static-challenge TEXT ECHO [scrv1]: ECHO is 1 when the response may be
 * shown while typed. OpenVPN 2.7's "concat" format is refused, not ignored. */
static int fn_static_challenge(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                               char *const *p, int n) {
  (void)o;
  if (strcmp(p[1], "0") != 0 && strcmp(p[1], "1") != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "static-challenge: ECHO must be 0 or 1, not '%s'",
                          p[1]);
  if (n > 2 && strcmp(p[2], "scrv1") != 0)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "static-challenge: format '%s' is not supported "
                          "(only scrv1)", p[2]);
  a->cfg->static_challenge_echo = p[1][0] == '1';
  return lvpn__opt_set_str(&a->cfg->static_challenge, p[0]);
}

static const char *const auth_retry_kw[] = {"none", "nointeract", "interact",
                                            NULL};

static const char *const cert_tls_kw[] = {"server", "client", NULL};

static const lvpn__opt_t opts[] = {
    OPT_BLOB("ca", ca),
    OPT_BLOB("cert", cert),
    OPT_BLOB("key", key),
    OPT_BLOB("extra-certs", extra_certs),
    {OPT_E("tls-auth", LVPN__OPT_FN, 0, 2), .inline_ok = true,
     .fn = fn_tls_auth},
    OPT_INT("key-direction", key_direction, 0, 1),
    OPT_BLOB("tls-crypt", tls_crypt),
    OPT_BLOB("tls-crypt-v2", tls_crypt_v2),
    OPT_KW("remote-cert-tls", remote_cert_tls, LVPN__CERT_TLS_SERVER,
           cert_tls_kw),
    OPT_FN("verify-x509-name", 1, 2, fn_verify_x509),
    OPT_FN("tls-version-min", 1, 2, fn_tls_version),
    OPT_FN("tls-version-max", 1, 1, fn_tls_version),
    OPT_STR("tls-cipher", tls_cipher),
    OPT_STR("tls-ciphersuites", tls_ciphersuites),
    OPT_INT("tls-mtu", tls_mtu, 154, 2048),
    OPT_INT("hand-window", hand_window, 1, INT_MAX),
    OPT_INT("tls-timeout", tls_timeout, 1, INT_MAX),
    {OPT_E("reneg-sec", LVPN__OPT_INT, 1, 2), .off = OPT_OFF(reneg_sec),
     .hi = INT_MAX},
    OPT_U64("reneg-bytes", reneg_bytes),
    OPT_U64("reneg-pkts", reneg_pkts),
    {OPT_E("auth-user-pass", LVPN__OPT_FN, 0, 1), .inline_ok = true,
     .fn = fn_auth_user_pass},
    OPT_FLAG("auth-nocache", auth_nocache),
    OPT_KW("auth-retry", auth_retry, LVPN__AUTH_RETRY_NONE, auth_retry_kw),
    OPT_FN("static-challenge", 2, 3, fn_static_challenge),
    OPT_NOOP("key-method", 1, 1),
};

static int init(lvpn_config_t *c) {
  c->tls_auth_dir = c->key_direction = -1;
  c->tls_version_min = 2;
  c->tls_version_max = -1;
  c->tls_mtu = 1250;
  c->hand_window = 60;
  c->tls_timeout = 2;
  c->reneg_sec = 3600;
  return 0;
}

static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  char **strs[] = {&c->verify_x509_name, &c->tls_cipher, &c->tls_ciphersuites,
                   &c->username, &c->password, &c->static_challenge};
  lvpn__blob_t *blobs[] = {&c->ca,          &c->cert,     &c->key,
                           &c->extra_certs, &c->tls_auth, &c->tls_crypt,
                           &c->tls_crypt_v2};
  size_t i;

  for (i = 0; i < OPT_COUNT(strs); i++)
    fn(strs[i], 0, ud);
  for (i = 0; i < OPT_COUNT(blobs); i++)
    lvpn__opt_blob_walk(blobs[i], fn, ud);
}

static int validate(const lvpn_config_t *c, lvpn__opt_ctx_t *a) {
  if (c->ca.data == NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "no 'ca' given");
  if (c->cert.data != NULL && c->key.data == NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'cert' given without 'key'");
  if (c->key.data != NULL && c->cert.data == NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'key' given without 'cert'");
  if (c->cert.data == NULL && c->auth_user_pass == LVPN__AUP_NONE)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "no 'cert'/'key' and no 'auth-user-pass' "
                          "given: the client cannot authenticate");
  if ((c->tls_auth.data != NULL) + (c->tls_crypt.data != NULL) +
          (c->tls_crypt_v2.data != NULL) >
      1)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "only one of 'tls-auth', 'tls-crypt' and "
                          "'tls-crypt-v2' may be given");
  if (c->tls_version_max >= 0 && c->tls_version_max < c->tls_version_min)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'tls-version-max' is below "
                          "'tls-version-min'");
  if (c->tls_version_min > 2 && !c->tls_version_min_or_highest)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "'tls-version-min 1.3' cannot be met:"
                          " mbedTLS 2.28 supports TLS up to 1.2 (add "
                          "'or-highest')");
  return 0;
}

const lvpn__config_area_t lvpn__config_tls = {opts, OPT_COUNT(opts), init, walk,
                                              validate};

int lvpn__config_tls_auth_direction(const lvpn_config_t *cfg) {
  return cfg->tls_auth_dir >= 0 ? cfg->tls_auth_dir : cfg->key_direction;
}
