/* layervpn — an OpenVPN-protocol client as a stack of observable layers.
 *
 * Public API of liblayers. Everything not declared here is private.
 *
 * Conventions (as libuv): functions return 0 or a negative error code;
 * lvpn_strerror()/lvpn_err_name() describe any code, including libuv's.
 * A function that takes a callback and fails returns the error and never
 * calls the callback. The library never creates, runs or closes the loop of
 * an embedding program and never prints: it logs through a host callback.
 */
#ifndef LAYERVPN_H
#define LAYERVPN_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LVPN_BUILDING) && defined(__GNUC__)
#define LVPN_EXTERN __attribute__((visibility("default")))
#else
#define LVPN_EXTERN
#endif

#define LVPN_VERSION_MAJOR 0
#define LVPN_VERSION_MINOR 1
#define LVPN_VERSION_PATCH 0

/* Our own error codes live well away from libuv's (-1 .. -4095). */
#define LVPN__ERR_BASE (-30000)

/* XX(name, text). One table generates the enum, lvpn_strerror, lvpn_err_name. */
#define LVPN_ERRNO_MAP(XX)                                                   \
  XX(INVAL, "invalid argument")                                              \
  XX(NOMEM, "out of memory")                                                 \
  XX(STATE, "operation not valid in the current state")                      \
  XX(CONFIG, "configuration error")                                          \
  XX(UNSUPPORTED, "unsupported option or feature")                           \
  XX(SHORT, "packet truncated")                                              \
  XX(TOOBIG, "packet too large")                                             \
  XX(BADOPCODE, "unknown or unexpected opcode")                              \
  XX(BADSESSION, "session id mismatch")                                      \
  XX(BADACK, "malformed ACK record")                                         \
  XX(AUTH, "packet authentication failed")                                   \
  XX(REPLAY, "replayed or too old packet")                                   \
  XX(WINDOW, "packet outside the receive window")                            \
  XX(DUPLICATE, "duplicate packet")                                          \
  XX(NOKEY, "no data channel key for this key id")                           \
  XX(CRYPTO, "cryptographic operation failed")                               \
  XX(TLS, "TLS error")                                                       \
  XX(CERT_UNTRUSTED, "certificate rejected: not signed by a trusted CA")      \
  XX(CERT_EKU, "certificate rejected: extendedKeyUsage is not serverAuth")   \
  XX(CERT_KU, "certificate rejected: keyUsage extension missing")            \
  XX(CERT_NAME, "certificate rejected: verify-x509-name does not match")     \
  XX(CERT_EXPIRED, "certificate rejected: expired or not yet valid")         \
  XX(CERT, "certificate rejected")                                           \
  XX(KEYFILE, "cannot load key or certificate")                              \
  XX(PROTO, "protocol violation by the peer")                                \
  XX(HANDSHAKE_TIMEOUT, "TLS handshake did not finish within hand-window")   \
  XX(PUSH_TIMEOUT, "no PUSH_REPLY received")                                 \
  XX(PUSH, "malformed PUSH_REPLY")                                           \
  XX(AUTH_FAILED, "server sent AUTH_FAILED")                                 \
  XX(HALT, "server sent HALT")                                               \
  XX(RESTART, "server sent RESTART")                                         \
  XX(PING_RESTART, "ping-restart: no packet from the server in time")        \
  XX(EXIT_NOTIFY, "server announced exit")                                   \
  XX(NOCIPHER, "no usable data channel cipher")                              \
  XX(COMPRESSION, "compression not allowed or invalid")                      \
  XX(TUN, "tun device error")                                                \
  XX(NETLINK, "netlink error")                                               \
  XX(RESOLVE, "cannot resolve remote host")                                  \
  XX(CONNRESET, "connection to the server lost")                             \
  XX(STOPPED, "stopped by request")                                          \
  XX(SCRIPT, "up/down script failed")                                        \
  XX(SERVER_POLL, "server-poll-timeout: no answer from the server in time")  \
  XX(RETRY_MAX, "connect-retry-max reached: every attempt failed")           \
  XX(AUTH_FAIL_TEMP, "server sent AUTH_FAILED,TEMP: retrying after its back-off")  \
  XX(CERT_REVOKED, "certificate rejected: revoked (crl-verify)")             \
  XX(CERT_FINGERPRINT, "certificate rejected: fingerprint not listed")       \
  XX(PRIVILEGES, "cannot drop privileges (user/group/chroot)")               \
  XX(CREDENTIALS, "no username/password: nobody answered the request")      \
  XX(DNS, "cannot apply DNS to the system resolver")                        \
  XX(PROXY, "the proxy failed or refused the connection to the server")     \
  XX(PROXY_AUTH, "the proxy refused our credentials or wants others")       \
  XX(PING_EXIT, "ping-exit: no packet from the server in time")             \
  XX(INACTIVE, "inactive: too little tunnel traffic in time")               \
  XX(SESSION_TIMEOUT, "session-timeout: the session's time is up")         \
  XX(HANDSHAKE_STALL, "TLS handshake stalled: starting over with a new session")

