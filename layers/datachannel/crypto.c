/* Data-channel crypto core (doc §6; OpenVPN crypto.c, packet_id.c, comp*.c,
 * ping.c, occ.c). In-place encryption/decryption inside a pbuf.
 *
 * The ciphers themselves (OpenSSL libcrypto EVP, libgcrypt or mbedTLS, keyed
 * once per key and direction) sit behind cipher.h; everything runs in place,
 * the plaintext stays where the ciphertext was.
 */
#include "lib/bytes.h"
#include "lib/config.h"
#include "layers/datachannel/crypto.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/platform_util.h>

#include "layervpn.h"

#define AEAD_IV_LEN LVPN__DCC_NONCE_LEN
#define CBC_BLOCK LVPN__DCC_BLOCK

/* ---------------------------------------------------------------- replay */

#define SEQ_UNSEEN 0u
#define SEQ_EXPIRED 1u
#define SEQ_TIME(t) ((t) + 2u) /* stored "seen at t" */

void lvpn__replay_init(lvpn__replay_t *r) {
  memset(r, 0, sizeof(*r));
  r->window = LVPN__REPLAY_WINDOW;
  r->time_backtrack = LVPN__REPLAY_TIME_BACKTRACK;
}

int lvpn__replay_setup(lvpn__replay_t *r, unsigned window, unsigned time_s) {
  uint64_t *big = NULL;
  if (window > LVPN__REPLAY_WINDOW_MAX)
    return LVPN_EINVAL;
  if (window > LVPN__REPLAY_WINDOW &&
      (big = calloc(window, sizeof(*big))) == NULL)
    return LVPN_ENOMEM;
  lvpn__replay_free(r);
  r->big = big;
  r->window = window;
  r->time_backtrack = time_s;
  return 0;
}

void lvpn__replay_free(lvpn__replay_t *r) {
  free(r->big);
  memset(r, 0, sizeof(*r));
  r->window = LVPN__REPLAY_WINDOW;
  r->time_backtrack = LVPN__REPLAY_TIME_BACKTRACK;
}

/* (Only called with window > 0: size stays 0 otherwise.) */
static uint64_t *replay_slot(lvpn__replay_t *r, unsigned diff) {
  uint64_t *seen = r->big != NULL ? r->big : r->seen;
  return &seen[(r->head + diff) % r->window];
}

/* packet_id_reap: walking from the newest id back, the first slot seen
 * longer than time_backtrack ago expires, and every older slot with it. */
static void replay_reap(lvpn__replay_t *r, uint64_t now_s) {
  int expire = 0;
  unsigned i;

  if (r->last_reap + LVPN__REPLAY_REAP_INTERVAL > now_s)
    return;
  r->last_reap = now_s;
  if (r->time_backtrack == 0)
    return;
  for (i = 0; i < r->size; i++) {
    uint64_t *t = replay_slot(r, i);
    if (*t == SEQ_EXPIRED)
      break;
    if (!expire && *t != SEQ_UNSEEN && *t - 2u + r->time_backtrack < now_s)
      expire = 1;
    if (expire)
      *t = SEQ_EXPIRED;
  }
}

int lvpn__replay_check(lvpn__replay_t *r, uint32_t id, uint64_t now_s) {
  uint32_t diff;

  if (id == 0)
    return LVPN_EPROTO;
  replay_reap(r, now_s);
  if (id > r->highest)
    return 0;
  diff = r->highest - id;
  if (diff >= r->size)
    return LVPN_EREPLAY;
  return *replay_slot(r, diff) == SEQ_UNSEEN ? 0 : LVPN_EREPLAY;
}

void lvpn__replay_commit(lvpn__replay_t *r, uint32_t id, uint64_t now_s) {
  uint32_t diff;

  if (r->window == 0) { /* replay-window 0: strictly increasing ids */
    if (id > r->highest)
      r->highest = id;
    return;
  }
  /* A jump beyond the window restarts it just below `id`. */
  if (r->size == 0 || (id >= r->window && id - r->window > r->highest)) {
    r->highest = id > r->window ? id - r->window : 0;
    r->size = 0;
    r->head = 0;
  }
  while (r->highest < id) { /* at most `window` steps */
    r->head = (r->head + r->window - 1) % r->window;
    *replay_slot(r, 0) = SEQ_UNSEEN;
    if (r->size < r->window)
      r->size++;
    r->highest++;
  }
  diff = r->highest - id;
  if (diff < r->size)
    *replay_slot(r, diff) = SEQ_TIME(now_s);
}

