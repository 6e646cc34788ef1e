/* test_report: the three writers on a fixed, hand-built run (one passed, one failed, one errored
 * scenario) - JUnit counts, escaping and well-formedness, results.json summary and coverage, and a
 * self-contained HTML page. */
#include "support.h"

#include "matcher.h"
#include "report.h"
#include "result.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PASS_NAME  "Waiting <package> & \"quotes\" 'ok'"
#define FAIL_NAME  "fails <b>bold</b> & more"
#define ERROR_NAME "cannot run"

static char **strings(size_t n, const char *const *list)
{
    char **out = calloc(n, sizeof(char *));
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        out[i] = strdup(list[i]);
    return out;
}

static void build(struct result_run *run)
{
    result_run_init(run);
    run->started_ms = INT64_C(1700000000000);
    run->duration_us = 1234567;
    run->target = strdup("embedded reference");
    run->profile =
        support_parse("{\"name\": \"akinon-oms-default\", \"assumptions\": [{\"id\": \"A-3\", "
                      "\"text\": \"kept from <Out of Stock>\"}]}");
    run->rules =
        support_parse("[{\"id\": \"C-2\", \"title\": \"Success is 204\"}, {\"id\": \"C-5\", "
                      "\"title\": \"sources\"}, {\"id\": \"Q-4\", \"title\": \"invariant\"}]");

    /* 1: passed */
    struct result_scenario *s = result_run_add(run);
    s->file = strdup("scenarios/commands/pass.json");
    s->name = strdup(PASS_NAME);
    static const char *const r1[] = {"C-2"};
    s->rules = strings(1, r1);
    s->rule_count = 1;
    s->duration_us = 4400;
    struct result_step *st = result_scenario_add_step(s);
    st->label = strdup("when[0]: POST /api/v1/oms/packages/501/command/");
    st->request =
        support_parse("{\"method\": \"POST\", \"path\": \"/api/v1/oms/packages/501/command/\", "
                      "\"headers\": {}, \"body\": {\"package\": 501, \"transition\": 17}}");
    json_array_append_new(st->responses,
                          support_parse("{\"status\": 204, \"headers\": {}, \"body\": "
                                        "\"\", \"json\": null, \"elapsed_ms\": 3}"));
    json_t *want = support_parse("204"), *got = support_parse("204");
    result_add_check(&st->checks, &st->check_count, "response.status", "pass.json:20:31", "C-2",
                     want, got, NULL);
    json_decref(want);
    json_decref(got);
    json_array_append_new(s->calls,
                          support_parse("{\"receiver\": \"omnitron\", \"method\": \"PATCH\", "
                                        "\"path\": \"/api/i1/order_items/bulk_status_update/\", "
                                        "\"answered\": 200, \"received_ms\": 1000, \"json\": "
                                        "{\"orderitem_set\": []}}"));
    result_scenario_settle(s);

    /* 2: failed, with a check whose mismatches come from the matcher */
    s = result_run_add(run);
    s->file = strdup("scenarios/quota/fail.json");
    s->name = strdup(FAIL_NAME);
    static const char *const r2[] = {"C-5", "C-2"};
    s->rules = strings(2, r2);
    s->rule_count = 2;
    want = support_parse("{\"quota\": 1}");
    got = support_parse("{\"quota\": 0}");
    json_t *mm = json_array();
    assert_int_equal(matcher_match(NULL, want, got, "locations.1", mm), 1);
    result_add_check(&s->checks, &s->check_count, "locations.1", "fail.json:19:34", "Q-2", want,
                     got, mm);
    json_decref(want);
    json_decref(got);
    want = support_parse("true");
    result_add_check(&s->checks, &s->check_count, "invariant Q-4 at location 1", "", "Q-4", want,
                     want, NULL);
    json_decref(want);
    json_array_append_new(s->notes, json_string("quota drift declared <on purpose>"));
    result_scenario_settle(s);

    /* 3: errored before running */
    s = result_run_add(run);
    s->file = strdup("top.json");
    s->name = strdup(ERROR_NAME);
    static const char *const r3[] = {"E-9"};
    s->rules = strings(1, r3);
    s->rule_count = 1;
    s->outcome = RESULT_ERROR;
    s->error = strdup("target refused the fixture: <409> & \x01 bell");
    result_scenario_settle(s);

    result_run_tally(run);
}

static char *render(void (*writer)(const struct result_run *, struct oms_buf *),
                    const struct result_run *run)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    writer(run, &b);
    return oms_buf_take(&b, NULL);
}

