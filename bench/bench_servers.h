/* bench_servers: the programs the benchmarks start as child processes (the reference, the floor,
 * the recording receiver), found in one bin directory, and the seeding of a reference. */
#ifndef BENCH_SERVERS_H
#define BENCH_SERVERS_H

#include <stdint.h>

#include "bench_proc.h"

/* Where the built programs are (build-bench/bin), and where child stderr goes (may be NULL). */
struct bench_env {
    const char *bindir;
    const char *log_path;
};

/* The options every benchmark program takes: --bindir DIR, --log FILE, --out FILE and
 * --rounds N (1..max_rounds). Returns 1 when a (with its value v) was one of them and is applied,
 * 0 when it is another option, -1 when its value is bad. */
int bench_common_option(const char *a, const char *v, struct bench_env *env, const char **out,
                        unsigned *rounds, unsigned max_rounds);

/* Starts oms-reference on an ephemeral port; db_path NULL keeps state in memory. Returns 0 or -1
 * (message on stderr). */
int bench_start_reference(const struct bench_env *env, const char *db_path, struct bench_proc *p);
/* Starts bench-floor (wrapper: through common/oms_http_server). */
int bench_start_floor(const struct bench_env *env, int wrapper, struct bench_proc *p);
/* Starts bench-floor --calls n --calls-to calls_url: the floor, and n deliveries a request. */
int bench_start_floor_calls(const struct bench_env *env, unsigned n, const char *calls_url,
                            struct bench_proc *p);
/* Starts mock-webhook (answers 200, journals everything); p->control_url is its control
 * listener. */
int bench_start_receiver(const struct bench_env *env, struct bench_proc *p);

/* Loads a state of `packages` Waiting packages (see bench_fixture.h; made by the target from a
 * "generate" block) with `subscriptions`
 * subscriptions; Omnitron and the hooks go to receiver_url. Returns the status of the load
 * (204 on success), *seconds its length and *bytes the document's size. */
long bench_seed(const char *ref_url, const char *receiver_url, uint64_t packages,
                unsigned subscriptions, double *seconds, double *bytes);

/* Empties a mock-webhook's journal (DELETE control/__journal). */
void bench_receiver_clear(const struct bench_proc *receiver);

#endif
