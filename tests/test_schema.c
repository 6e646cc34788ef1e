/* test_schema: the JSON Schema subset - type, required, additionalProperties with did-you-mean,
 * patternProperties, enum/const, minimum/maximum, minLength/maxLength, pattern, items/minItems,
 * $ref (local and to another file), x-exactlyOne, x-mergePatch - on small inline schemas and on
 * spec/scenario.schema.json with its profile schema; and the edit distance. */
#include "support.h"

#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ISSUES 16

/* Validates doc against schema (both JSON text); fills issues, returns the count. */
static size_t check(const char *schema_text, const char *doc_text, struct schema_issue *issues)
{
    json_t *sdoc = support_parse(schema_text);
    json_t *doc = support_parse(doc_text);
    struct schema *s = schema_from_json(sdoc);
    json_decref(sdoc); /* the schema keeps its own reference */
    memset(issues, 0, sizeof(struct schema_issue) * MAX_ISSUES);
    size_t n = schema_validate(s, doc, issues, MAX_ISSUES);
    schema_destroy(s);
    json_decref(doc);
    return n;
}

/* One row: a schema, a document, how many issues, and the first issue's path and message. */
struct row {
    const char *schema;
    const char *doc;
    size_t count;
    const char *path;
    const char *message;
};

static void run_table(const struct row *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct schema_issue issues[MAX_ISSUES];
        size_t got = check(table[i].schema, table[i].doc, issues);
        if (got != table[i].count)
            fail_msg("case %zu %s: expected %zu issue(s), got %zu (first: %s %s)", i, table[i].doc,
                     table[i].count, got, issues[0].path, issues[0].message);
        if (!table[i].count)
            continue;
        if (strcmp(issues[0].path, table[i].path) != 0)
            fail_msg("case %zu %s: expected path %s, got %s", i, table[i].doc, table[i].path,
                     issues[0].path);
        if (strcmp(issues[0].message, table[i].message) != 0)
            fail_msg("case %zu %s: expected message\n  %s\ngot\n  %s", i, table[i].doc,
                     table[i].message, issues[0].message);
    }
}

static void test_schema_validate_type(void **state)
{
    (void)state;
    static const struct row table[] = {
        {"{\"type\": \"integer\"}", "5", 0, NULL, NULL},
        {"{\"type\": \"integer\"}", "\"5\"", 1, "$", "expected an integer, found string"},
        {"{\"type\": \"integer\"}", "5.0", 1, "$", "expected an integer, found real"},
        {"{\"type\": \"number\"}", "5.5", 0, NULL, NULL},
        {"{\"type\": \"number\"}", "5", 0, NULL, NULL},
        {"{\"type\": \"object\"}", "[]", 1, "$", "expected an object, found array"},
        {"{\"type\": \"boolean\"}", "null", 1, "$", "expected a boolean, found null"},
        {"{\"type\": [\"string\", \"null\"]}", "null", 0, NULL, NULL},
        {"{\"type\": [\"string\", \"null\"]}", "1", 1, "$",
         "expected a string or null, found "
         "integer"},
        {"{\"type\": [\"string\", \"integer\", \"object\"]}", "true", 1, "$",
         "expected a string, integer or object, found boolean"},
        {"{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\"}}}", "{\"a\": 1}", 1,
         "$.a", "expected a string, found integer"},
        {"{}", "{\"anything\": [1, 2]}", 0, NULL, NULL},
    };
    run_table(table, sizeof(table) / sizeof(table[0]));
}

static void test_schema_validate_required(void **state)
{
    (void)state;
    static const struct row table[] = {
        {"{\"type\": \"object\", \"required\": [\"name\", \"rules\"]}", "{}", 2, "$",
         "missing required key \"name\""},
        {"{\"type\": \"object\", \"required\": [\"name\", \"rules\"]}", "{\"name\": 1}", 1, "$",
         "missing required key \"rules\""},
        {"{\"type\": \"object\", \"required\": [\"name\"]}", "{\"name\": null}", 0, NULL, NULL},
        {"{\"type\": \"object\", \"properties\": {\"o\": {\"required\": [\"k\"]}}}", "{\"o\": {}}",
         1, "$.o", "missing required key \"k\""},
    };
    run_table(table, sizeof(table) / sizeof(table[0]));
}

