/* test_matcher: every matcher matching and not matching, exact comparison semantics (extra keys,
 * 1 vs 1.0, order), matcher_validate's refusals with their paths, $status through the default
 * profile, and captures. */
#include "support.h"

#include "matcher.h"

#include <stdio.h>
#include <string.h>

/* Matches expected against actual (NULL: missing); returns the mismatches (new reference) and
 * checks that the count returned agrees with them. */
static json_t *run(const struct oms_profile *p, const char *expected, const char *actual)
{
    json_t *e = support_parse(expected);
    json_t *a = actual ? support_parse(actual) : NULL;
    json_t *mm = json_array();
    size_t n = matcher_match(p, e, a, "$", mm);
    assert_int_equal(n, json_array_size(mm));
    size_t i;
    json_t *m;
    json_array_foreach(mm, i, m)
    {
        assert_true(json_is_string(json_object_get(m, "path")));
        assert_true(json_is_string(json_object_get(m, "message")));
        assert_non_null(json_object_get(m, "expected"));
        assert_non_null(json_object_get(m, "actual"));
    }
    json_decref(e);
    json_decref(a);
    return mm;
}

static void test_matcher_match_every_operator(void **state)
{
    (void)state;
    static const struct {
        const char *expected;
        const char *actual; /* NULL: missing */
        int matches;
    } table[] = {
        /* $any */
        {"{\"$any\": true}", "1", 1},
        {"{\"$any\": true}", "null", 1},
        {"{\"$any\": true}", NULL, 0},
        {"{\"a\": {\"$any\": true}}", "{\"a\": [1]}", 1},
        {"{\"a\": {\"$any\": true}}", "{}", 0},
        /* $absent */
        {"{\"a\": {\"$absent\": true}}", "{}", 1},
        {"{\"a\": {\"$absent\": true}}", "{\"a\": null}", 0},
        {"{\"a\": {\"$absent\": true}, \"b\": 1}", "{\"b\": 1}", 1},
        /* $type */
        {"{\"$type\": \"string\"}", "\"x\"", 1},
        {"{\"$type\": \"string\"}", "1", 0},
        {"{\"$type\": \"integer\"}", "1", 1},
        {"{\"$type\": \"integer\"}", "1.0", 0},
        {"{\"$type\": \"number\"}", "1.5", 1},
        {"{\"$type\": \"number\"}", "2", 1},
        {"{\"$type\": \"number\"}", "\"2\"", 0},
        {"{\"$type\": \"boolean\"}", "false", 1},
        {"{\"$type\": \"boolean\"}", "0", 0},
        {"{\"$type\": \"object\"}", "{}", 1},
        {"{\"$type\": \"object\"}", "[]", 0},
        {"{\"$type\": \"array\"}", "[]", 1},
        {"{\"$type\": \"null\"}", "null", 1},
        {"{\"$type\": \"null\"}", NULL, 0},
        /* $regex */
        {"{\"$regex\": \"^[0-9a-f]{32}$\"}", "\"0123456789abcdef0123456789abcdef\"", 1},
        {"{\"$regex\": \"^[0-9a-f]{32}$\"}", "\"0123456789ABCDEF0123456789abcdef\"", 0},
        {"{\"$regex\": \"^[0-9a-f]{32}$\"}", "\"abc\"", 0},
        {"{\"$regex\": \"1\"}", "1", 0},
        {"{\"$regex\": \"(packed|cancelled)\"}", "\"status packed\"", 1},
        /* $range */
        {"{\"$range\": [1, 5]}", "3", 1},
        {"{\"$range\": [1, 5]}", "1", 1},
        {"{\"$range\": [1, 5]}", "5", 1},
        {"{\"$range\": [1, 5]}", "5.5", 0},
        {"{\"$range\": [1, 5]}", "0", 0},
        {"{\"$range\": [0.5, 1.5]}", "1", 1},
        {"{\"$range\": [1, 5]}", "\"3\"", 0},
        /* $len */
        {"{\"$len\": 2}", "[1, 2]", 1},
        {"{\"$len\": 2}", "\"ab\"", 1},
        {"{\"$len\": 2}", "{\"a\": 1, \"b\": 2}", 1},
        {"{\"$len\": 2}", "[1]", 0},
        {"{\"$len\": 0}", "5", 0},
        {"{\"$len\": {\"$range\": [1, 3]}}", "[1, 2, 3]", 1},
        {"{\"$len\": {\"$range\": [1, 3]}}", "[]", 0},
        /* $partial */
        {"{\"$partial\": {\"a\": 1}}", "{\"a\": 1, \"b\": 2}", 1},
        {"{\"$partial\": {\"a\": 1}}", "{\"a\": 2, \"b\": 2}", 0},
        {"{\"$partial\": {\"a\": 1}}", "{\"b\": 2}", 0},
        {"{\"$partial\": {\"a\": 1}}", "[1]", 0},
        {"{\"$partial\": {\"a\": {\"$partial\": {\"x\": 1}}}}", "{\"a\": {\"x\": 1, \"y\": 2}}", 1},
        {"{\"$partial\": {\"gone\": {\"$absent\": true}}}", "{\"other\": 1}", 1},
        {"{\"$partial\": {\"gone\": {\"$absent\": true}}}", "{\"gone\": 1}", 0},
        /* $unordered */
        {"{\"$unordered\": [1, 2, 3]}", "[3, 1, 2]", 1},
        {"{\"$unordered\": [1, 2, 3]}", "[1, 2]", 0},
        {"{\"$unordered\": [1, 2, 2]}", "[2, 1, 1]", 0},
        {"{\"$unordered\": [{\"$type\": \"string\"}, \"a\"]}", "[\"a\", \"b\"]", 1},
        {"{\"$unordered\": []}", "[]", 1},
        {"{\"$unordered\": [1]}", "{\"0\": 1}", 0},
        /* $contains */
        {"{\"$contains\": [2]}", "[1, 2, 3]", 1},
        {"{\"$contains\": [2, 2]}", "[1, 2, 3]", 0},
        {"{\"$contains\": [4]}", "[1, 2, 3]", 0},
        {"{\"$contains\": []}", "[]", 1},
        {"{\"$contains\": [{\"$partial\": {\"id\": 7}}]}", "[{\"id\": 6}, {\"id\": 7, \"x\": 1}]",
         1},
        {"{\"$contains\": [1]}", "\"1\"", 0},
        /* $status (default profile) */
        {"{\"$status\": \"Packed for Refund\"}", "1100", 1},
        {"{\"$status\": \"Packed for Refund\"}", "\"1100\"", 1},
        {"{\"$status\": \"packed_for_refund\"}", "1100", 1},
        {"{\"$status\": 1100}", "\"1100\"", 1},
        {"{\"$status\": \"Packed for Refund\"}", "100", 0},
        {"{\"$status\": \"Packed for Refund\"}", "\"1100x\"", 0},
        {"{\"$status\": \"Packed for Refund\"}", "1100.0", 0},
        {"{\"$status\": \"Nowhere\"}", "1100", 0},
        {"{\"$status\": \"Waiting\"}", NULL, 0},
        /* $not */
        {"{\"$not\": 1}", "2", 1},
        {"{\"$not\": 1}", "1", 0},
        {"{\"$not\": {\"$type\": \"string\"}}", "5", 1},
        {"{\"$not\": {\"$type\": \"string\"}}", "\"5\"", 0},
        /* $literal */
        {"{\"$literal\": {\"$any\": true}}", "{\"$any\": true}", 1},
        {"{\"$literal\": {\"$any\": true}}", "1", 0},
        {"{\"$literal\": 1}", "1.0", 0},
        {"{\"$literal\": null}", NULL, 0},
        /* $names: statuses named by catalogue name (whole words, the longest name wins) or number
         */
        {"{\"$names\": [\"Packed for Refund\", \"Waiting\", \"Out of Stock\"]}",
         "\"package 501 is in Packed for Refund; allowed: Waiting, Out of Stock\"", 1},
        {"{\"$names\": [\"Packed for Refund\", \"Waiting\", \"Out of Stock\"]}",
         "\"status 1100 not in [100, 920]\"", 1},
        {"{\"$names\": [1100, 100]}", "[\"is 1100\", \"want 100\"]", 1},
        /* "1100" does not name 100, nor "Packed for Refund" Packed, nor "Cancellation Waiting"
         * Waiting. */
        {"{\"$names\": [\"Waiting\"]}", "\"status 1100 not allowed\"", 0},
        {"{\"$names\": [\"Packed\"]}", "\"already Packed for Refund\"", 0},
        {"{\"$names\": [\"Waiting\"]}", "\"in Cancellation Waiting\"", 0},
        {"{\"$names\": [\"Packed\"]}", "\"in packed, not allowed\"", 1},
        {"{\"$names\": [\"Out of Stock\"]}", "\"from out_of_stock\"", 1},
        {"{\"$names\": [\"Waiting\"]}", "\"Waitingroom\"", 0},
        {"{\"$names\": [\"Waiting\"]}", "5", 0},
        {"{\"$names\": [\"Nowhere\"]}", "\"Nowhere\"", 0},
        /* $error: the E-1/E-2 envelope; keys beside the field are allowed */
        {"{\"$error\": {\"status\": 400, \"field\": \"package\"}}",
         "{\"error\": {\"package\": [\"required\"]}, \"status_code\": 400}", 1},
        {"{\"$error\": {\"status\": 400, \"field\": \"package\"}}",
         "{\"error\": {\"package\": [\"x\"], \"slug\": [\"y\"]}, \"status_code\": 400}", 1},
        {"{\"$error\": {\"status\": 400, \"field\": \"package\"}}",
         "{\"error\": {\"slug\": [\"x\"]}, \"status_code\": 400}", 0},
        {"{\"$error\": {\"status\": 400, \"field\": [\"package\", \"non_field_errors\"]}}",
         "{\"error\": {\"non_field_errors\": [\"x\"]}, \"status_code\": 400}", 1},
        {"{\"$error\": {\"status\": 400}}",
         "{\"error\": {\"package\": [\"x\"]}, \"status_code\": 401}", 0},
        {"{\"$error\": {\"status\": 401}}",
         "{\"error\": {\"detail\": [\"no\"]}, \"status_code\": 401}", 1},
        {"{\"$error\": {\"status\": 401}}", "{\"detail\": \"no\"}", 0},
        {"{\"$error\": {\"status\": 401}}", "{\"error\": {}, \"status_code\": 401}", 0},
        {"{\"$error\": {\"status\": 401}}", "{\"error\": {\"detail\": []}, \"status_code\": 401}",
         0},
        {"{\"$error\": {\"status\": 401}}",
         "{\"error\": {\"detail\": \"no\"}, \"status_code\": 401}", 0},
        {"{\"$error\": {\"status\": 400, \"field\": \"non_field_errors\", \"names\": [1100, 100]}}",
         "{\"error\": {\"non_field_errors\": [\"status 1100 not in [100, 920]\"]}, "
         "\"status_code\": 400}",
         1},
        {"{\"$error\": {\"status\": 400, \"field\": \"non_field_errors\", \"names\": [1100, 500]}}",
         "{\"error\": {\"non_field_errors\": [\"status 1100 not in [100, 920]\"]}, "
         "\"status_code\": 400}",
         0},
        {"{\"$error\": {\"field\": \"package\", \"messages\": [{\"$regex\": \"positive\"}]}}",
         "{\"error\": {\"package\": [\"must be > 0\"]}, \"status_code\": 400}", 0},
        /* $all */
        {"{\"$all\": [{\"$type\": \"string\"}, {\"$regex\": \"^a\"}]}", "\"abc\"", 1},
        {"{\"$all\": [{\"$type\": \"string\"}, {\"$regex\": \"^a\"}]}", "\"bc\"", 0},
        {"{\"$all\": []}", "1", 1},
        /* $rule: the same comparison, its differences under that rule */
        {"{\"$rule\": [\"R-1\", {\"$regex\": \"x\"}]}", "\"x\"", 1},
        {"{\"$rule\": [\"R-1\", {\"$regex\": \"x\"}]}", "\"y\"", 0},
        {"{\"$rule\": [\"R-1\", {\"$absent\": true}]}", NULL, 1},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *mm = run(support_profile, table[i].expected, table[i].actual);
        int matched = json_array_size(mm) == 0;
        if (matched != table[i].matches) {
            char *text = json_dumps(mm, JSON_COMPACT);
            fail_msg("case %zu: %s against %s: expected %s, mismatches %s", i, table[i].expected,
                     table[i].actual ? table[i].actual : "(missing)",
                     table[i].matches ? "a match" : "a mismatch", text);
        }
        json_decref(mm);
    }
}

