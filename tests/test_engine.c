/* test_engine: the domain core - command validation (SPEC C-3, C-4, C-8, E-1), the source check
 * (C-5) and transition effects (C-7, Q-2), all read from the default profile. */
#include "support.h"

#include "engine.h"
#include "valerr.h"

#include <jansson.h>
#include <string.h>

/* Parses text as a command body for path package 501; returns the envelope's error object. */
static json_t *errors_for(const char *text, int *rc, struct engine_command *cmd)
{
    json_t *body = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(body);
    struct valerr errors;
    valerr_init(&errors);
    *rc = engine_parse_command(support_profile, 501, body, cmd, &errors);
    json_t *copy = json_deep_copy(errors.fields);
    valerr_cleanup(&errors);
    json_decref(body);
    return copy;
}

static void test_parse_command_by_id_and_by_slug_name_the_same_transition(void **state)
{
    (void)state;
    int rc;
    struct engine_command a, b;
    json_t *e1 = errors_for("{\"package\": 501, \"transition\": 17}", &rc, &a);
    assert_int_equal(rc, 0);
    json_t *e2 = errors_for("{\"package\": 501, \"slug\": \"packed-for-refund\"}", &rc, &b);
    assert_int_equal(rc, 0);
    assert_ptr_equal(a.transition, b.transition);
    assert_int_equal(a.transition->target, 1100);
    assert_int_equal(a.sync_remote_order_status, 1); /* the profile default */
    json_decref(e1);
    json_decref(e2);
}

static void test_parse_command_collects_every_field_error(void **state)
{
    (void)state;
    int rc;
    struct engine_command cmd;
    json_t *e = errors_for("{\"package\": \"501\", \"transition\": 0, \"slug\": \"no such\", "
                           "\"sync_remote_order_status\": \"no\"}",
                           &rc, &cmd);
    assert_int_not_equal(rc, 0);
    assert_non_null(json_object_get(e, "package"));
    assert_non_null(json_object_get(e, "transition"));
    assert_non_null(json_object_get(e, "slug"));
    assert_non_null(json_object_get(e, "sync_remote_order_status"));
    json_decref(e);
}

static void test_parse_command_conflicting_id_and_slug(void **state)
{
    (void)state;
    int rc;
    struct engine_command cmd;
    json_t *e =
        errors_for("{\"package\": 501, \"transition\": 17, \"slug\": \"out-of-stock\"}", &rc, &cmd);
    assert_int_not_equal(rc, 0);
    const char *msg = json_string_value(json_array_get(json_object_get(e, "non_field_errors"), 0));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "different transitions"));
    json_decref(e);
}

static void test_parse_command_path_mismatch_names_both_ids(void **state)
{
    (void)state;
    int rc;
    struct engine_command cmd;
    json_t *e = errors_for("{\"package\": 502, \"transition\": 17}", &rc, &cmd);
    assert_int_not_equal(rc, 0);
    const char *msg = json_string_value(json_array_get(json_object_get(e, "package"), 0));
    assert_non_null(strstr(msg, "502"));
    assert_non_null(strstr(msg, "501"));
    json_decref(e);
}

static void test_parse_command_body_not_an_object(void **state)
{
    (void)state;
    static const char *const bodies[] = {"[501, 17]", "\"501\"", "null", "17"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        int rc;
        struct engine_command cmd;
        json_t *e = errors_for(bodies[i], &rc, &cmd);
        assert_int_equal(rc, OMS_E_INVAL);
        assert_null(cmd.transition);
        const char *msg =
            json_string_value(json_array_get(json_object_get(e, "non_field_errors"), 0));
        if (!msg || !strstr(msg, "JSON object"))
            fail_msg("%s: no non_field_errors message about a JSON object", bodies[i]);
        json_decref(e);
    }
}

static void test_parse_command_neither_transition_nor_slug(void **state)
{
    (void)state;
    int rc;
    struct engine_command cmd;
    json_t *e = errors_for("{\"package\": 501}", &rc, &cmd);
    assert_int_equal(rc, OMS_E_INVAL);
    assert_null(cmd.transition);
    const char *msg = json_string_value(json_array_get(json_object_get(e, "non_field_errors"), 0));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "slug"));
    assert_null(json_object_get(e, "package")); /* the package itself is fine */
    json_decref(e);
}

