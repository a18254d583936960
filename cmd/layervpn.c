/* layervpn: a thin CLI over liblayers.
 *
 *   layervpn connect [--verb N] [--counters] [--trace FILE [--trace-data all]]
 *                    [--pcap FILE [--pcap-layer wire|control|inside]]
 *                    CONFIG.ovpn [--option value ...]
 *
 * Options after the config file override it, as on OpenVPN's command line.
 * SIGINT/SIGTERM stop the client in order (exit notification, routes and
 * addresses removed); the exit status is 0 after such a stop, 1 when the
 * connection failed (the cause is printed as one line), 2 for usage errors.
 * As OpenVPN: SIGUSR1 restarts the connection, SIGHUP re-reads the config
 * and restarts, SIGUSR2 logs the counters. With a `management` option the
 * management interface (lvpn_mgmt_t) serves the same signals.
 * auth-user-pass without a file asks on the controlling terminal.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifdef LVPN_DC_CRYPTO_EVP
#include <openssl/crypto.h>
#endif

#include "cmd/ping.h"
#include "cmd/socks.h"
#include "cmd/pcap_file.h"
#include "cmd/process.h"
#include "cmd/prompt.h"
#include "cmd/trace_file.h"
#include "cmd/keylog_file.h"
#include "cmd/ladder.h"
#include "cmd/memtrim.h"
#include "cmd/probe.h"
#include "cmd/stats_table.h"
#include "layervpn.h"

typedef struct {
  uv_loop_t *loop;
  lvpn_client_t *client;
  lvpn_mgmt_t *mgmt;
  uv_signal_t sigint, sigterm, sighup, sigusr1, sigusr2;
  int err;
  int show_counters;
  int stopping;
  int restart_sig; /* SIGHUP or SIGUSR1 while the client stops for it */
  const char *path;
  int n_over, verb;
  char **over;
  const char *trace_path;
  int trace_level;
  cli_trace_t trace;
  const char *pcap_path, *pcap_layer;
  cli_pcap_t pcap;
  const char *inside_filter[64]; /* --inside-filter RULE, in order */
  int n_inside_filter;
  const char *keylog_path; /* --keylog, or $SSLKEYLOGFILE */
  cli_keylog_t keylog;
  double stats_interval; /* --stats-interval seconds, 0: off */
  uv_timer_t stats_timer;
  uint64_t start_ns;
  cli_proc_t proc; /* daemon, log, writepid, status (cmd/process.c) */
  lvpn_config_t *first_cfg; /* cmd_connect's read, for the first start */
  lvpn_cli_aprompt_t crtext; /* a server's CR_TEXT challenge on the tty */
  uv_check_t memtrim_check;  /* cli_memtrim_new once the reset is out */
  int memtrim_pending;
} cli_t;

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: layervpn connect [--verb N] [--counters] [--trace FILE "
      "[--trace-data all]]\n"
      "                        [--pcap FILE [--pcap-layer "
      "wire|control|inside]]\n"
      "                        [--keylog FILE] [--inside-filter RULE]...\n"
      "                        CONFIG.ovpn [--option value ...]\n"
      "       layervpn --help | --version\n"
      "\n"
      "Connects to an OpenVPN 2.x server with an existing client config.\n"
      "Options after CONFIG override it, as on OpenVPN's command line.\n"
      "  --verb N      log verbosity 0..11 (OpenVPN's; default: config or 3)\n"
      "  --counters    print every layer's counters when the client stops\n"
      "  --trace FILE  write every layer's events to FILE (JSON lines,\n"
      "                mode 0600); control events use minivpn's schema\n"
      "  --trace-data all|summary  data packets in the trace: one event\n"
      "                each, or a per-second summary (default)\n"
      "  --pcap FILE   capture packets to FILE (pcap, mode 0600): the OpenVPN\n"
      "                packets with their UDP/TCP ports (--pcap-layer wire,\n"
      "                the default), the same after tls-auth/tls-crypt\n"
      "                unwrapping (control) or the plaintext IP packets\n"
      "                (inside)\n"
      "  --stats-interval N  print a per-layer counter table every N s\n"
      "  --inside-filter RULE  filter inside packets (repeatable, first match\n"
      "                wins): allow|deny [icmp|icmp4|icmp6|tcp|udp|proto N]\n"
      "                [port P[-Q]] [net ADDR/BITS], or default allow|deny\n"
      "  --keylog FILE TLS keys in NSS key log format, appended (mode 0600;\n"
      "                also $SSLKEYLOGFILE): tshark -o tls.keylog_file:FILE\n"
      "                decrypts the control channel of a --pcap capture\n"
      "The pushed DNS is applied to the system resolver while connected\n"
      "(--dns-mode none: left alone; see README \"DNS\").\n"
      "TUN offloads and UDP GSO/GRO are used where the kernel has them\n"
      "(--disable-offload [tun|udp]: both off, or one; see layervpn(8)).\n"
      "SIGUSR1 restarts, SIGHUP re-reads CONFIG and restarts, SIGUSR2\n"
      "prints the counters. A 'management' option serves OpenVPN's\n"
      "management interface.\n"
      "Exit status: 0 stopped by SIGINT/SIGTERM, 1 connection failed,\n"
      "2 usage or configuration error.\n"
      "\n"
      "       layervpn ping [-c N] [-i S] [-s SIZE] [-W S] [-w S] [-q] [-v]\n"
      "                     CONFIG.ovpn TARGET\n"
      "ICMP echo through the tunnel as ping(8), without root or TUN device.\n"
      "       layervpn socks [--listen ADDR:PORT] [--auth FILE]\n"
      "                      [--direct-outside] [-v] CONFIG.ovpn\n"
      "SOCKS5 and HTTP CONNECT proxy into the tunnel, without root or TUN.\n"
      "       layervpn trace TRACEFILE [--format text|html|svg] [-o OUT]\n"
      "Draws a --trace file as a ladder diagram (HTML: self-contained).\n"
      "       layervpn probe [--json] [--parallel N] [-c N] [-i S] "
      "[--target IP]\n"
      "                      [--timeout S] CONFIG.ovpn...\n"
      "Times each connection stage and pings through the tunnel, rootless.\n");
}

