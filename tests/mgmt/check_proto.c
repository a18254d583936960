/* mgmt/proto.c alone: OpenVPN 2.6's management replies and messages, byte
 * for byte, through a fake host that records what is sent and asked. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "mgmt/proto.h"
#include "tests/fakes.h"

static lvpn__mgmt_t s;
static int drop_after_out; /* the host drops the peer after N writes */

typedef struct {
  char out[16384];
  size_t len;
  int signum, releases, creds, keys, closes, crs, cr_rc;
  char cr[128];
  unsigned bytecount;
  char user[64], pass[64], key_pass[64];
  int ignore_signals;
} fake_t;

static void f_out(void *ud, const char *t, size_t n) {
  fake_t *f = ud;
  ck_assert_uint_lt(f->len + n, sizeof(f->out));
  memcpy(f->out + f->len, t, n);
  f->len += n;
  f->out[f->len] = '\0';
  if (drop_after_out > 0 && --drop_after_out == 0)
    lvpn__mgmt_disconnect(&s); /* as mgmt.c when the output bound is hit */
}
static int f_signal(void *ud, int sig) {
  fake_t *f = ud;
  if (f->ignore_signals)
    return -1;
  f->signum = sig;
  return 0;
}
static void f_release(void *ud) { ((fake_t *)ud)->releases++; }
static void f_creds(void *ud, const char *u, const char *p) {
  fake_t *f = ud;
  f->creds++;
  snprintf(f->user, sizeof(f->user), "%s", u);
  snprintf(f->pass, sizeof(f->pass), "%s", p);
}
static void f_key(void *ud, const char *p) {
  fake_t *f = ud;
  f->keys++;
  snprintf(f->key_pass, sizeof(f->key_pass), "%s", p);
}
static int f_cr(void *ud, const char *b64) {
  fake_t *f = ud;
  f->crs++;
  snprintf(f->cr, sizeof(f->cr), "%s", b64);
  return f->cr_rc;
}
static int f_stats(void *ud, lvpn__mgmt_stats_t *st) {
  (void)ud;
  st->tun_read = 1;
  st->tun_write = 2;
  st->link_read = 3;
  st->link_write = 4;
  st->auth_read = 5;
  return 0;
}
static void f_bytecount(void *ud, unsigned sec) { ((fake_t *)ud)->bytecount = sec; }
static void f_close(void *ud) { ((fake_t *)ud)->closes++; }

static uint32_t f_now(void *ud) {
  (void)ud;
  return 1700000000u;
}

static fake_t fk;
static lvpn__mgmt_host_t host;

static void setup_pw(const char *pw) {
  memset(&fk, 0, sizeof(fk));
  host = (lvpn__mgmt_host_t){.ud = &fk, .out = f_out, .signal = f_signal,
                             .hold_release = f_release, .credentials = f_creds,
                             .key_passphrase = f_key, .cr_response = f_cr,
                             .stats = f_stats, .bytecount = f_bytecount,
                             .close = f_close, .now = f_now, .pid = 4242,
                             .title = "layervpn test", .password = pw};
  ck_assert_int_eq(lvpn__mgmt_init(&s, &host, 3), 0);
  lvpn__mgmt_connect(&s);
}
static void setup(void) { setup_pw(NULL); }
static void teardown(void) { lvpn__mgmt_free(&s); }

/* Sends `in`, returns what came out since the last call. */
static const char *cmd(const char *in) {
  static char got[16384];
  fk.len = 0;
  fk.out[0] = '\0';
  lvpn__mgmt_input(&s, in, strlen(in));
  snprintf(got, sizeof(got), "%s", fk.out);
  return got;
}

