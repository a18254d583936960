/* user / group / chroot: dropping root once the tunnel is up, as OpenVPN
 * does (init.c do_uid_gid_chroot: names resolved first, then chroot, then
 * the group, then the user).
 *
 * The library never changes the process's identity on its own: the host
 * opts in with lvpn_client_set_drop_privileges() (the CLI does) and the
 * client drops right after the first PUSH_REPLY is applied (tun device,
 * addresses and routes in place), before it reports CONNECTED. A config
 * asking for a drop that the host did not opt into fails to start: the
 * process never silently keeps root.
 *
 * CAP_NET_ADMIN is kept through libcap-ng, as OpenVPN 2.6 does
 * (platform.c platform_user_group_set): every other capability and the
 * bounding set are cleared, then the ids change with the capability
 * retained, so the routes and addresses can still be removed on exit and
 * the tun set up again on a reconnection. Where the capability cannot be
 * kept (no CAP_SETPCAP, e.g. some containers) the drop still happens,
 * with a warning: the routes then go away only with the tun device.
 * libcap-ng is loaded (dlopen) when a drop to a user or group is asked
 * for, at the start's check and before any chroot, not linked: every
 * other start saves its loading and constructor (0.2 ms). A drop it
 * cannot load for fails, as an unknown user does.
 *
 * Differences from OpenVPN, on purpose: 'user' alone also sets the group
 * to the user's primary group, and the supplementary groups are always
 * reduced to that one group (OpenVPN keeps root's gid 0 with 'user' only). */
#include "layers/client.h"

#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cap-ng.h>

#include "lib/dl.h"

static int fail(char *err, size_t errlen, const char *what, const char *arg,
                int e) {
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, "%s '%s': %s", what, arg,
             e != 0 ? strerror(e) : "no such name");
  return LVPN_EPRIVILEGES;
}

#define CAPNG_SONAME "libcap-ng.so.0"

static struct {
  __typeof__(&capng_clear) clear;
  __typeof__(&capng_update) update;
  __typeof__(&capng_change_id) change_id;
} capng;

#define CAPNG_SYM(f)                                                           \
  (lvpn__dl_sym(lib, CAPNG_SONAME, "capng_" #f, &capng.f, sizeof(capng.f),   \
                NULL, 0) == 0)

/* libcap-ng, loaded once (stays loaded: the table points into it) */
static int capng_load(char *err, size_t errlen) {
  static int state; /* 0: not tried, 1: loaded, -1: failed */
  void *lib;
  if (state == 0) {
    state = -1;
    if ((lib = lvpn__dl_open(CAPNG_SONAME, NULL, 0)) != NULL &&
        CAPNG_SYM(clear) && CAPNG_SYM(update) && CAPNG_SYM(change_id))
      state = 1;
    else if (lib != NULL)
      dlclose(lib);
  }
  if (state > 0)
    return 0;
  if (err != NULL && errlen > 0)
    snprintf(err, errlen,
             "user/group: cannot load %s to keep CAP_NET_ADMIN (Debian "
             "package libcap-ng0)",
             CAPNG_SONAME);
  return LVPN_EPRIVILEGES;
}

static int drop(const char *user, const char *group, const char *chroot_dir,
                int *kept_net_admin, char *err, size_t errlen) {
  struct passwd *pw = NULL;
  struct group *gr = NULL;
  uid_t uid = 0;
  gid_t gid = 0;
  int have_gid = 0, kept = 0;

  if (err != NULL && errlen > 0)
    err[0] = '\0';
  /* libcap-ng and the names first: neither may exist inside the chroot */
  if ((user != NULL || group != NULL) && capng_load(err, errlen) != 0)
    return LVPN_EPRIVILEGES;
  if (user != NULL) {
    errno = 0;
    if ((pw = getpwnam(user)) == NULL)
      return fail(err, errlen, "user", user, errno);
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    have_gid = 1;
  }
  if (group != NULL) {
    errno = 0;
    if ((gr = getgrnam(group)) == NULL)
      return fail(err, errlen, "group", group, errno);
    gid = gr->gr_gid;
    have_gid = 1;
  }
  if (chroot_dir != NULL) {
    if (chroot(chroot_dir) != 0)
      return fail(err, errlen, "chroot", chroot_dir, errno);
    if (chdir("/") != 0)
      return fail(err, errlen, "chroot", chroot_dir, errno);
  }
  if (!have_gid) /* chroot alone (or nothing): root keeps its capabilities */
    return 0;
  if (setgroups(1, &gid) != 0)
    return fail(err, errlen, "group", group ? group : user, errno);
  /* keep CAP_NET_ADMIN (and nothing else) across the id change */
  capng.clear(CAPNG_SELECT_BOTH);
  if (capng.update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
                   CAP_NET_ADMIN) == 0) {
    int rc = capng.change_id(user != NULL ? (int)uid : -1,
                             have_gid ? (int)gid : -1, CAPNG_NO_FLAG);
    if (rc == -4 || rc == -6) /* setresgid / setresuid failed */
      return fail(err, errlen, rc == -4 ? "group" : "user",
                  rc == -4 ? (group ? group : user) : user, errno);
    if (rc == 0) {
      kept = 1;
    } else if (prctl(PR_GET_KEEPCAPS) == 1) {
      /* libcap-ng may leave it set on failure: the plain drop below must
       * lose every capability */
      prctl(PR_SET_KEEPCAPS, 0);
    }
  }
  if (!kept) {
    if (setgid(gid) != 0)
      return fail(err, errlen, "group", group ? group : user, errno);
    if (user != NULL && setuid(uid) != 0)
      return fail(err, errlen, "user", user, errno);
  }
  if (user != NULL) {
    /* the drop must stick: regaining root has to fail */
    if (getuid() != uid || geteuid() != uid ||
        (uid != 0 && setuid(0) == 0))
      return fail(err, errlen, "user", user, EPERM);
  }
  if (kept_net_admin != NULL)
    *kept_net_admin = kept;
  return 0;
}

