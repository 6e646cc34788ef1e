/* test_standalone: the three programs as separate processes - oms-reference, mock-omnitron and
 * mock-webhook started with --port 0, one command end to end across them, a clean exit 0 on
 * SIGTERM, state kept across a restart with --db, exit code 2 for bad options, and a receiver's
 * journal limit too small for a scenario reported as an environment error. */
#include "capture.h"
#include "proc.h"
#include "support.h"

#include "mock_omnitron.h"
#include "oms_crypto.h"
#include "oms_time.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* GET base+path as JSON (new reference); fails unless 200. */
static json_t *get_json(struct oms_http_client *c, const char *base, const char *path)
{
    struct oms_http_exchange x = {0};
    long status = support_http(c, &x, "GET", base, path, NULL, NULL, 0);
    json_t *doc = support_json(&x);
    oms_http_exchange_cleanup(&x);
    if (status != 200 || !doc)
        fail_msg("GET %s%s: %ld", base, path, status);
    return doc;
}

/* Starts mock-omnitron, mock-webhook (with the given arguments) and oms-reference --port 0, all
 * three at once, and waits until each listens. */
static void start_three(struct proc *omni, const char *const *omni_argv, struct proc *hook,
                        const char *const *hook_argv, struct proc *ref)
{
    static const char *const ref_argv[] = {"oms-reference", "--port", "0", NULL};
    proc_spawn(omni, omni_argv, 0);
    proc_spawn(hook, hook_argv, 0);
    proc_spawn(ref, ref_argv, 0);
    proc_wait_listening(omni, "mock-omnitron");
    proc_wait_listening(hook, "mock-webhook");
    proc_wait_listening(ref, "oms-reference");
}

/* One command end to end across three processes, each then stopped by SIGTERM with exit 0. */
static void test_three_processes_end_to_end(void **state)
{
    (void)state;
    struct proc omni, hook, ref;
    static const char *const omni_argv[] = {"mock-omnitron", "--port", "0",
                                            "--token",       "omni",   NULL};
    static const char *const hook_argv[] = {"mock-webhook", "--port", "0", NULL};
    start_three(&omni, omni_argv, &hook, hook_argv, &ref);

    struct oms_http_client *c = oms_http_client_create();
    char *fixture =
        support_printf("{\"omnitron\": {\"url\": \"%s\", \"token\": \"omni\"},"
                       " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1}],"
                       " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
                       "   \"items\": [{\"id\": 9001, \"order_item\": 7001, \"sku\": \"SKU-1\"}]}],"
                       " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
                       "   \"target_url\": \"%s/hooks/erp\", \"secret_key\": \"k\","
                       "   \"additional_headers\": {\"X-Tenant\": \"acme\"}}]}",
                       omni.url, hook.url);
    support_load(c, ref.url, fixture);
    free(fixture);
    struct oms_http_exchange x = {0};
    assert_int_equal(support_command(c, &x, ref.url, 501, "{\"package\": 501, \"transition\": 17}"),
                     204);
    oms_http_exchange_cleanup(&x);
    json_t *d = support_drain(c, ref.url, 15000);
    assert_true(json_is_true(json_object_get(d, "drained")));
    assert_int_equal(json_integer_value(json_object_get(d, "delivered")), 2);
    json_decref(d);

    json_t *j = get_json(c, omni.url, "/__journal");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    json_t *patch = json_array_get(json_object_get(j, "requests"), 0);
    assert_string_equal(json_string_value(json_object_get(patch, "method")), "PATCH");
    assert_int_equal(json_integer_value(json_object_get(patch, "answered")), 200);
    json_t *expected =
        json_pack("{s:[{s:i, s:s}]}", "orderitem_set", "id", 7001, "status", "packed_for_refund");
    support_assert_json_equal(json_object_get(patch, "json"), expected);
    json_decref(expected);
    json_decref(j);

    j = get_json(c, hook.url, "/__journal");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    json_t *post = json_array_get(json_object_get(j, "requests"), 0);
    assert_string_equal(json_string_value(json_object_get(post, "path")), "/hooks/erp");
    json_t *headers = json_object_get(post, "headers");
    assert_string_equal(json_string_value(json_object_get(headers, "x-tenant")), "acme");
    const char *body = json_string_value(json_object_get(post, "body"));
    char mac[65], sig[80];
    oms_hmac_sha256_hex("k", 1, body, strlen(body), mac);
    snprintf(sig, sizeof(sig), "sha256=%s", mac);
    assert_string_equal(json_string_value(json_object_get(headers, "x-akinon-signature")), sig);
    json_decref(j);

    json_t *s = support_get_state(c, ref.url);
    json_t *pkg = support_find_id(json_object_get(s, "packages"), 501);
    assert_int_equal(json_integer_value(json_object_get(pkg, "status")), 1100);
    json_decref(s);
    oms_http_client_destroy(c);

    proc_stop(&ref, "oms-reference");
    proc_stop(&omni, "mock-omnitron");
    proc_stop(&hook, "mock-webhook");
}