static void test_schema_validate_additional_properties_did_you_mean(void **state)
{
    (void)state;
    static const char *schema =
        "{\"type\": \"object\", \"additionalProperties\": false, \"properties\": {\"status\": {}, "
        "\"location\": {}, \"items\": {}}}";
    static const struct row table[] = {
        {NULL, "{\"staus\": 1}", 1, "$.staus", "unknown key \"staus\" (did you mean \"status\"?)"},
        {NULL, "{\"Status\": 1}", 1, "$.Status",
         "unknown key \"Status\" (did you mean \"status\"?)"},
        {NULL, "{\"locaton\": 1}", 1, "$.locaton",
         "unknown key \"locaton\" (did you mean \"location\"?)"},
        {NULL, "{\"colour\": 1}", 1, "$.colour",
         "unknown key \"colour\" (expected status, location, items)"},
        {NULL, "{\"status\": 1, \"items\": 2, \"x y\": 3}", 1, "$[\"x y\"]",
         "unknown key \"x y\" (expected status, location, items)"},
    };
    struct row rows[sizeof(table) / sizeof(table[0])];
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        rows[i] = table[i];
        rows[i].schema = schema;
    }
    run_table(rows, sizeof(rows) / sizeof(rows[0]));

    static const struct row more[] = {
        /* With nothing to suggest from. */
        {"{\"type\": \"object\", \"additionalProperties\": false}", "{\"a\": 1}", 1, "$.a",
         "unknown key \"a\" (expected none)"},
        /* additionalProperties as a schema. */
        {"{\"type\": \"object\", \"additionalProperties\": {\"type\": \"string\"}}",
         "{\"X-A\": \"1\", \"X-B\": 2}", 1, "$.X-B", "expected a string, found integer"},
        /* absent: anything goes. */
        {"{\"type\": \"object\", \"properties\": {\"a\": {}}}", "{\"zzz\": 1}", 0, NULL, NULL},
    };
    run_table(more, sizeof(more) / sizeof(more[0]));
}

static void test_schema_validate_pattern_properties(void **state)
{
    (void)state;
    static const char *schema =
        "{\"type\": \"object\", \"additionalProperties\": false, \"patternProperties\": "
        "{\"^[0-9]+$\": {\"type\": \"integer\"}}}";
    struct schema_issue issues[MAX_ISSUES];
    assert_int_equal(check(schema, "{\"501\": 1, \"7\": 2}", issues), 0);
    assert_int_equal(check(schema, "{\"501\": 1, \"abc\": 2, \"7\": \"x\"}", issues), 2);
    assert_string_equal(issues[0].path, "$.abc");
    assert_string_equal(issues[0].message, "unknown key \"abc\" (expected keys matching ^[0-9]+$)");
    assert_string_equal(issues[1].path, "$[\"7\"]");
    assert_string_equal(issues[1].message, "expected an integer, found string");
}

static void test_schema_validate_enum_const(void **state)
{
    (void)state;
    static const struct row table[] = {
        {"{\"enum\": [\"virtual\", \"real\"]}", "\"real\"", 0, NULL, NULL},
        {"{\"enum\": [\"virtual\", \"real\"]}", "\"virtal\"", 1, "$",
         "expected one of [\"virtual\",\"real\"]"},
        {"{\"enum\": [1, 2]}", "1.0", 1, "$", "expected one of [1,2]"},
        {"{\"const\": true}", "true", 0, NULL, NULL},
        {"{\"const\": true}", "1", 1, "$", "expected true"},
        {"{\"properties\": {\"drop\": {\"const\": true}}}", "{\"drop\": false}", 1, "$.drop",
         "expected true"},
    };
    run_table(table, sizeof(table) / sizeof(table[0]));
}

