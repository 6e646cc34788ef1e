/* test_cli: refund-harness as a person or a CI job runs it - a child process, its exit code,
 * stdout and stderr, and the files it writes: validate on broken and bundled files, run on
 * temporary scenario folders (pass, a wrong expectation, an invalid file), the reports and
 * results.json against its schema, --jobs, --shard, the selection (--filter/--tag/--rule/--id/
 * --exclude, an empty selection with suggestions), scenario ids, --known-failures, list --rules,
 * --strict, --fail-fast, usage errors and suggestions, each subcommand's --help and the man page,
 * and colour. */
#include "capture.h"
#include "cli.h"
#include "invalid_cases.h"
#include "oms_json.h"
#include "schema.h"
#include "support.h"
#include "workspace.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef REFUND_BIN_DIR
#error "REFUND_BIN_DIR must name the directory of the built programs"
#endif

/* One run of the whole bundled suite takes about a second; under AddressSanitizer a few. */
#define HARNESS_TIMEOUT_MS 90000

/* Each test's temporary directory: scenarios/ for the files it writes, reports/ (not created) for
 * the reports. Removed by the workspace_teardown even when the test fails. */

/* ---- running the harness ---- */

/* Runs refund-harness with args (NULL-terminated) and opt (NULL: in the test's directory, with
 * the test's environment less NO_COLOR). Fails the test when it does not end by itself in time
 * (it is killed then) or dies by a signal. Returns the exit code; r is cleaned by the caller. */
static int harness(struct capture *r, const struct capture_options *opt, const char *const *args)
{
    static const char *const no_color_unset[] = {"NO_COLOR", NULL};
    const char *argv[48];
    size_t n = 0;
    char bin[4096];
    snprintf(bin, sizeof(bin), "%s/refund-harness", REFUND_BIN_DIR);
    argv[n++] = bin;
    while (args[n - 1] && n < 47) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    struct capture_options o = {.env = no_color_unset, .timeout_ms = HARNESS_TIMEOUT_MS};
    if (opt) {
        o = *opt;
        if (!o.timeout_ms)
            o.timeout_ms = HARNESS_TIMEOUT_MS;
    }
    capture_run(argv, &o, r);
    if (r->timed_out || r->code < 0) {
        char how[64];
        fail_msg("refund-harness %s ...: %s\nstdout:\n%.3000s\nstderr:\n%.3000s", args[0],
                 capture_describe(r, how, sizeof(how)), r->out, r->err);
    }
    return r->code;
}

#define HARNESS(r, ...)        harness((r), NULL, (const char *const[]){__VA_ARGS__, NULL})
#define HARNESS_OPT(r, o, ...) harness((r), (o), (const char *const[]){__VA_ARGS__, NULL})

/* Fails unless the run ended with code; shows what it printed. */
static void expect_code(const struct capture *r, int code, const char *what)
{
    if (r->code != code)
        fail_msg("%s: expected exit code %d, got %d\nstdout:\n%.4000s\nstderr:\n%.4000s", what,
                 code, r->code, r->out, r->err);
}

/* Fails unless haystack holds needle; names which stream it was. */
static void expect_in(const char *haystack, const char *needle, const char *stream,
                      const char *what)
{
    if (!strstr(haystack, needle))
        fail_msg("%s: %s lacks \"%s\":\n%.4000s", what, stream, needle, haystack);
}

static void expect_not_in(const char *haystack, const char *needle, const char *stream,
                          const char *what)
{
    if (strstr(haystack, needle))
        fail_msg("%s: %s should not hold \"%s\":\n%.4000s", what, stream, needle, haystack);
}

/* How many times needle occurs in text. */
static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- scenario files ---- */

/* The line and column (1-based) of the first byte after the first occurrence of needle. */
static void locate_after(const char *text, const char *needle, int *line, int *column)
{
    const char *at = strstr(text, needle);
    assert_non_null(at);
    at += strlen(needle);
    *line = 1;
    *column = 1;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

static json_t *load_json(const char *path)
{
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e);
    if (!doc)
        fail_msg("%s: not JSON: %s (line %d)", path, e.text, e.line);
    return doc;
}

/* ---- lists of scenario files ---- */

struct list {
    char **items;
    size_t count;
};

static void list_add(struct list *l, const char *s, size_t n)
{
    char **grown = realloc(l->items, (l->count + 1) * sizeof(*grown));
    assert_non_null(grown);
    l->items = grown;
    l->items[l->count] = strndup(s, n);
    assert_non_null(l->items[l->count]);
    l->count++;
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static int list_has(const struct list *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return 1;
    return 0;
}

/* The files of `list` output: the first tab-separated field of each line. */
static struct list list_files(const char *out)
{
    struct list l = {0};
    for (const char *p = out; *p;) {
        size_t len = strcspn(p, "\n");
        size_t field = strcspn(p, "\t\n");
        if (len > 0)
            list_add(&l, p, field);
        p += len;
        if (*p == '\n')
            p++;
    }
    return l;
}

/* Runs `refund-harness list` with the selection options (NULL-terminated) and returns its files;
 * it must exit 0. */
static struct list harness_list(const char *const *options)
{
    const char *args[24] = {"list"};
    size_t n = 1;
    while (options && options[n - 1] && n < 23) {
        args[n] = options[n - 1];
        n++;
    }
    args[n] = NULL;
    struct capture r;
    harness(&r, NULL, args);
    expect_code(&r, 0, "list");
    if (r.err_len)
        fail_msg("list printed on stderr: %s", r.err);
    struct list l = list_files(r.out);
    capture_cleanup(&r);
    return l;
}

#define LIST(...) harness_list((const char *const[]){__VA_ARGS__, NULL})

/* Fails unless got and want hold the same files (each once), showing the difference. */
static void expect_same_files(const struct list *got, const struct list *want, const char *what)
{
    for (size_t i = 0; i < got->count; i++) {
        if (!list_has(want, got->items[i]))
            fail_msg("%s: %s was listed but should not be", what, got->items[i]);
        for (size_t k = i + 1; k < got->count; k++)
            if (strcmp(got->items[i], got->items[k]) == 0)
                fail_msg("%s: %s was listed twice", what, got->items[i]);
    }
    for (size_t i = 0; i < want->count; i++)
        if (!list_has(got, want->items[i]))
            fail_msg("%s: %s should have been listed", what, want->items[i]);
    assert_int_equal(got->count, want->count);
}

/* 1 when the JSON array of strings holds s. */
static int json_has_string(const json_t *array, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

/* ---- validate ---- */

/* validate FILE on each broken file: exit 2, "file:line:column: at PATH: reason" on stderr, the
 * count on stdout, and no "ok" line. */
static void test_validate_each_invalid_file_exits_2_naming_the_place(void **state)
{
    (void)state;
    for (size_t i = 0; i < INVALID_COUNT; i++) {
        char *file = support_printf("%s/invalid/%s", REFUND_TEST_DATA, INVALID[i].file);
        struct capture r;
        HARNESS(&r, "validate", file);
        expect_code(&r, 2, INVALID[i].file);
        char *place =
            support_printf("invalid  %s:%d:%d: ", file, INVALID[i].line, INVALID[i].column);
        expect_in(r.err, place, "stderr", INVALID[i].file);
        if (INVALID[i].path[0]) {
            char *at = support_printf("%sat %s: ", place, INVALID[i].path);
            expect_in(r.err, at, "stderr", INVALID[i].file);
            free(at);
        }
        expect_in(r.err, INVALID[i].fragment, "stderr", INVALID[i].file);
        expect_in(r.out, "1 file(s): 0 valid, 1 invalid", "stdout", INVALID[i].file);
        expect_not_in(r.out, "ok ", "stdout", INVALID[i].file);
        free(place);
        free(file);
        capture_cleanup(&r);
    }
}

/* validate DIR on the whole folder: exit 2, every file named with its place; and every file of the
 * folder has a row in the table above (a new broken file needs one). */
static void test_validate_invalid_folder_names_every_file(void **state)
{
    (void)state;
    char *dir = support_printf("%s/invalid", REFUND_TEST_DATA);
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t files = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        files++;
        int listed = 0;
        for (size_t i = 0; i < INVALID_COUNT; i++)
            listed |= strcmp(INVALID[i].file, e->d_name) == 0;
        if (!listed)
            fail_msg("tests/data/invalid/%s has no row in test_cli.c's table", e->d_name);
    }
    closedir(d);
    assert_int_equal(files, INVALID_COUNT);

    struct capture r;
    HARNESS(&r, "validate", dir);
    expect_code(&r, 2, "validate tests/data/invalid");
    char summary[96];
    snprintf(summary, sizeof(summary), "%zu file(s): 0 valid, %zu invalid", files, files);
    expect_in(r.out, summary, "stdout", "validate tests/data/invalid");
    for (size_t i = 0; i < INVALID_COUNT; i++) {
        char *place = support_printf("%s/%s:%d:%d: ", dir, INVALID[i].file, INVALID[i].line,
                                     INVALID[i].column);
        expect_in(r.err, place, "stderr", "validate tests/data/invalid");
        free(place);
    }
    capture_cleanup(&r);
    free(dir);
}

static size_t json_files_found;

static int count_json(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (flag == FTW_F && n > 5 && strcmp(path + n - 5, ".json") == 0)
        json_files_found++;
    return 0;
}

/* validate on the bundled scenarios - by default, as "scenarios" from the repository, and by
 * absolute path: exit 0, an "ok" line for every file, the count, nothing on stderr. */
static void test_validate_bundled_scenarios_exits_0(void **state)
{
    (void)state;
    char *dir = strdup(support_path("scenarios"));
    assert_non_null(dir);
    json_files_found = 0;
    assert_int_equal(nftw(dir, count_json, 16, FTW_PHYS), 0);
    assert_true(json_files_found > 0);
    char summary[96];
    snprintf(summary, sizeof(summary), "%zu file(s): %zu valid, 0 invalid", json_files_found,
             json_files_found);
    struct capture_options in_repo = {.cwd = REFUND_SOURCE_DIR};
    for (int how = 0; how < 3; how++) {
        struct capture r;
        const char *what = how == 0 ? "validate" : how == 1 ? "validate scenarios" : dir;
        if (how == 0)
            HARNESS(&r, "validate");
        else if (how == 1)
            HARNESS_OPT(&r, &in_repo, "validate", "scenarios");
        else
            HARNESS(&r, "validate", dir);
        expect_code(&r, 0, what);
        expect_in(r.out, summary, "stdout", what);
        if (r.err_len)
            fail_msg("%s: stderr should be empty: %s", what, r.err);
        assert_int_equal(count_of(r.out, "ok       "), json_files_found);
        capture_cleanup(&r);
    }
    free(dir);
}

/* validate, list and run on a folder without scenario files: exit 2, the folder named on stderr,
 * and no run (no reports written) - a mistyped path must never look like a clean suite. */
static void test_no_scenario_files_exits_2_for_every_command(void **state)
{
    struct workspace *f = *state;
    static const char *const commands[] = {"validate", "list", "run"};
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        struct capture r;
        if (strcmp(commands[i], "run") == 0)
            HARNESS(&r, commands[i], f->scenarios, "--report-dir", f->reports);
        else
            HARNESS(&r, commands[i], f->scenarios);
        expect_code(&r, 2, commands[i]);
        expect_in(r.err, "no scenario files", "stderr", commands[i]);
        expect_in(r.err, f->scenarios, "stderr", commands[i]);
        capture_cleanup(&r);
        struct stat st;
        if (stat(f->reports, &st) == 0)
            fail_msg("%s on an empty folder wrote %s", commands[i], f->reports);
    }
}