int lvpn_drop_privileges(const char *user, const char *group,
                         const char *chroot_dir, char *err, size_t errlen) {
  return drop(user, group, chroot_dir, NULL, err, errlen);
}

void lvpn_client_set_drop_privileges(lvpn_client_t *c, int enable) {
  c->drop_privileges = enable != 0;
}

int lvpn__client_privileges_check(lvpn_client_t *c, char *err, size_t errlen) {
  const lvpn_config_t *cfg = c->cfg;
  if (cfg->user == NULL && cfg->group == NULL && cfg->chroot_dir == NULL)
    return 0;
  if (c->drop_privileges) {
    /* unknown names fail now, not after the tunnel is up (OpenVPN checks
     * them at start too); so does a libcap-ng that cannot be loaded */
    if ((cfg->user != NULL || cfg->group != NULL) &&
        capng_load(err, errlen) != 0)
      return LVPN_EPRIVILEGES;
    errno = 0;
    if (cfg->user != NULL && getpwnam(cfg->user) == NULL)
      return fail(err, errlen, "user", cfg->user, errno);
    errno = 0;
    if (cfg->group != NULL && getgrnam(cfg->group) == NULL)
      return fail(err, errlen, "group", cfg->group, errno);
    return 0;
  }
  snprintf(err, errlen,
           "the config asks to drop privileges (%s%s%s%s%s%s) but the host "
           "does not do it (lvpn_client_set_drop_privileges): refusing to "
           "run with them kept",
           cfg->user ? "user " : "", cfg->user ? cfg->user : "",
           cfg->group ? " group " : "", cfg->group ? cfg->group : "",
           cfg->chroot_dir ? " chroot " : "",
           cfg->chroot_dir ? cfg->chroot_dir : "");
  return LVPN_EPRIVILEGES;
}

int lvpn__client_privileges_drop(lvpn_client_t *c, char *err, size_t errlen) {
  const lvpn_config_t *cfg = c->cfg;
  int rc, kept = 0;
  if (!c->drop_privileges || c->privileges_dropped ||
      (cfg->user == NULL && cfg->group == NULL && cfg->chroot_dir == NULL))
    return 0;
  rc = drop(cfg->user, cfg->group, cfg->chroot_dir, &kept, err, errlen);
  if (rc == 0) {
    c->privileges_dropped = 1;
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "privileges dropped:%s%s%s%s%s%s", cfg->chroot_dir ? " chroot " : "",
              cfg->chroot_dir ? cfg->chroot_dir : "", cfg->group ? " group " : "",
              cfg->group ? cfg->group : "", cfg->user ? " user " : "",
              cfg->user ? cfg->user : "");
    if (kept)
      LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
                "Capabilities retained: CAP_NET_ADMIN");
    else if (cfg->user != NULL || cfg->group != NULL)
      LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
                "WARNING: CAP_NET_ADMIN could not be kept: routes and "
                "addresses go away only with the tun device");
    /* /dev/net/tun is root's: reconnections keep this device, as
     * persist-tun does (OpenVPN without persist-tun fails to reopen it) */
    lvpn__tun_layer_set_keep(&c->tun, &c->tun_keep);
  }
  return rc;
}
