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

#define LVPN__CONFIG_MAX_REMOTES 8
#define LVPN__CONFIG_MAX_ROUTES 256
#define LVPN__CONFIG_MAX_LIST 64         /* setenv, pull-filter, warnings */
#define LVPN__CONFIG_MAX_FILE (4u << 20) /* config or referenced file */
#define LVPN__CONFIG_MAX_HASHES 16        /* peer-fingerprint, verify-hash */
#define LVPN__CONFIG_MAX_KU 8            /* remote-cert-ku values */
#define LVPN__DEFAULT_PORT 1194
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

typedef struct {
  char *host;
  uint16_t port;  /* 0: use cfg->port (see lvpn__config_remote_port) */
  bool has_proto; /* false: use cfg->proto */
  lvpn__proto_t proto;
} lvpn__remote_t;

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
  lvpn__proto_t proto; /* default udp */
  uint16_t port;       /* default remote port: 1194, port/rport */
  lvpn__remote_t remotes[LVPN__CONFIG_MAX_REMOTES];
  int n_remotes;
  bool remote_random;

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
  uint8_t hashes[LVPN__CONFIG_MAX_HASHES][32];
  int n_hashes;
  int hash_len;   /* 20 (SHA1) or 32 (SHA256) */
  int hash_depth; /* 0 peer-fingerprint, 1 verify-hash; -1 none */
  lvpn__blob_t pkcs12;          /* PKCS#12 file/inline (base64 inline) */
  char *askpass;                /* private key / PKCS#12 passphrase */
  bool prediction_resistance;   /* use-prediction-resistance */
  int tls_mtu;                      /* default 1250 */
  int hand_window;                  /* s, default 60 */
  int tls_timeout;                  /* s, default 2 */
  int reneg_sec;                    /* s, default 3600; 0 disables */
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
  int mssfix;  /* 1492 default, 0 off */
  bool mssfix_mtu, mssfix_fixed;
  bool mssfix_given; /* the option was in the config (warned: not applied) */
  bool passtos;      /* copy the inner IPv4 TOS to the outer packets */
  int ping, ping_restart, ping_exit, inactive; /* s, 0: not set */
  int64_t inactive_bytes;                      /* inactive's 2nd value */
  int connect_timeout;                         /* 120 */
  int connect_retry, connect_retry_max_delay;  /* 1, 300 */
  int connect_retry_max;                       /* 0: unlimited */
  int server_poll_timeout;                     /* 0: use connect_timeout */
  int explicit_exit_notify;                    /* 0 off; bare option: 1 */
  int verb;                                    /* 3 */
  int mute;                                    /* 0 */

  /* routes and DNS (client-side; pushed ones live in lvpn__push_t) */
  bool route_nopull;
  lvpn__route4_t routes[LVPN__CONFIG_MAX_ROUTES];
  int n_routes;
  lvpn__route6_t routes6[LVPN__CONFIG_MAX_ROUTES];
  int n_routes6;
  int route_metric;     /* -1: not given */
  int redirect_gateway; /* LVPN__RG_* flags, 0: not given */
  int redirect_private;
  lvpn__dhcp_opt_t dhcp[LVPN__DHCP_MAX];
  int n_dhcp;
  lvpn__pull_filter_t pull_filters[LVPN__CONFIG_MAX_LIST];
  int n_pull_filters;

  /* scripts and environment */
  char *up, *down;
  char *route_up, *route_pre_down, *ipchange; /* scripts, as up/down */
  char *user, *group, *chroot_dir; /* privilege drop after CONNECTED (the
                                      host does it: lvpn_drop_privileges) */
  char *cd;                        /* base directory for later files */
  int script_security; /* 0..3, default 1 */
  lvpn__setenv_t setenv[LVPN__CONFIG_MAX_LIST];
  int n_setenv;
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
  char *warnings[LVPN__CONFIG_MAX_LIST];
  int n_warnings;
  /* ignore-unknown-option names (also kept for clones) */
  char *ignore_unknown[LVPN__CONFIG_MAX_LIST];
  int n_ignore_unknown;

  /* management interface (lib/config_mgmt.c, mgmt/) */
  char *mgmt_addr;     /* IP or socket path; NULL: no management */
  int mgmt_port;       /* TCP port; 0 with mgmt_unix */
  bool mgmt_unix;
  char *mgmt_password; /* first line of the pw-file; zeroed on free */
  bool mgmt_hold, mgmt_query_passwords;
  int mgmt_log_cache; /* lines, default 1000 */
  long mgmt_client_uid, mgmt_client_gid; /* unix peers allowed; -1: any */
};

/* Deep copy. Returns 0 or LVPN_ENOMEM. */
int lvpn__config_clone(const lvpn_config_t *cfg, lvpn_config_t **out);
/* Checks that the config can work; names the first missing setting in
 * `errbuf` ("no 'remote' given", "'cert' given without 'key'").
 * Returns 0 or LVPN_ECONFIG (or LVPN_EUNSUPPORTED). */
int lvpn__config_validate(const lvpn_config_t *cfg, char *errbuf,
                          size_t errlen);
/* Canonical OpenVPN name of a data cipher we implement ("AES-256-GCM"),
 * matched case-insensitively, or NULL. */
const char *lvpn__config_cipher_supported(const char *name);
/* Port and protocol a remote entry uses, after defaults. */
uint16_t lvpn__config_remote_port(const lvpn_config_t *cfg, int i);
lvpn__proto_t lvpn__config_remote_proto(const lvpn_config_t *cfg, int i);
/* tls-groups "X25519:secp256r1:...": the mbedTLS group ids (up to `max`
 * into `ids` when not NULL); returns how many, or -1 with `msg` set. */
int lvpn__config_tls_groups(const char *list, int *ids, int max, char *msg,
                            size_t msglen);
/* Effective tls-auth key direction: 0, 1, or -1 (bidirectional). */
int lvpn__config_tls_auth_direction(const lvpn_config_t *cfg);

#endif
