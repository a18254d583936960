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
 * and no swapped page are trimmed (/proc/self/pagemap tells, page by page),
 * and only read-only ones (nothing can write a private copy in between;
 * the CLI calls this while it is single-threaded).
 *
 * Cost, on a VM (doc/performance.md "Start-up"): a fault about 4.5-9.5
 * us, an madvise() that unmaps about 40 us whatever its size (the TLB
 * flush). So the mappings are found in /proc/self/maps and pagemap (0.1
 * ms; smaps took 0.45), unmapped in one process_madvise() call, and the
 * pages the last start touched are left mapped (the page list). */
#include "cmd/memtrim.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MEMTRIM_MAX_RANGES 512
#define MEMTRIM_MAX_RUNS 2048
#define MEMTRIM_MAX_KEEP 512 /* pages the list may keep mapped: 2 MB */
#define MEMTRIM_MAX_AGE 16  /* starts a listed page stays unproven */
#define MEMTRIM_PAGE 4096ul
#define MEMTRIM_CHUNK 512 /* pagemap entries read at a time */

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61) /* a file page (or shared anonymous) */

/* The libraries the tunnel runs in (ours, the TLS's, the event loop's),
 * whose text a start touches nearly all of: 264 of liblayers' 280 kB
 * (doc/performance.md). Faulting it back in a page at a time after the
 * trim at start costs a fault each, so the trim at start populates their
 * text whole instead (MADV_POPULATE_READ, 0.2 us a page). Their read-only
 * data is sparser and trimmed as the rest. Not libmbedcrypto since its
 * big-number and elliptic-curve code, most of its text, gave way to
 * Nettle's (layers/tlssession/ecc_nettle.h): a start touches 156 of its
 * 276 kB, which the page list keeps mapped. */
static const char *const hot_libs[] = {"liblayers.so", "libmbedtls.so",
                                       "libmbedx509.so", "libuv.so"};

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

/* One line of /proc/PID/maps, "START-END PERMS OFFSET MAJ:MIN INODE
 * [PATH]\n" (parsed by hand: sscanf would page in a large part of libc
 * just for this, before the trimming). Returns 1 for a read-only private
 * file mapping (m filled in), 0 for another, -1 for text of another shape. */
static int parse_line(const char *line, cli_memtrim_map_t *m) {
  const char *p = line, *perms;
  unsigned long maj, min;
  memset(m, 0, sizeof(*m));
  if (num(&p, 16, '-', &m->start) != 0 || num(&p, 16, ' ', &m->end) != 0 ||
      m->end <= m->start || (m->start | m->end) % MEMTRIM_PAGE != 0)
    return -1;
  perms = p;
  if (strlen(perms) < 5 || perms[4] != ' ')
    return -1;
  p += 5;
  if (num(&p, 16, ' ', &m->off) != 0 || num(&p, 16, ':', &maj) != 0 ||
      num(&p, 16, ' ', &min) != 0 ||
      (num(&p, 10, ' ', &m->inode) != 0 && num(&p, 10, '\n', &m->inode) != 0))
    return -1; /* (no name: the kernel ends the line after the inode) */
  while (*p == ' ')
    p++;
  m->dev = maj << 20 | min;
  if (perms[0] != 'r' || perms[1] != '-' || perms[3] != 'p' ||
      m->inode == 0 || *p != '/')
    return 0;
  m->hot = is_hot(perms, p);
  return 1;
}

/* 1 when mapping m holds no anonymous (a private copy) and no swapped
 * page, 0 when it does, -1 when pagemap cannot be read; `*pages` gets its
 * present pages */
static int map_clean(const cli_memtrim_map_t *m, cli_memtrim_pagemap_fn pm,
                     void *ud, long *pages) {
  static unsigned long long e[MEMTRIM_CHUNK];
  unsigned long first = 0, n = (m->end - m->start) / MEMTRIM_PAGE;
  *pages = 0;
  while (first < n) {
    size_t k = n - first < MEMTRIM_CHUNK ? n - first : MEMTRIM_CHUNK, i;
    if (pm(ud, m->start / MEMTRIM_PAGE + first, e, k) != 0)
      return -1;
    for (i = 0; i < k; i++) {
      if ((e[i] & PM_SWAPPED) || ((e[i] & PM_PRESENT) && !(e[i] & PM_FILE)))
        return 0;
      *pages += (e[i] & PM_PRESENT) != 0;
    }
    first += k;
  }
  return 1;
}

