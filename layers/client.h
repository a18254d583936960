/* The client object behind lvpn_client_t: owns the configuration copy, the
 * packet pool, the RNG, the control session and the seven layers, wires
 * them, and reacts to their events (PUSH_REPLY -> data keys + tun). */
#ifndef LVPN_LAYERS_CLIENT_H
#define LVPN_LAYERS_CLIENT_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "lib/config.h"
#include "layers/client_retry.h"
#include "layers/controlchannel/controlchannel.h"
#include "layers/datachannel/datachannel.h"
#include "layers/layer.h"
#include "layers/networkio/networkio.h"
#include "layers/packetmuxer/packetmuxer.h"
#include "layers/reliabletransport/reliabletransport.h"
#include "layers/tlssession/tlssession.h"
#include "layers/tun/tun.h"
#include "layers/tun/dns_host.h"
#include "hooks/chain.h"

enum {
  LVPN__CLIENT_NEW = 0,
  LVPN__CLIENT_RUNNING,
  LVPN__CLIENT_EXITING, /* explicit-exit-notify sent, waiting */
  LVPN__CLIENT_RESTARTING, /* between two connections (connect-retry) */
  LVPN__CLIENT_STOPPING,
  LVPN__CLIENT_DOWN,
  LVPN__CLIENT_CLOSING
};

struct lvpn_client_s {
  uv_loop_t *loop;
  lvpn_config_t *cfg;
  void *data;
  int state;
  int connected;
  int err; /* why it stopped */
  lvpn__logger_t log;
  lvpn__mute_t mute;
  lvpn__tracer_t trace;
  lvpn_event_cb event_cb;
  lvpn_inside_write_cb inside_write;
  lvpn_close_cb close_cb;
  int timer_closed;
  int timers_open;

  lvpn__pbuf_pool_t *pool; /* shared by the clients of the loop */
  mbedtls_ctr_drbg_context drbg;
  int rng_ready;
  lvpn__session_t session;
  /* parsed certificates, key and mbedTLS config (client_stack.c), shared
   * with the clients made from the same config on the same loop; NULL
   * until the first attempt parses them */
  lvpn__tls_conf_t *tls_conf;
  lvpn__config_attach_t *tls_ref; /* the reference held on it */
  char km2_options[512];
  char peer_info[1536]; /* OpenVPN's bound (512 * 3) */
  unsigned iv_proto;
  int cc_exit;        /* negotiated: EXIT as a control message */
  int exit_notify;    /* seconds (config or pushed) */

  lvpn__workers_t workers;
  lvpn__networkio_t net;
  lvpn__packetmuxer_t mux;
  lvpn__reltrans_t rel;
  lvpn__controlchannel_t cc;
  lvpn__tlssession_t tls;
  lvpn__datachannel_t dc;
  lvpn__tun_layer_t tun;
  lvpn__tun_keep_t tun_keep; /* persist-tun: the device between stacks */
  uv_timer_t timer; /* exit-notify wait; also defers the close callback */
  uv_timer_t reneg_timer; /* reneg-sec */
  uv_timer_t poll_timer;  /* server-poll-timeout / connect-timeout */
  /* management-hold (mgmt/mgmt.c): asked before each restart pause; 1 holds
   * the restart (no pause) until lvpn__client_resume(), 0 pauses as usual */
  int (*restart_hold)(void *ud, unsigned pause_s);
  void *restart_hold_ud;
  int ekm;          /* data keys come from TLS-EKM (else the PRF) */
  /* the config routes' host names, resolved per attempt (client_names.c) */
  struct lvpn__client_names_s *names;
  int names_waiting; /* the PUSH_REPLY's set-up waits for them */
  int remote;       /* index of the remote in use */
  /* the remote's resolved addresses (c->retry says which is in use) */
  struct sockaddr_storage addrs[LVPN__NETWORKIO_MAX_ADDRS];
  char host[LVPN__NETWORKIO_HOST_MAX + 1]; /* remote-random-hostname */
  /* persist-remote-ip: each remote's addresses once resolved (n_remotes
   * entries, allocated at start; NULL without the option) */
  struct lvpn__client_addrs_s {
    int n;
    struct sockaddr_storage a[LVPN__NETWORKIO_MAX_ADDRS];
  } *persist;
  lvpn__retry_t retry; /* connect-retry policy state */
  uint64_t attempts, restarts;
  unsigned stall_restarts; /* stalled handshakes since the last connection */
  uint64_t start_ms, exit_deadline_ms;
  int drop_privileges;    /* the host opted in (client_priv.c) */
  int privileges_dropped; /* done once, after the first PUSH_REPLY */