/* ---- run ---- */

/* Copies a bundled scenario file into dir as name. */
static void copy_file(const char *from, const char *dir, const char *name)
{
    char *text = capture_read_file(from, NULL);
    if (!text)
        fail_msg("cannot read %s", from);
    char *to = support_printf("%s/%s", dir, name);
    capture_write_file(to, text);
    free(to);
    free(text);
}

/* A folder with one scenario of ours and copies of the first and last bundled ones: exit 0, a
 * PASS line for each, the summary. */
static void test_run_passing_folder_exits_0(void **state)
{
    struct workspace *f = *state;
    struct list bundled = harness_list(NULL);
    assert_true(bundled.count >= 2);
    copy_file(bundled.items[0], f->scenarios, "copy-first.json");
    copy_file(bundled.items[bundled.count - 1], f->scenarios, "copy-last.json");
    list_free(&bundled);
    char *ours = workspace_write_scenario(f, NULL, "ours.json", "cli: ours passes", 1, 0);

    struct capture r;
    HARNESS(&r, "run", "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 0, "run on a passing folder");
    static const char *const names[] = {"copy-first.json", "copy-last.json", "ours.json"};
    for (size_t i = 0; i < 3; i++) {
        char *line = support_printf("PASS   %s/%s  ", f->scenarios, names[i]);
        expect_in(r.out, line, "stdout", "run on a passing folder");
        free(line);
    }
    expect_in(r.out, "3 scenario(s): 3 passed, 0 noted, 0 failed, 0 error(s), 0 skipped", "stdout",
              "run on a passing folder");
    expect_not_in(r.out, "FAIL", "stdout", "run on a passing folder");
    capture_cleanup(&r);
    free(ours);
}

/* Reports written inside the scenario folder, in a subfolder or the folder itself (results.json
 * is JSON too), are not read back as scenarios by the next run over that folder: it runs the same
 * one scenario and passes again. */
static void test_reports_inside_the_scenario_folder_are_not_scenarios(void **state)
{
    struct workspace *f = *state;
    char *ours = workspace_write_scenario(f, NULL, "ours.json", "cli: ours passes", 1, 0);
    char *inside = support_printf("%s/reports", f->scenarios);
    for (int round = 1; round <= 4; round++) {
        struct capture r;
        HARNESS(&r, "run", "--report-dir", round <= 2 ? inside : f->scenarios, f->scenarios);
        const char *what = round == 1   ? "first run"
                           : round == 2 ? "second run, reports in a subfolder"
                           : round == 3 ? "run writing reports into the scenario folder itself"
                                        : "run over that folder again";
        expect_code(&r, 0, what);
        expect_in(r.out, "1 scenario(s): 1 passed, 0 noted, 0 failed, 0 error(s), 0 skipped",
                  "stdout", what);
        capture_cleanup(&r);
    }
    char *results = support_printf("%s/results.json", inside);
    assert_true(access(results, F_OK) == 0);
    /* validate agrees, and an explicitly named report file is still read (and refused). */
    struct capture r;
    HARNESS(&r, "validate", f->scenarios);
    expect_code(&r, 0, "validate over the folder");
    expect_in(r.out, "1 file(s): 1 valid, 0 invalid", "stdout", "validate over the folder");
    capture_cleanup(&r);
    HARNESS(&r, "validate", results);
    expect_code(&r, 2, "validate naming results.json");
    capture_cleanup(&r);
    free(results);
    free(inside);
    free(ours);
}

/* One expectation changed to a wrong value: exit 1, a FAIL line, and below it the expectation's
 * file:line:column, its path, "expected" and "found" with both values; results.json agrees. */
static void test_run_wrong_expectation_exits_1_with_place_and_values(void **state)
{
    struct workspace *f = *state;
    char *good = workspace_write_scenario(f, NULL, "good.json", "cli: good", 1, 0);
    char *wrong = workspace_write_scenario(f, NULL, "wrong.json", "cli: wrong quota", 1, 7);
    char *text = capture_read_file(wrong, NULL);
    int line, column;
    locate_after(text, "\"locations\": {\"1\": {\"quota\": ", &line, &column);
    free(text);

    struct capture r;
    HARNESS(&r, "run", "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 1, "run with a wrong expectation");
    char *fail = support_printf("FAIL   %s  cli: wrong quota", wrong);
    char *detail =
        support_printf("%s:%d:%d: locations.1.quota: expected 7, found 0", wrong, line, column);
    char *pass = support_printf("PASS   %s  cli: good", good);
    expect_in(r.out, fail, "stdout", "run with a wrong expectation");
    expect_in(r.out, detail, "stdout", "run with a wrong expectation");
    expect_in(r.out, pass, "stdout", "run with a wrong expectation");
    expect_in(r.out, "2 scenario(s): 1 passed, 0 noted, 1 failed, 0 error(s), 0 skipped", "stdout",
              "run with a wrong expectation");
    capture_cleanup(&r);

    /* results.json: the failed check with its place, expected and actual. */
    char *path = support_printf("%s/results.json", f->reports);
    json_t *doc = load_json(path);
    json_t *scenarios = json_object_get(doc, "scenarios");
    assert_int_equal(json_array_size(scenarios), 2);
    json_t *s = json_array_get(scenarios, 1);
    assert_string_equal(json_string_value(json_object_get(s, "file")), wrong);
    assert_string_equal(json_string_value(json_object_get(s, "outcome")), "failed");
    assert_int_equal(json_integer_value(json_object_get(s, "checks_failed")), 1);
    char *where = support_printf("%s:%d:%d", wrong, line, column);
    int seen = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(s, "checks"), i, c)
    {
        if (json_is_true(json_object_get(c, "passed")))
            continue;
        seen++;
        assert_string_equal(json_string_value(json_object_get(c, "what")), "locations.1.quota");
        assert_string_equal(json_string_value(json_object_get(c, "where")), where);
        assert_int_equal(json_integer_value(json_object_get(c, "expected")), 7);
        assert_int_equal(json_integer_value(json_object_get(c, "actual")), 0);
    }
    assert_int_equal(seen, 1);
    json_decref(doc);
    free(where);
    free(path);
    free(fail);
    free(detail);
    free(pass);
    free(good);
    free(wrong);
}

/* 1 when dir holds no entry besides . and .. (or does not exist). */
static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 1;
    int empty = 1;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

/* An invalid file among valid ones: exit 2, the file's place on stderr, nothing runs and no report
 * is written - neither in --report-dir nor in the default reports/. */
static void test_run_with_an_invalid_file_exits_2_and_runs_nothing(void **state)
{
    struct workspace *f = *state;
    char *good = workspace_write_scenario(f, NULL, "good.json", "cli: good", 1, 0);
    char *from = support_printf("%s/invalid/unknown-key-typo.json", REFUND_TEST_DATA);
    copy_file(from, f->scenarios, "typo.json");
    assert_int_equal(mkdir(f->reports, 0755), 0);

    struct capture r;
    HARNESS(&r, "run", "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 2, "run with an invalid file");
    char *place =
        support_printf("invalid  %s/typo.json:3:17: at $.descripton: unknown key", f->scenarios);
    expect_in(r.err, place, "stderr", "run with an invalid file");
    expect_in(r.err, "1 invalid scenario file(s); nothing was run", "stderr",
              "run with an invalid file");
    expect_not_in(r.out, "PASS", "stdout", "run with an invalid file");
    expect_not_in(r.out, "scenario(s):", "stdout", "run with an invalid file");
    if (!dir_is_empty(f->reports))
        fail_msg("run with an invalid file wrote into %s", f->reports);
    capture_cleanup(&r);

    /* The same with the default report folder, from the temporary directory. */
    assert_int_equal(rmdir(f->reports), 0);
    struct capture_options in_dir = {.cwd = f->dir};
    HARNESS_OPT(&r, &in_dir, "run", f->scenarios);
    expect_code(&r, 2, "run with an invalid file (default reports/)");
    if (capture_exists(f->reports))
        fail_msg("run with an invalid file created %s", f->reports);
    capture_cleanup(&r);
    free(place);
    free(from);
    free(good);
}

/* --report-dir DIR (not existing yet, nested): junit.xml, results.json and report.html, and the
 * marker that keeps results.json out of scenario searches, nothing else, each well-formed enough
 * to be what it says; the reports line names them. */
static void test_run_report_dir_writes_three_reports(void **state)
{
    struct workspace *f = *state;
    char *good = workspace_write_scenario(f, NULL, "good.json", "cli: good", 1, 0);
    char *dir = support_printf("%s/nested/deeper", f->reports);
    struct capture r;
    HARNESS(&r, "run", "--report-dir", dir, f->scenarios);
    expect_code(&r, 0, "run --report-dir");
    char *line =
        support_printf("reports: %s/junit.xml, %s/results.json, %s/report.html", dir, dir, dir);
    expect_in(r.out, line, "stdout", "run --report-dir");
    capture_cleanup(&r);

    static const char *const names[] = {"junit.xml", "results.json", "report.html",
                                        ".refund-harness-reports"};
    size_t entries = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int known = 0;
        for (size_t i = 0; i < 4; i++)
            known |= strcmp(e->d_name, names[i]) == 0;
        if (!known)
            fail_msg("run --report-dir left %s/%s", dir, e->d_name);
        entries++;
    }
    closedir(d);
    assert_int_equal(entries, 4);

    char *path = support_printf("%s/junit.xml", dir);
    char *xml = capture_read_file(path, NULL);
    assert_non_null(xml);
    assert_true(strncmp(xml, "<?xml", 5) == 0);
    expect_in(xml, "<testsuites ", "junit.xml", "run --report-dir");
    expect_in(xml, "tests=\"1\" failures=\"0\" errors=\"0\"", "junit.xml", "run --report-dir");
    /* The test name is the id (here from the file name), the prose name is in system-out. */
    expect_in(xml, "<testcase name=\"good\" classname=\"", "junit.xml", "run --report-dir");
    expect_in(xml, "<system-out>cli: good\n  id: good\n", "junit.xml", "run --report-dir");
    free(xml);
    free(path);

    path = support_printf("%s/results.json", dir);
    json_t *doc = load_json(path);
    assert_string_equal(json_string_value(json_object_get(doc, "tool")), "refund-harness");
    assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), 2);
    json_t *summary = json_object_get(doc, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "total")), 1);
    assert_int_equal(json_integer_value(json_object_get(summary, "passed")), 1);
    json_decref(doc);
    free(path);

    path = support_printf("%s/report.html", dir);
    char *html = capture_read_file(path, NULL);
    assert_non_null(html);
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    expect_in(html, "</html>", "report.html", "run --report-dir");
    expect_in(html, "cli: good", "report.html", "run --report-dir");
    free(html);
    free(path);
    free(line);
    free(dir);
    free(good);
}

