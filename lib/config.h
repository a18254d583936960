/* Client configuration: what an OpenVPN client .ovpn file (or command-line
 * overrides) says, parsed into typed fields that the rest of the code reads
 * directly. The loader does all file I/O up front: certificates, keys and
 * the auth-user-pass file are read into memory, so nothing later touches
 * the filesystem.
 *
 * Ownership: a config owns every pointer in it. lvpn_config_free() zeroes
 * key material (blobs, password) before freeing. The client keeps its own
 * copy (lvpn__config_clone) so the host may free its config at any time.
 */
#ifndef LVPN_LIB_CONFIG_H
#define LVPN_LIB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layervpn.h"
#include "lib/ovpn_lex.h"

/* remote lines or <connection> blocks. OpenVPN 2.6 has no fixed limit (its
 * list grows by CONNECTION_LIST_SIZE = 64 entries); we keep a bound. */
#define LVPN__CONFIG_MAX_REMOTES 256
#define LVPN__CONFIG_LOCAL_MAX 255 /* 'local' host name or address */
#define LVPN__CONFIG_MAX_ROUTES 256
#define LVPN__CONFIG_MAX_LIST 64         /* setenv, pull-filter, warnings */
#define LVPN__CONFIG_MAX_FILE (4u << 20) /* config or referenced file */
#define LVPN__CONFIG_MAX_HASHES 16        /* peer-fingerprint, verify-hash */
#define LVPN__CONFIG_MAX_KU 8            /* remote-cert-ku values */
#define LVPN__DEFAULT_PORT 1194
#define LVPN__DEV_NODE_MAX 256 /* dev-node path, with its NUL */
#define LVPN__PRE_PULL_PING_RESTART 120 /* before PUSH_REPLY (doc §6.6) */
#define LVPN__DEFAULT_DATA_CIPHERS "AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305"

/* A file read at load time or an inline <tag> block. `data` is
 * NUL-terminated (data[len] == 0) so PEM parsers may take len + 1; `data`
 * is NULL when the option was not given. `origin` says where it came from:
 * the resolved path, or "file:line" for an inline block. */
typedef struct {
  char *data;
  size_t len;
  char *origin;
} lvpn__blob_t;

/* proto udp|udp4|udp6|tcp|tcp4|tcp6|tcp-client|tcp4-client|tcp6-client */
typedef struct {
  uint8_t tcp;    /* 0 UDP, 1 TCP (client) */
  uint8_t family; /* 0 any, 4 IPv4 only, 6 IPv6 only */
} lvpn__proto_t;

/* http-proxy / socks-proxy, as OpenVPN keeps them per connection entry:
 * lib/config_proxy.c parses into one of these (cfg->proxy today; a
 * <connection> block can hold its own), layers/networkio/proxy.c speaks the
 * protocols. Strings are owned; `password` is zeroed on free. */
#define LVPN__PROXY_MAX_HEADERS 10 /* http-proxy-option CUSTOM-HEADER */
#define LVPN__PROXY_MAX_LINE 512   /* one header line, as OpenVPN's buffer */
typedef enum {
  LVPN__PROXY_NONE = 0,
  LVPN__PROXY_HTTP, /* HTTP CONNECT, TCP only */
  LVPN__PROXY_SOCKS /* SOCKS5: CONNECT over TCP, UDP ASSOCIATE over UDP */
} lvpn__proxy_kind_t;
typedef struct {
  uint8_t kind;   /* lvpn__proxy_kind_t */
  char *host;     /* the proxy */
  uint16_t port;  /* http: given; socks: default 1080 */
  bool basic;     /* http: Proxy-Authorization: Basic (with auto: set
                     once the proxy asked for it) */
  uint8_t auto_auth; /* http: 1 'auto', 2 'auto-nct' (no Basic) */
  char *username; /* http (basic) and socks (RFC 1929); NULL: none */
  char *password; /* set with username; zeroed on free */
  bool creds_inline; /* from <http-proxy-user-pass> (wins over the file) */
  char *http_version;  /* http-proxy-option VERSION; NULL: "1.0" */
  char *user_agent;    /* http-proxy-option AGENT; NULL: none sent */
  char *headers[LVPN__PROXY_MAX_HEADERS]; /* "Name: value" lines */
  int n_headers;
  bool options_given; /* http-proxy-option / -user-pass seen */
  char *creds_error;  /* why the http-proxy auth file could not be read
                         (reported unless <http-proxy-user-pass> follows) */
} lvpn__proxy_t;

