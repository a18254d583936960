/* layers/client_auth: the credentials callback (answered inside the callback
 * or later), static and dynamic challenge packing, the auth-token taking the
 * password's place, and auth-retry after AUTH_FAILED as OpenVPN. The real
 * server's side is tests/integration/t_auth_*.sh. */
#include <stdlib.h>
#include <string.h>

#include "layers/client.h"
#include "layervpn.h"
#include "tests/fakes.h"

typedef struct {
  int calls;
  int kind;
  int echo;
  char username[64];
  char challenge[64];
  int had_username, had_challenge;
  /* what to answer inside the callback; mode 0: answer later */
  int mode; /* 0 later, 1 user+pass(+resp), 2 response only, 3 refuse */
  const char *user, *pass, *resp;
} asked_t;

static void on_cred(lvpn_client_t *c, const lvpn_cred_request_t *r, void *ud) {
  asked_t *a = ud;
  a->calls++;
  a->kind = r->kind;
  a->echo = r->echo;
  a->had_username = r->username != NULL;
  a->had_challenge = r->challenge != NULL;
  snprintf(a->username, sizeof(a->username), "%s",
           r->username ? r->username : "");
  snprintf(a->challenge, sizeof(a->challenge), "%s",
           r->challenge ? r->challenge : "");
  if (a->mode == 1)
    ck_assert_int_eq(
        lvpn_client_answer_credentials(c, a->user, a->pass, a->resp), 0);
  else if (a->mode == 2)
    ck_assert_int_eq(lvpn_client_answer_credentials(c, NULL, NULL, a->resp), 0);
  else if (a->mode == 3)
    ck_assert_int_eq(lvpn_client_answer_credentials(c, NULL, NULL, NULL), 0);
}

static uv_loop_t loop;

/* A client whose config has auth-user-pass (no file) and `opt` (may be NULL).
 */
static lvpn_client_t *client_with(const char *opt, const char *a1,
                                  const char *a2) {
  lvpn_config_t *cfg;
  lvpn_client_t *c;
  const char *none[] = {NULL}, *args[] = {a1, a2, NULL};
  char err[256];
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  ck_assert_int_eq(
      lvpn_config_set(cfg, "auth-user-pass", none, err, sizeof(err)), 0);
  if (opt != NULL)
    ck_assert_msg(lvpn_config_set(cfg, opt, args, err, sizeof(err)) == 0, "%s",
                  err);
  ck_assert_int_eq(lvpn_client_new(&c, &loop, cfg), 0);
  lvpn_config_free(cfg);
  return c;
}

/* client_with() whose credentials callback answers from *a. */
static lvpn_client_t *client_asked(asked_t *a, const char *opt, const char *a1,
                                   const char *a2) {
  lvpn_client_t *c = client_with(opt, a1, a2);
  lvpn_client_set_credentials_cb(c, on_cred, a);
  return c;
}

/* The next attempt is ready now, with these credentials. */
static void expect_creds(lvpn_client_t *c, const char *user, const char *pass) {
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_str_eq(u, user);
  ck_assert_str_eq(p, pass);
}

static void client_done(lvpn_client_t *c) {
  ck_assert_int_eq(lvpn_client_close(c, NULL), 0);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}

START_TEST(test_client_auth_no_callback_fails_clearly) {
  lvpn_client_t *c = client_with(NULL, NULL, NULL);
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), LVPN_ECREDENTIALS);
  ck_assert_int_eq(lvpn_client_answer_credentials(c, "a", "b", NULL),
                   LVPN_ESTATE);
  client_done(c);
}
END_TEST

/* IV_MTU: 1600 at least, else the config's tun-mtu or tun-mtu-max, as
 * OpenVPN 2.6's tun_max_mtu. */
