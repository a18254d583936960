#include "layers/datachannel/datachannel.h"

#include <stdio.h>
#include <string.h>

#include "layers/packetmuxer/wire.h"

#define DC_TICK_MS 1000
#define DC_KEY_SWITCH_MS 60000

static void dc_fail(lvpn__datachannel_t *d, int err, const char *what) {
  LVPN__LOG(d->base.log, LVPN_LOG_ERROR, d->base.name, "%s", what);
  lvpn__layer_fail(&d->base, err);
}

/* Classic or epoch format (protocol-flags aead-epoch), per slot. */
static int dc_encrypt(lvpn__datachannel_t *d, int slot, lvpn__pbuf_t *p) {
  if (d->params.epoch) {
    lvpn__epoch_key_t *k = &d->ekeys[slot];
    uint64_t moves = k->stats.send_moves;
    int rc = lvpn__epoch_encrypt(k, p, d->params.peer_id);
    if (k->stats.send_moves != moves)
      LVPN__TRACE(d->base.trace, d->base.name, "epoch_move",
                  "key_id=%u direction=%s send_epoch=%u recv_epoch=%u",
                  k->key_id, "tx", k->send.epoch, k->recv_epoch);
    return rc;
  }
  return lvpn__dc_encrypt(&d->keys[slot], p, d->params.peer_id);
}

static int dc_decrypt(lvpn__datachannel_t *d, int slot, lvpn__pbuf_t *p,
                      uint64_t now_s) {
  if (d->params.epoch) {
    lvpn__epoch_key_t *k = &d->ekeys[slot];
    uint64_t moves = k->stats.recv_moves;
    int rc;
    lvpn__epoch_key_set_now(k, now_s);
    rc = lvpn__epoch_decrypt(k, p);
    if (k->stats.recv_moves != moves) {
      LVPN__LOG(d->base.log, LVPN_LOG_INFO, d->base.name,
                "key_id %u: server moved to epoch %u; sending on epoch %u",
                k->key_id, k->recv_epoch, k->send.epoch);
      LVPN__TRACE(d->base.trace, d->base.name, "epoch_move",
                  "key_id=%u direction=%s send_epoch=%u recv_epoch=%u",
                  k->key_id, "rx", k->send.epoch, k->recv_epoch);
    }
    return rc;
  }
  lvpn__dc_key_set_now(&d->keys[slot], now_s);
  return lvpn__dc_decrypt(&d->keys[slot], p);
}

static void dc_key_free(lvpn__datachannel_t *d, int slot) {
  if (d->params.epoch) {
    d->epoch_moves_tx += d->ekeys[slot].stats.send_moves;
    d->epoch_moves_rx += d->ekeys[slot].stats.recv_moves;
    if (slot == d->tx) {
      d->last_tx_epoch = d->ekeys[slot].send.epoch;
      d->last_rx_epoch = d->ekeys[slot].recv_epoch;
    }
    lvpn__epoch_key_free(&d->ekeys[slot]);
  } else {
    lvpn__dc_key_free(&d->keys[slot]);
  }
}

/* Tunnel traffic for inactive N BYTES (OpenVPN's register_activity). */
static void dc_activity(lvpn__datachannel_t *d, size_t len) {
  if (d->inactive_s == 0)
    return;
  d->inactive_acc += len;
  if (d->inactive_acc >= d->inactive_min_bytes) {
    d->inactive_acc = 0;
    d->last_active_ms = uv_now(d->base.loop);
  }
}

void lvpn__datachannel_set_inactive(lvpn__datachannel_t *d, unsigned s,
                                    uint64_t min_bytes) {
  d->inactive_s = s;
  d->inactive_min_bytes = min_bytes;
  d->inactive_acc = 0;
  d->last_active_ms = uv_now(d->base.loop);
}

void lvpn__datachannel_set_session_timeout(lvpn__datachannel_t *d,
                                           unsigned s) {
  d->session_s = s;
  d->session_start_ms = uv_now(d->base.loop);
}

/* Encrypts one framed packet and sends it down; owns `p`. `special`: a
 * ping or OCC message, which is no tunnel activity. */
