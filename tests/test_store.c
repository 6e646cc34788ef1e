/* test_store: the SQLite store - domain rows, the quota clamp (SPEC Q-4), counting packages,
 * subscriptions, the outbox life cycle (SPEC O-1, O-2), export, reset, and persistence in a file.
 */
#include "support.h"

#include "oms_log.h"
#include "store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    struct store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct oms_err err = {0};
    if (!f || store_open(":memory:", &f->s, &err) != 0) {
        free(f);
        return -1;
    }
    store_lock(f->s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_unlock(f->s);
    store_close(f->s);
    free(f);
    return 0;
}

/* Location 1 (max 10, quota 2) with package 501 (Waiting, items 9001..9002, two reservations, one
 * discrepancy) and package 502 (Out of Stock, one item). */
static void seed(struct store *s)
{
    struct store_location loc = {.id = 1, .max_quota = 10, .quota = 2};
    snprintf(loc.scenario_rules, sizeof(loc.scenario_rules), "[\"SELECT_BY_QUOTA\"]");
    struct store_package p1 = {.id = 501, .location = 1, .status = 100};
    snprintf(p1.order_number, sizeof(p1.order_number), "ORD-501");
    struct store_package p2 = {.id = 502, .location = 1, .status = 920};
    struct store_item i2 = {.id = 9002, .order_item = 7002, .quantity = 2, .status = 100};
    struct store_item i1 = {.id = 9001, .order_item = 7001, .quantity = 1, .status = 100};
    struct store_item i3 = {.id = 9003, .order_item = 7003, .quantity = 1, .status = 920};
    snprintf(i1.sku, sizeof(i1.sku), "SKU-1");
    snprintf(i2.sku, sizeof(i2.sku), "SKU-2");
    snprintf(i3.sku, sizeof(i3.sku), "SKU-3");
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_insert_location(s, &loc), 0);
    assert_int_equal(store_insert_package(s, &p1), 0);
    assert_int_equal(store_insert_package(s, &p2), 0);
    assert_int_equal(store_insert_item(s, 501, &i2), 0); /* out of id order on purpose */
    assert_int_equal(store_insert_item(s, 501, &i1), 0);
    assert_int_equal(store_insert_item(s, 502, &i3), 0);
    assert_int_equal(store_insert_reservation(s, 0, 501, "SKU-1", 1), 0);
    assert_int_equal(store_insert_reservation(s, 77, 501, "SKU-2", 2), 0);
    assert_int_equal(store_insert_reservation(s, 0, 502, "SKU-3", 1), 0);
    assert_int_equal(store_insert_discrepancy(s, 0, 501, 9001, "damaged", 1), 0);
    assert_int_equal(store_insert_discrepancy(s, 0, 502, 0, "missing", 1), 0);
    assert_int_equal(store_commit(s), 0);
}

static void test_store_open_memory_and_close_null(void **state)
{
    (void)state;
    struct store *s = NULL;
    struct oms_err err = {0};
    assert_int_equal(store_open(NULL, &s, &err), 0);
    assert_non_null(s);
    store_close(s);
    store_close(NULL);
}

static void test_store_open_bad_paths_fail(void **state)
{
    (void)state;
    struct store *s = NULL;
    struct oms_err err = {0};
    oms_log_set_level(OMS_LOG_ERROR);
    assert_int_equal(store_open("/nonexistent-dir/x/state.db", &s, &err), OMS_E_DB);
    assert_null(s);
    assert_string_equal(err.source, "/nonexistent-dir/x/state.db");
    assert_non_null(strstr(err.message, "cannot"));

    /* A file that is not a database. */
    char dir[] = "/tmp/test_store.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128];
    snprintf(file, sizeof(file), "%s/garbage.db", dir);
    FILE *f = fopen(file, "wb");
    assert_non_null(f);
    for (int i = 0; i < 512; i++)
        fputs("this is not an SQLite database. ", f);
    fclose(f);
    oms_err_clear(&err);
    assert_int_equal(store_open(file, &s, &err), OMS_E_DB);
    assert_null(s);
    assert_string_equal(err.source, file);
    unlink(file);
    rmdir(dir);
}

