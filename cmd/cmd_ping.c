/* `layervpn ping CONFIG TARGET [-c N] [-i S] [-s SIZE] [-W S] [-w S] [-q]
 * [-v]`: ICMP echo through the tunnel as ping(8), with no root and no TUN
 * device. The client runs with host inside I/O (lvpn_client_set_inside_write):
 * we write whole IPv4 echo requests from our tunnel address into the tunnel
 * and read the replies the server routes back; no socket, no capability.
 *
 * Output and exit status follow ping(8): one line per reply, the statistics
 * block at the end, exit 0 when a reply came, 1 when none did (or, with -w,
 * fewer than -c), 2 for usage and configuration errors. A connection that
 * fails before the first echo (certificate rejected, handshake timeout, ...)
 * prints one line naming the cause and exits 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/ping.h"
#include "layervpn.h"

typedef struct {
  uv_loop_t *loop;
  lvpn_client_t *client;
  uv_timer_t tick, linger, deadline;
  uv_signal_t sigint, sigterm;
  ping_echo_t echo;
  ping_stats_t stats;
  const char *target;
  uint64_t count;      /* -c; 0: until interrupted */
  uint64_t interval_ms, linger_ms, deadline_ms;
  int quiet, verbose;
  int connected_once, finished, failed;
  int conn_err;          /* why the connection failed before the first echo */
  uint64_t first_send_ns;
  uint16_t next_seq;
  uint8_t *pkt;
  char last_fatal[512]; /* the library's last fatal message, without -v */
} ping_cli_t;

static void usage(FILE *f) {
  fprintf(f,
          "usage: layervpn ping [-c COUNT] [-i INTERVAL] [-s SIZE] [-W TIMEOUT]\n"
          "                     [-w DEADLINE] [-q] [-v] CONFIG.ovpn TARGET\n"
          "Sends ICMP echo requests through the tunnel to the IPv4 address\n"
          "TARGET, without root and without a TUN device.\n");
}

static uint64_t now_us(void) { return uv_hrtime() / 1000; }

static void close_all(ping_cli_t *p) {
  uv_handle_t *hs[] = {(uv_handle_t *)&p->tick, (uv_handle_t *)&p->linger,
                       (uv_handle_t *)&p->deadline, (uv_handle_t *)&p->sigint,
                       (uv_handle_t *)&p->sigterm};
  size_t i;
  for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
    if (!uv_is_closing(hs[i]))
      uv_close(hs[i], NULL);
  lvpn_client_close(p->client, NULL); /* harmless when already closing */
}

/* Stop pinging: the statistics (once connected), then the client. */
static void finish(ping_cli_t *p) {
  if (p->finished)
    return;
  p->finished = 1;
  uv_timer_stop(&p->tick);
  uv_timer_stop(&p->linger);
  uv_timer_stop(&p->deadline);
  if (p->connected_once) {
    uint64_t ms = p->stats.transmitted
                      ? (uv_hrtime() - p->first_send_ns) / 1000000
                      : 0;
    ping_stats_print(stdout, &p->stats, p->target, ms);
    fflush(stdout);
  }
  lvpn_client_stop(p->client);
}

static void linger_cb(uv_timer_t *t) { finish(t->data); }

static void send_one(ping_cli_t *p) {
  uint16_t seq = ++p->next_seq;
  size_t n = ping_build(&p->echo, seq, now_us(), p->pkt,
                        PING_IP_ICMP_HDR + p->echo.size);
  int rc;
  if (p->stats.transmitted == 0)
    p->first_send_ns = uv_hrtime();
  ping_stats_sent(&p->stats, seq);
  rc = lvpn_client_inside_input(p->client, p->pkt, n);
  if (rc != 0) {
    fprintf(stderr, "layervpn ping: icmp_seq=%u not sent: %s\n",
            (unsigned)seq, lvpn_strerror(rc));
    p->stats.errors++;
  }
}

static void tick_cb(uv_timer_t *t) {
  ping_cli_t *p = t->data;
  /* As ping(8): with a deadline, -c counts replies and requests go on until
   * that many came back; without, -c counts requests. */
  int counted = p->count && !p->deadline_ms;
  if (counted && p->stats.transmitted >= p->count) {
    uv_timer_stop(t);
    return;
  }
  send_one(p);
  if (counted && p->stats.transmitted >= p->count) {
    /* the last one: wait for its reply, at most -W */
    uv_timer_stop(t);
    uv_timer_start(&p->linger, linger_cb, p->linger_ms, 0);
  }
}

