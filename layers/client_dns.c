/* The connection's DNS: built from the config and each PUSH_REPLY (or a
 * later PUSH_UPDATE), kept for the public getter, and applied to the
 * host's resolver through the tun layer's dns_host when the host asked for
 * it (the CLI does by default). */
#include "layers/client.h"

#include <string.h>

#include "layers/tun/dns.h"

void lvpn_client_set_apply_dns(lvpn_client_t *c, int enable) {
  c->apply_dns = enable != 0;
}

int lvpn_client_dns(const lvpn_client_t *c, lvpn_dns_t *out) {
  if (c == NULL || out == NULL)
    return LVPN_EINVAL;
  if (!c->has_dns)
    return LVPN_ESTATE;
  memcpy(out, &c->dns, sizeof(*out));
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

void lvpn__client_dns_on_push(lvpn_client_t *c, const lvpn__push_t *push) {
  const lvpn_config_t *cfg = c->cfg;
  lvpn__dns_src_t cs = {&cfg->dns, cfg->dhcp, cfg->n_dhcp};
  lvpn__dns_src_t ps = {push->dns, push->dhcp, push->n_dhcp};
  char desc[512], err[300] = "";
  int dropped, rg;

  dropped = lvpn__dns_build(&c->dns, &cs, &ps);
  c->has_dns = 1;
  if (dropped > 0)
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: %d DNS entries over OpenVPN's limits were left out",
              dropped);
  if (c->dns.n_servers == 0) {
    lvpn__dns_host_revert(&c->dns_host); /* an update may drop DNS */
    LVPN__LOG(&c->log, LVPN_LOG_PUSH, "client", "DNS: no server given");
    return;
  }
  lvpn__dns_describe(&c->dns, desc, sizeof(desc));
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client", "DNS%s: %s",
            c->dns.from_dhcp ? " (from dhcp-option)" : "", desc);
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
  if (lvpn__dns_host_apply(&c->dns_host, &c->dns, c->tun.ifname,
                           (rg & LVPN__RG_ENABLE) != 0, LVPN__DNS_BACKEND_NONE,
                           err, sizeof(err)) != 0) {
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "WARNING: DNS not applied to the system resolver: %s", err);
    return;
  }
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client", "DNS: applied to %s through %s",
            c->tun.ifname, lvpn__dns_backend_name(c->dns_host.backend));
}
