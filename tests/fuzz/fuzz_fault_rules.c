/* fuzz_fault_rules: the input is a receiver behaviour document (the body of PUT /__behaviour:
 * status, body, fault rules, down), sent to a recording receiver in-process. A refused document
 * gets a 4xx envelope and changes nothing. An accepted one then meets eight recorded requests,
 * whose answers must follow the documented rules (oms_recorder.h): fault rules are used in order,
 * each for `times` requests, a rule with a "path" only by requests to that path; a status rule
 * answers its status, a delay rule the default answer after its delay, a drop, reset or hang
 * rule nothing (with that transport fault), a truncate rule the default answer cut short;
 * requests without a fault get the document's status and body. Every request is journaled. */
#include "fuzz.h"

#include "oms_json.h"
#include "oms_log.h"
#include "oms_recorder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUESTS 8
#define TOKEN    "fuzz-fixture-token"

static struct oms_recorder *rec;

static void cleanup(void)
{
    oms_recorder_stop(rec);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    oms_log_set_level(OMS_LOG_ERROR);
    struct oms_recorder_config cfg = {.name = "fuzz", .status = 200, .fixture_token = TOKEN};
    struct oms_err err = {0};
    if (oms_recorder_start(&cfg, &rec, &err) != 0)
        fuzz_fail("cannot start a receiver: %s", err.message);
    atexit(cleanup);
    return 0;
}

/* One request through the receiver; the caller cleans resp up. */
static void deliver(const char *method, const char *path, const char *body,
                    struct oms_http_response *resp)
{
    /* The control endpoints need the fixture token; the receiver ignores it elsewhere. */
    struct oms_http_pair headers[] = {{"Content-Type", "application/json"},
                                      {"X-Fixture-Token", TOKEN}};
    struct oms_http_request req = {
        .method = method,
        .path = path,
        .version = "HTTP/1.1",
        .headers = headers,
        .header_count = 2,
        .body = body ? body : "",
        .body_len = body ? strlen(body) : 0,
        .client = "127.0.0.1:1",
    };
    fuzz_response_init(resp);
    oms_recorder_handle(rec, &req, resp);
}

/* GET path's answer as JSON (new reference); it must be a 200. */
static json_t *get_json(const char *path)
{
    struct oms_http_response resp;
    deliver("GET", path, NULL, &resp);
    fuzz_check_answer(path, &resp);
    if (resp.status != 200)
        fuzz_fail("GET %s answered %d", path, resp.status);
    json_t *doc = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    fuzz_response_cleanup(&resp);
    return doc;
}

/* The documented semantics, independently of the receiver's code. */
struct rule {
    const json_t *status, *delay, *drop, *reset, *truncate, *hang;
    json_int_t times_left;
    const char *path; /* NULL: every path */
};

static size_t model_rules(const json_t *doc, struct rule *rules, size_t max)
{
    size_t n = 0, i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "faults"), i, f)
    {
        if (n == max)
            break;
        json_t *times = json_object_get(f, "times");
        rules[n] = (struct rule){
            .status = json_object_get(f, "status"),
            .delay = json_object_get(f, "delay_ms"),
            .drop = json_object_get(f, "drop"),
            .reset = json_object_get(f, "reset"),
            .truncate = json_object_get(f, "truncate"),
            .hang = json_object_get(f, "hang"),
            .times_left = times ? json_integer_value(times) : 1,
            .path = json_string_value(json_object_get(f, "path")),
        };
        n++;
    }
    return n;
}

static struct rule *model_next(struct rule *rules, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++) {
        if (rules[i].times_left <= 0 || (rules[i].path && strcmp(rules[i].path, path) != 0))
            continue;
        rules[i].times_left--;
        return &rules[i];
    }
    return NULL;
}

static void check_default_answer(const char *what, const json_t *doc,
                                 const struct oms_http_response *resp)
{
    const json_t *status = json_object_get(doc, "status");
    const json_t *body = json_object_get(doc, "body");
    int want = status ? (int)json_integer_value(status) : 200;
    if (resp->status != want)
        fuzz_fail("%s: answered %d, the behaviour's status is %d", what, resp->status, want);
    if (body && !json_is_null(body)) {
        json_t *got = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len,
                                 JSON_DECODE_ANY, NULL);
        if (!got || !json_equal(got, (json_t *)body))
            fuzz_fail("%s: answered body %s, not the behaviour's", what, oms_buf_str(&resp->body));
        json_decref(got);
    } else if (resp->body.len) {
        fuzz_fail("%s: a body (%s) where the behaviour has none", what, oms_buf_str(&resp->body));
    }
}

