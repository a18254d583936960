/* rtnetlink requests over libmnl, with an undo journal. See netlink.h. */
#include "layers/tun/netlink.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "layervpn.h"
#include "lib/dl.h"

#define NL_LAYER "netlink"

/* libmnl is loaded on first use (dlopen), not linked: the first netlink
 * socket is opened in a wait of the handshake (lvpn__tun_layer_preopen) or
 * at the tun set-up, so a start does not pay for loading it before its
 * first packet. The calls go through this table; the macros keep their
 * libmnl names. */
#define MNL_SONAME "libmnl.so.0"

#define MNL_FUNCS(X)                                                           \
  X(nlmsg_put_header)                                                          \
  X(nlmsg_put_extra_header)                                                    \
  X(nlmsg_get_payload)                                                         \
  X(nlmsg_get_payload_len)                                                     \
  X(nlmsg_ok)                                                                  \
  X(nlmsg_next)                                                                \
  X(attr_put)                                                                  \
  X(attr_put_u32)                                                              \
  X(attr_put_strz)                                                             \
  X(attr_parse)                                                                \
  X(attr_validate)                                                             \
  X(attr_get_type)                                                             \
  X(attr_get_payload)                                                          \
  X(attr_get_payload_len)                                                      \
  X(attr_get_u32)                                                              \
  X(attr_get_str)                                                              \
  X(socket_open2)                                                              \
  X(socket_bind)                                                               \
  X(socket_setsockopt)                                                         \
  X(socket_get_portid)                                                         \
  X(socket_sendto)                                                             \
  X(socket_recvfrom)                                                           \
  X(socket_close)

#define MNL_FIELD(f) __typeof__(&mnl_##f) f;
static struct {
  MNL_FUNCS(MNL_FIELD)
} mnl;

/* the libmnl names, through the table (after the header's declarations) */
#define mnl_nlmsg_put_header (*mnl.nlmsg_put_header)
#define mnl_nlmsg_put_extra_header (*mnl.nlmsg_put_extra_header)
#define mnl_nlmsg_get_payload (*mnl.nlmsg_get_payload)
#define mnl_nlmsg_get_payload_len (*mnl.nlmsg_get_payload_len)
#define mnl_nlmsg_ok (*mnl.nlmsg_ok)
#define mnl_nlmsg_next (*mnl.nlmsg_next)
#define mnl_attr_put (*mnl.attr_put)
#define mnl_attr_put_u32 (*mnl.attr_put_u32)
#define mnl_attr_put_strz (*mnl.attr_put_strz)
#define mnl_attr_parse (*mnl.attr_parse)
#define mnl_attr_validate (*mnl.attr_validate)
#define mnl_attr_get_type (*mnl.attr_get_type)
#define mnl_attr_get_payload (*mnl.attr_get_payload)
#define mnl_attr_get_payload_len (*mnl.attr_get_payload_len)
#define mnl_attr_get_u32 (*mnl.attr_get_u32)
#define mnl_attr_get_str (*mnl.attr_get_str)
#define mnl_socket_open2 (*mnl.socket_open2)
#define mnl_socket_bind (*mnl.socket_bind)
#define mnl_socket_setsockopt (*mnl.socket_setsockopt)
#define mnl_socket_get_portid (*mnl.socket_get_portid)
#define mnl_socket_sendto (*mnl.socket_sendto)
#define mnl_socket_recvfrom (*mnl.socket_recvfrom)
#define mnl_socket_close (*mnl.socket_close)

#define MNL_SYM(f)                                                             \
  lvpn__dl_sym(lib, MNL_SONAME, "mnl_" #f, &mnl.f, sizeof(mnl.f), err,        \
               sizeof(err)) == 0 &&

/* 0, or -1 (once and for all) with the reason in `why` */
static int mnl_load(char *why, size_t len) {
  static int state; /* 0: not tried, 1: loaded, -1: failed */
  static char err[200];
  void *lib;
  if (state == 0) {
    state = -1;
    lib = lvpn__dl_open(MNL_SONAME, err, sizeof(err));
    if (lib != NULL && (MNL_FUNCS(MNL_SYM) 1))
      state = 1; /* stays loaded: the table points into it */
    else if (lib != NULL)
      dlclose(lib);
  }
  if (state < 0)
    snprintf(why, len, "%s", err);
  return state > 0 ? 0 : -1;
}

