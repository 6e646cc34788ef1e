/* test_recorder: the recording receiver over HTTP - the journal, behaviour documents with fault
 * rules (status for N requests, drop, reset, truncate, hang, delay), its control endpoints' errors
 * - and the two mocks built on it: Omnitron's checks of the bulk status update, and the webhook
 * receiver. */
#include "support.h"

#include "mock_omnitron.h"
#include "mock_webhook.h"
#include "oms_recorder.h"
#include "oms_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct env {
    struct oms_recorder *rec;
    struct oms_http_client *client;
    const char *base;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct oms_err err = {0};
    struct oms_recorder_config cfg = {.name = "probe", .status = 200, .body = "{\"ok\": true}"};
    if (oms_recorder_start(&cfg, &e->rec, &err) != 0)
        fail_msg("cannot start the recorder: %s", err.message);
    e->client = oms_http_client_create();
    e->base = oms_recorder_url(e->rec);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    oms_http_client_destroy(e->client);
    oms_recorder_stop(e->rec);
    free(e);
    return 0;
}

static const char *const JSON_CTYPE[] = {SUPPORT_JSON_CTYPE, NULL};

/* One request; returns the status (0: no answer). */
static long call(struct env *e, const char *method, const char *path, const char *body)
{
    struct oms_http_exchange x = {0};
    long status = support_http(e->client, &x, method, e->base, path, body ? JSON_CTYPE : NULL, body,
                               body ? strlen(body) : 0);
    oms_http_exchange_cleanup(&x);
    return status;
}

/* GET path, parsed (new reference); fails unless 200 with JSON. */
static json_t *get_json(struct env *e, const char *path)
{
    struct oms_http_exchange x = {0};
    long status = support_http(e->client, &x, "GET", e->base, path, NULL, NULL, 0);
    json_t *doc = support_json(&x);
    oms_http_exchange_cleanup(&x);
    if (status != 200 || !doc)
        fail_msg("GET %s: %ld", path, status);
    return doc;
}

static long put_behaviour(struct env *e, const char *doc, struct oms_http_exchange *x)
{
    return support_http(e->client, x, "PUT", e->base, "/__behaviour", JSON_CTYPE, doc, strlen(doc));
}

static void behave(struct env *e, const char *doc)
{
    struct oms_http_exchange x = {0};
    long status = put_behaviour(e, doc, &x);
    oms_http_exchange_cleanup(&x);
    assert_int_equal(status, 204);
}

static const char *header(const json_t *entry, const char *name)
{
    return json_string_value(json_object_get(json_object_get(entry, "headers"), name));
}

/* GET /__journal records everything outside "/__" with what was answered; ?path= filters;
 * DELETE /__journal empties it. */
static void test_journal_records_filters_and_clears(void **state)
{
    struct env *e = *state;
    json_t *j = get_json(e, "/__journal");
    assert_string_equal(json_string_value(json_object_get(j, "receiver")), "probe");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "requests")), 0);
    json_decref(j);

    static const char *const headers[] = {SUPPORT_JSON_CTYPE, "X-Probe: one", NULL};
    struct oms_http_exchange x = {0};
    assert_int_equal(
        support_http(e->client, &x, "POST", e->base, "/a/b?x=1&y=two", headers, "{\"k\": 1}", 8),
        200);
    json_t *answer = support_json(&x);
    assert_true(json_is_true(json_object_get(answer, "ok")));
    json_decref(answer);
    oms_http_exchange_cleanup(&x);
    assert_int_equal(call(e, "GET", "/c", NULL), 200);
    /* Bytes that are not UTF-8 are still journaled (as U+FFFD). */
    assert_int_equal(support_http(e->client, &x, "PUT", e->base, "/c", NULL, "\xff\xfe", 2), 200);
    oms_http_exchange_cleanup(&x);
    /* A JSON string once its bad byte is replaced, but not JSON as it arrived: "json" is null. */
    assert_int_equal(support_http(e->client, &x, "PUT", e->base, "/d", NULL, "\"\xff\"", 3), 200);
    oms_http_exchange_cleanup(&x);

    j = get_json(e, "/__journal");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 4); /* no control calls */
    json_t *reqs = json_object_get(j, "requests");
    json_t *r0 = json_array_get(reqs, 0);
    assert_string_equal(json_string_value(json_object_get(r0, "receiver")), "probe");
    assert_string_equal(json_string_value(json_object_get(r0, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(r0, "path")), "/a/b");
    json_t *query = json_pack("{s:s, s:s}", "x", "1", "y", "two");
    support_assert_json_equal(json_object_get(r0, "query"), query);
    json_decref(query);
    assert_string_equal(header(r0, "x-probe"), "one");
    assert_string_equal(json_string_value(json_object_get(r0, "body")), "{\"k\": 1}");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r0, "json"), "k")), 1);
    assert_string_equal(json_string_value(json_object_get(r0, "outcome")), "answered");
    assert_int_equal(json_integer_value(json_object_get(r0, "answered")), 200);
    assert_true(json_integer_value(json_object_get(r0, "received_ms")) > 0);
    json_t *r1 = json_array_get(reqs, 1);
    assert_true(json_integer_value(json_object_get(r1, "seq")) >
                json_integer_value(json_object_get(r0, "seq")));
    assert_true(json_is_null(json_object_get(r1, "json")));
    const char *lossy = json_string_value(json_object_get(json_array_get(reqs, 2), "body"));
    assert_non_null(lossy);
    assert_non_null(strstr(lossy, "\xef\xbf\xbd"));
    assert_true(json_is_null(json_object_get(json_array_get(reqs, 2), "json")));
    assert_true(json_is_null(json_object_get(json_array_get(reqs, 3), "json")));
    json_decref(j);

    j = get_json(e, "/__journal?path=/c");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
    json_decref(j);
    json_t *direct = oms_recorder_journal(e->rec, "/a/b");
    assert_int_equal(json_array_size(direct), 1);
    json_decref(direct);

    assert_int_equal(call(e, "DELETE", "/__journal", NULL), 204);
    assert_int_equal(oms_recorder_count(e->rec), 0);
    j = get_json(e, "/__journal");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 0);
    json_decref(j);
}

