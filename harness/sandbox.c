/* sandbox: the embedded reference and receivers. */
#include "sandbox.h"

#include "mock_omnitron.h"
#include "mock_webhook.h"
#include "oms_alloc.h"
#include "oms_fixture_token.h"
#include "reference.h"

#include <stdlib.h>

struct sandbox {
    struct reference *oms;
    struct oms_recorder *omnitron;
    struct oms_recorder *webhook;
    char fixture_token[OMS_FIXTURE_TOKEN_MAX + 1];
    int fixture_token_generated;
};

int sandbox_start(const struct sandbox_config *cfg, struct sandbox **out, struct oms_err *err)
{
    struct sandbox *s = OMS_NEW(struct sandbox);
    int ret = oms_fixture_token_choose(cfg->fixture_token, s->fixture_token,
                                       sizeof(s->fixture_token), &s->fixture_token_generated, err);
    if (ret != 0) {
        free(s);
        return ret;
    }
    struct mock_omnitron_config oc = {
        .bind = cfg->bind,
        .port = cfg->omnitron_port,
        .control_port = cfg->omnitron_control_port,
        .fixture_token = s->fixture_token,
        .limits = cfg->limits,
    };
    struct mock_webhook_config wc = {
        .bind = cfg->bind,
        .port = cfg->webhook_port,
        .control_port = cfg->webhook_control_port,
        .fixture_token = s->fixture_token,
        .limits = cfg->limits,
    };
    ret = mock_omnitron_start(&oc, &s->omnitron, err);
    if (ret == 0)
        ret = mock_webhook_start(&wc, &s->webhook, err);
    if (ret == 0 && !cfg->receivers_only) {
        struct reference_config rc = {
            .profile_path = cfg->profile_path,
            .bind = cfg->bind,
            .port = cfg->oms_port,
            .db_path = cfg->db_path,
            .threads = cfg->threads ? cfg->threads : 2,
            .omnitron_url = oms_recorder_url(s->omnitron),
            .fixture_token = s->fixture_token,
            .limits = cfg->limits,
        };
        ret = reference_start(&rc, &s->oms, err);
    }
    if (ret != 0) {
        sandbox_stop(s);
        return ret;
    }
    *out = s;
    return 0;
}

void sandbox_stop(struct sandbox *s)
{
    if (!s)
        return;
    reference_stop(s->oms);
    oms_recorder_stop(s->omnitron);
    oms_recorder_stop(s->webhook);
    free(s);
}

const char *sandbox_fixture_token(const struct sandbox *s)
{
    return s->fixture_token;
}

int sandbox_fixture_token_generated(const struct sandbox *s)
{
    return s->fixture_token_generated;
}

const char *sandbox_api_token(const struct sandbox *s)
{
    return s->oms ? reference_api_token(s->oms) : NULL;
}

const char *sandbox_oms_url(const struct sandbox *s)
{
    return s->oms ? reference_url(s->oms) : NULL;
}

const char *sandbox_omnitron_url(const struct sandbox *s)
{
    return oms_recorder_url(s->omnitron);
}

const char *sandbox_webhook_url(const struct sandbox *s)
{
    return oms_recorder_url(s->webhook);
}

const char *sandbox_omnitron_control_url(const struct sandbox *s)
{
    return oms_recorder_control_url(s->omnitron);
}

const char *sandbox_webhook_control_url(const struct sandbox *s)
{
    return oms_recorder_control_url(s->webhook);
}

struct oms_recorder *sandbox_omnitron(struct sandbox *s)
{
    return s->omnitron;
}

struct oms_recorder *sandbox_webhook(struct sandbox *s)
{
    return s->webhook;
}
