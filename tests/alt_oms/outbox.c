/* outbox.c: one delivery thread sends due rows one at a time and schedules retries (SPEC O-2). */
#include "alt_outbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_crypto.h"
#include "oms_http_client.h"
#include "oms_log.h"
#include "oms_time.h"

struct alt_outbox {
    pthread_mutex_t *lock;
    pthread_cond_t wake; /* the delivery thread waits here for due rows */
    pthread_cond_t done; /* drains and resets wait here for attempts to end */
    pthread_t thread;
    int started;
    int stop;
    int paused;                 /* a reset is waiting: start no attempt */
    struct alt_delivery **rows; /* pending, in id order */
    size_t count;
    size_t cap;
    struct alt_delivery *in_flight;
    size_t delivered;
    size_t dead;
    int64_t next_id;
    int virtual_clock;
    int64_t offset_ms; /* what the virtual clock skipped */
    uint64_t rng;
};

struct alt_delivery *alt_delivery_create(enum alt_delivery_kind kind, const char *method,
                                         const char *url)
{
    struct alt_delivery *d = OMS_NEW(struct alt_delivery);
    d->kind = kind;
    d->method = oms_xstrdup(method);
    d->url = oms_xstrdup(url);
    return d;
}

void alt_delivery_header(struct alt_delivery *d, const char *name, const char *value)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_printf(&b, "%s: %s", name, value);
    d->headers = oms_xrealloc(d->headers, (d->header_count + 1) * sizeof(char *));
    d->headers[d->header_count++] = oms_buf_take(&b, NULL);
}

void alt_delivery_destroy(struct alt_delivery *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->header_count; i++)
        free(d->headers[i]);
    free(d->headers);
    free(d->method);
    free(d->url);
    free(d->body);
    free(d);
}

static int64_t clock_ms(const struct alt_outbox *ob)
{
    return oms_time_mono_ms() + ob->offset_ms;
}

int64_t alt_outbox_wall_ms(const struct alt_outbox *ob)
{
    return oms_time_wall_ms() + ob->offset_ms;
}

/* Waits on cond at most ms milliseconds of real time (ms < 0: without limit). */
static void wait_ms(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t ms)
{
    if (ms < 0) {
        pthread_cond_wait(cond, lock);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cond, lock, &ts);
}

static void cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

struct alt_outbox *alt_outbox_create(pthread_mutex_t *lock)
{
    struct alt_outbox *ob = OMS_NEW(struct alt_outbox);
    ob->lock = lock;
    cond_init(&ob->wake);
    cond_init(&ob->done);
    ob->next_id = 1;
    char seed[17];
    if (oms_random_hex(seed, 8) == 0)
        ob->rng = strtoull(seed, NULL, 16);
    ob->rng |= 1;
    return ob;
}

static int has_row(const struct alt_outbox *ob, const struct alt_delivery *d)
{
    for (size_t i = 0; i < ob->count; i++) {
        if (ob->rows[i] == d)
            return 1;
    }
    return 0;
}

static void remove_row(struct alt_outbox *ob, struct alt_delivery *d)
{
    for (size_t i = 0; i < ob->count; i++) {
        if (ob->rows[i] == d) {
            memmove(&ob->rows[i], &ob->rows[i + 1], (ob->count - i - 1) * sizeof(*ob->rows));
            ob->count--;
            return;
        }
    }
}

/* The row to send now (earliest due, then lowest id), or NULL; *next is the earliest due time
 * of all rows (INT64_MAX when none). */
static struct alt_delivery *due_row(const struct alt_outbox *ob, int64_t now, int64_t *next)
{
    struct alt_delivery *best = NULL;
    *next = INT64_MAX;
    for (size_t i = 0; i < ob->count; i++) {
        struct alt_delivery *d = ob->rows[i];
        if (d->due_ms < *next)
            *next = d->due_ms;
        if (d->due_ms <= now && (!best || d->due_ms < best->due_ms))
            best = d;
    }
    return best;
}

/* What one attempt ended with: 0 delivered, 1 retry, 2 dead at once. */
static int verdict(const struct oms_http_exchange *x)
{
    if (x->result != 0)
        return 1; /* connection error or timeout */
    if (x->status >= 200 && x->status < 300)
        return 0;
    if (x->status >= 400 && x->status < 500)
        return 2; /* the receiver refused these very bytes: sending them again cannot help */
    return 1;
}

/* Sends d once, without the lock. */
static int attempt(struct oms_http_client *client, struct alt_delivery *d)
{
    struct oms_http_exchange x = {
        .method = d->method,
        .url = d->url,
        .headers = (const char *const *)d->headers,
        .header_count = d->header_count,
        .body = d->body,
        .body_len = d->body_len,
        .timeout_ms = d->timeout_ms,
        .idempotent = 0, /* one attempt is one request at the receiver */
    };
    oms_http_client_perform(client, &x);
    int v = verdict(&x);
    if (v != 0)
        oms_log(OMS_LOG_INFO, "alt-oms", "delivery %lld to %s: %s (status %ld)", (long long)d->id,
                d->url, x.result ? x.error : "refused", x.status);
    oms_http_exchange_cleanup(&x);
    return v;
}

