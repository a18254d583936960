/* Monotonic time helpers. Layers take time from the loop (uv_now) so tests
 * can drive them with a fake clock through the pure state machines. */
#ifndef LVPN_LIB_TIMEUTIL_H
#define LVPN_LIB_TIMEUTIL_H

#include <stdint.h>
#include <uv.h>

/* Milliseconds from a monotonic clock, independent of any loop. */
static inline uint64_t lvpn__monotonic_ms(void) {
  return uv_hrtime() / 1000000u;
}

#endif