START_TEST(test_client_tun_mtu_max) {
  lvpn_config_t *cfg;
  const char *v[2] = {NULL, NULL};
  char err[256];
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  ck_assert_int_eq(lvpn__client_tun_mtu_max(cfg), 1600);
  v[0] = "1400";
  ck_assert_int_eq(lvpn_config_set(cfg, "tun-mtu", v, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn__client_tun_mtu_max(cfg), 1600);
  v[0] = "1700";
  ck_assert_int_eq(lvpn_config_set(cfg, "tun-mtu", v, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn__client_tun_mtu_max(cfg), 1700);
  v[0] = "1750";
  ck_assert_int_eq(lvpn_config_set(cfg, "tun-mtu-max", v, err, sizeof(err)),
                   0);
  ck_assert_int_eq(lvpn__client_tun_mtu_max(cfg), 1750);
  v[0] = "1000"; /* below 1600: changes nothing, as OpenVPN */
  ck_assert_int_eq(lvpn_config_set(cfg, "tun-mtu-max", v, err, sizeof(err)),
                   0);
  ck_assert_int_eq(lvpn__client_tun_mtu_max(cfg), 1700);
  lvpn_config_free(cfg);
}
END_TEST

/* A CR_TEXT answer is checked before anything is sent, and needs a TLS
 * session to carry it (none before start). */
START_TEST(test_client_auth_cr_response_checks) {
  lvpn_client_t *c = client_with(NULL, NULL, NULL);
  char big[770];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  ck_assert_int_eq(lvpn_client_cr_response(NULL, "1"), LVPN_EINVAL);
  ck_assert_int_eq(lvpn_client_cr_response(c, NULL), LVPN_EINVAL);
  ck_assert_int_eq(lvpn_client_cr_response(c, ""), LVPN_EINVAL);
  ck_assert_int_eq(lvpn_client_cr_response(c, big), LVPN_EINVAL);
  big[768] = '\0'; /* the longest answer */
  ck_assert_int_eq(lvpn_client_cr_response(c, big), LVPN_ESTATE);
  ck_assert_int_eq(lvpn_client_cr_response(c, "424242"), LVPN_ESTATE);
  ck_assert_int_eq(lvpn__client_cr_response_b64(c, "not*b64"), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__client_cr_response_b64(c, ""), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__client_cr_response_b64(c, "NDI0MjQy"), LVPN_ESTATE);
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_answer_in_callback) {
  asked_t a = {.mode = 1, .user = "alice", .pass = "secret"};
  lvpn_client_t *c = client_asked(&a, NULL, NULL, NULL);
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(a.kind, LVPN_CRED_USER_PASS);
  ck_assert_int_eq(a.had_username, 0);
  ck_assert_int_eq(a.had_challenge, 0);
  ck_assert_str_eq(u, "alice");
  ck_assert_str_eq(p, "secret");
  /* kept for the next attempt: not asked again */
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_int_eq(a.calls, 1);
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_answer_later) {
  asked_t a = {.mode = 0};
  lvpn_client_t *c = client_asked(&a, NULL, NULL, NULL);
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 1);
  ck_assert_ptr_null(p);
  /* a missing password is refused, the request stays pending */
  ck_assert_int_eq(lvpn_client_answer_credentials(c, "bob", NULL, NULL),
                   LVPN_EINVAL);
  ck_assert_int_eq(lvpn_client_answer_credentials(c, "bob", "pw", NULL), 0);
  ck_assert_int_eq(lvpn_client_answer_credentials(c, "bob", "pw", NULL),
                   LVPN_ESTATE);
  expect_creds(c, "bob", "pw");
  ck_assert_int_eq(a.calls, 1);
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_refused) {
  asked_t a = {.mode = 3};
  lvpn_client_t *c = client_asked(&a, NULL, NULL, NULL);
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), LVPN_ECREDENTIALS);
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_static_challenge) {
  asked_t a = {.mode = 1, .user = "alice", .pass = "secret", .resp = "1234"};
  lvpn_client_t *c = client_asked(&a, "static-challenge", "Enter PIN", "1");
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_str_eq(a.challenge, "Enter PIN");
  ck_assert_int_eq(a.echo, 1);
  ck_assert_str_eq(u, "alice");
  ck_assert_str_eq(p, "SCRV1:c2VjcmV0:MTIzNA==");
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_static_challenge_bad_echo) {
  lvpn_config_t *cfg;
  const char *args[] = {"PIN", "yes", NULL},
             *fmt[] = {"PIN", "0", "concat", NULL};
  char err[256];
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  ck_assert_int_eq(
      lvpn_config_set(cfg, "static-challenge", args, err, sizeof(err)),
      LVPN_ECONFIG);
  ck_assert_ptr_nonnull(strstr(err, "ECHO must be 0 or 1"));
  ck_assert_int_eq(
      lvpn_config_set(cfg, "static-challenge", fmt, err, sizeof(err)),
      LVPN_EUNSUPPORTED);
  lvpn_config_free(cfg);
}
END_TEST