/* One connection entry: a `remote` line, or a <connection> block. */
typedef struct {
  char *host;
  uint16_t port;  /* 0: use cfg->port (see lvpn__config_remote_port) */
  bool has_proto; /* false: use cfg->proto */
  lvpn__proto_t proto;
  /* <connection>: the block's per-connection settings (the config fields
   * lib/config_conn.c lists), put in place by lvpn__config_use_remote();
   * NULL for a remote line (it uses the global settings). */
  uint8_t *fields;
  /* <connection>: the block's own http-proxy/socks-proxy (it starts as a
   * copy of the global one in force where the block appears); strings
   * owned. A remote line uses cfg->proxy (lvpn__config_remote_proxy). */
  bool own_proxy;
  lvpn__proxy_t proxy;
  /* <connection>: the block's own tls-auth/tls-crypt/tls-crypt-v2 key
   * (lvpn__wrap_kind_t; owned) and tls-auth direction, when it gives one;
   * otherwise the global key applies (lvpn__config_remote_wrap), as
   * OpenVPN's options_postprocess_mutate_ce. */
  bool own_wrap;
  uint8_t wrap_kind;
  int8_t wrap_dir;
  lvpn__blob_t wrap_key;
} lvpn__remote_t;

/* Which control-channel wrapping a connection uses. */
typedef enum {
  LVPN__WRAP_NONE = 0,
  LVPN__WRAP_AUTH,    /* tls-auth */
  LVPN__WRAP_CRYPT,   /* tls-crypt */
  LVPN__WRAP_CRYPT_V2 /* tls-crypt-v2 */
} lvpn__wrap_kind_t;

typedef enum {
  LVPN__CERT_TLS_NONE = 0,
  LVPN__CERT_TLS_SERVER,
  LVPN__CERT_TLS_CLIENT
} lvpn__cert_tls_t;
typedef enum {
  LVPN__X509_SUBJECT = 0,
  LVPN__X509_NAME,
  LVPN__X509_NAME_PREFIX
} lvpn__x509_name_t;
typedef enum {
  LVPN__CERT_PROFILE_LEGACY = 0, /* OpenVPN's default (also "insecure") */
  LVPN__CERT_PROFILE_PREFERRED,
  LVPN__CERT_PROFILE_SUITEB
} lvpn__cert_profile_t;
typedef enum {
  LVPN__AUP_NONE = 0, /* no auth-user-pass */
  LVPN__AUP_PROMPT,   /* auth-user-pass without a file */
  LVPN__AUP_GIVEN     /* from a file or <auth-user-pass> */
} lvpn__aup_t;

/* auth-retry, as OpenVPN: after AUTH_FAILED exit (none), reconnect with the
 * same credentials (nointeract) or ask for them again (interact). */
typedef enum {
  LVPN__AUTH_RETRY_NONE = 0,
  LVPN__AUTH_RETRY_NOINTERACT,
  LVPN__AUTH_RETRY_INTERACT
} lvpn__auth_retry_t;
typedef enum {
  LVPN__ALLOW_COMP_NO = 0,
  LVPN__ALLOW_COMP_ASYM,
  LVPN__ALLOW_COMP_YES
} lvpn__allow_comp_t;
/* dns-mode (ours): whether the DNS of the connection is applied to the
 * host's resolver, when the host opted in (lvpn_client_set_apply_dns). */
enum { LVPN__DNS_MODE_AUTO = 0, LVPN__DNS_MODE_NONE };

typedef enum {
  LVPN__PULL_ACCEPT = 0,
  LVPN__PULL_IGNORE,
  LVPN__PULL_REJECT
} lvpn__pull_action_t;

typedef struct {
  uint8_t action; /* lvpn__pull_action_t */
  char *text;     /* prefix matched against each pushed option */
} lvpn__pull_filter_t;

typedef struct {
  char *name;
  char *value;
} lvpn__setenv_t;

