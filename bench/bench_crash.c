/* bench-crash: the crash scenarios (scenarios/crash/) against oms-reference and the planted
 * targets of tests/planted, each started by `refund-harness run --target-cmd`, N runs each with a
 * different --seed. Reads every run's results.json and counts, per target: kills per minute, the
 * commands answered, refused, in flight and never sent, the transitions kept (and those whose
 * answer the kill took), the calls expected, delivered, lost and duplicated, half-applied
 * packages; how often a kill lost something (its window was hit) - of all kills, and of the
 * kills that came with commands in flight - and how often a whole run failed. Judges nothing. */
#include "bench_fixture.h"
#include "bench_stats.h"
#include "oms_cli.h"
#include "oms_time.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 200

static const char *const TARGETS[] = {"oms-reference", "oms-planted-split", "oms-planted-late"};
#define TARGET_COUNT (sizeof(TARGETS) / sizeof(TARGETS[0]))

/* The figures summed over every kill (step "crash" objects of results.json). */
static const char *const SUMS[] = {
    "sent",        "answered",           "refused",        "in_flight",     "not_sent",
    "transitions", "applied_unanswered", "calls_expected", "calls_arrived", "calls_delivered",
    "lost",        "duplicated",         "half_applied"};
#define SUM_COUNT (sizeof(SUMS) / sizeof(SUMS[0]))

struct options {
    const char *bindir;
    const char *scenarios;
    const char *tmp;
    const char *out;
    unsigned runs;
    unsigned long long seed;
};

struct tally {
    const char *target;
    unsigned runs, runs_failed, runs_broken; /* broken: an error or skip, or no results */
    double wall_s;
    long long kills, kills_losing;
    long long kills_in_flight, kills_in_flight_losing; /* kills with commands in flight */
    long long sums[SUM_COUNT];
    double restart_ms[MAX_RUNS * 32];
    size_t restarts;
    json_t *by_scenario; /* file -> runs it failed */
};

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.runs = 10, .seed = 1};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        long n;
        if (strcmp(a, "--bindir") == 0)
            o->bindir = v;
        else if (strcmp(a, "--scenarios") == 0)
            o->scenarios = v;
        else if (strcmp(a, "--tmp") == 0)
            o->tmp = v;
        else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--runs") == 0 && oms_cli_int(v, 1, MAX_RUNS, &n) == 0)
            o->runs = (unsigned)n;
        else if (strcmp(a, "--seed") == 0 && oms_cli_int(v, 0, 1000000000, &n) == 0)
            o->seed = (unsigned long long)n;
        else
            return -1;
    }
    return o->bindir && o->scenarios && o->tmp && o->out ? 0 : -1;
}

/* Adds one run's results.json to t. */
static void add_results(struct tally *t, const json_t *doc)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "scenarios"), i, s)
    {
        const char *outcome = json_string_value(json_object_get(s, "outcome"));
        const char *file = json_string_value(json_object_get(s, "file"));
        if (outcome && (strcmp(outcome, "error") == 0 || strcmp(outcome, "skipped") == 0))
            t->runs_broken++;
        json_int_t failed = json_integer_value(json_object_get(t->by_scenario, file));
        json_object_set_new(t->by_scenario, file,
                            json_integer(failed + (outcome && strcmp(outcome, "failed") == 0)));
        size_t k;
        json_t *step;
        json_array_foreach(json_object_get(s, "steps"), k, step)
        {
            const json_t *f = json_object_get(step, "crash");
            if (!f)
                continue;
            t->kills++;
            for (size_t m = 0; m < SUM_COUNT; m++)
                t->sums[m] += json_integer_value(json_object_get(f, SUMS[m]));
            int losing = json_integer_value(json_object_get(f, "lost")) > 0 ||
                         json_integer_value(json_object_get(f, "half_applied")) > 0;
            t->kills_losing += losing;
            if (json_integer_value(json_object_get(f, "in_flight")) > 0) {
                t->kills_in_flight++;
                t->kills_in_flight_losing += losing;
            }
            if (t->restarts < sizeof(t->restart_ms) / sizeof(t->restart_ms[0]))
                t->restart_ms[t->restarts++] = json_number_value(json_object_get(f, "restart_ms"));
        }
    }
}

