/* ICMP echo for `layervpn ping`: builds echo requests as whole IPv4 packets
 * (the tunnel carries IP packets, so we write the IP header too), parses what
 * comes back out of the tunnel, and keeps ping(8)'s statistics and output
 * format. Loop-free and I/O-free except for printing to a FILE: tested alone
 * in tests/cmd/check_ping.c. The subcommand itself (client, loop, timers,
 * signals) is in cmd/cmd_ping.c. */
#ifndef LVPN_CMD_PING_H
#define LVPN_CMD_PING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PING_IP_ICMP_HDR 28   /* IPv4 (no options) + ICMP echo header */
#define PING_TIME_MIN_SIZE 16 /* ping(8): payloads this long carry a time */
#define PING_MAX_SIZE 65507   /* largest ICMP payload in one IPv4 packet */

/* What every echo request of one run shares. Addresses in network order. */
typedef struct {
  uint32_t src, dst;
  uint16_t id;
  uint8_t ttl;
  size_t size; /* ICMP payload bytes (ping -s) */
} ping_echo_t;

enum {
  PING_IGNORE = 0, /* not for us: not ICMP, another id, bad checksum, ... */
  PING_REPLY,      /* an echo reply to one of our requests */
  PING_ERROR       /* an ICMP error about one of our requests */
};

typedef struct {
  int kind;
  uint32_t from; /* the sender (network order) */
  uint16_t seq;
  uint8_t ttl;
  size_t icmp_len;  /* ICMP header + data, as ping(8) prints "N bytes" */
  int has_time;     /* the payload carried our send time */
  uint64_t sent_us; /* that time */
  uint8_t type, code;    /* PING_ERROR: the ICMP error */
  long bad_byte;         /* -1, or the first payload byte that differs */
  uint8_t want, got;     /* its expected and received values */
} ping_reply_t;

/* Writes echo request `seq` (IPv4 header + ICMP + e->size payload bytes:
 * the send time `now_us` in the first 8 when size >= PING_TIME_MIN_SIZE,
 * then byte i = i) into `buf`. Returns its length, or 0 when `cap` is too
 * small. */
size_t ping_build(const ping_echo_t *e, uint16_t seq, uint64_t now_us,
                  uint8_t *buf, size_t cap);

/* Classifies one IP packet from the tunnel (lent for the call). */
void ping_parse(const ping_echo_t *e, const uint8_t *pkt, size_t len,
                ping_reply_t *out);

/* ping(8)'s text for an ICMP error ("Destination Host Unreachable"). */
const char *ping_error_text(uint8_t type, uint8_t code);

/* ping(8)'s round-trip time format ("0.123", "12.3", "123"), in ms. */
void ping_format_time(char *buf, size_t len, uint64_t rtt_us);

typedef struct {
  uint64_t transmitted, received, duplicates, errors;
  uint64_t timed; /* replies with a time */
  uint64_t tmin, tmax, tsum; /* microseconds */
  double tsum2;
  uint8_t seen[65536 / 8]; /* replies received, by sequence number */
} ping_stats_t;

void ping_stats_init(ping_stats_t *s);
/* Counts request `seq` as sent. */
void ping_stats_sent(ping_stats_t *s, uint16_t seq);
/* Counts a reply; returns 1 when it is a duplicate (not counted as
 * received, as ping(8)). `rtt_us` is used when `has_time`. */
int ping_stats_reply(ping_stats_t *s, uint16_t seq, int has_time,
                     uint64_t rtt_us);

/* Prints the reply line ("64 bytes from ...: icmp_seq=1 ttl=64 time=0.1
 * ms", "(DUP!)", the wrong-data line) or the error line ("From ...
 * icmp_seq=1 Destination Host Unreachable"). */
void ping_print_reply(FILE *f, const ping_reply_t *r, int dup,
                      uint64_t rtt_us);
/* Prints ping(8)'s statistics block for `target`; `elapsed_ms` runs from
 * the first request to the end. */
void ping_stats_print(FILE *f, const ping_stats_t *s, const char *target,
                      uint64_t elapsed_ms);
/* ping(8)'s exit status: 0 when a reply came (and, with a deadline, all
 * `count` did), else 1. */
int ping_exit_status(const ping_stats_t *s, int deadline, uint64_t count);

/* The `layervpn ping` subcommand (cmd/cmd_ping.c): argv after "ping". */
int cmd_ping(int argc, char **argv);

#endif
