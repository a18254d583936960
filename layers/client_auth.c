/* Credentials for auth-user-pass: the host's answers through the credentials
 * callback, static-challenge (SCRV1) and dynamic challenge (CRV1) packing,
 * the server's auth-token, and auth-retry after AUTH_FAILED (as OpenVPN's
 * receive_auth_failed: a token in use is dropped and the client reconnects;
 * otherwise none stops, nointeract reconnects with the same credentials,
 * interact forgets them and asks again), and the passphrase of an encrypted
 * private key. Secrets are never logged. */
#include "layers/client.h"

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/challenge.h"
#include "layers/tlssession/keyload.h"

static void auth_log(lvpn_client_t *c, int level, const char *msg) {
  LVPN__LOG(&c->log, level, "client", "%s", msg);
}

void lvpn_client_set_credentials_cb(lvpn_client_t *c, lvpn_credentials_cb cb,
                                    void *ud) {
  c->cred_cb = cb;
  c->cred_ud = ud;
}

static void auth_forget_answers(lvpn_client_t *c) {
  lvpn__secret_free(&c->au_user);
  lvpn__secret_free(&c->au_pass);
  lvpn__secret_free(&c->au_resp);
  lvpn__secret_free(&c->au_wire);
  c->cred_packed = 0;
}

static void auth_drop_token(lvpn_client_t *c) {
  lvpn__secret_free(&c->tok);
  lvpn__secret_free(&c->tok_user);
}

void lvpn__client_auth_free(lvpn_client_t *c) {
  auth_forget_answers(c);
  auth_drop_token(c);
  lvpn__secret_free(&c->crv1);
  lvpn__secret_free(&c->key_pass);
}

static const char *auth_username(const lvpn_client_t *c) {
  if (c->cfg->auth_user_pass == LVPN__AUP_GIVEN)
    return c->cfg->username;
  return c->au_user;
}

static const char *auth_password(const lvpn_client_t *c) {
  if (c->cfg->auth_user_pass == LVPN__AUP_GIVEN && c->cfg->password != NULL)
    return c->cfg->password;
  return c->au_pass;
}

/* Asks the host. Returns 0 when answered within the callback, 1 when the
 * answer will come later, LVPN_ECREDENTIALS when nobody can answer. */
static int auth_ask(lvpn_client_t *c, const lvpn_cred_request_t *req) {
  if (c->cred_cb == NULL) {
    auth_log(c, LVPN_LOG_FATAL,
             req->kind == LVPN_CRED_CHALLENGE
                 ? "the server sent a challenge and no credentials callback "
                   "is set to answer it"
             : req->kind == LVPN_CRED_KEY_PASSPHRASE
                 ? "private key: it is encrypted, and there is no 'askpass "
                   "FILE' and no credentials callback to ask for its "
                   "passphrase"
                 : "auth-user-pass has no file with the username and "
                   "password, and no credentials callback is set to ask "
                   "for them");
    return LVPN_ECREDENTIALS;
  }
  c->cred_wait = req->kind;
  c->cred_refused = 0;
  c->cred_in_cb = 1;
  c->cred_cb(c, req, c->cred_ud);
  c->cred_in_cb = 0;
  if (c->cred_refused) {
    auth_log(c, LVPN_LOG_FATAL,
             req->kind == LVPN_CRED_KEY_PASSPHRASE
                 ? "private key: it is encrypted and no passphrase was given"
             : req->kind == LVPN_CRED_CHALLENGE
                 ? "no challenge response given"
                 : "no username/password given");
    return LVPN_ECREDENTIALS;
  }
  return c->cred_wait != 0 ? 1 : 0;
}

int lvpn__client_key_pass(lvpn_client_t *c) {
  const lvpn_config_t *cfg = c->cfg;
  lvpn_cred_request_t req;

  if (c->key_pass != NULL || cfg->askpass != NULL)
    return 0;
  if (cfg->pkcs12.data != NULL
          ? !lvpn__pkcs12_needs_pass(cfg->pkcs12.data, cfg->pkcs12.len)
          : !lvpn__key_pem_encrypted(cfg->key.data, cfg->key.len))
    return 0;
  if (c->cred_refused)
    return LVPN_ECREDENTIALS;
  memset(&req, 0, sizeof(req));
  req.kind = LVPN_CRED_KEY_PASSPHRASE;
  return auth_ask(c, &req);
}

