/* oms_http_server: an HTTP/1.1 server of our own, so that every answer - malformed framing
 * included - is the JSON error envelope, and every bound (head, body, time, connections) is ours
 * to set. A few event loops (I/O threads, epoll) each read and write their share of the
 * connections without blocking; a quick request is answered by its loop, the others go to a pool
 * of worker threads; delayed answers and polls wait on timers, holding no worker. */
#include "oms_http_server.h"

#include "oms_alloc.h"
#include "oms_json.h"
#include "oms_log.h"
#include "oms_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK       65536
#define SWEEP_EVERY_US   100000
#define CLIENT_BUCKETS   256
#define DEFAULT_POLL_MS  20
#define DEFAULT_MAX_BODY (1024 * 1024)

enum phase {
    PH_HEAD,       /* reading the request line and headers */
    PH_BODY,       /* reading a Content-Length body */
    PH_CHUNK_SIZE, /* reading a chunk-size line */
    PH_CHUNK_DATA,
    PH_CHUNK_END, /* the CRLF after a chunk's data */
    PH_TRAILER,   /* trailer lines after the last chunk */
    PH_WORKER,    /* queued for or running in a worker */
    PH_WAIT,      /* a delayed answer or a poll waits for its timer */
    PH_WRITE,     /* sending the answer */
    PH_LINGER,    /* answered and half-closed: what the client still sends is discarded a while */
};

/* After an answer that closes the connection, unread input is discarded for at most this long
 * and this much, so the client reads the answer instead of a reset. A client refused early (401,
 * 413 from its Content-Length) may still be sending a body as large as the largest fixture
 * allowed: discarding costs no memory, and the time bound stops a client that trickles. */
#define LINGER_US    2000000
#define LINGER_BYTES (64 * 1024 * 1024)
#define HEAD_READ    4096

/* Connections open from one client address, for the per-client limit. */
struct client_slot {
    unsigned char addr[16];
    int family;
    unsigned count;
    struct client_slot *next;
};

struct pair_list {
    struct oms_http_pair *items;
    size_t count;
    size_t cap;
};

struct loop;

struct conn {
    int fd;
    struct oms_http_server *server;
    struct loop *loop; /* the event loop that owns it */
    struct client_slot *slot;
    char client[INET6_ADDRSTRLEN + 16];
    struct conn *prev, *next; /* every open connection */
    struct conn *queue_next;  /* the worker queue or the done list */
    enum phase phase;
    /* Input not yet consumed: in[in_off, in_len). */
    char *in;
    size_t in_off, in_len, in_cap;
    size_t head_scanned; /* bytes of the head already checked for its end */
    int64_t started_us;  /* first byte of the current request, or accept, or the answer queued */
    int64_t idle_since_us;
    int idle; /* between requests: idle_timeout applies, not request_timeout */
    /* The parsed head; strings point into head. */
    char *head;
    char *method, *target, *version, *path;
    struct pair_list headers;
    struct pair_list args;
    int64_t content_length; /* -1: none */
    int chunked;
    int keep_alive;
    int expect_continue;
    uint64_t chunk_left;
    size_t max_body;
    struct oms_buf body;
    int too_large;
    int64_t arrival_ms;
    /* The answer. */
    struct oms_http_response resp;
    int has_resp;
    int close_after;
    int64_t due_us; /* PH_WAIT: when the delay ends or the poll is due */
    int polling;
    int hanging; /* PH_WAIT for OMS_HTTP_FAULT_HANG: the client's hang-up ends it */
    char *out;
    size_t out_len, out_off;
    int closing;     /* closed by its loop while a worker had it: freed when it comes back */
    int quick;       /* the config's quick() said its loop may run this request's handler */
    uint32_t events; /* what epoll watches for it now */
    size_t lingered;
    struct conn *grave_next;
};

/* An event loop: one I/O thread and the connections it owns. Loop 0 also accepts, handing the
 * connections out in turn. */
struct loop {
    struct oms_http_server *server;
    int epoll_fd;
    int wake_fd;
    pthread_t thread;
    /* Guarded by the server's mu. */
    struct conn *done;     /* handed back by workers */
    struct conn *incoming; /* accepted by loop 0 for this loop */
    /* This loop's thread only. */
    struct conn *conns;
    unsigned wait_count;    /* connections in PH_WAIT */
    struct conn *graveyard; /* closed, freed once the current round of events is over */
    int64_t next_sweep_us;
    char date[40]; /* the Date header of this second */
    time_t date_at;
};

struct oms_http_server {
    int listen_fd;
    struct loop *loops;
    unsigned loop_count;
    unsigned next_loop; /* loop 0's thread only: the loop the next connection goes to */
    pthread_t *workers;
    unsigned worker_count;
    pthread_mutex_t mu; /* guards queue, the loops' done and incoming lists, stopping */
    pthread_cond_t queue_cond;
    struct conn *queue_head, *queue_tail;
    int stopping;
    pthread_mutex_t clients_mu; /* guards conn_count and clients */
    unsigned conn_count;
    struct client_slot *clients[CLIENT_BUCKETS];
    oms_http_handler_fn handler;
    oms_http_precheck_fn precheck;
    oms_http_quick_fn quick;
    void *ctx;
    size_t max_body;
    struct oms_http_limits limits;
    unsigned port;
    char url[80];
    char name[32];
};

/* ---- requests and responses, as handlers see them ---- */

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

void oms_http_response_error(struct oms_http_response *resp, int status, const char *message)
{
    json_t *doc = json_object();
    json_t *list = json_array();
    json_array_append_new(list, oms_json_string_lossy(message, strlen(message)));
    json_object_set_new(doc, "error", json_pack("{s:o}", "non_field_errors", list));
    json_object_set_new(doc, "status_code", json_integer(status));
    oms_http_response_json(resp, status, doc);
    json_decref(doc);
}

static void response_cleanup(struct oms_http_response *resp)
{
    for (size_t i = 0; i < resp->header_count; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    oms_buf_cleanup(&resp->body);
    if (resp->poll_free)
        resp->poll_free(resp->poll_state);
    memset(resp, 0, sizeof(*resp));
}

static void pair_list_add(struct pair_list *l, char *name, char *value)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = oms_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->count].name = name;
    l->items[l->count].value = value;
    l->count++;
}

/* ---- connection bookkeeping (the clients under clients_mu, the rest on the owning loop) ---- */

static unsigned client_hash(const unsigned char *addr, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h % CLIENT_BUCKETS;
}