/* cli_memtrim_scan, leaving out before their pagemap is read the mappings
 * `skip` (when not NULL) says 1 for */
static int scan(const char *maps, size_t len, cli_memtrim_pagemap_fn pm,
                void *ud, int (*skip)(const cli_memtrim_map_t *),
                cli_memtrim_map_t *out, size_t max, long *kb) {
  const char *p = maps, *end = maps + len;
  char line[4096];
  size_t n = 0;
  *kb = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    cli_memtrim_map_t m;
    long pages;
    int r;
    if (nl == NULL || (size_t)(nl - p) + 2 > sizeof(line))
      return -1; /* the kernel ends every line; none is this long */
    memcpy(line, p, (size_t)(nl - p) + 1);
    line[nl - p + 1] = '\0';
    p = nl + 1;
    if ((r = parse_line(line, &m)) < 0)
      return -1;
    if (r == 0 || (skip != NULL && skip(&m)))
      continue;
    if ((r = map_clean(&m, pm, ud, &pages)) < 0)
      return -1;
    if (r == 0)
      continue;
    if (n == max)
      return -1;
    out[n++] = m;
    *kb += pages * (long)(MEMTRIM_PAGE / 1024);
  }
  return (int)n;
}

int cli_memtrim_scan(const char *maps, size_t len, cli_memtrim_pagemap_fn pm,
                     void *ud, cli_memtrim_map_t *out, size_t max, long *kb) {
  return scan(maps, len, pm, ud, NULL, out, max, kb);
}

static int pagemap_pread(void *ud, unsigned long page,
                         unsigned long long *entries, size_t n) {
  ssize_t r = pread(*(int *)ud, entries, n * sizeof(*entries),
                    (off_t)(page * sizeof(*entries)));
  return r == (ssize_t)(n * sizeof(*entries)) ? 0 : -1;
}

/* the whole of a small /proc file into buf (NUL-ended); its length, or -1 */
static ssize_t read_proc(const char *path, char *buf, size_t cap) {
  size_t len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  while (len + 1 < cap) {
    ssize_t r = read(fd, buf + len, cap - 1 - len);
    if (r < 0) {
      close(fd);
      return -1;
    }
    if (r == 0)
      break;
    len += (size_t)r;
  }
  close(fd);
  if (len + 1 == cap)
    return -1; /* more than cap: not all of it */
  buf[len] = '\0';
  return (ssize_t)len;
}

static int under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* threads of this process, 0 if unknown: procfs counts them in the link
 * count of /proc/self/task (2 + threads; one stat, where reading
 * /proc/self/stat took 0.08 ms at start) */
static long thread_count(void) {
  struct stat st;
  if (stat("/proc/self/task", &st) != 0 || st.st_nlink < 3)
    return 0;
  return (long)st.st_nlink - 2;
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

/* ---- the page list ---- */

/* a lowercase hex number ending at `sep` */
static int hex_field(const char **p, const char *end, char sep,
                     unsigned long *v) {
  const char *q = *p;
  unsigned long x = 0;
  for (; q < end && *q != sep; q++) {
    int d = *q >= '0' && *q <= '9'   ? *q - '0'
            : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
                                     : -1;
    if (d < 0 || x >> 60 != 0)
      return -1;
    x = x << 4 | (unsigned long)d;
  }
  if (q == *p || q == end)
    return -1;
  *v = x;
  *p = q + 1;
  return 0;
}

int cli_memtrim_runs_parse(const char *text, size_t len,
                           cli_memtrim_run_t *runs, size_t max) {
  const char *p = text, *end = text + len;
  size_t n = 0;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p)), *sp;
    int fields = 1;
    cli_memtrim_run_t r;
    if (eol == NULL)
      return -1;
    for (sp = p; sp < eol; sp++)
      fields += *sp == ' ';
    r.age = 0; /* an older list's line has none */
    if (n == max || (fields != 6 && fields != 7) ||
        hex_field(&p, end, ' ', &r.dev) != 0 ||
        hex_field(&p, end, ' ', &r.inode) != 0 ||
        hex_field(&p, end, ' ', &r.off) != 0 ||
        hex_field(&p, end, ' ', &r.pages) != 0 ||
        hex_field(&p, end, ' ', &r.first) != 0 ||
        hex_field(&p, end, fields == 7 ? ' ' : '\n', &r.count) != 0 ||
        (fields == 7 && hex_field(&p, end, '\n', &r.age) != 0))
      return -1;
    if (r.count == 0 || r.first >= r.pages || r.count > r.pages - r.first)
      return -1;
    runs[n++] = r;
  }
  return (int)n;
}

