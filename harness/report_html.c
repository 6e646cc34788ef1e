/* report_html: one self-contained page (no external assets) - summary, rule coverage matrix,
 * assumptions in force, and for each scenario its steps, checks with expected and actual side by
 * side, and the timeline of outbound calls. */
#include "escape.h"
#include "oms_alloc.h"
#include "oms_json.h"
#include "oms_time.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>

static const char STYLE[] =
    "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;"
    "color:#1d2330;background:#f6f7f9}"
    "header{background:#1d2330;color:#fff;padding:18px 28px}"
    "header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c9ced8}"
    "main{padding:20px 28px;max-width:1280px}"
    "section{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:0 0 18px;"
    "padding:14px 18px}"
    "h2{font-size:16px;margin:0 0 10px}"
    ".cards{display:flex;gap:12px;flex-wrap:wrap}"
    ".card{border-radius:6px;padding:10px 16px;min-width:110px;background:#eef1f5}"
    ".card b{display:block;font-size:24px}"
    ".pass{color:#126b34}.fail{color:#b3261e}.error{color:#9a4d00}.skip{color:#5b6270}"
    ".note{color:#0b6b78}.card.note{background:#def3f5}"
    ".card.pass{background:#e3f4e8}.card.fail{background:#fbe4e2}.card.error{background:#fdeedc}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{border-bottom:1px solid #e6e9ee;padding:4px 6px;text-align:left;vertical-align:top}"
    "th{background:#f2f4f7;position:sticky;top:0;white-space:nowrap}"
    "td.hit{background:#dff1e4;text-align:center}td.miss{background:#fbe4e2;text-align:center}"
    "td.failhit{background:#f6c9c4;text-align:center}td.notehit{background:#d3eef1;text-align:"
    "center}"
    "td.errhit{background:#fdeedc;text-align:center}"
    "details{border-top:1px solid #e6e9ee;padding:6px 0}"
    "summary{cursor:pointer;font-weight:600}"
    "summary .badge{font-weight:700;margin-right:6px}"
    ".badge{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;color:#fff}"
    ".badge.pass{background:#1f8a4c}.badge.fail{background:#c5372c}.badge.error{background:#c76b00}"
    ".badge.skip{background:#7a8190}.badge.note{background:#12808e}"
    "pre{background:#f6f8fa;border:1px solid #e3e6eb;border-radius:4px;padding:6px 8px;"
    "white-space:pre-wrap;word-break:break-all;margin:4px 0;font-size:12px}"
    ".diff{display:grid;grid-template-columns:1fr 1fr;gap:8px}"
    ".diff .exp pre{border-color:#9cc9a8;background:#f0faf3}"
    ".diff .act pre{border-color:#e3a49e;background:#fdf1f0}"
    ".check{margin:2px 0 2px 12px}.check.ok{color:#126b34}.check.bad{color:#b3261e;font-weight:600}"
    ".check.note{color:#0b6b78;font-weight:600}.check.skip{color:#5b6270}"
    ".where{color:#6b7280;font-size:12px}.muted{color:#6b7280}"
    ".rules span{display:inline-block;background:#eef1f5;border-radius:3px;padding:0 5px;"
    "margin-right:3px;font-size:12px}";

/* A probe for tests and tools that render the page: once laid out, <body> says whether the summary
 * has a visible box (data-summary-visible="yes"/"no") and the verdict as rendered (data-verdict).
 * Inline, no external asset; it reads the page and sends nothing. */
static const char PROBE[] =
    "<script>(function(){var s=document.getElementById('summary'),"
    "v=document.getElementById('verdict'),d=document.body.dataset,c=s&&getComputedStyle(s);"
    "d.summaryVisible=s&&c.display!=='none'&&c.visibility!=='hidden'&&s.offsetWidth>0&&"
    "s.offsetHeight>0?'yes':'no';d.verdict=v?v.innerText.trim():'';})();</script>";

static void text(struct oms_buf *out, const char *s)
{
    escape_html(out, s ? s : "");
}

static void json_block(struct oms_buf *out, const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
    oms_buf_puts(out, "<pre>");
    text(out, s ? s : "(nothing)");
    oms_buf_puts(out, "</pre>");
    free(s);
}

