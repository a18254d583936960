/* Big-endian loads/stores and constant-time checks, shared by the wire
 * and crypto code (OpenVPN's integers are all network order). */
#ifndef LVPN_LIB_BYTES_H
#define LVPN_LIB_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t lvpn__get_u16(const uint8_t *b) {
  return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline void lvpn__put_u16(uint8_t *b, uint16_t v) {
  b[0] = (uint8_t)(v >> 8);
  b[1] = (uint8_t)v;
}

static inline uint32_t lvpn__get_u32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
         (uint32_t)b[3];
}

static inline void lvpn__put_u32(uint8_t *b, uint32_t v) {
  b[0] = (uint8_t)(v >> 24);
  b[1] = (uint8_t)(v >> 16);
  b[2] = (uint8_t)(v >> 8);
  b[3] = (uint8_t)v;
}

/* Nonzero when a and b differ; the time taken does not depend on where
 * (MACs and tags are compared with this). */
static inline int lvpn__ct_differ(const uint8_t *a, const uint8_t *b,
                                  size_t n) {
  volatile uint8_t d = 0;
  size_t i;
  for (i = 0; i < n; i++)
    d |= (uint8_t)(a[i] ^ b[i]);
  return d != 0;
}

/* 1 when all n bytes are zero; the time taken does not depend on where a
 * byte is not (keys and shared secrets are checked with this). */
static inline int lvpn__ct_all_zero(const uint8_t *b, size_t n) {
  volatile uint8_t acc = 0;
  size_t i;
  for (i = 0; i < n; i++)
    acc |= b[i];
  return acc == 0;
}

#endif