struct lvpn_config_s {
  /* mode: `client` sets pull and tls_client */
  bool client, pull, tls_client;
  char *dev;           /* "tun" (or tunN / any name); never NULL */
  char *dev_node;      /* dev-node: the clone device; NULL: /dev/net/tun */
  lvpn__proto_t proto; /* default udp */
  uint16_t port;       /* default remote port: 1194, port/rport */
  /* The lists below are heap arrays grown as options add to them
   * (lib/grow.h), up to their LVPN__CONFIG_MAX_* limit: NULL while empty.
   * cap_* is the allocated count. */
  lvpn__remote_t *remotes; /* up to LVPN__CONFIG_MAX_REMOTES */
  int n_remotes, cap_remotes;
  bool conn_blocks; /* remotes are <connection> blocks (remote lines are
                       then ignored, as OpenVPN does) */
  bool remote_random, remote_random_hostname, persist_remote_ip;
  int8_t proto_force; /* -1 none, 0 UDP, 1 TCP: lvpn__config_proto_force */
  lvpn__proxy_t proxy; /* http-proxy / socks-proxy (lib/config_proxy.c) */
  /* local socket, per connection: bound only with local/lport/bind, as an
   * OpenVPN client (pull) does */
  char local[LVPN__CONFIG_LOCAL_MAX + 1]; /* "" : any address */
  uint16_t lport;                         /* port/lport, default 1194 */
  bool lport_given, bind_given, nobind;
  bool floating; /* float: follow the server to a new address */
  /* the outside socket's options (layers/networkio): mark N (SO_MARK, 0:
   * none), bind-dev DEV (SO_BINDTODEVICE, "": none), mtu-disc
   * no|maybe|yes (IP(V6)_MTU_DISCOVER: IP_PMTUDISC_DONT/WANT/DO; -1: the
   * system's; per connection, as OpenVPN) */
  uint32_t mark;
  char bind_dev[16];
  int mtu_disc;

  /* TLS and control channel */
  lvpn__blob_t ca, cert, key, extra_certs;
  lvpn__blob_t tls_auth, tls_crypt, tls_crypt_v2;
  int tls_auth_dir;       /* direction on the tls-auth line: -1 none, 0, 1 */
  int key_direction;      /* key-direction: -1 unset, 0, 1. Effective
                             tls-auth direction: tls_auth_dir if >= 0,
                             else key_direction, else bidirectional */
  int remote_cert_tls;    /* lvpn__cert_tls_t */
  char *verify_x509_name; /* NULL: not checked */
  int verify_x509_type;   /* lvpn__x509_name_t */
  int tls_version_min;    /* TLS 1.x -> x (0..3); default 2 */
  bool tls_version_min_or_highest;
  int tls_version_max;              /* -1: library maximum */
  char *tls_cipher;                 /* NULL: library defaults */
  char *tls_ciphersuites;           /* TLS 1.3 list, stored only */
  char *tls_groups;                 /* NULL: default curves */
  int tls_cert_profile;             /* lvpn__cert_profile_t */
  lvpn__blob_t crl;                 /* crl-verify: PEM or DER CRL(s) */
  int ns_cert_type;                 /* lvpn__cert_tls_t: nsCertType wanted */
  bool ku_required;                 /* remote-cert-ku: KU must be present */
  uint16_t ku[LVPN__CONFIG_MAX_KU]; /* ... and have all bits of one of these */
  int n_ku;
  char *remote_cert_eku;            /* OID ("1.3.6...") or mbedTLS name */
  /* peer-fingerprint (depth 0, SHA256) or verify-hash (depth 1) */
  uint8_t (*hashes)[32]; /* up to LVPN__CONFIG_MAX_HASHES */
  int n_hashes, cap_hashes;
  int hash_len;   /* 20 (SHA1) or 32 (SHA256) */
  int hash_depth; /* 0 peer-fingerprint, 1 verify-hash; -1 none */
  lvpn__blob_t pkcs12;          /* PKCS#12 file/inline (base64 inline) */
  char *askpass;                /* private key / PKCS#12 passphrase */
  bool prediction_resistance;   /* use-prediction-resistance */
  int tls_mtu;                      /* default 1250 */
  int hand_window;                  /* s, default 60 */
  int tls_timeout;                  /* s, default 2 */
  int reneg_sec;                    /* s, default 3600; 0 disables */
  int tran_window; /* s a renegotiated-away key still decrypts; 3600 */
  bool tls_exit;                    /* TLS failures exit, not restart */
  uint64_t reneg_bytes, reneg_pkts; /* 0: off */

