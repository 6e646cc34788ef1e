/* test_crash: crash safety of the outbox (SPEC O-1, O-2, C-6). oms-reference runs with --db FILE
 * while commands arrive and both receivers are down; it is killed with SIGKILL mid-stream and
 * restarted on the same file; once the receivers are back every event of every committed
 * transition arrives, and no transition is half-applied. Counts: commands answered 204 ==
 * transitions in the store == distinct webhook uuids received; zero lost. */
#include "proc.h"
#include "support.h"

#include "mock_omnitron.h"
#include "mock_webhook.h"
#include "oms_buf.h"
#include "oms_time.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define PACKAGES     400
#define KILL_AFTER   130 /* commands answered 204 before the kill */
#define DRAIN_MS     60000
#define SEND_TIMEOUT 5000

struct sender {
    char base[128];
    atomic_int answered_204;
    atomic_int unknown; /* no answer: the process died while the command was in flight */
    atomic_int other;   /* any other status: a failure of the test */
    atomic_int done;
};

/* Sends the command for each package in turn until the server stops answering. */
static void *send_commands(void *arg)
{
    struct sender *s = arg;
    struct oms_http_client *c = oms_http_client_create();
    int failures = 0;
    for (int id = 1; id <= PACKAGES && failures < 2; id++) {
        struct oms_http_exchange x = {0};
        char body[96];
        snprintf(body, sizeof(body), "{\"package\": %d, \"transition\": 17}", id);
        x.timeout_ms = SEND_TIMEOUT;
        long status = support_command(c, &x, s->base, id, body);
        oms_http_exchange_cleanup(&x);
        if (status == 204) {
            atomic_fetch_add(&s->answered_204, 1);
        } else if (status == 0) {
            atomic_fetch_add(&s->unknown, 1);
            failures++;
        } else {
            atomic_fetch_add(&s->other, 1);
        }
    }
    oms_http_client_destroy(c);
    atomic_store(&s->done, 1);
    return NULL;
}

static char *fixture(const char *omnitron_url, const char *webhook_url)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_printf(&b,
                   "{\"omnitron\": {\"url\": \"%s\", \"token\": \"t\"},"
                   " \"locations\": [{\"id\": 1, \"max_quota\": 100000, \"quota\": %d}],"
                   " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
                   " \"target_url\": \"%s/hooks/crash\", \"retry_countdown_config\":"
                   " {\"choice\": \"fixed\", \"countdown\": 0.05, \"max_retries\": 100}}],"
                   " \"profile\": {\"delivery\": {\"omnitron_retry\":"
                   " {\"choice\": \"fixed\", \"countdown\": 0.05, \"max_retries\": 100}}},"
                   " \"packages\": [",
                   omnitron_url, PACKAGES, webhook_url);
    for (int id = 1; id <= PACKAGES; id++)
        oms_buf_printf(&b,
                       "%s{\"id\": %d, \"location\": 1, \"status\": \"Waiting\", \"items\":"
                       " [{\"id\": %d, \"order_item\": %d}, {\"id\": %d, \"order_item\": %d}],"
                       " \"reservations\": [{\"sku\": \"S\"}], \"discrepancies\": [{\"kind\": "
                       "\"missing\"}]}",
                       id > 1 ? ", " : "", id, 2 * id, 20000 + 2 * id, 2 * id + 1,
                       20000 + 2 * id + 1);
    oms_buf_puts(&b, "]}");
    return oms_buf_take(&b, NULL);
}

static void start_reference(struct proc *p)
{
    const char *argv[] = {"oms-reference", "--port", "0", "--db", proc_temp_db, NULL};
    proc_spawn(p, argv, 0);
    proc_wait_listening(p, "oms-reference");
}

static void set_down(struct oms_recorder *r, int down)
{
    json_t *doc = json_pack("{s:b}", "down", down);
    struct oms_err err = {0};
    assert_int_equal(oms_recorder_configure(r, doc, &err), 0);
    json_decref(doc);
}

