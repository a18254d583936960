/* Config options of the control channel: CA, certificate and key,
 * tls-auth / tls-crypt, TLS versions and ciphers, the peer certificate
 * checks (crl-verify, ns-cert-type, remote-cert-ku/-eku, verify-hash,
 * peer-fingerprint, tls-cert-profile), timeouts and renegotiation,
 * auth-user-pass, auth-retry, static-challenge.
 *
 * Accepted, our behaviour being what they ask:
 *   key-method 2              the only method (OpenVPN 2.5+)
 * Accepted with a warning: ecdh-curve (as OpenVPN's mbedTLS build does),
 *   engine, providers (OpenSSL only), keysize (removed in 2.6).
 * Refused: tls-remote, secret and static-key mode (removed or insecure),
 *   tls-verify (a script), capath, PKCS#11, cryptoapicert, and the ones not
 *   implemented yet (see the table).
 */
#include "lib/config_opts.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <strings.h>

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

static int fn_remote_cert_tls(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                              char *const *p, int n) {
  int k = 0;
  if (lvpn__opt_keyword(a, o, p[0], cert_tls_kw, &k) != 0)
    return LVPN_ECONFIG;
  a->cfg->remote_cert_tls = LVPN__CERT_TLS_SERVER + k;
  return 0;
}

static int fn_ns_cert_type(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                           char *const *p, int n) {
  int k = 0;
  if (lvpn__opt_keyword(a, o, p[0], cert_tls_kw, &k) != 0)
    return LVPN_ECONFIG;
  a->cfg->ns_cert_type = LVPN__CERT_TLS_SERVER + k;
  return 0;
}

/* remote-cert-ku [hex ...]: without values the extension must be there. */
static int fn_remote_cert_ku(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                             char *const *p, int n) {
  uint16_t ku[LVPN__CONFIG_MAX_KU];
  unsigned long v;
  char *end;
  int i;
  if (n > LVPN__CONFIG_MAX_KU)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s': at most %d values", o->name,
                          LVPN__CONFIG_MAX_KU);
  for (i = 0; i < n; i++) {
    v = strtoul(p[i], &end, 16);
    if (p[i][0] == '\0' || *end != '\0' || v == 0 || v > 0xffff)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'%s': '%s' is not a key usage in hex (1..ffff)",
                            o->name, p[i]);
    ku[i] = (uint16_t)v;
  }
  memcpy(a->cfg->ku, ku, sizeof(ku[0]) * (size_t)n);
  a->cfg->n_ku = n;
  a->cfg->ku_required = true;
  return 0;
}

/* "AA:BB:..." hashes, one per line (or one argument), of `len` bytes. */
static int parse_hashes(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                        const char *text, int len) {
  lvpn_config_t *c = a->cfg;
  const char *s = text;
  unsigned v;
  int i, k, e;
  while (*s != '\0') {
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
      s++;
    if (*s == '\0')
      break;
    if (c->n_hashes >= LVPN__CONFIG_MAX_HASHES)
      return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s': too many hashes (max %d)",
                            o->name, LVPN__CONFIG_MAX_HASHES);
    if ((e = lvpn__opt_grow(a, (void **)&c->hashes, &c->cap_hashes, c->n_hashes,
                            LVPN__CONFIG_MAX_HASHES, sizeof(*c->hashes))) != 0)
      return e;
    for (i = 0; i < len; i++) {
      if (sscanf(s, "%2x%n", &v, &k) != 1 || k != 2 ||
          (i + 1 < len && s[2] != ':'))
        return lvpn__opt_fail(a, LVPN_ECONFIG,
                              "'%s': a hash must be %d hex bytes separated by "
                              "':'",
                              o->name, len);
      c->hashes[c->n_hashes][i] = (uint8_t)v;
      s += i + 1 < len ? 3 : 2;
    }
    if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'%s': a hash must be %d hex bytes separated by "
                            "':'",
                            o->name, len);
    c->n_hashes++;
  }
  return 0;
}

/* peer-fingerprint (SHA256 of the peer's certificate; then 'ca' is
 * optional) and verify-hash (SHA1 or SHA256 of the certificate that signed
 * it), as OpenVPN 2.6's options.c: mutually exclusive, lists add up. */
