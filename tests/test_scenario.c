/* test_scenario: loading scenario files - a table of broken files under tests/data/invalid, each
 * refused with its exact file:line:column, JSON path and message; every bundled scenario loading
 * cleanly; the loaded structure; and file discovery. */
#include "invalid_cases.h"
#include "support.h"

#include "profile_file.h"
#include "refcheck.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ERRS 16

struct suite {
    struct schema *schema;
    json_t *rules_doc;
    const json_t *rules; /* the "rules" array of spec/rules.json */
};

static int setup(void **state)
{
    struct suite *s = calloc(1, sizeof(*s));
    struct oms_err err = {0};
    if (!s)
        return -1;
    if (schema_load(support_path("spec/scenario.schema.json"), &s->schema, &err) != 0) {
        print_error("cannot load the scenario schema: %s\n", err.message);
        free(s);
        return -1;
    }
    s->rules_doc = json_load_file(support_path("spec/rules.json"), 0, NULL);
    s->rules = json_object_get(s->rules_doc, "rules");
    if (!json_is_array(s->rules)) {
        print_error("cannot read spec/rules.json\n");
        schema_destroy(s->schema);
        json_decref(s->rules_doc);
        free(s);
        return -1;
    }
    *state = s;
    return support_profile_setup(NULL);
}

static int teardown(void **state)
{
    struct suite *s = *state;
    support_profile_teardown(NULL);
    schema_destroy(s->schema);
    json_decref(s->rules_doc);
    free(s);
    return 0;
}

static const char *invalid_file(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/invalid/%s", REFUND_TEST_DATA, name);
    return path;
}

static void test_scenario_load_invalid_files_table(void **state)
{
    struct suite *suite = *state;
    for (size_t i = 0; i < INVALID_COUNT; i++) {
        const char *file = invalid_file(INVALID[i].file);
        struct oms_err errs[MAX_ERRS];
        memset(errs, 0, sizeof(errs));
        struct scenario dummy;
        struct scenario *s = &dummy; /* must be reset to NULL */
        /* As suite_load does: a profile file is checked as a profile, anything else as a
         * scenario. */
        int is_profile = 0;
        size_t n = profile_file_check(file, schema_external(suite->schema, PROFILE_FILE_SCHEMA),
                                      &is_profile, errs, MAX_ERRS);
        if (is_profile)
            s = NULL;
        else
            n = scenario_load(file, suite->schema, suite->rules, &s, errs, MAX_ERRS);
        if (n == 0) {
            /* Loads: then a value must name nothing of the default profile. */
            n = refcheck_scenario(s, support_profile, errs, MAX_ERRS);
            scenario_destroy(s);
            s = NULL;
            if (n == 0)
                fail_msg("%s loaded and checked without errors", INVALID[i].file);
        }
        assert_null(s);
        const struct oms_err *e = &errs[0];
        char formatted[2048];
        oms_err_format(e, formatted, sizeof(formatted));
        if (strcmp(e->source, file) != 0)
            fail_msg("%s: source is \"%s\"", INVALID[i].file, e->source);
        if (e->line != INVALID[i].line || e->column != INVALID[i].column)
            fail_msg("%s: expected %d:%d, got %d:%d (%s)", INVALID[i].file, INVALID[i].line,
                     INVALID[i].column, e->line, e->column, formatted);
        if (strcmp(e->path, INVALID[i].path) != 0)
            fail_msg("%s: expected path %s, got %s (%s)", INVALID[i].file, INVALID[i].path, e->path,
                     formatted);
        if (!strstr(e->message, INVALID[i].fragment))
            fail_msg("%s: message \"%s\" lacks \"%s\"", INVALID[i].file, e->message,
                     INVALID[i].fragment);
        assert_int_equal(e->code, OMS_E_INVAL);
    }
}

