/* Writes the seed corpora of tests/fuzz/corpus/<target>/ from real packet
 * formats: control packets as the 2.6 server sends them (encoded by
 * wire.c), wrapped by the library's own tls-auth/tls-crypt/tls-crypt-v2
 * code with the fixed test keys, data packets of every cipher family, the
 * key-method-2 message, PUSH_REPLY and the client config seen from
 * Debian's OpenVPN 2.6.14 server in tests/integration (with inline blocks
 * holding the test PKI).
 *
 * Usage: gen_corpus CORPUS_DIR PKI_DIR   (tools/fuzz.sh --seeds) */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include <mbedtls/x509_crt.h>

#include "layers/datachannel/compress.h"
#include "layers/datachannel/crypto.h"
#include "layers/datachannel/epoch.h"
#include "layers/datachannel/fragment.h"
#include "layers/datachannel/kdf.h"
#include "layers/packetmuxer/tlswrap.h"
#include "layers/tun/offload.h"
#include "layers/packetmuxer/wire.h"
#include "lib/bytes.h"
#include "lib/comp.h"
#include "tests/fuzz/fuzz.h"

static const char *root;

static void put(const char *target, const char *name, const void *b, size_t n) {
  char path[512];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", root, target);
  if (mkdir(path, 0755) != 0 && errno != EEXIST)
    abort();
  snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
  f = fopen(path, "wb");
  if (f == NULL || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

/* ---- control packets ---- */

typedef struct {
  const char *name;
  uint8_t b[300];
  size_t n;
} pkt_t;

static pkt_t ctl[8];
static int n_ctl;

static const uint8_t server_sid[8] = {0x5a, 0x11, 0x22, 0x33,
                                      0x44, 0x55, 0x66, 0x77};
static const uint8_t client_sid[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static void add_ctl(const char *name, uint8_t op, uint8_t key_id, int n_acks,
                    uint32_t first_ack, uint32_t msg_id, const uint8_t *pl,
                    size_t pl_len) {
  lvpn__ctl_pkt_t h = {0};
  lvpn__pbuf_t *p = fuzz_pbuf(pl, pl_len);
  int i;

  h.opcode = op;
  h.key_id = key_id;
  memcpy(h.own_sid, server_sid, 8);
  h.n_acks = (uint8_t)n_acks;
  for (i = 0; i < n_acks; i++)
    h.acks[i] = first_ack + (uint32_t)i;
  memcpy(h.remote_sid, client_sid, 8);
  h.msg_id = msg_id;
  if (lvpn__ctl_encode(p, &h) != 0 || p->len > sizeof(ctl[0].b))
    abort();
  ctl[n_ctl].name = name;
  memcpy(ctl[n_ctl].b, p->data, p->len);
  ctl[n_ctl].n = p->len;
  n_ctl++;
  lvpn__pbuf_free(p);
}

static void gen_ctl(void) {
  /* A TLS 1.3 ServerHello record's start, as P_CONTROL_V1 carries it. */
  static const uint8_t tls[] = {0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00,
                                0x00, 0x76, 0x03, 0x03, 0xde, 0xad, 0xbe,
                                0xef, 0x00, 0x01, 0x02, 0x03, 0x04};
  /* Early negotiation: EARLY_NEG_FLAGS = RESEND_WKC. */
  static const uint8_t tlv[] = {0x00, 0x01, 0x00, 0x02, 0x00, 0x01};
  static const uint8_t wkc_tail[] = {0xaa, 0xbb, 0xcc, 0x00, 0x05};
  int i;

  add_ctl("hard_reset_server_v2", LVPN__P_CONTROL_HARD_RESET_SERVER_V2, 0, 1, 0,
          0, NULL, 0);
  add_ctl("hard_reset_server_early_neg", LVPN__P_CONTROL_HARD_RESET_SERVER_V2,
          0, 1, 0, 0, tlv, sizeof(tlv));
  add_ctl("control_v1_tls", LVPN__P_CONTROL_V1, 0, 2, 1, 1, tls, sizeof(tls));
  add_ctl("ack_v1_one", LVPN__P_ACK_V1, 0, 1, 3, 0, NULL, 0);
  add_ctl("ack_v1_eight", LVPN__P_ACK_V1, 0, 8, 0, 0, NULL, 0);
  add_ctl("soft_reset_key1", LVPN__P_CONTROL_SOFT_RESET_V1, 1, 0, 0, 0, NULL,
          0);
  add_ctl("control_wkc_v1", LVPN__P_CONTROL_WKC_V1, 0, 1, 0, 1, wkc_tail,
          sizeof(wkc_tail));
  add_ctl("control_v1_noack", LVPN__P_CONTROL_V1, 2, 0, 0, 7, tls, 5);
  for (i = 0; i < n_ctl; i++)
    put("fuzz_wire", ctl[i].name, ctl[i].b, ctl[i].n);
}

/* ---- tls-auth / tls-crypt / tls-crypt-v2 (format: fuzz_tlswrap.h) ---- */

static size_t rec(uint8_t *out, uint8_t c, const uint8_t *b, size_t n) {
  out[0] = c;
  lvpn__put_u16(out + 1, (uint16_t)n);
  if (n > 0)
    memcpy(out + 3, b, n);
  return 3 + n;
}

static void gen_tlswrap(const char *target, int mode, const char *digest,
                        int kd) {
  const char *pem =
      mode == LVPN__TLSWRAP_CRYPT_V2 ? test_v2_pem : test_static_pem;
  lvpn__tlswrap_t server;
  uint8_t out[2048];
  char err[256], name[96];
  size_t n;
  int i;

  if (lvpn__tlswrap_init_server(&server, mode, pem, strlen(pem),
                                kd < 0 ? -1 : 1 - kd, digest, err,
                                sizeof(err)) != 0)
    abort();
  for (i = 0; i < n_ctl; i++) {
    /* the server wraps it inside the target */
    n = rec(out, 1 | 1 << 2, ctl[i].b, ctl[i].n);
    snprintf(name, sizeof(name), "wrap_%s", ctl[i].name);
    put(target, name, out, n);
  }
  /* a session: reset, then TLS, then an ACK, then a replay and a forgery */
  {
    lvpn__pbuf_t *p = fuzz_pbuf(ctl[0].b, ctl[0].n);
    size_t m = 0;
    /* the same wire bytes, as an attacker would resend them raw */
    if (lvpn__tlswrap_wrap(&server, p, 0x65000000u) != 0)
      abort();
    m += rec(out + m, 0, p->data, p->len);
    lvpn__pbuf_free(p);
    m += rec(out + m, 1 | 2 << 2, ctl[2].b, ctl[2].n);
    m += rec(out + m, 1, ctl[3].b, ctl[3].n);
    m += rec(out + m, 2, NULL, 0);
    m += rec(out + m, 3, ctl[2].b, ctl[2].n);
    put(target, "session", out, m);
  }
  lvpn__tlswrap_free(&server);
}

/* ---- reliable (format: fuzz_reliable.c) ---- */

static void gen_reliable(void) {
  uint8_t out[1024];
  size_t m = 0;
  int i;

  /* our reset and two messages go out, the server's reset acks msg 0 */
  for (i = 0; i < 3; i++) {
    out[m++] = 1;
    out[m++] = 4;
    memcpy(out + m, "\x16\x03\x01\x00", 4);
    m += 4;
  }
  out[m++] = 2;
  out[m++] = 0;
  out[m++] = (uint8_t)ctl[0].n;
  memcpy(out + m, ctl[0].b, ctl[0].n);
  m += ctl[0].n;
  out[m++] = 2;
  /* TLS from the server, acking 1 and 2 */
  out[m++] = 0;
  out[m++] = (uint8_t)ctl[2].n;
  memcpy(out + m, ctl[2].b, ctl[2].n);
  m += ctl[2].n;
  out[m++] = 2;
  put("fuzz_reliable", "handshake", out, m);

  /* out of order arrivals, a gap, a duplicate, timeouts and a bare ACK */
  m = 0;
  for (i = 0; i < 2; i++) {
    out[m++] = 1;
    out[m++] = 2;
    out[m++] = 0x16;
    out[m++] = (uint8_t)i;
  }
  out[m++] = 2;
  out[m++] = 5, out[m++] = 6, out[m++] = 1, out[m++] = 'b';
  out[m++] = 5, out[m++] = 4, out[m++] = 1, out[m++] = 'a';
  out[m++] = 5, out[m++] = 6, out[m++] = 1, out[m++] = 'b';
  out[m++] = 2;
  out[m++] = 3, out[m++] = 0x01, out[m++] = 0x00;
  out[m++] = 2;
  out[m++] = 4, out[m++] = 2, out[m++] = 6, out[m++] = 7;
  out[m++] = 0;
  out[m++] = (uint8_t)ctl[3].n;
  memcpy(out + m, ctl[3].b, ctl[3].n);
  m += ctl[3].n;
  out[m++] = 2;
  put("fuzz_reliable", "reorder", out, m);
}

/* ---- key-method 2 (as Debian's 2.6.14 server sends it) ---- */

static void gen_keymethod(void) {
  static const char *opts[] = {
      "V4,dev-type tun,link-mtu 1559,tun-mtu 1500,proto UDPv4,cipher "
      "AES-256-CBC,auth SHA1,keysize 256,key-method 2,tls-server",
      "V4,dev-type tun,link-mtu 1541,tun-mtu 1500,proto UDPv4,auth SHA1,"
      "keysize 128,key-method 2,tls-server",
      "V4,dev-type tun,link-mtu 1543,tun-mtu 1500,proto TCPv4_SERVER,"
      "keydir 0,auth SHA256,keysize 128,tls-auth,key-method 2,tls-server"};
  uint8_t out[600];
  char name[32];
  size_t n, ol;
  int i, k;

  for (k = 0; k < 3; k++) {
    memset(out, 0, 5);
    out[4] = 2;
    n = 5;
    for (i = 0; i < 64; i++)
      out[n++] = (uint8_t)(0x10 + i * 7);
    ol = strlen(opts[k]) + 1;
    lvpn__put_u16(out + n, (uint16_t)ol);
    memcpy(out + n + 2, opts[k], ol);
    n += 2 + ol;
    if (k != 1) { /* username, password and peer-info, all empty */
      memset(out + n, 0, 6);
      n += 6;
    }
    snprintf(name, sizeof(name), "server_km2_%d", k);
    put("fuzz_keymethod", name, out, n);
  }
}

/* ---- control messages and PUSH_REPLY (NUL-separated, one record) ---- */

#define MSG(s)                                                                 \
  { s, sizeof(s) }
static void gen_push(void) {
  static const struct {
    const char *b;
    size_t n;
  } recs[] = {
      /* Debian's OpenVPN 2.6.14 server (tests/integration) */
      MSG("PUSH_REPLY,dhcp-option DNS 198.19.0.1,route 198.19.100.0 "
          "255.255.255.0,tun-ipv6,route-gateway 198.19.0.1,topology subnet,"
          "ping 10,ping-restart 60,ifconfig-ipv6 2001:2:0:8::1000/64 "
          "2001:2:0:8::1,ifconfig 198.19.0.2 255.255.255.0,peer-id 0,cipher "
          "AES-256-GCM,protocol-flags cc-exit tls-ekm dyn-tls-crypt,tun-mtu "
          "1500"),
      MSG("PUSH_REPLY,route 10.0.0.0 255.0.0.0,push-continuation 2\0"
          "PUSH_REPLY,route-ipv6 2001:2:0:100::/64,redirect-gateway def1 "
          "bypass-dhcp,dhcp-option DOMAIN-SEARCH example.org,dns server 1 "
          "address 198.19.0.1 [2001:2::53]:5353,dns search-domains a.example "
          "b.example,block-ipv6,auth-token SESS_ID_AT_abc,auth-token-user "
          "dXNlcg==,compress stub-v2,push-continuation 1"),
      MSG("AUTH_PENDING,timeout 300\0INFO_PRE,WEB_AUTH::https://198.19.0.1/"
          "\0PUSH_REPLY,ifconfig 198.19.0.6 198.19.0.5,topology net30,route "
          "198.19.1.0 255.255.255.0 198.19.0.5 10,route-metric 5,inactive "
          "600,explicit-exit-notify 2,peer-id 16777215,key-derivation "
          "tls-ekm\r\n"),
      MSG("AUTH_FAILED,SESSION: token expired\0RESTART,server restart\0HALT"
          "\0EXIT\0INFO,hello\0CR_RESPONSE,abc"),
      /* OpenVPN 2.7.8 with pushed dns options (t_27_dns.sh), every form */
      MSG("PUSH_REPLY,route 198.19.100.0 255.255.255.0,dhcp-option DNS "
          "198.19.0.1,dns server 0 address 198.18.53.54,dns search-domains "
          "example.test,dns server 1 address 198.18.0.1:5353 "
          "[2001:2::53]:853 2001:2::54,dns server 1 resolve-domains a.test "
          "b.test,dns server 1 dnssec optional,dns server 1 transport DoT,"
          "dns server 1 sni dns.a.test,route-gateway 198.19.0.1,topology "
          "subnet,ping 10,ping-restart 60,ifconfig 198.19.0.2 255.255.255.0,"
          "peer-id 0,cipher AES-256-GCM,protocol-flags cc-exit tls-ekm "
          "dyn-tls-crypt aead-epoch,tun-mtu 1500"),
      /* OpenVPN 2.7.8's push-update-broad / -cid (t_27_push_update.sh) */
      MSG("PUSH_REPLY,route 198.19.101.0 255.255.255.0,ifconfig 198.19.0.2 "
          "255.255.255.0,topology subnet,peer-id 0,cipher AES-256-GCM\0"
          "PUSH_UPDATE,route 198.19.100.0 255.255.255.0, route 198.19.102.0 "
          "255.255.255.0, route-ipv6 2001:2:0:99::/64,push-continuation 2\0"
          "PUSH_UPDATE,-route-ipv6, ?cipher AES-128-GCM, -?block-ipv6, "
          "keepalive 5 25, dns server 0 address 198.19.7.9, -redirect-gateway"
          ",push-continuation 1\0PUSH_UPDATE\0PUSH_UPDATE,cipher x"),
  };
  char name[32];
  size_t i;

  for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
    snprintf(name, sizeof(name), "record_%zu", i);
    put("fuzz_push", name, recs[i].b, recs[i].n);
  }
}

/* ---- config (the integration client config, with inline blocks) ---- */

static char *slurp(const char *dir, const char *file) {
  char path[512];
  static char buf[4][4096];
  static int k;
  FILE *f;
  size_t n;
  char *b = buf[k++ % 4];

  snprintf(path, sizeof(path), "%s/%s", dir, file);
  f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    exit(1);
  }
  n = fread(b, 1, sizeof(buf[0]) - 1, f);
  fclose(f);
  b[n] = '\0';
  return b;
}

static void gen_config(const char *pki) {
  char out[8192];
  int n;

  n = snprintf(out, sizeof(out),
               "# as tests/integration/lib.sh it_client_conf writes it\n"
               "client\ndev tun\nproto udp\nremote 198.18.0.1 1194\nnobind\n"
               "remote-cert-tls server\nverify-x509-name vpn-server name\n"
               "data-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305\n"
               "verb 3\n<ca>\n%s</ca>\n<cert>\n%s</cert>\n<key>\n%s</key>\n"
               "<tls-crypt>\n%s</tls-crypt>\n",
               slurp(pki, "ca.crt"), slurp(pki, "client.crt"),
               slurp(pki, "client.key"), test_static_pem);
  put("fuzz_config", "inline_tls_crypt", out, (size_t)n);
  n = snprintf(out, sizeof(out),
               "client\ndev tun\nproto tcp-client\nremote 198.18.0.1 443\n"
               "remote 2001:2::1 1194 udp6\nremote-random\nresolv-retry "
               "infinite\nnobind\npersist-key\npersist-tun\n"
               "auth-user-pass\ncipher AES-256-CBC\nauth SHA256\n"
               "key-direction 1\ntls-version-min 1.2\ncomp-lzo no\n"
               "keepalive 10 60\nexplicit-exit-notify 2\n"
               "route 198.19.50.0 255.255.255.0 net_gateway\n"
               "redirect-gateway def1 bypass-dhcp\n"
               "dhcp-option DNS 198.19.0.1\npull-filter ignore \"route\"\n"
               "setenv opt block-outside-dns\nignore-unknown-option foo\n"
               "replay-window 128 30\nmssfix 1400\nscript-security 2\n"
               "<ca>\n%s</ca>\n<tls-auth>\n%s</tls-auth>\n"
               "<auth-user-pass>\nuser\npass\n</auth-user-pass>\n",
               slurp(pki, "ca.crt"), test_static_pem);
  put("fuzz_config", "tcp_tls_auth_userpass", out, (size_t)n);
  n = snprintf(out, sizeof(out),
               "client\ndev tun\nremote 198.18.0.1\n<ca>\n%s</ca>\n"
               "<cert>\n%s</cert>\n<key>\n%s</key>\n<tls-crypt-v2>\n%s"
               "</tls-crypt-v2>\n",
               slurp(pki, "ca.crt"), slurp(pki, "client.crt"),
               slurp(pki, "client.key"), test_v2_pem);
  put("fuzz_config", "inline_tls_crypt_v2", out, (size_t)n);
  n = snprintf(out, sizeof(out), "%s",
               "client\ndev tun\nconnect-timeout 5\n"
               "<connection>\nremote 198.18.0.1 1194 udp\n"
               "server-poll-timeout 2\nfloat\n</connection>\n"
               "<connection>\nremote vpn.example 443\nproto tcp\n"
               "lport 0\nbind ipv6only\n</connection>\n"
               "remote-random-hostname\npersist-remote-ip\n"
               "remote ignored.example\n");
  put("fuzz_config", "connection_blocks", out, (size_t)n);
  n = snprintf(out, sizeof(out),
               "client\ndev tun\n<connection>\nremote 198.18.0.1 1194 udp\n"
               "key-direction 1\n<tls-auth>\n%s</tls-auth>\n</connection>\n"
               "<connection>\nremote 198.18.0.2 1194 udp\nkey-direction 0\n"
               "</connection>\n<tls-crypt>\n%s</tls-crypt>\n",
               slurp(pki, "ta.key"), slurp(pki, "ta.key"));
  put("fuzz_config", "connection_wrap_keys", out, (size_t)n);
  n = snprintf(out, sizeof(out), "%s",
               "client\ndev tun\nremote 198.18.0.1 1194 udp\n"
               "mark 42\nbind-dev vrf-blue\nmtu-disc maybe\n"
               "socket-flags TCP_NODELAY\ntcp-nodelay\npersist-local-ip\n"
               "tun-mtu 1500\ntun-mtu-max 1700\nsession-timeout 3600\n"
               "redirect-private block-local\n"
               "<connection>\nremote 198.18.0.2 443 tcp\nmtu-disc no\n"
               "</connection>\n");
  put("fuzz_config", "socket_and_session_options", out, (size_t)n);
  n = snprintf(out, sizeof(out), "%s",
               "client\ndev tun\nremote 198.18.0.1 1194 udp\n"
               "script-security 2\nup /bin/true\nroute-up /bin/true\n"
               "route-noexec\nifconfig-noexec\nroute-gateway 198.19.0.1\n"
               "route-gateway dhcp\nroute remote_host 255.255.255.255 "
               "net_gateway\nroute vpn_gateway\nroute net_gateway "
               "255.255.255.255 remote_host 7\n");
  put("fuzz_config", "script_route_options", out, (size_t)n);
  n = snprintf(out, sizeof(out), "%s",
               "client\ndev tun\nremote 198.18.0.1 1194 udp\n"
               "disable-offload udp\ndisable-offload tun\ndisable-offload\n"
               "disable-offload gso\n");
  put("fuzz_config", "disable_offload", out, (size_t)n);
}

/* ---- data channel (format: fuzz_datachannel.c) ---- */

static void gen_datachannel(void) {
  /* An ICMP echo request 198.19.0.2 -> 198.19.0.1, framed as 2.6 sends it. */
  static const uint8_t icmp[] = {0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40,
                                 0x00, 0x40, 0x01, 0x00, 0x00, 0xc6, 0x13,
                                 0x00, 0x02, 0xc6, 0x13, 0x00, 0x01, 0x08,
                                 0x00, 0xf7, 0xff, 0x00, 0x00, 0x00, 0x00};
  uint8_t out[1024], pl[64];
  char name[32];
  size_t m;
  int s, comp;

  for (s = 0; s < 8; s++) {
    comp = s % 4 == 3 ? LVPN__COMP_STUB_V2 : LVPN__COMP_NONE;
    m = 0;
    out[m++] = (uint8_t)s;
    out[m++] = (uint8_t)(comp << 3); /* key_id 0 */
    /* server-encrypted: P_DATA_V2 ICMP, a ping, OCC EXIT */
    m += rec(out + m, 1 | 4, icmp, sizeof(icmp));
    m += rec(out + m, 1 | 4 | 1 << 4, lvpn__dc_ping_string, 16);
    memcpy(pl, lvpn__dc_occ_magic, 16);
    pl[16] = LVPN__OCC_EXIT;
    m += rec(out + m, 1, pl, 17);
    /* replay of the first, and a forged packet with id 0x10 */
    m += rec(out + m, 2, NULL, 0);
    lvpn__put_u32(pl, 0x10);
    memcpy(pl + 4, icmp, 28);
    memset(pl + 32, 4, 4); /* CBC: pid 4 + 28 + 4 bytes of padding */
    m += rec(out + m, 3 | 4, pl, 36);
    snprintf(name, sizeof(name), "suite_%d", s);
    put("fuzz_datachannel", name, out, m);
  }
}

/* ---- fragment reassembly (format: fuzz_fragment.c) ---- */

static void gen_fragment(void) {
  uint8_t out[4096];
  size_t m = 0, i;
  uint32_t h;
  /* max 972; OpenVPN 2.6's pieces of a 1500-byte packet (two of 752),
   * last first; then a WHOLE packet, a round trip of 1888 bytes reversed,
   * FRAG_TEST, and an incomplete packet left to expire */
  out[m++] = 972 >> 8;
  out[m++] = 972 & 0xFF;
  for (i = 2; i-- > 0;) {
    h = lvpn__fragment_header(i ? LVPN__FRAG_LAST : LVPN__FRAG_NOTLAST, 9,
                              (unsigned)i, 752);
    out[m++] = 1;
    out[m++] = (uint8_t)(h & 3);
    out[m++] = 9;
    out[m++] = (uint8_t)i;
    out[m++] = 752 >> 8;
    out[m++] = 752 & 0xFF;
    out[m++] = (uint8_t)((i ? 748 : 752) >> 8);
    out[m++] = (uint8_t)((i ? 748 : 752) & 0xFF);
  }
  out[m++] = 0; /* raw WHOLE: header 0 + 20 bytes */
  out[m++] = 0;
  out[m++] = 24;
  memset(out + m, 0, 24);
  out[m + 4] = 0x45;
  m += 24;
  out[m++] = 2;
  out[m++] = 1888 >> 8;
  out[m++] = 1888 & 0xFF;
  out[m++] = 3;
  memcpy(out + m, (const uint8_t[]){1, 3, 7, 2, 0, 4, 0, 16}, 8);
  m += 8;
  memcpy(out + m, (const uint8_t[]){1, 1, 20, 0, 0, 0, 0, 100}, 8);
  m += 8;
  out[m++] = 3;
  out[m++] = 11;
  put("fuzz_fragment", "pieces_whole_test_ttl", out, m);
}

/* ---- compression (format: fuzz_compress.c) ---- */

static void gen_compress(void) {
  static lvpn__compress_t c;
  uint8_t pkt[600], out[2048];
  char name[32];
  size_t m, i;
  int mode;

  /* a compressible IPv4/UDP-looking packet */
  for (i = 0; i < sizeof(pkt); i++)
    pkt[i] = (uint8_t)(i < 28 ? 0x45 + (int)i : "layervpn "[i % 9]);
  for (mode = LVPN__COMP_NONE; mode <= LVPN__COMP_LZ4_V2; mode++) {
    lvpn__pbuf_t *p = fuzz_pbuf(pkt, sizeof(pkt));
    if (lvpn__compress_setup(&c, mode, true) != 0 ||
        lvpn__compress(&c, p, 1000) != 0)
      abort();
    m = 0;
    out[m++] = (uint8_t)mode;
    /* the sender's real output (raw), then two round trips */
    m += rec(out + m, 0, p->data, p->len);
    m += rec(out + m, 1, pkt, sizeof(pkt));
    m += rec(out + m, 1 | 2 << 1, pkt, 40);
    lvpn__pbuf_free(p);
    lvpn__compress_free(&c);
    snprintf(name, sizeof(name), "mode_%d", mode);
    put("fuzz_compress", name, out, m);
  }
}

/* ---- epoch data channel (format: fuzz_epoch.c) ---- */

static void gen_epoch(void) {
  static const uint8_t icmp[] = {0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40,
                                 0x00, 0x40, 0x01, 0x00, 0x00, 0xc6, 0x13,
                                 0x00, 0x02, 0xc6, 0x13, 0x00, 0x01, 0x08,
                                 0x00, 0xf7, 0xff, 0x00, 0x00, 0x00, 0x00};
  static lvpn__epoch_key_t server;
  uint8_t out[1024], inv[256];
  char name[32];
  size_t m;
  int s;

  lvpn__key2_inverse(test_key2, inv);
  for (s = 0; s < 4; s++) {
    static const char *const suites[4] = {"AES-128-GCM", "AES-256-GCM",
                                          "CHACHA20-POLY1305", "AES-192-GCM"};
    lvpn__pbuf_t *p = fuzz_pbuf(icmp, sizeof(icmp));
    int r;
    if (lvpn__epoch_key_init(&server, suites[s], inv, 0, 0) != 0 ||
        lvpn__epoch_encrypt(&server, p, 7) != 0)
      abort();
    m = 0;
    out[m++] = (uint8_t)s;
    out[m++] = (uint8_t)(s == 0 ? 0 : 3); /* usage limit: epoch moves */
    m += rec(out + m, 0, p->data, p->len); /* a real sealed packet */
    for (r = 0; r < 6; r++) /* sealed both ways, a replay, a flipped bit */
      m += rec(out + m, (uint8_t)(r % 2 ? 3 : 1), icmp, sizeof(icmp));
    m += rec(out + m, 2, NULL, 0);
    m += rec(out + m, 1 | 4, icmp, sizeof(icmp));
    lvpn__pbuf_free(p);
    lvpn__epoch_key_free(&server);
    snprintf(name, sizeof(name), "suite_%d", s);
    put("fuzz_epoch", name, out, m);
  }
}

/* ---- management commands (format: fuzz_mgmt.c) ---- */

static void gen_mgmt(void) {
  static const char *const scripts[] = {
      "state on\r\nstate all\r\nbytecount 1\r\nlog on all\r\n"
      "hold release\r\nversion\r\npid\r\nhelp\r\nstatus 2\r\n",
      "username \"Auth\" alice\r\npassword \"Auth\" \"se\\\"cret\"\r\n"
      "forget-passwords\r\necho on all\r\nsignal SIGUSR1\r\nquit\r\n",
      "pw\r\nstate 3\nlog 2\necho all\nsignal SIGTERM\nexit\n",
      "cr-response NDI0MjQy\r\ncr-response not*base64\r\ncr-response =\r\n"
      "cr-response \"\"\r\ncr-response\r\nquit\r\n",
  };
  uint8_t out[1024];
  char name[32];
  size_t m, i;

  for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
    m = 0;
    out[m++] = (uint8_t)i; /* bit 0: password, bit 1: hold */
    m += rec(out + m, 6, (const uint8_t *)"h", 1); /* len % 3 == 1: hold */
    m += rec(out + m, 0, (const uint8_t *)scripts[i], strlen(scripts[i]));
    m += rec(out + m, 4, (const uint8_t *)"SUCCESS", 7); /* state */
    m += rec(out + m, 5, (const uint8_t *)"Initialization Sequence Completed",
             33);
    m += rec(out + m, 6, (const uint8_t *)"qq", 2); /* password query */
    snprintf(name, sizeof(name), "session_%zu", i);
    put("fuzz_mgmt", name, out, m);
  }
}

