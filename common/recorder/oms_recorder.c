/* oms_recorder: recording HTTP receiver with a journal and fault rules. */
#define _POSIX_C_SOURCE 200809L
#include "oms_recorder.h"

#include "oms_alloc.h"
#include "oms_attempts.h"
#include "oms_cli.h"
#include "oms_crypto.h"
#include "oms_fixture_token.h"
#include "oms_journal.h"
#include "oms_json.h"
#include "oms_log.h"
#include "oms_str.h"
#include "oms_time.h"
#include "oms_limits.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A rule answers a status, answers late, or fails the transport: drop (read, close), reset (TCP
 * RST), truncate (half the body, then close), hang (never answer). */
enum fault_kind { FAULT_STATUS, FAULT_DELAY, FAULT_DROP, FAULT_RESET, FAULT_TRUNCATE, FAULT_HANG };

static const char *const TRANSPORT_FAULTS[] = {"drop", "reset", "truncate", "hang"};

struct fault {
    enum fault_kind kind;
    int status;
    int64_t delay_ms;
    int64_t times_left;
    char path[256]; /* "": every path; else only requests to this exact path */
};

struct behaviour {
    int status;
    int status_set; /* a behaviour document chose the status: it wins over the inspector */
    json_t *body;   /* answer body or NULL */
    struct fault *faults;
    size_t fault_count;
    size_t fault_next; /* index of the rule in use */
};

struct oms_recorder {
    struct oms_http_server *server;  /* recorded traffic and control; NULL while down */
    struct oms_http_server *control; /* control only, up while the receiver is down too */
    char name[32];
    char bind[64];
    unsigned port;
    char url[96];
    /* Going down and up is done by a thread of its own: stopping a server waits for handlers, so a
     * handler of the main listener must not run it. */
    pthread_t switcher;
    pthread_cond_t switch_cond;
    int want_down;
    int is_down;
    int64_t up_at_ms; /* wall clock; 0: down until told otherwise */
    int stopping;
    oms_recorder_inspect_fn inspect;
    void *inspect_ctx;
    void (*inspect_free)(void *ctx);
    pthread_mutex_t lock;
    struct oms_journal *journal;
    struct oms_attempts *attempts; /* delivery attempts answered, to recognise their re-sends */
    int64_t resent;                /* re-sends recognised since the last clear */
    int64_t seq;
    struct behaviour initial;
    struct behaviour current;
    size_t body_keep; /* bodies longer than this are journaled truncated */
    char fixture_token[OMS_FIXTURE_TOKEN_MAX + 1];
    int fixture_token_generated;
    struct oms_http_limits limits;
};

static void behaviour_cleanup(struct behaviour *b)
{
    json_decref(b->body);
    free(b->faults);
    memset(b, 0, sizeof(*b));
}

static void behaviour_copy(struct behaviour *dst, const struct behaviour *src)
{
    dst->status = src->status;
    dst->status_set = src->status_set;
    dst->body = src->body ? json_deep_copy(src->body) : NULL;
    dst->fault_count = src->fault_count;
    dst->fault_next = src->fault_next;
    dst->faults = NULL;
    if (src->fault_count) {
        dst->faults = oms_xcalloc(src->fault_count, sizeof(*dst->faults));
        memcpy(dst->faults, src->faults, src->fault_count * sizeof(*dst->faults));
    }
}

static json_t *behaviour_to_json(const struct behaviour *b)
{
    json_t *faults = json_array();
    for (size_t i = b->fault_next; i < b->fault_count; i++) {
        const struct fault *f = &b->faults[i];
        if (f->times_left <= 0)
            continue;
        json_t *o = json_object();
        if (f->kind == FAULT_STATUS)
            json_object_set_new(o, "status", json_integer(f->status));
        else if (f->kind == FAULT_DELAY)
            json_object_set_new(o, "delay_ms", json_integer(f->delay_ms));
        else
            json_object_set_new(o, TRANSPORT_FAULTS[f->kind - FAULT_DROP], json_true());
        json_object_set_new(o, "times", json_integer(f->times_left));
        if (f->path[0])
            json_object_set_new(o, "path", json_string(f->path));
        json_array_append_new(faults, o);
    }
    return json_pack("{s:i, s:O?, s:o}", "status", b->status, "body", b->body, "faults", faults);
}