/* Every file in tests/data/invalid is in the table above (a new broken file needs a row). */
static void test_scenario_find_files_invalid_dir_matches_table(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/invalid", REFUND_TEST_DATA);
    char *paths[] = {dir};
    char **files = NULL;
    size_t count = 0;
    struct oms_err err = {0};
    assert_int_equal(scenario_find_files(paths, 1, &files, &count, &err), 0);
    assert_int_equal(count, INVALID_COUNT);
    for (size_t i = 0; i < count; i++) {
        const char *base = strrchr(files[i], '/') + 1;
        int listed = 0;
        for (size_t k = 0; k < INVALID_COUNT; k++)
            listed |= strcmp(INVALID[k].file, base) == 0;
        if (!listed)
            fail_msg("%s has no row in the table", files[i]);
        if (i > 0)
            assert_true(strcmp(files[i - 1], files[i]) < 0); /* sorted */
    }
    scenario_free_files(files, count);
}

static void test_scenario_load_bundled_scenarios_are_valid(void **state)
{
    struct suite *suite = *state;
    char *paths[] = {(char *)support_path("scenarios")};
    char **files = NULL;
    size_t count = 0;
    struct oms_err err = {0};
    assert_int_equal(scenario_find_files(paths, 1, &files, &count, &err), 0);
    if (count == 0)
        print_message("scenarios/ holds no scenario yet: nothing to check\n");
    size_t bad = 0;
    for (size_t i = 0; i < count; i++) {
        struct oms_err errs[MAX_ERRS];
        struct scenario *s = NULL;
        size_t n = scenario_load(files[i], suite->schema, suite->rules, &s, errs, MAX_ERRS);
        if (n > 0) {
            char text[2048];
            for (size_t k = 0; k < n && k < MAX_ERRS; k++)
                print_error("invalid %s\n", oms_err_format(&errs[k], text, sizeof(text)));
            bad++;
            continue;
        }
        assert_non_null(s);
        assert_non_null(s->name);
        assert_true(s->rule_count > 0);
        assert_true(s->step_count > 0);
        n = refcheck_scenario(s, support_profile, errs, MAX_ERRS);
        for (size_t k = 0; k < n && k < MAX_ERRS; k++) {
            char text[2048];
            print_error("invalid %s\n", oms_err_format(&errs[k], text, sizeof(text)));
        }
        bad += n > 0;
        scenario_destroy(s);
    }
    scenario_free_files(files, count);
    if (bad)
        fail_msg("%zu of %zu bundled scenario(s) do not load", bad, count);
}

static char *write_temp(char *dir, const char *name, const char *text)
{
    char *path = support_printf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_scenario_load_valid_structure(void **state)
{
    struct suite *suite = *state;
    char dir[] = "/tmp/test_scenario.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *file = write_temp(
        dir, "ok.json",
        "{\n"
        "  \"name\": \"loads\",\n"
        "  \"description\": \"prose\",\n"
        "  \"rules\": [\"C-2\", \"C-11\"],\n"
        "  \"tags\": [\"transitions\"],\n"
        "  \"when\": [\n"
        "    {\"name\": \"first\", \"command\": {\"package\": 501}, \"then\": {\"response\": "
        "{\"status\": 204}}},\n"
        "    {\"http\": {\"path\": \"/x\"}, \"concurrent\": 4},\n"
        "    {\"lifecycle\": {\"action\": \"pack\", \"package\": 501}},\n"
        "    {\"receivers\": {\"webhook\": {\"down\": false}}}\n"
        "  ]\n"
        "}\n");
    struct oms_err errs[MAX_ERRS];
    struct scenario *s = NULL;
    size_t n = scenario_load(file, suite->schema, suite->rules, &s, errs, MAX_ERRS);
    if (n)
        fail_msg("refused: %s", errs[0].message);
    assert_string_equal(s->file, file);
    assert_string_equal(s->id, "ok"); /* no "id": the file name */
    assert_true(s->id_from_file);
    assert_string_equal(s->name, "loads");
    assert_string_equal(s->description, "prose");
    assert_int_equal(s->rule_count, 2);
    assert_string_equal(s->rules[1], "C-11");
    assert_int_equal(s->tag_count, 1);
    assert_string_equal(s->tags[0], "transitions");
    assert_true(json_is_object(s->given));
    assert_int_equal(json_object_size(s->given), 0);
    assert_null(s->then);
    assert_int_equal(s->step_count, 4);
    assert_int_equal(s->steps[0].kind, STEP_COMMAND);
    assert_string_equal(s->steps[0].name, "first");
    assert_string_equal(s->steps[0].path, "$.when[0]");
    assert_int_equal(s->steps[0].concurrent, 1);
    assert_non_null(s->steps[0].then);
    assert_int_equal(json_integer_value(json_object_get(s->steps[0].request, "package")), 501);
    assert_int_equal(s->steps[1].kind, STEP_HTTP);
    assert_null(s->steps[1].name);
    assert_int_equal(s->steps[1].concurrent, 4);
    assert_null(s->steps[1].then);
    assert_int_equal(s->steps[2].kind, STEP_LIFECYCLE);
    assert_int_equal(s->steps[3].kind, STEP_RECEIVERS);
    char where[4200], want[4200];
    scenario_where(s, "$.when[1].http", where, sizeof(where));
    snprintf(want, sizeof(want), "%s:8:14", file);
    assert_string_equal(where, want);
    scenario_where(s, "$.when[0].then.response.body", where, sizeof(where)); /* absent */
    snprintf(want, sizeof(want), "%s:7:73", file);
    assert_string_equal(where, want);
    scenario_destroy(s);
    scenario_destroy(NULL);

    /* Without a rule catalogue, any rule id of the right shape is accepted. */
    char *other = write_temp(dir, "other.json",
                             "{\"name\": \"n\", \"rules\": [\"C-999\"], \"when\": [{\"command\": "
                             "{\"package\": 1}}]}");
    n = scenario_load(other, suite->schema, NULL, &s, errs, MAX_ERRS);
    assert_int_equal(n, 0);
    assert_string_equal(s->id, "other");
    scenario_destroy(s);
    n = scenario_load(other, suite->schema, suite->rules, &s, errs, MAX_ERRS);
    assert_int_equal(n, 1);
    assert_null(s);
    unlink(other);
    unlink(file);
    free(other);
    free(file);
    rmdir(dir);
}