static void test_store_location_and_package_get(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    struct store_location l;
    assert_int_equal(store_location_get(s, 1, &l), 0);
    assert_int_equal(l.max_quota, 10);
    assert_int_equal(l.quota, 2);
    assert_int_equal(l.quota_drift, 0);
    assert_string_equal(l.scenario_rules, "[\"SELECT_BY_QUOTA\"]");
    struct store_package p;
    assert_int_equal(store_package_get(s, 501, &p), 0);
    assert_int_equal(p.location, 1);
    assert_int_equal(p.status, 100);
    assert_string_equal(p.order_number, "ORD-501");
    assert_int_equal(store_location_get(s, 2, &l), OMS_E_NOENT);
    assert_int_equal(store_package_get(s, 999, &p), OMS_E_NOENT);
    assert_int_equal(store_exists(s, "packages", 502), 1);
    assert_int_equal(store_exists(s, "package_items", 9003), 1);
    assert_int_equal(store_exists(s, "reservations", 77), 1);
    assert_int_equal(store_exists(s, "packages", 999), 0);
    assert_int_equal(store_exists(s, "no_such_table", 1), 0);
    assert_int_equal(store_exists(s, "settings; DROP TABLE packages", 1), 0);
    assert_int_equal(store_exists(s, "packages", 501), 1);
}

static void test_store_insert_duplicates_and_dangling_refused(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    oms_log_set_level(OMS_LOG_ERROR);
    struct store_location loc = {.id = 1, .max_quota = 5};
    struct store_package orphan = {.id = 600, .location = 42, .status = 100};
    struct store_item dup = {.id = 9001, .order_item = 1, .quantity = 1, .status = 100};
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_insert_location(s, &loc), OMS_E_DB);
    assert_int_equal(store_insert_package(s, &orphan), OMS_E_DB); /* foreign key */
    assert_int_equal(store_insert_item(s, 501, &dup), OMS_E_DB);
    assert_int_equal(store_insert_reservation(s, 0, 999, "SKU", 1), OMS_E_DB);
    store_rollback(s);
    struct store_location l;
    assert_int_equal(store_location_get(s, 1, &l), 0);
    assert_int_equal(l.max_quota, 10); /* the original row */
    assert_int_equal(store_exists(s, "packages", 600), 0);
}

static void test_store_rollback_discards(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_package_set_status(s, 501, 1100), 0);
    assert_int_equal(store_location_set_quota(s, 1, 0), 0);
    store_rollback(s);
    store_rollback(s); /* no transaction: harmless */
    struct store_package p;
    assert_int_equal(store_package_get(s, 501, &p), 0);
    assert_int_equal(p.status, 100);
    struct store_location l;
    assert_int_equal(store_location_get(s, 1, &l), 0);
    assert_int_equal(l.quota, 2);
}

