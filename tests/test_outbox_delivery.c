/* test_outbox_delivery: what a command sends, seen where it arrives (SPEC C-8, C-9, O-1..O-3):
 * the reference with an in-process Omnitron mock and webhook mock, their journals, and the outbox
 * rows of GET /_fixture/state under failing receivers. */
#include "support.h"

#include "mock_webhook.h"
#include "oms_recorder.h"
#include "oms_crypto.h"
#include "oms_time.h"
#include "reference.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OMNI_TOKEN "omni-token"
#define SECRET     "s3cret"
#define COMMAND    "{\"package\": 501, \"transition\": 17}"

struct env {
    struct support_ref r;
    struct support_receivers rv;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    support_receivers_start(&e->rv, OMNI_TOKEN);
    support_ref_start(&e->r);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    support_ref_stop(&e->r);
    support_receivers_stop(&e->rv);
    free(e);
    return 0;
}

/* Package 501 (Waiting) with three items, one of them already Packed for Refund; a subscription
 * with a secret, two additional headers and the given retry policy (JSON text, or "null"). The
 * Omnitron token is the given one. */
static void load(struct env *e, const char *omnitron_token, const char *retry)
{
    char *fixture = support_printf(
        "{\"omnitron\": {\"url\": \"%s\", \"token\": \"%s\"},"
        " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1}],"
        " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
        "   \"order_number\": \"ORDER-501\","
        "   \"items\": [{\"id\": 9001, \"order_item\": 7001, \"sku\": \"SKU-1\", \"quantity\": 1},"
        "    {\"id\": 9002, \"order_item\": 7002, \"sku\": \"SKU-2\", \"quantity\": 2},"
        "    {\"id\": 9003, \"order_item\": 7003, \"sku\": \"SKU-3\", \"quantity\": 1,"
        "     \"status\": \"Packed for Refund\"}]}],"
        " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
        "   \"target_url\": \"%s/hooks/erp\", \"secret_key\": \"" SECRET "\","
        "   \"additional_headers\": {\"X-Tenant\": \"acme\", \"X-Env\": \"test\","
        "     \"X-Quote\": \"a \\\"b\\\" \\\\ c/d\"},"
        "   \"retry_countdown_config\": %s}]}",
        oms_recorder_url(e->rv.omnitron), omnitron_token, oms_recorder_url(e->rv.webhook), retry);
    support_load(e->r.client, e->r.base, fixture);
    free(fixture);
}

static int64_t command(struct env *e, const char *body)
{
    struct oms_http_exchange x = {0};
    int64_t start = oms_time_mono_ms();
    long status = support_command(e->r.client, &x, e->r.base, 501, body);
    int64_t took = oms_time_mono_ms() - start;
    oms_http_exchange_cleanup(&x);
    assert_int_equal(status, 204);
    return took;
}

/* The outbox row of that kind in state (borrowed), or NULL. */
static json_t *row_of(const json_t *state, const char *kind)
{
    return support_find_string(json_object_get(state, "outbox"), "kind", kind);
}

/* Polls GET /_fixture/state until the row of that kind has at least min_attempts attempts and,
 * when want is not NULL, is in state want. Returns the state (new reference); fails the test after
 * timeout_ms. */
static json_t *wait_row(struct env *e, const char *kind, long min_attempts, const char *want,
                        int64_t timeout_ms)
{
    int64_t deadline = oms_time_mono_ms() + timeout_ms;
    for (;;) {
        json_t *s = support_get_state(e->r.client, e->r.base);
        json_t *row = row_of(s, kind);
        if (row && json_integer_value(json_object_get(row, "attempts")) >= min_attempts &&
            (!want || strcmp(json_string_value(json_object_get(row, "state")), want) == 0))
            return s;
        if (oms_time_mono_ms() > deadline) {
            char text[2048] = "";
            size_t n = json_dumpb(json_object_get(s, "outbox"), text, sizeof(text) - 1, 0);
            text[n < sizeof(text) ? n : sizeof(text) - 1] = '\0';
            json_decref(s);
            fail_msg("%s row never reached %ld attempt(s)%s%s: %s", kind, min_attempts,
                     want ? " in state " : "", want ? want : "", text);
        }
        json_decref(s);
        oms_time_sleep_ms(20);
    }
}

static const char *header(const json_t *entry, const char *name)
{
    return json_string_value(json_object_get(json_object_get(entry, "headers"), name));
}

static int is_hex32(const char *s)
{
    if (!s || strlen(s) != 32)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return 0;
    return 1;
}

