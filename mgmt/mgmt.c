/* lvpn_mgmt_t: OpenVPN's management interface on the client's loop. The
 * protocol itself is mgmt/proto.c; this file owns the listening socket
 * (TCP or unix), the one management connection (as OpenVPN, a second one
 * is closed at once), its bounded output, the bytecount timer and the
 * state watcher (a uv_prepare_t that compares lvpn_client_state() each
 * loop turn), and starts the client after hold release and the
 * username/password replies. The host forwards its log and events. */
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "layers/client.h"
#include "mgmt/proto.h"

#define MGMT_OUT_MAX (1u << 20) /* queued output before the peer is dropped */
#define MGMT_READ_SIZE 4096

struct lvpn_mgmt_s {
  uv_loop_t *loop;
  lvpn_client_t *client; /* NULL after LVPN_EVENT_STOPPED */
  void *data;
  lvpn_mgmt_signal_cb signal_cb;
  lvpn_mgmt_close_cb close_cb;
  lvpn__mgmt_t proto;
  lvpn__mgmt_host_t host;
  char title[128];
  char *unix_path; /* to unlink on close */
  char *password;  /* management password, zeroed on free */
  long client_uid, client_gid; /* management-client-user/-group, or -1 */
  bool query_passwords, start_pending, closing;
  bool restart_held; /* the client's restart waits for hold release */
  bool cred_asked;   /* the client's credentials request is queried */
  bool key_answered; /* the private key passphrase came from here */
  bool in_input; /* inside lvpn__mgmt_input: the replies are not out yet */
  int handles_open;
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } listener;
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } conn;
  bool conn_open; /* conn initialized and not yet closed */
  size_t queued;
  char rbuf[MGMT_READ_SIZE];
  uv_timer_t bytecount_timer;
  uv_prepare_t watch;
  lvpn_state_t last_state;
  int last_err; /* from the last RESTARTING/STOPPED event */
};

/* ---- connection ---- */

/* The last of the listener, the timer, the watcher and (if open) the
 * connection frees the interface. */
static void mgmt_unref(lvpn_mgmt_t *m) {
  lvpn_mgmt_close_cb cb = m->close_cb;
  if (--m->handles_open > 0)
    return;
  if (cb != NULL)
    cb(m);
  lvpn__mgmt_free(&m->proto);
  if (m->unix_path != NULL)
    unlink(m->unix_path);
  free(m->unix_path);
  if (m->password != NULL) {
    mbedtls_platform_zeroize(m->password, strlen(m->password));
    free(m->password);
  }
  mbedtls_platform_zeroize(m, sizeof(*m));
  free(m);
}

static void mgmt_handle_closed(uv_handle_t *h) { mgmt_unref(h->data); }

static void conn_closed(uv_handle_t *h) {
  lvpn_mgmt_t *m = h->data;
  m->conn_open = false;
  m->queued = 0;
  if (m->closing)
    mgmt_unref(m);
}

static void conn_drop(lvpn_mgmt_t *m) {
  if (!m->conn_open || uv_is_closing((uv_handle_t *)&m->conn))
    return;
  lvpn__mgmt_disconnect(&m->proto);
  uv_close((uv_handle_t *)&m->conn, conn_closed);
}

static void conn_shutdown_cb(uv_shutdown_t *req, int status) {
  lvpn_mgmt_t *m = req->data;
  (void)status;
  free(req);
  conn_drop(m);
}

/* Lets queued replies leave first when nothing is stuck. */
static void conn_finish(lvpn_mgmt_t *m) {
  uv_shutdown_t *req;
  if (!m->conn_open || uv_is_closing((uv_handle_t *)&m->conn))
    return;
  /* bytes the kernel did not take yet: the peer is not reading */
  if (uv_stream_get_write_queue_size((uv_stream_t *)&m->conn) > 0 ||
      (req = malloc(sizeof(*req))) == NULL) {
    conn_drop(m);
    return;
  }
  req->data = m;
  lvpn__mgmt_disconnect(&m->proto);
  if (uv_shutdown(req, (uv_stream_t *)&m->conn, conn_shutdown_cb) != 0) {
    free(req);
    conn_drop(m);
  }
}

typedef struct {
  uv_write_t req;
  lvpn_mgmt_t *m;
  size_t len;
  char data[];
} mgmt_write_t;

