/* test_explore_gen: explore's random numbers and cases - the same seed and case number give the
 * same document, every case is a valid scenario the reference's fixture accepts (quotas agree
 * with the counting packages unless drift is declared), a case never needs a capability the
 * target lacks, and over a few hundred cases the generator reaches what issue 14 lists: every
 * catalogue status, 1-5 items, reservations and discrepancies, 0/1/several subscriptions with and
 * without secret and headers and to other event types, failing receivers of every kind, the sync
 * flag in all its forms, malformed and conflicting commands, transport faults, concurrency,
 * repeats, lifecycle steps and receivers changing; and, asked for, crash steps - kill -9 now or
 * inside a burst after the Nth answer or at a moment drawn from the seed and written in the step,
 * with receivers down or failing around them - on packages the case has, within K steps. */
#include "support.h"

#include "crash.h"
#include "explore_gen.h"
#include "explore_rng.h"
#include "oms_json.h"
#include "scenario.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_rng_same_seed_same_numbers(void **state)
{
    (void)state;
    struct explore_rng a, b, c;
    explore_rng_init(&a, 42, 7);
    explore_rng_init(&b, 42, 7);
    explore_rng_init(&c, 42, 8);
    int differs = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = explore_rng_next(&a);
        assert_true(x == explore_rng_next(&b));
        differs |= x != explore_rng_next(&c);
    }
    assert_true(differs);
    /* Seed and stream are not interchangeable. */
    explore_rng_init(&a, 7, 42);
    explore_rng_init(&b, 42, 7);
    assert_true(explore_rng_next(&a) != explore_rng_next(&b));
    /* A known value: the generator must not change under a refactoring (case files would). */
    explore_rng_init(&a, 0, 0);
    assert_true(explore_rng_mix(0) == 0xe220a8397b1dcdafull);
}

static void test_rng_ranges_and_weights(void **state)
{
    (void)state;
    struct explore_rng r;
    explore_rng_init(&r, 1, 1);
    int seen[5] = {0};
    for (int i = 0; i < 2000; i++) {
        uint64_t v = explore_rng_below(&r, 5);
        assert_true(v < 5);
        seen[v]++;
        int64_t x = explore_rng_range(&r, -2, 2);
        assert_true(x >= -2 && x <= 2);
    }
    for (int i = 0; i < 5; i++)
        assert_true(seen[i] > 300); /* uniform enough: 400 expected each */
    assert_int_equal(explore_rng_below(&r, 0), 0);
    static const unsigned w[] = {0, 3, 0, 1};
    int picked[4] = {0};
    for (int i = 0; i < 1000; i++)
        picked[explore_rng_weighted(&r, w, 4)]++;
    assert_int_equal(picked[0], 0);
    assert_int_equal(picked[2], 0);
    assert_true(picked[1] > 2 * picked[3]);
    int yes = 0;
    for (int i = 0; i < 1000; i++)
        yes += explore_rng_chance(&r, 25);
    assert_true(yes > 150 && yes < 350);
}

static struct explore_gen_config all_caps(const struct oms_profile *p)
{
    struct explore_gen_config c = {
        .profile = p, .max_steps = 8, .plan = 1, .clock = 1, .profile_overrides = 1};
    return c;
}

static void test_gen_same_seed_same_case(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    struct explore_gen_config cfg = all_caps(p);
    for (uint64_t i = 0; i < 50; i++) {
        json_t *a = explore_gen_case(&cfg, 99, i), *b = explore_gen_case(&cfg, 99, i);
        char *ta = oms_json_dumps(a), *tb = oms_json_dumps(b);
        assert_string_equal(ta, tb);
        json_t *other = explore_gen_case(&cfg, 100, i);
        assert_false(json_equal(a, other));
        free(ta);
        free(tb);
        json_decref(a);
        json_decref(b);
        json_decref(other);
    }
    oms_profile_unref(p);
}

/* Counts of what a set of cases holds, by name. */
static void count(json_t *seen, const char *what)
{
    json_t *n = json_object_get(seen, what);
    json_object_set_new(seen, what, json_integer(n ? json_integer_value(n) + 1 : 1));
}