/* SPEC C-8, C-9, O-3, A-4, A-6: after drain, Omnitron received exactly one PATCH listing exactly
 * the moved order items, and the subscriber exactly one signed POST with its additional headers. */
static void test_command_delivers_one_patch_and_one_signed_webhook(void **state)
{
    struct env *e = *state;
    load(e, OMNI_TOKEN, "null");
    command(e, COMMAND);
    json_t *d = support_drain(e->r.client, e->r.base, 10000);
    assert_true(json_is_true(json_object_get(d, "drained")));
    json_decref(d);

    json_t *patches = oms_recorder_journal(e->rv.omnitron, NULL);
    assert_int_equal(json_array_size(patches), 1);
    json_t *p = json_array_get(patches, 0);
    assert_string_equal(json_string_value(json_object_get(p, "method")), "PATCH");
    assert_string_equal(json_string_value(json_object_get(p, "path")),
                        "/api/i1/order_items/bulk_status_update/");
    assert_string_equal(header(p, "authorization"), "Token " OMNI_TOKEN);
    assert_non_null(strstr(header(p, "content-type"), "application/json"));
    assert_int_equal(json_integer_value(json_object_get(p, "answered")), 200);
    json_t *expected =
        json_pack("{s:[{s:i, s:s}, {s:i, s:s}]}", "orderitem_set", "id", 7001, "status",
                  "packed_for_refund", "id", 7002, "status", "packed_for_refund");
    support_assert_json_equal(json_object_get(p, "json"), expected);
    json_decref(expected);
    json_decref(patches);

    json_t *hooks = oms_recorder_journal(e->rv.webhook, NULL);
    assert_int_equal(json_array_size(hooks), 1);
    json_t *h = json_array_get(hooks, 0);
    assert_string_equal(json_string_value(json_object_get(h, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(h, "path")), "/hooks/erp");
    assert_string_equal(header(h, "x-tenant"), "acme");
    assert_string_equal(header(h, "x-env"), "test");
    /* Escapes in a stored header survive to the wire. */
    assert_string_equal(header(h, "x-quote"), "a \"b\" \\ c/d");
    assert_non_null(strstr(header(h, "content-type"), "application/json"));
    const char *body = json_string_value(json_object_get(h, "body"));
    char mac[65], signature[80];
    oms_hmac_sha256_hex(SECRET, strlen(SECRET), body, strlen(body), mac);
    snprintf(signature, sizeof(signature), "sha256=%s", mac);
    assert_string_equal(header(h, "x-akinon-signature"), signature);

    json_t *doc = json_object_get(h, "json");
    json_t *event = json_object_get(doc, "event");
    assert_string_equal(json_string_value(json_object_get(event, "type")),
                        "package.status.packed_for_refund");
    const char *uuid = json_string_value(json_object_get(event, "uuid"));
    assert_true(is_hex32(uuid));
    json_t *payload = json_object_get(doc, "payload");
    assert_int_equal(json_integer_value(json_object_get(payload, "id")), 501);
    assert_int_equal(json_integer_value(json_object_get(payload, "location")), 1);
    assert_string_equal(json_string_value(json_object_get(payload, "order_number")), "ORDER-501");
    assert_string_equal(json_string_value(json_object_get(payload, "status")), "1100");
    json_t *items = json_object_get(payload, "items");
    assert_int_equal(json_array_size(items), 3);
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        assert_string_equal(json_string_value(json_object_get(item, "status")), "1100");
    }
    json_t *i1 = support_find_id(items, 9002);
    assert_int_equal(json_integer_value(json_object_get(i1, "order_item")), 7002);
    assert_string_equal(json_string_value(json_object_get(i1, "sku")), "SKU-2");
    assert_int_equal(json_integer_value(json_object_get(i1, "quantity")), 2);

    /* The outbox shows both rows delivered on the first attempt, the event's uuid recorded. */
    json_t *s = support_get_state(e->r.client, e->r.base);
    assert_int_equal(json_array_size(json_object_get(s, "outbox")), 2);
    static const char *const kinds[] = {"omnitron", "webhook"};
    for (int k = 0; k < 2; k++) {
        json_t *row = row_of(s, kinds[k]);
        assert_non_null(row);
        assert_string_equal(json_string_value(json_object_get(row, "state")), "delivered");
        assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 1);
        assert_int_equal(json_integer_value(json_object_get(row, "last_status")), 200);
    }
    assert_string_equal(json_string_value(json_object_get(row_of(s, "webhook"), "event_uuid")),
                        uuid);
    json_decref(s);
    json_decref(hooks);
}

/* SPEC C-8, C-9: "sync_remote_order_status": false sends nothing to Omnitron; without a
 * subscription, no webhook. */
