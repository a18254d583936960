/* `layervpn socks [--listen ADDR:PORT] [--auth FILE] [-v] CONFIG.ovpn`: the
 * CLI of the SOCKS5 / HTTP CONNECT proxy into the tunnel (cmd/socks.h).
 * Runs as any user: the client uses host inside I/O, no TUN device.
 * Exit status: 0 stopped by SIGINT/SIGTERM, 1 the connection failed (or was
 * lost for good), 2 usage or configuration error. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lwip/init.h>
#include <lwip/netif.h>

#include "cmd/socks.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: layervpn socks [--listen ADDR:PORT] [--auth FILE]\n"
          "                      [--direct-outside] [-v] CONFIG.ovpn\n"
          "Serves SOCKS5 (CONNECT) and HTTP CONNECT on ADDR:PORT (default\n"
          "127.0.0.1:1080) and carries the streams into the tunnel over a\n"
          "userspace TCP/IP stack, without root and without a TUN device.\n"
          "Destinations outside the tunnel's routes are refused (or, with\n"
          "--direct-outside, reached directly).\n"
          "  --auth FILE  require a username and password: FILE has\n"
          "               'user:password' lines\n"
          "  --direct-outside\n"
          "               connect to destinations outside the tunnel's\n"
          "               routes (TCP and UDP) from this host, not refuse them\n"
          "  -v           log the library and every stream\n");
}

/* The --auth file holds passwords: wiped before it is freed. */
static void auth_free(socks_srv_t *srv) {
  if (srv->auth != NULL) {
    explicit_bzero(srv->auth, strlen(srv->auth));
    free(srv->auth);
    srv->auth = NULL;
  }
}

static void close_all(socks_srv_t *srv) {
  stream_t *s, *next;
  srv->stopping = 1;
  srv->up = 0;
  for (s = srv->streams; s != NULL; s = next) {
    next = s->next;
    socks_stream_close(s);
  }
  if (!uv_is_closing((uv_handle_t *)&srv->listener))
    uv_close((uv_handle_t *)&srv->listener, NULL);
  if (!uv_is_closing((uv_handle_t *)&srv->sigint))
    uv_close((uv_handle_t *)&srv->sigint, NULL);
  if (!uv_is_closing((uv_handle_t *)&srv->sigterm))
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
  if (!uv_is_closing((uv_handle_t *)&srv->lwip_timer))
    uv_close((uv_handle_t *)&srv->lwip_timer, NULL);
  lvpn_client_close(srv->client, NULL);
}

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  socks_srv_t *srv = lvpn_client_get_data(c);
  switch (ev) {
  case LVPN_EVENT_CONNECTED:
  case LVPN_EVENT_PUSH_UPDATE:
    if (srv->stopping)
      return;
    srv->connected_once = 1;
    socks_tunnel_up(srv);
    return;
  case LVPN_EVENT_RESTARTING:
    srv->up = 0;
    if (!srv->stopping)
      fprintf(stderr, "layervpn socks: connection lost: %s; reconnecting\n",
              lvpn_strerror(err));
    return;
  case LVPN_EVENT_STOPPED:
    if (!srv->stopping && err != LVPN_ESTOPPED) {
      srv->conn_err = err;
      fprintf(stderr, "layervpn socks: connection failed: %s\n",
              lvpn_strerror(err));
    }
    close_all(srv);
    return;
  default:
    return;
  }
}

static void on_signal(uv_signal_t *h, int signum) {
  socks_srv_t *srv = h->data;
  (void)signum;
  if (srv->stopping) {
    close_all(srv);
    return;
  }
  srv->stopping = 1;
  srv->up = 0;
  lvpn_client_stop(srv->client); /* STOPPED closes the rest */
}

static void log_cb(void *ud, int level, const char *layer, const char *msg) {
  (void)ud;
  (void)level;
  fprintf(stderr, "layervpn socks: [%s] %s\n", layer, msg);
}

/* "ADDR:PORT" or "[V6]:PORT". */
static int parse_listen(const char *s, struct sockaddr_storage *ss) {
  char host[64];
  const char *colon = strrchr(s, ':');
  char *end;
  long port;
  size_t hl;
  if (colon == NULL)
    return -1;
  hl = (size_t)(colon - s);
  errno = 0;
  port = strtol(colon + 1, &end, 10);
  if (errno || end == colon + 1 || *end != '\0' || port < 1 || port > 65535)
    return -1;
  if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
    s++;
    hl -= 2;
  }
  if (hl == 0 || hl >= sizeof(host))
    return -1;
  memcpy(host, s, hl);
  host[hl] = '\0';
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0 ||
      uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
    return 0;
  return -1;
}

