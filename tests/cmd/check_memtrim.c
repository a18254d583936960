/* cmd/memtrim.c: only read-only, private file mappings without an
 * anonymous or swapped page are picked (from /proc/PID/maps text and
 * pagemap entries), and the text of the tunnel's own libraries is marked
 * hot; text it cannot parse picks nothing; the page list's text form and
 * runs; and on the test process itself: trimmed pages are unmapped, the
 * list keeps the pages the last start touched mapped, and the process
 * keeps working. */
/* strverscmp: _GNU_SOURCE comes from config.h (AC_USE_SYSTEM_EXTENSIONS) */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/memtrim.h"
#include "tests/fakes.h"

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61)
#define PM_FILE_PAGE (PM_PRESENT | PM_FILE)

/* A test that cannot run here says so, as the other suites do, rather
 * than passing without a word (TEST is its __func__). */
static int skipped(const char *test, const char *why) {
  fprintf(stderr, "skipped: %s: %s\n", test, why);
  return 1;
}

/* memtrim stands aside under valgrind (cmd/memtrim.c) */
static int skipped_under_valgrind(const char *test) {
  return fake_under_valgrind() &&
         skipped(test, "memtrim stands aside under valgrind");
}

/* The fake pagemap: every page of the mappings below is a present file
 * page or absent, but for one anonymous page (2: RELRO) and one swapped
 * page (6). */
static const char maps[] =
    /* 1: library text: picked */
    "7f0000000000-7f0000010000 r-xp 00001000 fe:00 1234    "
    "/usr/lib/libx.so.1\n"
    /* 2: RELRO with a relocated (anonymous) page: kept */
    "7f0000010000-7f0000012000 r--p 00010000 fe:00 1234    "
    "/usr/lib/libx.so.1\n"
    /* 3: writable data: kept */
    "7f0000012000-7f0000013000 rw-p 00012000 fe:00 1234    "
    "/usr/lib/libx.so.1\n"
    /* 4: heap, no file: kept */
    "55d000000000-55d000021000 rw-p 00000000 00:00 0          [heap]\n"
    /* 5: read-only shared file mapping: kept */
    "7f0000020000-7f0000030000 r--s 00000000 fe:00 99      /tmp/shm\n"
    /* 6: a page swapped out of a private mapping: kept */
    "7f0000030000-7f0000040000 r--p 00000000 fe:00 77      /usr/lib/liby\n"
    /* 7: nothing resident yet: picked (registered against fault-around) */
    "7f0000050000-7f0000060000 r--p 00000000 fe:00 79      /usr/lib/libw\n"
    /* 8: anonymous, the line ending right after the inode: kept */
    "7f0000060000-7f0000061000 rw-p 00000000 00:00 0\n"
    /* 9: the vDSO: kept */
    "7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0          [vdso]\n"
    /* 10: the executable's read-only data, path with a space: picked */
    "55c000000000-55c000004000 r--p 00000000 fe:00 5555    "
    "/opt/my app/layervpn\n"
    /* 11: mbedTLS's TLS text: picked, hot (its crypto library's is not
     * since Nettle does the big-number work) */
    "7f0000070000-7f0000080000 r-xp 00014000 fe:00 80      "
    "/usr/lib/x86_64-linux-gnu/libmbedtls.so.2.28.3\n"
    /* 12: its read-only data: picked, not hot */
    "7f0000080000-7f0000090000 r--p 00059000 fe:00 80      "
    "/usr/lib/x86_64-linux-gnu/libmbedtls.so.2.28.3\n"
    /* 13: a library whose name only starts like libuv's: not hot */
    "7f0000090000-7f00000a0000 r-xp 00002000 fe:00 81      "
    "/usr/lib/x86_64-linux-gnu/libuvc.so.0.0.6\n"
    /* 14: ours: hot */
    "7f00000a0000-7f00000b0000 r-xp 0000d000 fe:00 82      "
    "/usr/local/lib/liblayers.so.0.0.0\n";

static int fake_pm_calls, fake_pm_fail;

