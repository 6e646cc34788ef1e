/* test_fixture_protocol: the fixture protocol of the reference (docs/fixture-protocol.md) - errors
 * of PUT /_fixture/state name the JSON path and leave the previous state whole (SPEC Q-4 among
 * them), a load replaces everything, drain waits for deliveries, the profile in force is shown. */
#include "support.h"

#include "mock_omnitron.h"
#include "mock_webhook.h"
#include "oms_time.h"
#include "reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct env {
    struct support_ref r;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    support_ref_start(&e->r);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    support_ref_stop(&e->r);
    free(e);
    return 0;
}

/* State A: one Waiting package (quota 1), one Out of Stock package, a subscription, Omnitron
 * settings and a profile override. */
static const char FIXTURE_A[] =
    "{\"profile\": {\"sync_remote_order_status_default\": false},"
    " \"omnitron\": {\"url\": \"http://127.0.0.1:9\", \"token\": \"omni-a\"},"
    " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1},"
    "               {\"id\": 2, \"max_quota\": 3, \"quota\": 0}],"
    " \"packages\": ["
    "  {\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
    "   \"items\": [{\"id\": 9001, \"order_item\": 7001, \"sku\": \"SKU-1\"}],"
    "   \"reservations\": [{\"id\": 1, \"sku\": \"SKU-1\", \"quantity\": 1}],"
    "   \"discrepancies\": [{\"id\": 1, \"item\": 9001, \"kind\": \"damaged\"}]},"
    "  {\"id\": 502, \"location\": 2, \"status\": 920,"
    "   \"items\": [{\"id\": 9002, \"order_item\": 7002, \"sku\": \"SKU-2\"}]}],"
    " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
    "   \"target_url\": \"http://127.0.0.1:9/hooks/a\"}]}";

/* A fixture that is valid except for one thing, and the path its error must name. prefix: the
 * path may go on below the named one (e.g. "$.packages[1]" or "$.packages[1].id"). */
struct bad_fixture {
    const char *name;
    const char *fixture;
    const char *path;
    int prefix;
    const char *message_part; /* expected in the message, or NULL */
};

#define LOC1      "\"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1}]"
#define PKG(id)   "{\"id\": " #id ", \"location\": 1, \"status\": \"Waiting\"}"
#define PACKED(i) "{\"id\": " #i ", \"location\": 1, \"status\": \"Packed\"}"

