/* test_jpos: line and column of values by JSON path - nested objects and arrays, escaped and odd
 * keys, UTF-8 columns, and the fallback to the nearest ancestor that exists. */
#include "support.h"

#include "jpos.h"

#include <string.h>

static const char TEXT[] = "{\n"                                                  /* 1 */
                           "  \"name\": \"x\",\n"                                 /* 2 */
                           "  \"given\": {\n"                                     /* 3 */
                           "    \"packages\": [\n"                                /* 4 */
                           "      {\"id\": 501, \"status\": \"Waiting\"},\n"      /* 5 */
                           "      {\"id\": 502}\n"                                /* 6 */
                           "    ]\n"                                              /* 7 */
                           "  },\n"                                               /* 8 */
                           "  \"we\\\"ird\": {\"a.b\": [true, {\"k\": null}]},\n" /* 9 */
                           "  \"caf\\u00e9\": 1,\n"                               /* 10 */
                           "  \"tab\":\t2,\n"                                     /* 11 */
                           "  \"\\ud83d\\udce6\": [1, [2, 3]],\n"                 /* 12 */
                           "  \"s\": \"\xC3\xA4\xC3\xB6\", \"n\": 3\n"            /* 13 */
                           "}\n";

struct where {
    const char *path;
    int line, column;
};

static void lookup_table(const struct jpos *p, const struct where *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int line = -1, column = -1;
        int rc = jpos_lookup(p, table[i].path, &line, &column);
        if (rc != 0)
            fail_msg("%s: not found", table[i].path);
        if (line != table[i].line || column != table[i].column)
            fail_msg("%s: expected %d:%d, got %d:%d", table[i].path, table[i].line, table[i].column,
                     line, column);
    }
}

static void test_jpos_lookup_nested_values(void **state)
{
    (void)state;
    json_t *check = json_loads(TEXT, 0, NULL);
    assert_non_null(check); /* the fixture is valid JSON */
    json_decref(check);
    struct jpos *p = jpos_index(TEXT, strlen(TEXT));
    static const struct where table[] = {
        {"$", 1, 1},
        {"$.name", 2, 11},
        {"$.given", 3, 12},
        {"$.given.packages", 4, 17},
        {"$.given.packages[0]", 5, 7},
        {"$.given.packages[0].id", 5, 14},
        {"$.given.packages[0].status", 5, 29},
        {"$.given.packages[1]", 6, 7},
        {"$.given.packages[1].id", 6, 14},
        {"$.tab", 11, 10}, /* a tab is one column */
        {"$.n", 13, 19},   /* columns count characters, not UTF-8 bytes */
        {"$.s", 13, 8},
    };
    lookup_table(p, table, sizeof(table) / sizeof(table[0]));
    jpos_destroy(p);
}

static void test_jpos_lookup_escaped_and_odd_keys(void **state)
{
    (void)state;
    struct jpos *p = jpos_index(TEXT, strlen(TEXT));
    static const struct where table[] = {
        {"$[\"we\"ird\"]", 9, 14},          /* \" decoded in the key */
        {"$[\"we\"ird\"][\"a.b\"]", 9, 22}, /* a key with a dot */
        {"$[\"we\"ird\"][\"a.b\"][0]", 9, 23},
        {"$[\"we\"ird\"][\"a.b\"][1].k", 9, 35},
        {"$[\"caf\xC3\xA9\"]", 10, 16},      /* \u00e9 decoded to UTF-8 */
        {"$[\"\xF0\x9F\x93\xA6\"]", 12, 19}, /* a surrogate pair */
        {"$[\"\xF0\x9F\x93\xA6\"][1][1]", 12, 27},
    };
    lookup_table(p, table, sizeof(table) / sizeof(table[0]));
    jpos_destroy(p);
}

static void test_jpos_lookup_falls_back_to_nearest_ancestor(void **state)
{
    (void)state;
    struct jpos *p = jpos_index(TEXT, strlen(TEXT));
    static const struct where table[] = {
        {"$.given.packages[0].missing", 5, 7}, /* a missing key: its object */
        {"$.given.packages[7].id", 4, 17},     /* a missing element: its array */
        {"$.given.nothing.deeper[3]", 3, 12},
        {"$[\"we\"ird\"][\"nope\"]", 9, 14}, /* a missing bracketed key */
        {"$[\"we\"ird\"][\"a.b\"][9]", 9, 22},
        {"$[\"no such\"][\"x\"]", 1, 1},
        {"$.nope", 1, 1},
    };
    lookup_table(p, table, sizeof(table) / sizeof(table[0]));
    jpos_destroy(p);
}

static void test_jpos_lookup_nothing_matched(void **state)
{
    (void)state;
    struct jpos *p = jpos_index(TEXT, strlen(TEXT));
    int line = 9, column = 9;
    assert_int_equal(jpos_lookup(p, "name", &line, &column), OMS_E_NOENT);
    assert_int_equal(line, 0);
    assert_int_equal(column, 0);
    line = column = 9;
    assert_int_equal(jpos_lookup(p, "", &line, &column), OMS_E_NOENT);
    assert_int_equal(line, 0);
    jpos_destroy(p);
    /* An index of nothing finds nothing. */
    p = jpos_index(NULL, 0);
    line = column = 9;
    assert_int_equal(jpos_lookup(p, "$.a", &line, &column), OMS_E_NOENT);
    assert_int_equal(line, 0);
    assert_int_equal(column, 0);
    jpos_destroy(p);
    jpos_destroy(NULL);
}

static void test_jpos_index_top_level_array_and_scalars(void **state)
{
    (void)state;
    static const char text[] = "[1, [2, 3],\r\n {\"a\": \"\\\\\"}, \"x\"]";
    struct jpos *p = jpos_index(text, strlen(text));
    static const struct where table[] = {
        {"$", 1, 1},    {"$[0]", 1, 2},   {"$[1][1]", 1, 9},
        {"$[2]", 2, 2}, {"$[2].a", 2, 8}, {"$[3]", 2, 15},
    };
    lookup_table(p, table, sizeof(table) / sizeof(table[0]));
    jpos_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jpos_lookup_nested_values),
        cmocka_unit_test(test_jpos_lookup_escaped_and_odd_keys),
        cmocka_unit_test(test_jpos_lookup_falls_back_to_nearest_ancestor),
        cmocka_unit_test(test_jpos_lookup_nothing_matched),
        cmocka_unit_test(test_jpos_index_top_level_array_and_scalars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
