/* Data-channel crypto core (doc §6): one key_id's ciphers, packet ids and
 * replay window; compression framing; ping/OCC payloads.
 *
 * Pure code: no loop, no I/O, no global state, no heap allocation per packet.
 * Packets are encrypted and decrypted in place inside a pbuf: headers are
 * pushed into the headroom (encrypt) or pulled (decrypt), the payload is never
 * copied.
 *
 * Ownership: every function taking a pbuf borrows it; the caller keeps
 * ownership on every path, errors included (and frees or forwards it).
 */
#ifndef LVPN_LAYERS_DATACHANNEL_CRYPTO_H
#define LVPN_LAYERS_DATACHANNEL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* The packet crypto runs on libcrypto or libgcrypt (cipher.h). mbedTLS's GCM
 * stays declared here for the unit tests, which cross-check our packets
 * against that second, independent implementation. */
#include <mbedtls/gcm.h>

#include "layers/datachannel/cipher.h"
#include "lib/comp.h"
#include "lib/pbuf.h"

#define LVPN__P_DATA_V1 6
#define LVPN__P_DATA_V2 9
#define LVPN__DC_NO_PEER_ID 0xFFFFFFu /* MAX_PEER_ID: use P_DATA_V1 */
#define LVPN__DC_TAG_LEN 16
#define LVPN__DC_PID_WRAP_TRIGGER 0xFF000000u

/* ---- replay window (OpenVPN packet_id.c, short-form ids) ---- */

#define LVPN__REPLAY_WINDOW 64         /* --replay-window n (default) */
#define LVPN__REPLAY_WINDOW_MAX 65536  /* MAX_SEQ_BACKTRACK */
#define LVPN__REPLAY_TIME_BACKTRACK 15 /* --replay-window n t (default, s) */
#define LVPN__REPLAY_REAP_INTERVAL 5   /* SEQ_REAP_INTERVAL (s) */

/* seen[] holds, for ids highest, highest-1, ..., the time the id was
 * accepted (+2), 0 when unseen, 1 when expired by the time backtrack. */
typedef struct lvpn__replay_s {
  uint32_t highest; /* highest id accepted (0: none yet) */
  unsigned size;    /* slots in use, <= window */
  unsigned head;    /* slot of `highest` */
  unsigned window;  /* replay-window n: ids kept below the highest */
  unsigned time_backtrack;
  uint64_t last_reap;
  uint64_t *big;    /* heap slots when window > LVPN__REPLAY_WINDOW */
  uint64_t seen[LVPN__REPLAY_WINDOW];
} lvpn__replay_t;

/* OpenVPN's default window: 64 ids, 15 s. */
void lvpn__replay_init(lvpn__replay_t *r);
/* replay-window N T: N (0..65536) ids, T (0..600) s; 0 or LVPN_ENOMEM.
 * Resets what was seen. */
int lvpn__replay_setup(lvpn__replay_t *r, unsigned window, unsigned time_s);
void lvpn__replay_free(lvpn__replay_t *r);
/* Would packet id `id`, received at `now_s` (any monotonic seconds), be
 * accepted? 0 if yes, LVPN_EPROTO for id 0 (never valid), LVPN_EREPLAY for a
 * duplicate or an id outside the window. May expire old slots (time-driven
 * only), but records nothing: call lvpn__replay_commit() once the packet
 * authenticated. */
int lvpn__replay_check(lvpn__replay_t *r, uint32_t id, uint64_t now_s);
/* Record `id` (which passed lvpn__replay_check) as seen at `now_s`. */
void lvpn__replay_commit(lvpn__replay_t *r, uint32_t id, uint64_t now_s);

/* ---- one key_id's crypto state ---- */

enum { LVPN__DC_AEAD_GCM = 1, LVPN__DC_AEAD_CHACHA = 2, LVPN__DC_CBC_HMAC = 3 };

typedef int (*lvpn__dc_rng_fn)(void *ctx, unsigned char *out, size_t len);

typedef struct lvpn__dc_stats_s {
  uint64_t encrypted;       /* packets */
  uint64_t encrypted_bytes; /* plaintext bytes */
  uint64_t decrypted;
  uint64_t decrypted_bytes;
  uint64_t auth_failures; /* bad tag, HMAC or padding */
  uint64_t replays;       /* duplicates, too old */
  uint64_t malformed;     /* truncated, wrong opcode/key id, packet id 0 */
  uint64_t encrypt_errors;
} lvpn__dc_stats_t;