int lvpn__client_auth_prepare(lvpn_client_t *c, const char **user,
                              const char **pass) {
  lvpn_cred_request_t req;
  lvpn__crv1_t cr;
  int rc;

  *user = *pass = NULL;
  if (c->cfg->auth_user_pass == LVPN__AUP_NONE)
    return 0;
  if (c->cred_refused)
    return LVPN_ECREDENTIALS;
  if (c->tok != NULL) {
    *user = c->tok_user != NULL ? c->tok_user : auth_username(c);
    *pass = c->tok;
    return 0;
  }
  if (c->cred_packed && c->au_wire != NULL) { /* the host packed it */
    *user = c->au_user != NULL ? c->au_user : auth_username(c);
    *pass = c->au_wire;
    return 0;
  }
  memset(&req, 0, sizeof(req));
  if (c->crv1 != NULL) {
    /* dynamic challenge: the response replaces the password */
    if (lvpn__crv1_parse(c->crv1, &cr) != 0) {
      auth_log(c, LVPN_LOG_FATAL,
               "received a malformed challenge request from the server");
      return LVPN_EPROTO;
    }
    if (c->au_resp == NULL) {
      req.kind = LVPN_CRED_CHALLENGE;
      req.username = cr.user;
      req.challenge = cr.text;
      req.echo = cr.echo;
      rc = auth_ask(c, &req);
      if (rc != 0) {
        lvpn__crv1_free(&cr);
        return rc;
      }
    }
    lvpn__secret_free(&c->au_user);
    lvpn__secret_free(&c->au_pass);
    lvpn__secret_free(&c->au_wire);
    c->au_user = cr.user;
    cr.user = NULL;
    rc = lvpn__crv1_answer(&c->au_pass, cr.state_id, c->au_resp);
    lvpn__crv1_free(&cr);
    lvpn__secret_free(&c->au_resp);
    lvpn__secret_free(&c->crv1);
    if (rc != 0)
      return rc;
    /* packed once; reused on reconnects, as OpenVPN does */
    if ((rc = lvpn__secret_dup(&c->au_wire, c->au_pass)) != 0)
      return rc;
  }
  if (c->au_wire == NULL) {
    int need_resp = c->cfg->static_challenge != NULL && c->au_resp == NULL;
    if (auth_username(c) == NULL || auth_password(c) == NULL || need_resp) {
      req.kind = LVPN_CRED_USER_PASS;
      req.username = auth_username(c);
      req.challenge = c->cfg->static_challenge;
      req.echo = c->cfg->static_challenge_echo;
      if ((rc = auth_ask(c, &req)) != 0)
        return rc;
    }
    if (c->cfg->static_challenge != NULL)
      rc = lvpn__scrv1_encode(&c->au_wire, auth_password(c), c->au_resp);
    else
      rc = lvpn__secret_dup(&c->au_wire, auth_password(c));
    lvpn__secret_free(&c->au_resp);
    if (rc != 0)
      return rc;
  }
  *user = auth_username(c);
  *pass = c->au_wire;
  return 0;
}

int lvpn_client_answer_credentials(lvpn_client_t *c, const char *username,
                                   const char *password,
                                   const char *response) {
  int kind = c->cred_wait, rc = 0;

  if (kind == 0)
    return LVPN_ESTATE;
  if (username == NULL && password == NULL && response == NULL) {
    c->cred_refused = 1;
  } else if (kind == LVPN_CRED_KEY_PASSPHRASE) {
    if (password == NULL)
      return LVPN_EINVAL;
    lvpn__secret_free(&c->key_pass);
    rc = lvpn__secret_dup(&c->key_pass, password);
  } else if (kind == LVPN_CRED_CHALLENGE) {
    if (response == NULL)
      return LVPN_EINVAL;
    rc = lvpn__secret_dup(&c->au_resp, response);
  } else {
    if ((username == NULL && auth_username(c) == NULL) ||
        (password == NULL && auth_password(c) == NULL) ||
        (c->cfg->static_challenge != NULL && response == NULL) ||
        (username != NULL && username[0] == '\0'))
      return LVPN_EINVAL;
    if (username != NULL && c->cfg->auth_user_pass != LVPN__AUP_GIVEN)
      rc = lvpn__secret_dup(&c->au_user, username);
    if (rc == 0 && password != NULL)
      rc = lvpn__secret_dup(&c->au_pass, password);
    if (rc == 0 && response != NULL)
      rc = lvpn__secret_dup(&c->au_resp, response);
  }
  if (rc != 0)
    return rc;
  c->cred_wait = 0;
  if (!c->cred_in_cb)
    lvpn__client_resume(c);
  return 0;
}

int lvpn__client_answer_packed(lvpn_client_t *c, const char *user,
                               const char *wire) {
  char *u = NULL, *w = NULL;
  int rc;

  if (c->cred_wait == 0)
    return LVPN_ESTATE;
  if ((rc = lvpn__secret_dup(&u, user)) != 0 ||
      (rc = lvpn__secret_dup(&w, wire)) != 0) {
    lvpn__secret_free(&u);
    return rc;
  }
  auth_forget_answers(c);
  lvpn__secret_free(&c->crv1); /* answered inside the packed password */
  c->au_user = u;
  c->au_wire = w;
  c->cred_packed = 1;
  c->cred_wait = 0;
  if (!c->cred_in_cb)
    lvpn__client_resume(c);
  return 0;
}