/* "$unordered": the same elements in any order - whatever the list's length. Here the only
 * arrangement puts the type matcher on the last element; a search that gives up after the first
 * greedy choice reports a mismatch for a conforming array. */
static void test_matcher_match_unordered_long_list_finds_arrangement(void **state)
{
    (void)state;
    static const char *const sizes[][2] = {
        /* 6 elements: within the exhaustive search */
        {"{\"$unordered\": [{\"$type\": \"integer\"}, 1, 2, 3, 4, 5]}", "[1, 2, 3, 4, 5, 6]"},
        /* 14 elements */
        {"{\"$unordered\": [{\"$type\": \"integer\"}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "
         "13]}",
         "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]"},
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        json_t *mm = run(support_profile, sizes[i][0], sizes[i][1]);
        char why[512] = "";
        if (json_array_size(mm) != 0)
            snprintf(why, sizeof(why), "%s",
                     json_string_value(json_object_get(json_array_get(mm, 0), "message")));
        json_decref(mm);
        if (why[0])
            fail_msg("%s against %s: expected a match, got: %s", sizes[i][0], sizes[i][1], why);
    }
}

static void test_matcher_match_status_without_profile_numbers_only(void **state)
{
    (void)state;
    json_t *mm = run(NULL, "{\"$status\": 1100}", "1100");
    assert_int_equal(json_array_size(mm), 0);
    json_decref(mm);
    mm = run(NULL, "{\"$status\": 1100}", "\"1100\"");
    assert_int_equal(json_array_size(mm), 0);
    json_decref(mm);
    mm = run(NULL, "{\"$status\": \"Packed for Refund\"}", "1100");
    assert_int_equal(json_array_size(mm), 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(mm, 0), "message")),
                           "not a status"));
    json_decref(mm);
}

