/* test_explore: `refund-harness explore` as a vendor runs it. Against tests/bad_oms with each
 * planted bug alone, a fixed seed finds the bug within a stated case budget, each case file it
 * writes has at most 5 steps and 3 packages, fails with `run --target` against a fresh bad-oms
 * with that bug and passes against the embedded reference. Two runs with one seed (one job, then
 * two) write byte-identical case files with no port in them. The seed is printed first and
 * recorded; usage and environment failures have their exit codes; --replay runs one file. */
#include "capture.h"
#include "proc.h"
#include "support.h"

#include "oms_time.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REFUND_SOURCE_DIR
#error "REFUND_SOURCE_DIR must name the repository"
#endif

/* The seed and the case budget within which every planted bug must be found. */
#define SEED   "14"
#define BUDGET "100"

#define RUN_MAX_MS 120000

/* Runs refund-harness with args (NULL-terminated) from the repository; fills out. */
static void harness(const char *const *args, struct capture *out)
{
    capture_harness(args, REFUND_SOURCE_DIR, RUN_MAX_MS, out);
}

static void start_bad(struct proc *p, const char *bug)
{
    const char *argv[] = {"bad-oms", "--port", "0", "--bug", bug, NULL};
    proc_spawn(p, argv, 0);
    proc_wait_listening(p, "bad-oms");
}

/* What a bug must show: the kind of difference (check and rule) that SPEC ties to it. */
struct planted {
    const char *bug;
    const char *kind; /* one difference must be of this kind */
};

static const struct planted PLANTED[] = {
    /* SPEC C-7, A-3: from Out of Stock the records are kept. */
    {"oos-deletes", "packages.*.reservations [A-3]"},
    /* SPEC Q-2: leaving a counting status frees one slot. */
    {"double-quota", "locations.*.quota [Q-2]"},
    /* SPEC C-2: success is 204 with no body. */
    {"status-200", "response.status [C-2]"},
    /* SPEC C-9: no subscription, no webhook. */
    {"webhook-without-subscription", "webhooks [C-9]"},
    /* SPEC C-8: sync_remote_order_status false means no Omnitron call. */
    {"ignore-sync-false", "omnitron [C-8]"},
};

static size_t count_packages(const json_t *doc)
{
    size_t n = json_array_size(json_object_get(json_object_get(doc, "given"), "packages"));
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(doc, "when"), i, step)
    {
        n += json_object_get(json_object_get(step, "lifecycle"), "plan") != NULL;
    }
    return n;
}

/* The kind of a failed check of results.json, as explore names kinds: ids as "*", one
 * receiver's webhooks as "webhooks", an invariant without where and when, then the rule. */
static char *kind_of(const json_t *check)
{
    const char *what = json_string_value(json_object_get(check, "what"));
    char norm[256];
    size_t n = 0;
    if (strncmp(what, "invariant ", 10) == 0) {
        const char *cut = strstr(what, " at location ");
        snprintf(norm, sizeof(norm), "%.*s", cut ? (int)(cut - what) : (int)strlen(what), what);
    } else if (strncmp(what, "webhooks.", 9) == 0) {
        snprintf(norm, sizeof(norm), "webhooks");
    } else {
        for (const char *p = what; *p && n + 2 < sizeof(norm);) {
            if (*p >= '0' && *p <= '9' && (p == what || p[-1] == '.')) {
                norm[n++] = '*';
                while (*p >= '0' && *p <= '9')
                    p++;
            } else {
                norm[n++] = *p++;
            }
        }
        norm[n] = '\0';
    }
    return support_printf("%s [%s]", norm, json_string_value(json_object_get(check, "rule")));
}

static int failed_kind(const json_t *checks, const char *kind)
{
    size_t i;
    json_t *c;
    json_array_foreach((json_t *)checks, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "state")), "failed") != 0)
            continue;
        char *k = kind_of(c);
        int same = strcmp(k, kind) == 0;
        free(k);
        if (same)
            return 1;
    }
    return 0;
}

