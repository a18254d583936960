/* Data-channel decompression (layers/datachannel/compress.c): LZO, LZ4,
 * LZ4-v2 and the stub framings, through compress.h only. Each record is
 * either handed to the receive side as a received payload, or compressed
 * by the send side first and then decompressed, which must give back the
 * same bytes (a round-trip mismatch aborts).
 *
 * Input: mode(1) | records of ctl(1) | len(2) | bytes(len)
 *   mode % 8 picks the lvpn__comp_t mode; bit 3: comp-lzo adaptive sender.
 *   ctl bit 0: round trip instead of raw; bits 1-7: seconds to advance the
 *   adaptive clock. */
#include "layers/datachannel/compress.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lvpn__compress_t tx, rx;
  fuzz_in_t in = {data, size};
  uint8_t mode_b = fuzz_u8(&in);
  int mode = mode_b % 8;
  uint64_t now = 1000;

  if ((mode_b & 8) && mode == LVPN__COMP_LZO)
    mode = LVPN__COMP_LZO_ADAPTIVE;
  if (lvpn__compress_setup(&tx, mode, true) != 0 ||
      lvpn__compress_setup(&rx, mode, false) != 0)
    abort();
  while (in.n > 0) {
    uint8_t ctl = fuzz_u8(&in);
    uint16_t len = fuzz_u16(&in);
    size_t got;
    const uint8_t *b = fuzz_bytes(&in, len, &got);
    lvpn__pbuf_t *p = fuzz_pbuf(b, got);

    now += ctl >> 1;
    if (ctl & 1) {
      size_t n = p->len;
      if (lvpn__compress(&tx, p, now) == 0) {
        if (lvpn__decompress(&rx, p) != 0 || p->len != n ||
            (n > 0 && memcmp(p->data, b, n) != 0))
          abort();
      }
    } else if (lvpn__decompress(&rx, p) == 0) {
      if (p->len > LVPN__COMP_MAX_OUT)
        abort();
    }
    lvpn__pbuf_free(p);
  }
  lvpn__compress_free(&tx);
  lvpn__compress_free(&rx);
  fuzz_pool_check();
  return 0;
}