static int64_t status_of(const struct oms_profile *p, const json_t *v)
{
    int64_t s = -1;
    assert_int_equal(oms_profile_status_resolve(p, v, &s), 0);
    return s;
}

static void note_request(json_t *seen, const json_t *r)
{
    const json_t *body = json_object_get(r, "body");
    if (json_object_get(r, "raw_body"))
        count(seen, "raw body");
    if (body && !json_is_object(body))
        count(seen, "body not an object");
    if (json_is_object(body)) {
        const json_t *t = json_object_get(body, "transition"), *s = json_object_get(body, "slug");
        if (t && s)
            count(seen, "transition and slug");
        else if (t)
            count(seen, "transition only");
        else if (s)
            count(seen, "slug only");
        else
            count(seen, "neither transition nor slug");
        if (!json_object_get(body, "package"))
            count(seen, "package missing");
        else if (!json_is_integer(json_object_get(body, "package")))
            count(seen, "package of a wrong type");
        else if (json_integer_value(json_object_get(body, "package")) !=
                 json_integer_value(json_object_get(r, "package")))
            count(seen, "package path/body mismatch");
        if (t && !json_is_integer(t))
            count(seen, "transition of a wrong type");
        const json_t *sync = json_object_get(body, "sync_remote_order_status");
        count(seen, !sync                 ? "sync absent"
                    : json_is_true(sync)  ? "sync true"
                    : json_is_false(sync) ? "sync false"
                                          : "sync not a boolean");
    }
    const json_t *token = json_object_get(r, "token");
    if (token && json_is_null(token))
        count(seen, "no token");
    else if (token)
        count(seen, "wrong token");
    if (json_object_get(json_object_get(r, "headers"), "Authorization"))
        count(seen, "wrong scheme");
    if (json_object_get(r, "method"))
        count(seen, "wrong method");
    if (json_object_get(json_object_get(r, "headers"), "Content-Type"))
        count(seen, "content type");
    if (json_object_get(r, "path"))
        count(seen, "path id not a number");
}

static void note_faults(json_t *seen, const json_t *behaviour)
{
    if (json_object_get(behaviour, "status"))
        count(seen, "receiver down for good");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(behaviour, "faults"), i, f)
    {
        json_int_t s = json_integer_value(json_object_get(f, "status"));
        if (s >= 500)
            count(seen, "fault 5xx");
        else if (s >= 400)
            count(seen, "fault 4xx");
        else if (s == 200)
            count(seen, "fault on the Nth call");
        if (json_object_get(f, "drop"))
            count(seen, "fault drop");
        if (json_object_get(f, "delay_ms"))
            count(seen, "fault delay");
        if (json_object_get(f, "path"))
            count(seen, "fault on one subscriber");
    }
}

/* Every case validates as a scenario, loads quotas that agree with the counting packages, and
 * together the cases hold everything the generator promises. */
