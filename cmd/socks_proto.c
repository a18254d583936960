/* SOCKS5 / HTTP CONNECT / DNS codecs for `layervpn socks` (see the header). */
#include "cmd/socks_proto.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

const char *sp_strerror(int code) {
  switch (code) {
  case SP_EVERSION:
    return "not a SOCKS5 or HTTP CONNECT request";
  case SP_EMETHOD:
    return "no acceptable authentication method offered";
  case SP_ECMD:
    return "unsupported command";
  case SP_EATYP:
    return "unknown address type";
  case SP_EHOST:
    return "malformed host";
  case SP_EPORT:
    return "malformed or zero port";
  case SP_ETOOLONG:
    return "request too long";
  case SP_EAUTH:
    return "malformed username/password message";
  case SP_EMALFORMED:
    return "malformed request";
  default:
    return "unknown error";
  }
}

int sp_socks5_greeting(const uint8_t *b, size_t n, unsigned *methods) {
  size_t i, nm;
  *methods = 0;
  if (n < 1)
    return SP_MORE;
  if (b[0] != 5)
    return SP_EVERSION;
  if (n < 2)
    return SP_MORE;
  nm = b[1];
  if (nm == 0)
    return SP_EMETHOD;
  if (n < 2 + nm)
    return SP_MORE;
  for (i = 0; i < nm; i++) {
    if (b[2 + i] == 0x00)
      *methods |= 1u;
    else if (b[2 + i] == 0x02)
      *methods |= 2u;
  }
  return (int)(2 + nm);
}

int sp_socks5_userpass(const uint8_t *b, size_t n, char user[256],
                       char pass[256]) {
  size_t ul, pl;
  if (n < 1)
    return SP_MORE;
  if (b[0] != 1)
    return SP_EAUTH;
  if (n < 2)
    return SP_MORE;
  ul = b[1];
  if (n < 3 + ul)
    return SP_MORE;
  pl = b[2 + ul];
  if (n < 3 + ul + pl)
    return SP_MORE;
  if (ul == 0 || memchr(b + 2, 0, ul) || memchr(b + 3 + ul, 0, pl))
    return SP_EAUTH;
  memcpy(user, b + 2, ul);
  user[ul] = '\0';
  memcpy(pass, b + 3 + ul, pl);
  pass[pl] = '\0';
  return (int)(3 + ul + pl);
}

/* A host name as DNS accepts it: letters, digits, '-', '_', dots between
 * non-empty labels of at most 63 bytes. */
static int valid_hostname(const char *s, size_t len) {
  size_t i, label = 0;
  if (len == 0 || len > 253)
    return 0;
  for (i = 0; i < len; i++) {
    char ch = s[i];
    if (ch == '.') {
      if (label == 0)
        return 0;
      label = 0;
      continue;
    }
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
      return 0;
    if (++label > 63)
      return 0;
  }
  return 1;
}

int sp_socks5_request(const uint8_t *b, size_t n, sp_request_t *r) {
  size_t alen, off;
  memset(r, 0, sizeof(*r));
  if (n < 1)
    return SP_MORE;
  if (b[0] != 5)
    return SP_EVERSION;
  if (n < 4)
    return SP_MORE;
  r->cmd = b[1];
  r->atyp = b[3];
  if (b[2] != 0)
    return SP_EMALFORMED;
  switch (b[3]) {
  case SP_ATYP_IPV4:
    alen = 4;
    off = 4;
    break;
  case SP_ATYP_IPV6:
    alen = 16;
    off = 4;
    break;
  case SP_ATYP_NAME:
    if (n < 5)
      return SP_MORE;
    alen = b[4];
    off = 5;
    break;
  default:
    return SP_EATYP;
  }
  if (n < off + alen + 2)
    return SP_MORE;
  if (r->cmd != SP_CMD_CONNECT && r->cmd != SP_CMD_UDP_ASSOCIATE)
    return SP_ECMD;
  if (r->atyp == SP_ATYP_NAME) {
    if (!valid_hostname((const char *)b + off, alen))
      return SP_EHOST;
    memcpy(r->host, b + off, alen);
    r->host[alen] = '\0';
  } else {
    memcpy(r->addr, b + off, alen);
  }
  r->port = (uint16_t)((b[off + alen] << 8) | b[off + alen + 1]);
  if (r->port == 0 && r->cmd == SP_CMD_CONNECT)
    return SP_EPORT;
  return (int)(off + alen + 2);
}

