/* layers/tlssession/push_update: PUSH_UPDATE sequences on a copy of the
 * pushed options, as OpenVPN 2.7's apply_push_options(is_update). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "layers/tlssession/push_update.h"
#include "layervpn.h"
#include "tests/fakes.h"

static lvpn__push_t cur;
static lvpn__push_update_t upd;

static void setup(void) {
  static const char reply[] =
      "PUSH_REPLY,route 198.18.10.0 255.255.255.0,route 198.18.11.0 "
      "255.255.255.0,route-ipv6 2001:2:10::/64,dhcp-option DNS 198.18.0.53,"
      "dns server 0 address 198.18.0.53,ifconfig 198.18.0.6 255.255.255.0,"
      "topology subnet,ping 10,ping-restart 60,auth-token SESS_ID_abc,"
      "cipher AES-256-GCM,peer-id 3";
  lvpn__push_init(&cur);
  lvpn__push_update_init(&upd);
  ck_assert_int_eq(lvpn__push_parse(&cur, reply, strlen(reply), NULL, NULL),
                   0);
  ck_assert_int_eq(cur.n_routes, 2);
}

static void teardown(void) {
  lvpn__push_update_free(&upd);
  lvpn__push_free(&cur);
}

static int update(const char *msg) {
  return lvpn__push_update_parse(&upd, &cur, msg, strlen(msg), NULL, NULL);
}

static void update_commit(const char *msg) {
  ck_assert_msg(update(msg) == 0, "%s", upd.err);
  lvpn__push_update_commit(&upd, &cur);
}

static const char *net4(int i, char *buf) {
  return inet_ntop(AF_INET, &cur.routes[i].net, buf, INET_ADDRSTRLEN);
}

START_TEST(test_push_update_first_route_replaces_the_list) {
  char b[INET_ADDRSTRLEN];
  update_commit("PUSH_UPDATE,route 198.18.20.0 255.255.255.0,route "
                "198.18.21.0 255.255.255.0");
  ck_assert_int_eq(cur.n_routes, 2);
  ck_assert_str_eq(net4(0, b), "198.18.20.0");
  ck_assert_str_eq(net4(1, b), "198.18.21.0");
  /* the rest is unchanged, the token kept (not updatable, not copied) */
  ck_assert_int_eq(cur.n_routes6, 1);
  ck_assert_int_eq(cur.n_dhcp, 1);
  ck_assert_str_eq(cur.auth_token, "SESS_ID_abc");
  ck_assert_str_eq(cur.cipher, "AES-256-GCM");
  ck_assert_uint_eq(cur.peer_id, 3);
}
END_TEST

START_TEST(test_push_update_remove_forms) {
  update_commit("PUSH_UPDATE,-route,-route-ipv6,-dns,-dhcp-option");
  ck_assert_int_eq(cur.n_routes, 0);
  ck_assert_int_eq(cur.n_routes6, 0);
  ck_assert_int_eq(cur.dns.n_servers, 0);
  ck_assert_int_eq(cur.n_dhcp, 0);
  ck_assert(cur.has_ifconfig);
  /* removal by bare name only: with arguments it is skipped */
  update_commit("PUSH_UPDATE,-ifconfig 1.2.3.4 255.0.0.0");
  ck_assert(cur.has_ifconfig);
  update_commit("PUSH_UPDATE,-ifconfig");
  ck_assert(!cur.has_ifconfig);
}
END_TEST

START_TEST(test_push_update_continuation_resets_once) {
  char b[INET_ADDRSTRLEN];
  ck_assert_int_eq(update("PUSH_UPDATE,route 198.18.30.0 255.255.255.0,"
                          "push-continuation 2"),
                   1);
  /* nothing committed while the sequence runs */
  ck_assert_int_eq(cur.n_routes, 2);
  ck_assert_int_eq(update("PUSH_UPDATE,route 198.18.31.0 255.255.255.0,"
                          "route-ipv6 2001:2:31::/64,push-continuation 1"),
                   0);
  ck_assert_uint_eq(upd.changed, LVPN__PU_ROUTE | LVPN__PU_ROUTE6);
  lvpn__push_update_commit(&upd, &cur);
  /* the second part added to the list the first one replaced */
  ck_assert_int_eq(cur.n_routes, 2);
  ck_assert_str_eq(net4(0, b), "198.18.30.0");
  ck_assert_str_eq(net4(1, b), "198.18.31.0");
  ck_assert_int_eq(cur.n_routes6, 1);
  /* a new sequence replaces again */
  update_commit("PUSH_UPDATE,route 198.18.40.0 255.255.255.0");
  ck_assert_int_eq(cur.n_routes, 1);
}
END_TEST

START_TEST(test_push_update_not_updatable) {
  /* without '?': an error that says so (2.7 restarts) */
  ck_assert_int_eq(update("PUSH_UPDATE,route 198.18.50.0 255.255.255.0,"
                          "cipher AES-128-GCM"),
                   LVPN_EPUSH);
  ck_assert_int_eq(upd.not_updatable, 1);
  ck_assert_ptr_nonnull(strstr(upd.err, "not updatable"));
  ck_assert_ptr_null(upd.next); /* dropped, nothing applied */
  ck_assert_int_eq(cur.n_routes, 2);
  /* with '?': skipped, the rest applies */
  update_commit("PUSH_UPDATE,?cipher AES-128-GCM,?peer-id 9,"
                "route 198.18.50.0 255.255.255.0");
  ck_assert_int_eq(cur.n_routes, 1);
  ck_assert_str_eq(cur.cipher, "AES-256-GCM");
  ck_assert_uint_eq(cur.peer_id, 3);
  /* a prefix of an updatable name is not that option */
  ck_assert_int_eq(update("PUSH_UPDATE,routes 1"), LVPN_EPUSH);
  ck_assert_int_eq(upd.not_updatable, 1);
}
END_TEST

