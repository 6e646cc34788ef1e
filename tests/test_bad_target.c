/* test_bad_target: the harness fails a non-conforming system and says why. bad-oms
 * (tests/bad_oms/) is a small OMS written apart from the reference; without bugs the bundled suite
 * passes against it through --target (the scenarios needing the plan or clock capabilities it does
 * not offer are skipped, with the reason), and with each --bug alone the run exits 1, more
 * scenarios fail than without, and the scenarios written for that behaviour fail on the check
 * that exposes it - in results.json and in junit.xml. */
#include "capture.h"
#include "proc.h"
#include "support.h"

#include "oms_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REFUND_SOURCE_DIR
#error "REFUND_SOURCE_DIR must name the repository"
#endif

/* The whole test stays within this budget (ctest's TIMEOUT for it is larger), so every child is
 * killed by the test itself and none outlives it. One suite run takes about two seconds; under
 * AddressSanitizer a few times that. */
#define BUDGET_MS      240000
#define HARNESS_MAX_MS 120000

/* Scenarios the bug-free bad-oms is allowed to fail, each with the reason it is out of its
 * scope. Empty: it passes every scenario it is not skipped for. */
static const char *const baseline_exempt[] = {NULL};

static int64_t budget_end;

/* One suite run: how the harness ended, what it printed, and its reports. */
struct run {
    struct capture out;
    json_t *results; /* results.json */
    char *junit;     /* junit.xml */
    json_t *failing; /* the files of the scenarios that failed, in suite order */
};

static void run_cleanup(struct run *r)
{
    capture_cleanup(&r->out);
    json_decref(r->results);
    json_decref(r->failing);
    free(r->junit);
    memset(r, 0, sizeof(*r));
}

/* 1 when the scenario file `file` (as the report names it) is scenarios/<suffix>. */
static int is_scenario(const char *file, const char *suffix)
{
    size_t n = strlen(file), m = strlen(suffix);
    return n > m && strcmp(file + n - m, suffix) == 0 && file[n - m - 1] == '/';
}

static int list_has(const json_t *files, const char *suffix)
{
    size_t i;
    json_t *f;
    json_array_foreach((json_t *)files, i, f)
    {
        if (is_scenario(json_string_value(f), suffix))
            return 1;
    }
    return 0;
}

static const json_t *scenario_result(const struct run *r, const char *suffix)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(r->results, "scenarios"), i, s)
    {
        if (is_scenario(json_string_value(json_object_get(s, "file")), suffix))
            return s;
    }
    fail_msg("scenarios/%s is not in results.json (renamed or removed?)", suffix);
    return NULL;
}

/* The failing scenarios, one line each, for messages (the caller frees). */
static char *failing_text(const struct run *r)
{
    char *text = support_printf("%s", "");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(r->results, "scenarios"), i, s)
    {
        const char *outcome = json_string_value(json_object_get(s, "outcome"));
        if (strcmp(outcome, "failed") != 0 && strcmp(outcome, "error") != 0)
            continue;
        char *more = support_printf("%s\n  %s %s", text, outcome,
                                    json_string_value(json_object_get(s, "file")));
        free(text);
        text = more;
    }
    return text;
}

/* Starts bad-oms (with --bug bug unless NULL), runs the bundled suite against it as a vendor
 * would, stops it (it must exit 0 on SIGTERM) and reads the reports. */
