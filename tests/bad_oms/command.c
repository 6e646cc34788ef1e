/* command: POST /api/v1/oms/packages/{id}/command/ - request checks, the transition and its
 * outbound calls, with the deliberate bugs of --bug marked BUG where they bite. */
#include "bad_oms.h"

#include "oms_alloc.h"
#include "oms_crypto.h"
#include "oms_json.h"
#include "oms_quota.h"
#include "oms_time.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Field errors of one request: {"<field>": ["message", ...]}. */
static void field_error(json_t *errors, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void field_error(json_t *errors, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *list = json_object_get(errors, field);
    if (!list) {
        list = json_array();
        json_object_set_new(errors, field, list);
    }
    json_array_append_new(list, json_string(msg));
}

/* "the string \"x\"", "the number 1.5", "true"... for messages. */
static const char *describe(const json_t *v, char *out, size_t size)
{
    if (json_is_string(v))
        snprintf(out, size, "the string \"%.40s\"", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, size, "the number %lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, size, "the number %g", json_real_value(v));
    else
        snprintf(out, size, "%s", oms_json_type_name(v));
    return out;
}

/* SPEC E-2: "Authorization: Token <token>" with a token of the profile; 401 otherwise. */
static int authorised(const struct oms_profile *p, const struct oms_http_request *req,
                      struct oms_http_response *resp)
{
    const char *h = oms_http_request_header(req, "Authorization");
    const char *why = NULL;
    if (!h || !*h)
        why = "authentication credentials were not provided (send \"Authorization: Token <t>\")";
    else if (strncasecmp(h, "Token ", 6) != 0)
        why = "the Authorization header must use the Token scheme";
    else if (!oms_secret_in(oms_profile_tokens(p), h + 6 + strspn(h + 6, " ")))
        why = "invalid token";
    if (!why)
        return 1;
    bad_oms_reply_error(resp, 401, "non_field_errors", "%s", why);
    oms_http_response_header(resp, "WWW-Authenticate", "Token");
    return 0;
}

/* A JSON body parsed, or NULL after answering 413, 415 or 400 (SPEC E-2). */
static json_t *read_body(const struct oms_profile *p, const struct oms_http_request *req,
                         struct oms_http_response *resp)
{
    size_t max = oms_profile_max_body(p);
    if (req->body_too_large || req->body_len > max) {
        bad_oms_reply_error(resp, 413, "non_field_errors",
                            "the request body is larger than %zu bytes", max);
        return NULL;
    }
    const char *type = oms_http_request_header(req, "Content-Type");
    size_t n = type ? strcspn(type, "; ") : 0;
    if (!type || n != strlen("application/json") || strncasecmp(type, "application/json", n) != 0) {
        bad_oms_reply_error(resp, 415, "non_field_errors",
                            "unsupported content type \"%.80s\"; use application/json",
                            type ? type : "");
        return NULL;
    }
    json_error_t je;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &je);
    if (doc)
        return doc;
    if (json_error_code(&je) == json_error_numeric_overflow) {
        /* Valid JSON with an integer beyond 64 bits: the fault is one field's value (SPEC E-1). */
        json_t *loose = json_loadb(req->body, req->body_len, JSON_DECODE_INT_AS_REAL, NULL);
        json_t *errors = json_object();
        const char *key;
        json_t *v;
        json_object_foreach(loose, key, v)
        {
            if (json_is_real(v) && (json_real_value(v) >= 9.2e18 || json_real_value(v) <= -9.2e18))
                field_error(errors, key, "must be an integer that fits in 64 bits");
        }
        json_decref(loose);
        if (json_object_size(errors)) {
            json_t *env = json_pack("{s:o, s:i}", "error", errors, "status_code", 400);
            oms_http_response_json(resp, 400, env);
            json_decref(env);
            return NULL;
        }
        json_decref(errors);
    }
    bad_oms_reply_error(resp, 400, "non_field_errors", "the request body is not valid JSON: %s",
                        je.text);
    return NULL;
}

static int is_slug(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
            return 0;
    return 1;
}

struct command {
    int64_t package;
    const struct oms_profile_transition *transition;
    int sync;
};

/* SPEC C-3, C-4, C-8: the body's fields, every error collected into errors. */
static void parse_fields(const struct oms_profile *p, unsigned bugs, int64_t path_id,
                         const json_t *body, struct command *cmd, json_t *errors)
{
    char what[96];
    memset(cmd, 0, sizeof(*cmd));
    if (!json_is_object(body)) {
        field_error(errors, "non_field_errors", "the request body must be a JSON object, not %s",
                    describe(body, what, sizeof(what)));
        return;
    }
    json_t *pkg = json_object_get(body, "package");
    if (!pkg)
        field_error(errors, "package", "this field is required");
    else if (!json_is_integer(pkg) || json_integer_value(pkg) <= 0)
        field_error(errors, "package", "must be a positive integer, not %s",
                    describe(pkg, what, sizeof(what)));
    else if (json_integer_value(pkg) != path_id)
        field_error(errors, "package", "package %lld in the body is not package %lld of the path",
                    (long long)json_integer_value(pkg), (long long)path_id);
    else
        cmd->package = path_id;

    json_t *tid = json_object_get(body, "transition");
    json_t *slug = json_object_get(body, "slug");
    const struct oms_profile_transition *by_id = NULL, *by_slug = NULL;
    int bad = 0;
    if (tid && (!json_is_integer(tid) || json_integer_value(tid) <= 0)) {
        field_error(errors, "transition", "must be a positive integer transition id, not %s",
                    describe(tid, what, sizeof(what)));
        bad = 1;
    } else if (tid) {
        by_id = oms_profile_transition_by_id(p, json_integer_value(tid));
        if (!by_id) {
            field_error(errors, "transition", "there is no transition %lld",
                        (long long)json_integer_value(tid));
            bad = 1;
        }
    }
    if (slug && (!json_is_string(slug) || !is_slug(json_string_value(slug)))) {
        field_error(errors, "slug", "must be a slug (letters, digits, '-', '_'), not %s",
                    describe(slug, what, sizeof(what)));
        bad = 1;
    } else if (slug) {
        by_slug = oms_profile_transition_by_slug(p, json_string_value(slug));
        if (!by_slug) {
            field_error(errors, "slug", "there is no transition with the slug \"%s\"",
                        json_string_value(slug));
            bad = 1;
        }
    }
    if (!tid && !slug)
        field_error(errors, "non_field_errors", "give a transition id or a slug");
    else if (!bad && by_id && by_slug && by_id != by_slug)
        field_error(errors, "non_field_errors",
                    "transition %lld is \"%s\", but the slug says \"%s\"", (long long)by_id->id,
                    by_id->slug, by_slug->slug);
    else if (!bad)
        cmd->transition = by_id ? by_id : by_slug;

    json_t *sync = json_object_get(body, "sync_remote_order_status");
    if (sync && !json_is_boolean(sync))
        field_error(errors, "sync_remote_order_status", "must be a boolean, not %s",
                    describe(sync, what, sizeof(what)));
    if (bugs & BAD_BUG_IGNORE_SYNC_FALSE)
        /* BUG ignore-sync-false: a truthiness test that falls back to the installation default,
         * so an explicit false never wins over a default of true (`flag || default`). */
        cmd->sync = json_is_true(sync) || oms_profile_sync_default(p);
    else
        cmd->sync = sync ? json_is_true(sync) : oms_profile_sync_default(p);
}

static json_t *find_id(const json_t *list, int64_t id)
{
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)list, i, e)
    {
        if (json_integer_value(json_object_get(e, "id")) == id)
            return e;
    }
    return NULL;
}

