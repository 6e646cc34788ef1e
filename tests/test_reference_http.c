/* test_reference_http: SPEC E-2/E-3 at the HTTP level against the reference - a table of malformed
 * requests, each answered with its documented status and the E-1 envelope and none changing the
 * state, oversize and deeply nested bodies, and a deterministic fuzz loop. */
#include "support.h"

#include "oms_time.h"
#include "reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMAND_PATH "/api/v1/oms/packages/501/command/"
#define VALID        "{\"package\": 501, \"transition\": 17}"
#define FUZZ_SEED    20261123u
#define FUZZ_ROUNDS  300

/* Package 501 is Waiting (counts: quota 1) with a reservation and a discrepancy; 502 is Packed. No
 * Omnitron sync by default, so an accepted command writes no outbox row. */
static const char FIXTURE[] =
    "{\"profile\": {\"sync_remote_order_status_default\": false},"
    " \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1}],"
    " \"packages\": ["
    "  {\"id\": 501, \"location\": 1, \"status\": \"Waiting\", \"order_number\": \"ORDER-501\","
    "   \"items\": [{\"id\": 9001, \"order_item\": 7001, \"sku\": \"SKU-1\", \"quantity\": 1},"
    "             {\"id\": 9002, \"order_item\": 7002, \"sku\": \"SKU-2\", \"quantity\": 2}],"
    "   \"reservations\": [{\"id\": 1, \"sku\": \"SKU-1\", \"quantity\": 1}],"
    "   \"discrepancies\": [{\"id\": 1, \"item\": 9001, \"kind\": \"damaged\", \"quantity\": 1}]},"
    "  {\"id\": 502, \"location\": 1, \"status\": \"Packed\","
    "   \"items\": [{\"id\": 9003, \"order_item\": 7003, \"sku\": \"SKU-3\"}]}]}";

struct env {
    struct support_ref r;
    json_t *snapshot; /* the state right after the fixture load */
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
    json_decref(e->snapshot);
    support_ref_stop(&e->r);
    free(e);
    return 0;
}

/* Before each test: the fixture again, and its state as the snapshot. */
static int reload(void **state)
{
    struct env *e = *state;
    support_load(e->r.client, e->r.base, FIXTURE);
    json_decref(e->snapshot);
    e->snapshot = support_get_state(e->r.client, e->r.base);
    return 0;
}

/* Returns 0 when the state equals the snapshot, else -1 with both in why. */
static int state_unchanged(struct env *e, char *why, size_t size)
{
    json_t *now = support_get_state(e->r.client, e->r.base);
    int same = json_equal(now, e->snapshot);
    if (!same) {
        char *a = json_dumps(e->snapshot, JSON_COMPACT), *b = json_dumps(now, JSON_COMPACT);
        snprintf(why, size, "state changed:\n before %.1500s\n after  %.1500s", a, b);
        free(a);
        free(b);
    }
    json_decref(now);
    return same ? 0 : -1;
}

static void assert_state_unchanged(struct env *e, const char *what)
{
    char why[3200];
    if (state_unchanged(e, why, sizeof(why)) != 0)
        fail_msg("%s: %s", what, why);
}

/* ---- the table ---- */

static const char *const AUTH_JSON[] = {SUPPORT_AUTH, SUPPORT_JSON_CTYPE, NULL};
static const char *const AUTH_ONLY[] = {SUPPORT_AUTH, "Content-Type:", NULL};
static const char *const NO_AUTH[] = {SUPPORT_JSON_CTYPE, NULL};
static const char *const WRONG_TOKEN[] = {"Authorization: Token not-the-token", SUPPORT_JSON_CTYPE,
                                          NULL};
static const char *const EMPTY_TOKEN[] = {"Authorization: Token", SUPPORT_JSON_CTYPE, NULL};
static const char *const BEARER[] = {"Authorization: Bearer " SUPPORT_TOKEN, SUPPORT_JSON_CTYPE,
                                     NULL};
static const char *const BASIC[] = {"Authorization: Basic dXNlcjpwYXNz", SUPPORT_JSON_CTYPE, NULL};
static const char *const TEXT_PLAIN[] = {SUPPORT_AUTH, "Content-Type: text/plain", NULL};
static const char *const FORM[] = {SUPPORT_AUTH, "Content-Type: application/x-www-form-urlencoded",
                                   NULL};
