#include "lib/dns_opt.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/ovpn_lex.h"

static int dns_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int dns_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err != NULL && errlen > 0)
    vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return LVPN_ECONFIG;
}

bool lvpn__dns_domain_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= LVPN_DNS_DOMAIN_LEN)
    return false;
  for (; *s != '\0'; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
      return false;
  return true;
}

/* dns.c dns_server_addr_parse: one colon is IPv4 with a port; more are
 * IPv6, with a port only in the bracketed form. Numeric only. */
static int addr_parse(const char *s, lvpn_dns_addr_t *out) {
  char tmp[INET6_ADDRSTRLEN];
  const char *first = strchr(s, ':'), *last = strrchr(s, ':');
  const char *port = NULL;
  size_t alen = strlen(s);
  uint64_t v;

  memset(out, 0, sizeof(*out));
  if (first == NULL || first == last) {
    out->family = AF_INET;
    if (last != NULL) {
      alen = (size_t)(last - s);
      port = last + 1;
    }
  } else {
    out->family = AF_INET6;
    if (s[0] == '[') {
      if (last[-1] != ']' || last - 1 == s + 1)
        return -1;
      alen = (size_t)(last - 1 - (s + 1));
      s++;
      port = last + 1;
    }
  }
  if (alen == 0 || alen >= sizeof(tmp))
    return -1;
  memcpy(tmp, s, alen);
  tmp[alen] = '\0';
  if (port != NULL) {
    if (lvpn__lex_uint(port, 1, 65535, &v) != 0)
      return -1;
    out->port = (uint16_t)v;
  }
  return inet_pton(out->family, tmp, out->addr) == 1 ? 0 : -1;
}

const char *lvpn__dns_addr_str(const lvpn_dns_addr_t *a, char *buf,
                               size_t len) {
  char ip[INET6_ADDRSTRLEN] = "?";
  inet_ntop(a->family, a->addr, ip, sizeof(ip));
  if (a->port == 0 || a->port == 53)
    snprintf(buf, len, "%s", ip);
  else if (a->family == AF_INET6)
    snprintf(buf, len, "[%s]:%u", ip, a->port);
  else
    snprintf(buf, len, "%s:%u", ip, a->port);
  return buf;
}

/* dns.c dns_server_get: the server of priority `prio`, inserted in order
 * when new; NULL when the table is full. */
static lvpn_dns_server_t *server_get(lvpn_dns_t *d, int prio) {
  int i;
  for (i = 0; i < d->n_servers && d->servers[i].priority < prio; i++)
    ;
  if (i < d->n_servers && d->servers[i].priority == prio)
    return &d->servers[i];
  if (d->n_servers >= LVPN_DNS_MAX_SERVERS)
    return NULL;
  memmove(&d->servers[i + 1], &d->servers[i],
          (size_t)(d->n_servers - i) * sizeof(d->servers[0]));
  memset(&d->servers[i], 0, sizeof(d->servers[i]));
  d->servers[i].priority = prio;
  d->n_servers++;
  return &d->servers[i];
}

static int domains_add(char (*list)[LVPN_DNS_DOMAIN_LEN], int *n,
                       char *const *args, int count, const char *what,
                       char *err, size_t errlen) {
  int i;
  for (i = 0; i < count; i++) {
    if (!lvpn__dns_domain_ok(args[i]))
      return dns_err(err, errlen, "%s: '%.80s' is not a valid domain name",
                     what, args[i]);
    if (*n >= LVPN_DNS_MAX_DOMAINS)
      return dns_err(err, errlen, "%s: too many domains (max %d)", what,
                     LVPN_DNS_MAX_DOMAINS);
    snprintf(list[(*n)++], LVPN_DNS_DOMAIN_LEN, "%s", args[i]);
  }
  return 0;
}