/* Called for every data message answering the current request. */
typedef int (*nl_data_cb)(const struct nlmsghdr *nlh, void *data);

/* ---- small helpers ---- */

const char *lvpn__ip4_str(uint32_t addr, char buf[16]) {
  snprintf(buf, 16, "%u.%u.%u.%u", (addr >> 24) & 0xff, (addr >> 16) & 0xff,
           (addr >> 8) & 0xff, addr & 0xff);
  return buf;
}

int lvpn__ip4_parse(const char *s, uint32_t *out) {
  struct in_addr a;
  if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
    return LVPN_EINVAL;
  *out = ntohl(a.s_addr);
  return 0;
}

int lvpn__netmask_to_prefix(uint32_t mask) {
  uint32_t inv = ~mask;
  /* contiguous ones followed by zeros <=> ~mask is 2^k - 1 */
  if ((inv & (inv + 1)) != 0)
    return LVPN_EINVAL;
  return 32 - __builtin_popcount(inv);
}

uint32_t lvpn__prefix_to_netmask(unsigned int prefixlen) {
  if (prefixlen == 0)
    return 0;
  if (prefixlen >= 32)
    return 0xffffffffu;
  return 0xffffffffu << (32 - prefixlen);
}

static void put4(uint8_t out[16], uint32_t host) {
  uint32_t be = htonl(host);
  memset(out, 0, 16);
  memcpy(out, &be, 4);
}

static size_t alen(int family) {
  return family == AF_INET ? 4 : 16;
}

static int is_zero(const uint8_t *a, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (a[i] != 0)
      return 0;
  return 1;
}

/* Clear the bits of `a` beyond `prefixlen` (routes want a clean network). */
static void clear_host_bits(uint8_t *a, size_t n, unsigned int prefixlen) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned int bit = (unsigned int)i * 8;
    if (bit >= prefixlen)
      a[i] = 0;
    else if (bit + 8 > prefixlen)
      a[i] &= (uint8_t)(0xff << (8 - (prefixlen - bit)));
  }
}

static void addr_str(int family, const uint8_t *a, char *buf, size_t len) {
  if (inet_ntop(family, a, buf, (socklen_t)len) == NULL)
    snprintf(buf, len, "?");
}

/* "tun0" for the texts, or "#7" when the index has no name (any more). */
static const char *dev_str(int ifindex, char buf[IF_NAMESIZE + 8]) {
  if (if_indextoname((unsigned int)ifindex, buf) == NULL)
    snprintf(buf, IF_NAMESIZE + 8, "#%d", ifindex);
  return buf;
}

static void set_err(lvpn__nl_t *nl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(lvpn__nl_t *nl, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(nl->err, sizeof(nl->err), fmt, ap);
  va_end(ap);
}

/* ---- request / answer ---- */

static struct nlmsghdr *nl_begin(lvpn__nl_t *nl, uint16_t type,
                                 uint16_t flags) {
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  nlh->nlmsg_seq = ++nl->seq;
  return nlh;
}

static int extack_cb(const struct nlattr *attr, void *data) {
  if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
      mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
    *(const char **)data = mnl_attr_get_str(attr);
  return MNL_CB_OK;
}

/* The kernel's extended-ack text of an error message, or NULL. */
static const char *extack_msg(const struct nlmsghdr *nlh) {
  const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
  const char *msg = NULL;
  size_t off = sizeof(*e);

  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
    return NULL;
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
    off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
  if (off >= mnl_nlmsg_get_payload_len(nlh))
    return NULL;
  mnl_attr_parse(nlh, (unsigned int)off, extack_cb, &msg);
  return msg;
}

/* Send the request in nl->buf and read answers until its ACK or error.
 * `what` names the request in error texts. */
static int nl_talk(lvpn__nl_t *nl, const char *what, nl_data_cb cb,
                   void *data) {
  struct nlmsghdr *req = (struct nlmsghdr *)nl->buf;
  unsigned int seq = req->nlmsg_seq;
  char ebuf[128];
  ssize_t n;

  nl->err[0] = '\0';
  if (nl->sock == NULL) {
    set_err(nl, "%s: netlink socket not open", what);
    return UV_EBADF;
  }
  if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0) {
    int e = errno;
    set_err(nl, "%s: send: %s", what, strerror_r(e, ebuf, sizeof(ebuf)));
    return -e;
  }
  for (;;) {
    const struct nlmsghdr *nlh;
    int left;

    n = mnl_socket_recvfrom(nl->sock, nl->buf, LVPN__NL_BUFSIZE);
    if (n < 0) {
      int e = errno;
      if (e == EINTR)
        continue;
      set_err(nl, "%s: receive: %s", what, strerror_r(e, ebuf, sizeof(ebuf)));
      return -e;
    }
    left = (int)n;
    for (nlh = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_seq != seq ||
          (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != nl->portid))
        continue; /* a late answer to an earlier request */
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        const char *kmsg;
        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
          set_err(nl, "%s: truncated netlink error", what);
          return UV_EPROTO;
        }
        if (e->error == 0)
          return 0;
        kmsg = extack_msg(nlh);
        if (kmsg != NULL && kmsg[0] != '\0')
          set_err(nl, "%s: %s (%s)", what,
                  strerror_r(-e->error, ebuf, sizeof(ebuf)), kmsg);
        else
          set_err(nl, "%s: %s", what,
                  strerror_r(-e->error, ebuf, sizeof(ebuf)));
        return e->error;
      }
      if (nlh->nlmsg_type == NLMSG_DONE)
        return 0;
      if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && cb != NULL) {
        int r = cb(nlh, data);
        if (r < 0)
          return r;
      }
    }
  }
}

