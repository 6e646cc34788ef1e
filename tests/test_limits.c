/* test_limits: the bounds that make the servers safe to expose - slow clients, connection limits,
 * the whole-request deadline, auth and the body cap before any body is read, drains that hold no
 * worker, the receivers' journal in bytes, outbound URLs (SSRF), the fixture token and redaction,
 * and a busy port refused by every program. */
#include "support.h"

#include "capture.h"
#include "mock_webhook.h"
#include "oms_alloc.h"
#include "oms_crypto.h"
#include "oms_journal.h"
#include "oms_time.h"
#include "proc.h"
#include "rawhttp.h"
#include "reference.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static const char SEED[] =
    "{\"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 3}],"
    " \"packages\": ["
    "  {\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
    "   \"items\": [{\"id\": 1, \"order_item\": 1, \"sku\": \"S\"}]},"
    "  {\"id\": 502, \"location\": 1, \"status\": \"Waiting\","
    "   \"items\": [{\"id\": 2, \"order_item\": 2, \"sku\": \"S\"}]},"
    "  {\"id\": 503, \"location\": 1, \"status\": \"Waiting\","
    "   \"items\": [{\"id\": 3, \"order_item\": 3, \"sku\": \"S\"}]}],"
    " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
    "   \"target_url\": \"http://127.0.0.1:9/h\", \"secret_key\": \"s3cret\","
    "   \"retry_countdown_config\": {\"choice\": \"fixed\", \"countdown\": 600,"
    "   \"max_retries\": 5}}]}";

static struct reference *start_ref(const struct oms_http_limits *limits, unsigned threads)
{
    struct reference_config cfg = {.profile_path = support_path("profiles/default.json"),
                                   .threads = threads};
    if (limits)
        cfg.limits = *limits;
    struct reference *r = NULL;
    struct oms_err err = {0};
    if (reference_start(&cfg, &r, &err) != 0)
        fail_msg("cannot start the reference: %s", err.message);
    return r;
}

static unsigned port_of(const char *url)
{
    return (unsigned)strtoul(strrchr(url, ':') + 1, NULL, 10);
}

/* ---- slow clients ---- */

/* Thousands of connections trickling a header from one address (127.0.0.2) leave a command from
 * another address answered within 1 s: the per-client limit refuses what is over it. */
static void test_slowloris_leaves_commands_answered(void **state)
{
    (void)state;
    enum { ATTACKERS = 2000 };
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < ATTACKERS + 200) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < ATTACKERS + 200)
        skip();
    struct reference *r = start_ref(NULL, 0);
    const char *base = reference_url(r);
    unsigned port = port_of(base);
    struct oms_http_client *c = oms_http_client_create();
    support_load(c, base, SEED);

    int *fds = oms_xcalloc(ATTACKERS, sizeof(int));
    size_t open_count = 0;
    for (int i = 0; i < ATTACKERS; i++) {
        fds[i] = rawhttp_connect(port, "127.0.0.2");
        if (fds[i] < 0)
            continue;
        open_count++;
        ssize_t w = send(fds[i], "GET / HTTP/1.1\r\nX: ", 19, MSG_NOSIGNAL);
        (void)w;
    }
    assert_true(open_count > ATTACKERS / 2);
    /* They keep trickling while the command is sent. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < ATTACKERS; i++)
            if (fds[i] >= 0) {
                ssize_t w = send(fds[i], "a", 1, MSG_NOSIGNAL);
                (void)w;
            }
        oms_time_sleep_ms(100);
    }
    struct oms_http_exchange x = {0};
    x.timeout_ms = 5000;
    int64_t t0 = oms_time_mono_us();
    long st = support_command(c, &x, base, 501, "{\"package\": 501, \"transition\": 17}");
    int64_t took_ms = (oms_time_mono_us() - t0) / 1000;
    oms_http_exchange_cleanup(&x);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < ATTACKERS; i++)
            if (fds[i] >= 0) {
                ssize_t w = send(fds[i], "a", 1, MSG_NOSIGNAL);
                (void)w;
            }
    /* Most of the attacker's connections were answered 429 and closed at once. */
    size_t refused = 0;
    for (int i = 0; i < ATTACKERS; i++) {
        if (fds[i] < 0)
            continue;
        char buf[64];
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) == 1) {
            ssize_t n = recv(fds[i], buf, sizeof(buf) - 1, 0);
            refused += n <= 0 || (n >= 12 && memcmp(buf, "HTTP/1.1 429", 12) == 0);
        }
        close(fds[i]);
    }
    free(fds);
    printf("slowloris: %zu connections from 127.0.0.2, %zu refused; command answered %ld in "
           "%lld ms\n",
           open_count, refused, st, (long long)took_ms);
    assert_int_equal(st, 204);
    assert_true(took_ms < 1000);
    assert_true(refused >= open_count - OMS_HTTP_DEFAULT_MAX_CLIENT_CONNECTIONS);
    oms_http_client_destroy(c);
    reference_stop(r);
}

