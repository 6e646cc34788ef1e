/* outbox: the delivery worker. Rows in flight live in an oms_http_pool; the worker adds due rows
 * while others are still on the wire, so one slow receiver holds up no other delivery. */
#include "outbox.h"

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_attempts.h"
#include "oms_http_client.h"
#include "oms_json.h"
#include "oms_log.h"
#include "oms_retry.h"
#include "oms_time.h"
#include "oms_limits.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define IDLE_WAIT_MAX_MS 1000
#define BUSY_WAIT_MAX_MS 100

struct flight {
    struct store_outbox_row row;
    struct oms_http_exchange x;
    char **lines;
    int64_t started_ms;
};

struct outbox {
    struct store *store;
    struct outbox_clock clock;
    pthread_t thread;
    struct oms_http_pool *pool;
    atomic_llong timeout_ms;
    /* Pending rows never attempted yet, first attempts on the wire included: the backlog commands
     * may be held back on. Changed only under the store lock, read by anyone. */
    atomic_llong fresh;
    atomic_llong per_command; /* rows the last command queued, at least 1 */
    atomic_int nudged;        /* woken since the worker last looked for due rows */
    unsigned seed;            /* for random retry jitter; the worker's alone */

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t progress;
    int running;
    int pause_requested;
    int paused;
    struct flight **flights;
    size_t count;
};

static int64_t now_ms(struct outbox *o)
{
    return o->clock.now(o->clock.ctx);
}

/* One JSON string at *p, just after its opening quote, unescaped and appended to out; *p moves
 * past the closing quote. Returns 0, or -1 for what this reader leaves to jansson (\u escapes,
 * anything malformed). */
static int read_string(const char **p, struct oms_buf *out)
{
    const char *s = *p;
    for (;;) {
        const char *run = s;
        while (*s && *s != '"' && *s != '\\')
            s++;
        oms_buf_append(out, run, (size_t)(s - run));
        if (*s == '"') {
            *p = s + 1;
            return 0;
        }
        if (*s != '\\')
            return -1;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *at = s[1] ? strchr(from, s[1]) : NULL;
        if (!at)
            return -1;
        oms_buf_append(out, to + (at - from), 1);
        s += 2;
    }
}

/* The lines of a headers text as the store keeps it - a compact JSON object of strings, as
 * oms_json_dumps writes it - without building a jansson object (that cost a delivery 17k
 * instructions). Returns 0 with *lines (n of them, room for one more), or -1 when the text is of
 * another shape (nothing allocated). */
static int flat_lines(const char *text, char ***lines, size_t *n)
{
    const char *p = text;
    if (*p++ != '{')
        return -1;
    size_t count = 0, cap = 8;
    char **out = oms_xcalloc(cap, sizeof(char *));
    struct oms_buf line;
    oms_buf_init(&line, 0);
    int rc = 0;
    while (rc == 0 && *p != '}') {
        if ((count > 0 && *p++ != ',') || *p++ != '"' || read_string(&p, &line) != 0 ||
            *p++ != ':' || *p++ != '"') {
            rc = -1;
            break;
        }
        oms_buf_append(&line, ": ", 2);
        rc = read_string(&p, &line);
        if (rc != 0)
            break;
        if (count + 2 > cap) {
            cap *= 2;
            out = oms_xrealloc(out, cap * sizeof(char *));
        }
        out[count++] = oms_buf_take(&line, NULL);
    }
    if (rc == 0 && (*p != '}' || p[1] != '\0'))
        rc = -1;
    oms_buf_cleanup(&line);
    if (rc != 0) {
        for (size_t i = 0; i < count; i++)
            free(out[i]);
        free(out);
        return -1;
    }
    *lines = out;
    *n = count;
    return 0;
}