/* ---- context ---- */

int lvpn__nl_open(lvpn__nl_t *nl, const lvpn__logger_t *log) {
  int one = 1;

  char why[200];

  memset(nl, 0, sizeof(*nl));
  nl->log = log;
  if (mnl_load(why, sizeof(why)) != 0) {
    set_err(nl, "netlink: %s", why);
    return -ELIBACC;
  }
  if ((nl->buf = calloc(1, LVPN__NL_BUFSIZE)) == NULL) {
    set_err(nl, "netlink: out of memory");
    return -ENOMEM;
  }
  nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl->sock == NULL) {
    int e = errno;
    char ebuf[128];
    set_err(nl, "netlink socket: %s", strerror_r(e, ebuf, sizeof(ebuf)));
    lvpn__nl_close(nl);
    return -e;
  }
  if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    char ebuf[128];
    set_err(nl, "netlink bind: %s", strerror_r(e, ebuf, sizeof(ebuf)));
    lvpn__nl_close(nl);
    return -e;
  }
  /* Best effort: readable kernel messages, and errors without the echo. */
  mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
  mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
  nl->portid = mnl_socket_get_portid(nl->sock);
  return 0;
}

void lvpn__nl_close(lvpn__nl_t *nl) {
  if (nl->sock != NULL)
    mnl_socket_close(nl->sock);
  nl->sock = NULL;
  free(nl->undo);
  nl->undo = NULL;
  nl->n_undo = nl->cap_undo = 0;
  free(nl->prev);
  free(nl->prev_kept);
  nl->prev = NULL;
  nl->prev_kept = NULL;
  nl->n_prev = 0;
  free(nl->buf);
  nl->buf = NULL;
}

const char *lvpn__nl_last_error(const lvpn__nl_t *nl) {
  return nl->err;
}

size_t lvpn__nl_undo_count(const lvpn__nl_t *nl) {
  return nl->n_undo;
}

/* ---- journal ---- */

static int journal_add(lvpn__nl_t *nl, const lvpn__nl_undo_t *u) {
  if (nl->n_undo == nl->cap_undo) {
    size_t cap = nl->cap_undo ? nl->cap_undo * 2 : 16;
    lvpn__nl_undo_t *v = realloc(nl->undo, cap * sizeof(*v));
    if (v == NULL)
      return LVPN_ENOMEM;
    nl->undo = v;
    nl->cap_undo = cap;
  }
  nl->undo[nl->n_undo++] = *u;
  return 0;
}

static void journal_drop(lvpn__nl_t *nl, const lvpn__nl_undo_t *u) {
  size_t i = nl->n_undo;
  while (i-- > 0) {
    if (memcmp(&nl->undo[i], u, sizeof(*u)) == 0) {
      memmove(&nl->undo[i], &nl->undo[i + 1],
              (nl->n_undo - i - 1) * sizeof(*u));
      nl->n_undo--;
      return;
    }
  }
}

/* ---- links ---- */

int lvpn__nl_ifindex(lvpn__nl_t *nl, const char *ifname) {
  unsigned int idx = if_nametoindex(ifname);
  if (idx == 0) {
    int e = errno ? errno : ENODEV;
    char ebuf[128];
    set_err(nl, "interface %s: %s", ifname, strerror_r(e, ebuf, sizeof(ebuf)));
    return -e;
  }
  return (int)idx;
}