/* The deadline is for the whole request: a byte every 200 ms does not keep a request alive past
 * --request-timeout (here 1000 ms); it is answered 408. */
static void test_trickled_request_meets_the_deadline(void **state)
{
    (void)state;
    struct oms_http_limits limits = {.request_timeout_ms = 1000};
    struct reference *r = start_ref(&limits, 0);
    int fd = rawhttp_connect(port_of(reference_url(r)), NULL);
    assert_true(fd >= 0);
    int64_t t0 = oms_time_mono_ms();
    ssize_t w = send(fd, "GET / HTTP/1.1\r\nX: ", 19, MSG_NOSIGNAL);
    (void)w;
    char buf[512];
    ssize_t n = 0;
    while (oms_time_mono_ms() - t0 < 5000) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) == 1) {
            n = recv(fd, buf, sizeof(buf) - 1, 0);
            break;
        }
        w = send(fd, "a", 1, MSG_NOSIGNAL);
    }
    int64_t took = oms_time_mono_ms() - t0;
    close(fd);
    assert_true(n >= 12);
    buf[n] = '\0';
    assert_memory_equal(buf, "HTTP/1.1 408", 12);
    assert_true(took >= 900 && took < 3000);
    reference_stop(r);
}

/* Past --max-client-connections, a connection is answered 429 (the envelope) and closed. */
static void test_client_connection_limit(void **state)
{
    (void)state;
    struct oms_http_limits limits = {.max_client_connections = 3};
    struct reference *r = start_ref(&limits, 0);
    unsigned port = port_of(reference_url(r));
    int held[3];
    for (int i = 0; i < 3; i++) {
        held[i] = rawhttp_connect(port, NULL);
        assert_true(held[i] >= 0);
    }
    oms_time_sleep_ms(100); /* accepted and counted */
    static const char req[] = "GET /_fixture/ HTTP/1.1\r\nHost: x\r\n\r\n";
    struct rawhttp_answer a;
    assert_int_equal(rawhttp_exchange(port, NULL, req, strlen(req), 3000, &a), 0);
    assert_int_equal(a.status, 429);
    assert_non_null(strstr(a.body, "\"status_code\":429"));
    rawhttp_answer_cleanup(&a);
    for (int i = 0; i < 3; i++)
        close(held[i]);
    oms_time_sleep_ms(200);
    static const char ok[] = "GET /_fixture/ HTTP/1.1\r\nHost: x\r\n" SUPPORT_FIXTURE_HEADER
                             "\r\nConnection: close\r\n\r\n";
    assert_int_equal(rawhttp_exchange(port, NULL, ok, strlen(ok), 3000, &a), 0);
    assert_int_equal(a.status, 200);
    rawhttp_answer_cleanup(&a);
    reference_stop(r);
}

