#include "layers/tlssession/tlssession.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "layers/packetmuxer/wire.h"
#include "layers/datachannel/kdf.h"
#include "lib/redact.h"

#define PUSH_REQUEST_INTERVAL_MS 5000

/* Every state change goes through here: the controlchannel reads whether
 * a soft reset would be taken (session.h, tls_busy). */
static void tlss_set_state(lvpn__tlssession_t *t, int state) {
  t->state = state;
  t->session->tls_busy = state < LVPN__TLSS_PUSHED;
}

/* mbedTLS 2.28's handshake states (mbedtls_ssl_states), for the trace. */

static const char *const hs_names[] = {"HELLO_REQUEST",
                                       "CLIENT_HELLO",
                                       "SERVER_HELLO",
                                       "SERVER_CERTIFICATE",
                                       "SERVER_KEY_EXCHANGE",
                                       "CERTIFICATE_REQUEST",
                                       "SERVER_HELLO_DONE",
                                       "CLIENT_CERTIFICATE",
                                       "CLIENT_KEY_EXCHANGE",
                                       "CERTIFICATE_VERIFY",
                                       "CLIENT_CHANGE_CIPHER_SPEC",
                                       "CLIENT_FINISHED",
                                       "SERVER_CHANGE_CIPHER_SPEC",
                                       "SERVER_FINISHED",
                                       "FLUSH_BUFFERS",
                                       "HANDSHAKE_WRAPUP",
                                       "HANDSHAKE_OVER",
                                       "SERVER_NEW_SESSION_TICKET",
                                       "SERVER_HELLO_VERIFY_REQUEST_SENT"};

/* Traces the TLS handshake state when it moved (mbedTLS may pass several
 * states in one step: the trace shows where each step stopped). */
static void tlss_trace_hs(lvpn__tlssession_t *t) {
  int st = t->tls.ssl.state;
  if (st == t->hs_traced)
    return;
  t->hs_traced = st;
  LVPN__TRACE(t->base.trace, t->base.name, "tls_state", "next=%s key_id=%u",
              st >= 0 && st < (int)(sizeof(hs_names) / sizeof(hs_names[0]))
                  ? hs_names[st]
                  : "UNKNOWN",
              t->key_id);
}

static void tlss_fail(lvpn__tlssession_t *t, int err, const char *what) {
  LVPN__TRACE(t->base.trace, t->base.name, "error", "what=%s error=%s", what,
              lvpn_err_name(err));
  LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name, "%s: %s", what,
            lvpn_strerror(err));
  lvpn__layer_fail(&t->base, err);
}

/* Moves TLS ciphertext produced by the engine down to the control channel. */
static int tlss_flush_output(lvpn__tlssession_t *t) {
  while (lvpn__tls_pending_output(&t->tls) > 0) {
    lvpn__pbuf_t *p = lvpn__pbuf_alloc(t->pool);
    size_t room, n;
    if (p == NULL)
      return LVPN_ENOMEM;
    room = lvpn__pbuf_tailroom(p);
    n = lvpn__tls_take_output(&t->tls, p->data, room);
    p->len = n;
    lvpn__layer_send_down(&t->base, p);
  }
  return 0;
}

static int tlss_write_record(lvpn__tlssession_t *t, const uint8_t *buf,
                             size_t len) {
  int err = lvpn__tls_write(&t->tls, buf, len);
  if (err < 0)
    return err;
  return tlss_flush_output(t);
}

int lvpn__tlssession_send_ctlmsg(lvpn__tlssession_t *t, const char *msg) {
  if (t->state < LVPN__TLSS_ACTIVE || !lvpn__layer_running(&t->base))
    return LVPN_ESTATE;
  t->ctl_msgs_out++;
  LVPN__TRACE_CTLMSG(t->base.trace, t->base.name, "control_out", msg,
                     strlen(msg));
  /* a challenge answer (a one-time code, say) is a secret: never logged */
  LVPN__LOG(t->base.log, LVPN_LOG_VERBOSE, t->base.name, "SENT CONTROL: '%s'",
            strncmp(msg, "CR_RESPONSE,", 12) == 0 ? "CR_RESPONSE,[not logged]"
                                                  : msg);
  /* Control messages go with their terminating NUL (§4.1). */
  return tlss_write_record(t, (const uint8_t *)msg, strlen(msg) + 1);
}

static void tlss_push_timer_cb(uv_timer_t *h) {
  lvpn__tlssession_t *t = container_of(h, lvpn__tlssession_t, push_timer);
  int err;
  if (t->state != LVPN__TLSS_ACTIVE)
    return;
  t->push_requests++;
  err = lvpn__tlssession_send_ctlmsg(t, "PUSH_REQUEST");
  if (err != 0)
    tlss_fail(t, err, "cannot send PUSH_REQUEST");
}

/* Where a stalled handshake may start over (see stall_ms): the first
 * handshake, between the server's reset and the key exchange, while our
 * key-method-2 has carried no username or password. */
static int tlss_may_start_over(const lvpn__tlssession_t *t) {
  return t->stall_ms != 0 && !t->reneg && t->state >= LVPN__TLSS_HANDSHAKE &&
         t->state < LVPN__TLSS_ACTIVE && !t->km2_secret_sent &&
         lvpn__layer_running(&t->base);
}

/* The server's retransmission timer doubles on every loss (2, 4, 8, 16 s,
 * at a resolution of one second), and nothing a client sends makes it
 * resend the last packet of a flight sooner. Lost three times in a row,
 * that packet leaves 8 s of silence with the next try 6 s away and the one
 * after that 16 s further. A new session on a fresh socket restarts the
 * server's timers at 2 s, and under the same loss completes sooner. */
