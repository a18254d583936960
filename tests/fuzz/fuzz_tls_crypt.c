/* tls-crypt unwrap with fixed keys (layers/packetmuxer/tlswrap.c).
 * Input format: tests/fuzz/fuzz_tlswrap.h. */
#include "tests/fuzz/fuzz_tlswrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_tlswrap_run(LVPN__TLSWRAP_CRYPT, NULL, -1, data, size);
}
