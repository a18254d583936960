#include "layers/datachannel/epoch.h"

#include <string.h>
#include <strings.h>

#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "layers/datachannel/crypto.h"
#include "layers/datachannel/kdf.h"
#include "layervpn.h"
#include "lib/bytes.h"

enum { EPOCH_GCM = 1, EPOCH_CHACHA = 2 };

#define EPOCH_MAX 0xFFFFu

/* ------------------------------------------------------------ key schedule */

int lvpn__epoch_expand_label(const uint8_t secret[LVPN__EPOCH_SECRET_LEN],
                             const char *label, uint8_t *out, size_t out_len) {
  static const char prefix[] = "ovpn ";
  const size_t plen = sizeof(prefix) - 1;
  uint8_t info[2 + 1 + 5 + 250 + 1];
  size_t llen = label ? strlen(label) : 0, n = 0;
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

  if (llen == 0 || llen > 250 || out_len == 0 || out_len > 255 * 32 ||
      md == NULL)
    return LVPN_EINVAL;
  /* HkdfLabel: u16 length || u8 len("ovpn " label) || "ovpn " label ||
   * u8 len(context) = 0 (the context is always empty). */
  lvpn__put_u16(info, (uint16_t)out_len);
  n = 2;
  info[n++] = (uint8_t)(plen + llen);
  memcpy(info + n, prefix, plen);
  n += plen;
  memcpy(info + n, label, llen);
  n += llen;
  info[n++] = 0;
  if (mbedtls_hkdf_expand(md, secret, LVPN__EPOCH_SECRET_LEN, info, n, out,
                          out_len) != 0)
    return LVPN_ECRYPTO;
  return 0;
}

/* E(n) -> E(n+1) in place. */
static int secret_iterate(uint8_t secret[LVPN__EPOCH_SECRET_LEN]) {
  uint8_t next[LVPN__EPOCH_SECRET_LEN];
  int rc = lvpn__epoch_expand_label(secret, "datakey upd", next, sizeof(next));
  if (rc == 0)
    memcpy(secret, next, sizeof(next));
  mbedtls_platform_zeroize(next, sizeof(next));
  return rc;
}

static void aead_free(const lvpn__epoch_key_t *k, lvpn__epoch_aead_t *a) {
  (void)k;
  lvpn__dcc_free(&a->c); /* harmless on a zeroed slot */
  mbedtls_platform_zeroize(a, sizeof(*a));
}

/* Keys `a` for `epoch` from that epoch's secret, to seal (encrypt 1) or to
 * open. */
static int aead_setup(const lvpn__epoch_key_t *k, lvpn__epoch_aead_t *a,
                      const uint8_t secret[LVPN__EPOCH_SECRET_LEN],
                      uint16_t epoch, int encrypt) {
  uint8_t key[32];
  int rc;

  aead_free(k, a);
  rc = lvpn__epoch_expand_label(secret, "data_key", key, k->keylen);
  if (rc == 0)
    rc = lvpn__epoch_expand_label(secret, "data_iv", a->iv, sizeof(a->iv));
  if (rc == 0) {
    rc = lvpn__dcc_init(&a->c, k->cipher, key, k->keylen, encrypt);
    a->epoch = epoch;
    rc = rc != 0 ? LVPN_ECRYPTO : 0;
  }
  mbedtls_platform_zeroize(key, sizeof(key));
  if (rc != 0)
    aead_free(k, a);
  return rc;
}

/* nonce = (epoch || counter || 0^4) XOR iv; `pid` is the 8 wire bytes. */
static void make_nonce(const lvpn__epoch_aead_t *a, const uint8_t pid[8],
                       uint8_t nonce[LVPN__EPOCH_IV_LEN]) {
  int i;
  for (i = 0; i < LVPN__EPOCH_IV_LEN; i++)
    nonce[i] = (uint8_t)((i < 8 ? pid[i] : 0) ^ a->iv[i]);
}

/* ------------------------------------------------------------ replay */