static void log_cb(void *ud, int level, const char *layer, const char *msg) {
  (void)layer;
  cli_proc_log(ud != NULL ? &((cli_t *)ud)->proc : NULL, level, msg);
  if (ud != NULL && ((cli_t *)ud)->mgmt != NULL)
    lvpn_mgmt_log(((cli_t *)ud)->mgmt, level, msg);
}

static void counter_cb(void *ud, const char *layer, const char *name,
                       uint64_t value) {
  (void)ud;
  printf("counter %s.%s %llu\n", layer, name, (unsigned long long)value);
}

static void cli_close_all(cli_t *cli) {
  uv_signal_t *sigs[] = {&cli->sigint, &cli->sigterm, &cli->sighup,
                         &cli->sigusr1, &cli->sigusr2};
  size_t i;
  cli_proc_status_stop(&cli->proc); /* the last status, while counters last */
  for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    if (!uv_is_closing((uv_handle_t *)sigs[i]))
      uv_close((uv_handle_t *)sigs[i], NULL);
  if (cli->stats_interval > 0 &&
      !uv_is_closing((uv_handle_t *)&cli->stats_timer))
    uv_close((uv_handle_t *)&cli->stats_timer, NULL);
  lvpn_cli_aprompt_cancel(&cli->crtext);
  if (cli->mgmt != NULL)
    lvpn_mgmt_close(cli->mgmt, NULL);
  cli->mgmt = NULL;
  if (cli->client != NULL)
    lvpn_client_close(cli->client, NULL); /* harmless when closing */
}

static int cli_new_client(cli_t *cli);

