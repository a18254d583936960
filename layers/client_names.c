/* Host names in the config's `route` options (lvpn_config_t.route_names):
 * OpenVPN resolves them when it adds the routes; a network name gives one
 * route per IPv4 address, a gateway name its first address, and a name
 * that does not resolve leaves its route out with a warning.
 *
 * Here each connection attempt asks libuv's resolver for all of them when
 * its stack is built, so the answers are usually in before the PUSH_REPLY;
 * otherwise the routes wait for them (lvpn__client_on_push defers the rest
 * of the set-up, as OpenVPN's route-delay would). A stopping stack detaches
 * its requests: their callbacks only free them. */
#include "layers/client.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

typedef struct lvpn__rname_req_s {
  uv_getaddrinfo_t req;
  lvpn_client_t *c; /* NULL once detached */
  int idx;
} rname_req_t;

struct lvpn__client_names_s {
  int n;
  struct lvpn__rname_s {
    int state; /* 0 asked, 1 resolved, -1 failed */
    int n_addrs;
    uint32_t addrs[LVPN__ROUTE_NAME_MAX_ADDRS]; /* host order */
    rname_req_t *req;
  } * names;
  int pending;
};

static void names_done(lvpn_client_t *c) {
  if (c->names->pending == 0 && c->names_waiting) {
    c->names_waiting = 0;
    if (lvpn__layer_running(&c->tun.base)) /* not while stopping */
      lvpn__client_inside_up(c);
  }
}

static void resolved_cb(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  rname_req_t *r = container_of(req, rname_req_t, req);
  lvpn_client_t *c = r->c;
  struct lvpn__rname_s *nm;
  const struct addrinfo *ai;
  const char *name;
  int i;

  if (c == NULL) { /* the stack stopped meanwhile */
    uv_freeaddrinfo(res);
    free(r);
    return;
  }
  nm = &c->names->names[r->idx];
  name = c->cfg->route_names[r->idx];
  free(r);
  nm->req = NULL;
  for (ai = status == 0 ? res : NULL; ai != NULL; ai = ai->ai_next) {
    uint32_t a;
    if (ai->ai_family != AF_INET || nm->n_addrs >= LVPN__ROUTE_NAME_MAX_ADDRS)
      continue;
    a = ntohl(((const struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr);
    for (i = 0; i < nm->n_addrs && nm->addrs[i] != a; i++)
      ;
    if (i == nm->n_addrs)
      nm->addrs[nm->n_addrs++] = a;
  }
  uv_freeaddrinfo(res);
  nm->state = nm->n_addrs > 0 ? 1 : -1;
  if (nm->state < 0)
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "RESOLVE: cannot resolve host address '%s' of a route: %s", name,
              status < 0 ? uv_strerror(status) : "no IPv4 address");
  else
    LVPN__TRACE(&c->trace, "client", "route_name", "name=%s addrs=%d", name,
                nm->n_addrs);
  c->names->pending--;
  names_done(c);
}

void lvpn__client_names_stop(lvpn_client_t *c) {
  int i;
  c->names_waiting = 0;
  if (c->names == NULL)
    return;
  for (i = 0; i < c->names->n; i++)
    if (c->names->names[i].req != NULL) {
      c->names->names[i].req->c = NULL; /* its callback frees it */
      uv_cancel((uv_req_t *)&c->names->names[i].req->req);
      c->names->names[i].req = NULL;
    }
  c->names->pending = 0;
}

void lvpn__client_names_free(lvpn_client_t *c) {
  lvpn__client_names_stop(c);
  if (c->names != NULL)
    free(c->names->names);
  free(c->names);
  c->names = NULL;
}

int lvpn__client_names_start(lvpn_client_t *c) {
  const lvpn_config_t *cfg = c->cfg;
  struct addrinfo hints;
  int i, err;

  lvpn__client_names_stop(c);
  if (cfg->n_route_names == 0)
    return 0;
  if (c->names == NULL) {
    if ((c->names = calloc(1, sizeof(*c->names))) == NULL ||
        (c->names->names = calloc((size_t)cfg->n_route_names,
                                  sizeof(*c->names->names))) == NULL) {
      free(c->names);
      c->names = NULL;
      return LVPN_ENOMEM;
    }
    c->names->n = cfg->n_route_names;
  }
  /* this attempt's answers only */
  memset(c->names->names, 0, (size_t)c->names->n * sizeof(*c->names->names));
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM; /* one answer per address */
  for (i = 0; i < c->names->n; i++) {
    struct lvpn__rname_s *nm = &c->names->names[i];
    rname_req_t *r = malloc(sizeof(*r));
    if (r == NULL)
      return LVPN_ENOMEM;
    r->c = c;
    r->idx = i;
    err = uv_getaddrinfo(c->loop, &r->req, resolved_cb, cfg->route_names[i],
                         NULL, &hints);
    if (err != 0) {
      free(r);
      nm->state = -1;
      LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
                "RESOLVE: cannot resolve host address '%s' of a route: %s",
                cfg->route_names[i], uv_strerror(err));
      continue;
    }
    nm->req = r;
    c->names->pending++;
  }
  return 0;
}

int lvpn__client_names_waiting(lvpn_client_t *c) {
  if (c->names == NULL || c->names->pending == 0)
    return 0;
  c->names_waiting = 1;
  LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
            "routes wait for %d host name(s) to resolve", c->names->pending);
  return 1;
}

int lvpn__client_names_addrs(const lvpn_client_t *c, uint16_t name,
                             const uint32_t **addrs) {
  const struct lvpn__rname_s *nm;
  if (c->names == NULL || name == 0 || name > (uint16_t)c->names->n)
    return 0;
  nm = &c->names->names[name - 1];
  *addrs = nm->addrs;
  return nm->state > 0 ? nm->n_addrs : 0;
}
