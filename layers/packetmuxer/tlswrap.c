#include "lib/bytes.h"
#include "layers/packetmuxer/tlswrap.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

#include "layers/packetmuxer/wire.h"

#define HEAD_LEN (1 + LVPN__SID_SIZE)           /* byte0 | own_sid */
#define PID_LEN 8                               /* long form: id | time */
#define CRYPT_OFF_PID HEAD_LEN                  /* 9 */
#define CRYPT_OFF_TAG (CRYPT_OFF_PID + PID_LEN) /* 17 */
#define CRYPT_OFF_CT (CRYPT_OFF_TAG + LVPN__TLS_CRYPT_TAG_SIZE) /* 49 */
#define ONE_KEY 128 /* struct key: cipher[64] | hmac[64] */

#define SEQ_UNSEEN 0u
#define SEQ_EXPIRED 1u

static const char static_head[] = "-----BEGIN OpenVPN Static key V1-----";
static const char static_foot[] = "-----END OpenVPN Static key V1-----";
static const char v2c_head[] =
    "-----BEGIN OpenVPN tls-crypt-v2 client key-----";
static const char v2c_foot[] = "-----END OpenVPN tls-crypt-v2 client key-----";
static const char v2s_head[] =
    "-----BEGIN OpenVPN tls-crypt-v2 server key-----";

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err == NULL || errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}




/* ---- key files ---------------------------------------------------------- */

/* Offset of `marker` where it starts a line at or after `from`, or len. */
static size_t find_line(const char *s, size_t len, size_t from,
                        const char *marker) {
  size_t m = strlen(marker), i;
  for (i = from; i + m <= len; i++) {
    if ((i == 0 || s[i - 1] == '\n') && memcmp(s + i, marker, m) == 0)
      return i;
  }
  return len;
}

static size_t line_of(const char *s, size_t off) {
  size_t i, n = 1;
  for (i = 0; i < off; i++)
    n += s[i] == '\n';
  return n;
}

static size_t next_line(const char *s, size_t len, size_t off) {
  while (off < len && s[off] != '\n')
    off++;
  return off < len ? off + 1 : len;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  return (tolower((unsigned char)c) - 'a') + 10;
}

/* "-----BEGIN OpenVPN Static key V1-----" + 256 bytes of hex + footer. */
static int parse_static_key(const char *pem, size_t len,
                            uint8_t out[LVPN__TLSWRAP_KEY2_LEN],
                            const char *what, char *err, size_t errlen) {
  size_t off, count = 0;
  int hi = -1, at_line_start = 1, found_foot = 0;

  off = find_line(pem, len, 0, static_head);
  if (off == len) {
    if (find_line(pem, len, 0, v2c_head) < len)
      set_err(err, errlen,
              "%s key: this is a tls-crypt-v2 client key, not a static key",
              what);
    else
      set_err(err, errlen, "%s key: no '%s' line found", what, static_head);
    return LVPN_EKEYFILE;
  }
  for (off = next_line(pem, len, off); off < len; off++) {
    char c = pem[off];
    if (c == '\n') {
      at_line_start = 1;
      continue;
    }
    if (at_line_start && c == '-') {
      found_foot = find_line(pem, len, off, static_foot) == off;
      break;
    }
    at_line_start = 0;
    if (isspace((unsigned char)c))
      continue;
    if (!isxdigit((unsigned char)c)) {
      set_err(err, errlen, "%s key: invalid character in key data (line %zu)",
              what, line_of(pem, off));
      goto fail;
    }
    if (hi < 0) {
      hi = hexval(c);
      continue;
    }
    if (count == LVPN__TLSWRAP_KEY2_LEN) {
      set_err(err, errlen, "%s key: too much key material (more than %d bytes)",
              what, LVPN__TLSWRAP_KEY2_LEN);
      goto fail;
    }
    out[count++] = (uint8_t)((hi << 4) | hexval(c));
    hi = -1;
  }
  if (hi >= 0) {
    set_err(err, errlen, "%s key: odd number of hex digits", what);
    goto fail;
  }
  if (count < LVPN__TLSWRAP_KEY2_LEN) {
    set_err(err, errlen, "%s key: insufficient key material (%zu of %d bytes)",
            what, count, LVPN__TLSWRAP_KEY2_LEN);
    goto fail;
  }
  if (!found_foot) {
    set_err(err, errlen, "%s key: no '%s' line found", what, static_foot);
    goto fail;
  }
  return 0;
fail:
  mbedtls_platform_zeroize(out, LVPN__TLSWRAP_KEY2_LEN);
  return LVPN_EKEYFILE;
}