static int fn_hash(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                   int n) {
  lvpn_config_t *c = a->cfg;
  bool fp = strcmp(o->name, "peer-fingerprint") == 0;
  int depth = fp ? 0 : 1, len = 32;
  if (!fp) {
    if (a->inl == NULL && (n < 2 || strcmp(p[1], "SHA1") == 0))
      len = 20;
    else if (a->inl == NULL && strcmp(p[1], "SHA256") != 0)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'verify-hash': unsupported algorithm '%s' (SHA1 "
                            "or SHA256)",
                            p[1]);
    lvpn__opt_warn(a, "'verify-hash' is deprecated (OpenVPN 2.6): use "
                      "'peer-fingerprint' or the signing certificate as 'ca'");
  } else if (a->inl == NULL && n > 1) {
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'peer-fingerprint' needs 1 "
                                           "argument");
  }
  if (c->n_hashes > 0 && c->hash_depth != depth)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'verify-hash' and 'peer-fingerprint' cannot be "
                          "used together");
  if (c->n_hashes > 0 && c->hash_len != len)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'%s': SHA1 and SHA256 hashes cannot be mixed",
                          o->name);
  c->hash_depth = depth;
  c->hash_len = len;
  if (a->inl != NULL) { /* not NUL-terminated: copy it */
    lvpn__blob_t b = {0};
    int e = lvpn__opt_load_blob(a, o, p, n, &b);
    if (e == 0)
      e = parse_hashes(a, o, b.data, len);
    lvpn__opt_blob_clear(&b);
    return e;
  }
  return parse_hashes(a, o, p[0], len);
}

static int fn_crl(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                  int n) {
  if (a->inl == NULL && n > 1) {
    if (strcmp(p[1], "dir") != 0)
      return lvpn__opt_fail(a, LVPN_ECONFIG, "'crl-verify': unexpected '%s'",
                            p[1]);
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "'crl-verify DIR dir' is not supported: give the "
                          "CA's CRL file ('crl-verify FILE')");
  }
  return lvpn__opt_load_blob(a, o, p, n, &a->cfg->crl);
}

static int fn_cert_profile(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                           char *const *p, int n) {
  static const char *const names[] = {"legacy", "insecure", "preferred",
                                      "suiteb", NULL};
  static const int val[] = {LVPN__CERT_PROFILE_LEGACY,
                            LVPN__CERT_PROFILE_LEGACY,
                            LVPN__CERT_PROFILE_PREFERRED,
                            LVPN__CERT_PROFILE_SUITEB};
  int k = 0;
  if (lvpn__opt_keyword(a, o, p[0], names, &k) != 0)
    return LVPN_ECONFIG;
  a->cfg->tls_cert_profile = val[k];
  return 0;
}