/* ------------------------------------------------------------- key setup */

typedef struct cipher_info_s {
  const char *name;
  int kind;
  unsigned keylen;
} cipher_info_t;

static const cipher_info_t ciphers[] = {
    {"AES-128-GCM", LVPN__DC_AEAD_GCM, 16},
    {"AES-192-GCM", LVPN__DC_AEAD_GCM, 24},
    {"AES-256-GCM", LVPN__DC_AEAD_GCM, 32},
    {"CHACHA20-POLY1305", LVPN__DC_AEAD_CHACHA, 32},
    {"AES-128-CBC", LVPN__DC_CBC_HMAC, 16},
    {"AES-192-CBC", LVPN__DC_CBC_HMAC, 24},
    {"AES-256-CBC", LVPN__DC_CBC_HMAC, 32},
};

static const char *const auths[] = {"SHA1", "SHA256", "SHA384", "SHA512"};

/* Key one direction: the cipher, and for CBC the HMAC (its size goes to
 * k->hmac_len). */
static int dir_setup(lvpn__dc_key_t *k, lvpn__dc_dir_t *d,
                     const cipher_info_t *ci, const uint8_t *ckey,
                     const uint8_t *hkey, int encrypt) {
  size_t mac_len = 0;
  int rc;

  rc = lvpn__dcc_init(&d->c, ci->name, ckey, ci->keylen, encrypt);
  if (rc == 0 && ci->kind == LVPN__DC_CBC_HMAC) {
    rc = lvpn__dcc_hmac_init(&d->c, k->auth, hkey, &mac_len);
    k->hmac_len = mac_len;
  }
  if (rc == 0 && ci->kind != LVPN__DC_CBC_HMAC)
    memcpy(d->implicit_iv, hkey, sizeof(d->implicit_iv));
  return rc;
}

/* Our name of `auth` (case-insensitive), or NULL. */
static const char *auth_find(const char *auth) {
  size_t i;
  for (i = 0; auth != NULL && i < sizeof(auths) / sizeof(auths[0]); i++)
    if (strcasecmp(auth, auths[i]) == 0)
      return auths[i];
  return NULL;
}

int lvpn__dc_key_init(lvpn__dc_key_t *k, const char *cipher, const char *auth,
                      const uint8_t key2[256], uint8_t key_id,
                      lvpn__dc_rng_fn rng, void *rng_ctx) {
  const cipher_info_t *ci = NULL;
  const char *auth_name = NULL;
  size_t i;
  int rc;

  memset(k, 0, sizeof(*k));
  if (cipher == NULL || key2 == NULL || key_id > 7)
    return LVPN_EINVAL;
  for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
    if (strcasecmp(cipher, ciphers[i].name) == 0)
      ci = &ciphers[i];
  if (ci == NULL)
    return LVPN_ENOCIPHER;
  if (ci->kind == LVPN__DC_CBC_HMAC) {
    auth_name = auth_find(auth);
    if (auth_name == NULL)
      return LVPN_EUNSUPPORTED;
    if (rng == NULL)
      return LVPN_EINVAL;
  }
  /* OpenVPN check_key: refuse an all-zero cipher key in either direction. */
  if (lvpn__ct_all_zero(key2, ci->keylen) ||
      lvpn__ct_all_zero(key2 + 128, ci->keylen))
    return LVPN_ECRYPTO;
  k->cipher = ci->name;
  k->auth = auth_name;
  k->key_id = key_id;
  k->rng = rng;
  k->rng_ctx = rng_ctx;
  lvpn__replay_init(&k->replay);
  k->kind = ci->kind;
  rc = dir_setup(k, &k->enc, ci, key2, key2 + 64, 1);
  if (rc == 0)
    rc = dir_setup(k, &k->dec, ci, key2 + 128, key2 + 192, 0);
  if (rc != 0)
    lvpn__dc_key_free(k);
  return rc;
}