static void test_store_items_list_ordered_and_set_status(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_package_set_status(s, 501, 1100), 0);
    assert_int_equal(store_items_set_status(s, 501, 1100), 0);
    assert_int_equal(store_commit(s), 0);
    struct store_item *items = NULL;
    size_t n = 0;
    assert_int_equal(store_items_list(s, 501, &items, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(items[0].id, 9001);
    assert_int_equal(items[1].id, 9002);
    assert_string_equal(items[1].sku, "SKU-2");
    assert_int_equal(items[1].quantity, 2);
    assert_int_equal(items[0].status, 1100);
    assert_int_equal(items[1].status, 1100);
    free(items);
    /* The other package's item is untouched. */
    assert_int_equal(store_items_list(s, 502, &items, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].status, 920);
    free(items);
    /* A package without items. */
    assert_int_equal(store_items_list(s, 999, &items, &n), 0);
    assert_int_equal(n, 0);
    free(items);
    struct store_package p;
    assert_int_equal(store_package_get(s, 501, &p), 0);
    assert_int_equal(p.status, 1100);
}

static void test_store_deletes_count_rows(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    int64_t deleted = -1;
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_reservations_delete(s, 501, &deleted), 0);
    assert_int_equal(deleted, 2);
    assert_int_equal(store_discrepancies_delete(s, 501, &deleted), 0);
    assert_int_equal(deleted, 1);
    assert_int_equal(store_reservations_delete(s, 501, &deleted), 0);
    assert_int_equal(deleted, 0); /* nothing left */
    assert_int_equal(store_discrepancies_delete(s, 501, NULL), 0);
    assert_int_equal(store_commit(s), 0);
    /* Package 502's rows are kept. */
    json_t *doc = store_export(s);
    json_t *p502 = support_find_id(json_object_get(doc, "packages"), 502);
    assert_int_equal(json_array_size(json_object_get(p502, "reservations")), 1);
    assert_int_equal(json_array_size(json_object_get(p502, "discrepancies")), 1);
    json_decref(doc);
}

/* The store writes the counter it is given (the rule that decides it is oms_quota's, tested in
 * test_oms_quota), and only that location's. */
static void test_store_location_set_quota_writes_the_value_given(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    struct store_location l;
    static const int64_t values[] = {0, 7, 1, INT64_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_location_set_quota(s, 1, values[i]), 0);
        assert_int_equal(store_commit(s), 0);
        assert_int_equal(store_location_get(s, 1, &l), 0);
        assert_int_equal(l.quota, values[i]);
    }
}

static void test_store_location_count_packages_by_statuses(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    struct store_package more[] = {{.id = 503, .location = 1, .status = 850},
                                   {.id = 504, .location = 1, .status = 1100}};
    assert_int_equal(store_begin(s), 0);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(store_insert_package(s, &more[i]), 0);
    assert_int_equal(store_commit(s), 0);
    static const int64_t counting[] = {100, 200, 300, 850};
    int64_t count = -1;
    assert_int_equal(store_location_count_packages(s, 1, counting, 4, &count), 0);
    assert_int_equal(count, 2); /* 501 Waiting, 503 Cancellation Waiting */
    static const int64_t oos[] = {920};
    assert_int_equal(store_location_count_packages(s, 1, oos, 1, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(store_location_count_packages(s, 2, counting, 4, &count), 0);
    assert_int_equal(count, 0); /* another location */
    count = -1;
    assert_int_equal(store_location_count_packages(s, 1, counting, 0, &count), 0);
    assert_int_equal(count, 0); /* an empty set counts nothing */
}

/* The count covers every status of the set, however large the set is. */
static void test_store_location_count_packages_large_status_set(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    struct store_package last = {.id = 505, .location = 1, .status = 10999};
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_insert_package(s, &last), 0);
    assert_int_equal(store_commit(s), 0);
    enum { N = 1000 };
    int64_t *set = calloc(N, sizeof(*set));
    assert_non_null(set);
    for (size_t i = 0; i < N; i++)
        set[i] = 10000 + (int64_t)i; /* 10000..10999 */
    int64_t count = -1;
    int rc = store_location_count_packages(s, 1, set, N, &count);
    free(set);
    assert_int_equal(rc, 0);
    assert_int_equal(count, 1); /* package 505 (status 10999, the last of the set) */
}

static void test_store_log_insert_ids_increase(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    int64_t a = 0, b = 0;
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_log_insert(s, 501, 17, "packed-for-refund", 100, 1100, 1000, &a), 0);
    assert_int_equal(store_log_insert(s, 502, 17, "packed-for-refund", 920, 1100, 2000, &b), 0);
    assert_int_equal(store_commit(s), 0);
    assert_true(a > 0);
    assert_true(b > a);
    json_t *doc = store_export(s);
    json_t *entry = json_array_get(json_object_get(doc, "transition_log"), 0);
    json_t *want = json_pack("{s:I, s:i, s:i, s:s, s:i, s:i, s:i}", "id", (json_int_t)a, "package",
                             501, "transition", 17, "slug", "packed-for-refund", "old_status", 100,
                             "new_status", 1100, "at_ms", 1000);
    support_assert_json_equal(entry, want);
    json_decref(want);
    json_decref(doc);
}