typedef enum {
  LVPN__ERR_FIRST = LVPN__ERR_BASE,
#define LVPN__ERR_ENUM(name, _) LVPN_E##name,
  LVPN_ERRNO_MAP(LVPN__ERR_ENUM)
#undef LVPN__ERR_ENUM
  LVPN__ERR_LAST
} lvpn_errno_t;

/** Human-readable text for any error code (ours or libuv's). */
LVPN_EXTERN const char *lvpn_strerror(int err);
/** Symbolic name ("LVPN_ECERT_EKU", "ECONNREFUSED") for any error code. */
LVPN_EXTERN const char *lvpn_err_name(int err);

/** Version as "MAJOR.MINOR.PATCH". */
LVPN_EXTERN const char *lvpn_version_string(void);

/* Logging: levels follow OpenVPN's --verb so users' habits carry over. */
enum {
  LVPN_LOG_FATAL = 0, /* only fatal errors */
  LVPN_LOG_ERROR = 1, /* errors and warnings */
  LVPN_LOG_INFO = 3,  /* normal output (default) */
  LVPN_LOG_PUSH = 4,  /* options, pushed options */
  LVPN_LOG_VERBOSE = 5,
  LVPN_LOG_DEBUG = 7,
  LVPN_LOG_PACKET = 9, /* per-packet */
  LVPN_LOG_TRACE = 11
};

/** Log sink. `layer` is a static string ("tlssession", "client", ...);
 * `msg` is lent for the call only. */
typedef void (*lvpn_log_cb)(void *ud, int level, const char *layer,
                            const char *msg);

typedef struct lvpn_config_s lvpn_config_t;
typedef struct lvpn_client_s lvpn_client_t;

/** Load an OpenVPN client config file. On failure returns an error and, if
 * `errbuf` is given, a message "file:line: problem". */
LVPN_EXTERN int lvpn_config_load(lvpn_config_t **out, const char *path,
                                 char *errbuf, size_t errlen);
/** Create an empty configuration (to be filled with lvpn_config_set). */
LVPN_EXTERN int lvpn_config_new(lvpn_config_t **out);
/** Apply one option as on OpenVPN's command line (`name` without "--";
 * `args` NULL-terminated). Overrides what the file said. */
LVPN_EXTERN int lvpn_config_set(lvpn_config_t *cfg, const char *name,
                                const char *const *args, char *errbuf,
                                size_t errlen);
LVPN_EXTERN void lvpn_config_free(lvpn_config_t *cfg);

/* Client lifecycle, libuv style: new (no I/O) → start → stop → close(cb). */
/** Process options of a config: daemon, log, log-append, writepid, status,
 * syslog, suppress-timestamps. The library never forks, writes these files
 * or changes the process: the host acts on them (the CLI does, as OpenVPN).
 * Paths are as given, or below the config's `cd`; strings are owned by the
 * config. */
typedef struct lvpn_proc_opts_s {
  int daemon;               /* daemon [name] */
  int use_syslog;           /* daemon without log, or syslog [name] */
  const char *syslog_name;  /* program name for syslog; NULL: "openvpn" */
  const char *log_file;     /* log / log-append FILE; NULL: none */
  int log_append;           /* log-append: keep what the file held */
  const char *writepid;     /* FILE; NULL: none */
  const char *status_file;  /* status FILE [N]; NULL: none */
  int status_interval;      /* N s, default 60 */
  int status_version;       /* 1..3 (the client's file is the same) */
  int suppress_timestamps;  /* no time on log lines */
  int machine_readable;     /* "SECONDS.USEC FLAGS message" log lines */
  int nice;                 /* nice N: added to the priority; 0: none */
  int mlock;                /* lock the process's memory (mlockall) */
  int remap_usr1;           /* remap-usr1: SIGHUP or SIGTERM; 0: none */
} lvpn_proc_opts_t;
LVPN_EXTERN void lvpn_config_proc_opts(const lvpn_config_t *cfg,
                                       lvpn_proc_opts_t *out);

typedef void (*lvpn_close_cb)(lvpn_client_t *client);

/** Client events, reported through lvpn_event_cb. */
typedef enum {
  LVPN_EVENT_PUSH_REPLY = 1, /* control channel complete, options pushed */
  LVPN_EVENT_CONNECTED = 2,  /* data channel up: traffic can flow */
  LVPN_EVENT_STOPPED = 3,    /* all layers shut down; `err` says why */
  LVPN_EVENT_RESTARTING = 4, /* connection lost (`err`); reconnecting after
                                connect-retry, as OpenVPN's SIGUSR1 */
  LVPN_EVENT_PUSH_UPDATE = 5, /* the server updated pushed options (routes,
                                DNS) while connected; applied */
  LVPN_EVENT_AUTH_PENDING = 6, /* the server's authentication needs more time
                                  (SSO, 2FA); the client waits for it as long
                                  as lvpn_client_info() says */
  LVPN_EVENT_INFO = 7 /* INFO / INFO_PRE from the server (e.g.
                         "OPEN_URL:https://..."): see lvpn_client_info() */
} lvpn_event_t;

