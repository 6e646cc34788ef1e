/* api: routes and request checks of the reference OMS. */
#include "api.h"

#include "cmdlog.h"
#include "command.h"
#include "fixture.h"
#include "oms_alloc.h"
#include "oms_cli.h"
#include "oms_crypto.h"
#include "oms_fixture_token.h"
#include "oms_json.h"
#include "oms_log.h"
#include "oms_time.h"
#include "outbox.h"
#include "reference_internal.h"
#include "subscription.h"
#include "valerr.h"
#include "oms_limits.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COMMAND_PREFIX           "/api/v1/oms/packages/"
#define COMMAND_SUFFIX           "/command/"
#define HOOKS_PREFIX             "/whisperer/hooks/"
#define FIXTURE_PREFIX           "/_fixture/"
#define FIXTURE_PROTOCOL_VERSION 1

/* The one place a domain result becomes an HTTP status (SPEC E-1): the modules behind the API
 * return OMS_E_* codes; a code missing here is the server's own failure. */
static const struct {
    int code;
    int status;
} STATUS_OF[] = {
    {OMS_E_INVAL, 400},    /* a validation error, field by field */
    {OMS_E_NOENT, 404},    /* the package or subscription named does not exist */
    {OMS_E_CONFLICT, 409}, /* the state refuses it (planning without quota, SPEC Q-3) */
};

static int status_of(int code)
{
    for (size_t i = 0; i < OMS_ARRAY_LEN(STATUS_OF); i++)
        if (STATUS_OF[i].code == code)
            return STATUS_OF[i].status;
    return 500;
}

static void reply(struct oms_http_response *resp, int status, json_t *doc)
{
    oms_http_response_json(resp, status, doc);
    json_decref(doc);
}

static void reply_error(struct oms_http_response *resp, int status, const char *field,
                        const char *message)
{
    reply(resp, status, valerr_single(status, field, message));
}

/* Parses a positive decimal id that fills the whole of [s, end); 0 when it is not one. */
static int64_t parse_id(const char *s, const char *end)
{
    if (s == end || end - s > 18)
        return 0;
    int64_t v = 0;
    for (const char *p = s; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return 0;
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* A located error of the fixture protocol: its status from its code, under its JSON path. */
static void reply_located(struct oms_http_response *resp, int code, const struct oms_err *err)
{
    reply_error(resp, status_of(code), err->path[0] ? err->path : "$", err->message);
}

/* SPEC E-2: "Authorization: Token <token>". Answers 401 and returns 0 when it is missing/wrong. */
static int authorised(const struct oms_profile *p, const struct oms_http_request *req,
                      struct oms_http_response *resp)
{
    const char *h = oms_http_request_header(req, "Authorization");
    if (!h || !*h) {
        reply_error(resp, 401, "non_field_errors",
                    "authentication credentials were not provided: send the header "
                    "\"Authorization: Token <token>\"");
        oms_http_response_header(resp, "WWW-Authenticate", "Token");
        return 0;
    }
    if (strncasecmp(h, "Token ", 6) != 0) {
        reply_error(resp, 401, "non_field_errors",
                    "the Authorization header must use the Token scheme: \"Token <token>\"");
        oms_http_response_header(resp, "WWW-Authenticate", "Token");
        return 0;
    }
    const char *token = h + 6;
    while (*token == ' ')
        token++;
    if (!oms_secret_in(oms_profile_tokens(p), token)) {
        reply_error(resp, 401, "non_field_errors", "invalid token");
        oms_http_response_header(resp, "WWW-Authenticate", "Token");
        return 0;
    }
    return 1;
}

/* The fixture protocol's own token (never an API token), compared in constant time. Answers 401
 * and returns 0 when it is missing or wrong; the answer reveals nothing else. */
static int fixture_authorised(struct reference *r, const struct oms_http_request *req,
                              struct oms_http_response *resp)
{
    if (oms_fixture_token_ok(req, r->fixture_token))
        return 1;
    reply_error(resp, 401, "non_field_errors", oms_fixture_token_refusal());
    return 0;
}

#define REDACTED "***"

/* Secrets never leave in an answer: a subscription's secret_key reads "***" (null stays null). */
static void redact_subscription(json_t *sub)
{
    if (json_is_string(json_object_get(sub, "secret_key")))
        json_object_set_new(sub, "secret_key", json_string(REDACTED));
}

static void redact_subscriptions(json_t *list)
{
    size_t i;
    json_t *sub;
    json_array_foreach(list, i, sub)
    {
        redact_subscription(sub);
    }
}

/* The state as shown: secret keys and the Authorization header of outbox rows read "***". The
 * subscriptions are copied first: the store shares them with its cache. */
static void redact_state(json_t *state)
{
    json_t *subs = json_deep_copy(json_object_get(state, "subscriptions"));
    redact_subscriptions(subs);
    json_object_set_new(state, "subscriptions", subs ? subs : json_array());
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(state, "outbox"), i, row)
    {
        json_t *headers = json_object_get(row, "headers");
        const char *key;
        json_t *v;
        json_object_foreach(headers, key, v)
        {
            if (strcasecmp(key, "Authorization") == 0 && json_is_string(v))
                json_object_set_new(headers, key, json_string(REDACTED));
        }
    }
}

/* The profile as shown: every API token reads "***" (new reference). */
static json_t *redacted_profile(const json_t *profile)
{
    json_t *copy = json_deep_copy(profile);
    json_t *tokens = json_object_get(copy, "tokens");
    for (size_t i = 0; i < json_array_size(tokens); i++)
        json_array_set_new(tokens, i, json_string(REDACTED));
    return copy;
}

static int method_is(const struct oms_http_request *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}

static void not_allowed(const struct oms_http_request *req, struct oms_http_response *resp,
                        const char *allow)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "method \"%.20s\" is not allowed here (allowed: %s)", req->method,
             allow);
    reply_error(resp, 405, "non_field_errors", msg);
    oms_http_response_header(resp, "Allow", allow);
}

