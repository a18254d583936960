/* layers/datachannel between a capture layer in place of the packetmuxer
 * (the "server" side: it encrypts and decrypts with the inverse key, built
 * with lvpn__dc_key_init on lvpn__key2_inverse) and a capture layer in place
 * of the tun. The keepalive tests use the layer's real 1-s tick. */
#include <string.h>

#include <mbedtls/platform_util.h>

#include "layers/datachannel/crypto.h"
#include "layers/datachannel/datachannel.h"
#include "layers/datachannel/kdf.h"
#include "layers/layer.h"
#include "lib/bytes.h"
#include "tests/fakes.h"

/* ---- environment: peer (capture) | datachannel | tun (capture) ---- */

#define PEER_ID 7u

typedef struct {
  fake_env_t fe;
  lvpn__datachannel_t dc;
  fake_cap_t peer, tun;
  lvpn__dc_params_t params;
  lvpn__dc_key_t srv; /* the server's side of the key */
  int have_srv;
  uint32_t rng_state; /* CBC IVs: deterministic bytes are enough here */
} env_t;

static env_t E;

static void fixed_key2(uint8_t key2[256]) {
  fake_fill(key2, 256, 29, 3);
}

/* Key id 0, everything else unset. */
static void params_default(lvpn__dc_params_t *p) {
  static const lvpn__dc_params_t def = {.cipher = "AES-256-GCM",
                                        .auth = "SHA1",
                                        .peer_id = PEER_ID,
                                        .comp_mode = LVPN__COMP_NONE};
  *p = def;
}

static void env_init(env_t *e, unsigned pre_pull_ping_restart_s) {
  memset(e, 0, sizeof(*e));
  fake_env_init(&e->fe);
  e->rng_state = 42;
  lvpn__datachannel_init(&e->dc, &e->fe.loop, &e->fe.pool, fake_lcg_rng,
                         &e->rng_state, pre_pull_ping_restart_s, &e->fe.log);
  fake_env_cap(&e->fe, &e->peer, "peer");
  fake_env_cap(&e->fe, &e->tun, "tun");
  fake_env_stack(&e->fe, &e->peer.base, &e->dc.base, &e->tun.base, NULL);
  params_default(&e->params);
}

/* Installs the client's key (from `e->params`) and builds the server's. */
static void env_key(env_t *e) {
  uint8_t key2[256], inv[256];
  fixed_key2(key2);
  lvpn__key2_inverse(key2, inv);
  ck_assert_int_eq(lvpn__datachannel_set_key(&e->dc, &e->params, key2), 0);
  if (e->have_srv)
    lvpn__dc_key_free(&e->srv);
  ck_assert_int_eq(lvpn__dc_key_init(&e->srv, e->params.cipher, e->params.auth,
                                     inv, e->params.key_id, fake_lcg_rng,
                                     &e->rng_state),
                   0);
  e->have_srv = 1;
}

static void env_run(env_t *e) {
  fake_env_start(&e->fe);
}

/* Running with the default key and no pre-pull ping-restart. */
static void env_keyed(env_t *e) {
  env_init(e, 0);
  env_key(e);
  env_run(e);
}

/* A few loop turns without blocking (the 1-s tick is not due). */
static void spin(env_t *e) {
  fake_env_spin(&e->fe, 8);
}

static void env_finish(env_t *e, int want_err) {
  fake_env_finish(&e->fe, want_err);
  if (e->have_srv)
    lvpn__dc_key_free(&e->srv);
}

/* ---- the server side ---- */

/* `len` bytes of `body` framed with the session's compression and
 * encrypted by the server. */
static lvpn__pbuf_t *srv_wire(env_t *e, const void *body, size_t len) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, len), body, len);
  ck_assert_int_eq(lvpn__comp_frame(e->params.comp_mode, p), 0);
  ck_assert_int_eq(lvpn__dc_encrypt(&e->srv, p, e->params.peer_id), 0);
  return p;
}

static void srv_send(env_t *e, lvpn__pbuf_t *p) {
  lvpn__layer_send_up(&e->peer.base, p);
}

/* A packet `build` makes (ping, OCC), encrypted by the server and sent. */
static void srv_send_built(env_t *e, int (*build)(lvpn__pbuf_t *p)) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
  ck_assert_int_eq(build(p), 0);
  ck_assert_int_eq(lvpn__dc_encrypt(&e->srv, p, PEER_ID), 0);
  srv_send(e, p);
}

/* Decrypts what the layer sent down; returns it still framed. */
/* `body` as it stands (no compression framing), encrypted by the server
 * and sent. */
static void srv_send_raw(env_t *e, const void *body, size_t len) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, len), body, len);
  ck_assert_int_eq(lvpn__dc_encrypt(&e->srv, p, PEER_ID), 0);
  srv_send(e, p);
}

/* p holds exactly `want`; frees it. */
static void expect_data(lvpn__pbuf_t *p, const void *want, size_t len) {
  ck_assert_uint_eq(p->len, len);
  ck_assert_int_eq(memcmp(p->data, want, len), 0);
  lvpn__pbuf_free(p);
}

static lvpn__pbuf_t *srv_read_framed(env_t *e) {
  lvpn__pbuf_t *p = fake_cap_pop(&e->peer);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(lvpn__dc_decrypt(&e->srv, p), 0);
  return p;
}

