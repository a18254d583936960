/* datachannel: between the packetmuxer (below) and the inside (tun, above).
 * Down: plaintext IP packets get their TCP MSS clamped (mssfix), are
 * compression-framed, cut into pieces (fragment) and encrypted in place
 * (headers pushed into the headroom) into P_DATA_V2 (or V1) wire packets.
 * Up: wire data packets are authenticated, replay-checked, decrypted in
 * place, reassembled (fragment), unframed and MSS-clamped; keepalive
 * pings and OCC messages are consumed here.
 * A 1-s tick sends pings after `ping` s without sending and fails with
 * LVPN_EPING_RESTART after `ping-restart` s without receiving (with
 * LVPN_EPING_EXIT under ping-exit), with LVPN_EINACTIVE after `inactive`,
 * with LVPN_ESESSION_TIMEOUT after `session-timeout`,
 * asks for a renegotiation after reneg-bytes/reneg-pkts, and drops the
 * previous key `tran-window` s after a renegotiation installed a new one. */
#ifndef LVPN_LAYERS_DATACHANNEL_DATACHANNEL_H
#define LVPN_LAYERS_DATACHANNEL_DATACHANNEL_H

#include "layers/datachannel/compress.h"
#include "layers/datachannel/crypto.h"
#include "layers/datachannel/epoch.h"
#include "layers/datachannel/fragment.h"
#include "layers/datachannel/mss.h"
#include "layers/layer.h"

typedef struct lvpn__dc_params_s {
  const char *cipher; /* OpenVPN name, e.g. "AES-256-GCM" */
  const char *auth;   /* HMAC digest for CBC ciphers, e.g. "SHA1" */
  uint8_t key_id;
  uint32_t peer_id;   /* >= 0xFFFFFF: P_DATA_V1 */
  int comp_mode;      /* LVPN__COMP_* */
  int comp_tx;        /* compress outgoing packets (allow-compression yes) */
  unsigned ping_s;    /* 0 = off */
  unsigned ping_restart_s;
  int ping_exit;      /* ping_restart_s ends the client (ping-exit) */
  uint64_t reneg_bytes, reneg_pkts; /* per key, both directions; 0: off */
  unsigned tran_window_s; /* the previous key is dropped this long after a
                             new one is installed (tran-window) */
  int replay_given; /* else OpenVPN's 64 ids, 15 s */
  unsigned replay_window, replay_time;
  int epoch;                  /* protocol-flags aead-epoch: epoch format */
  uint64_t epoch_usage_limit; /* 0: the cipher's; tests lower it */
  unsigned fragment_size; /* `fragment`: largest plaintext sent whole; 0 off */
  unsigned mss;           /* `mssfix`: clamp TCP MSS (IPv4 value); 0 off */
} lvpn__dc_params_t;

