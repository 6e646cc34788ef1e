/* test_tier: the rule of a check (the first listed rule covering its kind), the verdict a
 * difference earns by the basis of its rule (failed, noted; strict counts notes in full), and the
 * scenario outcome that follows (noted, skipped when every own check was skipped). */
#include "support.h"

#include "tier.h"

#include <string.h>

static const char CATALOGUE[] =
    "[{\"id\": \"C-7\", \"title\": \"deletions\", \"basis\": \"documented\", \"checks\": "
    "[\"packages.reservations\", \"packages.discrepancies\"]},"
    " {\"id\": \"C-6\", \"title\": \"moves\", \"basis\": \"documented\", \"checks\": "
    "[\"packages\"]},"
    " {\"id\": \"A-2\", \"title\": \"path equals body\", \"basis\": \"assumed\", \"checks\": "
    "[\"response\"]},"
    " {\"id\": \"R-1\", \"title\": \"wording\", \"basis\": \"reference\", \"checks\": "
    "[\"response\"]}]";

static json_t *diff(const char *rule, const char *message)
{
    json_t *d = json_pack("{s:s, s:n, s:s, s:s}", "path", "$", "expected", "actual", "x", "message",
                          message);
    if (rule)
        json_object_set_new(d, "rule", json_string(rule));
    return d;
}

static void test_tier_rule_for_first_listed_covering_rule(void **state)
{
    (void)state;
    json_t *rules = support_parse(CATALOGUE);
    struct tier *t = tier_create(rules, 0);
    const char *listed[] = {"C-6", "C-7", "A-2"};
    /* C-6 covers "packages", so every packages.* kind; listed first, it wins. */
    assert_string_equal(tier_rule_for(t, "packages.reservations", listed, 3), "C-6");
    const char *reordered[] = {"C-7", "C-6"};
    assert_string_equal(tier_rule_for(t, "packages.reservations", reordered, 2), "C-7");
    assert_string_equal(tier_rule_for(t, "packages.status", reordered, 2), "C-6");
    /* "packages.reserv" is not a dotted prefix of "packages.reservations". */
    assert_string_equal(tier_rule_for(t, "response", listed, 3), "A-2");
    /* Nothing covers the kind: the scenario's first rule. */
    assert_string_equal(tier_rule_for(t, "omnitron", listed, 3), "C-6");
    assert_null(tier_rule_for(t, "omnitron", listed, 0));
    assert_string_equal(tier_basis(t, "R-1"), "reference");
    assert_string_equal(tier_title(t, "A-2"), "path equals body");
    assert_null(tier_basis(t, "Z-9"));
    assert_true(tier_soft(t, "R-1"));
    assert_false(tier_soft(t, "A-2"));
    assert_false(tier_soft(t, "Z-9"));
    tier_destroy(t);
    t = tier_create(rules, 1);
    assert_false(tier_soft(t, "R-1"));
    tier_destroy(t);
    tier_destroy(NULL);
    json_decref(rules);
}

/* A check with a reference difference and a documented one fails on the documented one, which
 * comes first; with only the reference one it is noted; strict, it fails. */
