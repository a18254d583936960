/* PUSH_UPDATE parsing (see push_update.h). Values are parsed by the
 * PUSH_REPLY parser, one option at a time, on a copy of the options. */
#include "layers/tlssession/push_update.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "lib/redact.h"

#define PUSH_UPDATE "PUSH_UPDATE"
#define PUSH_REPLY_PREFIX "PUSH_REPLY,"

/* 2.7's updatable_options[] (options_util.c), with what each touches. */
static const struct {
  const char *name;
  unsigned kind;
  int list; /* the first of a sequence replaces the whole list */
} updatable[] = {
    {"block-ipv6", LVPN__PU_BLOCK_IPV6, 0},
    {"block-outside-dns", LVPN__PU_OTHER, 0},
    {"dhcp-option", LVPN__PU_DHCP, 1},
    {"dns", LVPN__PU_DNS, 1},
    {"ifconfig", LVPN__PU_IFCONFIG, 0},
    {"ifconfig-ipv6", LVPN__PU_IFCONFIG6, 0},
    {"push-continuation", 0, 0},
    {"redirect-gateway", LVPN__PU_REDIRECT, 1},
    {"redirect-private", LVPN__PU_REDIRECT, 1},
    {"route", LVPN__PU_ROUTE, 1},
    {"route-gateway", LVPN__PU_ROUTE_GATEWAY, 0},
    {"route-ipv6", LVPN__PU_ROUTE6, 1},
    {"route-metric", LVPN__PU_ROUTE_METRIC, 0},
    {"topology", LVPN__PU_TOPOLOGY, 0},
    {"tun-mtu", LVPN__PU_TUN_MTU, 0},
    {"keepalive", LVPN__PU_KEEPALIVE, 0},
};

static int uerr(lvpn__push_update_t *u, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(u->err, sizeof(u->err), fmt, ap);
  va_end(ap);
  lvpn__push_update_free(u);
  return LVPN_EPUSH;
}

void lvpn__push_update_init(lvpn__push_update_t *u) {
  memset(u, 0, sizeof(*u));
}

void lvpn__push_update_free(lvpn__push_update_t *u) {
  if (u->next != NULL) {
    lvpn__push_free(u->next); /* no auth-token: see begin() */
    free(u->next);
  }
  u->next = NULL;
  u->reset = u->changed = 0;
  u->n_set = u->n_removed = u->n_skipped = 0;
}

static int begin(lvpn__push_update_t *u, const lvpn__push_t *cur) {
  u->next = malloc(sizeof(*u->next));
  if (u->next == NULL)
    return LVPN_ENOMEM;
  memcpy(u->next, cur, sizeof(*u->next));
  /* the heap strings stay with `cur` (auth-token is not updatable) */
  u->next->auth_token = u->next->auth_token_user = NULL;
  if (lvpn__push_dup_lists(u->next) != 0) {
    free(u->next);
    u->next = NULL;
    return LVPN_ENOMEM;
  }
  u->next->more = false;
  u->next->err[0] = '\0';
  u->reset = u->changed = 0;
  u->not_updatable = 0;
  u->n_set = u->n_removed = u->n_skipped = 0;
  return 0;
}

/* Empties one kind, as 2.7's remove_option() or the first update_option()
 * of a sequence does. */
