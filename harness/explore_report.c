/* explore_report: case files, replay scripts and the run's reports. */
#include "explore_report.h"

#include "runner.h"

#include "crash.h"
#include "explore_gen.h"
#include "matcher.h"
#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"
#include "report.h"
#include "repro.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OMNITRON_MARK "__EXPLORE_OMNITRON__"
#define WEBHOOK_MARK  "__EXPLORE_WEBHOOK__"

char *explore_report_id(const char *kind, json_t *used)
{
    char base[64];
    size_t n = 0;
    int dash = 0;
    for (const char *p = kind; *p && n + 1 < sizeof(base); p++) {
        if (isalnum((unsigned char)*p)) {
            if (dash && n)
                base[n++] = '-';
            if (n + 1 < sizeof(base))
                base[n++] = (char)tolower((unsigned char)*p);
            dash = 0;
        } else {
            dash = 1;
        }
    }
    base[n] = '\0';
    if (!n)
        snprintf(base, sizeof(base), "difference");
    char id[80];
    snprintf(id, sizeof(id), "%s", base);
    for (int k = 2; json_object_get(used, id); k++)
        snprintf(id, sizeof(id), "%s-%d", base, k);
    json_object_set_new(used, id, json_true());
    return oms_xstrdup(id);
}

/* ---- the case file ---- */

static int note_rule(const char *id, const char *path, void *arg)
{
    (void)path;
    json_object_set_new(arg, id, json_true());
    return 0;
}

/* The kinds of check a "then" holds whose rule comes from the scenario's list (the values not
 * wrapped in $rule: empty bodies, status names, counts, call lists). */
static void kinds_of_then(const json_t *then, json_t *kinds)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)then, key, v)
    {
        if (strcmp(key, "packages") == 0) {
            const char *id;
            json_t *pkg;
            json_object_set_new(kinds, "packages.exists", json_true());
            json_object_foreach(v, id, pkg)
            {
                const char *field;
                json_t *fv;
                json_object_foreach(pkg, field, fv)
                {
                    char kind[64];
                    snprintf(kind, sizeof(kind), "packages.%s", field);
                    json_object_set_new(kinds, kind, json_true());
                }
            }
        } else if (strcmp(key, "locations") == 0) {
            json_object_set_new(kinds, "locations.quota", json_true());
        } else {
            json_object_set_new(kinds, key, json_true());
        }
    }
}

static json_t *rules_used(const json_t *doc, const struct tier *tier)
{
    json_t *used = json_object(), *kinds = json_object();
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(doc, "when"), i, step)
    {
        const json_t *then = json_object_get(step, "then");
        matcher_each_rule(then, "$", note_rule, used);
        kinds_of_then(then, kinds);
        if (json_object_get(step, "crash")) {
            /* The rules the crash checks judge a kill under (crash_check.h). */
            static const char *const crash_rules[] = {"C-6", "Q-2", "C-10", "O-1",
                                                      "O-2", "O-3", "Q-4"};
            for (size_t k = 0; k < sizeof(crash_rules) / sizeof(crash_rules[0]); k++)
                json_object_set_new(used, crash_rules[k], json_true());
        }
    }
    size_t n = 0;
    while (EXPLORE_RULES[n])
        n++;
    const char *kind;
    json_t *v;
    json_object_foreach(kinds, kind, v)
    {
        const char *rule = tier_rule_for(tier, kind, (const char *const *)EXPLORE_RULES, n);
        if (rule)
            json_object_set_new(used, rule, json_true());
    }
    json_t *rules = json_array();
    for (size_t k = 0; k < n; k++)
        if (json_object_get(used, EXPLORE_RULES[k]))
            json_array_append_new(rules, json_string(EXPLORE_RULES[k]));
    json_decref(used);
    json_decref(kinds);
    return rules;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

void explore_report_not_reproduced(json_t *doc)
{
    const char *d = json_string_value(json_object_get(doc, "description"));
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_printf(&b,
                   "%s Note: on its final run this case did not show the difference again; it "
                   "depends on timing or on what ran before it.",
                   d ? d : "");
    json_object_set_new(doc, "description", json_string(oms_buf_str(&b)));
    oms_buf_cleanup(&b);
}

