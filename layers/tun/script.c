/* Up/down scripts: OpenVPN's argument and environment conventions,
 * posix_spawn without a shell. See script.h. */
#include "layers/tun/script.h"

#include <errno.h>
#include <signal.h>
#include <arpa/inet.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layervpn.h"
#include "layers/tun/netlink.h"

#define SCRIPT_MAX_WORDS 64
#define SCRIPT_DEFAULT_PATH                                                    \
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- environment list ---- */

void lvpn__script_env_init(lvpn__script_env_t *env) {
  memset(env, 0, sizeof(*env));
}

void lvpn__script_env_free(lvpn__script_env_t *env) {
  size_t i;
  for (i = 0; i < env->n; i++)
    free(env->vars[i]);
  free(env->vars);
  memset(env, 0, sizeof(*env));
}

static ssize_t env_find(const lvpn__script_env_t *env, const char *name) {
  size_t i, len = strlen(name);
  for (i = 0; i < env->n; i++)
    if (strncmp(env->vars[i], name, len) == 0 && env->vars[i][len] == '=')
      return (ssize_t)i;
  return -1;
}

int lvpn__script_env_add(lvpn__script_env_t *env, const char *name,
                         const char *value) {
  size_t nlen, vlen;
  ssize_t at;
  char *var;

  if (name == NULL || name[0] == '\0' || strchr(name, '=') != NULL)
    return LVPN_EINVAL;
  if (value == NULL)
    value = "";
  nlen = strlen(name);
  vlen = strlen(value);
  var = malloc(nlen + vlen + 2);
  if (var == NULL)
    return LVPN_ENOMEM;
  memcpy(var, name, nlen);
  var[nlen] = '=';
  memcpy(var + nlen + 1, value, vlen + 1);

  at = env_find(env, name);
  if (at >= 0) {
    free(env->vars[at]);
    env->vars[at] = var;
    return 0;
  }
  if (env->n + 1 >= env->cap) {
    size_t cap = env->cap ? env->cap * 2 : 32;
    char **v = realloc(env->vars, cap * sizeof(*v));
    if (v == NULL) {
      free(var);
      return LVPN_ENOMEM;
    }
    env->vars = v;
    env->cap = cap;
  }
  env->vars[env->n++] = var;
  env->vars[env->n] = NULL;
  return 0;
}

int lvpn__script_env_add_fmt(lvpn__script_env_t *env, const char *name,
                             const char *fmt, ...) {
  char small[256], *buf = small;
  va_list ap;
  int len, r;

  va_start(ap, fmt);
  len = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (len < 0)
    return LVPN_EINVAL;
  if ((size_t)len >= sizeof(small)) {
    buf = malloc((size_t)len + 1);
    if (buf == NULL)
      return LVPN_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)len + 1, fmt, ap);
    va_end(ap);
  }
  r = lvpn__script_env_add(env, name, buf);
  if (buf != small)
    free(buf);
  return r;
}

const char *lvpn__script_env_get(const lvpn__script_env_t *env,
                                 const char *name) {
  ssize_t at = env_find(env, name);
  return at < 0 ? NULL : env->vars[at] + strlen(name) + 1;
}

const char *const *lvpn__script_env_list(const lvpn__script_env_t *env) {
  static const char *const empty[] = {NULL};
  return env->n > 0 ? (const char *const *)env->vars : empty;
}

/* ---- OpenVPN's standard variables ---- */

static int add_opt(lvpn__script_env_t *env, const char *name,
                   const char *value) {
  return value != NULL ? lvpn__script_env_add(env, name, value) : 0;
}

/* trusted_ip / trusted_ip6 and the port, as OpenVPN's setenv_sockaddr. */
static int add_addr(lvpn__script_env_t *env, const char *prefix, const char *ip,
                    int port) {
  char name[32];
  int r;
  if (ip == NULL)
    return 0;
  snprintf(name, sizeof(name), "%s_ip%s", prefix,
           strchr(ip, ':') != NULL ? "6" : "");
  if ((r = lvpn__script_env_add(env, name, ip)) < 0)
    return r;
  if (port > 0) {
    snprintf(name, sizeof(name), "%s_port", prefix);
    return lvpn__script_env_add_fmt(env, name, "%d", port);
  }
  return 0;
}