/* --no-reports writes nothing (not even the default reports/ folder), and without it the default
 * folder is reports/ in the working directory. */
static void test_run_no_reports_writes_none(void **state)
{
    struct workspace *f = *state;
    char *good = workspace_write_scenario(f, NULL, "good.json", "cli: good", 1, 0);
    struct capture_options in_dir = {.cwd = f->dir};
    struct capture r;
    HARNESS_OPT(&r, &in_dir, "run", "--no-reports", f->scenarios);
    expect_code(&r, 0, "run --no-reports");
    expect_not_in(r.out, "reports:", "stdout", "run --no-reports");
    if (capture_exists(f->reports))
        fail_msg("run --no-reports created %s", f->reports);
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "scenarios"))
            fail_msg("run --no-reports left %s/%s", f->dir, e->d_name);
    closedir(d);
    capture_cleanup(&r);

    HARNESS_OPT(&r, &in_dir, "run", f->scenarios);
    expect_code(&r, 0, "run (default reports/)");
    static const char *const names[] = {"junit.xml", "results.json", "report.html"};
    for (size_t i = 0; i < 3; i++) {
        char *path = support_printf("%s/%s", f->reports, names[i]);
        if (!capture_exists(path))
            fail_msg("run without --report-dir did not write %s", path);
        free(path);
    }
    capture_cleanup(&r);
    free(good);
}

/* ---- parallel jobs and shards ---- */

/* The issues of doc against spec/results.schema.json, one per line ("" when valid; the caller
 * frees). */
static char *results_issues(const json_t *doc)
{
    struct schema *schema = NULL;
    struct oms_err err = {0};
    if (schema_load(support_path("spec/results.schema.json"), &schema, &err) != 0)
        fail_msg("spec/results.schema.json does not load: %s", err.message);
    struct schema_issue issues[8];
    size_t n = schema_validate(schema, doc, issues, 8);
    schema_destroy(schema);
    struct oms_buf out;
    oms_buf_init(&out, 0);
    for (size_t i = 0; i < n && i < 8; i++)
        oms_buf_printf(&out, "%s: %s\n", issues[i].path, issues[i].message);
    return oms_buf_take(&out, NULL);
}

/* Fails unless doc (a results.json) satisfies spec/results.schema.json. */
static void expect_valid_results(const json_t *doc, const char *what)
{
    char *issues = results_issues(doc);
    if (issues[0])
        fail_msg("%s: results.json does not satisfy spec/results.schema.json:\n%s", what, issues);
    free(issues);
}

/* Runs the bundled suite with --jobs N into dir and returns results.json (new reference), which
 * must satisfy its schema. */
static json_t *run_bundled(const char *jobs, const char *dir)
{
    struct capture r;
    HARNESS(&r, "run", "--quiet", "--jobs", jobs, "--report-dir", dir);
    if (r.code != 0 && r.code != 1)
        expect_code(&r, 0, "run the bundled suite");
    capture_cleanup(&r);
    char *path = support_printf("%s/results.json", dir);
    json_t *doc = load_json(path);
    free(path);
    expect_valid_results(doc, "the bundled suite");
    return doc;
}

/* results.json of a run with every outcome and a known failure satisfies its schema; the schema
 * is not vacuous: a verdict it does not list, a missing count, an unknown key, a known-failure
 * status it does not list are each refused where they are. */
static void test_results_json_satisfies_its_schema(void **state)
{
    struct workspace *f = *state;
    free(workspace_write_scenario(f, NULL, "a-pass.json", "cli: passes", 1, 0));
    free(workspace_write_scenario(f, NULL, "b-fail.json", "cli: fails", 1, 7));
    free(workspace_write_scenario(f, NULL, "c-error.json", "cli: errors", 5, 0));
    free(workspace_write_scenario(f, NULL, "d-known.json", "cli: known", 1, 7));
    char *known = support_printf("%s/known.json", f->dir);
    capture_write_file(known, "[{\"id\": \"d-known\", \"reason\": \"r\", \"issue\": \"#1\"}]");
    struct capture r;
    HARNESS(&r, "run", "--known-failures", known, "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 1, "a mixed run");
    capture_cleanup(&r);
    char *path = support_printf("%s/results.json", f->reports);
    json_t *doc = load_json(path);
    expect_valid_results(doc, "a mixed run");
    static const struct {
        const char *member; /* of scenarios[0] or summary */
        const char *patch;  /* JSON merged in */
        const char *issue;  /* where the schema says no */
    } mutations[] = {
        {"scenario", "{\"outcome\": \"bogus\"}", "$.scenarios[0].outcome: expected one of"},
        {"scenario", "{\"extra\": 1}", "$.scenarios[0].extra: unknown key"},
        {"scenario", "{\"known_failure\": {\"status\": \"maybe\", \"reason\": \"r\"}}",
         "$.scenarios[0].known_failure.status: expected one of"},
        {"summary", "{\"total\": null}", "$.summary: missing required key \"total\""},
        {"summary", "{\"fixed\": -1}", "$.summary.fixed: expected at least 0"},
    };
    for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
        json_t *copy = json_deep_copy(doc);
        json_t *target = strcmp(mutations[i].member, "summary") == 0
                             ? json_object_get(copy, "summary")
                             : json_array_get(json_object_get(copy, "scenarios"), 0);
        json_t *patch = support_parse(mutations[i].patch);
        oms_json_merge(target, patch);
        char *issues = results_issues(copy);
        if (!strstr(issues, mutations[i].issue))
            fail_msg("%s: the schema should say \"%s\", said:\n%s", mutations[i].patch,
                     mutations[i].issue, issues);
        free(issues);
        json_decref(patch);
        json_decref(copy);
    }
    json_decref(doc);
    free(path);
    free(known);
}

/* The scenario result of file in results.json's scenarios (borrowed), or NULL. */
static json_t *result_of(const json_t *results, const char *file)
{
    return support_find_string(json_object_get(results, "scenarios"), "file", file);
}

/* --jobs 2 gives every bundled scenario the verdict --jobs 1 gives it, reports them in the suite's
 * order, and runs exactly the scenarios `list` shows. */
static void test_jobs_2_same_verdicts_as_jobs_1(void **state)
{
    struct workspace *f = *state;
    struct list all = harness_list(NULL);
    char *dir1 = support_printf("%s/jobs1", f->dir);
    char *dir2 = support_printf("%s/jobs2", f->dir);
    json_t *one = run_bundled("1", dir1);
    json_t *two = run_bundled("2", dir2);
    json_t *s1 = json_object_get(one, "scenarios");
    json_t *s2 = json_object_get(two, "scenarios");
    assert_int_equal(json_array_size(s1), all.count);
    assert_int_equal(json_array_size(s2), all.count);
    for (size_t i = 0; i < all.count; i++) {
        const char *file = all.items[i];
        json_t *a = result_of(one, file), *b = result_of(two, file);
        if (!a || !b)
            fail_msg("%s has no result with --jobs %s", file, a ? "2" : "1");
        const char *oa = json_string_value(json_object_get(a, "outcome"));
        const char *ob = json_string_value(json_object_get(b, "outcome"));
        if (strcmp(oa, ob) != 0)
            fail_msg("%s: %s with --jobs 1, %s with --jobs 2 (error: %s)", file, oa, ob,
                     json_string_value(json_object_get(strcmp(oa, "passed") ? a : b, "error")));
        /* Fixed slots: the report keeps the suite's order whichever job finished first. */
        const char *at1 = json_string_value(json_object_get(json_array_get(s1, i), "file"));
        const char *at2 = json_string_value(json_object_get(json_array_get(s2, i), "file"));
        if (strcmp(at1, file) != 0 || strcmp(at2, file) != 0)
            fail_msg("result %zu is %s (--jobs 1) and %s (--jobs 2), the suite's is %s", i, at1,
                     at2, file);
    }
    json_t *sum1 = json_object_get(one, "summary"), *sum2 = json_object_get(two, "summary");
    support_assert_json_equal(sum2, sum1);
    json_decref(one);
    json_decref(two);
    free(dir1);
    free(dir2);
    list_free(&all);
}

/* --shard I/3: the three shards are disjoint, their union is the whole `list`, sizes differ by at
 * most one; and `run --shard` runs what `list --shard` shows. */