static const char *const MULTIPART[] = {SUPPORT_AUTH, "Content-Type: multipart/form-data; b=x",
                                        NULL};
static const char *const TEXT_JSON[] = {SUPPORT_AUTH, "Content-Type: text/json", NULL};
static const char *const JSONP[] = {SUPPORT_AUTH, "Content-Type: application/jsonp", NULL};
static const char *const JSON_LD[] = {SUPPORT_AUTH, "Content-Type: application/ld+json", NULL};

struct bad_request {
    const char *name;
    const char *method;
    const char *path;
    const char *const *headers;
    const char *body; /* NULL: none */
    size_t body_len;  /* 0: strlen(body) */
    long status;
    const char *field;       /* expected among the error's keys; NULL: any */
    const char *resp_header; /* expected response header, or NULL */
    const char *resp_value;  /* its value (prefix) */
};

/* A body literal with its exact length, NUL bytes included. */
#define RAW(s) s, sizeof(s) - 1

static const struct bad_request TABLE[] = {
    /* SPEC E-2: wrong method, after the token check (as in DRF). */
    {"GET on the command path", "GET", COMMAND_PATH, AUTH_JSON, NULL, 0, 405, "non_field_errors",
     "Allow", "POST"},
    {"PUT on the command path", "PUT", COMMAND_PATH, AUTH_JSON, VALID, 0, 405, "non_field_errors",
     "Allow", "POST"},
    {"PATCH on the command path", "PATCH", COMMAND_PATH, AUTH_JSON, VALID, 0, 405,
     "non_field_errors", "Allow", "POST"},
    {"DELETE on the command path", "DELETE", COMMAND_PATH, AUTH_JSON, NULL, 0, 405,
     "non_field_errors", "Allow", "POST"},
    {"OPTIONS on the command path", "OPTIONS", COMMAND_PATH, AUTH_JSON, NULL, 0, 405,
     "non_field_errors", "Allow", "POST"},
    /* SPEC E-2: tokens. */
    {"no token", "POST", COMMAND_PATH, NO_AUTH, VALID, 0, 401, "non_field_errors",
     "WWW-Authenticate", "Token"},
    {"wrong token", "POST", COMMAND_PATH, WRONG_TOKEN, VALID, 0, 401, "non_field_errors",
     "WWW-Authenticate", "Token"},
    {"empty token", "POST", COMMAND_PATH, EMPTY_TOKEN, VALID, 0, 401, "non_field_errors",
     "WWW-Authenticate", "Token"},
    {"Bearer scheme", "POST", COMMAND_PATH, BEARER, VALID, 0, 401, "non_field_errors",
     "WWW-Authenticate", "Token"},
    {"Basic scheme", "POST", COMMAND_PATH, BASIC, VALID, 0, 401, "non_field_errors",
     "WWW-Authenticate", "Token"},
    {"no token and wrong method: 401 first", "GET", COMMAND_PATH, NO_AUTH, NULL, 0, 401,
     "non_field_errors", NULL, NULL},
    /* SPEC E-2: content types. */
    {"text/plain", "POST", COMMAND_PATH, TEXT_PLAIN, VALID, 0, 415, "non_field_errors", NULL, NULL},
    {"form encoded", "POST", COMMAND_PATH, FORM, "package=501&transition=17", 0, 415,
     "non_field_errors", NULL, NULL},
    {"multipart", "POST", COMMAND_PATH, MULTIPART, VALID, 0, 415, "non_field_errors", NULL, NULL},
    {"text/json", "POST", COMMAND_PATH, TEXT_JSON, VALID, 0, 415, "non_field_errors", NULL, NULL},
    {"application/jsonp", "POST", COMMAND_PATH, JSONP, VALID, 0, 415, "non_field_errors", NULL,
     NULL},
    {"application/ld+json", "POST", COMMAND_PATH, JSON_LD, VALID, 0, 415, "non_field_errors", NULL,
     NULL},
    {"missing content type", "POST", COMMAND_PATH, AUTH_ONLY, VALID, 0, 415, "non_field_errors",
     NULL, NULL},
    /* SPEC E-2: bodies that are not JSON, or not an object. */
    {"invalid JSON", "POST", COMMAND_PATH, AUTH_JSON, "{\"package\": 501,", 0, 400,
     "non_field_errors", NULL, NULL},
    {"empty body", "POST", COMMAND_PATH, AUTH_JSON, "", 0, 400, "non_field_errors", NULL, NULL},
    {"JSON array", "POST", COMMAND_PATH, AUTH_JSON, "[501, 17]", 0, 400, "non_field_errors", NULL,
     NULL},
    {"JSON string", "POST", COMMAND_PATH, AUTH_JSON, "\"501\"", 0, 400, "non_field_errors", NULL,
     NULL},
    {"JSON number", "POST", COMMAND_PATH, AUTH_JSON, "501", 0, 400, "non_field_errors", NULL, NULL},
    {"JSON null", "POST", COMMAND_PATH, AUTH_JSON, "null", 0, 400, "non_field_errors", NULL, NULL},
    {"JSON true", "POST", COMMAND_PATH, AUTH_JSON, "true", 0, 400, "non_field_errors", NULL, NULL},
    {"two JSON objects", "POST", COMMAND_PATH, AUTH_JSON, VALID VALID, 0, 400, "non_field_errors",
     NULL, NULL},
    {"invalid UTF-8 in a string", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"slug\": \"packed\xc3\x28-for-refund\"}", 0, 400, NULL, NULL, NULL},
    {"invalid UTF-8 byte 0xff", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"slug\": \"\xff\xfe\"}", 0, 400, NULL, NULL, NULL},
    {"overlong UTF-8 encoding", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"slug\": \"\xc0\xaf\"}", 0, 400, NULL, NULL, NULL},
    {"NUL byte between fields", "POST", COMMAND_PATH, AUTH_JSON,
     RAW("{\"package\": 501,\0 \"transition\": 17}"), 400, "non_field_errors", NULL, NULL},
    {"NUL byte after the object", "POST", COMMAND_PATH, AUTH_JSON,
     RAW("{\"package\": 501, \"transition\": 17}\0"), 400, "non_field_errors", NULL, NULL},
    {"NUL byte inside a string", "POST", COMMAND_PATH, AUTH_JSON,
     RAW("{\"package\": 501, \"slug\": \"packed-for\0-refund\"}"), 400, NULL, NULL, NULL},
    {"escaped NUL inside a string", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"slug\": \"packed-for-refund\\u0000\"}", 0, 400, NULL, NULL, NULL},
    {"lone surrogate escape", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"slug\": \"\\ud800\"}", 0, 400, NULL, NULL, NULL},
    /* Numbers. */
    {"huge integer package", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 99999999999999999999999999, \"transition\": 17}", 0, 400, NULL, NULL, NULL},
    {"huge integer transition", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"transition\": 99999999999999999999}", 0, 400, NULL, NULL, NULL},
    {"real overflow", "POST", COMMAND_PATH, AUTH_JSON, "{\"package\": 501, \"transition\": 1e999}",
     0, 400, NULL, NULL, NULL},
    {"INT64_MIN package", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": -9223372036854775808, \"transition\": 17}", 0, 400, "package", NULL, NULL},
    {"INT64_MAX package", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 9223372036854775807, \"transition\": 17}", 0, 400, "package", NULL, NULL},
    {"INT64_MAX transition", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"transition\": 9223372036854775807}", 0, 400, "transition", NULL, NULL},
    {"real package", "POST", COMMAND_PATH, AUTH_JSON, "{\"package\": 501.0, \"transition\": 17}", 0,
     400, "package", NULL, NULL},
    {"string package", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": \"501\", \"transition\": 17}", 0, 400, "package", NULL, NULL},
    /* SPEC E-1 field errors: nothing changes either. */
    {"package differs from the path (A-2)", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 502, \"transition\": 17}", 0, 400, "package", NULL, NULL},
    {"neither transition nor slug", "POST", COMMAND_PATH, AUTH_JSON, "{\"package\": 501}", 0, 400,
     "non_field_errors", NULL, NULL},
    {"unknown transition", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"transition\": 999}", 0, 400, "transition", NULL, NULL},
    {"unknown slug", "POST", COMMAND_PATH, AUTH_JSON, "{\"package\": 501, \"slug\": \"no-such\"}",
     0, 400, "slug", NULL, NULL},
    {"transition and slug disagree", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"transition\": 17, \"slug\": \"out-of-stock\"}", 0, 400,
     "non_field_errors", NULL, NULL},
    {"sync flag not a boolean", "POST", COMMAND_PATH, AUTH_JSON,
     "{\"package\": 501, \"transition\": 17, \"sync_remote_order_status\": \"no\"}", 0, 400,
     "sync_remote_order_status", NULL, NULL},
    {"package in a status that is not a source (C-5)", "POST", "/api/v1/oms/packages/502/command/",
     AUTH_JSON, "{\"package\": 502, \"transition\": 17}", 0, 400, "non_field_errors", NULL, NULL},
    {"unknown package", "POST", "/api/v1/oms/packages/777/command/", AUTH_JSON,
     "{\"package\": 777, \"transition\": 17}", 0, 404, "non_field_errors", NULL, NULL},
    /* SPEC E-2: path ids that are not positive integers, and unknown paths. */
    {"path id 0", "POST", "/api/v1/oms/packages/0/command/", AUTH_JSON,
     "{\"package\": 0, \"transition\": 17}", 0, 404, "non_field_errors", NULL, NULL},
    {"path id -1", "POST", "/api/v1/oms/packages/-1/command/", AUTH_JSON,
     "{\"package\": -1, \"transition\": 17}", 0, 404, "non_field_errors", NULL, NULL},
    {"path id abc", "POST", "/api/v1/oms/packages/abc/command/", AUTH_JSON, VALID, 0, 404,
     "non_field_errors", NULL, NULL},
    {"path id 99999999999999999999", "POST", "/api/v1/oms/packages/99999999999999999999/command/",
     AUTH_JSON, VALID, 0, 404, "non_field_errors", NULL, NULL},
    {"path id 501abc", "POST", "/api/v1/oms/packages/501abc/command/", AUTH_JSON, VALID, 0, 404,
     "non_field_errors", NULL, NULL},
    {"path id 1.5", "POST", "/api/v1/oms/packages/1.5/command/", AUTH_JSON, VALID, 0, 404,
     "non_field_errors", NULL, NULL},
    {"empty path id", "POST", "/api/v1/oms/packages//command/", AUTH_JSON, VALID, 0, 404,
     "non_field_errors", NULL, NULL},
    {"path id 0 without a token: 404 first", "POST", "/api/v1/oms/packages/0/command/", NO_AUTH,
     VALID, 0, 404, "non_field_errors", NULL, NULL},
    {"no trailing slash", "POST", "/api/v1/oms/packages/501/command", AUTH_JSON, VALID, 0, 404,
     "non_field_errors", NULL, NULL},
    {"package path without command", "POST", "/api/v1/oms/packages/501/", AUTH_JSON, VALID, 0, 404,
     "non_field_errors", NULL, NULL},
    {"extra segment", "POST", "/api/v1/oms/packages/501/command/again/", AUTH_JSON, VALID, 0, 404,
     "non_field_errors", NULL, NULL},
    {"extra segment before command", "POST", "/api/v1/oms/packages/501/x/command/", AUTH_JSON,
     VALID, 0, 404, "non_field_errors", NULL, NULL},
    {"root", "GET", "/", AUTH_JSON, NULL, 0, 404, "non_field_errors", NULL, NULL},
    {"unknown path", "POST", "/api/v2/oms/packages/501/command/", AUTH_JSON, VALID, 0, 404,
     "non_field_errors", NULL, NULL},
    {"unknown fixture endpoint", "GET", "/_fixture/nope", NULL, NULL, 0, 404, "non_field_errors",
     NULL, NULL},
    {"DELETE on the fixture state", "DELETE", "/_fixture/state", NULL, NULL, 0, 405,
     "non_field_errors", "Allow", "GET, PUT"},
    {"POST on the fixture profile", "POST", "/_fixture/profile", NULL, NULL, 0, 405,
     "non_field_errors", "Allow", "GET"},
    {"drain with a bad timeout", "POST", "/_fixture/drain?timeout_ms=abc", NULL, NULL, 0, 400,
     "timeout_ms", NULL, NULL},
    {"drain with a negative timeout", "POST", "/_fixture/drain?timeout_ms=-1", NULL, NULL, 0, 400,
     "timeout_ms", NULL, NULL},
    {"drain with a timeout over the limit", "POST", "/_fixture/drain?timeout_ms=600001", NULL, NULL,
     0, 400, "timeout_ms", NULL, NULL},
    /* The subscription API shares the checks. */
    {"hooks without a token", "GET", "/whisperer/hooks/", NO_AUTH, NULL, 0, 401, "non_field_errors",
     "WWW-Authenticate", "Token"},
    {"hooks with invalid JSON", "POST", "/whisperer/hooks/", AUTH_JSON, "{", 0, 400,
     "non_field_errors", NULL, NULL},
    {"hooks with a bad target_url", "POST", "/whisperer/hooks/", AUTH_JSON,
     "{\"event_type\": \"package.status.packed_for_refund\", \"target_url\": \"ftp://x\"}", 0, 400,
     "target_url", NULL, NULL},
    {"hook id abc", "GET", "/whisperer/hooks/abc/", AUTH_JSON, NULL, 0, 404, "non_field_errors",
     NULL, NULL},
    {"hook id 99999999999999999999", "DELETE", "/whisperer/hooks/99999999999999999999/", AUTH_JSON,
     NULL, 0, 404, "non_field_errors", NULL, NULL},
    {"unknown hook", "DELETE", "/whisperer/hooks/12345/", AUTH_JSON, NULL, 0, 404,
     "non_field_errors", NULL, NULL},
};

