/* `layervpn probe` (see cmd/probe.h). Stage times come from the client's
 * own trace events (lvpn_client_set_trace), read with jansson as they are
 * emitted; the control-channel events in minivpn's schema (packet_in /
 * packet_out / packet_dropped / state) are kept for the JSON report, as
 * OONI's network_events. Pings reuse layervpn ping's ICMP module. */
#include "cmd/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/ping.h"
#include "layervpn.h"

/* The stages, in the order a connection passes them. */
#define STAGES(XX)                                                             \
  XX(RESOLVE, "resolve")           /* address resolved, socket ready */        \
  XX(FIRST_PACKET, "first_packet") /* our hard reset on the wire */            \
  XX(SERVER_RESET, "server_reset") /* the server's hard reset */               \
  XX(TLS, "tls_handshake")         /* TLS handshake done */                    \
  XX(KEY_EXCHANGE, "key_exchange") /* key-method 2 from the server */          \
  XX(PUSH_REPLY, "push_reply")     /* PUSH_REPLY applied */                    \
  XX(DATA_CHANNEL, "data_channel") /* data channel keys up */                  \
  XX(PING, "ping")                 /* at least one echo reply */
enum {
#define XX(e, s) STAGE_##e,
  STAGES(XX)
#undef XX
      N_STAGES
};
static const char *const stage_names[N_STAGES] = {
#define XX(e, s) s,
    STAGES(XX)
#undef XX
};

#define MAX_EVENTS 4000 /* minivpn events kept per endpoint */

struct probes_s;

typedef struct {
  struct probes_s *all;
  const char *config;
  lvpn_client_t *client;
  uv_timer_t tick, deadline;
  uint64_t t0_ns;
  double stage_ms[N_STAGES]; /* < 0: not reached */
  json_t *info;              /* stage details: TLS version, options, ... */
  json_t *events;            /* minivpn-schema trace events */
  uint64_t events_dropped;
  char detail[512]; /* the library's last error message */
  int err;          /* 0, or why the probe failed */
  int started, finished, closing, handles_closed;
  /* pings */
  ping_echo_t echo;
  ping_stats_t stats;
  uint64_t sent, lingers;
  uint8_t pkt[PING_IP_ICMP_HDR + 56];
  char target[INET_ADDRSTRLEN];
  char gateway[INET_ADDRSTRLEN]; /* route-gateway from the PUSH_REPLY */
} probe_t;

typedef struct probes_s {
  uv_loop_t *loop;
  probe_t *p;
  int n, next, running, parallel, json;
  uint64_t count, interval_ms, timeout_ms;
  const char *target;
  uv_signal_t sigint, sigterm;
} probes_t;

static double since_ms(const probe_t *p) {
  return (double)(uv_hrtime() - p->t0_ns) / 1e6;
}

static void reach(probe_t *p, int stage) {
  if (p->stage_ms[stage] < 0)
    p->stage_ms[stage] = since_ms(p);
}

static void probe_start_next(probes_t *all);

static void handle_closed(uv_handle_t *h) {
  probe_t *p = h->data;
  if (++p->handles_closed == 2) {
    p->all->running--;
    probe_start_next(p->all);
  }
}

static void client_closed(lvpn_client_t *c) {
  probe_t *p = lvpn_client_get_data(c);
  p->client = NULL;
  uv_close((uv_handle_t *)&p->tick, handle_closed);
  uv_close((uv_handle_t *)&p->deadline, handle_closed);
}

/* The end of one probe (success or failure): stop the client; its STOPPED
 * event closes it. */
static void probe_finish(probe_t *p, int err) {
  if (p->finished)
    return;
  p->finished = 1;
  if (p->err == 0)
    p->err = err;
  uv_timer_stop(&p->tick);
  uv_timer_stop(&p->deadline);
  lvpn_client_stop(p->client);
}

/* ---- trace events → stages ---- */