typedef void (*lvpn_event_cb)(lvpn_client_t *client, lvpn_event_t ev,
                              int err);

/** Host-provided inside I/O. When set, the client opens no TUN device:
 * decrypted IP packets are handed to `inside_write` (buffer lent for the
 * call), and the host injects packets with lvpn_client_inside_input(). */
typedef void (*lvpn_inside_write_cb)(lvpn_client_t *client,
                                     const uint8_t *pkt, size_t len);

/** Create a client on the caller's loop. `cfg` is copied; the caller may free
 * it afterwards. No I/O happens until lvpn_client_start(). Clients made from
 * the same `cfg` share one read-only copy of it (made by the first call,
 * reference-counted, safe across threads), so a thousand sessions from one
 * config hold one parsed config; lvpn_config_set() on `cfg` afterwards
 * affects only clients made later. */
LVPN_EXTERN int lvpn_client_new(lvpn_client_t **out, uv_loop_t *loop,
                                const lvpn_config_t *cfg);
LVPN_EXTERN void lvpn_client_set_log(lvpn_client_t *c, lvpn_log_cb cb,
                                     void *ud, int verb);
LVPN_EXTERN void lvpn_client_set_event_cb(lvpn_client_t *c, lvpn_event_cb cb);
LVPN_EXTERN void lvpn_client_set_inside_write(lvpn_client_t *c,
                                              lvpn_inside_write_cb cb);
LVPN_EXTERN void lvpn_client_set_data(lvpn_client_t *c, void *data);
LVPN_EXTERN void *lvpn_client_get_data(const lvpn_client_t *c);
/** Start connecting. Returns an error for a config that cannot work. */
/** Opt in to the config's user/group/chroot (OpenVPN's privilege drop):
 * the client then chroots, sets the group and the user once, right after
 * the first PUSH_REPLY set up the tun device and routes and before
 * LVPN_EVENT_CONNECTED. The library never changes the process's identity
 * unless asked: a config with user/group/chroot on a client without this
 * fails to start with LVPN_EPRIVILEGES. */
LVPN_EXTERN void lvpn_client_set_drop_privileges(lvpn_client_t *c, int enable);
/** The drop itself, for hosts that schedule it: names resolved first, then
 * chroot(chroot_dir) and chdir("/"), setgroups/setgid (the group, or the
 * user's primary group), setuid; each may be NULL. Checks root cannot be
 * regained. Returns 0 or LVPN_EPRIVILEGES with the reason in `err`. */
LVPN_EXTERN int lvpn_drop_privileges(const char *user, const char *group,
                                     const char *chroot_dir, char *err,
                                     size_t errlen);
LVPN_EXTERN int lvpn_client_start(lvpn_client_t *c);
/** Request an orderly shutdown; harmless when already stopping or stopped. */
LVPN_EXTERN void lvpn_client_stop(lvpn_client_t *c);
/** Release the client after it stopped (or was never started): `cb` runs
 * once every handle is closed; memory is freed after `cb` returns. */
LVPN_EXTERN int lvpn_client_close(lvpn_client_t *c, lvpn_close_cb cb);
/** Inject one inside (plaintext IP) packet; copied before return. */
LVPN_EXTERN int lvpn_client_inside_input(lvpn_client_t *c, const uint8_t *pkt,
                                         size_t len);

/** The text of the server's last INFO or INFO_PRE message ("" if none;
 * valid until the next event). `pending_timeout_s` (may be NULL) gets the
 * seconds the client waits after the last AUTH_PENDING, 0 when no
 * authentication is pending. */
LVPN_EXTERN const char *lvpn_client_info(const lvpn_client_t *c,
                                         unsigned *pending_timeout_s);

/** Answer the server's text challenge: an INFO / INFO_PRE whose text (see
 * lvpn_client_info()) is "CR_TEXT:<flags>:<challenge>", flags E (echo what
 * the user types) and R (an answer is required), sent while the server's
 * authentication is pending. `response` (at most 768 bytes) goes back
 * base64-encoded in a CR_RESPONSE message, as OpenVPN's cr-response; the
 * library keeps no copy and never logs it. Servers only ask clients that
 * announce IV_SSO=crtext (config: `setenv IV_SSO crtext`). Returns 0,
 * LVPN_EINVAL (NULL, empty or too long) or LVPN_ESTATE (no TLS session to
 * carry it). */