/* Valid JSON whose integer does not fit 64 bits: the parser refuses the text, but the fault is one
 * field's value (SPEC E-1), so it is reported on that field. Returns 1 after answering. */
static int out_of_range_fields(const struct oms_http_request *req, struct oms_http_response *resp)
{
    json_t *doc = json_loadb(req->body, req->body_len, JSON_DECODE_INT_AS_REAL, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return 0;
    }
    struct valerr errors;
    valerr_init(&errors);
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (json_is_real(v) && (json_real_value(v) >= 9223372036854775807.0 ||
                                json_real_value(v) <= -9223372036854775807.0))
            valerr_add(&errors, key,
                       "must be an integer that fits in 64 bits; the number given is out of range");
    }
    int answered = valerr_any(&errors);
    if (answered)
        reply(resp, 400, valerr_envelope(&errors, 400));
    valerr_cleanup(&errors);
    json_decref(doc);
    return answered;
}

/* SPEC E-2: 413, 415 and 400 for bodies; returns the parsed JSON or NULL after answering. */
static json_t *json_body(const struct oms_profile *p, const struct oms_http_request *req,
                         struct oms_http_response *resp)
{
    if (req->body_too_large || req->body_len > oms_profile_max_body(p)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "the request body is larger than the limit of %zu bytes",
                 oms_profile_max_body(p));
        reply_error(resp, 413, "non_field_errors", msg);
        return NULL;
    }
    const char *type = oms_http_request_header(req, "Content-Type");
    size_t n = type ? strcspn(type, ";") : 0;
    while (n > 0 && type[n - 1] == ' ')
        n--;
    if (!type || n != 16 || strncasecmp(type, "application/json", 16) != 0) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "unsupported media type \"%.80s\": send Content-Type: "
                 "application/json",
                 type ? type : "");
        reply_error(resp, 415, "non_field_errors", msg);
        return NULL;
    }
    /* A raw NUL is never JSON; the parser would skip one after a number or a literal. */
    const char *nul = memchr(req->body, '\0', req->body_len);
    if (nul) {
        char msg[160];
        snprintf(msg, sizeof(msg), "the request body is not valid JSON: a NUL byte at offset %zu",
                 (size_t)(nul - req->body));
        reply_error(resp, 400, "non_field_errors", msg);
        return NULL;
    }
    json_error_t je;
    json_t *doc =
        json_loadb(req->body, req->body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!doc && json_error_code(&je) == json_error_numeric_overflow &&
        out_of_range_fields(req, resp))
        return NULL;
    if (!doc) {
        char msg[300];
        snprintf(msg, sizeof(msg), "the request body is not valid JSON: %s (line %d, column %d)",
                 je.text, je.line, je.column);
        reply_error(resp, 400, "non_field_errors", msg);
        return NULL;
    }
    return doc;
}