static void tlss_stall_cb(uv_timer_t *h) {
  lvpn__tlssession_t *t = container_of(h, lvpn__tlssession_t, stall_timer);
  char what[96];
  if (!tlss_may_start_over(t))
    return;
  snprintf(what, sizeof(what),
           "no new handshake data from the server for %llu ms",
           (unsigned long long)t->stall_ms);
  tlss_fail(t, LVPN_EHANDSHAKE_STALL, what);
}

/* (Re)arms the stall timer after progress, or stops it where a new
 * session must not be started. */
static void tlss_stall_arm(lvpn__tlssession_t *t) {
  if (tlss_may_start_over(t))
    uv_timer_start(&t->stall_timer, tlss_stall_cb, t->stall_ms, 0);
  else
    uv_timer_stop(&t->stall_timer);
}

static void tlss_hand_timer_cb(uv_timer_t *h) {
  lvpn__tlssession_t *t = container_of(h, lvpn__tlssession_t, hand_timer);
  if (t->state >= LVPN__TLSS_PUSHED)
    return;
  if (t->state == LVPN__TLSS_ACTIVE && t->auth_pending)
    tlss_fail(t, LVPN_EPUSH_TIMEOUT,
              "authentication still pending when the AUTH_PENDING timeout "
              "ran out");
  else if (t->state == LVPN__TLSS_ACTIVE)
    tlss_fail(t, LVPN_EPUSH_TIMEOUT, "no PUSH_REPLY within hand-window");
  else if (t->reneg)
    tlss_fail(t, LVPN_EHANDSHAKE_TIMEOUT,
              "renegotiation did not finish within hand-window");
  else
    tlss_fail(t, LVPN_EHANDSHAKE_TIMEOUT,
              "TLS key negotiation failed to occur within hand-window "
              "(check your network connectivity)");
}

static void tlss_push_warn(void *ud, const char *opt, const char *why) {
  lvpn__tlssession_t *t = ud;
  if (why != NULL)
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "ignoring pushed option '%s': %s", opt, why);
  else
    LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
              "ignoring unknown pushed option '%s'", opt);
}

static void tlss_on_push_reply(lvpn__tlssession_t *t, const char *msg,
                               size_t len) {
  int rc;

  if (t->state == LVPN__TLSS_PUSHED) {
    /* After a renegotiation the server renews the auth-token in a PUSH_REPLY
     * of its own; everything else in a repeated PUSH_REPLY is ignored. */
    lvpn__push_t upd;
    lvpn__push_init(&upd);
    if (lvpn__push_parse(&upd, msg, len, NULL, NULL) == 0 &&
        upd.auth_token != NULL && t->cbs.on_token != NULL) {
      t->cbs.on_token(t, &upd);
    } else {
      LVPN__LOG(t->base.log, LVPN_LOG_VERBOSE, t->base.name,
                "ignoring repeated PUSH_REPLY");
    }
    lvpn__push_free(&upd);
    return;
  }
  if (++t->push_parts > LVPN__PUSH_MAX_PARTS) {
    /* a server that never ends its push-continuation */
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "PUSH_REPLY: more than %d push-continuation parts",
              LVPN__PUSH_MAX_PARTS);
    tlss_fail(t, LVPN_EPUSH, "bad PUSH_REPLY");
    return;
  }
  rc = lvpn__push_parse(&t->push, msg, len, tlss_push_warn, t);
  if (rc < 0) {
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name, "%s", t->push.err);
    tlss_fail(t, rc, "bad PUSH_REPLY");
    return;
  }
  if (rc > 0) {
    LVPN__TRACE(t->base.trace, t->base.name, "push_continuation", "options=%d",
                t->push.n_options);
    return; /* push-continuation 2: more to come */
  }
  tlss_set_state(t, LVPN__TLSS_PUSHED);
  t->auth_pending = 0;
  uv_timer_stop(&t->push_timer);
  uv_timer_stop(&t->hand_timer);
  t->handshake_ms = uv_now(t->base.loop) - t->started_ms;
  LVPN__TRACE(t->base.trace, t->base.name, "push_reply",
              "options=%d after_ms=%llu", t->push.n_options,
              (unsigned long long)t->handshake_ms);
  LVPN__TRACE_STATE(t->base.trace, t->base.name, LVPN__STAGE_ACTIVE);
  if (t->cbs.on_push != NULL)
    t->cbs.on_push(t, &t->push);
}

/* PUSH_UPDATE (2.7): only once connected (also while a renegotiation
 * runs), as 2.7 sends it; applied to a copy of the pushed options that
 * replaces them when the sequence ends. */
static void tlss_on_push_update(lvpn__tlssession_t *t, const char *msg,
                                size_t len) {
  lvpn__push_update_t *u = &t->push_update;
  int rc;

  if ((t->state != LVPN__TLSS_PUSHED && !t->reneg) ||
      t->cbs.on_push_update == NULL) {
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "ignoring PUSH_UPDATE before the session is up");
    return;
  }
  rc = lvpn__push_update_parse(u, &t->push, msg, len, tlss_push_warn, t);
  if (rc < 0) {
    t->ctl_msgs_bad++;
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name, "%s", u->err);
    LVPN__TRACE(t->base.trace, t->base.name, "push_update_error",
                "not_updatable=%d", u->not_updatable);
    if (u->not_updatable) /* 2.7: "Offending option received from server" */
      tlss_fail(t, LVPN_EPROTO,
                "the server pushed an option that cannot be updated: "
                "reconnecting, as OpenVPN 2.7 does");
    else
      LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
                "PUSH_UPDATE not applied; the session keeps its options");
    return;
  }
  if (rc > 0) {
    LVPN__TRACE(t->base.trace, t->base.name, "push_update_continuation",
                "set=%d removed=%d", u->n_set, u->n_removed);
    return;
  }
  {
    unsigned changed = u->changed;
    int n_set = u->n_set, n_removed = u->n_removed, n_skipped = u->n_skipped;
    lvpn__push_update_commit(u, &t->push);
    t->push_updates++;
    LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
              "PUSH_UPDATE: %d option(s) set, %d removed, %d skipped",
              n_set, n_removed, n_skipped);
    LVPN__TRACE(t->base.trace, t->base.name, "push_update",
                "set=%d removed=%d skipped=%d changed=%u", n_set, n_removed,
                n_skipped, changed);
    if (changed == 0)
      LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
                "No updatable options found in incoming PUSH_UPDATE message");
    else
      t->cbs.on_push_update(t, &t->push, changed);
  }
}