/* The same through jansson, for any other shape. */
static char **json_lines(const char *text, size_t *n)
{
    json_t *h = json_loads(text, 0, NULL);
    *n = 0;
    char **lines = oms_xcalloc(json_object_size(h) + 2, sizeof(char *));
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v)
    {
        if (!json_is_string(v))
            continue;
        size_t size = strlen(key) + json_string_length(v) + 3;
        lines[*n] = oms_xmalloc(size);
        snprintf(lines[*n], size, "%s: %s", key, json_string_value(v));
        (*n)++;
    }
    json_decref(h);
    return lines;
}

/* The row's headers as "Name: value" lines, and the attempt's number (SPEC O-2: every attempt
 * carries the same Delivery-Id; Delivery-Attempt tells the attempts apart). *has_id says whether
 * the row has a Delivery-Id (rows written before it existed have none). */
static char **header_lines(const char *headers_json, int64_t attempt, size_t *n, int *has_id)
{
    const char *text = headers_json ? headers_json : "{}";
    char **lines = NULL;
    if (flat_lines(text, &lines, n) != 0)
        lines = json_lines(text, n);
    *has_id = 0;
    size_t id_len = strlen(OMS_DELIVERY_ID_HEADER);
    for (size_t i = 0; i < *n; i++)
        *has_id |=
            strncasecmp(lines[i], OMS_DELIVERY_ID_HEADER, id_len) == 0 && lines[i][id_len] == ':';
    if (*has_id) {
        size_t size = sizeof(OMS_DELIVERY_ATTEMPT_HEADER) + 24;
        lines[*n] = oms_xmalloc(size);
        snprintf(lines[*n], size, "%s: %lld", OMS_DELIVERY_ATTEMPT_HEADER, (long long)attempt);
        (*n)++;
    }
    return lines;
}

static void flight_free(struct flight *f)
{
    for (size_t i = 0; i < f->x.header_count; i++)
        free(f->lines[i]);
    free(f->lines);
    oms_http_exchange_cleanup(&f->x);
    store_outbox_row_cleanup(&f->row);
    free(f);
}

/* Decides the row's state after an attempt. */
static void next_state(struct outbox *o, const struct store_outbox_row *row,
                       const struct oms_http_exchange *x, int64_t now, const char **state,
                       int64_t *next_ms)
{
    *next_ms = now;
    if (x->result == 0 && x->status >= 200 && x->status < 300) {
        *state = "delivered";
        return;
    }
    /* A 4xx says the receiver refuses this very request; sending the same bytes again cannot
     * change its mind, so the row is dead-lettered at once for a person to look at. */
    if (x->result == 0 && x->status >= 400 && x->status < 500) {
        *state = "dead";
        return;
    }
    if (row->attempts + 1 >= row->max_attempts) {
        *state = "dead";
        return;
    }
    json_t *policy = row->retry ? json_loads(row->retry, 0, NULL) : NULL;
    *state = "pending";
    *next_ms = now + oms_retry_delay_ms(policy, row->attempts + 1, &o->seed);
    json_decref(policy);
}

static int in_flight(struct outbox *o, int64_t id)
{
    for (size_t i = 0; i < o->count; i++)
        if (o->flights[i]->row.id == id)
            return 1;
    return 0;
}

/* store_outbox_due's skip: a row on the wire is not read again. Only the worker changes the
 * flights, and it is the caller, so it reads them without mu. */
static int skip_in_flight(void *ctx, int64_t id)
{
    return in_flight(ctx, id);
}

