/* tun/dns (the connection's DNS as 2.7 builds it, resolv.conf text, the
 * systemd-resolved plan and its sd-bus messages), lib/dns_opt (the `dns`
 * grammar) and tun/dns_host's resolv.conf backend on temporary files. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "layers/tun/dns.h"
#include "layers/tun/dns_host.h"
#include "lib/dns_opt.h"
#include "tests/fakes.h"

#define ERRLEN 256 /* every err buffer of this suite */

/* Parses "a b c" as one `dns` option's words. */
static int dns_line(lvpn_dns_t *d, const char *line, bool pulled, char *err,
                    size_t errlen) {
  char buf[512], *w[32], *save = NULL, *t;
  int n = 0;
  snprintf(buf, sizeof(buf), "%s", line);
  for (t = strtok_r(buf, " ", &save); t != NULL && n < 31;
       t = strtok_r(NULL, " ", &save))
    w[n++] = t;
  w[n] = NULL;
  return lvpn__dns_opt_parse(d, w, n, pulled, err, errlen);
}

static void dns_ok(lvpn_dns_t *d, const char *line, bool pulled) {
  char err[ERRLEN] = "";
  int e = dns_line(d, line, pulled, err, sizeof(err));
  ck_assert_msg(e == 0, "'%s': %s", line, err);
}

static void dns_bad(const char *line, bool pulled, const char *want) {
  lvpn_dns_t d;
  char err[ERRLEN] = "";
  memset(&d, 0, sizeof(d));
  ck_assert_int_eq(dns_line(&d, line, pulled, err, sizeof(err)), LVPN_ECONFIG);
  ck_assert_str_eq(err, want);
}

static void dhcp(lvpn__dhcp_opt_t *o, const char *type, const char *value) {
  char t[32], v[256], *a[3] = {t, v, NULL};
  char err[128];
  snprintf(t, sizeof(t), "%s", type);
  snprintf(v, sizeof(v), "%s", value);
  ck_assert_int_eq(lvpn__dhcp_parse(a, 2, o, err, sizeof(err)), 0);
}

static const char *addr(const lvpn_dns_addr_t *a) {
  static char buf[64];
  return lvpn__dns_addr_str(a, buf, sizeof(buf));
}

START_TEST(test_dns_opt_every_form) {
  lvpn_dns_t d;
  memset(&d, 0, sizeof(d));
  dns_ok(&d, "server 5 address 198.18.0.53 198.18.0.54:5353", false);
  dns_ok(&d, "server -3 address 2001:2::53 [2001:2::54]:853", false);
  dns_ok(&d, "server 5 resolve-domains corp.test x.test", false);
  dns_ok(&d, "server 5 dnssec yes", false);
  dns_ok(&d, "server -3 transport DoT", false);
  dns_ok(&d, "server -3 sni dns.corp.test", false);
  dns_ok(&d, "search-domains a.test b.test", false);
  dns_ok(&d, "search-domains c.test", false);
  ck_assert_int_eq(d.n_servers, 2);
  ck_assert_int_eq(d.servers[0].priority, -3); /* sorted */
  ck_assert_str_eq(addr(&d.servers[0].addrs[0]), "2001:2::53");
  ck_assert_str_eq(addr(&d.servers[0].addrs[1]), "[2001:2::54]:853");
  ck_assert_int_eq(d.servers[0].transport, LVPN_DNS_TRANSPORT_DOT);
  ck_assert_str_eq(d.servers[0].sni, "dns.corp.test");
  ck_assert_int_eq(d.servers[1].n_addrs, 2);
  ck_assert_str_eq(addr(&d.servers[1].addrs[1]), "198.18.0.54:5353");
  ck_assert_int_eq(d.servers[1].dnssec, LVPN_DNSSEC_YES);
  ck_assert_int_eq(d.servers[1].n_resolve_domains, 2);
  ck_assert_int_eq(d.n_search_domains, 3);
  ck_assert_str_eq(d.search_domains[2], "c.test");
  ck_assert_int_eq(lvpn__dns_opt_verify(&d, NULL, 0), 0);
  dns_ok(&d, "server 7 transport plain", false);
  ck_assert_int_eq(lvpn__dns_opt_verify(&d, NULL, 0), LVPN_ECONFIG);
}
END_TEST