int lvpn__script_env_standard(lvpn__script_env_t *env,
                              const lvpn__script_info_t *in) {
  char name[48];
  size_t i;
  int r = 0;

#define TRY(x)                                                                 \
  do {                                                                         \
    if ((r = (x)) < 0)                                                         \
      return r;                                                                \
  } while (0)
  TRY(add_opt(env, "script_type", in->script_type));
  TRY(lvpn__script_env_add(env, "script_context",
                           in->script_context ? in->script_context : "init"));
  TRY(add_opt(env, "dev", in->dev));
  TRY(lvpn__script_env_add(env, "dev_type", "tun"));
  if (in->tun_mtu > 0)
    TRY(lvpn__script_env_add_fmt(env, "tun_mtu", "%d", in->tun_mtu));
  if (in->link_mtu > 0)
    TRY(lvpn__script_env_add_fmt(env, "link_mtu", "%d", in->link_mtu));
  TRY(add_opt(env, "ifconfig_local", in->ifconfig_local));
  TRY(add_opt(env,
              in->topology == LVPN__TOPOLOGY_SUBNET ? "ifconfig_netmask"
                                                    : "ifconfig_remote",
              in->ifconfig_remote_netmask));
  if (in->ifconfig_ipv6_local != NULL) {
    TRY(lvpn__script_env_add(env, "ifconfig_ipv6_local",
                             in->ifconfig_ipv6_local));
    TRY(lvpn__script_env_add_fmt(env, "ifconfig_ipv6_netbits", "%d",
                                 in->ifconfig_ipv6_netbits));
    TRY(add_opt(env, "ifconfig_ipv6_remote", in->ifconfig_ipv6_remote));
  }
  TRY(add_opt(env, "route_vpn_gateway", in->route_vpn_gateway));
  TRY(add_opt(env, "route_net_gateway", in->route_net_gateway));
  for (i = 0; i < in->n_dhcp_options; i++) {
    snprintf(name, sizeof(name), "foreign_option_%zu", i + 1);
    TRY(lvpn__script_env_add_fmt(env, name, "dhcp-option %s",
                                 in->dhcp_options[i]));
  }
  TRY(add_opt(env, "common_name", in->common_name));
  TRY(add_addr(env, "trusted", in->trusted_ip, in->trusted_port));
  TRY(add_addr(env, "untrusted", in->untrusted_ip, in->untrusted_port));
  TRY(add_opt(env, "remote_1", in->remote_1));
  if (in->remote_port_1 > 0)
    TRY(lvpn__script_env_add_fmt(env, "remote_port_1", "%d",
                                 in->remote_port_1));
  TRY(add_opt(env, "proto_1", in->proto_1));
  TRY(lvpn__script_env_add_fmt(env, "verb", "%d", in->verb));
  TRY(add_opt(env, "config", in->config));
#undef TRY
  return 0;
}

/* route_ipv6_network_N / _gateway_N / _metric_N of one route. */
static int env_route6(lvpn__script_env_t *env, const lvpn__tun_route6_t *rt,
                      int n) {
  static const uint8_t any[16];
  char name[48], a[INET6_ADDRSTRLEN];
  int r;
  snprintf(name, sizeof(name), "route_ipv6_network_%d", n);
  inet_ntop(AF_INET6, rt->dst, a, sizeof(a));
  if ((r = lvpn__script_env_add_fmt(env, name, "%s/%u", a, rt->prefixlen)) < 0)
    return r;
  snprintf(name, sizeof(name), "route_ipv6_gateway_%d", n);
  inet_ntop(AF_INET6, rt->has_gateway ? rt->gateway : any, a, sizeof(a));
  if ((r = lvpn__script_env_add(env, name, a)) < 0 || !rt->metric_set)
    return r;
  snprintf(name, sizeof(name), "route_ipv6_metric_%d", n);
  return lvpn__script_env_add_fmt(env, name, "%u", rt->metric);
}

