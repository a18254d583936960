/* OpenVPN's management protocol, loop-free (see proto.h). Replies and
 * messages are OpenVPN 2.6.14's, byte for byte, where they exist there. */
#include "mgmt/proto.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <uv.h>

#include "layervpn.h"
#include "lib/ovpn_lex.h"

/* ---- line reader ---- */

int lvpn__mgmt_lines_feed(lvpn__mgmt_lines_t *l, const char *data, size_t len,
                          size_t *used) {
  size_t i;
  for (i = 0; i < len; i++) {
    char ch = data[i];
    if (ch == '\n') {
      *used = i + 1;
      if (l->overflow) {
        l->overflow = false;
        l->len = 0;
        return -1;
      }
      if (l->len > 0 && l->buf[l->len - 1] == '\r')
        l->len--;
      l->buf[l->len] = '\0';
      l->len = 0;
      return 1;
    }
    if (l->overflow)
      continue;
    if (l->len >= LVPN__MGMT_LINE_MAX) {
      l->overflow = true;
      continue;
    }
    l->buf[l->len++] = ch;
  }
  *used = len;
  return 0;
}

/* ---- history ---- */

static int hist_init(lvpn__mgmt_hist_t *h, unsigned cap) {
  h->lines = calloc(cap, sizeof(*h->lines));
  h->cap = h->lines != NULL ? cap : 0;
  h->n = h->head = 0;
  return h->lines != NULL ? 0 : LVPN_ENOMEM;
}

static void hist_free(lvpn__mgmt_hist_t *h) {
  unsigned i;
  for (i = 0; i < h->cap; i++)
    free(h->lines[i]);
  free(h->lines);
  memset(h, 0, sizeof(*h));
}

static void hist_add(lvpn__mgmt_hist_t *h, const char *text) {
  char *copy;
  if (h->cap == 0 || (copy = strdup(text)) == NULL)
    return;
  free(h->lines[h->head]);
  h->lines[h->head] = copy;
  h->head = (h->head + 1) % h->cap;
  if (h->n < h->cap)
    h->n++;
}

/* i-th most recent entry, 0 = newest. */
static const char *hist_get(const lvpn__mgmt_hist_t *h, unsigned i) {
  if (i >= h->n)
    return NULL;
  return h->lines[(h->head + h->cap - 1 - i) % h->cap];
}

/* ---- output ---- */

static void out_line(lvpn__mgmt_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void out_line(lvpn__mgmt_t *s, const char *fmt, ...) {
  char buf[LVPN__MGMT_LINE_MAX * 2 + 64];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n > sizeof(buf) - 3)
    n = (int)sizeof(buf) - 3;
  buf[n++] = '\r';
  buf[n++] = '\n';
  if (s->connected && s->authed)
    s->host->out(s->host->ud, buf, (size_t)n);
}

static uint32_t now(lvpn__mgmt_t *s) { return s->host->now(s->host->ud); }

/* ---- lifecycle ---- */

int lvpn__mgmt_init(lvpn__mgmt_t *s, const lvpn__mgmt_host_t *host,
                    unsigned log_cache) {
  memset(s, 0, sizeof(*s));
  s->host = host;
  if (hist_init(&s->state, LVPN__MGMT_STATE_MAX) != 0 ||
      hist_init(&s->log, log_cache > 0 ? log_cache : 1) != 0 ||
      hist_init(&s->echo, LVPN__MGMT_ECHO_MAX) != 0) {
    lvpn__mgmt_free(s);
    return LVPN_ENOMEM;
  }
  return 0;
}

void lvpn__mgmt_free(lvpn__mgmt_t *s) {
  hist_free(&s->state);
  hist_free(&s->log);
  hist_free(&s->echo);
  mbedtls_platform_zeroize(s->username, sizeof(s->username));
  mbedtls_platform_zeroize(s->password, sizeof(s->password));
  mbedtls_platform_zeroize(&s->lines, sizeof(s->lines));
}

/* The pending request, repeated to a client that connects later (OpenVPN's
 * special_state_msg). */
