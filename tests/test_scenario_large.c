/* test_scenario_large: validation of large scenario files - 20,000 copies of one rule and 100,000
 * subscriptions, some receiver names repeated - reports each repeated value once, at its second
 * occurrence with file:line:column, and counts exactly one error per repeated value. (How long
 * validation takes is measured by bench/bench_validate.c, not asserted here.) */
#include "support.h"

#include "oms_buf.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ERRS      16
#define RULE_COPIES   20000
#define SUBSCRIPTIONS 100000
/* Subscriptions from REPEAT_FROM on reuse the names of subscriptions 0, 1, ...; from FLOOD_FROM on
 * they all reuse "r-7". */
#define REPEAT_FROM 80000
#define FLOOD_FROM  90000

/* Each subscription after the first is on a line of its own, starting with this prefix. */
#define SUB_PREFIX "," SUB_OPEN
#define SUB_OPEN   "{\"event_type\": \"package.status.packed_for_refund\", \"receiver\": "

struct suite {
    struct schema *schema;
    json_t *rules_doc;
    const json_t *rules;
    char dir[64];
};

static int setup(void **state)
{
    struct suite *s = calloc(1, sizeof(*s));
    struct oms_err err = {0};
    if (!s || schema_load(support_path("spec/scenario.schema.json"), &s->schema, &err) != 0) {
        print_error("cannot load the scenario schema: %s\n", err.message);
        free(s);
        return -1;
    }
    s->rules_doc = json_load_file(support_path("spec/rules.json"), 0, NULL);
    s->rules = json_object_get(s->rules_doc, "rules");
    snprintf(s->dir, sizeof(s->dir), "/tmp/test_scenario_large.XXXXXX");
    if (!json_is_array(s->rules) || !mkdtemp(s->dir)) {
        schema_destroy(s->schema);
        json_decref(s->rules_doc);
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct suite *s = *state;
    schema_destroy(s->schema);
    json_decref(s->rules_doc);
    rmdir(s->dir);
    free(s);
    return 0;
}

/* The receiver name of subscription i, with or without repeats. */
static long receiver_of(long i, int repeats)
{
    if (!repeats || i < REPEAT_FROM)
        return i;
    return i < FLOOD_FROM ? i - REPEAT_FROM : 7;
}

/* Writes the scenario: rules[k] (k >= 1) alone on line 2 + k after a comma; the subscriptions
 * start on line *first_sub_line, one per line. Returns the file name (caller frees). */
static char *write_large(const struct suite *s, const char *name, long rule_copies, int repeats,
                         int *first_sub_line)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_puts(&b, "{\"name\": \"a large scenario\",\n\"rules\": [\"C-6\"\n");
    for (long k = 0; k < rule_copies; k++)
        oms_buf_puts(&b, ",\"C-3\"\n");
    oms_buf_puts(&b,
                 "],\n\"given\": {\"locations\": [{\"id\": 1, \"max_quota\": 5, \"quota\": 1}],\n"
                 "\"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\"}],\n"
                 "\"subscriptions\": [\n");
    /* Lines: 1 name, 2 rules[0], the copies, then "],", locations, packages, "subscriptions". */
    *first_sub_line = 2 + (int)rule_copies + 5;
    for (long i = 0; i < SUBSCRIPTIONS; i++)
        oms_buf_printf(&b, "%s\"r-%ld\"}\n", i ? SUB_PREFIX : SUB_OPEN, receiver_of(i, repeats));
    oms_buf_puts(&b, "]},\n\"when\": [{\"command\": {\"package\": 501, \"body\": {\"package\": "
                     "501, \"transition\": 17}}, \"then\": {\"response\": {\"status\": 204}}}]}\n");
    char *file = support_printf("%s/%s", s->dir, name);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
    assert_int_equal(fclose(f), 0);
    oms_buf_cleanup(&b);
    return file;
}

static void assert_error(const struct oms_err *e, const char *file, int line, int column,
                         const char *path, const char *message)
{
    assert_string_equal(e->source, file);
    assert_int_equal(e->line, line);
    assert_int_equal(e->column, column);
    assert_string_equal(e->path, path);
    if (!strstr(e->message, message))
        fail_msg("message \"%s\" lacks \"%s\"", e->message, message);
}