static void test_gen_covers_the_issue_and_stays_valid(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    struct schema *schema = NULL;
    struct oms_err err = {0};
    assert_int_equal(schema_load(support_path("spec/scenario.schema.json"), &schema, &err), 0);
    json_t *doc = oms_json_load_file(support_path("spec/rules.json"), &err);
    assert_non_null(doc);
    const json_t *rules = json_object_get(doc, "rules");
    struct explore_gen_config cfg = all_caps(p);
    json_t *seen = json_object();
    int statuses[2000] = {0};
    for (uint64_t i = 0; i < 600; i++) {
        json_t *c = explore_gen_case(&cfg, 5, i);
        char *text = oms_json_dumps(c);
        struct scenario *sc = NULL;
        struct oms_err errs[4];
        size_t bad = scenario_load_text("case", text, strlen(text), schema, rules, &sc, errs, 4);
        if (bad) {
            char msg[2048];
            fail_msg("case %llu is not a valid scenario: %s\n%s", (unsigned long long)i,
                     oms_err_format(&errs[0], msg, sizeof(msg)), text);
        }
        scenario_destroy(sc);
        free(text);
        const json_t *given = json_object_get(c, "given");
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(given, "locations"), k, v)
        {
            json_int_t id = json_integer_value(json_object_get(v, "id")), counting = 0;
            size_t j;
            json_t *pkg;
            json_array_foreach(json_object_get(given, "packages"), j, pkg)
            {
                if (json_integer_value(json_object_get(pkg, "location")) == id &&
                    oms_profile_counts(p, status_of(p, json_object_get(pkg, "status"))))
                    counting++;
            }
            if (json_is_true(json_object_get(v, "quota_drift")))
                count(seen, "declared drift");
            else
                assert_int_equal(json_integer_value(json_object_get(v, "quota")), counting);
            if (json_object_get(v, "scenario_rules"))
                count(seen, "SELECT_BY_QUOTA");
        }
        json_array_foreach(json_object_get(given, "packages"), k, v)
        {
            int64_t s = status_of(p, json_object_get(v, "status"));
            if (s >= 0 && s < 2000)
                statuses[s]++;
            char what[32];
            snprintf(what, sizeof(what), "%zu items", json_array_size(json_object_get(v, "items")));
            count(seen, what);
            if (json_object_get(v, "reservations"))
                count(seen, "reservations");
            if (json_object_get(v, "discrepancies"))
                count(seen, "discrepancies");
        }
        size_t subs = json_array_size(json_object_get(given, "subscriptions"));
        count(seen, subs == 0   ? "no subscription"
                    : subs == 1 ? "one subscription"
                                : "several subscriptions");
        json_array_foreach(json_object_get(given, "subscriptions"), k, v)
        {
            if (json_object_get(v, "secret_key"))
                count(seen, "secret_key");
            else
                count(seen, "no secret_key");
            if (json_object_get(v, "additional_headers"))
                count(seen, "additional_headers");
            if (strcmp(json_string_value(json_object_get(v, "event_type")),
                       "package.status.packed_for_refund") != 0)
                count(seen, "other event type");
        }
        note_faults(seen, json_object_get(json_object_get(given, "receivers"), "omnitron"));
        note_faults(seen, json_object_get(json_object_get(given, "receivers"), "webhook"));
        if (json_object_get(given, "clock"))
            count(seen, "virtual clock");
        if (json_object_get(json_object_get(given, "profile"), "delivery"))
            count(seen, "immediate retries");
        size_t steps = json_array_size(json_object_get(c, "when"));
        assert_true(steps >= 1 && steps <= 8);
        json_t *prev = NULL;
        json_array_foreach(json_object_get(c, "when"), k, v)
        {
            if (json_object_get(v, "command")) {
                count(seen, "command");
                note_request(seen, json_object_get(v, "command"));
                if (json_object_get(v, "concurrent"))
                    count(seen, "concurrent");
                if (prev && json_equal(prev, v))
                    count(seen, "repeated command");
                prev = v;
            } else if (json_object_get(json_object_get(v, "lifecycle"), "plan")) {
                count(seen, "plan");
            } else if (json_object_get(v, "lifecycle")) {
                count(seen, json_string_value(
                                json_object_get(json_object_get(v, "lifecycle"), "action")));
            } else if (json_object_get(v, "receivers")) {
                count(seen, "receivers change");
            }
        }
        json_decref(c);
    }
    static const char *const wanted[] = {"declared drift",
                                         "SELECT_BY_QUOTA",
                                         "1 items",
                                         "2 items",
                                         "3 items",
                                         "4 items",
                                         "5 items",
                                         "reservations",
                                         "discrepancies",
                                         "no subscription",
                                         "one subscription",
                                         "several subscriptions",
                                         "secret_key",
                                         "no secret_key",
                                         "additional_headers",
                                         "other event type",
                                         "fault 5xx",
                                         "fault 4xx",
                                         "fault on the Nth call",
                                         "fault drop",
                                         "fault delay",
                                         "fault on one subscriber",
                                         "receiver down for good",
                                         "virtual clock",
                                         "immediate retries",
                                         "command",
                                         "concurrent",
                                         "repeated command",
                                         "plan",
                                         "out_of_stock",
                                         "pack",
                                         "cancel",
                                         "request_cancellation",
                                         "receivers change",
                                         "raw body",
                                         "body not an object",
                                         "transition and slug",
                                         "transition only",
                                         "slug only",
                                         "neither transition nor slug",
                                         "package missing",
                                         "package of a wrong type",
                                         "package path/body mismatch",
                                         "transition of a wrong type",
                                         "sync absent",
                                         "sync true",
                                         "sync false",
                                         "sync not a boolean",
                                         "no token",
                                         "wrong token",
                                         "wrong scheme",
                                         "wrong method",
                                         "content type",
                                         "path id not a number",
                                         NULL};
    for (size_t i = 0; wanted[i]; i++)
        if (!json_object_get(seen, wanted[i])) {
            char *text = json_dumps(seen, JSON_SORT_KEYS);
            fail_msg("600 cases hold no \"%s\"; they hold: %s", wanted[i], text);
        }
    for (size_t i = 0; i < oms_profile_status_count(p); i++) {
        const struct oms_profile_status *s = oms_profile_status_at(p, i);
        if (!statuses[s->value])
            fail_msg("no package starts in %s (%lld)", s->name, (long long)s->value);
    }
    json_decref(seen);
    json_decref(doc);
    schema_destroy(schema);
    oms_profile_unref(p);
}