/* Starts the due rows that are not already on the wire. Called by the worker without mu. */
static void start_due(struct outbox *o)
{
    pthread_mutex_lock(&o->mu);
    size_t room = OUTBOX_MAX_FLIGHTS - o->count;
    size_t busy = o->count;
    pthread_mutex_unlock(&o->mu);
    if (room == 0)
        return;
    struct store_outbox_row *rows = NULL;
    size_t n = 0;
    store_lock(o->store);
    if (store_outbox_due(o->store, now_ms(o), room + busy, skip_in_flight, o, &rows, &n) != 0)
        oms_log(OMS_LOG_ERROR, "outbox", "cannot read the due rows: %s", store_errmsg(o->store));
    store_unlock(o->store);
    long timeout = (long)atomic_load(&o->timeout_ms);
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < n; i++) {
        if (o->count >= OUTBOX_MAX_FLIGHTS || in_flight(o, rows[i].id)) {
            store_outbox_row_cleanup(&rows[i]);
            continue;
        }
        struct flight *f = OMS_NEW(struct flight);
        f->row = rows[i];
        int has_id = 0;
        f->lines = header_lines(f->row.headers, f->row.attempts + 1, &f->x.header_count, &has_id);
        /* A kept-alive connection may carry an attempt that has a Delivery-Id: if libcurl sends
         * it again because the connection died unanswered, the receiver sees the same attempt
         * (docs/reference-impl.md, "Delivery"). Without one, each attempt gets a connection of
         * its own, so that one attempt is always one request. */
        f->x.idempotent = has_id;
        f->x.method = f->row.method;
        f->x.url = f->row.url;
        f->x.headers = (const char *const *)f->lines;
        f->x.body = f->row.body;
        f->x.body_len = strlen(f->row.body);
        f->x.timeout_ms = timeout;
        f->started_ms = now_ms(o);
        o->flights = oms_xrealloc(o->flights, (o->count + 1) * sizeof(*o->flights));
        o->flights[o->count++] = f;
        oms_http_pool_add(o->pool, &f->x);
    }
    pthread_mutex_unlock(&o->mu);
    free(rows);
}

/* Records the attempts of the exchanges that ended. */
static void finish(struct outbox *o, struct oms_http_exchange **done, size_t n)
{
    struct flight **ended = oms_xcalloc(n, sizeof(*ended));
    pthread_mutex_lock(&o->mu);
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < o->count; i++) {
            if (&o->flights[i]->x == done[k]) {
                ended[k] = o->flights[i];
                o->flights[i] = o->flights[--o->count];
                break;
            }
        }
    }
    pthread_mutex_unlock(&o->mu);

    store_lock(o->store);
    int rc = store_begin(o->store);
    for (size_t k = 0; k < n; k++) {
        struct flight *f = ended[k];
        const char *state;
        int64_t next_ms;
        int64_t decided = now_ms(o);
        next_state(o, &f->row, &f->x, decided, &state, &next_ms);
        char error[300] = "";
        if (f->x.result != 0)
            snprintf(error, sizeof(error), "%s", f->x.error);
        else if (f->x.status < 200 || f->x.status >= 300)
            snprintf(error, sizeof(error), "answered %ld", f->x.status);
        struct store_attempt a = {
            .at_ms = f->started_ms,
            .status = f->x.status,
            .error = error,
            .elapsed_ms = f->x.elapsed_us / 1000,
            .state = state,
            .next_ms = next_ms,
            .retry_in_ms = strcmp(state, "pending") == 0 ? next_ms - decided : -1,
        };
        if (rc == 0)
            rc = store_outbox_record_attempt(o->store, f->row.id, &a);
        if (strcmp(state, "delivered") != 0)
            oms_log(OMS_LOG_INFO, "outbox", "row %lld (%s %s): %s, now %s", (long long)f->row.id,
                    f->row.method, f->row.url, error, state);
    }
    if (rc == 0)
        rc = store_commit(o->store);
    if (rc == 0) {
        int64_t first = 0;
        for (size_t k = 0; k < n; k++)
            first += ended[k]->row.attempts == 0;
        atomic_fetch_sub(&o->fresh, first);
    }
    if (rc != 0) {
        /* The rows stay as they were: pending ones are tried again (at least once, SPEC O-1). */
        oms_log(OMS_LOG_ERROR, "outbox", "cannot record %zu attempt(s): %s", n,
                store_errmsg(o->store));
        store_rollback(o->store);
    }
    store_unlock(o->store);
    for (size_t k = 0; k < n; k++)
        flight_free(ended[k]);
    free(ended);

    pthread_mutex_lock(&o->mu);
    pthread_cond_broadcast(&o->progress);
    pthread_mutex_unlock(&o->mu);
}

