/* Reading a --trace file into ladder rows, the terminal ladder, and the
 * `layervpn trace` subcommand (SVG and HTML drawing: cmd/ladder_svg.c).
 * Lines are parsed with jansson; anything that is not a trace event is
 * counted and skipped, so a truncated last line does not stop the
 * drawing. */
#include "cmd/ladder.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *const ladder_layer_names[LADDER_LAYERS] = {
    "client",         "tun",         "datachannel",       "tlssession",
    "controlchannel", "packetmuxer", "reliabletransport", "networkio"};

static int layer_index(const char *name) {
  int i;
  for (i = 0; i < LADDER_LAYERS; i++)
    if (strcmp(name, ladder_layer_names[i]) == 0)
      return i;
  return -1;
}

static const char *str(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s != NULL ? s : "";
}

static int grow(void **p, size_t *cap, size_t n, size_t size) {
  void *np;
  size_t nc;
  if (n < *cap)
    return 0;
  nc = *cap ? *cap * 2 : 256;
  np = realloc(*p, nc * size);
  if (np == NULL)
    return -1;
  *p = np;
  *cap = nc;
  return 0;
}

static ladder_row_t *add_row(ladder_t *l, double t, int kind) {
  ladder_row_t *r;
  if (grow((void **)&l->rows, &l->cap_rows, l->n_rows, sizeof(*r)) != 0)
    return NULL;
  r = &l->rows[l->n_rows++];
  memset(r, 0, sizeof(*r));
  r->t = t;
  r->kind = kind;
  return r;
}

/* Appends printf text to a fixed buffer. */
static void cat(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t cap, const char *fmt, ...) {
  size_t n = strlen(buf);
  va_list ap;
  if (n + 1 >= cap)
    return;
  va_start(ap, fmt);
  vsnprintf(buf + n, cap - n, fmt, ap);
  va_end(ap);
}

/* "P_CONTROL_V1" → "CONTROL_V1": the arrows are short. */
static const char *short_opcode(const char *op) {
  return strncmp(op, "P_", 2) == 0 ? op + 2 : op;
}

/* A minivpn packet event (reliabletransport packet_in/out/dropped). */
static void packet_row(ladder_t *l, double t, const char *op, json_t *ev) {
  json_t *pkt = json_object_get(ev, "packet"), *acks, *v;
  const char *opcode = str(pkt, "opcode"), *reason = str(ev, "reason");
  int kind = strcmp(op, "packet_out") == 0  ? LADDER_OUT
             : strcmp(op, "packet_in") == 0 ? LADDER_IN
                                            : LADDER_DROP;
  ladder_row_t *r = add_row(l, t, kind);
  size_t i;
  json_int_t attempts;
  if (r == NULL)
    return;
  r->ack_only = strcmp(opcode, "P_ACK_V1") == 0;
  cat(r->label, sizeof(r->label), "%s k%lld", short_opcode(opcode),
      (long long)json_integer_value(json_object_get(pkt, "key_id")));
  if (!r->ack_only)
    cat(r->label, sizeof(r->label), " #%lld",
        (long long)json_integer_value(json_object_get(pkt, "id")));
  acks = json_object_get(pkt, "acks");
  if (json_is_array(acks) && json_array_size(acks) > 0) {
    cat(r->label, sizeof(r->label), " ack");
    json_array_foreach(acks, i, v)
        cat(r->label, sizeof(r->label), "%s%lld", i ? "," : "",
            (long long)json_integer_value(v));
  }
  v = json_object_get(ev, "tls_records");
  if (json_is_array(v) && json_array_size(v) > 0) {
    json_t *rec;
    cat(r->label, sizeof(r->label), " [");
    json_array_foreach(v, i, rec) {
      const char *s = json_string_value(rec), *c;
      s = s != NULL ? s : "?";
      c = strchr(s, ':'); /* handshake:client_hello → client_hello */
      cat(r->label, sizeof(r->label), "%s%s", i ? " " : "", c ? c + 1 : s);
    }
    cat(r->label, sizeof(r->label), "]");
  } else if (json_integer_value(json_object_get(pkt, "payload_size")) > 0) {
    cat(r->label, sizeof(r->label), " %lldB",
        (long long)json_integer_value(json_object_get(pkt, "payload_size")));
  }
  attempts = json_integer_value(json_object_get(pkt, "send_attempts"));
  if (kind == LADDER_OUT && attempts > 1) {
    r->retransmit = 1;
    cat(r->label, sizeof(r->label), " RETRANSMIT %lld%s%s", (long long)attempts,
        *reason ? " " : "", reason);
  }
  if (kind == LADDER_DROP)
    cat(r->label, sizeof(r->label), " DROPPED%s%s", *reason ? ": " : "",
        reason);
  snprintf(r->detail, sizeof(r->detail), "%s %s, payload %lld bytes, stage %s",
           op, opcode,
           (long long)json_integer_value(json_object_get(pkt, "payload_size")),
           str(ev, "stage"));
}

