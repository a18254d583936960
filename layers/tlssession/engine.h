/* TLS engine of the tlssession layer: an mbedTLS 2.28 TLS 1.2 client over
 * in-memory byte streams. No socket, no loop, no timers: the caller feeds
 * ciphertext received in order from the reliability layer, calls
 * lvpn__tls_step(), and takes the ciphertext to send. One lvpn__tls_conf_t
 * (parsed PKI + mbedtls_ssl_config, immutable once built) serves the
 * lvpn__tls_session_t of every key_id (each renegotiation is a new, full
 * handshake in a new session), and may serve the sessions of many clients:
 * what differs per client (random generator, logger) is the session's.
 *
 * Not thread-safe: a conf and its sessions belong to one loop thread (the
 * RSA blinding values and the EC base-point table of a key are written on
 * use). */
#ifndef LVPN_LAYERS_TLSSESSION_ENGINE_H
#define LVPN_LAYERS_TLSSESSION_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "layers/tlssession/certenv.h"
#include "lib/log.h"

/* verify-x509-name types (OpenVPN's names). */
enum {
  LVPN__X509_NAME_NONE = 0,
  LVPN__X509_NAME_SUBJECT = 1,    /* whole subject DN, mbedTLS formatting */
  LVPN__X509_NAME_NAME = 2,       /* CN equals */
  LVPN__X509_NAME_NAME_PREFIX = 3 /* CN starts with */
};

/* tls-cert-profile (OpenVPN's names; legacy is the default). */
enum {
  LVPN__TLS_PROFILE_LEGACY = 0,
  LVPN__TLS_PROFILE_PREFERRED = 1,
  LVPN__TLS_PROFILE_SUITEB = 2
};
#define LVPN__TLS_MAX_HASHES 16
#define LVPN__TLS_MAX_KU 8
#define LVPN__TLS_MAX_CURVES 12

/* tls_version_min values. mbedTLS 2.28 speaks TLS 1.2 only: anything below
 * is raised to 1.2 (a 2.6 server refuses less anyway); 1.3 is unsupported. */
enum { LVPN__TLS_VERSION_1_2 = 2, LVPN__TLS_VERSION_1_3 = 3 };

/* Largest plaintext record we write or expect: OpenVPN reads control
 * plaintext into TLS_CHANNEL_BUF_SIZE buffers. */
#define LVPN__TLS_MAX_RECORD 2048
/* Upper bound on buffered ciphertext in each direction. */
#define LVPN__TLS_MAX_BUFFERED (256 * 1024)
#define LVPN__TLS_MAX_SUITES 32

typedef struct {
  const char *ca_pem; /* PEM text; len includes the NUL (mbedTLS convention;
                         a missing NUL is tolerated). NULL only with a
                         peer-fingerprint list (hash_depth 0) */
  size_t ca_len;
  const char *crl_pem; /* crl-verify: PEM or DER CRL(s) of the CA, or NULL */
  size_t crl_len;
  const char *key_password; /* encrypted private key's passphrase, or NULL */
  const char *cert_pem; /* may be NULL (user/pass only) */
  size_t cert_len;
  const char *key_pem; /* required iff cert_pem is set */
  size_t key_len;
  const char *extra_certs_pem; /* optional intermediates sent after cert */
  size_t extra_certs_len;
  int remote_cert_tls_server;   /* leaf must have keyUsage + EKU serverAuth */
  int remote_cert_tls_client;   /* ... + EKU clientAuth */
  int ns_cert_type;             /* 0 none, 1 server, 2 client */
  int ku_required;              /* remote-cert-ku: keyUsage present and, */
  const uint16_t *ku;           /* when n_ku > 0, with all bits of one of */
  int n_ku;                     /* these values */
  const char *remote_cert_eku;  /* OID or mbedTLS name; NULL: none */
  const uint8_t (*hashes)[32];  /* peer-fingerprint / verify-hash list */
  int n_hashes;
  int hash_len;   /* 20 (SHA1) or 32 (SHA256) */
  int hash_depth; /* 0: peer's certificate (then 'ca' is optional), 1: its
                     issuer */
  int cert_profile;     /* LVPN__TLS_PROFILE_* */
  const int *groups;    /* mbedtls_ecp_group_id list for tls-groups */
  int n_groups;         /* 0: the default curves */
  const char *verify_x509_name; /* NULL: no name check */
  int verify_x509_type;         /* LVPN__X509_NAME_* (NONE means SUBJECT) */
  int tls_version_min;          /* LVPN__TLS_VERSION_*; 0 = 1.2 */
  const char *tls_cipher;       /* OpenSSL/IANA/mbedTLS names, ':'-separated, or
                                   NULL for the ECDHE AEAD default */
  /* The default random generator and logger of the sessions (lvpn__tls_use
   * replaces them per session); the logger also hears about the conf's
   * making. With `shared`, the conf keeps neither: it serves several
   * owners, and each session brings its own (lvpn__tls_use). */
  int (*rng)(void *, unsigned char *,
             size_t); /* e.g. mbedtls_ctr_drbg_random; required unless shared */
  void *rng_ctx;
  const lvpn__logger_t *log; /* may be NULL */
  int shared;
} lvpn__tls_params_t;

