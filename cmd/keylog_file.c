#include "cmd/keylog_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_keylog_open(cli_keylog_t *k, const char *path, char *err,
                    size_t errlen) {
  struct stat st;
  memset(k, 0, sizeof(*k));
  /* O_NONBLOCK: a FIFO without a reader fails instead of blocking here
   * (and is refused below); writes to a regular file ignore the flag */
  k->fd = open(
      path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
      0600);
  if (k->fd < 0) {
    snprintf(err, errlen, "cannot open key log '%s': %s%s", path,
             strerror(errno),
             errno == ELOOP ? " (a symbolic link: refused)" : "");
    return -1;
  }
  if (fstat(k->fd, &st) != 0) {
    snprintf(err, errlen, "cannot open key log '%s': %s", path,
             strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "key log '%s' is not a regular file", path);
  } else if (st.st_uid != geteuid()) {
    snprintf(err, errlen, "key log '%s' belongs to another user", path);
  } else if ((st.st_mode & 077) != 0) {
    snprintf(err, errlen,
             "key log '%s' is readable or writable by others (mode %03o): "
             "refused, as it will hold secrets; chmod 600 it or remove it",
             path, (unsigned)(st.st_mode & 0777));
  } else {
    return 0;
  }
  close(k->fd);
  k->fd = -1;
  return -1;
}

void cli_keylog_line(void *ud, const char *line) {
  cli_keylog_t *k = ud;
  char buf[256];
  size_t n = strlen(line);
  ssize_t w;
  if (k->fd < 0 || n + 1 > sizeof(buf))
    return;
  memcpy(buf, line, n);
  buf[n++] = '\n';
  do
    w = write(k->fd, buf, n);
  while (w < 0 && errno == EINTR);
  explicit_bzero(buf, sizeof(buf));
  if (w == (ssize_t)n)
    k->lines++;
  else if (k->err == 0)
    k->err = w < 0 ? -errno : -EIO;
}

int cli_keylog_close(cli_keylog_t *k) {
  if (k->fd >= 0 && close(k->fd) != 0 && k->err == 0)
    k->err = -errno;
  k->fd = -1;
  return k->err;
}
