/* test_refcheck: values of a scenario that name things of the default profile - statuses,
 * transition ids and slugs, lifecycle actions, event types - are checked with the nearest name,
 * while request data (a command's body) stays free unless the step expects success; a scenario's
 * own profile overrides count. */
#include "support.h"

#include "refcheck.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ERRS 16

static struct schema *schema;
static char dir[] = "/tmp/test_refcheck.XXXXXX";

static int setup(void **state)
{
    struct oms_err err = {0};
    if (schema_load(support_path("spec/scenario.schema.json"), &schema, &err) != 0) {
        print_error("cannot load the scenario schema: %s\n", err.message);
        return -1;
    }
    if (!mkdtemp(dir))
        return -1;
    return support_profile_setup(state);
}

static int teardown(void **state)
{
    schema_destroy(schema);
    rmdir(dir);
    return support_profile_teardown(state);
}

/* Loads a scenario whose top level is `{"name": "t", "rules": ["C-2"], <members>}`, checks its
 * values against the default profile; returns the number of errors (errs filled). */
static size_t check(const char *members, struct oms_err *errs)
{
    char *file = support_printf("%s/s.json", dir);
    char *text = support_printf("{\"name\": \"t\", \"rules\": [\"C-2\"], %s}", members);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    struct scenario *s = NULL;
    size_t n = scenario_load(file, schema, NULL, &s, errs, MAX_ERRS);
    if (n)
        fail_msg("does not load: %s (%s)", errs[0].message, text);
    n = refcheck_scenario(s, support_profile, errs, MAX_ERRS);
    scenario_destroy(s);
    unlink(file);
    free(file);
    free(text);
    return n;
}

static void expect_ok(const char *members)
{
    struct oms_err errs[MAX_ERRS];
    size_t n = check(members, errs);
    if (n)
        fail_msg("%s: %s: %s", members, errs[0].path, errs[0].message);
}

static void expect_error(const char *members, const char *path, const char *fragment)
{
    struct oms_err errs[MAX_ERRS];
    size_t n = check(members, errs);
    if (n != 1)
        fail_msg("%s: expected 1 error, got %zu (%s)", members, n, n ? errs[0].message : "");
    if (strcmp(errs[0].path, path) != 0)
        fail_msg("%s: expected the path %s, got %s", members, path, errs[0].path);
    if (!strstr(errs[0].message, fragment))
        fail_msg("%s: \"%s\" lacks \"%s\"", members, errs[0].message, fragment);
    assert_true(errs[0].line > 0);
}

#define STEP_204 "\"then\": {\"response\": {\"status\": 204}}"

/* A command's body is request data: an unknown slug or transition there is how a scenario checks
 * the 400 - unless the step says it expects success. */
static void test_refcheck_command_body_is_data_unless_success_expected(void **state)
{
    (void)state;
    expect_ok("\"when\": [{\"command\": {\"package\": 1, \"body\": {\"slug\": \"nope\"}}, "
              "\"then\": {\"response\": {\"status\": 400}}}]");
    expect_ok("\"when\": [{\"command\": {\"package\": 1, \"body\": {\"transition\": 99}}}]");
    expect_ok("\"when\": [{\"command\": {\"package\": 1, \"body\": {\"slug\": \"pack\"}}, " STEP_204
              "}]");
    expect_error("\"when\": [{\"command\": {\"package\": 1, \"body\": {\"slug\": \"packed_for_"
                 "refund\"}}, " STEP_204 "}]",
                 "$.when[0].command.body.slug",
                 "slug \"packed_for_refund\" is not a transition of the profile, yet the step "
                 "expects 204; did you mean \"packed-for-refund\"?");
    expect_error(
        "\"when\": [{\"command\": {\"package\": 1, \"body\": {\"transition\": 71}}, " STEP_204 "}]",
        "$.when[0].command.body.transition",
        "transition 71 is not a transition of the profile, yet the step expects 204");
    /* Concurrent copies all expected to succeed count as expecting success. */
    expect_error("\"when\": [{\"command\": {\"package\": 1, \"body\": {\"slug\": \"pakc\"}}, "
                 "\"concurrent\": 2, \"then\": {\"responses\": {\"204\": {\"count\": 2}}}}]",
                 "$.when[0].command.body.slug", "did you mean \"pack\"?");
}