static void pending(lvpn__mgmt_t *s) {
  if (s->holding)
    out_line(s, ">HOLD:Waiting for hold release:%u", s->hold_wait_s);
  if (s->query_up)
    out_line(s, ">PASSWORD:Need 'Auth' username/password%s", s->query_sc);
  if (s->query_key)
    out_line(s, ">PASSWORD:Need 'Private Key' password");
}

static void welcome(lvpn__mgmt_t *s) {
  out_line(s, ">INFO:OpenVPN Management Interface Version %d -- type 'help' "
              "for more info",
           LVPN__MGMT_VERSION);
  pending(s);
}

void lvpn__mgmt_connect(lvpn__mgmt_t *s) {
  s->connected = true;
  s->state_rt = s->log_rt = s->echo_rt = false;
  s->bytecount_s = 0;
  s->client_version = 1;
  s->pw_tries = 0;
  s->lines.len = 0;
  s->lines.overflow = false;
  s->authed = s->host->password == NULL;
  if (!s->authed)
    s->host->out(s->host->ud, "ENTER PASSWORD:", 15);
  else
    welcome(s);
}

void lvpn__mgmt_disconnect(lvpn__mgmt_t *s) {
  s->connected = s->authed = false;
  s->state_rt = s->log_rt = s->echo_rt = false;
  if (s->bytecount_s != 0) {
    s->bytecount_s = 0;
    s->host->bytecount(s->host->ud, 0);
  }
  mbedtls_platform_zeroize(&s->lines, sizeof(s->lines));
}

/* ---- commands ---- */

static void help(lvpn__mgmt_t *s) {
  static const char *const lines[] = {
      "Management Interface for %s",
      "Commands:",
      "bytecount n            : Show bytes in/out, update every n secs (0=off).",
      "cr-response response   : Send a challenge response answer via "
      "CR_RESPONSE to server",
      "echo [on|off] [N|all]  : Like log, but only show messages in echo "
      "buffer.",
      "exit|quit              : Close management session.",
      "forget-passwords       : Forget passwords entered so far.",
      "help                   : Print this message.",
      "hold [on|off|release]  : Set/show hold flag to on/off state, or",
      "                         release current hold and start tunnel.",
      "log [on|off] [N|all]   : Turn on/off realtime log display",
      "                         + show last N lines or 'all' for entire "
      "history.",
      "password type p        : Enter password p for a queried OpenVPN "
      "password.",
      "pid                    : Show process ID of the current OpenVPN "
      "process.",
      "signal s               : Send signal s to daemon,",
      "                         s = SIGHUP|SIGTERM|SIGUSR1|SIGUSR2.",
      "state [on|off] [N|all] : Like log, but show state history.",
      "status [n]             : Show current daemon status info using format "
      "#n.",
      "username type u        : Enter username u for a queried OpenVPN "
      "username.",
      "version [n]            : Set client's version to n or show current "
      "version of daemon.",
      "END"};
  size_t i;
  out_line(s, lines[0], s->host->title);
  for (i = 1; i < sizeof(lines) / sizeof(lines[0]); i++)
    out_line(s, "%s", lines[i]);
}

/* OpenVPN's man_need(): are p[1..n] there? */
static bool need(lvpn__mgmt_t *s, char **p, int nw, int n, bool at_least) {
  if (nw > n)
    return true;
  out_line(s, "ERROR: the '%s' command requires %s%d parameter%s", p[0],
           at_least ? "at least " : "", n, n > 1 ? "s" : "");
  return false;
}

/* OpenVPN's man_history() for one parameter of state/log/echo. */
static void history(lvpn__mgmt_t *s, const char *parm, const char *type,
                    lvpn__mgmt_hist_t *h, bool *rt) {
  int n = 0;
  if (strcmp(parm, "on") == 0) {
    *rt = true;
    out_line(s, "SUCCESS: real-time %s notification set to ON", type);
  } else if (strcmp(parm, "off") == 0) {
    *rt = false;
    out_line(s, "SUCCESS: real-time %s notification set to OFF", type);
  } else if (strcmp(parm, "all") == 0 || (n = atoi(parm)) > 0) {
    int i = (n > 0 && (unsigned)n < h->n ? n : (int)h->n) - 1;
    for (; i >= 0; i--)
      out_line(s, "%s", hist_get(h, (unsigned)i));
    out_line(s, "END");
  } else {
    out_line(s,
             "ERROR: %s parameter must be 'on' or 'off' or some number n "
             "or 'all'",
             type);
  }
}