static int link_change(lvpn__nl_t *nl, const char *ifname, unsigned int mtu,
                       int up, const char *what) {
  struct nlmsghdr *nlh;
  struct ifinfomsg *ifi;
  char desc[96];

  if (ifname == NULL || strlen(ifname) >= IFNAMSIZ)
    return LVPN_EINVAL;
  nlh = nl_begin(nl, RTM_NEWLINK, 0);
  ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  if (up) {
    ifi->ifi_change = IFF_UP;
    ifi->ifi_flags = IFF_UP;
  }
  mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
  if (mtu != 0)
    mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  snprintf(desc, sizeof(desc), "RTM_NEWLINK %s %s", ifname, what);
  LVPN__LOG(nl->log, LVPN_LOG_VERBOSE, NL_LAYER, "%s", desc);
  return nl_talk(nl, desc, NULL, NULL);
}

int lvpn__nl_set_mtu(lvpn__nl_t *nl, const char *ifname, unsigned int mtu) {
  char what[24];
  if (mtu == 0)
    return LVPN_EINVAL;
  snprintf(what, sizeof(what), "mtu %u", mtu);
  return link_change(nl, ifname, mtu, 0, what);
}

int lvpn__nl_link_up(lvpn__nl_t *nl, const char *ifname) {
  return link_change(nl, ifname, 0, 1, "up");
}

int lvpn__nl_link_up_mtu(lvpn__nl_t *nl, const char *ifname, unsigned int mtu) {
  char what[32];
  if (mtu == 0)
    return lvpn__nl_link_up(nl, ifname);
  snprintf(what, sizeof(what), "mtu %u up", mtu);
  return link_change(nl, ifname, mtu, 1, what);
}

/* ---- journaled changes ---- */

static int addr_req(lvpn__nl_t *nl, uint16_t cmd, const lvpn__nl_undo_t *u);
static int route_req(lvpn__nl_t *nl, uint16_t cmd, const lvpn__nl_undo_t *u);

/* Adds (add != 0) or deletes the address or route that `u` describes. */
static int undo_req(lvpn__nl_t *nl, const lvpn__nl_undo_t *u, int add) {
  if (u->kind == LVPN__NL_UNDO_ADDR)
    return addr_req(nl, add ? RTM_NEWADDR : RTM_DELADDR, u);
  return route_req(nl, add ? RTM_NEWROUTE : RTM_DELROUTE, u);
}

/* Applies one change and keeps the journal in step: an added address or
 * route is journaled so close() can undo it; one that cannot be journaled
 * is removed again rather than left behind. */
static int journaled_change(lvpn__nl_t *nl, const lvpn__nl_undo_t *u,
                            int add) {
  int r = undo_req(nl, u, add);
  size_t i;
  if (r == UV_EEXIST && add) {
    /* replacing: an object of the previous set is still wanted */
    for (i = 0; i < nl->n_prev; i++)
      if (!nl->prev_kept[i] && memcmp(&nl->prev[i], u, sizeof(*u)) == 0) {
        if (journal_add(nl, u) != 0)
          return LVPN_ENOMEM;
        nl->prev_kept[i] = 1;
        break;
      }
    return r;
  }
  if (r != 0)
    return r;
  if (!add) {
    journal_drop(nl, u);
    return 0;
  }
  if (journal_add(nl, u) != 0) {
    undo_req(nl, u, 0);
    return LVPN_ENOMEM;
  }
  return 0;
}

/* ---- addresses ---- */

