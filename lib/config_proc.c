/* Config options of the process around the tunnel: up/down scripts and
 * script-security, setenv (and setenv opt), peer info, logging,
 * ignore-unknown-option, the privilege drop (user, group, chroot: the
 * library never changes the process's identity itself; the host calls
 * lvpn_drop_privileges() once connected, as the CLI does) and cd (the base
 * directory of files named after it; the process's directory is kept).
 *
 * Process options (daemon, log, log-append, syslog, writepid, status,
 * status-version, suppress-timestamps, machine-readable-output, nice,
 * mlock) are stored for the host: lvpn_config_proc_opts(); the CLI acts on
 * them (cmd/process.c).
 *
 * Accepted, our behaviour being what it asks: down-pre (the down script
 *   always runs before the tun device is closed), errors-to-stderr (the
 *   CLI writes errors to stderr unless a log file takes the output),
 *   up-delay (the tun device is opened once the connection is up).
 * Accepted with a warning: tmp-dir (no temporary files are written),
 *   up-restart (the device is opened anew on every connection).
 * Refused: plugins, the management interface, commands of the openvpn
 *   program (genkey, show-*...), setcon (no SELinux context change).
 */
#include "lib/config_opts.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fn_setenv(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                     int n) {
  lvpn_config_t *c = a->cfg;
  lvpn__setenv_t *s;
  bool soft = a->soft;
  int e;
  if (strcmp(p[0], "opt") == 0 && n > 1) { /* unknown option: warn only */
    a->soft = true;
    e = lvpn__opt_apply(a, p + 1, n - 1);
    a->soft = soft;
    return e;
  }
  if (n > 2)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'setenv' needs a name and a value");
  if (strcmp(p[0], "FORWARD_COMPATIBLE") == 0)
    c->forward_compatible = n > 1 && strcmp(p[1], "1") == 0;
  if ((e = lvpn__opt_room(a, c->n_setenv, LVPN__CONFIG_MAX_LIST, o->name)) != 0)
    return e;
  if ((e = lvpn__opt_grow(a, (void **)&c->setenv, &c->cap_setenv, c->n_setenv,
                          LVPN__CONFIG_MAX_LIST, sizeof(*c->setenv))) != 0)
    return e;
  s = &c->setenv[c->n_setenv];
  s->name = strdup(p[0]);
  s->value = strdup(n > 1 ? p[1] : "");
  if (s->name == NULL || s->value == NULL) {
    free(s->name);
    free(s->value);
    s->name = s->value = NULL;
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  }
  c->n_setenv++;
  return 0;
}

static int fn_ignore_unknown(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                             char *const *p, int n) {
  lvpn_config_t *c = a->cfg;
  int i, e;
  for (i = 0; i < n; i++) {
    if (c->n_ignore_unknown >= LVPN__CONFIG_MAX_LIST)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "too many ignored options (max %d)",
                            LVPN__CONFIG_MAX_LIST);
    if ((e = lvpn__opt_grow(a, (void **)&c->ignore_unknown,
                            &c->cap_ignore_unknown, c->n_ignore_unknown,
                            LVPN__CONFIG_MAX_LIST,
                            sizeof(*c->ignore_unknown))) != 0)
      return e;
    if ((c->ignore_unknown[c->n_ignore_unknown] = strdup(p[i])) == NULL)
      return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
    c->n_ignore_unknown++;
  }
  return 0;
}

static int fn_cd(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                 int n) {
  lvpn_config_t *c = a->cfg;
  char *d;
  if (p[0][0] == '/' || (c->cd == NULL && a->dir == NULL))
    d = strdup(p[0]);
  else if (asprintf(&d, "%s/%s", c->cd != NULL ? c->cd : a->dir, p[0]) < 0)
    d = NULL;
  if (d == NULL)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  free(c->cd);
  c->cd = d;
  return 0;
}

/* setenv-safe NAME VALUE: setenv OPENVPN_NAME VALUE (so a config cannot set
 * PATH and the like for scripts). */
static int fn_setenv_safe(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                          char *const *p, int n) {
  char name[256];
  char *w[3];
  if (strlen(p[0]) > 200)
    return lvpn__opt_fail(a, LVPN_ECONFIG, "'setenv-safe': name too long");
  snprintf(name, sizeof(name), "OPENVPN_%s", p[0]);
  w[0] = name;
  w[1] = n > 1 ? p[1] : (char *)"";
  w[2] = NULL;
  return fn_setenv(a, o, w, 2);
}