static void test_parse_command_package_missing_or_not_positive(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"transition\": 17}", "{\"package\": 0, \"transition\": 17}",
        "{\"package\": -501, \"transition\": 17}", "{\"package\": 501.0, \"transition\": 17}",
        "{\"package\": true, \"transition\": 17}"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        int rc;
        struct engine_command cmd;
        json_t *e = errors_for(bodies[i], &rc, &cmd);
        assert_int_equal(rc, OMS_E_INVAL);
        if (!json_array_size(json_object_get(e, "package")))
            fail_msg("%s: no error on package", bodies[i]);
        assert_int_equal(json_object_size(e), 1); /* only the package is wrong */
        json_decref(e);
    }
}

static void test_check_source_names_status_and_allowed_sources(void **state)
{
    (void)state;
    const struct oms_profile_transition *t = oms_profile_transition_by_id(support_profile, 17);
    struct valerr errors;
    valerr_init(&errors);
    assert_int_equal(engine_check_source(support_profile, t, 501, 100, &errors), 0);
    assert_int_equal(engine_check_source(support_profile, t, 501, 920, &errors), 0);
    assert_int_not_equal(engine_check_source(support_profile, t, 501, 500, &errors), 0);
    const char *msg =
        json_string_value(json_array_get(json_object_get(errors.fields, "non_field_errors"), 0));
    assert_non_null(strstr(msg, "Packed (500)"));
    assert_non_null(strstr(msg, "Waiting (100)"));
    assert_non_null(strstr(msg, "Out of Stock (920)"));
    valerr_cleanup(&errors);
}

static void test_check_source_second_command_is_conflict(void **state)
{
    (void)state;
    /* SPEC C-5: running the command twice - 1100 is not a source. */
    const struct oms_profile_transition *t = oms_profile_transition_by_id(support_profile, 17);
    struct valerr errors;
    valerr_init(&errors);
    assert_int_equal(engine_check_source(support_profile, t, 501, 1100, &errors), OMS_E_CONFLICT);
    assert_int_equal(engine_check_source(support_profile, t, 501, 4242, &errors), OMS_E_CONFLICT);
    json_t *msgs = json_object_get(errors.fields, "non_field_errors");
    assert_int_equal(json_array_size(msgs), 2);
    assert_non_null(strstr(json_string_value(json_array_get(msgs, 0)), "Packed for Refund (1100)"));
    assert_non_null(strstr(json_string_value(json_array_get(msgs, 1)), "unknown status (4242)"));
    valerr_cleanup(&errors);
}

static void test_effects_from_waiting_and_from_out_of_stock(void **state)
{
    (void)state;
    const struct oms_profile_transition *t = oms_profile_transition_by_id(support_profile, 17);
    struct engine_effects fx;
    engine_effects(support_profile, t, 100, 1, &fx);
    assert_int_equal(fx.quota_delta, -1); /* SPEC Q-2: Waiting counts, 1100 does not */
    assert_true(fx.delete_reservations && fx.delete_discrepancies);
    assert_string_equal(fx.remote_status, "packed_for_refund");
    engine_effects(support_profile, t, 920, 0, &fx);
    assert_int_equal(fx.quota_delta, 0);                             /* 920 does not count either */
    assert_false(fx.delete_reservations || fx.delete_discrepancies); /* SPEC A-3 */
    assert_null(fx.remote_status);                                   /* sync flag false */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_command_by_id_and_by_slug_name_the_same_transition),
        cmocka_unit_test(test_parse_command_collects_every_field_error),
        cmocka_unit_test(test_parse_command_conflicting_id_and_slug),
        cmocka_unit_test(test_parse_command_path_mismatch_names_both_ids),
        cmocka_unit_test(test_parse_command_body_not_an_object),
        cmocka_unit_test(test_parse_command_neither_transition_nor_slug),
        cmocka_unit_test(test_parse_command_package_missing_or_not_positive),
        cmocka_unit_test(test_check_source_names_status_and_allowed_sources),
        cmocka_unit_test(test_check_source_second_command_is_conflict),
        cmocka_unit_test(test_effects_from_waiting_and_from_out_of_stock),
    };
    return cmocka_run_group_tests(tests, support_profile_setup, support_profile_teardown);
}
