/* Control-channel wrapping at session level: none, tls-auth (HMAC),
 * tls-crypt (AES-256-CTR + HMAC-SHA256) and tls-crypt-v2 (tls-crypt with the
 * client key Kc, plus the wrapped client key WKc appended to the first
 * packets). Pure code: no loop, no I/O, time passed in. Reference:
 * doc/openvpn-protocol.md §3.
 *
 * Unwrapped control packet (what lvpn__ctl_encode produces / _decode reads):
 *   byte0 | own_sid(8) | rest (ack record, msg id, payload)
 * tls-auth wire form:
 *   byte0 | own_sid(8) | HMAC(L) | pid(4) | time(4) | rest
 *   HMAC = HMAC-<digest>(pid | time | byte0 | own_sid | rest)
 * tls-crypt wire form:
 *   byte0 | own_sid(8) | pid(4) | time(4) | tag(32) | AES-256-CTR(rest)
 *   tag = HMAC-SHA256(byte0 | own_sid | pid | time | rest), CTR IV = tag[0..15]
 *
 * Only the 9-byte head (byte0|own_sid) moves; payloads are never copied.
 * The cipher/HMAC contexts are set up once by init, never per packet.
 */
#ifndef LVPN_LAYERS_PACKETMUXER_TLSWRAP_H
#define LVPN_LAYERS_PACKETMUXER_TLSWRAP_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/aes.h>
#include <mbedtls/md.h>

#include "lib/pbuf.h"
#include "layervpn.h"

enum {
  LVPN__TLSWRAP_NONE = 0, /* a zeroed lvpn__tlswrap_t is a valid NONE wrap */
  LVPN__TLSWRAP_AUTH = 1,
  LVPN__TLSWRAP_CRYPT = 2,
  LVPN__TLSWRAP_CRYPT_V2 = 3
};

/* struct key2: 2 x (cipher[64] | hmac[64]) */
#define LVPN__TLSWRAP_KEY2_LEN 256
#define LVPN__TLS_CRYPT_TAG_SIZE 32
#define LVPN__TLS_CRYPT_V2_MAX_WKC_LEN 1024
#define LVPN__TLSWRAP_SEQ_BACKTRACK 64  /* replay window, packets */
#define LVPN__TLSWRAP_TIME_BACKTRACK 15 /* replay window, seconds */

/* Replay state for the long-form (id, time) wrap counter, after OpenVPN's
 * packet_id.c. Internal to tlswrap.c (the data channel has its own). */
typedef struct lvpn__tlswrap_replay_s {
  uint32_t time; /* sender's time of the current id series */
  uint32_t id;   /* highest id seen in that series */
  uint32_t seen[LVPN__TLSWRAP_SEQ_BACKTRACK]; /* local receive time of
                                                 id-i; 0 unseen, 1 expired */
  uint8_t head;                               /* slot of id - 0 */
  uint8_t size;                               /* slots in use */
} lvpn__tlswrap_replay_t;

typedef struct lvpn__tlswrap_s {
  int mode;        /* LVPN__TLSWRAP_* */
  int server;      /* tests only: the server's key direction */
  size_t hmac_len; /* L: tls-auth digest size, 32 for tls-crypt */
  mbedtls_md_context_t md_tx, md_rx;
  mbedtls_aes_context aes_tx, aes_rx; /* tls-crypt only */
  uint32_t tx_pid;  /* last replay id sent (pre-incremented) */
  uint32_t tx_time; /* time of the current id series (0 = not started) */
  lvpn__tlswrap_replay_t rx;
  uint8_t key2[LVPN__TLSWRAP_KEY2_LEN]; /* original key (Kc for v2), kept
                                           for dynamic tls-crypt */
  uint8_t wkc[LVPN__TLS_CRYPT_V2_MAX_WKC_LEN];
  size_t wkc_len;
  /* counters */
  uint64_t wrapped, unwrapped, auth_failures, replays;
} lvpn__tlswrap_t;

