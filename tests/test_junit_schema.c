/* test_junit_schema: the junit.xml of a real run - one scenario passing, one failing, one erroring,
 * and one whose name is full of XML's special characters - validates against
 * tests/junit-jenkins.xsd with xmllint, and carries the counts and reasons; the schema itself
 * refuses what Jenkins would misread. Skipped (77) without xmllint (libxml2-utils). */
#include "capture.h"
#include "support.h"
#include "workspace.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef REFUND_BIN_DIR
#error "REFUND_BIN_DIR must name the directory of the built programs"
#endif

#define SKIP 77

static char xmllint[4096];

/* xmllint --noout --schema XSD file; returns its exit code (0: valid), output in r. */
static int validate(struct capture *r, const char *file)
{
    const char *xsd = support_path("tests/junit-jenkins.xsd");
    char xsd_copy[4096];
    snprintf(xsd_copy, sizeof(xsd_copy), "%s", xsd);
    const char *const argv[] = {xmllint, "--noout", "--schema", xsd_copy, file, NULL};
    struct capture_options o = {.timeout_ms = 30000};
    capture_run(argv, &o, r);
    if (r->timed_out || r->code < 0) {
        char how[64];
        fail_msg("xmllint %s: %s: %s", file, capture_describe(r, how, sizeof(how)), r->err);
    }
    return r->code;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("junit.xml lacks \"%s\":\n%.6000s", needle, text);
}

/* One passing, one failing, one erroring scenario, and one with <, >, &, quotes, an apostrophe
 * and a control character in its name: junit.xml validates and says what happened. */
static void test_junit_of_a_mixed_run_validates_against_the_xsd(void **state)
{
    struct workspace *f = *state;
    free(workspace_write_scenario(f, NULL, "a-pass.json", "junit: passes", 1, 0));
    free(workspace_write_scenario(f, NULL, "b-fail.json", "junit: fails", 1, 7));
    free(workspace_write_scenario(f, NULL, "c-error.json", "junit: errors", 5, 0));
    free(workspace_write_scenario(f, NULL, "d-markup.json",
                                  "junit: <b>\\\"quoted\\\" & 'apostrophe'</b> ]]> bell\\u0007 end",
                                  1, 0));
    char bin[4096];
    snprintf(bin, sizeof(bin), "%s/refund-harness", REFUND_BIN_DIR);
    const char *const argv[] = {bin,        "run",        "--quiet", "--no-color", "--report-dir",
                                f->reports, f->scenarios, NULL};
    struct capture_options o = {.timeout_ms = 90000};
    struct capture r;
    capture_run(argv, &o, &r);
    if (r.code != 1)
        fail_msg("expected exit code 1 (a failure and an error), got %d\nstdout:\n%s\nstderr:\n%s",
                 r.code, r.out, r.err);
    capture_cleanup(&r);

    char *junit = support_printf("%s/junit.xml", f->reports);
    if (validate(&r, junit) != 0)
        fail_msg("junit.xml does not validate against tests/junit-jenkins.xsd:\n%s", r.err);
    if (!strstr(r.err, "validates"))
        fail_msg("xmllint did not say the file validates: %s", r.err);
    capture_cleanup(&r);

    char *xml = capture_read_file(junit, NULL);
    assert_non_null(xml);
    expect_in(xml, "<testsuites name=\"refund-harness\" tests=\"4\" failures=\"1\" errors=\"1\" "
                   "skipped=\"0\"");
    expect_in(xml, "<testsuite name=\"refund-harness\" tests=\"4\" failures=\"1\" errors=\"1\" "
                   "skipped=\"0\"");
    assert_int_equal(count_of(xml, "<testcase "), 4);
    assert_int_equal(count_of(xml, "<failure "), 1);
    assert_int_equal(count_of(xml, "<error "), 1);
    assert_int_equal(count_of(xml, "<skipped"), 0);
    /* Test names are the scenarios' ids (here their file names); the prose names, markup and
     * all, are the first line of each system-out. */
    expect_in(xml, "<testcase name=\"a-pass\" classname=\"");
    expect_in(xml, "<testcase name=\"b-fail\" classname=\"");
    expect_in(xml, "<testcase name=\"c-error\" classname=\"");
    expect_in(xml, "<testcase name=\"d-markup\" classname=\"");
    expect_in(xml, "<system-out>junit: passes\n");
    expect_in(xml, "<system-out>junit: &lt;b&gt;&quot;quoted&quot; &amp; &apos;apostrophe&apos;"
                   "&lt;/b&gt; ]]&gt; bell");
    /* The failure names the place and both values; the error says why it could not run. */
    char *fail = support_printf("<failure message=\"%s/b-fail.json:", f->scenarios);
    expect_in(xml, fail);
    expect_in(xml, ": locations.1.quota: expected 7, found 0 [");
    expect_in(xml, "<error message=\"");
    expect_in(xml, "the target refused the initial state");
    free(fail);
    free(xml);
    free(junit);
}

/* With --known-failures, a known failure (a <skipped> with the list's reason, markup and all) and
 * a fixed scenario (a <failure>) still make a file that validates, with counts that agree. */
