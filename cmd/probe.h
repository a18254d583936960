/* `layervpn probe [--parallel N] [--json] [-c COUNT] [-i S] [--target IP]
 * [--timeout S] CONFIG...`: measures each endpoint the way OONI measures
 * with minivpn, without root or a TUN device (host inside I/O, as `layervpn
 * ping`). For every config: the time of each stage (resolve, first packet,
 * server reset, TLS done, key exchange, PUSH_REPLY, data channel up), ICMP
 * echoes through the tunnel to the pushed gateway (or --target) with RTT
 * min/avg/max and loss, and on failure the stage that failed and the error
 * by name. All endpoints run concurrently on one loop. */
#ifndef LVPN_CMD_PROBE_H
#define LVPN_CMD_PROBE_H

/* The subcommand: argv after "probe". Exit 0 when every endpoint passed,
 * 1 when one failed, 2 on a usage error. */
int cmd_probe(int argc, char **argv);

#endif
