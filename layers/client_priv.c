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
 * Differences from OpenVPN, on purpose: 'user' alone also sets the group
 * to the user's primary group, and the supplementary groups are always
 * reduced to that one group (OpenVPN keeps root's gid 0 with 'user' only).
 * Like OpenVPN without CAP_NET_ADMIN, a dropped client cannot change routes
 * afterwards: a reconnection that needs new routes fails, and the routes
 * go away with the tun device when the client stops. */
#include "layers/client.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *what, const char *arg,
                int e) {
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, "%s '%s': %s", what, arg,
             e != 0 ? strerror(e) : "no such name");
  return LVPN_EPRIVILEGES;
}

int lvpn_drop_privileges(const char *user, const char *group,
                         const char *chroot_dir, char *err, size_t errlen) {
  struct passwd *pw = NULL;
  struct group *gr = NULL;
  uid_t uid = 0;
  gid_t gid = 0;
  int have_gid = 0;

  if (err != NULL && errlen > 0)
    err[0] = '\0';
  /* names first: /etc/passwd may not exist inside the chroot */
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
  if (have_gid) {
    if (setgroups(1, &gid) != 0)
      return fail(err, errlen, "group", group ? group : user, errno);
    if (setgid(gid) != 0)
      return fail(err, errlen, "group", group ? group : user, errno);
  }
  if (user != NULL) {
    if (setuid(uid) != 0)
      return fail(err, errlen, "user", user, errno);
    /* the drop must stick: regaining root has to fail */
    if (uid != 0 && setuid(0) == 0)
      return fail(err, errlen, "user", user, EPERM);
  }
  return 0;
}

void lvpn_client_set_drop_privileges(lvpn_client_t *c, int enable) {
  c->drop_privileges = enable != 0;
}

int lvpn__client_privileges_check(lvpn_client_t *c, char *err, size_t errlen) {
  const lvpn_config_t *cfg = c->cfg;
  if ((cfg->user == NULL && cfg->group == NULL && cfg->chroot_dir == NULL) ||
      c->drop_privileges)
    return 0;
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
  int rc;
  if (!c->drop_privileges || c->privileges_dropped ||
      (cfg->user == NULL && cfg->group == NULL && cfg->chroot_dir == NULL))
    return 0;
  rc = lvpn_drop_privileges(cfg->user, cfg->group, cfg->chroot_dir, err,
                            errlen);
  if (rc == 0) {
    c->privileges_dropped = 1;
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "privileges dropped:%s%s%s%s%s%s", cfg->chroot_dir ? " chroot " : "",
              cfg->chroot_dir ? cfg->chroot_dir : "", cfg->group ? " group " : "",
              cfg->group ? cfg->group : "", cfg->user ? " user " : "",
              cfg->user ? cfg->user : "");
  }
  return rc;
}