int lvpn__dns_opt_parse(lvpn_dns_t *d, char *const *a, int n, bool pulled,
                        char *err, size_t errlen) {
  static const char *const sec[] = {"no", "yes", "optional", NULL};
  static const char *const tr[] = {"plain", "DoH", "DoT", NULL};
  lvpn_dns_server_t *sv;
  char what[32];
  long prio;
  int i, k;

  if (n >= 2 && strcmp(a[0], "search-domains") == 0)
    return domains_add(d->search_domains, &d->n_search_domains, a + 1, n - 1,
                       "dns search-domains", err, errlen);
  if (n >= 1 && strcmp(a[0], "server") == 0 && n < 4)
    return dns_err(err, errlen, "dns server: needs 'N SETTING VALUE...'");
  if (n < 1 || strcmp(a[0], "server") != 0)
    return dns_err(err, errlen,
                   "dns: unknown form '%.40s' (expected 'search-domains "
                   "DOMAIN...' or 'server N address|resolve-domains|dnssec|"
                   "transport|sni ...')",
                   n > 0 ? a[0] : "");
  if (lvpn__lex_int(a[1], pulled ? 0 : -128, 127, &prio) != 0)
    return dns_err(err, errlen,
                   "dns server: priority '%.40s' is not a number from %d to "
                   "127",
                   a[1], pulled ? 0 : -128);
  sv = server_get(d, (int)prio);
  if (sv == NULL)
    return dns_err(err, errlen, "dns server %ld: too many servers (max %d)",
                   prio, LVPN_DNS_MAX_SERVERS);
  snprintf(what, sizeof(what), "dns server %ld", prio);
  if (strcmp(a[2], "address") == 0) {
    for (i = 3; i < n; i++) {
      if (sv->n_addrs >= LVPN_DNS_MAX_ADDRS)
        return dns_err(err, errlen, "%s: too many addresses (max %d)", what,
                       LVPN_DNS_MAX_ADDRS);
      if (addr_parse(a[i], &sv->addrs[sv->n_addrs]) != 0)
        return dns_err(err, errlen, "%s: malformed address '%.80s'", what,
                       a[i]);
      sv->n_addrs++;
    }
    return 0;
  }
  if (strcmp(a[2], "resolve-domains") == 0)
    return domains_add(sv->resolve_domains, &sv->n_resolve_domains, a + 3,
                       n - 3, what, err, errlen);
  if (n != 4)
    return dns_err(err, errlen, "%s %.20s: takes one value", what, a[2]);
  if (strcmp(a[2], "dnssec") == 0) {
    for (k = 0; sec[k] != NULL && strcmp(sec[k], a[3]) != 0; k++)
      ;
    if (sec[k] == NULL)
      return dns_err(err, errlen,
                     "%s: dnssec '%.40s' is not yes, no or optional", what,
                     a[3]);
    sv->dnssec = (lvpn_dnssec_t)(LVPN_DNSSEC_NO + k);
    return 0;
  }
  if (strcmp(a[2], "transport") == 0) {
    for (k = 0; tr[k] != NULL && strcmp(tr[k], a[3]) != 0; k++)
      ;
    if (tr[k] == NULL)
      return dns_err(err, errlen,
                     "%s: transport '%.40s' is not plain, DoH or DoT", what,
                     a[3]);
    sv->transport = (lvpn_dns_transport_t)(LVPN_DNS_TRANSPORT_PLAIN + k);
    return 0;
  }
  if (strcmp(a[2], "sni") == 0) {
    if (!lvpn__dns_domain_ok(a[3]))
      return dns_err(err, errlen, "%s: sni '%.80s' is not a valid name", what,
                     a[3]);
    snprintf(sv->sni, sizeof(sv->sni), "%s", a[3]);
    return 0;
  }
  return dns_err(err, errlen,
                 "%s: unknown setting '%.40s' (expected address, "
                 "resolve-domains, dnssec, transport or sni)",
                 what, a[2]);
}

int lvpn__dns_opt_verify(const lvpn_dns_t *d, char *err, size_t errlen) {
  int i;
  for (i = 0; i < d->n_servers; i++)
    if (d->servers[i].n_addrs == 0)
      return dns_err(err, errlen,
                     "dns server %d does not have an address assigned",
                     d->servers[i].priority);
  return 0;
}