START_TEST(test_proto_greeting_and_unknown_command) {
  ck_assert_str_eq(fk.out, ">INFO:OpenVPN Management Interface Version 5 -- "
                           "type 'help' for more info\r\n");
  ck_assert_str_eq(cmd("frobnicate\n"),
                   "ERROR: unknown command, enter 'help' for more options\r\n");
  ck_assert_str_eq(cmd("pid\r\n"), "SUCCESS: pid=4242\r\n");
  ck_assert_str_eq(cmd("version\n"), "OpenVPN Version: layervpn test\r\n"
                                     "Management Version: 5\r\nEND\r\n");
  ck_assert_str_eq(cmd("version 4\n"),
                   "SUCCESS: Management client version set to 4\r\n");
  ck_assert_str_eq(cmd("\n"), "");
}
END_TEST

START_TEST(test_proto_lines_split_across_reads) {
  ck_assert_str_eq(cmd("p"), "");
  ck_assert_str_eq(cmd("id\npi"), "SUCCESS: pid=4242\r\n");
  ck_assert_str_eq(cmd("d\n"), "SUCCESS: pid=4242\r\n");
}
END_TEST

START_TEST(test_proto_overlong_line_is_refused_once) {
  char big[3000];
  memset(big, 'a', sizeof(big) - 2);
  big[sizeof(big) - 2] = '\n';
  big[sizeof(big) - 1] = '\0';
  ck_assert_str_eq(cmd(big),
                   "ERROR: command line too long (max 1024 bytes)\r\n");
  ck_assert_str_eq(cmd("pid\n"), "SUCCESS: pid=4242\r\n");
}
END_TEST

START_TEST(test_proto_state_history_and_realtime) {
  fk.len = 0;
  lvpn__mgmt_state(&s, "CONNECTING", "", NULL, NULL, NULL, NULL, NULL, NULL);
  ck_assert_uint_eq(fk.len, 0); /* nothing sent while state is off */
  ck_assert_str_eq(cmd("state\n"), "1700000000,CONNECTING,,,,,,\r\nEND\r\n");
  ck_assert_str_eq(cmd("state on\n"),
                   "SUCCESS: real-time state notification set to ON\r\n");
  fk.len = 0;
  lvpn__mgmt_state(&s, "CONNECTED", "SUCCESS", "198.19.0.2", "198.18.0.1",
                   "1194", "198.18.0.2", "40000", NULL);
  ck_assert_str_eq(fk.out, ">STATE:1700000000,CONNECTED,SUCCESS,198.19.0.2,"
                           "198.18.0.1,1194,198.18.0.2,40000\r\n");
  ck_assert_str_eq(cmd("state all\n"),
                   "1700000000,CONNECTING,,,,,,\r\n"
                   "1700000000,CONNECTED,SUCCESS,198.19.0.2,198.18.0.1,1194,"
                   "198.18.0.2,40000\r\nEND\r\n");
  ck_assert_str_eq(cmd("state off\n"),
                   "SUCCESS: real-time state notification set to OFF\r\n");
  ck_assert_str_eq(cmd("state bogus\n"),
                   "ERROR: state parameter must be 'on' or 'off' or some "
                   "number n or 'all'\r\n");
}
END_TEST

START_TEST(test_proto_log_cache_is_bounded) {
  int i;
  char msg[16];
  for (i = 0; i < 5; i++) {
    snprintf(msg, sizeof(msg), "line %d", i);
    lvpn__mgmt_log(&s, i == 0 ? 1 : 3, msg);
  }
  /* a cache of 3 lines keeps the newest three, oldest first */
  ck_assert_str_eq(cmd("log all\n"), "1700000000,I,line 2\r\n"
                                     "1700000000,I,line 3\r\n"
                                     "1700000000,I,line 4\r\nEND\r\n");
  ck_assert_str_eq(cmd("log 1\n"), "1700000000,I,line 4\r\nEND\r\n");
  ck_assert_str_eq(cmd("log on all\n"),
                   "SUCCESS: real-time log notification set to ON\r\n"
                   "1700000000,I,line 2\r\n1700000000,I,line 3\r\n"
                   "1700000000,I,line 4\r\nEND\r\n");
  fk.len = 0;
  lvpn__mgmt_log(&s, 0, "boom");
  ck_assert_str_eq(fk.out, ">LOG:1700000000,F,boom\r\n");
  ck_assert_str_eq(cmd("log\n"),
                   "ERROR: the 'log' command requires at least 1 parameter\r\n");
}
END_TEST

