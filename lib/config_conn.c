/* Config options of the connection: mode, device, remotes and protocol,
 * keepalive and retry timers.
 *
 * Accepted, our behaviour being what they ask:
 *   persist-key               we never drop keys across restarts
 *   resolv-retry              we retry name resolution on every attempt
 *   ping-timer-rem            a client always has its remote
 *   disable-occ               we never send OCC requests nor compare the
 *                             server's options (requests are answered, as
 *                             OpenVPN does with disable-occ)
 * Accepted with a warning (tuning left to the system, or no meaning for a
 *   tun client): fast-io, sndbuf, rcvbuf, txqueuelen, tcp-queue-limit,
 *   lladdr, disable-dco, http-proxy-retry, socks-proxy-retry,
 *   http-proxy-timeout.
 * Remotes: any number (up to LVPN__CONFIG_MAX_REMOTES) of `remote` lines or
 *   <connection> blocks. A block starts from the global settings in force
 *   where it appears and takes only per-connection options (conn_names);
 *   its settings are saved in the entry (conn_fields) and put back in place
 *   by lvpn__config_use_remote() when the client moves to it. As in
 *   OpenVPN, remote lines are ignored once blocks are given, and global
 *   per-connection options after a block are warned about.
 * Local socket: local, lport, bind, nobind with OpenVPN's client rules;
 *   mark, bind-dev and mtu-disc set on the outside socket (networkio);
 *   tcp-nodelay / socket-flags TCP_NODELAY and persist-local-ip accepted,
 *   our behaviour being what they ask (TCP_NODELAY always set; 'local' is
 *   an IP address, never resolved again).
 * Refused until implemented: the options marked in the table. Proxies:
 *   lib/config_proxy.c.
 */
#include "lib/config_opts.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int fn_client(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                     int n) {
  a->cfg->client = a->cfg->pull = a->cfg->tls_client = true;
  return 0;
}

static int fn_dev(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                  int n) {
  if (strcmp(o->name, "dev-type") == 0) {
    if (strcmp(p[0], "tun") == 0)
      return 0;
    if (strcmp(p[0], "tap") == 0)
      return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                            "dev-type tap is not supported");
    return lvpn__opt_fail(a, LVPN_ECONFIG, "unknown dev-type '%s' (only 'tun')",
                          p[0]);
  }
  if (strncmp(p[0], "tap", 3) == 0)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "dev-type tap is not supported");
  if (strcmp(p[0], "null") == 0)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED, "dev null is not supported");
  if (p[0][0] == '\0' || strlen(p[0]) >= 16 || strchr(p[0], '/') != NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "bad device name '%s'", p[0]);
  return lvpn__opt_set_str(&a->cfg->dev, p[0]);
}

/* dev-node PATH: the TUN clone device to open instead of /dev/net/tun
 * (OpenVPN's Linux meaning). */
static int fn_dev_node(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                       char *const *p, int n) {
  (void)o;
  (void)n;
  if (p[0][0] == '\0' || strlen(p[0]) >= LVPN__DEV_NODE_MAX)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "dev-node: the path must be 1 to %d bytes long",
                          LVPN__DEV_NODE_MAX - 1);
  return lvpn__opt_set_str(&a->cfg->dev_node, p[0]);
}

static int parse_proto(lvpn__opt_ctx_t *a, const char *s, lvpn__proto_t *out) {
  static const char *const names[] = {
      "udp",  "udp4",       "udp6",        "tcp",         "tcp4",
      "tcp6", "tcp-client", "tcp4-client", "tcp6-client", NULL};
  static const uint8_t fam[] = {0, 4, 6, 0, 4, 6, 0, 4, 6};
  int k = lvpn__lex_keyword(s, names);
  if (k < 0 && strstr(s, "server") != NULL)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED, "'proto %s' is a server option",
                          s);
  if (k < 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "unknown protocol '%s'", s);
  out->tcp = k >= 3;
  out->family = fam[k];
  return 0;
}

static int fn_proto(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                    int n) {
  return parse_proto(a, p[0], &a->cfg->proto);
}