/* SPEC E-2, E-3: each malformed request gets its documented status (never a 5xx), the E-1
 * envelope, the documented header, and changes nothing. */
static void test_command_malformed_requests_answer_documented_status(void **state)
{
    struct env *e = *state;
    char why[3300];
    for (size_t i = 0; i < sizeof(TABLE) / sizeof(TABLE[0]); i++) {
        const struct bad_request *t = &TABLE[i];
        struct oms_http_exchange x = {0};
        size_t len = t->body ? (t->body_len ? t->body_len : strlen(t->body)) : 0;
        support_http(e->r.client, &x, t->method, e->r.base, t->path, t->headers, t->body, len);
        int rc = support_check_envelope(&x, t->status, t->field, why, sizeof(why));
        if (rc == 0 && t->resp_header) {
            const char *v = oms_http_exchange_header(&x, t->resp_header);
            if (!v || strncmp(v, t->resp_value, strlen(t->resp_value)) != 0) {
                snprintf(why, sizeof(why), "expected header %s: %s, got %s", t->resp_header,
                         t->resp_value, v ? v : "(none)");
                rc = -1;
            }
        }
        long status = x.status;
        oms_http_exchange_cleanup(&x);
        if (rc != 0)
            fail_msg("case \"%s\" (%s %s): %s", t->name, t->method, t->path, why);
        if (status >= 500)
            fail_msg("case \"%s\": 5xx", t->name);
        if (state_unchanged(e, why, sizeof(why)) != 0)
            fail_msg("case \"%s\": %s", t->name, why);
    }
}