static char *read_auth(const char *path) {
  FILE *f = fopen(path, "r");
  char *buf;
  size_t n;
  int bad;
  if (f == NULL) {
    fprintf(stderr, "layervpn socks: --auth %s: %s\n", path, strerror(errno));
    return NULL;
  }
  buf = malloc(AUTH_FILE_MAX + 1);
  if (buf == NULL) {
    fclose(f);
    return NULL;
  }
  n = fread(buf, 1, AUTH_FILE_MAX + 1, f);
  fclose(f);
  if (n > AUTH_FILE_MAX) {
    fprintf(stderr, "layervpn socks: --auth %s: larger than 1 MiB\n", path);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  if ((bad = sp_auth_validate(buf)) != 0 || memchr(buf, 0, n) != NULL) {
    fprintf(stderr,
            "layervpn socks: --auth %s: line %d is not 'user:password'\n",
            path, bad ? -bad : 0);
    explicit_bzero(buf, n);
    free(buf);
    return NULL;
  }
  return buf;
}

static int parse_args(socks_srv_t *srv, int argc, char **argv,
                      struct sockaddr_storage *listen, const char **config) {
  static const struct option opts[] = {
      {"listen", required_argument, NULL, 'l'},
      {"auth", required_argument, NULL, 'a'},
      {"direct-outside", no_argument, NULL, 'd'},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
    switch (o) {
    case 'l':
      if (parse_listen(optarg, listen) != 0) {
        fprintf(stderr,
                "layervpn socks: --listen '%s' is not ADDR:PORT (an IPv4 "
                "or [IPv6] address and a port 1-65535)\n",
                optarg);
        return -1;
      }
      break;
    case 'a':
      auth_free(srv);
      if ((srv->auth = read_auth(optarg)) == NULL)
        return -1;
      break;
    case 'd':
      srv->direct_outside = 1;
      break;
    case 'v':
      srv->verbose = 1;
      break;
    case 'h':
      usage(stdout);
      exit(0);
    default:
      fprintf(stderr, "layervpn socks: unknown option or missing value: '%s'\n",
              argv[optind - 1]);
      usage(stderr);
      return -1;
    }
  }
  if (argc - optind != 1) {
    usage(stderr);
    return -1;
  }
  *config = argv[optind];
  return 0;
}

int cmd_socks(int argc, char **argv) {
  uv_loop_t loop;
  socks_srv_t *srv;
  lvpn_config_t *cfg = NULL;
  struct sockaddr_storage listen;
  const char *config = NULL;
  char err[512];
  int rc, status;

  srv = calloc(1, sizeof(*srv));
  if (srv == NULL)
    return 2;
  uv_ip4_addr("127.0.0.1", 1080, (struct sockaddr_in *)&listen);
  if (parse_args(srv, argc + 1, argv - 1, &listen, &config) != 0) {
    auth_free(srv);
    free(srv);
    return 2;
  }
  if (lvpn_config_load(&cfg, config, err, sizeof(err)) != 0) {
    fprintf(stderr, "layervpn socks: %s\n", err);
    auth_free(srv);
    free(srv);
    return 2;
  }
  if (cli_lwip_load(err, sizeof(err)) != 0) {
    fprintf(stderr, "layervpn socks: %s\n", err);
    lvpn_config_free(cfg);
    auth_free(srv);
    free(srv);
    return 1;
  }
  uv_loop_init(&loop);
  srv->loop = &loop;
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  lwip_init();
  rc = lvpn_client_new(&srv->client, &loop, cfg);
  lvpn_config_free(cfg);
  if (rc != 0) {
    fprintf(stderr, "layervpn socks: %s\n", lvpn_strerror(rc));
    auth_free(srv);
    free(srv);
    uv_loop_close(&loop);
    return 2;
  }
  lvpn_client_set_data(srv->client, srv);
  lvpn_client_set_log(srv->client, log_cb, srv,
                      srv->verbose ? LVPN_LOG_INFO : LVPN_LOG_ERROR);
  lvpn_client_set_event_cb(srv->client, on_event);
  lvpn_client_set_inside_write(srv->client, socks_inside_write);
  uv_tcp_init(&loop, &srv->listener);
  uv_timer_init(&loop, &srv->lwip_timer);
  uv_signal_init(&loop, &srv->sigint);
  uv_signal_init(&loop, &srv->sigterm);
  srv->listener.data = srv->sigint.data = srv->sigterm.data = srv;
  srv->lwip_timer.data = srv;
  signal(SIGPIPE, SIG_IGN);
  rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&listen, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&srv->listener, 511, socks_on_connection);
  if (rc != 0) {
    fprintf(stderr, "layervpn socks: cannot listen: %s\n", uv_strerror(rc));
    status = 2;
    srv->stopping = 1;
    close_all(srv);
    goto run;
  }
  uv_signal_start(&srv->sigint, on_signal, SIGINT);
  uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
  uv_timer_start(&srv->lwip_timer, socks_lwip_timer_cb, 10, 10);
  rc = lvpn_client_start(srv->client);
  if (rc != 0) {
    fprintf(stderr, "layervpn socks: %s\n", lvpn_strerror(rc));
    srv->stopping = 1;
    close_all(srv);
    status = 2;
    goto run;
  }
  fprintf(stderr, "layervpn socks: listening, connecting the tunnel\n");
  status = 0;
run:
  uv_run(&loop, UV_RUN_DEFAULT);
  if (srv->nif_added)
    netif_remove(&srv->nif);
  if (srv->verbose || srv->tx_dropped)
    fprintf(stderr, "layervpn socks: %lu packets not taken by the tunnel\n",
            srv->tx_dropped);
  if (uv_loop_close(&loop) != 0) {
    fprintf(stderr, "layervpn socks: internal error: handles left open\n");
    status = 2;
  }
  if (status == 0 && srv->conn_err != 0)
    status = 1;
  auth_free(srv);
  free(srv);
  return status;
}
