/* The connection's DNS: built from the config and each PUSH_REPLY (or a
 * later PUSH_UPDATE), kept for the public getter, and applied to the
 * host's resolver through the tun layer's dns_host when the host asked for
 * it (the CLI does by default). */
#include "layers/client.h"

#include <stdlib.h>
#include <string.h>

#include "layers/tun/dns.h"

void lvpn_client_set_apply_dns(lvpn_client_t *c, int enable) {
  c->apply_dns = enable != 0;
}

/* The connection's DNS from the config and the copied pushed options;
 * returns the entries left out over OpenVPN's limits. */
static int client_dns_build(const lvpn_client_t *c, lvpn_dns_t *out) {
  const lvpn_config_t *cfg = c->cfg;
  lvpn__dns_src_t cs = {cfg->dns, cfg->dhcp, cfg->n_dhcp};
  lvpn__dns_src_t ps = {c->push_dns, c->push_dhcp, c->push_n_dhcp};
  return lvpn__dns_build(out, &cs, &ps);
}

int lvpn_client_dns(const lvpn_client_t *c, lvpn_dns_t *out) {
  if (c == NULL || out == NULL)
    return LVPN_EINVAL;
  if (!c->has_dns)
    return LVPN_ESTATE;
  client_dns_build(c, out);
  return 0;
}

void lvpn__client_dns_free(lvpn_client_t *c) {
  free(c->push_dns);
  free(c->push_dhcp);
  free(c->dns_scratch);
  c->dns_scratch = NULL;
  c->push_dns = NULL;
  c->push_dhcp = NULL;
  c->push_n_dhcp = 0;
}

/* Keeps a copy of the PUSH_REPLY's DNS options. */
static int client_dns_keep(lvpn_client_t *c, const lvpn__push_t *push) {
  lvpn__client_dns_free(c);
  if (push->dns != NULL) {
    if ((c->push_dns = malloc(sizeof(*c->push_dns))) == NULL)
      return LVPN_ENOMEM;
    memcpy(c->push_dns, push->dns, sizeof(*c->push_dns));
  }
  if (push->n_dhcp > 0) {
    c->push_dhcp = malloc((size_t)push->n_dhcp * sizeof(*c->push_dhcp));
    if (c->push_dhcp == NULL)
      return LVPN_ENOMEM;
    memcpy(c->push_dhcp, push->dhcp, (size_t)push->n_dhcp * sizeof(*c->push_dhcp));
    c->push_n_dhcp = push->n_dhcp;
  }
  return 0;
}

static int client_dns_wanted(const lvpn_client_t *c) {
  return c->apply_dns && c->cfg->dns_mode != LVPN__DNS_MODE_NONE;
}

void lvpn__client_dns_stack(lvpn_client_t *c) {
  c->tun.dns = &c->dns_host; /* the device's close undoes what we applied */
  if (client_dns_wanted(c) && c->inside_write == NULL)
    lvpn__dns_host_recover(&c->dns_host);
}

void lvpn__client_dns_prepare(lvpn_client_t *c) {
  if (client_dns_wanted(c) && c->inside_write == NULL)
    lvpn__dns_host_prepare(&c->dns_host);
  if (c->dns_scratch == NULL && (c->dns_scratch = malloc(sizeof(lvpn_dns_t))))
    memset(c->dns_scratch, 0, sizeof(lvpn_dns_t));
}

static void client_dns_apply(lvpn_client_t *c, const lvpn__push_t *push,
                             const lvpn_dns_t *dns) {
  const lvpn_config_t *cfg = c->cfg;
  char desc[512], err[300] = "";
  int rg;

  lvpn__dns_describe(dns, desc, sizeof(desc));
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client", "DNS%s: %s",
            dns->from_dhcp ? " (from dhcp-option)" : "", desc);
  if (!client_dns_wanted(c) || c->inside_write != NULL) {
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "DNS: not applied to the system resolver (%s)",
              cfg->dns_mode == LVPN__DNS_MODE_NONE ? "dns-mode none"
              : c->inside_write != NULL ? "no tun device: the host does the "
                                          "inside I/O"
                                        : "the host did not ask for it");
    return;
  }
  rg = cfg->route_nopull ? cfg->redirect_gateway
                         : (cfg->redirect_gateway | push->redirect_gateway);
  if (lvpn__dns_host_apply(&c->dns_host, dns, c->tun.ifname,
                           (rg & LVPN__RG_ENABLE) != 0, LVPN__DNS_BACKEND_NONE,
                           err, sizeof(err)) != 0) {
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: DNS not applied to the system resolver: %s", err);
    return;
  }
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client", "DNS: applied to %s through %s",
            c->tun.ifname, lvpn__dns_backend_name(c->dns_host.backend));
}

void lvpn__client_dns_on_push(lvpn_client_t *c, const lvpn__push_t *push) {
  lvpn_dns_t *dns;
  int dropped;

  /* built for this call only: the allocator reuses it for the next one */
  dns = c->dns_scratch;
  c->dns_scratch = NULL;
  if (dns == NULL)
    dns = malloc(sizeof(*dns));
  if (client_dns_keep(c, push) != 0 || dns == NULL) {
    free(dns);
    lvpn__client_dns_free(c);
    c->has_dns = 0;
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: DNS: out of memory, not applied");
    return;
  }
  dropped = client_dns_build(c, dns);
  c->has_dns = 1;
  if (dropped > 0)
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: %d DNS entries over OpenVPN's limits were left out",
              dropped);
  if (dns->n_servers == 0) {
    lvpn__dns_host_revert(&c->dns_host); /* an update may drop DNS */
    LVPN__LOG(&c->log, LVPN_LOG_PUSH, "client", "DNS: no server given");
    free(dns);
    return;
  }
  client_dns_apply(c, push, dns);
  free(dns);
}
