#include "layers/tun/dns.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/dns_opt.h"

static int domain_add(char (*list)[LVPN_DNS_DOMAIN_LEN], int *n, int max,
                      const char *name) {
  if (*n >= max)
    return 1;
  snprintf(list[(*n)++], LVPN_DNS_DOMAIN_LEN, "%s", name);
  return 0;
}

/* A pushed server replaces the config's of the same priority; the list
 * stays sorted by priority. */
static int server_merge(lvpn_dns_t *out, const lvpn_dns_server_t *sv) {
  int i;
  for (i = 0; i < out->n_servers && out->servers[i].priority < sv->priority;
       i++)
    ;
  if (i < out->n_servers && out->servers[i].priority == sv->priority) {
    out->servers[i] = *sv;
    return 0;
  }
  if (out->n_servers >= LVPN_DNS_MAX_SERVERS)
    return 1;
  memmove(&out->servers[i + 1], &out->servers[i],
          (size_t)(out->n_servers - i) * sizeof(out->servers[0]));
  out->servers[i] = *sv;
  out->n_servers++;
  return 0;
}

static int dhcp_addr(lvpn_dns_server_t *sv, int family, const char *text,
                     int *count) {
  lvpn_dns_addr_t *a;
  if (*count >= LVPN__DHCP_DNS_MAX || sv->n_addrs >= LVPN_DNS_MAX_ADDRS)
    return 1;
  a = &sv->addrs[sv->n_addrs];
  memset(a, 0, sizeof(*a));
  a->family = family;
  if (inet_pton(family, text, a->addr) != 1)
    return 1; /* lvpn__dhcp_parse checked it: not reached */
  sv->n_addrs++;
  (*count)++;
  return 0;
}

/* 2.7's dhcp_options_postprocess_dns for the dhcp-options of `src`, into
 * the collected `sv` / domain / search list. */
static int dhcp_collect(const lvpn__dns_src_t *src, lvpn_dns_server_t *v4,
                        lvpn_dns_server_t *v6, int *n4, int *n6,
                        const char **domain, const char **search,
                        int *n_search) {
  int i, dropped = 0;
  for (i = 0; src != NULL && i < src->n_dhcp; i++) {
    const lvpn__dhcp_opt_t *o = &src->dhcp[i];
    switch (o->type) {
    case LVPN__DHCP_DNS:
    case LVPN__DHCP_DNS6:
      if (strchr(o->value, ':') != NULL)
        dropped += dhcp_addr(v6, AF_INET6, o->value, n6);
      else
        dropped += dhcp_addr(v4, AF_INET, o->value, n4);
      break;
    case LVPN__DHCP_DOMAIN:
    case LVPN__DHCP_ADAPTER_DOMAIN_SUFFIX:
      *domain = o->value; /* the last one wins */
      break;
    case LVPN__DHCP_DOMAIN_SEARCH:
      if (*n_search < LVPN__DHCP_SEARCH_MAX)
        search[(*n_search)++] = o->value;
      else
        dropped++;
      break;
    default:
      break;
    }
  }
  return dropped;
}

