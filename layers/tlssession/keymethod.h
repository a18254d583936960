/* Key-method 2 (the first TLS plaintext each way), the OCC options string,
 * peer-info, and control-message splitting. Pure encode/decode: no loop,
 * no TLS, no I/O. Layouts: doc/openvpn-protocol.md §4.2, §5, §4.1/§7;
 * OpenVPN ssl.c key_method_2_write/read, push_peer_info, options.c
 * options_string, ssl_pkt.c extract_command_buffer. */
#ifndef LVPN_LAYERS_TLSSESSION_KEYMETHOD_H
#define LVPN_LAYERS_TLSSESSION_KEYMETHOD_H

#include <stddef.h>
#include <stdint.h>

#define LVPN__KM2_METHOD 2
#define LVPN__KM2_METHOD_MASK 0x0F
#define LVPN__KM2_PRE_MASTER_LEN 48
#define LVPN__KM2_RANDOM_LEN 32
#define LVPN__KM2_MAX_LEN 2048    /* one TLS record: TLS_CHANNEL_BUF_SIZE */
#define LVPN__KM2_OPTIONS_LEN 512 /* TLS_OPTIONS_LEN, NUL included */
#define LVPN__IV_CIPHERS_MAX 127  /* MAX_NCP_CIPHERS_LENGTH */

/* IV_PROTO bits (ssl.h). Setting any bit requires DATA_V2. */
#define LVPN__IV_PROTO_DATA_V2 2u
#define LVPN__IV_PROTO_REQUEST_PUSH 4u
#define LVPN__IV_PROTO_TLS_KEY_EXPORT 8u
#define LVPN__IV_PROTO_AUTH_PENDING_KW 16u
#define LVPN__IV_PROTO_NCP_P2P 32u /* p2p only: not for clients of a server */
#define LVPN__IV_PROTO_DNS_OPTION 64u
#define LVPN__IV_PROTO_CC_EXIT_NOTIFY 128u
#define LVPN__IV_PROTO_AUTH_FAIL_TEMP 256u
#define LVPN__IV_PROTO_DYN_TLS_CRYPT 512u
#define LVPN__IV_PROTO_DATA_EPOCH 1024u /* 2.7: epoch data keys */
#define LVPN__IV_PROTO_DNS_OPTION_V2 2048u /* 2.7: every `dns` form */
#define LVPN__IV_PROTO_PUSH_UPDATE 4096u   /* 2.7: PUSH_UPDATE */

/* The client's key-method-2 state. The secrets stay needed after the
 * message went out (legacy PRF key derivation after PUSH_REPLY); wipe them
 * with lvpn__km2_client_wipe. The strings are lent, read only by
 * lvpn__km2_build. */
typedef struct {
  uint8_t pre_master[LVPN__KM2_PRE_MASTER_LEN];
  uint8_t random1[LVPN__KM2_RANDOM_LEN];
  uint8_t random2[LVPN__KM2_RANDOM_LEN];
  const char *options;   /* OCC string (lvpn__km2_options_string) */
  const char *username;  /* NULL: sent as 00 00 ("" is sent as 00 01 00) */
  const char *password;  /* NULL: sent as 00 00; may be an auth-token */
  const char *peer_info; /* NULL: sent as 00 00 */
  /* auth-nocache: the owner's heap copy of the password (the one
   * `password` points to), forgotten once sent; NULL: kept. */
  char **forget_password;
} lvpn__km2_client_t;

/* What the server's key-method-2 message carries for the client. */
typedef struct {
  uint8_t random1[LVPN__KM2_RANDOM_LEN];
  uint8_t random2[LVPN__KM2_RANDOM_LEN];
  char options[LVPN__KM2_OPTIONS_LEN]; /* server's OCC string, NUL-ended */
} lvpn__km2_server_t;

/** Fill pre_master, random1, random2 from `rng` (mbedTLS RNG signature).
 * Returns 0 or LVPN_ECRYPTO. */
int lvpn__km2_client_randomize(lvpn__km2_client_t *m,
                               int (*rng)(void *, unsigned char *, size_t),
                               void *rng_ctx);
/** Zero the secrets (pre_master, randoms); forget the string pointers. */
void lvpn__km2_client_wipe(lvpn__km2_client_t *m);

/** auth-nocache, after the message went out: zeroes and frees
 * *forget_password, sets it and `password` to NULL. Returns 1 when a
 * password was forgotten, 0 otherwise. */
int lvpn__km2_forget_password(lvpn__km2_client_t *m);

/** Write the client's key-method-2 message into out[0..max). Returns 0 and
 * *len, LVPN_ETOOBIG when it exceeds `max` or LVPN__KM2_MAX_LEN (or the
 * options string exceeds LVPN__KM2_OPTIONS_LEN), LVPN_EINVAL when
 * `options` is NULL. */