/* The case file replays the difference: it fails against a fresh bad-oms with the bug (exit 1,
 * a check of the same kind failing) and passes against the embedded reference. */
static void replay(const char *bug, const char *file, const char *kind)
{
    struct proc oms;
    start_bad(&oms, bug);
    char *dir = capture_temp_dir("explore-replay");
    struct capture out;
    const char *args[] = {"run",          file, "--target",   oms.url,
                          "--report-dir", dir,  "--no-color", NULL};
    harness(args, &out);
    proc_stop(&oms, "bad-oms");
    if (out.code != 1)
        fail_msg("--bug %s: run --target on %s exited %d, expected 1:\n%s%s", bug, file, out.code,
                 out.out, out.err);
    json_t *doc = capture_results(dir);
    const json_t *sc = json_array_get(json_object_get(doc, "scenarios"), 0);
    int same = failed_kind(json_object_get(sc, "checks"), kind);
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(sc, "steps"), i, step)
    {
        same |= failed_kind(json_object_get(step, "checks"), kind);
    }
    if (!same)
        fail_msg("--bug %s: run --target on %s fails, but on no check of kind %s:\n%s", bug, file,
                 kind, out.out);
    json_decref(doc);
    capture_cleanup(&out);
    capture_remove_tree(dir);
    free(dir);
    const char *embedded[] = {"run", file, "--no-reports", "--no-color", NULL};
    harness(embedded, &out);
    if (out.code != 0)
        fail_msg("%s fails against the embedded reference (exit %d):\n%s%s", file, out.code,
                 out.out, out.err);
    capture_cleanup(&out);
}

static void check_planted(const struct planted *pl)
{
    struct proc oms;
    start_bad(&oms, pl->bug);
    char *dir = capture_temp_dir("explore-bug");
    struct capture out;
    const char *args[] = {"explore", "--target", oms.url, "--seed",  SEED, "--cases",
                          BUDGET,    "--out",    dir,     "--quiet", NULL};
    harness(args, &out);
    proc_stop(&oms, "bad-oms");
    if (out.code != 1)
        fail_msg("--bug %s: explore exited %d, expected 1 (a difference):\n%s%s", pl->bug, out.code,
                 out.out, out.err);
    json_t *doc = capture_results(dir);
    const json_t *diffs = json_object_get(json_object_get(doc, "explore"), "differences");
    int found = 0;
    size_t i;
    json_t *d;
    json_array_foreach(diffs, i, d)
    {
        const char *kind = json_string_value(json_object_get(d, "kind"));
        found |= strcmp(kind, pl->kind) == 0;
        const char *file = json_string_value(json_object_get(d, "file"));
        if (!file) {
            /* Covered by a file written for an earlier kind, which must show it. */
            assert_non_null(json_object_get(d, "covered_by"));
            continue;
        }
        json_t *sc = json_load_file(file, 0, NULL);
        if (!sc)
            fail_msg("--bug %s: %s is not readable JSON", pl->bug, file);
        size_t steps = json_array_size(json_object_get(sc, "when"));
        size_t packages = count_packages(sc);
        if (steps > 5 || packages > 3)
            fail_msg("--bug %s: %s (%s) has %zu steps and %zu packages; at most 5 and 3", pl->bug,
                     file, kind, steps, packages);
        assert_true(json_is_true(json_object_get(d, "reproduced")));
        /* The name and description say what was found and with which seed. */
        assert_non_null(strstr(json_string_value(json_object_get(sc, "name")), kind));
        assert_non_null(
            strstr(json_string_value(json_object_get(sc, "description")), "--seed " SEED));
        json_decref(sc);
        char *script = support_printf("%s", file);
        memcpy(script + strlen(script) - 4, "sh", 3); /* x.json -> x.sh */
        char *sh = capture_read_file(script, NULL);
        if (!sh || !strstr(sh, "curl") || !strstr(sh, "\"$TARGET\""))
            fail_msg("%s: no curl reproducer beside the case", script);
        free(sh);
        free(script);
        replay(pl->bug, file, kind);
    }
    if (!found) {
        fail_msg("--bug %s: seed " SEED " in " BUDGET " cases found no \"%s\":\n%s", pl->bug,
                 pl->kind, out.out);
    }
    /* The run's reports are written as run writes them. */
    char *junit = support_printf("%s/junit.xml", dir);
    char *text = capture_read_file(junit, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "<failure"));
    free(text);
    free(junit);
    json_decref(doc);
    capture_cleanup(&out);
    capture_remove_tree(dir);
    free(dir);
}

