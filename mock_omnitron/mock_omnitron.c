/* mock_omnitron: the Omnitron bulk status update, checked and recorded. */
#include "mock_omnitron.h"

#include "oms_alloc.h"
#include "oms_crypto.h"
#include "oms_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct omnitron {
    char *path;
    char *token;
};

static void answer(struct oms_http_response *resp, int status, json_t *doc)
{
    oms_http_response_json(resp, status, doc);
    json_decref(doc);
}

static int inspect(void *ctx, const struct oms_http_request *req, const json_t *body,
                   struct oms_http_response *resp)
{
    const struct omnitron *o = ctx;
    if (o->token) {
        const char *h = oms_http_request_header(req, "Authorization");
        if (!h || strncasecmp(h, "Token ", 6) != 0 ||
            !oms_secret_equal(h + 6, strlen(h + 6), o->token, strlen(o->token))) {
            answer(resp, 401, json_pack("{s:s}", "detail", "Invalid token."));
            return 1;
        }
    }
    if (strcmp(req->path, o->path) != 0) {
        answer(resp, 404, json_pack("{s:s}", "detail", "Not found."));
        return 1;
    }
    if (strcmp(req->method, "PATCH") != 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Method \"%.20s\" not allowed.", req->method);
        answer(resp, 405, json_pack("{s:s}", "detail", msg));
        oms_http_response_header(resp, "Allow", "PATCH");
        return 1;
    }
    if (!json_is_object(body)) {
        answer(resp, 400,
               json_pack("{s:[s]}", "non_field_errors",
                         "Invalid data. Expected a JSON object with \"orderitem_set\"."));
        return 1;
    }
    json_t *set = json_object_get(body, "orderitem_set");
    if (!json_is_array(set) || json_array_size(set) == 0) {
        answer(resp, 400,
               json_pack("{s:[s]}", "orderitem_set",
                         "This field is required and must be a non-empty list."));
        return 1;
    }
    json_t *errors = json_array();
    int any = 0;
    size_t i;
    json_t *e;
    json_array_foreach(set, i, e)
    {
        json_t *id = json_object_get(e, "id");
        json_t *status = json_object_get(e, "status");
        json_t *item = json_object();
        if (!json_is_object(e)) {
            json_object_set_new(item, "non_field_errors", json_pack("[s]", "Expected an object."));
        } else {
            if (!json_is_integer(id) || json_integer_value(id) <= 0)
                json_object_set_new(item, "id",
                                    json_pack("[s]", "A valid positive integer is required."));
            if (!json_is_string(status) || json_string_length(status) == 0)
                json_object_set_new(item, "status",
                                    json_pack("[s]", "A valid status is required."));
            if (json_object_size(e) != 2 && json_object_size(item) == 0)
                json_object_set_new(item, "non_field_errors",
                                    json_pack("[s]", "Only \"id\" and \"status\" are expected."));
        }
        any |= json_object_size(item) > 0;
        json_array_append_new(errors, item);
    }
    if (any) {
        answer(resp, 400, json_pack("{s:o}", "orderitem_set", errors));
        return 1;
    }
    json_decref(errors);
    answer(resp, 200, json_pack("{s:O}", "orderitem_set", set));
    return 1;
}

static void omnitron_free(void *ctx)
{
    struct omnitron *o = ctx;
    free(o->path);
    free(o->token);
    free(o);
}

int mock_omnitron_start(const struct mock_omnitron_config *cfg, struct oms_recorder **out,
                        struct oms_err *err)
{
    struct omnitron *o = OMS_NEW(struct omnitron);
    o->path = oms_xstrdup(cfg->path ? cfg->path : MOCK_OMNITRON_DEFAULT_PATH);
    o->token = oms_xstrdup(cfg->token);
    struct oms_recorder_config rc = {
        .name = "omnitron",
        .bind = cfg->bind,
        .port = cfg->port,
        .control_port = cfg->control_port,
        .status = 200,
        .inspect = inspect,
        .inspect_ctx = o,
        .inspect_free = omnitron_free,
        .journal_limit = cfg->journal_limit,
        .journal_bytes = cfg->journal_bytes,
        .journal_body_bytes = cfg->journal_body_bytes,
        .fixture_token = cfg->fixture_token,
        .limits = cfg->limits,
    };
    int ret = oms_recorder_start(&rc, out, err);
    if (ret != 0)
        omnitron_free(o);
    return ret;
}
