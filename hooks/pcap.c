/* The inside pcap hook: every inside packet it sees, to a pcap file
 * (classic format, LINKTYPE_RAW: the packet starts at its IP header). */
#include "hooks/chain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>


#define PCAP_MAGIC 0xa1b2c3d4u
#define LINKTYPE_RAW 101
#define PCAP_SNAPLEN 65535

typedef struct {
  FILE *f;
} pcap_hook_t;

static void put32(uint8_t *b, uint32_t v) { memcpy(b, &v, 4); } /* host order,
  as the magic says */
static void put16(uint8_t *b, uint16_t v) { memcpy(b, &v, 2); }

static int pcap_packet(void *ud, lvpn_client_t *c, lvpn_inside_dir_t dir,
                       lvpn_inside_pkt_t *pkt) {
  pcap_hook_t *ph = ud;
  uint8_t rec[16];
  struct timeval tv;
  (void)c;
  (void)dir;
  gettimeofday(&tv, NULL);
  put32(rec, (uint32_t)tv.tv_sec);
  put32(rec + 4, (uint32_t)tv.tv_usec);
  put32(rec + 8, (uint32_t)pkt->len);
  put32(rec + 12, (uint32_t)pkt->len);
  /* buffered stdio: one fflush per loop turn would be nicer; flushing per
   * packet keeps the file readable while the tunnel runs */
  if (fwrite(rec, sizeof(rec), 1, ph->f) != 1 ||
      fwrite(pkt->data, pkt->len, 1, ph->f) != 1)
    clearerr(ph->f);
  fflush(ph->f);
  return LVPN_HOOK_PASS;
}

static void pcap_removed(void *ud) {
  pcap_hook_t *ph = ud;
  fclose(ph->f);
  free(ph);
}

int lvpn_client_add_inside_pcap(lvpn_client_t *c, const char *path, char *err,
                                size_t errlen, lvpn_hook_id_t *out) {
  lvpn_inside_hook_t ops = {.name = "pcap",
                            .dirs = LVPN_INSIDE_OUTBOUND | LVPN_INSIDE_INBOUND,
                            .packet = pcap_packet,
                            .removed = pcap_removed};
  uint8_t hdr[24];
  pcap_hook_t *ph;
  int fd, rc;

  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0) {
    if (err != NULL)
      snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return LVPN_EINVAL;
  }
  ph = calloc(1, sizeof(*ph));
  if (ph == NULL || (ph->f = fdopen(fd, "wb")) == NULL) {
    free(ph);
    close(fd);
    return LVPN_ENOMEM;
  }
  put32(hdr, PCAP_MAGIC);
  put16(hdr + 4, 2);
  put16(hdr + 6, 4);
  put32(hdr + 8, 0);  /* thiszone */
  put32(hdr + 12, 0); /* sigfigs */
  put32(hdr + 16, PCAP_SNAPLEN);
  put32(hdr + 20, LINKTYPE_RAW);
  if (fwrite(hdr, sizeof(hdr), 1, ph->f) != 1 || fflush(ph->f) != 0) {
    if (err != NULL)
      snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
    pcap_removed(ph);
    return LVPN_EINVAL;
  }
  rc = lvpn_client_add_inside_hook(c, &ops, ph, out);
  if (rc != 0)
    pcap_removed(ph);
  return rc;
}
