/* oms_http_client: the one wrapper around libcurl. One request, or many at once over curl's multi
 * interface; connections are reused between calls on the same client. */
#ifndef OMS_HTTP_CLIENT_H
#define OMS_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "oms_buf.h"
#include "oms_http_server.h" /* struct oms_http_pair */

struct oms_http_client;

/* One request and what came back. The request fields are borrowed from the caller; the response
 * fields belong to the exchange and are freed by oms_http_exchange_cleanup(). */
struct oms_http_exchange {
    /* request */
    const char *method;
    const char *url;
    const char *const *headers; /* "Name: value" lines; "Name:" removes a default header */
    size_t header_count;
    const char *body; /* NULL: no body */
    size_t body_len;
    long timeout_ms; /* whole exchange; 0 means 10 s */
    int idempotent;  /* sending it twice does no harm, or the receiver recognises the second as
                        the same request (a delivery's Delivery-Id and Delivery-Attempt), so a
                        kept-alive connection may carry it (libcurl re-sends on a reused
                        connection that died unanswered; requests that change state otherwise
                        get a connection of their own) */

    /* response */
    int result; /* 0: an HTTP answer arrived; OMS_E_TIMEOUT or OMS_E_HTTP: transport failure */
    long status;
    struct oms_buf resp_body;
    struct oms_http_pair *resp_headers;
    size_t resp_header_count;
    char error[256]; /* transport failure in words, "" otherwise */
    int64_t elapsed_us;
};

/* A client that keeps connections alive between calls. Never NULL; free with _destroy. Not
 * thread-safe: use one client per thread. */
struct oms_http_client *oms_http_client_create(void);
void oms_http_client_destroy(struct oms_http_client *c);

/* Performs one exchange. Returns x->result. */
int oms_http_client_perform(struct oms_http_client *c, struct oms_http_exchange *x);
/* Performs n exchanges concurrently, each on its own connection, and returns when all have ended.
 * Returns 0 (each exchange carries its own result). */
int oms_http_client_perform_many(struct oms_http_client *c, struct oms_http_exchange *xs, size_t n);

/* A pool runs many exchanges over curl's multi interface, adding new ones while others are in
 * flight; a long-lived worker (the outbox) drives it. Idempotent exchanges reuse its kept-alive
 * connections (at most OMS_HTTP_POOL_KEEP_CONNECTIONS stay open between exchanges). Not
 * thread-safe except _wakeup. */
struct oms_http_pool;
#define OMS_HTTP_POOL_KEEP_CONNECTIONS 64

/* Never NULL. */
struct oms_http_pool *oms_http_pool_create(void);
/* Abandons exchanges still in flight (their result is not set) and frees the pool. NULL allowed. */
void oms_http_pool_destroy(struct oms_http_pool *p);
/* Starts x; x and its request strings must stay valid until the pool hands x back. */
void oms_http_pool_add(struct oms_http_pool *p, struct oms_http_exchange *x);
/* Drives transfers, waiting at most wait_ms for activity (less when woken). Fills done[] with the
 * exchanges that ended (each with its result) and returns how many; max must be at least
 * oms_http_pool_active(). */
size_t oms_http_pool_run(struct oms_http_pool *p, int wait_ms, struct oms_http_exchange **done,
                         size_t max);
/* Exchanges in flight. */
size_t oms_http_pool_active(const struct oms_http_pool *p);
/* Makes a concurrent or later oms_http_pool_run return early. Safe from any thread. */
void oms_http_pool_wakeup(struct oms_http_pool *p);

/* Case-insensitive response header lookup; NULL when absent. Borrowed. */
const char *oms_http_exchange_header(const struct oms_http_exchange *x, const char *name);
/* Frees the response part; the exchange can be performed again. NULL allowed. */
void oms_http_exchange_cleanup(struct oms_http_exchange *x);

/* The only schemes the client speaks, for libcurl's CURLOPT_PROTOCOLS_STR (and redirects). */
#define OMS_HTTP_CLIENT_PROTOCOLS "http,https"
/* 1 when url is an http:// or https:// URL with a host (the scheme in any case); 0 otherwise, and
 * for NULL. Where an outbound URL is accepted, anything else is refused. */
int oms_http_url_allowed(const char *url);

#endif
