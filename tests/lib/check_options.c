/* lib/config: every client option of OpenVPN's manual has one treatment
 * (implemented, warned, or refused with a reason), the options 2.6
 * removed, and the certificate, privilege and file options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layervpn.h"
#include "lib/config.h"
#include "lib/config_opts.h"
#include "tests/fakes.h"

static char err[1024];
static char path[512];

static const char *srcdir(void) {
  const char *d = getenv("LVPN_SRCDIR");
  return d != NULL ? d : ".";
}

/* Writes `text` (with "%s" replaced by the test PKI directory) to a
 * temporary .ovpn and loads it. */
static int load(const char *text, lvpn_config_t **cfg) {
  char body[8192];
  FILE *f;
  int fd;
  snprintf(path, sizeof(path), "/tmp/lvpn_opt_XXXXXX");
  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  snprintf(body, sizeof(body), text, srcdir());
  f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(body, f);
  fclose(f);
  *cfg = NULL;
  err[0] = '\0';
  fd = lvpn_config_load(cfg, path, err, sizeof(err));
  unlink(path);
  return fd;
}

static lvpn_config_t *ok(const char *text) {
  lvpn_config_t *c;
  int e = load(text, &c);
  ck_assert_msg(e == 0, "load failed: %s (%s)", err, lvpn_err_name(e));
  return c;
}

/* Expects `code` and an error ending in "<file>:<line>: <msg>". */
static void bad(const char *text, int code, int line, const char *msg) {
  char want[1024];
  lvpn_config_t *c;
  int e = load(text, &c);
  ck_assert_msg(e == code, "'%s': got %s (%s)", text, lvpn_err_name(e), err);
  ck_assert_ptr_null(c);
  snprintf(want, sizeof(want), "%s:%d: %s", path, line, msg);
  ck_assert_str_eq(err, want);
}

static bool has_warning(const lvpn_config_t *c, const char *s) {
  int i;
  for (i = 0; i < c->n_warnings; i++)
    if (strstr(c->warnings[i], s) != NULL)
      return true;
  return false;
}

START_TEST(test_options_every_manual_option_has_a_treatment) {
  char line[256], name[128], section[128], want[300];
  const lvpn__opt_t *o;
  lvpn_config_t *c;
  FILE *f;
  int n = 0, server = 0, refused = 0, warned = 0, e;

  snprintf(line, sizeof(line), "%s/tests/data/openvpn-client-options.txt",
           srcdir());
  f = fopen(line, "r");
  ck_assert_msg(f != NULL, "cannot open %s (set LVPN_SRCDIR)", line);
  while (fgets(line, sizeof(line), f) != NULL) {
    if (line[0] == '#' || sscanf(line, "%127s %127s", name, section) != 2)
      continue;
    n++;
    o = lvpn__config_lookup(name);
    ck_assert_int_eq(lvpn_config_new(&c), 0);
    e = lvpn_config_set(c, name, NULL, err, sizeof(err));
    if (strcmp(section, "server-options") == 0) {
      ck_assert_msg(o == NULL && lvpn__config_is_server_option(name),
                    "server option '%s' is not answered as one", name);
      snprintf(want, sizeof(want), "--%s: '%s' is a server option", name, name);
      ck_assert_str_eq(err, want);
      server++;
    } else {
      ck_assert_msg(o != NULL || lvpn__config_is_server_option(name),
                    "'%s' (%s) has no treatment", name, section);
      ck_assert_msg(e == 0 || strstr(err, "unsupported option") == NULL,
                    "'%s': %s", name, err);
      if (o != NULL && o->kind == LVPN__OPT_REFUSE) {
        ck_assert_msg(o->why != NULL && strlen(o->why) > 10, "%s", name);
        ck_assert_int_eq(e, LVPN_EUNSUPPORTED);
        snprintf(want, sizeof(want), "--%s: '%s' %s", name, name, o->why);
        ck_assert_str_eq(err, want);
        refused++;
      }
      if (o != NULL && o->kind == LVPN__OPT_WARN) {
        ck_assert_int_eq(e, 0);
        ck_assert_int_eq(c->n_warnings, 1);
        warned++;
      }
    }
    lvpn_config_free(c);
  }
  fclose(f);
  ck_assert_int_gt(n, 280);
  ck_assert_int_gt(server, 30);
  printf("options: %d names, %d server, %d refused, %d warned\n", n, server,
         refused, warned);
}
END_TEST