/* "-----BEGIN OpenVPN tls-crypt-v2 client key-----" + base64(Kc | WKc). */
static int parse_v2_client_key(lvpn__tlswrap_t *w, const char *pem, size_t len,
                               char *err, size_t errlen) {
  /* base64 of the largest key, plus slack for padding */
  unsigned char
      b64[4 * ((LVPN__TLSWRAP_KEY2_LEN + LVPN__TLS_CRYPT_V2_MAX_WKC_LEN + 2) /
               3) +
          8];
  unsigned char
      raw[LVPN__TLSWRAP_KEY2_LEN + LVPN__TLS_CRYPT_V2_MAX_WKC_LEN + 4];
  size_t off, end, n = 0, olen = 0, wl;
  int ret = LVPN_EKEYFILE;

  off = find_line(pem, len, 0, v2c_head);
  if (off == len) {
    if (find_line(pem, len, 0, static_head) < len)
      set_err(err, errlen,
              "tls-crypt-v2 key: this is a static key "
              "(tls-auth/tls-crypt), not a tls-crypt-v2 client key");
    else if (find_line(pem, len, 0, v2s_head) < len)
      set_err(err, errlen,
              "tls-crypt-v2 key: this is the server key; the "
              "client needs a tls-crypt-v2 client key");
    else
      set_err(err, errlen, "tls-crypt-v2 key: no '%s' line found", v2c_head);
    return LVPN_EKEYFILE;
  }
  off = next_line(pem, len, off);
  end = find_line(pem, len, off, v2c_foot);
  if (end == len) {
    set_err(err, errlen, "tls-crypt-v2 key: no '%s' line found", v2c_foot);
    return LVPN_EKEYFILE;
  }
  for (; off < end; off++) {
    if (isspace((unsigned char)pem[off]))
      continue;
    if (n == sizeof(b64)) {
      set_err(err, errlen,
              "tls-crypt-v2 key: too long (wrapped key over %d "
              "bytes)",
              LVPN__TLS_CRYPT_V2_MAX_WKC_LEN);
      goto out;
    }
    b64[n++] = (unsigned char)pem[off];
  }
  if (mbedtls_base64_decode(raw, sizeof(raw), &olen, b64, n) != 0) {
    set_err(err, errlen, "tls-crypt-v2 key: invalid base64 data");
    goto out;
  }
  if (olen < LVPN__TLSWRAP_KEY2_LEN + 2) {
    set_err(err, errlen,
            "tls-crypt-v2 key: too short (%zu bytes; need the "
            "256-byte key and a wrapped key)",
            olen);
    goto out;
  }
  wl = olen - LVPN__TLSWRAP_KEY2_LEN;
  if (wl > LVPN__TLS_CRYPT_V2_MAX_WKC_LEN) {
    set_err(err, errlen,
            "tls-crypt-v2 key: wrapped client key too long "
            "(%zu bytes, max %d)",
            wl, LVPN__TLS_CRYPT_V2_MAX_WKC_LEN);
    goto out;
  }
  if (((size_t)raw[olen - 2] << 8 | raw[olen - 1]) != wl) {
    set_err(err, errlen,
            "tls-crypt-v2 key: wrapped client key length field "
            "(%u) does not match its size (%zu)",
            (unsigned)(raw[olen - 2] << 8 | raw[olen - 1]), wl);
    goto out;
  }
  memcpy(w->key2, raw, LVPN__TLSWRAP_KEY2_LEN);
  memcpy(w->wkc, raw + LVPN__TLSWRAP_KEY2_LEN, wl);
  w->wkc_len = wl;
  ret = 0;
out:
  mbedtls_platform_zeroize(b64, sizeof(b64));
  mbedtls_platform_zeroize(raw, sizeof(raw));
  return ret;
}

/* ---- contexts ----------------------------------------------------------- */

