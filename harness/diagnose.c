/* diagnose: grouping a run's failures and saying why it did not pass. */
#include "diagnose.h"

#include "oms_alloc.h"
#include "oms_json.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>

/* The status the target answered where a response check failed, or 0. */
static json_int_t answered_status(const struct result_check *c)
{
    if (strcmp(c->what, "response.status") == 0 && json_is_integer(c->actual))
        return json_integer_value(c->actual);
    if (strcmp(c->what, "responses") == 0 && json_is_object(c->actual) &&
        json_object_size(c->actual) == 1) {
        const char *code = json_object_iter_key(json_object_iter(c->actual));
        return strtoll(code, NULL, 10);
    }
    return 0;
}

static const char *status_hint(json_int_t status)
{
    switch (status) {
    case 401:
        return "is --token right? The target refused the API token it was sent";
    case 404:
        return "is the base URL right? --target is the server root: the harness sends "
               "POST <target>/api/v1/oms/packages/<id>/command/";
    case 405:
        return "does the target route POST to /api/v1/oms/packages/<id>/command/ (with the "
               "trailing slash)?";
    case 415:
        return "does the target accept Content-Type: application/json (with or without a "
               "charset)?";
    default:
        return status >= 500 ? "the target failed on its own side (5xx): its logs say why" : NULL;
    }
}

/* "packages.501.status" -> "packages.status": the kind of a check, ids dropped. */
static void kind_of(const char *what, char *out, size_t size)
{
    size_t used = 0;
    for (const char *p = what; *p && used + 1 < size;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        int numeric = n > 0 && strspn(p, "0123456789") == n;
        if (!numeric) {
            if (used && used + 1 < size)
                out[used++] = '.';
            for (size_t i = 0; i < n && used + 1 < size; i++)
                out[used++] = p[i];
        }
        p += n + (dot ? 1 : 0);
        if (!dot)
            break;
    }
    out[used] = '\0';
}

/* The group key and hint of a scenario that failed or errored. */
static void key_of(const struct result_scenario *s, char *key, size_t size, const char **hint)
{
    *hint = NULL;
    if (s->outcome == RESULT_ERROR) {
        const char *e = s->error ? s->error : "error";
        /* Errors name a file:line first; the cause after the last ": " groups them. */
        const char *cause = strstr(e, "the target ");
        snprintf(key, size, "%.160s", cause ? cause : e);
        if (s->environment)
            *hint = "the target or a receiver did not answer: is it running, and is the URL "
                    "right? (--wait-for-target waits for a server that is still starting)";
        else if (strstr(e, "initial state"))
            *hint = "the target's fixture protocol refused the scenario's state: see "
                    "docs/fixture-protocol.md";
        return;
    }
    const struct result_check *c = result_first_failure(s);
    if (!c) {
        snprintf(key, size, "failed");
        return;
    }
    json_int_t status = answered_status(c);
    if (status) {
        snprintf(key, size, "the target answered %lld", (long long)status);
        *hint = status_hint(status);
        return;
    }
    char path[OMS_ERR_PATH_MAX + 200], kind[OMS_ERR_PATH_MAX + 200];
    const json_t *first = json_array_get(c->mismatches, 0);
    kind_of(first ? report_diff_path(c, first, path, sizeof(path)) : c->what, kind, sizeof(kind));
    snprintf(key, size, "%.160s: %.300s", kind, c->message ? c->message : "failed");
}

static int by_count(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "count"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "count"));
    return x < y ? 1 : x > y ? -1 : 0;
}

json_t *diagnose_groups(const struct result_run *run)
{
    json_t *by_key = json_object();
    json_t *order = json_array();
    for (size_t i = 0; i < run->count; i++) {
        const struct result_scenario *s = &run->scenarios[i];
        if ((s->outcome != RESULT_FAIL && s->outcome != RESULT_ERROR) ||
            s->known == RESULT_KNOWN_FAILING)
            continue;
        char key[512];
        const char *hint;
        key_of(s, key, sizeof(key), &hint);
        json_t *g = json_object_get(by_key, key);
        if (!g) {
            g = json_pack("{s:i, s:s, s:s?, s:[]}", "count", 0, "difference", key, "hint", hint,
                          "scenarios");
            json_object_set_new(by_key, key, g);
            json_array_append(order, g);
        }
        json_object_set_new(g, "count",
                            json_integer(json_integer_value(json_object_get(g, "count")) + 1));
        json_array_append_new(json_object_get(g, "scenarios"), json_string(s->file));
    }
    json_decref(by_key);
    size_t n = json_array_size(order);
    json_t **sorted = oms_xcalloc(n + 1, sizeof(*sorted));
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_array_get(order, i);
    /* Insertion sort: stable, so equal counts keep the order they were first seen in. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && by_count(&sorted[j - 1], &sorted[j]) > 0; j--) {
            json_t *t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    json_t *groups = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(groups, sorted[i]);
    free(sorted);
    json_decref(order);
    return groups;
}

/* Counts of a string key into obj (key -> count). */
static void bump(json_t *obj, const char *key)
{
    json_t *n = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer(n ? json_integer_value(n) + 1 : 1));
}

