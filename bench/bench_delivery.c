/* bench-delivery: outbound delivery of the reference to a healthy mock_webhook. Commands
 * (transition 17, fresh packages, 8 connections) go to an oms-reference child whose state has 1 or
 * 8 subscriptions (alternated round by round) posting to an in-process mock_webhook; Omnitron
 * calls go to a second in-process receiver. Per round: webhook events delivered per second (from
 * the first command sent to the last event received) and the delay from each command's 204 (client
 * wall clock) to its event's arrival (the journal's received_ms). */
#include "bench_control.h"
#include "bench_fixture.h"
#include "bench_servers.h"
#include "bench_stats.h"
#include "loadgen.h"
#include "mock_webhook.h"
#include "oms_cli.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 32
#define VARIANTS   2

static const unsigned SUBSCRIBERS[VARIANTS] = {1, 8};

struct options {
    struct bench_env env;
    const char *out;
    unsigned rounds;
    uint64_t commands;
    unsigned connections;
};

struct variant {
    unsigned subscribers;
    struct bench_proc ref;
    struct bench_commands cmds;
    double events_per_s[MAX_ROUNDS], commands_per_s[MAX_ROUNDS];
    double p50_ms[MAX_ROUNDS], p99_ms[MAX_ROUNDS];
    uint64_t missing; /* events expected but not received */
};

/* What the load generator saw of one round: when each command was answered. */
struct round_log {
    uint64_t first_id;
    int64_t *answered_us; /* by id - first_id; 0 when not 204 */
    uint64_t count;
};

static void on_done(void *ctx, uint64_t seq, long status, int64_t wall_us)
{
    struct round_log *log = ctx;
    if (seq < log->count && status == 204)
        log->answered_us[seq] = wall_us;
}

struct done_ctx {
    struct bench_commands *cmds;
    struct round_log *log;
};

static int next_cmd(void *ctx, uint64_t seq, struct loadgen_request *req)
{
    struct done_ctx *d = ctx;
    return bench_commands_next(d->cmds, seq, req);
}

static void done_cmd(void *ctx, uint64_t seq, long status, int64_t wall_us)
{
    struct done_ctx *d = ctx;
    on_done(d->log, seq, status, wall_us);
}

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.rounds = 3, .commands = 3000, .connections = 8};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        long n;
        int common = bench_common_option(a, v, &o->env, &o->out, &o->rounds, MAX_ROUNDS);
        if (common < 0)
            return -1;
        if (common > 0)
            continue;
        if (strcmp(a, "--commands") == 0 && oms_cli_int(v, 1, 1000000, &n) == 0)
            o->commands = (uint64_t)n;
        else if (strcmp(a, "--conns") == 0 && oms_cli_int(v, 1, 1024, &n) == 0)
            o->connections = (unsigned)n;
        else
            return -1;
    }
    return o->env.bindir && o->out ? 0 : -1;
}

static int round_run(const struct options *o, struct variant *v, unsigned round,
                     struct oms_recorder *hooks, struct oms_recorder *omnitron)
{
    oms_recorder_clear(hooks);
    oms_recorder_clear(omnitron);
    struct round_log log = {.first_id = v->cmds.next_id, .count = o->commands};
    log.answered_us = calloc(o->commands, sizeof(*log.answered_us));
    v->cmds.last_id = v->cmds.next_id + o->commands - 1;
    struct done_ctx d = {&v->cmds, &log};
    struct loadgen_config cfg = {
        .connections = o->connections,
        .duration_s = 3600,
        .max_requests = o->commands,
        .method = "POST",
        .headers = bench_command_headers,
        .header_count = bench_command_header_count,
        .next = next_cmd,
        .done = done_cmd,
        .ctx = &d,
    };
    int64_t start_us = loadgen_wall_us();
    struct loadgen_result r;
    int rc = loadgen_run(&cfg, &r);
    if (rc == 0 && !bench_drain(v->ref.url, 300000))
        fprintf(stderr, "bench-delivery: the outbox did not drain within 300 s\n");
    json_t *journal = rc == 0 ? oms_recorder_journal(hooks, NULL) : NULL;
    struct bench_samples delays;
    bench_samples_init(&delays);
    int64_t last_ms = 0;
    size_t i;
    json_t *e;
    json_array_foreach(journal, i, e)
    {
        int64_t received = json_integer_value(json_object_get(e, "received_ms"));
        json_t *payload = json_object_get(json_object_get(e, "json"), "payload");
        uint64_t id = (uint64_t)json_integer_value(json_object_get(payload, "id"));
        if (received > last_ms)
            last_ms = received;
        if (id < log.first_id || id - log.first_id >= log.count ||
            !log.answered_us[id - log.first_id])
            continue;
        bench_samples_add(&delays,
                          (double)received - (double)log.answered_us[id - log.first_id] / 1000.0);
    }
    uint64_t events = json_array_size(journal);
    uint64_t expected = r.ok * v->subscribers;
    v->missing += expected > events ? expected - events : 0;
    double span_s = (double)last_ms / 1000.0 - (double)start_us / 1e6;
    v->events_per_s[round] = span_s > 0 ? (double)events / span_s : 0;
    v->commands_per_s[round] = r.rps;
    v->p50_ms[round] = bench_samples_pct(&delays, 50);
    v->p99_ms[round] = bench_samples_pct(&delays, 99);
    fprintf(stderr,
            "  %u subscriber(s) round %u: %llu events, %8.0f events/s (commands %6.0f/s), "
            "delay p50 %.1f ms p99 %.1f ms\n",
            v->subscribers, round + 1, (unsigned long long)events, v->events_per_s[round], r.rps,
            v->p50_ms[round], v->p99_ms[round]);
    bench_samples_cleanup(&delays);
    json_decref(journal);
    free(log.answered_us);
    return rc;
}