  /* data channel */
  char *cipher;                /* legacy --cipher, canonical if supported */
  char *data_ciphers;          /* canonical, ':'-separated, never empty */
  char *data_ciphers_fallback; /* NULL unless given */
  char *auth;                  /* "SHA1" (default), "SHA256", ..., "none" */
  int comp;                    /* lvpn__comp_t */
  int allow_compression;       /* lvpn__allow_comp_t, default NO */
  bool allow_compression_set;  /* given explicitly (2.6: changes defaults) */
  int replay_window, replay_time; /* 64, 15 */
  bool mute_replay_warnings;

  /* credentials */
  int auth_user_pass; /* lvpn__aup_t */
  char *username;     /* set with LVPN__AUP_GIVEN */
  char *password;     /* NULL: the host must prompt; zeroed on free */
  bool auth_nocache;
  /* credentials: auth-retry, static-challenge (layers/client_auth.c) */
  int auth_retry;          /* lvpn__auth_retry_t, default NONE */
  char *static_challenge;  /* challenge text, NULL: none */
  bool static_challenge_echo;

  /* tun, timers */
  int tun_mtu; /* default 1500 */
  bool tun_mtu_given;
  int tun_mtu_max; /* tun-mtu-max: the largest pushed tun-mtu taken (0:
                      not given; the least is 1600, as OpenVPN 2.6) */
  int tun_mtu_extra; /* tun-mtu-extra (0): lowers the computed MSS */
  /* disable-offload [tun|udp]: no TUN offloads (layers/tun/tun_io.c), no
   * UDP GSO/GRO batching (layers/networkio/udpbatch.c); no argument: both */
  bool disable_offload;
  bool disable_udp_offload;
  int link_mtu;      /* link-mtu (deprecated), 0: not given */
  int fragment;      /* fragment N, 0: off (UDP only) */
  bool fragment_mtu; /* fragment N mtu: N counts the outer IP+UDP headers */
  /* mssfix as written (OpenVPN 2.6's ce.mssfix*); what applies comes from
   * lvpn__config_mssfix(). */
  int mssfix;  /* 1492 default, 0 off */
  bool mssfix_mtu, mssfix_fixed;
  bool mssfix_default; /* not given, or given without a value */
  bool passtos;      /* copy the inner IPv4 TOS to the outer packets */
  int ping, ping_restart, ping_exit, inactive; /* s, 0: not set */
  int64_t inactive_bytes;                      /* inactive's 2nd value */
  int session_timeout; /* session-timeout N: s from tunnel up, 0: none */
  int connect_timeout;                         /* 120 */
  int connect_retry, connect_retry_max_delay;  /* 1, 300 */
  int connect_retry_max;                       /* 0: unlimited */
  int server_poll_timeout;                     /* 0: use connect_timeout */
  int explicit_exit_notify;                    /* 0 off; bare option: 1 */
  int verb;                                    /* 3 */
  int mute;                                    /* 0 */

  /* routes and DNS (client-side; pushed ones live in lvpn__push_t) */
  bool route_nopull;
  bool route_noexec;    /* no route added: scripts get them (route_*_N) */
  bool ifconfig_noexec; /* no MTU, link or address set on the device */
  bool has_route_gateway; /* route-gateway ADDR: when none is pushed */
  struct in_addr route_gateway;
  bool allow_recursive_routing; /* no drop of tun packets to the server */
  bool has_route_ipv6_gateway; /* route-ipv6-gateway: instead of the */
  struct in6_addr route_ipv6_gateway; /* ifconfig-ipv6 remote */
  lvpn__route4_t *routes; /* up to LVPN__CONFIG_MAX_ROUTES */
  /* host names of `route` networks and gateways (route4 net_name/gw_name,
   * 1-based), resolved by the client for each connection */
  char **route_names;
  int n_route_names, cap_route_names;
  int n_routes, cap_routes;
  lvpn__route6_t *routes6; /* up to LVPN__CONFIG_MAX_ROUTES */
  int n_routes6, cap_routes6;
  int route_metric;     /* -1: not given */
  int redirect_gateway; /* LVPN__RG_* flags, 0: not given */
  int redirect_private;
  bool persist_tun;     /* keep the tun and its routes across restarts */
  bool block_ipv6;      /* answer IPv6 from the tun with ICMPv6 no-route */
  lvpn__dhcp_opt_t *dhcp; /* up to LVPN__DHCP_MAX */
  int n_dhcp, cap_dhcp;
  lvpn_dns_t *dns; /* the config's `dns` options (lib/dns_opt.h); heap,
                      NULL: no `dns` option */
  int dns_mode;   /* LVPN__DNS_MODE_*: dns-mode, dns-updown disable */
  lvpn__pull_filter_t *pull_filters; /* up to LVPN__CONFIG_MAX_LIST */
  int n_pull_filters, cap_pull_filters;

