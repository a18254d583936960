/* The CLI's --trace FILE writer: the library's trace callback appends each
 * event (one JSON line) to a bounded buffer, and the buffer goes to the file
 * through libuv's asynchronous file writes, so tracing never blocks the
 * loop. When the file falls behind and the buffer is full, events are
 * dropped and counted. */
#ifndef LVPN_CMD_TRACE_FILE_H
#define LVPN_CMD_TRACE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define CLI_TRACE_BUF (1u << 20) /* per buffer; two of them */

typedef struct cli_trace_s {
  uv_loop_t *loop;
  uv_file fd;
  char *pending, *inflight; /* events being collected / being written */
  size_t pending_len, inflight_len, inflight_off;
  int writing;
  uv_fs_t req;
  uint64_t events, dropped;
  int err; /* first write error (negative libuv code) */
} cli_trace_t;

/* Creates or truncates `path` with mode 0600. Returns 0 or a libuv error. */
int cli_trace_open(cli_trace_t *t, uv_loop_t *loop, const char *path);
/* An lvpn_trace_cb: `ud` is the cli_trace_t. */
void cli_trace_event(void *ud, const char *json, size_t len);
/* After the loop has run out: writes what is left, closes the file, frees
 * the buffers. Returns 0 or the first write error. */
int cli_trace_close(cli_trace_t *t);

#endif
