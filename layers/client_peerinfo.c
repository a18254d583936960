/* The parts of the peer info that come from the host and the config
 * rather than the protocol: what `push-peer-info` adds (OpenVPN's detail
 * level 3: IV_HWADDR of the default route's interface, IV_SSL,
 * IV_PLAT_VER, UV_* variables) and the IV_GUI_VER / IV_SSO a GUI sets with
 * setenv. Nothing secret: only what OpenVPN sends with the same options. */
#include "layers/client.h"

#include <mbedtls/version.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

/* MAC address ("aa:bb:..") of the interface holding the IPv4 default
 * route, read from /proc and /sys as OpenVPN's get_default_gateway does
 * over netlink; "" when there is none. */
static void default_route_hwaddr(char *out, size_t len) {
  char line[256], ifname[64], path[128], mac[64];
  unsigned long dst, mask;
  FILE *f = fopen("/proc/net/route", "re");
  out[0] = ifname[0] = '\0';
  if (f == NULL)
    return;
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "%63s %lx %*x %*x %*d %*d %*d %lx", ifname, &dst, &mask) ==
            3 &&
        dst == 0 && mask == 0)
      break;
    else
      ifname[0] = '\0';
  fclose(f);
  if (ifname[0] == '\0' || strchr(ifname, '/') != NULL)
    return;
  snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
  if ((f = fopen(path, "re")) == NULL)
    return;
  if (fgets(mac, sizeof(mac), f) != NULL) {
    mac[strcspn(mac, "\r\n")] = '\0';
    if (strlen(mac) == 17 && strcmp(mac, "00:00:00:00:00:00") != 0)
      snprintf(out, len, "%s", mac);
  }
  fclose(f);
}

void lvpn__client_peer_info_extra(lvpn_client_t *c, lvpn__peer_info_opts_t *pi,
                                  lvpn__client_peer_extra_t *x) {
  const lvpn_config_t *cfg = c->cfg;
  struct utsname u;
  int i;

  memset(x, 0, sizeof(*x));
  for (i = 0; i < cfg->n_setenv && x->n_env < LVPN__CONFIG_MAX_LIST; i++) {
    const char *name = cfg->setenv[i].name;
    int ext = strncmp(name, "UV_", 3) == 0 || strcmp(name, "IV_PLAT_VER") == 0;
    if ((ext && !cfg->push_peer_info) ||
        (!ext && strcmp(name, "IV_GUI_VER") != 0 &&
         strcmp(name, "IV_SSO") != 0))
      continue;
    if (snprintf(x->store[x->n_env], sizeof(x->store[0]), "%s=%s", name,
                 cfg->setenv[i].value) >= (int)sizeof(x->store[0]))
      continue; /* too long for one peer-info line: not sent */
    x->env[x->n_env] = x->store[x->n_env];
    x->n_env++;
  }
  pi->env = x->env;
  pi->n_env = x->n_env;
  if (!cfg->push_peer_info)
    return;
  pi->extended = 1;
  default_route_hwaddr(x->hwaddr, sizeof(x->hwaddr));
  pi->hwaddr = x->hwaddr[0] ? x->hwaddr : NULL;
  mbedtls_version_get_string_full(x->ssl);
  pi->ssl_version = x->ssl;
  if (uname(&u) == 0) {
    snprintf(x->plat, sizeof(x->plat), "%s", u.release);
    pi->plat_version = x->plat;
  }
}
