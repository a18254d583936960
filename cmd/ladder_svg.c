/* The ladder as SVG, and the self-contained HTML page (ladder + per-layer
 * timeline): inline SVG and CSS only, so the page opens offline. */
#include <stdio.h>
#include <string.h>

#include "cmd/ladder.h"

#define ROW_H 22
#define TOP 46
#define CLIENT_X 130
#define SERVER_X 890
#define WIDTH 1000
#define LABEL_MAX 118 /* characters on an arrow; the rest in the tooltip */

static void xml(FILE *out, const char *s, size_t max) {
  size_t n = 0;
  for (; *s && n < max; s++, n++) {
    switch (*s) {
    case '<':
      fputs("&lt;", out);
      break;
    case '>':
      fputs("&gt;", out);
      break;
    case '&':
      fputs("&amp;", out);
      break;
    case '"':
      fputs("&quot;", out);
      break;
    default:
      if ((unsigned char)*s >= 0x20)
        fputc(*s, out);
    }
  }
  if (*s)
    fputs("...", out);
}

static const char *row_class(const ladder_row_t *r) {
  if (r->kind == LADDER_DROP)
    return "drop";
  if (r->retransmit)
    return "rtx";
  if (r->kind == LADDER_MSG_OUT || r->kind == LADDER_MSG_IN)
    return "msg";
  return r->ack_only ? "ack" : "pkt";
}

void ladder_print_svg(const ladder_t *l, FILE *out) {
  size_t i;
  int h = TOP + (int)l->n_rows * ROW_H + 20;
  fprintf(out,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" "
          "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
          "font-family=\"monospace\" font-size=\"11\">\n"
          "<defs><marker id=\"ah\" viewBox=\"0 0 10 10\" refX=\"10\" "
          "refY=\"5\" markerWidth=\"9\" markerHeight=\"9\" "
          "markerUnits=\"userSpaceOnUse\" "
          "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" "
          "fill=\"context-stroke\"/></marker></defs>\n"
          "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
          "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" "
          "font-weight=\"bold\">client (layervpn)</text>\n"
          "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" "
          "font-weight=\"bold\">server</text>\n"
          "<text x=\"8\" y=\"20\" font-size=\"12\">t (ms)</text>\n"
          "<line x1=\"%d\" y1=\"28\" x2=\"%d\" y2=\"%d\" stroke=\"#333\" "
          "stroke-width=\"2\"/>\n"
          "<line x1=\"%d\" y1=\"28\" x2=\"%d\" y2=\"%d\" stroke=\"#333\" "
          "stroke-width=\"2\"/>\n",
          WIDTH, h, WIDTH, h, CLIENT_X, SERVER_X, CLIENT_X, CLIENT_X, h - 10,
          SERVER_X, SERVER_X, h - 10);
  /* Colours as attributes too, so the SVG alone (without the page's CSS)
   * looks the same. */
  for (i = 0; i < l->n_rows; i++) {
    const ladder_row_t *r = &l->rows[i];
    int y = TOP + (int)i * ROW_H;
    const char *cls = row_class(r);
    const char *color = strcmp(cls, "drop") == 0  ? "#c0392b"
                        : strcmp(cls, "rtx") == 0 ? "#d35400"
                        : strcmp(cls, "msg") == 0 ? "#7d3c98"
                        : strcmp(cls, "ack") == 0 ? "#7f8c8d"
                                                  : "#1f5fbf";
    fprintf(out, "<g class=\"row %s\"><title>",
            r->kind == LADDER_NOTE ? "note" : cls);
    xml(out, r->detail[0] ? r->detail : r->label, sizeof(r->detail));
    fprintf(out, "</title>\n<text x=\"8\" y=\"%d\" fill=\"#555\">%.1f</text>\n",
            y + 4, r->t * 1000.0);
    if (r->kind == LADDER_NOTE) {
      fprintf(out,
              "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" rx=\"4\" "
              "fill=\"#fdf2d0\" stroke=\"#c9a227\"/>\n"
              "<text x=\"%d\" y=\"%d\" font-style=\"italic\">",
              CLIENT_X + 6, y - 8, (int)(strlen(r->label) * 6.7) + 12,
              CLIENT_X + 12, y + 4);
      xml(out, r->label, LABEL_MAX);
      fputs("</text></g>\n", out);
      continue;
    }
    {
      int right = r->kind == LADDER_OUT || r->kind == LADDER_MSG_OUT;
      int x1 = right ? CLIENT_X : SERVER_X, x2 = right ? SERVER_X : CLIENT_X;
      fprintf(out,
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
              "stroke-width=\"%s\"%s marker-end=\"url(#ah)\"/>\n",
              x1, y + 6, x2, y + 6, color,
              strcmp(cls, "msg") == 0 ? "2.5" : "1.5",
              strcmp(cls, "drop") == 0 || strcmp(cls, "ack") == 0
                  ? " stroke-dasharray=\"5,3\""
                  : "");
      if (r->kind == LADDER_DROP)
        fprintf(out,
                "<text x=\"%d\" y=\"%d\" fill=\"%s\" font-size=\"16\" "
                "font-weight=\"bold\">&#x2717;</text>\n",
                CLIENT_X + 4, y + 11, color);
      fprintf(out,
              "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">",
              (CLIENT_X + SERVER_X) / 2, y + 2, color);
      xml(out, r->label, LABEL_MAX);
      fputs("</text></g>\n", out);
    }
  }
  fputs("</svg>\n", out);
}

