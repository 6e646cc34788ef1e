/* target: fixture protocol and receiver control over HTTP. */
#include "target.h"

#include "oms_alloc.h"
#include "oms_fixture_token.h"
#include "oms_json.h"
#include "oms_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct target {
    char *oms_url;
    char *omnitron_url;
    char *webhook_url;
    char *omnitron_control;
    char *webhook_control;
    struct oms_recorder *omnitron_rec; /* in this process, or NULL */
    struct oms_recorder *webhook_rec;
    long timeout_ms;
    int state_answers;    /* the target has the "state-answer" capability */
    char *fixture_header; /* "X-Fixture-Token: T", or NULL */
    char *fixture_token;
    char *api_token;
    long last_status; /* of the last call: the HTTP status, 0 when nothing answered */
    struct oms_http_client *client;
};

struct target *target_create(const struct target_config *cfg)
{
    struct target *t = OMS_NEW(struct target);
    t->oms_url = oms_xstrdup(cfg->oms_url);
    t->omnitron_url = oms_xstrdup(cfg->omnitron_url);
    t->webhook_url = oms_xstrdup(cfg->webhook_url);
    t->omnitron_control =
        oms_xstrdup(cfg->omnitron_control_url ? cfg->omnitron_control_url : cfg->omnitron_url);
    t->webhook_control =
        oms_xstrdup(cfg->webhook_control_url ? cfg->webhook_control_url : cfg->webhook_url);
    if (cfg->omnitron_recorder && cfg->webhook_recorder) {
        t->omnitron_rec = cfg->omnitron_recorder;
        t->webhook_rec = cfg->webhook_recorder;
    }
    t->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : OMS_HTTP_TIMEOUT_DEFAULT_MS;
    const char *ft = cfg->fixture_token ? cfg->fixture_token : getenv(OMS_FIXTURE_TOKEN_ENV);
    if (ft && ft[0]) {
        size_t n = strlen(OMS_FIXTURE_TOKEN_HEADER) + strlen(ft) + 3;
        t->fixture_header = oms_xmalloc(n);
        snprintf(t->fixture_header, n, "%s: %s", OMS_FIXTURE_TOKEN_HEADER, ft);
        t->fixture_token = oms_xstrdup(ft);
    }
    t->api_token = oms_xstrdup(cfg->api_token);
    t->client = oms_http_client_create();
    return t;
}

void target_destroy(struct target *t)
{
    if (!t)
        return;
    free(t->oms_url);
    free(t->omnitron_url);
    free(t->webhook_url);
    free(t->omnitron_control);
    free(t->webhook_control);
    free(t->fixture_header);
    free(t->fixture_token);
    free(t->api_token);
    oms_http_client_destroy(t->client);
    free(t);
}

const char *target_oms_url(const struct target *t)
{
    return t->oms_url;
}

const char *target_omnitron_url(const struct target *t)
{
    return t->omnitron_url;
}

const char *target_webhook_url(const struct target *t)
{
    return t->webhook_url;
}

struct oms_http_client *target_client(struct target *t)
{
    return t->client;
}

const char *target_fixture_token(const struct target *t)
{
    return t->fixture_token;
}

long target_timeout_ms(const struct target *t)
{
    return t->timeout_ms;
}

/* What came back, in a line: the content type and the first line of the body (never a whole
 * HTML page in a terminal). Into out, returned. */
static const char *answer_summary(const struct oms_http_exchange *x, char *out, size_t size)
{
    const char *type = oms_http_exchange_header(x, "Content-Type");
    const char *body = oms_buf_str(&x->resp_body);
    body += strspn(body, " \t\r\n");
    size_t line = strcspn(body, "\r\n");
    const char *rest = body + line;
    rest += strspn(rest, " \t\r\n");
    int cut = line > 120 || *rest != '\0'; /* more than is shown */
    if (!*body)
        snprintf(out, size, "content type %s, an empty body", type ? type : "none");
    else
        snprintf(out, size, "content type %s, first line \"%.*s\"%s", type ? type : "none",
                 (int)(line > 120 ? 120 : line), body, cut ? " ..." : "");
    return out;
}

/* Performs method base+path with an optional JSON body; wants `expect`. On success *out gets the
 * parsed JSON body (if out is not NULL). */