static const struct bad_fixture BAD[] = {
    {"unknown package status",
     "{" LOC1 ", \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Wating\"}]}",
     "$.packages[0].status", 0, "Wating"},
    {"unknown status number",
     "{" LOC1 ", \"packages\": [" PKG(501) ", {\"id\": 502, \"location\": 1, \"status\": 101}]}",
     "$.packages[1].status", 0, "101"},
    {"unknown item status",
     "{" LOC1 ", \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
     " \"items\": [{\"id\": 1}, {\"id\": 2, \"status\": \"Shippd\"}]}]}",
     "$.packages[0].items[1].status", 0, "Shippd"},
    {"quota disagrees with the counting packages (Q-4)",
     "{\"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 0}], \"packages\": [" PKG(
         501) "]}",
     "$.locations[0].quota", 0, "quota_drift"},
    {"quota too high for no counting package (Q-4)",
     "{\"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1},"
     " {\"id\": 2, \"max_quota\": 10, \"quota\": 2}],"
     " \"packages\": [" PKG(501) ", {\"id\": 502, \"location\": 2, \"status\": \"Waiting\"}]}",
     "$.locations[1].quota", 0, NULL},
    {"quota_drift not a boolean",
     "{\"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 0, \"quota_drift\": \"yes\"}]}",
     "$.locations[0].quota_drift", 0, NULL},
    {"duplicate package id", "{" LOC1 ", \"packages\": [" PKG(501) ", " PACKED(501) "]}",
     "$.packages[1]", 1, "501"},
    {"duplicate location id",
     "{\"locations\": [{\"id\": 1, \"max_quota\": 1}, {\"id\": 1, \"max_quota\": 2}]}",
     "$.locations[1]", 1, NULL},
    {"duplicate item id across packages",
     "{" LOC1 ", \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
     " \"items\": [{\"id\": 9001}]}, {\"id\": 502, \"location\": 1, \"status\": \"Packed\","
     " \"items\": [{\"id\": 9001}]}]}",
     "$.packages[1].items[0]", 1, NULL},
    {"package at an unknown location",
     "{" LOC1 ", \"packages\": [" PKG(501) ", {\"id\": 502, \"location\": 7, \"status\": 500}]}",
     "$.packages[1].location", 0, "7"},
    {"package without id", "{" LOC1 ", \"packages\": [{\"location\": 1, \"status\": 100}]}",
     "$.packages[0].id", 0, NULL},
    {"negative max_quota", "{\"locations\": [{\"id\": 1, \"max_quota\": -1}]}",
     "$.locations[0].max_quota", 0, NULL},
    {"packages not a list", "{" LOC1 ", \"packages\": {}}", "$.packages", 0, NULL},
    {"unknown top-level key", "{" LOC1 ", \"colour\": 1}", "$.colour", 0, "colour"},
    {"unknown package key",
     "{" LOC1 ", \"packages\": [{\"id\": 501, \"location\": 1, \"status\": 100, \"colour\": 1}]}",
     "$.packages[0].colour", 0, NULL},
    {"bad subscription target_url",
     "{\"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
     " \"target_url\": \"ftp://127.0.0.1/hook\"}]}",
     "$.subscriptions[0].target_url", 0, NULL},
    {"subscription target_url not a string",
     "{\"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
     " \"target_url\": \"http://127.0.0.1/ok\"}, {\"event_type\": \"x\", \"target_url\": 5}]}",
     "$.subscriptions[1].target_url", 0, NULL},
    {"subscription without event_type",
     "{\"subscriptions\": [{\"target_url\": \"http://127.0.0.1/hook\"}]}",
     "$.subscriptions[0].event_type", 0, NULL},
    {"subscription with a bad retry policy",
     "{\"subscriptions\": [{\"event_type\": \"e\", \"target_url\": \"http://127.0.0.1/hook\","
     " \"retry_countdown_config\": {\"choice\": \"sometimes\"}}]}",
     "$.subscriptions[0].retry_countdown_config", 1, NULL},
    {"omnitron url not a string", "{\"omnitron\": {\"url\": 5}}", "$.omnitron", 1, NULL},
    {"profile override not an object", "{\"profile\": []}", "$.profile", 1, NULL},
    {"fixture not an object", "[]", "$", 0, NULL},
    {"fixture not JSON", "{\"locations\": [", "$", 0, NULL},
    {"duplicate JSON key", "{\"locations\": [], \"locations\": []}", "$", 0, NULL},
};

/* The first key of the envelope's error object. */
static const char *first_error_key(const json_t *envelope)
{
    void *it = json_object_iter(json_object_get(envelope, "error"));
    return it ? json_object_iter_key(it) : NULL;
}

/* Docs: every refused fixture answers 400 with the offending value's JSON path as the field, and
 * nothing of the previous state changes. */
static void test_put_state_errors_name_the_json_path(void **state)
{
    struct env *e = *state;
    support_load(e->r.client, e->r.base, FIXTURE_A);
    json_t *before = support_get_state(e->r.client, e->r.base);
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        const struct bad_fixture *t = &BAD[i];
        static const char *const headers[] = {SUPPORT_JSON_CTYPE, NULL};
        struct oms_http_exchange x = {0};
        support_http(e->r.client, &x, "PUT", e->r.base, "/_fixture/state", headers, t->fixture,
                     strlen(t->fixture));
        char why[600];
        int rc = support_check_envelope(&x, 400, t->prefix ? NULL : t->path, why, sizeof(why));
        json_t *doc = support_json(&x);
        oms_http_exchange_cleanup(&x);
        const char *key = first_error_key(doc);
        if (rc == 0 && t->prefix && (!key || strncmp(key, t->path, strlen(t->path)) != 0)) {
            snprintf(why, sizeof(why), "error at \"%s\", expected at or under \"%s\"",
                     key ? key : "(none)", t->path);
            rc = -1;
        }
        if (rc == 0 && t->message_part) {
            const char *msg = support_error_message(doc, key);
            if (!msg || !strstr(msg, t->message_part)) {
                snprintf(why, sizeof(why), "message \"%s\" does not mention \"%s\"",
                         msg ? msg : "(none)", t->message_part);
                rc = -1;
            }
        }
        json_decref(doc);
        if (rc != 0)
            fail_msg("case \"%s\": %s", t->name, why);
        json_t *after = support_get_state(e->r.client, e->r.base);
        int same = json_equal(before, after);
        json_decref(after);
        if (!same)
            fail_msg("case \"%s\": the refused fixture changed the state", t->name);
    }
    json_decref(before);
}

