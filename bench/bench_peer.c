/* bench-peer: our recording receiver (mock-webhook) beside an npm peer (mockttp, see
 * peer_mockttp.mjs), both as child processes recording every request and answering; the same
 * load generator sends webhook-like POSTs to each, alternated round by round at each connection
 * count. After each window the receiver's journal is counted (recorded / answered) and cleared. */
#include "bench_control.h"
#include "bench_proc.h"
#include "bench_servers.h"
#include "bench_stats.h"
#include "loadgen.h"
#include "oms_cli.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS 8
#define MAX_ROUNDS 32

enum side { OURS, PEER, SIDE_COUNT };

static const char *const SIDE_NAMES[SIDE_COUNT] = {"mock_webhook", "mockttp"};

static const char BODY[] =
    "{\"event\":{\"type\":\"package.status.packed_for_refund\",\"uuid\":"
    "\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"},\"payload\":{\"id\":501,\"order_number\":\"ORDER-501\","
    "\"location\":1,\"status\":\"1100\",\"items\":[{\"id\":9001,\"order_item\":7001,\"sku\":"
    "\"SKU-A\",\"quantity\":1,\"status\":\"1100\"},{\"id\":9002,\"order_item\":7002,\"sku\":"
    "\"SKU-B\",\"quantity\":1,\"status\":\"1100\"}]}}";

static const char *const HEADERS[] = {
    "Content-Type: application/json",
    "X-Akinon-Signature: sha256=6b2c1f5e8d7a9c0b3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
};

struct options {
    struct bench_env env;
    const char *peer_script;
    const char *out;
    unsigned rounds;
    double duration_s;
    unsigned levels[MAX_LEVELS];
    size_t level_count;
};

struct cell {
    double rps[MAX_ROUNDS], p50[MAX_ROUNDS], p99[MAX_ROUNDS];
    uint64_t answered, recorded;
};

static int parse_levels(const char *s, struct options *o)
{
    uint64_t v[MAX_LEVELS];
    o->level_count = bench_parse_list(s, 1, 4096, v, MAX_LEVELS);
    for (size_t i = 0; i < o->level_count; i++)
        o->levels[i] = (unsigned)v[i];
    return o->level_count ? 0 : -1;
}

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.rounds = 3, .duration_s = 2};
    parse_levels("1,8,32,128", o);
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        int common = bench_common_option(a, v, &o->env, &o->out, &o->rounds, MAX_ROUNDS);
        if (common < 0)
            return -1;
        if (common > 0)
            continue;
        if (strcmp(a, "--peer") == 0)
            o->peer_script = v;
        else if (strcmp(a, "--duration") == 0)
            o->duration_s = strtod(v, NULL);
        else if (strcmp(a, "--conns") == 0 && parse_levels(v, o) == 0)
            continue;
        else
            return -1;
    }
    return o->env.bindir && o->peer_script && o->out && o->duration_s > 0 ? 0 : -1;
}

static int next_hook(void *ctx, uint64_t seq, struct loadgen_request *req)
{
    (void)seq;
    const struct bench_proc *p = ctx;
    snprintf(req->url, sizeof(req->url), "%s/hooks/erp", p->url);
    memcpy(req->body, BODY, sizeof(BODY));
    req->body_len = sizeof(BODY) - 1;
    return 0;
}

/* How many requests the receiver recorded; then its journal is emptied. */
static uint64_t recorded_and_clear(enum side side, const struct bench_proc *p)
{
    char url[512], *resp = NULL;
    /* last=0: the counts without the entries, so the read does not weigh on the receiver. */
    snprintf(url, sizeof(url), "%s/%s", p->control_url,
             side == OURS ? "__journal?last=0" : "__count");
    long status = bench_http("GET", url, NULL, 0, 120000, &resp, NULL);
    uint64_t n = 0;
    json_t *doc = status == 200 && resp ? json_loads(resp, 0, NULL) : NULL;
    /* Ours keeps its newest entries only; what it forgot was recorded too. */
    n = (uint64_t)json_integer_value(json_object_get(doc, "count")) +
        (uint64_t)json_integer_value(json_object_get(doc, "dropped"));
    json_decref(doc);
    free(resp);
    snprintf(url, sizeof(url), "%s/__journal", p->control_url);
    bench_http("DELETE", url, NULL, 0, 60000, NULL, NULL);
    return n;
}