static void journal(struct reference *r, const struct oms_http_request *req,
                    const struct oms_http_response *resp)
{
    cmdlog_add(r->cmdlog, req->arrival_ms, req->method, req->path, req->body, req->body_len,
               resp->status, resp->body.len ? oms_buf_str(&resp->body) : NULL);
}

/* Runs the command and fills resp; body is borrowed. */
static void run_command(struct reference *r, int64_t package_id, const json_t *body,
                        struct oms_http_response *resp)
{
    struct valerr errors;
    valerr_init(&errors);
    int rc = command_execute(r, package_id, body, &errors);
    if (rc == 0)
        resp->status = 204;
    else
        reply(resp, status_of(rc), valerr_envelope(&errors, status_of(rc)));
    valerr_cleanup(&errors);
}

/* A command held back while the delivery backlog is at its bound (docs/reference-impl.md,
 * "Backpressure"). The request is copied: the server keeps only the poll's state. Held commands
 * take tickets and run about in ticket order: without it the connections the server's loop looks
 * at first would take every free place, and the others would wait out the whole bound. */
struct held_command {
    struct reference *r;
    int64_t package_id;
    int64_t ticket;
    int ran;
    json_t *body;
    int64_t until_us;            /* monotonic: it runs then, backlog or not */
    struct oms_http_request req; /* for the command journal; method, path and body owned */
};

#define HELD_POLL_MS          1
#define BACKLOG_WARN_EVERY_US (60 * 1000000LL)

static void held_free(void *state)
{
    struct held_command *h = state;
    if (!h->ran) /* its client left, or the server stopped: its place goes to the next */
        atomic_fetch_add(&h->r->held_served, 1);
    json_decref(h->body);
    free((char *)h->req.method);
    free((char *)h->req.path);
    free((char *)h->req.body);
    free(h);
}

/* Whether the held command with that ticket may run: the backlog leaves room for the commands
 * ahead of it and for itself, a command taking as many rows as the last one did. Tickets below
 * held_served have run or left; the count ahead is exact when they end in order, near it when
 * not. */
static int admissible(struct reference *r, int64_t ticket)
{
    int64_t backlog = outbox_backlog(r->outbox);
    if (backlog >= r->max_backlog)
        return 0;
    int64_t per = outbox_rows_per_command(r->outbox);
    int64_t room = (r->max_backlog - backlog + per - 1) / per;
    return ticket - atomic_load(&r->held_served) < room;
}

static int held_poll(void *state, struct oms_http_response *resp)
{
    struct held_command *h = state;
    int64_t now = oms_time_mono_us();
    if (!admissible(h->r, h->ticket) && now < h->until_us) {
        resp->poll_interval_ms = HELD_POLL_MS;
        return 0;
    }
    h->ran = 1;
    atomic_fetch_add(&h->r->held_served, 1);
    long long warned = atomic_load(&h->r->backlog_warned_us);
    /* One warning a minute at most: under a stuck receiver every command would say it. */
    if (now >= h->until_us && now - warned >= BACKLOG_WARN_EVERY_US &&
        atomic_compare_exchange_strong(&h->r->backlog_warned_us, &warned, now))
        oms_log(OMS_LOG_WARN, "command",
                "package %lld waited %lld ms for the outbox backlog (%lld rows never attempted) "
                "to go below --max-backlog %lld, and runs anyway: are the receivers answering?",
                (long long)h->package_id, (long long)h->r->max_backlog_wait_ms,
                (long long)outbox_backlog(h->r->outbox), (long long)h->r->max_backlog);
    run_command(h->r, h->package_id, h->body, resp);
    journal(h->r, &h->req, resp);
    return 1;
}

