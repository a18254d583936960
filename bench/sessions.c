/* Many sessions in one process, through the public API only: N clients made
 * from one loaded config share one loop, with host-provided inside I/O (no
 * TUN device). At most WINDOW handshakes are in flight at a time; each client,
 * once connected, sends one ICMP echo request to TARGET through its tunnel and
 * counts the reply. When every session has its reply (or the deadline
 * passes) the program prints one line of key=value results and stops them all.
 *
 *   bench_sessions CONFIG.ovpn TARGET_IPV4 N [WINDOW] [DEADLINE_S]
 *
 * peak_rss_per_session_kib is (VmHWM once every session has passed traffic
 * - VmRSS before the first client was made) / N: the whole cost of a
 * session, handshakes included, with the parts clients share spread.
 * Exit 0 when all N sessions passed traffic and the loop closed clean. */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layervpn.h"

typedef struct bench_s bench_t;

typedef struct {
  lvpn_client_t *c;
  bench_t *b;
  uint32_t src;
  int connected, replied, counted;
} sess_t;

struct bench_s {
  uv_loop_t *loop;
  uv_timer_t deadline, pinger;
  uint32_t dst;
  sess_t *s;
  int n, window, started, inflight, connected, replied, closing, failed;
  long hwm_live; /* VmHWM when the last session passed traffic */
  size_t heap_live; /* malloc'd bytes in use then (glibc) */
  uint64_t t0, t_all_connected, t_all_replied;
};