struct lvpn__tls_session_s;

typedef struct lvpn__tls_conf_s {
  mbedtls_ssl_config ssl;
  mbedtls_x509_crt ca;
  mbedtls_x509_crl crl;  /* empty unless crl-verify */
  mbedtls_x509_crt cert; /* own cert followed by extra certs */
  mbedtls_pk_context key;
  mbedtls_x509_crt_profile profile;
  int have_cert;
  int suites[LVPN__TLS_MAX_SUITES + 1];
  mbedtls_ecp_group_id curves[LVPN__TLS_MAX_CURVES + 1];
  int remote_cert_tls; /* 0, 1 server, 2 client (names the check in errors) */
  int ns_cert_type;
  int ku_required;
  uint16_t ku[LVPN__TLS_MAX_KU];
  int n_ku;
  char eku[128]; /* "" none */
  uint8_t hashes[LVPN__TLS_MAX_HASHES][32];
  int n_hashes, hash_len, hash_depth;
  int no_ca; /* peer-fingerprint without 'ca': trust comes from the hash */
  /* lvpn__tls_conf_warm(): 1 until it ran; key_err: its verdict (an LVPN_*
   * error when the key failed it; sessions of the conf then fail) */
  int warm_pending, key_err;
  int verify_x509_type;
  char verify_x509_name[256];
  /* the owner's chain checked ahead (lvpn__tls_conf_check_ahead): tried
   * once per conf; ahead_id: SHA-256 of the chain the owner keeps, when
   * have_ahead */
  int ahead_tried, have_ahead;
  uint8_t ahead_id[32];
  /* defaults of the sessions (NULL in a shared conf) */
  const lvpn__logger_t *log;
  int (*rng)(void *, unsigned char *, size_t);
  void *rng_ctx;
} lvpn__tls_conf_t;

/* A growable byte queue (control-channel sized). */
typedef struct {
  uint8_t *data;
  size_t off, len, cap; /* unread bytes: data[off .. off+len) */
} lvpn__tls_bytes_t;

/* Where the check of the server's certificate chain stands (see
 * lvpn__tls_verify_peer). */
enum {
  LVPN__TLS_VERIFY_WAIT = 0, /* no certificate from the server yet */
  LVPN__TLS_VERIFY_PENDING,  /* it arrived: mbedTLS goes on, unverified */
  LVPN__TLS_VERIFY_DONE      /* checked (s->err says how it went) */
};