static void test_store_subscriptions_insert_get_delete(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    struct store_subscription a = {.event_type = "package.status.packed_for_refund",
                                   .target_url = "http://127.0.0.1:1/hooks/erp",
                                   .additional_headers = "{\"X-Tenant\": \"t1\"}",
                                   .secret_key = "s3cret",
                                   .retry_config = "{\"choice\": \"fixed\", \"countdown\": 2}"};
    struct store_subscription b = {.event_type = "package.status.packed",
                                   .target_url = "http://127.0.0.1:1/hooks/wms"};
    int64_t ida = 0, idb = 0;
    assert_int_equal(store_subscription_insert(s, &a, &ida), 0);
    assert_int_equal(store_subscription_insert(s, &b, &idb), 0);
    assert_true(idb > ida);
    json_t *got = store_subscription_get(s, ida);
    json_t *want = json_pack("{s:I, s:s, s:s, s:{s:s}, s:s, s:{s:s, s:i}}", "id", (json_int_t)ida,
                             "event_type", "package.status.packed_for_refund", "target_url",
                             "http://127.0.0.1:1/hooks/erp", "additional_headers", "X-Tenant", "t1",
                             "secret_key", "s3cret", "retry_countdown_config", "choice", "fixed",
                             "countdown", 2);
    support_assert_json_equal(got, want);
    json_decref(got);
    json_decref(want);
    got = store_subscription_get(s, idb);
    assert_true(json_is_null(json_object_get(got, "secret_key")));
    assert_true(json_is_null(json_object_get(got, "retry_countdown_config")));
    assert_int_equal(json_object_size(json_object_get(got, "additional_headers")), 0);
    json_decref(got);

    json_t *list = store_subscriptions(s, "package.status.packed_for_refund");
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    list = store_subscriptions(s, NULL);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    list = store_subscriptions(s, "no.such.event");
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);

    assert_int_equal(store_subscription_delete(s, ida), 0);
    assert_null(store_subscription_get(s, ida));
    assert_int_equal(store_subscription_delete(s, ida), OMS_E_NOENT);
    assert_int_equal(store_subscription_delete(s, 424242), OMS_E_NOENT);
    assert_null(store_subscription_get(s, 424242));
}

static void outbox_row(struct store *s, const char *kind, int64_t next_ms, int64_t *id)
{
    struct store_outbox_row row = {
        .kind = (char *)kind,
        .method = "POST",
        .url = "http://127.0.0.1:1/hooks/erp",
        .headers = "{\"Content-Type\": \"application/json\"}",
        .body = "{\"event\": {}}",
        .event_uuid = strcmp(kind, "webhook") == 0 ? "0123456789abcdef0123456789abcdef" : NULL,
        .transition_log_id = 1,
        .max_attempts = 3,
        .retry = "{\"choice\": \"fixed\", \"countdown\": 1}",
        .next_attempt_ms = next_ms,
    };
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_outbox_insert(s, &row), 0);
    assert_int_equal(store_commit(s), 0);
    assert_true(row.id > 0);
    *id = row.id;
}

/* store_outbox_due's skip: passes over the row whose id ctx points at. */
static int skip_id(void *ctx, int64_t id)
{
    return id == *(const int64_t *)ctx;
}

