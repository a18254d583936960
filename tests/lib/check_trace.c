/* lib/trace: JSON events (valid, escaped, bounded), minivpn's control
 * events, redaction, and no call at all when tracing is off. */
#include <stdio.h>
#include <string.h>

#include "lib/redact.h"
#include "lib/trace.h"
#include "tests/fakes.h"

static char last[16384];
static size_t last_len;
static int calls;

static void capture(void *ud, const char *json, size_t len) {
  (void)ud;
  calls++;
  ck_assert_uint_lt(len, sizeof(last));
  ck_assert_uint_eq(strlen(json), len); /* NUL-ended, no NUL inside */
  memcpy(last, json, len + 1);
  last_len = len;
}

/* ---- a strict JSON checker (RFC 8259), enough for one event ---- */
static const char *js_value(const char *s);

static const char *js_ws(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
    s++;
  return s;
}

static const char *js_string(const char *s) {
  const unsigned char *u;
  if (*s++ != '"')
    return NULL;
  for (;;) {
    u = (const unsigned char *)s;
    if (*u == '"')
      return s + 1;
    if (*u < 0x20)
      return NULL; /* raw control character (or the end) */
    if (*u == '\\') {
      s++;
      if (*s == 'u') {
        int i;
        for (i = 1; i <= 4; i++)
          if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                (s[i] >= 'A' && s[i] <= 'F')))
            return NULL;
        s += 5;
      } else if (*s && strchr("\"\\/bfnrt", *s)) {
        s++;
      } else {
        return NULL;
      }
    } else {
      s++;
    }
  }
}

static const char *js_number(const char *s) {
  if (*s == '-')
    s++;
  if (*s == '0')
    s++;
  else if (*s >= '1' && *s <= '9')
    while (*s >= '0' && *s <= '9')
      s++;
  else
    return NULL;
  if (*s == '.') {
    s++;
    if (!(*s >= '0' && *s <= '9'))
      return NULL;
    while (*s >= '0' && *s <= '9')
      s++;
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-')
      s++;
    if (!(*s >= '0' && *s <= '9'))
      return NULL;
    while (*s >= '0' && *s <= '9')
      s++;
  }
  return s;
}

static const char *js_seq(const char *s, char close, int object) {
  s = js_ws(s + 1);
  if (*s == close)
    return s + 1;
  for (;;) {
    if (object) {
      s = js_string(js_ws(s));
      if (s == NULL || *(s = js_ws(s)) != ':')
        return NULL;
      s++;
    }
    s = js_value(s);
    if (s == NULL)
      return NULL;
    s = js_ws(s);
    if (*s == close)
      return s + 1;
    if (*s != ',')
      return NULL;
    s++;
  }
}

static const char *js_value(const char *s) {
  s = js_ws(s);
  switch (*s) {
  case '{':
    return js_seq(s, '}', 1);
  case '[':
    return js_seq(s, ']', 0);
  case '"':
    return js_string(s);
  case 't':
    return strncmp(s, "true", 4) == 0 ? s + 4 : NULL;
  case 'f':
    return strncmp(s, "false", 5) == 0 ? s + 5 : NULL;
  case 'n':
    return strncmp(s, "null", 4) == 0 ? s + 4 : NULL;
  default:
    return js_number(s);
  }
}

/* One JSON object and nothing after it. */
static int json_object_ok(const char *s) {
  const char *e;
  if (*js_ws(s) != '{')
    return 0;
  e = js_value(s);
  return e != NULL && *js_ws(e) == '\0';
}

static void tracer_on(lvpn__tracer_t *tr, int level) {
  lvpn__trace_init(tr);
  lvpn__trace_set(tr, capture, NULL, level);
  calls = 0;
  last[0] = '\0';
}

