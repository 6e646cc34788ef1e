/* bench-report: gathers the JSON documents the bench-* programs wrote, adds the machine and the
 * goals, writes reports/bench.json and prints the table a person reads. It judges nothing: a goal
 * marked "missed" is information, and the exit status is 0 whatever the figures are. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct options {
    const char *dir; /* where throughput.json, scale.json... are */
    const char *out;
    const char *commit;
};

static json_t *load(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    return json_load_file(path, 0, NULL);
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static json_t *machine(void)
{
    char model[256] = "unknown", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                snprintf(model, sizeof(model), "%s", colon + 2);
                model[strcspn(model, "\n")] = '\0';
            }
            break;
        }
    }
    if (f)
        fclose(f);
    long mem_kb = 0;
    f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "MemTotal:", 9) == 0) {
            mem_kb = strtol(line + 9, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
    return json_pack("{s:I, s:s, s:I}", "nproc", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN),
                     "cpu_model", model, "mem_total_kb", (json_int_t)mem_kb);
}

static const json_t *level(const json_t *doc, int connections)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(doc, "levels"), i, l)
    {
        if (json_integer_value(json_object_get(l, "connections")) == connections)
            return l;
    }
    return NULL;
}

static void goal(json_t *goals, const char *text, const char *measured, int known, int met)
{
    /* A figure computed from a benchmark that did not run would read as a real zero. */
    json_array_append_new(goals, json_pack("{s:s, s:s, s:s}", "goal", text, "measured",
                                           known ? measured : "-", "status",
                                           !known ? "not measured"
                                           : met  ? "met"
                                                  : "missed"));
}

static void print_throughput(const json_t *t)
{
    if (!t)
        return;
    printf("\nCommand throughput - transition 17 on fresh packages, %.1f s windows; req/s "
           "(p50/p99 us)\n",
           num(t, "duration_s"));
    printf("%6s | %-22s | %-22s | %-22s | %-22s | %-22s | %-22s | %9s | %9s | %9s | %9s | %9s | "
           "%9s\n",
           "conns", "floor (bare MHD)", "floor via oms_http", "floor + 2 calls",
           "reference (memory)", "reference --db (WAL)", "reference, no calls", "ref/floor",
           "db/floor", "nocl/floor", "wrap/floor", "fcal/floor", "ref/fcal");
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(t, "levels"), i, l)
    {
        printf("%6lld", (long long)json_integer_value(json_object_get(l, "connections")));
        static const char *const sides[] = {"floor",     "wrapper",      "floor_calls",
                                            "reference", "reference_db", "reference_no_calls"};
        for (int s = 0; s < 6; s++) {
            const json_t *c = json_object_get(l, sides[s]);
            char cell[64];
            snprintf(cell, sizeof(cell), "%7.0f (%.0f/%.0f)", num(c, "rps"), num(c, "p50_us"),
                     num(c, "p99_us"));
            printf(" | %-22s", cell);
        }
        printf(" | %8.1f%% | %8.1f%% | %8.1f%% | %8.1f%% | %8.1f%% | %8.1f%%\n",
               100 * num(l, "ratio_reference"), 100 * num(l, "ratio_reference_db"),
               100 * num(l, "ratio_reference_no_calls"), 100 * num(l, "ratio_wrapper"),
               100 * num(l, "ratio_floor_calls"), 100 * num(l, "ratio_reference_to_floor_calls"));
    }
    printf("floor + 2 calls: the floor, and two deliveries a request through the reference's "
           "delivery client to a second bare floor (no store, no JSON, no recording)\n");
}

