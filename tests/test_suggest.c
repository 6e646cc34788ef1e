/* test_suggest: the nearest known word to a mistyped one - insertions, deletions, changes and
 * swapped neighbours each count one; case does not count; far words are not suggested; the first
 * of equally near candidates wins. */
#include "support.h"

#include "suggest.h"

#include <string.h>

static const char *nearest(const char *word, const char *const *candidates, size_t n)
{
    struct suggest s;
    suggest_init(&s, word);
    return suggest_among(&s, candidates, n);
}

static void test_suggest_finds_the_near_ones(void **state)
{
    (void)state;
    static const char *const options[] = {"--jobs", "--json", "--tag", "--strict", "--help"};
    static const char *const statuses[] = {"Waiting", "Packed", "Packed for Refund", "Cancelled"};
    static const char *const rules[] = {"C-1", "C-9", "C-11", "Q-1", "Q-2"};
    static const char *const tags[] = {"webhooks", "quota", "transitions"};
    static const struct {
        const char *word;
        const char *const *candidates;
        size_t n;
        const char *want; /* NULL: nothing close enough */
    } cases[] = {
        {"--jbos", options, 5, "--jobs"}, /* swapped neighbours: one edit */
        {"--stirct", options, 5, "--strict"},
        {"--hepl", options, 5, "--help"},
        {"--frobnicate", options, 5, NULL},
        {"Wating", statuses, 4, "Waiting"},                      /* a letter missing */
        {"packed for refnud", statuses, 4, "Packed for Refund"}, /* case does not count */
        {"Q-01", rules, 5, "Q-1"},
        {"C-99", rules, 5, "C-9"},
        {"c-11", rules, 5, "C-11"}, /* exact but for case: distance 0 */
        {"webhok", tags, 3, "webhooks"},
        {"nosuchtag", tags, 3, NULL},
        {"x", tags, 3, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = nearest(cases[i].word, cases[i].candidates, cases[i].n);
        if (!cases[i].want && got)
            fail_msg("%s: expected no suggestion, got %s", cases[i].word, got);
        if (cases[i].want && (!got || strcmp(got, cases[i].want) != 0))
            fail_msg("%s: expected %s, got %s", cases[i].word, cases[i].want, got ? got : "none");
    }
}

static void test_suggest_ties_and_text(void **state)
{
    (void)state;
    static const char *const both[] = {"cat", "car"};
    assert_string_equal(nearest("caz", both, 2), "cat"); /* the first of equals */
    struct suggest s;
    suggest_init(&s, "--jbos");
    suggest_consider(&s, NULL); /* ignored */
    suggest_consider(&s, "--jobs");
    char text[64] = "unknown option --jbos";
    assert_string_equal(suggest_append(&s, text, sizeof(text)),
                        "unknown option --jbos (did you mean \"--jobs\"?)");
    suggest_init(&s, "zzzz");
    suggest_consider(&s, "--jobs");
    char plain[32] = "unchanged";
    assert_string_equal(suggest_append(&s, plain, sizeof(plain)), "unchanged");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest_finds_the_near_ones),
        cmocka_unit_test(test_suggest_ties_and_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
