#include "layers/datachannel/mss.h"

#include <string.h>
#include <strings.h>

#include "lib/bytes.h"

#define AEAD_TAG 16
#define IPPROTO_TCP_NUM 6
#define TCP_HDR 20
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2

void lvpn__frame_set_cipher(lvpn__frame_t *fr, const char *cipher,
                            const char *auth, bool epoch) {
  static const struct {
    const char *name;
    unsigned len;
  } md[] = {{"SHA1", 20}, {"SHA256", 32}, {"SHA384", 48}, {"SHA512", 64}};
  size_t i;
  fr->pkt_id_len = epoch ? 8 : 4;
  fr->hmac_len = 0;
  if (cipher != NULL && (strstr(cipher, "GCM") != NULL ||
                         strcasecmp(cipher, "CHACHA20-POLY1305") == 0)) {
    fr->kind = LVPN__FRAME_AEAD;
    fr->iv_len = 12;
    fr->block_len = 1; /* what the crypto library reports for AEAD modes */
    return;
  }
  if (cipher != NULL && strstr(cipher, "-CBC") != NULL &&
      strncasecmp(cipher, "AES-", 4) == 0) {
    fr->kind = LVPN__FRAME_CBC;
    fr->iv_len = fr->block_len = 16;
  } else {
    fr->kind = LVPN__FRAME_NONE;
    fr->iv_len = fr->block_len = 0;
  }
  for (i = 0; auth != NULL && i < sizeof(md) / sizeof(md[0]); i++)
    if (strcasecmp(auth, md[i].name) == 0)
      fr->hmac_len = md[i].len;
}

/* calculate_crypto_overhead: with CBC the packet id is encrypted, so it is
 * counted in the payload instead. */
static unsigned crypto_overhead(const lvpn__frame_t *fr, bool occ) {
  unsigned n = fr->kind == LVPN__FRAME_CBC ? 0 : fr->pkt_id_len;
  if (fr->kind == LVPN__FRAME_AEAD)
    return n + AEAD_TAG + (occ ? fr->iv_len + fr->block_len : 0);
  if (fr->kind == LVPN__FRAME_CBC)
    n += fr->iv_len + (occ ? fr->block_len : 0);
  return n + fr->hmac_len;
}

unsigned lvpn__frame_header_size(const lvpn__frame_t *fr, bool occ) {
  return (fr->socks_udp ? 10u : 0u) + (fr->tcp ? 2u : 0u) + fr->op_len +
         crypto_overhead(fr, occ);
}

/* adjust_payload_max_cbc: CBC pads to whole blocks and needs one byte of
 * padding at least. */
static long cbc_adjust(const lvpn__frame_t *fr, long target) {
  if (fr->kind != LVPN__FRAME_CBC)
    return target;
  return target / (long)fr->block_len * (long)fr->block_len - 1;
}

unsigned lvpn__frame_fragment_size(const lvpn__frame_t *fr, unsigned fragment,
                                   bool mtu) {
  long target = (long)fragment - (long)lvpn__frame_header_size(fr, false) -
                (mtu ? (long)fr->encap : 0);
  long max = cbc_adjust(fr, target) - 4; /* the fragment header */
  if (fr->kind == LVPN__FRAME_CBC)
    max -= fr->pkt_id_len; /* in every piece */
  return max >= 4 ? (unsigned)max : 0;
}

unsigned lvpn__frame_mss(const lvpn__frame_t *fr, unsigned value, bool mtu,
                         bool fixed) {
  long payload, target, mss;
  if (fixed) /* IPv4 and TCP headers; IPv6 takes 20 more at clamp time */
    return value > 40 ? value - 40 : 0;
  payload = (long)fr->extra_tun + fr->comp_hdr + (fr->fragment ? 4 : 0) +
            (fr->kind == LVPN__FRAME_CBC ? fr->pkt_id_len : 0) + 20 + 20;
  target = (long)value - (long)lvpn__frame_header_size(fr, false) -
           (mtu ? (long)fr->encap : 0);
  mss = cbc_adjust(fr, target) - payload;
  return mss > 0 ? (unsigned)mss : 0;
}

int lvpn__frame_link_to_tun_mtu(const lvpn__frame_t *fr, unsigned link_mtu) {
  return (int)link_mtu - (int)lvpn__frame_header_size(fr, true);
}

/* One's-complement checksum update for a 16-bit field changing from `from`
 * to `to` (RFC 1624, eq. 3). A field at an odd offset from the checksummed
 * data's start enters the sum byte-swapped. */
static void csum_update(uint8_t *ck, uint16_t from, uint16_t to, bool odd) {
  uint32_t sum;
  if (odd) {
    from = (uint16_t)(from << 8 | from >> 8);
    to = (uint16_t)(to << 8 | to >> 8);
  }
  sum = (uint16_t)~lvpn__get_u16(ck) + (uint32_t)(uint16_t)~from + to;
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  lvpn__put_u16(ck, (uint16_t)~sum);
}

/* mss_fixup_dowork: walks the options of the TCP header `tcp` (len bytes
 * available) and lowers an MSS above `mss`. */
static int clamp_tcp(uint8_t *tcp, size_t len, unsigned mss) {
  size_t hlen, olen, optlen, off;
  uint16_t val;
  if (len < TCP_HDR || !(tcp[13] & 0x02)) /* SYN (also SYN-ACK) */
    return 0;
  hlen = (size_t)(tcp[12] >> 4) * 4;
  if (hlen <= TCP_HDR || hlen > len)
    return 0;
  for (off = TCP_HDR, olen = hlen - TCP_HDR; olen > 1;
       off += optlen, olen -= optlen) {
    if (tcp[off] == TCPOPT_EOL)
      break;
    if (tcp[off] == TCPOPT_NOP) {
      optlen = 1;
      continue;
    }
    optlen = tcp[off + 1];
    if (optlen == 0 || optlen > olen)
      break;
    if (tcp[off] != TCPOPT_MSS || optlen != 4)
      continue;
    val = lvpn__get_u16(tcp + off + 2);
    if (val <= mss)
      return 0;
    lvpn__put_u16(tcp + off + 2, (uint16_t)mss);
    csum_update(tcp + 16, val, (uint16_t)mss, (off + 2) % 2 != 0);
    return 1;
  }
  return 0;
}

int lvpn__mss_clamp(uint8_t *pkt, size_t len, unsigned mss) {
  size_t hlen;
  if (mss == 0 || len < 1)
    return 0;
  if (pkt[0] >> 4 == 4) {
    if (len < 20)
      return 0;
    hlen = (size_t)(pkt[0] & 0x0F) * 4;
    if (pkt[9] != IPPROTO_TCP_NUM || lvpn__get_u16(pkt + 2) != len ||
        (lvpn__get_u16(pkt + 6) & 0x1FFF) != 0 || hlen < 20 ||
        len - hlen < TCP_HDR || hlen > len)
      return 0;
    return clamp_tcp(pkt + hlen, len - hlen, mss > 0xFFFF ? 0xFFFF : mss);
  }
  if (pkt[0] >> 4 == 6) {
    if (len < 40 + TCP_HDR || (size_t)lvpn__get_u16(pkt + 4) + 40 != len ||
        pkt[6] != IPPROTO_TCP_NUM || mss <= 20)
      return 0;
    return clamp_tcp(pkt + 40, len - 40, mss - 20 > 0xFFFF ? 0xFFFF : mss - 20);
  }
  return 0;
}