static void inside_write(lvpn_client_t *c, const uint8_t *pkt, size_t len) {
  ping_cli_t *p = lvpn_client_get_data(c);
  ping_reply_t r;
  uint64_t rtt = 0, now;
  int dup;

  if (p->finished)
    return;
  ping_parse(&p->echo, pkt, len, &r);
  if (r.kind == PING_IGNORE)
    return;
  if (r.kind == PING_ERROR) {
    p->stats.errors++;
    if (!p->quiet)
      ping_print_reply(stdout, &r, 0, 0);
    fflush(stdout);
    return;
  }
  now = now_us();
  if (r.has_time)
    rtt = now > r.sent_us ? now - r.sent_us : 0;
  dup = ping_stats_reply(&p->stats, r.seq, r.has_time, rtt);
  if (!p->quiet)
    ping_print_reply(stdout, &r, dup, rtt);
  fflush(stdout);
  if (p->count && p->stats.received >= p->count)
    finish(p);
}

static void deadline_cb(uv_timer_t *t) {
  ping_cli_t *p = t->data;
  if (!p->connected_once && !p->conn_err)
    p->conn_err = UV_ETIMEDOUT;
  finish(p);
}

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  ping_cli_t *p = lvpn_client_get_data(c);
  uint32_t addr, mask;
  char buf[INET_ADDRSTRLEN];

  switch (ev) {
  case LVPN_EVENT_CONNECTED:
    if (p->finished)
      return;
    if (lvpn_client_tunnel_ipv4(c, &addr, &mask) != 0) {
      fprintf(stderr, "layervpn ping: the server pushed no IPv4 address\n");
      p->failed = 1;
      finish(p);
      return;
    }
    p->echo.src = addr;
    p->connected_once = 1;
    if (p->verbose) {
      inet_ntop(AF_INET, &addr, buf, sizeof(buf));
      fprintf(stderr, "layervpn ping: connected, tunnel address %s\n", buf);
    }
    printf("PING %s (%s) %zu(%zu) bytes of data.\n", p->target, p->target,
           p->echo.size, p->echo.size + PING_IP_ICMP_HDR);
    fflush(stdout);
    uv_timer_start(&p->tick, tick_cb, 0, p->interval_ms);
    return;
  case LVPN_EVENT_RESTARTING:
    if (p->finished)
      return;
    if (!p->connected_once) {
      /* ping needs a working tunnel now: the first failure is the answer */
      p->conn_err = err;
    } else {
      fprintf(stderr, "layervpn ping: connection lost: %s\n",
              lvpn_strerror(err));
    }
    /* stop from the next loop turn, not from inside the client's restart */
    uv_timer_stop(&p->tick);
    uv_timer_start(&p->linger, linger_cb, 0, 0);
    return;
  case LVPN_EVENT_STOPPED:
    if (!p->connected_once && !p->conn_err && err != LVPN_ESTOPPED)
      p->conn_err = err;
    else if (p->connected_once && !p->finished)
      fprintf(stderr, "layervpn ping: connection lost: %s\n",
              lvpn_strerror(err));
    finish(p);
    close_all(p);
    return;
  default:
    return;
  }
}

static void on_signal(uv_signal_t *h, int signum) {
  ping_cli_t *p = h->data;
  (void)signum;
  if (p->finished) { /* a second signal: do not wait for the exit notify */
    close_all(p);
    return;
  }
  finish(p);
}

static void log_cb(void *ud, int level, const char *layer, const char *msg) {
  ping_cli_t *p = ud;
  if (!p->verbose) {
    snprintf(p->last_fatal, sizeof(p->last_fatal), "%s", msg);
    return;
  }
  fprintf(stderr, "layervpn ping: [%s] %s\n", layer, msg);
}

/* Seconds (ping accepts fractions) to milliseconds; -1 when invalid. */
static long long parse_seconds(const char *s, double min) {
  char *end;
  double v;
  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min ||
      v > 2147483.0)
    return -1;
  return (long long)(v * 1000.0 + 0.5);
}

static long long parse_count(const char *s, long long min, long long max) {
  char *end;
  long long v;
  errno = 0;
  v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
    return -1;
  return v;
}

