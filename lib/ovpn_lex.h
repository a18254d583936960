/* OpenVPN option syntax shared by the config loader and the PUSH_REPLY
 * parser: the word splitter of OpenVPN's parse_line() and the value parsers
 * for options that both a config file and a server may give (route,
 * route-ipv6, redirect-gateway, dhcp-option, compression).
 *
 * Nothing here allocates: the splitter works in place and the value parsers
 * fill caller-owned structs. Errors are short texts ("no closing quotation")
 * written to a caller buffer; the caller adds the "file:line: " prefix.
 */
#ifndef LVPN_LIB_OVPN_LEX_H
#define LVPN_LIB_OVPN_LEX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LVPN__LEX_MAX_WORDS 256  /* words per line */
#define LVPN__LEX_MAX_LINE 65536 /* bytes per line */

/* Split `line` (NUL-terminated) into words, in place, like OpenVPN:
 * whitespace separates words; '#' or ';' at the start of a word begins a
 * comment; "double" and 'single' quotes group words; a backslash escapes
 * '\\', '"' or whitespace outside single quotes (any other escape is an
 * error). `words` receives up to LVPN__LEX_MAX_WORDS pointers into `line`
 * followed by NULL, so it needs LVPN__LEX_MAX_WORDS + 1 slots.
 * Returns the word count (0 for a blank or comment line) or -1 with a
 * message in `err`. */
int lvpn__lex_split(char *line, char **words, char *err, size_t errlen);

/* Logical entries of a config text: one option line, or an inline block
 * "<tag>" ... "</tag>" (content kept verbatim, end tag matched after leading
 * whitespace as OpenVPN does). The reader NUL-terminates option lines inside
 * `buf` and splits them in place; block content is left untouched. */
typedef struct {
  char *buf; /* whole text, NUL-terminated, owned by the caller */
  size_t len, pos;
  int line; /* 1-based line of the entry last returned */
  int next_line;
} lvpn__lex_reader_t;

void lvpn__lex_reader_init(lvpn__lex_reader_t *r, char *buf, size_t len);
/* Next entry: returns the word count (>= 1) with `words` filled (as
 * lvpn__lex_split) and, for an inline block, words[0] = the tag name and
 * `*inl`/`*inl_len` set to its content (else *inl = NULL); 0 at the end;
 * -1 with `err` (line too long, NUL byte, missing end tag, ...). */
int lvpn__lex_next(lvpn__lex_reader_t *r, char **words, const char **inl,
                   size_t *inl_len, char *err, size_t errlen);

/* Reads a whole file of at most `max` bytes into a NUL-terminated heap
 * buffer. Returns 0 or an errno value (EFBIG when larger than `max`). */
int lvpn__lex_slurp(const char *path, size_t max, char **out, size_t *len);

/* Strict decimal number in [lo, hi]; no sign, no spaces. 0 or -1. */
int lvpn__lex_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* Strict signed decimal in [lo, hi]. 0 or -1. */
int lvpn__lex_int(const char *s, long lo, long hi, long *out);
/* Dotted-quad IPv4 address. 0 or -1. */
int lvpn__lex_ipv4(const char *s, struct in_addr *out);
/* IPv6 address with an optional "/bits" (bits = 128 when absent). */
int lvpn__lex_ipv6(const char *s, struct in6_addr *out, unsigned *bits);
/* Case-insensitive keyword lookup: index of `s` in the NULL-terminated
 * `names`, or -1. */
int lvpn__lex_keyword(const char *s, const char *const *names);

/* ---- route N [M [G [metric]]] ---- */
typedef enum {
  LVPN__GW_DEFAULT = 0, /* absent or "default": route-gateway / net30 peer */
  LVPN__GW_ADDR,        /* literal address in `gateway` */
  LVPN__GW_VPN,         /* "vpn_gateway" */
  LVPN__GW_NET,         /* "net_gateway": the pre-VPN default gateway */
  LVPN__GW_REMOTE,      /* "remote_host": the server's address */
  LVPN__GW_NAME         /* a host name, resolved when the routes are set */
} lvpn__gw_kind_t;

