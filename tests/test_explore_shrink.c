/* test_explore_shrink: shrinking keeps only what the failure needs. Predicates written here stand
 * for "the target still fails the same way"; the shrinker must reach the smallest case they
 * accept, hand them only loadable cases (quotas recounted, bursts naming packages the case has),
 * simplify crash steps (a kill at once, a smaller burst, an earlier answer, no delay or receivers,
 * a random moment written as its answer), and stop at its limits. */
#include "support.h"

#include "explore_gen.h"
#include "explore_shrink.h"

#include <string.h>

struct seen {
    const struct oms_profile *p;
    size_t calls;
    int inconsistent; /* a candidate whose quota disagreed with its counting packages */
};

/* Every candidate must be loadable: quotas agree with the counting packages (no drift here). */
static void check_quotas(struct seen *s, const json_t *probe)
{
    const json_t *given = json_object_get(probe, "given");
    size_t i;
    json_t *loc;
    json_array_foreach(json_object_get(given, "locations"), i, loc)
    {
        json_int_t id = json_integer_value(json_object_get(loc, "id")), n = 0;
        size_t k;
        json_t *pkg;
        json_array_foreach(json_object_get(given, "packages"), k, pkg)
        {
            int64_t st;
            if (json_integer_value(json_object_get(pkg, "location")) == id &&
                oms_profile_status_resolve(s->p, json_object_get(pkg, "status"), &st) == 0 &&
                oms_profile_counts(s->p, st))
                n++;
        }
        if (!json_is_true(json_object_get(loc, "quota_drift")) &&
            json_integer_value(json_object_get(loc, "quota")) != n)
            s->inconsistent = 1;
    }
}

/* Fails while some step sends concurrent copies. */
static int concurrent_step(void *arg, const json_t *c)
{
    struct seen *s = arg;
    s->calls++;
    check_quotas(s, c);
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(c, "when"), i, step)
    {
        if (json_object_get(step, "concurrent"))
            return 1;
    }
    return 0;
}

/* Fails while an Out of Stock package with a reservation exists and some command names it. */
static int out_of_stock_reservation(void *arg, const json_t *c)
{
    struct seen *s = arg;
    s->calls++;
    check_quotas(s, c);
    size_t i;
    json_t *pkg;
    json_array_foreach(json_object_get(json_object_get(c, "given"), "packages"), i, pkg)
    {
        int64_t st = 0;
        oms_profile_status_resolve(s->p, json_object_get(pkg, "status"), &st);
        if (st != 920 || !json_array_size(json_object_get(pkg, "reservations")))
            continue;
        size_t k;
        json_t *step;
        json_array_foreach(json_object_get(c, "when"), k, step)
        {
            if (json_integer_value(json_object_get(json_object_get(step, "command"), "package")) ==
                json_integer_value(json_object_get(pkg, "id")))
                return 1;
        }
    }
    return 0;
}

static const char CASE[] =
    "{\"name\": \"c\", \"rules\": [\"C-2\"],"
    " \"given\": {\"locations\": [{\"id\": 1, \"max_quota\": 6, \"quota\": 2, \"scenario_rules\": "
    "[\"SELECT_BY_QUOTA\"]}, {\"id\": 2, \"max_quota\": 3, \"quota\": 0}],"
    " \"packages\": ["
    "  {\"id\": 501, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 1, "
    "\"quantity\": 2}, {\"id\": 2}], \"reservations\": [{\"sku\": \"a\", \"quantity\": 3}],"
    "   \"discrepancies\": [{\"item\": 2, \"kind\": \"damaged\"}]},"
    "  {\"id\": 502, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 3}]},"
    "  {\"id\": 503, \"location\": 2, \"status\": \"Out of Stock\", \"items\": [{\"id\": 4}, "
    "{\"id\": 5}], \"reservations\": [{\"sku\": \"b\"}, {\"sku\": \"c\", \"quantity\": 2}]}],"
    " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\", \"receiver\": "
    "\"erp\", \"secret_key\": \"k\"}, {\"event_type\": \"package.status.packed\", \"receiver\": "
    "\"wms\"}],"
    " \"receivers\": {\"omnitron\": {\"faults\": [{\"status\": 503, \"times\": 3}]}},"
    " \"clock\": {\"mode\": \"virtual\"}},"
    " \"when\": ["
    "  {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17}}},"
    "  {\"lifecycle\": {\"action\": \"pack\", \"package\": 502}},"
    "  {\"command\": {\"package\": 502, \"body\": {\"package\": 502, \"slug\": "
    "\"packed-for-refund\", \"note\": \"x\", \"sync_remote_order_status\": false}}, "
    "\"concurrent\": 8},"
    "  {\"receivers\": {\"omnitron\": {\"faults\": []}}},"
    "  {\"command\": {\"package\": 503, \"body\": {\"package\": 503, \"transition\": 17}}},"
    "  {\"command\": {\"package\": 501, \"token\": null, \"body\": {\"package\": 501}}}]}";

