/* fuzz_scenario: the input is a scenario file's bytes, loaded and checked as `refund-harness
 * validate` does (JSON, the scenario schema, the rule catalogue, the semantic checks). A refused
 * file gets at least one error, and every error written names the file, carries a reason, and
 * (past JSON parsing) a JSON path. An accepted file has a name, at least one rule, and a step
 * structure that matches its "when" list; each step's position can be found. */
#include "fuzz.h"

#include "oms_json.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ERRS  16
#define FILE_NAME "fuzz.json"

static struct schema *schema;
static json_t *rules_doc;

static void cleanup(void)
{
    schema_destroy(schema);
    json_decref(rules_doc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct oms_err err = {0};
    if (schema_load(fuzz_path("spec/scenario.schema.json"), &schema, &err) != 0)
        fuzz_fail("cannot load the scenario schema: %s", err.message);
    rules_doc = fuzz_load_json("spec/rules.json");
    atexit(cleanup);
    return 0;
}

static void check_errors(const struct oms_err *errs, size_t n)
{
    if (n == 0)
        fuzz_fail("a refused scenario without an error");
    for (size_t i = 0; i < n && i < MAX_ERRS; i++) {
        const struct oms_err *e = &errs[i];
        if (strcmp(e->source, FILE_NAME) != 0 || !e->message[0])
            fuzz_fail("error %zu does not name the file or has no reason: \"%s\" \"%s\"", i,
                      e->source, e->message);
        /* Errors after parsing point into the document by a JSON path. */
        if (e->path[0] && e->path[0] != '$')
            fuzz_fail("error %zu has a path that is not a JSON path: \"%s\"", i, e->path);
    }
}

static void check_scenario(const struct scenario *s)
{
    if (!s->name || !s->name[0])
        fuzz_fail("an accepted scenario without a name");
    if (s->rule_count == 0)
        fuzz_fail("an accepted scenario without a rule");
    for (size_t i = 0; i < s->rule_count; i++)
        if (!s->rules[i])
            fuzz_fail("rule %zu is not a string", i);
    if (s->step_count != json_array_size(json_object_get(s->doc, "when")))
        fuzz_fail("%zu steps for %zu entries of \"when\"", s->step_count,
                  json_array_size(json_object_get(s->doc, "when")));
    for (size_t i = 0; i < s->step_count; i++) {
        const struct scenario_step *st = &s->steps[i];
        char where[4200];
        if (!st->request)
            fuzz_fail("step %zu has no request", i);
        if (st->concurrent < 1)
            fuzz_fail("step %zu is sent %u times", i, st->concurrent);
        scenario_where(s, st->path, where, sizeof(where));
        if (strncmp(where, FILE_NAME ":", strlen(FILE_NAME ":")) != 0)
            fuzz_fail("step %zu is placed at \"%s\"", i, where);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oms_err errs[MAX_ERRS];
    memset(errs, 0, sizeof(errs));
    struct scenario *s = NULL;
    size_t n = scenario_load_text(FILE_NAME, (const char *)data, size, schema,
                                  json_object_get(rules_doc, "rules"), &s, errs, MAX_ERRS);
    if (n == 0) {
        if (!s)
            fuzz_fail("an accepted scenario without its structure");
        check_scenario(s);
        scenario_destroy(s);
    } else {
        if (s)
            fuzz_fail("a refused scenario with a structure");
        check_errors(errs, n);
    }
    return 0;
}
