/* liblwip loaded on first use (see lwip_dl.h). */
#define CLI_LWIP_DL_IMPL
#include "cmd/lwip_dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define CLI_LWIP_SONAME "liblwip.so.0"

cli_lwip_api_t cli_lwip;

int cli_lwip_load(char *err, size_t errlen) {
  static int state; /* 0: not tried, 1: loaded, -1: failed */
  static char reason[200];
  void *lib, *p;

  if (state == 0) {
    state = -1;
    if ((lib = dlopen(CLI_LWIP_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
      const char *e = dlerror();
      snprintf(reason, sizeof(reason), "cannot load %s: %s", CLI_LWIP_SONAME,
               e != NULL ? e : "unknown error");
    } else {
      state = 1; /* stays loaded: the table points into it */
      /* dlsym's void * to a function pointer: POSIX allows it, ISO C does
       * not say, hence the copy */
#define CLI_LWIP_SYM(name)                                                     \
  if (state > 0) {                                                             \
    if ((p = dlsym(lib, #name)) == NULL) {                                     \
      snprintf(reason, sizeof(reason), "%s has no %s", CLI_LWIP_SONAME,       \
               #name);                                                         \
      state = -1;                                                              \
    } else {                                                                   \
      memcpy(&cli_lwip.name, &p, sizeof(cli_lwip.name));                       \
    }                                                                          \
  }
      CLI_LWIP_FUNCS(CLI_LWIP_SYM)
#undef CLI_LWIP_SYM
      if (state < 0) {
        memset(&cli_lwip, 0, sizeof(cli_lwip));
        dlclose(lib);
      }
    }
  }
  if (state < 0 && err != NULL && errlen > 0)
    snprintf(err, errlen, "%s", reason);
  return state > 0 ? 0 : -1;
}
