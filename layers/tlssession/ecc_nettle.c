/* Nettle's libhogweed (and GMP under it) loaded on first use. See
 * ecc_nettle.h. */
#include "layers/tlssession/ecc_nettle.h"

#ifdef LVPN_HS_NETTLE
#include <dlfcn.h>
#include <pthread.h>

#include "lib/dl.h"

#define HOGWEED_SONAME "libhogweed.so.6"
#define GMP_SONAME "libgmp.so.10"

lvpn__nettle_t lvpn__nettle;
static int loaded; /* 1 once the table is whole; never unloaded */

static void load_once(void) {
  void *hw = lvpn__dl_open(HOGWEED_SONAME, NULL, 0), *gmp;
  int ok = hw != NULL;
  /* libhogweed brings GMP in; this is a handle on that one, found by its
   * soname among the loaded objects (RTLD_NOLOAD: no file opened, and not
   * another libgmp at LVPN_DL_DIR when the loader took hogweed's from
   * LD_LIBRARY_PATH), else loaded as the others */
  gmp = ok ? dlopen(GMP_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD) : NULL;
  if (ok && gmp == NULL)
    gmp = lvpn__dl_open(GMP_SONAME, NULL, 0);
  ok = gmp != NULL;
#define LOAD_HW(f)                                                             \
  ok = ok && lvpn__dl_sym(hw, HOGWEED_SONAME, "nettle_" #f,                  \
                          &lvpn__nettle.n_##f, sizeof(lvpn__nettle.n_##f),    \
                          NULL, 0) == 0;
#define LOAD_GMP(f)                                                            \
  ok = ok && lvpn__dl_sym(gmp, GMP_SONAME, "__gmpz_" #f,                     \
                          &lvpn__nettle.g_##f, sizeof(lvpn__nettle.g_##f),    \
                          NULL, 0) == 0;
  LVPN__NETTLE_FUNCS(LOAD_HW)
  LVPN__GMP_FUNCS(LOAD_GMP)
#undef LOAD_HW
#undef LOAD_GMP
  /* a library without all of it stays loaded but unused: the table may
   * point into it in part */
  loaded = ok;
}

int lvpn__nettle_ready(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, load_once);
  return loaded;
}

#else

int lvpn__nettle_ready(void) {
  return 0;
}

#endif