/* --journal-limit: past the limit the oldest entries are forgotten, GET /__journal says how many
 * and what the limit is (and gives the newest N with ?last=N), and a clear (or reset) starts the
 * count afresh. */
static void test_journal_limit(void **state)
{
    (void)state;
    struct oms_recorder *rec = NULL;
    struct oms_err err = {0};
    struct mock_webhook_config wc = {.journal_limit = 3};
    assert_int_equal(mock_webhook_start(&wc, &rec, &err), 0);
    struct env e = {.rec = rec, .client = oms_http_client_create(), .base = oms_recorder_url(rec)};
    for (int i = 1; i <= 5; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/hooks/%d", i);
        assert_int_equal(call(&e, "POST", path, "{}"), 200);
    }
    json_t *j = get_json(&e, "/__journal");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "dropped")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "limit")), 3);
    json_t *reqs = json_object_get(j, "requests");
    static const char *const kept[] = {"/hooks/3", "/hooks/4", "/hooks/5"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, i), "path")),
                            kept[i]);
    json_decref(j);
    /* ?last=N: the newest N, the count still of all; ?last=0: the count alone. */
    j = get_json(&e, "/__journal?last=2");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 3);
    reqs = json_object_get(j, "requests");
    assert_int_equal(json_array_size(reqs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 0), "path")),
                        "/hooks/4");
    json_decref(j);
    j = get_json(&e, "/__journal?last=0&path=/hooks/5");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "requests")), 0);
    json_decref(j);
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(e.client, &x, "GET", e.base, "/__journal?last=-1", NULL, NULL, 0),
                     400);
    support_assert_envelope(&x, 400, "non_field_errors");
    oms_http_exchange_cleanup(&x);
    assert_int_equal(oms_recorder_dropped(rec), 2);
    oms_recorder_reset(rec);
    assert_int_equal(oms_recorder_dropped(rec), 0);
    assert_int_equal(oms_recorder_count(rec), 0);
    oms_http_client_destroy(e.client);
    oms_recorder_stop(rec);
}

/* Fault rules apply in order, each for `times` requests, then the default answer returns. */
static void test_behaviour_status_faults_then_default(void **state)
{
    struct env *e = *state;
    behave(e, "{\"faults\": [{\"status\": 503, \"times\": 2}, {\"status\": 418}]}");
    json_t *b = get_json(e, "/__behaviour");
    assert_int_equal(json_array_size(json_object_get(b, "faults")), 2);
    json_decref(b);

    static const long expected[] = {503, 503, 418, 200, 200};
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        struct oms_http_exchange x = {0};
        long status = support_http(e->client, &x, "POST", e->base, "/hook", JSON_CTYPE, "{}", 2);
        if (status != expected[i])
            fail_msg("request %zu: expected %ld, got %ld", i, expected[i], status);
        if (status >= 400)
            support_assert_envelope(&x, status, "non_field_errors");
        oms_http_exchange_cleanup(&x);
    }
    json_t *journal = oms_recorder_journal(e->rec, NULL);
    assert_int_equal(json_array_size(journal), 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(
            json_integer_value(json_object_get(json_array_get(journal, i), "answered")),
            expected[i]);
    json_decref(journal);

    /* A new default status and body. */
    behave(e, "{\"status\": 202, \"body\": {\"a\": 1}}");
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(e->client, &x, "GET", e->base, "/x", NULL, NULL, 0), 202);
    json_t *body = support_json(&x);
    json_t *want = json_pack("{s:i}", "a", 1);
    support_assert_json_equal(body, want);
    json_decref(want);
    json_decref(body);
    oms_http_exchange_cleanup(&x);
}

/* A rule with a path meets only requests to that path; others pass over it to the rules after it
 * (or the default), and it stays in force for its path until used up. */
static void test_behaviour_fault_for_one_path(void **state)
{
    struct env *e = *state;
    behave(e, "{\"faults\": [{\"status\": 503, \"path\": \"/hooks/wms\", \"times\": 2},"
              " {\"status\": 418}]}");
    json_t *b = get_json(e, "/__behaviour");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(b, "faults"), 0), "path")),
        "/hooks/wms");
    json_decref(b);
    static const struct {
        const char *path;
        long status;
    } seq[] = {
        {"/hooks/erp", 418}, /* passes over the /hooks/wms rule to the next one */
        {"/hooks/wms", 503}, {"/hooks/erp", 200}, {"/hooks/wms/x", 200}, /* exact paths only */
        {"/hooks/wms", 503}, {"/hooks/wms", 200},                        /* used up */
    };
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        long status = call(e, "POST", seq[i].path, "{}");
        if (status != seq[i].status)
            fail_msg("request %zu to %s: expected %ld, got %ld", i, seq[i].path, seq[i].status,
                     status);
    }
    b = get_json(e, "/__behaviour");
    assert_int_equal(json_array_size(json_object_get(b, "faults")), 0);
    json_decref(b);
}

