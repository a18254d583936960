/* Questions on the controlling terminal (/dev/tty), for the CLI only: the
 * library never touches a terminal. */
#ifndef LVPN_CMD_PROMPT_H
#define LVPN_CMD_PROMPT_H

#include <stddef.h>

/* Writes `prompt` to /dev/tty and reads one line into `out` (without the
 * newline). With `echo` 0 the typed text is not shown (termios ECHO off,
 * restored afterwards). Returns 0; -1 when there is no controlling
 * terminal or it cannot be read (end of file); -2 when SIGINT or SIGTERM
 * arrived while waiting. */
int lvpn_cli_prompt(const char *prompt, int echo, char *out, size_t max);

#endif