/* ---- challenge/response (format: fuzz_challenge.c) ---- */

static void gen_challenge(void) {
  static const char *const seeds[] = {
      "\0CRV1:R,E:Om01u7Fh4LrGBS7uh0SWmzwabUiGiW6l:Y3Ix:Enter your PIN",
      "\0CRV1:R:abc:YWxpY2U=:Please enter token",
      "\1U2VjcmV0IQ==",
      "\2hunter2123456",
  };
  char name[32];
  size_t i;

  for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    snprintf(name, sizeof(name), "seed_%zu", i);
    put("fuzz_challenge", name, seeds[i], 1 + strlen(seeds[i] + 1));
  }
}

/* ---- proxy replies: [mode][chunk] + what the proxy sends ---- */

#define PROXY_SEED(name, lit) {name, lit, sizeof(lit) - 1}
static void gen_proxy(void) {
  static const struct {
    const char *name;
    const char *b;
    size_t n;
  } s[] = {
      PROXY_SEED("http_200", "\x00\x05HTTP/1.0 200 Connection established\r\n"
                             "Proxy-agent: tinyproxy/1.11.1\r\n\r\n\x00\x2a"),
      PROXY_SEED("http_100_200", "\x02\x01HTTP/1.1 100 Continue\r\n\r\n"
                                 "HTTP/1.1 200 OK\r\n\r\n"),
      PROXY_SEED("http_407",
                 "\x02\x10HTTP/1.1 407 Proxy Authentication Required\r\n"
                 "Proxy-Authenticate: Basic realm=\"x\"\r\n\r\n"),
      PROXY_SEED("http_401", "\x02\x40HTTP/1.0 401 Unauthorized\r\n"
                             "Server: tinyproxy\r\n\r\n"),
      PROXY_SEED("http_auto_407",
                 "\x0a\x09HTTP/1.1 407 Proxy Authentication Required\r\n"
                 "Proxy-Authenticate: NTLM\r\n"
                 "Proxy-Authenticate: Basic realm=\"corp\"\r\n\r\n"),
      PROXY_SEED("http_auto_nct_401",
                 "\x1a\x20HTTP/1.0 401 Unauthorized\r\n"
                 "WWW-Authenticate: Basic realm=\"tinyproxy\"\r\n"),
      PROXY_SEED("socks_noauth_connect",
                 "\x01\x03\x05\x00\x05\x00\x00\x01\xc6\x12\x00\x03\x04\x38"),
      PROXY_SEED("socks_auth_connect_name",
                 "\x03\x02\x05\x02\x01\x00\x05\x00\x00\x03\x04"
                 "abcd\x00\x50\xde\xad"),
      PROXY_SEED("socks_udp_assoc",
                 "\x05\x01\x05\x00\x05\x00\x00\x01\xc6\x12\x00\x03\xe7\x7e"),
      PROXY_SEED("socks_refused",
                 "\x01\x04\x05\x00\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00"),
      PROXY_SEED("socks_udp_header",
                 "\x05\x0a\x00\x00\x00\x01\xc6\x12\x00\x01\x04\xaa\x48"),
  };
  size_t i;
  for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
    put("fuzz_proxy", s[i].name, s[i].b, s[i].n);
}