START_TEST(test_client_auth_token_replaces_password) {
  asked_t a = {.mode = 1, .user = "alice", .pass = "secret"};
  lvpn_client_t *c = client_asked(&a, "auth-retry", "none", NULL);
  lvpn__push_t push;
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  lvpn__push_init(&push);
  push.auth_token = strdup("SESS_ID_TOKEN");
  lvpn__client_auth_on_push(c, &push);
  /* the running session's renegotiations use it */
  ck_assert_str_eq(c->tls.km2.password, "SESS_ID_TOKEN");
  expect_creds(c, "alice", "SESS_ID_TOKEN");
  /* auth-token-user (base64) replaces the username */
  push.auth_token_user = strdup("dG9rdXNlcg==");
  lvpn__client_auth_on_push(c, &push);
  lvpn__push_free(&push);
  expect_creds(c, "tokuser", "SESS_ID_TOKEN");
  /* AUTH_FAILED drops the token and reconnects even with auth-retry none */
  ck_assert_int_eq(lvpn__client_auth_failed(c, ""), 1);
  expect_creds(c, "alice", "secret");
  /* without a token, auth-retry none stops */
  ck_assert_int_eq(lvpn__client_auth_failed(c, ""), 0);
  ck_assert_int_eq(a.calls, 1);
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_retry_nointeract_keeps) {
  asked_t a = {.mode = 1, .user = "alice", .pass = "secret"};
  lvpn_client_t *c = client_asked(&a, "auth-retry", "nointeract", NULL);
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_int_eq(lvpn__client_auth_failed(c, ""), 1);
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_str_eq(p, "secret");
  ck_assert_int_eq(a.calls, 1);
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_retry_interact_asks_again) {
  asked_t a = {.mode = 1, .user = "alice", .pass = "wrong"};
  lvpn_client_t *c = client_asked(&a, "auth-retry", "interact", NULL);
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_int_eq(lvpn__client_auth_failed(c, "bad password"), 1);
  a.pass = "right";
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_int_eq(a.calls, 2);
  ck_assert_str_eq(p, "right");
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_dynamic_challenge) {
  asked_t a = {.mode = 1, .user = "alice", .pass = "secret"};
  lvpn_client_t *c = client_asked(&a, "auth-retry", "interact", NULL);
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_int_eq(lvpn__client_auth_failed(c, "CRV1:R,E:sid77:Ym9i:Your OTP?"),
                   1);
  a.mode = 2;
  a.resp = "424242";
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_int_eq(a.calls, 2);
  ck_assert_int_eq(a.kind, LVPN_CRED_CHALLENGE);
  ck_assert_str_eq(a.username, "bob");
  ck_assert_str_eq(a.challenge, "Your OTP?");
  ck_assert_int_eq(a.echo, 1);
  ck_assert_str_eq(u, "bob");
  ck_assert_str_eq(p, "CRV1::sid77::424242");
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_dynamic_challenge_needs_interact) {
  asked_t a = {.mode = 1, .user = "alice", .pass = "secret"};
  lvpn_client_t *c = client_asked(&a, NULL, NULL, NULL); /* auth-retry none */
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 0);
  ck_assert_int_eq(lvpn__client_auth_failed(c, "CRV1:R:sid:Ym9i:OTP?"), 0);
  ck_assert_int_eq(lvpn__client_auth_failed(c, "TEMP"), 1);
  client_done(c);
}
END_TEST

/* ---- the passphrase of an encrypted private key ---- */