static void tlss_on_ctlmsg(void *ud, const char *msg, size_t len) {
  lvpn__tlssession_t *t = ud;
  const char *arg = "";
  char *shown;
  lvpn__ctlmsg_t kind;

  if (!lvpn__layer_running(&t->base))
    return;
  t->ctl_msgs_in++;
  LVPN__TRACE_CTLMSG(t->base.trace, t->base.name, "control_in", msg, len);
  kind = lvpn__ctlmsg_classify(msg, &arg);
  /* Pushed options are shown at the default verbosity, like OpenVPN's
   * "PUSH: Received control message", auth-tokens masked. */
  shown = malloc(len + 1);
  if (shown != NULL) {
    memcpy(shown, msg, len + 1);
    lvpn__redact_mask(shown, len);
  }
  LVPN__LOG(t->base.log,
            kind == LVPN__CTL_PUSH_REPLY || kind == LVPN__CTL_PUSH_UPDATE
                ? LVPN_LOG_INFO
                : LVPN_LOG_VERBOSE,
            t->base.name, "PUSH: Received control message: '%.*s'",
            shown != NULL ? (int)len : 0, shown != NULL ? shown : "");
  free(shown);
  switch (kind) {
  case LVPN__CTL_PUSH_REPLY:
    tlss_on_push_reply(t, msg, len);
    break;
  case LVPN__CTL_PUSH_UPDATE:
    tlss_on_push_update(t, msg, len);
    break;
  case LVPN__CTL_AUTH_FAILED: {
    lvpn__auth_temp_t temp;
    if (lvpn__ctlmsg_auth_temp(arg, &temp)) {
      /* Temporary (pool exhausted, backend down): reconnect later. */
      static const char *const adv[] = {"no", "addr", "remote"};
      t->auth_temp_backoff_s = temp.backoff_s;
      t->auth_temp_advance = temp.advance;
      if (temp.unknown > 0)
        LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
                  "AUTH_FAILED,TEMP: %d unknown or malformed keyword(s) "
                  "ignored",
                  temp.unknown);
      LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
                "AUTH_FAILED,TEMP (backoff %u s, advance %s)%s%s",
                temp.backoff_s, adv[temp.advance], *temp.reason ? ": " : "",
                temp.reason);
      lvpn__layer_fail(&t->base, LVPN_EAUTH_FAIL_TEMP);
      break;
    }
    LVPN__LOG(t->base.log, LVPN_LOG_FATAL, t->base.name, "AUTH_FAILED%s%s",
              *arg ? ": " : "", arg);
    snprintf(t->auth_failed, sizeof(t->auth_failed), "%s", arg);
    lvpn__layer_fail(&t->base, LVPN_EAUTH_FAILED);
    break;
  }
  case LVPN__CTL_HALT:
    LVPN__LOG(t->base.log, LVPN_LOG_FATAL, t->base.name, "server sent HALT%s%s",
              *arg ? ": " : "", arg);
    lvpn__layer_fail(&t->base, LVPN_EHALT);
    break;
  case LVPN__CTL_RESTART:
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "server sent RESTART%s%s", *arg ? ": " : "", arg);
    /* Flags in brackets (OpenVPN's server_pushed_signal): N = move on to
     * the next remote; P (keep cached passwords) concerns no state of ours. */
    if (arg[0] == '[') {
      const char *f;
      for (f = arg + 1; *f != '\0' && *f != ']'; f++)
        if (*f == 'N')
          t->restart_next = 1;
    }
    lvpn__layer_fail(&t->base, LVPN_ERESTART);
    break;
  case LVPN__CTL_EXIT:
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "server sent EXIT (it is shutting down)");
    lvpn__layer_fail(&t->base, LVPN_EEXIT_NOTIFY);
    break;
  case LVPN__CTL_AUTH_PENDING: {
    /* The server's authentication takes longer (SSO, 2FA): wait for
     * PUSH_REPLY as long as it asks ("timeout N", IV_PROTO bit 4), else a
     * further hand-window; capped as 2.7 does. */
    int to = lvpn__ctlmsg_pending_timeout(arg);
    uint64_t cap = t->pending_max_ms > t->hand_window_ms ? t->pending_max_ms
                                                          : t->hand_window_ms;
    uint64_t ms = to >= 0 ? (uint64_t)to * 1000 : t->hand_window_ms;
    uint64_t now = uv_now(t->base.loop), left;
    if (ms > cap)
      ms = cap;
    if (t->state == LVPN__TLSS_ACTIVE) {
      /* Counted from the first AUTH_PENDING (2.7: from the key exchange),
       * so that repeated ones cannot stretch the wait without end. */
      if (!t->auth_pending)
        t->pending_since_ms = now;
      t->auth_pending = 1;
      left = t->pending_since_ms + ms > now ? t->pending_since_ms + ms - now
                                            : 0;
      uv_timer_start(&t->hand_timer, tlss_hand_timer_cb, left, 0);
    }
    LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
              "AUTH_PENDING: authentication pending, waiting up to %llu s "
              "for the server%s%s%s",
              (unsigned long long)(ms / 1000), *arg ? " (" : "", arg,
              *arg ? ")" : "");
    LVPN__TRACE(t->base.trace, t->base.name, "auth_pending", "timeout_s=%llu",
                (unsigned long long)(ms / 1000));
    if (t->cbs.on_info != NULL)
      t->cbs.on_info(t, kind, arg, (unsigned)(ms / 1000));
    break;
  }
  case LVPN__CTL_INFO:
  case LVPN__CTL_INFO_PRE:
    LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name, "%s: %s",
              kind == LVPN__CTL_INFO ? "INFO" : "INFO_PRE", arg);
    if (t->cbs.on_info != NULL)
      t->cbs.on_info(t, kind, arg, 0);
    break;
  default:
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "unknown control message ignored: '%.*s'", (int)len, msg);
  }
}