/* fuzz_socks: [mode] then a SOCKS5 / HTTP CONNECT / DNS message. */
static void gen_socks(void) {
#define SOCKS_SEED(name, lit) {name, (const uint8_t *)(lit), sizeof(lit) - 1}
  static const struct {
    const char *name;
    const uint8_t *b;
    size_t n;
  } s[] = {
      SOCKS_SEED("greeting", "\x00\x05\x02\x00\x02"),
      SOCKS_SEED("userpass", "\x01\x01\x05" "alice\x06" "s3cret"),
      SOCKS_SEED("connect_ipv4", "\x02\x05\x01\x00\x01\xc6\x13\x00\x01\x1f\x90"),
      SOCKS_SEED("connect_name",
                 "\x02\x05\x01\x00\x03\x10" "files.socks.test\x00\x50"),
      SOCKS_SEED("connect_ipv6", "\x02\x05\x01\x00\x04\x20\x01\x00\x02\x00\x00"
                                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
                                 "\x01\xbb"),
      SOCKS_SEED("udp_associate",
                 "\x02\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00"),
      SOCKS_SEED("http_connect", "\x03" "CONNECT 198.19.0.1:8080 HTTP/1.1\r\n"
                                 "Host: 198.19.0.1:8080\r\n"
                                 "Proxy-Authorization: Basic "
                                 "YWxpY2U6czNjcmV0\r\n\r\n"),
      SOCKS_SEED("http_connect_v6",
                 "\x03" "CONNECT [2001:2::1]:443 HTTP/1.0\r\n\r\n"),
      SOCKS_SEED("dns_answer",
                 "\x04\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
                 "\x05" "files\x05" "socks\x04" "test\x00\x00\x01\x00\x01"
                 "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"
                 "\xc6\x13\x00\x01"),
      SOCKS_SEED("udp_header", "\x04\x00\x00\x00\x01\xc6\x13\x00\x01\x00\x35"
                               "\x42\x42\x01\x00\x00\x01\x00\x00\x00\x00"
                               "\x00\x00\x01" "a\x00\x00\x01\x00\x01"),
      SOCKS_SEED("icmp_unreach",
                 "\x04\x45\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00"
                 "\x00\xc6\x13\x00\x01\xc6\x13\x00\x02\x03\x01\x00"
                 "\x00\x00\x00\x00\x00\x45\x00\x00\x00\x00\x00\x00"
                 "\x00\x00\x06\x00\x00\xc6\x13\x00\x02\xc6\x13\x64"
                 "\x07\x9c\x40\x1f\x90\x00\x00\x00\x00"),
      SOCKS_SEED("auth_file", "\x05# users\nalice:s3cret\nbob:pa:ss\n"),
  };
  size_t i;
  for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
    put("fuzz_socks", s[i].name, s[i].b, s[i].n);
#undef SOCKS_SEED
}