static int addr_req(lvpn__nl_t *nl, uint16_t cmd, const lvpn__nl_undo_t *u) {
  struct nlmsghdr *nlh;
  struct ifaddrmsg *ifa;
  size_t n = alen(u->family);
  char a[INET6_ADDRSTRLEN], p[INET6_ADDRSTRLEN], desc[160];
  char dev[IF_NAMESIZE + 8];

  nlh = nl_begin(nl, cmd, cmd == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
  ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
  ifa->ifa_family = u->family;
  ifa->ifa_prefixlen = u->prefixlen;
  ifa->ifa_index = (unsigned int)u->ifindex;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  mnl_attr_put(nlh, IFA_LOCAL, n, u->addr);
  mnl_attr_put(nlh, IFA_ADDRESS, n, u->has_other ? u->other : u->addr);
  if (u->family == AF_INET && !u->has_other && u->prefixlen <= 30 &&
      cmd == RTM_NEWADDR) {
    uint32_t local, bcast;
    memcpy(&local, u->addr, 4);
    bcast = htonl(ntohl(local) | ~lvpn__prefix_to_netmask(u->prefixlen));
    mnl_attr_put(nlh, IFA_BROADCAST, 4, &bcast);
  }
  addr_str(u->family, u->addr, a, sizeof(a));
  if (u->has_other) {
    addr_str(u->family, u->other, p, sizeof(p));
    snprintf(desc, sizeof(desc), "%s %s peer %s/%u dev %s",
             cmd == RTM_NEWADDR ? "RTM_NEWADDR" : "RTM_DELADDR", a, p,
             u->prefixlen, dev_str(u->ifindex, dev));
  } else {
    snprintf(desc, sizeof(desc), "%s %s/%u dev %s",
             cmd == RTM_NEWADDR ? "RTM_NEWADDR" : "RTM_DELADDR", a,
             u->prefixlen, dev_str(u->ifindex, dev));
  }
  LVPN__LOG(nl->log, LVPN_LOG_VERBOSE, NL_LAYER, "%s", desc);
  return nl_talk(nl, desc, NULL, NULL);
}

static int addr_do(lvpn__nl_t *nl, int add, int family, int ifindex,
                   const uint8_t *addr, unsigned int prefixlen,
                   const uint8_t *peer) {
  lvpn__nl_undo_t u;

  if (ifindex <= 0 || prefixlen > alen(family) * 8)
    return LVPN_EINVAL;
  memset(&u, 0, sizeof(u));
  u.kind = LVPN__NL_UNDO_ADDR;
  u.family = (uint8_t)family;
  u.prefixlen = (uint8_t)prefixlen;
  u.ifindex = ifindex;
  memcpy(u.addr, addr, alen(family));
  if (peer != NULL && !is_zero(peer, alen(family))) {
    u.has_other = 1;
    memcpy(u.other, peer, alen(family));
  }
  return journaled_change(nl, &u, add);
}

int lvpn__nl_addr_add4(lvpn__nl_t *nl, int ifindex, uint32_t addr,
                       unsigned int prefixlen, uint32_t peer) {
  uint8_t a[16], p[16];
  put4(a, addr);
  put4(p, peer);
  return addr_do(nl, 1, AF_INET, ifindex, a, prefixlen, p);
}

int lvpn__nl_addr_del4(lvpn__nl_t *nl, int ifindex, uint32_t addr,
                       unsigned int prefixlen, uint32_t peer) {
  uint8_t a[16], p[16];
  put4(a, addr);
  put4(p, peer);
  return addr_do(nl, 0, AF_INET, ifindex, a, prefixlen, p);
}

int lvpn__nl_addr_add6(lvpn__nl_t *nl, int ifindex, const uint8_t addr[16],
                       unsigned int prefixlen) {
  return addr_do(nl, 1, AF_INET6, ifindex, addr, prefixlen, NULL);
}

int lvpn__nl_addr_del6(lvpn__nl_t *nl, int ifindex, const uint8_t addr[16],
                       unsigned int prefixlen) {
  return addr_do(nl, 0, AF_INET6, ifindex, addr, prefixlen, NULL);
}

/* ---- routes ---- */

static int route_req(lvpn__nl_t *nl, uint16_t cmd, const lvpn__nl_undo_t *u) {
  struct nlmsghdr *nlh;
  struct rtmsg *rtm;
  size_t n = alen(u->family);
  char d[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], desc[192];
  char dev[IF_NAMESIZE + 8];
  int len;

  nlh = nl_begin(nl, cmd, cmd == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0);
  rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
  rtm->rtm_family = u->family;
  rtm->rtm_dst_len = u->prefixlen;
  rtm->rtm_table = RT_TABLE_MAIN;
  if (cmd == RTM_NEWROUTE) {
    rtm->rtm_protocol = RTPROT_BOOT;
    rtm->rtm_type = RTN_UNICAST;
    rtm->rtm_scope = (u->has_other || u->family == AF_INET6) ? RT_SCOPE_UNIVERSE
                                                             : RT_SCOPE_LINK;
  } else {
    rtm->rtm_scope = RT_SCOPE_NOWHERE;
  }
  mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
  mnl_attr_put(nlh, RTA_DST, n, u->addr);
  if (u->has_other)
    mnl_attr_put(nlh, RTA_GATEWAY, n, u->other);
  if (u->ifindex > 0)
    mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)u->ifindex);
  if (u->metric != 0)
    mnl_attr_put_u32(nlh, RTA_PRIORITY, u->metric);

  addr_str(u->family, u->addr, d, sizeof(d));
  len = snprintf(desc, sizeof(desc), "%s %s/%u",
                 cmd == RTM_NEWROUTE ? "RTM_NEWROUTE" : "RTM_DELROUTE", d,
                 u->prefixlen);
  if (u->has_other) {
    addr_str(u->family, u->other, g, sizeof(g));
    len += snprintf(desc + len, sizeof(desc) - (size_t)len, " via %s", g);
  }
  if (u->ifindex > 0 && (size_t)len < sizeof(desc))
    len += snprintf(desc + len, sizeof(desc) - (size_t)len, " dev %s",
                    dev_str(u->ifindex, dev));
  if (u->metric != 0 && (size_t)len < sizeof(desc))
    snprintf(desc + len, sizeof(desc) - (size_t)len, " metric %u", u->metric);
  LVPN__LOG(nl->log, LVPN_LOG_VERBOSE, NL_LAYER, "%s", desc);
  return nl_talk(nl, desc, NULL, NULL);
}