START_TEST(test_push_update_malformed) {
  static const char *const bad[] = {
      "PUSH_UPDATEX,route 198.18.1.0", "PUSH_REPLY,route 198.18.1.0",
      "PUSH_UPDATE,-",                 "PUSH_UPDATE,?-route",
      "PUSH_UPDATE,?",                 "PUSH_UPDATE,route 198.18.1.0 300.0.0.0",
      "PUSH_UPDATE,keepalive 10",      "PUSH_UPDATE,push-continuation 3"};
  size_t i;
  for (i = 0; i < FAKE_COUNT(bad); i++) {
    ck_assert_msg(update(bad[i]) == LVPN_EPUSH, "accepted: %s", bad[i]);
    ck_assert_int_eq(upd.not_updatable, 0);
    ck_assert_str_ne(upd.err, "");
    ck_assert_ptr_null(upd.next);
  }
  ck_assert_int_eq(cur.n_routes, 2);
  /* an embedded NUL */
  ck_assert_int_eq(lvpn__push_update_parse(&upd, &cur, "PUSH_UPDATE,a\0b", 15,
                                           NULL, NULL),
                   LVPN_EPUSH);
}
END_TEST

/* Regression: an auth-token in a PUSH_UPDATE (not updatable) was quoted
 * whole in the error, which the client logs. */
START_TEST(test_push_update_errors_hide_auth_token) {
  static const char *const bad[] = {"PUSH_UPDATE,auth-token SESS_ID_SECRET1",
                                    "PUSH_UPDATE,-auth-token SESS_ID_SECRET1",
                                    "PUSH_UPDATE,?-auth-token SESS_ID_SECRET1",
                                    "PUSH_UPDATE,auth-token-user SECRET1=="};
  size_t i;
  for (i = 0; i < FAKE_COUNT(bad); i++) {
    ck_assert_msg(update(bad[i]) == LVPN_EPUSH, "accepted: %s", bad[i]);
    ck_assert_msg(strstr(upd.err, "SECRET1") == NULL, "%s", upd.err);
    ck_assert_msg(strstr(upd.err, "auth-token") != NULL, "%s", upd.err);
  }
  /* the token of the PUSH_REPLY stays */
  ck_assert_str_eq(cur.auth_token, "SESS_ID_abc");
}
END_TEST

START_TEST(test_push_update_other_kinds) {
  update_commit("PUSH_UPDATE,keepalive 5 25,redirect-gateway def1,"
                "route-metric 7,tun-mtu 1400,block-ipv6,"
                "ifconfig 198.18.0.9 255.255.255.0,dns server 0 address "
                "198.18.0.54,dhcp-option DOMAIN corp.test");
  ck_assert_int_eq(cur.ping, 5);
  ck_assert_int_eq(cur.ping_restart, 25);
  ck_assert(cur.redirect_gateway != 0);
  ck_assert_int_eq(cur.route_metric, 7);
  ck_assert_int_eq(cur.tun_mtu, 1400);
  ck_assert(cur.block_ipv6);
  ck_assert_uint_eq(ntohl(cur.ifconfig_local.s_addr), 0xC6120009u);
  ck_assert_int_eq(cur.dns.n_servers, 1);
  ck_assert_int_eq(cur.n_dhcp, 1); /* the old DNS dhcp-option replaced */
  ck_assert_str_eq(cur.dhcp[0].name, "DOMAIN");
  ck_assert_int_eq(cur.n_routes, 2); /* untouched */
  update_commit("PUSH_UPDATE,-redirect-gateway,-route-metric,-tun-mtu");
  ck_assert_int_eq(cur.redirect_gateway, 0);
  ck_assert_int_eq(cur.route_metric, -1);
  ck_assert_int_eq(cur.tun_mtu, -1);
  /* empty: complete, nothing changed */
  ck_assert_int_eq(update("PUSH_UPDATE"), 0);
  ck_assert_uint_eq(upd.changed, 0);
  lvpn__push_update_commit(&upd, &cur);
  ck_assert_str_eq(cur.auth_token, "SESS_ID_abc");
}
END_TEST

START_TEST(test_push_update_classified) {
  const char *rest = NULL;
  ck_assert_int_eq(lvpn__ctlmsg_classify("PUSH_UPDATE,route 1.2.3.4", &rest),
                   LVPN__CTL_PUSH_UPDATE);
  ck_assert_str_eq(rest, "route 1.2.3.4");
  ck_assert_int_eq(lvpn__ctlmsg_classify("PUSH_UPDATE", NULL),
                   LVPN__CTL_PUSH_UPDATE);
}
END_TEST

LVPN_TEST_MAIN("push_update", 0, setup, teardown,
               test_push_update_first_route_replaces_the_list,
               test_push_update_remove_forms,
               test_push_update_continuation_resets_once,
               test_push_update_not_updatable, test_push_update_malformed,
               test_push_update_other_kinds, test_push_update_classified,
               test_push_update_errors_hide_auth_token)
