/* cmd/memtrim.c: only clean, read-only, private file mappings are picked
 * from /proc/self/smaps (never one holding an anonymous or swapped page, a
 * writable, shared, locked or anonymous mapping), and the text of the
 * tunnel's own libraries is marked hot; text it cannot parse picks
 * nothing; trimming the test process itself leaves it working. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/memtrim.h"
#include "tests/fakes.h"

/* one mapping's smaps block: header, then the fields memtrim reads */
#define BLOCK(hdr, rss, anon, dirty, swap, flags)                              \
  hdr "\n"                                                                     \
      "Size:                 64 kB\n"                                          \
      "Rss:                  " rss " kB\n"                                     \
      "Private_Dirty:        " dirty " kB\n"                                   \
      "Anonymous:            " anon " kB\n"                                    \
      "Swap:                 " swap " kB\n"                                    \
      "THPeligible:    0\n"                                                    \
      "VmFlags: " flags "\n"

static const char smaps[] =
    /* 1: library text: picked */
    BLOCK("7f0000000000-7f0000010000 r-xp 00001000 fe:00 1234    "
          "/usr/lib/libx.so.1",
          "40", "0", "0", "0", "rd ex mr mw me")
    /* 2: RELRO with relocated (anonymous) pages: kept */
    BLOCK("7f0000010000-7f0000012000 r--p 00010000 fe:00 1234    "
          "/usr/lib/libx.so.1",
          "8", "8", "8", "0", "rd mr mw me ac")
    /* 3: writable data: kept */
    BLOCK("7f0000012000-7f0000013000 rw-p 00012000 fe:00 1234    "
          "/usr/lib/libx.so.1",
          "4", "4", "4", "0", "rd wr mr mw me ac")
    /* 4: heap, no file: kept */
    BLOCK("55d000000000-55d000021000 rw-p 00000000 00:00 0          [heap]",
          "132", "132", "132", "0", "rd wr mr mw me ac")
    /* 5: read-only shared file mapping: kept */
    BLOCK("7f0000020000-7f0000030000 r--s 00000000 fe:00 99      /tmp/shm",
          "64", "0", "0", "0", "rd sh mr me")
    /* 6: a page swapped out of a private mapping: kept */
    BLOCK("7f0000030000-7f0000040000 r--p 00000000 fe:00 77      /usr/lib/liby",
          "16", "0", "0", "4", "rd mr mw me")
    /* 7: locked: kept */
    BLOCK("7f0000040000-7f0000050000 r--p 00000000 fe:00 78      /usr/lib/libz",
          "64", "0", "0", "0", "rd mr mw me lo")
    /* 8: nothing resident yet: picked (registered against fault-around) */
    BLOCK("7f0000050000-7f0000060000 r--p 00000000 fe:00 79      /usr/lib/libw",
          "0", "0", "0", "0", "rd mr mw me")
    /* 9a: anonymous, the line ending right after the inode: kept */
    BLOCK("7f0000060000-7f0000061000 rw-p 00000000 00:00 0", "4", "4", "4",
          "0", "rd wr mr mw me ac")
    /* 9: the vDSO: kept */
    BLOCK("7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0          [vdso]",
          "4", "0", "0", "0", "rd ex mr mw me de")
    /* 10: the executable's read-only data, path with a space: picked */
    BLOCK("55c000000000-55c000004000 r--p 00000000 fe:00 5555    "
          "/opt/my app/layervpn",
          "12", "0", "0", "0", "rd mr mw me dw")
    /* 11: mbedTLS's crypto text: picked, hot */
    BLOCK("7f0000070000-7f0000080000 r-xp 00014000 fe:00 80      "
          "/usr/lib/x86_64-linux-gnu/libmbedcrypto.so.2.28.3",
          "16", "0", "0", "0", "rd ex mr mw me")
    /* 12: its read-only data: picked, not hot */
    BLOCK("7f0000080000-7f0000090000 r--p 00059000 fe:00 80      "
          "/usr/lib/x86_64-linux-gnu/libmbedcrypto.so.2.28.3",
          "8", "0", "0", "0", "rd mr mw me")
    /* 13: a library whose name only starts like libuv's: not hot */
    BLOCK("7f0000090000-7f00000a0000 r-xp 00002000 fe:00 81      "
          "/usr/lib/x86_64-linux-gnu/libuvc.so.0.0.6",
          "4", "0", "0", "0", "rd ex mr mw me")
    /* 14: ours: hot */
    BLOCK("7f00000a0000-7f00000b0000 r-xp 0000d000 fe:00 82      "
          "/usr/local/lib/liblayers.so.0.0.0",
          "0", "0", "0", "0", "rd ex mr mw me");