static void print_counts(const char *title, const json_t *counts, FILE *out)
{
    if (json_object_size(counts) == 0)
        return;
    fprintf(out, "%s\n", title);
    const char *key;
    json_t *n;
    json_object_foreach((json_t *)counts, key, n)
    {
        fprintf(out, "  %4lld  %s\n", (long long)json_integer_value(n), key);
    }
}

/* Noted scenarios counted by the rule their first note falls under. */
static json_t *noted_by_rule(const struct result_run *run)
{
    json_t *counts = json_object();
    for (size_t i = 0; i < run->count; i++) {
        const struct result_scenario *s = &run->scenarios[i];
        if (s->outcome != RESULT_NOTED)
            continue;
        const struct result_check *c = result_first_in(s, CHECK_NOTED);
        char key[256];
        const char *title = NULL;
        size_t k;
        json_t *r;
        json_array_foreach(run->rules, k, r)
        {
            if (c && c->rule && strcmp(json_string_value(json_object_get(r, "id")), c->rule) == 0)
                title = json_string_value(json_object_get(r, "title"));
        }
        snprintf(key, sizeof(key), "%s%s%s", c && c->rule ? c->rule : "(no rule)", title ? " " : "",
                 title ? title : "");
        bump(counts, key);
    }
    return counts;
}

void diagnose_print(const struct result_run *run, int exit_code, int uncovered,
                    const char *known_file, FILE *out)
{
    fprintf(out, "\n%zu scenario(s): %zu passed, %zu noted, %zu failed, %zu error(s), %zu skipped",
            run->count, run->passed, run->noted, run->failed, run->errors, run->skipped);
    if (known_file)
        fprintf(out, ", %zu known failure(s), %zu fixed", run->known, run->fixed);
    fprintf(out, " in %.0f ms\n", (double)run->duration_us / 1000.0);
    if (run->fixed) {
        fprintf(out,
                "%zu scenario(s) listed in %s as known failures passed; remove them from the "
                "list (this fails the run until then):",
                run->fixed, known_file ? known_file : "the known-failures list");
        for (size_t k = 0; k < run->count; k++)
            if (run->scenarios[k].known == RESULT_KNOWN_FIXED)
                fprintf(out, " %s", run->scenarios[k].id);
        fputc('\n', out);
    }
    json_t *groups = diagnose_groups(run);
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        if (i == 0)
            fprintf(out, "failures by their first difference:\n");
        if (i == 5) {
            fprintf(out, "  ... and %zu more group(s) (reports/report.html lists every one)\n",
                    json_array_size(groups) - 5);
            break;
        }
        json_t *files = json_object_get(g, "scenarios");
        fprintf(out, "  %lld %s: %s\n", (long long)json_integer_value(json_object_get(g, "count")),
                json_integer_value(json_object_get(g, "count")) == 1 ? "scenario" : "scenarios",
                json_string_value(json_object_get(g, "difference")));
        const char *hint = json_string_value(json_object_get(g, "hint"));
        if (hint)
            fprintf(out, "      - %s\n", hint);
        fprintf(out, "      e.g. %s%s\n", json_string_value(json_array_get(files, 0)),
                json_array_size(files) > 1 ? " ..." : "");
    }
    json_decref(groups);

    json_t *noted = noted_by_rule(run);
    if (json_object_size(noted))
        fprintf(out,
                "noted: the target differs from oms-reference only where the contract "
                "leaves it free%s\n",
                run->strict_reference ? "" : " (--strict-reference fails these)");
    print_counts("noted scenarios by rule:", noted, out);
    json_decref(noted);
    json_t *skips = json_object();
    for (size_t k = 0; k < run->count; k++)
        if (run->scenarios[k].outcome == RESULT_SKIP)
            bump(skips, run->scenarios[k].error ? run->scenarios[k].error : "skipped");
    print_counts("skipped, by reason:", skips, out);
    json_decref(skips);

    if (exit_code == 0)
        return;
    fprintf(out, "exit status %d: ", exit_code);
    if (exit_code == 3) {
        size_t env = 0;
        for (size_t k = 0; k < run->count; k++)
            env += run->scenarios[k].environment != 0;
        fprintf(out,
                "the environment failed (%zu scenario(s) got no answer from the target or a "
                "receiver), so no verdict was reached for them\n",
                env);
    } else if (run->failed || run->errors) {
        fprintf(out, "%zu scenario(s) failed and %zu could not run\n", run->failed, run->errors);
    } else if (run->fixed) {
        fprintf(out, "known failures passed: take them off the list\n");
    } else if (uncovered) {
        fprintf(out, "--strict: some rules are exercised by no selected scenario (listed above)\n");
    } else {
        fprintf(out, "see above\n");
    }
}
