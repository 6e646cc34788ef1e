/* explore_shrink: greedy shrinking of a failing probe, pass by pass until nothing smaller fails. */
#include "explore_shrink.h"

#include "crash.h"
#include "explore_gen.h"
#include "oms_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A mutation makes candidate number k of doc: MUT_DONE when there is no k-th, MUT_SKIP when the
 * k-th cannot be made smaller, MUT_MADE with *out set (a new document). */
enum mut { MUT_DONE, MUT_SKIP, MUT_MADE };
typedef enum mut (*mutation_fn)(const json_t *doc, size_t k, json_t **out);

static json_t *given_of(json_t *doc)
{
    return json_object_get(doc, "given");
}

static const json_t *cgiven(const json_t *doc)
{
    return json_object_get(doc, "given");
}

/* Removes element k of the array at given.<key>; an emptied array goes too. */
static enum mut drop_given(const json_t *doc, const char *key, size_t k, json_t **out)
{
    if (k >= json_array_size(json_object_get(cgiven(doc), key)))
        return MUT_DONE;
    *out = json_deep_copy(doc);
    json_t *list = json_object_get(given_of(*out), key);
    json_array_remove(list, k);
    if (json_array_size(list) == 0)
        json_object_del(given_of(*out), key);
    return MUT_MADE;
}

static enum mut drop_package(const json_t *doc, size_t k, json_t **out)
{
    return drop_given(doc, "packages", k, out);
}

static enum mut drop_subscription(const json_t *doc, size_t k, json_t **out)
{
    return drop_given(doc, "subscriptions", k, out);
}

/* Faults still configured anywhere (given or a receivers step): retries must stay quick. */
static int has_faults(const json_t *doc)
{
    if (json_object_size(json_object_get(cgiven(doc), "receivers")))
        return 1;
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(doc, "when"), i, step)
    {
        if (json_object_get(step, "receivers") ||
            json_object_get(json_object_get(step, "crash"), "receivers"))
            return 1;
    }
    return 0;
}

static enum mut drop_receivers(const json_t *doc, size_t k, json_t **out)
{
    static const char *const parts[] = {NULL, "omnitron", "webhook"};
    if (k >= 3)
        return MUT_DONE;
    json_t *rv = json_object_get(cgiven(doc), "receivers");
    if (!rv || (parts[k] && !json_object_get(rv, parts[k])))
        return MUT_SKIP;
    *out = json_deep_copy(doc);
    json_t *mine = json_object_get(given_of(*out), "receivers");
    if (parts[k])
        json_object_del(mine, parts[k]);
    if (!parts[k] || json_object_size(mine) == 0)
        json_object_del(given_of(*out), "receivers");
    return MUT_MADE;
}

/* Fault rule k of the given receivers, counting Omnitron's first. */
static enum mut drop_fault(const json_t *doc, size_t k, json_t **out)
{
    static const char *const parts[] = {"omnitron", "webhook"};
    json_t *rv = json_object_get(cgiven(doc), "receivers");
    for (size_t i = 0; i < 2; i++) {
        json_t *faults = json_object_get(json_object_get(rv, parts[i]), "faults");
        if (k < json_array_size(faults)) {
            *out = json_deep_copy(doc);
            json_t *mine = json_object_get(
                json_object_get(json_object_get(given_of(*out), "receivers"), parts[i]), "faults");
            json_array_remove(mine, k);
            return MUT_MADE;
        }
        k -= json_array_size(faults);
    }
    return MUT_DONE;
}

static int location_used(const json_t *doc, json_int_t id)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(cgiven(doc), "packages"), i, p)
    {
        if (json_integer_value(json_object_get(p, "location")) == id)
            return 1;
    }
    json_t *step;
    json_array_foreach(json_object_get(doc, "when"), i, step)
    {
        json_t *plan = json_object_get(json_object_get(step, "lifecycle"), "plan");
        if (json_integer_value(json_object_get(plan, "location")) == id)
            return 1;
    }
    return 0;
}