static const char *css_class(enum result_outcome o)
{
    switch (o) {
    case RESULT_PASS:
        return "pass";
    case RESULT_FAIL:
        return "fail";
    case RESULT_ERROR:
        return "error";
    case RESULT_SKIP:
        return "skip";
    case RESULT_NOTED:
        return "note";
    }
    return "skip";
}

static void summary(const struct result_run *run, struct oms_buf *out)
{
    oms_buf_puts(out, "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    oms_buf_printf(out, "<div class=\"card\"><b>%zu</b>scenarios</div>", run->count);
    oms_buf_printf(out, "<div class=\"card pass\"><b>%zu</b>passed</div>", run->passed);
    oms_buf_printf(out, "<div class=\"card fail\"><b>%zu</b>failed</div>", run->failed);
    oms_buf_printf(out, "<div class=\"card error\"><b>%zu</b>errors</div>", run->errors);
    oms_buf_printf(out, "<div class=\"card note\"><b>%zu</b>noted</div>", run->noted);
    oms_buf_printf(out, "<div class=\"card\"><b>%zu</b>skipped</div>", run->skipped);
    if (run->known)
        oms_buf_printf(out, "<div class=\"card\"><b>%zu</b>known failures</div>", run->known);
    if (run->fixed)
        oms_buf_printf(out, "<div class=\"card fail\"><b>%zu</b>fixed (still listed)</div>",
                       run->fixed);
    oms_buf_printf(out, "<div class=\"card\"><b>%.0f ms</b>wall time</div>",
                   (double)run->duration_us / 1000.0);
    oms_buf_puts(out, "</div><p id=\"verdict\" class=\"");
    int ok = run->failed == 0 && run->errors == 0 && run->fixed == 0;
    oms_buf_printf(out, "%s\"><b>%s</b>", ok ? "pass" : "fail",
                   !ok          ? "Some scenarios did not pass."
                   : run->known ? "All scenarios passed but the known failures."
                                : "All scenarios passed.");
    if (run->fixed)
        oms_buf_puts(out, " Scenarios listed as known failures passed: remove them from the list.");
    oms_buf_puts(out, "</p>");
    if (run->noted)
        oms_buf_printf(out,
                       "<p class=\"note\">%zu scenario(s) passed with notes: the target differs "
                       "from oms-reference only where the contract leaves it free (reference-only "
                       "rules, docs/spec.md)%s.</p>",
                       run->noted, run->strict_reference ? "" : "; --strict-reference fails them");
    oms_buf_puts(out, "</section>\n");
}
/* FAILED when a check of the scenario failed under rule, else NOTED when one was noted under it,
 * else PASSED. */
static enum result_check_state checks_rule_state(const struct result_check *checks, size_t n,
                                                 const char *rule, enum result_check_state st)
{
    for (size_t i = 0; i < n && st != CHECK_FAILED; i++)
        if (checks[i].rule && strcmp(checks[i].rule, rule) == 0 &&
            (checks[i].state == CHECK_FAILED ||
             (checks[i].state == CHECK_NOTED && st == CHECK_PASSED)))
            st = checks[i].state;
    return st;
}

static enum result_check_state rule_state(const struct result_scenario *s, const char *rule)
{
    enum result_check_state st = checks_rule_state(s->checks, s->check_count, rule, CHECK_PASSED);
    for (size_t i = 0; i < s->step_count; i++)
        st = checks_rule_state(s->steps[i].checks, s->steps[i].check_count, rule, st);
    return st;
}

/* The rules no selected scenario exercises, or that every rule is exercised. */
static void coverage_uncovered(const json_t *cov, struct oms_buf *out)
{
    int any = 0;
    const char *rule;
    json_t *names;
    json_object_foreach((json_t *)cov, rule, names)
    {
        if (json_array_size(names) != 0)
            continue;
        oms_buf_puts(out, any ? ", "
                              : "<p class=\"fail\"><b>Rules no selected scenario exercises:</b> ");
        text(out, rule);
        any = 1;
    }
    oms_buf_puts(out, any ? "</p>"
                          : "<p class=\"pass\">Every SPEC rule is exercised by at least one "
                            "scenario.</p>");
}

/* The catalogue's entry of rule (borrowed), or NULL. */
static const json_t *rule_entry(const struct result_run *run, const char *rule)
{
    size_t i;
    json_t *r;
    json_array_foreach(run->rules, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "id")), rule) == 0)
            return r;
    }
    return NULL;
}

