/* cmd/ladder.c: trace lines become ladder rows (packets both ways, ACKs,
 * retransmissions, drops, messages inside TLS, notes); lines that are not
 * trace events are skipped; the text, SVG and HTML outputs draw them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ladder.h"
#include "tests/fakes.h"

static const char trace[] =
    "{\"t\":0.001,\"layer\":\"client\",\"operation\":\"attempt\","
    "\"remote\":\"198.18.0.1\",\"port\":1194,\"proto\":\"udp\"}\n"
    "not json\n"
    "{\"t\":0.002,\"layer\":\"nowhere\",\"operation\":\"x\"}\n"
    "{\"t\":0.003,\"layer\":\"reliabletransport\",\"operation\":\"packet_out\","
    "\"stage\":\"PRE_START\",\"packet\":{\"operation\":\"write\",\"opcode\":"
    "\"P_CONTROL_HARD_RESET_CLIENT_V2\",\"key_id\":0,\"id\":0,\"acks\":null,"
    "\"payload_size\":0,\"send_attempts\":1},\"tags\":[],"
    "\"transaction_id\":1}\n"
    "{\"t\":0.004,\"layer\":\"reliabletransport\",\"operation\":\"packet_in\","
    "\"stage\":\"PRE_START\",\"packet\":{\"operation\":\"read\",\"opcode\":"
    "\"P_CONTROL_V1\",\"key_id\":0,\"id\":1,\"acks\":[0],"
    "\"payload_size\":1140,\"send_attempts\":null},\"tags\":[\"server_hello\"],"
    "\"transaction_id\":1,\"tls_records\":[\"handshake:server_hello\"]}\n"
    "{\"t\":0.005,\"layer\":\"reliabletransport\",\"operation\":\"packet_out\","
    "\"stage\":\"START\",\"packet\":{\"operation\":\"write\",\"opcode\":"
    "\"P_CONTROL_V1\",\"key_id\":0,\"id\":2,\"acks\":[1],"
    "\"payload_size\":9,\"send_attempts\":3},\"tags\":[],"
    "\"transaction_id\":1,\"reason\":\"timeout\"}\n"
    "{\"t\":0.006,\"layer\":\"reliabletransport\",\"operation\":"
    "\"packet_dropped\",\"stage\":\"START\",\"packet\":{\"operation\":\"read\","
    "\"opcode\":\"P_CONTROL_V1\",\"key_id\":0,\"id\":1,\"acks\":null,"
    "\"payload_size\":9,\"send_attempts\":null},\"tags\":[],"
    "\"transaction_id\":1,\"reason\":\"duplicate\"}\n"
    "{\"t\":0.007,\"layer\":\"tlssession\",\"operation\":\"state\","
    "\"stage\":\"GOT_KEY\",\"packet\":null,\"tags\":[],\"transaction_id\":1}\n"
    "{\"t\":0.008,\"layer\":\"tlssession\",\"operation\":\"control_out\","
    "\"message\":\"PUSH_REQUEST\",\"bytes\":12}\n"
    "{\"t\":0.009,\"layer\":\"tlssession\",\"operation\":\"control_in\","
    "\"message\":\"PUSH_REPLY\",\"options\":\"route-gateway 198.19.0.1,"
    "cipher AES-256-GCM\"}\n"
    "{\"t\":0.010,\"layer\":\"tlssession\",\"operation\":\"control_in\",\"mes";

static char *render(const ladder_t *l, int what) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ck_assert_ptr_nonnull(f);
  if (what == 0)
    ladder_print_text(l, f, "t");
  else if (what == 1)
    ladder_print_svg(l, f);
  else
    ladder_print_html(l, f, "t<&>");
  fclose(f);
  return buf;
}

START_TEST(test_ladder_rows_from_trace) {
  FILE *f = fmemopen((void *)trace, sizeof(trace) - 1, "r");
  ladder_t l;
  char err[128];
  ck_assert_int_eq(ladder_read(&l, f, err, sizeof(err)), 0);
  fclose(f);
  ck_assert_uint_eq(l.bad_lines, 3); /* not JSON, unknown layer, cut */
  ck_assert_uint_eq(l.n_events, 8);
  ck_assert_uint_eq(l.n_rows, 8);
  ck_assert_int_eq(l.rows[0].kind, LADDER_NOTE);
  ck_assert_int_eq(l.rows[1].kind, LADDER_OUT);
  ck_assert_str_eq(l.rows[1].label, "CONTROL_HARD_RESET_CLIENT_V2 k0 #0");
  ck_assert_int_eq(l.rows[2].kind, LADDER_IN);
  ck_assert_str_eq(l.rows[2].label, "CONTROL_V1 k0 #1 ack0 [server_hello]");
  ck_assert_int_eq(l.rows[3].retransmit, 1);
  ck_assert_str_eq(l.rows[3].label,
                   "CONTROL_V1 k0 #2 ack1 9B RETRANSMIT 3 timeout");
  ck_assert_int_eq(l.rows[4].kind, LADDER_DROP);
  ck_assert_str_eq(l.rows[4].label, "CONTROL_V1 k0 #1 9B DROPPED: duplicate");
  ck_assert_str_eq(l.rows[5].label, "state GOT_KEY");
  ck_assert_int_eq(l.rows[6].kind, LADDER_MSG_OUT);
  ck_assert_str_eq(l.rows[6].label, "PUSH_REQUEST");
  ck_assert_int_eq(l.rows[7].kind, LADDER_MSG_IN);
  ck_assert_str_eq(l.rows[7].detail,
                   "PUSH_REPLY,route-gateway 198.19.0.1,cipher AES-256-GCM");
  ladder_free(&l);
}
END_TEST

