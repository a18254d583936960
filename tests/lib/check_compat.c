/* Compatibility suite: every .ovpn in tests/data/compat (client configs
 * modeled on published ones: VPN providers, installers, router exports,
 * Access Server, AWS Client VPN) loads as its header says:
 *
 *   # expect: ok                        loads and validates, no warning
 *   # expect-warning: LINE: MESSAGE     ... with exactly these warnings
 *   # expect-error: LINE: MESSAGE       refused with exactly this message
 *
 * (LINE: MESSAGE is what follows "<path>:" in the loader's output.) With
 * LVPN_COMPAT_DUMP=1 in the environment, prints what each file gives in
 * that syntax instead of checking. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layervpn.h"
#include "lib/config.h"
#include "tests/fakes.h"

#define MAX_EXPECT 32

typedef struct {
  int error; /* 1: expect-error */
  int ok;    /* "# expect: ok" seen */
  char *lines[MAX_EXPECT];
  int n;
} expect_t;

static void read_expect(const char *path, expect_t *x) {
  char line[1024];
  FILE *f = fopen(path, "r");
  memset(x, 0, sizeof(*x));
  ck_assert_ptr_nonnull(f);
  while (fgets(line, sizeof(line), f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, "# expect: ok") == 0)
      x->ok = 1;
    else if (strncmp(line, "# expect-warning: ", 18) == 0 && x->n < MAX_EXPECT)
      x->lines[x->n++] = strdup(line + 18);
    else if (strncmp(line, "# expect-error: ", 16) == 0 && x->n < MAX_EXPECT) {
      x->lines[x->n++] = strdup(line + 16);
      x->error = 1;
    }
  }
  fclose(f);
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_ovpn(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 5 && strcmp(d->d_name + n - 5, ".ovpn") == 0;
}

START_TEST(test_compat_every_config_loads_as_documented) {
  const char *src = getenv("LVPN_SRCDIR");
  int dump = getenv("LVPN_COMPAT_DUMP") != NULL;
  char dir[512], path[1024], err[1024], got[1200];
  struct dirent **names;
  lvpn_config_t *cfg;
  expect_t x;
  int n, i, k, e, loaded = 0, refused = 0, warned = 0;
  size_t plen;

  snprintf(dir, sizeof(dir), "%s/tests/data/compat", src ? src : ".");
  n = scandir(dir, &names, is_ovpn, by_name);
  ck_assert_msg(n >= 60, "%s: %d configs, want at least 60", dir, n);
  for (i = 0; i < n; i++) {
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
    plen = strlen(path) + 1; /* "<path>:" */
    read_expect(path, &x);
    err[0] = '\0';
    cfg = NULL;
    e = lvpn_config_load(&cfg, path, err, sizeof(err));
    if (e == 0)
      e = lvpn__config_validate(cfg, err, sizeof(err)) == 0 ? 0 : -1;
    if (dump) {
      printf("== %s\n", names[i]->d_name);
      if (e > 0 || (e < 0 && cfg == NULL))
        printf("# expect-error: %s\n",
               strncmp(err, path, plen - 1) == 0 ? err + plen : err);
      else if (e < 0)
        printf("# INVALID: %s\n", err);
      else if (cfg->n_warnings == 0)
        printf("# expect: ok\n");
      for (k = 0; cfg != NULL && k < cfg->n_warnings; k++)
        printf("# expect-warning: %s\n", cfg->warnings[k] + plen);
    } else if (x.error) {
      ck_assert_msg(cfg == NULL && e != 0, "%s: loaded, expected '%s'",
                    names[i]->d_name, x.lines[0]);
      snprintf(got, sizeof(got), "%s:%s", path, x.lines[0]);
      ck_assert_msg(strcmp(err, got) == 0, "%s: got '%s', want '%s'",
                    names[i]->d_name, err, got);
      refused++;
    } else {
      ck_assert_msg(e == 0, "%s: %s", names[i]->d_name, err);
      ck_assert_msg(x.ok || x.n > 0, "%s: no '# expect' line",
                    names[i]->d_name);
      ck_assert_msg(cfg->n_warnings == x.n, "%s: %d warnings, expected %d",
                    names[i]->d_name, cfg->n_warnings, x.n);
      for (k = 0; k < x.n; k++)
        ck_assert_msg(strcmp(cfg->warnings[k] + plen, x.lines[k]) == 0,
                      "%s: warning '%s', expected '%s'", names[i]->d_name,
                      cfg->warnings[k], x.lines[k]);
      loaded++;
      warned += x.n > 0;
    }
    lvpn_config_free(cfg);
    for (k = 0; k < x.n; k++)
      free(x.lines[k]);
    free(names[i]);
  }
  free(names);
  if (!dump)
    printf("compat: %d configs: %d load (%d with warnings), %d refused\n", n,
           loaded, warned, refused);
}
END_TEST

LVPN_TEST_MAIN("compat", 30, NULL, NULL, test_compat_every_config_loads_as_documented)