static void test_kill_while_receivers_are_down_loses_nothing(void **state)
{
    (void)state;
    struct oms_err err = {0};
    struct oms_recorder *hooks = NULL, *omnitron = NULL;
    struct mock_webhook_config wc = {0};
    struct mock_omnitron_config oc = {.token = "t"};
    assert_int_equal(mock_webhook_start(&wc, &hooks, &err), 0);
    assert_int_equal(mock_omnitron_start(&oc, &omnitron, &err), 0);
    set_down(hooks, 1);
    set_down(omnitron, 1);

    proc_make_temp_db();
    struct proc ref;
    start_reference(&ref);
    struct oms_http_client *c = oms_http_client_create();
    char *fx = fixture(oms_recorder_url(omnitron), oms_recorder_url(hooks));
    support_load(c, ref.url, fx);
    free(fx);

    /* Commands arrive; the receivers refuse every delivery; the process is killed mid-stream. */
    struct sender s = {0};
    snprintf(s.base, sizeof(s.base), "%s", ref.url);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, send_commands, &s), 0);
    int64_t deadline = oms_time_mono_ms() + 60000;
    while (atomic_load(&s.answered_204) < KILL_AFTER && !atomic_load(&s.done) &&
           oms_time_mono_ms() < deadline)
        oms_time_sleep_ms(1);
    assert_int_equal(kill(ref.pid, SIGKILL), 0);
    int status = 0;
    assert_true(proc_wait_exit(ref.pid, 10000, &status));
    assert_true(WIFSIGNALED(status));
    close(ref.out_fd);
    pthread_join(thread, NULL);
    int ok = atomic_load(&s.answered_204), unknown = atomic_load(&s.unknown);
    assert_int_equal(atomic_load(&s.other), 0);
    assert_true(ok >= KILL_AFTER);
    assert_true(ok < PACKAGES); /* the kill landed while commands were still arriving */
    print_message("crash: %d commands answered 204, %d unanswered when killed\n", ok, unknown);

    /* Restart on the same file; the receivers come back; everything pending is delivered. */
    start_reference(&ref);
    set_down(hooks, 0);
    set_down(omnitron, 0);
    json_t *drained = support_drain(c, ref.url, DRAIN_MS);
    assert_true(json_is_true(json_object_get(drained, "drained")));
    json_decref(drained);
    json_t *st = support_get_state(c, ref.url);

    /* The store: each package is wholly transitioned (with its log entry, items, deletions) or
     * wholly untouched. */
    json_t *log = json_object_get(st, "transition_log");
    int transitions = (int)json_array_size(log);
    int moved = 0;
    size_t i;
    json_t *pkg;
    json_array_foreach(json_object_get(st, "packages"), i, pkg)
    {
        long long id = json_integer_value(json_object_get(pkg, "id"));
        int is_moved = json_integer_value(json_object_get(pkg, "status")) == 1100;
        int logged = 0;
        size_t k;
        json_t *e;
        json_array_foreach(log, k, e)
        {
            logged += json_integer_value(json_object_get(e, "package")) == id;
        }
        json_t *it;
        json_array_foreach(json_object_get(pkg, "items"), k, it)
        {
            assert_int_equal(json_integer_value(json_object_get(it, "status")),
                             is_moved ? 1100 : 100);
        }
        assert_int_equal(logged, is_moved);
        assert_int_equal(json_array_size(json_object_get(pkg, "reservations")), is_moved ? 0 : 1);
        assert_int_equal(json_array_size(json_object_get(pkg, "discrepancies")), is_moved ? 0 : 1);
        moved += is_moved;
    }
    assert_int_equal(moved, transitions);
    /* SPEC Q-4: the counter agrees with the counting (Waiting) packages. */
    json_t *loc = json_array_get(json_object_get(st, "locations"), 0);
    assert_int_equal(json_integer_value(json_object_get(loc, "quota")), PACKAGES - transitions);

    /* Every 204 was committed; at most the commands in flight at the kill committed unanswered. */
    print_message("crash: %d transitions in the store after the restart\n", transitions);
    assert_true(transitions >= ok);
    assert_true(transitions <= ok + unknown);

    /* The outbox: two rows per transition, all delivered. */
    size_t webhook_rows = 0, omnitron_rows = 0;
    json_t *row;
    json_array_foreach(json_object_get(st, "outbox"), i, row)
    {
        assert_string_equal(json_string_value(json_object_get(row, "state")), "delivered");
        const char *kind = json_string_value(json_object_get(row, "kind"));
        webhook_rows += strcmp(kind, "webhook") == 0;
        omnitron_rows += strcmp(kind, "omnitron") == 0;
    }
    assert_int_equal(webhook_rows, (size_t)transitions);
    assert_int_equal(omnitron_rows, (size_t)transitions);

    /* The receivers: one distinct uuid per transition (a delivery interrupted by the kill may
     * arrive twice - at least once - but never a uuid for nothing, and none missing). */
    json_t *received = oms_recorder_journal(hooks, "/hooks/crash");
    json_t *uuids = json_object();
    json_t *e;
    json_array_foreach(received, i, e)
    {
        if (json_integer_value(json_object_get(e, "answered")) != 200)
            continue;
        const char *u = json_string_value(
            json_object_get(json_object_get(json_object_get(e, "json"), "event"), "uuid"));
        assert_non_null(u);
        json_object_set_new(uuids, u, json_true());
    }
    json_array_foreach(json_object_get(st, "outbox"), i, row)
    {
        const char *u = json_string_value(json_object_get(row, "event_uuid"));
        if (u)
            assert_non_null(json_object_get(uuids, u));
    }
    print_message("crash: %zu distinct webhook uuids received\n", json_object_size(uuids));
    assert_int_equal(json_object_size(uuids), (size_t)transitions);

    json_t *informed = oms_recorder_journal(omnitron, NULL);
    json_t *items = json_object();
    json_array_foreach(informed, i, e)
    {
        if (json_integer_value(json_object_get(e, "answered")) != 200)
            continue;
        size_t k;
        json_t *item;
        json_array_foreach(json_object_get(json_object_get(e, "json"), "orderitem_set"), k, item)
        {
            char key[32];
            snprintf(key, sizeof(key), "%lld",
                     (long long)json_integer_value(json_object_get(item, "id")));
            json_object_set_new(items, key, json_true());
        }
    }
    assert_int_equal(json_object_size(items), (size_t)(2 * transitions));

    json_decref(items);
    json_decref(informed);
    json_decref(uuids);
    json_decref(received);
    json_decref(st);
    proc_stop(&ref, "oms-reference");
    oms_http_client_destroy(c);
    oms_recorder_stop(hooks);
    oms_recorder_stop(omnitron);
}