static int route_do(lvpn__nl_t *nl, int add, int family, const uint8_t *dst,
                    unsigned int prefixlen, const uint8_t *gw, int ifindex,
                    uint32_t metric) {
  lvpn__nl_undo_t u;

  if (prefixlen > alen(family) * 8 || ifindex < 0)
    return LVPN_EINVAL;
  memset(&u, 0, sizeof(u));
  u.kind = LVPN__NL_UNDO_ROUTE;
  u.family = (uint8_t)family;
  u.prefixlen = (uint8_t)prefixlen;
  u.ifindex = ifindex;
  u.metric = metric;
  memcpy(u.addr, dst, alen(family));
  clear_host_bits(u.addr, alen(family), prefixlen);
  if (gw != NULL && !is_zero(gw, alen(family))) {
    u.has_other = 1;
    memcpy(u.other, gw, alen(family));
  }
  if (!u.has_other && ifindex == 0)
    return LVPN_EINVAL; /* neither a gateway nor a device */
  return journaled_change(nl, &u, add);
}

int lvpn__nl_route_add4(lvpn__nl_t *nl, uint32_t dst, unsigned int prefixlen,
                        uint32_t gateway, int ifindex, uint32_t metric) {
  uint8_t d[16], g[16];
  put4(d, dst);
  put4(g, gateway);
  return route_do(nl, 1, AF_INET, d, prefixlen, g, ifindex, metric);
}

int lvpn__nl_route_del4(lvpn__nl_t *nl, uint32_t dst, unsigned int prefixlen,
                        uint32_t gateway, int ifindex, uint32_t metric) {
  uint8_t d[16], g[16];
  put4(d, dst);
  put4(g, gateway);
  return route_do(nl, 0, AF_INET, d, prefixlen, g, ifindex, metric);
}

int lvpn__nl_route_add6(lvpn__nl_t *nl, const uint8_t dst[16],
                        unsigned int prefixlen, const uint8_t *gateway,
                        int ifindex, uint32_t metric) {
  return route_do(nl, 1, AF_INET6, dst, prefixlen, gateway, ifindex, metric);
}

int lvpn__nl_route_del6(lvpn__nl_t *nl, const uint8_t dst[16],
                        unsigned int prefixlen, const uint8_t *gateway,
                        int ifindex, uint32_t metric) {
  return route_do(nl, 0, AF_INET6, dst, prefixlen, gateway, ifindex, metric);
}

/* What one RTM_NEWROUTE answer says; filled by route_attr. */
typedef struct {
  uint32_t gateway; /* network order */
  uint8_t gateway6[16];
  int has_gateway6;
  int ifindex;
  uint32_t metric;
  int found;
} route_info_t;

