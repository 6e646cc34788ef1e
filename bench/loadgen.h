/* loadgen: our HTTP load generator - N keep-alive connections driven by one thread over libcurl's
 * multi interface; each connection sends its next request as soon as the previous answer is in
 * (closed loop), or at a fixed rate (open loop), and every answer's latency is kept. */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include "bench_stats.h"

#define LOADGEN_URL_MAX  512
#define LOADGEN_BODY_MAX 8192

/* One request, filled by the caller's next() into buffers the load generator owns. */
struct loadgen_request {
    char url[LOADGEN_URL_MAX];
    char body[LOADGEN_BODY_MAX];
    size_t body_len; /* 0: no body */
};

/* Fills *req for request number seq (0, 1, ...). Returns 0, or 1 when there is nothing left to
 * send (the run then ends once the requests in flight are answered). */
typedef int (*loadgen_next_fn)(void *ctx, uint64_t seq, struct loadgen_request *req);
/* Told of every answered (or failed) request: status 0 on a transport failure; wall_us is the
 * wall clock (CLOCK_REALTIME, microseconds) when the answer was complete. */
typedef void (*loadgen_done_fn)(void *ctx, uint64_t seq, long status, int64_t wall_us);

struct loadgen_config {
    unsigned connections;  /* concurrent requests, each on its own kept-alive connection */
    double warmup_s;       /* answers in this first stretch are not counted */
    double duration_s;     /* measured stretch after the warm-up */
    uint64_t max_requests; /* 0: unlimited; otherwise no more are started (warm-up included) */
    double rate; /* 0: closed loop; otherwise requests started per second in all (open loop: request
                    k is due rate^-1 * k after the start, and waits for a free connection) */
    const char *method;         /* "GET", "POST", "PUT"... */
    const char *const *headers; /* "Name: value" lines */
    size_t header_count;
    loadgen_next_fn next;
    loadgen_done_fn done; /* optional */
    void *ctx;
};

struct loadgen_result {
    uint64_t requests; /* answered in the measured stretch */
    uint64_t ok;       /* of those, 2xx */
    uint64_t non2xx;
    uint64_t errors;      /* transport failures */
    uint64_t answered;    /* every request answered, warm-up and tail included */
    uint64_t connects;    /* TCP connections opened over the whole run (warm-up included) */
    uint64_t late;        /* open loop: requests started over 1 ms after they were due */
    long last_bad_status; /* last non-2xx status seen, 0 if none */
    double seconds;       /* length of the measured stretch */
    double rps;           /* requests / seconds */
    double p50_us;
    double p99_us;
    double mean_us;
    double max_us;
};

/* Runs the load. Returns 0 and fills *out, or -1 when libcurl could not be set up (nothing was
 * sent). The latency of a request runs from handing it to libcurl to its complete answer. */
int loadgen_run(const struct loadgen_config *cfg, struct loadgen_result *out);

/* Wall clock in microseconds (CLOCK_REALTIME). */
int64_t loadgen_wall_us(void);

#endif