static void test_shrink_to_the_one_concurrent_step(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    json_t *probe = support_parse(CASE);
    struct seen s = {.p = p};
    struct explore_shrink_stats stats;
    json_t *small = explore_shrink(probe, p, concurrent_step, &s, NULL, &stats);
    const json_t *when = json_object_get(small, "when");
    assert_int_equal(json_array_size(when), 1);
    const json_t *step = json_array_get(when, 0);
    /* Fewer copies, and what the body did not need is gone. */
    assert_int_equal(json_integer_value(json_object_get(step, "concurrent")), 2);
    const json_t *body = json_object_get(json_object_get(step, "command"), "body");
    assert_null(json_object_get(body, "note"));
    assert_null(json_object_get(body, "sync_remote_order_status"));
    /* Nothing of the state was needed, so nothing of it is left but what cannot go. */
    const json_t *given = json_object_get(small, "given");
    assert_null(json_object_get(given, "packages"));
    assert_null(json_object_get(given, "subscriptions"));
    assert_null(json_object_get(given, "receivers"));
    assert_null(json_object_get(given, "clock"));
    assert_null(json_object_get(given, "locations"));
    assert_false(s.inconsistent);
    assert_int_equal(stats.candidates, s.calls);
    assert_true(stats.accepted > 0 && stats.accepted < stats.candidates);
    assert_false(stats.exhausted);
    /* The original is untouched. */
    assert_int_equal(json_array_size(json_object_get(probe, "when")), 6);
    json_decref(small);
    json_decref(probe);
    oms_profile_unref(p);
}

static void test_shrink_keeps_what_the_failure_needs(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    json_t *probe = support_parse(CASE);
    struct seen s = {.p = p};
    json_t *small = explore_shrink(probe, p, out_of_stock_reservation, &s, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(small, "when")), 1);
    const json_t *given = json_object_get(small, "given");
    const json_t *pkgs = json_object_get(given, "packages");
    assert_int_equal(json_array_size(pkgs), 1);
    const json_t *pkg = json_array_get(pkgs, 0);
    assert_int_equal(json_integer_value(json_object_get(pkg, "id")), 503);
    assert_int_equal(json_array_size(json_object_get(pkg, "items")), 1);
    const json_t *res = json_object_get(pkg, "reservations");
    assert_int_equal(json_array_size(res), 1);
    /* A reservation's quantity becomes 1. */
    json_t *q = json_object_get(json_array_get(res, 0), "quantity");
    assert_true(!q || json_integer_value(q) == 1);
    /* Its location stays (the package needs it), the unused one goes; max_quota shrinks. */
    const json_t *locs = json_object_get(given, "locations");
    assert_int_equal(json_array_size(locs), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(locs, 0), "id")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(locs, 0), "max_quota")), 0);
    assert_null(json_object_get(given, "subscriptions"));
    assert_false(s.inconsistent);
    json_decref(small);
    json_decref(probe);
    oms_profile_unref(p);
}

static int never(void *arg, const json_t *c)
{
    (void)c;
    ((struct seen *)arg)->calls++;
    return 0;
}

static void test_shrink_stops_at_its_limits(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    json_t *probe = support_parse(CASE);
    struct seen s = {.p = p};
    struct explore_shrink_limits lim = {.max_candidates = 3};
    struct explore_shrink_stats stats;
    json_t *small = explore_shrink(probe, p, never, &s, &lim, &stats);
    assert_int_equal(s.calls, 3);
    assert_true(stats.exhausted);
    assert_int_equal(stats.accepted, 0);
    /* Nothing smaller failed: the case comes back as it was (its quotas were right already). */
    assert_true(json_equal(small, probe));
    json_decref(small);

    /* Without limits, a case nothing smaller reproduces ends with every candidate tried. */
    s.calls = 0;
    small = explore_shrink(probe, p, never, &s, NULL, &stats);
    assert_false(stats.exhausted);
    assert_true(s.calls > 20);
    assert_true(json_equal(small, probe));
    json_decref(small);
    json_decref(probe);
    oms_profile_unref(p);
}

/* A case with a crash step: a burst on five packages killed at a random answer 50 ms late, a
 * receiver down through it and back after it, commands before and after. */