static void test_shards_partition_the_list(void **state)
{
    struct workspace *f = *state;
    struct list all = harness_list(NULL);
    struct list shard[3];
    shard[0] = LIST("--shard", "1/3");
    shard[1] = LIST("--shard", "2/3");
    shard[2] = LIST("--shard", "3/3");
    struct list merged = {0};
    size_t smallest = all.count, largest = 0;
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < shard[k].count; i++) {
            const char *file = shard[k].items[i];
            if (!list_has(&all, file))
                fail_msg("shard %zu/3 lists %s, which the whole list does not", k + 1, file);
            for (size_t o = 0; o < 3; o++)
                if (o != k && list_has(&shard[o], file))
                    fail_msg("%s is in shards %zu/3 and %zu/3", file, k + 1, o + 1);
            list_add(&merged, file, strlen(file));
        }
        smallest = shard[k].count < smallest ? shard[k].count : smallest;
        largest = shard[k].count > largest ? shard[k].count : largest;
    }
    expect_same_files(&merged, &all, "the union of the three shards");
    assert_true(largest - smallest <= 1);

    char *dir = support_printf("%s/shard2", f->dir);
    struct capture r;
    HARNESS(&r, "run", "--quiet", "--shard", "2/3", "--report-dir", dir);
    if (r.code != 0 && r.code != 1)
        expect_code(&r, 0, "run --shard 2/3");
    capture_cleanup(&r);
    char *path = support_printf("%s/results.json", dir);
    json_t *doc = load_json(path);
    struct list ran = {0};
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "scenarios"), i, s)
    {
        const char *file = json_string_value(json_object_get(s, "file"));
        list_add(&ran, file, strlen(file));
    }
    expect_same_files(&ran, &shard[1], "run --shard 2/3 against list --shard 2/3");
    json_decref(doc);
    free(path);
    free(dir);
    list_free(&ran);
    list_free(&merged);
    for (size_t k = 0; k < 3; k++)
        list_free(&shard[k]);
    list_free(&all);
}

/* ---- selection ---- */

/* What a selection keeps, decided from the files themselves. */
struct selection {
    const char *tag, *tag2;   /* NULL: no --tag; tag2: a second --tag */
    const char *rule, *rule2; /* NULL: no --rule */
    const char *contains;     /* --filter "*<contains>*" on name or file */
    const char *id;           /* NULL: no --id */
    const char *no_tag;       /* --exclude of a tag, a rule, an id, a folder ("scenarios/x/") */
    const char *no_rule;
    const char *no_id;
    const char *no_folder;
};

static int selected(const json_t *doc, const char *file, const struct selection *sel)
{
    const json_t *tags = json_object_get(doc, "tags");
    const json_t *rules = json_object_get(doc, "rules");
    const char *name = json_string_value(json_object_get(doc, "name"));
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (sel->id && strcmp(id, sel->id) != 0)
        return 0;
    if ((sel->no_tag && json_has_string(tags, sel->no_tag)) ||
        (sel->no_rule && json_has_string(rules, sel->no_rule)) ||
        (sel->no_id && strcmp(id, sel->no_id) == 0) ||
        (sel->no_folder && strncmp(file, sel->no_folder, strlen(sel->no_folder)) == 0))
        return 0;
    if (sel->tag && !json_has_string(tags, sel->tag) &&
        !(sel->tag2 && json_has_string(tags, sel->tag2)))
        return 0;
    if (sel->rule && !json_has_string(rules, sel->rule) &&
        !(sel->rule2 && json_has_string(rules, sel->rule2)))
        return 0;
    if (sel->contains && !strstr(name, sel->contains) && !strstr(file, sel->contains))
        return 0;
    return 1;
}

/* Compares `list` with the options against the selection computed from every bundled file. */
static void expect_selection(const struct list *all, json_t *const *docs,
                             const struct selection *sel, const char *const *options,
                             const char *what)
{
    struct list want = {0};
    for (size_t i = 0; i < all->count; i++)
        if (selected(docs[i], all->items[i], sel))
            list_add(&want, all->items[i], strlen(all->items[i]));
    if (want.count == 0)
        fail_msg("%s selects no bundled scenario: choose another example", what);
    struct list got = harness_list(options);
    expect_same_files(&got, &want, what);
    list_free(&got);
    list_free(&want);
}

/* --filter, --tag, --rule, --id and --exclude (each repeatable where documented, and together:
 * AND; tags, rules and ids in any case) select what `list` shows, judged against the rules, tags
 * and names in the files; each line shows the file's name, rules and id. */
static void test_list_selection_matches_the_files(void **state)
{
    (void)state;
    struct capture r;
    HARNESS(&r, "list");
    expect_code(&r, 0, "list");
    struct list all = list_files(r.out);
    assert_true(all.count > 0);
    json_t **docs = calloc(all.count, sizeof(*docs));
    assert_non_null(docs);
    const char *tag = NULL, *tag2 = NULL;
    for (size_t i = 0; i < all.count; i++) {
        docs[i] = load_json(all.items[i]);
        /* The line: file, name, rules joined by commas, id. */
        char *line = support_printf("%s\t%s\t", all.items[i],
                                    json_string_value(json_object_get(docs[i], "name")));
        size_t k;
        json_t *rule;
        json_array_foreach(json_object_get(docs[i], "rules"), k, rule)
        {
            char *longer = support_printf("%s%s%s", line, k ? "," : "", json_string_value(rule));
            free(line);
            line = longer;
        }
        /* The bundled scenarios carry their file name as "id". */
        char *full =
            support_printf("%s\t%s\n", line, json_string_value(json_object_get(docs[i], "id")));
        expect_in(r.out, full, "stdout", "list");
        free(full);
        free(line);
        /* Two different tags to select with: the first scenario's first, and another. */
        json_t *tags = json_object_get(docs[i], "tags");
        json_array_foreach(tags, k, rule)
        {
            const char *t = json_string_value(rule);
            if (!tag)
                tag = t;
            else if (!tag2 && strcmp(t, tag) != 0 && !json_has_string(tags, tag))
                tag2 = t;
        }
    }
    capture_cleanup(&r);
    assert_non_null(tag);
    assert_non_null(tag2);

    struct selection by_tag = {.tag = tag};
    expect_selection(&all, docs, &by_tag, (const char *const[]){"--tag", tag, NULL}, "--tag");
    struct selection by_tags = {.tag = tag, .tag2 = tag2};
    expect_selection(&all, docs, &by_tags, (const char *const[]){"--tag", tag, "--tag", tag2, NULL},
                     "--tag twice");
    struct selection by_rule = {.rule = "C-7"};
    expect_selection(&all, docs, &by_rule, (const char *const[]){"--rule", "C-7", NULL},
                     "--rule C-7");
    struct selection by_rules = {.rule = "C-7", .rule2 = "E-2"};
    expect_selection(&all, docs, &by_rules,
                     (const char *const[]){"--rule", "C-7", "--rule", "E-2", NULL},
                     "--rule C-7 --rule E-2");
    struct selection by_folder = {.contains = "/errors/"};
    expect_selection(&all, docs, &by_folder, (const char *const[]){"--filter", "*/errors/*", NULL},
                     "--filter */errors/*");
    struct selection by_name = {.contains = "Omnitron"};
    expect_selection(&all, docs, &by_name, (const char *const[]){"--filter", "*Omnitron*", NULL},
                     "--filter *Omnitron*");
    struct selection both = {.tag = tag, .rule = "E-1"};
    struct list want = {0};
    for (size_t i = 0; i < all.count; i++)
        if (selected(docs[i], all.items[i], &both))
            list_add(&want, all.items[i], strlen(all.items[i]));
    struct list got = harness_list((const char *const[]){"--tag", tag, "--rule", "E-1", NULL});
    expect_same_files(&got, &want, "--tag with --rule");
    list_free(&got);
    list_free(&want);

    /* Rule ids and tags in any case; --id; --exclude of each kind, with and without a prefix. */
    char *upper = strdup(tag);
    for (char *p = upper; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    expect_selection(&all, docs, &by_rule, (const char *const[]){"--rule", "c-7", NULL},
                     "--rule c-7");
    expect_selection(&all, docs, &by_tag, (const char *const[]){"--tag", upper, NULL},
                     "--tag in upper case");
    const char *id = json_string_value(json_object_get(docs[3], "id"));
    const char *id2 = json_string_value(json_object_get(docs[5], "id"));
    struct selection by_id = {.id = id};
    expect_selection(&all, docs, &by_id, (const char *const[]){"--id", id, NULL}, "--id");
    struct selection no_tag = {.no_tag = tag};
    char *prefixed = support_printf("tag:%s", tag);
    expect_selection(&all, docs, &no_tag, (const char *const[]){"--exclude", prefixed, NULL},
                     "--exclude tag:TAG");
    expect_selection(&all, docs, &no_tag, (const char *const[]){"--exclude", tag, NULL},
                     "--exclude TAG");
    struct selection no_rule = {.no_rule = "C-11"};
    expect_selection(&all, docs, &no_rule, (const char *const[]){"--exclude", "C-11", NULL},
                     "--exclude C-11");
    expect_selection(&all, docs, &no_rule, (const char *const[]){"--exclude", "rule:c-11", NULL},
                     "--exclude rule:c-11");
    struct selection no_id = {.no_id = id2};
    char *id_prefixed = support_printf("id:%s", id2);
    expect_selection(&all, docs, &no_id, (const char *const[]){"--exclude", id_prefixed, NULL},
                     "--exclude id:ID");
    expect_selection(&all, docs, &no_id, (const char *const[]){"--exclude", id2, NULL},
                     "--exclude ID");
    /* The quota folder as list names it (relative or absolute, as the harness found it). */
    char *folder = NULL;
    for (size_t i = 0; i < all.count && !folder; i++)
        if (strstr(all.items[i], "/quota/"))
            folder =
                strndup(all.items[i], (size_t)(strstr(all.items[i], "/quota/") - all.items[i]) + 6);
    assert_non_null(folder);
    char *slashed = support_printf("%s/", folder), *as_path = support_printf("path:%s/.", folder);
    struct selection no_folder = {.no_folder = slashed};
    expect_selection(&all, docs, &no_folder, (const char *const[]){"--exclude", folder, NULL},
                     "--exclude FOLDER");
    expect_selection(&all, docs, &no_folder, (const char *const[]){"--exclude", as_path, NULL},
                     "--exclude path:FOLDER/.");
    free(folder);
    free(slashed);
    free(as_path);
    /* --tag with --exclude of a rule that some, not all, of the tagged scenarios exercise. */
    static const char *const rules[] = {"C-2", "C-6", "C-7", "C-9", "C-11", "E-1", "O-2", "Q-2"};
    const char *cut = NULL;
    for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]) && !cut; k++) {
        size_t with = 0, without = 0;
        for (size_t i = 0; i < all.count; i++) {
            struct selection t = {.tag = tag}, m = {.tag = tag, .no_rule = rules[k]};
            with += (size_t)selected(docs[i], all.items[i], &t);
            without += (size_t)selected(docs[i], all.items[i], &m);
        }
        if (without > 0 && without < with)
            cut = rules[k];
    }
    assert_non_null(cut);
    struct selection mixed = {.tag = tag, .no_rule = cut};
    char *rule_prefixed = support_printf("rule:%s", cut);
    expect_selection(&all, docs, &mixed,
                     (const char *const[]){"--tag", tag, "--exclude", rule_prefixed, NULL},
                     "--tag with --exclude");
    free(rule_prefixed);
    free(upper);
    free(prefixed);
    free(id_prefixed);

    for (size_t i = 0; i < all.count; i++)
        json_decref(docs[i]);
    free(docs);
    list_free(&all);
}