static void crtext_answered(lvpn_cli_aprompt_t *p, const char *answer) {
  cli_t *cli = p->data;
  int rc;
  if (cli->client == NULL)
    return;
  if (answer == NULL) {
    fprintf(stderr, "layervpn: no answer to the server's challenge (end of "
                    "input)\n");
    return;
  }
  rc = lvpn_client_cr_response(cli->client, answer);
  if (rc != 0)
    fprintf(stderr, "layervpn: cannot send the challenge answer: %s\n",
            lvpn_strerror(rc));
}

/* A server's CR_TEXT:flags:text challenge (2FA) while its authentication
 * is pending: with R (an answer is required) it is asked on the terminal
 * without blocking the loop (the connection is open), echoed with E, and
 * the answer goes back as CR_RESPONSE. No terminal: one line says how to
 * answer instead. A management interface answers it itself. */
static void cli_crtext(cli_t *cli, lvpn_client_t *c) {
  const char *t = lvpn_client_info(c, NULL), *text;
  char flags[32], q[600];
  size_t fl;

  if (strncmp(t, "CR_TEXT:", 8) != 0)
    return;
  t += 8;
  text = strchr(t, ':');
  if (text == NULL) {
    fprintf(stderr, "layervpn: the server's challenge has no text after its "
                    "flags (CR_TEXT:flags:text): not asked\n");
    return;
  }
  fl = (size_t)(text - t) < sizeof(flags) ? (size_t)(text - t)
                                          : sizeof(flags) - 1;
  memcpy(flags, t, fl);
  flags[fl] = '\0';
  text++;
  if (strchr(flags, 'R') == NULL)
    return; /* no answer wanted: the log shows the text */
  snprintf(q, sizeof(q), "CHALLENGE: %s", text);
  cli->crtext.data = cli;
  if (lvpn_cli_aprompt_start(&cli->crtext, cli->loop, q,
                             strchr(flags, 'E') != NULL, crtext_answered) != 0)
    fprintf(stderr,
            "layervpn: the server asks '%s' and no terminal can answer it "
            "(no /dev/tty): answer it with a management interface's "
            "cr-response\n",
            text);
}

static void memtrim_check_closed(uv_handle_t *h) {
  ((cli_t *)h->data)->memtrim_pending = 0;
}

static void memtrim_check_cb(uv_check_t *h) {
  uv_check_stop(h);
  uv_close((uv_handle_t *)h, memtrim_check_closed);
  cli_memtrim_new();
}

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  cli_t *cli = lvpn_client_get_data(c);
  if (ev == LVPN_EVENT_INFO && cli->mgmt == NULL)
    cli_crtext(cli, c);
  else if (ev == LVPN_EVENT_CONNECTED || ev == LVPN_EVENT_RESTARTING ||
           ev == LVPN_EVENT_STOPPED)
    lvpn_cli_aprompt_cancel(&cli->crtext); /* the question is moot */
  if (cli->mgmt != NULL && ev == LVPN_EVENT_STOPPED && cli->restart_sig != 0)
    lvpn_mgmt_set_client(cli->mgmt, NULL); /* not exiting: a new one comes */
  else if (cli->mgmt != NULL)
    lvpn_mgmt_event(cli->mgmt, ev, err);
  if (ev == LVPN_EVENT_CONNECTED)
    cli_memtrim(0); /* the start-up and handshake code: not needed now */
  if (ev != LVPN_EVENT_STOPPED)
    return;
  cli->err = err;
  if (cli->show_counters)
    lvpn_client_counters(c, counter_cb, NULL);
  if (cli->restart_sig != 0 && err == LVPN_ESTOPPED) {
    /* SIGUSR1/SIGHUP: a new client (SIGHUP: from the re-read config) */
    lvpn_client_close(c, NULL);
    cli->client = NULL;
    if (cli_new_client(cli) == 0)
      return;
  }
  cli_close_all(cli);
}

