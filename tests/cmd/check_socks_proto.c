/* cmd/socks_proto.c: SOCKS5 / HTTP CONNECT requests, the --auth file and the
 * DNS codec of `layervpn socks`. */
#include <arpa/inet.h>
#include <string.h>

#include "tests/fakes.h"
#include "cmd/socks_proto.h"

#define B(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

START_TEST(test_socks_proto_greeting) {
  unsigned m;
  ck_assert_int_eq(sp_socks5_greeting(B("\x05\x01\x00"), &m), 3);
  ck_assert_uint_eq(m, 1);
  ck_assert_int_eq(sp_socks5_greeting(B("\x05\x02\x00\x02"), &m), 4);
  ck_assert_uint_eq(m, 3);
  ck_assert_int_eq(sp_socks5_greeting(B("\x05\x01\x01"), &m), 3);
  ck_assert_uint_eq(m, 0);
  ck_assert_int_eq(sp_socks5_greeting(B("\x05\x02\x00"), &m), SP_MORE);
  ck_assert_int_eq(sp_socks5_greeting(B("\x05"), &m), SP_MORE);
  ck_assert_int_eq(sp_socks5_greeting(B("\x04\x01\x00"), &m), SP_EVERSION);
  ck_assert_int_eq(sp_socks5_greeting(B("\x05\x00"), &m), SP_EMETHOD);
}
END_TEST

START_TEST(test_socks_proto_userpass) {
  char u[256], p[256];
  ck_assert_int_eq(sp_socks5_userpass(B("\x01\x05" "alice\x06" "s3cret"), u, p), 14);
  ck_assert_str_eq(u, "alice");
  ck_assert_str_eq(p, "s3cret");
  ck_assert_int_eq(sp_socks5_userpass(B("\x01\x05" "ali"), u, p), SP_MORE);
  ck_assert_int_eq(sp_socks5_userpass(B("\x01\x01" "a"), u, p), SP_MORE);
  ck_assert_int_eq(sp_socks5_userpass(B("\x02\x01" "a\x00"), u, p), SP_EAUTH);
  ck_assert_int_eq(sp_socks5_userpass(B("\x01\x00\x00"), u, p), SP_EAUTH);
  ck_assert_int_eq(sp_socks5_userpass(B("\x01\x01\x00\x00"), u, p), SP_EAUTH);
  /* an empty password is allowed */
  ck_assert_int_eq(sp_socks5_userpass(B("\x01\x01x\x00"), u, p), 4);
  ck_assert_str_eq(p, "");
}
END_TEST

START_TEST(test_socks_proto_request) {
  sp_request_t r;
  ck_assert_int_eq(
      sp_socks5_request(B("\x05\x01\x00\x01\xc6\x13\x00\x01\x1f\x90"), &r), 10);
  ck_assert_uint_eq(r.cmd, SP_CMD_CONNECT);
  ck_assert_uint_eq(r.atyp, SP_ATYP_IPV4);
  ck_assert_mem_eq(r.addr, "\xc6\x13\x00\x01", 4);
  ck_assert_uint_eq(r.port, 8080);
  ck_assert_int_eq(
      sp_socks5_request(B("\x05\x01\x00\x03\x0a" "files.test\x00\x50"), &r),
      17);
  ck_assert_str_eq(r.host, "files.test");
  ck_assert_uint_eq(r.port, 80);
  ck_assert_int_eq(sp_socks5_request(B("\x05\x01\x00\x04"
                                       "\x20\x01\x00\x02\x00\x00\x00\x00"
                                       "\x00\x00\x00\x00\x00\x00\x00\x01"
                                       "\x01\xbb"),
                                     &r),
                   22);
  ck_assert_uint_eq(r.atyp, SP_ATYP_IPV6);
  /* short: always "more", whatever the cut */
  ck_assert_int_eq(sp_socks5_request(B("\x05\x01\x00\x01\xc6\x13"), &r),
                   SP_MORE);
  ck_assert_int_eq(sp_socks5_request(B("\x05\x01\x00\x03"), &r), SP_MORE);
  ck_assert_int_eq(sp_socks5_request(B("\x05\x01\x00\x03\x04" "ab"), &r),
                   SP_MORE);
  /* errors */
  ck_assert_int_eq(
      sp_socks5_request(B("\x05\x02\x00\x01\x01\x02\x03\x04\x00\x50"), &r),
      SP_ECMD);
  ck_assert_int_eq(
      sp_socks5_request(B("\x05\x09\x00\x01\x01\x02\x03\x04\x00\x50"), &r),
      SP_ECMD);
  ck_assert_int_eq(
      sp_socks5_request(B("\x05\x01\x00\x07\x01\x02\x03\x04\x00\x50"), &r),
      SP_EATYP);
  ck_assert_int_eq(
      sp_socks5_request(B("\x05\x01\x00\x01\x01\x02\x03\x04\x00\x00"), &r),
      SP_EPORT);
  ck_assert_int_eq(
      sp_socks5_request(B("\x05\x01\x01\x01\x01\x02\x03\x04\x00\x50"), &r),
      SP_EMALFORMED);
  ck_assert_int_eq(sp_socks5_request(B("\x05\x01\x00\x03\x00\x00\x50"), &r),
                   SP_EHOST);
  ck_assert_int_eq(sp_socks5_request(B("\x05\x01\x00\x03\x03" "a b\x00\x50"),
                                     &r),
                   SP_EHOST);
  ck_assert_int_eq(sp_socks5_request(B("\x05\x01\x00\x03\x02" "a.\x00\x50"),
                                     &r),
                   9); /* a fully qualified name, trailing dot */
  /* UDP ASSOCIATE parses; the caller refuses it */
  ck_assert_int_eq(
      sp_socks5_request(B("\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00"), &r),
      10);
  ck_assert_uint_eq(r.cmd, SP_CMD_UDP_ASSOCIATE);
  ck_assert_uint_eq(sp_socks5_rep_for(SP_ECMD), SP_REP_CMD_UNSUPPORTED);
  ck_assert_uint_eq(sp_socks5_rep_for(SP_EATYP), SP_REP_ATYP_UNSUPPORTED);
}
END_TEST

