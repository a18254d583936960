/* tcpbatch: batched TCP writes for networkio.
 *
 * Frames from above (the 2-byte length already pushed into each pbuf's
 * headroom) wait in a short queue; at the end of the loop turn (a
 * uv_prepare_t, which runs before the loop blocks, so a frame never waits
 * for the next event) they go out together: one uv_try_write over an iovec
 * that points into the pbufs (one writev, no copy). Whatever the socket
 * does not take goes to libuv's write queue as one uv_write with several
 * buffers, its request owning those pbufs until the callback.
 *
 * Bounded both ways: by time (never past the current loop turn) and by size
 * (LVPN__TCPBATCH_MAX frames or LVPN__TCPBATCH_BYTES flush at once). Frames
 * in libuv's write queue are bounded by LVPN__NETWORKIO_NREQ (as when each
 * frame had its own request); beyond that, frames not yet started are
 * dropped and counted as queue_full.
 */
#ifndef LVPN_LAYERS_NETWORKIO_TCPBATCH_H
#define LVPN_LAYERS_NETWORKIO_TCPBATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lib/pbuf.h"

#define LVPN__TCPBATCH_MAX 64      /* frames per writev (IOV_MAX is 1024) */
#define LVPN__TCPBATCH_BYTES 65536 /* bytes per writev */

typedef struct lvpn__networkio_s lvpn__networkio_t;

/* Embedded in lvpn__networkio_t. */
typedef struct lvpn__tcpbatch_s {
  int inited;          /* `flush` exists */
  lvpn__queue_t queue; /* framed pbufs waiting for the end of the turn */
  size_t bytes;        /* their total length, frames included */
  size_t inflight;     /* pbufs owned by write requests in libuv's queue */
  uv_prepare_t flush;
  uint64_t writevs; /* flushes that carried more than one frame */
} lvpn__tcpbatch_t;

/* Once at init, for a TCP link (no I/O). */
void lvpn__tcpbatch_init(lvpn__networkio_t *n);
/* Takes ownership of p (one OpenVPN packet, not yet framed): framed and
 * queued for the end of the turn (or flushed now when the batch is full). */
void lvpn__tcpbatch_send(lvpn__networkio_t *n, lvpn__pbuf_t *p);
/* Writes what is queued now (also the prepare callback's work). */
void lvpn__tcpbatch_flush(lvpn__networkio_t *n);
/* Stops the prepare handle and frees what is queued (not yet written). */
void lvpn__tcpbatch_stop(lvpn__networkio_t *n);
/* Closes the prepare handle (from networkio's close). */
void lvpn__tcpbatch_close(lvpn__networkio_t *n);

#endif
