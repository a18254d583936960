/* Compression framing modes (protocol doc §6.5), shared by the config
 * loader, the PUSH_REPLY parser and the datachannel. The stubs carry
 * uncompressed data; LZO and LZ4 are real (layers/datachannel/compress.c). */
#ifndef LVPN_LIB_COMP_H
#define LVPN_LIB_COMP_H

typedef enum {
  LVPN__COMP_NONE = 0, /* no option: no framing byte (2.6 default) */
  LVPN__COMP_LZO_NO,   /* comp-lzo no: 0xFA prefix */
  LVPN__COMP_STUB,     /* compress / compress stub: 0xFB with swap */
  LVPN__COMP_STUB_V2,  /* compress stub-v2: 0x50 0x00 escape only */
  /* real compression (allow-compression decides sending) */
  LVPN__COMP_LZO,      /* comp-lzo yes / compress lzo */
  LVPN__COMP_LZO_ADAPTIVE,
  LVPN__COMP_LZ4,
  LVPN__COMP_LZ4_V2
} lvpn__comp_t;

#endif
