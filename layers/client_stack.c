/* Assembling the stack: the client's RNG, TLS configuration and control
 * session, the key-method-2 message, and the seven layers of one connection
 * attempt, wired and started. */
#include "layers/client.h"
#include "layers/challenge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/entropy.h>
#include <mbedtls/platform_util.h>

#include "layers/packetmuxer/wire.h"
#include "layers/tlssession/keyload.h"

#define IV_PROTO_BITS                                                       \
  (LVPN__IV_PROTO_DATA_V2 | LVPN__IV_PROTO_REQUEST_PUSH |                   \
   LVPN__IV_PROTO_TLS_KEY_EXPORT | LVPN__IV_PROTO_CC_EXIT_NOTIFY |          \
   LVPN__IV_PROTO_AUTH_FAIL_TEMP | LVPN__IV_PROTO_DYN_TLS_CRYPT |           \
   LVPN__IV_PROTO_DATA_EPOCH | LVPN__IV_PROTO_PUSH_UPDATE |                 \
   LVPN__IV_PROTO_AUTH_PENDING_KW | LVPN__IV_PROTO_DNS_OPTION_V2)

static void client_log(lvpn_client_t *c, int level, const char *fmt,
                       const char *arg) {
  LVPN__LOG(&c->log, level, "client", fmt, arg);
}

/* The DRBG's seed comes straight from the kernel's CSPRNG (getrandom(2),
 * the source mbedtls_entropy_func polls too), without an entropy
 * accumulator: that is 37 KiB per session. */