/* The key options of a PUSH_REPLY (the trace has auth-token redacted). */
static void push_options(probe_t *p, const char *opts) {
  static const char *const keys[] = {
      "cipher",   "peer-id",       "protocol-flags", "topology",
      "ifconfig", "route-gateway", "ping",           "ping-restart",
      "tun-mtu",  "compress",      "comp-lzo",       "key-derivation"};
  json_t *o = json_object();
  const char *s = opts;
  size_t i;
  while (*s) {
    const char *e = strchr(s, ','), *sp;
    size_t len = e ? (size_t)(e - s) : strlen(s), klen;
    sp = memchr(s, ' ', len);
    klen = sp ? (size_t)(sp - s) : len;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
      if (strlen(keys[i]) == klen && strncmp(s, keys[i], klen) == 0 &&
          json_object_get(o, keys[i]) == NULL)
        json_object_set_new(o, keys[i],
                            sp ? json_stringn(sp + 1, len - klen - 1)
                               : json_true());
    if (klen == 10 && strncmp(s, "auth-token", 10) == 0)
      json_object_set_new(o, "auth-token", json_true()); /* never its value */
    if (klen == 13 && strncmp(s, "route-gateway", 13) == 0 && sp &&
        len - klen - 1 < sizeof(p->gateway))
      snprintf(p->gateway, sizeof(p->gateway), "%.*s", (int)(len - klen - 1),
               sp + 1);
    s += len;
    if (*s == ',')
      s++;
  }
  json_object_set_new(p->info, "push_options", o);
}

static void on_trace(void *ud, const char *js, size_t len) {
  probe_t *p = ud;
  json_t *ev = json_loadb(js, len, 0, NULL);
  const char *layer, *op;
  if (ev == NULL)
    return;
  layer = json_string_value(json_object_get(ev, "layer"));
  op = json_string_value(json_object_get(ev, "operation"));
  if (layer == NULL || op == NULL) {
    json_decref(ev);
    return;
  }
  if (strcmp(op, "packet_in") == 0 || strcmp(op, "packet_out") == 0 ||
      strcmp(op, "packet_dropped") == 0 || strcmp(op, "state") == 0) {
    if (json_array_size(p->events) < MAX_EVENTS)
      json_array_append(p->events, ev);
    else
      p->events_dropped++;
  }
  if (strcmp(layer, "networkio") == 0 && strcmp(op, "ready") == 0) {
    reach(p, STAGE_RESOLVE);
    json_object_set(p->info, "remote", json_object_get(ev, "remote"));
    json_object_set(p->info, "link", json_object_get(ev, "link"));
  } else if (strcmp(layer, "networkio") == 0 && strcmp(op, "write") == 0) {
    reach(p, STAGE_FIRST_PACKET);
  } else if (strcmp(op, "reset_in") == 0) {
    reach(p, STAGE_SERVER_RESET);
  } else if (strcmp(op, "tls_done") == 0 && p->stage_ms[STAGE_TLS] < 0) {
    reach(p, STAGE_TLS);
    json_object_set(p->info, "tls_version", json_object_get(ev, "version"));
    json_object_set(p->info, "tls_ciphersuite",
                    json_object_get(ev, "ciphersuite"));
    json_object_set(p->info, "server_cn", json_object_get(ev, "peer_cn"));
  } else if (strcmp(op, "key_method_2_in") == 0) {
    reach(p, STAGE_KEY_EXCHANGE);
  } else if (strcmp(op, "control_in") == 0 &&
             json_object_get(p->info, "push_options") == NULL) {
    const char *m = json_string_value(json_object_get(ev, "message"));
    const char *o = json_string_value(json_object_get(ev, "options"));
    if (m != NULL && strcmp(m, "PUSH_REPLY") == 0 && o != NULL)
      push_options(p, o);
  } else if (strcmp(op, "push_reply") == 0) {
    reach(p, STAGE_PUSH_REPLY);
  }
  json_decref(ev);
}

