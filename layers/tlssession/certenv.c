/* OpenVPN's certificate variables for scripts: see certenv.h. */
#include "layers/tlssession/certenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

#include "layervpn.h"

/* ---- OpenSSL's short names ---- */

/* clang-format off */
/* X.520 attribute types 2.5.4.N by N (OID bytes 55 04 N) */
static const char *const x520[] = {
    [3] = "CN", [4] = "SN", [5] = "serialNumber", [6] = "C", [7] = "L",
    [8] = "ST", [9] = "street", [10] = "O", [11] = "OU", [12] = "title",
    [13] = "description", [14] = "searchGuide", [15] = "businessCategory",
    [16] = "postalAddress", [17] = "postalCode", [18] = "postOfficeBox",
    [19] = "physicalDeliveryOfficeName", [20] = "telephoneNumber",
    [21] = "telexNumber", [22] = "teletexTerminalIdentifier",
    [23] = "facsimileTelephoneNumber", [24] = "x121Address",
    [25] = "internationaliSDNNumber", [26] = "registeredAddress",
    [27] = "destinationIndicator", [28] = "preferredDeliveryMethod",
    [29] = "presentationAddress", [30] = "supportedApplicationContext",
    [31] = "member", [32] = "owner", [33] = "roleOccupant", [34] = "seeAlso",
    [35] = "userPassword", [36] = "userCertificate", [37] = "cACertificate",
    [38] = "authorityRevocationList", [39] = "certificateRevocationList",
    [40] = "crossCertificatePair", [41] = "name", [42] = "GN",
    [43] = "initials", [44] = "generationQualifier",
    [45] = "x500UniqueIdentifier", [46] = "dnQualifier",
    [47] = "enhancedSearchGuide", [48] = "protocolInformation",
    [49] = "distinguishedName", [50] = "uniqueMember",
    [51] = "houseIdentifier", [52] = "supportedAlgorithms",
    [53] = "deltaRevocationList", [54] = "dmdName", [65] = "pseudonym",
    [72] = "role", [97] = "organizationIdentifier", [98] = "c3", [99] = "n3",
    [100] = "dnsName"};
/* PKCS #9 1.2.840.113549.1.9.N by N */
static const char *const pkcs9[] = {
    [1] = "emailAddress", [2] = "unstructuredName", [3] = "contentType",
    [4] = "messageDigest", [5] = "signingTime", [6] = "countersignature",
    [7] = "challengePassword", [8] = "unstructuredAddress",
    [9] = "extendedCertificateAttributes"};
#define PKCS9 "\x2A\x86\x48\x86\xF7\x0D\x01\x09"
/* 0.9.2342.19200300.100.1 (pilot attributes) */
#define PILOT "\x09\x92\x26\x89\x93\xF2\x2C\x64\x01"
/* 1.3.6.1.4.1.311.60.2.1 (EV jurisdiction) */
#define EVJUR "\x2B\x06\x01\x04\x01\x82\x37\x3C\x02\x01"
static const struct {
  const char *oid;
  size_t len;
  const char *sn;
} other_names[] = {
#define N(o, s) {o, sizeof(o) - 1, s}
    N(PILOT "\x01", "UID"),           N(PILOT "\x03", "mail"),
    N(PILOT "\x19", "DC"),            N(EVJUR "\x01", "jurisdictionL"),
    N(EVJUR "\x02", "jurisdictionST"), N(EVJUR "\x03", "jurisdictionC"),
#undef N
};
/* clang-format on */

/* OpenSSL's short name (crypto/objects/objects.txt) of an attribute type,
 * or NULL when it is not in the tables above. */