static enum mut drop_location(const json_t *doc, size_t k, json_t **out)
{
    const json_t *locs = json_object_get(cgiven(doc), "locations");
    if (k >= json_array_size(locs))
        return MUT_DONE;
    if (location_used(doc, json_integer_value(json_object_get(json_array_get(locs, k), "id"))))
        return MUT_SKIP;
    return drop_given(doc, "locations", k, out);
}

/* Element k of package lists named key, flattened over the packages: *pkg and *index. */
static int locate(json_t *doc, const char *key, size_t k, json_t **pkg, size_t *index)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(given_of(doc), "packages"), i, p)
    {
        size_t n = json_array_size(json_object_get(p, key));
        if (k < n) {
            *pkg = p;
            *index = k;
            return 1;
        }
        k -= n;
    }
    return 0;
}

static enum mut drop_record(const json_t *doc, const char *key, size_t k, json_t **out)
{
    json_t *copy = json_deep_copy(doc);
    json_t *pkg;
    size_t i;
    if (!locate(copy, key, k, &pkg, &i)) {
        json_decref(copy);
        return MUT_DONE;
    }
    json_t *list = json_object_get(pkg, key);
    if (strcmp(key, "items") == 0) {
        if (json_array_size(list) < 2) {
            json_decref(copy);
            return MUT_SKIP; /* a package keeps one item */
        }
        /* Discrepancies about the item go with it. */
        json_int_t id = json_integer_value(json_object_get(json_array_get(list, i), "id"));
        json_t *dis = json_object_get(pkg, "discrepancies");
        for (size_t d = json_array_size(dis); d-- > 0;)
            if (json_integer_value(json_object_get(json_array_get(dis, d), "item")) == id)
                json_array_remove(dis, d);
    }
    json_array_remove(list, i);
    if (json_array_size(list) == 0)
        json_object_del(pkg, key);
    if (json_object_get(pkg, "discrepancies") &&
        json_array_size(json_object_get(pkg, "discrepancies")) == 0)
        json_object_del(pkg, "discrepancies");
    *out = copy;
    return MUT_MADE;
}

static enum mut drop_item(const json_t *doc, size_t k, json_t **out)
{
    return drop_record(doc, "items", k, out);
}

static enum mut drop_reservation(const json_t *doc, size_t k, json_t **out)
{
    return drop_record(doc, "reservations", k, out);
}

static enum mut drop_discrepancy(const json_t *doc, size_t k, json_t **out)
{
    return drop_record(doc, "discrepancies", k, out);
}

/* Profile overrides one by one, then the virtual clock: the retry settings and the clock go
 * only once no receiver fails (else a candidate would wait for real retries). */
static enum mut drop_setting(const json_t *doc, size_t k, json_t **out)
{
    const json_t *profile = json_object_get(cgiven(doc), "profile");
    size_t n = json_object_size(profile);
    if (k > n)
        return MUT_DONE;
    if (k == n) {
        if (!json_object_get(cgiven(doc), "clock") || has_faults(doc))
            return MUT_SKIP;
        *out = json_deep_copy(doc);
        json_object_del(given_of(*out), "clock");
        return MUT_MADE;
    }
    void *it = json_object_iter((json_t *)profile);
    for (size_t i = 0; i < k; i++)
        it = json_object_iter_next((json_t *)profile, it);
    const char *key = json_object_iter_key(it);
    if (strcmp(key, "delivery") == 0 && has_faults(doc))
        return MUT_SKIP;
    *out = json_deep_copy(doc);
    json_t *mine = json_object_get(given_of(*out), "profile");
    json_object_del(mine, key);
    if (json_object_size(mine) == 0)
        json_object_del(given_of(*out), "profile");
    return MUT_MADE;
}