/* Crash steps: kill now, or inside a burst of commands; only they make a scenario kill its target.
 */
static void test_scenario_load_crash_steps(void **state)
{
    struct suite *suite = *state;
    char dir[] = "/tmp/test_scenario.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *file = write_temp(
        dir, "crash.json",
        "{\"name\": \"crashes\", \"rules\": [\"O-1\"], \"when\": [\n"
        "  {\"crash\": {}},\n"
        "  {\"crash\": {\"burst\": {\"packages\": {\"first\": 1, \"count\": 40},"
        " \"body\": {\"transition\": 17}, \"concurrent\": 4}, \"at\": \"random\", \"seed\": 7,"
        " \"receivers\": {\"webhook\": {\"down\": false}}}, \"then\": {\"packages\": {}}},\n"
        "  {\"crash\": {\"burst\": {\"packages\": [5, 6], \"body\": {\"slug\": \"x\"}},"
        " \"after\": 2, \"delay_ms\": 100}}\n"
        "]}\n");
    struct oms_err errs[MAX_ERRS];
    struct scenario *s = NULL;
    size_t n = scenario_load(file, suite->schema, suite->rules, &s, errs, MAX_ERRS);
    if (n)
        fail_msg("refused: %s at %s", errs[0].message, errs[0].path);
    assert_int_equal(s->step_count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(s->steps[i].kind, STEP_CRASH);
    assert_int_equal(json_object_size(s->steps[0].request), 0);
    assert_non_null(json_object_get(s->steps[1].request, "burst"));
    assert_non_null(s->steps[1].then);
    assert_int_equal(json_integer_value(json_object_get(s->steps[2].request, "after")), 2);
    assert_true(scenario_kills_target(s));
    scenario_destroy(s);

    char *plain = write_temp(dir, "plain.json",
                             "{\"name\": \"n\", \"rules\": [\"C-2\"], \"when\": [{\"command\": "
                             "{\"package\": 1}}, {\"receivers\": {}}]}");
    assert_int_equal(scenario_load(plain, suite->schema, suite->rules, &s, errs, MAX_ERRS), 0);
    assert_false(scenario_kills_target(s));
    scenario_destroy(s);

    /* The schema's own limits: concurrency, the moment, an empty burst. */
    char *bad = write_temp(dir, "bad.json",
                           "{\"name\": \"n\", \"rules\": [\"O-1\"], \"when\": [{\"crash\": "
                           "{\"burst\": {\"packages\": [], \"body\": {}, \"concurrent\": 65},"
                           " \"at\": \"later\"}}]}");
    n = scenario_load(bad, suite->schema, suite->rules, &s, errs, MAX_ERRS);
    assert_int_equal(n, 3);
    assert_null(s);
    const char *paths[] = {"$.when[0].crash.burst.packages", "$.when[0].crash.burst.concurrent",
                           "$.when[0].crash.at"};
    for (size_t i = 0; i < 3; i++) {
        int found = 0;
        for (size_t k = 0; k < n; k++)
            found |= strcmp(errs[k].path, paths[i]) == 0;
        if (!found)
            fail_msg("no error at %s", paths[i]);
    }
    unlink(bad);
    unlink(plain);
    unlink(file);
    free(bad);
    free(plain);
    free(file);
    rmdir(dir);
}