static json_t *status_text(int64_t status)
{
    char s[32];
    snprintf(s, sizeof(s), "%lld", (long long)status);
    return json_string(s);
}

/* SPEC C-9: the package after the transition, statuses as strings. */
static json_t *payload(const json_t *pkg)
{
    json_t *items = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(pkg, "items"), i, it)
    {
        json_array_append_new(
            items,
            json_pack("{s:O, s:O, s:O, s:O, s:o}", "id", json_object_get(it, "id"), "order_item",
                      json_object_get(it, "order_item"), "sku", json_object_get(it, "sku"),
                      "quantity", json_object_get(it, "quantity"), "status",
                      status_text(json_integer_value(json_object_get(it, "status")))));
    }
    return json_pack(
        "{s:O, s:O, s:O, s:o, s:o}", "id", json_object_get(pkg, "id"), "order_number",
        json_object_get(pkg, "order_number"), "location", json_object_get(pkg, "location"),
        "status", status_text(json_integer_value(json_object_get(pkg, "status"))), "items", items);
}

/* One webhook row for a subscriber (or, for the bug, a bare URL when sub is NULL). */
static void enqueue_webhook(struct bad_oms *b, const struct oms_profile *p, const char *event_type,
                            const json_t *pkg, const json_t *sub, const char *url)
{
    char uuid[33];
    if (oms_random_hex(uuid, 16) != 0)
        snprintf(uuid, sizeof(uuid), "%032llx", (unsigned long long)b->next_outbox_id);
    json_t *doc = json_pack("{s:{s:s, s:s}, s:o}", "event", "type", event_type, "uuid", uuid,
                            "payload", payload(pkg));
    char *body = oms_json_dumps(doc);
    json_decref(doc);
    json_t *headers = json_pack("{s:s}", "Content-Type", "application/json");
    const json_t *retry = oms_profile_webhook_retry(p);
    if (sub) {
        json_t *extra = json_object_get(sub, "additional_headers");
        if (json_is_object(extra))
            json_object_update(headers, extra);
        const char *secret = json_string_value(json_object_get(sub, "secret_key"));
        if (secret && *secret) {
            /* SPEC O-3 */
            char mac[65], value[160];
            oms_hmac_sha256_hex(secret, strlen(secret), body, strlen(body), mac);
            snprintf(value, sizeof(value), "%s%s", oms_profile_signature_prefix(p), mac);
            json_object_set_new(headers, oms_profile_signature_header(p), json_string(value));
        }
        if (json_is_object(json_object_get(sub, "retry_countdown_config")))
            retry = json_object_get(sub, "retry_countdown_config");
    }
    bad_delivery_enqueue(b, "webhook", "POST", url, headers, body, uuid, retry);
    free(body);
}