static void test_tier_settle_verdict_by_basis(void **state)
{
    (void)state;
    json_t *rules = support_parse(CATALOGUE);
    struct tier *t = tier_create(rules, 0);
    struct result_run run;
    result_run_init(&run);
    struct result_scenario *sc = result_run_add(&run);
    size_t *n = &sc->check_count;
    json_t *mm = json_array();
    json_array_append_new(mm, diff("R-1", "wording differs"));
    json_array_append_new(mm, diff(NULL, "field differs"));
    result_add_check(&sc->checks, n, "response.body", "f.json:1:1", "A-2", NULL, NULL, mm);
    tier_settle(t, &sc->checks[0]);
    assert_int_equal(sc->checks[0].state, CHECK_FAILED);
    assert_string_equal(sc->checks[0].rule, "A-2");
    assert_string_equal(sc->checks[0].basis, "assumed");
    assert_string_equal(sc->checks[0].message, "field differs");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(sc->checks[0].mismatches, 1), "basis")),
        "reference");

    mm = json_array();
    json_array_append_new(mm, diff("R-1", "wording differs"));
    result_add_check(&sc->checks, n, "response.body", "f.json:1:1", "A-2", NULL, NULL, mm);
    tier_settle(t, &sc->checks[1]);
    assert_int_equal(sc->checks[1].state, CHECK_NOTED);
    assert_string_equal(sc->checks[1].rule, "R-1");
    assert_string_equal(sc->checks[1].basis, "reference");

    struct tier *strict = tier_create(rules, 1);
    sc->checks[1].state = CHECK_FAILED;
    tier_settle(strict, &sc->checks[1]);
    assert_int_equal(sc->checks[1].state, CHECK_FAILED);
    tier_destroy(strict);

    result_add_check(&sc->checks, n, "packages.1.status", "f.json:2:1", "C-6", NULL, NULL, NULL);
    tier_settle(t, &sc->checks[2]);
    assert_int_equal(sc->checks[2].state, CHECK_PASSED);
    assert_string_equal(sc->checks[2].basis, "documented");

    /* Without a catalogue every difference fails. */
    mm = json_array();
    json_array_append_new(mm, diff("R-1", "wording differs"));
    result_add_check(&sc->checks, n, "response.body", "f.json:3:1", "A-2", NULL, NULL, mm);
    tier_settle(NULL, &sc->checks[3]);
    assert_int_equal(sc->checks[3].state, CHECK_FAILED);

    result_run_cleanup(&run);
    tier_destroy(t);
    json_decref(rules);
}

/* NOTED when a check is noted and none failed; SKIP (with the reason) when every check of the
 * scenario's own was skipped, whatever the invariants did. */
static void test_tier_settle_scenario_outcomes(void **state)
{
    (void)state;
    json_t *rules = support_parse(CATALOGUE);
    struct tier *t = tier_create(rules, 0);
    struct result_run run;
    result_run_init(&run);

    struct result_scenario *s = result_run_add(&run);
    json_t *mm = json_array();
    json_array_append_new(mm, diff("R-1", "wording differs"));
    result_add_check(&s->checks, &s->check_count, "response.body", "w", "A-2", NULL, NULL, mm);
    result_add_check(&s->checks, &s->check_count, "invariant Q-4", "", "Q-4", NULL, NULL, NULL)
        ->invariant = 1;
    tier_settle_scenario(t, s);
    assert_int_equal(s->outcome, RESULT_NOTED);
    assert_ptr_equal(result_first_in(s, CHECK_NOTED), &s->checks[0]);
    assert_null(result_first_failure(s));

    s = result_run_add(&run);
    result_skip_check(&s->checks, &s->check_count, "outbox", "w", "C-6", "no outbox here");
    result_add_check(&s->checks, &s->check_count, "invariant Q-4", "", "Q-4", NULL, NULL, NULL)
        ->invariant = 1;
    tier_settle_scenario(t, s);
    assert_int_equal(s->outcome, RESULT_SKIP);
    assert_string_equal(s->error, "no outbox here");

    s = result_run_add(&run);
    result_skip_check(&s->checks, &s->check_count, "outbox", "w", "C-6", "no outbox here");
    result_add_check(&s->checks, &s->check_count, "packages.1.status", "w", "C-6", NULL, NULL,
                     NULL);
    tier_settle_scenario(t, s);
    assert_int_equal(s->outcome, RESULT_PASS);
    struct result_counts c;
    result_scenario_count(s, &c);
    assert_int_equal(c.total, 2);
    assert_int_equal(c.skipped, 1);
    assert_int_equal(c.passed, 1);

    result_run_tally(&run);
    assert_int_equal(run.noted, 1);
    assert_int_equal(run.skipped, 1);
    assert_int_equal(run.passed, 1);
    result_run_cleanup(&run);
    tier_destroy(t);
    json_decref(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tier_rule_for_first_listed_covering_rule),
        cmocka_unit_test(test_tier_settle_verdict_by_basis),
        cmocka_unit_test(test_tier_settle_scenario_outcomes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