static int client_entropy(void *ud, unsigned char *out, size_t len) {
  ssize_t n;
  (void)ud;
  while (len > 0) {
    n = getrandom(out, len, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    out += n;
    len -= (size_t)n;
  }
  return 0;
}

static int client_rng(lvpn_client_t *c) {
  static const char pers[] = "layervpn";
  int err;
  mbedtls_ctr_drbg_init(&c->drbg);
  c->rng_ready = 1;
  err = mbedtls_ctr_drbg_seed(&c->drbg, client_entropy, NULL,
                              (const unsigned char *)pers, sizeof(pers) - 1);
  if (err == 0 && c->cfg->prediction_resistance) /* reseed on every call */
    mbedtls_ctr_drbg_set_prediction_resistance(&c->drbg,
                                               MBEDTLS_CTR_DRBG_PR_ON);
  return err != 0 ? LVPN_ECRYPTO : 0;
}

static int client_session(lvpn_client_t *c, char *err, size_t errlen) {
  lvpn_config_t *cfg = c->cfg;
  const lvpn__blob_t *b = NULL;
  int mode = LVPN__TLSWRAP_NONE, dir = -1, rc;

  do {
    if (mbedtls_ctr_drbg_random(&c->drbg, c->session.own_sid, 8) != 0)
      return LVPN_ECRYPTO;
  } while (memcmp(c->session.own_sid, "\0\0\0\0\0\0\0\0", 8) == 0);
  c->session.is_tcp = lvpn__config_remote_proto(cfg, c->remote).tcp;
  /* the remote's own key (a <connection> block's), else the global one */
  switch (lvpn__config_remote_wrap(cfg, c->remote, &b, &dir)) {
  case LVPN__WRAP_CRYPT_V2:
    mode = LVPN__TLSWRAP_CRYPT_V2;
    break;
  case LVPN__WRAP_CRYPT:
    mode = LVPN__TLSWRAP_CRYPT;
    break;
  case LVPN__WRAP_AUTH:
    mode = LVPN__TLSWRAP_AUTH;
    break;
  default:
    return 0;
  }
  rc = lvpn__tlswrap_init(&c->session.wrap, mode, b->data, b->len, dir,
                          cfg->auth, err, errlen);
  if (rc != 0)
    return rc;
  if (mode == LVPN__TLSWRAP_CRYPT_V2)
    lvpn__tlswrap_set_early_neg(&c->session.wrap);
  return 0;
}

/* The TLS credentials and mbedTLS config made from one config: immutable
 * once built, so the clients made from that config on one loop share them
 * (lvpn__config_attach_*); each TLS session brings its client's DRBG and
 * logger (lvpn__tls_use). Freed, key material zeroed, with the last user. */
typedef struct {
  lvpn__config_attach_t a; /* first */
  lvpn__tls_conf_t conf;
} client_tls_t;

static void client_tls_release(lvpn__config_attach_t *a) {
  client_tls_t *t = (client_tls_t *)a;
  lvpn__tls_conf_free(&t->conf);
  mbedtls_platform_zeroize(t, sizeof(*t));
  free(t);
}

static int client_tls(lvpn_client_t *c, char *err, size_t errlen) {
  lvpn_config_t *cfg = c->cfg;
  lvpn__tls_params_t p;
  client_tls_t *t;
  lvpn__pkcs12_pem_t p12 = {0};
  int groups[LVPN__TLS_MAX_CURVES];
  int rc;

  memset(&p, 0, sizeof(p));
  p.ca_pem = cfg->ca.data;
  p.ca_len = cfg->ca.data ? cfg->ca.len + 1 : 0;
  p.cert_pem = cfg->cert.data;
  p.cert_len = cfg->cert.data ? cfg->cert.len + 1 : 0;
  p.key_pem = cfg->key.data;
  p.key_len = cfg->key.data ? cfg->key.len + 1 : 0;
  p.extra_certs_pem = cfg->extra_certs.data;
  p.extra_certs_len = cfg->extra_certs.data ? cfg->extra_certs.len + 1 : 0;
  p.crl_pem = cfg->crl.data;
  p.crl_len = cfg->crl.data ? cfg->crl.len + 1 : 0;
  p.key_password = cfg->askpass != NULL ? cfg->askpass : c->key_pass;
  p.remote_cert_tls_server = cfg->remote_cert_tls == LVPN__CERT_TLS_SERVER;
  p.remote_cert_tls_client = cfg->remote_cert_tls == LVPN__CERT_TLS_CLIENT;
  p.ns_cert_type = cfg->ns_cert_type;
  p.ku_required = cfg->ku_required;
  p.ku = cfg->ku;
  p.n_ku = cfg->n_ku;
  p.remote_cert_eku = cfg->remote_cert_eku;
  p.hashes = (const uint8_t(*)[32])cfg->hashes;
  p.n_hashes = cfg->n_hashes;
  p.hash_len = cfg->hash_len;
  p.hash_depth = cfg->hash_depth;
  p.cert_profile = cfg->tls_cert_profile;
  if (cfg->tls_groups != NULL) {
    rc = lvpn__config_tls_groups(cfg->tls_groups, groups, LVPN__TLS_MAX_CURVES,
                                 err, errlen);
    if (rc < 0 || rc > LVPN__TLS_MAX_CURVES)
      return rc < 0 ? LVPN_ECONFIG : LVPN_EUNSUPPORTED;
    p.groups = groups;
    p.n_groups = rc;
  }
  p.verify_x509_name = cfg->verify_x509_name;
  p.verify_x509_type = cfg->verify_x509_type == LVPN__X509_NAME
                           ? LVPN__X509_NAME_NAME
                       : cfg->verify_x509_type == LVPN__X509_NAME_PREFIX
                           ? LVPN__X509_NAME_NAME_PREFIX
                           : LVPN__X509_NAME_SUBJECT;
  p.tls_version_min = cfg->tls_version_min;
  p.tls_cipher = cfg->tls_cipher;
  p.shared = 1;
  p.log = &c->log; /* while it is built */
  if (cfg->pkcs12.data != NULL) { /* key, cert (and CA) from the bundle */
    rc = lvpn__pkcs12_to_pem(cfg->pkcs12.data, cfg->pkcs12.len,
                             p.key_password, &p12, err, errlen);
    if (rc != 0)
      return rc;
    p.cert_pem = p12.cert;
    p.cert_len = strlen(p12.cert) + 1;
    p.key_pem = p12.key;
    p.key_len = strlen(p12.key) + 1;
    if (p.ca_pem == NULL && p12.ca != NULL) {
      p.ca_pem = p12.ca;
      p.ca_len = strlen(p12.ca) + 1;
    }
  }
  if ((t = calloc(1, sizeof(*t))) == NULL) {
    lvpn__pkcs12_pem_free(&p12);
    return LVPN_ENOMEM;
  }
  rc = lvpn__tls_conf_init(&t->conf, &p, err, errlen);
  lvpn__pkcs12_pem_free(&p12);
  if (rc != 0) {
    free(t);
    return rc;
  }
  t->a.refs = 1;
  t->a.owner = c->loop;
  t->a.free = client_tls_release;
  c->tls_ref = &t->a;
  c->tls_conf = &t->conf;
  /* a passphrase the host gave this client stays this client's */
  if (c->key_pass == NULL)
    lvpn__config_attach_set(cfg, &t->a);
  return 0;
}

/* Certificates and keys, parsed once per config and loop (or per client,
 * with a passphrase from the host); an encrypted key without
 * 'askpass FILE' waits for the host's passphrase (returns 1). The
 * passphrase is zeroed once used; a wrong one stops the client
 * (LVPN_ECREDENTIALS; a wrong 'askpass FILE' stays LVPN_EKEYFILE). */
int lvpn__client_tls_once(lvpn_client_t *c) {
  char err[512] = "";
  int rc, asked = c->key_pass != NULL;

  if (c->tls_conf != NULL)
    return 0;
  if ((rc = lvpn__client_key_pass(c)) == 1)
    return 1;
  asked = asked || c->key_pass != NULL;
  if (rc == 0 && c->key_pass == NULL &&
      (c->tls_ref = lvpn__config_attach_get(c->cfg, c->loop)) != NULL) {
    c->tls_conf = &((client_tls_t *)c->tls_ref)->conf;
    return 0;
  }
  if (rc == 0)
    rc = client_tls(c, err, sizeof(err));
  lvpn__secret_free(&c->key_pass);
  if (rc == 0)
    return 0;
  if (asked && rc == LVPN_EKEYFILE && strstr(err, "wrong passphrase") != NULL) {
    /* the host's answer was wrong, not the config: a credentials error */
    client_log(c, LVPN_LOG_FATAL, "%s", "private key: wrong passphrase");
    rc = LVPN_ECREDENTIALS;
  } else if (rc != LVPN_ECREDENTIALS) {
    client_log(c, LVPN_LOG_FATAL, "%s", err[0] ? err : lvpn_strerror(rc));
  }
  c->err = rc;
  return rc;
}

static int client_km2(lvpn_client_t *c, lvpn__km2_client_t *km2) {
  lvpn_config_t *cfg = c->cfg;
  lvpn__km2_opts_t o;
  lvpn__peer_info_opts_t pi;
  lvpn__client_peer_extra_t *px;
  const lvpn__blob_t *wrap_key;
  int tcp = lvpn__config_remote_proto(cfg, c->remote).tcp;
  int rc, wrap_dir;

  memset(&o, 0, sizeof(o));
  o.tun_mtu = lvpn__client_config_tun_mtu(cfg);
  o.link_mtu = (unsigned)o.tun_mtu + 41;
  o.fragment = cfg->fragment > 0;
  o.tcp = tcp;
  o.comp_lzo = cfg->comp != LVPN__COMP_NONE; /* 2.6: any comp context */
  o.auth = cfg->auth;
  o.keysize = 128;
  o.tls_auth = lvpn__config_remote_wrap(cfg, c->remote, &wrap_key, &wrap_dir) ==
               LVPN__WRAP_AUTH;
  rc = lvpn__km2_options_string(c->km2_options, sizeof(c->km2_options), &o);
  if (rc != 0)
    return rc;
  memset(&pi, 0, sizeof(pi));
  pi.version = PACKAGE_VERSION;
  pi.mtu = lvpn__client_tun_mtu_max(cfg);
  pi.ciphers = cfg->data_ciphers;
  pi.proto = c->iv_proto = IV_PROTO_BITS;
  /* Bench/test hook: LVPN_TEST_NO_EPOCH=1 leaves epoch data keys out of
   * IV_PROTO, so that bench/bench.sh can run the classic format against
   * the same 2.7 server (which always offers epoch to those announcing it). */
  if (getenv("LVPN_TEST_NO_EPOCH") != NULL &&
      strcmp(getenv("LVPN_TEST_NO_EPOCH"), "1") == 0) {
    pi.proto = c->iv_proto = IV_PROTO_BITS & ~LVPN__IV_PROTO_DATA_EPOCH;
    LVPN__LOG(&c->log, LVPN_LOG_ERROR, "client",
              "test hook: epoch data keys not announced "
              "(LVPN_TEST_NO_EPOCH=1)");
  }
  pi.comp_stubs = 1; /* we implement every stub framing */
  pi.comp_real = lvpn__comp_advertise_real(cfg->comp, cfg->allow_compression,
                                           cfg->allow_compression_set);
  if ((px = malloc(sizeof(*px))) == NULL) /* 16 kB: not on the stack */
    return LVPN_ENOMEM;
  lvpn__client_peer_info_extra(c, &pi, px);
  rc = lvpn__peer_info_build(c->peer_info, sizeof(c->peer_info), &pi);
  free(px);
  if (rc != 0)
    return rc;
  memset(km2, 0, sizeof(*km2));
  rc = lvpn__km2_client_randomize(km2, mbedtls_ctr_drbg_random, &c->drbg);
  km2->options = c->km2_options;
  km2->peer_info = c->peer_info;
  if (rc == 0)
    rc = lvpn__client_auth_prepare(c, &km2->username, &km2->password);
  if (rc == 0 && cfg->auth_nocache && c->tok == NULL &&
      km2->password != NULL && km2->password == c->au_wire) {
    /* auth-nocache: keep only the copy that goes out, and forget it once
     * key-method 2 has carried it (a later attempt asks the host again) */
    lvpn__secret_free(&c->au_pass);
    lvpn__secret_free(&cfg->password);
    km2->forget_password = &c->au_wire;
  }
  return rc;
}

static void client_inside_write(void *ud, const uint8_t *pkt, size_t len) {
  lvpn_client_t *c = ud;
  c->inside_write(c, pkt, len);
}

/* The name to resolve: with remote-random-hostname, a random 12-hex-digit
 * label in front of a host name (not of an IP address), as OpenVPN's
 * hostname_randomize(), against DNS caching. */
static const char *client_host(lvpn_client_t *c, const char *host) {
  struct sockaddr_in6 a6;
  struct sockaddr_in a4;
  uint8_t rnd[6];

  if (!c->cfg->remote_random_hostname || uv_ip4_addr(host, 0, &a4) == 0 ||
      uv_ip6_addr(host, 0, &a6) == 0 || strlen(host) + 13 >= sizeof(c->host) ||
      mbedtls_ctr_drbg_random(&c->drbg, rnd, sizeof(rnd)) != 0)
    return host;
  snprintf(c->host, sizeof(c->host), "%02x%02x%02x%02x%02x%02x.%s", rnd[0],
           rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], host);
  return c->host;
}

