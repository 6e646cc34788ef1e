/* bench-delivery: whether the reference's deliveries keep up with its commands. Commands
 * (transition 17, fresh packages) go to an oms-reference child whose state has 1 or 8
 * subscriptions (alternated round by round) posting to an in-process webhook receiver; Omnitron
 * calls go to a second in-process receiver. Each round has two phases of the same length: full
 * load (closed loop at --conns connections), then half load (an open loop at half the command rate
 * the full phase measured). For each phase: commands/s, deliveries/s (webhook events arrived during
 * the phase), the backlog of events still owed when it ended, how long they took to arrive, and the
 * delay from each command's 204 (client wall clock) to its events' arrival (the receiver's wall
 * clock when its handler ran). */
#include "bench_control.h"
#include "bench_fixture.h"
#include "bench_servers.h"
#include "bench_stats.h"
#include "loadgen.h"
#include "oms_cli.h"
#include "oms_recorder.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 32
#define VARIANTS   2
#define PHASES     2

static const unsigned SUBSCRIBERS[VARIANTS] = {1, 8};
static const char *const PHASE_NAMES[PHASES] = {"full", "half"};

struct options {
    struct bench_env env;
    const char *out;
    unsigned rounds;
    double duration_s;
    double warmup_s;
    unsigned connections;
    uint64_t packages;
};

/* What the receivers saw: each arrival's package and wall clock (us). Filled by their handler
 * threads. */
struct arrivals {
    pthread_mutex_t mu;
    uint64_t *id;
    int64_t *at_us;
    size_t n, cap;
};

static int64_t wall_us(void)
{
    return loadgen_wall_us();
}

static void arrivals_add(struct arrivals *a, uint64_t id, int64_t at)
{
    pthread_mutex_lock(&a->mu);
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 65536;
        a->id = realloc(a->id, a->cap * sizeof(*a->id));
        a->at_us = realloc(a->at_us, a->cap * sizeof(*a->at_us));
        if (!a->id || !a->at_us) {
            fprintf(stderr, "bench-delivery: out of memory\n");
            abort();
        }
    }
    a->id[a->n] = id;
    a->at_us[a->n] = at;
    a->n++;
    pthread_mutex_unlock(&a->mu);
}

static void arrivals_clear(struct arrivals *a)
{
    pthread_mutex_lock(&a->mu);
    a->n = 0;
    pthread_mutex_unlock(&a->mu);
}

/* Webhook receiver: the event's package id. */
static int on_hook(void *ctx, const struct oms_http_request *req, const json_t *body,
                   struct oms_http_response *resp)
{
    (void)req;
    (void)resp;
    const json_t *id = json_object_get(json_object_get(body, "payload"), "id");
    arrivals_add(ctx, (uint64_t)json_integer_value(id), wall_us());
    return 0;
}

/* Omnitron receiver: only counted. */
static int on_omnitron(void *ctx, const struct oms_http_request *req, const json_t *body,
                       struct oms_http_response *resp)
{
    (void)req;
    (void)body;
    (void)resp;
    arrivals_add(ctx, 0, wall_us());
    return 0;
}

struct phase {
    double commands_per_s[MAX_ROUNDS];
    double deliveries_per_s[MAX_ROUNDS]; /* webhook events arrived during the phase */
    double omnitron_per_s[MAX_ROUNDS];
    double keep_up[MAX_ROUNDS];     /* deliveries/s over commands/s x subscribers */
    double backlog[MAX_ROUNDS];     /* events owed when the phase ended */
    double catch_up_ms[MAX_ROUNDS]; /* from the phase's end to its last event */
    double p50_ms[MAX_ROUNDS], p99_ms[MAX_ROUNDS];
    double rate[MAX_ROUNDS]; /* half: the rate asked for */
    uint64_t missing;        /* events of 204-answered commands that never arrived */
};

struct variant {
    unsigned subscribers;
    struct bench_proc ref;
    struct bench_commands cmds;
    struct phase phases[PHASES];
};

/* When each command of a phase was answered 204 (wall us; 0 otherwise), by seq. */
struct answers {
    int64_t *at_us;
    uint64_t cap;
};

struct load_ctx {
    struct bench_commands *cmds;
    struct answers *answers;
};

static int next_cmd(void *ctx, uint64_t seq, struct loadgen_request *req)
{
    struct load_ctx *l = ctx;
    return seq >= l->answers->cap ? 1 : bench_commands_next(l->cmds, seq, req);
}

static void done_cmd(void *ctx, uint64_t seq, long status, int64_t at)
{
    struct load_ctx *l = ctx;
    if (seq < l->answers->cap && status == 204)
        l->answers->at_us[seq] = at;
}

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){
        .rounds = 3, .duration_s = 2, .warmup_s = 0.3, .connections = 32, .packages = 600000};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        long n;
        int common = bench_common_option(a, v, &o->env, &o->out, &o->rounds, MAX_ROUNDS);
        if (common < 0)
            return -1;
        if (common > 0)
            continue;
        if (strcmp(a, "--duration") == 0)
            o->duration_s = strtod(v, NULL);
        else if (strcmp(a, "--warmup") == 0)
            o->warmup_s = strtod(v, NULL);
        else if (strcmp(a, "--conns") == 0 && oms_cli_int(v, 1, 1024, &n) == 0)
            o->connections = (unsigned)n;
        else if (strcmp(a, "--packages") == 0 && oms_cli_int(v, 1000, 100000000, &n) == 0)
            o->packages = (uint64_t)n;
        else
            return -1;
    }
    return o->env.bindir && o->out && o->duration_s > 0 ? 0 : -1;
}