START_TEST(test_trace_json_checker_self_test) {
  ck_assert(
      json_object_ok("{\"a\":[1,-2.5e3,null,true,\"x\\u00e9\"],\"b\":{}}"));
  ck_assert(!json_object_ok("{\"a\":1,}"));
  ck_assert(!json_object_ok("{\"a\":\"\n\"}"));
  ck_assert(!json_object_ok("{\"a\":01}"));
  ck_assert(!json_object_ok("{\"a\":\"\\x\"}"));
  ck_assert(!json_object_ok("{\"a\":1}x"));
}
END_TEST

START_TEST(test_trace_off_calls_nothing) {
  lvpn__tracer_t tr;
  lvpn__pmeta_t m;
  int evaluated = 0;

  lvpn__trace_init(&tr);
  calls = 0;
  memset(&m, 0, sizeof(m));
  /* the arguments are not even evaluated when off */
  LVPN__TRACE(&tr, "networkio", "write", "bytes=%d", ++evaluated);
  LVPN__TRACE_PKT(&tr, 0, "networkio", "write", "bytes=%d", ++evaluated);
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_out", "P_ACK_V1", &m, NULL,
                  0, ++evaluated, NULL);
  LVPN__TRACE_STATE(&tr, "client", LVPN__STAGE_INITIAL);
  LVPN__TRACE_CTLMSG(&tr, "tlssession", "control_in", "PUSH_REPLY", 10);
  LVPN__TRACE(&lvpn__trace_off, "tun", "read", "bytes=%d", ++evaluated);
  ck_assert_int_eq(evaluated, 0);
  ck_assert_int_eq(calls, 0);
  ck_assert_int_eq(lvpn__trace_off.on, 0);
  /* on, then off again */
  lvpn__trace_set(&tr, capture, NULL, LVPN_TRACE_DEFAULT);
  LVPN__TRACE(&tr, "tun", "read", "bytes=%d", 1);
  ck_assert_int_eq(calls, 1);
  lvpn__trace_set(&tr, NULL, NULL, LVPN_TRACE_DATA_ALL);
  LVPN__TRACE(&tr, "tun", "read", "bytes=%d", 1);
  ck_assert_int_eq(calls, 1);
  ck_assert_int_eq(tr.data_all, 0);
}
END_TEST

START_TEST(test_trace_fields_and_types) {
  lvpn__tracer_t tr;
  const char *volatile none = NULL; /* a NULL the compiler cannot see */
  double t = -1;

  tracer_on(&tr, LVPN_TRACE_DEFAULT);
  LVPN__TRACE(&tr, "networkio", "write",
              "bytes=%zu delta=%d big=%llu neg=%ld ratio=%g name=%s none=%s "
              "cut=%.*s",
              (size_t)54, -3, 18446744073709551615ULL, -70000L, 0.25, "udp",
              none, 3, "abcdef");
  ck_assert_int_eq(calls, 1);
  ck_assert_msg(json_object_ok(last), "invalid JSON: %s", last);
  ck_assert_int_eq(sscanf(last, "{\"t\":%lf,", &t), 1);
  ck_assert(t >= 0 && t < 5);
  ck_assert_ptr_nonnull(strstr(
      last, ",\"layer\":\"networkio\",\"operation\":\"write\",\"bytes\":54,"
            "\"delta\":-3,\"big\":18446744073709551615,\"neg\":-70000,"
            "\"ratio\":0.25,\"name\":\"udp\",\"none\":null,\"cut\":\"abc\"}"));
}
END_TEST