/* remote-random: the list is shuffled once at start. */
static void client_shuffle_remotes(lvpn_client_t *c) {
  lvpn_config_t *cfg = c->cfg;
  uint32_t rnd[LVPN__CONFIG_MAX_REMOTES];

  if (cfg->remote_random &&
      mbedtls_ctr_drbg_random(&c->drbg, (unsigned char *)rnd,
                              sizeof(rnd[0]) * (size_t)cfg->n_remotes) == 0)
    lvpn__retry_shuffle(cfg->remotes, sizeof(cfg->remotes[0]),
                        cfg->n_remotes, rnd);
}

/* float: a packet from a new server address authenticated. */
static void client_floated(void *ud, uint8_t float_gen) {
  lvpn_client_t *c = ud;
  lvpn__networkio_float(&c->net, float_gen);
  if (!c->cfg->allow_recursive_routing) /* the check follows the server */
    lvpn__tun_layer_set_server(&c->tun, lvpn__networkio_remote(&c->net));
}

/* Builds the seven layers for one connection attempt to remote `c->remote`
 * and starts them. Called at start and again for every reconnection, once
 * the previous stack has fully closed. */
int lvpn__client_build(lvpn_client_t *c) {
  lvpn_config_t *cfg = c->cfg;
  lvpn__km2_client_t km2;
  lvpn__networkio_opts_t no;
  lvpn__tlssession_cbs_t cbs;
  lvpn__proto_t proto;
  char err[512] = "";
  int rc, i, r = c->remote;

  if ((rc = lvpn__client_tls_once(c)) != 0) {
    if (rc == 1) /* waiting for the host: lvpn__client_resume() rebuilds */
      c->state = LVPN__CLIENT_RESTARTING;
    return rc == 1 ? 0 : rc;
  }
  lvpn__config_use_remote(cfg, r); /* a <connection> block's settings */
  c->net.n_addrs = 0; /* what this attempt resolves, for on_down */
  lvpn__workers_init(&c->workers, c->loop, &c->log, lvpn__client_on_down);
  c->workers.data = c;
  /* A new session: new session id, fresh replay state for the wrapping. */
  lvpn__tlswrap_free(&c->session.wrap);
  lvpn__tlswrap_free(&c->session.dyn);
  memset(&c->session, 0, sizeof(c->session));
  if ((rc = client_session(c, err, sizeof(err))) != 0) {
    client_log(c, LVPN_LOG_FATAL, "%s", err[0] ? err : lvpn_strerror(rc));
    return rc;
  }
  rc = client_km2(c, &km2);
  if (rc == 1) {
    /* waiting for the host's credentials: lvpn__client_resume() rebuilds */
    lvpn__km2_client_wipe(&km2);
    c->state = LVPN__CLIENT_RESTARTING;
    return 0;
  }
  if (rc != 0) {
    lvpn__km2_client_wipe(&km2);
    c->err = rc;
    if (rc != LVPN_ECREDENTIALS)
      client_log(c, LVPN_LOG_FATAL, "key-method-2 set-up: %s",
                 lvpn_strerror(rc));
    return rc;
  }

  proto = lvpn__config_remote_proto(cfg, r);
  memset(&no, 0, sizeof(no));
  no.host = client_host(c, cfg->remotes[r].host);
  no.port = lvpn__config_remote_port(cfg, r);
  if (c->retry.n_addrs == 0 && c->persist != NULL && c->persist[r].n > 0) {
    memcpy(c->addrs, c->persist[r].a, sizeof(c->addrs)); /* not again */
    lvpn__retry_set_addrs(&c->retry, c->persist[r].n);
  }
  if (c->retry.n_addrs > 0)
    no.addr = &c->addrs[c->retry.addr];
  no.bind_local = lvpn__config_bind_local(cfg);
  no.local = cfg->local;
  no.lport = cfg->lport;
  no.floating = cfg->floating;
  no.proto = proto.tcp ? (proto.family == 4   ? LVPN__NET_TCP4
                          : proto.family == 6 ? LVPN__NET_TCP6
                                              : LVPN__NET_TCP)
                       : (proto.family == 4   ? LVPN__NET_UDP4
                          : proto.family == 6 ? LVPN__NET_UDP6
                                              : LVPN__NET_UDP);
  no.connect_timeout = lvpn__client_poll_timeout(c);
  no.proxy = lvpn__config_remote_proxy(cfg, r);
  no.passtos = cfg->passtos;
  no.mark = cfg->mark;
  no.bind_dev = cfg->bind_dev;
  no.mtu_disc_set = cfg->mtu_disc >= 0;
  no.mtu_disc = cfg->mtu_disc;
  no.gro_later = 1; /* from "Initialization Sequence Completed" on */
  no.no_udp_offload = cfg->disable_udp_offload;
  rc = lvpn__networkio_init(&c->net, c->loop, &no, c->pool, &c->log);
  if (rc != 0) {
    lvpn__km2_client_wipe(&km2);
    client_log(c, LVPN_LOG_FATAL, "remote: %s", lvpn_strerror(rc));
    return rc;
  }
  lvpn__packetmuxer_init(&c->mux, c->loop, &c->session, &c->log);
  lvpn__reltrans_init(&c->rel, c->loop, c->pool,
                      (uint32_t)cfg->tls_timeout * 1000, &c->log);
  lvpn__controlchannel_init(&c->cc, c->loop, &c->session, c->pool,
                            (size_t)cfg->tls_mtu, &c->log);
  memset(&cbs, 0, sizeof(cbs));
  cbs.on_push = lvpn__client_on_push;
  cbs.on_rekey = lvpn__client_on_rekey;
  cbs.on_token = lvpn__client_on_token;
  cbs.on_push_update = lvpn__client_on_push_update;
  cbs.on_info = lvpn__client_on_info;
  cbs.on_wait = lvpn__client_on_wait;
  cbs.ud = c;
  lvpn__tlssession_init(&c->tls, c->loop, &c->session, c->pool, c->tls_conf,
                        &km2, (unsigned)cfg->hand_window, &cbs, &c->log);
  lvpn__km2_client_wipe(&km2);
  /* UDP: a stalled first handshake starts over after 8 s without news
   * from the server, then 16 and 32 s; after three such restarts (they
   * are not counted by connect-retry-max) hand-window decides again, as
   * it does past hand-window and with tls-exit, which asks to end on a
   * failed negotiation. */
  c->tls.stall_ms = lvpn__retry_stall_ms(c->stall_restarts, proto.tcp,
                                         cfg->tls_exit, c->tls.hand_window_ms);
  /* AUTH_PENDING may extend the wait up to max(hand-window, reneg-sec/2) */
  c->tls.pending_max_ms = (uint64_t)(cfg->reneg_sec > 0 ? cfg->reneg_sec : 0) *
                          500;
  c->pending_timeout_s = 0;
  /* pull-filter: applied to every pushed option (push.c keeps them) */
  c->tls.push.filters = cfg->pull_filters;
  c->tls.push.n_filters = cfg->n_pull_filters;
  lvpn__tlssession_set_rng(&c->tls, mbedtls_ctr_drbg_random, &c->drbg);
  lvpn__datachannel_init(&c->dc, c->loop, c->pool, mbedtls_ctr_drbg_random,
                         &c->drbg,
                         cfg->ping_exit > 0      ? (unsigned)cfg->ping_exit
                         : cfg->ping_restart > 0 ? (unsigned)cfg->ping_restart
                                                 : LVPN__PRE_PULL_PING_RESTART,
                         &c->log);
  c->dc.on_wants_rekey = lvpn__client_dc_wants_rekey;
  if (cfg->ping_exit > 0) /* before PUSH_REPLY too, as OpenVPN */
    lvpn__datachannel_set_ping_exit(&c->dc, 1);
  if (cfg->inactive > 0)
    lvpn__datachannel_set_inactive(&c->dc, (unsigned)cfg->inactive,
                                   (uint64_t)cfg->inactive_bytes);
  c->dc.ud = c;
  c->dc.on_authentic = c->mux.on_authentic = client_floated;
  c->mux.auth_ud = c;
  lvpn__tun_layer_init(&c->tun, c->loop, c->pool, cfg->dev, &c->log);
  /* persist-tun, and after a privilege drop (/dev/net/tun is root's) */
  if (cfg->persist_tun || c->privileges_dropped)
    lvpn__tun_layer_set_keep(&c->tun, &c->tun_keep);
  if (c->inside_write != NULL)
    lvpn__tun_layer_set_host(&c->tun, client_inside_write, c);
  lvpn__tun_layer_set_hooks(&c->tun, &c->hooks);
  lvpn__tun_layer_set_offload(&c->tun, !cfg->disable_offload);
  lvpn__tun_layer_set_node(&c->tun, cfg->dev_node);
  lvpn__client_dns_stack(c);

  lvpn__workers_add(&c->workers, &c->net.base);
  lvpn__workers_add(&c->workers, &c->mux.base);
  lvpn__workers_add(&c->workers, &c->rel.base);
  lvpn__workers_add(&c->workers, &c->cc.base);
  lvpn__workers_add(&c->workers, &c->tls.base);
  lvpn__workers_add(&c->workers, &c->dc.base);
  lvpn__workers_add(&c->workers, &c->tun.base);
  /* control path */
  lvpn__layer_link(&c->net.base, &c->mux.base);
  lvpn__layer_link(&c->mux.base, &c->rel.base);
  lvpn__layer_link(&c->rel.base, &c->cc.base);
  lvpn__layer_link(&c->cc.base, &c->tls.base);
  /* data path: the muxer forks data packets to the datachannel */
  c->mux.data_up = &c->dc.base;
  c->dc.base.below = &c->mux.base;
  lvpn__layer_link(&c->dc.base, &c->tun.base);
  for (i = 0; i < c->workers.n; i++)
    c->workers.layers[i]->trace = &c->trace;

  c->state = LVPN__CLIENT_RUNNING;
  c->connected = 0;
  c->start_ms = uv_now(c->loop);
  c->attempts++;
  c->trace.txid = (int64_t)c->attempts;
  LVPN__TRACE(&c->trace, "client", "attempt",
              "attempt=%llu remote=%s port=%u proto=%s",
              (unsigned long long)c->attempts, no.host, (unsigned)no.port,
              lvpn__net_proto_name(no.proto));
  LVPN__TRACE_STATE(&c->trace, "client", LVPN__STAGE_INITIAL);
  rc = lvpn__workers_start(&c->workers);
  if (rc == 0 && lvpn__client_names_start(c) != 0) /* route host names */
    client_log(c, LVPN_LOG_ERROR, "%s",
               "route host names: out of memory: those not asked for are "
               "left out");
  if (rc != 0)
    client_log(c, LVPN_LOG_FATAL, "start failed: %s", lvpn_strerror(rc));
  else
    lvpn__client_arm_poll(c);
  return rc;
}

