/* report: the writers of a run's reports, one per format, each reading only struct result_run.
 *   junit.xml    - for CI (Jenkins, GitLab): one testcase per scenario
 *   results.json - every check with expected and actual (schema: docs/results-format.md)
 *   report.html  - one self-contained page for people */
#ifndef REPORT_H
#define REPORT_H

#include <jansson.h>

#include "oms_buf.h"
#include "oms_error.h"
#include "result.h"

/* Each renders into out (appending). */
void report_junit(const struct result_run *run, struct oms_buf *out);
void report_json(const struct result_run *run, struct oms_buf *out);
void report_html(const struct result_run *run, struct oms_buf *out);

/* The plain-text account of one scenario (steps, checks, differences), as JUnit's system-out and
 * the console's --verbose show it. Appends to out. */
void report_scenario_text(const struct result_scenario *s, struct oms_buf *out);
/* The reproducer of a scenario: $TARGET, the seeding curl, each step's curl, and the rerun line;
 * appends to out (nothing when the scenario never ran). */
void report_scenario_repro(const struct result_scenario *s, struct oms_buf *out);
/* "where: full.json.path: message [rule, basis] (+N more differences)" of the first failed check
 * (else the first noted one, prefixed "note: "), or the error; appends to out. */
void report_scenario_reason(const struct result_scenario *s, struct oms_buf *out);
/* The full path of a difference: the check's "what" and the path inside it
 * ("omnitron[0].body.orderitem_set[0].status"); into out, returned. */
char *report_diff_path(const struct result_check *c, const json_t *diff, char *out, size_t size);
/* " [C-8, documented]": the rule a difference falls under and its basis; appends to out. */
void report_rule_tag(const struct result_check *c, const json_t *diff, struct oms_buf *out);

/* Rule id -> array of the names of the scenarios that exercise it, for every rule of the
 * catalogue (run->rules; entries of "kind" "assumption" or "reference" only when a scenario names
 * them) and any other id a scenario names. New reference. */
json_t *report_coverage(const struct result_run *run);

/* Writes len bytes to dir/name through a temporary file renamed into place, so a reader never
 * sees half a file. Returns 0, or OMS_E_IO with err naming the file. */
int report_write_file(const char *dir, const char *name, const char *data, size_t len,
                      struct oms_err *err);
/* Creates dir and its parents as needed. Returns 0, or OMS_E_IO with err naming the folder. */
int report_make_dirs(const char *dir, struct oms_err *err);

/* Writes all three into dir (created if missing), each via a temporary file renamed into place so
 * a reader never sees half a report. Returns 0 or a negative code with err naming the file. */
int report_write_all(const struct result_run *run, const char *dir, struct oms_err *err);

#endif