START_TEST(test_proto_hold_and_release) {
  ck_assert_str_eq(cmd("hold\n"), "SUCCESS: hold=0\r\n");
  ck_assert_str_eq(cmd("hold on\n"), "SUCCESS: hold flag set to ON\r\n");
  ck_assert_str_eq(cmd("hold\n"), "SUCCESS: hold=1\r\n");
  fk.len = 0;
  lvpn__mgmt_hold(&s, 0);
  ck_assert_str_eq(fk.out, ">HOLD:Waiting for hold release:0\r\n");
  ck_assert_str_eq(cmd("hold release\n"),
                   "SUCCESS: hold release succeeded\r\n");
  ck_assert_int_eq(fk.releases, 1);
  ck_assert_str_eq(cmd("hold release\n"),
                   "SUCCESS: hold release succeeded\r\n");
  ck_assert_int_eq(fk.releases, 1); /* not holding: nothing to release */
  ck_assert_str_eq(cmd("hold sideways\n"),
                   "ERROR: bad hold command parameter\r\n");
}
END_TEST

START_TEST(test_proto_username_password_exchange) {
  ck_assert_str_eq(cmd("password Auth x\n"),
                   "ERROR: no password is currently needed at this time\r\n");
  fk.len = 0;
  lvpn__mgmt_query_userpass(&s);
  ck_assert_str_eq(fk.out, ">PASSWORD:Need 'Auth' username/password\r\n");
  ck_assert_str_eq(cmd("username 'Private Key' x\n"),
                   "ERROR: username of type 'Private Key' entered, but we "
                   "need one of type 'Auth'\r\n");
  ck_assert_str_eq(cmd("username \"Auth\" alice\n"),
                   "SUCCESS: 'Auth' username entered, but not yet verified\r\n");
  ck_assert_int_eq(fk.creds, 0);
  ck_assert_str_eq(cmd("password \"Auth\" \"a \\\"quoted\\\" pass\"\n"),
                   "SUCCESS: 'Auth' password entered, but not yet verified\r\n");
  ck_assert_int_eq(fk.creds, 1);
  ck_assert_str_eq(fk.user, "alice");
  ck_assert_str_eq(fk.pass, "a \"quoted\" pass");
  ck_assert_str_eq(cmd("password Auth\n"),
                   "ERROR: the 'password' command requires 2 parameters\r\n");
  fk.len = 0;
  lvpn__mgmt_auth_failed(&s);
  ck_assert_str_eq(fk.out, ">PASSWORD:Verification Failed: 'Auth'\r\n");
}
END_TEST

/* An encrypted private key: >PASSWORD:Need 'Private Key' password,
 * answered by `password "Private Key" p` only (no username, no other type);
 * repeated to a client connecting later; a wrong one is reported. */
