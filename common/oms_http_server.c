/* oms_http_server: libmicrohttpd behind a whole-request handler interface. Per-request state is
 * allocated on the first access-handler call and freed in the completion callback. */
#define _POSIX_C_SOURCE 200809L
#include "oms_http_server.h"

#include "oms_alloc.h"
#include "oms_json.h"
#include "oms_log.h"
#include "oms_time.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* A connection waiting out an answer's delay (pooled servers suspend it instead of sleeping in a
 * worker thread that serves other connections too). */
struct delayed {
    struct MHD_Connection *conn;
    int64_t resume_at_us; /* microseconds, so truncation never cuts a delay short */
};

struct oms_http_server {
    struct MHD_Daemon *daemon;
    int pooled;
    pthread_t delay_thread;
    pthread_mutex_t delay_mu;
    pthread_cond_t delay_cond;
    struct delayed *delays;
    size_t delay_count;
    size_t delay_cap;
    int stopping;
    oms_http_handler_fn handler;
    void *ctx;
    size_t max_body;
    unsigned port;
    char url[80];
    char name[32];
};

struct pair_list {
    struct oms_http_pair *items;
    size_t count;
    size_t cap;
};

struct conn_state {
    struct oms_buf body;
    int too_large;
    int answered;
    int64_t arrival_ms;
    struct MHD_Response *delayed; /* queued when the connection is resumed */
    unsigned delayed_status;
};

const char *oms_http_request_header(const struct oms_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *oms_http_request_arg(const struct oms_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->arg_count; i++)
        if (strcmp(req->args[i].name, name) == 0)
            return req->args[i].value;
    return NULL;
}

void oms_http_response_header(struct oms_http_response *resp, const char *name, const char *value)
{
    if (resp->header_count >= OMS_HTTP_MAX_RESPONSE_HEADERS) {
        oms_log(OMS_LOG_WARN, "http", "response header \"%s\" dropped: too many headers", name);
        return;
    }
    resp->headers[resp->header_count].name = oms_xstrdup(name);
    resp->headers[resp->header_count].value = oms_xstrdup(value);
    resp->header_count++;
}

void oms_http_response_json(struct oms_http_response *resp, int status, const struct json_t *value)
{
    char *text = oms_json_dumps((const json_t *)value);
    resp->status = status;
    oms_buf_reset(&resp->body);
    oms_buf_puts(&resp->body, text);
    free(text);
    oms_http_response_header(resp, "Content-Type", "application/json");
}

static void pair_list_add(struct pair_list *l, const char *name, const char *value)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = oms_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->count].name = oms_xstrdup(name ? name : "");
    l->items[l->count].value = oms_xstrdup(value ? value : "");
    l->count++;
}

static void pair_list_free(struct pair_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].name);
        free(l->items[i].value);
    }
    free(l->items);
}

static enum MHD_Result collect_pair(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    pair_list_add(cls, key, value);
    return MHD_YES;
}

static void client_address(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    char host[INET6_ADDRSTRLEN] = "";
    unsigned port = 0;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        snprintf(out, size, "%s:%u", host, port);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ci->client_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        snprintf(out, size, "[%s]:%u", host, port);
    }
}

