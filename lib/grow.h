/* A growable heap array: pointer + count + capacity, grown on demand up to a
 * fixed limit. Used by the config's lists (lib/config.h) and the pushed
 * options (layers/tlssession/push.c), so a list nobody fills costs nothing.
 */
#ifndef LVPN_LIB_GROW_H
#define LVPN_LIB_GROW_H

#include <stddef.h>
#include <stdlib.h>

#include "layervpn.h"

/* Makes room in *arr (elements of `elem` bytes, *cap of them allocated) for
 * element `n`, growing by doubling (first 4) up to `max`. The caller checks
 * n < max first. Returns 0 or LVPN_ENOMEM (the array is then unchanged). */
static inline int lvpn__grow(void **arr, int *cap, int n, int max,
                             size_t elem) {
  void *a;
  int c;
  if (n < *cap)
    return 0;
  c = *cap == 0 ? 4 : *cap * 2;
  c = c > max ? max : c;
  c = c <= n ? n + 1 : c;
  if ((a = realloc(*arr, (size_t)c * elem)) == NULL)
    return LVPN_ENOMEM;
  *arr = a;
  *cap = c;
  return 0;
}

#endif