START_TEST(test_options_unknown_is_still_unknown) {
  lvpn_config_t *c;
  ck_assert_int_eq(lvpn_config_new(&c), 0);
  ck_assert_int_eq(lvpn_config_set(c, "frobnicate", NULL, err, sizeof(err)),
                   LVPN_EUNSUPPORTED);
  ck_assert_str_eq(err, "--frobnicate: unsupported option 'frobnicate'");
  lvpn_config_free(c);
}
END_TEST

START_TEST(test_options_removed_in_26) {
  lvpn_config_t *c = ok("keysize 256\nncp-disable\nprng SHA1\n");
  ck_assert_int_eq(c->n_warnings, 3);
  ck_assert(has_warning(c, ":1: 'keysize' ignored: removed in OpenVPN 2.6"));
  ck_assert(has_warning(c, ":2: 'ncp-disable' ignored: removed in OpenVPN "
                           "2.6"));
  lvpn_config_free(c);
  static const fake_bad_case_t cases1[] = {
      {"client\ntls-remote server\n", LVPN_EUNSUPPORTED, 2,
       "'tls-remote' was removed in OpenVPN 2.4: use "
       "'verify-x509-name NAME name'"},
      {"secret static.key 1\n", LVPN_EUNSUPPORTED, 1,
       "'secret' (static-key mode) is not supported: it has no forward "
       "secrecy and OpenVPN 2.7 removes it; use TLS ('client' with "
       "'ca'/'cert'/'key')"},
      {"<secret>\nabc\n</secret>\n", LVPN_EUNSUPPORTED, 1,
       "'secret' (static-key mode) is not supported: it has no forward "
       "secrecy and OpenVPN 2.7 removes it; use TLS ('client' with "
       "'ca'/'cert'/'key')"},
  };
  fake_bad_each(bad, cases1, FAKE_COUNT(cases1));
  /* security refusals are not turned into warnings by setenv opt */
  bad("setenv opt tls-verify /bin/true\n", LVPN_EUNSUPPORTED, 1,
      "'tls-verify' is not supported: certificate-checking scripts are not "
      "run; use verify-x509-name, remote-cert-* or peer-fingerprint");
  bad("ignore-unknown-option no-replay\nno-replay\n", LVPN_EUNSUPPORTED, 2,
      "'no-replay' is not supported: replay protection cannot be turned off "
      "(removed in OpenVPN 2.7)");
}
END_TEST

START_TEST(test_options_not_yet_refused_with_reason) {
  lvpn_config_t *c;
  static const fake_bad_case_t cases2[] = {
      {"mtu-test\n", LVPN_EUNSUPPORTED, 1,
       "'mtu-test' is not supported yet"},
      {"setcon system_u:system_r:openvpn_t\n", LVPN_EUNSUPPORTED, 1,
       "'setcon' is not supported: this client does not change its SELinux "
       "context"},
      {"plugin /usr/lib/x.so\n", LVPN_EUNSUPPORTED, 1,
       "'plugin' is not supported: plugins cannot be loaded"},
      {"management-external-key\n", LVPN_EUNSUPPORTED, 1,
       "'management-external-key' is not supported by this client's "
       "management interface"},
      {"genkey secret x\n", LVPN_EUNSUPPORTED, 1,
       "'genkey' is a command of the openvpn program, not a connection "
       "option"},
  };
  fake_bad_each(bad, cases2, FAKE_COUNT(cases2));
  /* a not-yet option is only a warning under ignore-unknown-option */
  c = ok("ignore-unknown-option mtu-test\nmtu-test\n");
  ck_assert(has_warning(c, ":2: ignoring unsupported option 'mtu-test': "
                           "it is not supported yet"));
  lvpn_config_free(c);
}
END_TEST

