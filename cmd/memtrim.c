/* Trimming the CLI's resident file pages (see memtrim.h).
 *
 * Why: a read fault on a file mapping maps up to 16 neighbouring pages of
 * the page cache too ("fault-around", 64 KiB windows), and the dynamic
 * linker reads every library's symbol and relocation tables once. So a
 * library the tunnel touches in a few places counts hundreds of kB in the
 * RSS; libcrypto alone 2.8 MB. MADV_RANDOM does not help: it turns off
 * read-ahead from disk, not fault-around (the kernel's
 * should_fault_around() does not look at it). Unmapping the clean pages
 * does: they are the page cache's, not ours, and what is touched again
 * comes back with a minor fault.
 *
 * Safety: MADV_DONTNEED on a private file mapping throws away the
 * mapping's private copies of pages, so only mappings with no anonymous
 * and no swapped page are trimmed, and only read-only ones (nothing can
 * write a private copy in between; the CLI calls this while it is
 * single-threaded). */
#include "cmd/memtrim.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MEMTRIM_MAX_RANGES 512

typedef struct {
  unsigned long start, end;
  int ok;                  /* read-only, private, a file */
  int hot;                 /* the text of a library in hot_libs */
  int have_anon, have_swap;
  long rss, anon, swap, priv_dirty;
  int locked;
} block_t;

static int block_eligible(const block_t *b) {
  return b->ok && b->have_anon && b->have_swap &&
         b->anon == 0 && b->swap == 0 && b->priv_dirty == 0 && !b->locked;
}

/* The libraries the tunnel runs in (ours, the TLS's, the event loop's),
 * whose text a start touches nearly all of: 264 of liblayers' 280 kB, 176
 * of libmbedcrypto's 276 (doc/performance.md). Faulting it back in a page
 * at a time after the trim at start costs a fault each (about 9.5 us on a
 * VM, where MADV_POPULATE_READ maps a page for 0.2 us), so the trim at start
 * populates their text whole instead. Their read-only data is sparser and
 * trimmed as the rest. */
static const char *const hot_libs[] = {"liblayers.so", "libmbedtls.so",
                                       "libmbedx509.so", "libmbedcrypto.so",
                                       "libuv.so"};

static int is_hot(const char *perms, const char *path) {
  const char *base = strrchr(path, '/');
  size_t i;
  if (perms[2] != 'x' || base == NULL)
    return 0;
  for (i = 0; i < sizeof(hot_libs) / sizeof(hot_libs[0]); i++)
    if (strncmp(base + 1, hot_libs[i], strlen(hot_libs[i])) == 0)
      return 1;
  return 0;
}

/* a two-letter VmFlags code among the line's space-separated codes */
static int has_flag(const char *flags, const char *code) {
  const char *p = flags;
  while ((p = strstr(p, code)) != NULL) {
    if (p[-1] == ' ' && (p[2] == ' ' || p[2] == '\n' || p[2] == '\0'))
      return 1;
    p += 2;
  }
  return 0;
}

/* "Name:   123 kB" → 123; -1 when the line is not that shape */
static long field_kb(const char *line, const char *name) {
  size_t n = strlen(name);
  char *end;
  long v;
  if (strncmp(line, name, n) != 0 || line[n] != ':')
    return -2;
  v = strtol(line + n + 1, &end, 10);
  if (end == line + n + 1 || v < 0)
    return -1;
  while (*end == ' ')
    end++;
  return strncmp(end, "kB", 2) == 0 ? v : -1;
}

/* the number at *p in `base`, then the separator `sep` (skipped);
 * -1 when either is missing */
static int num(const char **p, int base, char sep, unsigned long *v) {
  char *end;
  *v = strtoul(*p, &end, base);
  if (end == *p || *end != sep)
    return -1;
  *p = end + 1;
  return 0;
}

/* a mapping's first line: "START-END PERMS OFFSET MAJ:MIN INODE [PATH]"
 * (parsed by hand: sscanf would page in a large part of libc just for
 * this, before the trimming) */
static int parse_header(const char *line, block_t *b) {
  const char *p = line, *perms;
  unsigned long off, maj, min, inode;
  memset(b, 0, sizeof(*b));
  if (num(&p, 16, '-', &b->start) != 0 || num(&p, 16, ' ', &b->end) != 0 ||
      b->end <= b->start)
    return -1;
  perms = p;
  if (strlen(perms) < 5 || perms[4] != ' ')
    return -1;
  p += 5;
  if (num(&p, 16, ' ', &off) != 0 || num(&p, 16, ':', &maj) != 0 ||
      num(&p, 16, ' ', &min) != 0 ||
      (num(&p, 10, ' ', &inode) != 0 && num(&p, 10, '\n', &inode) != 0))
    return -1; /* (no name: the kernel ends the line after the inode) */
  while (*p == ' ')
    p++;
  b->ok = perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' &&
          inode != 0 && *p == '/';
  b->hot = b->ok && is_hot(perms, p);
  return 0;
}

