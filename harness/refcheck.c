/* refcheck: references to the profile in a scenario, checked with "did you mean". */
#include "refcheck.h"

#include "jpos.h"
#include "matcher.h"
#include "oms_json.h"
#include "suggest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct refs {
    const struct scenario *s;
    const struct oms_profile *p;
    struct oms_err *errs;
    size_t max;
    size_t count;
};

static void report(struct refs *r, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct refs *r, const char *path, const char *fmt, ...)
{
    if (r->count < r->max) {
        int line = 0, col = 0;
        jpos_lookup(r->s->pos, path, &line, &col);
        va_list ap;
        va_start(ap, fmt);
        oms_err_clear(&r->errs[r->count]);
        oms_err_vset(&r->errs[r->count], OMS_E_INVAL, r->s->file, line, col, path, fmt, ap);
        va_end(ap);
    }
    r->count++;
}

/* "; did you mean \"X\"?" or "" into out. */
static const char *mean(const struct suggest *s, char *out, size_t size)
{
    out[0] = '\0';
    if (s->best)
        snprintf(out, size, "; did you mean \"%s\"?", s->best);
    return out;
}

/* A status by name ("Waiting", any case), key ("out_of_stock") or number; matchers are skipped
 * (walk_matchers looks inside them). */
static void check_status(struct refs *r, const json_t *v, const char *path)
{
    int64_t value;
    if (!v || (!json_is_string(v) && !json_is_integer(v)) ||
        oms_profile_status_resolve(r->p, v, &value) == 0)
        return;
    if (json_is_integer(v)) {
        report(r, path, "status %lld is not in the profile's catalogue",
               (long long)json_integer_value(v));
        return;
    }
    struct suggest s;
    suggest_init(&s, json_string_value(v));
    for (size_t i = 0; i < oms_profile_status_count(r->p); i++)
        suggest_consider(&s, oms_profile_status_at(r->p, i)->name);
    char hint[160];
    report(r, path, "\"%s\" is not a status of the profile's catalogue%s", json_string_value(v),
           mean(&s, hint, sizeof(hint)));
}

static void check_transition_id(struct refs *r, const json_t *v, const char *path)
{
    if (json_is_integer(v) && !oms_profile_transition_by_id(r->p, json_integer_value(v)))
        report(r, path, "transition %lld is not a transition of the profile",
               (long long)json_integer_value(v));
}

/* Returns 1 when v is a string that is no transition's slug, after reporting it (with why). */
static int check_slug(struct refs *r, const json_t *v, const char *path, const char *why)
{
    if (!json_is_string(v) || oms_profile_transition_by_slug(r->p, json_string_value(v)))
        return 0;
    struct suggest s;
    suggest_init(&s, json_string_value(v));
    for (size_t i = 0; i < oms_profile_transition_count(r->p); i++)
        suggest_consider(&s, oms_profile_transition_at(r->p, i)->slug);
    char hint[160];
    report(r, path, "slug \"%s\" is not a transition of the profile%s%s", json_string_value(v), why,
           mean(&s, hint, sizeof(hint)));
    return 1;
}

static void check_event_type(struct refs *r, const json_t *v, const char *path)
{
    if (!json_is_string(v))
        return;
    struct suggest s;
    suggest_init(&s, json_string_value(v));
    for (size_t i = 0; i < oms_profile_transition_count(r->p); i++) {
        const char *type = oms_profile_transition_at(r->p, i)->event_type;
        if (type && strcmp(type, json_string_value(v)) == 0)
            return;
        suggest_consider(&s, type);
    }
    char hint[200];
    report(r, path,
           "\"%s\" is the event type of no transition of the profile, so this subscription "
           "would never be called%s",
           json_string_value(v), mean(&s, hint, sizeof(hint)));
}

