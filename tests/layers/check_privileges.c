/* layers/client_priv.c: user / group / chroot, CAP_NET_ADMIN kept. The drop
 * runs in a forked child (it cannot be undone); needs root, skipped
 * otherwise. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>

#include "layervpn.h"
#include "tests/fakes.h"

static char err[512];

/* Runs the drop in a child; the child's exit code says what it saw. */
static int drop_in_child(const char *user, const char *group,
                         const char *dir) {
  struct passwd *pw;
  gid_t groups[8];
  int status = 0, n;
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    pw = getpwnam("nobody");
    if (pw == NULL)
      _exit(10);
    if (lvpn_drop_privileges(user, group, dir, err, sizeof(err)) != 0)
      _exit(11);
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid)
      _exit(12);
    if (getgid() != pw->pw_gid || getegid() != pw->pw_gid)
      _exit(13);
    n = getgroups(8, groups);
    if (n != 1 || groups[0] != pw->pw_gid)
      _exit(14);
    if (setuid(0) == 0)
      _exit(15);
    /* CAP_NET_ADMIN kept (routes removed at exit), nothing else */
    capng_get_caps_process();
    if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN))
      _exit(17);
    if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) ||
        capng_have_capability(CAPNG_PERMITTED, CAP_SYS_ADMIN))
      _exit(18);
    if (dir != NULL && access("/etc/passwd", F_OK) == 0)
      _exit(16); /* the chroot is empty */
    _exit(0);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  return WEXITSTATUS(status);
}

START_TEST(test_privileges_drop_user_group_chroot) {
  char dir[] = "/tmp/lvpn_chroot_XXXXXX";
  if (getuid() != 0 || getpwnam("nobody") == NULL) {
    printf("skipped: needs root and a 'nobody' user\n");
    return;
  }
  ck_assert_ptr_nonnull(mkdtemp(dir));
  ck_assert_int_eq(drop_in_child("nobody", NULL, NULL), 0);
  ck_assert_int_eq(drop_in_child("nobody", NULL, dir), 0);
  if (getgrnam("nogroup") != NULL &&
      getgrnam("nogroup")->gr_gid == getpwnam("nobody")->pw_gid)
    ck_assert_int_eq(drop_in_child("nobody", "nogroup", dir), 0);
  rmdir(dir);
}
END_TEST

START_TEST(test_privileges_errors_name_the_problem) {
  ck_assert_int_eq(lvpn_drop_privileges("no-such-user-lvpn", NULL, NULL, err,
                                        sizeof(err)),
                   LVPN_EPRIVILEGES);
  ck_assert_str_eq(err, "user 'no-such-user-lvpn': no such name");
  ck_assert_int_eq(lvpn_drop_privileges(NULL, "no-such-group-lvpn", NULL, err,
                                        sizeof(err)),
                   LVPN_EPRIVILEGES);
  ck_assert_str_eq(err, "group 'no-such-group-lvpn': no such name");
  if (getuid() == 0) {
    ck_assert_int_eq(lvpn_drop_privileges(NULL, NULL, "/nonexistent/lvpn",
                                          err, sizeof(err)),
                     LVPN_EPRIVILEGES);
    ck_assert_str_eq(err, "chroot '/nonexistent/lvpn': No such file or "
                          "directory");
  }
  ck_assert_int_eq(lvpn_drop_privileges(NULL, NULL, NULL, err, sizeof(err)),
                   0);
}
END_TEST

static void set(lvpn_config_t *c, const char *name, const char *arg) {
  const char *args[] = {arg, NULL};
  ck_assert_msg(lvpn_config_set(c, name, arg ? args : NULL, err,
                                sizeof(err)) == 0,
                "%s", err);
}

/* A config with 'user' on a client whose host did not opt in: refused. */
START_TEST(test_privileges_client_refuses_without_host) {
  const char *src = getenv("LVPN_SRCDIR");
  char path[512];
  lvpn_config_t *cfg;
  lvpn_client_t *c;
  uv_loop_t loop;

  ck_assert_int_eq(lvpn_config_new(&cfg), 0);
  set(cfg, "client", NULL);
  set(cfg, "remote", "198.18.0.1");
  snprintf(path, sizeof(path), "%s/tests/data/pki/ca.crt", src ? src : ".");
  set(cfg, "ca", path);
  set(cfg, "auth-user-pass", NULL);
  set(cfg, "user", "nobody");
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(lvpn_client_new(&c, &loop, cfg), 0);
  ck_assert_int_eq(lvpn_client_start(c), LVPN_EPRIVILEGES);
  lvpn_client_close(c, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  lvpn_config_free(cfg);
}
END_TEST

LVPN_TEST_MAIN("privileges", 30, NULL, NULL, test_privileges_drop_user_group_chroot,
               test_privileges_errors_name_the_problem,
               test_privileges_client_refuses_without_host)