/* Our key-method-2 message: after the handshake, or `early`, with our
 * Finished (TLS False Start), saving the server a round trip: OpenVPN's
 * server reads it as soon as its own Finished is out, as it does from a
 * TLS 1.3 client. */
static int tlss_send_km2(lvpn__tlssession_t *t, int early) {
  uint8_t buf[2048];
  size_t len = 0;
  int err;
  if (t->km2.forget_password != NULL && *t->km2.forget_password == NULL &&
      t->km2.username != NULL)
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "auth-nocache: the password was forgotten after its first use; "
              "sending none (the server must accept the session without it)");
  err = lvpn__km2_build(buf, sizeof(buf), &len, &t->km2);
  if (err == 0 && early)
    err = lvpn__tls_write_early(&t->tls, buf, len);
  if (err == 0)
    err = early ? tlss_flush_output(t) : tlss_write_record(t, buf, len);
  mbedtls_platform_zeroize(buf, sizeof(buf));
  LVPN__TRACE(t->base.trace, t->base.name, "key_method_2_out",
              "key_id=%u bytes=%zu options=%s peer_info=%s username=%s "
              "password=%s false_start=%d",
              t->key_id, len, t->km2.options, t->km2.peer_info,
              t->km2.username ? "present" : "absent",
              t->km2.password ? "present" : "absent", early);
  LVPN__TRACE_STATE(t->base.trace, t->base.name, LVPN__STAGE_SENT_KEY);
  if (t->km2.username != NULL || t->km2.password != NULL)
    t->km2_secret_sent = 1;
  if (err == 0 && lvpn__km2_forget_password(&t->km2))
    LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
              "auth-nocache: password sent and forgotten");
  return err;
}

/* Hands the control messages of one read to tlss_on_ctlmsg. A message
 * that fills the whole read without its NUL is longer than OpenVPN's
 * TLS_CHANNEL_BUF_SIZE (2048 with the NUL): it is dropped whole, its rest
 * up to the NUL in the next reads included, and counted. */
static void tlss_split_ctlmsgs(lvpn__tlssession_t *t, uint8_t *buf, size_t n,
                               size_t cap) {
  /* the read filled the buffer and ends inside a message: it goes on */
  int full = n == cap && buf[n - 1] != 0;
  uint8_t *p = buf;
  int bad;

  if (t->ctl_skip) {
    uint8_t *nul = memchr(p, 0, n);
    if (nul == NULL)
      return; /* still inside the oversized message */
    n -= (size_t)(nul + 1 - p);
    p = nul + 1;
    t->ctl_skip = 0;
  }
  if (full) {
    uint8_t *last = n > 0 ? memrchr(p, 0, n) : NULL;
    t->ctl_msgs_oversize++;
    t->ctl_skip = 1;
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "dropped a control message longer than %zu bytes", cap - 1);
    n = last != NULL ? (size_t)(last + 1 - p) : 0;
  }
  if (n == 0)
    return;
  bad = lvpn__ctlmsg_split(p, n, tlss_on_ctlmsg, t);
  if (bad > 0) {
    t->ctl_msgs_bad += (uint64_t)bad;
    LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
              "dropped %d control message(s): unterminated or with "
              "non-printable characters",
              bad);
  }
}

static void tlss_wait_idle_cb(uv_idle_t *h) { (void)h; }
static void tlss_wait_check_cb(uv_check_t *h);

/* tlss_wait_check_cb in this turn's check phase, after what this turn
 * sent was flushed; the idle handle keeps the poll in between from
 * blocking. */
static void tlss_wait_in_check(lvpn__tlssession_t *t) {
  uv_idle_start(&t->wait_idle, tlss_wait_idle_cb);
  uv_check_start(&t->wait_check, tlss_wait_check_cb);
}

/* Our first PUSH_REQUEST is written (from the layers' idle-phase drain,
 * which takes it down the stack in this turn): the wait for the PUSH_REPLY,
 * stage 3, is this turn's check phase, after the UDP flush and a poll that
 * the idle handle keeps from blocking. */
static void tlss_arm_push_wait(lvpn__tlssession_t *t) {
  if (t->reneg || t->wait_stage >= 3 ||
      uv_is_active((const uv_handle_t *)&t->wait_timer) ||
      uv_is_active((const uv_handle_t *)&t->wait_check))
    return;
  t->wait_stage = 3;
  tlss_wait_in_check(t);
}