static void test_no_sync_and_no_subscription_send_nothing(void **state)
{
    struct env *e = *state;
    char *fixture =
        support_printf("{\"omnitron\": {\"url\": \"%s\", \"token\": \"" OMNI_TOKEN "\"},"
                       " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1}],"
                       " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
                       "   \"items\": [{\"id\": 9001, \"order_item\": 7001}]}],"
                       " \"subscriptions\": [{\"event_type\": \"package.status.out_of_stock\","
                       "   \"target_url\": \"%s/hooks/other\"}]}",
                       oms_recorder_url(e->rv.omnitron), oms_recorder_url(e->rv.webhook));
    support_load(e->r.client, e->r.base, fixture);
    free(fixture);
    command(e, "{\"package\": 501, \"transition\": 17, \"sync_remote_order_status\": false}");
    json_t *d = support_drain(e->r.client, e->r.base, 10000);
    assert_true(json_is_true(json_object_get(d, "drained")));
    json_decref(d);
    json_t *s = support_get_state(e->r.client, e->r.base);
    assert_int_equal(json_array_size(json_object_get(s, "outbox")), 0);
    json_decref(s);
    assert_int_equal(oms_recorder_count(e->rv.omnitron), 0);
    assert_int_equal(oms_recorder_count(e->rv.webhook), 0);
}

/* SPEC O-1, O-2: a slow, failing subscriber neither fails nor delays the command; its row is kept
 * pending for a retry (or dead-lettered), never dropped, every attempt recorded. */
static void test_webhook_503_keeps_the_row_and_the_command_prompt(void **state)
{
    struct env *e = *state;
    load(e, OMNI_TOKEN, "{\"choice\": \"fixed\", \"countdown\": 60, \"max_retries\": 3}");
    /* The first delivery is held 1500 ms before the 503. */
    support_behave(e->rv.webhook, "{\"status\": 503, \"faults\": [{\"delay_ms\": 1500}]}");
    int64_t took = command(e, COMMAND);
    /* Had the command waited for the subscriber it would have taken at least the delay. */
    assert_true(took < 1500);

    json_t *s = wait_row(e, "webhook", 1, NULL, 20000);
    json_t *row = row_of(s, "webhook");
    const char *st = json_string_value(json_object_get(row, "state"));
    assert_true(strcmp(st, "pending") == 0 || strcmp(st, "dead") == 0);
    assert_string_equal(st, "pending"); /* 3 retries, 60 s apart: the first retry is not due yet */
    assert_int_equal(json_integer_value(json_object_get(row, "last_status")), 503);
    assert_int_equal(json_integer_value(json_object_get(row, "max_attempts")), 4);
    json_t *history = json_object_get(row, "attempt_history");
    assert_int_equal(json_array_size(history),
                     json_integer_value(json_object_get(row, "attempts")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(history, 0), "status")),
                     503);
    assert_true(json_integer_value(json_object_get(json_array_get(history, 0), "elapsed_ms")) >=
                1500);
    assert_string_equal(json_string_value(json_object_get(row_of(s, "omnitron"), "state")),
                        "delivered");
    json_decref(s);
    assert_int_equal(oms_recorder_count(e->rv.webhook), 1);

    json_t *d = support_drain(e->r.client, e->r.base, 200);
    assert_true(json_is_false(json_object_get(d, "drained")));
    assert_int_equal(json_integer_value(json_object_get(d, "pending")), 1);
    json_decref(d);
}

/* SPEC O-2: 5xx answers are retried up to max_retries, then the row is dead-lettered and visible;
 * every retry carries the same event uuid and the same signed bytes. */
static void test_webhook_503_is_retried_then_dead_with_the_same_uuid(void **state)
{
    struct env *e = *state;
    load(e, OMNI_TOKEN, "{\"choice\": \"fixed\", \"countdown\": 0, \"max_retries\": 2}");
    support_behave(e->rv.webhook, "{\"status\": 503}");
    command(e, COMMAND);
    json_t *s = wait_row(e, "webhook", 3, "dead", 20000);
    json_t *row = row_of(s, "webhook");
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 3);
    assert_int_equal(json_array_size(json_object_get(row, "attempt_history")), 3);
    const char *uuid = json_string_value(json_object_get(row, "event_uuid"));
    assert_true(is_hex32(uuid));

    json_t *hooks = oms_recorder_journal(e->rv.webhook, NULL);
    assert_int_equal(json_array_size(hooks), 3);
    const char *first_body = json_string_value(json_object_get(json_array_get(hooks, 0), "body"));
    const char *first_sig = header(json_array_get(hooks, 0), "x-akinon-signature");
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h)
    {
        json_t *event = json_object_get(json_object_get(h, "json"), "event");
        assert_string_equal(json_string_value(json_object_get(event, "uuid")), uuid);
        assert_string_equal(json_string_value(json_object_get(h, "body")), first_body);
        assert_string_equal(header(h, "x-akinon-signature"), first_sig);
        assert_int_equal(json_integer_value(json_object_get(h, "answered")), 503);
    }
    json_decref(hooks);
    json_decref(s);

    json_t *d = support_drain(e->r.client, e->r.base, 1000);
    assert_true(json_is_true(json_object_get(d, "drained")));
    assert_int_equal(json_integer_value(json_object_get(d, "dead")), 1);
    json_decref(d);
}

