/* fuzz: request framing, an in-process reference and the answer and state checks. */
#include "fuzz.h"

#include "fixture.h"
#include "oms_alloc.h"
#include "oms_json.h"
#include "oms_log.h"
#include "oms_profile.h"
#include "outbox.h"
#include "reference.h"
#include "reference_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REFUND_SOURCE_DIR
#define REFUND_SOURCE_DIR "."
#endif

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

const char *fuzz_path(const char *relative)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", REFUND_SOURCE_DIR, relative);
    return path;
}

json_t *fuzz_load_json(const char *relative)
{
    struct oms_err err = {0};
    json_t *doc = oms_json_load_file(fuzz_path(relative), &err);
    if (!doc)
        fuzz_fail("cannot load %s: %s", relative, err.message);
    return doc;
}

/* ---- requests ---- */

static char *copy(const uint8_t *p, size_t n)
{
    char *s = oms_xmalloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* The next line of [*at, end) without its LF; *at moves past it. Returns 0 at the end. */
static int next_line(const uint8_t **at, const uint8_t *end, const uint8_t **line, size_t *len)
{
    if (*at >= end)
        return 0;
    const uint8_t *nl = memchr(*at, '\n', (size_t)(end - *at));
    *line = *at;
    *len = nl ? (size_t)(nl - *at) : (size_t)(end - *at);
    *at = nl ? nl + 1 : end;
    return 1;
}

static void add_pair(struct oms_http_pair *pairs, size_t *count, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen)
{
    if (*count >= FUZZ_MAX_PAIRS)
        return;
    pairs[*count].name = copy(name, nlen);
    pairs[*count].value = copy(value, vlen);
    (*count)++;
}

/* Query arguments as MHD gives them: "a=b&c" is a = "b", c = "" (our server maps NULL to ""). */
static void parse_query(struct fuzz_request *r, const uint8_t *q, size_t n)
{
    const uint8_t *end = q + n;
    while (q < end) {
        const uint8_t *amp = memchr(q, '&', (size_t)(end - q));
        const uint8_t *stop = amp ? amp : end;
        const uint8_t *eq = memchr(q, '=', (size_t)(stop - q));
        if (stop > q) {
            if (eq)
                add_pair(r->args, &r->arg_count, q, (size_t)(eq - q), eq + 1,
                         (size_t)(stop - eq - 1));
            else
                add_pair(r->args, &r->arg_count, q, (size_t)(stop - q), q, 0);
        }
        q = stop + 1;
    }
}

static void parse_one(const uint8_t *p, size_t n, struct fuzz_request *r)
{
    memset(r, 0, sizeof(*r));
    const uint8_t *at = p, *end = p + n, *line;
    size_t len = 0;
    if (!next_line(&at, end, &line, &len)) {
        line = p;
        len = 0;
    }
    /* Request line: METHOD SP TARGET; a missing target is "/". */
    const uint8_t *sp = memchr(line, ' ', len);
    r->method = copy(line, sp ? (size_t)(sp - line) : len);
    const uint8_t *target = sp ? sp + 1 : (const uint8_t *)"/";
    size_t tlen = sp ? len - (size_t)(target - line) : 1;
    const uint8_t *qm = memchr(target, '?', tlen);
    r->path = copy(target, qm ? (size_t)(qm - target) : tlen);
    if (qm)
        parse_query(r, qm + 1, tlen - (size_t)(qm + 1 - target));
    /* Headers up to an empty line; MHD drops the spaces after the colon. */
    while (next_line(&at, end, &line, &len) && len > 0) {
        const uint8_t *colon = memchr(line, ':', len);
        if (!colon)
            continue;
        const uint8_t *v = colon + 1;
        while (v < line + len && (*v == ' ' || *v == '\t'))
            v++;
        add_pair(r->headers, &r->header_count, line, (size_t)(colon - line), v,
                 (size_t)(line + len - v));
    }
    r->body = copy(at, (size_t)(end - at));
    r->body_len = (size_t)(end - at);
}

size_t fuzz_parse_requests(const uint8_t *data, size_t size, struct fuzz_request *out, size_t max)
{
    size_t count = 0, sep = strlen(FUZZ_SEPARATOR);
    const uint8_t *at = data, *end = data + size;
    while (count < max) {
        const uint8_t *next = memmem(at, (size_t)(end - at), FUZZ_SEPARATOR, sep);
        const uint8_t *stop = next ? next : end;
        parse_one(at, (size_t)(stop - at), &out[count++]);
        if (!next)
            break;
        at = next + sep;
    }
    return count;
}

void fuzz_request_cleanup(struct fuzz_request *r)
{
    free(r->method);
    free(r->path);
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    for (size_t i = 0; i < r->arg_count; i++) {
        free(r->args[i].name);
        free(r->args[i].value);
    }
    free(r->body);
    memset(r, 0, sizeof(*r));
}

struct oms_http_request fuzz_request_view(const struct fuzz_request *r)
{
    return (struct oms_http_request){
        .method = r->method,
        .path = r->path,
        .version = "HTTP/1.1",
        .headers = r->headers,
        .header_count = r->header_count,
        .args = r->args,
        .arg_count = r->arg_count,
        .body = r->body,
        .body_len = r->body_len,
        .client = "127.0.0.1:1",
        .arrival_ms = 1,
    };
}

void fuzz_response_init(struct oms_http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->status = 500;
    oms_buf_init(&resp->body, 0);
}

void fuzz_response_cleanup(struct oms_http_response *resp)
{
    for (size_t i = 0; i < resp->header_count; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    oms_buf_cleanup(&resp->body);
    memset(resp, 0, sizeof(*resp));
}

static const char *response_header(const struct oms_http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->header_count; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

static void check_envelope(const char *what, int status, const json_t *doc, const char *text)
{
    const json_t *error = json_object_get(doc, "error");
    const json_t *code = json_object_get(doc, "status_code");
    if (!json_is_object(doc) || json_object_size(doc) != 2 || !json_is_object(error) ||
        json_object_size(error) == 0 || !json_is_integer(code) ||
        json_integer_value(code) != status)
        fuzz_fail("%s: %d answered without the E-1 envelope: %s", what, status, text);
    const char *field;
    const json_t *messages;
    json_object_foreach((json_t *)error, field, messages)
    {
        size_t i;
        const json_t *m;
        if (!json_is_array(messages) || json_array_size(messages) == 0)
            fuzz_fail("%s: field \"%s\" has no list of messages: %s", what, field, text);
        json_array_foreach(messages, i, m)
        {
            if (!json_is_string(m) || json_string_length(m) == 0)
                fuzz_fail("%s: field \"%s\" has an empty message: %s", what, field, text);
        }
    }
}

void fuzz_check_answer(const char *what, const struct oms_http_response *resp)
{
    int status = resp->status;
    const char *text = oms_buf_str(&resp->body);
    if (status == 0)
        fuzz_fail("%s: no answer (the connection would be dropped)", what);
    if (status < 200 || status >= 500)
        fuzz_fail("%s: answered %d: %s", what, status, text);
    if (status == 204) {
        if (resp->body.len)
            fuzz_fail("%s: 204 with a body: %s", what, text);
        return;
    }
    json_error_t je;
    json_t *doc = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len,
                             JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!doc || json_is_null(doc))
        fuzz_fail("%s: %d with a body that is not a JSON document (%s): %s", what, status,
                  doc ? "null" : je.text, text);
    const char *type = response_header(resp, "Content-Type");
    if (!type || strncmp(type, "application/json", 16) != 0)
        fuzz_fail("%s: %d with Content-Type \"%s\"", what, status, type ? type : "(none)");
    if (status >= 400)
        check_envelope(what, status, doc, text);
    json_decref(doc);
}

/* ---- the reference without a listener ---- */

struct reference *fuzz_reference_create(void)
{
    /* The servers' warnings would flood the fuzzer's output. */
    oms_log_set_level(OMS_LOG_ERROR);
    struct reference *r = OMS_NEW(struct reference);
    struct oms_err err = {0};
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->clock_offset_ms, 0);
    atomic_init(&r->clock_virtual, 0);
    r->fixtures_enabled = 1;
    /* reference_start's defaults for what it bounds, and a fixture token of our own (fixture
     * requests among the inputs carry none, so they meet the 401 a client without it meets). */
    r->max_fixture_bytes = REFERENCE_DEFAULT_MAX_FIXTURE_BYTES;
    r->max_drain_ms = REFERENCE_DEFAULT_MAX_DRAIN_MS;
    r->max_state_rows = REFERENCE_DEFAULT_MAX_STATE_ROWS;
    snprintf(r->fixture_token, sizeof(r->fixture_token), "%s", "fuzz-fixture-token");
    r->cmdlog = cmdlog_create();
    if (oms_profile_load_file(fuzz_path("profiles/default.json"), &r->base_profile, &err) != 0 ||
        store_open(":memory:", &r->store, &err) != 0)
        fuzz_fail("cannot start the reference: %s", err.message);
    r->profile = oms_profile_ref(r->base_profile);
    struct outbox_clock clock = reference_outbox_clock(r);
    r->outbox = outbox_start(r->store, &clock);
    fuzz_reference_pause(r);
    return r;
}

void fuzz_reference_destroy(struct reference *r)
{
    if (!r)
        return;
    outbox_stop(r->outbox);
    store_close(r->store);
    cmdlog_destroy(r->cmdlog);
    oms_profile_unref(r->profile);
    oms_profile_unref(r->base_profile);
    free(r->omnitron_url);
    free(r->omnitron_token);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void fuzz_reference_pause(struct reference *r)
{
    outbox_pause(r->outbox);
}

void fuzz_reference_seed(struct reference *r, const json_t *fixture)
{
    struct oms_err err = {0};
    if (fixture_load(r, fixture, &err) != 0)
        fuzz_fail("the seed state does not load: %s at %s", err.message, err.path);
    cmdlog_clear(r->cmdlog);
    fuzz_reference_pause(r);
}

json_t *fuzz_reference_state(struct reference *r)
{
    store_lock(r->store);
    json_t *doc = store_export(r->store);
    store_unlock(r->store);
    return doc;
}

void fuzz_check_quota(struct reference *r, const json_t *state, const char *what)
{
    struct oms_profile *p = reference_profile(r);
    size_t i, k;
    json_t *loc, *pkg;
    json_array_foreach(json_object_get(state, "locations"), i, loc)
    {
        json_int_t id = json_integer_value(json_object_get(loc, "id"));
        json_int_t quota = json_integer_value(json_object_get(loc, "quota"));
        if (quota < 0)
            fuzz_fail("%s: location %lld has quota %lld (SPEC Q-4: never below 0)", what,
                      (long long)id, (long long)quota);
        if (json_is_true(json_object_get(loc, "quota_drift")))
            continue;
        json_int_t counting = 0;
        json_array_foreach(json_object_get(state, "packages"), k, pkg)
        {
            if (json_integer_value(json_object_get(pkg, "location")) == id &&
                oms_profile_counts(p, json_integer_value(json_object_get(pkg, "status"))))
                counting++;
        }
        if (counting != quota)
            fuzz_fail("%s: location %lld has quota %lld but %lld counting package(s) (SPEC Q-4)",
                      what, (long long)id, (long long)quota, (long long)counting);
    }
    oms_profile_unref(p);
}
