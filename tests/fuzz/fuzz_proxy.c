/* Proxy reply parsers (layers/networkio/proxy.c): an HTTP CONNECT or SOCKS5
 * handshake fed the proxy's bytes in chunks, as networkio does, then the
 * SOCKS UDP header parser on the same bytes.
 * Input: [mode][chunk] then the proxy's reply stream. mode bit 0: SOCKS
 * (else HTTP), bit 1: with credentials, bit 2: UDP ASSOCIATE (SOCKS),
 * bit 3: HTTP 'auto' (bit 4: auto-nct) without Basic yet.
 * chunk: bytes per read (0 means 1). */
#include <stdio.h>

#include "layers/networkio/proxy.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lvpn__proxy_hs_t hs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char host[] = "proxy.test", user[] = "user", pass[] = "pass",
              hdr[] = "X-A: b";
  lvpn__proxy_t c;
  struct sockaddr_storage from;
  size_t off = 0, step, used;
  uint8_t mode;
  int rc = 0, hl;

  if (size < 2)
    return 0;
  mode = data[0];
  step = data[1] != 0 ? data[1] : 1;
  data += 2;
  size -= 2;
  memset(&c, 0, sizeof(c));
  c.kind = (mode & 1) ? LVPN__PROXY_SOCKS : LVPN__PROXY_HTTP;
  c.host = host;
  c.port = 1080;
  c.basic = (mode & 2) != 0 && !(mode & 8);
  c.auto_auth = (mode & 8) ? ((mode & 16) ? 2 : 1) : 0;
  c.username = (mode & 2) ? user : NULL;
  c.password = (mode & 2) ? pass : NULL;
  c.headers[0] = hdr;
  c.n_headers = 1;
  if (lvpn__proxy_hs_init(&hs, &c, "vpn.test", 1194,
                          (mode & 1) && (mode & 4)) != 0 ||
      lvpn__proxy_hs_start(&hs) != 0 || hs.out_len == 0)
    abort();
  while (off < size && rc == 0) {
    size_t n = size - off < step ? size - off : step;
    hs.out_len = 0;
    rc = lvpn__proxy_hs_feed(&hs, data + off, n, &used);
    if (used > n || (rc == 0 && used == 0) || hs.out_len > sizeof(hs.out))
      abort();
    off += used;
  }
  if (rc == 1 && hs.state != LVPN__PXS_DONE)
    abort();
  if (rc < 0 && (hs.state != LVPN__PXS_FAILED || hs.err[0] == '\0' ||
                 strlen(hs.err) >= sizeof(hs.err) ||
                 (rc != LVPN_EPROXY && rc != LVPN_EPROXY_AUTH)))
    abort();
  if (rc == 0 && (rc = lvpn__proxy_hs_eof(&hs)) != LVPN_EPROXY &&
      rc != LVPN_EPROXY_AUTH)
    abort();
  if (hs.want_basic && (rc != LVPN_EPROXY || c.auto_auth != 1))
    abort();
  hl = lvpn__socks_udp_parse(data, size, &from);
  if (hl > (int)size)
    abort();
  lvpn__proxy_hs_wipe(&hs);
  return 0;
}
