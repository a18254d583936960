/* The CLI's start-trim readers (cmd/memtrim.c): the page list, a file the
 * CLI reads back at every start (a user's own runtime directory for a
 * non-root CLI), and the /proc/PID/maps scan with the pagemap entries it
 * asks for. A list is taken whole or not at all, each run inside its
 * mapping, and what parses formats back to itself; the list aged against
 * itself (cli_memtrim_runs_age) stays inside its mappings, younger than
 * the limit, no longer than it was; the scan picks only
 * aligned, non-empty, read-only private file mappings whose entries hold
 * no anonymous or swapped page.
 * Input: one byte choosing the pagemap pattern, then text read both as a
 * page list and as maps text. */
#include <stdio.h>

#include "cmd/memtrim.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61)

static uint8_t pattern;

/* a page's entry from the pattern byte and the page number */
static unsigned long long entry(unsigned long page) {
  unsigned v = (unsigned)((page * 2654435761u) >> 7 ^ pattern) & 15;
  if (v == 0)
    return PM_PRESENT; /* anonymous: a private copy */
  if (v == 1 && (pattern & 0x80))
    return PM_SWAPPED;
  return v < 8 ? PM_PRESENT | PM_FILE : 0;
}

static int fake_pagemap(void *ud, unsigned long page,
                        unsigned long long *entries, size_t n) {
  size_t i;
  (void)ud;
  if ((pattern & 0x40) && (page & 0xff) == 0x7f)
    return -1; /* an unreadable stretch */
  for (i = 0; i < n; i++)
    entries[i] = entry(page + i);
  return 0;
}

static void check_list(const char *text, size_t len) {
  static cli_memtrim_run_t runs[64], back[64];
  static char out[64 * 64];
  int n = cli_memtrim_runs_parse(text, len, runs, 64), i;
  size_t olen;
  if (n < -1 || n > 64)
    abort();
  if (n <= 0)
    return;
  for (i = 0; i < n; i++)
    if (runs[i].count == 0 || runs[i].first >= runs[i].pages ||
        runs[i].count > runs[i].pages - runs[i].first)
      abort();
  olen = cli_memtrim_runs_format(runs, (size_t)n, out, sizeof(out));
  if (olen == 0 || cli_memtrim_runs_parse(out, olen, back, 64) != n ||
      memcmp(runs, back, (size_t)n * sizeof(runs[0])) != 0)
    abort();
  /* aged against itself as the list kept: every run inside its mapping,
   * younger than the limit, no more pages than were learned */
  {
    static cli_memtrim_run_t aged[256];
    unsigned long in = 0, outp = 0;
    int na = cli_memtrim_runs_age(runs, (size_t)n, back, (size_t)n, 3, aged,
                                  256);
    for (i = 0; i < n; i++)
      in += runs[i].count;
    for (i = 0; i < na; i++) {
      if (aged[i].count == 0 || aged[i].age >= 3 ||
          aged[i].first >= aged[i].pages ||
          aged[i].count > aged[i].pages - aged[i].first)
        abort();
      outp += aged[i].count;
    }
    if (na < -1 || outp > in)
      abort();
  }
}

static void check_scan(const char *text, size_t len) {
  static cli_memtrim_map_t maps[32];
  static unsigned long long e[64];
  long kb = -1;
  int n = cli_memtrim_scan(text, len, fake_pagemap, NULL, maps, 32, &kb), i;
  if (n < -1 || n > 32)
    abort();
  for (i = 0; i < n; i++) {
    unsigned long p, pages;
    if (maps[i].end <= maps[i].start || maps[i].start % 4096 != 0 ||
        maps[i].end % 4096 != 0 || maps[i].inode == 0)
      abort();
    pages = (maps[i].end - maps[i].start) / 4096;
    for (p = 0; p < pages && p < 64; p++) { /* no private copy picked */
      unsigned long long x = entry(maps[i].start / 4096 + p);
      if ((x & PM_SWAPPED) || ((x & PM_PRESENT) && !(x & PM_FILE)))
        abort();
    }
    /* runs of a picked mapping stay inside it */
    if (pages <= 64) {
      cli_memtrim_run_t runs[64];
      size_t nr = 0, j;
      for (p = 0; p < pages; p++)
        e[p] = entry(maps[i].start / 4096 + p);
      if (cli_memtrim_runs_add(&maps[i], 0, e, pages, runs, &nr, 64) != 0)
        abort();
      for (j = 0; j < nr; j++)
        if (runs[j].pages != pages || runs[j].first + runs[j].count > pages)
          abort();
    }
  }
  if (n >= 0 && kb < 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text;
  if (size == 0)
    return 0;
  pattern = data[0];
  text = malloc(size);
  if (text == NULL)
    abort();
  memcpy(text, data + 1, size - 1);
  check_list(text, size - 1);
  check_scan(text, size - 1);
  free(text);
  return 0;
}