/* SPEC O-2: a receiver that recovers gets the event on a retry, and the row ends delivered. */
static void test_webhook_recovers_after_two_503(void **state)
{
    struct env *e = *state;
    load(e, OMNI_TOKEN, "{\"choice\": \"fixed\", \"countdown\": 0, \"max_retries\": 5}");
    support_behave(e->rv.webhook, "{\"faults\": [{\"status\": 503, \"times\": 2}]}");
    command(e, COMMAND);
    json_t *s = wait_row(e, "webhook", 3, "delivered", 20000);
    json_t *history = json_object_get(row_of(s, "webhook"), "attempt_history");
    assert_int_equal(json_array_size(history), 3);
    static const long statuses[] = {503, 503, 200};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(history, i), "status")),
                         statuses[i]);
    json_decref(s);
    assert_int_equal(oms_recorder_count(e->rv.webhook), 3);
}

/* Docs (reference-impl.md, Delivery): a 4xx is not retried - the row is dead after one attempt. */
static void test_webhook_400_is_dead_after_one_attempt(void **state)
{
    struct env *e = *state;
    load(e, OMNI_TOKEN, "{\"choice\": \"fixed\", \"countdown\": 0, \"max_retries\": 5}");
    support_behave(e->rv.webhook, "{\"status\": 400}");
    command(e, COMMAND);
    json_t *d = support_drain(e->r.client, e->r.base, 10000);
    assert_true(json_is_true(json_object_get(d, "drained")));
    assert_int_equal(json_integer_value(json_object_get(d, "dead")), 1);
    assert_int_equal(json_integer_value(json_object_get(d, "delivered")), 1);
    json_decref(d);
    json_t *s = support_get_state(e->r.client, e->r.base);
    json_t *row = row_of(s, "webhook");
    assert_string_equal(json_string_value(json_object_get(row, "state")), "dead");
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 1);
    assert_int_equal(json_integer_value(json_object_get(row, "last_status")), 400);
    assert_non_null(json_string_value(json_object_get(row, "last_error")));
    json_decref(s);
    assert_int_equal(oms_recorder_count(e->rv.webhook), 1);
}

/* The same for Omnitron: a wrong token is a 401 from the mock, and the row is dead-lettered at
 * once instead of hammering Omnitron. */
static void test_omnitron_401_is_dead_after_one_attempt(void **state)
{
    struct env *e = *state;
    load(e, "wrong-token", "null");
    command(e, COMMAND);
    json_t *d = support_drain(e->r.client, e->r.base, 10000);
    assert_true(json_is_true(json_object_get(d, "drained")));
    json_decref(d);
    json_t *s = support_get_state(e->r.client, e->r.base);
    json_t *row = row_of(s, "omnitron");
    assert_string_equal(json_string_value(json_object_get(row, "state")), "dead");
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 1);
    assert_int_equal(json_integer_value(json_object_get(row, "last_status")), 401);
    json_decref(s);
    json_t *patches = oms_recorder_journal(e->rv.omnitron, NULL);
    assert_int_equal(json_array_size(patches), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(patches, 0), "answered")),
                     401);
    json_decref(patches);
}

/* SPEC O-2: a connection error is retried, then dead-lettered with the error recorded. */
static void test_unreachable_subscriber_is_retried_then_dead(void **state)
{
    struct env *e = *state;
    /* A port that was just listening and no longer is. */
    struct oms_recorder *gone = NULL;
    struct oms_err err = {0};
    struct mock_webhook_config wc = {0};
    assert_int_equal(mock_webhook_start(&wc, &gone, &err), 0);
    char *url = support_printf("%s", oms_recorder_url(gone));
    oms_recorder_stop(gone);
    char *fixture =
        support_printf("{\"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1}],"
                       " \"profile\": {\"sync_remote_order_status_default\": false},"
                       " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\"}],"
                       " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
                       "   \"target_url\": \"%s/hooks/gone\","
                       "   \"retry_countdown_config\": {\"choice\": \"fixed\", \"countdown\": 0,"
                       "   \"max_retries\": 1}}]}",
                       url);
    support_load(e->r.client, e->r.base, fixture);
    free(fixture);
    free(url);
    command(e, COMMAND);
    json_t *s = wait_row(e, "webhook", 2, "dead", 30000);
    json_t *row = row_of(s, "webhook");
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 2);
    const char *error = json_string_value(json_object_get(row, "last_error"));
    assert_non_null(error);
    assert_true(strlen(error) > 0);
    json_decref(s);
}