/* --db FILE: the transition, the package status, the profile overrides and the Omnitron settings
 * of the last fixture survive a SIGTERM and a restart on the same file. */
static void test_db_survives_restart(void **state)
{
    (void)state;
    proc_make_temp_db();
    const char *db = proc_temp_db;
    const char *const argv[] = {"oms-reference", "--port", "0", "--db", db, NULL};

    struct proc ref;
    proc_spawn(&ref, argv, 0);
    proc_wait_listening(&ref, "oms-reference");
    struct oms_http_client *c = oms_http_client_create();
    support_load(c, ref.url,
                 "{\"profile\": {\"sync_remote_order_status_default\": false},"
                 " \"omnitron\": {\"url\": \"http://127.0.0.1:9\", \"token\": \"persisted\"},"
                 " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 2}],"
                 " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
                 "   \"items\": [{\"id\": 9001, \"order_item\": 7001}],"
                 "   \"reservations\": [{\"id\": 1, \"sku\": \"S\"}]},"
                 "  {\"id\": 502, \"location\": 1, \"status\": \"Waiting\","
                 "   \"items\": [{\"id\": 9002, \"order_item\": 7002}]}]}");
    struct oms_http_exchange x = {0};
    assert_int_equal(support_command(c, &x, ref.url, 501, "{\"package\": 501, \"transition\": 17}"),
                     204);
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    proc_stop(&ref, "oms-reference (first run)");

    proc_spawn(&ref, argv, 0);
    proc_wait_listening(&ref, "oms-reference (second run)");
    c = oms_http_client_create();
    json_t *s = support_get_state(c, ref.url);
    json_t *p501 = support_find_id(json_object_get(s, "packages"), 501);
    assert_int_equal(json_integer_value(json_object_get(p501, "status")), 1100);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(p501, "items"), 0), "status")),
                     1100);
    assert_int_equal(json_array_size(json_object_get(p501, "reservations")), 0);
    json_t *p502 = support_find_id(json_object_get(s, "packages"), 502);
    assert_int_equal(json_integer_value(json_object_get(p502, "status")), 100);
    json_t *loc = support_find_id(json_object_get(s, "locations"), 1);
    assert_int_equal(json_integer_value(json_object_get(loc, "quota")), 1);
    json_t *log = json_object_get(s, "transition_log");
    assert_int_equal(json_array_size(log), 1);
    json_t *entry = json_array_get(log, 0);
    assert_int_equal(json_integer_value(json_object_get(entry, "package")), 501);
    assert_int_equal(json_integer_value(json_object_get(entry, "old_status")), 100);
    assert_int_equal(json_integer_value(json_object_get(entry, "new_status")), 1100);
    assert_int_equal(json_integer_value(json_object_get(entry, "transition")), 17);
    assert_string_equal(json_string_value(json_object_get(entry, "slug")), "packed-for-refund");
    json_decref(s);

    /* The profile overrides survived ... */
    json_t *profile = get_json(c, ref.url, "/_fixture/profile");
    assert_true(json_is_false(json_object_get(profile, "sync_remote_order_status_default")));
    json_decref(profile);
    /* ... and so did the Omnitron settings: an explicit sync uses them. */
    assert_int_equal(support_command(c, &x, ref.url, 502,
                                     "{\"package\": 502, \"transition\": 17,"
                                     " \"sync_remote_order_status\": true}"),
                     204);
    oms_http_exchange_cleanup(&x);
    s = support_get_state(c, ref.url);
    json_t *row = json_array_get(json_object_get(s, "outbox"), 0);
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "url")),
                        "http://127.0.0.1:9/api/i1/order_items/bulk_status_update/");
    /* Shown redacted: the Omnitron token never leaves in a GET. */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(row, "headers"), "Authorization")),
        "***");
    json_decref(s);
    oms_http_client_destroy(c);
    proc_stop(&ref, "oms-reference (second run)");
}