static int call(struct target *t, const char *method, const char *base, const char *path,
                const json_t *body, long expect, long timeout_ms, json_t **out, struct oms_err *err)
{
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", base ? base : "", path);
    char *text = body ? oms_json_dumps(body) : NULL;
    /* The fixture token goes with every call here: all are fixture or control calls. */
    const char *headers[] = {"Content-Type: application/json", "Accept: application/json",
                             t->fixture_header};
    struct oms_http_exchange x = {
        .method = method,
        .url = url,
        .headers = headers,
        .header_count = (body ? 2 : 1) + (t->fixture_header ? 1 : 0),
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .timeout_ms = timeout_ms > 0 ? timeout_ms : t->timeout_ms,
        .idempotent = 1, /* fixture and receiver control calls can be repeated harmlessly */
    };
    if (!body)
        x.headers = headers + 1;

    oms_http_client_perform(t->client, &x);
    free(text);
    t->last_status = x.result == 0 ? x.status : 0;
    char what[256];
    int rc = 0;
    if (x.result != 0) {
        rc = oms_err_set(err, OMS_E_ENV, url, 0, 0, NULL, "no answer: %s", x.error);
    } else if (x.status != expect) {
        json_t *doc = json_loadb(oms_buf_str(&x.resp_body), x.resp_body.len, JSON_ALLOW_NUL, NULL);
        json_t *error = json_object_get(doc, "error");
        const char *field = NULL;
        const char *msg = NULL;
        if (json_is_object(error)) {
            void *it = json_object_iter(error);
            field = json_object_iter_key(it);
            msg = json_string_value(json_array_get(json_object_iter_value(it), 0));
        }
        if (x.status == 401 && msg)
            rc = oms_err_set(err, OMS_E_INVAL, url, 0, 0, NULL, "%s %s answered 401: %s - %s",
                             method, path, msg,
                             t->fixture_header ? "is --fixture-token (or $" OMS_FIXTURE_TOKEN_ENV
                                                 ") the server's fixture token?"
                                               : "pass the server's fixture token with "
                                                 "--fixture-token or $" OMS_FIXTURE_TOKEN_ENV);
        else if (msg)
            rc = oms_err_set(err, OMS_E_INVAL, url, 0, 0, field && field[0] == '$' ? field : NULL,
                             "%s %s answered %ld: %s%s%s", method, path, x.status,
                             field && field[0] != '$' ? field : "",
                             field && field[0] != '$' ? ": " : "", msg);
        else
            rc = oms_err_set(err, OMS_E_INVAL, url, 0, 0, NULL,
                             "%s %s answered %ld (wanted %ld; %s)", method, path, x.status, expect,
                             answer_summary(&x, what, sizeof(what)));
        json_decref(doc);
    } else if (out) {
        /* "\u0000" is valid JSON: a journaled body may hold NUL bytes. */
        *out = json_loadb(oms_buf_str(&x.resp_body), x.resp_body.len, JSON_ALLOW_NUL, NULL);
        if (!*out)
            rc = oms_err_set(err, OMS_E_INVAL, url, 0, 0, NULL,
                             "%s %s answered %ld but the body is not JSON (%s)", method, path,
                             x.status, answer_summary(&x, what, sizeof(what)));
    }
    oms_http_exchange_cleanup(&x);
    return rc;
}

int target_journal(struct target *t, json_t **doc, struct oms_err *err)
{
    return call(t, "GET", t->oms_url, "/_fixture/journal", NULL, 200, 0, doc, err);
}

/* Says where to look after a failed handshake: the server is not up yet, or it is not one that
 * speaks the fixture protocol. */
static void handshake_hint(struct oms_err *err)
{
    size_t used = strlen(err->message);
    if (used < sizeof(err->message))
        snprintf(err->message + used, sizeof(err->message) - used, "%s",
                 err->code == OMS_E_ENV
                     ? "; is the target running, at this URL?"
                     : "; a target implements the fixture protocol: see docs/fixture-protocol.md");
}

long target_last_status(const struct target *t)
{
    return t->last_status;
}

int target_capabilities(struct target *t, json_t **doc, struct oms_err *err)
{
    int rc = call(t, "GET", t->oms_url, "/_fixture/", NULL, 200, 0, doc, err);
    if (rc != 0)
        handshake_hint(err);
    if (rc == 0 && (!json_is_array(json_object_get(*doc, "capabilities")) ||
                    json_integer_value(json_object_get(*doc, "version")) != 1)) {
        json_decref(*doc);
        *doc = NULL;
        return oms_err_set(err, OMS_E_INVAL, t->oms_url, 0, 0, NULL,
                           "GET /_fixture/ did not describe fixture protocol version 1 "
                           "(docs/fixture-protocol.md)");
    }
    if (rc == 0) {
        size_t i;
        json_t *c;
        t->state_answers = 0;
        json_array_foreach(json_object_get(*doc, "capabilities"), i, c)
        {
            t->state_answers |=
                json_is_string(c) && strcmp(json_string_value(c), "state-answer") == 0;
        }
    }
    return rc;
}

/* 1 when every token of the profile is hidden ("***"). */
static int tokens_redacted(const json_t *profile)
{
    json_t *tokens = json_object_get(profile, "tokens");
    size_t i;
    json_t *v;
    if (json_array_size(tokens) == 0)
        return 0;
    json_array_foreach(tokens, i, v)
    {
        if (!json_is_string(v) || strcmp(json_string_value(v), "***") != 0)
            return 0;
    }
    return 1;
}

