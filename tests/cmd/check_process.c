/* cmd/process.c: OpenVPN's client status file, the counters it takes, and
 * the process options as the config gives them (lvpn_config_proc_opts). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/process.h"
#include "tests/fakes.h"

START_TEST(test_process_status_format) {
  cli_proc_stats_t st = {100, 200, 300, 400, 250};
  struct tm tm = {0};
  time_t when;
  char buf[512];
  int n;
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = 30;
  tm.tm_hour = 5;
  tm.tm_min = 6;
  tm.tm_sec = 7;
  tm.tm_isdst = -1;
  when = mktime(&tm);
  n = cli_proc_status_format(&st, when, buf, sizeof(buf));
  ck_assert_int_eq(n, (int)strlen(buf));
  ck_assert_str_eq(buf, "OpenVPN STATISTICS\n"
                        "Updated,2026-11-30 05:06:07\n"
                        "TUN/TAP read bytes,100\n"
                        "TUN/TAP write bytes,200\n"
                        "TCP/UDP read bytes,300\n"
                        "TCP/UDP write bytes,400\n"
                        "Auth read bytes,250\n"
                        "END\n");
  ck_assert_int_eq(cli_proc_status_format(&st, when, buf, 40), -1);
}
END_TEST

START_TEST(test_process_counters_picked) {
  cli_proc_stats_t st;
  memset(&st, 0, sizeof(st));
  cli_proc_count(&st, "networkio", "rx_bytes", 11);
  cli_proc_count(&st, "networkio", "tx_bytes", 12);
  cli_proc_count(&st, "tun", "rx_bytes", 13);
  cli_proc_count(&st, "tun", "tx_bytes", 14);
  cli_proc_count(&st, "datachannel", "rx_bytes", 15);
  cli_proc_count(&st, "datachannel", "tx_bytes", 99); /* not in the file */
  cli_proc_count(&st, "tun", "rx_packets", 99);
  ck_assert_uint_eq(st.link_read, 11);
  ck_assert_uint_eq(st.link_write, 12);
  ck_assert_uint_eq(st.tun_read, 13);
  ck_assert_uint_eq(st.tun_write, 14);
  ck_assert_uint_eq(st.auth_read, 15);
}
END_TEST

static lvpn_config_t *config(const char *const *lines) {
  lvpn_config_t *cfg;
  char err[512];
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  for (; *lines != NULL; lines += 3) {
    const char *args[3] = {lines[1], lines[2], NULL};
    ck_assert_msg(lvpn_config_set(cfg, lines[0], args, err, sizeof(err)) == 0,
                  "%s", err);
  }
  return cfg;
}

START_TEST(test_process_options_from_config) {
  const char *const lines[] = {"daemon",      "vpn1",         NULL,
                               "log-append",  "/tmp/x.log",   NULL,
                               "writepid",    "run/x.pid",    NULL,
                               "status",      "/tmp/x.st",    "5",
                               "status-version", "2",         NULL,
                               "suppress-timestamps", NULL,   NULL,
                               "machine-readable-output", NULL, NULL,
                               "nice",        "5",            NULL,
                               "mlock",       NULL,           NULL,
                               "remap-usr1",  "SIGTERM",      NULL,
                               NULL};
  lvpn_config_t *cfg = config(lines);
  lvpn_proc_opts_t o;
  lvpn_config_proc_opts(cfg, &o);
  ck_assert_int_eq(o.daemon, 1);
  ck_assert_str_eq(o.syslog_name, "vpn1");
  ck_assert_int_eq(o.use_syslog, 0); /* a log file takes the output */
  ck_assert_str_eq(o.log_file, "/tmp/x.log");
  ck_assert_int_eq(o.log_append, 1);
  ck_assert_str_eq(o.writepid, "run/x.pid");
  ck_assert_str_eq(o.status_file, "/tmp/x.st");
  ck_assert_int_eq(o.status_interval, 5);
  ck_assert_int_eq(o.status_version, 2);
  ck_assert_int_eq(o.suppress_timestamps, 1);
  ck_assert_int_eq(o.machine_readable, 1);
  ck_assert_int_eq(o.nice, 5);
  ck_assert_int_eq(o.mlock, 1);
  ck_assert_int_eq(o.remap_usr1, SIGTERM);
  lvpn_config_free(cfg);
}
END_TEST

START_TEST(test_process_defaults_and_syslog) {
  const char *const none[] = {NULL};
  const char *const d[] = {"daemon", NULL, NULL, "status", "s", NULL, NULL};
  lvpn_config_t *cfg = config(none);
  lvpn_proc_opts_t o;
  lvpn_config_proc_opts(cfg, &o);
  ck_assert_int_eq(o.daemon, 0);
  ck_assert_int_eq(o.use_syslog, 0);
  ck_assert_ptr_null(o.log_file);
  ck_assert_ptr_null(o.status_file);
  ck_assert_int_eq(o.status_version, 1);
  lvpn_config_free(cfg);
  cfg = config(d); /* daemon without log: syslog; status every 60 s */
  lvpn_config_proc_opts(cfg, &o);
  ck_assert_int_eq(o.use_syslog, 1);
  ck_assert_ptr_null(o.syslog_name);
  ck_assert_int_eq(o.status_interval, 60);
  lvpn_config_free(cfg);
}
END_TEST

START_TEST(test_process_bad_values) {
  lvpn_config_t *cfg;
  char err[512];
  const char *a1[] = {"f", "0", NULL}, *a2[] = {"4", NULL},
             *a3[] = {"a", "b", NULL};
  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  ck_assert_int_eq(lvpn_config_set(cfg, "status", a1, err, sizeof(err)),
                   LVPN_ECONFIG);
  ck_assert_str_eq(err, "--status: 'status' must be a number from 1 to "
                        "2147483647, not '0'");
  ck_assert_int_eq(
      lvpn_config_set(cfg, "status-version", a2, err, sizeof(err)),
      LVPN_ECONFIG);
  ck_assert_int_ne(lvpn_config_set(cfg, "daemon", a3, err, sizeof(err)), 0);
  lvpn_config_free(cfg);
}
END_TEST

/* Files are opened before the fork, so a bad path is said at once. */
START_TEST(test_process_prepare_opens_files) {
  const char *const bad[] = {"log", "/nonexistent-dir/x.log", NULL, NULL};
  char path[64] = "/tmp/lvpn_st_XXXXXX", err[512];
  lvpn_config_t *cfg = config(bad);
  cli_proc_t p;
  int fd;
  ck_assert_int_eq(cli_proc_prepare(&p, cfg, "c.ovpn", err, sizeof(err)), -1);
  ck_assert_str_eq(err, "cannot open log file '/nonexistent-dir/x.log': No "
                        "such file or directory");
  cli_proc_finish(&p);
  lvpn_config_free(cfg);
  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  {
    const char *const ok[] = {"status", path, NULL, NULL};
    cfg = config(ok);
  }
  ck_assert_int_eq(cli_proc_prepare(&p, cfg, "c.ovpn", err, sizeof(err)), 0);
  ck_assert_int_ge(p.status_fd, 0);
  ck_assert_ptr_nonnull(strstr(p.config_path, "/c.ovpn")); /* absolute */
  ck_assert_int_eq(p.config_path[0], '/');
  cli_proc_finish(&p);
  lvpn_config_free(cfg);
  unlink(path);
}
END_TEST

LVPN_TEST_MAIN("process", 0, NULL, NULL, test_process_status_format,
               test_process_counters_picked, test_process_options_from_config,
               test_process_defaults_and_syslog, test_process_bad_values,
               test_process_prepare_opens_files)
