/* test_selection: what an --exclude value names - an explicit tag:, rule:, id: or path: prefix, or
 * its shape (a rule id, a path, any other word) - and the values refused with a reason. */
#include "support.h"

#include "selection.h"

#include <string.h>

static void test_selection_parse_exclude_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        enum selection_kind kind;
        const char *name;
    } cases[] = {
        {"tag:slow", SELECTION_TAG, "slow"},
        {"rule:c-11", SELECTION_RULE, "c-11"},
        {"id:waiting-source", SELECTION_ID, "waiting-source"},
        {"path:scenarios/quota", SELECTION_PATH, "scenarios/quota"},
        {"path:a:b.json", SELECTION_PATH, "a:b.json"}, /* only the first colon separates */
        {"C-11", SELECTION_RULE, "C-11"},
        {"q-1", SELECTION_RULE, "q-1"},
        {"scenarios/quota", SELECTION_PATH, "scenarios/quota"},
        {"x.json", SELECTION_PATH, "x.json"},
        {"webhooks", SELECTION_WORD, "webhooks"},
        {"C-11a", SELECTION_WORD, "C-11a"},
        {"json-in-the-middle.jsonx", SELECTION_WORD, "json-in-the-middle.jsonx"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum selection_kind kind = (enum selection_kind) - 1;
        const char *name = NULL;
        char why[160] = "";
        if (selection_parse_exclude(cases[i].value, &kind, &name, why, sizeof(why)) != 0)
            fail_msg("%s: refused: %s", cases[i].value, why);
        if (kind != cases[i].kind)
            fail_msg("%s: kind %d, expected %d", cases[i].value, (int)kind, (int)cases[i].kind);
        assert_string_equal(name, cases[i].name);
    }
}

static void test_selection_parse_exclude_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        const char *why;
    } cases[] = {
        {"tagg:slow", "\"tagg\" is none of tag:, rule:, id:, path: (did you mean \"tag\"?)"},
        {"kind:x", "\"kind\" is none of tag:, rule:, id:, path:"},
        {"tag:", "names nothing after \"tag:\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum selection_kind kind;
        const char *name;
        char why[160] = "";
        if (selection_parse_exclude(cases[i].value, &kind, &name, why, sizeof(why)) == 0)
            fail_msg("%s: accepted", cases[i].value);
        if (!strstr(why, cases[i].why))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].value, why, cases[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selection_parse_exclude_kinds),
        cmocka_unit_test(test_selection_parse_exclude_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