/* echo: OpenVPN writes the line to its log (for a management client). */
static int fn_echo(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                   int n) {
  char line[256] = "";
  size_t used = 0;
  int i;
  for (i = 0; i < n && used < sizeof(line); i++)
    used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s",
                             i ? " " : "", p[i]);
  lvpn__opt_warn(a, "echo %s", line);
  return 0;
}

/* A file the process writes (log, writepid, status): below `cd` when
 * relative and cd was given, else as given (the host's directory). */
static int set_path(lvpn__opt_ctx_t *a, char **dst, const char *path) {
  const char *cd = a->cfg->cd;
  char *d;
  if (cd == NULL || path[0] == '/')
    d = strdup(path);
  else if (asprintf(&d, "%s/%s", cd, path) < 0)
    d = NULL;
  if (d == NULL)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  free(*dst);
  *dst = d;
  return 0;
}

/* daemon [name], syslog [name]: name is the program name for syslog. */
static int fn_daemon(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                     int n) {
  lvpn_config_t *c = a->cfg;
  if (strcmp(o->name, "daemon") == 0)
    c->daemon = true;
  else
    c->syslog = true;
  if (n > 0 && lvpn__opt_set_str(&c->syslog_name, p[0]) != 0)
    return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
  return 0;
}

/* log FILE (truncated at start) / log-append FILE. */
static int fn_log(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                  int n) {
  a->cfg->log_append = strcmp(o->name, "log-append") == 0;
  return set_path(a, &a->cfg->log_file, p[0]);
}

static int fn_writepid(lvpn__opt_ctx_t *a, const lvpn__opt_t *o,
                       char *const *p, int n) {
  return set_path(a, &a->cfg->writepid, p[0]);
}

/* status FILE [N]: the statistics file, rewritten every N s (60). */
static int fn_status(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                     int n) {
  int v = 60;
  if (n > 1 && lvpn__opt_get_int(a, o, p[1], 1, INT_MAX, &v) != 0)
    return LVPN_ECONFIG;
  a->cfg->status_interval = v;
  return set_path(a, &a->cfg->status_file, p[0]);
}

/* nice N: -20..19 (negative needs the privilege to raise priority). */
static int fn_nice(lvpn__opt_ctx_t *a, const lvpn__opt_t *o, char *const *p,
                   int n) {
  long v;
  if (lvpn__lex_int(p[0], -20, 19, &v) != 0)
    return lvpn__opt_fail(a, LVPN_ECONFIG,
                          "'nice' must be a number from -20 to 19, not '%s'",
                          p[0]);
  a->cfg->nice = (int)v;
  return 0;
}

static const char *const remap_names[] = {"SIGHUP", "SIGTERM", NULL};

#define MGMT "is not supported by this client's management interface"
#define CMD "is a command of the openvpn program, not a connection option"

