/* OpenVPN's management protocol, loop-free: the command line reader, the
 * command interpreter and the formats of the real-time messages (>STATE:,
 * >LOG:, >BYTECOUNT:, >HOLD:, >PASSWORD:), as OpenVPN 2.6's manage.c
 * (management interface version 5).
 *
 * The session does no I/O: replies go to host->out(), actions that reach
 * beyond the protocol (signals, hold release, credentials, status data,
 * closing the connection) go through the other host callbacks. mgmt.c
 * puts it on sockets; tests/mgmt/check_proto.c drives it alone. */
#ifndef LVPN_MGMT_PROTO_H
#define LVPN_MGMT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LVPN__MGMT_VERSION 5
#define LVPN__MGMT_LINE_MAX 1024 /* bytes per command line, CRLF excluded */
#define LVPN__MGMT_CRED_MAX 256  /* username or password, as OpenVPN's */
#define LVPN__MGMT_ECHO_MAX 100  /* echo history, as OpenVPN's */
#define LVPN__MGMT_STATE_MAX 100 /* state history */

/* ---- line reader ---- */

/* Collects bytes into lines. A line longer than LVPN__MGMT_LINE_MAX is
 * discarded up to its newline and reported once. */
typedef struct {
  char buf[LVPN__MGMT_LINE_MAX + 1];
  size_t len;
  bool overflow;
} lvpn__mgmt_lines_t;

/* Consumes bytes from data[0..len) into *used. Returns 1 when a line is
 * complete (NUL-terminated in l->buf, CR and LF stripped; the next call
 * starts a new line), -1 when an overlong line ended (discarded), 0 when
 * all bytes were consumed without completing a line. */
int lvpn__mgmt_lines_feed(lvpn__mgmt_lines_t *l, const char *data, size_t len,
                          size_t *used);

/* ---- bounded history (state, log, echo) ---- */

typedef struct {
  char **lines; /* ring of `cap` strings, formatted without the >X: prefix */
  unsigned cap, n, head;
} lvpn__mgmt_hist_t;

/* ---- session ---- */

/* Status numbers for the `status` command (OpenVPN's client statistics). */
typedef struct {
  uint64_t tun_read, tun_write, link_read, link_write, auth_read;
} lvpn__mgmt_stats_t;

typedef struct {
  void *ud;
  /* `len` bytes to send, lent for the call. */
  void (*out)(void *ud, const char *text, size_t len);
  /* signal command, signum one of SIGHUP/SIGTERM/SIGUSR1/SIGUSR2. Returns 0,
   * or -1 when the signal is ignored now. */
  int (*signal)(void *ud, int signum);
  /* hold release while holding */
  void (*hold_release)(void *ud);
  /* the queried username and password, lent for the call (zeroed after) */
  void (*credentials)(void *ud, const char *user, const char *pass);
  /* the queried private key passphrase, lent for the call (zeroed after) */
  void (*key_passphrase)(void *ud, const char *pass);
  /* cr-response: the base64 answer to a CR_TEXT challenge (checked to be
   * base64), lent for the call; returns 0 or an LVPN_E* code */
  int (*cr_response)(void *ud, const char *b64);
  /* numbers for status; returns 0, or -1 when there is no connection */
  int (*stats)(void *ud, lvpn__mgmt_stats_t *st);
  /* bytecount interval changed (0: off) */
  void (*bytecount)(void *ud, unsigned seconds);
  /* exit/quit, or a wrong management password: close this connection */
  void (*close)(void *ud);
  uint32_t (*now)(void *ud); /* unix time */
  int pid;
  const char *title; /* "layervpn 0.1.0 ..." for the version command */
  const char *password; /* management password (pw-file), or NULL */
} lvpn__mgmt_host_t;