/* list --rules: a line per rule of spec/rules.json, in its order, with the number of selected
 * scenarios exercising it (counted from the files), its title and its basis when it has one. */
static void test_list_rules_counts_the_selected_scenarios(void **state)
{
    (void)state;
    json_t *catalogue_doc = load_json(support_path("spec/rules.json"));
    json_t *catalogue = json_object_get(catalogue_doc, "rules");
    assert_true(json_array_size(catalogue) > 0);
    struct list all = harness_list(NULL);
    for (int pass = 0; pass < 2; pass++) {
        const char *tag = pass ? "webhooks" : NULL;
        struct capture r;
        if (tag)
            HARNESS(&r, "list", "--rules", "--tag", tag);
        else
            HARNESS(&r, "list", "--rules");
        expect_code(&r, 0, "list --rules");
        assert_int_equal(count_of(r.out, "\n"), json_array_size(catalogue));
        const char *at = r.out;
        size_t i;
        json_t *rule;
        json_array_foreach(catalogue, i, rule)
        {
            const char *id = json_string_value(json_object_get(rule, "id"));
            size_t n = 0;
            for (size_t k = 0; k < all.count; k++) {
                json_t *doc = load_json(all.items[k]);
                if ((!tag || json_has_string(json_object_get(doc, "tags"), tag)) &&
                    json_has_string(json_object_get(doc, "rules"), id))
                    n++;
                json_decref(doc);
            }
            const json_t *basis = json_object_get(rule, "basis");
            char *line = support_printf("%s\t%zu\t%s%s%s\n", id, n,
                                        json_string_value(json_object_get(rule, "title")),
                                        json_is_string(basis) ? "\t" : "",
                                        json_is_string(basis) ? json_string_value(basis) : "");
            const char *found = strstr(at, line);
            if (!found || (!json_is_string(basis) && basis))
                found = basis ? strstr(at, id) : found; /* other basis forms: test_commands */
            if (!found)
                fail_msg("list --rules%s lacks \"%s\" after the previous rule:\n%s",
                         tag ? " --tag webhooks" : "", line, r.out);
            at = found + 1; /* the catalogue's order */
            free(line);
        }
        capture_cleanup(&r);
    }
    list_free(&all);
    json_decref(catalogue_doc);
}

/* An empty selection exits 2 for run and list, writes no report, and says what each value
 * missed with the nearest one that exists; a combination that is empty says how much each option
 * took. A value that misses in a selection that is not empty is a warning. */
static void test_empty_selection_exits_2_with_suggestions(void **state)
{
    struct workspace *f = *state;
    static const struct {
        const char *args[8];
        const char *mention;
    } cases[] = {
        {{"run", "--tag", "webhok", NULL},
         "no scenario has tag \"webhok\"; did you mean "
         "\"webhooks\"?"},
        {{"list", "--tag", "nosuchtag", NULL}, "no scenario has tag \"nosuchtag\"\n"},
        {{"run", "--rule", "C-99", NULL},
         "no scenario exercises rule \"C-99\", which is not a "
         "rule of the catalogue (spec/rules.json); did you mean "
         "\"C-9\"?"},
        {{"run", "--rule", "Q-01", NULL}, "did you mean \"Q-1\"?"},
        {{"run", "--id", "waiting-source-frees-on", NULL},
         "no scenario has id \"waiting-source-frees-on\"; did you mean "
         "\"waiting-source-frees-one-slot\"?"},
        {{"list", "--filter", "no scenario is called this", NULL},
         "no scenario name or file matches --filter \"no scenario is called this\""},
        {{"run", "--tag", "webhooks", "--rule", "C-3", NULL},
         "no scenario meets every selection option together (of 117: "},
        {{"run", "--exclude", "path:scenarios", NULL}, "0 left by --exclude)"},
        {{"run", "scenarios/quot", NULL},
         "scenarios/quot: no such file or directory; did you "
         "mean \"scenarios/quota\"?"},
    };
    struct capture_options in_repo = {.cwd = REFUND_SOURCE_DIR};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *args[12];
        size_t n = 0;
        for (; cases[i].args[n]; n++)
            args[n] = cases[i].args[n];
        if (strcmp(args[0], "run") == 0) {
            args[n++] = "--report-dir";
            args[n++] = f->reports;
        }
        args[n] = NULL;
        struct capture r;
        harness(&r, &in_repo, args);
        char what[160];
        snprintf(what, sizeof(what), "%s %s %s", args[0], args[1], args[2] ? args[2] : "");
        expect_code(&r, 2, what);
        expect_in(r.err, cases[i].mention, "stderr", what);
        expect_not_in(r.out, "scenario(s):", "stdout", what);
        expect_not_in(r.out, ".json\t", "stdout", what);
        if (capture_exists(f->reports))
            fail_msg("%s wrote reports", what);
        capture_cleanup(&r);
    }
    /* Not empty: a warning, and the rest runs. */
    struct capture r;
    HARNESS_OPT(&r, &in_repo, "list", "--tag", "webhooks", "--tag", "webhok", "--exclude",
                "tag:slwo");
    expect_code(&r, 0, "list with one tag missing");
    expect_in(r.err,
              "refund-harness: warning: no scenario has tag \"webhok\"; did you mean "
              "\"webhooks\"?",
              "stderr", "list with one tag missing");
    expect_in(r.err, "refund-harness: warning: --exclude \"tag:slwo\" matches no scenario",
              "stderr", "list with one tag missing");
    expect_in(r.out, ".json\t", "stdout", "list with one tag missing");
    capture_cleanup(&r);
    HARNESS(&r, "list", "--exclude", "tagg:slow");
    expect_code(&r, 2, "--exclude tagg:slow");
    expect_in(r.err, "\"tagg\" is none of tag:, rule:, id:, path: (did you mean \"tag\"?)",
              "stderr", "--exclude tagg:slow");
    capture_cleanup(&r);
}

/* --strict: --rule C-7 selects scenarios that pass but leave other SPEC rules uncovered, so the
 * run exits 1 and names each uncovered rule - exactly results.json's "uncovered"; without --strict
 * the same selection exits 0. */
static void test_strict_fails_when_a_rule_is_uncovered(void **state)
{
    struct workspace *f = *state;
    struct list c7 = LIST("--rule", "C-7");
    assert_true(c7.count > 0);
    struct capture r;
    HARNESS(&r, "run", "--rule", "C-7", "--quiet", "--no-reports");
    expect_code(&r, 0, "run --rule C-7");
    capture_cleanup(&r);

    HARNESS(&r, "run", "--rule", "C-7", "--strict", "--quiet", "--report-dir", f->reports);
    expect_code(&r, 1, "run --rule C-7 --strict");
    char summary[96];
    snprintf(summary, sizeof(summary), "%zu scenario(s): %zu passed, 0 noted, 0 failed", c7.count,
             c7.count);
    expect_in(r.out, summary, "stdout", "run --rule C-7 --strict");
    char *path = support_printf("%s/results.json", f->reports);
    json_t *doc = load_json(path);
    json_t *uncovered = json_object_get(doc, "uncovered");
    assert_true(json_array_size(uncovered) > 0);
    assert_false(json_has_string(uncovered, "C-7"));
    size_t i;
    json_t *rule;
    json_array_foreach(uncovered, i, rule)
    {
        char *line = support_printf("strict: SPEC rule %s is exercised by no selected scenario\n",
                                    json_string_value(rule));
        expect_in(r.err, line, "stderr", "run --rule C-7 --strict");
        free(line);
    }
    assert_int_equal(count_of(r.err, "strict: SPEC rule "), json_array_size(uncovered));
    json_decref(doc);
    free(path);
    capture_cleanup(&r);
    list_free(&c7);
}

/* --fail-fast: the first scenario fails, so with one job nothing after it runs: one scenario in
 * results.json of five selected; without the option all five run. */
static void test_fail_fast_stops_after_the_first_failure(void **state)
{
    struct workspace *f = *state;
    char *paths[5];
    paths[0] = workspace_write_scenario(f, NULL, "a-wrong.json", "cli: wrong first", 1, 7);
    for (int i = 1; i < 5; i++) {
        char file[32], name[32];
        snprintf(file, sizeof(file), "b-good-%d.json", i);
        snprintf(name, sizeof(name), "cli: good %d", i);
        paths[i] = workspace_write_scenario(f, NULL, file, name, 1, 0);
    }
    char *path = support_printf("%s/results.json", f->reports);
    struct capture r;
    HARNESS(&r, "run", "--fail-fast", "--jobs", "1", "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 1, "run --fail-fast");
    expect_in(r.out, "1 scenario(s): 0 passed, 0 noted, 1 failed", "stdout", "run --fail-fast");
    json_t *doc = load_json(path);
    json_t *scenarios = json_object_get(doc, "scenarios");
    assert_int_equal(json_array_size(scenarios), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(scenarios, 0), "file")),
                        paths[0]);
    json_decref(doc);
    capture_cleanup(&r);

    HARNESS(&r, "run", "--jobs", "1", "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 1, "run without --fail-fast");
    expect_in(r.out, "5 scenario(s): 4 passed, 0 noted, 1 failed", "stdout",
              "run without --fail-fast");
    doc = load_json(path);
    assert_int_equal(json_array_size(json_object_get(doc, "scenarios")), 5);
    json_decref(doc);
    capture_cleanup(&r);
    free(path);
    for (int i = 0; i < 5; i++)
        free(paths[i]);
}

/* ---- stable ids ---- */

/* Writes the workspace scenario as dir/file with "id": id inserted after the opening brace (id
 * NULL: none). Returns the path (the caller frees it). */
static char *write_with_id(const struct workspace *f, const char *dir, const char *file,
                           const char *name, const char *id, int expected_quota)
{
    char *text = workspace_scenario_text(name, 1, expected_quota);
    char *with = id ? support_printf("{\n  \"id\": \"%s\",%s", id, text + 1) : strdup(text);
    char *path = support_printf("%s/%s", dir ? dir : f->scenarios, file);
    capture_write_file(path, with);
    free(with);
    free(text);
    return path;
}

/* Two files whose ids collide - by their file names in two folders, or by an explicit "id" - are
 * refused by validate and run, naming both files with the id's place; nothing runs. */
