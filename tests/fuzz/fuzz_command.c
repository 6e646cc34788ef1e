/* fuzz_command: requests - method, path, query, headers, body - through the reference's real
 * handler (api_handle) against a small seeded state: packages in every status the transitions
 * use, a full SELECT_BY_QUOTA location, a drifted one, two subscriptions and an Omnitron URL.
 * An input is up to FUZZ_MAX_REQUESTS requests in the framing of fuzz.h, sent in order on the
 * same state; every input starts from the seeded state. After every request: the answer passes
 * fuzz_check_answer (no 5xx, the E-1 envelope on every 4xx), a 4xx changed nothing (SPEC E-3),
 * and SPEC Q-4 holds. Not sent: POST /_fixture/drain (it waits for deliveries, which never happen
 * here) and PUT /_fixture/state (fuzz_fixture covers it). */
#include "fuzz.h"

#include "api.h"
#include "cmdlog.h"
#include "reference_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct reference *ref;
static json_t *seed;
static json_t *seeded; /* the state right after seeding */
static int dirty = 1;  /* an earlier input may have changed the state */

static void cleanup(void)
{
    fuzz_reference_destroy(ref);
    json_decref(seed);
    json_decref(seeded);
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

static int skipped(const struct fuzz_request *q)
{
    return (strcmp(q->path, "/_fixture/drain") == 0 && strcmp(q->method, "POST") == 0) ||
           (strcmp(q->path, "/_fixture/state") == 0 && strcmp(q->method, "PUT") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_request requests[FUZZ_MAX_REQUESTS];
    size_t n = fuzz_parse_requests(data, size, requests, FUZZ_MAX_REQUESTS);
    /* Seeding costs more than most inputs: it is skipped after an input that only read or was
     * refused (a refusal is checked to change nothing). */
    if (dirty) {
        fuzz_reference_seed(ref, seed);
        json_decref(seeded);
        seeded = fuzz_reference_state(ref);
        dirty = 0;
    } else {
        cmdlog_clear(ref->cmdlog);
    }
    json_t *before = json_incref(seeded);
    for (size_t i = 0; i < n; i++) {
        if (skipped(&requests[i]))
            continue;
        char what[160];
        snprintf(what, sizeof(what), "request %zu (%.20s %.80s)", i + 1, requests[i].method,
                 requests[i].path);
        struct oms_http_request req = fuzz_request_view(&requests[i]);
        struct oms_http_response resp;
        fuzz_response_init(&resp);
        api_handle(ref, &req, &resp);
        if (resp.status < 400 && strcmp(req.method, "GET") != 0)
            dirty = 1;
        fuzz_check_answer(what, &resp);
        json_t *after = fuzz_reference_state(ref);
        if (resp.status >= 400 && !json_equal(before, after))
            fuzz_fail("%s: answered %d but the state changed (SPEC E-3)", what, resp.status);
        fuzz_check_quota(ref, after, what);
        json_decref(before);
        before = after;
        fuzz_response_cleanup(&resp);
    }
    json_decref(before);
    for (size_t i = 0; i < n; i++)
        fuzz_request_cleanup(&requests[i]);
    return 0;
}