static void write_cb(uv_write_t *req, int status) {
  mgmt_write_t *w = container_of(req, mgmt_write_t, req);
  lvpn_mgmt_t *m = w->m;
  m->queued -= w->len;
  free(w);
  if (status != 0)
    conn_drop(m);
}

static void host_out(void *ud, const char *text, size_t len) {
  lvpn_mgmt_t *m = ud;
  mgmt_write_t *w;
  uv_buf_t b;
  if (!m->conn_open || uv_is_closing((uv_handle_t *)&m->conn))
    return;
  if (m->queued + len > MGMT_OUT_MAX) {
    /* a peer that does not read cannot make us hold unbounded output */
    conn_drop(m);
    return;
  }
  if ((w = malloc(sizeof(*w) + len)) == NULL) {
    conn_drop(m);
    return;
  }
  memcpy(w->data, text, len);
  w->m = m;
  w->len = len;
  b = uv_buf_init(w->data, (unsigned)len);
  m->queued += len;
  if (uv_write(&w->req, (uv_stream_t *)&m->conn, &b, 1, write_cb) != 0) {
    m->queued -= len;
    free(w);
    conn_drop(m);
  }
}

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  lvpn_mgmt_t *m = h->data;
  (void)size;
  *buf = uv_buf_init(m->rbuf, sizeof(m->rbuf));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  lvpn_mgmt_t *m = s->data;
  (void)buf;
  if (n < 0) {
    conn_drop(m);
    return;
  }
  m->in_input = true;
  if (n > 0 && lvpn__mgmt_input(&m->proto, m->rbuf, (size_t)n) != 0)
    conn_finish(m);
  m->in_input = false;
  if (m->closing) /* a command closed the interface: its reply is out now */
    conn_finish(m);
  mbedtls_platform_zeroize(m->rbuf, (size_t)n > 0 ? (size_t)n : 0);
}

static void reject_closed(uv_handle_t *h) { free(h); }

/* management-client-user/-group: the unix peer's credentials, from the
 * kernel (SO_PEERCRED), as OpenVPN checks them. */
