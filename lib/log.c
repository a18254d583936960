#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>

void lvpn__logger_init(lvpn__logger_t *lg) {
  lg->cb = NULL;
  lg->ud = NULL;
  lg->verb = LVPN__VERB_DEFAULT;
}

void lvpn__logf(const lvpn__logger_t *lg, int level, const char *layer,
                const char *fmt, ...) {
  char msg[1024];
  va_list ap;

  if (lg == NULL || lg->cb == NULL || level > lg->verb)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  lg->cb(lg->ud, level, layer, msg);
}
