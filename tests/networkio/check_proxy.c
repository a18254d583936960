/* layers/networkio/proxy.c: the HTTP CONNECT and SOCKS5 handshakes, fed
 * byte-exact replies whole, split at every position, oversized, malformed
 * and refusing. */
#include <arpa/inet.h>
#include <string.h>

#include "layers/networkio/proxy.h"
#include "tests/fakes.h"

static lvpn__proxy_t http_conf(bool basic) {
  static char host[] = "proxy.test", user[] = "alice", pass[] = "pw:secret";
  static char h1[] = "X-One: 1", agent[] = "agent/1";
  static lvpn__proxy_t c;
  memset(&c, 0, sizeof(c));
  c.kind = LVPN__PROXY_HTTP;
  c.host = host;
  c.port = 8080;
  c.basic = basic;
  c.username = basic ? user : NULL;
  c.password = basic ? pass : NULL;
  c.user_agent = agent;
  c.headers[0] = h1;
  c.n_headers = 1;
  return c;
}

static lvpn__proxy_t socks_conf(bool auth) {
  static char host[] = "198.18.0.3", user[] = "bob", pass[] = "hunter2";
  lvpn__proxy_t c;
  memset(&c, 0, sizeof(c));
  c.kind = LVPN__PROXY_SOCKS;
  c.host = host;
  c.port = 1080;
  c.username = auth ? user : NULL;
  c.password = auth ? pass : NULL;
  return c;
}

/* Feeds `reply` in chunks of `step` bytes; returns the last result and the
 * total consumed in *used. */
static int feed_steps(lvpn__proxy_hs_t *hs, const uint8_t *reply, size_t len,
                      size_t step, size_t *used) {
  size_t off = 0, u;
  int rc = 0;
  *used = 0;
  while (off < len) {
    size_t n = len - off < step ? len - off : step;
    rc = lvpn__proxy_hs_feed(hs, reply + off, n, &u);
    *used += u;
    hs->out_len = 0; /* "sent" */
    if (rc != 0)
      return rc;
    off += u;
  }
  return rc;
}

START_TEST(test_proxy_http_request_basic) {
  lvpn__proxy_t c = http_conf(true);
  lvpn__proxy_hs_t hs;
  const char *want = "CONNECT vpn.test:1194 HTTP/1.0\r\n"
                     "X-One: 1\r\n"
                     "Host: vpn.test\r\n"
                     "User-Agent: agent/1\r\n"
                     /* base64("alice:pw:secret") */
                     "Proxy-Authorization: Basic YWxpY2U6cHc6c2VjcmV0\r\n"
                     "\r\n";
  ck_assert_int_eq(lvpn__proxy_hs_init(&hs, &c, "vpn.test", 1194, false), 0);
  ck_assert_int_eq(lvpn__proxy_hs_start(&hs), 0);
  ck_assert_uint_eq(hs.out_len, strlen(want));
  ck_assert_mem_eq(hs.out, want, hs.out_len);
  lvpn__proxy_hs_wipe(&hs);
  ck_assert_uint_eq(hs.out_len, 0);
  ck_assert_uint_eq(hs.out[0], 0);
}
END_TEST

START_TEST(test_proxy_http_request_ipv6_version_host_header) {
  lvpn__proxy_t c = http_conf(false);
  char hosthdr[] = "Host: custom";
  char v11[] = "1.1";
  lvpn__proxy_hs_t hs;
  const char *want = "CONNECT [2001:2::1]:443 HTTP/1.1\r\n"
                     "Host: custom\r\n"
                     "User-Agent: agent/1\r\n"
                     "\r\n";
  c.headers[0] = hosthdr;
  c.http_version = v11;
  ck_assert_int_eq(lvpn__proxy_hs_init(&hs, &c, "2001:2::1", 443, false), 0);
  ck_assert_int_eq(lvpn__proxy_hs_start(&hs), 0);
  ck_assert_uint_eq(hs.out_len, strlen(want));
  ck_assert_mem_eq(hs.out, want, hs.out_len);
  /* HTTP cannot carry UDP */
  ck_assert_int_eq(lvpn__proxy_hs_init(&hs, &c, "h", 1, true), LVPN_EINVAL);
}
END_TEST

/* A 200 reply with headers, then the server's first bytes: done at the
 * blank line, whatever the split, and nothing of the server's consumed. */