START_TEST(test_dns_opt_errors_name_the_problem) {
  dns_bad("server -1 address 198.18.0.53", true,
          "dns server: priority '-1' is not a number from 0 to 127");
  dns_bad("server 128 address 198.18.0.53", false,
          "dns server: priority '128' is not a number from -128 to 127");
  dns_bad("server 1 address 198.18.0.300", false,
          "dns server 1: malformed address '198.18.0.300'");
  dns_bad("server 1 address 2001:2::53:53:x", false,
          "dns server 1: malformed address '2001:2::53:53:x'");
  dns_bad("server 1 address 198.18.0.53:0", false,
          "dns server 1: malformed address '198.18.0.53:0'");
  dns_bad("server 1 address [2001:2::53]", false,
          "dns server 1: malformed address '[2001:2::53]'");
  dns_bad("server 1 address", false,
          "dns server: needs 'N SETTING VALUE...'");
  dns_bad("server 1 dnssec yes no", false,
          "dns server 1 dnssec: takes one value");
  dns_bad("server 1 resolve-domains a;b", false,
          "dns server 1: 'a;b' is not a valid domain name");
  dns_bad("search", false,
          "dns: unknown form 'search' (expected 'search-domains DOMAIN...' "
          "or 'server N address|resolve-domains|dnssec|transport|sni ...')");
  dns_bad("server 1 address 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 "
          "1.1.1.7 1.1.1.8 1.1.1.9",
          false, "dns server 1: too many addresses (max 8)");
}
END_TEST

/* 2.7: a pushed server replaces the config's of the same priority, the
 * others stay; search domains add up, the config's first; dhcp-options
 * are not used when a `dns server` exists. */
START_TEST(test_dns_build_precedence) {
  lvpn_dns_t cd, pd, out;
  lvpn__dhcp_opt_t pdhcp[1];
  lvpn__dns_src_t cs = {&cd, NULL, 0}, ps = {&pd, pdhcp, 1};
  memset(&cd, 0, sizeof(cd));
  memset(&pd, 0, sizeof(pd));
  dns_ok(&cd, "server 0 address 198.18.1.1", false);
  dns_ok(&cd, "server -5 address 198.18.1.2", false);
  dns_ok(&cd, "search-domains local.test", false);
  dns_ok(&pd, "server 0 address 198.18.2.1", true);
  dns_ok(&pd, "server 9 address 198.18.2.9", true);
  dns_ok(&pd, "search-domains pushed.test", true);
  dhcp(&pdhcp[0], "DNS", "198.18.3.3");
  ck_assert_int_eq(lvpn__dns_build(&out, &cs, &ps), 0);
  ck_assert_int_eq(out.n_servers, 3);
  ck_assert_int_eq(out.servers[0].priority, -5);
  ck_assert_str_eq(addr(&out.servers[1].addrs[0]), "198.18.2.1");
  ck_assert_int_eq(out.servers[1].n_addrs, 1);
  ck_assert_int_eq(out.servers[2].priority, 9);
  ck_assert_int_eq(out.n_search_domains, 2);
  ck_assert_str_eq(out.search_domains[0], "local.test");
  ck_assert_str_eq(out.search_domains[1], "pushed.test");
  ck_assert_int_eq(out.from_dhcp, 0);
}
END_TEST

