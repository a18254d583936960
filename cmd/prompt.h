/* Questions on the controlling terminal (/dev/tty), for the CLI only: the
 * library never touches a terminal. */
#ifndef LVPN_CMD_PROMPT_H
#define LVPN_CMD_PROMPT_H

#include <stddef.h>
#include <termios.h>
#include <uv.h>

/* Writes `prompt` to /dev/tty and reads one line into `out` (without the
 * newline). With `echo` 0 the typed text is not shown (termios ECHO off,
 * restored afterwards). Returns 0; -1 when there is no controlling
 * terminal or it cannot be read (end of file); -2 when SIGINT or SIGTERM
 * arrived while waiting. */
int lvpn_cli_prompt(const char *prompt, int echo, char *out, size_t max);

/* The same question while the loop runs (a server's challenge arrives with
 * the connection open: timers and signals must go on): the terminal is
 * polled on `loop`, and `done` gets the line typed (lent for the call, then
 * zeroed), or NULL at end of input. The terminal's echo setting comes back
 * when the answer is in and on cancel. */
typedef struct lvpn_cli_aprompt_s lvpn_cli_aprompt_t;
typedef void (*lvpn_cli_aprompt_cb)(lvpn_cli_aprompt_t *p, const char *answer);
struct lvpn_cli_aprompt_s {
  uv_poll_t poll;
  int busy; /* a question is open (or its handle closing) */
  int fd;
  int restore;
  struct termios saved;
  size_t n;
  char line[800];
  lvpn_cli_aprompt_cb done;
  void *data;
};

/* Shows `prompt` on /dev/tty and waits for a line. 0, or -1 when there is
 * no controlling terminal (or one question is already open). */
int lvpn_cli_aprompt_start(lvpn_cli_aprompt_t *p, uv_loop_t *loop,
                           const char *prompt, int echo,
                           lvpn_cli_aprompt_cb done);
/* Drops an open question (the answer is no longer wanted): the terminal is
 * restored and the handle closed. Harmless when idle. */
void lvpn_cli_aprompt_cancel(lvpn_cli_aprompt_t *p);

#endif
