/* bench-floor: the floor of the throughput comparison - libmicrohttpd with the reference's thread
 * model (internal polling thread, epoll, a pool of 4) that reads the body and answers 204 with no
 * work at all. --wrapper runs the same through common/oms_http_server (the project's one MHD
 * wrapper) with an empty handler, to tell the wrapper's cost from the reference's own. */
#include "oms_cli.h"
#include "oms_http_server.h"
#include "oms_signal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    struct MHD_Response *empty = cls;
    if (*con_cls == NULL) {
        *con_cls = &request_seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* consumed */
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, empty);
}

static void on_empty(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 204;
}

static int run_bare(unsigned threads)
{
    struct MHD_Response *empty = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL, 0, NULL, NULL,
        on_access, empty, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
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
    MHD_stop_daemon(d);
    MHD_destroy_response(empty);
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
    long threads = 4;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--wrapper") == 0) {
            wrapper = 1;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc &&
                   oms_cli_int(argv[i + 1], 1, 256, &threads) == 0) {
            i++;
        } else {
            fprintf(stderr, "usage: bench-floor [--wrapper] [--threads N]\n");
            return 2;
        }
    }
    oms_signal_block_termination();
    return wrapper ? run_wrapper((unsigned)threads) : run_bare((unsigned)threads);
}