static void run_suite(const char *bug, struct run *r)
{
    memset(r, 0, sizeof(*r));
    const char *argv[] = {"bad-oms", "--port", "0", bug ? "--bug" : NULL, bug, NULL};
    struct proc oms;
    proc_spawn(&oms, argv, 0);
    proc_wait_listening(&oms, "bad-oms");

    int64_t left = budget_end - oms_time_mono_ms();
    if (left <= 0)
        fail_msg("the test's time budget of %d ms is spent", BUDGET_MS);
    char *dir = capture_temp_dir("bad-target");
    char harness[4096];
    snprintf(harness, sizeof(harness), "%s", proc_bin("refund-harness"));
    const char *hargv[] = {harness,        "run", "scenarios",  "--target", oms.url,
                           "--report-dir", dir,   "--no-color", "--quiet",  NULL};
    struct capture_options opt = {
        .cwd = REFUND_SOURCE_DIR,
        .timeout_ms = left < HARNESS_MAX_MS ? left : HARNESS_MAX_MS,
    };
    capture_run(hargv, &opt, &r->out);
    proc_stop(&oms, bug ? bug : "bad-oms");

    char *path = support_printf("%s/results.json", dir);
    json_error_t je;
    r->results = json_load_file(path, 0, &je);
    free(path);
    path = support_printf("%s/junit.xml", dir);
    r->junit = capture_read_file(path, NULL);
    free(path);
    capture_remove_tree(dir);
    free(dir);

    char how[64];
    if (r->out.timed_out || r->out.code < 0 || !r->results || !r->junit)
        fail_msg("refund-harness against bad-oms%s%s: %s, %s; stdout:\n%s\nstderr:\n%s",
                 bug ? " --bug " : "", bug ? bug : "", capture_describe(&r->out, how, sizeof(how)),
                 r->results ? "results.json read" : "no readable results.json", r->out.out,
                 r->out.err);
    r->failing = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(r->results, "scenarios"), i, s)
    {
        const char *outcome = json_string_value(json_object_get(s, "outcome"));
        /* A bug is a behaviour, not an outage: no scenario may end in an environment error. */
        if (strcmp(outcome, "error") == 0)
            fail_msg("bad-oms%s%s: %s ended in an error, not a verdict: %s", bug ? " --bug " : "",
                     bug ? bug : "", json_string_value(json_object_get(s, "file")),
                     json_string_value(json_object_get(s, "error")));
        if (strcmp(outcome, "failed") == 0)
            json_array_append(r->failing, json_object_get(s, "file"));
    }
}

/* The baseline (bad-oms without bugs), run once and kept for the bug tests. */
static json_t *baseline_failing;

static int exempt(const char *file)
{
    for (size_t i = 0; baseline_exempt[i]; i++)
        if (is_scenario(file, baseline_exempt[i]))
            return 1;
    return 0;
}

/* What a scenario needs of the fixture protocol that bad-oms does not offer ("clock", "plan"),
 * read from the scenario file itself, or NULL. */
static const char *needs_missing_capability(const char *file, int *both, int *crash)
{
    char *path = support_printf("%s/%s", REFUND_SOURCE_DIR, file);
    json_t *sc = json_load_file(path, 0, NULL);
    if (!sc)
        fail_msg("cannot read %s", path);
    free(path);
    const char *mode = json_string_value(
        json_object_get(json_object_get(json_object_get(sc, "given"), "clock"), "mode"));
    int clock = mode && strcmp(mode, "virtual") == 0, plan = 0;
    size_t i;
    json_t *step;
    *crash = 0;
    json_array_foreach(json_object_get(sc, "when"), i, step)
    {
        plan |= json_object_get(json_object_get(step, "lifecycle"), "plan") != NULL;
        *crash |= json_object_get(step, "crash") != NULL;
    }
    json_decref(sc);
    *both = clock && plan;
    return clock ? "clock" : plan ? "plan" : NULL;
}

static void test_without_bugs_passes_and_skips_what_it_cannot_offer(void **state)
{
    (void)state;
    struct run r;
    run_suite(NULL, &r);
    json_t *failing = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(r.failing, i, f)
    {
        if (!exempt(json_string_value(f)))
            json_array_append(failing, f);
    }
    if (json_array_size(failing)) {
        char *text = failing_text(&r);
        fail_msg("bad-oms without bugs fails scenarios (fix bad-oms, or exempt a scenario that "
                 "needs what it deliberately lacks, with the reason):%s\nstdout:\n%s",
                 text, r.out.out);
    }
    json_decref(failing);
    if (json_array_size(r.failing) == 0 && r.out.code != 0)
        fail_msg("no scenario failed, yet refund-harness exited %d:\n%s%s", r.out.code, r.out.out,
                 r.out.err);

    /* Scenarios needing plan or clock are skipped with the reason, never passed; the rest run
     * (profile-overrides is offered, so given.profile is not a reason to skip). */
    size_t skipped = 0, ran = 0;
    json_t *s;
    json_array_foreach(json_object_get(r.results, "scenarios"), i, s)
    {
        const char *file = json_string_value(json_object_get(s, "file"));
        const char *outcome = json_string_value(json_object_get(s, "outcome"));
        int both = 0, crash = 0;
        const char *cap = needs_missing_capability(file, &both, &crash);
        if (crash) {
            /* A target given by --target alone cannot be restarted: crash scenarios skip. */
            const char *why = json_string_value(json_object_get(s, "error"));
            if (strcmp(outcome, "skipped") != 0 || !why || !strstr(why, "--target-cmd"))
                fail_msg("%s kills its target: against --target it must be skipped naming "
                         "--target-cmd, but was %s (%s)",
                         file, outcome, why ? why : "no reason");
            skipped++;
            continue;
        }
        if (!cap) {
            if (strcmp(outcome, "skipped") == 0)
                fail_msg("%s was skipped though bad-oms offers all it needs: %s", file,
                         json_string_value(json_object_get(s, "error")));
            ran++;
            continue;
        }
        const char *why = json_string_value(json_object_get(s, "error"));
        char quoted[32];
        snprintf(quoted, sizeof(quoted), "\"%s\"", cap);
        if (strcmp(outcome, "skipped") != 0)
            fail_msg("%s needs the \"%s\" capability bad-oms lacks, but was reported %s", file, cap,
                     outcome);
        if (!why || (!strstr(why, quoted) && !(both && strstr(why, "\"plan\""))) ||
            !strstr(why, "capability"))
            fail_msg("%s was skipped without naming the \"%s\" capability: %s", file, cap,
                     why ? why : "(no reason)");
        skipped++;
    }
    assert_true(skipped > 0);
    assert_true(ran > 0);
    json_t *summary = json_object_get(r.results, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "skipped")), skipped);
    assert_true(strstr(r.junit, "<skipped message=\"the target does not implement") != NULL);
    baseline_failing = json_incref(r.failing);
    run_cleanup(&r);
}