static int dc_seal(lvpn__datachannel_t *d, lvpn__pbuf_t *p, int special) {
  int err = dc_encrypt(d, d->tx, p);
  if (err != 0) {
    d->drop_tx++;
    LVPN__LOG(d->base.log, LVPN_LOG_DEBUG, d->base.name,
              "cannot send %zu-byte packet: %s", p->len, lvpn_strerror(err));
    lvpn__layer_drop(&d->base, p);
    return err;
  }
  p->meta.opcode =
      d->params.peer_id >= 0xFFFFFF ? LVPN__P_DATA_V1 : LVPN__P_DATA_V2;
  p->meta.key_id = d->key_ids[d->tx];
  LVPN__TRACE_PKT(d->base.trace, 1, d->base.name, "encrypt",
                  "key_id=%u wire_bytes=%zu", p->meta.key_id, p->len);
  d->tx_packets++;
  d->tx_bytes += p->len;
  d->key_bytes[d->tx] += p->len;
  d->key_pkts[d->tx]++;
  if (!special)
    dc_activity(d, p->len);
  d->last_tx_ms = uv_now(d->base.loop);
  lvpn__layer_send_down(&d->base, p);
  return 0;
}

/* Compression-frames, fragments (`fragment`: OpenVPN compresses, then
 * fragments, then encrypts each piece), encrypts and sends `p` down; owns
 * `p`. */
static int dc_send(lvpn__datachannel_t *d, lvpn__pbuf_t *p, int special) {
  lvpn__pbuf_t *piece[LVPN__FRAG_MAX_FRAGS];
  size_t n = 1, i;
  int err = lvpn__compress(&d->comp, p, uv_now(d->base.loop) / 1000), rc;
  piece[0] = p;
  if (err == 0 && lvpn__fragment_on(&d->frag))
    err = lvpn__fragment_split(&d->frag, p, d->pool, piece, &n);
  if (err != 0) {
    d->drop_tx++;
    LVPN__LOG(d->base.log, LVPN_LOG_DEBUG, d->base.name,
              "cannot send %zu-byte packet: %s", p->len, lvpn_strerror(err));
    lvpn__layer_drop(&d->base, p);
    return err;
  }
  for (i = 0; i < n; i++)
    if ((rc = dc_seal(d, piece[i], special)) != 0 && err == 0)
      err = rc;
  return err;
}

/* Builds a special payload (ping, OCC) in a fresh buffer and sends it. */
static int dc_send_special(lvpn__datachannel_t *d, int occ_op) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(d->pool);
  int err;
  if (p == NULL)
    return LVPN_ENOMEM;
  if (occ_op < 0)
    err = lvpn__dc_build_ping(p);
  else if (occ_op == LVPN__OCC_EXIT)
    err = lvpn__dc_build_occ_exit(p);
  else
    err = lvpn__dc_build_occ_reply(p, "V4,dev-type tun,tls-client");
  if (err != 0) {
    lvpn__pbuf_free(p);
    return err;
  }
  return dc_send(d, p, 1);
}

int lvpn__datachannel_send_occ_exit(lvpn__datachannel_t *d) {
  if (!lvpn__datachannel_has_key(d))
    return LVPN_ESTATE;
  return dc_send_special(d, LVPN__OCC_EXIT);
}

static void dc_handle_occ(lvpn__datachannel_t *d, int op) {
  d->occ_rx++;
  LVPN__TRACE(d->base.trace, d->base.name, "occ_in", "op=%d", op);
  switch (op) {
  case LVPN__OCC_REQUEST:
    dc_send_special(d, LVPN__OCC_REPLY); /* like OpenVPN: our options */
    break;
  case LVPN__OCC_EXIT:
    LVPN__LOG(d->base.log, LVPN_LOG_INFO, d->base.name,
              "server sent OCC EXIT (it is shutting down)");
    lvpn__layer_fail(&d->base, LVPN_EEXIT_NOTIFY);
    break;
  default:
    LVPN__LOG(d->base.log, LVPN_LOG_DEBUG, d->base.name,
              "OCC message %d ignored", op);
  }
}

