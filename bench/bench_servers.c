/* bench_servers: starting the measured programs and seeding the reference. */
#include "bench_servers.h"

#include "oms_cli.h"

#include "bench_control.h"
#include "bench_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_TIMEOUT_MS 20000

static int start(const struct bench_env *env, char **argv, int want_control, struct bench_proc *p)
{
    bench_fixture_token();
    return bench_proc_start(p, argv, env->log_path, want_control, START_TIMEOUT_MS);
}

int bench_start_reference(const struct bench_env *env, const char *db_path, struct bench_proc *p)
{
    char bin[1024];
    snprintf(bin, sizeof(bin), "%s/oms-reference", env->bindir);
    /* A million generated packages and their outbox are far past the default state bound. */
    char *argv[] = {bin,
                    "--port",
                    "0",
                    "--max-state-rows",
                    "1000000000",
                    db_path ? "--db" : NULL,
                    (char *)db_path,
                    NULL};
    return start(env, argv, 0, p);
}

int bench_start_floor(const struct bench_env *env, int wrapper, struct bench_proc *p)
{
    char bin[1024];
    snprintf(bin, sizeof(bin), "%s/bench-floor", env->bindir);
    char *argv[] = {bin, wrapper ? "--wrapper" : NULL, NULL};
    return start(env, argv, 0, p);
}

int bench_start_floor_calls(const struct bench_env *env, unsigned n, const char *calls_url,
                            struct bench_proc *p)
{
    char bin[1024], count[16];
    snprintf(bin, sizeof(bin), "%s/bench-floor", env->bindir);
    snprintf(count, sizeof(count), "%u", n);
    char *argv[] = {bin, "--calls", count, "--calls-to", (char *)calls_url, NULL};
    return start(env, argv, 0, p);
}

int bench_start_receiver(const struct bench_env *env, struct bench_proc *p)
{
    char bin[1024];
    snprintf(bin, sizeof(bin), "%s/mock-webhook", env->bindir);
    char *argv[] = {bin, "--port", "0", NULL};
    return start(env, argv, 1, p);
}

long bench_seed(const char *ref_url, const char *receiver_url, uint64_t packages,
                unsigned subscriptions, double *seconds, double *bytes)
{
    struct bench_fixture_spec spec = {
        .packages = packages,
        .quota = -1,
        .omnitron = receiver_url,
        .hooks = receiver_url,
        .subscriptions = subscriptions,
        .generate = 1, /* a listed 800k-package document would pass the 64 MiB request limit */
    };
    size_t len = 0;
    char *doc = bench_fixture_text(&spec, &len);
    if (bytes)
        *bytes = (double)len;
    long status = bench_fixture_put(ref_url, doc, len, seconds);
    free(doc);
    return status;
}

void bench_receiver_clear(const struct bench_proc *receiver)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/__journal", receiver->control_url);
    bench_http("DELETE", url, NULL, 0, 60000, NULL, NULL);
}

int bench_common_option(const char *a, const char *v, struct bench_env *env, const char **out,
                        unsigned *rounds, unsigned max_rounds)
{
    long n;
    if (strcmp(a, "--bindir") == 0)
        env->bindir = v;
    else if (strcmp(a, "--log") == 0)
        env->log_path = v;
    else if (strcmp(a, "--out") == 0)
        *out = v;
    else if (strcmp(a, "--rounds") != 0)
        return 0;
    else if (oms_cli_int(v, 1, (long)max_rounds, &n) != 0)
        return -1;
    else
        *rounds = (unsigned)n;
    return 1;
}
