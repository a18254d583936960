/* Libraries loaded on first use (dlopen), not linked: what the layers that
 * do it share (the compression, libcrypto for keys, libsystemd, libmnl,
 * libcap-ng). Each keeps its own table of function pointers, filled once,
 * and keeps the library loaded while the table points into it. */
#ifndef LVPN_LIB_DL_H
#define LVPN_LIB_DL_H

#include <stddef.h>

/* dlopen(soname, RTLD_NOW | RTLD_LOCAL), by path in the directory
 * configure found libmnl in (LVPN_DL_DIR, the system's library directory)
 * first: that spares the loader's search of LD_LIBRARY_PATH and
 * ld.so.cache, whose map and unmap cost more than loading a small library
 * (0.3-0.6 ms against 0.16-0.19 here). A soname not there is searched for
 * as usual. NULL with "cannot load SONAME: why" in err (errlen bytes) when
 * it fails. */
void *lvpn__dl_open(const char *soname, char *err, size_t errlen);

/* The function `name` of `lib` into the pointer at `fp` (`size` bytes):
 * dlsym gives a void *, which POSIX lets convert to a function pointer and
 * ISO C does not say, hence the copy. 0, or -1 with "SONAME has no NAME"
 * in err (the pointer left alone). */
int lvpn__dl_sym(void *lib, const char *soname, const char *name, void *fp,
                 size_t size, char *err, size_t errlen);

#endif
