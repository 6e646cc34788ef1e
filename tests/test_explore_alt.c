/* test_explore_alt: explore against tests/alt_oms, the second OMS written from the contract alone
 * and different from the reference on every point the contract leaves open, finds no difference
 * in 2,000 cases: the expectations explore derives say only what the contract decides. */
#include "capture.h"
#include "proc.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REFUND_SOURCE_DIR
#error "REFUND_SOURCE_DIR must name the repository"
#endif

#define CASES   "2000"
#define N_CASES 2000

static void test_alt_oms_no_difference(void **state)
{
    (void)state;
    const char *argv[] = {"alt-oms", "--port", "0", NULL};
    struct proc oms;
    proc_spawn(&oms, argv, 0);
    proc_wait_listening(&oms, "alt-oms");
    char *dir = capture_temp_dir("explore-alt");
    char bin[4096];
    snprintf(bin, sizeof(bin), "%s", proc_bin("refund-harness"));
    const char *hargv[] = {bin,   "explore", "--target", oms.url, "--seed", "14",      "--cases",
                           CASES, "--jobs",  "2",        "--out", dir,      "--quiet", NULL};
    struct capture_options opt = {.cwd = REFUND_SOURCE_DIR, .timeout_ms = 240000};
    struct capture out;
    capture_run(hargv, &opt, &out);
    proc_stop(&oms, "alt-oms");
    if (out.code != 0)
        fail_msg("explore against alt-oms exited %d, expected 0 (no difference):\n%s%s", out.code,
                 out.out, out.err);
    char *path = support_printf("%s/results.json", dir);
    json_t *doc = json_load_file(path, 0, NULL);
    assert_non_null(doc);
    const json_t *ex = json_object_get(doc, "explore");
    assert_int_equal(json_integer_value(json_object_get(ex, "cases")), N_CASES);
    assert_int_equal(json_integer_value(json_object_get(ex, "cases_not_run")), 0);
    assert_int_equal(json_array_size(json_object_get(ex, "differences")), 0);
    assert_true(json_integer_value(json_object_get(ex, "steps")) > N_CASES);
    json_decref(doc);
    free(path);
    capture_cleanup(&out);
    capture_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_alt_oms_no_difference, proc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