static int fn_tls_groups(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                         char *const *p, int n) {
  char msg[128];
  if (lvpn__config_tls_groups(p[0], NULL, 0, msg, sizeof(msg)) < 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'tls-groups': %s", msg);
  return lvpn__opt_set_str(&a->cfg->tls_groups, p[0]);
}

/* askpass FILE: the first line is the private key's passphrase. Without a
 * file, as OpenVPN's console prompt, the client asks the host through the
 * credentials callback (LVPN_CRED_KEY_PASSPHRASE) when the key is
 * encrypted; an earlier askpass FILE is forgotten. */
static int fn_askpass(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                      int n) {
  lvpn__blob_t b = {0};
  int e;
  if (a->inl == NULL && n == 0) {
    if (a->cfg->askpass != NULL) {
      mbedtls_platform_zeroize(a->cfg->askpass, strlen(a->cfg->askpass));
      free(a->cfg->askpass);
      a->cfg->askpass = NULL;
    }
    return 0;
  }
  if ((e = lvpn__opt_load_blob(a, o, p, n, &b)) != 0)
    return e;
  b.data[strcspn(b.data, "\r\n")] = '\0';
  if (a->cfg->askpass != NULL) {
    mbedtls_platform_zeroize(a->cfg->askpass, strlen(a->cfg->askpass));
    free(a->cfg->askpass);
    a->cfg->askpass = NULL;
  }
  e = lvpn__opt_set_str(&a->cfg->askpass, b.data);
  lvpn__opt_blob_clear(&b);
  return e;
}

static int fn_keysize(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                      int n) {
  lvpn__opt_warn(a, "'keysize' ignored: removed in OpenVPN 2.6; the data "
                    "cipher's own key size is used");
  return 0;
}

/* keying-material-exporter LABEL LEN: OpenVPN 2.6 exports the material
 * only to plugins (exported_keying_material, set for the TLS_FINAL call and
 * removed after it: ssl.c export_user_keying_material), and plugins cannot
 * be loaded here. Checked as OpenVPN checks it, then ignored with that
 * said. */
static int fn_ekm_exporter(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                           char *const *p, int n) {
  uint64_t len;
  (void)n;
  if (strncmp(p[0], "EXPORTER", 8) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "%s: the label must begin with \"EXPORTER\"",
                          o->name);
  if (lvpn__lex_uint(p[1], 16, 4095, &len) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "%s: the length must be 16..4095, not '%.32s'",
                          o->name, p[1]);
  lvpn__opt_warn(a, "%s: ignored: OpenVPN hands the exported keying "
                    "material to plugins only, and plugins cannot be loaded",
                 o->name);
  return 0;
}

static int fn_ncp_disable(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                          char *const *p, int n) {
  lvpn__opt_warn(a, "'ncp-disable' ignored: removed in OpenVPN 2.6; the data "
                    "cipher is negotiated from 'data-ciphers'");
  return 0;
}

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
    OPT_FN("remote-cert-tls", 1, 1, fn_remote_cert_tls),
    OPT_FN("ns-cert-type", 1, 1, fn_ns_cert_type),
    OPT_FN("remote-cert-ku", 0, LVPN__CONFIG_MAX_KU, fn_remote_cert_ku),
    OPT_STR("remote-cert-eku", remote_cert_eku),
    {OPT_E("crl-verify", LVPN__OPT_FN, 0, 2), .inline_ok = true,
     .fn = fn_crl},
    {OPT_E("peer-fingerprint", LVPN__OPT_FN, 1, 1), .inline_ok = true,
     .fn = fn_hash},
    {OPT_E("verify-hash", LVPN__OPT_FN, 1, 2), .inline_ok = true,
     .fn = fn_hash},
    OPT_FN("tls-cert-profile", 1, 1, fn_cert_profile),
    OPT_FN("tls-groups", 1, 1, fn_tls_groups),
    OPT_BLOB("pkcs12", pkcs12),
    {OPT_E("askpass", LVPN__OPT_FN, 0, 1), .inline_ok = true,
     .fn = fn_askpass},
    OPT_FLAG("use-prediction-resistance", prediction_resistance),
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
    OPT_FN("keysize", 1, 1, fn_keysize),
    OPT_FN("ncp-disable", 0, 0, fn_ncp_disable),
    OPT_WARN("ecdh-curve", "mbedTLS picks the curve from 'tls-groups' (as "
                           "OpenVPN built with mbedTLS does)"),
    OPT_WARN("engine", "OpenSSL engines do not apply: TLS is mbedTLS"),
    OPT_WARN("providers", "OpenSSL providers do not apply: TLS is mbedTLS"),
    OPT_REFUSE_HARD("tls-remote", "was removed in OpenVPN 2.4: use "
                                  "'verify-x509-name NAME name'"),
    OPT_REFUSE_HARD("secret", "(static-key mode) is not supported: it has no "
                              "forward secrecy and OpenVPN 2.7 removes it; "
                              "use TLS ('client' with 'ca'/'cert'/'key')"),
    OPT_REFUSE_HARD("allow-deprecated-insecure-static-crypto",
                    "is not supported: static-key mode is not implemented"),
    OPT_REFUSE_HARD("tls-verify", "is not supported: certificate-checking "
                                  "scripts are not run; use "
                                  "verify-x509-name, remote-cert-* or "
                                  "peer-fingerprint"),
    OPT_REFUSE_HARD("capath", "is not supported: concatenate the CA "
                              "certificates into one 'ca' file"),
    OPT_REFUSE_HARD("cryptoapicert", "is Windows only (certificate store): "
                                     "use 'cert' and 'key' or 'pkcs12'"),
    OPT_REFUSE_HARD("pkcs11-providers", "is not supported: PKCS#11 tokens "
                                        "cannot be used yet"),
    OPT_REFUSE_HARD("pkcs11-id", "is not supported: PKCS#11 tokens cannot "
                                 "be used yet"),
    OPT_REFUSE("pkcs11-id-management", "is not supported: PKCS#11 tokens "
                                       "cannot be used yet"),
    OPT_REFUSE("pkcs11-cert-private", "is not supported: PKCS#11 tokens "
                                      "cannot be used yet"),
    OPT_REFUSE("pkcs11-pin-cache", "is not supported: PKCS#11 tokens cannot "
                                   "be used yet"),
    OPT_REFUSE("pkcs11-private-mode", "is not supported: PKCS#11 tokens "
                                      "cannot be used yet"),
    OPT_REFUSE("pkcs11-protected-authentication",
               "is not supported: PKCS#11 tokens cannot be used yet"),
    OPT_REFUSE_HARD("force-tls-key-material-export",
                    "is not supported yet"),
    OPT_WARN("tls-export-cert", "only the tls-verify script sees the "
                                "exported certificate (peer_cert), and "
                                "tls-verify is not supported"),
    OPT_TODO("x509-track"),
    OPT_FN("keying-material-exporter", 2, 2, fn_ekm_exporter),
    OPT_TODO("client-crresponse"),
    OPT_TODO("auth-token"),
    OPT_TODO("auth-token-user"),
    OPT_INT("tran-window", tran_window, 0, INT_MAX),
    OPT_FLAG("tls-exit", tls_exit),
};

static int init(lvpn_config_t *c) {
  c->tls_auth_dir = c->key_direction = -1;
  c->tls_version_min = 2;
  c->tls_version_max = -1;
  c->hash_depth = -1;
  c->tls_mtu = 1250;
  c->hand_window = 60;
  c->tls_timeout = 2;
  c->reneg_sec = 3600;
  c->tran_window = 3600;
  return 0;
}