/* A scenario clock is part of the fixture a database keeps: restarted on it, the reference still
 * skips a retry countdown of an hour by moving its clock (the crash scenarios rely on it). */
static void test_virtual_clock_survives_a_restart(void **state)
{
    (void)state;
    struct oms_err err = {0};
    struct oms_recorder *hooks = NULL;
    struct mock_webhook_config wc = {0};
    assert_int_equal(mock_webhook_start(&wc, &hooks, &err), 0);
    json_t *fault = json_pack("{s:[{s:i, s:i}]}", "faults", "status", 500, "times", 1);
    assert_int_equal(oms_recorder_configure(hooks, fault, &err), 0);
    json_decref(fault);

    proc_make_temp_db();
    struct proc ref;
    start_reference(&ref);
    struct oms_http_client *c = oms_http_client_create();
    char *fx =
        support_printf("{\"clock\": {\"mode\": \"virtual\"},"
                       " \"profile\": {\"sync_remote_order_status_default\": false},"
                       " \"locations\": [{\"id\": 1, \"max_quota\": 5, \"quota\": 1}],"
                       " \"packages\": [{\"id\": 7, \"location\": 1, \"status\": \"Waiting\"}],"
                       " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
                       " \"target_url\": \"%s/hooks/clock\", \"retry_countdown_config\":"
                       " {\"choice\": \"fixed\", \"countdown\": 3600, \"max_retries\": 3}}]}",
                       oms_recorder_url(hooks));
    support_load(c, ref.url, fx);
    free(fx);
    struct oms_http_exchange x = {0};
    assert_int_equal(support_command(c, &x, ref.url, 7, "{\"package\": 7, \"transition\": 17}"),
                     204);
    oms_http_exchange_cleanup(&x);
    /* The first attempt fails, and once the reference has recorded it the next is an hour away
     * on the scenario clock. (Killed before it records the attempt, the reference would rightly
     * send the call again at once.) */
    int64_t deadline = oms_time_mono_ms() + 10000;
    json_int_t attempts = 0;
    while (attempts < 1 && oms_time_mono_ms() < deadline) {
        json_t *st = support_get_state(c, ref.url);
        json_t *row = json_array_get(json_object_get(st, "outbox"), 0);
        attempts = json_integer_value(json_object_get(row, "attempts"));
        json_decref(st);
        if (attempts < 1)
            oms_time_sleep_ms(5);
    }
    assert_int_equal(attempts, 1);
    json_t *seen = oms_recorder_journal(hooks, NULL);
    assert_int_equal(json_array_size(seen), 1);
    json_decref(seen);

    assert_int_equal(kill(ref.pid, SIGKILL), 0);
    int status = 0;
    assert_true(proc_wait_exit(ref.pid, 10000, &status));
    close(ref.out_fd);
    start_reference(&ref);
    json_t *drained = support_drain(c, ref.url, 3000);
    assert_true(json_is_true(json_object_get(drained, "drained")));
    assert_true(json_integer_value(json_object_get(drained, "clock_advanced_ms")) > 3000000);
    json_decref(drained);
    json_t *calls = oms_recorder_journal(hooks, NULL);
    assert_int_equal(json_array_size(calls), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(calls, 1), "answered")),
                     200);
    /* SPEC O-2: the same event, before and after the restart. */
    const char *u0 = json_string_value(json_object_get(
        json_object_get(json_object_get(json_array_get(calls, 0), "json"), "event"), "uuid"));
    const char *u1 = json_string_value(json_object_get(
        json_object_get(json_object_get(json_array_get(calls, 1), "json"), "event"), "uuid"));
    assert_non_null(u0);
    assert_non_null(u1);
    assert_string_equal(u0, u1);
    json_decref(calls);
    proc_stop(&ref, "oms-reference");
    oms_http_client_destroy(c);
    oms_recorder_stop(hooks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kill_while_receivers_are_down_loses_nothing, proc_teardown),
        cmocka_unit_test_teardown(test_virtual_clock_survives_a_restart, proc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