START_TEST(test_dns_build_from_dhcp) {
  lvpn__dhcp_opt_t c[2], p[12];
  lvpn__dns_src_t cs = {NULL, c, 2}, ps = {NULL, p, 12};
  lvpn_dns_t out;
  dhcp(&c[0], "DNS", "198.18.0.1");
  dhcp(&c[1], "DOMAIN", "config.test");
  dhcp(&p[0], "DNS6", "2001:2::53");
  dhcp(&p[1], "DNS", "198.18.0.2");
  dhcp(&p[2], "DOMAIN-SEARCH", "s1.test");
  dhcp(&p[3], "ADAPTER_DOMAIN_SUFFIX", "pushed.test");
  dhcp(&p[4], "DNS", "2001:2::54"); /* DNS takes IPv6 too */
  dhcp(&p[5], "DNS", "198.18.0.3");
  dhcp(&p[6], "DNS", "198.18.0.4");
  dhcp(&p[7], "DNS", "198.18.0.5"); /* the 5th IPv4: over the limit */
  dhcp(&p[8], "DOMAIN-SEARCH", "s2.test");
  dhcp(&p[9], "NTP", "198.18.0.9");
  dhcp(&p[10], "WINS", "198.18.0.10");
  dhcp(&p[11], "PROXY_HTTP", "proxy");
  ck_assert_int_eq(lvpn__dns_build(&out, &cs, &ps), 1);
  ck_assert_int_eq(out.from_dhcp, 1);
  ck_assert_int_eq(out.n_servers, 1);
  ck_assert_int_eq(out.servers[0].priority, 0);
  ck_assert_int_eq(out.servers[0].n_addrs, 6);
  ck_assert_str_eq(addr(&out.servers[0].addrs[0]), "198.18.0.1");
  ck_assert_str_eq(addr(&out.servers[0].addrs[3]), "198.18.0.4");
  ck_assert_str_eq(addr(&out.servers[0].addrs[4]), "2001:2::53");
  ck_assert_str_eq(addr(&out.servers[0].addrs[5]), "2001:2::54");
  ck_assert_int_eq(out.n_search_domains, 3); /* DOMAIN (last) + search */
  ck_assert_str_eq(out.search_domains[0], "pushed.test");
  ck_assert_str_eq(out.search_domains[1], "s1.test");
  ck_assert_str_eq(out.search_domains[2], "s2.test");
  /* a DOMAIN without any DNS address: no DNS at all, as 2.7 */
  ps.n_dhcp = 0;
  cs.dhcp = &c[1];
  cs.n_dhcp = 1;
  ck_assert_int_eq(lvpn__dns_build(&out, &cs, &ps), 0);
  ck_assert_int_eq(out.n_servers, 0);
  ck_assert_int_eq(out.n_search_domains, 0);
}
END_TEST

START_TEST(test_dns_pick_and_resolv_conf) {
  lvpn_dns_t d;
  char out[1024];
  const lvpn_dns_server_t *sv;
  int n;
  memset(&d, 0, sizeof(d));
  dns_ok(&d, "server 0 address 198.18.9.9", false);
  dns_ok(&d, "server 0 transport DoT", false);
  dns_ok(&d, "server 1 address 198.18.8.8:5353", false);
  dns_ok(&d, "server 2 address 198.18.7.7", false);
  dns_ok(&d, "server 2 dnssec yes", false);
  dns_ok(&d, "server 3 address 198.18.0.1 198.18.0.2 2001:2::1 198.18.0.3",
         false);
  dns_ok(&d, "server 4 address 198.18.6.6", false);
  dns_ok(&d, "server 4 transport DoH", false);
  dns_ok(&d, "search-domains a.test b.test", false);
  sv = lvpn__dns_pick(&d, false);
  ck_assert_ptr_nonnull(sv);
  ck_assert_int_eq(sv->priority, 3);
  ck_assert_int_eq(lvpn__dns_pick(&d, true)->priority, 0); /* DoT is fine */
  n = lvpn__dns_resolv_conf(
      &d, sv, "tun0",
      "# from DHCP\nnameserver 192.0.2.1\n search old.test\ndomain old.test\n"
      "options edns0 ndots:2\nnameserverx keep\n",
      out, sizeof(out));
  ck_assert_int_gt(n, 0);
  ck_assert_str_eq(out, LVPN__DNS_MARKER " for tun0: the original is "
                        "restored when the tunnel closes\n"
                        "nameserver 198.18.0.1\nnameserver 198.18.0.2\n"
                        "nameserver 2001:2::1\n"
                        "search a.test b.test\n"
                        "# from DHCP\noptions edns0 ndots:2\n"
                        "nameserverx keep\n");
  ck_assert_int_eq(lvpn__dns_resolv_conf(&d, sv, "tun0", NULL, out, 40), -1);
  /* every server needs DNSSEC, DoT/DoH or another port: none for files */
  d.n_servers = 3;
  ck_assert_ptr_null(lvpn__dns_pick(&d, false));
}
END_TEST