typedef struct lvpn__tls_session_s {
  mbedtls_ssl_context ssl;
  lvpn__tls_conf_t *conf;
  int (*rng)(void *, unsigned char *, size_t); /* this session's */
  void *rng_ctx;
  const lvpn__logger_t *log; /* may be NULL */
  lvpn__tls_bytes_t in;  /* ciphertext received, not yet read by mbedTLS */
  lvpn__tls_bytes_t out; /* ciphertext produced, not yet taken */
  int done;              /* handshake finished */
  int err;               /* sticky error once the session failed */
  uint32_t chain_flags;  /* verify flags of every depth, ORed */
  int verify;            /* LVPN__TLS_VERIFY_*: the server's chain check */
  uint32_t verify_flags; /* that check's result flags */
  int leaf_err;          /* our own leaf check result (LVPN_ECERT_*) */
  int have_export;
  int kx_own;   /* our X25519 wrote the last ClientKeyExchange (x25519.h) */
  int kx_group; /* the ECDHE group of the last handshake (mbedtls_ecp_group_id;
                   0: none, or not an ECDHE suite) */
  int prf_type; /* mbedtls_tls_prf_types */
  uint8_t master[48];
  uint8_t client_random[32];
  uint8_t server_random[32];
  char subject[256]; /* verified leaf's subject DN */
  lvpn__certenv_t certenv; /* the verified chain's script variables */
  char cn[128];      /* its first CN */
  char errmsg[1024];
} lvpn__tls_session_t;

/** Parse the PKI once and build the client config. On error returns
 * LVPN_EKEYFILE (unparsable CA/cert/key, or key not matching cert),
 * LVPN_ECONFIG (no usable cipher, cert without key), LVPN_EUNSUPPORTED
 * (TLS 1.3 minimum) or LVPN_EINVAL, with a message in `err`. Nothing needs
 * freeing after a failure. */
int lvpn__tls_conf_init(lvpn__tls_conf_t *c, const lvpn__tls_params_t *p,
                        char *err, size_t errlen);
/** Free a conf. Every session made from it must be freed first. */
void lvpn__tls_conf_free(lvpn__tls_conf_t *c);
/** The start-up work a conf leaves for a wait on the network, run once
 * (later calls return the first verdict): the check of an EC key, which
 * on mbedTLS builds its table of G (lvpn__tls_own_key_warm), then the CA
 * keys that remember their verifications, with copies of that table where
 * mbedTLS verifies. Sessions are right without it, only slower. 0, or
 * LVPN_EKEYFILE with the reason in `err` ('key' does not match 'cert');
 * lvpn__tls_init() then fails with that error too. */
int lvpn__tls_conf_warm(lvpn__tls_conf_t *c, char *err, size_t errlen);

/** Prepare one TLS session (one key_id) on a conf, with the conf's default
 * random generator and logger. No output yet: the ClientHello is produced
 * by the first lvpn__tls_step(), which fails (LVPN_EINVAL) while the
 * session has no random generator. */
int lvpn__tls_init(lvpn__tls_session_t *s, lvpn__tls_conf_t *conf);
/** The session's own random generator and logger (before the first step;
 * they must outlive the session). */
void lvpn__tls_use(lvpn__tls_session_t *s,
                   int (*rng)(void *, unsigned char *, size_t), void *rng_ctx,
                   const lvpn__logger_t *log);
/** Free a session; zeroes secrets and buffers. Harmless twice. */
void lvpn__tls_free(lvpn__tls_session_t *s);

/** Append ciphertext received in order (copied). LVPN_ETOOBIG when more
 * than LVPN__TLS_MAX_BUFFERED bytes would be waiting. */
int lvpn__tls_feed(lvpn__tls_session_t *s, const uint8_t *ciphertext,
                   size_t len);
/** Drive the handshake as far as the buffered input allows. Returns 0
 * (call again after the next feed), or a negative error, sticky: the
 * LVPN_ECERT_* codes for certificate rejections, LVPN_ETLS for other TLS
 * failures (details in lvpn__tls_last_error). After an error, pending
 * output may hold an alert worth sending. */
