/* test_backpressure: a command waits while the outbox backlog (rows never attempted) is at the
 * reference's --max-backlog, and runs when a first attempt ends or when it has waited
 * --max-backlog-wait-ms; a receiver that is down holds nothing back (docs/reference-impl.md,
 * "Backpressure"). The reference runs with a bound of one row, so the second command of a test
 * meets the first command's rows. */
#include "support.h"

#include "oms_recorder.h"
#include "oms_time.h"
#include "reference.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OMNI_TOKEN "omni-token"

struct env {
    struct support_ref r;
    struct reference_config cfg;
    char db[64]; /* "" in memory */
    struct support_receivers rv;
};

static void start(void **state, int64_t wait_ms, int with_file)
{
    struct env *e = calloc(1, sizeof(*e));
    if (with_file) {
        snprintf(e->db, sizeof(e->db), "/tmp/refund-backpressure-XXXXXX");
        int fd = mkstemp(e->db);
        assert_true(fd >= 0);
        close(fd);
    }
    struct oms_err err = {0};
    support_receivers_start(&e->rv, OMNI_TOKEN);
    e->cfg = (struct reference_config){.port = 0,
                                       .profile_path = support_path("profiles/default.json"),
                                       .db_path = e->db[0] ? e->db : NULL,
                                       .max_backlog = 1,
                                       .max_backlog_wait_ms = wait_ms};
    if (reference_start(&e->cfg, &e->r.ref, &err) != 0)
        fail_msg("cannot start the reference: %s", err.message);
    e->r.client = oms_http_client_create();
    e->r.base = reference_url(e->r.ref);
    char *fixture =
        support_printf("{\"omnitron\": {\"url\": \"%s\", \"token\": \"" OMNI_TOKEN "\"},"
                       " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 4}],"
                       " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
                       "   \"items\": [{\"id\": 9001, \"order_item\": 7001, \"sku\": \"SKU-1\"}]},"
                       "  {\"id\": 502, \"location\": 1, \"status\": \"Waiting\","
                       "   \"items\": [{\"id\": 9002, \"order_item\": 7002, \"sku\": \"SKU-2\"}]},"
                       "  {\"id\": 503, \"location\": 1, \"status\": \"Waiting\","
                       "   \"items\": [{\"id\": 9003, \"order_item\": 7003, \"sku\": \"SKU-3\"}]},"
                       "  {\"id\": 504, \"location\": 1, \"status\": \"Waiting\","
                       "   \"items\": [{\"id\": 9004, \"order_item\": 7004, \"sku\": \"SKU-4\"}]}],"
                       " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
                       "   \"target_url\": \"%s/hooks/erp\","
                       "   \"retry_countdown_config\": {\"choice\": \"fixed\", \"countdown\": 60,"
                       "     \"max_retries\": 3}}]}",
                       oms_recorder_url(e->rv.omnitron), oms_recorder_url(e->rv.webhook));
    support_load(e->r.client, e->r.base, fixture);
    free(fixture);
    *state = e;
}

static int setup_long_wait(void **state)
{
    start(state, 30000, 0);
    return 0;
}

static int setup_short_wait(void **state)
{
    start(state, 300, 0);
    return 0;
}

static int setup_file(void **state)
{
    start(state, 300, 1);
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    support_ref_stop(&e->r);
    support_receivers_stop(&e->rv);
    if (e->db[0]) {
        char path[80];
        unlink(e->db);
        snprintf(path, sizeof(path), "%s-wal", e->db);
        unlink(path);
        snprintf(path, sizeof(path), "%s-shm", e->db);
        unlink(path);
    }
    free(e);
    return 0;
}

/* Sends the command for the package; returns how long its 204 took (ms). */
static int64_t command(struct env *e, long long package)
{
    char body[80];
    snprintf(body, sizeof(body), "{\"package\": %lld, \"transition\": 17}", package);
    struct oms_http_exchange x = {0};
    int64_t begin = oms_time_mono_ms();
    long status = support_command(e->r.client, &x, e->r.base, package, body);
    int64_t took = oms_time_mono_ms() - begin;
    if (status != 204)
        fail_msg("package %lld: expected 204, found %ld: %s", package, status,
                 x.resp_body.len ? oms_buf_str(&x.resp_body) : "");
    oms_http_exchange_cleanup(&x);
    return took;
}

