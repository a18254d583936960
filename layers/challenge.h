/* Challenge/response and token encodings of OpenVPN's auth-user-pass
 * (loop-free, used by client_auth.c):
 *   static-challenge: password field "SCRV1:" base64(password) ":"
 *                     base64(response);
 *   dynamic challenge: AUTH_FAILED,CRV1:flags:state_id:base64(user):text,
 *                     answered with password "CRV1::" state_id "::" response;
 *   auth-token-user:  the username, base64-encoded.
 * Every string returned is heap, NUL-terminated; free it with
 * lvpn__secret_free() (which zeroes it first). */
#ifndef LVPN_LAYERS_CHALLENGE_H
#define LVPN_LAYERS_CHALLENGE_H

#include <stddef.h>

typedef struct {
  int echo;          /* flag E: the response may be shown */
  int need_response; /* flag R: a response is required */
  char *state_id;    /* heap */
  char *user;        /* heap, base64-decoded */
  char *text;        /* heap, the challenge text to show */
} lvpn__crv1_t;

/* "SCRV1:b64(pass):b64(resp)" into *out. 0 or LVPN_ENOMEM. */
int lvpn__scrv1_encode(char **out, const char *pass, const char *resp);
/* Parses the reason of AUTH_FAILED (text after "AUTH_FAILED,"). Returns 0,
 * LVPN_EINVAL when it is not a CRV1 challenge, LVPN_EPROTO when malformed,
 * LVPN_ENOMEM. On error *c is left empty. */
int lvpn__crv1_parse(const char *reason, lvpn__crv1_t *c);
void lvpn__crv1_free(lvpn__crv1_t *c);
/* "CRV1::state_id::response" into *out. */
int lvpn__crv1_answer(char **out, const char *state_id, const char *resp);
/* base64 text to a NUL-terminated string (rejects embedded NULs). */
int lvpn__b64_decode_str(char **out, const char *b64);
/* Zeroes and frees *s, sets it NULL; harmless on NULL. */
void lvpn__secret_free(char **s);
/* Heap copy of `s` (NULL stays NULL); LVPN_ENOMEM. */
int lvpn__secret_dup(char **out, const char *s);

#endif