size_t cli_memtrim_runs_format(const cli_memtrim_run_t *runs, size_t n,
                               char *buf, size_t cap) {
  size_t len = 0, i;
  for (i = 0; i < n; i++) {
    int w = snprintf(buf + len, cap - len, "%lx %lx %lx %lx %lx %lx %lx\n",
                     runs[i].dev, runs[i].inode, runs[i].off, runs[i].pages,
                     runs[i].first, runs[i].count, runs[i].age);
    if (w < 0 || (size_t)w >= cap - len)
      return 0;
    len += (size_t)w;
  }
  return len;
}

int cli_memtrim_runs_add(const cli_memtrim_map_t *m, unsigned long first,
                         const unsigned long long *entries, size_t n,
                         cli_memtrim_run_t *runs, size_t *nruns, size_t max) {
  const unsigned long long want = PM_PRESENT | PM_FILE;
  unsigned long pages = (m->end - m->start) / MEMTRIM_PAGE;
  size_t i = 0, j;
  while (i < n) {
    cli_memtrim_run_t *last = *nruns > 0 ? &runs[*nruns - 1] : NULL;
    if ((entries[i] & want) != want) {
      i++;
      continue;
    }
    for (j = i; j < n && (entries[j] & want) == want; j++)
      ;
    if (last != NULL && last->dev == m->dev && last->inode == m->inode &&
        last->off == m->off && last->pages == pages &&
        last->first + last->count == first + i) {
      last->count += j - i; /* continued from the previous chunk */
    } else {
      if (*nruns == max)
        return -1;
      runs[*nruns].dev = m->dev;
      runs[*nruns].inode = m->inode;
      runs[*nruns].off = m->off;
      runs[*nruns].pages = pages;
      runs[*nruns].first = first + i;
      runs[*nruns].count = j - i;
      runs[*nruns].age = 0;
      (*nruns)++;
    }
    i = j;
  }
  return 0;
}

static int same_mapping(const cli_memtrim_run_t *a,
                        const cli_memtrim_run_t *b) {
  return a->dev == b->dev && a->inode == b->inode && a->off == b->off &&
         a->pages == b->pages;
}

/* pages [first, first + count) of l's mapping, of age `age`, appended to
 * out (joined to the last run when they continue it) */
static int age_emit(const cli_memtrim_run_t *l, unsigned long first,
                    unsigned long count, unsigned long age,
                    unsigned long max_age, cli_memtrim_run_t *out,
                    size_t *no, size_t max) {
  cli_memtrim_run_t *last = *no > 0 ? &out[*no - 1] : NULL;
  if (count == 0 || age >= max_age)
    return 0;
  if (last != NULL && same_mapping(last, l) && last->age == age &&
      last->first + last->count == first) {
    last->count += count;
    return 0;
  }
  if (*no == max)
    return -1;
  out[*no] = *l;
  out[*no].first = first;
  out[*no].count = count;
  out[*no].age = age;
  (*no)++;
  return 0;
}