/* ---- auth and the body cap before the body ---- */

/* SPEC E-2 and issue 12: an unauthenticated 10 MB upload is refused (401) without its body being
 * read; with the token, a body over limits.max_body_bytes is refused (413) the same way. */
static void test_upload_refused_before_its_body(void **state)
{
    (void)state;
    struct reference *r = start_ref(NULL, 0);
    unsigned port = port_of(reference_url(r));
    const size_t big = 10 * 1024 * 1024;
    struct oms_buf req;
    oms_buf_init(&req, 0);
    oms_buf_printf(&req,
                   "POST /api/v1/oms/packages/501/command/ HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                   big);
    size_t head = req.len;
    char *bytes = oms_xmalloc(head + big);
    memcpy(bytes, req.data, head);
    memset(bytes + head, 'a', big);
    struct rawhttp_answer a;
    int64_t t0 = oms_time_mono_ms();
    assert_int_equal(rawhttp_exchange(port, NULL, bytes, head + big, 10000, &a), 0);
    assert_int_equal(a.status, 401);
    assert_non_null(strstr(a.body, "Authorization: Token"));
    printf("unauthenticated 10 MB upload: %d in %lld ms\n", a.status,
           (long long)(oms_time_mono_ms() - t0));
    rawhttp_answer_cleanup(&a);

    oms_buf_reset(&req);
    oms_buf_printf(&req,
                   "POST /api/v1/oms/packages/501/command/ HTTP/1.1\r\nHost: x\r\n" SUPPORT_AUTH
                   "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                   big);
    assert_int_equal(rawhttp_exchange(port, NULL, req.data, req.len, 10000, &a), 0);
    assert_int_equal(a.status, 413);
    assert_non_null(strstr(a.body, "65536"));
    rawhttp_answer_cleanup(&a);
    oms_buf_cleanup(&req);
    free(bytes);
    reference_stop(r);
}

/* ---- drains ---- */

struct drain_call {
    const char *base;
    long status;
    int64_t ended_us;
};

static void *drain_thread(void *arg)
{
    struct drain_call *d = arg;
    struct oms_http_client *c = oms_http_client_create();
    struct oms_http_exchange x = {0};
    d->status =
        support_http(c, &x, "POST", d->base, "/_fixture/drain?timeout_ms=2500", NULL, NULL, 0);
    d->ended_us = oms_time_mono_us();
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    return NULL;
}

/* A drain waiting for a pending delivery holds no HTTP worker: with a single worker, commands are
 * answered while four drains wait; a timeout over --max-drain-ms is a 400 naming timeout_ms. */
static void test_drain_holds_no_worker(void **state)
{
    (void)state;
    struct reference *r = start_ref(NULL, 1);
    const char *base = reference_url(r);
    struct oms_http_client *c = oms_http_client_create();
    support_load(c, base, SEED);
    struct oms_http_exchange x = {0};
    /* A webhook to a closed port: its row stays pending (the retry is 600 s away). */
    assert_int_equal(support_command(c, &x, base, 501, "{\"package\": 501, \"transition\": 17}"),
                     204);
    oms_http_exchange_cleanup(&x);
    struct drain_call d[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        d[i] = (struct drain_call){.base = base};
        assert_int_equal(pthread_create(&th[i], NULL, drain_thread, &d[i]), 0);
    }
    oms_time_sleep_ms(300);
    int64_t t0 = oms_time_mono_us();
    assert_int_equal(support_command(c, &x, base, 502, "{\"package\": 502, \"transition\": 17}"),
                     204);
    int64_t answered = oms_time_mono_us();
    oms_http_exchange_cleanup(&x);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(d[i].status, 200);
        /* The command did not wait for any drain. */
        assert_true(answered < d[i].ended_us);
    }
    assert_true(answered - t0 < 1000000);

    assert_int_equal(
        support_http(c, &x, "POST", base, "/_fixture/drain?timeout_ms=60001", NULL, NULL, 0), 400);
    support_assert_envelope(&x, 400, "timeout_ms");
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    reference_stop(r);
}

/* ---- SSRF ---- */

/* Outbound URLs are http(s) only where they are accepted (400 naming the field)... */
static void test_outbound_urls_http_only(void **state)
{
    (void)state;
    struct reference *r = start_ref(NULL, 0);
    const char *base = reference_url(r);
    struct oms_http_client *c = oms_http_client_create();
    json_t *answer = NULL;
    assert_int_equal(support_put_state(c, base,
                                       "{\"omnitron\": {\"url\": \"gopher://127.0.0.1:9/_x\"}}",
                                       &answer),
                     400);
    assert_non_null(json_object_get(json_object_get(answer, "error"), "$.omnitron.url"));
    json_decref(answer);
    assert_int_equal(support_put_state(c, base,
                                       "{\"subscriptions\": [{\"event_type\": "
                                       "\"package.status.packed_for_refund\", \"target_url\": "
                                       "\"file:///etc/passwd\"}]}",
                                       &answer),
                     400);
    json_decref(answer);
    static const char *const h[] = {SUPPORT_AUTH, SUPPORT_JSON_CTYPE, NULL};
    static const char hook[] = "{\"event_type\": \"package.status.packed_for_refund\","
                               " \"target_url\": \"gopher://127.0.0.1:9/_x\"}";
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(c, &x, "POST", base, "/whisperer/hooks/", h, hook, strlen(hook)),
                     400);
    support_assert_envelope(&x, 400, "target_url");
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    reference_stop(r);
}