/* Reads every complete TLS record available. */
static void tlss_read_records(lvpn__tlssession_t *t) {
  uint8_t buf[2048 + 1];
  int n = 0, err;

  while (lvpn__layer_running(&t->base) &&
         (n = lvpn__tls_read(&t->tls, buf, sizeof(buf) - 1)) > 0) {
    if (t->state == LVPN__TLSS_KM2_SENT) {
      err = lvpn__km2_parse_server(buf, (size_t)n, &t->km2_srv);
      mbedtls_platform_zeroize(buf, sizeof(buf));
      if (err != 0) {
        tlss_fail(t, err, "bad key-method-2 reply from the server");
        return;
      }
      LVPN__TRACE(t->base.trace, t->base.name, "key_method_2_in",
                  "key_id=%u bytes=%d options=%s", t->key_id, n,
                  t->km2_srv.options);
      LVPN__TRACE_STATE(t->base.trace, t->base.name, LVPN__STAGE_GOT_KEY);
      if (t->reneg) {
        /* Renegotiated: no PUSH_REQUEST, same options, new keys. */
        tlss_set_state(t, LVPN__TLSS_PUSHED);
        t->renegotiations++;
        uv_timer_stop(&t->hand_timer);
        LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
                  "renegotiation complete: key_id %u", t->key_id);
        LVPN__TRACE(t->base.trace, t->base.name, "renegotiation_done",
                    "key_id=%u", t->key_id);
        LVPN__TRACE_STATE(t->base.trace, t->base.name, LVPN__STAGE_ACTIVE);
        if (t->cbs.on_rekey != NULL)
          t->cbs.on_rekey(t, t->key_id);
        continue;
      }
      tlss_set_state(t, LVPN__TLSS_ACTIVE);
      LVPN__LOG(t->base.log, LVPN_LOG_DEBUG, t->base.name,
                "key method 2 exchange complete, sending PUSH_REQUEST");
      tlss_push_timer_cb(&t->push_timer);
      uv_timer_start(&t->push_timer, tlss_push_timer_cb,
                     PUSH_REQUEST_INTERVAL_MS, PUSH_REQUEST_INTERVAL_MS);
      tlss_arm_push_wait(t);
      continue;
    }
    if (t->state < LVPN__TLSS_ACTIVE)
      continue;
    tlss_split_ctlmsgs(t, buf, (size_t)n, sizeof(buf) - 1);
  }
  if (n < 0 && lvpn__layer_running(&t->base))
    tlss_fail(t, n, "TLS read error");
}

/* One NSS key log line for the host (lvpn_client_set_keylog), built on the
 * stack and zeroed after the call: the master secret never reaches the log
 * or the trace. */
static void tlss_keylog(lvpn__tlssession_t *t) {
  static const char hex[] = "0123456789abcdef";
  char line[sizeof("CLIENT_RANDOM ") + 64 + 1 + 96];
  uint8_t ms[48], cr[32], sr[32];
  int prf_type;
  size_t i, n;
  if (lvpn__tls_get_export(&t->tls, ms, cr, sr, &prf_type) != 0)
    return;
  n = (size_t)snprintf(line, sizeof(line), "CLIENT_RANDOM ");
  for (i = 0; i < sizeof(cr); i++) {
    line[n++] = hex[cr[i] >> 4];
    line[n++] = hex[cr[i] & 15];
  }
  line[n++] = ' ';
  for (i = 0; i < sizeof(ms); i++) {
    line[n++] = hex[ms[i] >> 4];
    line[n++] = hex[ms[i] & 15];
  }
  line[n] = '\0';
  t->base.trace->keylog(t->base.trace->keylog_ud, line);
  mbedtls_platform_zeroize(line, sizeof(line));
  mbedtls_platform_zeroize(ms, sizeof(ms));
}

/* The engine failed the handshake (a certificate rejected, a TLS error):
 * the alert it may have queued goes out, and the session ends. */
static void tlss_tls_failed(lvpn__tlssession_t *t, int err) {
  const char *detail = lvpn__tls_last_error(&t->tls);
  (void)tlss_flush_output(t);
  LVPN__LOG(t->base.log, LVPN_LOG_FATAL, t->base.name,
            "TLS handshake failed: %s%s%s", lvpn_strerror(err),
            detail && *detail ? ": " : "", detail ? detail : "");
  LVPN__TRACE(t->base.trace, t->base.name, "error",
              "what=%s error=%s detail=%s", "TLS handshake",
              lvpn_err_name(err), detail);
  lvpn__layer_fail(&t->base, err);
}

/* Our second flight is out: the server's certificate chain is checked now,
 * while the server checks ours (lvpn__tls_verify_peer), and then our
 * key-method-2 goes with TLS False Start. 0, or the session failed. */
static int tlss_check_server(lvpn__tlssession_t *t) {
  unsigned long hits = lvpn__tls_conf_ahead_hits(t->conf);
  int err = lvpn__tls_verify_peer(&t->tls);
  if (err != 0) {
    tlss_tls_failed(t, err);
    return err;
  }
  LVPN__TRACE(t->base.trace, t->base.name, "chain_check", "ahead=%lu",
              lvpn__tls_conf_ahead_hits(t->conf) - hits);
  if (!t->km2_early && lvpn__tls_false_start_ok(&t->tls)) {
    t->km2_early = 1;
    if ((err = tlss_send_km2(t, 1)) != 0) {
      tlss_fail(t, err, "cannot send key-method-2 message");
      return err;
    }
    tlss_stall_arm(t); /* stopped if it carried credentials */
  }
  return 0;
}

static void tlss_wait_cb(uv_timer_t *h);

