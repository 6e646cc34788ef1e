/* bench-throughput: command throughput of the reference against the floor. Sides, alternated
 * round by round at each connection count: the bare libmicrohttpd floor, the floor through
 * common/net/oms_http_server (wrapper), the floor making two deliveries a request to a second
 * bare floor through the reference's delivery client (floor_calls: the transport cost of a
 * command with its two deliveries, and nothing else), oms-reference in memory, oms-reference with
 * --db (WAL), and oms-reference in memory with no outbound calls (no subscription, sync false: the
 * same transition, item moves, deletions and quota update, but no outbox row and no delivery),
 * which shows what the two deliveries per command cost. Every command is transition 17 on a fresh
 * Waiting package (2 items, a reservation, one subscription and Omnitron pointed at a recorder
 * that answers 200). --compare-bindir adds the reference and no-calls sides of another build
 * (reference_b, reference_no_calls_b), alternated with the others, to measure a change; --sides
 * picks the sides (the floor is always measured). Writes a JSON document. */
#include "bench_control.h"
#include "bench_fixture.h"
#include "bench_servers.h"
#include "bench_stats.h"
#include "loadgen.h"
#include "oms_cli.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum side {
    FLOOR,
    WRAPPER,
    FLOOR_CALLS,
    REFERENCE,
    REFERENCE_DB,
    REFERENCE_NO_CALLS,
    REFERENCE_B, /* the same two sides from --compare-bindir, to measure a change */
    REFERENCE_NO_CALLS_B,
    SIDE_COUNT
};

static const char *const SIDE_NAMES[SIDE_COUNT] = {"floor",        "wrapper",
                                                   "floor_calls",  "reference",
                                                   "reference_db", "reference_no_calls",
                                                   "reference_b",  "reference_no_calls_b"};

/* The sides measured unless --sides says otherwise. */
#define DEFAULT_SIDES 0x3fu

/* Deliveries a command makes here (its subscription and Omnitron), which floor_calls copies. */
#define CALLS_PER_COMMAND 2

#define MAX_LEVELS 8
#define MAX_ROUNDS 32

struct options {
    struct bench_env env;
    struct bench_env env_b; /* --compare-bindir */
    unsigned sides;         /* bit (1 << side) for each side measured */
    const char *out;
    const char *tmp;
    unsigned rounds;
    double duration_s;
    double warmup_s;
    unsigned levels[MAX_LEVELS];
    size_t level_count;
    uint64_t packages;
};

struct cell {
    double rps[MAX_ROUNDS];
    double p50[MAX_ROUNDS];
    double p99[MAX_ROUNDS];
    uint64_t bad; /* non-2xx or failed answers */
};

struct state {
    struct options opt;
    struct bench_proc procs[SIDE_COUNT];
    struct bench_proc receiver;
    struct bench_commands cmds[SIDE_COUNT]; /* reference sides: their package counters */
    uint64_t budget;                        /* commands per reference window */
    struct cell cells[SIDE_COUNT][MAX_LEVELS];
};

static int parse_levels(const char *s, struct options *o)
{
    uint64_t v[MAX_LEVELS];
    o->level_count = bench_parse_list(s, 1, 4096, v, MAX_LEVELS);
    for (size_t i = 0; i < o->level_count; i++)
        o->levels[i] = (unsigned)v[i];
    return o->level_count ? 0 : -1;
}

/* "floor,reference_no_calls,...": the sides to measure. */
static int parse_sides(const char *list, struct options *o)
{
    o->sides = 0;
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", list);
    for (char *name = copy; name && *name;) {
        char *comma = strchr(name, ',');
        if (comma)
            *comma = '\0';
        int found = -1;
        for (int k = 0; k < SIDE_COUNT; k++)
            if (strcmp(name, SIDE_NAMES[k]) == 0)
                found = k;
        if (found < 0)
            return -1;
        o->sides |= 1u << found;
        name = comma ? comma + 1 : NULL;
    }
    return o->sides ? 0 : -1;
}

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){
        .rounds = 3, .duration_s = 2, .warmup_s = 0.3, .packages = 400000, .sides = DEFAULT_SIDES};
    parse_levels("1,8,32,128", o);
    int sides_given = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        long n;
        int common = bench_common_option(a, v, &o->env, &o->out, &o->rounds, MAX_ROUNDS);
        if (common < 0)
            return -1;
        if (common > 0)
            continue;
        if (strcmp(a, "--tmp") == 0)
            o->tmp = v;
        else if (strcmp(a, "--duration") == 0)
            o->duration_s = strtod(v, NULL);
        else if (strcmp(a, "--warmup") == 0)
            o->warmup_s = strtod(v, NULL);
        else if (strcmp(a, "--packages") == 0 && oms_cli_int(v, 1, 100000000, &n) == 0)
            o->packages = (uint64_t)n;
        else if (strcmp(a, "--conns") == 0 && parse_levels(v, o) == 0)
            continue;
        else if (strcmp(a, "--compare-bindir") == 0)
            o->env_b.bindir = v;
        else if (strcmp(a, "--sides") == 0 && parse_sides(v, o) == 0)
            sides_given = 1;
        else
            return -1;
    }
    if (o->env_b.bindir && !sides_given)
        o->sides |= 1u << REFERENCE_B | 1u << REFERENCE_NO_CALLS_B;
    o->env_b.log_path = o->env.log_path;
    o->sides |= 1u << FLOOR; /* the ratios' denominator */
    if (!o->env_b.bindir && (o->sides & (1u << REFERENCE_B | 1u << REFERENCE_NO_CALLS_B)))
        return -1;
    return o->env.bindir && o->out && o->tmp && o->duration_s > 0 ? 0 : -1;
}