START_TEST(test_proto_private_key_passphrase) {
  ck_assert_str_eq(cmd("password \"Private Key\" x\n"),
                   "ERROR: no password is currently needed at this time\r\n");
  fk.len = 0;
  lvpn__mgmt_query_key(&s);
  ck_assert_str_eq(fk.out, ">PASSWORD:Need 'Private Key' password\r\n");
  ck_assert_str_eq(cmd("username \"Private Key\" x\n"),
                   "ERROR: no username is currently needed at this time\r\n");
  ck_assert_str_eq(cmd("password Auth x\n"),
                   "ERROR: password of type 'Auth' entered, but we need one "
                   "of type 'Private Key'\r\n");
  ck_assert_int_eq(fk.keys, 0);
  lvpn__mgmt_disconnect(&s);
  fk.len = 0;
  lvpn__mgmt_connect(&s);
  ck_assert_str_eq(fk.out, ">INFO:OpenVPN Management Interface Version 5 -- "
                           "type 'help' for more info\r\n"
                           ">PASSWORD:Need 'Private Key' password\r\n");
  ck_assert_str_eq(cmd("password \"Private Key\" \"kp \\\"4711\"\n"),
                   "SUCCESS: 'Private Key' password entered, but not yet "
                   "verified\r\n");
  ck_assert_int_eq(fk.keys, 1);
  ck_assert_int_eq(fk.creds, 0);
  ck_assert_str_eq(fk.key_pass, "kp \"4711");
  /* answered: no longer pending, nor repeated */
  ck_assert_str_eq(cmd("password \"Private Key\" again\n"),
                   "ERROR: no password is currently needed at this time\r\n");
  lvpn__mgmt_disconnect(&s);
  fk.len = 0;
  lvpn__mgmt_connect(&s);
  ck_assert_ptr_null(strstr(fk.out, "Private Key"));
  fk.len = 0;
  lvpn__mgmt_key_failed(&s);
  ck_assert_str_eq(fk.out,
                   ">PASSWORD:Verification Failed: 'Private Key'\r\n");
  /* the Auth query afterwards works as before */
  fk.len = 0;
  lvpn__mgmt_query_userpass(&s);
  ck_assert_str_eq(cmd("username Auth bob\n"),
                   "SUCCESS: 'Auth' username entered, but not yet verified\r\n");
  ck_assert_str_eq(cmd("password Auth pw\n"),
                   "SUCCESS: 'Auth' password entered, but not yet verified\r\n");
  ck_assert_int_eq(fk.creds, 1);
  ck_assert_int_eq(fk.keys, 1);
}
END_TEST

/* cr-response: base64 passed on as given; anything else refused with a
 * reason, and the host's refusal (no connection) said plainly. */
START_TEST(test_proto_cr_response) {
  ck_assert_str_eq(cmd("cr-response\n"),
                   "ERROR: the 'cr-response' command requires 1 parameter\r\n");
  ck_assert_str_eq(cmd("cr-response not*base64\n"),
                   "ERROR: cr-response: the response is not base64 "
                   "(cr-response SGVsbG8=)\r\n");
  ck_assert_str_eq(cmd("cr-response =\n"),
                   "ERROR: cr-response: the response is not base64 "
                   "(cr-response SGVsbG8=)\r\n");
  ck_assert_int_eq(fk.crs, 0);
  ck_assert_str_eq(cmd("cr-response NDI0MjQy\n"),
                   "SUCCESS: command succeeded\r\n");
  ck_assert_int_eq(fk.crs, 1);
  ck_assert_str_eq(fk.cr, "NDI0MjQy");
  fk.cr_rc = LVPN_ESTATE;
  ck_assert_str_eq(cmd("cr-response NDI0MjQy\n"),
                   "ERROR: cr-response: no connection to the server to send "
                   "it on\r\n");
  ck_assert_int_eq(fk.crs, 2);
}
END_TEST

START_TEST(test_proto_pending_requests_repeat_on_connect) {
  lvpn__mgmt_hold(&s, 0);
  lvpn__mgmt_disconnect(&s);
  fk.len = 0;
  lvpn__mgmt_hold(&s, 0); /* nobody connected: nothing sent */
  ck_assert_uint_eq(fk.len, 0);
  lvpn__mgmt_connect(&s);
  ck_assert_str_eq(fk.out, ">INFO:OpenVPN Management Interface Version 5 -- "
                           "type 'help' for more info\r\n"
                           ">HOLD:Waiting for hold release:0\r\n");
}
END_TEST

/* A restart's hold carries the connect-retry pause it replaces, and a
 * management client connecting later sees the same N. */