/* The webhook row of the package's transition in state (borrowed), found through its body. */
static json_t *webhook_row(const json_t *state, long long package)
{
    char needle[40];
    snprintf(needle, sizeof(needle), "\"id\": %lld", package);
    char compact[40];
    snprintf(compact, sizeof(compact), "\"id\":%lld", package);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(state, "outbox"), i, row)
    {
        const char *kind = json_string_value(json_object_get(row, "kind"));
        const char *body = json_string_value(json_object_get(row, "body"));
        if (kind && strcmp(kind, "webhook") == 0 && body &&
            (strstr(body, needle) || strstr(body, compact)))
            return row;
    }
    return NULL;
}

static long long attempts_of(const json_t *row)
{
    return row ? (long long)json_integer_value(json_object_get(row, "attempts")) : -1;
}

/* Packed for Refund's code in profiles/default.json. */
#define PACKED_FOR_REFUND 1100

static long long status_of(const json_t *state, long long package)
{
    json_t *pkg = support_find_id(json_object_get(state, "packages"), package);
    return (long long)json_integer_value(json_object_get(pkg, "status"));
}

/* The second command meets the first command's webhook on the wire (held 400 ms by the
 * receiver): it is held until that first attempt ends. Without the bound it would run at once,
 * and the state read right after its 204 would show the first webhook with no attempt yet. */
static void test_a_command_waits_for_the_first_attempts_to_end(void **state)
{
    struct env *e = *state;
    support_behave(e->rv.webhook, "{\"faults\": [{\"delay_ms\": 400, \"times\": 10}]}");
    command(e, 501);
    command(e, 502);
    json_t *s = support_get_state(e->r.client, e->r.base);
    json_t *first = webhook_row(s, 501);
    assert_non_null(first);
    assert_true(attempts_of(first) >= 1);
    assert_int_equal(status_of(s, 502), PACKED_FOR_REFUND);
    json_decref(s);

    /* The held command is journaled once, with its answer. */
    struct oms_http_exchange x = {0};
    assert_int_equal(
        support_http(e->r.client, &x, "GET", e->r.base, "/_fixture/journal", NULL, NULL, 0), 200);
    json_t *j = support_json(&x);
    oms_http_exchange_cleanup(&x);
    json_t *commands = json_object_get(j, "commands");
    assert_int_equal(json_array_size(commands), 2);
    json_t *second = json_array_get(commands, 1);
    assert_non_null(strstr(json_string_value(json_object_get(second, "path")), "/502/"));
    assert_int_equal(json_integer_value(json_object_get(second, "status")), 204);
    json_decref(j);
}

struct sender {
    struct env *e;
    long long package;
    int64_t delay_ms;
};

static void *send_later(void *arg)
{
    struct sender *sd = arg;
    oms_time_sleep_ms(sd->delay_ms);
    struct oms_http_client *c = oms_http_client_create();
    char body[80];
    snprintf(body, sizeof(body), "{\"package\": %lld, \"transition\": 17}", sd->package);
    struct oms_http_exchange x = {0};
    long status = support_command(c, &x, sd->e->r.base, sd->package, body);
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    return (void *)(intptr_t)status;
}

/* Held commands run in the order they arrived: 502, 503 and 504 are sent 100 ms apart on
 * connections of their own while 501's webhook is held on the wire, and the transition log has
 * them in that order. */