struct receivers {
    struct oms_recorder *hooks, *omnitron;
    struct arrivals hook_arrivals, omnitron_arrivals;
};

/* One phase: the load (rate 0: closed loop), a drain, and its figures in ph at round. */
static int phase_run(const struct options *o, struct variant *v, struct receivers *rx, int which,
                     unsigned round, double rate)
{
    struct phase *ph = &v->phases[which];
    arrivals_clear(&rx->hook_arrivals);
    arrivals_clear(&rx->omnitron_arrivals);
    oms_recorder_clear(rx->hooks);
    oms_recorder_clear(rx->omnitron);
    struct answers answers;
    answers.cap = v->cmds.last_id >= v->cmds.next_id ? v->cmds.last_id - v->cmds.next_id + 1 : 0;
    answers.at_us = calloc(answers.cap ? answers.cap : 1, sizeof(*answers.at_us));
    uint64_t first_id = v->cmds.next_id;
    struct load_ctx l = {&v->cmds, &answers};
    struct loadgen_config cfg = {
        .connections = o->connections,
        .warmup_s = o->warmup_s,
        .duration_s = o->duration_s,
        .rate = rate,
        .method = "POST",
        .headers = bench_command_headers,
        .header_count = bench_command_header_count,
        .next = next_cmd,
        .done = done_cmd,
        .ctx = &l,
    };
    int64_t start = wall_us();
    int64_t t0 = start + (int64_t)(o->warmup_s * 1e6);
    int64_t t_end = t0 + (int64_t)(o->duration_s * 1e6);
    struct loadgen_result r;
    int rc = loadgen_run(&cfg, &r);
    if (rc == 0 && !bench_drain(v->ref.url, 300000))
        fprintf(stderr, "bench-delivery: the outbox did not drain within 300 s\n");
    if (r.seconds < o->duration_s * 0.99)
        fprintf(stderr, "bench-delivery: the phase ran out of packages (raise --packages)\n");

    /* Events: by the phase's end, and in all; delays of the commands answered in the window. */
    pthread_mutex_lock(&rx->hook_arrivals.mu);
    struct bench_samples delays;
    bench_samples_init(&delays);
    uint64_t in_window = 0, by_end = 0, events = 0;
    int64_t last = 0;
    for (size_t i = 0; i < rx->hook_arrivals.n; i++) {
        uint64_t id = rx->hook_arrivals.id[i];
        int64_t at = rx->hook_arrivals.at_us[i];
        if (id < first_id || id - first_id >= answers.cap)
            continue;
        events++;
        in_window += at >= t0 && at <= t_end;
        by_end += at <= t_end;
        last = at > last ? at : last;
        int64_t answered = answers.at_us[id - first_id];
        if (answered >= t0 && answered <= t_end)
            bench_samples_add(&delays, (double)(at - answered) / 1000.0);
    }
    pthread_mutex_unlock(&rx->hook_arrivals.mu);
    pthread_mutex_lock(&rx->omnitron_arrivals.mu);
    uint64_t omni = 0;
    for (size_t i = 0; i < rx->omnitron_arrivals.n; i++)
        omni += rx->omnitron_arrivals.at_us[i] >= t0 && rx->omnitron_arrivals.at_us[i] <= t_end;
    pthread_mutex_unlock(&rx->omnitron_arrivals.mu);
    uint64_t answered_by_end = 0, answered_all = 0;
    for (uint64_t k = 0; k < answers.cap; k++) {
        answered_all += answers.at_us[k] != 0;
        answered_by_end += answers.at_us[k] != 0 && answers.at_us[k] <= t_end;
    }
    uint64_t owed = answered_by_end * v->subscribers;
    uint64_t expected = answered_all * v->subscribers;
    ph->missing += expected > events ? expected - events : 0;
    double window = o->duration_s;
    ph->commands_per_s[round] = r.rps;
    ph->deliveries_per_s[round] = (double)in_window / window;
    ph->omnitron_per_s[round] = (double)omni / window;
    ph->keep_up[round] = r.rps > 0 ? ph->deliveries_per_s[round] / (r.rps * v->subscribers) : 0;
    ph->backlog[round] = owed > by_end ? (double)(owed - by_end) : 0;
    ph->catch_up_ms[round] = last > t_end ? (double)(last - t_end) / 1000.0 : 0;
    ph->p50_ms[round] = bench_samples_pct(&delays, 50);
    ph->p99_ms[round] = bench_samples_pct(&delays, 99);
    ph->rate[round] = rate;
    fprintf(stderr,
            "  %u subscriber(s) round %u %-4s: commands %7.0f/s, deliveries %7.0f/s (%5.1f%% of "
            "commands x subscribers), Omnitron %7.0f/s, backlog at end %6.0f, caught up in %7.1f "
            "ms, 204->arrival p50 %6.2f ms p99 %7.2f ms\n",
            v->subscribers, round + 1, PHASE_NAMES[which], r.rps, ph->deliveries_per_s[round],
            100 * ph->keep_up[round], ph->omnitron_per_s[round], ph->backlog[round],
            ph->catch_up_ms[round], ph->p50_ms[round], ph->p99_ms[round]);
    bench_samples_cleanup(&delays);
    free(answers.at_us);
    return rc;
}

