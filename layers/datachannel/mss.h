/* TCP MSS clamping (`mssfix`) and the packet-size arithmetic of OpenVPN 2.6
 * (mss.c, mtu.c; doc §6.7): the largest fragment for `fragment N [mtu]`, the MSS for
 * `mssfix N [mtu|fixed]`, and the tun MTU a `link-mtu N` stands for.
 * Loop-free, no allocation. */
#ifndef LVPN_LAYERS_DATACHANNEL_MSS_H
#define LVPN_LAYERS_DATACHANNEL_MSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LVPN__FRAME_NONE = 0, LVPN__FRAME_AEAD, LVPN__FRAME_CBC };

/* What one data packet costs on the wire, once the cipher, the data format
 * and the transport are known (after PUSH_REPLY). */
typedef struct lvpn__frame_s {
  int kind;            /* LVPN__FRAME_AEAD, _CBC or _NONE (HMAC only) */
  unsigned hmac_len;   /* CBC and none: digest size */
  unsigned iv_len;     /* 16 (CBC), 12 (AEAD) */
  unsigned block_len;  /* 16 (CBC), 1 (AEAD) */
  unsigned pkt_id_len; /* 4; 8 in the epoch format */
  unsigned op_len;     /* 4 (P_DATA_V2) or 1 (P_DATA_V1) */
  bool tcp;            /* 2-byte length prefix */
  bool socks_udp;      /* 10-byte SOCKS UDP header */
  unsigned comp_hdr;   /* 1 for the v1 compression framings, else 0 */
  bool fragment;       /* 4-byte fragment header in the payload */
  unsigned extra_tun;  /* tun-mtu-extra */
  unsigned encap;      /* outer IP + UDP/TCP header: 28, 48, 40 or 60 */
} lvpn__frame_t;

/* Fills the crypto fields for an OpenVPN cipher name (NULL or unknown:
 * OpenVPN's "none", HMAC only) and HMAC digest name (CBC and none). */
void lvpn__frame_set_cipher(lvpn__frame_t *fr, const char *cipher,
                            const char *auth, bool epoch);
/* Outer IP + transport header size (OpenVPN's datagram_overhead). */
static inline unsigned lvpn__frame_encap(bool ipv6, bool tcp) {
  return (tcp ? 20u : 8u) + (ipv6 ? 40u : 20u);
}
/* frame_calculate_protocol_header_size: bytes outside the payload
 * (occ adds what old peers count for link-mtu). */
unsigned lvpn__frame_header_size(const lvpn__frame_t *fr, bool occ);
/* frame_calculate_fragment: the largest plaintext sent whole when the UDP
 * payload (`mtu`: the IP packet) must stay within `fragment`. 0 when
 * `fragment` is too small for any payload. */
unsigned lvpn__frame_fragment_size(const lvpn__frame_t *fr, unsigned fragment,
                                   bool mtu);
/* frame_calculate_mssfix: the MSS for IPv4 packets (IPv6: 20 less) for
 * `mssfix value [mtu|fixed]`; 0 when value is too small. */
unsigned lvpn__frame_mss(const lvpn__frame_t *fr, unsigned value, bool mtu,
                         bool fixed);
/* get_frame_mtu with link-mtu: the tun MTU that `link-mtu` stands for. */
int lvpn__frame_link_to_tun_mtu(const lvpn__frame_t *fr, unsigned link_mtu);

/* Clamps the MSS option of a TCP SYN (or SYN-ACK) in an IPv4 or IPv6
 * packet to `mss` (IPv4 value; 20 less for IPv6), fixing the TCP checksum
 * incrementally. Anything else (non-TCP, fragments, truncated or
 * inconsistent headers, IPv6 extension headers) is left alone. Returns 1 if
 * the packet was changed. */
int lvpn__mss_clamp(uint8_t *pkt, size_t len, unsigned mss);

#endif
