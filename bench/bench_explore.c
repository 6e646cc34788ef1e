/* bench-explore: throughput of `refund-harness explore` - cases/s and steps/s with the embedded
 * reference alone (--jobs 1 and 2) and against a separate oms-reference process (--target, --jobs
 * 1 and 2), alternated round by round - and the time to shrink a 20-step failing case (a fixed
 * case replayed against bad-oms --bug oos-deletes, whose one difference is in its 15th step).
 * Figures come from the results.json explore writes (its exploration time leaves out start-up,
 * shrinking and reports). */
#include "bench_servers.h"
#include "bench_stats.h"
#include "oms_cli.h"
#include "oms_time.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MAX_ROUNDS 32
#define SIDES      4
#define SEED       "14"

struct options {
    struct bench_env env;
    const char *out;
    const char *tmp;
    unsigned rounds;
    long cases;
};

/* The sides measured: embedded or against a reference process, one or two jobs. */
static const struct {
    const char *name;
    int target;
    int jobs;
} SIDE[SIDES] = {
    {"embedded_jobs_1", 0, 1},
    {"embedded_jobs_2", 0, 2},
    {"target_jobs_1", 1, 1},
    {"target_jobs_2", 1, 2},
};

/* The 20-step case: 19 steps the bug does not touch (refusals, transport faults, lifecycle
 * steps on other packages) around one command on an Out of Stock package with reservations,
 * which bad-oms --bug oos-deletes empties (SPEC A-3 keeps them). */
static const char CASE20[] =
    "{\"name\": \"bench: a 20-step case\", \"rules\": [\"C-7\"],\n"
    " \"given\": {\"locations\": [{\"id\": 1, \"max_quota\": 5, \"quota\": 2}, {\"id\": 2, "
    "\"max_quota\": 3, \"quota\": 0}],\n"
    "  \"packages\": [\n"
    "   {\"id\": 501, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 9001}, "
    "{\"id\": 9002}], \"reservations\": [{\"sku\": \"SKU-9001\"}], \"discrepancies\": [{\"item\": "
    "9002, \"kind\": \"damaged\"}]},\n"
    "   {\"id\": 502, \"location\": 2, \"status\": \"Out of Stock\", \"items\": [{\"id\": 9003}, "
    "{\"id\": 9004}], \"reservations\": [{\"sku\": \"SKU-9003\"}, {\"sku\": \"SKU-9004\", "
    "\"quantity\": 2}], \"discrepancies\": [{\"item\": 9003, \"kind\": \"missing\"}]},\n"
    "   {\"id\": 503, \"location\": 1, \"status\": \"Packed\", \"items\": [{\"id\": 9005}]},\n"
    "   {\"id\": 504, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": 9006}]}],\n"
    "  \"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\", \"receiver\": "
    "\"erp\", \"secret_key\": \"s\"}, {\"event_type\": \"package.status.cancelled\", "
    "\"receiver\": \"wms\"}]},\n"
    " \"when\": [\n"
    "  {\"command\": {\"package\": 501, \"token\": null, \"body\": {\"package\": 501, "
    "\"transition\": 17}}},\n"
    "  {\"command\": {\"package\": 503, \"body\": {\"package\": 503, \"transition\": 17}}},\n"
    "  {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"slug\": "
    "\"packed-for-return\"}}},\n"
    "  {\"lifecycle\": {\"action\": \"start_preparing\", \"package\": 504}},\n"
    "  {\"command\": {\"package\": 504, \"body\": {\"package\": 504, \"transition\": 17}}},\n"
    "  {\"command\": {\"package\": 501, \"raw_body\": \"{'package': 501}\"}},\n"
    "  {\"command\": {\"package\": 501, \"method\": \"GET\"}},\n"
    "  {\"command\": {\"package\": 9999, \"body\": {\"package\": 9999, \"transition\": 17}}},\n"
    "  {\"lifecycle\": {\"action\": \"ready_for_packaging\", \"package\": 504}},\n"
    "  {\"command\": {\"package\": 501, \"body\": {\"package\": 502, \"transition\": 17}}},\n"
    "  {\"command\": {\"package\": 501, \"headers\": {\"Content-Type\": \"text/plain\"}, "
    "\"body\": {\"package\": 501, \"transition\": 17}}, \"concurrent\": 3},\n"
    "  {\"command\": {\"package\": 503, \"body\": {\"package\": 503, \"slug\": "
    "\"packed-for-refund\"}}},\n"
    "  {\"lifecycle\": {\"action\": \"pack\", \"package\": 504}},\n"
    "  {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17, "
    "\"sync_remote_order_status\": \"false\"}}},\n"
    "  {\"command\": {\"package\": 502, \"body\": {\"package\": 502, \"transition\": 17}}},\n"
    "  {\"command\": {\"package\": 502, \"body\": {\"package\": 502, \"transition\": 17}}},\n"
    "  {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17, "
    "\"slug\": \"out-of-stock\"}}},\n"
    "  {\"lifecycle\": {\"action\": \"cancel\", \"package\": 501}},\n"
    "  {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17}}},\n"
    "  {\"command\": {\"package\": 504, \"body\": {\"package\": 504, \"slug\": "
    "\"packed-for-refund\"}}}]}\n";

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.rounds = 3, .cases = 1000};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        long n;
        int common = bench_common_option(a, v, &o->env, &o->out, &o->rounds, MAX_ROUNDS);
        if (common < 0)
            return -1;
        if (common)
            continue;
        if (strcmp(a, "--tmp") == 0)
            o->tmp = v;
        else if (strcmp(a, "--cases") == 0 && oms_cli_int(v, 1, 10000000, &n) == 0)
            o->cases = n;
        else
            return -1;
    }
    return o->env.bindir && o->out && o->tmp ? 0 : -1;
}

