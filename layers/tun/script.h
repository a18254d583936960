/* Up/down scripts, run as OpenVPN runs them.
 *
 * The command string is split into words (no shell): blanks separate
 * words; '...' keeps its content as is; "..." keeps blanks and honours
 * backslash escapes; a backslash outside quotes escapes the next character.
 * The first word is the program's path: as OpenVPN (execve), PATH is not
 * searched. For up/down, OpenVPN's positional arguments follow:
 *   tun_dev tun_mtu link_mtu ifconfig_local_ip ifconfig_remote_or_netmask
 *   script_context
 * (OpenVPN >= 2.6 always passes "0" as link_mtu: leave info->link_mtu 0 to
 * do the same.) Empty values stay as empty arguments, as in OpenVPN.
 *
 * The script runs SYNCHRONOUSLY: the caller (the loop thread) waits for it.
 * Up/down scripts are short and OpenVPN waits as well; do not use this for
 * long-running commands. The child gets exactly the given environment (plus
 * PATH taken from ours when the list has none), stdin/stdout/stderr of the
 * process, an empty signal mask and default SIGPIPE handling.
 */
#ifndef LVPN_LAYERS_TUN_SCRIPT_H
#define LVPN_LAYERS_TUN_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "layers/tun/device.h"

/** A growable "NAME=value" list. Set names replace earlier values. */
typedef struct lvpn__script_env_s {
  char **vars; /* NULL-terminated when n > 0 */
  size_t n, cap;
} lvpn__script_env_t;

void lvpn__script_env_init(lvpn__script_env_t *env);
void lvpn__script_env_free(lvpn__script_env_t *env);
/** Set `name` to `value` (NULL value: ""). Returns 0, LVPN_EINVAL (empty
 * name or one containing '='), LVPN_ENOMEM. */
int lvpn__script_env_add(lvpn__script_env_t *env, const char *name,
                         const char *value);
int lvpn__script_env_add_fmt(lvpn__script_env_t *env, const char *name,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Value of `name`, or NULL. */
const char *lvpn__script_env_get(const lvpn__script_env_t *env,
                                 const char *name);
/** The list for lvpn__script_run (NULL-terminated; valid until the next
 * add or free). Never NULL. */
const char *const *lvpn__script_env_list(const lvpn__script_env_t *env);

/** What OpenVPN tells its up/down scripts. Strings may be NULL (unset). */
typedef struct lvpn__script_info_s {
  const char *script_type;    /* "up" or "down" */
  const char *script_context; /* "init" (NULL) or "restart" */
  const char *dev;
  int tun_mtu;
  int link_mtu; /* 0: not exported (OpenVPN >= 2.6); "0" as argument */
  lvpn__tun_topology_t topology;
  const char *ifconfig_local;
  const char *ifconfig_remote_netmask; /* netmask (subnet) or peer */
  const char *ifconfig_ipv6_local;
  int ifconfig_ipv6_netbits;
  const char *ifconfig_ipv6_remote;
  const char *route_vpn_gateway;
  const char *route_net_gateway;
  /* pushed dhcp-options in order, without the keyword: "DNS 198.19.0.1" */
  const char *const *dhcp_options;
  size_t n_dhcp_options;
  const char *common_name;
  const char *trusted_ip; /* IPv6 addresses are exported as trusted_ip6 */
  int trusted_port;
  const char *untrusted_ip;
  int untrusted_port;
  const char *remote_1;
  int remote_port_1; /* 0: not exported */
  const char *proto_1;
  int verb;
  const char *config;
  /* route-up: no positional arguments; ipchange: the
   * server's address and port only (OpenVPN's conventions) */
  int args_kind; /* lvpn__script_args_t */
} lvpn__script_info_t;

typedef enum {
  LVPN__SCRIPT_ARGS_UPDOWN = 0,
  LVPN__SCRIPT_ARGS_NONE,
  LVPN__SCRIPT_ARGS_IPCHANGE
} lvpn__script_args_t;

/** Add OpenVPN's standard variables for `info` to `env`: dev, dev_type,
 * tun_mtu, link_mtu, script_type, script_context, ifconfig_local,
 * ifconfig_netmask (subnet) or ifconfig_remote, ifconfig_ipv6_*,
 * route_vpn_gateway, route_net_gateway, foreign_option_1..N, common_name,
 * trusted_ip/port, untrusted_ip/port, remote_1, verb, config. */
int lvpn__script_env_standard(lvpn__script_env_t *env,
                              const lvpn__script_info_t *info);

/** Add OpenVPN's variables for the plan's `route` and `route-ipv6`
 * options (route.c setenv_routes): route_network_N, route_netmask_N,
 * route_gateway_N, route_metric_N (when given), route_ipv6_network_N
 * ("addr/bits"), route_ipv6_gateway_N, route_ipv6_metric_N; N from 1 in
 * the plan's order, IPv6 in OpenVPN's: the IPv6 server's /128 (when the
 * plan has one and its path was found), the route-ipv6 options, then
 * redirect-gateway ipv6's routes. A net_gateway route that found no
 * gateway keeps its number but gets no variables. 0 or LVPN_ENOMEM. */
int lvpn__script_env_routes(lvpn__script_env_t *env,
                            const lvpn__tun_plan_t *plan);

/** Split `cmd` into words as described above, into a NULL-terminated
 * array of at most `max - 1` words stored in `store` (`storelen` bytes).
 * Returns the word count, or LVPN_EINVAL (empty, unbalanced quote, too
 * many words or too long). */
int lvpn__script_split(const char *cmd, char **argv, size_t max, char *store,
                       size_t storelen);

/** Run `cmd` with `args` (NULL-terminated, may be NULL) appended and the
 * environment `env` (NULL-terminated "NAME=value" list, may be NULL) and
 * wait for it. Returns 0 when the program ran to its end, with its exit
 * code in `*exit_status` (0 success; the caller decides what non-zero
 * means — OpenVPN treats a failed up script as fatal); LVPN_ESCRIPT when
 * killed by a signal (`*exit_status` = 128 + signal); a negative errno when
 * it could not be started (UV_ENOENT missing, UV_EACCES not executable);
 * LVPN_EINVAL for a bad command string. `*exit_status` is -1 whenever the
 * program did not run. */
int lvpn__script_run(const char *cmd, const char *const *args,
                     const char *const *env, int *exit_status);

/** The up/down form: OpenVPN's positional arguments from `info`, and the
 * environment of lvpn__script_env_standard(info) plus `extra` (may be
 * NULL; its values override). */
int lvpn__script_run_updown(const char *cmd, const lvpn__script_info_t *info,
                            const lvpn__script_env_t *extra, int *exit_status);

#endif