int lvpn__tls_step(lvpn__tls_session_t *s);
int lvpn__tls_handshake_done(const lvpn__tls_session_t *s);
/** The server's certificate chain is checked apart from mbedTLS's steps:
 * its conf verifies nothing itself, so once the certificate is parsed
 * mbedTLS goes on with the ServerKeyExchange (whose signature it checks
 * with that certificate's key, as always) and writes our second flight;
 * this check (chain, CRL, profile, the key's curve and usage, and every
 * check of lvpn__tls_verify_cb) can then run while the server works on
 * that flight. Nothing secret leaves before it passed: lvpn__tls_write()
 * and lvpn__tls_write_early() refuse to write until then (our
 * key-method-2 carries the credentials), and the handshake does not
 * finish without it (lvpn__tls_step runs it at the end if nobody did).
 * Returns 0 (passed, or no certificate yet), or the error, sticky: an
 * LVPN_ECERT_* code with errmsg set and a fatal alert in the output. */
int lvpn__tls_verify_peer(lvpn__tls_session_t *s);
/** 1 when the server's certificate is waiting for lvpn__tls_verify_peer(). */
int lvpn__tls_verify_pending(const lvpn__tls_session_t *s);

size_t lvpn__tls_pending_output(const lvpn__tls_session_t *s);
/** Move up to `max` bytes of ciphertext to send into `buf`; returns the
 * number of bytes copied. */
size_t lvpn__tls_take_output(lvpn__tls_session_t *s, uint8_t *buf, size_t max);

/** Encrypt `len` ≤ LVPN__TLS_MAX_RECORD bytes as one TLS record (the
 * ciphertext goes to the pending output). Returns 0, LVPN_ESTATE before the
 * handshake finished, LVPN_ETOOBIG, or LVPN_ETLS. */
int lvpn__tls_write(lvpn__tls_session_t *s, const uint8_t *plain, size_t len);
/** TLS False Start (RFC 7918): true once our Finished is sent and only the
 * server's ChangeCipherSpec and Finished are missing, in a full handshake
 * whose suite makes early application data safe: ECDHE on a curve of at
 * least 255 bits, an AEAD cipher of at least 128 bits. The server is
 * authenticated by then (its chain and its signature of the ECDHE share);
 * what its Finished adds is the proof that nobody changed our hello. */
int lvpn__tls_false_start_ok(const lvpn__tls_session_t *s);
/** lvpn__tls_write() before the server's Finished, when
 * lvpn__tls_false_start_ok(): one record with the session's new keys, the
 * server reading it right after our Finished. Same returns. */
int lvpn__tls_write_early(lvpn__tls_session_t *s, const uint8_t *plain,
                          size_t len);
/** Decrypt buffered input: returns the number of plaintext bytes (at most
 * one record's worth; a record bigger than `max` is returned over several
 * calls), 0 when no complete record is buffered, or a negative error
 * (LVPN_ETLS on an alert or close_notify, sticky). Call until it returns
 * 0: several records may arrive in one feed. */
int lvpn__tls_read(lvpn__tls_session_t *s, uint8_t *buf, size_t max);

/** Key material captured by the export-keys callback, for the EKM key2
 * (lvpn__kdf_ekm). `prf_type` is an mbedtls_tls_prf_types. Returns
 * LVPN_ESTATE before the keys were derived. Buffers: 48, 32, 32 bytes. */
int lvpn__tls_get_export(const lvpn__tls_session_t *s, uint8_t ms[48],
                         uint8_t client_random[32], uint8_t server_random[32],
                         int *prf_type);

/* ---- certificate policy (layers/tlssession/verify.c) ---- */

/** The checks run on the peer's leaf once its chain verified, in OpenVPN's
 * order: ns-cert-type, keyUsage (remote-cert-ku / remote-cert-tls), EKU
 * (remote-cert-eku / remote-cert-tls), verify-x509-name. Returns 0 or
 * LVPN_ECERT/_KU/_EKU/_NAME with the reason in `msg`. */