static void on_log(void *ud, int level, const char *layer, const char *msg) {
  probe_t *p = ud;
  (void)layer;
  if (level <= LVPN_LOG_ERROR && !p->finished)
    snprintf(p->detail, sizeof(p->detail), "%s", msg);
}

/* ---- pings ---- */

static void tick_cb(uv_timer_t *t) {
  probe_t *p = t->data;
  probes_t *all = p->all;
  size_t n;
  if (p->sent >= all->count) {
    /* the last reply's wait: up to 2 s, or every reply is in */
    if (p->stats.received >= all->count ||
        ++p->lingers * all->interval_ms >= 2000 + all->interval_ms)
      probe_finish(p, p->stats.received > 0 ? 0 : UV_ETIMEDOUT);
    return;
  }
  n = ping_build(&p->echo, (uint16_t)++p->sent, uv_hrtime() / 1000, p->pkt,
                 sizeof(p->pkt));
  ping_stats_sent(&p->stats, (uint16_t)p->sent);
  if (lvpn_client_inside_input(p->client, p->pkt, n) != 0)
    p->stats.errors++;
}

static void inside_write(lvpn_client_t *c, const uint8_t *pkt, size_t len) {
  probe_t *p = lvpn_client_get_data(c);
  ping_reply_t r;
  uint64_t now;
  if (p->finished)
    return;
  ping_parse(&p->echo, pkt, len, &r);
  if (r.kind != PING_REPLY)
    return;
  now = uv_hrtime() / 1000;
  ping_stats_reply(&p->stats, r.seq, r.has_time,
                   r.has_time && now > r.sent_us ? now - r.sent_us : 0);
  reach(p, STAGE_PING);
  if (p->stats.received >= p->all->count)
    probe_finish(p, 0);
}

static void start_pings(probe_t *p) {
  uint32_t addr, mask;
  const char *target = p->all->target ? p->all->target : p->gateway;
  if (lvpn_client_tunnel_ipv4(p->client, &addr, &mask) != 0) {
    snprintf(p->detail, sizeof(p->detail),
             "the server pushed no IPv4 address to ping from");
    probe_finish(p, LVPN_EPUSH);
    return;
  }
  if (*target == '\0') { /* net30 / p2p: the peer is the gateway */
    inet_ntop(AF_INET, &mask, p->gateway, sizeof(p->gateway));
    target = p->gateway;
  }
  snprintf(p->target, sizeof(p->target), "%s", target);
  inet_pton(AF_INET, p->target, &p->echo.dst);
  p->echo.src = addr;
  uv_timer_start(&p->tick, tick_cb, 0, p->all->interval_ms);
}

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  probe_t *p = lvpn_client_get_data(c);
  switch (ev) {
  case LVPN_EVENT_CONNECTED:
    reach(p, STAGE_DATA_CHANNEL);
    if (!p->finished)
      start_pings(p);
    return;
  case LVPN_EVENT_RESTARTING: /* a probe reports the first failure */
    probe_finish(p, err);
    return;
  case LVPN_EVENT_STOPPED:
    probe_finish(p, err == LVPN_ESTOPPED ? 0 : err);
    if (!p->closing) {
      p->closing = 1;
      lvpn_client_close(c, client_closed);
    }
    return;
  default:
    return;
  }
}

static void deadline_cb(uv_timer_t *t) {
  probe_t *p = t->data;
  if (p->detail[0] == '\0')
    snprintf(p->detail, sizeof(p->detail), "no progress within --timeout");
  probe_finish(p, UV_ETIMEDOUT);
}

/* ---- lifecycle ---- */