static void print_scale(const json_t *s)
{
    if (!s)
        return;
    printf("\nScale - sequential commands (1 connection) on fresh packages\n");
    printf("%9s | %10s | %7s | %7s | %9s | %-36s | %10s | %10s\n", "packages", "us/command",
           "p50 us", "p99 us", "seed s", "seeding", "HWM seed", "HWM end");
    size_t i;
    json_t *z;
    json_array_foreach(json_object_get(s, "sizes"), i, z)
    {
        const json_t *seed = json_object_get(z, "seed");
        char how[128];
        snprintf(how, sizeof(how), "one PUT (generate), %.0f pkg/s", num(seed, "packages_per_s"));
        printf("%9lld | %10.1f | %7.0f | %7.0f | %9.2f | %-36s | %7.0f MB | %7.0f MB\n",
               (long long)json_integer_value(json_object_get(z, "packages")),
               num(z, "us_per_command"), num(z, "p50_us"), num(z, "p99_us"), num(seed, "seed_s"),
               how, num(z, "vmhwm_kb_after_seed") / 1024, num(z, "vmhwm_kb") / 1024);
    }
    printf("slope: %.1f us per 10x packages; largest/smallest: %.2fx\n",
           num(s, "slope_us_per_decade"), num(s, "ratio_largest_to_smallest"));
}

static void print_delivery(const json_t *d)
{
    if (!d)
        return;
    printf("\nOutbound delivery - %.1f s phases: full load (%lld connections, closed loop), then "
           "half load (an open loop at half the full phase's command rate)\n",
           num(d, "duration_s"), (long long)json_integer_value(json_object_get(d, "connections")));
    printf("%4s | %5s | %10s | %12s | %8s | %10s | %8s | %10s | %14s | %14s | %7s\n", "subs",
           "load", "commands/s", "deliveries/s", "keep up", "Omnitron/s", "backlog", "catch-up",
           "204->hook p50", "204->hook p99", "missing");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(d, "variants"), i, v)
    {
        static const char *const phases[] = {"full", "half"};
        for (int k = 0; k < 2; k++) {
            const json_t *ph = json_object_get(v, phases[k]);
            printf("%4lld | %5s | %10.0f | %12.0f | %7.1f%% | %10.0f | %8.0f | %7.1f ms | %11.2f "
                   "ms | %11.2f ms | %7lld\n",
                   (long long)json_integer_value(json_object_get(v, "subscribers")), phases[k],
                   num(ph, "commands_per_s"), num(ph, "deliveries_per_s"), 100 * num(ph, "keep_up"),
                   num(ph, "omnitron_per_s"), num(ph, "backlog_at_end"), num(ph, "catch_up_ms"),
                   num(ph, "delay_p50_ms"), num(ph, "delay_p99_ms"),
                   (long long)json_integer_value(json_object_get(ph, "missing_events")));
        }
    }
    printf("keep up: deliveries/s over commands/s x subscribers, both counted in the phase's "
           "window; backlog: events owed at its end\n");
}

static void print_crash(const json_t *c)
{
    if (!c)
        return;
    printf("\nCrash - scenarios/crash by --target-cmd, %lld runs per target (a kill -9 per crash "
           "step)\n",
           (long long)json_integer_value(json_object_get(c, "runs")));
    printf("%-18s | %5s | %9s | %8s | %9s | %6s | %10s | %9s | %5s | %6s | %4s | %8s | %13s | "
           "%9s\n",
           "target", "kills", "kills/min", "answered", "in flight", "kept", "unanswered",
           "delivered", "lost", "dupl.", "half", "hit/kill", "hit/in-flight", "runs fail");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(c, "targets"), i, t)
    {
#define I(k) ((long long)json_integer_value(json_object_get(t, k)))
        printf("%-18s | %5lld | %9.1f | %8lld | %9lld | %6lld | %10lld | %9lld | %5lld | %6lld | "
               "%4lld | %7.0f%% | %12.0f%% | %5lld/%-3lld\n",
               json_string_value(json_object_get(t, "target")), I("kills"), num(t, "kills_per_min"),
               I("answered"), I("in_flight"), I("transitions"), I("applied_unanswered"),
               I("calls_delivered"), I("lost"), I("duplicated"), I("half_applied"),
               100.0 * num(t, "kill_hit_rate"), 100.0 * num(t, "in_flight_hit_rate"),
               I("runs_failed"), I("runs"));
#undef I
    }
}