static int parse_status(const json_t *v, const char *path, int *out, struct oms_err *err)
{
    int64_t n;
    if (oms_json_int(v, &n) != 0 || n < 100 || n > 599)
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                           "expected an HTTP status code between 100 and 599, found %s",
                           oms_json_type_name(v));
    *out = (int)n;
    return 0;
}

/* The index of a transport fault's key in TRANSPORT_FAULTS, or -1. */
static int transport_fault(const char *key)
{
    for (size_t i = 0; i < OMS_ARRAY_LEN(TRANSPORT_FAULTS); i++)
        if (strcmp(key, TRANSPORT_FAULTS[i]) == 0)
            return (int)i;
    return -1;
}

static int parse_fault(const json_t *v, const char *path, struct fault *f, struct oms_err *err)
{
    char p[OMS_ERR_PATH_MAX];
    if (!json_is_object(v))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                           "expected a fault rule object, found %s", oms_json_type_name(v));
    const char *key;
    json_t *val;
    int kinds = 0;
    f->times_left = 1;
    json_object_foreach((json_t *)v, key, val)
    {
        oms_jpath_key(p, sizeof(p), path, key);
        if (strcmp(key, "status") == 0) {
            f->kind = FAULT_STATUS;
            kinds++;
            if (parse_status(val, p, &f->status, err) != 0)
                return OMS_E_INVAL;
        } else if (strcmp(key, "delay_ms") == 0) {
            f->kind = FAULT_DELAY;
            kinds++;
            if (oms_json_int(val, &f->delay_ms) != 0 || f->delay_ms < 0 ||
                f->delay_ms > OMS_MAX_WAIT_MS)
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p,
                                   "expected milliseconds between 0 and %d", OMS_MAX_WAIT_MS);
        } else if (transport_fault(key) >= 0) {
            f->kind = (enum fault_kind)(FAULT_DROP + transport_fault(key));
            kinds++;
            if (!json_is_true(val))
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p, "expected true");
        } else if (strcmp(key, "times") == 0) {
            if (oms_json_int(val, &f->times_left) != 0 || f->times_left < 1)
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p, "expected a positive integer");
        } else if (strcmp(key, "path") == 0) {
            const char *s = json_string_value(val);
            if (!s || s[0] != '/' || strlen(s) >= sizeof(f->path))
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p,
                                   "expected a path starting with \"/\" (at most %zu bytes)",
                                   sizeof(f->path) - 1);
            /* Requests under /__ are control requests, which no fault rule ever meets. */
            if (strncmp(s, "/__", 3) == 0)
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p,
                                   "\"%s\" is a control endpoint: fault rules apply to recorded "
                                   "requests only",
                                   s);
            snprintf(f->path, sizeof(f->path), "%s", s);
        } else {
            return oms_err_set(
                err, OMS_E_INVAL, NULL, 0, 0, p,
                "unknown key \"%s\" (expected status, delay_ms, drop, reset, truncate, hang, "
                "times or path)",
                key);
        }
    }
    if (kinds != 1)
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                           "a fault rule needs exactly one of status, delay_ms, drop, reset, "
                           "truncate, hang");
    return 0;
}

/* Down/up requests from a behaviour document: -1 none, 0 up, 1 down; *ms for a timed outage. */
struct down_request {
    int down;
    int64_t ms;
};

static int parse_behaviour(const json_t *doc, struct behaviour *b, struct down_request *dr,
                           struct oms_err *err)
{
    char p[OMS_ERR_PATH_MAX];
    if (!json_is_object(doc))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, "$", "expected an object, found %s",
                           oms_json_type_name(doc));
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)doc, key, val)
    {
        oms_jpath_key(p, sizeof(p), "$", key);
        if (strcmp(key, "status") == 0) {
            if (parse_status(val, p, &b->status, err) != 0)
                return OMS_E_INVAL;
            b->status_set = 1;
        } else if (strcmp(key, "body") == 0) {
            json_decref(b->body);
            b->body = json_is_null(val) ? NULL : json_deep_copy(val);
        } else if (strcmp(key, "down") == 0) {
            if (!json_is_boolean(val))
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p, "expected true or false");
            dr->down = json_is_true(val);
        } else if (strcmp(key, "down_ms") == 0) {
            if (oms_json_int(val, &dr->ms) != 0 || dr->ms < 1 || dr->ms > OMS_MAX_WAIT_MS)
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p,
                                   "expected milliseconds between 1 and %d", OMS_MAX_WAIT_MS);
            dr->down = 1;
        } else if (strcmp(key, "faults") == 0) {
            if (!json_is_array(val))
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p, "expected an array");
            free(b->faults);
            b->fault_count = json_array_size(val);
            b->fault_next = 0;
            b->faults = oms_xcalloc(b->fault_count ? b->fault_count : 1, sizeof(*b->faults));
            for (size_t i = 0; i < b->fault_count; i++) {
                char ip[OMS_ERR_PATH_MAX];
                oms_jpath_index(ip, sizeof(ip), p, i);
                if (parse_fault(json_array_get(val, i), ip, &b->faults[i], err) != 0)
                    return OMS_E_INVAL;
            }
        } else {
            return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p,
                               "unknown key \"%s\" (expected status, body, faults, down or "
                               "down_ms)",
                               key);
        }
    }
    return 0;
}

