/* Our own EC key's signature (the CertificateVerify of every handshake)
 * and its key check on Nettle (configure's LVPN_HS_NETTLE): 0.1 ms for a
 * P-256 signature here, where mbedTLS 2.28 takes 0.45 with a table of G
 * that costs 1.5 ms to build, and a d·G check 0.1 ms without any table
 * (doc/performance.md). mbedTLS still drives the handshake and asks the
 * key through its mbedtls_pk_info_t, as before. Loop-free. */
#ifndef LVPN_LAYERS_TLSSESSION_ECSIGN_H
#define LVPN_LAYERS_TLSSESSION_ECSIGN_H

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>

/* `key`, a private EC key (an ECKEY or ECDSA context of mbedTLS), becomes
 * one that signs on Nettle: an ECDSA context for mbedTLS (mbedtls_pk_ec()
 * reads its mbedtls_ecp_keypair as before), whose signatures are ECDSA
 * with a fresh nonce from the RNG mbedTLS hands it, DER-encoded as
 * mbedTLS encodes them. Its private key is wiped when it is freed. 0, or
 * an mbedTLS error with `key` unchanged (LVPN__ECSIGN_NOT_HERE when the
 * curve or the build has no such signer: NIST P-256, P-384 and P-521 are
 * Nettle's, as for lvpn__ecverify_elsewhere()). */
#define LVPN__ECSIGN_NOT_HERE MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE
int lvpn__ecsign_prepare(mbedtls_pk_context *key);

/* 1 when `key` is such a key. */
int lvpn__ecsign_is_ours(const mbedtls_pk_context *key);

/* Such a key's check: d·G == Q, on Nettle. 0, or
 * MBEDTLS_ERR_PK_BAD_INPUT_DATA when the private key is not the one of
 * the public key (a damaged key file), or another mbedTLS error. */
int lvpn__ecsign_check(const mbedtls_pk_context *key);

#endif