LVPN_EXTERN int lvpn_client_cr_response(lvpn_client_t *c,
                                        const char *response);

/** The tunnel's IPv4 address and netmask (subnet topology) or peer address
 * (net30/p2p) as pushed by the server, in network byte order. Returns 0,
 * or LVPN_ESTATE before the tunnel is up or when none was pushed. */
LVPN_EXTERN int lvpn_client_tunnel_ipv4(const lvpn_client_t *c, uint32_t *addr,
                                        uint32_t *netmask_or_peer);
/** One IPv4 destination the tunnel carries (network byte order). */
typedef struct lvpn_route4_s {
  uint32_t net, netmask;
} lvpn_route4_t;
/** The IPv4 destinations the tunnel carries, as a TUN device would route
 * them: the tunnel's subnet (or peer), the pushed routes (unless
 * route-nopull), the config's routes, and 0.0.0.0/0 under redirect-gateway.
 * Fills at most `max` entries and returns how many there are, or
 * LVPN_ESTATE before the tunnel is up. */
LVPN_EXTERN int lvpn_client_routes4(const lvpn_client_t *c, lvpn_route4_t *out,
                                    int max);
/** The tunnel's IPv6 address (16 bytes) and prefix length, as pushed with
 * ifconfig-ipv6. Returns 0, or LVPN_ESTATE before the tunnel is up or when
 * none was pushed. */
LVPN_EXTERN int lvpn_client_tunnel_ipv6(const lvpn_client_t *c,
                                        uint8_t addr[16], int *bits);
/** One IPv6 destination the tunnel carries. */
typedef struct lvpn_route6_s {
  uint8_t net[16]; /* host bits zero */
  int bits;
} lvpn_route6_t;
/** The IPv6 destinations the tunnel carries, as lvpn_client_routes4(): the
 * ifconfig-ipv6 prefix, the pushed route-ipv6 (unless route-nopull), the
 * config's, and ::/0 under redirect-gateway ipv6. Fills at most `max`
 * entries and returns how many there are, or LVPN_ESTATE. */
LVPN_EXTERN int lvpn_client_routes6(const lvpn_client_t *c, lvpn_route6_t *out,
                                    int max);
/** The tunnel MTU (pushed tun-mtu, else the config's), or LVPN_ESTATE
 * before the tunnel is up. */
LVPN_EXTERN int lvpn_client_tunnel_mtu(const lvpn_client_t *c);

/* ---- DNS ----
 * The resolver settings of the connection, as OpenVPN 2.7 builds them: the
 * `dns` options (the config's, then the pushed ones, a pushed server
 * replacing the config's server of the same priority) or, when no `dns
 * server` is given anywhere, the `dhcp-option DNS/DNS6/DOMAIN/DOMAIN-SEARCH/
 * ADAPTER_DOMAIN_SUFFIX` ones as one server of priority 0. */
#define LVPN_DNS_MAX_SERVERS 8
#define LVPN_DNS_MAX_ADDRS 8   /* per server, as OpenVPN */
#define LVPN_DNS_MAX_DOMAINS 16
#define LVPN_DNS_DOMAIN_LEN 256 /* bytes with the NUL */

typedef enum {
  LVPN_DNSSEC_UNSET = 0,
  LVPN_DNSSEC_NO,
  LVPN_DNSSEC_YES,
  LVPN_DNSSEC_OPTIONAL
} lvpn_dnssec_t;

typedef enum {
  LVPN_DNS_TRANSPORT_UNSET = 0,
  LVPN_DNS_TRANSPORT_PLAIN,
  LVPN_DNS_TRANSPORT_DOH, /* DNS over HTTPS */
  LVPN_DNS_TRANSPORT_DOT  /* DNS over TLS */
} lvpn_dns_transport_t;

typedef struct lvpn_dns_addr_s {
  int family;       /* AF_INET or AF_INET6 */
  uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
  uint16_t port;    /* 0: the default (53) */
} lvpn_dns_addr_t;

typedef struct lvpn_dns_server_s {
  int priority; /* lower first; pushed ones are 0..127 */
  lvpn_dns_addr_t addrs[LVPN_DNS_MAX_ADDRS];
  int n_addrs;
  /* resolve-domains: only these names go to this server (split DNS) */
  char resolve_domains[LVPN_DNS_MAX_DOMAINS][LVPN_DNS_DOMAIN_LEN];
  int n_resolve_domains;
  lvpn_dnssec_t dnssec;
  lvpn_dns_transport_t transport;
  char sni[LVPN_DNS_DOMAIN_LEN]; /* "" when not given */
} lvpn_dns_server_t;

typedef struct lvpn_dns_s {
  lvpn_dns_server_t servers[LVPN_DNS_MAX_SERVERS]; /* by priority */
  int n_servers;
  char search_domains[LVPN_DNS_MAX_DOMAINS][LVPN_DNS_DOMAIN_LEN];
  int n_search_domains;
  int from_dhcp; /* built from dhcp-option (no `dns server` anywhere) */
} lvpn_dns_t;

