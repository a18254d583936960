/* The loop-free half of `layervpn socks`: SOCKS5 (RFC 1928, RFC 1929) and
 * HTTP CONNECT request parsing, replies, the --auth file, and the DNS
 * query/answer codec used to resolve names through the tunnel. Every parser
 * takes untrusted bytes and a length, never reads past them, and returns
 * SP_MORE (need more bytes), the bytes consumed (> 0), or a negative SP_E*
 * code naming the problem (sp_strerror). The lwIP and libuv glue is in
 * cmd/socks.c. */
#ifndef LVPN_CMD_SOCKS_PROTO_H
#define LVPN_CMD_SOCKS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define SP_MORE 0
#define SP_EVERSION (-1)  /* not SOCKS version 5 / not HTTP CONNECT */
#define SP_EMETHOD (-2)   /* no acceptable authentication method */
#define SP_ECMD (-3)      /* command other than CONNECT / UDP ASSOCIATE */
#define SP_EATYP (-4)     /* unknown address type */
#define SP_EHOST (-5)     /* empty or malformed host name / address */
#define SP_EPORT (-6)     /* port 0 or malformed */
#define SP_ETOOLONG (-7)  /* request larger than SP_HTTP_MAX */
#define SP_EAUTH (-8)     /* malformed username/password message */
#define SP_EMALFORMED (-9) /* other syntax error */

#define SP_HTTP_MAX 8192  /* request line + headers */
#define SP_NAME_MAX 255   /* SOCKS5 ATYP 3 limit, and DNS's */

/* SOCKS5 commands and reply codes (RFC 1928 section 6). */
#define SP_CMD_CONNECT 1
#define SP_CMD_BIND 2
#define SP_CMD_UDP_ASSOCIATE 3
#define SP_REP_OK 0x00
#define SP_REP_FAILURE 0x01
#define SP_REP_NOT_ALLOWED 0x02
#define SP_REP_NET_UNREACH 0x03
#define SP_REP_HOST_UNREACH 0x04
#define SP_REP_REFUSED 0x05
#define SP_REP_TTL 0x06
#define SP_REP_CMD_UNSUPPORTED 0x07
#define SP_REP_ATYP_UNSUPPORTED 0x08

#define SP_ATYP_IPV4 1
#define SP_ATYP_NAME 3
#define SP_ATYP_IPV6 4

typedef struct {
  uint8_t cmd;  /* SP_CMD_* (HTTP CONNECT: SP_CMD_CONNECT) */
  uint8_t atyp; /* SP_ATYP_* */
  uint8_t addr[16]; /* IPv4 in the first 4 bytes, network byte order */
  char host[SP_NAME_MAX + 1]; /* ATYP 3: the name, NUL-terminated */
  uint16_t port;              /* host byte order, never 0 */
  /* HTTP CONNECT only: Proxy-Authorization Basic credentials, if any */
  int has_auth;
  char user[256], pass[256];
} sp_request_t;

const char *sp_strerror(int code);

/* Greeting: VER NMETHODS METHODS. Sets *methods: bit 0 no-auth offered,
 * bit 1 username/password offered. */
int sp_socks5_greeting(const uint8_t *b, size_t n, unsigned *methods);
/* RFC 1929 username/password sub-negotiation (VER 1 ULEN UNAME PLEN PASSWD). */
int sp_socks5_userpass(const uint8_t *b, size_t n, char user[256],
                       char pass[256]);
/* Request: VER CMD RSV ATYP DST.ADDR DST.PORT. BIND is SP_ECMD; UDP
 * ASSOCIATE parses (the caller decides). */
int sp_socks5_request(const uint8_t *b, size_t n, sp_request_t *r);
/* A reply with BND.ADDR an IPv4 address (network byte order) and port (host
 * order) into out (10 bytes); returns 10. */
size_t sp_socks5_reply(uint8_t out[10], uint8_t rep, uint32_t addr,
                       uint16_t port);
/* The same with an IPv6 BND.ADDR (16 bytes) into out (22 bytes); returns 22. */
size_t sp_socks5_reply6(uint8_t out[22], uint8_t rep, const uint8_t addr[16],
                        uint16_t port);
/* A UDP ASSOCIATE datagram's header (RSV RSV FRAG ATYP DST.ADDR DST.PORT):
 * its length, or SP_EMALFORMED (short, reserved bytes set, or a fragment:
 * FRAG != 0, which we drop as RFC 1928 allows), SP_EATYP, SP_EHOST, SP_EPORT. */
int sp_socks5_udp_header(const uint8_t *b, size_t n, sp_request_t *r);
/* The header for a datagram from IPv4 addr (network order) / port (host
 * order) into out (10 bytes); returns 10. */
size_t sp_socks5_udp_build(uint8_t out[10], uint32_t addr, uint16_t port);
/* The same for an IPv6 source (22 bytes); returns 22. */
size_t sp_socks5_udp_build6(uint8_t out[22], const uint8_t addr[16],
                            uint16_t port);
/* The SOCKS5 reply code for a parser error. */
uint8_t sp_socks5_rep_for(int err);

/* "CONNECT host:port HTTP/1.x" + headers + empty line. host is a name, an
 * IPv4 literal or a bracketed IPv6 literal. Returns the header length. */
int sp_http_connect(const uint8_t *b, size_t n, sp_request_t *r);

/* --auth FILE contents: "user:password" lines, '#' comments, blank lines.
 * Returns 1 when user/pass match a line, 0 otherwise (time independent of
 * where the difference is). */
int sp_auth_check(const char *file_text, const char *user, const char *pass);
/* Checks the file's syntax: 0, or -(line number) of the first bad line. */
int sp_auth_validate(const char *file_text);

/* DNS: a recursive A query for name into out; returns its length, or -1
 * when the name is not a valid host name or out is too small. */
int sp_dns_query(uint8_t *out, size_t cap, uint16_t id, const char *name);
/* An answer to query id: 1 and *addr (network byte order) for the first A
 * record, 0 for a valid answer without one (NXDOMAIN, ...), -1 when the
 * bytes are not an answer to id. */
int sp_dns_answer(const uint8_t *b, size_t n, uint16_t id, uint32_t *addr);
/* The same for an AAAA query (SP_DNS_AAAA): a recursive AAAA query, and the
 * answer's first AAAA record into addr (16 bytes). */
#define SP_DNS_A 1
#define SP_DNS_AAAA 28
int sp_dns_query_type(uint8_t *out, size_t cap, uint16_t id, const char *name,
                      unsigned qtype);
int sp_dns_answer6(const uint8_t *b, size_t n, uint16_t id, uint8_t addr[16]);

/* An ICMP "destination unreachable" (IPv4 type 3, or ICMPv6 type 1) about
 * one of our TCP segments, from an IP packet out of the tunnel: lwIP ignores
 * these, so a connect would wait for its SYN retries. */
typedef struct {
  int family;          /* 4 or 6: the quoted packet's */
  uint8_t src[16], dst[16]; /* the quoted packet's addresses (4 or 16 bytes) */
  uint16_t sport, dport;    /* its TCP ports, host byte order */
} sp_unreach_t;
/* Returns the SOCKS5 reply code that fits (SP_REP_NET_UNREACH,
 * _HOST_UNREACH, _REFUSED for a closed port, _NOT_ALLOWED when
 * administratively prohibited) and fills *u, or 0 when the packet is not an
 * unreachable about a TCP segment (or is truncated). */
uint8_t sp_icmp_unreach(const uint8_t *pkt, size_t len, sp_unreach_t *u);

#endif