/* A floor request: the same path and body a command has. */
static int floor_next(void *ctx, uint64_t seq, struct loadgen_request *req)
{
    const char *base = ctx;
    unsigned long long id = (unsigned long long)seq + 1;
    snprintf(req->url, sizeof(req->url), "%s/api/v1/oms/packages/%llu/command/", base, id);
    req->body_len =
        (size_t)snprintf(req->body, sizeof(req->body), "{\"package\":%llu,\"transition\":17}", id);
    return 0;
}

static int measure(struct state *s, enum side side, size_t level, unsigned round)
{
    struct loadgen_config cfg = {
        .connections = s->opt.levels[level],
        .warmup_s = s->opt.warmup_s,
        .duration_s = s->opt.duration_s,
        .method = "POST",
        .headers = bench_command_headers,
        .header_count = bench_command_header_count,
    };
    struct bench_commands *cmds = &s->cmds[side];
    if (side == FLOOR || side == WRAPPER || side == FLOOR_CALLS) {
        cfg.next = floor_next;
        cfg.ctx = s->procs[side].url;
    } else {
        cfg.next = bench_commands_next;
        cfg.ctx = cmds;
        cmds->last_id = cmds->next_id + s->budget - 1;
    }
    struct loadgen_result r;
    if (loadgen_run(&cfg, &r) != 0)
        return -1;
    struct cell *c = &s->cells[side][level];
    c->rps[round] = r.rps;
    c->p50[round] = r.p50_us;
    c->p99[round] = r.p99_us;
    c->bad += r.non2xx + r.errors;
    fprintf(stderr, "  %-12s c=%-3u round %u: %8.0f req/s  p50 %6.0f us  p99 %6.0f us%s\n",
            SIDE_NAMES[side], cfg.connections, round + 1, r.rps, r.p50_us, r.p99_us,
            r.non2xx + r.errors ? "  (some answers were not 2xx)" : "");
    if (side >= REFERENCE) {
        /* Deliveries of this window finish before the next side is measured. */
        bench_drain(s->procs[side].url, 120000);
        bench_receiver_clear(&s->receiver);
    }
    return 0;
}

/* The median over n rounds of a's rate over b's, each round against its own. */
static double ratio(const struct cell *a, const struct cell *b, unsigned n)
{
    double ratios[MAX_ROUNDS];
    for (unsigned k = 0; k < n; k++)
        ratios[k] = b->rps[k] > 0 ? a->rps[k] / b->rps[k] : 0;
    return bench_median(ratios, n);
}

static json_t *summary(struct state *s)
{
    json_t *levels = json_array();
    unsigned n = s->opt.rounds;
    for (size_t l = 0; l < s->opt.level_count; l++) {
        json_t *o = json_pack("{s:i}", "connections", (int)s->opt.levels[l]);
        for (int side = 0; side < SIDE_COUNT; side++) {
            if (!(s->opt.sides & (1u << side)))
                continue;
            struct cell *c = &s->cells[side][l];
            json_t *rounds = json_array();
            for (unsigned k = 0; k < n; k++)
                json_array_append_new(rounds, json_real(c->rps[k]));
            json_object_set_new(
                o, SIDE_NAMES[side],
                json_pack("{s:f, s:f, s:f, s:o, s:I}", "rps", bench_median(c->rps, n), "p50_us",
                          bench_median(c->p50, n), "p99_us", bench_median(c->p99, n), "rps_rounds",
                          rounds, "not_2xx", (json_int_t)c->bad));
            char key[64];
            if (side != FLOOR) {
                snprintf(key, sizeof(key), "ratio_%s", SIDE_NAMES[side]);
                json_object_set_new(o, key, json_real(ratio(c, &s->cells[FLOOR][l], n)));
            }
            /* The reference against what the transport alone allows with the same calls. */
            if ((side == REFERENCE || side == REFERENCE_B) &&
                (s->opt.sides & (1u << FLOOR_CALLS))) {
                snprintf(key, sizeof(key), "ratio_%s_to_floor_calls", SIDE_NAMES[side]);
                json_object_set_new(o, key, json_real(ratio(c, &s->cells[FLOOR_CALLS][l], n)));
            }
        }
        json_array_append_new(levels, o);
    }
    return levels;
}