static int setup(void **state)
{
    struct result_run *run = calloc(1, sizeof(*run));
    if (!run)
        return -1;
    build(run);
    *state = run;
    return 0;
}

static int teardown(void **state)
{
    struct result_run *run = *state;
    result_run_cleanup(run);
    free(run);
    return 0;
}

static void test_result_run_tally_counts(void **state)
{
    struct result_run *run = *state;
    assert_int_equal(run->count, 3);
    assert_int_equal(run->passed, 1);
    assert_int_equal(run->failed, 1);
    assert_int_equal(run->errors, 1);
    assert_int_equal(run->skipped, 0);
    assert_int_equal(run->scenarios[1].outcome, RESULT_FAIL);
    size_t checks, failed;
    result_scenario_counts(&run->scenarios[1], &checks, &failed);
    assert_int_equal(checks, 2);
    assert_int_equal(failed, 1);
    assert_null(result_first_failure(&run->scenarios[0]));
}

static void test_report_junit_counts_and_escaping(void **state)
{
    struct result_run *run = *state;
    char *xml = render(report_junit, run);
    assert_non_null(strstr(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_non_null(strstr(xml, "<testsuites name=\"refund-harness\" tests=\"3\" failures=\"1\" "
                                "errors=\"1\" skipped=\"0\""));
    assert_non_null(strstr(xml, "tests=\"3\" failures=\"1\" errors=\"1\""));
    assert_non_null(strstr(xml, "name=\"Waiting &lt;package&gt; &amp; &quot;quotes&quot; "
                                "&apos;ok&apos;\""));
    assert_non_null(strstr(xml, "name=\"fails &lt;b&gt;bold&lt;/b&gt; &amp; more\""));
    assert_null(strstr(xml, "<b>"));
    assert_null(strstr(xml, "<package>"));
    assert_null(strstr(xml, "\x01"));
    assert_non_null(strstr(xml, "classname=\"scenarios.commands\""));
    assert_non_null(strstr(xml, "classname=\"scenarios.quota\""));
    assert_non_null(strstr(xml,
                           "<failure message=\"fail.json:19:34: locations.1.quota: expected 1, "
                           "found 0 [Q-2]\" type=\"mismatch\">"));
    assert_non_null(strstr(xml, "<error message=\"target refused the fixture: &lt;409&gt; &amp; "
                                "\xEF\xBF\xBD bell\" type=\"error\">"));
    /* One testcase per scenario, one failure, one error. */
    size_t cases = 0;
    for (const char *p = xml; (p = strstr(p, "<testcase ")) != NULL; p++)
        cases++;
    assert_int_equal(cases, 3);
    assert_non_null(strstr(xml, "<property name=\"profile\" value=\"akinon-oms-default\"/>"));
    free(xml);
}

static int remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    char path[1024];
    for (e = readdir(d); e; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    return rmdir(dir);
}

static void test_report_junit_well_formed_xmllint(void **state)
{
    struct result_run *run = *state;
    if (access("/usr/bin/xmllint", X_OK) != 0) {
        print_message("/usr/bin/xmllint is missing (apt-get install libxml2-utils): "
                      "not checking that junit.xml is well formed\n");
        skip();
    }
    char dir[] = "/tmp/test_report.XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct oms_err err = {0};
    assert_int_equal(report_write_all(run, dir, &err), 0);
    char cmd[256], out[2048] = "";
    snprintf(cmd, sizeof(cmd), "/usr/bin/xmllint --noout %s/junit.xml 2>&1", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    remove_tree(dir);
    if (status != 0)
        fail_msg("xmllint refused junit.xml (status %d): %s", status, out);
}

static void test_report_json_summary_and_coverage(void **state)
{
    struct result_run *run = *state;
    char *text = render(report_json, run);
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    if (!doc)
        fail_msg("results.json does not parse: %s at %d:%d", je.text, je.line, je.column);
    json_t *want =
        support_parse("{\"total\": 3, \"passed\": 1, \"failed\": 1, \"errors\": 1, "
                      "\"skipped\": 0, \"noted\": 0, \"known_failures\": 0, \"fixed\": 0}");
    support_assert_json_equal(json_object_get(doc, "summary"), want);
    json_decref(want);
    want = json_pack("{s:[s,s], s:[s], s:[], s:[s]}", "C-2", PASS_NAME, FAIL_NAME, "C-5", FAIL_NAME,
                     "Q-4", "E-9", ERROR_NAME);
    support_assert_json_equal(json_object_get(doc, "coverage"), want);
    json_decref(want);
    want = support_parse("[\"Q-4\"]");
    support_assert_json_equal(json_object_get(doc, "uncovered"), want);
    json_decref(want);
    assert_string_equal(json_string_value(json_object_get(doc, "tool")), "refund-harness");
    assert_string_equal(json_string_value(json_object_get(doc, "target")), "embedded reference");
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "profile"), "name")),
                        "akinon-oms-default");
    json_t *scenarios = json_object_get(doc, "scenarios");
    assert_int_equal(json_array_size(scenarios), 3);
    static const char *const outcomes[] = {"passed", "failed", "error"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(scenarios, i), "outcome")),
            outcomes[i]);
    json_t *failed = json_array_get(scenarios, 1);
    assert_string_equal(json_string_value(json_object_get(failed, "name")), FAIL_NAME);
    assert_int_equal(json_integer_value(json_object_get(failed, "checks_total")), 2);
    assert_int_equal(json_integer_value(json_object_get(failed, "checks_failed")), 1);
    json_t *check = json_array_get(json_object_get(failed, "checks"), 0);
    assert_false(json_is_true(json_object_get(check, "passed")));
    assert_string_equal(json_string_value(json_object_get(check, "where")), "fail.json:19:34");
    assert_int_equal(json_array_size(json_object_get(check, "mismatches")), 1);
    want = support_parse("{\"quota\": 1}");
    support_assert_json_equal(json_object_get(check, "expected"), want);
    json_decref(want);
    json_t *errored = json_array_get(scenarios, 2);
    assert_non_null(strstr(json_string_value(json_object_get(errored, "error")), "<409>"));
    json_t *passed = json_array_get(scenarios, 0);
    assert_int_equal(json_array_size(json_object_get(passed, "steps")), 1);
    assert_int_equal(json_array_size(json_object_get(passed, "calls")), 1);
    json_decref(doc);
    free(text);
}

