#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void lvpn__logger_init(lvpn__logger_t *lg) {
  lg->cb = NULL;
  lg->ud = NULL;
  lg->verb = LVPN__VERB_DEFAULT;
  lg->mute = NULL;
}

/* 1 when the message may go out (fatal ones always do). */
static int not_muted(const lvpn__logger_t *lg, int level, const char *layer) {
  lvpn__mute_t *m = lg->mute;
  char note[128];
  if (m == NULL || m->cutoff <= 0 || level == LVPN_LOG_FATAL)
    return 1;
  if (m->layer != NULL && level == m->level &&
      (layer == m->layer || (layer != NULL && strcmp(layer, m->layer) == 0))) {
    if (m->count == m->cutoff)
      lg->cb(lg->ud, LVPN_LOG_INFO, layer, "NOTE: --mute triggered...");
    return ++m->count <= m->cutoff;
  }
  if (m->count > m->cutoff) {
    snprintf(note, sizeof(note),
             "%d variation(s) on previous %d message(s) suppressed by --mute",
             m->count - m->cutoff, m->cutoff);
    lg->cb(lg->ud, LVPN_LOG_INFO, m->layer, note);
  }
  m->count = 0;
  m->level = level;
  m->layer = layer;
  return 1;
}

void lvpn__logf(const lvpn__logger_t *lg, int level, const char *layer,
                const char *fmt, ...) {
  char msg[1024];
  va_list ap;

  if (lg == NULL || lg->cb == NULL || level > lg->verb ||
      !not_muted(lg, level, layer))
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  lg->cb(lg->ud, level, layer, msg);
}
