/* bench-scale: how the reference's time per command moves with the size of its state. One
 * oms-reference child per size (1k, 10k, 100k, 1M packages by default), each seeded through the
 * fixture protocol, then rounds of sequential commands (1 connection, each on a fresh Waiting
 * package) alternating over the sizes. Every window has the same number of commands at every
 * size (1000 by default; a state too small for the next window is seeded again first). Also:
 * seeding time (one PUT asking the reference to generate the packages, so the document stays small
 * at any size) and each child's peak RSS (VmHWM). */
#include "bench_control.h"
#include "bench_fixture.h"
#include "bench_servers.h"
#include "bench_stats.h"
#include "loadgen.h"
#include "oms_cli.h"
#include "oms_time.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIZES  8
#define MAX_ROUNDS 32

struct options {
    struct bench_env env;
    const char *out;
    unsigned rounds;
    uint64_t sizes[MAX_SIZES];
    size_t size_count;
    uint64_t commands;
};

struct size_run {
    uint64_t size;
    struct bench_proc ref;
    struct bench_commands cmds;
    uint64_t per_window;
    double mean[MAX_ROUNDS], p50[MAX_ROUNDS], p99[MAX_ROUNDS];
    uint64_t bad;
    json_t *seed; /* what seeding took */
    long hwm_after_seed_kb;
};

static int parse_sizes(const char *s, struct options *o)
{
    uint64_t v[MAX_SIZES];
    o->size_count = bench_parse_list(s, 1, 100000000, v, MAX_SIZES);
    for (size_t i = 0; i < o->size_count; i++)
        o->sizes[i] = v[i];
    return o->size_count ? 0 : -1;
}

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.rounds = 3, .commands = 1000};
    parse_sizes("1000,10000,100000,1000000", o);
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        long n;
        int common = bench_common_option(a, v, &o->env, &o->out, &o->rounds, MAX_ROUNDS);
        if (common < 0)
            return -1;
        if (common > 0)
            continue;
        if (strcmp(a, "--commands") == 0 && oms_cli_int(v, 1, 10000000, &n) == 0)
            o->commands = (uint64_t)n;
        else if (strcmp(a, "--sizes") == 0 && parse_sizes(v, o) == 0)
            continue;
        else
            return -1;
    }
    return o->env.bindir && o->out ? 0 : -1;
}

/* Seeds run->ref with run->size packages through the fixture protocol's bulk generation (one small
 * PUT, whatever the size); fills run->seed. Returns 0 or -1. */
static int seed(struct size_run *run, const struct bench_proc *receiver)
{
    struct bench_fixture_spec spec = {
        .packages = run->size,
        .quota = -1,
        .omnitron = receiver->url,
        .hooks = receiver->url,
        .subscriptions = 1,
        .generate = 1,
    };
    size_t len = 0;
    char *doc = bench_fixture_text(&spec, &len);
    double put_s = 0;
    long status = bench_fixture_put(run->ref.url, doc, len, &put_s);
    free(doc);
    run->seed =
        json_pack("{s:I, s:f, s:i, s:s, s:f, s:f}", "packages", (json_int_t)run->size,
                  "document_bytes", (double)len, "put_status", (int)status, "method", "generate",
                  "seed_s", put_s, "packages_per_s", put_s > 0 ? (double)run->size / put_s : 0.0);
    return status == 204 ? 0 : -1;
}

static int window(struct size_run *run, unsigned round, const struct bench_proc *receiver)
{
    struct bench_commands *c = &run->cmds;
    if (c->next_id + run->per_window - 1 > run->size) {
        /* Too few fresh packages left (small states): the same state again, so that this window
         * is as long as at the other sizes; only the first seeding is reported. Large states are
         * never seeded twice, which would leave their memory fragmented. */
        json_t *first = run->seed;
        int rc = seed(run, receiver);
        json_decref(run->seed);
        run->seed = first;
        if (rc != 0)
            return -1;
        c->next_id = 1;
    }
    c->last_id = c->next_id + run->per_window - 1;
    struct loadgen_config cfg = {
        .connections = 1,
        .duration_s = 3600,
        .max_requests = run->per_window,
        .method = "POST",
        .headers = bench_command_headers,
        .header_count = bench_command_header_count,
        .next = bench_commands_next,
        .ctx = c,
    };
    struct loadgen_result r;
    if (loadgen_run(&cfg, &r) != 0)
        return -1;
    run->mean[round] = r.mean_us;
    run->p50[round] = r.p50_us;
    run->p99[round] = r.p99_us;
    run->bad += r.non2xx + r.errors;
    fprintf(stderr, "  %8llu packages round %u: %7.1f us/command (p50 %6.0f, p99 %6.0f)%s\n",
            (unsigned long long)run->size, round + 1, r.mean_us, r.p50_us, r.p99_us,
            r.non2xx + r.errors ? "  (some answers were not 2xx)" : "");
    bench_drain(run->ref.url, 120000);
    bench_receiver_clear(receiver);
    return 0;
}