/* The memory one connection entry owns. */
static void remote_walk(lvpn__remote_t *r, lvpn__config_ptr_fn fn, void *ud) {
  fn(&r->host, 0, ud);
  fn((char **)&r->fields,
     r->fields != NULL ? lvpn__config_conn_fields_size() : 0, ud);
  if (r->own_proxy) /* by value: the clone's copies its own */
    lvpn__config_proxy_walk(&r->proxy, fn, ud);
  if (r->own_wrap)
    lvpn__opt_blob_walk(&r->wrap_key, fn, ud);
}

/* proto-force udp|tcp (any spelling `proto` takes; the family is not
 * used, as in OpenVPN): see lvpn__config_proto_force. */
static int fn_proto_force(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                          char *const *p, int n) {
  lvpn__proto_t pr = {0, 0};
  (void)o;
  (void)n;
  if (parse_proto(a, p[0], &pr) != 0)
    return LVPN_ECONFIG;
  a->cfg->proto_force = (int8_t)pr.tcp;
  return 0;
}

int lvpn__config_proto_force(lvpn_config_t *c, char *err, size_t errlen) {
  int i, kept = 0, had = c->n_remotes;
  if (c->proto_force < 0 || c->n_remotes == 0)
    return 0;
  for (i = 0; i < c->n_remotes; i++) {
    if (lvpn__config_remote_proto(c, i).tcp == (uint8_t)c->proto_force) {
      c->remotes[kept++] = c->remotes[i];
      continue;
    }
    remote_walk(&c->remotes[i], lvpn__config_ptr_free, NULL);
    memset(&c->remotes[i], 0, sizeof(c->remotes[i]));
  }
  c->n_remotes = kept;
  if (kept == 0) {
    snprintf(err, errlen, "proto-force %s: none of the %d remotes uses %s",
             c->proto_force ? "tcp" : "udp", had,
             c->proto_force ? "TCP" : "UDP");
    return LVPN_ECONFIG;
  }
  return 0;
}

/* lport may be 0: bind to a port the system picks (as getaddrinfo "0"). */
static int parse_port_lo(lvpn__opt_ctx_t *a, const char *s, uint64_t lo,
                         uint16_t *out) {
  uint64_t v;
  if (lvpn__lex_uint(s, lo, 65535, &v) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "bad port '%s' (%u..65535)", s,
                          (unsigned)lo);
  *out = (uint16_t)v;
  return 0;
}

static int parse_port(lvpn__opt_ctx_t *a, const char *s, uint16_t *out) {
  return parse_port_lo(a, s, 1, out);
}

/* port: remote and local port; rport: remote; lport: local (bound). */
static int fn_port(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                   int n) {
  lvpn_config_t *c = a->cfg;
  uint16_t v = 0;
  if (parse_port_lo(a, p[0], o->name[0] == 'l' ? 0 : 1, &v) != 0)
    return LVPN_ECONFIG;
  if (o->name[0] != 'l')
    c->port = v;
  if (o->name[0] != 'r')
    c->lport = v;
  if (o->name[0] == 'l')
    c->lport_given = true;
  return 0;
}

static int fn_local(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                    int n) {
  size_t len = strlen(p[0]);
  unsigned char ip[16];
  if (len == 0 || len > LVPN__CONFIG_LOCAL_MAX ||
      (inet_pton(AF_INET, p[0], ip) != 1 && inet_pton(AF_INET6, p[0], ip) != 1))
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "'local %s': only an IP address is supported here",
                          p[0]);
  memcpy(a->cfg->local, p[0], len + 1);
  return 0;
}

/* mark N: OpenVPN 2.6 reads it with atoi; a fwmark is 32 bits. */
static int fn_mark(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                   int n) {
  uint64_t v;
  if (lvpn__lex_uint(p[0], 0, UINT32_MAX, &v) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'mark' must be a number from 0 to 4294967295, not "
                          "'%s'",
                          p[0]);
  a->cfg->mark = (uint32_t)v;
  return 0;
}