int main(int argc, char **argv)
{
    static struct options o;
    static struct cell cells[SIDE_COUNT][MAX_LEVELS];
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-peer --bindir DIR --peer peer_mockttp.mjs --out FILE\n"
                        "       [--rounds N] [--duration S] [--conns 1,8,32,128] [--log FILE]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct bench_proc procs[SIDE_COUNT] = {0};
    char *node_argv[] = {"node", (char *)o.peer_script, NULL};
    int rc = 3;
    if (bench_start_receiver(&o.env, &procs[OURS]) != 0 ||
        bench_proc_start(&procs[PEER], node_argv, o.env.log_path, 1, 30000) != 0)
        goto done;
    for (size_t l = 0; l < o.level_count; l++)
        for (unsigned round = 0; round < o.rounds; round++)
            for (int side = 0; side < SIDE_COUNT; side++) {
                struct loadgen_config cfg = {
                    .connections = o.levels[l],
                    .warmup_s = 0.3,
                    .duration_s = o.duration_s,
                    .method = "POST",
                    .headers = HEADERS,
                    .header_count = 2,
                    .next = next_hook,
                    .ctx = &procs[side],
                };
                struct loadgen_result r;
                if (loadgen_run(&cfg, &r) != 0)
                    goto done;
                struct cell *c = &cells[side][l];
                c->rps[round] = r.rps;
                c->p50[round] = r.p50_us;
                c->p99[round] = r.p99_us;
                c->answered += r.answered;
                c->recorded += recorded_and_clear((enum side)side, &procs[side]);
                fprintf(stderr,
                        "  %-12s c=%-3u round %u: %8.0f recorded req/s  p50 %6.0f us  p99 %6.0f "
                        "us\n",
                        SIDE_NAMES[side], o.levels[l], round + 1, r.rps, r.p50_us, r.p99_us);
            }
    json_t *levels = json_array();
    for (size_t l = 0; l < o.level_count; l++) {
        json_t *e = json_pack("{s:i}", "connections", (int)o.levels[l]);
        double ratios[MAX_ROUNDS];
        for (unsigned k = 0; k < o.rounds; k++)
            ratios[k] =
                cells[PEER][l].rps[k] > 0 ? cells[OURS][l].rps[k] / cells[PEER][l].rps[k] : 0;
        for (int side = 0; side < SIDE_COUNT; side++) {
            struct cell *c = &cells[side][l];
            json_object_set_new(
                e, SIDE_NAMES[side],
                json_pack("{s:f, s:f, s:f, s:I, s:I}", "rps", bench_median(c->rps, o.rounds),
                          "p50_us", bench_median(c->p50, o.rounds), "p99_us",
                          bench_median(c->p99, o.rounds), "answered", (json_int_t)c->answered,
                          "recorded", (json_int_t)c->recorded));
        }
        json_object_set_new(e, "ratio_ours_to_peer", json_real(bench_median(ratios, o.rounds)));
        json_array_append_new(levels, e);
    }
    json_t *doc =
        json_pack("{s:s, s:s, s:i, s:f, s:o, s:I, s:I}", "benchmark", "peer", "peer",
                  "mockttp 4.6.5 (node)", "rounds", (int)o.rounds, "duration_s", o.duration_s,
                  "levels", levels, "vmhwm_kb_ours", (json_int_t)bench_proc_hwm_kb(&procs[OURS]),
                  "vmhwm_kb_peer", (json_int_t)bench_proc_hwm_kb(&procs[PEER]));
    rc = json_dump_file(doc, o.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    json_decref(doc);
done:
    for (int side = 0; side < SIDE_COUNT; side++)
        bench_proc_stop(&procs[side]);
    curl_global_cleanup();
    return rc;
}