/* SPEC E-2: a body over limits.max_body_bytes is 413 (before the content type is looked at), the
 * server survives it, and a body of exactly the limit passes the size check. */
static void test_command_body_of_10_mb_is_413_and_server_survives(void **state)
{
    struct env *e = *state;
    size_t big = 10u * 1024u * 1024u;
    char *body = malloc(big);
    memset(body, ' ', big);
    memcpy(body, VALID, strlen(VALID));
    for (int round = 0; round < 2; round++) {
        struct oms_http_exchange x = {0};
        support_http(e->r.client, &x, "POST", e->r.base, COMMAND_PATH,
                     round == 0 ? AUTH_JSON : TEXT_PLAIN, body, big);
        support_assert_envelope(&x, 413, "non_field_errors");
        oms_http_exchange_cleanup(&x);
        assert_state_unchanged(e, "10 MB body");
    }
    /* The documented order: the token (check 2) and the method (check 3) come before the size. */
    struct oms_http_exchange y = {0};
    support_http(e->r.client, &y, "POST", e->r.base, COMMAND_PATH, NO_AUTH, body, big);
    support_assert_envelope(&y, 401, "non_field_errors");
    oms_http_exchange_cleanup(&y);
    support_http(e->r.client, &y, "PUT", e->r.base, COMMAND_PATH, AUTH_JSON, body, big);
    support_assert_envelope(&y, 405, "non_field_errors");
    oms_http_exchange_cleanup(&y);
    free(body);
    assert_state_unchanged(e, "10 MB body");

    /* Still alive, on a new connection too. */
    struct oms_http_exchange x = {0};
    assert_int_equal(support_http(e->r.client, &x, "GET", e->r.base, "/_fixture/", NULL, NULL, 0),
                     200);
    oms_http_exchange_cleanup(&x);
    struct oms_http_client *fresh = oms_http_client_create();
    assert_int_equal(support_http(fresh, &x, "GET", e->r.base, "/_fixture/", NULL, NULL, 0), 200);
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(fresh);

    /* 65536 bytes (the default limit) is not too large: an unknown package then answers 404. */
    const char *cmd = "{\"package\": 777, \"transition\": 17}";
    size_t limit = 65536;
    body = malloc(limit);
    memset(body, ' ', limit);
    memcpy(body, cmd, strlen(cmd));
    assert_int_equal(support_http(e->r.client, &x, "POST", e->r.base,
                                  "/api/v1/oms/packages/777/command/", AUTH_JSON, body, limit),
                     404);

    oms_http_exchange_cleanup(&x);
    free(body);
    body = malloc(limit + 1);
    memset(body, ' ', limit + 1);
    memcpy(body, cmd, strlen(cmd));
    support_http(e->r.client, &x, "POST", e->r.base, "/api/v1/oms/packages/777/command/", AUTH_JSON,
                 body, limit + 1);
    support_assert_envelope(&x, 413, "non_field_errors");
    oms_http_exchange_cleanup(&x);
    free(body);
    assert_state_unchanged(e, "bodies at the limit");
}