static void test_held_commands_run_in_arrival_order(void **state)
{
    struct env *e = *state;
    support_behave(e->rv.webhook, "{\"faults\": [{\"delay_ms\": 400, \"times\": 10}]}");
    command(e, 501);
    /* Their threads start last first, so that a server looking at its newest connection first
     * would not pass by luck. */
    struct sender sd[3] = {{e, 502, 0}, {e, 503, 100}, {e, 504, 200}};
    pthread_t t[3];
    for (int i = 2; i >= 0; i--)
        assert_int_equal(pthread_create(&t[i], NULL, send_later, &sd[i]), 0);
    for (int i = 0; i < 3; i++) {
        void *status = NULL;
        pthread_join(t[i], &status);
        assert_int_equal((intptr_t)status, 204);
    }
    json_t *s = support_get_state(e->r.client, e->r.base);
    json_t *log = json_object_get(s, "transition_log");
    assert_int_equal(json_array_size(log), 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(log, i), "package")),
                         501 + (long long)i);
    json_decref(s);
}

/* A receiver that never answers keeps the first attempts on the wire: the second command waits
 * its --max-backlog-wait-ms (300 here) and then runs, so a stuck receiver slows commands but
 * never stops them. */
static void test_a_stuck_receiver_delays_a_command_by_the_wait_at_most(void **state)
{
    struct env *e = *state;
    support_behave(e->rv.webhook, "{\"faults\": [{\"hang\": true, \"times\": 10}]}");
    command(e, 501);
    int64_t took = command(e, 502);
    assert_true(took >= 300);
    json_t *s = support_get_state(e->r.client, e->r.base);
    assert_int_equal(status_of(s, 502), PACKED_FOR_REFUND);
    assert_int_equal(attempts_of(webhook_row(s, 501)), 0);
    json_decref(s);
}

/* A row that failed and waits for its retry (60 s here) is not backlog: a receiver that is down
 * holds no command back, where the 30 s wait would otherwise show. */
static void test_a_failed_row_waiting_for_its_retry_holds_nothing(void **state)
{
    struct env *e = *state;
    support_behave(e->rv.webhook, "{\"status\": 503}");
    command(e, 501);
    json_t *d = support_drain(e->r.client, e->r.base, 2000);
    assert_int_equal(json_integer_value(json_object_get(d, "pending")), 1);
    json_decref(d);
    int64_t took = command(e, 502);
    assert_true(took < 30000);
    json_t *s = support_get_state(e->r.client, e->r.base);
    assert_int_equal(attempts_of(webhook_row(s, 501)), 1);
    assert_int_equal(status_of(s, 502), PACKED_FOR_REFUND);
    json_decref(s);
}

/* The backlog outlives a restart: a database file keeps a webhook row that never got an answer
 * (its attempt abandoned by the stop), the restarted reference counts it, and the next command
 * waits for it (300 ms, the receiver still stuck) instead of running at once. */
static void test_a_restart_counts_the_backlog_kept_in_the_file(void **state)
{
    struct env *e = *state;
    support_behave(e->rv.webhook, "{\"faults\": [{\"hang\": true, \"times\": 10}]}");
    command(e, 501);
    /* Its webhook is on the wire, unanswered, when the reference stops. */
    oms_http_client_destroy(e->r.client);
    reference_stop(e->r.ref);
    struct oms_err err = {0};
    if (reference_start(&e->cfg, &e->r.ref, &err) != 0)
        fail_msg("cannot restart the reference: %s", err.message);
    e->r.client = oms_http_client_create();
    e->r.base = reference_url(e->r.ref);
    int64_t took = command(e, 502);
    assert_true(took >= 300);
    json_t *s = support_get_state(e->r.client, e->r.base);
    assert_int_equal(status_of(s, 502), PACKED_FOR_REFUND);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_command_waits_for_the_first_attempts_to_end,
                                        setup_long_wait, teardown),
        cmocka_unit_test_setup_teardown(test_held_commands_run_in_arrival_order, setup_long_wait,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_stuck_receiver_delays_a_command_by_the_wait_at_most,
                                        setup_short_wait, teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_row_waiting_for_its_retry_holds_nothing,
                                        setup_long_wait, teardown),
        cmocka_unit_test_setup_teardown(test_a_restart_counts_the_backlog_kept_in_the_file,
                                        setup_file, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
