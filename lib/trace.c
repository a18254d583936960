/* The shared tracer: builds each event as one JSON object in a stack buffer
 * and hands it to the host's callback. See trace.h. */
#include "lib/trace.h"

#include "lib/redact.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <uv.h>

/* Longest event. A longer one (a huge PUSH_REPLY) has its last string cut
 * and gets "truncated":true, so it stays valid JSON. */
#define TRACE_LINE_MAX 8192
/* Kept free for closing: a quote, ,"truncated":true, the brace, NUL. */
#define TRACE_RESERVE 32

lvpn__tracer_t lvpn__trace_off;

typedef struct {
  char *b;
  size_t len, limit; /* limit = capacity - TRACE_RESERVE */
  int cut;
} jw_t;

static void jw_init(jw_t *w, char *buf, size_t cap) {
  w->b = buf;
  w->len = 0;
  w->limit = cap - TRACE_RESERVE;
  w->cut = 0;
}

/* Appends unless that would go past the limit; returns 0 or -1. */
static int jw_raw(jw_t *w, const char *s, size_t n) {
  if (w->cut || w->len + n > w->limit) {
    w->cut = 1;
    return -1;
  }
  memcpy(w->b + w->len, s, n);
  w->len += n;
  return 0;
}

static int jw_cstr(jw_t *w, const char *s) {
  return jw_raw(w, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned char c = s[0], lo = 0x80, hi = 0xBF;
  size_t k, i;
  if (c >= 0xC2 && c <= 0xDF)
    k = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    k = 3;
  else if (c >= 0xF0 && c <= 0xF4)
    k = 4;
  else
    return 0;
  if (c == 0xE0)
    lo = 0xA0;
  else if (c == 0xED)
    hi = 0x9F; /* no surrogates */
  else if (c == 0xF0)
    lo = 0x90;
  else if (c == 0xF4)
    hi = 0x8F;
  if (n < k || s[1] < lo || s[1] > hi)
    return 0;
  for (i = 2; i < k; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  return k;
}

/* A JSON string: escaped, invalid UTF-8 as U+FFFD. When the limit is hit the
 * content is cut but the quote is closed (from the reserve). */
static void jw_str(jw_t *w, const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  char esc[8];

  if (jw_raw(w, "\"", 1) != 0)
    return;
  while (i < n) {
    const char *out = (const char *)s + i;
    size_t olen = 1, adv = 1;
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      out = esc;
      olen = 2;
    } else if (c < 0x20) {
      olen = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
      out = esc;
    } else if (c >= 0x80) {
      adv = olen = utf8_seq(s + i, n - i);
      if (olen == 0) {
        out = "\\ufffd";
        olen = 6;
        adv = 1;
      }
    }
    if (w->len + olen > w->limit) {
      w->cut = 1;
      break;
    }
    memcpy(w->b + w->len, out, olen);
    w->len += olen;
    i += adv;
  }
  w->b[w->len++] = '"'; /* the reserve has room */
}

/* ,"key": — rolls back and returns -1 when it does not fit. */
static int jw_key(jw_t *w, const char *key, size_t n) {
  size_t mark = w->len;
  if (jw_raw(w, ",\"", 2) != 0 || jw_raw(w, key, n) != 0 ||
      jw_raw(w, "\":", 2) != 0) {
    w->len = mark;
    return -1;
  }
  return 0;
}

static void jw_num(jw_t *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void jw_num(jw_t *w, const char *fmt, ...) {
  char num[40];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(num, sizeof(num), fmt, ap);
  va_end(ap);
  if (n > 0 && (size_t)n < sizeof(num))
    jw_raw(w, num, (size_t)n);
}

/* {"t":...,"layer":"...","operation":"..." */
static void jw_head(jw_t *w, const lvpn__tracer_t *tr, const char *layer,
                    const char *op) {
  double t = (double)(uv_hrtime() - tr->t0_ns) / 1e9;
  jw_num(w, "{\"t\":%.6f", t);
  jw_key(w, "layer", 5);
  jw_str(w, layer, strlen(layer));
  jw_key(w, "operation", 9);
  jw_str(w, op, strlen(op));
}

static void jw_finish(lvpn__tracer_t *tr, jw_t *w) {
  if (w->cut) {
    static const char tail[] = ",\"truncated\":true";
    memcpy(w->b + w->len, tail, sizeof(tail) - 1);
    w->len += sizeof(tail) - 1;
  }
  w->b[w->len++] = '}';
  w->b[w->len] = '\0';
  tr->cb(tr->ud, w->b, w->len);
}

void lvpn__trace_init(lvpn__tracer_t *tr) {
  memset(tr, 0, sizeof(*tr));
  tr->stage = LVPN__STAGE_UNDEF;
}

void lvpn__trace_set(lvpn__tracer_t *tr, lvpn_trace_cb cb, void *ud,
                     int level) {
  if (cb != NULL && !tr->on)
    tr->t0_ns = uv_hrtime();
  tr->cb = cb;
  tr->ud = ud;
  tr->on = cb != NULL;
  tr->data_all = tr->on && level >= LVPN_TRACE_DATA_ALL;
}

void lvpn__trace_restart_clock(lvpn__tracer_t *tr) {
  tr->t0_ns = uv_hrtime();
}

const char *lvpn__trace_stage_name(int stage) {
  static const char *const names[] = {"UNDEF",  "INITIAL",       "PRE_START",
                                      "START",  "SENT_KEY",      "GOT_KEY",
                                      "ACTIVE", "GENERATED_KEYS"};
  if (stage == LVPN__STAGE_ERROR)
    return "ERROR";
  if (stage < 0 || stage > LVPN__STAGE_GENERATED_KEYS)
    return "INVALID";
  return names[stage];
}

/* Reads "key=%conv key=%conv ..." and writes one field per pair. The
 * conversions are the ones the compiler checked against the arguments. */
void lvpn__trace_emit(lvpn__tracer_t *tr, const char *layer, const char *op,
                      const char *fmt, ...) {
  char buf[TRACE_LINE_MAX];
  const char *f = fmt;
  jw_t w;
  va_list ap;

  if (!tr->on)
    return;
  jw_init(&w, buf, sizeof(buf));
  jw_head(&w, tr, layer, op);
  va_start(ap, fmt);
  while (*f != '\0') {
    const char *key;
    size_t klen, mark;
    int prec = -1, lng = 0, ok;
    char conv;

    while (*f == ' ')
      f++;
    key = f;
    while (*f != '\0' && *f != '=' && *f != ' ')
      f++;
    klen = (size_t)(f - key);
    if (*f != '=' || f[1] != '%' || klen == 0)
      break; /* not "key=%..": stop (the arguments cannot be matched) */
    f += 2;
    if (f[0] == '.' && f[1] == '*') {
      prec = va_arg(ap, int);
      f += 2;
    }
    if (*f == 'l') {
      lng = 1;
      if (*++f == 'l') {
        lng = 2;
        f++;
      }
    } else if (*f == 'z') {
      lng = 3;
      f++;
    }
    conv = *f != '\0' ? *f++ : '\0';
    mark = w.len;
    ok = jw_key(&w, key, klen) == 0;
    switch (conv) {
    case 'd':
    case 'i': {
      long long v = lng == 0   ? (long long)va_arg(ap, int)
                    : lng == 1 ? (long long)va_arg(ap, long)
                    : lng == 2 ? va_arg(ap, long long)
                               : (long long)va_arg(ap, ssize_t);
      if (ok)
        jw_num(&w, "%lld", v);
      break;
    }
    case 'u':
    case 'x': {
      unsigned long long v = lng == 0   ? va_arg(ap, unsigned)
                             : lng == 1 ? va_arg(ap, unsigned long)
                             : lng == 2 ? va_arg(ap, unsigned long long)
                                        : va_arg(ap, size_t);
      if (ok)
        jw_num(&w, "%llu", v);
      break;
    }
    case 'f':
    case 'g': {
      double v = va_arg(ap, double);
      if (ok && isfinite(v))
        jw_num(&w, "%.6g", v);
      else if (ok)
        jw_raw(&w, "null", 4);
      break;
    }
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (ok && s == NULL)
        jw_raw(&w, "null", 4);
      else if (ok)
        jw_str(&w, s, prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));
      break;
    }
    default:
      ok = 0;
      conv = '\0';
    }
    if (w.cut && w.b[w.len - 1] != '"')
      w.len = mark; /* a key without its value: drop the pair */
    if (conv == '\0' || w.cut)
      break;
    while (*f != '\0' && *f != ' ')
      f++;
  }
  va_end(ap);
  jw_finish(tr, &w);
}

