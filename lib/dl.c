/* Libraries loaded on first use. See dl.h. */
#include "lib/dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void *lvpn__dl_open(const char *soname, char *err, size_t errlen) {
  void *lib = NULL;
#ifdef LVPN_DL_DIR
  char path[512];
  int n;

  if (LVPN_DL_DIR[0] == '/' && strchr(soname, '/') == NULL &&
      (n = snprintf(path, sizeof(path), "%s/%s", LVPN_DL_DIR, soname)) > 0 &&
      (size_t)n < sizeof(path))
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
#endif
  if (lib == NULL)
    lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL && err != NULL && errlen > 0) {
    const char *e = dlerror();
    snprintf(err, errlen, "cannot load %s: %s", soname,
             e != NULL ? e : "unknown error");
  }
  return lib;
}

int lvpn__dl_sym(void *lib, const char *soname, const char *name, void *fp,
                 size_t size, char *err, size_t errlen) {
  void *p = dlsym(lib, name);
  if (p == NULL) {
    if (err != NULL && errlen > 0)
      snprintf(err, errlen, "%s has no %s", soname, name);
    return -1;
  }
  memcpy(fp, &p, size);
  return 0;
}