static void test_duplicate_ids_are_refused_naming_both_files(void **state)
{
    struct workspace *f = *state;
    char *a = support_printf("%s/a", f->scenarios), *b = support_printf("%s/b", f->scenarios);
    assert_int_equal(mkdir(a, 0755), 0);
    assert_int_equal(mkdir(b, 0755), 0);
    char *same1 = write_with_id(f, a, "same.json", "cli: same 1", NULL, 0);
    char *same2 = write_with_id(f, b, "same.json", "cli: same 2", NULL, 0);
    char *picked1 = write_with_id(f, NULL, "c.json", "cli: picked 1", "picked", 0);
    char *picked2 = write_with_id(f, NULL, "d.json", "cli: picked 2", "picked", 0);
    char *by_name =
        support_printf("invalid  %s:1:1: at $: the id \"same\" (from the file name; the "
                       "file has no \"id\") is also the id of %s:1:1;",
                       same2, same1);
    char *by_id = support_printf(
        "invalid  %s:2:9: at $.id: the id \"picked\" is also the id of %s:2:9; ids must be unique",
        picked2, picked1);
    struct capture r;
    HARNESS(&r, "validate", f->scenarios);
    expect_code(&r, 2, "validate with duplicate ids");
    expect_in(r.out, "4 file(s): 2 valid, 2 invalid", "stdout", "validate with duplicate ids");
    expect_in(r.err, by_name, "stderr", "validate with duplicate ids");
    expect_in(r.err, by_id, "stderr", "validate with duplicate ids");
    expect_not_in(r.out, same2, "stdout", "validate with duplicate ids");
    capture_cleanup(&r);
    HARNESS(&r, "run", "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 2, "run with duplicate ids");
    expect_in(r.err, "2 invalid scenario file(s); nothing was run", "stderr", "run");
    expect_not_in(r.out, "PASS", "stdout", "run with duplicate ids");
    assert_false(capture_exists(f->reports));
    capture_cleanup(&r);
    free(by_name);
    free(by_id);
    free(same1);
    free(same2);
    free(picked1);
    free(picked2);
    free(a);
    free(b);
}

/* The id, not the file name or the prose name, is what JUnit, results.json and list name. */
static void test_id_names_the_scenario_in_every_report(void **state)
{
    struct workspace *f = *state;
    char *file = write_with_id(f, NULL, "whatever.json", "cli: prose & name", "my-stable-id", 7);
    struct capture r;
    HARNESS(&r, "run", "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 1, "run with an explicit id");
    capture_cleanup(&r);
    char *path = support_printf("%s/junit.xml", f->reports);
    char *xml = capture_read_file(path, NULL);
    assert_non_null(xml);
    expect_in(xml, "<testcase name=\"my-stable-id\" classname=\"", "junit.xml", "explicit id");
    expect_not_in(xml, "testcase name=\"cli: prose", "junit.xml", "explicit id");
    free(xml);
    free(path);
    path = support_printf("%s/results.json", f->reports);
    json_t *doc = load_json(path);
    json_t *s = json_array_get(json_object_get(doc, "scenarios"), 0);
    assert_string_equal(json_string_value(json_object_get(s, "id")), "my-stable-id");
    assert_string_equal(json_string_value(json_object_get(s, "name")), "cli: prose & name");
    json_decref(doc);
    free(path);
    HARNESS(&r, "list", f->scenarios);
    expect_code(&r, 0, "list");
    char *line = support_printf("%s\tcli: prose & name\tC-2\tmy-stable-id\n", file);
    expect_in(r.out, line, "stdout", "list");
    free(line);
    capture_cleanup(&r);
    free(file);
}

/* ---- known failures ---- */

/* Writes the known-failure list text as f->dir/known.json; returns the path (caller frees). */
static char *write_known(const struct workspace *f, const char *text)
{
    char *path = support_printf("%s/known.json", f->dir);
    capture_write_file(path, text);
    return path;
}

/* A listed scenario that fails is a known failure: reported as such on the console, as a skipped
 * test case with the reason in JUnit, in results.json and the HTML report - and the run passes. */
static void test_known_failure_is_reported_and_does_not_fail_the_run(void **state)
{
    struct workspace *f = *state;
    char *wrong = workspace_write_scenario(f, NULL, "a-wrong.json", "cli: wrong", 1, 7);
    char *good = workspace_write_scenario(f, NULL, "b-good.json", "cli: good", 1, 0);
    char *known = write_known(f, "[{\"id\": \"a-wrong\", \"reason\": \"quota bug\", "
                                 "\"issue\": \"https://example.test/issues/1\"}]");
    struct capture r;
    HARNESS(&r, "run", "--known-failures", known, "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 0, "run with a known failure");
    char *line = support_printf("KNOWN  %s  cli: wrong", wrong);
    expect_in(r.out, line, "stdout", "run with a known failure");
    expect_in(r.out, "known failure: quota bug (https://example.test/issues/1)\n", "stdout",
              "run with a known failure");
    expect_in(r.out, "locations.1.quota: expected 7, found 0", "stdout",
              "run with a known failure");
    expect_in(
        r.out,
        "2 scenario(s): 1 passed, 0 noted, 0 failed, 0 error(s), 0 skipped, 1 known failure(s), "
        "0 fixed",
        "stdout", "run with a known failure");
    capture_cleanup(&r);
    free(line);

    char *path = support_printf("%s/junit.xml", f->reports);
    char *xml = capture_read_file(path, NULL);
    expect_in(xml, "tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"1\"", "junit.xml",
              "known failure");
    expect_in(xml, "<skipped message=\"known failure: quota bug (https://example.test/issues/1): ",
              "junit.xml", "known failure");
    expect_not_in(xml, "<failure", "junit.xml", "known failure");
    free(xml);
    free(path);
    path = support_printf("%s/results.json", f->reports);
    json_t *doc = load_json(path);
    json_t *summary = json_object_get(doc, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "failed")), 0);
    assert_int_equal(json_integer_value(json_object_get(summary, "known_failures")), 1);
    assert_int_equal(json_integer_value(json_object_get(summary, "fixed")), 0);
    json_t *a = json_array_get(json_object_get(doc, "scenarios"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "outcome")), "failed");
    json_t *k = json_object_get(a, "known_failure");
    assert_string_equal(json_string_value(json_object_get(k, "status")), "failing");
    assert_string_equal(json_string_value(json_object_get(k, "reason")), "quota bug");
    assert_string_equal(json_string_value(json_object_get(k, "issue")),
                        "https://example.test/issues/1");
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(doc, "scenarios"), 1), "known_failure")));
    json_decref(doc);
    free(path);
    path = support_printf("%s/report.html", f->reports);
    char *html = capture_read_file(path, NULL);
    expect_in(html, "Known failure: quota bug (https://example.test/issues/1)", "report.html",
              "known failure");
    expect_in(html, "<b>1</b>known failures", "report.html", "known failure");
    free(html);
    free(path);

    /* A known failure does not stop --fail-fast: the scenario after it runs. */
    HARNESS(&r, "run", "--known-failures", known, "--fail-fast", "--jobs", "1", "--no-reports",
            f->scenarios);
    expect_code(&r, 0, "run --fail-fast with a known failure first");
    expect_in(r.out, "2 scenario(s): 1 passed", "stdout", "--fail-fast with a known failure");
    capture_cleanup(&r);

    /* A failure that is not listed still fails the run. */
    char *other = workspace_write_scenario(f, NULL, "c-wrong.json", "cli: other", 1, 7);
    HARNESS(&r, "run", "--known-failures", known, "--no-reports", f->scenarios);
    expect_code(&r, 1, "run with a known and an unknown failure");
    expect_in(r.out, "1 passed, 0 noted, 1 failed, 0 error(s), 0 skipped, 1 known failure(s)",
              "stdout", "run with a known and an unknown failure");
    capture_cleanup(&r);
    free(other);
    free(known);
    free(good);
    free(wrong);
}

/* A listed scenario that passes is fixed: the run fails and says to shorten the list; an id that
 * names no scenario is a warning with the nearest id. */
static void test_known_failure_that_passes_fails_the_run(void **state)
{
    struct workspace *f = *state;
    char *good = workspace_write_scenario(f, NULL, "b-good.json", "cli: good", 1, 0);
    char *known = write_known(f, "[\n  {\"id\": \"b-good\", \"reason\": \"flaky once\"},\n"
                                 "  {\"id\": \"b-god\", \"reason\": \"typo\"}\n]\n");
    struct capture r;
    HARNESS(&r, "run", "--known-failures", known, "--report-dir", f->reports, f->scenarios);
    expect_code(&r, 1, "run with a fixed scenario");
    char *line = support_printf("FIXED  %s  cli: good", good);
    expect_in(r.out, line, "stdout", "fixed");
    free(line);
    line = support_printf("listed in %s as a known failure (flaky once) but it passed: remove "
                          "\"b-good\" from the list",
                          known);
    expect_in(r.out, line, "stdout", "fixed");
    free(line);
    expect_in(r.out,
              "1 passed, 0 noted, 0 failed, 0 error(s), 0 skipped, 0 known failure(s), 1 fixed",
              "stdout", "fixed");
    line = support_printf("warning: %s:3:10: known failure \"b-god\" is the id of no scenario "
                          "here; did you mean \"b-good\"?",
                          known);
    expect_in(r.err, line, "stderr", "fixed");
    free(line);
    capture_cleanup(&r);
    char *path = support_printf("%s/junit.xml", f->reports);
    char *xml = capture_read_file(path, NULL);
    expect_in(xml, "failures=\"1\" errors=\"0\" skipped=\"0\"", "junit.xml", "fixed");
    expect_in(xml,
              "<failure message=\"listed as a known failure (flaky once) but it passed: remove it "
              "from the list\" type=\"fixed\">",
              "junit.xml", "fixed");
    free(xml);
    free(path);
    path = support_printf("%s/results.json", f->reports);
    json_t *doc = load_json(path);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "summary"), "fixed")),
                     1);
    json_t *k =
        json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "known_failure");
    assert_string_equal(json_string_value(json_object_get(k, "status")), "fixed");
    json_decref(doc);
    free(path);
    free(known);
    free(good);
}

/* A known-failure file that is not what the schema says is refused with file:line:column and
 * the JSON path, and nothing runs. */