/* The slot of the connection's address, created at need; NULL for an unknown family. */
static struct client_slot *client_slot_get(struct oms_http_server *s, const struct sockaddr *sa)
{
    unsigned char key[16] = {0};
    size_t n;
    if (sa->sa_family == AF_INET) {
        n = 4;
        memcpy(key, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        n = 16;
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else {
        return NULL;
    }
    unsigned h = client_hash(key, n);
    for (struct client_slot *c = s->clients[h]; c; c = c->next)
        if (c->family == sa->sa_family && memcmp(c->addr, key, 16) == 0)
            return c;
    struct client_slot *c = OMS_NEW(struct client_slot);
    memcpy(c->addr, key, 16);
    c->family = sa->sa_family;
    c->next = s->clients[h];
    s->clients[h] = c;
    return c;
}

static void client_slot_release(struct oms_http_server *s, struct client_slot *slot)
{
    if (!slot || --slot->count > 0)
        return;
    unsigned h = client_hash(slot->addr, slot->family == AF_INET ? 4 : 16);
    for (struct client_slot **p = &s->clients[h]; *p; p = &(*p)->next)
        if (*p == slot) {
            *p = slot->next;
            free(slot);
            return;
        }
}

static void format_client(const struct sockaddr *sa, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "";
    out[0] = '\0';
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(out, size, "%s:%u", host, ntohs(a->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(out, size, "[%s]:%u", host, ntohs(a->sin6_port));
    }
}

/* Forgets the parsed request (not the input that follows it). */
static void request_reset(struct conn *c)
{
    for (size_t i = 0; i < c->args.count; i++) {
        free(c->args.items[i].name);
        free(c->args.items[i].value);
    }
    c->args.count = 0;
    c->headers.count = 0;
    free(c->head);
    c->head = NULL;
    c->method = c->target = c->version = c->path = NULL;
    c->content_length = -1;
    c->chunked = 0;
    c->keep_alive = 0;
    c->expect_continue = 0;
    c->chunk_left = 0;
    c->too_large = 0;
    c->hanging = 0;
    c->head_scanned = 0;
    oms_buf_cleanup(&c->body);
    if (c->has_resp)
        response_cleanup(&c->resp);
    c->has_resp = 0;
    c->polling = 0;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    c->close_after = 0;
}

static void conn_free(struct conn *c)
{
    request_reset(c);
    free(c->headers.items);
    free(c->args.items);
    free(c->in);
    free(c);
}

static void epoll_set(struct conn *c, uint32_t events)
{
    if (c->events == events)
        return; /* a system call fewer per request when nothing changes */
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(c->loop->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = events;
}

#define READ_EVENTS (EPOLLIN | EPOLLRDHUP)

static void set_phase(struct conn *c, enum phase ph)
{
    if (c->phase == PH_WAIT)
        c->loop->wait_count--;
    if (ph == PH_WAIT)
        c->loop->wait_count++;
    c->phase = ph;
}

/* Closes the socket and unlinks the connection; it is freed now, or by the I/O thread when a
 * worker hands it back. */
static void conn_close(struct conn *c)
{
    struct oms_http_server *s = c->server;
    struct loop *l = c->loop;
    if (c->fd < 0)
        return;
    epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_lock(&s->clients_mu);
    s->conn_count--;
    client_slot_release(s, c->slot);
    pthread_mutex_unlock(&s->clients_mu);
    c->slot = NULL;
    if (c->phase == PH_WORKER) {
        c->closing = 1;
        return;
    }
    set_phase(c, PH_HEAD);
    /* Freed later: the caller, or an event of this round, may still hold it. */
    c->grave_next = l->graveyard;
    l->graveyard = c;
}

static void bury(struct loop *l)
{
    while (l->graveyard) {
        struct conn *c = l->graveyard;
        l->graveyard = c->grave_next;
        conn_free(c);
    }
}

/* ---- answers ---- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

static void out_append(struct oms_buf *b, const char *name, const char *value)
{
    /* A header value never carries a line break into the answer. */
    oms_buf_puts(b, name);
    oms_buf_puts(b, ": ");
    for (const char *p = value; *p; p++)
        if (*p != '\r' && *p != '\n')
            oms_buf_append(b, p, 1);
    oms_buf_puts(b, "\r\n");
}

/* Serialises c->resp into c->out. */
static void build_answer(struct conn *c)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    int status = c->resp.status;
    int head_only = c->method && strcmp(c->method, "HEAD") == 0;
    int no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    if (!c->keep_alive)
        c->close_after = 1;
    /* Answers are built by the connection's loop only: its Date line is made once a second. */
    struct loop *s = c->loop;
    time_t now = time(NULL);
    if (now != s->date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(s->date, sizeof(s->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        s->date_at = now;
    }
    char line[64];
    int n = snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
    oms_buf_append(&b, line, (size_t)n);
    oms_buf_puts(&b, reason_phrase(status));
    oms_buf_puts(&b, "\r\nDate: ");
    oms_buf_puts(&b, s->date);
    oms_buf_puts(&b, "\r\n");
    if (!no_body) {
        n = snprintf(line, sizeof(line), "Content-Length: %zu\r\n", c->resp.body.len);
        oms_buf_append(&b, line, (size_t)n);
    }
    if (c->close_after)
        oms_buf_puts(&b, "Connection: close\r\n");
    for (size_t i = 0; i < c->resp.header_count; i++)
        out_append(&b, c->resp.headers[i].name, c->resp.headers[i].value);
    oms_buf_puts(&b, "\r\n");
    if (!no_body && !head_only && c->resp.body.len)
        oms_buf_append(&b, c->resp.body.data, c->resp.body.len);
    free(c->out);
    c->out = oms_buf_take(&b, &c->out_len);
    c->out_off = 0;
}

static void conn_after_write(struct conn *c);

/* Sends what it can of c->out; on completion goes on with the connection. */
static void conn_write(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            epoll_set(c, EPOLLOUT);
            return;
        }
        conn_close(c);
        return;
    }
    conn_after_write(c);
}

/* Starts sending the answer in c->resp (or closes at once for status 0). */
static void conn_answer(struct conn *c)
{
    if (c->resp.fault == OMS_HTTP_FAULT_RESET) {
        /* SO_LINGER with a zero timeout: close() sends RST, not FIN. */
        struct linger now = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
        conn_close(c);
        return;
    }
    if (c->resp.status == 0) {
        conn_close(c);
        return;
    }
    build_answer(c);
    if (c->resp.fault == OMS_HTTP_FAULT_TRUNCATE) {
        /* The head promises the whole body; half of it arrives before the close. An answer
         * without a body is cut inside its head instead. */
        size_t body = c->resp.body.len;
        c->out_len = body ? c->out_len - (body - body / 2) : c->out_len / 2;
        c->close_after = 1;
    }
    set_phase(c, PH_WRITE);
    c->started_us = oms_time_mono_us(); /* the write has a deadline too */
    conn_write(c);
}

/* Answers a request the server itself refuses: the E-1 envelope, then the connection closes
 * (the rest of what the client sent cannot be trusted to frame a next request). */
static void conn_refuse(struct conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void conn_refuse(struct conn *c, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->has_resp)
        response_cleanup(&c->resp);
    memset(&c->resp, 0, sizeof(c->resp));
    oms_buf_init(&c->resp.body, 0);
    c->has_resp = 1;
    oms_http_response_error(&c->resp, status, msg);
    c->close_after = 1;
    conn_answer(c);
}

/* ---- workers ---- */

static void queue_push(struct oms_http_server *s, struct conn *c)
{
    set_phase(c, PH_WORKER);
    c->queue_next = NULL;
    epoll_set(c, 0); /* nothing is read while the request is handled */
    pthread_mutex_lock(&s->mu);
    if (s->queue_tail)
        s->queue_tail->queue_next = c;
    else
        s->queue_head = c;
    s->queue_tail = c;
    pthread_cond_signal(&s->queue_cond);
    pthread_mutex_unlock(&s->mu);
}

/* The request c holds, as handlers see it (borrowing c's buffers); with_body 0: the head alone,
 * for a precheck before the body is read. */
static struct oms_http_request request_view(const struct conn *c, int with_body)
{
    int body = with_body && !c->too_large;
    return (struct oms_http_request){
        .method = c->method,
        .path = c->path,
        .version = c->version,
        .headers = c->headers.items,
        .header_count = c->headers.count,
        .args = c->args.items,
        .arg_count = c->args.count,
        .body = body ? oms_buf_str(&c->body) : "",
        .body_len = body ? c->body.len : 0,
        .body_too_large = with_body && c->too_large,
        .client = c->client,
        .arrival_ms = c->arrival_ms,
    };
}

static void run_handler(struct oms_http_server *s, struct conn *c)
{
    if (c->polling) {
        struct oms_http_response *r = &c->resp;
        if (r->poll(r->poll_state, r)) {
            if (r->poll_free)
                r->poll_free(r->poll_state);
            r->poll = NULL;
            r->poll_free = NULL;
            r->poll_state = NULL;
            c->polling = 0;
        }
        return;
    }
    struct oms_http_request req = request_view(c, 1);
    if (c->has_resp)
        response_cleanup(&c->resp);
    memset(&c->resp, 0, sizeof(c->resp));
    c->resp.status = 500;
    oms_buf_init(&c->resp.body, 0);
    c->has_resp = 1;
    s->handler(s->ctx, &req, &c->resp);
    c->polling = c->resp.poll != NULL;
}

static void *worker_main(void *arg)
{
    struct oms_http_server *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->queue_head && !s->stopping)
            pthread_cond_wait(&s->queue_cond, &s->mu);
        if (s->stopping)
            break;
        struct conn *c = s->queue_head;
        s->queue_head = c->queue_next;
        if (!s->queue_head)
            s->queue_tail = NULL;
        pthread_mutex_unlock(&s->mu);
        run_handler(s, c);
        pthread_mutex_lock(&s->mu);
        struct loop *l = c->loop;
        int was_empty = l->done == NULL && l->incoming == NULL;
        c->queue_next = l->done;
        l->done = c;
        if (was_empty) {
            /* One wake-up takes the whole list: none needed while it is not taken yet. */
            uint64_t one = 1;
            ssize_t w = write(l->wake_fd, &one, sizeof(one));
            (void)w;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* A worker handed c back (or its loop ran its handler): answer, or wait out a delay or the next
 * poll. */
static void conn_from_worker(struct conn *c)
{
    if (c->closing) {
        conn_free(c);
        return;
    }
    /* Back on its loop: closing it from here on frees it. */
    set_phase(c, PH_WRITE);
    int64_t now = oms_time_mono_us();
    if (c->polling) {
        int64_t every = c->resp.poll_interval_ms > 0 ? c->resp.poll_interval_ms : DEFAULT_POLL_MS;
        set_phase(c, PH_WAIT);
        c->due_us = now + every * 1000;
        return;
    }
    if (c->resp.delay_ms > 0) {
        set_phase(c, PH_WAIT);
        c->due_us = now + c->resp.delay_ms * 1000;
        c->resp.delay_ms = 0;
        return;
    }
    if (c->resp.fault == OMS_HTTP_FAULT_HANG) {
        /* Nothing is ever answered: when the client hangs up, or the request timeout passes,
         * the connection closes as a drop. */
        set_phase(c, PH_WAIT);
        c->due_us = now + c->server->limits.request_timeout_ms * 1000;
        c->resp.fault = OMS_HTTP_FAULT_NONE;
        c->resp.status = 0;
        c->hanging = 1;
        epoll_set(c, EPOLLRDHUP);
        return;
    }
    conn_answer(c);
}

/* ---- parsing ---- */

static int is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+n) ('+' is a space) into a new string; NULL when an escape is malformed
 * or decodes to NUL. */
static char *query_decode(const char *s, size_t n)
{
    char *out = oms_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i] == '+' ? ' ' : s[i];
            continue;
        }
        int hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

/* Splits the query into c->args. Returns 0, or answers 400 and returns OMS_E_INVAL. */
static int parse_query(struct conn *c, const char *q)
{
    while (*q) {
        const char *end = strchr(q, '&');
        size_t n = end ? (size_t)(end - q) : strlen(q);
        if (n > 0) {
            if (c->args.count >= OMS_HTTP_MAX_QUERY_ARGS) {
                conn_refuse(c, 400, "too many query arguments: at most %d are accepted",
                            OMS_HTTP_MAX_QUERY_ARGS);
                return OMS_E_INVAL;
            }
            const char *eq = memchr(q, '=', n);
            size_t kn = eq ? (size_t)(eq - q) : n;
            char *k = query_decode(q, kn);
            char *v = eq ? query_decode(eq + 1, n - kn - 1) : oms_xstrdup("");
            if (!k || !v) {
                free(k);
                free(v);
                conn_refuse(c, 400,
                            "malformed query string: a percent-escape is not two hex digits or "
                            "decodes to NUL");
                return OMS_E_INVAL;
            }
            pair_list_add(&c->args, k, v);
        }
        if (!end)
            break;
        q = end + 1;
    }
    return 0;
}

static const char *header_of(const struct conn *c, const char *name, size_t *count)
{
    const char *found = NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->headers.count; i++)
        if (strcasecmp(c->headers.items[i].name, name) == 0) {
            if (!found)
                found = c->headers.items[i].value;
            n++;
        }
    if (count)
        *count = n;
    return found;
}