typedef struct {
  struct in_addr net;  /* valid when net_kind == LVPN__GW_ADDR */
  uint8_t net_kind;    /* ADDR, or VPN/NET/REMOTE for a keyword network */
  struct in_addr mask; /* 255.255.255.255 when absent */
  struct in_addr gateway;
  uint8_t gw_kind; /* lvpn__gw_kind_t */
  bool has_metric;
  uint32_t metric;
  /* LVPN__GW_NAME network / gateway: 1-based index of the host name in the
   * config's route_names (config routes only; 0: none) */
  uint16_t net_name, gw_name;
} lvpn__route4_t;

typedef struct {
  struct in6_addr net;
  uint8_t bits;     /* prefix length, 128 when absent */
  bool has_gateway; /* false: the ifconfig-ipv6 remote */
  struct in6_addr gateway;
  bool has_metric;
  uint32_t metric;
} lvpn__route6_t;

/* `args` are the words after the option name, `n` of them. 0 or -1+err. */
int lvpn__route4_parse(char *const *args, int n, lvpn__route4_t *r, char *err,
                       size_t errlen);
int lvpn__route6_parse(char *const *args, int n, lvpn__route6_t *r, char *err,
                       size_t errlen);
/* A word that can only be a host name: letters, digits, '-', '_' and '.',
 * at least one letter, at most 253 characters (an address or a route
 * keyword is not one). */
bool lvpn__lex_is_hostname(const char *s);

/* ---- redirect-gateway / redirect-private flags ---- */
enum {
  LVPN__RG_ENABLE = 1 << 0, /* option present (IPv4 redirect unless !ipv4) */
  LVPN__RG_DEF1 = 1 << 1,
  LVPN__RG_BYPASS_DHCP = 1 << 2,
  LVPN__RG_BYPASS_DNS = 1 << 3,
  LVPN__RG_LOCAL = 1 << 4,
  LVPN__RG_AUTOLOCAL = 1 << 5,
  LVPN__RG_BLOCK_LOCAL = 1 << 6,
  LVPN__RG_IPV6 = 1 << 7,
  LVPN__RG_NO_IPV4 = 1 << 8 /* "!ipv4" */
};
/* Returns the flags (with LVPN__RG_ENABLE) or -1 + err for an unknown one. */
int lvpn__redirect_parse(char *const *args, int n, char *err, size_t errlen);

/* ---- dhcp-option TYPE [VALUE] ---- */
#define LVPN__DHCP_MAX 64
#define LVPN__DHCP_VALUE_MAX 256
typedef enum {
  LVPN__DHCP_OTHER = 0, /* kept by name: exported, never interpreted */
  LVPN__DHCP_DNS,       /* IPv4 or IPv6 address (OpenVPN accepts both) */
  LVPN__DHCP_DNS6,
  LVPN__DHCP_DOMAIN,
  LVPN__DHCP_DOMAIN_SEARCH,
  LVPN__DHCP_ADAPTER_DOMAIN_SUFFIX,
  LVPN__DHCP_NTP,
  LVPN__DHCP_WINS,
  LVPN__DHCP_NBDD,
  LVPN__DHCP_NBT,
  LVPN__DHCP_NBS,
  LVPN__DHCP_DISABLE_NBT
} lvpn__dhcp_type_t;

typedef struct {
  uint8_t type;                     /* lvpn__dhcp_type_t */
  char name[32];                    /* as given ("DNS", "PROXY_HTTP") */
  char value[LVPN__DHCP_VALUE_MAX]; /* "" when the type takes none */
} lvpn__dhcp_opt_t;

int lvpn__dhcp_parse(char *const *args, int n, lvpn__dhcp_opt_t *o, char *err,
                     size_t errlen);

/* ---- compression framing (protocol doc §6.5) ---- */
#include "lib/comp.h" /* lvpn__comp_t, shared with the datachannel */

/* `comp-lzo [yes|no|adaptive]` (lzo = true) or `compress [alg]`.
 * Returns an lvpn__comp_t or -1 + err for an unknown argument. */
int lvpn__comp_parse(bool lzo, char *const *args, int n, char *err,
                     size_t errlen);
/* "stub-v2", "lzo", ...: how the option named it, for messages. */
const char *lvpn__comp_name(int comp);

#endif
