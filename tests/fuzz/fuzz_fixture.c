/* fuzz_fixture: the input is the body of PUT /_fixture/state, sent through the reference's real
 * handler (so the fixture loader, the profile overrides and the subscription checks all run) on
 * top of a known state. The answer must be 204 or a 4xx envelope; a refused fixture leaves the
 * state, the profile in force and the Omnitron settings exactly as they were (SPEC E-3: nothing
 * half-applied); an accepted one satisfies SPEC Q-4
 * and reads back through GET /_fixture/state. Inputs whose "generate" blocks ask for more than
 * FUZZ_GENERATED rows are not sent: their size, not their parsing, would make them slow. */
#include "fuzz.h"

#include "api.h"
#include "reference_internal.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_GENERATED 2000

static struct reference *ref;
static json_t *seed;

static void cleanup(void)
{
    fuzz_reference_destroy(ref);
    json_decref(seed);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ref = fuzz_reference_create();
    seed = fuzz_load_json("tests/fuzz/command-state.json");
    atexit(cleanup);
    return 0;
}

/* Rows the "generate" blocks of the document would make (an over-estimate for invalid ones). */
static double generated_rows(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    double rows = 0;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(doc, "generate"), i, g)
    {
        json_t *per = json_object_get(g, "items_per_package");
        json_t *res = json_object_get(g, "reservations_per_package");
        double packages = (double)json_integer_value(json_object_get(g, "packages"));
        double items = per ? (double)json_integer_value(per) : 1;
        double reservations = (double)json_integer_value(res);
        if (packages > 0)
            rows +=
                packages * (1 + (items > 0 ? items : 0) + (reservations > 0 ? reservations : 0));
    }
    json_decref(doc);
    return rows;
}

static void put_state(const uint8_t *data, size_t size, struct oms_http_response *resp)
{
    struct oms_http_pair headers[] = {{"Content-Type", "application/json"}};
    char *body = malloc(size + 1);
    if (!body)
        abort();
    if (size)
        memcpy(body, data, size);
    body[size] = '\0';
    struct oms_http_request req = {
        .method = "PUT",
        .path = "/_fixture/state",
        .version = "HTTP/1.1",
        .headers = headers,
        .header_count = 1,
        .body = body,
        .body_len = size,
        .client = "127.0.0.1:1",
    };
    fuzz_response_init(resp);
    api_handle(ref, &req, resp);
    free(body);
}

/* The state with the settings a fixture also installs: the profile and Omnitron's URL and token
 * (new reference). */
static json_t *everything(void)
{
    json_t *doc = fuzz_reference_state(ref);
    struct oms_profile *p = reference_profile(ref);
    char *url = NULL, *token = NULL;
    reference_omnitron(ref, &url, &token);
    json_object_set_new(doc, "profile", json_deep_copy(oms_profile_json(p)));
    json_object_set_new(doc, "omnitron", json_pack("{s:s?, s:s?}", "url", url, "token", token));
    oms_profile_unref(p);
    free(url);
    free(token);
    return doc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (generated_rows(data, size) > FUZZ_GENERATED)
        return -1;
    fuzz_reference_seed(ref, seed);
    json_t *before = everything();
    struct oms_http_response resp;
    put_state(data, size, &resp);
    fuzz_reference_pause(ref);
    fuzz_check_answer("PUT /_fixture/state", &resp);
    json_t *after = everything();
    if (resp.status != 204 && !json_equal(before, after))
        fuzz_fail("PUT /_fixture/state answered %d but the state changed (SPEC E-3)", resp.status);
    if (resp.status == 204) {
        fuzz_check_quota(ref, after, "PUT /_fixture/state");
        /* What was accepted reads back. */
        struct oms_http_request get = {
            .method = "GET", .path = "/_fixture/state", .version = "HTTP/1.1", .body = ""};
        struct oms_http_response got;
        fuzz_response_init(&got);
        api_handle(ref, &get, &got);
        if (got.status != 200)
            fuzz_fail("GET /_fixture/state after a load answered %d", got.status);
        fuzz_check_answer("GET /_fixture/state", &got);
        fuzz_response_cleanup(&got);
    }
    json_decref(before);
    json_decref(after);
    fuzz_response_cleanup(&resp);
    return 0;
}
