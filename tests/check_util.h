/* Shared helpers for the Check suites. */
#ifndef LVPN_TESTS_CHECK_UTIL_H
#define LVPN_TESTS_CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>
#include <uv.h>

static void lvpn_test_count_cb(uv_handle_t *h, void *arg) {
  (void)h;
  (*(int *)arg)++;
}

/* Number of handles still known to the loop (open or closing). */
static inline int lvpn_test_handles(uv_loop_t *loop) {
  int n = 0;
  uv_walk(loop, lvpn_test_count_cb, &n);
  return n;
}

#define LVPN_TEST_MAIN(suite_fn)                                            \
  int main(void) {                                                          \
    int failed;                                                             \
    SRunner *sr = srunner_create(suite_fn());                               \
    srunner_run_all(sr, CK_NORMAL);                                         \
    failed = srunner_ntests_failed(sr);                                     \
    srunner_free(sr);                                                       \
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                       \
  }

#endif