json_t *explore_report_case(const json_t *expected, const struct explore_finding *f,
                            const struct tier *tier)
{
    size_t steps = json_array_size(json_object_get(expected, "when"));
    size_t packages =
        json_array_size(json_object_get(json_object_get(expected, "given"), "packages"));
    const char *basis = tier_basis(tier, f->rule);
    const char *title = tier_title(tier, f->rule);
    char name[512];
    snprintf(name, sizeof(name),
             "explore: %s differs from the reference (%zu step%s, %zu package%s)", f->kind, steps,
             plural(steps), packages, plural(packages));
    struct oms_buf d;
    oms_buf_init(&d, 0);
    if (f->replayed)
        oms_buf_printf(&d, "Found by refund-harness explore --replay %s", f->replay_file);
    else
        oms_buf_printf(&d, "Found by refund-harness explore --seed %llu in case %llu",
                       (unsigned long long)f->seed, (unsigned long long)f->case_index);
    oms_buf_printf(&d, " (%zu step%s, %zu package%s), shrunk to %zu step%s and %zu package%s. ",
                   f->steps_before, plural(f->steps_before), f->packages_before,
                   plural(f->packages_before), steps, plural(steps), packages, plural(packages));
    if (f->target)
        oms_buf_printf(&d, "The system under test differed from the embedded reference on %s",
                       f->kind);
    else
        oms_buf_printf(&d, "The embedded reference broke an invariant: %s", f->kind);
    if (f->rule && basis)
        oms_buf_printf(&d, ", rule %s (%s)", f->rule, basis);
    if (f->rule && title)
        oms_buf_printf(&d, ": %s", title);
    oms_buf_puts(&d, ".");
    if (f->history)
        oms_buf_puts(&d, " It called a receiver this case does not subscribe: the difference also "
                         "depends on what earlier cases left in the target.");
    if (f->target)
        oms_buf_puts(&d, " Every expectation was derived from what the embedded reference did, "
                         "keeping only what the contract decides; replay with refund-harness run "
                         "FILE --target URL (it fails the same way), and it passes against the "
                         "embedded reference.");
    else
        oms_buf_puts(&d,
                     " Its expectations are the reference's own, so refund-harness run FILE "
                     "passes; refund-harness explore --replay FILE checks the invariant again.");
    json_t *doc = json_object();
    if (f->id)
        json_object_set_new(doc, "id", json_string(f->id));
    json_object_set_new(doc, "name", json_string(name));
    json_object_set_new(doc, "description", json_string(oms_buf_str(&d)));
    oms_buf_cleanup(&d);
    json_object_set_new(doc, "rules", rules_used(expected, tier));
    json_object_set_new(doc, "tags", json_pack("[s]", "explore"));
    json_object_set(doc, "given", json_object_get(expected, "given"));
    json_object_set(doc, "when", json_object_get(expected, "when"));
    return doc;
}

/* ---- the replay script ---- */

/* Appends s with every mark replaced by a shell variable outside the single quotes around it. */
static void put_unmarked(struct oms_buf *out, const char *s)
{
    while (*s) {
        const char *om = strstr(s, OMNITRON_MARK), *wh = strstr(s, WEBHOOK_MARK);
        const char *next = om && (!wh || om < wh) ? om : wh;
        if (!next) {
            oms_buf_puts(out, s);
            return;
        }
        oms_buf_append(out, s, (size_t)(next - s));
        oms_buf_puts(out, next == om ? "'\"$OMNITRON\"'" : "'\"$WEBHOOK\"'");
        s = next + strlen(next == om ? OMNITRON_MARK : WEBHOOK_MARK);
    }
}

/* The fixture as the runner sends it, with the receivers' URLs as marks. */
static json_t *marked_fixture(const json_t *given)
{
    return runner_fixture_for(given, OMNITRON_MARK, WEBHOOK_MARK, NULL);
}

static void behaviour_lines(struct oms_buf *out, const json_t *receivers)
{
    const char *which;
    json_t *b;
    json_object_foreach((json_t *)receivers, which, b)
    {
        char *text = oms_json_dumps(b);
        oms_buf_printf(out,
                       "curl -sS -X PUT \"$%s/__behaviour\" -H 'Content-Type: application/json' "
                       "--data-binary ",
                       strcmp(which, "omnitron") == 0 ? "OMNITRON" : "WEBHOOK");
        repro_quote(out, text, strlen(text));
        oms_buf_puts(out, "\n");
        free(text);
    }
}

/* A crash step by hand: the burst's commands (all at once: the script cannot time them), then a
 * pause in which the person kills the target with SIGKILL and starts it again on its data, then
 * the receivers' behaviour for after the restart. */
static void crash_lines(struct oms_buf *out, const json_t *crash)
{
    const json_t *burst = json_object_get(crash, "burst");
    if (burst) {
        size_t n = 0;
        int64_t *ids = crash_burst_packages(burst, &n);
        json_int_t c = json_integer_value(json_object_get(burst, "concurrent"));
        size_t conc = c > 0 ? (size_t)c : CRASH_DEFAULT_CONCURRENT;
        const json_t *after = json_object_get(crash, "after");
        size_t at =
            after ? (size_t)json_integer_value(after)
                  : crash_random_after((uint64_t)json_integer_value(json_object_get(crash, "seed")),
                                       n, conc < n ? conc : n);
        oms_buf_printf(out,
                       "# a burst of %zu command%s, %zu at once; `refund-harness run` kills the "
                       "target right after answer %zu%s\n",
                       n, n == 1 ? "" : "s", conc < n ? conc : n, at,
                       json_object_get(crash, "delay_ms") ? " and the delay" : "");
        for (size_t i = 0; i < n; i++) {
            json_t *body = json_deep_copy(json_object_get(burst, "body"));
            json_object_set_new(body, "package", json_integer(ids[i]));
            char *text = oms_json_dumps(body);
            char path[96];
            snprintf(path, sizeof(path), "/api/v1/oms/packages/%lld/command/", (long long)ids[i]);
            char *headers[] = {"Authorization: Token x", "Content-Type: application/json"};
            char *curl = repro_curl("POST", path, headers, 2, 0, text, strlen(text), 1);
            oms_buf_printf(out, "%s &\n", curl);
            free(curl);
            free(text);
            json_decref(body);
        }
        free(ids);
    }
    oms_buf_puts(out, "printf 'kill -9 the target now, start it again on the same data, then "
                      "press Enter: '; read _\nwait\n");
    behaviour_lines(out, json_object_get(crash, "receivers"));
}