START_TEST(test_dns_resolved_plan) {
  lvpn_dns_t d;
  lvpn__dns_resolved_plan_t p;
  memset(&d, 0, sizeof(d));
  dns_ok(&d, "server 0 address 198.18.0.1", false);
  dns_ok(&d, "search-domains corp.test", false);
  ck_assert_int_eq(lvpn__dns_resolved_plan(&d, 7, false, &p), 0);
  ck_assert_int_eq(p.ifindex, 7);
  ck_assert(p.default_route);
  ck_assert_int_eq(p.n_domains, 1);
  ck_assert_str_eq(p.domains[0].name, "corp.test");
  ck_assert(!p.domains[0].routing_only);
  ck_assert_str_eq(p.dnssec, "no"); /* set, as 2.7's script does */
  ck_assert_str_eq(p.dns_over_tls, "no");
  /* redirect-gateway: every query through the tunnel ("~.") */
  ck_assert_int_eq(lvpn__dns_resolved_plan(&d, 7, true, &p), 0);
  ck_assert_int_eq(p.n_domains, 2);
  ck_assert_str_eq(p.domains[1].name, ".");
  ck_assert(p.domains[1].routing_only);
  /* split DNS: routing domains, not the default route, even then */
  dns_ok(&d, "server 0 resolve-domains corp.test inner.test", false);
  dns_ok(&d, "server 0 dnssec optional", false);
  dns_ok(&d, "server 0 transport plain", false);
  ck_assert_int_eq(lvpn__dns_resolved_plan(&d, 7, true, &p), 0);
  ck_assert(!p.default_route);
  ck_assert_int_eq(p.n_domains, 2);
  ck_assert_str_eq(p.domains[1].name, "inner.test");
  ck_assert(p.domains[1].routing_only);
  ck_assert_str_eq(p.dnssec, "allow-downgrade");
  ck_assert_str_eq(p.dns_over_tls, "no");
  dns_ok(&d, "server 0 transport DoH", false);
  ck_assert_int_eq(lvpn__dns_resolved_plan(&d, 7, true, &p), -1);
}
END_TEST

/* The sd-bus messages, built on a bus that is not connected to any daemon
 * (a socketpair, never answered): what SetLinkDNSEx etc. would carry. */