START_TEST(test_proxy_http_reply_split_everywhere) {
  const char *reply = "HTTP/1.1 100 Continue\r\n\r\n"
                      "HTTP/1.0 200 Connection established\r\n"
                      "Proxy-agent: tinyproxy/1.11\n"
                      "\r\n"
                      "\x00\x2a"; /* the server's frame */
  size_t len = strlen(reply) + 2, body = strlen(reply), step;
  lvpn__proxy_t c = http_conf(false);
  lvpn__proxy_hs_t hs;

  for (step = 1; step <= len; step++) {
    size_t used;
    int rc;
    lvpn__proxy_hs_init(&hs, &c, "vpn.test", 1194, false);
    lvpn__proxy_hs_start(&hs);
    rc = feed_steps(&hs, (const uint8_t *)reply, len, step, &used);
    ck_assert_int_eq(rc, 1);
    ck_assert_uint_eq(used, body);
    ck_assert_int_eq(hs.status, 200);
    ck_assert_int_eq(hs.state, LVPN__PXS_DONE);
  }
}
END_TEST

static void http_bad(const char *reply, size_t len, int code, const char *msg) {
  lvpn__proxy_t c = http_conf(true);
  lvpn__proxy_hs_t hs;
  size_t used;
  lvpn__proxy_hs_init(&hs, &c, "vpn.test", 1194, false);
  lvpn__proxy_hs_start(&hs);
  ck_assert_int_eq(feed_steps(&hs, (const uint8_t *)reply, len, 7, &used),
                   code);
  ck_assert_msg(strstr(hs.err, msg) != NULL, "'%s' lacks '%s'", hs.err, msg);
  ck_assert_ptr_null(strstr(hs.err, "secret"));
  /* failed stays failed */
  ck_assert_int_lt(lvpn__proxy_hs_feed(&hs, (const uint8_t *)"x", 1, &used), 0);
}

START_TEST(test_proxy_http_reply_errors) {
  static char big[LVPN__PROXY_REPLY_HEAD + 100];
  size_t i;
  http_bad("HTTP/1.1 407 Proxy Authentication Required\r\n", 44,
           LVPN_EPROXY_AUTH,
           "http-proxy: 407 Proxy Authentication Required (the proxy "
           "refused the username or password)");
  http_bad("HTTP/1.0 401 Unauthorized\r\n", 27, LVPN_EPROXY_AUTH,
           "401 Unauthorized");
  http_bad("HTTP/1.1 503 Service Unavailable\r\n\r\n", 36, LVPN_EPROXY,
           "http-proxy: 503 Service Unavailable");
  http_bad("HTTP/1.1 403\r\n", 14, LVPN_EPROXY, "http-proxy: 403");
  http_bad("SSH-2.0-OpenSSH_9.2\r\n", 21, LVPN_EPROXY,
           "the reply is not HTTP: 'SSH-2.0-OpenSSH_9.2'");
  http_bad("HTTP/1.1 2x0 OK\r\n", 17, LVPN_EPROXY, "bad status line");
  http_bad("HTTP/1.1 2000 OK\r\n", 18, LVPN_EPROXY, "bad status line");
  http_bad("HTTP/1.0 200 OK\r\nX: a\0b\r\n", 25, LVPN_EPROXY, "NUL byte");
  /* one endless line */
  memset(big, 'A', sizeof(big));
  memcpy(big, "HTTP/1.0 200 OK\r\nX: ", 20);
  http_bad(big, sizeof(big), LVPN_EPROXY, "a reply line exceeds 1023 bytes");
  /* endless short headers */
  memcpy(big, "HTTP/1.0 200 OK\r\n", 17);
  for (i = 17; i + 4 <= sizeof(big); i += 4)
    memcpy(big + i, "X:\r\n", 4);
  http_bad(big, sizeof(big), LVPN_EPROXY, "the reply's head exceeds 16384");
}
END_TEST

START_TEST(test_proxy_http_407_without_credentials) {
  lvpn__proxy_t c = http_conf(false);
  lvpn__proxy_hs_t hs;
  size_t used;
  const char *r = "HTTP/1.1 407 Proxy Authentication Required\r\n";
  lvpn__proxy_hs_init(&hs, &c, "vpn.test", 1194, false);
  lvpn__proxy_hs_start(&hs);
  ck_assert_int_eq(
      lvpn__proxy_hs_feed(&hs, (const uint8_t *)r, strlen(r), &used),
      LVPN_EPROXY_AUTH);
  ck_assert_ptr_nonnull(strstr(hs.err, "no credentials given"));
  ck_assert_int_eq(lvpn__proxy_hs_eof(&hs), LVPN_EPROXY);
}
END_TEST