static void print_harness(const json_t *h)
{
    if (!h)
        return;
    printf("\nHarness - refund-harness run DIR --no-reports --quiet\n");
    printf("%10s | %9s | %8s | %8s | %8s | %8s | %s\n", "suite", "scenarios", "jobs 1 s", "/s",
           "jobs 2 s", "/s", "all passed");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(h, "suites"), i, s)
    {
        const json_t *j1 = json_object_get(s, "jobs_1"), *j2 = json_object_get(s, "jobs_2");
        printf("%10s | %9lld | %8.3f | %8.0f | %8.3f | %8.0f | %s\n",
               json_string_value(json_object_get(s, "suite")),
               (long long)json_integer_value(json_object_get(s, "scenarios")), num(j1, "wall_s"),
               num(j1, "scenarios_per_s"), num(j2, "wall_s"), num(j2, "scenarios_per_s"),
               json_is_true(json_object_get(s, "all_passed")) ? "yes" : "NO");
    }
}

static void print_explore(const json_t *e)
{
    if (!e)
        return;
    printf("\nExplore - refund-harness explore --seed %s (cases of up to 8 steps)\n",
           json_string_value(json_object_get(e, "seed")));
    printf("%-34s | %9s | %9s | %s\n", "side", "cases/s", "steps/s", "no difference");
    static const char *const sides[][2] = {
        {"embedded_jobs_1", "embedded reference, --jobs 1"},
        {"embedded_jobs_2", "embedded reference, --jobs 2"},
        {"target_jobs_1", "--target oms-reference, --jobs 1"},
        {"target_jobs_2", "--target oms-reference, --jobs 2"},
    };
    for (size_t i = 0; i < 4; i++) {
        const json_t *s = json_object_get(json_object_get(e, "sides"), sides[i][0]);
        if (!s)
            continue;
        printf("%-34s | %9.0f | %9.0f | %s\n", sides[i][1], num(s, "cases_per_s"),
               num(s, "steps_per_s"),
               json_is_true(json_object_get(s, "no_difference")) ? "yes" : "NO");
    }
    const json_t *sh = json_object_get(e, "shrink");
    printf("shrink of a 20-step failing case (bad-oms --bug oos-deletes): %.0f ms, to %lld step(s) "
           "in %lld candidates\n",
           num(sh, "ms"), (long long)json_integer_value(json_object_get(sh, "steps_after")),
           (long long)json_integer_value(json_object_get(sh, "candidates")));
}

static void print_validate(const json_t *v)
{
    if (!v)
        return;
    printf("\nValidate - refund-harness validate FILE on large generated files\n");
    printf("%-31s | %7s | %8s | %9s | %9s\n", "file", "entries", "MB", "wall s", "errors");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(v, "cases"), i, c)
    {
        char wall[32];
        if (json_is_true(json_object_get(c, "timed_out")))
            snprintf(wall, sizeof(wall), "> %.0f", num(c, "wall_s"));
        else
            snprintf(wall, sizeof(wall), "%.3f", num(c, "wall_s"));
        printf("%-31s | %7lld | %8.2f | %9s | %9lld\n",
               json_string_value(json_object_get(c, "case")),
               (long long)json_integer_value(json_object_get(c, "n")), num(c, "bytes") / 1e6, wall,
               (long long)json_integer_value(json_object_get(c, "errors")));
    }
}