START_TEST(test_socks_proto_reply) {
  uint8_t out[10];
  uint32_t a;
  inet_pton(AF_INET, "198.19.0.2", &a);
  ck_assert_uint_eq(sp_socks5_reply(out, SP_REP_NOT_ALLOWED, a, 49152), 10);
  ck_assert_mem_eq(out, "\x05\x02\x00\x01\xc6\x13\x00\x02\xc0\x00", 10);
}
END_TEST

START_TEST(test_socks_proto_udp_header) {
  sp_request_t r;
  uint8_t out[10];
  uint32_t a;
  ck_assert_int_eq(sp_socks5_udp_header(B("\x00\x00\x00\x01\xc6\x13\x00\x01"
                                          "\x00\x35" "payload"),
                                        &r),
                   10);
  ck_assert_uint_eq(r.cmd, SP_CMD_UDP_ASSOCIATE);
  ck_assert_uint_eq(r.port, 53);
  ck_assert_mem_eq(r.addr, "\xc6\x13\x00\x01", 4);
  ck_assert_int_eq(sp_socks5_udp_header(B("\x00\x00\x00\x03\x01" "a\x00\x35"),
                                        &r),
                   8);
  ck_assert_str_eq(r.host, "a");
  /* a fragment, reserved bytes, short, bad type */
  ck_assert_int_eq(sp_socks5_udp_header(B("\x00\x00\x01\x01\xc6\x13\x00\x01"
                                          "\x00\x35"),
                                        &r),
                   SP_EMALFORMED);
  ck_assert_int_eq(sp_socks5_udp_header(B("\x01\x00\x00\x01\xc6\x13\x00\x01"
                                          "\x00\x35"),
                                        &r),
                   SP_EMALFORMED);
  ck_assert_int_eq(sp_socks5_udp_header(B("\x00\x00\x00\x01\xc6"), &r),
                   SP_EMALFORMED);
  ck_assert_int_eq(sp_socks5_udp_header(B("\x00\x00\x00\x09\xc6\x13\x00\x01"
                                          "\x00\x35"),
                                        &r),
                   SP_EATYP);
  inet_pton(AF_INET, "198.19.0.1", &a);
  ck_assert_uint_eq(sp_socks5_udp_build(out, a, 53), 10);
  ck_assert_mem_eq(out, "\x00\x00\x00\x01\xc6\x13\x00\x01\x00\x35", 10);
}
END_TEST

