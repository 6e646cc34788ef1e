/* bench-floor: the floor of the throughput comparison - libmicrohttpd with the reference's thread
 * model (internal polling thread, epoll, a pool of 4) that reads the body and answers 204 with no
 * work at all. --wrapper runs the same through common/oms_http_server (the project's one MHD
 * wrapper) with an empty handler, to tell the wrapper's cost from the reference's own.
 *
 * --calls N --calls-to URL: the same floor, and each request also causes N POSTs to URL, sent by
 * one delivery thread through the client the reference's outbox uses (oms_http_pool: libcurl
 * multi, kept-alive connections, at most 64 in flight) and held back like the reference's outbox
 * (a request waits while BACKLOG calls are not yet answered). No store, no JSON, no recording: the
 * transport cost of a command with N deliveries, which no implementation on libmicrohttpd and
 * libcurl can go below. */
#include "oms_cli.h"
#include "oms_http_client.h"
#include "oms_http_server.h"
#include "oms_signal.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLS_IN_FLIGHT 64   /* the reference's OUTBOX_MAX_FLIGHTS */
#define CALLS_BACKLOG   1024 /* the reference's default --max-backlog */

/* A delivery's size and headers, close to a reference webhook (Content-Type, Delivery-Id,
 * Delivery-Attempt and a signature). */
static const char CALL_BODY[] =
    "{\"event_type\":\"package.status.packed_for_refund\",\"uuid\":"
    "\"00000000-0000-4000-8000-000000000000\",\"created_date\":\"2026-11-30T00:00:00Z\","
    "\"data\":{\"package\":{\"id\":1,\"number\":\"PKG-1\",\"status\":\"packed_for_refund\","
    "\"stock_location\":1,\"items\":[{\"id\":1,\"status\":\"packed_for_refund\"},"
    "{\"id\":2,\"status\":\"packed_for_refund\"}]}}}";
static const char *const CALL_HEADERS[] = {
    "Content-Type: application/json",
    "Delivery-Id: 00000000-0000-4000-8000-000000000000",
    "Delivery-Attempt: 1",
    "X-Signature: sha256=0000000000000000000000000000000000000000000000000000000000000000",
};

struct calls {
    const char *url;
    unsigned per_request;
    struct oms_http_pool *pool;
    pthread_mutex_t mu;
    pthread_cond_t room; /* backlog fell below CALLS_BACKLOG */
    uint64_t queued;     /* asked for, not started */
    uint64_t backlog;    /* asked for, not answered */
    uint64_t sent, failed;
    int running;
    atomic_int nudged; /* a wake-up is on its way to the delivery thread */
};

struct floor_ctx {
    struct MHD_Response *empty;
    struct calls *calls; /* NULL: no calls */
};

/* From a request thread: N more calls, after waiting for room like a held command. */
static void calls_ask(struct calls *c)
{
    pthread_mutex_lock(&c->mu);
    while (c->running && c->backlog >= CALLS_BACKLOG)
        pthread_cond_wait(&c->room, &c->mu);
    c->queued += c->per_request;
    c->backlog += c->per_request;
    pthread_mutex_unlock(&c->mu);
    if (atomic_exchange(&c->nudged, 1) == 0)
        oms_http_pool_wakeup(c->pool);
}

static void *calls_worker(void *arg)
{
    struct calls *c = arg;
    struct oms_http_exchange slots[CALLS_IN_FLIGHT];
    struct oms_http_exchange *free_slots[CALLS_IN_FLIGHT], *done[CALLS_IN_FLIGHT + 1];
    size_t free_count = CALLS_IN_FLIGHT;
    for (size_t i = 0; i < CALLS_IN_FLIGHT; i++)
        free_slots[i] = &slots[i];
    for (;;) {
        pthread_mutex_lock(&c->mu);
        if (!c->running) {
            pthread_mutex_unlock(&c->mu);
            break;
        }
        atomic_store(&c->nudged, 0);
        uint64_t take = c->queued < free_count ? c->queued : free_count;
        c->queued -= take;
        pthread_mutex_unlock(&c->mu);
        for (uint64_t k = 0; k < take; k++) {
            struct oms_http_exchange *x = free_slots[--free_count];
            *x = (struct oms_http_exchange){
                .method = "POST",
                .url = c->url,
                .headers = CALL_HEADERS,
                .header_count = sizeof(CALL_HEADERS) / sizeof(CALL_HEADERS[0]),
                .body = CALL_BODY,
                .body_len = sizeof(CALL_BODY) - 1,
                .timeout_ms = 10000,
                .idempotent = 1,
            };
            oms_http_pool_add(c->pool, x);
        }
        size_t n = oms_http_pool_run(c->pool, free_count == CALLS_IN_FLIGHT ? 100 : 10, done,
                                     CALLS_IN_FLIGHT);
        uint64_t failed = 0;
        for (size_t i = 0; i < n; i++) {
            failed += done[i]->result != 0 || done[i]->status >= 300;
            oms_http_exchange_cleanup(done[i]);
            free_slots[free_count++] = done[i];
        }
        if (n) {
            pthread_mutex_lock(&c->mu);
            c->backlog -= n;
            c->sent += n;
            c->failed += failed;
            pthread_cond_broadcast(&c->room);
            pthread_mutex_unlock(&c->mu);
        }
    }
    return NULL;
}

