/* TUN offloads (layers/tun/offload.c): what the kernel hands over through
 * a tun opened with IFF_VNET_HDR (a virtio-net header and a packet of any
 * shape), and what the far end sends us to coalesce (any packets).
 *
 * Input: seglen(2) cap(2), then seglen bytes: a virtio-net header (10) and
 * a packet to segment into `cap`-byte buffers (and to complete the checksum
 * of); then packets for one coalescing batch, each len(2) bytes.
 * Every buffer is allocated at its exact size, so a read or write past it
 * is an ASan report. Checked: segments fit their buffer and never outnumber
 * the payload; a coalesced item's iovecs stay inside its packets, and a
 * merged item, cut again, gives as many packets of the same total length. */
#include <sys/uio.h>

#include "layers/tun/offload.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void segment(const uint8_t *b, size_t n, size_t cap) {
  lvpn__vnet_hdr_t vh;
  lvpn__gso_t g;
  uint8_t *pkt, *out;
  size_t len, outlen, count = 0, total = 0;
  int r;
  if (n < LVPN__VNET_HDR_LEN)
    return;
  lvpn__vnet_hdr_decode(b, &vh);
  len = n - LVPN__VNET_HDR_LEN;
  pkt = malloc(len + 1);
  out = malloc(cap + 1);
  if (pkt == NULL || out == NULL)
    abort();
  memcpy(pkt, b + LVPN__VNET_HDR_LEN, len);
  if (lvpn__gso_init(&g, pkt, len, &vh) == 0) {
    size_t want = lvpn__gso_count(&g);
    while ((r = lvpn__gso_next(&g, out, cap, &outlen)) == 1) {
      if (outlen > cap || ++count > want)
        abort();
      total += outlen - g.hdrlen;
    }
    if (r == 0 && (count != want || total != len - g.hdrlen))
      abort();
  }
  lvpn__offload_csum_complete(pkt, len, &vh);
  free(pkt);
  free(out);
}

static void coalesce(fuzz_in_t *in) {
  static lvpn__gro_t gro;
  uint8_t *pkts[LVPN__GRO_MAX], *copies[LVPN__GRO_MAX];
  size_t lens[LVPN__GRO_MAX], n = 0, i, k;
  struct iovec iov[LVPN__GRO_MAX + 1];
  uint8_t vh[LVPN__VNET_HDR_LEN], *flat = NULL;

  lvpn__gro_reset(&gro);
  while (in->n > 0 && n < LVPN__GRO_MAX) {
    size_t want = fuzz_u16(in), got;
    const uint8_t *b = fuzz_bytes(in, want, &got);
    pkts[n] = malloc(got + 1);
    copies[n] = malloc(got + 1);
    if (pkts[n] == NULL || copies[n] == NULL)
      abort();
    memcpy(pkts[n], b, got);
    memcpy(copies[n], b, got);
    lens[n] = got;
    if (lvpn__gro_add(&gro, pkts[n], got) != (int)n)
      abort();
    n++;
  }
  for (i = 0; i < gro.n_items; i++) {
    const lvpn__gro_item_t *it = &gro.items[i];
    size_t niov = lvpn__gro_item_iov(&gro, (unsigned)i, vh, iov), len = 0;
    int idx = it->first;
    lvpn__vnet_hdr_t h;
    if (niov != it->n + 1)
      abort();
    for (k = 1; k < niov; k++, idx = gro.pkts[idx].next) {
      const uint8_t *base = iov[k].iov_base;
      if (idx < 0 || base < pkts[idx] ||
          base + iov[k].iov_len > pkts[idx] + lens[idx])
        abort();
      len += iov[k].iov_len;
    }
    lvpn__vnet_hdr_decode(vh, &h);
    if (it->n > 1) { /* what the kernel will do with it must work */
      lvpn__gso_t g;
      uint8_t seg[LVPN__GRO_MAX_LEN];
      size_t outlen, segs = 0, sum = 0, off = 0;
      flat = realloc(flat, len);
      if (flat == NULL)
        abort();
      for (k = 1; k < niov; k++) {
        memcpy(flat + off, iov[k].iov_base, iov[k].iov_len);
        off += iov[k].iov_len;
      }
      if (len > LVPN__GRO_MAX_LEN || lvpn__gso_init(&g, flat, len, &h) != 0)
        abort();
      while (lvpn__gso_next(&g, seg, sizeof(seg), &outlen) == 1) {
        segs++;
        sum += outlen;
      }
      if (segs != it->n || sum != len + (it->n - 1) * h.hdr_len)
        abort();
    } else if (h.gso_type != 0 || h.flags != 0) {
      abort();
    }
  }
  /* a refused write: restored, every packet is again what was added */
  for (i = 0; i < gro.n_items; i++)
    lvpn__gro_item_restore(&gro, (unsigned)i);
  for (i = 0; i < n; i++)
    if (memcmp(pkts[i], copies[i], lens[i]) != 0)
      abort();
  for (i = 0; i < n; i++) {
    free(pkts[i]);
    free(copies[i]);
  }
  free(flat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_in_t in = {data, size};
  size_t seglen = fuzz_u16(&in), cap = fuzz_u16(&in) % 4096, got;
  const uint8_t *b = fuzz_bytes(&in, seglen, &got);
  segment(b, got, cap);
  coalesce(&in);
  return 0;
}