/* Simpler steps: one copy instead of several, fewer copies, no ignored key, no sync flag. */
static enum mut simplify_step(const json_t *doc, size_t k, json_t **out)
{
    size_t step = k / 4, what = k % 4;
    const json_t *st = json_array_get(json_object_get(doc, "when"), step);
    if (!st)
        return MUT_DONE;
    const json_t *body = json_object_get(json_object_get(st, "command"), "body");
    json_int_t copies = json_integer_value(json_object_get(st, "concurrent"));
    if ((what == 0 && !copies) || (what == 1 && copies <= 2) ||
        (what == 2 && !json_object_get(body, "note")) ||
        (what == 3 && !json_object_get(body, "sync_remote_order_status")))
        return MUT_SKIP;
    *out = json_deep_copy(doc);
    json_t *mine = json_array_get(json_object_get(*out, "when"), step);
    json_t *mbody = json_object_get(json_object_get(mine, "command"), "body");
    if (what == 0)
        json_object_del(mine, "concurrent");
    else if (what == 1)
        json_object_set_new(mine, "concurrent", json_integer(2));
    else if (what == 2)
        json_object_del(mbody, "note");
    else
        json_object_del(mbody, "sync_remote_order_status");
    return MUT_MADE;
}

/* Simpler crash steps: killed at once instead of inside a burst, half the burst's packages (gone
 * from given too), no delay, no receivers set at the restart, a random moment written as the
 * answer it stands for, an earlier answer. */
enum {
    CRASH_NOW,
    CRASH_HALF,
    CRASH_DELAY,
    CRASH_RECEIVERS,
    CRASH_FIXED,
    CRASH_EARLIER,
    CRASH_WAYS
};

