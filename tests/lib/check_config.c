/* lib/config: .ovpn loader, command-line overrides, clone, validate. */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layervpn.h"
#include "lib/config.h"
#include "lib/config_opts.h"
#include "tests/fakes.h"

static char dir[256];  /* per-test temporary directory */
static char err[1024]; /* last error message */

static int rm_cb(const char *path, const struct stat *st, int flag,
                 struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void setup(void) {
  snprintf(dir, sizeof(dir), "/tmp/lvpn_cfg_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  err[0] = '\0';
}

static void teardown(void) {
  nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes `len` bytes (or the string) to dir/name; returns the path in a
 * static rotating buffer. */
static const char *put_n(const char *name, const char *data, size_t len) {
  static char paths[4][512];
  static int k;
  char *path = paths[k++ % 4];
  FILE *f;
  snprintf(path, 512, "%s/%s", dir, name);
  f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(data, 1, len, f), len);
  fclose(f);
  return path;
}

static const char *put(const char *name, const char *data) {
  return put_n(name, data, strlen(data));
}

/* Loads `len` bytes of `text` as dir/client.ovpn. */
static int load_n(const char *text, size_t len, lvpn_config_t **cfg) {
  const char *path = put_n("client.ovpn", text, len);
  *cfg = NULL;
  return lvpn_config_load(cfg, path, err, sizeof(err));
}

static int load(const char *text, lvpn_config_t **cfg) {
  return load_n(text, strlen(text), cfg);
}

/* Loads and expects success. */
static lvpn_config_t *ok(const char *text) {
  lvpn_config_t *cfg;
  int e = load(text, &cfg);
  ck_assert_msg(e == 0, "load failed: %s (%s)", err, lvpn_err_name(e));
  ck_assert_ptr_nonnull(cfg);
  return cfg;
}

/* Loads and expects `code` with the message "DIR/client.ovpn:LINE: msg". */
static void bad_n(const char *text, size_t len, int code, int line,
                  const char *msg) {
  char want[1024];
  lvpn_config_t *cfg;
  int e = load_n(text, len, &cfg);
  ck_assert_msg(e == code, "'%s': got %s (%s), want %s", text, lvpn_err_name(e),
                err, lvpn_err_name(code));
  ck_assert_ptr_null(cfg);
  if (msg != NULL) {
    snprintf(want, sizeof(want), "%s/client.ovpn:%d: %s", dir, line, msg);
    ck_assert_str_eq(err, want);
  }
}

static void bad(const char *text, int code, int line, const char *msg) {
  bad_n(text, strlen(text), code, line, msg);
}

static const char pem[] = "-----BEGIN CERTIFICATE-----\n"
                          "MIIBfake\n"
                          "-----END CERTIFICATE-----\n";

START_TEST(test_config_defaults) {
  lvpn_config_t *c;
  ck_assert_int_eq(lvpn_config_new(&c), 0);
  ck_assert_str_eq(c->dev, "tun");
  ck_assert_int_eq(c->proto.tcp, 0);
  ck_assert_int_eq(c->proto.family, 0);
  ck_assert_uint_eq(c->port, 1194);
  ck_assert_int_eq(c->tun_mtu, 1500);
  ck_assert_int_eq(c->verb, 3);
  ck_assert_int_eq(c->hand_window, 60);
  ck_assert_int_eq(c->tls_timeout, 2);
  ck_assert_int_eq(c->reneg_sec, 3600);
  ck_assert_int_eq(c->tran_window, 3600);
  ck_assert_str_eq(c->data_ciphers,
                   "AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305");
  ck_assert_str_eq(c->auth, "SHA1");
  ck_assert_int_eq(c->tls_version_min, 2);
  ck_assert_int_eq(c->key_direction, -1);
  ck_assert_int_eq(c->ping, 0);
  ck_assert_int_eq(c->ping_restart, 0);
  ck_assert_int_eq(c->comp, LVPN__COMP_NONE);
  ck_assert_int_eq(c->replay_window, 64);
  ck_assert_int_eq(c->mssfix, 1492);
  ck_assert_int_eq(c->n_remotes, 0);
  ck_assert_ptr_null(c->ca.data);
  ck_assert_int_eq(lvpn__config_tls_auth_direction(c), -1);
  lvpn_config_free(c);
  lvpn_config_free(NULL);
}
END_TEST

START_TEST(test_config_typical_file_with_inline_blocks) {
  char text[2048], origin[600];
  lvpn_config_t *c;
  snprintf(text, sizeof(text),
           "# typical client\n"
           "client\n"
           "dev tun\n"
           "proto udp\n"
           "remote vpn.example.com 1194\n"
           "resolv-retry infinite\n"
           "nobind\n"
           "persist-key\n"
           "persist-tun\n"
           "remote-cert-tls server\n"
           "cipher AES-256-GCM\n"
           "verb 3\n"
           "key-direction 1\n"
           "<ca>\n%s</ca>\n"
           "<cert>\n%s</cert>\n"
           "<key>\n"
           "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"
           "</key>\n"
           "<tls-auth>\n# 2048 bit OpenVPN static key\nabcdef\n</tls-auth>\n",
           pem, pem);
  c = ok(text);
  ck_assert(c->client && c->pull && c->tls_client);
  ck_assert_int_eq(c->n_remotes, 1);
  ck_assert_str_eq(c->remotes[0].host, "vpn.example.com");
  ck_assert_uint_eq(lvpn__config_remote_port(c, 0), 1194);
  ck_assert_int_eq(c->remote_cert_tls, LVPN__CERT_TLS_SERVER);
  ck_assert_str_eq(c->cipher, "AES-256-GCM");
  /* inline content is verbatim and NUL-terminated */
  ck_assert_str_eq(c->ca.data, pem);
  ck_assert_uint_eq(c->ca.len, strlen(pem));
  ck_assert_int_eq(c->ca.data[c->ca.len], '\0');
  snprintf(origin, sizeof(origin), "%s/client.ovpn:14", dir);
  ck_assert_str_eq(c->ca.origin, origin);
  ck_assert_str_eq(c->key.data, "-----BEGIN PRIVATE KEY-----\nsecret\n"
                                "-----END PRIVATE KEY-----\n");
  ck_assert_str_eq(c->tls_auth.data, "# 2048 bit OpenVPN static key\nabcdef\n");
  ck_assert_int_eq(c->tls_auth_dir, -1);
  ck_assert_int_eq(lvpn__config_tls_auth_direction(c), 1);
  ck_assert_int_eq(c->n_warnings, 0);
  ck_assert_int_eq(lvpn__config_validate(c, err, sizeof(err)), 0);
  lvpn_config_free(c);
}
END_TEST

START_TEST(test_config_quoting_and_escapes) {
  static const fake_bad_case_t bads[] = {
      {"verb 3\nsetenv F a\\qb\n", LVPN_ECONFIG, 2,
       "bad backslash ('\\') usage: write '\\\\' for a backslash"},
      {"setenv A \"open\n", LVPN_ECONFIG, 1, "no closing quotation (\")"},
      {"\n\nsetenv A 'open\n", LVPN_ECONFIG, 3,
       "no closing single quotation (')"},
      {"setenv A b\\", LVPN_ECONFIG, 1, "backslash at the end of the line"},
  };
  lvpn_config_t *c = ok("setenv A \"hello world\"\n"
                        "setenv B 'single \\ quoted'\n"
                        "setenv C a\\ b\n"
                        "setenv D \"x\\\"y\"\n"
                        "setenv E back\\\\slash\n"
                        "setenv F \"\"\n"
                        "setenv G \"a # not a comment\"\n"
                        "setenv H a#b\n"
                        "setenv \"I\" 'semi;colon'\n"
                        "setenv J\t \"tab\tinside\"\r\n");
  ck_assert_int_eq(c->n_setenv, 10);
  ck_assert_str_eq(c->setenv[0].value, "hello world");
  ck_assert_str_eq(c->setenv[1].value, "single \\ quoted");
  ck_assert_str_eq(c->setenv[2].value, "a b");
  ck_assert_str_eq(c->setenv[3].value, "x\"y");
  ck_assert_str_eq(c->setenv[4].value, "back\\slash");
  ck_assert_str_eq(c->setenv[5].value, "");
  ck_assert_str_eq(c->setenv[6].value, "a # not a comment");
  ck_assert_str_eq(c->setenv[7].value, "a#b");
  ck_assert_str_eq(c->setenv[8].name, "I");
  ck_assert_str_eq(c->setenv[8].value, "semi;colon");
  ck_assert_str_eq(c->setenv[9].value, "tab\tinside");
  lvpn_config_free(c);

  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_comments_blank_lines_bom_crlf) {
  lvpn_config_t *c = ok("\xEF\xBB\xBF# comment\n"
                        "; another\n"
                        "   # indented comment\n"
                        "\n"
                        "   \t\n"
                        "--client\r\n"
                        "remote a.example 1000 # trailing comment\n"
                        "remote b.example ; trailing\n"
                        "verb 4");
  ck_assert(c->client);
  ck_assert_int_eq(c->n_remotes, 2);
  ck_assert_str_eq(c->remotes[0].host, "a.example");
  ck_assert_uint_eq(c->remotes[0].port, 1000);
  ck_assert_str_eq(c->remotes[1].host, "b.example");
  ck_assert_int_eq(c->verb, 4); /* last line without newline */
  lvpn_config_free(c);
}
END_TEST

START_TEST(test_config_inline_block_errors) {
  static const fake_bad_case_t bads[] = {
      {"client\n<ca>\nabc\n", LVPN_ECONFIG, 2, "no closing tag </ca>"},
      {"</ca>\n", LVPN_ECONFIG, 1, "'</ca>' without an opening tag"},
      {"<remote>\nx\n</remote>\n", LVPN_ECONFIG, 1,
       "'remote' cannot be an inline block"},
      {"<dh>\nx\n</dh>\n", LVPN_EUNSUPPORTED, 1, "'dh' is a server option"},
      {"<connection>\nproto tcp\n</connection>\n", LVPN_ECONFIG, 1,
       "each 'connection' block must contain a 'remote'"},
  };
  fake_bad_each(bad, bads, FAKE_COUNT(bads));
  bad_n("<ca>\nab\0cd\n</ca>\n", 17, LVPN_ECONFIG, 1, "NUL byte in <ca> block");
  /* line numbers continue after a block */
  bad("client\n<ca>\n1\n2\n3\n</ca>\nfrobnicate\n", LVPN_EUNSUPPORTED, 7,
      "unsupported option 'frobnicate'");
}
END_TEST

START_TEST(test_config_inline_tls_auth_and_auth_user_pass) {
  lvpn_config_t *c = ok("<tls-auth>\nk\n</tls-auth>\n"
                        "<auth-user-pass>\nalice\ns3cret\n</auth-user-pass>\n"
                        "  <tls-crypt>\n  indented\n  </tls-crypt>\n");
  ck_assert_str_eq(c->tls_auth.data, "k\n");
  ck_assert_int_eq(c->auth_user_pass, LVPN__AUP_GIVEN);
  ck_assert_str_eq(c->username, "alice");
  ck_assert_str_eq(c->password, "s3cret");
  ck_assert_str_eq(c->tls_crypt.data, "  indented\n");
  lvpn_config_free(c);
}
END_TEST

START_TEST(test_config_relative_paths_and_unreadable_files) {
  static const fake_bad_case_t bads[] = {
      {"ca\n", LVPN_ECONFIG, 1,
       "'ca' needs a file name or an inline <ca> block"},
      {"tls-auth ta.key 2\n", LVPN_ECONFIG, 1,
       "key direction must be 0 or 1, not '2'"},
  };
  char text[1024], want[1024], other[600];
  lvpn_config_t *c;

  ck_assert_int_eq(mkdir(strcat(strcpy(other, dir), "/keys"), 0700), 0);
  put("ca.crt", pem);
  put("keys/client.crt", "CERT\n");
  put("keys/client.key", "KEY\n");
  put("ta.key", "TA\n");
  put("tc.key", "TC\n");
  put("tc2.key", "TC2\n");
  put("extra.pem", "EXTRA\n");
  snprintf(text, sizeof(text),
           "ca ca.crt\ncert keys/client.crt\nkey %s/keys/client.key\n"
           "tls-auth ta.key 0\ntls-crypt tc.key\ntls-crypt-v2 tc2.key\n"
           "extra-certs extra.pem\n",
           dir);
  ck_assert_int_eq(chdir("/"), 0); /* paths must not depend on the cwd */
  c = ok(text);
  ck_assert_str_eq(c->ca.data, pem);
  snprintf(want, sizeof(want), "%s/ca.crt", dir);
  ck_assert_str_eq(c->ca.origin, want);
  ck_assert_str_eq(c->cert.data, "CERT\n");
  ck_assert_str_eq(c->key.data, "KEY\n");
  ck_assert_uint_eq(c->key.len, 4);
  ck_assert_str_eq(c->tls_auth.data, "TA\n");
  ck_assert_int_eq(c->tls_auth_dir, 0);
  ck_assert_int_eq(lvpn__config_tls_auth_direction(c), 0);
  ck_assert_str_eq(c->tls_crypt.data, "TC\n");
  ck_assert_str_eq(c->tls_crypt_v2.data, "TC2\n");
  ck_assert_str_eq(c->extra_certs.data, "EXTRA\n");
  lvpn_config_free(c);

  snprintf(want, sizeof(want),
           "cannot read '%s/missing.crt': No such file or directory", dir);
  bad("client\nca missing.crt\n", LVPN_EKEYFILE, 2, want);
  snprintf(want, sizeof(want), "cannot read '%s/keys': Is a directory", dir);
  bad("cert keys\n", LVPN_EKEYFILE, 1, want);
  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_auth_user_pass_file) {
  lvpn_config_t *c;
  put("up.txt", "bob\r\npa ss\r\n");
  put("user-only.txt", "carol\n");
  put("empty.txt", "");
  c = ok("auth-user-pass up.txt\nauth-nocache\n");
  ck_assert_int_eq(c->auth_user_pass, LVPN__AUP_GIVEN);
  ck_assert_str_eq(c->username, "bob");
  ck_assert_str_eq(c->password, "pa ss");
  ck_assert(c->auth_nocache);
  lvpn_config_free(c);
  c = ok("auth-user-pass user-only.txt\n");
  ck_assert_str_eq(c->username, "carol");
  ck_assert_ptr_null(c->password); /* the host prompts */
  lvpn_config_free(c);
  c = ok("auth-user-pass\n");
  ck_assert_int_eq(c->auth_user_pass, LVPN__AUP_PROMPT);
  ck_assert_ptr_null(c->username);
  lvpn_config_free(c);
  {
    char want[600];
    snprintf(want, sizeof(want), "no username in '%s/empty.txt'", dir);
    bad("auth-user-pass empty.txt\n", LVPN_ECONFIG, 1, want);
    snprintf(want, sizeof(want),
             "cannot read '%s/nope.txt': No such file or directory", dir);
    bad("auth-user-pass nope.txt\n", LVPN_ECONFIG, 1, want);
  }
}
END_TEST

START_TEST(test_config_remote_proto_port) {
  static const fake_bad_case_t bads[] = {
      {"remote x 0\n", LVPN_ECONFIG, 1, "bad port '0' (1..65535)"},
      {"remote x 65536\n", LVPN_ECONFIG, 1, "bad port '65536' (1..65535)"},
      {"remote x 1194 sctp\n", LVPN_ECONFIG, 1, "unknown protocol 'sctp'"},
      {"port http\n", LVPN_ECONFIG, 1, "bad port 'http' (1..65535)"},
      {"proto tcp-server\n", LVPN_EUNSUPPORTED, 1,
       "'proto tcp-server' is a server option"},
      {"remote\n", LVPN_ECONFIG, 1, "'remote' needs 1 to 3 arguments"},
      {"remote a 1 udp extra\n", LVPN_ECONFIG, 1,
       "'remote' needs 1 to 3 arguments"},
  };
  lvpn_config_t *c = ok("port 443\nproto tcp\n"
                        "remote a.example\n"
                        "remote b.example 1195\n"
                        "remote c.example 1196 udp6\n"
                        "remote 2001:db8::1 1197 tcp4-client\n"
                        "remote-random\n");
  lvpn__proto_t pr;
  ck_assert_int_eq(c->n_remotes, 4);
  ck_assert_uint_eq(lvpn__config_remote_port(c, 0), 443);
  ck_assert_uint_eq(lvpn__config_remote_port(c, 1), 1195);
  pr = lvpn__config_remote_proto(c, 1);
  ck_assert(pr.tcp == 1 && pr.family == 0);
  pr = lvpn__config_remote_proto(c, 2);
  ck_assert(pr.tcp == 0 && pr.family == 6);
  pr = lvpn__config_remote_proto(c, 3);
  ck_assert(pr.tcp == 1 && pr.family == 4);
  ck_assert_str_eq(c->remotes[3].host, "2001:db8::1");
  ck_assert(c->remote_random);
  lvpn_config_free(c);

  c = ok("rport 2000\nremote x\nproto udp4\n");
  ck_assert_uint_eq(lvpn__config_remote_port(c, 0), 2000);
  ck_assert(c->proto.tcp == 0 && c->proto.family == 4);
  lvpn_config_free(c);

  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_dev) {
  static const fake_bad_case_t bads[] = {
      {"dev tap\n", LVPN_EUNSUPPORTED, 1, "dev-type tap is not supported"},
      {"dev tap0\n", LVPN_EUNSUPPORTED, 1, "dev-type tap is not supported"},
      {"dev-type tap\n", LVPN_EUNSUPPORTED, 1, "dev-type tap is not supported"},
      {"dev-type null\n", LVPN_ECONFIG, 1,
       "unknown dev-type 'null' (only 'tun')"},
      {"dev a/b\n", LVPN_ECONFIG, 1, "bad device name 'a/b'"},
      {"dev averyveryverylongname\n", LVPN_ECONFIG, 1, NULL},
  };
  lvpn_config_t *c = ok("dev tun0\ndev-type tun\n");
  ck_assert_str_eq(c->dev, "tun0");
  lvpn_config_free(c);
  c = ok("dev vpnclient\n");
  ck_assert_str_eq(c->dev, "vpnclient");
  lvpn_config_free(c);
  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_tls_options) {
  static const fake_bad_case_t bads[] = {
      {"remote-cert-tls peer\n", LVPN_ECONFIG, 1,
       "'remote-cert-tls': unknown value 'peer'"},
      {"verify-x509-name a cn\n", LVPN_ECONFIG, 1,
       "'verify-x509-name': unknown value 'cn'"},
      {"tls-version-min 1.4\n", LVPN_ECONFIG, 1,
       "'tls-version-min': unknown TLS version '1.4' (1.0, 1.1, 1.2, 1.3)"},
      {"tls-version-min 1.2 or-lowest\n", LVPN_ECONFIG, 1,
       "'tls-version-min': unexpected 'or-lowest'"},
      {"tls-version-max 1.2 or-highest\n", LVPN_ECONFIG, 1, NULL},
      {"key-direction 2\n", LVPN_ECONFIG, 1,
       "'key-direction' must be a number from 0 to 1, not '2'"},
      {"tls-mtu 100\n", LVPN_ECONFIG, 1, NULL},
      {"hand-window 0\n", LVPN_ECONFIG, 1, NULL},
      {"tran-window -1\n", LVPN_ECONFIG, 1,
       "'tran-window' must be a number from 0 to 2147483647, not '-1'"},
      {"reneg-bytes lots\n", LVPN_ECONFIG, 1,
       "'reneg-bytes' must be a number, not 'lots'"},
  };
  lvpn_config_t *c = ok("remote-cert-tls client\n"
                        "verify-x509-name vpn.example.com name\n"
                        "tls-version-min 1.0\ntls-version-max 1.2\n"
                        "tls-cipher TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384\n"
                        "tls-ciphersuites TLS_AES_256_GCM_SHA384\n"
                        "tls-mtu 1200\nhand-window 30\ntls-timeout 5\n"
                        "reneg-sec 600\nreneg-bytes 1000000000000\n"
                        "reneg-pkts 5\nkey-direction 0\ntran-window 90\n");
  ck_assert_int_eq(c->remote_cert_tls, LVPN__CERT_TLS_CLIENT);
  ck_assert_str_eq(c->verify_x509_name, "vpn.example.com");
  ck_assert_int_eq(c->verify_x509_type, LVPN__X509_NAME);
  ck_assert_int_eq(c->tls_version_min, 0);
  ck_assert_int_eq(c->tls_version_max, 2);
  ck_assert_str_eq(c->tls_cipher, "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384");
  ck_assert_str_eq(c->tls_ciphersuites, "TLS_AES_256_GCM_SHA384");
  ck_assert_int_eq(c->tls_mtu, 1200);
  ck_assert_int_eq(c->hand_window, 30);
  ck_assert_int_eq(c->tls_timeout, 5);
  ck_assert_int_eq(c->reneg_sec, 600);
  ck_assert_uint_eq(c->reneg_bytes, 1000000000000ull);
  ck_assert_uint_eq(c->reneg_pkts, 5);
  ck_assert_int_eq(c->key_direction, 0);
  ck_assert_int_eq(c->tran_window, 90);
  lvpn_config_free(c);

  c = ok("verify-x509-name 'C=DE, CN=vpn'\nverify-x509-name srv name-prefix\n"
         "tls-version-min 1.3 or-highest\nreneg-sec 3000 2000\n");
  ck_assert_str_eq(c->verify_x509_name, "srv");
  ck_assert_int_eq(c->verify_x509_type, LVPN__X509_NAME_PREFIX);
  ck_assert_int_eq(c->tls_version_min, 3);
  ck_assert(c->tls_version_min_or_highest);
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], ":3: TLS 1.3 is not "
                                               "available"));
  lvpn_config_free(c);

  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_ciphers_and_auth) {
  static const fake_bad_case_t bads[] = {
      {"data-ciphers BF-CBC:DES-CBC\n", LVPN_ENOCIPHER, 1,
       "'data-ciphers': no supported cipher in 'BF-CBC:DES-CBC'"},
      {"data-ciphers-fallback BF-CBC\n", LVPN_ENOCIPHER, 1,
       "'data-ciphers-fallback': unsupported cipher 'BF-CBC'"},
      {"auth MD5\n", LVPN_EUNSUPPORTED, 1,
       "auth 'MD5' is not supported (SHA1, SHA256, SHA384, SHA512, none)"},
  };
  lvpn_config_t *c = ok("data-ciphers aes-128-gcm:BF-CBC:AES-256-CBC:"
                        "?FOO-1:AES-128-GCM\n"
                        "data-ciphers-fallback aes-256-cbc\n"
                        "cipher BF-CBC\nauth sha256\n");
  ck_assert_str_eq(c->data_ciphers, "AES-128-GCM:AES-256-CBC");
  ck_assert_str_eq(c->data_ciphers_fallback, "AES-256-CBC");
  ck_assert_str_eq(c->cipher, "BF-CBC");
  ck_assert_str_eq(c->auth, "SHA256");
  ck_assert_int_eq(c->n_warnings, 2); /* BF-CBC in the list, and cipher */
  ck_assert_ptr_nonnull(strstr(c->warnings[0], "client.ovpn:1: data-ciphers:"
                                               " skipping unsupported "
                                               "cipher 'BF-CBC'"));
  ck_assert_ptr_nonnull(strstr(c->warnings[1], ":3: cipher 'BF-CBC'"));
  lvpn_config_free(c);

  c = ok("ncp-ciphers CHACHA20-POLY1305:AES-192-GCM\ncipher aes-256-gcm\n"
         "auth none\n");
  ck_assert_str_eq(c->data_ciphers, "CHACHA20-POLY1305:AES-192-GCM");
  ck_assert_str_eq(c->cipher, "AES-256-GCM");
  ck_assert_str_eq(c->auth, "none");
  ck_assert_int_eq(c->n_warnings, 0);
  lvpn_config_free(c);

  fake_bad_each(bad, bads, FAKE_COUNT(bads));

  ck_assert_str_eq(lvpn__config_cipher_supported("chacha20-poly1305"),
                   "CHACHA20-POLY1305");
  ck_assert_str_eq(lvpn__config_cipher_supported("AES-192-CBC"), "AES-192-CBC");
  ck_assert_ptr_null(lvpn__config_cipher_supported("AES-256-CFB"));
  ck_assert_ptr_null(lvpn__config_cipher_supported("none"));
  ck_assert_ptr_null(lvpn__config_cipher_supported(NULL));

  /* items of a ':' list: whole, any case, anywhere in it */
  ck_assert(lvpn__config_list_has("AES-256-GCM:AES-128-GCM", "AES-256-GCM"));
  ck_assert(lvpn__config_list_has("AES-256-GCM:AES-128-GCM", "aes-128-gcm"));
  ck_assert(lvpn__config_list_has("CHACHA20-POLY1305", "CHACHA20-POLY1305"));
  ck_assert(!lvpn__config_list_has("AES-256-GCM:AES-128-GCM", "AES-256"));
  ck_assert(!lvpn__config_list_has("AES-256-GCM", "AES-256-GCM:"));
  ck_assert(!lvpn__config_list_has("AES-256-GCMX:AES-128", "AES-256-GCM"));
  ck_assert(!lvpn__config_list_has("", "AES-256-GCM"));
  ck_assert(!lvpn__config_list_has(NULL, "AES-256-GCM"));
}
END_TEST