/* Statuses by name in any case, by key or number are references; matchers are checked inside. */
static void test_refcheck_statuses(void **state)
{
    (void)state;
    expect_ok("\"given\": {\"packages\": [{\"id\": 1, \"location\": 1, \"status\": \"waiting\", "
              "\"items\": [{\"id\": 2, \"status\": 920}]}, {\"id\": 3, \"location\": 1, "
              "\"status\": \"out_of_stock\"}]}, \"when\": [{\"command\": {\"package\": 1}}]");
    expect_error("\"given\": {\"packages\": [{\"id\": 1, \"location\": 1, \"status\": 100, "
                 "\"items\": [{\"id\": 2, \"status\": 123}]}]}, \"when\": [{\"command\": "
                 "{\"package\": 1}}]",
                 "$.given.packages[0].items[0].status",
                 "status 123 is not in the profile's catalogue");
    expect_error("\"when\": [{\"command\": {\"package\": 1}, \"then\": {\"packages\": {\"1\": "
                 "{\"items\": {\"2\": \"Packd\"}}}}}]",
                 "$.when[0].then.packages[\"1\"].items[\"2\"]", "did you mean \"Packed\"?");
    expect_error("\"when\": [{\"command\": {\"package\": 1}}], \"then\": {\"webhooks\": {\"erp\": "
                 "[{\"body\": {\"payload\": {\"status\": {\"$status\": \"Cancelld\"}}}}]}}",
                 "$.then.webhooks.erp[0].body.payload.status[\"$status\"]",
                 "did you mean \"Cancelled\"?");
    expect_ok("\"when\": [{\"command\": {\"package\": 1}}], \"then\": {\"transition_log\": "
              "[{\"old_status\": {\"$any\": true}, \"new_status\": {\"$status\": \"Packed\"}}]}");
    expect_error("\"when\": [{\"lifecycle\": {\"plan\": {\"id\": 1, \"location\": 1, \"status\": "
                 "\"Wating\"}}}]",
                 "$.when[0].lifecycle.plan.status", "did you mean \"Waiting\"?");
}

/* The transition log names transitions by id and slug, statuses by name; $contains lists too. */
static void test_refcheck_transition_log(void **state)
{
    (void)state;
    expect_ok("\"when\": [{\"command\": {\"package\": 1}}], \"then\": {\"transition_log\": "
              "[{\"transition\": 17, \"slug\": \"packed-for-refund\", \"old_status\": "
              "\"Waiting\", \"new_status\": 1100}]}");
    expect_error("\"when\": [{\"command\": {\"package\": 1}}], \"then\": {\"transition_log\": "
                 "[{\"transition\": 18}]}",
                 "$.then.transition_log[0].transition",
                 "transition 18 is not a transition of the profile");
    expect_error("\"when\": [{\"command\": {\"package\": 1}}], \"then\": {\"transition_log\": "
                 "{\"$contains\": [{\"slug\": \"out_of_stock\"}]}}",
                 "$.then.transition_log[\"$contains\"][0].slug", "did you mean \"out-of-stock\"?");
}

/* Lifecycle actions and subscription event types come from the profile. */
static void test_refcheck_actions_and_event_types(void **state)
{
    (void)state;
    expect_ok("\"given\": {\"subscriptions\": [{\"event_type\": \"package.status.cancelled\", "
              "\"receiver\": \"erp\"}]}, \"when\": [{\"lifecycle\": {\"action\": \"cancel\", "
              "\"package\": 1}}]");
    expect_error("\"when\": [{\"lifecycle\": {\"action\": \"cancle\", \"package\": 1}}]",
                 "$.when[0].lifecycle.action", "did you mean \"cancel\"?");
    expect_error("\"given\": {\"subscriptions\": [{\"event_type\": \"package.status.packed\", "
                 "\"receiver\": \"a\"}, {\"event_type\": \"order.created\", \"receiver\": "
                 "\"b\"}]}, \"when\": [{\"command\": {\"package\": 1}}]",
                 "$.given.subscriptions[1].event_type",
                 "\"order.created\" is the event type of no transition of the profile");
}

/* A scenario's profile overrides are what its values are checked against; overrides that are
 * invalid are reported where they are. Several errors are all collected. */
static void test_refcheck_uses_the_scenario_overrides(void **state)
{
    (void)state;
    expect_ok("\"given\": {\"profile\": {\"lifecycle\": {\"ship\": [\"pack\"]}}}, \"when\": "
              "[{\"lifecycle\": {\"action\": \"ship\", \"package\": 1}}]");
    expect_error("\"given\": {\"profile\": {\"lifecycle\": {\"cancel\": null}}}, \"when\": "
                 "[{\"lifecycle\": {\"action\": \"cancel\", \"package\": 1}}]",
                 "$.when[0].lifecycle.action", "is not a lifecycle action of the profile");
    /* Well formed for the profile schema, refused by the profile loader: a plan status that is
     * not in the catalogue. */
    expect_error("\"given\": {\"profile\": {\"lifecycle\": {\"plan_status\": \"Nowhere\"}}}, "
                 "\"when\": [{\"command\": {\"package\": 1}}]",
                 "$.given.profile.lifecycle.plan_status", "the profile overrides are invalid");
    struct oms_err errs[MAX_ERRS];
    size_t n = check("\"given\": {\"packages\": [{\"id\": 1, \"location\": 1, \"status\": "
                     "\"A\"}, {\"id\": 2, \"location\": 1, \"status\": \"B\"}]}, \"when\": "
                     "[{\"lifecycle\": {\"action\": \"zzz\", \"package\": 1}}]",
                     errs);
    assert_int_equal(n, 3);
    assert_string_equal(errs[2].path, "$.when[0].lifecycle.action");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refcheck_command_body_is_data_unless_success_expected),
        cmocka_unit_test(test_refcheck_statuses),
        cmocka_unit_test(test_refcheck_transition_log),
        cmocka_unit_test(test_refcheck_actions_and_event_types),
        cmocka_unit_test(test_refcheck_uses_the_scenario_overrides),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
