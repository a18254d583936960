/* Config options of the process around the tunnel: up/down scripts and
 * script-security, setenv (and setenv opt), peer info, logging, and
 * ignore-unknown-option.
 *
 * Accepted and ignored on purpose:
 *   user, group               the library never changes its credentials
 */
#include "lib/config_opts.h"

#include <limits.h>
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
  int i;
  for (i = 0; i < n; i++) {
    if (c->n_ignore_unknown >= LVPN__CONFIG_MAX_LIST)
      return lvpn__opt_fail(a, LVPN_ECONFIG,
                            "too many ignored options (max %d)",
                            LVPN__CONFIG_MAX_LIST);
    if ((c->ignore_unknown[c->n_ignore_unknown] = strdup(p[i])) == NULL)
      return lvpn__opt_fail(a, LVPN_ENOMEM, "out of memory");
    c->n_ignore_unknown++;
  }
  return 0;
}

static const lvpn__opt_t opts[] = {
    OPT_STR("up", up),
    OPT_STR("down", down),
    OPT_INT("script-security", script_security, 0, 3),
    OPT_FN("setenv", 1, LVPN__LEX_MAX_WORDS, fn_setenv),
    OPT_FLAG("push-peer-info", push_peer_info),
    OPT_INT("verb", verb, 0, 11),
    OPT_INT("mute", mute, 0, INT_MAX),
    OPT_FN("ignore-unknown-option", 1, LVPN__LEX_MAX_WORDS, fn_ignore_unknown),
    OPT_NOOP("user", 1, 1),
    OPT_NOOP("group", 1, 1),
};

static int init(lvpn_config_t *c) {
  c->script_security = 1;
  c->verb = 3;
  return 0;
}

static void walk(lvpn_config_t *c, lvpn__config_ptr_fn fn, void *ud) {
  int k;
  fn(&c->up, 0, ud);
  fn(&c->down, 0, ud);
  for (k = 0; k < c->n_setenv; k++) {
    fn(&c->setenv[k].name, 0, ud);
    fn(&c->setenv[k].value, 0, ud);
  }
  for (k = 0; k < c->n_ignore_unknown; k++)
    fn(&c->ignore_unknown[k], 0, ud);
}

const lvpn__config_area_t lvpn__config_proc = {opts, OPT_COUNT(opts), init,
                                               walk, NULL};