void lvpn__dc_warm(const char *list, const char *auth) {
  static const uint8_t key[64] = {0x5a, 0x3c, 0x96, 0x0f}; /* no secret */
  const char *auth_name = auth_find(auth);
  lvpn__dc_cipher_t c;
  size_t i, mac_len;

  for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
    const cipher_info_t *ci = &ciphers[i];
    if (!lvpn__config_list_has(list, ci->name) ||
        lvpn__dcc_init(&c, ci->name, key, ci->keylen, 1) != 0)
      continue;
    if (ci->kind == LVPN__DC_CBC_HMAC && auth_name != NULL)
      (void)lvpn__dcc_hmac_init(&c, auth_name, key, &mac_len);
    lvpn__dcc_free(&c);
  }
}

void lvpn__dc_key_free(lvpn__dc_key_t *k) {
  lvpn__replay_free(&k->replay);
  lvpn__dcc_free(&k->enc.c);
  lvpn__dcc_free(&k->dec.c);
  mbedtls_platform_zeroize(k, sizeof(*k));
}

size_t lvpn__dc_key_overhead(const lvpn__dc_key_t *k, int data_v2) {
  size_t hdr = data_v2 ? 4 : 1;
  if (k->kind == LVPN__DC_CBC_HMAC)
    return hdr + k->hmac_len + CBC_BLOCK + 4 + CBC_BLOCK;
  return hdr + 4 + LVPN__DC_TAG_LEN;
}

/* ------------------------------------------------------------ encryption */

static void write_header(uint8_t *h, int v2, uint8_t key_id, uint32_t peer_id) {
  if (v2)
    lvpn__put_u32(h, (uint32_t)(LVPN__P_DATA_V2 << 3 | key_id) << 24 | peer_id);
  else
    h[0] = (uint8_t)(LVPN__P_DATA_V1 << 3 | key_id);
}

static int encrypt_aead(lvpn__dc_key_t *k, lvpn__pbuf_t *p, int v2,
                        uint32_t peer_id) {
  size_t hdrlen = v2 ? 4 : 1, n = p->len;
  uint8_t nonce[AEAD_IV_LEN], *payload = p->data, *h, *tag;

  if (lvpn__pbuf_headroom(p) < hdrlen + 4 + LVPN__DC_TAG_LEN)
    return LVPN_ETOOBIG;
  if (k->send_pid == UINT32_MAX)
    return LVPN_ESTATE;
  k->send_pid++;
  h = lvpn__pbuf_push(p, hdrlen + 4 + LVPN__DC_TAG_LEN);
  write_header(h, v2, k->key_id, peer_id);
  lvpn__put_u32(h + hdrlen, k->send_pid);
  tag = h + hdrlen + 4;
  memcpy(nonce, h + hdrlen, 4);
  memcpy(nonce + 4, k->enc.implicit_iv, 8);
  /* AD: V2 authenticates its header too; V1's opcode byte is not covered. */
  return lvpn__dcc_seal(&k->enc.c, nonce, v2 ? h : h + 1, v2 ? 8 : 4, payload,
                        n, tag);
}

static int encrypt_cbc(lvpn__dc_key_t *k, lvpn__pbuf_t *p, int v2,
                       uint32_t peer_id) {
  size_t hdrlen = v2 ? 4 : 1, hl = k->hmac_len, pad, ctlen;
  uint8_t iv[CBC_BLOCK], *h, *mac;
  int rc;

  pad = CBC_BLOCK - (p->len + 4) % CBC_BLOCK; /* PKCS#7: 1..16 */
  if (lvpn__pbuf_headroom(p) < hdrlen + hl + CBC_BLOCK + 4 ||
      lvpn__pbuf_tailroom(p) < pad)
    return LVPN_ETOOBIG;
  if (k->send_pid == UINT32_MAX)
    return LVPN_ESTATE;
  if (k->rng(k->rng_ctx, iv, sizeof(iv)) != 0)
    return LVPN_ECRYPTO;
  k->send_pid++;
  lvpn__put_u32(lvpn__pbuf_push(p, 4), k->send_pid);
  memset(lvpn__pbuf_put(p, pad), (int)pad, pad);
  ctlen = p->len;
  rc = lvpn__dcc_cbc(&k->enc.c, iv, p->data, ctlen);
  memcpy(lvpn__pbuf_push(p, CBC_BLOCK), iv, sizeof(iv));
  mac = lvpn__pbuf_push(p, hl);
  /* HMAC(IV || ciphertext): the opcode/peer-id header is not covered. */
  if (rc == 0)
    rc = lvpn__dcc_hmac(&k->enc.c, mac + hl, CBC_BLOCK + ctlen, mac);
  h = lvpn__pbuf_push(p, hdrlen);
  write_header(h, v2, k->key_id, peer_id);
  return rc;
}

