/* test_oms_quota: the quota rule of the core, one table per SPEC rule (Q-1..Q-4); the rows are the
 * movements and limits docs/spec.md states, read against the default profile's counting set
 * (statuses below 400, and Cancellation Waiting 850: A-5). */
#include "support.h"

#include "oms_error.h"
#include "oms_quota.h"

#include <jansson.h>
#include <stdint.h>

/* A table of a function of two counters: each row's arguments and the value it must give. */
struct counter_row {
    int64_t a, b, want;
};

static void check_counter_rows(const char *what, int64_t (*fn)(int64_t, int64_t),
                               const struct counter_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fn(rows[i].a, rows[i].b) != rows[i].want)
            fail_msg("%s row %zu: (%lld, %lld) gives %lld, expected %lld", what, i,
                     (long long)rows[i].a, (long long)rows[i].b,
                     (long long)fn(rows[i].a, rows[i].b), (long long)rows[i].want);
}

/* SPEC Q-1: available_quota = max_quota - quota. Rows: max_quota, quota, available. */
static void test_oms_quota_available_q1(void **state)
{
    (void)state;
    static const struct counter_row rows[] = {
        {10, 3, 7},
        {5, 5, 0},
        {0, 0, 0},
        {2, 3, -1},                 /* a drifted counter above the maximum */
        {INT64_MAX, -1, INT64_MAX}, /* saturates instead of overflowing */
        {INT64_MIN, 1, INT64_MIN},
    };
    check_counter_rows("available", oms_quota_available, rows, sizeof(rows) / sizeof(rows[0]));
}

/* SPEC Q-2: every transition moves the quota by (counts after) - (counts before). */
static void test_oms_quota_delta_q2(void **state)
{
    (void)state;
    static const struct {
        int64_t from, to;
        int delta;
        const char *what;
    } rows[] = {
        {OMS_QUOTA_NO_PACKAGE, 100, +1, "creation in Waiting"},
        {OMS_QUOTA_NO_PACKAGE, 920, 0, "creation in Out of Stock (920 does not count)"},
        {100, 1100, -1, "this command from Waiting"},
        {920, 1100, 0, "this command from Out of Stock"},
        {100, 920, -1, "Waiting to Out of Stock"},
        {100, 500, -1, "packing from Waiting"},
        {400, 500, 0, "packing from Ready for Packaging (400 no longer counts)"},
        {850, 900, -1, "cancellation"},
        {100, 850, 0, "cancellation requested from Waiting: both count"},
        {400, 850, +1, "cancellation requested from Ready for Packaging"},
        {920, 850, +1, "cancellation requested from Out of Stock: Cancellation Waiting counts"},
        {100, 200, 0, "Waiting to Preparing: both below 400"},
        {12345, 100, +1, "from a status outside the catalogue, which counts toward nothing"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (oms_quota_delta(support_profile, rows[i].from, rows[i].to) != rows[i].delta)
            fail_msg("row %zu (%s): delta %lld -> %lld = %d, expected %d", i, rows[i].what,
                     (long long)rows[i].from, (long long)rows[i].to,
                     oms_quota_delta(support_profile, rows[i].from, rows[i].to), rows[i].delta);
}

/* SPEC: the counter moves by the delta and stops at 0. Rows: quota, delta, after. */
static void test_oms_quota_after_q4_clamp(void **state)
{
    (void)state;
    static const struct counter_row rows[] = {
        {3, -1, 2},  {1, -1, 0}, {0, -1, 0}, /* a drifted counter already at 0 stays there */
        {0, +1, 1},  {2, 0, 2},  {5, -1000, 0}, {5, INT64_MIN, 0}, {INT64_MAX, +1, INT64_MAX},
        {-3, +1, 0}, /* never below 0, even from a counter that was */
    };
    check_counter_rows("after", oms_quota_after, rows, sizeof(rows) / sizeof(rows[0]));
}

/* SPEC Q-3: only planning looks at the quota; under SELECT_BY_QUOTA, available <= 0 refuses. */
static void test_oms_quota_may_plan_q3(void **state)
{
    (void)state;
    static const struct {
        const char *rules;
        int64_t max_quota, quota;
        int may;
    } rows[] = {
        {"[\"SELECT_BY_QUOTA\"]", 5, 4, 1},
        {"[\"SELECT_BY_QUOTA\"]", 5, 5, 0}, /* available 0 (A-16: <= 0, not = 0) */
        {"[\"SELECT_BY_QUOTA\"]", 5, 6, 0}, /* available -1 */
        {"[\"SELECT_BY_QUOTA\"]", 0, 0, 0},
        {"[\"OTHER\", \"SELECT_BY_QUOTA\"]", 1, 1, 0},
        {"[]", 5, 5, 1}, /* no rule: the quota does not limit planning */
        {"[\"OTHER\"]", 0, 3, 1},
        {"[\"select_by_quota\"]", 0, 3, 1}, /* the rule's name is exact */
        {"null", 0, 3, 1},
        {"\"SELECT_BY_QUOTA\"", 0, 3, 1}, /* not a list of rules */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *rules = json_loads(rows[i].rules, JSON_DECODE_ANY, NULL);
        assert_non_null(rules);
        int may =
            oms_quota_may_plan(oms_quota_selects_by_quota(rules), rows[i].max_quota, rows[i].quota);
        json_decref(rules);
        if (may != rows[i].may)
            fail_msg("row %zu: rules %s, max_quota %lld, quota %lld: may plan %d, expected %d", i,
                     rows[i].rules, (long long)rows[i].max_quota, (long long)rows[i].quota, may,
                     rows[i].may);
    }
    assert_int_equal(oms_quota_selects_by_quota(NULL), 0);
}

/* SPEC: the counter equals the counting packages, unless the drift is declared. */
static void test_oms_quota_check_q4(void **state)
{
    (void)state;
    static const struct {
        int64_t quota, counting;
        int drift;
        int rc;
    } rows[] = {
        {2, 2, 0, 0}, {0, 0, 0, 0}, {3, 2, 0, OMS_E_CONFLICT}, {0, 1, 0, OMS_E_CONFLICT},
        {3, 2, 1, 0}, /* declared on purpose */
        {2, 2, 1, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (oms_quota_check(rows[i].quota, rows[i].counting, rows[i].drift) != rows[i].rc)
            fail_msg("row %zu: check(quota %lld, counting %lld, drift %d) = %d, expected %d", i,
                     (long long)rows[i].quota, (long long)rows[i].counting, rows[i].drift,
                     oms_quota_check(rows[i].quota, rows[i].counting, rows[i].drift), rows[i].rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oms_quota_available_q1),
        cmocka_unit_test(test_oms_quota_delta_q2),
        cmocka_unit_test(test_oms_quota_after_q4_clamp),
        cmocka_unit_test(test_oms_quota_may_plan_q3),
        cmocka_unit_test(test_oms_quota_check_q4),
    };
    return cmocka_run_group_tests(tests, support_profile_setup, support_profile_teardown);
}