static int parse_signal(const char *name) {
  static const struct {
    const char *name;
    int num;
  } sigs[] = {{"SIGHUP", SIGHUP},
              {"SIGTERM", SIGTERM},
              {"SIGUSR1", SIGUSR1},
              {"SIGUSR2", SIGUSR2}};
  size_t i;
  for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    if (strcmp(name, sigs[i].name) == 0)
      return sigs[i].num;
  return -1;
}

static void do_signal(lvpn__mgmt_t *s, const char *name) {
  int sig = parse_signal(name);
  if (sig < 0)
    out_line(s, "ERROR: signal '%s' is not a known signal type", name);
  else if (s->host->signal(s->host->ud, sig) != 0)
    out_line(s, "ERROR: signal '%s' is currently ignored", name);
  else
    out_line(s, "SUCCESS: signal %s thrown", name);
}

static void do_hold(lvpn__mgmt_t *s, char **p, int nw) {
  if (nw < 2) {
    out_line(s, "SUCCESS: hold=%d", s->hold ? 1 : 0);
  } else if (strcmp(p[1], "on") == 0) {
    s->hold = true;
    out_line(s, "SUCCESS: hold flag set to ON");
  } else if (strcmp(p[1], "off") == 0) {
    s->hold = false;
    out_line(s, "SUCCESS: hold flag set to OFF");
  } else if (strcmp(p[1], "release") == 0) {
    bool was = s->holding;
    s->holding = false;
    out_line(s, "SUCCESS: hold release succeeded");
    if (was)
      s->host->hold_release(s->host->ud);
  } else {
    out_line(s, "ERROR: bad hold command parameter");
  }
}

/* OpenVPN's man_query_user_pass checks on a username/password reply: is
 * the field asked for, of the queried type, and does it fit? Replies the
 * ERROR when not. */
static bool reply_fits(lvpn__mgmt_t *s, bool needed, const char *want,
                       const char *type, const char *value, const char *what) {
  if (!needed) {
    out_line(s, "ERROR: no %s is currently needed at this time", what);
    return false;
  }
  if (strcmp(type, want) != 0) {
    out_line(s, "ERROR: %s of type '%s' entered, but we need one of type "
                "'%s'",
             what, type, want);
    return false;
  }
  if (strlen(value) > LVPN__MGMT_CRED_MAX) {
    out_line(s, "ERROR: %s too long", what);
    return false;
  }
  return true;
}

/* username/password replies to >PASSWORD:Need 'Auth' username/password,
 * and the password reply to >PASSWORD:Need 'Private Key' password (OpenVPN's
 * UP_QUERY_PASS: no username is needed there). */
static void do_userpass(lvpn__mgmt_t *s, const char *type, const char *value,
                        bool is_user) {
  const char *what = is_user ? "username" : "password";
  const char *want = s->query_key ? "Private Key" : "Auth";
  bool needed = s->query_key ? !is_user : s->query_up;
  char *dest = is_user ? s->username : s->password;
  if (!reply_fits(s, needed, want, type, value, what))
    return;
  if (s->query_key) {
    s->query_key = false;
    out_line(s, "SUCCESS: 'Private Key' password entered, but not yet "
                "verified");
    s->host->key_passphrase(s->host->ud, value);
    return;
  }
  strcpy(dest, value);
  out_line(s, "SUCCESS: 'Auth' %s entered, but not yet verified", what);
  if (s->username[0] != '\0' && (s->password[0] != '\0' || !is_user)) {
    s->query_up = false;
    s->host->credentials(s->host->ud, s->username, s->password);
    mbedtls_platform_zeroize(s->username, sizeof(s->username));
    mbedtls_platform_zeroize(s->password, sizeof(s->password));
  }
}

