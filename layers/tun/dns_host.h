/* Applying the connection's DNS to the host's resolver, and undoing it.
 *
 * Backends, in order (OpenVPN 2.7's dns-updown scripts do the same):
 *  1. systemd-resolved over sd-bus, when it runs, we are in its network
 *     namespace and /etc/resolv.conf is not a mount point: per-link servers and domains on the tun device
 *     (SetLinkDNSEx, SetLinkDomains, SetLinkDefaultRoute, SetLinkDNSSEC,
 *     SetLinkDNSOverTLS); RevertLink when undone.
 *  2. resolvconf (Debian's or openresolv), when installed and
 *     /etc/resolv.conf is not a mount point: `resolvconf -a IF.layervpn`.
 *  3. /etc/resolv.conf rewritten IN PLACE (truncate + write, never rename:
 *     under `ip netns exec` or in a container it is a bind mount, where
 *     rename() fails), the original kept in STATE_DIR/resolv.conf.DEV-INO
 *     .backup (named after the file's identity, so namespaces do not mix)
 *     until restored. A start after a crash restores it if the file still
 *     carries our marker line. A bind-mounted /etc/resolv.conf belongs to
 *     its namespace or container: only this backend is used there.
 * The resolv.conf and backup descriptors stay open until the client is
 * freed, so that restoring and re-applying work after a privilege drop or
 * chroot. Everything here is synchronous (bounded: bus calls time out after
 * 5 s; resolvconf is a short command), as OpenVPN runs its scripts. */
#ifndef LVPN_LAYERS_TUN_DNS_HOST_H
#define LVPN_LAYERS_TUN_DNS_HOST_H

#include <stdbool.h>

#include "layers/tun/device.h"
#include "layers/tun/dns.h"
#include "lib/log.h"

typedef enum {
  LVPN__DNS_BACKEND_NONE = 0,
  LVPN__DNS_BACKEND_RESOLVED,
  LVPN__DNS_BACKEND_RESOLVCONF,
  LVPN__DNS_BACKEND_FILE
} lvpn__dns_backend_t;

typedef struct lvpn__dns_host_s {
  const lvpn__logger_t *log;
  char resolv_path[256]; /* "/etc/resolv.conf" */
  char state_dir[256];   /* "/run/layervpn" */
  char resolvconf[256];  /* "": /sbin or /usr/sbin/resolvconf (tests: a fake) */
  char backup_path[600];
  int backend; /* the one applied now: lvpn__dns_backend_t */
  int recovered;
  int resolv_fd, backup_fd; /* -1: not open */
  char *original;           /* the file backend's original content */
  size_t original_len;
  char ifname[LVPN__IFNAMSIZ];
  int ifindex;
  void *bus; /* sd_bus *, opened on first use */
  /* lvpn__dns_host_prepare's findings, for the next apply only */
  int prepared, mounted, resolved;
  const char *prog; /* resolvconf's path, or NULL */
} lvpn__dns_host_t;

/* No I/O. NULL paths: /etc/resolv.conf and /run/layervpn (tests pass
 * temporary ones). */
void lvpn__dns_host_init(lvpn__dns_host_t *h, const lvpn__logger_t *log,
                         const char *resolv_path, const char *state_dir);
/* Restores a resolv.conf a crashed run left changed (once; later calls do
 * nothing). */
void lvpn__dns_host_recover(lvpn__dns_host_t *h);
/* Finds out ahead which way the next lvpn__dns_host_apply() with backend
 * NONE takes (whether resolv.conf is a mount point, systemd-resolved
 * runs, resolvconf is installed): start-up work for a wait on the network
 * (the client's, after its TLS Finished). Harmless to skip. */
void lvpn__dns_host_prepare(lvpn__dns_host_t *h);
/* Applies `d` to the resolver for the tun device `ifname` (undoing what an
 * earlier call applied). `backend` forces one (tests); NONE picks as
 * described above. Returns 0 (with the backend used in h->backend), or
 * LVPN_EDNS with the reason in `err`; nothing stays applied then. */
int lvpn__dns_host_apply(lvpn__dns_host_t *h, const lvpn_dns_t *d,
                         const char *ifname, bool redirect_gateway,
                         lvpn__dns_backend_t backend, char *err,
                         size_t errlen);
/* Undoes the last apply; harmless when nothing is applied. */
void lvpn__dns_host_revert(lvpn__dns_host_t *h);
/* Reverts, closes the descriptors and the bus, removes the backup. */
void lvpn__dns_host_close(lvpn__dns_host_t *h);
const char *lvpn__dns_backend_name(int backend);

/* sd-bus messages for a plan (dns_resolved.c), built on `bus` (a
 * sd_bus *): up to 5 method calls to org.freedesktop.resolve1.Manager, in
 * the order they are sent. Returns the count, or a negative errno. The
 * caller unrefs each message. */
int lvpn__dns_resolved_messages(void *bus,
                                const lvpn__dns_resolved_plan_t *plan,
                                void **msgs, int max);
/* Applies a plan / reverts the link over `bus` (sd_bus *); 0 or a negative
 * errno with the bus error's text in `err`. */
int lvpn__dns_resolved_apply(void *bus, const lvpn__dns_resolved_plan_t *plan,
                             char *err, size_t errlen);
int lvpn__dns_resolved_revert(void *bus, int ifindex);

#endif