/* present file pages at the first 4 pages of each 16; mapping 2's second
 * page anonymous, mapping 6's third page swapped, mapping 7 all absent */
static int fake_pagemap(void *ud, unsigned long page,
                        unsigned long long *entries, size_t n) {
  size_t i;
  (void)ud;
  fake_pm_calls++;
  if (fake_pm_fail)
    return -1;
  for (i = 0; i < n; i++) {
    unsigned long p = page + i, addr = p * 4096ul;
    entries[i] = p % 16 < 4 ? PM_FILE_PAGE : 0;
    if (addr == 0x7f0000011000ul)
      entries[i] = PM_PRESENT; /* anonymous: a private copy */
    if (addr == 0x7f0000032000ul)
      entries[i] = PM_SWAPPED;
    if (addr >= 0x7f0000050000ul && addr < 0x7f0000060000ul)
      entries[i] = 0;
  }
  return 0;
}

static int scan(const char *text, cli_memtrim_map_t *m, size_t max,
                long *kb) {
  return cli_memtrim_scan(text, strlen(text), fake_pagemap, NULL, m, max, kb);
}

START_TEST(test_memtrim_picks_clean_readonly_file_mappings) {
  static const struct {
    unsigned long start, end, dev, inode, off;
    int hot;
  } want[] = {
      {0x7f0000000000ul, 0x7f0000010000ul, 0xfe00000, 1234, 0x1000, 0},
      {0x7f0000050000ul, 0x7f0000060000ul, 0xfe00000, 79, 0, 0},
      {0x55c000000000ul, 0x55c000004000ul, 0xfe00000, 5555, 0, 0},
      {0x7f0000070000ul, 0x7f0000080000ul, 0xfe00000, 80, 0x14000, 1},
      {0x7f0000080000ul, 0x7f0000090000ul, 0xfe00000, 80, 0x59000, 0},
      {0x7f0000090000ul, 0x7f00000a0000ul, 0xfe00000, 81, 0x2000, 0},
      {0x7f00000a0000ul, 0x7f00000b0000ul, 0xfe00000, 82, 0xd000, 1},
  };
  cli_memtrim_map_t m[16];
  long kb = -1;
  size_t i;
  fake_pm_fail = 0;
  ck_assert_int_eq(scan(maps, m, 16, &kb), (int)FAKE_COUNT(want));
  for (i = 0; i < FAKE_COUNT(want); i++) {
    ck_assert_msg(m[i].start == want[i].start && m[i].end == want[i].end,
                  "mapping %zu", i);
    ck_assert_msg(m[i].dev == want[i].dev && m[i].inode == want[i].inode &&
                      m[i].off == want[i].off,
                  "identity %zu", i);
    ck_assert_msg(m[i].hot == want[i].hot, "hot %zu", i);
  }
  /* 4 present pages of 16 in the five 64-kB ones, all 4 of the 16-kB one */
  ck_assert_int_eq(kb, 5 * 16 + 16);
  /* more eligible mappings than room: nothing rather than a part */
  ck_assert_int_eq(scan(maps, m, 2, &kb), -1);
  /* pagemap unreadable: nothing */
  fake_pm_fail = 1;
  ck_assert_int_eq(scan(maps, m, 16, &kb), -1);
  fake_pm_fail = 0;
}
END_TEST

START_TEST(test_memtrim_unparsable_text_picks_nothing) {
  static const char *bad[] = {
      "Rss: 4 kB\n", /* smaps' field lines are not maps lines */
      "7f0000000000 r-xp 00001000 fe:00 1234 /usr/lib/libx\n",
      "7f0000010000-7f0000000000 r-xp 0 fe:00 1 /usr/lib/libx\n", /* end<start */
      "7f0000000800-7f0000010000 r-xp 0 fe:00 1 /usr/lib/libx\n", /* unaligned */
      "7f0000000000-7f0000010000 r-xp 00001000 fe:00 1234 /usr/lib/libx",
      "7f0000000000-7f0000010000 r-x\n",
  };
  cli_memtrim_map_t m[4];
  long kb;
  size_t i;
  fake_pm_fail = 0;
  for (i = 0; i < FAKE_COUNT(bad); i++)
    ck_assert_msg(scan(bad[i], m, 2, &kb) == -1, "case %zu", i);
  ck_assert_int_eq(scan("", m, 2, &kb), 0);
  /* no pagemap read for mappings that cannot be picked */
  fake_pm_calls = 0;
  ck_assert_int_eq(
      scan("55d000000000-55d000021000 rw-p 00000000 00:00 0   [heap]\n", m, 2,
           &kb),
      0);
  ck_assert_int_eq(fake_pm_calls, 0);
}
END_TEST

