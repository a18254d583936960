/* The filter hook: allow/deny rules by protocol, port and prefix. */
#include "hooks/chain.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define PROTO_ANY (-1)
#define PROTO_ICMP_ANY (-2)

void lvpn__filter_init(lvpn__filter_t *f) {
  memset(f, 0, sizeof(*f));
  f->default_allow = 1;
}

static int parse_num(const char *s, long lo, long hi, long *out) {
  char *end;
  long v;
  if (*s < '0' || *s > '9')
    return -1;
  v = strtol(s, &end, 10);
  if (*end != '\0' || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

static int parse_ports(const char *s, lvpn__filter_rule_t *r) {
  char buf[16];
  const char *dash = strchr(s, '-');
  long lo, hi;
  if (dash == NULL) {
    if (parse_num(s, 0, 65535, &lo) != 0)
      return -1;
    hi = lo;
  } else {
    size_t n = (size_t)(dash - s);
    if (n == 0 || n >= sizeof(buf))
      return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (parse_num(buf, 0, 65535, &lo) != 0 ||
        parse_num(dash + 1, 0, 65535, &hi) != 0 || hi < lo)
      return -1;
  }
  r->port_lo = (int)lo;
  r->port_hi = (int)hi;
  return 0;
}

static int parse_net(const char *s, lvpn__filter_rule_t *r) {
  char buf[64];
  const char *slash = strchr(s, '/');
  size_t n = slash ? (size_t)(slash - s) : strlen(s);
  long bits;
  if (n == 0 || n >= sizeof(buf))
    return -1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  memset(r->net, 0, sizeof(r->net));
  if (inet_pton(AF_INET, buf, r->net) == 1)
    r->family = 4;
  else if (inet_pton(AF_INET6, buf, r->net) == 1)
    r->family = 6;
  else
    return -1;
  bits = r->family == 4 ? 32 : 128;
  if (slash != NULL && parse_num(slash + 1, 0, bits, &bits) != 0)
    return -1;
  r->bits = (int)bits;
  return 0;
}

int lvpn__filter_add(lvpn__filter_t *f, const char *rule, char *err,
                     size_t errlen) {
  char line[256], *save = NULL, *w;
  lvpn__filter_rule_t r;
  int n_words = 0, have_proto = 0;

  if (rule == NULL || strlen(rule) >= sizeof(line)) {
    snprintf(err, errlen, "filter rule too long");
    return LVPN_EINVAL;
  }
  snprintf(line, sizeof(line), "%s", rule);
  memset(&r, 0, sizeof(r));
  r.proto = PROTO_ANY;
  r.port_lo = r.port_hi = -1;
  w = strtok_r(line, " \t", &save);
  if (w != NULL && strcmp(w, "default") == 0) {
    w = strtok_r(NULL, " \t", &save);
    if (w == NULL || (strcmp(w, "allow") != 0 && strcmp(w, "deny") != 0) ||
        strtok_r(NULL, " \t", &save) != NULL) {
      snprintf(err, errlen, "filter rule '%s': say 'default allow' or "
               "'default deny'", rule);
      return LVPN_EINVAL;
    }
    f->default_allow = strcmp(w, "allow") == 0;
    return 0;
  }
  if (w == NULL || (strcmp(w, "allow") != 0 && strcmp(w, "deny") != 0)) {
    snprintf(err, errlen, "filter rule '%s' must start with allow, deny or "
             "default", rule);
    return LVPN_EINVAL;
  }
  r.allow = strcmp(w, "allow") == 0;
  while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
    const char *bad = NULL;
    long v;
    n_words++;
    if (!have_proto && (strcmp(w, "icmp") == 0 || strcmp(w, "icmp4") == 0 ||
                        strcmp(w, "icmp6") == 0 || strcmp(w, "tcp") == 0 ||
                        strcmp(w, "udp") == 0 || strcmp(w, "all") == 0)) {
      r.proto = strcmp(w, "icmp") == 0    ? PROTO_ICMP_ANY
                : strcmp(w, "icmp4") == 0 ? 1
                : strcmp(w, "icmp6") == 0 ? 58
                : strcmp(w, "tcp") == 0   ? 6
                : strcmp(w, "udp") == 0   ? 17
                                          : PROTO_ANY;
      have_proto = 1;
    } else if (!have_proto && strcmp(w, "proto") == 0) {
      w = strtok_r(NULL, " \t", &save);
      if (w == NULL || parse_num(w, 0, 255, &v) != 0)
        bad = "'proto' needs a number 0-255";
      else
        r.proto = (int)v;
      have_proto = 1;
    } else if (strcmp(w, "port") == 0 && r.port_lo < 0) {
      w = strtok_r(NULL, " \t", &save);
      if (w == NULL || parse_ports(w, &r) != 0)
        bad = "'port' needs P or P-Q (0-65535)";
    } else if (strcmp(w, "net") == 0 && r.family == 0) {
      w = strtok_r(NULL, " \t", &save);
      if (w == NULL || parse_net(w, &r) != 0)
        bad = "'net' needs an IPv4 or IPv6 address with an optional /BITS";
    } else {
      bad = "unknown or repeated word";
    }
    if (bad != NULL) {
      snprintf(err, errlen, "filter rule '%s': %s%s%s%s", rule, bad,
               w ? " (at '" : "", w ? w : "", w ? "')" : "");
      return LVPN_EINVAL;
    }
  }
  if (r.port_lo >= 0 && r.proto != PROTO_ANY && r.proto != 6 && r.proto != 17) {
    snprintf(err, errlen, "filter rule '%s': 'port' needs tcp or udp", rule);
    return LVPN_EINVAL;
  }
  if (f->n == LVPN__FILTER_MAX_RULES) {
    snprintf(err, errlen, "too many filter rules (at most %d)",
             LVPN__FILTER_MAX_RULES);
    return LVPN_EINVAL;
  }
  (void)n_words;
  f->rules[f->n++] = r;
  return 0;
}

static int prefix_match(const uint8_t *a, const uint8_t *net, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (memcmp(a, net, (size_t)full) != 0)
    return 0;
  if (rest == 0)
    return 1;
  return ((a[full] ^ net[full]) & (uint8_t)(0xFF << (8 - rest))) == 0;
}

/* The packet's family, protocol, addresses and ports (-1: none). */
typedef struct {
  int family, proto, sport, dport;
  const uint8_t *src, *dst;
} pkt_info_t;

static int pkt_parse(const uint8_t *p, size_t len, pkt_info_t *pi) {
  size_t off;
  int first_fragment = 1;
  pi->sport = pi->dport = -1;
  if (len < 1)
    return -1;
  if (p[0] >> 4 == 4) {
    if (len < 20 || (size_t)(p[0] & 0x0F) * 4 < 20 ||
        (size_t)(p[0] & 0x0F) * 4 > len)
      return -1;
    pi->family = 4;
    pi->proto = p[9];
    pi->src = p + 12;
    pi->dst = p + 16;
    off = (size_t)(p[0] & 0x0F) * 4;
    first_fragment = ((p[6] & 0x1F) | p[7]) == 0;
  } else if (p[0] >> 4 == 6) {
    int nh, hops;
    if (len < 40)
      return -1;
    pi->family = 6;
    pi->src = p + 8;
    pi->dst = p + 24;
    nh = p[6];
    off = 40;
    /* extension headers: hop-by-hop, routing, fragment, destination */
    for (hops = 0; hops < 8 && (nh == 0 || nh == 43 || nh == 44 || nh == 60);
         hops++) {
      if (off + 8 > len)
        return -1;
      if (nh == 44) {
        first_fragment = ((p[off + 2] << 8 | p[off + 3]) & 0xFFF8) == 0;
        nh = p[off];
        off += 8;
      } else {
        size_t l = ((size_t)p[off + 1] + 1) * 8;
        nh = p[off];
        off += l;
      }
    }
    pi->proto = nh;
  } else {
    return -1;
  }
  if ((pi->proto == 6 || pi->proto == 17) && first_fragment &&
      off + 4 <= len) {
    pi->sport = p[off] << 8 | p[off + 1];
    pi->dport = p[off + 2] << 8 | p[off + 3];
  }
  return 0;
}

static int rule_match(const lvpn__filter_rule_t *r, const pkt_info_t *pi) {
  if (r->proto == PROTO_ICMP_ANY) {
    if (pi->proto != (pi->family == 4 ? 1 : 58))
      return 0;
  } else if (r->proto != PROTO_ANY && r->proto != pi->proto) {
    return 0;
  }
  if (r->port_lo >= 0 &&
      !(pi->sport >= r->port_lo && pi->sport <= r->port_hi) &&
      !(pi->dport >= r->port_lo && pi->dport <= r->port_hi))
    return 0;
  if (r->family != 0 &&
      (r->family != pi->family || (!prefix_match(pi->src, r->net, r->bits) &&
                                   !prefix_match(pi->dst, r->net, r->bits))))
    return 0;
  return 1;
}

int lvpn__filter_match(const lvpn__filter_t *f, const uint8_t *pkt,
                       size_t len) {
  pkt_info_t pi;
  size_t i;
  if (pkt_parse(pkt, len, &pi) != 0)
    return f->default_allow;
  for (i = 0; i < f->n; i++)
    if (rule_match(&f->rules[i], &pi))
      return f->rules[i].allow;
  return f->default_allow;
}

static int filter_packet(void *ud, lvpn_client_t *c, lvpn_inside_dir_t dir,
                         lvpn_inside_pkt_t *pkt) {
  (void)c;
  (void)dir;
  return lvpn__filter_match(ud, pkt->data, pkt->len) ? LVPN_HOOK_PASS
                                                     : LVPN_HOOK_DROP;
}

static void filter_removed(void *ud) { free(ud); }

int lvpn_client_add_inside_filter(lvpn_client_t *c, const char *const *rules,
                                  size_t n, unsigned dirs, char *err,
                                  size_t errlen, lvpn_hook_id_t *out) {
  lvpn_inside_hook_t ops = {.name = "filter",
                            .dirs = dirs,
                            .packet = filter_packet,
                            .removed = filter_removed};
  lvpn__filter_t *f = malloc(sizeof(*f));
  size_t i;
  int rc;
  char dummy[1];
  if (err == NULL) {
    err = dummy;
    errlen = sizeof(dummy);
  }
  if (f == NULL)
    return LVPN_ENOMEM;
  lvpn__filter_init(f);
  for (i = 0; i < n; i++)
    if ((rc = lvpn__filter_add(f, rules[i], err, errlen)) != 0) {
      free(f);
      return rc;
    }
  rc = lvpn_client_add_inside_hook(c, &ops, f, out);
  if (rc != 0)
    free(f);
  return rc;
}

int lvpn_inside_filter_check(const char *rule, char *err, size_t errlen) {
  lvpn__filter_t f;
  char dummy[1];
  lvpn__filter_init(&f);
  if (err == NULL) {
    err = dummy;
    errlen = sizeof(dummy);
  }
  return lvpn__filter_add(&f, rule, err, errlen);
}