/* Docs: "on any error nothing changes" - neither the state, nor the profile overrides, nor the
 * Omnitron settings of the refused fixture. The error here comes last (the quota check runs after
 * every row was inserted), so a partial load would show. */
static void test_refused_fixture_leaves_previous_state_and_profile(void **state)
{
    struct env *e = *state;
    support_load(e->r.client, e->r.base, FIXTURE_A);
    json_t *state_a = support_get_state(e->r.client, e->r.base);
    struct oms_http_exchange x = {0};
    assert_int_equal(
        support_http(e->r.client, &x, "GET", e->r.base, "/_fixture/profile", NULL, NULL, 0), 200);
    json_t *profile_a = support_json(&x);
    oms_http_exchange_cleanup(&x);

    static const char bad_b[] =
        "{\"profile\": {\"tokens\": [\"token-b\"], \"sync_remote_order_status_default\": true},"
        " \"omnitron\": {\"url\": \"http://127.0.0.1:10\", \"token\": \"omni-b\"},"
        " \"locations\": [{\"id\": 5, \"max_quota\": 10, \"quota\": 3}],"
        " \"packages\": [{\"id\": 600, \"location\": 5, \"status\": \"Waiting\","
        "   \"items\": [{\"id\": 9100}]}],"
        " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
        "   \"target_url\": \"http://127.0.0.1:10/hooks/b\"}]}";
    json_t *answer = NULL;
    assert_int_equal(support_put_state(e->r.client, e->r.base, bad_b, &answer), 400);
    assert_non_null(json_object_get(json_object_get(answer, "error"), "$.locations[0].quota"));
    json_decref(answer);

    json_t *now = support_get_state(e->r.client, e->r.base);
    assert_true(json_equal(now, state_a));
    json_decref(now);
    support_http(e->r.client, &x, "GET", e->r.base, "/_fixture/profile", NULL, NULL, 0);
    json_t *profile_now = support_json(&x);
    oms_http_exchange_cleanup(&x);
    assert_true(json_equal(profile_now, profile_a));
    json_decref(profile_now);

    /* A's token still works, B's does not; and A's Omnitron settings are in force. */
    static const char *const b_auth[] = {"Authorization: Token token-b", SUPPORT_JSON_CTYPE, NULL};
    static const char body[] =
        "{\"package\": 501, \"transition\": 17, \"sync_remote_order_status\": true}";
    assert_int_equal(support_http(e->r.client, &x, "POST", e->r.base,
                                  "/api/v1/oms/packages/501/command/", b_auth, body, strlen(body)),
                     401);
    oms_http_exchange_cleanup(&x);
    assert_int_equal(support_command(e->r.client, &x, e->r.base, 501, body), 204);
    oms_http_exchange_cleanup(&x);
    now = support_get_state(e->r.client, e->r.base);
    json_t *row = json_array_get(json_object_get(now, "outbox"), 0);
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "kind")), "omnitron");
    assert_string_equal(json_string_value(json_object_get(row, "url")),
                        "http://127.0.0.1:9/api/i1/order_items/bulk_status_update/");
    /* The Omnitron token never leaves in a GET: the header is shown redacted. */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(row, "headers"), "Authorization")),
        "***");
    json_decref(now);
    json_decref(state_a);
    json_decref(profile_a);
}

/* Docs: PUT replaces the whole state and clears the outbox, the transition log and the
 * subscriptions; statuses are resolved by name, key or number and exported as numbers. */
