/* test_oms_json: loading with located errors (line/column, duplicate keys), JSON paths, strict
 * integer reads, exact equality, RFC 7396 merge, and lossy strings from arbitrary bytes. */
#include "support.h"

#include "oms_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Compares after freeing everything, so a failing case leaks nothing; takes all references. */
static void expect_json_and_free(json_t *actual, json_t *expected, json_t *a, json_t *b)
{
    char *got = oms_json_dumps(actual), *want = oms_json_dumps(expected);
    int same = json_equal(actual, expected);
    char text[1024];
    snprintf(text, sizeof(text), "expected %s, got %s", want, got);
    free(got);
    free(want);
    json_decref(actual);
    json_decref(expected);
    json_decref(a);
    json_decref(b);
    if (!same)
        fail_msg("%s", text);
}

static void test_oms_json_load_buf_valid(void **state)
{
    (void)state;
    struct oms_err err = {0};
    const char *text = "{\"a\": [1, 2], \"b\": \"c\"}";
    json_t *v = oms_json_load_buf(text, strlen(text), "body", &err);
    assert_non_null(v);
    assert_false(oms_err_isset(&err));
    assert_int_equal(json_array_size(json_object_get(v, "a")), 2);
    json_decref(v);
}

/* Malformed inputs: each must fail with the source, the line and column jansson reports (for a
 * trailing comma: the comma's, and the message says so), and a message that starts with "invalid
 * JSON". */
static void test_oms_json_load_buf_malformed_inputs(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line, column;
        const char *fragment;
    } table[] = {
        {"{\"a\": 1,}", 1, 8, "a trailing comma before '}'"},
        {"{\n  \"a\": 1,\n  \"a\": 2\n}", 3, 5, "duplicate object key"},
        {"{\n  \"x\": [1, 2,\n   ]\n}", 2, 13, "a trailing comma before ']'"},
        {"{\"\xc3\xa9\": [1,\r\n\t]}", 1, 9, "a trailing comma before ']'"},
        {"[1, , 2]", 1, 5, "unexpected token near ','"},
        {"{\"a\":\n  tru}", 2, 5, "invalid token"},
        {"{\"a\": 1} extra", 1, 14, "end of file expected"},
        {"[1, 2", 1, 5, "]"},
        {"{\"s\": \"\\q\"}", 1, 9, "invalid escape"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct oms_err err = {0};
        json_t *v = oms_json_load_buf(table[i].text, strlen(table[i].text), "request body", &err);
        if (v)
            fail_msg("case %zu parsed: %s", i, table[i].text);
        assert_int_equal(err.code, OMS_E_INVAL);
        assert_string_equal(err.source, "request body");
        if (err.line != table[i].line || err.column != table[i].column)
            fail_msg("case %zu (%s): expected %d:%d, got %d:%d (%s)", i, table[i].text,
                     table[i].line, table[i].column, err.line, err.column, err.message);
        assert_non_null(strstr(err.message, "invalid JSON"));
        if (!strstr(err.message, table[i].fragment))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.message, table[i].fragment);
        assert_string_equal(err.path, "");
    }
}

static void test_oms_json_load_buf_empty_and_null(void **state)
{
    (void)state;
    struct oms_err err = {0};
    assert_null(oms_json_load_buf(NULL, 10, "nothing", &err));
    assert_int_equal(err.code, OMS_E_INVAL);
    assert_string_equal(err.source, "nothing");
    oms_err_clear(&err);
    assert_null(oms_json_load_buf("", 0, "empty", &err));
    assert_int_equal(err.code, OMS_E_INVAL);
    assert_null(oms_json_load_buf("{}", 0, "zero length", NULL)); /* NULL err allowed */
}

static void test_oms_json_load_buf_duplicate_nested_key_rejected(void **state)
{
    (void)state;
    struct oms_err err = {0};
    const char *text = "{\"outer\": {\"k\": 1, \"k\": 1}}";
    assert_null(oms_json_load_buf(text, strlen(text), "dup", &err));
    assert_non_null(strstr(err.message, "duplicate"));
    assert_int_equal(err.line, 1);
    assert_true(err.column > 0);
}

