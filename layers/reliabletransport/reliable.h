/* Control-channel reliability (OpenVPN reliable.c semantics), as a pure state
 * machine: no loop, no I/O, time passed in as `now` (milliseconds, any
 * monotonic origin). Reference: doc/openvpn-protocol.md §2.
 *
 * One lvpn__rel_t per key_state. Sending: lvpn__rel_send() stores a payload
 * and numbers it (0, 1, 2, ...); lvpn__rel_poll() says what to put on the
 * wire next (a (re)transmission with piggybacked ACKs, or a bare ACK list for
 * a P_ACK_V1). Receiving: the caller hands the ACK record of every packet,
 * P_ACK_V1 included, to lvpn__rel_on_acks(), and the payload of every other
 * control packet to lvpn__rel_on_receive(); lvpn__rel_pop_inorder() then
 * yields the payloads strictly in order. Never pass a P_ACK_V1 to
 * lvpn__rel_on_receive (ACKs are not acknowledged).
 *
 * Message ids are uint32 and compared with wrap-around.
 */
#ifndef LVPN_LAYERS_RELIABLETRANSPORT_RELIABLE_H
#define LVPN_LAYERS_RELIABLETRANSPORT_RELIABLE_H

#include <stdint.h>

#include "lib/pbuf.h"
#include "layervpn.h"

#define LVPN__REL_SEND_WINDOW 6   /* TLS_RELIABLE_N_SEND_BUFFERS */
#define LVPN__REL_RECV_WINDOW 12  /* TLS_RELIABLE_N_REC_BUFFERS */
#define LVPN__REL_ACK_MAX 8       /* RELIABLE_ACK_SIZE: pending and MRU lists */
#define LVPN__REL_ACK_PIGGYBACK 4 /* CONTROL_SEND_ACK_MAX */
#define LVPN__REL_FAST_RETRANSMIT 3       /* N_ACK_RETRANSMIT */
#define LVPN__REL_INITIAL_TIMEOUT_MS 2000 /* tls-timeout */
#define LVPN__REL_MIN_RTO_MS 200 /* floor of the adaptive timeout */

/* lvpn__rel_poll() results. */
enum {
  LVPN__REL_POLL_NONE = 0,   /* nothing due */
  LVPN__REL_POLL_PACKET = 1, /* *out: a payload to send, acks piggybacked */
  LVPN__REL_POLL_ACK = 2     /* send a P_ACK_V1 carrying *acks */
};

typedef struct lvpn__acks_s {
  uint32_t ids[LVPN__REL_ACK_MAX];
  uint8_t n;
} lvpn__acks_t;

typedef struct lvpn__rel_entry_s {
  lvpn__pbuf_t *p; /* stored payload; NULL marks a free slot */
  uint32_t id;
  uint32_t n_acks;   /* ACKs seen for higher ids since the last send */
  uint32_t sends;    /* transmissions so far */
  uint64_t next_try; /* due time */
  uint64_t timeout;  /* back-off to apply at the next transmission */
  uint64_t first_sent; /* time of the first transmission (RTT sample) */
} lvpn__rel_entry_t;

typedef struct lvpn__rel_s {
  uint64_t initial_timeout; /* tls-timeout: the first timeout, and the most
                               an adaptive one may be */
  /* Adaptive retransmission timeout (RFC 6298 estimator over ACK round
   * trips, Karn's rule: only never-retransmitted messages are sampled).
   * Without a sample the timeout is initial_timeout, as OpenVPN. */
  uint64_t srtt, rttvar; /* ms; srtt == 0: no sample yet */
  uint64_t rto;          /* timeout for a new message */
  uint64_t max_timeout;  /* cap on the doubling; 0: none (OpenVPN's) */
  /* Extra P_ACK_V1s owed after an out-of-order arrival: the peer counts
   * every ACK record naming a higher id and fast-retransmits the missing
   * packet after 3 (N_ACK_RETRANSMIT), like TCP's duplicate ACKs. */
  uint8_t dup_acks;
  uint64_t gap_acks; /* such extra ACK packets sent */
  /* While the hole stays open (the peer's fast retransmit was lost too),
   * the three ACKs are repeated at gap_probe_at, the interval doubling
   * from the timeout for new messages up to the cap: each round makes the
   * peer resend the missing packet at once instead of after its own
   * doubled timer (4, 8, 16 s). 0: no hole seen at the last poll. */
  uint64_t gap_probe_at, gap_probe_timeout;
  uint64_t gap_probes; /* such repeated rounds */
  uint32_t next_send_id; /* id of the next new message */
  uint32_t expected;     /* next id to deliver in order */
  lvpn__rel_entry_t send[LVPN__REL_SEND_WINDOW];
  lvpn__pbuf_t *recv[LVPN__REL_RECV_WINDOW]; /* id in p->meta.msg_id */
  lvpn__acks_t pending; /* received ids not yet acknowledged */
  lvpn__acks_t mru;     /* most recently sent ACKs, newest first */
  /* counters (observability) */
  uint64_t sent;             /* first transmissions */
  uint64_t retransmits;      /* all retransmissions (fast ones included) */
  uint64_t fast_retransmits; /* retransmissions before the timer expired */
  uint64_t delivered;        /* payloads popped in order */
  uint64_t dup_received;     /* duplicates (re-acked, dropped) */
  uint64_t window_drops;     /* outside the window or window full */
  uint64_t bogus_acks;       /* ACKs for ids never sent (ignored) */
  uint64_t acks_sent;        /* ACK ids written, repetitions included */
  uint64_t ack_packets;      /* P_ACK_V1 polls */
} lvpn__rel_t;