START_TEST(test_dns_resolved_messages) {
  lvpn_dns_t d;
  lvpn__dns_resolved_plan_t p;
  sd_bus *bus = NULL;
  sd_bus_message *m;
  void *msgs[5];
  int sv[2], n, i, fam, b;
  const void *bytes;
  size_t blen;
  uint16_t port;
  const char *s, *name;

  memset(&d, 0, sizeof(d));
  dns_ok(&d, "server 0 address 198.18.0.1 [2001:2::53]:853", false);
  dns_ok(&d, "server 0 transport DoT", false);
  dns_ok(&d, "server 0 sni dns.corp.test", false);
  dns_ok(&d, "search-domains corp.test", false);
  ck_assert_int_eq(lvpn__dns_resolved_plan(&d, 42, true, &p), 0);
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ck_assert_int_ge(sd_bus_new(&bus), 0);
  ck_assert_int_ge(sd_bus_set_fd(bus, sv[0], sv[0]), 0);
  ck_assert_int_ge(sd_bus_start(bus), 0);
  n = lvpn__dns_resolved_messages(bus, &p, msgs, 5);
  ck_assert_int_eq(n, 5); /* DNSEx, Domains, DefaultRoute, DNSSEC, DoT */
  for (i = 0; i < n; i++) {
    m = msgs[i];
    ck_assert_str_eq(sd_bus_message_get_destination(m),
                     "org.freedesktop.resolve1");
    ck_assert_str_eq(sd_bus_message_get_interface(m),
                     "org.freedesktop.resolve1.Manager");
    ck_assert_int_ge(sd_bus_message_seal(m, 1 + i, 0), 0);
    ck_assert_int_ge(sd_bus_message_rewind(m, 1), 0);
  }
  m = msgs[0];
  ck_assert_str_eq(sd_bus_message_get_member(m), "SetLinkDNSEx");
  ck_assert_str_eq(sd_bus_message_get_signature(m, 1), "ia(iayqs)");
  ck_assert_int_eq(sd_bus_message_read(m, "i", &i), 1);
  ck_assert_int_eq(i, 42);
  ck_assert_int_gt(sd_bus_message_enter_container(m, 'a', "(iayqs)"), 0);
  ck_assert_int_gt(sd_bus_message_enter_container(m, 'r', "iayqs"), 0);
  ck_assert_int_eq(sd_bus_message_read(m, "i", &fam), 1);
  ck_assert_int_eq(fam, AF_INET);
  ck_assert_int_gt(sd_bus_message_read_array(m, 'y', &bytes, &blen), 0);
  ck_assert_uint_eq(blen, 4);
  ck_assert_int_eq(memcmp(bytes, "\xc6\x12\x00\x01", 4), 0);
  ck_assert_int_eq(sd_bus_message_read(m, "qs", &port, &s), 1);
  ck_assert_uint_eq(port, 0);
  ck_assert_str_eq(s, "dns.corp.test");
  ck_assert_int_ge(sd_bus_message_exit_container(m), 0);
  ck_assert_int_gt(sd_bus_message_enter_container(m, 'r', "iayqs"), 0);
  ck_assert_int_eq(sd_bus_message_read(m, "i", &fam), 1);
  ck_assert_int_eq(fam, AF_INET6);
  ck_assert_int_gt(sd_bus_message_read_array(m, 'y', &bytes, &blen), 0);
  ck_assert_uint_eq(blen, 16);
  ck_assert_int_eq(sd_bus_message_read(m, "qs", &port, &s), 1);
  ck_assert_uint_eq(port, 853);

  m = msgs[1];
  ck_assert_str_eq(sd_bus_message_get_member(m), "SetLinkDomains");
  ck_assert_str_eq(sd_bus_message_get_signature(m, 1), "ia(sb)");
  ck_assert_int_eq(sd_bus_message_read(m, "i", &i), 1);
  ck_assert_int_gt(sd_bus_message_enter_container(m, 'a', "(sb)"), 0);
  ck_assert_int_gt(sd_bus_message_read(m, "(sb)", &name, &b), 0);
  ck_assert_str_eq(name, "corp.test");
  ck_assert_int_eq(b, 0);
  ck_assert_int_gt(sd_bus_message_read(m, "(sb)", &name, &b), 0);
  ck_assert_str_eq(name, ".");
  ck_assert_int_eq(b, 1);

  m = msgs[2];
  ck_assert_str_eq(sd_bus_message_get_member(m), "SetLinkDefaultRoute");
  ck_assert_int_eq(sd_bus_message_read(m, "ib", &i, &b), 1);
  ck_assert_int_eq(b, 1);
  m = msgs[3];
  ck_assert_str_eq(sd_bus_message_get_member(m), "SetLinkDNSSEC");
  ck_assert_int_eq(sd_bus_message_read(m, "is", &i, &s), 1);
  ck_assert_str_eq(s, "no");
  m = msgs[4];
  ck_assert_str_eq(sd_bus_message_get_member(m), "SetLinkDNSOverTLS");
  ck_assert_int_eq(sd_bus_message_read(m, "is", &i, &s), 1);
  ck_assert_str_eq(s, "yes");
  for (i = 0; i < n; i++)
    sd_bus_message_unref(msgs[i]);
  sd_bus_close_unref(bus); /* no flush: nobody reads the other end */
  close(sv[1]);
}
END_TEST

/* ---- the resolv.conf backend, on temporary files ---- */