static unsigned char hot[16];

static int scan(const char *text, unsigned long *r, size_t max, long *kb) {
  FILE *f = fmemopen((void *)text, strlen(text), "r");
  int n;
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_le(max, sizeof(hot));
  n = cli_memtrim_scan(f, r, hot, max, kb);
  fclose(f);
  return n;
}

START_TEST(test_memtrim_picks_clean_readonly_file_mappings) {
  static const unsigned long want[] = {
      0x7f0000000000ul, 0x7f0000010000ul, 0x7f0000050000ul, 0x7f0000060000ul,
      0x55c000000000ul, 0x55c000004000ul, 0x7f0000070000ul, 0x7f0000080000ul,
      0x7f0000080000ul, 0x7f0000090000ul, 0x7f0000090000ul, 0x7f00000a0000ul,
      0x7f00000a0000ul, 0x7f00000b0000ul};
  static const unsigned char want_hot[] = {0, 0, 0, 1, 0, 0, 1};
  unsigned long r[32];
  long kb = -1;
  size_t i;
  ck_assert_int_eq(scan(smaps, r, 16, &kb), 7);
  for (i = 0; i < FAKE_COUNT(want); i++)
    ck_assert_msg(r[i] == want[i], "range word %zu", i);
  for (i = 0; i < FAKE_COUNT(want_hot); i++)
    ck_assert_msg(hot[i] == want_hot[i], "hot %zu", i);
  ck_assert_int_eq(kb, 40 + 12 + 16 + 8 + 4);
  /* more eligible mappings than room: nothing rather than a part */
  ck_assert_int_eq(scan(smaps, r, 2, &kb), -1);
}
END_TEST

START_TEST(test_memtrim_unparsable_text_picks_nothing) {
  static const char *bad[] = {
      "Rss: 4 kB\n", /* a field before any mapping */
      "7f0000000000 r-xp 00001000 fe:00 1234 /usr/lib/libx\nRss: 4 kB\n",
      "7f0000010000-7f0000000000 r-xp 0 fe:00 1 /usr/lib/libx\n", /* end<start */
      "7f0000000000-7f0000010000 r-xp 00001000 fe:00 1234 /usr/lib/libx\n"
      "Rss:                  forty kB\n",
  };
  unsigned long r[4];
  long kb;
  size_t i;
  for (i = 0; i < FAKE_COUNT(bad); i++)
    ck_assert_msg(scan(bad[i], r, 2, &kb) == -1, "case %zu", i);
  /* a mapping without the Anonymous/Swap fields is not trimmed */
  ck_assert_int_eq(
      scan("7f0000000000-7f0000010000 r-xp 00001000 fe:00 1234 /usr/lib/x\n"
           "Rss:                 4 kB\n",
           r, 2, &kb),
      0);
  ck_assert_int_eq(scan("", r, 2, &kb), 0);
}
END_TEST

START_TEST(test_memtrim_live_process_keeps_working) {
  char buf[64];
  long kb;
  unsetenv("LVPN_NO_MEMTRIM");
  kb = cli_memtrim(1); /* as at start: hot text populated, the rest trimmed */
  ck_assert_int_ge(kb, 0);
  /* code and read-only data come back from the page cache */
  snprintf(buf, sizeof(buf), "%s %ld", "trimmed", kb);
  ck_assert_int_eq(strncmp(buf, "trimmed ", 8), 0);
  ck_assert_int_ge(cli_memtrim(0), 0); /* a second time (the fd is kept) */
  setenv("LVPN_NO_MEMTRIM", "1", 1);
  ck_assert_int_eq(cli_memtrim(1), 0);
  unsetenv("LVPN_NO_MEMTRIM");
}
END_TEST

LVPN_TEST_MAIN("memtrim", 0, NULL, NULL,
               test_memtrim_picks_clean_readonly_file_mappings,
               test_memtrim_unparsable_text_picks_nothing,
               test_memtrim_live_process_keeps_working)
