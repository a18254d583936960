/* layers/keymethod: key-method 2, OCC string, peer-info, control messages. */
#include <stdlib.h>
#include <string.h>

#include "layers/tlssession/keymethod.h"
#include "layervpn.h"
#include "tests/fakes.h"

static void fixed_client(lvpn__km2_client_t *m) {
  int i;

  memset(m, 0, sizeof(*m));
  for (i = 0; i < 48; i++)
    m->pre_master[i] = (uint8_t)i;
  for (i = 0; i < 32; i++) {
    m->random1[i] = (uint8_t)(0x40 + i);
    m->random2[i] = (uint8_t)(0x80 + i);
  }
}

START_TEST(test_keymethod_build_exact_bytes) {
  static const uint8_t expect[] = {
      0x00, 0x00, 0x00, 0x00, 0x02, /* literal zero, KEY_METHOD_2 */
      /* pre_master */
      0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
      0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
      0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
      0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
      /* random1 */
      0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b,
      0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
      0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
      /* random2 */
      0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
      0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
      0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
      /* options "V4,x" */
      0x00, 0x05, 'V', '4', ',', 'x', 0x00,
      /* username "u" */
      0x00, 0x02, 'u', 0x00,
      /* password "pw" */
      0x00, 0x03, 'p', 'w', 0x00,
      /* peer-info "IV_VER=1\n" */
      0x00, 0x0a, 'I', 'V', '_', 'V', 'E', 'R', '=', '1', '\n', 0x00};
  lvpn__km2_client_t m;
  uint8_t out[LVPN__KM2_MAX_LEN];
  size_t len = 99;

  fixed_client(&m);
  m.options = "V4,x";
  m.username = "u";
  m.password = "pw";
  m.peer_info = "IV_VER=1\n";
  ck_assert_int_eq(lvpn__km2_build(out, sizeof(out), &len, &m), 0);
  ck_assert_uint_eq(len, sizeof(expect));
  ck_assert_uint_eq(len, 145);
  ck_assert_int_eq(memcmp(out, expect, len), 0);
  lvpn__km2_client_wipe(&m);
  ck_assert_uint_eq(m.pre_master[47], 0);
  ck_assert_ptr_null(m.options);
}
END_TEST

START_TEST(test_keymethod_build_without_credentials) {
  lvpn__km2_client_t m;
  uint8_t out[256];
  size_t len;

  fixed_client(&m);
  m.options = "V4";
  ck_assert_int_eq(lvpn__km2_build(out, sizeof(out), &len, &m), 0);
  /* 117 fixed + 00 03 "V4\0" + 00 00 ×3 */
  ck_assert_uint_eq(len, 117 + 5 + 6);
  ck_assert_int_eq(
      memcmp(out + 117, "\x00\x03V4\x00\x00\x00\x00\x00\x00\x00", 11), 0);
  /* "" is not NULL: 00 01 00 (what OpenVPN sends for an empty password) */
  m.username = "me";
  m.password = "";
  ck_assert_int_eq(lvpn__km2_build(out, sizeof(out), &len, &m), 0);
  ck_assert_uint_eq(len, 117 + 5 + 5 + 3 + 2);
  ck_assert_int_eq(memcmp(out + 122, "\x00\x03me\x00\x00\x01\x00\x00\x00", 10),
                   0);
}
END_TEST

START_TEST(test_keymethod_build_too_big) {
  static char big[2100], opts[600];
  lvpn__km2_client_t m;
  uint8_t out[4096];
  size_t len = 7;

  fixed_client(&m);
  memset(big, 'a', sizeof(big) - 1);
  memset(opts, 'o', sizeof(opts) - 1);
  m.options = "V4";
  m.peer_info = big; /* message over 2048 bytes */
  ck_assert_int_eq(lvpn__km2_build(out, sizeof(out), &len, &m), LVPN_ETOOBIG);
  ck_assert_uint_eq(len, 0);
  m.peer_info = NULL;
  m.options = opts; /* options over TLS_OPTIONS_LEN */
  ck_assert_int_eq(lvpn__km2_build(out, sizeof(out), &len, &m), LVPN_ETOOBIG);
  m.options = "V4";
  ck_assert_int_eq(lvpn__km2_build(out, 100, &len, &m), LVPN_ETOOBIG);
  ck_assert_int_eq(lvpn__km2_build(out, 128, &len, &m), 0);
  ck_assert_uint_eq(len, 128);
  ck_assert_int_eq(lvpn__km2_build(out, 127, &len, &m), LVPN_ETOOBIG);
  m.options = NULL;
  ck_assert_int_eq(lvpn__km2_build(out, sizeof(out), &len, &m), LVPN_EINVAL);
}
END_TEST

