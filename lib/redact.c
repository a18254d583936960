/* See redact.h. */
#include "lib/redact.h"

#include <string.h>

static const char *const secret_names[] = {"auth-token", "auth-token-user"};

/* Length of the secret option name that field f[0..n) starts with, followed
 * by a blank; 0 when it starts with none. */
static size_t secret_name_len(const char *f, size_t n) {
  size_t i, l;
  for (i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++) {
    l = strlen(secret_names[i]);
    if (n > l && memcmp(f, secret_names[i], l) == 0 &&
        (f[l] == ' ' || f[l] == '\t'))
      return l;
  }
  return 0;
}

int lvpn__redact_next(const char *msg, size_t len, size_t *pos, size_t *start,
                      size_t *end) {
  const char *nul = memchr(msg, '\0', len);
  size_t i = *pos, s, e, l;

  if (nul != NULL)
    len = (size_t)(nul - msg);
  while (i < len) {
    s = i;
    while (s < len && (msg[s] == ' ' || msg[s] == '\t'))
      s++;
    e = s;
    while (e < len && msg[e] != ',')
      e++;
    l = secret_name_len(msg + s, e - s);
    i = e + 1;
    if (l > 0) {
      *start = s + l + 1; /* past the name and one blank */
      *end = e;
      *pos = i;
      return 1;
    }
  }
  *pos = len;
  return 0;
}

void lvpn__redact_mask(char *msg, size_t len) {
  size_t pos = 0, s, e;
  while (lvpn__redact_next(msg, len, &pos, &s, &e))
    memset(msg + s, '*', e - s);
}

/* Appends src[0..n) to out, cut at cap - 1. */
static void put(char *out, size_t cap, size_t *o, const char *src, size_t n) {
  if (n > cap - 1 - *o)
    n = cap - 1 - *o;
  memcpy(out + *o, src, n);
  *o += n;
}

size_t lvpn__redact_copy(char *out, size_t cap, const char *msg, size_t len) {
  static const char mark[] = "[REDACTED]";
  const char *nul = memchr(msg, '\0', len);
  size_t pos = 0, from = 0, s, e, o = 0;

  if (cap == 0)
    return 0;
  if (nul != NULL)
    len = (size_t)(nul - msg);
  while (lvpn__redact_next(msg, len, &pos, &s, &e)) {
    put(out, cap, &o, msg + from, s - from);
    put(out, cap, &o, mark, sizeof(mark) - 1);
    from = e;
  }
  put(out, cap, &o, msg + from, len - from);
  out[o] = '\0';
  return o;
}