START_TEST(test_memtrim_page_list_runs) {
  const cli_memtrim_map_t m = {0x7f0000000000ul, 0x7f0000010000ul, 0xfe00000,
                               1234, 0x1000, 0};
  unsigned long long e[8] = {PM_FILE_PAGE, PM_FILE_PAGE, 0, PM_PRESENT,
                             PM_FILE_PAGE, 0, PM_FILE, PM_FILE_PAGE};
  cli_memtrim_run_t runs[8], back[8];
  char text[512];
  size_t n = 0, len, i;
  static const char *bad[] = {
      "fe00000 4d2 1000 10 0\n",       /* a field short */
      "fe00000 4d2 1000 10 0 2",       /* no newline */
      "FE00000 4d2 1000 10 0 2\n",     /* not lowercase */
      "fe00000 4d2 1000 10 0 0\n",     /* an empty run */
      "fe00000 4d2 1000 10 10 1\n",    /* first page past the mapping */
      "fe00000 4d2 1000 10 f 2\n",     /* a run past the mapping */
      "fe00000 4d2 1000 10 0 2 7 1\n", /* a field too many */
      "fe00000 4d2 1000 10 0 2 \n",    /* an empty age */
      "fe00000 4d2 1000 10 -1 2\n",    /* not a number */
      "fe00000 4d2 1000 10000000000000000 0 2\n", /* over 64 bits */
  };
  /* pages 0-7 in one chunk: runs 0+2, 4+1, 7+1 (anonymous 3 and a file
   * page not present, 6, are not runs) */
  ck_assert_int_eq(cli_memtrim_runs_add(&m, 0, e, 8, runs, &n, 8), 0);
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(runs[0].first, 0);
  ck_assert_uint_eq(runs[0].count, 2);
  ck_assert_uint_eq(runs[1].first, 4);
  ck_assert_uint_eq(runs[2].first, 7);
  ck_assert_uint_eq(runs[2].pages, 16);
  /* the next chunk, pages 8-15, continues the run that ended the last */
  ck_assert_int_eq(cli_memtrim_runs_add(&m, 8, e, 2, runs, &n, 8), 0);
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(runs[2].count, 3);
  /* full: a continued run still fits, a new one does not (-1) */
  ck_assert_int_eq(cli_memtrim_runs_add(&m, 10, e + 4, 1, runs, &n, 3), 0);
  ck_assert_uint_eq(runs[2].count, 4);
  ck_assert_int_eq(cli_memtrim_runs_add(&m, 12, e, 1, runs, &n, 3), -1);
  ck_assert_uint_eq(n, 3);

  len = cli_memtrim_runs_format(runs, n, text, sizeof(text));
  ck_assert_uint_gt(len, 0);
  ck_assert_str_eq(text, "fe00000 4d2 1000 10 0 2 0\n"
                         "fe00000 4d2 1000 10 4 1 0\n"
                         "fe00000 4d2 1000 10 7 4 0\n");
  ck_assert_int_eq(cli_memtrim_runs_parse(text, len, back, 8), 3);
  for (i = 0; i < n; i++)
    ck_assert(memcmp(&back[i], &runs[i], sizeof(back[i])) == 0);
  ck_assert_int_eq(cli_memtrim_runs_parse(text, len, back, 2), -1);
  ck_assert_uint_eq(cli_memtrim_runs_format(runs, n, text, 30), 0);
  for (i = 0; i < FAKE_COUNT(bad); i++)
    ck_assert_msg(cli_memtrim_runs_parse(bad[i], strlen(bad[i]), back, 8) ==
                      -1,
                  "case %zu", i);
  ck_assert_int_eq(cli_memtrim_runs_parse("", 0, back, 8), 0);
  /* an age; an older list's line without one: age 0 */
  {
    static const char two[] = "fe00000 4d2 1000 10 0 2 c\n"
                              "fe00000 4d2 1000 10 4 1\n";
    ck_assert_int_eq(cli_memtrim_runs_parse(two, strlen(two), back, 8), 2);
  }
  ck_assert_uint_eq(back[0].age, 12);
  ck_assert_uint_eq(back[0].count, 2);
  ck_assert_uint_eq(back[1].age, 0);
  ck_assert_uint_eq(back[1].first, 4);
}
END_TEST