/* The work a wait did, traced with its CPU's wall time: the wait pays
 * off only while the work ends before the server's answer is read. */
static void tlss_trace_wait_done(lvpn__tlssession_t *t, int stage,
                                 uint64_t t0) {
  if (t->base.trace->on)
    LVPN__TRACE(t->base.trace, t->base.name, "wait_done", "stage=%d us=%lu",
                stage, (unsigned long)((uv_hrtime() - t0) / 1000));
}

/* Input waits in a layer below (its wake handle is on): the server's
 * answer came in this turn's poll, before the check phase. */
static int tlss_input_below(const lvpn__tlssession_t *t) {
  const lvpn__layer_t *l;
  for (l = t->base.below; l != NULL; l = l->below)
    if (uv_is_active((const uv_handle_t *)&l->wake))
      return 1;
  return 0;
}

/* The check phase after a turn that put our reset (stage 0), our
 * key-method-2 (stage 2) or our PUSH_REQUEST (stage 3) on the wire. */
static void tlss_wait_check_cb(uv_check_t *h) {
  lvpn__tlssession_t *t = container_of(h, lvpn__tlssession_t, wait_check);
  uv_check_stop(&t->wait_check);
  uv_idle_stop(&t->wait_idle);
  /* the server's reset came back first (handled, or waiting below): the
   * key check goes to stage 1 rather than hold the reset up */
  if (t->wait_stage == 0 && !tlss_input_below(t))
    tlss_wait_cb(&t->wait_timer);
  else if (t->wait_stage == 2 && lvpn__layer_running(&t->base) &&
           t->cbs.on_wait != NULL) {
    uint64_t t0 = uv_hrtime();
    t->cbs.on_wait(t, 2);
    tlss_trace_wait_done(t, 2, t0);
  }
  /* the PUSH_REPLY here already (pushed with the server's key-method-2,
   * or in this turn's poll): the owner's work is done on the way instead
   * of holding it up */
  else if (t->wait_stage == 3 && t->state == LVPN__TLSS_ACTIVE &&
           !tlss_input_below(t) && lvpn__layer_running(&t->base)) {
    uint64_t t0 = uv_hrtime();
    LVPN__TRACE(t->base.trace, t->base.name, "wait", "stage=%d", 3);
    if (t->cbs.on_wait != NULL)
      t->cbs.on_wait(t, 3);
    tlss_trace_wait_done(t, 3, t0);
  }
}

/* The waits of the first handshake on the server: what the client and the
 * conf left for them (lvpn__tlssession_cbs_t.on_wait). A timer of 0 ms
 * runs in the next turn of the loop, after the layers below sent what this
 * turn produced, and before the server's answer is handled. */
static void tlss_wait_cb(uv_timer_t *h) {
  lvpn__tlssession_t *t = container_of(h, lvpn__tlssession_t, wait_timer);
  char err[256];
  uint64_t t0 = uv_hrtime();
  int rc;

  if (!lvpn__layer_running(&t->base) ||
      t->state != (t->wait_stage == 0 ? LVPN__TLSS_WAIT_RESET
                                      : LVPN__TLSS_HANDSHAKE))
    return;
  LVPN__TRACE(t->base.trace, t->base.name, "wait", "stage=%d", t->wait_stage);
  if (t->wait_stage == 2) {
    if (tlss_check_server(t) != 0)
      return;
    /* our key-method-2 reaches the wire in this turn (the layers' drains,
     * the UDP flush at its end), the owner's work after that: the check
     * phase, with an idle handle so that the poll in between cannot
     * block */
    tlss_wait_in_check(t);
    return;
  }
  if (t->wait_stage <= 1 && (rc = lvpn__tls_conf_warm(t->conf, err,
                                                      sizeof(err))) != 0) {
    LVPN__LOG(t->base.log, LVPN_LOG_FATAL, t->base.name, "%s", err);
    LVPN__TRACE(t->base.trace, t->base.name, "error", "what=%s error=%s",
                "key check", lvpn_err_name(rc));
    lvpn__layer_fail(&t->base, rc);
    return;
  }
  if (t->wait_stage > 0 && t->cbs.on_wait != NULL)
    t->cbs.on_wait(t, t->wait_stage);
  tlss_trace_wait_done(t, t->wait_stage, t0);
}

static void tlss_arm_wait(lvpn__tlssession_t *t) {
  int st = t->tls.ssl.state, stage;

  if (t->reneg)
    return;
  stage = st == MBEDTLS_SSL_SERVER_HELLO                 ? 1
          : st == MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC ? 2
                                                          : 0;
  if (stage > t->wait_stage) {
    t->wait_stage = stage;
    uv_timer_start(&t->wait_timer, tlss_wait_cb, 0, 0);
  }
}

/* Drives the engine after new input. */
static void tlss_pump(lvpn__tlssession_t *t) {
  int err;

  if (t->state == LVPN__TLSS_HANDSHAKE) {
    err = lvpn__tls_step(&t->tls);
    if (t->base.trace->on)
      tlss_trace_hs(t);
    if (err == 0)
      err = tlss_flush_output(t);
    if (err != 0) {
      tlss_tls_failed(t, err);
      return;
    }
    if (!lvpn__tls_handshake_done(&t->tls)) {
      /* our second flight is out: the first handshake checks the server's
       * chain in the wait that follows (tlss_wait_cb), a renegotiation,
       * which has no such wait, at once */
      if (t->tls.ssl.state == MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC &&
          (t->reneg || !lvpn__tls_verify_pending(&t->tls)) &&
          tlss_check_server(t) != 0)
        return;
      tlss_arm_wait(t);
      return;
    }
    LVPN__TRACE(t->base.trace, t->base.name, "tls_done",
                "key_id=%u version=%s ciphersuite=%s peer_cn=%s", t->key_id,
                lvpn__tls_version(&t->tls), lvpn__tls_ciphersuite(&t->tls),
                lvpn__tls_peer_cn(&t->tls));
    if (t->base.trace->keylog != NULL)
      tlss_keylog(t);
    tlss_set_state(t, LVPN__TLSS_KM2_SENT);
    err = t->km2_early ? 0 : tlss_send_km2(t, 0);
    if (err != 0) {
      tlss_fail(t, err, "cannot send key-method-2 message");
      return;
    }
  }
  if (t->state >= LVPN__TLSS_KM2_SENT)
    tlss_read_records(t);
}