/* Builds n copies of open followed by n copies of close (close may be ""). */
static char *nested(const char *open, const char *close, size_t n, size_t *len)
{
    size_t lo = strlen(open), lc = strlen(close);
    *len = n * (lo + lc);
    char *s = malloc(*len + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * lo, open, lo);
    for (size_t i = 0; i < n; i++)
        memcpy(s + n * lo + i * lc, close, lc);
    s[*len] = '\0';
    return s;
}

/* SPEC E-3: nesting deep enough to exhaust a recursive parser's stack is a 400, not a crash. The
 * bodies stay under the 64 KiB limit so that the parser, not the size check, meets them. */
static void test_command_deeply_nested_json_is_400(void **state)
{
    struct env *e = *state;
    static const struct {
        const char *open, *close;
        size_t n;
    } shapes[] = {
        {
            "[",
            "",
            60000,
        },
        {"[", "]", 30000},
        {"{\"a\":", "", 10000},
        {"{\"a\":", "}", 9000},
        {"[{\"a\":", "}]", 5000},
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        size_t len;
        char *body = nested(shapes[i].open, shapes[i].close, shapes[i].n, &len);
        struct oms_http_exchange x = {0};
        support_http(e->r.client, &x, "POST", e->r.base, COMMAND_PATH, AUTH_JSON, body, len);
        char why[600];
        int rc = support_check_envelope(&x, 400, "non_field_errors", why, sizeof(why));
        oms_http_exchange_cleanup(&x);
        free(body);
        if (rc != 0)
            fail_msg("%zu x \"%s\": %s", shapes[i].n, shapes[i].open, why);
        assert_state_unchanged(e, "nested body");
    }
}