START_TEST(test_proto_restart_hold_carries_wait) {
  fk.len = 0;
  lvpn__mgmt_hold(&s, 5);
  ck_assert_str_eq(fk.out, ">HOLD:Waiting for hold release:5\r\n");
  lvpn__mgmt_disconnect(&s);
  fk.len = 0;
  lvpn__mgmt_connect(&s);
  ck_assert_str_eq(fk.out, ">INFO:OpenVPN Management Interface Version 5 -- "
                           "type 'help' for more info\r\n"
                           ">HOLD:Waiting for hold release:5\r\n");
  ck_assert_str_eq(cmd("hold release\n"),
                   "SUCCESS: hold release succeeded\r\n");
  ck_assert_int_eq(fk.releases, 1);
}
END_TEST

/* Challenges, as OpenVPN 2.6's management-notes.txt: the static one in the
 * query (repeated to a client connecting later), the dynamic one in the
 * failure; the password reply is passed on as packed by the GUI. */
START_TEST(test_proto_challenges) {
  fk.len = 0;
  lvpn__mgmt_query_userpass_sc(&s, "Enter PIN, please", true);
  ck_assert_str_eq(fk.out, ">PASSWORD:Need 'Auth' username/password "
                           "SC:1,Enter PIN, please\r\n");
  fk.len = 0;
  lvpn__mgmt_disconnect(&s);
  lvpn__mgmt_connect(&s);
  ck_assert_str_eq(fk.out, ">INFO:OpenVPN Management Interface Version 5 -- "
                           "type 'help' for more info\r\n"
                           ">PASSWORD:Need 'Auth' username/password "
                           "SC:1,Enter PIN, please\r\n");
  cmd("username Auth bob\n");
  ck_assert_str_eq(cmd("password Auth SCRV1:cGFzcw==:MTIzNA==\n"),
                   "SUCCESS: 'Auth' password entered, but not yet verified\r\n");
  ck_assert_int_eq(fk.creds, 1);
  ck_assert_str_eq(fk.pass, "SCRV1:cGFzcw==:MTIzNA==");
  fk.len = 0;
  lvpn__mgmt_query_userpass_sc(&s, "PIN", false);
  ck_assert_str_eq(fk.out,
                   ">PASSWORD:Need 'Auth' username/password SC:0,PIN\r\n");
  cmd("username Auth bob\npassword Auth x\n");
  fk.len = 0;
  lvpn__mgmt_auth_failed_crv1(&s, "CRV1:R,E:Om01u7Fh:Y3Ix:Please enter PIN");
  ck_assert_str_eq(fk.out, ">PASSWORD:Verification Failed: 'Auth' "
                           "['CRV1:R,E:Om01u7Fh:Y3Ix:Please enter PIN']\r\n");
  fk.len = 0;
  lvpn__mgmt_query_userpass(&s); /* the next query: plain again */
  ck_assert_str_eq(fk.out, ">PASSWORD:Need 'Auth' username/password\r\n");
  cmd("username Auth cr1\n");
  cmd("password Auth CRV1::Om01u7Fh::8675309\n");
  ck_assert_int_eq(fk.creds, 3);
  ck_assert_str_eq(fk.user, "cr1");
  ck_assert_str_eq(fk.pass, "CRV1::Om01u7Fh::8675309");
}
END_TEST