static json_t *phase_json(const struct phase *ph, unsigned n)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "commands_per_s",
                     bench_median(ph->commands_per_s, n), "deliveries_per_s",
                     bench_median(ph->deliveries_per_s, n), "omnitron_per_s",
                     bench_median(ph->omnitron_per_s, n), "keep_up", bench_median(ph->keep_up, n),
                     "backlog_at_end", bench_median(ph->backlog, n), "catch_up_ms",
                     bench_median(ph->catch_up_ms, n), "delay_p50_ms", bench_median(ph->p50_ms, n),
                     "delay_p99_ms", bench_median(ph->p99_ms, n), "rate", bench_median(ph->rate, n),
                     "missing_events", (json_int_t)ph->missing);
}

static int start_receiver(oms_recorder_inspect_fn fn, struct arrivals *a, struct oms_recorder **out)
{
    struct oms_err err = {0};
    struct oms_recorder_config c = {
        .name = "bench-receiver",
        .status = 200,
        .inspect = fn,
        .inspect_ctx = a,
        .journal_limit = 1000, /* the arrivals are what is measured */
    };
    if (oms_recorder_start(&c, out, &err) != 0) {
        fprintf(stderr, "bench-delivery: %s\n", err.message);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct options o;
    static struct variant vs[VARIANTS];
    static struct receivers rx;
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-delivery --bindir DIR --out FILE [--rounds N]\n"
                        "       [--duration S] [--warmup S] [--conns N] [--packages N] "
                        "[--log FILE]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_init(&rx.hook_arrivals.mu, NULL);
    pthread_mutex_init(&rx.omnitron_arrivals.mu, NULL);
    int rc = 3;
    if (start_receiver(on_hook, &rx.hook_arrivals, &rx.hooks) != 0 ||
        start_receiver(on_omnitron, &rx.omnitron_arrivals, &rx.omnitron) != 0)
        goto done;
    for (int k = 0; k < VARIANTS; k++) {
        struct variant *v = &vs[k];
        v->subscribers = SUBSCRIBERS[k];
        if (bench_start_reference(&o.env, NULL, &v->ref) != 0)
            goto done;
        struct bench_fixture_spec spec = {
            .packages = o.packages,
            .quota = -1,
            .omnitron = oms_recorder_url(rx.omnitron),
            .hooks = oms_recorder_url(rx.hooks),
            .subscriptions = v->subscribers,
            .generate = 1,
        };
        size_t len;
        char *doc = bench_fixture_text(&spec, &len);
        long status = bench_fixture_put(v->ref.url, doc, len, NULL);
        free(doc);
        if (status != 204)
            goto done;
        snprintf(v->cmds.base, sizeof(v->cmds.base), "%s", v->ref.url);
        v->cmds.next_id = 1;
        v->cmds.last_id = o.packages;
    }
    for (unsigned round = 0; round < o.rounds; round++)
        for (int k = 0; k < VARIANTS; k++) {
            struct variant *v = &vs[k];
            if (phase_run(&o, v, &rx, 0, round, 0) != 0 ||
                phase_run(&o, v, &rx, 1, round, v->phases[0].commands_per_s[round] / 2) != 0)
                goto done;
        }
    json_t *variants = json_array();
    for (int k = 0; k < VARIANTS; k++) {
        struct variant *v = &vs[k];
        json_array_append_new(variants,
                              json_pack("{s:i, s:o, s:o}", "subscribers", (int)v->subscribers,
                                        "full", phase_json(&v->phases[0], o.rounds), "half",
                                        phase_json(&v->phases[1], o.rounds)));
    }
    json_t *doc = json_pack("{s:s, s:i, s:f, s:i, s:o}", "benchmark", "delivery", "rounds",
                            (int)o.rounds, "duration_s", o.duration_s, "connections",
                            (int)o.connections, "variants", variants);
    rc = json_dump_file(doc, o.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    json_decref(doc);
done:
    for (int k = 0; k < VARIANTS; k++)
        bench_proc_stop(&vs[k].ref);
    oms_recorder_stop(rx.hooks);
    oms_recorder_stop(rx.omnitron);
    free(rx.hook_arrivals.id);
    free(rx.hook_arrivals.at_us);
    free(rx.omnitron_arrivals.id);
    free(rx.omnitron_arrivals.at_us);
    curl_global_cleanup();
    return rc;
}