static void *deliver_loop(void *arg)
{
    struct alt_outbox *ob = arg;
    struct oms_http_client *client = oms_http_client_create();
    pthread_mutex_lock(ob->lock);
    while (!ob->stop) {
        int64_t now = clock_ms(ob), next;
        struct alt_delivery *d = ob->paused ? NULL : due_row(ob, now, &next);
        if (!d) {
            wait_ms(&ob->wake, ob->lock, ob->paused || next == INT64_MAX ? -1 : next - now);
            continue;
        }
        ob->in_flight = d;
        pthread_mutex_unlock(ob->lock);
        int v = attempt(client, d);
        pthread_mutex_lock(ob->lock);
        ob->in_flight = NULL;
        if (!has_row(ob, d)) { /* dropped while in flight: only at shutdown */
            alt_delivery_destroy(d);
            continue;
        }
        d->attempts++;
        if (v == 1 && d->attempts < alt_retry_attempts(&d->policy)) {
            d->due_ms = clock_ms(ob) + alt_retry_delay_ms(&d->policy, d->attempts, &ob->rng);
        } else {
            if (v == 0)
                ob->delivered++;
            else
                ob->dead++;
            remove_row(ob, d);
            alt_delivery_destroy(d);
        }
        pthread_cond_broadcast(&ob->done);
    }
    pthread_mutex_unlock(ob->lock);
    oms_http_client_destroy(client);
    return NULL;
}

int alt_outbox_start(struct alt_outbox *ob)
{
    if (pthread_create(&ob->thread, NULL, deliver_loop, ob) != 0)
        return OMS_E_ENV;
    ob->started = 1;
    return 0;
}

void alt_outbox_shutdown(struct alt_outbox *ob)
{
    pthread_mutex_lock(ob->lock);
    ob->stop = 1;
    pthread_cond_broadcast(&ob->wake);
    pthread_cond_broadcast(&ob->done);
    pthread_mutex_unlock(ob->lock);
    if (ob->started)
        pthread_join(ob->thread, NULL);
    ob->started = 0;
}

void alt_outbox_destroy(struct alt_outbox *ob)
{
    if (!ob)
        return;
    for (size_t i = 0; i < ob->count; i++)
        alt_delivery_destroy(ob->rows[i]);
    free(ob->rows);
    pthread_cond_destroy(&ob->wake);
    pthread_cond_destroy(&ob->done);
    free(ob);
}

void alt_outbox_add(struct alt_outbox *ob, struct alt_delivery *d)
{
    if (ob->count == ob->cap) {
        ob->cap = ob->cap ? 2 * ob->cap : 16;
        ob->rows = oms_xrealloc(ob->rows, ob->cap * sizeof(*ob->rows));
    }
    d->id = ob->next_id++;
    d->attempts = 0;
    d->due_ms = clock_ms(ob);
    ob->rows[ob->count++] = d;
    pthread_cond_signal(&ob->wake);
}

void alt_outbox_reset(struct alt_outbox *ob, int virtual_clock)
{
    ob->paused = 1;
    while (ob->in_flight && !ob->stop)
        pthread_cond_wait(&ob->done, ob->lock);
    for (size_t i = 0; i < ob->count; i++) {
        if (ob->rows[i] != ob->in_flight)
            alt_delivery_destroy(ob->rows[i]);
    }
    ob->count = 0;
    ob->delivered = 0;
    ob->dead = 0;
    ob->virtual_clock = virtual_clock;
    ob->paused = 0;
    pthread_cond_signal(&ob->wake);
}

void alt_outbox_drain(struct alt_outbox *ob, int64_t timeout_ms, struct alt_drain *res)
{
    int64_t deadline = oms_time_mono_ms() + timeout_ms;
    memset(res, 0, sizeof(*res));
    while (ob->count > 0 && !ob->stop) {
        int64_t now = clock_ms(ob), next;
        if (ob->virtual_clock && !ob->in_flight && !ob->paused && !due_row(ob, now, &next) &&
            next != INT64_MAX) {
            /* Only scheduled retries are left: jump to the first instead of waiting. */
            ob->offset_ms += next - now;
            res->clock_advanced_ms += next - now;
            pthread_cond_signal(&ob->wake);
        }
        int64_t left = deadline - oms_time_mono_ms();
        if (left <= 0)
            break;
        wait_ms(&ob->done, ob->lock, left);
    }
    res->pending = ob->count;
    res->drained = ob->count == 0;
    res->delivered = ob->delivered;
    res->dead = ob->dead;
}