static void test_report_coverage_catalogue_and_extra_rules(void **state)
{
    struct result_run *run = *state;
    json_t *cov = report_coverage(run);
    assert_int_equal(json_object_size(cov), 4);
    assert_int_equal(json_array_size(json_object_get(cov, "Q-4")), 0);
    assert_int_equal(json_array_size(json_object_get(cov, "C-2")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(cov, "E-9"), 0)),
                        ERROR_NAME);
    json_decref(cov);
}

static void test_report_html_summary_and_self_contained(void **state)
{
    struct result_run *run = *state;
    char *html = render(report_html, run);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "<b>3</b>scenarios"));
    assert_non_null(strstr(html, "<b>1</b>passed"));
    assert_non_null(strstr(html, "<b>1</b>failed"));
    assert_non_null(strstr(html, "<b>1</b>errors"));
    assert_non_null(strstr(html, "<b>0</b>skipped"));
    assert_non_null(strstr(html, "Some scenarios did not pass."));
    /* No external assets. */
    assert_null(strstr(html, "<script src="));
    assert_null(strstr(html, "<link href="));
    assert_null(strstr(html, "<link "));
    assert_null(strstr(html, "src=\"http"));
    assert_null(strstr(html, "href=\"http"));
    assert_null(strstr(html, "url(http"));
    assert_null(strstr(html, "@import"));
    /* Names are text, never markup. */
    assert_non_null(strstr(html, "fails &lt;b&gt;bold&lt;/b&gt; &amp; more"));
    assert_null(strstr(html, "<b>bold</b>"));
    assert_non_null(strstr(html, "kept from &lt;Out of Stock&gt;"));
    assert_non_null(strstr(html, "quota drift declared &lt;on purpose&gt;"));
    assert_non_null(strstr(html, "Q-4"));
    free(html);
}

static void test_report_scenario_reason_fail_error_pass(void **state)
{
    struct result_run *run = *state;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    report_scenario_reason(&run->scenarios[1], &b);
    assert_string_equal(oms_buf_str(&b),
                        "fail.json:19:34: locations.1.quota: expected 1, found 0 [Q-2]");
    oms_buf_reset(&b);
    report_scenario_reason(&run->scenarios[2], &b);
    assert_string_equal(oms_buf_str(&b), "target refused the fixture: <409> & \x01 bell");
    oms_buf_reset(&b);
    report_scenario_reason(&run->scenarios[0], &b);
    assert_string_equal(oms_buf_str(&b), "");
    oms_buf_reset(&b);
    report_scenario_text(&run->scenarios[1], &b);
    assert_non_null(strstr(oms_buf_str(&b), "[FAIL] locations.1"));
    assert_non_null(strstr(oms_buf_str(&b), "locations.1.quota: expected 1, found 0 [Q-2]"));
    assert_non_null(strstr(oms_buf_str(&b), "[ok] invariant Q-4 at location 1"));
    oms_buf_cleanup(&b);
}