static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  char **strs[] = {&c->verify_x509_name, &c->tls_cipher,
                   &c->tls_ciphersuites, &c->username,
                   &c->password,         &c->tls_groups,
                   &c->remote_cert_eku,  &c->askpass,
                   &c->static_challenge};
  lvpn__blob_t *blobs[] = {&c->ca,           &c->cert,      &c->key,
                           &c->extra_certs,  &c->tls_auth,  &c->tls_crypt,
                           &c->tls_crypt_v2, &c->crl,       &c->pkcs12};
  size_t i;

  for (i = 0; i < OPT_COUNT(strs); i++)
    fn(strs[i], 0, ud);
  for (i = 0; i < OPT_COUNT(blobs); i++)
    lvpn__opt_blob_walk(blobs[i], fn, ud);
}

static int validate(const lvpn_config_t *c, lvpn__opt_ctx_t *a) {
  if (c->ca.data == NULL && c->pkcs12.data == NULL && c->hash_depth != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "no 'ca' given (nor 'pkcs12' or 'peer-fingerprint')");
  if (c->pkcs12.data != NULL && (c->cert.data != NULL || c->key.data != NULL))
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'pkcs12' and 'cert'/'key' cannot be used together");
  if (c->cert.data != NULL && c->key.data == NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'cert' given without 'key'");
  if (c->key.data != NULL && c->cert.data == NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'key' given without 'cert'");
  if (c->cert.data == NULL && c->pkcs12.data == NULL &&
      c->auth_user_pass == LVPN__AUP_NONE)
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
  /* the engine speaks TLS 1.2 only: a maximum of 1.2 or 1.3 is met */
  if (c->tls_version_max >= 0 && c->tls_version_max < 2)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "'tls-version-max 1.%d' cannot be met: this client "
                          "speaks TLS 1.2 only (mbedTLS 2.28)",
                          c->tls_version_max);
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

int lvpn__config_tls_groups(const char *list, int *ids, int max, char *msg,
                            size_t msglen) {
  static const struct {
    const char *alias, *name;
  } aliases[] = {{"prime256v1", "secp256r1"}, {"P-256", "secp256r1"},
                 {"P-384", "secp384r1"},      {"P-521", "secp521r1"},
                 {"X25519", "x25519"},        {"X448", "x448"}};
  const mbedtls_ecp_curve_info *ci;
  char copy[256], *tok, *save = NULL;
  const char *name;
  size_t i;
  int n = 0;

  if (strlen(list) >= sizeof(copy)) {
    snprintf(msg, msglen, "list too long");
    return -1;
  }
  snprintf(copy, sizeof(copy), "%s", list);
  for (tok = strtok_r(copy, ":", &save); tok != NULL;
       tok = strtok_r(NULL, ":", &save)) {
    name = tok;
    for (i = 0; i < OPT_COUNT(aliases); i++)
      if (strcasecmp(tok, aliases[i].alias) == 0)
        name = aliases[i].name;
    for (ci = mbedtls_ecp_curve_list(); ci->grp_id != MBEDTLS_ECP_DP_NONE; ci++)
      if (strcasecmp(ci->name, name) == 0)
        break;
    if (ci->grp_id == MBEDTLS_ECP_DP_NONE) {
      snprintf(msg, msglen, "unknown or unsupported group '%.60s'", tok);
      return -1;
    }
    if (ids != NULL && n < max)
      ids[n] = ci->grp_id;
    n++;
  }
  if (n == 0) {
    snprintf(msg, msglen, "empty list");
    return -1;
  }
  return n;
}

lvpn__wrap_kind_t lvpn__config_remote_wrap(const lvpn_config_t *cfg, int i,
                                           const lvpn__blob_t **key,
                                           int *dir) {
  *key = NULL;
  *dir = -1;
  if (i >= 0 && i < cfg->n_remotes && cfg->remotes[i].own_wrap) {
    *key = &cfg->remotes[i].wrap_key;
    *dir = cfg->remotes[i].wrap_dir;
    return (lvpn__wrap_kind_t)cfg->remotes[i].wrap_kind;
  }
  if (cfg->tls_crypt_v2.data != NULL) {
    *key = &cfg->tls_crypt_v2;
    return LVPN__WRAP_CRYPT_V2;
  }
  if (cfg->tls_crypt.data != NULL) {
    *key = &cfg->tls_crypt;
    return LVPN__WRAP_CRYPT;
  }
  if (cfg->tls_auth.data != NULL) {
    *key = &cfg->tls_auth;
    *dir = lvpn__config_tls_auth_direction(cfg);
    return LVPN__WRAP_AUTH;
  }
  return LVPN__WRAP_NONE;
}
