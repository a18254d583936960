/* Key-method 2, OCC options string, peer-info, control messages.
 * See keymethod.h. */
#include "layers/tlssession/keymethod.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/platform_util.h>

#include "layervpn.h"
#include "lib/config.h"

/* ---- key-method 2 ---- */

int lvpn__km2_client_randomize(lvpn__km2_client_t *m,
                               int (*rng)(void *, unsigned char *, size_t),
                               void *rng_ctx) {
  if (m == NULL || rng == NULL)
    return LVPN_EINVAL;
  if (rng(rng_ctx, m->pre_master, sizeof(m->pre_master)) != 0 ||
      rng(rng_ctx, m->random1, sizeof(m->random1)) != 0 ||
      rng(rng_ctx, m->random2, sizeof(m->random2)) != 0) {
    lvpn__km2_client_wipe(m);
    return LVPN_ECRYPTO;
  }
  return 0;
}

void lvpn__km2_client_wipe(lvpn__km2_client_t *m) {
  if (m != NULL)
    mbedtls_platform_zeroize(m, sizeof(*m));
}

typedef struct {
  uint8_t *p;
  size_t len, max;
  int overflow;
} writer_t;

static void put(writer_t *w, const void *data, size_t n) {
  if (w->overflow || n > w->max - w->len) {
    w->overflow = 1;
    return;
  }
  memcpy(w->p + w->len, data, n);
  w->len += n;
}

static void put_u16(writer_t *w, size_t v) {
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  put(w, b, 2);
}

/* len:u16 (NUL included) + bytes + NUL; NULL is the empty string 00 00. */
static void put_string(writer_t *w, const char *s) {
  size_t n;

  if (s == NULL) {
    put_u16(w, 0);
    return;
  }
  n = strlen(s) + 1;
  if (n > 0xffff) {
    w->overflow = 1;
    return;
  }
  put_u16(w, n);
  put(w, s, n);
}

int lvpn__km2_build(uint8_t *out, size_t max, size_t *len,
                    const lvpn__km2_client_t *m) {
  static const uint8_t head[5] = {0, 0, 0, 0, LVPN__KM2_METHOD};
  writer_t w;

  if (out == NULL || len == NULL || m == NULL || m->options == NULL)
    return LVPN_EINVAL;
  *len = 0;
  if (strlen(m->options) + 1 > LVPN__KM2_OPTIONS_LEN)
    return LVPN_ETOOBIG;
  w.p = out;
  w.len = 0;
  w.max = max < LVPN__KM2_MAX_LEN ? max : LVPN__KM2_MAX_LEN;
  w.overflow = 0;
  put(&w, head, sizeof(head));
  put(&w, m->pre_master, sizeof(m->pre_master));
  put(&w, m->random1, sizeof(m->random1));
  put(&w, m->random2, sizeof(m->random2));
  put_string(&w, m->options);
  put_string(&w, m->username);
  put_string(&w, m->password);
  put_string(&w, m->peer_info);
  if (w.overflow) {
    /* the password may have been copied already */
    mbedtls_platform_zeroize(out, w.len);
    return LVPN_ETOOBIG;
  }
  *len = w.len;
  return 0;
}

int lvpn__km2_parse_server(const uint8_t *msg, size_t len,
                           lvpn__km2_server_t *out) {
  size_t off = 0, slen;

  if (msg == NULL || out == NULL)
    return LVPN_EINVAL;
  memset(out, 0, sizeof(*out));
  if (len < 5)
    return LVPN_ESHORT;
  if (msg[0] != 0 || msg[1] != 0 || msg[2] != 0 || msg[3] != 0)
    return LVPN_EPROTO;
  if ((msg[4] & LVPN__KM2_METHOD_MASK) != LVPN__KM2_METHOD)
    return LVPN_EPROTO;
  off = 5;
  /* The server sends no pre_master: just its two randoms. */
  if (len - off < 2 * LVPN__KM2_RANDOM_LEN + 2)
    return LVPN_ESHORT;
  memcpy(out->random1, msg + off, LVPN__KM2_RANDOM_LEN);
  off += LVPN__KM2_RANDOM_LEN;
  memcpy(out->random2, msg + off, LVPN__KM2_RANDOM_LEN);
  off += LVPN__KM2_RANDOM_LEN;
  slen = ((size_t)msg[off] << 8) | msg[off + 1];
  off += 2;
  if (slen > LVPN__KM2_OPTIONS_LEN) {
    memset(out, 0, sizeof(*out));
    return LVPN_EPROTO;
  }
  if (slen > len - off) {
    memset(out, 0, sizeof(*out));
    return LVPN_ESHORT;
  }
  if (slen > 0) {
    /* as OpenVPN's read_string: the last byte is the NUL, whatever it is */
    memcpy(out->options, msg + off, slen - 1);
    out->options[slen - 1] = '\0';
  }
  /* username, password, peer-info follow (empty from a server): a client
   * has no use for them, and OpenVPN tolerates them missing. */
  return 0;
}

/* ---- OCC options string ---- */

typedef struct {
  char *p;
  size_t len, max;
  int overflow;
} text_t;