int lvpn__dc_encrypt(lvpn__dc_key_t *k, lvpn__pbuf_t *p, uint32_t peer_id) {
  int v2 = peer_id < LVPN__DC_NO_PEER_ID;
  size_t n = p->len;
  int rc;

  if (k->kind == 0 || n == 0)
    return LVPN_EINVAL;
  if (k->kind == LVPN__DC_CBC_HMAC)
    rc = encrypt_cbc(k, p, v2, peer_id);
  else
    rc = encrypt_aead(k, p, v2, peer_id);
  if (rc == 0) {
    k->stats.encrypted++;
    k->stats.encrypted_bytes += n;
  } else {
    k->stats.encrypt_errors++;
  }
  return rc;
}

/* ------------------------------------------------------------ decryption */

int lvpn__dc_parse_header(const lvpn__pbuf_t *p, uint8_t *opcode,
                          uint8_t *key_id, uint32_t *peer_id) {
  uint8_t op;
  uint32_t pid = LVPN__DC_NO_PEER_ID;

  if (p->len < 1)
    return LVPN_ESHORT;
  op = p->data[0] >> 3;
  if (op == LVPN__P_DATA_V2) {
    if (p->len < 4)
      return LVPN_ESHORT;
    pid = lvpn__get_u32(p->data) & 0xFFFFFFu;
  } else if (op != LVPN__P_DATA_V1) {
    return LVPN_EBADOPCODE;
  }
  if (opcode != NULL)
    *opcode = op;
  if (key_id != NULL)
    *key_id = p->data[0] & 0x07;
  if (peer_id != NULL)
    *peer_id = pid;
  return 0;
}

/* Replay check and commit, once the packet authenticated (as OpenVPN's
 * crypto_check_replay after decryption). */
static int accept_pid(lvpn__dc_key_t *k, uint32_t pid) {
  int rc = lvpn__replay_check(&k->replay, pid, k->now_s);
  if (rc != 0)
    return rc;
  lvpn__replay_commit(&k->replay, pid, k->now_s);
  return 0;
}

static int decrypt_aead(lvpn__dc_key_t *k, lvpn__pbuf_t *p, size_t hdrlen) {
  uint8_t nonce[AEAD_IV_LEN];
  uint8_t *pidp, *ct;
  size_t ctlen;
  uint32_t pid;
  int rc;

  if (p->len < hdrlen + 4 + LVPN__DC_TAG_LEN + 1)
    return LVPN_ESHORT;
  pidp = p->data + hdrlen;
  pid = lvpn__get_u32(pidp);
  memcpy(nonce, pidp, 4);
  memcpy(nonce + 4, k->dec.implicit_iv, 8);
  ct = pidp + 4 + LVPN__DC_TAG_LEN;
  ctlen = p->len - hdrlen - 4 - LVPN__DC_TAG_LEN;
  /* AD: V2's whole header and packet id, V1's packet id (as in encrypt). */
  rc = lvpn__dcc_open(&k->dec.c, nonce, hdrlen == 4 ? p->data : pidp,
                      hdrlen == 4 ? 8 : 4, ct, ctlen, pidp + 4);
  if (rc != 0)
    return rc;
  p->data = ct;
  p->len = ctlen;
  return accept_pid(k, pid);
}

static int decrypt_cbc(lvpn__dc_key_t *k, lvpn__pbuf_t *p, size_t hdrlen) {
  uint8_t local[LVPN__DCC_MAX_MAC], *mac, *ct;
  size_t hl = k->hmac_len, ctlen, ptlen, padv, i;
  uint8_t bad = 0;
  int rc;

  if (p->len < hdrlen + hl + CBC_BLOCK + CBC_BLOCK)
    return LVPN_ESHORT;
  mac = p->data + hdrlen;
  ct = mac + hl + CBC_BLOCK;
  ctlen = p->len - hdrlen - hl - CBC_BLOCK;
  /* HMAC first (encrypt-then-MAC): nothing is decrypted before it passes. */
  rc = lvpn__dcc_hmac(&k->dec.c, mac + hl, CBC_BLOCK + ctlen, local);
  if (rc != 0)
    return rc;
  if (lvpn__ct_differ(local, mac, hl))
    return LVPN_EAUTH;
  if (ctlen % CBC_BLOCK != 0)
    return LVPN_EAUTH;
  if ((rc = lvpn__dcc_cbc(&k->dec.c, mac + hl, ct, ctlen)) != 0)
    return rc;
  padv = ct[ctlen - 1];
  if (padv == 0 || padv > CBC_BLOCK)
    return LVPN_EAUTH;
  for (i = 0; i < padv; i++)
    bad |= (uint8_t)(ct[ctlen - 1 - i] ^ padv);
  if (bad != 0)
    return LVPN_EAUTH;
  ptlen = ctlen - padv;
  if (ptlen < 4)
    return LVPN_EPROTO; /* authentic, but no packet id */
  p->data = ct + 4;
  p->len = ptlen - 4;
  return accept_pid(k, lvpn__get_u32(ct));
}

