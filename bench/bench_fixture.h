/* bench_fixture: the seeded state of the benchmarks and the commands sent against it. Package i
 * (1..n) is Waiting at location 1 with two items (ids 2i-1, 2i) and one reservation; Omnitron and
 * every subscription point at recorders that answer 200. */
#ifndef BENCH_FIXTURE_H
#define BENCH_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "loadgen.h"
#include "oms_buf.h"

#define BENCH_TOKEN "refund-harness-token"

struct bench_fixture_spec {
    uint64_t packages;      /* packages 1..packages; 0 for none */
    int64_t quota;          /* location 1's quota; -1: equal to packages (all Waiting count) */
    const char *omnitron;   /* base URL Omnitron calls go to */
    const char *hooks;      /* base URL of the webhook recorder; subscriptions post to hooks/sK */
    unsigned subscriptions; /* subscriptions to package.status.packed_for_refund */
    int generate;           /* ask the target to make the packages ("generate") instead of
                               listing them: the same packages, a document of a few hundred bytes */
};

/* The whole PUT /_fixture/state document, NUL-terminated, that the caller frees; *len its length.
 */
char *bench_fixture_text(const struct bench_fixture_spec *spec, size_t *len);
/* Appends package id's object (as in a fixture's "packages" list) to b. */
void bench_fixture_package(struct oms_buf *b, uint64_t id);

/* Commands on packages next_id..last_id, one fresh package per request (transition 17). */
struct bench_commands {
    char base[256];
    uint64_t next_id;
    uint64_t last_id;
    int no_sync; /* send "sync_remote_order_status": false (no Omnitron call) */
};

/* A loadgen_next_fn for struct bench_commands: POST .../packages/<id>/command/. */
int bench_commands_next(void *ctx, uint64_t seq, struct loadgen_request *req);

/* Headers the command requests need (JSON body, the profile's token). */
extern const char *const bench_command_headers[];
extern const size_t bench_command_header_count;

#endif