static const mbedtls_md_info_t *digest_info(const char *name) {
  static const struct {
    const char *name;
    mbedtls_md_type_t type;
  } tab[] = {{"SHA1", MBEDTLS_MD_SHA1},
             {"SHA224", MBEDTLS_MD_SHA224},
             {"SHA256", MBEDTLS_MD_SHA256},
             {"SHA384", MBEDTLS_MD_SHA384},
             {"SHA512", MBEDTLS_MD_SHA512}};
  size_t i;
  if (name == NULL)
    name = "SHA1";
  for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
    if (strcasecmp(name, tab[i].name) == 0)
      return mbedtls_md_info_from_type(tab[i].type);
  }
  return NULL;
}

static int mbed_err(int ret) {
  return ret == MBEDTLS_ERR_MD_ALLOC_FAILED ? LVPN_ENOMEM : LVPN_ECRYPTO;
}

static int setup_hmac(mbedtls_md_context_t *md, const mbedtls_md_info_t *info,
                      const uint8_t *key, size_t keylen) {
  int ret = mbedtls_md_setup(md, info, 1);
  if (ret == 0)
    ret = mbedtls_md_hmac_starts(md, key, keylen);
  return ret == 0 ? 0 : mbed_err(ret);
}

/* keys[k] = key2 + 128k: cipher at +0, hmac at +64. */
static int setup_keys(lvpn__tlswrap_t *w, int enc, int dec,
                      const mbedtls_md_info_t *info) {
  const uint8_t *ke = w->key2 + ONE_KEY * enc, *kd = w->key2 + ONE_KEY * dec;
  int ret;

  w->hmac_len = mbedtls_md_get_size(info);
  ret = setup_hmac(&w->md_tx, info, ke + 64, w->hmac_len);
  if (ret == 0)
    ret = setup_hmac(&w->md_rx, info, kd + 64, w->hmac_len);
  if (ret == 0 && w->mode != LVPN__TLSWRAP_AUTH) {
    if (mbedtls_aes_setkey_enc(&w->aes_tx, ke, 256) != 0 ||
        mbedtls_aes_setkey_enc(&w->aes_rx, kd, 256) != 0)
      ret = LVPN_ECRYPTO;
  }
  return ret;
}

static void clear(lvpn__tlswrap_t *w) {
  memset(w, 0, sizeof(*w));
  mbedtls_md_init(&w->md_tx);
  mbedtls_md_init(&w->md_rx);
  mbedtls_aes_init(&w->aes_tx);
  mbedtls_aes_init(&w->aes_rx);
}

static int init_common(lvpn__tlswrap_t *w, int mode, const char *pem,
                       size_t len, int key_direction, const char *digest,
                       int server, char *err, size_t errlen) {
  const mbedtls_md_info_t *info;
  int ret, enc, dec;

  clear(w);
  w->server = server;
  if (mode == LVPN__TLSWRAP_NONE)
    return 0;
  if (mode < LVPN__TLSWRAP_AUTH || mode > LVPN__TLSWRAP_CRYPT_V2) {
    set_err(err, errlen, "unknown control-channel wrapping mode %d", mode);
    return LVPN_EINVAL;
  }
  if (pem == NULL)
    len = 0;
  w->mode = mode;
  if (mode == LVPN__TLSWRAP_AUTH) {
    if (key_direction < -1 || key_direction > 1) {
      set_err(err, errlen, "tls-auth: key direction must be 0, 1 or none");
      ret = LVPN_EINVAL;
      goto fail;
    }
    info = digest_info(digest);
    if (info == NULL) {
      set_err(err, errlen, "tls-auth: unsupported digest '%s'", digest);
      ret = LVPN_EUNSUPPORTED;
      goto fail;
    }
    ret = parse_static_key(pem, len, w->key2, "tls-auth", err, errlen);
    /* none: keys[0] both ways; 0: send keys[0]; 1: send keys[1] */
    enc = key_direction == 1 ? 1 : 0;
    dec = key_direction == 0 ? 1 : 0;
  } else {
    info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (mode == LVPN__TLSWRAP_CRYPT)
      ret = parse_static_key(pem, len, w->key2, "tls-crypt", err, errlen);
    else
      ret = parse_v2_client_key(w, pem, len, err, errlen);
    /* client INVERSE (sends with keys[1]), server NORMAL */
    enc = server ? 0 : 1;
    dec = 1 - enc;
  }
  if (ret == 0)
    ret = setup_keys(w, enc, dec, info);
  if (ret == 0)
    return 0;
  if (ret == LVPN_ECRYPTO || ret == LVPN_ENOMEM)
    set_err(err, errlen, "cannot set up the control-channel keys");
fail:
  lvpn__tlswrap_free(w);
  return ret;
}