/* 1 when the comma-separated list value holds token (case-insensitive). */
static int list_has(const char *value, const char *token)
{
    size_t tn = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - p) == tn && strncasecmp(p, token, tn) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* The request line: METHOD SP origin-form SP HTTP/1.x. Returns 0, or answers and returns
 * OMS_E_INVAL. */
static int parse_request_line(struct conn *c, char *line)
{
    char *sp1 = strchr(line, ' ');
    if (!sp1 || sp1 == line) {
        conn_refuse(c, 400, "malformed request line: expected \"METHOD /path HTTP/1.1\"");
        return OMS_E_INVAL;
    }
    *sp1 = '\0';
    c->method = line;
    for (const char *p = line; *p; p++)
        if (!is_tchar((unsigned char)*p) || p - line >= 32) {
            conn_refuse(c, 400, "malformed request line: the method is not a token");
            return OMS_E_INVAL;
        }
    c->target = sp1 + 1;
    char *sp2 = strchr(c->target, ' ');
    if (!sp2) {
        conn_refuse(c, 400,
                    "malformed request line: no HTTP version (HTTP/0.9 is not supported; send "
                    "HTTP/1.1)");
        return OMS_E_INVAL;
    }
    *sp2 = '\0';
    c->version = sp2 + 1;
    if (strcmp(c->version, "HTTP/1.1") != 0 && strcmp(c->version, "HTTP/1.0") != 0) {
        conn_refuse(c, 400, "unsupported HTTP version \"%.16s\": send HTTP/1.1 or HTTP/1.0",
                    c->version);
        return OMS_E_INVAL;
    }
    size_t tlen = strlen(c->target);
    if (tlen > OMS_HTTP_MAX_TARGET) {
        conn_refuse(c, 414, "the request target is longer than %d bytes", OMS_HTTP_MAX_TARGET);
        return OMS_E_INVAL;
    }
    if (c->target[0] != '/') {
        conn_refuse(c, 400, "the request target must be a path starting with \"/\"");
        return OMS_E_INVAL;
    }
    for (const unsigned char *p = (const unsigned char *)c->target; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f) {
            conn_refuse(c, 400, "the request target holds a byte outside printable ASCII");
            return OMS_E_INVAL;
        }
    for (const char *p = c->target; *p; p++)
        if (*p == '%' && (hexval((unsigned char)p[1]) < 0 || hexval((unsigned char)p[2]) < 0)) {
            conn_refuse(c, 400, "the request target has a \"%%\" not followed by two hex digits");
            return OMS_E_INVAL;
        }
    char *q = strchr(c->target, '?');
    c->path = c->target;
    if (q) {
        *q = '\0';
        if (parse_query(c, q + 1) != 0)
            return OMS_E_INVAL;
    }
    return 0;
}