static const char *short_name(const mbedtls_asn1_buf *oid) {
  size_t i;
  if (oid->len == 3 && oid->p[0] == 0x55 && oid->p[1] == 0x04 &&
      oid->p[2] < sizeof(x520) / sizeof(x520[0]))
    return x520[oid->p[2]];
  if (oid->len == sizeof(PKCS9) && memcmp(oid->p, PKCS9, oid->len - 1) == 0 &&
      oid->p[oid->len - 1] < sizeof(pkcs9) / sizeof(pkcs9[0]))
    return pkcs9[oid->p[oid->len - 1]];
  for (i = 0; i < sizeof(other_names) / sizeof(other_names[0]); i++)
    if (oid->len == other_names[i].len &&
        memcmp(oid->p, other_names[i].oid, oid->len) == 0)
      return other_names[i].sn;
  return NULL;
}

/* ---- a growing string ---- */

typedef struct {
  char *s;
  size_t len, cap;
  int oom;
} str_t;

/* Room for `need` bytes in *buf (*cap allocated), doubling from `first`.
 * 0, or -1 with *buf unchanged. */
static int room(char **buf, size_t *cap, size_t need, size_t first) {
  size_t c = *cap ? *cap : first;
  char *b;
  if (need <= *cap)
    return 0;
  while (c < need)
    c *= 2;
  if ((b = realloc(*buf, c)) == NULL)
    return -1;
  *buf = b;
  *cap = c;
  return 0;
}

static void str_putn(str_t *t, const char *p, size_t n) {
  if (t->oom || (t->oom = room(&t->s, &t->cap, t->len + n + 1, 64)) != 0)
    return;
  memcpy(t->s + t->len, p, n);
  t->len += n;
  t->s[t->len] = '\0';
}

static void str_puts(str_t *t, const char *p) {
  str_putn(t, p, strlen(p));
}

/* lowercase hex bytes joined by ':' (OpenVPN's format_hex_ex(.., ":")) */
static void str_hex(str_t *t, const unsigned char *p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    char b[3] = {hex[p[i] >> 4], hex[p[i] & 15], ':'};
    str_putn(t, b, i + 1 < n ? 3 : 2);
  }
}

/* ---- attribute values as UTF-8 ---- */

enum { CTRL_ESCAPE, CTRL_UNDERSCORE };

static void put_char(str_t *t, unsigned long c, int ctrl) {
  char b[8];
  if (c < 0x20 || c == 0x7f) {
    if (ctrl == CTRL_ESCAPE) { /* OpenSSL's ASN1_STRFLGS_ESC_CTRL */
      snprintf(b, sizeof(b), "\\%02X", (unsigned)c);
      str_puts(t, b);
    } else { /* OpenVPN's string_mod(CC_PRINT, '_') */
      str_putn(t, "_", 1);
    }
  } else if (c < 0x80) {
    b[0] = (char)c;
    str_putn(t, b, 1);
  } else if (c < 0x800) {
    b[0] = (char)(0xC0 | (c >> 6));
    b[1] = (char)(0x80 | (c & 0x3F));
    str_putn(t, b, 2);
  } else if (c < 0x10000) {
    b[0] = (char)(0xE0 | (c >> 12));
    b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    b[2] = (char)(0x80 | (c & 0x3F));
    str_putn(t, b, 3);
  } else if (c < 0x110000) {
    b[0] = (char)(0xF0 | (c >> 18));
    b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    b[3] = (char)(0x80 | (c & 0x3F));
    str_putn(t, b, 4);
  } else {
    str_putn(t, "?", 1);
  }
}

/* BMPString: UCS-2; UniversalString: UCS-4; T61String: Latin-1 (as
 * OpenSSL converts them); any other string type: its bytes as they are
 * (UTF-8 or ASCII), control bytes handled. */
static void put_value(str_t *t, const mbedtls_asn1_buf *v, int ctrl) {
  size_t i;
  switch (v->tag) {
  case MBEDTLS_ASN1_BMP_STRING:
    for (i = 0; i + 1 < v->len; i += 2)
      put_char(t, ((unsigned long)v->p[i] << 8) | v->p[i + 1], ctrl);
    break;
  case MBEDTLS_ASN1_UNIVERSAL_STRING:
    for (i = 0; i + 3 < v->len; i += 4)
      put_char(t,
               ((unsigned long)v->p[i] << 24) |
                   ((unsigned long)v->p[i + 1] << 16) |
                   ((unsigned long)v->p[i + 2] << 8) | v->p[i + 3],
               ctrl);
    break;
  case MBEDTLS_ASN1_T61_STRING:
    for (i = 0; i < v->len; i++)
      put_char(t, v->p[i], ctrl);
    break;
  default:
    for (i = 0; i < v->len; i++) {
      unsigned char c = v->p[i];
      if (c < 0x20 || c == 0x7f)
        put_char(t, c, ctrl);
      else
        str_putn(t, (const char *)&v->p[i], 1);
    }
  }
}