int lvpn__tlswrap_init(lvpn__tlswrap_t *w, int mode, const char *pem,
                       size_t len, int key_direction, const char *digest,
                       char *err, size_t errlen) {
  return init_common(w, mode, pem, len, key_direction, digest, 0, err, errlen);
}

int lvpn__tlswrap_init_server(lvpn__tlswrap_t *w, int mode, const char *pem,
                              size_t len, int key_direction, const char *digest,
                              char *err, size_t errlen) {
  return init_common(w, mode, pem, len, key_direction, digest, 1, err, errlen);
}

int lvpn__tlswrap_init_dynamic(lvpn__tlswrap_t *w,
                               const uint8_t ekm[LVPN__TLSWRAP_KEY2_LEN],
                               const lvpn__tlswrap_t *orig) {
  int server = orig != NULL ? orig->server : 0, ret, i;

  clear(w);
  w->mode = LVPN__TLSWRAP_CRYPT;
  w->server = server;
  memcpy(w->key2, ekm, LVPN__TLSWRAP_KEY2_LEN);
  if (orig != NULL && orig->mode != LVPN__TLSWRAP_NONE) {
    for (i = 0; i < LVPN__TLSWRAP_KEY2_LEN; i++)
      w->key2[i] ^= orig->key2[i];
  }
  ret = setup_keys(w, server ? 0 : 1, server ? 1 : 0,
                   mbedtls_md_info_from_type(MBEDTLS_MD_SHA256));
  if (ret != 0)
    lvpn__tlswrap_free(w);
  return ret;
}

void lvpn__tlswrap_free(lvpn__tlswrap_t *w) {
  mbedtls_md_free(&w->md_tx);
  mbedtls_md_free(&w->md_rx);
  mbedtls_aes_free(&w->aes_tx);
  mbedtls_aes_free(&w->aes_rx);
  mbedtls_platform_zeroize(w, sizeof(*w));
}

void lvpn__tlswrap_set_early_neg(lvpn__tlswrap_t *w) {
  w->tx_pid = LVPN__EARLY_NEG_START;
}

size_t lvpn__tlswrap_overhead(const lvpn__tlswrap_t *w) {
  switch (w->mode) {
  case LVPN__TLSWRAP_AUTH:
    return w->hmac_len + PID_LEN;
  case LVPN__TLSWRAP_CRYPT:
  case LVPN__TLSWRAP_CRYPT_V2:
    return PID_LEN + LVPN__TLS_CRYPT_TAG_SIZE;
  default:
    return 0;
  }
}

size_t lvpn__tlswrap_wkc_len(const lvpn__tlswrap_t *w) {
  return w->mode == LVPN__TLSWRAP_CRYPT_V2 ? w->wkc_len : 0;
}

/* ---- replay window (OpenVPN packet_id.c, backtrack mode) ----------------- */

static uint32_t *rp_item(lvpn__tlswrap_replay_t *r, uint32_t i) {
  return &r->seen[(r->head + LVPN__TLSWRAP_SEQ_BACKTRACK - i) %
                  LVPN__TLSWRAP_SEQ_BACKTRACK];
}

static void rp_push(lvpn__tlswrap_replay_t *r, uint32_t v) {
  r->head = (uint8_t)((r->head + 1) % LVPN__TLSWRAP_SEQ_BACKTRACK);
  r->seen[r->head] = v;
  if (r->size < LVPN__TLSWRAP_SEQ_BACKTRACK)
    r->size++;
}

/* Expire every slot at and beyond the first one seen more than 15 s ago. */
static void rp_reap(lvpn__tlswrap_replay_t *r, uint32_t now) {
  int expire = 0;
  uint32_t i, *t;
  for (i = 0; i < r->size; i++) {
    t = rp_item(r, i);
    if (*t == SEQ_EXPIRED)
      break;
    if (!expire && *t != SEQ_UNSEEN &&
        (uint64_t)*t + LVPN__TLSWRAP_TIME_BACKTRACK < now)
      expire = 1;
    if (expire)
      *t = SEQ_EXPIRED;
  }
}