/* {"drop": true}: the client sees a transport error; the journal says "dropped". A fresh client
 * (a new connection), so that nothing but the recorder is under test here. */
static void test_behaviour_drop(void **state)
{
    struct env *e = *state;
    behave(e, "{\"faults\": [{\"drop\": true}]}");
    struct oms_http_client *fresh = oms_http_client_create();
    struct oms_http_exchange x = {0};
    long status = support_http(fresh, &x, "POST", e->base, "/hook", JSON_CTYPE, "{}", 2);
    oms_http_client_destroy(fresh);
    assert_int_equal(status, 0);
    assert_int_not_equal(x.result, 0);
    assert_true(strlen(x.error) > 0);
    oms_http_exchange_cleanup(&x);
    assert_int_equal(oms_recorder_count(e->rec), 1);
    assert_int_equal(call(e, "POST", "/hook", "{}"), 200);

    json_t *journal = oms_recorder_journal(e->rec, NULL);
    assert_int_equal(json_array_size(journal), 2);
    json_t *dropped = json_array_get(journal, 0);
    assert_string_equal(json_string_value(json_object_get(dropped, "outcome")), "dropped");
    assert_true(json_is_null(json_object_get(dropped, "answered")));
    assert_string_equal(json_string_value(json_object_get(dropped, "body")), "{}");
    assert_string_equal(json_string_value(json_object_get(json_array_get(journal, 1), "outcome")),
                        "answered");
    json_decref(journal);
}

/* Sends one POST /hook on a fresh connection and reads until it ends or timeout_ms passes: the
 * bytes read go to buf (NUL-terminated, at most size - 1), *err gets the errno that ended the
 * reading (0: an orderly close). Returns 1 when the time ran out first, else 0. */
static int raw_post(unsigned port, long timeout_ms, char *buf, size_t size, int *err)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    static const char req[] = "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: 2\r\n\r\n{}";
    assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(req) - 1));
    size_t got = 0;
    int timed_out = 0;
    *err = 0;
    for (;;) {
        ssize_t n = recv(fd, buf + got, size - 1 - got, 0);
        if (n > 0) {
            got += (size_t)n;
            if (got < size - 1)
                continue;
            break;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            timed_out = 1;
        else if (n < 0)
            *err = errno;
        break;
    }
    buf[got] = '\0';
    close(fd);
    return timed_out;
}

/* Transport faults beside drop: a reset (the client's read fails with ECONNRESET), a truncated
 * answer (a head promising more body than arrives before the close), a hang (nothing at all until
 * the client gives up). The journal names each, and none counts as answered. */
static void test_behaviour_reset_truncate_hang(void **state)
{
    struct env *e = *state;
    unsigned port = oms_recorder_port(e->rec);
    behave(e, "{\"faults\": [{\"reset\": true}, {\"truncate\": true}, {\"hang\": true}]}");
    char buf[4096];
    int err;

    assert_int_equal(raw_post(port, 5000, buf, sizeof(buf), &err), 0);
    assert_int_equal(err, ECONNRESET);
    assert_string_equal(buf, "");

    assert_int_equal(raw_post(port, 5000, buf, sizeof(buf), &err), 0);
    assert_int_equal(err, 0);
    assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    const char *cl = strcasestr(buf, "Content-Length: ");
    const char *body = strstr(buf, "\r\n\r\n");
    assert_non_null(cl);
    assert_non_null(body);
    long promised = strtol(cl + 16, NULL, 10);
    size_t arrived = strlen(body + 4);
    assert_true(promised > 0);
    assert_int_equal(arrived, (size_t)promised / 2);

    int64_t t0 = oms_time_mono_us();
    assert_int_equal(raw_post(port, 300, buf, sizeof(buf), &err), 1);
    assert_string_equal(buf, "");
    assert_true(oms_time_mono_us() - t0 >= 300000);

    json_t *journal = oms_recorder_journal(e->rec, NULL);
    assert_int_equal(json_array_size(journal), 3);
    static const char *const outcome[] = {"reset", "truncated", "hung"};
    for (size_t i = 0; i < 3; i++) {
        json_t *entry = json_array_get(journal, i);
        assert_string_equal(json_string_value(json_object_get(entry, "outcome")), outcome[i]);
        assert_true(json_is_null(json_object_get(entry, "answered")));
    }
    json_decref(journal);
    /* The rules are used up: the default answer again, on a connection of the recorder's own. */
    assert_int_equal(call(e, "POST", "/hook", "{}"), 200);
}

/* oms_http_client performs ONE exchange (oms_http_client.h): a request the server drops must come
 * back as a transport error and be sent once - also on a connection kept alive from an earlier
 * call. (libcurl re-sends a request whose reused connection died before any answer; for a harness
 * that sends non-idempotent commands that is a second command.) */