START_TEST(test_proxy_http_eof) {
  lvpn__proxy_t c = http_conf(false);
  lvpn__proxy_hs_t hs;
  lvpn__proxy_hs_init(&hs, &c, "vpn.test", 1194, false);
  lvpn__proxy_hs_start(&hs);
  ck_assert_int_eq(lvpn__proxy_hs_eof(&hs), LVPN_EPROXY);
  ck_assert_str_eq(hs.err, "http-proxy: the proxy closed the connection "
                           "before its reply ended");
}
END_TEST

/* SOCKS5 with username/password, CONNECT to a name, every split. */
START_TEST(test_proxy_socks_connect_auth_split) {
  static const uint8_t greet[] = {5, 1, 2};
  static const uint8_t auth[] = {1,   3,   'b', 'o', 'b', 7,  'h',
                                 'u', 'n', 't', 'e', 'r', '2'};
  static const uint8_t req[] = {5,   1,   0,   3,   8,   'v',  'p', 'n',
                                '.', 't', 'e', 's', 't', 0x04, 0xaa};
  /* method, auth ok, reply with a domain BND, then 3 server bytes */
  static const uint8_t reply[] = {5,   2,   1,   0,   5, 0,  0,    3,    4,
                                  'a', 'b', 'c', 'd', 0, 80, 0xde, 0xad, 0xbe};
  lvpn__proxy_t c = socks_conf(true);
  size_t step;

  for (step = 1; step <= sizeof(reply); step++) {
    lvpn__proxy_hs_t hs;
    size_t off = 0, u;
    int rc = 0, sent = 0;
    lvpn__proxy_hs_init(&hs, &c, "vpn.test", 1194, false);
    ck_assert_int_eq(lvpn__proxy_hs_start(&hs), 0);
    ck_assert_uint_eq(hs.out_len, sizeof(greet));
    ck_assert_mem_eq(hs.out, greet, sizeof(greet));
    hs.out_len = 0;
    while (off < sizeof(reply) && rc == 0) {
      size_t n = sizeof(reply) - off < step ? sizeof(reply) - off : step;
      rc = lvpn__proxy_hs_feed(&hs, reply + off, n, &u);
      ck_assert_uint_le(u, n);
      if (hs.out_len > 0) {
        const uint8_t *w = sent == 0 ? auth : req;
        size_t wl = sent == 0 ? sizeof(auth) : sizeof(req);
        ck_assert_uint_eq(hs.out_len, wl);
        ck_assert_mem_eq(hs.out, w, wl);
        hs.out_len = 0;
        sent++;
      }
      off += u; /* the rest of the chunk comes again */
    }
    ck_assert_int_eq(rc, 1);
    ck_assert_int_eq(sent, 2);
    ck_assert_uint_eq(off, sizeof(reply) - 3);
    ck_assert_int_eq(hs.bound.ss_family, AF_UNSPEC);
  }
}
END_TEST

/* No auth, UDP ASSOCIATE; the reply's IPv4 BND is the relay. */
START_TEST(test_proxy_socks_udp_associate) {
  static const uint8_t assoc[] = {5, 3, 0, 1, 0, 0, 0, 0, 0, 0};
  static const uint8_t reply[] = {5, 0, 5, 0, 0, 1, 198, 18, 0, 3, 0xe7, 0x7e};
  lvpn__proxy_t c = socks_conf(false);
  lvpn__proxy_hs_t hs;
  const struct sockaddr_in *b = (const struct sockaddr_in *)&hs.bound;
  size_t u;

  lvpn__proxy_hs_init(&hs, &c, "198.18.0.1", 1194, true);
  lvpn__proxy_hs_start(&hs);
  ck_assert_uint_eq(hs.out_len, 3);
  ck_assert_uint_eq(hs.out[2], 0);
  ck_assert_int_eq(lvpn__proxy_hs_feed(&hs, reply, 2, &u), 0);
  ck_assert_uint_eq(hs.out_len, sizeof(assoc));
  ck_assert_mem_eq(hs.out, assoc, sizeof(assoc));
  ck_assert_int_eq(lvpn__proxy_hs_feed(&hs, reply + 2, 10, &u), 1);
  ck_assert_uint_eq(u, 10);
  ck_assert_int_eq(b->sin_family, AF_INET);
  ck_assert_uint_eq(ntohl(b->sin_addr.s_addr), 0xc6120003u);
  ck_assert_uint_eq(ntohs(b->sin_port), 0xe77e);
}
END_TEST