static void dc_up(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__datachannel_t *d = container_of(l, lvpn__datachannel_t, base);
  uint8_t opcode, key_id;
  uint32_t peer_id;
  int err, occ, slot = -1, frag_err = 0;

  if (!lvpn__datachannel_has_key(d)) {
    d->drop_nokey++;
    lvpn__layer_drop(l, p);
    return;
  }
  err = lvpn__dc_parse_header(p, &opcode, &key_id, &peer_id);
  if (err == 0) {
    if (d->have[d->newest] && d->key_ids[d->newest] == key_id)
      slot = d->newest;
    else if (d->have[!d->newest] && d->key_ids[!d->newest] == key_id)
      slot = !d->newest;
    else
      err = LVPN_ENOKEY;
  }
  if (err == 0)
    err = dc_decrypt(d, slot, p, uv_now(l->loop) / 1000);
  if (err == 0 && lvpn__fragment_on(&d->frag)) {
    err = lvpn__fragment_incoming(&d->frag, p, uv_now(l->loop) / 1000);
    if (err == LVPN__FRAG_PENDING) { /* an authentic piece: kept */
      d->last_rx_ms = uv_now(l->loop);
      lvpn__pbuf_free(p);
      return;
    }
    if (err != 0) {
      d->drop_fragment++;
      frag_err = 1;
    }
  }
  if (err == 0)
    err = lvpn__decompress(&d->comp, p);
  if (err != 0) {
    switch (frag_err ? 0 : err) {
    case 0: break;
    case LVPN_ESHORT: d->drop_short++; break;
    case LVPN_EAUTH: d->drop_auth++; break;
    case LVPN_EREPLAY: d->drop_replay++; break;
    case LVPN_ENOKEY: d->drop_nokey++; break;
    case LVPN_ECOMPRESSION: d->drop_compressed++; break;
    default: d->drop_other++;
    }
    LVPN__LOG(l->log, LVPN_LOG_DEBUG, l->name, "dropped data packet: %s",
              lvpn_strerror(err));
    LVPN__TRACE_PKT(l->trace, 1, l->name, "drop",
                    "reason=%s key_id=%u bytes=%zu", lvpn_err_name(err),
                    p->meta.key_id, p->len);
    lvpn__layer_drop(l, p);
    return;
  }
  d->last_rx_ms = uv_now(l->loop);
  if (p->meta.float_gen != 0 && d->on_authentic != NULL)
    d->on_authentic(d->ud, p->meta.float_gen); /* the server moved */
  if (slot == d->newest && d->tx != d->newest) {
    d->tx = d->newest; /* the server sends on the new key: so do we */
    LVPN__TRACE(l->trace, l->name, "tx_key", "key_id=%u reason=%s",
                d->key_ids[d->tx], "server_uses_it");
    LVPN__LOG(l->log, LVPN_LOG_DEBUG, l->name, "sending on key_id %u",
              d->key_ids[d->tx]);
  }
  d->rx_packets++;
  d->rx_bytes += p->len;
  d->key_bytes[slot] += p->len;
  d->key_pkts[slot]++;
  LVPN__TRACE_PKT(l->trace, 1, l->name, "decrypt", "key_id=%u plain_bytes=%zu",
                  key_id, p->len);
  if (lvpn__dc_is_ping(p)) {
    d->pings_rx++;
    LVPN__TRACE(l->trace, l->name, "ping_in", "key_id=%u", key_id);
    lvpn__pbuf_free(p);
    return;
  }
  occ = lvpn__dc_occ_opcode(p);
  if (occ >= 0 || lvpn__dc_is_occ(p)) { /* a bare magic is OCC too */
    lvpn__pbuf_free(p);
    dc_handle_occ(d, occ);
    return;
  }
  if (d->params.mss > 0)
    d->mss_clamped += (uint64_t)lvpn__mss_clamp(p->data, p->len, d->params.mss);
  dc_activity(d, p->len);
  lvpn__layer_send_up(l, p);
}