START_TEST(test_trace_escapes_strings) {
  lvpn__tracer_t tr;
  /* quote, backslash, newline, tab, 0x01, DEL; valid UTF-8 (é, €, U+1F600)
   * kept; invalid bytes: 0xFF, a cut sequence, an overlong form, a UTF-16
   * surrogate, a lone continuation byte. */
  static const char in[] = "a\"b\\c\nd\te\x01"
                           "f\x7f"
                           "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                           "\xff|\xe2\x82|\xc0\x80|\xed\xa0\x80|\x80";

  tracer_on(&tr, LVPN_TRACE_DEFAULT);
  LVPN__TRACE(&tr, "tlssession", "x\"y", "s=%s", in);
  ck_assert_msg(json_object_ok(last), "invalid JSON: %s", last);
  ck_assert_ptr_nonnull(strstr(last, "\"operation\":\"x\\\"y\""));
  ck_assert_ptr_nonnull(strstr(
      last, "\"s\":\"a\\\"b\\\\c\\u000ad\\u0009e\\u0001f\x7f"
            "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
            "\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
            "\\ufffd\""));
}
END_TEST

START_TEST(test_trace_long_event_is_cut_but_valid) {
  lvpn__tracer_t tr;
  static char big[20000];
  size_t i;

  for (i = 0; i < sizeof(big) - 1; i++)
    big[i] = i % 7 == 0 ? '"' : 'x'; /* escapes take two bytes */
  big[sizeof(big) - 1] = '\0';
  tracer_on(&tr, LVPN_TRACE_DEFAULT);
  LVPN__TRACE(&tr, "tlssession", "control_in", "s=%s after=%d", big, 7);
  ck_assert_msg(json_object_ok(last), "invalid JSON (len %zu)", last_len);
  ck_assert_uint_le(last_len, 8192);
  ck_assert_ptr_nonnull(strstr(last, "\"truncated\":true}"));
  ck_assert_ptr_null(strstr(last, "\"after\""));
}
END_TEST

START_TEST(test_trace_minivpn_packet_events) {
  lvpn__tracer_t tr;
  lvpn__pmeta_t m;
  static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0x7a, 0x01, 0x00};
  static const uint8_t srv[] = {0x16, 0x03, 0x03, 0x00, 0x5d, 0x02};

  tracer_on(&tr, LVPN_TRACE_DEFAULT);
  tr.txid = 3;
  memset(&m, 0, sizeof(m));
  m.opcode = 7;
  LVPN__TRACE_STATE(&tr, "controlchannel", LVPN__STAGE_PRE_START);
  ck_assert_msg(json_object_ok(last), "%s", last);
  ck_assert_ptr_nonnull(strstr(
      last, "\"layer\":\"controlchannel\",\"operation\":\"state\",\"stage\":"
            "\"PRE_START\",\"packet\":null,\"tags\":[],\"transaction_id\":3}"));
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_out",
                  "P_CONTROL_HARD_RESET_CLIENT_V2", &m, NULL, 0, 1, NULL);
  ck_assert_msg(json_object_ok(last), "%s", last);
  ck_assert_ptr_nonnull(strstr(
      last,
      "\"operation\":\"packet_out\",\"stage\":\"PRE_START\",\"packet\":{"
      "\"operation\":\"write\",\"opcode\":\"P_CONTROL_HARD_RESET_CLIENT_V2\","
      "\"key_id\":0,\"id\":0,\"acks\":null,\"payload_size\":0,"
      "\"send_attempts\":1},\"tags\":[],\"transaction_id\":3}"));

  m.opcode = 4;
  m.key_id = 2;
  m.has_msg_id = 1;
  m.msg_id = 5;
  m.n_acks = 2;
  m.acks[0] = 4;
  m.acks[1] = 3;
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_out", "P_CONTROL_V1", &m,
                  hello, sizeof(hello), 2, "timeout");
  ck_assert_msg(json_object_ok(last), "%s", last);
  ck_assert_ptr_nonnull(
      strstr(last, "\"key_id\":2,\"id\":5,\"acks\":[4,3],\"payload_size\":7,"
                   "\"send_attempts\":2},\"tags\":[\"client_hello\"],"
                   "\"transaction_id\":3,\"reason\":\"timeout\","
                   "\"tls_records\":[\"handshake\"]}"));
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_in", "P_CONTROL_V1", &m,
                  srv, sizeof(srv), -1, NULL);
  ck_assert_ptr_nonnull(strstr(last, "\"operation\":\"read\""));
  ck_assert_ptr_nonnull(strstr(last, "\"send_attempts\":null},\"tags\":["
                                     "\"server_hello\"]"));
  /* minivpn tags neither dropped packets nor short payloads */
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_dropped", "P_CONTROL_V1",
                  &m, srv, sizeof(srv), -1, "duplicate");
  ck_assert_ptr_nonnull(strstr(last, "\"tags\":[],"));
  ck_assert_ptr_nonnull(strstr(last, "\"reason\":\"duplicate\"}"));
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_in", "P_CONTROL_V1", &m,
                  srv, 5, -1, NULL);
  ck_assert_ptr_nonnull(strstr(last, "\"tags\":[],"));
  ck_assert_str_eq(lvpn__trace_stage_name(LVPN__STAGE_GENERATED_KEYS),
                   "GENERATED_KEYS");
  ck_assert_str_eq(lvpn__trace_stage_name(LVPN__STAGE_ERROR), "ERROR");
  ck_assert_int_eq(calls, 6);
}
END_TEST