static void clear_kind(lvpn__push_t *p, const char *name, unsigned kind) {
  switch (kind) {
  case LVPN__PU_ROUTE:
    p->n_routes = 0;
    break;
  case LVPN__PU_ROUTE6:
    p->n_routes6 = 0;
    break;
  case LVPN__PU_REDIRECT: /* 2.7 clears the flags of both */
    p->redirect_gateway = p->redirect_private = 0;
    break;
  case LVPN__PU_DNS: /* the `dns` option's fields, as push.c stores them */
    free(p->dns);
    p->dns = NULL;
    break;
  case LVPN__PU_DHCP:
    p->n_dhcp = 0;
    break;
  case LVPN__PU_IFCONFIG:
    p->has_ifconfig = false;
    break;
  case LVPN__PU_IFCONFIG6:
    p->has_ifconfig6 = p->has_ifconfig6_remote = false;
    break;
  case LVPN__PU_TOPOLOGY:
    p->has_topology = false;
    p->topology = LVPN__TOPO_NET30;
    break;
  case LVPN__PU_TUN_MTU:
    p->tun_mtu = -1;
    break;
  case LVPN__PU_ROUTE_GATEWAY:
    p->has_route_gateway = p->route_gateway_dhcp = false;
    break;
  case LVPN__PU_ROUTE_METRIC:
    p->route_metric = -1;
    break;
  case LVPN__PU_BLOCK_IPV6:
    p->block_ipv6 = false;
    break;
  default:
    (void)name;
    break;
  }
}

/* "keepalive N M" as a client reads it: ping N, ping-restart M. */
static int keepalive(lvpn__push_update_t *u, const char *args) {
  long a, b;
  char *end;
  a = strtol(args, &end, 10);
  if (end == args || !isspace((unsigned char)*end))
    return uerr(u, "PUSH_UPDATE: keepalive: expected two numbers, got '%s'",
                args);
  b = strtol(end, &end, 10);
  while (isspace((unsigned char)*end))
    end++;
  if (*end != '\0' || a < 0 || b < 0 || a > INT_MAX || b > INT_MAX)
    return uerr(u, "PUSH_UPDATE: keepalive: expected two numbers, got '%s'",
                args);
  u->next->ping = (int)a;
  u->next->ping_restart = (int)b;
  return 0;
}

/* `text` for an error message: copied into shown[LVPN__PUSH_MAX_OPTION]
 * with an auth-token's value masked (lib/redact.h), after any '-'/'?'. */
static const char *shown_of(char *shown, const char *text) {
  size_t skip = strspn(text, "-?");
  snprintf(shown, LVPN__PUSH_MAX_OPTION, "%s", text);
  lvpn__redact_mask(shown + skip, strlen(shown + skip));
  return shown;
}

/* One option of the update; `text` is trimmed of leading spaces. */
static int update_one(lvpn__push_update_t *u, const char *text,
                      lvpn__push_warn_cb warn, void *ud) {
  char buf[sizeof(PUSH_REPLY_PREFIX) + LVPN__PUSH_MAX_OPTION];
  char shown[LVPN__PUSH_MAX_OPTION];
  const char *name = text, *args;
  int remove = 0, optional = 0, e;
  size_t i, nl;

  if (*name == '-') {
    if (name[1] == '\0')
      return uerr(u, "PUSH_UPDATE: lone '-'");
    remove = 1;
    name++;
  }
  if (*name == '?') {
    if (name[1] == '\0' || name[1] == '-')
      return uerr(u, "PUSH_UPDATE: malformed option '%.200s'",
                  shown_of(shown, text));
    optional = 1;
    name++;
  }
  nl = strcspn(name, " \t");
  args = name + nl;
  while (isspace((unsigned char)*args))
    args++;
  for (i = 0; i < sizeof(updatable) / sizeof(updatable[0]); i++)
    if (strlen(updatable[i].name) == nl &&
        strncmp(updatable[i].name, name, nl) == 0)
      break;
  if (i == sizeof(updatable) / sizeof(updatable[0])) {
    if (optional) {
      u->n_skipped++;
      return 0;
    }
    e = uerr(u, "PUSH_UPDATE: pushed option is not updatable: '%.200s'",
             shown_of(shown, text));
    u->not_updatable = 1;
    return e;
  }
  u->changed |= updatable[i].kind;
  if (remove) {
    if (*args != '\0' || strcmp(updatable[i].name, "keepalive") == 0) {
      /* 2.7 removes only by bare name ("-route"), keepalive not at all */
      u->n_skipped++;
      if (warn != NULL)
        warn(ud, text, "PUSH_UPDATE removes only by bare name");
      return 0;
    }
    clear_kind(u->next, updatable[i].name, updatable[i].kind);
    u->n_removed++;
    return 0;
  }
  if (updatable[i].list && !(u->reset & updatable[i].kind)) {
    clear_kind(u->next, updatable[i].name, updatable[i].kind);
    u->reset |= updatable[i].kind;
  }
  u->n_set++;
  if (updatable[i].kind == LVPN__PU_KEEPALIVE)
    return keepalive(u, args);
  /* push-continuation too: the PUSH_REPLY parser sets next->more */
  snprintf(buf, sizeof(buf), "%s%s", PUSH_REPLY_PREFIX, name);
  u->next->more = false;
  e = lvpn__push_parse(u->next, buf, strlen(buf), warn, ud);
  if (e < 0) {
    if (optional) { /* a dispensable option may fail alone */
      u->n_skipped++;
      return 0;
    }
    return uerr(u, "PUSH_UPDATE: %s", u->next->err);
  }
  return e; /* 1 after "push-continuation 2" */
}