/* ...and libcurl itself speaks no other scheme, whatever URL reaches it. */
static void test_client_refuses_other_schemes(void **state)
{
    (void)state;
    static const char *const urls[] = {"gopher://127.0.0.1:9/_SET%20x", "file:///etc/hostname",
                                       "ftp://127.0.0.1:9/", "dict://127.0.0.1:9/"};
    struct oms_http_client *c = oms_http_client_create();
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct oms_http_exchange x = {.method = "GET", .url = urls[i], .timeout_ms = 2000};
        oms_http_client_perform(c, &x);
        if (x.result == 0)
            fail_msg("%s was fetched (status %ld)", urls[i], x.status);
        oms_http_exchange_cleanup(&x);
    }
    assert_false(oms_http_url_allowed("gopher://x/"));
    assert_false(oms_http_url_allowed("http://"));
    assert_false(oms_http_url_allowed("http:///x"));
    assert_false(oms_http_url_allowed(NULL));
    assert_true(oms_http_url_allowed("HTTP://x"));
    assert_true(oms_http_url_allowed("https://example.test/h"));
    oms_http_client_destroy(c);
}

/* ---- the fixture token and redaction ---- */

static void test_fixture_token_required_and_secrets_redacted(void **state)
{
    (void)state;
    struct reference *r = start_ref(NULL, 0);
    const char *base = reference_url(r);
    /* The token in force is the one the environment gave (never an API token). */
    assert_string_equal(reference_fixture_token(r), SUPPORT_FIXTURE_TOKEN);
    struct oms_http_client *c = oms_http_client_create();
    support_load(c, base, SEED);
    struct oms_http_exchange x = {0};
    static const char *const wrong[] = {"X-Fixture-Token: " SUPPORT_TOKEN, NULL};
    static const char *const none[] = {"X-Fixture-Token:", NULL};
    const char *paths[] = {"/_fixture/", "/_fixture/state", "/_fixture/profile",
                           "/_fixture/journal"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(support_http(c, &x, "GET", base, paths[i], wrong, NULL, 0), 401);
        support_assert_envelope(&x, 401, "non_field_errors");
        oms_http_exchange_cleanup(&x);
        assert_int_equal(support_http(c, &x, "GET", base, paths[i], none, NULL, 0), 401);
        oms_http_exchange_cleanup(&x);
    }
    assert_int_equal(support_command(c, &x, base, 501,
                                     "{\"package\": 501, \"transition\": 17,"
                                     " \"sync_remote_order_status\": true}"),
                     204);
    oms_http_exchange_cleanup(&x);
    json_t *st = support_get_state(c, base);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(st, "subscriptions"), 0), "secret_key")),
                        "***");
    json_t *row;
    size_t i;
    json_array_foreach(json_object_get(st, "outbox"), i, row)
    {
        json_t *auth = json_object_get(json_object_get(row, "headers"), "Authorization");
        if (auth)
            assert_string_equal(json_string_value(auth), "***");
    }
    json_decref(st);
    assert_int_equal(support_http(c, &x, "GET", base, "/_fixture/profile", NULL, NULL, 0), 200);
    json_t *profile = support_json(&x);
    oms_http_exchange_cleanup(&x);
    assert_string_equal(json_string_value(json_array_get(json_object_get(profile, "tokens"), 0)),
                        "***");
    json_decref(profile);
    static const char *const auth[] = {SUPPORT_AUTH, NULL};
    assert_int_equal(support_http(c, &x, "GET", base, "/whisperer/hooks/", auth, NULL, 0), 200);
    json_t *hooks = support_json(&x);
    oms_http_exchange_cleanup(&x);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(hooks, "results"), 0), "secret_key")),
                        "***");
    json_decref(hooks);
    /* The secret itself is still in force: redaction is in what is shown, not what is signed. */
    oms_http_client_destroy(c);
    reference_stop(r);
}

