#ifndef LVPN_CMD_MEMTRIM_H
#define LVPN_CMD_MEMTRIM_H

#include <stddef.h>
#include <stdio.h>

/* Unmaps the resident pages of this process's clean, read-only, private
 * file mappings (shared libraries' and the executable's code and
 * read-only data) with MADV_DONTNEED. They stay in the page cache and come
 * back on the next touch, a minor fault; what the process no longer
 * touches (the dynamic linker's symbol tables, start-up and handshake
 * code) stops counting in its RSS. Mappings holding any anonymous page
 * (relocated RELRO data, a debugger's breakpoint), writable, shared or
 * locked mappings are left alone. The CLI's business only: a library must
 * not madvise its host's mappings.
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
 * Does nothing when LVPN_NO_MEMTRIM is set (non-empty), under valgrind, or
 * while the process has more than one thread.
 * Returns the resident kB of the mappings picked, 0 when skipped, -1 when
 * /proc/self/smaps could not be read or parsed (nothing is unmapped then). */
long cli_memtrim(int start);

/* The parser behind cli_memtrim, for tests: reads smaps text from `f` and
 * stores up to `max` eligible [start, end) ranges in `ranges` (2 per
 * range), and in `hot[i]` whether range i is the text of one of the
 * libraries above. Returns the number of ranges, or -1 on text it cannot
 * parse or more than `max` eligible ranges. `*kb` gets their resident kB. */
int cli_memtrim_scan(FILE *f, unsigned long *ranges, unsigned char *hot,
                     size_t max, long *kb);

#endif