int lvpn__tls_check_leaf(const lvpn__tls_conf_t *c, const mbedtls_x509_crt *crt,
                         char *msg, size_t msglen);
/** verify-hash / peer-fingerprint: 0 unless `depth` is the checked one and
 * the certificate's hash is in none of the list (LVPN_ECERT_FINGERPRINT). */
int lvpn__tls_check_hash(const lvpn__tls_conf_t *c, const mbedtls_x509_crt *crt,
                         int depth, char *msg, size_t msglen);
/** The verify callback of a session (`ud`) in lvpn__tls_verify_peer's
 * chain check, called for each certificate of the chain, root first:
 * records the flags and the leaf's names, and runs the two checks above. */
int lvpn__tls_verify_cb(void *ud, mbedtls_x509_crt *crt, int depth,
                        uint32_t *flags);
/** The LVPN_ECERT_* code of a failed verification, with the reason in the
 * session's error message. */
int lvpn__tls_cert_error(lvpn__tls_session_t *s);
/** First CN of the subject into `out` ("" if none). */
void lvpn__tls_first_cn(const mbedtls_x509_crt *crt, char *out, size_t max);
/** 0 when `key` is the private key of `pub` (a certificate's public key),
 * else an mbedTLS error. An EC key is paired by its public key and the
 * range of its private one, and replaced by an ECDSA context of the same
 * key, which keeps the table of G its first d·G builds, for the
 * handshakes' signatures, or, on a curve Nettle signs on, by Nettle's key
 * (ecsign.h), which needs no table; lvpn__tls_own_key_warm() completes the
 * check. Other keys: mbedtls_pk_check_pair(), `key` unchanged. */
int lvpn__tls_own_key_prepare(mbedtls_pk_context *key,
                              const mbedtls_pk_context *pub);
/** The rest of an EC key's check, d·G == Q: on Nettle for Nettle's key,
 * else on mbedTLS (blinded with `rng`, or mbedTLS's internal RNG when it
 * is NULL), which builds the table of G of the key's group: 0, or an
 * mbedTLS error. 0 for other keys. */
int lvpn__tls_own_key_warm(mbedtls_pk_context *key,
                           int (*rng)(void *, unsigned char *, size_t),
                           void *rng_ctx);
/** Makes a certificate's EC public key `pk` an ECDSA context whose group
 * holds a copy of the comb table of G in `from` (our own key's group, after
 * lvpn__tls_own_key_prepare), so that its verifications do not build the
 * table again. Only for an ECKEY context of the same curve as `from` with
 * a table; anything else is left as it is. 0, or an mbedTLS error with
 * `pk` unchanged. */
int lvpn__tls_share_g_table(mbedtls_pk_context *pk,
                            const mbedtls_ecp_group *from);
/** The server's certificate `crt`, just parsed: its EC key becomes a key
 * of lvpn__tls_ca_key_prepare where this build verifies its curve on
 * Nettle (ecverify.h), else it gets a copy of the conf's table of G
 * (lvpn__tls_share_g_table), for the signature of the ServerKeyExchange it
 * verifies next. Only a key
 * on a curve of the conf's list, and not when a static ECDH suite
 * (tls-cipher) may be chosen: that key exchange wants an ECKEY context.
 * Best effort: as it is, mbedTLS verifies with a table it builds. */
void lvpn__tls_peer_key_prepare(const lvpn__tls_conf_t *c,
                                mbedtls_x509_crt *crt);
/** Copies the comb table of G of `from` into the fresh group `grp` (same
 * curve; nothing when `from` has none): 0, or an mbedTLS error. */
int lvpn__tls_copy_g_table(mbedtls_ecp_group *grp,
                           const mbedtls_ecp_group *from);

