/* lvpn_client_state() / lvpn_state_name(): OpenVPN's names and numbers (its
 * management interface's `state`), and the state of a client that never
 * started. The states of a real connection are checked against OpenVPN 2.6
 * by tests/integration/t_state.sh. Also the start's warning for a
 * disable-offload with nothing to turn off. */
#include <string.h>

#include "tests/fakes.h"
#include "layervpn.h"
#include "layers/client.h"

START_TEST(test_client_state_names_are_openvpns) {
  /* OpenVPN's manage.h numbers, manage.c names */
  static const struct {
    lvpn_state_t s;
    int openvpn;
    const char *name;
  } want[] = {{LVPN_STATE_INITIAL, 0, "INITIAL"},
              {LVPN_STATE_CONNECTING, 1, "CONNECTING"},
              {LVPN_STATE_ASSIGN_IP, 2, "ASSIGN_IP"},
              {LVPN_STATE_ADD_ROUTES, 3, "ADD_ROUTES"},
              {LVPN_STATE_CONNECTED, 4, "CONNECTED"},
              {LVPN_STATE_RECONNECTING, 5, "RECONNECTING"},
              {LVPN_STATE_EXITING, 6, "EXITING"},
              {LVPN_STATE_WAIT, 7, "WAIT"},
              {LVPN_STATE_AUTH, 8, "AUTH"},
              {LVPN_STATE_GET_CONFIG, 9, "GET_CONFIG"},
              {LVPN_STATE_RESOLVE, 10, "RESOLVE"},
              {LVPN_STATE_TCP_CONNECT, 11, "TCP_CONNECT"}};
  size_t i;
  for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    ck_assert_int_eq((int)want[i].s, want[i].openvpn);
    ck_assert_str_eq(lvpn_state_name(want[i].s), want[i].name);
  }
  ck_assert_str_eq(lvpn_state_name((lvpn_state_t)12), "?");
  ck_assert_str_eq(lvpn_state_name((lvpn_state_t)-1), "?");
}
END_TEST