static void cli_signal(cli_t *cli, int signum) {
  if (signum == SIGUSR1 && cli->proc.remap_usr1 != 0)
    signum = cli->proc.remap_usr1; /* remap-usr1 SIGHUP|SIGTERM */
  if (signum == SIGUSR2) { /* the per-layer table, then every counter */
    if (cli->client != NULL) {
      cli_stats_print(cli->client, stdout,
                      (double)(uv_hrtime() - cli->start_ns) / 1e9);
      lvpn_client_counters(cli->client, counter_cb, NULL);
    }
    fflush(stdout);
    return;
  }
  if (cli->client != NULL &&
      lvpn_client_state(cli->client) == LVPN_STATE_INITIAL) {
    /* not started yet (management hold or password query): nothing to
     * restart; a stop ends at once */
    if (signum == SIGHUP || signum == SIGUSR1)
      return;
    cli->err = LVPN_ESTOPPED;
    cli_close_all(cli);
    return;
  }
  if (signum == SIGHUP || signum == SIGUSR1) {
    if (cli->stopping || cli->restart_sig != 0 || cli->client == NULL)
      return;
    printf("layervpn: %s received, restarting\n",
           signum == SIGHUP ? "SIGHUP" : "SIGUSR1");
    fflush(stdout);
    cli->restart_sig = signum;
    lvpn_client_stop(cli->client);
    return;
  }
  if (cli->stopping++) {
    fprintf(stderr, "layervpn: second signal %d, exiting now\n", signum);
    cli_close_all(cli);
    return;
  }
  cli->restart_sig = 0;
  if (cli->client != NULL)
    lvpn_client_stop(cli->client);
}

static void on_signal(uv_signal_t *h, int signum) { cli_signal(h->data, signum); }

static int on_mgmt_signal(lvpn_mgmt_t *m, int signum) {
  cli_signal(lvpn_mgmt_get_data(m), signum);
  return 0;
}

static int set_trace_data(cli_t *cli, const char *v);

static int set_stats_interval(cli_t *cli, const char *v) {
  char *end;
  double s = strtod(v, &end);
  if (end == v || *end != '\0' || !(s >= 1 && s <= 86400)) {
    fprintf(stderr,
            "layervpn: --stats-interval takes seconds from 1 to 86400, not "
            "'%s'\n",
            v);
    return -1;
  }
  cli->stats_interval = s;
  return 0;
}

static void on_stats_timer(uv_timer_t *t) {
  cli_t *cli = t->data;
  if (cli->client != NULL)
    cli_stats_print(cli->client, stdout,
                    (double)(uv_hrtime() - cli->start_ns) / 1e9);
}

/* Our own options that take a value (before or after CONFIG): returns 1
 * when `name` was one, 0 when not, -1 on a bad value. */
static int cli_option(cli_t *cli, const char *name, const char *v) {
  if (strcmp(name, "--trace") == 0)
    cli->trace_path = v;
  else if (strcmp(name, "--trace-data") == 0)
    return set_trace_data(cli, v) == 0 ? 1 : -1;
  else if (strcmp(name, "--pcap") == 0)
    cli->pcap_path = v;
  else if (strcmp(name, "--pcap-layer") == 0)
    cli->pcap_layer = v;
  else if (strcmp(name, "--keylog") == 0)
    cli->keylog_path = v;
  else if (strcmp(name, "--inside-filter") == 0) {
    char err[300];
    if (cli->n_inside_filter == 64 ||
        lvpn_inside_filter_check(v, err, sizeof(err)) != 0) {
      fprintf(stderr, "layervpn: --inside-filter: %s\n",
              cli->n_inside_filter == 64 ? "at most 64 rules" : err);
      return -1;
    }
    cli->inside_filter[cli->n_inside_filter++] = v;
  }
  else if (strcmp(name, "--stats-interval") == 0)
    return set_stats_interval(cli, v) == 0 ? 1 : -1;
  else
    return 0;
  return 1;
}

static int set_trace_data(cli_t *cli, const char *v) {
  if (strcmp(v, "all") != 0 && strcmp(v, "summary") != 0) {
    fprintf(stderr,
            "layervpn: --trace-data takes 'all' or 'summary', not '%s'\n", v);
    return -1;
  }
  cli->trace_level =
      strcmp(v, "all") == 0 ? LVPN_TRACE_DATA_ALL : LVPN_TRACE_DEFAULT;
  return 0;
}