static void print_peer(const json_t *p)
{
    if (!p)
        return;
    printf("\nPeer - recorded requests/s (p50/p99 us), same load generator\n");
    printf("%6s | %-24s | %-24s | %6s\n", "conns", "mock_webhook (ours)",
           json_string_value(json_object_get(p, "peer")), "ratio");
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(p, "levels"), i, l)
    {
        const json_t *o = json_object_get(l, "mock_webhook"), *q = json_object_get(l, "mockttp");
        char a[64], b[64];
        snprintf(a, sizeof(a), "%7.0f (%.0f/%.0f)", num(o, "rps"), num(o, "p50_us"),
                 num(o, "p99_us"));
        snprintf(b, sizeof(b), "%7.0f (%.0f/%.0f)", num(q, "rps"), num(q, "p50_us"),
                 num(q, "p99_us"));
        printf("%6lld | %-24s | %-24s | %5.2fx\n",
               (long long)json_integer_value(json_object_get(l, "connections")), a, b,
               num(l, "ratio_ours_to_peer"));
    }
    printf("peak RSS: ours %.0f MB, peer %.0f MB\n", num(p, "vmhwm_kb_ours") / 1024,
           num(p, "vmhwm_kb_peer") / 1024);
}

/* The crash tally of one target, or NULL. */
static const json_t *crash_target(const json_t *c, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(c, "targets"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "target")), name) == 0)
            return t;
    }
    return NULL;
}