static void probe_start(probe_t *p) {
  probes_t *all = p->all;
  lvpn_config_t *cfg = NULL;
  int rc;
  p->started = 1;
  all->running++;
  uv_timer_init(all->loop, &p->tick);
  uv_timer_init(all->loop, &p->deadline);
  p->tick.data = p->deadline.data = p;
  p->t0_ns = uv_hrtime();
  rc = lvpn_config_load(&cfg, p->config, p->detail, sizeof(p->detail));
  if (rc == 0) {
    rc = lvpn_client_new(&p->client, all->loop, cfg);
    lvpn_config_free(cfg);
  }
  if (rc == 0) {
    lvpn_client_set_data(p->client, p);
    lvpn_client_set_log(p->client, on_log, p, LVPN_LOG_ERROR);
    lvpn_client_set_trace(p->client, on_trace, p, LVPN_TRACE_DEFAULT);
    lvpn_client_set_event_cb(p->client, on_event);
    lvpn_client_set_inside_write(p->client, inside_write);
    rc = lvpn_client_start(p->client);
    if (rc != 0) {
      p->finished = p->closing = 1;
      p->err = rc;
      lvpn_client_close(p->client, client_closed);
      return;
    }
    uv_timer_start(&p->deadline, deadline_cb, all->timeout_ms, 0);
    return;
  }
  /* the config cannot be used: nothing to close but the timers */
  p->finished = 1;
  p->err = rc;
  uv_close((uv_handle_t *)&p->tick, handle_closed);
  uv_close((uv_handle_t *)&p->deadline, handle_closed);
}

static void probe_start_next(probes_t *all) {
  while (all->next < all->n && all->running < all->parallel)
    probe_start(&all->p[all->next++]);
  if (all->running == 0 && all->next >= all->n) {
    uv_close((uv_handle_t *)&all->sigint, NULL);
    uv_close((uv_handle_t *)&all->sigterm, NULL);
  }
}

static void on_signal(uv_signal_t *h, int signum) {
  probes_t *all = h->data;
  int i;
  (void)signum;
  for (i = 0; i < all->n; i++) {
    probe_t *p = &all->p[i];
    if (p->started && !p->finished) {
      snprintf(p->detail, sizeof(p->detail), "interrupted");
      probe_finish(p, LVPN_ESTOPPED);
    }
  }
  all->next = all->n; /* start no more */
}

/* ---- report ---- */

static int failed_stage(const probe_t *p) {
  int i;
  if (p->client == NULL && p->stage_ms[0] < 0 && p->err == LVPN_ECONFIG)
    return -1;
  for (i = 0; i < N_STAGES; i++)
    if (p->stage_ms[i] < 0)
      return i;
  return N_STAGES - 1;
}

static json_t *report_json(const probe_t *p) {
  json_t *o = json_object(), *st = json_object(), *ping;
  int i, fs = p->err ? failed_stage(p) : -2;
  json_object_set_new(o, "config", json_string(p->config));
  json_object_set_new(o, "ok", json_boolean(p->err == 0));
  json_object_set_new(o, "failed_stage",
                      fs == -2   ? json_null()
                      : fs == -1 ? json_string("config")
                                 : json_string(stage_names[fs]));
  json_object_set_new(
      o, "error", p->err ? json_string(lvpn_err_name(p->err)) : json_null());
  json_object_set_new(o, "error_text",
                      p->err ? json_string(lvpn_strerror(p->err))
                             : json_null());
  json_object_set_new(o, "detail",
                      p->err && p->detail[0] ? json_string(p->detail)
                                             : json_null());
  for (i = 0; i < N_STAGES; i++)
    json_object_set_new(st, stage_names[i],
                        p->stage_ms[i] >= 0 ? json_real(p->stage_ms[i])
                                            : json_null());
  json_object_set_new(o, "stages_ms", st);
  json_object_update(o, p->info);
  ping = json_object();
  json_object_set_new(ping, "target",
                      p->target[0] ? json_string(p->target) : json_null());
  json_object_set_new(ping, "sent",
                      json_integer((json_int_t)p->stats.transmitted));
  json_object_set_new(ping, "received",
                      json_integer((json_int_t)p->stats.received));
  json_object_set_new(
      ping, "loss_percent",
      json_real(p->stats.transmitted
                    ? 100.0 *
                          (double)(p->stats.transmitted - p->stats.received) /
                          (double)p->stats.transmitted
                    : 0.0));
  if (p->stats.timed > 0) {
    json_t *rtt = json_object();
    json_object_set_new(rtt, "min", json_real((double)p->stats.tmin / 1000.0));
    json_object_set_new(
        rtt, "avg",
        json_real((double)p->stats.tsum / (double)p->stats.timed / 1000.0));
    json_object_set_new(rtt, "max", json_real((double)p->stats.tmax / 1000.0));
    json_object_set_new(ping, "rtt_ms", rtt);
  }
  json_object_set_new(o, "ping", ping);
  json_object_set(o, "network_events", p->events);
  json_object_set_new(o, "network_events_dropped",
                      json_integer((json_int_t)p->events_dropped));
  return o;
}