START_TEST(test_options_windows_only_warn) {
  lvpn_config_t *c = ok("block-outside-dns\nregister-dns\ndhcp-renew\n"
                        "tap-sleep 5\nwin-sys env\n");
  ck_assert_int_eq(c->n_warnings, 5);
  ck_assert(has_warning(c, ":1: 'block-outside-dns' ignored: Windows only"));
  ck_assert(has_warning(c, ":4: 'tap-sleep' ignored: Windows only"));
  lvpn_config_free(c);
}
END_TEST

START_TEST(test_options_certificate_checks_parse) {
  lvpn_config_t *c =
      ok("ns-cert-type server\nremote-cert-ku a0 88\n"
         "remote-cert-eku \"TLS Web Server Authentication\"\n"
         "tls-cert-profile preferred\ntls-groups X25519:prime256v1\n"
         "crl-verify %1$s/tests/data/pki/ca.crt\n"
         "tls-version-max 1.2\nuse-prediction-resistance\n");
  ck_assert_int_eq(c->ns_cert_type, LVPN__CERT_TLS_SERVER);
  ck_assert(c->ku_required);
  ck_assert_int_eq(c->n_ku, 2);
  ck_assert_uint_eq(c->ku[0], 0xa0);
  ck_assert_uint_eq(c->ku[1], 0x88);
  ck_assert_str_eq(c->remote_cert_eku, "TLS Web Server Authentication");
  ck_assert_int_eq(c->tls_cert_profile, LVPN__CERT_PROFILE_PREFERRED);
  ck_assert_str_eq(c->tls_groups, "X25519:prime256v1");
  ck_assert_ptr_nonnull(c->crl.data);
  ck_assert_int_eq(c->tls_version_max, 2);
  ck_assert(c->prediction_resistance);
  lvpn_config_free(c);

  c = ok("remote-cert-ku\n");
  ck_assert(c->ku_required);
  ck_assert_int_eq(c->n_ku, 0);
  lvpn_config_free(c);
  c = ok("<crl-verify>\n-----BEGIN X509 CRL-----\nAA\n-----END X509 "
         "CRL-----\n</crl-verify>\n");
  ck_assert_ptr_nonnull(strstr(c->crl.data, "BEGIN X509 CRL"));
  lvpn_config_free(c);

  static const fake_bad_case_t cases3[] = {
      {"ns-cert-type peer\n", LVPN_ECONFIG, 1,
       "'ns-cert-type': unknown value 'peer'"},
      {"remote-cert-ku zz\n", LVPN_ECONFIG, 1,
       "'remote-cert-ku': 'zz' is not a key usage in hex (1..ffff)"},
      {"tls-cert-profile strict\n", LVPN_ECONFIG, 1,
       "'tls-cert-profile': unknown value 'strict'"},
      {"tls-groups X25519:nope\n", LVPN_ECONFIG, 1,
       "'tls-groups': unknown or unsupported group 'nope'"},
      {"crl-verify /etc/crl dir\n", LVPN_EUNSUPPORTED, 1,
       "'crl-verify DIR dir' is not supported: give the CA's CRL file "
       "('crl-verify FILE')"},
      {"crl-verify /nonexistent/crl.pem\n", LVPN_EKEYFILE, 1,
       "cannot read '/nonexistent/crl.pem': No such file or directory"},
  };
  fake_bad_each(bad, cases3, FAKE_COUNT(cases3));
}
END_TEST

#define FP32                                                                   \
  "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:"   \
  "88:99:aa:bb:cc:dd:ee:ff"
#define FP20 "AD:B0:95:D8:09:C8:36:45:12:A9:89:C8:90:09:CB:13:72:A6:AD:16"