static void test_scenario_load_repeats_reported_once_each(void **state)
{
    struct suite *s = *state;
    int sub_line = 0;
    char *file = write_large(s, "repeats.json", RULE_COPIES, 1, &sub_line);
    struct oms_err errs[MAX_ERRS + 1];
    memset(errs, 0, sizeof(errs));
    struct scenario *sc = NULL;
    size_t n = scenario_load(file, s->schema, s->rules, &sc, errs, MAX_ERRS);
    assert_null(sc);
    /* One error for "C-3" (20,000 copies) and one per receiver name used more than once: the
     * names of subscriptions 0 .. FLOOD_FROM - REPEAT_FROM - 1 ("r-7" among them). */
    assert_int_equal(n, 1 + (FLOOD_FROM - REPEAT_FROM));
    /* rules[0] is "C-6", rules[1] the first "C-3": the first repeat is rules[2], on line 4. */
    assert_error(&errs[0], file, 4, 2, "$.rules[2]",
                 "rule \"C-3\" is listed 20000 times (first at $.rules[1])");
    const int column = (int)strlen(SUB_PREFIX) + 1;
    char path[128], message[256];
    for (int k = 0; k < MAX_ERRS - 1; k++) {
        long i = REPEAT_FROM + k;
        snprintf(path, sizeof(path), "$.given.subscriptions[%ld].receiver", i);
        /* "r-7" is used by subscription 7, REPEAT_FROM + 7 and every one from FLOOD_FROM. */
        long uses = k == 7 ? 2 + (SUBSCRIPTIONS - FLOOD_FROM) : 2;
        if (uses == 2)
            snprintf(message, sizeof(message),
                     "receiver \"r-%d\" is used by two subscriptions (first at "
                     "$.given.subscriptions[%d])",
                     k, k);
        else
            snprintf(message, sizeof(message),
                     "receiver \"r-%d\" is used by %ld subscriptions (first at "
                     "$.given.subscriptions[%d])",
                     k, uses, k);
        assert_error(&errs[1 + k], file, sub_line + (int)i, column, path, message);
    }
    /* Only max errors are written. */
    assert_int_equal(errs[MAX_ERRS].code, 0);
    unlink(file);
    free(file);
}

static void test_scenario_load_large_valid_file(void **state)
{
    struct suite *s = *state;
    int sub_line = 0;
    char *file = write_large(s, "valid.json", 0, 0, &sub_line);
    struct oms_err errs[MAX_ERRS];
    struct scenario *sc = NULL;
    size_t n = scenario_load(file, s->schema, s->rules, &sc, errs, MAX_ERRS);
    if (n)
        fail_msg("%zu error(s), the first: %s at %s", n, errs[0].message, errs[0].path);
    assert_non_null(sc);
    assert_int_equal(json_array_size(json_object_get(sc->given, "subscriptions")), SUBSCRIPTIONS);
    /* Positions are still found in a large file. */
    char where[4200], want[4200];
    snprintf(want, sizeof(want), "%s:%d:%d", file, sub_line + SUBSCRIPTIONS - 1,
             (int)strlen(SUB_PREFIX) + 1);
    scenario_where(sc, "$.given.subscriptions[99999].receiver", where, sizeof(where));
    assert_string_equal(where, want);
    scenario_destroy(sc);
    unlink(file);
    free(file);
}

/* The same in memory: scenario_load_text names the given file in its errors. */
static void test_scenario_load_text_three_copies_one_error(void **state)
{
    struct suite *s = *state;
    static const char text[] = "{\"name\": \"n\", \"rules\": [\"C-2\", \"C-2\", \"C-2\"],\n"
                               "\"when\": [{\"command\": {\"package\": 1}}]}";
    struct oms_err errs[MAX_ERRS];
    memset(errs, 0, sizeof(errs));
    struct scenario *sc = NULL;
    size_t n = scenario_load_text("in-memory.json", text, strlen(text), s->schema, s->rules, &sc,
                                  errs, MAX_ERRS);
    assert_null(sc);
    assert_int_equal(n, 1);
    assert_error(&errs[0], "in-memory.json", 1, 32, "$.rules[1]",
                 "rule \"C-2\" is listed 3 times (first at $.rules[0])");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_load_repeats_reported_once_each),
        cmocka_unit_test(test_scenario_load_large_valid_file),
        cmocka_unit_test(test_scenario_load_text_three_copies_one_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