static void test_schema_validate_minimum_maximum_min_max_length(void **state)
{
    (void)state;
    static const struct row table[] = {
        {"{\"type\": \"integer\", \"minimum\": 1}", "1", 0, NULL, NULL},
        {"{\"type\": \"integer\", \"minimum\": 1}", "0", 1, "$", "expected at least 1, found 0"},
        {"{\"type\": \"integer\", \"minimum\": 100, \"maximum\": 599}", "600", 1, "$",
         "expected at most 599, found 600"},
        {"{\"type\": \"number\", \"minimum\": 0.5}", "0.25", 1, "$",
         "expected at least 0.5, found 0.25"},
        {"{\"type\": \"string\", \"minLength\": 1}", "\"\"", 1, "$",
         "expected a string of at least 1 character(s)"},
        {"{\"type\": \"string\", \"maxLength\": 3}", "\"abc\"", 0, NULL, NULL},
        {"{\"type\": \"string\", \"maxLength\": 3}", "\"abcd\"", 1, "$",
         "expected a string of at most 3 character(s), found 4"},
        /* Lengths are in characters: three two-byte characters fit in 3. */
        {"{\"type\": \"string\", \"maxLength\": 3}", "\"\u00e9\u00e9\u00e9\"", 0, NULL, NULL},
        {"{\"type\": \"string\", \"minLength\": 2}", "\"\u00e9\"", 1, "$",
         "expected a string of at least 2 character(s)"},
        {"{\"minimum\": 1}", "\"0\"", 0, NULL, NULL}, /* minimum applies to numbers only */
    };
    run_table(table, sizeof(table) / sizeof(table[0]));
}

static void test_schema_validate_pattern(void **state)
{
    (void)state;
    static const struct row table[] = {
        {"{\"type\": \"string\", \"pattern\": \"^[CEQOP]-[0-9]+$\"}", "\"C-7\"", 0, NULL, NULL},
        {"{\"type\": \"string\", \"pattern\": \"^[CEQOP]-[0-9]+$\"}", "\"X-1\"", 1, "$",
         "\"X-1\" does not match the pattern ^[CEQOP]-[0-9]+$"},
        {"{\"type\": \"string\", \"pattern\": \"^/\"}", "\"api/\"", 1, "$",
         "\"api/\" does not match the pattern ^/"},
        {"{\"pattern\": \"^/\"}", "5", 0, NULL, NULL}, /* pattern applies to strings only */
    };
    run_table(table, sizeof(table) / sizeof(table[0]));
}

static void test_schema_validate_items_min_max_items(void **state)
{
    (void)state;
    static const struct row table[] = {
        {"{\"type\": \"array\", \"minItems\": 1, \"items\": {\"type\": \"string\"}}", "[]", 1, "$",
         "expected at least 1 item(s), found 0"},
        {"{\"type\": \"array\", \"minItems\": 1, \"items\": {\"type\": \"string\"}}",
         "[\"a\", 2, \"c\", null]", 2, "$[1]", "expected a string, found integer"},
        {"{\"type\": \"array\", \"maxItems\": 0}", "[1]", 1, "$",
         "expected at most 0 item(s), found 1"},
        {"{\"type\": \"array\", \"items\": {\"type\": \"object\", \"required\": [\"id\"]}}",
         "[{\"id\": 1}, {}]", 1, "$[1]", "missing required key \"id\""},
    };
    run_table(table, sizeof(table) / sizeof(table[0]));
}