int target_profile(struct target *t, json_t **profile, struct oms_err *err)
{
    int rc = call(t, "GET", t->oms_url, "/_fixture/profile", NULL, 200, 0, profile, err);
    if (rc != 0 || !tokens_redacted(*profile))
        return rc; /* a profile that shows its tokens is taken as it is */
    if (!t->api_token) {
        json_decref(*profile);
        *profile = NULL;
        return oms_err_set(err, OMS_E_INVAL, t->oms_url, 0, 0, NULL,
                           "the target's profile hides its API tokens: pass --token T with a "
                           "token the target accepts");
    }
    json_object_set_new(*profile, "tokens", json_pack("[s]", t->api_token));
    return 0;
}

int target_load(struct target *t, const json_t *fixture, json_t **state, struct oms_err *err)
{
    if (state && t->state_answers)
        return call(t, "PUT", t->oms_url, "/_fixture/state?answer=state", fixture, 200, 0, state,
                    err);
    int rc = call(t, "PUT", t->oms_url, "/_fixture/state", fixture, 204, 0, NULL, err);
    if (rc != 0 || !state)
        return rc;
    /* The fixture was accepted: failing to read it back is the environment's fault. */
    if (target_state(t, state, err) != 0)
        return err->code = OMS_E_ENV;
    return 0;
}

int target_state(struct target *t, json_t **state, struct oms_err *err)
{
    return call(t, "GET", t->oms_url, "/_fixture/state", NULL, 200, 0, state, err);
}

int target_drain(struct target *t, int64_t timeout_ms, json_t **result, json_t **state,
                 struct oms_err *err)
{
    char path[96];
    int answer = state && t->state_answers;
    snprintf(path, sizeof(path), "/_fixture/drain?timeout_ms=%lld%s", (long long)timeout_ms,
             answer ? "&answer=state" : "");
    int rc =
        call(t, "POST", t->oms_url, path, NULL, 200, (long)timeout_ms + t->timeout_ms, result, err);
    if (rc != 0 || !state)
        return rc;
    if (!answer)
        return target_state(t, state, err);
    *state = json_incref(json_object_get(*result, "state"));
    if (!json_is_object(*state)) {
        json_decref(*state);
        *state = NULL;
        return oms_err_set(err, OMS_E_INVAL, t->oms_url, 0, 0, NULL,
                           "POST %s answered without the \"state\" object its \"state-answer\" "
                           "capability promises",
                           path);
    }
    json_object_del(*result, "state");
    return 0;
}

static const char *receiver_url(struct target *t, const char *which)
{
    return strcmp(which, "omnitron") == 0 ? t->omnitron_control : t->webhook_control;
}

static struct oms_recorder *receiver_here(struct target *t, const char *which)
{
    return strcmp(which, "omnitron") == 0 ? t->omnitron_rec : t->webhook_rec;
}

int target_receiver_reset(struct target *t, const char *which, struct oms_err *err)
{
    struct oms_recorder *r = receiver_here(t, which);
    if (r) {
        oms_recorder_reset(r);
        return 0;
    }
    return call(t, "POST", receiver_url(t, which), "/__reset", NULL, 204, 0, NULL, err);
}

int target_receiver_configure(struct target *t, const char *which, const json_t *behaviour,
                              struct oms_err *err)
{
    struct oms_recorder *r = receiver_here(t, which);
    if (r)
        return oms_recorder_configure(r, behaviour, err);
    return call(t, "PUT", receiver_url(t, which), "/__behaviour", behaviour, 204, 0, NULL, err);
}

int target_receiver_journal(struct target *t, const char *which, json_t **requests,
                            struct oms_err *err)
{
    struct oms_recorder *r = receiver_here(t, which);
    json_int_t dropped = 0;
    json_t *doc = NULL;
    if (r) {
        *requests = oms_recorder_journal(r, NULL);
        dropped = oms_recorder_dropped(r);
    } else {
        int rc = call(t, "GET", receiver_url(t, which), "/__journal", NULL, 200, 0, &doc, err);
        if (rc != 0)
            return rc;
        *requests = json_incref(json_object_get(doc, "requests"));
        if (!*requests)
            *requests = json_array();
        dropped = json_integer_value(json_object_get(doc, "dropped"));
        json_decref(doc);
    }
    if (dropped > 0) {
        json_decref(*requests);
        *requests = NULL;
        /* Calls checked against a journal missing its oldest entries would mislead. */
        return oms_err_set(err, OMS_E_ENV, r ? NULL : receiver_url(t, which), 0, 0, NULL,
                           "the %s receiver's journal reached its limit and forgot %lld "
                           "%s since the scenario began; raise its --journal-limit",
                           which, (long long)dropped, dropped == 1 ? "entry" : "entries");
    }
    return 0;
}
