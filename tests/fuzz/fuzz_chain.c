/* The server chain a start kept, checked ahead against the CA
 * (lvpn__tls_conf_check_ahead, layers/tlssession/sigahead.c): the file is
 * ours (a directory only we can write to), but its bytes came from the
 * server. Any input must give 0, LVPN_ECERT or LVPN_EINVAL, and a chain
 * the CA signed must leave the CA key's memory consistent (a second check
 * of it is answered from memory). Input: DER certificates one after the
 * other, as the cache holds them. The conf is rebuilt per input. */
#include <stdlib.h>
#include <string.h>


#include "layers/tlssession/engine.h"
#include "layervpn.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/data/pki/ca.crt, which the seeds' chains are signed by */
static const char ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBmzCCAUGgAwIBAgIUSYGUDn8hwvKdVK5f7g5ekZ85h/4wCgYIKoZIzj0EAwIw\n"
    "GzEZMBcGA1UEAwwQbGF5ZXJ2cG4gVGVzdCBDQTAeFw0yNjExMjIwMDIyMDZaFw00\n"
    "NjExMTcwMDIyMDZaMBsxGTAXBgNVBAMMEGxheWVydnBuIFRlc3QgQ0EwWTATBgcq\n"
    "hkjOPQIBBggqhkjOPQMBBwNCAARqgZH64n8IUWvc98SKxvVgTT4a6dJWj6R4KOHp\n"
    "gA0pr6NJaRvYP3yZHbv/PxSJcvgeCKGkcLVqNBgNVl/rqfXHo2MwYTAfBgNVHSME\n"
    "GDAWgBQXBJyv8dgwI+QOv96s6ak0CrHk0DAPBgNVHRMBAf8EBTADAQH/MA4GA1Ud\n"
    "DwEB/wQEAwIBBjAdBgNVHQ4EFgQUFwScr/HYMCPkDr/erOmpNAqx5NAwCgYIKoZI\n"
    "zj0EAwIDSAAwRQIgciNwMhcVPQyDL/MWNrU2iEgY916aYunKS0EtgP3QYzwCIQCX\n"
    "nBZlzi4s1X8n4XBwFiB40rAwihhy23blmwDBWy5r6Q==\n"
    "-----END CERTIFICATE-----\n";

static int fixed_rng(void *ctx, unsigned char *out, size_t len) {
  (void)ctx;
  memset(out, 0x5a, len);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lvpn__tls_params_t p;
  lvpn__tls_conf_t conf;
  char err[256];
  int rc, again;

  memset(&p, 0, sizeof(p));
  p.ca_pem = ca_pem;
  p.ca_len = sizeof(ca_pem);
  p.tls_version_min = LVPN__TLS_VERSION_1_2;
  p.rng = fixed_rng;
  if (lvpn__tls_conf_init(&conf, &p, err, sizeof(err)) != 0)
    abort();
  if (lvpn__tls_conf_warm(&conf, err, sizeof(err)) != 0)
    abort();
  rc = lvpn__tls_conf_check_ahead(&conf, data, size);
  if (rc != 0 && rc != LVPN_ECERT && rc != LVPN_EINVAL)
    abort();
  if (rc == 0) {
    unsigned long hits = lvpn__tls_conf_ahead_hits(&conf);
    again = lvpn__tls_conf_check_ahead(&conf, data, size);
    if (again != 0 || lvpn__tls_conf_ahead_hits(&conf) <= hits)
      abort();
  }
  lvpn__tls_conf_free(&conf);
  return 0;
}