int lvpn__dns_build(lvpn_dns_t *out, const lvpn__dns_src_t *cfg,
                    const lvpn__dns_src_t *push) {
  const lvpn__dns_src_t *srcs[2] = {cfg, push};
  const char *domain = NULL, *search[LVPN__DHCP_SEARCH_MAX];
  lvpn_dns_server_t v4, v6;
  int i, k, n4 = 0, n6 = 0, n_search = 0, dropped = 0;

  memset(out, 0, sizeof(*out));
  for (k = 0; k < 2; k++) {
    const lvpn_dns_t *d = srcs[k] != NULL ? srcs[k]->dns : NULL;
    if (d == NULL)
      continue;
    for (i = 0; i < d->n_servers; i++)
      dropped += server_merge(out, &d->servers[i]);
    for (i = 0; i < d->n_search_domains; i++)
      dropped += domain_add(out->search_domains, &out->n_search_domains,
                            LVPN_DNS_MAX_DOMAINS, d->search_domains[i]);
  }
  if (out->n_servers > 0)
    return dropped; /* `dns server` wins: dhcp-options are not used */

  memset(&v4, 0, sizeof(v4));
  memset(&v6, 0, sizeof(v6));
  for (k = 0; k < 2; k++)
    dropped += dhcp_collect(srcs[k], &v4, &v6, &n4, &n6, &domain, search,
                            &n_search);
  if (v4.n_addrs + v6.n_addrs == 0)
    return dropped; /* 2.7 applies no DNS without an address */
  /* IPv4 first, then IPv6, as 2.7 */
  for (i = 0; i < v6.n_addrs && v4.n_addrs < LVPN_DNS_MAX_ADDRS; i++)
    v4.addrs[v4.n_addrs++] = v6.addrs[i];
  v4.priority = 0;
  out->servers[0] = v4;
  out->n_servers = 1;
  out->from_dhcp = 1;
  if (domain != NULL)
    dropped += domain_add(out->search_domains, &out->n_search_domains,
                          LVPN_DNS_MAX_DOMAINS, domain);
  for (i = 0; i < n_search; i++)
    dropped += domain_add(out->search_domains, &out->n_search_domains,
                          LVPN_DNS_MAX_DOMAINS, search[i]);
  return dropped;
}

static bool plain_ok(const lvpn_dns_server_t *sv) {
  int i;
  if (sv->transport != LVPN_DNS_TRANSPORT_UNSET &&
      sv->transport != LVPN_DNS_TRANSPORT_PLAIN)
    return false;
  if (sv->dnssec != LVPN_DNSSEC_UNSET && sv->dnssec != LVPN_DNSSEC_NO)
    return false;
  for (i = 0; i < sv->n_addrs; i++)
    if (sv->addrs[i].port != 0 && sv->addrs[i].port != 53)
      return false;
  return sv->n_addrs > 0;
}

const lvpn_dns_server_t *lvpn__dns_pick(const lvpn_dns_t *d, bool resolved) {
  int i;
  for (i = 0; i < d->n_servers; i++) {
    const lvpn_dns_server_t *sv = &d->servers[i];
    if (resolved ? sv->transport != LVPN_DNS_TRANSPORT_DOH && sv->n_addrs > 0
                 : plain_ok(sv))
      return sv;
  }
  return NULL;
}

/* Appends printf output; *pos past the end means the buffer was short. */
static void put(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *out, size_t outlen, size_t *pos, const char *fmt, ...) {
  va_list ap;
  int n;
  if (*pos >= outlen) {
    *pos = outlen;
    return;
  }
  va_start(ap, fmt);
  n = vsnprintf(out + *pos, outlen - *pos, fmt, ap);
  va_end(ap);
  *pos = n < 0 || (size_t)n >= outlen - *pos ? outlen : *pos + (size_t)n;
}

/* The line's first word, for the keywords resolv.conf(5) knows. */
static bool line_is(const char *line, size_t len, const char *kw) {
  size_t k = strlen(kw);
  while (len > 0 && (*line == ' ' || *line == '\t')) {
    line++;
    len--;
  }
  return len > k && strncmp(line, kw, k) == 0 &&
         (line[k] == ' ' || line[k] == '\t');
}

int lvpn__dns_resolv_conf(const lvpn_dns_t *d, const lvpn_dns_server_t *sv,
                          const char *ifname, const char *orig, char *out,
                          size_t outlen) {
  char a[64];
  size_t pos = 0;
  int i;

  if (outlen == 0)
    return -1;
  put(out, outlen, &pos, "%s for %s: the original is restored when the "
                         "tunnel closes\n",
      LVPN__DNS_MARKER, ifname != NULL ? ifname : "the tunnel");
  for (i = 0; sv != NULL && i < sv->n_addrs && i < LVPN__DNS_RESOLV_MAXNS;
       i++) {
    inet_ntop(sv->addrs[i].family, sv->addrs[i].addr, a, sizeof(a));
    put(out, outlen, &pos, "nameserver %s\n", a);
  }
  if (d->n_search_domains > 0) {
    put(out, outlen, &pos, "search");
    for (i = 0; i < d->n_search_domains; i++)
      put(out, outlen, &pos, " %s", d->search_domains[i]);
    put(out, outlen, &pos, "\n");
  }
  while (orig != NULL && *orig != '\0') {
    const char *nl = strchr(orig, '\n');
    size_t len = nl != NULL ? (size_t)(nl - orig) : strlen(orig);
    if (!line_is(orig, len, "nameserver") && !line_is(orig, len, "search") &&
        !line_is(orig, len, "domain"))
      put(out, outlen, &pos, "%.*s\n", (int)len, orig);
    orig += len + (nl != NULL ? 1 : 0);
  }
  if (pos >= outlen)
    return -1;
  return (int)pos;
}