/* Holds the command back when the backlog is full: 1 with resp's poll set (body taken over). */
static int hold(struct reference *r, int64_t package_id, json_t *body,
                const struct oms_http_request *req, struct oms_http_response *resp)
{
    if (r->max_backlog == 0)
        return 0;
    /* Every command takes a ticket; with nobody ahead and room left it runs at once. */
    int64_t ticket = atomic_fetch_add(&r->held_next, 1);
    if (admissible(r, ticket)) {
        atomic_fetch_add(&r->held_served, 1);
        return 0;
    }
    struct held_command *h = OMS_NEW(struct held_command);
    h->r = r;
    h->ticket = ticket;
    h->package_id = package_id;
    h->body = body;
    h->until_us = oms_time_mono_us() + r->max_backlog_wait_ms * 1000;
    h->req.arrival_ms = req->arrival_ms;
    h->req.method = oms_xstrdup(req->method);
    h->req.path = oms_xstrdup(req->path);
    char *raw = oms_xmalloc(req->body_len + 1);
    memcpy(raw, req->body, req->body_len);
    raw[req->body_len] = '\0';
    h->req.body = raw;
    h->req.body_len = req->body_len;
    resp->poll = held_poll;
    resp->poll_state = h;
    resp->poll_free = held_free;
    resp->poll_interval_ms = HELD_POLL_MS;
    return 1;
}

static void handle_command(struct reference *r, struct oms_profile *p, int64_t package_id,
                           const struct oms_http_request *req, struct oms_http_response *resp)
{
    /* Authentication comes before the method check, as in Django REST framework. */
    if (!authorised(p, req, resp))
        return;
    if (!method_is(req, "POST")) {
        not_allowed(req, resp, "POST");
        return;
    }
    json_t *body = json_body(p, req, resp);
    if (!body || hold(r, package_id, body, req, resp))
        return;
    run_command(r, package_id, body, resp);
    json_decref(body);
}

static void handle_hooks(struct reference *r, struct oms_profile *p, const char *rest,
                         const struct oms_http_request *req, struct oms_http_response *resp)
{
    if (!authorised(p, req, resp))
        return;
    if (*rest == '\0') {
        if (method_is(req, "GET")) {
            store_lock(r->store);
            json_t *shared = store_subscriptions(r->store, NULL);
            store_unlock(r->store);
            /* Copied before redacting: the objects belong to the store's cache. */
            json_t *list = json_deep_copy(shared);
            json_decref(shared);
            redact_subscriptions(list);
            reply(resp, 200,
                  json_pack("{s:I, s:n, s:n, s:o}", "count", (json_int_t)json_array_size(list),
                            "next", "previous", "results", list));
        } else if (method_is(req, "POST")) {
            json_t *body = json_body(p, req, resp);
            if (!body)
                return;
            struct valerr errors;
            struct subscription_input in;
            valerr_init(&errors);
            if (subscription_validate(body, 0, &in, &errors) != 0) {
                reply(resp, 400, valerr_envelope(&errors, 400));
            } else {
                int64_t id = 0;
                store_lock(r->store);
                int rc = store_subscription_insert(r->store, &in.sub, &id);
                json_t *created = rc == 0 ? store_subscription_get(r->store, id) : NULL;
                store_unlock(r->store);
                redact_subscription(created);
                if (created)
                    reply(resp, 201, created);
                else
                    reply_error(resp, 500, "non_field_errors", "cannot store the subscription");
                subscription_input_cleanup(&in);
            }
            valerr_cleanup(&errors);
            json_decref(body);
        } else {
            not_allowed(req, resp, "GET, POST");
        }
        return;
    }
    const char *slash = strchr(rest, '/');
    int64_t id = slash && slash[1] == '\0' ? parse_id(rest, slash) : 0;
    if (id <= 0) {
        reply_error(resp, 404, "non_field_errors", "no such subscription path");
        return;
    }
    if (method_is(req, "GET")) {
        store_lock(r->store);
        json_t *sub = store_subscription_get(r->store, id);
        store_unlock(r->store);
        redact_subscription(sub);
        if (sub)
            reply(resp, 200, sub);
        else
            reply_error(resp, 404, "non_field_errors", "subscription does not exist");
    } else if (method_is(req, "DELETE")) {
        store_lock(r->store);
        int rc = store_subscription_delete(r->store, id);
        store_unlock(r->store);
        if (rc == 0)
            resp->status = 204;
        else
            reply_error(resp, 404, "non_field_errors", "subscription does not exist");
    } else {
        not_allowed(req, resp, "GET, DELETE");
    }
}