/* cli_memtrim_runs_age: pages a start faulted in are age 0, pages it kept
 * mapped from the list one older than they were listed, pages that reach
 * the limit leave; runs split and join by age, per mapping. */
START_TEST(test_memtrim_page_list_ages) {
  static const cli_memtrim_run_t a = {0xfe00000, 1234, 0x1000, 16, 0, 0, 0};
  cli_memtrim_run_t learned[3], kept[3], out[8];
  int n;
  /* mapping a: pages 0-9 present; the list had 2-3 at age 0 and 6-7 at
   * age 3 (then 12-13: not present now, gone) */
  learned[0] = a;
  learned[0].first = 0;
  learned[0].count = 10;
  learned[1] = a;
  learned[1].inode = 99; /* another mapping, pages 5-6, none listed */
  learned[1].first = 5;
  learned[1].count = 2;
  kept[0] = a;
  kept[0].first = 2;
  kept[0].count = 2;
  kept[1] = a;
  kept[1].first = 6;
  kept[1].count = 2;
  kept[1].age = 3;
  kept[2] = a;
  kept[2].first = 12;
  kept[2].count = 2;
  n = cli_memtrim_runs_age(learned, 2, kept, 3, 16, out, 8);
  ck_assert_int_eq(n, 6);
  /* 0-1 new, 2-3 aged to 1, 4-5 new, 6-7 aged to 4, 8-9 new */
  ck_assert_uint_eq(out[0].first, 0);
  ck_assert_uint_eq(out[0].count, 2);
  ck_assert_uint_eq(out[0].age, 0);
  ck_assert_uint_eq(out[1].first, 2);
  ck_assert_uint_eq(out[1].count, 2);
  ck_assert_uint_eq(out[1].age, 1);
  ck_assert_uint_eq(out[2].first, 4);
  ck_assert_uint_eq(out[2].count, 2);
  ck_assert_uint_eq(out[2].age, 0);
  ck_assert_uint_eq(out[3].first, 6);
  ck_assert_uint_eq(out[3].age, 4);
  ck_assert_uint_eq(out[4].first, 8);
  ck_assert_uint_eq(out[4].count, 2);
  ck_assert_uint_eq(out[4].age, 0);
  ck_assert_uint_eq(out[5].inode, 99);
  ck_assert_uint_eq(out[5].first, 5);
  ck_assert_uint_eq(out[5].count, 2);
  ck_assert_uint_eq(out[5].age, 0);
  ck_assert_uint_eq(out[0].pages, 16);
  ck_assert_uint_eq(out[0].off, 0x1000);
  /* at the limit: the kept pages leave, the rest stays, joined */
  kept[0].age = 15;
  kept[1].age = 15;
  n = cli_memtrim_runs_age(learned, 1, kept, 2, 16, out, 8);
  ck_assert_int_eq(n, 3);
  ck_assert_uint_eq(out[0].first, 0);
  ck_assert_uint_eq(out[0].count, 2);
  ck_assert_uint_eq(out[1].first, 4);
  ck_assert_uint_eq(out[1].count, 2);
  ck_assert_uint_eq(out[2].first, 8);
  /* no list: all of it, age 0, one run; a list of one age: one run */
  n = cli_memtrim_runs_age(learned, 1, kept, 0, 16, out, 8);
  ck_assert_int_eq(n, 1);
  ck_assert_uint_eq(out[0].count, 10);
  kept[0].first = 0;
  kept[0].count = 10;
  kept[0].age = 2;
  n = cli_memtrim_runs_age(learned, 1, kept, 1, 16, out, 8);
  ck_assert_int_eq(n, 1);
  ck_assert_uint_eq(out[0].age, 3);
  /* an age at the top of its type leaves, not wraps */
  kept[0].age = ~0ul;
  ck_assert_int_eq(cli_memtrim_runs_age(learned, 1, kept, 1, 16, out, 8), 0);
  /* no room */
  kept[0].age = 0;
  kept[0].first = 2;
  kept[0].count = 2;
  ck_assert_int_eq(cli_memtrim_runs_age(learned, 1, kept, 1, 16, out, 2), -1);
}
END_TEST