static void jw_tail_minivpn(jw_t *w, const lvpn__tracer_t *tr,
                            const char *tag) {
  jw_key(w, "tags", 4);
  jw_raw(w, "[", 1);
  if (tag != NULL)
    jw_str(w, tag, strlen(tag));
  jw_raw(w, "]", 1);
  jw_key(w, "transaction_id", 14);
  jw_num(w, "%lld", (long long)tr->txid);
}

/* "tls_records": the kinds of the TLS records that start in this payload,
 * for ladder diagrams ("handshake:client_hello", "change_cipher_spec",
 * "handshake" once encrypted, "application_data", "alert"). Read only while
 * the payload starts on a record boundary (a record split over several
 * packets is listed once, in its first); omitted when nothing parses. */
static void jw_tls_records(jw_t *w, const uint8_t *d, size_t len) {
  static const char *const hs[] = {[1] = "client_hello",
                                   [2] = "server_hello",
                                   [11] = "certificate",
                                   [12] = "server_key_exchange",
                                   [13] = "certificate_request",
                                   [14] = "server_hello_done",
                                   [15] = "certificate_verify",
                                   [16] = "client_key_exchange",
                                   [20] = "finished"};
  char out[400];
  size_t off = 0, o = 0;
  int n = 0;
  while (off + 5 <= len && n < 8 && d[off] >= 20 && d[off] <= 23 &&
         d[off + 1] == 3) {
    size_t rlen = ((size_t)d[off + 3] << 8) | d[off + 4];
    const char *kind = d[off] == 20   ? "change_cipher_spec"
                       : d[off] == 21 ? "alert"
                       : d[off] == 22 ? "handshake"
                                      : "application_data";
    const char *msg = NULL;
    /* a plaintext handshake message names itself (type, then a 24-bit
     * length whose top byte is 0 for our sizes); once encrypted the type
     * byte is noise and usually fails these checks */
    if (d[off] == 22 && off + 9 <= len && rlen >= 4 && d[off + 5] < 21 &&
        d[off + 6] == 0 && (((size_t)d[off + 7] << 8) | d[off + 8]) + 4 <= rlen)
      msg = hs[d[off + 5]];
    o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\"%s%s%s\"",
                          n == 0 ? ",\"tls_records\":[" : ",", kind,
                          msg ? ":" : "", msg ? msg : "");
    n++;
    off += 5 + rlen;
  }
  if (n > 0 && o + 1 < sizeof(out)) {
    out[o++] = ']';
    jw_raw(w, out, o);
  }
}