static void test_invalid_known_failure_file_exits_2(void **state)
{
    struct workspace *f = *state;
    char *good = workspace_write_scenario(f, NULL, "b-good.json", "cli: good", 1, 0);
    static const struct {
        const char *text;
        const char *mention;
    } cases[] = {
        {"[{\"id\": \"b-good\", \"reason\": \"x\"},]", "known.json:1:33: invalid JSON: a trailing "
                                                       "comma before ']'"},
        {"[{\"id\": \"b-good\", \"reson\": \"x\"}]", "known.json:1:2: at $[0]: missing required "
                                                     "key \"reason\""},
        {"[{\"id\": \"b-good\", \"reason\": \"x\", \"reson\": 1}]",
         "known.json:1:43: at $[0].reson: unknown key \"reson\" (did you mean \"reason\"?)"},
        {"{\"id\": \"b-good\"}", "known.json:1:1: at $: expected an array, found object"},
        {"[{\"id\": \"B Good\", \"reason\": \"x\"}]", "at $[0].id: \"B Good\" does not match"},
        {"[{\"id\": \"b-good\", \"reason\": \"x\"},\n {\"id\": \"b-good\", \"reason\": \"y\"}]",
         "known.json:2:9: at $[1].id: \"b-good\" is listed twice (first at line 1)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *known = write_known(f, cases[i].text);
        struct capture r;
        HARNESS(&r, "run", "--known-failures", known, "--report-dir", f->reports, f->scenarios);
        expect_code(&r, 2, cases[i].text);
        expect_in(r.err, cases[i].mention, "stderr", cases[i].text);
        expect_not_in(r.out, "PASS", "stdout", cases[i].text);
        assert_false(capture_exists(f->reports));
        capture_cleanup(&r);
        free(known);
    }
    struct capture r;
    HARNESS(&r, "run", "--known-failures", "/nonexistent/known.json", f->scenarios);
    expect_code(&r, 2, "a missing known-failure file");
    expect_in(r.err, "/nonexistent/known.json: cannot open", "stderr", "missing file");
    capture_cleanup(&r);
    free(good);
}

/* ---- usage ---- */

/* Each must exit 2 with a message on stderr that mentions the culprit, and list or run nothing. */
static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    static const struct {
        const char *args[6];
        const char *mention;
    } cases[] = {
        {{"list", "--frobnicate", NULL}, "--frobnicate"},
        {{"list", "--frobnicate", "1", NULL}, "--frobnicate"},
        {{"list", "-x", NULL}, "-x"},
        {{"frobnicate", NULL}, "frobnicate"},
        {{"--quiet", NULL}, "usage:"},
        {{"list", "--shard", "0/3", NULL}, "0/3"},
        {{"list", "--shard", "4/3", NULL}, "4/3"},
        {{"list", "--shard", "1/0", NULL}, "1/0"},
        {{"list", "--shard", "abc", NULL}, "abc"},
        {{"list", "--shard", "1/3x", NULL}, "1/3x"},
        {{"list", "--shard", "2", NULL}, "--shard"},
        {{"list", "--shard", "/3", NULL}, "/3"},
        {{"list", "--shard", "-1/3", NULL}, "-1/3"},
        {{"list", "--shard", NULL}, "--shard"},
        {{"run", "--jobs", "0", NULL}, "--jobs"},
        {{"run", "--jobs", "65", NULL}, "--jobs"},
        {{"run", "--jobs", "two", NULL}, "--jobs"},
        {{"run", "--report-dir", NULL}, "--report-dir"},
        {{"run", "/nonexistent/scenario.json", NULL}, "/nonexistent/scenario.json"},
        {{"run", "--wait-for-target", "3s", NULL}, "--wait-for-target goes with --target"},
        {{"run", "--target", "http://127.0.0.1:1", "--wait-for-target", "soon", NULL},
         "--wait-for-target expects a duration such as 30s"},
        {{"run", "--target", "http://127.0.0.1:1", "--wait-for-target", "0s", NULL}, "got \"0s\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capture r;
        harness(&r, NULL, cases[i].args);
        char what[160];
        snprintf(what, sizeof(what), "refund-harness %s %s %s", cases[i].args[0],
                 cases[i].args[1] ? cases[i].args[1] : "",
                 cases[i].args[1] && cases[i].args[2] ? cases[i].args[2] : "");
        expect_code(&r, 2, what);
        expect_in(r.err, cases[i].mention, "stderr", what);
        expect_not_in(r.out, ".json\t", "stdout", what);
        expect_not_in(r.out, "scenario(s):", "stdout", what);
        capture_cleanup(&r);
    }
}

/* Values --shard must refuse that sscanf("%u") wraps into range: "1/-3" is read as shard 1 of
 * 4294967293, "2/4294967298" as 2/2, "4294967297/3" as 1/3. */
static void test_shard_rejects_negative_and_overflowing_numbers(void **state)
{
    (void)state;
    static const char *const values[] = {"1/-3", "2/4294967298", "4294967297/3"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        struct capture r;
        HARNESS(&r, "list", "--shard", values[i]);
        char what[64];
        snprintf(what, sizeof(what), "list --shard %s", values[i]);
        expect_code(&r, 2, what);
        expect_in(r.err, values[i], "stderr", what);
        capture_cleanup(&r);
    }
}

/* A usage error after a repeatable option still exits 2 and frees what the options collected (in a
 * sanitizer build a leak report would turn the exit code into LeakSanitizer's). */
static void test_usage_error_after_tag_or_rule_exits_2(void **state)
{
    (void)state;
    static const struct {
        const char *args[6];
        const char *what;
    } cases[] = {
        {{"list", "--tag", "x", "--frobnicate", NULL}, "list --tag x --frobnicate"},
        {{"list", "--rule", "C-7", "--shard", "0/3", NULL}, "list --rule C-7 --shard 0/3"},
        {{"list", "--rule", "C-7", "/nonexistent/scenario.json", NULL},
         "list --rule C-7 /nonexistent/scenario.json"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capture r;
        harness(&r, NULL, cases[i].args);
        expect_code(&r, 2, cases[i].what);
        expect_not_in(r.err, "LeakSanitizer", "stderr", cases[i].what);
        capture_cleanup(&r);
    }
}

/* A short option given as the last argument names itself, not "(null)". */
static void test_missing_value_of_short_option_is_named(void **state)
{
    (void)state;
    struct capture r;
    HARNESS(&r, "list", "-j");
    expect_code(&r, 2, "list -j");
    expect_not_in(r.err, "(null)", "stderr", "list -j");
    expect_in(r.err, "-j", "stderr", "list -j");
    capture_cleanup(&r);
}

/* 1 when a help text has a line for option name: "  NAME" then a space, a comma or the end. */
static int help_lists(const char *help, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(help, name); p; p = strstr(p + 1, name)) {
        int at_line_start = p - help >= 3 && p[-1] == ' ' && p[-2] == ' ' && p[-3] == '\n';
        if (at_line_start && (p[n] == ' ' || p[n] == ',' || p[n] == '\n'))
            return 1;
    }
    return 0;
}

/* --help and -h alone: exit 0 with the overview on stdout naming every subcommand; --version. */
static void test_help_exits_0(void **state)
{
    (void)state;
    size_t ncommands;
    const struct cli_command *commands = cli_commands(&ncommands);
    assert_int_equal(ncommands, 6);
    static const char *const flags[] = {"--help", "-h"};
    for (size_t k = 0; k < 2; k++) {
        struct capture r;
        HARNESS(&r, flags[k]);
        expect_code(&r, 0, flags[k]);
        expect_in(r.out, "usage: refund-harness COMMAND", "stdout", flags[k]);
        for (size_t i = 0; i < ncommands; i++) {
            char *line = support_printf("\n  %s ", commands[i].name);
            expect_in(r.out, line, "stdout", flags[k]);
            free(line);
        }
        expect_in(r.out, "COMMAND --help", "stdout", flags[k]);
        if (r.err_len)
            fail_msg("%s printed on stderr: %s", flags[k], r.err);
        capture_cleanup(&r);
    }
    struct capture r;
    HARNESS(&r, "--version");
    expect_code(&r, 0, "--version");
    expect_in(r.out, "refund-harness ", "stdout", "--version");
    capture_cleanup(&r);
}

/* Each subcommand's --help (and -h) is its own: its usage line, a line for every option the
 * parser accepts for it (the table cli_options), and none for an option it refuses - so run's
 * help and validate's differ, and every option the parser takes is documented where it is taken. */
static void test_each_subcommand_has_its_own_help(void **state)
{
    (void)state;
    size_t ncommands, noptions;
    const struct cli_command *commands = cli_commands(&ncommands);
    const struct cli_option *options = cli_options(&noptions);
    char *texts[8] = {0};
    for (size_t i = 0; i < ncommands; i++) {
        for (int k = 0; k < 2; k++) {
            struct capture r;
            const char *flag = k ? "-h" : "--help";
            char what[64];
            snprintf(what, sizeof(what), "%s %s", commands[i].name, flag);
            HARNESS(&r, commands[i].name, flag);
            expect_code(&r, 0, what);
            char *usage = support_printf("usage: refund-harness %s ", commands[i].name);
            if (strncmp(r.out, usage, strlen(usage)) != 0)
                fail_msg("%s: stdout does not start with \"%s\":\n%s", what, usage, r.out);
            free(usage);
            for (size_t o = 0; o < noptions; o++) {
                int taken = (options[o].commands & CLI_ON(commands[i].id)) != 0;
                if (taken != help_lists(r.out, options[o].name))
                    fail_msg("%s: %s %s:\n%s", what, options[o].name,
                             taken ? "is accepted but not in the help" : "is refused but listed",
                             r.out);
                if (taken && options[o].alias && !strstr(r.out, options[o].alias))
                    fail_msg("%s: the alias %s is not in the help", what, options[o].alias);
            }
            expect_in(r.out, "--help", "stdout", what);
            if (k == 0)
                texts[i] = strdup(r.out);
            capture_cleanup(&r);
        }
    }
    for (size_t i = 0; i < ncommands; i++)
        for (size_t j = i + 1; j < ncommands; j++)
            if (strcmp(texts[i], texts[j]) == 0)
                fail_msg("%s --help and %s --help print the same text", commands[i].name,
                         commands[j].name);
    for (size_t i = 0; i < ncommands; i++)
        free(texts[i]);
}

/* The option as groff writes it in the man page: every "-" escaped ("\\-\\-jobs"). */
static char *groff(const char *option)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    for (const char *p = option; *p; p++)
        oms_buf_puts(&b, *p == '-' ? "\\-" : (char[]){*p, '\0'});
    return oms_buf_take(&b, NULL);
}

/* 1 when the man page has an entry for the (escaped) option: a line after ".TP" that starts
 * with a font macro and names it as a whole word. */