/** Whether the client applies the connection's DNS to the host's resolver
 * (systemd-resolved, else resolvconf, else /etc/resolv.conf rewritten in
 * place and restored on every exit path). Off by default: the library
 * changes the host's resolver only when the host asks, like the privilege
 * drop. The config's `dns-mode none` wins over this. Set before start. */
LVPN_EXTERN void lvpn_client_set_apply_dns(lvpn_client_t *c, int enable);
/** A directory (absolute; created 0700 when missing; not used, said once,
 * unless it is the process user's or root's and only its owner can write
 * to it) where the client may
 * keep what makes its next start faster: the server's certificate chain of
 * the last handshake whose chain check passed, one file per CA. The next
 * start checks that chain against the CA while it waits for the server's
 * hello, so the CA's signature on the same certificate is already verified
 * when it arrives; the server's chain is still checked in full. Nothing
 * secret is written. NULL or "" (the default): none. Set before start.
 * Returns 0, LVPN_EINVAL (a relative or over-long path) or LVPN_ENOMEM. */
LVPN_EXTERN int lvpn_client_set_cache_dir(lvpn_client_t *c, const char *dir);
/** The connection's DNS settings (copied into `out`), applied or not.
 * Returns 0, or LVPN_ESTATE before a PUSH_REPLY was applied; `out` has
 * n_servers 0 when neither the config nor the server gave any. */
LVPN_EXTERN int lvpn_client_dns(const lvpn_client_t *c, lvpn_dns_t *out);

/* Connection state, with OpenVPN's management-interface names and numbers
 * (its `state` command), derived from the client's and its layers' real
 * state each time it is asked. */
typedef enum {
  LVPN_STATE_INITIAL = 0,      /* created, not started */
  LVPN_STATE_CONNECTING = 1,   /* starting a connection attempt */
  LVPN_STATE_ASSIGN_IP = 2,    /* PUSH_REPLY applied, configuring the tunnel */
  LVPN_STATE_ADD_ROUTES = 3,   /* adding routes (never reported: routes are
                                  added synchronously within ASSIGN_IP) */
  LVPN_STATE_CONNECTED = 4,    /* Initialization Sequence Completed */
  LVPN_STATE_RECONNECTING = 5, /* connection lost, restarting (SIGUSR1) */
  LVPN_STATE_EXITING = 6,      /* stopping, or stopped */
  LVPN_STATE_WAIT = 7,         /* our reset sent, waiting for the server */
  LVPN_STATE_AUTH = 8,         /* TLS handshake and key exchange */
  LVPN_STATE_GET_CONFIG = 9,   /* PUSH_REQUEST sent, waiting for PUSH_REPLY */
  LVPN_STATE_RESOLVE = 10,     /* resolving the remote host name */
  LVPN_STATE_TCP_CONNECT = 11  /* connecting to a TCP server */
} lvpn_state_t;

/** The client's current state. Cheap: call it whenever (from the loop's
 * thread), e.g. from an event callback or a uv_prepare_t. */
LVPN_EXTERN lvpn_state_t lvpn_client_state(const lvpn_client_t *c);
/** OpenVPN's name for a state ("CONNECTED", "GET_CONFIG", ...); "?" for a
 * value that is not an lvpn_state_t. */
LVPN_EXTERN const char *lvpn_state_name(lvpn_state_t state);

/* Tracing: one JSON object per event from every layer (README "Tracing").
 * Every event has "t" (seconds since tracing started, float), "layer" (one
 * of the seven layer names, or "client") and "operation"; control packets
 * and negotiation states use minivpn's tracex fields. Traces never contain
 * key material, passwords or auth tokens. */
enum {
  LVPN_TRACE_DEFAULT = 1, /* every layer's events; the data path as a
                             per-second summary */
  LVPN_TRACE_DATA_ALL = 2 /* also one event per data packet in each layer */
};
/** Trace sink: one event, `json` (`len` bytes, NUL-ended, no newline),
 * lent for the call only. Runs on the loop's thread inside the layers: it
 * must not block (buffer and write asynchronously, dropping when behind)
 * and must not call into the client. */
typedef void (*lvpn_trace_cb)(void *ud, const char *json, size_t len);
/** Starts (`cb` set) or stops (`cb` NULL) tracing, at any time; `t` counts
 * from lvpn_client_start(), or from this call when tracing starts later.
 * `level` is LVPN_TRACE_DEFAULT or LVPN_TRACE_DATA_ALL. `cb` may run until
 * the close callback of lvpn_client_close() (normally the last event is the
 * client's "stopped"); `ud` must stay valid that long and is never freed
 * by the library. */
LVPN_EXTERN void lvpn_client_set_trace(lvpn_client_t *c, lvpn_trace_cb cb,
                                       void *ud, int level);