typedef struct {
  const lvpn__mgmt_host_t *host;
  /* persistent, as OpenVPN's man->persist */
  lvpn__mgmt_hist_t state, log, echo;
  bool hold;       /* hold flag: future (re)starts hold */
  bool holding;    /* waiting for hold release */
  unsigned hold_wait_s; /* the N of the pending >HOLD:...:N */
  bool query_up;   /* >PASSWORD:Need 'Auth' username/password pending */
  bool query_key;  /* >PASSWORD:Need 'Private Key' password pending */
  char query_sc[320]; /* its " SC:flag,TEXT" (static challenge), or "" */
  char username[LVPN__MGMT_CRED_MAX + 1];
  char password[LVPN__MGMT_CRED_MAX + 1];
  /* per connection, as man->connection */
  bool connected, authed, state_rt, log_rt, echo_rt;
  int pw_tries;
  unsigned bytecount_s;
  int client_version;
  lvpn__mgmt_lines_t lines;
} lvpn__mgmt_t;

/* No I/O. `log_cache`: lines of log history. Returns 0 or LVPN_ENOMEM. */
int lvpn__mgmt_init(lvpn__mgmt_t *s, const lvpn__mgmt_host_t *host,
                    unsigned log_cache);
/* Frees the histories and zeroes the credentials. */
void lvpn__mgmt_free(lvpn__mgmt_t *s);

/* A management client connected: password prompt or greeting. */
void lvpn__mgmt_connect(lvpn__mgmt_t *s);
/* It went away: real-time notifications off, bytecount off. */
void lvpn__mgmt_disconnect(lvpn__mgmt_t *s);
/* Bytes received from the management client. Returns 1 when the
 * connection is to be closed (exit, quit, bad password), else 0. */
int lvpn__mgmt_input(lvpn__mgmt_t *s, const char *data, size_t len);
/* Interprets one command line (modified in place). Same return. */
int lvpn__mgmt_command(lvpn__mgmt_t *s, char *line);

/* OpenVPN's reason text of a RECONNECTING or EXITING state for the error
 * that ended the connection (its signal texts: "ping-restart", "tls-error"
 * for a failed or stalled TLS handshake, ...; "SIGUSR1" for the rest). */
const char *lvpn__mgmt_reason(int err);

/* A state change: kept in the history, sent when `state on`. Empty or NULL
 * fields print as empty, as OpenVPN's. */
void lvpn__mgmt_state(lvpn__mgmt_t *s, const char *name, const char *desc,
                      const char *local_ip, const char *remote_ip,
                      const char *remote_port, const char *local_addr,
                      const char *local_port, const char *local_ip6);
/* A log line at OpenVPN verbosity `level`: kept, sent when `log on`. */
void lvpn__mgmt_log(lvpn__mgmt_t *s, int level, const char *msg);
/* >BYTECOUNT:in,out */
void lvpn__mgmt_bytecount(lvpn__mgmt_t *s, uint64_t in, uint64_t out);
/* Enters the hold state: >HOLD:Waiting for hold release:N. */
void lvpn__mgmt_hold(lvpn__mgmt_t *s, unsigned wait_s);
/* Asks for the auth-user-pass credentials. */
void lvpn__mgmt_query_userpass(lvpn__mgmt_t *s);
/* Asks for the passphrase of an encrypted private key:
 * >PASSWORD:Need 'Private Key' password; `password "Private Key" p` answers
 * it (host->key_passphrase). */
void lvpn__mgmt_query_key(lvpn__mgmt_t *s);
/* >PASSWORD:Verification Failed: 'Private Key' (a wrong passphrase). */
void lvpn__mgmt_key_failed(lvpn__mgmt_t *s);
/* A real-time notification line as given (">INFOMSG:..."). */
void lvpn__mgmt_notify(lvpn__mgmt_t *s, const char *line);
/* >PASSWORD:Verification Failed: 'Auth' */
void lvpn__mgmt_auth_failed(lvpn__mgmt_t *s);
/* Static challenge: >PASSWORD:Need 'Auth' username/password SC:flag,TEXT
 * (flag bit 0: echo; the reply's password is SCRV1:b64(pass):b64(resp)). */
void lvpn__mgmt_query_userpass_sc(lvpn__mgmt_t *s, const char *text,
                                  bool echo);
/* Dynamic challenge in AUTH_FAILED: >PASSWORD:Verification Failed: 'Auth'
 * ['CRV1:flags:state:user64:text']; the next query's password reply is
 * CRV1::state::response. */
void lvpn__mgmt_auth_failed_crv1(lvpn__mgmt_t *s, const char *crv1);

#endif