static void test_junit_with_known_failures_validates_against_the_xsd(void **state)
{
    struct workspace *f = *state;
    free(workspace_write_scenario(f, NULL, "a-known.json", "junit: known", 1, 7));
    free(workspace_write_scenario(f, NULL, "b-fixed.json", "junit: fixed", 1, 0));
    char *known = support_printf("%s/known.json", f->dir);
    capture_write_file(known, "[{\"id\": \"a-known\", \"reason\": \"<quota> & \\\"drift\\\"\", "
                              "\"issue\": \"https://example.test/?a=1&b=2\"},"
                              " {\"id\": \"b-fixed\", \"reason\": \"was flaky\"}]");
    char bin[4096];
    snprintf(bin, sizeof(bin), "%s/refund-harness", REFUND_BIN_DIR);
    const char *const argv[] = {bin,   "run",          "--quiet",  "--known-failures",
                                known, "--report-dir", f->reports, f->scenarios,
                                NULL};
    struct capture_options o = {.timeout_ms = 90000};
    struct capture r;
    capture_run(argv, &o, &r);
    if (r.code != 1)
        fail_msg("expected exit code 1 (a fixed scenario), got %d\nstdout:\n%s\nstderr:\n%s",
                 r.code, r.out, r.err);
    capture_cleanup(&r);
    char *junit = support_printf("%s/junit.xml", f->reports);
    if (validate(&r, junit) != 0)
        fail_msg("junit.xml does not validate against tests/junit-jenkins.xsd:\n%s", r.err);
    capture_cleanup(&r);
    char *xml = capture_read_file(junit, NULL);
    expect_in(xml, "tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"1\"");
    expect_in(xml, "<skipped message=\"known failure: &lt;quota&gt; &amp; &quot;drift&quot; "
                   "(https://example.test/?a=1&amp;b=2): ");
    expect_in(xml, "type=\"fixed\"");
    assert_int_equal(count_of(xml, "<skipped "), 1);
    assert_int_equal(count_of(xml, "<failure "), 1);
    free(xml);
    free(junit);
    free(known);
}

/* The schema is not vacuous: it accepts a minimal file and refuses each way of being wrong that
 * Jenkins would misread or drop. */
static void test_xsd_refuses_malformed_junit(void **state)
{
    struct workspace *f = *state;
    static const struct {
        const char *what;
        int valid;
        const char *xml;
    } cases[] = {
        {"minimal", 1, "<testsuites><testsuite name=\"s\" tests=\"0\"/></testsuites>"},
        {"full", 1,
         "<testsuites name=\"n\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"1\" "
         "time=\"0.5\"><testsuite name=\"s\" tests=\"3\" failures=\"1\" errors=\"1\" "
         "skipped=\"1\" time=\"0.5\" timestamp=\"2026-11-23T12:33:16\" hostname=\"h\">"
         "<properties><property name=\"p\" value=\"v\"/></properties>"
         "<testcase name=\"a\" classname=\"c\" time=\"0.1\"><failure message=\"m\" "
         "type=\"t\">x</failure><system-out>o</system-out><system-err>e</system-err></testcase>"
         "<testcase name=\"b\"><error message=\"m\">x</error></testcase>"
         "<testcase name=\"c\"><skipped message=\"m\"/></testcase>"
         "<system-out>o</system-out><system-err>e</system-err></testsuite></testsuites>"},
        {"testsuite as the root", 0, "<testsuite name=\"s\" tests=\"0\"/>"},
        {"testcase without name", 0,
         "<testsuites><testsuite name=\"s\" tests=\"1\"><testcase classname=\"c\"/>"
         "</testsuite></testsuites>"},
        {"testsuite without tests", 0, "<testsuites><testsuite name=\"s\"/></testsuites>"},
        {"failures not a number", 0,
         "<testsuites><testsuite name=\"s\" tests=\"0\" failures=\"x\"/></testsuites>"},
        {"negative time", 0,
         "<testsuites><testsuite name=\"s\" tests=\"0\" time=\"-1\"/></testsuites>"},
        {"timestamp with a zone", 0,
         "<testsuites><testsuite name=\"s\" tests=\"0\" timestamp=\"2026-11-23T12:33:16Z\"/>"
         "</testsuites>"},
        {"unknown element", 0,
         "<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"a\"><flaky/>"
         "</testcase></testsuite></testsuites>"},
        {"unknown attribute", 0,
         "<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"a\" status=\"ok\"/>"
         "</testsuite></testsuites>"},
        {"two skipped", 0,
         "<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"a\"><skipped/>"
         "<skipped/></testcase></testsuite></testsuites>"},
        {"failure before skipped", 0,
         "<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"a\"><failure/>"
         "<skipped/></testcase></testsuite></testsuites>"},
        {"properties after a testcase", 0,
         "<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"a\"/><properties/>"
         "</testsuite></testsuites>"},
        {"property without value", 0,
         "<testsuites><testsuite name=\"s\" tests=\"0\"><properties><property name=\"p\"/>"
         "</properties></testsuite></testsuites>"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = support_printf("%s/case-%zu.xml", f->dir, i);
        char *text =
            support_printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n%s\n", cases[i].xml);
        capture_write_file(path, text);
        struct capture r;
        int rc = validate(&r, path);
        if (cases[i].valid && rc != 0)
            fail_msg("%s: should validate: %s", cases[i].what, r.err);
        if (!cases[i].valid && rc == 0)
            fail_msg("%s: should not validate:\n%s", cases[i].what, cases[i].xml);
        if (!cases[i].valid && rc != 3)
            fail_msg("%s: xmllint exit %d, expected 3 (does not validate): %s", cases[i].what, rc,
                     r.err);
        capture_cleanup(&r);
        free(text);
        free(path);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (capture_find_program("xmllint", xmllint, sizeof(xmllint)) != 0) {
        printf("skipped: xmllint is not installed (scripts/install-deps --test installs "
               "libxml2-utils)\n");
        return SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_junit_of_a_mixed_run_validates_against_the_xsd,
                                        workspace_setup, workspace_teardown),
        cmocka_unit_test_setup_teardown(test_junit_with_known_failures_validates_against_the_xsd,
                                        workspace_setup, workspace_teardown),
        cmocka_unit_test_setup_teardown(test_xsd_refuses_malformed_junit, workspace_setup,
                                        workspace_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