static int counting_rng(void *ctx, unsigned char *buf, size_t len) {
  int *n = ctx;
  memset(buf, 0xA5 + *n, len);
  (*n)++;
  return 0;
}

static int failing_rng(void *ctx, unsigned char *buf, size_t len) {
  (void)ctx;
  (void)buf;
  (void)len;
  return -1;
}

START_TEST(test_keymethod_randomize) {
  lvpn__km2_client_t m;
  int n = 0;

  memset(&m, 0, sizeof(m));
  ck_assert_int_eq(lvpn__km2_client_randomize(&m, counting_rng, &n), 0);
  ck_assert_int_eq(n, 3);
  ck_assert_uint_eq(m.pre_master[0], 0xA5);
  ck_assert_uint_eq(m.random1[31], 0xA6);
  ck_assert_uint_eq(m.random2[0], 0xA7);
  ck_assert_int_eq(lvpn__km2_client_randomize(&m, failing_rng, NULL),
                   LVPN_ECRYPTO);
  ck_assert_uint_eq(m.pre_master[0], 0);
}
END_TEST

/* A server reply: 0, 2, random1, random2, options, then `tail`. */
static size_t server_msg(uint8_t *out, const char *opts, int tail) {
  size_t n = 0, ol = strlen(opts) + 1;
  int i;

  memset(out, 0, 5);
  out[4] = 0x02;
  n = 5;
  for (i = 0; i < 32; i++)
    out[n++] = (uint8_t)(0x10 + i);
  for (i = 0; i < 32; i++)
    out[n++] = (uint8_t)(0xE0 + i);
  out[n++] = (uint8_t)(ol >> 8);
  out[n++] = (uint8_t)ol;
  memcpy(out + n, opts, ol);
  n += ol;
  if (tail) {
    memset(out + n, 0, 6);
    n += 6;
  }
  return n;
}

static const char server_opts[] =
    "V4,dev-type tun,link-mtu 1541,tun-mtu 1500,proto UDPv4,auth SHA1,"
    "keysize 128,key-method 2,tls-server";

START_TEST(test_keymethod_parse_server) {
  uint8_t msg[600];
  lvpn__km2_server_t s;
  size_t n;
  int tail;

  for (tail = 1; tail >= 0; tail--) {
    n = server_msg(msg, server_opts, tail);
    ck_assert_uint_eq(n, 71 + sizeof(server_opts) + (tail ? 6 : 0));
    ck_assert_int_eq(lvpn__km2_parse_server(msg, n, &s), 0);
    ck_assert_uint_eq(s.random1[0], 0x10);
    ck_assert_uint_eq(s.random1[31], 0x2F);
    ck_assert_uint_eq(s.random2[0], 0xE0);
    ck_assert_uint_eq(s.random2[31], 0xFF);
    ck_assert_str_eq(s.options, server_opts);
  }
  /* flags in the high nibble of the method byte are allowed */
  msg[4] = 0x12;
  ck_assert_int_eq(lvpn__km2_parse_server(msg, n, &s), 0);
}
END_TEST

START_TEST(test_keymethod_parse_server_bad) {
  uint8_t msg[800];
  lvpn__km2_server_t s;
  size_t n = server_msg(msg, "V4", 1);

  msg[2] = 1;
  ck_assert_int_eq(lvpn__km2_parse_server(msg, n, &s), LVPN_EPROTO);
  msg[2] = 0;
  msg[4] = 0x01; /* key method 1 */
  ck_assert_int_eq(lvpn__km2_parse_server(msg, n, &s), LVPN_EPROTO);
  msg[4] = 0x02;
  /* options length over TLS_OPTIONS_LEN */
  memset(msg + 71, 'x', 600);
  msg[69] = 0x02;
  msg[70] = 0x58; /* 600 */
  ck_assert_int_eq(lvpn__km2_parse_server(msg, 71 + 600, &s), LVPN_EPROTO);
  /* empty options (00 00) is accepted */
  msg[69] = 0;
  msg[70] = 0;
  ck_assert_int_eq(lvpn__km2_parse_server(msg, 71, &s), 0);
  ck_assert_str_eq(s.options, "");
}
END_TEST