static void test_client_does_not_resend_a_dropped_request_on_a_reused_connection(void **state)
{
    struct env *e = *state;
    /* The behaviour PUT leaves a kept-alive connection in e->client. */
    behave(e, "{\"faults\": [{\"drop\": true}]}");
    struct oms_http_exchange x = {0};
    long status = support_http(e->client, &x, "POST", e->base, "/hook", JSON_CTYPE, "{}", 2);
    oms_http_exchange_cleanup(&x);
    size_t received = oms_recorder_count(e->rec);
    if (status != 0 || received != 1)
        fail_msg("dropped POST: the client reported %ld and the receiver got it %zu time(s); "
                 "expected a transport error and exactly one request",
                 status, received);
}

/* A request repeating the Delivery-Id and Delivery-Attempt of an attempt the receiver left
 * unanswered (dropped, reset, hanging) is a transport re-send of that attempt
 * (docs/reference-impl.md, "Delivery"): answered as the attempt was, not given the next fault rule,
 * not journaled again, counted in the entry's and the journal's "resent". A repeat of an answered
 * attempt is the sender's own and a call of its own (libcurl repeats only what got no answer), and
 * so are a new attempt number and a request without both headers. */
static void test_resent_attempt_is_answered_as_before_and_counted_apart(void **state)
{
    struct env *e = *state;
    behave(e, "{\"faults\": [{\"status\": 503}, {\"drop\": true}]}");
    static const char *const first[] = {SUPPORT_JSON_CTYPE, "Delivery-Id: d-1",
                                        "Delivery-Attempt: 1", NULL};
    static const char *const second[] = {SUPPORT_JSON_CTYPE, "Delivery-Id: d-1",
                                         "Delivery-Attempt: 2", NULL};
    static const char *const no_attempt[] = {SUPPORT_JSON_CTYPE, "Delivery-Id: d-1", NULL};
    static const char *const bad_id[] = {SUPPORT_JSON_CTYPE, "Delivery-Id: d 1",
                                         "Delivery-Attempt: 1", NULL};
    long statuses[6];
    const char *const *sent[6] = {first, first, first, second, no_attempt, bad_id};
    for (int i = 0; i < 6; i++) {
        struct oms_http_exchange x = {0};
        statuses[i] =
            support_http(e->client, &x, "POST", e->base, "/hooks/a", sent[i], "{\"n\": 1}", 8);
        oms_http_exchange_cleanup(&x);
    }
    /* The answered 503 repeated is a new call, which takes the next rule (drop); the repeat of
     * that dropped attempt is a re-send, dropped again without a rule of its own. */
    assert_int_equal(statuses[0], 503);
    assert_int_equal(statuses[1], 0);
    assert_int_equal(statuses[2], 0);
    assert_int_equal(statuses[3], 200);
    assert_int_equal(statuses[4], 200);
    assert_int_equal(statuses[5], 200);

    json_t *j = get_json(e, "/__journal");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "resent")), 1);
    json_t *reqs = json_object_get(j, "requests");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(reqs, 0), "answered")), 503);
    assert_null(json_object_get(json_array_get(reqs, 0), "resent"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(reqs, 1), "resent")), 1);
    for (size_t i = 2; i < 5; i++)
        assert_null(json_object_get(json_array_get(reqs, i), "resent"));
    json_decref(j);
    assert_int_equal(oms_recorder_resent(e->rec), 1);

    /* Clearing the journal forgets the attempts: the same key is a new call again. */
    assert_int_equal(call(e, "DELETE", "/__journal", NULL), 204);
    struct oms_http_exchange x = {0};
    assert_int_equal(
        support_http(e->client, &x, "POST", e->base, "/hooks/a", first, "{\"n\": 1}", 8), 200);
    oms_http_exchange_cleanup(&x);
    assert_int_equal(oms_recorder_count(e->rec), 1);
    assert_int_equal(oms_recorder_resent(e->rec), 0);
}

/* Deliveries go on kept-alive connections (an oms_http_pool, idempotent exchanges): when the
 * receiver drops an attempt on a reused connection, libcurl silently sends it again on a new one.
 * The receiver must see one attempt - one journal entry, its re-send counted apart and dropped
 * again as the attempt was - and the client one transport failure; the next attempt is answered
 * by the default again. Drop and reset both close the connection before any answer. */