/* Reference docs: "With a database file, outbox rows left pending by an earlier run are delivered
 * again" (SPEC O-1: nothing is lost). The first run's delivery fails with 503; the second run
 * delivers the same row once Omnitron answers again. */
static void test_db_pending_outbox_is_delivered_after_restart(void **state)
{
    (void)state;
    struct oms_recorder *omni = NULL;
    struct oms_err err = {0};
    struct mock_omnitron_config oc = {.token = "omni"};
    assert_int_equal(mock_omnitron_start(&oc, &omni, &err), 0);
    /* A fault rule: mock-omnitron's own checks decide the default answer. */
    json_t *behaviour = json_pack("{s:[{s:i, s:i}]}", "faults", "status", 503, "times", 1000);
    assert_int_equal(oms_recorder_configure(omni, behaviour, &err), 0);
    json_decref(behaviour);

    proc_make_temp_db();
    const char *db = proc_temp_db;
    const char *const argv[] = {"oms-reference", "--port", "0", "--db", db, NULL};
    struct proc ref;
    proc_spawn(&ref, argv, 0);
    proc_wait_listening(&ref, "oms-reference");
    struct oms_http_client *c = oms_http_client_create();
    char *fixture =
        support_printf("{\"omnitron\": {\"url\": \"%s\", \"token\": \"omni\"},"
                       " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1}],"
                       " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
                       "   \"items\": [{\"id\": 9001, \"order_item\": 7001}]}]}",
                       oms_recorder_url(omni));
    support_load(c, ref.url, fixture);
    free(fixture);
    struct oms_http_exchange x = {0};
    assert_int_equal(support_command(c, &x, ref.url, 501, "{\"package\": 501, \"transition\": 17}"),
                     204);
    oms_http_exchange_cleanup(&x);
    /* Wait for the failed first attempt to be recorded. */
    int64_t deadline = oms_time_mono_ms() + START_TIMEOUT_MS;
    for (;;) {
        json_t *s = support_get_state(c, ref.url);
        json_t *row = json_array_get(json_object_get(s, "outbox"), 0);
        long long attempts = json_integer_value(json_object_get(row, "attempts"));
        const char *st = json_string_value(json_object_get(row, "state"));
        int ready = attempts >= 1 && st && strcmp(st, "pending") == 0;
        json_decref(s);
        if (ready)
            break;
        if (oms_time_mono_ms() > deadline)
            fail_msg("the first delivery attempt was never recorded as pending (Omnitron got %zu "
                     "request(s))",
                     oms_recorder_count(omni));
        oms_time_sleep_ms(20);
    }
    oms_http_client_destroy(c);
    proc_stop(&ref, "oms-reference (first run)");
    size_t first_run = oms_recorder_count(omni);
    assert_true(first_run >= 1);

    oms_recorder_reset(omni); /* answers 200 again, journal empty */
    proc_spawn(&ref, argv, 0);
    proc_wait_listening(&ref, "oms-reference (second run)");
    c = oms_http_client_create();
    json_t *d = support_drain(c, ref.url, 30000);
    assert_true(json_is_true(json_object_get(d, "drained")));
    assert_int_equal(json_integer_value(json_object_get(d, "delivered")), 1);
    json_decref(d);
    json_t *s = support_get_state(c, ref.url);
    json_t *row = json_array_get(json_object_get(s, "outbox"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "state")), "delivered");
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), first_run + 1);
    json_decref(s);
    json_t *journal = oms_recorder_journal(omni, NULL);
    assert_int_equal(json_array_size(journal), 1);
    json_t *expected =
        json_pack("{s:[{s:i, s:s}]}", "orderitem_set", "id", 7001, "status", "packed_for_refund");
    support_assert_json_equal(json_object_get(json_array_get(journal, 0), "json"), expected);
    json_decref(expected);
    json_decref(journal);
    oms_http_client_destroy(c);
    proc_stop(&ref, "oms-reference (second run)");
    oms_recorder_stop(omni);
}