static void check_action(struct refs *r, const json_t *v, const char *path)
{
    const char *action = json_string_value(v);
    if (!action || oms_profile_lifecycle(r->p, action))
        return;
    struct suggest s;
    suggest_init(&s, action);
    const char *key;
    json_t *slugs;
    json_object_foreach(json_object_get(oms_profile_json(r->p), "lifecycle"), key, slugs)
    {
        if (json_is_array(slugs))
            suggest_consider(&s, key);
    }
    char hint[160];
    report(r, path, "\"%s\" is not a lifecycle action of the profile (its \"lifecycle\")%s", action,
           mean(&s, hint, sizeof(hint)));
}

/* Every {"$status": X} inside an expectation names a status. */
static void walk_matchers(struct refs *r, const json_t *v, const char *path)
{
    char p[OMS_ERR_PATH_MAX];
    if (json_is_object(v)) {
        const json_t *status = json_object_get(v, "$status");
        if (status && json_object_size(v) == 1) {
            check_status(r, status, oms_jpath_key(p, sizeof(p), path, "$status"));
            return;
        }
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child)
        {
            walk_matchers(r, child, oms_jpath_key(p, sizeof(p), path, key));
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            walk_matchers(r, child, oms_jpath_index(p, sizeof(p), path, i));
        }
    }
}

static void check_log_entries(struct refs *r, const json_t *log, const char *path)
{
    char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX];
    const json_t *list = log;
    const char *base = path;
    if (json_is_object(log) && json_object_size(log) == 1) {
        const char *inner = json_object_get(log, "$contains") ? "$contains" : "$unordered";
        list = json_object_get(log, inner);
        base = oms_jpath_key(q, sizeof(q), path, inner);
    }
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        char ep[OMS_ERR_PATH_MAX];
        oms_jpath_index(ep, sizeof(ep), base, i);
        check_status(r, json_object_get(e, "old_status"),
                     oms_jpath_key(p, sizeof(p), ep, "old_status"));
        check_status(r, json_object_get(e, "new_status"),
                     oms_jpath_key(p, sizeof(p), ep, "new_status"));
        check_transition_id(r, json_object_get(e, "transition"),
                            oms_jpath_key(p, sizeof(p), ep, "transition"));
        check_slug(r, json_object_get(e, "slug"), oms_jpath_key(p, sizeof(p), ep, "slug"), "");
    }
}

static void check_then(struct refs *r, const json_t *then, const char *path)
{
    char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX];
    if (!then)
        return;
    const char *id;
    json_t *pkg;
    json_object_foreach(json_object_get(then, "packages"), id, pkg)
    {
        oms_jpath_key(q, sizeof(q), oms_jpath_key(p, sizeof(p), path, "packages"), id);
        check_status(r, json_object_get(pkg, "status"), oms_jpath_key(p, sizeof(p), q, "status"));
        const json_t *items = json_object_get(pkg, "items");
        oms_jpath_key(p, sizeof(p), q, "items");
        if (!json_is_object(items)) {
            check_status(r, items, p);
            continue;
        }
        const char *item;
        json_t *status;
        json_object_foreach((json_t *)items, item, status)
        {
            check_status(r, status, oms_jpath_key(q, sizeof(q), p, item));
        }
    }
    check_log_entries(r, json_object_get(then, "transition_log"),
                      oms_jpath_key(p, sizeof(p), path, "transition_log"));
    walk_matchers(r, then, path);
}

static void check_given(struct refs *r, const json_t *given)
{
    char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX];
    size_t i;
    json_t *pkg;
    json_array_foreach(json_object_get(given, "packages"), i, pkg)
    {
        oms_jpath_index(q, sizeof(q), "$.given.packages", i);
        check_status(r, json_object_get(pkg, "status"), oms_jpath_key(p, sizeof(p), q, "status"));
        size_t k;
        json_t *item;
        json_array_foreach(json_object_get(pkg, "items"), k, item)
        {
            char ip[OMS_ERR_PATH_MAX];
            oms_jpath_index(ip, sizeof(ip), oms_jpath_key(p, sizeof(p), q, "items"), k);
            check_status(r, json_object_get(item, "status"),
                         oms_jpath_key(p, sizeof(p), ip, "status"));
        }
    }
    json_t *sub;
    json_array_foreach(json_object_get(given, "subscriptions"), i, sub)
    {
        oms_jpath_index(q, sizeof(q), "$.given.subscriptions", i);
        check_event_type(r, json_object_get(sub, "event_type"),
                         oms_jpath_key(p, sizeof(p), q, "event_type"));
    }
}

