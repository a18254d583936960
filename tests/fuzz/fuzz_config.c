/* The config parser (lib/config.c, lib/ovpn_lex.c) through its public entry
 * point lvpn_config_load: the input is written to a file in a private
 * directory (so relative file names resolve to nothing but that file) and
 * loaded; what loads is validated, cloned and freed. Inline blocks
 * (<ca>...</ca>, <tls-crypt>...) are part of the input.
 * Input: a config file's text. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "layervpn.h"
#include "lib/config.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void cleanup(void) {
  unlink(path);
  rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lvpn_config_t *cfg = NULL, *copy = NULL;
  char err[512];
  const char *tmp;
  int fd, rc;

  if (dir[0] == '\0') {
    tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/lvpn-fuzz-config.XXXXXX", tmp);
    if (mkdtemp(dir) == NULL)
      abort();
    snprintf(path, sizeof(path), "%s/client.conf", dir);
    atexit(cleanup);
  }
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
    abort();
  close(fd);
  err[0] = '\0';
  rc = lvpn_config_load(&cfg, path, err, sizeof(err));
  if (memchr(err, '\0', sizeof(err)) == NULL)
    abort();
  if (rc == 0) {
    if (cfg == NULL)
      abort();
    (void)lvpn__config_validate(cfg, err, sizeof(err));
    if (lvpn__config_clone(cfg, &copy) == 0)
      lvpn_config_free(copy);
    lvpn_config_free(cfg);
  } else if (cfg != NULL) {
    abort();
  }
  return 0;
}
