/* Error table: one X-macro (LVPN_ERRNO_MAP) generates names and texts. */
#include "layervpn.h"

#define LVPN__ERR_TEXT(name, text) text,
#define LVPN__ERR_NAME(name, _) "LVPN_E" #name,
static const char *const err_text[] = {LVPN_ERRNO_MAP(LVPN__ERR_TEXT)};
static const char *const err_name[] = {LVPN_ERRNO_MAP(LVPN__ERR_NAME)};
#undef LVPN__ERR_TEXT
#undef LVPN__ERR_NAME

static int lvpn__err_index(int err) {
  if (err > LVPN__ERR_FIRST && err < LVPN__ERR_LAST)
    return err - LVPN__ERR_FIRST - 1;
  return -1;
}

const char *lvpn_strerror(int err) {
  int i = lvpn__err_index(err);
  if (err == 0)
    return "success";
  if (i >= 0)
    return err_text[i];
  return uv_strerror(err);
}

const char *lvpn_err_name(int err) {
  int i = lvpn__err_index(err);
  if (err == 0)
    return "OK";
  if (i >= 0)
    return err_name[i];
  return uv_err_name(err);
}

const char *lvpn_version_string(void) { return PACKAGE_VERSION; }
