/* test_oms_journal: the bounded journal keeps the newest entries in order, counts the ones it
 * forgot, and starts afresh on clear. */
#include "support.h"

#include "oms_journal.h"

/* Entry n is {"seq": n}. */
static void append_range(struct oms_journal *j, int from, int to)
{
    for (int n = from; n <= to; n++)
        oms_journal_append(j, json_pack("{s:i}", "seq", n));
}

/* Fails unless the journal holds exactly the entries first..last, oldest first. */
static void assert_holds(const struct oms_journal *j, int first, int last)
{
    assert_int_equal(oms_journal_count(j), (size_t)(last - first + 1));
    for (int n = first; n <= last; n++) {
        json_t *e = oms_journal_at(j, (size_t)(n - first));
        if (!e || json_integer_value(json_object_get(e, "seq")) != n)
            fail_msg("entry %d: expected seq %d, found %lld", n - first, n,
                     e ? (long long)json_integer_value(json_object_get(e, "seq")) : -1LL);
    }
    assert_null(oms_journal_at(j, (size_t)(last - first + 1)));
}

static void test_below_the_limit_everything_is_kept(void **state)
{
    (void)state;
    struct oms_journal *j = oms_journal_create(0);
    assert_int_equal(oms_journal_limit(j), OMS_JOURNAL_DEFAULT_LIMIT);
    assert_null(oms_journal_at(j, 0));
    append_range(j, 1, 1000); /* past several growth steps */
    assert_holds(j, 1, 1000);
    assert_int_equal(oms_journal_dropped(j), 0);
    oms_journal_destroy(j);
}

static void test_past_the_limit_the_oldest_go_and_are_counted(void **state)
{
    (void)state;
    struct oms_journal *j = oms_journal_create(150); /* not a power of two, above the first block */
    append_range(j, 1, 150);
    assert_holds(j, 1, 150);
    assert_int_equal(oms_journal_dropped(j), 0);
    append_range(j, 151, 400); /* wraps more than once */
    assert_holds(j, 251, 400);
    assert_int_equal(oms_journal_dropped(j), 250);
    oms_journal_destroy(j);
}

static void test_clear_starts_afresh(void **state)
{
    (void)state;
    struct oms_journal *j = oms_journal_create(3);
    append_range(j, 1, 5);
    assert_holds(j, 3, 5);
    assert_int_equal(oms_journal_dropped(j), 2);
    oms_journal_clear(j);
    assert_int_equal(oms_journal_count(j), 0);
    assert_int_equal(oms_journal_dropped(j), 0);
    assert_null(oms_journal_at(j, 0));
    append_range(j, 6, 9);
    assert_holds(j, 7, 9);
    assert_int_equal(oms_journal_dropped(j), 1);
    oms_journal_destroy(j);
    oms_journal_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_below_the_limit_everything_is_kept),
        cmocka_unit_test(test_past_the_limit_the_oldest_go_and_are_counted),
        cmocka_unit_test(test_clear_starts_afresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