  /* credentials (client_auth.c); heap strings, zeroed on free */
  lvpn_credentials_cb cred_cb;
  void *cred_ud;
  int cred_wait;      /* a request is pending: lvpn__CRED_* kind, 0: none */
  int cred_refused;   /* the host answered with nothing */
  int cred_in_cb;     /* inside the callback: the answer needs no timer */
  char *au_user, *au_pass, *au_resp; /* the host's answers */
  char *key_pass; /* private key passphrase from the host, until used */
  char *au_wire;      /* the password field as sent (SCRV1/CRV1 packed) */
  char *tok, *tok_user; /* pushed auth-token, auth-token-user (decoded) */
  char *crv1;         /* dynamic challenge from AUTH_FAILED, to answer */
  int cred_packed;    /* au_wire came packed by the host (management) */

  /* the server's chain kept between starts (client_chain.c) */
  char *cache_dir;        /* lvpn_client_set_cache_dir; NULL: none */
  int chain_keep_failed;  /* said once that the chain cannot be kept */

  /* DNS (client_dns.c) */
  int apply_dns;        /* the host opted in (lvpn_client_set_apply_dns) */
  int has_dns;          /* `dns` holds a PUSH_REPLY's result */
  /* the PUSH_REPLY's DNS options, copied: the connection's DNS (config +
   * pushed) is built from them when needed, as a built lvpn_dns_t is
   * 40 KiB that most sessions never read */
  lvpn_dns_t *push_dns;        /* heap; NULL: no `dns` option pushed */
  lvpn__dhcp_opt_t *push_dhcp; /* heap; push_n_dhcp of them */
  int push_n_dhcp;
  /* zeroed in the push's wait (lvpn__client_dns_prepare), its pages
   * touched: the next build goes there instead of fresh heap pages */
  lvpn_dns_t *dns_scratch;
  lvpn__dns_host_t dns_host; /* what is applied to the host's resolver */
  /* AUTH_PENDING / INFO / INFO_PRE from the server (client_auth.c) */
  char info[512];        /* the last INFO or INFO_PRE text */
  char pending_kw[256];  /* the last AUTH_PENDING's keywords */
  unsigned pending_timeout_s; /* its wait, 0: none pending */
  lvpn__hooks_t hooks; /* inside-packet hooks (hooks/chain.c) */
};

/* Shared by client.c, client_stack.c and client_push.c. */
void lvpn__client_event(lvpn_client_t *c, lvpn_event_t ev, int err);
/* Builds the seven layers for one connection attempt and starts them. */
int lvpn__client_build(lvpn_client_t *c);
/* The client's TLS credentials and config (c->tls_conf), parsed at its first
 * attempt, or taken from the clients made from the same config on the same
 * loop. Returns 0, 1 while waiting for the host's key passphrase, or an
 * error (logged; also in c->err). */
int lvpn__client_tls_once(lvpn_client_t *c);
/* Seconds without any packet from the server after which an attempt is
 * abandoned (server-poll-timeout, alias connect-timeout); 0: never. */
unsigned lvpn__client_poll_timeout(const lvpn_client_t *c);
/* Picks the first remote (connect-retry state reset). */
void lvpn__client_first_attempt(lvpn_client_t *c);
/* Starts the server-poll-timeout timer for the attempt just started. */
void lvpn__client_arm_poll(lvpn_client_t *c);
/* The workers manager's shutdown callback: restart or report STOPPED. */
void lvpn__client_on_down(lvpn__workers_t *w, int err);
/* user/group/chroot (client_priv.c): at start, LVPN_EPRIVILEGES when the
 * config asks for a drop the host did not opt into; once connected, the
 * drop itself (0 when nothing to do or already done). */
