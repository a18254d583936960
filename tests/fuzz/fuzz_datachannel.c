/* Data-channel decrypt (layers/datachannel/crypto.c) for every cipher
 * family: AES-GCM, ChaCha20-Poly1305 and AES-CBC + HMAC, through the
 * functions of crypto.h only. A packet is raw wire bytes, a packet the
 * server side encrypted (optionally with one bit flipped), a replay, or a
 * packet forged here with the receive key (fuzzer-chosen packet id and
 * plaintext; for CBC also the padding), so that everything behind the tag
 * is reached: replay window, padding check, compression unframing,
 * ping/OCC recognition.
 *
 * Input: suite(1) | flags(1) | records of ctl(1) | len(2) | bytes(len)
 *   suite % 8 picks the cipher/auth pair; flags & 7 is the client's key_id,
 *   (flags >> 3) & 3 the compression framing (lib/comp.h mode).
 *   ctl bits 0-1: 0 raw, 1 server-encrypt `bytes`, 2 replay stored packet
 *   (len % 8), 3 forge: bytes = pid(4) | plaintext (CBC: the plaintext is
 *   padded as given, not by us); bit 2: P_DATA_V2 (peer id 7) instead of
 *   V1; bit 3: flip bit `len` of the wire form; bits 4-6: seconds to
 *   advance the clock; bit 7: jump 100 s. */
#include <mbedtls/aes.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>

#include "layers/datachannel/crypto.h"
#include "layers/datachannel/kdf.h"
#include "lib/bytes.h"
#include "lib/comp.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  const char *cipher, *auth;
  size_t keylen;
  mbedtls_md_type_t md; /* CBC: the HMAC digest */
} suite_t;

static const suite_t suites[8] = {
    {"AES-128-GCM", NULL, 16, MBEDTLS_MD_NONE},
    {"AES-256-GCM", NULL, 32, MBEDTLS_MD_NONE},
    {"CHACHA20-POLY1305", NULL, 32, MBEDTLS_MD_NONE},
    {"AES-128-CBC", "SHA1", 16, MBEDTLS_MD_SHA1},
    {"AES-256-CBC", "SHA256", 32, MBEDTLS_MD_SHA256},
    {"AES-192-CBC", "SHA512", 24, MBEDTLS_MD_SHA512},
    {"AES-192-GCM", NULL, 24, MBEDTLS_MD_NONE},
    {"AES-256-CBC", "SHA384", 32, MBEDTLS_MD_SHA384},
};

#define KEEP 8

static int rng(void *ctx, unsigned char *out, size_t len) {
  uint8_t *c = ctx;
  size_t i;
  for (i = 0; i < len; i++)
    out[i] = (*c)++;
  return 0;
}

static int is_cbc(const suite_t *s) {
  return s->md != MBEDTLS_MD_NONE;
}
static int is_chacha(const suite_t *s) {
  return s->cipher[0] == 'C';
}

/* A packet the client's receive direction accepts as authentic: key2's
 * second half (cipher key at 128, HMAC key / implicit IV at 192), OpenVPN's
 * key layout. */
static int forge(const suite_t *s, int v2, uint8_t key_id, const uint8_t *b,
                 size_t n, lvpn__pbuf_t *p) {
  const uint8_t *ckey = test_key2 + 128, *hkey = test_key2 + 192;
  size_t hdrlen = v2 ? 4 : 1;
  uint8_t hdr[4], *w;
  int ret;

  if (v2)
    lvpn__put_u32(hdr, (uint32_t)(LVPN__P_DATA_V2 << 3 | key_id) << 24 | 7);
  else
    hdr[0] = (uint8_t)(LVPN__P_DATA_V1 << 3 | key_id);
  if (is_cbc(s)) {
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(s->md);
    size_t hl = mbedtls_md_get_size(md), ctlen = n - n % 16;
    uint8_t iv[16] = {0x42};
    mbedtls_aes_context aes;

    if (ctlen == 0 || hdrlen + hl + 16 + ctlen > lvpn__pbuf_tailroom(p))
      return -1;
    w = lvpn__pbuf_put(p, hdrlen + hl + 16 + ctlen);
    memcpy(w, hdr, hdrlen);
    memcpy(w + hdrlen + hl, iv, 16);
    mbedtls_aes_init(&aes);
    ret = mbedtls_aes_setkey_enc(&aes, ckey, (unsigned)s->keylen * 8);
    if (ret == 0)
      ret = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, ctlen, iv, b,
                                  w + hdrlen + hl + 16);
    mbedtls_aes_free(&aes);
    if (ret == 0)
      ret = mbedtls_md_hmac(md, hkey, hl, w + hdrlen + hl, 16 + ctlen,
                            w + hdrlen);
    return ret;
  }
  if (n < 4 || hdrlen + 4 + LVPN__DC_TAG_LEN + (n - 4) > lvpn__pbuf_tailroom(p))
    return -1;
  {
    uint8_t nonce[12], ad[8], *tag, *ct;
    size_t adlen = v2 ? 8 : 4;
    w = lvpn__pbuf_put(p, hdrlen + 4 + LVPN__DC_TAG_LEN + (n - 4));
    memcpy(w, hdr, hdrlen);
    memcpy(w + hdrlen, b, 4); /* packet id */
    memcpy(nonce, b, 4);
    memcpy(nonce + 4, hkey, 8);
    memcpy(ad, hdr, hdrlen);
    memcpy(v2 ? ad + 4 : ad, b, 4);
    tag = w + hdrlen + 4;
    ct = tag + LVPN__DC_TAG_LEN;
    if (is_chacha(s)) {
      mbedtls_chachapoly_context cc;
      mbedtls_chachapoly_init(&cc);
      ret = mbedtls_chachapoly_setkey(&cc, ckey);
      if (ret == 0)
        ret = mbedtls_chachapoly_encrypt_and_tag(&cc, n - 4, nonce, ad, adlen,
                                                 b + 4, ct, tag);
      mbedtls_chachapoly_free(&cc);
    } else {
      mbedtls_gcm_context gcm;
      mbedtls_gcm_init(&gcm);
      ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, ckey,
                               (unsigned)s->keylen * 8);
      if (ret == 0)
        ret = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, n - 4, nonce,
                                        sizeof(nonce), ad, adlen, b + 4, ct,
                                        LVPN__DC_TAG_LEN, tag);
      mbedtls_gcm_free(&gcm);
    }
  }
  return ret;
}