static void resend_on_reused_connection(struct env *e, const char *fault)
{
    struct oms_http_pool *pool = oms_http_pool_create();
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/a", e->base);
    static const char *const lines[3][3] = {
        {SUPPORT_JSON_CTYPE, "Delivery-Id: warm", "Delivery-Attempt: 1"},
        {SUPPORT_JSON_CTYPE, "Delivery-Id: d-2", "Delivery-Attempt: 1"},
        {SUPPORT_JSON_CTYPE, "Delivery-Id: d-2", "Delivery-Attempt: 2"},
    };
    long statuses[3];
    int results[3];
    for (int i = 0; i < 3; i++) {
        if (i == 1) {
            char *doc = support_printf("{\"faults\": [{\"%s\": true}]}", fault);
            behave(e, doc);
            free(doc);
        }
        struct oms_http_exchange x = {
            .method = "POST",
            .url = url,
            .headers = lines[i],
            .header_count = 3,
            .body = "{}",
            .body_len = 2,
            .timeout_ms = 5000,
            .idempotent = 1,
        };
        oms_http_pool_add(pool, &x);
        struct oms_http_exchange *done[1];
        size_t n = 0;
        for (int spins = 0; n == 0 && spins < 100; spins++)
            n = oms_http_pool_run(pool, 100, done, 1);
        assert_int_equal(n, 1);
        statuses[i] = x.status;
        results[i] = x.result;
        oms_http_exchange_cleanup(&x);
    }
    oms_http_pool_destroy(pool);
    assert_int_equal(results[0], 0);
    assert_int_equal(statuses[0], 200);
    if (results[1] == 0)
        fail_msg("the %s attempt came back as HTTP %ld; expected a transport failure", fault,
                 statuses[1]);
    assert_int_equal(results[2], 0);
    assert_int_equal(statuses[2], 200);

    json_t *journal = oms_recorder_journal(e->rec, NULL);
    if (json_array_size(journal) != 3)
        fail_msg("%zu journal entries for 3 attempts (%s on a reused connection)",
                 json_array_size(journal), fault);
    json_t *dropped = json_array_get(journal, 1);
    assert_string_equal(header(dropped, "delivery-id"), "d-2");
    assert_string_equal(header(dropped, "delivery-attempt"), "1");
    assert_true(json_is_null(json_object_get(dropped, "answered")));
    /* libcurl 7.88 re-sends once; the receiver recognised it as the attempt it repeats. */
    assert_int_equal(json_integer_value(json_object_get(dropped, "resent")), 1);
    assert_int_equal(oms_recorder_resent(e->rec), 1);
    json_decref(journal);
}

static void test_dropped_attempt_on_a_reused_connection_is_counted_once(void **state)
{
    resend_on_reused_connection(*state, "drop");
}

static void test_reset_attempt_on_a_reused_connection_is_counted_once(void **state)
{
    resend_on_reused_connection(*state, "reset");
}

/* {"delay_ms": D}: the answer arrives after at least D ms (no upper bound is asserted). */
static void test_behaviour_delay(void **state)
{
    struct env *e = *state;
    behave(e, "{\"faults\": [{\"delay_ms\": 300}]}");
    struct oms_http_exchange x = {0};
    int64_t start = oms_time_mono_ms();
    long status = support_http(e->client, &x, "GET", e->base, "/slow", NULL, NULL, 0);
    int64_t took = oms_time_mono_ms() - start;
    oms_http_exchange_cleanup(&x);
    assert_int_equal(status, 200);
    assert_true(took >= 300);
    json_t *journal = oms_recorder_journal(e->rec, NULL);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(journal, 0), "delay_ms")),
                     300);
    json_decref(journal);
}

struct bad_behaviour {
    const char *doc;
    const char *path; /* must appear in the message */
};

static const struct bad_behaviour BAD[] = {
    {"{\"faults\": [{\"status\": \"x\"}]}", "$.faults[0].status"},
    {"{\"faults\": [{\"status\": 99}]}", "$.faults[0].status"},
    {"{\"faults\": [{\"status\": 503}, {\"status\": 600}]}", "$.faults[1].status"},
    {"{\"faults\": [{\"status\": 503, \"drop\": true}]}", "$.faults[0]"},
    {"{\"faults\": [{}]}", "$.faults[0]"},
    {"{\"faults\": [5]}", "$.faults[0]"},
    {"{\"faults\": [{\"delay_ms\": -1}]}", "$.faults[0].delay_ms"},
    {"{\"faults\": [{\"delay_ms\": 1.5}]}", "$.faults[0].delay_ms"},
    {"{\"faults\": [{\"drop\": false}]}", "$.faults[0].drop"},
    {"{\"faults\": [{\"reset\": 1}]}", "$.faults[0].reset"},
    {"{\"faults\": [{\"hang\": true, \"truncate\": true}]}", "$.faults[0]"},
    {"{\"faults\": [{\"status\": 503, \"times\": 0}]}", "$.faults[0].times"},
    {"{\"faults\": [{\"status\": 503, \"when\": 1}]}", "$.faults[0].when"},
    {"{\"faults\": [{\"status\": 503, \"path\": \"hooks/a\"}]}", "$.faults[0].path"},
    {"{\"faults\": [{\"status\": 503, \"path\": 7}]}", "$.faults[0].path"},
    {"{\"faults\": {}}", "$.faults"},
    {"{\"colour\": 1}", "$.colour"},
    {"{\"status\": 600}", "$.status"},
    {"{\"status\": 201, \"faults\": [{\"status\": \"x\"}]}", "$.faults[0].status"},
    {"[]", "$"},
    {"{\"status\": ", NULL},
    {"", NULL},
};