/* ---- the tracer (tls_records, control messages): flag byte + payload ---- */

/* A TLS record of type `ct` holding one handshake message `hs` (0: opaque
 * bytes, as once encrypted) of `n` body bytes. */
static size_t tls_rec(uint8_t *out, uint8_t ct, uint8_t hs, size_t n) {
  size_t body = hs != 0 ? n + 4 : n, i;
  out[0] = ct;
  out[1] = 3;
  out[2] = 3;
  out[3] = (uint8_t)(body >> 8);
  out[4] = (uint8_t)body;
  i = 5;
  if (hs != 0) {
    out[i++] = hs;
    out[i++] = 0;
    out[i++] = (uint8_t)(n >> 8);
    out[i++] = (uint8_t)n;
  }
  memset(out + i, 0xa5, n);
  return i + n;
}

static void gen_trace(void) {
  static const char *const msgs[] = {
      ("\x01PUSH_REPLY,route 10.0.0.0 255.0.0.0,auth-token SESS_ID_AT_x=,"
       " auth-token-user dXNlcg==,peer-id 0"),
      "\x04PUSH_UPDATE,-route,auth-token\tSESS_ID_AT_y,push-continuation 1",
      "\002AUTH_FAILED,TEMP[backoff 5]:auth-token x",
  };
  uint8_t b[400];
  size_t n, i;

  b[0] = 0x00; /* in: ClientHello, ServerHello + Certificate + Done */
  n = 1 + tls_rec(b + 1, 22, 1, 60);
  put("fuzz_trace", "client_hello", b, n);
  n = 1 + tls_rec(b + 1, 22, 2, 40);
  n += tls_rec(b + n, 22, 11, 80);
  n += tls_rec(b + n, 22, 14, 0);
  put("fuzz_trace", "server_flight", b, n);
  b[0] = 0x01; /* out: key exchange, CCS, encrypted Finished */
  n = 1 + tls_rec(b + 1, 22, 16, 33);
  n += tls_rec(b + n, 20, 0, 1);
  n += tls_rec(b + n, 22, 0, 40);
  put("fuzz_trace", "client_finish", b, n);
  b[0] = 0xe0; /* in, 7 acks: application data and an alert */
  n = 1 + tls_rec(b + 1, 23, 0, 100);
  n += tls_rec(b + n, 21, 0, 2);
  put("fuzz_trace", "app_alert", b, n);
  b[0] = 0x02; /* dropped: a record cut short */
  n = 1 + tls_rec(b + 1, 22, 1, 60) - 30;
  put("fuzz_trace", "cut_record", b, n);
  for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
    char name[16];
    snprintf(name, sizeof(name), "ctlmsg_%zu", i);
    put("fuzz_trace", name, msgs[i], strlen(msgs[i]));
  }
}