/* Packet taps: a copy of every packet crossing one point of the stack, for
 * capture tools (the CLI's --pcap writes them with libpcap). */
enum {
  LVPN_TAP_WIRE = 1,    /* OpenVPN packets as sent and received (networkio;
                           over TCP one packet without its 2-byte length) */
  LVPN_TAP_CONTROL = 2, /* control packets after tls-auth / tls-crypt
                           unwrapping, before wrapping: plain control
                           packets (packetmuxer; no addresses) */
  LVPN_TAP_INSIDE = 4   /* plaintext IP packets in and out of the tunnel */
};
typedef struct lvpn_tap_pkt_s {
  int point;    /* LVPN_TAP_* */
  int outbound; /* 1: towards the server (wire) / into the tunnel (inside) */
  int tcp;      /* wire: the link is TCP */
  /* wire: the link's local and remote address; lent for the call */
  const struct sockaddr *local, *remote;
  const uint8_t *data; /* the packet, lent for the call only */
  size_t len;
} lvpn_tap_pkt_t;
typedef void (*lvpn_tap_cb)(void *ud, const lvpn_tap_pkt_t *pkt);
/** Calls `cb` for every packet at the `points` (LVPN_TAP_* ORed; 0 or a NULL
 * `cb` turns taps off). Same rules as the trace callback: it runs on the
 * loop's thread inside the layers, must not call into the client, and may
 * run until the close callback of lvpn_client_close(). */
LVPN_EXTERN void lvpn_client_set_tap(lvpn_client_t *c, unsigned points,
                                     lvpn_tap_cb cb, void *ud);

/* TLS key log, for Wireshark: after every TLS handshake (the first and
 * each renegotiation) one line of the NSS key log format,
 * "CLIENT_RANDOM <client random, 64 hex> <master secret, 96 hex>" (NUL-ended,
 * no newline). The line decrypts that session's control channel (and, as
 * the data channel keys derive from it, the tunnel): it is lent for the
 * call only and zeroed afterwards, never logged and never traced. mbedTLS
 * 2.28 speaks TLS 1.2 only, so CLIENT_RANDOM is the only label. */
typedef void (*lvpn_keylog_cb)(void *ud, const char *line);
/** Sets (`cb` NULL: removes) the key log callback. Same rules as the trace
 * callback: it runs on the loop's thread inside the layers and must not
 * call into the client. */
LVPN_EXTERN void lvpn_client_set_keylog(lvpn_client_t *c, lvpn_keylog_cb cb,
                                        void *ud);

/** Counters: calls `cb` once per counter with the layer and counter name. */
typedef void (*lvpn_counter_cb)(void *ud, const char *layer, const char *name,
                                uint64_t value);
LVPN_EXTERN void lvpn_client_counters(const lvpn_client_t *c,
                                      lvpn_counter_cb cb, void *ud);

/* ---- Inside-packet hooks ----
 * A chain of host hooks on the inside path, at the tun layer (the inside
 * edge, whether a TUN device or the host's inside I/O):
 *  - OUTBOUND: a packet read from the TUN device or given to
 *    lvpn_client_inside_input(), before compression and encryption; hooks run
 *    in registration order.
 *  - INBOUND: a packet after decryption and decompression (pings and OCC
 *    already taken out), before it is written to the TUN device or handed to
 *    inside_write; hooks run in reverse registration order, so a pair of
 *    codec hooks nests as an onion: the hook that encodes last decodes first.
 * Each hook returns LVPN_HOOK_PASS (on to the next hook) or LVPN_HOOK_DROP
 * (the packet goes no further: the library frees it). The packet is lent
 * for the call only: a hook that wants to keep it copies it (and may send
 * it later with lvpn_client_inject_inside()). A hook may modify the bytes in
 * place and change `len` up to `cap`; `data` itself must not move.
 * Injection: lvpn_client_inject_inside() copies the packet; injected packets
 * skip the whole chain (they are already processed). From inside a hook they
 * are queued and delivered after the current packet (in injection order);
 * hooks never recurse. Adding or removing hooks (also a hook removing itself
 * from its own callback) is allowed at any time: removal is deferred to the
 * end of the packet being processed, after which `removed` is called once;
 * a hook added from a callback sees the next packet. Hooks outlive
 * reconnections; lvpn_client_close() removes the remaining ones (calling
 * `removed`). Everything runs on the loop's thread; every call here must be
 * made from it. With no hook installed the data path costs one branch. */
