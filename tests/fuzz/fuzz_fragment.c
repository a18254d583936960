/* Data-channel fragment reassembly (layers/datachannel/fragment.c), fed the
 * plaintext that follows a data packet's decryption, as the datachannel
 * layer does with `fragment` on. Any header, any order, any size.
 *
 * Input: max(2) then operations, op(1) and its arguments:
 *   0 len(2) bytes     a raw plaintext (header included)
 *   1 type(1) seq(1) id(1) size(2) len(2)
 *                      a piece with that header and `len` filler bytes
 *   2 len(2) flags(1)  split a len-byte packet with our sender; feed the
 *                      pieces in order (flags & 1: reversed) to a second,
 *                      clean receiver, which must return exactly the packet
 *                      (and to the fuzzed receiver too when flags & 2)
 *   3 s(1)             advance the clock by s seconds and reap
 * Checked: a delivered packet fits a pbuf; the clean round trip is exact;
 * every buffer is returned. The three contexts live for the whole run and
 * are set up again for each input (lvpn__fragment_setup resets them). */
#include "layers/datachannel/fragment.h"
#include "layervpn.h"
#include "lib/bytes.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t now_s;
/* Packet contents for the round trips, built once: byte loops run slowly
 * under the sanitizers and coverage, memcpy/memcmp do not. */
static uint8_t pattern[LVPN__FRAG_MAX_PKT + 256];

static void feed(lvpn__fragment_t *rx, lvpn__pbuf_t *p) {
  int rc = lvpn__fragment_incoming(rx, p, now_s);
  if (rc == 0 && p->len > LVPN__FRAG_MAX_PKT)
    abort();
  if (rc != 0 && rc != LVPN__FRAG_PENDING && rc != LVPN_EPROTO &&
      rc != LVPN_ETOOBIG)
    abort();
  lvpn__pbuf_free(p);
}

static void roundtrip(lvpn__fragment_t *tx, lvpn__fragment_t *clean,
                      lvpn__fragment_t *rx, size_t len, uint8_t flags) {
  lvpn__pbuf_t *out[LVPN__FRAG_MAX_FRAGS], *p = fuzz_pbuf(NULL, 0), *c;
  const uint8_t *want;
  size_t n, i, k;
  int rc;
  if (len > LVPN__FRAG_MAX_PKT)
    len = LVPN__FRAG_MAX_PKT;
  want = pattern + len % 256; /* the content depends on the length too */
  memcpy(lvpn__pbuf_put(p, len), want, len);
  if (lvpn__fragment_split(tx, p, &fuzz_pool, out, &n) != 0) {
    lvpn__pbuf_free(p);
    return;
  }
  for (i = 0; i < n; i++) {
    k = flags & 1 ? n - 1 - i : i;
    if (flags & 2) {
      c = fuzz_pbuf(out[k]->data, out[k]->len);
      feed(rx, c);
    }
    rc = lvpn__fragment_incoming(clean, out[k], now_s);
    if (i + 1 < n) {
      if (rc != LVPN__FRAG_PENDING)
        abort();
    } else {
      if (rc != 0 || out[k]->len != len || memcmp(out[k]->data, want, len))
        abort();
    }
    lvpn__pbuf_free(out[k]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_in_t in = {data, size};
  /* Kept across inputs: each input re-runs setup, which resets every slot
   * (the path a reused context takes), instead of a fresh 140 KiB calloc
   * per input that cost a fifth of the run. */
  static lvpn__fragment_t tx, rx, clean;
  unsigned max = fuzz_u16(&in);
  const uint8_t *b;
  size_t got;
  uint32_t hdr;

  if (pattern[1] == 0)
    for (size_t j = 0; j < sizeof(pattern); j++)
      pattern[j] = (uint8_t)(j * 13 + 1);
  now_s = 1000;
  if (lvpn__fragment_setup(&rx, 972, 0) != 0 ||
      lvpn__fragment_setup(&clean, 972, 0) != 0 ||
      lvpn__fragment_setup(&tx, max % (LVPN__FRAG_MAX_PKT - 3) + 4, 7) != 0)
    abort();
  while (in.n > 0) {
    switch (fuzz_u8(&in) % 4) {
    case 0:
      b = fuzz_bytes(&in, fuzz_u16(&in), &got);
      feed(&rx, fuzz_pbuf(b, got));
      break;
    case 1: {
      uint8_t type = fuzz_u8(&in), seq = fuzz_u8(&in), id = fuzz_u8(&in);
      uint16_t fsize = fuzz_u16(&in), len = fuzz_u16(&in) % 2048;
      lvpn__pbuf_t *p = fuzz_pbuf(NULL, 0);
      hdr = lvpn__fragment_header(type & 3, seq, id, fsize);
      if (type & 4) /* stray bits, as a hostile peer might send */
        hdr |= (uint32_t)fsize << 15;
      lvpn__put_u32(lvpn__pbuf_put(p, 4), hdr);
      if (len > lvpn__pbuf_tailroom(p))
        len = (uint16_t)lvpn__pbuf_tailroom(p);
      memset(lvpn__pbuf_put(p, len), 0xA5, len);
      feed(&rx, p);
      break;
    }
    case 2: {
      size_t len = fuzz_u16(&in);
      roundtrip(&tx, &clean, &rx, len, fuzz_u8(&in));
      break;
    }
    default:
      now_s += fuzz_u8(&in);
      lvpn__fragment_reap(&rx, now_s);
      lvpn__fragment_reap(&clean, now_s);
    }
  }
  fuzz_pool_check();
  return 0;
}