void lvpn__client_auth_on_push(lvpn_client_t *c, const lvpn__push_t *push) {
  char *user = NULL;

  if (push->auth_token_user != NULL) {
    if (lvpn__b64_decode_str(&user, push->auth_token_user) == 0) {
      lvpn__secret_free(&c->tok_user);
      c->tok_user = user;
    } else {
      auth_log(c, LVPN_LOG_ERROR, "cannot decode the pushed auth-token-user");
    }
  }
  if (push->auth_token != NULL && push->auth_token[0] != '\0') {
    char *t = NULL;
    if (lvpn__secret_dup(&t, push->auth_token) != 0)
      return;
    lvpn__secret_free(&c->tok);
    c->tok = t;
    auth_log(c, LVPN_LOG_VERBOSE,
             "auth-token received: used instead of the password from now on");
  }
  if (c->tok != NULL) {
    /* the running session's renegotiations authenticate with the token */
    c->tls.km2.password = c->tok;
    if (c->tok_user != NULL)
      c->tls.km2.username = c->tok_user;
  }
}

void lvpn__client_on_token(lvpn__tlssession_t *t, const lvpn__push_t *push) {
  lvpn__client_auth_on_push(t->cbs.ud, push);
}

int lvpn__client_auth_failed(lvpn_client_t *c, const char *reason) {
  /* as OpenVPN, auth-retry applies whatever failed (a certificate-only
   * client too) */
  if (strncmp(reason, "TEMP", 4) == 0)
    return 1; /* the server asks to try again later */
  if (c->tok != NULL) {
    auth_drop_token(c);
    auth_log(c, LVPN_LOG_INFO, "AUTH: auth-token rejected, dropped");
    return 1;
  }
  switch (c->cfg->auth_retry) {
  case LVPN__AUTH_RETRY_INTERACT:
    auth_forget_answers(c);
    lvpn__secret_free(&c->crv1);
    if (strncmp(reason, "CRV1:", 5) == 0 &&
        lvpn__secret_dup(&c->crv1, reason) != 0)
      return 0;
    return 1;
  case LVPN__AUTH_RETRY_NOINTERACT:
    return 1;
  default:
    if (strncmp(reason, "CRV1:", 5) == 0)
      auth_log(c, LVPN_LOG_FATAL,
               "the server sent a challenge: answering it needs "
               "'auth-retry interact'");
    return 0;
  }
}

/* CR_TEXT (management-notes.txt "crtext"): the answer goes back as
 * CR_RESPONSE,<base64> while the server waits (AUTH_PENDING), as OpenVPN's
 * cr-response. Its bytes are zeroed once sent. */
#define CR_RESPONSE_MAX 768 /* answer bytes; base64 of it fits a message */

int lvpn__client_cr_response_b64(lvpn_client_t *c, const char *b64) {
  char msg[sizeof("CR_RESPONSE,") + 4 * ((CR_RESPONSE_MAX + 2) / 3)];
  size_t n, olen = 0;
  int rc;

  if (c == NULL || b64 == NULL)
    return LVPN_EINVAL;
  n = strlen(b64);
  /* valid base64 of at least one byte: the decoder only measures here */
  if (n == 0 || n > sizeof(msg) - sizeof("CR_RESPONSE,") ||
      mbedtls_base64_decode(NULL, 0, &olen, (const unsigned char *)b64, n) !=
          MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL ||
      olen == 0)
    return LVPN_EINVAL;
  snprintf(msg, sizeof(msg), "CR_RESPONSE,%s", b64);
  rc = lvpn__tlssession_send_ctlmsg(&c->tls, msg);
  mbedtls_platform_zeroize(msg, sizeof(msg));
  if (rc == 0)
    auth_log(c, LVPN_LOG_INFO, "challenge response sent (CR_RESPONSE)");
  return rc;
}

int lvpn_client_cr_response(lvpn_client_t *c, const char *response) {
  unsigned char b64[4 * ((CR_RESPONSE_MAX + 2) / 3) + 1];
  size_t n, olen = 0;
  int rc;

  if (c == NULL || response == NULL || (n = strlen(response)) == 0 ||
      n > CR_RESPONSE_MAX)
    return LVPN_EINVAL;
  if (mbedtls_base64_encode(b64, sizeof(b64), &olen,
                            (const unsigned char *)response, n) != 0)
    return LVPN_EINVAL;
  rc = lvpn__client_cr_response_b64(c, (const char *)b64);
  mbedtls_platform_zeroize(b64, sizeof(b64));
  return rc;
}

/* AUTH_PENDING (the server needs more time: SSO, 2FA) and INFO / INFO_PRE
 * (OPEN_URL:..., CR_TEXT:...): kept for lvpn_client_info() and the
 * management interface, and told to the host as events. */
void lvpn__client_on_info(lvpn__tlssession_t *t, lvpn__ctlmsg_t kind,
                          const char *text, unsigned timeout_s) {
  lvpn_client_t *c = t->cbs.ud;
  if (kind == LVPN__CTL_AUTH_PENDING) {
    snprintf(c->pending_kw, sizeof(c->pending_kw), "%s", text);
    c->pending_timeout_s = timeout_s;
    lvpn__client_event(c, LVPN_EVENT_AUTH_PENDING, 0);
    return;
  }
  snprintf(c->info, sizeof(c->info), "%s", text);
  lvpn__client_event(c, LVPN_EVENT_INFO, 0);
}