/* A bad behaviour document is 400 naming the JSON path, and changes nothing. */
static void test_bad_behaviour_is_400_naming_the_path(void **state)
{
    struct env *e = *state;
    behave(e, "{\"status\": 200, \"faults\": [{\"status\": 503, \"times\": 100}]}");
    json_t *before = get_json(e, "/__behaviour");
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        struct oms_http_exchange x = {0};
        put_behaviour(e, BAD[i].doc, &x);
        char why[600];
        int rc = support_check_envelope(&x, 400, NULL, why, sizeof(why));
        json_t *doc = support_json(&x);
        oms_http_exchange_cleanup(&x);
        const char *msg = support_error_message(doc, "non_field_errors");
        if (rc == 0 && BAD[i].path && (!msg || !strstr(msg, BAD[i].path))) {
            snprintf(why, sizeof(why), "message \"%s\" does not name %s", msg ? msg : "(none)",
                     BAD[i].path);
            rc = -1;
        }
        json_decref(doc);
        if (rc != 0)
            fail_msg("document %s: %s", BAD[i].doc, why);
        json_t *after = get_json(e, "/__behaviour");
        int same = json_equal(before, after);
        json_decref(after);
        if (!same)
            fail_msg("document %s changed the behaviour", BAD[i].doc);
    }
    json_decref(before);

    /* The same through the C API: OMS_E_INVAL and the path in err. */
    json_t *doc = json_loads("{\"faults\": [{\"status\": 503}, {\"drop\": 1}]}", 0, NULL);
    struct oms_err err = {0};
    assert_int_equal(oms_recorder_configure(e->rec, doc, &err), OMS_E_INVAL);
    assert_string_equal(err.path, "$.faults[1].drop");
    json_decref(doc);
    /* Still the behaviour set before: 503 from the first rule. */
    assert_int_equal(call(e, "GET", "/x", NULL), 503);
}

/* Control endpoints: unknown ones 404, wrong methods 405, health, reset. */
static void test_control_endpoints(void **state)
{
    struct env *e = *state;
    struct oms_http_exchange x = {0};
    support_http(e->client, &x, "GET", e->base, "/__nope", NULL, NULL, 0);
    support_assert_envelope(&x, 404, "non_field_errors");
    oms_http_exchange_cleanup(&x);
    support_http(e->client, &x, "POST", e->base, "/__journal", NULL, NULL, 0);
    support_assert_envelope(&x, 405, "non_field_errors");
    oms_http_exchange_cleanup(&x);
    support_http(e->client, &x, "GET", e->base, "/__reset", NULL, NULL, 0);
    support_assert_envelope(&x, 405, "non_field_errors");
    oms_http_exchange_cleanup(&x);
    support_http(e->client, &x, "DELETE", e->base, "/__behaviour", NULL, NULL, 0);
    support_assert_envelope(&x, 405, "non_field_errors");
    oms_http_exchange_cleanup(&x);
    json_t *health = get_json(e, "/__health");
    assert_string_equal(json_string_value(json_object_get(health, "status")), "ok");
    json_decref(health);
    /* None of that was journaled. */
    assert_int_equal(oms_recorder_count(e->rec), 0);

    behave(e, "{\"status\": 500, \"faults\": [{\"drop\": true}]}");
    struct oms_http_client *fresh = oms_http_client_create();
    assert_int_equal(support_http(fresh, &x, "GET", e->base, "/x", NULL, NULL, 0), 0);
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(fresh);
    assert_int_equal(call(e, "GET", "/x", NULL), 500);
    assert_int_equal(call(e, "POST", "/__reset", NULL), 204);
    assert_int_equal(oms_recorder_count(e->rec), 0);
    assert_int_equal(call(e, "GET", "/x", NULL), 200); /* the start-up behaviour again */
    assert_int_equal(oms_recorder_count(e->rec), 1);
}

/* A request on a new connection to base+path; returns the status, 0 for a transport failure. */
static long call_fresh(const char *base, const char *method, const char *path, const char *body)
{
    struct oms_http_client *c = oms_http_client_create();
    struct oms_http_exchange x = {0};
    long status = support_http(c, &x, method, base, path, body ? JSON_CTYPE : NULL, body,
                               body ? strlen(body) : 0);
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    return status;
}

/* "down": the main listener refuses connections while the control listener keeps serving the /__
 * endpoints; "down": false, "down_ms" and a reset bring it back; stopping while down is clean. */
static void test_behaviour_down_and_up(void **state)
{
    struct env *e = *state;
    const char *ctl = oms_recorder_control_url(e->rec);
    assert_non_null(ctl);
    assert_string_not_equal(ctl, e->base);

    assert_int_equal(call_fresh(ctl, "PUT", "/__behaviour", "{\"down\": true}"), 204);
    assert_int_equal(call_fresh(e->base, "POST", "/hook", "{}"), 0);
    assert_int_equal(oms_recorder_count(e->rec), 0);
    struct oms_http_client *c = oms_http_client_create();
    json_t *b = NULL;
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(c, &x, "GET", ctl, "/__behaviour", NULL, NULL, 0), 200);
    b = support_json(&x);
    oms_http_exchange_cleanup(&x);
    assert_true(json_is_true(json_object_get(b, "down")));
    json_decref(b);
    assert_int_equal(support_http(c, &x, "GET", ctl, "/__journal", NULL, NULL, 0), 200);
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);

    assert_int_equal(call_fresh(ctl, "PUT", "/__behaviour", "{\"down\": false}"), 204);
    assert_int_equal(call_fresh(e->base, "POST", "/hook", "{}"), 200);
    assert_string_equal(oms_recorder_url(e->rec), e->base); /* the same URL after coming back */

    /* A timed outage: refused at first, back by itself after at least down_ms. */
    int64_t start = oms_time_mono_ms();
    assert_int_equal(call_fresh(ctl, "PUT", "/__behaviour", "{\"down_ms\": 300}"), 204);
    assert_int_equal(call_fresh(e->base, "GET", "/x", NULL), 0);
    int64_t deadline = start + 20000;
    while (call_fresh(e->base, "GET", "/x", NULL) != 200) {
        if (oms_time_mono_ms() > deadline)
            fail_msg("the receiver did not come back after \"down_ms\": 300");
        oms_time_sleep_ms(10);
    }
    assert_true(oms_time_mono_ms() - start >= 300);

    /* A bad value is refused at its path. */
    assert_int_equal(call_fresh(ctl, "PUT", "/__behaviour", "{\"down\": \"yes\"}"), 400);

    /* Reset brings it up; then down again, and teardown stops it while down. */
    json_t *down = json_pack("{s:b}", "down", 1);
    struct oms_err err = {0};
    assert_int_equal(oms_recorder_configure(e->rec, down, &err), 0);
    assert_int_equal(call_fresh(e->base, "GET", "/x", NULL), 0);
    oms_recorder_reset(e->rec);
    assert_int_equal(call_fresh(e->base, "GET", "/x", NULL), 200);
    assert_int_equal(oms_recorder_configure(e->rec, down, &err), 0);
    json_decref(down);
}