START_TEST(test_config_compression) {
  static const fake_bad_case_t bads[] = {
      {"allow-compression no\ncomp-lzo yes\n", LVPN_ECOMPRESSION, 2,
       "comp-lzo yes: compression is not allowed since allow-compression is "
       "'no'"},
      {"allow-compression no\ncomp-lzo\n", LVPN_ECOMPRESSION, 2,
       "comp-lzo: compression is not allowed since allow-compression is "
       "'no'"},
      {"compress lz4-v2\nallow-compression no\n", LVPN_ECOMPRESSION, 2,
       "'allow-compression no' conflicts with enabling compression "
       "(lz4-v2)"},
      {"compress zstd\n", LVPN_ECONFIG, 1,
       "compress: unknown algorithm 'zstd'"},
      {"compress migrate\n", LVPN_EUNSUPPORTED, 1,
       "'compress migrate' is a server option"},
      {"comp-noadapt yes\n", LVPN_ECONFIG, 1, NULL},
      {"allow-compression no\nallow-compression yes\n", LVPN_ECONFIG, 2,
       "cannot set allow-compression to 'yes' after setting it to 'no'"},
      {"allow-compression maybe\n", LVPN_ECONFIG, 1,
       "'allow-compression': unknown value 'maybe'"},
  };
  lvpn_config_t *c = ok("comp-lzo no\nallow-compression asym\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_LZO_NO);
  ck_assert_int_eq(c->allow_compression, LVPN__ALLOW_COMP_ASYM);
  lvpn_config_free(c);
  c = ok("compress\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_STUB);
  lvpn_config_free(c);
  c = ok("compress stub\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_STUB);
  lvpn_config_free(c);
  c = ok("compress stub-v2\nallow-compression no\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_STUB_V2);
  lvpn_config_free(c);
  /* real compression (OpenVPN 2.6): accepted, receive-only with a warning
   * unless allow-compression yes; refused after allow-compression no */
  c = ok("comp-lzo\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_LZO_ADAPTIVE);
  ck_assert(!c->allow_compression_set);
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], ":1: compression for receiving"
                                               " enabled; sent packets are "
                                               "not compressed unless"));
  lvpn_config_free(c);
  c = ok("allow-compression yes\ncomp-lzo yes\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_LZO);
  ck_assert_int_eq(c->allow_compression, LVPN__ALLOW_COMP_YES);
  ck_assert(c->allow_compression_set);
  ck_assert_int_eq(c->n_warnings, 0);
  lvpn_config_free(c);
  c = ok("comp-lzo adaptive\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_LZO_ADAPTIVE);
  lvpn_config_free(c);
  c = ok("comp-lzo\ncomp-noadapt\n"); /* 2.6: the order matters */
  ck_assert_int_eq(c->comp, LVPN__COMP_LZO);
  lvpn_config_free(c);
  c = ok("comp-noadapt\ncomp-lzo\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_LZO_ADAPTIVE);
  lvpn_config_free(c);
  c = ok("compress lz4-v2\ncomp-noadapt\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_LZ4_V2);
  lvpn_config_free(c);
  c = ok("compress lz4\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_LZ4);
  lvpn_config_free(c);
  c = ok("compress lz4-v2\nallow-compression asym\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_LZ4_V2);
  lvpn_config_free(c);
  c = ok("compress lzo\n");
  ck_assert_int_eq(c->comp, LVPN__COMP_LZO);
  lvpn_config_free(c);
  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_numbers_and_timers) {
  static const fake_bad_case_t bads[] = {
      {"ping x\n", LVPN_ECONFIG, 1,
       "'ping' must be a number from 0 to 2147483647, not 'x'"},
      {"ping -1\n", LVPN_ECONFIG, 1, NULL},
      {"ping 99999999999\n", LVPN_ECONFIG, 1, NULL},
      {"ping\n", LVPN_ECONFIG, 1, "'ping' needs 1 argument"},
      {"tun-mtu 67\n", LVPN_ECONFIG, 1,
       "'tun-mtu' must be a number from 68 to 65535, not '67'"},
      {"tun-mtu 65536\n", LVPN_ECONFIG, 1, NULL},
      {"session-timeout -5\n", LVPN_ECONFIG, 1,
       "'session-timeout' must be a number from 0 to 2147483647, not '-5'"},
      {"verb 12\n", LVPN_ECONFIG, 1,
       "'verb' must be a number from 0 to 11, not '12'"},
      {"keepalive 10 15\n", LVPN_ECONFIG, 1,
       "keepalive: the second value (ping-restart) must be at least twice "
       "the first (ping)"},
      {"keepalive 0 10\n", LVPN_ECONFIG, 1, NULL},
      {"keepalive 10\n", LVPN_ECONFIG, 1, "'keepalive' needs 2 arguments"},
      {"mssfix 100\n", LVPN_ECONFIG, 1,
       "mssfix must be 0 or 154..65535, not '100'"},
      {"mssfix 1400 loose\n", LVPN_ECONFIG, 1, NULL},
      {"replay-window 70000\n", LVPN_ECONFIG, 1, NULL},
      {"replay-window 64 601\n", LVPN_ECONFIG, 1, NULL},
      {"script-security 4\n", LVPN_ECONFIG, 1, NULL},
      {"explicit-exit-notify x\n", LVPN_ECONFIG, 1, NULL},
      {"connect-retry 1 x\n", LVPN_ECONFIG, 1, NULL},
  };
  lvpn_config_t *c = ok("keepalive 10 60\nping-exit 300\ninactive 3600\n"
                        "tun-mtu 1400\nmssfix 1300\nconnect-timeout 10\n"
                        "connect-retry 2 30\nconnect-retry-max 5\n"
                        "server-poll-timeout 4\nexplicit-exit-notify\n"
                        "verb 11\nmute 20\nreplay-window 128 30\n"
                        "mute-replay-warnings\nscript-security 2\n");
  ck_assert_int_eq(c->ping, 10);
  /* one receive timeout: ping-exit, given last, replaces ping-restart */
  ck_assert_int_eq(c->ping_restart, 0);
  ck_assert_int_eq(c->ping_exit, 300);
  ck_assert_int_eq(c->inactive, 3600);
  ck_assert_int_eq(c->tun_mtu, 1400);
  ck_assert_int_eq(c->mssfix, 1300);
  ck_assert(!c->mssfix_mtu);
  ck_assert_int_eq(c->connect_timeout, 10);
  ck_assert_int_eq(c->connect_retry, 2);
  ck_assert_int_eq(c->connect_retry_max_delay, 30);
  ck_assert_int_eq(c->connect_retry_max, 5);
  ck_assert_int_eq(c->server_poll_timeout, 4);
  ck_assert_int_eq(c->explicit_exit_notify, 1);
  ck_assert_int_eq(c->verb, 11);
  ck_assert_int_eq(c->mute, 20);
  ck_assert_int_eq(c->replay_window, 128);
  ck_assert_int_eq(c->replay_time, 30);
  ck_assert(c->mute_replay_warnings);
  ck_assert_int_eq(c->script_security, 2);
  lvpn_config_free(c);

  c = ok("ping 5\nping-restart 30\nexplicit-exit-notify 3\nmssfix\n"
         "mssfix 1450 fixed\nconnect-retry 7\n");
  ck_assert_int_eq(c->ping, 5);
  ck_assert_int_eq(c->ping_restart, 30);
  ck_assert_int_eq(c->explicit_exit_notify, 3);
  ck_assert_int_eq(c->mssfix, 1450);
  ck_assert(c->mssfix_fixed);
  ck_assert_int_eq(c->connect_retry, 7);
  ck_assert_int_eq(c->connect_retry_max_delay, 300);
  lvpn_config_free(c);

  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_routes_dns_scripts) {
  static const fake_bad_case_t bads[] = {
      {"route 10.0.0.0 255.0.0.256\n", LVPN_ECONFIG, 1,
       "route: bad netmask '255.0.0.256'"},
      {"route host.example/24\n", LVPN_ECONFIG, 1,
       "route: bad network address 'host.example/24'"},
      {"route-ipv6 2001:db8::/200\n", LVPN_ECONFIG, 1,
       "route-ipv6: bad IPv6 network '2001:db8::/200'"},
      {"redirect-gateway def1 everything\n", LVPN_ECONFIG, 1,
       "redirect-gateway: unknown flag 'everything'"},
      {"dhcp-option DNS not-an-ip\n", LVPN_ECONFIG, 1,
       "dhcp-option: DNS: bad address 'not-an-ip'"},
      {"dhcp-option NBT 3\n", LVPN_ECONFIG, 1,
       "dhcp-option: NBT must be 1, 2, 4 or 8, not '3'"},
      {"pull-filter drop route\n", LVPN_ECONFIG, 1,
       "'pull-filter': unknown value 'drop'"},
      {"up\n", LVPN_ECONFIG, 1, "'up' needs 1 argument"},
      {"route-gateway 10.0.0\n", LVPN_ECONFIG, 1,
       "route-gateway: bad address '10.0.0'"},
      {"route-noexec yes\n", LVPN_ECONFIG, 1,
       "'route-noexec' takes no arguments"},
  };
  lvpn_config_t *c = ok("route-nopull\n"
                        "route 10.0.0.0 255.0.0.0\n"
                        "route remote_host 255.255.255.255 net_gateway\n"
                        "route-ipv6 2001:db8::/32 2001:db8::1 5\n"
                        "route-metric 100\n"
                        "redirect-gateway def1 block-local\n"
                        "redirect-private\n"
                        "dhcp-option DNS 10.0.0.53\n"
                        "dhcp-option DOMAIN corp.example\n"
                        "dhcp-option DISABLE-NBT\n"
                        "pull-filter ignore \"route \"\n"
                        "pull-filter reject redirect-gateway\n"
                        "pull-filter accept ifconfig\n"
                        "up '/etc/openvpn/up.sh arg'\ndown /bin/down\n"
                        "push-peer-info\n");
  ck_assert(c->route_nopull);
  ck_assert_int_eq(c->n_routes, 2);
  ck_assert_int_eq(c->routes[1].net_kind, LVPN__GW_REMOTE);
  ck_assert_int_eq(c->routes[1].gw_kind, LVPN__GW_NET);
  ck_assert_int_eq(c->n_routes6, 1);
  ck_assert_uint_eq(c->routes6[0].metric, 5);
  ck_assert_int_eq(c->route_metric, 100);
  ck_assert_int_eq(c->redirect_gateway,
                   LVPN__RG_ENABLE | LVPN__RG_DEF1 | LVPN__RG_BLOCK_LOCAL);
  ck_assert_int_eq(c->redirect_private, LVPN__RG_ENABLE);
  ck_assert_int_eq(c->n_dhcp, 3);
  ck_assert_int_eq(c->dhcp[2].type, LVPN__DHCP_DISABLE_NBT);
  ck_assert_int_eq(c->n_pull_filters, 3);
  ck_assert_int_eq(c->pull_filters[0].action, LVPN__PULL_IGNORE);
  ck_assert_str_eq(c->pull_filters[0].text, "route ");
  ck_assert_int_eq(c->pull_filters[1].action, LVPN__PULL_REJECT);
  ck_assert_int_eq(c->pull_filters[2].action, LVPN__PULL_ACCEPT);
  ck_assert_str_eq(c->up, "/etc/openvpn/up.sh arg");
  ck_assert_str_eq(c->down, "/bin/down");
  ck_assert(c->push_peer_info);
  ck_assert(!c->route_noexec && !c->ifconfig_noexec && !c->has_route_gateway);
  lvpn_config_free(c);

  /* the scripts' options; route-gateway dhcp is TAP's: said, left out */
  c = ok("route-noexec\nifconfig-noexec\nroute-gateway 10.8.0.1\n");
  ck_assert(c->route_noexec && c->ifconfig_noexec && c->has_route_gateway);
  ck_assert_uint_eq(ntohl(c->route_gateway.s_addr), 0x0a080001u);
  ck_assert_int_eq(c->n_warnings, 0);
  lvpn_config_free(c);
  c = ok("route-gateway 10.8.0.1\nroute-gateway dhcp\n");
  ck_assert(!c->has_route_gateway);
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], "route-gateway dhcp: TAP"));
  lvpn_config_free(c);

  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_noops_unsupported_server_options) {
  static const char *const warned[] = {
      ":9: 'fast-io' ignored:",
      ":10: 'sndbuf' ignored: socket buffer sizes are left to the system",
      ":11: 'rcvbuf' ignored:",
      ":12: 'txqueuelen' ignored:",
      ":16: 'block-outside-dns' ignored: Windows only",
      ":17: 'route-method' ignored: Windows only",
      ":18: 'ip-win32' ignored: Windows only"};
  size_t i;
  static const fake_bad_case_t bads[] = {
      {"fragment 60\n", LVPN_ECONFIG, 1,
       "'fragment' must be a number from 68 to 65535, not '60'"},
      {"fragment 1300 loose\n", LVPN_ECONFIG, 1,
       "'fragment': unknown value 'loose'"},
      {"mtu-test\n", LVPN_EUNSUPPORTED, 1, "'mtu-test' is not supported yet"},
      {"http-proxy p 8080 f ntlm\n", LVPN_EUNSUPPORTED, 1,
       "'http-proxy': NTLM proxy authentication is not supported (OpenVPN "
       "2.7 removed it too): use 'basic' or 'none'"},
      {"bind ipv4only\n", LVPN_ECONFIG, 1,
       "'bind': unknown value 'ipv4only' (only 'ipv6only')"},
      {"server 10.8.0.0 255.255.255.0\n", LVPN_EUNSUPPORTED, 1,
       "'server' is a server option"},
      {"push \"route 10.0.0.0 255.0.0.0\"\n", LVPN_EUNSUPPORTED, 1,
       "'push' is a server option"},
      {"ifconfig-pool 10.8.0.2 10.8.0.200\n", LVPN_EUNSUPPORTED, 1,
       "'ifconfig-pool' is a server option"},
      {"client-config-dir ccd\n", LVPN_EUNSUPPORTED, 1,
       "'client-config-dir' is a server option"},
      {"persist-key now\n", LVPN_ECONFIG, 1,
       "'persist-key' takes no arguments"},
      {"client yes\n", LVPN_ECONFIG, 1, "'client' takes no arguments"},
      {"user\n", LVPN_ECONFIG, 1, "'user' needs 1 argument"},
      {"Client\n", LVPN_EUNSUPPORTED, 1, "unsupported option 'Client'"},
  };
  lvpn_config_t *c = ok("persist-key\npersist-tun\nnobind\n"
                        "resolv-retry infinite\nuser nobody\ngroup nogroup\n"
                        "auth-retry nointeract\nping-timer-rem\nfast-io\n"
                        "sndbuf 0\nrcvbuf 0\ntxqueuelen 1000\n"
                        "topology subnet\ntun-ipv6\nkey-method 2\n"
                        "block-outside-dns\nroute-method exe\n"
                        "ip-win32 dynamic 0 3600\nroute-delay 2 10\n"
                        "route-delay\npull\ntls-client\nblock-ipv6\n");
  ck_assert(c->pull && c->tls_client && !c->client);
  ck_assert(c->persist_tun && c->block_ipv6); /* layers/tun */
  ck_assert_str_eq(c->user, "nobody"); /* done by lvpn_drop_privileges */
  ck_assert_str_eq(c->group, "nogroup");
  ck_assert_int_eq(c->n_warnings, (int)(sizeof(warned) / sizeof(warned[0])));
  for (i = 0; i < sizeof(warned) / sizeof(warned[0]); i++)
    ck_assert_msg(strstr(c->warnings[i], warned[i]) != NULL, "%s: want %s",
                  c->warnings[i], warned[i]);
  lvpn_config_free(c);

  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_setenv_opt_and_ignore_unknown) {
  lvpn_config_t *c = ok("setenv opt frobnicate 1\n"
                        "setenv opt verb 5\n"
                        "ignore-unknown-option mtu-test shaper\n"
                        "mtu-test\n"
                        "shaper 1000\n");
  ck_assert_int_eq(c->verb, 5); /* known options still apply */
  ck_assert_int_eq(c->n_setenv, 0);
  ck_assert_int_eq(c->n_warnings, 3);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], "client.ovpn:1: ignoring "
                                               "unsupported option "
                                               "'frobnicate'"));
  ck_assert_ptr_nonnull(strstr(c->warnings[1], ":4: ignoring unsupported "
                                               "option 'mtu-test'"));
  ck_assert_int_eq(c->n_ignore_unknown, 2);
  lvpn_config_free(c);
  /* bad arguments of a known option are still errors */
  bad("setenv opt verb 99\n", LVPN_ECONFIG, 1, NULL);
  /* host names in routes: kept once each (case-insensitive), resolved by
   * the client; keywords and addresses are not names; a clone has its
   * own copies */
  {
    lvpn_config_t *d = NULL;
    c = ok("route vpn.example.com\n"
           "route 198.19.5.0 255.255.255.0 GW.example.com 7\n"
           "route Vpn.Example.com 255.255.255.255 net_gateway\n"
           "route remote_host 255.255.255.255 net_gateway\n"
           "route 198.19.6.0 255.255.255.0 gw.example.com\n");
    ck_assert_int_eq(c->n_route_names, 2);
    ck_assert_str_eq(c->route_names[0], "vpn.example.com");
    ck_assert_str_eq(c->route_names[1], "GW.example.com");
    ck_assert_int_eq(c->routes[0].net_kind, LVPN__GW_NAME);
    ck_assert_int_eq(c->routes[0].net_name, 1);
    ck_assert_int_eq(c->routes[1].net_kind, LVPN__GW_ADDR);
    ck_assert_int_eq(c->routes[1].gw_kind, LVPN__GW_NAME);
    ck_assert_int_eq(c->routes[1].gw_name, 2);
    ck_assert(c->routes[1].has_metric && c->routes[1].metric == 7);
    ck_assert_int_eq(c->routes[2].net_name, 1);
    ck_assert_int_eq(c->routes[2].gw_kind, LVPN__GW_NET);
    ck_assert_int_eq(c->routes[3].net_kind, LVPN__GW_REMOTE);
    ck_assert_int_eq(c->routes[3].net_name, 0);
    ck_assert_int_eq(c->routes[4].gw_name, 2);
    ck_assert_int_eq(lvpn__config_clone(c, &d), 0);
    ck_assert_str_eq(d->route_names[1], "GW.example.com");
    ck_assert_ptr_ne(d->route_names[1], c->route_names[1]);
    lvpn_config_free(d);
    lvpn_config_free(c);
    bad("route 300.1.2.3\n", LVPN_ECONFIG, 1,
        "route: bad network address '300.1.2.3'");
    bad("route bad!name.example\n", LVPN_ECONFIG, 1,
        "route: bad network address 'bad!name.example'");
    bad("route 10.0.0.0 gw.example.com\n", LVPN_ECONFIG, 1,
        "route: bad netmask 'gw.example.com'");
  }
  /* proto-force: the other transport's entries go (a block's own proto
   * counts, the global one for plain remotes); none left is an error */
  {
    char m[160];
    c = ok("proto udp\n<connection>\nremote a.example\n</connection>\n"
           "<connection>\nremote b.example 443 tcp\n</connection>\n"
           "<connection>\nremote c.example\nproto tcp-client\n</connection>\n"
           "<connection>\nremote d.example\nhttp-proxy 198.18.0.4 3128\n"
           "proto tcp\n</connection>\n"
           "<connection>\nremote e.example 1194 udp6\n</connection>\n"
           "proto-force tcp\n");
    ck_assert_int_eq(c->proto_force, 1);
    ck_assert_int_eq(c->n_remotes, 5);
    ck_assert_int_eq(lvpn__config_proto_force(c, m, sizeof(m)), 0);
    ck_assert_int_eq(c->n_remotes, 3);
    ck_assert_str_eq(c->remotes[0].host, "b.example");
    ck_assert_str_eq(c->remotes[1].host, "c.example");
    ck_assert_str_eq(c->remotes[2].host, "d.example");
    ck_assert_str_eq(lvpn__config_remote_proxy(c, 2)->host, "198.18.0.4");
    lvpn_config_free(c);
    c = ok("remote a.example\nremote b.example 443 tcp\nproto-force udp6\n");
    ck_assert_int_eq(lvpn__config_proto_force(c, m, sizeof(m)), 0);
    ck_assert_int_eq(c->n_remotes, 1);
    ck_assert_str_eq(c->remotes[0].host, "a.example");
    lvpn_config_free(c);
    c = ok("remote a.example\nproto-force tcp-client\n");
    ck_assert_int_eq(lvpn__config_proto_force(c, m, sizeof(m)), LVPN_ECONFIG);
    ck_assert_str_eq(m, "proto-force tcp: none of the 1 remotes uses TCP");
    lvpn_config_free(c);
    c = ok("remote a.example\n"); /* not given: nothing dropped */
    ck_assert_int_eq(lvpn__config_proto_force(c, m, sizeof(m)), 0);
    ck_assert_int_eq(c->n_remotes, 1);
    lvpn_config_free(c);
    bad("proto-force tcp-server\n", LVPN_ECONFIG, 1,
        "'proto tcp-server' is a server option");
    bad("proto-force sctp\n", LVPN_ECONFIG, 1, "unknown protocol 'sctp'");
  }
  /* single-session: already so (accepted); tls-export-cert: said to have
   * no effect without tls-verify */
  c = ok("single-session\ntls-export-cert /tmp\n");
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], "tls-verify is not supported"));
  lvpn_config_free(c);
  /* keying-material-exporter: checked as OpenVPN, then said ignored
   * (plugins only) */
  c = ok("keying-material-exporter EXPORTER-test 32\n");
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], "plugins only"));
  lvpn_config_free(c);
  bad("keying-material-exporter test 32\n", LVPN_ECONFIG, 1,
      "keying-material-exporter: the label must begin with \"EXPORTER\"");
  bad("keying-material-exporter EXPORTER-x 15\n", LVPN_ECONFIG, 1,
      "keying-material-exporter: the length must be 16..4095, not '15'");
  /* route-ipv6-gateway: an IPv6 address, nothing else */
  c = ok("route-ipv6-gateway 2001:db8::1\n");
  ck_assert(c->has_route_ipv6_gateway);
  ck_assert_uint_eq(c->route_ipv6_gateway.s6_addr[15], 1);
  lvpn_config_free(c);
  bad("route-ipv6-gateway 2001:db8::1/64\n", LVPN_ECONFIG, 1,
      "route-ipv6-gateway: '2001:db8::1/64' must be an IPv6 address");
  bad("route-ipv6-gateway 10.0.0.1\n", LVPN_ECONFIG, 1,
      "route-ipv6-gateway: '10.0.0.1' must be an IPv6 address");
  /* dev-node: the clone device's path, cloned and freed with the config */
  c = ok("dev-node /dev/x\n");
  ck_assert_str_eq(c->dev_node, "/dev/x");
  {
    lvpn_config_t *d = NULL;
    ck_assert_int_eq(lvpn__config_clone(c, &d), 0);
    ck_assert_str_eq(d->dev_node, "/dev/x");
    ck_assert_ptr_ne(d->dev_node, c->dev_node);
    lvpn_config_free(d);
  }
  lvpn_config_free(c);
  {
    char line[320];
    memset(line, 'a', sizeof(line));
    memcpy(line, "dev-node /", 10);
    line[10 + 256] = '\n';
    line[10 + 257] = '\0';
    bad(line, LVPN_ECONFIG, 1,
        "dev-node: the path must be 1 to 255 bytes long");
  }
  c = ok("setenv FORWARD_COMPATIBLE 1\nsomething-new x\n");
  ck_assert(c->forward_compatible);
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert_int_eq(c->n_setenv, 1);
  lvpn_config_free(c);
  bad("setenv A b c\n", LVPN_ECONFIG, 1, "'setenv' needs a name and a value");
}
END_TEST

