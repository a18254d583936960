/* Epoch data keys (OpenVPN 2.7 `protocol-flags aead-epoch`, doc
 * openvpn-2.7.md §2): one key_id's AEAD state in the epoch format.
 *
 * Wire format (P_DATA_V2 only):
 *   op|key_id (1) | peer-id (3) | epoch u16 | counter u48 | ciphertext | tag
 * AAD = the first 12 bytes; nonce = (epoch || counter || 0^4) XOR IV(epoch).
 *
 * Keys: each direction has a chain of 32-byte epoch secrets, E1 taken from
 * key2 (client->server: key2[0..31], server->client: key2[128..159]) and
 * E(n+1) = OVPN-Expand-Label(E(n), "datakey upd", 32). Epoch n's cipher key
 * and IV are OVPN-Expand-Label(E(n), "data_key", keylen) and
 * (E(n), "data_iv", 12). OVPN-Expand-Label is TLS 1.3's HKDF-Expand-Label
 * with SHA-256 and the prefix "ovpn " (mbedtls_hkdf_expand does the HKDF).
 *
 * Sending moves to the next epoch before the AEAD usage limit (AES-GCM:
 * 2^36-1 blocks+packets, settable for tests) or the 48-bit counter runs out,
 * and follows the peer up when it receives a higher epoch. Receiving keeps
 * the current epoch, one retiring epoch and LVPN__EPOCH_FUTURE future ones
 * (as OpenVPN 2.7.7+), each with a 64-bit replay window.
 *
 * Pure code: no loop, no I/O. Ownership as in crypto.h: functions taking a
 * pbuf borrow it. Key material is zeroed when freed and never logged.
 */
#ifndef LVPN_LAYERS_DATACHANNEL_EPOCH_H
#define LVPN_LAYERS_DATACHANNEL_EPOCH_H

#include <stddef.h>
#include <stdint.h>

#include "layers/datachannel/cipher.h"

#include "lib/pbuf.h"

#define LVPN__EPOCH_SECRET_LEN 32
#define LVPN__EPOCH_IV_LEN 12
#define LVPN__EPOCH_TAG_LEN 16
#define LVPN__EPOCH_HDR_LEN 12 /* op/peer-id + epoch + counter */
#define LVPN__EPOCH_FUTURE 4   /* future receive keys (2.7.7+) */
#define LVPN__EPOCH_SLOTS (2 + LVPN__EPOCH_FUTURE)
#define LVPN__EPOCH_COUNTER_MAX 0xFFFFFFFFFFFFull
#define LVPN__EPOCH_GCM_LIMIT ((1ull << 36) - 1) /* blocks + packets */
#define LVPN__EPOCH_RENEG_AT 0xF000u /* renegotiate from this send epoch */
#define LVPN__EPOCH_REPLAY_WINDOW 64
#define LVPN__EPOCH_REPLAY_BACKTRACK_S 15

/* OVPN-Expand-Label(secret, label, "", out_len) with a 32-byte secret.
 * Returns 0, LVPN_EINVAL (empty or too long label, out_len 0 or > 255*32)
 * or LVPN_ECRYPTO. */
int lvpn__epoch_expand_label(const uint8_t secret[LVPN__EPOCH_SECRET_LEN],
                             const char *label, uint8_t *out, size_t out_len);

/* 64-bit sliding window: the last 64 counters below the highest, and the
 * time the highest was accepted. An older counter is refused once the
 * highest is more than 15 s old (OpenVPN's --replay-window 64 15). */
typedef struct lvpn__epoch_replay_s {
  uint64_t highest; /* 0: none yet */
  uint64_t seen;    /* bit i: highest - i - 1 was accepted */
  uint64_t highest_s;
} lvpn__epoch_replay_t;

/* One epoch's AEAD context (one direction), on the data channel's cipher
 * backend (cipher.h): the same per-packet cost as the classic format. */
typedef struct lvpn__epoch_aead_s {
  uint16_t epoch; /* 0: slot unused */
  lvpn__dc_cipher_t c;
  uint8_t iv[LVPN__EPOCH_IV_LEN];
  lvpn__epoch_replay_t replay; /* receive slots */
  uint64_t auth_failures;      /* receive slots */
} lvpn__epoch_aead_t;

typedef struct lvpn__epoch_stats_s {
  uint64_t encrypted, decrypted;
  uint64_t auth_failures, replays, malformed, unknown_epoch;
  uint64_t send_moves;    /* own epoch moves (usage limit or counter) */
  uint64_t send_follows;  /* send epoch pulled up by the peer's epoch */
  uint64_t recv_moves;    /* receive epoch moved to a future key */
  uint64_t send_deferred; /* packets sent past the usage limit because the
                             peer has not caught up (see epoch.c) */
} lvpn__epoch_stats_t;

