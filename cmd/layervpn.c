/* layervpn: a thin CLI over liblayers.
 *
 *   layervpn connect [--verb N] [--counters] CONFIG.ovpn [--option value ...]
 *
 * Options after the config file override it, as on OpenVPN's command line.
 * SIGINT/SIGTERM stop the client in order (exit notification, routes and
 * addresses removed); the exit status is 0 after such a stop, 1 when the
 * connection failed (the cause is printed as one line), 2 for usage errors.
 * auth-user-pass without a file asks on the controlling terminal.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/ping.h"
#include "cmd/prompt.h"
#include "layervpn.h"

typedef struct {
  uv_loop_t *loop;
  lvpn_client_t *client;
  uv_signal_t sigint, sigterm;
  int err;
  int show_counters;
  int stopping;
} cli_t;

static void usage(FILE *f) {
  fprintf(f,
          "usage: layervpn connect [--verb N] [--counters] CONFIG.ovpn "
          "[--option value ...]\n"
          "       layervpn --help | --version\n"
          "\n"
          "Connects to an OpenVPN 2.x server with an existing client config.\n"
          "Options after CONFIG override it, as on OpenVPN's command line.\n"
          "  --verb N      log verbosity 0..11 (OpenVPN's; default: config or 3)\n"
          "  --counters    print every layer's counters when the client stops\n"
          "Exit status: 0 stopped by SIGINT/SIGTERM, 1 connection failed,\n"
          "2 usage or configuration error.\n"
          "\n"
          "       layervpn ping [-c N] [-i S] [-s SIZE] [-W S] [-w S] [-q] [-v]\n"
          "                     CONFIG.ovpn TARGET\n"
          "ICMP echo through the tunnel as ping(8), without root or TUN device.\n");
}

static void log_cb(void *ud, int level, const char *layer, const char *msg) {
  char ts[32];
  time_t now = time(NULL);
  struct tm tm;
  (void)ud;
  (void)layer;
  localtime_r(&now, &tm);
  strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
  fprintf(level <= 1 ? stderr : stdout, "%s %s%s\n", ts,
          level == 0 ? "FATAL: " : "", msg);
  fflush(level <= 1 ? stderr : stdout);
}

static void counter_cb(void *ud, const char *layer, const char *name,
                       uint64_t value) {
  (void)ud;
  printf("counter %s.%s %llu\n", layer, name, (unsigned long long)value);
}

static void cli_close_all(cli_t *cli) {
  if (!uv_is_closing((uv_handle_t *)&cli->sigint))
    uv_close((uv_handle_t *)&cli->sigint, NULL);
  if (!uv_is_closing((uv_handle_t *)&cli->sigterm))
    uv_close((uv_handle_t *)&cli->sigterm, NULL);
  lvpn_client_close(cli->client, NULL); /* harmless when already closing */
}

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  cli_t *cli = lvpn_client_get_data(c);
  if (ev != LVPN_EVENT_STOPPED)
    return;
  cli->err = err;
  if (cli->show_counters)
    lvpn_client_counters(c, counter_cb, NULL);
  cli_close_all(cli);
}

static void on_signal(uv_signal_t *h, int signum) {
  cli_t *cli = h->data;
  if (cli->stopping++) {
    fprintf(stderr, "layervpn: second signal %d, exiting now\n", signum);
    cli_close_all(cli);
    return;
  }
  lvpn_client_stop(cli->client);
}

/* Credentials on the controlling terminal, as OpenVPN's "Enter Auth
 * Username:"; without a terminal the client is told nobody can answer and
 * stops with a clear error. Blocking the loop while the user types is fine:
 * no connection is open yet. */
static void on_credentials(lvpn_client_t *c, const lvpn_cred_request_t *req,
                           void *ud) {
  char user[256] = "", pass[256] = "", resp[256] = "", q[600];
  int r = 0;
  (void)ud;
  if (req->challenge != NULL)
    snprintf(q, sizeof(q), "CHALLENGE: %s", req->challenge);
  if (req->kind == LVPN_CRED_CHALLENGE) {
    r = lvpn_cli_prompt(q, req->echo, resp, sizeof(resp));
    if (r == 0)
      r = lvpn_client_answer_credentials(c, NULL, NULL, resp);
  } else {
    if (req->username == NULL)
      r = lvpn_cli_prompt("Enter Auth Username:", 1, user, sizeof(user));
    if (r == 0)
      r = lvpn_cli_prompt("Enter Auth Password:", 0, pass, sizeof(pass));
    if (r == 0 && req->challenge != NULL)
      r = lvpn_cli_prompt(q, req->echo, resp, sizeof(resp));
    if (r == 0 && req->username == NULL && user[0] == '\0') {
      fprintf(stderr, "layervpn: the username is empty\n");
      r = -3;
    }
    if (r == 0)
      r = lvpn_client_answer_credentials(
          c, req->username == NULL ? user : NULL, pass,
          req->challenge != NULL ? resp : NULL);
  }
  explicit_bzero(pass, sizeof(pass));
  explicit_bzero(resp, sizeof(resp));
  if (r == 0)
    return;
  if (r == -1)
    fprintf(stderr,
            "layervpn: %s is needed and no terminal can be asked (no "
            "/dev/tty, or end of input); give the credentials in a file: "
            "auth-user-pass FILE\n",
            req->kind == LVPN_CRED_CHALLENGE ? "a challenge response"
                                             : "a username and password");
  else if (r == -2)
    fprintf(stderr, "layervpn: interrupted while asking for credentials\n");
  lvpn_client_answer_credentials(c, NULL, NULL, NULL);
}