/* CONNECT to IPv4 and IPv6 literals uses their address types. */
START_TEST(test_proxy_socks_literal_targets) {
  lvpn__proxy_t c = socks_conf(false);
  lvpn__proxy_hs_t hs;
  static const uint8_t v4[] = {5, 1, 0, 1, 198, 18, 0, 1, 4, 0xaa};
  size_t u;
  lvpn__proxy_hs_init(&hs, &c, "198.18.0.1", 1194, false);
  lvpn__proxy_hs_start(&hs);
  lvpn__proxy_hs_feed(&hs, (const uint8_t *)"\x05\x00", 2, &u);
  ck_assert_mem_eq(hs.out, v4, sizeof(v4));
  lvpn__proxy_hs_init(&hs, &c, "2001:2::1", 1194, false);
  lvpn__proxy_hs_start(&hs);
  lvpn__proxy_hs_feed(&hs, (const uint8_t *)"\x05\x00", 2, &u);
  ck_assert_uint_eq(hs.out_len, 4 + 16 + 2);
  ck_assert_uint_eq(hs.out[3], 4);
}
END_TEST

static void socks_bad(bool auth, const uint8_t *r, size_t len, int code,
                      const char *msg) {
  lvpn__proxy_t c = socks_conf(auth);
  lvpn__proxy_hs_t hs;
  size_t u;
  lvpn__proxy_hs_init(&hs, &c, "vpn.test", 1194, false);
  lvpn__proxy_hs_start(&hs);
  ck_assert_int_eq(feed_steps(&hs, r, len, 1, &u), code);
  ck_assert_msg(strstr(hs.err, msg) != NULL, "'%s' lacks '%s'", hs.err, msg);
  ck_assert_ptr_null(strstr(hs.err, "hunter2"));
}

START_TEST(test_proxy_socks_errors) {
  socks_bad(false, (const uint8_t *)"\x04\x5a", 2, LVPN_EPROXY,
            "socks-proxy: not a SOCKS5 proxy (reply version 4)");
  socks_bad(true, (const uint8_t *)"\x05\xff", 2, LVPN_EPROXY_AUTH,
            "accepts none of our authentication methods (we offered "
            "username/password)");
  socks_bad(false, (const uint8_t *)"\x05\x02", 2, LVPN_EPROXY,
            "chose authentication method 2");
  socks_bad(true, (const uint8_t *)"\x05\x02\x01\x01", 4, LVPN_EPROXY_AUTH,
            "socks-proxy: username/password rejected by the proxy (status 1)");
  socks_bad(false, (const uint8_t *)"\x05\x00\x05\x05\x00\x01", 6, LVPN_EPROXY,
            "CONNECT failed: connection refused (reply 5)");
  socks_bad(false, (const uint8_t *)"\x05\x00\x05\x63\x00\x01", 6, LVPN_EPROXY,
            "unknown error (reply 99)");
  socks_bad(false, (const uint8_t *)"\x05\x00\x05\x00\x00\x07", 6, LVPN_EPROXY,
            "bad address type 7");
  socks_bad(false, (const uint8_t *)"\x05\x00\x04\x00\x00\x01", 6, LVPN_EPROXY,
            "not a SOCKS5 reply (version 4)");
}
END_TEST

START_TEST(test_proxy_socks_udp_header) {
  struct sockaddr_in to;
  struct sockaddr_storage from;
  uint8_t h[32];
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_port = htons(1194);
  inet_pton(AF_INET, "198.18.0.1", &to.sin_addr);
  lvpn__socks_udp_header(h, &to);
  ck_assert_mem_eq(h, "\x00\x00\x00\x01\xc6\x12\x00\x01\x04\xaa", 10);
  ck_assert_int_eq(lvpn__socks_udp_parse(h, 10, &from), 10);
  ck_assert_int_eq(
      memcmp(&((struct sockaddr_in *)&from)->sin_addr, &to.sin_addr, 4), 0);
  ck_assert_int_eq(lvpn__socks_udp_parse(h, 9, &from), -1);
  h[2] = 1; /* a fragment */
  ck_assert_int_eq(lvpn__socks_udp_parse(h, 10, &from), -1);
  h[2] = 0;
  h[3] = 3; /* a name */
  ck_assert_int_eq(lvpn__socks_udp_parse(h, 10, &from), -1);
  memset(h, 0, sizeof(h));
  h[3] = 4;
  ck_assert_int_eq(lvpn__socks_udp_parse(h, 22, &from), 22);
  ck_assert_int_eq(from.ss_family, AF_INET6);
}
END_TEST