static void dc_down(lvpn__layer_t *l, lvpn__pbuf_t *p) {
  lvpn__datachannel_t *d = container_of(l, lvpn__datachannel_t, base);
  if (!lvpn__datachannel_has_key(d)) {
    d->drop_nokey++;
    lvpn__layer_drop(l, p);
    return;
  }
  if (d->params.mss > 0) /* mssfix: both directions, as OpenVPN */
    d->mss_clamped += (uint64_t)lvpn__mss_clamp(p->data, p->len, d->params.mss);
  if (p->len >= 20 && (p->data[0] >> 4) == 4) { /* for passtos */
    p->meta.has_tos = 1;
    p->meta.tos = p->data[1];
  }
  dc_send(d, p, 0);
}

/* reneg-bytes / reneg-pkts reached on the sending key. */
static int dc_reneg_due(const lvpn__datachannel_t *d) {
  return (d->params.reneg_bytes > 0 &&
          d->key_bytes[d->tx] >= d->params.reneg_bytes) ||
         (d->params.reneg_pkts > 0 &&
          d->key_pkts[d->tx] >= d->params.reneg_pkts);
}

static void dc_tick(uv_timer_t *h) {
  lvpn__datachannel_t *d = container_of(h, lvpn__datachannel_t, tick);
  uint64_t now = uv_now(d->base.loop);

  if (lvpn__datachannel_has_key(d))
    LVPN__TRACE(
        d->base.trace, d->base.name, "summary",
        "rx_packets=%llu rx_bytes=%llu tx_packets=%llu tx_bytes=%llu "
        "drops=%llu pings_rx=%llu pings_tx=%llu",
        (unsigned long long)d->rx_packets, (unsigned long long)d->rx_bytes,
        (unsigned long long)d->tx_packets, (unsigned long long)d->tx_bytes,
        (unsigned long long)(d->drop_nokey + d->drop_short + d->drop_auth +
                             d->drop_replay + d->drop_other +
                             d->drop_compressed + d->drop_fragment +
                             d->drop_tx),
        (unsigned long long)d->pings_rx, (unsigned long long)d->pings_tx);
  lvpn__fragment_reap(&d->frag, now / 1000);
  if (d->tx != d->newest && now >= d->switch_deadline_ms) {
    d->tx = d->newest;
    LVPN__TRACE(d->base.trace, d->base.name, "tx_key", "key_id=%u reason=%s",
                d->key_ids[d->tx], "switch_deadline");
  }
  /* tran-window: the lame duck is dropped (OpenVPN's "killed expiring
   * key"); if we still sent on it, the newest key takes over first. */
  if (d->have[!d->newest] && now >= d->lame_deadline_ms) {
    int old = !d->newest;
    if (d->tx == old) {
      d->tx = d->newest;
      LVPN__TRACE(d->base.trace, d->base.name, "tx_key", "key_id=%u reason=%s",
                  d->key_ids[d->tx], "tran_window");
    }
    LVPN__LOG(d->base.log, LVPN_LOG_INFO, d->base.name,
              "key_id %u: tran-window %u s elapsed: previous key dropped",
              d->key_ids[old], d->params.tran_window_s);
    LVPN__TRACE(d->base.trace, d->base.name, "key_retire",
                "slot=%d key_id=%u reason=tran_window", old, d->key_ids[old]);
    dc_key_free(d, old);
    d->have[old] = 0;
    d->keys_expired++;
  }
  /* (tx != newest: a renegotiation already brought a newer key) */
  if (d->have[d->tx] && d->tx == d->newest && !d->rekey_asked &&
      (dc_reneg_due(d) ||
       (d->params.epoch
            ? lvpn__epoch_key_wants_renegotiation(&d->ekeys[d->tx])
            : lvpn__dc_key_wants_renegotiation(&d->keys[d->tx])))) {
    d->rekey_asked = 1;
    if (dc_reneg_due(d))
      LVPN__LOG(d->base.log, LVPN_LOG_INFO, d->base.name,
                "key_id %u: %llu bytes, %llu packets (reneg-bytes/reneg-pkts "
                "reached): renegotiating",
                d->key_ids[d->tx], (unsigned long long)d->key_bytes[d->tx],
                (unsigned long long)d->key_pkts[d->tx]);
    else
      LVPN__LOG(d->base.log, LVPN_LOG_INFO, d->base.name,
                "key_id %u is nearly spent: asking for a renegotiation",
                d->key_ids[d->tx]);
    if (d->on_wants_rekey != NULL)
      d->on_wants_rekey(d);
  }
  if (d->params.ping_restart_s > 0 &&
      now - d->last_rx_ms >= (uint64_t)d->params.ping_restart_s * 1000) {
    if (d->params.ping_exit)
      dc_fail(d, LVPN_EPING_EXIT, "Inactivity timeout (--ping-exit), exiting");
    else
      dc_fail(d, LVPN_EPING_RESTART,
              "Inactivity timeout (--ping-restart), restarting");
    return;
  }
  if (d->inactive_s > 0 &&
      now - d->last_active_ms >= (uint64_t)d->inactive_s * 1000) {
    dc_fail(d, LVPN_EINACTIVE, "Inactivity timeout (--inactive), exiting");
    return;
  }
  if (d->session_s > 0 &&
      now - d->session_start_ms >= (uint64_t)d->session_s * 1000) {
    dc_fail(d, LVPN_ESESSION_TIMEOUT, "Session timeout, exiting");
    return;
  }
  if (lvpn__datachannel_has_key(d) && d->params.ping_s > 0 &&
      now - d->last_tx_ms >= (uint64_t)d->params.ping_s * 1000) {
    if (dc_send_special(d, -1) == 0) {
      d->pings_tx++;
      LVPN__TRACE(d->base.trace, d->base.name, "ping_out", "key_id=%u",
                  d->key_ids[d->tx]);
    }
  }
}