/* ---- the inside filter: rules | NUL | packet ---- */

static void gen_filter(void) {
  static const char rules[] =
      "deny icmp\nallow tcp port 80-443 net 198.18.0.0/15\n"
      "deny udp net 2001:2::/48\ndeny proto 47\ndefault deny";
  /* IPv4 TCP 198.19.0.2:40000 -> 198.19.0.1:443 */
  static const uint8_t v4[] = {0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
                               198, 19, 0, 2, 198, 19, 0, 1, 0x9c, 0x40,
                               0x01, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0,
                               0, 0, 0, 0, 0, 0};
  /* IPv6 fragment header, then UDP 5353 -> 53 */
  uint8_t v6[56] = {0x60, 0, 0, 0, 0, 16, 44, 64, 0x20, 0x01, 0, 2};
  uint8_t buf[sizeof(rules) + sizeof(v6)];
  v6[23] = 2;
  v6[24] = 0x20, v6[25] = 0x01, v6[27] = 2, v6[39] = 1;
  v6[40] = 17; /* fragment header: next header UDP, offset 0 */
  v6[48] = 0x14, v6[49] = 0xe9, v6[51] = 53;
  memcpy(buf, rules, sizeof(rules)); /* with its NUL */
  memcpy(buf + sizeof(rules), v4, sizeof(v4));
  put("fuzz_filter", "v4_tcp", buf, sizeof(rules) + sizeof(v4));
  memcpy(buf + sizeof(rules), v6, sizeof(v6));
  put("fuzz_filter", "v6_frag_udp", buf, sizeof(rules) + sizeof(v6));
  static const char bad[] =
      "deny tcp port 90-80\npermit all\ndeny net ::/129\0\x45";
  put("fuzz_filter", "bad_rules", bad, sizeof(bad) - 1);
}