/* Applies "--name a b --other c" words to the config. */
static int apply_overrides(lvpn_config_t *cfg, int argc, char **argv) {
  int i = 0;
  char err[512];
  while (i < argc) {
    const char *name = argv[i];
    const char *args[16];
    int n = 0;
    if (strncmp(name, "--", 2) != 0) {
      fprintf(stderr, "layervpn: expected --option, got '%s'\n", name);
      return -1;
    }
    for (i++; i < argc && strncmp(argv[i], "--", 2) != 0 && n < 15; i++)
      args[n++] = argv[i];
    args[n] = NULL;
    if (lvpn_config_set(cfg, name + 2, args, err, sizeof(err)) != 0) {
      fprintf(stderr, "layervpn: %s\n", err);
      return -1;
    }
  }
  return 0;
}

static int cmd_connect(int argc, char **argv) {
  uv_loop_t loop;
  cli_t cli;
  lvpn_config_t *cfg = NULL;
  char err[512];
  const char *path = NULL;
  int verb = -1, i, rc;

  memset(&cli, 0, sizeof(cli));
  for (i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--verb") == 0 && i + 1 < argc) {
      verb = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--counters") == 0) {
      cli.show_counters = 1;
    } else if (argv[i][0] != '-' || strcmp(argv[i], "-") == 0) {
      path = argv[i++];
      break;
    } else {
      fprintf(stderr, "layervpn: unknown option '%s' before CONFIG\n",
              argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (path == NULL) {
    usage(stderr);
    return 2;
  }
  if (lvpn_config_load(&cfg, path, err, sizeof(err)) != 0) {
    fprintf(stderr, "layervpn: %s\n", err);
    return 2;
  }
  if (apply_overrides(cfg, argc - i, argv + i) != 0) {
    lvpn_config_free(cfg);
    return 2;
  }
  if (verb >= 0) {
    char vb[16];
    const char *a[2] = {vb, NULL};
    snprintf(vb, sizeof(vb), "%d", verb);
    if (lvpn_config_set(cfg, "verb", a, err, sizeof(err)) != 0) {
      fprintf(stderr, "layervpn: %s\n", err);
      lvpn_config_free(cfg);
      return 2;
    }
  }
  uv_loop_init(&loop);
  cli.loop = &loop;
  rc = lvpn_client_new(&cli.client, &loop, cfg);
  lvpn_config_free(cfg);
  if (rc != 0) {
    fprintf(stderr, "layervpn: %s\n", lvpn_strerror(rc));
    uv_loop_close(&loop);
    return 1;
  }
  lvpn_client_set_data(cli.client, &cli);
  lvpn_client_set_log(cli.client, log_cb, &cli, -1);
  lvpn_client_set_event_cb(cli.client, on_event);
  lvpn_client_set_credentials_cb(cli.client, on_credentials, &cli);
  uv_signal_init(&loop, &cli.sigint);
  uv_signal_init(&loop, &cli.sigterm);
  cli.sigint.data = cli.sigterm.data = &cli;
  uv_signal_start(&cli.sigint, on_signal, SIGINT);
  uv_signal_start(&cli.sigterm, on_signal, SIGTERM);
  signal(SIGPIPE, SIG_IGN);

  rc = lvpn_client_start(cli.client);
  if (rc != 0) {
    /* The cause was logged. The client may still have handles to close. */
    cli.err = rc;
    cli_close_all(&cli);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0)
    fprintf(stderr, "layervpn: internal error: handles left open\n");
  if (cli.err == LVPN_ESTOPPED) {
    printf("layervpn: stopped\n");
    return 0;
  }
  fprintf(stderr, "layervpn: exiting: %s (%s)\n", lvpn_strerror(cli.err),
          lvpn_err_name(cli.err));
  return cli.err == LVPN_ECONFIG || cli.err == LVPN_EKEYFILE ? 2 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("layervpn %s (liblayers, libuv %s)\n", lvpn_version_string(),
           uv_version_string());
    return 0;
  }
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                    strcmp(argv[1], "help") == 0)) {
    usage(stdout);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "connect") == 0)
    return cmd_connect(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "ping") == 0)
    return cmd_ping(argc - 2, argv + 2);
  usage(stderr);
  return 2;
}