static void test_matcher_match_exact_extra_key_is_unexpected(void **state)
{
    (void)state;
    json_t *mm = run(support_profile, "{\"a\": 1}", "{\"a\": 1, \"b\": 2}");
    assert_int_equal(json_array_size(mm), 1);
    json_t *m = json_array_get(mm, 0);
    assert_string_equal(json_string_value(json_object_get(m, "path")), "$.b");
    assert_non_null(strstr(json_string_value(json_object_get(m, "message")), "unexpected key"));
    assert_int_equal(json_integer_value(json_object_get(m, "actual")), 2);
    json_decref(mm);
}

static void test_matcher_match_exact_integer_and_real_differ(void **state)
{
    (void)state;
    json_t *mm = run(support_profile, "1", "1.0");
    assert_int_equal(json_array_size(mm), 1);
    json_decref(mm);
    mm = run(support_profile, "{\"q\": 1.0}", "{\"q\": 1}");
    assert_int_equal(json_array_size(mm), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mm, 0), "path")), "$.q");
    json_decref(mm);
    mm = run(support_profile, "1", "1");
    assert_int_equal(json_array_size(mm), 0);
    json_decref(mm);
}

static void test_matcher_match_exact_arrays_and_missing(void **state)
{
    (void)state;
    json_t *mm = run(support_profile, "[1, 2]", "[2, 1]");
    assert_int_equal(json_array_size(mm), 2); /* order matters: one per element */
    assert_string_equal(json_string_value(json_object_get(json_array_get(mm, 1), "path")), "$[1]");
    json_decref(mm);
    mm = run(support_profile, "[1, 2]", "[1, 2, 3]");
    assert_int_equal(json_array_size(mm), 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(mm, 0), "message")),
                           "2 element(s), found 3"));
    json_decref(mm);
    mm = run(support_profile, "{\"a\": {\"b\": 1}}", "{\"a\": {}}");
    assert_int_equal(json_array_size(mm), 1);
    json_t *m = json_array_get(mm, 0);
    assert_string_equal(json_string_value(json_object_get(m, "path")), "$.a.b");
    assert_non_null(strstr(json_string_value(json_object_get(m, "message")), "missing"));
    assert_string_equal(json_string_value(json_object_get(m, "actual")), "(missing)");
    json_decref(mm);
    mm = run(support_profile, "{\"a\": 1}", "[1]");
    assert_int_equal(json_array_size(mm), 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(mm, 0), "message")),
                           "expected an object, found array"));
    json_decref(mm);
    /* Odd keys get bracketed paths. */
    mm = run(support_profile, "{\"x y\": 1}", "{\"x y\": 2}");
    assert_string_equal(json_string_value(json_object_get(json_array_get(mm, 0), "path")),
                        "$[\"x y\"]");
    json_decref(mm);
}