/* whether the page holding `addr` is mapped in this process */
static int present(const void *addr) {
  unsigned long long e = 0;
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pread(fd, &e, sizeof(e),
                         (off_t)((unsigned long)addr / 4096 * sizeof(e))),
                   (ssize_t)sizeof(e));
  close(fd);
  return (e & PM_PRESENT) != 0;
}

START_TEST(test_memtrim_live_process_keeps_working) {
  char list[] = "/tmp/check_memtrim_pagesXXXXXX", text[8192];
  /* libc text that nothing else in this test calls (nor ASan intercepts) */
  const char *fn = (const char *)(void (*)(void))strverscmp;
  long kb;
  int fd, used;
  ssize_t len;
  unsetenv("LVPN_NO_MEMTRIM");
  if (skipped_under_valgrind(__func__)) {
    ck_assert_int_eq(cli_memtrim(1), 0); /* it stands aside: none trimmed */
    return;
  }
  fd = mkstemp(list);
  ck_assert_int_ge(fd, 0);
  close(fd);
  unlink(list); /* no list yet */
  setenv("LVPN_MEMTRIM_PAGES", list, 1);

  kb = cli_memtrim(1); /* as at start: hot text populated, the rest trimmed */
  ck_assert_int_ge(kb, 0);
  ck_assert_msg(!present(fn), "libc's text is unmapped");
  used = strverscmp("a1", "a2"); /* comes back from the page cache */
  ck_assert_int_lt(used, 0);
  ck_assert(present(fn));
  ck_assert_int_ge(cli_memtrim(0), 0); /* tunnel up: the list, then trim */
  ck_assert(!present(fn));

  fd = open(list, O_RDONLY);
  if (fd < 0) { /* no userfaultfd here (a sysctl, seccomp): no list */
    ck_assert_int_ge(cli_memtrim(1), 0);
  } else {
    cli_memtrim_run_t runs[2048];
    int n;
    len = read(fd, text, sizeof(text));
    close(fd);
    ck_assert_int_gt(len, 0);
    n = cli_memtrim_runs_parse(text, (size_t)len, runs, 2048);
    ck_assert_int_gt(n, 0);
    /* the next start keeps the page the last one used mapped */
    used = strverscmp("b1", "b2"); /* (mapped, as the dynamic linker does) */
    ck_assert_int_lt(used, 0);
    ck_assert_int_ge(cli_memtrim(1), 0);
    ck_assert_msg(present(fn), "a listed page stays mapped");
    /* an empty LVPN_MEMTRIM_PAGES: no list, all of it trimmed */
    setenv("LVPN_MEMTRIM_PAGES", "", 1);
    ck_assert_int_ge(cli_memtrim(1), 0);
    ck_assert(!present(fn));
    unlink(list);
  }
  unsetenv("LVPN_MEMTRIM_PAGES");
  setenv("LVPN_NO_MEMTRIM", "1", 1);
  ck_assert_int_eq(cli_memtrim(1), 0);
  unsetenv("LVPN_NO_MEMTRIM");
}
END_TEST

/* libmnl loaded (RTLD_LOCAL) into *lib; its mnl_attr_get_type, called
 * once on a netlink attribute of type 7 (a nested flag set), which it
 * must read back; returns the function's address */