/* ---- the CA's signatures checked ahead (sigahead.c) ----
 * The chain check of a handshake verifies the CA's signature on the
 * server's certificate: about 1 ms of ECDSA on mbedTLS 2.28, on the way
 * from our second flight to our key-method-2. A server sends the same
 * certificate every time, so the conf's CA keys remember the signatures
 * they verified (the last LVPN__TLS_AHEAD_MAX; successes only, in this
 * process), and the owner can have the chain of an earlier start (kept in
 * a file, say) checked while it waits for the server's hello: the real
 * check then finds that signature done. Everything else about the chain
 * (time, CRL, usage, names, our callback) is checked as before. */
#define LVPN__TLS_AHEAD_MAX 4
/** Makes a CA certificate's EC public key `pk` an ECDSA context that
 * remembers its verifications, with a copy of the table of G of `from`
 * when that is a group of the same curve with one (NULL: none), and that
 * verifies with lvpn__ecverify (ecverify.h: on Nettle where this build
 * has it). Other keys are left as they are. 0, or an mbedTLS error with
 * `pk` unchanged. The server's key gets the same (lvpn__tls_peer_key_prepare). */
int lvpn__tls_ca_key_prepare(mbedtls_pk_context *pk,
                             const mbedtls_ecp_group *from);
/** How many verifications the CA key `pk` answered from what it
 * remembered (0 for a key lvpn__tls_ca_key_prepare did not make). */
unsigned long lvpn__tls_ca_key_hits(const mbedtls_pk_context *pk);
/** The sum of that over the conf's CA keys. */
unsigned long lvpn__tls_conf_ahead_hits(const lvpn__tls_conf_t *c);
/** Checks the chain `der` (DER certificates one after the other, the
 * server's first) against the conf's CA and CRL under its profile, without
 * any callback, for what the CA keys remember (after
 * lvpn__tls_conf_warm(), which prepares them). 0 when it verified,
 * LVPN_ECERT when it did not, LVPN_EINVAL when `der` is not such a
 * chain. Nothing is trusted from it: the server's own chain is checked in
 * full. */
int lvpn__tls_conf_check_ahead(lvpn__tls_conf_t *c, const uint8_t *der,
                               size_t len);
/** The server's chain as it sent it, its DER certificates one after the
 * other, once it passed the check: the length (0 before, or after a
 * failed check); copied into `out` when `cap` holds it. */
size_t lvpn__tls_peer_chain_der(const lvpn__tls_session_t *s, uint8_t *out,
                                size_t cap);

/** The CA keys get a copy of the table only when 'ca' holds at most this
 * many certificates: a copy is about 3 kB and 20 us, and a bundle's CA is
 * one of many. */
#define LVPN__TLS_SHARE_MAX_CA 8
/** The group of the conf's own EC key, whose table of G the CA's and the
 * server's keys get copies of; NULL without an EC key. */
const mbedtls_ecp_group *lvpn__tls_conf_g_table(const lvpn__tls_conf_t *c);
/** The mbedTLS profile of a LVPN__TLS_PROFILE_* value. */
void lvpn__tls_cert_profile(int profile, mbedtls_x509_crt_profile *out);

/** Details of the last error, or "" (never NULL). */
const char *lvpn__tls_last_error(const lvpn__tls_session_t *s);
/** Subject DN / first CN of the peer leaf ("" before verification). */
const char *lvpn__tls_peer_subject(const lvpn__tls_session_t *s);
const char *lvpn__tls_peer_cn(const lvpn__tls_session_t *s);
/** OpenVPN's script variables of the verified chain (certenv.h): walk
 * them with lvpn__certenv_next(); empty before verification. */
const lvpn__certenv_t *lvpn__tls_peer_env(const lvpn__tls_session_t *s);
/** Negotiated suite ("TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384") and
 * version ("TLSv1.2"); "" before the handshake finished. */
const char *lvpn__tls_ciphersuite(const lvpn__tls_session_t *s);
const char *lvpn__tls_version(const lvpn__tls_session_t *s);

#endif
