/* ICMP echo packets and ping(8)'s statistics; see cmd/ping.h. */
#include "cmd/ping.h"

#include <arpa/inet.h>
#include <string.h>

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_REDIRECT 5
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
#define TIME_LEN 8 /* bytes of the send time in the payload */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* RFC 1071 Internet checksum. */
static uint16_t inet_csum(const uint8_t *b, size_t n) {
  uint32_t s = 0;
  size_t i;
  for (i = 0; i + 1 < n; i += 2)
    s += rd16(b + i);
  if (n & 1)
    s += (uint32_t)b[n - 1] << 8;
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

size_t ping_build(const ping_echo_t *e, uint16_t seq, uint64_t now_us,
                  uint8_t *buf, size_t cap) {
  size_t n = PING_IP_ICMP_HDR + e->size, i;
  uint8_t *icmp = buf + 20, *data = buf + PING_IP_ICMP_HDR;

  if (e->size > PING_MAX_SIZE || cap < n)
    return 0;
  memset(buf, 0, PING_IP_ICMP_HDR);
  buf[0] = 0x45; /* IPv4, 20-byte header */
  wr16(buf + 2, (uint16_t)n);
  wr16(buf + 4, seq); /* identification */
  buf[8] = e->ttl;
  buf[9] = 1; /* ICMP */
  memcpy(buf + 12, &e->src, 4);
  memcpy(buf + 16, &e->dst, 4);
  wr16(buf + 10, inet_csum(buf, 20));
  icmp[0] = ICMP_ECHO_REQUEST;
  wr16(icmp + 4, e->id);
  wr16(icmp + 6, seq);
  for (i = 0; i < e->size; i++)
    data[i] = (uint8_t)i;
  if (e->size >= PING_TIME_MIN_SIZE)
    for (i = 0; i < TIME_LEN; i++)
      data[i] = (uint8_t)(now_us >> (56 - 8 * i));
  wr16(icmp + 2, inet_csum(icmp, 8 + e->size));
  return n;
}

/* Length of a valid IPv4 header at p (checksum, version, total length
 * within len, not a fragment), else 0. */
static size_t ipv4_header(const uint8_t *p, size_t len, int check_csum) {
  size_t ihl;
  if (len < 20 || (p[0] >> 4) != 4)
    return 0;
  ihl = (size_t)(p[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len)
    return 0;
  if (check_csum && inet_csum(p, ihl) != 0)
    return 0;
  return ihl;
}

/* An ICMP error quoting one of our requests: fill `out`. */
static void parse_error(const ping_echo_t *e, const uint8_t *icmp,
                        size_t icmp_len, ping_reply_t *out) {
  const uint8_t *inner = icmp + 8, *echo;
  size_t ihl;

  if (icmp_len < 8 + 20 + 8)
    return;
  ihl = ipv4_header(inner, icmp_len - 8, 0);
  if (ihl == 0 || icmp_len < 8 + ihl + 8 || inner[9] != 1 ||
      memcmp(inner + 16, &e->dst, 4) != 0)
    return;
  echo = inner + ihl;
  if (echo[0] != ICMP_ECHO_REQUEST || rd16(echo + 4) != e->id)
    return;
  out->kind = PING_ERROR;
  out->type = icmp[0];
  out->code = icmp[1];
  out->seq = rd16(echo + 6);
}

void ping_parse(const ping_echo_t *e, const uint8_t *pkt, size_t len,
                ping_reply_t *out) {
  size_t ihl, total, icmp_len, i;
  const uint8_t *icmp, *data;

  memset(out, 0, sizeof(*out));
  out->kind = PING_IGNORE;
  out->bad_byte = -1;
  ihl = ipv4_header(pkt, len, 1);
  if (ihl == 0 || pkt[9] != 1)
    return;
  total = rd16(pkt + 2);
  if (total < ihl + 8 || total > len)
    return;
  if ((rd16(pkt + 6) & 0x3fff) != 0) /* MF or a fragment offset */
    return;
  if (memcmp(pkt + 16, &e->src, 4) != 0) /* not addressed to us */
    return;
  icmp = pkt + ihl;
  icmp_len = total - ihl;
  if (inet_csum(icmp, icmp_len) != 0)
    return;
  memcpy(&out->from, pkt + 12, 4);
  out->ttl = pkt[8];
  out->icmp_len = icmp_len;
  switch (icmp[0]) {
  case ICMP_ECHO_REPLY:
    if (icmp[1] != 0 || rd16(icmp + 4) != e->id ||
        memcmp(pkt + 12, &e->dst, 4) != 0)
      return;
    out->kind = PING_REPLY;
    out->seq = rd16(icmp + 6);
    data = icmp + 8;
    if (e->size >= PING_TIME_MIN_SIZE && icmp_len >= 8 + TIME_LEN) {
      out->has_time = 1;
      for (i = 0; i < TIME_LEN; i++)
        out->sent_us = out->sent_us << 8 | data[i];
    }
    /* ping(8) checks the echoed pattern after the time */
    for (i = out->has_time ? TIME_LEN : 0; i < icmp_len - 8 && i < e->size;
         i++) {
      if (data[i] != (uint8_t)i) {
        out->bad_byte = (long)i;
        out->want = (uint8_t)i;
        out->got = data[i];
        break;
      }
    }
    return;
  case ICMP_DEST_UNREACH:
  case ICMP_REDIRECT:
  case ICMP_TIME_EXCEEDED:
  case ICMP_PARAM_PROBLEM:
    parse_error(e, icmp, icmp_len, out);
    return;
  default:
    return;
  }
}

const char *ping_error_text(uint8_t type, uint8_t code) {
  static const char *const unreach[] = {
      "Destination Net Unreachable",
      "Destination Host Unreachable",
      "Destination Protocol Unreachable",
      "Destination Port Unreachable",
      "Frag needed and DF set",
      "Source Route Failed",
      "Destination Net Unknown",
      "Destination Host Unknown",
      "Source Host Isolated",
      "Destination Net Prohibited",
      "Destination Host Prohibited",
      "Destination Net Unreachable for Type of Service",
      "Destination Host Unreachable for Type of Service",
      "Packet filtered",
      "Precedence Violation",
      "Precedence Cutoff"};
  switch (type) {
  case ICMP_DEST_UNREACH:
    return code < sizeof(unreach) / sizeof(unreach[0])
               ? unreach[code]
               : "Dest Unreachable, Bad Code";
  case ICMP_REDIRECT:
    return code == 0 ? "Redirect Network" : "Redirect Host";
  case ICMP_TIME_EXCEEDED:
    return code == 0 ? "Time to live exceeded"
                     : "Frag reassembly time exceeded";
  case ICMP_PARAM_PROBLEM:
    return "Parameter problem";
  default:
    return "Bad ICMP type";
  }
}

void ping_format_time(char *buf, size_t len, uint64_t t) {
  /* ping(8): three significant digits, at least one before the point */
  if (t >= 100000 - 50)
    snprintf(buf, len, "%llu", (unsigned long long)((t + 500) / 1000));
  else if (t >= 10000 - 5)
    snprintf(buf, len, "%llu.%01llu", (unsigned long long)((t + 50) / 1000),
             (unsigned long long)(((t + 50) % 1000) / 100));
  else if (t >= 1000)
    snprintf(buf, len, "%llu.%02llu", (unsigned long long)((t + 5) / 1000),
             (unsigned long long)(((t + 5) % 1000) / 10));
  else
    snprintf(buf, len, "0.%03llu", (unsigned long long)t);
}

void ping_stats_init(ping_stats_t *s) { memset(s, 0, sizeof(*s)); }

void ping_stats_sent(ping_stats_t *s, uint16_t seq) {
  s->transmitted++;
  s->seen[seq >> 3] &= (uint8_t)~(1u << (seq & 7));
}

int ping_stats_reply(ping_stats_t *s, uint16_t seq, int has_time,
                     uint64_t rtt_us) {
  uint8_t bit = (uint8_t)(1u << (seq & 7));
  if (s->seen[seq >> 3] & bit) {
    s->duplicates++;
    return 1;
  }
  s->seen[seq >> 3] |= bit;
  s->received++;
  if (has_time) {
    if (s->timed == 0 || rtt_us < s->tmin)
      s->tmin = rtt_us;
    if (rtt_us > s->tmax)
      s->tmax = rtt_us;
    s->tsum += rtt_us;
    s->tsum2 += (double)rtt_us * (double)rtt_us;
    s->timed++;
  }
  return 0;
}

static void print_addr(FILE *f, uint32_t a) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof(buf));
  fputs(buf, f);
}