/* Runs refund-harness with argv (NULL-terminated, argv[0] the path) and waits; the exit code, or
 * -1 when it could not run. Its output goes to the log. */
static int run(const struct options *o, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        const char *log = o->env.log_path ? o->env.log_path : "/dev/null";
        if (!freopen(log, "a", stdout) || !freopen(log, "a", stderr))
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static json_t *explore_results(const char *dir)
{
    char path[1600];
    snprintf(path, sizeof(path), "%s/results.json", dir);
    json_t *doc = json_load_file(path, 0, NULL);
    json_t *ex = json_incref(json_object_get(doc, "explore"));
    json_decref(doc);
    return ex;
}

struct sample {
    double cases_per_s[MAX_ROUNDS];
    double steps_per_s[MAX_ROUNDS];
    long cases, steps;
    int failed; /* a run did not end with 0 (no difference) */
};

static void measure(const struct options *o, int side, const char *target, unsigned round,
                    struct sample *s)
{
    char bin[1024], dir[1600], cases[32], jobs[16];
    snprintf(bin, sizeof(bin), "%s/refund-harness", o->env.bindir);
    snprintf(dir, sizeof(dir), "%s/explore-%s", o->tmp, SIDE[side].name);
    snprintf(cases, sizeof(cases), "%ld", o->cases);
    snprintf(jobs, sizeof(jobs), "%d", SIDE[side].jobs);
    char *argv[] = {bin,
                    "explore",
                    "--seed",
                    SEED,
                    "--cases",
                    cases,
                    "--jobs",
                    jobs,
                    "--out",
                    dir,
                    "--crash-rate", /* the throughput of cases without kills, as always measured */
                    "0",
                    "--quiet",
                    target ? "--target" : NULL,
                    (char *)target,
                    NULL};
    int code = run(o, argv);
    json_t *ex = explore_results(dir);
    if (code != 0 || !ex) {
        s->failed = 1;
        fprintf(stderr, "  %s round %u: explore exited %d\n", SIDE[side].name, round + 1, code);
    }
    s->cases_per_s[round] = json_real_value(json_object_get(ex, "cases_per_s"));
    s->steps_per_s[round] = json_real_value(json_object_get(ex, "steps_per_s"));
    s->cases = (long)json_integer_value(json_object_get(ex, "cases"));
    s->steps = (long)json_integer_value(json_object_get(ex, "steps"));
    fprintf(stderr, "  %-16s round %u: %ld cases, %ld steps: %.0f cases/s, %.0f steps/s\n",
            SIDE[side].name, round + 1, s->cases, s->steps, s->cases_per_s[round],
            s->steps_per_s[round]);
    json_decref(ex);
}

/* explore --replay of the 20-step case against bad-oms --bug oos-deletes: the shrink of its
 * difference (ms), the steps it ends with, or -1. */
static double shrink_once(const struct options *o, long *steps_after, long *candidates)
{
    char bin[1024], bad[1024], file[1600], dir[1600];
    snprintf(bin, sizeof(bin), "%s/refund-harness", o->env.bindir);
    snprintf(bad, sizeof(bad), "%s/bad-oms", o->env.bindir);
    snprintf(file, sizeof(file), "%s/case-20-steps.json", o->tmp);
    snprintf(dir, sizeof(dir), "%s/explore-shrink", o->tmp);
    FILE *f = fopen(file, "w");
    if (!f || fputs(CASE20, f) < 0 || fclose(f) != 0)
        return -1;
    struct bench_proc oms;
    char *bargv[] = {bad, "--port", "0", "--bug", "oos-deletes", NULL};
    if (bench_proc_start(&oms, bargv, o->env.log_path, 0, 20000) != 0)
        return -1;
    char *argv[] = {bin,     "explore", "--replay", file,      "--target",
                    oms.url, "--out",   dir,        "--quiet", NULL};
    int code = run(o, argv);
    bench_proc_stop(&oms);
    json_t *ex = explore_results(dir);
    /* The difference of the 15th step; later steps show the same bug as other kinds. */
    const json_t *d = json_array_get(json_object_get(ex, "differences"), 0);
    double ms =
        code == 1 && d ? json_real_value(json_object_get(json_object_get(d, "shrink"), "ms")) : -1;
    *steps_after = (long)json_integer_value(json_object_get(d, "steps"));
    *candidates =
        (long)json_integer_value(json_object_get(json_object_get(d, "shrink"), "candidates"));
    if (json_integer_value(json_object_get(d, "steps_before")) != 20)
        ms = -1;
    json_decref(ex);
    return ms;
}

int main(int argc, char **argv)
{
    static struct options o;
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-explore --bindir DIR --tmp DIR --out FILE [--rounds N]\n"
                        "       [--cases N] [--log FILE]\n");
        return 2;
    }
    struct bench_proc ref;
    if (bench_start_reference(&o.env, NULL, &ref) != 0)
        return 3;
    static struct sample samples[SIDES];
    for (unsigned round = 0; round < o.rounds; round++)
        for (int s = 0; s < SIDES; s++)
            measure(&o, s, SIDE[s].target ? ref.url : NULL, round, &samples[s]);
    bench_proc_stop(&ref);

    double shrink_ms[MAX_ROUNDS];
    long steps_after = 0, candidates = 0;
    unsigned shrinks = 0;
    for (unsigned round = 0; round < o.rounds; round++) {
        double ms = shrink_once(&o, &steps_after, &candidates);
        fprintf(stderr, "  shrink round %u: 20 steps to %ld in %ld candidates, %.0f ms\n",
                round + 1, steps_after, candidates, ms);
        if (ms >= 0)
            shrink_ms[shrinks++] = ms;
    }

    json_t *sides = json_object();
    for (int s = 0; s < SIDES; s++)
        json_object_set_new(sides, SIDE[s].name,
                            json_pack("{s:b, s:i, s:I, s:I, s:f, s:f, s:b}", "target",
                                      SIDE[s].target, "jobs", SIDE[s].jobs, "cases",
                                      (json_int_t)samples[s].cases, "steps",
                                      (json_int_t)samples[s].steps, "cases_per_s",
                                      bench_median(samples[s].cases_per_s, o.rounds), "steps_per_s",
                                      bench_median(samples[s].steps_per_s, o.rounds),
                                      "no_difference", !samples[s].failed));
    json_t *doc =
        json_pack("{s:s, s:i, s:s, s:o, s:{s:i, s:I, s:I, s:o?}}", "benchmark", "explore", "rounds",
                  (int)o.rounds, "seed", SEED, "sides", sides, "shrink", "steps_before", 20,
                  "steps_after", (json_int_t)steps_after, "candidates", (json_int_t)candidates,
                  "ms", shrinks ? json_real(bench_median(shrink_ms, shrinks)) : NULL);
    int rc = json_dump_file(doc, o.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    json_decref(doc);
    return rc;
}
