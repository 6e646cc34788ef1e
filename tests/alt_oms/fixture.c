/* fixture.c: the fixture protocol (docs/fixture-protocol.md) - handshake, profile, state
 * replace and read, drain, plan. No journal, hooks or state-answer; the outbox is not exposed
 * (GET /_fixture/state shows it empty), so its deliveries are judged at the receivers. */
#include "alt_oms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oms_json.h"

static void answer_json(struct oms_http_response *resp, int status, json_t *doc)
{
    oms_http_response_json(resp, status, doc);
    json_decref(doc);
}

static void handshake(struct oms_http_response *resp)
{
    answer_json(resp, 200,
                json_pack("{s:s, s:i, s:[s, s, s, s, s, s]}", "protocol", "refund-harness-fixture",
                          "version", 1, "capabilities", "state", "drain", "profile",
                          "profile-overrides", "clock", "plan"));
}

/* Refuses ?answer=...: this target does not offer the state-answer capability. */
static int refuse_answer(const struct oms_http_request *req, struct oms_http_response *resp)
{
    if (!oms_http_request_arg(req, "answer"))
        return 0;
    alt_answer_error(resp, 400, "answer", "not supported");
    return 1;
}

static json_t *parse_body(const struct oms_http_request *req, struct oms_http_response *resp)
{
    struct oms_err err;
    oms_err_clear(&err);
    if (req->body_too_large) {
        alt_answer_error(resp, 413, "$", "too large");
        return NULL;
    }
    json_t *doc = oms_json_load_buf(req->body, req->body_len, "body", &err);
    if (!doc) {
        char msg[OMS_ERR_MESSAGE_MAX + 64];
        snprintf(msg, sizeof(msg), "%d:%d: %s", err.line, err.column, err.message);
        alt_answer_error(resp, 400, "$", msg);
    }
    return doc;
}

/* PUT /_fixture/state: everything is built aside, then swapped in at once. */
static void put_state(struct alt_app *app, const struct oms_http_request *req,
                      struct oms_http_response *resp)
{
    if (refuse_answer(req, resp))
        return;
    json_t *fx = parse_body(req, resp);
    if (!fx)
        return;
    struct oms_err err;
    oms_err_clear(&err);
    struct alt_profile *profile = NULL;
    struct alt_store *store = NULL;
    struct alt_fixture_extras extras = {0};
    json_t *doc = json_deep_copy(app->base_profile);
    const json_t *patch = json_object_get(fx, "profile");
    int rc = 0;
    if (patch && !json_is_object(patch))
        rc = oms_err_set(&err, OMS_E_INVAL, NULL, 0, 0, "$.profile", "must be an object");
    else if (patch)
        oms_json_merge(doc, patch); /* RFC 7396 */
    if (rc == 0)
        rc = alt_profile_parse(doc, patch ? "$.profile" : "$", &profile, &err);
    if (rc == 0)
        rc = alt_store_load(fx, profile, &store, &extras, &err);
    json_decref(doc);
    json_decref(fx);
    if (rc != 0) {
        alt_profile_destroy(profile);
        alt_answer_error(resp, 400, err.path[0] ? err.path : "$", err.message);
        return;
    }

    pthread_mutex_lock(&app->lock);
    alt_outbox_reset(app->outbox, extras.virtual_clock);
    struct alt_profile *old_profile = app->profile;
    struct alt_store *old_store = app->store;
    app->profile = profile;
    app->store = store;
    if (extras.has_omnitron_url) {
        free(app->omnitron_url);
        app->omnitron_url = extras.omnitron_url;
        extras.omnitron_url = NULL;
    }
    if (extras.has_omnitron_token) {
        free(app->omnitron_token);
        app->omnitron_token = extras.omnitron_token;
        extras.omnitron_token = NULL;
    }
    pthread_mutex_unlock(&app->lock);

    alt_fixture_extras_cleanup(&extras);
    alt_profile_destroy(old_profile);
    alt_store_destroy(old_store);
    resp->status = 204;
}

static void drain(struct alt_app *app, const struct oms_http_request *req,
                  struct oms_http_response *resp)
{
    if (refuse_answer(req, resp))
        return;
    int64_t timeout = 5000;
    const char *t = oms_http_request_arg(req, "timeout_ms");
    if (t) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(t, &end, 10);
        if (!*t || *end || errno || v < 0 || v > 600000) {
            alt_answer_error(resp, 400, "timeout_ms", "an integer in [0, 600000]");
            return;
        }
        timeout = v;
    }
    struct alt_drain d;
    pthread_mutex_lock(&app->lock);
    alt_outbox_drain(app->outbox, timeout, &d);
    pthread_mutex_unlock(&app->lock);
    answer_json(resp, 200,
                json_pack("{s:b, s:I, s:I, s:I, s:I}", "drained", d.drained, "pending",
                          (json_int_t)d.pending, "delivered", (json_int_t)d.delivered, "dead",
                          (json_int_t)d.dead, "clock_advanced_ms",
                          (json_int_t)d.clock_advanced_ms));
}

static void plan(struct alt_app *app, const struct oms_http_request *req,
                 struct oms_http_response *resp)
{
    json_t *body = parse_body(req, resp);
    if (!body)
        return;
    json_t *answer = NULL;
    pthread_mutex_lock(&app->lock);
    int status = alt_store_plan(app->store, app->profile, body, &answer);
    pthread_mutex_unlock(&app->lock);
    json_decref(body);
    answer_json(resp, status, answer);
}

/* Answers 405 unless the request uses method; returns 1 when it answered. */
static int wrong_method(const struct oms_http_request *req, const char *method, const char *allow,
                        struct oms_http_response *resp)
{
    if (strcmp(req->method, method) == 0)
        return 0;
    oms_http_response_header(resp, "Allow", allow);
    alt_answer_error(resp, 405, "detail", "method not allowed");
    return 1;
}

void alt_fixture_handle(struct alt_app *app, const struct oms_http_request *req,
                        struct oms_http_response *resp)
{
    const char *path = req->path;
    if (strcmp(path, "/_fixture") == 0 || strcmp(path, "/_fixture/") == 0) {
        if (!wrong_method(req, "GET", "GET", resp))
            handshake(resp);
    } else if (strcmp(path, "/_fixture/profile") == 0) {
        if (wrong_method(req, "GET", "GET", resp))
            return;
        pthread_mutex_lock(&app->lock);
        oms_http_response_json(resp, 200, app->profile->doc);
        pthread_mutex_unlock(&app->lock);
    } else if (strcmp(path, "/_fixture/state") == 0) {
        if (strcmp(req->method, "PUT") == 0) {
            put_state(app, req, resp);
        } else if (!wrong_method(req, "GET", "GET, PUT", resp)) {
            pthread_mutex_lock(&app->lock);
            json_t *state = alt_store_json(app->store);
            pthread_mutex_unlock(&app->lock);
            answer_json(resp, 200, state);
        }
    } else if (strcmp(path, "/_fixture/drain") == 0) {
        if (!wrong_method(req, "POST", "POST", resp))
            drain(app, req, resp);
    } else if (strcmp(path, "/_fixture/plan") == 0) {
        if (!wrong_method(req, "POST", "POST", resp))
            plan(app, req, resp);
    } else {
        alt_answer_error(resp, 404, "detail", "not found");
    }
}
