/* networkio's address helpers, loop-free: OpenVPN's protocol names, address
 * formatting and comparison, and the choice of resolved addresses. */
#include "layers/networkio/networkio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *const proto_names[] = {"udp", "udp4", "udp6",
                                          "tcp", "tcp4", "tcp6"};

/* ---- names and addresses ---- */

int lvpn__net_proto_parse(const char *s, lvpn__net_proto_t *out) {
  static const struct {
    const char *name;
    lvpn__net_proto_t proto;
  } alias[] = {{"tcp-client", LVPN__NET_TCP},
               {"tcp4-client", LVPN__NET_TCP4},
               {"tcp6-client", LVPN__NET_TCP6}};
  size_t i;

  if (s == NULL)
    return LVPN_EINVAL;
  for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
    if (strcmp(s, proto_names[i]) == 0) {
      *out = (lvpn__net_proto_t)i;
      return 0;
    }
  }
  for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
    if (strcmp(s, alias[i].name) == 0) {
      *out = alias[i].proto;
      return 0;
    }
  }
  return LVPN_EINVAL;
}

const char *lvpn__net_proto_name(lvpn__net_proto_t proto) {
  if ((unsigned)proto >= sizeof(proto_names) / sizeof(proto_names[0]))
    return "?";
  return proto_names[proto];
}

int lvpn__networkio_addr_str(const struct sockaddr_storage *ss, char *buf,
                             size_t len) {
  char ip[INET6_ADDRSTRLEN];
  int r;

  if (len == 0)
    return UV_ENOSPC;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    uv_ip4_name(a, ip, sizeof(ip));
    r = snprintf(buf, len, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    uv_ip6_name(a, ip, sizeof(ip));
    r = snprintf(buf, len, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
  } else {
    snprintf(buf, len, "?");
    return LVPN_EINVAL;
  }
  return (r < 0 || (size_t)r >= len) ? UV_ENOSPC : 0;
}

int lvpn__net_same_addr(const struct sockaddr *a,
                     const struct sockaddr_storage *b) {
  if (a->sa_family != b->ss_family)
    return 0;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const struct sockaddr_in *)a;
    const struct sockaddr_in *y = (const struct sockaddr_in *)b;
    return x->sin_port == y->sin_port &&
           x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
    const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
  }
  return 0;
}


int lvpn__net_collect_addrs(const struct addrinfo *res, uint16_t port,
                            struct sockaddr_storage *out, int max) {
  const struct addrinfo *ai;
  int n = 0;
  for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET ||
         ai->ai_addrlen < sizeof(struct sockaddr_in)) &&
        (ai->ai_family != AF_INET6 ||
         ai->ai_addrlen < sizeof(struct sockaddr_in6)))
      continue;
    memset(&out[n], 0, sizeof(out[n]));
    memcpy(&out[n], ai->ai_addr,
           ai->ai_family == AF_INET ? sizeof(struct sockaddr_in)
                                    : sizeof(struct sockaddr_in6));
    if (ai->ai_family == AF_INET)
      ((struct sockaddr_in *)&out[n])->sin_port = htons(port);
    else
      ((struct sockaddr_in6 *)&out[n])->sin6_port = htons(port);
    n++;
  }
  return n;
}

int lvpn__net_numeric_addr(const char *host, uint16_t port, int family,
                           struct sockaddr_storage *out) {
  memset(out, 0, sizeof(*out));
  if (host == NULL)
    return 0;
  if (family != AF_INET6 &&
      uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0)
    return 1;
  if (family != AF_INET && strchr(host, ':') != NULL &&
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0)
    return 1;
  memset(out, 0, sizeof(*out));
  return 0;
}

int lvpn__net_bind_addr(const char *local, uint16_t port, int family,
                        struct sockaddr_storage *out) {
  int v6 = family == AF_INET6;
  const char *ip = local != NULL && local[0] != '\0' ? local
                   : v6                              ? "::"
                                                     : "0.0.0.0";
  memset(out, 0, sizeof(*out));
  if (v6 ? uv_ip6_addr(ip, port, (struct sockaddr_in6 *)out) != 0
         : uv_ip4_addr(ip, port, (struct sockaddr_in *)out) != 0)
    return LVPN_EINVAL;
  return 0;
}

