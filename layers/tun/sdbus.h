/* sdbus: the few sd-bus calls the systemd-resolved DNS path makes, from
 * libsystemd loaded on first use (dlopen) instead of linked.
 *
 * Why: libsystemd brings five more shared objects (libgcrypt, libgpg-error,
 * libzstd, liblzma, libcap) into every process, about 0.7 MB of resident
 * pages and a share of the dynamic linker's start-up work, for a feature
 * only a run that hands DNS to systemd-resolved uses (doc/performance.md).
 * The types still come from <systemd/sd-bus.h>; only the symbols are late.
 */
#ifndef LVPN_LAYERS_TUN_SDBUS_H
#define LVPN_LAYERS_TUN_SDBUS_H

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct lvpn__sdbus_api_s {
  int (*open_system)(sd_bus **ret);
  sd_bus *(*flush_close_unref)(sd_bus *bus);
  int (*call)(sd_bus *bus, sd_bus_message *m, uint64_t usec,
              sd_bus_error *ret_error, sd_bus_message **reply);
  int (*call_method)(sd_bus *bus, const char *destination, const char *path,
                     const char *interface, const char *member,
                     sd_bus_error *ret_error, sd_bus_message **reply,
                     const char *types, ...);
  void (*error_free)(sd_bus_error *e);
  int (*message_new_method_call)(sd_bus *bus, sd_bus_message **m,
                                 const char *destination, const char *path,
                                 const char *interface, const char *member);
  sd_bus_message *(*message_unref)(sd_bus_message *m);
  const char *(*message_get_member)(sd_bus_message *m);
  int (*message_append)(sd_bus_message *m, const char *types, ...);
  int (*message_append_array)(sd_bus_message *m, char type, const void *ptr,
                              size_t size);
  int (*message_open_container)(sd_bus_message *m, char type,
                                const char *contents);
  int (*message_close_container)(sd_bus_message *m);
} lvpn__sdbus_api_t;

/* Filled by lvpn__sdbus_load(); use only after it returned 0. */
extern lvpn__sdbus_api_t lvpn__sdbus;

/* Loads libsystemd.so.0 once (later calls return the first result).
 * Returns 0, or -1 with a reason in err (library or a symbol missing). */
int lvpn__sdbus_load(char *err, size_t errlen);

#endif
