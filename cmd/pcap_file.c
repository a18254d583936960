#include "cmd/pcap_file.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* libpcap is loaded when --pcap is used, not linked: through libdbus it
 * brings libsystemd and five more shared objects into every run
 * (doc/performance.md). The types and constants still come from
 * <pcap/pcap.h>. */
static struct {
  pcap_t *(*open_dead)(int linktype, int snaplen);
  pcap_dumper_t *(*dump_fopen)(pcap_t *p, FILE *fp);
  char *(*geterr)(pcap_t *p);
  void (*dump)(u_char *user, const struct pcap_pkthdr *h, const u_char *sp);
  void (*dump_close)(pcap_dumper_t *p);
  void (*close)(pcap_t *p);
} pl;

/* dlsym gives void *; POSIX lets it convert to a function pointer. */
static int pl_sym(void *lib, const char *name, void *fp, size_t size) {
  void *p = dlsym(lib, name);
  if (p != NULL)
    memcpy(fp, &p, size);
  return p != NULL;
}

#define PL_SYM(field, name) pl_sym(lib, name, &pl.field, sizeof(pl.field))

/* Loads libpcap once; 0, or -1 with the reason in err. */
static int pl_load(char *err, size_t errlen) {
  static const char *const names[] = {"libpcap.so.0.8", "libpcap.so.1"};
  static int state; /* 0: not tried, 1: loaded, -1: failed */
  static char why[160];
  void *lib = NULL;
  size_t i;

  if (state == 0) {
    for (i = 0; lib == NULL && i < sizeof(names) / sizeof(names[0]); i++)
      lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
      const char *e = dlerror();
      snprintf(why, sizeof(why), "--pcap needs libpcap: %s",
               e != NULL ? e : "not found");
      state = -1;
    } else if (PL_SYM(open_dead, "pcap_open_dead") &&
               PL_SYM(dump_fopen, "pcap_dump_fopen") &&
               PL_SYM(geterr, "pcap_geterr") && PL_SYM(dump, "pcap_dump") &&
               PL_SYM(dump_close, "pcap_dump_close") &&
               PL_SYM(close, "pcap_close")) {
      state = 1; /* stays loaded: the table points into it */
    } else {
      snprintf(why, sizeof(why), "--pcap: the loaded libpcap lacks a symbol");
      memset(&pl, 0, sizeof(pl));
      dlclose(lib);
      state = -1;
    }
  }
  if (state < 0)
    snprintf(err, errlen, "%s", why);
  return state > 0 ? 0 : -1;
}

#define SNAPLEN 65535
/* IPv6 header + TCP header + 2-byte length + the largest packet */
#define FRAME_MAX (40 + 20 + 2 + 4096)

int cli_pcap_open(cli_pcap_t *pc, const char *path, const char *layer,
                  char *err, size_t errlen) {
  FILE *f;
  int fd;

  memset(pc, 0, sizeof(*pc));
  if (strcmp(layer, "wire") == 0) {
    pc->point = pc->taps = LVPN_TAP_WIRE;
  } else if (strcmp(layer, "control") == 0) {
    pc->point = LVPN_TAP_CONTROL;
    pc->taps = LVPN_TAP_CONTROL | LVPN_TAP_WIRE;
  } else if (strcmp(layer, "inside") == 0) {
    pc->point = pc->taps = LVPN_TAP_INSIDE;
  } else {
    snprintf(err, errlen,
             "--pcap-layer takes 'wire', 'control' or 'inside', not '%s'",
             layer);
    return -1;
  }
  pc->seq[0] = pc->seq[1] = 1;
  if (pl_load(err, errlen) != 0)
    return -1;
  pc->pcap = pl.open_dead(DLT_RAW, SNAPLEN);
  if (pc->pcap == NULL) {
    snprintf(err, errlen, "pcap_open_dead failed");
    return -1;
  }
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0 || (f = fdopen(fd, "wb")) == NULL) {
    snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    cli_pcap_close(pc);
    return -1;
  }
  pc->dumper = pl.dump_fopen(pc->pcap, f);
  if (pc->dumper == NULL) {
    snprintf(err, errlen, "%s: %s", path, pl.geterr(pc->pcap));
    fclose(f);
    cli_pcap_close(pc);
    return -1;
  }
  return 0;
}

