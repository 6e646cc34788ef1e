/* crash: a burst, a kill -9 at a chosen answer, a restart. */
#include "crash.h"

#include "oms_alloc.h"
#include "oms_http_client.h"
#include "oms_json.h"
#include "oms_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_WAIT_MS 100

const char *crash_fate_name(enum crash_fate f)
{
    switch (f) {
    case CRASH_NOT_SENT:
        return "not sent";
    case CRASH_ANSWERED:
        return "answered";
    case CRASH_IN_FLIGHT:
        return "in flight";
    }
    return "?";
}

/* splitmix64: a small, well-mixed generator; the same seed gives the same moment everywhere. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

size_t crash_random_after(uint64_t seed, size_t n, size_t c)
{
    if (n <= 1)
        return 1;
    size_t range = n > c ? n - c : n - 1;
    if (range == 0)
        range = 1;
    return 1 + (size_t)(mix(seed) % range);
}

uint64_t crash_step_seed(const json_t *crash, uint64_t run_seed, const char *name, size_t index)
{
    const json_t *own = json_object_get(crash, "seed");
    if (json_is_integer(own))
        return (uint64_t)json_integer_value(own);
    uint64_t h = 1469598103934665603ULL; /* FNV-1a of the scenario's name */
    for (const char *p = name ? name : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    /* Below 2^53, so it survives a round trip through JSON numbers in any language. */
    return mix(run_seed ^ h ^ mix(index)) & ((1ULL << 53) - 1);
}

int64_t *crash_burst_packages(const json_t *burst, size_t *n)
{
    const json_t *packages = json_object_get(burst, "packages");
    int64_t *ids;
    if (json_is_array(packages)) {
        *n = json_array_size(packages);
        ids = oms_xcalloc(*n + 1, sizeof(*ids));
        for (size_t i = 0; i < *n; i++)
            ids[i] = json_integer_value(json_array_get(packages, i));
        return ids;
    }
    int64_t first = json_integer_value(json_object_get(packages, "first"));
    json_int_t count = json_integer_value(json_object_get(packages, "count"));
    *n = count > 0 ? (size_t)count : 0;
    ids = oms_xcalloc(*n + 1, sizeof(*ids));
    for (size_t i = 0; i < *n; i++)
        ids[i] = first + (int64_t)i;
    return ids;
}

/* The burst's requests, alive while the pool holds them. */
struct burst_io {
    struct oms_http_exchange *xs;
    char **urls;
    char **bodies;
    char *lines[2];
};

static void io_init(struct burst_io *io, struct target *t, const char *token,
                    const struct crash_run *r)
{
    io->xs = oms_xcalloc(r->count + 1, sizeof(*io->xs));
    io->urls = oms_xcalloc(r->count + 1, sizeof(char *));
    io->bodies = oms_xcalloc(r->count + 1, sizeof(char *));
    size_t size = strlen(token) + 32;
    io->lines[0] = oms_xmalloc(size);
    snprintf(io->lines[0], size, "Authorization: Token %s", token);
    io->lines[1] = oms_xstrdup("Content-Type: application/json");
    for (size_t i = 0; i < r->count; i++) {
        size = strlen(target_oms_url(t)) + 64;
        io->urls[i] = oms_xmalloc(size);
        snprintf(io->urls[i], size, "%s/api/v1/oms/packages/%lld/command/", target_oms_url(t),
                 (long long)r->commands[i].package);
        io->bodies[i] = oms_json_dumps(r->commands[i].body);
        struct oms_http_exchange *x = &io->xs[i];
        x->method = "POST";
        x->url = io->urls[i];
        x->headers = (const char *const *)io->lines;
        x->header_count = 2;
        x->body = io->bodies[i];
        x->body_len = strlen(io->bodies[i]);
        x->timeout_ms = target_timeout_ms(t);
        /* Each command on a connection of its own: the kill must cut every one in flight. */
        x->idempotent = 0;
    }
}

static void io_cleanup(struct burst_io *io, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        oms_http_exchange_cleanup(&io->xs[i]);
        free(io->urls[i]);
        free(io->bodies[i]);
    }
    free(io->xs);
    free(io->urls);
    free(io->bodies);
    free(io->lines[0]);
    free(io->lines[1]);
}

/* Records how one exchange ended. An answer that reached this side before the kill's effect is an
 * answer the target gave, whenever it is read. */
static void settle(struct crash_run *r, size_t i, const struct oms_http_exchange *x, int killed)
{
    struct crash_command *c = &r->commands[i];
    if (x->result == 0) {
        c->fate = CRASH_ANSWERED;
        c->status = x->status;
    } else {
        c->fate = CRASH_IN_FLIGHT;
        c->before_kill = !killed;
        snprintf(c->error, sizeof(c->error), "%s", x->error);
    }
}