START_TEST(test_keymethod_parse_server_truncated_everywhere) {
  uint8_t full[600], *copy;
  lvpn__km2_server_t s;
  size_t n = server_msg(full, server_opts, 1), cut;
  size_t opts_end = 71 + sizeof(server_opts);
  int rc;

  for (cut = 0; cut <= n; cut++) {
    copy = malloc(cut ? cut : 1); /* exact size: ASan sees any overread */
    memcpy(copy, full, cut);
    rc = lvpn__km2_parse_server(copy, cut, &s);
    if (cut < opts_end)
      ck_assert_int_eq(rc, LVPN_ESHORT);
    else
      ck_assert_int_eq(rc, 0); /* the tail is optional */
    free(copy);
  }
}
END_TEST

START_TEST(test_keymethod_options_string) {
  lvpn__km2_opts_t o;
  char out[LVPN__KM2_OPTIONS_LEN];

  memset(&o, 0, sizeof(o));
  o.link_mtu = 1541;
  o.tun_mtu = 1500;
  o.keysize = 128;
  ck_assert_int_eq(lvpn__km2_options_string(out, sizeof(out), &o), 0);
  ck_assert_str_eq(out, "V4,dev-type tun,link-mtu 1541,tun-mtu 1500,proto "
                        "UDPv4,auth SHA1,keysize 128,key-method 2,tls-client");
  o.tcp = 1;
  o.tls_auth = 1;
  o.has_key_direction = 1;
  o.key_direction = 1;
  o.cipher = "AES-256-GCM";
  o.auth = "[null-digest]";
  o.keysize = 256;
  o.comp_lzo = 1;
  o.link_mtu = 1559;
  ck_assert_int_eq(lvpn__km2_options_string(out, sizeof(out), &o), 0);
  ck_assert_str_eq(out, "V4,dev-type tun,link-mtu 1559,tun-mtu 1500,proto "
                        "TCPv4_CLIENT,comp-lzo,keydir 1,cipher AES-256-GCM,"
                        "auth [null-digest],keysize 256,tls-auth,key-method "
                        "2,tls-client");
  ck_assert_int_eq(lvpn__km2_options_string(out, 40, &o), LVPN_ETOOBIG);
  ck_assert_str_eq(out, "");
  /* fragment: OpenVPN 2.6 still says "mtu-dynamic" after comp-lzo */
  o.fragment = 1;
  o.tcp = 0;
  ck_assert_int_eq(lvpn__km2_options_string(out, sizeof(out), &o), 0);
  ck_assert_str_eq(out, "V4,dev-type tun,link-mtu 1559,tun-mtu 1500,proto "
                        "UDPv4,comp-lzo,mtu-dynamic,keydir 1,cipher "
                        "AES-256-GCM,auth [null-digest],keysize 256,tls-auth,"
                        "key-method 2,tls-client");
}
END_TEST

/* The peer-info lines every full case starts with. */
#define PI_BASE                                                                \
  "IV_VER=0.1.0\nIV_PLAT=linux\nIV_TCPNL=1\nIV_MTU=1600\nIV_NCP=2\n"           \
  "IV_CIPHERS=AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305\nIV_PROTO=142\n"

/* lvpn__peer_info_build() on *o gives exactly `want`. */
static void peer_info_is(const lvpn__peer_info_opts_t *o, const char *want) {
  char out[1024];
  ck_assert_int_eq(lvpn__peer_info_build(out, sizeof(out), o), 0);
  ck_assert_str_eq(out, want);
}

