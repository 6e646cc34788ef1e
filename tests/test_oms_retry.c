/* test_oms_retry: the retry policies of outbound deliveries (SPEC O-2) - delays of the fixed,
 * linear, exponential and random countdowns, validation with JSON paths, and attempt limits. */
#include "support.h"

#include "oms_retry.h"

#include <string.h>

static void test_oms_retry_delay_ms_fixed_linear_exponential(void **state)
{
    (void)state;
    static const struct {
        const char *policy;
        int64_t retry;
        int64_t want;
    } table[] = {
        {"{\"choice\": \"fixed\", \"countdown\": 2}", 1, 2000},
        {"{\"choice\": \"fixed\", \"countdown\": 2}", 5, 2000},
        {"{\"choice\": \"linear\", \"countdown\": 2}", 1, 2000},
        {"{\"choice\": \"linear\", \"countdown\": 2}", 3, 6000},
        {"{\"choice\": \"exponential\", \"countdown\": 1}", 1, 1000},
        {"{\"choice\": \"exponential\", \"countdown\": 1}", 2, 2000},
        {"{\"choice\": \"exponential\", \"countdown\": 1}", 4, 8000},
        {"{\"choice\": \"exponential\", \"countdown\": 0.5}", 3, 2000},
        {"{\"choice\": \"fixed\", \"countdown\": 0}", 3, 0},
        /* absent keys: exponential, 1 s */
        {"{}", 1, 1000},
        {"{}", 3, 4000},
        {"null", 2, 2000},
        {"{\"countdown\": 3}", 2, 6000},
        /* retry < 1 counts as the first retry */
        {"{\"choice\": \"linear\", \"countdown\": 1}", 0, 1000},
        {"{\"choice\": \"linear\", \"countdown\": 1}", -7, 1000},
        /* capped at one day */
        {"{\"choice\": \"exponential\", \"countdown\": 60}", 30, 86400000},
        {"{\"choice\": \"exponential\", \"countdown\": 86400}", 1000, 86400000},
        {"{\"choice\": \"linear\", \"countdown\": 86400}", 100, 86400000},
        /* a malformed policy counts as the default */
        {"{\"choice\": \"sometimes\", \"countdown\": 5}", 2, 2000},
        {"{\"choice\": \"fixed\", \"countdown\": -1}", 2, 2000},
        {"[1, 2]", 1, 1000},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *p = support_parse(table[i].policy);
        unsigned seed = 1;
        int64_t got = oms_retry_delay_ms(p, table[i].retry, &seed);
        if (got != table[i].want)
            fail_msg("%s retry %lld: expected %lld ms, got %lld", table[i].policy,
                     (long long)table[i].retry, (long long)table[i].want, (long long)got);
        json_decref(p);
    }
    unsigned seed = 1;
    assert_int_equal(oms_retry_delay_ms(NULL, 1, &seed), 1000);
}

static void test_oms_retry_delay_ms_random_within_bounds(void **state)
{
    (void)state;
    json_t *p = support_parse("{\"choice\": \"random\", \"countdown\": 2}");
    unsigned seed = 12345;
    for (int64_t retry = 1; retry <= 5; retry++) {
        int64_t hi = 2000 * ((int64_t)1 << (retry - 1));
        int64_t lo_seen = hi, hi_seen = 0;
        for (int k = 0; k < 400; k++) {
            int64_t d = oms_retry_delay_ms(p, retry, &seed);
            if (d < 0 || d > hi)
                fail_msg("retry %lld: %lld ms outside [0, %lld]", (long long)retry, (long long)d,
                         (long long)hi);
            lo_seen = d < lo_seen ? d : lo_seen;
            hi_seen = d > hi_seen ? d : hi_seen;
        }
        /* Jitter: the draws spread over the range rather than sitting at one value. */
        assert_true(lo_seen < hi / 4);
        assert_true(hi_seen > hi * 3 / 4);
    }
    /* The same seed gives the same sequence. */
    unsigned s1 = 7, s2 = 7;
    for (int k = 0; k < 10; k++)
        assert_int_equal(oms_retry_delay_ms(p, 3, &s1), oms_retry_delay_ms(p, 3, &s2));
    json_decref(p);
}