/* Without plan, clock or profile overrides a case needs none of them. */
static void test_gen_follows_capabilities(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    struct explore_gen_config cfg = {.profile = p, .max_steps = 3};
    int faults = 0;
    for (uint64_t i = 0; i < 300; i++) {
        json_t *c = explore_gen_case(&cfg, 11, i);
        const json_t *given = json_object_get(c, "given");
        assert_null(json_object_get(given, "profile"));
        assert_null(json_object_get(given, "clock"));
        /* No quick retries are possible: no receiver fails. */
        assert_null(json_object_get(given, "receivers"));
        assert_true(json_array_size(json_object_get(c, "when")) <= 3);
        size_t k;
        json_t *step;
        json_array_foreach(json_object_get(c, "when"), k, step)
        {
            assert_null(json_object_get(json_object_get(step, "lifecycle"), "plan"));
            assert_null(json_object_get(step, "receivers"));
        }
        json_decref(c);
    }
    /* With overrides alone, failing receivers come with immediate retries in the profile. */
    cfg.profile_overrides = 1;
    for (uint64_t i = 0; i < 300; i++) {
        json_t *c = explore_gen_case(&cfg, 11, i);
        const json_t *given = json_object_get(c, "given");
        assert_null(json_object_get(given, "clock"));
        if (json_object_get(given, "receivers")) {
            faults++;
            const json_t *d = json_object_get(json_object_get(given, "profile"), "delivery");
            assert_int_equal(json_integer_value(json_object_get(
                                 json_object_get(d, "omnitron_retry"), "countdown")),
                             0);
        }
        json_decref(c);
    }
    assert_true(faults > 0);
    oms_profile_unref(p);
}

static void test_gen_repair_recounts_quotas(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    json_t *probe =
        support_parse("{\"given\": {\"locations\": [{\"id\": 1, \"max_quota\": 5, \"quota\": 4},"
                      " {\"id\": 2, \"max_quota\": 5, \"quota\": 3, \"quota_drift\": true}],"
                      " \"packages\": [{\"id\": 1, \"location\": 1, \"status\": \"Waiting\"},"
                      " {\"id\": 2, \"location\": 1, \"status\": 920},"
                      " {\"id\": 3, \"location\": 1, \"status\": \"Cancellation Waiting\"},"
                      " {\"id\": 4, \"location\": 2, \"status\": \"Waiting\"}]}}");
    explore_gen_repair(probe, p);
    const json_t *locs = json_object_get(json_object_get(probe, "given"), "locations");
    /* SPEC: Waiting and Cancellation Waiting count, Out of Stock does not. */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(locs, 0), "quota")), 2);
    /* Declared drift keeps its figure. */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(locs, 1), "quota")), 3);
    json_decref(probe);
    oms_profile_unref(p);
}

/* The crash step of a case, or NULL; *at its index and *crashes how many there are. */
static const json_t *crash_of(const json_t *c, size_t *at, size_t *crashes)
{
    const json_t *found = NULL;
    size_t k;
    json_t *step;
    *crashes = 0;
    json_array_foreach(json_object_get(c, "when"), k, step)
    {
        if (json_object_get(step, "crash")) {
            found = json_object_get(step, "crash");
            *at = k;
            (*crashes)++;
        }
    }
    return found;
}