static void addf(text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void addf(text_t *t, const char *fmt, ...) {
  va_list ap;
  int n;

  if (t->overflow)
    return;
  va_start(ap, fmt);
  n = vsnprintf(t->p + t->len, t->max - t->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= t->max - t->len) {
    t->overflow = 1;
    t->p[t->len] = '\0';
    return;
  }
  t->len += (size_t)n;
}

int lvpn__km2_options_string(char *out, size_t max, const lvpn__km2_opts_t *o) {
  text_t t;

  if (out == NULL || o == NULL || max == 0)
    return LVPN_EINVAL;
  t.p = out;
  t.len = 0;
  t.max = max < LVPN__KM2_OPTIONS_LEN ? max : LVPN__KM2_OPTIONS_LEN;
  t.overflow = 0;
  out[0] = '\0';
  addf(&t, "V4,dev-type %s", o->dev_type ? o->dev_type : "tun");
  addf(&t, ",link-mtu %u", o->link_mtu);
  addf(&t, ",tun-mtu %d", o->tun_mtu);
  addf(&t, ",proto %s", o->tcp ? "TCPv4_CLIENT" : "UDPv4");
  if (o->comp_lzo)
    addf(&t, ",comp-lzo");
  if (o->fragment)
    addf(&t, ",mtu-dynamic");
  if (o->has_key_direction)
    addf(&t, ",keydir %d", o->key_direction ? 1 : 0);
  if (o->cipher != NULL)
    addf(&t, ",cipher %s", o->cipher);
  addf(&t, ",auth %s", o->auth ? o->auth : "SHA1");
  addf(&t, ",keysize %d", o->keysize);
  if (o->tls_auth)
    addf(&t, ",tls-auth");
  addf(&t, ",key-method 2,tls-client");
  if (t.overflow) {
    out[0] = '\0';
    return LVPN_ETOOBIG;
  }
  return 0;
}

/* ---- peer-info ---- */

static int has_newline(const char *s) {
  return s != NULL && strpbrk(s, "\r\n") != NULL;
}

int lvpn__peer_info_build(char *out, size_t max,
                          const lvpn__peer_info_opts_t *o) {
  const char *ciphers;
  text_t t;
  size_t i;

  if (out == NULL || o == NULL || max == 0 || o->version == NULL)
    return LVPN_EINVAL;
  ciphers = o->ciphers ? o->ciphers : "";
  if (has_newline(o->version) || has_newline(o->platform) ||
      has_newline(ciphers) || has_newline(o->gui_version))
    return LVPN_EINVAL;
  if ((o->proto & 1u) ||
      (o->proto != 0 && !(o->proto & LVPN__IV_PROTO_DATA_V2)))
    return LVPN_EINVAL;
  if (strlen(ciphers) > LVPN__IV_CIPHERS_MAX)
    return LVPN_ECONFIG;
  t.p = out;
  t.len = 0;
  t.max = max;
  t.overflow = 0;
  out[0] = '\0';
  addf(&t, "IV_VER=%s\n", o->version);
  addf(&t, "IV_PLAT=%s\n", o->platform ? o->platform : "linux");
  addf(&t, "IV_TCPNL=1\n");
  if (o->mtu > 0)
    addf(&t, "IV_MTU=%d\n", o->mtu);
  if (lvpn__config_list_has(ciphers, "AES-128-GCM") &&
      lvpn__config_list_has(ciphers, "AES-256-GCM"))
    addf(&t, "IV_NCP=2\n");
  addf(&t, "IV_CIPHERS=%s\n", ciphers);
  addf(&t, "IV_PROTO=%u\n", o->proto);
  if (o->comp_stubs && o->comp_real)
    addf(&t, "IV_LZ4=1\nIV_LZ4v2=1\nIV_LZO=1\n");
  else if (o->comp_stubs)
    addf(&t, "IV_LZO_STUB=1\n");
  if (o->comp_stubs)
    addf(&t, "IV_COMP_STUB=1\nIV_COMP_STUBv2=1\n");
  if (o->gui_version != NULL)
    addf(&t, "IV_GUI_VER=%s\n", o->gui_version);
  if (o->extended) {
    if (o->hwaddr != NULL && !has_newline(o->hwaddr))
      addf(&t, "IV_HWADDR=%s\n", o->hwaddr);
    if (o->ssl_version != NULL && !has_newline(o->ssl_version))
      addf(&t, "IV_SSL=%s\n", o->ssl_version);
    if (o->plat_version != NULL && !has_newline(o->plat_version))
      addf(&t, "IV_PLAT_VER=%s\n", o->plat_version);
  }
  for (i = 0; i < o->n_env; i++)
    if (!has_newline(o->env[i]))
      addf(&t, "%s\n", o->env[i]);
  if (t.overflow) {
    out[0] = '\0';
    return LVPN_ETOOBIG;
  }
  return 0;
}

/* ---- control messages ---- */

static int printable(uint8_t c) {
  return c >= 0x20 && c != 0x7f;
}

int lvpn__ctlmsg_split(uint8_t *buf, size_t len, lvpn__ctlmsg_cb cb, void *ud) {
  size_t start = 0, end, mlen, i;
  int rejected = 0, ok;

  if (buf == NULL)
    return 0;
  while (start < len) {
    end = start;
    while (end < len && buf[end] != '\0')
      end++;
    if (end == len) { /* no NUL: unterminated */
      rejected++;
      break;
    }
    mlen = end - start;
    while (mlen > 0 &&
           (buf[start + mlen - 1] == '\r' || buf[start + mlen - 1] == '\n')) {
      buf[start + mlen - 1] = '\0';
      mlen--;
    }
    if (mlen > 0) {
      ok = 1;
      for (i = 0; i < mlen; i++)
        if (!printable(buf[start + i]))
          ok = 0;
      if (!ok)
        rejected++;
      else if (cb != NULL)
        cb(ud, (const char *)buf + start, mlen);
    }
    start = end + 1;
  }
  return rejected;
}

int lvpn__km2_forget_password(lvpn__km2_client_t *m) {
  char *pw;
  if (m == NULL || m->forget_password == NULL ||
      (pw = *m->forget_password) == NULL)
    return 0;
  mbedtls_platform_zeroize(pw, strlen(pw));
  free(pw);
  *m->forget_password = NULL;
  m->password = NULL;
  return 1;
}