int lvpn__epoch_replay_check(const lvpn__epoch_replay_t *r, uint64_t id,
                             uint64_t now_s) {
  uint64_t diff;
  if (id == 0)
    return LVPN_EPROTO;
  if (id > r->highest)
    return 0;
  if (id == r->highest)
    return LVPN_EREPLAY;
  diff = r->highest - id;                /* >= 1 */
  if (diff >= LVPN__EPOCH_REPLAY_WINDOW) /* as OpenVPN: highest-63.. */
    return LVPN_EREPLAY;
  if (r->seen & (1ull << (diff - 1)))
    return LVPN_EREPLAY;
  if (now_s > r->highest_s + LVPN__EPOCH_REPLAY_BACKTRACK_S)
    return LVPN_EREPLAY; /* a straggler older than the time backtrack */
  return 0;
}

void lvpn__epoch_replay_commit(lvpn__epoch_replay_t *r, uint64_t id,
                               uint64_t now_s) {
  uint64_t shift;
  if (id > r->highest) {
    shift = id - r->highest;
    if (r->highest == 0 || shift > LVPN__EPOCH_REPLAY_WINDOW)
      r->seen = 0;
    else /* the old highest becomes bit shift-1 */
      r->seen = shift == 64 ? (1ull << 63)
                            : (r->seen << shift) | (1ull << (shift - 1));
    r->highest = id;
    r->highest_s = now_s;
  } else if (id < r->highest && r->highest - id < LVPN__EPOCH_REPLAY_WINDOW) {
    r->seen |= 1ull << (r->highest - id - 1);
  }
}

/* ------------------------------------------------------------ receive keys */

static lvpn__epoch_aead_t *slot_of(lvpn__epoch_key_t *k, uint16_t epoch) {
  int i;
  for (i = 0; i < LVPN__EPOCH_SLOTS; i++)
    if (k->slots[i].epoch == epoch)
      return &k->slots[i];
  return NULL;
}

/* Derive receive keys up to recv_epoch + FUTURE (never past what the
 * lookup accepts), into free slots. */