static bool peer_allowed(lvpn_mgmt_t *m) {
  struct ucred cr;
  socklen_t len = sizeof(cr);
  uv_os_fd_t fd;
  if (m->client_uid < 0 && m->client_gid < 0)
    return true;
  if (uv_fileno((uv_handle_t *)&m->conn, &fd) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
    return false;
  if ((m->client_uid >= 0 && (long)cr.uid != m->client_uid) ||
      (m->client_gid >= 0 && (long)cr.gid != m->client_gid)) {
    if (m->client != NULL)
      LVPN__LOG(&m->client->log, LVPN_LOG_ERROR, "mgmt",
                "MANAGEMENT: client connection rejected: uid %u gid %u not "
                "allowed",
                (unsigned)cr.uid, (unsigned)cr.gid);
    return false;
  }
  return true;
}

static void listen_cb(uv_stream_t *server, int status) {
  lvpn_mgmt_t *m = server->data;
  uv_stream_t *peer;
  int is_unix = server->type == UV_NAMED_PIPE;

  if (status != 0 || m->closing)
    return;
  if (m->conn_open) { /* one management client at a time */
    peer = malloc(is_unix ? sizeof(uv_pipe_t) : sizeof(uv_tcp_t));
    if (peer == NULL)
      return;
    if (is_unix)
      uv_pipe_init(m->loop, (uv_pipe_t *)peer, 0);
    else
      uv_tcp_init(m->loop, (uv_tcp_t *)peer);
    uv_accept(server, peer);
    uv_close((uv_handle_t *)peer, reject_closed);
    return;
  }
  if (is_unix)
    uv_pipe_init(m->loop, &m->conn.pipe, 0);
  else
    uv_tcp_init(m->loop, &m->conn.tcp);
  m->conn.tcp.data = m; /* same offset in both */
  m->conn_open = true;
  m->queued = 0;
  if (uv_accept(server, (uv_stream_t *)&m->conn) != 0 ||
      uv_read_start((uv_stream_t *)&m->conn, alloc_cb, read_cb) != 0) {
    uv_close((uv_handle_t *)&m->conn, conn_closed);
    return;
  }
  if (is_unix && !peer_allowed(m)) {
    conn_drop(m);
    return;
  }
  lvpn__mgmt_connect(&m->proto);
}

/* ---- the client side ---- */

static void count_bytes(void *ud, const char *layer, const char *name,
                        uint64_t v) {
  lvpn__mgmt_stats_t *st = ud;
  if (strcmp(layer, "networkio") == 0) {
    if (strcmp(name, "rx_bytes") == 0)
      st->link_read = v;
    else if (strcmp(name, "tx_bytes") == 0)
      st->link_write = v;
  } else if (strcmp(layer, "tun") == 0) {
    if (strcmp(name, "rx_bytes") == 0)
      st->tun_read = v;
    else if (strcmp(name, "tx_bytes") == 0)
      st->tun_write = v;
  } else if (strcmp(layer, "datachannel") == 0 &&
             strcmp(name, "rx_bytes") == 0) {
    st->auth_read = v;
  }
}

static int host_stats(void *ud, lvpn__mgmt_stats_t *st) {
  lvpn_mgmt_t *m = ud;
  memset(st, 0, sizeof(*st));
  if (m->client == NULL)
    return -1;
  lvpn_client_counters(m->client, count_bytes, st);
  return 0;
}

static void bytecount_cb(uv_timer_t *t) {
  lvpn_mgmt_t *m = container_of(t, lvpn_mgmt_t, bytecount_timer);
  lvpn__mgmt_stats_t st;
  host_stats(m, &st);
  lvpn__mgmt_bytecount(&m->proto, st.link_read, st.link_write);
}

static void host_bytecount(void *ud, unsigned seconds) {
  lvpn_mgmt_t *m = ud;
  uv_timer_stop(&m->bytecount_timer);
  if (seconds > 0)
    uv_timer_start(&m->bytecount_timer, bytecount_cb, seconds * 1000ull,
                   seconds * 1000ull);
}

static int host_signal(void *ud, int signum) {
  lvpn_mgmt_t *m = ud;
  if (m->signal_cb != NULL)
    return m->signal_cb(m, signum);
  if (signum == SIGTERM && m->client != NULL) {
    lvpn_client_stop(m->client);
    return 0;
  }
  return -1;
}

static void mgmt_start_now(lvpn_mgmt_t *m) {
  int err;
  m->start_pending = false;
  if (m->client == NULL)
    return;
  err = lvpn_client_start(m->client);
  if (err != 0) {
    LVPN__LOG(&m->client->log, LVPN_LOG_ERROR, "mgmt",
              "cannot start the client: %s", lvpn_strerror(err));
    lvpn_client_stop(m->client);
  }
}

/* After hold release: ask for credentials when the config leaves them to
 * the user (auth-user-pass without a file), else start. */
static void mgmt_proceed(lvpn_mgmt_t *m) {
  /* with static-challenge the client asks itself (mgmt_cred_cb), with the
   * challenge text in the query */
  if (m->client != NULL && m->query_passwords &&
      m->client->cfg->auth_user_pass == LVPN__AUP_PROMPT &&
      m->client->cfg->username == NULL &&
      m->client->cfg->static_challenge == NULL) {
    lvpn__mgmt_query_userpass(&m->proto);
    return;
  }
  mgmt_start_now(m);
}

static void host_hold_release(void *ud) {
  lvpn_mgmt_t *m = ud;
  if (m->start_pending) {
    mgmt_proceed(m);
  } else if (m->restart_held) {
    m->restart_held = false;
    if (m->client != NULL)
      lvpn__client_resume(m->client);
  }
}

/* The client is about to pause before a restart (ping-restart, server
 * gone, ...): with the hold flag set, hold instead, as OpenVPN's do_hold
 * in socket_restart_pause (N is the pause that hold release skips). */
static int mgmt_restart_hold(void *ud, unsigned pause_s) {
  lvpn_mgmt_t *m = ud;
  if (!m->proto.hold || m->closing)
    return 0;
  m->restart_held = true;
  lvpn__mgmt_hold(&m->proto, pause_s);
  return 1;
}

/* management-query-passwords: the client's credentials requests (static
 * challenge, a dynamic challenge after AUTH_FAILED) go to the management
 * client, which answers with the password field packed as OpenVPN's
 * management-notes.txt says (SCRV1:..., CRV1::state::response). */
static void mgmt_cred_cb(lvpn_client_t *c, const lvpn_cred_request_t *req,
                         void *ud) {
  lvpn_mgmt_t *m = ud;
  (void)c;
  if (req->kind == LVPN_CRED_KEY_PASSPHRASE) { /* as OpenVPN's key load */
    lvpn__mgmt_query_key(&m->proto);
    return;
  }
  m->cred_asked = true;
  if (req->kind == LVPN_CRED_USER_PASS && req->challenge != NULL)
    lvpn__mgmt_query_userpass_sc(&m->proto, req->challenge, req->echo != 0);
  else
    lvpn__mgmt_query_userpass(&m->proto);
}

/* The client lets go of this interface (it may outlive it). */
static void mgmt_detach(lvpn_mgmt_t *m, lvpn_client_t *c) {
  if (c == NULL)
    return;
  c->restart_hold = NULL;
  if (c->cred_cb == mgmt_cred_cb && c->cred_ud == m)
    lvpn_client_set_credentials_cb(c, NULL, NULL);
}

static void mgmt_attach(lvpn_mgmt_t *m, lvpn_client_t *c) {
  m->restart_held = false;
  m->cred_asked = m->key_answered = false;
  m->proto.holding = false;
  m->proto.query_key = false;
  if (c == NULL)
    return;
  c->restart_hold = mgmt_restart_hold;
  c->restart_hold_ud = m;
  if (m->query_passwords)
    lvpn_client_set_credentials_cb(c, mgmt_cred_cb, m);
}

static void host_credentials(void *ud, const char *user, const char *pass) {
  lvpn_mgmt_t *m = ud;
  if (m->client == NULL)
    return;
  if (m->cred_asked) { /* the password field as the GUI packed it */
    m->cred_asked = false;
    if (lvpn__client_answer_packed(m->client, user, pass) != 0)
      lvpn_client_stop(m->client);
    return;
  }
  if (lvpn__client_set_credentials(m->client, user, pass) != 0) {
    lvpn_client_stop(m->client);
    return;
  }
  if (m->start_pending)
    mgmt_start_now(m);
}

static void host_key_passphrase(void *ud, const char *pass) {
  lvpn_mgmt_t *m = ud;
  if (m->client == NULL)
    return;
  m->key_answered = true;
  if (lvpn_client_answer_credentials(m->client, NULL, pass, NULL) != 0)
    lvpn_client_stop(m->client);
}

static int host_cr_response(void *ud, const char *b64) {
  lvpn_mgmt_t *m = ud;
  return m->client == NULL ? LVPN_ESTATE
                           : lvpn__client_cr_response_b64(m->client, b64);
}

static void host_close(void *ud) { conn_finish(ud); }

static uint32_t host_now(void *ud) {
  (void)ud;
  return (uint32_t)time(NULL);
}

static void addr_parts(const struct sockaddr_storage *ss, char *ip,
                       size_t iplen, char *port, size_t portlen) {
  ip[0] = port[0] = '\0';
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    uv_ip4_name(a, ip, iplen);
    snprintf(port, portlen, "%u", ntohs(a->sin_port));
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    uv_ip6_name(a, ip, iplen);
    snprintf(port, portlen, "%u", ntohs(a->sin6_port));
  }
}