/* SPEC O-2 and reference-impl.md ("Delivery"): attempts go on kept-alive connections, each with
 * its Delivery-Id and Delivery-Attempt. A receiver that drops an attempt on a reused connection
 * makes libcurl send it again on a new one; that re-send is still one attempt - one journal entry
 * (its re-send counted apart), one failed attempt in the row - and the retry is attempt 2. */
static void test_dropped_attempt_on_a_kept_alive_connection_is_one_attempt(void **state)
{
    struct env *e = *state;
    char *fixture =
        support_printf("{\"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 2}],"
                       " \"profile\": {\"sync_remote_order_status_default\": false},"
                       " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\"},"
                       "   {\"id\": 502, \"location\": 1, \"status\": \"Waiting\"}],"
                       " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
                       "   \"target_url\": \"%s/hooks/erp\","
                       "   \"retry_countdown_config\": {\"choice\": \"fixed\", \"countdown\": 0,"
                       "   \"max_retries\": 3}}]}",
                       oms_recorder_url(e->rv.webhook));
    support_load(e->r.client, e->r.base, fixture);
    free(fixture);
    /* The first delivery leaves a kept-alive connection to the receiver. */
    command(e, COMMAND);
    json_t *d = support_drain(e->r.client, e->r.base, 10000);
    assert_true(json_is_true(json_object_get(d, "drained")));
    json_decref(d);
    support_behave(e->rv.webhook, "{\"faults\": [{\"drop\": true}]}");
    struct oms_http_exchange x = {0};
    assert_int_equal(
        support_command(e->r.client, &x, e->r.base, 502, "{\"package\": 502, \"transition\": 17}"),
        204);
    oms_http_exchange_cleanup(&x);
    d = support_drain(e->r.client, e->r.base, 10000);
    assert_true(json_is_true(json_object_get(d, "drained")));
    json_decref(d);

    json_t *s = support_get_state(e->r.client, e->r.base);
    json_t *rows = json_object_get(s, "outbox");
    assert_int_equal(json_array_size(rows), 2);
    json_t *row = json_array_get(rows, 1);
    const char *uuid = json_string_value(json_object_get(row, "event_uuid"));
    assert_string_equal(json_string_value(json_object_get(row, "state")), "delivered");
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 2);
    json_t *history = json_object_get(row, "attempt_history");
    assert_int_equal(json_array_size(history), 2);
    assert_true(json_is_null(json_object_get(json_array_get(history, 0), "status")) ||
                json_integer_value(json_object_get(json_array_get(history, 0), "status")) == 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(history, 1), "status")),
                     200);

    json_t *hooks = oms_recorder_journal(e->rv.webhook, NULL);
    if (json_array_size(hooks) != 3)
        fail_msg("the receiver recorded %zu requests for 3 attempts", json_array_size(hooks));
    for (size_t i = 1; i < 3; i++) {
        json_t *h = json_array_get(hooks, i);
        assert_string_equal(header(h, "delivery-id"), uuid);
        assert_int_equal(strtol(header(h, "delivery-attempt"), NULL, 10), (long)i);
    }
    json_t *dropped = json_array_get(hooks, 1);
    assert_string_equal(json_string_value(json_object_get(dropped, "outcome")), "dropped");
    /* It was dropped on the reused connection, re-sent by libcurl on a new one, and recognised. */
    assert_int_equal(json_integer_value(json_object_get(dropped, "resent")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(hooks, 2), "answered")),
                     200);
    json_decref(hooks);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_command_delivers_one_patch_and_one_signed_webhook,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_sync_and_no_subscription_send_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_webhook_503_keeps_the_row_and_the_command_prompt,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_503_is_retried_then_dead_with_the_same_uuid,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_recovers_after_two_503, setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_400_is_dead_after_one_attempt, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_omnitron_401_is_dead_after_one_attempt, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_dropped_attempt_on_a_kept_alive_connection_is_one_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_subscriber_is_retried_then_dead, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