/* ---- TUN offloads: seglen(2) cap(2) vnet+packet, then len(2)+packet ---- */

/* An IPv4 (or IPv6) TCP/UDP packet 198.19.0.1 -> .2 (2001:2::1 -> ::2)
 * with `n` payload bytes at stream offset `seq`; checksums right. */
static size_t off_pkt(uint8_t *b, int v6, int tcp, uint32_t seq, size_t n,
                      uint8_t flags) {
  size_t h = v6 ? 40 : 20, l4h = tcp ? 20 : 8, len = h + l4h + n, i, alen;
  uint8_t *l4 = b + h;
  uint32_t sum;
  memset(b, 0, len);
  if (v6) {
    b[0] = 0x60;
    lvpn__put_u16(b + 4, (uint16_t)(len - 40));
    b[6] = tcp ? 6 : 17;
    b[7] = 64;
    b[8] = 0x20, b[9] = 0x01, b[11] = 2, b[23] = 1;
    b[24] = 0x20, b[25] = 0x01, b[27] = 2, b[39] = 2;
  } else {
    b[0] = 0x45;
    lvpn__put_u16(b + 2, (uint16_t)len);
    b[6] = 0x40;
    b[8] = 64;
    b[9] = tcp ? 6 : 17;
    b[12] = 198, b[13] = 19, b[15] = 1;
    b[16] = 198, b[17] = 19, b[19] = 2;
    lvpn__put_u16(b + 10, (uint16_t)~lvpn__csum_fold(lvpn__csum_add(0, b, 20)));
  }
  lvpn__put_u16(l4, 40000);
  lvpn__put_u16(l4 + 2, 80);
  if (tcp) {
    lvpn__put_u32(l4 + 4, 1000 + seq);
    lvpn__put_u32(l4 + 8, 5);
    l4[12] = 0x50;
    l4[13] = flags;
    lvpn__put_u16(l4 + 14, 500);
  } else {
    lvpn__put_u16(l4 + 4, (uint16_t)(8 + n));
  }
  for (i = 0; i < n; i++)
    b[h + l4h + i] = (uint8_t)(seq + i);
  alen = v6 ? 16 : 4;
  sum = lvpn__csum_pseudo(b + (v6 ? 8 : 12), b + (v6 ? 8 : 12) + alen, alen,
                          tcp ? 6 : 17, (uint32_t)(len - h));
  lvpn__put_u16(l4 + (tcp ? 16 : 6),
                (uint16_t)~lvpn__csum_fold(lvpn__csum_add(sum, l4, len - h)));
  return len;
}