/* Control messages inside TLS, key-method 2 and notes. */
static void other_row(ladder_t *l, double t, const char *layer, const char *op,
                      json_t *ev) {
  ladder_row_t *r;
  if (strcmp(op, "control_out") == 0 || strcmp(op, "control_in") == 0) {
    const char *opts = str(ev, "options");
    r = add_row(l, t, op[8] == 'o' ? LADDER_MSG_OUT : LADDER_MSG_IN);
    if (r == NULL)
      return;
    snprintf(r->label, sizeof(r->label), "%s", str(ev, "message"));
    if (*opts) {
      cat(r->label, sizeof(r->label), " %.60s%s", opts,
          strlen(opts) > 60 ? "..." : "");
      snprintf(r->detail, sizeof(r->detail), "%s,%s", str(ev, "message"), opts);
    }
  } else if (strcmp(op, "key_method_2_out") == 0 ||
             strcmp(op, "key_method_2_in") == 0) {
    r = add_row(l, t, op[13] == 'o' ? LADDER_MSG_OUT : LADDER_MSG_IN);
    if (r != NULL)
      snprintf(r->label, sizeof(r->label), "key-method 2");
  } else if (strcmp(op, "state") == 0) {
    r = add_row(l, t, LADDER_NOTE);
    if (r != NULL)
      snprintf(r->label, sizeof(r->label), "state %s", str(ev, "stage"));
  } else if (strcmp(op, "tls_done") == 0) {
    r = add_row(l, t, LADDER_NOTE);
    if (r != NULL)
      snprintf(r->label, sizeof(r->label), "TLS done k%lld: %s %s",
               (long long)json_integer_value(json_object_get(ev, "key_id")),
               str(ev, "version"), str(ev, "ciphersuite"));
  } else if (strcmp(op, "error") == 0) {
    r = add_row(l, t, LADDER_NOTE);
    if (r != NULL)
      snprintf(r->label, sizeof(r->label), "ERROR %s: %s %s", layer,
               str(ev, "what"), str(ev, "error"));
  } else if (strcmp(layer, "client") == 0 &&
             (strcmp(op, "attempt") == 0 || strcmp(op, "connected") == 0 ||
              strcmp(op, "stopped") == 0 || strcmp(op, "restarting") == 0)) {
    r = add_row(l, t, LADDER_NOTE);
    if (r != NULL) {
      snprintf(r->label, sizeof(r->label), "%s", op);
      if (strcmp(op, "attempt") == 0)
        cat(r->label, sizeof(r->label), " %s:%lld/%s", str(ev, "remote"),
            (long long)json_integer_value(json_object_get(ev, "port")),
            str(ev, "proto"));
    }
  }
}

int ladder_read(ladder_t *l, FILE *f, char *err, size_t errlen) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  memset(l, 0, sizeof(*l));
  while ((n = getline(&line, &cap, f)) > 0) {
    json_error_t jerr;
    json_t *ev = json_loadb(line, (size_t)n, 0, &jerr), *t;
    const char *layer, *op;
    int li;
    if (ev == NULL || !json_is_object(ev) ||
        !json_is_number(t = json_object_get(ev, "t")) ||
        (li = layer_index(layer = str(ev, "layer"))) < 0 ||
        !*(op = str(ev, "operation"))) {
      l->bad_lines++;
      json_decref(ev);
      continue;
    }
    if (grow((void **)&l->events, &l->cap_events, l->n_events,
             sizeof(ladder_event_t)) == 0) {
      ladder_event_t *e = &l->events[l->n_events++];
      e->t = json_number_value(t);
      e->layer = li;
      snprintf(e->op, sizeof(e->op), "%s", op);
      if (e->t > l->t_end)
        l->t_end = e->t;
    }
    if (json_is_object(json_object_get(ev, "packet")))
      packet_row(l, json_number_value(t), op, ev);
    else
      other_row(l, json_number_value(t), layer, op, ev);
    json_decref(ev);
  }
  free(line);
  if (ferror(f)) {
    snprintf(err, errlen, "read error: %s", strerror(errno));
    return -1;
  }
  if (l->n_events == 0) {
    snprintf(err, errlen, "no trace events (is it a --trace file?)");
    return -1;
  }
  return 0;
}

void ladder_free(ladder_t *l) {
  free(l->rows);
  free(l->events);
  memset(l, 0, sizeof(*l));
}

#define TEXT_WIDTH 64 /* between the two lifelines */

