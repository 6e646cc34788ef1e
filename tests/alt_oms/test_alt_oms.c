/* test_alt_oms: alt-oms's own domain in-process - the retry formulas (SPEC O-2), profile and
 * fixture validation with JSON paths, and the command's check order and parsing choices (the
 * comment at the top of command.c). Expected values come from the formulas and the contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "alt_oms.h"
#include "oms_alloc.h"
#include "oms_json.h"

#ifndef ALT_OMS_DEFAULT_PROFILE
#error "ALT_OMS_DEFAULT_PROFILE must name the default profile"
#endif

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, e.text);
    return v;
}

static json_t *default_profile_doc(void)
{
    json_error_t e;
    json_t *doc = json_load_file(ALT_OMS_DEFAULT_PROFILE, 0, &e);
    if (!doc)
        fail_msg("%s: %s", ALT_OMS_DEFAULT_PROFILE, e.text);
    return doc;
}

/* ---- retry countdowns ---- */

static void test_alt_retry_delay_ms_follows_the_formulas(void **state)
{
    (void)state;
    static const struct {
        enum alt_retry_choice choice;
        double countdown;
        int n;
        int64_t want;
    } table[] = {
        /* fixed: c */
        {ALT_RETRY_FIXED, 2, 1, 2000},
        {ALT_RETRY_FIXED, 2, 5, 2000},
        {ALT_RETRY_FIXED, 0.05, 3, 50},
        /* linear: c * n */
        {ALT_RETRY_LINEAR, 0.5, 1, 500},
        {ALT_RETRY_LINEAR, 0.5, 2, 1000},
        {ALT_RETRY_LINEAR, 2, 3, 6000},
        /* exponential: c * 2^(n-1) */
        {ALT_RETRY_EXPONENTIAL, 2, 1, 2000},
        {ALT_RETRY_EXPONENTIAL, 2, 2, 4000},
        {ALT_RETRY_EXPONENTIAL, 2, 5, 32000},
        {ALT_RETRY_EXPONENTIAL, 1.5, 3, 6000},
        /* never beyond one day */
        {ALT_RETRY_EXPONENTIAL, 86400, 3, 86400000},
        {ALT_RETRY_EXPONENTIAL, 1, 100, 86400000},
        {ALT_RETRY_LINEAR, 86400, 100, 86400000},
    };
    uint64_t rng = 1;
    for (size_t i = 0; i < OMS_ARRAY_LEN(table); i++) {
        struct alt_retry r = {table[i].choice, table[i].countdown, 5};
        int64_t got = alt_retry_delay_ms(&r, table[i].n, &rng);
        if (got != table[i].want)
            fail_msg("row %zu: retry %d: expected %lld ms, got %lld", i, table[i].n,
                     (long long)table[i].want, (long long)got);
    }
}

