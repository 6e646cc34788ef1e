/* bench-harness: wall time and scenarios per second of the scenario runner itself - the bundled
 * suite, and a generated suite of simple single-command scenarios - each with --jobs 1 and
 * --jobs 2, alternated round by round. Runs `refund-harness run DIR --no-reports --quiet` as a
 * child and reads the count from its summary line. */
#include "bench_stats.h"
#include "oms_buf.h"
#include "oms_cli.h"
#include "oms_time.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ROUNDS 32
#define JOB_KINDS  2

static const int JOBS[JOB_KINDS] = {1, 2};

struct options {
    const char *harness;
    const char *scenarios;
    const char *tmp;
    const char *out;
    unsigned rounds;
    long generated;
};

struct suite {
    const char *name;
    char dir[1500];
    double wall_s[JOB_KINDS][MAX_ROUNDS];
    long count;
    int failed; /* a run exited non-zero */
};

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.rounds = 3, .generated = 10000};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        long n;
        if (strcmp(a, "--harness") == 0)
            o->harness = v;
        else if (strcmp(a, "--scenarios") == 0)
            o->scenarios = v;
        else if (strcmp(a, "--tmp") == 0)
            o->tmp = v;
        else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--rounds") == 0 && oms_cli_int(v, 1, MAX_ROUNDS, &n) == 0)
            o->rounds = (unsigned)n;
        else if (strcmp(a, "--generated") == 0 && oms_cli_int(v, 0, 10000000, &n) == 0)
            o->generated = n;
        else
            return -1;
    }
    return o->harness && o->scenarios && o->tmp && o->out ? 0 : -1;
}

/* One scenario: a Waiting package with one item, transition 17, expect 204 and the new status. */
static int write_scenario(const char *dir, long i)
{
    char path[1600];
    if ((size_t)snprintf(path, sizeof(path), "%s/generated-%06ld.json", dir, i) >= sizeof(path))
        return -1;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    long pkg = 1000 + i, item = 500000 + i;
    fprintf(f,
            "{\"name\": \"generated %ld: a Waiting package is packed for refund\",\n"
            " \"rules\": [\"C-6\"], \"tags\": [\"generated\"],\n"
            " \"given\": {\"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": 1}],\n"
            "           \"packages\": [{\"id\": %ld, \"location\": 1, \"status\": \"Waiting\",\n"
            "                          \"items\": [{\"id\": %ld, \"order_item\": %ld, \"sku\": "
            "\"SKU-%ld\"}]}]},\n"
            " \"when\": [{\"command\": {\"package\": %ld, \"body\": {\"package\": %ld, "
            "\"transition\": 17}}}],\n"
            " \"then\": {\"response\": {\"status\": 204},\n"
            "          \"packages\": {\"%ld\": {\"status\": \"Packed for Refund\"}}}}\n",
            i, pkg, item, item, i, pkg, pkg, pkg);
    return fclose(f) == 0 ? 0 : -1;
}

/* Runs the harness on dir; returns the wall time in seconds (or -1) and *count from the summary
 * line "N scenario(s): ...". */
static double run_once(const struct options *o, const char *dir, int jobs, long *count, int *failed)
{
    char cmd[8192];
    if ((size_t)snprintf(cmd, sizeof(cmd), "'%s' run '%s' --no-reports --quiet --jobs %d 2>&1",
                         o->harness, dir, jobs) >= sizeof(cmd))
        return -1;
    int64_t start = oms_time_mono_us();
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[1024];
    *count = -1;
    while (fgets(line, sizeof(line), p)) {
        char *at = strstr(line, " scenario(s):");
        if (at) {
            *at = '\0';
            char *end = NULL;
            long n = strtol(line, &end, 10);
            if (end && *end == '\0')
                *count = n;
        }
    }
    int status = pclose(p);
    double wall = (double)(oms_time_mono_us() - start) / 1e6;
    if (status != 0)
        *failed = 1;
    return wall;
}

static json_t *suite_json(const struct suite *s, unsigned rounds)
{
    json_t *o = json_pack("{s:s, s:I, s:b}", "suite", s->name, "scenarios", (json_int_t)s->count,
                          "all_passed", !s->failed);
    for (int k = 0; k < JOB_KINDS; k++) {
        double wall = bench_median(s->wall_s[k], rounds);
        char key[32];
        snprintf(key, sizeof(key), "jobs_%d", JOBS[k]);
        json_object_set_new(o, key,
                            json_pack("{s:f, s:f}", "wall_s", wall, "scenarios_per_s",
                                      wall > 0 ? (double)s->count / wall : 0));
    }
    return o;
}

int main(int argc, char **argv)
{
    static struct options o;
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-harness --harness BIN --scenarios DIR --tmp DIR --out FILE\n"
                        "       [--rounds N] [--generated N]\n");
        return 2;
    }
    static struct suite suites[2];
    size_t n = 0;
    suites[n].name = "bundled";
    snprintf(suites[n++].dir, sizeof(suites[0].dir), "%s", o.scenarios);
    if (o.generated > 0) {
        suites[n].name = "generated";
        if ((size_t)snprintf(suites[n].dir, sizeof(suites[n].dir), "%s/generated", o.tmp) >=
                sizeof(suites[n].dir) ||
            (mkdir(suites[n].dir, 0755) != 0 && errno != EEXIST)) {
            fprintf(stderr, "bench-harness: cannot create %s\n", suites[n].dir);
            return 3;
        }
        int64_t t = oms_time_mono_us();
        for (long i = 1; i <= o.generated; i++)
            if (write_scenario(suites[n].dir, i) != 0) {
                fprintf(stderr, "bench-harness: cannot write scenarios in %s\n", suites[n].dir);
                return 3;
            }
        fprintf(stderr, "  generated %ld scenarios in %.2f s\n", o.generated,
                (double)(oms_time_mono_us() - t) / 1e6);
        n++;
    }
    for (size_t s = 0; s < n; s++)
        for (unsigned round = 0; round < o.rounds; round++)
            for (int k = 0; k < JOB_KINDS; k++) {
                long count = 0;
                double wall = run_once(&o, suites[s].dir, JOBS[k], &count, &suites[s].failed);
                suites[s].wall_s[k][round] = wall;
                suites[s].count = count;
                fprintf(stderr, "  %-9s --jobs %d round %u: %ld scenarios in %.3f s (%.0f/s)\n",
                        suites[s].name, JOBS[k], round + 1, count, wall,
                        wall > 0 ? (double)count / wall : 0);
            }
    json_t *list = json_array();
    for (size_t s = 0; s < n; s++)
        json_array_append_new(list, suite_json(&suites[s], o.rounds));
    json_t *doc = json_pack("{s:s, s:i, s:o}", "benchmark", "harness", "rounds", (int)o.rounds,
                            "suites", list);
    int rc = json_dump_file(doc, o.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    json_decref(doc);
    return rc;
}
