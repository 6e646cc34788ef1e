/* oms_http_server: the project's HTTP/1.1 server. Handlers see a whole request (head and body
 * already read) and fill a response; reading, framing, limits and the error answers of malformed
 * requests (always the JSON error envelope) stay in oms_http_server.c. */
#ifndef OMS_HTTP_SERVER_H
#define OMS_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "oms_buf.h"
#include "oms_error.h"

struct oms_http_server;

struct oms_http_pair {
    char *name;
    char *value;
};

/* Everything borrowed; valid only during the handler call. */
struct oms_http_request {
    const char *method;
    const char *path; /* as sent (percent-escapes are not decoded), without the query string */
    const char *version;
    const struct oms_http_pair *headers; /* values never hold a NUL: the server refuses those */
    size_t header_count;
    const struct oms_http_pair *args; /* query arguments, decoded */
    size_t arg_count;
    const char *body; /* NUL-terminated copy; "" when empty or too large */
    size_t body_len;
    int body_too_large; /* the body exceeded the limit; it was not read */
    const char *client; /* "127.0.0.1:53211" */
    int64_t arrival_ms; /* wall clock when the request's first byte arrived */
};

/* Case-insensitive header lookup; NULL when absent. Borrowed. */
const char *oms_http_request_header(const struct oms_http_request *req, const char *name);
/* Query argument lookup; NULL when absent. Borrowed. */
const char *oms_http_request_arg(const struct oms_http_request *req, const char *name);

#define OMS_HTTP_MAX_RESPONSE_HEADERS 16

struct oms_http_response;

/* A handler that must wait for something (a drain) sets poll: the server calls it again every
 * poll_interval_ms on a worker (on the connection's loop when the request is quick), without
 * holding a thread in between, until it returns 1 with resp filled. poll_free (optional) releases
 * state afterwards, also when the server stops first. */
typedef int (*oms_http_poll_fn)(void *state, struct oms_http_response *resp);

/* Transport faults a handler may ask for instead of a clean answer (the receivers' fault
 * injection, as Toxiproxy's toxics do). */
enum oms_http_fault {
    OMS_HTTP_FAULT_NONE = 0,
    OMS_HTTP_FAULT_RESET,    /* no answer: the connection is reset (TCP RST) */
    OMS_HTTP_FAULT_TRUNCATE, /* the head and half the body go out (half the head when there is no
                                body), then the connection closes */
    OMS_HTTP_FAULT_HANG,     /* no answer at all: the connection stays open until the client gives
                                up (or the listener's request timeout passes), then closes */
};

/* What a handler fills. status 0 means: drop the connection without answering (used for fault
 * injection). Headers are copied when added. */
struct oms_http_response {
    int status;
    enum oms_http_fault fault;
    struct oms_buf body;
    struct oms_http_pair headers[OMS_HTTP_MAX_RESPONSE_HEADERS];
    size_t header_count;
    int64_t delay_ms; /* wait this long before answering (mock fault injection) */
    oms_http_poll_fn poll;
    void *poll_state;
    void (*poll_free)(void *state);
    int64_t poll_interval_ms; /* 0: 20 ms */
};

/* Adds a response header (copied); beyond OMS_HTTP_MAX_RESPONSE_HEADERS it is dropped with a
 * warning in the log. */
void oms_http_response_header(struct oms_http_response *resp, const char *name, const char *value);
/* Sets status, Content-Type: application/json and the serialised body. value is borrowed. */
struct json_t;
void oms_http_response_json(struct oms_http_response *resp, int status, const struct json_t *value);
/* The E-1 error envelope {"error": {"non_field_errors": [message]}, "status_code": status}. An
 * invalid UTF-8 message is shown with U+FFFD in place of the bad bytes. */
void oms_http_response_error(struct oms_http_response *resp, int status, const char *message);

typedef void (*oms_http_handler_fn)(void *ctx, const struct oms_http_request *req,
                                    struct oms_http_response *resp);
/* Called once a request's head is read and before any of its body is: return 1 with resp filled
 * to answer at once (the body is never read and the connection closes after the answer); return 0
 * to go on, with *max_body (preset to the listener's max_body) the largest body this request may
 * have: a larger one reaches the handler with body_too_large set, unread. head->body is "". Runs
 * on the server's I/O thread: it must not block. */