static lvpn__pbuf_t *srv_read(env_t *e) {
  lvpn__pbuf_t *p = srv_read_framed(e);
  ck_assert_int_eq(lvpn__comp_unframe(e->params.comp_mode, p), 0);
  return p;
}

static void tun_send(env_t *e, const void *pkt, size_t len) {
  lvpn__pbuf_t *p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, len), pkt, len);
  lvpn__layer_send_down(&e->tun.base, p);
}

static void ip_packet(uint8_t *b, size_t len, uint8_t seed) {
  size_t i;
  for (i = 0; i < len; i++)
    b[i] = (uint8_t)(i * 13 + seed);
  b[0] = 0x45; /* IPv4 */
}

/* ---- tests ---- */

START_TEST(test_datachannel_encrypts_down) {
  env_t *e = &E;
  uint8_t ip[100];
  lvpn__pbuf_t *p;
  int i;

  env_keyed(e);
  for (i = 0; i < 3; i++) {
    ip_packet(ip, sizeof(ip), (uint8_t)i);
    tun_send(e, ip, sizeof(ip));
  }
  spin(e);
  ck_assert_uint_eq(e->peer.got.count, 3);
  for (i = 0; i < 3; i++) {
    p = lvpn__pbuf_from_node(e->peer.got.head);
    /* P_DATA_V2, key 0, peer id 7; the plaintext is nowhere in clear */
    ck_assert_uint_eq(p->meta.opcode, LVPN__P_DATA_V2);
    ck_assert_uint_eq(p->data[0], 0x48);
    ck_assert_uint_eq(p->data[1], 0);
    ck_assert_uint_eq(p->data[2], 0);
    ck_assert_uint_eq(p->data[3], PEER_ID);
    ck_assert_uint_gt(p->len, sizeof(ip));
    ip_packet(ip, sizeof(ip), (uint8_t)i);
    ck_assert_ptr_null(memmem(p->data, p->len, ip + 1, 16));
    p = srv_read(e);
    expect_data(p, ip, sizeof(ip));
  }
  ck_assert_uint_eq(e->dc.tx_packets, 3);
  ck_assert_uint_eq(e->dc.base.stats.dropped, 0);
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

START_TEST(test_datachannel_v1_and_cbc) {
  env_t *e = &E;
  uint8_t ip[77];
  lvpn__pbuf_t *p;

  env_init(e, 0);
  e->params.cipher = "AES-128-CBC";
  e->params.auth = "SHA256";
  e->params.key_id = 3;
  e->params.peer_id = LVPN__DC_NO_PEER_ID; /* no peer id: P_DATA_V1 */
  env_key(e);
  env_run(e);
  ip_packet(ip, sizeof(ip), 9);
  tun_send(e, ip, sizeof(ip));
  srv_send(e, srv_wire(e, ip, sizeof(ip)));
  spin(e);
  p = lvpn__pbuf_from_node(e->peer.got.head);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->meta.opcode, LVPN__P_DATA_V1);
  ck_assert_uint_eq(p->data[0], (LVPN__P_DATA_V1 << 3) | 3);
  p = srv_read(e);
  ck_assert_int_eq(memcmp(p->data, ip, sizeof(ip)), 0);
  lvpn__pbuf_free(p);
  p = fake_cap_pop(&e->tun);
  ck_assert_ptr_nonnull(p);
  expect_data(p, ip, sizeof(ip));
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

START_TEST(test_datachannel_decrypts_up) {
  env_t *e = &E;
  uint8_t ip[3][200];
  lvpn__pbuf_t *p;
  int i;

  env_init(e, 0);
  e->params.cipher = "CHACHA20-POLY1305";
  env_key(e);
  env_run(e);
  for (i = 0; i < 3; i++) {
    ip_packet(ip[i], sizeof(ip[i]), (uint8_t)(i + 50));
    srv_send(e, srv_wire(e, ip[i], sizeof(ip[i])));
  }
  spin(e);
  ck_assert_uint_eq(e->tun.got.count, 3);
  for (i = 0; i < 3; i++) {
    p = fake_cap_pop(&e->tun);
    expect_data(p, ip[i], sizeof(ip[i]));
  }
  ck_assert_uint_eq(e->dc.rx_packets, 3);
  ck_assert_uint_eq(e->dc.rx_bytes, 3 * sizeof(ip[0]));
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

static int dc_floats, dc_float_gen;
static void dc_on_authentic(void *ud, uint8_t gen) {
  (void)ud;
  dc_floats++;
  dc_float_gen = gen;
}

/* float: a data packet from a new address (meta.float_gen) is reported
 * once it decrypted; forged or replayed ones are not. */
START_TEST(test_datachannel_float_only_when_decrypted) {
  env_t *e = &E;
  uint8_t ip[64];
  lvpn__pbuf_t *p, *q;

  dc_floats = dc_float_gen = 0;
  env_keyed(e);
  e->dc.on_authentic = dc_on_authentic;
  ip_packet(ip, sizeof(ip), 9);
  p = srv_wire(e, ip, sizeof(ip));
  q = lvpn__pbuf_clone(p);
  p->data[p->len - 1] ^= 1; /* forged */
  p->meta.float_gen = 4;
  srv_send(e, p);
  spin(e);
  ck_assert_int_eq(dc_floats, 0);
  q->meta.float_gen = 4;
  srv_send(e, q);
  srv_send(e, srv_wire(e, ip, sizeof(ip))); /* from the server: nothing */
  spin(e);
  ck_assert_int_eq(dc_floats, 1);
  ck_assert_int_eq(dc_float_gen, 4);
  ck_assert_uint_eq(e->tun.got.count, 2);
  fake_cap_clear(&e->tun);
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

START_TEST(test_datachannel_ping_consumed_and_counted) {
  env_t *e = &E;

  env_keyed(e);
  srv_send_built(e, lvpn__dc_build_ping);
  spin(e);
  ck_assert_uint_eq(e->dc.pings_rx, 1);
  ck_assert(lvpn__queue_empty(&e->tun.got));
  ck_assert(lvpn__queue_empty(&e->peer.got)); /* a ping is not answered */
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

START_TEST(test_datachannel_occ_exit_fails_stack) {
  env_t *e = &E;

  env_keyed(e);
  srv_send_built(e, lvpn__dc_build_occ_exit);
  ck_assert_int_eq(uv_run(&e->fe.loop, UV_RUN_DEFAULT), 0); /* goes down */
  ck_assert_int_eq(e->fe.down_calls, 1);
  ck_assert_int_eq(e->fe.down_err, LVPN_EEXIT_NOTIFY);
  ck_assert_uint_eq(e->dc.occ_rx, 1);
  ck_assert_uint_eq(e->dc.base.state, LVPN__LAYER_CLOSED);
  env_finish(e, LVPN_EEXIT_NOTIFY);
}
END_TEST

START_TEST(test_datachannel_occ_request_answered_exit_sent) {
  env_t *e = &E;
  lvpn__pbuf_t *p;

  env_init(e, 0);
  ck_assert_int_eq(lvpn__datachannel_send_occ_exit(&e->dc), LVPN_ESTATE);
  env_key(e);
  env_run(e);
  p = lvpn__pbuf_alloc(&e->fe.pool);
  ck_assert_int_eq(lvpn__dc_build_occ(p, LVPN__OCC_REQUEST, NULL, 0), 0);
  ck_assert_int_eq(lvpn__dc_encrypt(&e->srv, p, PEER_ID), 0);
  srv_send(e, p);
  spin(e);
  ck_assert(lvpn__queue_empty(&e->tun.got));
  p = srv_read(e);
  ck_assert_int_eq(lvpn__dc_occ_opcode(p), LVPN__OCC_REPLY);
  lvpn__pbuf_free(p);
  /* a bare OCC magic (no opcode byte) is not tunnel traffic either */
  srv_send(e, srv_wire(e, lvpn__dc_occ_magic, LVPN__DC_OCC_MAGIC_LEN));
  spin(e);
  ck_assert(lvpn__queue_empty(&e->tun.got));
  ck_assert(lvpn__queue_empty(&e->peer.got));
  ck_assert_uint_eq(e->dc.occ_rx, 2);
  /* explicit-exit-notify without cc-exit */
  ck_assert_int_eq(lvpn__datachannel_send_occ_exit(&e->dc), 0);
  spin(e);
  p = srv_read(e);
  ck_assert_int_eq(lvpn__dc_occ_opcode(p), LVPN__OCC_EXIT);
  lvpn__pbuf_free(p);
  ck_assert_int_eq(e->fe.down_calls, 0);
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

START_TEST(test_datachannel_bad_packets_dropped) {
  env_t *e = &E;
  uint8_t ip[64];
  lvpn__pbuf_t *p, *q;
  size_t cut;

  env_keyed(e);
  ip_packet(ip, sizeof(ip), 1);
  /* replay: the same packet twice */
  p = srv_wire(e, ip, sizeof(ip));
  q = lvpn__pbuf_clone(p);
  srv_send(e, p);
  srv_send(e, q);
  spin(e);
  ck_assert_uint_eq(e->tun.got.count, 1);
  ck_assert_uint_eq(e->dc.drop_replay, 1);
  /* bit flips: in the tag, the ciphertext, the packet id, the header */
  p = srv_wire(e, ip, sizeof(ip));
  p->data[10] ^= 0x04;
  srv_send(e, p);
  p = srv_wire(e, ip, sizeof(ip));
  p->data[p->len - 1] ^= 0x80;
  srv_send(e, p);
  p = srv_wire(e, ip, sizeof(ip));
  p->data[7] ^= 0x01;
  srv_send(e, p);
  p = srv_wire(e, ip, sizeof(ip));
  p->data[3] ^= 0x01; /* peer id: authenticated data for AEAD */
  srv_send(e, p);
  spin(e);
  ck_assert_uint_eq(e->dc.drop_auth, 4);
  /* truncated: inside the header, the packet id and the tag */
  for (cut = 0; cut < 4 + 4 + 16; cut++) {
    p = srv_wire(e, ip, sizeof(ip));
    p->len = cut;
    srv_send(e, p);
  }
  spin(e);
  ck_assert_uint_eq(e->dc.drop_short, 4 + 4 + 16);
  /* another key id: no key for it */
  p = srv_wire(e, ip, sizeof(ip));
  p->data[0] = (uint8_t)((LVPN__P_DATA_V2 << 3) | 1);
  srv_send(e, p);
  spin(e);
  ck_assert_uint_eq(e->dc.drop_nokey, 1);
  ck_assert_uint_eq(e->tun.got.count, 1);
  ck_assert_uint_eq(e->dc.rx_packets, 1);
  ck_assert_uint_eq(e->dc.base.stats.dropped, 1 + 4 + 24 + 1);
  /* after all that, a good packet still passes */
  srv_send(e, srv_wire(e, ip, sizeof(ip)));
  spin(e);
  ck_assert_uint_eq(e->tun.got.count, 2);
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

START_TEST(test_datachannel_garbage_never_crashes) {
  env_t *e = &E;
  uint32_t x = 99;
  size_t n, sent = 0;
  lvpn__pbuf_t *p;

  env_init(e, 0);
  e->params.cipher = "AES-256-CBC";
  env_key(e);
  env_run(e);
  for (n = 0; n < 300; n += 3) {
    p = lvpn__pbuf_alloc(&e->fe.pool);
    fake_junk(&x, lvpn__pbuf_put(p, n), n);
    if (n > 0)
      p->data[0] = (uint8_t)(n & 1 ? 0x48 : 0x30);
    srv_send(e, p);
    sent++;
  }
  spin(e);
  ck_assert(lvpn__queue_empty(&e->tun.got));
  ck_assert_uint_eq(e->dc.base.stats.dropped, sent);
  ck_assert_uint_eq(e->dc.drop_short + e->dc.drop_auth + e->dc.drop_nokey +
                        e->dc.drop_other,
                    sent);
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

/* From the tun: an empty packet, and the largest a pbuf holds (no tailroom
 * left: CBC padding cannot fit, an AEAD needs none). */
START_TEST(test_datachannel_empty_and_oversized_from_tun) {
  static const char *const ciphers[] = {"AES-256-CBC", "AES-128-GCM"};
  env_t *e = &E;
  lvpn__pbuf_t *p;
  size_t n;
  int i;

  for (i = 0; i < 2; i++) {
    env_init(e, 0);
    e->params.cipher = ciphers[i];
    env_key(e);
    env_run(e);
    tun_send(e, "", 0);
    p = lvpn__pbuf_alloc(&e->fe.pool);
    n = lvpn__pbuf_tailroom(p);
    memset(lvpn__pbuf_put(p, n), 0x45, n);
    lvpn__layer_send_down(&e->tun.base, p);
    spin(e);
    if (i == 0) {
      ck_assert_uint_eq(e->dc.drop_tx, 2);
      ck_assert(lvpn__queue_empty(&e->peer.got));
    } else {
      ck_assert_uint_eq(e->dc.drop_tx, 1);
      p = srv_read(e);
      ck_assert_uint_eq(p->len, n);
      lvpn__pbuf_free(p);
    }
    env_finish(e, LVPN_ESTOPPED);
  }
}
END_TEST

START_TEST(test_datachannel_no_key_drops) {
  env_t *e = &E;
  uint8_t ip[40];
  lvpn__pbuf_t *p;

  env_init(e, 0);
  env_run(e);
  ip_packet(ip, sizeof(ip), 2);
  tun_send(e, ip, sizeof(ip));
  p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, sizeof(ip)), ip, sizeof(ip));
  p->data[0] = 0x48;
  srv_send(e, p);
  spin(e);
  ck_assert_uint_eq(e->dc.drop_nokey, 2);
  ck_assert(lvpn__queue_empty(&e->peer.got));
  ck_assert(lvpn__queue_empty(&e->tun.got));
  /* the key arrives (PUSH_REPLY): traffic flows */
  env_key(e);
  tun_send(e, ip, sizeof(ip));
  spin(e);
  ck_assert_uint_eq(e->peer.got.count, 1);
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

/* Down and up with a compression framing; `framed0` is the first byte the
 * server sees for an IPv4 packet. */
static void comp_round_trip(int mode, int framed0) {
  env_t *e = &E;
  uint8_t ip[60], odd[60];
  lvpn__pbuf_t *p;

  env_init(e, 0);
  e->params.comp_mode = mode;
  env_key(e);
  env_run(e);
  ip_packet(ip, sizeof(ip), 4);
  memcpy(odd, ip, sizeof(odd));
  odd[0] = 0x50; /* looks like stub-v2's own header byte */
  tun_send(e, ip, sizeof(ip));
  tun_send(e, odd, sizeof(odd));
  spin(e);
  p = srv_read_framed(e);
  ck_assert_int_eq(p->data[0], framed0);
  ck_assert_int_eq(lvpn__comp_unframe(mode, p), 0);
  expect_data(p, ip, sizeof(ip));
  p = srv_read(e);
  expect_data(p, odd, sizeof(odd));
  /* up: framed by the server, unframed for the tun */
  srv_send(e, srv_wire(e, ip, sizeof(ip)));
  srv_send(e, srv_wire(e, odd, sizeof(odd)));
  /* a ping is framed too */
  p = lvpn__pbuf_alloc(&e->fe.pool);
  ck_assert_int_eq(lvpn__dc_build_ping(p), 0);
  ck_assert_int_eq(lvpn__comp_frame(mode, p), 0);
  ck_assert_int_eq(lvpn__dc_encrypt(&e->srv, p, PEER_ID), 0);
  srv_send(e, p);
  /* a really compressed packet (LZO 0x66 / stub-v2 LZO 0x50 0x02) */
  srv_send_raw(e, mode == LVPN__COMP_STUB_V2 ? "\x50\x02zz" : "\x66zzz", 4);
  spin(e);
  ck_assert_uint_eq(e->tun.got.count, 2);
  p = fake_cap_pop(&e->tun);
  expect_data(p, ip, sizeof(ip));
  p = fake_cap_pop(&e->tun);
  expect_data(p, odd, sizeof(odd));
  ck_assert_uint_eq(e->dc.pings_rx, 1);
  ck_assert_uint_eq(e->dc.drop_compressed, 1);
  env_finish(e, LVPN_ESTOPPED);
}

START_TEST(test_datachannel_comp_stub_v2_round_trip) {
  comp_round_trip(LVPN__COMP_STUB_V2, 0x45); /* no byte added for IPv4 */
}
END_TEST

START_TEST(test_datachannel_comp_lzo_no_round_trip) {
  comp_round_trip(LVPN__COMP_LZO_NO, 0xfa);
}
END_TEST

/* Real compression through the layer (lz4-v2, comp-lzo with
 * allow-compression yes): compressible packets go down compressed, the
 * server's compressed packets come up whole, a corrupt one is dropped and
 * counted while the layer carries on. */
static void comp_real_round_trip(int mode) {
  env_t *e = &E;
  static lvpn__compress_t srv; /* the server's side */
  uint8_t ip[1000];
  lvpn__pbuf_t *p;
  size_t i;

  memset(&srv, 0, sizeof(srv));
  ck_assert_int_eq(lvpn__compress_setup(&srv, mode, true), 0);
  env_init(e, 0);
  e->params.comp_mode = mode;
  e->params.comp_tx = 1;
  env_key(e);
  env_run(e);
  for (i = 0; i < sizeof(ip); i++)
    ip[i] = (uint8_t) "abcdefgh"[i % 8];
  ip[0] = 0x45;
  tun_send(e, ip, sizeof(ip));
  spin(e);
  p = srv_read_framed(e);
  ck_assert_uint_lt(p->len, sizeof(ip) / 2);
  ck_assert_int_eq(p->data[0], mode == LVPN__COMP_LZ4_V2 ? 0x50 : 0x66);
  ck_assert_int_eq(lvpn__decompress(&srv, p), 0);
  expect_data(p, ip, sizeof(ip));
  ck_assert_uint_eq(e->dc.comp.compressed, 1);
  /* up: compressed by the server */
  p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, sizeof(ip)), ip, sizeof(ip));
  ck_assert_int_eq(lvpn__compress(&srv, p, 0), 0);
  ck_assert_uint_eq(srv.compressed, 1);
  ck_assert_int_eq(lvpn__dc_encrypt(&e->srv, p, PEER_ID), 0);
  srv_send(e, p);
  /* a corrupt stream under a valid framing */
  srv_send_raw(
      e, mode == LVPN__COMP_LZ4_V2 ? "\x50\x01\xf0zzz" : "\x66\xffzzzz", 6);
  spin(e);
  ck_assert_uint_eq(e->tun.got.count, 1);
  p = fake_cap_pop(&e->tun);
  expect_data(p, ip, sizeof(ip));
  ck_assert_uint_eq(e->dc.comp.decompressed, 1);
  ck_assert_uint_eq(e->dc.comp.drop_corrupt, 1);
  ck_assert_uint_eq(e->dc.drop_compressed, 1);
  lvpn__compress_free(&srv);
  env_finish(e, LVPN_ESTOPPED);
}

START_TEST(test_datachannel_comp_lz4_v2_real) {
  comp_real_round_trip(LVPN__COMP_LZ4_V2);
}
END_TEST

START_TEST(test_datachannel_comp_lzo_real) {
  comp_real_round_trip(LVPN__COMP_LZO);
}
END_TEST

/* Calls cb on e's loop after `after` ms, then every `repeat` ms (0: once);
 * the test closes t. */
static void traffic_start(env_t *e, uv_timer_t *t, uv_timer_cb cb,
                          uint64_t after, uint64_t repeat) {
  ck_assert_int_eq(uv_timer_init(&e->fe.loop, t), 0);
  t->data = e;
  ck_assert_int_eq(uv_timer_start(t, cb, after, repeat), 0);
}

/* Runs the loop until the layer has gone down, once, with `want`. */
static void run_until_down(env_t *e, int want) {
  ck_assert_int_eq(uv_run(&e->fe.loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(e->fe.down_calls, 1);
  ck_assert_int_eq(e->fe.down_err, want);
}

START_TEST(test_datachannel_keepalive_ping_after_silence) {
  env_t *e = &E;
  lvpn__pbuf_t *p;
  int guard = 0;

  env_init(e, 0);
  e->params.ping_s = 1;
  env_key(e);
  env_run(e);
  while (lvpn__queue_empty(&e->peer.got) && guard++ < 20)
    uv_run(&e->fe.loop, UV_RUN_ONCE);
  ck_assert_uint_eq(e->peer.got.count, 1);
  ck_assert_uint_ge(e->peer.at[0] - e->fe.started, 1000);
  ck_assert_uint_lt(e->peer.at[0] - e->fe.started, 1900);
  p = srv_read(e);
  ck_assert(lvpn__dc_is_ping(p));
  lvpn__pbuf_free(p);
  ck_assert_uint_eq(e->dc.pings_tx, 1);
  ck_assert_int_eq(e->fe.down_calls, 0); /* no ping-restart configured */
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

/* Traffic both ways at 0.5 s: our packet postpones the ping, the server's
 * the ping-restart. ping 1, ping-restart 2: no ping at the 1-s tick (sent
 * 0.5 s ago), a ping at 2 s, ping-restart at 3 s (received 2.5 s ago). */
static void traffic_cb(uv_timer_t *t) {
  env_t *e = t->data;
  uint8_t ip[48];
  ip_packet(ip, sizeof(ip), 8);
  tun_send(e, ip, sizeof(ip));
  srv_send(e, srv_wire(e, ip, sizeof(ip)));
}

START_TEST(test_datachannel_traffic_postpones_ping_and_restart) {
  env_t *e = &E;
  uv_timer_t traffic;
  lvpn__pbuf_t *p;

  env_init(e, 0);
  e->params.ping_s = 1;
  e->params.ping_restart_s = 2;
  env_key(e);
  env_run(e);
  traffic_start(e, &traffic, traffic_cb, 500, 0);
  run_until_down(e, LVPN_EPING_RESTART);
  ck_assert_uint_ge(e->fe.down_at - e->fe.started, 2900);
  ck_assert_uint_lt(e->fe.down_at - e->fe.started, 3900);
  ck_assert_uint_eq(e->tun.n, 1);
  ck_assert_int_eq(e->peer.n, 2); /* our packet, then one ping */
  ck_assert_uint_ge(e->peer.at[0] - e->fe.started, 500);
  ck_assert_uint_lt(e->peer.at[0] - e->fe.started, 900);
  ck_assert_uint_ge(e->peer.at[1] - e->fe.started, 1900);
  ck_assert_uint_lt(e->peer.at[1] - e->fe.started, 2900);
  p = srv_read(e);
  ck_assert(!lvpn__dc_is_ping(p));
  lvpn__pbuf_free(p);
  p = srv_read(e);
  ck_assert(lvpn__dc_is_ping(p));
  lvpn__pbuf_free(p);
  uv_close((uv_handle_t *)&traffic, NULL);
  env_finish(e, LVPN_EPING_RESTART);
}
END_TEST

START_TEST(test_datachannel_pre_pull_ping_restart_without_key) {
  env_t *e = &E;

  env_init(e, 1); /* before PUSH_REPLY: no key, the pre-pull value */
  env_run(e);
  run_until_down(e, LVPN_EPING_RESTART);
  ck_assert(lvpn__queue_empty(&e->peer.got)); /* no ping without a key */
  env_finish(e, LVPN_EPING_RESTART);
}
END_TEST

/* fragment and mssfix through the layer: compression framing, then the
 * fragment header, then encryption, each piece its own packet (OpenVPN's
 * order); the server's pieces, in any order, reassembled for the tun; a
 * SYN's MSS clamped both ways. */
START_TEST(test_datachannel_fragment_and_mss) {
  env_t *e = &E;
  uint8_t ip[600], syn[44] = {0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6};
  lvpn__fragment_t srv = {0};
  lvpn__pbuf_t *p, *out[LVPN__FRAG_MAX_FRAGS];
  size_t n, i;
  int rc = -1;

  env_init(e, 0);
  e->params.comp_mode = LVPN__COMP_LZO_NO;
  e->params.fragment_size = 200;
  e->params.mss = 1400;
  env_key(e);
  env_run(e);
  ck_assert_int_eq(lvpn__fragment_setup(&srv, 100, 0), 0);
  ip_packet(ip, sizeof(ip), 9);
  tun_send(e, ip, sizeof(ip));
  spin(e);
  /* 601 framed bytes in four even pieces of 152 (optimal_fragment_size) */
  ck_assert_uint_eq(e->peer.got.count, 4);
  for (i = 0; i < 4; i++) {
    p = srv_read_framed(e);
    ck_assert_uint_eq(lvpn__get_u32(p->data),
                      lvpn__fragment_header(i < 3 ? LVPN__FRAG_NOTLAST
                                                  : LVPN__FRAG_LAST,
                                            e->dc.frag.out_seq, (unsigned)i,
                                            152));
    rc = lvpn__fragment_incoming(&srv, p, 1);
    if (i < 3) {
      ck_assert_int_eq(rc, LVPN__FRAG_PENDING);
      lvpn__pbuf_free(p);
    }
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(lvpn__comp_unframe(LVPN__COMP_LZO_NO, p), 0);
  expect_data(p, ip, sizeof(ip));
  /* up: the server's pieces of 100 bytes, last first; a whole ping */
  p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, sizeof(ip)), ip, sizeof(ip));
  ck_assert_int_eq(lvpn__comp_frame(LVPN__COMP_LZO_NO, p), 0);
  ck_assert_int_eq(lvpn__fragment_split(&srv, p, &e->fe.pool, out, &n), 0);
  ck_assert_uint_eq(n, 7);
  for (i = n; i-- > 0;) {
    ck_assert_int_eq(lvpn__dc_encrypt(&e->srv, out[i], PEER_ID), 0);
    srv_send(e, out[i]);
  }
  p = lvpn__pbuf_alloc(&e->fe.pool);
  ck_assert_int_eq(lvpn__dc_build_ping(p), 0);
  ck_assert_int_eq(lvpn__comp_frame(LVPN__COMP_LZO_NO, p), 0);
  ck_assert_int_eq(lvpn__fragment_split(&srv, p, &e->fe.pool, out, &n), 0);
  ck_assert_int_eq(lvpn__dc_encrypt(&e->srv, p, PEER_ID), 0);
  srv_send(e, p);
  /* a piece without its fragment header is malformed: dropped */
  srv_send(e, srv_wire(e, "\x03", 1));
  spin(e);
  ck_assert_uint_eq(e->tun.got.count, 1);
  expect_data(fake_cap_pop(&e->tun), ip, sizeof(ip));
  ck_assert_uint_eq(e->dc.pings_rx, 1);
  ck_assert_uint_eq(e->dc.frag.rx_reassembled, 1);
  ck_assert_uint_eq(e->dc.drop_fragment, 1);
  /* mssfix: a SYN with MSS 1460, down and up */
  syn[20 + 12] = 6 << 4; /* data offset 24 */
  syn[20 + 13] = 0x02;
  memcpy(syn + 40, "\x02\x04\x05\xb4", 4);
  tun_send(e, syn, sizeof(syn));
  spin(e);
  p = srv_read_framed(e);
  ck_assert_int_eq(lvpn__fragment_incoming(&srv, p, 1), 0);
  ck_assert_int_eq(lvpn__comp_unframe(LVPN__COMP_LZO_NO, p), 0);
  ck_assert_uint_eq(lvpn__get_u16(p->data + 42), 1400);
  lvpn__pbuf_free(p);
  p = lvpn__pbuf_alloc(&e->fe.pool);
  memcpy(lvpn__pbuf_put(p, sizeof(syn)), syn, sizeof(syn));
  ck_assert_int_eq(lvpn__comp_frame(LVPN__COMP_LZO_NO, p), 0);
  ck_assert_int_eq(lvpn__fragment_split(&srv, p, &e->fe.pool, out, &n), 0);
  ck_assert_int_eq(lvpn__dc_encrypt(&e->srv, p, PEER_ID), 0);
  srv_send(e, p);
  spin(e);
  p = fake_cap_pop(&e->tun);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(lvpn__get_u16(p->data + 42), 1400);
  lvpn__pbuf_free(p);
  ck_assert_uint_eq(e->dc.mss_clamped, 2);
  lvpn__fragment_free(&srv);
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

static void one_packet_cb(uv_timer_t *t) {
  env_t *e = t->data;
  uint8_t ip[48];
  ip_packet(ip, sizeof(ip), 9);
  tun_send(e, ip, sizeof(ip));
}

/* inactive 2 (any traffic): a packet every 0.5 s keeps the client up. */
static void steady_cb(uv_timer_t *t) {
  env_t *e = t->data;
  uint8_t ip[48];
  ip_packet(ip, sizeof(ip), 10);
  srv_send(e, srv_wire(e, ip, sizeof(ip)));
  if (e->tun.n >= 8) /* 4 s: more than twice the timeout */
    lvpn__layer_fail(&e->dc.base, LVPN_ESTOPPED);
}

static int rekey_asks;
static void count_rekey(lvpn__datachannel_t *d) {
  (void)d;
  rekey_asks++;
}

START_TEST(test_datachannel_pre_pull_ping_exit) {
  env_t *e = &E;

  env_init(e, 1);
  lvpn__datachannel_set_ping_exit(&e->dc, 1); /* ping-exit 1 */
  env_run(e);
  run_until_down(e, LVPN_EPING_EXIT);
  env_finish(e, LVPN_EPING_EXIT);
}
END_TEST

/* inactive 2 1000: one small packet at 0.5 s is not enough traffic: the
 * layer fails with LVPN_EINACTIVE 2 s after the start. */
START_TEST(test_datachannel_inactive_needs_bytes) {
  env_t *e = &E;
  uv_timer_t traffic;

  env_init(e, 0);
  lvpn__datachannel_set_inactive(&e->dc, 2, 1000);
  env_key(e);
  env_run(e);
  traffic_start(e, &traffic, one_packet_cb, 500, 0);
  run_until_down(e, LVPN_EINACTIVE);
  ck_assert_uint_ge(e->fe.down_at - e->fe.started, 1900);
  ck_assert_uint_lt(e->fe.down_at - e->fe.started, 3900);
  ck_assert_int_eq(e->peer.n, 1); /* the packet went out */
  uv_close((uv_handle_t *)&traffic, NULL);
  env_finish(e, LVPN_EINACTIVE);
}
END_TEST

/* session-timeout 2: steady traffic does not keep the session alive; the
 * layer fails with LVPN_ESESSION_TIMEOUT 2 s after it was set. */
START_TEST(test_datachannel_session_timeout_despite_traffic) {
  env_t *e = &E;
  uv_timer_t traffic;

  env_init(e, 0);
  env_key(e);
  env_run(e);
  lvpn__datachannel_set_session_timeout(&e->dc, 2);
  traffic_start(e, &traffic, steady_cb, 500, 500); /* ESTOPPED at 4 s */
  while (e->fe.down_calls == 0)
    uv_run(&e->fe.loop, UV_RUN_ONCE);
  ck_assert_int_eq(e->fe.down_err, LVPN_ESESSION_TIMEOUT);
  ck_assert_int_ge(e->tun.n, 2); /* the traffic got through meanwhile */
  ck_assert_uint_ge(e->fe.down_at - e->fe.started, 1900);
  ck_assert_uint_lt(e->fe.down_at - e->fe.started, 3900);
  uv_close((uv_handle_t *)&traffic, NULL);
  env_finish(e, LVPN_ESESSION_TIMEOUT);
}
END_TEST

START_TEST(test_datachannel_inactive_reset_by_traffic) {
  env_t *e = &E;
  uv_timer_t traffic;

  env_init(e, 0);
  lvpn__datachannel_set_inactive(&e->dc, 2, 0);
  env_key(e);
  env_run(e);
  traffic_start(e, &traffic, steady_cb, 500, 500);
  ck_assert_int_eq(uv_run(&e->fe.loop, UV_RUN_ONCE) >= 0, 1);
  while (e->fe.down_calls == 0)
    uv_run(&e->fe.loop, UV_RUN_ONCE);
  ck_assert_int_eq(e->fe.down_err, LVPN_ESTOPPED);
  uv_close((uv_handle_t *)&traffic, NULL);
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

/* reneg-pkts 3: the tick after the third packet asks once. */
START_TEST(test_datachannel_reneg_pkts_asks_once) {
  env_t *e = &E;
  uint8_t ip[48];
  int i, guard = 0;

  env_init(e, 0);
  e->params.reneg_pkts = 3;
  e->dc.on_wants_rekey = count_rekey;
  rekey_asks = 0;
  env_key(e);
  env_run(e);
  ip_packet(ip, sizeof(ip), 11);
  for (i = 0; i < 5; i++)
    tun_send(e, ip, sizeof(ip));
  spin(e);
  ck_assert_uint_eq(e->dc.key_pkts[e->dc.tx], 5);
  while (rekey_asks == 0 && guard++ < 30)
    uv_run(&e->fe.loop, UV_RUN_ONCE);
  ck_assert_int_eq(rekey_asks, 1);
  ck_assert_int_eq(e->fe.down_calls, 0);
  for (i = 0; i < 5; i++)
    lvpn__pbuf_free(fake_cap_pop(&e->peer));
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

/* tran-window 1: after a renegotiation the previous key still decrypts,
 * then is dropped 1-2 s (the tick) after the new key came; we send on the
 * new key from then on, and the old key's packets count as no-key drops. */
START_TEST(test_datachannel_tran_window_drops_lame_duck) {
  env_t *e = &E;
  uint8_t key2[256], inv[256], ip[48];
  lvpn__dc_key_t srv1;
  lvpn__pbuf_t *p;
  uint64_t t0;
  int guard = 0;

  env_init(e, 0);
  e->params.tran_window_s = 1;
  env_key(e);
  env_run(e);
  fake_fill(key2, sizeof(key2), 77, 5);
  lvpn__key2_inverse(key2, inv);
  ck_assert_int_eq(lvpn__dc_key_init(&srv1, e->params.cipher, e->params.auth,
                                     inv, 1, fake_lcg_rng, &e->rng_state),
                   0);
  ck_assert_int_eq(lvpn__datachannel_add_key(&e->dc, 1, key2), 0);
  mbedtls_platform_zeroize(key2, sizeof(key2));
  t0 = uv_now(&e->fe.loop);
  ip_packet(ip, sizeof(ip), 21);
  srv_send(e, srv_wire(e, ip, sizeof(ip))); /* old key: still taken */
  spin(e);
  expect_data(fake_cap_pop(&e->tun), ip, sizeof(ip));
  while (e->dc.keys_expired == 0 && guard++ < 40)
    uv_run(&e->fe.loop, UV_RUN_ONCE);
  ck_assert_uint_eq(e->dc.keys_expired, 1);
  ck_assert_uint_ge(uv_now(&e->fe.loop) - t0, 1000);
  ck_assert_uint_lt(uv_now(&e->fe.loop) - t0, 2500);
  ck_assert_int_eq(e->dc.key_ids[e->dc.tx], 1);
  srv_send(e, srv_wire(e, ip, sizeof(ip))); /* old key: dropped now */
  spin(e);
  ck_assert(lvpn__queue_empty(&e->tun.got));
  ck_assert_uint_eq(e->dc.drop_nokey, 1);
  tun_send(e, ip, sizeof(ip)); /* sent on key 1 */
  spin(e);
  p = fake_cap_pop(&e->peer);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(lvpn__dc_decrypt(&srv1, p), 0);
  ck_assert_int_eq(lvpn__comp_unframe(e->params.comp_mode, p), 0);
  expect_data(p, ip, sizeof(ip));
  lvpn__dc_key_free(&srv1);
  ck_assert_int_eq(e->fe.down_calls, 0);
  env_finish(e, LVPN_ESTOPPED);
}
END_TEST

LVPN_TEST_MAIN("datachannel", 30, NULL, NULL, test_datachannel_encrypts_down,
               test_datachannel_float_only_when_decrypted,
               test_datachannel_v1_and_cbc, test_datachannel_decrypts_up,
               test_datachannel_ping_consumed_and_counted,
               test_datachannel_occ_exit_fails_stack,
               test_datachannel_occ_request_answered_exit_sent,
               test_datachannel_bad_packets_dropped,
               test_datachannel_garbage_never_crashes,
               test_datachannel_empty_and_oversized_from_tun,
               test_datachannel_no_key_drops,
               test_datachannel_comp_stub_v2_round_trip,
               test_datachannel_comp_lzo_no_round_trip,
               test_datachannel_comp_lz4_v2_real,
               test_datachannel_comp_lzo_real,
               test_datachannel_keepalive_ping_after_silence,
               test_datachannel_traffic_postpones_ping_and_restart,
               test_datachannel_pre_pull_ping_restart_without_key,
               test_datachannel_fragment_and_mss,
               test_datachannel_pre_pull_ping_exit,
               test_datachannel_inactive_needs_bytes,
               test_datachannel_session_timeout_despite_traffic,
               test_datachannel_inactive_reset_by_traffic,
               test_datachannel_reneg_pkts_asks_once,
               test_datachannel_tran_window_drops_lame_duck)
