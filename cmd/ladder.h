/* `layervpn trace FILE [--format text|html|svg] [-o OUT] [--html OUT]`:
 * draws a --trace file (JSON lines) as a ladder diagram, client and server
 * columns, one arrow per control packet (opcode, key_id, message id, ACKs,
 * TLS record kinds; retransmissions and drops marked), the control
 * messages inside TLS (key-method 2, PUSH_REQUEST, PUSH_REPLY) as their own
 * arrows, state changes on the client's side, relative times. HTML is one
 * self-contained page (inline SVG and CSS, nothing fetched): the ladder
 * plus a per-layer timeline of every event. */
#ifndef LVPN_CMD_LADDER_H
#define LVPN_CMD_LADDER_H

#include <stddef.h>
#include <stdio.h>

enum {
  LADDER_OUT = 1, /* client → server */
  LADDER_IN,      /* server → client */
  LADDER_DROP,    /* server → client, dropped by us */
  LADDER_MSG_OUT, /* a control message inside TLS, client → server */
  LADDER_MSG_IN,  /* ... server → client */
  LADDER_NOTE     /* a state change or event on the client's side */
};

typedef struct {
  double t;       /* seconds since the trace started */
  int kind;       /* LADDER_* */
  int retransmit; /* a packet sent again */
  int ack_only;   /* P_ACK_V1 */
  char label[160];
  char detail[480]; /* the longer text (tooltip in HTML) */
} ladder_row_t;

#define LADDER_LAYERS 8 /* the seven layers and "client" */

typedef struct {
  double t;
  int layer; /* index into ladder_layer_names */
  char op[40];
} ladder_event_t;

typedef struct {
  ladder_row_t *rows;
  size_t n_rows, cap_rows;
  ladder_event_t *events;
  size_t n_events, cap_events;
  size_t bad_lines; /* lines that are not trace events */
  double t_end;
} ladder_t;

extern const char *const ladder_layer_names[LADDER_LAYERS];

/* Reads a trace file (JSON lines). Returns 0, or -1 with `err` set when the
 * file cannot be read or holds no event at all. */
int ladder_read(ladder_t *l, FILE *f, char *err, size_t errlen);
void ladder_free(ladder_t *l);

void ladder_print_text(const ladder_t *l, FILE *out, const char *title);
void ladder_print_svg(const ladder_t *l, FILE *out);
void ladder_print_html(const ladder_t *l, FILE *out, const char *title);

/* The subcommand: argv after "trace". */
int cmd_trace(int argc, char **argv);

#endif