static void gen_offload(void) {
  static uint8_t buf[8192];
  static const struct {
    const char *name;
    int v6, tcp;
    uint8_t gso, flags;
    size_t payload, mss;
  } cases[] = {
      {"tso4_gro4", 0, 1, LVPN__VNET_GSO_TCPV4, 0x19, 2500, 1000},
      {"tso6_gro6", 1, 1, LVPN__VNET_GSO_TCPV6, 0x18, 2100, 700},
      {"uso6", 1, 0, LVPN__VNET_GSO_UDP_L4, 0, 3000, 1200},
      {"csum4", 0, 1, LVPN__VNET_GSO_NONE, 0x18, 300, 0},
  };
  size_t c;
  for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    lvpn__vnet_hdr_t vh = {LVPN__VNET_F_NEEDS_CSUM, cases[c].gso, 0,
                           (uint16_t)cases[c].mss,
                           (uint16_t)(cases[c].v6 ? 40 : 20),
                           (uint16_t)(cases[c].tcp ? 16 : 6)};
    size_t len, n = 4, i;
    len = off_pkt(buf + 4 + LVPN__VNET_HDR_LEN, cases[c].v6, cases[c].tcp, 0,
                  cases[c].payload, cases[c].flags);
    vh.hdr_len = (uint16_t)(len - cases[c].payload);
    lvpn__vnet_hdr_encode(buf + 4, &vh);
    lvpn__put_u16(buf, (uint16_t)(len + LVPN__VNET_HDR_LEN));
    lvpn__put_u16(buf + 2, 1500);
    n += len + LVPN__VNET_HDR_LEN;
    /* then the same stream in MSS-sized packets to coalesce */
    for (i = 0; cases[c].mss > 0 && i < cases[c].payload; i += cases[c].mss) {
      size_t k = cases[c].payload - i < cases[c].mss ? cases[c].payload - i
                                                     : cases[c].mss;
      len = off_pkt(buf + n + 2, cases[c].v6, cases[c].tcp, (uint32_t)i, k,
                    i + k == cases[c].payload ? cases[c].flags : 0x10);
      lvpn__put_u16(buf + n, (uint16_t)len);
      n += 2 + len;
    }
    put("fuzz_offload", cases[c].name, buf, n);
  }
}

/* ---- certificates: the fixture PKI's, DER ---- */