static void test_put_state_replaces_everything(void **state)
{
    struct env *e = *state;
    support_load(e->r.client, e->r.base, FIXTURE_A);
    struct oms_http_exchange x = {0};
    assert_int_equal(support_command(e->r.client, &x, e->r.base, 501,
                                     "{\"package\": 501, \"slug\": \"packed-for-refund\","
                                     " \"sync_remote_order_status\": true}"),
                     204);
    oms_http_exchange_cleanup(&x);
    json_t *s = support_get_state(e->r.client, e->r.base);
    assert_int_equal(json_array_size(json_object_get(s, "transition_log")), 1);
    assert_true(json_array_size(json_object_get(s, "outbox")) >= 1);
    json_decref(s);

    support_load(e->r.client, e->r.base,
                 "{\"locations\": [{\"id\": 3, \"max_quota\": 4, \"quota\": 1}],"
                 " \"packages\": [{\"id\": 700, \"location\": 3, \"status\": \"waiting\"},"
                 "  {\"id\": 701, \"location\": 3, \"status\": \"1100\","
                 "   \"items\": [{\"id\": 1, \"status\": \"Packed for Refund\"}]}]}");
    s = support_get_state(e->r.client, e->r.base);
    json_t *locations = json_object_get(s, "locations");
    json_t *packages = json_object_get(s, "packages");
    assert_int_equal(json_array_size(locations), 1);
    json_t *loc = json_array_get(locations, 0);
    assert_int_equal(json_integer_value(json_object_get(loc, "id")), 3);
    assert_int_equal(json_integer_value(json_object_get(loc, "available_quota")), 3);
    assert_true(json_is_false(json_object_get(loc, "quota_drift")));
    assert_int_equal(json_array_size(packages), 2);
    json_t *p700 = support_find_id(packages, 700);
    assert_int_equal(json_integer_value(json_object_get(p700, "status")), 100);
    assert_string_equal(json_string_value(json_object_get(p700, "order_number")), "ORDER-700");
    json_t *p701 = support_find_id(packages, 701);
    assert_int_equal(json_integer_value(json_object_get(p701, "status")), 1100);
    json_t *item = json_array_get(json_object_get(p701, "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(item, "status")), 1100);
    assert_int_equal(json_integer_value(json_object_get(item, "order_item")), 1);
    assert_int_equal(json_array_size(json_object_get(s, "transition_log")), 0);
    assert_int_equal(json_array_size(json_object_get(s, "outbox")), 0);
    assert_int_equal(json_array_size(json_object_get(s, "subscriptions")), 0);
    json_decref(s);
}

/* SPEC Q-4: "quota_drift": true accepts a counter that disagrees; it still moves by Q-2 and
 * clamps at 0. */
static void test_quota_drift_true_is_accepted_and_clamps(void **state)
{
    struct env *e = *state;
    support_load(e->r.client, e->r.base,
                 "{\"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 5,"
                 " \"quota_drift\": true},"
                 " {\"id\": 2, \"max_quota\": 10, \"quota\": 0, \"quota_drift\": true}],"
                 " \"packages\": [{\"id\": 501, \"location\": 2, \"status\": \"Waiting\"}],"
                 " \"profile\": {\"sync_remote_order_status_default\": false}}");
    json_t *s = support_get_state(e->r.client, e->r.base);
    json_t *l1 = support_find_id(json_object_get(s, "locations"), 1);
    assert_int_equal(json_integer_value(json_object_get(l1, "quota")), 5);
    assert_int_equal(json_integer_value(json_object_get(l1, "available_quota")), 5);
    assert_true(json_is_true(json_object_get(l1, "quota_drift")));
    json_decref(s);

    struct oms_http_exchange x = {0};
    assert_int_equal(
        support_command(e->r.client, &x, e->r.base, 501, "{\"package\": 501, \"transition\": 17}"),
        204);
    oms_http_exchange_cleanup(&x);
    s = support_get_state(e->r.client, e->r.base);
    json_t *l2 = support_find_id(json_object_get(s, "locations"), 2);
    assert_int_equal(json_integer_value(json_object_get(l2, "quota")), 0); /* not -1 */
    json_t *p = support_find_id(json_object_get(s, "packages"), 501);
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 1100);
    json_decref(s);
}

/* GET /_fixture/ and GET /_fixture/profile: the capabilities, and the profile in force - the
 * repository's default, then with a fixture's overrides, then the default again. */
static void test_profile_and_index(void **state)
{
    struct env *e = *state;
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(e->r.client, &x, "GET", e->r.base, "/_fixture/", NULL, NULL, 0),
                     200);
    json_t *index = support_json(&x);
    oms_http_exchange_cleanup(&x);
    assert_string_equal(json_string_value(json_object_get(index, "protocol")),
                        "refund-harness-fixture");
    assert_int_equal(json_integer_value(json_object_get(index, "version")), 1);
    static const char *const caps[] = {"state", "drain",        "profile",
                                       "hooks", "state-answer", "outbox"};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        size_t j;
        json_t *c;
        int found = 0;
        json_array_foreach(json_object_get(index, "capabilities"), j, c)
        {
            found |= json_is_string(c) && strcmp(json_string_value(c), caps[i]) == 0;
        }
        if (!found)
            fail_msg("capability \"%s\" not announced", caps[i]);
    }
    json_decref(index);

    json_t *file = json_load_file(support_path("profiles/default.json"), 0, NULL);
    assert_non_null(file);
    /* The API tokens are never shown: each reads "***". */
    json_t *tokens = json_object_get(file, "tokens");
    for (size_t i = 0; i < json_array_size(tokens); i++)
        json_array_set_new(tokens, i, json_string("***"));
    support_load(e->r.client, e->r.base, "{}");
    assert_int_equal(
        support_http(e->r.client, &x, "GET", e->r.base, "/_fixture/profile", NULL, NULL, 0), 200);
    json_t *profile = support_json(&x);
    oms_http_exchange_cleanup(&x);
    assert_true(json_equal(profile, file));
    json_decref(profile);

    support_load(e->r.client, e->r.base,
                 "{\"profile\": {\"sync_remote_order_status_default\": false,"
                 " \"tokens\": [\"other-token\"]}}");
    support_http(e->r.client, &x, "GET", e->r.base, "/_fixture/profile", NULL, NULL, 0);
    profile = support_json(&x);
    oms_http_exchange_cleanup(&x);
    assert_true(json_is_false(json_object_get(profile, "sync_remote_order_status_default")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(profile, "tokens"), 0)),
                        "***");
    /* Everything else is the base profile's. */
    json_object_set(profile, "sync_remote_order_status_default",
                    json_object_get(file, "sync_remote_order_status_default"));
    json_object_set(profile, "tokens", json_object_get(file, "tokens"));
    assert_true(json_equal(profile, file));
    json_decref(profile);
    /* The overrides are in force: the default token no longer opens the command endpoint. */
    assert_int_equal(support_command(e->r.client, &x, e->r.base, 1, "{}"), 401);
    oms_http_exchange_cleanup(&x);

    support_load(e->r.client, e->r.base, "{\"locations\": []}");
    support_http(e->r.client, &x, "GET", e->r.base, "/_fixture/profile", NULL, NULL, 0);
    profile = support_json(&x);
    oms_http_exchange_cleanup(&x);
    assert_true(json_equal(profile, file));
    json_decref(profile);
    json_decref(file);
}