static json_t *fixture_body(const struct oms_http_request *req, struct oms_http_response *resp)
{
    if (req->body_too_large) {
        reply_error(resp, 413, "non_field_errors",
                    "the fixture is larger than the server's limit (--max-fixture-bytes)");
        return NULL;
    }
    json_error_t je;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        char msg[300];
        snprintf(msg, sizeof(msg), "not valid JSON: %s (line %d, column %d)", je.text, je.line,
                 je.column);
        reply_error(resp, 400, "$", msg);
    }
    return doc;
}

/* The whole state as GET /_fixture/state shows it, secrets redacted (new reference); NULL after
 * answering 400 when it has more rows than the server shows at once. */
static json_t *export_state(struct reference *r, struct oms_http_response *resp)
{
    int64_t rows = 0;
    store_lock(r->store);
    json_t *doc = NULL;
    if (store_count_rows(r->store, &rows) == 0 && rows <= r->max_state_rows)
        doc = store_export(r->store);
    store_unlock(r->store);
    if (!doc) {
        char msg[400];
        snprintf(msg, sizeof(msg),
                 "the state has %lld rows (packages, items, reservations, discrepancies, "
                 "transition log, outbox rows and attempts), more than the %lld the server shows "
                 "at once: load a smaller fixture, or start the server with a larger "
                 "--max-state-rows",
                 (long long)rows, (long long)r->max_state_rows);
        reply_error(resp, 400, "non_field_errors", msg);
        return NULL;
    }
    redact_state(doc);
    return doc;
}

/* A drain waiting for the outbox is looked at again after 1, 2, 4, 8, then every 10 ms. */
#define DRAIN_POLL_FIRST_MS 1
#define DRAIN_POLL_MAX_MS   10

/* A drain waiting for the outbox, looked at again by the server's poll. */
struct drain_wait {
    struct reference *r;
    struct outbox_drain d;
    int answer_state;
};

static int drain_poll(void *state, struct oms_http_response *resp)
{
    struct drain_wait *w = state;
    json_t *result = NULL;
    if (!outbox_drain_step(w->r->outbox, &w->d, &result)) {
        /* Most drains end within a delivery or two (a millisecond): look again soon, then less
         * often, so a short drain is not rounded up to a long interval. */
        int64_t next = resp->poll_interval_ms * 2;
        resp->poll_interval_ms = next < DRAIN_POLL_MAX_MS ? next : DRAIN_POLL_MAX_MS;
        return 0;
    }
    if (w->answer_state) {
        json_t *st = export_state(w->r, resp);
        if (!st) {
            json_decref(result);
            return 1;
        }
        json_object_set_new(result, "state", st);
    }
    reply(resp, 200, result);
    return 1;
}

/* "?answer=state" (capability "state-answer"): the answer carries the state, sparing the caller
 * a GET. Returns 0, or OMS_E_INVAL after answering 400. */
static int parse_answer(const struct oms_http_request *req, struct oms_http_response *resp,
                        int *answer_state)
{
    const char *a = oms_http_request_arg(req, "answer");
    if (!a)
        return 0;
    if (strcmp(a, "state") != 0) {
        reply_error(resp, 400, "answer", "expected \"state\" (or no answer argument)");
        return OMS_E_INVAL;
    }
    *answer_state = 1;
    return 0;
}

/* GET /_fixture/: what the protocol offers. */
static void fixture_describe(void *ctx, const struct oms_http_request *req,
                             struct oms_http_response *resp)
{
    (void)ctx;
    (void)req;
    reply(resp, 200,
          json_pack("{s:s, s:i, s:[s,s,s,s,s,s,s,s,s,s]}", "protocol", "refund-harness-fixture",
                    "version", FIXTURE_PROTOCOL_VERSION, "capabilities", "state", "drain",
                    "profile", "profile-overrides", "hooks", "plan", "clock", "journal",
                    "state-answer", "outbox"));
}