typedef unsigned short (*mnl_get_type_fn)(const void *);
static const struct { unsigned short len, type; } mnl_attr = {4, 0x8007};

static void *load_mnl(void **lib, mnl_get_type_fn *get_type) {
  void *sym;
  *lib = dlopen("libmnl.so.0", RTLD_NOW | RTLD_LOCAL);
  ck_assert_msg(*lib != NULL, "libmnl.so.0: %s", dlerror());
  sym = dlsym(*lib, "mnl_attr_get_type");
  ck_assert_ptr_nonnull(sym);
  memcpy(get_type, &sym, sizeof(*get_type));
  ck_assert_uint_eq((*get_type)(&mnl_attr), 7);
  return sym;
}

/* cli_memtrim_new: a library loaded after the start trim (as liblayers
 * loads Nettle's when a client starts) is trimmed too, and works on; the
 * start's mappings are not picked again, nor the library a second time. */
START_TEST(test_memtrim_new_mappings) {
  mnl_get_type_fn get_type;
  void *lib, *sym;
  unsetenv("LVPN_NO_MEMTRIM");
  setenv("LVPN_MEMTRIM_PAGES", "", 1); /* no list: all of it trimmed */
  if (skipped_under_valgrind(__func__))
    return;
  ck_assert_int_eq(cli_memtrim_new(), 0); /* before the start call: none */
  ck_assert_int_ge(cli_memtrim(1), 0);
  ck_assert_int_eq(cli_memtrim_new(), 0); /* nothing loaded since */
  sym = load_mnl(&lib, &get_type);
  ck_assert(present(sym));
  ck_assert_int_ge(cli_memtrim_new(), 1); /* its mappings */
  ck_assert_msg(!present(sym), "the new library's text is unmapped");
  ck_assert_uint_eq(get_type(&mnl_attr), 7); /* back from the page cache */
  ck_assert(present(sym));
  ck_assert_int_eq(cli_memtrim_new(), 0); /* not picked a second time */
  ck_assert(present(sym));
  dlclose(lib);
  setenv("LVPN_NO_MEMTRIM", "1", 1);
  ck_assert_int_eq(cli_memtrim_new(), 0);
  unsetenv("LVPN_NO_MEMTRIM");
  unsetenv("LVPN_MEMTRIM_PAGES");
}
END_TEST

/* every pagemap entry: not present (a clean mapping, for the scan) */
static int no_pages(void *ud, unsigned long page, unsigned long long *entries,
                    size_t n) {
  (void)ud;
  (void)page;
  memset(entries, 0, n * sizeof(*entries));
  return 0;
}

/* libmnl's text mapping as a page-list run covering all of it, learned
 * in a child (this process must not load it yet): the mapping the scan
 * (cli_memtrim_scan) finds around mnl_attr_get_type; 0, or -1 */
static int mnl_text_run(cli_memtrim_run_t *r) {
  int p[2], st;
  pid_t pid;
  ck_assert_int_eq(pipe(p), 0);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    static char text[65536];
    static cli_memtrim_map_t found[512];
    cli_memtrim_run_t out;
    void *lib = dlopen("libmnl.so.0", RTLD_NOW | RTLD_LOCAL);
    unsigned long fn =
        lib != NULL ? (unsigned long)dlsym(lib, "mnl_attr_get_type") : 0;
    int fd = open("/proc/self/maps", O_RDONLY), n = 0, i;
    ssize_t len = 0, k;
    long kb;
    memset(&out, 0, sizeof(out));
    while (fd >= 0 &&
           (k = read(fd, text + len, sizeof(text) - 1 - (size_t)len)) > 0)
      len += k;
    if (fd >= 0)
      close(fd);
    if (fn != 0)
      n = cli_memtrim_scan(text, (size_t)len, no_pages, NULL, found, 512, &kb);
    for (i = 0; i < n; i++)
      if (found[i].start <= fn && fn < found[i].end) {
        out.dev = found[i].dev;
        out.inode = found[i].inode;
        out.off = found[i].off;
        out.pages = out.count = (found[i].end - found[i].start) / 4096;
      }
    (void)!write(p[1], &out, sizeof(out));
    _exit(0);
  }
  close(p[1]);
  {
    ssize_t n = read(p[0], r, sizeof(*r));
    close(p[0]);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    if (n != (ssize_t)sizeof(*r) || r->pages == 0)
      return -1;
  }
  return 0;
}