static const char *pki(const char *name) {
  static char path[4][512];
  static int i;
  const char *src = getenv("LVPN_SRCDIR");
  i = (i + 1) % 4;
  snprintf(path[i], sizeof(path[i]), "%s/tests/data/pki/%s", src ? src : ".",
           name);
  return path[i];
}

static void set1(lvpn_config_t *cfg, const char *name, const char *arg) {
  const char *args[] = {arg, NULL};
  char err[256];
  ck_assert_msg(lvpn_config_set(cfg, name, arg ? args : args + 1, err,
                                sizeof(err)) == 0,
                "%s", err);
}

/* A certificate client with `key` (a name ending in .p12: `pkcs12`, the
 * certificate from it too) and, when given, `askpass` FILE. */
static lvpn_client_t *client_key(const char *key, const char *askpass) {
  lvpn_config_t *cfg;
  lvpn_client_t *c;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  set1(cfg, "client", NULL);
  set1(cfg, "remote", "198.18.0.1");
  set1(cfg, "ca", pki("ca.crt"));
  if (strstr(key, ".p12") != NULL) {
    set1(cfg, "pkcs12", pki(key));
  } else {
    set1(cfg, "cert", pki("client.crt"));
    set1(cfg, "key", pki(key));
  }
  if (askpass != NULL)
    set1(cfg, "askpass", pki(askpass));
  ck_assert_int_eq(lvpn_client_new(&c, &loop, cfg), 0);
  lvpn_config_free(cfg);
  return c;
}

START_TEST(test_client_auth_key_pass_not_needed) {
  asked_t a = {.mode = 0};
  lvpn_client_t *c = client_key("client.key", NULL);
  lvpn_client_set_credentials_cb(c, on_cred, &a);
  ck_assert_int_eq(lvpn__client_key_pass(c), 0); /* not encrypted */
  client_done(c);
  c = client_key("client-enc.key", "client-enc.pass");
  lvpn_client_set_credentials_cb(c, on_cred, &a);
  ck_assert_int_eq(lvpn__client_key_pass(c), 0); /* askpass FILE */
  ck_assert_int_eq(a.calls, 0);
  ck_assert_ptr_null(c->key_pass);
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_key_pass_no_callback) {
  lvpn_client_t *c = client_key("client-enc.key", NULL);
  ck_assert_int_eq(lvpn__client_key_pass(c), LVPN_ECREDENTIALS);
  ck_assert_int_eq(lvpn_client_start(c), LVPN_ECREDENTIALS);
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_key_pass_later) {
  asked_t a = {.mode = 0};
  lvpn_client_t *c = client_key("client-enc.key", NULL);
  lvpn_client_set_credentials_cb(c, on_cred, &a);
  ck_assert_int_eq(lvpn__client_key_pass(c), 1);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(a.kind, LVPN_CRED_KEY_PASSPHRASE);
  ck_assert_int_eq(a.had_username, 0);
  ck_assert_int_eq(a.echo, 0);
  /* the passphrase goes in `password` */
  ck_assert_int_eq(lvpn_client_answer_credentials(c, NULL, NULL, "x"),
                   LVPN_EINVAL);
  ck_assert_int_eq(lvpn_client_answer_credentials(c, NULL, "pp", NULL), 0);
  ck_assert_str_eq(c->key_pass, "pp");
  ck_assert_int_eq(lvpn__client_key_pass(c), 0);
  ck_assert_int_eq(a.calls, 1);
  client_done(c);
}
END_TEST

START_TEST(test_client_auth_key_pass_refused) {
  asked_t a = {.mode = 3};
  lvpn_client_t *c = client_key("client-enc.key", NULL);
  lvpn_client_set_credentials_cb(c, on_cred, &a);
  ck_assert_int_eq(lvpn_client_start(c), LVPN_ECREDENTIALS);
  ck_assert_int_eq(a.kind, LVPN_CRED_KEY_PASSPHRASE);
  client_done(c);
}
END_TEST

/* A wrong passphrase answered at start stops the client, as OpenVPN exits;
 * the passphrase is not kept. */
