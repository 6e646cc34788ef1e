/* support: test helpers. */
#include "support.h"

#include "oms_alloc.h"

#include "oms_buf.h"
#include "mock_omnitron.h"
#include "mock_webhook.h"
#include "oms_recorder.h"
#include "reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *support_path(const char *relative)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", REFUND_SOURCE_DIR, relative);
    return path;
}

struct oms_profile *support_default_profile(void)
{
    struct oms_err err = {0};
    struct oms_profile *p = NULL;
    if (oms_profile_load_file(support_path("profiles/default.json"), &p, &err) != 0)
        fail_msg("cannot load the default profile: %s", err.message);
    return p;
}

char *support_printf(const char *fmt, ...)
{
    struct oms_buf b;
    va_list ap;
    oms_buf_init(&b, 0);
    va_start(ap, fmt);
    oms_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return oms_buf_take(&b, NULL);
}

/* Every server a test starts - in this process or as a child - takes its fixture token from the
 * environment, so the tests know it. Set before main() runs. */
__attribute__((constructor)) static void support_fixture_token_env(void)
{
    setenv("REFUND_FIXTURE_TOKEN", SUPPORT_FIXTURE_TOKEN, 0);
}

/* 1 when path is a test-control endpoint (fixture protocol, receiver control). */
static int is_control_path(const char *path)
{
    return strncmp(path, "/_fixture", 9) == 0 || strncmp(path, "/__", 3) == 0;
}

long support_http(struct oms_http_client *c, struct oms_http_exchange *x, const char *method,
                  const char *base, const char *path, const char *const *headers, const char *body,
                  size_t body_len)
{
    char *url = support_printf("%s%s", base, path);
    size_t n = 0;
    int has_token = 0;
    while (headers && headers[n]) {
        has_token |= strncasecmp(headers[n], "X-Fixture-Token:", 16) == 0;
        n++;
    }
    /* Control calls carry the fixture token unless the test chose the header itself. */
    const char **all = oms_xcalloc(n + 2, sizeof(*all));
    for (size_t i = 0; i < n; i++)
        all[i] = headers[i];
    if (is_control_path(path) && !has_token)
        all[n++] = SUPPORT_FIXTURE_HEADER;
    x->method = method;
    x->url = url;
    x->headers = all;
    x->header_count = n;
    x->body = body;
    x->body_len = body_len;
    if (x->timeout_ms == 0)
        x->timeout_ms = 30000;
    oms_http_client_perform(c, x);
    x->url = NULL;
    x->headers = NULL;
    free(all);
    free(url);
    return x->result == 0 ? x->status : 0;
}

json_t *support_json(const struct oms_http_exchange *x)
{
    return json_loadb(oms_buf_str(&x->resp_body), x->resp_body.len, JSON_DECODE_ANY, NULL);
}

const char *support_error_message(const json_t *envelope, const char *field)
{
    return json_string_value(
        json_array_get(json_object_get(json_object_get(envelope, "error"), field), 0));
}

int support_check_envelope(const struct oms_http_exchange *x, long status, const char *field,
                           char *why, size_t size)
{
    if (x->result != 0) {
        snprintf(why, size, "expected an answer %ld, got a transport failure: %s", status,
                 x->error);
        return -1;
    }
    if (x->status != status) {
        snprintf(why, size, "expected status %ld, got %ld: %.300s", status, x->status,
                 oms_buf_str(&x->resp_body));
        return -1;
    }
    const char *type = oms_http_exchange_header(x, "Content-Type");
    if (!type || strncmp(type, "application/json", 16) != 0) {
        snprintf(why, size, "status %ld: expected Content-Type application/json, got \"%s\"",
                 status, type ? type : "(none)");
        return -1;
    }
    json_t *doc = support_json(x);
    json_t *error = json_object_get(doc, "error");
    json_t *code = json_object_get(doc, "status_code");
    int ok = json_is_object(doc) && json_object_size(doc) == 2 && json_is_object(error) &&
             json_object_size(error) > 0 && json_is_integer(code) &&
             json_integer_value(code) == status;
    const char *key;
    json_t *msgs;
    json_object_foreach(error, key, msgs)
    {
        size_t i;
        json_t *m;
        ok = ok && json_is_array(msgs) && json_array_size(msgs) > 0;
        json_array_foreach(msgs, i, m)
        {
            ok = ok && json_is_string(m) && json_string_length(m) > 0;
        }
    }
    if (ok && field && !json_object_get(error, field))
        ok = 0;
    json_decref(doc);
    if (!ok) {
        snprintf(why, size, "status %ld: not the E-1 envelope%s%s: %.300s", status,
                 field ? " with field " : "", field ? field : "", oms_buf_str(&x->resp_body));
        return -1;
    }
    return 0;
}

void support_assert_envelope(const struct oms_http_exchange *x, long status, const char *field)
{
    char why[512];
    if (support_check_envelope(x, status, field, why, sizeof(why)) != 0)
        fail_msg("%s", why);
}

struct reference *support_reference_start(void)
{
    struct reference_config cfg = {.port = 0,
                                   .profile_path = support_path("profiles/default.json")};
    struct reference *r = NULL;
    struct oms_err err = {0};
    if (reference_start(&cfg, &r, &err) != 0)
        fail_msg("cannot start the reference: %s", err.message);
    return r;
}