START_TEST(test_options_fingerprints) {
  char msg[256];
  lvpn_config_t *c = ok("peer-fingerprint " FP32 "\n<peer-fingerprint>\n" FP32
                        "\n" FP32 "\n</peer-fingerprint>\n");
  ck_assert_int_eq(c->n_hashes, 3);
  ck_assert_int_eq(c->hash_depth, 0);
  ck_assert_int_eq(c->hash_len, 32);
  ck_assert_uint_eq(c->hashes[2][31], 0xff);
  /* peer-fingerprint makes 'ca' optional, as in OpenVPN */
  ck_assert_int_eq(lvpn_config_set(c, "client", NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(lvpn_config_set(c, "auth-user-pass", NULL, err, 100), 0);
  {
    const char *r[] = {"198.18.0.1", NULL};
    ck_assert_int_eq(lvpn_config_set(c, "remote", r, err, sizeof(err)), 0);
  }
  ck_assert_int_eq(lvpn__config_validate(c, msg, sizeof(msg)), 0);
  lvpn_config_free(c);

  c = ok("verify-hash " FP20 "\nverify-hash " FP20 " SHA1\n");
  ck_assert_int_eq(c->n_hashes, 2);
  ck_assert_int_eq(c->hash_depth, 1);
  ck_assert_int_eq(c->hash_len, 20);
  ck_assert(has_warning(c, "'verify-hash' is deprecated"));
  lvpn_config_free(c);

  static const fake_bad_case_t cases4[] = {
      {"peer-fingerprint " FP20 "\n", LVPN_ECONFIG, 1,
       "'peer-fingerprint': a hash must be 32 hex bytes separated by ':'"},
      {"verify-hash " FP20 " MD5\n", LVPN_ECONFIG, 1,
       "'verify-hash': unsupported algorithm 'MD5' (SHA1 or SHA256)"},
      {"verify-hash " FP20 "\npeer-fingerprint " FP32 "\n", LVPN_ECONFIG, 2,
       "'verify-hash' and 'peer-fingerprint' cannot be used together"},
      {"verify-hash " FP20 "\nverify-hash " FP32 " SHA256\n", LVPN_ECONFIG, 2,
       "'verify-hash': SHA1 and SHA256 hashes cannot be mixed"},
  };
  fake_bad_each(bad, cases4, FAKE_COUNT(cases4));
}
END_TEST

START_TEST(test_options_process_and_files) {
  lvpn_config_t *c = ok("user nobody\ngroup nogroup\nchroot /var/empty\n"
                        "cd %1$s/tests/data\ncd pki\nca ca.crt\n"
                        "setenv-safe FOO bar\necho hello world\n"
                        "askpass %1$s/tests/data/pki/ca.crt\n");
  ck_assert_str_eq(c->user, "nobody");
  ck_assert_str_eq(c->group, "nogroup");
  ck_assert_str_eq(c->chroot_dir, "/var/empty");
  ck_assert_ptr_nonnull(strstr(c->ca.origin, "tests/data/pki/ca.crt"));
  ck_assert_str_eq(c->setenv[0].name, "OPENVPN_FOO");
  ck_assert_str_eq(c->setenv[0].value, "bar");
  ck_assert(has_warning(c, ":8: echo hello world"));
  ck_assert_str_eq(c->askpass, "-----BEGIN CERTIFICATE-----");
  lvpn_config_free(c);
  /* bare askpass: the host is asked (credentials callback); a file given
   * before is forgotten */
  c = ok("askpass %1$s/tests/data/pki/ca.crt\naskpass\n");
  ck_assert_ptr_null(c->askpass);
  lvpn_config_free(c);
  c = ok("inactive 3600 100000\ndown-pre\ndisable-occ\n");
  ck_assert_int_eq(c->inactive, 3600);
  ck_assert_int_eq(c->inactive_bytes, 100000);
  ck_assert_int_eq(c->n_warnings, 0);
  lvpn_config_free(c);
  static const fake_bad_case_t cases5[] = {
      {"inactive 60 lots\n", LVPN_ECONFIG, 1,
       "'inactive': bytes must be a number, not 'lots'"},
      {"config other.ovpn\n", LVPN_EUNSUPPORTED, 1,
       "'config' (reading another file) is not supported: merge it into this "
       "one"},
  };
  fake_bad_each(bad, cases5, FAKE_COUNT(cases5));
}
END_TEST

LVPN_TEST_MAIN("options", 30, NULL, NULL,
               test_options_every_manual_option_has_a_treatment,
               test_options_unknown_is_still_unknown,
               test_options_removed_in_26,
               test_options_not_yet_refused_with_reason,
               test_options_windows_only_warn,
               test_options_certificate_checks_parse, test_options_fingerprints,
               test_options_process_and_files)
