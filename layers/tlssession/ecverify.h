/* ECDSA verification on Nettle (configure's LVPN_HS_NETTLE: about 0.3 ms
 * for a P-256 verification here, against 2.6 for mbedTLS 2.28 with the
 * table of G, 3.5 without, and 1.7-2.4 for libgcrypt; doc/performance.md),
 * mbedTLS's otherwise. Used by the keys sigahead.c makes (the CA's, and the
 * server's for its ServerKeyExchange). Loop-free. */
#ifndef LVPN_LAYERS_TLSSESSION_ECVERIFY_H
#define LVPN_LAYERS_TLSSESSION_ECVERIFY_H

#include <stddef.h>

#include <mbedtls/ecdsa.h>

/* What mbedtls_ecdsa_read_signature(k, hash, hlen, sig, slen) answers, the
 * same way: 0 for k's signature of `hash` (truncated to the group order's
 * length as ECDSA says), MBEDTLS_ERR_ECP_VERIFY_FAILED for another one or
 * an r or s out of range, MBEDTLS_ERR_ECP_SIG_LEN_MISMATCH for bytes after
 * the DER signature, an ASN.1 error (plus MBEDTLS_ERR_ECP_BAD_INPUT_DATA)
 * for a malformed one. NIST P-256, P-384 and P-521 go to Nettle where this
 * build has it; every other curve, and a key Nettle will not take, to
 * mbedTLS. */
int lvpn__ecverify(mbedtls_ecdsa_context *k, const unsigned char *hash,
                   size_t hlen, const unsigned char *sig, size_t slen);

/* 1 when lvpn__ecverify verifies on curve `id` with another library than
 * mbedTLS (Nettle; mbedTLS then needs no table of G for it). */
int lvpn__ecverify_elsewhere(mbedtls_ecp_group_id id);

#endif
