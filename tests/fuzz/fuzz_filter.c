/* The inside filter hook (hooks/filter.c): its rule parser (text from the
 * host or the command line) and its packet matcher, which reads inbound
 * packets from the server, so untrusted bytes.
 *
 * Input: rules, one a line, up to the first NUL | the packet. Each rule
 * either parses or fails with a message; the packet is matched against what
 * parsed, and again after each rule, through every prefix length. */
#include <string.h>

#include "hooks/chain.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lvpn__filter_t f;
  const uint8_t *nul = memchr(data, 0, size);
  size_t text_len = nul ? (size_t)(nul - data) : size;
  const uint8_t *pkt = nul ? nul + 1 : data + size;
  size_t pkt_len = nul ? size - text_len - 1 : 0, n;
  char text[1024], err[300], *save = NULL, *line;

  if (text_len >= sizeof(text))
    text_len = sizeof(text) - 1;
  memcpy(text, data, text_len);
  text[text_len] = '\0';
  lvpn__filter_init(&f);
  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    err[0] = '\0';
    if (lvpn__filter_add(&f, line, err, sizeof(err)) != 0 && err[0] == '\0')
      abort(); /* a refusal always says why */
  }
  for (n = 0; n <= pkt_len; n++) {
    int r = lvpn__filter_match(&f, pkt, n);
    if (r != 0 && r != 1)
      abort();
  }
  return 0;
}