/* ---- the variable list ---- */

void lvpn__certenv_init(lvpn__certenv_t *e) {
  memset(e, 0, sizeof(*e));
  e->last_depth = -1;
}

void lvpn__certenv_free(lvpn__certenv_t *e) {
  free(e->buf);
  lvpn__certenv_init(e);
}

const char *lvpn__certenv_next(const lvpn__certenv_t *e, const char *prev) {
  const char *p = prev == NULL ? e->buf : prev + strlen(prev) + 1;
  if (e->buf == NULL || p >= e->buf + e->len)
    return NULL;
  return p;
}

static int has_name(const lvpn__certenv_t *e, const char *name) {
  const char *v = NULL;
  size_t n = strlen(name);
  while ((v = lvpn__certenv_next(e, v)) != NULL)
    if (strncmp(v, name, n) == 0 && v[n] == '=')
      return 1;
  return 0;
}

/* Appends "name=value"; a full list drops it (truncated). */
static int env_put(lvpn__certenv_t *e, const char *name, const char *value) {
  size_t n = strlen(name), m = strlen(value), need = n + m + 2;
  if (e->len + need > LVPN__CERTENV_MAX) {
    e->truncated = 1;
    return 0;
  }
  if (room(&e->buf, &e->cap, e->len + need, 512) != 0)
    return LVPN_ENOMEM;
  memcpy(e->buf + e->len, name, n);
  e->buf[e->len + n] = '=';
  memcpy(e->buf + e->len + n + 1, value, m + 1);
  e->len += need;
  return 0;
}

/* X509_N_<sn> for each attribute OpenSSL has a name for; a repeated name
 * gets _1, _2, ... (OpenVPN's setenv_str_incr, up to _999). */
static int put_attrs(lvpn__certenv_t *e, const mbedtls_x509_name *dn,
                     int depth) {
  str_t v = {0};
  char name[96], cand[104];
  int rc = 0;
  unsigned k;

  for (; dn != NULL && rc == 0; dn = dn->next) {
    const char *sn;
    if (dn->oid.p == NULL || (sn = short_name(&dn->oid)) == NULL)
      continue;
    v.len = 0;
    put_value(&v, &dn->val, CTRL_UNDERSCORE);
    str_putn(&v, "", 0);
    if (v.oom) {
      rc = LVPN_ENOMEM;
      break;
    }
    snprintf(name, sizeof(name), "X509_%d_%s", depth, sn);
    snprintf(cand, sizeof(cand), "%s", name);
    for (k = 1; has_name(e, cand) && k < 1000; k++)
      snprintf(cand, sizeof(cand), "%s_%u", name, k);
    if (k < 1000)
      rc = env_put(e, cand, v.s ? v.s : "");
  }
  free(v.s);
  return rc;
}

/* OpenSSL's X509_NAME_print_ex(.., XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN |
 * ASN1_STRFLGS_UTF8_CONVERT | ASN1_STRFLGS_ESC_CTRL), then OpenVPN's
 * remapping (a leading '-' becomes '_'). */
