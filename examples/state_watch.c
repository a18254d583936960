/* state_watch: a minimal program embedding liblayers.
 *
 * It connects with an OpenVPN client config on its own libuv loop, prints
 * every state the client goes through (OpenVPN's names: RESOLVE, WAIT, AUTH,
 * GET_CONFIG, ASSIGN_IP, CONNECTED, ...), stays connected for SECONDS and
 * stops (it gives up after 30 s without a connection). It provides the inside I/O itself (an empty sink), so it needs no
 * TUN device and no root.
 *
 * Build it against an installed liblayers with nothing but pkg-config:
 *
 *   cc -o state_watch state_watch.c $(pkg-config --cflags --libs liblayers)
 *
 * Run:   ./state_watch client.ovpn [SECONDS]
 * Exit:  0 when it connected and stopped cleanly, 1 otherwise, 2 usage. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <layervpn.h>

typedef struct {
  lvpn_client_t *client;
  uv_prepare_t watch; /* runs once per loop turn, before polling */
  uv_timer_t stay; /* give up connecting, then stay connected */
  lvpn_state_t last;
  unsigned seconds;
  int connected, err;
} app_t;

static void show_state(app_t *a, const char *why) {
  lvpn_state_t s = lvpn_client_state(a->client);
  if (s == a->last)
    return;
  a->last = s;
  printf("state: %s%s\n", lvpn_state_name(s), why);
  fflush(stdout);
}

static void watch_cb(uv_prepare_t *h) { show_state(h->data, ""); }

static void stay_cb(uv_timer_t *t) {
  app_t *a = t->data;
  lvpn_client_stop(a->client);
}

static void closed_cb(lvpn_client_t *c) { (void)c; }

/* Decrypted packets from the tunnel (lent for the call): we ignore them. */
static void inside_write(lvpn_client_t *c, const uint8_t *pkt, size_t len) {
  (void)c;
  (void)pkt;
  (void)len;
}

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  app_t *a = lvpn_client_get_data(c);
  uint32_t addr, mask;
  char buf[INET_ADDRSTRLEN];

  switch (ev) {
  case LVPN_EVENT_PUSH_REPLY:
    show_state(a, " (PUSH_REPLY received)");
    break;
  case LVPN_EVENT_CONNECTED:
    show_state(a, "");
    a->connected = 1;
    if (lvpn_client_tunnel_ipv4(c, &addr, &mask) == 0 &&
        inet_ntop(AF_INET, &addr, buf, sizeof(buf)) != NULL)
      printf("tunnel address: %s\n", buf);
    uv_timer_start(&a->stay, stay_cb, (uint64_t)a->seconds * 1000, 0);
    break;
  case LVPN_EVENT_RESTARTING:
    show_state(a, "");
    printf("connection failed: %s (%s), retrying\n", lvpn_strerror(err),
           lvpn_err_name(err));
    break;
  case LVPN_EVENT_PUSH_UPDATE:
    show_state(a, " (PUSH_UPDATE applied)");
    break;
  case LVPN_EVENT_AUTH_PENDING:
  case LVPN_EVENT_INFO:
    printf("server: %s\n", lvpn_client_info(c, NULL));
    break;
  case LVPN_EVENT_STOPPED:
    show_state(a, "");
    printf("stopped: %s\n", lvpn_strerror(err));
    a->err = err;
    uv_close((uv_handle_t *)&a->watch, NULL);
    uv_close((uv_handle_t *)&a->stay, NULL);
    lvpn_client_close(c, closed_cb);
    break;
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  lvpn_config_t *cfg;
  app_t a;
  char err[512];
  int rc;

  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: state_watch CONFIG.ovpn [SECONDS]\n");
    return 2;
  }
  memset(&a, 0, sizeof(a));
  a.seconds = argc == 3 ? (unsigned)atoi(argv[2]) : 1;
  a.last = (lvpn_state_t)-1;
  if (lvpn_config_load(&cfg, argv[1], err, sizeof(err)) != 0) {
    fprintf(stderr, "state_watch: %s\n", err);
    return 2;
  }
  uv_loop_init(&loop);
  rc = lvpn_client_new(&a.client, &loop, cfg);
  lvpn_config_free(cfg); /* the client keeps its own copy */
  if (rc != 0) {
    fprintf(stderr, "state_watch: %s\n", lvpn_strerror(rc));
    return 1;
  }
  lvpn_client_set_data(a.client, &a);
  lvpn_client_set_event_cb(a.client, on_event);
  lvpn_client_set_inside_write(a.client, inside_write);
  uv_prepare_init(&loop, &a.watch);
  uv_timer_init(&loop, &a.stay);
  a.watch.data = a.stay.data = &a;
  show_state(&a, ""); /* INITIAL */
  uv_prepare_start(&a.watch, watch_cb);
  uv_timer_start(&a.stay, stay_cb, 30000, 0);
  if ((rc = lvpn_client_start(a.client)) != 0) {
    fprintf(stderr, "state_watch: cannot start: %s\n", lvpn_strerror(rc));
    a.err = rc;
    uv_close((uv_handle_t *)&a.watch, NULL);
    uv_close((uv_handle_t *)&a.stay, NULL);
    lvpn_client_close(a.client, closed_cb);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&loop);
  return a.connected && a.err == LVPN_ESTOPPED && rc == 0 ? 0 : 1;
}