/* One scenario the bug must fail, and the check (a results.json "what") that shows it. */
struct exposure {
    const char *scenario; /* under scenarios/ */
    const char *check;
};

/* The scenario failed, and its failure names the check: a failed check with that "what" in
 * results.json, and "[FAIL] <check>" in the <failure> of its JUnit test case. */
static void expect_named(const struct run *r, const char *bug, const struct exposure *e)
{
    const json_t *s = scenario_result(r, e->scenario);
    const char *file = json_string_value(json_object_get(s, "file"));
    const char *outcome = json_string_value(json_object_get(s, "outcome"));
    if (strcmp(outcome, "failed") != 0)
        fail_msg("--bug %s: scenarios/%s should fail, but it %s", bug, e->scenario, outcome);

    int found = 0;
    size_t i, k;
    json_t *c, *step;
    json_array_foreach(json_object_get(s, "checks"), k, c)
    {
        found |= !json_is_true(json_object_get(c, "passed")) &&
                 strcmp(json_string_value(json_object_get(c, "what")), e->check) == 0;
    }
    json_array_foreach(json_object_get(s, "steps"), i, step)
    {
        json_array_foreach(json_object_get(step, "checks"), k, c)
        {
            found |= !json_is_true(json_object_get(c, "passed")) &&
                     strcmp(json_string_value(json_object_get(c, "what")), e->check) == 0;
        }
    }
    if (!found)
        fail_msg("--bug %s: %s failed, but results.json has no failed check \"%s\"", bug, file,
                 e->check);

    /* The JUnit test case of that file: its <failure> carries the scenario's account. */
    char *marker = support_printf("  file: %s\n", file);
    char *fail_line = support_printf("[FAIL] %s", e->check);
    const char *at = strstr(r->junit, marker); /* first in <failure>, then in <system-out> */
    const char *open = NULL;
    for (const char *p = strstr(r->junit, "<failure "); p && at && p < at;
         p = strstr(p + 1, "<failure "))
        open = p;
    const char *ends = open ? strstr(open, "</testcase>") : NULL;
    const char *close = at ? strstr(at, "</failure>") : NULL;
    const char *line = at ? strstr(at, fail_line) : NULL;
    /* The <failure> opens in the same test case as the file line, and names the check in it. */
    int named = open && ends && close && line && at < ends && line < close;
    if (!named)
        fail_msg("--bug %s: the JUnit <failure> of %s does not name \"%s\"", bug, file, e->check);
    free(marker);
    free(fail_line);
}