/* SPEC C-8, A-4: one call listing the order items that moved. */
static void enqueue_omnitron(struct bad_oms *b, const struct oms_profile *p, json_t *moved)
{
    json_t *doc = json_pack("{s:O}", "orderitem_set", moved);
    char *body = oms_json_dumps(doc);
    json_decref(doc);
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", b->omnitron_url, oms_profile_omnitron_path(p));
    json_t *headers = json_pack("{s:s}", "Content-Type", "application/json");
    if (b->omnitron_token) {
        char auth[512];
        snprintf(auth, sizeof(auth), "Token %s", b->omnitron_token);
        json_object_set_new(headers, "Authorization", json_string(auth));
    }
    bad_delivery_enqueue(b, "omnitron", oms_profile_omnitron_method(p), url, headers, body, NULL,
                         oms_profile_omnitron_retry(p));
    free(body);
}

/* With the lock held: SPEC C-6..C-10, Q-2 on one package that exists and may move. */
static void transition(struct bad_oms *b, const struct oms_profile *p, const struct command *cmd,
                       json_t *pkg)
{
    const struct oms_profile_transition *t = cmd->transition;
    int64_t source = json_integer_value(json_object_get(pkg, "status"));
    int64_t target = t->target;

    /* SPEC C-7, A-3: deletions follow the profile's table for the source status. */
    int del_res = oms_profile_transition_deletes_reservations(t, source);
    int del_dis = oms_profile_transition_deletes_discrepancies(t, source);
    if (b->bugs & BAD_BUG_OOS_DELETES) {
        /* BUG oos-deletes: "this transition cleans up reservations" read as unconditional - any
         * legal source (Out of Stock too) loses its reservations and discrepancies. */
        del_res = del_res || t->delete_reservations_count > 0;
        del_dis = del_dis || t->delete_discrepancies_count > 0;
    }
    if (del_res)
        json_array_clear(json_object_get(pkg, "reservations"));
    if (del_dis)
        json_array_clear(json_object_get(pkg, "discrepancies"));

    /* SPEC: counts(target) - counts(source), never below 0. */
    int delta = oms_quota_delta(p, source, target);
    if (delta < 0 && (b->bugs & BAD_BUG_DOUBLE_QUOTA))
        /* BUG double-quota: the command releases the package's slot itself, and the shared
         * transition code releases it again. */
        delta *= 2;
    json_t *loc = find_id(b->locations, json_integer_value(json_object_get(pkg, "location")));
    if (loc && delta) {
        json_int_t quota = json_integer_value(json_object_get(loc, "quota")) + delta;
        if (quota < 0)
            quota = 0;
        json_object_set_new(loc, "quota", json_integer(quota));
        json_object_set_new(
            loc, "available_quota",
            json_integer(json_integer_value(json_object_get(loc, "max_quota")) - quota));
    }

    /* SPEC C-6: the package and every item; C-8 lists the items whose status moved. */
    const char *remote = oms_profile_omnitron_status(p, target);
    json_t *moved = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(pkg, "items"), i, it)
    {
        if (json_integer_value(json_object_get(it, "status")) != target && remote)
            json_array_append_new(
                moved,
                json_pack("{s:O, s:s}", "id", json_object_get(it, "order_item"), "status", remote));
        json_object_set_new(it, "status", json_integer(target));
    }
    json_object_set_new(pkg, "status", json_integer(target));

    /* SPEC C-10 */
    json_array_append_new(b->transition_log,
                          json_pack("{s:I, s:O, s:I, s:s, s:I, s:I, s:I}", "id",
                                    (json_int_t)b->next_log_id++, "package",
                                    json_object_get(pkg, "id"), "transition", (json_int_t)t->id,
                                    "slug", t->slug, "old_status", (json_int_t)source, "new_status",
                                    (json_int_t)target, "at_ms", (json_int_t)oms_time_wall_ms()));

    if (t->sync_remote && cmd->sync && remote && json_array_size(moved) && b->omnitron_url)
        enqueue_omnitron(b, p, moved);
    json_decref(moved);

    /* SPEC C-9 */
    if (!t->event_type)
        return;
    size_t subscribers = 0;
    json_t *sub;
    json_array_foreach(b->subscriptions, i, sub)
    {
        if (strcmp(json_string_value(json_object_get(sub, "event_type")), t->event_type) != 0)
            continue;
        enqueue_webhook(b, p, t->event_type, pkg, sub,
                        json_string_value(json_object_get(sub, "target_url")));
        subscribers++;
    }
    if (subscribers == 0 && (b->bugs & BAD_BUG_WEBHOOK_NO_SUB) && b->stale_hook_url)
        /* BUG webhook-without-subscription: an event nobody subscribed to goes to a "default
         * notification endpoint" - the target_url of the last hook ever registered, for whatever
         * event type - which the service caches and never forgets when subscriptions change. */
        enqueue_webhook(b, p, t->event_type, pkg, NULL, b->stale_hook_url);
}