int lvpn__client_privileges_check(lvpn_client_t *c, char *err, size_t errlen);
int lvpn__client_privileges_drop(lvpn_client_t *c, char *err, size_t errlen);
/* disable-offload [tun|udp] where no part of what it asks has anything to
 * turn off: the UDP batching runs only where lvpn__udpbatch_possible()
 * says so, the TUN offloads only on a TUN device (`tun_device`). Returns 1
 * with the warning's text in `msg`, else 0. */
int lvpn__client_offload_unused(lvpn_config_t *cfg, bool tun_device,
                                char *msg, size_t len);
/* client_dns.c. Points the new stack's tun layer at the DNS state (its
 * close undoes it) and restores what a crashed run left. */
void lvpn__client_dns_stack(lvpn_client_t *c);
/* A PUSH_REPLY's (or PUSH_UPDATE's) DNS with the config's: kept for
 * lvpn_client_dns() and applied when the host asked. Never fails the
 * connection: a resolver that cannot be changed is warned about, as OpenVPN
 * does for its dns-updown script. */
void lvpn__client_dns_on_push(lvpn_client_t *c, const lvpn__push_t *push);
/* In the wait for the PUSH_REPLY: the resolver's way
 * (lvpn__dns_host_prepare) found ahead when the pushed DNS is to be
 * applied, and the memory its build takes made ready (dns_scratch). */
void lvpn__client_dns_prepare(lvpn_client_t *c);
/* Frees the copied DNS options and the scratch (lvpn_client_new's undo). */
void lvpn__client_dns_free(lvpn_client_t *c);
/* tlssession callbacks. */
void lvpn__client_on_push(lvpn__tlssession_t *t, const lvpn__push_t *push);
/* The PUSH_REPLY's second half: tun, routes, DNS, privileges, "connected"
 * (from on_push, or once the route host names it waited for resolved). */
void lvpn__client_inside_up(lvpn_client_t *c);

/* ---- route host names (client_names.c) ---- */
#define LVPN__ROUTE_NAME_MAX_ADDRS 16 /* routes one network name gives */
/* Asks for every config route name (each attempt); LVPN_ENOMEM. */
int lvpn__client_names_start(lvpn_client_t *c);
/* Detaches the requests still out (the stack stops). */
void lvpn__client_names_stop(lvpn_client_t *c);
void lvpn__client_names_free(lvpn_client_t *c);
/* 1 when answers are still out: lvpn__client_inside_up() follows them. */
int lvpn__client_names_waiting(lvpn_client_t *c);
/* The IPv4 addresses (host order) name `name` (1-based) resolved to; 0
 * when it did not (or not yet). */
int lvpn__client_names_addrs(const lvpn_client_t *c, uint16_t name,
                             const uint32_t **addrs);
/* The tun MTU the config asks for: tun-mtu, or derived from link-mtu. */
int lvpn__client_config_tun_mtu(const lvpn_config_t *cfg);
void lvpn__client_on_rekey(lvpn__tlssession_t *t, uint8_t key_id);
void lvpn__client_on_push_update(lvpn__tlssession_t *t,
                                 const lvpn__push_t *push, unsigned changed);
/* datachannel callback: the sending key is nearly spent. */
void lvpn__client_dc_wants_rekey(lvpn__datachannel_t *d);

/* Credentials for auth-user-pass without a file, given before start by
 * the management interface (mgmt/mgmt.c) until the public credentials
 * callback lands. Copied; 0 or LVPN_ENOMEM. */
int lvpn__client_set_credentials(lvpn_client_t *c, const char *user,
                                 const char *pass);
/* Answers the pending credentials request with the password field as sent
 * (client_auth.c): a management client packs challenge responses itself
 * (SCRV1:..., CRV1::...), as OpenVPN's management-notes.txt says. Copied;
 * LVPN_ESTATE when nothing is pending. */