/* One scenario's cell under one rule: the rule a check broke is painted, not every rule the
 * scenario lists. */
static void coverage_cell(const struct result_scenario *s, const char *rule, struct oms_buf *out)
{
    int hit = 0;
    for (size_t r = 0; r < s->rule_count; r++)
        hit |= strcmp(s->rules[r], rule) == 0;
    enum result_check_state st = rule_state(s, rule);
    if (st == CHECK_FAILED)
        oms_buf_puts(out, "<td class=\"failhit\" title=\"a check of this rule failed\">"
                          "&#10007;</td>");
    else if (st == CHECK_NOTED)
        oms_buf_puts(out, "<td class=\"notehit\" title=\"noted: reference-only "
                          "difference\">~</td>");
    else if (!hit)
        oms_buf_puts(out, "<td></td>");
    else if (s->outcome == RESULT_ERROR)
        oms_buf_puts(out, "<td class=\"errhit\" title=\"the scenario could not run\">"
                          "!</td>");
    else if (s->outcome == RESULT_SKIP)
        oms_buf_puts(out, "<td title=\"skipped\">-</td>");
    else
        oms_buf_puts(out, "<td class=\"hit\">&#10003;</td>");
}

static void coverage(const struct result_run *run, struct oms_buf *out)
{
    json_t *cov = report_coverage(run);
    oms_buf_puts(out, "<section id=\"coverage\"><h2>Rule coverage</h2>");
    coverage_uncovered(cov, out);
    /* Rules across, scenarios down: a cell marks a scenario exercising a rule. */
    oms_buf_puts(out, "<div style=\"overflow:auto;max-height:520px\"><table><tr><th>Scenario</th>");
    const char *rule;
    json_t *names;
    json_object_foreach(cov, rule, names)
    {
        const json_t *entry = rule_entry(run, rule);
        const char *title = json_string_value(json_object_get(entry, "title"));
        const char *basis = json_string_value(json_object_get(entry, "basis"));
        oms_buf_puts(out, "<th title=\"");
        if (title)
            text(out, title);
        oms_buf_puts(out, "\">");
        text(out, rule);
        oms_buf_printf(out, "<br><span class=\"muted\">%zu%s%s</span></th>", json_array_size(names),
                       basis ? " " : "", basis ? basis : "");
    }
    oms_buf_puts(out, "</tr>");
    for (size_t k = 0; k < run->count; k++) {
        const struct result_scenario *s = &run->scenarios[k];
        oms_buf_printf(out, "<tr><td><a href=\"#s%zu\">", k);
        text(out, s->name);
        oms_buf_puts(out, "</a></td>");
        json_object_foreach(cov, rule, names)
        {
            coverage_cell(s, rule, out);
        }
        oms_buf_puts(out, "</tr>");
    }
    oms_buf_puts(out, "</table></div></section>\n");
    json_decref(cov);
}

static void assumptions(const struct result_run *run, struct oms_buf *out)
{
    oms_buf_puts(out, "<section id=\"assumptions\"><h2>Profile in force: ");
    text(out, json_string_value(json_object_get(run->profile, "name")));
    oms_buf_puts(out,
                 "</h2><table><tr><th>Assumption</th><th>Reading of the documentation</th></tr>");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(run->profile, "assumptions"), i, a)
    {
        oms_buf_puts(out, "<tr><td>");
        text(out, json_string_value(json_object_get(a, "id")));
        oms_buf_puts(out, "</td><td>");
        text(out, json_string_value(json_object_get(a, "text")));
        oms_buf_puts(out, "</td></tr>");
    }
    oms_buf_puts(out, "</table><p class=\"muted\">A vendor whose system reads the documentation "
                      "differently overrides the profile, not the scenarios.</p></section>\n");
}