static void report_state(lvpn_mgmt_t *m, lvpn_state_t st, int err) {
  char lip[64] = "", rip[64], rport[8], laddr[64], lport[8];
  const char *desc = "";
  uint32_t a, mask;
  const lvpn__networkio_t *n = &m->client->net;

  addr_parts(lvpn__networkio_remote(n), rip, sizeof(rip), rport,
             sizeof(rport));
  addr_parts(lvpn__networkio_local(n), laddr, sizeof(laddr), lport,
             sizeof(lport));
  if (lvpn_client_tunnel_ipv4(m->client, &a, &mask) == 0)
    uv_inet_ntop(AF_INET, &a, lip, sizeof(lip));
  if (st == LVPN_STATE_CONNECTED)
    desc = "SUCCESS";
  else if (st == LVPN_STATE_RECONNECTING || st == LVPN_STATE_EXITING)
    desc = lvpn__mgmt_reason(err);
  lvpn__mgmt_state(&m->proto, lvpn_state_name(st), desc, lip, rip, rport,
                   laddr, lport, NULL);
}

static void watch_cb(uv_prepare_t *h) {
  lvpn_mgmt_t *m = container_of(h, lvpn_mgmt_t, watch);
  lvpn_state_t st;
  if (m->client == NULL)
    return;
  st = lvpn_client_state(m->client);
  if (st == m->last_state || st == LVPN_STATE_INITIAL)
    return;
  m->last_state = st;
  report_state(m, st,
               m->client->workers.err != 0 ? m->client->workers.err
                                           : m->last_err);
}