static void do_status(lvpn__mgmt_t *s, char **p, int nw) {
  lvpn__mgmt_stats_t st;
  int version = nw > 1 ? atoi(p[1]) : 0;
  char sep = version == 3 ? '\t' : ',';
  char when[64];
  time_t t = (time_t)now(s);
  struct tm tm;

  memset(&st, 0, sizeof(st));
  s->host->stats(s->host->ud, &st);
  localtime_r(&t, &tm);
  strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
  out_line(s, "OpenVPN STATISTICS");
  out_line(s, "Updated%c%s", sep, when);
  out_line(s, "TUN/TAP read bytes%c%llu", sep,
           (unsigned long long)st.tun_read);
  out_line(s, "TUN/TAP write bytes%c%llu", sep,
           (unsigned long long)st.tun_write);
  out_line(s, "TCP/UDP read bytes%c%llu", sep,
           (unsigned long long)st.link_read);
  out_line(s, "TCP/UDP write bytes%c%llu", sep,
           (unsigned long long)st.link_write);
  out_line(s, "Auth read bytes%c%llu", sep, (unsigned long long)st.auth_read);
  out_line(s, "END");
}

static int password_check(lvpn__mgmt_t *s, const char *line) {
  if (strcmp(line, s->host->password) == 0) {
    s->authed = true;
    out_line(s, "SUCCESS: password is correct");
    welcome(s);
    return 0;
  }
  s->authed = true; /* to let the error out */
  out_line(s, "ERROR: bad password");
  s->authed = false;
  if (++s->pw_tries >= 3)
    return 1;
  s->host->out(s->host->ud, "ENTER PASSWORD:", 15);
  return 0;
}

/* cr-response BASE64: the answer to the server's CR_TEXT challenge, sent
 * as given (OpenVPN's management-notes.txt). Not base64: refused here. */
static void do_cr_response(lvpn__mgmt_t *s, const char *b64) {
  size_t olen = 0, n = strlen(b64);
  int r;

  if (mbedtls_base64_decode(NULL, 0, &olen, (const unsigned char *)b64, n) !=
          MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL ||
      olen == 0) {
    out_line(s, "ERROR: cr-response: the response is not base64 "
                "(cr-response SGVsbG8=)");
    return;
  }
  if (s->host->cr_response == NULL) {
    out_line(s, "ERROR: The 'cr-response' command is not supported by the "
                "current daemon mode");
    return;
  }
  r = s->host->cr_response(s->host->ud, b64);
  if (r == 0)
    out_line(s, "SUCCESS: command succeeded");
  else if (r == LVPN_ESTATE)
    out_line(s, "ERROR: cr-response: no connection to the server to send it "
                "on");
  else
    out_line(s, "ERROR: cr-response: %s", lvpn_strerror(r));
}

