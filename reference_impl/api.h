/* api: the reference's HTTP surface - routing, authentication, content checks and the handlers of
 * the command endpoint (SPEC C-1, E-1, E-2), the whisperer hooks API and the fixture protocol. */
#ifndef API_H
#define API_H

#include "oms_http_server.h"

/* The oms_http_server handler; ctx is the struct reference. Never answers 5xx to a client mistake.
 * A drain that has to wait sets resp->poll (see oms_http_server.h): an in-process caller calls it
 * until it returns 1, or releases it with resp->poll_free. */
void api_handle(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp);
/* The oms_http_server precheck: before a body is read, refuses a command or hooks request without
 * a valid API token and a fixture request without the fixture token (401), and sets the body cap
 * of the route (the profile's limits.max_body_bytes; the fixture limit for /_fixture/). */
int api_precheck(void *ctx, const struct oms_http_request *head, struct oms_http_response *resp,
                 size_t *max_body);
/* The oms_http_server quick check: everything but the fixture protocol (loads, state exports and
 * drains take long) is answered by the event loop itself, the command under the store lock. */
int api_quick(void *ctx, const struct oms_http_request *head);

#endif