typedef int (*oms_http_precheck_fn)(void *ctx, const struct oms_http_request *head,
                                    struct oms_http_response *resp, size_t *max_body);

/* Called once a request's head is read (before the precheck; head->body is ""): return 1 when its
 * handler answers at once - no waiting on anything slow, no large work - so that the connection's
 * event loop runs it itself instead of handing it to a worker and back. While it runs, that loop
 * serves no other connection, so anything slow goes to the workers. */
typedef int (*oms_http_quick_fn)(void *ctx, const struct oms_http_request *head);

/* Resource bounds of a listener; a 0 field takes the default (the OMS_HTTP_DEFAULT_ values). */
struct oms_http_limits {
    int64_t request_timeout_ms;      /* a whole request, head and body, from its first byte */
    int64_t idle_timeout_ms;         /* a kept-alive connection waiting for its next request */
    unsigned max_connections;        /* open at once */
    unsigned max_client_connections; /* open at once from one client address */
};
#define OMS_HTTP_DEFAULT_REQUEST_TIMEOUT_MS     30000
#define OMS_HTTP_DEFAULT_IDLE_TIMEOUT_MS        30000
#define OMS_HTTP_DEFAULT_MAX_CONNECTIONS        1024
#define OMS_HTTP_DEFAULT_MAX_CLIENT_CONNECTIONS 128
/* Fixed bounds of the request head (431 past them) and its target (414). */
#define OMS_HTTP_MAX_HEAD_BYTES 16384
#define OMS_HTTP_MAX_HEADERS    100
#define OMS_HTTP_MAX_TARGET     8192
#define OMS_HTTP_MAX_QUERY_ARGS 64
#define OMS_HTTP_MAX_CHUNK_LINE 1024
/* Event loops when the config names none. */
#define OMS_HTTP_DEFAULT_IO_THREADS 2

struct oms_http_server_config {
    const char *bind;    /* numeric IPv4 or IPv6 address; NULL means 127.0.0.1 */
    unsigned port;       /* 0: an ephemeral port, see oms_http_server_port() */
    size_t max_body;     /* larger bodies reach the handler with body_too_large set; 0 = 1 MiB */
    unsigned threads;    /* handler worker threads; 0: 4 */
    unsigned io_threads; /* event loops, each owning a share of the connections; 0: the default */
    oms_http_handler_fn handler;
    oms_http_precheck_fn precheck; /* optional */
    oms_http_quick_fn quick;       /* optional: without it every handler runs on a worker */
    void *ctx;
    const char *name; /* for log lines */
    struct oms_http_limits limits;
};

/* Starts listening. Returns 0 and *out (free with oms_http_server_stop), or a negative code with
 * err naming the address and the cause ("port 8000 is already in use"). Nothing is left running on
 * failure. */
int oms_http_server_start(const struct oms_http_server_config *cfg, struct oms_http_server **out,
                          struct oms_err *err);
/* The port actually bound. */
unsigned oms_http_server_port(const struct oms_http_server *s);
/* "http://127.0.0.1:PORT" (IPv6 in brackets); borrowed, lives as long as the server. */
const char *oms_http_server_url(const struct oms_http_server *s);
/* Stops listening, waits for handlers in progress, closes every connection, frees. NULL allowed.
 */
void oms_http_server_stop(struct oms_http_server *s);

/* 1 when a numeric address is a loopback one (127.0.0.0/8, ::1); NULL counts as loopback. */
int oms_http_bind_is_loopback(const char *bind);

/* A dispatch table's row (as libmicrohttpd's examples and git's commands[] have): an exact path
 * and a method, and the handler that answers them. */
struct oms_http_route {
    const char *path;
    const char *method;
    oms_http_handler_fn handler;
};

/* The row of routes[0..n) for path and method, or NULL. Then allow gets the methods path does take,
 * in the table's order ("GET, PUT": the Allow header of a 405), or "" when the table has no such
 * path at all (a 404); size > 0, cut to fit. */
const struct oms_http_route *oms_http_route_find(const struct oms_http_route *routes, size_t n,
                                                 const char *path, const char *method, char *allow,
                                                 size_t size);

#endif