size_t sp_socks5_reply(uint8_t out[10], uint8_t rep, uint32_t addr,
                       uint16_t port) {
  out[0] = 5;
  out[1] = rep;
  out[2] = 0;
  out[3] = SP_ATYP_IPV4;
  memcpy(out + 4, &addr, 4);
  out[8] = (uint8_t)(port >> 8);
  out[9] = (uint8_t)port;
  return 10;
}

int sp_socks5_udp_header(const uint8_t *b, size_t n, sp_request_t *r) {
  uint8_t req[4 + 1 + SP_NAME_MAX + 2];
  size_t len = n < sizeof(req) ? n : sizeof(req);
  int rc;
  if (n < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0)
    return SP_EMALFORMED;
  /* the same address block as a CONNECT request */
  memcpy(req, b, len);
  req[0] = 5;
  req[1] = SP_CMD_CONNECT;
  req[2] = 0;
  rc = sp_socks5_request(req, len, r);
  r->cmd = SP_CMD_UDP_ASSOCIATE;
  return rc == SP_MORE ? SP_EMALFORMED : rc;
}

size_t sp_socks5_reply6(uint8_t out[22], uint8_t rep, const uint8_t addr[16],
                        uint16_t port) {
  out[0] = 5;
  out[1] = rep;
  out[2] = 0;
  out[3] = SP_ATYP_IPV6;
  memcpy(out + 4, addr, 16);
  out[20] = (uint8_t)(port >> 8);
  out[21] = (uint8_t)port;
  return 22;
}

size_t sp_socks5_udp_build6(uint8_t out[22], const uint8_t addr[16],
                            uint16_t port) {
  sp_socks5_reply6(out, 0, addr, port);
  out[0] = 0;
  return 22;
}

size_t sp_socks5_udp_build(uint8_t out[10], uint32_t addr, uint16_t port) {
  sp_socks5_reply(out, 0, addr, port);
  out[0] = 0;
  return 10;
}

uint8_t sp_socks5_rep_for(int err) {
  switch (err) {
  case SP_ECMD:
    return SP_REP_CMD_UNSUPPORTED;
  case SP_EATYP:
    return SP_REP_ATYP_UNSUPPORTED;
  case SP_EHOST:
    return SP_REP_HOST_UNREACH;
  default:
    return SP_REP_FAILURE;
  }
}

/* ---- HTTP CONNECT ---- */

static int b64val(int ch) {
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+')
    return 62;
  if (ch == '/')
    return 63;
  return -1;
}

/* Base64 (with optional padding) into out; returns the length or -1. */
static int b64dec(const char *s, size_t n, char *out, size_t cap) {
  uint32_t acc = 0;
  int bits = 0;
  size_t i, o = 0;
  while (n > 0 && s[n - 1] == '=')
    n--;
  for (i = 0; i < n; i++) {
    int v = b64val((unsigned char)s[i]);
    if (v < 0)
      return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= cap)
        return -1;
      out[o++] = (char)((acc >> bits) & 0xff);
    }
  }
  return (int)o;
}

/* Proxy-Authorization: Basic <b64(user:pass)> */
static int http_basic(const char *v, size_t n, sp_request_t *r) {
  char dec[512];
  const char *colon;
  int len;
  while (n > 0 && (*v == ' ' || *v == '\t'))
    v++, n--;
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  if (n < 6 || strncasecmp(v, "Basic ", 6) != 0)
    return SP_EAUTH;
  v += 6;
  n -= 6;
  while (n > 0 && *v == ' ')
    v++, n--;
  len = b64dec(v, n, dec, sizeof(dec));
  if (len <= 0 || memchr(dec, 0, (size_t)len))
    return SP_EAUTH;
  colon = memchr(dec, ':', (size_t)len);
  if (colon == NULL || colon == dec || (size_t)(colon - dec) >= 256 ||
      (size_t)(dec + len - colon - 1) >= 256)
    return SP_EAUTH;
  memcpy(r->user, dec, (size_t)(colon - dec));
  r->user[colon - dec] = '\0';
  memcpy(r->pass, colon + 1, (size_t)(dec + len - colon - 1));
  r->pass[dec + len - colon - 1] = '\0';
  r->has_auth = 1;
  return 0;
}

