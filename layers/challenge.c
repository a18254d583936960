#include "layers/challenge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

#include "layervpn.h"

void lvpn__secret_free(char **s) {
  if (*s == NULL)
    return;
  mbedtls_platform_zeroize(*s, strlen(*s));
  free(*s);
  *s = NULL;
}

int lvpn__secret_dup(char **out, const char *s) {
  *out = NULL;
  if (s == NULL)
    return 0;
  *out = strdup(s);
  return *out == NULL ? LVPN_ENOMEM : 0;
}

/* Appends base64(s) at out[*at]; `out` has room (computed by the caller). */
static void b64_put(char *out, size_t max, size_t *at, const char *s) {
  size_t n = 0;
  mbedtls_base64_encode((unsigned char *)out + *at, max - *at, &n,
                        (const unsigned char *)s, strlen(s));
  *at += n;
}

static size_t b64_len(const char *s) { return (strlen(s) + 2) / 3 * 4; }

int lvpn__scrv1_encode(char **out, const char *pass, const char *resp) {
  size_t max = 6 + b64_len(pass) + 1 + b64_len(resp) + 1, at = 6;
  char *b = malloc(max);
  if (b == NULL)
    return LVPN_ENOMEM;
  memcpy(b, "SCRV1:", 6);
  b64_put(b, max, &at, pass);
  b[at++] = ':';
  b64_put(b, max, &at, resp);
  b[at] = '\0';
  *out = b;
  return 0;
}

int lvpn__crv1_answer(char **out, const char *state_id, const char *resp) {
  size_t max = 6 + strlen(state_id) + 2 + strlen(resp) + 1;
  char *b = malloc(max);
  if (b == NULL)
    return LVPN_ENOMEM;
  snprintf(b, max, "CRV1::%s::%s", state_id, resp);
  *out = b;
  return 0;
}

int lvpn__b64_decode_str(char **out, const char *b64) {
  size_t n = 0, max = strlen(b64) / 4 * 3 + 3;
  unsigned char *b = malloc(max + 1);
  *out = NULL;
  if (b == NULL)
    return LVPN_ENOMEM;
  if (mbedtls_base64_decode(b, max, &n, (const unsigned char *)b64,
                            strlen(b64)) != 0 ||
      memchr(b, '\0', n) != NULL) {
    mbedtls_platform_zeroize(b, max + 1);
    free(b);
    return LVPN_EPROTO;
  }
  b[n] = '\0';
  *out = (char *)b;
  return 0;
}

void lvpn__crv1_free(lvpn__crv1_t *c) {
  lvpn__secret_free(&c->state_id);
  lvpn__secret_free(&c->user);
  free(c->text);
  memset(c, 0, sizeof(*c));
}

/* Copies the field of `s` up to ':' into *out; returns the next field. */
static const char *field(const char *s, char **out) {
  const char *e = strchr(s, ':');
  if (e == NULL)
    return NULL;
  *out = strndup(s, (size_t)(e - s));
  return *out == NULL ? NULL : e + 1;
}

int lvpn__crv1_parse(const char *reason, lvpn__crv1_t *c) {
  char *flags = NULL, *user64 = NULL;
  const char *s, *f;
  int rc = LVPN_EPROTO;

  memset(c, 0, sizeof(*c));
  if (strncmp(reason, "CRV1:", 5) != 0)
    return LVPN_EINVAL;
  s = field(reason + 5, &flags);
  if (s != NULL)
    s = field(s, &c->state_id);
  if (s != NULL)
    s = field(s, &user64);
  if (s == NULL || c->state_id[0] == '\0')
    goto out;
  for (f = flags; *f != '\0'; f++) {
    if (*f == 'E')
      c->echo = 1;
    else if (*f == 'R')
      c->need_response = 1;
  }
  if ((rc = lvpn__b64_decode_str(&c->user, user64)) != 0)
    goto out;
  c->text = strdup(s);
  rc = c->text == NULL ? LVPN_ENOMEM : 0;
out:
  free(flags);
  lvpn__secret_free(&user64);
  if (rc != 0)
    lvpn__crv1_free(c);
  return rc;
}