static int man_entry(const char *man, const char *escaped)
{
    size_t n = strlen(escaped);
    for (const char *p = strstr(man, escaped); p; p = strstr(p + 1, escaped)) {
        const char *line = p;
        while (line > man && line[-1] != '\n')
            line--;
        int whole = p[n] == ' ' || p[n] == '\n' || p[n] == '"';
        if (whole && line[0] == '.' && line[1] == 'B' && line - man >= 4 &&
            strncmp(line - 4, ".TP\n", 4) == 0)
            return 1;
    }
    return 0;
}

/* The man page covers every subcommand (in the synopsis and with a paragraph of its own) and
 * every option and alias the parser accepts (the table cli_options), and --help and --version. */
static void test_man_page_covers_every_command_and_option(void **state)
{
    (void)state;
    char *man = capture_read_file(support_path("docs/refund-harness.1"), NULL);
    assert_non_null(man);
    size_t ncommands, noptions;
    const struct cli_command *commands = cli_commands(&ncommands);
    const struct cli_option *options = cli_options(&noptions);
    for (size_t i = 0; i < ncommands; i++) {
        char *synopsis = support_printf("\n.B refund-harness %s\n", commands[i].name);
        char *paragraph = support_printf("\n.TP\n.B %s\n", commands[i].name);
        if (!strstr(man, synopsis) || !strstr(man, paragraph))
            fail_msg("docs/refund-harness.1 lacks the subcommand %s (\"%s\" and \"%s\")",
                     commands[i].name, synopsis, paragraph);
        free(synopsis);
        free(paragraph);
    }
    for (size_t i = 0; i <= noptions + 1; i++) {
        const char *name = i < noptions ? options[i].name : i == noptions ? "--help" : "--version";
        const char *alias = i < noptions ? options[i].alias : i == noptions ? "-h" : NULL;
        char *escaped = groff(name);
        if (!man_entry(man, escaped))
            fail_msg("docs/refund-harness.1 has no entry (.TP) for %s (as %s)", name, escaped);
        free(escaped);
        if (alias) {
            char *g = groff(alias);
            char *b = support_printf(".BR %s \"", g);
            if (!strstr(man, b))
                fail_msg("docs/refund-harness.1 does not document the alias %s", alias);
            free(g);
            free(b);
        }
    }
    free(man);
}

/* Mistyped options and commands get the nearest real one; an option of another subcommand is
 * named as such; --name=value works like --name value; a flag refuses a value. */
static void test_unknown_options_and_commands_get_suggestions(void **state)
{
    struct workspace *f = *state;
    static const struct {
        const char *args[5];
        const char *mention;
    } cases[] = {
        {{"run", "--jbos", "2", NULL}, "unknown option --jbos (did you mean \"--jobs\"?)"},
        {{"list", "--jbos", "2", NULL}, "--jobs is an option of run, explore, not list"},
        {{"run", "--stirct", NULL}, "(did you mean \"--strict\"?)"},
        {{"run", "--hepl", NULL}, "(did you mean \"--help\"?)"},
        {{"rn", NULL}, "unknown command \"rn\" (did you mean \"run\"?)"},
        {{"valdate", NULL}, "(did you mean \"validate\"?)"},
        {{"validate", "--tag", "x", NULL},
         "--tag is not an option of validate (it is one of run, "
         "list)"},
        {{"serve", "--jobs", "2", NULL},
         "--jobs is not an option of serve (it is one of run, explore)"},
        {{"run", "--no-reports=yes", NULL}, "--no-reports takes no value"},
        {{"run", "--frobnicate", NULL},
         "unknown option --frobnicate; see refund-harness run "
         "--help"},
        {{"journal", "extra", NULL}, "journal takes no FILE or DIR"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capture r;
        harness(&r, NULL, cases[i].args);
        char what[96];
        snprintf(what, sizeof(what), "refund-harness %s %s", cases[i].args[0],
                 cases[i].args[1] ? cases[i].args[1] : "");
        expect_code(&r, 2, what);
        expect_in(r.err, cases[i].mention, "stderr", what);
        capture_cleanup(&r);
    }
    /* --jobs=2 is --jobs 2: accepted (and --jobs=0 refused as --jobs 0 is). */
    char *good = workspace_write_scenario(f, NULL, "good.json", "cli: good", 1, 0);
    struct capture r;
    HARNESS(&r, "run", "--jobs=2", "--no-reports", f->scenarios);
    expect_code(&r, 0, "run --jobs=2");
    capture_cleanup(&r);
    HARNESS(&r, "run", "--jobs=0", "--no-reports", f->scenarios);
    expect_code(&r, 2, "run --jobs=0");
    expect_in(r.err, "--jobs expects 1..64, got \"0\"", "stderr", "run --jobs=0");
    capture_cleanup(&r);
    free(good);
}

/* ---- colour ---- */

/* 1 when text holds an SGR (colour) sequence: ESC [ digits/semicolons m. */
static int has_sgr(const char *text)
{
    for (const char *p = strchr(text, '\033'); p; p = strchr(p + 1, '\033')) {
        if (p[1] != '[')
            continue;
        const char *q = p + 2;
        q += strspn(q, "0123456789;");
        if (*q == 'm')
            return 1;
    }
    return 0;
}

/* Output that is not a terminal has no escape at all, with or without NO_COLOR; --color forces
 * colour (so the check can see it); on a terminal colour appears, and NO_COLOR or --no-color
 * removes it. */
static void test_no_escapes_without_a_terminal_or_with_no_color(void **state)
{
    struct workspace *f = *state;
    char *good = workspace_write_scenario(f, NULL, "good.json", "cli: good", 1, 0);
    char *wrong = workspace_write_scenario(f, NULL, "wrong.json", "cli: wrong", 1, 7);
    static const char *const unset[] = {"NO_COLOR", NULL};
    static const char *const set[] = {"NO_COLOR=1", NULL};
    static const struct {
        int tty;
        int no_color_env;
        const char *flag;
        int colour;  /* 1: SGR expected; 0: none */
        int escapes; /* 0: no ESC byte at all (no terminal) */
        const char *what;
    } cases[] = {
        {0, 0, "--verbose", 0, 0, "pipe"},
        {0, 1, "--verbose", 0, 0, "pipe with NO_COLOR=1"},
        {0, 0, "--color", 1, 1, "pipe with --color"},
        {1, 0, "--verbose", 1, 1, "terminal"},
        {1, 1, "--verbose", 0, 1, "terminal with NO_COLOR=1"},
        {1, 0, "--no-color", 0, 1, "terminal with --no-color"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capture_options o = {.env = cases[i].no_color_env ? set : unset,
                                    .stdout_tty = cases[i].tty};
        struct capture r;
        HARNESS_OPT(&r, &o, "run", cases[i].flag, "--no-reports", f->scenarios);
        expect_code(&r, 1, cases[i].what);
        expect_in(r.out, "FAIL", "stdout", cases[i].what);
        if (cases[i].colour && !has_sgr(r.out))
            fail_msg("%s: expected colour on stdout:\n%s", cases[i].what, r.out);
        if (!cases[i].colour && (has_sgr(r.out) || has_sgr(r.err)))
            fail_msg("%s: colour escape in the output:\n%s\n%s", cases[i].what, r.out, r.err);
        if (!cases[i].escapes && (memchr(r.out, '\033', r.out_len) || strchr(r.err, '\033')))
            fail_msg("%s: an escape byte in output that is not a terminal:\n%s\n%s", cases[i].what,
                     r.out, r.err);
        capture_cleanup(&r);
    }
    /* validate and list never colour. */
    struct capture_options o = {.env = unset};
    struct capture r;
    HARNESS_OPT(&r, &o, "validate", f->scenarios);
    expect_code(&r, 0, "validate");
    assert_null(strchr(r.out, '\033'));
    capture_cleanup(&r);
    HARNESS_OPT(&r, &o, "list", f->scenarios);
    expect_code(&r, 0, "list");
    assert_null(strchr(r.out, '\033'));
    capture_cleanup(&r);
    free(good);
    free(wrong);
}

#define CLI_TEST(t) cmocka_unit_test_setup_teardown(t, workspace_setup, workspace_teardown)

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        CLI_TEST(test_validate_each_invalid_file_exits_2_naming_the_place),
        CLI_TEST(test_validate_invalid_folder_names_every_file),
        CLI_TEST(test_validate_bundled_scenarios_exits_0),
        CLI_TEST(test_no_scenario_files_exits_2_for_every_command),
        CLI_TEST(test_reports_inside_the_scenario_folder_are_not_scenarios),
        CLI_TEST(test_run_passing_folder_exits_0),
        CLI_TEST(test_run_wrong_expectation_exits_1_with_place_and_values),
        CLI_TEST(test_run_with_an_invalid_file_exits_2_and_runs_nothing),
        CLI_TEST(test_run_report_dir_writes_three_reports),
        CLI_TEST(test_run_no_reports_writes_none),
        CLI_TEST(test_jobs_2_same_verdicts_as_jobs_1),
        CLI_TEST(test_results_json_satisfies_its_schema),
        CLI_TEST(test_shards_partition_the_list),
        CLI_TEST(test_list_selection_matches_the_files),
        CLI_TEST(test_list_rules_counts_the_selected_scenarios),
        CLI_TEST(test_empty_selection_exits_2_with_suggestions),
        CLI_TEST(test_strict_fails_when_a_rule_is_uncovered),
        CLI_TEST(test_fail_fast_stops_after_the_first_failure),
        CLI_TEST(test_duplicate_ids_are_refused_naming_both_files),
        CLI_TEST(test_id_names_the_scenario_in_every_report),
        CLI_TEST(test_known_failure_is_reported_and_does_not_fail_the_run),
        CLI_TEST(test_known_failure_that_passes_fails_the_run),
        CLI_TEST(test_invalid_known_failure_file_exits_2),
        CLI_TEST(test_usage_errors_exit_2),
        CLI_TEST(test_shard_rejects_negative_and_overflowing_numbers),
        CLI_TEST(test_usage_error_after_tag_or_rule_exits_2),
        CLI_TEST(test_missing_value_of_short_option_is_named),
        CLI_TEST(test_help_exits_0),
        CLI_TEST(test_each_subcommand_has_its_own_help),
        CLI_TEST(test_man_page_covers_every_command_and_option),
        CLI_TEST(test_unknown_options_and_commands_get_suggestions),
        CLI_TEST(test_no_escapes_without_a_terminal_or_with_no_color),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
