/* report_junit: JUnit XML as Jenkins and GitLab read it (tests/junit-jenkins.xsd). */
#include "escape.h"
#include "oms_time.h"
#include "report.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "scenarios/quota/x.json" -> "scenarios.quota" (CI tools group test cases by class name). */
static void classname(const char *file, struct oms_buf *out)
{
    const char *slash = strrchr(file, '/');
    size_t n = slash ? (size_t)(slash - file) : 0;
    const char *p = file;
    while (n > 0 && (p[0] == '.' || p[0] == '/')) {
        p++;
        n--;
    }
    if (n == 0) {
        oms_buf_puts(out, "scenarios");
        return;
    }
    for (size_t i = 0; i < n; i++)
        oms_buf_append(out, p[i] == '/' ? "." : &p[i], 1);
}

/* A scenario of the known-failure list. Still failing: <skipped> with the list's reason and the
 * first difference - Jenkins and GitLab count a <failure> or <error> as a failed test whatever
 * else the case carries (a property changes nothing there), while a <skipped> with its message is
 * shown in both and fails nothing. Fixed: a <failure>, so CI fails until the list shrinks. */
static void known_case(const struct result_scenario *s, const struct oms_buf *reason,
                       const struct oms_buf *detail, struct oms_buf *out)
{
    if (s->known == RESULT_KNOWN_FIXED) {
        oms_buf_puts(out, "      <failure message=\"listed as a known failure (");
        escape_xml(out, s->known_reason);
        oms_buf_puts(out, ") but it passed: remove it from the list\" type=\"fixed\">");
        escape_xml(out, oms_buf_str(detail));
        oms_buf_puts(out, "</failure>\n");
        return;
    }
    oms_buf_puts(out, "      <skipped message=\"known failure: ");
    escape_xml(out, s->known_reason);
    if (s->known_issue) {
        oms_buf_puts(out, " (");
        escape_xml(out, s->known_issue);
        oms_buf_puts(out, ")");
    }
    oms_buf_puts(out, ": ");
    escape_xml(out, oms_buf_str(reason));
    oms_buf_puts(out, "\"/>\n");
}

void report_junit(const struct result_run *run, struct oms_buf *out)
{
    char when[40], host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    oms_time_iso8601(run->started_ms, when, sizeof(when));
    when[19] = '\0'; /* JUnit wants no fraction and no zone */
    double secs = (double)run->duration_us / 1e6;
    /* A known failure is a <skipped>, a fixed one a <failure> (see known_case). */
    size_t failures = run->failed + run->fixed, skipped = run->skipped + run->known;
    oms_buf_printf(out,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<testsuites name=\"refund-harness\" tests=\"%zu\" failures=\"%zu\" "
                   "errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
                   run->count, failures, run->errors, skipped, secs);
    oms_buf_printf(out,
                   "  <testsuite name=\"refund-harness\" tests=\"%zu\" failures=\"%zu\" "
                   "errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\" hostname=\"",
                   run->count, failures, run->errors, skipped, secs, when);
    escape_xml(out, host);
    oms_buf_puts(out, "\">\n    <properties>\n      <property name=\"target\" value=\"");
    escape_xml(out, run->target ? run->target : "");
    oms_buf_puts(out, "\"/>\n      <property name=\"profile\" value=\"");
    escape_xml(out, json_string_value(json_object_get(run->profile, "name")));
    oms_buf_puts(out, "\"/>\n    </properties>\n");

    for (size_t i = 0; i < run->count; i++) {
        const struct result_scenario *s = &run->scenarios[i];
        struct oms_buf reason, detail, cls;
        oms_buf_init(&reason, 0);
        oms_buf_init(&detail, 0);
        oms_buf_init(&cls, 0);
        report_scenario_reason(s, &reason);
        report_scenario_text(s, &detail);
        classname(s->file, &cls);
        /* The stable id, not the prose name: a reworded name keeps the CI history. */
        oms_buf_puts(out, "    <testcase name=\"");
        escape_xml(out, s->id ? s->id : s->name);
        oms_buf_puts(out, "\" classname=\"");
        escape_xml(out, oms_buf_str(&cls));
        oms_buf_printf(out, "\" time=\"%.3f\">\n", (double)s->duration_us / 1e6);
        if (s->known != RESULT_KNOWN_NONE) {
            known_case(s, &reason, &detail, out);
        } else if (s->outcome == RESULT_SKIP) {
            oms_buf_puts(out, "      <skipped message=\"");
            escape_xml(out, oms_buf_str(&reason));
            oms_buf_puts(out, "\"/>\n");
        } else if (s->outcome == RESULT_FAIL || s->outcome == RESULT_ERROR) {
            const char *tag = s->outcome == RESULT_FAIL ? "failure" : "error";
            oms_buf_printf(out, "      <%s message=\"", tag);
            escape_xml(out, oms_buf_str(&reason));
            oms_buf_printf(out, "\" type=\"%s\">",
                           s->outcome == RESULT_FAIL ? "mismatch" : "error");
            escape_xml(out, oms_buf_str(&detail));
            oms_buf_printf(out, "</%s>\n", tag);
        }
        oms_buf_puts(out, "      <system-out>");
        if (s->outcome == RESULT_NOTED) {
            /* JUnit has no verdict for "passed with notes" (and the Jenkins schema no properties
             * on a test case): a passing test case whose output opens with the note. */
            oms_buf_puts(out, "NOTED (reference-only differences, not failures): ");
            escape_xml(out, oms_buf_str(&reason));
            oms_buf_puts(out, "\n");
        }
        escape_xml(out, oms_buf_str(&detail));
        oms_buf_puts(out, "</system-out>\n    </testcase>\n");
        oms_buf_cleanup(&reason);
        oms_buf_cleanup(&detail);
        oms_buf_cleanup(&cls);
    }
    oms_buf_puts(out, "  </testsuite>\n</testsuites>\n");
}
