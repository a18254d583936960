/* Control messages after the handshake (layers/tlssession/push.c and the
 * splitter in keymethod.c): one TLS record's plaintext is split into
 * NUL-separated messages, each is classified, AUTH_PENDING's timeout is
 * read, the log's redaction runs, and every PUSH_REPLY part goes to
 * lvpn__push_parse on the same state (push-continuation), with two
 * pull-filter rules set as a user would. Once the reply is complete,
 * PUSH_UPDATE messages go to lvpn__push_update_parse on it, committed when
 * a sequence ends, as the tlssession does.
 * Input: the record's plaintext, e.g. "PUSH_REPLY,route 10.0.0.0 ...\0". */
#include "layers/tlssession/keymethod.h"
#include "layers/tlssession/push.h"
#include "layers/tlssession/push_update.h"
#include "lib/redact.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  lvpn__push_t *push;
  int done;
  lvpn__push_update_t upd;
} state_t;

static void on_warn(void *ud, const char *option, const char *why) {
  (void)ud;
  if (strlen(option) > 65536 || (why != NULL && strlen(why) > 1024))
    abort();
}

static void on_msg(void *ud, const char *msg, size_t len) {
  state_t *st = ud;
  const char *rest = NULL;
  lvpn__ctlmsg_t t;
  int rc;

  if (strlen(msg) != len)
    abort();
  {
    char *shown = malloc(len + 1);
    if (shown == NULL)
      abort();
    memcpy(shown, msg, len + 1);
    lvpn__redact_mask(shown, len); /* what the log line shows */
    if (shown[len] != '\0' || strlen(shown) != len)
      abort();
    free(shown);
  }
  t = lvpn__ctlmsg_classify(msg, &rest);
  (void)lvpn__ctlmsg_name(t);
  if (t != LVPN__CTL_UNKNOWN && rest == NULL)
    abort();
  if (t == LVPN__CTL_AUTH_PENDING)
    (void)lvpn__ctlmsg_pending_timeout(rest);
  if (t == LVPN__CTL_PUSH_UPDATE && st->done) {
    rc = lvpn__push_update_parse(&st->upd, st->push, msg, len, on_warn, NULL);
    if (rc < 0 && (st->upd.next != NULL ||
                   memchr(st->upd.err, '\0', sizeof(st->upd.err)) == NULL))
      abort();
    if (rc == 0)
      lvpn__push_update_commit(&st->upd, st->push);
  }
  if (t != LVPN__CTL_PUSH_REPLY || st->done)
    return;
  rc = lvpn__push_parse(st->push, msg, len, on_warn, NULL);
  if (rc < 0 && memchr(st->push->err, '\0', sizeof(st->push->err)) == NULL)
    abort();
  if (rc != 1)
    st->done = 1; /* complete or failed: the client stops here */
  if (st->push->n_routes > LVPN__PUSH_MAX_ROUTES ||
      st->push->n_routes6 > LVPN__PUSH_MAX_ROUTES ||
      (st->push->dns != NULL &&
       (st->push->dns->n_servers > LVPN_DNS_MAX_SERVERS ||
        st->push->dns->n_search_domains > LVPN_DNS_MAX_DOMAINS)) ||
      st->push->n_dhcp > LVPN__DHCP_MAX)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lvpn__push_t push;
  static char ignore_text[] = "dhcp-option DOMAIN-SEARCH",
              accept_text[] = "route";
  static lvpn__pull_filter_t filters[2] = {{LVPN__PULL_IGNORE, ignore_text},
                                           {LVPN__PULL_ACCEPT, accept_text}};
  state_t st;
  uint8_t *buf = malloc(size > 0 ? size : 1);

  if (buf == NULL)
    abort();
  if (size > 0)
    memcpy(buf, data, size);
  memset(&st, 0, sizeof(st));
  st.push = &push;
  lvpn__push_update_init(&st.upd);
  lvpn__push_init(&push);
  push.filters = filters;
  push.n_filters = 2;
  (void)lvpn__ctlmsg_split(buf, size, on_msg, &st);
  lvpn__push_update_free(&st.upd);
  lvpn__push_free(&push);
  free(buf);
  return 0;
}