/* One direction's cipher state. Contexts are keyed once in init. */
typedef struct lvpn__dc_dir_s {
  lvpn__dc_cipher_t c;    /* cipher, and HMAC for CBC (cipher.h) */
  uint8_t implicit_iv[8]; /* AEAD only */
} lvpn__dc_dir_t;

typedef struct lvpn__dc_key_s {
  int kind;           /* LVPN__DC_*, 0 when not initialised */
  const char *cipher; /* canonical OpenVPN name, static */
  const char *auth;   /* canonical digest name (CBC) or NULL */
  size_t hmac_len;    /* CBC: digest size */
  uint8_t key_id;     /* 0..7, for the header */
  lvpn__dc_dir_t enc, dec;
  uint32_t send_pid; /* last packet id sent; the next is send_pid + 1 */
  lvpn__replay_t replay;
  uint64_t now_s;      /* caller's clock for the replay time backtrack */
  lvpn__dc_rng_fn rng; /* CBC IVs (e.g. mbedtls_ctr_drbg_random) */
  void *rng_ctx;
  lvpn__dc_stats_t stats;
} lvpn__dc_key_t;

/* Set up `k` from key2 for the client (direction NORMAL; pass
 * lvpn__key2_inverse(key2) to act as the server). `cipher` is an OpenVPN
 * name, case-insensitive: AES-128/192/256-GCM, CHACHA20-POLY1305,
 * AES-128/192/256-CBC. `auth` (SHA1, SHA256, SHA384, SHA512) matters for CBC
 * only. `rng` is required for CBC, ignored for AEAD. key2 is copied into the
 * contexts; the caller zeroes its copy.
 * Returns 0, LVPN_ENOCIPHER (unknown cipher), LVPN_EUNSUPPORTED (unknown or
 * "none" auth with CBC), LVPN_EINVAL (bad key_id, no rng for CBC),
 * LVPN_ECRYPTO (a direction's cipher key is all zero, or the crypto library failed).
 * On failure `k` is left zeroed; lvpn__dc_key_free() on it is harmless. */
int lvpn__dc_key_init(lvpn__dc_key_t *k, const char *cipher, const char *auth,
                      const uint8_t key2[256], uint8_t key_id,
                      lvpn__dc_rng_fn rng, void *rng_ctx);
/* Free the contexts and zero everything. Harmless on a zeroed struct. */
void lvpn__dc_key_free(lvpn__dc_key_t *k);
/* The backend's first-use work for every cipher of `list` (':'-separated,
 * one name or several; for CBC, with `auth`) ahead of its first key:
 * libgcrypt runs its AES and ChaCha20 self-tests at the first key of each,
 * OpenSSL fetches the algorithm. Keys one context per cipher with a fixed
 * throwaway key and frees it. Unknown names are ignored; nothing is kept
 * but what the backend keeps for itself. */
void lvpn__dc_warm(const char *list, const char *auth);
/* replay-window N T for the packets this key receives (after init). */
static inline int lvpn__dc_key_set_replay(lvpn__dc_key_t *k, unsigned window,
                                          unsigned time_s) {
  return lvpn__replay_setup(&k->replay, window, time_s);
}

static inline void lvpn__dc_key_set_now(lvpn__dc_key_t *k, uint64_t now_s) {
  k->now_s = now_s;
}
/* True once PACKET_ID_WRAP_TRIGGER ids were sent: renegotiate now. */
static inline int lvpn__dc_key_wants_renegotiation(const lvpn__dc_key_t *k) {
  return k->send_pid >= LVPN__DC_PID_WRAP_TRIGGER;
}
/* Bytes lvpn__dc_encrypt adds at most (header, packet id, tag or HMAC + IV
 * + padding): for MTU/MSS computations. */
size_t lvpn__dc_key_overhead(const lvpn__dc_key_t *k, int data_v2);