static void response_cleanup(struct oms_http_response *resp)
{
    for (size_t i = 0; i < resp->header_count; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    oms_buf_cleanup(&resp->body);
}

static enum MHD_Result dispatch(struct oms_http_server *s, struct MHD_Connection *conn,
                                const char *url, const char *method, const char *version,
                                struct conn_state *st)
{
    struct pair_list headers = {0}, args = {0};
    char client[INET6_ADDRSTRLEN + 16];
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_pair, &headers);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_pair, &args);
    client_address(conn, client, sizeof(client));

    struct oms_http_request req = {
        .method = method,
        .path = url,
        .version = version,
        .headers = headers.items,
        .header_count = headers.count,
        .args = args.items,
        .arg_count = args.count,
        .body = st->too_large ? "" : oms_buf_str(&st->body),
        .body_len = st->too_large ? 0 : st->body.len,
        .body_too_large = st->too_large,
        .client = client,
        .arrival_ms = st->arrival_ms,
    };
    struct oms_http_response resp = {.status = 500};
    oms_buf_init(&resp.body, 0);
    s->handler(s->ctx, &req, &resp);
    pair_list_free(&headers);
    pair_list_free(&args);
    st->answered = 1;

    if (resp.delay_ms > 0 && (!s->pooled || resp.status == 0))
        oms_time_sleep_ms(resp.delay_ms);
    if (resp.status == 0) {
        /* Returning MHD_NO closes the connection without a response. */
        response_cleanup(&resp);
        return MHD_NO;
    }
    size_t len = 0;
    char *body = oms_buf_take(&resp.body, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        response_cleanup(&resp);
        return MHD_NO;
    }
    for (size_t i = 0; i < resp.header_count; i++)
        MHD_add_response_header(r, resp.headers[i].name, resp.headers[i].value);
    pthread_mutex_lock(&s->delay_mu);
    int suspend = resp.delay_ms > 0 && s->pooled && !s->stopping;
    if (!suspend)
        pthread_mutex_unlock(&s->delay_mu);
    if (suspend) {
        st->delayed = r;
        st->delayed_status = (unsigned)resp.status;
        if (s->delay_count == s->delay_cap) {
            s->delay_cap = s->delay_cap ? s->delay_cap * 2 : 16;
            s->delays = oms_xrealloc(s->delays, s->delay_cap * sizeof(*s->delays));
        }
        MHD_suspend_connection(conn);
        s->delays[s->delay_count].conn = conn;
        s->delays[s->delay_count].resume_at_us = oms_time_mono_us() + resp.delay_ms * 1000;
        s->delay_count++;
        pthread_cond_signal(&s->delay_cond);
        pthread_mutex_unlock(&s->delay_mu);
        response_cleanup(&resp);
        return MHD_YES;
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp.status, r);
    MHD_destroy_response(r);
    response_cleanup(&resp);
    return ret;
}

static int declared_too_large(struct MHD_Connection *conn, size_t max)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (!cl)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno == 0 && end != cl && n > max;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct oms_http_server *s = cls;
    struct conn_state *st = *con_cls;
    if (!st) {
        st = OMS_NEW(struct conn_state);
        oms_buf_init(&st->body, s->max_body);
        st->arrival_ms = oms_time_wall_ms();
        *con_cls = st;
        /* A declared oversize body is answered before it is read. */
        if (declared_too_large(conn, s->max_body)) {
            st->too_large = 1;
            return dispatch(s, conn, url, method, version, st);
        }
        return MHD_YES;
    }
    if (st->delayed) {
        /* Resumed after its delay: the answer was made before it was suspended. */
        enum MHD_Result ret = MHD_queue_response(conn, st->delayed_status, st->delayed);
        MHD_destroy_response(st->delayed);
        st->delayed = NULL;
        return ret;
    }
    if (*upload_data_size != 0) {
        if (!st->too_large && !st->answered &&
            oms_buf_append(&st->body, upload_data, *upload_data_size) != 0) {
            st->too_large = 1;
            oms_buf_cleanup(&st->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->answered)
        return MHD_YES;
    return dispatch(s, conn, url, method, version, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct conn_state *st = *con_cls;
    if (!st)
        return;
    if (st->delayed)
        MHD_destroy_response(st->delayed);
    oms_buf_cleanup(&st->body);
    free(st);
    *con_cls = NULL;
}

/* Resumes suspended connections as their delays run out (all of them when the server stops). */
static void *delay_worker(void *arg)
{
    struct oms_http_server *s = arg;
    pthread_mutex_lock(&s->delay_mu);
    for (;;) {
        int64_t now = oms_time_mono_us(), next = INT64_MAX;
        for (size_t i = 0; i < s->delay_count;) {
            if (s->stopping || s->delays[i].resume_at_us <= now) {
                MHD_resume_connection(s->delays[i].conn);
                s->delays[i] = s->delays[--s->delay_count];
                continue;
            }
            if (s->delays[i].resume_at_us < next)
                next = s->delays[i].resume_at_us;
            i++;
        }
        if (s->stopping)
            break;
        if (next == INT64_MAX) {
            pthread_cond_wait(&s->delay_cond, &s->delay_mu);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t wait = next - now;
            ts.tv_sec += (time_t)(wait / 1000000);
            ts.tv_nsec += (long)(wait % 1000000) * 1000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->delay_cond, &s->delay_mu, &ts);
        }
    }
    pthread_mutex_unlock(&s->delay_mu);
    return NULL;
}

static void __attribute__((format(printf, 2, 0))) mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct oms_http_server *s = cls;
    if (oms_log_get_level() < OMS_LOG_DEBUG)
        return;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    oms_log(OMS_LOG_DEBUG, s->name, "libmicrohttpd: %s", line);
}