static void test_matcher_match_appends_to_existing_list(void **state)
{
    (void)state;
    json_t *mm = json_array();
    json_array_append_new(mm, json_string("earlier"));
    json_t *e = support_parse("{\"a\": 1, \"b\": 2}"), *a = support_parse("{\"a\": 0, \"b\": 0}");
    assert_int_equal(matcher_match(support_profile, e, a, "$.then.body", mm), 2);
    assert_int_equal(json_array_size(mm), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mm, 1), "path")),
                        "$.then.body.a");
    json_decref(e);
    json_decref(a);
    json_decref(mm);
}

static void test_matcher_match_captures_capture_and_same(void **state)
{
    (void)state;
    json_t *captures = json_object();
    json_t *mm = json_array();
    json_t *e1 =
        support_parse("{\"id\": {\"$capture\": \"pid\"}, \"uuid\": {\"$capture\": \"u\"}}");
    json_t *a1 = support_parse("{\"id\": 501, \"uuid\": \"abc\"}");
    assert_int_equal(matcher_match_captures(support_profile, captures, e1, a1, "$", mm), 0);
    assert_int_equal(json_integer_value(json_object_get(captures, "pid")), 501);
    json_t *same = support_parse("{\"$same\": \"pid\"}");
    json_t *v501 = support_parse("501"), *v502 = support_parse("502");
    assert_int_equal(matcher_match_captures(support_profile, captures, same, v501, "$", mm), 0);
    assert_int_equal(matcher_match_captures(support_profile, captures, same, v502, "$", mm), 1);
    /* A second $capture of a name compares with the value it holds. */
    json_t *again = support_parse("{\"$capture\": \"pid\"}");
    assert_int_equal(matcher_match_captures(support_profile, captures, again, v502, "$", mm), 1);
    /* $same of a name never captured is a mismatch. */
    json_t *unknown = support_parse("{\"$same\": \"nothing\"}");
    assert_int_equal(matcher_match_captures(support_profile, captures, unknown, v501, "$", mm), 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(mm, 2), "message")),
                           "nothing was captured"));
    /* Without a table, captures live only for the one call. */
    json_t *both = support_parse("[{\"$capture\": \"x\"}, {\"$same\": \"x\"}]");
    json_t *pair = support_parse("[7, 7]"), *unequal = support_parse("[7, 8]");
    json_t *scratch = json_array();
    assert_int_equal(matcher_match(support_profile, both, pair, "$", scratch), 0);
    assert_int_equal(matcher_match(support_profile, both, unequal, "$", scratch), 1);
    json_decref(scratch);
    json_decref(e1);
    json_decref(a1);
    json_decref(same);
    json_decref(v501);
    json_decref(v502);
    json_decref(again);
    json_decref(unknown);
    json_decref(both);
    json_decref(pair);
    json_decref(unequal);
    json_decref(mm);
    json_decref(captures);
}

