/* fuzz: what the fuzz targets share - the request framing of the command target, a reference OMS
 * without a listener, and the checks every answer and every state must pass. A failed check
 * aborts, so libFuzzer (or the replay driver) records the input that broke it. */
#ifndef FUZZ_H
#define FUZZ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_http_server.h"

struct reference;

/* The entry points each target defines (libFuzzer's names). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "fuzz: " and the message to stderr and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* "<repository>/<relative>" into a static buffer (valid until the next call). */
const char *fuzz_path(const char *relative);
/* A repository file as JSON (new reference); fails when it does not load. */
json_t *fuzz_load_json(const char *relative);

/* ---- requests ---- */

/* One request of the command target's framing (see tests/fuzz/README.md):
 *   METHOD SP TARGET LF *(NAME ":" [SP] VALUE LF) LF BODY
 * where TARGET is PATH ["?" NAME ["=" VALUE] *("&" NAME ["=" VALUE])]. Requests are separated
 * by FUZZ_SEPARATOR. Every string is owned; body is NUL-terminated and may hold NULs. */
#define FUZZ_SEPARATOR    "\n~~~\n"
#define FUZZ_MAX_REQUESTS 8
#define FUZZ_MAX_PAIRS    32

struct fuzz_request {
    char *method;
    char *path;
    struct oms_http_pair headers[FUZZ_MAX_PAIRS];
    size_t header_count;
    struct oms_http_pair args[FUZZ_MAX_PAIRS];
    size_t arg_count;
    char *body;
    size_t body_len;
};

/* Splits data into at most max requests (extra headers and arguments beyond FUZZ_MAX_PAIRS are
 * dropped). Returns how many were filled; free each with fuzz_request_cleanup. */
size_t fuzz_parse_requests(const uint8_t *data, size_t size, struct fuzz_request *out, size_t max);
void fuzz_request_cleanup(struct fuzz_request *r);
/* A request as a handler sees it (borrowing from r). */
struct oms_http_request fuzz_request_view(const struct fuzz_request *r);

/* A response as oms_http_server prepares it: status 500 until the handler sets one. */
void fuzz_response_init(struct oms_http_response *resp);
void fuzz_response_cleanup(struct oms_http_response *resp);

/* SPEC E-1..E-3 for any answer: status 200-499 (never 5xx, never dropped); a 204 has no body;
 * any other body is JSON with Content-Type application/json; a 4xx body is exactly the envelope
 * {"error": {field: [non-empty messages]}, "status_code": status}. what names the request. */
void fuzz_check_answer(const char *what, const struct oms_http_response *resp);

/* ---- the reference without a listener ---- */

/* The default profile, an in-memory store and a delivery worker kept paused, so nothing leaves
 * the process. Never NULL (fails instead). */
struct reference *fuzz_reference_create(void);
void fuzz_reference_destroy(struct reference *r);
/* Replaces the state with fixture (which must load), forgets the command journal and pauses the
 * delivery worker again. */
void fuzz_reference_seed(struct reference *r, const json_t *fixture);
/* Pauses the delivery worker (a fixture load resumes it). */
void fuzz_reference_pause(struct reference *r);
/* GET /_fixture/state's document (new reference). */
json_t *fuzz_reference_state(struct reference *r);
/* SPEC Q-4 on state, under the profile in force: every location's quota is >= 0, and equals its
 * counting packages unless the location declares quota_drift. */
void fuzz_check_quota(struct reference *r, const json_t *state, const char *what);

#endif