void ladder_print_text(const ladder_t *l, FILE *out, const char *title) {
  size_t i;
  fprintf(out, "%s: %zu events, %.3f s", title, l->n_events, l->t_end);
  if (l->bad_lines)
    fprintf(out, " (%zu lines skipped: not trace events)", l->bad_lines);
  fprintf(out, "\n\n   t (ms)   %-*s%s\n", TEXT_WIDTH + 1, "client", "server");
  for (i = 0; i < l->n_rows; i++) {
    const ladder_row_t *r = &l->rows[i];
    char arrow[TEXT_WIDTH + 1], lab[TEXT_WIDTH];
    size_t len, k, start;
    const char *more;
    int msg;
    int right = r->kind == LADDER_OUT || r->kind == LADDER_MSG_OUT;
    char dash = r->kind == LADDER_MSG_OUT || r->kind == LADDER_MSG_IN ? '='
                : r->ack_only                                         ? '.'
                                                                      : '-';
    fprintf(out, "%9.1f   ", r->t * 1000.0);
    if (r->kind == LADDER_NOTE) {
      fprintf(out, "| %s\n", r->label);
      continue;
    }
    msg =
        r->detail[0] && (r->kind == LADDER_MSG_IN || r->kind == LADDER_MSG_OUT);
    /* a message's options and a label too long for the arrow go on the
     * lines below it */
    if (msg)
      snprintf(lab, sizeof(lab), " %.*s ", (int)strcspn(r->label, " "),
               r->label);
    else
      snprintf(lab, sizeof(lab), " %.*s%s ", TEXT_WIDTH - 10, r->label,
               strlen(r->label) > TEXT_WIDTH - 10 ? "+" : "");
    len = strlen(lab);
    memset(arrow, dash, TEXT_WIDTH);
    arrow[TEXT_WIDTH] = '\0';
    start = len + 4 < TEXT_WIDTH ? (TEXT_WIDTH - len) / 2 : 2;
    for (k = 0; k < len && start + k < TEXT_WIDTH - 2; k++)
      arrow[start + k] = lab[k];
    if (right)
      arrow[TEXT_WIDTH - 1] = '>';
    else
      arrow[0] = r->kind == LADDER_DROP ? 'X' : '<';
    fprintf(out, "|%s|\n", arrow);
    more = msg                                  ? r->detail
           : strlen(r->label) > TEXT_WIDTH - 10 ? r->label + TEXT_WIDTH - 10
                                                : "";
    for (k = 0; k < strlen(more); k += TEXT_WIDTH - 4)
      fprintf(out, "            |  %s%.*s\n", msg ? "" : "+", TEXT_WIDTH - 4,
              more + k);
  }
  fprintf(out, "\n-> client to server, <- server to client, X dropped by "
               "the client; === control messages inside TLS, ... ACKs\n");
}

static void usage(FILE *f) {
  fprintf(f, "usage: layervpn trace TRACEFILE [--format text|html|svg] "
             "[-o OUT]\n"
             "       layervpn trace TRACEFILE --html OUT.html\n"
             "Draws a --trace file as a ladder diagram: text on the terminal, "
             "or a\nself-contained HTML page (ladder and per-layer timeline) "
             "or SVG.\n");
}

int cmd_trace(int argc, char **argv) {
  const char *path = NULL, *format = "text", *outpath = NULL;
  char err[256];
  FILE *in, *out = stdout;
  ladder_t l;
  int i;
  for (i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
      format = argv[++i];
    } else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc) {
      format = "html";
      outpath = argv[++i];
    } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      outpath = argv[++i];
    } else if (strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (argv[i][0] != '-' && path == NULL) {
      path = argv[i];
    } else {
      fprintf(stderr, "layervpn trace: unexpected argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (path == NULL ||
      (strcmp(format, "text") != 0 && strcmp(format, "html") != 0 &&
       strcmp(format, "svg") != 0)) {
    if (path != NULL)
      fprintf(stderr,
              "layervpn trace: --format takes text, html or svg, "
              "not '%s'\n",
              format);
    usage(stderr);
    return 2;
  }
  in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
  if (in == NULL) {
    fprintf(stderr, "layervpn trace: cannot open '%s': %s\n", path,
            strerror(errno));
    return 2;
  }
  i = ladder_read(&l, in, err, sizeof(err));
  if (in != stdin)
    fclose(in);
  if (i != 0) {
    fprintf(stderr, "layervpn trace: %s: %s\n", path, err);
    return 1;
  }
  if (outpath != NULL && (out = fopen(outpath, "w")) == NULL) {
    fprintf(stderr, "layervpn trace: cannot create '%s': %s\n", outpath,
            strerror(errno));
    ladder_free(&l);
    return 2;
  }
  if (strcmp(format, "html") == 0)
    ladder_print_html(&l, out, path);
  else if (strcmp(format, "svg") == 0)
    ladder_print_svg(&l, out);
  else
    ladder_print_text(&l, out, path);
  i = ferror(out) ? 1 : 0;
  if (out != stdout && fclose(out) != 0)
    i = 1;
  if (i)
    fprintf(stderr, "layervpn trace: write error\n");
  ladder_free(&l);
  return i;
}