START_TEST(test_keymethod_peer_info) {
  lvpn__peer_info_opts_t o;

  memset(&o, 0, sizeof(o));
  o.version = "0.1.0";
  o.mtu = 1600;
  o.ciphers = "AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305";
  o.proto = LVPN__IV_PROTO_DATA_V2 | LVPN__IV_PROTO_REQUEST_PUSH |
            LVPN__IV_PROTO_TLS_KEY_EXPORT | LVPN__IV_PROTO_CC_EXIT_NOTIFY;
  ck_assert_uint_eq(o.proto, 142);
  peer_info_is(&o, PI_BASE);
  o.comp_stubs = 1;
  peer_info_is(&o, PI_BASE "IV_LZO_STUB=1\nIV_COMP_STUB=1\nIV_COMP_STUBv2=1\n");
  /* real compression announced as OpenVPN 2.6 built with LZ4 and LZO does */
  o.comp_real = 1;
  peer_info_is(&o, PI_BASE "IV_LZ4=1\nIV_LZ4v2=1\nIV_LZO=1\n"
                           "IV_COMP_STUB=1\nIV_COMP_STUBv2=1\n");
  o.comp_real = 0;
  /* no IV_NCP=2 without both GCM ciphers; IV_MTU omitted when 0 */
  o.comp_stubs = 0;
  o.mtu = 0;
  o.ciphers = "AES-256-GCM:CHACHA20-POLY1305";
  o.proto = 990;
  peer_info_is(&o, "IV_VER=0.1.0\nIV_PLAT=linux\nIV_TCPNL=1\n"
                   "IV_CIPHERS=AES-256-GCM:CHACHA20-POLY1305\n"
                   "IV_PROTO=990\n");
}
END_TEST

/* push-peer-info: OpenVPN's extended fields after the standard ones, then
 * the setenv lines the client picked; a line with a newline is not sent. */
START_TEST(test_keymethod_peer_info_extended) {
  lvpn__peer_info_opts_t o;
  const char *env[] = {"UV_SITE=lab", "IV_GUI_VER=gui 1.0", "UV_BAD=a\nb"};

  memset(&o, 0, sizeof(o));
  o.version = "0.1.0";
  o.mtu = 1600;
  o.ciphers = "AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305";
  o.proto = 142;
  o.env = env;
  o.n_env = 3;
  peer_info_is(&o, PI_BASE "UV_SITE=lab\nIV_GUI_VER=gui 1.0\n");
  o.extended = 1;
  o.hwaddr = "02:00:00:00:00:01";
  o.ssl_version = "mbed TLS 2.28.3";
  o.plat_version = "6.1.0";
  peer_info_is(&o, PI_BASE "IV_HWADDR=02:00:00:00:00:01\n"
                           "IV_SSL=mbed TLS 2.28.3\nIV_PLAT_VER=6.1.0\n"
                           "UV_SITE=lab\nIV_GUI_VER=gui 1.0\n");
  o.hwaddr = NULL; /* no default route: no IV_HWADDR */
  o.n_env = 0;
  peer_info_is(&o, PI_BASE "IV_SSL=mbed TLS 2.28.3\nIV_PLAT_VER=6.1.0\n");
}
END_TEST

START_TEST(test_keymethod_peer_info_rejects) {
  lvpn__peer_info_opts_t o;
  char out[1024], ciphers[200];

  memset(&o, 0, sizeof(o));
  o.version = "1";
  o.ciphers = "AES-256-GCM";
  o.proto = 4; /* REQUEST_PUSH without DATA_V2 */
  ck_assert_int_eq(lvpn__peer_info_build(out, sizeof(out), &o), LVPN_EINVAL);
  o.proto = 3; /* reserved bit 0 */
  ck_assert_int_eq(lvpn__peer_info_build(out, sizeof(out), &o), LVPN_EINVAL);
  o.proto = 2;
  o.version = "1\nIV_PROTO=990";
  ck_assert_int_eq(lvpn__peer_info_build(out, sizeof(out), &o), LVPN_EINVAL);
  o.version = "1";
  memset(ciphers, 'A', 128);
  ciphers[128] = '\0';
  o.ciphers = ciphers;
  ck_assert_int_eq(lvpn__peer_info_build(out, sizeof(out), &o), LVPN_ECONFIG);
  ciphers[127] = '\0'; /* exactly 127: fine */
  ck_assert_int_eq(lvpn__peer_info_build(out, sizeof(out), &o), 0);
  ck_assert_int_eq(lvpn__peer_info_build(out, 20, &o), LVPN_ETOOBIG);
  ck_assert_str_eq(out, "");
}
END_TEST