static void test_oms_json_load_file_missing_and_malformed(void **state)
{
    (void)state;
    struct oms_err err = {0};
    assert_null(oms_json_load_file("/nonexistent/dir/file.json", &err));
    assert_int_equal(err.code, OMS_E_IO);
    assert_string_equal(err.source, "/nonexistent/dir/file.json");

    char dir[] = "/tmp/test_oms_json.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128];
    snprintf(file, sizeof(file), "%s/bad.json", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\n  \"a\": 1,\n  \"a\": 2\n}\n", f);
    fclose(f);
    oms_err_clear(&err);
    assert_null(oms_json_load_file(file, &err));
    assert_int_equal(err.code, OMS_E_INVAL);
    assert_string_equal(err.source, file);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 5);

    f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\"ok\": true}", f);
    fclose(f);
    oms_err_clear(&err);
    json_t *v = oms_json_load_file(file, &err);
    assert_non_null(v);
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);

    /* A file's trailing comma is named at the comma, as a buffer's is. */
    f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\n  \"a\": [1, 2],\n}\n", f);
    fclose(f);
    oms_err_clear(&err);
    assert_null(oms_json_load_file(file, &err));
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 14);
    assert_non_null(strstr(err.message, "a trailing comma before '}'"));
    unlink(file);
    rmdir(dir);
}

static void test_oms_json_dumps_compact_and_null(void **state)
{
    (void)state;
    json_t *v = support_parse("{\"b\": 1, \"a\": [true, null]}");
    char *s = oms_json_dumps(v);
    assert_string_equal(s, "{\"b\":1,\"a\":[true,null]}");
    free(s);
    s = oms_json_dumps_pretty(v);
    assert_non_null(strstr(s, "\n  \"a\""));
    assert_true(strstr(s, "\"a\"") < strstr(s, "\"b\"")); /* sorted */
    free(s);
    s = oms_json_dumps(NULL);
    assert_string_equal(s, "null");
    free(s);
    s = oms_json_dumps_pretty(NULL);
    assert_string_equal(s, "null");
    free(s);
    json_t *str = json_string("x");
    s = oms_json_dumps(str); /* a scalar serialises too */
    assert_string_equal(s, "\"x\"");
    free(s);
    json_decref(str);
    json_decref(v);
}

/* oms_json_dumps writes what jansson's json_dumps (JSON_COMPACT | JSON_ENCODE_ANY) writes, byte
 * for byte: nesting, key order, every escape, integers, reals, literals, UTF-8 and a NUL inside a
 * string. The texts are parsed, so each value is what a fixture or a profile could hold. */
static void test_oms_json_dumps_matches_jansson(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{}",
        "[]",
        "\"\"",
        "0",
        "-9223372036854775808",
        "1.5",
        "1e300",
        "-0.0",
        "0.1",
        "123456789.125",
        "true",
        "null",
        "{\"b\": 1, \"a\": [true, false, null, {\"z\": {}}], \"\": \"x\"}",
        "[\"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f\"]",
        "[\"\\u0001\\u001f\\u007f control\", \"caf\\u00e9 \\u4e2d \\ud83d\\ude00\"]",
        "{\"key\": \"nul \\u0000 inside\"}",
        "{\"event\": {\"type\": \"package.status.packed_for_refund\", \"uuid\": \"00ff\"},"
        " \"payload\": {\"id\": 501, \"items\": [{\"id\": 1, \"quantity\": 2}]}}",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_error_t je;
        json_t *v = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!v)
            fail_msg("test document %zu does not parse: %s", i, je.text);
        char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        char *got = oms_json_dumps(v);
        if (strcmp(want, got) != 0)
            fail_msg("document %zu: jansson writes %s, oms_json_dumps %s", i, want, got);
        /* A NUL inside: the same length too. */
        struct oms_buf b;
        oms_buf_init(&b, 0);
        oms_json_append(&b, v);
        assert_int_equal(b.len, strlen(want));
        oms_buf_cleanup(&b);
        free(want);
        free(got);
        json_decref(v);
    }
}

