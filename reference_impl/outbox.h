/* outbox: delivers the outbox rows a transition committed (SPEC O-1, O-2). A background worker
 * keeps up to OUTBOX_MAX_FLIGHTS deliveries in flight over libcurl's multi interface, starting due
 * rows as soon as they are due, records every attempt, retries failures on the row's policy and
 * dead-letters a row after its last attempt. Nothing is dropped: a row leaves "pending" only as
 * "delivered" or "dead". */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

#define OUTBOX_MAX_FLIGHTS 64

struct outbox;

/* The clock deliveries are scheduled on. With a virtual clock (a scenario clock), drain moves time
 * forward to the next scheduled retry instead of waiting for it. */
struct outbox_clock {
    int64_t (*now)(void *ctx);
    int (*is_virtual)(void *ctx);
    void (*advance)(void *ctx, int64_t ms);
    void *ctx;
};

/* Starts the worker over store. Never fails (thread creation failure aborts with a message). */
struct outbox *outbox_start(struct store *store, const struct outbox_clock *clock);
/* Stops the worker; deliveries in flight are abandoned and stay pending (they are sent again by
 * the next start on the same store). NULL allowed. */
void outbox_stop(struct outbox *o);

/* How long one attempt may take (ms), for attempts started from now on. */
void outbox_set_timeout(struct outbox *o, int64_t timeout_ms);
/* Wakes the worker: rows were committed. */
void outbox_notify(struct outbox *o);
/* The backlog: pending rows never attempted yet (their first attempts on the wire included). A
 * row that failed and waits for its retry is not in it, so a receiver that is down holds nothing
 * back; a backlog that keeps growing means the deliveries do not keep up with the commands. */
int64_t outbox_backlog(struct outbox *o);
/* Store locked, right after the commit that wrote n outbox rows: counts them in the backlog. */
void outbox_queued(struct outbox *o, int n);
/* The rows the last command that queued any queued (1 before the first): what the next command
 * is likely to add to the backlog. */
int64_t outbox_rows_per_command(struct outbox *o);
/* Stops starting deliveries and waits until none is in flight, so the caller can replace the
 * store's contents; outbox_resume lets the worker go on. */
void outbox_pause(struct outbox *o);
void outbox_resume(struct outbox *o);

/* Waits until no row is pending (every row delivered or dead) or timeout_ms of real time passed.
 * With a virtual clock, idle waits for a scheduled retry are skipped by advancing the clock.
 * Returns a new object {"drained": bool, "pending": n, "delivered": n, "dead": n,
 * "clock_advanced_ms": n}. */
json_t *outbox_drain(struct outbox *o, int64_t timeout_ms);

/* The same wait taken one look at a time, so a server can wait without holding a thread. */
struct outbox_drain {
    int64_t deadline_us; /* monotonic */
    int64_t advanced_ms;
};
void outbox_drain_begin(struct outbox_drain *d, int64_t timeout_ms);
/* Looks once (never blocks): returns 1 with *result (the object outbox_drain returns) when no row
 * is pending or the time is up; returns 0 to be asked again a little later. */
int outbox_drain_step(struct outbox *o, struct outbox_drain *d, json_t **result);

#endif