/* One header line "name: value" (value with its surrounding blanks trimmed). */
static int parse_header_line(struct conn *c, char *line)
{
    if (line[0] == ' ' || line[0] == '\t') {
        conn_refuse(c, 400, "malformed header: a line folded onto the previous one (obs-fold)");
        return OMS_E_INVAL;
    }
    char *colon = strchr(line, ':');
    if (!colon || colon == line) {
        conn_refuse(c, 400, "malformed header line: expected \"Name: value\"");
        return OMS_E_INVAL;
    }
    *colon = '\0';
    for (const char *p = line; *p; p++)
        if (!is_tchar((unsigned char)*p)) {
            conn_refuse(c, 400, "malformed header name: only token characters are allowed");
            return OMS_E_INVAL;
        }
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        v[--n] = '\0';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            conn_refuse(c, 400, "header \"%.64s\" holds a control character", line);
            return OMS_E_INVAL;
        }
    if (c->headers.count >= OMS_HTTP_MAX_HEADERS) {
        conn_refuse(c, 431, "too many header fields: at most %d are accepted",
                    OMS_HTTP_MAX_HEADERS);
        return OMS_E_INVAL;
    }
    pair_list_add(&c->headers, line, v);
    return 0;
}

/* Content-Length, Transfer-Encoding, Host, Expect, Connection. Returns 0 or answers, OMS_E_INVAL.
 */
static int check_framing(struct conn *c)
{
    int v11 = strcmp(c->version, "HTTP/1.1") == 0;
    size_t n = 0;
    const char *host = header_of(c, "Host", &n);
    if ((v11 && !host) || n > 1) {
        conn_refuse(c, 400, "an HTTP/1.1 request needs exactly one Host header");
        return OMS_E_INVAL;
    }
    const char *te = header_of(c, "Transfer-Encoding", &n);
    const char *cl = NULL;
    size_t cl_count = 0;
    for (size_t i = 0; i < c->headers.count; i++) {
        if (strcasecmp(c->headers.items[i].name, "Content-Length") != 0)
            continue;
        const char *v = c->headers.items[i].value;
        size_t digits = strspn(v, "0123456789");
        if (digits == 0 || v[digits] != '\0' || digits > 18) {
            conn_refuse(c, 400, "malformed Content-Length \"%.32s\": expected a decimal number", v);
            return OMS_E_INVAL;
        }
        if (cl && strtoll(cl, NULL, 10) != strtoll(v, NULL, 10)) {
            conn_refuse(c, 400, "two Content-Length headers with different values");
            return OMS_E_INVAL;
        }
        cl = v;
        cl_count++;
    }
    if (te) {
        if (n > 1 || strcasecmp(te, "chunked") != 0) {
            conn_refuse(c, 400,
                        "unsupported Transfer-Encoding \"%.64s\": only \"chunked\" (alone) is "
                        "accepted",
                        te);
            return OMS_E_INVAL;
        }
        if (cl) {
            conn_refuse(c, 400, "Content-Length and Transfer-Encoding together are refused");
            return OMS_E_INVAL;
        }
        if (!v11) {
            conn_refuse(c, 400, "Transfer-Encoding needs HTTP/1.1");
            return OMS_E_INVAL;
        }
        c->chunked = 1;
    }
    c->content_length = cl ? strtoll(cl, NULL, 10) : -1;
    const char *expect = header_of(c, "Expect", NULL);
    if (expect) {
        if (strcasecmp(expect, "100-continue") != 0) {
            conn_refuse(c, 417, "unsupported Expect \"%.64s\": only 100-continue is understood",
                        expect);
            return OMS_E_INVAL;
        }
        c->expect_continue = v11;
    }
    const char *conn = header_of(c, "Connection", NULL);
    c->keep_alive = v11 && !(conn && list_has(conn, "close"));
    return 0;
}