int lvpn__mgmt_command(lvpn__mgmt_t *s, char *line) {
  char *p[LVPN__LEX_MAX_WORDS + 1];
  char err[128];
  int nw;

  if (!s->connected) /* dropped while earlier lines of a read ran */
    return 1;
  if (!s->authed)
    return s->host->password != NULL ? password_check(s, line) : 1;
  nw = lvpn__lex_split(line, p, err, sizeof(err));
  if (nw < 0) {
    out_line(s, "ERROR: %s", err);
    return 0;
  }
  if (nw == 0)
    return 0;
  if (strcmp(p[0], "exit") == 0 || strcmp(p[0], "quit") == 0)
    return 1;
  if (strcmp(p[0], "help") == 0) {
    help(s);
  } else if (strcmp(p[0], "version") == 0 && nw > 1) {
    int v = atoi(p[1]);
    if (v > 0) {
      s->client_version = v;
      out_line(s, "SUCCESS: Management client version set to %d", v);
    } else {
      out_line(s, "ERROR: Invalid value specified for management client "
                  "version");
    }
  } else if (strcmp(p[0], "version") == 0) {
    out_line(s, "OpenVPN Version: %s", s->host->title);
    out_line(s, "Management Version: %d", LVPN__MGMT_VERSION);
    out_line(s, "END");
  } else if (strcmp(p[0], "pid") == 0) {
    out_line(s, "SUCCESS: pid=%d", s->host->pid);
  } else if (strcmp(p[0], "signal") == 0) {
    if (need(s, p, nw, 1, false))
      do_signal(s, p[1]);
  } else if (strcmp(p[0], "status") == 0) {
    do_status(s, p, nw);
  } else if (strcmp(p[0], "state") == 0) {
    if (nw < 2)
      history(s, "1", "state", &s->state, &s->state_rt);
    for (int i = 1; i < nw && i < 3; i++)
      history(s, p[i], "state", &s->state, &s->state_rt);
  } else if (strcmp(p[0], "log") == 0 || strcmp(p[0], "echo") == 0) {
    bool is_log = p[0][0] == 'l';
    if (need(s, p, nw, 1, true))
      for (int i = 1; i < nw && i < 3; i++)
        history(s, p[i], p[0], is_log ? &s->log : &s->echo,
                is_log ? &s->log_rt : &s->echo_rt);
  } else if (strcmp(p[0], "bytecount") == 0) {
    if (need(s, p, nw, 1, false)) {
      int n = atoi(p[1]);
      s->bytecount_s = n > 0 ? (unsigned)n : 0;
      s->host->bytecount(s->host->ud, s->bytecount_s);
      out_line(s, "SUCCESS: bytecount interval changed");
    }
  } else if (strcmp(p[0], "hold") == 0) {
    do_hold(s, p, nw);
  } else if (strcmp(p[0], "username") == 0 ||
             strcmp(p[0], "password") == 0) {
    if (need(s, p, nw, 2, false))
      do_userpass(s, p[1], p[2], p[0][0] == 'u');
  } else if (strcmp(p[0], "cr-response") == 0) {
    if (need(s, p, nw, 1, false))
      do_cr_response(s, p[1]);
  } else if (strcmp(p[0], "forget-passwords") == 0) {
    mbedtls_platform_zeroize(s->username, sizeof(s->username));
    mbedtls_platform_zeroize(s->password, sizeof(s->password));
    out_line(s, "SUCCESS: Passwords were forgotten");
  } else {
    out_line(s, "ERROR: unknown command, enter 'help' for more options");
  }
  for (int i = 0; i < nw; i++) /* a password may have been on the line */
    mbedtls_platform_zeroize(p[i], strlen(p[i]));
  return 0;
}

int lvpn__mgmt_input(lvpn__mgmt_t *s, const char *data, size_t len) {
  while (len > 0 && s->connected) {
    size_t used = 0;
    int r = lvpn__mgmt_lines_feed(&s->lines, data, len, &used);
    data += used;
    len -= used;
    if (r < 0)
      out_line(s, "ERROR: command line too long (max %d bytes)",
               LVPN__MGMT_LINE_MAX);
    else if (r > 0 && lvpn__mgmt_command(s, s->lines.buf) != 0)
      return 1;
  }
  return s->connected ? 0 : 1;
}

/* ---- real-time messages ---- */

void lvpn__mgmt_state(lvpn__mgmt_t *s, const char *name, const char *desc,
                      const char *local_ip, const char *remote_ip,
                      const char *remote_port, const char *local_addr,
                      const char *local_port, const char *local_ip6) {
  char line[LVPN__MGMT_LINE_MAX];
#define F(x) ((x) != NULL ? (x) : "")
  snprintf(line, sizeof(line), "%u,%s,%s,%s,%s,%s,%s,%s%s%s", now(s), name,
           F(desc), F(local_ip), F(remote_ip), F(remote_port), F(local_addr),
           F(local_port), local_ip6 != NULL && local_ip6[0] ? "," : "",
           F(local_ip6));
#undef F
  hist_add(&s->state, line);
  if (s->state_rt)
    out_line(s, ">STATE:%s", line);
}

