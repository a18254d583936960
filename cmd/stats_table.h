/* --stats-interval N: every N seconds, a compact per-layer table of the
 * client's counters (one line per layer, the non-zero counters only), as
 * OpenVPN's status output is for a running tunnel. SIGUSR2 keeps printing
 * the full "counter layer.name value" list. */
#ifndef LVPN_CMD_STATS_TABLE_H
#define LVPN_CMD_STATS_TABLE_H

#include <stdio.h>

#include "layervpn.h"

/* Prints the table for `c` to `out`; `elapsed_s` heads it. */
void cli_stats_print(const lvpn_client_t *c, FILE *out, double elapsed_s);

#endif