static int fn_bind_dev(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                       char *const *p, int n) {
  size_t len = strlen(p[0]);
  if (len == 0 || len >= sizeof(a->cfg->bind_dev) || strchr(p[0], '/'))
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'bind-dev %s': not a network device name (1 to "
                          "15 characters, no '/')",
                          p[0]);
  memcpy(a->cfg->bind_dev, p[0], len + 1);
  return 0;
}

/* mtu-disc no|maybe|yes: the kernel's IP_PMTUDISC_DONT, _WANT, _DO. */
static int fn_mtu_disc(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                       char *const *p, int n) {
  static const char *const names[] = {"no", "maybe", "yes", NULL};
  int k = lvpn__lex_keyword(p[0], names);
  if (k < 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'mtu-disc': unknown value '%s' (no, maybe or yes)",
                          p[0]);
  a->cfg->mtu_disc = k; /* IP_PMTUDISC_DONT 0, _WANT 1, _DO 2 */
  return 0;
}

/* socket-flags: OpenVPN knows TCP_NODELAY only, which this client's TCP
 * socket always has (networkio.c); tcp-nodelay is its short form. */
static int fn_socket_flags(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                           char *const *p, int n) {
  int i;
  for (i = 0; i < n; i++)
    if (strcmp(p[i], "TCP_NODELAY") != 0)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'socket-flags': unknown flag '%s' (only "
                            "TCP_NODELAY)",
                            p[i]);
  return 0;
}

static int fn_bind(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                   int n) {
  if (n > 0 && strcmp(p[0], "ipv6only") != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'bind': unknown value '%s' (only 'ipv6only')", p[0]);
  a->cfg->bind_given = true; /* ipv6only: a client binds one family anyway */
  return 0;
}

static int fn_remote(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                     int n) {
  lvpn__remote_t r = {0};
  int e;
  if (a->block_remote == NULL && a->cfg->conn_blocks) {
    lvpn__opt_warn(a, "'remote' outside the <connection> blocks is ignored "
                      "(as OpenVPN does when blocks are given)");
    return 0;
  }
  if (a->block_remote == NULL &&
      (e = lvpn__opt_room(a, a->cfg->n_remotes, LVPN__CONFIG_MAX_REMOTES,
                          "remote")) != 0)
    return e;
  if (a->block_remote == NULL &&
      (e = lvpn__opt_grow(a, (void **)&a->cfg->remotes, &a->cfg->cap_remotes,
                          a->cfg->n_remotes, LVPN__CONFIG_MAX_REMOTES,
                          sizeof(*a->cfg->remotes))) != 0)
    return e;
  if (p[0][0] == '\0' || strlen(p[0]) > 255)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "bad host name");
  if (n > 1 && (e = parse_port(a, p[1], &r.port)) != 0)
    return e;
  if (n > 2 && (e = parse_proto(a, p[2], &r.proto)) != 0)
    return e;
  r.has_proto = n > 2;
  if ((r.host = strdup(p[0])) == NULL)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  if (a->block_remote != NULL) { /* in a block: the last one counts */
    lvpn__remote_t *b = a->block_remote;
    free(b->host); /* the block's proxy and fields stay */
    b->host = r.host;
    b->port = r.port;
    b->proto = r.proto;
    b->has_proto = r.has_proto;
  } else {
    a->cfg->remotes[a->cfg->n_remotes++] = r;
  }
  return 0;
}

static int fn_keepalive(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                        char *const *p, int n) {
  int ping = 0, restart = 0;
  if (lvpn__opt_get_int_pair(a, o, p, n, 1, INT_MAX, INT_MAX, &ping,
                             &restart) != 0)
    return LVPN_ECONFIG;
  if (restart < 2 * (int64_t)ping)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "keepalive: the second value "
                          "(ping-restart) must be at least twice the first "
                          "(ping)");
  a->cfg->ping = ping;
  a->cfg->ping_restart = restart;
  return 0;
}

static int fn_connect_retry(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                            char *const *p, int n) {
  return lvpn__opt_get_int_pair(a, o, p, n, 0, 65535, 65535,
                                &a->cfg->connect_retry,
                                &a->cfg->connect_retry_max_delay);
}

