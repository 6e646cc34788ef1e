/* test_repro: shell words that survive any byte, curl commands whose token is a variable (no
 * secret reaches a report), the seeding curl and the rerun line - and that bash reads them back to
 * the very bytes (the quoting is checked by running the shell). */
#include "support.h"

#include "repro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What bash makes of `printf %s WORD`: the word as the shell parsed it. */
static char *shell_reads(const char *word)
{
    char path[] = "/tmp/repro-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "printf %%s %s", word);
    fclose(f);
    char *run = support_printf("bash %s", path);
    FILE *p = popen(run, "r");
    assert_non_null(p);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    pclose(p);
    remove(path);
    free(run);
    char *out = malloc(n + 1);
    memcpy(out, buf, n + 1);
    return out;
}

static void test_repro_quote_round_trips_through_bash(void **state)
{
    (void)state;
    static const char *const words[] = {
        "plain/path-1.json",
        "it's",
        "a b  c",
        "$HOME `id` \"q\" \\n",
        "{\"x\": [1, 2]}",
        "tab\there",
        "bell\x01"
        "end",
        "caf\xc3\xa9",
        "\xff\xfe",
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        struct oms_buf b;
        oms_buf_init(&b, 0);
        repro_quote(&b, words[i], strlen(words[i]));
        char *back = shell_reads(oms_buf_str(&b));
        if (strcmp(back, words[i]) != 0)
            fail_msg("word %zu: %s reads back as \"%s\"", i, oms_buf_str(&b), back);
        free(back);
        oms_buf_cleanup(&b);
    }
    /* Plain words stay unquoted, so reports read easily. */
    struct oms_buf b;
    oms_buf_init(&b, 0);
    repro_quote(&b, "scenarios/x.json", 16);
    assert_string_equal(oms_buf_str(&b), "scenarios/x.json");
    oms_buf_cleanup(&b);
}

static void test_repro_curl_keeps_the_token_out(void **state)
{
    (void)state;
    char *headers[] = {"Authorization: Token refund-harness-token",
                       "Content-Type: application/json", "X-Empty;"};
    char *c = repro_curl("POST", "/api/v1/oms/packages/501/command/", headers, 3, 0,
                         "{\"package\":501}", 15, 1);
    assert_null(strstr(c, "refund-harness-token"));
    assert_non_null(strstr(c, "\"Authorization: Token $TOKEN\""));
    assert_non_null(strstr(c, "-X POST \"$TARGET\"/api/v1/oms/packages/501/command/"));
    assert_non_null(strstr(c, "-H 'Content-Type: application/json'"));
    assert_non_null(strstr(c, "-H 'X-Empty;'"));
    assert_non_null(strstr(c, "--data-binary '{\"package\":501}'"));
    assert_null(strstr(c, "times at once"));
    free(c);
    /* A token the scenario wrote (a wrong one, say) is data and stays; copies are said. */
    c = repro_curl("POST", "/p", headers, 1, (size_t)-1, NULL, 0, 8);
    assert_non_null(strstr(c, "refund-harness-token"));
    assert_non_null(strstr(c, "# sent 8 times at once"));
    assert_null(strstr(c, "--data-binary"));
    free(c);
}

static void test_repro_seed_and_rerun(void **state)
{
    (void)state;
    json_t *fx = support_parse("{\"locations\": [{\"id\": 1, \"max_quota\": 2}], \"x\": \"it's\"}");
    char *seed = repro_seed(fx);
    assert_non_null(strstr(seed, "-X PUT \"$TARGET/_fixture/state\""));
    assert_non_null(strstr(seed, "\"X-Fixture-Token: $FIXTURE_TOKEN\""));
    assert_non_null(strstr(seed, "it'\\''s"));
    free(seed);
    json_decref(fx);
    char *r = repro_rerun("scenarios/a b.json", NULL, 1);
    assert_string_equal(r, "refund-harness run 'scenarios/a b.json' --verbose");
    free(r);
    r = repro_rerun("x.json", "http://127.0.0.1:9000", 1);
    assert_string_equal(r, "refund-harness run x.json --verbose --target http://127.0.0.1:9000 "
                           "--token \"$TOKEN\" --strict-reference");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repro_quote_round_trips_through_bash),
        cmocka_unit_test(test_repro_curl_keeps_the_token_out),
        cmocka_unit_test(test_repro_seed_and_rerun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