static void exercise(const json_t *doc)
{
    static const char *const paths[] = {"/hooks/a", "/hooks/b", "/"};
    struct rule rules[64];
    size_t n = model_rules(doc, rules, 64);
    int modelled = json_array_size(json_object_get(doc, "faults")) <= 64;
    /* Requests alternate between the rules' own paths and some others. */
    const char *rule_paths[64];
    size_t rp = 0;
    for (size_t i = 0; i < n; i++)
        if (rules[i].path)
            rule_paths[rp++] = rules[i].path;
    for (int i = 0; i < REQUESTS; i++) {
        const char *path = rp && i % 2 == 0 ? rule_paths[(size_t)(i / 2) % rp] : paths[i % 3];
        char what[320];
        snprintf(what, sizeof(what), "request %d to %.256s", i + 1, path);
        struct rule *r = model_next(rules, n, path);
        struct oms_http_response resp;
        deliver("POST", path, "{\"event\": 1}", &resp);
        if (!modelled) {
            /* more rules than the model keeps: only the journal is checked */
        } else if (r && (r->drop || r->reset || r->hang)) {
            enum oms_http_fault want = r->reset  ? OMS_HTTP_FAULT_RESET
                                       : r->hang ? OMS_HTTP_FAULT_HANG
                                                 : OMS_HTTP_FAULT_NONE;
            if (resp.status != 0 || resp.fault != want)
                fuzz_fail("%s: a transport fault rule, answered %d (fault %d)", what, resp.status,
                          (int)resp.fault);
        } else if (r && r->truncate) {
            /* The default answer, cut short by the server: a body to cut is always there. */
            if (resp.fault != OMS_HTTP_FAULT_TRUNCATE || resp.body.len == 0)
                fuzz_fail("%s: a truncate rule, fault %d with %zu body bytes", what,
                          (int)resp.fault, resp.body.len);
        } else if (r && r->status) {
            if (resp.status != (int)json_integer_value(r->status))
                fuzz_fail("%s: a status rule of %lld, answered %d", what,
                          (long long)json_integer_value(r->status), resp.status);
        } else {
            json_int_t delay = r ? json_integer_value(r->delay) : 0;
            if (resp.delay_ms != delay)
                fuzz_fail("%s: delayed %lld ms, expected %lld", what, (long long)resp.delay_ms,
                          (long long)delay);
            check_default_answer(what, doc, &resp);
        }
        fuzz_response_cleanup(&resp);
    }
    json_t *journal = get_json("/__journal");
    if (json_integer_value(json_object_get(journal, "count")) != REQUESTS)
        fuzz_fail("the journal holds %lld requests, %d were sent",
                  (long long)json_integer_value(json_object_get(journal, "count")), REQUESTS);
    json_decref(journal);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oms_recorder_reset(rec);
    json_t *before = get_json("/__behaviour");
    char *body = malloc(size + 1);
    if (!body)
        abort();
    if (size)
        memcpy(body, data, size);
    body[size] = '\0';
    struct oms_http_pair headers[] = {{"Content-Type", "application/json"},
                                      {"X-Fixture-Token", TOKEN}};
    struct oms_http_request req = {
        .method = "PUT",
        .path = "/__behaviour",
        .version = "HTTP/1.1",
        .headers = headers,
        .header_count = 2,
        .body = body,
        .body_len = size,
        .client = "127.0.0.1:1",
    };
    struct oms_http_response resp;
    fuzz_response_init(&resp);
    oms_recorder_handle(rec, &req, &resp);
    fuzz_check_answer("PUT /__behaviour", &resp);
    if (resp.status == 204) {
        json_t *doc = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(doc))
            fuzz_fail("PUT /__behaviour accepted a document that is not a JSON object");
        exercise(doc);
        json_decref(doc);
    } else {
        json_t *after = get_json("/__behaviour");
        if (!json_equal(before, after))
            fuzz_fail("PUT /__behaviour answered %d but the behaviour changed", resp.status);
        json_decref(after);
    }
    json_decref(before);
    fuzz_response_cleanup(&resp);
    free(body);
    return 0;
}
