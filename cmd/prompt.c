#include "cmd/prompt.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int tty_write(int fd, const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0)
      return -1;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

int lvpn_cli_prompt(const char *prompt, int echo, char *out, size_t max) {
  struct termios old, quiet;
  int fd, restore = 0, rc = -1;
  size_t n = 0;
  char ch;

  if (max == 0)
    return -1;
  fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  if (tty_write(fd, prompt) != 0 || tty_write(fd, " ") != 0)
    goto out;
  if (!echo && tcgetattr(fd, &old) == 0) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
      restore = 1;
  }
  for (;;) {
    ssize_t r = read(fd, &ch, 1);
    if (r <= 0)
      break; /* end of file or error: no answer */
    if (ch == '\n' || ch == '\r') {
      rc = 0;
      break;
    }
    if (n + 1 < max)
      out[n++] = ch;
  }
  out[n] = '\0';
  if (restore) {
    tcsetattr(fd, TCSAFLUSH, &old);
    tty_write(fd, "\n"); /* the newline the user typed was not echoed */
  }
out:
  ch = 0;
  close(fd);
  return rc;
}