  /* scripts and environment */
  char *up, *down;
  char *route_up, *route_pre_down, *ipchange; /* scripts, as up/down */
  char *user, *group, *chroot_dir; /* privilege drop after CONNECTED (the
                                      host does it: lvpn_drop_privileges) */
  char *cd;                        /* base directory for later files */
  int script_security; /* 0..3, default 1 */
  lvpn__setenv_t *setenv; /* up to LVPN__CONFIG_MAX_LIST */
  int n_setenv, cap_setenv;
  bool push_peer_info;
  /* process options: the host acts on them (lvpn_config_proc_opts) */
  bool daemon, syslog, log_append, suppress_timestamps;
  char *syslog_name, *log_file, *writepid, *status_file;
  int status_interval, status_version; /* 60, 1 */
  bool machine_readable, mlock;
  int remap_usr1; /* 0, 1 SIGHUP, 2 SIGTERM */
  int nice;
  bool forward_compatible; /* setenv FORWARD_COMPATIBLE 1: unknown options
                              only warn */

  /* Non-fatal notes for the client to log at start (e.g. a skipped
   * data-ciphers entry). */
  char **warnings; /* up to LVPN__CONFIG_MAX_LIST */
  int n_warnings, cap_warnings;
  /* ignore-unknown-option names (also kept for clones) */
  char **ignore_unknown; /* up to LVPN__CONFIG_MAX_LIST */
  int n_ignore_unknown, cap_ignore_unknown;

  /* management interface (lib/config_mgmt.c, mgmt/) */
  char *mgmt_addr;     /* IP or socket path; NULL: no management */
  int mgmt_port;       /* TCP port; 0 with mgmt_unix */
  bool mgmt_unix;
  char *mgmt_password; /* first line of the pw-file; zeroed on free */
  bool mgmt_hold, mgmt_query_passwords;
  int mgmt_log_cache; /* lines, default 1000 */
  long mgmt_client_uid, mgmt_client_gid; /* unix peers allowed; -1: any */

  /* Clients made from this config share one read-only copy of it
   * (lvpn__config_share); never copied by a clone. */
  lvpn_config_t *snapshot; /* this config's shared copy, NULL: none yet */
  unsigned snap_refs;      /* in a shared copy: its holders */
  /* what its clients derive from it and share (lvpn__config_attach_*);
   * holds one reference; never copied by a clone */
  struct lvpn__config_attach_s *attach;
};

/* Something derived from a config (the client's parsed TLS credentials)
 * and shared by the clients made from it, kept beside the config's shared
 * copy. Reference counted: the copy holds one reference, each user one; the
 * last put calls `free`. `owner` says who may use it (the loop of the
 * clients sharing it: not thread-safe). Embed it as the first member. */
typedef struct lvpn__config_attach_s {
  unsigned refs;
  const void *owner;
  void (*free)(struct lvpn__config_attach_s *a);
} lvpn__config_attach_t;

/* The attachment of `cfg` (a copy from lvpn__config_share) for `owner`,
 * with a reference taken, or NULL. Thread-safe, as the next two. */
lvpn__config_attach_t *lvpn__config_attach_get(lvpn_config_t *cfg,
                                               const void *owner);
/* Attaches `a` (refs 1: the caller's) to `cfg`, which takes a reference,
 * unless it has one already (then `a` stays the caller's alone). */
void lvpn__config_attach_set(lvpn_config_t *cfg, lvpn__config_attach_t *a);
/* Drops a reference (NULL accepted). */
void lvpn__config_attach_put(lvpn__config_attach_t *a);

