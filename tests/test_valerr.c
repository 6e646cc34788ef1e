/* test_valerr: collecting validation errors field by field and the SPEC E-1 envelope. */
#include "support.h"

#include "valerr.h"

#include <string.h>

static void test_valerr_init_has_no_errors(void **state)
{
    (void)state;
    struct valerr v;
    valerr_init(&v);
    assert_false(valerr_any(&v));
    json_t *env = valerr_envelope(&v, 400);
    json_t *want = support_parse("{\"error\": {}, \"status_code\": 400}");
    support_assert_json_equal(env, want);
    json_decref(env);
    json_decref(want);
    valerr_cleanup(&v);
    assert_null(v.fields);
}

static void test_valerr_add_collects_in_order(void **state)
{
    (void)state;
    struct valerr v;
    valerr_init(&v);
    valerr_add(&v, "package", "this field is required");
    valerr_add(&v, "slug", "bad slug \"%s\"", "x y");
    valerr_add(&v, "package", "second message %d", 2);
    valerr_add(&v, "non_field_errors", "whole request");
    assert_true(valerr_any(&v));
    json_t *env = valerr_envelope(&v, 400);
    json_t *want =
        support_parse("{\"error\": {\"package\": [\"this field is required\", \"second message "
                      "2\"], \"slug\": [\"bad slug \\\"x y\\\"\"], \"non_field_errors\": "
                      "[\"whole request\"]}, \"status_code\": 400}");
    support_assert_json_equal(env, want);
    /* Fields keep the order they were first added in. */
    void *it = json_object_iter(json_object_get(env, "error"));
    assert_string_equal(json_object_iter_key(it), "package");
    valerr_cleanup(&v);
    /* The envelope holds its own reference. */
    assert_int_equal(json_array_size(json_object_get(json_object_get(env, "error"), "package")), 2);
    json_decref(env);
    json_decref(want);
}

static void test_valerr_add_invalid_utf8_and_long_message(void **state)
{
    (void)state;
    struct valerr v;
    valerr_init(&v);
    valerr_add(&v, "slug", "not a slug: %s", "\xff\xfe");
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    valerr_add(&v, "body", "%s", big);
    const char *m = json_string_value(json_array_get(json_object_get(v.fields, "slug"), 0));
    assert_non_null(m);
    assert_non_null(strstr(m, "\xEF\xBF\xBD"));
    m = json_string_value(json_array_get(json_object_get(v.fields, "body"), 0));
    assert_non_null(m);
    assert_true(strlen(m) < sizeof(big) - 1);
    assert_true(strlen(m) > 1000);
    valerr_cleanup(&v);
}

static void test_valerr_single_envelope(void **state)
{
    (void)state;
    json_t *env = valerr_single(404, "detail", "package 9 does not exist");
    json_t *want = support_parse(
        "{\"error\": {\"detail\": [\"package 9 does not exist\"]}, \"status_code\": 404}");
    support_assert_json_equal(env, want);
    json_decref(env);
    json_decref(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valerr_init_has_no_errors),
        cmocka_unit_test(test_valerr_add_collects_in_order),
        cmocka_unit_test(test_valerr_add_invalid_utf8_and_long_message),
        cmocka_unit_test(test_valerr_single_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
