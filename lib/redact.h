/* Redaction of the secrets a control message can carry (the values of
 * auth-token and auth-token-user: reusable credentials), shared by the log
 * (tlssession), the trace (lib/trace.c) and so the management interface's
 * >LOG lines, so that every output hides the same fields: OpenVPN's
 * sanitize_control_message.
 *
 * A message is a comma-separated list of fields (PUSH_REPLY, PUSH_UPDATE,
 * ...); a field is secret when, after optional blanks, it starts with one of
 * the names followed by a blank; everything after that blank up to the next
 * comma is its value. Neither function reads past `len` or a NUL. */
#ifndef LVPN_LIB_REDACT_H
#define LVPN_LIB_REDACT_H

#include <stddef.h>

/* The next secret value at or after byte *pos of msg[0..len): returns 1
 * and sets [*start, *end), moving *pos past it; 0 when there is none. */
int lvpn__redact_next(const char *msg, size_t len, size_t *pos, size_t *start,
                      size_t *end);
/* In place: every secret value overwritten with '*' (same length), as the
 * log shows it ("auth-token ********"). */
void lvpn__redact_mask(char *msg, size_t len);
/* A copy into out[0..cap) (always NUL-ended, cut when it does not fit) with
 * every secret value replaced by "[REDACTED]", which hides its length too
 * (the trace's form); returns the length written. */
size_t lvpn__redact_copy(char *out, size_t cap, const char *msg, size_t len);

#endif