static enum mut simplify_crash(const json_t *doc, size_t k, json_t **out)
{
    size_t step = k / CRASH_WAYS, what = k % CRASH_WAYS;
    const json_t *st = json_array_get(json_object_get(doc, "when"), step);
    if (!st)
        return MUT_DONE;
    const json_t *crash = json_object_get(st, "crash");
    const json_t *burst = json_object_get(crash, "burst");
    const json_t *list = json_object_get(burst, "packages");
    json_int_t after = json_integer_value(json_object_get(crash, "after"));
    int ok = 0;
    switch (what) {
    case CRASH_NOW:
        ok = burst != NULL;
        break;
    case CRASH_HALF:
        ok = json_is_array(list) && json_array_size(list) >= 2;
        break;
    case CRASH_DELAY:
        ok = json_object_get(crash, "delay_ms") != NULL;
        break;
    case CRASH_RECEIVERS:
        ok = json_object_get(crash, "receivers") != NULL;
        break;
    case CRASH_FIXED:
        ok = burst && json_object_get(crash, "at") &&
             json_is_integer(json_object_get(crash, "seed"));
        break;
    default:
        ok = after > 1;
        break;
    }
    if (!ok)
        return MUT_SKIP;
    *out = json_deep_copy(doc);
    json_t *mine = json_object_get(json_array_get(json_object_get(*out, "when"), step), "crash");
    if (what == CRASH_NOW) {
        static const char *const keys[] = {"burst", "after", "at", "seed", "delay_ms"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            json_object_del(mine, keys[i]);
    } else if (what == CRASH_HALF) {
        /* The later half goes from the burst and from given; repair keeps "after" within it. */
        json_t *ids = json_object_get(json_object_get(mine, "burst"), "packages");
        json_t *pkgs = json_object_get(given_of(*out), "packages");
        for (size_t n = json_array_size(ids), keep = n - n / 2; json_array_size(ids) > keep;) {
            json_int_t id = json_integer_value(json_array_get(ids, json_array_size(ids) - 1));
            json_array_remove(ids, json_array_size(ids) - 1);
            for (size_t i = json_array_size(pkgs); i-- > 0;)
                if (json_integer_value(json_object_get(json_array_get(pkgs, i), "id")) == id)
                    json_array_remove(pkgs, i);
        }
    } else if (what == CRASH_DELAY) {
        json_object_del(mine, "delay_ms");
    } else if (what == CRASH_RECEIVERS) {
        json_object_del(mine, "receivers");
    } else if (what == CRASH_FIXED) {
        /* The same moment: the answer the seed draws (crash.h), written out. */
        size_t n = 0;
        int64_t *ids = crash_burst_packages(json_object_get(mine, "burst"), &n);
        free(ids);
        json_int_t c =
            json_integer_value(json_object_get(json_object_get(mine, "burst"), "concurrent"));
        size_t conc = c > 0 ? (size_t)c : CRASH_DEFAULT_CONCURRENT;
        uint64_t seed = (uint64_t)json_integer_value(json_object_get(mine, "seed"));
        size_t at = crash_random_after(seed, n, conc < n ? conc : n);
        json_object_del(mine, "at");
        json_object_del(mine, "seed");
        json_object_set_new(mine, "after", json_integer((json_int_t)at));
    } else {
        json_object_set_new(mine, "after", json_integer((after + 1) / 2));
    }
    return MUT_MADE;
}

static enum mut simplify_subscription(const json_t *doc, size_t k, json_t **out)
{
    static const char *const keys[] = {"secret_key", "additional_headers",
                                       "retry_countdown_config"};
    const json_t *sub = json_array_get(json_object_get(cgiven(doc), "subscriptions"), k / 3);
    if (!sub)
        return MUT_DONE;
    const char *key = keys[k % 3];
    if (!json_object_get(sub, key))
        return MUT_SKIP;
    *out = json_deep_copy(doc);
    json_object_del(json_array_get(json_object_get(given_of(*out), "subscriptions"), k / 3), key);
    return MUT_MADE;
}

/* Smaller numbers: quantities gone, a location's max_quota lower, its drift and scenario rules
 * gone, a fault's repetitions down to one. */
static enum mut simplify_numbers(const json_t *doc, size_t k, json_t **out)
{
    size_t what = k % 4, index = k / 4;
    json_t *copy = json_deep_copy(doc);
    json_t *g = given_of(copy);
    int made = 0, exists = 0;
    if (what == 0) {
        json_t *loc = json_array_get(json_object_get(g, "locations"), index);
        exists = loc != NULL;
        json_int_t max = json_integer_value(json_object_get(loc, "max_quota"));
        if (loc && max > 0) {
            json_object_set_new(loc, "max_quota", json_integer(max / 2));
            made = 1;
        }
    } else if (what == 1) {
        json_t *loc = json_array_get(json_object_get(g, "locations"), index);
        exists = loc != NULL;
        if (json_object_get(loc, "quota_drift")) {
            json_object_del(loc, "quota_drift");
            made = 1;
        } else if (json_object_get(loc, "scenario_rules")) {
            json_object_del(loc, "scenario_rules");
            made = 1;
        }
    } else if (what == 2) {
        /* Quantities of every item, reservation and discrepancy of package `index`. */
        static const char *const lists[] = {"items", "reservations", "discrepancies"};
        json_t *pkg = json_array_get(json_object_get(g, "packages"), index);
        exists = pkg != NULL;
        for (size_t l = 0; l < 3; l++) {
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(pkg, lists[l]), i, e)
            {
                json_t *q = json_object_get(e, "quantity");
                if (q && (l == 1 ? json_integer_value(q) != 1 : 1)) {
                    if (l == 1)
                        json_object_set_new(e, "quantity", json_integer(1));
                    else
                        json_object_del(e, "quantity");
                    made = 1;
                }
            }
        }
    } else {
        static const char *const parts[] = {"omnitron", "webhook"};
        json_t *rv = json_object_get(g, "receivers");
        for (size_t i = 0; i < 2; i++) {
            size_t f;
            json_t *rule;
            json_array_foreach(json_object_get(json_object_get(rv, parts[i]), "faults"), f, rule)
            {
                exists |= index == 0;
                if (index == 0 && json_integer_value(json_object_get(rule, "times")) > 1) {
                    json_object_set_new(rule, "times", json_integer(1));
                    made = 1;
                }
            }
        }
        if (index > 0)
            exists = 0;
    }
    if (!made) {
        json_decref(copy);
        return exists ? MUT_SKIP : MUT_DONE;
    }
    *out = copy;
    return MUT_MADE;
}