static int parse_port(const char *s, size_t n, uint16_t *port) {
  unsigned v = 0;
  size_t i;
  if (n == 0 || n > 5)
    return SP_EPORT;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return SP_EPORT;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v == 0 || v > 65535)
    return SP_EPORT;
  *port = (uint16_t)v;
  return 0;
}

/* "host:port", "1.2.3.4:port" or "[v6]:port" */
static int http_target(const char *t, size_t n, sp_request_t *r) {
  const char *colon;
  char tmp[SP_NAME_MAX + 1];
  size_t hl;
  if (n > 0 && t[0] == '[') {
    const char *end = memchr(t, ']', n);
    if (end == NULL || end + 1 >= t + n || end[1] != ':' ||
        (size_t)(end - t - 1) >= sizeof(tmp))
      return SP_EHOST;
    memcpy(tmp, t + 1, (size_t)(end - t - 1));
    tmp[end - t - 1] = '\0';
    if (inet_pton(AF_INET6, tmp, r->addr) != 1)
      return SP_EHOST;
    r->atyp = SP_ATYP_IPV6;
    return parse_port(end + 2, (size_t)(t + n - end - 2), &r->port);
  }
  colon = NULL;
  for (hl = n; hl > 0; hl--)
    if (t[hl - 1] == ':') {
      colon = t + hl - 1;
      break;
    }
  if (colon == NULL)
    return SP_EPORT;
  hl = (size_t)(colon - t);
  if (hl == 0 || hl > SP_NAME_MAX)
    return SP_EHOST;
  memcpy(tmp, t, hl);
  tmp[hl] = '\0';
  if (inet_pton(AF_INET, tmp, r->addr) == 1) {
    r->atyp = SP_ATYP_IPV4;
  } else {
    if (!valid_hostname(tmp, hl))
      return SP_EHOST;
    memcpy(r->host, tmp, hl + 1);
    r->atyp = SP_ATYP_NAME;
  }
  return parse_port(colon + 1, (size_t)(t + n - colon - 1), &r->port);
}

int sp_http_connect(const uint8_t *b, size_t n, sp_request_t *r) {
  const char *s = (const char *)b, *end = NULL, *line, *sp1, *sp2, *eol;
  size_t i;
  int rc;
  memset(r, 0, sizeof(*r));
  /* an early verdict on the method, before the whole header is in */
  for (i = 0; i < n && i < 8; i++)
    if (s[i] != "CONNECT "[i])
      return SP_EVERSION;
  for (i = 0; i + 3 < n; i++)
    if (memcmp(s + i, "\r\n\r\n", 4) == 0) {
      end = s + i + 4;
      break;
    }
  if (end == NULL)
    return n >= SP_HTTP_MAX ? SP_ETOOLONG : SP_MORE;
  if ((size_t)(end - s) > SP_HTTP_MAX)
    return SP_ETOOLONG;
  eol = memchr(s, '\r', (size_t)(end - s));
  sp1 = s + 7;
  sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
  if (sp2 == NULL || eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
      (sp2[8] != '0' && sp2[8] != '1'))
    return SP_EMALFORMED;
  rc = http_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), r);
  if (rc != 0)
    return rc;
  r->cmd = SP_CMD_CONNECT;
  for (line = eol + 2; line < end - 2; line = eol + 2) {
    const char *colon;
    eol = memchr(line, '\r', (size_t)(end - line));
    if (eol == NULL || eol[1] != '\n')
      return SP_EMALFORMED;
    colon = memchr(line, ':', (size_t)(eol - line));
    if (colon == NULL)
      return SP_EMALFORMED;
    if (colon - line == 19 &&
        strncasecmp(line, "Proxy-Authorization", 19) == 0) {
      rc = http_basic(colon + 1, (size_t)(eol - colon - 1), r);
      if (rc != 0)
        return rc;
    }
  }
  return (int)(end - s);
}

/* ---- --auth FILE ---- */