static void deliver(lvpn__dc_key_t *k, int comp, const uint8_t *b, size_t n) {
  lvpn__pbuf_t *p = fuzz_pbuf(b, n);
  uint8_t op, kid;
  uint32_t peer;

  (void)lvpn__dc_parse_header(p, &op, &kid, &peer);
  if (lvpn__dc_decrypt(k, p) == 0) {
    if (p->len > LVPN_PBUF_CAP)
      abort();
    if (lvpn__comp_unframe(comp, p) == 0) {
      (void)lvpn__dc_is_ping(p);
      if (lvpn__dc_is_occ(p))
        (void)lvpn__dc_occ_opcode(p);
    }
  }
  lvpn__pbuf_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lvpn__dc_key_t client, server;
  static struct {
    uint8_t b[LVPN_PBUF_CAP];
    size_t n;
  } keep[KEEP];
  fuzz_in_t in = {data, size};
  const suite_t *s = &suites[fuzz_u8(&in) % 8];
  uint8_t flags = fuzz_u8(&in), key_id = flags & 7, inv[256], ctr = 0;
  int comp = (flags >> 3) & 3;
  unsigned n_keep = 0;
  uint64_t now = 1000;

  lvpn__key2_inverse(test_key2, inv);
  if (lvpn__dc_key_init(&client, s->cipher, s->auth, test_key2, key_id, rng,
                        &ctr) != 0 ||
      lvpn__dc_key_init(&server, s->cipher, s->auth, inv, key_id, rng, &ctr) !=
          0)
    abort();
  while (in.n > 0) {
    uint8_t ctl = fuzz_u8(&in);
    uint16_t len = fuzz_u16(&in);
    size_t got;
    const uint8_t *b = fuzz_bytes(&in, len, &got);
    lvpn__pbuf_t *p;
    int v2 = (ctl & 4) != 0, rc;

    now += (ctl >> 4) & 7;
    if (ctl & 0x80)
      now += 100;
    lvpn__dc_key_set_now(&client, now);
    switch (ctl & 3) {
    case 0:
      deliver(&client, comp, b, got);
      continue;
    case 2:
      if (n_keep > 0)
        deliver(&client, comp, keep[len % n_keep].b, keep[len % n_keep].n);
      continue;
    case 1:
      p = fuzz_pbuf(b, got);
      rc = lvpn__dc_encrypt(&server, p, v2 ? 7 : LVPN__DC_NO_PEER_ID);
      break;
    default:
      p = fuzz_pbuf(NULL, 0);
      rc = forge(s, v2, key_id, b, got, p);
      break;
    }
    if (rc == 0) {
      unsigned i = n_keep < KEEP ? n_keep++ : len % KEEP;
      if ((ctl & 8) && p->len > 0)
        p->data[(len / 8) % p->len] ^= (uint8_t)(1u << (len % 8));
      keep[i].n = p->len;
      memcpy(keep[i].b, p->data, p->len);
      deliver(&client, comp, keep[i].b, keep[i].n);
    }
    lvpn__pbuf_free(p);
  }
  lvpn__dc_key_free(&client);
  lvpn__dc_key_free(&server);
  fuzz_pool_check();
  return 0;
}