START_TEST(test_trace_tls_record_kinds) {
  lvpn__tracer_t tr;
  lvpn__pmeta_t m;
  /* ServerHello (4-byte body) and a ServerHelloDone in one record each,
   * then a record cut by the packet end */
  /* clang-format off */
  static const uint8_t flight[] = {
      0x16, 0x03, 0x03, 0x00, 0x08, 0x02, 0x00, 0x00, 0x04, 1, 2, 3, 4,
      0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00,
      0x16, 0x03, 0x03, 0x01, 0x00, 0x0b, 0x00, 0x00, 0x10};
  /* clang-format on */
  /* ChangeCipherSpec, then the encrypted Finished (explicit nonce 0) */
  static const uint8_t ccs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01,
                                0x16, 0x03, 0x03, 0x00, 0x28, 0x00,
                                0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  static const uint8_t app[] = {0x17, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb};
  static const uint8_t junk[] = {0x99, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb};

  tracer_on(&tr, LVPN_TRACE_DEFAULT);
  memset(&m, 0, sizeof(m));
  m.opcode = 4;
  m.has_msg_id = 1;
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_in", "P_CONTROL_V1", &m,
                  flight, sizeof(flight), -1, NULL);
  ck_assert_msg(json_object_ok(last), "%s", last);
  ck_assert_ptr_nonnull(strstr(
      last, "\"tls_records\":[\"handshake:server_hello\","
            "\"handshake:server_hello_done\",\"handshake:certificate\"]}"));
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_out", "P_CONTROL_V1", &m,
                  ccs, sizeof(ccs), 1, NULL);
  ck_assert_ptr_nonnull(
      strstr(last, "\"tls_records\":[\"change_cipher_spec\",\"handshake\"]}"));
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_out", "P_CONTROL_V1", &m,
                  app, sizeof(app), 1, "timeout");
  ck_assert_ptr_nonnull(strstr(
      last, "\"reason\":\"timeout\",\"tls_records\":[\"application_data\"]}"));
  /* not a record boundary (a record continued from the previous packet):
   * no field; dropped packets are not parsed */
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_in", "P_CONTROL_V1", &m,
                  junk, sizeof(junk), -1, NULL);
  ck_assert_ptr_null(strstr(last, "tls_records"));
  LVPN__TRACE_CTL(&tr, "reliabletransport", "packet_dropped", "P_CONTROL_V1",
                  &m, app, sizeof(app), -1, "duplicate");
  ck_assert_ptr_null(strstr(last, "tls_records"));
}
END_TEST