static void wrong_pass_stops(const char *key) {
  asked_t a = {.mode = 1, .pass = "not-the-passphrase"};
  lvpn_client_t *c = client_key(key, NULL);
  lvpn_client_set_credentials_cb(c, on_cred, &a);
  ck_assert_int_eq(lvpn_client_start(c), LVPN_ECREDENTIALS);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_ptr_null(c->key_pass);
  client_done(c);
}

START_TEST(test_client_auth_key_pass_wrong) {
  wrong_pass_stops("client-enc.key");
}
END_TEST

/* An encrypted pkcs12 bundle without askpass is asked for like a key
 * (the CLI prompts "Enter Private Key Password:"); with askpass FILE it is
 * not; a wrong answer stops the client as for a key. */
START_TEST(test_client_auth_key_pass_pkcs12) {
  asked_t a = {.mode = 0};
  lvpn_client_t *c = client_key("client.p12", "client-enc.pass");
  lvpn_client_set_credentials_cb(c, on_cred, &a);
  ck_assert_int_eq(lvpn__client_key_pass(c), 0);
  ck_assert_int_eq(a.calls, 0);
  client_done(c);
  c = client_key("client.p12", NULL);
  lvpn_client_set_credentials_cb(c, on_cred, &a);
  ck_assert_int_eq(lvpn__client_key_pass(c), 1);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(a.kind, LVPN_CRED_KEY_PASSPHRASE);
  ck_assert_int_eq(lvpn_client_answer_credentials(c, NULL, "pp", NULL), 0);
  ck_assert_int_eq(lvpn__client_key_pass(c), 0);
  client_done(c);
  wrong_pass_stops("client.p12");
}
END_TEST

/* The management interface answers with the password field packed by the
 * GUI (SCRV1:..., CRV1::...): sent as given, the pending challenge done;
 * a later AUTH_FAILED with auth-retry interact forgets it. */
START_TEST(test_client_auth_packed_answer) {
  asked_t a = {.mode = 0};
  lvpn_client_t *c = client_asked(&a, "static-challenge", "Enter PIN", "1");
  const char *u, *p;
  ck_assert_int_eq(lvpn__client_answer_packed(c, "x", "y"), LVPN_ESTATE);
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 1);
  ck_assert_int_eq(
      lvpn__client_answer_packed(c, "alice", "SCRV1:c2VjcmV0:MTIzNA=="), 0);
  expect_creds(c, "alice", "SCRV1:c2VjcmV0:MTIzNA==");
  expect_creds(c, "alice", "SCRV1:c2VjcmV0:MTIzNA=="); /* reused */
  ck_assert_int_eq(a.calls, 1);
  client_done(c);

  c = client_asked(&a, "auth-retry", "interact", NULL);
  a.calls = 0;
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 1);
  ck_assert_int_eq(lvpn__client_answer_packed(c, "carol", "secret"), 0);
  expect_creds(c, "carol", "secret");
  ck_assert_int_eq(lvpn__client_auth_failed(c, "CRV1:R,E:sid42:Y2Fyb2w=:OTP?"),
                   1);
  ck_assert_int_eq(lvpn__client_auth_prepare(c, &u, &p), 1);
  ck_assert_int_eq(a.kind, LVPN_CRED_CHALLENGE);
  ck_assert_int_eq(lvpn__client_answer_packed(c, "carol", "CRV1::sid42::777"),
                   0);
  expect_creds(c, "carol", "CRV1::sid42::777");
  ck_assert_int_eq(a.calls, 2);
  client_done(c);
}
END_TEST

/* ---- TLS credentials shared between clients ---- */

static void client_close_one(lvpn_client_t *c) {
  ck_assert_int_eq(lvpn_client_close(c, NULL), 0);
}

/* Clients made from one config on one loop share one parsed CA, cert, key
 * and mbedTLS config, which lives until the last of them is freed (valgrind
 * and LeakSanitizer check that); a client on another loop has its own. */