static int dc_start(lvpn__layer_t *l) {
  lvpn__datachannel_t *d = container_of(l, lvpn__datachannel_t, base);
  d->last_rx_ms = d->last_tx_ms = d->last_active_ms = uv_now(l->loop);
  return uv_timer_start(&d->tick, dc_tick, DC_TICK_MS, DC_TICK_MS);
}

static void dc_stop(lvpn__layer_t *l) {
  lvpn__datachannel_t *d = container_of(l, lvpn__datachannel_t, base);
  uv_timer_stop(&d->tick);
}

static void dc_close(lvpn__layer_t *l) {
  lvpn__datachannel_t *d = container_of(l, lvpn__datachannel_t, base);
  int i;
  for (i = 0; i < 2; i++)
    if (d->have[i]) {
      dc_key_free(d, i);
      d->have[i] = 0;
    }
  lvpn__compress_free(&d->comp);
  lvpn__fragment_free(&d->frag);
  lvpn__layer_close_handle(l, (uv_handle_t *)&d->tick);
}

static void dc_counters(const lvpn__layer_t *l,
                        void (*cb)(void *, const char *, const char *,
                                   uint64_t),
                        void *ud) {
  const lvpn__datachannel_t *d =
      container_of(l, const lvpn__datachannel_t, base);
  cb(ud, l->name, "rx_packets", d->rx_packets);
  cb(ud, l->name, "rx_bytes", d->rx_bytes);
  cb(ud, l->name, "tx_packets", d->tx_packets);
  cb(ud, l->name, "tx_bytes", d->tx_bytes);
  cb(ud, l->name, "drop_nokey", d->drop_nokey);
  cb(ud, l->name, "drop_short", d->drop_short);
  cb(ud, l->name, "drop_auth", d->drop_auth);
  cb(ud, l->name, "drop_replay", d->drop_replay);
  cb(ud, l->name, "drop_compressed", d->drop_compressed);
  cb(ud, l->name, "drop_other", d->drop_other);
  cb(ud, l->name, "comp_compressed", d->comp.compressed);
  cb(ud, l->name, "comp_decompressed", d->comp.decompressed);
  cb(ud, l->name, "comp_drop_header", d->comp.drop_header);
  cb(ud, l->name, "comp_drop_corrupt", d->comp.drop_corrupt);
  cb(ud, l->name, "comp_drop_oversize", d->comp.drop_oversize);
  cb(ud, l->name, "drop_tx", d->drop_tx);
  if (d->params.fragment_size > 0) { /* (also after close freed it) */
    const lvpn__fragment_t *f = &d->frag;
    cb(ud, l->name, "frag_tx_split", f->tx_split);
    cb(ud, l->name, "frag_tx_pieces", f->tx_pieces);
    cb(ud, l->name, "frag_rx_pieces", f->rx_pieces);
    cb(ud, l->name, "frag_rx_reassembled", f->rx_reassembled);
    cb(ud, l->name, "frag_drop_malformed", f->drop_malformed);
    cb(ud, l->name, "frag_drop_oversize", f->drop_oversize);
    cb(ud, l->name, "frag_drop_expired", f->drop_expired);
    cb(ud, l->name, "frag_drop_too_big", f->drop_too_big);
  }
  cb(ud, l->name, "drop_fragment", d->drop_fragment);
  cb(ud, l->name, "mss_clamped", d->mss_clamped);
  cb(ud, l->name, "pings_rx", d->pings_rx);
  cb(ud, l->name, "pings_tx", d->pings_tx);
  cb(ud, l->name, "occ_rx", d->occ_rx);
  cb(ud, l->name, "key_installs", d->key_installs);
  cb(ud, l->name, "keys_expired", d->keys_expired);
  cb(ud, l->name, "tx_key_id", d->key_ids[d->tx]);
  if (d->params.epoch) {
    const lvpn__epoch_key_t *k = &d->ekeys[d->tx];
    uint64_t tx = d->epoch_moves_tx, rx = d->epoch_moves_rx;
    int i;
    for (i = 0; i < 2; i++)
      if (d->have[i]) {
        tx += d->ekeys[i].stats.send_moves;
        rx += d->ekeys[i].stats.recv_moves;
      }
    cb(ud, l->name, "tx_epoch", d->have[d->tx] ? k->send.epoch
                                                : d->last_tx_epoch);
    cb(ud, l->name, "rx_epoch", d->have[d->tx] ? k->recv_epoch
                                                : d->last_rx_epoch);
    cb(ud, l->name, "epoch_moves_tx", tx);
    cb(ud, l->name, "epoch_moves_rx", rx);
    cb(ud, l->name, "epoch_unknown",
       d->have[d->tx] ? k->stats.unknown_epoch : 0);
    cb(ud, l->name, "epoch_send_deferred",
       d->have[d->tx] ? k->stats.send_deferred : 0);
  }
}