START_TEST(test_config_set_overrides) {
  const char *tcp[] = {"tcp", NULL};
  const char *remote[] = {"b.example", "443", NULL};
  const char *verb[] = {"7", NULL};
  const char *bad_ping[] = {"x", NULL};
  const char *allow_no[] = {"no", NULL};
  const char *noargs[] = {NULL};
  lvpn_config_t *c = ok("client\nremote a.example\nverb 3\n");

  ck_assert_int_eq(lvpn_config_set(c, "proto", tcp, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn_config_set(c, "--remote", remote, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn_config_set(c, "verb", verb, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn_config_set(c, "auth-nocache", NULL, err, sizeof(err)),
                   0);
  ck_assert_int_eq(lvpn_config_set(c, "persist-tun", noargs, err, sizeof(err)),
                   0);
  ck_assert_int_eq(c->proto.tcp, 1);
  ck_assert_int_eq(c->n_remotes, 2);
  ck_assert_uint_eq(lvpn__config_remote_port(c, 1), 443);
  ck_assert_int_eq(c->verb, 7);
  ck_assert(c->auth_nocache);
  ck_assert(c->persist_tun);

  ck_assert_int_eq(lvpn_config_set(c, "ping", bad_ping, err, sizeof(err)),
                   LVPN_ECONFIG);
  ck_assert_str_eq(err, "--ping: 'ping' must be a number from 0 to "
                        "2147483647, not 'x'");
  ck_assert_int_eq(lvpn_config_set(c, "frob", NULL, err, sizeof(err)),
                   LVPN_EUNSUPPORTED);
  ck_assert_str_eq(err, "--frob: unsupported option 'frob'");
  ck_assert_int_eq(
      lvpn_config_set(c, "allow-compression", allow_no, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn_config_set(c, "comp-lzo", NULL, err, sizeof(err)),
                   LVPN_ECOMPRESSION);
  ck_assert_int_eq(lvpn_config_set(c, "", NULL, err, sizeof(err)), LVPN_EINVAL);
  ck_assert_int_eq(lvpn_config_set(c, NULL, NULL, err, sizeof(err)),
                   LVPN_EINVAL);
  ck_assert_int_eq(lvpn_config_set(c, "verb", verb, NULL, 0), 0);
  /* relative paths are taken as given (relative to the cwd) */
  put("ca.crt", pem);
  ck_assert_int_eq(chdir(dir), 0);
  {
    const char *ca[] = {"ca.crt", NULL};
    ck_assert_int_eq(lvpn_config_set(c, "ca", ca, err, sizeof(err)), 0);
    ck_assert_str_eq(c->ca.origin, "ca.crt");
    ck_assert_str_eq(c->ca.data, pem);
  }
  lvpn_config_free(c);
}
END_TEST

START_TEST(test_config_clone_is_deep) {
  char text[1024];
  lvpn_config_t *c, *d;
  put("up.txt", "u\np\n");
  snprintf(text, sizeof(text),
           "client\nremote a.example 1\nremote b.example 2 tcp\n"
           "<ca>\n%s</ca>\nauth-user-pass up.txt\nsetenv K V\n"
           "pull-filter ignore route\ncipher BF-CBC\n"
           "ignore-unknown-option x\nup /bin/true\n",
           pem);
  c = ok(text);
  ck_assert_int_eq(lvpn__config_clone(c, &d), 0);
  ck_assert_ptr_ne(d->ca.data, c->ca.data);
  ck_assert_ptr_ne(d->remotes[0].host, c->remotes[0].host);
  ck_assert_ptr_ne(d->password, c->password);
  ck_assert_ptr_ne(d->dev, c->dev);
  lvpn_config_free(c); /* the clone must not depend on the original */
  ck_assert_str_eq(d->ca.data, pem);
  ck_assert_uint_eq(d->ca.len, strlen(pem));
  ck_assert_str_eq(d->remotes[1].host, "b.example");
  ck_assert_uint_eq(lvpn__config_remote_port(d, 1), 2);
  ck_assert_str_eq(d->username, "u");
  ck_assert_str_eq(d->password, "p");
  ck_assert_str_eq(d->setenv[0].value, "V");
  ck_assert_str_eq(d->pull_filters[0].text, "route");
  ck_assert_int_eq(d->n_warnings, 1);
  ck_assert_str_eq(d->ignore_unknown[0], "x");
  ck_assert_str_eq(d->up, "/bin/true");
  ck_assert_str_eq(d->data_ciphers, LVPN__DEFAULT_DATA_CIPHERS);
  lvpn_config_free(d);
}
END_TEST

static void expect_invalid(lvpn_config_t *c, int code, const char *msg) {
  ck_assert_int_eq(lvpn__config_validate(c, err, sizeof(err)), code);
  ck_assert_str_eq(err, msg);
}

static void set1(lvpn_config_t *c, const char *name, const char *arg) {
  const char *args[] = {arg, NULL};
  ck_assert_msg(lvpn_config_set(c, name, args, err, sizeof(err)) == 0, "%s",
                err);
}

/* OpenVPN 2.7's `dns` (config priorities may be negative), our dns-mode and
 * 2.7's dns-updown disable. */
START_TEST(test_config_dns) {
  static const fake_bad_case_t bads[] = {
      {"dns server 0 address dns.example\n", LVPN_ECONFIG, 1,
       "dns server 0: malformed address 'dns.example'"},
      {"dns server -129 address 198.18.0.1\n", LVPN_ECONFIG, 1,
       "dns server: priority '-129' is not a number from -128 to 127"},
      {"dns search-domains\n", LVPN_ECONFIG, 1, "'dns' needs 2 to 256 "
                                                "arguments"},
      {"dns-mode always\n", LVPN_ECONFIG, 1,
       "'dns-mode': unknown value 'always'"},
      {"dns-updown /etc/openvpn/dns.sh\n", LVPN_EUNSUPPORTED, 1,
       "'dns-updown /etc/openvpn/dns.sh' is not supported: layervpn applies "
       "DNS itself (see dns-mode); only 'dns-updown disable' is accepted"},
  };
  lvpn__opt_ctx_t a = {.errbuf = err, .errlen = sizeof(err)};
  lvpn_config_t *c = ok("dns server -1 address 198.18.0.1 [2001:2::1]:53\n"
                        "dns server -1 resolve-domains corp.test\n"
                        "dns search-domains a.test\n");
  ck_assert_int_eq(c->dns->n_servers, 1);
  ck_assert_int_eq(c->dns->servers[0].priority, -1);
  ck_assert_int_eq(c->dns->servers[0].n_addrs, 2);
  ck_assert_int_eq(c->dns->n_search_domains, 1);
  ck_assert_int_eq(c->dns_mode, LVPN__DNS_MODE_AUTO);
  a.cfg = c;
  ck_assert_int_eq(lvpn__config_route.validate(c, &a), 0);
  set1(c, "dns-mode", "none");
  ck_assert_int_eq(c->dns_mode, LVPN__DNS_MODE_NONE);
  lvpn_config_free(c);
  c = ok("dns-updown disable\ndns server 3 transport DoT\n");
  ck_assert_int_eq(c->dns_mode, LVPN__DNS_MODE_NONE);
  a.cfg = c;
  ck_assert_int_eq(lvpn__config_route.validate(c, &a), LVPN_ECONFIG);
  ck_assert_str_eq(err, "dns server 3 does not have an address assigned");
  lvpn_config_free(c);
  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

START_TEST(test_config_validate_names_missing_setting) {
  lvpn_config_t *c;
  put("ca.crt", pem);
  put("c.crt", "C");
  put("c.key", "K");
  put("k", "k");
  ck_assert_int_eq(chdir(dir), 0);
  ck_assert_int_eq(lvpn_config_new(&c), 0);
  expect_invalid(c, LVPN_ECONFIG, "no 'remote' given");
  set1(c, "remote", "vpn.example");
  expect_invalid(c, LVPN_ECONFIG,
                 "no 'client' given (or 'tls-client' with 'pull')");
  set1(c, "tls-client", NULL);
  expect_invalid(c, LVPN_EUNSUPPORTED,
                 "'tls-client' without 'pull' is not supported: use "
                 "'client'");
  set1(c, "client", NULL);
  expect_invalid(c, LVPN_ECONFIG,
                 "no 'ca' given (nor 'pkcs12' or 'peer-fingerprint')");
  set1(c, "ca", "ca.crt");
  expect_invalid(c, LVPN_ECONFIG,
                 "no 'cert'/'key' and no 'auth-user-pass' "
                 "given: the client cannot authenticate");
  set1(c, "cert", "c.crt");
  expect_invalid(c, LVPN_ECONFIG, "'cert' given without 'key'");
  set1(c, "key", "c.key");
  ck_assert_int_eq(lvpn__config_validate(c, err, sizeof(err)), 0);
  set1(c, "tls-auth", "k");
  set1(c, "tls-crypt", "k");
  expect_invalid(c, LVPN_ECONFIG,
                 "only one of 'tls-auth', 'tls-crypt' and "
                 "'tls-crypt-v2' may be given");
  lvpn_config_free(c);

  ck_assert_int_eq(lvpn_config_new(&c), 0);
  set1(c, "remote", "vpn.example");
  set1(c, "client", NULL);
  set1(c, "ca", "ca.crt");
  set1(c, "key", "c.key");
  expect_invalid(c, LVPN_ECONFIG, "'key' given without 'cert'");
  set1(c, "auth-user-pass", NULL);
  set1(c, "cert", "c.crt");
  set1(c, "tls-version-max", "1.1");
  expect_invalid(c, LVPN_ECONFIG,
                 "'tls-version-max' is below 'tls-version-min'");
  set1(c, "tls-version-max", "1.3");
  set1(c, "tls-version-min", "1.3");
  expect_invalid(c, LVPN_EUNSUPPORTED,
                 "'tls-version-min 1.3' cannot be met: mbedTLS 2.28 supports "
                 "TLS up to 1.2 (add 'or-highest')");
  lvpn_config_free(c);
}
END_TEST

START_TEST(test_config_bad_files_never_crash) {
  char want[1024], *big;
  unsigned seed = 7;
  lvpn_config_t *c;
  int i, j, e;

  /* the config itself is unreadable */
  snprintf(want, sizeof(want), "%s/none.ovpn", dir);
  ck_assert_int_eq(lvpn_config_load(&c, want, err, sizeof(err)), UV_ENOENT);
  ck_assert_ptr_null(c);
  snprintf(want, sizeof(want),
           "cannot read '%s/none.ovpn': No such file or directory", dir);
  ck_assert_str_eq(err, want);
  ck_assert_int_eq(lvpn_config_load(&c, dir, err, sizeof(err)), UV_EISDIR);
  ck_assert_int_eq(lvpn_config_load(NULL, dir, err, sizeof(err)), LVPN_EINVAL);

  /* binary content */
  bad_n("client\n\x7f"
        "ELF\x01\x01\0\0\0garbage\n",
        24, LVPN_ECONFIG, 2, "NUL byte in line (binary file?)");

  /* a 100 KB line, and too many words */
  big = malloc(300 * 1024);
  memset(big, 'x', 100 * 1024);
  memcpy(big, "setenv A ", 9);
  big[100 * 1024] = '\0';
  bad(big, LVPN_ECONFIG, 1, "line too long (max 65536 bytes)");
  strcpy(big, "setenv");
  for (i = 0; i < 300; i++)
    strcat(big, " w");
  bad(big, LVPN_ECONFIG, 1, "too many words on one line (max 256)");

  /* a file over the 4 MiB limit */
  memset(big, '#', 300 * 1024);
  {
    const char *p = put_n("huge.ovpn", big, 1);
    FILE *f = fopen(p, "ab");
    for (i = 0; i < 15; i++)
      ck_assert_uint_eq(fwrite(big, 1, 300 * 1024, f), 300 * 1024);
    fclose(f);
    ck_assert_int_eq(lvpn_config_load(&c, p, err, sizeof(err)), LVPN_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "file too large"));
  }

  /* random garbage: any result, but never a crash or a leak */
  for (i = 0; i < 300; i++) {
    static const char alpha[] = "abc<>/\\\"' #;\n\t-0123456789.:remote ca "
                                "route verb setenv opt inline";
    int n = 1 + (int)(rand_r(&seed) % 2000);
    for (j = 0; j < n; j++)
      big[j] = (i & 1) ? (char)(rand_r(&seed) % 256)
                       : alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
    put_n("client.ovpn", big, (size_t)n);
    snprintf(want, sizeof(want), "%s/client.ovpn", dir);
    e = lvpn_config_load(&c, want, err, sizeof(err));
    ck_assert(e <= 0);
    if (e == 0)
      lvpn_config_free(c);
    else
      ck_assert_ptr_null(c);
  }
  free(big);
}
END_TEST

/* Fills a list option to its limit through lvpn_config_set(); one more
 * entry is refused with the limit in the message. */
static void fill_list(const char *name, const char *const *args, int max) {
  char want[128];
  lvpn_config_t *c;
  int i;
  ck_assert_int_eq(lvpn_config_new(&c), 0);
  for (i = 0; i < max; i++)
    ck_assert_msg(lvpn_config_set(c, name, args, err, sizeof(err)) == 0,
                  "%s #%d: %s", name, i, err);
  ck_assert_int_eq(lvpn_config_set(c, name, args, err, sizeof(err)),
                   LVPN_ECONFIG);
  snprintf(want, sizeof(want), "--%s: too many '%s' entries (max %d)", name,
           name, max);
  ck_assert_str_eq(err, want);
  lvpn_config_free(c);
}

START_TEST(test_config_list_limits) {
  const char *route[] = {"198.18.0.0", "255.255.0.0", NULL};
  const char *route6[] = {"2001:2::/48", NULL};
  const char *dns[] = {"DNS", "198.18.0.53", NULL};
  const char *filter[] = {"ignore", "route", NULL};
  const char *env[] = {"NAME", "value", NULL};
  const char *remote[] = {"vpn.example", NULL};
  fill_list("route", route, LVPN__CONFIG_MAX_ROUTES);
  fill_list("route-ipv6", route6, LVPN__CONFIG_MAX_ROUTES);
  fill_list("dhcp-option", dns, LVPN__DHCP_MAX);
  fill_list("pull-filter", filter, LVPN__CONFIG_MAX_LIST);
  fill_list("setenv", env, LVPN__CONFIG_MAX_LIST);
  fill_list("remote", remote, LVPN__CONFIG_MAX_REMOTES);
}
END_TEST

/* A growing text buffer for the big configs below. */
typedef struct {
  char *s;
  size_t len, cap;
} text_t;

static void addf(text_t *t, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (t->len + (size_t)n + 1 > t->cap) {
    t->cap = (t->len + (size_t)n + 1) * 2;
    t->s = realloc(t->s, t->cap);
    ck_assert_ptr_nonnull(t->s);
  }
  va_start(ap, fmt);
  vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  t->len += (size_t)n;
}

/* Every list of a loaded config filled to its limit (and one entry more
 * refused with the usual message); the clone stays whole once the original
 * is freed, and shares none of its arrays. */
static void full_lists(text_t *t, int extra) {
  int i, k;
  t->len = 0;
  addf(t, "client\n");
  for (i = 0; i < LVPN__CONFIG_MAX_REMOTES + (extra == 0); i++)
    addf(t, "remote r%d.example %d\n", i, 1000 + i);
  for (i = 0; i < LVPN__CONFIG_MAX_ROUTES + (extra == 1); i++)
    addf(t, "route 198.18.%d.0 255.255.255.0\n", i % 256);
  for (i = 0; i < LVPN__CONFIG_MAX_ROUTES + (extra == 2); i++)
    addf(t, "route-ipv6 2001:2:0:%x::/64\n", i);
  for (i = 0; i < LVPN__DHCP_MAX + (extra == 3); i++)
    addf(t, "dhcp-option DNS 198.18.1.%d\n", i % 256);
  for (i = 0; i < LVPN__CONFIG_MAX_LIST + (extra == 4); i++)
    addf(t, "pull-filter ignore \"route 198.18.%d.\"\n", i);
  for (i = 0; i < LVPN__CONFIG_MAX_LIST + (extra == 5); i++)
    addf(t, "setenv NAME%d value%d\n", i, i);
  for (i = 0; i < LVPN__CONFIG_MAX_LIST + (extra == 6); i++)
    addf(t, "ignore-unknown-option unknown-%d\n", i);
  addf(t, "<peer-fingerprint>\n");
  for (i = 0; i < LVPN__CONFIG_MAX_HASHES + (extra == 7); i++) {
    for (k = 0; k < 32; k++)
      addf(t, "%02X%s", (i + k) & 0xff, k < 31 ? ":" : "\n");
  }
  addf(t, "</peer-fingerprint>\n");
  addf(t, "dns server 1 address 198.18.0.53\ndns search-domains a.test\n");
}

START_TEST(test_config_full_lists_clone) {
  static const char *const too_many[] = {
      "too many 'remote' entries (max 256)",
      "too many 'route' entries (max 256)",
      "too many 'route-ipv6' entries (max 256)",
      "too many 'dhcp-option' entries (max 64)",
      "too many 'pull-filter' entries (max 64)",
      "too many 'setenv' entries (max 64)",
      "too many ignored options (max 64)",
      "'peer-fingerprint': too many hashes (max 16)"};
  text_t t = {0};
  lvpn_config_t *c, *k;
  char want[128];
  int i, x;

  for (x = 0; x < 8; x++) { /* one entry past one limit: refused */
    full_lists(&t, x);
    ck_assert_int_eq(load(t.s, &c), LVPN_ECONFIG);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, too_many[x]) != NULL, "%s: want %s", err,
                  too_many[x]);
  }
  full_lists(&t, -1);
  c = ok(t.s);
  ck_assert_int_eq(c->n_remotes, LVPN__CONFIG_MAX_REMOTES);
  ck_assert_int_eq(c->n_routes, LVPN__CONFIG_MAX_ROUTES);
  ck_assert_int_eq(c->n_routes6, LVPN__CONFIG_MAX_ROUTES);
  ck_assert_int_eq(c->n_dhcp, LVPN__DHCP_MAX);
  ck_assert_int_eq(c->n_pull_filters, LVPN__CONFIG_MAX_LIST);
  ck_assert_int_eq(c->n_setenv, LVPN__CONFIG_MAX_LIST);
  ck_assert_int_eq(c->n_ignore_unknown, LVPN__CONFIG_MAX_LIST);
  ck_assert_int_eq(c->n_hashes, LVPN__CONFIG_MAX_HASHES);
  ck_assert_int_eq(lvpn__config_clone(c, &k), 0);
  ck_assert_ptr_ne(k->remotes, c->remotes);
  ck_assert_ptr_ne(k->routes, c->routes);
  ck_assert_ptr_ne(k->routes6, c->routes6);
  ck_assert_ptr_ne(k->dhcp, c->dhcp);
  ck_assert_ptr_ne(k->pull_filters, c->pull_filters);
  ck_assert_ptr_ne(k->setenv, c->setenv);
  ck_assert_ptr_ne(k->ignore_unknown, c->ignore_unknown);
  ck_assert_ptr_ne(k->hashes, c->hashes);
  ck_assert_ptr_ne(k->dns, c->dns);
  ck_assert_ptr_ne(k->remotes[0].host, c->remotes[0].host);
  ck_assert_ptr_ne(k->setenv[0].name, c->setenv[0].name);
  ck_assert_ptr_ne(k->pull_filters[0].text, c->pull_filters[0].text);
  ck_assert_ptr_ne(k->ignore_unknown[0], c->ignore_unknown[0]);
  lvpn_config_free(c); /* the clone owns all it uses */

  ck_assert_int_eq(k->n_remotes, LVPN__CONFIG_MAX_REMOTES);
  for (i = 0; i < k->n_remotes; i++) {
    snprintf(want, sizeof(want), "r%d.example", i);
    ck_assert_str_eq(k->remotes[i].host, want);
    ck_assert_uint_eq(lvpn__config_remote_port(k, i), 1000 + i);
  }
  ck_assert_int_eq(k->n_routes, LVPN__CONFIG_MAX_ROUTES);
  ck_assert_int_eq(k->n_routes6, LVPN__CONFIG_MAX_ROUTES);
  for (i = 0; i < LVPN__CONFIG_MAX_ROUTES; i++) {
    ck_assert_uint_eq(ntohl(k->routes[i].net.s_addr),
                      0xc6120000u | (unsigned)(i % 256) << 8);
    ck_assert_uint_eq(ntohl(k->routes[i].mask.s_addr), 0xffffff00u);
    ck_assert_uint_eq(k->routes6[i].bits, 64);
    ck_assert_uint_eq(k->routes6[i].net.s6_addr[6], (unsigned)i >> 8);
    ck_assert_uint_eq(k->routes6[i].net.s6_addr[7], (unsigned)i & 0xff);
  }
  ck_assert_int_eq(k->n_dhcp, LVPN__DHCP_MAX);
  for (i = 0; i < LVPN__DHCP_MAX; i++) {
    snprintf(want, sizeof(want), "198.18.1.%d", i);
    ck_assert_str_eq(k->dhcp[i].value, want);
  }
  ck_assert_int_eq(k->n_pull_filters, LVPN__CONFIG_MAX_LIST);
  ck_assert_int_eq(k->n_setenv, LVPN__CONFIG_MAX_LIST);
  ck_assert_int_eq(k->n_ignore_unknown, LVPN__CONFIG_MAX_LIST);
  for (i = 0; i < LVPN__CONFIG_MAX_LIST; i++) {
    snprintf(want, sizeof(want), "route 198.18.%d.", i);
    ck_assert_str_eq(k->pull_filters[i].text, want);
    ck_assert_int_eq(k->pull_filters[i].action, LVPN__PULL_IGNORE);
    snprintf(want, sizeof(want), "NAME%d", i);
    ck_assert_str_eq(k->setenv[i].name, want);
    snprintf(want, sizeof(want), "value%d", i);
    ck_assert_str_eq(k->setenv[i].value, want);
    snprintf(want, sizeof(want), "unknown-%d", i);
    ck_assert_str_eq(k->ignore_unknown[i], want);
  }
  ck_assert_int_eq(k->n_hashes, LVPN__CONFIG_MAX_HASHES);
  for (i = 0; i < LVPN__CONFIG_MAX_HASHES; i++) {
    ck_assert_uint_eq(k->hashes[i][0], (unsigned)i);
    ck_assert_uint_eq(k->hashes[i][31], (unsigned)(i + 31));
  }
  ck_assert_ptr_nonnull(k->dns);
  ck_assert_int_eq(k->dns->n_servers, 1);
  ck_assert_int_eq(k->dns->n_search_domains, 1);
  lvpn_config_free(k);

  /* nothing given: no lists at all, and a clone of that */
  c = ok("client\n");
  ck_assert_ptr_null(c->remotes);
  ck_assert_ptr_null(c->routes);
  ck_assert_ptr_null(c->dhcp);
  ck_assert_ptr_null(c->dns);
  ck_assert_int_eq(lvpn__config_clone(c, &k), 0);
  ck_assert_ptr_null(k->remotes);
  ck_assert_ptr_null(k->dns);
  ck_assert_int_eq(k->n_remotes, 0);
  lvpn_config_free(c);
  lvpn_config_free(k);
  free(t.s);
}
END_TEST

/* The area tables (lib/config_*.c) together: every option is in exactly
 * one of them and its entry is complete for its kind. */
START_TEST(test_config_area_tables) {
  const lvpn__config_area_t *const *a, *const *b;
  const lvpn__opt_t *o;
  size_t i, j;
  int found;
  for (a = lvpn__config_areas; *a != NULL; a++) {
    ck_assert_uint_gt((*a)->n_opts, 0);
    for (i = 0; i < (*a)->n_opts; i++) {
      o = &(*a)->opts[i];
      ck_assert_msg(o->min <= o->max, "%s: min > max", o->name);
      ck_assert_msg(o->kind != LVPN__OPT_FN || o->fn != NULL, "%s: no fn",
                    o->name);
      ck_assert_msg(o->kind != LVPN__OPT_KW || o->kw != NULL, "%s: no kw",
                    o->name);
      found = 0;
      for (b = lvpn__config_areas; *b != NULL; b++)
        for (j = 0; j < (*b)->n_opts; j++)
          found += strcmp((*b)->opts[j].name, o->name) == 0;
      ck_assert_msg(found == 1, "'%s' is in %d tables", o->name, found);
    }
  }
}
END_TEST

/* The proxy area's checks (validate's, without the other areas'). */
static int proxy_check(lvpn_config_t *c, char *m, size_t mlen) {
  lvpn__opt_ctx_t a = {0};
  a.cfg = c;
  a.errbuf = m;
  a.errlen = mlen;
  return lvpn__config_proxy_check(&c->proxy, c, &a);
}

/* Validate's message (no file:line) for a loaded config. */
static void check_invalid(lvpn_config_t *c, int code, const char *msg) {
  char m[512];
  ck_assert_int_eq(proxy_check(c, m, sizeof(m)), code);
  ck_assert_msg(strstr(m, msg) != NULL, "'%s' lacks '%s'", m, msg);
  lvpn_config_free(c);
}

START_TEST(test_config_http_proxy) {
  char text[1024];
  const char *auth = put("pauth.txt", "alice\r\npw:1\r\n");
  lvpn_config_t *c;

  snprintf(text, sizeof(text),
           "client\nproto tcp-client\nremote vpn.example 443\n"
           "http-proxy proxy.example 3128 %s\n"
           "http-proxy-option VERSION 1.1\n"
           "http-proxy-option AGENT \"Mozilla/5.0 (X11)\"\n"
           "http-proxy-option CUSTOM-HEADER X-Forwarded-For 1.2.3.4\n"
           "http-proxy-option EXT1 \"Via: a\"\n",
           auth);
  c = ok(text);
  ck_assert_int_eq(c->proxy.kind, LVPN__PROXY_HTTP);
  ck_assert_str_eq(c->proxy.host, "proxy.example");
  ck_assert_uint_eq(c->proxy.port, 3128);
  ck_assert(c->proxy.basic); /* an auth file means basic */
  ck_assert_str_eq(c->proxy.username, "alice");
  ck_assert_str_eq(c->proxy.password, "pw:1");
  ck_assert_str_eq(c->proxy.http_version, "1.1");
  ck_assert_str_eq(c->proxy.user_agent, "Mozilla/5.0 (X11)");
  ck_assert_int_eq(c->proxy.n_headers, 2);
  ck_assert_str_eq(c->proxy.headers[0], "X-Forwarded-For: 1.2.3.4");
  ck_assert_str_eq(c->proxy.headers[1], "Via: a");
  ck_assert_int_eq(proxy_check(c, err, sizeof(err)), 0);
  ck_assert_ptr_eq(lvpn__config_remote_proxy(c, 0), &c->proxy);
  lvpn_config_free(c);

  /* no auth; 'none' with a file: no credentials sent */
  c = ok("client\nproto tcp\nremote v\nhttp-proxy p 8080\n");
  ck_assert(!c->proxy.basic);
  ck_assert_ptr_null(c->proxy.username);
  lvpn_config_free(c);
  c = ok("client\nproto tcp\nremote v\nhttp-proxy p 8080 nofile none\n");
  ck_assert(!c->proxy.basic);
  lvpn_config_free(c);

  /* the inline block wins over a file that does not exist, before or
   * after the http-proxy line; 'stdin' too */
  c = ok("client\nproto tcp\nremote v\nhttp-proxy p 8080 missing.txt basic\n"
         "<http-proxy-user-pass>\nbob\nsecret\n</http-proxy-user-pass>\n");
  ck_assert_str_eq(c->proxy.username, "bob");
  ck_assert_str_eq(c->proxy.password, "secret");
  ck_assert_int_eq(proxy_check(c, err, sizeof(err)), 0);
  lvpn_config_free(c);
  c = ok("client\nproto tcp\nremote v\n"
         "<http-proxy-user-pass>\nbob\nsecret\n</http-proxy-user-pass>\n"
         "http-proxy p 8080 stdin\n");
  ck_assert(c->proxy.basic);
  ck_assert_str_eq(c->proxy.username, "bob");
  ck_assert_int_eq(proxy_check(c, err, sizeof(err)), 0);
  lvpn_config_free(c);

  /* auto / auto-nct: no auth until the proxy asks */
  c = ok("client\nproto tcp\nremote v\nhttp-proxy p 8080 auto\n"
         "<http-proxy-user-pass>\nbob\nsecret\n</http-proxy-user-pass>\n");
  ck_assert_int_eq(c->proxy.auto_auth, 1);
  ck_assert(!c->proxy.basic);
  ck_assert_str_eq(c->proxy.username, "bob");
  ck_assert_int_eq(proxy_check(c, err, sizeof(err)), 0);
  lvpn_config_free(c);
  c = ok("client\nproto tcp\nremote v\nhttp-proxy p 8080 auto-nct\n");
  ck_assert_int_eq(c->proxy.auto_auth, 2);
  ck_assert_int_eq(proxy_check(c, err, sizeof(err)), 0);
  lvpn_config_free(c);

  /* ... but without it, the file's error at validate, with its line */
  c = ok("client\nproto tcp\nremote v\nhttp-proxy p 8080 missing.txt\n");
  check_invalid(c, LVPN_ECONFIG, "client.ovpn:4: cannot read");
  c = ok("client\nproto tcp\nremote v\nhttp-proxy p 8080 stdin basic\n");
  check_invalid(c, LVPN_ECONFIG, "prompting for the proxy's username and "
                                 "password ('stdin') is not supported");
  /* HTTP over UDP, or a UDP remote */
  c = ok("client\nremote v\nhttp-proxy p 8080\n");
  check_invalid(c, LVPN_ECONFIG, "'http-proxy' MUST be used in TCP Client "
                                 "mode (i.e. 'proto tcp-client'): remote 'v' "
                                 "uses UDP");
  c = ok("client\nproto tcp\nremote v\nremote w 1194 udp\nhttp-proxy p 80\n");
  check_invalid(c, LVPN_ECONFIG, "remote 'w' uses UDP");
  c = ok("client\nproto tcp\nremote v\nhttp-proxy-option AGENT x\n");
  check_invalid(c, LVPN_ECONFIG, "given without 'http-proxy'");
}
END_TEST

START_TEST(test_config_http_proxy_errors) {
  static const fake_bad_case_t cases[] = {
      {"http-proxy p\n", LVPN_ECONFIG, 1, "http-proxy port number not "
                                          "defined"},
      {"http-proxy p 0\n", LVPN_ECONFIG, 1,
       "'http-proxy': bad port '0' (1..65535)"},
      {"http-proxy p 80 f ntlm\n", LVPN_EUNSUPPORTED, 1,
       "'http-proxy': NTLM proxy authentication is not supported (OpenVPN "
       "2.7 removed it too): use 'basic' or 'none'"},
      {"http-proxy p 80 f ntlm2\n", LVPN_EUNSUPPORTED, 1,
       "'http-proxy': NTLM proxy authentication is not supported (OpenVPN "
       "2.7 removed it too): use 'basic' or 'none'"},
      {"http-proxy p 80 f digest\n", LVPN_ECONFIG, 1,
       "'http-proxy': unknown HTTP authentication method 'digest' (none or "
       "basic)"},
      {"http-proxy p 80 a b c\n", LVPN_ECONFIG, 1, NULL},
      {"http-proxy-option FOO x\n", LVPN_ECONFIG, 1,
       "Bad http-proxy-option or missing or extra parameter: 'FOO' "
       "(VERSION, AGENT or CUSTOM-HEADER)"},
      {"http-proxy-option VERSION 2\n", LVPN_ECONFIG, 1,
       "'http-proxy-option VERSION': '2' is not an HTTP version (1.0 or "
       "1.1)"},
      {"http-proxy-option AGENT a b\n", LVPN_ECONFIG, 1, NULL},
      {"http-proxy-option CUSTOM-HEADER \"X: a\x01Evil: 1\"\n",
       LVPN_ECONFIG, 1,
       "'http-proxy-option CUSTOM-HEADER': control character or value too "
       "long"},
      {"<http-proxy-user-pass>\nonlyuser\n</http-proxy-user-pass>\n",
       LVPN_ECONFIG, 1, NULL},
      {"http-proxy p 80\nsocks-proxy s\n", LVPN_ECONFIG, 2,
       "'http-proxy' and 'socks-proxy' cannot be used together"},
      {"socks-proxy s\nhttp-proxy p 80\n", LVPN_ECONFIG, 2,
       "'http-proxy' and 'socks-proxy' cannot be used together"},
  };
  char many[2048] = "";
  int k;
  fake_bad_each(bad, cases, FAKE_COUNT(cases));
  for (k = 0; k <= LVPN__PROXY_MAX_HEADERS; k++)
    strcat(many, "http-proxy-option CUSTOM-HEADER X-A b\n");
  bad(many, LVPN_ECONFIG, LVPN__PROXY_MAX_HEADERS + 1,
      "Cannot use more than 10 http-proxy-option CUSTOM-HEADER");
}
END_TEST

START_TEST(test_config_socks_proxy) {
  char text[1024], longname[300];
  const char *auth = put("sauth.txt", "carol\nsocks-pw\n");
  lvpn_config_t *c, *d;

  c = ok("client\nremote v\nsocks-proxy 198.18.0.3\n");
  ck_assert_int_eq(c->proxy.kind, LVPN__PROXY_SOCKS);
  ck_assert_uint_eq(c->proxy.port, 1080);
  ck_assert_ptr_null(c->proxy.username);
  ck_assert_int_eq(proxy_check(c, err, sizeof(err)), 0);
  lvpn_config_free(c);

  snprintf(text, sizeof(text),
           "client\nproto tcp\nremote v\nsocks-proxy s.example 9050 %s\n",
           auth);
  c = ok(text);
  ck_assert_uint_eq(c->proxy.port, 9050);
  ck_assert_str_eq(c->proxy.username, "carol");
  ck_assert_str_eq(c->proxy.password, "socks-pw");
  ck_assert_int_eq(lvpn__config_clone(c, &d), 0);
  lvpn_config_free(c);
  ck_assert_str_eq(d->proxy.password, "socks-pw"); /* a deep copy */
  ck_assert_str_eq(d->proxy.host, "s.example");
  lvpn_config_free(d);

  memset(longname, 'u', 256);
  memcpy(longname + 256, "\npw\n", 5);
  put("long.txt", longname);
  bad("socks-proxy s 1080 long.txt\n", LVPN_ECONFIG, 1,
      "'socks-proxy': username and password are limited to 255 bytes each");
  bad("socks-proxy s 1080 stdin\n", LVPN_EUNSUPPORTED, 1,
      "'socks-proxy': prompting for the proxy's username and password "
      "('stdin') is not supported: put them in a file or an inline "
      "<http-proxy-user-pass> block");
  put("one.txt", "onlyuser\n");
  bad("socks-proxy s 1080 one.txt\n", LVPN_ECONFIG, 1, NULL);
  bad("socks-proxy s 1080 nope.txt\n", LVPN_ECONFIG, 1, NULL);
  bad("socks-proxy s x\n", LVPN_ECONFIG, 1,
      "'socks-proxy': bad port 'x' (1..65535)");
  bad("socks-proxy\n", LVPN_ECONFIG, 1, NULL);
}
END_TEST

/* fragment, mssfix, tun-mtu-extra, link-mtu: OpenVPN 2.6's meaning, the
 * mssfix default (options_postprocess_mutate_ce) and the conflicts. */
START_TEST(test_config_mtu_options) {
  static const fake_bad_case_t bads[] = {
      {"tun-mtu-extra x\n", LVPN_ECONFIG, 1,
       "'tun-mtu-extra' must be a number from 0 to 65535, not 'x'"},
      {"link-mtu 50\n", LVPN_ECONFIG, 1,
       "'link-mtu' must be a number from 100 to 65535, not '50'"},
      {"fragment\n", LVPN_ECONFIG, 1, NULL},
      /* OpenVPN takes them; our fixed packet buffers do not */
      {"tun-mtu 9000\n", LVPN_ECONFIG, 1,
       "'tun-mtu 9000' is more than layervpn's packet buffers hold: at most "
       "1778"},
      {"link-mtu 1889\n", LVPN_ECONFIG, 1,
       "'link-mtu 1889' is more than layervpn's packet buffers hold: at most "
       "1888"},
      {"tun-mtu-max 1779\n", LVPN_ECONFIG, 1,
       "'tun-mtu-max 1779' is more than layervpn's packet buffers hold: at "
       "most 1778"},
      {"tun-mtu-max 67\n", LVPN_ECONFIG, 1,
       "'tun-mtu-max' must be a number from 68 to 65536, not '67'"},
      {"max-packet-size 100\n", LVPN_ECONFIG, 1,
       "max-packet-size must be 154..65535, not '100'"},
      {"max-packet-size\n", LVPN_ECONFIG, 1,
       "'max-packet-size' needs 1 argument"},
  };
  lvpn_config_t *c;
  int v;
  bool mtu, fixed;

  c = ok("dev tun\n"); /* the default: 1492 mtu */
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert(v == 1492 && mtu && !fixed);
  lvpn_config_free(c);
  c = ok("fragment 1000\n"); /* mssfix follows fragment */
  ck_assert_int_eq(c->fragment, 1000);
  ck_assert(!c->fragment_mtu);
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert(v == 1000 && mtu && !fixed);
  lvpn_config_free(c);
  c = ok("fragment 1400 mtu\nmssfix 1300\n"); /* a value wins */
  ck_assert(c->fragment_mtu);
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert(v == 1300 && !mtu && !fixed);
  lvpn_config_free(c);
  c = ok("tun-mtu 1400\n"); /* another tun size: follow it, fixed */
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert(v == 1400 && fixed);
  lvpn_config_free(c);
  c = ok("mssfix 1400 mtu\nmssfix\n"); /* bare: the default again */
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert(v == 1492 && mtu && !fixed);
  lvpn_config_free(c);
  c = ok("mssfix 0\n");
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert_int_eq(v, 0);
  lvpn_config_free(c);
  /* max-packet-size: control packets and 'mssfix N mtu' (2.6) */
  c = ok("max-packet-size 1300\n");
  ck_assert_int_eq(c->tls_mtu, 1300);
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert(v == 1300 && mtu && !fixed);
  ck_assert_int_eq(c->n_warnings, 0);
  lvpn_config_free(c);
  c = ok("max-packet-size 3000\n"); /* control packets stop at 2048 */
  ck_assert_int_eq(c->tls_mtu, 2048);
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert(v == 3000 && mtu);
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], "control packets use 2048"));
  lvpn_config_free(c);
  /* per connection, as OpenVPN's ce.tls_mtu */
  c = ok("<connection>\nremote a.example\nmax-packet-size 1200\n"
         "</connection>\n<connection>\nremote b.example\n</connection>\n");
  lvpn__config_use_remote(c, 0);
  ck_assert_int_eq(c->tls_mtu, 1200);
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert(v == 1200 && mtu);
  lvpn__config_use_remote(c, 1);
  ck_assert_int_eq(c->tls_mtu, 1250);
  lvpn__config_mssfix(c, &v, &mtu, &fixed);
  ck_assert(v == 1492 && mtu);
  lvpn_config_free(c);
  c = ok("link-mtu 1500\ntun-mtu-extra 32\n");
  ck_assert_int_eq(c->link_mtu, 1500);
  ck_assert_int_eq(c->tun_mtu_extra, 32);
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], "'link-mtu' is deprecated"));
  lvpn__config_mssfix(c, &v, &mtu, &fixed); /* 2.6: no tun-mtu, no mssfix */
  ck_assert_int_eq(v, 0);
  lvpn_config_free(c);
  fake_bad_each(bad, bads, FAKE_COUNT(bads));

  put("ca.crt", pem);
  put("c.crt", "C");
  put("c.key", "K");
  ck_assert_int_eq(chdir(dir), 0);
  ck_assert_int_eq(lvpn_config_new(&c), 0);
  set1(c, "client", NULL);
  set1(c, "remote", "vpn.example");
  set1(c, "ca", "ca.crt");
  set1(c, "cert", "c.crt");
  set1(c, "key", "c.key");
  set1(c, "tun-mtu", "1400");
  set1(c, "link-mtu", "1500");
  expect_invalid(c, LVPN_ECONFIG,
                 "only one of 'tun-mtu' or 'link-mtu' may be given");
  c->link_mtu = 0;
  set1(c, "fragment", "1300");
  ck_assert_int_eq(lvpn__config_validate(c, err, sizeof(err)), 0);
  set1(c, "proto", "tcp");
  expect_invalid(c, LVPN_ECONFIG,
                 "'fragment' can only be used with 'proto udp' (remote 1 "
                 "is TCP)");
  lvpn_config_free(c);
}
END_TEST