/* ---- public API ---- */

static int mgmt_listen(lvpn_mgmt_t *m, const lvpn_config_t *cfg) {
  int err;
  if (cfg->mgmt_unix) {
    uv_pipe_init(m->loop, &m->listener.pipe, 0);
    m->listener.pipe.data = m;
    if ((m->unix_path = strdup(cfg->mgmt_addr)) == NULL)
      return LVPN_ENOMEM;
    unlink(cfg->mgmt_addr); /* a stale socket, as OpenVPN */
    err = uv_pipe_bind(&m->listener.pipe, cfg->mgmt_addr);
  } else {
    struct sockaddr_storage ss;
    uv_tcp_init(m->loop, &m->listener.tcp);
    m->listener.tcp.data = m;
    err = uv_ip4_addr(cfg->mgmt_addr, cfg->mgmt_port,
                      (struct sockaddr_in *)&ss);
    if (err != 0)
      err = uv_ip6_addr(cfg->mgmt_addr, cfg->mgmt_port,
                        (struct sockaddr_in6 *)&ss);
    if (err == 0)
      err = uv_tcp_bind(&m->listener.tcp, (struct sockaddr *)&ss, 0);
  }
  if (err == 0)
    err = uv_listen((uv_stream_t *)&m->listener, 1, listen_cb);
  if (err != 0) {
    free(m->unix_path);
    m->unix_path = NULL;
  }
  return err;
}

int lvpn_mgmt_new(lvpn_mgmt_t **out, lvpn_client_t *c) {
  const lvpn_config_t *cfg;
  lvpn_mgmt_t *m;
  int err;

  if (out == NULL || c == NULL)
    return LVPN_EINVAL;
  *out = NULL;
  cfg = c->cfg;
  if (cfg->mgmt_addr == NULL)
    return 0;
  if ((m = calloc(1, sizeof(*m))) == NULL)
    return LVPN_ENOMEM;
  m->loop = c->loop;
  m->client = c;
  m->query_passwords = cfg->mgmt_query_passwords;
  mgmt_attach(m, c);
  m->client_uid = cfg->mgmt_client_uid;
  m->client_gid = cfg->mgmt_client_gid;
  snprintf(m->title, sizeof(m->title), "layervpn %s (liblayers, libuv %s)",
           lvpn_version_string(), uv_version_string());
  m->host = (lvpn__mgmt_host_t){.ud = m,
                                .out = host_out,
                                .signal = host_signal,
                                .hold_release = host_hold_release,
                                .credentials = host_credentials,
                                .key_passphrase = host_key_passphrase,
                                .cr_response = host_cr_response,
                                .stats = host_stats,
                                .bytecount = host_bytecount,
                                .close = host_close,
                                .now = host_now,
                                .pid = (int)getpid(),
                                .title = m->title,
                                .password = cfg->mgmt_password};
  if ((err = lvpn__mgmt_init(&m->proto, &m->host,
                             (unsigned)cfg->mgmt_log_cache)) != 0) {
    free(m);
    return err;
  }
  m->proto.hold = cfg->mgmt_hold;
  /* our own copy: the client (and its config) may be replaced */
  if (cfg->mgmt_password != NULL &&
      (m->password = strdup(cfg->mgmt_password)) == NULL) {
    lvpn__mgmt_free(&m->proto);
    free(m);
    return LVPN_ENOMEM;
  }
  m->host.password = m->password;
  uv_timer_init(m->loop, &m->bytecount_timer);
  uv_prepare_init(m->loop, &m->watch);
  m->bytecount_timer.data = m->watch.data = m;
  err = mgmt_listen(m, cfg);
  uv_prepare_start(&m->watch, watch_cb);
  *out = m;
  if (err != 0) {
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "mgmt",
              "management interface: cannot listen on %s (port %d): %s",
              cfg->mgmt_addr, cfg->mgmt_port, lvpn_strerror(err));
    lvpn_mgmt_close(m, NULL);
    *out = NULL;
    return err;
  }
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "mgmt",
            "MANAGEMENT: %s socket listening on %s%s%.0d",
            cfg->mgmt_unix ? "unix" : "TCP", cfg->mgmt_addr,
            cfg->mgmt_unix ? "" : ":", cfg->mgmt_port);
  return 0;
}

