/* tlssession: the top of the control path. Runs the TLS client (tls_engine)
 * over the control channel's byte stream, then key-method 2, PUSH_REQUEST
 * (resent every 5 s) and the control messages: PUSH_REPLY (with
 * push-continuation) is parsed into lvpn__push_t and handed to the owner;
 * AUTH_FAILED, HALT, RESTART and EXIT end the session with their own error.
 * hand-window bounds the whole exchange. */
#ifndef LVPN_LAYERS_TLSSESSION_TLSSESSION_H
#define LVPN_LAYERS_TLSSESSION_TLSSESSION_H

#include "layers/tlssession/keymethod.h"
#include "layers/layer.h"
#include "layers/tlssession/push.h"
#include "layers/tlssession/push_update.h"
#include "layers/packetmuxer/session.h"
#include "layers/tlssession/engine.h"

typedef struct lvpn__tlssession_s lvpn__tlssession_t;

typedef struct lvpn__tlssession_cbs_s {
  /* PUSH_REPLY complete (all continuations). `push` is lent for the call. */
  void (*on_push)(lvpn__tlssession_t *t, const lvpn__push_t *push);
  /* A renegotiation (soft reset) finished: data keys for `key_id` can be
   * derived with lvpn__tlssession_key2(). May be NULL. */
  void (*on_rekey)(lvpn__tlssession_t *t, uint8_t key_id);
  /* A later PUSH_REPLY renewed the auth-token (`push` lent for the call,
   * only its auth-token fields matter). May be NULL. */
  void (*on_token)(lvpn__tlssession_t *t, const lvpn__push_t *push);
  /* A PUSH_UPDATE sequence is complete: `push` (lent) is the session's
   * options as updated, `changed` the LVPN__PU_* kinds it touched. A
   * non-updatable option fails the layer with LVPN_EPROTO instead (2.7
   * restarts). May be NULL: updates are then ignored. */
  void (*on_push_update)(lvpn__tlssession_t *t, const lvpn__push_t *push,
                         unsigned changed);
  /* AUTH_PENDING (`timeout_s`: the wait now allowed), INFO or INFO_PRE;
   * `text` (lent) is what follows the keyword's comma. May be NULL. */
  void (*on_info)(lvpn__tlssession_t *t, lvpn__ctlmsg_t kind, const char *text,
                  unsigned timeout_s);
  /* The first handshake waits for the server, its flight out: `stage` 1
   * after the ClientHello, 2 after our Finished, 3 after our first
   * PUSH_REQUEST (not when the PUSH_REPLY is already in). Start-up work the
   * tunnel needs later fits here (called once per stage, once what was
   * sent is on the wire). May be NULL. */
  void (*on_wait)(lvpn__tlssession_t *t, int stage);
  void *ud;
} lvpn__tlssession_cbs_t;

enum {
  LVPN__TLSS_WAIT_RESET = 0, /* our reset sent, waiting for the server's */
  LVPN__TLSS_HANDSHAKE,      /* TLS handshake running */
  LVPN__TLSS_KM2_SENT,       /* our key-method-2 sent, waiting for theirs */
  LVPN__TLSS_ACTIVE,         /* key exchange done; PUSH_REQUEST sent */
  LVPN__TLSS_PUSHED          /* PUSH_REPLY received */
};