/* 'auto': a 401/407's headers say whether Basic may follow. */
static int auto_reply(int auto_auth, bool creds, const char *reply, bool eof,
                      lvpn__proxy_hs_t *hs) {
  lvpn__proxy_t c = http_conf(creds);
  size_t used;
  int rc;
  c.basic = false;
  c.auto_auth = (uint8_t)auto_auth;
  lvpn__proxy_hs_init(hs, &c, "vpn.test", 1194, false);
  lvpn__proxy_hs_start(hs);
  ck_assert_ptr_null(strstr((const char *)hs->out, "Authorization"));
  rc = feed_steps(hs, (const uint8_t *)reply, strlen(reply), 3, &used);
  if (rc == 0 && eof)
    rc = lvpn__proxy_hs_eof(hs);
  return rc;
}

START_TEST(test_proxy_http_auto) {
  lvpn__proxy_hs_t hs;
  const char *basic = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                      "Proxy-Authenticate: NTLM\r\n"
                      "proxy-authenticate:  basic realm=\"corp\"\r\n\r\n";
  const char *ntlm = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                     "Proxy-Authenticate: NTLM\r\n"
                     "Proxy-Authenticate: Digest realm=\"x\"\r\n\r\n";
  /* tinyproxy: a 401 and WWW-Authenticate, then it closes */
  const char *tiny = "HTTP/1.0 401 Unauthorized\r\n"
                     "WWW-Authenticate: Basic realm=\"tinyproxy\"\r\n";

  ck_assert_int_eq(auto_reply(1, true, basic, false, &hs), LVPN_EPROXY);
  ck_assert(hs.want_basic);
  ck_assert_str_eq(hs.err, "http-proxy: 407: the proxy asks for Basic "
                           "authentication: connecting again with it");
  ck_assert_int_eq(auto_reply(1, true, tiny, true, &hs), LVPN_EPROXY);
  ck_assert(hs.want_basic);
  ck_assert_int_eq(auto_reply(2, true, basic, false, &hs), LVPN_EPROXY_AUTH);
  ck_assert(!hs.want_basic);
  ck_assert_ptr_nonnull(strstr(hs.err, "which 'auto-nct' does not allow"));
  ck_assert_int_eq(auto_reply(1, false, basic, false, &hs), LVPN_EPROXY_AUTH);
  ck_assert_ptr_nonnull(strstr(hs.err, "<http-proxy-user-pass>"));
  ck_assert_int_eq(auto_reply(1, true, ntlm, false, &hs), LVPN_EPROXY_AUTH);
  ck_assert_str_eq(hs.err, "http-proxy: 407: the proxy asks for 'NTLM' "
                           "authentication; only Basic is supported");
  ck_assert_int_eq(auto_reply(1, true, "HTTP/1.1 407 x\r\n\r\n", false, &hs),
                   LVPN_EPROXY_AUTH);
  ck_assert_ptr_nonnull(strstr(hs.err, "names no method"));
  /* a 200 needs no auth at all */
  ck_assert_int_eq(auto_reply(1, true, "HTTP/1.1 200 OK\r\n\r\n", false, &hs),
                   1);
}
END_TEST

LVPN_TEST_MAIN("proxy", 0, NULL, NULL, test_proxy_http_auto,
               test_proxy_http_request_basic,
               test_proxy_http_request_ipv6_version_host_header,
               test_proxy_http_reply_split_everywhere,
               test_proxy_http_reply_errors,
               test_proxy_http_407_without_credentials, test_proxy_http_eof,
               test_proxy_socks_connect_auth_split,
               test_proxy_socks_udp_associate, test_proxy_socks_literal_targets,
               test_proxy_socks_errors, test_proxy_socks_udp_header)