static void test_bug_oos_deletes(void **state)
{
    (void)state;
    check_planted(&PLANTED[0]);
}

static void test_bug_double_quota(void **state)
{
    (void)state;
    check_planted(&PLANTED[1]);
}

static void test_bug_status_200(void **state)
{
    (void)state;
    check_planted(&PLANTED[2]);
}

static void test_bug_webhook_without_subscription(void **state)
{
    (void)state;
    check_planted(&PLANTED[3]);
}

static void test_bug_ignore_sync_false(void **state)
{
    (void)state;
    check_planted(&PLANTED[4]);
}

/* The names of the case files (*.json but results.json, *.sh) in dir, sorted, as one string. */
static char *case_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot read %s", dir);
    json_t *names = json_array();
    struct dirent *e;
    for (e = readdir(d); e; e = readdir(d)) {
        size_t n = strlen(e->d_name);
        if (strcmp(e->d_name, "results.json") == 0)
            continue;
        if ((n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) ||
            (n > 3 && strcmp(e->d_name + n - 3, ".sh") == 0))
            json_array_append_new(names, json_string(e->d_name));
    }
    closedir(d);
    /* Sorted by insertion into a sorted-key object. */
    json_t *set = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        json_object_set_new(set, json_string_value(v), json_true());
    }
    char *text = json_dumps(set, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(set);
    json_decref(names);
    return text;
}

static void test_same_seed_same_case_files(void **state)
{
    (void)state;
    char *dirs[2];
    char *urls[2];
    for (int k = 0; k < 2; k++) {
        struct proc oms;
        start_bad(&oms, "oos-deletes");
        urls[k] = support_printf("%s", oms.url);
        dirs[k] = capture_temp_dir("explore-seed");
        struct capture out;
        const char *args[] = {"explore", "--target", oms.url,  "--seed",      "2024",
                              "--cases", "60",       "--jobs", k ? "2" : "1", "--out",
                              dirs[k],   "--quiet",  NULL};
        harness(args, &out);
        proc_stop(&oms, "bad-oms");
        if (out.code != 1)
            fail_msg("explore exited %d, expected 1:\n%s%s", out.code, out.out, out.err);
        capture_cleanup(&out);
    }
    char *a = case_files(dirs[0]), *b = case_files(dirs[1]);
    assert_string_equal(a, b);
    json_t *names = support_parse(a);
    assert_true(json_object_size(names) >= 2);
    const char *name;
    json_t *v;
    json_object_foreach(names, name, v)
    {
        char *ta = capture_same_file(dirs[0], dirs[1], name);
        /* No port of the run leaks into a case file: receivers are named. */
        for (int k = 0; k < 2; k++)
            if (strstr(ta, urls[k]))
                fail_msg("%s names the target's URL %s", name, urls[k]);
        if (strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".json") == 0)
            assert_null(strstr(ta, "127.0.0.1"));
        free(ta);
    }
    json_decref(names);
    free(a);
    free(b);
    for (int k = 0; k < 2; k++) {
        capture_remove_tree(dirs[k]);
        free(dirs[k]);
        free(urls[k]);
    }
}