/* ---- receivers ---- */

/* The journal keeps a large body truncated, with its length and SHA-256, and stays within its
 * byte bound by forgetting the oldest entries (counted as dropped). */
static void test_receiver_journal_bounded_in_bytes(void **state)
{
    (void)state;
    struct mock_webhook_config cfg = {.journal_bytes = 8192, .journal_body_bytes = 1000};
    struct oms_recorder *w = NULL;
    struct oms_err err = {0};
    assert_int_equal(mock_webhook_start(&cfg, &w, &err), 0);
    struct oms_http_client *c = oms_http_client_create();
    const size_t size = 50000;
    char *body = oms_xmalloc(size + 1);
    memset(body, 'b', size);
    body[size] = '\0';
    for (int i = 0; i < 12; i++) {
        struct oms_http_exchange x = {0};
        assert_int_equal(
            support_http(c, &x, "POST", oms_recorder_url(w), "/hooks/a", NULL, body, size), 200);
        oms_http_exchange_cleanup(&x);
    }
    json_t *j = oms_recorder_journal(w, NULL);
    size_t kept = json_array_size(j);
    /* 12 entries of about 1.3 KB each do not fit in 8 KB: the oldest went. */
    assert_true(kept > 0 && kept < 12);
    assert_int_equal(oms_recorder_dropped(w), 12 - (int64_t)kept);
    json_t *e = json_array_get(j, 0);
    char sha[65];
    oms_sha256_hex(body, size, sha);
    assert_true(json_is_true(json_object_get(e, "body_truncated")));
    assert_int_equal(json_integer_value(json_object_get(e, "body_length")), (json_int_t)size);
    assert_string_equal(json_string_value(json_object_get(e, "body_sha256")), sha);
    assert_int_equal(json_string_length(json_object_get(e, "body")), 1000);
    json_decref(j);
    free(body);
    oms_http_client_destroy(c);
    oms_recorder_stop(w);
}