static int fn_exit_notify(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                          char *const *p, int n) {
  int v = 1; /* bare option: 1 second */
  if (n > 0 && lvpn__opt_get_int(a, o, p[0], 0, 65535, &v) != 0)
    return LVPN_ECONFIG;
  a->cfg->explicit_exit_notify = v;
  return 0;
}

/* ping-restart N / ping-exit N: one timeout, the last one given says
 * what it does (OpenVPN's ping_rec_timeout_action). */
static int fn_ping_rec(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                       char *const *p, int n) {
  bool exit = strcmp(o->name, "ping-exit") == 0;
  int v;
  if (lvpn__opt_get_int(a, o, p[0], 0, INT_MAX, &v) != 0)
    return LVPN_ECONFIG;
  a->cfg->ping_exit = exit ? v : 0;
  a->cfg->ping_restart = exit ? 0 : v;
  return 0;
}

/* inactive N [BYTES]: the byte threshold is optional (OpenVPN 2.6). */
static int fn_inactive(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                       char *const *p, int n) {
  uint64_t v = 0;
  if (n > 1 && lvpn__lex_uint(p[1], 0, INT64_MAX, &v) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'inactive': bytes must be a number, not '%s'",
                          p[1]);
  if (lvpn__opt_get_int(a, o, p[0], 0, INT_MAX, &a->cfg->inactive) != 0)
    return LVPN_ECONFIG;
  a->cfg->inactive_bytes = (int64_t)v;
  return 0;
}

static const lvpn__opt_t opts[] = {
    OPT_FN("client", 0, 0, fn_client),
    OPT_FLAG("pull", pull),
    OPT_FLAG("tls-client", tls_client),
    OPT_FN("dev", 1, 1, fn_dev),
    OPT_FN("dev-type", 1, 1, fn_dev),
    OPT_FN("proto", 1, 1, fn_proto),
    OPT_FN("remote", 1, 3, fn_remote),
    OPT_FLAG("remote-random", remote_random),
    OPT_FN("port", 1, 1, fn_port),
    OPT_FN("rport", 1, 1, fn_port),
    OPT_FN("lport", 1, 1, fn_port),
    OPT_FN("local", 1, 1, fn_local),
    OPT_FN("bind", 0, 1, fn_bind),
    OPT_FLAG("nobind", nobind),
    OPT_FLAG("float", floating),
    OPT_FLAG("remote-random-hostname", remote_random_hostname),
    OPT_FLAG("persist-remote-ip", persist_remote_ip),
    {OPT_E("connection", LVPN__OPT_FN, 0, 0), .inline_ok = true,
     .fn = lvpn__config_fn_connection},
    OPT_FN("keepalive", 2, 2, fn_keepalive),
    OPT_INT("ping", ping, 0, INT_MAX),
    OPT_FN("ping-restart", 1, 1, fn_ping_rec),
    OPT_FN("ping-exit", 1, 1, fn_ping_rec),
    OPT_FN("inactive", 1, 2, fn_inactive),
    OPT_INT("connect-timeout", connect_timeout, 0, INT_MAX),
    OPT_FN("connect-retry", 1, 2, fn_connect_retry),
    OPT_INT("connect-retry-max", connect_retry_max, 0, INT_MAX),
    OPT_INT("server-poll-timeout", server_poll_timeout, 0, INT_MAX),
    OPT_FN("explicit-exit-notify", 0, 1, fn_exit_notify),
    OPT_NOOP("persist-key", 0, 0),
    OPT_FLAG("persist-tun", persist_tun), /* tun/tun.c: lvpn__tun_keep_t */
    OPT_NOOP("resolv-retry", 1, 1),
    OPT_NOOP("ping-timer-rem", 0, 0),
    OPT_WARN("fast-io", "a performance hint; the event loop is libuv's"),
    OPT_WARN("sndbuf", "socket buffer sizes are left to the system"),
    OPT_WARN("rcvbuf", "socket buffer sizes are left to the system"),
    OPT_WARN("txqueuelen", "the tun queue length is left to the system"),
    OPT_WARN("tcp-queue-limit", "the TCP send queue is bounded by the "
                                "layers' own limits"),
    OPT_WARN("lladdr", "only applies to tap devices; this client uses tun"),
    OPT_WARN("disable-dco", "this client has no data channel offload"),
    OPT_WARN("http-proxy-retry", "removed in OpenVPN 2.4: proxy retries "
                                 "follow 'connect-retry-max'"),
    OPT_WARN("socks-proxy-retry", "removed in OpenVPN 2.4: proxy retries "
                                  "follow 'connect-retry-max'"),
    OPT_WARN("http-proxy-timeout", "removed in OpenVPN 2.4: use "
                                   "'connect-timeout'"),
    /* 'local' is an IP address here: never resolved again anyway */
    OPT_NOOP("persist-local-ip", 0, 0),
    OPT_TODO("preresolve"),
    OPT_FN("proto-force", 1, 1, fn_proto_force),
    OPT_FN("bind-dev", 1, 1, fn_bind_dev),
    OPT_FN("mark", 1, 1, fn_mark),
    OPT_FN("socket-flags", 1, LVPN__LEX_MAX_WORDS - 1, fn_socket_flags),
    OPT_NOOP("tcp-nodelay", 0, 0), /* TCP_NODELAY is always set */
    OPT_FN("mtu-disc", 1, 1, fn_mtu_disc),
    OPT_TODO("mtu-test"),
    OPT_FN("dev-node", 1, 1, fn_dev_node),
    OPT_INT("session-timeout", session_timeout, 0, INT_MAX),
    /* what it asks is always so: packetmuxer drops every packet of a
     * second server session id */
    OPT_NOOP("single-session", 0, 0),
    OPT_TODO("compat-mode"),
    OPT_FLAG("passtos", passtos),
    OPT_NOOP("disable-occ", 0, 0),
};