typedef struct lvpn__datachannel_s {
  lvpn__layer_t base;
  lvpn__pbuf_pool_t *pool;
  /* Two key slots: the newest key and, after a renegotiation, the previous
   * one (lame duck) which still decrypts until it is replaced. */
  lvpn__dc_key_t keys[2];
  lvpn__epoch_key_t ekeys[2]; /* the same slots in epoch mode */
  uint8_t key_ids[2];
  int have[2];
  int tx;       /* slot used for sending */
  int newest;   /* slot of the newest key */
  uint64_t switch_deadline_ms; /* send on the newest key from then on */
  uint64_t lame_deadline_ms;   /* the other slot's key is dropped then */
  lvpn__dc_params_t params; /* cipher/auth point at the copies below */
  char cipher[48], auth[24];
  int (*rng)(void *, unsigned char *, size_t);
  void *rng_ctx;
  uv_timer_t tick;
  uint64_t last_tx_ms, last_rx_ms;
  uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
  uint64_t drop_nokey, drop_short, drop_auth, drop_replay, drop_other,
      drop_compressed, drop_tx;
  uint64_t pings_rx, pings_tx, occ_rx, key_installs, keys_expired;
  uint64_t epoch_moves_tx, epoch_moves_rx; /* summed over retired keys */
  uint16_t last_tx_epoch, last_rx_epoch;   /* of the last freed tx key */
  /* Called from the tick, once per key, when the sending key asks for a
   * renegotiation: 32-bit packet ids nearly spent (classic) or send epoch
   * >= 0xF000 (epoch). May be NULL. */
  void (*on_wants_rekey)(struct lvpn__datachannel_s *d);
  void *ud;
  /* float: a packet from a new server address decrypted (meta.float_gen
   * != 0). May be NULL. */
  void (*on_authentic)(void *ud, uint8_t float_gen);
  int rekey_asked;
  uint64_t key_bytes[2], key_pkts[2]; /* wire traffic per slot (reneg-*) */
  /* inactive N [BYTES]: fails with LVPN_EINACTIVE after N s in which fewer
   * than BYTES (0: any) of tunnel traffic went out or came in; pings and
   * OCC do not count. Runs from start, across key changes. */
  unsigned inactive_s;
  uint64_t inactive_min_bytes, inactive_acc, last_active_ms;
  /* session-timeout N: fails with LVPN_ESESSION_TIMEOUT N s after it was
   * set (when the tunnel came up), whatever the traffic. */
  unsigned session_s;
  uint64_t session_start_ms;
  lvpn__compress_t comp; /* mode and work memory set by set_key */
  lvpn__fragment_t frag; /* on when params.fragment_size > 0 */
  uint64_t drop_fragment, mss_clamped;
} lvpn__datachannel_t;

/* The crypto backend's one-time set-up ahead of the first key
 * (lvpn__dcc_prepare): for a wait on the network at start. */
void lvpn__datachannel_prepare(void);
/* The backend's first-use work for every cipher in `ciphers`
 * (':'-separated) and for `fallback` (may be NULL), with `auth` for CBC
 * (lvpn__dc_warm): for a later wait, so that the pushed cipher's key is
 * quick to set up. */
void lvpn__datachannel_warm(const char *ciphers, const char *fallback,
                            const char *auth);
void lvpn__datachannel_init(lvpn__datachannel_t *d, uv_loop_t *loop,
                            lvpn__pbuf_pool_t *pool,
                            int (*rng)(void *, unsigned char *, size_t),
                            void *rng_ctx, unsigned pre_pull_ping_restart_s,
                            const lvpn__logger_t *log);
/* Before the keys: the pre-pull timeout ends the client (ping-exit). */
static inline void lvpn__datachannel_set_ping_exit(lvpn__datachannel_t *d,
                                                   int on) {
  d->params.ping_exit = on;
}
/* inactive N [BYTES] (config or pushed; 0 s: off). The period restarts. */
void lvpn__datachannel_set_inactive(lvpn__datachannel_t *d, unsigned s,
                                    uint64_t min_bytes);
/* session-timeout N (config or pushed; 0: off): counted from now. */
void lvpn__datachannel_set_session_timeout(lvpn__datachannel_t *d,
                                           unsigned s);
/* Any data key is installed. */
static inline int lvpn__datachannel_has_key(const lvpn__datachannel_t *d) {
  return d->have[0] || d->have[1];
}

/* Installs the data keys (key2 is copied into cipher contexts; the caller
 * zeroizes its copy) and the pushed timers. */
int lvpn__datachannel_set_key(lvpn__datachannel_t *d,
                              const lvpn__dc_params_t *params,
                              const uint8_t key2[256]);
/* Installs the data keys of a renegotiated key state (same cipher and
 * options). The previous key keeps decrypting; sending moves to the new key
 * once the server uses it, or after 60 s (doc §8's safe client policy). */
int lvpn__datachannel_add_key(lvpn__datachannel_t *d, uint8_t key_id,
                              const uint8_t key2[256]);
/* Note that something authenticated arrived (control packets count). */
static inline void lvpn__datachannel_saw_peer(lvpn__datachannel_t *d) {
  d->last_rx_ms = uv_now(d->base.loop);
}
/* Sends OCC EXIT as a data packet (explicit-exit-notify without cc-exit). */
int lvpn__datachannel_send_occ_exit(lvpn__datachannel_t *d);

#endif
