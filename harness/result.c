/* result: building and freeing run results. */
#include "result.h"

#include "oms_alloc.h"

#include <stdlib.h>
#include <string.h>

const char *result_outcome_name(enum result_outcome o)
{
    switch (o) {
    case RESULT_PASS:
        return "passed";
    case RESULT_FAIL:
        return "failed";
    case RESULT_ERROR:
        return "error";
    case RESULT_SKIP:
        return "skipped";
    case RESULT_NOTED:
        return "noted";
    }
    return "unknown";
}

const char *result_check_state_name(enum result_check_state s)
{
    static const char *const names[] = {"passed", "failed", "noted", "skipped"};
    return (unsigned)s < OMS_ARRAY_LEN(names) ? names[s] : "unknown";
}

void result_run_init(struct result_run *run)
{
    memset(run, 0, sizeof(*run));
}

static void checks_free(struct result_check *checks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(checks[i].what);
        free(checks[i].where);
        free(checks[i].rule);
        free(checks[i].basis);
        free(checks[i].message);
        json_decref(checks[i].expected);
        json_decref(checks[i].actual);
        json_decref(checks[i].mismatches);
    }
    free(checks);
}

static void scenario_free(struct result_scenario *s)
{
    free(s->file);
    free(s->id);
    free(s->name);
    for (size_t i = 0; i < s->rule_count; i++)
        free(s->rules[i]);
    free(s->rules);
    for (size_t i = 0; i < s->tag_count; i++)
        free(s->tags[i]);
    free(s->tags);
    free(s->error);
    free(s->target_url);
    free(s->seed);
    free(s->rerun);
    for (size_t i = 0; i < s->step_count; i++) {
        free(s->steps[i].label);
        free(s->steps[i].curl);
        json_decref(s->steps[i].request);
        json_decref(s->steps[i].responses);
        json_decref(s->steps[i].crash);
        checks_free(s->steps[i].checks, s->steps[i].check_count);
    }
    free(s->steps);
    checks_free(s->checks, s->check_count);
    json_decref(s->calls);
    json_decref(s->notes);
    free(s->known_reason);
    free(s->known_issue);
}

void result_run_cleanup(struct result_run *run)
{
    for (size_t i = 0; i < run->count; i++)
        scenario_free(&run->scenarios[i]);
    free(run->scenarios);
    free(run->target);
    json_decref(run->profile);
    json_decref(run->rules);
    memset(run, 0, sizeof(*run));
}

struct result_scenario *result_run_add(struct result_run *run)
{
    if (run->count == run->cap) {
        run->cap = run->cap ? run->cap * 2 : 32;
        run->scenarios = oms_xrealloc(run->scenarios, run->cap * sizeof(*run->scenarios));
    }
    struct result_scenario *s = &run->scenarios[run->count++];
    memset(s, 0, sizeof(*s));
    s->calls = json_array();
    s->notes = json_array();
    return s;
}

void result_run_tally(struct result_run *run)
{
    run->passed = run->failed = run->errors = run->skipped = run->noted = run->known = run->fixed =
        0;
    for (size_t i = 0; i < run->count; i++) {
        run->fixed += run->scenarios[i].known == RESULT_KNOWN_FIXED;
        if (run->scenarios[i].known == RESULT_KNOWN_FAILING) {
            run->known++;
            continue;
        }
        switch (run->scenarios[i].outcome) {
        case RESULT_PASS:
            run->passed++;
            break;
        case RESULT_FAIL:
            run->failed++;
            break;
        case RESULT_ERROR:
            run->errors++;
            break;
        case RESULT_SKIP:
            run->skipped++;
            break;
        case RESULT_NOTED:
            run->noted++;
            break;
        }
    }
}

struct result_step *result_scenario_add_step(struct result_scenario *s)
{
    s->steps = oms_xrealloc(s->steps, (s->step_count + 1) * sizeof(*s->steps));
    struct result_step *st = &s->steps[s->step_count++];
    memset(st, 0, sizeof(*st));
    st->responses = json_array();
    return st;
}