int lvpn__dc_decrypt(lvpn__dc_key_t *k, lvpn__pbuf_t *p) {
  uint8_t op, kid;
  int rc;

  if (k->kind == 0)
    return LVPN_EINVAL;
  rc = lvpn__dc_parse_header(p, &op, &kid, NULL);
  if (rc == 0 && kid != k->key_id)
    rc = LVPN_ENOKEY;
  if (rc == 0) {
    size_t hdrlen = op == LVPN__P_DATA_V2 ? 4 : 1;
    if (k->kind == LVPN__DC_CBC_HMAC)
      rc = decrypt_cbc(k, p, hdrlen);
    else
      rc = decrypt_aead(k, p, hdrlen);
    if (rc == 0) {
      k->stats.decrypted++;
      k->stats.decrypted_bytes += p->len;
      return 0;
    }
  }
  if (rc == LVPN_EAUTH)
    k->stats.auth_failures++;
  else if (rc == LVPN_EREPLAY)
    k->stats.replays++;
  else
    k->stats.malformed++;
  return rc;
}

/* ------------------------------------------------- compression framing */

#define NO_COMPRESS_BYTE 0xFA
#define NO_COMPRESS_BYTE_SWAP 0xFB
#define LZO_COMPRESS_BYTE 0x66
#define LZ4_COMPRESS_BYTE 0x69
#define COMP_ALGV2_INDICATOR 0x50
#define COMP_ALGV2_UNCOMPRESSED_BYTE 0x00
/* OpenVPN's own compv2_escape_data_ifneeded() writes COMP_ALGV2_UNCOMPRESSED
 * (10) where its receivers expect the byte 0: accept both. */
#define COMP_ALGV2_UNCOMPRESSED_ALG 0x0A

int lvpn__comp_frame(int mode, lvpn__pbuf_t *p) {
  uint8_t *b;

  if (mode < LVPN__COMP_NONE || mode > LVPN__COMP_STUB_V2)
    return LVPN_EINVAL;
  if (mode == LVPN__COMP_NONE || p->len == 0)
    return 0;
  switch (mode) {
  case LVPN__COMP_LZO_NO:
    if ((b = lvpn__pbuf_push(p, 1)) == NULL)
      return LVPN_ETOOBIG;
    b[0] = NO_COMPRESS_BYTE;
    return 0;
  case LVPN__COMP_STUB: /* keep alignment: byte 0 moves to the end */
    if ((b = lvpn__pbuf_put(p, 1)) == NULL)
      return LVPN_ETOOBIG;
    *b = p->data[0];
    p->data[0] = NO_COMPRESS_BYTE_SWAP;
    return 0;
  default: /* stub-v2 escapes only a payload that looks like its header */
    if (p->data[0] != COMP_ALGV2_INDICATOR)
      return 0;
    if ((b = lvpn__pbuf_push(p, 2)) == NULL)
      return LVPN_ETOOBIG;
    b[0] = COMP_ALGV2_INDICATOR;
    b[1] = COMP_ALGV2_UNCOMPRESSED_BYTE;
    return 0;
  }
}