START_TEST(test_proto_signal_bytecount_status_exit) {
  ck_assert_str_eq(cmd("signal SIGUSR1\n"), "SUCCESS: signal SIGUSR1 thrown\r\n");
  ck_assert_int_eq(fk.signum, SIGUSR1);
  ck_assert_str_eq(cmd("signal SIGKILL\n"),
                   "ERROR: signal 'SIGKILL' is not a known signal type\r\n");
  fk.ignore_signals = 1;
  ck_assert_str_eq(cmd("signal SIGHUP\n"),
                   "ERROR: signal 'SIGHUP' is currently ignored\r\n");
  ck_assert_str_eq(cmd("bytecount 5\n"),
                   "SUCCESS: bytecount interval changed\r\n");
  ck_assert_uint_eq(fk.bytecount, 5);
  fk.len = 0;
  lvpn__mgmt_bytecount(&s, 123, 456);
  ck_assert_str_eq(fk.out, ">BYTECOUNT:123,456\r\n");
  lvpn__mgmt_disconnect(&s); /* bytecount stops with the connection */
  ck_assert_uint_eq(fk.bytecount, 0);
  lvpn__mgmt_connect(&s);
  ck_assert(strstr(cmd("status\n"), "TUN/TAP read bytes,1\r\n"
                                    "TUN/TAP write bytes,2\r\n"
                                    "TCP/UDP read bytes,3\r\n"
                                    "TCP/UDP write bytes,4\r\n"
                                    "Auth read bytes,5\r\nEND\r\n") != NULL);
  ck_assert(strncmp(cmd("status 3\n"), "OpenVPN STATISTICS\r\nUpdated\t", 28) ==
            0);
  ck_assert_int_eq(lvpn__mgmt_input(&s, "quit\n", 5), 1);
  ck_assert_int_eq(lvpn__mgmt_input(&s, "exit\n", 5), 1);
  ck_assert(strstr(cmd("help\n"), "signal s               : Send signal s to "
                                  "daemon,\r\n") != NULL);
}
END_TEST

START_TEST(test_proto_management_password) {
  teardown();
  setup_pw("sesame");
  ck_assert_str_eq(fk.out, "ENTER PASSWORD:");
  ck_assert_str_eq(cmd("pid\n"), "ERROR: bad password\r\nENTER PASSWORD:");
  ck_assert_str_eq(cmd("sesame\n"),
                   "SUCCESS: password is correct\r\n"
                   ">INFO:OpenVPN Management Interface Version 5 -- type "
                   "'help' for more info\r\n");
  ck_assert_str_eq(cmd("pid\n"), "SUCCESS: pid=4242\r\n");
  lvpn__mgmt_disconnect(&s);
  lvpn__mgmt_connect(&s);
  cmd("a\n");
  cmd("b\n");
  ck_assert_int_eq(lvpn__mgmt_input(&s, "c\n", 2), 1); /* third try closes */
}
END_TEST

/* ---- the management options (lib/config_mgmt.c) ---- */

static int set(lvpn_config_t *c, const char *name, const char *a0,
               const char *a1, const char *a2, char *err, size_t len) {
  const char *args[4] = {a0, a1, a2, NULL};
  return lvpn_config_set(c, name, args, err, len);
}

START_TEST(test_proto_options) {
  lvpn_config_t *c;
  char err[256], pw[] = "/tmp/lvpn-mgmt-pw-XXXXXX";
  int fd = mkstemp(pw);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "sesame\nsecond line\n", 19), 19);
  close(fd);
  ck_assert_int_eq(lvpn_config_new(&c), 0);
  ck_assert_ptr_null(c->mgmt_addr);
  ck_assert_int_eq(c->mgmt_log_cache, 1000);
  ck_assert_int_eq(set(c, "management", "127.0.0.1", "7505", pw, err,
                       sizeof(err)), 0);
  ck_assert_str_eq(c->mgmt_addr, "127.0.0.1");
  ck_assert_int_eq(c->mgmt_port, 7505);
  ck_assert_str_eq(c->mgmt_password, "sesame");
  ck_assert(!c->mgmt_unix);
  ck_assert_int_eq(set(c, "management", "/run/x.sock", "unix", NULL, err,
                       sizeof(err)), 0);
  ck_assert(c->mgmt_unix);
  ck_assert_str_eq(c->mgmt_addr, "/run/x.sock");
  ck_assert_int_eq(set(c, "management-hold", NULL, NULL, NULL, err,
                       sizeof(err)), 0);
  ck_assert(c->mgmt_hold);
  ck_assert_int_eq(set(c, "management-log-cache", "50", NULL, NULL, err,
                       sizeof(err)), 0);
  ck_assert_int_eq(c->mgmt_log_cache, 50);
  ck_assert_int_eq(set(c, "management-up-down", NULL, NULL, NULL, err,
                       sizeof(err)), 0);
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert(strstr(c->warnings[0], "has no effect yet") != NULL);
  ck_assert_int_ne(set(c, "management", "127.0.0.1", NULL, NULL, err,
                       sizeof(err)), 0);
  ck_assert_int_ne(set(c, "management", "127.0.0.1", "99999", NULL, err,
                       sizeof(err)), 0);
  ck_assert_int_eq(set(c, "management-client-auth", NULL, NULL, NULL, err,
                       sizeof(err)), LVPN_EUNSUPPORTED);
  ck_assert(strstr(err, "is a server option") != NULL);
  ck_assert_int_eq(set(c, "management-client-user", "root", NULL, NULL, err,
                       sizeof(err)), 0);
  ck_assert_int_eq(c->mgmt_client_uid, 0);
  ck_assert_int_eq(set(c, "management-client-group", "root", NULL, NULL, err,
                       sizeof(err)), 0);
  ck_assert_int_eq(c->mgmt_client_gid, 0);
  ck_assert_int_eq(set(c, "management-client-user", "no-such-user-lvpn",
                       NULL, NULL, err, sizeof(err)), LVPN_ECONFIG);
  ck_assert(strstr(err, "no user 'no-such-user-lvpn'") != NULL);
  lvpn_config_free(c);
  unlink(pw);
}
END_TEST