static int route_attr(const struct nlattr *attr, void *data) {
  route_info_t *ri = data;
  switch (mnl_attr_get_type(attr)) {
  case RTA_GATEWAY:
    if (mnl_attr_get_payload_len(attr) == 4)
      memcpy(&ri->gateway, mnl_attr_get_payload(attr), 4);
    if (mnl_attr_get_payload_len(attr) == 16) {
      memcpy(ri->gateway6, mnl_attr_get_payload(attr), 16);
      ri->has_gateway6 = 1;
    }
    break;
  case RTA_OIF:
    if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
      ri->ifindex = (int)mnl_attr_get_u32(attr);
    break;
  case RTA_PRIORITY:
    if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
      ri->metric = mnl_attr_get_u32(attr);
    break;
  default:
    break;
  }
  return MNL_CB_OK;
}

static int route_get_cb(const struct nlmsghdr *nlh, void *data) {
  route_info_t *ri = data;
  if (nlh->nlmsg_type != RTM_NEWROUTE ||
      mnl_nlmsg_get_payload_len(nlh) < sizeof(struct rtmsg))
    return 0;
  ri->found = 1;
  mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr, ri);
  return 0;
}

/* Asks the kernel which route it would use for one host address. */
static int route_get(lvpn__nl_t *nl, int family, const void *dst,
                     const char *dst_str, route_info_t *ri) {
  struct nlmsghdr *nlh;
  struct rtmsg *rtm;
  size_t alen = family == AF_INET ? 4 : 16;
  char desc[80];
  int r;

  nlh = nl_begin(nl, RTM_GETROUTE, 0);
  rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
  rtm->rtm_family = (unsigned char)family;
  rtm->rtm_dst_len = (unsigned char)(alen * 8);
  mnl_attr_put(nlh, RTA_DST, alen, dst);
  snprintf(desc, sizeof(desc), "RTM_GETROUTE %s", dst_str);
  memset(ri, 0, sizeof(*ri));
  r = nl_talk(nl, desc, route_get_cb, ri);
  if (r < 0)
    return r;
  if (!ri->found) {
    set_err(nl, "%s: no answer", desc);
    return UV_ENETUNREACH;
  }
  return 0;
}

int lvpn__nl_route_get4(lvpn__nl_t *nl, uint32_t dst, uint32_t *gateway,
                        int *ifindex) {
  route_info_t ri;
  uint32_t be = htonl(dst);
  char d[16];
  int r = route_get(nl, AF_INET, &be, lvpn__ip4_str(dst, d), &ri);
  if (r < 0)
    return r;
  *gateway = ntohl(ri.gateway);
  *ifindex = ri.ifindex;
  return 0;
}

/* Keeps the main table's default route with the lowest metric. */
static int route_default_cb(const struct nlmsghdr *nlh, void *data) {
  route_info_t *best = data, ri;
  const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
  if (nlh->nlmsg_type != RTM_NEWROUTE ||
      mnl_nlmsg_get_payload_len(nlh) < sizeof(struct rtmsg) ||
      rtm->rtm_dst_len != 0 || rtm->rtm_table != RT_TABLE_MAIN ||
      rtm->rtm_type != RTN_UNICAST)
    return 0;
  memset(&ri, 0, sizeof(ri));
  mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr, &ri);
  if (ri.ifindex != 0 && (!best->found || ri.metric < best->metric)) {
    *best = ri;
    best->found = 1;
  }
  return 0;
}

int lvpn__nl_route_default4(lvpn__nl_t *nl, uint32_t *gateway, int *ifindex) {
  struct nlmsghdr *nlh;
  struct rtmsg *rtm;
  route_info_t best;
  int r;

  nlh = nl_begin(nl, RTM_GETROUTE, NLM_F_DUMP);
  rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
  rtm->rtm_family = AF_INET;
  memset(&best, 0, sizeof(best));
  r = nl_talk(nl, "RTM_GETROUTE default", route_default_cb, &best);
  if (r < 0)
    return r;
  if (!best.found) {
    set_err(nl, "no IPv4 default route");
    return UV_ENETUNREACH;
  }
  *gateway = ntohl(best.gateway);
  *ifindex = best.ifindex;
  return 0;
}

typedef struct {
  int ifindex;
  uint32_t addr; /* host order: the address the subnet must hold */
  int prefixlen; /* -1 until found */
} subnet_find_t;

static int subnet_attr(const struct nlattr *attr, void *data) {
  uint32_t *local = data;
  if (mnl_attr_get_type(attr) == IFA_LOCAL &&
      mnl_attr_get_payload_len(attr) == 4)
    memcpy(local, mnl_attr_get_payload(attr), 4);
  return MNL_CB_OK;
}