static void test_report_write_all_files_and_failure(void **state)
{
    struct result_run *run = *state;
    char dir[] = "/tmp/test_report.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[128], file[192];
    snprintf(sub, sizeof(sub), "%s/a/b", dir);
    struct oms_err err = {0};
    assert_int_equal(report_write_all(run, sub, &err), 0); /* creates missing directories */
    static const char *const names[] = {"junit.xml", "results.json", "report.html"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(file, sizeof(file), "%s/%s", sub, names[i]);
        struct stat st;
        if (stat(file, &st) != 0 || st.st_size == 0)
            fail_msg("%s was not written", file);
    }
    /* A directory that cannot be created: under a regular file. */
    snprintf(file, sizeof(file), "%s/plain", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(sub, sizeof(sub), "%s/plain/reports", dir);
    oms_err_clear(&err);
    assert_int_equal(report_write_all(run, sub, &err), OMS_E_IO);
    assert_true(oms_err_isset(&err));
    assert_non_null(strstr(err.source, "plain"));
    remove_tree(dir);
}

/* The cells of the matrix row of the scenario named name, in column order, as class names ("" for
 * an empty cell); into out, returned. */
static char *row_cells(const char *html, const char *name, char *out, size_t size)
{
    const char *row = strstr(html, name);
    assert_non_null(row);
    const char *end = strstr(row, "</tr>");
    assert_non_null(end);
    out[0] = '\0';
    size_t used = 0;
    for (const char *td = strstr(row, "<td"); td && td < end; td = strstr(td + 3, "<td")) {
        const char *cls = strstr(td, "class=\"");
        const char *close = strchr(td, '>');
        size_t n = 0;
        const char *c = "";
        if (cls && cls < close) {
            c = cls + 7;
            n = (size_t)(strchr(c, '"') - c);
        }
        used += (size_t)snprintf(out + used, size - used, "%.*s|", (int)n, c);
    }
    return out;
}

/* The matrix paints the rule a check broke (or noted), not every rule the scenario lists. */
static void test_report_html_matrix_paints_the_broken_rule(void **state)
{
    (void)state;
    struct result_run run;
    result_run_init(&run);
    run.target = strdup("t");
    run.profile = support_parse("{\"name\": \"p\"}");
    run.rules = support_parse("[{\"id\": \"C-2\", \"basis\": \"documented\"}, {\"id\": \"C-5\", "
                              "\"basis\": \"documented\"}, {\"id\": \"Q-4\"}, {\"id\": \"R-1\", "
                              "\"basis\": \"reference\"}]");
    static const char *const listed[] = {"C-2", "C-5", "R-1"};
    const char *names[] = {"broken C-5", "noted R-1"};
    for (int k = 0; k < 2; k++) {
        struct result_scenario *s = result_run_add(&run);
        s->file = strdup("x.json");
        s->name = strdup(names[k]);
        s->rules = strings(3, listed);
        s->rule_count = 3;
        result_add_check(&s->checks, &s->check_count, "response.status", "x:1:1", "C-2", NULL, NULL,
                         NULL);
        json_t *mm = json_array();
        matcher_mismatch(mm, "$", NULL, NULL, "differs");
        struct result_check *c = result_add_check(&s->checks, &s->check_count, "response.body",
                                                  "x:2:1", k == 0 ? "C-5" : "R-1", NULL, NULL, mm);
        c->state = k == 0 ? CHECK_FAILED : CHECK_NOTED;
        result_scenario_settle(s);
    }
    result_run_tally(&run);
    char *html = render(report_html, &run);
    char cells[256];
    assert_string_equal(row_cells(html, "broken C-5", cells, sizeof(cells)), "hit|failhit||hit|");
    assert_string_equal(row_cells(html, "noted R-1", cells, sizeof(cells)), "hit|hit||notehit|");
    assert_non_null(strstr(html, "<b>1</b>noted"));
    free(html);
    result_run_cleanup(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_html_matrix_paints_the_broken_rule),
        cmocka_unit_test_setup_teardown(test_result_run_tally_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_junit_counts_and_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_junit_well_formed_xmllint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_json_summary_and_coverage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_coverage_catalogue_and_extra_rules, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_html_summary_and_self_contained, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_scenario_reason_fail_error_pass, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_write_all_files_and_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
