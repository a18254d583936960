/* cmd/keylog_file.c: the --keylog file is created 0600 and appended to;
 * symlinks, FIFOs, directories and files others may read are refused. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/keylog_file.h"
#include "tests/fakes.h"

static char dir[64];

static void setup(void) {
  snprintf(dir, sizeof(dir), "/tmp/lvpn-keylog-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static void path_in(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", dir, name);
}

START_TEST(test_keylog_file_created_0600_and_appended) {
  cli_keylog_t k;
  char path[128], err[256], buf[256];
  struct stat st;
  FILE *f;
  size_t n;
  path_in(path, sizeof(path), "keys");
  ck_assert_int_eq(cli_keylog_open(&k, path, err, sizeof(err)), 0);
  cli_keylog_line(&k, "CLIENT_RANDOM 00 11");
  cli_keylog_line(&k, "CLIENT_RANDOM 22 33");
  ck_assert_uint_eq(k.lines, 2);
  ck_assert_int_eq(cli_keylog_close(&k), 0);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0600);
  /* a second session appends */
  ck_assert_int_eq(cli_keylog_open(&k, path, err, sizeof(err)), 0);
  cli_keylog_line(&k, "CLIENT_RANDOM 44 55");
  ck_assert_int_eq(cli_keylog_close(&k), 0);
  f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  ck_assert_str_eq(buf, "CLIENT_RANDOM 00 11\nCLIENT_RANDOM 22 33\n"
                        "CLIENT_RANDOM 44 55\n");
}
END_TEST

START_TEST(test_keylog_file_refuses_unsafe_files) {
  cli_keylog_t k;
  char path[128], target[128], err[256];
  int fd;
  path_in(target, sizeof(target), "target");
  path_in(path, sizeof(path), "link");
  ck_assert_int_eq(symlink(target, path), 0);
  ck_assert_int_eq(cli_keylog_open(&k, path, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
  ck_assert_int_eq(access(target, F_OK), -1); /* not created */

  path_in(path, sizeof(path), "open");
  fd = open(path, O_WRONLY | O_CREAT, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fchmod(fd, 0644), 0);
  close(fd);
  ck_assert_int_eq(cli_keylog_open(&k, path, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "readable or writable by others"));

  path_in(path, sizeof(path), "fifo");
  ck_assert_int_eq(mkfifo(path, 0600), 0);
  ck_assert_int_eq(cli_keylog_open(&k, path, err, sizeof(err)), -1);

  ck_assert_int_eq(cli_keylog_open(&k, dir, err, sizeof(err)), -1);
}
END_TEST

LVPN_TEST_MAIN("keylog_file", 0, setup, teardown,
               test_keylog_file_created_0600_and_appended,
               test_keylog_file_refuses_unsafe_files)