START_TEST(test_trace_redacts_tokens_and_messages) {
  lvpn__tracer_t tr;
  static const char push[] =
      "PUSH_REPLY,route 10.0.0.0 255.0.0.0,auth-token SESS_ID_AT_c2VjcmV0,"
      "auth-token-user dXNlcg==,peer-id 0";
  static const char failed[] = "AUTH_FAILED,password was hunter2";
  static const char pending[] =
      "AUTH_PENDING,timeout 60,OPEN_URL:https://x/?t=abc";
  static const char update[] = "PUSH_UPDATE,-route,auth-token SESS_ID_c2VjcmV0";
  char out[64];

  tracer_on(&tr, LVPN_TRACE_DEFAULT);
  LVPN__TRACE_CTLMSG(&tr, "tlssession", "control_in", push, sizeof(push));
  ck_assert_msg(json_object_ok(last), "%s", last);
  ck_assert_ptr_nonnull(
      strstr(last, "\"message\":\"PUSH_REPLY\",\"options\":\"route 10.0.0.0 "
                   "255.0.0.0,auth-token [REDACTED],auth-token-user [REDACTED],"
                   "peer-id 0\"}"));
  ck_assert_ptr_null(strstr(last, "c2VjcmV0"));
  ck_assert_ptr_null(strstr(last, "dXNlcg"));
  LVPN__TRACE_CTLMSG(&tr, "tlssession", "control_in", failed,
                     sizeof(failed) - 1);
  ck_assert_ptr_nonnull(strstr(last, "\"message\":\"AUTH_FAILED\",\"bytes\":"));
  ck_assert_ptr_null(strstr(last, "hunter2"));
  LVPN__TRACE_CTLMSG(&tr, "tlssession", "control_in", pending,
                     sizeof(pending) - 1);
  ck_assert_ptr_null(strstr(last, "abc"));
  ck_assert(json_object_ok(last));
  /* a PUSH_UPDATE's options are redacted the same way */
  LVPN__TRACE_CTLMSG(&tr, "tlssession", "control_in", update,
                     sizeof(update) - 1);
  ck_assert_msg(json_object_ok(last), "%s", last);
  ck_assert_ptr_nonnull(
      strstr(last, "\"message\":\"PUSH_UPDATE\",\"options\":\"-route,"
                   "auth-token [REDACTED]\"}"));
  ck_assert_ptr_null(strstr(last, "c2VjcmV0"));
  /* the redactor never overflows its output, and stops at a NUL */
  ck_assert_uint_lt(
      lvpn__redact_copy(out, sizeof(out), push + 11, sizeof(push) - 12),
      sizeof(out));
  ck_assert_uint_lt(strlen(out), sizeof(out));
  ck_assert_ptr_null(strstr(out, "c2VjcmV0"));
  ck_assert_uint_eq(lvpn__redact_copy(out, 1, push, sizeof(push)), 0);
  ck_assert_str_eq(out, "");
  ck_assert_uint_eq(lvpn__redact_copy(out, sizeof(out), "a\0auth-token x", 15),
                    1);
  /* one implementation: the log's mask hides the same fields */
  {
    char masked[sizeof(push)];
    memcpy(masked, push, sizeof(push));
    lvpn__redact_mask(masked, sizeof(masked) - 1);
    ck_assert_str_eq(masked, "PUSH_REPLY,route 10.0.0.0 255.0.0.0,"
                             "auth-token *******************,"
                             "auth-token-user ********,peer-id 0");
  }
}
END_TEST

