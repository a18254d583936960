/* The management protocol (mgmt/proto.c), as a hostile local client drives
 * it: the line reader and command interpreter fed in fuzzer-sized chunks,
 * interleaved with the events the client raises (state changes, log
 * lines, byte counts, hold, password queries), with and without a
 * management password. Output is counted, not kept; a reply longer than
 * the protocol allows for one event aborts.
 *
 * Input: flags(1) | records of ctl(1) | len(2) | bytes(len)
 *   flags bit 0: a management password ("pw") is set; bit 1: hold.
 *   ctl % 8: 0-3 bytes from the client (in one chunk), 4 a state change
 *   with `bytes` as its description, 5 a log line, 6 bytecount, hold or
 *   password query (by len % 3), 7 connect/disconnect. */
#include <signal.h>

#include "mgmt/proto.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t out_bytes;

static void out(void *ud, const char *text, size_t len) {
  (void)ud;
  (void)text;
  /* one reply or event: a command line is at most 1 KiB, histories are
   * bounded, so nothing legitimate comes near this */
  if (len > (size_t)4 << 20)
    abort();
  out_bytes += len;
}
static int sig(void *ud, int signum) {
  (void)ud;
  return signum == SIGUSR2 ? -1 : 0;
}
static void release(void *ud) { (void)ud; }
static void creds(void *ud, const char *u, const char *p) {
  (void)ud;
  if (strlen(u) > LVPN__MGMT_CRED_MAX || strlen(p) > LVPN__MGMT_CRED_MAX)
    abort();
}
static int stats(void *ud, lvpn__mgmt_stats_t *st) {
  (void)ud;
  st->tun_read = st->tun_write = st->link_read = st->link_write = 7;
  st->auth_read = 1;
  return 0;
}
static void bytecount(void *ud, unsigned s) {
  (void)ud;
  (void)s;
}
/* cr-response: what reaches the host was checked to be base64 of at
 * least one byte and fits one command line */
static int cr_response(void *ud, const char *b64) {
  (void)ud;
  if (b64[0] == '\0' || strlen(b64) > LVPN__MGMT_LINE_MAX)
    abort();
  return 0;
}
static void close_cb(void *ud) { (void)ud; }
static uint32_t now_cb(void *ud) {
  (void)ud;
  return 1700000000u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_in_t in = {data, size};
  uint8_t flags = fuzz_u8(&in);
  lvpn__mgmt_host_t host = {
      .out = out, .signal = sig, .hold_release = release,
      .credentials = creds, .cr_response = cr_response, .stats = stats,
      .bytecount = bytecount,
      .close = close_cb, .now = now_cb, .pid = 4242,
      .title = "layervpn fuzz", .password = (flags & 1) ? "pw" : NULL};
  lvpn__mgmt_t s;
  char text[LVPN__MGMT_LINE_MAX * 2 + 1];
  int connected = 1;

  if (lvpn__mgmt_init(&s, &host, 16) != 0)
    abort();
  s.hold = (flags & 2) != 0;
  lvpn__mgmt_connect(&s);
  while (in.n > 0) {
    uint8_t ctl = fuzz_u8(&in);
    uint16_t len = fuzz_u16(&in);
    size_t got;
    const uint8_t *b = fuzz_bytes(&in, len, &got);

    if (got > sizeof(text) - 1)
      got = sizeof(text) - 1;
    memcpy(text, b, got);
    text[got] = '\0';
    switch (ctl % 8) {
    case 4:
      lvpn__mgmt_state(&s, "CONNECTED", text, "198.18.8.2", "198.18.0.1",
                       "1194", NULL, NULL, NULL);
      break;
    case 5:
      lvpn__mgmt_log(&s, ctl >> 3, text);
      break;
    case 6:
      if (len % 3 == 0)
        lvpn__mgmt_bytecount(&s, len, (uint64_t)len << 33);
      else if (len % 3 == 1)
        lvpn__mgmt_hold(&s, len);
      else
        lvpn__mgmt_query_userpass(&s);
      break;
    case 7:
      if (connected)
        lvpn__mgmt_disconnect(&s);
      else
        lvpn__mgmt_connect(&s);
      connected = !connected;
      break;
    default:
      if (connected && lvpn__mgmt_input(&s, (const char *)b, got) == 1) {
        lvpn__mgmt_disconnect(&s);
        connected = 0;
      }
      break;
    }
  }
  lvpn__mgmt_free(&s);
  return 0;
}