static void gen_certenv(const char *pki) {
  static const char *const files[] = {"ca.crt", "server.crt",
                                      "client-rsa.crt", "other-ca.crt"};
  char path[512];
  size_t i;
  for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    snprintf(path, sizeof(path), "%s/%s", pki, files[i]);
    if (mbedtls_x509_crt_parse_file(&crt, path) != 0)
      abort();
    put("fuzz_certenv", files[i], crt.raw.p, crt.raw.len);
    mbedtls_x509_crt_free(&crt);
  }
}

/* ---- a kept server chain (fuzz_chain): DER certificates in a row ---- */

static void gen_chain(const char *pki) {
  static const char *const chains[][3] = {
      {"server-ca", "server.crt", "ca.crt"},
      {"server", "server.crt", NULL},
      {"other-ca", "server-other-ca.crt", NULL},
      {"expired", "server-expired.crt", "ca.crt"},
  };
  char path[512];
  uint8_t buf[16384];
  size_t i, j, n;
  for (i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
    n = 0;
    for (j = 1; j < 3 && chains[i][j] != NULL; j++) {
      mbedtls_x509_crt crt;
      mbedtls_x509_crt_init(&crt);
      snprintf(path, sizeof(path), "%s/%s", pki, chains[i][j]);
      if (mbedtls_x509_crt_parse_file(&crt, path) != 0 ||
          n + crt.raw.len > sizeof(buf))
        abort();
      memcpy(buf + n, crt.raw.p, crt.raw.len);
      n += crt.raw.len;
      mbedtls_x509_crt_free(&crt);
    }
    put("fuzz_chain", chains[i][0], buf, n);
  }
}

/* ---- the CLI's page list and maps text (fuzz_memtrim) ---- */

static void gen_memtrim(void) {
  static const char *const seeds[][2] = {
      {"list", "\x03" "fe00000 4d2 1000 10 0 2\n"
               "fe00000 4d2 1000 10 4 1\n"
               "fe00000 4d2 1000 10 7 4\n"},
      {"list-aged", "\x03" "fe00000 4d2 1000 10 0 2 0\n"
                    "fe00000 4d2 1000 10 2 2 3\n"
                    "fe00000 4d2 1000 10 4 1 f\n"
                    "fe00000 4d3 0 8 1 6 1\n"},
      {"maps", "\x21" "5581c5a4e000-5581c5a52000 r--p 00000000 fe:00 414526  "
               "/usr/sbin/layervpn\n"
               "7f3b2a000000-7f3b2a028000 r--p 00000000 fe:00 333069  "
               "/usr/lib/x86_64-linux-gnu/libc.so.6\n"
               "7f3b2a028000-7f3b2a17d000 r-xp 00028000 fe:00 333069  "
               "/usr/lib/x86_64-linux-gnu/libc.so.6\n"
               "7f3b2a1d3000-7f3b2a1d7000 r--p 001d2000 fe:00 333069  "
               "/usr/lib/x86_64-linux-gnu/libc.so.6\n"
               "7f3b2a1d7000-7f3b2a1d9000 rw-p 001d6000 fe:00 333069  "
               "/usr/lib/x86_64-linux-gnu/libc.so.6\n"
               "7f3b2a400000-7f3b2a445000 r-xp 00014000 fe:00 332901  "
               "/usr/lib/x86_64-linux-gnu/libmbedcrypto.so.2.28.3\n"
               "5581c6e1a000-5581c6e3b000 rw-p 00000000 00:00 0   [heap]\n"
               "7ffd4b3f0000-7ffd4b3f2000 r-xp 00000000 00:00 0   [vdso]\n"},
      {"maps-swapped", "\xc5" "7f0000050000-7f0000060000 r--p 00000000 fe:00 79"
                       "      /usr/lib/libw\n"},
  };
  size_t i;
  for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
    put("fuzz_memtrim", seeds[i][0], seeds[i][1], strlen(seeds[i][1]));
}

/* ---- ECDSA signatures against mbedTLS's verification (fuzz_ecverify) --
 * curve, hash length, hash, then 1 and (offset, xor) pairs over the key's
 * own signature, or 0 and a signature as it is */

static void gen_ecverify(void) {
  static const struct {
    const char *name;
    uint8_t curve, hlen, mode;
    const char *tail; /* after the mode byte */
    size_t tail_len;
  } seeds[] = {
      {"p256-sha256-valid", 0, 32, 1, "", 0},
      {"p384-sha384-valid", 1, 48, 1, "", 0},
      {"p521-sha512-valid", 2, 64, 1, "", 0},
      {"p256-sha512-cut", 0, 64, 1, "", 0},
      {"p256-s-flipped", 0, 32, 1, "\x40\x01", 2},
      {"p256-edit-end", 0, 32, 1, "\x48\x00", 2},
      {"p256-raw-der", 0, 32, 0,
       "\x30\x06\x02\x01\x01\x02\x01\x01", 8},
  };
  uint8_t buf[256];
  size_t i, n;
  for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    n = 0;
    buf[n++] = seeds[i].curve;
    buf[n++] = seeds[i].hlen;
    memset(buf + n, 0x30 + (int)i, seeds[i].hlen);
    n += seeds[i].hlen;
    buf[n++] = seeds[i].mode;
    memcpy(buf + n, seeds[i].tail, seeds[i].tail_len);
    n += seeds[i].tail_len;
    put("fuzz_ecverify", seeds[i].name, buf, n);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s CORPUS_DIR PKI_DIR\n", argv[0]);
    return 2;
  }
  root = argv[1];
  if (mkdir(root, 0755) != 0 && errno != EEXIST) {
    perror(root);
    return 1;
  }
  gen_ctl();
  gen_tlswrap("fuzz_tls_auth", LVPN__TLSWRAP_AUTH, "SHA1", 1);
  gen_tlswrap("fuzz_tls_crypt", LVPN__TLSWRAP_CRYPT, NULL, -1);
  gen_tlswrap("fuzz_tls_crypt_v2", LVPN__TLSWRAP_CRYPT_V2, NULL, -1);
  gen_reliable();
  gen_keymethod();
  gen_push();
  gen_config(argv[2]);
  gen_datachannel();
  gen_fragment();
  gen_compress();
  gen_epoch();
  gen_mgmt();
  gen_challenge();
  gen_proxy();
  gen_socks();
  gen_trace();
  gen_filter();
  gen_offload();
  gen_certenv(argv[2]);
  gen_memtrim();
  gen_chain(argv[2]);
  gen_ecverify();
  fuzz_pool_check();
  return 0;
}