/* 1 when the step's own then expects the request to succeed (2xx) and nothing else. */
static int expects_success(const json_t *then, long *status)
{
    const json_t *want = json_object_get(json_object_get(then, "response"), "status");
    if (json_is_integer(want)) {
        *status = (long)json_integer_value(want);
        return *status >= 200 && *status < 300;
    }
    const json_t *by_status = json_object_get(then, "responses");
    const char *code;
    json_t *v;
    int all_success = json_object_size(by_status) > 0;
    json_object_foreach((json_t *)by_status, code, v)
    {
        all_success &= code[0] == '2';
        *status = strtol(code, NULL, 10);
    }
    return all_success;
}

/* A command body is request data - except that a step expecting success from a slug or
 * transition the profile does not have is certainly a typo. */
static void check_command_body(struct refs *r, const struct scenario_step *st)
{
    long status = 0;
    const json_t *body = json_object_get(st->request, "body");
    if (st->kind != STEP_COMMAND || !json_is_object(body) || !expects_success(st->then, &status))
        return;
    char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX], why[160];
    oms_jpath_key(q, sizeof(q), oms_jpath_key(p, sizeof(p), st->path, "command"), "body");
    snprintf(why, sizeof(why), ", yet the step expects %ld", status);
    check_slug(r, json_object_get(body, "slug"), oms_jpath_key(p, sizeof(p), q, "slug"), why);
    const json_t *id = json_object_get(body, "transition");
    if (json_is_integer(id) && !oms_profile_transition_by_id(r->p, json_integer_value(id)))
        report(r, oms_jpath_key(p, sizeof(p), q, "transition"),
               "transition %lld is not a transition of the profile%s",
               (long long)json_integer_value(id), why);
}

static void check_steps(struct refs *r)
{
    char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX];
    for (size_t i = 0; i < r->s->step_count; i++) {
        const struct scenario_step *st = &r->s->steps[i];
        if (st->kind == STEP_LIFECYCLE) {
            oms_jpath_key(q, sizeof(q), st->path, "lifecycle");
            check_action(r, json_object_get(st->request, "action"),
                         oms_jpath_key(p, sizeof(p), q, "action"));
            const json_t *plan = json_object_get(st->request, "plan");
            oms_jpath_key(q, sizeof(q), oms_jpath_key(p, sizeof(p), q, "plan"), "status");
            check_status(r, json_object_get(plan, "status"), q);
        }
        check_command_body(r, st);
        check_then(r, st->then, oms_jpath_key(p, sizeof(p), st->path, "then"));
    }
}

size_t refcheck_scenario(const struct scenario *s, const struct oms_profile *profile,
                         struct oms_err *errs, size_t max)
{
    struct refs r = {.s = s, .errs = errs, .max = max};
    struct oms_profile *own = NULL;
    const json_t *patch = json_object_get(s->given, "profile");
    if (patch) {
        struct oms_err err = {0};
        if (oms_profile_with_overrides(profile, patch, &own, &err) != 0) {
            char p[OMS_ERR_PATH_MAX];
            snprintf(p, sizeof(p), "$.given.profile%.480s", err.path[0] == '$' ? err.path + 1 : "");
            report(&r, p, "the profile overrides are invalid: %s", err.message);
            return r.count;
        }
    }
    r.p = own ? own : profile;
    check_given(&r, s->given);
    check_steps(&r);
    check_then(&r, s->then, "$.then");
    oms_profile_unref(own);
    return r.count;
}