static int rp_test(lvpn__tlswrap_replay_t *r, uint32_t id, uint32_t time) {
  uint32_t diff;
  if (id == 0)
    return 0;
  if (time < r->time)
    return 0;
  if (time > r->time || id > r->id)
    return 1;
  diff = r->id - id;
  return diff < r->size && *rp_item(r, diff) == SEQ_UNSEEN;
}

static void rp_add(lvpn__tlswrap_replay_t *r, uint32_t id, uint32_t time,
                   uint32_t now) {
  uint32_t diff;
  if (r->size == 0 || time > r->time ||
      (id >= LVPN__TLSWRAP_SEQ_BACKTRACK &&
       id - LVPN__TLSWRAP_SEQ_BACKTRACK > r->id)) {
    r->time = time;
    r->id =
        id > LVPN__TLSWRAP_SEQ_BACKTRACK ? id - LVPN__TLSWRAP_SEQ_BACKTRACK : 0;
    r->size = 0;
    r->head = 0;
  }
  while (r->id < id) {
    rp_push(r, SEQ_UNSEEN);
    r->id++;
  }
  diff = r->id - id;
  if (diff < r->size && now > SEQ_EXPIRED)
    *rp_item(r, diff) = now;
}

static int replay_check(lvpn__tlswrap_t *w, const uint8_t *pidp, uint32_t now) {
  uint32_t id = lvpn__get_u32(pidp), time = lvpn__get_u32(pidp + 4);
  rp_reap(&w->rx, now);
  if (!rp_test(&w->rx, id, time)) {
    w->replays++;
    return LVPN_EREPLAY;
  }
  rp_add(&w->rx, id, time, now);
  return 0;
}

/* ---- wrap / unwrap ------------------------------------------------------ */

static int hmac3(mbedtls_md_context_t *md, const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen, const uint8_t *c, size_t clen,
                 uint8_t *out) {
  if (mbedtls_md_hmac_reset(md) != 0 || mbedtls_md_hmac_update(md, a, alen) ||
      mbedtls_md_hmac_update(md, b, blen) ||
      mbedtls_md_hmac_update(md, c, clen) || mbedtls_md_hmac_finish(md, out))
    return LVPN_ECRYPTO;
  return 0;
}

static int ctr(mbedtls_aes_context *aes, const uint8_t *tag, uint8_t *buf,
               size_t len) {
  uint8_t nonce[16], stream[16];
  size_t nc_off = 0;
  int ret;
  memcpy(nonce, tag, 16);
  ret = mbedtls_aes_crypt_ctr(aes, len, &nc_off, nonce, stream, buf, buf);
  mbedtls_platform_zeroize(stream, sizeof(stream));
  return ret == 0 ? 0 : LVPN_ECRYPTO;
}

static int needs_wkc(const lvpn__tlswrap_t *w, uint8_t byte0) {
  uint8_t op = (uint8_t)(byte0 >> LVPN__P_OPCODE_SHIFT);
  return w->mode == LVPN__TLSWRAP_CRYPT_V2 &&
         (op == LVPN__P_CONTROL_HARD_RESET_CLIENT_V3 ||
          op == LVPN__P_CONTROL_WKC_V1);
}

