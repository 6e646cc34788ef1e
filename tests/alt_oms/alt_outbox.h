/* alt_outbox: outbound calls decided with a transition and delivered after it by one thread
 * (SPEC O-1, O-2), on a real or a virtual clock. Every function except _create, _start and
 * _destroy is called with the application lock held (the lock given to _create). */
#ifndef ALT_OUTBOX_H
#define ALT_OUTBOX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "alt_profile.h"

enum alt_delivery_kind { ALT_DELIVERY_OMNITRON, ALT_DELIVERY_WEBHOOK };

/* One outbound call and its retry state. */
struct alt_delivery {
    enum alt_delivery_kind kind;
    char *method;
    char *url;
    char **headers; /* "Name: value" lines */
    size_t header_count;
    char *body;
    size_t body_len;
    struct alt_retry policy;
    long timeout_ms;
    /* kept by the outbox */
    int64_t id;
    int attempts;
    int64_t due_ms; /* on the outbox clock (monotonic + virtual offset) */
};

/* A new delivery with copies of method and url, no headers and no body. Never NULL; free with
 * alt_delivery_destroy unless handed to alt_outbox_add. */
struct alt_delivery *alt_delivery_create(enum alt_delivery_kind kind, const char *method,
                                         const char *url);
/* Appends "name: value" (copied). */
void alt_delivery_header(struct alt_delivery *d, const char *name, const char *value);
/* Frees d. NULL allowed. */
void alt_delivery_destroy(struct alt_delivery *d);

struct alt_outbox;

/* What POST /_fixture/drain answers. */
struct alt_drain {
    int drained;
    size_t pending;
    size_t delivered;
    size_t dead;
    int64_t clock_advanced_ms;
};

/* An outbox sharing lock with the application (borrowed; it must outlive the outbox). Never
 * NULL. */
struct alt_outbox *alt_outbox_create(pthread_mutex_t *lock);
/* Starts the delivery thread. Returns 0 or OMS_E_ENV. Called without the lock. */
int alt_outbox_start(struct alt_outbox *ob);
/* Makes drains return and the delivery thread end (a delivery in flight finishes first).
 * Called without the lock; the outbox can still take rows afterwards (they are never sent). */
void alt_outbox_shutdown(struct alt_outbox *ob);
/* Frees the outbox and rows never sent; call after _shutdown. NULL allowed. */
void alt_outbox_destroy(struct alt_outbox *ob);

/* Queues d (taken over), due now. */
void alt_outbox_add(struct alt_outbox *ob, struct alt_delivery *d);
/* Waits for a delivery in flight to end, then forgets every row and count, and sets the clock
 * (virtual: 1) from now on. Used when a fixture replaces the state. */
void alt_outbox_reset(struct alt_outbox *ob, int virtual_clock);
/* Wall-clock milliseconds, moved forward by what the virtual clock skipped. */
int64_t alt_outbox_wall_ms(const struct alt_outbox *ob);
/* Waits up to timeout_ms until no row is pending; under a virtual clock, skips the wait for
 * retries when nothing is in flight. Fills res. */
void alt_outbox_drain(struct alt_outbox *ob, int64_t timeout_ms, struct alt_drain *res);

#endif