/* How long the worker may sleep: until the next row is due, at most a second. */
static int idle_wait(struct outbox *o)
{
    int64_t pending, next_due;
    store_lock(o->store);
    store_outbox_pending(o->store, &pending, &next_due);
    store_unlock(o->store);
    if (pending == 0)
        return IDLE_WAIT_MAX_MS;
    int64_t until = next_due - now_ms(o);
    return until < 1 ? 1 : until > IDLE_WAIT_MAX_MS ? IDLE_WAIT_MAX_MS : (int)until;
}

static void *worker(void *arg)
{
    struct outbox *o = arg;
    struct oms_http_exchange **done =
        oms_xcalloc(OUTBOX_MAX_FLIGHTS + 1, sizeof(struct oms_http_exchange *));
    for (;;) {
        pthread_mutex_lock(&o->mu);
        if (!o->running) {
            pthread_mutex_unlock(&o->mu);
            break;
        }
        if (o->pause_requested && o->count == 0) {
            o->paused = 1;
            pthread_cond_broadcast(&o->progress);
            while (o->pause_requested && o->running)
                pthread_cond_wait(&o->progress, &o->mu);
            o->paused = 0;
            pthread_mutex_unlock(&o->mu);
            continue;
        }
        int may_start = !o->pause_requested;
        size_t busy = o->count;
        pthread_mutex_unlock(&o->mu);

        if (may_start) {
            atomic_store(&o->nudged, 0);
            start_due(o);
        }
        pthread_mutex_lock(&o->mu);
        busy = o->count;
        pthread_mutex_unlock(&o->mu);
        int wait = busy ? BUSY_WAIT_MAX_MS : may_start ? idle_wait(o) : BUSY_WAIT_MAX_MS;
        size_t n = oms_http_pool_run(o->pool, wait, done, OUTBOX_MAX_FLIGHTS);
        if (n)
            finish(o, done, n);
    }
    free(done);
    return NULL;
}

/* Store locked: counts the backlog again from the store (at start, and after a fixture load
 * replaced its contents). */
static void outbox_recount(struct outbox *o)
{
    int64_t fresh = 0;
    if (store_outbox_fresh(o->store, &fresh) != 0)
        oms_log(OMS_LOG_ERROR, "outbox", "cannot count the backlog: %s", store_errmsg(o->store));
    atomic_store(&o->fresh, fresh);
}

struct outbox *outbox_start(struct store *store, const struct outbox_clock *clock)
{
    struct outbox *o = OMS_NEW(struct outbox);
    o->store = store;
    o->clock = *clock;
    o->running = 1;
    o->seed = (unsigned)oms_time_mono_us();
    atomic_init(&o->timeout_ms, OMS_HTTP_TIMEOUT_DEFAULT_MS); /* until outbox_set_timeout */
    o->pool = oms_http_pool_create();
    atomic_init(&o->fresh, 0);
    atomic_init(&o->per_command, 1);
    atomic_init(&o->nudged, 0);
    store_lock(store);
    outbox_recount(o); /* rows a database file kept */
    store_unlock(store);
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->progress, NULL);
    if (pthread_create(&o->thread, NULL, worker, o) != 0)
        oms_fatal("cannot start the outbox delivery thread");
    return o;
}

void outbox_stop(struct outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    o->running = 0;
    pthread_cond_broadcast(&o->progress);
    pthread_mutex_unlock(&o->mu);
    oms_http_pool_wakeup(o->pool);
    pthread_join(o->thread, NULL);
    oms_http_pool_destroy(o->pool);
    for (size_t i = 0; i < o->count; i++)
        flight_free(o->flights[i]);
    free(o->flights);
    pthread_cond_destroy(&o->progress);
    pthread_mutex_destroy(&o->mu);
    free(o);
}

void outbox_set_timeout(struct outbox *o, int64_t timeout_ms)
{
    atomic_store(&o->timeout_ms, timeout_ms);
}