static void test_store_outbox_due_and_attempt_states(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    int64_t a = 0, b = 0;
    outbox_row(s, "webhook", 1000, &a);
    outbox_row(s, "omnitron", 1500, &b);

    int64_t pending, delivered, dead, next;
    assert_int_equal(store_outbox_counts(s, &pending, &delivered, &dead, &next), 0);
    assert_int_equal(pending, 2);
    assert_int_equal(delivered + dead, 0);
    assert_int_equal(next, 1000);

    struct store_outbox_row *rows = NULL;
    size_t n = 99;
    assert_int_equal(store_outbox_due(s, 999, 10, NULL, NULL, &rows, &n), 0);
    assert_int_equal(n, 0); /* nothing due yet */
    store_outbox_rows_free(rows, n);
    assert_int_equal(store_outbox_due(s, 2000, 1, NULL, NULL, &rows, &n), 0);
    assert_int_equal(n, 1); /* the limit holds; oldest first */
    assert_int_equal(rows[0].id, a);
    assert_string_equal(rows[0].kind, "webhook");
    assert_string_equal(rows[0].method, "POST");
    assert_string_equal(rows[0].event_uuid, "0123456789abcdef0123456789abcdef");
    assert_int_equal(rows[0].attempts, 0);
    assert_int_equal(rows[0].max_attempts, 3);
    assert_int_equal(rows[0].next_attempt_ms, 1000);
    assert_string_equal(rows[0].retry, "{\"choice\": \"fixed\", \"countdown\": 1}");
    store_outbox_rows_free(rows, n);
    assert_int_equal(store_outbox_due(s, 2000, 10, NULL, NULL, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_null(rows[1].event_uuid);
    store_outbox_rows_free(rows, n);
    /* A skipped row (one on the wire) is passed over; the other is read whole. */
    assert_int_equal(store_outbox_due(s, 2000, 10, skip_id, &a, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, b);
    assert_string_equal(rows[0].kind, "omnitron");
    store_outbox_rows_free(rows, n);

    /* a: fails once (503), retried at 5000; then delivered. */
    struct store_attempt fail1 = {.at_ms = 1000,
                                  .status = 503,
                                  .error = "answered 503",
                                  .elapsed_ms = 12,
                                  .state = "pending",
                                  .next_ms = 5000,
                                  .retry_in_ms = 4000};
    assert_int_equal(store_outbox_record_attempt(s, a, &fail1), 0);
    assert_int_equal(store_outbox_due(s, 2000, 10, NULL, NULL, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, b); /* a is not due until 5000 */
    store_outbox_rows_free(rows, n);
    assert_int_equal(store_outbox_due(s, 5000, 10, NULL, NULL, &rows, &n), 0);
    assert_int_equal(n, 2);
    /* The earliest due first: b (due since its first attempt time) before a (due at 5000). */
    assert_int_equal(rows[0].id, b);
    assert_int_equal(rows[1].id, a);
    assert_int_equal(rows[1].attempts, 1);
    assert_int_equal(rows[1].next_attempt_ms, 5000);
    store_outbox_rows_free(rows, n);
    struct store_attempt ok = {.at_ms = 5000,
                               .status = 200,
                               .error = "",
                               .elapsed_ms = 3,
                               .state = "delivered",
                               .retry_in_ms = -1};
    assert_int_equal(store_outbox_record_attempt(s, a, &ok), 0);

    /* b: a transport failure on its last attempt, dead-lettered. */
    struct store_attempt gone = {.at_ms = 1500,
                                 .status = 0,
                                 .error = "connection refused",
                                 .elapsed_ms = 1,
                                 .state = "dead",
                                 .retry_in_ms = -1};
    assert_int_equal(store_outbox_record_attempt(s, b, &gone), 0);

    assert_int_equal(store_outbox_counts(s, &pending, &delivered, &dead, &next), 0);
    assert_int_equal(pending, 0);
    assert_int_equal(delivered, 1);
    assert_int_equal(dead, 1);
    assert_true(next == INT64_MAX);
    assert_int_equal(store_outbox_due(s, INT64_MAX, 10, NULL, NULL, &rows, &n), 0);
    assert_int_equal(n, 0); /* neither delivered nor dead rows are due again */
    store_outbox_rows_free(rows, n);

    /* A row that no longer exists is ignored. */
    assert_int_equal(store_outbox_record_attempt(s, 424242, &ok), 0);

    json_t *doc = store_export(s);
    json_t *outbox = json_object_get(doc, "outbox");
    assert_int_equal(json_array_size(outbox), 2);
    json_t *ra = support_find_id(outbox, a), *rb = support_find_id(outbox, b);
    assert_string_equal(json_string_value(json_object_get(ra, "state")), "delivered");
    assert_int_equal(json_integer_value(json_object_get(ra, "attempts")), 2);
    assert_int_equal(json_integer_value(json_object_get(ra, "last_status")), 200);
    assert_true(json_is_null(json_object_get(ra, "last_error")));
    assert_true(json_is_object(json_object_get(ra, "headers")));
    assert_true(json_is_object(json_object_get(ra, "retry")));
    json_t *hist = json_object_get(ra, "attempt_history");
    assert_int_equal(json_array_size(hist), 2);
    json_t *want = json_pack("{s:i, s:i, s:s, s:i, s:i}", "at_ms", 1000, "status", 503, "error",
                             "answered 503", "elapsed_ms", 12, "retry_in_ms", 4000);
    support_assert_json_equal(json_array_get(hist, 0), want);
    json_decref(want);
    assert_true(json_is_null(json_object_get(json_array_get(hist, 1), "retry_in_ms")));
    assert_string_equal(json_string_value(json_object_get(rb, "state")), "dead");
    assert_true(json_is_null(json_object_get(rb, "last_status")));
    assert_string_equal(json_string_value(json_object_get(rb, "last_error")), "connection refused");
    assert_int_equal(json_array_size(json_object_get(rb, "attempt_history")), 1);
    json_decref(doc);
}

static void test_store_export_shape(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    json_t *doc = store_export(s);
    static const char *const keys[] = {"locations", "packages", "transition_log", "subscriptions",
                                       "outbox"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!json_is_array(json_object_get(doc, keys[i])))
            fail_msg("export lacks the array \"%s\"", keys[i]);
    json_t *loc = json_array_get(json_object_get(doc, "locations"), 0);
    json_t *want =
        json_pack("{s:i, s:i, s:i, s:i, s:b, s:[s]}", "id", 1, "max_quota", 10, "quota", 2,
                  "available_quota", 8, "quota_drift", 0, "scenario_rules", "SELECT_BY_QUOTA");
    support_assert_json_equal(loc, want); /* SPEC Q-1 */
    json_decref(want);
    json_t *p = support_find_id(json_object_get(doc, "packages"), 501);
    assert_non_null(p);
    assert_int_equal(json_integer_value(json_object_get(p, "location")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 100);
    assert_string_equal(json_string_value(json_object_get(p, "order_number")), "ORD-501");
    json_t *items = json_object_get(p, "items");
    assert_int_equal(json_array_size(items), 2);
    want = json_pack("{s:i, s:i, s:s, s:i, s:i}", "id", 9001, "order_item", 7001, "sku", "SKU-1",
                     "quantity", 1, "status", 100);
    support_assert_json_equal(json_array_get(items, 0), want);
    json_decref(want);
    json_t *res = json_object_get(p, "reservations");
    assert_int_equal(json_array_size(res), 2);
    assert_non_null(support_find_id(res, 77));
    json_t *disc = json_array_get(json_object_get(p, "discrepancies"), 0);
    assert_int_equal(json_integer_value(json_object_get(disc, "item")), 9001);
    assert_string_equal(json_string_value(json_object_get(disc, "kind")), "damaged");
    json_t *p502 = support_find_id(json_object_get(doc, "packages"), 502);
    disc = json_array_get(json_object_get(p502, "discrepancies"), 0);
    assert_true(json_is_null(json_object_get(disc, "item")));
    json_decref(doc);
}

static void test_store_export_drifted_location(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    struct store_location loc = {.id = 3, .max_quota = 1, .quota = 4, .quota_drift = 1};
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_insert_location(s, &loc), 0);
    assert_int_equal(store_commit(s), 0);
    json_t *doc = store_export(s);
    json_t *l = json_array_get(json_object_get(doc, "locations"), 0);
    assert_true(json_is_true(json_object_get(l, "quota_drift")));
    assert_int_equal(json_integer_value(json_object_get(l, "available_quota")), -3);
    assert_int_equal(json_array_size(json_object_get(l, "scenario_rules")), 0);
    json_decref(doc);
}

static void test_store_reset_empties_all_but_settings(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    seed(s);
    struct store_subscription sub = {.event_type = "e", .target_url = "http://127.0.0.1:1/"};
    int64_t id = 0, out = 0;
    assert_int_equal(store_subscription_insert(s, &sub, &id), 0);
    outbox_row(s, "omnitron", 0, &out);
    assert_int_equal(store_setting_set(s, "omnitron_url", "http://127.0.0.1:9/"), 0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_reset(s), 0);
    assert_int_equal(store_commit(s), 0);
    json_t *doc = store_export(s);
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (json_array_size(v) != 0)
            fail_msg("\"%s\" still has %zu row(s) after reset", key, json_array_size(v));
    }
    json_decref(doc);
    char *value = NULL;
    assert_int_equal(store_setting_get(s, "omnitron_url", &value), 0);
    assert_string_equal(value, "http://127.0.0.1:9/");
    free(value);
    /* Identifiers start again after a reset. */
    int64_t again = 0;
    assert_int_equal(store_subscription_insert(s, &sub, &again), 0);
    assert_int_equal(again, id);
}

static void test_store_settings_get_set(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    char *value = (char *)"untouched";
    assert_int_equal(store_setting_get(s, "missing", &value), 0);
    assert_null(value);
    assert_int_equal(store_setting_set(s, "k", "one"), 0);
    assert_int_equal(store_setting_set(s, "k", "two"), 0);
    assert_int_equal(store_setting_get(s, "k", &value), 0);
    assert_string_equal(value, "two");
    free(value);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    for (e = readdir(d); e; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void test_store_open_file_rows_persist(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_store.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128];
    snprintf(file, sizeof(file), "%s/state.db", dir);
    struct store *s = NULL;
    struct oms_err err = {0};
    assert_int_equal(store_open(file, &s, &err), 0);
    store_lock(s);
    seed(s);
    int64_t out = 0;
    outbox_row(s, "webhook", 123, &out);
    assert_int_equal(store_setting_set(s, "profile_overrides", "{}"), 0);
    store_unlock(s);
    store_close(s);

    s = NULL;
    assert_int_equal(store_open(file, &s, &err), 0);
    store_lock(s);
    struct store_package p;
    assert_int_equal(store_package_get(s, 501, &p), 0);
    assert_int_equal(p.status, 100);
    struct store_location l;
    assert_int_equal(store_location_get(s, 1, &l), 0);
    assert_int_equal(l.quota, 2);
    struct store_outbox_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_outbox_due(s, 123, 10, NULL, NULL, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, out);
    store_outbox_rows_free(rows, n);
    char *value = NULL;
    assert_int_equal(store_setting_get(s, "profile_overrides", &value), 0);
    assert_string_equal(value, "{}");
    free(value);
    store_unlock(s);
    store_close(s);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_open_memory_and_close_null),
        cmocka_unit_test(test_store_open_bad_paths_fail),
        cmocka_unit_test_setup_teardown(test_store_location_and_package_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_insert_duplicates_and_dangling_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_rollback_discards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_items_list_ordered_and_set_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_deletes_count_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_location_set_quota_writes_the_value_given, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_location_count_packages_by_statuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_location_count_packages_large_status_set, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_log_insert_ids_increase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_subscriptions_insert_get_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_outbox_due_and_attempt_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_export_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_export_drifted_location, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_reset_empties_all_but_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_settings_get_set, setup, teardown),
        cmocka_unit_test(test_store_open_file_rows_persist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