/* Docs, capability "state-answer": PUT /_fixture/state?answer=state answers 200 with exactly what
 * GET /_fixture/state then shows; drain with answer=state carries it as "state"; a refused fixture
 * still answers 400 and changes nothing; any other answer value is a 400 naming "answer". */
static void test_state_answer(void **state)
{
    struct env *e = *state;
    const char *json_type[] = {"Content-Type: application/json", NULL};
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(e->r.client, &x, "PUT", e->r.base, "/_fixture/state?answer=state",
                                  json_type, FIXTURE_A, strlen(FIXTURE_A)),
                     200);
    json_t *answered = support_json(&x);
    oms_http_exchange_cleanup(&x);
    json_t *read = support_get_state(e->r.client, e->r.base);
    assert_non_null(answered);
    support_assert_json_equal(answered, read);
    /* Not an echo of the fixture: the canonical form, statuses as numbers. */
    assert_int_equal(json_integer_value(json_object_get(
                         support_find_id(json_object_get(answered, "packages"), 501), "status")),
                     100);
    json_decref(answered);

    /* A refused fixture with answer=state: 400 at its path, the state untouched. */
    const char *bad = "{\"locations\": [{\"id\": 1, \"max_quota\": -1}]}";
    assert_int_equal(support_http(e->r.client, &x, "PUT", e->r.base, "/_fixture/state?answer=state",
                                  json_type, bad, strlen(bad)),
                     400);
    support_assert_envelope(&x, 400, "$.locations[0].max_quota");
    oms_http_exchange_cleanup(&x);
    json_t *after = support_get_state(e->r.client, e->r.base);
    support_assert_json_equal(after, read);
    json_decref(after);

    /* Drain: the usual counters, and the state after draining. */
    assert_int_equal(support_http(e->r.client, &x, "POST", e->r.base,
                                  "/_fixture/drain?timeout_ms=1000&answer=state", NULL, NULL, 0),
                     200);
    json_t *d = support_json(&x);
    oms_http_exchange_cleanup(&x);
    assert_true(json_is_true(json_object_get(d, "drained")));
    support_assert_json_equal(json_object_get(d, "state"), read);
    json_decref(d);
    /* Without the argument, no state in the drain answer. */
    d = support_drain(e->r.client, e->r.base, 0);
    assert_null(json_object_get(d, "state"));
    json_decref(d);
    json_decref(read);

    static const char *const wrong[] = {"/_fixture/state?answer=everything",
                                        "/_fixture/drain?answer=", "/_fixture/drain?answer=STATE"};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        int put = strncmp(wrong[i], "/_fixture/state", 15) == 0;
        long status = support_http(e->r.client, &x, put ? "PUT" : "POST", e->r.base, wrong[i],
                                   put ? json_type : NULL, put ? "{}" : NULL, put ? 2 : 0);
        if (status != 400)
            fail_msg("%s answered %ld, expected 400", wrong[i], status);
        support_assert_envelope(&x, 400, "answer");
        oms_http_exchange_cleanup(&x);
    }
    /* The refused "{}" above was not loaded: package 501 is still there. */
    json_t *s = support_get_state(e->r.client, e->r.base);
    assert_non_null(support_find_id(json_object_get(s, "packages"), 501));
    json_decref(s);
}

