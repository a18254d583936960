/* OpenVPN option syntax: word splitter and shared value parsers. */
#include "lib/ovpn_lex.h"

#include <mbedtls/platform_util.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int lex_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int lex_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err != NULL && errlen > 0) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* OpenVPN's space(): isspace() plus NUL. */
static bool is_space(char c) { return c == '\0' || isspace((unsigned char)c); }

enum { ST_INITIAL, ST_UNQUOTED, ST_DQUOTED, ST_SQUOTED };

/* Same state machine as OpenVPN's parse_line(). The write position never
 * passes the read position (a word's terminator replaces at least the
 * character that ended it), so the split can happen in place. */
int lvpn__lex_split(char *line, char **words, char *err, size_t errlen) {
  const char *r = line;
  char *w = line, *start = NULL;
  int state = ST_INITIAL, n = 0;
  bool backslash = false;
  char in, out;

  for (;; r++) {
    in = *r; /* read before any write: the terminator may land on *r */
    out = 0;
    if (!backslash && in == '\\' && state != ST_SQUOTED) {
      backslash = true;
      continue;
    }
    if (state == ST_INITIAL) {
      if (!is_space(in)) {
        if (in == ';' || in == '#')
          break; /* comment (also after a backslash, as OpenVPN) */
        if (n >= LVPN__LEX_MAX_WORDS)
          return lex_err(err, errlen, "too many words on one line (max %d)",
                         LVPN__LEX_MAX_WORDS);
        start = w;
        if (!backslash && in == '"') {
          state = ST_DQUOTED;
        } else if (!backslash && in == '\'') {
          state = ST_SQUOTED;
        } else {
          out = in;
          state = ST_UNQUOTED;
        }
      }
    } else if (state == ST_UNQUOTED) {
      if (!backslash && is_space(in))
        state = ST_INITIAL;
      else
        out = in;
    } else if (state == ST_DQUOTED) {
      if (!backslash && in == '"')
        state = ST_INITIAL;
      else if (in != '\0')
        out = in;
    } else { /* ST_SQUOTED */
      if (in == '\'')
        state = ST_INITIAL;
      else if (in != '\0')
        out = in;
    }
    if (backslash && out != 0 && out != '\\' && out != '"' && !is_space(out))
      return lex_err(err, errlen,
                     "bad backslash ('\\') usage: write '\\\\' for a "
                     "backslash");
    if (backslash && in == '\0')
      return lex_err(err, errlen, "backslash at the end of the line");
    backslash = false;
    if (out != 0)
      *w++ = out;
    if (state == ST_INITIAL && start != NULL) {
      *w++ = '\0';
      words[n++] = start;
      start = NULL;
    }
    if (in == '\0')
      break;
  }

  if (state == ST_DQUOTED)
    return lex_err(err, errlen, "no closing quotation (\")");
  if (state == ST_SQUOTED)
    return lex_err(err, errlen, "no closing single quotation (')");
  words[n] = NULL;
  return n;
}

void lvpn__lex_reader_init(lvpn__lex_reader_t *r, char *buf, size_t len) {
  memset(r, 0, sizeof(*r));
  r->buf = buf;
  r->len = len;
  r->next_line = 1;
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 BOM */
    r->pos = 3;
}

/* Consumes one physical line; returns its start, sets *end. */
static size_t reader_line(lvpn__lex_reader_t *r, size_t *end) {
  size_t start = r->pos;
  const char *nl = memchr(r->buf + start, '\n', r->len - start);
  *end = nl != NULL ? (size_t)(nl - r->buf) : r->len;
  r->pos = nl != NULL ? *end + 1 : r->len;
  r->next_line++;
  return start;
}

