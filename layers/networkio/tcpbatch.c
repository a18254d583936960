/* Batched TCP writes for networkio (see tcpbatch.h). */
#include "layers/networkio/tcpbatch.h"
#include "layers/networkio/networkio.h"

#include <string.h>

#define LAYER_NAME "networkio"

static void prepare_cb(uv_prepare_t *h) {
  lvpn__networkio_t *n = container_of(h, lvpn__networkio_t, tcpb.flush);
  lvpn__tcpbatch_flush(n);
}

void lvpn__tcpbatch_init(lvpn__networkio_t *n) {
  lvpn__tcpbatch_t *b = &n->tcpb;

  memset(b, 0, sizeof(*b));
  lvpn__queue_init(&b->queue);
  uv_prepare_init(n->base.loop, &b->flush);
  b->inited = 1;
}

static void write_cb(uv_write_t *req, int status) {
  lvpn__networkio_req_t *r = container_of(req, lvpn__networkio_req_t, u.write);
  lvpn__networkio_t *n = r->n;

  n->tcpb.inflight -= r->chain.count;
  lvpn__networkio_req_put(r); /* frees the chain */
  if (status < 0 && status != UV_ECANCELED) {
    n->stats.tx_errors++;
    if (lvpn__layer_running(&n->base))
      lvpn__networkio_tcp_fail(n, "write", status);
  }
}

void lvpn__tcpbatch_send(lvpn__networkio_t *n, lvpn__pbuf_t *p) {
  lvpn__tcpbatch_t *b = &n->tcpb;
  size_t plen = p->len;
  uint8_t *hdr;

  LVPN__TRACE_PKT(n->base.trace, lvpn__trace_is_data(p->data, p->len),
                  LAYER_NAME, "write", "bytes=%zu framing=%s frame_bytes=%zu",
                  plen, "tcp", plen + 2);
  LVPN__TAP(n->base.trace, LVPN_TAP_WIRE, 1, 1, &n->local, &n->remote, p->data,
            p->len);
  if (plen > 0xffff || (hdr = lvpn__pbuf_push(p, 2)) == NULL) {
    n->stats.tx_errors++;
    LVPN__LOG(n->base.log, LVPN_LOG_DEBUG, LAYER_NAME,
              "cannot frame a %zu-byte packet", plen);
    lvpn__layer_drop(&n->base, p);
    return;
  }
  hdr[0] = (uint8_t)(plen >> 8);
  hdr[1] = (uint8_t)plen;
  if (b->queue.count > 0 && b->bytes + p->len > LVPN__TCPBATCH_BYTES)
    lvpn__tcpbatch_flush(n);
  lvpn__pbufq_push(&b->queue, p);
  b->bytes += p->len;
  if (b->queue.count >= LVPN__TCPBATCH_MAX)
    lvpn__tcpbatch_flush(n);
  else if (b->queue.count == 1)
    uv_prepare_start(&b->flush, prepare_cb); /* at the end of this turn */
}

/* Counts a frame handed to the socket or to libuv's queue. */
static void count_tx(lvpn__networkio_t *n, const lvpn__pbuf_t *p) {
  n->stats.tx_packets++;
  n->stats.tx_bytes += p->len - 2;
}

static void drop_frames(lvpn__networkio_t *n, lvpn__pbuf_t **ps, size_t k) {
  size_t i;
  for (i = 0; i < k; i++)
    lvpn__layer_drop(&n->base, ps[i]);
}

void lvpn__tcpbatch_flush(lvpn__networkio_t *n) {
  lvpn__tcpbatch_t *b = &n->tcpb;
  uv_stream_t *s = (uv_stream_t *)&n->tcp;
  lvpn__pbuf_t *ps[LVPN__TCPBATCH_MAX];
  uv_buf_t bufs[LVPN__TCPBATCH_MAX];
  lvpn__networkio_req_t *r;
  size_t k = 0, i, done, room;
  int err;

  uv_prepare_stop(&b->flush);
  while (k < LVPN__TCPBATCH_MAX && (ps[k] = lvpn__pbufq_pop(&b->queue)) != NULL)
    k++;
  b->bytes = 0;
  if (k == 0)
    return;
  if (k > 1)
    b->writevs++;
  /* Take a request first: a partial try_write must be completed. */
  r = lvpn__networkio_req_get(n);
  if (r == NULL) {
    n->stats.queue_full += k;
    drop_frames(n, ps, k);
    return;
  }
  for (i = 0; i < k; i++)
    bufs[i] = uv_buf_init((char *)ps[i]->data, (unsigned)ps[i]->len);
  err = uv_try_write(s, bufs, (unsigned)k);
  if (err < 0 && err != UV_EAGAIN) {
    n->stats.tx_errors += k;
    drop_frames(n, ps, k);
    lvpn__networkio_req_put(r);
    lvpn__networkio_tcp_fail(n, "write", err);
    return;
  }
  /* Frames the socket took whole are done; a partial one is finished by
   * the uv_write below, and so are the frames after it. */
  done = err > 0 ? (size_t)err : 0;
  for (i = 0; i < k && done >= ps[i]->len; i++) {
    done -= ps[i]->len;
    count_tx(n, ps[i]);
    lvpn__pbuf_free(ps[i]);
  }
  if (i == k) {
    lvpn__networkio_req_put(r);
    return;
  }
  if (done > 0) { /* the socket took part of ps[i]: it must go out whole */
    count_tx(n, ps[i]);
    lvpn__pbuf_pull(ps[i], done);
    lvpn__pbufq_push(&r->chain, ps[i]);
    bufs[r->chain.count - 1] =
        uv_buf_init((char *)ps[i]->data, (unsigned)ps[i]->len);
    i++;
  }
  /* The rest waits in libuv's queue, at most NREQ frames in all. */
  room = b->inflight + r->chain.count < LVPN__NETWORKIO_NREQ
             ? LVPN__NETWORKIO_NREQ - b->inflight - r->chain.count
             : 0;
  for (; i < k; i++) {
    if (room == 0) {
      n->stats.queue_full++;
      lvpn__layer_drop(&n->base, ps[i]);
      continue;
    }
    room--;
    count_tx(n, ps[i]);
    lvpn__pbufq_push(&r->chain, ps[i]);
    bufs[r->chain.count - 1] =
        uv_buf_init((char *)ps[i]->data, (unsigned)ps[i]->len);
  }
  if (r->chain.count == 0) {
    lvpn__networkio_req_put(r);
    return;
  }
  b->inflight += r->chain.count;
  err = uv_write(&r->u.write, s, bufs, (unsigned)r->chain.count, write_cb);
  if (err != 0) {
    b->inflight -= r->chain.count;
    n->stats.tx_errors += r->chain.count;
    n->base.stats.dropped += r->chain.count;
    lvpn__networkio_req_put(r);
    lvpn__networkio_tcp_fail(n, "write", err);
  }
}

void lvpn__tcpbatch_stop(lvpn__networkio_t *n) {
  lvpn__tcpbatch_t *b = &n->tcpb;
  if (!b->inited)
    return;
  uv_prepare_stop(&b->flush);
  lvpn__pbufq_clear(&b->queue);
  b->bytes = 0;
}

void lvpn__tcpbatch_close(lvpn__networkio_t *n) {
  lvpn__tcpbatch_t *b = &n->tcpb;
  if (!b->inited)
    return;
  lvpn__tcpbatch_stop(n);
  lvpn__layer_close_handle(&n->base, (uv_handle_t *)&b->flush);
  b->inited = 0;
}
