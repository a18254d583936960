/* `layervpn socks`'s request and DNS codecs (cmd/socks_proto.c) on untrusted
 * bytes. Input: [mode] then the bytes. mode % 6 picks the parser (SOCKS5
 * greeting, username/password, request, HTTP CONNECT, DNS A/AAAA answer,
 * UDP ASSOCIATE header and ICMP unreachable, --auth file); each is also fed every prefix of the input, as the proxy does
 * while bytes arrive, and must answer "more" or the same verdict. */
#include <stdio.h>

#include "cmd/socks_proto.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(int mode, const uint8_t *b, size_t n) {
  unsigned m;
  char u[256], p[256];
  sp_request_t r;
  uint32_t a;
  switch (mode) {
  case 0:
    return sp_socks5_greeting(b, n, &m);
  case 1:
    return sp_socks5_userpass(b, n, u, p);
  case 2:
    return sp_socks5_request(b, n, &r);
  case 3:
    return sp_http_connect(b, n, &r);
  default: {
    uint8_t a6[16];
    sp_unreach_t un;
    uint16_t id = (uint16_t)(n > 1 ? (b[0] << 8 | b[1]) : 0);
    (void)sp_socks5_udp_header(b, n, &r);
    (void)sp_dns_answer6(b, n, id, a6);
    /* packets out of the tunnel: the ICMP unreachable reader */
    if (sp_icmp_unreach(b, n, &un) != 0 && un.family != 4 && un.family != 6)
      abort();
    return sp_dns_answer(b, n, id, &a);
  }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int mode, full, rc;
  size_t i;
  if (size < 1)
    return 0;
  mode = data[0] % 6;
  data++;
  size--;
  if (mode == 5) { /* --auth FILE text, then a name query built from it */
    char *t = malloc(size + 1);
    uint8_t q[600];
    if (t == NULL)
      return 0;
    memcpy(t, data, size);
    t[size] = '\0';
    (void)sp_auth_validate(t);
    (void)sp_auth_check(t, "alice", "s3cret");
    if (sp_dns_query(q, sizeof(q), 7, t) > (int)(strlen(t) + 18))
      abort();
    free(t);
    return 0;
  }
  full = parse(mode, data, size);
  if (full > (int)size)
    abort();
  if (mode == 4 || size > 2048)
    return 0;
  /* a verdict never changes once the bytes for it are in */
  for (i = 0; i < size; i++) {
    rc = parse(mode, data, i);
    if (rc > 0 && rc != full)
      abort();
    if (rc < 0 && rc != full && full != SP_MORE)
      abort();
  }
  return 0;
}