/* Asserts the drain answer's documented counters (other keys may follow). */
static void assert_drain(const json_t *d, int drained, long pending, long delivered, long dead)
{
    json_t *expected = json_pack("{s:b, s:i, s:i, s:i}", "drained", drained, "pending",
                                 (int)pending, "delivered", (int)delivered, "dead", (int)dead);
    json_t *got = json_pack("{s:O?, s:O?, s:O?, s:O?}", "drained", json_object_get(d, "drained"),
                            "pending", json_object_get(d, "pending"), "delivered",
                            json_object_get(d, "delivered"), "dead", json_object_get(d, "dead"));
    support_assert_json_equal(got, expected);
    json_decref(got);
    json_decref(expected);
}

/* POST /_fixture/drain: {"drained": true, ...} once every row is delivered or dead; false with
 * the pending count when a receiver keeps failing; at least timeout_ms spent then. */
static void test_drain_reports_deliveries(void **state)
{
    struct env *e = *state;
    struct oms_recorder *omnitron = NULL, *webhook = NULL;
    struct oms_err err = {0};
    struct mock_omnitron_config oc = {.token = "omni"};
    struct mock_webhook_config wc = {0};
    assert_int_equal(mock_omnitron_start(&oc, &omnitron, &err), 0);
    assert_int_equal(mock_webhook_start(&wc, &webhook, &err), 0);

    char *fixture =
        support_printf("{\"omnitron\": {\"url\": \"%s\", \"token\": \"omni\"},"
                       " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 2}],"
                       " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
                       "   \"items\": [{\"id\": 9001, \"order_item\": 7001}]},"
                       "  {\"id\": 502, \"location\": 1, \"status\": \"Waiting\","
                       "   \"items\": [{\"id\": 9002, \"order_item\": 7002}]}],"
                       " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
                       "   \"target_url\": \"%s/hooks/erp\","
                       "   \"retry_countdown_config\": {\"choice\": \"fixed\", \"countdown\": 60,"
                       "   \"max_retries\": 3}}]}",
                       oms_recorder_url(omnitron), oms_recorder_url(webhook));
    support_load(e->r.client, e->r.base, fixture);

    /* Nothing to deliver yet. */
    json_t *d = support_drain(e->r.client, e->r.base, 1000);
    assert_drain(d, 1, 0, 0, 0);
    json_decref(d);

    struct oms_http_exchange x = {0};
    assert_int_equal(
        support_command(e->r.client, &x, e->r.base, 501, "{\"package\": 501, \"transition\": 17}"),
        204);
    oms_http_exchange_cleanup(&x);
    d = support_drain(e->r.client, e->r.base, 10000);
    assert_drain(d, 1, 0, 2, 0);
    json_decref(d);
    /* Drained means arrived. */
    assert_int_equal(oms_recorder_count(omnitron), 1);
    assert_int_equal(oms_recorder_count(webhook), 1);

    /* A failing receiver with a 60 s countdown: the row stays pending, drain says so. */
    json_t *behaviour = json_pack("{s:i}", "status", 503);
    assert_int_equal(oms_recorder_configure(webhook, behaviour, &err), 0);
    json_decref(behaviour);
    assert_int_equal(
        support_command(e->r.client, &x, e->r.base, 502, "{\"package\": 502, \"transition\": 17}"),
        204);
    oms_http_exchange_cleanup(&x);
    int64_t start = oms_time_mono_ms();
    d = support_drain(e->r.client, e->r.base, 300);
    int64_t spent = oms_time_mono_ms() - start;
    assert_drain(d, 0, 1, 3, 0);
    assert_true(spent >= 300);
    json_decref(d);

    /* A new fixture clears the outbox: drained again at once. */
    support_load(e->r.client, e->r.base, "{}");
    d = support_drain(e->r.client, e->r.base, 0);
    assert_drain(d, 1, 0, 0, 0);
    json_decref(d);

    free(fixture);
    oms_recorder_stop(omnitron);
    oms_recorder_stop(webhook);
}