/* --keylog FILE, or SSLKEYLOGFILE from the environment (as browsers and
 * curl): opened before any I/O, with a warning, as the file decrypts the
 * control channel. Returns 0 (also when there is no key log) or -1. */
static int cli_keylog_start(cli_t *cli) {
  const char *env = getenv("SSLKEYLOGFILE");
  char err[512];
  if (cli->keylog_path == NULL && env != NULL && env[0] != '\0')
    cli->keylog_path = env;
  if (cli->keylog_path == NULL)
    return 0;
  if (cli_keylog_open(&cli->keylog, cli->keylog_path, err, sizeof(err)) != 0) {
    fprintf(stderr, "layervpn: %s\n", err);
    return -1;
  }
  fprintf(stderr,
          "layervpn: WARNING: writing TLS keys to '%s'%s: anyone who reads "
          "it can decrypt the control channel (and the tunnel keys sent in "
          "it) of a capture of this session\n",
          cli->keylog_path, cli->keylog_path == env ? " (SSLKEYLOGFILE)" : "");
  return 0;
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
  if (req->kind == LVPN_CRED_KEY_PASSPHRASE) {
    r = lvpn_cli_prompt("Enter Private Key Password:", 0, pass, sizeof(pass));
    if (r == 0)
      r = lvpn_client_answer_credentials(c, NULL, pass, NULL);
  } else if (req->kind == LVPN_CRED_CHALLENGE) {
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
  if (r == -1 && req->kind == LVPN_CRED_KEY_PASSPHRASE)
    fprintf(stderr, "layervpn: the private key is encrypted and no terminal "
                    "can be asked for its passphrase (no /dev/tty, or end of "
                    "input); give it in a file: askpass FILE\n");
  else if (r == -1)
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

/* The config file, then the overrides, then --verb. Returns 0 or prints
 * the problem and returns -1. */
static int cli_load_config(cli_t *cli, lvpn_config_t **out) {
  lvpn_config_t *cfg = NULL;
  char err[512];
  if (lvpn_config_load(&cfg, cli->path, err, sizeof(err)) != 0) {
    fprintf(stderr, "layervpn: %s\n", err);
    return -1;
  }
  if (apply_overrides(cfg, cli->n_over, cli->over) != 0) {
    lvpn_config_free(cfg);
    return -1;
  }
  if (cli->verb >= 0) {
    char vb[16];
    const char *a[2] = {vb, NULL};
    snprintf(vb, sizeof(vb), "%d", cli->verb);
    if (lvpn_config_set(cfg, "verb", a, err, sizeof(err)) != 0) {
      fprintf(stderr, "layervpn: %s\n", err);
      lvpn_config_free(cfg);
      return -1;
    }
  }
  *out = cfg;
  return 0;
}

/* A client from the config (re-read for SIGHUP and the first start),
 * started directly or through the management interface. */
static int cli_new_client(cli_t *cli) {
  lvpn_config_t *cfg;
  int rc;
  cli->restart_sig = 0;
  if (cli->first_cfg != NULL) { /* the files were read a moment ago */
    cfg = cli->first_cfg;
    cli->first_cfg = NULL;
  } else if (cli_load_config(cli, &cfg) != 0) {
    cli->err = LVPN_ECONFIG;
    return LVPN_ECONFIG;
  }
  rc = lvpn_client_new(&cli->client, cli->loop, cfg);
  lvpn_config_free(cfg);
  if (rc != 0) {
    fprintf(stderr, "layervpn: %s\n", lvpn_strerror(rc));
    cli->client = NULL;
    cli->err = rc;
    return rc;
  }
  if (cli->pcap_path != NULL && cli->pcap.point == LVPN_TAP_INSIDE) {
    static const lvpn_inside_hook_t pcap_hook = {
        .name = "pcap",
        .dirs = LVPN_INSIDE_OUTBOUND | LVPN_INSIDE_INBOUND,
        .packet = cli_pcap_hook_packet};
    /* first in the chain: outbound as read, inbound as written */
    rc = lvpn_client_add_inside_hook(cli->client, &pcap_hook, &cli->pcap,
                                     NULL);
    if (rc != 0) {
      fprintf(stderr, "layervpn: --pcap: %s\n", lvpn_strerror(rc));
      lvpn_client_close(cli->client, NULL);
      cli->client = NULL;
      cli->err = rc;
      return rc;
    }
  } else if (cli->pcap_path != NULL) {
    lvpn_client_set_tap(cli->client, cli->pcap.taps, cli_pcap_packet,
                        &cli->pcap);
  }
  if (cli->n_inside_filter > 0 &&
      (rc = lvpn_client_add_inside_filter(
           cli->client, cli->inside_filter, (size_t)cli->n_inside_filter, 0,
           NULL, 0, NULL)) != 0) {
    fprintf(stderr, "layervpn: --inside-filter: %s\n", lvpn_strerror(rc));
    lvpn_client_close(cli->client, NULL);
    cli->client = NULL;
    cli->err = rc;
    return rc;
  }
  if (cli->trace_path != NULL)
    lvpn_client_set_trace(cli->client, cli_trace_event, &cli->trace,
                          cli->trace_level ? cli->trace_level
                                           : LVPN_TRACE_DEFAULT);
  if (cli->keylog_path != NULL)
    lvpn_client_set_keylog(cli->client, cli_keylog_line, &cli->keylog);
  lvpn_client_set_data(cli->client, cli);
  lvpn_client_set_log(cli->client, log_cb, cli, -1);
  lvpn_client_set_event_cb(cli->client, on_event);
  lvpn_client_set_drop_privileges(cli->client, 1); /* user/group/chroot */
  lvpn_client_set_apply_dns(cli->client, 1); /* unless dns-mode none */
  {
    char dir[256]; /* the server's chain between starts */
    const char *d = cli_runtime_path("LVPN_CACHE_DIR", "/run/layervpn",
                                     "layervpn", dir, sizeof(dir));
    if (d != NULL && lvpn_client_set_cache_dir(cli->client, d) != 0)
      fprintf(stderr, "layervpn: cache directory %s (LVPN_CACHE_DIR): want "
              "an absolute path of at most 200 characters (not used)\n", d);
  }
  lvpn_client_set_credentials_cb(cli->client, on_credentials, cli);
  if (cli->mgmt == NULL) {
    rc = lvpn_mgmt_new(&cli->mgmt, cli->client);
    if (cli->mgmt != NULL) {
      lvpn_mgmt_set_data(cli->mgmt, cli);
      lvpn_mgmt_set_signal_cb(cli->mgmt, on_mgmt_signal);
    }
  } else {
    lvpn_mgmt_set_client(cli->mgmt, cli->client);
  }
  if (rc == 0)
    rc = cli->mgmt != NULL ? lvpn_mgmt_start_client(cli->mgmt)
                           : lvpn_client_start(cli->client);
  if (rc != 0) {
    cli->err = rc; /* the cause was logged; close what is open */
  } else if (!cli->memtrim_pending &&
             uv_check_init(cli->loop, &cli->memtrim_check) == 0) {
    /* what the start loaded (cmd/memtrim.h), trimmed after the loop's
     * first poll: the client's reset is on the wire by then (it goes
     * before the poll), so the trim runs while the server answers instead
     * of before the reset (0.2-0.35 ms here) */
    cli->memtrim_check.data = cli;
    cli->memtrim_pending = 1;
    uv_check_start(&cli->memtrim_check, memtrim_check_cb);
  }
  return rc;
}

/* Prints why the client ended; the exit status. inactive, ping-exit and
 * session-timeout end the client as asked (OpenVPN exits 0 after them
 * too). */
static int cli_exit_status(int err) {
  if (err == LVPN_ESTOPPED) {
    printf("layervpn: stopped\n");
    return 0;
  }
  if (err == LVPN_EINACTIVE || err == LVPN_EPING_EXIT ||
      err == LVPN_ESESSION_TIMEOUT) {
    printf("layervpn: exiting: %s\n", lvpn_strerror(err));
    return 0;
  }
  fprintf(stderr, "layervpn: exiting: %s (%s)\n", lvpn_strerror(err),
          lvpn_err_name(err));
  return err == LVPN_ECONFIG || err == LVPN_EKEYFILE ? 2 : 1;
}

static int cmd_connect(int argc, char **argv) {
  uv_loop_t loop;
  cli_t cli;
  lvpn_config_t *cfg = NULL;
  char err[512];
  int i, rc;

  memset(&cli, 0, sizeof(cli));
  cli.verb = -1;
  for (i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--verb") == 0 && i + 1 < argc) {
      cli.verb = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--counters") == 0) {
      cli.show_counters = 1;
    } else if (i + 1 < argc &&
               (rc = cli_option(&cli, argv[i], argv[i + 1])) != 0) {
      if (rc < 0)
        return 2;
      i++;
    } else if (argv[i][0] != '-' || strcmp(argv[i], "-") == 0) {
      cli.path = argv[i++];
      break;
    } else {
      fprintf(stderr, "layervpn: unknown option '%s' before CONFIG\n",
              argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (cli.path == NULL) {
    usage(stderr);
    return 2;
  }
  /* --trace, --pcap and their companions may also follow CONFIG: take them
   * out of the config overrides. */
  {
    int j, k = i;
    for (j = i; j < argc; j++) {
      if (j + 1 < argc && (rc = cli_option(&cli, argv[j], argv[j + 1])) != 0) {
        if (rc < 0)
          return 2;
        j++;
        continue;
      }
      argv[k++] = argv[j];
    }
    argc = k;
  }
  if (cli.trace_level != 0 && cli.trace_path == NULL) {
    fprintf(stderr, "layervpn: --trace-data needs --trace FILE\n");
    return 2;
  }
  if (cli.pcap_layer != NULL && cli.pcap_path == NULL) {
    fprintf(stderr, "layervpn: --pcap-layer needs --pcap FILE\n");
    return 2;
  }
  cli.over = argv + i;
  cli.n_over = argc - i;
  if (cli_load_config(&cli, &cfg) != 0) /* usage errors before any I/O */
    return 2;
  /* daemon: forks here, after the config checks, before connecting */
  rc = cli_proc_prepare(&cli.proc, cfg, cli.path, err, sizeof(err));
  /* The first start takes this read (config, certificates, keys) rather
   * than reading all again; a daemon re-reads after its chdir, as before. */
  if (rc == 0 && !cli.proc.daemon)
    cli.first_cfg = cfg;
  else
    lvpn_config_free(cfg);
  if (rc != 0 || cli_proc_start(&cli.proc, err, sizeof(err)) != 0) {
    fprintf(stderr, "layervpn: %s\n", err);
    lvpn_config_free(cli.first_cfg);
    cli_proc_finish(&cli.proc);
    return 2;
  }
  if (cli.proc.config_path != NULL)
    cli.path = cli.proc.config_path; /* SIGHUP re-reads it after chdir / */
  uv_loop_init(&loop);
  cli.loop = &loop;
  if (cli.trace_path != NULL &&
      (rc = cli_trace_open(&cli.trace, &loop, cli.trace_path)) != 0) {
    fprintf(stderr, "layervpn: cannot open trace file '%s': %s\n",
            cli.trace_path, uv_strerror(rc));
    goto fail_loop;
  }
  if (cli.pcap_path != NULL &&
      cli_pcap_open(&cli.pcap, cli.pcap_path,
                    cli.pcap_layer ? cli.pcap_layer : "wire", err,
                    sizeof(err)) != 0) {
    fprintf(stderr, "layervpn: %s\n", err);
    goto fail_trace;
  }
  if (cli_keylog_start(&cli) != 0)
    goto fail_pcap;
  {
    uv_signal_t *sigs[] = {&cli.sigint, &cli.sigterm, &cli.sighup,
                           &cli.sigusr1, &cli.sigusr2};
    int nums[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
    for (i = 0; i < 5; i++) {
      uv_signal_init(&loop, sigs[i]);
      sigs[i]->data = &cli;
      uv_signal_start(sigs[i], on_signal, nums[i]);
    }
  }
  signal(SIGPIPE, SIG_IGN);
  cli.start_ns = uv_hrtime();
  if (cli.stats_interval > 0) {
    uint64_t ms = (uint64_t)(cli.stats_interval * 1000.0);
    uv_timer_init(&loop, &cli.stats_timer);
    cli.stats_timer.data = &cli;
    uv_timer_start(&cli.stats_timer, on_stats_timer, ms, ms);
  }

  cli_proc_status_start(&cli.proc, &loop, &cli.client);
  rc = cli_new_client(&cli);
  if (rc != 0)
    cli_close_all(&cli);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (cli.pcap_path != NULL)
    cli_pcap_close(&cli.pcap);
  if (cli.keylog_path != NULL && cli_keylog_close(&cli.keylog) != 0)
    fprintf(stderr, "layervpn: writing key log '%s': %s\n", cli.keylog_path,
            uv_strerror(cli.keylog.err));
  if (cli.trace_path != NULL) {
    int terr = cli_trace_close(&cli.trace);
    if (terr != 0)
      fprintf(stderr, "layervpn: writing trace file '%s': %s\n", cli.trace_path,
              uv_strerror(terr));
    if (cli.trace.dropped > 0)
      fprintf(stderr,
              "layervpn: trace: %llu of %llu events dropped (the file fell "
              "behind)\n",
              (unsigned long long)cli.trace.dropped,
              (unsigned long long)(cli.trace.dropped + cli.trace.events));
  }
  if (uv_loop_close(&loop) != 0)
    fprintf(stderr, "layervpn: internal error: handles left open\n");
  rc = cli_exit_status(cli.err);
  cli_proc_finish(&cli.proc);
  return rc;

  /* set-up failed before the loop ran: undo what was opened, last first */
fail_pcap:
  if (cli.pcap_path != NULL)
    cli_pcap_close(&cli.pcap);
fail_trace:
  if (cli.trace_path != NULL)
    cli_trace_close(&cli.trace);
fail_loop:
  uv_loop_close(&loop);
  lvpn_config_free(cli.first_cfg);
  cli_proc_finish(&cli.proc);
  return 2;
}

#ifdef LVPN_DC_CRYPTO_EVP
/* The EVP build's CLI owns its process's libcrypto (the data channel's
 * ciphers and HMAC, PKCS#12 and PBES2 keys), and fetches every algorithm by
 * a name the default provider carries (EVP_CIPHER_fetch, EVP_MD_fetch).
 * Without these flags the first fetch also copies all of libcrypto's
 * legacy cipher and digest names into the provider name map: 0.9 ms of the
 * 2.1 ms that first fetch costs (bench/startup.sh, doc/performance.md
 * "Start-up"). The library cannot set them for an embedding program, whose
 * own code may look algorithms up by legacy name (EVP_get_cipherbyname).
 * With OPENSSL_CONF set, the configuration decides, as in the library. The
 * other backends do not link libcrypto: keyload.c loads it only for PKCS#12
 * and encrypted keys, and skips openssl.cnf there itself. */
static void cli_crypto_init(void) {
  if (getenv("OPENSSL_CONF") == NULL)
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
                            OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
                            OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
                        NULL);
}
#else
static void cli_crypto_init(void) {}
#endif

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
  cli_memtrim(1); /* what the dynamic linker touched (cmd/memtrim.h) */
  cli_crypto_init();
  if (argc >= 2 && strcmp(argv[1], "connect") == 0)
    return cmd_connect(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "socks") == 0)
    return cmd_socks(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "ping") == 0)
    return cmd_ping(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "trace") == 0)
    return cmd_trace(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "probe") == 0)
    return cmd_probe(argc - 2, argv + 2);
  usage(stderr);
  return 2;
}
