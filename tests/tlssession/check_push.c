/* layers/push: PUSH_REPLY parser and control-message classifier. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "layers/tlssession/push.h"
#include "layervpn.h"
#include "lib/redact.h"
#include "tests/fakes.h"

/* Records what the parser warned about. */
typedef struct {
  int n;
  char last[256];
  char why[256]; /* "" for an unknown option */
} warns_t;

static void on_warn(void *ud, const char *opt, const char *why) {
  warns_t *w = ud;
  w->n++;
  snprintf(w->last, sizeof(w->last), "%s", opt);
  snprintf(w->why, sizeof(w->why), "%s", why != NULL ? why : "");
}

static int parse(lvpn__push_t *p, warns_t *w, const char *s) {
  return lvpn__push_parse(p, s, strlen(s), on_warn, w);
}

/* Parses `s` into `p`, expecting success. */
static void parse_ok(lvpn__push_t *p, warns_t *w, const char *s) {
  ck_assert_int_eq(parse(p, w, s), 0);
}

static const char *ip4(struct in_addr a, char *buf) {
  return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const char *ip6(const struct in6_addr *a, char *buf) {
  return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* Seen from Debian's OpenVPN 2.6.14 server. */
static const char real_vector[] =
    "PUSH_REPLY,dhcp-option DNS 198.19.0.1,route 198.19.100.0 255.255.255.0,"
    "tun-ipv6,route-gateway 198.19.0.1,topology subnet,ping 10,"
    "ping-restart 60,ifconfig-ipv6 2001:2:0:8::1000/64 2001:2:0:8::1,"
    "ifconfig 198.19.0.2 255.255.255.0,peer-id 0,cipher AES-256-GCM,"
    "protocol-flags cc-exit tls-ekm dyn-tls-crypt,tun-mtu 1500";

START_TEST(test_push_real_vector) {
  lvpn__push_t p;
  warns_t w = {0};
  char b[64];

  lvpn__push_init(&p);
  /* control messages arrive with their NUL terminator */
  ck_assert_int_eq(
      lvpn__push_parse(&p, real_vector, sizeof(real_vector), on_warn, &w), 0);
  ck_assert_int_eq(w.n, 0);
  ck_assert_int_eq(p.n_options, 13);
  ck_assert_int_eq(p.n_dhcp, 1);
  ck_assert_int_eq(p.dhcp[0].type, LVPN__DHCP_DNS);
  ck_assert_str_eq(p.dhcp[0].value, "198.19.0.1");
  ck_assert_int_eq(p.n_routes, 1);
  ck_assert_str_eq(ip4(p.routes[0].net, b), "198.19.100.0");
  ck_assert_str_eq(ip4(p.routes[0].mask, b), "255.255.255.0");
  ck_assert_int_eq(p.routes[0].gw_kind, LVPN__GW_DEFAULT);
  ck_assert(!p.routes[0].has_metric);
  ck_assert(p.has_route_gateway && !p.route_gateway_dhcp);
  ck_assert_str_eq(ip4(p.route_gateway, b), "198.19.0.1");
  ck_assert(p.has_topology);
  ck_assert_int_eq(p.topology, LVPN__TOPO_SUBNET);
  ck_assert_int_eq(p.ping, 10);
  ck_assert_int_eq(p.ping_restart, 60);
  ck_assert(p.has_ifconfig6);
  ck_assert_str_eq(ip6(&p.ifconfig6_local, b), "2001:2:0:8::1000");
  ck_assert_int_eq(p.ifconfig6_bits, 64);
  ck_assert_str_eq(ip6(&p.ifconfig6_remote, b), "2001:2:0:8::1");
  ck_assert(p.has_ifconfig);
  ck_assert_str_eq(ip4(p.ifconfig_local, b), "198.19.0.2");
  ck_assert_str_eq(ip4(p.ifconfig_remote, b), "255.255.255.0");
  ck_assert(p.has_peer_id);
  ck_assert_uint_eq(p.peer_id, 0);
  ck_assert_str_eq(p.cipher, "AES-256-GCM");
  ck_assert_uint_eq(p.protocol_flags, LVPN__PROTO_F_CC_EXIT |
                                          LVPN__PROTO_F_TLS_EKM |
                                          LVPN__PROTO_F_DYN_TLS_CRYPT);
  ck_assert_int_eq(p.tun_mtu, 1500);
  /* not pushed: defaults */
  ck_assert_int_eq(p.ping_exit, -1);
  ck_assert_int_eq(p.explicit_exit_notify, -1);
  ck_assert(!p.has_comp);
  ck_assert_int_eq(p.comp, LVPN__COMP_NONE);
  ck_assert_ptr_null(p.auth_token);
  lvpn__push_free(&p);
}
END_TEST

START_TEST(test_push_continuation_accumulates) {
  lvpn__push_t p;
  warns_t w = {0};
  char b[64];

  lvpn__push_init(&p);
  ck_assert_int_eq(parse(&p, &w,
                         "PUSH_REPLY,route 10.0.0.0 255.0.0.0,"
                         "push-continuation 2"),
                   1);
  ck_assert(p.more);
  parse_ok(&p, &w,
           "PUSH_REPLY,route 10.1.0.0 255.255.0.0,"
           "ifconfig 10.8.0.6 10.8.0.5,"
           "push-continuation 1");
  ck_assert(!p.more);
  ck_assert_int_eq(p.n_routes, 2);
  ck_assert_str_eq(ip4(p.routes[0].net, b), "10.0.0.0");
  ck_assert_str_eq(ip4(p.routes[1].net, b), "10.1.0.0");
  ck_assert_str_eq(ip4(p.ifconfig_remote, b), "10.8.0.5");
  /* a part without push-continuation is the last one too */
  ck_assert_int_eq(parse(&p, &w, "PUSH_REPLY,push-continuation 2"), 1);
  parse_ok(&p, &w, "PUSH_REPLY,ping 5");
  ck_assert_int_eq(w.n, 0);
  lvpn__push_free(&p);
}
END_TEST

START_TEST(test_push_bare_reply) {
  lvpn__push_t p;
  warns_t w = {0};
  lvpn__push_init(&p);
  parse_ok(&p, &w, "PUSH_REPLY");
  parse_ok(&p, &w, "PUSH_REPLY,");
  parse_ok(&p, &w, "PUSH_REPLY,,  ,");
  ck_assert_int_eq(p.n_options, 0);
  ck_assert_int_eq(p.topology, LVPN__TOPO_NET30);
  ck_assert_uint_eq(p.peer_id, LVPN__PEER_ID_DISABLED);
  ck_assert(!p.has_peer_id);
  lvpn__push_free(&p);
}
END_TEST

START_TEST(test_push_routes) {
  lvpn__push_t p;
  warns_t w = {0};
  char b[64];

  lvpn__push_init(&p);
  parse_ok(&p, &w,
           "PUSH_REPLY,route 192.168.1.0 255.255.255.0 "
           "10.8.0.1 50,route 172.16.0.1,"
           "route remote_host 255.255.255.255 net_gateway,"
           "route 10.9.0.0 default vpn_gateway default,"
           "route-ipv6 2001:db8::/32,"
           "route-ipv6 2001:db8:1::/48 2001:db8::1 7,"
           "route-gateway dhcp,route-metric 20");
  ck_assert_int_eq(p.n_routes, 4);
  ck_assert_int_eq(p.routes[0].gw_kind, LVPN__GW_ADDR);
  ck_assert_str_eq(ip4(p.routes[0].gateway, b), "10.8.0.1");
  ck_assert(p.routes[0].has_metric);
  ck_assert_uint_eq(p.routes[0].metric, 50);
  ck_assert_str_eq(ip4(p.routes[1].mask, b), "255.255.255.255");
  ck_assert_int_eq(p.routes[1].net_kind, LVPN__GW_ADDR);
  ck_assert_int_eq(p.routes[2].net_kind, LVPN__GW_REMOTE);
  ck_assert_int_eq(p.routes[2].gw_kind, LVPN__GW_NET);
  ck_assert_str_eq(ip4(p.routes[3].mask, b), "255.255.255.255");
  ck_assert_int_eq(p.routes[3].gw_kind, LVPN__GW_VPN);
  ck_assert(!p.routes[3].has_metric);
  ck_assert_int_eq(p.n_routes6, 2);
  ck_assert_int_eq(p.routes6[0].bits, 32);
  ck_assert(!p.routes6[0].has_gateway);
  ck_assert_int_eq(p.routes6[1].bits, 48);
  ck_assert(p.routes6[1].has_gateway);
  ck_assert_str_eq(ip6(&p.routes6[1].gateway, b), "2001:db8::1");
  ck_assert_uint_eq(p.routes6[1].metric, 7);
  ck_assert(p.has_route_gateway && p.route_gateway_dhcp);
  ck_assert_int_eq(p.route_metric, 20);
  lvpn__push_free(&p);
}
END_TEST

START_TEST(test_push_route_limit) {
  lvpn__push_t p;
  char msg[64];
  int i;
  lvpn__push_init(&p);
  for (i = 0; i < LVPN__PUSH_MAX_ROUTES; i++) {
    snprintf(msg, sizeof(msg), "PUSH_REPLY,route 10.%d.%d.0 255.255.255.0",
             i / 256, i % 256);
    ck_assert_int_eq(lvpn__push_parse(&p, msg, strlen(msg), NULL, NULL), 0);
  }
  ck_assert_int_eq(lvpn__push_parse(&p, msg, strlen(msg), NULL, NULL),
                   LVPN_EPUSH);
  ck_assert_str_eq(p.err, "route: too many routes (max 256)");
  lvpn__push_free(&p);
}
END_TEST

START_TEST(test_push_redirect_dns_dhcp) {
  lvpn__push_t p;
  warns_t w = {0};
  char b[64];

  lvpn__push_init(&p);
  parse_ok(&p, &w,
           "PUSH_REPLY,redirect-gateway def1 bypass-dhcp ipv6,"
           "redirect-private local,"
           "dhcp-option DOMAIN example.org,"
           "dhcp-option DOMAIN-SEARCH corp.example.org,"
           "dhcp-option DNS6 2001:db8::53,"
           "dhcp-option DNS 2001:db8::54,"
           "dhcp-option NTP 10.0.0.1,"
           "dhcp-option PROXY_HTTP proxy,"
           "dns server 0 address 10.0.0.53 [2001:db8::53]:5353,"
           "dns server 0 address 10.0.0.54:53,"
           "dns server 1 address 2001:db8::35,"
           "dns search-domains a.example b.example,"
           "block-ipv6");
  ck_assert_int_eq(w.n, 0);
  ck_assert_int_eq(p.redirect_gateway, LVPN__RG_ENABLE | LVPN__RG_DEF1 |
                                           LVPN__RG_BYPASS_DHCP |
                                           LVPN__RG_IPV6);
  ck_assert_int_eq(p.redirect_private, LVPN__RG_ENABLE | LVPN__RG_LOCAL);
  ck_assert_int_eq(p.n_dhcp, 6);
  ck_assert_int_eq(p.dhcp[0].type, LVPN__DHCP_DOMAIN);
  ck_assert_str_eq(p.dhcp[0].value, "example.org");
  ck_assert_int_eq(p.dhcp[1].type, LVPN__DHCP_DOMAIN_SEARCH);
  ck_assert_int_eq(p.dhcp[2].type, LVPN__DHCP_DNS6);
  ck_assert_int_eq(p.dhcp[3].type, LVPN__DHCP_DNS);
  ck_assert_int_eq(p.dhcp[4].type, LVPN__DHCP_NTP);
  ck_assert_int_eq(p.dhcp[5].type, LVPN__DHCP_OTHER);
  ck_assert_str_eq(p.dhcp[5].name, "PROXY_HTTP");
  ck_assert_int_eq(p.dns->n_servers, 2);
  ck_assert_int_eq(p.dns->servers[0].priority, 0);
  ck_assert_int_eq(p.dns->servers[0].n_addrs, 3);
  ck_assert_int_eq(p.dns->servers[0].addrs[0].family, AF_INET);
  ck_assert_str_eq(inet_ntop(AF_INET, p.dns->servers[0].addrs[0].addr, b,
                             sizeof(b)),
                   "10.0.0.53");
  ck_assert_uint_eq(p.dns->servers[0].addrs[0].port, 0);
  ck_assert_int_eq(p.dns->servers[0].addrs[1].family, AF_INET6);
  ck_assert_uint_eq(p.dns->servers[0].addrs[1].port, 5353);
  ck_assert_uint_eq(p.dns->servers[0].addrs[2].port, 53);
  ck_assert_int_eq(p.dns->servers[1].priority, 1);
  ck_assert_int_eq(p.dns->servers[1].addrs[0].family, AF_INET6);
  ck_assert_int_eq(p.dns->n_search_domains, 2);
  ck_assert_str_eq(p.dns->search_domains[1], "b.example");
  ck_assert(p.block_ipv6);
  lvpn__push_free(&p);
}
END_TEST

START_TEST(test_push_timers_crypto_comp_tokens) {
  lvpn__push_t p;
  warns_t w = {0};

  lvpn__push_init(&p);
  parse_ok(&p, &w,
           "PUSH_REPLY,ping-exit 120,inactive 600 1000,"
           "session-timeout 3600,explicit-exit-notify,"
           "key-derivation tls-ekm,peer-id 16777215,"
           "auth SHA256,comp-lzo no,topology p2p,"
           "auth-token SESS_ID_abc,auth-token-user dXNlcg==");
  ck_assert_int_eq(p.ping_exit, 120);
  ck_assert_int_eq(p.inactive, 600);
  ck_assert_int_eq(p.session_timeout, 3600);
  ck_assert_int_eq(p.explicit_exit_notify, 1);
  ck_assert_uint_eq(p.protocol_flags, LVPN__PROTO_F_TLS_EKM);
  ck_assert_uint_eq(p.peer_id, LVPN__PEER_ID_DISABLED);
  ck_assert(p.has_peer_id);
  ck_assert_str_eq(p.auth, "SHA256");
  ck_assert(p.has_comp);
  ck_assert_int_eq(p.comp, LVPN__COMP_LZO_NO);
  ck_assert_int_eq(p.topology, LVPN__TOPO_P2P);
  ck_assert_str_eq(p.auth_token, "SESS_ID_abc");
  ck_assert_str_eq(p.auth_token_user, "dXNlcg==");
  /* later values replace earlier ones; real compression is stored for the
   * caller to refuse */
  parse_ok(&p, &w,
           "PUSH_REPLY,explicit-exit-notify 3,"
           "compress lz4-v2,auth-token NEW");
  ck_assert_int_eq(p.explicit_exit_notify, 3);
  ck_assert_int_eq(p.comp, LVPN__COMP_LZ4_V2);
  ck_assert_str_eq(p.auth_token, "NEW");
  parse_ok(&p, &w, "PUSH_REPLY,compress,comp-lzo");
  ck_assert_int_eq(p.comp, LVPN__COMP_LZO_ADAPTIVE);
  parse_ok(&p, &w, "PUSH_REPLY,compress stub-v2");
  ck_assert_int_eq(p.comp, LVPN__COMP_STUB_V2);
  ck_assert_int_eq(w.n, 0);
  lvpn__push_free(&p);
  ck_assert_ptr_null(p.auth_token);
  ck_assert_int_eq(p.ping_exit, -1);
}
END_TEST

START_TEST(test_push_unknown_options_warn) {
  lvpn__push_t p;
  warns_t w = {0};

  lvpn__push_init(&p);
  parse_ok(&p, &w,
           "PUSH_REPLY,tun-ipv6,setenv X 1,"
           "echo hello world,block-outside-dns,"
           "register-dns");
  ck_assert_int_eq(w.n, 0); /* known and harmless */
  parse_ok(&p, &w, "PUSH_REPLY,frobnicate 1 2,ping 7");
  ck_assert_int_eq(w.n, 1);
  ck_assert_str_eq(w.last, "frobnicate 1 2");
  ck_assert_int_eq(p.ping, 7);
  /* known option, flag from a newer server: warned, the rest applied */
  parse_ok(&p, &w,
           "PUSH_REPLY,protocol-flags cc-exit "
           "aead-epoch-v9");
  ck_assert_int_eq(w.n, 2);
  ck_assert_str_eq(w.last, "protocol-flags cc-exit aead-epoch-v9");
  ck_assert_str_eq(w.why, "");
  ck_assert_uint_eq(p.protocol_flags, LVPN__PROTO_F_CC_EXIT);
  /* host names in pushed routes: each route ignored with the reason (as
   * OpenVPN without allow-pull-fqdn), the other routes applied */
  {
    lvpn__push_t q;
    warns_t v = {0};
    lvpn__push_init(&q);
    parse_ok(&q, &v,
             "PUSH_REPLY,route vpn.example.com 255.255.255.255,"
             "route 198.19.1.0 255.255.255.0 gw.example.com,"
             "route 198.19.2.0 255.255.255.0,route remote_host 255.255.255.255 "
             "net_gateway");
    ck_assert_int_eq(v.n, 2);
    ck_assert_str_eq(v.last, "route 198.19.1.0 255.255.255.0 gw.example.com");
    ck_assert_ptr_nonnull(strstr(v.why, "allow-pull-fqdn"));
    ck_assert_int_eq(q.n_routes, 2);
    ck_assert_int_eq(q.routes[1].net_kind, LVPN__GW_REMOTE);
    lvpn__push_free(&q);
  }
  /* 2.7's words, in any order, are known */
  parse_ok(&p, &w,
           "PUSH_REPLY,protocol-flags aead-epoch tls-ekm "
           "dyn-tls-crypt cc-exit");
  ck_assert_int_eq(w.n, 2);
  ck_assert_uint_eq(p.protocol_flags,
                    LVPN__PROTO_F_CC_EXIT | LVPN__PROTO_F_TLS_EKM |
                        LVPN__PROTO_F_DYN_TLS_CRYPT |
                        LVPN__PROTO_F_AEAD_EPOCH);
  /* 2.7's dns server settings are all known */
  parse_ok(&p, &w, "PUSH_REPLY,dns server 1 address 10.0.0.1,"
                   "dns server 1 transport DoT,dns server 1 sni dns.example,"
                   "dns server 1 dnssec optional,"
                   "dns server 1 resolve-domains corp.example x.example");
  ck_assert_int_eq(w.n, 2);
  ck_assert_int_eq(p.dns->servers[0].transport, LVPN_DNS_TRANSPORT_DOT);
  ck_assert_int_eq(p.dns->servers[0].dnssec, LVPN_DNSSEC_OPTIONAL);
  ck_assert_str_eq(p.dns->servers[0].sni, "dns.example");
  ck_assert_int_eq(p.dns->servers[0].n_resolve_domains, 2);
  parse_ok(&p, &w, "PUSH_REPLY,key-derivation magic");
  ck_assert_int_eq(w.n, 3);
  /* no callback: still skipped */
  ck_assert_int_eq(lvpn__push_parse(&p, "PUSH_REPLY,x", 12, NULL, NULL), 0);
  lvpn__push_free(&p);
}
END_TEST

static void expect_bad(const char *msg, const char *err) {
  lvpn__push_t p;
  warns_t w = {0};
  lvpn__push_init(&p);
  ck_assert_msg(parse(&p, &w, msg) == LVPN_EPUSH, "accepted: %s", msg);
  ck_assert_msg(p.err[0] != '\0', "no message for %s", msg);
  if (err != NULL)
    ck_assert_str_eq(p.err, err);
  lvpn__push_free(&p);
}

START_TEST(test_push_malformed_values) {
  expect_bad("PUSH_REPLY,ifconfig 10.8.0.300 255.255.255.0",
             "ifconfig: bad address in '10.8.0.300 255.255.255.0'");
  expect_bad("PUSH_REPLY,ifconfig 10.8.0.2", NULL);
  expect_bad("PUSH_REPLY,peer-id 16777216",
             "peer-id: '16777216' is not a number from 0 to 16777215");
  expect_bad("PUSH_REPLY,peer-id -1", NULL);
  expect_bad("PUSH_REPLY,ping abc",
             "ping: 'abc' is not a number from 0 to 2147483647");
  expect_bad("PUSH_REPLY,tun-mtu 20", NULL);
  expect_bad("PUSH_REPLY,route 10.0.0.0 255.0.0", "route: bad netmask "
                                                  "'255.0.0'");
  expect_bad("PUSH_REPLY,route 10.0.0.0 255.0.0.0 g!w", NULL);
  expect_bad("PUSH_REPLY,route 10.0.0.0 255.0.0.0 10.0.0.1 x", NULL);
  expect_bad("PUSH_REPLY,route", NULL);
  expect_bad("PUSH_REPLY,route-ipv6 2001:db8::/129", NULL);
  expect_bad("PUSH_REPLY,route-gateway host", NULL);
  expect_bad("PUSH_REPLY,topology star", "topology: unknown value 'star'");
  expect_bad("PUSH_REPLY,ifconfig-ipv6 2001:db8::2/32 2001:db8::1",
             "ifconfig-ipv6: /32 is not from /64 to /124");
  expect_bad("PUSH_REPLY,ifconfig-ipv6 2001:db8::2/64", NULL);
  expect_bad("PUSH_REPLY,redirect-gateway def2", NULL);
  expect_bad("PUSH_REPLY,dhcp-option DNS dns.example", NULL);
  expect_bad("PUSH_REPLY,dhcp-option DOMAIN a;b", NULL);
  expect_bad("PUSH_REPLY,dns server x address 1.1.1.1", NULL);
  expect_bad("PUSH_REPLY,dns server 1 address 1.1.1.1:0", NULL);
  expect_bad("PUSH_REPLY,dns server 1 address [::1", NULL);
  expect_bad("PUSH_REPLY,dns bogus", NULL);
  expect_bad("PUSH_REPLY,dns server -1 address 1.1.1.1",
             "dns server: priority '-1' is not a number from 0 to 127");
  expect_bad("PUSH_REPLY,dns server 2 transport DoT",
             "dns server 2 does not have an address assigned");
  expect_bad("PUSH_REPLY,dns server 2 dnssec maybe",
             "dns server 2: dnssec 'maybe' is not yes, no or optional");
  expect_bad("PUSH_REPLY,dns server 2 transport DoQ",
             "dns server 2: transport 'DoQ' is not plain, DoH or DoT");
  expect_bad("PUSH_REPLY,dns server 2 sni a;b",
             "dns server 2: sni 'a;b' is not a valid name");
  expect_bad("PUSH_REPLY,dns server 2 port 53",
             "dns server 2: unknown setting 'port' (expected address, "
             "resolve-domains, dnssec, transport or sni)");
  expect_bad("PUSH_REPLY,dns search-domains a$b",
             "dns search-domains: 'a$b' is not a valid domain name");
  expect_bad("PUSH_REPLY,compress zstd", NULL);
  expect_bad("PUSH_REPLY,push-continuation 3", NULL);
  expect_bad("PUSH_REPLY,ping 1 2",
             "ping: wrong number of arguments in 'ping 1 2'");
  expect_bad("PUSH_REPLY,cipher \"unterminated", NULL);
  expect_bad("PUSH_REPLYX", "not a PUSH_REPLY message");
  expect_bad("AUTH_FAILED", NULL);
  expect_bad("", NULL);
  {
    lvpn__push_t p;
    lvpn__push_init(&p);
    ck_assert_int_eq(lvpn__push_parse(&p, NULL, 0, NULL, NULL), LVPN_EPUSH);
  }
}
END_TEST

START_TEST(test_push_garbage_never_crashes) {
  lvpn__push_t p;
  char *big = malloc(100 * 1024);
  char msg[600];
  unsigned seed = 1;
  int i, j, n;

  lvpn__push_init(&p);
  /* a NUL inside the message */
  ck_assert_int_eq(lvpn__push_parse(&p, "PUSH_REPLY,ping 1\0x", 19, NULL, NULL),
                   LVPN_EPUSH);
  /* one huge option, then a huge message */
  memcpy(big, "PUSH_REPLY,", 11);
  memset(big + 11, 'a', 100 * 1024 - 11);
  ck_assert_int_eq(lvpn__push_parse(&p, big, 4000, NULL, NULL), LVPN_EPUSH);
  ck_assert_int_eq(lvpn__push_parse(&p, big, 100 * 1024, NULL, NULL),
                   LVPN_EPUSH);
  /* random bytes after the prefix: any result, no crash, no leak */
  for (i = 0; i < 3000; i++) {
    lvpn__push_free(&p);
    n = 11 + (int)(rand_r(&seed) % (sizeof(msg) - 12));
    memcpy(msg, "PUSH_REPLY,", 11);
    for (j = 11; j < n; j++) {
      static const char alpha[] = "route ifconfig dns server 0 address , "
                                  "\"'\\#;1.2.3.4/:255auth-token\t\r\n";
      msg[j] = (i & 1) ? (char)(1 + rand_r(&seed) % 255)
                       : alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
    }
    msg[n] = '\0';
    n = lvpn__push_parse(&p, msg, (size_t)n, NULL, NULL);
    ck_assert(n == 0 || n == 1 || n == LVPN_EPUSH);
  }
  lvpn__push_free(&p);
  free(big);
}
END_TEST

START_TEST(test_push_pull_filter) {
  lvpn__pull_filter_t f[3] = {{LVPN__PULL_ACCEPT, "route 10.1."},
                              {LVPN__PULL_IGNORE, "route "},
                              {LVPN__PULL_REJECT, "dhcp-option DNS"}};
  lvpn__push_t p;
  warns_t w = {0};

  lvpn__push_init(&p);
  p.filters = f;
  p.n_filters = 3;
  parse_ok(&p, &w,
           "PUSH_REPLY,route 10.1.0.0 255.255.0.0,"
           "route 10.2.0.0 255.255.0.0, ping 3");
  ck_assert_int_eq(p.n_routes, 1);
  ck_assert_int_eq(p.n_filtered, 1);
  ck_assert_int_eq(p.ping, 3);
  ck_assert_int_eq(parse(&p, &w, "PUSH_REPLY,dhcp-option DNS 1.1.1.1"),
                   LVPN_EPUSH);
  ck_assert_str_eq(p.err, "pushed option 'dhcp-option DNS 1.1.1.1' "
                          "rejected by pull-filter");
  lvpn__push_free(&p);
  ck_assert_ptr_eq(p.filters, f); /* kept across free */
  /* pull-filter ignore dns / dhcp-option: no DNS reaches the client */
  {
    lvpn__pull_filter_t g[2] = {{LVPN__PULL_IGNORE, "dns"},
                                {LVPN__PULL_IGNORE, "dhcp-option"}};
    p.filters = g;
    p.n_filters = 2;
    parse_ok(&p, &w,
             "PUSH_REPLY,dns server 0 address 198.18.0.1,dns search-domains "
             "a.test,dhcp-option DNS 198.18.0.2,dhcp-option DOMAIN a.test");
    ck_assert_ptr_null(p.dns); /* no `dns` option kept */
    ck_assert_int_eq(p.n_dhcp, 0);
    ck_assert_int_eq(p.n_filtered, 4);
    lvpn__push_free(&p);
  }
}
END_TEST

/* Regression: the client logged every PUSH_REPLY verbatim at verb 3, so a
 * server's auth-token (a reusable credential) ended up in logs. The log
 * line now goes through lvpn__redact_mask (lib/redact.c). */
START_TEST(test_push_redact_mask_auth_token) {
  char m[] = "PUSH_REPLY,route 10.0.0.0 255.0.0.0,auth-token SESS_ID_AT_abc+/="
             ", auth-token-user dXNlcg==,auth-tokenX keep,auth-token";
  const char *want =
      "PUSH_REPLY,route 10.0.0.0 255.0.0.0,auth-token *****************"
      ", auth-token-user ********,auth-tokenX keep,auth-token";
  char cut[] = "PUSH_REPLY,auth-token SECRET,ping 5";

  lvpn__redact_mask(m, strlen(m));
  ck_assert_str_eq(m, want);
  /* only `len` bytes are looked at (the rest is not a message) */
  lvpn__redact_mask(cut, 25);
  ck_assert_str_eq(cut, "PUSH_REPLY,auth-token ***RET,ping 5");
  lvpn__redact_mask(cut, 0);
}
END_TEST

/* Regression: a malformed or filtered auth-token was quoted whole in the
 * parse error, which the client logs. */
START_TEST(test_push_errors_hide_auth_token) {
  static const char *const bad[] = {
      "PUSH_REPLY,auth-token SESS_ID_SECRETVALUE extra",
      "PUSH_REPLY,auth-token-user 'SESS_ID_SECRETVALUE",
      "PUSH_REPLY,auth-token SESS_ID_SECRETVALUE"}; /* rejected by filter */
  lvpn__pull_filter_t f[1] = {{LVPN__PULL_REJECT, "auth-token "}};
  lvpn__push_t p;
  warns_t w = {0};
  size_t i;

  for (i = 0; i < FAKE_COUNT(bad); i++) {
    lvpn__push_init(&p);
    if (i == 2) {
      p.filters = f;
      p.n_filters = 1;
    }
    ck_assert_msg(parse(&p, &w, bad[i]) == LVPN_EPUSH, "accepted: %s", bad[i]);
    ck_assert_msg(strstr(p.err, "SECRETVALUE") == NULL, "%s", p.err);
    ck_assert_msg(strstr(p.err, "auth-token") != NULL, "%s", p.err);
    ck_assert_msg(strstr(p.err, "****") != NULL, "%s", p.err);
    if (i == 2)
      p.n_filters = 0;
    lvpn__push_free(&p);
  }
  ck_assert_int_eq(w.n, 0);
}
END_TEST

START_TEST(test_push_ctlmsg_classify) {
  const char *rest;

  ck_assert_int_eq(lvpn__ctlmsg_classify("PUSH_REPLY,ping 10", &rest),
                   LVPN__CTL_PUSH_REPLY);
  ck_assert_str_eq(rest, "ping 10");
  ck_assert_int_eq(lvpn__ctlmsg_classify("PUSH_REPLY", &rest),
                   LVPN__CTL_PUSH_REPLY);
  ck_assert_str_eq(rest, "");
  ck_assert_int_eq(lvpn__ctlmsg_classify("AUTH_FAILED", &rest),
                   LVPN__CTL_AUTH_FAILED);
  ck_assert_int_eq(lvpn__ctlmsg_classify("AUTH_FAILED,SESSION:expired", &rest),
                   LVPN__CTL_AUTH_FAILED);
  ck_assert_str_eq(rest, "SESSION:expired");
  ck_assert_int_eq(lvpn__ctlmsg_classify("AUTH_PENDING,timeout 300", &rest),
                   LVPN__CTL_AUTH_PENDING);
  ck_assert_int_eq(lvpn__ctlmsg_pending_timeout(rest), 300);
  ck_assert_int_eq(lvpn__ctlmsg_pending_timeout("x,timeout 42,y"), 42);
  ck_assert_int_eq(lvpn__ctlmsg_pending_timeout("timeout x"), -1);
  ck_assert_int_eq(lvpn__ctlmsg_pending_timeout(""), -1);
  ck_assert_int_eq(lvpn__ctlmsg_classify("RESTART,[N]bye", &rest),
                   LVPN__CTL_RESTART);
  ck_assert_str_eq(rest, "[N]bye");
  ck_assert_int_eq(lvpn__ctlmsg_classify("HALT,admin", &rest), LVPN__CTL_HALT);
  ck_assert_int_eq(lvpn__ctlmsg_classify("INFO,hello", &rest), LVPN__CTL_INFO);
  ck_assert_str_eq(rest, "hello");
  ck_assert_int_eq(lvpn__ctlmsg_classify("INFO_PRE,OPEN_URL:https://x", &rest),
                   LVPN__CTL_INFO_PRE);
  ck_assert_str_eq(rest, "OPEN_URL:https://x");
  ck_assert_int_eq(lvpn__ctlmsg_classify("EXIT", NULL), LVPN__CTL_EXIT);
  ck_assert_int_eq(lvpn__ctlmsg_classify("CR_RESPONSE,abc", NULL),
                   LVPN__CTL_CR_RESPONSE);
  ck_assert_int_eq(lvpn__ctlmsg_classify("AUTH_FAILEDX", &rest),
                   LVPN__CTL_UNKNOWN);
  ck_assert_int_eq(lvpn__ctlmsg_classify("PUSH_REQUEST", NULL),
                   LVPN__CTL_UNKNOWN);
  ck_assert_int_eq(lvpn__ctlmsg_classify("", NULL), LVPN__CTL_UNKNOWN);
  ck_assert_int_eq(lvpn__ctlmsg_classify(NULL, &rest), LVPN__CTL_UNKNOWN);
  ck_assert_str_eq(lvpn__ctlmsg_name(LVPN__CTL_INFO_PRE), "INFO_PRE");
  ck_assert_str_eq(lvpn__ctlmsg_name(LVPN__CTL_UNKNOWN), "UNKNOWN");
}
END_TEST

/* AUTH_FAILED,TEMP (OpenVPN 2.7, doc openvpn-2.7.md §6.1; lab form). */
START_TEST(test_push_auth_fail_temp) {
  lvpn__auth_temp_t t;
  const char *rest;
  ck_assert_int_eq(lvpn__ctlmsg_classify(
                       "AUTH_FAILED,TEMP[backoff 7,advance no]:pool exhausted",
                       &rest),
                   LVPN__CTL_AUTH_FAILED);
  ck_assert_int_eq(lvpn__ctlmsg_auth_temp(rest, &t), 1);
  ck_assert_uint_eq(t.backoff_s, 7);
  ck_assert_int_eq(t.advance, LVPN__ADVANCE_NO);
  ck_assert_int_eq(t.unknown, 0);
  ck_assert_str_eq(t.reason, "pool exhausted");
  ck_assert_int_eq(lvpn__ctlmsg_auth_temp("TEMP", &t), 1);
  ck_assert_uint_eq(t.backoff_s, 0);
  ck_assert_str_eq(t.reason, "");
  ck_assert_int_eq(lvpn__ctlmsg_auth_temp("TEMP:try later", &t), 1);
  ck_assert_str_eq(t.reason, "try later");
  ck_assert_int_eq(
      lvpn__ctlmsg_auth_temp("TEMP[advance remote, backoff 30,x 1]", &t), 1);
  ck_assert_uint_eq(t.backoff_s, 30);
  ck_assert_int_eq(t.advance, LVPN__ADVANCE_REMOTE);
  ck_assert_int_eq(t.unknown, 1);
  ck_assert_int_eq(lvpn__ctlmsg_auth_temp("TEMP[advance addr,backoff -1]", &t),
                   1);
  ck_assert_int_eq(t.advance, LVPN__ADVANCE_ADDR);
  ck_assert_uint_eq(t.backoff_s, 0);
  ck_assert_int_eq(t.unknown, 1);
  ck_assert_int_eq(lvpn__ctlmsg_auth_temp("TEMP[backoff 5", &t), 1);
  ck_assert_int_eq(t.unknown, 1);
  /* not TEMP: an ordinary (final) AUTH_FAILED */
  ck_assert_int_eq(lvpn__ctlmsg_auth_temp("", &t), 0);
  ck_assert_int_eq(lvpn__ctlmsg_auth_temp("bad password", &t), 0);
  ck_assert_int_eq(lvpn__ctlmsg_auth_temp("TEMPORARY", &t), 0);
  ck_assert_int_eq(lvpn__ctlmsg_auth_temp(NULL, &t), 0);
}
END_TEST

LVPN_TEST_MAIN("push", 0, NULL, NULL, test_push_real_vector,
               test_push_continuation_accumulates, test_push_bare_reply,
               test_push_routes, test_push_route_limit,
               test_push_redirect_dns_dhcp, test_push_timers_crypto_comp_tokens,
               test_push_unknown_options_warn, test_push_malformed_values,
               test_push_garbage_never_crashes, test_push_pull_filter,
               test_push_ctlmsg_classify, test_push_auth_fail_temp,
               test_push_redact_mask_auth_token,
               test_push_errors_hide_auth_token)