static const lvpn__opt_t opts[] = {
    OPT_STR("user", user),
    OPT_STR("group", group),
    OPT_STR("chroot", chroot_dir),
    OPT_FN("cd", 1, 1, fn_cd),
    OPT_FN("setenv-safe", 1, 2, fn_setenv_safe),
    OPT_FN("echo", 0, LVPN__LEX_MAX_WORDS, fn_echo),
    OPT_WARN("tmp-dir", "no temporary files are written"),
    OPT_NOOP("down-pre", 0, 0),
    OPT_REFUSE("config", "(reading another file) is not supported: merge "
                         "it into this one"),
    OPT_REFUSE_HARD("plugin", "is not supported: plugins cannot be loaded"),
    OPT_REFUSE("management-client", MGMT),
    OPT_REFUSE_HARD("management-external-cert", MGMT),
    OPT_REFUSE_HARD("management-external-key", MGMT),
    OPT_REFUSE("management-query-proxy", MGMT),
    OPT_REFUSE("management-query-remote", MGMT),
    OPT_REFUSE("management-client-pf", "was removed in OpenVPN 2.6"),
    OPT_REFUSE("genkey", CMD),
    OPT_REFUSE("help", CMD),
    OPT_REFUSE("version", CMD),
    OPT_REFUSE("mktun", CMD),
    OPT_REFUSE("rmtun", CMD),
    OPT_REFUSE("test-crypto", CMD),
    OPT_REFUSE("show-ciphers", CMD),
    OPT_REFUSE("show-digests", CMD),
    OPT_REFUSE("show-engines", CMD),
    OPT_REFUSE("show-gateway", CMD),
    OPT_REFUSE("show-groups", CMD),
    OPT_REFUSE("show-tls", CMD),
    OPT_REFUSE("show-pkcs11-ids", CMD),
    OPT_REFUSE("show-curves", CMD),
    OPT_FN("daemon", 0, 1, fn_daemon),
    OPT_FN("syslog", 0, 1, fn_daemon),
    OPT_FN("log", 1, 1, fn_log),
    OPT_FN("log-append", 1, 1, fn_log),
    OPT_FN("writepid", 1, 1, fn_writepid),
    OPT_FN("status", 1, 2, fn_status),
    OPT_INT("status-version", status_version, 1, 3),
    OPT_FLAG("suppress-timestamps", suppress_timestamps),
    OPT_FLAG("machine-readable-output", machine_readable),
    OPT_NOOP("errors-to-stderr", 0, 0),
    OPT_STR("ipchange", ipchange),
    OPT_STR("route-up", route_up),
    OPT_STR("route-pre-down", route_pre_down),
    OPT_NOOP("up-delay", 0, 0),
    OPT_WARN("up-restart", "the tun device is opened anew on every "
                           "connection, so up/down always run (context "
                           "'init'), as OpenVPN without a kept device"),
    OPT_KW("remap-usr1", remap_usr1, 1, remap_names),
    OPT_FN("nice", 1, 1, fn_nice),
    OPT_FLAG("mlock", mlock),
    OPT_REFUSE("setcon", "is not supported: this client does not change "
                         "its SELinux context"),
    OPT_STR("up", up),
    OPT_STR("down", down),
    OPT_INT("script-security", script_security, 0, 3),
    OPT_FN("setenv", 1, LVPN__LEX_MAX_WORDS, fn_setenv),
    OPT_FLAG("push-peer-info", push_peer_info),
    OPT_INT("verb", verb, 0, 11),
    OPT_INT("mute", mute, 0, INT_MAX),
    OPT_FN("ignore-unknown-option", 1, LVPN__LEX_MAX_WORDS, fn_ignore_unknown),
};

static int init(lvpn_config_t *c) {
  c->script_security = 1;
  c->verb = 3;
  c->status_interval = 60;
  c->status_version = 1;
  return 0;
}

static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  int k;
  fn(&c->up, 0, ud);
  fn(&c->down, 0, ud);
  fn(&c->route_up, 0, ud);
  fn(&c->route_pre_down, 0, ud);
  fn(&c->ipchange, 0, ud);
  fn(&c->user, 0, ud);
  fn(&c->group, 0, ud);
  fn(&c->chroot_dir, 0, ud);
  fn(&c->cd, 0, ud);
  fn(&c->syslog_name, 0, ud);
  fn(&c->log_file, 0, ud);
  fn(&c->writepid, 0, ud);
  fn(&c->status_file, 0, ud);
  for (k = 0; k < c->n_setenv; k++) {
    fn(&c->setenv[k].name, 0, ud);
    fn(&c->setenv[k].value, 0, ud);
  }
  for (k = 0; k < c->n_ignore_unknown; k++)
    fn(&c->ignore_unknown[k], 0, ud);
}

const lvpn__config_area_t lvpn__config_proc = {opts, OPT_COUNT(opts), init,
                                               walk, NULL};

void lvpn_config_proc_opts(const lvpn_config_t *c, lvpn_proc_opts_t *out) {
  memset(out, 0, sizeof(*out));
  out->daemon = c->daemon;
  out->use_syslog = (c->syslog || c->daemon) && c->log_file == NULL;
  out->syslog_name = c->syslog_name;
  out->log_file = c->log_file;
  out->log_append = c->log_append;
  out->writepid = c->writepid;
  out->status_file = c->status_file;
  out->status_interval = c->status_interval;
  out->status_version = c->status_version;
  out->suppress_timestamps = c->suppress_timestamps;
  out->machine_readable = c->machine_readable;
  out->nice = c->nice;
  out->mlock = c->mlock;
  out->remap_usr1 = c->remap_usr1 == 1   ? SIGHUP
                    : c->remap_usr1 == 2 ? SIGTERM
                                         : 0;
}