/* Options the loader stores that the client does not act on yet: said
 * once at start, never silently dropped. */
static void client_warn_unapplied(lvpn_client_t *c) {
  const lvpn_config_t *cfg = c->cfg;
  const struct {
    int set;
    const char *what;
  } w[] = {
      {cfg->tls_ciphersuites != NULL,
       "'tls-ciphersuites' (TLS 1.3): this client speaks TLS 1.2 (mbedTLS "
       "2.28)"},
  };
  size_t i;
  for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
    if (w[i].set)
      client_log(c, LVPN_LOG_ERROR, "WARNING: %s (not applied yet)",
                 w[i].what);
}

int lvpn__client_offload_unused(lvpn_config_t *cfg, bool tun_device,
                                char *msg, size_t len) {
  const bool tun = cfg->disable_offload, udp = cfg->disable_udp_offload;
  const char *no_tun = "the host brings its own inside I/O (no TUN device)";
  const char *no_udp =
      cfg->passtos ? "passtos already sends one datagram per call"
                   : "no remote is reached over direct UDP (TCP or a proxy)";
  int i;
  if ((!tun && !udp) || (tun && tun_device))
    return 0; /* nothing asked, or the TUN part acts */
  for (i = 0; udp && i < cfg->n_remotes; i++)
    if (lvpn__udpbatch_possible(
            lvpn__config_remote_proto(cfg, i).tcp,
            lvpn__config_remote_proxy(cfg, i)->kind != LVPN__PROXY_NONE,
            cfg->passtos))
      return 0; /* the UDP part acts */
  snprintf(msg, len, "'disable-offload%s' has nothing to turn off here: %s%s%s",
           tun && udp ? "" : tun ? " tun" : " udp", tun ? no_tun : no_udp,
           tun && udp ? "; " : "", tun && udp ? no_udp : "");
  return 1;
}