/* A fresh TLS session (the previous one, if any, is done) and the
 * handshake state. */
static int tlss_new_session(lvpn__tlssession_t *t) {
  int err;
  if (t->tls_live) {
    lvpn__tls_free(&t->tls);
    t->tls_live = 0;
  }
  err = lvpn__tls_init(&t->tls, t->conf);
  if (err != 0)
    return err;
  if (t->rng != NULL) /* the conf may be shared with other clients */
    lvpn__tls_use(&t->tls, t->rng, t->rng_ctx, t->base.log);
  t->tls_live = 1;
  tlss_set_state(t, LVPN__TLSS_HANDSHAKE);
  t->hs_traced = -1;
  t->km2_early = 0;
  return 0;
}

/* A soft reset for `key_id` (from the server, or the answer to ours): a new
 * TLS session and key-method-2 exchange on the new key state (§8). */
static void tlss_renegotiate(lvpn__tlssession_t *t, uint8_t key_id) {
  int err;

  if (t->state < LVPN__TLSS_PUSHED) {
    /* logged once per key state, counted always: a server (or a spoofer,
     * without tls-auth) can send these at line rate */
    if (t->soft_resets_ignored++ == 0 || t->reneg_logged_key != t->key_id)
      LVPN__LOG(t->base.log, LVPN_LOG_ERROR, t->base.name,
                "soft reset for key_id %u while key_id %u is %s: ignored "
                "(further ones counted in tlssession.soft_resets_ignored)",
                key_id, t->key_id,
                t->reneg ? "still renegotiating" : "not up yet");
    t->reneg_logged_key = t->key_id;
    return;
  }
  LVPN__LOG(t->base.log, LVPN_LOG_INFO, t->base.name,
            "renegotiating: TLS handshake for key_id %u", key_id);
  err = t->rng != NULL
            ? lvpn__km2_client_randomize(&t->km2, t->rng, t->rng_ctx)
            : LVPN_ESTATE;
  if (err == 0)
    err = tlss_new_session(t);
  if (err != 0) {
    tlss_fail(t, err, "cannot start renegotiation");
    return;
  }
  t->reneg = 1;
  t->key_id = key_id;
  LVPN__TRACE(t->base.trace, t->base.name, "renegotiate", "key_id=%u", key_id);
  uv_timer_start(&t->hand_timer, tlss_hand_timer_cb, t->hand_window_ms, 0);
  tlss_pump(t);
}

static void tlss_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__tlssession_t *t = container_of(l, lvpn__tlssession_t, base);
  int err;

  if (p->meta.opcode == LVPN__P_CONTROL_HARD_RESET_SERVER_V2) {
    lvpn__pbuf_free(p);
    if (t->state != LVPN__TLSS_WAIT_RESET)
      return;
    err = tlss_new_session(t);
    if (err != 0) {
      tlss_fail(t, err, "cannot create TLS session");
      return;
    }
    LVPN__LOG(l->log, LVPN_LOG_DEBUG, l->name,
              "server reset received, starting TLS");
    LVPN__TRACE(l->trace, l->name, "tls_start", "key_id=%u", t->key_id);
    tlss_pump(t);
    tlss_stall_arm(t);
    return;
  }
  if (p->meta.opcode == LVPN__P_CONTROL_SOFT_RESET_V1) {
    uint8_t key_id = p->meta.key_id;
    lvpn__pbuf_free(p);
    tlss_renegotiate(t, key_id);
    return;
  }
  if (t->state == LVPN__TLSS_WAIT_RESET) {
    lvpn__layer_drop(l, p);
    return;
  }
  err = lvpn__tls_feed(&t->tls, p->data, p->len);
  lvpn__pbuf_free(p);
  if (err != 0) {
    tlss_fail(t, err, "TLS input");
    return;
  }
  tlss_pump(t);
  tlss_stall_arm(t);
}

static void tlss_down(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__layer_drop(l, p); /* nothing sits above the tlssession */
}

static int tlss_start(lvpn__layer_t *l) {
  lvpn__tlssession_t *t = container_of(l, lvpn__tlssession_t, base);
  t->started_ms = uv_now(l->loop);
  /* the layers below started first: our reset goes out in this turn (or
   * the remote's name or the TCP connection is on its way), and the
   * conf's start-up work (lvpn__tls_conf_warm) takes that wait, the first
   * one, in the check phase after it */
  if (t->conf->warm_pending) {
    tlss_wait_in_check(t);
  }
  return uv_timer_start(&t->hand_timer, tlss_hand_timer_cb, t->hand_window_ms,
                        0);
}

static void tlss_stop(lvpn__layer_t *l) {
  lvpn__tlssession_t *t = container_of(l, lvpn__tlssession_t, base);
  uv_timer_stop(&t->push_timer);
  uv_timer_stop(&t->hand_timer);
  uv_timer_stop(&t->wait_timer);
  uv_idle_stop(&t->wait_idle);
  uv_check_stop(&t->wait_check);
  uv_timer_stop(&t->stall_timer);
}