static json_t *goals(const json_t *t, const json_t *s, const json_t *d, const json_t *h,
                     const json_t *e, const json_t *p, const json_t *c)
{
    json_t *g = json_array();
    char m[256];
    const json_t *l32 = level(t, 32);
    double ratio = num(l32, "ratio_reference");
    double ratio_nc = num(l32, "ratio_reference_no_calls");
    double p99_nc = num(json_object_get(l32, "reference_no_calls"), "p99_us");
    /* What the goal can reach here: a command with calls costs at least its no-calls cost plus
     * the two deliveries' transport (the floor + 2 calls less the floor), in floor exchanges. */
    double r_fc = num(l32, "ratio_floor_calls");
    double bound = ratio_nc > 0 && r_fc > 0 ? 1 / (1 / ratio_nc + 1 / r_fc - 1) : 0;
    snprintf(
        m, sizeof(m),
        "%.1f%% of the floor; transport alone (floor + 2 calls) %.1f%%, the no-calls path plus "
        "that transport %.1f%%; the reference is %.1f%% of the transport",
        100 * ratio, 100 * r_fc, 100 * bound, 100 * num(l32, "ratio_reference_to_floor_calls"));
    goal(g, "with outbound calls: reference >= 1/3 of the floor at 32 conns", m, l32 != NULL,
         ratio >= 1.0 / 3);
    snprintf(m, sizeof(m), "%.1f%% of the floor", 100 * ratio_nc);
    goal(g, "no outbound calls: reference >= 70% of the floor at 32 conns", m, l32 != NULL,
         ratio_nc >= 0.7);
    snprintf(m, sizeof(m), "p99 %.2f ms (%.2f ms with outbound calls)", p99_nc / 1000,
             num(json_object_get(l32, "reference"), "p99_us") / 1000);
    goal(g, "no outbound calls: reference p99 < 2 ms at 32 conns", m, l32 != NULL, p99_nc < 2000);

    /* Delivery keeps up when every variant's deliveries/s, in the full phase's window, reach its
     * commands/s x subscribers (within 1%: the window's edges). */
    const json_t *vars = json_object_get(d, "variants");
    double worst_keep = 0, worst_p99 = 0;
    char keep_text[160] = "", p99_text[160] = "";
    size_t vi;
    json_t *v;
    json_array_foreach(vars, vi, v)
    {
        const json_t *full = json_object_get(v, "full"), *half = json_object_get(v, "half");
        long long subs = (long long)json_integer_value(json_object_get(v, "subscribers"));
        double keep = num(full, "keep_up"), p99h = num(half, "delay_p99_ms");
        worst_keep = vi == 0 || keep < worst_keep ? keep : worst_keep;
        worst_p99 = p99h > worst_p99 ? p99h : worst_p99;
        size_t used = strlen(keep_text);
        snprintf(keep_text + used, sizeof(keep_text) - used, "%s%lld sub: %.0f/s vs %.0f x %lld",
                 used ? "; " : "", subs, num(full, "deliveries_per_s"), num(full, "commands_per_s"),
                 subs);
        used = strlen(p99_text);
        snprintf(p99_text + used, sizeof(p99_text) - used, "%s%lld sub: %.2f ms", used ? "; " : "",
                 subs, p99h);
    }
    goal(g, "deliveries/s >= commands/s x subscribers (full)", keep_text, json_array_size(vars) > 0,
         worst_keep >= 0.99);
    goal(g, "204-to-arrival p99 < 20 ms at half load", p99_text, json_array_size(vars) > 0,
         worst_p99 < 20);

    const json_t *sizes = json_object_get(s, "sizes");
    double first = num(json_array_get(sizes, 0), "us_per_command"), worst = 0;
    double first50 = num(json_array_get(sizes, 0), "p50_us"), worst50 = 0;
    size_t i;
    json_t *z;
    json_array_foreach(sizes, i, z)
    {
        double dev = first > 0 ? fabs(num(z, "us_per_command") / first - 1) : 0;
        double dev50 = first50 > 0 ? fabs(num(z, "p50_us") / first50 - 1) : 0;
        worst = dev > worst ? dev : worst;
        worst50 = dev50 > worst50 ? dev50 : worst50;
    }
    snprintf(m, sizeof(m), "largest deviation from the smallest size: mean %.0f%%, p50 %.0f%%",
             100 * worst, 100 * worst50);
    goal(g, "time per command flat within 20% from 1k to 1M", m, json_array_size(sizes) > 1,
         worst <= 0.2);

    const json_t *million = NULL;
    json_array_foreach(sizes, i, z)
    {
        if (json_integer_value(json_object_get(z, "packages")) == 1000000)
            million = z;
    }
    const json_t *seed = json_object_get(million, "seed");
    const char *method = json_string_value(json_object_get(seed, "method"));
    snprintf(m, sizeof(m), "%.1f s (%s%s)", num(seed, "seed_s"), method ? method : "?",
             method && strcmp(method, "put") != 0 ? "; a single PUT is refused" : "");
    goal(g, "1M packages seeded in < 10 s", m, million != NULL, num(seed, "seed_s") < 10);

    const json_t *bundled = NULL, *generated = NULL;
    json_array_foreach(json_object_get(h, "suites"), i, z)
    {
        const char *name = json_string_value(json_object_get(z, "suite"));
        if (name && strcmp(name, "bundled") == 0)
            bundled = z;
        else if (name && strcmp(name, "generated") == 0)
            generated = z;
    }
    double w1 = num(json_object_get(bundled, "jobs_1"), "wall_s");
    double w2 = num(json_object_get(bundled, "jobs_2"), "wall_s");
    snprintf(m, sizeof(m), "%.3f s with --jobs 1, %.3f s with --jobs 2", w1, w2);
    goal(g, "bundled suite < 1 s", m, bundled != NULL, (w1 < w2 ? w1 : w2) < 1.0);
    double r1 = num(json_object_get(generated, "jobs_1"), "scenarios_per_s");
    double r2 = num(json_object_get(generated, "jobs_2"), "scenarios_per_s");
    snprintf(m, sizeof(m), "%.0f/s with --jobs 1, %.0f/s with --jobs 2", r1, r2);
    goal(g, ">= 1000 simple scenarios/s", m, generated != NULL, (r1 > r2 ? r1 : r2) >= 1000);

    const json_t *e2 = json_object_get(json_object_get(e, "sides"), "embedded_jobs_2");
    snprintf(m, sizeof(m), "%.0f steps/s (%.0f cases/s)", num(e2, "steps_per_s"),
             num(e2, "cases_per_s"));
    goal(g, "explore >= 1000 steps/s embedded, --jobs 2", m, e2 != NULL,
         num(e2, "steps_per_s") >= 1000);
    const json_t *sh = json_object_get(e, "shrink");
    const json_t *ms = json_object_get(sh, "ms");
    snprintf(m, sizeof(m), "%.0f ms, to %lld step(s)", num(sh, "ms"),
             (long long)json_integer_value(json_object_get(sh, "steps_after")));
    goal(g, "explore shrinks a 20-step failing case in < 2 s", m, json_is_number(ms),
         num(sh, "ms") < 2000);

    const json_t *p32 = level(p, 32);
    snprintf(m, sizeof(m), "%.2fx at 32 connections", num(p32, "ratio_ours_to_peer"));
    goal(g, "our mock >= 3x the npm peer", m, p32 != NULL, num(p32, "ratio_ours_to_peer") >= 3);

    const json_t *ref = crash_target(c, "oms-reference");
    long long lost = json_integer_value(json_object_get(ref, "lost")),
              half = json_integer_value(json_object_get(ref, "half_applied"));
    snprintf(m, sizeof(m), "%lld lost, %lld half-applied over %lld kills", lost, half,
             (long long)json_integer_value(json_object_get(ref, "kills")));
    goal(g, "crash: oms-reference loses nothing", m, ref != NULL, lost == 0 && half == 0);
    static const char *const planted[] = {"oms-planted-split", "oms-planted-late"};
    for (size_t k = 0; k < 2; k++) {
        const json_t *pt = crash_target(c, planted[k]);
        char text[96];
        snprintf(text, sizeof(text), "crash: %s found in >= 95%% of runs", planted[k]);
        snprintf(m, sizeof(m), "%.0f%% of runs, %.0f%% of kills hit its window",
                 100 * num(pt, "run_detection_rate"), 100 * num(pt, "kill_hit_rate"));
        goal(g, text, m, pt != NULL, num(pt, "run_detection_rate") >= 0.95);
    }
    return g;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--dir") == 0)
            o.dir = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            o.out = argv[i + 1];
        else if (strcmp(argv[i], "--commit") == 0)
            o.commit = argv[i + 1];
    }
    if (!o.dir || !o.out) {
        fprintf(stderr, "usage: bench-report --dir DIR --out FILE [--commit ID]\n");
        return 2;
    }
    json_t *t = load(o.dir, "throughput"), *s = load(o.dir, "scale"), *d = load(o.dir, "delivery"),
           *h = load(o.dir, "harness"), *x = load(o.dir, "explore"), *p = load(o.dir, "peer"),
           *c = load(o.dir, "crash"), *v = load(o.dir, "validate");
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *m = machine();
    json_t *g = goals(t, s, d, h, x, p, c);
    printf("refund-harness benchmarks, %s, commit %s\n", when, o.commit ? o.commit : "?");
    printf("machine: %lld cores, %s, %.0f GiB; medians of alternated rounds\n",
           (long long)json_integer_value(json_object_get(m, "nproc")),
           json_string_value(json_object_get(m, "cpu_model")), num(m, "mem_total_kb") / 1048576.0);
    print_throughput(t);
    print_scale(s);
    print_delivery(d);
    print_harness(h);
    print_validate(v);
    print_explore(x);
    print_peer(p);
    print_crash(c);
    printf("\nGoals (information only; nothing is asserted)\n");
    size_t i;
    json_t *e;
    json_array_foreach(g, i, e)
    {
        printf("  %-12s %-56s %s\n", json_string_value(json_object_get(e, "status")),
               json_string_value(json_object_get(e, "goal")),
               json_string_value(json_object_get(e, "measured")));
    }
    json_t *doc = json_pack(
        "{s:s, s:s?, s:o, s:{s:o?, s:o?, s:o?, s:o?, s:o?, s:o?, s:o?, s:o?}, s:o}", "generated_at",
        when, "commit", o.commit, "machine", m, "results", "throughput", t, "scale", s, "delivery",
        d, "harness", h, "validate", v, "explore", x, "peer", p, "crash", c, "goals", g);
    int rc = doc && json_dump_file(doc, o.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    if (rc)
        fprintf(stderr, "bench-report: cannot write %s\n", o.out);
    json_decref(doc);
    return rc;
}