/* The host drops a peer that does not read in the middle of a read full of
 * commands: the rest of that read is not interpreted. */
START_TEST(test_proto_dropped_mid_input_stops) {
  drop_after_out = 2;
  ck_assert_int_eq(lvpn__mgmt_input(&s, "pid\npid\npid\npid\n", 16), 1);
  drop_after_out = 0;
  ck_assert_str_eq(fk.out + strlen(fk.out) - 38,
                   "SUCCESS: pid=4242\r\nSUCCESS: pid=4242\r\n");
  ck_assert_int_eq(lvpn__mgmt_input(&s, "pid\n", 4), 1);
}
END_TEST

/* The reason texts of RECONNECTING and EXITING, as OpenVPN's signals
 * name them. */
START_TEST(test_proto_state_reasons) {
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_EPING_RESTART), "ping-restart");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_EPING_EXIT), "ping-exit");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_EINACTIVE), "inactive");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_ESESSION_TIMEOUT),
                   "session-timeout");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_ERESTART),
                   "server-pushed-connection-reset");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_EHALT), "server-pushed-halt");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_EEXIT_NOTIFY),
                   "exit-with-notification");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_EAUTH_FAILED), "auth-failure");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_EHANDSHAKE_TIMEOUT), "tls-error");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_EHANDSHAKE_STALL), "tls-error");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_ECONNRESET), "connection-reset");
  ck_assert_str_eq(lvpn__mgmt_reason(UV_ECONNREFUSED), "connection-reset");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_ESTOPPED), "SIGTERM");
  ck_assert_str_eq(lvpn__mgmt_reason(0), "");
  ck_assert_str_eq(lvpn__mgmt_reason(LVPN_ETLS), "SIGUSR1");
}
END_TEST

LVPN_TEST_MAIN("mgmt_proto", 0, setup, teardown,
               test_proto_state_reasons,
               test_proto_greeting_and_unknown_command,
               test_proto_lines_split_across_reads,
               test_proto_overlong_line_is_refused_once,
               test_proto_state_history_and_realtime,
               test_proto_log_cache_is_bounded,
               test_proto_hold_and_release,
               test_proto_username_password_exchange,
               test_proto_private_key_passphrase,
               test_proto_cr_response,
               test_proto_pending_requests_repeat_on_connect,
               test_proto_restart_hold_carries_wait,
               test_proto_challenges,
               test_proto_signal_bytecount_status_exit,
               test_proto_management_password,
               test_proto_options,
               test_proto_dropped_mid_input_stops)