void ping_print_reply(FILE *f, const ping_reply_t *r, int dup,
                      uint64_t rtt_us) {
  char t[32];
  if (r->kind == PING_ERROR) {
    fputs("From ", f);
    print_addr(f, r->from);
    fprintf(f, " icmp_seq=%u %s\n", (unsigned)r->seq,
            ping_error_text(r->type, r->code));
    return;
  }
  fprintf(f, "%zu bytes from ", r->icmp_len);
  print_addr(f, r->from);
  fprintf(f, ": icmp_seq=%u ttl=%u", (unsigned)r->seq, (unsigned)r->ttl);
  if (r->has_time) {
    ping_format_time(t, sizeof(t), rtt_us);
    fprintf(f, " time=%s ms", t);
  }
  if (dup)
    fputs(" (DUP!)", f);
  if (r->bad_byte >= 0)
    fprintf(f, "\nwrong data byte #%ld should be 0x%x but was 0x%x",
            r->bad_byte, (unsigned)r->want, (unsigned)r->got);
  fputc('\n', f);
}

/* floor(sqrt(v)), bit by bit: the CLI links no libm for one square root
 * (libm costs 0.3 MB of resident pages from its start-up alone) */
static uint64_t isqrt_u64(uint64_t v) {
  uint64_t r = 0, bit = (uint64_t)1 << 62;
  while (bit > v)
    bit >>= 2;
  while (bit != 0) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return r;
}