static void checks_html(const struct result_check *checks, size_t n, struct oms_buf *out)
{
    static const char *const cls[] = {"ok", "bad", "note", "skip"};
    static const char *const mark[] = {"&#10003;", "&#10007;", "~", "-"};
    for (size_t i = 0; i < n; i++) {
        const struct result_check *c = &checks[i];
        oms_buf_printf(out, "<div class=\"check %s\">%s ", cls[c->state], mark[c->state]);
        text(out, c->what);
        if (c->where[0]) {
            oms_buf_puts(out, " <span class=\"where\">");
            text(out, c->where);
            oms_buf_puts(out, "</span>");
        }
        if (c->state == CHECK_SKIPPED) {
            oms_buf_puts(out, " <span class=\"muted\">skipped: ");
            text(out, c->message);
            oms_buf_puts(out, "</span>");
        }
        oms_buf_puts(out, "</div>");
        if (c->state == CHECK_PASSED || c->state == CHECK_SKIPPED)
            continue;
        size_t k;
        json_t *m;
        json_array_foreach(c->mismatches, k, m)
        {
            char path[OMS_ERR_PATH_MAX + 200];
            struct oms_buf tag;
            oms_buf_init(&tag, 0);
            report_rule_tag(c, m, &tag);
            const char *basis = json_string_value(json_object_get(m, "basis"));
            int soft = basis && strcmp(basis, "reference") == 0 && c->state == CHECK_NOTED;
            oms_buf_printf(out, "<div class=\"check %s\">at <code>", soft ? "note" : "bad");
            text(out, report_diff_path(c, m, path, sizeof(path)));
            oms_buf_puts(out, "</code>: ");
            text(out, json_string_value(json_object_get(m, "message")));
            text(out, oms_buf_str(&tag));
            oms_buf_cleanup(&tag);
            oms_buf_puts(out, "</div><div class=\"diff\"><div class=\"exp\">expected");
            json_block(out, json_object_get(m, "expected"));
            oms_buf_puts(out, "</div><div class=\"act\">actual");
            json_block(out, json_object_get(m, "actual"));
            oms_buf_puts(out, "</div></div>");
        }
    }
}

static int by_arrival(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "received_ms"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "received_ms"));
    return x < y ? -1 : x > y;
}

static void timeline(const struct result_scenario *s, struct oms_buf *out)
{
    size_t n = json_array_size(s->calls);
    if (n == 0) {
        oms_buf_puts(out, "<p class=\"muted\">No outbound call was recorded.</p>");
        return;
    }
    json_t **sorted = oms_xcalloc(n, sizeof(*sorted));
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_array_get(s->calls, i);
    qsort(sorted, n, sizeof(*sorted), by_arrival);
    json_int_t t0 = json_integer_value(json_object_get(sorted[0], "received_ms"));
    oms_buf_puts(out, "<table><tr><th>+ms</th><th>receiver</th><th>request</th><th>answered</th>"
                      "<th>body</th></tr>");
    for (size_t i = 0; i < n; i++) {
        const json_t *c = sorted[i];
        oms_buf_printf(out, "<tr><td>%lld</td><td>",
                       (long long)(json_integer_value(json_object_get(c, "received_ms")) - t0));
        text(out, json_string_value(json_object_get(c, "receiver")));
        oms_buf_puts(out, "</td><td>");
        text(out, json_string_value(json_object_get(c, "method")));
        oms_buf_puts(out, " ");
        text(out, json_string_value(json_object_get(c, "path")));
        oms_buf_puts(out, "</td><td>");
        json_t *ans = json_object_get(c, "answered");
        if (json_is_integer(ans))
            oms_buf_printf(out, "%lld", (long long)json_integer_value(ans));
        else
            oms_buf_puts(out, "dropped");
        oms_buf_puts(out, "</td><td>");
        json_block(out, json_object_get(c, "json"));
        oms_buf_puts(out, "</td></tr>");
    }
    oms_buf_puts(out, "</table>");
    free(sorted);
}

/* What the --known-failures list says of a scenario listed there. */
static void known_html(const struct result_scenario *s, struct oms_buf *out)
{
    if (s->known == RESULT_KNOWN_NONE)
        return;
    oms_buf_puts(out, "<p class=\"known\"><b>");
    oms_buf_puts(out, s->known == RESULT_KNOWN_FIXED
                          ? "Listed as a known failure but it passed: remove it from the list. "
                          : "Known failure: ");
    text(out, s->known_reason);
    if (s->known_issue) {
        oms_buf_puts(out, " (");
        text(out, s->known_issue);
        oms_buf_puts(out, ")");
    }
    oms_buf_puts(out, "</b></p>");
}