START_TEST(test_socks_proto_http_connect) {
  sp_request_t r;
  static const char req[] = "CONNECT 198.19.0.1:443 HTTP/1.1\r\n"
                            "Host: 198.19.0.1:443\r\n"
                            "User-Agent: curl\r\n\r\nextra";
  ck_assert_int_eq(sp_http_connect((const uint8_t *)req, sizeof(req) - 1, &r),
                   (int)(sizeof(req) - 1 - 5));
  ck_assert_uint_eq(r.atyp, SP_ATYP_IPV4);
  ck_assert_uint_eq(r.port, 443);
  ck_assert_int_eq(r.has_auth, 0);
  /* every cut before the empty line needs more */
  {
    size_t n;
    for (n = 0; n < sizeof(req) - 1 - 5; n++)
      ck_assert_int_eq(sp_http_connect((const uint8_t *)req, n, &r), SP_MORE);
  }
  ck_assert_int_gt(sp_http_connect(B("CONNECT files.test:80 HTTP/1.0\r\n"
                                     "proxy-authorization: Basic "
                                     "YWxpY2U6czNjcmV0\r\n\r\n"),
                                   &r),
                   0);
  ck_assert_str_eq(r.host, "files.test");
  ck_assert_int_eq(r.has_auth, 1);
  ck_assert_str_eq(r.user, "alice");
  ck_assert_str_eq(r.pass, "s3cret");
  ck_assert_int_gt(
      sp_http_connect(B("CONNECT [2001:2::1]:8443 HTTP/1.1\r\n\r\n"), &r), 0);
  ck_assert_uint_eq(r.atyp, SP_ATYP_IPV6);
  ck_assert_uint_eq(r.port, 8443);
  ck_assert_int_eq(sp_http_connect(B("GET / HTTP/1.1\r\n\r\n"), &r),
                   SP_EVERSION);
  ck_assert_int_eq(sp_http_connect(B("CONNECT x HTTP/1.1\r\n\r\n"), &r),
                   SP_EPORT);
  ck_assert_int_eq(sp_http_connect(B("CONNECT x:0 HTTP/1.1\r\n\r\n"), &r),
                   SP_EPORT);
  ck_assert_int_eq(sp_http_connect(B("CONNECT x:99999 HTTP/1.1\r\n\r\n"), &r),
                   SP_EPORT);
  ck_assert_int_eq(sp_http_connect(B("CONNECT :80 HTTP/1.1\r\n\r\n"), &r),
                   SP_EHOST);
  ck_assert_int_eq(sp_http_connect(B("CONNECT x:80 HTTP/2.0\r\n\r\n"), &r),
                   SP_EMALFORMED);
  ck_assert_int_eq(sp_http_connect(B("CONNECT x:80 HTTP/1.1\r\n"
                                     "no colon\r\n\r\n"),
                                   &r),
                   SP_EMALFORMED);
  ck_assert_int_eq(sp_http_connect(B("CONNECT x:80 HTTP/1.1\r\n"
                                     "Proxy-Authorization: Digest a\r\n\r\n"),
                                   &r),
                   SP_EAUTH);
  {
    static uint8_t big[SP_HTTP_MAX + 10];
    memset(big, 'a', sizeof(big));
    memcpy(big, "CONNECT ", 8);
    ck_assert_int_eq(sp_http_connect(big, sizeof(big), &r), SP_ETOOLONG);
  }
}
END_TEST

START_TEST(test_socks_proto_auth_file) {
  static const char f[] = "# users\n\nalice:s3cret\r\nbob:pa:ss\n";
  ck_assert_int_eq(sp_auth_validate(f), 0);
  ck_assert_int_eq(sp_auth_check(f, "alice", "s3cret"), 1);
  ck_assert_int_eq(sp_auth_check(f, "bob", "pa:ss"), 1);
  ck_assert_int_eq(sp_auth_check(f, "alice", "s3cre"), 0);
  ck_assert_int_eq(sp_auth_check(f, "alice", "s3cret2"), 0);
  ck_assert_int_eq(sp_auth_check(f, "alic", "s3cret"), 0);
  ck_assert_int_eq(sp_auth_check(f, "", ""), 0);
  ck_assert_int_eq(sp_auth_validate("a:b\nnocolon\n"), -2);
  ck_assert_int_eq(sp_auth_validate(":nouser\n"), -1);
}
END_TEST

