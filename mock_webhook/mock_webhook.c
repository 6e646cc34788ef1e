/* mock_webhook: the webhook receiver configuration of the recorder. */
#include "mock_webhook.h"

int mock_webhook_start(const struct mock_webhook_config *cfg, struct oms_recorder **out,
                       struct oms_err *err)
{
    struct oms_recorder_config rc = {
        .name = "webhook",
        .bind = cfg->bind,
        .port = cfg->port,
        .control_port = cfg->control_port,
        .status = cfg->status ? cfg->status : 200,
        .journal_limit = cfg->journal_limit,
        .journal_bytes = cfg->journal_bytes,
        .journal_body_bytes = cfg->journal_body_bytes,
        .fixture_token = cfg->fixture_token,
        .limits = cfg->limits,
    };
    return oms_recorder_start(&rc, out, err);
}