/* Deep copy. Returns 0 or LVPN_ENOMEM. */
int lvpn__config_clone(const lvpn_config_t *cfg, lvpn_config_t **out);
/* A read-only copy of `cfg` shared by every client made from it (the
 * parsed config costs a session nothing): the first call makes the copy,
 * later ones take a reference to it, until `cfg` is changed
 * (lvpn_config_set) or freed. Release with lvpn__config_unshare(). Returns 0
 * or LVPN_ENOMEM. Thread-safe (a lock around the reference counts). */
int lvpn__config_share(const lvpn_config_t *cfg, lvpn_config_t **out);
void lvpn__config_unshare(lvpn_config_t *snap);
/* Makes *cfg (from lvpn__config_share) the caller's own before it writes to
 * it: a private clone when others still hold the shared copy. Returns 0 or
 * LVPN_ENOMEM (then *cfg is unchanged). */
int lvpn__config_own(lvpn_config_t **cfg);
/* Checks that the config can work; names the first missing setting in
 * `errbuf` ("no 'remote' given", "'cert' given without 'key'").
 * Returns 0 or LVPN_ECONFIG (or LVPN_EUNSUPPORTED). */
int lvpn__config_validate(const lvpn_config_t *cfg, char *errbuf,
                          size_t errlen);
/* Canonical OpenVPN name of a data cipher we implement ("AES-256-GCM"),
 * matched case-insensitively, or NULL. */
const char *lvpn__config_cipher_supported(const char *name);
/* 1 when `item` is an item of the ':'-separated `list` (whole, matched
 * case-insensitively: OpenVPN's tls_item_in_cipher_list), else 0 (a NULL
 * list has none). */
int lvpn__config_list_has(const char *list, const char *item);
/* Puts remote `i`'s per-connection settings (a <connection> block's) in
 * the config's fields; nothing for a remote line. */
void lvpn__config_use_remote(lvpn_config_t *cfg, int i);
/* proto-force: drops the connection entries of the other transport (as
 * OpenVPN disables them), before the client starts. The manual's meaning:
 * 'tcp' keeps the TCP entries (2.6.14 and 2.7 compare it with the entries'
 * tcp-client and so disable every one). LVPN_ECONFIG, with `err`, when no
 * entry is left. */
int lvpn__config_proto_force(lvpn_config_t *cfg, char *err, size_t errlen);
/* Whether the local socket is bound (local, lport or bind given). */
bool lvpn__config_bind_local(const lvpn_config_t *cfg);
/* Port and protocol a remote entry uses, after defaults. */
uint16_t lvpn__config_remote_port(const lvpn_config_t *cfg, int i);
lvpn__proto_t lvpn__config_remote_proto(const lvpn_config_t *cfg, int i);
/* The proxy a remote entry connects through (kind NONE: direct). Not
 * const: networkio records there the auth method 'auto' learned, kept for
 * later attempts as OpenVPN does. */
lvpn__proxy_t *lvpn__config_remote_proxy(lvpn_config_t *cfg, int i);
/* tls-groups "X25519:secp256r1:...": the mbedTLS group ids (up to `max`
 * into `ids` when not NULL); returns how many, or -1 with `msg` set. */
int lvpn__config_tls_groups(const char *list, int *ids, int max, char *msg,
                            size_t msglen);
/* The mssfix that applies (OpenVPN 2.6 options_postprocess_mutate_ce):
 * with no value given, the fragment size if fragment is on, else 1492 'mtu'
 * when tun-mtu is 1500, else the tun MTU 'fixed', and off with link-mtu.
 * *value 0: off. */
void lvpn__config_mssfix(const lvpn_config_t *cfg, int *value, bool *mtu,
                         bool *fixed);
/* Effective tls-auth key direction: 0, 1, or -1 (bidirectional). */
int lvpn__config_tls_auth_direction(const lvpn_config_t *cfg);
/* The wrap key remote entry `i` uses: its <connection> block's own, else
 * the global one. Returns the kind; *key (lent) and *dir (tls-auth: 0, 1 or
 * -1) are set unless the kind is LVPN__WRAP_NONE. */
lvpn__wrap_kind_t lvpn__config_remote_wrap(const lvpn_config_t *cfg, int i,
                                           const lvpn__blob_t **key,
                                           int *dir);

#endif