/* Compares without an early exit on the first differing byte. */
static int same(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b), i;
  unsigned diff = (unsigned)(alen ^ blen);
  for (i = 0; i < alen; i++)
    diff |= (unsigned)(unsigned char)a[i] ^
            (unsigned)(unsigned char)(i < blen ? b[i] : 0);
  return diff == 0;
}

/* Calls fn for each "user:password" line; stops at the first bad line and
 * returns -(its number), else 0 (or fn's first non-zero result). */
static int auth_lines(const char *t, const char *user, const char *pass) {
  int lineno = 0, found = 0;
  while (*t != '\0') {
    const char *eol = strchr(t, '\n'), *colon;
    size_t len = eol ? (size_t)(eol - t) : strlen(t);
    lineno++;
    if (len > 0 && t[len - 1] == '\r')
      len--;
    if (len > 0 && t[0] != '#') {
      colon = memchr(t, ':', len);
      if (colon == NULL || colon == t)
        return -lineno;
      if (user != NULL &&
          same(t, (size_t)(colon - t), user) &
              same(colon + 1, len - (size_t)(colon - t) - 1, pass))
        found = 1;
    }
    if (eol == NULL)
      break;
    t = eol + 1;
  }
  return found;
}

int sp_auth_check(const char *file_text, const char *user, const char *pass) {
  return auth_lines(file_text, user, pass) == 1;
}

int sp_auth_validate(const char *file_text) {
  int rc = auth_lines(file_text, NULL, NULL);
  return rc < 0 ? rc : 0;
}

/* ---- DNS (RFC 1035), just enough for one A lookup ---- */

int sp_dns_query(uint8_t *out, size_t cap, uint16_t id, const char *name) {
  return sp_dns_query_type(out, cap, id, name, SP_DNS_A);
}

int sp_dns_query_type(uint8_t *out, size_t cap, uint16_t id, const char *name,
                      unsigned qtype) {
  size_t nlen = strlen(name), o = 12;
  const char *label = name;
  if (!valid_hostname(name, nlen) || cap < 12 + nlen + 2 + 4)
    return -1;
  memset(out, 0, 12);
  out[0] = (uint8_t)(id >> 8);
  out[1] = (uint8_t)id;
  out[2] = 0x01; /* RD */
  out[5] = 1;    /* QDCOUNT */
  while (*label != '\0') {
    const char *dot = strchr(label, '.');
    size_t l = dot ? (size_t)(dot - label) : strlen(label);
    out[o++] = (uint8_t)l;
    memcpy(out + o, label, l);
    o += l;
    label += l + (dot ? 1 : 0);
  }
  out[o++] = 0;
  out[o++] = (uint8_t)(qtype >> 8); /* QTYPE */
  out[o++] = (uint8_t)qtype;
  out[o++] = 0; /* QCLASS IN */
  out[o++] = 1;
  return (int)o;
}

/* Skips a (possibly compressed) name at *off; -1 when malformed. */
static int skip_name(const uint8_t *b, size_t n, size_t *off) {
  size_t o = *off;
  int hops = 0;
  while (o < n) {
    uint8_t l = b[o];
    if ((l & 0xc0) == 0xc0) {
      if (o + 2 > n)
        return -1;
      *off = o + 2;
      return 0;
    }
    if (l & 0xc0)
      return -1;
    if (l == 0) {
      *off = o + 1;
      return 0;
    }
    o += 1u + l;
    if (++hops > 128)
      return -1;
  }
  return -1;
}

/* The first record of `type` (with `rdlen` bytes) in an answer to id. */
static int dns_answer_rr(const uint8_t *b, size_t n, uint16_t id,
                         unsigned want, unsigned want_len, uint8_t *addr) {
  size_t off = 12;
  unsigned qd, an, i;
  if (n < 12 || ((b[0] << 8) | b[1]) != id || !(b[2] & 0x80))
    return -1;
  qd = (unsigned)((b[4] << 8) | b[5]);
  an = (unsigned)((b[6] << 8) | b[7]);
  if ((b[3] & 0x0f) != 0) /* RCODE: NXDOMAIN, SERVFAIL, ... */
    return 0;
  for (i = 0; i < qd; i++) {
    if (skip_name(b, n, &off) != 0 || off + 4 > n)
      return -1;
    off += 4;
  }
  for (i = 0; i < an; i++) {
    unsigned type, cls, rdlen;
    if (skip_name(b, n, &off) != 0 || off + 10 > n)
      return -1;
    type = (unsigned)((b[off] << 8) | b[off + 1]);
    cls = (unsigned)((b[off + 2] << 8) | b[off + 3]);
    rdlen = (unsigned)((b[off + 8] << 8) | b[off + 9]);
    off += 10;
    if (off + rdlen > n)
      return -1;
    if (type == want && cls == 1 && rdlen == want_len) {
      memcpy(addr, b + off, want_len);
      return 1;
    }
    off += rdlen;
  }
  return 0;
}

