/* bench_control: one-off requests to the servers under measurement - loading fixtures, draining
 * the outbox, reading and clearing journals - outside the measured load. */
#ifndef BENCH_CONTROL_H
#define BENCH_CONTROL_H

#include <stddef.h>

/* One request on a fresh connection. body may be NULL. Returns the HTTP status, or 0 on a
 * transport failure (message on stderr). *resp (when resp is not NULL) receives the answer's
 * body, NUL-terminated, which the caller frees; *seconds (when not NULL) the exchange's length. */
long bench_http(const char *method, const char *url, const char *body, size_t body_len,
                long timeout_ms, char **resp, double *seconds);

/* PUT base/_fixture/state with the given document; returns the status (204 on success). */
long bench_fixture_put(const char *base, const char *doc, size_t len, double *seconds);
/* POST base/_fixture/drain?timeout_ms=... (in steps of at most 50 s, under the reference's
 * --max-drain-ms) until the outbox drained or timeout_ms passed; returns 1 when it drained. */
int bench_drain(const char *base, long timeout_ms);

/* The fixture token of the servers a benchmark starts ($REFUND_FIXTURE_TOKEN, set to a fixed one
 * when unset, so the children inherit it); borrowed. */
const char *bench_fixture_token(void);

#endif