int cli_memtrim_runs_age(const cli_memtrim_run_t *learned, size_t n,
                         const cli_memtrim_run_t *kept, size_t nk,
                         unsigned long max_age, cli_memtrim_run_t *out,
                         size_t max) {
  size_t i, k, no = 0;
  for (i = 0; i < n; i++) {
    const cli_memtrim_run_t *l = &learned[i];
    unsigned long p = l->first, end = l->first + l->count;
    while (p < end) {
      const cli_memtrim_run_t *in = NULL;
      unsigned long next = end, stop;
      for (k = 0; k < nk && in == NULL; k++) {
        if (!same_mapping(&kept[k], l))
          continue;
        if (kept[k].first <= p && p - kept[k].first < kept[k].count)
          in = &kept[k];
        else if (kept[k].first > p && kept[k].first < next)
          next = kept[k].first;
      }
      if (in != NULL) { /* kept mapped: one start older */
        stop = in->first + in->count < end ? in->first + in->count : end;
        if (age_emit(l, p, stop - p,
                     in->age >= max_age ? max_age : in->age + 1, max_age,
                     out, &no, max) != 0)
          return -1;
      } else { /* faulted in by this start */
        stop = next;
        if (age_emit(l, p, stop - p, 0, max_age, out, &no, max) != 0)
          return -1;
      }
      p = stop;
    }
  }
  return (int)no;
}

const char *cli_runtime_path(const char *env_name, const char *root_path,
                             const char *xdg_name, char *buf, size_t cap) {
  const char *env = getenv(env_name), *xdg;
  if (env != NULL)
    return env[0] != '\0' ? env : NULL;
  if (geteuid() == 0)
    return root_path;
  xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg == NULL || xdg[0] != '/' ||
      snprintf(buf, cap, "%s/%s", xdg, xdg_name) >= (int)cap)
    return NULL;
  return buf;
}

static const char *pages_path(char *buf, size_t cap) {
  return cli_runtime_path("LVPN_MEMTRIM_PAGES", "/run/layervpn/memtrim-pages",
                          "layervpn-memtrim-pages", buf, cap);
}

/* the list as read at start, to rewrite it only when it changed */
static char pages_text[64 * 1024];
static size_t pages_len;

static int pages_load(const char *path, cli_memtrim_run_t *runs, size_t max) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), n;
  ssize_t r;
  pages_len = 0;
  if (fd < 0)
    return 0;
  r = read(fd, pages_text, sizeof(pages_text));
  close(fd);
  if (r <= 0 || (size_t)r == sizeof(pages_text) ||
      (n = cli_memtrim_runs_parse(pages_text, (size_t)r, runs, max)) < 0)
    return 0; /* none, or damaged: this start writes a new one */
  pages_len = (size_t)r;
  return n;
}

/* The present file pages of the mappings about to be trimmed, as the list,
 * read from `pm_fd` (the scan's pagemap); written (a new file renamed over
 * the old) when it changed. */
static void pages_learn(const char *path, const cli_memtrim_map_t *maps,
                        int n, int pm_fd, cli_memtrim_run_t *runs) {
  static unsigned long long e[MEMTRIM_CHUNK];
  static char text[sizeof(pages_text)];
  static cli_memtrim_run_t kept[MEMTRIM_MAX_RUNS], aged[MEMTRIM_MAX_RUNS];
  char tmp[4200];
  size_t nruns = 0, len;
  int i, fd, nkept, naged;
  for (i = 0; i < n; i++) {
    unsigned long first = 0;
    unsigned long pages = (maps[i].end - maps[i].start) / MEMTRIM_PAGE;
    if (maps[i].hot)
      continue; /* the start maps it whole */
    while (first < pages) {
      size_t k = pages - first < MEMTRIM_CHUNK ? pages - first : MEMTRIM_CHUNK;
      if (pagemap_pread(&pm_fd, maps[i].start / MEMTRIM_PAGE + first, e,
                        k) != 0 ||
          cli_memtrim_runs_add(&maps[i], first, e, k, runs, &nruns,
                               MEMTRIM_MAX_RUNS) != 0)
        return;
      first += k;
    }
  }
  /* the list this start kept mapped, as read at start (none: empty) */
  nkept = pages_len > 0 ? cli_memtrim_runs_parse(pages_text, pages_len, kept,
                                                 MEMTRIM_MAX_RUNS)
                        : 0;
  naged = cli_memtrim_runs_age(runs, nruns, kept, nkept > 0 ? (size_t)nkept : 0,
                               MEMTRIM_MAX_AGE, aged, MEMTRIM_MAX_RUNS);
  if (naged < 0)
    return;
  len = cli_memtrim_runs_format(aged, (size_t)naged, text, sizeof(text));
  if (len == 0 || (len == pages_len && memcmp(text, pages_text, len) == 0))
    return;
  if (snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid()) >=
      (int)sizeof(tmp))
    return;
  if (strncmp(path, "/run/layervpn/", 14) == 0)
    (void)mkdir("/run/layervpn", 0755);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return;
  if (write(fd, text, len) != (ssize_t)len || close(fd) != 0 ||
      rename(tmp, path) != 0)
    (void)unlink(tmp);
}