void ping_stats_print(FILE *f, const ping_stats_t *s, const char *target,
                      uint64_t elapsed_ms) {
  fprintf(f, "\n--- %s ping statistics ---\n", target);
  fprintf(f, "%llu packets transmitted, %llu received",
          (unsigned long long)s->transmitted, (unsigned long long)s->received);
  if (s->duplicates)
    fprintf(f, ", +%llu duplicates", (unsigned long long)s->duplicates);
  if (s->errors)
    fprintf(f, ", +%llu errors", (unsigned long long)s->errors);
  if (s->transmitted)
    fprintf(f, ", %g%% packet loss",
            (float)((double)(s->transmitted - s->received) * 100.0 /
                    (double)s->transmitted));
  fprintf(f, ", time %llums\n", (unsigned long long)elapsed_ms);
  if (s->timed) {
    uint64_t avg = s->tsum / s->timed;
    double var = s->tsum2 / (double)s->timed -
                 ((double)s->tsum / (double)s->timed) *
                     ((double)s->tsum / (double)s->timed);
    uint64_t mdev = var >= 1.0 ? isqrt_u64(var < 1.8e19 ? (uint64_t)var
                                                         : UINT64_MAX)
                               : 0;
    fprintf(f,
            "rtt min/avg/max/mdev = %llu.%03llu/%llu.%03llu/%llu.%03llu/"
            "%llu.%03llu ms\n",
            (unsigned long long)(s->tmin / 1000),
            (unsigned long long)(s->tmin % 1000),
            (unsigned long long)(avg / 1000), (unsigned long long)(avg % 1000),
            (unsigned long long)(s->tmax / 1000),
            (unsigned long long)(s->tmax % 1000),
            (unsigned long long)(mdev / 1000),
            (unsigned long long)(mdev % 1000));
  } else if (s->received) {
    fputc('\n', f); /* as ping(8) without times */
  }
}

int ping_exit_status(const ping_stats_t *s, int deadline, uint64_t count) {
  if (s->received == 0)
    return 1;
  if (deadline && count && s->received < count)
    return 1;
  return 0;
}
