/* delivery: the outbox of bad-oms - rows queued by commands, sent one at a time by a background
 * thread after the command answered, retried on the row's policy (SPEC O-1, O-2), and the drain
 * of the fixture protocol. */
#include "bad_oms.h"

#include "oms_alloc.h"
#include "oms_http_client.h"
#include "oms_json.h"
#include "oms_retry.h"
#include "oms_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_ATTEMPTS 6
#define IDLE_WAKE_MS         1000

/* Waits on b->changed until at most the monotonic time until_ms. */
static void wait_until(struct bad_oms *b, int64_t until_ms)
{
    int64_t left = until_ms - oms_time_mono_ms();
    if (left <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += left / 1000;
    ts.tv_nsec += (long)(left % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&b->changed, &b->lock, &ts);
}

void bad_delivery_enqueue(struct bad_oms *b, const char *kind, const char *method, const char *url,
                          json_t *headers, const char *body, const char *event_uuid,
                          const json_t *retry)
{
    json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:s?, s:s, s:i, s:I, s:n, s:n, s:[]}",
                            "id", (json_int_t)b->next_outbox_id++, "kind", kind, "method", method,
                            "url", url, "headers", headers, "body", body, "event_uuid", event_uuid,
                            "state", "pending", "attempts", 0, "max_attempts",
                            (json_int_t)oms_retry_max_attempts(retry, DEFAULT_MAX_ATTEMPTS),
                            "last_status", "last_error", "attempt_history");
    json_object_set_new(row, "_retry", retry ? json_deep_copy(retry) : json_null());
    json_object_set_new(row, "_next_ms", json_integer(oms_time_mono_ms()));
    json_array_append_new(b->outbox, row);
    pthread_cond_broadcast(&b->changed);
}

/* The first pending row that is due (its id order is the order of the commands), or NULL and the
 * time the next one falls due in *next. */
static json_t *due_row(struct bad_oms *b, int64_t now, int64_t *next)
{
    size_t i;
    json_t *row;
    json_array_foreach(b->outbox, i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "state")), "pending") != 0)
            continue;
        int64_t at = json_integer_value(json_object_get(row, "_next_ms"));
        if (at <= now)
            return row;
        if (at < *next)
            *next = at;
    }
    return NULL;
}

/* Records one attempt on row and decides what follows: delivered on 2xx, dead-lettered on any other
 * answer below 500 (the receiver refused these bytes) or after the last attempt, else a retry. */
static void record(struct bad_oms *b, json_t *row, const struct oms_http_exchange *x, int64_t at_ms)
{
    json_int_t attempts = json_integer_value(json_object_get(row, "attempts")) + 1;
    json_int_t max = json_integer_value(json_object_get(row, "max_attempts"));
    int answered = x->result == 0;
    const char *state = "pending";
    json_t *retry_in = json_null();
    if (answered && x->status >= 200 && x->status < 300) {
        state = "delivered";
    } else if ((answered && x->status < 500) || attempts >= max) {
        state = "dead";
    } else {
        int64_t delay = oms_retry_delay_ms(json_object_get(row, "_retry"), attempts, &b->seed);
        json_object_set_new(row, "_next_ms", json_integer(oms_time_mono_ms() + delay));
        json_decref(retry_in);
        retry_in = json_integer(delay);
    }
    json_t *status = answered ? json_integer(x->status) : json_null();
    json_t *error = answered ? json_null() : json_string(x->error);
    json_array_append_new(json_object_get(row, "attempt_history"),
                          json_pack("{s:I, s:O, s:O, s:I, s:o}", "at_ms", (json_int_t)at_ms,
                                    "status", status, "error", error, "elapsed_ms",
                                    (json_int_t)(x->elapsed_us / 1000), "retry_in_ms", retry_in));
    json_object_set_new(row, "attempts", json_integer(attempts));
    json_object_set_new(row, "state", json_string(state));
    json_object_set_new(row, "last_status", status);
    json_object_set_new(row, "last_error", error);
}

