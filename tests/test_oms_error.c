/* test_oms_error: the error-code table (names and messages) and the located error struct -
 * the first error wins, and the formatter leaves out the parts that are unknown. */
#include "support.h"

#include "oms_error.h"

#include <string.h>

static void test_oms_strerror_every_code_has_its_message(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *name;
        const char *message;
    } table[] = {{OMS_OK, "OMS_OK", "success"},
#define ROW(name, msg) {OMS_E_##name, "OMS_E_" #name, msg},
                 OMS_ERRNO_MAP(ROW)
#undef ROW
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        assert_string_equal(oms_strerror(table[i].code), table[i].message);
        assert_string_equal(oms_errname(table[i].code), table[i].name);
        if (table[i].code != OMS_OK)
            assert_true(table[i].code < 0);
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(table[i].code, table[j].code);
    }
    assert_string_equal(oms_errname(OMS_E_NOENT), "OMS_E_NOENT");
    assert_string_equal(oms_strerror(OMS_E_TIMEOUT), "timed out");
}

static void test_oms_strerror_unknown_code(void **state)
{
    (void)state;
    assert_string_equal(oms_strerror(12345), "unknown error");
    assert_string_equal(oms_strerror(-1), "unknown error");
    assert_string_equal(oms_strerror(OMS_E_FIRST_), "unknown error");
    assert_string_equal(oms_errname(12345), "OMS_E_UNKNOWN");
    assert_non_null(oms_errname(-100000));
}

static void test_oms_err_set_first_error_wins(void **state)
{
    (void)state;
    struct oms_err err;
    oms_err_clear(&err);
    assert_false(oms_err_isset(&err));
    int rc = oms_err_set(&err, OMS_E_NOENT, "a.json", 3, 7, "$.x", "first %d", 1);
    assert_int_equal(rc, OMS_E_NOENT);
    assert_true(oms_err_isset(&err));
    rc = oms_err_set(&err, OMS_E_IO, "b.json", 9, 9, "$.y", "second");
    assert_int_equal(rc, OMS_E_IO); /* the code is returned even when not recorded */
    assert_int_equal(err.code, OMS_E_NOENT);
    assert_string_equal(err.source, "a.json");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 7);
    assert_string_equal(err.path, "$.x");
    assert_string_equal(err.message, "first 1");
    oms_err_clear(&err);
    assert_false(oms_err_isset(&err));
    assert_string_equal(err.message, "");
}

static void test_oms_err_set_null_err_and_null_parts(void **state)
{
    (void)state;
    assert_int_equal(oms_err_set(NULL, OMS_E_DB, "x", 1, 1, "$", "ignored"), OMS_E_DB);
    oms_err_clear(NULL);
    assert_false(oms_err_isset(NULL));
    struct oms_err err = {0};
    oms_err_set(&err, OMS_E_INVAL, NULL, 0, 0, NULL, "no source");
    assert_string_equal(err.source, "");
    assert_string_equal(err.path, "");
    assert_true(oms_err_isset(&err));
}

static void test_oms_err_set_long_message_truncated(void **state)
{
    (void)state;
    char big[4000];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct oms_err err = {0};
    oms_err_set(&err, OMS_E_INVAL, big, 0, 0, big, "%s", big);
    assert_int_equal(strlen(err.message), OMS_ERR_MESSAGE_MAX - 1);
    assert_int_equal(strlen(err.source), OMS_ERR_SOURCE_MAX - 1);
    assert_int_equal(strlen(err.path), OMS_ERR_PATH_MAX - 1);
}

static void test_oms_err_set_source_fills_only_missing(void **state)
{
    (void)state;
    struct oms_err err = {0};
    oms_err_set_source(&err, "nothing-set.json"); /* no error: nothing happens */
    assert_string_equal(err.source, "");
    assert_false(oms_err_isset(&err));
    oms_err_set(&err, OMS_E_INVAL, NULL, 0, 0, "$.a", "bad");
    oms_err_set_source(&err, "late.json");
    assert_string_equal(err.source, "late.json");
    oms_err_set_source(&err, "other.json"); /* already known: kept */
    assert_string_equal(err.source, "late.json");
    oms_err_set_source(NULL, "x");
}

static void test_oms_err_format_parts(void **state)
{
    (void)state;
    static const struct {
        const char *source;
        int line, column;
        const char *path;
        const char *message;
        const char *want;
    } table[] = {
        {"f.json", 3, 14, "$.a.b", "bad value", "f.json:3:14: at $.a.b: bad value"},
        {"f.json", 3, 0, "$.a", "bad", "f.json:3: at $.a: bad"},
        {"f.json", 0, 0, "", "bad", "f.json: bad"},
        {NULL, 0, 0, "$.x", "bad", "at $.x: bad"},
        {NULL, 5, 5, NULL, "only the message", "only the message"},
        {"u", 0, 9, NULL, "m", "u: m"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct oms_err err = {0};
        char out[256];
        oms_err_set(&err, OMS_E_INVAL, table[i].source, table[i].line, table[i].column,
                    table[i].path, "%s", table[i].message);
        assert_ptr_equal(oms_err_format(&err, out, sizeof(out)), out);
        assert_string_equal(out, table[i].want);
    }
}

static void test_oms_err_format_empty_message_uses_code_text(void **state)
{
    (void)state;
    struct oms_err err = {0};
    char out[128];
    oms_err_set(&err, OMS_E_NOENT, NULL, 0, 0, NULL, "%s", "");
    oms_err_format(&err, out, sizeof(out));
    assert_string_equal(out, "not found");
}

static void test_oms_err_format_small_buffer_and_null(void **state)
{
    (void)state;
    struct oms_err err = {0};
    oms_err_set(&err, OMS_E_INVAL, "some/long/source.json", 12, 34, "$.deep.path", "message");
    char out[10];
    memset(out, 'Z', sizeof(out));
    oms_err_format(&err, out, sizeof(out));
    assert_int_equal(strlen(out), sizeof(out) - 1);
    assert_memory_equal(out, "some/long", 9);
    char one[1] = {'Z'};
    oms_err_format(&err, one, 1);
    assert_int_equal(one[0], '\0');
    char tiny[4] = "abc";
    assert_ptr_equal(oms_err_format(NULL, tiny, sizeof(tiny)), tiny);
    assert_string_equal(tiny, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oms_strerror_every_code_has_its_message),
        cmocka_unit_test(test_oms_strerror_unknown_code),
        cmocka_unit_test(test_oms_err_set_first_error_wins),
        cmocka_unit_test(test_oms_err_set_null_err_and_null_parts),
        cmocka_unit_test(test_oms_err_set_long_message_truncated),
        cmocka_unit_test(test_oms_err_set_source_fills_only_missing),
        cmocka_unit_test(test_oms_err_format_parts),
        cmocka_unit_test(test_oms_err_format_empty_message_uses_code_text),
        cmocka_unit_test(test_oms_err_format_small_buffer_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
