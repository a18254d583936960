/* Config options of OpenVPN's management interface (mgmt/ implements it):
 *   management IP PORT [pw-file] | management /path/socket unix [pw-file]
 *   management-hold, management-query-passwords, management-log-cache N,
 *   management-up-down, management-signal, management-forget-disconnect
 *   management-client-user U, management-client-group G (unix socket:
 *   only peers with that uid / gid may connect; names resolved at load)
 * management-client-auth is a server option (refused by lib/config.c).
 *
 * The password file is read at load time, as every other file; only its
 * first line counts, as in OpenVPN. */
#include "lib/config_opts.h"

#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

static int fn_management(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                         char *const *p, int n) {
  lvpn_config_t *c = a->cfg;
  lvpn__blob_t b = {0};
  bool is_unix = n >= 2 && strcmp(p[1], "unix") == 0;
  int port = 0, e;

  if (!is_unix) {
    if (n < 2)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "'management' needs IP PORT or PATH unix");
    if ((e = lvpn__opt_get_int(a, o, p[1], 1, 65535, &port)) != 0)
      return e;
  }
  if (n > 2) { /* password file: its first line */
    char *const pw[1] = {p[2]};
    if ((e = lvpn__opt_load_blob(a, o, pw, 1, &b)) != 0)
      return e == LVPN_EKEYFILE ? LVPN_ECONFIG : e;
    b.data[strcspn(b.data, "\r\n")] = '\0';
    e = lvpn__opt_set_str(&c->mgmt_password, b.data);
    lvpn__opt_blob_clear(&b);
    if (e != 0)
      return e;
  }
  if ((e = lvpn__opt_set_str(&c->mgmt_addr, p[0])) != 0)
    return e;
  c->mgmt_port = port;
  c->mgmt_unix = is_unix;
  return 0;
}

static int fn_client_id(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                        char *const *p, int n) {
  (void)n;
  if (strcmp(o->name, "management-client-user") == 0) {
    struct passwd *pw = getpwnam(p[0]);
    if (pw == NULL)
      return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s': no user '%s'", o->name,
                            p[0]);
    a->cfg->mgmt_client_uid = (long)pw->pw_uid;
  } else {
    struct group *gr = getgrnam(p[0]);
    if (gr == NULL)
      return lvpn__opt_fail(a, LVPN_ECONFIG, "'%s': no group '%s'", o->name,
                            p[0]);
    a->cfg->mgmt_client_gid = (long)gr->gr_gid;
  }
  return 0;
}

/* Accepted so GUI-made configs load, with a warning: nothing acts on them
 * yet (no >UPDOWN: messages, no signal or forgetting on disconnect). */
static int fn_not_yet(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                      char *const *p, int n) {
  (void)p;
  (void)n;
  lvpn__opt_warn(a, "'%s' has no effect yet: ignored", o->name);
  return 0;
}

static const lvpn__opt_t opts[] = {
    OPT_FN("management", 1, 3, fn_management),
    OPT_FLAG("management-hold", mgmt_hold),
    OPT_FLAG("management-query-passwords", mgmt_query_passwords),
    OPT_INT("management-log-cache", mgmt_log_cache, 1, 100000),
    OPT_FN("management-client-user", 1, 1, fn_client_id),
    OPT_FN("management-client-group", 1, 1, fn_client_id),
    OPT_FN("management-up-down", 0, 0, fn_not_yet),
    OPT_FN("management-signal", 0, 0, fn_not_yet),
    OPT_FN("management-forget-disconnect", 0, 0, fn_not_yet),
};

static int init(lvpn_config_t *c) {
  c->mgmt_log_cache = 1000;
  c->mgmt_client_uid = c->mgmt_client_gid = -1;
  return 0;
}

static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  fn(&c->mgmt_addr, 0, ud);
  fn(&c->mgmt_password, 0, ud);
}

static int validate(const lvpn_config_t *c, lvpn__opt_ctx_t *a) {
  if (c->mgmt_addr == NULL &&
      (c->mgmt_hold || c->mgmt_query_passwords))
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'management-hold' and 'management-query-passwords' need 'management'");
  return 0;
}

const lvpn__config_area_t lvpn__config_mgmt = {opts, OPT_COUNT(opts), init,
                                               walk, validate};