/* Without a target: the reference against the invariants; the seed first and in results.json. */
static void test_embedded_seed_first_and_recorded(void **state)
{
    (void)state;
    char *dir = capture_temp_dir("explore-embedded");
    struct capture out;
    const char *args[] = {"explore", "--seed", "77",    "--cases", "40",
                          "--jobs",  "2",      "--out", dir,       NULL};
    harness(args, &out);
    if (out.code != 0)
        fail_msg("explore on the reference exited %d:\n%s%s", out.code, out.out, out.err);
    assert_true(strncmp(out.out, "explore: seed 77\n", 17) == 0);
    json_t *doc = capture_results(dir);
    const json_t *ex = json_object_get(doc, "explore");
    assert_int_equal(json_integer_value(json_object_get(ex, "seed")), 77);
    assert_int_equal(json_integer_value(json_object_get(ex, "cases")), 40);
    assert_true(json_integer_value(json_object_get(ex, "steps")) >= 40);
    assert_int_equal(json_array_size(json_object_get(ex, "differences")), 0);
    assert_true(json_real_value(json_object_get(ex, "steps_per_s")) > 0);
    json_decref(doc);
    char *html = support_printf("%s/report.html", dir);
    char *text = capture_read_file(html, NULL);
    assert_non_null(text);
    free(text);
    free(html);
    capture_cleanup(&out);

    /* No seed given: one is drawn, printed first and recorded. */
    const char *drawn[] = {"explore", "--time", "300ms", "--out", dir, "--quiet", NULL};
    harness(drawn, &out);
    assert_int_equal(out.code, 0);
    const char *prefix = "explore: seed ";
    assert_int_equal(strncmp(out.out, prefix, strlen(prefix)), 0);
    char *end = NULL;
    unsigned long long seed = strtoull(out.out + strlen(prefix), &end, 10);
    assert_true(end > out.out + strlen(prefix) && *end == '\n');
    doc = capture_results(dir);
    ex = json_object_get(doc, "explore");
    assert_true((unsigned long long)json_integer_value(json_object_get(ex, "seed")) == seed);
    assert_true(json_integer_value(json_object_get(ex, "cases")) > 0);
    json_decref(doc);
    capture_cleanup(&out);

    /* On a terminal, a progress line: cases, steps/s, difference kinds. */
    char bin[4096];
    snprintf(bin, sizeof(bin), "%s", proc_bin("refund-harness"));
    const char *tty[] = {bin, "explore", "--seed", "5", "--cases", "400", "--out", dir, NULL};
    struct capture_options opt = {.cwd = REFUND_SOURCE_DIR, .stdout_tty = 1, .timeout_ms = 120000};
    capture_run(tty, &opt, &out);
    assert_int_equal(out.code, 0);
    if (!strstr(out.out, "\r\033[Kexplore: ") || !strstr(out.out, " steps/s, 0 difference kinds"))
        fail_msg("no progress line on a terminal:\n%s", out.out);
    capture_cleanup(&out);
    capture_remove_tree(dir);
    free(dir);
}