/* ---- unmapping ---- */

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440 /* Linux 5.10 */
#endif
#define MEMTRIM_PIDFD_SELF (-10001) /* PIDFD_SELF_THREAD_GROUP, Linux 6.15 */
#define MEMTRIM_IOV_MAX 1024        /* UIO_MAXIOV */

/* The ranges unmapped with one process_madvise() call per 1024: the
 * kernel flushes the TLB once for a batch (Linux 6.16), where each
 * madvise() flushes on its own. A kernel that refuses it (MADV_DONTNEED
 * on oneself came with 6.13, PIDFD_SELF with 6.15) gets them one by one. */
static void dontneed(struct iovec *iov, size_t n) {
  size_t at, i;
  for (at = 0; at < n; at += MEMTRIM_IOV_MAX) {
    size_t k = n - at < MEMTRIM_IOV_MAX ? n - at : MEMTRIM_IOV_MAX, total = 0;
    for (i = at; i < at + k; i++)
      total += iov[i].iov_len;
    if (syscall(SYS_process_madvise, MEMTRIM_PIDFD_SELF, iov + at, k,
                MADV_DONTNEED, 0u) == (long)total)
      continue;
    for (i = at; i < at + k; i++) /* from the first: it is idempotent */
      (void)madvise(iov[i].iov_base, iov[i].iov_len, MADV_DONTNEED);
  }
}

/* [a, b) to unmap, joined to the last range when adjacent */
static void iov_add(struct iovec *iov, size_t *n, unsigned long a,
                    unsigned long b) {
  if (b <= a)
    return;
  if (*n > 0 &&
      (unsigned long)iov[*n - 1].iov_base + iov[*n - 1].iov_len == a) {
    iov[*n - 1].iov_len += b - a;
    return;
  }
  iov[*n].iov_base = (void *)a;
  iov[*n].iov_len = b - a;
  (*n)++;
}

/* Mapping m to unmap, but for the list's runs of it, which stay mapped
 * (`*kept` counts their pages against MEMTRIM_MAX_KEEP). Adds at most one
 * range more than it has runs for m. */
static void iov_add_map(struct iovec *iov, size_t *n,
                        const cli_memtrim_map_t *m,
                        const cli_memtrim_run_t *runs, int nruns,
                        unsigned long *kept) {
  unsigned long pages = (m->end - m->start) / MEMTRIM_PAGE, at = m->start;
  int i;
  for (i = 0; i < nruns; i++) {
    unsigned long a = m->start + runs[i].first * MEMTRIM_PAGE;
    if (runs[i].dev != m->dev || runs[i].inode != m->inode ||
        runs[i].off != m->off || runs[i].pages != pages || a < at ||
        *kept + runs[i].count > MEMTRIM_MAX_KEEP)
      continue; /* another mapping's, out of order, or over the cap */
    iov_add(iov, n, at, a);
    *kept += runs[i].count;
    at = a + runs[i].count * MEMTRIM_PAGE;
  }
  iov_add(iov, n, at, m->end);
}

/* The mappings the start call and cli_memtrim_new picked (cli_memtrim_new
 * leaves them) */
static cli_memtrim_map_t started[MEMTRIM_MAX_RANGES];
static int n_started;

static int was_started(const cli_memtrim_map_t *m) {
  int i;
  for (i = 0; i < n_started; i++)
    if (started[i].start == m->start && started[i].end == m->end &&
        started[i].inode == m->inode && started[i].dev == m->dev &&
        started[i].off == m->off)
      return 1;
  return 0;
}

