/* The 2.7 epoch data-channel format (layers/datachannel/epoch.c) through
 * epoch.h only: decrypt of raw bytes, of packets the server side sealed
 * (optionally with one bit flipped, or replayed later), with a small usage
 * limit on both sides so that epoch moves, future keys and the retiring
 * slot are all reached. A packet the server sealed and nobody altered must
 * open, unless it is a replay or its epoch has been retired (checked by
 * the return codes, not by guessing).
 *
 * Input: suite(1) | limit(1) | records of ctl(1) | len(2) | bytes(len)
 *   suite % 4 picks the AEAD; limit: the usage limit (0: the cipher's).
 *   ctl bits 0-1: 0 raw, 1 server-seal `bytes`, 2 replay a kept packet
 *   (len % 8), 3 client-seal `bytes` and open on the server side;
 *   bit 2: flip bit `len` of the sealed packet; bits 3-6: seconds to
 *   advance the clock; bit 7: jump 100 s. */
#include "layers/datachannel/epoch.h"
#include "layers/datachannel/kdf.h"
#include "layervpn.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const suites[4] = {"AES-128-GCM", "AES-256-GCM",
                                      "CHACHA20-POLY1305", "AES-192-GCM"};
#define KEEP 8
#define PEER_ID 7

static void open_and_free(lvpn__epoch_key_t *k, lvpn__pbuf_t *p,
                          int must_open) {
  int rc = lvpn__epoch_decrypt(k, p);
  if (must_open && rc != 0 && rc != LVPN_EREPLAY && rc != LVPN_ENOKEY)
    abort();
  if (rc == 0 && p->len > LVPN_PBUF_CAP)
    abort();
  lvpn__pbuf_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lvpn__epoch_key_t client, server;
  static struct {
    uint8_t b[LVPN_PBUF_CAP];
    size_t n;
  } keep[KEEP];
  fuzz_in_t in = {data, size};
  const char *cipher = suites[fuzz_u8(&in) % 4];
  uint64_t limit = fuzz_u8(&in), now = 1000;
  uint8_t inv[256];
  unsigned n_keep = 0;

  lvpn__key2_inverse(test_key2, inv);
  if (lvpn__epoch_key_init(&client, cipher, test_key2, 0, limit) != 0 ||
      lvpn__epoch_key_init(&server, cipher, inv, 0, limit) != 0)
    abort();
  while (in.n > 0) {
    uint8_t ctl = fuzz_u8(&in);
    uint16_t len = fuzz_u16(&in);
    size_t got;
    const uint8_t *b = fuzz_bytes(&in, len, &got);
    lvpn__pbuf_t *p;
    lvpn__epoch_key_t *from = &server, *to = &client;

    now += (ctl >> 3) & 15;
    if (ctl & 0x80)
      now += 100;
    lvpn__epoch_key_set_now(&client, now);
    lvpn__epoch_key_set_now(&server, now);
    switch (ctl & 3) {
    case 0:
      open_and_free(&client, fuzz_pbuf(b, got), 0);
      continue;
    case 2:
      if (n_keep > 0) {
        unsigned i = len % n_keep;
        open_and_free(&client, fuzz_pbuf(keep[i].b, keep[i].n), 0);
      }
      continue;
    case 3:
      from = &client;
      to = &server;
      break;
    default:
      break;
    }
    p = fuzz_pbuf(b, got);
    if (lvpn__epoch_encrypt(from, p, PEER_ID) != 0) {
      lvpn__pbuf_free(p);
      continue;
    }
    if (from == &server) {
      unsigned i = n_keep < KEEP ? n_keep++ : len % KEEP;
      keep[i].n = p->len;
      memcpy(keep[i].b, p->data, p->len);
    }
    if ((ctl & 4) && p->len > 0) {
      p->data[(len / 8) % p->len] ^= (uint8_t)(1u << (len % 8));
      open_and_free(to, p, 0);
    } else {
      open_and_free(to, p, 1);
    }
  }
  lvpn__epoch_key_free(&client);
  lvpn__epoch_key_free(&server);
  fuzz_pool_check();
  return 0;
}
