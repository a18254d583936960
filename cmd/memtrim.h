#ifndef LVPN_CMD_MEMTRIM_H
#define LVPN_CMD_MEMTRIM_H

#include <stddef.h>

/* Unmaps the resident pages of this process's clean, read-only, private
 * file mappings (shared libraries' and the executable's code and
 * read-only data) with MADV_DONTNEED. They stay in the page cache and come
 * back on the next touch, a minor fault; what the process no longer
 * touches (the dynamic linker's symbol tables, start-up and handshake
 * code) stops counting in its RSS. Mappings holding any anonymous page
 * (relocated RELRO data, a debugger's breakpoint) or a swapped one,
 * writable and shared mappings are left alone (a locked one refuses the
 * unmapping). The CLI's business only: a library must not madvise its
 * host's mappings. All are unmapped in one process_madvise() call where
 * the kernel takes it (one TLB flush: see memtrim.c).
 *
 * Each mapping picked is also registered with a userfaultfd (write-protect
 * mode, Linux >= 6.7, where available) so that later faults on it map one
 * page, not a 64-kB window (see memtrim.c).
 *
 * `start` (the call at the top of main): the text of the libraries the
 * tunnel runs in (liblayers, mbedTLS, libuv) is mapped whole
 * (MADV_POPULATE_READ) instead, as the start touches nearly all of it;
 * the call once the tunnel is up trims it with the rest.
 *
 * The page list: the first call after the start one (the tunnel is up)
 * records which pages of the trimmed mappings are present, which with
 * fault-around off are the ones the start touched, in a file:
 * $LVPN_MEMTRIM_PAGES, else /run/layervpn/memtrim-pages for root and
 * $XDG_RUNTIME_DIR/layervpn-memtrim-pages for others (an empty
 * LVPN_MEMTRIM_PAGES: no list). The next start's trim leaves those pages
 * mapped (at most 2 MB of them) instead of unmapping them for the start
 * to fault back one by one; the peak does not move, as the start maps
 * them anyway. A page the list kept mapped ages by one start each time
 * (nothing tells whether that start used it) and leaves after 16, so the
 * list is what the last starts touched, not the union of every start the
 * machine made (cli_memtrim_runs_age). It is only a hint: a list of
 * another build or library version matches no mapping and keeps nothing,
 * and a missing or damaged one is rewritten. Not kept without the userfaultfd registration, where
 * the present pages include fault-around's.
 *
 * Does nothing when LVPN_NO_MEMTRIM is set (non-empty), under valgrind, or
 * while the process has more than one thread.
 * Returns the resident kB of the mappings picked, 0 when skipped, -1 when
 * /proc/self/maps or pagemap could not be read or parsed (nothing is
 * unmapped then). */
long cli_memtrim(int start);

/* The same for the mappings that appeared after the start call: the
 * libraries liblayers loads on first use when a client starts (Nettle's
 * libhogweed and GMP, layers/tlssession/ecc_nettle.h), whose loading
 * mapped them with fault-around. The CLI calls it once the client is
 * started, in the loop's first check phase: after the client's reset went
 * out, while the server answers. The page list keeps what the last start
 * touched of them too. Returns the number of mappings picked (0: none, or
 * skipped as cli_memtrim is), -1 as cli_memtrim. */
long cli_memtrim_new(void);

/* One mapping picked by the scan: [start, end), its file's device
 * ((major << 20) | minor) and inode, its offset in the file, and whether it
 * is the text of one of the libraries above. */
typedef struct {
  unsigned long start, end;
  unsigned long dev, inode, off;
  int hot;
} cli_memtrim_map_t;

/* Reads `n` /proc/PID/pagemap entries from virtual page `page` on;
 * 0, or -1 when they cannot be read. */
typedef int (*cli_memtrim_pagemap_fn)(void *ud, unsigned long page,
                                      unsigned long long *entries, size_t n);

/* The scan behind cli_memtrim, for tests: the read-only, private file
 * mappings of /proc/PID/maps text `maps` without an anonymous (a private
 * copy) or a swapped page in their pagemap entries, up to `max` of them,
 * into `out`. Returns their number, or -1 on text it cannot parse, entries
 * it cannot read, or more than `max` such mappings. `*kb` gets their
 * resident kB. */
int cli_memtrim_scan(const char *maps, size_t len, cli_memtrim_pagemap_fn pm,
                     void *ud, cli_memtrim_map_t *out, size_t max, long *kb);

/* The page list (see cli_memtrim). One run: `count` pages from page
 * `first` of the mapping of `pages` pages at offset `off` of the file
 * (dev, inode). */
typedef struct {
  unsigned long dev, inode, off, pages, first, count;
  unsigned long age; /* lists learned since they were last faulted in */
} cli_memtrim_run_t;

/* Its text form, one run a line: "dev inode off pages first count age" in
 * hex (a line without the age, from an older list, has age 0). Parse
 * returns the number of runs (at most `max`), or -1 on anything else (no
 * run is used then); format returns the length written, or 0 when `cap`
 * is too small. */
int cli_memtrim_runs_parse(const char *text, size_t len,
                           cli_memtrim_run_t *runs, size_t max);
size_t cli_memtrim_runs_format(const cli_memtrim_run_t *runs, size_t n,
                               char *buf, size_t cap);

/* The runs of present file pages (/proc/PID/pagemap entries with bit 63,
 * present, and bit 61, file page, set) among `n` entries of mapping `m`
 * from its page `first` on, appended to runs[*nruns..max) (a run that the
 * previous call ended is continued). Returns -1 when they do not fit. */
int cli_memtrim_runs_add(const cli_memtrim_map_t *m, unsigned long first,
                         const unsigned long long *entries, size_t n,
                         cli_memtrim_run_t *runs, size_t *nruns, size_t max);

/* The list to keep once a start is connected: `learned`, the runs of its
 * present pages (age 0), with the pages that lay in a run of `kept` (the
 * list that start kept mapped, so nothing tells whether it used them)
 * aged by one from that run's age, and pages of age `max_age` or more
 * left out. Without it the list only grows: a listed page stays mapped,
 * so it is present when the next list is learned, and a machine's list
 * becomes the union of every start it ever made. With it a page no start
 * uses leaves after `max_age` starts, and one in use is faulted back in
 * once every `max_age` + 1 (MEMTRIM_MAX_AGE in memtrim.c). Into
 * out[0..max), adjacent pages of one mapping and age in one run; the
 * number of runs, or -1 when they do not fit. */
int cli_memtrim_runs_age(const cli_memtrim_run_t *learned, size_t n,
                         const cli_memtrim_run_t *kept, size_t nk,
                         unsigned long max_age, cli_memtrim_run_t *out,
                         size_t max);

/* Where the CLI keeps what it learns between runs (the page list above,
 * the server's chain): $ENV_NAME when set (empty: nowhere, NULL), else
 * `root_path` for root, else $XDG_RUNTIME_DIR/`xdg_name` (NULL without an
 * absolute $XDG_RUNTIME_DIR); `buf` holds what is built. */
const char *cli_runtime_path(const char *env_name, const char *root_path,
                             const char *xdg_name, char *buf, size_t cap);

#endif