static void fixture_profile(void *ctx, const struct oms_http_request *req,
                            struct oms_http_response *resp)
{
    (void)req;
    struct oms_profile *p = reference_profile(ctx);
    reply(resp, 200, redacted_profile(oms_profile_json(p)));
    oms_profile_unref(p);
}

static void fixture_state_get(void *ctx, const struct oms_http_request *req,
                              struct oms_http_response *resp)
{
    (void)req;
    json_t *st = export_state(ctx, resp);
    if (st)
        reply(resp, 200, st);
}

static void fixture_state_put(void *ctx, const struct oms_http_request *req,
                              struct oms_http_response *resp)
{
    struct reference *r = ctx;
    int answer_state = 0;
    if (parse_answer(req, resp, &answer_state) != 0)
        return;
    json_t *doc = fixture_body(req, resp);
    if (!doc)
        return;
    struct oms_err err = {0};
    int rc = fixture_load(r, doc, &err);
    if (rc == 0) {
        cmdlog_clear(r->cmdlog);
        json_t *st = answer_state ? export_state(r, resp) : NULL;
        if (st)
            reply(resp, 200, st);
        else if (!answer_state)
            resp->status = 204;
    } else {
        reply_located(resp, rc, &err);
    }
    json_decref(doc);
}

static void fixture_journal(void *ctx, const struct oms_http_request *req,
                            struct oms_http_response *resp)
{
    (void)req;
    struct reference *r = ctx;
    reply(resp, 200, json_pack("{s:o}", "commands", cmdlog_json(r->cmdlog)));
}

static void fixture_plan_package(void *ctx, const struct oms_http_request *req,
                                 struct oms_http_response *resp)
{
    struct reference *r = ctx;
    json_t *doc = fixture_body(req, resp);
    if (!doc)
        return;
    struct oms_err err = {0};
    json_t *answer = NULL;
    int rc = fixture_plan(r, doc, &answer, &err);
    if (rc == 0) {
        reply(resp, 201, answer);
        outbox_notify(r->outbox);
    } else {
        reply_located(resp, rc, &err);
    }
    json_decref(doc);
}

/* POST /_fixture/drain[?timeout_ms=N][&answer=state]: waits for the outbox (polled by the server,
 * so no worker is held). */
static void fixture_drain(void *ctx, const struct oms_http_request *req,
                          struct oms_http_response *resp)
{
    struct reference *r = ctx;
    int answer_state = 0;
    if (parse_answer(req, resp, &answer_state) != 0)
        return;
    int64_t timeout =
        OMS_DRAIN_DEFAULT_MS < r->max_drain_ms ? OMS_DRAIN_DEFAULT_MS : r->max_drain_ms;
    const char *t = oms_http_request_arg(req, "timeout_ms");
    long v = 0;
    if (t && oms_cli_int(t, 0, (long)r->max_drain_ms, &v) != 0) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "expected milliseconds from 0 to %lld (the server's --max-drain-ms)",
                 (long long)r->max_drain_ms);
        reply_error(resp, 400, "timeout_ms", msg);
        return;
    }
    if (t)
        timeout = v;
    command_settle(r);
    struct drain_wait *w = OMS_NEW(struct drain_wait);
    w->r = r;
    w->answer_state = answer_state;
    outbox_drain_begin(&w->d, timeout);
    if (drain_poll(w, resp)) {
        free(w);
        return;
    }
    resp->poll = drain_poll;
    resp->poll_state = w;
    resp->poll_free = free;
    resp->poll_interval_ms = DRAIN_POLL_FIRST_MS;
}

/* The fixture protocol (docs/fixture-protocol.md), by the path after /_fixture/. */
static const struct oms_http_route FIXTURE_ROUTES[] = {
    {"", "GET", fixture_describe},       {"profile", "GET", fixture_profile},
    {"state", "GET", fixture_state_get}, {"state", "PUT", fixture_state_put},
    {"journal", "GET", fixture_journal}, {"plan", "POST", fixture_plan_package},
    {"drain", "POST", fixture_drain},
};