static void test_matcher_match_captures_trials_leave_table_unchanged(void **state)
{
    (void)state;
    json_t *captures = json_object();
    json_t *mm = json_array();
    /* $not's trial matches (a capture always does), so $not fails - and captures nothing. */
    json_t *e = support_parse("{\"$not\": {\"$capture\": \"z\"}}"), *a = support_parse("1");
    assert_int_equal(matcher_match_captures(support_profile, captures, e, a, "$", mm), 1);
    assert_null(json_object_get(captures, "z"));
    /* $unordered keeps the captures of the arrangement that matched. */
    json_t *e2 = support_parse("{\"$unordered\": [2, {\"$capture\": \"other\"}]}");
    json_t *a2 = support_parse("[7, 2]");
    assert_int_equal(matcher_match_captures(support_profile, captures, e2, a2, "$", mm), 0);
    assert_int_equal(json_integer_value(json_object_get(captures, "other")), 7);
    assert_int_equal(json_object_size(captures), 1);
    json_decref(e);
    json_decref(a);
    json_decref(e2);
    json_decref(a2);
    json_decref(mm);
    json_decref(captures);
}

static void test_matcher_is_matcher_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int is;
    } table[] = {
        {"{\"$any\": true}", 1},           {"{\"$nonsense\": 1}", 1}, {"{\"a\": 1}", 0}, {"{}", 0},
        {"{\"$any\": true, \"b\": 1}", 0}, {"[{\"$any\": true}]", 0}, {"\"$any\"", 0}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *v = support_parse(table[i].text);
        if (matcher_is_matcher(v) != table[i].is)
            fail_msg("%s: expected %d", table[i].text, table[i].is);
        json_decref(v);
    }
    assert_false(matcher_is_matcher(NULL));
}