int lvpn__dns_resolved_plan(const lvpn_dns_t *d, int ifindex,
                            bool redirect_gateway,
                            lvpn__dns_resolved_plan_t *plan) {
  const lvpn_dns_server_t *sv = lvpn__dns_pick(d, true);
  int i, k;

  memset(plan, 0, sizeof(*plan));
  if (sv == NULL)
    return -1;
  plan->ifindex = ifindex;
  plan->server = sv;
  for (i = 0; i < d->n_search_domains; i++)
    plan->domains[plan->n_domains++] =
        (lvpn__dns_link_domain_t){d->search_domains[i], false};
  for (i = 0; i < sv->n_resolve_domains; i++) {
    for (k = 0; k < d->n_search_domains; k++) /* already searched: routed */
      if (strcmp(d->search_domains[k], sv->resolve_domains[i]) == 0)
        break;
    if (k == d->n_search_domains)
      plan->domains[plan->n_domains++] =
          (lvpn__dns_link_domain_t){sv->resolve_domains[i], true};
  }
  plan->default_route = sv->n_resolve_domains == 0;
  if (plan->default_route && redirect_gateway)
    plan->domains[plan->n_domains++] = (lvpn__dns_link_domain_t){".", true};
  if (sv->dnssec != LVPN_DNSSEC_UNSET)
    plan->dnssec = sv->dnssec == LVPN_DNSSEC_YES        ? "yes"
                   : sv->dnssec == LVPN_DNSSEC_OPTIONAL ? "allow-downgrade"
                                                        : "no";
  if (sv->transport != LVPN_DNS_TRANSPORT_UNSET)
    plan->dns_over_tls = sv->transport == LVPN_DNS_TRANSPORT_DOT ? "yes" : "no";
  return 0;
}

void lvpn__dns_describe(const lvpn_dns_t *d, char *out, size_t outlen) {
  char a[64];
  size_t pos = 0;
  int i, k;

  out[0] = '\0';
  for (i = 0; i < d->n_servers; i++) {
    const lvpn_dns_server_t *sv = &d->servers[i];
    put(out, outlen, &pos, "%sserver %d:", i ? "; " : "", sv->priority);
    for (k = 0; k < sv->n_addrs; k++)
      put(out, outlen, &pos, " %s", lvpn__dns_addr_str(&sv->addrs[k], a,
                                                       sizeof(a)));
    for (k = 0; k < sv->n_resolve_domains; k++)
      put(out, outlen, &pos, " ~%s", sv->resolve_domains[k]);
    if (sv->transport == LVPN_DNS_TRANSPORT_DOT ||
        sv->transport == LVPN_DNS_TRANSPORT_DOH)
      put(out, outlen, &pos, " %s%s%s",
          sv->transport == LVPN_DNS_TRANSPORT_DOT ? "DoT" : "DoH",
          sv->sni[0] ? " sni " : "", sv->sni);
    if (sv->dnssec == LVPN_DNSSEC_YES || sv->dnssec == LVPN_DNSSEC_OPTIONAL)
      put(out, outlen, &pos, " dnssec %s",
          sv->dnssec == LVPN_DNSSEC_YES ? "yes" : "optional");
  }
  if (d->n_search_domains > 0) {
    put(out, outlen, &pos, "%ssearch", d->n_servers ? "; " : "");
    for (k = 0; k < d->n_search_domains; k++)
      put(out, outlen, &pos, " %s", d->search_domains[k]);
  }
  if (pos >= outlen && outlen > 4)
    strcpy(out + outlen - 4, "...");
}