int lvpn_client_start(lvpn_client_t *c) {
  lvpn_config_t *cfg = c->cfg;
  char err[512] = "", warn[256];
  int rc, i;

  if (c->state != LVPN__CLIENT_NEW)
    return LVPN_ESTATE;
  rc = lvpn__config_validate(cfg, err, sizeof(err));
  i = cfg->n_remotes;
  if (rc == 0)
    rc = lvpn__config_proto_force(cfg, err, sizeof(err));
  if (rc != 0) {
    client_log(c, LVPN_LOG_FATAL, "config: %s", err);
    return rc;
  }
  if (cfg->n_remotes != i)
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "proto-force %s: %d of %d remotes left out",
              cfg->proto_force ? "tcp" : "udp", i - cfg->n_remotes, i);
  if ((rc = lvpn__client_privileges_check(c, err, sizeof(err))) != 0) {
    client_log(c, LVPN_LOG_FATAL, "%s", err);
    return rc;
  }
  for (i = 0; i < cfg->n_warnings; i++)
    client_log(c, LVPN_LOG_ERROR, "WARNING: %s", cfg->warnings[i]);
  client_warn_unapplied(c);
  if (lvpn__client_offload_unused(cfg, c->inside_write == NULL, warn,
                                  sizeof(warn)))
    client_log(c, LVPN_LOG_ERROR, "WARNING: %s", warn);
  /* Once per client: RNG (certificates and keys: client_tls_once()). */
  if ((rc = client_rng(c)) != 0) {
    client_log(c, LVPN_LOG_FATAL, "%s", err[0] ? err : lvpn_strerror(rc));
    return rc;
  }
  client_shuffle_remotes(c);
  if (cfg->persist_remote_ip &&
      (c->persist = calloc((size_t)cfg->n_remotes, sizeof(*c->persist))) ==
          NULL) {
    client_log(c, LVPN_LOG_FATAL, "%s", lvpn_strerror(LVPN_ENOMEM));
    return LVPN_ENOMEM;
  }
  lvpn__client_first_attempt(c);
  lvpn__trace_restart_clock(&c->trace);
  return lvpn__client_build(c);
}

/* ---- PUSH_REPLY: data keys and the inside ---- */