/* The same, 100000 '[' - over the size limit, so 413 - and as a fixture, which has a far larger
 * limit and must answer 400 at "$". */
static void test_deeply_nested_100000_brackets(void **state)
{
    struct env *e = *state;
    size_t len;
    char *body = nested("[", "", 100000, &len);
    struct oms_http_exchange x = {0};
    support_http(e->r.client, &x, "POST", e->r.base, COMMAND_PATH, AUTH_JSON, body, len);
    support_assert_envelope(&x, 413, "non_field_errors");
    oms_http_exchange_cleanup(&x);
    static const char *const json[] = {SUPPORT_JSON_CTYPE, NULL};
    support_http(e->r.client, &x, "PUT", e->r.base, "/_fixture/state", json, body, len);
    support_assert_envelope(&x, 400, "$");
    oms_http_exchange_cleanup(&x);
    free(body);
    assert_state_unchanged(e, "100000 brackets");
}

/* ---- deterministic fuzz ---- */

static uint32_t rng_state;

static uint32_t rng(void)
{
    /* xorshift32: the same sequence on every platform for one seed. */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

static size_t rng_below(size_t n)
{
    return n ? rng() % n : 0;
}

/* Sends one fuzz body. A rejection (4xx) must carry the envelope and leave the state unchanged; an
 * acceptance (204) must have moved package 501 to 1100, after which the fixture is reloaded.
 * Returns the status. */
static long fuzz_one(struct env *e, const char *kind, int round, const char *body, size_t len)
{
    struct oms_http_exchange x = {0};
    long status =
        support_http(e->r.client, &x, "POST", e->r.base, COMMAND_PATH, AUTH_JSON, body, len);
    char why[3300];
    int rc = 0;
    if (status == 204) {
        json_t *now = support_get_state(e->r.client, e->r.base);
        json_t *pkg = support_find_id(json_object_get(now, "packages"), 501);
        long long st = json_integer_value(json_object_get(pkg, "status"));
        json_decref(now);
        if (st != 1100) {
            snprintf(why, sizeof(why), "accepted (204) but package 501 is in %lld", st);
            rc = -1;
        }
        reload((void **)&e);
    } else if (status < 400 || status >= 500) {
        snprintf(why, sizeof(why), "status %ld (%s) %.200s", status, x.error,
                 oms_buf_str(&x.resp_body));
        rc = -1;
    } else if (support_check_envelope(&x, status, NULL, why, sizeof(why)) == 0) {
        rc = state_unchanged(e, why, sizeof(why));
    } else {
        rc = -1;
    }
    oms_http_exchange_cleanup(&x);
    if (rc != 0) {
        char hex[2 * 96 + 1] = "";
        for (size_t i = 0; i < len && i < 96; i++)
            snprintf(hex + 2 * i, 3, "%02x", (unsigned char)body[i]);
        fail_msg("%s round %d (seed %u), body %s%s: %s", kind, round, FUZZ_SEED, hex,
                 len > 96 ? "..." : "", why);
    }
    return status;
}

/* SPEC E-3: random bytes as a JSON command body. */
static void test_fuzz_random_bytes_never_5xx_nor_change(void **state)
{
    struct env *e = *state;
    rng_state = FUZZ_SEED;
    char body[512];
    int rejected = 0;
    for (int round = 0; round < FUZZ_ROUNDS; round++) {
        size_t len = rng_below(sizeof(body));
        for (size_t i = 0; i < len; i++)
            body[i] = (char)(rng() & 0xff);
        /* Every few rounds, start like a JSON object so the parser goes deeper. */
        if (len > 2 && round % 3 == 0) {
            body[0] = '{';
            body[1] = '"';
        }
        if (fuzz_one(e, "bytes", round, body, len) != 204)
            rejected++;
    }
    assert_int_equal(rejected, FUZZ_ROUNDS);
}

static const char *const TOKENS[] = {
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "false",
    "-1",
    "0",
    "1e999",
    "0.5",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\"",
    "{}",
    "[]",
    "\\",
    "501",
    "17",
    "\"package\"",
    "\"slug\"",
    "\xff",
    "\xc3\x28",
    " ",
    "\n",
    "-0",
    "1e-999",
    "99999999999999999999",
    "\"transition\"",
    "\"sync_remote_order_status\"",
};

static const char ALPHABET[] = "{}[]\":,0123456789-+.eEtrufalsn \\\t\n\x01\x7f\x80\xff";

/* Applies one random edit to buf (capacity cap), in place; returns the new length. */
static size_t mutate(char *buf, size_t len, size_t cap)
{
    size_t at = rng_below(len + 1);
    switch (rng_below(6)) {
    case 0: /* replace a byte */
        if (len)
            buf[rng_below(len)] = ALPHABET[rng_below(sizeof(ALPHABET) - 1)];
        return len;
    case 1: /* delete a span */
        if (len) {
            size_t n = 1 + rng_below(len - at < 8 ? len - at + 1 : 8);
            if (at + n > len)
                n = len - at;
            memmove(buf + at, buf + at + n, len - at - n);
            return len - n;
        }
        return len;
    case 2: { /* insert a token */
        const char *t = TOKENS[rng_below(sizeof(TOKENS) / sizeof(TOKENS[0]))];
        size_t n = strlen(t);
        if (len + n > cap)
            return len;
        memmove(buf + at + n, buf + at, len - at);
        memcpy(buf + at, t, n);
        return len + n;
    }
    case 3: { /* duplicate a span */
        size_t from = rng_below(len + 1), n = rng_below(16);
        if (from + n > len)
            n = len - from;
        if (len + n > cap)
            return len;
        char tmp[16];
        memcpy(tmp, buf + from, n);
        memmove(buf + at + n, buf + at, len - at);
        memcpy(buf + at, tmp, n);
        return len + n;
    }
    case 4: /* swap two bytes */
        if (len > 1) {
            size_t a = rng_below(len), b = rng_below(len);
            char c = buf[a];
            buf[a] = buf[b];
            buf[b] = c;
        }
        return len;
    default: /* truncate */
        return at;
    }
}

/* SPEC E-3: JSON-ish mutations of a valid command. Some survive as valid commands; those must
 * have worked as commands, everything else must be a clean rejection. */
static void test_fuzz_mutated_commands_never_5xx_nor_partial_change(void **state)
{
    struct env *e = *state;
    static const char seed[] =
        "{\"package\": 501, \"transition\": 17, \"slug\": \"packed-for-refund\", "
        "\"sync_remote_order_status\": false}";
    rng_state = FUZZ_SEED ^ 0x9e3779b9u;
    char body[1024];
    int rejected = 0;
    for (int round = 0; round < FUZZ_ROUNDS; round++) {
        size_t len = sizeof(seed) - 1;
        memcpy(body, seed, len);
        size_t edits = 1 + rng_below(4);
        for (size_t k = 0; k < edits; k++)
            len = mutate(body, len, sizeof(body));
        if (fuzz_one(e, "mutation", round, body, len) != 204)
            rejected++;
    }
    /* The loop must have exercised the rejection paths, not only re-sent valid commands. */
    assert_true(rejected > FUZZ_ROUNDS / 2);
    print_message("mutations: %d of %d rejected\n", rejected, FUZZ_ROUNDS);
}

/* Positive control: the unchanged-state checks above can see a change. */
static void test_valid_command_still_changes_the_state(void **state)
{
    struct env *e = *state;
    struct oms_http_exchange x = {0};
    assert_int_equal(support_command(e->r.client, &x, e->r.base, 501, VALID), 204);
    assert_int_equal(x.resp_body.len, 0); /* SPEC C-2 */
    oms_http_exchange_cleanup(&x);
    char why[3200];
    assert_int_not_equal(state_unchanged(e, why, sizeof(why)), 0);
    json_t *now = support_get_state(e->r.client, e->r.base);
    json_t *pkg = support_find_id(json_object_get(now, "packages"), 501);
    assert_int_equal(json_integer_value(json_object_get(pkg, "status")), 1100);
    assert_int_equal(json_array_size(json_object_get(pkg, "reservations")), 0);
    json_t *loc = support_find_id(json_object_get(now, "locations"), 1);
    assert_int_equal(json_integer_value(json_object_get(loc, "quota")), 0);
    json_decref(now);
    /* SPEC C-5: the second time it is a validation error. */
    assert_int_equal(support_command(e->r.client, &x, e->r.base, 501, VALID), 400);
    support_assert_envelope(&x, 400, "non_field_errors");
    oms_http_exchange_cleanup(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_command_malformed_requests_answer_documented_status, reload),
        cmocka_unit_test_setup(test_command_body_of_10_mb_is_413_and_server_survives, reload),
        cmocka_unit_test_setup(test_command_deeply_nested_json_is_400, reload),
        cmocka_unit_test_setup(test_deeply_nested_100000_brackets, reload),
        cmocka_unit_test_setup(test_fuzz_random_bytes_never_5xx_nor_change, reload),
        cmocka_unit_test_setup(test_fuzz_mutated_commands_never_5xx_nor_partial_change, reload),
        cmocka_unit_test_setup(test_valid_command_still_changes_the_state, reload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