int oms_http_server_start(const struct oms_http_server_config *cfg, struct oms_http_server **out,
                          struct oms_err *err)
{
    const char *bind = cfg->bind ? cfg->bind : "127.0.0.1";
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    int v6 = 0;
    if (inet_pton(AF_INET, bind, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)cfg->port);
    } else if (inet_pton(AF_INET6, bind, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)cfg->port);
        flags |= MHD_USE_IPv6;
        v6 = 1;
    } else {
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, NULL,
                           "bind address \"%s\" is not a numeric IPv4 or IPv6 address", bind);
    }
    if (cfg->port > 65535)
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, NULL, "port %u is out of range",
                           cfg->port);

    struct oms_http_server *s = OMS_NEW(struct oms_http_server);
    s->handler = cfg->handler;
    s->ctx = cfg->ctx;
    s->max_body = cfg->max_body ? cfg->max_body : 1024 * 1024;
    snprintf(s->name, sizeof(s->name), "%s", cfg->name ? cfg->name : "http");

    unsigned pool = 0;
    if (cfg->threads == 0) {
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    } else {
        flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
        pool = cfg->threads > 1 ? cfg->threads : 0;
        s->pooled = 1;
    }
    pthread_mutex_init(&s->delay_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->delay_cond, &ca);
    pthread_condattr_destroy(&ca);
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, s},
        {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
        {pool ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, pool, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->daemon = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_access, s,
                                 MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
    if (!s->daemon) {
        int saved = errno;
        pthread_cond_destroy(&s->delay_cond);
        pthread_mutex_destroy(&s->delay_mu);
        free(s);
        return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL, "cannot listen on %s%s%s:%u: %s",
                           v6 ? "[" : "", bind, v6 ? "]" : "", cfg->port,
                           saved ? strerror(saved) : "libmicrohttpd refused to start");
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    snprintf(s->url, sizeof(s->url), "http://%s%s%s:%u", v6 ? "[" : "", bind, v6 ? "]" : "",
             s->port);
    if (s->pooled && pthread_create(&s->delay_thread, NULL, delay_worker, s) != 0) {
        fprintf(stderr, "fatal: cannot start a thread\n");
        abort();
    }
    *out = s;
    return 0;
}

unsigned oms_http_server_port(const struct oms_http_server *s)
{
    return s->port;
}

const char *oms_http_server_url(const struct oms_http_server *s)
{
    return s->url;
}

void oms_http_server_stop(struct oms_http_server *s)
{
    if (!s)
        return;
    if (s->pooled) {
        /* MHD must not be stopped with connections suspended: resume them all first. */
        pthread_mutex_lock(&s->delay_mu);
        s->stopping = 1;
        pthread_cond_signal(&s->delay_cond);
        pthread_mutex_unlock(&s->delay_mu);
        pthread_join(s->delay_thread, NULL);
    }
    MHD_stop_daemon(s->daemon);
    pthread_cond_destroy(&s->delay_cond);
    pthread_mutex_destroy(&s->delay_mu);
    free(s->delays);
    free(s);
}
