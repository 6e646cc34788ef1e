/* report_json: results.json, every check with expected and actual (docs/results-format.md). */
#include "oms_json.h"
#include "oms_time.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define RESULTS_SCHEMA_VERSION 2

static json_t *checks_json(const struct result_check *checks, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct result_check *c = &checks[i];
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:b, s:b, s:O?, s:O?, s:s?, s:O}", "what",
                           c->what, "where", c->where, "rule", c->rule, "basis", c->basis, "state",
                           result_check_state_name(c->state), "passed", c->state == CHECK_PASSED,
                           "invariant", c->invariant, "expected", c->expected, "actual", c->actual,
                           "message", c->message, "mismatches", c->mismatches));
    }
    return arr;
}

static json_t *strings(char **list, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(list[i]));
    return arr;
}

json_t *report_coverage(const struct result_run *run)
{
    json_t *cov = json_object();
    size_t i;
    json_t *rule;
    json_array_foreach(run->rules, i, rule)
    {
        /* Assumptions (A-) and reference behaviours (R-) are in the catalogue so scenarios can
         * name them, but only the rules must be covered. */
        const char *kind = json_string_value(json_object_get(rule, "kind"));
        if (!kind || strcmp(kind, "rule") == 0)
            json_object_set_new(cov, json_string_value(json_object_get(rule, "id")), json_array());
    }
    for (size_t k = 0; k < run->count; k++) {
        const struct result_scenario *s = &run->scenarios[k];
        for (size_t r = 0; r < s->rule_count; r++) {
            json_t *list = json_object_get(cov, s->rules[r]);
            if (!list) {
                list = json_array();
                json_object_set_new(cov, s->rules[r], list);
            }
            json_array_append_new(list, json_string(s->name));
        }
    }
    return cov;
}

void report_json(const struct result_run *run, struct oms_buf *out)
{
    char when[40];
    json_t *scenarios = json_array();
    for (size_t i = 0; i < run->count; i++) {
        const struct result_scenario *s = &run->scenarios[i];
        json_t *steps = json_array();
        for (size_t k = 0; k < s->step_count; k++) {
            const struct result_step *st = &s->steps[k];
            json_t *step = json_pack("{s:s, s:O, s:O, s:s?, s:o}", "label", st->label, "request",
                                     st->request, "responses", st->responses, "curl", st->curl,
                                     "checks", checks_json(st->checks, st->check_count));
            if (st->crash)
                json_object_set(step, "crash", st->crash);
            json_array_append_new(steps, step);
        }
        struct result_counts cnt;
        result_scenario_count(s, &cnt);
        json_t *known = json_null();
        if (s->known != RESULT_KNOWN_NONE)
            known = json_pack("{s:s, s:s, s:s?}", "status",
                              s->known == RESULT_KNOWN_FIXED ? "fixed" : "failing", "reason",
                              s->known_reason, "issue", s->known_issue);
        json_t *doc = json_pack(
            "{s:s?, s:s, s:s, s:o, s:o, s:s, s:o, s:s?, s:f, s:I, s:I, s:I, s:I, s:o, s:o, s:O, "
            "s:O}",
            "id", s->id, "file", s->file, "name", s->name, "rules",
            strings(s->rules, s->rule_count), "tags", strings(s->tags, s->tag_count), "outcome",
            result_outcome_name(s->outcome), "known_failure", known, "error", s->error,
            "duration_ms", (double)s->duration_us / 1000.0, "checks_total", (json_int_t)cnt.total,
            "checks_failed", (json_int_t)cnt.failed, "checks_noted", (json_int_t)cnt.noted,
            "checks_skipped", (json_int_t)cnt.skipped, "steps", steps, "checks",
            checks_json(s->checks, s->check_count), "calls", s->calls, "notes", s->notes);
        json_object_set_new(doc, "reproduce",
                            json_pack("{s:s?, s:s?, s:s?}", "target", s->target_url, "seed",
                                      s->seed, "rerun", s->rerun));
        json_array_append_new(scenarios, doc);
    }
    json_t *cov = report_coverage(run);
    json_t *uncovered = json_array();
    const char *rule;
    json_t *names;
    json_object_foreach(cov, rule, names)
    {
        if (json_array_size(names) == 0)
            json_array_append_new(uncovered, json_string(rule));
    }
    json_t *doc = json_pack(
        "{s:s, s:i, s:s, s:f, s:s, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:O?, s:O?}, s:o, "
        "s:o, s:o}",
        "tool", "refund-harness", "schema_version", RESULTS_SCHEMA_VERSION, "started_at",
        oms_time_iso8601(run->started_ms, when, sizeof(when)), "duration_ms",
        (double)run->duration_us / 1000.0, "target", run->target ? run->target : "",
        "strict_reference", run->strict_reference, "summary", "total", (json_int_t)run->count,
        "passed", (json_int_t)run->passed, "failed", (json_int_t)run->failed, "errors",
        (json_int_t)run->errors, "skipped", (json_int_t)run->skipped, "noted",
        (json_int_t)run->noted, "profile", "name", json_object_get(run->profile, "name"),
        "assumptions", json_object_get(run->profile, "assumptions"), "coverage", cov, "uncovered",
        uncovered, "scenarios", scenarios);
    json_t *summary = json_object_get(doc, "summary");
    json_object_set_new(summary, "known_failures", json_integer((json_int_t)run->known));
    json_object_set_new(summary, "fixed", json_integer((json_int_t)run->fixed));
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    oms_buf_puts(out, text ? text : "{}");
    oms_buf_puts(out, "\n");
    free(text);
    json_decref(doc);
}