struct result_check *result_add_check(struct result_check **checks, size_t *count, const char *what,
                                      const char *where, const char *rule, const json_t *expected,
                                      const json_t *actual, json_t *mismatches)
{
    *checks = oms_xrealloc(*checks, (*count + 1) * sizeof(**checks));
    struct result_check *c = &(*checks)[(*count)++];
    memset(c, 0, sizeof(*c));
    c->what = oms_xstrdup(what);
    c->where = oms_xstrdup(where ? where : "");
    c->rule = oms_xstrdup(rule);
    c->expected = expected ? json_deep_copy(expected) : NULL;
    c->actual = actual ? json_deep_copy(actual) : NULL;
    c->mismatches = mismatches ? mismatches : json_array();
    c->state = json_array_size(c->mismatches) == 0 ? CHECK_PASSED : CHECK_FAILED;
    if (c->state != CHECK_PASSED)
        c->message = oms_xstrdup(
            json_string_value(json_object_get(json_array_get(c->mismatches, 0), "message")));
    return c;
}

struct result_check *result_skip_check(struct result_check **checks, size_t *count,
                                       const char *what, const char *where, const char *rule,
                                       const char *why)
{
    struct result_check *c =
        result_add_check(checks, count, what, where, rule, NULL, NULL, json_array());
    c->state = CHECK_SKIPPED;
    c->message = oms_xstrdup(why);
    return c;
}

const struct result_check *result_first_in(const struct result_scenario *s,
                                           enum result_check_state state)
{
    for (size_t i = 0; i < s->step_count; i++)
        for (size_t j = 0; j < s->steps[i].check_count; j++)
            if (s->steps[i].checks[j].state == state)
                return &s->steps[i].checks[j];
    for (size_t j = 0; j < s->check_count; j++)
        if (s->checks[j].state == state)
            return &s->checks[j];
    return NULL;
}

const struct result_check *result_first_failure(const struct result_scenario *s)
{
    return result_first_in(s, CHECK_FAILED);
}

static void count_checks(const struct result_check *checks, size_t n, struct result_counts *out,
                         size_t *own, size_t *own_skipped)
{
    for (size_t j = 0; j < n; j++) {
        out->total++;
        switch (checks[j].state) {
        case CHECK_PASSED:
            out->passed++;
            break;
        case CHECK_FAILED:
            out->failed++;
            break;
        case CHECK_NOTED:
            out->noted++;
            break;
        case CHECK_SKIPPED:
            out->skipped++;
            break;
        }
        if (!checks[j].invariant) {
            (*own)++;
            *own_skipped += checks[j].state == CHECK_SKIPPED;
        }
    }
}

static void count_all(const struct result_scenario *s, struct result_counts *out, size_t *own,
                      size_t *own_skipped)
{
    memset(out, 0, sizeof(*out));
    *own = *own_skipped = 0;
    for (size_t i = 0; i < s->step_count; i++)
        count_checks(s->steps[i].checks, s->steps[i].check_count, out, own, own_skipped);
    count_checks(s->checks, s->check_count, out, own, own_skipped);
}

void result_scenario_count(const struct result_scenario *s, struct result_counts *out)
{
    size_t own, own_skipped;
    count_all(s, out, &own, &own_skipped);
}

void result_scenario_counts(const struct result_scenario *s, size_t *checks, size_t *failed)
{
    struct result_counts c;
    result_scenario_count(s, &c);
    *checks = c.total;
    *failed = c.failed;
}

void result_scenario_settle(struct result_scenario *s)
{
    if (s->outcome != RESULT_PASS && s->outcome != RESULT_FAIL && s->outcome != RESULT_NOTED)
        return;
    struct result_counts c;
    size_t own, own_skipped;
    count_all(s, &c, &own, &own_skipped);
    if (c.failed) {
        s->outcome = RESULT_FAIL;
    } else if (c.noted) {
        s->outcome = RESULT_NOTED;
    } else if (own > 0 && own_skipped == own) {
        const struct result_check *k = result_first_in(s, CHECK_SKIPPED);
        s->outcome = RESULT_SKIP;
        free(s->error);
        s->error = oms_xstrdup(k && k->message ? k->message : "every check was skipped");
    } else {
        s->outcome = RESULT_PASS;
    }
}