START_TEST(test_client_auth_tls_shared_per_config_and_loop) {
  lvpn_config_t *cfg;
  lvpn_client_t *c1, *c2, *c3;
  uv_loop_t other;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uv_loop_init(&other), 0);
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  set1(cfg, "client", NULL);
  set1(cfg, "remote", "198.18.0.1");
  set1(cfg, "ca", pki("ca.crt"));
  set1(cfg, "cert", pki("client.crt"));
  set1(cfg, "key", pki("client.key"));
  ck_assert_int_eq(lvpn_client_new(&c1, &loop, cfg), 0);
  ck_assert_int_eq(lvpn_client_new(&c2, &loop, cfg), 0);
  ck_assert_int_eq(lvpn_client_new(&c3, &other, cfg), 0);
  lvpn_config_free(cfg);
  ck_assert_int_eq(lvpn__client_tls_once(c1), 0);
  ck_assert_ptr_nonnull(c1->tls_conf);
  ck_assert_int_eq(lvpn__client_tls_once(c2), 0);
  ck_assert_ptr_eq(c2->tls_conf, c1->tls_conf);
  ck_assert_int_eq(lvpn__client_tls_once(c3), 0);
  ck_assert_ptr_nonnull(c3->tls_conf);
  ck_assert_ptr_ne(c3->tls_conf, c1->tls_conf);
  ck_assert_uint_eq(c1->tls_ref->refs, 3); /* c1, c2 and the config copy */
  client_close_one(c1); /* the other still uses it */
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(c2->tls_conf->have_cert, 1);
  client_close_one(c2);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  client_close_one(c3);
  ck_assert_int_eq(uv_run(&other, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(uv_loop_close(&other), 0);
}
END_TEST

/* A key whose passphrase the host answered stays that client's: a second
 * client from the same config is asked too. */
START_TEST(test_client_auth_key_pass_from_host_not_shared) {
  asked_t a = {.mode = 1, .pass = NULL};
  lvpn_config_t *cfg;
  lvpn_client_t *c1, *c2;
  const char *pass_file = pki("client-enc.pass");
  char pass[128] = "";
  FILE *f = fopen(pass_file, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(fgets(pass, sizeof(pass), f));
  fclose(f);
  pass[strcspn(pass, "\r\n")] = '\0';
  a.pass = pass;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  set1(cfg, "client", NULL);
  set1(cfg, "remote", "198.18.0.1");
  set1(cfg, "ca", pki("ca.crt"));
  set1(cfg, "cert", pki("client.crt"));
  set1(cfg, "key", pki("client-enc.key"));
  ck_assert_int_eq(lvpn_client_new(&c1, &loop, cfg), 0);
  ck_assert_int_eq(lvpn_client_new(&c2, &loop, cfg), 0);
  lvpn_config_free(cfg);
  lvpn_client_set_credentials_cb(c1, on_cred, &a);
  lvpn_client_set_credentials_cb(c2, on_cred, &a);
  ck_assert_int_eq(lvpn__client_tls_once(c1), 0);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(lvpn__client_tls_once(c2), 0);
  ck_assert_int_eq(a.calls, 2);
  ck_assert_ptr_nonnull(c1->tls_conf);
  ck_assert_ptr_ne(c2->tls_conf, c1->tls_conf);
  ck_assert_uint_eq(c1->tls_ref->refs, 1);
  client_close_one(c1);
  client_done(c2);
}
END_TEST

LVPN_TEST_MAIN("client_auth", 0, NULL, NULL,
               test_client_auth_tls_shared_per_config_and_loop,
               test_client_auth_key_pass_from_host_not_shared,
               test_client_auth_packed_answer,
               test_client_auth_no_callback_fails_clearly,
               test_client_auth_cr_response_checks, test_client_tun_mtu_max,
               test_client_auth_answer_in_callback,
               test_client_auth_answer_later, test_client_auth_refused,
               test_client_auth_static_challenge,
               test_client_auth_static_challenge_bad_echo,
               test_client_auth_token_replaces_password,
               test_client_auth_retry_nointeract_keeps,
               test_client_auth_retry_interact_asks_again,
               test_client_auth_dynamic_challenge,
               test_client_auth_dynamic_challenge_needs_interact,
               test_client_auth_key_pass_not_needed,
               test_client_auth_key_pass_no_callback,
               test_client_auth_key_pass_later,
               test_client_auth_key_pass_refused,
               test_client_auth_key_pass_wrong,
               test_client_auth_key_pass_pkcs12)