enum { TRIM_UP, TRIM_START, TRIM_NEW };

static long trim(int mode) {
  static cli_memtrim_map_t maps[MEMTRIM_MAX_RANGES];
  static cli_memtrim_run_t runs[MEMTRIM_MAX_RUNS];
  static struct iovec iov[MEMTRIM_MAX_RANGES + MEMTRIM_MAX_RUNS];
  static char text[64 * 1024];
  /* the first call after the start one writes the list, in the same
   * process: a forked child (daemon) lost the parent's registration */
  static pid_t learn;
  /* the runs the start call read (in runs[] until the learning call
   * overwrites them), for the trim of new mappings; -1: none kept */
  static int loaded_runs = -1;
  const char *off = getenv("LVPN_NO_MEMTRIM"), *path;
  char buf[4096];
  unsigned long kept = 0;
  size_t niov = 0;
  ssize_t len;
  long kb;
  int n, i, ufd, fd, nruns = 0;
  if ((off != NULL && off[0] != '\0') || under_valgrind())
    return 0;
  if (thread_count() != 1)
    return 0; /* another thread could map and write in between */
  if ((len = read_proc("/proc/self/maps", text, sizeof(text))) < 0 ||
      (fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) < 0)
    return -1;
  /* TRIM_NEW: only what the start call did not pick, and only their
   * pagemap read (the others' is most of the scan's time) */
  n = scan(text, (size_t)len, pagemap_pread, &fd,
           mode == TRIM_NEW ? was_started : NULL, maps, MEMTRIM_MAX_RANGES,
           &kb);
  if (n < 0 || (n == 0 && mode == TRIM_NEW)) {
    close(fd);
    return n < 0 ? -1 : 0;
  }
  ufd = uffd_open();
  path = ufd >= 0 ? pages_path(buf, sizeof(buf)) : NULL;
  if (path != NULL && mode == TRIM_NEW && loaded_runs >= 0)
    nruns = loaded_runs; /* not read and parsed again */
  else if (path != NULL && mode != TRIM_UP)
    nruns = loaded_runs = pages_load(path, runs, MEMTRIM_MAX_RUNS);
  else if (path != NULL && learn == getpid())
    pages_learn(path, maps, n, fd, runs);
  if (mode == TRIM_UP)
    loaded_runs = -1; /* runs[] may hold what was learned now */
  close(fd);
  if (mode == TRIM_START) {
    learn = ufd >= 0 ? getpid() : 0;
    memcpy(started, maps, (size_t)n * sizeof(maps[0]));
    n_started = n;
  } else if (mode == TRIM_NEW) { /* picked once */
    for (i = 0; i < n && n_started < MEMTRIM_MAX_RANGES; i++)
      started[n_started++] = maps[i];
  } else if (mode == TRIM_UP) {
    learn = 0;
  }
  for (i = 0; i < n; i++) {
    if (mode == TRIM_START && maps[i].hot)
      continue; /* mapped whole below */
    if (ufd >= 0) {
      struct uffdio_register reg;
      memset(&reg, 0, sizeof(reg));
      reg.range.start = maps[i].start;
      reg.range.len = maps[i].end - maps[i].start;
      reg.mode = UFFDIO_REGISTER_MODE_WP;
      (void)ioctl(ufd, UFFDIO_REGISTER, &reg); /* failing: fault-around */
    }
    iov_add_map(iov, &niov, &maps[i], runs, nruns, &kept);
  }
  dontneed(iov, niov);
  /* after the unmapping, so that the peak stays where the dynamic linker
   * left it: the hot text mapped whole, one call per library (a kernel
   * without MADV_POPULATE_READ faults it in as it is used, with
   * fault-around) */
  for (i = 0; mode == TRIM_START && i < n; i++)
    if (maps[i].hot)
      (void)madvise((void *)maps[i].start, maps[i].end - maps[i].start,
                    MADV_POPULATE_READ);
  return mode == TRIM_NEW ? n : kb;
}

long cli_memtrim(int start) {
  return trim(start ? TRIM_START : TRIM_UP);
}

long cli_memtrim_new(void) {
  return n_started > 0 ? trim(TRIM_NEW) : 0;
}