int main(int argc, char **argv)
{
    static struct options o;
    static struct variant vs[VARIANTS];
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-delivery --bindir DIR --out FILE [--rounds N]\n"
                        "       [--commands N] [--conns N] [--log FILE]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct oms_recorder *hooks = NULL, *omnitron = NULL;
    struct oms_err err = {0};
    struct mock_webhook_config wc = {.status = 200};
    int rc = 3;
    if (mock_webhook_start(&wc, &hooks, &err) != 0 ||
        mock_webhook_start(&wc, &omnitron, &err) != 0) {
        fprintf(stderr, "bench-delivery: %s\n", err.message);
        goto done;
    }
    for (int k = 0; k < VARIANTS; k++) {
        struct variant *v = &vs[k];
        v->subscribers = SUBSCRIBERS[k];
        if (bench_start_reference(&o.env, NULL, &v->ref) != 0)
            goto done;
        struct bench_fixture_spec spec = {
            .packages = o.commands * o.rounds,
            .quota = -1,
            .omnitron = oms_recorder_url(omnitron),
            .hooks = oms_recorder_url(hooks),
            .subscriptions = v->subscribers,
        };
        size_t len;
        char *doc = bench_fixture_text(&spec, &len);
        long status = bench_fixture_put(v->ref.url, doc, len, NULL);
        free(doc);
        if (status != 204)
            goto done;
        snprintf(v->cmds.base, sizeof(v->cmds.base), "%s", v->ref.url);
        v->cmds.next_id = 1;
    }
    for (unsigned round = 0; round < o.rounds; round++)
        for (int k = 0; k < VARIANTS; k++)
            if (round_run(&o, &vs[k], round, hooks, omnitron) != 0)
                goto done;
    json_t *variants = json_array();
    for (int k = 0; k < VARIANTS; k++) {
        struct variant *v = &vs[k];
        json_array_append_new(
            variants,
            json_pack("{s:i, s:f, s:f, s:f, s:f, s:I}", "subscribers", (int)v->subscribers,
                      "events_per_s", bench_median(v->events_per_s, o.rounds), "commands_per_s",
                      bench_median(v->commands_per_s, o.rounds), "delay_p50_ms",
                      bench_median(v->p50_ms, o.rounds), "delay_p99_ms",
                      bench_median(v->p99_ms, o.rounds), "missing_events", (json_int_t)v->missing));
    }
    json_t *doc = json_pack("{s:s, s:i, s:I, s:i, s:o}", "benchmark", "delivery", "rounds",
                            (int)o.rounds, "commands_per_round", (json_int_t)o.commands,
                            "connections", (int)o.connections, "variants", variants);
    rc = json_dump_file(doc, o.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    json_decref(doc);
done:
    for (int k = 0; k < VARIANTS; k++)
        bench_proc_stop(&vs[k].ref);
    oms_recorder_stop(hooks);
    oms_recorder_stop(omnitron);
    curl_global_cleanup();
    return rc;
}