static void run_once(const struct options *o, struct tally *t, unsigned run)
{
    char dir[1200], cmd[8192];
    snprintf(dir, sizeof(dir), "%s/crash-%s-%u", o->tmp, t->target, run);
    if ((size_t)snprintf(cmd, sizeof(cmd),
                         "'%s/refund-harness' run '%s' --target-cmd \"'%s/%s' --port {port} --db "
                         "{dir}/oms.db\" --token " BENCH_TOKEN
                         " --seed %llu --report-dir '%s' --no-color --quiet "
                         ">/dev/null 2>&1",
                         o->bindir, o->scenarios, o->bindir, t->target, o->seed + run,
                         dir) >= sizeof(cmd)) {
        t->runs_broken++;
        return;
    }
    int64_t start = oms_time_mono_us();
    int status = system(cmd);
    double wall = (double)(oms_time_mono_us() - start) / 1e6;
    char path[1300];
    snprintf(path, sizeof(path), "%s/results.json", dir);
    json_t *doc = json_load_file(path, 0, NULL);
    t->runs++;
    t->wall_s += wall;
    if (!doc) {
        t->runs_broken++;
    } else {
        add_results(t, doc);
        t->runs_failed += status != 0;
    }
    json_decref(doc);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench-crash: cannot remove %s\n", dir);
    fprintf(stderr, "  %-18s run %u (seed %llu): %s in %.1f s\n", t->target, run + 1, o->seed + run,
            status == 0 ? "passed" : "failed", wall);
}

static json_t *tally_json(struct tally *t)
{
    json_t *o = json_pack(
        "{s:s, s:I, s:I, s:I, s:f, s:I, s:f, s:I, s:f, s:f, s:f}", "target", t->target, "runs",
        (json_int_t)t->runs, "runs_failed", (json_int_t)t->runs_failed, "runs_broken",
        (json_int_t)t->runs_broken, "wall_s", t->wall_s, "kills", (json_int_t)t->kills,
        "kills_per_min", t->wall_s > 0 ? (double)t->kills * 60.0 / t->wall_s : 0.0, "kills_losing",
        (json_int_t)t->kills_losing, "kill_hit_rate",
        t->kills ? (double)t->kills_losing / (double)t->kills : 0.0, "run_detection_rate",
        t->runs ? (double)t->runs_failed / (double)t->runs : 0.0, "restart_ms_median",
        bench_median(t->restart_ms, t->restarts));
    json_object_set_new(o, "kills_in_flight", json_integer(t->kills_in_flight));
    json_object_set_new(o, "kills_in_flight_losing", json_integer(t->kills_in_flight_losing));
    json_object_set_new(o, "in_flight_hit_rate",
                        json_real(t->kills_in_flight ? (double)t->kills_in_flight_losing /
                                                           (double)t->kills_in_flight
                                                     : 0.0));
    for (size_t m = 0; m < SUM_COUNT; m++)
        json_object_set_new(o, SUMS[m], json_integer(t->sums[m]));
    json_object_set(o, "scenarios_failed", t->by_scenario);
    return o;
}

int main(int argc, char **argv)
{
    static struct options o;
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-crash --bindir DIR --scenarios DIR --tmp DIR --out FILE\n"
                        "       [--runs N] [--seed S]\n");
        return 2;
    }
    static struct tally tallies[TARGET_COUNT];
    for (size_t k = 0; k < TARGET_COUNT; k++) {
        tallies[k].target = TARGETS[k];
        tallies[k].by_scenario = json_object();
    }
    /* Targets alternate run by run, so a busy moment of the machine falls on all of them. */
    for (unsigned run = 0; run < o.runs; run++)
        for (size_t k = 0; k < TARGET_COUNT; k++)
            run_once(&o, &tallies[k], run);
    json_t *list = json_array();
    for (size_t k = 0; k < TARGET_COUNT; k++) {
        json_array_append_new(list, tally_json(&tallies[k]));
        json_decref(tallies[k].by_scenario);
    }
    json_t *doc =
        json_pack("{s:s, s:s, s:I, s:I, s:o}", "benchmark", "crash", "scenarios", o.scenarios,
                  "runs", (json_int_t)o.runs, "first_seed", (json_int_t)o.seed, "targets", list);
    int rc = json_dump_file(doc, o.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    json_decref(doc);
    return rc;
}