static void test_usage_and_environment(void **state)
{
    (void)state;
    static const char *const bad[][6] = {
        {"explore", "--cases", "5", "--time", "1s", NULL},
        {"explore", "--seed", "-1", NULL},
        {"explore", "--seed", "9223372036854775808", NULL},
        {"explore", "--steps", "0", NULL},
        {"explore", "--time", "soon", NULL},
        {"explore", "--frobnicate", NULL},
        {"explore", "--target", "ftp://x", NULL},
        {"explore", "--replay", "/nonexistent/case.json", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct capture out;
        harness(bad[i], &out);
        if (out.code != 2)
            fail_msg("explore %s %s: exit %d, expected 2 (usage)", bad[i][1],
                     bad[i][2] ? bad[i][2] : "", out.code);
        assert_true(out.err_len > 0);
        capture_cleanup(&out);
    }
    /* Nothing listens there: the environment failed. */
    struct capture out;
    const char *gone[] = {"explore", "--target", "http://127.0.0.1:1", "--no-reports", NULL};
    harness(gone, &out);
    assert_int_equal(out.code, 3);
    capture_cleanup(&out);
    const char *help[] = {"explore", "--help", NULL};
    harness(help, &out);
    assert_int_equal(out.code, 0);
    assert_non_null(strstr(out.out, "--replay FILE"));
    capture_cleanup(&out);
}

/* --replay: one scenario's case, its expectations derived anew, shrunk when it differs. */
static void test_replay_one_file(void **state)
{
    (void)state;
    char *dir = capture_temp_dir("explore-replay");
    char *file = support_printf("%s/case.json", dir);
    capture_write_file(
        file,
        "{\"name\": \"three steps\", \"rules\": [\"C-2\"], \"given\": {\"locations\": [{\"id\": 1, "
        "\"max_quota\": 5, \"quota\": 2}], \"packages\": [{\"id\": 501, \"location\": 1, "
        "\"status\": \"Waiting\", \"items\": [{\"id\": 9001}]}, {\"id\": 502, \"location\": 1, "
        "\"status\": \"Waiting\", \"items\": [{\"id\": 9002}]}]},"
        " \"when\": [{\"command\": {\"package\": 502, \"token\": null, \"body\": {\"package\": "
        "502, "
        "\"transition\": 17}}}, {\"command\": {\"package\": 501, \"body\": {\"package\": 501, "
        "\"transition\": 17}}, \"then\": {\"response\": {\"status\": 418}}},"
        " {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17}}}]}");
    /* The reference passes its own expectations (the file's "then" is not used). */
    char *out_dir = support_printf("%s/out", dir);
    struct capture out;
    const char *embedded[] = {"explore", "--replay", file, "--out", out_dir, "--quiet", NULL};
    harness(embedded, &out);
    if (out.code != 0)
        fail_msg("explore --replay on the reference exited %d:\n%s%s", out.code, out.out, out.err);
    capture_cleanup(&out);

    struct proc oms;
    start_bad(&oms, "status-200");
    const char *args[] = {"explore", "--replay", file,      "--target", oms.url,
                          "--out",   out_dir,    "--quiet", NULL};
    harness(args, &out);
    proc_stop(&oms, "bad-oms");
    if (out.code != 1)
        fail_msg("explore --replay against --bug status-200 exited %d:\n%s%s", out.code, out.out,
                 out.err);
    json_t *doc = capture_results(out_dir);
    const json_t *ex = json_object_get(doc, "explore");
    assert_string_equal(json_string_value(json_object_get(ex, "replay")), file);
    const json_t *first = json_array_get(json_object_get(ex, "differences"), 0);
    assert_non_null(first);
    /* Shrunk: the token-less step and the other package are not needed. */
    assert_int_equal(json_integer_value(json_object_get(first, "steps_before")), 3);
    assert_int_equal(json_integer_value(json_object_get(first, "steps")), 1);
    assert_int_equal(json_integer_value(json_object_get(first, "packages")), 1);
    json_decref(doc);
    capture_cleanup(&out);
    free(out_dir);
    free(file);
    capture_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bug_oos_deletes, proc_teardown),
        cmocka_unit_test_teardown(test_bug_double_quota, proc_teardown),
        cmocka_unit_test_teardown(test_bug_status_200, proc_teardown),
        cmocka_unit_test_teardown(test_bug_webhook_without_subscription, proc_teardown),
        cmocka_unit_test_teardown(test_bug_ignore_sync_false, proc_teardown),
        cmocka_unit_test_teardown(test_same_seed_same_case_files, proc_teardown),
        cmocka_unit_test(test_embedded_seed_first_and_recorded),
        cmocka_unit_test(test_usage_and_environment),
        cmocka_unit_test_teardown(test_replay_one_file, proc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
