/* systemd-resolved over sd-bus: the per-link calls of `resolvectl dns|
 * domain|default-route|dnssec|dnsovertls|revert`, as 2.7's
 * systemd-dns-updown.sh makes them. */
#include "layers/tun/dns_host.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "layers/tun/sdbus.h"

#define RESOLVE_DEST "org.freedesktop.resolve1"
#define RESOLVE_PATH "/org/freedesktop/resolve1"
#define RESOLVE_IFACE "org.freedesktop.resolve1.Manager"
#define CALL_TIMEOUT_US (5 * 1000 * 1000)

static int new_call(sd_bus *bus, const char *method, int ifindex,
                    sd_bus_message **m) {
  int r = lvpn__sdbus.message_new_method_call(bus, m, RESOLVE_DEST, RESOLVE_PATH,
                                         RESOLVE_IFACE, method);
  if (r >= 0)
    r = lvpn__sdbus.message_append(*m, "i", (int32_t)ifindex);
  return r;
}

/* SetLinkDNSEx(i ifindex, a(iayqs) addresses): family, address bytes,
 * port (0: default), server name (the SNI, for DoT). */
static int msg_dns(sd_bus *bus, const lvpn__dns_resolved_plan_t *p,
                   sd_bus_message **m) {
  const lvpn_dns_server_t *sv = p->server;
  int r = new_call(bus, "SetLinkDNSEx", p->ifindex, m), i;
  if (r >= 0)
    r = lvpn__sdbus.message_open_container(*m, 'a', "(iayqs)");
  for (i = 0; r >= 0 && i < sv->n_addrs; i++) {
    const lvpn_dns_addr_t *a = &sv->addrs[i];
    r = lvpn__sdbus.message_open_container(*m, 'r', "iayqs");
    if (r >= 0)
      r = lvpn__sdbus.message_append(*m, "i", (int32_t)a->family);
    if (r >= 0)
      r = lvpn__sdbus.message_append_array(*m, 'y', a->addr,
                                      a->family == AF_INET ? 4 : 16);
    if (r >= 0)
      r = lvpn__sdbus.message_append(*m, "qs", (uint16_t)a->port,
                                sv->transport == LVPN_DNS_TRANSPORT_DOT
                                    ? sv->sni
                                    : "");
    if (r >= 0)
      r = lvpn__sdbus.message_close_container(*m);
  }
  if (r >= 0)
    r = lvpn__sdbus.message_close_container(*m);
  return r;
}

/* SetLinkDomains(i ifindex, a(sb) domains): name, routing-only. */
static int msg_domains(sd_bus *bus, const lvpn__dns_resolved_plan_t *p,
                       sd_bus_message **m) {
  int r = new_call(bus, "SetLinkDomains", p->ifindex, m), i;
  if (r >= 0)
    r = lvpn__sdbus.message_open_container(*m, 'a', "(sb)");
  for (i = 0; r >= 0 && i < p->n_domains; i++)
    r = lvpn__sdbus.message_append(*m, "(sb)", p->domains[i].name,
                              (int)p->domains[i].routing_only);
  if (r >= 0)
    r = lvpn__sdbus.message_close_container(*m);
  return r;
}

int lvpn__dns_resolved_messages(void *bus_,
                                const lvpn__dns_resolved_plan_t *p,
                                void **msgs, int max) {
  sd_bus *bus = bus_;
  sd_bus_message *m[5] = {NULL};
  int n = 0, r, i;

  if (max < 5)
    return -EINVAL;
  if (lvpn__sdbus_load(NULL, 0) != 0)
    return -ENOSYS;
  r = msg_dns(bus, p, &m[n++]);
  if (r >= 0)
    r = msg_domains(bus, p, &m[n++]);
  if (r >= 0) {
    r = new_call(bus, "SetLinkDefaultRoute", p->ifindex, &m[n++]);
    if (r >= 0)
      r = lvpn__sdbus.message_append(m[n - 1], "b", (int)p->default_route);
  }
  if (r >= 0 && p->dnssec != NULL) {
    r = new_call(bus, "SetLinkDNSSEC", p->ifindex, &m[n++]);
    if (r >= 0)
      r = lvpn__sdbus.message_append(m[n - 1], "s", p->dnssec);
  }
  if (r >= 0 && p->dns_over_tls != NULL) {
    r = new_call(bus, "SetLinkDNSOverTLS", p->ifindex, &m[n++]);
    if (r >= 0)
      r = lvpn__sdbus.message_append(m[n - 1], "s", p->dns_over_tls);
  }
  if (r < 0) {
    for (i = 0; i < n; i++)
      lvpn__sdbus.message_unref(m[i]);
    return r;
  }
  for (i = 0; i < n; i++)
    msgs[i] = m[i];
  return n;
}

int lvpn__dns_resolved_apply(void *bus, const lvpn__dns_resolved_plan_t *p,
                             char *err, size_t errlen) {
  void *msgs[5];
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int n, i, r = 0;

  if (lvpn__sdbus_load(err, errlen) != 0)
    return -ENOSYS;
  n = lvpn__dns_resolved_messages(bus, p, msgs, 5);
  if (n < 0) {
    snprintf(err, errlen, "building the resolved call: %s", strerror(-n));
    return n;
  }
  for (i = 0; i < n; i++) {
    if (r >= 0) {
      r = lvpn__sdbus.call(bus, msgs[i], CALL_TIMEOUT_US, &e, NULL);
      if (r < 0)
        snprintf(err, errlen, "systemd-resolved %s: %s",
                 lvpn__sdbus.message_get_member(msgs[i]),
                 e.message != NULL ? e.message : strerror(-r));
    }
    lvpn__sdbus.message_unref(msgs[i]);
  }
  lvpn__sdbus.error_free(&e);
  return r < 0 ? r : 0;
}

int lvpn__dns_resolved_revert(void *bus, int ifindex) {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int r;

  if (lvpn__sdbus_load(NULL, 0) != 0)
    return -ENOSYS;
  r = lvpn__sdbus.call_method(bus, RESOLVE_DEST, RESOLVE_PATH, RESOLVE_IFACE,
                             "RevertLink", &e, NULL, "i", (int32_t)ifindex);
  lvpn__sdbus.error_free(&e);
  return r;
}