int main(int argc, char **argv)
{
    static struct options o;
    static struct size_run runs[MAX_SIZES];
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-scale --bindir DIR --out FILE [--sizes 1000,10000,...]\n"
                        "       [--rounds N] [--commands N] [--log FILE]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct bench_proc receiver;
    int rc = 3;
    if (bench_start_receiver(&o.env, &receiver) != 0)
        return 3;
    for (size_t i = 0; i < o.size_count; i++) {
        struct size_run *run = &runs[i];
        run->size = o.sizes[i];
        run->per_window = o.commands < run->size ? o.commands : run->size;
        fprintf(stderr, "  seeding %llu packages\n", (unsigned long long)run->size);
        if (bench_start_reference(&o.env, NULL, &run->ref) != 0 || seed(run, &receiver) != 0) {
            fprintf(stderr, "bench-scale: seeding %llu packages failed\n",
                    (unsigned long long)run->size);
            goto done;
        }
        run->hwm_after_seed_kb = bench_proc_hwm_kb(&run->ref);
        fprintf(stderr, "  seeded %llu packages in %.2f s (%s), VmHWM %ld kB\n",
                (unsigned long long)run->size,
                json_real_value(json_object_get(run->seed, "seed_s")),
                json_string_value(json_object_get(run->seed, "method")), run->hwm_after_seed_kb);
        snprintf(run->cmds.base, sizeof(run->cmds.base), "%s", run->ref.url);
        run->cmds.next_id = 1;
    }
    for (unsigned round = 0; round < o.rounds; round++)
        for (size_t i = 0; i < o.size_count; i++)
            if (window(&runs[i], round, &receiver) != 0)
                goto done;

    json_t *sizes = json_array();
    double x[MAX_SIZES], y[MAX_SIZES];
    for (size_t i = 0; i < o.size_count; i++) {
        struct size_run *run = &runs[i];
        x[i] = log10((double)run->size);
        y[i] = bench_median(run->mean, o.rounds);
        json_array_append_new(sizes,
                              json_pack("{s:I, s:I, s:f, s:f, s:f, s:I, s:o, s:I, s:I, s:I}",
                                        "packages", (json_int_t)run->size, "commands_per_window",
                                        (json_int_t)run->per_window, "us_per_command", y[i],
                                        "p50_us", bench_median(run->p50, o.rounds), "p99_us",
                                        bench_median(run->p99, o.rounds), "not_2xx",
                                        (json_int_t)run->bad, "seed", json_incref(run->seed),
                                        "vmhwm_kb_after_seed", (json_int_t)run->hwm_after_seed_kb,
                                        "vmhwm_kb", (json_int_t)bench_proc_hwm_kb(&run->ref),
                                        "vmrss_kb", (json_int_t)bench_proc_rss_kb(&run->ref)));
    }
    size_t last = o.size_count - 1;
    json_t *doc =
        json_pack("{s:s, s:i, s:o, s:f, s:f}", "benchmark", "scale", "rounds", (int)o.rounds,
                  "sizes", sizes, "slope_us_per_decade", bench_slope(x, y, o.size_count),
                  "ratio_largest_to_smallest", y[0] > 0 ? y[last] / y[0] : 0);
    rc = json_dump_file(doc, o.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    json_decref(doc);
done:
    for (size_t i = 0; i < o.size_count; i++) {
        bench_proc_stop(&runs[i].ref);
        json_decref(runs[i].seed);
    }
    bench_proc_stop(&receiver);
    curl_global_cleanup();
    return rc;
}