START_TEST(test_trace_data_packets_only_when_asked) {
  lvpn__tracer_t tr;
  static const uint8_t data_v2[] = {0x48, 0, 0, 1}; /* P_DATA_V2, key 0 */
  static const uint8_t ctl[] = {0x20};              /* P_CONTROL_V1 */

  ck_assert(lvpn__trace_is_data(data_v2, sizeof(data_v2)));
  ck_assert(!lvpn__trace_is_data(ctl, sizeof(ctl)));
  ck_assert(!lvpn__trace_is_data(ctl, 0));
  tracer_on(&tr, LVPN_TRACE_DEFAULT);
  LVPN__TRACE_PKT(&tr, lvpn__trace_is_data(data_v2, 4), "networkio", "read",
                  "bytes=%d", 4);
  ck_assert_int_eq(calls, 0);
  LVPN__TRACE_PKT(&tr, lvpn__trace_is_data(ctl, 1), "networkio", "read",
                  "bytes=%d", 1);
  ck_assert_int_eq(calls, 1);
  lvpn__trace_set(&tr, capture, NULL, LVPN_TRACE_DATA_ALL);
  LVPN__TRACE_PKT(&tr, 1, "networkio", "read", "bytes=%d", 4);
  ck_assert_int_eq(calls, 2);
}
END_TEST

static lvpn_tap_pkt_t tapped;
static uint8_t tapped_data[64];
static int taps;

static void tap_capture(void *ud, const lvpn_tap_pkt_t *pkt) {
  ck_assert_ptr_eq(ud, &tapped);
  taps++;
  tapped = *pkt;
  ck_assert_uint_le(pkt->len, sizeof(tapped_data));
  memcpy(tapped_data, pkt->data, pkt->len); /* lent for the call only */
}

START_TEST(test_trace_taps_only_their_points) {
  lvpn__tracer_t tr;
  static const uint8_t pkt[] = {0x38, 1, 2, 3};
  struct sockaddr_in local, remote;
  int evaluated = 0;

  lvpn__trace_init(&tr);
  taps = 0;
  memset(&local, 0, sizeof(local));
  memset(&remote, 0, sizeof(remote));
  /* off: not called, arguments not evaluated */
  LVPN__TAP(&tr, LVPN_TAP_WIRE, ++evaluated, 0, &local, &remote, pkt, 4);
  LVPN__TAP(&lvpn__trace_off, LVPN_TAP_INSIDE, ++evaluated, 0, NULL, NULL, pkt,
            4);
  ck_assert_int_eq(evaluated, 0);
  ck_assert_int_eq(taps, 0);
  /* the client's setter: only the points asked for */
  tr.tap = tap_capture;
  tr.tap_ud = &tapped;
  tr.taps = LVPN_TAP_WIRE;
  LVPN__TAP(&tr, LVPN_TAP_INSIDE, 1, 0, NULL, NULL, pkt, 4);
  LVPN__TAP(&tr, LVPN_TAP_CONTROL, 1, 0, NULL, NULL, pkt, 4);
  ck_assert_int_eq(taps, 0);
  LVPN__TAP(&tr, LVPN_TAP_WIRE, 1, 1, &local, &remote, pkt, sizeof(pkt));
  ck_assert_int_eq(taps, 1);
  ck_assert_int_eq(tapped.point, LVPN_TAP_WIRE);
  ck_assert_int_eq(tapped.outbound, 1);
  ck_assert_int_eq(tapped.tcp, 1);
  ck_assert_ptr_eq(tapped.local, (const struct sockaddr *)&local);
  ck_assert_ptr_eq(tapped.remote, (const struct sockaddr *)&remote);
  ck_assert_uint_eq(tapped.len, sizeof(pkt));
  ck_assert_int_eq(memcmp(tapped_data, pkt, sizeof(pkt)), 0);
  /* taps and tracing are independent */
  ck_assert_int_eq(tr.on, 0);
}
END_TEST

LVPN_TEST_MAIN("trace", 0, NULL, NULL, test_trace_json_checker_self_test,
               test_trace_off_calls_nothing, test_trace_fields_and_types,
               test_trace_escapes_strings,
               test_trace_long_event_is_cut_but_valid,
               test_trace_minivpn_packet_events, test_trace_tls_record_kinds,
               test_trace_redacts_tokens_and_messages,
               test_trace_data_packets_only_when_asked,
               test_trace_taps_only_their_points)