int lvpn__tlswrap_wrap(lvpn__tlswrap_t *w, lvpn__pbuf_t *p, uint32_t now) {
  uint8_t mac[MBEDTLS_MD_MAX_SIZE], *b;
  size_t hdr, L = w->hmac_len;
  int wkc, ret;

  if (w->mode == LVPN__TLSWRAP_NONE)
    return 0;
  if (p->len < HEAD_LEN)
    return LVPN_ESHORT;
  hdr = lvpn__tlswrap_overhead(w);
  wkc = needs_wkc(w, p->data[0]);
  if (lvpn__pbuf_headroom(p) < hdr ||
      (wkc && lvpn__pbuf_tailroom(p) < w->wkc_len))
    return LVPN_ETOOBIG;
  if (w->tx_pid == UINT32_MAX) {
    /* long form may roll over once time has moved on (packet_id.c) */
    if (now <= w->tx_time)
      return LVPN_ESTATE;
    w->tx_time = now;
    w->tx_pid = 0;
  }
  if (w->tx_time == 0)
    w->tx_time = now;
  w->tx_pid++;

  b = lvpn__pbuf_push(p, hdr);
  memmove(b, b + hdr, HEAD_LEN);
  if (w->mode == LVPN__TLSWRAP_AUTH) {
    /* byte0 | sid | HMAC(L) | pid | time | rest */
    lvpn__put_u32(b + HEAD_LEN + L, w->tx_pid);
    lvpn__put_u32(b + HEAD_LEN + L + 4, w->tx_time);
    ret = hmac3(&w->md_tx, b + HEAD_LEN + L, PID_LEN, b, HEAD_LEN,
                b + hdr + HEAD_LEN, p->len - hdr - HEAD_LEN, mac);
    if (ret == 0)
      memcpy(b + HEAD_LEN, mac, L);
  } else {
    /* byte0 | sid | pid | time | tag | CTR(rest) */
    lvpn__put_u32(b + CRYPT_OFF_PID, w->tx_pid);
    lvpn__put_u32(b + CRYPT_OFF_PID + 4, w->tx_time);
    ret = hmac3(&w->md_tx, b, CRYPT_OFF_TAG, NULL, 0, b + CRYPT_OFF_CT,
                p->len - CRYPT_OFF_CT, b + CRYPT_OFF_TAG);
    if (ret == 0)
      ret = ctr(&w->aes_tx, b + CRYPT_OFF_TAG, b + CRYPT_OFF_CT,
                p->len - CRYPT_OFF_CT);
    if (ret == 0 && wkc)
      memcpy(lvpn__pbuf_put(p, w->wkc_len), w->wkc, w->wkc_len);
  }
  mbedtls_platform_zeroize(mac, sizeof(mac));
  if (ret == 0)
    w->wrapped++;
  return ret;
}

/* Test server only: check and strip the WKc the client appended. */
static int strip_wkc(lvpn__tlswrap_t *w, lvpn__pbuf_t *p) {
  size_t wl;
  if (p->len < CRYPT_OFF_CT + 2)
    return LVPN_ESHORT;
  wl = (size_t)p->data[p->len - 2] << 8 | p->data[p->len - 1];
  if (wl != w->wkc_len || wl > p->len - CRYPT_OFF_CT ||
      lvpn__ct_differ(p->data + p->len - wl, w->wkc, wl))
    return LVPN_EAUTH;
  lvpn__pbuf_trim(p, wl);
  return 0;
}

int lvpn__tlswrap_unwrap(lvpn__tlswrap_t *w, lvpn__pbuf_t *p, uint32_t now) {
  uint8_t mac[MBEDTLS_MD_MAX_SIZE], *b = p->data;
  size_t hdr, L = w->hmac_len;
  int ret;

  if (w->mode == LVPN__TLSWRAP_NONE)
    return 0;
  hdr = lvpn__tlswrap_overhead(w);
  if (p->len < HEAD_LEN + hdr)
    return LVPN_ESHORT;
  if (w->mode == LVPN__TLSWRAP_AUTH) {
    ret = hmac3(&w->md_rx, b + HEAD_LEN + L, PID_LEN, b, HEAD_LEN,
                b + HEAD_LEN + hdr, p->len - HEAD_LEN - hdr, mac);
    if (ret == 0 && lvpn__ct_differ(mac, b + HEAD_LEN, L))
      ret = LVPN_EAUTH;
    if (ret == 0)
      ret = replay_check(w, b + HEAD_LEN + L, now);
  } else {
    if (w->server && needs_wkc(w, b[0])) {
      ret = strip_wkc(w, p);
      if (ret != 0)
        goto out;
    }
    ret = ctr(&w->aes_rx, b + CRYPT_OFF_TAG, b + CRYPT_OFF_CT,
              p->len - CRYPT_OFF_CT);
    if (ret == 0)
      ret = hmac3(&w->md_rx, b, CRYPT_OFF_TAG, NULL, 0, b + CRYPT_OFF_CT,
                  p->len - CRYPT_OFF_CT, mac);
    if (ret == 0 && lvpn__ct_differ(mac, b + CRYPT_OFF_TAG, LVPN__TLS_CRYPT_TAG_SIZE))
      ret = LVPN_EAUTH;
    if (ret == 0)
      ret = replay_check(w, b + CRYPT_OFF_PID, now);
  }
out:
  mbedtls_platform_zeroize(mac, sizeof(mac));
  if (ret == LVPN_EAUTH)
    w->auth_failures++;
  if (ret != 0)
    return ret;
  memmove(b + hdr, b, HEAD_LEN);
  lvpn__pbuf_pull(p, hdr);
  w->unwrapped++;
  return 0;
}