/* Encrypt p's payload (already compression-framed) in place into a whole
 * wire packet: P_DATA_V2 with `peer_id` when peer_id < 0xFFFFFF, P_DATA_V1
 * otherwise. Needs up to 88 bytes of headroom and, for CBC, 16 of tailroom.
 * Returns 0; LVPN_EINVAL for an empty payload; LVPN_ETOOBIG when room is
 * short (p unchanged); LVPN_ESTATE once packet id 0xFFFFFFFF was used (the
 * key is spent: renegotiate); LVPN_ECRYPTO (rng or crypto library failure; p's
 * contents are then unspecified). */
int lvpn__dc_encrypt(lvpn__dc_key_t *k, lvpn__pbuf_t *p, uint32_t peer_id);

/* Read a data packet's header. Any out pointer may be NULL; peer_id is
 * LVPN__DC_NO_PEER_ID for P_DATA_V1. Returns 0, LVPN_ESHORT or
 * LVPN_EBADOPCODE (not P_DATA_V1/V2). */
int lvpn__dc_parse_header(const lvpn__pbuf_t *p, uint8_t *opcode,
                          uint8_t *key_id, uint32_t *peer_id);

/* Authenticate and decrypt a whole wire data packet in place, then check and
 * record its packet id (at k->now_s). On success p->data/len is the
 * plaintext (still compression-framed). Returns 0, LVPN_ESHORT (truncated),
 * LVPN_EBADOPCODE, LVPN_ENOKEY (key_id is not k's), LVPN_EAUTH (bad tag, HMAC
 * or padding), LVPN_EPROTO (authentic but packet id 0 or no packet id),
 * LVPN_EREPLAY. On error p's contents are unspecified. */
int lvpn__dc_decrypt(lvpn__dc_key_t *k, lvpn__pbuf_t *p);

/* ---- compression framing (doc §6.5; comp.h, compstub.c) ---- */

/* Modes: LVPN__COMP_NONE, _LZO_NO, _STUB, _STUB_V2 from lib/comp.h. */

/* TX: frame p's payload in place. Empty payloads stay empty. Returns 0,
 * LVPN_ETOOBIG (no headroom/tailroom; p unchanged) or LVPN_EINVAL. */
int lvpn__comp_frame(int mode, lvpn__pbuf_t *p);
/* RX: strip the framing in place. Returns 0; LVPN_ECOMPRESSION when the peer
 * sent a compressed payload (0x66 LZO, 0x69 LZ4, 0x50 0x01..0x03): drop and
 * count it; LVPN_EPROTO for any other framing byte; LVPN_ESHORT for a lone
 * 0x50. */
int lvpn__comp_unframe(int mode, lvpn__pbuf_t *p);

/* ---- special payloads (doc §6.6; ping.c, occ.c) ---- */

#define LVPN__DC_PING_LEN 16
#define LVPN__DC_OCC_MAGIC_LEN 16
enum {
  LVPN__OCC_REQUEST = 0,
  LVPN__OCC_REPLY = 1,
  LVPN__OCC_MTU_LOAD_REQUEST = 2,
  LVPN__OCC_MTU_LOAD = 3,
  LVPN__OCC_MTU_REQUEST = 4,
  LVPN__OCC_MTU_REPLY = 5,
  LVPN__OCC_EXIT = 6
};

extern const uint8_t lvpn__dc_ping_string[LVPN__DC_PING_LEN];
extern const uint8_t lvpn__dc_occ_magic[LVPN__DC_OCC_MAGIC_LEN];

/* Exactly the 16-byte ping string (after unframing). */
int lvpn__dc_is_ping(const lvpn__pbuf_t *p);
/* Starts with the OCC magic: not tunnel traffic, whatever follows. */
int lvpn__dc_is_occ(const lvpn__pbuf_t *p);
/* The OCC opcode byte, or -1 if p is not OCC or has no opcode byte. */
int lvpn__dc_occ_opcode(const lvpn__pbuf_t *p);

/* Builders append to p (normally empty). Return 0 or LVPN_ETOOBIG. */
int lvpn__dc_build_ping(lvpn__pbuf_t *p);
/* magic || opcode || body */
int lvpn__dc_build_occ(lvpn__pbuf_t *p, uint8_t opcode, const uint8_t *body,
                       size_t body_len);
/* magic || OCC_REPLY || options || NUL */
int lvpn__dc_build_occ_reply(lvpn__pbuf_t *p, const char *options);
/* magic || OCC_EXIT (explicit-exit-notify without cc-exit) */
int lvpn__dc_build_occ_exit(lvpn__pbuf_t *p);

#endif
