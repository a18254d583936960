/* An embedding program driving the inside-packet hooks through the public
 * API only (include/layervpn.h): a client with the config's TUN device, and
 * commands on stdin, one per line, answered on stdout:
 *   filter RULE[;RULE...]  -> "added ID"     (lvpn_client_add_inside_filter)
 *   pcap PATH              -> "added ID"     (lvpn_client_add_inside_pcap)
 *   remove ID              -> "removed ID"   (lvpn_client_remove_inside_hook)
 *   stats ID               -> "stats ID seen S dropped D"
 *   quit                   -> stops; the loop closes clean ("closed")
 * Errors answer "error TEXT". Prints "connected" once the tunnel is up.
 * Used by tests/integration/t_inside_hooks.sh.
 *
 *   hooks_ctl CONFIG.ovpn */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layervpn.h"

static lvpn_client_t *client;
static uv_pipe_t in;
static uv_signal_t sigterm;
static char line[1024];
static size_t line_len;
static int closed;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

static void on_log(void *ud, int level, const char *layer, const char *msg) {
  (void)ud;
  fprintf(stderr, "[%d %s] %s\n", level, layer, msg);
}

static void on_closed(lvpn_client_t *c) {
  (void)c;
  closed = 1;
}

static void stop_all(void) {
  if (!uv_is_closing((uv_handle_t *)&in))
    uv_close((uv_handle_t *)&in, NULL);
  if (!uv_is_closing((uv_handle_t *)&sigterm))
    uv_close((uv_handle_t *)&sigterm, NULL);
  lvpn_client_stop(client);
}

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  if (ev == LVPN_EVENT_CONNECTED)
    say("connected");
  if (ev == LVPN_EVENT_STOPPED) {
    say("stopped %s", lvpn_err_name(err));
    stop_all();
    lvpn_client_close(c, on_closed);
  }
}

static void command(char *cmd) {
  char err[300] = "";
  lvpn_hook_id_t id = 0;
  int rc;
  if (strncmp(cmd, "filter ", 7) == 0) {
    const char *rules[64];
    size_t n = 0;
    char *save = NULL, *r;
    for (r = strtok_r(cmd + 7, ";", &save); r != NULL && n < 64;
         r = strtok_r(NULL, ";", &save))
      rules[n++] = r;
    rc = lvpn_client_add_inside_filter(client, rules, n, 0, err, sizeof(err),
                                       &id);
  } else if (strncmp(cmd, "pcap ", 5) == 0) {
    rc = lvpn_client_add_inside_pcap(client, cmd + 5, err, sizeof(err), &id);
  } else if (strncmp(cmd, "remove ", 7) == 0) {
    id = (lvpn_hook_id_t)strtoul(cmd + 7, NULL, 10);
    rc = lvpn_client_remove_inside_hook(client, id);
    if (rc == 0) {
      say("removed %u", id);
      return;
    }
  } else if (strncmp(cmd, "stats ", 6) == 0) {
    uint64_t seen = 0, dropped = 0;
    id = (lvpn_hook_id_t)strtoul(cmd + 6, NULL, 10);
    rc = lvpn_client_inside_hook_stats(client, id, &seen, &dropped);
    if (rc == 0) {
      say("stats %u seen %llu dropped %llu", id, (unsigned long long)seen,
          (unsigned long long)dropped);
      return;
    }
  } else if (strcmp(cmd, "quit") == 0) {
    stop_all();
    return;
  } else {
    rc = LVPN_EINVAL;
    snprintf(err, sizeof(err), "unknown command '%.200s'", cmd);
  }
  if (rc == 0)
    say("added %u", id);
  else
    say("error %s", err[0] ? err : lvpn_strerror(rc));
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  (void)h;
  (void)sz;
  b->base = line + line_len;
  b->len = sizeof(line) - 1 - line_len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  char *nl;
  (void)s;
  (void)b;
  if (n < 0) {
    stop_all(); /* stdin closed: stop */
    return;
  }
  line_len += (size_t)n;
  line[line_len] = '\0';
  while ((nl = strchr(line, '\n')) != NULL) {
    *nl = '\0';
    command(line);
    line_len -= (size_t)(nl + 1 - line);
    memmove(line, nl + 1, line_len + 1);
  }
  if (line_len == sizeof(line) - 1)
    line_len = 0; /* an overlong line: dropped */
}

static void on_sigterm(uv_signal_t *h, int sig) {
  (void)h;
  (void)sig;
  stop_all();
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  lvpn_config_t *cfg;
  char err[512];
  int rc;

  if (argc != 2) {
    fprintf(stderr, "usage: hooks_ctl CONFIG.ovpn\n");
    return 2;
  }
  if ((rc = lvpn_config_load(&cfg, argv[1], err, sizeof(err))) != 0) {
    fprintf(stderr, "hooks_ctl: %s\n", err);
    return 2;
  }
  uv_loop_init(&loop);
  rc = lvpn_client_new(&client, &loop, cfg);
  lvpn_config_free(cfg);
  if (rc != 0) {
    fprintf(stderr, "hooks_ctl: %s\n", lvpn_strerror(rc));
    return 1;
  }
  lvpn_client_set_log(client, on_log, NULL, -1);
  lvpn_client_set_event_cb(client, on_event);
  uv_pipe_init(&loop, &in, 0);
  uv_pipe_open(&in, 0);
  uv_read_start((uv_stream_t *)&in, on_alloc, on_read);
  uv_signal_init(&loop, &sigterm);
  uv_signal_start(&sigterm, on_sigterm, SIGTERM);
  if ((rc = lvpn_client_start(client)) != 0) {
    fprintf(stderr, "hooks_ctl: start: %s\n", lvpn_strerror(rc));
    stop_all();
    lvpn_client_close(client, on_closed);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&loop);
  say(closed && rc == 0 ? "closed" : "not closed clean");
  return closed && rc == 0 ? 0 : 1;
}