static int parse_args(ping_cli_t *p, int argc, char **argv,
                      const char **config) {
  long long v;
  int o;

  optind = 1;
  opterr = 0;
  while ((o = getopt(argc, argv, "c:i:s:W:w:qvh")) != -1) {
    switch (o) {
    case 'c':
      if ((v = parse_count(optarg, 1, 1000000000)) < 0)
        goto bad;
      p->count = (uint64_t)v;
      break;
    case 'i': /* ping(8)'s limit for unprivileged users: 2 ms */
      if ((v = parse_seconds(optarg, 0.002)) < 0)
        goto bad;
      p->interval_ms = (uint64_t)v;
      break;
    case 's':
      if ((v = parse_count(optarg, 0, PING_MAX_SIZE)) < 0)
        goto bad;
      p->echo.size = (size_t)v;
      break;
    case 'W':
      if ((v = parse_seconds(optarg, 0.001)) < 0)
        goto bad;
      p->linger_ms = (uint64_t)v;
      break;
    case 'w':
      if ((v = parse_seconds(optarg, 0.001)) < 0)
        goto bad;
      p->deadline_ms = (uint64_t)v;
      break;
    case 'q':
      p->quiet = 1;
      break;
    case 'v':
      p->verbose = 1;
      break;
    case 'h':
      usage(stdout);
      exit(0);
    default:
      if (optopt && strchr("cisWw", optopt))
        fprintf(stderr, "layervpn ping: option -%c needs a value\n", optopt);
      else
        fprintf(stderr, "layervpn ping: unknown option '%s'\n",
                argv[optind - 1]);
      usage(stderr);
      return -1;
    }
  }
  if (argc - optind != 2) {
    usage(stderr);
    return -1;
  }
  *config = argv[optind];
  p->target = argv[optind + 1];
  if (inet_pton(AF_INET, p->target, &p->echo.dst) != 1) {
    fprintf(stderr,
            "layervpn ping: TARGET '%s' is not an IPv4 address (names and "
            "IPv6 are not supported)\n",
            p->target);
    return -1;
  }
  return 0;
bad:
  fprintf(stderr, "layervpn ping: invalid value for -%c: '%s'\n", o, optarg);
  return -1;
}

int cmd_ping(int argc, char **argv) {
  uv_loop_t loop;
  ping_cli_t p;
  lvpn_config_t *cfg = NULL;
  const char *config = NULL;
  char err[512];
  int rc;

  memset(&p, 0, sizeof(p));
  p.interval_ms = 1000;
  p.linger_ms = 10000; /* ping(8)'s wait for the last reply */
  p.echo.size = 56;
  p.echo.ttl = 64;
  p.echo.id = (uint16_t)getpid();
  ping_stats_init(&p.stats);
  /* getopt wants the program name in argv[0] */
  if (parse_args(&p, argc + 1, argv - 1, &config) != 0)
    return 2;
  if (lvpn_config_load(&cfg, config, err, sizeof(err)) != 0) {
    fprintf(stderr, "layervpn ping: %s\n", err);
    return 2;
  }
  p.pkt = malloc(PING_IP_ICMP_HDR + p.echo.size);
  if (p.pkt == NULL) {
    lvpn_config_free(cfg);
    fprintf(stderr, "layervpn ping: out of memory\n");
    return 2;
  }
  uv_loop_init(&loop);
  p.loop = &loop;
  rc = lvpn_client_new(&p.client, &loop, cfg);
  lvpn_config_free(cfg);
  if (rc != 0) {
    fprintf(stderr, "layervpn ping: %s\n", lvpn_strerror(rc));
    free(p.pkt);
    uv_loop_close(&loop);
    return 2;
  }
  lvpn_client_set_data(p.client, &p);
  /* quiet unless -v: the one-line cause is printed by us */
  lvpn_client_set_log(p.client, log_cb, &p,
                      p.verbose ? LVPN_LOG_INFO : LVPN_LOG_FATAL);
  lvpn_client_set_event_cb(p.client, on_event);
  lvpn_client_set_inside_write(p.client, inside_write);
  uv_timer_init(&loop, &p.tick);
  uv_timer_init(&loop, &p.linger);
  uv_timer_init(&loop, &p.deadline);
  uv_signal_init(&loop, &p.sigint);
  uv_signal_init(&loop, &p.sigterm);
  p.tick.data = p.linger.data = p.deadline.data = &p;
  p.sigint.data = p.sigterm.data = &p;
  uv_signal_start(&p.sigint, on_signal, SIGINT);
  uv_signal_start(&p.sigterm, on_signal, SIGTERM);
  signal(SIGPIPE, SIG_IGN);
  if (p.deadline_ms)
    uv_timer_start(&p.deadline, deadline_cb, p.deadline_ms, 0);

  rc = lvpn_client_start(p.client);
  if (rc != 0) {
    p.conn_err = rc;
    p.finished = 1;
    close_all(&p);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  free(p.pkt);
  if (uv_loop_close(&loop) != 0) {
    fprintf(stderr, "layervpn ping: internal error: handles left open\n");
    return 2;
  }
  if (rc != 0) { /* the config cannot work: the library said why */
    fprintf(stderr, "layervpn ping: %s\n",
            p.last_fatal[0] ? p.last_fatal : lvpn_strerror(rc));
    return 2;
  }
  if (p.failed)
    return p.stats.received ? 0 : 1;
  if (!p.connected_once) {
    fprintf(stderr, "layervpn ping: connection failed: %s\n",
            p.conn_err ? lvpn_strerror(p.conn_err)
                       : "stopped before the tunnel was up");
    return 1;
  }
  return ping_exit_status(&p.stats, p.deadline_ms != 0, p.count);
}
