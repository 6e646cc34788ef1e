/* mock_webhook: a recording webhook receiver (SPEC C-9) - any path, any method, journaled and
 * answered with the configured status. A configuration of oms_recorder; subscribers are told apart
 * by the path of their target_url. */
#ifndef MOCK_WEBHOOK_H
#define MOCK_WEBHOOK_H

#include "oms_recorder.h"

struct mock_webhook_config {
    const char *bind;          /* NULL: 127.0.0.1 */
    unsigned port;             /* 0: ephemeral */
    unsigned control_port;     /* the control-only listener (see oms_recorder.h); 0: ephemeral */
    int status;                /* answered status; 0: 200 */
    size_t journal_limit;      /* entries kept; 0: OMS_JOURNAL_DEFAULT_LIMIT */
    size_t journal_bytes;      /* see oms_recorder_config; 0: the default */
    size_t journal_body_bytes; /* see oms_recorder_config; 0: the default */
    const char *fixture_token; /* the control endpoints' token; NULL: see oms_recorder_config */
    struct oms_http_limits limits;
};

/* Starts the receiver. Returns 0 and *out (stop with oms_recorder_stop), or a negative code with
 * err set. */
int mock_webhook_start(const struct mock_webhook_config *cfg, struct oms_recorder **out,
                       struct oms_err *err);

#endif