static int init(lvpn_config_t *c) {
  c->port = LVPN__DEFAULT_PORT;
  c->connect_timeout = 120;
  c->connect_retry = 1;
  c->connect_retry_max_delay = 300;
  c->lport = LVPN__DEFAULT_PORT;
  c->mtu_disc = -1;
  c->proto_force = -1;
  return lvpn__opt_set_str(&c->dev, "tun");
}

static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  int k;
  fn(&c->dev, 0, ud);
  fn(&c->dev_node, 0, ud);
  for (k = 0; k < c->n_remotes; k++)
    remote_walk(&c->remotes[k], fn, ud);
}

static int validate(const lvpn_config_t *c, lvpn__opt_ctx_t *a) {
  int e;
  if (c->n_remotes == 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "no 'remote' given");
  if (!c->conn_blocks && (e = lvpn__config_check_bind(c, a)) != 0)
    return e; /* a block's own settings were checked at its end */
  if (!c->tls_client)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "no 'client' given (or 'tls-client' "
                          "with 'pull')");
  if (!c->pull)
    return lvpn__opt_fail(a, LVPN_EUNSUPPORTED,
                          "'tls-client' without 'pull' is not "
                          "supported: use 'client'");
  return 0;
}

const lvpn__config_area_t lvpn__config_conn = {opts, OPT_COUNT(opts), init,
                                               walk, validate};

bool lvpn__config_bind_local(const lvpn_config_t *cfg) {
  return !cfg->nobind &&
         (cfg->local[0] != '\0' || cfg->lport_given || cfg->bind_given);
}

int lvpn__config_check_bind(const lvpn_config_t *c, lvpn__opt_ctx_t *a) {
  const char *what = c->bind_given ? "'bind'"
                     : c->local[0] != '\0' ? "'local'"
                     : c->lport_given       ? "'lport'"
                                            : NULL;
  if (c->nobind && what != NULL)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "%s and 'nobind' cannot be used together", what);
  return 0;
}

uint16_t lvpn__config_remote_port(const lvpn_config_t *cfg, int i) {
  return cfg->remotes[i].port != 0 ? cfg->remotes[i].port : cfg->port;
}

lvpn__proto_t lvpn__config_remote_proto(const lvpn_config_t *cfg, int i) {
  return cfg->remotes[i].has_proto ? cfg->remotes[i].proto : cfg->proto;
}