START_TEST(test_socks_proto_dns) {
  uint8_t q[512], a[512];
  uint32_t addr;
  int n = sp_dns_query(q, sizeof(q), 0x1234, "files.socks.test");
  ck_assert_int_eq(n, 12 + 18 + 4);
  ck_assert_mem_eq(q + 12, "\x05" "files\x05socks\x04test\x00\x00\x01\x00\x01",
                   22);
  ck_assert_int_eq(sp_dns_query(q, sizeof(q), 1, "bad..name"), -1);
  ck_assert_int_eq(sp_dns_query(q, 20, 1, "files.socks.test"), -1);
  /* the query itself is not an answer */
  ck_assert_int_eq(sp_dns_answer(q, (size_t)n, 0x1234, &addr), -1);
  /* answer: header, question, CNAME via pointer, then A via pointer */
  memcpy(a, q, (size_t)n);
  a[2] = 0x81;
  a[3] = 0x80;
  a[7] = 2;
  memcpy(a + n, "\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c", 14);
  memcpy(a + n + 14,
         "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x13\x00\x01",
         16);
  ck_assert_int_eq(sp_dns_answer(a, (size_t)n + 30, 0x1234, &addr), 1);
  ck_assert_mem_eq(&addr, "\xc6\x13\x00\x01", 4);
  ck_assert_int_eq(sp_dns_answer(a, (size_t)n + 30, 0x1235, &addr), -1);
  ck_assert_int_eq(sp_dns_answer(a, (size_t)n + 29, 0x1234, &addr), -1);
  a[3] = 0x83; /* NXDOMAIN */
  ck_assert_int_eq(sp_dns_answer(a, (size_t)n + 30, 0x1234, &addr), 0);
  a[3] = 0x80;
  a[7] = 0; /* no answers */
  ck_assert_int_eq(sp_dns_answer(a, (size_t)n, 0x1234, &addr), 0);
}
END_TEST

/* An ICMP unreachable from 198.19.0.1 quoting our SYN 198.19.0.2:40000 ->
 * 198.19.100.7:8080 (IPv4), and an ICMPv6 one quoting 2001:2:0:8::1000:40000
 * -> 2001:2:0:9::7:443. */
START_TEST(test_socks_proto_icmp_unreach) {
  uint8_t p[20 + 8 + 20 + 8];
  uint8_t v6[40 + 8 + 40 + 8];
  sp_unreach_t u;
  memset(p, 0, sizeof(p));
  p[0] = 0x45;
  p[9] = 1;
  memcpy(p + 12, "\xc6\x13\x00\x01", 4);
  memcpy(p + 16, "\xc6\x13\x00\x02", 4);
  p[20] = 3; /* destination unreachable */
  p[21] = 1; /* host */
  p[28] = 0x45;
  p[28 + 9] = 6;
  memcpy(p + 28 + 12, "\xc6\x13\x00\x02", 4);
  memcpy(p + 28 + 16, "\xc6\x13\x64\x07", 4);
  p[48] = 0x9c; /* 40000 */
  p[49] = 0x40;
  p[50] = 0x1f; /* 8080 */
  p[51] = 0x90;
  ck_assert_uint_eq(sp_icmp_unreach(p, sizeof(p), &u), SP_REP_HOST_UNREACH);
  ck_assert_int_eq(u.family, 4);
  ck_assert_mem_eq(u.src, "\xc6\x13\x00\x02", 4);
  ck_assert_mem_eq(u.dst, "\xc6\x13\x64\x07", 4);
  ck_assert_uint_eq(u.sport, 40000);
  ck_assert_uint_eq(u.dport, 8080);
  p[21] = 0;
  ck_assert_uint_eq(sp_icmp_unreach(p, sizeof(p), &u), SP_REP_NET_UNREACH);
  p[21] = 3;
  ck_assert_uint_eq(sp_icmp_unreach(p, sizeof(p), &u), SP_REP_REFUSED);
  p[21] = 13;
  ck_assert_uint_eq(sp_icmp_unreach(p, sizeof(p), &u), SP_REP_NOT_ALLOWED);
  /* the quote needs the ports: truncated, it is ignored */
  ck_assert_uint_eq(sp_icmp_unreach(p, 20 + 8 + 20 + 3, &u), 0);
  ck_assert_uint_eq(sp_icmp_unreach(p, 20 + 8 + 20 + 4, &u), SP_REP_NOT_ALLOWED);
  p[28 + 9] = 17; /* about UDP */
  ck_assert_uint_eq(sp_icmp_unreach(p, sizeof(p), &u), 0);
  p[28 + 9] = 6;
  p[20] = 11; /* time exceeded */
  ck_assert_uint_eq(sp_icmp_unreach(p, sizeof(p), &u), 0);
  p[20] = 3;
  p[9] = 6; /* not ICMP */
  ck_assert_uint_eq(sp_icmp_unreach(p, sizeof(p), &u), 0);
  p[9] = 1;
  p[6] = 0x20; /* a fragment */
  ck_assert_uint_eq(sp_icmp_unreach(p, sizeof(p), &u), 0);
  ck_assert_uint_eq(sp_icmp_unreach(p, 0, &u), 0);

  memset(v6, 0, sizeof(v6));
  v6[0] = 0x60;
  v6[6] = 58;
  v6[40] = 1; /* destination unreachable */
  v6[41] = 4; /* port */
  v6[48] = 0x60;
  v6[48 + 6] = 6;
  memcpy(v6 + 48 + 8, "\x20\x01\x00\x02\x00\x00\x00\x08"
                      "\x00\x00\x00\x00\x00\x00\x10\x00", 16);
  memcpy(v6 + 48 + 24, "\x20\x01\x00\x02\x00\x00\x00\x09"
                       "\x00\x00\x00\x00\x00\x00\x00\x07", 16);
  v6[88] = 0x9c;
  v6[89] = 0x40;
  v6[90] = 0x01;
  v6[91] = 0xbb;
  ck_assert_uint_eq(sp_icmp_unreach(v6, sizeof(v6), &u), SP_REP_REFUSED);
  ck_assert_int_eq(u.family, 6);
  ck_assert_uint_eq(u.dst[15], 7);
  ck_assert_uint_eq(u.sport, 40000);
  ck_assert_uint_eq(u.dport, 443);
  v6[41] = 3; /* address unreachable */
  ck_assert_uint_eq(sp_icmp_unreach(v6, sizeof(v6), &u), SP_REP_HOST_UNREACH);
  v6[41] = 1;
  ck_assert_uint_eq(sp_icmp_unreach(v6, sizeof(v6), &u), SP_REP_NOT_ALLOWED);
  ck_assert_uint_eq(sp_icmp_unreach(v6, sizeof(v6) - 1, &u), SP_REP_NOT_ALLOWED);
  ck_assert_uint_eq(sp_icmp_unreach(v6, 40 + 8 + 40 + 3, &u), 0);
  v6[40] = 128; /* echo request */
  ck_assert_uint_eq(sp_icmp_unreach(v6, sizeof(v6), &u), 0);
}
END_TEST