static void test_schema_validate_exactly_one(void **state)
{
    (void)state;
    static const char *schema =
        "{\"type\": \"object\", \"x-exactlyOne\": [\"command\", \"http\", \"lifecycle\"]}";
    static const struct row table[] = {
        {NULL, "{\"command\": {}}", 0, NULL, NULL},
        {NULL, "{\"http\": {}}", 0, NULL, NULL},
        {NULL, "{}", 1, "$",
         "expected exactly one of \"command\" or \"http\" or \"lifecycle\", found 0"},
        {NULL, "{\"command\": {}, \"http\": {}}", 1, "$",
         "expected exactly one of \"command\" or \"http\" or \"lifecycle\", found 2"},
    };
    struct row rows[sizeof(table) / sizeof(table[0])];
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        rows[i] = table[i];
        rows[i].schema = schema;
    }
    run_table(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_schema_validate_local_ref(void **state)
{
    (void)state;
    static const struct row table[] = {
        {"{\"$defs\": {\"id\": {\"type\": \"integer\", \"minimum\": 1}}, \"type\": \"object\", "
         "\"properties\": {\"id\": {\"$ref\": \"#/$defs/id\"}}}",
         "{\"id\": 0}", 1, "$.id", "expected at least 1, found 0"},
        {"{\"$defs\": {\"a\": {\"$ref\": \"#/$defs/b\"}, \"b\": {\"type\": \"string\"}}, "
         "\"items\": {\"$ref\": \"#/$defs/a\"}}",
         "[\"ok\", 1]", 1, "$[1]", "expected a string, found integer"},
        /* A reference that leads nowhere checks nothing rather than failing. */
        {"{\"properties\": {\"x\": {\"$ref\": \"#/$defs/none\"}}}", "{\"x\": 1}", 0, NULL, NULL},
    };
    run_table(table, sizeof(table) / sizeof(table[0]));
}

/* x-mergePatch: required keys may be missing and null deletes a key (but not a required one),
 * down to the first array, whose items are checked in full; unknown keys stay errors. */
static void test_schema_validate_merge_patch(void **state)
{
    (void)state;
#define PATCH_SCHEMA                                                                         \
    "{\"x-mergePatch\": true, \"type\": \"object\", \"required\": [\"a\", \"b\"],"           \
    " \"additionalProperties\": false, \"properties\": {\"a\": {\"type\": \"integer\"},"     \
    " \"b\": {\"type\": \"object\", \"required\": [\"c\"], \"additionalProperties\": false," \
    " \"properties\": {\"c\": {\"type\": \"string\"}, \"d\": {\"type\": \"string\"}}},"      \
    " \"l\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/e\"}}},"                  \
    " \"$defs\": {\"e\": {\"type\": \"object\", \"required\": [\"k\"]}}}"
    static const struct row table[] = {
        {PATCH_SCHEMA, "{}", 0, NULL, NULL},
        {PATCH_SCHEMA, "{\"b\": {\"d\": \"x\"}}", 0, NULL, NULL},
        {PATCH_SCHEMA, "{\"b\": {\"d\": null}}", 0, NULL, NULL},
        {PATCH_SCHEMA, "{\"a\": null}", 1, "$.a", "null would delete the required key \"a\""},
        {PATCH_SCHEMA, "{\"b\": {\"c\": null}}", 1, "$.b.c",
         "null would delete the required key \"c\""},
        {PATCH_SCHEMA, "{\"b\": {\"e\": null}}", 1, "$.b.e",
         "unknown key \"e\" (did you mean \"c\"?)"},
        {PATCH_SCHEMA, "{\"a\": \"1\"}", 1, "$.a", "expected an integer, found string"},
        /* An array replaces the value whole: its items must be complete. */
        {PATCH_SCHEMA, "{\"l\": [{\"k\": 1}, {}]}", 1, "$.l[1]", "missing required key \"k\""},
        {PATCH_SCHEMA, "[]", 1, "$", "expected an object, found array"},
    };
#undef PATCH_SCHEMA
    run_table(table, sizeof(table) / sizeof(table[0]));
    /* Without the keyword the same documents are checked in full. */
    struct schema_issue issues[MAX_ISSUES];
    assert_int_equal(check("{\"type\": \"object\", \"required\": [\"a\"], \"properties\": "
                           "{\"a\": {\"type\": \"integer\"}}}",
                           "{\"a\": null}", issues),
                     1);
    assert_string_equal(issues[0].message, "expected an integer, found null");
}

/* Writes text to dir/name; returns the path (free it). */
static char *write_file(const char *dir, const char *name, const char *text)
{
    char *path = support_printf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* "$ref": "file.json" loads the file beside the schema; the referenced document's own $defs
 * resolve inside it; schema_external finds it; a missing file, a path or a fragment is refused at
 * load with the file named; a schema built from a document loads nothing. */
static void test_schema_load_external_ref(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_schema.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *inner = write_file(dir, "inner.json",
                             "{\"type\": \"object\", \"additionalProperties\": false,"
                             " \"properties\": {\"n\": {\"$ref\": \"#/$defs/pos\"}},"
                             " \"$defs\": {\"pos\": {\"type\": \"integer\", \"minimum\": 1}}}");
    char *outer =
        write_file(dir, "outer.json",
                   "{\"type\": \"object\", \"properties\": {\"in\": {\"$ref\": "
                   "\"inner.json\"}, \"patch\": {\"$ref\": \"inner.json\", "
                   "\"x-mergePatch\": true}}, \"$defs\": {\"pos\": {\"type\": \"string\"}}}");
    struct schema *s = NULL;
    struct oms_err err = {0};
    assert_int_equal(schema_load(outer, &s, &err), 0);
    assert_non_null(schema_external(s, "inner.json"));
    assert_null(schema_external(s, "outer.json"));
    assert_null(schema_external(NULL, "inner.json"));
    json_t *doc = support_parse("{\"in\": {\"n\": 0, \"m\": 1}, \"patch\": {\"n\": 2}}");
    struct schema_issue issues[MAX_ISSUES];
    memset(issues, 0, sizeof(issues));
    /* #/$defs/pos is inner.json's (an integer), not outer.json's (a string). */
    assert_int_equal(schema_validate(s, doc, issues, MAX_ISSUES), 2);
    assert_string_equal(issues[0].path, "$.in.n");
    assert_string_equal(issues[0].message, "expected at least 1, found 0");
    assert_string_equal(issues[1].path, "$.in.m");
    json_decref(doc);
    schema_destroy(s);

    /* Built from a document, the reference checks nothing. */
    json_t *sdoc = support_parse("{\"properties\": {\"in\": {\"$ref\": \"inner.json\"}}}");
    s = schema_from_json(sdoc);
    doc = support_parse("{\"in\": 5}");
    assert_int_equal(schema_validate(s, doc, issues, MAX_ISSUES), 0);
    assert_null(schema_external(s, "inner.json"));
    schema_destroy(s);
    json_decref(sdoc);
    json_decref(doc);

    static const char *const bad[][2] = {
        {"{\"$ref\": \"missing.json\"}", "missing.json"},
        {"{\"$ref\": \"../inner.json\"}", "must name a schema file beside this one"},
        {"{\"$ref\": \"inner.json#/$defs/pos\"}", "must name a schema file beside this one"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *f = write_file(dir, "bad.json", bad[i][0]);
        oms_err_clear(&err);
        s = (struct schema *)1;
        assert_int_not_equal(schema_load(f, &s, &err), 0);
        assert_null(s);
        char text[2048];
        oms_err_format(&err, text, sizeof(text));
        if (!strstr(text, bad[i][1]))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, text, bad[i][1]);
        unlink(f);
        free(f);
    }
    /* A file that refers to itself stops at the depth limit instead of looping. */
    char *self = write_file(dir, "self.json", "{\"$ref\": \"self.json\"}");
    oms_err_clear(&err);
    assert_int_not_equal(schema_load(self, &s, &err), 0);
    assert_null(s);
    unlink(self);
    free(self);
    unlink(inner);
    unlink(outer);
    free(inner);
    free(outer);
    rmdir(dir);
}

static void test_schema_validate_max_issues_respected(void **state)
{
    (void)state;
    json_t *sdoc = support_parse("{\"type\": \"array\", \"items\": {\"type\": \"string\"}}");
    json_t *doc = support_parse("[1, 2, 3, 4, 5]");
    struct schema *s = schema_from_json(sdoc);
    struct schema_issue issues[3];
    memset(issues, 0, sizeof(issues));
    size_t n = schema_validate(s, doc, issues, 2);
    assert_true(n >= 2);
    assert_string_equal(issues[0].path, "$[0]");
    assert_string_equal(issues[1].path, "$[1]");
    assert_string_equal(issues[2].path, ""); /* never written past max */
    /* With room for all of them, every issue is found. */
    struct schema_issue all[MAX_ISSUES];
    assert_int_equal(schema_validate(s, doc, all, MAX_ISSUES), 5);
    assert_string_equal(all[4].path, "$[4]");
    schema_destroy(s);
    json_decref(sdoc);
    json_decref(doc);
    schema_destroy(NULL);
}

static struct schema *scenario_schema(void)
{
    struct schema *s = NULL;
    struct oms_err err = {0};
    if (schema_load(support_path("spec/scenario.schema.json"), &s, &err) != 0)
        fail_msg("cannot load the scenario schema: %s", err.message);
    return s;
}

static void test_schema_load_scenario_schema_valid_and_invalid(void **state)
{
    (void)state;
    struct schema *s = scenario_schema();
    static const struct {
        const char *doc;
        size_t count;
        const char *path;
        const char *message;
    } table[] = {
        {"{\"name\": \"x\", \"rules\": [\"C-1\"], \"when\": [{\"command\": {\"package\": 1}}]}", 0,
         NULL, NULL},
        {"{\"rules\": [\"C-1\"], \"when\": [{\"command\": {\"package\": 1}}]}", 1, "$",
         "missing required key \"name\""},
        {"{\"name\": \"x\", \"rule\": [\"C-1\"], \"when\": [{\"command\": {}}]}", 2, "$",
         "missing required key \"rules\""},
        {"{\"name\": \"x\", \"rules\": [\"C-1\"], \"when\": [{\"command\": {}}], \"given\": "
         "{\"packages\": [{\"id\": 1, \"location\": 1, \"staus\": \"Waiting\", \"status\": 100}]}}",
         1, "$.given.packages[0].staus", "unknown key \"staus\" (did you mean \"status\"?)"},
        {"{\"name\": \"x\", \"rules\": [\"C-1\"], \"when\": [{\"command\": {}, \"http\": "
         "{\"path\": \"/\"}}]}",
         1, "$.when[0]",
         "expected exactly one of \"command\" or \"http\" or \"lifecycle\" or \"receivers\" or "
         "\"crash\", found 2"},
        {"{\"name\": \"x\", \"rules\": [\"C-1\"], \"when\": [{\"command\": {\"package\": 0}}]}", 1,
         "$.when[0].command.package", "expected at least 1, found 0"},
        {"{\"name\": \"x\", \"rules\": [\"c-1\"], \"when\": [{\"command\": {}}]}", 1, "$.rules[0]",
         "\"c-1\" does not match the pattern ^[CEQOPAR]-[0-9]+$"},
        {"{\"name\": \"x\", \"rules\": [\"C-1\"], \"when\": [{\"command\": {}}], \"then\": "
         "{\"packages\": {\"abc\": {}}}}",
         1, "$.then.packages.abc", "unknown key \"abc\" (expected keys matching ^[0-9]+$)"},
        {"{\"name\": \"x\", \"rules\": [\"C-1\"], \"when\": []}", 1, "$.when",
         "expected at least 1 item(s), found 0"},
        {"[]", 1, "$", "expected an object, found array"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *doc = support_parse(table[i].doc);
        struct schema_issue issues[MAX_ISSUES];
        memset(issues, 0, sizeof(issues));
        size_t n = schema_validate(s, doc, issues, MAX_ISSUES);
        if (n != table[i].count)
            fail_msg("case %zu: expected %zu issue(s), got %zu (first: %s %s)", i, table[i].count,
                     n, issues[0].path, issues[0].message);
        if (n && (strcmp(issues[0].path, table[i].path) != 0 ||
                  strcmp(issues[0].message, table[i].message) != 0))
            fail_msg("case %zu: expected %s: %s\n got %s: %s", i, table[i].path, table[i].message,
                     issues[0].path, issues[0].message);
        json_decref(doc);
    }
    schema_destroy(s);
}

/* The scenario schema loads spec/profile.schema.json for given.profile, as a merge patch. */
static void test_schema_scenario_profile_overrides_checked(void **state)
{
    (void)state;
    struct schema *s = scenario_schema();
    assert_non_null(schema_external(s, "profile.schema.json"));
    static const struct {
        const char *profile;
        size_t count;
        const char *path;
        const char *message;
    } table[] = {
        {"{\"sync_remote_order_status_default\": false}", 0, NULL, NULL},
        {"{\"delivery\": {\"webhook_retry\": null, \"timeout_ms\": 100}}", 0, NULL, NULL},
        {"{\"delivery\": {\"timeout_ms\": 5}}", 1, "$.given.profile.delivery.timeout_ms",
         "expected at least 10, found 5"},
        {"{\"limit\": {}}", 1, "$.given.profile.limit",
         "unknown key \"limit\" (did you mean \"limits\"?)"},
        {"{\"tokens\": null}", 1, "$.given.profile.tokens",
         "null would delete the required key \"tokens\""},
        {"{\"transitions\": [{\"id\": 42, \"slug\": \"packed-for-refund\"}]}", 2,
         "$.given.profile.transitions[0]", "missing required key \"sources\""},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        char *text = support_printf("{\"name\": \"x\", \"rules\": [\"P-1\"], \"given\": "
                                    "{\"profile\": %s}, \"when\": [{\"command\": {}}]}",
                                    table[i].profile);
        json_t *doc = support_parse(text);
        struct schema_issue issues[MAX_ISSUES];
        memset(issues, 0, sizeof(issues));
        size_t n = schema_validate(s, doc, issues, MAX_ISSUES);
        if (n != table[i].count)
            fail_msg("case %zu: expected %zu issue(s), got %zu (first: %s %s)", i, table[i].count,
                     n, issues[0].path, issues[0].message);
        if (n && (strcmp(issues[0].path, table[i].path) != 0 ||
                  strcmp(issues[0].message, table[i].message) != 0))
            fail_msg("case %zu: expected %s: %s\n got %s: %s", i, table[i].path, table[i].message,
                     issues[0].path, issues[0].message);
        json_decref(doc);
        free(text);
    }
    schema_destroy(s);
}

static void test_schema_load_missing_and_malformed_file(void **state)
{
    (void)state;
    struct schema *s = NULL;
    struct oms_err err = {0};
    assert_int_not_equal(schema_load("/nonexistent/schema.json", &s, &err), 0);
    assert_null(s);
    assert_string_equal(err.source, "/nonexistent/schema.json");

    char dir[] = "/tmp/test_schema.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128];
    snprintf(file, sizeof(file), "%s/s.json", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\n  \"type\": \"object\",\n  \"required\": [\"a\",]\n}\n", f);
    fclose(f);
    oms_err_clear(&err);
    assert_int_not_equal(schema_load(file, &s, &err), 0);
    assert_null(s);
    assert_string_equal(err.source, file);
    assert_int_equal(err.line, 3);
    assert_true(err.column > 0);
    unlink(file);
    rmdir(dir);
}

static void test_schema_edit_distance_values(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        size_t d;
    } table[] = {
        {"", "", 0},
        {"abc", "abc", 0},
        {"", "abc", 3},
        {"abc", "", 3},
        {"staus", "status", 1},
        {"status", "staus", 1},
        {"kitten", "sitting", 3},
        {"flaw", "lawn", 2},
        {"when", "then", 1},
        {"rules", "rule", 1},
        {"locaton", "location", 1},
        {"abc", "xyz", 3},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (schema_edit_distance(table[i].a, table[i].b) != table[i].d)
            fail_msg("distance(\"%s\", \"%s\"): expected %zu, got %zu", table[i].a, table[i].b,
                     table[i].d, schema_edit_distance(table[i].a, table[i].b));
    /* Long strings are not compared: the distance is the longer length. */
    char longer[80];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(schema_edit_distance(longer, "a"), sizeof(longer) - 1);
    assert_int_equal(schema_edit_distance("ab", longer), sizeof(longer) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_validate_type),
        cmocka_unit_test(test_schema_validate_required),
        cmocka_unit_test(test_schema_validate_additional_properties_did_you_mean),
        cmocka_unit_test(test_schema_validate_pattern_properties),
        cmocka_unit_test(test_schema_validate_enum_const),
        cmocka_unit_test(test_schema_validate_minimum_maximum_min_max_length),
        cmocka_unit_test(test_schema_validate_pattern),
        cmocka_unit_test(test_schema_validate_items_min_max_items),
        cmocka_unit_test(test_schema_validate_exactly_one),
        cmocka_unit_test(test_schema_validate_local_ref),
        cmocka_unit_test(test_schema_validate_merge_patch),
        cmocka_unit_test(test_schema_load_external_ref),
        cmocka_unit_test(test_schema_validate_max_issues_respected),
        cmocka_unit_test(test_schema_load_scenario_schema_valid_and_invalid),
        cmocka_unit_test(test_schema_scenario_profile_overrides_checked),
        cmocka_unit_test(test_schema_load_missing_and_malformed_file),
        cmocka_unit_test(test_schema_edit_distance_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
