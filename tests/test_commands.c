/* test_commands: what the subcommands compute without running anything - list --rules's lines:
 * each catalogue rule in order with the number of scenarios exercising it, its title and its
 * basis in whichever form the catalogue gives it. */
#include "support.h"

#include "commands.h"
#include "scenario.h"
#include "suite.h"

#include <string.h>

static void test_commands_rule_lines_count_and_basis(void **state)
{
    (void)state;
    json_t *catalogue = support_parse(
        "[{\"id\": \"C-1\", \"title\": \"first\", \"basis\": \"documented\"},"
        " {\"id\": \"C-2\", \"title\": \"second\", \"basis\": [\"A-2\", \"A-5\"]},"
        " {\"id\": \"Q-1\", \"title\": \"third\", \"basis\": {\"kind\": \"derived\"}},"
        " {\"id\": \"O-2\", \"title\": \"fourth\"}]");
    const char *one[] = {"C-1", "Q-1"}, *two[] = {"Q-1"}, *three[] = {"C-1", "C-2", "Q-1"};
    struct scenario a = {.rules = one, .rule_count = 2};
    struct scenario b = {.rules = two, .rule_count = 1};
    struct scenario c = {.rules = three, .rule_count = 3};
    struct scenario *items[] = {&a, &b, &c};
    struct suite s = {.items = items, .count = 3};
    struct oms_buf out;
    oms_buf_init(&out, 0);
    commands_rule_lines(catalogue, &s, &out);
    assert_string_equal(oms_buf_str(&out), "C-1\t2\tfirst\tdocumented\n"
                                           "C-2\t1\tsecond\tA-2, A-5\n"
                                           "Q-1\t3\tthird\t{\"kind\":\"derived\"}\n"
                                           "O-2\t0\tfourth\n");
    oms_buf_cleanup(&out);
    json_decref(catalogue);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_rule_lines_count_and_basis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