int sp_dns_answer(const uint8_t *b, size_t n, uint16_t id, uint32_t *addr) {
  return dns_answer_rr(b, n, id, SP_DNS_A, 4, (uint8_t *)addr);
}

int sp_dns_answer6(const uint8_t *b, size_t n, uint16_t id, uint8_t addr[16]) {
  return dns_answer_rr(b, n, id, SP_DNS_AAAA, 16, addr);
}

/* ---- ICMP destination unreachable about a TCP segment ---- */

static uint8_t unreach4_rep(uint8_t code) {
  switch (code) {
  case 0:  /* net unreachable */
  case 6:  /* destination network unknown */
  case 11: /* network unreachable for TOS */
    return SP_REP_NET_UNREACH;
  case 2: /* protocol unreachable */
  case 3: /* port unreachable */
    return SP_REP_REFUSED;
  case 9:  /* network administratively prohibited */
  case 10: /* host administratively prohibited */
  case 13: /* communication administratively prohibited */
    return SP_REP_NOT_ALLOWED;
  default:
    return SP_REP_HOST_UNREACH;
  }
}

static uint8_t unreach6_rep(uint8_t code) {
  switch (code) {
  case 0: /* no route to destination */
    return SP_REP_NET_UNREACH;
  case 1: /* administratively prohibited */
  case 5: /* source address failed ingress/egress policy */
  case 6: /* reject route to destination */
    return SP_REP_NOT_ALLOWED;
  case 4: /* port unreachable */
    return SP_REP_REFUSED;
  default:
    return SP_REP_HOST_UNREACH;
  }
}

uint8_t sp_icmp_unreach(const uint8_t *pkt, size_t len, sp_unreach_t *u) {
  const uint8_t *q;
  size_t hl, qhl, qlen;
  uint8_t rep;
  memset(u, 0, sizeof(*u));
  if (len < 1)
    return 0;
  if ((pkt[0] >> 4) == 4) {
    hl = (size_t)(pkt[0] & 0x0f) * 4;
    /* ICMP (1), not a fragment, room for type, code and the quote */
    if (hl < 20 || len < hl + 8 || pkt[9] != 1 || (pkt[6] & 0x3f) != 0 ||
        pkt[7] != 0 || pkt[hl] != 3)
      return 0;
    rep = unreach4_rep(pkt[hl + 1]);
    q = pkt + hl + 8;
    qlen = len - hl - 8;
    if (qlen < 20 || (q[0] >> 4) != 4 || q[9] != 6)
      return 0;
    qhl = (size_t)(q[0] & 0x0f) * 4;
    if (qhl < 20 || qlen < qhl + 4)
      return 0;
    u->family = 4;
    memcpy(u->src, q + 12, 4);
    memcpy(u->dst, q + 16, 4);
  } else if ((pkt[0] >> 4) == 6) {
    /* ICMPv6 (58) right after the fixed header: no extension headers */
    if (len < 40 + 8 || pkt[6] != 58 || pkt[40] != 1)
      return 0;
    rep = unreach6_rep(pkt[41]);
    q = pkt + 48;
    qlen = len - 48;
    if (qlen < 40 + 4 || (q[0] >> 4) != 6 || q[6] != 6)
      return 0;
    qhl = 40;
    u->family = 6;
    memcpy(u->src, q + 8, 16);
    memcpy(u->dst, q + 24, 16);
  } else {
    return 0;
  }
  u->sport = (uint16_t)((q[qhl] << 8) | q[qhl + 1]);
  u->dport = (uint16_t)((q[qhl + 2] << 8) | q[qhl + 3]);
  return rep;
}