int lvpn__push_update_parse(lvpn__push_update_t *u, const lvpn__push_t *cur,
                            const char *msg, size_t len,
                            lvpn__push_warn_cb warn, void *ud) {
  char text[LVPN__PUSH_MAX_OPTION];
  const size_t kl = strlen(PUSH_UPDATE);
  const char *end, *s;
  size_t pos, olen;
  int e, more = 0;

  u->err[0] = '\0';
  u->not_updatable = 0;
  if (msg == NULL)
    return uerr(u, "not a PUSH_UPDATE message");
  while (len > 0 && msg[len - 1] == '\0')
    len--;
  if (len > LVPN__LEX_MAX_LINE)
    return uerr(u, "PUSH_UPDATE too long (%zu bytes)", len);
  if (memchr(msg, '\0', len) != NULL)
    return uerr(u, "NUL byte inside PUSH_UPDATE");
  if (len < kl || memcmp(msg, PUSH_UPDATE, kl) != 0 ||
      (len > kl && msg[kl] != ','))
    return uerr(u, "not a PUSH_UPDATE message");
  if (u->next == NULL && (e = begin(u, cur)) != 0)
    return uerr(u, "out of memory");
  for (pos = kl + 1; pos < len; pos = olen + 1) {
    end = memchr(msg + pos, ',', len - pos);
    olen = end != NULL ? (size_t)(end - msg) : len;
    s = msg + pos;
    while (s < msg + olen && isspace((unsigned char)*s))
      s++;
    if (s == msg + olen)
      continue;
    if ((size_t)(msg + olen - s) >= sizeof(text))
      return uerr(u, "PUSH_UPDATE: option too long (max %d bytes)",
                  LVPN__PUSH_MAX_OPTION - 1);
    memcpy(text, s, (size_t)(msg + olen - s));
    text[msg + olen - s] = '\0';
    e = update_one(u, text, warn, ud);
    if (e >= 0 && strncmp(text, "push-continuation", 17) == 0)
      more = e;
    /* a rejected option may be an auth-token (not updatable) */
    mbedtls_platform_zeroize(text, sizeof(text));
    if (e < 0)
      return e;
  }
  return more;
}

void lvpn__push_update_commit(lvpn__push_update_t *u, lvpn__push_t *cur) {
  char *tok, *tok_user;
  if (u->next == NULL)
    return;
  tok = cur->auth_token;
  tok_user = cur->auth_token_user;
  lvpn__push_free_lists(cur); /* the next one's move over */
  memcpy(cur, u->next, sizeof(*cur));
  cur->auth_token = tok;
  cur->auth_token_user = tok_user;
  cur->more = false;
  free(u->next);
  u->next = NULL;
  u->reset = 0;
}
