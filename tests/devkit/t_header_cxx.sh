#!/usr/bin/env bash
# The public header compiles as C++: a C++11 program that includes layervpn.h
# and uses its types, enums and functions builds with g++ -Wall -Wextra
# -Werror -pedantic (and as C++17).
set -euo pipefail
S=${LVPN_SRCDIR:?LVPN_SRCDIR not set}
command -v g++ >/dev/null || { echo "FAIL: g++ not installed (build-essential)"; exit 1; }
T=$(mktemp -d /tmp/lvpn-cxx.XXXXXX)
trap 'rm -rf "$T"' EXIT
cat >"$T/use.cc" <<'CC'
#include <layervpn.h>
#include <cstdio>

static void on_event(lvpn_client_t *c, lvpn_event_t ev, int err) {
  std::printf("%s %d %s\n", lvpn_state_name(lvpn_client_state(c)), (int)ev,
              lvpn_strerror(err));
}

static void on_log(void *, int level, const char *layer, const char *msg) {
  std::printf("%d %s %s\n", level, layer, msg);
}

static void on_inside(lvpn_client_t *, const uint8_t *, size_t) {}

static void on_counter(void *, const char *layer, const char *name,
                       uint64_t value) {
  std::printf("%s.%s %llu\n", layer, name, (unsigned long long)value);
}

int use(uv_loop_t *loop) {
  lvpn_config_t *cfg = nullptr;
  lvpn_client_t *c = nullptr;
  char err[128];
  const char *args[] = {"4", nullptr};
  uint32_t a, m;
  if (lvpn_config_load(&cfg, "client.ovpn", err, sizeof err) != 0)
    return LVPN_ECONFIG;
  lvpn_config_set(cfg, "verb", args, err, sizeof err);
  if (lvpn_client_new(&c, loop, cfg) != 0)
    return LVPN_ENOMEM;
  lvpn_config_free(cfg);
  lvpn_client_set_log(c, on_log, nullptr, LVPN_LOG_INFO);
  lvpn_client_set_event_cb(c, on_event);
  lvpn_client_set_inside_write(c, on_inside);
  lvpn_client_set_data(c, lvpn_client_get_data(c));
  lvpn_state_t s = lvpn_client_state(c);
  if (s == LVPN_STATE_CONNECTED && lvpn_client_tunnel_ipv4(c, &a, &m) == 0)
    lvpn_client_inside_input(c, reinterpret_cast<const uint8_t *>(err), 20);
  lvpn_client_counters(c, on_counter, nullptr);
  lvpn_client_start(c);
  lvpn_client_stop(c);
  std::printf("%s %s\n", lvpn_err_name(LVPN_ECERT_EKU), lvpn_version_string());
  return lvpn_client_close(c, nullptr);
}
CC
rc=0
for std in c++11 c++17; do
    if g++ -std=$std -Wall -Wextra -Werror -pedantic -I"$S/include" \
        $(pkg-config --cflags libuv) -c "$T/use.cc" -o "$T/use-$std.o" 2>"$T/err-$std"; then
        echo "ok: layervpn.h compiles with g++ -std=$std -Wall -Wextra -Werror -pedantic"
    else
        echo "FAIL: layervpn.h as C++ ($std):"; cat "$T/err-$std"; rc=1
    fi
done
# the C linkage is right: the object refers to the C symbols, unmangled
if ! nm "$T/use-c++11.o" | grep -qE ' U lvpn_client_state$'; then
    echo "FAIL: lvpn_ functions are not declared extern \"C\""; rc=1
fi
((rc == 0)) && echo "PASS: t_header_cxx"
exit $rc