/* The head is in[in_off, in_off + len) (its final empty line included). */
static int parse_head(struct conn *c, size_t len)
{
    const char *start = c->in + c->in_off;
    c->head = oms_xstrndup(start, len);
    char *p = c->head;
    /* Lines end with CRLF; the scan already refused bare CR and LF. */
    char *eol = strstr(p, "\r\n");
    *eol = '\0';
    if (parse_request_line(c, p) != 0)
        return OMS_E_INVAL;
    p = eol + 2;
    while (*p && !(p[0] == '\r' && p[1] == '\n')) {
        eol = strstr(p, "\r\n");
        *eol = '\0';
        if (parse_header_line(c, p) != 0)
            return OMS_E_INVAL;
        p = eol + 2;
    }
    return check_framing(c);
}

/* A quick request is handled by its loop: no hand-over to a worker and back (two wake-ups and
 * context switches a request). */
static void run_quick(struct conn *c)
{
    set_phase(c, PH_WORKER);
    run_handler(c->server, c);
    if (c->polling || c->resp.delay_ms > 0)
        epoll_set(c, 0); /* nothing is read while the answer waits, as on a worker */
    conn_from_worker(c);
}

static void dispatch(struct conn *c)
{
    c->idle = 0;
    if (c->quick)
        run_quick(c);
    else
        queue_push(c->server, c);
}

/* Asks the precheck; returns 1 when it answered (the connection then closes after its answer). */
static int precheck(struct conn *c)
{
    struct oms_http_server *s = c->server;
    c->max_body = s->max_body;
    c->quick = 0;
    if (!s->precheck && !s->quick)
        return 0;
    struct oms_http_request head = request_view(c, 0);
    c->quick = s->quick && s->quick(s->ctx, &head);
    if (!s->precheck)
        return 0;
    memset(&c->resp, 0, sizeof(c->resp));
    oms_buf_init(&c->resp.body, 0);
    c->has_resp = 1;
    if (!s->precheck(s->ctx, &head, &c->resp, &c->max_body)) {
        response_cleanup(&c->resp);
        c->has_resp = 0;
        return 0;
    }
    if (c->content_length > 0 || c->chunked)
        c->close_after = 1;
    conn_answer(c);
    return 1;
}

/* The body is larger than allowed: the handler answers with body_too_large set, unread. */
static void body_too_large(struct conn *c)
{
    c->too_large = 1;
    oms_buf_cleanup(&c->body);
    c->close_after = 1;
    c->keep_alive = 0;
    dispatch(c);
}

static void send_continue(struct conn *c)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    ssize_t n = send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
    (void)n; /* best effort: a client that misses it sends its body after its own wait */
}

/* Scans for the end of the head. Returns 1 found (*len set), 0 need more, OMS_E_INVAL answered. */
static int find_head_end(struct conn *c, size_t *len)
{
    const unsigned char *base = (const unsigned char *)c->in + c->in_off;
    size_t avail = c->in_len - c->in_off;
    /* Empty lines before a request line are skipped (RFC 9112 2.2). */
    while (c->head_scanned == 0 && avail >= 2 && base[0] == '\r' && base[1] == '\n') {
        c->in_off += 2;
        base += 2;
        avail -= 2;
    }
    /* A CR alone may be the first half of such a line: its LF decides (found by fuzz-http). */
    if (c->head_scanned == 0 && avail == 1 && base[0] == '\r')
        return 0;
    int in_method = 1;
    for (size_t i = 0; i < avail; i++) {
        unsigned char ch = base[i];
        if (in_method && ch == ' ')
            in_method = 0;
        else if (in_method && !is_tchar(ch) && !(ch == '\r' && i > 0)) {
            conn_refuse(c, 400, "malformed request line: the method is not a token");
            return OMS_E_INVAL;
        }
        if (i < c->head_scanned)
            continue;
        if (ch == '\0') {
            conn_refuse(c, 400, "the request head holds a NUL byte");
            return OMS_E_INVAL;
        }
        if (ch == '\n' && (i == 0 || base[i - 1] != '\r')) {
            conn_refuse(c, 400, "malformed request head: lines must end with CRLF, not a bare LF");
            return OMS_E_INVAL;
        }
        if (i > 0 && base[i - 1] == '\r' && ch != '\n') {
            conn_refuse(c, 400, "malformed request head: a CR not followed by LF");
            return OMS_E_INVAL;
        }
        if (ch == '\n' && i >= 3 && base[i - 2] == '\n' && base[i - 3] == '\r') {
            *len = i + 1;
            return 1;
        }
        if (i + 1 > OMS_HTTP_MAX_HEAD_BYTES) {
            conn_refuse(c, 431, "the request head is larger than %d bytes",
                        OMS_HTTP_MAX_HEAD_BYTES);
            return OMS_E_INVAL;
        }
    }
    /* Keep the last byte unscanned: a CR waits for its LF. */
    c->head_scanned = avail > 0 ? avail - 1 : 0;
    if (avail > OMS_HTTP_MAX_HEAD_BYTES) {
        conn_refuse(c, 431, "the request head is larger than %d bytes", OMS_HTTP_MAX_HEAD_BYTES);
        return OMS_E_INVAL;
    }
    return 0;
}

/* One CRLF-terminated line at in_off (at most max bytes before it). Returns 1 with *line_len
 * (CRLF excluded), 0 need more, OMS_E_INVAL too long or malformed. */
static int take_line(struct conn *c, size_t max, size_t *line_len)
{
    const char *base = c->in + c->in_off;
    size_t avail = c->in_len - c->in_off;
    for (size_t i = 0; i < avail; i++) {
        if (base[i] == '\n')
            return i > 0 && base[i - 1] == '\r' ? (*line_len = i - 1, 1) : OMS_E_INVAL;
        if (i > max)
            return OMS_E_INVAL;
    }
    return avail > max + 1 ? OMS_E_INVAL : 0;
}

static int body_append(struct conn *c, const char *data, size_t n)
{
    if (c->body.len + n > c->max_body) {
        body_too_large(c);
        return OMS_E_INVAL;
    }
    oms_buf_append(&c->body, data, n);
    return 0;
}

/* Parses as much of the request as the input holds; dispatches it when complete. Longer than 80
 * lines on purpose: the parser's state machine (head, body, chunks, trailers), one branch per
 * phase, each handing over to the next in the order a request arrives. */