static const char *const layer_colors[LADDER_LAYERS] = {
    "#34495e", "#16a085", "#27ae60", "#7d3c98",
    "#2980b9", "#d35400", "#c0392b", "#7f8c8d"};

/* One row per layer, one tick per event, x by event order (the handshake
 * takes milliseconds, the session seconds: a time axis would squeeze the
 * interesting part into a pixel); times are in the tooltips and on the
 * axis labels. */
static void timeline_svg(const ladder_t *l, FILE *out) {
  const int left = 140, right = 980, rh = 24;
  int h = 30 + LADDER_LAYERS * rh + 30, li, k;
  size_t i, n = l->n_events;
  double step = n > 1 ? (double)(right - left) / (double)(n - 1) : 0;
  fprintf(out,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" "
          "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
          "font-family=\"monospace\" font-size=\"11\">\n"
          "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
          WIDTH, h, WIDTH, h);
  for (li = 0; li < LADDER_LAYERS; li++) {
    int y = 30 + li * rh;
    fprintf(out,
            "<text x=\"8\" y=\"%d\">%s</text>\n"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n",
            y + 4, ladder_layer_names[li], left, y, right, y);
  }
  for (i = 0; i < n; i++) {
    const ladder_event_t *e = &l->events[i];
    double x = left + step * (double)i;
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%d\" width=\"3\" height=\"14\" "
            "fill=\"%s\"><title>%.6f s %s ",
            x - 1, 30 + e->layer * rh - 7, layer_colors[e->layer], e->t,
            ladder_layer_names[e->layer]);
    xml(out, e->op, sizeof(e->op));
    fputs("</title></rect>\n", out);
  }
  for (k = 0; k <= 4 && n > 0; k++) {
    size_t idx = (size_t)((double)(n - 1) * k / 4.0);
    fprintf(out,
            "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
            "fill=\"#555\">%.3f s</text>\n",
            left + step * (double)idx, h - 10, l->events[idx].t);
  }
  fputs("</svg>\n", out);
}

void ladder_print_html(const ladder_t *l, FILE *out, const char *title) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<title>layervpn trace: ",
        out);
  xml(out, title, 200);
  fputs("</title>\n<style>\n"
        "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}\n"
        "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}\n"
        "svg{border:1px solid #ccc;display:block;max-width:100%;height:auto}\n"
        "g.row:hover text{font-weight:bold}\n"
        ".legend span{display:inline-block;margin-right:1.5em}\n"
        ".k{display:inline-block;width:2em;height:.3em;vertical-align:middle;"
        "margin-right:.4em}\n"
        "</style></head><body>\n<h1>layervpn trace</h1>\n<p>",
        out);
  xml(out, title, 200);
  fprintf(out, ": %zu events over %.3f s, %zu ladder rows", l->n_events,
          l->t_end, l->n_rows);
  if (l->bad_lines)
    fprintf(out, " (%zu lines skipped: not trace events)", l->bad_lines);
  fputs(". Hover a row or a tick for details.</p>\n"
        "<p class=\"legend\">"
        "<span><i class=\"k\" style=\"background:#1f5fbf\"></i>control "
        "packet</span>"
        "<span><i class=\"k\" style=\"background:#7f8c8d\"></i>ACK</span>"
        "<span><i class=\"k\" style=\"background:#7d3c98\"></i>message "
        "inside TLS</span>"
        "<span><i class=\"k\" style=\"background:#d35400\"></i>"
        "retransmission</span>"
        "<span><i class=\"k\" style=\"background:#c0392b\"></i>dropped"
        "</span></p>\n<h2>Control channel ladder</h2>\n",
        out);
  ladder_print_svg(l, out);
  fputs("<h2>Per-layer timeline (event order)</h2>\n", out);
  timeline_svg(l, out);
  fputs("</body></html>\n", out);
}