/* The trim of new mappings keeps the pages of the list the start trim
 * read, without reading the file again: here the list names libmnl's text
 * before libmnl is loaded, and is gone from the disk when the trim of new
 * mappings runs; libmnl's text stays mapped. */
START_TEST(test_memtrim_new_uses_the_start_list) {
  char list[] = "/tmp/check_memtrim_newXXXXXX", text[256];
  cli_memtrim_run_t run;
  mnl_get_type_fn get_type;
  void *lib, *sym;
  size_t len;
  int fd, ufd;
  unsetenv("LVPN_NO_MEMTRIM");
  if (skipped_under_valgrind(__func__))
    return;
  /* the list is kept only with a userfaultfd (memtrim.h) */
  ufd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  if (ufd < 0 && skipped(__func__, "no userfaultfd here"))
    return;
  close(ufd);
  ck_assert_int_eq(mnl_text_run(&run), 0);
  len = cli_memtrim_runs_format(&run, 1, text, sizeof(text));
  ck_assert_uint_gt(len, 0);
  fd = mkstemp(list);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
  close(fd);
  setenv("LVPN_MEMTRIM_PAGES", list, 1);
  ck_assert_int_ge(cli_memtrim(1), 0); /* reads the list */
  unlink(list);
  sym = load_mnl(&lib, &get_type);
  ck_assert_int_ge(cli_memtrim_new(), 1);
  ck_assert_msg(present(sym), "a page of the start's list stays mapped");
  ck_assert_uint_eq(get_type(&mnl_attr), 7);
  dlclose(lib);
  unsetenv("LVPN_MEMTRIM_PAGES");
}
END_TEST

static long threads(void) { /* procfs: 2 + threads */
  struct stat st;
  ck_assert_int_eq(stat("/proc/self/task", &st), 0);
  return (long)st.st_nlink - 2;
}

static void *reader(void *arg) { /* a second thread, until its pipe closes */
  char c;
  while (read(*(int *)arg, &c, 1) > 0)
    ;
  return NULL;
}

/* another thread could map and write in between: nothing is trimmed */
START_TEST(test_memtrim_stands_aside_with_threads) {
  const char *fn = (const char *)(void (*)(void))strverscmp;
  pthread_t th;
  int p[2], i;
  unsetenv("LVPN_NO_MEMTRIM");
  setenv("LVPN_MEMTRIM_PAGES", "", 1);
  if (skipped_under_valgrind(__func__))
    return;
  ck_assert_int_eq(pipe(p), 0);
  ck_assert_int_eq(pthread_create(&th, NULL, reader, &p[0]), 0);
  ck_assert_int_lt(strverscmp("a1", "a2"), 0);
  ck_assert_int_eq(cli_memtrim(1), 0);
  ck_assert_msg(present(fn), "nothing unmapped");
  close(p[1]);
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  close(p[0]);
  for (i = 0; i < 1000 && threads() != 1; i++) /* reaped just after join */
    usleep(1000);
  ck_assert_int_ge(cli_memtrim(1), 0); /* alone again: it trims */
  ck_assert(!present(fn));
  unsetenv("LVPN_MEMTRIM_PAGES");
}
END_TEST

LVPN_TEST_MAIN("memtrim", 0, NULL, NULL, test_memtrim_new_mappings,
               test_memtrim_new_uses_the_start_list,
               test_memtrim_page_list_ages,
               test_memtrim_picks_clean_readonly_file_mappings,
               test_memtrim_unparsable_text_picks_nothing,
               test_memtrim_page_list_runs,
               test_memtrim_live_process_keeps_working,
               test_memtrim_stands_aside_with_threads)