/* Docs: "a delivery in flight is finished (or abandoned) before the state is replaced, so nothing
 * from an earlier state reaches a receiver afterwards". A subscriber that answers 503 after 50 ms
 * is retried at once, over and over; a load in the middle must end that. */
static void test_load_stops_deliveries_of_the_previous_state(void **state)
{
    struct env *e = *state;
    struct oms_recorder *webhook = NULL;
    struct oms_err err = {0};
    struct mock_webhook_config wc = {.status = 503};
    assert_int_equal(mock_webhook_start(&wc, &webhook, &err), 0);
    json_t *behaviour = json_pack("{s:[{s:i, s:i}]}", "faults", "delay_ms", 50, "times", 100000);
    assert_int_equal(oms_recorder_configure(webhook, behaviour, &err), 0);
    json_decref(behaviour);
    char *fixture =
        support_printf("{\"profile\": {\"sync_remote_order_status_default\": false},"
                       " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1}],"
                       " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\"}],"
                       " \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
                       "   \"target_url\": \"%s/hooks/old\","
                       "   \"retry_countdown_config\": {\"choice\": \"fixed\", \"countdown\": 0,"
                       "   \"max_retries\": 100}}]}",
                       oms_recorder_url(webhook));
    support_load(e->r.client, e->r.base, fixture);
    free(fixture);
    struct oms_http_exchange x = {0};
    assert_int_equal(
        support_command(e->r.client, &x, e->r.base, 501, "{\"package\": 501, \"transition\": 17}"),
        204);
    oms_http_exchange_cleanup(&x);
    /* Wait until retries are under way. */
    int64_t deadline = oms_time_mono_ms() + 20000;
    while (oms_recorder_count(webhook) < 2) {
        if (oms_time_mono_ms() > deadline)
            fail_msg("the subscriber never got its first attempts");
        oms_time_sleep_ms(5);
    }
    support_load(e->r.client, e->r.base, "{}");
    int64_t loaded_at = oms_time_wall_ms();
    /* Several retry cycles' worth of time for a stray attempt to show up. */
    oms_time_sleep_ms(400);
    json_t *journal = oms_recorder_journal(webhook, NULL);
    size_t i;
    json_t *entry;
    json_array_foreach(journal, i, entry)
    {
        int64_t at = json_integer_value(json_object_get(entry, "received_ms"));
        if (at > loaded_at)
            fail_msg("attempt %zu of the old state arrived %lld ms after the new state was loaded",
                     i, (long long)(at - loaded_at));
    }
    json_decref(journal);
    json_t *s = support_get_state(e->r.client, e->r.base);
    assert_int_equal(json_array_size(json_object_get(s, "outbox")), 0);
    json_decref(s);
    oms_recorder_stop(webhook);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_state_errors_name_the_json_path),
        cmocka_unit_test(test_refused_fixture_leaves_previous_state_and_profile),
        cmocka_unit_test(test_put_state_replaces_everything),
        cmocka_unit_test(test_quota_drift_true_is_accepted_and_clamps),
        cmocka_unit_test(test_profile_and_index),
        cmocka_unit_test(test_state_answer),
        cmocka_unit_test(test_drain_reports_deliveries),
        cmocka_unit_test(test_load_stops_deliveries_of_the_previous_state),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