static uint16_t ip4_checksum(const uint8_t *h, size_t n) {
  uint32_t sum = 0;
  size_t i;
  for (i = 0; i + 1 < n; i += 2)
    sum += (uint32_t)(h[i] << 8 | h[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

/* IP + UDP/TCP headers in front of a wire packet, addresses and ports of
 * the real link, source = whoever sent it. Returns the frame length. */
static size_t wire_frame(cli_pcap_t *pc, const lvpn_tap_pkt_t *pkt,
                         uint8_t *out) {
  const struct sockaddr *src = pkt->outbound ? pkt->local : pkt->remote;
  const struct sockaddr *dst = pkt->outbound ? pkt->remote : pkt->local;
  int v6 = pkt->remote != NULL && pkt->remote->sa_family == AF_INET6;
  size_t iph = v6 ? 40 : 20, l4 = pkt->tcp ? 20 : 8;
  size_t plen = pkt->len + (pkt->tcp ? 2 : 0), total = iph + l4 + plen;
  uint8_t *l4h = out + iph;
  uint16_t sport = 0, dport = 0;

  if (total > FRAME_MAX)
    return 0;
  memset(out, 0, iph + l4);
  if (v6) {
    out[0] = 0x60;
    put16(out + 4, (uint16_t)(l4 + plen));
    out[6] = pkt->tcp ? IPPROTO_TCP : IPPROTO_UDP;
    out[7] = 64;
    if (src != NULL && src->sa_family == AF_INET6)
      memcpy(out + 8, &((const struct sockaddr_in6 *)src)->sin6_addr, 16);
    if (dst != NULL && dst->sa_family == AF_INET6)
      memcpy(out + 24, &((const struct sockaddr_in6 *)dst)->sin6_addr, 16);
  } else {
    out[0] = 0x45;
    put16(out + 2, (uint16_t)total);
    out[8] = 64;
    out[9] = pkt->tcp ? IPPROTO_TCP : IPPROTO_UDP;
    if (src != NULL && src->sa_family == AF_INET)
      memcpy(out + 12, &((const struct sockaddr_in *)src)->sin_addr, 4);
    if (dst != NULL && dst->sa_family == AF_INET)
      memcpy(out + 16, &((const struct sockaddr_in *)dst)->sin_addr, 4);
    put16(out + 10, ip4_checksum(out, 20));
  }
  if (src != NULL)
    sport = ntohs(((const struct sockaddr_in *)src)->sin_port);
  if (dst != NULL)
    dport = ntohs(((const struct sockaddr_in *)dst)->sin_port);
  put16(l4h, sport);
  put16(l4h + 2, dport);
  if (pkt->tcp) {
    /* One segment per OpenVPN packet, with its 2-byte length; sequence
     * numbers count the bytes each side sent (checksum left 0). */
    int me = pkt->outbound ? 0 : 1;
    put32(l4h + 4, pc->seq[me]);
    put32(l4h + 8, pc->seq[!me]);
    l4h[12] = 5 << 4;
    l4h[13] = 0x18; /* PSH, ACK */
    put16(l4h + 14, 65535);
    pc->seq[me] += (uint32_t)plen;
    put16(l4h + l4, (uint16_t)pkt->len);
  } else {
    put16(l4h + 4, (uint16_t)(l4 + plen)); /* checksum left 0 */
  }
  memcpy(out + iph + l4 + (pkt->tcp ? 2 : 0), pkt->data, pkt->len);
  return total;
}

static void dump(cli_pcap_t *pc, const struct timeval *ts, const uint8_t *data,
                 size_t len) {
  struct pcap_pkthdr h;
  h.ts = *ts;
  h.caplen = h.len = (bpf_u_int32)len;
  if (h.caplen > SNAPLEN)
    h.caplen = SNAPLEN;
  pl.dump((u_char *)pc->dumper, &h, data);
  pc->packets++;
}

/* A control packet, framed with the link's addresses. */
static void dump_control(cli_pcap_t *pc, const struct timeval *ts, int outbound,
                         const uint8_t *data, size_t len) {
  static uint8_t frame[FRAME_MAX];
  lvpn_tap_pkt_t q;
  size_t n;
  memset(&q, 0, sizeof(q));
  q.point = LVPN_TAP_CONTROL;
  q.outbound = outbound;
  q.tcp = pc->tcp;
  q.local = (const struct sockaddr *)&pc->local;
  q.remote = (const struct sockaddr *)&pc->remote;
  q.data = data;
  q.len = len;
  if ((n = wire_frame(pc, &q, frame)) > 0)
    dump(pc, ts, frame, n);
}

static size_t sa_len(const struct sockaddr *sa) {
  return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                   : sizeof(struct sockaddr_in);
}

void cli_pcap_packet(void *ud, const lvpn_tap_pkt_t *pkt) {
  cli_pcap_t *pc = ud;
  static uint8_t frame[FRAME_MAX];
  struct timeval ts;
  int i;

  if (pc->dumper == NULL)
    return;
  gettimeofday(&ts, NULL);
  if (pc->point == LVPN_TAP_CONTROL && pkt->point == LVPN_TAP_WIRE) {
    if (pc->have_link || pkt->local == NULL || pkt->remote == NULL)
      return;
    memcpy(&pc->local, pkt->local, sa_len(pkt->local));
    memcpy(&pc->remote, pkt->remote, sa_len(pkt->remote));
    pc->tcp = pkt->tcp;
    pc->have_link = 1;
    for (i = 0; i < pc->npending; i++)
      dump_control(pc, &pc->pending[i].ts, pc->pending[i].outbound,
                   pc->pending[i].data, pc->pending[i].len);
    pc->npending = 0;
    return;
  }
  if (pkt->point != (int)pc->point)
    return;
  if (pkt->point == LVPN_TAP_CONTROL) {
    if (pc->have_link) {
      dump_control(pc, &ts, pkt->outbound, pkt->data, pkt->len);
    } else if (pc->npending < CLI_PCAP_PENDING &&
               pkt->len <= sizeof(pc->pending[0].data)) {
      pc->pending[pc->npending].ts = ts;
      pc->pending[pc->npending].outbound = pkt->outbound;
      pc->pending[pc->npending].len = pkt->len;
      memcpy(pc->pending[pc->npending].data, pkt->data, pkt->len);
      pc->npending++;
    }
    return;
  }
  if (pkt->point == LVPN_TAP_WIRE) {
    size_t n = wire_frame(pc, pkt, frame);
    if (n > 0)
      dump(pc, &ts, frame, n);
    return;
  }
  dump(pc, &ts, pkt->data, pkt->len);
}

int cli_pcap_hook_packet(void *ud, lvpn_client_t *c, lvpn_inside_dir_t dir,
                         lvpn_inside_pkt_t *pkt) {
  cli_pcap_t *pc = ud;
  struct timeval ts;
  (void)c;
  (void)dir;
  if (pc->dumper != NULL) {
    gettimeofday(&ts, NULL);
    dump(pc, &ts, pkt->data, pkt->len);
  }
  return LVPN_HOOK_PASS;
}

void cli_pcap_close(cli_pcap_t *pc) {
  if (pc->dumper != NULL)
    pl.dump_close(pc->dumper);
  if (pc->pcap != NULL)
    pl.close(pc->pcap);
  pc->dumper = pc->pcap = NULL;
}