int main(int argc, char **argv)
{
    static struct state s;
    if (parse(argc, argv, &s.opt) != 0) {
        fprintf(
            stderr,
            "usage: bench-throughput --bindir DIR --out FILE --tmp DIR [--rounds N]\n"
            "       [--duration S] [--warmup S] [--conns 1,8,32,128] "
            "[--packages N] [--log FILE]\n"
            "       [--sides floor,wrapper,floor_calls,reference,reference_db,reference_no_calls,"
            "reference_b,reference_no_calls_b]\n"
            "       [--compare-bindir DIR (the _b sides: oms-reference from DIR)]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char db[1024];
    snprintf(db, sizeof(db), "%s/throughput.db", s.opt.tmp);
    unlink(db);
    int rc = 3;
    if (bench_start_receiver(&s.opt.env, &s.receiver) != 0)
        goto done;
    for (int side = 0; side < SIDE_COUNT; side++) {
        if (!(s.opt.sides & (1u << side)))
            continue;
        const struct bench_env *env =
            side == REFERENCE_B || side == REFERENCE_NO_CALLS_B ? &s.opt.env_b : &s.opt.env;
        char hooks[600]; /* floor_calls sends its calls to the floor, started before it */
        if (side == FLOOR_CALLS)
            snprintf(hooks, sizeof(hooks), "%s/hooks/floor", s.procs[FLOOR].url);
        int started =
            side == FLOOR     ? bench_start_floor(env, 0, &s.procs[side])
            : side == WRAPPER ? bench_start_floor(env, 1, &s.procs[side])
            : side == FLOOR_CALLS
                ? bench_start_floor_calls(env, CALLS_PER_COMMAND, hooks, &s.procs[side])
                : bench_start_reference(env, side == REFERENCE_DB ? db : NULL, &s.procs[side]);
        if (started != 0)
            goto done;
    }
    s.budget = s.opt.packages / (s.opt.rounds * s.opt.level_count);
    double seed_s[SIDE_COUNT] = {0};
    for (int side = REFERENCE; side < SIDE_COUNT; side++) {
        if (!(s.opt.sides & (1u << side)))
            continue;
        double bytes = 0;
        fprintf(stderr, "  seeding %s with %llu packages\n", SIDE_NAMES[side],
                (unsigned long long)s.opt.packages);
        int no_calls = side == REFERENCE_NO_CALLS || side == REFERENCE_NO_CALLS_B;
        if (bench_seed(s.procs[side].url, s.receiver.url, s.opt.packages, no_calls ? 0 : 1,
                       &seed_s[side], &bytes) != 204)
            goto done;
        snprintf(s.cmds[side].base, sizeof(s.cmds[side].base), "%s", s.procs[side].url);
        s.cmds[side].next_id = 1;
        s.cmds[side].no_sync = no_calls;
    }
    for (size_t l = 0; l < s.opt.level_count; l++)
        for (unsigned round = 0; round < s.opt.rounds; round++)
            for (int side = 0; side < SIDE_COUNT; side++)
                if ((s.opt.sides & (1u << side)) && measure(&s, (enum side)side, l, round) != 0)
                    goto done;

    json_t *doc = json_pack("{s:s, s:i, s:f, s:I, s:I, s:o, s:f, s:f}", "benchmark", "throughput",
                            "rounds", (int)s.opt.rounds, "duration_s", s.opt.duration_s,
                            "packages_seeded", (json_int_t)s.opt.packages, "commands_per_window",
                            (json_int_t)s.budget, "levels", summary(&s), "seed_s_reference",
                            seed_s[REFERENCE], "seed_s_reference_db", seed_s[REFERENCE_DB]);
    json_object_set_new(doc, "rss_kb_reference",
                        json_integer(bench_proc_hwm_kb(&s.procs[REFERENCE])));
    rc = json_dump_file(doc, s.opt.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    json_decref(doc);
done:
    for (int side = 0; side < SIDE_COUNT; side++)
        bench_proc_stop(&s.procs[side]);
    bench_proc_stop(&s.receiver);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char path[1100];
        snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
        unlink(path);
    }
    curl_global_cleanup();
    return rc;
}