static char dir[64], conf[128], state[128];
static const char orig_text[] = "# host\nnameserver 192.0.2.53\n"
                                "search host.test\noptions edns0\n";

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static const char *read_file(const char *path) {
  static char buf[4096];
  FILE *f = fopen(path, "r");
  size_t n;
  ck_assert_ptr_nonnull(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static ino_t inode(const char *path) {
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  return st.st_ino;
}

static void files_setup(void) {
  snprintf(dir, sizeof(dir), "/tmp/lvpn_dns_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
  snprintf(state, sizeof(state), "%s/state", dir);
  write_file(conf, orig_text);
}

static void files_teardown(void) {
  char cmd[200];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static void pushed(lvpn_dns_t *d) {
  memset(d, 0, sizeof(*d));
  dns_ok(d, "server 0 address 198.18.0.53", true);
  dns_ok(d, "search-domains example.test", true);
}

static int backups(void) { /* non-empty backups in the state dir */
  char cmd[300];
  snprintf(cmd, sizeof(cmd),
           "test $(find '%s' -name 'resolv.conf.*.backup' -size +0 "
           "2>/dev/null | wc -l) -gt 0",
           state);
  return system(cmd) == 0;
}

/* Applies d to interface ifname with backend (no redirect-gateway); err
 * holds ERRLEN bytes. */
static int apply_as(lvpn__dns_host_t *h, const lvpn_dns_t *d,
                    const char *ifname, lvpn__dns_backend_t backend,
                    char *err) {
  return lvpn__dns_host_apply(h, d, ifname, false, backend, err, ERRLEN);
}

static int apply_file(lvpn__dns_host_t *h, const lvpn_dns_t *d, char *err) {
  return apply_as(h, d, "tun7", LVPN__DNS_BACKEND_FILE, err);
}

/* The pushed servers applied to conf through the file backend. */
static void applied_file(lvpn__logger_t *log, lvpn__dns_host_t *h,
                         lvpn_dns_t *d, char *err) {
  lvpn__logger_init(log);
  pushed(d);
  lvpn__dns_host_init(h, log, conf, state);
  ck_assert_int_eq(apply_file(h, d, err), 0);
}

/* A run killed while applied ("SIGKILL"): descriptors gone, nothing
 * restored. */
static void killed(lvpn__dns_host_t *h) {
  close(h->resolv_fd);
  close(h->backup_fd);
  free(h->original);
}

START_TEST(test_dns_host_file_apply_revert_in_place) {
  lvpn__logger_t log;
  lvpn__dns_host_t h;
  lvpn_dns_t d;
  char err[ERRLEN] = "";
  ino_t ino = inode(conf);

  applied_file(&log, &h, &d, err);
  ck_assert_int_eq(h.backend, LVPN__DNS_BACKEND_FILE);
  ck_assert_str_eq(read_file(conf),
                   LVPN__DNS_MARKER " for tun7: the original is restored "
                                    "when the tunnel closes\n"
                                    "nameserver 198.18.0.53\n"
                                    "search example.test\n"
                                    "# host\noptions edns0\n");
  ck_assert(inode(conf) == ino); /* in place: a bind mount survives */
  ck_assert(backups());
  /* a reconnect: undone with the device, applied again after */
  lvpn__dns_host_revert(&h);
  ck_assert_str_eq(read_file(conf), orig_text);
  ck_assert(!backups());
  ck_assert_int_eq(apply_file(&h, &d, err), 0);
  ck_assert(strstr(read_file(conf), "nameserver 198.18.0.53") != NULL);
  lvpn__dns_host_close(&h);
  ck_assert_str_eq(read_file(conf), orig_text);
  ck_assert(inode(conf) == ino);
  ck_assert(!backups());
}
END_TEST

/* After user/chroot the path may name nothing: the descriptors kept from
 * the first apply still restore and re-apply (a reconnect). */
START_TEST(test_dns_host_reapply_without_the_path) {
  lvpn__logger_t log;
  lvpn__dns_host_t h;
  lvpn_dns_t d;
  char err[ERRLEN] = "", moved[160];

  applied_file(&log, &h, &d, err);
  lvpn__dns_host_revert(&h);
  snprintf(moved, sizeof(moved), "%s/moved", dir);
  ck_assert_int_eq(rename(conf, moved), 0);
  ck_assert_int_eq(apply_file(&h, &d, err), 0);
  ck_assert_ptr_nonnull(strstr(read_file(moved), "nameserver 198.18.0.53"));
  ck_assert(backups());
  lvpn__dns_host_close(&h);
  ck_assert_str_eq(read_file(moved), orig_text);
}
END_TEST

/* A run killed while applied: the next start puts the original back. */
START_TEST(test_dns_host_crash_recovery) {
  lvpn__logger_t log;
  lvpn__dns_host_t h, next;
  lvpn_dns_t d;
  char err[ERRLEN];

  applied_file(&log, &h, &d, err);
  killed(&h);
  ck_assert(strstr(read_file(conf), "198.18.0.53") != NULL);
  lvpn__dns_host_init(&next, &log, conf, state);
  lvpn__dns_host_recover(&next);
  ck_assert_str_eq(read_file(conf), orig_text);
  ck_assert(!backups());
  lvpn__dns_host_close(&next);
}
END_TEST

/* A backup whose file someone rewrote since (DHCP, the admin, a reused
 * inode): the file is left alone and the backup dropped. */
START_TEST(test_dns_host_stale_backup_and_foreign_change) {
  lvpn__logger_t log;
  lvpn__dns_host_t h, next;
  lvpn_dns_t d;
  char err[ERRLEN];

  applied_file(&log, &h, &d, err);
  killed(&h);
  write_file(conf, "nameserver 192.0.2.99\n");
  lvpn__dns_host_init(&next, &log, conf, state);
  lvpn__dns_host_recover(&next);
  ck_assert_str_eq(read_file(conf), "nameserver 192.0.2.99\n");
  ck_assert(!backups());
  /* changed while applied: not overwritten on revert either */
  ck_assert_int_eq(apply_file(&next, &d, err), 0);
  write_file(conf, "nameserver 192.0.2.100\n");
  lvpn__dns_host_close(&next);
  ck_assert_str_eq(read_file(conf), "nameserver 192.0.2.100\n");
}
END_TEST

START_TEST(test_dns_host_errors) {
  lvpn__logger_t log;
  lvpn__dns_host_t h;
  lvpn_dns_t d;
  char err[ERRLEN] = "", missing[160];

  lvpn__logger_init(&log);
  memset(&d, 0, sizeof(d));
  dns_ok(&d, "server 0 address 198.18.0.53:5353", true);
  lvpn__dns_host_init(&h, &log, conf, state);
  ck_assert_int_eq(apply_file(&h, &d, err), LVPN_EDNS);
  ck_assert_str_eq(err, "no DNS server usable in resolv.conf (each needs "
                        "DNSSEC, DoH/DoT or a port other than 53)");
  ck_assert_str_eq(read_file(conf), orig_text);
  lvpn__dns_host_close(&h);
  snprintf(missing, sizeof(missing), "%s/none", dir);
  pushed(&d);
  lvpn__dns_host_init(&h, &log, missing, state);
  ck_assert_int_eq(apply_file(&h, &d, err), LVPN_EDNS);
  ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
  ck_assert_int_eq(h.backend, LVPN__DNS_BACKEND_NONE);
  lvpn__dns_host_close(&h);
}
END_TEST

/* resolvconf: `-a IF.layervpn` with the servers and search domains on
 * stdin, `-d IF.layervpn` when undone; a failing resolvconf is an error. */
START_TEST(test_dns_host_resolvconf) {
  lvpn__logger_t log;
  lvpn__dns_host_t h;
  lvpn_dns_t d;
  char err[ERRLEN] = "", prog[160], calls[160], body[400];

  lvpn__logger_init(&log);
  pushed(&d);
  snprintf(prog, sizeof(prog), "%s/resolvconf", dir);
  snprintf(calls, sizeof(calls), "%s/calls", dir);
  snprintf(body, sizeof(body),
           "#!/bin/sh\necho \"$*\" >>%s\n[ \"$1\" = -d ] || cat >>%s\n"
           "[ \"$2\" != fail.layervpn ]\n",
           calls, calls);
  write_file(prog, body);
  ck_assert_int_eq(chmod(prog, 0755), 0);
  lvpn__dns_host_init(&h, &log, conf, state);
  snprintf(h.resolvconf, sizeof(h.resolvconf), "%s", prog);
  ck_assert_int_eq(
      apply_as(&h, &d, "tun7", LVPN__DNS_BACKEND_RESOLVCONF, err),
      0);
  ck_assert_int_eq(h.backend, LVPN__DNS_BACKEND_RESOLVCONF);
  ck_assert_str_eq(read_file(calls),
                   "-a tun7.layervpn\n" LVPN__DNS_MARKER
                   " for tun7: the original is restored when the tunnel "
                   "closes\nnameserver 198.18.0.53\nsearch example.test\n");
  lvpn__dns_host_revert(&h);
  ck_assert_ptr_nonnull(strstr(read_file(calls), "closes\nnameserver "
                                                  "198.18.0.53\nsearch "
                                                  "example.test\n-d "
                                                  "tun7.layervpn\n"));
  ck_assert_str_eq(read_file(conf), orig_text); /* never written */
  ck_assert_int_eq(
      apply_as(&h, &d, "fail", LVPN__DNS_BACKEND_RESOLVCONF, err),
      LVPN_EDNS);
  ck_assert_ptr_nonnull(strstr(err, "-a fail.layervpn failed"));
  ck_assert_int_eq(h.backend, LVPN__DNS_BACKEND_NONE);
  lvpn__dns_host_close(&h);
}
END_TEST

/* prepare finds the way ahead: a mount point (the 5th mountinfo field,
 * whole), resolvconf's path; the next apply with backend NONE takes it,
 * and only that one. */
START_TEST(test_dns_host_prepare_finds_the_way) {
  lvpn__logger_t log;
  lvpn__dns_host_t h;
  lvpn_dns_t d;
  char err[ERRLEN] = "", prog[160], calls[160], body[300];

  lvpn__logger_init(&log);
  lvpn__dns_host_init(&h, &log, "/proc", state); /* a mount point */
  lvpn__dns_host_prepare(&h);
  ck_assert_int_eq(h.prepared, 1);
  ck_assert_int_eq(h.mounted, 1);
  ck_assert_ptr_null(h.prog);
  lvpn__dns_host_close(&h);
  lvpn__dns_host_init(&h, &log, "/pro", state); /* only its prefix */
  lvpn__dns_host_prepare(&h);
  ck_assert_int_eq(h.mounted, 0);
  lvpn__dns_host_close(&h);

  pushed(&d);
  snprintf(prog, sizeof(prog), "%s/resolvconf", dir);
  snprintf(calls, sizeof(calls), "%s/calls", dir);
  snprintf(body, sizeof(body), "#!/bin/sh\necho \"$*\" >>%s\ncat >/dev/null\n",
           calls);
  write_file(prog, body);
  ck_assert_int_eq(chmod(prog, 0755), 0);
  lvpn__dns_host_init(&h, &log, conf, state);
  snprintf(h.resolvconf, sizeof(h.resolvconf), "%s", prog);
  lvpn__dns_host_prepare(&h);
  ck_assert_int_eq(h.mounted, 0);
  ck_assert_str_eq(h.prog, prog);
  /* no such link: resolved is not asked; resolvconf, as prepared */
  ck_assert_int_eq(apply_as(&h, &d, "lvpnnone0", LVPN__DNS_BACKEND_NONE, err),
                   0);
  ck_assert_int_eq(h.backend, LVPN__DNS_BACKEND_RESOLVCONF);
  ck_assert_int_eq(h.prepared, 0); /* used once */
  ck_assert_str_eq(read_file(calls), "-a lvpnnone0.layervpn\n");
  ck_assert_str_eq(read_file(conf), orig_text);
  lvpn__dns_host_close(&h);
}
END_TEST

LVPN_TEST_MAIN("dns", 10, files_setup, files_teardown,
                    test_dns_opt_every_form,
                    test_dns_opt_errors_name_the_problem,
                    test_dns_build_precedence, test_dns_build_from_dhcp,
                    test_dns_pick_and_resolv_conf, test_dns_resolved_plan,
                    test_dns_resolved_messages,
                    test_dns_host_file_apply_revert_in_place,
                    test_dns_host_reapply_without_the_path,
                    test_dns_host_crash_recovery,
                    test_dns_host_stale_backup_and_foreign_change,
                    test_dns_host_errors, test_dns_host_resolvconf,
                    test_dns_host_prepare_finds_the_way)