/* mock_omnitron: 401 without or with a wrong token, 405 for another method, 404 elsewhere, 400
 * for a malformed orderitem_set, 200 for a well-formed PATCH; all journaled. */
static void test_mock_omnitron_checks_the_bulk_update(void **state)
{
    (void)state;
    struct oms_recorder *o = NULL;
    struct oms_err err = {0};
    struct mock_omnitron_config cfg = {.token = "T"};
    assert_int_equal(mock_omnitron_start(&cfg, &o, &err), 0);
    struct oms_http_client *c = oms_http_client_create();
    const char *base = oms_recorder_url(o);
    static const char *const auth[] = {"Authorization: Token T", SUPPORT_JSON_CTYPE, NULL};
    static const char *const noauth[] = {SUPPORT_JSON_CTYPE, NULL};
    static const char *const wrong[] = {"Authorization: Token U", SUPPORT_JSON_CTYPE, NULL};
    static const char *const bearer[] = {"Authorization: Bearer T", SUPPORT_JSON_CTYPE, NULL};
    static const char good[] =
        "{\"orderitem_set\": [{\"id\": 7001, \"status\": \"packed_for_refund\"},"
        " {\"id\": 7002, \"status\": \"packed_for_refund\"}]}";
    static const struct {
        const char *method, *path;
        const char *const *headers;
        const char *body;
        long status;
        const char *key; /* expected in the answer body, or NULL */
    } cases[] = {
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, noauth, good, 401, "detail"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, wrong, good, 401, "detail"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, bearer, good, 401, "detail"},
        {"POST", MOCK_OMNITRON_DEFAULT_PATH, auth, good, 405, "detail"},
        {"GET", MOCK_OMNITRON_DEFAULT_PATH, auth, NULL, 405, "detail"},
        {"PATCH", "/api/i1/orders/", auth, good, 404, "detail"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth, "{\"orderitem_set\": ", 400,
         "non_field_errors"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth, "[1]", 400, "non_field_errors"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth, "{}", 400, "orderitem_set"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth, "{\"orderitem_set\": \"x\"}", 400,
         "orderitem_set"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth, "{\"orderitem_set\": []}", 400,
         "orderitem_set"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth,
         "{\"orderitem_set\": [{\"id\": 0, \"status\": \"\"}, {\"id\": 7001, \"status\": \"x\"}]}",
         400, "orderitem_set"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth,
         "{\"orderitem_set\": [{\"id\": \"7001\", \"status\": \"x\"}]}", 400, "orderitem_set"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth,
         "{\"orderitem_set\": [{\"id\": 7001, \"status\": \"x\", \"extra\": 1}]}", 400,
         "orderitem_set"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth, "{\"orderitem_set\": [5]}", 400,
         "orderitem_set"},
        {"PATCH", MOCK_OMNITRON_DEFAULT_PATH, auth, good, 200, "orderitem_set"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        struct oms_http_exchange x = {0};
        long status = support_http(c, &x, cases[i].method, base, cases[i].path, cases[i].headers,
                                   cases[i].body, cases[i].body ? strlen(cases[i].body) : 0);
        json_t *doc = support_json(&x);
        int has_key = cases[i].key && json_object_get(doc, cases[i].key) != NULL;
        const char *allow = oms_http_exchange_header(&x, "Allow");
        int allow_ok = status != 405 || (allow && strcmp(allow, "PATCH") == 0);
        char text[300];
        snprintf(text, sizeof(text), "%.290s", oms_buf_str(&x.resp_body));
        oms_http_exchange_cleanup(&x);
        if (status == 200) {
            /* The updated items are echoed. */
            json_t *sent = json_loads(good, 0, NULL);
            int same = json_equal(doc, sent);
            json_decref(sent);
            if (!same)
                has_key = 0;
        }
        if (status == 400 && i == 11) {
            /* Per item: the first has id and status errors, the second none. */
            json_t *set = json_object_get(doc, "orderitem_set");
            json_t *first = json_array_get(set, 0);
            if (json_array_size(set) != 2 || !json_object_get(first, "id") ||
                !json_object_get(first, "status") || json_object_size(json_array_get(set, 1)) != 0)
                has_key = 0;
        }
        json_decref(doc);
        if (status != cases[i].status || (cases[i].key && !has_key) || !allow_ok)
            fail_msg("case %zu (%s %s %s): expected %ld with \"%s\", got %ld: %s", i,
                     cases[i].method, cases[i].path, cases[i].body ? cases[i].body : "",
                     cases[i].status, cases[i].key ? cases[i].key : "", status, text);
    }
    /* Every request is journaled, whatever it answered. */
    json_t *journal = oms_recorder_journal(o, NULL);
    assert_int_equal(json_array_size(journal), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            json_integer_value(json_object_get(json_array_get(journal, i), "answered")),
            cases[i].status);
    json_decref(journal);
    oms_http_client_destroy(c);
    oms_recorder_stop(o);

    /* Without a configured token, no Authorization is needed. */
    struct mock_omnitron_config no_token = {0};
    assert_int_equal(mock_omnitron_start(&no_token, &o, &err), 0);
    c = oms_http_client_create();
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(c, &x, "PATCH", oms_recorder_url(o), MOCK_OMNITRON_DEFAULT_PATH,
                                  noauth, good, strlen(good)),
                     200);
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    oms_recorder_stop(o);
}

