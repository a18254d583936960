/* The challenge/response and token encodings of auth-user-pass
 * (layers/challenge.c): the server's AUTH_FAILED,CRV1 reason, base64 text,
 * and the SCRV1/CRV1 answers built from hostile strings. A parsed
 * challenge's answer must hold the state id it came with.
 *
 * Input: sel(1) | text (NUL bytes included as given). */
#include "layers/challenge.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text, *out = NULL;
  lvpn__crv1_t c = {0};
  uint8_t sel;

  if (size < 1)
    return 0;
  sel = data[0];
  text = malloc(size);
  if (text == NULL)
    abort();
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  switch (sel % 3) {
  case 0:
    if (lvpn__crv1_parse(text, &c) == 0) {
      if (c.state_id == NULL || c.user == NULL || c.text == NULL)
        abort();
      if (lvpn__crv1_answer(&out, c.state_id, "123456") == 0 &&
          strstr(out, c.state_id) == NULL)
        abort();
      lvpn__secret_free(&out);
      lvpn__crv1_free(&c);
    }
    break;
  case 1:
    if (lvpn__b64_decode_str(&out, text) == 0 && out == NULL)
      abort();
    lvpn__secret_free(&out);
    break;
  default: {
    size_t half = strlen(text) / 2;
    char *pass;
    if (lvpn__secret_dup(&pass, text) != 0)
      abort();
    pass[half] = '\0'; /* password: first half, response: second */
    if (lvpn__scrv1_encode(&out, pass, text + half) == 0 &&
        strncmp(out, "SCRV1:", 6) != 0)
      abort();
    lvpn__secret_free(&out);
    lvpn__secret_free(&pass);
    break;
  }
  }
  free(text);
  return 0;
}