void lvpn__trace_ctl(lvpn__tracer_t *tr, const char *layer, const char *op,
                     const char *opname, const lvpn__pmeta_t *m,
                     const uint8_t *d, size_t len, int send_attempts,
                     const char *reason) {
  char buf[1024];
  const char *tag = NULL;
  jw_t w;
  int i;

  if (!tr->on)
    return;
  jw_init(&w, buf, sizeof(buf));
  jw_head(&w, tr, layer, op);
  jw_key(&w, "stage", 5);
  jw_str(&w, lvpn__trace_stage_name(tr->stage),
         strlen(lvpn__trace_stage_name(tr->stage)));
  jw_key(&w, "packet", 6);
  jw_cstr(&w, strcmp(op, "packet_out") == 0 ? "{\"operation\":\"write\""
                                            : "{\"operation\":\"read\"");
  jw_key(&w, "opcode", 6);
  jw_str(&w, opname, strlen(opname));
  jw_num(&w, ",\"key_id\":%u,\"id\":%lu", (unsigned)m->key_id,
         (unsigned long)(m->has_msg_id ? m->msg_id : 0));
  jw_key(&w, "acks", 4);
  if (m->n_acks == 0) {
    jw_raw(&w, "null", 4);
  } else {
    for (i = 0; i < m->n_acks && i < 8; i++)
      jw_num(&w, "%c%lu", i == 0 ? '[' : ',', (unsigned long)m->acks[i]);
    jw_raw(&w, "]", 1);
  }
  jw_num(&w, ",\"payload_size\":%zu", len);
  if (send_attempts < 0)
    jw_cstr(&w, ",\"send_attempts\":null}");
  else
    jw_num(&w, ",\"send_attempts\":%d}", send_attempts);
  /* minivpn's tags: a TLS handshake record (0x16) whose first message is a
   * ClientHello (1) or ServerHello (2). */
  if (d != NULL && len >= 6 && d[0] == 0x16 &&
      strcmp(op, "packet_dropped") != 0)
    tag = d[5] == 1 ? "client_hello" : d[5] == 2 ? "server_hello" : NULL;
  jw_tail_minivpn(&w, tr, tag);
  if (reason != NULL) {
    jw_key(&w, "reason", 6);
    jw_str(&w, reason, strlen(reason));
  }
  if (d != NULL && strcmp(op, "packet_dropped") != 0)
    jw_tls_records(&w, d, len);
  jw_finish(tr, &w);
}