struct lvpn__tlssession_s {
  lvpn__layer_t base;
  lvpn__session_t *session;
  lvpn__pbuf_pool_t *pool;
  lvpn__tls_conf_t *conf;
  lvpn__tls_session_t tls;
  int tls_live;
  int state;
  int reneg;               /* the running handshake is a renegotiation */
  int restart_next;        /* RESTART,[N]: the server asks for the next remote */
  int hs_traced;           /* TLS handshake state last traced */
  int km2_early;           /* key-method-2 went with our Finished (False Start) */
  char auth_failed[512];   /* AUTH_FAILED's reason (after "AUTH_FAILED,") */
  uint8_t key_id;          /* key state of the current TLS session */
  int (*rng)(void *, unsigned char *, size_t); /* new randoms per key */
  void *rng_ctx;
  uint64_t renegotiations;
  lvpn__km2_client_t km2;    /* our randoms and strings */
  lvpn__km2_server_t km2_srv;
  lvpn__push_t push;
  lvpn__push_update_t push_update; /* a PUSH_UPDATE sequence in progress */
  uint64_t push_updates;           /* complete PUSH_UPDATE sequences */
  lvpn__tlssession_cbs_t cbs;
  uv_timer_t push_timer;   /* PUSH_REQUEST resend */
  uv_timer_t hand_timer;   /* hand-window */
  uv_timer_t wait_timer;   /* on_wait, and the conf's lvpn__tls_conf_warm */
  uv_idle_t wait_idle;     /* the second wait's on_wait runs once our */
  uv_check_t wait_check;   /* key-method-2 is on the wire (tlss_wait_cb) */
  uv_timer_t stall_timer;  /* nothing new from the server (stall_ms) */
  /* UDP's first handshake: after this long without new handshake data
   * from the server, the session fails with LVPN_EHANDSHAKE_STALL and the
   * client starts over. Until the key exchange only, and not once our
   * key-method-2 carried a username or password. 0: never. */
  uint64_t stall_ms;
  int km2_secret_sent; /* our key-method-2 carried a username or password */
  int wait_stage;          /* the last stage it ran for */
  uint64_t hand_window_ms;
  /* AUTH_PENDING: the longest wait a server may ask for (2.7: the larger
   * of hand-window and reneg-sec / 2); 0: hand-window. */
  uint64_t pending_max_ms;
  int auth_pending; /* AUTH_PENDING received; waiting for PUSH_REPLY */
  uint64_t pending_since_ms; /* the first AUTH_PENDING: the wait's start */
  uint64_t started_ms;
  uint64_t push_requests, ctl_msgs_in, ctl_msgs_out, ctl_msgs_bad;
  uint64_t ctl_msgs_oversize; /* longer than one 2048-byte read: dropped */
  int ctl_skip;               /* dropping the rest of an oversized message */
  unsigned push_parts;        /* PUSH_REPLY parts received (continuations) */
  uint64_t soft_resets_ignored; /* soft resets while not up: counted */
  uint8_t reneg_logged_key;     /* key_id the last such log line was for */
  /* AUTH_FAILED,TEMP: the session failed with LVPN_EAUTH_FAIL_TEMP and the
   * client restarts after this back-off (0: its own) and advance. */
  unsigned auth_temp_backoff_s;
  int auth_temp_advance;
  uint64_t handshake_ms;   /* reset sent -> PUSH_REPLY, for observability */
};

/* `km2` holds the prepared options string, user/pass and peer-info; its
 * randoms are generated here. `conf` is shared with the owner. */
int lvpn__tlssession_init(lvpn__tlssession_t *t, uv_loop_t *loop,
                          lvpn__session_t *session, lvpn__pbuf_pool_t *pool,
                          lvpn__tls_conf_t *conf, const lvpn__km2_client_t *km2,
                          unsigned hand_window_s,
                          const lvpn__tlssession_cbs_t *cbs,
                          const lvpn__logger_t *log);
/* The RNG for key-method-2 randoms of renegotiations. */
void lvpn__tlssession_set_rng(lvpn__tlssession_t *t,
                              int (*rng)(void *, unsigned char *, size_t),
                              void *rng_ctx);
/* Send one control message ("EXIT", ...) as its own TLS record. */
int lvpn__tlssession_send_ctlmsg(lvpn__tlssession_t *t, const char *msg);
/* The 256-byte key2 for the data channel: TLS-EKM when `ekm`, else the
 * OpenVPN PRF over the key-method-2 randoms and the session ids. */
int lvpn__tlssession_key2(lvpn__tlssession_t *t, int ekm, uint8_t key2[256]);
/* RFC 5705 keying material of this TLS session for `label` (no context),
 * e.g. the dynamic tls-crypt key. Returns 0, LVPN_ESTATE (no session yet),
 * LVPN_EUNSUPPORTED or LVPN_ECRYPTO. */
int lvpn__tlssession_ekm(lvpn__tlssession_t *t, const char *label,
                         uint8_t *out, size_t out_len);

#endif