void outbox_queued(struct outbox *o, int n)
{
    atomic_fetch_add(&o->fresh, n);
    if (n > 0)
        atomic_store_explicit(&o->per_command, n, memory_order_relaxed);
}

int64_t outbox_rows_per_command(struct outbox *o)
{
    return atomic_load_explicit(&o->per_command, memory_order_relaxed);
}

int64_t outbox_backlog(struct outbox *o)
{
    return atomic_load_explicit(&o->fresh, memory_order_relaxed);
}

void outbox_notify(struct outbox *o)
{
    /* One wake-up until the worker looks: the commands that commit meanwhile ride on it. */
    if (!atomic_exchange(&o->nudged, 1))
        oms_http_pool_wakeup(o->pool);
}

void outbox_pause(struct outbox *o)
{
    pthread_mutex_lock(&o->mu);
    o->pause_requested = 1;
    oms_http_pool_wakeup(o->pool);
    while (!o->paused && o->running)
        pthread_cond_wait(&o->progress, &o->mu);
    pthread_mutex_unlock(&o->mu);
}

void outbox_resume(struct outbox *o)
{
    store_lock(o->store);
    outbox_recount(o); /* the store's contents were replaced */
    store_unlock(o->store);
    pthread_mutex_lock(&o->mu);
    o->pause_requested = 0;
    pthread_cond_broadcast(&o->progress);
    pthread_mutex_unlock(&o->mu);
    oms_http_pool_wakeup(o->pool);
}

static void timespec_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void outbox_drain_begin(struct outbox_drain *d, int64_t timeout_ms)
{
    /* Microseconds: a bound of N ms is never cut short by clock truncation. */
    d->deadline_us = oms_time_mono_us() + (timeout_ms > 0 ? timeout_ms : 0) * 1000;
    d->advanced_ms = 0;
}

int outbox_drain_step(struct outbox *o, struct outbox_drain *d, json_t **result)
{
    int64_t pending, delivered, dead, next_due;
    pthread_mutex_lock(&o->mu);
    size_t flying = o->count;
    pthread_mutex_unlock(&o->mu);
    store_lock(o->store);
    store_outbox_pending(o->store, &pending, &next_due);
    store_unlock(o->store);
    int64_t left = (d->deadline_us - oms_time_mono_us() + 999) / 1000;
    if ((pending == 0 && flying == 0) || left <= 0) {
        /* The full counts read every row: once, for the answer. */
        store_lock(o->store);
        store_outbox_counts(o->store, &pending, &delivered, &dead, &next_due);
        store_unlock(o->store);
        *result = json_pack("{s:b, s:I, s:I, s:I, s:I}", "drained", pending == 0, "pending",
                            (json_int_t)pending, "delivered", (json_int_t)delivered, "dead",
                            (json_int_t)dead, "clock_advanced_ms", (json_int_t)d->advanced_ms);
        return 1;
    }
    /* A scenario clock jumps to the next scheduled retry rather than waiting for it. */
    if (flying == 0 && pending > 0 && o->clock.is_virtual(o->clock.ctx)) {
        int64_t gap = next_due - now_ms(o);
        if (gap > 0) {
            o->clock.advance(o->clock.ctx, gap);
            d->advanced_ms += gap;
        }
    }
    outbox_notify(o);
    return 0;
}

json_t *outbox_drain(struct outbox *o, int64_t timeout_ms)
{
    struct outbox_drain d;
    json_t *result = NULL;
    outbox_drain_begin(&d, timeout_ms);
    while (!outbox_drain_step(o, &d, &result)) {
        int64_t left = (d.deadline_us - oms_time_mono_us() + 999) / 1000;
        struct timespec ts;
        timespec_in(&ts, left < 20 ? (left > 0 ? left : 1) : 20);
        pthread_mutex_lock(&o->mu);
        pthread_cond_timedwait(&o->progress, &o->mu, &ts);
        pthread_mutex_unlock(&o->mu);
    }
    return result;
}