void bad_command_handle(struct bad_oms *b, int64_t package_id, const struct oms_http_request *req,
                        struct oms_http_response *resp)
{
    pthread_mutex_lock(&b->lock);
    struct oms_profile *p = oms_profile_ref(b->profile);
    pthread_mutex_unlock(&b->lock);
    json_t *body = NULL, *errors = json_object(), *answer = NULL;
    struct command cmd;
    int status = 204;
    if (!authorised(p, req, resp))
        goto done;
    if (strcmp(req->method, "POST") != 0) {
        bad_oms_reply_error(resp, 405, "non_field_errors", "method \"%.20s\" is not allowed",
                            req->method);
        oms_http_response_header(resp, "Allow", "POST");
        goto done;
    }
    body = read_body(p, req, resp);
    if (!body)
        goto done;
    parse_fields(p, b->bugs, package_id, body, &cmd, errors);
    if (json_object_size(errors)) {
        status = 400;
    } else {
        /* SPEC C-11: one lock serialises every command. */
        pthread_mutex_lock(&b->lock);
        json_t *pkg = find_id(b->packages, package_id);
        int64_t current = json_integer_value(json_object_get(pkg, "status"));
        if (!pkg) {
            status = 404;
            field_error(errors, "non_field_errors", "package %lld does not exist",
                        (long long)package_id);
        } else if (!oms_profile_transition_allows(cmd.transition, current)) {
            /* SPEC C-5 */
            char now[96], allowed[512] = "";
            size_t n = 0;
            for (size_t i = 0; i < cmd.transition->source_count && n < sizeof(allowed); i++) {
                char label[96];
                oms_profile_status_label(p, cmd.transition->sources[i], label, sizeof(label));
                n += (size_t)snprintf(allowed + n, sizeof(allowed) - n, "%s%s", i ? " or " : "",
                                      label);
            }
            status = 400;
            field_error(errors, "non_field_errors",
                        "package %lld is %s; \"%s\" moves packages only from %s",
                        (long long)package_id,
                        oms_profile_status_label(p, current, now, sizeof(now)),
                        cmd.transition->slug, allowed);
        } else {
            transition(b, p, &cmd, pkg);
            if (b->bugs & BAD_BUG_STATUS_200)
                answer = json_deep_copy(pkg);
        }
        pthread_mutex_unlock(&b->lock);
    }
    if (status != 204) {
        json_t *env = json_pack("{s:O, s:i}", "error", errors, "status_code", status);
        oms_http_response_json(resp, status, env);
        json_decref(env);
    } else if (answer) {
        /* BUG status-200: answers like a Django UpdateAPIView - 200 and the updated package -
         * where SPEC C-2 wants 204 and no body. */
        oms_http_response_json(resp, 200, answer);
    } else {
        resp->status = 204;
    }
done:
    json_decref(answer);
    json_decref(body);
    json_decref(errors);
    oms_profile_unref(p);
}