static void test_matcher_validate_accepts_well_formed(void **state)
{
    (void)state;
    json_t *e = support_parse(
        "{\"a\": {\"$any\": true}, \"b\": [{\"$regex\": \"^x+$\"}, {\"$range\": [1, 2.5]}], "
        "\"c\": {\"$len\": {\"$not\": 0}}, \"d\": {\"$partial\": {\"e\": {\"$type\": \"null\"}}}, "
        "\"f\": {\"$unordered\": [1, {\"$status\": \"Waiting\"}]}, \"g\": {\"$contains\": []}, "
        "\"h\": {\"$literal\": {\"$whatever\": 1, \"x\": 2}}, \"i\": {\"$capture\": \"n\"}, "
        "\"j\": {\"$same\": \"n\"}, \"k\": {\"$status\": 1100}, \"l\": {\"$absent\": true}, "
        "\"m\": {\"$rule\": [\"R-1\", {\"$regex\": \"x\"}]}, \"n\": {\"$names\": [\"Waiting\", "
        "920]}, "
        "\"o\": {\"$error\": {\"status\": 400, \"field\": [\"a\", \"b\"], \"names\": [100], "
        "\"messages\": {\"$len\": 1}}}, \"p\": {\"$all\": [1, {\"$type\": \"integer\"}]}, "
        "\"m\": {\"$rule\": [\"R-1\", {\"$regex\": \"x\"}]}, \"n\": {\"$names\": [\"Waiting\", "
        "920]}, "
        "\"o\": {\"$error\": {\"status\": 400, \"field\": [\"a\", \"b\"], \"names\": [100], "
        "\"messages\": {\"$len\": 1}}}, \"p\": {\"$all\": [1, {\"$type\": \"integer\"}]}, "
        "\"plain\": {\"nested\": [1, \"two\", null]}}");
    struct oms_err err = {0};
    if (matcher_validate(e, "$.then", &err) != 0)
        fail_msg("refused: %s at %s", err.message, err.path);
    assert_false(oms_err_isset(&err));
    json_decref(e);
    json_t *scalar = support_parse("5");
    assert_int_equal(matcher_validate(scalar, "$", &err), 0);
    json_decref(scalar);
    assert_int_equal(matcher_validate(NULL, "$", &err), 0);
}