static void put_subject(str_t *t, const mbedtls_x509_name *dn) {
  int first = 1, merged = 0;
  char oid[64];
  for (; dn != NULL; dn = dn->next) {
    const char *sn;
    if (dn->oid.p == NULL)
      continue;
    if (!first)
      str_puts(t, merged ? " + " : ", ");
    first = 0;
    if ((sn = short_name(&dn->oid)) == NULL) {
      if (mbedtls_oid_get_numeric_string(oid, sizeof(oid), &dn->oid) < 0)
        snprintf(oid, sizeof(oid), "?");
      sn = oid;
    }
    str_puts(t, sn);
    str_putn(t, "=", 1);
    put_value(t, &dn->val, CTRL_ESCAPE);
    merged = dn->next_merged;
  }
  if (!t->oom && t->len > 0 && t->s[0] == '-')
    t->s[0] = '_';
}

/* tls_serial_N (decimal, '-' for a negative one) and tls_serial_hex_N
 * (the magnitude's bytes, as OpenSSL keeps an ASN1_INTEGER). */
static int put_serial(lvpn__certenv_t *e, const mbedtls_x509_buf *serial,
                      int depth) {
  unsigned char *mag;
  size_t n = serial->len, i, skip = 0;
  int neg = n > 0 && (serial->p[0] & 0x80), rc = 0;
  char name[40], dec[160];
  size_t olen = 0;
  mbedtls_mpi x;
  str_t hex = {0};

  if (n == 0)
    return 0;
  if ((mag = malloc(n)) == NULL)
    return LVPN_ENOMEM;
  memcpy(mag, serial->p, n);
  if (neg) { /* two's complement: invert, add one */
    for (i = 0; i < n; i++)
      mag[i] = (unsigned char)~mag[i];
    for (i = n; i-- > 0;)
      if (++mag[i] != 0)
        break;
  }
  while (skip + 1 < n && mag[skip] == 0)
    skip++;
  mbedtls_mpi_init(&x);
  dec[0] = '-';
  if (mbedtls_mpi_read_binary(&x, mag + skip, n - skip) == 0 &&
      mbedtls_mpi_write_string(&x, 10, dec + 1, sizeof(dec) - 1, &olen) == 0) {
    snprintf(name, sizeof(name), "tls_serial_%d", depth);
    rc = env_put(e, name, neg ? dec : dec + 1);
  }
  mbedtls_mpi_free(&x);
  str_hex(&hex, mag + skip, n - skip);
  if (rc == 0 && hex.oom)
    rc = LVPN_ENOMEM;
  if (rc == 0) {
    snprintf(name, sizeof(name), "tls_serial_hex_%d", depth);
    rc = env_put(e, name, hex.s);
  }
  free(hex.s);
  free(mag);
  return rc;
}

int lvpn__certenv_add(lvpn__certenv_t *e, const mbedtls_x509_crt *crt,
                      int depth) {
  unsigned char sha1[20], sha256[32];
  char name[40];
  str_t t = {0};
  int rc;

  if (depth >= e->last_depth) { /* a new chain */
    e->len = 0;
    e->truncated = 0;
  }
  e->last_depth = depth;
  rc = put_attrs(e, &crt->subject, depth);
  if (rc == 0) {
    put_subject(&t, &crt->subject);
    str_putn(&t, "", 0);
    if (t.oom)
      rc = LVPN_ENOMEM;
  }
  if (rc == 0) {
    snprintf(name, sizeof(name), "tls_id_%d", depth);
    rc = env_put(e, name, t.s);
  }
  if (rc == 0 && mbedtls_sha1_ret(crt->raw.p, crt->raw.len, sha1) == 0 &&
      mbedtls_sha256_ret(crt->raw.p, crt->raw.len, sha256, 0) == 0) {
    t.len = 0;
    str_hex(&t, sha1, sizeof(sha1));
    snprintf(name, sizeof(name), "tls_digest_%d", depth);
    rc = t.oom ? LVPN_ENOMEM : env_put(e, name, t.s);
    t.len = 0;
    str_hex(&t, sha256, sizeof(sha256));
    snprintf(name, sizeof(name), "tls_digest_sha256_%d", depth);
    if (rc == 0)
      rc = t.oom ? LVPN_ENOMEM : env_put(e, name, t.s);
  }
  free(t.s);
  if (rc == 0)
    rc = put_serial(e, &crt->serial, depth);
  return rc;
}