int lvpn__client_answer_packed(lvpn_client_t *c, const char *user,
                               const char *wire);

/* The largest tun MTU the client takes from the server (IV_MTU): 1600,
 * or more with tun-mtu / tun-mtu-max, as OpenVPN 2.6's tun_max_mtu. */
int lvpn__client_tun_mtu_max(const lvpn_config_t *cfg);

/* A CR_TEXT challenge's answer, already base64 (the management interface's
 * cr-response): sent as CR_RESPONSE,<b64> on the control channel. 0,
 * LVPN_EINVAL (empty, too long, not base64) or LVPN_ESTATE (no TLS session
 * to carry it). */
int lvpn__client_cr_response_b64(lvpn_client_t *c, const char *b64);

/* client_auth.c. The username and password field for the next key-method-2:
 * 0 with user and pass set (both NULL without auth-user-pass; they stay valid
 * until the next lvpn__client_auth_ call), 1 when the host was asked and the
 * attempt must wait, or LVPN_ECREDENTIALS. */
int lvpn__client_auth_prepare(lvpn_client_t *c, const char **user,
                              const char **pass);
/* A PUSH_REPLY's auth-token / auth-token-user: kept, and used by the
 * running session's renegotiations. */
void lvpn__client_auth_on_push(lvpn_client_t *c, const lvpn__push_t *push);
/* tlssession callback: the token renewed by a later PUSH_REPLY. */
void lvpn__client_on_token(lvpn__tlssession_t *t, const lvpn__push_t *push);
/* AUTH_FAILED ended the connection (`reason`: text after "AUTH_FAILED,",
 * may be empty). Returns 1 when the client reconnects (token dropped,
 * auth-retry nointeract/interact), 0 when it stops. */
int lvpn__client_auth_failed(lvpn_client_t *c, const char *reason);
/* Continues a connection attempt that waited for credentials (client.c). */
/* An encrypted 'key', or a pkcs12 bundle that needs a password, without
 * 'askpass FILE': asks the host for its passphrase (c->key_pass). Returns 0 when there is one (or none is
 * needed), 1 when the answer will come later, or LVPN_ECREDENTIALS. */
int lvpn__client_key_pass(lvpn_client_t *c);
void lvpn__client_resume(lvpn_client_t *c);
/* tlssession callback: the first handshake waits for the server (stage 1
 * after the ClientHello, 2 after our Finished): the tunnel's start-up work
 * that needs no answer is done there (client_push.c). */
void lvpn__client_on_wait(lvpn__tlssession_t *t, int stage);
/* The server's certificate chain of an earlier start, from the host's
 * cache directory, checked ahead in the first wait (stage 1), and the
 * chain that passed this handshake's check kept there (stage 2) when it
 * changed (client_chain.c). */
void lvpn__client_chain_ahead(lvpn_client_t *c, lvpn__tlssession_t *t);
void lvpn__client_chain_keep(lvpn_client_t *c, lvpn__tlssession_t *t);
/* tlssession callback: AUTH_PENDING, INFO, INFO_PRE for the host. */
void lvpn__client_on_info(lvpn__tlssession_t *t, lvpn__ctlmsg_t kind,
                          const char *text, unsigned timeout_s);
/* Frees every credential held. */
void lvpn__client_auth_free(lvpn_client_t *c);

/* push-peer-info and the setenv IV_GUI_VER / IV_SSO / UV_* lines
 * (client_peerinfo.c): fills `pi`'s extra fields, pointing into `x`. */
typedef struct {
  char hwaddr[24], ssl[32], plat[72];
  char store[LVPN__CONFIG_MAX_LIST][256];
  const char *env[LVPN__CONFIG_MAX_LIST];
  size_t n_env;
} lvpn__client_peer_extra_t;
void lvpn__client_peer_info_extra(lvpn_client_t *c, lvpn__peer_info_opts_t *pi,
                                  lvpn__client_peer_extra_t *x);

#endif
