#include "cmd/trace_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static void trace_write_next(cli_trace_t *t);

static void trace_written(uv_fs_t *req) {
  cli_trace_t *t = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  if (n < 0) {
    if (t->err == 0)
      t->err = (int)n;
    t->inflight_off = t->inflight_len; /* give this batch up */
  } else {
    t->inflight_off += (size_t)n;
  }
  if (t->inflight_off < t->inflight_len) { /* short write: the rest */
    uv_buf_t b = uv_buf_init(t->inflight + t->inflight_off,
                             (unsigned)(t->inflight_len - t->inflight_off));
    t->req.data = t;
    if (uv_fs_write(t->loop, &t->req, t->fd, &b, 1, -1, trace_written) == 0)
      return;
  }
  t->writing = 0;
  trace_write_next(t);
}

/* Starts writing the pending events when no write is in flight. */
static void trace_write_next(cli_trace_t *t) {
  char *tmp;
  uv_buf_t b;
  int err;

  if (t->writing || t->pending_len == 0 || t->err != 0)
    return;
  tmp = t->inflight;
  t->inflight = t->pending;
  t->inflight_len = t->pending_len;
  t->inflight_off = 0;
  t->pending = tmp;
  t->pending_len = 0;
  b = uv_buf_init(t->inflight, (unsigned)t->inflight_len);
  t->req.data = t;
  err = uv_fs_write(t->loop, &t->req, t->fd, &b, 1, -1, trace_written);
  if (err != 0)
    t->err = err;
  else
    t->writing = 1;
}

int cli_trace_open(cli_trace_t *t, uv_loop_t *loop, const char *path) {
  uv_fs_t req;
  int fd;

  memset(t, 0, sizeof(*t));
  t->loop = loop;
  t->fd = -1;
  fd = uv_fs_open(NULL, &req, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0600, NULL);
  uv_fs_req_cleanup(&req);
  if (fd < 0)
    return fd;
  t->fd = fd;
  /* An existing file keeps its mode through O_TRUNC: make it 0600 too. */
  uv_fs_fchmod(NULL, &req, fd, 0600, NULL);
  uv_fs_req_cleanup(&req);
  t->pending = malloc(CLI_TRACE_BUF);
  t->inflight = malloc(CLI_TRACE_BUF);
  if (t->pending == NULL || t->inflight == NULL) {
    cli_trace_close(t);
    return UV_ENOMEM;
  }
  return 0;
}

void cli_trace_event(void *ud, const char *json, size_t len) {
  cli_trace_t *t = ud;
  if (t->pending_len + len + 1 > CLI_TRACE_BUF) {
    t->dropped++;
    return;
  }
  memcpy(t->pending + t->pending_len, json, len);
  t->pending[t->pending_len + len] = '\n';
  t->pending_len += len + 1;
  t->events++;
  trace_write_next(t);
}

int cli_trace_close(cli_trace_t *t) {
  uv_fs_t req;
  size_t off = 0;

  /* The loop has run out, so no write is in flight any more. */
  while (t->fd >= 0 && t->err == 0 && off < t->pending_len) {
    uv_buf_t b =
        uv_buf_init(t->pending + off, (unsigned)(t->pending_len - off));
    int n = uv_fs_write(NULL, &req, t->fd, &b, 1, -1, NULL);
    uv_fs_req_cleanup(&req);
    if (n <= 0) {
      t->err = n < 0 ? n : UV_EIO;
      break;
    }
    off += (size_t)n;
  }
  if (t->fd >= 0) {
    uv_fs_close(NULL, &req, t->fd, NULL);
    uv_fs_req_cleanup(&req);
    t->fd = -1;
  }
  free(t->pending);
  free(t->inflight);
  t->pending = t->inflight = NULL;
  return t->err;
}