/* With the lock held: sends row once, releasing the lock while the request is out. */
static void attempt(struct bad_oms *b, struct oms_http_client *c, json_t *row)
{
    char *method = oms_xstrdup(json_string_value(json_object_get(row, "method")));
    char *url = oms_xstrdup(json_string_value(json_object_get(row, "url")));
    char *body = oms_xstrdup(json_string_value(json_object_get(row, "body")));
    json_t *headers = json_object_get(row, "headers");
    char **lines = oms_xcalloc(json_object_size(headers) + 1, sizeof(char *));
    size_t n = 0;
    const char *name;
    json_t *v;
    json_object_foreach(headers, name, v)
    {
        size_t len = strlen(name) + json_string_length(v) + 3;
        lines[n] = oms_xmalloc(len);
        snprintf(lines[n++], len, "%s: %s", name, json_string_value(v));
    }
    struct oms_http_exchange x = {
        .method = method,
        .url = url,
        .headers = (const char *const *)lines,
        .header_count = n,
        .body = body,
        .body_len = strlen(body),
        .timeout_ms = (long)oms_profile_delivery_timeout_ms(b->profile),
    };
    json_incref(row);
    b->in_flight = 1;
    pthread_mutex_unlock(&b->lock);

    int64_t at = oms_time_wall_ms();
    oms_http_client_perform(c, &x);

    pthread_mutex_lock(&b->lock);
    b->in_flight = 0;
    /* A fixture load waits for in_flight == 0, so row is still part of the outbox here. */
    record(b, row, &x, at);
    json_decref(row);
    pthread_cond_broadcast(&b->changed);
    oms_http_exchange_cleanup(&x);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(method);
    free(url);
    free(body);
}

static void *worker(void *arg)
{
    struct bad_oms *b = arg;
    struct oms_http_client *c = oms_http_client_create();
    pthread_mutex_lock(&b->lock);
    while (!b->stopping) {
        int64_t now = oms_time_mono_ms(), next = now + IDLE_WAKE_MS;
        json_t *row = b->paused ? NULL : due_row(b, now, &next);
        if (row)
            attempt(b, c, row);
        else
            wait_until(b, next);
    }
    pthread_mutex_unlock(&b->lock);
    oms_http_client_destroy(c);
    return NULL;
}

int bad_delivery_start(struct bad_oms *b)
{
    if (pthread_create(&b->worker, NULL, worker, b) != 0)
        return -1;
    b->worker_started = 1;
    return 0;
}

void bad_delivery_stop(struct bad_oms *b)
{
    if (!b->worker_started)
        return;
    pthread_mutex_lock(&b->lock);
    b->stopping = 1;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->worker, NULL);
    b->worker_started = 0;
}

void bad_delivery_pause(struct bad_oms *b)
{
    b->paused++;
    while (b->in_flight)
        pthread_cond_wait(&b->changed, &b->lock);
}

void bad_delivery_resume(struct bad_oms *b)
{
    b->paused--;
    pthread_cond_broadcast(&b->changed);
}

json_t *bad_delivery_drain(struct bad_oms *b, int64_t timeout_ms)
{
    int64_t deadline = oms_time_mono_ms() + timeout_ms;
    json_int_t pending, delivered, dead;
    for (;;) {
        pending = delivered = dead = 0;
        size_t i;
        json_t *row;
        json_array_foreach(b->outbox, i, row)
        {
            const char *state = json_string_value(json_object_get(row, "state"));
            if (strcmp(state, "pending") == 0)
                pending++;
            else if (strcmp(state, "delivered") == 0)
                delivered++;
            else
                dead++;
        }
        if (pending == 0 || oms_time_mono_ms() >= deadline)
            break;
        wait_until(b, deadline);
    }
    return json_pack("{s:b, s:I, s:I, s:I, s:i}", "drained", pending == 0, "pending", pending,
                     "delivered", delivered, "dead", dead, "clock_advanced_ms", 0);
}