int lvpn__script_env_routes(lvpn__script_env_t *env,
                            const lvpn__tun_plan_t *plan) {
  char name[48], a[INET6_ADDRSTRLEN];
  size_t i;
  int n = 0, r = 0, k;

#define TRY(x)                                                                 \
  do {                                                                         \
    if ((r = (x)) < 0)                                                         \
      return r;                                                                \
  } while (0)
  for (i = 0; i < plan->n_routes4; i++) {
    const lvpn__tun_route4_t *rt = &plan->routes4[i];
    if (!rt->env)
      continue;
    n++; /* an undefined route keeps its number, as OpenVPN */
    if (rt->skip)
      continue;
    snprintf(name, sizeof(name), "route_network_%d", n);
    TRY(lvpn__script_env_add(env, name, lvpn__ip4_str(rt->dst, a)));
    snprintf(name, sizeof(name), "route_netmask_%d", n);
    TRY(lvpn__script_env_add(
        env, name, lvpn__ip4_str(lvpn__prefix_to_netmask(rt->prefixlen), a)));
    snprintf(name, sizeof(name), "route_gateway_%d", n);
    TRY(lvpn__script_env_add(env, name, lvpn__ip4_str(rt->gateway, a)));
    if (rt->metric_set) {
      snprintf(name, sizeof(name), "route_metric_%d", n);
      TRY(lvpn__script_env_add_fmt(env, name, "%u", rt->metric));
    }
  }
  /* IPv6, in OpenVPN's order (route.c init_route_ipv6_list): the IPv6
   * server's host route (on-link: gateway ::, metric 1), the route-ipv6
   * options, then redirect-gateway ipv6's four */
  n = 0;
  if (plan->has_server6_route && plan->net6_looked_up) {
    lvpn__tun_route6_t srv;
    memset(&srv, 0, sizeof(srv));
    memcpy(srv.dst, plan->server6, 16);
    srv.prefixlen = 128;
    srv.has_gateway = plan->net6_has_gateway;
    memcpy(srv.gateway, plan->net6_gateway, 16);
    srv.metric = 1;
    srv.metric_set = 1;
    TRY(env_route6(env, &srv, ++n));
  }
  for (k = 1; k <= 2; k++)
    for (i = 0; i < plan->n_routes6; i++)
      if (plan->routes6[i].env == k)
        TRY(env_route6(env, &plan->routes6[i], ++n));
#undef TRY
  return 0;
}

/* ---- command line ---- */