static int given_has(const json_t *c, json_int_t id)
{
    size_t k;
    json_t *pkg;
    json_array_foreach(json_object_get(json_object_get(c, "given"), "packages"), k, pkg)
    {
        if (json_integer_value(json_object_get(pkg, "id")) == id)
            return 1;
    }
    return 0;
}

/* With crash_percent, a share of the cases gets one crash step - every kind of moment, valid
 * against the schema and the scenario's own rules, naming packages of the case, the random
 * moment's seed written in the step, receivers down through the kill (on a virtual clock with
 * retries that outlast it) and back after it, or failing before it - within K steps; a case
 * without one is exactly the case of a run without crashes (its crash draws come last). */
static void test_gen_crash_steps(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    struct schema *schema = NULL;
    struct oms_err err = {0};
    assert_int_equal(schema_load(support_path("spec/scenario.schema.json"), &schema, &err), 0);
    json_t *doc = oms_json_load_file(support_path("spec/rules.json"), &err);
    assert_non_null(doc);
    struct explore_gen_config plain = all_caps(p), cfg = all_caps(p);
    cfg.crash_percent = 40;
    json_t *seen = json_object();
    size_t with = 0;
    for (uint64_t i = 0; i < 400; i++) {
        json_t *c = explore_gen_case(&cfg, 21, i);
        size_t at = 0, crashes = 0;
        const json_t *crash = crash_of(c, &at, &crashes);
        if (!crash) {
            json_t *without = explore_gen_case(&plain, 21, i);
            assert_true(json_equal(c, without));
            json_decref(without);
            json_decref(c);
            continue;
        }
        with++;
        assert_int_equal(crashes, 1);
        char *text = oms_json_dumps(c);
        struct scenario *sc = NULL;
        struct oms_err errs[4];
        if (scenario_load_text("case", text, strlen(text), schema, json_object_get(doc, "rules"),
                               &sc, errs, 4)) {
            char msg[2048];
            fail_msg("case %llu is not a valid scenario: %s\n%s", (unsigned long long)i,
                     oms_err_format(&errs[0], msg, sizeof(msg)), text);
        }
        assert_true(scenario_kills_target(sc));
        scenario_destroy(sc);
        free(text);
        assert_true(json_array_size(json_object_get(c, "when")) <= cfg.max_steps);
        const json_t *burst = json_object_get(crash, "burst");
        if (!burst) {
            count(seen, "kill now");
        } else {
            size_t n = 0;
            int64_t *ids = crash_burst_packages(burst, &n);
            for (size_t k = 0; k < n; k++)
                if (!given_has(c, ids[k]))
                    fail_msg("case %llu: the burst names package %lld, which it does not have",
                             (unsigned long long)i, (long long)ids[k]);
            free(ids);
            json_int_t conc = json_integer_value(json_object_get(burst, "concurrent"));
            assert_true(conc >= 1 && (size_t)conc <= n);
            count(seen, conc > 1 ? "commands in flight" : "one at a time");
            if (json_object_get(crash, "after")) {
                count(seen, "after the Nth answer");
                assert_true(json_integer_value(json_object_get(crash, "after")) <= (json_int_t)n);
            } else {
                count(seen, "at a random moment");
                /* The moment is the file's: its seed is in the step. */
                assert_true(json_is_integer(json_object_get(crash, "seed")));
            }
            if (json_object_get(crash, "delay_ms"))
                count(seen, "delay before the kill");
        }
        const json_t *before = at ? json_array_get(json_object_get(c, "when"), at - 1) : NULL;
        const json_t *rv = json_object_get(before, "receivers");
        const json_t *back = json_object_get(crash, "receivers");
        const char *key;
        json_t *b;
        json_object_foreach((json_t *)rv, key, b)
        {
            if (!json_is_true(json_object_get(b, "down")))
                continue;
            count(seen, "down through the kill");
            /* Back after the restart, its calls waiting on a virtual clock meanwhile. */
            assert_true(json_is_false(json_object_get(json_object_get(back, key), "down")));
            const json_t *given = json_object_get(c, "given");
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(given, "clock"), "mode")),
                "virtual");
            const json_t *d = json_object_get(json_object_get(given, "profile"), "delivery");
            assert_true(json_integer_value(json_object_get(json_object_get(d, "omnitron_retry"),
                                                           "max_retries")) >= 1);
        }
        if (json_object_get(json_object_get(rv, "omnitron"), "faults") ||
            json_object_get(json_object_get(rv, "webhook"), "faults"))
            count(seen, "failing before the kill");
        if (back)
            count(seen, "receivers set at the restart");
        json_decref(c);
    }
    assert_true(with > 100 && with < 220); /* 40% of 400 */
    static const char *const wanted[] = {"kill now",
                                         "after the Nth answer",
                                         "at a random moment",
                                         "commands in flight",
                                         "one at a time",
                                         "delay before the kill",
                                         "down through the kill",
                                         "failing before the kill",
                                         "receivers set at the restart",
                                         NULL};
    for (size_t i = 0; wanted[i]; i++)
        if (!json_object_get(seen, wanted[i])) {
            char *text = json_dumps(seen, JSON_SORT_KEYS);
            fail_msg("the crash steps of 400 cases hold no \"%s\"; they hold: %s", wanted[i], text);
        }

    /* K = 1: the crash alone; and the same seed draws the same moments. */
    cfg.max_steps = 1;
    cfg.crash_percent = 100;
    for (uint64_t i = 0; i < 40; i++) {
        json_t *a = explore_gen_case(&cfg, 3, i), *b2 = explore_gen_case(&cfg, 3, i);
        assert_int_equal(json_array_size(json_object_get(a, "when")), 1);
        assert_non_null(json_object_get(json_array_get(json_object_get(a, "when"), 0), "crash"));
        assert_true(json_equal(a, b2));
        json_decref(a);
        json_decref(b2);
    }
    json_decref(seen);
    json_decref(doc);
    schema_destroy(schema);
    oms_profile_unref(p);
}