/* Sends the burst and kills the target at the chosen answer. */
static int run_burst(struct target *t, struct sut *s, const char *token, struct crash_run *r,
                     int64_t started_us, struct oms_err *err)
{
    struct burst_io io;
    io_init(&io, t, token, r);
    struct oms_http_pool *pool = oms_http_pool_create();
    struct oms_http_exchange **done = oms_xcalloc(r->count + 1, sizeof(*done));
    size_t next = 0, answered = 0;
    int killed = 0, rc = 0, sending = 1;
    int64_t kill_at_ms = -1; /* with delay_ms: when the kill is due */
    for (;;) {
        while (sending && next < r->count && oms_http_pool_active(pool) < r->concurrent)
            oms_http_pool_add(pool, &io.xs[next++]);
        if (!killed && kill_at_ms >= 0 && oms_time_mono_ms() >= kill_at_ms) {
            r->answered_at_kill = answered;
            r->kill_ms = (double)(oms_time_mono_us() - started_us) / 1000.0;
            rc = sut_kill(s, err);
            killed = 1;
        }
        if (oms_http_pool_active(pool) == 0) {
            if (killed || (kill_at_ms < 0 && next == r->count))
                break;
            if (kill_at_ms >= 0) {
                /* Everything answered within the delay: wait out the rest of it. */
                int64_t left = kill_at_ms - oms_time_mono_ms();
                if (left > 0)
                    oms_time_sleep_ms(left);
                continue;
            }
        }
        int wait = RUN_WAIT_MS;
        if (!killed && kill_at_ms >= 0) {
            int64_t left = kill_at_ms - oms_time_mono_ms();
            wait = left < 1 ? 0 : left < RUN_WAIT_MS ? (int)left : RUN_WAIT_MS;
        }
        size_t n = oms_http_pool_run(pool, wait, done, r->count);
        for (size_t k = 0; k < n; k++) {
            size_t i = (size_t)(done[k] - io.xs);
            settle(r, i, done[k], killed);
            if (killed || done[k]->result != 0)
                continue;
            answered++;
            if (answered == r->kill_after && kill_at_ms < 0) {
                /* The moment: no new command from here on; the kill now, or after the delay. */
                sending = 0;
                kill_at_ms = oms_time_mono_ms() + r->delay_ms;
                if (r->delay_ms == 0) {
                    r->answered_at_kill = answered;
                    r->kill_ms = (double)(oms_time_mono_us() - started_us) / 1000.0;
                    rc = sut_kill(s, err);
                    killed = 1;
                }
            }
        }
    }
    if (!killed) {
        /* Transport failures kept the answers below the chosen one: kill at the end. */
        r->answered_at_kill = answered;
        r->kill_ms = (double)(oms_time_mono_us() - started_us) / 1000.0;
        rc = sut_kill(s, err);
    }
    free(done);
    oms_http_pool_destroy(pool);
    io_cleanup(&io, r->count);
    return rc;
}

/* Readiness of the restarted target: its fixture handshake, through the target's own client. */
static int probe_target(void *arg, struct oms_err *err)
{
    json_t *doc = NULL;
    int rc = target_capabilities(arg, &doc, err);
    json_decref(doc);
    return rc;
}

int crash_execute(struct target *t, struct sut *s, const char *token,
                  const struct scenario_step *st, uint64_t seed, struct crash_run *out,
                  struct oms_err *err)
{
    memset(out, 0, sizeof(*out));
    const json_t *crash = st->request;
    const json_t *burst = json_object_get(crash, "burst");
    int64_t started = oms_time_mono_us();
    int rc = 0;
    if (burst) {
        int64_t *ids = crash_burst_packages(burst, &out->count);
        out->commands = oms_xcalloc(out->count + 1, sizeof(*out->commands));
        const json_t *body = json_object_get(burst, "body");
        for (size_t i = 0; i < out->count; i++) {
            out->commands[i].package = ids[i];
            out->commands[i].body = json_deep_copy(body);
            json_object_set_new(out->commands[i].body, "package", json_integer(ids[i]));
        }
        free(ids);
        json_int_t c = json_integer_value(json_object_get(burst, "concurrent"));
        out->concurrent = c > 0 ? (size_t)c : CRASH_DEFAULT_CONCURRENT;
        if (out->concurrent > out->count)
            out->concurrent = out->count;
        out->delay_ms = json_integer_value(json_object_get(crash, "delay_ms"));
        if (json_object_get(crash, "at")) {
            out->random = 1;
            out->seed = seed;
            out->kill_after = crash_random_after(seed, out->count, out->concurrent);
        } else {
            out->kill_after = (size_t)json_integer_value(json_object_get(crash, "after"));
        }
        rc = run_burst(t, s, token, out, started, err);
    } else {
        rc = sut_kill(s, err);
        out->kill_ms = (double)(oms_time_mono_us() - started) / 1000.0;
    }
    if (rc != 0)
        return rc;
    int64_t killed = oms_time_mono_us();
    sut_set_probe(s, probe_target, t);
    rc = sut_restart(s, err);
    out->restart_ms = (double)(oms_time_mono_us() - killed) / 1000.0;
    if (rc != 0)
        return rc;
    const char *which;
    json_t *behaviour;
    json_object_foreach(json_object_get(crash, "receivers"), which, behaviour)
    {
        rc = target_receiver_configure(t, which, behaviour, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void crash_run_cleanup(struct crash_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        json_decref(r->commands[i].body);
    free(r->commands);
    memset(r, 0, sizeof(*r));
}

char *crash_describe(const struct crash_run *r, char *out, size_t size)
{
    if (r->count == 0) {
        snprintf(out, size, "kill -9 the target now, restart it");
        return out;
    }
    char how[96] = "";
    if (r->random)
        snprintf(how, sizeof(how), "; random, seed %llu", (unsigned long long)r->seed);
    char delay[48] = "";
    if (r->delay_ms)
        snprintf(delay, sizeof(delay), " + %lld ms", (long long)r->delay_ms);
    snprintf(out, size,
             "burst of %zu commands (%zu at once), kill -9 after answer %zu%s%s, restart it",
             r->count, r->concurrent, r->kill_after, delay, how);
    return out;
}