/* disable-offload [tun|udp]: no argument turns both off; each argument one;
 * both arguments in two lines are both; the command line's form too. */
START_TEST(test_config_disable_offload) {
  static const fake_bad_case_t bads[] = {
      {"disable-offload gso\n", LVPN_ECONFIG, 1,
       "'disable-offload': unknown value 'gso' (want 'tun', 'udp', or "
       "nothing for both)"},
      {"disable-offload tun udp\n", LVPN_ECONFIG, 1,
       "'disable-offload' takes at most 1 argument (2 given)"},
      {"mssfix 1400 mtu x\n", LVPN_ECONFIG, 1,
       "'mssfix' takes at most 2 arguments (3 given)"},
  };
  const char *udp[] = {"udp", NULL};
  lvpn_config_t *c = ok("dev tun\n");
  ck_assert(!c->disable_offload && !c->disable_udp_offload);
  lvpn_config_free(c);
  c = ok("disable-offload\n");
  ck_assert(c->disable_offload && c->disable_udp_offload);
  lvpn_config_free(c);
  c = ok("disable-offload tun\n");
  ck_assert(c->disable_offload && !c->disable_udp_offload);
  lvpn_config_free(c);
  c = ok("disable-offload UDP\n");
  ck_assert(!c->disable_offload && c->disable_udp_offload);
  lvpn_config_free(c);
  c = ok("disable-offload udp\ndisable-offload tun\n");
  ck_assert(c->disable_offload && c->disable_udp_offload);
  lvpn_config_free(c);
  c = ok("dev tun\n");
  ck_assert_int_eq(lvpn_config_set(c, "disable-offload", udp, err, sizeof(err)),
                   0);
  ck_assert(!c->disable_offload && c->disable_udp_offload);
  ck_assert_int_eq(
      lvpn_config_set(c, "disable-offload", NULL, err, sizeof(err)), 0);
  ck_assert(c->disable_offload && c->disable_udp_offload);
  lvpn_config_free(c);
  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

/* The proxy area's whole validation: the global proxy and every block's. */
static int proxies_validate(lvpn_config_t *c, char *m, size_t mlen) {
  lvpn__opt_ctx_t a = {0};
  a.cfg = c;
  a.errbuf = m;
  a.errlen = mlen;
  return lvpn__config_proxy.validate(c, &a);
}

/* Proxies per <connection> block, as OpenVPN keeps them per connection
 * entry: a block starts from the global proxy in force where it appears
 * and may set its own; a clone copies each block's strings. */
START_TEST(test_config_connection_block_proxies) {
  char m[512];
  lvpn_config_t *c = ok(
      "client\nhttp-proxy 198.18.0.3 8080\n"
      "<connection>\nremote a.example 443 tcp\n</connection>\n"
      "<connection>\nremote b.example 443 tcp\nhttp-proxy 198.18.0.4 3128\n"
      "http-proxy-option AGENT blockagent\n</connection>\n");
  lvpn_config_t *d;
  lvpn__proxy_t *p0, *p1;

  p0 = lvpn__config_remote_proxy(c, 0);
  p1 = lvpn__config_remote_proxy(c, 1);
  ck_assert_int_eq(p0->kind, LVPN__PROXY_HTTP); /* inherited */
  ck_assert_str_eq(p0->host, "198.18.0.3");
  ck_assert_int_eq(p1->kind, LVPN__PROXY_HTTP); /* the block's own */
  ck_assert_str_eq(p1->host, "198.18.0.4");
  ck_assert_str_eq(p1->user_agent, "blockagent");
  ck_assert_ptr_ne(p0->host, c->proxy.host); /* deep copies */
  ck_assert_int_eq(proxy_check(c, m, sizeof(m)), 0);
  ck_assert_int_eq(lvpn__config_clone(c, &d), 0);
  lvpn_config_free(c);
  ck_assert_str_eq(lvpn__config_remote_proxy(d, 1)->user_agent, "blockagent");
  ck_assert_str_eq(lvpn__config_remote_proxy(d, 0)->host, "198.18.0.3");
  lvpn_config_free(d);

  /* SOCKS in a UDP block is fine; an HTTP proxy in a UDP block is
   * refused, naming the block's remote */
  c = ok("client\n<connection>\nremote s.example 1194 udp\n"
         "socks-proxy 198.18.0.3\n</connection>\n");
  ck_assert_int_eq(proxies_validate(c, m, sizeof(m)), 0);
  ck_assert_int_eq(lvpn__config_remote_proxy(c, 0)->kind, LVPN__PROXY_SOCKS);
  ck_assert_int_eq(c->proxy.kind, LVPN__PROXY_NONE);
  lvpn_config_free(c);
  c = ok("client\n<connection>\nremote u.example 1194 udp\n"
         "http-proxy 198.18.0.4 3128\n</connection>\n"
         "<connection>\nremote t.example 443 tcp\n</connection>\n");
  ck_assert_int_eq(proxies_validate(c, m, sizeof(m)), LVPN_ECONFIG);
  ck_assert_msg(strstr(m, "remote 'u.example' uses UDP") != NULL, "%s", m);
  lvpn_config_free(c);
}
END_TEST

/* tls-auth / tls-crypt / tls-crypt-v2 / key-direction in a block: the
 * entry's own key (and direction), deep-copied by a clone; an entry
 * without one uses the global key wherever it is given (OpenVPN's
 * options_postprocess_mutate_ce); two kinds in one block are refused. */
START_TEST(test_config_connection_block_wrap_keys) {
  static const fake_bad_case_t bads[] = {
      {"client\n<connection>\nremote a\ntls-auth ta.key 1\ntls-crypt tc.key\n"
       "</connection>\n",
       LVPN_ECONFIG, 2,
       "only one of 'tls-auth', 'tls-crypt' and 'tls-crypt-v2' may be given "
       "in a <connection>"},
      {"client\n<connection>\nremote a\ntls-crypt nosuch.key\n</connection>\n",
       LVPN_EKEYFILE, 4, NULL},
  };
  const lvpn__blob_t *key;
  lvpn_config_t *c, *k;
  int kdir;

  put("ta.key", "TA\n");
  put("tb.key", "TB\n");
  put("tc.key", "TC\n");
  c = ok("client\ntls-auth ta.key 1\n"
         "<connection>\nremote a.example\n</connection>\n"
         "<connection>\nremote b.example\n<tls-crypt>\nBLOCK\n</tls-crypt>\n"
         "</connection>\n"
         "<connection>\nremote c.example\ntls-auth tb.key 0\n</connection>\n"
         "<connection>\nremote d.example\nkey-direction 1\ntls-auth tb.key\n"
         "</connection>\n"
         "<connection>\nremote e.example\nkey-direction 0\n</connection>\n");
  ck_assert_int_eq(c->n_remotes, 5);
  /* a: none of its own: the global tls-auth and direction */
  ck_assert_int_eq(lvpn__config_remote_wrap(c, 0, &key, &kdir), LVPN__WRAP_AUTH);
  ck_assert_ptr_eq(key, &c->tls_auth);
  ck_assert_int_eq(kdir, 1);
  /* b: its inline tls-crypt only */
  ck_assert_int_eq(lvpn__config_remote_wrap(c, 1, &key, &kdir),
                   LVPN__WRAP_CRYPT);
  ck_assert_str_eq(key->data, "BLOCK\n");
  ck_assert_int_eq(kdir, -1);
  /* c, d: their own tls-auth, with the block's direction */
  ck_assert_int_eq(lvpn__config_remote_wrap(c, 2, &key, &kdir), LVPN__WRAP_AUTH);
  ck_assert_str_eq(key->data, "TB\n");
  ck_assert_int_eq(kdir, 0);
  ck_assert_int_eq(lvpn__config_remote_wrap(c, 3, &key, &kdir), LVPN__WRAP_AUTH);
  ck_assert_int_eq(kdir, 1);
  /* e: key-direction alone is ignored there (warned): the global applies */
  ck_assert_int_eq(lvpn__config_remote_wrap(c, 4, &key, &kdir), LVPN__WRAP_AUTH);
  ck_assert_ptr_eq(key, &c->tls_auth);
  ck_assert_int_eq(kdir, 1);
  ck_assert_int_eq(c->n_warnings, 1);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], "'key-direction' inside "
                                               "<connection> without a "
                                               "'tls-auth' there is ignored"));
  /* the global settings are untouched by the blocks */
  ck_assert_str_eq(c->tls_auth.data, "TA\n");
  ck_assert_int_eq(lvpn__config_tls_auth_direction(c), 1);
  ck_assert_ptr_null(c->tls_crypt.data);
  /* a clone owns copies of the blocks' keys */
  ck_assert_int_eq(lvpn__config_clone(c, &k), 0);
  ck_assert_ptr_ne(k->remotes[1].wrap_key.data, c->remotes[1].wrap_key.data);
  lvpn_config_free(c);
  ck_assert_int_eq(lvpn__config_remote_wrap(k, 1, &key, &kdir),
                   LVPN__WRAP_CRYPT);
  ck_assert_str_eq(key->data, "BLOCK\n");
  lvpn_config_free(k);

  /* a global key given after the blocks still applies to those without */
  c = ok("client\n<connection>\nremote a.example\n</connection>\n"
         "<connection>\nremote b.example\ntls-auth tb.key 1\n</connection>\n"
         "tls-crypt tc.key\n");
  ck_assert_int_eq(lvpn__config_remote_wrap(c, 0, &key, &kdir),
                   LVPN__WRAP_CRYPT);
  ck_assert_str_eq(key->data, "TC\n");
  ck_assert_int_eq(lvpn__config_remote_wrap(c, 1, &key, &kdir), LVPN__WRAP_AUTH);
  ck_assert_int_eq(kdir, 1);
  lvpn_config_free(c);
  /* no key anywhere */
  c = ok("client\nremote a.example\n");
  ck_assert_int_eq(lvpn__config_remote_wrap(c, 0, &key, &kdir), LVPN__WRAP_NONE);
  ck_assert_ptr_null(key);
  lvpn_config_free(c);
  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