static void test_oms_retry_validate_valid_policies(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "null",
        "{}",
        "{\"choice\": \"fixed\"}",
        "{\"choice\": \"linear\", \"countdown\": 0, \"max_retries\": 0}",
        "{\"choice\": \"exponential\", \"countdown\": 1.5, \"max_retries\": 100}",
        "{\"choice\": \"random\", \"countdown\": 86400}",
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        json_t *p = support_parse(valid[i]);
        struct oms_err err = {0};
        if (oms_retry_validate(p, "$.r", &err) != 0)
            fail_msg("%s refused: %s", valid[i], err.message);
        json_decref(p);
    }
    assert_int_equal(oms_retry_validate(NULL, "$", NULL), 0);
}

static void test_oms_retry_validate_malformed_table(void **state)
{
    (void)state;
    static const struct {
        const char *policy;
        const char *path;
        const char *fragment;
    } table[] = {
        {"[]", "$.given.retry", "found array"},
        {"\"fixed\"", "$.given.retry", "found string"},
        {"{\"choice\": \"sometimes\"}", "$.given.retry.choice", "exponential"},
        {"{\"choice\": 1}", "$.given.retry.choice", "fixed"},
        {"{\"countdown\": -1}", "$.given.retry.countdown", "between 0 and 86400"},
        {"{\"countdown\": 86401}", "$.given.retry.countdown", "between 0 and 86400"},
        {"{\"countdown\": \"5\"}", "$.given.retry.countdown", "seconds"},
        {"{\"max_retries\": -1}", "$.given.retry.max_retries", "between 0 and 100"},
        {"{\"max_retries\": 101}", "$.given.retry.max_retries", "between 0 and 100"},
        {"{\"max_retries\": 2.0}", "$.given.retry.max_retries", "integer"},
        {"{\"choice\": \"fixed\", \"retries\": 3}", "$.given.retry.retries", "unknown key"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *p = support_parse(table[i].policy);
        struct oms_err err = {0};
        int rc = oms_retry_validate(p, "$.given.retry", &err);
        if (rc != OMS_E_INVAL)
            fail_msg("%s: expected OMS_E_INVAL, got %d", table[i].policy, rc);
        if (strcmp(err.path, table[i].path) != 0)
            fail_msg("%s: expected path %s, got %s", table[i].policy, table[i].path, err.path);
        if (!strstr(err.message, table[i].fragment))
            fail_msg("%s: message \"%s\" lacks \"%s\"", table[i].policy, err.message,
                     table[i].fragment);
        json_decref(p);
    }
}

static void test_oms_retry_max_attempts(void **state)
{
    (void)state;
    static const struct {
        const char *policy;
        int64_t want;
    } table[] = {
        {"{\"max_retries\": 0}", 1},
        {"{\"max_retries\": 5}", 6},
        {"{\"choice\": \"fixed\", \"max_retries\": 100}", 101},
        {"{}", 9}, /* the caller's default */
        {"null", 9},
        {"{\"max_retries\": 101}", 9}, /* malformed: the default */
        {"{\"max_retries\": 3, \"choice\": \"x\"}", 9},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *p = support_parse(table[i].policy);
        if (oms_retry_max_attempts(p, 9) != table[i].want)
            fail_msg("%s: expected %lld attempts, got %lld", table[i].policy,
                     (long long)table[i].want, (long long)oms_retry_max_attempts(p, 9));
        json_decref(p);
    }
    assert_int_equal(oms_retry_max_attempts(NULL, 4), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oms_retry_delay_ms_fixed_linear_exponential),
        cmocka_unit_test(test_oms_retry_delay_ms_random_within_bounds),
        cmocka_unit_test(test_oms_retry_validate_valid_policies),
        cmocka_unit_test(test_oms_retry_validate_malformed_table),
        cmocka_unit_test(test_oms_retry_max_attempts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