static const lvpn__layer_ops_t dc_ops = {.start = dc_start,
                                         .up = dc_up,
                                         .down = dc_down,
                                         .stop = dc_stop,
                                         .close = dc_close,
                                         .counters = dc_counters};

void lvpn__datachannel_prepare(void) { lvpn__dcc_prepare(); }

void lvpn__datachannel_warm(const char *ciphers, const char *fallback,
                            const char *auth) {
  lvpn__dc_warm(ciphers, auth);
  lvpn__dc_warm(fallback, auth);
}

void lvpn__datachannel_init(lvpn__datachannel_t *d, uv_loop_t *loop,
                            lvpn__pbuf_pool_t *pool,
                            int (*rng)(void *, unsigned char *, size_t),
                            void *rng_ctx, unsigned pre_pull_ping_restart_s,
                            const lvpn__logger_t *log) {
  memset(d, 0, sizeof(*d));
  lvpn__layer_init(&d->base, loop, "datachannel", &dc_ops, log);
  uv_timer_init(loop, &d->tick);
  d->pool = pool;
  d->rng = rng;
  d->rng_ctx = rng_ctx;
  d->params.ping_restart_s = pre_pull_ping_restart_s;
}

/* Builds `key_id`'s contexts into `slot` (freeing what was there). */
static int dc_install(lvpn__datachannel_t *d, int slot, uint8_t key_id,
                      const uint8_t key2[256]) {
  int err;
  if (d->have[slot]) {
    LVPN__TRACE(d->base.trace, d->base.name, "key_retire", "slot=%d key_id=%u",
                slot, d->key_ids[slot]);
    dc_key_free(d, slot);
    d->have[slot] = 0;
  }
  if (d->params.epoch)
    err = lvpn__epoch_key_init(&d->ekeys[slot], d->params.cipher, key2, key_id,
                               d->params.epoch_usage_limit);
  else
    err = lvpn__dc_key_init(&d->keys[slot], d->params.cipher, d->params.auth,
                            key2, key_id, d->rng, d->rng_ctx);
  if (err == 0 && !d->params.epoch && d->params.replay_given &&
      (err = lvpn__dc_key_set_replay(&d->keys[slot], d->params.replay_window,
                                     d->params.replay_time)) != 0)
    lvpn__dc_key_free(&d->keys[slot]);
  if (err != 0)
    return err;
  d->have[slot] = 1;
  d->rekey_asked = 0;
  d->key_bytes[slot] = d->key_pkts[slot] = 0;
  d->key_ids[slot] = key_id;
  d->newest = slot;
  d->key_installs++;
  LVPN__TRACE(d->base.trace, d->base.name, "key_install",
              "slot=%d key_id=%u cipher=%s auth=%s format=%s peer_id=%u", slot,
              key_id, d->params.cipher,
              strstr(d->params.cipher, "CBC") ? d->params.auth : "(aead)",
              d->params.peer_id >= 0xFFFFFF ? "P_DATA_V1" : "P_DATA_V2",
              d->params.peer_id >= 0xFFFFFF ? 0 : d->params.peer_id);
  LVPN__TRACE_STATE(d->base.trace, d->base.name, LVPN__STAGE_GENERATED_KEYS);
  return 0;
}