static void test_oms_jpath_key_identifiers_and_odd_keys(void **state)
{
    (void)state;
    static const struct {
        const char *parent;
        const char *key;
        const char *want;
    } table[] = {
        {"$", "name", "$.name"},
        {"$.a", "b_2", "$.a.b_2"},
        {NULL, "top", "$.top"},
        {"", "top", "$.top"},
        {"$", "with space", "$[\"with space\"]"},
        {"$", "a.b", "$[\"a.b\"]"},
        {"$", "501", "$[\"501\"]"},
        {"$", "1abc", "$[\"1abc\"]"},
        {"$", "", "$[\"\"]"},
        {"$", "$status", "$[\"$status\"]"},
        {"$.x[0]", "[y]", "$.x[0][\"[y]\"]"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        char out[128];
        assert_ptr_equal(oms_jpath_key(out, sizeof(out), table[i].parent, table[i].key), out);
        if (strcmp(out, table[i].want) != 0)
            fail_msg("key \"%s\": expected %s, got %s", table[i].key, table[i].want, out);
    }
}

static void test_oms_jpath_index_and_truncation(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(oms_jpath_index(out, sizeof(out), "$.when", 3), "$.when[3]");
    assert_string_equal(oms_jpath_index(out, sizeof(out), NULL, 0), "$[0]");
    char small[6];
    oms_jpath_index(small, sizeof(small), "$.abcdef", 12);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_oms_json_int_accepts_only_integers(void **state)
{
    (void)state;
    static const char *const refused[] = {"1.0",   "1.5",  "true", "false",
                                          "\"1\"", "null", "[1]",  "{}"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        json_t *v = support_parse(refused[i]);
        int64_t out = 77;
        if (oms_json_int(v, &out) != OMS_E_INVAL)
            fail_msg("%s was accepted as an integer", refused[i]);
        assert_int_equal(out, 77); /* untouched */
        json_decref(v);
    }
    int64_t out = 0;
    assert_int_equal(oms_json_int(NULL, &out), OMS_E_INVAL);
    json_t *v = support_parse("-9007199254740993");
    assert_int_equal(oms_json_int(v, &out), 0);
    assert_true(out == INT64_C(-9007199254740993));
    json_decref(v);
}

static void test_oms_json_equal_exact(void **state)
{
    (void)state;
    json_t *one = support_parse("1"), *onef = support_parse("1.0");
    assert_false(oms_json_equal(one, onef));
    json_t *a = support_parse("{\"x\": [1, {\"y\": null}], \"z\": \"s\"}");
    json_t *b = support_parse("{\"z\": \"s\", \"x\": [1, {\"y\": null}]}");
    json_t *c = support_parse("{\"z\": \"s\", \"x\": [{\"y\": null}, 1]}");
    assert_true(oms_json_equal(a, b));  /* key order does not matter */
    assert_false(oms_json_equal(a, c)); /* array order does */
    assert_false(oms_json_equal(a, NULL));
    json_decref(one);
    json_decref(onef);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_oms_json_type_name_every_type(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *name;
    } table[] = {{"{}", "object"}, {"[]", "array"},     {"\"s\"", "string"},  {"1", "integer"},
                 {"1.5", "real"},  {"true", "boolean"}, {"false", "boolean"}, {"null", "null"}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *v = support_parse(table[i].text);
        assert_string_equal(oms_json_type_name(v), table[i].name);
        json_decref(v);
    }
    assert_string_equal(oms_json_type_name(NULL), "missing");
}

static void test_oms_json_merge_objects_merge_null_deletes(void **state)
{
    (void)state;
    json_t *target =
        support_parse("{\"a\": {\"b\": 1, \"c\": 2}, \"d\": [1, 2], \"e\": 1, \"k\": \"v\"}");
    json_t *patch =
        support_parse("{\"a\": {\"b\": null, \"x\": 3}, \"d\": [3], \"e\": null, "
                      "\"f\": {\"g\": 1}, \"k\": {\"now\": \"object\"}, \"gone\": null}");
    json_t *want = support_parse("{\"a\": {\"c\": 2, \"x\": 3}, \"d\": [3], \"f\": {\"g\": 1}, "
                                 "\"k\": {\"now\": \"object\"}}");
    oms_json_merge(target, patch);
    support_assert_json_equal(target, want);
    json_decref(target);
    json_decref(patch);
    json_decref(want);
}

/* RFC 7396: a patch object that replaces a non-object (or lands on a missing key) is itself
 * merged into {}, so the nulls inside it delete rather than being stored as nulls. */
static void test_oms_json_merge_nested_null_in_new_object_is_not_stored(void **state)
{
    (void)state;
    json_t *target = support_parse("{\"a\": 1}");
    json_t *patch =
        support_parse("{\"a\": {\"b\": null, \"c\": 1}, \"n\": {\"m\": {\"o\": null}}}");
    json_t *want = support_parse("{\"a\": {\"c\": 1}, \"n\": {\"m\": {}}}");
    oms_json_merge(target, patch);
    expect_json_and_free(target, want, patch, NULL);
}

/* patch is const: the merged target must not share patch's objects, or a later change to the
 * target (here a second merge) would change the patch. */
static void test_oms_json_merge_target_does_not_alias_patch(void **state)
{
    (void)state;
    json_t *target = support_parse("{}");
    json_t *patch1 = support_parse("{\"a\": {\"x\": 1}}");
    json_t *patch2 = support_parse("{\"a\": {\"y\": 2}}");
    json_t *want_patch1 = support_parse("{\"a\": {\"x\": 1}}");
    json_t *want_target = support_parse("{\"a\": {\"x\": 1, \"y\": 2}}");
    oms_json_merge(target, patch1);
    oms_json_merge(target, patch2);
    int target_ok = json_equal(target, want_target);
    json_decref(target);
    json_decref(want_target);
    json_decref(patch2);
    assert_true(target_ok);
    expect_json_and_free(patch1, want_patch1, NULL, NULL);
}

static void test_oms_json_merge_empty_patch_changes_nothing(void **state)
{
    (void)state;
    json_t *target = support_parse("{\"a\": {\"b\": [1]}}");
    json_t *copy = json_deep_copy(target);
    json_t *patch = support_parse("{}");
    oms_json_merge(target, patch);
    support_assert_json_equal(target, copy);
    json_decref(target);
    json_decref(copy);
    json_decref(patch);
}

static void test_oms_json_string_lossy_valid_utf8_kept(void **state)
{
    (void)state;
    const char *text = "caf\xC3\xA9 \xF0\x9F\x93\xA6";
    json_t *s = oms_json_string_lossy(text, strlen(text));
    assert_string_equal(json_string_value(s), text);
    json_decref(s);
    s = oms_json_string_lossy(NULL, 5);
    assert_string_equal(json_string_value(s), "");
    json_decref(s);
    s = oms_json_string_lossy("a\0b", 3); /* NUL is valid UTF-8 */
    assert_int_equal(json_string_length(s), 3);
    json_decref(s);
}

static void test_oms_json_string_lossy_invalid_bytes_replaced(void **state)
{
    (void)state;
#define FFFD "\xEF\xBF\xBD"
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } table[] = {
        {"a\xFF"
         "b",
         3, "a" FFFD "b"},
        {"\xC3", 1, FFFD},                            /* truncated sequence */
        {"x\xC3(", 3, "x" FFFD "("},                  /* bad continuation */
        {"\xC0\xAF", 2, FFFD FFFD},                   /* overlong '/' */
        {"\xED\xA0\x80", 3, FFFD FFFD FFFD},          /* UTF-16 surrogate */
        {"\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD}, /* above U+10FFFF */
        {"ok\x80", 3, "ok" FFFD},                     /* lone continuation */
        {"\xE2\x82\xAC\xFE", 4, "\xE2\x82\xAC" FFFD}, /* valid euro, then junk */
    };
#undef FFFD
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *s = oms_json_string_lossy(table[i].in, table[i].len);
        assert_non_null(s);
        if (strcmp(json_string_value(s), table[i].want) != 0)
            fail_msg("case %zu: got \"%s\"", i, json_string_value(s));
        json_decref(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oms_json_load_buf_valid),
        cmocka_unit_test(test_oms_json_load_buf_malformed_inputs),
        cmocka_unit_test(test_oms_json_load_buf_empty_and_null),
        cmocka_unit_test(test_oms_json_load_buf_duplicate_nested_key_rejected),
        cmocka_unit_test(test_oms_json_load_file_missing_and_malformed),
        cmocka_unit_test(test_oms_json_dumps_compact_and_null),
        cmocka_unit_test(test_oms_json_dumps_matches_jansson),
        cmocka_unit_test(test_oms_jpath_key_identifiers_and_odd_keys),
        cmocka_unit_test(test_oms_jpath_index_and_truncation),
        cmocka_unit_test(test_oms_json_int_accepts_only_integers),
        cmocka_unit_test(test_oms_json_equal_exact),
        cmocka_unit_test(test_oms_json_type_name_every_type),
        cmocka_unit_test(test_oms_json_merge_objects_merge_null_deletes),
        cmocka_unit_test(test_oms_json_merge_nested_null_in_new_object_is_not_stored),
        cmocka_unit_test(test_oms_json_merge_target_does_not_alias_patch),
        cmocka_unit_test(test_oms_json_merge_empty_patch_changes_nothing),
        cmocka_unit_test(test_oms_json_string_lossy_valid_utf8_kept),
        cmocka_unit_test(test_oms_json_string_lossy_invalid_bytes_replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