int lvpn__script_split(const char *cmd, char **argv, size_t max, char *store,
                       size_t storelen) {
  const char *s = cmd;
  size_t argc = 0, used = 0;

  if (cmd == NULL || max < 2)
    return LVPN_EINVAL;
  for (;;) {
    char quote = 0;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
      s++;
    if (*s == '\0')
      break;
    if (argc + 1 >= max)
      return LVPN_EINVAL;
    argv[argc++] = store + used;
    while (*s != '\0') {
      char c = *s++;
      if (quote == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
        break;
      if (quote == 0 && (c == '"' || c == '\'')) {
        quote = c;
        continue;
      }
      if (quote != 0 && c == quote) {
        quote = 0;
        continue;
      }
      if (c == '\\' && quote != '\'') {
        if (*s == '\0')
          return LVPN_EINVAL;
        c = *s++;
      }
      if (used + 1 >= storelen)
        return LVPN_EINVAL;
      store[used++] = c;
    }
    if (quote != 0)
      return LVPN_EINVAL;
    store[used++] = '\0';
  }
  if (argc == 0)
    return LVPN_EINVAL;
  argv[argc] = NULL;
  return (int)argc;
}

/* ---- running ---- */

static int spawn_wait(char *const *argv, char *const *envp, int *exit_status) {
  posix_spawnattr_t attr;
  sigset_t none, def;
  pid_t pid;
  int r, status;

  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  /* posix_spawn reports a failed exec only where the C library can (not
   * under valgrind, for one): check the common failures first. */
  if (access(argv[0], X_OK) != 0)
    return -errno;
  if ((r = posix_spawnattr_init(&attr)) != 0)
    return -r;
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  r = posix_spawn(&pid, argv[0], NULL, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  if (r != 0)
    return -r;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return -errno;
  }
  if (WIFEXITED(status)) {
    *exit_status = WEXITSTATUS(status);
    return 0;
  }
  *exit_status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  return LVPN_ESCRIPT;
}

int lvpn__script_run(const char *cmd, const char *const *args,
                     const char *const *env, int *exit_status) {
  size_t n_args = 0, n_env = 0, storelen, i;
  char **argv = NULL, **envp = NULL, *store = NULL, *path = NULL;
  int argc, r, has_path = 0;

  *exit_status = -1;
  if (cmd == NULL)
    return LVPN_EINVAL;
  while (args != NULL && args[n_args] != NULL)
    n_args++;
  while (env != NULL && env[n_env] != NULL) {
    if (strncmp(env[n_env], "PATH=", 5) == 0)
      has_path = 1;
    n_env++;
  }
  storelen = strlen(cmd) + 1;
  store = malloc(storelen);
  argv = calloc(SCRIPT_MAX_WORDS + n_args + 1, sizeof(*argv));
  envp = calloc(n_env + 2, sizeof(*envp));
  if (store == NULL || argv == NULL || envp == NULL) {
    r = LVPN_ENOMEM;
    goto out;
  }
  argc = lvpn__script_split(cmd, argv, SCRIPT_MAX_WORDS + 1, store, storelen);
  if (argc < 0) {
    r = argc;
    goto out;
  }
  for (i = 0; i < n_args; i++)
    argv[argc + i] = (char *)args[i];
  argv[argc + n_args] = NULL;
  for (i = 0; i < n_env; i++)
    envp[i] = (char *)env[i];
  if (!has_path) {
    const char *p = getenv("PATH");
    if (p == NULL)
      p = SCRIPT_DEFAULT_PATH;
    path = malloc(strlen(p) + 6);
    if (path == NULL) {
      r = LVPN_ENOMEM;
      goto out;
    }
    memcpy(path, "PATH=", 5);
    memcpy(path + 5, p, strlen(p) + 1);
    envp[n_env++] = path;
  }
  envp[n_env] = NULL;
  r = spawn_wait(argv, envp, exit_status);
out:
  free(path);
  free(envp);
  free(argv);
  free(store);
  return r;
}

int lvpn__script_run_updown(const char *cmd, const lvpn__script_info_t *info,
                            const lvpn__script_env_t *extra, int *exit_status) {
  lvpn__script_env_t env;
  char mtu[16], link_mtu[16], host[300];
  const char *args[7];
  size_t i;
  int r;

  *exit_status = -1;
  lvpn__script_env_init(&env);
  r = lvpn__script_env_standard(&env, info);
  for (i = 0; r == 0 && extra != NULL && i < extra->n; i++) {
    const char *eq = strchr(extra->vars[i], '=');
    char name[128];
    size_t len = eq ? (size_t)(eq - extra->vars[i]) : 0;
    if (len == 0 || len >= sizeof(name))
      continue;
    memcpy(name, extra->vars[i], len);
    name[len] = '\0';
    r = lvpn__script_env_add(&env, name, eq + 1);
  }
  if (r == 0) {
    snprintf(mtu, sizeof(mtu), "%d", info->tun_mtu);
    snprintf(link_mtu, sizeof(link_mtu), "%d",
             info->link_mtu > 0 ? info->link_mtu : 0);
    args[0] = info->dev ? info->dev : "";
    args[1] = mtu;
    args[2] = link_mtu;
    args[3] = info->ifconfig_local ? info->ifconfig_local : "";
    args[4] =
        info->ifconfig_remote_netmask ? info->ifconfig_remote_netmask : "";
    args[5] = info->script_context ? info->script_context : "init";
    args[6] = NULL;
    if (info->args_kind == LVPN__SCRIPT_ARGS_NONE) {
      args[0] = NULL;
    } else if (info->args_kind == LVPN__SCRIPT_ARGS_IPCHANGE) {
      /* one argument "ADDRESS PORT", as OpenVPN 2.5+ builds it */
      snprintf(host, sizeof(host), "%s %d",
               info->trusted_ip ? info->trusted_ip : "", info->trusted_port);
      args[0] = host;
      args[1] = NULL;
    }
    r = lvpn__script_run(cmd, args, lvpn__script_env_list(&env), exit_status);
  }
  lvpn__script_env_free(&env);
  return r;
}