static void report_text(const probe_t *p, FILE *out) {
  int i, fs = p->err ? failed_stage(p) : -2;
  json_t *v;
  if (fs == -2)
    fprintf(out, "%s: ok\n", p->config);
  else
    fprintf(out, "%s: FAILED at %s: %s (%s)\n", p->config,
            fs == -1 ? "config" : stage_names[fs], lvpn_err_name(p->err),
            lvpn_strerror(p->err));
  if (p->err && p->detail[0])
    fprintf(out, "  detail: %s\n", p->detail);
  for (i = 0; i < N_STAGES - 1; i++) {
    if (p->stage_ms[i] < 0)
      break;
    fprintf(out, "  %-14s %9.1f ms", stage_names[i], p->stage_ms[i]);
    if (i == STAGE_RESOLVE && (v = json_object_get(p->info, "remote")))
      fprintf(out, "  %s %s", json_string_value(v),
              json_string_value(json_object_get(p->info, "link")));
    if (i == STAGE_TLS)
      fprintf(out, "  %s %s, server CN %s",
              json_string_value(json_object_get(p->info, "tls_version")),
              json_string_value(json_object_get(p->info, "tls_ciphersuite")),
              json_string_value(json_object_get(p->info, "server_cn")));
    if (i == STAGE_PUSH_REPLY &&
        (v = json_object_get(p->info, "push_options"))) {
      const char *k;
      json_t *x;
      int first = 1;
      fputs(" ", out);
      json_object_foreach(v, k, x) {
        fprintf(out, "%s %s%s%s", first ? "" : ",", k,
                json_is_string(x) ? " " : "",
                json_is_string(x) ? json_string_value(x) : "");
        first = 0;
      }
    }
    fputs("\n", out);
  }
  if (p->stats.transmitted > 0) {
    fprintf(out, "  %-14s %llu/%llu replies from %s", "ping",
            (unsigned long long)p->stats.received,
            (unsigned long long)p->stats.transmitted, p->target);
    if (p->stats.timed > 0)
      fprintf(out, ", rtt min/avg/max %.3f/%.3f/%.3f ms",
              (double)p->stats.tmin / 1000.0,
              (double)p->stats.tsum / (double)p->stats.timed / 1000.0,
              (double)p->stats.tmax / 1000.0);
    fputs("\n", out);
  }
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: layervpn probe [--json] [--parallel N] [-c COUNT] "
          "[-i INTERVAL]\n"
          "                      [--target IPv4] [--timeout S] CONFIG.ovpn...\n"
          "Connects to each config's server without root or TUN device and "
          "reports\nthe time of each stage, ICMP echoes through the tunnel "
          "(to the pushed\ngateway, or --target) and, on failure, the stage "
          "and the error by name.\n--json: one JSON document per endpoint "
          "(one per line), with minivpn's\ntrace events. Exit status: 0 "
          "all passed, 1 one failed, 2 usage error.\n");
}

static int number(const char *s, double min, double max, double *out) {
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  return errno == 0 && end != s && *end == '\0' && isfinite(*out) &&
                 *out >= min && *out <= max
             ? 0
             : -1;
}

