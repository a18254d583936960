/* The CLI's --pcap FILE writer (libpcap): packets from one tap point of the
 * stack (--pcap-layer). `wire` packets get synthetic IPv4/IPv6 + UDP or TCP
 * headers with the link's real addresses and ports, so Wireshark's OpenVPN
 * dissector picks them up; `inside` packets are the plaintext IP packets
 * (DLT_RAW), taken from the inside-packet hook chain. */
#ifndef LVPN_CMD_PCAP_FILE_H
#define LVPN_CMD_PCAP_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "layervpn.h"

#define CLI_PCAP_PENDING 16

typedef struct cli_pcap_s {
  void *pcap;      /* pcap_t (a dead handle: we only write) */
  void *dumper;    /* pcap_dumper_t */
  unsigned point;  /* what is written: LVPN_TAP_WIRE, _CONTROL or _INSIDE */
  unsigned taps;   /* what to ask the client for (control: wire too, for
                      the link's addresses) */
  uint32_t seq[2]; /* TCP: next sequence number, [0] ours, [1] the server's */
  uint64_t packets;
  /* control: the link, learnt from the first wire packet; control packets
   * seen before it (our hard reset) wait here */
  int have_link, tcp;
  struct sockaddr_storage local, remote;
  struct {
    struct timeval ts;
    int outbound;
    size_t len;
    uint8_t data[2048];
  } pending[CLI_PCAP_PENDING];
  int npending;
} cli_pcap_t;

/* `layer` is "wire", "control" or "inside". Creates `path` with mode 0600.
 * Returns 0, or -1 with a message in `err`. */
int cli_pcap_open(cli_pcap_t *pc, const char *path, const char *layer,
                  char *err, size_t errlen);
/* An lvpn_tap_cb: `ud` is the cli_pcap_t. */
void cli_pcap_packet(void *ud, const lvpn_tap_pkt_t *pkt);
/* --pcap-layer inside: an inside-packet hook (`ud` is the cli_pcap_t) added
 * first in the chain, so it sees outbound packets as read and inbound ones as
 * written, as the tap did; the file stays open across the clients a SIGHUP
 * re-creates. Always passes the packet. */
int cli_pcap_hook_packet(void *ud, lvpn_client_t *c, lvpn_inside_dir_t dir,
                         lvpn_inside_pkt_t *pkt);
void cli_pcap_close(cli_pcap_t *pc);

#endif