typedef struct {
  int n;
  char msgs[8][64];
} msgs_t;

static void collect(void *ud, const char *msg, size_t len) {
  msgs_t *m = ud;
  ck_assert_uint_eq(strlen(msg), len);
  if (m->n < 8)
    snprintf(m->msgs[m->n], sizeof(m->msgs[0]), "%s", msg);
  m->n++;
}

static int split(const char *data, size_t len, msgs_t *m) {
  uint8_t *copy = malloc(len ? len : 1);
  int rc;

  memcpy(copy, data, len);
  memset(m, 0, sizeof(*m));
  rc = lvpn__ctlmsg_split(copy, len, collect, m);
  free(copy);
  return rc;
}

START_TEST(test_keymethod_ctlmsg_split) {
  static const struct {
    const char *data;
    size_t len;
    int rc, n;               /* rejected messages, delivered messages */
    const char *msg0, *msg1; /* the first two delivered (NULL: unchecked) */
  } cases[] = {
      {"PUSH_REQUEST", 13, 0, 1, "PUSH_REQUEST", NULL},
      /* two messages in one record, CR/LF stripped, empty ones skipped */
      {"PUSH_REPLY,ping 10\0\0AUTH_FAILED\r\n\0\r\n", 37, 0, 2,
       "PUSH_REPLY,ping 10", "AUTH_FAILED"},
      /* non-printable: rejected, the others still delivered */
      {"BAD\x01X\0OK\0TAB\there\0DEL\x7f\0", 23, 3, 1, "OK", NULL},
      /* a newline inside a message is not "trailing" */
      {"A\nB\0", 4, 1, 0, NULL, NULL},
      /* UTF-8 passes, as in OpenVPN */
      {"INFO,caf\xc3\xa9", 11, 0, 1, NULL, NULL},
      /* unterminated tail */
      {"HALT\0RESTART", 12, 1, 1, "HALT", NULL},
      {"", 0, 0, 0, NULL, NULL},
      {"\0\0\0", 3, 0, 0, NULL, NULL},
  };
  msgs_t m;
  size_t i;

  for (i = 0; i < FAKE_COUNT(cases); i++) {
    ck_assert_msg(split(cases[i].data, cases[i].len, &m) == cases[i].rc,
                  "case %zu", i);
    ck_assert_int_eq(m.n, cases[i].n);
    if (cases[i].msg0 != NULL)
      ck_assert_str_eq(m.msgs[0], cases[i].msg0);
    if (cases[i].msg1 != NULL)
      ck_assert_str_eq(m.msgs[1], cases[i].msg1);
  }
}
END_TEST

START_TEST(test_keymethod_auth_nocache_forgets_password) {
  lvpn__km2_client_t m;
  char *pw = strdup("hunter2");
  uint8_t out[1024];
  size_t len = 0;

  memset(&m, 0, sizeof(m));
  m.options = "V4";
  m.username = "u";
  m.password = pw;
  ck_assert_int_eq(lvpn__km2_forget_password(&m), 0); /* not asked */
  m.forget_password = &pw;
  ck_assert_int_eq(lvpn__km2_build(out, sizeof(out), &len, &m), 0);
  ck_assert_ptr_nonnull(memmem(out, len, "hunter2", 8));
  ck_assert_int_eq(lvpn__km2_forget_password(&m), 1);
  ck_assert_ptr_null(pw);
  ck_assert_ptr_null(m.password);
  ck_assert_int_eq(lvpn__km2_forget_password(&m), 0);
  ck_assert_int_eq(lvpn__km2_build(out, sizeof(out), &len, &m), 0);
  ck_assert_ptr_null(memmem(out, len, "hunter2", 7));
}
END_TEST

LVPN_TEST_MAIN("keymethod", 0, NULL, NULL, test_keymethod_build_exact_bytes,
               test_keymethod_build_without_credentials,
               test_keymethod_build_too_big, test_keymethod_randomize,
               test_keymethod_parse_server, test_keymethod_parse_server_bad,
               test_keymethod_parse_server_truncated_everywhere,
               test_keymethod_options_string, test_keymethod_peer_info, test_keymethod_peer_info_extended,
               test_keymethod_peer_info_rejects, test_keymethod_ctlmsg_split,
               test_keymethod_auth_nocache_forgets_password)