typedef enum {
  LVPN_INSIDE_OUTBOUND = 1, /* towards the server */
  LVPN_INSIDE_INBOUND = 2   /* from the server, towards the tun / host */
} lvpn_inside_dir_t;
enum { LVPN_HOOK_PASS = 0, LVPN_HOOK_DROP = 1 };
typedef uint32_t lvpn_hook_id_t;
typedef struct lvpn_inside_pkt_s {
  uint8_t *data; /* the IP packet, writable; must not be moved */
  size_t len;    /* may be changed, at most `cap` */
  size_t cap;    /* room from `data` to the end of the buffer */
} lvpn_inside_pkt_t;
typedef struct lvpn_inside_hook_s {
  const char *name; /* counters: hooks.<name>_seen / _dropped (copied) */
  unsigned dirs;    /* LVPN_INSIDE_* ORed: the directions it sees */
  /* One packet; returns LVPN_HOOK_PASS or LVPN_HOOK_DROP. */
  int (*packet)(void *ud, lvpn_client_t *c, lvpn_inside_dir_t dir,
                lvpn_inside_pkt_t *pkt);
  /* Optional: called once when the library will never call `packet` again
   * (after removal or at close): the hook may free `ud` there. */
  void (*removed)(void *ud);
} lvpn_inside_hook_t;
/** Appends a hook (`ops` copied; `ud` passed back, never freed by the
 * library). `out` (may be NULL) gets its id. */
LVPN_EXTERN int lvpn_client_add_inside_hook(lvpn_client_t *c,
                                            const lvpn_inside_hook_t *ops,
                                            void *ud, lvpn_hook_id_t *out);
/** Removes a hook (deferred when called while the chain runs). Returns
 * LVPN_EINVAL for an unknown id. */
LVPN_EXTERN int lvpn_client_remove_inside_hook(lvpn_client_t *c,
                                               lvpn_hook_id_t id);
/** Sends one inside packet in `dir`, past every hook: OUTBOUND to the
 * server, INBOUND to the TUN device / inside_write. Copied before return.
 * LVPN_ESTATE when no connection is running. */
LVPN_EXTERN int lvpn_client_inject_inside(lvpn_client_t *c,
                                          lvpn_inside_dir_t dir,
                                          const uint8_t *pkt, size_t len);
/** Packets a hook saw and dropped so far; LVPN_EINVAL for an unknown id. */
LVPN_EXTERN int lvpn_client_inside_hook_stats(const lvpn_client_t *c,
                                              lvpn_hook_id_t id,
                                              uint64_t *seen,
                                              uint64_t *dropped);

/* Built-in hook: a filter. Rules, first match wins, else the default:
 *   ACTION [PROTO] [port P[-Q]] [net ADDR/BITS]     ACTION: allow | deny
 *   default allow|deny                              (default: allow)
 * PROTO: icmp (IPv4 ICMP and ICMPv6), icmp4, icmp6, tcp, udp, proto N, all.
 * `port` matches a TCP/UDP source or destination port, `net` an IPv4 or
 * IPv6 source or destination address (both sides: the same rule works in
 * both directions). Every term given must match. Example: "deny icmp",
 * "allow tcp port 80-443 net 198.18.0.0/15", "default deny". Dropped packets
 * count in the hook's stats and in hooks.<name>_dropped. */
/** Adds a filter hook with `n` rules for `dirs` (LVPN_INSIDE_* ORed; 0: both).
 * A bad rule fails with LVPN_EINVAL and a message in `err` naming it. */
LVPN_EXTERN int lvpn_client_add_inside_filter(lvpn_client_t *c,
                                              const char *const *rules,
                                              size_t n, unsigned dirs,
                                              char *err, size_t errlen,
                                              lvpn_hook_id_t *out);
/** Checks one filter rule without a client: 0, or LVPN_EINVAL with `err`. */
LVPN_EXTERN int lvpn_inside_filter_check(const char *rule, char *err,
                                         size_t errlen);
/** Built-in hook: appends every inside packet it sees (both directions) to
 * a pcap file (LINKTYPE_RAW, mode 0600), at its place in the chain: first
 * added, it sees outbound packets as read and inbound packets as written.
 * The file is closed when the hook is removed or the client closed. It is
 * written (and flushed per packet) on the loop's thread: for heavy traffic
 * on a slow disk, prefer a tap (lvpn_client_set_tap) and write elsewhere. */
LVPN_EXTERN int lvpn_client_add_inside_pcap(lvpn_client_t *c,
                                            const char *path, char *err,
                                            size_t errlen,
                                            lvpn_hook_id_t *out);

/* ---- OpenVPN's management interface ----
 * Serves the `management` option of a client's config (TCP or unix socket,
 * one management client at a time, OpenVPN 2.6's commands and messages) on
 * the client's loop. The host forwards its log lines (lvpn_mgmt_log) and
 * events (lvpn_mgmt_event), and decides what a `signal` command does. */
typedef struct lvpn_mgmt_s lvpn_mgmt_t;
/** `signal SIGHUP|SIGTERM|SIGUSR1|SIGUSR2` from the management client.
 * Return 0 when acted on, -1 to answer that the signal is ignored. Without
 * a callback SIGTERM stops the client and the others are ignored. */