static long proc_status_kib(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  size_t kl = strlen(key);
  long v = -1;
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      v = strtol(line + kl + 1, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

static uint16_t csum(const uint8_t *p, size_t n) {
  uint32_t s = 0;
  size_t i;
  for (i = 0; i + 1 < n; i += 2)
    s += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1)
    s += (uint32_t)(p[n - 1] << 8);
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static void send_echo(sess_t *s) {
  uint8_t pkt[48];
  uint16_t c, id = (uint16_t)(s - s->b->s);
  memset(pkt, 0, sizeof(pkt));
  pkt[0] = 0x45;
  pkt[3] = sizeof(pkt);
  pkt[8] = 64;
  pkt[9] = 1;
  memcpy(pkt + 12, &s->src, 4);
  memcpy(pkt + 16, &s->b->dst, 4);
  c = csum(pkt, 20);
  pkt[10] = (uint8_t)(c >> 8);
  pkt[11] = (uint8_t)c;
  pkt[20] = 8;
  pkt[24] = (uint8_t)(id >> 8);
  pkt[25] = (uint8_t)id;
  memset(pkt + 28, 0x5a, sizeof(pkt) - 28);
  c = csum(pkt + 20, sizeof(pkt) - 20);
  pkt[22] = (uint8_t)(c >> 8);
  pkt[23] = (uint8_t)c;
  lvpn_client_inside_input(s->c, pkt, sizeof(pkt));
}

static void start_more(bench_t *b);

static void finish(bench_t *b) {
  int i;
  if (b->closing)
    return;
  b->closing = 1;
  b->hwm_live = proc_status_kib("VmHWM");
  b->heap_live = mallinfo2().uordblks;
  uv_timer_stop(&b->deadline);
  uv_timer_stop(&b->pinger);
  for (i = 0; i < b->n; i++)
    if (b->s[i].c != NULL)
      lvpn_client_stop(b->s[i].c);
}

static void inside_write(lvpn_client_t *c, const uint8_t *pkt, size_t len) {
  sess_t *s = lvpn_client_get_data(c);
  bench_t *b = s->b;
  if (len < 28 || (pkt[0] >> 4) != 4 || pkt[9] != 1 || pkt[20] != 0 ||
      memcmp(pkt + 12, &b->dst, 4) != 0 || s->replied)
    return;
  s->replied = 1;
  if (++b->replied == b->n) {
    b->t_all_replied = uv_hrtime();
    finish(b);
  }
}

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  sess_t *s = lvpn_client_get_data(c);
  bench_t *b = s->b;
  uint32_t mask;
  if (ev == LVPN_EVENT_CONNECTED && !s->connected) {
    s->connected = 1;
    b->inflight--;
    if (++b->connected == b->n)
      b->t_all_connected = uv_hrtime();
    if (lvpn_client_tunnel_ipv4(c, &s->src, &mask) == 0)
      send_echo(s);
    start_more(b);
  } else if (ev == LVPN_EVENT_STOPPED) {
    if (err != LVPN_ESTOPPED && !b->closing) {
      fprintf(stderr, "bench_sessions: session %d stopped: %s\n",
              (int)(s - b->s), lvpn_strerror(err));
      b->failed = 1;
    }
    lvpn_client_close(c, NULL);
    s->c = NULL;
    if (!s->connected) {
      b->inflight--;
      start_more(b);
    }
  }
}

static void log_cb(void *ud, int level, const char *layer, const char *msg) {
  (void)ud;
  if (level <= 1)
    fprintf(stderr, "[%d %s] %s\n", level, layer, msg);
}

static void start_more(bench_t *b) {
  while (!b->closing && b->started < b->n && b->inflight < b->window) {
    sess_t *s = &b->s[b->started++];
    b->inflight++;
    if (lvpn_client_start(s->c) != 0) {
      fprintf(stderr, "bench_sessions: start %d failed\n", (int)(s - b->s));
      b->failed = 1;
      finish(b);
    }
  }
}

/* Echo requests or replies can be lost while the server is busy with
 * handshakes: resend to connected sessions still waiting for theirs. */
static void pinger_cb(uv_timer_t *t) {
  bench_t *b = t->data;
  int i;
  for (i = 0; i < b->n; i++)
    if (b->s[i].connected && !b->s[i].replied && b->s[i].c != NULL)
      send_echo(&b->s[i]);
}

static void deadline_cb(uv_timer_t *t) {
  bench_t *b = t->data;
  fprintf(stderr, "bench_sessions: deadline: %d/%d connected, %d replied\n",
          b->connected, b->n, b->replied);
  b->failed = 1;
  finish(b);
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  lvpn_config_t *cfg;
  bench_t b;
  char err[256];
  long rss0, hwm;
  double t_conn, t_reply;
  int i, rc, deadline_s;

  if (argc < 4) {
    fprintf(stderr, "usage: bench_sessions CONFIG.ovpn TARGET_IPV4 N "
                    "[WINDOW] [DEADLINE_S]\n");
    return 2;
  }
  memset(&b, 0, sizeof(b));
  b.n = atoi(argv[3]);
  b.window = argc > 4 ? atoi(argv[4]) : 32;
  deadline_s = argc > 5 ? atoi(argv[5]) : 600;
  if (inet_pton(AF_INET, argv[2], &b.dst) != 1 || b.n < 1 || b.window < 1) {
    fprintf(stderr, "bench_sessions: bad target, N or window\n");
    return 2;
  }
  if (lvpn_config_load(&cfg, argv[1], err, sizeof(err)) != 0) {
    fprintf(stderr, "bench_sessions: %s\n", err);
    return 2;
  }
  uv_loop_init(&loop);
  b.loop = &loop;
  b.s = calloc((size_t)b.n, sizeof(*b.s));
  if (b.s == NULL)
    return 1;
  rss0 = proc_status_kib("VmRSS");
  for (i = 0; i < b.n; i++) {
    b.s[i].b = &b;
    if (lvpn_client_new(&b.s[i].c, &loop, cfg) != 0) {
      fprintf(stderr, "bench_sessions: client %d: cannot create\n", i);
      return 1;
    }
    lvpn_client_set_data(b.s[i].c, &b.s[i]);
    lvpn_client_set_log(b.s[i].c, log_cb, NULL, 1);
    lvpn_client_set_event_cb(b.s[i].c, on_event);
    lvpn_client_set_inside_write(b.s[i].c, inside_write);
  }
  lvpn_config_free(cfg);
  uv_timer_init(&loop, &b.deadline);
  uv_timer_init(&loop, &b.pinger);
  b.deadline.data = b.pinger.data = &b;
  uv_timer_start(&b.deadline, deadline_cb, (uint64_t)deadline_s * 1000, 0);
  uv_timer_start(&b.pinger, pinger_cb, 2000, 2000);
  b.t0 = uv_hrtime();
  start_more(&b);
  uv_run(&loop, UV_RUN_DEFAULT);
  hwm = b.hwm_live;
  uv_close((uv_handle_t *)&b.deadline, NULL);
  uv_close((uv_handle_t *)&b.pinger, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&loop);
  t_conn = b.t_all_connected ? (double)(b.t_all_connected - b.t0) / 1e9 : -1;
  t_reply = b.t_all_replied ? (double)(b.t_all_replied - b.t0) / 1e9 : -1;
  printf("sessions=%d connected=%d passed_traffic=%d connect_all_s=%.2f "
         "traffic_all_s=%.2f handshakes_per_s=%.1f rss_before_kib=%ld "
         "peak_rss_kib=%ld peak_rss_per_session_kib=%.1f "
         "heap_in_use_per_session_kib=%.1f teardown_peak_rss_kib=%ld "
         "loop_close=%d\n",
         b.n, b.connected, b.replied, t_conn, t_reply,
         t_conn > 0 ? b.connected / t_conn : 0.0, rss0, hwm,
         (double)(hwm - rss0) / b.n, (double)b.heap_live / 1024 / b.n,
         proc_status_kib("VmHWM"), rc);
  free(b.s);
  return (b.failed || b.replied != b.n || rc != 0) ? 1 : 0;
}