START_TEST(test_client_state_initial_until_started) {
  uv_loop_t loop;
  lvpn_config_t *cfg;
  lvpn_client_t *c;

  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  ck_assert_int_eq(lvpn_client_new(&c, &loop, cfg), 0);
  lvpn_config_free(cfg);
  ck_assert_int_eq(lvpn_client_state(c), LVPN_STATE_INITIAL);
  lvpn_client_stop(c); /* harmless when idle */
  ck_assert_int_eq(lvpn_client_state(c), LVPN_STATE_INITIAL);
  /* a config that cannot work is refused before anything starts */
  ck_assert_int_ne(lvpn_client_start(c), 0);
  ck_assert_int_eq(lvpn_client_state(c), LVPN_STATE_INITIAL);
  ck_assert_int_eq(lvpn_client_close(c, NULL), 0);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* lvpn_client_set_cache_dir(): an absolute path of at most 200
 * characters, or none; anything else is refused and changes nothing. */
START_TEST(test_client_cache_dir) {
  uv_loop_t loop;
  lvpn_config_t *cfg;
  lvpn_client_t *c;
  char long_dir[300];

  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  ck_assert_int_eq(lvpn_client_new(&c, &loop, cfg), 0);
  lvpn_config_free(cfg);
  ck_assert_int_eq(lvpn_client_set_cache_dir(NULL, "/run/x"), LVPN_EINVAL);
  ck_assert_int_eq(lvpn_client_set_cache_dir(c, "run/layervpn"), LVPN_EINVAL);
  memset(long_dir, 'a', sizeof(long_dir));
  long_dir[0] = '/';
  long_dir[201] = '\0';
  ck_assert_int_eq(lvpn_client_set_cache_dir(c, long_dir), LVPN_EINVAL);
  long_dir[200] = '\0';
  ck_assert_int_eq(lvpn_client_set_cache_dir(c, long_dir), 0);
  ck_assert_int_eq(lvpn_client_set_cache_dir(c, "/run/layervpn"), 0);
  ck_assert_int_eq(lvpn_client_set_cache_dir(c, ""), 0);
  ck_assert_int_eq(lvpn_client_set_cache_dir(c, "/tmp"), 0);
  ck_assert_int_eq(lvpn_client_set_cache_dir(c, NULL), 0);
  ck_assert_int_eq(lvpn_client_close(c, NULL), 0);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* Builds a config from "name arg..." lines (NULL-terminated). */
static lvpn_config_t *conf(const char *const *lines) {
  lvpn_config_t *cfg;
  char err[256], buf[128], *w[6], *save;
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  for (; *lines != NULL; lines++) {
    int n = 0;
    snprintf(buf, sizeof(buf), "%s", *lines);
    for (w[n] = strtok_r(buf, " ", &save); w[n] != NULL && n < 5;
         w[++n] = strtok_r(NULL, " ", &save))
      ;
    w[n] = NULL;
    ck_assert_msg(lvpn_config_set(cfg, w[0], (const char *const *)&w[1], err,
                                  sizeof(err)) == 0,
                  "%s: %s", *lines, err);
  }
  return cfg;
}

/* disable-offload warns at start only when no part of what it asks has
 * anything to turn off: UDP batching needs a direct UDP remote without
 * passtos, the TUN offloads a TUN device. */
START_TEST(test_client_offload_unused) {
  static const struct {
    const char *lines[5];
    bool tun_device;
    const char *want; /* NULL: no warning */
  } t[] = {
      {{"remote 198.18.0.1 1194 udp", "disable-offload udp"}, true, NULL},
      {{"remote 198.18.0.1 1194 tcp", "disable-offload udp"},
       true,
       "'disable-offload udp' has nothing to turn off here: no remote is "
       "reached over direct UDP (TCP or a proxy)"},
      {{"remote 198.18.0.1 1194 tcp", "remote 198.18.0.2 1194 udp",
        "disable-offload udp"},
       true,
       NULL},
      {{"proto tcp-client", "remote 198.18.0.1", "disable-offload udp"},
       true,
       "'disable-offload udp' has nothing to turn off here: no remote is "
       "reached over direct UDP (TCP or a proxy)"},
      {{"remote 198.18.0.1 1194 udp", "socks-proxy 198.18.0.9 1080",
        "disable-offload udp"},
       true,
       "'disable-offload udp' has nothing to turn off here: no remote is "
       "reached over direct UDP (TCP or a proxy)"},
      {{"remote 198.18.0.1 1194 udp", "passtos", "disable-offload udp"},
       true,
       "'disable-offload udp' has nothing to turn off here: passtos already "
       "sends one datagram per call"},
      {{"remote 198.18.0.1 1194 tcp", "disable-offload"}, true, NULL},
      {{"remote 198.18.0.1 1194 tcp", "disable-offload tun"}, true, NULL},
      {{"remote 198.18.0.1 1194 udp", "disable-offload tun"},
       false,
       "'disable-offload tun' has nothing to turn off here: the host brings "
       "its own inside I/O (no TUN device)"},
      {{"remote 198.18.0.1 1194 udp", "disable-offload"}, false, NULL},
      {{"remote 198.18.0.1 1194 tcp", "disable-offload"},
       false,
       "'disable-offload' has nothing to turn off here: the host brings its "
       "own inside I/O (no TUN device); no remote is reached over direct UDP "
       "(TCP or a proxy)"},
      {{"remote 198.18.0.1 1194 tcp"}, false, NULL},
  };
  size_t i;
  for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    lvpn_config_t *cfg = conf(t[i].lines);
    char msg[256] = "";
    int r = lvpn__client_offload_unused(cfg, t[i].tun_device, msg,
                                        sizeof(msg));
    ck_assert_msg(r == (t[i].want != NULL), "case %zu: %d (%s)", i, r, msg);
    if (t[i].want != NULL)
      ck_assert_str_eq(msg, t[i].want);
    lvpn_config_free(cfg);
  }
}
END_TEST

LVPN_TEST_MAIN("client_state", 0, NULL, NULL,
               test_client_state_names_are_openvpns,
               test_client_state_initial_until_started, test_client_cache_dir,
               test_client_offload_unused)
