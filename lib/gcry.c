#include "lib/gcry.h"

#ifdef LVPN_DC_CRYPTO_GCRYPT
#include <gcrypt.h>

int lvpn__gcry_ready(void) {
  if (gcry_control(GCRYCTL_ANY_INITIALIZATION_P))
    return gcry_check_version(GCRYPT_VERSION) != NULL;
  if (gcry_check_version(GCRYPT_VERSION) == NULL)
    return 0;
  gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
  gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
  return 1;
}
#else
int lvpn__gcry_ready(void) {
  return 0;
}
#endif