static void test_matcher_validate_malformed_table(void **state)
{
    (void)state;
    static const struct {
        const char *expected;
        const char *path;
        const char *fragment;
    } table[] = {
        {"{\"$regexp\": \"x\"}", "$.body", "unknown matcher \"$regexp\""},
        {"{\"a\": [1, {\"$exists\": true}]}", "$.body.a[1]", "unknown matcher \"$exists\""},
        {"{\"$regex\": \"([a-z\"}", "$.body[\"$regex\"]", "invalid regular expression"},
        {"{\"$regex\": 5}", "$.body[\"$regex\"]", "regular expression string"},
        {"{\"$range\": [1]}", "$.body[\"$range\"]", "[min, max]"},
        {"{\"$range\": [1, 2, 3]}", "$.body[\"$range\"]", "[min, max]"},
        {"{\"$range\": \"1-5\"}", "$.body[\"$range\"]", "[min, max]"},
        {"{\"$range\": [1, \"5\"]}", "$.body[\"$range\"]", "[min, max]"},
        {"{\"$any\": true, \"b\": 1}", "$.body", "only key"},
        {"{\"x\": {\"b\": 1, \"$partial\": {}}}", "$.body.x", "only key"},
        {"{\"$any\": false}", "$.body[\"$any\"]", "expected true"},
        {"{\"$absent\": 1}", "$.body[\"$absent\"]", "expected true"},
        {"{\"$type\": \"float\"}", "$.body[\"$type\"]", "one of string"},
        {"{\"$len\": \"2\"}", "$.body[\"$len\"]", "integer or a matcher"},
        {"{\"$partial\": [1]}", "$.body[\"$partial\"]", "an object"},
        {"{\"$unordered\": {}}", "$.body[\"$unordered\"]", "an array"},
        {"{\"$contains\": 1}", "$.body[\"$contains\"]", "an array"},
        {"{\"$capture\": \"\"}", "$.body[\"$capture\"]", "capture name"},
        {"{\"$same\": 1}", "$.body[\"$same\"]", "capture name"},
        {"{\"$status\": true}", "$.body[\"$status\"]", "status name or number"},
        {"{\"$not\": {\"$regex\": \"(\"}}", "$.body[\"$not\"][\"$regex\"]",
         "invalid regular expression"},
        {"{\"$partial\": {\"k\": {\"$bogus\": 1}}}", "$.body[\"$partial\"].k", "unknown matcher"},
        {"{\"$unordered\": [1, {\"$len\": [] }]}", "$.body[\"$unordered\"][1][\"$len\"]",
         "integer or a matcher"},
        {"{\"$rule\": \"R-1\"}", "$.body[\"$rule\"]", "[\"<rule id>\""},
        {"{\"$rule\": [\"r1\", 1]}", "$.body[\"$rule\"][0]", "rule id"},
        {"{\"$rule\": [\"R-1\", {\"$regex\": 1}]}", "$.body[\"$rule\"][1][\"$regex\"]",
         "regular expression string"},
        {"{\"$names\": []}", "$.body[\"$names\"]", "non-empty list"},
        {"{\"$names\": [true]}", "$.body[\"$names\"][0]", "status name or number"},
        {"{\"$error\": {\"staus\": 400}}", "$.body[\"$error\"].staus", "staus"},
        {"{\"$error\": {\"status\": \"400\"}}", "$.body[\"$error\"].status", "HTTP status"},
        {"{\"$error\": {\"field\": []}}", "$.body[\"$error\"].field", "field name"},
        {"{\"$error\": {\"messages\": {\"$regex\": \"(\"}}}",
         "$.body[\"$error\"].messages[\"$regex\"]", "invalid regular expression"},
        {"{\"$all\": {}}", "$.body[\"$all\"]", "an array"},
        {"{\"$all\": [{\"$nope\": 1}]}", "$.body[\"$all\"][0]", "unknown matcher"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *e = support_parse(table[i].expected);
        struct oms_err err = {0};
        int rc = matcher_validate(e, "$.body", &err);
        if (rc != OMS_E_INVAL)
            fail_msg("case %zu %s: expected OMS_E_INVAL, got %d", i, table[i].expected, rc);
        if (strcmp(err.path, table[i].path) != 0)
            fail_msg("case %zu %s: expected path %s, got %s (%s)", i, table[i].expected,
                     table[i].path, err.path, err.message);
        if (!strstr(err.message, table[i].fragment))
            fail_msg("case %zu %s: message \"%s\" lacks \"%s\"", i, table[i].expected, err.message,
                     table[i].fragment);
        json_decref(e);
    }
}

/* Differences under a $rule carry it; the others carry the context's rule. */
static void test_matcher_run_stamps_rules(void **state)
{
    (void)state;
    json_t *e = support_parse("{\"a\": 1, \"b\": {\"$rule\": [\"R-3\", 2]}}");
    json_t *a = support_parse("{\"a\": 5, \"b\": 6}");
    json_t *mm = json_array();
    struct matcher_ctx ctx = {.profile = support_profile, .rule = "C-9"};
    assert_int_equal(matcher_run(&ctx, e, a, "$", mm), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mm, 0), "rule")), "C-9");
    assert_string_equal(json_string_value(json_object_get(json_array_get(mm, 1), "rule")), "R-3");
    assert_string_equal(json_string_value(json_object_get(json_array_get(mm, 1), "path")), "$.b");
    json_decref(mm);
    json_decref(e);
    json_decref(a);
}

static int soft_r(const char *rule, void *arg)
{
    (void)arg;
    return rule[0] == 'R';
}

/* In an unordered list, an element whose only difference falls under a soft rule still pairs
 * (the difference is kept, as a note); with nothing soft it cannot pair at all. */