/* Repair keeps a burst to the packages the case has: one that lost all of them kills at once;
 * "after" and "concurrent" stay within what is left. */
static void test_gen_repair_keeps_bursts_to_the_case(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    json_t *probe = support_parse(
        "{\"given\": {\"locations\": [{\"id\": 1, \"max_quota\": 5, \"quota\": 0}],"
        " \"packages\": [{\"id\": 1, \"location\": 1, \"status\": \"Waiting\"}]},"
        " \"when\": [{\"crash\": {\"burst\": {\"packages\": [1, 2, 3], \"body\": {\"transition\": "
        "17},"
        " \"concurrent\": 3}, \"after\": 3}},"
        " {\"crash\": {\"burst\": {\"packages\": [7], \"body\": {\"transition\": 17}},"
        " \"at\": \"random\", \"seed\": 4, \"receivers\": {\"webhook\": {\"down\": false}}}}]}");
    explore_gen_repair(probe, p);
    json_t *want =
        support_parse("[{\"crash\": {\"burst\": {\"packages\": [1], \"body\": {\"transition\": 17},"
                      " \"concurrent\": 1}, \"after\": 1}},"
                      " {\"crash\": {\"receivers\": {\"webhook\": {\"down\": false}}}}]");
    assert_true(json_equal(json_object_get(probe, "when"), want));
    /* The quota counts the one Waiting package (SPEC Q-2). */
    assert_int_equal(
        json_integer_value(json_object_get(
            json_array_get(json_object_get(json_object_get(probe, "given"), "locations"), 0),
            "quota")),
        1);
    json_decref(want);
    json_decref(probe);
    oms_profile_unref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_same_seed_same_numbers),
        cmocka_unit_test(test_rng_ranges_and_weights),
        cmocka_unit_test(test_gen_same_seed_same_case),
        cmocka_unit_test(test_gen_covers_the_issue_and_stays_valid),
        cmocka_unit_test(test_gen_follows_capabilities),
        cmocka_unit_test(test_gen_repair_recounts_quotas),
        cmocka_unit_test(test_gen_crash_steps),
        cmocka_unit_test(test_gen_repair_keeps_bursts_to_the_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
