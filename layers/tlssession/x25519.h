/* X25519 (RFC 7748) for the handshake's ECDHE, on Nettle (configure's
 * LVPN_HS_NETTLE; none with --without-nettle, where mbedTLS does it).
 * mbedTLS 2.28's own X25519 takes about 1.1 ms per scalar multiplication
 * here, against 0.06 (the base point) and 0.12 for Nettle
 * (doc/performance.md), and takes no other implementation but at its own
 * build time. Loop-free. */
#ifndef LVPN_LAYERS_TLSSESSION_X25519_H
#define LVPN_LAYERS_TLSSESSION_X25519_H

#include <stdint.h>

#define LVPN__X25519_LEN 32

/* 1 when this build has an X25519 other than mbedTLS's and its library is
 * ready. */
int lvpn__x25519_available(void);
/* That library's name, for the log ("Nettle"; "mbedTLS" when there is
 * none). */
const char *lvpn__x25519_library(void);

/* The public key of `sk` (32 random bytes, clamped in place as RFC 7748
 * says): X25519(sk, 9). 0, or LVPN_ETLS when the library fails. */
int lvpn__x25519_public(uint8_t sk[LVPN__X25519_LEN],
                        uint8_t pub[LVPN__X25519_LEN]);

/* The shared secret X25519(sk, peer) (little-endian u-coordinates, the
 * peer's top bit ignored). LVPN_ETLS when the library fails or the result
 * is all zero: a peer share of small order, which RFC 7748 section 6.1
 * lets us refuse and mbedTLS refuses too. */
int lvpn__x25519_shared(const uint8_t sk[LVPN__X25519_LEN],
                        const uint8_t peer[LVPN__X25519_LEN],
                        uint8_t z[LVPN__X25519_LEN]);

#endif