/* Sets up `w` from a key file's contents.
 *  mode NONE: pem may be NULL; wrap/unwrap do nothing.
 *  mode AUTH / CRYPT: "-----BEGIN OpenVPN Static key V1-----", 256 bytes hex.
 *  mode CRYPT_V2: "-----BEGIN OpenVPN tls-crypt-v2 client key-----", base64
 *    of Kc(256) || WKc (WKc ends with its own length, u16, ≤ 1024 bytes).
 * key_direction (tls-auth only): -1 none/bidirectional, 0 or 1.
 * digest (tls-auth only): "SHA1" (also when NULL), "SHA224", "SHA256",
 * "SHA384", "SHA512"; case-insensitive.
 * On error `w` needs no free; err (if given) receives a message, e.g.
 * "tls-crypt key: insufficient key material (128 of 256 bytes)".
 * Errors: LVPN_EKEYFILE malformed key file, LVPN_EUNSUPPORTED unknown digest,
 * LVPN_EINVAL bad mode/direction, LVPN_ECRYPTO/LVPN_ENOMEM from mbedTLS. */
int lvpn__tlswrap_init(lvpn__tlswrap_t *w, int mode, const char *pem,
                       size_t len, int key_direction, const char *digest,
                       char *err, size_t errlen);

/* As lvpn__tlswrap_init, but with the server's key direction (tls-crypt:
 * NORMAL; tls-auth: `key_direction` as given, so pass the server's). The
 * v2 "server" loads the client key file and checks/strips the WKc the client
 * appends. For tests: this is not a tls-crypt-v2 server. */
int lvpn__tlswrap_init_server(lvpn__tlswrap_t *w, int mode, const char *pem,
                              size_t len, int key_direction, const char *digest,
                              char *err, size_t errlen);

/* Dynamic tls-crypt (§3.5): a CRYPT wrap with key = ekm XOR orig's key2 when
 * orig uses tls-auth/tls-crypt/tls-crypt-v2 (orig may be NULL or NONE),
 * client direction, fresh replay counters. */
int lvpn__tlswrap_init_dynamic(lvpn__tlswrap_t *w,
                               const uint8_t ekm[LVPN__TLSWRAP_KEY2_LEN],
                               const lvpn__tlswrap_t *orig);

/* Zeroizes keys and releases the mbedTLS contexts. Safe on a zeroed or
 * already freed struct. */
void lvpn__tlswrap_free(lvpn__tlswrap_t *w);

/* Early negotiation (tls-crypt-v2 clients): the next wrap carries replay id
 * 0x0f000001. Call before the first wrap. */
void lvpn__tlswrap_set_early_neg(lvpn__tlswrap_t *w);

/* Bytes that wrapping adds in front (not counting a v2 WKc). */
size_t lvpn__tlswrap_overhead(const lvpn__tlswrap_t *w);
/* Bytes appended to HARD_RESET_CLIENT_V3 / P_CONTROL_WKC_V1 (0 unless v2). */
size_t lvpn__tlswrap_wkc_len(const lvpn__tlswrap_t *w);

/* Turns the unwrapped control packet in `p` into its wire form, in place,
 * with a new replay id (1, 2, ...; the time of the series is `now` at the
 * first wrap, as OpenVPN does). In v2 mode, HARD_RESET_CLIENT_V3 and
 * P_CONTROL_WKC_V1 get WKc appended. The caller keeps ownership of `p`.
 * Errors: LVPN_ESHORT p->len < 9, LVPN_ETOOBIG head/tailroom short (p
 * unchanged), LVPN_ESTATE replay id exhausted. */
int lvpn__tlswrap_wrap(lvpn__tlswrap_t *w, lvpn__pbuf_t *p, uint32_t now);

/* Verifies (constant time), decrypts in place and checks the replay window
 * (64 packets / 15 s; `now` is the local Unix time in seconds: as in
 * OpenVPN, values 0 and 1 are sentinels and record nothing), leaving `p` as
 * the unwrapped control packet. The caller keeps ownership of `p`; on error
 * its content is unspecified but it stays a valid buffer.
 * Errors: LVPN_ESHORT truncated, LVPN_EAUTH bad HMAC/tag (or WKc on the test
 * server), LVPN_EREPLAY replayed or too old. */
int lvpn__tlswrap_unwrap(lvpn__tlswrap_t *w, lvpn__pbuf_t *p, uint32_t now);

#endif