/* --no-fixtures: the fixture protocol is refused (404), the command endpoint still answers. */
static void test_no_fixtures_refuses_the_fixture_protocol(void **state)
{
    (void)state;
    static const char *const argv[] = {"oms-reference", "--port", "0", "--no-fixtures", NULL};
    struct proc ref;
    proc_spawn(&ref, argv, 0);
    proc_wait_listening(&ref, "oms-reference --no-fixtures");
    struct oms_http_client *c = oms_http_client_create();
    static const char *const paths[] = {"/_fixture/", "/_fixture/state", "/_fixture/profile"};
    struct oms_http_exchange x = {0};
    for (size_t i = 0; i < 3; i++) {
        support_http(c, &x, "GET", ref.url, paths[i], NULL, NULL, 0);
        support_assert_envelope(&x, 404, "non_field_errors");
        oms_http_exchange_cleanup(&x);
    }
    static const char *const json[] = {SUPPORT_JSON_CTYPE, NULL};
    support_http(c, &x, "PUT", ref.url, "/_fixture/state", json, "{}", 2);
    support_assert_envelope(&x, 404, "non_field_errors");
    oms_http_exchange_cleanup(&x);
    support_command(c, &x, ref.url, 501, "{\"package\": 501, \"transition\": 17}");
    support_assert_envelope(&x, 404, "non_field_errors"); /* no package 501: an empty store */
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    proc_stop(&ref, "oms-reference --no-fixtures");
}

/* A receiver whose journal limit is too small for a scenario (mock-webhook --journal-limit 1, two
 * webhook calls): the harness must not check the calls against a journal missing some - the
 * scenario is an environment error naming the receiver and the option, exit status 3 - while a
 * scenario with one call still passes. */
static void test_journal_overflow_is_an_environment_error(void **state)
{
    (void)state;
    struct proc omni, hook, ref;
    static const char *const omni_argv[] = {"mock-omnitron", "--port", "0", NULL};
    static const char *const hook_argv[] = {"mock-webhook",    "--port", "0",
                                            "--journal-limit", "1",      NULL};
    start_three(&omni, omni_argv, &hook, hook_argv, &ref);
    char two[1024], one[1024];
    snprintf(two, sizeof(two), "%s",
             support_path("scenarios/webhooks/two-subscribers-each-get-event.json"));
    snprintf(one, sizeof(one), "%s",
             support_path("scenarios/webhooks/one-subscriber-gets-envelope.json"));
    const char *argv[] = {proc_bin("refund-harness"),
                          "run",
                          one,
                          two,
                          "--target",
                          ref.url,
                          "--token",
                          SUPPORT_TOKEN,
                          "--omnitron",
                          omni.url,
                          "--webhook",
                          hook.url,
                          "--no-reports",
                          "--no-color",
                          NULL};
    struct capture r;
    capture_run(argv, NULL, &r);
    if (r.code != 3 || !strstr(r.out, "PASS   ") || !strstr(r.out, "ERROR  ") ||
        !strstr(r.out, "the webhook receiver's journal reached its limit and forgot 1 entry") ||
        !strstr(r.out, "--journal-limit"))
        fail_msg(
            "expected exit 3, one PASS and one ERROR naming the journal limit; got exit %d:\n%s%s",
            r.code, r.out, r.err);
    capture_cleanup(&r);
    proc_stop(&ref, "oms-reference");
    proc_stop(&omni, "mock-omnitron");
    proc_stop(&hook, "mock-webhook");
}

