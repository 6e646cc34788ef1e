/* subscription: field checks for webhook subscriptions. */
#include "subscription.h"

#include "oms_http_client.h"

#include "oms_json.h"
#include "oms_retry.h"

#include <stdlib.h>
#include <string.h>

static const char *const FIELDS[] = {"event_type", "target_url", "additional_headers", "secret_key",
                                     "retry_countdown_config"};

int subscription_validate(const json_t *doc, int strict, struct subscription_input *in,
                          struct valerr *errors)
{
    memset(in, 0, sizeof(*in));
    if (!json_is_object(doc)) {
        valerr_add(errors, "non_field_errors", "a subscription must be a JSON object, not %s",
                   oms_json_type_name(doc));
        return OMS_E_INVAL;
    }
    if (strict) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)doc, key, v)
        {
            size_t i = 0;
            while (i < sizeof(FIELDS) / sizeof(FIELDS[0]) && strcmp(FIELDS[i], key) != 0)
                i++;
            if (i == sizeof(FIELDS) / sizeof(FIELDS[0]))
                valerr_add(errors, key,
                           "unknown field (expected event_type, target_url, additional_headers, "
                           "secret_key, retry_countdown_config)");
        }
    }
    json_t *event = json_object_get(doc, "event_type");
    json_t *url = json_object_get(doc, "target_url");
    json_t *headers = json_object_get(doc, "additional_headers");
    json_t *secret = json_object_get(doc, "secret_key");
    json_t *retry = json_object_get(doc, "retry_countdown_config");
    if (!event)
        valerr_add(errors, "event_type", "this field is required");
    else if (!json_is_string(event) || json_string_length(event) == 0)
        valerr_add(errors, "event_type",
                   "must be an event type such as \"package.status.packed_for_refund\"");
    if (!url)
        valerr_add(errors, "target_url", "this field is required");
    else if (!json_is_string(url) || !oms_http_url_allowed(json_string_value(url)))
        valerr_add(errors, "target_url", "must be an http:// or https:// URL");
    if (headers && !json_is_null(headers)) {
        if (!json_is_object(headers)) {
            valerr_add(errors, "additional_headers",
                       "must be an object of header names to string values");
        } else {
            const char *k;
            json_t *v;
            json_object_foreach(headers, k, v)
            {
                if (!json_is_string(v) || strpbrk(json_string_value(v), "\r\n") ||
                    strpbrk(k, " :\r\n") || !k[0])
                    valerr_add(errors, "additional_headers",
                               "header \"%s\" needs a valid name and a one-line string value", k);
            }
        }
    }
    if (secret && !json_is_null(secret) && !json_is_string(secret))
        valerr_add(errors, "secret_key", "must be a string or null");
    struct oms_err err = {0};
    if (retry && !json_is_null(retry) &&
        oms_retry_validate(retry, "retry_countdown_config", &err) != 0)
        valerr_add(errors, "retry_countdown_config", "%s: %s", err.path, err.message);
    if (valerr_any(errors))
        return OMS_E_INVAL;

    in->headers_text = json_is_object(headers) ? oms_json_dumps(headers) : NULL;
    in->retry_text = json_is_object(retry) ? oms_json_dumps(retry) : NULL;
    in->sub.event_type = json_string_value(event);
    in->sub.target_url = json_string_value(url);
    in->sub.additional_headers = in->headers_text;
    in->sub.secret_key =
        json_is_string(secret) && json_string_length(secret) ? json_string_value(secret) : NULL;
    in->sub.retry_config = in->retry_text;
    return 0;
}

void subscription_input_cleanup(struct subscription_input *in)
{
    free(in->headers_text);
    free(in->retry_text);
    in->headers_text = NULL;
    in->retry_text = NULL;
}