static void conn_process(struct conn *c)
{
    for (;;) {
        size_t avail = c->in_len - c->in_off;
        if (c->phase == PH_HEAD) {
            if (avail == 0)
                return;
            if (c->idle) {
                c->idle = 0;
                c->started_us = oms_time_mono_us();
                c->arrival_ms = oms_time_wall_ms();
            }
            size_t len = 0;
            int found = find_head_end(c, &len);
            if (found <= 0)
                return;
            if (parse_head(c, len) != 0)
                return;
            c->in_off += len;
            oms_buf_init(&c->body, 0);
            if (precheck(c))
                return;
            if (c->content_length > (int64_t)c->max_body) {
                body_too_large(c);
                return;
            }
            if (c->expect_continue && (c->content_length > 0 || c->chunked))
                send_continue(c);
            if (c->chunked) {
                c->phase = PH_CHUNK_SIZE;
            } else if (c->content_length > 0) {
                c->phase = PH_BODY;
            } else {
                dispatch(c);
                return;
            }
        } else if (c->phase == PH_BODY) {
            size_t want = (size_t)c->content_length - c->body.len;
            size_t n = avail < want ? avail : want;
            if (n > 0) {
                if (body_append(c, c->in + c->in_off, n) != 0)
                    return;
                c->in_off += n;
            }
            if (c->body.len == (size_t)c->content_length) {
                dispatch(c);
                return;
            }
            return;
        } else if (c->phase == PH_CHUNK_SIZE) {
            size_t len = 0;
            int got = take_line(c, OMS_HTTP_MAX_CHUNK_LINE, &len);
            if (got < 0) {
                conn_refuse(c, 400,
                            "malformed chunked body: a chunk-size line is malformed or "
                            "longer than 1024 bytes");
                return;
            }
            if (got == 0)
                return;
            const char *line = c->in + c->in_off;
            uint64_t size = 0;
            size_t i = 0;
            for (; i < len && hexval((unsigned char)line[i]) >= 0; i++) {
                if (i >= 15) {
                    conn_refuse(c, 400, "malformed chunked body: the chunk size is too large");
                    return;
                }
                size = size * 16 + (uint64_t)hexval((unsigned char)line[i]);
            }
            if (i == 0 || (i < len && line[i] != ';')) {
                conn_refuse(c, 400, "malformed chunked body: expected a hexadecimal chunk size");
                return;
            }
            for (size_t k = i; k < len; k++)
                if ((unsigned char)line[k] < 0x20 && line[k] != '\t') {
                    conn_refuse(c, 400, "malformed chunked body: a control byte in a chunk line");
                    return;
                }
            c->in_off += len + 2;
            if (size == 0) {
                c->phase = PH_TRAILER;
                continue;
            }
            if (c->body.len + size > c->max_body) {
                body_too_large(c);
                return;
            }
            c->chunk_left = size;
            c->phase = PH_CHUNK_DATA;
        } else if (c->phase == PH_CHUNK_DATA) {
            size_t n = avail < c->chunk_left ? avail : (size_t)c->chunk_left;
            if (n == 0)
                return;
            if (body_append(c, c->in + c->in_off, n) != 0)
                return;
            c->in_off += n;
            c->chunk_left -= n;
            if (c->chunk_left == 0)
                c->phase = PH_CHUNK_END;
        } else if (c->phase == PH_CHUNK_END) {
            if (avail < 2)
                return;
            if (c->in[c->in_off] != '\r' || c->in[c->in_off + 1] != '\n') {
                conn_refuse(c, 400, "malformed chunked body: chunk data not followed by CRLF");
                return;
            }
            c->in_off += 2;
            c->phase = PH_CHUNK_SIZE;
        } else if (c->phase == PH_TRAILER) {
            size_t len = 0;
            int got = take_line(c, OMS_HTTP_MAX_HEAD_BYTES, &len);
            if (got < 0) {
                conn_refuse(c, 400, "malformed chunked body: a trailer line is malformed");
                return;
            }
            if (got == 0)
                return;
            c->in_off += len + 2;
            if (len == 0) {
                dispatch(c);
                return;
            }
        } else {
            return;
        }
    }
}

/* Reads what the socket has (bounded per call, for fairness) and processes it. */
static void conn_linger(struct conn *c)
{
    char sink[16384];
    for (;;) {
        ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0 || (c->lingered += (size_t)n) > LINGER_BYTES) {
            conn_close(c);
            return;
        }
    }
}

static void conn_read(struct conn *c)
{
    if (c->phase == PH_LINGER) {
        conn_linger(c);
        return;
    }
    for (int round = 0; round < 4; round++) {
        if (c->in_off == c->in_len)
            c->in_off = c->in_len = 0;
        /* Small reads for a head, large ones for a body. */
        size_t want = c->phase == PH_HEAD ? HEAD_READ : READ_CHUNK;
        if (c->in_cap - c->in_len < want) {
            if (c->in_off > 0) {
                memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
                c->in_len -= c->in_off;
                c->in_off = 0;
            }
            if (c->in_cap - c->in_len < want) {
                c->in_cap = c->in_len + want;
                c->in = oms_xrealloc(c->in, c->in_cap);
            }
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_close(c);
            return;
        }
        c->in_len += (size_t)n;
        conn_process(c);
        if (c->fd < 0 || c->phase == PH_WORKER || c->phase == PH_WAIT || c->phase == PH_WRITE)
            return;
    }
}

/* The answer is out: close, or wait for the next request (which may be buffered already). */
static void conn_after_write(struct conn *c)
{
    if (c->close_after) {
        /* Half-close, then discard what the client still sends for a while: closing with unread
         * input would reset the connection, and the client could lose the answer. */
        shutdown(c->fd, SHUT_WR);
        request_reset(c);
        set_phase(c, PH_LINGER);
        c->started_us = oms_time_mono_us();
        c->lingered = 0;
        c->in_off = c->in_len = 0;
        epoll_set(c, READ_EVENTS);
        return;
    }
    request_reset(c);
    set_phase(c, PH_HEAD);
    c->idle = 1;
    c->idle_since_us = oms_time_mono_us();
    if (c->in_off == c->in_len && c->in_cap > 4 * HEAD_READ) {
        /* An idle connection keeps no large buffer. */
        free(c->in);
        c->in = NULL;
        c->in_cap = c->in_off = c->in_len = 0;
    }
    epoll_set(c, READ_EVENTS);
    if (c->in_off < c->in_len)
        conn_process(c);
}

/* ---- the I/O thread ---- */

static void refuse_connection(int fd, int status, const char *message)
{
    struct oms_http_response r;
    memset(&r, 0, sizeof(r));
    oms_buf_init(&r.body, 0);
    oms_http_response_error(&r, status, message);
    char head[160];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
                     "%zu\r\nConnection: close\r\n\r\n",
                     status, reason_phrase(status), r.body.len);
    struct iovec iov[2] = {{head, (size_t)n}, {r.body.data, r.body.len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    response_cleanup(&r);
    shutdown(fd, SHUT_WR);
    close(fd);
}

/* Links c into its loop and lets the loop's epoll watch it (on that loop's thread). */
static void adopt(struct loop *l, struct conn *c)
{
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    struct epoll_event ev = {.events = READ_EVENTS, .data.ptr = c};
    epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev);
    c->events = READ_EVENTS;
}

