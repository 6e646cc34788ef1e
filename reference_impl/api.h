/* api: the reference's HTTP surface - routing, authentication, content checks and the handlers of
 * the command endpoint (SPEC C-1, E-1, E-2), the whisperer hooks API and the fixture protocol. */
#ifndef API_H
#define API_H

#include "oms_http_server.h"

/* The oms_http_server handler; ctx is the struct reference. Never answers 5xx to a client mistake.
 */
void api_handle(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp);

#endif