int cli_memtrim_scan(FILE *f, unsigned long *ranges, unsigned char *hot,
                     size_t max, long *kb) {
  char line[4096];
  block_t b;
  int in_block = 0;
  size_t n = 0;
  *kb = 0;
  for (;;) {
    int eof = fgets(line, sizeof(line), f) == NULL;
    int header;
    long v;
    if (!eof && strchr(line, '\n') == NULL && !feof(f))
      return -1; /* a line longer than any smaps line */
    header = !eof && line[0] != '\0' &&
             strchr("0123456789abcdef", line[0]) != NULL;
    if ((eof || header) && in_block && block_eligible(&b)) {
      if (n == max)
        return -1;
      ranges[2 * n] = b.start;
      ranges[2 * n + 1] = b.end;
      hot[n] = (unsigned char)b.hot;
      *kb += b.rss;
      n++;
    }
    if (eof)
      break;
    if (header) {
      if (parse_header(line, &b) != 0)
        return -1;
      in_block = 1;
      continue;
    }
    if (!in_block)
      return -1;
    if ((v = field_kb(line, "Rss")) != -2)
      b.rss = v;
    else if ((v = field_kb(line, "Anonymous")) != -2)
      b.anon = v, b.have_anon = 1;
    else if ((v = field_kb(line, "Swap")) != -2)
      b.swap = v, b.have_swap = 1;
    else if ((v = field_kb(line, "Private_Dirty")) != -2)
      b.priv_dirty = v;
    else if (strncmp(line, "VmFlags:", 8) == 0)
      b.locked = has_flag(line + 8, "lo");
    if (v == -1)
      return -1;
  }
  return ferror(f) ? -1 : (int)n;
}

static int under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* threads of this process (field 20 of /proc/self/stat), 0 if unknown */
static long thread_count(void) {
  char buf[1024], *p;
  long n = 0;
  int i;
  FILE *f = fopen("/proc/self/stat", "re");
  if (f == NULL)
    return 0;
  p = fgets(buf, sizeof(buf), f);
  fclose(f);
  if (p == NULL || (p = strrchr(buf, ')')) == NULL)
    return 0;
  for (i = 0; i < 18 && p != NULL; i++) /* ") S" is field 3 */
    p = strchr(p + 1, ' ');
  if (p != NULL)
    n = strtol(p + 1, NULL, 10);
  return n;
}

/* A userfaultfd with write-protect registration on the trimmed mappings,
 * only to make the kernel skip fault-around on them (mm/memory.c:
 * should_fault_around() is false for a VM_UFFD_WP area); nothing is
 * ever write-protected, and with UFFD_FEATURE_WP_ASYNC (Linux 6.7) no
 * fault is ever delivered to us. Closing it would unregister the areas,
 * so it stays open (close-on-exec). Older kernels, seccomp or a sysctl
 * refusing it: fault-around stays, the trimming still works. */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define MEMTRIM_UFFD_WP_ASYNC (1ull << 15) /* UFFD_FEATURE_WP_ASYNC */

static int uffd_open(void) {
  static int fd = -1;
  static pid_t owner; /* a forked child (daemon) needs its own */
  struct uffdio_api api;
  if (owner == getpid())
    return fd;
  if (fd >= 0)
    close(fd); /* the parent's: it registers the parent's mappings */
  fd = -1;
  owner = getpid();
  fd = (int)syscall(SYS_userfaultfd,
                    O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
  if (fd < 0)
    return -1;
  memset(&api, 0, sizeof(api));
  api.api = UFFD_API;
  api.features = MEMTRIM_UFFD_WP_ASYNC;
  if (ioctl(fd, UFFDIO_API, &api) != 0 ||
      !(api.features & MEMTRIM_UFFD_WP_ASYNC)) {
    close(fd);
    fd = -1;
  }
  return fd;
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

long cli_memtrim(int start) {
  static unsigned long ranges[2 * MEMTRIM_MAX_RANGES];
  static unsigned char hot[MEMTRIM_MAX_RANGES];
  const char *off = getenv("LVPN_NO_MEMTRIM");
  FILE *f;
  long kb;
  int n, i, ufd;
  if ((off != NULL && off[0] != '\0') || under_valgrind())
    return 0;
  if (thread_count() != 1)
    return 0; /* another thread could map and write in between */
  if ((f = fopen("/proc/self/smaps", "re")) == NULL)
    return -1;
  n = cli_memtrim_scan(f, ranges, hot, MEMTRIM_MAX_RANGES, &kb);
  fclose(f);
  if (n < 0)
    return -1;
  ufd = uffd_open();
  for (i = 0; i < n; i++) {
    unsigned long len = ranges[2 * i + 1] - ranges[2 * i];
    if (start && hot[i]) {
      /* mapped whole in one call, not trimmed; a kernel without
       * MADV_POPULATE_READ faults it in as it is used, with fault-around */
      (void)madvise((void *)ranges[2 * i], len, MADV_POPULATE_READ);
      continue;
    }
    if (ufd >= 0) {
      struct uffdio_register reg;
      memset(&reg, 0, sizeof(reg));
      reg.range.start = ranges[2 * i];
      reg.range.len = len;
      reg.mode = UFFDIO_REGISTER_MODE_WP;
      (void)ioctl(ufd, UFFDIO_REGISTER, &reg); /* failing: fault-around */
    }
    (void)madvise((void *)ranges[2 * i], len, MADV_DONTNEED);
  }
  return kb;
}