static int reader_block(lvpn__lex_reader_t *r, char *tag, const char **inl,
                        size_t *inl_len, char *err, size_t errlen) {
  char close[80];
  size_t cstart = r->pos, s, e, t;

  if (strlen(tag) > 64)
    return lex_err(err, errlen, "inline tag too long");
  snprintf(close, sizeof(close), "</%s>", tag);
  while (r->pos < r->len) {
    s = reader_line(r, &e);
    for (t = s; t < e && isspace((unsigned char)r->buf[t]); t++)
      ;
    if (e - t >= strlen(close) &&
        memcmp(r->buf + t, close, strlen(close)) == 0) {
      if (memchr(r->buf + cstart, '\0', s - cstart) != NULL)
        return lex_err(err, errlen, "NUL byte in <%s> block", tag);
      *inl = r->buf + cstart;
      *inl_len = s - cstart;
      return 1;
    }
  }
  return lex_err(err, errlen, "no closing tag %s", close);
}

int lvpn__lex_next(lvpn__lex_reader_t *r, char **words, const char **inl,
                   size_t *inl_len, char *err, size_t errlen) {
  size_t start, end, wl;
  int n;

  *inl = NULL;
  *inl_len = 0;
  for (;;) {
    if (r->pos >= r->len)
      return 0;
    r->line = r->next_line;
    start = reader_line(r, &end);
    if (end - start > LVPN__LEX_MAX_LINE)
      return lex_err(err, errlen, "line too long (max %d bytes)",
                     LVPN__LEX_MAX_LINE);
    if (memchr(r->buf + start, '\0', end - start) != NULL)
      return lex_err(err, errlen, "NUL byte in line (binary file?)");
    r->buf[end] = '\0';
    n = lvpn__lex_split(r->buf + start, words, err, errlen);
    if (n != 0)
      break;
  }
  if (n == 1 && words[0][0] == '<' && (wl = strlen(words[0])) > 2 &&
      words[0][wl - 1] == '>') {
    if (words[0][1] == '/')
      return lex_err(err, errlen, "'%s' without an opening tag", words[0]);
    words[0][wl - 1] = '\0';
    words[0]++;
    if (reader_block(r, words[0], inl, inl_len, err, errlen) < 0)
      return -1;
  }
  return n;
}

int lvpn__lex_slurp(const char *path, size_t max, char **out, size_t *len) {
  struct stat st;
  char *buf;
  size_t got = 0;
  ssize_t rd = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC), e;

  if (fd < 0)
    return errno;
  if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    e = S_ISDIR(st.st_mode) ? EISDIR : errno;
    close(fd);
    return e;
  }
  if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
    close(fd);
    return EFBIG;
  }
  /* Size from fstat for regular files; grow for pipes and the like. */
  size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
  if ((buf = malloc(cap + 1)) == NULL) {
    close(fd);
    return ENOMEM;
  }
  for (;;) {
    if (got == cap) {
      char *nb;
      if (cap > max) {
        rd = -1;
        errno = EFBIG;
        break;
      }
      cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      if ((nb = malloc(cap + 1)) == NULL) {
        rd = -1;
        errno = ENOMEM;
        break;
      }
      memcpy(nb, buf, got);
      mbedtls_platform_zeroize(buf, got);
      free(buf);
      buf = nb;
    }
    rd = read(fd, buf + got, cap - got);
    if (rd < 0 && errno == EINTR)
      continue;
    if (rd <= 0)
      break;
    got += (size_t)rd;
  }
  e = rd < 0 ? errno : got > max ? EFBIG : 0;
  close(fd);
  if (e != 0) {
    mbedtls_platform_zeroize(buf, got);
    free(buf);
    return e;
  }
  buf[got] = '\0';
  *out = buf;
  *len = got;
  return 0;
}

