/* oms_http_server: the one wrapper around libmicrohttpd. Handlers see a whole request (headers and
 * body already read) and fill a response; everything else about MHD stays in oms_http_server.c. */
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
    const char *path; /* decoded, without the query string */
    const char *version;
    const struct oms_http_pair *headers;
    size_t header_count;
    const struct oms_http_pair *args; /* query arguments, decoded */
    size_t arg_count;
    const char *body; /* NUL-terminated copy; "" when empty or too large */
    size_t body_len;
    int body_too_large; /* the body exceeded max_body; it was discarded */
    const char *client; /* "127.0.0.1:53211" */
    int64_t arrival_ms; /* wall clock when the request line arrived */
};

/* Case-insensitive header lookup; NULL when absent. Borrowed. */
const char *oms_http_request_header(const struct oms_http_request *req, const char *name);
/* Query argument lookup; NULL when absent. Borrowed. */
const char *oms_http_request_arg(const struct oms_http_request *req, const char *name);

#define OMS_HTTP_MAX_RESPONSE_HEADERS 16

/* What a handler fills. status 0 means: drop the connection without answering (used for fault
 * injection). Headers are copied when added. */
struct oms_http_response {
    int status;
    struct oms_buf body;
    struct oms_http_pair headers[OMS_HTTP_MAX_RESPONSE_HEADERS];
    size_t header_count;
    int64_t delay_ms; /* wait this long before answering (mock fault injection) */
};

/* Adds a response header (copied); beyond OMS_HTTP_MAX_RESPONSE_HEADERS it is dropped with a
 * warning in the log. */
void oms_http_response_header(struct oms_http_response *resp, const char *name, const char *value);
/* Sets status, Content-Type: application/json and the serialised body. value is borrowed. */
struct json_t;
void oms_http_response_json(struct oms_http_response *resp, int status, const struct json_t *value);

typedef void (*oms_http_handler_fn)(void *ctx, const struct oms_http_request *req,
                                    struct oms_http_response *resp);

struct oms_http_server_config {
    const char *bind; /* numeric IPv4 or IPv6 address; NULL means 127.0.0.1 */
    unsigned port;    /* 0: an ephemeral port, see oms_http_server_port() */
    size_t max_body;  /* larger bodies reach the handler with body_too_large set; 0 = 1 MiB */
    unsigned threads; /* 0: a thread per connection (handlers may sleep); N: a pool of N */
    oms_http_handler_fn handler;
    void *ctx;
    const char *name; /* for log lines */
};

/* Starts listening. Returns 0 and *out (free with oms_http_server_stop), or a negative code with
 * err naming the address and the cause (e.g. port in use). Nothing is left running on failure. */
int oms_http_server_start(const struct oms_http_server_config *cfg, struct oms_http_server **out,
                          struct oms_err *err);
/* The port actually bound. */
unsigned oms_http_server_port(const struct oms_http_server *s);
/* "http://127.0.0.1:PORT" (IPv6 in brackets); borrowed, lives as long as the server. */
const char *oms_http_server_url(const struct oms_http_server *s);
/* Stops the server, waits for handlers in progress, frees it. NULL allowed. */
void oms_http_server_stop(struct oms_http_server *s);

#endif