static void tlss_close(lvpn__layer_t *l) {
  lvpn__tlssession_t *t = container_of(l, lvpn__tlssession_t, base);
  if (t->tls_live) {
    lvpn__tls_free(&t->tls);
    t->tls_live = 0;
  }
  lvpn__push_free(&t->push);
  lvpn__push_update_free(&t->push_update);
  mbedtls_platform_zeroize(&t->km2, sizeof(t->km2));
  mbedtls_platform_zeroize(&t->km2_srv, sizeof(t->km2_srv));
  lvpn__layer_close_handle(l, (uv_handle_t *)&t->push_timer);
  lvpn__layer_close_handle(l, (uv_handle_t *)&t->hand_timer);
  lvpn__layer_close_handle(l, (uv_handle_t *)&t->wait_timer);
  lvpn__layer_close_handle(l, (uv_handle_t *)&t->wait_idle);
  lvpn__layer_close_handle(l, (uv_handle_t *)&t->wait_check);
  lvpn__layer_close_handle(l, (uv_handle_t *)&t->stall_timer);
}

static void tlss_counters(const lvpn__layer_t *l,
                          void (*cb)(void *, const char *, const char *,
                                     uint64_t),
                          void *ud) {
  const lvpn__tlssession_t *t =
      container_of(l, const lvpn__tlssession_t, base);
  cb(ud, l->name, "state", (uint64_t)t->state);
  cb(ud, l->name, "push_requests", t->push_requests);
  cb(ud, l->name, "push_updates", t->push_updates);
  cb(ud, l->name, "ctl_msgs_in", t->ctl_msgs_in);
  cb(ud, l->name, "ctl_msgs_out", t->ctl_msgs_out);
  cb(ud, l->name, "ctl_msgs_bad", t->ctl_msgs_bad);
  cb(ud, l->name, "ctl_msgs_oversize", t->ctl_msgs_oversize);
  cb(ud, l->name, "push_parts", t->push_parts);
  cb(ud, l->name, "soft_resets_ignored", t->soft_resets_ignored);
  cb(ud, l->name, "handshake_ms", t->handshake_ms);
  cb(ud, l->name, "renegotiations", t->renegotiations);
}

static const lvpn__layer_ops_t tlss_ops = {.start = tlss_start,
                                           .up = tlss_up,
                                           .down = tlss_down,
                                           .stop = tlss_stop,
                                           .close = tlss_close,
                                           .counters = tlss_counters};

int lvpn__tlssession_init(lvpn__tlssession_t *t, uv_loop_t *loop,
                          lvpn__session_t *session, lvpn__pbuf_pool_t *pool,
                          lvpn__tls_conf_t *conf, const lvpn__km2_client_t *km2,
                          unsigned hand_window_s,
                          const lvpn__tlssession_cbs_t *cbs,
                          const lvpn__logger_t *log) {
  memset(t, 0, sizeof(*t));
  lvpn__layer_init(&t->base, loop, "tlssession", &tlss_ops, log);
  uv_timer_init(loop, &t->push_timer);
  uv_timer_init(loop, &t->hand_timer);
  uv_timer_init(loop, &t->wait_timer);
  uv_idle_init(loop, &t->wait_idle);
  uv_check_init(loop, &t->wait_check);
  uv_timer_init(loop, &t->stall_timer);
  t->session = session;
  session->tls_busy = 1; /* WAIT_RESET */
  t->pool = pool;
  t->conf = conf;
  t->km2 = *km2;
  t->cbs = *cbs;
  t->hand_window_ms = (uint64_t)(hand_window_s ? hand_window_s : 60) * 1000;
  lvpn__push_init(&t->push);
  lvpn__push_update_init(&t->push_update);
  return 0;
}

void lvpn__tlssession_set_rng(lvpn__tlssession_t *t,
                              int (*rng)(void *, unsigned char *, size_t),
                              void *rng_ctx) {
  t->rng = rng;
  t->rng_ctx = rng_ctx;
}

int lvpn__tlssession_key2(lvpn__tlssession_t *t, int ekm, uint8_t key2[256]) {
  int err;
  if (t->state < LVPN__TLSS_ACTIVE || !t->tls_live)
    return LVPN_ESTATE;
  if (ekm) {
    uint8_t ms[48], cr[32], sr[32];
    int prf_type;
    err = lvpn__tls_get_export(&t->tls, ms, cr, sr, &prf_type);
    if (err == 0)
      err = lvpn__kdf_ekm(prf_type, ms, cr, sr, key2);
    mbedtls_platform_zeroize(ms, sizeof(ms));
    return err;
  }
  return lvpn__kdf_openvpn_prf(t->km2.pre_master, t->km2.random1,
                               t->km2_srv.random1, t->km2.random2,
                               t->km2_srv.random2, t->session->own_sid,
                               t->session->remote_sid, key2);
}

int lvpn__tlssession_ekm(lvpn__tlssession_t *t, const char *label,
                         uint8_t *out, size_t out_len) {
  uint8_t ms[48], cr[32], sr[32];
  int prf_type, err;
  if (t->state < LVPN__TLSS_ACTIVE || !t->tls_live)
    return LVPN_ESTATE;
  err = lvpn__tls_get_export(&t->tls, ms, cr, sr, &prf_type);
  if (err == 0)
    err = lvpn__kdf_ekm_label(prf_type, ms, cr, sr, label, out, out_len);
  mbedtls_platform_zeroize(ms, sizeof(ms));
  return err;
}
