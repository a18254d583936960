#include "cmd/prompt.h"

#include <errno.h>
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

/* Echo off (canonical input kept) before the prompt appears, so that
 * nothing typed after it is shown; TCSANOW keeps what was typed ahead.
 * 1 with the old settings in *saved, 0 when the terminal kept its own. */
static int echo_off(int fd, struct termios *saved) {
  struct termios quiet;
  if (tcgetattr(fd, saved) != 0)
    return 0;
  quiet = *saved;
  quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
  quiet.c_lflag |= ICANON;
  return tcsetattr(fd, TCSANOW, &quiet) == 0;
}

/* echo_off() undone, with the newline the user typed (not echoed). */
static void echo_restore(int fd, const struct termios *saved) {
  tcsetattr(fd, TCSANOW, saved);
  tty_write(fd, "\n");
}

static volatile sig_atomic_t prompt_signal;

static void prompt_on_signal(int sig) { prompt_signal = sig; }

int lvpn_cli_prompt(const char *prompt, int echo, char *out, size_t max) {
  struct termios old;
  struct sigaction sa, old_int, old_term;
  int fd, restore = 0, rc = -1;
  size_t n = 0;
  char ch;

  if (max == 0)
    return -1;
  fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  /* Ctrl-C or SIGTERM while waiting for the user interrupts the read (the
   * event loop's handlers restart it): no SA_RESTART here. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = prompt_on_signal;
  sigemptyset(&sa.sa_mask);
  prompt_signal = 0;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  if (!echo)
    restore = echo_off(fd, &old);
  if (tty_write(fd, prompt) != 0 || tty_write(fd, " ") != 0)
    goto out;
  for (;;) {
    ssize_t r = read(fd, &ch, 1);
    if (r < 0 && errno == EINTR && prompt_signal == 0)
      continue;
    if (r <= 0) {
      rc = prompt_signal != 0 ? -2 : -1;
      break; /* end of file, error or signal: no answer */
    }
    if (ch == '\n' || ch == '\r') {
      rc = 0;
      break;
    }
    if (n + 1 < max)
      out[n++] = ch;
  }
  out[n] = '\0';
out:
  if (restore)
    echo_restore(fd, &old);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  ch = 0;
  close(fd);
  return rc;
}

/* ---- on the loop ---- */

static void aprompt_closed(uv_handle_t *h) {
  lvpn_cli_aprompt_t *p = h->data;
  if (p->restore)
    echo_restore(p->fd, &p->saved);
  p->restore = 0;
  close(p->fd);
  p->fd = -1;
  p->busy = 0;
}

static void aprompt_end(lvpn_cli_aprompt_t *p) {
  uv_poll_stop(&p->poll);
  uv_close((uv_handle_t *)&p->poll, aprompt_closed);
}

static void aprompt_readable(uv_poll_t *h, int status, int events) {
  lvpn_cli_aprompt_t *p = h->data;
  char buf[256];
  ssize_t r;
  size_t i;

  (void)events;
  if (status < 0) {
    aprompt_end(p);
    p->done(p, NULL);
    return;
  }
  r = read(p->fd, buf, sizeof(buf));
  if (r < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  for (i = 0; r > 0 && i < (size_t)r; i++) {
    if (buf[i] == '\n' || buf[i] == '\r') {
      p->line[p->n] = '\0';
      explicit_bzero(buf, sizeof(buf));
      aprompt_end(p);
      p->done(p, p->line);
      explicit_bzero(p->line, sizeof(p->line));
      p->n = 0;
      return;
    }
    if (p->n + 1 < sizeof(p->line))
      p->line[p->n++] = buf[i];
  }
  explicit_bzero(buf, sizeof(buf));
  if (r <= 0) { /* end of input (Ctrl-D on an empty line) or an error */
    explicit_bzero(p->line, sizeof(p->line));
    p->n = 0;
    aprompt_end(p);
    p->done(p, NULL);
  }
}

int lvpn_cli_aprompt_start(lvpn_cli_aprompt_t *p, uv_loop_t *loop,
                           const char *prompt, int echo,
                           lvpn_cli_aprompt_cb done) {
  int fd;

  if (p->busy)
    return -1;
  fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return -1;
  p->fd = fd;
  p->busy = 1;
  p->n = 0;
  p->done = done;
  p->restore = !echo && echo_off(fd, &p->saved);
  if (uv_poll_init(loop, &p->poll, fd) != 0) {
    if (p->restore)
      tcsetattr(fd, TCSANOW, &p->saved);
    close(fd);
    p->fd = -1;
    p->busy = 0;
    return -1;
  }
  p->poll.data = p;
  if (tty_write(fd, prompt) != 0 || tty_write(fd, " ") != 0 ||
      uv_poll_start(&p->poll, UV_READABLE, aprompt_readable) != 0) {
    uv_close((uv_handle_t *)&p->poll, aprompt_closed);
    return -1;
  }
  return 0;
}

void lvpn_cli_aprompt_cancel(lvpn_cli_aprompt_t *p) {
  if (!p->busy || uv_is_closing((uv_handle_t *)&p->poll))
    return;
  explicit_bzero(p->line, sizeof(p->line));
  p->n = 0;
  aprompt_end(p);
}