/* OpenVPN's message flags: F fatal, N non-fatal error, W warning,
 * I informational, D debug. */
static const char *log_flags(int level) {
  if (level <= LVPN_LOG_FATAL)
    return "F";
  if (level <= LVPN_LOG_ERROR)
    return "N";
  if (level <= LVPN_LOG_PUSH)
    return "I";
  return "D";
}

void lvpn__mgmt_log(lvpn__mgmt_t *s, int level, const char *msg) {
  char line[LVPN__MGMT_LINE_MAX];
  snprintf(line, sizeof(line), "%u,%s,%s", now(s), log_flags(level), msg);
  hist_add(&s->log, line);
  if (s->log_rt)
    out_line(s, ">LOG:%s", line);
}

void lvpn__mgmt_bytecount(lvpn__mgmt_t *s, uint64_t in, uint64_t out) {
  out_line(s, ">BYTECOUNT:%llu,%llu", (unsigned long long)in,
           (unsigned long long)out);
}

void lvpn__mgmt_hold(lvpn__mgmt_t *s, unsigned wait_s) {
  s->holding = true;
  s->hold_wait_s = wait_s;
  out_line(s, ">HOLD:Waiting for hold release:%u", wait_s);
}

static void query_userpass(lvpn__mgmt_t *s, const char *text, int flag) {
  s->query_up = true;
  mbedtls_platform_zeroize(s->username, sizeof(s->username));
  mbedtls_platform_zeroize(s->password, sizeof(s->password));
  s->query_sc[0] = '\0';
  if (text != NULL)
    snprintf(s->query_sc, sizeof(s->query_sc), " SC:%d,%s", flag, text);
  out_line(s, ">PASSWORD:Need 'Auth' username/password%s", s->query_sc);
}

void lvpn__mgmt_query_userpass(lvpn__mgmt_t *s) {
  query_userpass(s, NULL, 0);
}

void lvpn__mgmt_query_userpass_sc(lvpn__mgmt_t *s, const char *text,
                                  bool echo) {
  query_userpass(s, text, echo ? 1 : 0); /* FORMAT bit 0: SCRV1 packing */
}

void lvpn__mgmt_auth_failed_crv1(lvpn__mgmt_t *s, const char *crv1) {
  out_line(s, ">PASSWORD:Verification Failed: 'Auth' ['%s']", crv1);
}

void lvpn__mgmt_query_key(lvpn__mgmt_t *s) {
  s->query_key = true;
  out_line(s, ">PASSWORD:Need 'Private Key' password");
}

void lvpn__mgmt_key_failed(lvpn__mgmt_t *s) {
  out_line(s, ">PASSWORD:Verification Failed: 'Private Key'");
}

void lvpn__mgmt_auth_failed(lvpn__mgmt_t *s) {
  out_line(s, ">PASSWORD:Verification Failed: 'Auth'");
}

void lvpn__mgmt_notify(lvpn__mgmt_t *s, const char *line) {
  out_line(s, "%s", line);
}

const char *lvpn__mgmt_reason(int err) {
  switch (err) {
  case LVPN_EPING_RESTART:
    return "ping-restart";
  case LVPN_EPING_EXIT:
    return "ping-exit";
  case LVPN_EINACTIVE:
    return "inactive";
  case LVPN_ESESSION_TIMEOUT:
    return "session-timeout";
  case LVPN_ERESTART:
    return "server-pushed-connection-reset";
  case LVPN_EHALT:
    return "server-pushed-halt";
  case LVPN_EEXIT_NOTIFY:
    return "exit-with-notification";
  case LVPN_EAUTH_FAILED:
    return "auth-failure";
  case LVPN_EHANDSHAKE_TIMEOUT:
  case LVPN_EHANDSHAKE_STALL:
    return "tls-error";
  case LVPN_ECONNRESET:
  case UV_ECONNRESET:
  case UV_ECONNREFUSED:
    return "connection-reset";
  case LVPN_ESTOPPED:
    return "SIGTERM";
  case 0:
    return "";
  default:
    return "SIGUSR1";
  }
}