long support_put_state(struct oms_http_client *c, const char *base, const char *fixture,
                       json_t **answer)
{
    static const char *const headers[] = {SUPPORT_JSON_CTYPE, NULL};
    struct oms_http_exchange x = {0};
    long status =
        support_http(c, &x, "PUT", base, "/_fixture/state", headers, fixture, strlen(fixture));
    if (answer)
        *answer = support_json(&x);
    oms_http_exchange_cleanup(&x);
    return status;
}

void support_load(struct oms_http_client *c, const char *base, const char *fixture)
{
    json_t *answer = NULL;
    long status = support_put_state(c, base, fixture, &answer);
    char text[1024] = "(no JSON body)";
    if (answer) {
        size_t n = json_dumpb(answer, text, sizeof(text) - 1, JSON_COMPACT);
        text[n < sizeof(text) ? n : sizeof(text) - 1] = '\0';
    }
    json_decref(answer);
    if (status != 204)
        fail_msg("fixture refused with %ld: %s", status, text);
}

static json_t *json_call(struct oms_http_client *c, const char *method, const char *base,
                         const char *path)
{
    struct oms_http_exchange x = {0};
    long status = support_http(c, &x, method, base, path, NULL, NULL, 0);
    json_t *doc = support_json(&x);
    char why[512];
    snprintf(why, sizeof(why), "%s %s: expected 200 with JSON, got %ld: %.200s %s", method, path,
             status, oms_buf_str(&x.resp_body), x.error);
    oms_http_exchange_cleanup(&x);
    if (status != 200 || !doc) {
        json_decref(doc);
        fail_msg("%s", why);
    }
    return doc;
}

json_t *support_get_state(struct oms_http_client *c, const char *base)
{
    return json_call(c, "GET", base, "/_fixture/state");
}

json_t *support_drain(struct oms_http_client *c, const char *base, long timeout_ms)
{
    char path[64];
    snprintf(path, sizeof(path), "/_fixture/drain?timeout_ms=%ld", timeout_ms);
    return json_call(c, "POST", base, path);
}

long support_command(struct oms_http_client *c, struct oms_http_exchange *x, const char *base,
                     long long package_id, const char *body)
{
    static const char *const headers[] = {SUPPORT_AUTH, SUPPORT_JSON_CTYPE, NULL};
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/oms/packages/%lld/command/", package_id);
    return support_http(c, x, "POST", base, path, headers, body, strlen(body));
}

json_t *support_find_id(const json_t *array, long long id)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        if (json_integer_value(json_object_get(v, "id")) == id)
            return v;
    }
    return NULL;
}

json_t *support_find_string(const json_t *array, const char *key, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        const char *s = json_string_value(json_object_get(v, key));
        if (s && strcmp(s, value) == 0)
            return v;
    }
    return NULL;
}

void support_assert_json_equal(const json_t *actual, const json_t *expected)
{
    if (json_equal(actual, expected))
        return;
    char a[2048] = "", b[2048] = "";
    size_t n = actual ? json_dumpb(actual, a, sizeof(a) - 1, JSON_COMPACT) : 0;
    a[n < sizeof(a) ? n : sizeof(a) - 1] = '\0';
    n = expected ? json_dumpb(expected, b, sizeof(b) - 1, JSON_COMPACT) : 0;
    b[n < sizeof(b) ? n : sizeof(b) - 1] = '\0';
    fail_msg("JSON differs:\n actual   %s\n expected %s", actual ? a : "(null)", b);
}

struct oms_profile *support_profile;

int support_profile_setup(void **state)
{
    (void)state;
    support_profile = support_default_profile();
    return 0;
}

int support_profile_teardown(void **state)
{
    (void)state;
    oms_profile_unref(support_profile);
    support_profile = NULL;
    return 0;
}

json_t *support_parse(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (!v)
        fail_msg("test JSON does not parse: %s: %s", text, je.text);
    return v;
}

void support_ref_start(struct support_ref *r)
{
    r->ref = support_reference_start();
    r->client = oms_http_client_create();
    r->base = reference_url(r->ref);
}

void support_receivers_start(struct support_receivers *rv, const char *omnitron_token)
{
    struct oms_err err = {0};
    struct mock_omnitron_config oc = {.token = omnitron_token};
    struct mock_webhook_config wc = {0};
    if (mock_omnitron_start(&oc, &rv->omnitron, &err) != 0 ||
        mock_webhook_start(&wc, &rv->webhook, &err) != 0)
        fail_msg("cannot start the mocks: %s", err.message);
}

void support_receivers_stop(struct support_receivers *rv)
{
    oms_recorder_stop(rv->omnitron);
    oms_recorder_stop(rv->webhook);
    memset(rv, 0, sizeof(*rv));
}

void support_behave(struct oms_recorder *r, const char *behaviour)
{
    json_t *doc = json_loads(behaviour, 0, NULL);
    assert_non_null(doc);
    struct oms_err err = {0};
    int rc = oms_recorder_configure(r, doc, &err);
    json_decref(doc);
    if (rc != 0)
        fail_msg("behaviour refused: %s", err.message);
}

void support_ref_stop(struct support_ref *r)
{
    oms_http_client_destroy(r->client);
    reference_stop(r->ref);
    memset(r, 0, sizeof(*r));
}