static void accept_all(struct loop *me)
{
    struct oms_http_server *s = me->server;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of descriptors: try again at the next event */
        }
        char client[INET6_ADDRSTRLEN + 16];
        format_client((struct sockaddr *)&ss, client, sizeof(client));
        pthread_mutex_lock(&s->clients_mu);
        unsigned open_now = s->conn_count, from_client = 0;
        int too_many = open_now >= s->limits.max_connections;
        struct client_slot *slot = too_many ? NULL : client_slot_get(s, (struct sockaddr *)&ss);
        int client_full = slot && slot->count >= s->limits.max_client_connections;
        if (slot)
            from_client = slot->count;
        if (!too_many && !client_full) {
            s->conn_count++;
            if (slot)
                slot->count++;
        }
        pthread_mutex_unlock(&s->clients_mu);
        if (too_many) {
            oms_log(OMS_LOG_DEBUG, s->name, "refused %s: %u connections open", client, open_now);
            refuse_connection(fd, 429, "too many connections open: try again later");
            continue;
        }
        if (client_full) {
            oms_log(OMS_LOG_DEBUG, s->name, "refused %s: its address has %u connections open",
                    client, from_client);
            refuse_connection(fd, 429, "too many connections from this address: try again later");
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct conn *c = OMS_NEW(struct conn);
        c->fd = fd;
        c->server = s;
        c->slot = slot;
        snprintf(c->client, sizeof(c->client), "%s", client);
        c->phase = PH_HEAD;
        c->content_length = -1;
        c->started_us = oms_time_mono_us();
        c->arrival_ms = oms_time_wall_ms();
        /* The loops take the connections in turn. */
        struct loop *l = &s->loops[s->next_loop++ % s->loop_count];
        c->loop = l;
        if (l == me) {
            adopt(l, c);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        int was_empty = l->incoming == NULL && l->done == NULL;
        c->queue_next = l->incoming;
        l->incoming = c;
        pthread_mutex_unlock(&s->mu);
        if (was_empty) {
            uint64_t wake = 1;
            ssize_t w = write(l->wake_fd, &wake, sizeof(wake));
            (void)w;
        }
    }
}

/* Deadlines: a request not complete within request_timeout gets 408; an idle kept-alive
 * connection closes after idle_timeout; an answer the client does not read is abandoned. */
static void sweep(struct loop *l, int64_t now)
{
    struct oms_http_server *s = l->server;
    int64_t req_us = s->limits.request_timeout_ms * 1000;
    int64_t idle_us = s->limits.idle_timeout_ms * 1000;
    struct conn *next;
    for (struct conn *c = l->conns; c; c = next) {
        next = c->next;
        if (c->phase == PH_WAIT && c->due_us <= now) {
            /* A quick request's poll is quick too (a command waiting for admission looks at a
             * counter): its loop runs it, sparing two hand-overs a look. */
            if (c->polling && c->quick)
                run_quick(c);
            else if (c->polling)
                queue_push(s, c);
            else
                conn_answer(c);
            continue;
        }
        if (c->phase == PH_WORKER || c->phase == PH_WAIT)
            continue;
        if (c->phase == PH_LINGER) {
            if (now - c->started_us > LINGER_US)
                conn_close(c);
            continue;
        }
        if (c->phase == PH_WRITE) {
            if (now - c->started_us > req_us)
                conn_close(c);
            continue;
        }
        if (c->idle) {
            if (now - c->idle_since_us > idle_us)
                conn_close(c);
            continue;
        }
        if (now - c->started_us > req_us)
            conn_refuse(c, 408, "the request was not complete within %lld ms (--request-timeout)",
                        (long long)s->limits.request_timeout_ms);
    }
}

/* The earliest timer of a waiting connection, or INT64_MAX. */
static int64_t next_due(const struct loop *l)
{
    int64_t due = INT64_MAX;
    for (const struct conn *c = l->conns; c; c = c->next)
        if (c->phase == PH_WAIT && c->due_us < due)
            due = c->due_us;
    return due;
}

/* The connections workers handed back, and those loop 0 accepted for this loop. */
static void take_done(struct loop *l)
{
    struct oms_http_server *s = l->server;
    uint64_t v;
    ssize_t r = read(l->wake_fd, &v, sizeof(v));
    (void)r;
    pthread_mutex_lock(&s->mu);
    struct conn *list = l->done, *fresh = l->incoming;
    l->done = NULL;
    l->incoming = NULL;
    pthread_mutex_unlock(&s->mu);
    while (fresh) {
        struct conn *c = fresh;
        fresh = c->queue_next;
        adopt(l, c);
    }
    /* Oldest first is not needed: each connection has one request in flight. */
    while (list) {
        struct conn *c = list;
        list = c->queue_next;
        conn_from_worker(c);
    }
}

static void *io_main(void *arg)
{
    struct loop *l = arg;
    struct oms_http_server *s = l->server;
    struct epoll_event events[64];
    l->next_sweep_us = oms_time_mono_us() + SWEEP_EVERY_US;
    for (;;) {
        int64_t now = oms_time_mono_us();
        int64_t due = l->wait_count ? next_due(l) : INT64_MAX;
        int64_t wake = due < l->next_sweep_us ? due : l->next_sweep_us;
        int timeout = wake <= now ? 0 : (int)((wake - now + 999) / 1000);
        int n = epoll_wait(l->epoll_fd, events, 64, timeout);
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == &s->listen_fd) {
                accept_all(l);
                continue;
            }
            if (p == &l->wake_fd) {
                pthread_mutex_lock(&s->mu);
                int stop = s->stopping;
                pthread_mutex_unlock(&s->mu);
                if (stop) {
                    bury(l);
                    return NULL;
                }
                take_done(l);
                continue;
            }
            struct conn *c = p;
            uint32_t ev = events[i].events;
            if (c->fd < 0 || c->phase == PH_WORKER)
                continue;
            if (c->phase == PH_WRITE && (ev & EPOLLOUT)) {
                conn_write(c);
            } else if (c->phase == PH_WAIT || c->phase == PH_WRITE) {
                /* Nothing is read now; a connection that failed is closed, and so is a hanging
                 * one whose client gave up. */
                if ((ev & (EPOLLHUP | EPOLLERR)) || (c->hanging && (ev & EPOLLRDHUP)))
                    conn_close(c);
            } else if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                conn_read(c);
            }
        }
        now = oms_time_mono_us();
        if (now >= l->next_sweep_us || (due != INT64_MAX && due <= now)) {
            sweep(l, now);
            l->next_sweep_us = now + SWEEP_EVERY_US;
        }
        bury(l);
    }
}

