/* mock_omnitron: a recording Omnitron that checks the shape of the bulk order item status update
 * (SPEC C-8, A-4) and answers as Omnitron would. A configuration of oms_recorder. */
#ifndef MOCK_OMNITRON_H
#define MOCK_OMNITRON_H

#include "oms_recorder.h"

#define MOCK_OMNITRON_DEFAULT_PATH "/api/i1/order_items/bulk_status_update/"

struct mock_omnitron_config {
    const char *bind;      /* NULL: 127.0.0.1 */
    unsigned port;         /* 0: ephemeral */
    unsigned control_port; /* the control-only listener (see oms_recorder.h); 0: ephemeral */
    const char *path;      /* NULL: MOCK_OMNITRON_DEFAULT_PATH */
    const char *token;    /* when set, "Authorization: Token <token>" is required (401 otherwise) */
    size_t journal_limit; /* entries kept; 0: OMS_JOURNAL_DEFAULT_LIMIT */
    size_t journal_bytes; /* see oms_recorder_config; 0: the default */
    size_t journal_body_bytes; /* see oms_recorder_config; 0: the default */
    const char *fixture_token; /* the control endpoints' token; NULL: see oms_recorder_config */
    struct oms_http_limits limits;
};

/* Starts the mock. Every request is journaled, whatever it answered. Answers: 200 with the updated
 * items for a well-formed PATCH on the path; 400 with DRF-style field errors for a malformed body;
 * 405 for another method on the path; 404 elsewhere; 401 for a missing or wrong token - unless a
 * behaviour document (PUT /__behaviour) sets a status or fault rules, which win. Returns 0
 * and *out (stop with oms_recorder_stop), or a negative code with err set. */
int mock_omnitron_start(const struct mock_omnitron_config *cfg, struct oms_recorder **out,
                        struct oms_err *err);

#endif