static void test_matcher_run_soft_rules_pair_in_unordered(void **state)
{
    (void)state;
    json_t *e =
        support_parse("{\"$unordered\": [{\"id\": 1, \"u\": {\"$rule\": [\"R-3\", \"a\"]}}, "
                      "{\"id\": 2, \"u\": \"c\"}]}");
    json_t *a = support_parse("[{\"id\": 2, \"u\": \"c\"}, {\"id\": 1, \"u\": \"b\"}]");
    json_t *mm = json_array();
    struct matcher_ctx soft = {.profile = support_profile, .rule = "C-9", .soft = soft_r};
    matcher_run(&soft, e, a, "$", mm);
    assert_int_equal(json_array_size(mm), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mm, 0), "rule")), "R-3");
    assert_string_equal(json_string_value(json_object_get(json_array_get(mm, 0), "path")),
                        "$[1].u");
    assert_int_equal(matcher_hard_count(&soft, mm, 0), 0);
    json_decref(mm);
    mm = json_array();
    struct matcher_ctx hard = {.profile = support_profile, .rule = "C-9"};
    matcher_run(&hard, e, a, "$", mm);
    assert_int_equal(json_array_size(mm), 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(mm, 0), "message")),
                           "no arrangement"));
    assert_int_equal(matcher_hard_count(&hard, mm, 0), 1);
    json_decref(mm);
    json_decref(e);
    json_decref(a);
}

/* The statuses a text names, through the default profile. */
static void test_matcher_statuses_named_longest_whole_words(void **state)
{
    (void)state;
    int64_t found[8];
    size_t n = matcher_statuses_named(
        support_profile, "Packed for Refund (1100) is not Waiting or out_of_stock; 9999, 100x",
        found, 8);
    assert_int_equal(n, 3);
    assert_int_equal(found[0], 1100);
    assert_int_equal(found[1], 100);
    assert_int_equal(found[2], 920);
    assert_int_equal(matcher_statuses_named(support_profile, "", found, 8), 0);
    assert_int_equal(matcher_statuses_named(NULL, "500 and 7", found, 8), 2);
}

static int collect_rule(const char *id, const char *path, void *arg)
{
    json_array_append_new(arg, json_pack("[s,s]", id, path));
    return 0;
}

static void test_matcher_each_rule_finds_every_rule_but_literals(void **state)
{
    (void)state;
    json_t *e = support_parse("{\"a\": [{\"$rule\": [\"R-1\", {\"$rule\": [\"R-2\", 1]}]}], "
                              "\"b\": {\"$literal\": {\"$rule\": [\"R-9\", 1]}}}");
    json_t *seen = json_array();
    assert_int_equal(matcher_each_rule(e, "$.then", collect_rule, seen), 0);
    json_t *want = support_parse("[[\"R-1\", \"$.then.a[0][\\\"$rule\\\"][0]\"], "
                                 "[\"R-2\", \"$.then.a[0][\\\"$rule\\\"][1][\\\"$rule\\\"][0]\"]]");
    support_assert_json_equal(seen, want);
    json_decref(want);
    json_decref(seen);
    json_decref(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matcher_match_every_operator),
        cmocka_unit_test(test_matcher_match_unordered_long_list_finds_arrangement),
        cmocka_unit_test(test_matcher_match_status_without_profile_numbers_only),
        cmocka_unit_test(test_matcher_match_exact_extra_key_is_unexpected),
        cmocka_unit_test(test_matcher_match_exact_integer_and_real_differ),
        cmocka_unit_test(test_matcher_match_exact_arrays_and_missing),
        cmocka_unit_test(test_matcher_match_appends_to_existing_list),
        cmocka_unit_test(test_matcher_match_captures_capture_and_same),
        cmocka_unit_test(test_matcher_match_captures_trials_leave_table_unchanged),
        cmocka_unit_test(test_matcher_is_matcher_shapes),
        cmocka_unit_test(test_matcher_validate_accepts_well_formed),
        cmocka_unit_test(test_matcher_validate_malformed_table),
        cmocka_unit_test(test_matcher_run_stamps_rules),
        cmocka_unit_test(test_matcher_run_soft_rules_pair_in_unordered),
        cmocka_unit_test(test_matcher_statuses_named_longest_whole_words),
        cmocka_unit_test(test_matcher_each_rule_finds_every_rule_but_literals),
    };
    return cmocka_run_group_tests(tests, support_profile_setup, support_profile_teardown);
}