static const char CRASH_CASE[] =
    "{\"name\": \"c\", \"rules\": [\"O-1\"],"
    " \"given\": {\"locations\": [{\"id\": 1, \"max_quota\": 9, \"quota\": 6}],"
    " \"packages\": ["
    "  {\"id\": 501, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 1}]},"
    "  {\"id\": 502, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 2}]},"
    "  {\"id\": 503, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 3}]},"
    "  {\"id\": 504, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 4}]},"
    "  {\"id\": 505, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 5}]},"
    "  {\"id\": 506, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 6}]}],"
    " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\", \"receiver\": "
    "\"erp\"}]},"
    " \"when\": ["
    "  {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17}}},"
    "  {\"receivers\": {\"webhook\": {\"down\": true}}},"
    "  {\"crash\": {\"burst\": {\"packages\": [502, 503, 504, 505, 506], \"body\": "
    "{\"transition\": "
    "17}, \"concurrent\": 4}, \"at\": \"random\", \"seed\": 99, \"delay_ms\": 50,"
    "   \"receivers\": {\"webhook\": {\"down\": false}}}},"
    "  {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17}}}]}";

/* The bursts of c name packages the case has. */
static void check_bursts(struct seen *s, const json_t *c)
{
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(c, "when"), i, step)
    {
        size_t k;
        json_t *id;
        json_array_foreach(
            json_object_get(json_object_get(json_object_get(step, "crash"), "burst"), "packages"),
            k, id)
        {
            int has = 0;
            size_t j;
            json_t *pkg;
            json_array_foreach(json_object_get(json_object_get(c, "given"), "packages"), j, pkg)
            {
                has |= json_equal(json_object_get(pkg, "id"), id);
            }
            if (!has)
                s->inconsistent = 1;
        }
    }
}

/* Fails while a crash step's burst commands packages 504 and 505. */
static int burst_on_504_505(void *arg, const json_t *c)
{
    struct seen *s = arg;
    s->calls++;
    check_quotas(s, c);
    check_bursts(s, c);
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(c, "when"), i, step)
    {
        const json_t *ids =
            json_object_get(json_object_get(json_object_get(step, "crash"), "burst"), "packages");
        int a = 0, b = 0;
        size_t k;
        json_t *id;
        json_array_foreach((json_t *)ids, k, id)
        {
            a |= json_integer_value(id) == 504;
            b |= json_integer_value(id) == 505;
        }
        if (a && b)
            return 1;
    }
    return 0;
}

/* Fails while the case kills the target at all. */
static int any_kill(void *arg, const json_t *c)
{
    struct seen *s = arg;
    s->calls++;
    check_quotas(s, c);
    check_bursts(s, c);
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(c, "when"), i, step)
    {
        if (json_object_get(step, "crash"))
            return 1;
    }
    return 0;
}

static void test_shrink_crash_steps(void **state)
{
    (void)state;
    struct oms_profile *p = support_default_profile();
    json_t *probe = support_parse(CRASH_CASE);
    struct seen s = {.p = p};
    json_t *small = explore_shrink(probe, p, burst_on_504_505, &s, NULL, NULL);
    /* The burst on the two packages it needs, killed after its first answer: the random moment
     * was written as its answer, then lowered; no delay, no receivers at the restart. */
    json_t *want = support_parse(
        "[{\"crash\": {\"burst\": {\"packages\": [504, 505], \"body\": {\"transition\": 17}, "
        "\"concurrent\": 2}, \"after\": 1}}]");
    if (!json_equal(json_object_get(small, "when"), want)) {
        char *text = json_dumps(small, JSON_COMPACT);
        fail_msg("shrunk to %s", text);
    }
    const json_t *pkgs = json_object_get(json_object_get(small, "given"), "packages");
    assert_int_equal(json_array_size(pkgs), 2);
    assert_null(json_object_get(json_object_get(small, "given"), "subscriptions"));
    assert_false(s.inconsistent);
    json_decref(want);
    json_decref(small);

    /* Any kill will do: one killed at once, with nothing else. */
    s.calls = 0;
    small = explore_shrink(probe, p, any_kill, &s, NULL, NULL);
    want = support_parse("[{\"crash\": {}}]");
    if (!json_equal(json_object_get(small, "when"), want)) {
        char *text = json_dumps(small, JSON_COMPACT);
        fail_msg("shrunk to %s", text);
    }
    assert_null(json_object_get(json_object_get(small, "given"), "packages"));
    assert_false(s.inconsistent);
    json_decref(want);
    json_decref(small);
    json_decref(probe);
    oms_profile_unref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shrink_to_the_one_concurrent_step),
        cmocka_unit_test(test_shrink_keeps_what_the_failure_needs),
        cmocka_unit_test(test_shrink_stops_at_its_limits),
        cmocka_unit_test(test_shrink_crash_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