static int refill_future(lvpn__epoch_key_t *k) {
  unsigned want = (unsigned)k->recv_epoch + LVPN__EPOCH_FUTURE;
  lvpn__epoch_aead_t *free_slot;
  int rc;

  if (want > EPOCH_MAX)
    want = EPOCH_MAX;
  while (k->recv_secret_epoch < want) {
    free_slot = slot_of(k, 0);
    if (free_slot == NULL)
      return LVPN_ESTATE; /* cannot happen: slots = 2 + FUTURE */
    rc = secret_iterate(k->recv_secret);
    if (rc != 0)
      return rc;
    k->recv_secret_epoch++;
    rc = aead_setup(k, free_slot, k->recv_secret, k->recv_secret_epoch, 0);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* The key for a received epoch, or NULL (epoch_lookup_decrypt_key). */
static lvpn__epoch_aead_t *lookup(lvpn__epoch_key_t *k, uint16_t epoch) {
  if (epoch == 0)
    return NULL;
  if (epoch == k->recv_epoch ||
      (k->retiring_epoch != 0 && epoch == k->retiring_epoch))
    return slot_of(k, epoch);
  if (epoch > k->recv_epoch &&
      epoch <= (unsigned)k->recv_epoch + LVPN__EPOCH_FUTURE &&
      epoch <= EPOCH_MAX - LVPN__EPOCH_FUTURE - 1)
    return slot_of(k, epoch);
  return NULL;
}

static int send_setup(lvpn__epoch_key_t *k, uint16_t epoch) {
  k->send_counter = 0;
  k->send_blocks = 0;
  return aead_setup(k, &k->send, k->send_secret, epoch, 1);
}

/* A packet of future epoch `epoch` authenticated: it becomes current. */
static int recv_move(lvpn__epoch_key_t *k, uint16_t epoch) {
  int i, rc;
  uint16_t e;

  if (k->retiring_epoch != 0)
    aead_free(k, slot_of(k, k->retiring_epoch));
  k->retiring_epoch = k->recv_epoch;
  k->recv_epoch = epoch;
  memset(&slot_of(k, epoch)->replay, 0, sizeof(lvpn__epoch_replay_t));
  for (i = 0; i < LVPN__EPOCH_SLOTS; i++) { /* skipped future epochs */
    e = k->slots[i].epoch;
    if (e != 0 && e < epoch && e != k->retiring_epoch)
      aead_free(k, &k->slots[i]);
  }
  k->stats.recv_moves++;
  if (k->send.epoch < epoch) { /* follow the peer up */
    while ((unsigned)k->send.epoch + 1 < epoch) {
      rc = secret_iterate(k->send_secret);
      if (rc != 0)
        return rc;
      k->send.epoch++;
    }
    rc = secret_iterate(k->send_secret);
    if (rc == 0)
      rc = send_setup(k, epoch);
    if (rc != 0)
      return rc;
    k->stats.send_follows++;
  }
  return refill_future(k);
}

/* ------------------------------------------------------------ setup */

static const struct {
  const char *name;
  int kind;
  size_t keylen;
} epoch_ciphers[] = {
    {"AES-128-GCM", EPOCH_GCM, 16},
    {"AES-192-GCM", EPOCH_GCM, 24},
    {"AES-256-GCM", EPOCH_GCM, 32},
    {"CHACHA20-POLY1305", EPOCH_CHACHA, 32},
};

static int find_cipher(const char *cipher) {
  size_t i;
  for (i = 0; cipher && i < sizeof(epoch_ciphers) / sizeof(epoch_ciphers[0]);
       i++)
    if (strcasecmp(cipher, epoch_ciphers[i].name) == 0)
      return (int)i;
  return -1;
}

int lvpn__epoch_cipher_ok(const char *cipher) {
  return find_cipher(cipher) >= 0;
}

int lvpn__epoch_key_init(lvpn__epoch_key_t *k, const char *cipher,
                         const uint8_t key2[256], uint8_t key_id,
                         uint64_t usage_limit) {
  int c = find_cipher(cipher), rc;

  memset(k, 0, sizeof(*k));
  if (c < 0)
    return LVPN_ENOCIPHER;
  if (key_id > 7)
    return LVPN_EINVAL;
  k->kind = epoch_ciphers[c].kind;
  k->cipher = epoch_ciphers[c].name;
  k->keylen = epoch_ciphers[c].keylen;
  k->key_id = key_id;
  k->usage_limit = usage_limit != 0       ? usage_limit
                   : k->kind == EPOCH_GCM ? LVPN__EPOCH_GCM_LIMIT
                                          : 0;
  /* E1: the first 32 bytes of key2's cipher halves, whatever the key size */
  memcpy(k->send_secret, lvpn__key2_enc_cipher(key2), LVPN__EPOCH_SECRET_LEN);
  memcpy(k->recv_secret, lvpn__key2_dec_cipher(key2), LVPN__EPOCH_SECRET_LEN);
  rc = send_setup(k, 1);
  if (rc == 0)
    rc = aead_setup(k, &k->slots[0], k->recv_secret, 1, 0);
  if (rc == 0) {
    k->recv_epoch = 1;
    k->recv_secret_epoch = 1;
    rc = refill_future(k);
  }
  if (rc != 0)
    lvpn__epoch_key_free(k);
  return rc;
}

void lvpn__epoch_key_free(lvpn__epoch_key_t *k) {
  int i;
  if (k->kind != 0) {
    aead_free(k, &k->send);
    for (i = 0; i < LVPN__EPOCH_SLOTS; i++)
      aead_free(k, &k->slots[i]);
  }
  mbedtls_platform_zeroize(k, sizeof(*k));
}

/* ------------------------------------------------------------ packets */

/* Before every encryption (epoch_check_send_iterate): move on when the
 * next packet would pass the usage limit or the counter is spent.
 *
 * Unlike OpenVPN, a move for the usage limit waits while our send epoch is
 * already FUTURE epochs above our receive epoch: the peer follows our send
 * epoch with its own, and we could not decrypt its packets beyond
 * receive epoch + FUTURE, ever again. With the real limit (2^36 blocks per
 * epoch) and keepalive pings this never waits; with a lowered test limit
 * and one-way traffic it would otherwise cut the return path. */
static int send_check_iterate(lvpn__epoch_key_t *k) {
  int must = k->send_counter >= LVPN__EPOCH_COUNTER_MAX, rc;
  if (!must && (k->usage_limit == 0 ||
                k->send_blocks + k->send_counter < k->usage_limit))
    return 0;
  if (!must && (unsigned)k->send.epoch + 1 >
                   (unsigned)k->recv_epoch + LVPN__EPOCH_FUTURE) {
    k->stats.send_deferred++;
    return 0;
  }
  if (k->send.epoch >= EPOCH_MAX)
    return must ? LVPN_ESTATE : 0;
  rc = secret_iterate(k->send_secret);
  if (rc == 0)
    rc = send_setup(k, (uint16_t)(k->send.epoch + 1));
  if (rc == 0)
    k->stats.send_moves++;
  return rc;
}

int lvpn__epoch_encrypt(lvpn__epoch_key_t *k, lvpn__pbuf_t *p,
                        uint32_t peer_id) {
  uint8_t nonce[LVPN__EPOCH_IV_LEN], *h, *tag;
  size_t n = p->len;
  int rc;

  if (n == 0 || peer_id >= LVPN__DC_NO_PEER_ID)
    return LVPN_EINVAL;
  if (lvpn__pbuf_headroom(p) < LVPN__EPOCH_HDR_LEN ||
      lvpn__pbuf_tailroom(p) < LVPN__EPOCH_TAG_LEN)
    return LVPN_ETOOBIG;
  rc = send_check_iterate(k);
  if (rc != 0)
    return rc;
  k->send_counter++;
  k->send_blocks += (LVPN__EPOCH_HDR_LEN + n + 15) / 16; /* AAD counted too */
  tag = lvpn__pbuf_put(p, LVPN__EPOCH_TAG_LEN);
  h = lvpn__pbuf_push(p, LVPN__EPOCH_HDR_LEN);
  lvpn__put_u32(h, ((uint32_t)(LVPN__P_DATA_V2 << 3 | k->key_id) << 24) |
                       (peer_id & 0xFFFFFFu));
  lvpn__put_u16(h + 4, k->send.epoch);
  lvpn__put_u16(h + 6, (uint16_t)(k->send_counter >> 32));
  lvpn__put_u32(h + 8, (uint32_t)k->send_counter);
  make_nonce(&k->send, h + 4, nonce);
  rc = lvpn__dcc_seal(&k->send.c, nonce, h, LVPN__EPOCH_HDR_LEN,
                      h + LVPN__EPOCH_HDR_LEN, n, tag);
  if (rc != 0)
    return LVPN_ECRYPTO;
  k->stats.encrypted++;
  return 0;
}

int lvpn__epoch_decrypt(lvpn__epoch_key_t *k, lvpn__pbuf_t *p) {
  uint8_t nonce[LVPN__EPOCH_IV_LEN], *h = p->data;
  lvpn__epoch_aead_t *a;
  uint16_t epoch;
  uint64_t counter;
  size_t n;
  int rc;

  if (p->len < 1)
    return LVPN_ESHORT;
  if ((h[0] >> 3) != LVPN__P_DATA_V2)
    return LVPN_EBADOPCODE;
  if ((h[0] & 7) != k->key_id)
    return LVPN_ENOKEY;
  if (p->len < LVPN__EPOCH_HDR_LEN + LVPN__EPOCH_TAG_LEN + 1) {
    k->stats.malformed++;
    return LVPN_ESHORT;
  }
  n = p->len - LVPN__EPOCH_HDR_LEN - LVPN__EPOCH_TAG_LEN;
  epoch = lvpn__get_u16(h + 4);
  counter = (uint64_t)lvpn__get_u16(h + 6) << 32 | lvpn__get_u32(h + 8);
  a = lookup(k, epoch);
  if (a == NULL) {
    k->stats.unknown_epoch++;
    return LVPN_ENOKEY;
  }
  make_nonce(a, h + 4, nonce);
  rc = lvpn__dcc_open(&a->c, nonce, h, LVPN__EPOCH_HDR_LEN,
                      h + LVPN__EPOCH_HDR_LEN, n, h + LVPN__EPOCH_HDR_LEN + n);
  if (rc != 0) {
    a->auth_failures++;
    k->stats.auth_failures++;
    return LVPN_EAUTH;
  }
  /* Authentic. A future epoch gets a fresh window once it is current. */
  if (epoch != k->recv_epoch && epoch != k->retiring_epoch) {
    rc = recv_move(k, epoch);
    if (rc != 0)
      return rc;
    a = slot_of(k, epoch);
  }
  rc = lvpn__epoch_replay_check(&a->replay, counter, k->now_s);
  if (rc != 0) {
    if (rc == LVPN_EREPLAY)
      k->stats.replays++;
    else
      k->stats.malformed++;
    return rc;
  }
  lvpn__epoch_replay_commit(&a->replay, counter, k->now_s);
  lvpn__pbuf_pull(p, LVPN__EPOCH_HDR_LEN);
  lvpn__pbuf_trim(p, LVPN__EPOCH_TAG_LEN);
  k->stats.decrypted++;
  return 0;
}
