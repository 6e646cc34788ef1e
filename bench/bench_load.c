/* bench-load: our load generator as a program - N kept-alive connections over libcurl multi,
 * closed loop, requests/s and latency percentiles as one JSON line. With --id-from N, "{id}" in
 * the URL and the body becomes N, N+1, ... (one fresh package per command). */
#include "loadgen.h"
#include "oms_cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixed {
    const char *url;
    const char *body;
    long id_from; /* 0: no {id} substitution */
};

/* Copies template into out, "{id}" replaced by id. */
static void expand(char *out, size_t size, const char *template, long id)
{
    const char *at = id ? strstr(template, "{id}") : NULL;
    if (!at) {
        snprintf(out, size, "%s", template);
        return;
    }
    snprintf(out, size, "%.*s%ld%s", (int)(at - template), template, id, at + 4);
}

static int next_fixed(void *ctx, uint64_t seq, struct loadgen_request *req)
{
    const struct fixed *f = ctx;
    long id = f->id_from ? f->id_from + (long)seq : 0;
    expand(req->url, sizeof(req->url), f->url, id);
    if (f->body) {
        expand(req->body, sizeof(req->body), f->body, id);
        req->body_len = strlen(req->body);
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: bench-load --url URL [-c CONNECTIONS] [-d SECONDS] [--warmup SECONDS]\n"
                 "                  [--method M] [--body TEXT] [--header 'Name: value']...\n"
                 "                  [--requests N] [--id-from N] [--rate PER_S]\n"
                 "Prints {\"rps\", \"p50_us\", \"p99_us\", ...} as one JSON line.\n");
}

int main(int argc, char **argv)
{
    struct fixed f = {0};
    const char *headers[32];
    struct loadgen_config cfg = {
        .connections = 1, .warmup_s = 0.5, .duration_s = 5, .method = "GET", .headers = headers};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!v) {
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--url") == 0) {
            f.url = v;
        } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--connections") == 0) &&
                   oms_cli_int(v, 1, 4096, &n) == 0) {
            cfg.connections = (unsigned)n;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--duration") == 0) {
            cfg.duration_s = strtod(v, NULL);
        } else if (strcmp(a, "--warmup") == 0) {
            cfg.warmup_s = strtod(v, NULL);
        } else if (strcmp(a, "--method") == 0) {
            cfg.method = v;
        } else if (strcmp(a, "--body") == 0) {
            f.body = v;
        } else if (strcmp(a, "--header") == 0 && cfg.header_count < 32) {
            headers[cfg.header_count++] = v;
        } else if (strcmp(a, "--id-from") == 0 && oms_cli_int(v, 1, 2000000000, &n) == 0) {
            f.id_from = n;
        } else if (strcmp(a, "--rate") == 0) {
            cfg.rate = strtod(v, NULL);
        } else if (strcmp(a, "--requests") == 0 && oms_cli_int(v, 1, 2000000000, &n) == 0) {
            cfg.max_requests = (uint64_t)n;
        } else {
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (!f.url || cfg.duration_s <= 0) {
        usage(stderr);
        return 2;
    }
    cfg.next = next_fixed;
    cfg.ctx = &f;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct loadgen_result r;
    if (loadgen_run(&cfg, &r) != 0) {
        fprintf(stderr, "bench-load: libcurl could not be set up\n");
        return 3;
    }
    printf("{\"connections\": %u, \"requests\": %llu, \"ok\": %llu, \"non2xx\": %llu, "
           "\"errors\": %llu, \"connects\": %llu, \"seconds\": %.3f, \"rps\": %.1f, "
           "\"p50_us\": %.1f, \"p99_us\": %.1f, \"mean_us\": %.1f, \"max_us\": %.1f, "
           "\"late\": %llu}\n",
           cfg.connections, (unsigned long long)r.requests, (unsigned long long)r.ok,
           (unsigned long long)r.non2xx, (unsigned long long)r.errors,
           (unsigned long long)r.connects, r.seconds, r.rps, r.p50_us, r.p99_us, r.mean_us,
           r.max_us, (unsigned long long)r.late);
    curl_global_cleanup();
    return 0;
}