/* docs/scenario-format.md: a scenario's `receivers` gives each mock a behaviour document such as
 * {"omnitron": {"status": 503}}; PUT /__behaviour's "status" is the answer by default
 * (oms_recorder.h). For Omnitron, that must make a well-formed PATCH answer 503 (an outage), not
 * be overridden by the mock's own checks. */
static void test_mock_omnitron_answers_a_configured_status(void **state)
{
    (void)state;
    struct oms_recorder *o = NULL;
    struct oms_err err = {0};
    struct mock_omnitron_config cfg = {0};
    assert_int_equal(mock_omnitron_start(&cfg, &o, &err), 0);
    struct oms_http_client *c = oms_http_client_create();
    static const char good[] = "{\"orderitem_set\": [{\"id\": 7001, \"status\": \"x\"}]}";
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(c, &x, "PUT", oms_recorder_url(o), "/__behaviour", JSON_CTYPE,
                                  "{\"status\": 503}", 15),
                     204);
    oms_http_exchange_cleanup(&x);
    long status = support_http(c, &x, "PATCH", oms_recorder_url(o), MOCK_OMNITRON_DEFAULT_PATH,
                               JSON_CTYPE, good, strlen(good));
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    oms_recorder_stop(o);
    if (status != 503)
        fail_msg("mock-omnitron configured with {\"status\": 503} answered a well-formed PATCH "
                 "with %ld",
                 status);
}

/* mock_webhook: any path, any method, the configured status (200 when 0), journaled. */
static void test_mock_webhook_answers_its_status_everywhere(void **state)
{
    (void)state;
    struct oms_recorder *w = NULL;
    struct oms_err err = {0};
    struct mock_webhook_config cfg = {.status = 202};
    assert_int_equal(mock_webhook_start(&cfg, &w, &err), 0);
    struct oms_http_client *c = oms_http_client_create();
    static const char *const methods[] = {"POST", "PUT", "GET", "DELETE", "PATCH"};
    for (size_t i = 0; i < 5; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/hooks/%zu", i);
        struct oms_http_exchange x = {0};
        assert_int_equal(
            support_http(c, &x, methods[i], oms_recorder_url(w), path, JSON_CTYPE, "{\"n\": 1}", 8),
            202);
        oms_http_exchange_cleanup(&x);
    }
    json_t *journal = oms_recorder_journal(w, "/hooks/3");
    assert_int_equal(json_array_size(journal), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(journal, 0), "receiver")),
                        "webhook");
    assert_string_equal(json_string_value(json_object_get(json_array_get(journal, 0), "method")),
                        "DELETE");
    json_decref(journal);
    assert_int_equal(oms_recorder_count(w), 5);
    oms_http_client_destroy(c);
    oms_recorder_stop(w);

    struct mock_webhook_config dflt = {0};
    assert_int_equal(mock_webhook_start(&dflt, &w, &err), 0);
    c = oms_http_client_create();
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(c, &x, "POST", oms_recorder_url(w), "/", NULL, NULL, 0), 200);
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    oms_recorder_stop(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_journal_records_filters_and_clears, setup, teardown),
        cmocka_unit_test(test_journal_limit),
        cmocka_unit_test_setup_teardown(test_behaviour_status_faults_then_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_behaviour_fault_for_one_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_behaviour_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_behaviour_reset_truncate_hang, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_client_does_not_resend_a_dropped_request_on_a_reused_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resent_attempt_is_answered_as_before_and_counted_apart,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_attempt_on_a_reused_connection_is_counted_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_attempt_on_a_reused_connection_is_counted_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_behaviour_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_behaviour_is_400_naming_the_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_behaviour_down_and_up, setup, teardown),
        cmocka_unit_test(test_mock_omnitron_checks_the_bulk_update),
        cmocka_unit_test(test_mock_omnitron_answers_a_configured_status),
        cmocka_unit_test(test_mock_webhook_answers_its_status_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
