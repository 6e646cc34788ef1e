/* report: the text account of a scenario shared by the writers, and writing the report files. */
#include "report.h"

#include "oms_json.h"
#include "scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *report_diff_path(const struct result_check *c, const json_t *diff, char *out, size_t size)
{
    const char *path = json_string_value(json_object_get(diff, "path"));
    if (path && path[0] && path[0] != '$')
        snprintf(out, size, "%s", path); /* already a full path */
    else if (!path || strcmp(path, "$") == 0)
        snprintf(out, size, "%s", c->what);
    else
        snprintf(out, size, "%s%s", c->what, path + 1);
    return out;
}

void report_rule_tag(const struct result_check *c, const json_t *diff, struct oms_buf *out)
{
    const char *rule = json_string_value(json_object_get(diff, "rule"));
    if (!rule)
        rule = c->rule;
    if (!rule)
        return;
    const char *basis = json_string_value(json_object_get(diff, "basis"));
    if (!basis && c->rule && strcmp(rule, c->rule) == 0)
        basis = c->basis;
    oms_buf_printf(out, " [%s%s%s]", rule, basis ? ", " : "", basis ? basis : "");
}

/* One difference on one line: "full.path: message [rule, basis]". */
static void diff_line(const struct result_check *c, const json_t *diff, struct oms_buf *out)
{
    char path[OMS_ERR_PATH_MAX + 200];
    oms_buf_printf(out, "%s: %s", report_diff_path(c, diff, path, sizeof(path)),
                   json_string_value(json_object_get(diff, "message")));
    report_rule_tag(c, diff, out);
}

void report_scenario_reason(const struct result_scenario *s, struct oms_buf *out)
{
    if (s->outcome == RESULT_ERROR || s->outcome == RESULT_SKIP) {
        oms_buf_puts(out, s->error ? s->error : result_outcome_name(s->outcome));
        return;
    }
    const struct result_check *c = result_first_failure(s);
    if (!c)
        c = result_first_in(s, CHECK_NOTED);
    if (!c)
        return;
    if (c->where && c->where[0])
        oms_buf_printf(out, "%s: ", c->where);
    if (c->state == CHECK_NOTED)
        oms_buf_puts(out, "note: ");
    const json_t *first = json_array_get(c->mismatches, 0);
    if (first)
        diff_line(c, first, out);
    else
        oms_buf_printf(out, "%s: %s", c->what, c->message ? c->message : "failed");
    size_t more = json_array_size(c->mismatches);
    if (more > 1)
        oms_buf_printf(out, " (+%zu more difference%s)", more - 1, more > 2 ? "s" : "");
    if (c->state == CHECK_FAILED && c->basis && strcmp(c->basis, "assumed") == 0 && c->rule)
        oms_buf_printf(out,
                       c->rule[0] == 'A'
                           ? "; %s is this project's reading where the vendor documentation is "
                             "silent (docs/spec.md): a system that reads it otherwise on purpose "
                             "declares so in its profile"
                           : "; %s is this project's reading where the vendor documentation is "
                             "silent (docs/spec.md says why)",
                       c->rule);
}

static void value_text(struct oms_buf *out, const json_t *v)
{
    char *s = oms_json_dumps(v);
    if (strlen(s) > 2000)
        oms_buf_printf(out, "%.2000s... (%zu bytes)", s, strlen(s));
    else
        oms_buf_puts(out, s);
    free(s);
}

static void checks_text(const struct result_check *checks, size_t n, struct oms_buf *out)
{
    static const char *const mark[] = {"ok", "FAIL", "note", "skip"};
    for (size_t i = 0; i < n; i++) {
        const struct result_check *c = &checks[i];
        oms_buf_printf(out, "    [%s] %s", mark[c->state], c->what);
        if (c->where && c->where[0])
            oms_buf_printf(out, "  (%s)", c->where);
        if (c->state == CHECK_SKIPPED)
            oms_buf_printf(out, ": %s", c->message ? c->message : "skipped");
        oms_buf_puts(out, "\n");
        if (c->state == CHECK_PASSED || c->state == CHECK_SKIPPED)
            continue;
        size_t k;
        json_t *m;
        json_array_foreach(c->mismatches, k, m)
        {
            oms_buf_puts(out, "        ");
            diff_line(c, m, out);
            oms_buf_puts(out, "\n");
            if (json_object_get(m, "expected")) {
                oms_buf_puts(out, "          expected: ");
                value_text(out, json_object_get(m, "expected"));
                oms_buf_puts(out, "\n");
            }
            if (json_object_get(m, "actual")) {
                oms_buf_puts(out, "          actual:   ");
                value_text(out, json_object_get(m, "actual"));
                oms_buf_puts(out, "\n");
            }
        }
    }
}

