#include "cmd/stats_table.h"

#include <string.h>

typedef struct {
  FILE *out;
  char layer[32];
  int col; /* characters on the current line */
} table_t;

static void on_counter(void *ud, const char *layer, const char *name,
                       uint64_t value) {
  table_t *t = ud;
  int n;
  if (strcmp(layer, t->layer) != 0) {
    snprintf(t->layer, sizeof(t->layer), "%s", layer);
    t->col = fprintf(t->out, "\n  %-17s", layer);
  }
  if (value == 0)
    return;
  if (t->col > 100) /* wrap long layers under their name */
    t->col = fprintf(t->out, "\n  %-17s", "");
  n = fprintf(t->out, " %s=%llu", name, (unsigned long long)value);
  t->col += n > 0 ? n : 0;
}

void cli_stats_print(const lvpn_client_t *c, FILE *out, double elapsed_s) {
  table_t t;
  memset(&t, 0, sizeof(t));
  t.out = out;
  fprintf(out, "layervpn stats at %.0f s (%s):", elapsed_s,
          lvpn_state_name(lvpn_client_state(c)));
  lvpn_client_counters(c, on_counter, &t);
  fputs("\n", out);
  fflush(out);
}