int cmd_probe(int argc, char **argv) {
  uv_loop_t loop;
  probes_t all;
  int i, n = 0, failed = 0;
  double v;
  char **configs = calloc((size_t)argc + 1, sizeof(char *));
  struct in_addr a;

  if (configs == NULL)
    return 2;
  memset(&all, 0, sizeof(all));
  all.count = 5;
  all.interval_ms = 200;
  all.timeout_ms = 60000;
  for (i = 0; i < argc; i++) {
    const char *o = argv[i];
    int has = i + 1 < argc;
    if (strcmp(o, "--json") == 0) {
      all.json = 1;
    } else if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
      usage(stdout);
      free(configs);
      return 0;
    } else if (has && strcmp(o, "--parallel") == 0 &&
               number(argv[i + 1], 1, 1000, &v) == 0) {
      all.parallel = (int)v, i++;
    } else if (has && strcmp(o, "-c") == 0 &&
               number(argv[i + 1], 0, 10000, &v) == 0) {
      all.count = (uint64_t)v, i++;
    } else if (has && strcmp(o, "-i") == 0 &&
               number(argv[i + 1], 0.01, 60, &v) == 0) {
      all.interval_ms = (uint64_t)(v * 1000), i++;
    } else if (has && strcmp(o, "--timeout") == 0 &&
               number(argv[i + 1], 1, 3600, &v) == 0) {
      all.timeout_ms = (uint64_t)(v * 1000), i++;
    } else if (has && strcmp(o, "--target") == 0 &&
               inet_pton(AF_INET, argv[i + 1], &a) == 1) {
      all.target = argv[++i];
    } else if (o[0] != '-') {
      configs[n++] = argv[i];
    } else {
      fprintf(stderr, "layervpn probe: bad option or value '%s%s%s'\n", o,
              has ? " " : "", has ? argv[i + 1] : "");
      usage(stderr);
      free(configs);
      return 2;
    }
  }
  if (n == 0) {
    usage(stderr);
    free(configs);
    return 2;
  }
  all.p = calloc((size_t)n, sizeof(probe_t));
  if (all.p == NULL) {
    free(configs);
    return 2;
  }
  all.n = n;
  if (all.parallel == 0)
    all.parallel = n;
  uv_loop_init(&loop);
  all.loop = &loop;
  for (i = 0; i < n; i++) {
    probe_t *p = &all.p[i];
    int k;
    p->all = &all;
    p->config = configs[i];
    for (k = 0; k < N_STAGES; k++)
      p->stage_ms[k] = -1;
    p->info = json_object();
    p->events = json_array();
    p->echo.size = 56;
    p->echo.ttl = 64;
    p->echo.id = (uint16_t)(getpid() + i);
    ping_stats_init(&p->stats);
  }
  if (all.count == 0) /* no pings: data channel up is the last stage */
    for (i = 0; i < n; i++)
      all.p[i].stage_ms[STAGE_PING] = 0;
  uv_signal_init(&loop, &all.sigint);
  uv_signal_init(&loop, &all.sigterm);
  all.sigint.data = all.sigterm.data = &all;
  uv_signal_start(&all.sigint, on_signal, SIGINT);
  uv_signal_start(&all.sigterm, on_signal, SIGTERM);
  signal(SIGPIPE, SIG_IGN);
  probe_start_next(&all);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0)
    fprintf(stderr, "layervpn probe: internal error: handles left open\n");
  for (i = 0; i < n; i++) {
    probe_t *p = &all.p[i];
    if (p->err != 0)
      failed = 1;
    if (all.json) {
      json_t *o = report_json(p);
      char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
      if (s != NULL)
        printf("%s\n", s);
      free(s);
      json_decref(o);
    } else {
      report_text(p, stdout);
    }
    json_decref(p->info);
    json_decref(p->events);
  }
  fflush(stdout);
  free(all.p);
  free(configs);
  return failed;
}