int lvpn__lex_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  uint64_t v = 0;
  const char *c;
  if (s == NULL || *s == '\0' || strlen(s) > 20)
    return -1;
  for (c = s; *c != '\0'; c++) {
    if (*c < '0' || *c > '9')
      return -1;
    if (v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
      return -1;
    v = v * 10 + (uint64_t)(*c - '0');
  }
  if (v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

int lvpn__lex_int(const char *s, long lo, long hi, long *out) {
  uint64_t v;
  bool neg = s != NULL && s[0] == '-';
  if (lvpn__lex_uint(neg ? s + 1 : s, 0, (uint64_t)LONG_MAX, &v) != 0)
    return -1;
  if ((neg ? -(long)v : (long)v) < lo || (neg ? -(long)v : (long)v) > hi)
    return -1;
  *out = neg ? -(long)v : (long)v;
  return 0;
}

int lvpn__lex_ipv4(const char *s, struct in_addr *out) {
  return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
}

int lvpn__lex_ipv6(const char *s, struct in6_addr *out, unsigned *bits) {
  char tmp[INET6_ADDRSTRLEN + 8];
  const char *slash = strchr(s, '/');
  size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
  uint64_t b = 128;

  if (alen == 0 || alen >= sizeof(tmp))
    return -1;
  memcpy(tmp, s, alen);
  tmp[alen] = '\0';
  if (slash != NULL && lvpn__lex_uint(slash + 1, 0, 128, &b) != 0)
    return -1;
  if (inet_pton(AF_INET6, tmp, out) != 1)
    return -1;
  if (bits != NULL)
    *bits = (unsigned)b;
  else if (slash != NULL)
    return -1;
  return 0;
}

int lvpn__lex_keyword(const char *s, const char *const *names) {
  int i;
  for (i = 0; names[i] != NULL; i++)
    if (strcasecmp(s, names[i]) == 0)
      return i;
  return -1;
}

/* "default" (any case) means "not given", as OpenVPN's
 * is_route_parm_defined(). */
static bool route_parm_given(const char *s) {
  return s != NULL && strcasecmp(s, "default") != 0;
}

static int route_special(const char *s) {
  if (strcmp(s, "vpn_gateway") == 0)
    return LVPN__GW_VPN;
  if (strcmp(s, "net_gateway") == 0)
    return LVPN__GW_NET;
  if (strcmp(s, "remote_host") == 0)
    return LVPN__GW_REMOTE;
  return -1;
}

static int route_metric(const char *s, bool *has, uint32_t *metric, char *err,
                        size_t errlen) {
  uint64_t v;
  if (!route_parm_given(s))
    return 0;
  if (lvpn__lex_uint(s, 0, INT32_MAX, &v) != 0)
    return lex_err(err, errlen, "bad metric '%s'", s);
  *has = true;
  *metric = (uint32_t)v;
  return 0;
}

int lvpn__route4_parse(char *const *args, int n, lvpn__route4_t *r, char *err,
                       size_t errlen) {
  int k;
  memset(r, 0, sizeof(*r));
  if (n < 1 || n > 4)
    return lex_err(err, errlen,
                   "needs 1 to 4 arguments (network [netmask "
                   "[gateway [metric]]])");
  /* The network may be a special keyword ("route remote_host
   * 255.255.255.255 net_gateway"); its address is only known at run time,
   * which the caller learns from net_kind. */
  k = route_special(args[0]);
  r->net_kind = (uint8_t)(k >= 0 ? k : LVPN__GW_ADDR);
  if (k < 0 && lvpn__lex_ipv4(args[0], &r->net) != 0)
    return lex_err(err, errlen, "bad network address '%s'", args[0]);
  r->mask.s_addr = htonl(0xFFFFFFFFu);
  if (n > 1 && route_parm_given(args[1]) &&
      lvpn__lex_ipv4(args[1], &r->mask) != 0)
    return lex_err(err, errlen, "bad netmask '%s'", args[1]);
  if (n > 2 && route_parm_given(args[2])) {
    k = route_special(args[2]);
    if (k >= 0)
      r->gw_kind = (uint8_t)k;
    else if (lvpn__lex_ipv4(args[2], &r->gateway) == 0)
      r->gw_kind = LVPN__GW_ADDR;
    else
      return lex_err(err, errlen, "bad gateway '%s'", args[2]);
  }
  if (n > 3)
    return route_metric(args[3], &r->has_metric, &r->metric, err, errlen);
  return 0;
}

bool lvpn__lex_is_hostname(const char *s) {
  size_t i, n = strlen(s);
  bool letter = false;
  if (n == 0 || n > 253 || route_special(s) >= 0 || !route_parm_given(s))
    return false;
  for (i = 0; i < n; i++) {
    char ch = s[i];
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
      letter = true;
    else if (!(ch >= '0' && ch <= '9') && ch != '-' && ch != '.' && ch != '_')
      return false;
  }
  return letter;
}

int lvpn__route6_parse(char *const *args, int n, lvpn__route6_t *r, char *err,
                       size_t errlen) {
  unsigned bits;
  memset(r, 0, sizeof(*r));
  if (n < 1 || n > 3)
    return lex_err(err, errlen,
                   "needs 1 to 3 arguments (network/bits [gateway [metric]])");
  if (lvpn__lex_ipv6(args[0], &r->net, &bits) != 0)
    return lex_err(err, errlen, "bad IPv6 network '%s'", args[0]);
  r->bits = (uint8_t)bits;
  if (n > 1 && route_parm_given(args[1])) {
    if (lvpn__lex_ipv6(args[1], &r->gateway, NULL) != 0)
      return lex_err(err, errlen, "bad IPv6 gateway '%s'", args[1]);
    r->has_gateway = true;
  }
  if (n > 2)
    return route_metric(args[2], &r->has_metric, &r->metric, err, errlen);
  return 0;
}

int lvpn__redirect_parse(char *const *args, int n, char *err, size_t errlen) {
  static const char *const names[] = {"def1",  "bypass-dhcp", "bypass-dns",
                                      "local", "autolocal",   "block-local",
                                      "ipv6",  "!ipv4",       NULL};
  static const int flags[] = {LVPN__RG_DEF1,       LVPN__RG_BYPASS_DHCP,
                              LVPN__RG_BYPASS_DNS, LVPN__RG_LOCAL,
                              LVPN__RG_AUTOLOCAL,  LVPN__RG_BLOCK_LOCAL,
                              LVPN__RG_IPV6,       LVPN__RG_NO_IPV4};
  int i, k, f = LVPN__RG_ENABLE;
  for (i = 0; i < n; i++) {
    k = lvpn__lex_keyword(args[i], names);
    if (k < 0)
      return lex_err(err, errlen, "unknown flag '%s'", args[i]);
    f |= flags[k];
  }
  return f;
}

/* OpenVPN's validate_domain(): no characters a shell or resolv.conf would
 * misread. */
static bool domain_ok(const char *s) {
  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++)
    if (!isalnum((unsigned char)*s) && strchr("-._", *s) == NULL)
      return false;
  return true;
}

int lvpn__dhcp_parse(char *const *args, int n, lvpn__dhcp_opt_t *o, char *err,
                     size_t errlen) {
  static const char *const names[] = {
      "",    "DNS",  "DNS6", "DOMAIN", "DOMAIN-SEARCH", "ADAPTER_DOMAIN_SUFFIX",
      "NTP", "WINS", "NBDD", "NBT",    "NBS",           "DISABLE-NBT",
      NULL};
  struct in_addr a4;
  struct in6_addr a6;
  uint64_t v;
  int t;

  memset(o, 0, sizeof(*o));
  if (n < 1 || n > 2)
    return lex_err(err, errlen, "needs a type and a value");
  if (strlen(args[0]) >= sizeof(o->name))
    return lex_err(err, errlen, "type '%.40s...' too long", args[0]);
  if (n == 2 && strlen(args[1]) >= sizeof(o->value))
    return lex_err(err, errlen, "%s value too long (max %d)", args[0],
                   LVPN__DHCP_VALUE_MAX - 1);
  t = lvpn__lex_keyword(args[0], names);
  if (t <= 0)
    t = LVPN__DHCP_OTHER;
  snprintf(o->name, sizeof(o->name), "%s", args[0]);
  if (n == 2)
    snprintf(o->value, sizeof(o->value), "%s", args[1]);
  o->type = (uint8_t)t;
  if (t == LVPN__DHCP_DISABLE_NBT || t == LVPN__DHCP_OTHER) {
    if (t == LVPN__DHCP_DISABLE_NBT && n != 1)
      return lex_err(err, errlen, "DISABLE-NBT takes no value");
    return 0;
  }
  if (n != 2)
    return lex_err(err, errlen, "%s needs a value", args[0]);
  switch (t) {
  case LVPN__DHCP_DNS:
    if (lvpn__lex_ipv4(args[1], &a4) == 0 ||
        lvpn__lex_ipv6(args[1], &a6, NULL) == 0)
      return 0;
    return lex_err(err, errlen, "DNS: bad address '%s'", args[1]);
  case LVPN__DHCP_DNS6:
    if (lvpn__lex_ipv6(args[1], &a6, NULL) == 0)
      return 0;
    return lex_err(err, errlen, "DNS6: bad IPv6 address '%s'", args[1]);
  case LVPN__DHCP_NTP:
  case LVPN__DHCP_WINS:
  case LVPN__DHCP_NBDD:
    if (lvpn__lex_ipv4(args[1], &a4) == 0)
      return 0;
    return lex_err(err, errlen, "%s: bad address '%s'", args[0], args[1]);
  case LVPN__DHCP_NBT:
    if (lvpn__lex_uint(args[1], 1, 8, &v) == 0 && (v & (v - 1)) == 0)
      return 0;
    return lex_err(err, errlen, "NBT must be 1, 2, 4 or 8, not '%s'", args[1]);
  case LVPN__DHCP_NBS:
    return 0;
  default: /* the domain kinds */
    if (domain_ok(args[1]))
      return 0;
    return lex_err(err, errlen, "%s '%s' contains invalid characters", args[0],
                   args[1]);
  }
}

int lvpn__comp_parse(bool lzo, char *const *args, int n, char *err,
                     size_t errlen) {
  static const char *const lzo_names[] = {"yes", "no", "adaptive", NULL};
  static const int lzo_vals[] = {LVPN__COMP_LZO, LVPN__COMP_LZO_NO,
                                 LVPN__COMP_LZO_ADAPTIVE};
  static const char *const names[] = {"stub", "stub-v2", "lzo",
                                      "lz4",  "lz4-v2",  NULL};
  static const int vals[] = {LVPN__COMP_STUB, LVPN__COMP_STUB_V2,
                             LVPN__COMP_LZO, LVPN__COMP_LZ4, LVPN__COMP_LZ4_V2};
  int k;
  if (n > 1)
    return lex_err(err, errlen, "takes at most one argument");
  if (n == 0) /* bare comp-lzo is "adaptive" in 2.6; bare compress is stub */
    return lzo ? LVPN__COMP_LZO_ADAPTIVE : LVPN__COMP_STUB;
  k = lvpn__lex_keyword(args[0], lzo ? lzo_names : names);
  if (k < 0)
    return lex_err(err, errlen, "unknown algorithm '%s'", args[0]);
  return lzo ? lzo_vals[k] : vals[k];
}

const char *lvpn__comp_name(int comp) {
  switch (comp) {
  case LVPN__COMP_NONE:
    return "none";
  case LVPN__COMP_LZO_NO:
    return "comp-lzo no";
  case LVPN__COMP_STUB:
    return "compress stub";
  case LVPN__COMP_STUB_V2:
    return "compress stub-v2";
  case LVPN__COMP_LZO:
    return "lzo";
  case LVPN__COMP_LZO_ADAPTIVE:
    return "lzo adaptive";
  case LVPN__COMP_LZ4:
    return "lz4";
  case LVPN__COMP_LZ4_V2:
    return "lz4-v2";
  default:
    return "unknown";
  }
}