/* An explicit "id" is kept as written (not the file name). */
static void test_scenario_load_explicit_id(void **state)
{
    struct suite *suite = *state;
    char dir[] = "/tmp/test_scenario.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *file = write_temp(dir, "Some File.json",
                            "{\"id\": \"stable-id-7\", \"name\": \"n\", \"rules\": [\"C-2\"], "
                            "\"when\": [{\"command\": {\"package\": 1}}]}");
    struct oms_err errs[MAX_ERRS];
    struct scenario *s = NULL;
    size_t n = scenario_load(file, suite->schema, suite->rules, &s, errs, MAX_ERRS);
    if (n)
        fail_msg("refused: %s", errs[0].message);
    assert_string_equal(s->id, "stable-id-7");
    assert_false(s->id_from_file);
    scenario_destroy(s);
    unlink(file);
    free(file);
    rmdir(dir);
}

/* The default id: the file name without folders and .json, lower-case, other characters runs
 * of "-" (none at the ends); "scenario" when nothing is left. */
static void test_scenario_id_from_file(void **state)
{
    (void)state;
    static const struct {
        const char *file, *id;
    } cases[] = {
        {"scenarios/quota/waiting-minus-one.json", "waiting-minus-one"},
        {"a/b/Quota_Drift v2.json", "quota-drift-v2"},
        {"x/--weird__.json", "weird"},
        {"x/.json", "scenario"},
        {"plain", "plain"},
        {"dir.json/file.JSON", "file-json"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        assert_string_equal(scenario_id_from_file(cases[i].file, out, sizeof(out)), cases[i].id);
    }
    char tiny[5];
    assert_string_equal(scenario_id_from_file("abcdefgh.json", tiny, sizeof(tiny)), "abc");
}

static void test_scenario_load_collects_several_errors(void **state)
{
    struct suite *suite = *state;
    char dir[] = "/tmp/test_scenario.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *file = write_temp(dir, "many.json",
                            "{\"name\": \"n\", \"rules\": [\"C-98\", \"C-99\", \"C-98\"], "
                            "\"when\": [{\"http\": {}}, {\"command\": {}}]}");
    struct oms_err errs[MAX_ERRS];
    struct scenario *s = NULL;
    size_t n = scenario_load(file, suite->schema, suite->rules, &s, errs, MAX_ERRS);
    assert_null(s);
    /* Three unknown rules, one repeated rule, two incomplete steps. */
    assert_int_equal(n, 6);
    assert_string_equal(errs[0].path, "$.rules[0]");
    assert_string_equal(errs[3].path, "$.rules[2]");
    assert_non_null(strstr(errs[3].message, "listed twice"));
    assert_string_equal(errs[5].path, "$.when[1].command");
    /* With room for one, only one is written but all are counted. */
    struct oms_err one[2];
    memset(one, 0, sizeof(one));
    n = scenario_load(file, suite->schema, suite->rules, &s, one, 1);
    assert_int_equal(n, 6);
    assert_string_equal(one[0].path, "$.rules[0]");
    assert_int_equal(one[1].code, 0);
    unlink(file);
    free(file);
    rmdir(dir);
}

/* Regular expressions are bounded before regcomp sees them: it copies a group per repetition
 * and recurses per nesting level, so a short pattern could take gigabytes or overflow the
 * stack. */