void lvpn__trace_state(lvpn__tracer_t *tr, const char *layer,
                       lvpn__stage_t stage) {
  char buf[512];
  const char *name = lvpn__trace_stage_name(stage);
  jw_t w;

  tr->stage = stage;
  if (!tr->on)
    return;
  jw_init(&w, buf, sizeof(buf));
  jw_head(&w, tr, layer, "state");
  jw_key(&w, "stage", 5);
  jw_str(&w, name, strlen(name));
  jw_cstr(&w, ",\"packet\":null");
  jw_tail_minivpn(&w, tr, NULL);
  jw_finish(tr, &w);
}

void lvpn__trace_ctlmsg(lvpn__tracer_t *tr, const char *layer, const char *op,
                        const char *msg, size_t len) {
  static const char *const with_options[] = {"PUSH_REPLY", "PUSH_UPDATE"};
  char opts[TRACE_LINE_MAX / 2];
  size_t k = 0, i;

  if (!tr->on)
    return;
  while (k < len && ((msg[k] >= 'A' && msg[k] <= 'Z') || msg[k] == '_'))
    k++;
  for (i = 0; i < sizeof(with_options) / sizeof(with_options[0]); i++) {
    if (k == strlen(with_options[i]) && memcmp(msg, with_options[i], k) == 0) {
      size_t skip = k < len && msg[k] == ',' ? k + 1 : k;
      lvpn__redact_copy(opts, sizeof(opts), msg + skip, len - skip);
      lvpn__trace_emit(tr, layer, op, "message=%s options=%s", with_options[i],
                       opts);
      return;
    }
  }
  lvpn__trace_emit(tr, layer, op, "message=%.*s bytes=%zu", (int)k, msg, len);
}

void lvpn__tap(lvpn__tracer_t *tr, int point, int outbound, int tcp,
               const void *local, const void *remote, const uint8_t *data,
               size_t len) {
  lvpn_tap_pkt_t pkt;
  if (!(tr->taps & (unsigned)point) || tr->tap == NULL)
    return;
  pkt.point = point;
  pkt.outbound = outbound;
  pkt.tcp = tcp;
  pkt.local = local;
  pkt.remote = remote;
  pkt.data = data;
  pkt.len = len;
  tr->tap(tr->tap_ud, &pkt);
}
