/* The tls-auth, tls-crypt and tls-crypt-v2 targets share this driver: the
 * client unwraps (layers/packetmuxer/tlswrap.c) a sequence of packets with
 * the fixed test keys, then decodes what authenticated. A packet is either
 * raw wire bytes (what an attacker on the path can send), a packet wrapped
 * by the server side from fuzzer-chosen content (so the decryption, replay
 * window and control decoding behind the HMAC are reached), or a replay of
 * an earlier wire packet.
 *
 * Input: records of
 *   ctl(1) | len(2, big endian) | bytes(len)
 * ctl bits 0-1: 0 raw wire, 1 wrap `bytes` (an unwrapped control packet)
 *   with the server and deliver it, 2 replay stored wire packet
 *   (len % 8), 3 wrap, flip bit `len` of the wire form, deliver;
 * bits 2-4: seconds to advance the clock; bit 5: jump 1000 s ahead;
 * bit 6: unwrap on the test server too (tls-crypt-v2: WKc stripping). */
#ifndef LVPN_TESTS_FUZZ_FUZZ_TLSWRAP_H
#define LVPN_TESTS_FUZZ_FUZZ_TLSWRAP_H

#include "layers/packetmuxer/tlswrap.h"
#include "layers/packetmuxer/wire.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_TW_KEEP 8
#define FUZZ_TW_T0 0x65000000u

typedef struct {
  uint8_t b[LVPN_PBUF_CAP];
  size_t n;
} fuzz_tw_pkt_t;

static void fuzz_tw_deliver(lvpn__tlswrap_t *w, const uint8_t *b, size_t n,
                            uint32_t now) {
  lvpn__pbuf_t *p = fuzz_pbuf(b, n);
  lvpn__ctl_pkt_t h = {0};
  uint16_t flags;

  if (lvpn__tlswrap_unwrap(w, p, now) == 0) {
    if (p->len > LVPN_PBUF_CAP)
      abort();
    if (lvpn__ctl_decode(p, &h) == 0 && h.opcode != LVPN__P_ACK_V1 &&
        h.msg_id == 0)
      (void)lvpn__ctl_parse_early_neg(p->data, p->len, &flags);
  }
  lvpn__pbuf_free(p);
}

static int fuzz_tlswrap_run(int mode, const char *digest, int kd,
                            const uint8_t *data, size_t size) {
  static fuzz_tw_pkt_t keep[FUZZ_TW_KEEP];
  static lvpn__tlswrap_t client, server, test_server;
  const char *pem =
      mode == LVPN__TLSWRAP_CRYPT_V2 ? test_v2_pem : test_static_pem;
  fuzz_in_t in = {data, size};
  unsigned n_keep = 0;
  uint32_t now = FUZZ_TW_T0;
  char err[256];

  /* client: the side under test; server: builds authentic packets for it;
   * test_server: the library's v2 "server" (WKc check), fed raw bytes.
   * Keyed once; per input only the packet-id and replay state (and the
   * counters) go back to what init left, which is all that wrap/unwrap
   * change: the HMAC and cipher contexts are re-armed on every packet. */
  static lvpn__tlswrap_t fresh[3];
  static int ready;
  lvpn__tlswrap_t *w[3] = {&client, &server, &test_server};
  int i;

  if (!ready) {
    if (lvpn__tlswrap_init(&client, mode, pem, strlen(pem), kd, digest, err,
                           sizeof(err)) != 0 ||
        lvpn__tlswrap_init_server(&server, mode, pem, strlen(pem),
                                  kd < 0 ? -1 : 1 - kd, digest, err,
                                  sizeof(err)) != 0 ||
        lvpn__tlswrap_init_server(&test_server, mode, pem, strlen(pem),
                                  kd < 0 ? -1 : 1 - kd, digest, err,
                                  sizeof(err)) != 0)
      abort();
    for (i = 0; i < 3; i++)
      fresh[i] = *w[i]; /* for the plain fields below only */
    ready = 1;
  }
  for (i = 0; i < 3; i++) {
    w[i]->tx_pid = fresh[i].tx_pid;
    w[i]->tx_time = fresh[i].tx_time;
    w[i]->rx = fresh[i].rx;
    w[i]->wrapped = w[i]->unwrapped = w[i]->auth_failures = w[i]->replays = 0;
  }
  while (in.n > 0) {
    uint8_t ctl = fuzz_u8(&in);
    uint16_t len = fuzz_u16(&in);
    size_t got;
    const uint8_t *b = fuzz_bytes(&in, len, &got);
    unsigned op = ctl & 3;

    now += (ctl >> 2) & 7;
    if (ctl & 0x20)
      now += 1000;
    if (op == 2) {
      if (n_keep > 0) {
        fuzz_tw_pkt_t *k = &keep[len % n_keep];
        fuzz_tw_deliver(&client, k->b, k->n, now);
      }
      continue;
    }
    if (op == 0) {
      fuzz_tw_deliver(&client, b, got, now);
      if (ctl & 0x40)
        fuzz_tw_deliver(&test_server, b, got, now);
      continue;
    }
    {
      lvpn__pbuf_t *p = fuzz_pbuf(b, got);
      if (lvpn__tlswrap_wrap(&server, p, now) == 0) {
        if (op == 3 && p->len > 0)
          p->data[(len / 8) % p->len] ^= (uint8_t)(1u << (len % 8));
        fuzz_tw_pkt_t *k =
            &keep[n_keep < FUZZ_TW_KEEP ? n_keep++ : len % FUZZ_TW_KEEP];
        k->n = p->len;
        memcpy(k->b, p->data, p->len);
        fuzz_tw_deliver(&client, k->b, k->n, now);
      }
      lvpn__pbuf_free(p);
    }
  }
  fuzz_pool_check();
  return 0;
}

#endif