int lvpn__datachannel_set_key(lvpn__datachannel_t *d,
                              const lvpn__dc_params_t *params,
                              const uint8_t key2[256]) {
  int err, i;
  for (i = 0; i < 2; i++) /* a key of the other format goes first */
    if (d->have[i]) {
      dc_key_free(d, i);
      d->have[i] = 0;
    }
  d->params = *params;
  snprintf(d->cipher, sizeof(d->cipher), "%s", params->cipher);
  snprintf(d->auth, sizeof(d->auth), "%s", params->auth ? params->auth : "");
  d->params.cipher = d->cipher;
  d->params.auth = d->auth;
  err = lvpn__compress_setup(&d->comp, params->comp_mode, params->comp_tx);
  if (err == LVPN_EUNSUPPORTED)
    LVPN__LOG(d->base.log, LVPN_LOG_ERROR, d->base.name, "compression: %s",
              lvpn__compress_load_error());
  if (err == 0 && params->fragment_size > 0) {
    uint8_t seed = 0; /* random start, as OpenVPN: fewer clashes on restart */
    if (d->rng != NULL)
      d->rng(d->rng_ctx, &seed, 1);
    err = lvpn__fragment_setup(&d->frag, params->fragment_size, seed);
  } else if (err == 0) {
    lvpn__fragment_free(&d->frag);
  }
  if (err != 0)
    return err;
  err = dc_install(d, 0, params->key_id, key2);
  if (err != 0)
    return err;
  d->tx = 0;
  d->last_rx_ms = uv_now(d->base.loop);
  return 0;
}

int lvpn__datachannel_add_key(lvpn__datachannel_t *d, uint8_t key_id,
                              const uint8_t key2[256]) {
  int slot, err;
  if (!lvpn__datachannel_has_key(d))
    return LVPN_ESTATE;
  /* The lame duck's slot takes the new key: the old lame duck is done. */
  slot = !d->tx;
  err = dc_install(d, slot, key_id, key2);
  if (err != 0)
    return err;
  d->switch_deadline_ms = uv_now(d->base.loop) + DC_KEY_SWITCH_MS;
  d->lame_deadline_ms =
      uv_now(d->base.loop) + (uint64_t)d->params.tran_window_s * 1000;
  return 0;
}
