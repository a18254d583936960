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
  XX(COMPRESSION, "compression is not supported")                            \
  XX(TUN, "tun device error")                                                \
  XX(NETLINK, "netlink error")                                               \
  XX(RESOLVE, "cannot resolve remote host")                                  \
  XX(CONNRESET, "connection to the server lost")                             \
  XX(STOPPED, "stopped by request")                                          \
  XX(SCRIPT, "up/down script failed")                                        \
  XX(SERVER_POLL, "server-poll-timeout: no answer from the server in time")  \
  XX(RETRY_MAX, "connect-retry-max reached: every attempt failed")       \
  XX(CREDENTIALS, "no username/password: nobody answered the request")

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
typedef void (*lvpn_close_cb)(lvpn_client_t *client);

/** Client events, reported through lvpn_event_cb. */
typedef enum {
  LVPN_EVENT_PUSH_REPLY = 1, /* control channel complete, options pushed */
  LVPN_EVENT_CONNECTED = 2,  /* data channel up: traffic can flow */
  LVPN_EVENT_STOPPED = 3,    /* all layers shut down; `err` says why */
  LVPN_EVENT_RESTARTING = 4  /* connection lost (`err`); reconnecting after
                                connect-retry, as OpenVPN's SIGUSR1 */
} lvpn_event_t;

typedef void (*lvpn_event_cb)(lvpn_client_t *client, lvpn_event_t ev,
                              int err);

/** Host-provided inside I/O. When set, the client opens no TUN device:
 * decrypted IP packets are handed to `inside_write` (buffer lent for the
 * call), and the host injects packets with lvpn_client_inside_input(). */
typedef void (*lvpn_inside_write_cb)(lvpn_client_t *client,
                                     const uint8_t *pkt, size_t len);

/** Create a client on the caller's loop. `cfg` is copied; the caller may free
 * it afterwards. No I/O happens until lvpn_client_start(). */
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
LVPN_EXTERN int lvpn_client_start(lvpn_client_t *c);
/** Request an orderly shutdown; harmless when already stopping or stopped. */
LVPN_EXTERN void lvpn_client_stop(lvpn_client_t *c);
/** Release the client after it stopped (or was never started): `cb` runs
 * once every handle is closed; memory is freed after `cb` returns. */
LVPN_EXTERN int lvpn_client_close(lvpn_client_t *c, lvpn_close_cb cb);
/** Inject one inside (plaintext IP) packet; copied before return. */
LVPN_EXTERN int lvpn_client_inside_input(lvpn_client_t *c, const uint8_t *pkt,
                                         size_t len);

/** The tunnel's IPv4 address and netmask (subnet topology) or peer address
 * (net30/p2p) as pushed by the server, in network byte order. Returns 0,
 * or LVPN_ESTATE before the tunnel is up or when none was pushed. */
LVPN_EXTERN int lvpn_client_tunnel_ipv4(const lvpn_client_t *c, uint32_t *addr,
                                        uint32_t *netmask_or_peer);

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

/** Counters: calls `cb` once per counter with the layer and counter name. */
typedef void (*lvpn_counter_cb)(void *ud, const char *layer, const char *name,
                                uint64_t value);
LVPN_EXTERN void lvpn_client_counters(const lvpn_client_t *c,
                                      lvpn_counter_cb cb, void *ud);

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
  LVPN_CRED_CHALLENGE = 2
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
 * NULL when the request gave one; `password` is needed for USER_PASS,
 * `response` for a challenge. All NULL: the host cannot answer, the client
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