START_TEST(test_ladder_outputs) {
  FILE *f = fmemopen((void *)trace, sizeof(trace) - 1, "r");
  ladder_t l;
  char err[128], *s;
  ck_assert_int_eq(ladder_read(&l, f, err, sizeof(err)), 0);
  fclose(f);
  s = render(&l, 0);
  ck_assert_ptr_nonnull(strstr(s, "|<-"));
  ck_assert_ptr_nonnull(strstr(s, " CONTROL_HARD_RESET_CLIENT_V2 k0 #0 "));
  ck_assert_ptr_nonnull(strstr(s, "->|\n"));
  ck_assert_ptr_nonnull(strstr(s, "|X"));
  ck_assert_ptr_nonnull(strstr(s, " PUSH_REQUEST ===="));
  ck_assert_ptr_nonnull(strstr(s, "|<===="));
  ck_assert_ptr_nonnull(strstr(s, "|  PUSH_REPLY,route-gateway 198.19.0.1,"));
  ck_assert_ptr_nonnull(strstr(s, "(3 lines skipped"));
  free(s);
  s = render(&l, 1);
  ck_assert_ptr_eq(strstr(s, "<svg"), s);
  ck_assert_ptr_nonnull(strstr(s, "PUSH_REQUEST</text>"));
  free(s);
  s = render(&l, 2);
  ck_assert_ptr_nonnull(strstr(s, "<title>layervpn trace: t&lt;&amp;&gt;"));
  ck_assert_ptr_null(strstr(s, "<script"));
  ck_assert_ptr_nonnull(strstr(s, "class=\"timeline\""));
  free(s);
  ladder_free(&l);
}
END_TEST

START_TEST(test_ladder_no_events_is_an_error) {
  static const char junk[] = "hello\n{\"a\":1}\n";
  FILE *f = fmemopen((void *)junk, sizeof(junk) - 1, "r");
  ladder_t l;
  char err[128];
  ck_assert_int_eq(ladder_read(&l, f, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "no trace events"));
  fclose(f);
  ladder_free(&l);
}
END_TEST

LVPN_TEST_MAIN("ladder", 0, NULL, NULL, test_ladder_rows_from_trace,
               test_ladder_outputs, test_ladder_no_events_is_an_error)