/* ---- start and stop ---- */

int oms_http_bind_is_loopback(const char *bind)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!bind)
        return 1;
    if (inet_pton(AF_INET, bind, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, bind, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

static int open_listener(const char *host, unsigned port, int *fd_out, unsigned *port_out,
                         int *v6_out, struct oms_err *err)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    socklen_t sl;
    int v6 = 0;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        sl = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*a6);
        v6 = 1;
    } else {
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, NULL,
                           "bind address \"%s\" is not a numeric IPv4 or IPv6 address", host);
    }
    if (port > 65535)
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, NULL, "port %u is out of range", port);
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL, "cannot open a socket: %s",
                           strerror(errno));
    /* SO_REUSEADDR lets a listener come back on its port while old connections linger in
     * TIME_WAIT; unlike SO_REUSEPORT it never lets two listeners share a port. */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (v6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        if (e == EADDRINUSE)
            return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL,
                               "cannot listen on %s%s%s:%u: port %u is already in use",
                               v6 ? "[" : "", host, v6 ? "]" : "", port, port);
        return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL, "cannot listen on %s%s%s:%u: %s",
                           v6 ? "[" : "", host, v6 ? "]" : "", port, strerror(e));
    }
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(v6 ? a6->sin6_port : a4->sin_port);
    *fd_out = fd;
    *v6_out = v6;
    return 0;
}

int oms_http_server_start(const struct oms_http_server_config *cfg, struct oms_http_server **out,
                          struct oms_err *err)
{
    const char *bind = cfg->bind ? cfg->bind : "127.0.0.1";
    int fd = -1, v6 = 0;
    unsigned port = 0;
    int rc = open_listener(bind, cfg->port, &fd, &port, &v6, err);
    if (rc != 0)
        return rc;
    struct oms_http_server *s = OMS_NEW(struct oms_http_server);
    s->listen_fd = fd;
    s->port = port;
    s->handler = cfg->handler;
    s->precheck = cfg->precheck;
    s->quick = cfg->quick;
    s->ctx = cfg->ctx;
    s->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    s->limits = cfg->limits;
    if (s->limits.request_timeout_ms <= 0)
        s->limits.request_timeout_ms = OMS_HTTP_DEFAULT_REQUEST_TIMEOUT_MS;
    if (s->limits.idle_timeout_ms <= 0)
        s->limits.idle_timeout_ms = OMS_HTTP_DEFAULT_IDLE_TIMEOUT_MS;
    if (s->limits.max_connections == 0)
        s->limits.max_connections = OMS_HTTP_DEFAULT_MAX_CONNECTIONS;
    if (s->limits.max_client_connections == 0)
        s->limits.max_client_connections = OMS_HTTP_DEFAULT_MAX_CLIENT_CONNECTIONS;
    snprintf(s->name, sizeof(s->name), "%s", cfg->name ? cfg->name : "http");
    snprintf(s->url, sizeof(s->url), "http://%s%s%s:%u", v6 ? "[" : "", bind, v6 ? "]" : "",
             s->port);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->clients_mu, NULL);
    pthread_cond_init(&s->queue_cond, NULL);
    s->loop_count = cfg->io_threads ? cfg->io_threads : OMS_HTTP_DEFAULT_IO_THREADS;
    s->loops = oms_xcalloc(s->loop_count, sizeof(*s->loops));
    for (unsigned i = 0; i < s->loop_count; i++) {
        struct loop *l = &s->loops[i];
        l->server = s;
        l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (l->epoll_fd < 0 || l->wake_fd < 0)
            oms_fatal("cannot create an epoll or event descriptor: %s", strerror(errno));
        struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &l->wake_fd};
        epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->wake_fd, &wev);
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->listen_fd};
    epoll_ctl(s->loops[0].epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev);
    s->worker_count = cfg->threads ? cfg->threads : 4;
    s->workers = oms_xcalloc(s->worker_count, sizeof(*s->workers));
    for (unsigned i = 0; i < s->worker_count; i++)
        if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
            oms_fatal("cannot start a worker thread");
    for (unsigned i = 0; i < s->loop_count; i++)
        if (pthread_create(&s->loops[i].thread, NULL, io_main, &s->loops[i]) != 0)
            oms_fatal("cannot start an event loop thread");
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
    /* The listener closes first, so new connections are refused from here on. */
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->queue_cond);
    pthread_mutex_unlock(&s->mu);
    for (unsigned i = 0; i < s->loop_count; i++) {
        uint64_t one = 1;
        ssize_t w = write(s->loops[i].wake_fd, &one, sizeof(one));
        (void)w;
    }
    for (unsigned i = 0; i < s->loop_count; i++)
        pthread_join(s->loops[i].thread, NULL);
    close(s->listen_fd);
    for (unsigned i = 0; i < s->worker_count; i++)
        pthread_join(s->workers[i], NULL);
    for (unsigned i = 0; i < s->loop_count; i++) {
        struct loop *l = &s->loops[i];
        /* Accepted for this loop but never taken: not watched by any epoll yet. */
        while (l->incoming) {
            struct conn *c = l->incoming;
            l->incoming = c->queue_next;
            adopt(l, c);
        }
        /* Connections handed back after the loop stopped, then every open one. */
        while (l->done) {
            struct conn *c = l->done;
            l->done = c->queue_next;
            if (c->closing)
                conn_free(c);
        }
        while (l->conns) {
            struct conn *c = l->conns;
            c->phase = PH_HEAD; /* no worker has it any more */
            conn_close(c);
        }
        bury(l);
        close(l->epoll_fd);
        close(l->wake_fd);
    }
    for (unsigned i = 0; i < CLIENT_BUCKETS; i++)
        while (s->clients[i]) {
            struct client_slot *n = s->clients[i]->next;
            free(s->clients[i]);
            s->clients[i] = n;
        }
    pthread_cond_destroy(&s->queue_cond);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->clients_mu);
    free(s->loops);
    free(s->workers);
    free(s);
}

const struct oms_http_route *oms_http_route_find(const struct oms_http_route *routes, size_t n,
                                                 const char *path, const char *method, char *allow,
                                                 size_t size)
{
    size_t used = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(routes[i].path, path) != 0)
            continue;
        if (strcmp(routes[i].method, method) == 0)
            return &routes[i];
        if (used < size)
            used += (size_t)snprintf(allow + used, size - used, "%s%s", used ? ", " : "",
                                     routes[i].method);
    }
    return NULL;
}
