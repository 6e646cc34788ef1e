/* reference: the reference OMS as an embeddable server - the Package command endpoint, the webhook
 * subscription API and the fixture protocol over one HTTP listener, state in SQLite, and
 * a delivery worker for the outbox. oms-reference is a thin main() around this. */
#ifndef REFERENCE_H
#define REFERENCE_H

#include "oms_error.h"
#include "oms_http_server.h"

#include <stddef.h>
#include <stdint.h>

struct reference;

struct reference_config {
    const char *bind;         /* NULL: 127.0.0.1 */
    unsigned port;            /* 0: ephemeral */
    const char *db_path;      /* NULL or ":memory:": in memory; a file: persistent (WAL) */
    const char *profile_path; /* NULL: the built-in profiles/default.json */
    const char *omnitron_url; /* base URL of Omnitron; a fixture load may replace it */
    const char *omnitron_token;
    unsigned threads;     /* HTTP worker threads; 0: 4 */
    unsigned io_threads;  /* event loops; 0: REFERENCE_DEFAULT_IO_THREADS */
    int disable_fixtures; /* refuse /_fixture/ (a production-like sandbox) */
    /* X-Fixture-Token every /_fixture/ request must carry (never an API token); NULL:
     * $REFUND_FIXTURE_TOKEN, else a random 32-hex one (see reference_fixture_token()). */
    const char *fixture_token;
    struct oms_http_limits limits; /* connections and request deadline; 0 fields: defaults */
    size_t max_fixture_bytes; /* largest fixture body; 0: REFERENCE_DEFAULT_MAX_FIXTURE_BYTES */
    int64_t max_drain_ms;     /* largest drain timeout_ms; 0: REFERENCE_DEFAULT_MAX_DRAIN_MS */
    /* Most rows (packages, items, transition log, outbox rows and attempts) a fixture may create
     * and GET /_fixture/state may return; 0: REFERENCE_DEFAULT_MAX_STATE_ROWS. */
    int64_t max_state_rows;
    /* Backpressure (docs/reference-impl.md, "Backpressure"): a command waits while this many
     * outbox rows or more were never attempted; 0: REFERENCE_DEFAULT_MAX_BACKLOG, -1: no bound. */
    int64_t max_backlog;
    /* The longest a command waits for the backlog; then it runs anyway. 0: the default. */
    int64_t max_backlog_wait_ms;
};

#define REFERENCE_DEFAULT_MAX_FIXTURE_BYTES (64 * 1024 * 1024)
#define REFERENCE_DEFAULT_MAX_DRAIN_MS      60000
#define REFERENCE_DEFAULT_MAX_STATE_ROWS    200000
/* About a tenth of a second of deliveries on 2 cores (bench/README.md, "Outbound delivery"): a
 * burst of commands is taken at once, a sustained one is slowed to what the deliveries keep up
 * with, so a webhook arrives within that time of its 204 instead of minutes later. */
#define REFERENCE_DEFAULT_MAX_BACKLOG         1024
#define REFERENCE_DEFAULT_MAX_BACKLOG_WAIT_MS 1000
/* One event loop: commands run on the loop and are serialised on the store lock anyway, so a
 * second loop only adds lock contention (a blocked loop sleeps, and its waiting clients with it)
 * and takes CPU from the delivery worker (bench/README.md, "Capacity"). */
#define REFERENCE_DEFAULT_IO_THREADS 1

/* Starts the server and the delivery worker. Returns 0 and *out, or a negative code with err
 * naming what failed (profile file, database, port); nothing is left running on failure. With a
 * database file, outbox rows left pending by an earlier run are delivered again. */
int reference_start(const struct reference_config *cfg, struct reference **out,
                    struct oms_err *err);
/* Base URL such as "http://127.0.0.1:41234" (borrowed). */
const char *reference_url(const struct reference *r);
unsigned reference_port(const struct reference *r);
/* The fixture token in force (borrowed), and whether it was made up at start (so the program
 * prints it once). */
const char *reference_fixture_token(const struct reference *r);
int reference_fixture_token_generated(const struct reference *r);
/* The first API token of the start-up profile (borrowed): what a tool calling on a user's behalf
 * sends, now that GET /_fixture/profile no longer shows tokens. */
const char *reference_api_token(const struct reference *r);
/* Stops the listener, then the worker (an attempt in flight is finished), closes the store,
 * frees. NULL allowed. */
void reference_stop(struct reference *r);

#endif