/* Asks the switcher for down (for ms, 0 = until told) or up; with wait, returns once done. */
static void request_down(struct oms_recorder *r, int down, int64_t ms, int wait)
{
    pthread_mutex_lock(&r->lock);
    r->want_down = down;
    /* One more millisecond: the clock is truncated, and a window must never be cut short. */
    r->up_at_ms = down && ms > 0 ? oms_time_wall_ms() + ms + 1 : 0;
    pthread_cond_broadcast(&r->switch_cond);
    while (wait && r->is_down != r->want_down && !r->stopping)
        pthread_cond_wait(&r->switch_cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

static int configure(struct oms_recorder *r, const json_t *doc, int wait, struct oms_err *err)
{
    struct behaviour next;
    struct down_request dr = {.down = -1};
    pthread_mutex_lock(&r->lock);
    behaviour_copy(&next, &r->current);
    pthread_mutex_unlock(&r->lock);
    if (parse_behaviour(doc, &next, &dr, err) != 0) {
        behaviour_cleanup(&next);
        return OMS_E_INVAL;
    }
    pthread_mutex_lock(&r->lock);
    behaviour_cleanup(&r->current);
    r->current = next;
    pthread_mutex_unlock(&r->lock);
    if (dr.down >= 0)
        request_down(r, dr.down, dr.ms, wait);
    return 0;
}

int oms_recorder_configure(struct oms_recorder *r, const json_t *doc, struct oms_err *err)
{
    return configure(r, doc, 1, err);
}

static void reset(struct oms_recorder *r, int wait)
{
    pthread_mutex_lock(&r->lock);
    behaviour_cleanup(&r->current);
    behaviour_copy(&r->current, &r->initial);
    oms_journal_clear(r->journal);
    oms_attempts_clear(r->attempts);
    r->resent = 0;
    pthread_mutex_unlock(&r->lock);
    request_down(r, 0, 0, wait);
}

void oms_recorder_reset(struct oms_recorder *r)
{
    reset(r, 1);
}

static int matches(const json_t *entry, const char *path_filter)
{
    return !path_filter ||
           strcmp(json_string_value(json_object_get(entry, "path")), path_filter) == 0;
}

/* The newest `last` entries matching path_filter (NULL: all), oldest first, as a new array;
 * *matched (when not NULL) gets how many matched in all. */
static json_t *journal_read(struct oms_recorder *r, const char *path_filter, size_t last,
                            size_t *matched)
{
    json_t *out = json_array();
    pthread_mutex_lock(&r->lock);
    json_t *e;
    size_t n = 0;
    for (size_t i = 0; (e = oms_journal_at(r->journal, i)) != NULL; i++)
        n += matches(e, path_filter);
    size_t skip = n > last ? n - last : 0;
    for (size_t i = 0; (e = oms_journal_at(r->journal, i)) != NULL; i++) {
        if (!matches(e, path_filter))
            continue;
        if (skip) {
            skip--;
            continue;
        }
        json_array_append_new(out, json_deep_copy(e));
    }
    pthread_mutex_unlock(&r->lock);
    if (matched)
        *matched = n;
    /* The derived fields, outside the lock. */
    size_t i;
    json_array_foreach(out, i, e)
    {
        char when[40];
        json_object_set_new(e, "receiver", json_string(r->name));
        json_object_set_new(
            e, "received_at",
            json_string(oms_time_iso8601(json_integer_value(json_object_get(e, "received_ms")),
                                         when, sizeof(when))));
        json_t *body = json_object_get(e, "body");
        json_t *parsed =
            json_is_true(json_object_get(e, "json")) && json_is_string(body)
                ? json_loadb(json_string_value(body), json_string_length(body), 0, NULL)
                : NULL;
        json_object_set_new(e, "json", parsed ? parsed : json_null());
    }
    return out;
}

json_t *oms_recorder_journal(struct oms_recorder *r, const char *path_filter)
{
    return journal_read(r, path_filter, SIZE_MAX, NULL);
}

size_t oms_recorder_count(struct oms_recorder *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = oms_journal_count(r->journal);
    pthread_mutex_unlock(&r->lock);
    return n;
}

int64_t oms_recorder_dropped(struct oms_recorder *r)
{
    pthread_mutex_lock(&r->lock);
    int64_t n = oms_journal_dropped(r->journal);
    pthread_mutex_unlock(&r->lock);
    return n;
}

int64_t oms_recorder_resent(struct oms_recorder *r)
{
    pthread_mutex_lock(&r->lock);
    int64_t n = r->resent;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void oms_recorder_clear(struct oms_recorder *r)
{
    pthread_mutex_lock(&r->lock);
    oms_journal_clear(r->journal);
    oms_attempts_clear(r->attempts);
    r->resent = 0;
    pthread_mutex_unlock(&r->lock);
}

/* Takes the next fault rule, if any is left; returns 1 and fills *f. Caller holds the lock. */
/* The first rule still in force that applies to path: rules without a path are used in order by
 * every request; a rule with a path only by requests to that path, which others pass over. */
static int next_fault(struct behaviour *b, const char *path, struct fault *f)
{
    while (b->fault_next < b->fault_count && b->faults[b->fault_next].times_left <= 0)
        b->fault_next++;
    for (size_t i = b->fault_next; i < b->fault_count; i++) {
        struct fault *rule = &b->faults[i];
        if (rule->times_left <= 0 || (rule->path[0] && strcmp(rule->path, path) != 0))
            continue;
        *f = *rule;
        rule->times_left--;
        return 1;
    }
    return 0;
}

static json_t *headers_json(const struct oms_http_request *req)
{
    json_t *h = json_object();
    for (size_t i = 0; i < req->header_count; i++) {
        char name[128];
        oms_str_lower(name, sizeof(name), req->headers[i].name);
        json_t *prev = json_object_get(h, name);
        if (prev) {
            /* Repeated headers are folded as HTTP allows: "a, b". */
            size_t size = strlen(json_string_value(prev)) + strlen(req->headers[i].value) + 3;
            char *joined = oms_xmalloc(size);
            snprintf(joined, size, "%s, %s", json_string_value(prev), req->headers[i].value);
            json_object_set_new(h, name, json_string(joined));
            free(joined);
        } else {
            json_object_set_new(
                h, name,
                oms_json_string_lossy(req->headers[i].value, strlen(req->headers[i].value)));
        }
    }
    return h;
}

/* A delivery attempt's key (oms_attempts_key), when the request carries one. */
struct delivery_key {
    int set;
    char id[OMS_DELIVERY_ID_MAX + 1];
    int64_t attempt;
};

static void record(struct oms_recorder *r, const struct oms_http_request *req,
                   const struct oms_http_response *resp, const struct delivery_key *key)
{
    json_t *query = json_object();
    for (size_t i = 0; i < req->arg_count; i++)
        json_object_set_new(query, req->args[i].name, json_string(req->args[i].value));
    /* Kept lean (what can be derived is added when the journal is read): a receiver under load
     * holds up to its journal limit of these. */
    json_t *e = json_object();
    json_object_set_new(e, "method", json_string(req->method));
    json_object_set_new(e, "path", oms_json_string_lossy(req->path, strlen(req->path)));
    json_object_set_new(e, "query", query);
    json_object_set_new(e, "headers", headers_json(req));
    size_t kept = req->body_len;
    if (req->body_len > r->body_keep) {
        /* A large body is kept in part, with what identifies the whole. */
        char sha[65];
        oms_sha256_hex(req->body, req->body_len, sha);
        kept = r->body_keep;
        json_object_set_new(e, "body_truncated", json_true());
        json_object_set_new(e, "body_length", json_integer((json_int_t)req->body_len));
        json_object_set_new(e, "body_sha256", json_string(sha));
    }
    json_t *text = json_stringn(req->body, kept);
    int utf8 = text != NULL;
    json_object_set_new(e, "body", text ? text : oms_json_string_lossy(req->body, kept));
    /* true: the body may be JSON - kept whole, valid UTF-8, so "body" holds it unchanged - and is
     * parsed when the journal is read ("json" is then the value, or null). Parsing every request
     * as it arrives cost a receiver half its time. */
    json_object_set_new(e, "json",
                        json_boolean(req->body_len > 0 && kept == req->body_len && utf8));
    json_object_set_new(e, "received_ms", json_integer(req->arrival_ms));
    static const char *const outcomes[] = {"answered", "reset", "truncated", "hung"};
    json_object_set_new(e, "outcome",
                        json_string(resp->fault    ? outcomes[resp->fault]
                                    : resp->status ? "answered"
                                                   : "dropped"));
    /* A truncated answer never arrived whole: nothing was answered. */
    json_object_set_new(e, "answered",
                        resp->status && !resp->fault ? json_integer(resp->status) : json_null());
    if (resp->delay_ms)
        json_object_set_new(e, "delay_ms", json_integer(resp->delay_ms));
    pthread_mutex_lock(&r->lock);
    json_object_set_new(e, "seq", json_integer(++r->seq));
    /* Weighed by what it holds that a client chose: the body kept and the headers. */
    size_t weight = kept + 256;
    for (size_t i = 0; i < req->header_count; i++)
        weight += strlen(req->headers[i].name) + strlen(req->headers[i].value);
    oms_journal_append_sized(r->journal, e, weight);
    /* Only an attempt left without an answer (dropped, reset, hanging) can come back as a
     * transport re-send: libcurl repeats a request only when its connection died before any answer.
     * A repeat of an answered attempt is the sender's own, and a call of its own. */
    if (key->set && resp->status == 0)
        oms_attempts_remember(r->attempts, key->id, key->attempt, e, resp);
    pthread_mutex_unlock(&r->lock);
}

static void answer_error(struct oms_http_response *resp, int status, const char *message)
{
    /* The message may quote the request's bytes (a JSON parse error does), which need not be
     * UTF-8: made valid rather than losing the envelope. */
    json_t *doc = json_pack("{s:{s:[o]}, s:i}", "error", "non_field_errors",
                            oms_json_string_lossy(message, strlen(message)), "status_code", status);
    oms_http_response_json(resp, status, doc);
    json_decref(doc);
}

/* A control request being answered: the receiver, and whether it came in on the control listener,
 * so it may wait for the main listener to go down or up (on the main listener it must not:
 * stopping waits for this very handler). */
struct control_call {
    struct oms_recorder *r;
    int wait;
};

static void control_journal_get(void *ctx, const struct oms_http_request *req,
                                struct oms_http_response *resp)
{
    struct oms_recorder *r = ((struct control_call *)ctx)->r;
    const char *last_arg = oms_http_request_arg(req, "last");
    long last = LONG_MAX;
    if (last_arg && oms_cli_int(last_arg, 0, LONG_MAX, &last) != 0) {
        answer_error(resp, 400, "\"last\" must be a number of entries (0 or more)");
        return;
    }
    size_t matched = 0;
    json_t *requests = journal_read(r, oms_http_request_arg(req, "path"), (size_t)last, &matched);
    pthread_mutex_lock(&r->lock);
    json_int_t dropped = oms_journal_dropped(r->journal);
    json_int_t limit = (json_int_t)oms_journal_limit(r->journal);
    json_int_t bytes = (json_int_t)oms_journal_bytes(r->journal);
    json_int_t resent = (json_int_t)r->resent;
    pthread_mutex_unlock(&r->lock);
    json_t *doc = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "receiver", r->name, "count",
                            (json_int_t)matched, "dropped", dropped, "resent", resent, "limit",
                            limit, "bytes", bytes, "requests", requests);
    oms_http_response_json(resp, 200, doc);
    json_decref(doc);
}

static void control_journal_clear(void *ctx, const struct oms_http_request *req,
                                  struct oms_http_response *resp)
{
    (void)req;
    oms_recorder_clear(((struct control_call *)ctx)->r);
    resp->status = 204;
}

static void control_behaviour_get(void *ctx, const struct oms_http_request *req,
                                  struct oms_http_response *resp)
{
    (void)req;
    struct oms_recorder *r = ((struct control_call *)ctx)->r;
    pthread_mutex_lock(&r->lock);
    json_t *doc = behaviour_to_json(&r->current);
    json_object_set_new(doc, "down", json_boolean(r->want_down));
    pthread_mutex_unlock(&r->lock);
    oms_http_response_json(resp, 200, doc);
    json_decref(doc);
}

static void control_behaviour_put(void *ctx, const struct oms_http_request *req,
                                  struct oms_http_response *resp)
{
    struct control_call *call = ctx;
    struct oms_err err = {0};
    json_t *doc = oms_json_load_buf(req->body, req->body_len, "request body", &err);
    if (doc)
        configure(call->r, doc, call->wait, &err);
    json_decref(doc);
    if (oms_err_isset(&err)) {
        char text[OMS_ERR_MESSAGE_MAX + OMS_ERR_PATH_MAX + 64];
        answer_error(resp, 400, oms_err_format(&err, text, sizeof(text)));
    } else {
        resp->status = 204;
    }
}

static void control_reset(void *ctx, const struct oms_http_request *req,
                          struct oms_http_response *resp)
{
    (void)req;
    struct control_call *call = ctx;
    reset(call->r, call->wait);
    resp->status = 204;
}

static void control_health(void *ctx, const struct oms_http_request *req,
                           struct oms_http_response *resp)
{
    (void)req;
    json_t *doc =
        json_pack("{s:s, s:s}", "status", "ok", "receiver", ((struct control_call *)ctx)->r->name);
    oms_http_response_json(resp, 200, doc);
    json_decref(doc);
}

/* The control endpoints (docs/fixture-protocol.md, "receivers"). */
static const struct oms_http_route CONTROL_ROUTES[] = {
    {"/__journal", "GET", control_journal_get},
    {"/__journal", "DELETE", control_journal_clear},
    {"/__behaviour", "GET", control_behaviour_get},
    {"/__behaviour", "PUT", control_behaviour_put},
    {"/__reset", "POST", control_reset},
    {"/__health", "GET", control_health},
};

static void control(struct oms_recorder *r, const struct oms_http_request *req,
                    struct oms_http_response *resp, int wait)
{
    if (!oms_fixture_token_ok(req, r->fixture_token)) {
        answer_error(resp, 401, oms_fixture_token_refusal());
        return;
    }
    char allow[64];
    const struct oms_http_route *route =
        oms_http_route_find(CONTROL_ROUTES, OMS_ARRAY_LEN(CONTROL_ROUTES), req->path, req->method,
                            allow, sizeof(allow));
    struct control_call call = {r, wait};
    if (route) {
        route->handler(&call, req, resp);
    } else if (allow[0]) {
        char msg[128];
        snprintf(msg, sizeof(msg), "method not allowed on this control endpoint (allowed: %s)",
                 allow);
        answer_error(resp, 405, msg);
        oms_http_response_header(resp, "Allow", allow);
    } else {
        answer_error(resp, 404,
                     "unknown control endpoint (expected /__journal, /__behaviour, "
                     "/__reset or /__health)");
    }
}

static void handle(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp)
{
    struct oms_recorder *r = ctx;
    if (strncmp(req->path, "/__", 3) == 0) {
        control(r, req, resp, 0);
        return;
    }
    if (req->body_too_large) {
        /* Not read, so not recorded: there is nothing to show of it. */
        answer_error(resp, 413, "the request body is larger than the receiver's limit of 16 MiB");
        return;
    }
    /* A transport re-send of an attempt left unanswered is that attempt again: answered as it
     * was, counted apart, and neither recorded as a call nor given the next fault rule. */
    struct delivery_key key = {0};
    key.set = oms_attempts_key(req, key.id, &key.attempt);
    if (key.set) {
        pthread_mutex_lock(&r->lock);
        int replayed = oms_attempts_replay(r->attempts, key.id, key.attempt, resp);
        r->resent += replayed;
        pthread_mutex_unlock(&r->lock);
        if (replayed) {
            oms_log(OMS_LOG_INFO, r->name,
                    "%s %s: delivery %s attempt %lld sent again (a transport "
                    "re-send), answered as before",
                    req->method, req->path, key.id, (long long)key.attempt);
            return;
        }
    }
    struct fault f;
    int have_fault;
    int status, status_set;
    json_t *body = NULL;
    pthread_mutex_lock(&r->lock);
    have_fault = next_fault(&r->current, req->path, &f);
    status = r->current.status;
    status_set = r->current.status_set;
    if (r->current.body)
        body = json_incref(r->current.body);
    pthread_mutex_unlock(&r->lock);

    if (have_fault && f.kind == FAULT_DROP) {
        resp->status = 0;
    } else if (have_fault && (f.kind == FAULT_RESET || f.kind == FAULT_HANG)) {
        resp->status = 0;
        resp->fault = f.kind == FAULT_RESET ? OMS_HTTP_FAULT_RESET : OMS_HTTP_FAULT_HANG;
    } else if (have_fault && f.kind == FAULT_STATUS) {
        answer_error(resp, f.status, "fault injected by the recorder");
    } else {
        if (have_fault && f.kind == FAULT_DELAY)
            resp->delay_ms = f.delay_ms;
        if (have_fault && f.kind == FAULT_TRUNCATE)
            resp->fault = OMS_HTTP_FAULT_TRUNCATE;
        /* Only an inspector (mock_omnitron's) needs the body parsed. */
        int inspected = 0;
        if (!status_set && r->inspect) {
            json_t *body_json =
                req->body_len > 0 ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
            inspected = r->inspect(r->inspect_ctx, req, body_json, resp);
            json_decref(body_json);
        }
        if (!inspected) {
            if (body)
                oms_http_response_json(resp, status, body);
            else
                resp->status = status;
        }
    }
    if (resp->fault == OMS_HTTP_FAULT_TRUNCATE && resp->body.len == 0) {
        /* Cut a body short, not a head: clients read a head cut after its status line as a whole
         * answer. */
        json_t *filler = json_pack("{s:s}", "detail", "this answer is cut short on purpose");
        oms_http_response_json(resp, resp->status ? resp->status : 200, filler);
        json_decref(filler);
    }
    record(r, req, resp, &key);
    json_decref(body);
}

void oms_recorder_handle(struct oms_recorder *r, const struct oms_http_request *req,
                         struct oms_http_response *resp)
{
    handle(r, req, resp);
}

static void handle_control(void *ctx, const struct oms_http_request *req,
                           struct oms_http_response *resp)
{
    struct oms_recorder *r = ctx;
    if (strncmp(req->path, "/__", 3) == 0) {
        control(r, req, resp, 1);
        return;
    }
    answer_error(resp, 404,
                 "this is the control listener: only /__journal, /__behaviour, /__reset and "
                 "/__health are served here");
}

/* Control requests without the fixture token are refused before their body is read. */
static int precheck(void *ctx, const struct oms_http_request *head, struct oms_http_response *resp,
                    size_t *max_body)
{
    struct oms_recorder *r = ctx;
    (void)max_body;
    if (strncmp(head->path, "/__", 3) != 0 || oms_fixture_token_ok(head, r->fixture_token))
        return 0;
    answer_error(resp, 401, oms_fixture_token_refusal());
    return 1;
}

/* Recorded requests are answered by the event loop itself (a delay waits on a timer); control
 * requests (a journal of 100,000 entries to copy) go to the workers. */
static int quick(void *ctx, const struct oms_http_request *head)
{
    (void)ctx;
    return strncmp(head->path, "/__", 3) != 0;
}

static int listen_main(struct oms_recorder *r, unsigned port, struct oms_err *err)
{
    struct oms_http_server_config sc = {
        .bind = r->bind,
        .port = port,
        .max_body = OMS_RECORDER_MAX_BODY,
        .threads = 2, /* delayed answers wait on a timer, holding up no worker */
        .handler = handle,
        .precheck = precheck,
        .quick = quick,
        .ctx = r,
        .name = r->name,
        .limits = r->limits,
    };
    return oms_http_server_start(&sc, &r->server, err);
}

static void *switcher(void *arg)
{
    struct oms_recorder *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        if (r->want_down && r->up_at_ms && oms_time_wall_ms() >= r->up_at_ms)
            r->want_down = 0;
        if (r->want_down != r->is_down) {
            int down = r->want_down;
            pthread_mutex_unlock(&r->lock);
            int ok = 1;
            if (down) {
                struct oms_http_server *s = r->server;
                r->server = NULL;
                oms_http_server_stop(s);
            } else {
                struct oms_err err = {0};
                ok = listen_main(r, r->port, &err) == 0;
                if (!ok) {
                    oms_log(OMS_LOG_WARN, r->name, "cannot listen again on port %u: %s", r->port,
                            err.message);
                    oms_time_sleep_ms(20);
                }
            }
            pthread_mutex_lock(&r->lock);
            if (ok)
                r->is_down = down;
            pthread_cond_broadcast(&r->switch_cond);
            continue;
        }
        if (r->want_down && r->up_at_ms) {
            struct timespec ts;
            int64_t at = r->up_at_ms;
            ts.tv_sec = (time_t)(at / 1000);
            ts.tv_nsec = (long)(at % 1000) * 1000000L;
            pthread_cond_timedwait(&r->switch_cond, &r->lock, &ts);
        } else {
            pthread_cond_wait(&r->switch_cond, &r->lock);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Releases what a recorder owns once its servers are stopped. */
static void recorder_free(struct oms_recorder *r)
{
    behaviour_cleanup(&r->initial);
    behaviour_cleanup(&r->current);
    oms_journal_destroy(r->journal);
    oms_attempts_destroy(r->attempts);
    pthread_cond_destroy(&r->switch_cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

int oms_recorder_start(const struct oms_recorder_config *cfg, struct oms_recorder **out,
                       struct oms_err *err)
{
    struct oms_recorder *r = OMS_NEW(struct oms_recorder);
    int trc = oms_fixture_token_choose(cfg->fixture_token, r->fixture_token,
                                       sizeof(r->fixture_token), &r->fixture_token_generated, err);
    if (trc != 0) {
        free(r);
        return trc;
    }
    r->limits = cfg->limits;
    r->body_keep =
        cfg->journal_body_bytes ? cfg->journal_body_bytes : OMS_RECORDER_DEFAULT_JOURNAL_BODY_BYTES;
    snprintf(r->name, sizeof(r->name), "%s", cfg->name ? cfg->name : "receiver");
    r->inspect = cfg->inspect;
    r->inspect_ctx = cfg->inspect_ctx;
    r->journal = oms_journal_create(cfg->journal_limit);
    r->attempts = oms_attempts_create(0);
    oms_journal_set_max_bytes(r->journal, cfg->journal_bytes ? cfg->journal_bytes
                                                             : OMS_RECORDER_DEFAULT_JOURNAL_BYTES);
    r->initial.status = cfg->status ? cfg->status : 200;
    if (cfg->body) {
        r->initial.body = json_loads(cfg->body, 0, NULL);
        if (!r->initial.body) {
            oms_journal_destroy(r->journal);
            oms_attempts_destroy(r->attempts);
            free(r);
            return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, NULL,
                               "default answer body of receiver is not JSON");
        }
    }
    behaviour_copy(&r->current, &r->initial);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->switch_cond, NULL);
    snprintf(r->bind, sizeof(r->bind), "%s", cfg->bind ? cfg->bind : "127.0.0.1");
    int rc = listen_main(r, cfg->port, err);
    if (rc == 0) {
        r->port = oms_http_server_port(r->server);
        snprintf(r->url, sizeof(r->url), "%s", oms_http_server_url(r->server));
        struct oms_http_server_config cc = {
            .bind = r->bind,
            .port = cfg->control_port,
            .threads = 2,
            .handler = handle_control,
            .precheck = precheck,
            .ctx = r,
            .name = r->name,
            .limits = r->limits,
        };
        rc = oms_http_server_start(&cc, &r->control, err);
    }
    if (rc == 0 && pthread_create(&r->switcher, NULL, switcher, r) != 0)
        rc = oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL, "cannot start a thread");
    if (rc != 0) {
        oms_http_server_stop(r->server);
        oms_http_server_stop(r->control);
        recorder_free(r);
        return rc;
    }
    r->inspect_free = cfg->inspect_free;
    *out = r;
    return 0;
}

void oms_recorder_stop(struct oms_recorder *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    pthread_cond_broadcast(&r->switch_cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->switcher, NULL);
    oms_http_server_stop(r->control);
    oms_http_server_stop(r->server);
    if (r->inspect_free)
        r->inspect_free(r->inspect_ctx);
    recorder_free(r);
}

unsigned oms_recorder_port(const struct oms_recorder *r)
{
    return r->port;
}

const char *oms_recorder_url(const struct oms_recorder *r)
{
    return r->url;
}

const char *oms_recorder_control_url(const struct oms_recorder *r)
{
    return oms_http_server_url(r->control);
}

const char *oms_recorder_fixture_token(const struct oms_recorder *r)
{
    return r->fixture_token;
}

int oms_recorder_fixture_token_generated(const struct oms_recorder *r)
{
    return r->fixture_token_generated;
}