START_TEST(test_socks_proto_ipv6) {
  static const uint8_t v6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 8,
                                 0,    0,    0,    0,    0, 0, 0, 1};
  uint8_t out[22], q[512], a[600], got[16];
  int n;
  ck_assert_uint_eq(sp_socks5_reply6(out, SP_REP_OK, v6, 8080), 22);
  ck_assert_mem_eq(out, "\x05\x00\x00\x04", 4);
  ck_assert_mem_eq(out + 4, v6, 16);
  ck_assert_mem_eq(out + 20, "\x1f\x90", 2);
  ck_assert_uint_eq(sp_socks5_udp_build6(out, v6, 53), 22);
  ck_assert_mem_eq(out, "\x00\x00\x00\x04", 4);
  ck_assert_mem_eq(out + 20, "\x00\x35", 2);
  /* an AAAA query, answered with a CNAME-less AAAA after an A record */
  n = sp_dns_query_type(q, sizeof(q), 0x4321, "v6.socks.test", SP_DNS_AAAA);
  ck_assert_int_eq(n, 12 + 15 + 4);
  ck_assert_mem_eq(q + n - 4, "\x00\x1c\x00\x01", 4);
  memcpy(a, q, (size_t)n);
  a[2] = 0x81;
  a[3] = 0x80;
  a[7] = 2;
  memcpy(a + n, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"
                "\xc6\x13\x00\x01", 16);
  memcpy(a + n + 16, "\xc0\x0c\x00\x1c\x00\x01\x00\x00\x00\x3c\x00\x10",
         12);
  memcpy(a + n + 28, v6, 16);
  ck_assert_int_eq(sp_dns_answer6(a, (size_t)n + 44, 0x4321, got), 1);
  ck_assert_mem_eq(got, v6, 16);
  ck_assert_int_eq(sp_dns_answer6(a, (size_t)n + 43, 0x4321, got), -1);
  ck_assert_int_eq(sp_dns_answer6(a, (size_t)n + 44, 0x4322, got), -1);
  a[7] = 1; /* only the A record: no AAAA */
  ck_assert_int_eq(sp_dns_answer6(a, (size_t)n + 16, 0x4321, got), 0);
}
END_TEST

LVPN_TEST_MAIN("socks_proto", 0, NULL, NULL, test_socks_proto_greeting,
               test_socks_proto_userpass, test_socks_proto_request,
               test_socks_proto_reply, test_socks_proto_udp_header,
               test_socks_proto_http_connect,
               test_socks_proto_auth_file, test_socks_proto_dns,
               test_socks_proto_icmp_unreach, test_socks_proto_ipv6)