int lvpn__km2_build(uint8_t *out, size_t max, size_t *len,
                    const lvpn__km2_client_t *m);

/** Parse the server's key-method-2 message. The three trailing strings
 * (username, password, peer-info) are skipped and may be absent or cut
 * short. Returns 0, LVPN_ESHORT (cut before the options string ended),
 * LVPN_EPROTO (nonzero literal, key method not 2, options longer than
 * LVPN__KM2_OPTIONS_LEN). */
int lvpn__km2_parse_server(const uint8_t *msg, size_t len,
                           lvpn__km2_server_t *out);

typedef struct {
  const char *dev_type;  /* NULL: "tun" */
  unsigned link_mtu;     /* e.g. 1541 */
  int tun_mtu;           /* e.g. 1500 */
  int tcp;               /* "proto TCPv4_CLIENT" instead of "proto UDPv4" */
  int comp_lzo;          /* ",comp-lzo": a compression framing runs */
  int fragment;          /* ",mtu-dynamic": fragment is on (2.6) */
  int has_key_direction; /* tls-auth with key-direction: ",keydir N" */
  int key_direction;     /* 0 or 1 */
  const char *cipher;    /* NULL: no ",cipher X" (the 2.6 default) */
  const char *auth;      /* NULL: "SHA1" */
  int keysize;           /* e.g. 128 */
  int tls_auth;          /* ",tls-auth" */
} lvpn__km2_opts_t;

/** The OCC options string, e.g. "V4,dev-type tun,link-mtu 1541,tun-mtu
 * 1500,proto UDPv4,auth SHA1,keysize 128,key-method 2,tls-client".
 * Returns 0 or LVPN_ETOOBIG (beyond `max` or LVPN__KM2_OPTIONS_LEN). */
int lvpn__km2_options_string(char *out, size_t max, const lvpn__km2_opts_t *o);

typedef struct {
  const char *version;     /* IV_VER */
  const char *platform;    /* NULL: "linux" */
  int mtu;                 /* IV_MTU (max tun MTU, e.g. 1600); 0 omits it */
  const char *ciphers;     /* IV_CIPHERS, ':'-separated OpenVPN names */
  unsigned proto;          /* IV_PROTO bits, e.g. 2|4|8|128 = 142 */
  int comp_stubs;          /* IV_LZO_STUB, IV_COMP_STUB, IV_COMP_STUBv2 */
  int comp_real;           /* with comp_stubs: IV_LZ4, IV_LZ4v2, IV_LZO
                            * instead of IV_LZO_STUB (OpenVPN 2.6 order) */
  const char *gui_version; /* IV_GUI_VER, or NULL */
  /* push-peer-info (OpenVPN's detail level 3): IV_HWADDR (NULL: omitted),
   * IV_SSL, IV_PLAT_VER */
  int extended;
  const char *hwaddr, *ssl_version, *plat_version;
  /* "NAME=value" lines from setenv, sent as they are, last: UV_* and
   * IV_PLAT_VER (push-peer-info only), IV_GUI_VER, IV_SSO */
  const char *const *env;
  size_t n_env;
} lvpn__peer_info_opts_t;

/** Peer-info text, in OpenVPN's order: IV_VER, IV_PLAT, IV_TCPNL, IV_MTU,
 * IV_NCP=2 (only when ciphers has both AES-128-GCM and AES-256-GCM),
 * IV_CIPHERS, IV_PROTO, the stubs, IV_GUI_VER, the extended fields and
 * the setenv lines. Returns 0, LVPN_ETOOBIG
 * (beyond `max`), LVPN_ECONFIG (IV_CIPHERS over 127 characters) or
 * LVPN_EINVAL (a value with a newline, or proto bits without DATA_V2 or
 * with bit 0). */
int lvpn__peer_info_build(char *out, size_t max,
                          const lvpn__peer_info_opts_t *o);

/** Called once per valid control message: a NUL-terminated string of
 * `len` bytes, lent for the call. */
typedef void (*lvpn__ctlmsg_cb)(void *ud, const char *msg, size_t len);

/** Split one record's plaintext into control messages (NUL-separated),
 * as OpenVPN's extract_command_buffer does: trailing CR/LF are stripped;
 * a message with a byte below 0x20 or 0x7F is rejected (UTF-8 passes);
 * empty messages are skipped; bytes after the last NUL (an unterminated
 * message) are rejected. `buf` is modified in place (CR/LF become NUL).
 * Returns the number of rejected messages (0 when all were fine). */
int lvpn__ctlmsg_split(uint8_t *buf, size_t len, lvpn__ctlmsg_cb cb, void *ud);

#endif