typedef int (*lvpn_mgmt_signal_cb)(lvpn_mgmt_t *m, int signum);
typedef void (*lvpn_mgmt_close_cb)(lvpn_mgmt_t *m);

/** Listens as the config of `c` says. Returns 0 with *out = NULL when it
 * has no `management` option; an error when the socket cannot listen. */
LVPN_EXTERN int lvpn_mgmt_new(lvpn_mgmt_t **out, lvpn_client_t *c);
LVPN_EXTERN void lvpn_mgmt_set_signal_cb(lvpn_mgmt_t *m,
                                         lvpn_mgmt_signal_cb cb);
LVPN_EXTERN void lvpn_mgmt_set_data(lvpn_mgmt_t *m, void *data);
LVPN_EXTERN void *lvpn_mgmt_get_data(const lvpn_mgmt_t *m);
/** Starts the client in place of lvpn_client_start(): at once, or after
 * `hold release` (management-hold), and, with management-query-passwords
 * and `auth-user-pass` without a file, after the username/password
 * replies to `>PASSWORD:Need 'Auth' username/password`. */
LVPN_EXTERN int lvpn_mgmt_start_client(lvpn_mgmt_t *m);
/** Serves another client (the host re-created it, e.g. on SIGHUP). */
LVPN_EXTERN void lvpn_mgmt_set_client(lvpn_mgmt_t *m, lvpn_client_t *c);
/** A log line, for `log` (kept up to management-log-cache lines). */
LVPN_EXTERN void lvpn_mgmt_log(lvpn_mgmt_t *m, int level, const char *msg);
/** A client event. After LVPN_EVENT_STOPPED the interface no longer
 * touches the client (the host may close it). */
LVPN_EXTERN void lvpn_mgmt_event(lvpn_mgmt_t *m, lvpn_event_t ev, int err);
/** Closes the sockets (queued replies leave first when the peer reads);
 * `cb` runs once everything is closed, then the memory is freed. */
LVPN_EXTERN void lvpn_mgmt_close(lvpn_mgmt_t *m, lvpn_mgmt_close_cb cb);

/* ---- Credentials ----
 * auth-user-pass without a file, static-challenge, and a server's dynamic
 * challenge (CRV1 in AUTH_FAILED, with auth-retry interact) need answers only
 * the host can give; the library never touches a terminal. It asks through
 * the credentials callback before a connection attempt, and the attempt waits
 * (state RECONNECTING, or CONNECTING for the first) until the host calls
 * lvpn_client_answer_credentials(), from inside the callback or later from
 * the loop's thread. Without a callback the client stops with
 * LVPN_ECREDENTIALS instead of waiting. Answers are kept (zeroed on free) and
 * reused on reconnects, except after AUTH_FAILED with auth-retry interact.
 * A server-pushed auth-token replaces the password on every later
 * authentication until AUTH_FAILED drops it. */
typedef enum {
  /* username and password (username given when known from the config);
   * with static-challenge, `challenge` is set: answer `response` too */
  LVPN_CRED_USER_PASS = 1,
  /* the server's dynamic challenge: answer `response` only */
  LVPN_CRED_CHALLENGE = 2,
  /* the passphrase of an encrypted private key ('key', or a 'pkcs12' bundle
   * that needs a password, without an 'askpass' file), asked once before the
   * first attempt: answer `password`. A wrong
   * one stops the client with LVPN_ECREDENTIALS ("private key: wrong
   * passphrase" logged), as OpenVPN exits. */
  LVPN_CRED_KEY_PASSPHRASE = 3
} lvpn_cred_kind_t;

typedef struct lvpn_cred_request_s {
  lvpn_cred_kind_t kind;
  const char *username;  /* known username, or NULL: ask for it */
  const char *challenge; /* challenge text to show, or NULL */
  int echo;              /* the response may be shown while typed */
} lvpn_cred_request_t;

/** Called when credentials are needed; `req` is lent for the call. */
typedef void (*lvpn_credentials_cb)(lvpn_client_t *client,
                                    const lvpn_cred_request_t *req, void *ud);
LVPN_EXTERN void lvpn_client_set_credentials_cb(lvpn_client_t *c,
                                                lvpn_credentials_cb cb,
                                                void *ud);
/** Answers the pending request; the strings are copied. `username` may be
 * NULL when the request gave one; `password` is needed for USER_PASS and
 * KEY_PASSPHRASE, `response` for a challenge. All NULL: the host cannot answer, the client
 * stops with LVPN_ECREDENTIALS. Returns LVPN_ESTATE when nothing is pending,
 * LVPN_EINVAL when a needed field is missing. */
LVPN_EXTERN int lvpn_client_answer_credentials(lvpn_client_t *c,
                                               const char *username,
                                               const char *password,
                                               const char *response);

#ifdef __cplusplus
}
#endif
#endif /* LAYERVPN_H */