/* Runs a program that must refuse its options: exit code 2, a message on stderr naming what was
 * wrong, and no "listening on" line. */
static void expect_usage_error(const char *const *argv, const char *mention)
{
    struct proc p;
    proc_spawn(&p, argv, 1);
    char out[1024] = "", err[8192] = "";
    int64_t deadline = oms_time_mono_ms() + START_TIMEOUT_MS;
    int status = 0;
    proc_read_until(p.err_fd, err, sizeof(err), deadline, NULL);
    int exited = proc_wait_exit(p.pid, deadline - oms_time_mono_ms(), &status);
    if (!exited) {
        kill(p.pid, SIGKILL);
        waitpid(p.pid, NULL, 0);
        proc_forget(p.pid);
    }
    proc_read_until(p.out_fd, out, sizeof(out), oms_time_mono_ms() + 1000, NULL);
    close(p.out_fd);
    close(p.err_fd);
    if (!exited)
        fail_msg("%s %s: still running (it should have refused its options)", argv[0], argv[1]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
        fail_msg("%s %s: expected exit code 2, got %s %d; stderr: %s", argv[0], argv[1],
                 WIFEXITED(status) ? "exit code" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), err);
    if (!strstr(err, mention))
        fail_msg("%s %s: stderr does not mention \"%s\": \"%s\"", argv[0], argv[1], mention, err);
    if (strstr(out, "listening on"))
        fail_msg("%s %s: started listening", argv[0], argv[1]);
}

static void test_bad_options_exit_2_with_a_message(void **state)
{
    (void)state;
    static const char *const port_range[] = {"oms-reference", "--port", "99999", NULL};
    static const char *const port_word[] = {"oms-reference", "--port", "eighty", NULL};
    static const char *const unknown[] = {"oms-reference", "--frobnicate", NULL};
    static const char *const unknown_value[] = {"oms-reference", "--frobnicate", "1", NULL};
    static const char *const missing[] = {"oms-reference", "--port", NULL};
    static const char *const threads[] = {"oms-reference", "--threads", "0", NULL};
    static const char *const io_threads[] = {"oms-reference", "--io-threads", "65", NULL};
    static const char *const backlog[] = {"oms-reference", "--max-backlog", "-1", NULL};
    static const char *const omni_port[] = {"mock-omnitron", "--port", "99999", NULL};
    static const char *const omni_unknown[] = {"mock-omnitron", "--frobnicate", NULL};
    static const char *const hook_port[] = {"mock-webhook", "--port", "99999", NULL};
    static const char *const hook_status[] = {"mock-webhook", "--status", "42", NULL};
    expect_usage_error(port_range, "--port");
    expect_usage_error(port_word, "--port");
    expect_usage_error(unknown, "--frobnicate");
    expect_usage_error(unknown_value, "--frobnicate");
    expect_usage_error(missing, "--port");
    expect_usage_error(threads, "--threads");
    expect_usage_error(io_threads, "--io-threads");
    expect_usage_error(backlog, "--max-backlog");
    expect_usage_error(omni_port, "--port");
    expect_usage_error(omni_unknown, "--frobnicate");
    expect_usage_error(hook_port, "--port");
    expect_usage_error(hook_status, "--status");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_three_processes_end_to_end, proc_teardown),
        cmocka_unit_test_teardown(test_db_survives_restart, proc_teardown),
        cmocka_unit_test_teardown(test_db_pending_outbox_is_delivered_after_restart, proc_teardown),
        cmocka_unit_test_teardown(test_no_fixtures_refuses_the_fixture_protocol, proc_teardown),
        cmocka_unit_test_teardown(test_bad_options_exit_2_with_a_message, proc_teardown),
        cmocka_unit_test_teardown(test_journal_overflow_is_an_environment_error, proc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