/* Per-request marker: MHD calls the handler first with no body, then with body chunks. */
static int request_seen;

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    struct floor_ctx *f = cls;
    if (*con_cls == NULL) {
        *con_cls = &request_seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* consumed */
        return MHD_YES;
    }
    if (f->calls)
        calls_ask(f->calls);
    return MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, f->empty);
}

static void on_empty(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 204;
}

static int run_bare(unsigned threads, struct calls *calls)
{
    struct floor_ctx ctx = {
        .empty = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT),
        .calls = calls,
    };
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL, 0, NULL, NULL,
        on_access, &ctx, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_THREAD_POOL_SIZE,
        threads, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench-floor: libmicrohttpd refused to start\n");
        return 3;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("bench-floor: listening on http://127.0.0.1:%u\n", di ? (unsigned)di->port : 0u);
    fflush(stdout);
    oms_signal_wait_termination();
    if (calls) {
        /* Requests waiting for room give up, so the daemon can stop. */
        pthread_mutex_lock(&calls->mu);
        calls->running = 0;
        pthread_cond_broadcast(&calls->room);
        pthread_mutex_unlock(&calls->mu);
    }
    MHD_stop_daemon(d);
    MHD_destroy_response(ctx.empty);
    return 0;
}

static int run_wrapper(unsigned threads)
{
    struct oms_http_server_config cfg = {
        .threads = threads,
        .max_body = 64 * 1024 * 1024,
        .handler = on_empty,
        .name = "bench-floor",
    };
    struct oms_http_server *s = NULL;
    struct oms_err err = {0};
    if (oms_http_server_start(&cfg, &s, &err) != 0) {
        fprintf(stderr, "bench-floor: %s\n", err.message);
        return 3;
    }
    printf("bench-floor: listening on %s\n", oms_http_server_url(s));
    fflush(stdout);
    oms_signal_wait_termination();
    oms_http_server_stop(s);
    return 0;
}

int main(int argc, char **argv)
{
    int wrapper = 0;
    long threads = 4, per_request = 0;
    const char *calls_to = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--wrapper") == 0) {
            wrapper = 1;
        } else if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc &&
                   oms_cli_int(argv[i + 1], 1, 16, &per_request) == 0) {
            i++;
        } else if (strcmp(argv[i], "--calls-to") == 0 && i + 1 < argc &&
                   oms_http_url_allowed(argv[i + 1])) {
            calls_to = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc &&
                   oms_cli_int(argv[i + 1], 1, 256, &threads) == 0) {
            i++;
        } else {
            fprintf(stderr, "usage: bench-floor [--wrapper | --calls N --calls-to URL] "
                            "[--threads N]\n");
            return 2;
        }
    }
    if (wrapper ? per_request || calls_to : !per_request != !calls_to) {
        fprintf(stderr, "bench-floor: --calls and --calls-to go together, without --wrapper\n");
        return 2;
    }
    oms_signal_block_termination();
    if (wrapper)
        return run_wrapper((unsigned)threads);
    if (!per_request)
        return run_bare((unsigned)threads, NULL);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    static struct calls calls;
    calls.url = calls_to;
    calls.per_request = (unsigned)per_request;
    calls.pool = oms_http_pool_create();
    calls.running = 1;
    pthread_mutex_init(&calls.mu, NULL);
    pthread_cond_init(&calls.room, NULL);
    pthread_t worker;
    if (pthread_create(&worker, NULL, calls_worker, &calls) != 0) {
        fprintf(stderr, "bench-floor: cannot start the delivery thread\n");
        return 3;
    }
    int rc = run_bare((unsigned)threads, &calls);
    oms_http_pool_wakeup(calls.pool);
    pthread_join(worker, NULL);
    fprintf(stderr, "bench-floor: %llu calls answered, %llu failed\n",
            (unsigned long long)calls.sent, (unsigned long long)calls.failed);
    oms_http_pool_destroy(calls.pool);
    curl_global_cleanup();
    return rc;
}