static void test_alt_retry_delay_ms_random_stays_in_its_window(void **state)
{
    (void)state;
    struct alt_retry r = {ALT_RETRY_RANDOM, 1, 4};
    uint64_t rng = 42;
    for (int n = 1; n <= 4; n++) {
        int64_t top = 1000LL << (n - 1), lo = top, hi = 0;
        for (int k = 0; k < 500; k++) {
            int64_t d = alt_retry_delay_ms(&r, n, &rng);
            if (d < 0 || d > top)
                fail_msg("retry %d: %lld ms is outside [0, %lld]", n, (long long)d, (long long)top);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* 500 uniform draws spread over most of the window */
        assert_true(lo < top / 4);
        assert_true(hi > top - top / 4);
    }
    assert_int_equal(alt_retry_attempts(&r), 5);
}

static void test_alt_retry_parse_refuses_with_a_path(void **state)
{
    (void)state;
    static const struct {
        const char *policy;
        const char *path;
    } table[] = {
        {"[]", "$.r"},
        {"{\"choice\": \"sometimes\"}", "$.r.choice"},
        {"{\"choice\": 3}", "$.r.choice"},
        {"{\"countdown\": -1}", "$.r.countdown"},
        {"{\"countdown\": \"1\"}", "$.r.countdown"},
        {"{\"countdown\": 86401}", "$.r.countdown"},
        {"{\"max_retries\": 101}", "$.r.max_retries"},
        {"{\"max_retries\": 1.5}", "$.r.max_retries"},
        {"{\"max_retries\": -1}", "$.r.max_retries"},
        {"{\"tries\": 1}", "$.r.tries"},
    };
    for (size_t i = 0; i < OMS_ARRAY_LEN(table); i++) {
        json_t *v = parse(table[i].policy);
        struct alt_retry r;
        struct oms_err err;
        oms_err_clear(&err);
        assert_int_equal(alt_retry_parse(v, "$.r", &r, &err), OMS_E_INVAL);
        if (strcmp(err.path, table[i].path) != 0)
            fail_msg("%s: error at \"%s\", expected \"%s\"", table[i].policy, err.path,
                     table[i].path);
        json_decref(v);
    }
    json_t *v = parse("{\"choice\": \"linear\", \"countdown\": 0.5, \"max_retries\": 0}");
    struct alt_retry r;
    assert_int_equal(alt_retry_parse(v, "$.r", &r, NULL), 0);
    assert_int_equal(r.choice, ALT_RETRY_LINEAR);
    assert_int_equal(alt_retry_attempts(&r), 1);
    json_decref(v);
}

/* ---- the profile ---- */

static void test_alt_profile_reads_the_default_profile(void **state)
{
    (void)state;
    struct alt_profile *p = NULL;
    struct oms_err err;
    oms_err_clear(&err);
    assert_int_equal(alt_profile_load_file(ALT_OMS_DEFAULT_PROFILE, &p, &err), 0);

    static const struct {
        const char *ref;
        int64_t want; /* 0: not a status */
    } refs[] = {
        {"\"Out of Stock\"", 920},
        {"\"out of stock\"", 920},
        {"\"out_of_stock\"", 920},
        {"\"920\"", 920},
        {"920", 920},
        {"\"Packed for Refund\"", 1100},
        {"\"Wating\"", 0},
        {"921", 0},
        {"true", 0},
    };
    for (size_t i = 0; i < OMS_ARRAY_LEN(refs); i++) {
        json_t *v = parse(refs[i].ref);
        int64_t got = 0;
        int rc = alt_profile_status(p, v, &got);
        if (refs[i].want ? rc != 0 || got != refs[i].want : rc != OMS_E_NOENT)
            fail_msg("status %s: rc %d, value %lld", refs[i].ref, rc, (long long)got);
        json_decref(v);
    }
    /* SPEC A-5: below 400, or Cancellation Waiting */
    assert_true(alt_profile_counts(p, 100));
    assert_true(alt_profile_counts(p, 300));
    assert_false(alt_profile_counts(p, 400));
    assert_true(alt_profile_counts(p, 850));
    assert_false(alt_profile_counts(p, 920));
    assert_false(alt_profile_counts(p, 1100));

    const struct alt_transition *t = alt_profile_transition_id(p, 17);
    assert_non_null(t);
    assert_ptr_equal(t, alt_profile_transition_slug(p, "packed-for-refund"));
    assert_int_equal(t->target, 1100);
    assert_int_equal(t->source_count, 2);
    assert_true(alt_status_in(t->sources, t->source_count, 100));
    assert_true(alt_status_in(t->sources, t->source_count, 920));
    assert_true(alt_status_in(t->delete_reservations_from, t->delete_reservations_count, 100));
    assert_false(alt_status_in(t->delete_reservations_from, t->delete_reservations_count, 920));
    assert_null(alt_profile_transition_id(p, 999));
    assert_string_equal(alt_profile_remote(p, 1100), "packed_for_refund");
    assert_null(alt_profile_remote(p, 920));
    assert_true(alt_profile_token_ok(p, "refund-harness-token"));
    assert_false(alt_profile_token_ok(p, "refund-harness-token "));
    assert_true(p->sync_default);
    assert_int_equal(p->max_body_bytes, 65536);
    assert_string_equal(p->signature_header, "X-Akinon-Signature");
    assert_int_equal(p->webhook_retry.choice, ALT_RETRY_EXPONENTIAL);
    assert_int_equal(p->omnitron_retry.max_retries, 5);
    assert_true(p->has_plan_status);
    assert_int_equal(p->plan_status, 100);
    alt_profile_destroy(p);
}

static void test_alt_profile_parse_refuses_with_a_path(void **state)
{
    (void)state;
    static const struct {
        const char *patch;
        const char *path;
    } table[] = {
        {"{\"statuses\": []}", "$.statuses"},
        {"{\"statuses\": [{\"name\": \"A\", \"value\": 1}, {\"name\": \"a\", \"value\": 2}]}",
         "$.statuses[1].name"},
        {"{\"transitions\": [{\"id\": 0, \"slug\": \"x\"}]}", "$.transitions[0].id"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": [\"Nope\"], "
         "\"target\": \"Waiting\"}]}",
         "$.transitions[0].sources[0]"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": [100], \"target\": 100},"
         " {\"id\": 1, \"slug\": \"y\", \"sources\": [100], \"target\": 100}]}",
         "$.transitions[1].id"},
        {"{\"quota\": {\"counting\": {\"also\": [\"Nope\"]}}}", "$.quota.counting.also[0]"},
        {"{\"omnitron\": {\"status_map\": {\"Nope\": \"x\"}}}", "$.omnitron.status_map.Nope"},
        {"{\"tokens\": []}", "$.tokens"},
        {"{\"tokens\": [\"a\", 1]}", "$.tokens[1]"},
        {"{\"limits\": {\"max_body_bytes\": 0}}", "$.limits.max_body_bytes"},
        {"{\"delivery\": {\"webhook_retry\": {\"choice\": \"x\"}}}",
         "$.delivery.webhook_retry.choice"},
        {"{\"sync_remote_order_status_default\": \"yes\"}", "$.sync_remote_order_status_default"},
        {"{\"lifecycle\": {\"plan_status\": \"Nope\"}}", "$.lifecycle.plan_status"},
    };
    for (size_t i = 0; i < OMS_ARRAY_LEN(table); i++) {
        json_t *doc = default_profile_doc(), *patch = parse(table[i].patch);
        oms_json_merge(doc, patch);
        struct alt_profile *p = NULL;
        struct oms_err err;
        oms_err_clear(&err);
        assert_int_equal(alt_profile_parse(doc, "$", &p, &err), OMS_E_INVAL);
        assert_null(p);
        if (strcmp(err.path, table[i].path) != 0)
            fail_msg("%s: error at \"%s\" (%s), expected \"%s\"", table[i].patch, err.path,
                     err.message, table[i].path);
        json_decref(doc);
        json_decref(patch);
    }
}

/* ---- fixtures ---- */

static void test_alt_store_load_refuses_with_a_path(void **state)
{
    (void)state;
    static const struct {
        const char *fixture;
        const char *path;
    } table[] = {
        {"[]", "$"},
        {"{\"locatoins\": []}", "$.locatoins"},
        {"{\"locations\": [{\"id\": 1}]}", "$.locations[0].max_quota"},
        {"{\"locations\": [{\"id\": 1, \"max_quota\": 1}, {\"id\": 1, \"max_quota\": 1}]}",
         "$.locations[1].id"},
        /* SPEC Q-4: one Waiting package counts, the quota says 0 */
        {"{\"locations\": [{\"id\": 1, \"max_quota\": 5}], \"packages\": [{\"id\": 1, "
         "\"location\": 1, \"status\": \"Waiting\"}]}",
         "$.locations[0].quota"},
        {"{\"locations\": [{\"id\": 1, \"max_quota\": 5}], \"packages\": [{\"id\": 1, "
         "\"location\": 2, \"status\": 920}]}",
         "$.packages[0].location"},
        {"{\"locations\": [{\"id\": 1, \"max_quota\": 5}], \"packages\": [{\"id\": 1, "
         "\"location\": 1, \"status\": \"Wating\"}]}",
         "$.packages[0].status"},
        {"{\"locations\": [{\"id\": 1, \"max_quota\": 5}], \"packages\": [{\"id\": 1, "
         "\"location\": 1, \"status\": 920, \"items\": [{\"id\": 1, \"colour\": 1}]}]}",
         "$.packages[0].items[0].colour"},
        {"{\"locations\": [{\"id\": 1, \"max_quota\": 5}], \"packages\": [{\"id\": 1, "
         "\"location\": 1, \"status\": 920}, {\"id\": 1, \"location\": 1, \"status\": 920}]}",
         "$.packages[1]"},
        {"{\"locations\": [{\"id\": 1, \"max_quota\": 5}], \"packages\": [{\"id\": 1, "
         "\"location\": 1, \"status\": 920, \"discrepancies\": [{\"item\": 9}]}]}",
         "$.packages[0].discrepancies[0].item"},
        {"{\"subscriptions\": [{\"event_type\": \"e\"}]}", "$.subscriptions[0].target_url"},
        {"{\"subscriptions\": [{\"event_type\": \"e\", \"target_url\": \"http://x\", "
         "\"retry_countdown_config\": {\"max_retries\": 500}}]}",
         "$.subscriptions[0].retry_countdown_config.max_retries"},
        {"{\"clock\": {\"mode\": \"fast\"}}", "$.clock.mode"},
        {"{\"generate\": [{\"packages\": 2, \"first_id\": 1, \"location\": 1, \"status\": 100}]}",
         "$.generate[0].location"},
    };
    struct alt_profile *p = NULL;
    assert_int_equal(alt_profile_load_file(ALT_OMS_DEFAULT_PROFILE, &p, NULL), 0);
    for (size_t i = 0; i < OMS_ARRAY_LEN(table); i++) {
        json_t *fx = parse(table[i].fixture);
        struct alt_store *s = NULL;
        struct alt_fixture_extras x;
        struct oms_err err;
        oms_err_clear(&err);
        assert_int_equal(alt_store_load(fx, p, &s, &x, &err), OMS_E_INVAL);
        assert_null(s);
        if (strcmp(err.path, table[i].path) != 0)
            fail_msg("%s: error at \"%s\" (%s), expected \"%s\"", table[i].fixture, err.path,
                     err.message, table[i].path);
        json_decref(fx);
    }
    alt_profile_destroy(p);
}

/* ---- the command ---- */

struct app_fixture {
    struct alt_app app;
};

static const char fixture_text[] =
    "{\"locations\": [{\"id\": 1, \"max_quota\": 5, \"quota\": 1}],"
    " \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\","
    "   \"items\": [{\"id\": 9001, \"order_item\": 7001, \"sku\": \"S\"}],"
    "   \"reservations\": [{\"sku\": \"S\"}]}]}";

static int app_setup(void **state)
{
    struct app_fixture *f = OMS_NEW(struct app_fixture);
    struct alt_app *app = &f->app;
    pthread_mutex_init(&app->lock, NULL);
    assert_int_equal(alt_profile_load_file(ALT_OMS_DEFAULT_PROFILE, &app->profile, NULL), 0);
    app->base_profile = json_deep_copy(app->profile->doc);
    json_t *fx = parse(fixture_text);
    struct alt_fixture_extras x;
    assert_int_equal(alt_store_load(fx, app->profile, &app->store, &x, NULL), 0);
    alt_fixture_extras_cleanup(&x);
    json_decref(fx);
    app->outbox = alt_outbox_create(&app->lock); /* not started: rows only queue */
    app->omnitron_url = oms_xstrdup("http://127.0.0.1:9");
    *state = f;
    return 0;
}

static int app_teardown(void **state)
{
    struct app_fixture *f = *state;
    alt_outbox_shutdown(f->app.outbox);
    alt_outbox_destroy(f->app.outbox);
    alt_store_destroy(f->app.store);
    alt_profile_destroy(f->app.profile);
    json_decref(f->app.base_profile);
    free(f->app.omnitron_url);
    pthread_mutex_destroy(&f->app.lock);
    free(f);
    return 0;
}

/* One command through alt_command_handle; returns the status and, in *key, the only key of the
 * error object ("" for none). */
static int command(struct alt_app *app, const char *method, const char *id,
                   const char *authorization, const char *content_type, const char *body, char *key,
                   size_t key_size)
{
    struct oms_http_pair headers[2];
    size_t n = 0;
    if (authorization)
        headers[n++] = (struct oms_http_pair){(char *)"Authorization", (char *)authorization};
    if (content_type)
        headers[n++] = (struct oms_http_pair){(char *)"Content-Type", (char *)content_type};
    struct oms_http_request req = {
        .method = method,
        .path = "/api/v1/oms/packages/x/command/",
        .version = "HTTP/1.1",
        .headers = headers,
        .header_count = n,
        .body = body,
        .body_len = strlen(body),
    };
    struct oms_http_response resp;
    memset(&resp, 0, sizeof(resp));
    oms_buf_init(&resp.body, 0);
    alt_command_handle(app, &req, id, &resp);
    key[0] = '\0';
    if (resp.status != 204) {
        json_t *doc = json_loads(oms_buf_str(&resp.body), 0, NULL);
        json_t *error = json_object_get(doc, "error");
        if (!json_is_object(error) || json_object_size(error) != 1 ||
            json_integer_value(json_object_get(doc, "status_code")) != resp.status)
            fail_msg("%s %s: not one error envelope: %s", method, body, oms_buf_str(&resp.body));
        snprintf(key, key_size, "%s", json_object_iter_key(json_object_iter(error)));
        json_decref(doc);
    } else {
        assert_int_equal(resp.body.len, 0);
    }
    for (size_t i = 0; i < resp.header_count; i++) {
        free(resp.headers[i].name);
        free(resp.headers[i].value);
    }
    oms_buf_cleanup(&resp.body);
    return resp.status;
}

static void test_alt_command_check_order(void **state)
{
    struct alt_app *app = &((struct app_fixture *)*state)->app;
    static const char tok[] = "Token refund-harness-token", js[] = "application/json";
    static char big[70001];
    memset(big, 'x', sizeof(big) - 1);
    static const char ok[] = "{\"package\": 501, \"transition\": 17}";
    const struct {
        const char *method, *id, *auth, *ctype, *body;
        int status;
        const char *key;
    } table[] = {
        /* method before token: the reference answers 401 here */
        {"GET", "501", NULL, NULL, "", 405, "detail"},
        /* token before the path id: the reference answers 404 here */
        {"POST", "abc", NULL, js, ok, 401, "detail"},
        {"POST", "501", "Bearer refund-harness-token", js, ok, 401, "detail"},
        {"POST", "501", "Token", js, ok, 401, "detail"},
        {"POST", "501", "Token refund-harness-token extra", js, ok, 401, "detail"},
        {"POST", "abc", tok, js, ok, 404, "detail"},
        {"POST", "0", tok, js, ok, 404, "detail"},
        {"POST", "99999999999999999999", tok, js, ok, 404, "detail"},
        /* content type before size: the reference answers 413 here */
        {"POST", "501", tok, "text/plain", big, 415, "detail"},
        {"POST", "501", tok, NULL, ok, 415, "detail"},
        {"POST", "501", tok, js, big, 413, "detail"},
        {"POST", "501", tok, js, "{\"package\": 501,", 400, "detail"},
        {"POST", "501", tok, js, "[{\"package\": 501}]", 400, "non_field_errors"},
        /* body before the package: an unknown package with a bad body is a 400 */
        {"POST", "999", tok, js, "{\"package\": \"999\", \"transition\": 17}", 400, "package"},
        {"POST", "999", tok, js, "{\"package\": 999, \"transition\": 17}", 404, "detail"},
        /* only the first field error */
        {"POST", "501", tok, js, "{\"transition\": \"x\", \"slug\": 1}", 400, "package"},
        {"POST", "501", tok, js, "{\"package\": 502, \"transition\": 17}", 400, "package"},
        {"POST", "501", tok, js, "{\"package\": 1180591620717411303424, \"transition\": 17}", 400,
         "package"},
        {"POST", "501", tok, js, "{\"package\": 501, \"transition\": null}", 400, "transition"},
        {"POST", "501", tok, js, "{\"package\": 501, \"slug\": null}", 400, "slug"},
        {"POST", "501", tok, js, "{\"package\": 501, \"transition\": 1e999}", 400, "transition"},
        {"POST", "501", tok, js, "{\"package\": 501, \"transition\": 999}", 400, "transition"},
        {"POST", "501", tok, js, "{\"package\": 501, \"slug\": \"nope\"}", 400, "slug"},
        {"POST", "501", tok, js, "{\"package\": 501}", 400, "non_field_errors"},
        {"POST", "501", tok, js, "{\"package\": 501, \"transition\": 17, \"slug\": \"pack\"}", 400,
         "non_field_errors"},
        {"POST", "501", tok, js,
         "{\"package\": 501, \"transition\": 17, \"sync_remote_order_status\": 1}", 400,
         "sync_remote_order_status"},
    };
    for (size_t i = 0; i < OMS_ARRAY_LEN(table); i++) {
        char key[64];
        int status = command(app, table[i].method, table[i].id, table[i].auth, table[i].ctype,
                             table[i].body, key, sizeof(key));
        if (status != table[i].status || strcmp(key, table[i].key) != 0)
            fail_msg("row %zu (%s %s): %d on \"%s\", expected %d on \"%s\"", i, table[i].method,
                     table[i].id, status, key, table[i].status, table[i].key);
    }
    /* nothing of the above changed anything */
    struct alt_package *pkg = alt_store_package(app->store, 501);
    assert_int_equal(pkg->status, 100);
    assert_int_equal(app->store->log_count, 0);
}

static void test_alt_command_moves_the_package_once(void **state)
{
    struct alt_app *app = &((struct app_fixture *)*state)->app;
    char key[64];
    /* scheme in lower case, a huge number under a key the command does not read */
    assert_int_equal(command(app, "POST", "501", "token refund-harness-token",
                             "application/json; charset=utf-8",
                             "{\"package\": 501, \"transition\": 17, \"note\": [1e999, "
                             "123456789012345678901234567890]}",
                             key, sizeof(key)),
                     204);
    struct alt_package *pkg = alt_store_package(app->store, 501);
    assert_int_equal(pkg->status, 1100);
    assert_int_equal(pkg->items[0].status, 1100);
    assert_int_equal(pkg->reservation_count, 0);                   /* SPEC C-7: from Waiting */
    assert_int_equal(alt_store_location(app->store, 1)->quota, 0); /* SPEC Q-2: -1 */
    assert_int_equal(app->store->log_count, 1);
    assert_int_equal(app->store->log[0].old_status, 100);
    assert_int_equal(app->store->log[0].new_status, 1100);
    /* SPEC C-5: the second is a validation error and changes nothing */
    assert_int_equal(command(app, "POST", "501", "Token refund-harness-token", "application/json",
                             "{\"package\": 501, \"slug\": \"packed-for-refund\"}", key,
                             sizeof(key)),
                     400);
    assert_string_equal(key, "non_field_errors");
    assert_int_equal(app->store->log_count, 1);
    assert_int_equal(alt_store_location(app->store, 1)->quota, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alt_retry_delay_ms_follows_the_formulas),
        cmocka_unit_test(test_alt_retry_delay_ms_random_stays_in_its_window),
        cmocka_unit_test(test_alt_retry_parse_refuses_with_a_path),
        cmocka_unit_test(test_alt_profile_reads_the_default_profile),
        cmocka_unit_test(test_alt_profile_parse_refuses_with_a_path),
        cmocka_unit_test(test_alt_store_load_refuses_with_a_path),
        cmocka_unit_test_setup_teardown(test_alt_command_check_order, app_setup, app_teardown),
        cmocka_unit_test_setup_teardown(test_alt_command_moves_the_package_once, app_setup,
                                        app_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