/* <connection> blocks: global settings before a block are its defaults,
 * its own options stay its own, remote lines are ignored once blocks are
 * given, options not allowed inside are refused with file:line. */
START_TEST(test_config_connection_blocks) {
  static const fake_bad_case_t bads[] = {
      {"client\n<connection>\nremote a\nca x.pem\n</connection>\n",
       LVPN_ECONFIG, 4,
       "'ca' is not allowed inside <connection> (only per-connection options "
       "are)"},
      {"<connection>\nremote a\nnobind\nlport 5000\n</connection>\n",
       LVPN_ECONFIG, 1, "'lport' and 'nobind' cannot be used together"},
      {"local example.com\n", LVPN_EUNSUPPORTED, 1,
       "'local example.com': only an IP address is supported here"},
  };
  lvpn_config_t *c = ok("client\nremote old.example\nconnect-timeout 7\n"
                        "port 1000\n"
                        "<connection>\nremote a.example\nproto tcp\n"
                        "connect-timeout 3\nlport 0\nfloat\n"
                        "</connection>\n"
                        "<connection>\nremote b.example 2000 udp6\n"
                        "</connection>\n"
                        "remote late.example\nconnect-timeout 9\n");
  ck_assert(c->conn_blocks);
  ck_assert_int_eq(c->n_remotes, 2);
  ck_assert_str_eq(c->remotes[0].host, "a.example");
  ck_assert_uint_eq(lvpn__config_remote_port(c, 0), 1000);
  ck_assert(lvpn__config_remote_proto(c, 0).tcp);
  ck_assert_uint_eq(lvpn__config_remote_port(c, 1), 2000);
  ck_assert(lvpn__config_remote_proto(c, 1).family == 6);
  /* global settings after the blocks: the config's own (warned) */
  ck_assert_int_eq(c->connect_timeout, 9);
  ck_assert(!c->floating && !lvpn__config_bind_local(c));
  ck_assert_int_eq(c->n_warnings, 3);
  ck_assert_ptr_nonnull(strstr(c->warnings[0], ":5: 1 'remote' line(s) "
                                               "ignored"));
  ck_assert_ptr_nonnull(strstr(c->warnings[1], ":15: 'remote' outside"));
  ck_assert_ptr_nonnull(strstr(c->warnings[2], ":16: option "
                                               "'connect-timeout' is ignored "
                                               "by previous <connection>"));
  { /* a clone owns its own copies of the blocks' settings */
    lvpn_config_t *k;
    ck_assert_int_eq(lvpn__config_clone(c, &k), 0);
    ck_assert_ptr_ne(k->remotes[0].fields, c->remotes[0].fields);
    lvpn__config_use_remote(k, 0);
    ck_assert_int_eq(k->connect_timeout, 3);
    lvpn_config_free(k);
  }
  lvpn__config_use_remote(c, 0);
  ck_assert_int_eq(c->connect_timeout, 3);
  ck_assert(c->floating && lvpn__config_bind_local(c) && c->lport == 0);
  ck_assert(c->proto.tcp);
  lvpn__config_use_remote(c, 1);
  ck_assert_int_eq(c->connect_timeout, 7); /* the global one at the block */
  ck_assert(!c->floating && !lvpn__config_bind_local(c));
  ck_assert_uint_eq(c->port, 1000);
  lvpn_config_free(c);

  c = ok("remote a\nlport 5000\nlocal 198.18.0.2\nbind ipv6only\n"
         "remote-random-hostname\npersist-remote-ip\n");
  ck_assert(lvpn__config_bind_local(c) && c->lport == 5000);
  ck_assert_str_eq(c->local, "198.18.0.2");
  ck_assert(c->remote_random_hostname && c->persist_remote_ip);
  lvpn_config_free(c);
  c = ok("client\nremote a\nbind\nnobind\n");
  ck_assert_int_eq(lvpn__config_validate(c, err, sizeof(err)), LVPN_ECONFIG);
  ck_assert_str_eq(err, "'bind' and 'nobind' cannot be used together");
  lvpn_config_free(c);
  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

/* A block's tun-mtu is its own, 'given' included: another block's link-mtu
 * still stands for the tun MTU there, and the defaults see no tun-mtu. */
START_TEST(test_config_connection_tun_mtu_given) {
  lvpn_config_t *c = ok("client\n<connection>\nremote a\ntun-mtu 1400\n"
                        "</connection>\n<connection>\nremote b\n"
                        "link-mtu 1450\n</connection>\n");
  ck_assert(!c->tun_mtu_given);
  lvpn__config_use_remote(c, 0);
  ck_assert(c->tun_mtu_given);
  ck_assert_int_eq(c->tun_mtu, 1400);
  ck_assert_int_eq(c->link_mtu, 0);
  lvpn__config_use_remote(c, 1);
  ck_assert(!c->tun_mtu_given);
  ck_assert_int_eq(c->link_mtu, 1450);
  lvpn_config_free(c);
  /* a block's fragment over TCP is refused as a global one is */
  bad("<connection>\nremote a\nproto tcp\nfragment 1300\n</connection>\n",
      LVPN_ECONFIG, 1,
      "'fragment' can only be used with 'proto udp' (this <connection> is "
      "TCP)");
}
END_TEST

/* Session and script options of the process issue: stored as OpenVPN
 * means them; ping-exit and ping-restart are one timeout, the last wins. */
START_TEST(test_config_session_and_script_options) {
  lvpn_config_t *c = ok("remote 198.18.0.1\nclient\nping-exit 30\n"
                        "ping-restart 40\npasstos\ntls-exit\n"
                        "inactive 600 100000\nreneg-bytes 5000000\n"
                        "reneg-pkts 9000\nroute-up \"/bin/true up\"\n"
                        "route-pre-down /bin/true\nipchange /bin/true\n"
                        "remap-usr1 SIGHUP\ncd /etc\nlog rel.log\n"
                        "status /run/s.st\n");
  ck_assert_int_eq(c->ping_restart, 40);
  ck_assert_int_eq(c->ping_exit, 0);
  ck_assert(c->passtos);
  ck_assert(c->tls_exit);
  ck_assert_int_eq(c->inactive, 600);
  ck_assert_int_eq(c->inactive_bytes, 100000);
  ck_assert_uint_eq(c->reneg_bytes, 5000000);
  ck_assert_uint_eq(c->reneg_pkts, 9000);
  ck_assert_str_eq(c->route_up, "/bin/true up");
  ck_assert_str_eq(c->route_pre_down, "/bin/true");
  ck_assert_str_eq(c->ipchange, "/bin/true");
  ck_assert_int_eq(c->remap_usr1, 1);
  ck_assert_str_eq(c->log_file, "/etc/rel.log"); /* below cd */
  ck_assert_str_eq(c->status_file, "/run/s.st");
  ck_assert_int_eq(c->status_interval, 60);
  lvpn_config_free(c);
  bad("remap-usr1 SIGINT\n", LVPN_ECONFIG, 1,
      "'remap-usr1': unknown value 'SIGINT'");
  bad("status\n", LVPN_ECONFIG, 1, "'status' needs 1 to 2 arguments");
}
END_TEST

/* Clients made from one config share one copy of it; a change to the
 * config gives later clients a new one; a holder that writes gets its own. */
START_TEST(test_config_share_copy_on_write) {
  lvpn_config_t *c = ok("client\nremote a.example 1194\nverb 4\n");
  lvpn_config_t *s1, *s2, *s3, *mine;
  const char *args[] = {"5", NULL};
  ck_assert_int_eq(lvpn__config_share(c, &s1), 0);
  ck_assert_int_eq(lvpn__config_share(c, &s2), 0);
  ck_assert_ptr_eq(s1, s2);
  ck_assert_ptr_ne(s1, c);
  ck_assert_int_eq(s1->verb, 4);
  ck_assert_uint_eq(s1->snap_refs, 3); /* c, s1, s2 */
  ck_assert_int_eq(lvpn_config_set(c, "verb", args, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn__config_share(c, &s3), 0);
  ck_assert_ptr_ne(s3, s1); /* later clients see the change */
  ck_assert_int_eq(s3->verb, 5);
  ck_assert_int_eq(s1->verb, 4); /* earlier ones keep theirs */
  ck_assert_uint_eq(s1->snap_refs, 2);
  mine = s2;
  ck_assert_int_eq(lvpn__config_own(&mine), 0);
  ck_assert_ptr_ne(mine, s1);
  ck_assert_str_eq(mine->remotes[0].host, "a.example");
  ck_assert_uint_eq(s1->snap_refs, 1);
  ck_assert_int_eq(lvpn__config_own(&s1), 0); /* alone: kept */
  lvpn_config_free(c); /* holders outlive the config */
  ck_assert_str_eq(s3->remotes[0].host, "a.example");
  lvpn__config_unshare(s1);
  lvpn__config_unshare(s3);
  lvpn__config_unshare(mine);
}
END_TEST

/* The outside socket's options: mark, bind-dev, mtu-disc (per connection,
 * as OpenVPN), socket-flags / tcp-nodelay (TCP_NODELAY, always on here),
 * persist-local-ip (local is an IP address: never resolved again). */
START_TEST(test_config_socket_options) {
  static const fake_bad_case_t bads[] = {
      {"mark x\n", LVPN_ECONFIG, 1,
       "'mark' must be a number from 0 to 4294967295, not 'x'"},
      {"mark 4294967296\n", LVPN_ECONFIG, 1, NULL},
      {"bind-dev 0123456789abcdef\n", LVPN_ECONFIG, 1,
       "'bind-dev 0123456789abcdef': not a network device name (1 to 15 "
       "characters, no '/')"},
      {"bind-dev a/b\n", LVPN_ECONFIG, 1, NULL},
      {"mtu-disc always\n", LVPN_ECONFIG, 1,
       "'mtu-disc': unknown value 'always' (no, maybe or yes)"},
      {"socket-flags TCP_NODELAY SO_REUSEPORT\n", LVPN_ECONFIG, 1,
       "'socket-flags': unknown flag 'SO_REUSEPORT' (only TCP_NODELAY)"},
  };
  lvpn_config_t *c = ok("client\nremote a\n");
  ck_assert_uint_eq(c->mark, 0);
  ck_assert_str_eq(c->bind_dev, "");
  ck_assert_int_eq(c->mtu_disc, -1);
  ck_assert_int_eq(c->session_timeout, 0);
  lvpn_config_free(c);
  c = ok("session-timeout 3600\n");
  ck_assert_int_eq(c->session_timeout, 3600);
  lvpn_config_free(c);
  c = ok("mark 42\nbind-dev vrf-blue\nmtu-disc maybe\nsocket-flags "
         "TCP_NODELAY\ntcp-nodelay\npersist-local-ip\n");
  ck_assert_uint_eq(c->mark, 42);
  ck_assert_str_eq(c->bind_dev, "vrf-blue");
  ck_assert_int_eq(c->mtu_disc, 1);
  ck_assert_int_eq(c->n_warnings, 0);
  lvpn_config_free(c);
  c = ok("mtu-disc no\n");
  ck_assert_int_eq(c->mtu_disc, 0);
  lvpn_config_free(c);
  c = ok("mtu-disc yes\n");
  ck_assert_int_eq(c->mtu_disc, 2);
  lvpn_config_free(c);
  fake_bad_each(bad, bads, FAKE_COUNT(bads));
}
END_TEST

LVPN_TEST_MAIN("config", 30, setup, teardown, test_config_defaults,
               test_config_socket_options,
               test_config_session_and_script_options,
               test_config_typical_file_with_inline_blocks,
               test_config_quoting_and_escapes,
               test_config_comments_blank_lines_bom_crlf,
               test_config_inline_block_errors,
               test_config_inline_tls_auth_and_auth_user_pass,
               test_config_relative_paths_and_unreadable_files,
               test_config_auth_user_pass_file, test_config_remote_proto_port,
               test_config_dev, test_config_tls_options,
               test_config_ciphers_and_auth, test_config_compression,
               test_config_numbers_and_timers, test_config_routes_dns_scripts, test_config_dns,
               test_config_noops_unsupported_server_options,
               test_config_setenv_opt_and_ignore_unknown,
               test_config_set_overrides, test_config_clone_is_deep,
               test_config_validate_names_missing_setting,
               test_config_bad_files_never_crash, test_config_list_limits,
               test_config_full_lists_clone,
               test_config_area_tables, test_config_http_proxy,
               test_config_http_proxy_errors, test_config_socks_proxy,
               test_config_mtu_options, test_config_disable_offload,
               test_config_connection_blocks,
               test_config_connection_block_wrap_keys,
               test_config_connection_block_proxies,
               test_config_share_copy_on_write,
               test_config_connection_tun_mtu_given)