static void test_journal_byte_bound_unit(void **state)
{
    (void)state;
    struct oms_journal *j = oms_journal_create(10);
    oms_journal_set_max_bytes(j, 100);
    for (int i = 0; i < 5; i++)
        oms_journal_append_sized(j, json_integer(i), 30);
    /* 3 x 30 fit in 100; the two oldest went. */
    assert_int_equal(oms_journal_count(j), 3);
    assert_int_equal(oms_journal_bytes(j), 90);
    assert_int_equal(oms_journal_dropped(j), 2);
    assert_int_equal(json_integer_value(oms_journal_at(j, 0)), 2);
    /* An entry larger than the bound is still kept, alone. */
    oms_journal_append_sized(j, json_integer(9), 500);
    assert_int_equal(oms_journal_count(j), 1);
    assert_int_equal(json_integer_value(oms_journal_at(j, 0)), 9);
    /* The entry limit still holds, and the ring wraps in order. */
    oms_journal_clear(j);
    for (int i = 0; i < 25; i++)
        oms_journal_append_sized(j, json_integer(i), 1);
    assert_int_equal(oms_journal_count(j), 10);
    assert_int_equal(json_integer_value(oms_journal_at(j, 0)), 15);
    assert_int_equal(json_integer_value(oms_journal_at(j, 9)), 24);
    oms_journal_destroy(j);
}

/* ---- a busy port ---- */

/* Runs argv (with "PORT" replaced by port) and expects exit 3 and "port N is already in use". */
static void expect_busy(const char *name, const char *const *argv, unsigned port)
{
    char p[16];
    snprintf(p, sizeof(p), "%u", port);
    const char *args[16];
    size_t n = 0;
    for (; argv[n]; n++)
        args[n] = strcmp(argv[n], "PORT") == 0 ? p : argv[n];
    args[0] = proc_bin(argv[0]);
    args[n] = NULL;
    struct capture out;
    capture_run(args, NULL, &out);
    char want[64];
    snprintf(want, sizeof(want), "port %u is already in use", port);
    if (out.code != 3 || !strstr(out.err, want))
        fail_msg("%s on a busy port: expected exit 3 and \"%s\", got exit %d:\n%s%s", name, want,
                 out.code, out.out, out.err);
    capture_cleanup(&out);
}

/* Issue 11: a second program on a port in use is refused with a clear message and exit 3. */
static void test_busy_port_refused_by_every_program(void **state)
{
    (void)state;
    static const char *const ref_argv[] = {"oms-reference", "--port", "0", NULL};
    struct proc first;
    proc_spawn(&first, ref_argv, 0);
    proc_wait_listening(&first, "oms-reference");
    unsigned port = port_of(first.url);
    static const char *const again[] = {"oms-reference", "--port", "PORT", NULL};
    expect_busy("oms-reference", again, port);
    static const char *const serve[] = {"refund-harness", "serve", "--port", "PORT", NULL};
    expect_busy("refund-harness serve", serve, port);
    proc_stop(&first, "oms-reference");

    static const char *const names[] = {"mock-omnitron", "mock-webhook"};
    for (size_t i = 0; i < 2; i++) {
        const char *argv[] = {names[i], "--port", "0", NULL};
        struct proc rx;
        proc_spawn(&rx, argv, 0);
        proc_wait_listening(&rx, names[i]);
        unsigned rport = port_of(rx.url);
        const char *busy[] = {names[i], "--port", "PORT", NULL};
        expect_busy(names[i], busy, rport);
        proc_stop(&rx, names[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slowloris_leaves_commands_answered),
        cmocka_unit_test(test_trickled_request_meets_the_deadline),
        cmocka_unit_test(test_client_connection_limit),
        cmocka_unit_test(test_upload_refused_before_its_body),
        cmocka_unit_test(test_drain_holds_no_worker),
        cmocka_unit_test(test_outbound_urls_http_only),
        cmocka_unit_test(test_client_refuses_other_schemes),
        cmocka_unit_test(test_fixture_token_required_and_secrets_redacted),
        cmocka_unit_test(test_receiver_journal_bounded_in_bytes),
        cmocka_unit_test(test_journal_byte_bound_unit),
        cmocka_unit_test_teardown(test_busy_port_refused_by_every_program, proc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
