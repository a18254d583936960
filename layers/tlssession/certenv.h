/* certenv: the variables OpenVPN 2.6 gives its scripts for each
 * certificate of the server's verified chain (ssl_verify.c
 * verify_cert_set_env; ssl_verify_openssl.c x509_setenv and
 * x509_get_subject), at the certificate's depth N (0: the server's own):
 *
 *   X509_N_<name>        each subject attribute under OpenSSL's short name
 *                        (CN, O, OU, emailAddress, ...); a repeated one gets
 *                        _1, _2, ... (setenv_str_incr)
 *   tls_id_N             the subject as OpenSSL prints it with OpenVPN's
 *                        flags: "C=DE, O=Org, CN=name", " + " inside a
 *                        multi-valued RDN, control characters as \XX
 *   tls_digest_N         SHA-1 of the DER certificate, "xx:xx:..."
 *   tls_digest_sha256_N  SHA-256, the same way
 *   tls_serial_N         the serial number in decimal
 *   tls_serial_hex_N     its bytes, "xx:xx:..."
 *
 * Values are UTF-8 (BMP, Universal and T61 strings converted as OpenSSL's
 * ASN1_STRING_to_UTF8); in X509_ values, control characters become '_'.
 * Attributes whose OID is not in our table of OpenSSL's short names are
 * left out of X509_ (OpenSSL does the same with OIDs it does not know) and
 * printed as a dotted OID in tls_id.
 * Pure: no loop, no I/O. */
#ifndef LVPN_LAYERS_TLSSESSION_CERTENV_H
#define LVPN_LAYERS_TLSSESSION_CERTENV_H

#include <stddef.h>

#include <mbedtls/x509_crt.h>

/* At most this many bytes of variables per chain (a hostile certificate
 * cannot make it grow further; what does not fit is left out). */
#define LVPN__CERTENV_MAX (64 * 1024)

typedef struct lvpn__certenv_s {
  char *buf; /* "name=value\0name=value\0..." */
  size_t len, cap;
  int last_depth; /* of the last certificate added; -1: none */
  int truncated;  /* something did not fit in LVPN__CERTENV_MAX */
} lvpn__certenv_t;

void lvpn__certenv_init(lvpn__certenv_t *e);
void lvpn__certenv_free(lvpn__certenv_t *e);
/** Adds the variables of `crt` at `depth`. mbedTLS verifies a chain root
 * first (depths decreasing), so a depth not below the last one added starts
 * a new chain: the previous variables are dropped. 0 or LVPN_ENOMEM. */
int lvpn__certenv_add(lvpn__certenv_t *e, const mbedtls_x509_crt *crt,
                      int depth);
/** Walks the variables: `prev` NULL gives the first "name=value", then
 * each next one; NULL after the last. */
const char *lvpn__certenv_next(const lvpn__certenv_t *e, const char *prev);

#endif
