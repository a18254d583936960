/* Logging through a host-set callback. The library never prints.
 * A logger hangs off each client (no global state). Disabled levels cost one
 * branch: use the LVPN__LOG macro, which tests the level before formatting. */
#ifndef LVPN_LIB_LOG_H
#define LVPN_LIB_LOG_H

#include "layervpn.h"

/* mute N (OpenVPN's dont_mute): after N + 1 messages in a row of one
 * category (here: the same level from the same layer), the rest of the
 * run is dropped; the next other message first says how many were. */
typedef struct lvpn__mute_s {
  int cutoff; /* 0: off */
  int count;
  int level;
  const char *layer;
} lvpn__mute_t;

typedef struct lvpn__logger_s {
  lvpn_log_cb cb;
  void *ud;
  int verb;            /* 0..11, OpenVPN --verb; default 3 */
  lvpn__mute_t *mute;  /* NULL: nothing muted */
} lvpn__logger_t;

#define LVPN__VERB_DEFAULT 3

void lvpn__logger_init(lvpn__logger_t *lg);
void lvpn__logf(const lvpn__logger_t *lg, int level, const char *layer,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define LVPN__LOG(lg, level, layer, ...)                                    \
  do {                                                                      \
    const lvpn__logger_t *lvpn__lg_ = (lg);                                 \
    if (lvpn__lg_ != NULL && lvpn__lg_->cb != NULL &&                       \
        (level) <= lvpn__lg_->verb)                                         \
      lvpn__logf(lvpn__lg_, (level), (layer), __VA_ARGS__);                 \
  } while (0)

#endif