struct shrinker {
    const struct oms_profile *p;
    explore_shrink_test_fn test;
    void *arg;
    struct explore_shrink_stats *stats;
    size_t max_candidates;
    int64_t deadline_us;
    json_t *best;
};

static int out_of_budget(struct shrinker *s)
{
    if (s->stats->candidates >= s->max_candidates || oms_time_mono_us() >= s->deadline_us) {
        s->stats->exhausted = 1;
        return 1;
    }
    return 0;
}

/* Tests a candidate (stolen); keeps it as the best when it still fails. */
static int try_candidate(struct shrinker *s, json_t *candidate)
{
    explore_gen_repair(candidate, s->p);
    if (json_equal(candidate, s->best)) {
        json_decref(candidate);
        return 0;
    }
    s->stats->candidates++;
    if (s->test(s->arg, candidate)) {
        json_decref(s->best);
        s->best = candidate;
        s->stats->accepted++;
        return 1;
    }
    json_decref(candidate);
    return 0;
}

/* Steps: chunks of half the steps, then quarters... then single steps. */
static int shrink_steps(struct shrinker *s)
{
    int progress = 0;
    size_t n = json_array_size(json_object_get(s->best, "when"));
    for (size_t chunk = n / 2 ? n / 2 : 1; chunk >= 1; chunk /= 2) {
        size_t i = 0;
        while (i < json_array_size(json_object_get(s->best, "when")) && !out_of_budget(s)) {
            size_t len = json_array_size(json_object_get(s->best, "when"));
            if (len <= 1)
                return progress;
            json_t *c = json_deep_copy(s->best);
            json_t *when = json_object_get(c, "when");
            for (size_t r = 0; r < chunk && i < json_array_size(when); r++)
                json_array_remove(when, i);
            if (json_array_size(when) == 0) {
                json_decref(c);
                break;
            }
            if (try_candidate(s, c))
                progress = 1; /* the step now at i is new: try it next */
            else
                i += chunk;
        }
        if (chunk == 1)
            break;
    }
    return progress;
}

static int run_pass(struct shrinker *s, mutation_fn fn)
{
    int progress = 0;
    for (size_t k = 0; !out_of_budget(s);) {
        json_t *c = NULL;
        enum mut m = fn(s->best, k, &c);
        if (m == MUT_DONE)
            break;
        if (m == MUT_MADE && try_candidate(s, c)) {
            progress = 1; /* element k changed (or went): look at k again */
            continue;
        }
        k++;
    }
    return progress;
}

json_t *explore_shrink(const json_t *probe, const struct oms_profile *p,
                       explore_shrink_test_fn test, void *arg,
                       const struct explore_shrink_limits *limits,
                       struct explore_shrink_stats *stats)
{
    struct explore_shrink_stats local = {0};
    struct shrinker s = {
        .p = p,
        .test = test,
        .arg = arg,
        .stats = stats ? stats : &local,
        .max_candidates = limits && limits->max_candidates ? limits->max_candidates : 2000,
        .best = json_deep_copy(probe),
    };
    memset(s.stats, 0, sizeof(*s.stats));
    int64_t started = oms_time_mono_us();
    s.deadline_us = started + (limits && limits->max_ms ? limits->max_ms : 60000) * 1000;
    static const mutation_fn passes[] = {
        simplify_crash,   drop_package,  drop_subscription, drop_receivers,
        drop_fault,       drop_location, drop_item,         drop_reservation,
        drop_discrepancy, drop_setting,  simplify_step,     simplify_subscription,
        simplify_numbers,
    };
    int progress = 1;
    while (progress && !out_of_budget(&s)) {
        progress = shrink_steps(&s);
        for (size_t i = 0; i < sizeof(passes) / sizeof(passes[0]); i++)
            progress |= run_pass(&s, passes[i]);
    }
    s.stats->elapsed_us = oms_time_mono_us() - started;
    return s.best;
}