static void check_bug(const char *bug, const struct exposure *exposures, size_t n)
{
    if (!baseline_failing)
        fail_msg("the baseline run without bugs did not complete");
    struct run r;
    run_suite(bug, &r);
    if (r.out.code != 1)
        fail_msg("--bug %s: refund-harness exited %d, expected 1:\n%s%s", bug, r.out.code,
                 r.out.out, r.out.err);
    /* A strict superset of the baseline's failures. */
    size_t i;
    json_t *f;
    json_array_foreach(baseline_failing, i, f)
    {
        if (!list_has(r.failing, json_string_value(f)))
            fail_msg("--bug %s: %s failed without bugs but passes with it", bug,
                     json_string_value(f));
    }
    if (json_array_size(r.failing) <= json_array_size(baseline_failing))
        fail_msg("--bug %s: no scenario fails beyond the baseline", bug);
    for (size_t k = 0; k < n; k++) {
        if (list_has(baseline_failing, exposures[k].scenario))
            fail_msg("scenarios/%s already fails without bugs: it cannot expose %s",
                     exposures[k].scenario, bug);
        expect_named(&r, bug, &exposures[k]);
    }
    run_cleanup(&r);
}

/* SPEC C-7, A-3: from Out of Stock, reservations and discrepancies are kept. */
static void test_bug_oos_deletes(void **state)
{
    (void)state;
    static const struct exposure e[] = {
        {"transitions/out-of-stock-source-packed-for-refund.json", "packages.501.reservations"},
        {"transitions/out-of-stock-source-packed-for-refund.json", "packages.501.discrepancies"},
        {"webhooks/out-of-stock-source-webhook.json", "packages.501.reservations"},
    };
    check_bug("oos-deletes", e, sizeof(e) / sizeof(e[0]));
}

/* SPEC Q-2: from Waiting the quota drops by one. A location at quota 1 would clamp the double
 * decrement at 0 and hide it; these start higher. */
static void test_bug_double_quota(void **state)
{
    (void)state;
    static const struct exposure e[] = {
        {"quota/drifted-counter-moves-by-one.json", "locations.1.quota"},
        {"quota/several-packages-one-location.json", "locations.1.quota"},
    };
    check_bug("double-quota", e, sizeof(e) / sizeof(e[0]));
}

/* SPEC C-2: 204 with an empty body. */
static void test_bug_status_200(void **state)
{
    (void)state;
    static const struct exposure e[] = {
        {"transitions/waiting-source-packed-for-refund.json", "response.status"},
        {"transitions/waiting-source-packed-for-refund.json", "response.body"},
    };
    check_bug("status-200", e, sizeof(e) / sizeof(e[0]));
}

/* SPEC C-9: no subscription, no webhook. bad-oms sends unsubscribed events to the URL of the last
 * subscription any fixture installed; earlier scenarios of the same run installed one, so
 * no-subscription-no-webhook sees a call too. */
static void test_bug_webhook_without_subscription(void **state)
{
    (void)state;
    static const struct exposure e[] = {
        {"webhooks/no-subscription-no-webhook.json", "webhooks"},
        {"webhooks/other-event-type-not-notified.json", "webhooks"},
    };
    check_bug("webhook-without-subscription", e, sizeof(e) / sizeof(e[0]));
}

/* SPEC C-8: sync_remote_order_status false means no Omnitron call. */
static void test_bug_ignore_sync_false(void **state)
{
    (void)state;
    static const struct exposure e[] = {
        {"sync/flag-false-skips-omnitron.json", "omnitron"},
        {"concurrency/concurrent-commands-without-sync.json", "omnitron"},
    };
    check_bug("ignore-sync-false", e, sizeof(e) / sizeof(e[0]));
}

/* An unknown bug name is a usage error (exit 2), not a silently bug-free server. */
static void test_unknown_bug_is_a_usage_error(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", proc_bin("bad-oms"));
    const char *argv[] = {path, "--port", "0", "--bug", "no-such-bug", NULL};
    struct capture c;
    struct capture_options opt = {.timeout_ms = 10000};
    capture_run(argv, &opt, &c);
    assert_int_equal(c.code, 2);
    assert_non_null(strstr(c.err, "no-such-bug"));
    capture_cleanup(&c);
}

int main(void)
{
    budget_end = oms_time_mono_ms() + BUDGET_MS;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_unknown_bug_is_a_usage_error, proc_teardown),
        cmocka_unit_test_teardown(test_without_bugs_passes_and_skips_what_it_cannot_offer,
                                  proc_teardown),
        cmocka_unit_test_teardown(test_bug_oos_deletes, proc_teardown),
        cmocka_unit_test_teardown(test_bug_double_quota, proc_teardown),
        cmocka_unit_test_teardown(test_bug_status_200, proc_teardown),
        cmocka_unit_test_teardown(test_bug_webhook_without_subscription, proc_teardown),
        cmocka_unit_test_teardown(test_bug_ignore_sync_false, proc_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(baseline_failing);
    return failed;
}
