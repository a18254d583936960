/* The certificate variables for scripts (layers/tlssession/certenv.c) of a
 * certificate as mbedTLS parses it: any subject (string types, lengths,
 * OIDs, multi-valued RDNs) and serial must give well-formed "name=value"
 * entries within the bound, at two depths of one chain and a new chain.
 * Input: one DER certificate. */
#include <stdlib.h>
#include <string.h>

#include "layers/tlssession/certenv.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const lvpn__certenv_t *e) {
  const char *v = NULL, *eq;
  size_t total = 0;
  if (e->len > LVPN__CERTENV_MAX)
    abort();
  while ((v = lvpn__certenv_next(e, v)) != NULL) {
    eq = strchr(v, '=');
    if (eq == NULL || eq == v)
      abort();
    total += strlen(v) + 1;
  }
  if (total != e->len)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mbedtls_x509_crt crt;
  lvpn__certenv_t e;

  mbedtls_x509_crt_init(&crt);
  lvpn__certenv_init(&e);
  if (mbedtls_x509_crt_parse_der(&crt, data, size) == 0) {
    if (lvpn__certenv_add(&e, &crt, 1) != 0 ||
        lvpn__certenv_add(&e, &crt, 0) != 0)
      abort(); /* only LVPN_ENOMEM, which cannot happen here */
    check(&e);
    if (lvpn__certenv_add(&e, &crt, 0) != 0) /* a new chain */
      abort();
    check(&e);
  }
  lvpn__certenv_free(&e);
  mbedtls_x509_crt_free(&crt);
  return 0;
}