int lvpn__net_set_tos(const uv_handle_t *h, int tos) {
  uv_os_fd_t fd;
  if (uv_fileno(h, &fd) != 0)
    return -1;
  return setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) == 0 ? 0 : -1;
}

int lvpn__net_sockopts(lvpn__networkio_t *n, int fd, int family) {
  int v6 = family == AF_INET6, e = 0;
  const char *what = NULL;
  char why[160];

  if (n->mark != 0 &&
      setsockopt(fd, SOL_SOCKET, SO_MARK, &n->mark, sizeof(n->mark)) != 0) {
    e = errno;
    what = "mark";
  } else if (n->bind_dev[0] != '\0' &&
             setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, n->bind_dev,
                        (socklen_t)strlen(n->bind_dev)) != 0) {
    e = errno;
    what = "bind-dev";
  } else if (n->mtu_disc >= 0 &&
             setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                        v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, &n->mtu_disc,
                        sizeof(n->mtu_disc)) != 0) {
    e = errno;
    what = "mtu-disc";
  }
  if (what == NULL)
    return 0;
  if (strcmp(what, "bind-dev") == 0 && e == ENODEV)
    snprintf(why, sizeof(why), "no network device '%s'", n->bind_dev);
  else if (e == EPERM)
    snprintf(why, sizeof(why), "%s (it needs CAP_NET_ADMIN)", strerror(e));
  else
    snprintf(why, sizeof(why), "%s", strerror(e));
  LVPN__LOG(n->base.log, LVPN_LOG_FATAL, "networkio", "%s: %s", what, why);
  return -e;
}

/* ---- float: switching to an authenticated candidate address ---- */
void lvpn__networkio_float(lvpn__networkio_t *n, uint8_t float_gen) {
  char from[64], to[64];

  if (float_gen == 0 || float_gen != n->cand_gen ||
      lvpn__net_same_addr((const struct sockaddr *)&n->candidate, &n->remote))
    return;
  lvpn__networkio_addr_str(&n->remote, from, sizeof(from));
  lvpn__networkio_addr_str(&n->candidate, to, sizeof(to));
  n->remote = n->candidate;
  n->cand_gen = 0;
  n->stats.floated++;
  LVPN__LOG(n->base.log, LVPN_LOG_INFO, "networkio",
            "peer floated from %s to %s", from, to);
  LVPN__TRACE(n->base.trace, "networkio", "float", "from=%s to=%s", from, to);
}

/* The address to bind: local/lport (bind_local, of the server's family)
 * or any address with a port the system picks. */
int lvpn__networkio_local_addr(lvpn__networkio_t *n,
                               struct sockaddr_storage *a) {
  char ip[64];
  uint16_t port = 0;
  const char *local = NULL;

  if (n->bind_local) {
    port = ntohs(((struct sockaddr_in *)&n->bind_addr)->sin_port);
    if (n->bind_addr.ss_family == AF_INET6 &&
        !IN6_IS_ADDR_UNSPECIFIED(
            &((struct sockaddr_in6 *)&n->bind_addr)->sin6_addr))
      local = uv_ip6_name((struct sockaddr_in6 *)&n->bind_addr, ip,
                          sizeof(ip)) == 0 ? ip : NULL;
    else if (n->bind_addr.ss_family == AF_INET &&
             ((struct sockaddr_in *)&n->bind_addr)->sin_addr.s_addr != 0)
      local = uv_ip4_name((struct sockaddr_in *)&n->bind_addr, ip,
                          sizeof(ip)) == 0 ? ip : NULL;
  }
  if (lvpn__net_bind_addr(local, port, n->remote.ss_family, a) != 0) {
    LVPN__LOG(n->base.log, LVPN_LOG_ERROR, "networkio",
              "cannot bind to local address %s: not of the server's "
              "address family", local);
    return UV_EAFNOSUPPORT;
  }
  return 0;
}