typedef struct lvpn__epoch_key_s {
  int kind;           /* 0 when not initialised */
  const char *cipher; /* canonical OpenVPN name, static */
  size_t keylen;
  uint8_t key_id;
  uint64_t usage_limit; /* blocks+packets per send epoch; 0: none */
  uint64_t now_s;       /* caller's clock for the replay backtrack */
  /* send */
  uint8_t send_secret[LVPN__EPOCH_SECRET_LEN]; /* E(send.epoch) */
  lvpn__epoch_aead_t send;
  uint64_t send_counter; /* last counter used in send.epoch */
  uint64_t send_blocks;
  /* receive: slots hold current, retiring and future epochs */
  uint8_t recv_secret[LVPN__EPOCH_SECRET_LEN]; /* E(recv_secret_epoch) */
  uint16_t recv_secret_epoch; /* highest receive epoch derived */
  uint16_t recv_epoch;        /* current */
  uint16_t retiring_epoch;    /* 0: none */
  lvpn__epoch_aead_t slots[LVPN__EPOCH_SLOTS];
  lvpn__epoch_stats_t stats;
} lvpn__epoch_key_t;

/* Set up `k` for the client from key2 (pass lvpn__key2_inverse(key2) to act
 * as the server). `cipher`: AES-128/192/256-GCM or CHACHA20-POLY1305,
 * case-insensitive. `usage_limit` 0 picks the cipher's limit (AES-GCM
 * 2^36-1, ChaCha20-Poly1305 none); tests pass a small number to force epoch
 * moves. Both directions start at epoch 1; receive keys 2..1+FUTURE are
 * derived at once. Returns 0, LVPN_ENOCIPHER (not an AEAD this format
 * supports), LVPN_EINVAL (bad key_id) or LVPN_ECRYPTO. On failure `k` is
 * left zeroed. */
int lvpn__epoch_key_init(lvpn__epoch_key_t *k, const char *cipher,
                         const uint8_t key2[256], uint8_t key_id,
                         uint64_t usage_limit);
/* Free the contexts and zero everything. Harmless on a zeroed struct. */
void lvpn__epoch_key_free(lvpn__epoch_key_t *k);

/* Whether `cipher` can use the epoch format. */
int lvpn__epoch_cipher_ok(const char *cipher);

static inline void lvpn__epoch_key_set_now(lvpn__epoch_key_t *k,
                                           uint64_t now_s) {
  k->now_s = now_s;
}
/* The send epoch reached 0xF000: renegotiate (ssl.c does the same). */
static inline int
lvpn__epoch_key_wants_renegotiation(const lvpn__epoch_key_t *k) {
  return k->send.epoch >= LVPN__EPOCH_RENEG_AT;
}

/* Encrypt p's payload (compression-framed) in place into a P_DATA_V2 wire
 * packet for `peer_id` (< 0xFFFFFF). Moves to the next send epoch first
 * when the usage limit or the counter says so (for the usage limit, only
 * while the send epoch stays within receive epoch + FUTURE). Needs 12 bytes of
 * headroom and 16 of tailroom. Returns 0; LVPN_EINVAL (empty payload, no
 * peer-id); LVPN_ETOOBIG (room short; p unchanged); LVPN_ESTATE (epoch 65535
 * spent); LVPN_ECRYPTO. */
int lvpn__epoch_encrypt(lvpn__epoch_key_t *k, lvpn__pbuf_t *p,
                        uint32_t peer_id);

/* Authenticate and decrypt a whole P_DATA_V2 epoch packet in place; on
 * success p is the plaintext (still compression-framed). A packet from a
 * future epoch that authenticates moves the receive epoch there (and the
 * send epoch up to it). Returns 0, LVPN_ESHORT, LVPN_EBADOPCODE (not
 * P_DATA_V2), LVPN_ENOKEY (other key_id, or an epoch we hold no key for),
 * LVPN_EAUTH, LVPN_EPROTO (counter 0), LVPN_EREPLAY. On error p's contents
 * are unspecified. */
int lvpn__epoch_decrypt(lvpn__epoch_key_t *k, lvpn__pbuf_t *p);

/* Replay window primitives (exposed for tests): check without recording,
 * then commit once the packet authenticated. */
int lvpn__epoch_replay_check(const lvpn__epoch_replay_t *r, uint64_t id,
                             uint64_t now_s);
void lvpn__epoch_replay_commit(lvpn__epoch_replay_t *r, uint64_t id,
                               uint64_t now_s);

#endif
