/* The CLI's --keylog FILE writer (and SSLKEYLOGFILE): the library's key log
 * callback appends each NSS key log line to the file, as browsers do, so
 * Wireshark/tshark can decrypt the control channel
 * (-o tls.keylog_file:FILE).
 *
 * The file holds secrets, so it is opened with O_NOFOLLOW (a symlink is
 * refused), must be a regular file owned by us, and is created with mode
 * 0600; an existing file that group or others may read or write is refused
 * rather than silently tightened (someone may already hold it open). Lines
 * are appended with one write(2) each: a handshake makes one line, so the
 * short synchronous write costs nothing on the loop. */
#ifndef LVPN_CMD_KEYLOG_FILE_H
#define LVPN_CMD_KEYLOG_FILE_H

#include <stddef.h>

typedef struct {
  int fd;
  unsigned lines;
  int err; /* first write error (negative errno), 0 if none */
} cli_keylog_t;

/* Opens `path` for appending. Returns 0, or -1 with the problem in `err`. */
int cli_keylog_open(cli_keylog_t *k, const char *path, char *err,
                    size_t errlen);
/* An lvpn_keylog_cb: `ud` is the cli_keylog_t. */
void cli_keylog_line(void *ud, const char *line);
/* Closes the file. Returns 0 or the first write error. */
int cli_keylog_close(cli_keylog_t *k);

#endif
