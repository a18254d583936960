/* libsystemd's sd-bus calls, loaded on first use (see sdbus.h). */
#include "layers/tun/sdbus.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "lib/dl.h"

lvpn__sdbus_api_t lvpn__sdbus;

static int state; /* 0: not tried, 1: loaded, -1: failed */
static char reason[160];

#define SYM(field, name)                                                       \
  (lvpn__dl_sym(lib, "libsystemd.so.0", name, &lvpn__sdbus.field,              \
                sizeof(lvpn__sdbus.field), reason, sizeof(reason)) == 0)

int lvpn__sdbus_load(char *err, size_t errlen) {
  void *lib;

  if (state == 0) {
    lib = lvpn__dl_open("libsystemd.so.0", reason, sizeof(reason));
    if (lib == NULL) {
      state = -1;
    } else if (SYM(open_system, "sd_bus_open_system") &&
               SYM(flush_close_unref, "sd_bus_flush_close_unref") &&
               SYM(call, "sd_bus_call") &&
               SYM(call_method, "sd_bus_call_method") &&
               SYM(error_free, "sd_bus_error_free") &&
               SYM(message_new_method_call, "sd_bus_message_new_method_call") &&
               SYM(message_unref, "sd_bus_message_unref") &&
               SYM(message_get_member, "sd_bus_message_get_member") &&
               SYM(message_append, "sd_bus_message_append") &&
               SYM(message_append_array, "sd_bus_message_append_array") &&
               SYM(message_open_container, "sd_bus_message_open_container") &&
               SYM(message_close_container, "sd_bus_message_close_container")) {
      state = 1; /* stays loaded: the table points into it */
    } else {
      memset(&lvpn__sdbus, 0, sizeof(lvpn__sdbus));
      dlclose(lib);
      state = -1;
    }
  }
  if (state < 0 && err != NULL && errlen > 0)
    snprintf(err, errlen, "%s", reason);
  return state > 0 ? 0 : -1;
}