static void scenario_html(const struct result_scenario *s, size_t index, struct oms_buf *out)
{
    oms_buf_printf(out, "<details id=\"s%zu\" class=\"scenario %s\"%s><summary>", index,
                   css_class(s->outcome),
                   s->outcome == RESULT_PASS || s->outcome == RESULT_SKIP ? "" : " open");
    oms_buf_printf(out, "<span class=\"badge %s\">%s</span>", css_class(s->outcome),
                   result_outcome_name(s->outcome));
    if (s->known != RESULT_KNOWN_NONE)
        oms_buf_printf(out, "<span class=\"badge %s\">%s</span>",
                       s->known == RESULT_KNOWN_FIXED ? "fail" : "skip",
                       s->known == RESULT_KNOWN_FIXED ? "fixed" : "known failure");
    text(out, s->name);
    oms_buf_printf(out, " <span class=\"muted\">%.1f ms</span></summary>",
                   (double)s->duration_us / 1000.0);
    oms_buf_puts(out, "<p class=\"where\">");
    text(out, s->file);
    oms_buf_puts(out, " &middot; id <code>");
    text(out, s->id);
    oms_buf_puts(out, "</code></p><p class=\"rules\">");
    for (size_t r = 0; r < s->rule_count; r++) {
        oms_buf_puts(out, "<span>");
        text(out, s->rules[r]);
        oms_buf_puts(out, "</span>");
    }
    oms_buf_puts(out, "</p>");
    known_html(s, out);
    if (s->error) {
        oms_buf_puts(out, "<p class=\"error\"><b>");
        text(out, s->error);
        oms_buf_puts(out, "</b></p>");
    }
    for (size_t i = 0; i < s->step_count; i++) {
        const struct result_step *st = &s->steps[i];
        oms_buf_puts(out, "<h3>");
        text(out, st->label);
        oms_buf_puts(out, "</h3><div class=\"diff\"><div>request");
        json_block(out, st->request);
        oms_buf_puts(out, "</div><div>response");
        size_t k;
        json_t *r;
        json_array_foreach(st->responses, k, r)
        {
            json_t *shown =
                json_pack("{s:O, s:O}", "status", json_object_get(r, "status"), "body",
                          json_is_null(json_object_get(r, "json")) ? json_object_get(r, "body")
                                                                   : json_object_get(r, "json"));
            json_block(out, shown);
            json_decref(shown);
        }
        oms_buf_puts(out, "</div></div>");
        checks_html(st->checks, st->check_count, out);
    }
    if (s->check_count) {
        oms_buf_puts(out, "<h3>then</h3>");
        checks_html(s->checks, s->check_count, out);
    }
    size_t k;
    json_t *n;
    json_array_foreach(s->notes, k, n)
    {
        oms_buf_puts(out, "<p class=\"muted\">note: ");
        text(out, json_string_value(n));
        oms_buf_puts(out, "</p>");
    }
    oms_buf_puts(out, "<h3>Outbound calls</h3>");
    timeline(s, out);
    if (s->outcome != RESULT_PASS && s->outcome != RESULT_SKIP && (s->seed || s->rerun)) {
        struct oms_buf repro;
        oms_buf_init(&repro, 0);
        report_scenario_repro(s, &repro);
        oms_buf_puts(out, "<h3>Reproduce</h3><pre>");
        text(out, oms_buf_str(&repro));
        oms_buf_puts(out, "</pre>");
        oms_buf_cleanup(&repro);
    }
    oms_buf_puts(out, "</details>\n");
}

void report_html(const struct result_run *run, struct oms_buf *out)
{
    char when[40];
    oms_time_iso8601(run->started_ms, when, sizeof(when));
    oms_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                      "<title>refund-harness report</title><style>");
    oms_buf_puts(out, STYLE);
    oms_buf_puts(out, "</style></head><body><header><h1>refund-harness: Package Packed for Refund"
                      "</h1><p>");
    text(out, run->target);
    oms_buf_puts(out, " &middot; ");
    text(out, when);
    oms_buf_puts(out, "</p></header><main>\n");
    summary(run, out);
    coverage(run, out);
    assumptions(run, out);
    oms_buf_puts(out, "<section id=\"scenarios\"><h2>Scenarios</h2>\n");
    for (size_t i = 0; i < run->count; i++)
        scenario_html(&run->scenarios[i], i, out);
    oms_buf_puts(out, "</section></main>");
    oms_buf_puts(out, PROBE);
    oms_buf_puts(out, "</body></html>\n");
}