int lvpn__comp_unframe(int mode, lvpn__pbuf_t *p) {
  uint8_t c;

  if (mode < LVPN__COMP_NONE || mode > LVPN__COMP_STUB_V2)
    return LVPN_EINVAL;
  if (mode == LVPN__COMP_NONE || p->len == 0)
    return 0;
  c = p->data[0];
  switch (mode) {
  case LVPN__COMP_LZO_NO:
    if (c != NO_COMPRESS_BYTE)
      return c == LZO_COMPRESS_BYTE || c == LZ4_COMPRESS_BYTE
                 ? LVPN_ECOMPRESSION
                 : LVPN_EPROTO;
    lvpn__pbuf_pull(p, 1);
    return 0;
  case LVPN__COMP_STUB:
    if (c != NO_COMPRESS_BYTE_SWAP)
      return c == LZO_COMPRESS_BYTE || c == LZ4_COMPRESS_BYTE
                 ? LVPN_ECOMPRESSION
                 : LVPN_EPROTO;
    p->data[0] = p->data[p->len - 1];
    p->len--;
    return 0;
  default:
    if (c != COMP_ALGV2_INDICATOR)
      return 0;
    if (p->len < 2)
      return LVPN_ESHORT;
    c = p->data[1];
    if (c == COMP_ALGV2_UNCOMPRESSED_BYTE || c == COMP_ALGV2_UNCOMPRESSED_ALG) {
      lvpn__pbuf_pull(p, 2);
      return 0;
    }
    return c >= 1 && c <= 3 ? LVPN_ECOMPRESSION /* LZ4, LZO, Snappy */
                            : LVPN_EPROTO;
  }
}

/* ------------------------------------------------------ special payloads */

const uint8_t lvpn__dc_ping_string[LVPN__DC_PING_LEN] = {
    0x2a, 0x18, 0x7b, 0xf3, 0x64, 0x1e, 0xb4, 0xcb,
    0x07, 0xed, 0x2d, 0x0a, 0x98, 0x1f, 0xc7, 0x48};

const uint8_t lvpn__dc_occ_magic[LVPN__DC_OCC_MAGIC_LEN] = {
    0x28, 0x7f, 0x34, 0x6b, 0xd4, 0xef, 0x7a, 0x81,
    0x2d, 0x56, 0xb8, 0xd3, 0xaf, 0xc5, 0x45, 0x9c};

int lvpn__dc_is_ping(const lvpn__pbuf_t *p) {
  return p->len == LVPN__DC_PING_LEN &&
         memcmp(p->data, lvpn__dc_ping_string, LVPN__DC_PING_LEN) == 0;
}

int lvpn__dc_is_occ(const lvpn__pbuf_t *p) {
  return p->len >= LVPN__DC_OCC_MAGIC_LEN &&
         memcmp(p->data, lvpn__dc_occ_magic, LVPN__DC_OCC_MAGIC_LEN) == 0;
}

int lvpn__dc_occ_opcode(const lvpn__pbuf_t *p) {
  if (!lvpn__dc_is_occ(p) || p->len < LVPN__DC_OCC_MAGIC_LEN + 1)
    return -1;
  return p->data[LVPN__DC_OCC_MAGIC_LEN];
}

int lvpn__dc_build_ping(lvpn__pbuf_t *p) {
  uint8_t *b = lvpn__pbuf_put(p, LVPN__DC_PING_LEN);
  if (b == NULL)
    return LVPN_ETOOBIG;
  memcpy(b, lvpn__dc_ping_string, LVPN__DC_PING_LEN);
  return 0;
}

int lvpn__dc_build_occ(lvpn__pbuf_t *p, uint8_t opcode, const uint8_t *body,
                       size_t body_len) {
  uint8_t *b;

  if (body_len > LVPN_PBUF_CAP ||
      (b = lvpn__pbuf_put(p, LVPN__DC_OCC_MAGIC_LEN + 1 + body_len)) == NULL)
    return LVPN_ETOOBIG;
  memcpy(b, lvpn__dc_occ_magic, LVPN__DC_OCC_MAGIC_LEN);
  b[LVPN__DC_OCC_MAGIC_LEN] = opcode;
  if (body_len > 0)
    memcpy(b + LVPN__DC_OCC_MAGIC_LEN + 1, body, body_len);
  return 0;
}

int lvpn__dc_build_occ_reply(lvpn__pbuf_t *p, const char *options) {
  return lvpn__dc_build_occ(p, LVPN__OCC_REPLY, (const uint8_t *)options,
                            strlen(options) + 1);
}

int lvpn__dc_build_occ_exit(lvpn__pbuf_t *p) {
  return lvpn__dc_build_occ(p, LVPN__OCC_EXIT, NULL, 0);
}
