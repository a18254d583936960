/* An embedding program using only the public API (include/layervpn.h,
 * linked against liblayers): a client on our own loop with host-provided
 * inside I/O instead of a TUN device. Once connected it sends ICMP echo
 * requests to the server's tunnel address through lvpn_client_inside_input
 * and counts the replies handed back through the inside-write callback.
 *
 *   embed_ping CONFIG.ovpn TARGET_IPV4 COUNT
 * Exit 0 when every echo got its reply within 10 s. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layervpn.h"

typedef struct {
  lvpn_client_t *c;
  uv_timer_t tick, deadline;
  uint32_t src, dst;
  int count, sent, replies, failed;
} app_t;

static uint16_t csum(const uint8_t *b, size_t n) {
  uint32_t s = 0;
  size_t i;
  for (i = 0; i + 1 < n; i += 2)
    s += (uint32_t)(b[i] << 8 | b[i + 1]);
  if (n & 1)
    s += (uint32_t)(b[n - 1] << 8);
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static size_t build_echo(app_t *a, uint8_t *pkt, uint16_t seq) {
  size_t n = 20 + 8 + 32;
  uint16_t c;
  memset(pkt, 0, n);
  pkt[0] = 0x45;
  pkt[2] = (uint8_t)(n >> 8);
  pkt[3] = (uint8_t)n;
  pkt[8] = 64;
  pkt[9] = 1; /* ICMP */
  memcpy(pkt + 12, &a->src, 4);
  memcpy(pkt + 16, &a->dst, 4);
  c = csum(pkt, 20);
  pkt[10] = (uint8_t)(c >> 8);
  pkt[11] = (uint8_t)c;
  pkt[20] = 8; /* echo request */
  pkt[24] = 0x4c;
  pkt[25] = 0x56; /* id "LV" */
  pkt[26] = (uint8_t)(seq >> 8);
  pkt[27] = (uint8_t)seq;
  memset(pkt + 28, 0xa5, 32);
  c = csum(pkt + 20, n - 20);
  pkt[22] = (uint8_t)(c >> 8);
  pkt[23] = (uint8_t)c;
  return n;
}

static void inside_write(lvpn_client_t *c, const uint8_t *pkt, size_t len) {
  app_t *a = lvpn_client_get_data(c);
  if (len >= 28 && (pkt[0] >> 4) == 4 && pkt[9] == 1 && pkt[20] == 0 &&
      pkt[24] == 0x4c && pkt[25] == 0x56 && memcmp(pkt + 12, &a->dst, 4) == 0) {
    a->replies++;
    printf("embed_ping: echo reply seq %u\n", (unsigned)(pkt[26] << 8 | pkt[27]));
    if (a->replies == a->count)
      lvpn_client_stop(c);
  }
}

static void tick_cb(uv_timer_t *t) {
  app_t *a = t->data;
  uint8_t pkt[128];
  size_t n;
  if (a->sent >= a->count) {
    uv_timer_stop(t);
    return;
  }
  n = build_echo(a, pkt, (uint16_t)++a->sent);
  if (lvpn_client_inside_input(a->c, pkt, n) != 0)
    a->failed = 1;
}

static void deadline_cb(uv_timer_t *t) {
  app_t *a = t->data;
  fprintf(stderr, "embed_ping: timeout (%d/%d replies)\n", a->replies,
          a->count);
  a->failed = 1;
  lvpn_client_stop(a->c);
}

static void close_all(app_t *a) {
  if (!uv_is_closing((uv_handle_t *)&a->tick))
    uv_close((uv_handle_t *)&a->tick, NULL);
  if (!uv_is_closing((uv_handle_t *)&a->deadline))
    uv_close((uv_handle_t *)&a->deadline, NULL);
  lvpn_client_close(a->c, NULL);
}

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  app_t *a = lvpn_client_get_data(c);
  uint32_t mask;
  char buf[INET_ADDRSTRLEN];
  if (ev == LVPN_EVENT_CONNECTED) {
    if (lvpn_client_tunnel_ipv4(c, &a->src, &mask) != 0) {
      fprintf(stderr, "embed_ping: no IPv4 address pushed\n");
      a->failed = 1;
      lvpn_client_stop(c);
      return;
    }
    inet_ntop(AF_INET, &a->src, buf, sizeof(buf));
    printf("embed_ping: connected, our tunnel address %s\n", buf);
    uv_timer_start(&a->tick, tick_cb, 0, 100);
    uv_timer_start(&a->deadline, deadline_cb, 10000, 0);
  } else if (ev == LVPN_EVENT_STOPPED) {
    if (err != LVPN_ESTOPPED) {
      fprintf(stderr, "embed_ping: stopped: %s\n", lvpn_strerror(err));
      a->failed = 1;
    }
    close_all(a);
  } else if (ev == LVPN_EVENT_RESTARTING) {
    fprintf(stderr, "embed_ping: connection lost: %s\n", lvpn_strerror(err));
  }
}

static void log_cb(void *ud, int level, const char *layer, const char *msg) {
  (void)ud;
  fprintf(stderr, "[%d %s] %s\n", level, layer, msg);
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  lvpn_config_t *cfg;
  app_t a;
  char err[256];
  int rc;

  if (argc != 4) {
    fprintf(stderr, "usage: embed_ping CONFIG.ovpn TARGET_IPV4 COUNT\n");
    return 2;
  }
  memset(&a, 0, sizeof(a));
  if (inet_pton(AF_INET, argv[2], &a.dst) != 1 || (a.count = atoi(argv[3])) < 1) {
    fprintf(stderr, "embed_ping: bad target or count\n");
    return 2;
  }
  if (lvpn_config_load(&cfg, argv[1], err, sizeof(err)) != 0) {
    fprintf(stderr, "embed_ping: %s\n", err);
    return 2;
  }
  uv_loop_init(&loop);
  rc = lvpn_client_new(&a.c, &loop, cfg);
  lvpn_config_free(cfg);
  if (rc != 0)
    return 1;
  lvpn_client_set_data(a.c, &a);
  lvpn_client_set_log(a.c, log_cb, NULL, 1);
  lvpn_client_set_event_cb(a.c, on_event);
  lvpn_client_set_inside_write(a.c, inside_write);
  uv_timer_init(&loop, &a.tick);
  uv_timer_init(&loop, &a.deadline);
  a.tick.data = a.deadline.data = &a;
  if (lvpn_client_start(a.c) != 0) {
    a.failed = 1;
    close_all(&a);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&loop);
  printf("embed_ping: %d/%d replies, loop close %d\n", a.replies, a.count, rc);
  return (a.failed || a.replies != a.count || rc != 0) ? 1 : 0;
}