char *explore_report_shell(const json_t *doc, const char *file,
                           const struct result_scenario *result)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    /* The case file by its name only: the script stays valid wherever the folder goes. */
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    oms_buf_printf(&b, "#!/bin/sh\n# %s\n", json_string_value(json_object_get(doc, "name")));
    oms_buf_printf(
        &b,
        "# Replays %s (beside this script) by hand: the receivers' behaviour, the\n"
        "# initial state, then each request. TARGET is the system under test, TOKEN its\n"
        "# API token; OMNITRON and WEBHOOK are receivers it can reach (mock-omnitron,\n"
        "# mock-webhook): their journals (GET $OMNITRON/__journal) show what it sent.\n"
        "# FIXTURE_TOKEN: only if the target asks for one. To check every expectation:\n"
        "#   refund-harness run \"$(dirname \"$0\")/%s\" --target \"$TARGET\"\n",
        base, base);
    size_t k;
    json_t *st;
    json_array_foreach(json_object_get(doc, "when"), k, st)
    {
        if (!json_object_get(st, "crash"))
            continue;
        oms_buf_printf(&b,
                       "# It kills the target (a crash step): the harness times the kill only "
                       "when it starts the target itself:\n"
                       "#   refund-harness run \"$(dirname \"$0\")/%s\" --target-cmd 'COMMAND' "
                       "(COMMAND with {port} and {dir})\n",
                       base);
        break;
    }
    oms_buf_puts(&b,
                 ": \"${TARGET:=http://127.0.0.1:8000}\" \"${TOKEN:=refund-harness-token}\"\n"
                 ": \"${OMNITRON:=http://127.0.0.1:8001}\" \"${WEBHOOK:=http://127.0.0.1:8002}\"\n"
                 ": \"${FIXTURE_TOKEN:=}\"\n"
                 "set -x\n");
    const json_t *given = json_object_get(doc, "given");
    oms_buf_puts(&b,
                 "curl -sS -X POST \"$OMNITRON/__reset\"\ncurl -sS -X POST \"$WEBHOOK/__reset\"\n");
    behaviour_lines(&b, json_object_get(given, "receivers"));
    json_t *fx = marked_fixture(given);
    char *seed = repro_seed(fx);
    put_unmarked(&b, seed);
    oms_buf_puts(&b, "\n");
    free(seed);
    json_decref(fx);
    const json_t *when = json_object_get(doc, "when");
    for (size_t i = 0; i < json_array_size(when); i++) {
        const json_t *step = json_array_get(when, i);
        oms_buf_printf(&b, "# when[%zu]\n", i);
        if (json_object_get(step, "receivers")) {
            behaviour_lines(&b, json_object_get(step, "receivers"));
        } else if (json_object_get(step, "crash")) {
            crash_lines(&b, json_object_get(step, "crash"));
        } else if (result && i < result->step_count && result->steps[i].curl) {
            oms_buf_printf(&b, "%s\n", result->steps[i].curl);
        }
        oms_buf_puts(&b, "curl -sS -X POST \"$TARGET/_fixture/drain?timeout_ms=5000\" "
                         "-H \"X-Fixture-Token: $FIXTURE_TOKEN\"\n");
    }
    oms_buf_puts(&b,
                 "curl -sS \"$TARGET/_fixture/state\" -H \"X-Fixture-Token: $FIXTURE_TOKEN\"\n");
    return oms_buf_take(&b, NULL);
}

/* ---- files ---- */

int explore_report_write(const char *dir, const char *name, const char *text, struct oms_err *err)
{
    return report_write_file(dir, name, text, strlen(text), err);
}

int explore_report_all(const struct result_run *run, const json_t *explore, const char *dir,
                       struct oms_err *err)
{
    int rc = report_write_all(run, dir, err);
    if (rc != 0)
        return rc;
    /* results.json as `run` writes it, with the explore section after its summary. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/results.json", dir);
    json_t *doc = oms_json_load_file(path, err);
    if (!doc)
        return OMS_E_IO;
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        json_object_set(out, key, v);
        if (strcmp(key, "summary") == 0)
            json_object_set(out, "explore", (json_t *)explore);
    }
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_printf(&b, "%s\n", text ? text : "{}");
    rc = explore_report_write(dir, "results.json", oms_buf_str(&b), err);
    oms_buf_cleanup(&b);
    free(text);
    json_decref(out);
    json_decref(doc);
    return rc;
}
