/* The tracer's readers of untrusted bytes (lib/trace.c): the "tls_records"
 * listing of a control packet's payload (what the peer sent, read when
 * tracing is on), and a control message's trace event with its redaction
 * (lib/redact.c). Every event must be one JSON object that fits its line,
 * and no redacted value may survive.
 * Input: one flag byte (bit 0: outgoing, bit 1: dropped), then the payload
 * of a control packet, also taken as a control message. */
#include "lib/redact.h"
#include "lib/trace.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t events;

/* An event is one object: starts with {, ends with }, no raw control bytes
 * or NUL inside (strings are escaped), nothing after the brace. */
static void check_event(void *ud, const char *line, size_t len) {
  size_t i;
  (void)ud;
  if (len < 2 || line[0] != '{' || line[len - 1] != '}' || line[len] != '\0')
    abort();
  for (i = 0; i < len; i++)
    if ((unsigned char)line[i] < 0x20)
      abort();
  events++;
}

/* Every value lvpn__redact_next finds is gone from the masked copy, and
 * the copy is never longer than the input grows by "[REDACTED]" per value. */
static void check_redact(const char *msg, size_t len) {
  char *masked = malloc(len + 1), out[256];
  size_t pos = 0, s, e, i, n = 0;
  if (masked == NULL)
    abort();
  memcpy(masked, msg, len);
  masked[len] = '\0';
  lvpn__redact_mask(masked, len);
  while (lvpn__redact_next(msg, len, &pos, &s, &e)) {
    if (s > e || e > len)
      abort();
    for (i = s; i < e; i++)
      if (masked[i] != '*')
        abort();
    n++;
  }
  for (i = 0; i < len; i++) /* nothing else changed */
    if (masked[i] != msg[i] && masked[i] != '*')
      abort();
  if (lvpn__redact_copy(out, sizeof(out), msg, len) >= sizeof(out) ||
      strlen(out) >= sizeof(out))
    abort();
  (void)n;
  free(masked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const ops[] = {"packet_in", "packet_out", "packet_dropped",
                                    "packet_dropped"};
  lvpn__tracer_t tr;
  lvpn__pmeta_t m = {0};
  fuzz_in_t in = {data, size};
  uint8_t flags = fuzz_u8(&in);
  size_t before;

  lvpn__trace_init(&tr);
  lvpn__trace_set(&tr, check_event, NULL, LVPN_TRACE_DEFAULT);
  m.opcode = 4; /* P_CONTROL_V1 */
  m.has_msg_id = 1;
  m.n_acks = flags >> 5; /* 0..7 */
  before = events;
  LVPN__TRACE_CTL(&tr, "reliabletransport", ops[flags & 3], "P_CONTROL_V1", &m,
                  in.p, in.n, (flags & 1) ? 1 : -1,
                  (flags & 2) ? "duplicate" : NULL);
  LVPN__TRACE_CTLMSG(&tr, "tlssession", "control_in", (const char *)in.p, in.n);
  if (events != before + 2)
    abort();
  check_redact((const char *)in.p, in.n);
  return 0;
}
