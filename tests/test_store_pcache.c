/* test_store_pcache: the page cache wrapper answers the commits' needless truncations itself and
 * passes on the ones that drop pages, so an in-memory database stays whole through page splits,
 * rollbacks of growth and regrowth. */
#include "support.h"

#include "store_pcache.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static long long scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void assert_intact(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
}

/* Rows packed tight by one insert, then grown one by one in transactions of their own: the page
 * splits park pages at the temporary number, and the commits after them need to drop nothing. A
 * grown transaction rolled back must drop its pages, and the database must stay whole when it
 * grows over the same page numbers again. */
static void test_splits_skip_and_rollbacks_drop(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);"
             "BEGIN;"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
             " INSERT INTO t SELECT i, printf('%010d', i) FROM n;"
             "COMMIT;");
    uint64_t passed0, skipped0;
    store_pcache_stats(&passed0, &skipped0);
    for (int k = 1; k <= 2000; k++) {
        char sql[160];
        snprintf(sql, sizeof(sql), "UPDATE t SET v = printf('%%040d', id) WHERE id = %d",
                 (k * 7919) % 20000 + 1);
        exec(db, sql);
    }
    uint64_t passed1, skipped1;
    store_pcache_stats(&passed1, &skipped1);
    assert_true(skipped1 - skipped0 >= 1000);
    assert_intact(db);

    long long pages = scalar(db, "PRAGMA page_count");
    sqlite3_int64 before = sqlite3_memory_used();
    exec(db, "BEGIN;"
             "WITH RECURSIVE n(i) AS (SELECT 20001 UNION ALL SELECT i + 1 FROM n WHERE i < 25000)"
             " INSERT INTO t SELECT i, printf('%0200d', i) FROM n;"
             "ROLLBACK;");
    uint64_t passed2, skipped2;
    store_pcache_stats(&passed2, &skipped2);
    assert_true(passed2 > passed1);
    /* The 1.1 MB of rows rolled back leave no pages behind in the cache. */
    assert_true(sqlite3_memory_used() < before + 256 * 1024);
    assert_int_equal(scalar(db, "PRAGMA page_count"), pages);
    assert_int_equal(scalar(db, "SELECT COUNT(*) FROM t"), 20000);

    exec(db, "BEGIN;"
             "WITH RECURSIVE n(i) AS (SELECT 30001 UNION ALL SELECT i + 1 FROM n WHERE i < 35000)"
             " INSERT INTO t SELECT i, printf('%080d', i) FROM n;"
             "COMMIT;");
    assert_intact(db);
    assert_int_equal(scalar(db, "SELECT COUNT(*) FROM t"), 25000);
    assert_int_equal(scalar(db, "SELECT COUNT(*) FROM t WHERE id > 20000 AND id < 30001"), 0);
    assert_int_equal(scalar(db, "SELECT SUM(length(v)) FROM t WHERE id > 30000"), 5000 * 80);
    sqlite3_close(db);
}

int main(void)
{
    /* Before the process's first connection, as store_open does it. */
    assert_int_equal(store_pcache_install(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splits_skip_and_rollbacks_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