/* Empty state. initial_timeout_ms is tls-timeout (2000); 0 means 2000. */
void lvpn__rel_init(lvpn__rel_t *r, uint32_t initial_timeout_ms);
/* Frees every stored payload and returns to the state after init
 * (counters cleared too). Use it to dispose of `r`. */
void lvpn__rel_reset(lvpn__rel_t *r);
/* Sets the next ids when nothing is in flight or stored (OpenVPN's
 * session_skip_to_pre_start on a server; tests near 0xFFFFFFFF).
 * Returns LVPN_ESTATE if anything is outstanding. */
int lvpn__rel_skip_to(lvpn__rel_t *r, uint32_t next_send_id,
                      uint32_t next_recv_id);

/* 1 when a new message may be numbered: fewer than 6 ids between the lowest
 * unacknowledged one and the next. */
int lvpn__rel_can_send(const lvpn__rel_t *r);
/* Stores `payload` (opcode and key_id already in payload->meta) under the
 * next message id, written to payload->meta.msg_id; it is due at once.
 * On success `r` owns the payload. On LVPN_ESTATE (window full) the caller
 * keeps it, e.g. to queue it until lvpn__rel_can_send(). */
int lvpn__rel_send(lvpn__rel_t *r, lvpn__pbuf_t *payload, uint64_t now);

/* What to put on the wire at `now`; *out and *acks are always set.
 * LVPN__REL_POLL_PACKET: *out is a clone of the lowest-id due payload (the
 *   caller owns it, pushes the header using out->meta and sends it) and
 *   *acks holds up to 4 ids to piggyback. Its next try is now + timeout and
 *   the timeout doubles (2, 4, 8 s ...).
 * LVPN__REL_POLL_ACK: only ACKs are pending: send a P_ACK_V1 with *acks
 *   (1..8 ids).
 * LVPN__REL_POLL_NONE: nothing is due.
 * LVPN_ENOMEM when the clone cannot be allocated (state unchanged).
 * Call it until it returns NONE after every event. */
int lvpn__rel_poll(lvpn__rel_t *r, uint64_t now, lvpn__pbuf_t **out,
                   lvpn__acks_t *acks);
/* Earliest time something is due: 0 when something is due at once
 * (fast retransmit, burst or pending ACKs), UINT64_MAX when idle. */
uint64_t lvpn__rel_next_deadline(const lvpn__rel_t *r);
/* Makes every unacknowledged message due now with the initial timeout
 * (OpenVPN's "burst" on the peer's reset). */
void lvpn__rel_schedule_now(lvpn__rel_t *r);
/* Number of received ids waiting to be acknowledged. */
int lvpn__rel_acks_pending(const lvpn__rel_t *r);

/* The ACK record of a received packet (any opcode, P_ACK_V1 included):
 * frees acknowledged messages and counts, on each lower outstanding one, an
 * ACK seen for a higher id (3 of them trigger a fast retransmit). */
void lvpn__rel_on_acks(lvpn__rel_t *r, const uint32_t *ids, int n);
/* As lvpn__rel_on_acks, and feeds the round-trip estimator: a message acked
 * after a single transmission gives a sample (now - first transmission);
 * the timeout for new messages becomes srtt + 4 * rttvar, clamped to
 * [LVPN__REL_MIN_RTO_MS, initial_timeout], still doubling per retry. */
/* Caps the doubling of retransmission timeouts at `ms` (0: no cap, as
 * OpenVPN). Kept across lvpn__rel_reset(). */
static inline void lvpn__rel_set_max_timeout(lvpn__rel_t *r, uint64_t ms) {
  r->max_timeout = ms;
}
void lvpn__rel_on_acks_at(lvpn__rel_t *r, const uint32_t *ids, int n,
                          uint64_t now);
/* A received reliable payload, p->meta.msg_id set. Takes ownership of `p`.
 * Returns 0 (stored, will be acknowledged), LVPN_EDUPLICATE (already
 * delivered or buffered: acknowledged again, freed), or LVPN_EWINDOW
 * (receive window full or id ≥ expected + 12: freed, NOT acknowledged). */
int lvpn__rel_on_receive(lvpn__rel_t *r, lvpn__pbuf_t *p);
/* The next in-order payload (caller owns it), or NULL. */
lvpn__pbuf_t *lvpn__rel_pop_inorder(lvpn__rel_t *r);
/* 1 when every message sent has been acknowledged. */
int lvpn__rel_all_acked(const lvpn__rel_t *r);

#endif
