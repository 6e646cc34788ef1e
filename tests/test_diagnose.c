/* test_diagnose: the account at the end of a run, through the real program - failures grouped by
 * their first difference with the likely cause (a wrong --token answers 401 everywhere), the
 * reproducer and rerun line of a failure, and why the exit status is not 0. */
#include "capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_in(const struct capture *r, const char *needle)
{
    if (!strstr(r->out, needle))
        fail_msg("stdout lacks \"%s\":\n%s\n--- stderr:\n%s", needle, r->out, r->err);
}

static int run(struct capture *r, const char *const *args)
{
    const char *argv[32] = {REFUND_BIN_DIR "/refund-harness"};
    size_t n = 1;
    for (size_t i = 0; args[i] && n < 30; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    static const char *const env[] = {"NO_COLOR=1", NULL};
    struct capture_options opt = {.env = env, .timeout_ms = 90000};
    return capture_run(argv, &opt, r);
}

/* A wrong --token: every command scenario fails with 401; the account says so once, with the
 * hint, instead of a wall of "found 401". */
static void test_wrong_token_is_one_group_with_a_hint(void **state)
{
    (void)state;
    struct capture r;
    static const char *const args[] = {"run",     "scenarios/transitions", "--no-reports",
                                       "--token", "not-the-token",         NULL};
    assert_int_equal(run(&r, args), 1);
    expect_in(&r, "failures by their first difference:");
    expect_in(&r, "scenarios: the target answered 401");
    expect_in(&r, "is --token right?");
    expect_in(&r, "exit status 1: ");
    /* Every failure reported in one group, not in many. */
    const char *g = strstr(r.out, "failures by their first difference:");
    assert_non_null(g);
    assert_null(strstr(g, "  1 scenario: "));
    /* The console carries the rerun line of each failure. */
    expect_in(&r, "rerun: refund-harness run scenarios/transitions/");
    capture_cleanup(&r);
}

/* --verbose shows how to replay a failure by hand: the state's curl and each request's, with the
 * token as $TOKEN. */
static void test_verbose_failure_carries_a_reproducer(void **state)
{
    (void)state;
    char *dir = capture_temp_dir("diagnose");
    char *path = support_printf("%s/wrong.json", dir);
    char *src = capture_read_file("scenarios/transitions/slug-only.json", NULL);
    assert_non_null(src);
    /* The same scenario, expecting a quota the command cannot produce. */
    char *at = strstr(src, "\"quota\": 0");
    assert_non_null(at);
    at[9] = '7';
    capture_write_file(path, src);
    struct capture r;
    const char *args[] = {"run", path, "--no-reports", "--verbose", NULL};
    assert_int_equal(run(&r, args), 1);
    expect_in(&r, "reproduce by hand");
    expect_in(&r, "curl -sS -X PUT \"$TARGET/_fixture/state\"");
    expect_in(&r, "-H \"Authorization: Token $TOKEN\"");
    expect_in(&r, "/api/v1/oms/packages/");
    assert_null(strstr(r.out, "refund-harness-token"));
    char *rerun = support_printf("rerun: refund-harness run %s --verbose", path);
    expect_in(&r, rerun);
    free(rerun);
    capture_cleanup(&r);
    free(src);
    free(path);
    capture_remove_tree(dir);
    free(dir);
}

/* Writes a scenario into a fresh directory and runs it with --verbose; the caller cleans up. */
static char *write_scenario(const char *body, char **dir)
{
    *dir = capture_temp_dir("diagnose");
    char *path = support_printf("%s/s.json", *dir);
    capture_write_file(path, body);
    return path;
}

static const char GIVEN[] =
    "\"given\": {\"locations\": [{\"id\": 1, \"max_quota\": 5, \"quota\": 1}], "
    "\"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": "
    "9001, \"order_item\": 7001, \"sku\": \"S\"}]}], \"subscriptions\": [{\"event_type\": "
    "\"package.status.packed_for_refund\", \"receiver\": \"wms\"}]}";

/* An expected call that did not arrive is shown with the nearest recorded call and how it
 * differs; a status count says which statuses came; a step's own checks come before the
 * invariants. */
static void test_messages_near_miss_status_tally_and_order(void **state)
{
    (void)state;
    char *dir;
    char *text = support_printf(
        "{\"name\": \"near miss\", \"rules\": [\"C-9\", \"C-11\"], %s, \"when\": [{\"command\": "
        "{\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17, "
        "\"sync_remote_order_status\": false}}, \"concurrent\": 2, \"then\": {\"responses\": "
        "{\"204\": {\"count\": 2}}, \"webhooks\": {\"erp\": [{\"method\": \"POST\"}]}}}]}",
        GIVEN);
    char *path = write_scenario(text, &dir);
    struct capture r;
    const char *args[] = {"run", path, "--no-reports", "--verbose", NULL};
    assert_int_equal(run(&r, args), 1);
    expect_in(&r, "expected 2 response(s) with status 204, found 1 (the 2 answer(s) were: 204 x1, "
                  "400 x1)");
    expect_in(&r, "webhooks.erp: expected 1 call(s), found none");
    expect_in(&r, "webhooks.erp[0]: not received; the nearest call the webhook mock recorded "
                  "(POST /hooks/wms) differs: at $.path: expected \"/hooks/erp\"");
    const char *own = strstr(r.out, "[FAIL] webhooks.erp");
    const char *inv = strstr(r.out, "[ok] invariant Q-1 at location 1 after when[0]");
    assert_non_null(own);
    assert_non_null(inv);
    assert_true(own < inv);
    capture_cleanup(&r);
    free(text);
    free(path);
    capture_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_token_is_one_group_with_a_hint),
        cmocka_unit_test(test_verbose_failure_carries_a_reproducer),
        cmocka_unit_test(test_messages_near_miss_status_tally_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