/* The first IPv4 address of the interface whose subnet holds sf->addr. */
static int subnet_cb(const struct nlmsghdr *nlh, void *data) {
  subnet_find_t *sf = data;
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
  uint32_t local = 0, mask;
  if (sf->prefixlen >= 0 || nlh->nlmsg_type != RTM_NEWADDR ||
      mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
      ifa->ifa_family != AF_INET || (int)ifa->ifa_index != sf->ifindex ||
      ifa->ifa_prefixlen > 32)
    return 0;
  mnl_attr_parse(nlh, sizeof(*ifa), subnet_attr, &local);
  local = ntohl(local);
  mask = ifa->ifa_prefixlen == 0 ? 0 : ~0u << (32 - ifa->ifa_prefixlen);
  if (local != 0 && ((local ^ sf->addr) & mask) == 0)
    sf->prefixlen = ifa->ifa_prefixlen;
  return 0;
}

int lvpn__nl_addr_subnet4(lvpn__nl_t *nl, int ifindex, uint32_t addr,
                          unsigned int *prefixlen) {
  struct nlmsghdr *nlh;
  struct ifaddrmsg *ifa;
  subnet_find_t sf = {ifindex, addr, -1};
  char a[16], d[IF_NAMESIZE + 8];
  int r;

  nlh = nl_begin(nl, RTM_GETADDR, NLM_F_DUMP);
  ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
  ifa->ifa_family = AF_INET;
  r = nl_talk(nl, "RTM_GETADDR", subnet_cb, &sf);
  if (r < 0)
    return r;
  if (sf.prefixlen < 0) {
    set_err(nl, "no IPv4 address of %s holds %s", dev_str(ifindex, d),
            lvpn__ip4_str(addr, a));
    return UV_ENOENT;
  }
  *prefixlen = (unsigned int)sf.prefixlen;
  return 0;
}

int lvpn__nl_route_get6(lvpn__nl_t *nl, const uint8_t dst[16],
                        uint8_t gateway[16], int *has_gateway, int *ifindex) {
  route_info_t ri;
  char d[INET6_ADDRSTRLEN];
  int r;

  if (inet_ntop(AF_INET6, dst, d, sizeof(d)) == NULL)
    snprintf(d, sizeof(d), "?");
  r = route_get(nl, AF_INET6, dst, d, &ri);
  if (r < 0)
    return r;
  memcpy(gateway, ri.gateway6, 16);
  *has_gateway = ri.has_gateway6;
  *ifindex = ri.ifindex;
  return 0;
}

/* ---- undo ---- */

static int gone(int err) {
  return err == -ENOENT || err == -ESRCH || err == -ENODEV ||
         err == -EADDRNOTAVAIL;
}

int lvpn__nl_replace_begin(lvpn__nl_t *nl) {
  lvpn__nl_replace_end(nl); /* an unfinished replacement */
  nl->prev_kept = calloc(nl->n_undo > 0 ? nl->n_undo : 1, 1);
  if (nl->prev_kept == NULL)
    return LVPN_ENOMEM;
  nl->prev = nl->undo;
  nl->n_prev = nl->n_undo;
  nl->undo = NULL;
  nl->n_undo = nl->cap_undo = 0;
  return 0;
}

int lvpn__nl_replace_end(lvpn__nl_t *nl) {
  int first = 0;
  char saved[LVPN__NL_ERRLEN] = "";

  while (nl->n_prev > 0) {
    size_t i = --nl->n_prev;
    int r;
    if (nl->prev_kept[i])
      continue;
    r = undo_req(nl, &nl->prev[i], 0);
    if (r < 0 && !gone(r) && first == 0) {
      first = r;
      memcpy(saved, nl->err, sizeof(saved));
    }
  }
  free(nl->prev);
  free(nl->prev_kept);
  nl->prev = NULL;
  nl->prev_kept = NULL;
  if (first != 0)
    memcpy(nl->err, saved, sizeof(saved));
  return first;
}

int lvpn__nl_undo_all(lvpn__nl_t *nl) {
  int first = 0;
  char saved[LVPN__NL_ERRLEN] = "";

  while (nl->n_undo > 0) {
    lvpn__nl_undo_t u = nl->undo[--nl->n_undo];
    int r = undo_req(nl, &u, 0);
    if (r < 0 && !gone(r) && first == 0) {
      first = r;
      memcpy(saved, nl->err, sizeof(saved));
    }
  }
  memcpy(nl->err, saved, sizeof(saved));
  return first;
}