void lvpn_mgmt_set_signal_cb(lvpn_mgmt_t *m, lvpn_mgmt_signal_cb cb) {
  m->signal_cb = cb;
}

void lvpn_mgmt_set_data(lvpn_mgmt_t *m, void *data) { m->data = data; }
void *lvpn_mgmt_get_data(const lvpn_mgmt_t *m) { return m->data; }

void lvpn_mgmt_set_client(lvpn_mgmt_t *m, lvpn_client_t *c) {
  if (m->client != c)
    mgmt_detach(m, m->client);
  m->client = c;
  mgmt_attach(m, c);
  m->last_state = LVPN_STATE_INITIAL;
  m->last_err = 0;
}

int lvpn_mgmt_start_client(lvpn_mgmt_t *m) {
  if (m->client == NULL || m->closing)
    return LVPN_ESTATE;
  m->start_pending = true;
  if (m->proto.hold) {
    lvpn__mgmt_hold(&m->proto, 0);
    return 0;
  }
  mgmt_proceed(m);
  return 0;
}

void lvpn_mgmt_log(lvpn_mgmt_t *m, int level, const char *msg) {
  lvpn__mgmt_log(&m->proto, level, msg);
}

void lvpn_mgmt_event(lvpn_mgmt_t *m, lvpn_event_t ev, int err) {
  if (m->client == NULL)
    return;
  if (ev == LVPN_EVENT_RESTARTING)
    m->last_err = err;
  if (ev == LVPN_EVENT_RESTARTING && err == LVPN_EAUTH_FAILED) {
    /* auth-retry: the failure, with the server's dynamic challenge */
    if (m->client->crv1 != NULL)
      lvpn__mgmt_auth_failed_crv1(&m->proto, m->client->crv1);
    else
      lvpn__mgmt_auth_failed(&m->proto);
  }
  if (ev == LVPN_EVENT_INFO) { /* as 2.7: >INFOMSG (not >INFO) */
    char line[600];
    snprintf(line, sizeof(line), ">INFOMSG:%s", m->client->info);
    lvpn__mgmt_notify(&m->proto, line);
  } else if (ev == LVPN_EVENT_AUTH_PENDING) {
    lvpn__mgmt_state(&m->proto, "AUTH_PENDING", m->client->pending_kw, NULL,
                     NULL, NULL, NULL, NULL, NULL);
  }
  if (ev != LVPN_EVENT_STOPPED)
    return;
  m->last_err = err;
  if (err == LVPN_EAUTH_FAILED)
    lvpn__mgmt_auth_failed(&m->proto);
  else if (err == LVPN_ECREDENTIALS && m->key_answered &&
           m->client->tls_conf == NULL) /* the passphrase did not decrypt */
    lvpn__mgmt_key_failed(&m->proto);
  watch_cb(&m->watch); /* a state not seen yet, then EXITING once */
  if (m->last_state != LVPN_STATE_EXITING) {
    m->last_state = LVPN_STATE_EXITING;
    report_state(m, LVPN_STATE_EXITING, err);
  }
  mgmt_detach(m, m->client);
  m->client = NULL; /* the host closes it now */
  m->restart_held = false;
  uv_timer_stop(&m->bytecount_timer);
}

void lvpn_mgmt_close(lvpn_mgmt_t *m, lvpn_mgmt_close_cb cb) {
  if (m == NULL || m->closing)
    return;
  m->closing = true;
  m->close_cb = cb;
  if (m->client != NULL && m->restart_held) /* not held forever */
    lvpn__client_resume(m->client);
  mgmt_detach(m, m->client);
  m->client = NULL;
  m->handles_open = 3 + (m->conn_open ? 1 : 0);
  if (m->conn_open && !m->in_input)
    conn_finish(m);
  uv_close((uv_handle_t *)&m->listener, mgmt_handle_closed);
  uv_close((uv_handle_t *)&m->bytecount_timer, mgmt_handle_closed);
  uv_close((uv_handle_t *)&m->watch, mgmt_handle_closed);
}
