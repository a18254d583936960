/* HTTP CONNECT and SOCKS5 handshakes, loop-free: see proxy.h. */
#include "layers/networkio/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

#define SOCKS_VER 5
#define SOCKS_NO_AUTH 0x00
#define SOCKS_USERPASS 0x02
#define SOCKS_NO_METHOD 0xff
#define SOCKS_CONNECT 1
#define SOCKS_UDP_ASSOCIATE 3
#define ATYP_V4 1
#define ATYP_NAME 3
#define ATYP_V6 4

const char *lvpn__proxy_name(const lvpn__proxy_t *conf) {
  return conf->kind == LVPN__PROXY_HTTP ? "http-proxy" : "socks-proxy";
}

static int fail(lvpn__proxy_hs_t *hs, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(lvpn__proxy_hs_t *hs, int code, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(hs->err, sizeof(hs->err), "%s: %s", lvpn__proxy_name(hs->conf), msg);
  hs->state = LVPN__PXS_FAILED;
  return code;
}

/* Up to `max` bytes of untrusted text, printable ASCII only. */
static void printable(char *dst, size_t cap, const char *s, size_t len) {
  size_t i, j = 0;
  for (i = 0; i < len && j + 1 < cap; i++)
    dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
  dst[j] = '\0';
}

int lvpn__proxy_hs_init(lvpn__proxy_hs_t *hs, const lvpn__proxy_t *conf,
                        const char *host, uint16_t port, bool udp) {
  size_t len = host != NULL ? strlen(host) : 0;
  if (conf == NULL || len == 0 || len >= sizeof(hs->host) ||
      (conf->kind != LVPN__PROXY_HTTP && conf->kind != LVPN__PROXY_SOCKS) ||
      (udp && conf->kind == LVPN__PROXY_HTTP))
    return LVPN_EINVAL;
  memset(hs, 0, sizeof(*hs));
  hs->conf = conf;
  hs->udp = udp;
  memcpy(hs->host, host, len + 1);
  hs->port = port;
  hs->bound.ss_family = AF_UNSPEC;
  return 0;
}

void lvpn__proxy_hs_wipe(lvpn__proxy_hs_t *hs) {
  mbedtls_platform_zeroize(hs, sizeof(*hs));
}

/* ---- HTTP ---- */

/* Appends formatted text to out; 0 or -1 when it does not fit. */
static int put(lvpn__proxy_hs_t *hs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int put(lvpn__proxy_hs_t *hs, const char *fmt, ...) {
  size_t room = sizeof(hs->out) - hs->out_len;
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = vsnprintf((char *)hs->out + hs->out_len, room, fmt, ap);
  va_end(ap);
  if (r < 0 || (size_t)r >= room)
    return -1;
  hs->out_len += (size_t)r;
  return 0;
}

/* "Proxy-Authorization: Basic base64(user:pass)\r\n"; the clear text is
 * zeroed. */
static int put_basic(lvpn__proxy_hs_t *hs) {
  const lvpn__proxy_t *c = hs->conf;
  unsigned char plain[1024];
  size_t ulen = strlen(c->username), plen = strlen(c->password), olen = 0;
  const char *pre = "Proxy-Authorization: Basic ";
  size_t prelen = strlen(pre);
  int r = -1;

  if (ulen + 1 + plen > sizeof(plain) ||
      hs->out_len + prelen >= sizeof(hs->out))
    return -1;
  memcpy(plain, c->username, ulen);
  plain[ulen] = ':';
  memcpy(plain + ulen + 1, c->password, plen);
  memcpy(hs->out + hs->out_len, pre, prelen);
  if (mbedtls_base64_encode(hs->out + hs->out_len + prelen,
                            sizeof(hs->out) - hs->out_len - prelen, &olen,
                            plain, ulen + 1 + plen) == 0) {
    hs->out_len += prelen + olen;
    r = put(hs, "\r\n");
  }
  mbedtls_platform_zeroize(plain, sizeof(plain));
  return r;
}

static int http_request(lvpn__proxy_hs_t *hs) {
  const lvpn__proxy_t *c = hs->conf;
  /* An IPv6 literal goes in brackets (RFC 9110 authority form). */
  const char *lb = strchr(hs->host, ':') != NULL ? "[" : "";
  const char *rb = lb[0] != '\0' ? "]" : "";
  bool host_sent = false;
  int k, r;

  r = put(hs, "CONNECT %s%s%s:%u HTTP/%s\r\n", lb, hs->host, rb,
          (unsigned)hs->port, c->http_version ? c->http_version : "1.0");
  for (k = 0; r == 0 && k < c->n_headers; k++) {
    if (strncasecmp(c->headers[k], "Host:", 5) == 0)
      host_sent = true;
    r = put(hs, "%s\r\n", c->headers[k]);
  }
  if (r == 0 && !host_sent)
    r = put(hs, "Host: %s%s%s\r\n", lb, hs->host, rb);
  if (r == 0 && c->user_agent != NULL)
    r = put(hs, "User-Agent: %s\r\n", c->user_agent);
  if (r == 0 && c->basic && c->username != NULL)
    r = put_basic(hs);
  if (r == 0)
    r = put(hs, "\r\n");
  if (r != 0) {
    mbedtls_platform_zeroize(hs->out, sizeof(hs->out));
    hs->out_len = 0;
    return fail(hs, LVPN_EPROXY, "the request exceeds %d bytes",
                LVPN__PROXY_OUT_MAX);
  }
  hs->state = LVPN__PXS_HTTP_STATUS;
  return 0;
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" (line without CR/LF). */
static int http_status_line(lvpn__proxy_hs_t *hs, const char *l, size_t len) {
  char shown[96];
  size_t i = 5;
  int code;

  if (len < 12 || strncmp(l, "HTTP/", 5) != 0) {
    printable(shown, 40, l, len);
    return fail(hs, LVPN_EPROXY, "the reply is not HTTP: '%s'", shown);
  }
  while (i < len && l[i] != ' ')
    i++;
  while (i < len && l[i] == ' ')
    i++;
  if (i + 3 > len || l[i] < '1' || l[i] > '5' || l[i + 1] < '0' ||
      l[i + 1] > '9' || l[i + 2] < '0' || l[i + 2] > '9' ||
      (i + 3 < len && l[i + 3] != ' ')) {
    printable(shown, 60, l, len);
    return fail(hs, LVPN_EPROXY, "bad status line '%s'", shown);
  }
  code = (l[i] - '0') * 100 + (l[i + 1] - '0') * 10 + (l[i + 2] - '0');
  if (code >= 100 && code < 200) { /* interim: its headers, then again */
    hs->interim = true;
    return 0;
  }
  hs->status = code;
  if (code >= 200 && code < 300)
    return 0;
  printable(shown, 80, l + i, len - i);
  /* 407, or 401 as some proxies (tinyproxy) answer CONNECT: retrying with
   * the same credentials cannot help. With 'auto' and no auth sent yet,
   * its headers say which method the proxy wants. */
  if ((code == 407 || code == 401) && hs->conf->auto_auth && !hs->conf->basic) {
    hs->auth_probe = true;
    return 0;
  }
  if (code == 407 || code == 401)
    return fail(hs, LVPN_EPROXY_AUTH, "%s (%s)", shown,
                hs->conf->basic ? "the proxy refused the username or password"
                                : "no credentials given: add an auth file "
                                  "and 'basic'");
  return fail(hs, LVPN_EPROXY, "%s", shown);
}

/* 'auto': a "Proxy-Authenticate:" (or, after a 401, "WWW-Authenticate:")
 * header's scheme. */
static void http_auth_header(lvpn__proxy_hs_t *hs, const char *l, size_t len) {
  static const char *const names[] = {"Proxy-Authenticate:",
                                      "WWW-Authenticate:"};
  size_t k, i, j;
  for (k = 0; k < 2; k++) {
    size_t nl = strlen(names[k]);
    if (len < nl || strncasecmp(l, names[k], nl) != 0)
      continue;
    for (i = nl; i < len && (l[i] == ' ' || l[i] == '\t'); i++)
      ;
    for (j = i; j < len && l[j] != ' ' && l[j] != ',' && l[j] != '\t'; j++)
      ;
    if (j - i == 5 && strncasecmp(l + i, "Basic", 5) == 0)
      hs->offers_basic = true;
    else if (hs->scheme[0] == '\0' && j > i)
      printable(hs->scheme, sizeof(hs->scheme), l + i, j - i);
  }
}

/* 'auto': the 401/407 ended; Basic is the one method we can do. */
static int http_auth_decide(lvpn__proxy_hs_t *hs) {
  const lvpn__proxy_t *c = hs->conf;
  if (hs->offers_basic && c->auto_auth == 2)
    return fail(hs, LVPN_EPROXY_AUTH,
                "%d: the proxy asks for Basic authentication, which "
                "'auto-nct' does not allow",
                hs->status);
  if (hs->offers_basic && c->username == NULL)
    return fail(hs, LVPN_EPROXY_AUTH,
                "%d: the proxy asks for Basic authentication: give the "
                "username and password in <http-proxy-user-pass>",
                hs->status);
  if (hs->offers_basic) {
    hs->want_basic = true;
    return fail(hs, LVPN_EPROXY,
                "%d: the proxy asks for Basic authentication: connecting "
                "again with it",
                hs->status);
  }
  if (hs->scheme[0] != '\0')
    return fail(hs, LVPN_EPROXY_AUTH,
                "%d: the proxy asks for '%s' authentication; only Basic is "
                "supported",
                hs->status, hs->scheme);
  return fail(hs, LVPN_EPROXY_AUTH,
              "%d: the proxy wants authentication but names no method",
              hs->status);
}

/* One complete reply line (CR/LF stripped). */
static int http_line(lvpn__proxy_hs_t *hs, const char *l, size_t len) {
  if (hs->state == LVPN__PXS_HTTP_STATUS) {
    int e = http_status_line(hs, l, len);
    if (e == 0)
      hs->state = LVPN__PXS_HTTP_HEADERS;
    return e;
  }
  if (len > 0 && hs->auth_probe)
    http_auth_header(hs, l, len);
  if (len > 0)
    return 0; /* a header: nothing else in them matters for CONNECT */
  if (hs->auth_probe)
    return http_auth_decide(hs);
  if (hs->interim) {
    hs->interim = false;
    hs->state = LVPN__PXS_HTTP_STATUS;
    return 0;
  }
  hs->state = LVPN__PXS_DONE;
  return 1;
}

static int http_feed(lvpn__proxy_hs_t *hs, const uint8_t *in, size_t len,
                     size_t *used) {
  size_t i;
  int e;

  for (i = 0; i < len;) {
    uint8_t c = in[i++];
    if (++hs->head_len > LVPN__PROXY_REPLY_HEAD) {
      *used = i;
      return fail(hs, LVPN_EPROXY, "the reply's head exceeds %d bytes",
                  LVPN__PROXY_REPLY_HEAD);
    }
    if (c == '\n') {
      size_t l = hs->line_len;
      if (l > 0 && hs->line[l - 1] == '\r')
        l--;
      hs->line_len = 0;
      if ((e = http_line(hs, hs->line, l)) != 0) {
        *used = i;
        return e;
      }
      continue;
    }
    if (c == '\0') {
      *used = i;
      return fail(hs, LVPN_EPROXY, "NUL byte in the reply");
    }
    if (hs->line_len + 1 >= sizeof(hs->line)) {
      *used = i;
      return fail(hs, LVPN_EPROXY, "a reply line exceeds %d bytes",
                  LVPN__PROXY_REPLY_LINE - 1);
    }
    hs->line[hs->line_len++] = (char)c;
  }
  *used = len;
  return 0;
}

/* ---- SOCKS5 ---- */

static const char *socks_rep_text(int rep) {
  static const char *const t[] = {"succeeded",
                                  "general SOCKS server failure",
                                  "connection not allowed by ruleset",
                                  "network unreachable",
                                  "host unreachable",
                                  "connection refused",
                                  "TTL expired",
                                  "command not supported",
                                  "address type not supported"};
  return rep >= 0 && rep < (int)(sizeof(t) / sizeof(t[0])) ? t[rep]
                                                           : "unknown error";
}

static void socks_greeting(lvpn__proxy_hs_t *hs) {
  hs->method = hs->conf->username != NULL ? SOCKS_USERPASS : SOCKS_NO_AUTH;
  hs->out[0] = SOCKS_VER;
  hs->out[1] = 1;
  hs->out[2] = hs->method;
  hs->out_len = 3;
  hs->state = LVPN__PXS_SOCKS_METHOD;
}

static void socks_auth(lvpn__proxy_hs_t *hs) {
  size_t ul = strlen(hs->conf->username), pl = strlen(hs->conf->password);
  uint8_t *o = hs->out;
  /* Lengths were bounded to 255 when the config was loaded. */
  o[0] = 1;
  o[1] = (uint8_t)ul;
  memcpy(o + 2, hs->conf->username, ul);
  o[2 + ul] = (uint8_t)pl;
  memcpy(o + 3 + ul, hs->conf->password, pl);
  hs->out_len = 3 + ul + pl;
  hs->state = LVPN__PXS_SOCKS_AUTH;
}

static void socks_request(lvpn__proxy_hs_t *hs) {
  uint8_t *o = hs->out;
  struct in_addr a4;
  struct in6_addr a6;
  size_t n = 4;

  o[0] = SOCKS_VER;
  o[1] = hs->udp ? SOCKS_UDP_ASSOCIATE : SOCKS_CONNECT;
  o[2] = 0;
  if (hs->udp) { /* we send from 0.0.0.0:0, as OpenVPN */
    o[3] = ATYP_V4;
    memset(o + 4, 0, 6);
    n = 10;
  } else {
    if (inet_pton(AF_INET, hs->host, &a4) == 1) {
      o[3] = ATYP_V4;
      memcpy(o + 4, &a4, 4);
      n += 4;
    } else if (inet_pton(AF_INET6, hs->host, &a6) == 1) {
      o[3] = ATYP_V6;
      memcpy(o + 4, &a6, 16);
      n += 16;
    } else { /* the proxy resolves the name, as with OpenVPN */
      size_t hl = strlen(hs->host);
      o[3] = ATYP_NAME;
      o[4] = (uint8_t)hl;
      memcpy(o + 5, hs->host, hl);
      n += 1 + hl;
    }
    o[n++] = (uint8_t)(hs->port >> 8);
    o[n++] = (uint8_t)hs->port;
  }
  hs->out_len = n;
  hs->have = 0;
  hs->state = LVPN__PXS_SOCKS_REPLY;
}

/* Bytes the current SOCKS reply needs, given what is in rbuf. */
static size_t socks_need(const lvpn__proxy_hs_t *hs) {
  if (hs->state != LVPN__PXS_SOCKS_REPLY)
    return 2;
  if (hs->have < 5)
    return 5;
  switch (hs->rbuf[3]) {
  case ATYP_V4:
    return 4 + 4 + 2;
  case ATYP_V6:
    return 4 + 16 + 2;
  default: /* ATYP_NAME (others fail before) */
    return 4 + 1 + (size_t)hs->rbuf[4] + 2;
  }
}

static void socks_bound(lvpn__proxy_hs_t *hs) {
  const uint8_t *r = hs->rbuf;
  memset(&hs->bound, 0, sizeof(hs->bound));
  if (r[3] == ATYP_V4) {
    struct sockaddr_in *a = (struct sockaddr_in *)&hs->bound;
    a->sin_family = AF_INET;
    memcpy(&a->sin_addr, r + 4, 4);
    memcpy(&a->sin_port, r + 8, 2);
  } else if (r[3] == ATYP_V6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&hs->bound;
    a->sin6_family = AF_INET6;
    memcpy(&a->sin6_addr, r + 4, 16);
    memcpy(&a->sin6_port, r + 20, 2);
  } else {
    hs->bound.ss_family = AF_UNSPEC;
  }
}

/* One complete reply in rbuf. */
static int socks_step(lvpn__proxy_hs_t *hs) {
  const uint8_t *r = hs->rbuf;
  hs->have = 0;
  switch (hs->state) {
  case LVPN__PXS_SOCKS_METHOD:
    if (r[0] != SOCKS_VER)
      return fail(hs, LVPN_EPROXY, "not a SOCKS5 proxy (reply version %u)",
                  r[0]);
    if (r[1] == SOCKS_NO_METHOD)
      return fail(hs, LVPN_EPROXY_AUTH,
                  "the proxy accepts none of our authentication methods "
                  "(we offered %s)",
                  hs->method == SOCKS_USERPASS ? "username/password"
                                               : "no authentication");
    if (r[1] != hs->method)
      return fail(hs, LVPN_EPROXY,
                  "the proxy chose authentication method %u, not the one "
                  "offered (%u)",
                  r[1], hs->method);
    if (hs->method == SOCKS_USERPASS)
      socks_auth(hs);
    else
      socks_request(hs);
    return 0;
  case LVPN__PXS_SOCKS_AUTH:
    if (r[1] != 0)
      return fail(hs, LVPN_EPROXY_AUTH,
                  "username/password rejected by the proxy (status %u)", r[1]);
    socks_request(hs);
    return 0;
  default:
    socks_bound(hs);
    hs->state = LVPN__PXS_DONE;
    return 1;
  }
}

static int socks_feed(lvpn__proxy_hs_t *hs, const uint8_t *in, size_t len,
                      size_t *used) {
  size_t i = 0;
  int e;

  while (i < len) {
    size_t need = socks_need(hs), take = need - hs->have;
    if (take > len - i)
      take = len - i;
    memcpy(hs->rbuf + hs->have, in + i, take);
    hs->have += take;
    i += take;
    if (hs->state == LVPN__PXS_SOCKS_REPLY && hs->have >= 4) {
      const uint8_t *r = hs->rbuf;
      *used = i;
      if (r[0] != SOCKS_VER)
        return fail(hs, LVPN_EPROXY, "not a SOCKS5 reply (version %u)", r[0]);
      if (r[1] != 0)
        return fail(hs, LVPN_EPROXY, "%s failed: %s (reply %u)",
                    hs->udp ? "UDP ASSOCIATE" : "CONNECT", socks_rep_text(r[1]),
                    r[1]);
      if (r[3] != ATYP_V4 && r[3] != ATYP_V6 && r[3] != ATYP_NAME)
        return fail(hs, LVPN_EPROXY, "bad address type %u in the reply", r[3]);
    }
    if (hs->have < socks_need(hs))
      continue;
    if ((e = socks_step(hs)) != 0 || hs->out_len > 0) {
      *used = i; /* a new request first: the caller sends it */
      return e;
    }
  }
  *used = len;
  return 0;
}

/* ---- driver ---- */

int lvpn__proxy_hs_start(lvpn__proxy_hs_t *hs) {
  if (hs->state != LVPN__PXS_IDLE)
    return fail(hs, LVPN_EPROXY, "handshake started twice");
  if (hs->conf->kind == LVPN__PROXY_HTTP)
    return http_request(hs);
  socks_greeting(hs);
  return 0;
}

int lvpn__proxy_hs_feed(lvpn__proxy_hs_t *hs, const uint8_t *in, size_t len,
                        size_t *used) {
  *used = 0;
  switch (hs->state) {
  case LVPN__PXS_DONE:
    return 1;
  case LVPN__PXS_HTTP_STATUS:
  case LVPN__PXS_HTTP_HEADERS:
    return http_feed(hs, in, len, used);
  case LVPN__PXS_SOCKS_METHOD:
  case LVPN__PXS_SOCKS_AUTH:
  case LVPN__PXS_SOCKS_REPLY:
    return socks_feed(hs, in, len, used);
  case LVPN__PXS_FAILED:
    return hs->err[0] != '\0' ? LVPN_EPROXY
                              : fail(hs, LVPN_EPROXY, "handshake failed");
  default:
    return fail(hs, LVPN_EPROXY, "data before the handshake started");
  }
}

int lvpn__proxy_hs_eof(lvpn__proxy_hs_t *hs) {
  if (hs->auth_probe && hs->state == LVPN__PXS_HTTP_HEADERS)
    return http_auth_decide(hs);
  if (hs->state == LVPN__PXS_HTTP_STATUS || hs->state == LVPN__PXS_HTTP_HEADERS)
    return fail(hs, LVPN_EPROXY,
                "the proxy closed the connection before its reply ended");
  return fail(hs, LVPN_EPROXY,
              "the proxy closed the connection during the handshake");
}

/* ---- SOCKS UDP ---- */

void lvpn__socks_udp_header(uint8_t *hdr, const struct sockaddr_in *to) {
  hdr[0] = hdr[1] = 0; /* RSV */
  hdr[2] = 0;          /* FRAG */
  hdr[3] = ATYP_V4;
  memcpy(hdr + 4, &to->sin_addr, 4);
  memcpy(hdr + 8, &to->sin_port, 2);
}

int lvpn__socks_udp_parse(const uint8_t *d, size_t len,
                          struct sockaddr_storage *from) {
  memset(from, 0, sizeof(*from));
  if (len < 4 || d[0] != 0 || d[1] != 0 || d[2] != 0)
    return -1;
  if (d[3] == ATYP_V4 && len >= 10) {
    struct sockaddr_in *a = (struct sockaddr_in *)from;
    a->sin_family = AF_INET;
    memcpy(&a->sin_addr, d + 4, 4);
    memcpy(&a->sin_port, d + 8, 2);
    return 10;
  }
  if (d[3] == ATYP_V6 && len >= 22) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)from;
    a->sin6_family = AF_INET6;
    memcpy(&a->sin6_addr, d + 4, 16);
    memcpy(&a->sin6_port, d + 20, 2);
    return 22;
  }
  return -1;
}