void report_scenario_text(const struct result_scenario *s, struct oms_buf *out)
{
    oms_buf_printf(out, "%s\n  id: %s\n  file: %s\n  rules:", s->name, s->id ? s->id : "", s->file);
    for (size_t i = 0; i < s->rule_count; i++)
        oms_buf_printf(out, " %s", s->rules[i]);
    oms_buf_printf(out, "\n  outcome: %s (%.1f ms)\n", result_outcome_name(s->outcome),
                   (double)s->duration_us / 1000.0);
    if (s->error)
        oms_buf_printf(out, "  error: %s\n", s->error);
    for (size_t i = 0; i < s->step_count; i++) {
        const struct result_step *st = &s->steps[i];
        oms_buf_printf(out, "  %s\n", st->label);
        size_t k;
        json_t *r;
        json_array_foreach(st->responses, k, r)
        {
            const char *body = json_string_value(json_object_get(r, "body"));
            oms_buf_printf(out, "    -> %lld %.300s\n",
                           (long long)json_integer_value(json_object_get(r, "status")),
                           body ? body : "");
        }
        checks_text(st->checks, st->check_count, out);
    }
    if (s->check_count) {
        oms_buf_puts(out, "  scenario checks:\n");
        checks_text(s->checks, s->check_count, out);
    }
    if (s->outcome != RESULT_PASS && s->outcome != RESULT_SKIP)
        report_scenario_repro(s, out);
    size_t k;
    json_t *n;
    json_array_foreach(s->notes, k, n)
    {
        oms_buf_printf(out, "  note: %s\n", json_string_value(n));
    }
}

void report_scenario_repro(const struct result_scenario *s, struct oms_buf *out)
{
    if (!s->seed && !s->rerun)
        return;
    oms_buf_puts(out, "  reproduce by hand (bash; the state as this run seeded it, then each "
                      "request):\n");
    oms_buf_printf(out,
                   "    TARGET=%s  # TOKEN=<API token>  FIXTURE_TOKEN=<fixture token, if the "
                   "target asks for one>\n",
                   s->target_url ? s->target_url : "<target URL>");
    if (s->seed)
        oms_buf_printf(out, "    %s\n", s->seed);
    for (size_t i = 0; i < s->step_count; i++) {
        if (!s->steps[i].curl)
            continue;
        /* Every line of a step's commands, indented alike. */
        const char *p = s->steps[i].curl;
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            oms_buf_printf(out, "    %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
    }
    if (s->rerun)
        oms_buf_printf(out, "  rerun: %s\n", s->rerun);
}

int report_write_file(const char *dir, const char *name, const char *data, size_t len,
                      struct oms_err *err)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return oms_err_set(err, OMS_E_IO, tmp, 0, 0, NULL, "cannot create: %s", strerror(errno));
    int bad = fwrite(data, 1, len, f) != len || fflush(f) != 0;
    if (fclose(f) != 0)
        bad = 1;
    if (bad || rename(tmp, path) != 0) {
        int saved = errno;
        remove(tmp);
        return oms_err_set(err, OMS_E_IO, path, 0, 0, NULL, "cannot write: %s", strerror(saved));
    }
    return 0;
}

int report_make_dirs(const char *dir, struct oms_err *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return oms_err_set(err, OMS_E_IO, path, 0, 0, NULL, "cannot create directory: %s",
                               strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return oms_err_set(err, OMS_E_IO, path, 0, 0, NULL, "cannot create directory: %s",
                           strerror(errno));
    return 0;
}

int report_write_all(const struct result_run *run, const char *dir, struct oms_err *err)
{
    if (report_make_dirs(dir, err) != 0)
        return OMS_E_IO;
    struct {
        const char *name;
        void (*render)(const struct result_run *, struct oms_buf *);
    } files[] = {
        {"junit.xml", report_junit},
        {"results.json", report_json},
        {"report.html", report_html},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct oms_buf b;
        oms_buf_init(&b, 0);
        files[i].render(run, &b);
        int rc = report_write_file(dir, files[i].name, oms_buf_str(&b), b.len, err);
        oms_buf_cleanup(&b);
        if (rc != 0)
            return rc;
    }
    /* So that reports written inside a scenario folder are not read back as scenarios. */
    struct oms_buf marker;
    oms_buf_init(&marker, 0);
    oms_buf_puts(&marker, "refund-harness reports: a run searching this folder for scenarios "
                          "skips it.\n");
    int rc = report_write_file(dir, SCENARIO_REPORT_MARKER, oms_buf_str(&marker), marker.len, err);
    oms_buf_cleanup(&marker);
    return rc;
}