static void test_scenario_load_regex_bounds(void **state)
{
    struct suite *suite = *state;
    char deep[20000 * 2 + 2], shallow[100 * 2 + 2];
    memset(deep, '(', 20000);
    deep[20000] = 'a';
    memset(deep + 20001, ')', 20000);
    deep[40001] = '\0';
    memset(shallow, '(', 100);
    shallow[100] = 'a';
    memset(shallow + 101, ')', 100);
    shallow[201] = '\0';
    static const char *const wrap_start = "{\"name\": \"n\", \"rules\": [\"C-3\"], \"when\": "
                                          "[{\"command\": {\"package\": 1}, \"then\": "
                                          "{\"response\": {\"body\": ";
    const struct {
        const char *body; /* the matcher, or NULL for a "$regex" of pattern */
        const char *pattern;
        const char *message; /* NULL: accepted */
    } cases[] = {
        {NULL, "((a{1000}){1000}){1000}", "would expand to more than 100000 copies"},
        {NULL, "(x|(a{20}){20}){300}", "would expand to more than 100000 copies"},
        {NULL, deep, "nests groups more than 100 deep"},
        {NULL, shallow, NULL},
        {NULL, "(a{255}){255}", NULL},
        {NULL, "^[[:alpha:]]{3,1000}(-[0-9]+)*$", NULL},
        {"{\"$literal\": {\"$regex\": \"((a{1000}){1000}){1000}\"}}", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = cases[i].body ? support_printf("%s%s}}}]}", wrap_start, cases[i].body)
                                   : support_printf("%s{\"$regex\": \"%s\"}}}}]}", wrap_start,
                                                    cases[i].pattern);
        struct oms_err errs[MAX_ERRS];
        memset(errs, 0, sizeof(errs));
        struct scenario *s = NULL;
        size_t n = scenario_load_text("re.json", text, strlen(text), suite->schema, suite->rules,
                                      &s, errs, MAX_ERRS);
        if (!cases[i].message) {
            if (n)
                fail_msg("case %zu: refused: %s", i, errs[0].message);
            scenario_destroy(s);
        } else {
            assert_int_equal(n, 1);
            assert_string_equal(errs[0].path, "$.when[0].then.response.body[\"$regex\"]");
            if (!strstr(errs[0].message, cases[i].message))
                fail_msg("case %zu: \"%s\" lacks \"%s\"", i, errs[0].message, cases[i].message);
        }
        free(text);
    }
}

static void test_scenario_load_missing_file(void **state)
{
    struct suite *suite = *state;
    struct oms_err errs[2];
    memset(errs, 0, sizeof(errs));
    struct scenario *s = NULL;
    size_t n =
        scenario_load("/nonexistent/scenario.json", suite->schema, suite->rules, &s, errs, 2);
    assert_int_equal(n, 1);
    assert_null(s);
    assert_int_equal(errs[0].code, OMS_E_IO);
    assert_string_equal(errs[0].source, "/nonexistent/scenario.json");
    /* max 0: counted, nothing written */
    n = scenario_load("/nonexistent/scenario.json", suite->schema, suite->rules, &s, NULL, 0);
    assert_int_equal(n, 1);
}

/* profile_file_check tells profiles from scenarios: the default profile is a valid profile, a
 * bundled scenario and an unreadable or non-JSON file are not profiles (the scenario loader
 * reports on them), and an invalid profile's errors carry file, line, column and path. */
static void test_profile_file_check_tells_profiles_from_scenarios(void **state)
{
    struct suite *suite = *state;
    struct schema *ps = schema_external(suite->schema, PROFILE_FILE_SCHEMA);
    assert_non_null(ps);
    struct oms_err errs[MAX_ERRS];
    memset(errs, 0, sizeof(errs));
    int is_profile = 0;
    char *profile = support_printf("%s", support_path("profiles/default.json"));
    assert_int_equal(profile_file_check(profile, ps, &is_profile, errs, MAX_ERRS), 0);
    assert_int_equal(is_profile, 1);
    is_profile = 1;
    assert_int_equal(
        profile_file_check(support_path("scenarios/sync/flag-true-informs-omnitron.json"), ps,
                           &is_profile, errs, MAX_ERRS),
        0);
    assert_int_equal(is_profile, 0);
    is_profile = 1;
    assert_int_equal(profile_file_check("/nonexistent/profile.json", ps, &is_profile, errs, 2), 0);
    assert_int_equal(is_profile, 0);

    char dir[] = "/tmp/test_scenario.XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* A profile with a scenario's "when" is a scenario; one with two errors reports both. */
    char *both = write_temp(dir, "both.json", "{\"statuses\": [], \"when\": []}");
    is_profile = 1;
    assert_int_equal(profile_file_check(both, ps, &is_profile, errs, MAX_ERRS), 0);
    assert_int_equal(is_profile, 0);
    char *bad = write_temp(
        dir, "bad.json", "{\"statuses\": [],\n \"transitions\": [{\"id\": 0}],\n \"tokens\": []}");
    size_t n = profile_file_check(bad, ps, &is_profile, errs, MAX_ERRS);
    assert_int_equal(is_profile, 1);
    assert_true(n >= 4); /* quota and omnitron missing, empty statuses, transition id 0... */
    assert_string_equal(errs[0].source, bad);
    assert_string_equal(errs[0].path, "$");
    assert_string_equal(errs[0].message, "missing required key \"quota\"");
    int found = 0;
    for (size_t i = 0; i < n && i < MAX_ERRS; i++)
        if (strcmp(errs[i].path, "$.transitions[0].id") == 0) {
            found = 1;
            assert_int_equal(errs[i].line, 2);
            assert_int_equal(errs[i].column, 25);
            assert_string_equal(errs[i].message, "expected at least 1, found 0");
        }
    assert_true(found);
    /* max 0: counted, nothing written */
    assert_int_equal(profile_file_check(bad, ps, &is_profile, NULL, 0), n);
    unlink(both);
    unlink(bad);
    free(both);
    free(bad);
    rmdir(dir);
    free(profile);
}

static void test_scenario_find_files_recursive_sorted_json_only(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_scenario.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *sub = support_printf("%s/sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    char *files_made[] = {write_temp(dir, "b.json", "{}"), write_temp(dir, "a.json", "{}"),
                          write_temp(dir, "notes.txt", "x"), write_temp(dir, ".hidden.json", "{}"),
                          write_temp(sub, "c.json", "{}")};
    char *paths[] = {dir};
    char **files = NULL;
    size_t count = 0;
    struct oms_err err = {0};
    assert_int_equal(scenario_find_files(paths, 1, &files, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_string_equal(files[0], files_made[1]); /* a.json */
    assert_string_equal(files[1], files_made[0]); /* b.json */
    assert_string_equal(files[2], files_made[4]); /* sub/c.json */
    scenario_free_files(files, count);

    /* A file named explicitly is taken whatever its name; a missing path is an error. */
    char *two[] = {files_made[2], files_made[4]};
    assert_int_equal(scenario_find_files(two, 2, &files, &count, &err), 0);
    assert_int_equal(count, 2);
    scenario_free_files(files, count);
    char *missing[] = {dir, (char *)"/nonexistent/scenarios"};
    files = NULL;
    count = 0;
    assert_int_equal(scenario_find_files(missing, 2, &files, &count, &err), OMS_E_NOENT);
    assert_string_equal(err.source, "/nonexistent/scenarios");

    for (size_t i = 0; i < sizeof(files_made) / sizeof(files_made[0]); i++) {
        unlink(files_made[i]);
        free(files_made[i]);
    }
    rmdir(sub);
    free(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_load_invalid_files_table),
        cmocka_unit_test(test_scenario_find_files_invalid_dir_matches_table),
        cmocka_unit_test(test_scenario_load_bundled_scenarios_are_valid),
        cmocka_unit_test(test_scenario_load_valid_structure),
        cmocka_unit_test(test_scenario_load_crash_steps),
        cmocka_unit_test(test_scenario_load_explicit_id),
        cmocka_unit_test(test_scenario_id_from_file),
        cmocka_unit_test(test_scenario_load_collects_several_errors),
        cmocka_unit_test(test_scenario_load_regex_bounds),
        cmocka_unit_test(test_scenario_load_missing_file),
        cmocka_unit_test(test_profile_file_check_tells_profiles_from_scenarios),
        cmocka_unit_test(test_scenario_find_files_recursive_sorted_json_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