static void handle_fixture(struct reference *r, const char *rest,
                           const struct oms_http_request *req, struct oms_http_response *resp)
{
    char allow[64];
    const struct oms_http_route *route = oms_http_route_find(
        FIXTURE_ROUTES, OMS_ARRAY_LEN(FIXTURE_ROUTES), rest, req->method, allow, sizeof(allow));
    if (route)
        route->handler(r, req, resp);
    else if (allow[0])
        not_allowed(req, resp, allow);
    else
        reply_error(resp, 404, "non_field_errors",
                    "no such fixture endpoint (see docs/fixture-protocol.md)");
}

enum route { ROUTE_COMMAND, ROUTE_HOOKS, ROUTE_FIXTURE, ROUTE_OTHER };

/* Which endpoint a path names; *id gets the package of a command path. */
static enum route route_of(const struct reference *r, const char *path, int64_t *id)
{
    size_t plen = strlen(path);
    *id = 0;
    if (strncmp(path, COMMAND_PREFIX, strlen(COMMAND_PREFIX)) == 0 &&
        plen > strlen(COMMAND_PREFIX) + strlen(COMMAND_SUFFIX) &&
        strcmp(path + plen - strlen(COMMAND_SUFFIX), COMMAND_SUFFIX) == 0) {
        *id = parse_id(path + strlen(COMMAND_PREFIX), path + plen - strlen(COMMAND_SUFFIX));
        return *id > 0 ? ROUTE_COMMAND : ROUTE_OTHER;
    }
    if (strncmp(path, HOOKS_PREFIX, strlen(HOOKS_PREFIX)) == 0)
        return ROUTE_HOOKS;
    if (strncmp(path, FIXTURE_PREFIX, strlen(FIXTURE_PREFIX)) == 0 && r->fixtures_enabled)
        return ROUTE_FIXTURE;
    return ROUTE_OTHER;
}

int api_precheck(void *ctx, const struct oms_http_request *head, struct oms_http_response *resp,
                 size_t *max_body)
{
    struct reference *r = ctx;
    int64_t id;
    enum route rt = route_of(r, head->path, &id);
    if (rt == ROUTE_FIXTURE) {
        *max_body = r->max_fixture_bytes;
        return !fixture_authorised(r, head, resp);
    }
    /* SPEC E-2: the token is checked before a byte of the body is read. */
    struct oms_profile *p = reference_profile(r);
    int answered = (rt == ROUTE_COMMAND || rt == ROUTE_HOOKS) && !authorised(p, head, resp);
    *max_body = oms_profile_max_body(p);
    oms_profile_unref(p);
    if (answered && rt == ROUTE_COMMAND)
        journal(r, head, resp);
    return answered;
}

int api_quick(void *ctx, const struct oms_http_request *head)
{
    struct reference *r = ctx;
    int64_t id;
    return route_of(r, head->path, &id) != ROUTE_FIXTURE;
}

void api_handle(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp)
{
    struct reference *r = ctx;
    const char *path = req->path;
    int64_t id;
    enum route rt = route_of(r, path, &id);

    if (rt == ROUTE_COMMAND) {
        struct oms_profile *p = reference_profile(r);
        handle_command(r, p, id, req, resp);
        oms_profile_unref(p);
        if (!resp->poll) /* a held command is journaled when it runs */
            journal(r, req, resp);
        return;
    } else if (rt == ROUTE_HOOKS) {
        struct oms_profile *p = reference_profile(r);
        handle_hooks(r, p, path + strlen(HOOKS_PREFIX), req, resp);
        oms_profile_unref(p);
        return;
    } else if (rt == ROUTE_FIXTURE) {
        if (fixture_authorised(r, req, resp))
            handle_fixture(r, path + strlen(FIXTURE_PREFIX), req, resp);
        return;
    }
    char msg[300];
    snprintf(msg, sizeof(msg), "no such endpoint: %.20s %.200s", req->method, path);
    reply_error(resp, 404, "non_field_errors", msg);
    /* A command sent to a malformed path is still a command an integrator sent. */
    if (strncmp(path, COMMAND_PREFIX, strlen(COMMAND_PREFIX)) == 0)
        journal(r, req, resp);
}
