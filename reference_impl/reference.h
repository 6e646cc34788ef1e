/* reference: the reference OMS as an embeddable server - the Package command endpoint, the webhook
 * subscription API and the fixture protocol over one HTTP listener, state in SQLite, and
 * a delivery worker for the outbox. oms-reference is a thin main() around this. */
#ifndef REFERENCE_H
#define REFERENCE_H

#include "oms_error.h"

struct reference;

struct reference_config {
    const char *bind;         /* NULL: 127.0.0.1 */
    unsigned port;            /* 0: ephemeral */
    const char *db_path;      /* NULL or ":memory:": in memory; a file: persistent (WAL) */
    const char *profile_path; /* NULL: the repository's profiles/default.json */
    const char *omnitron_url; /* base URL of Omnitron; a fixture load may replace it */
    const char *omnitron_token;
    unsigned threads;     /* HTTP worker threads; 0: 4 */
    int disable_fixtures; /* refuse /_fixture/ (a production-like sandbox) */
};

/* Starts the server and the delivery worker. Returns 0 and *out, or a negative code with err
 * naming what failed (profile file, database, port); nothing is left running on failure. With a
 * database file, outbox rows left pending by an earlier run are delivered again. */
int reference_start(const struct reference_config *cfg, struct reference **out,
                    struct oms_err *err);
/* Base URL such as "http://127.0.0.1:41234" (borrowed). */
const char *reference_url(const struct reference *r);
unsigned reference_port(const struct reference *r);
/* Stops the listener, then the worker (an attempt in flight is finished), closes the store,
 * frees. NULL allowed. */
void reference_stop(struct reference *r);

/* The default profile path compiled in (the repository's profiles/default.json). */
const char *reference_default_profile_path(void);

#endif
