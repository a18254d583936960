/* The server's key-method-2 message (layers/tlssession/keymethod.c): the
 * first TLS plaintext the server sends, parsed by lvpn__km2_parse_server.
 * Input: the message as it comes out of the TLS session. */
#include "layers/tlssession/keymethod.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lvpn__km2_server_t s;
  /* A heap copy of exactly `size` bytes, so ASan sees any read past it. */
  uint8_t *m = malloc(size > 0 ? size : 1);

  if (m == NULL)
    abort();
  if (size > 0)
    memcpy(m, data, size);
  memset(&s, 0xA5, sizeof(s));
  if (lvpn__km2_parse_server(m, size, &s) == 0 &&
      memchr(s.options, '\0', sizeof(s.options)) == NULL)
    abort(); /* the options string must be NUL-ended */
  free(m);
  return 0;
}
