/* libgcrypt's once-per-process set-up, shared by the layers that use it
 * (the data channel's packet crypto, the handshake's X25519) when it is
 * the data-channel crypto library (configure --with-dc-crypto=gcrypt). */
#ifndef LVPN_LIB_GCRY_H
#define LVPN_LIB_GCRY_H

/* 1 once libgcrypt is initialised. A host that uses it itself initialises
 * it first; otherwise the first call does it as the manual asks of a
 * program without secure-memory needs (keys live in our own memory, which
 * we wipe). 0 when the library is older than the one built against, or
 * not the data-channel library of this build. */
int lvpn__gcry_ready(void);

#endif
