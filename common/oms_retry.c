/* oms_retry: retry policy validation and schedule. */
#include "oms_retry.h"

#include "oms_alloc.h"
#include "oms_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const CHOICES[] = {"fixed", "linear", "exponential", "random"};

int oms_retry_validate(const json_t *policy, const char *prefix, struct oms_err *err)
{
    char p[OMS_ERR_PATH_MAX];
    if (!policy || json_is_null(policy))
        return 0;
    if (!json_is_object(policy))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, prefix,
                           "expected {\"choice\": \"fixed\"|\"linear\"|\"exponential\"|\"random\", "
                           "\"countdown\": seconds, \"max_retries\": n}, found %s",
                           oms_json_type_name(policy));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)policy, key, v)
    {
        oms_jpath_key(p, sizeof(p), prefix, key);
        if (strcmp(key, "choice") == 0) {
            int ok = 0;
            for (size_t i = 0; i < OMS_ARRAY_LEN(CHOICES); i++)
                if (json_is_string(v) && strcmp(json_string_value(v), CHOICES[i]) == 0)
                    ok = 1;
            if (!ok)
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p,
                                   "expected \"fixed\", \"linear\", \"exponential\" or \"random\"");
        } else if (strcmp(key, "countdown") == 0) {
            if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 86400)
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p,
                                   "expected seconds between 0 and 86400");
        } else if (strcmp(key, "max_retries") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100)
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p,
                                   "expected an integer between 0 and 100");
        } else {
            return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, p,
                               "unknown key \"%s\" (expected choice, countdown, max_retries)", key);
        }
    }
    return 0;
}

int64_t oms_retry_max_attempts(const json_t *policy, int64_t default_max)
{
    json_t *m = json_object_get(policy, "max_retries");
    return json_is_integer(m) && oms_retry_validate(policy, "$", NULL) == 0
               ? json_integer_value(m) + 1
               : default_max;
}

int64_t oms_retry_delay_ms(const json_t *policy, int64_t retry, unsigned *seed)
{
    if (oms_retry_validate(policy, "$", NULL) != 0)
        policy = NULL;
    const char *choice = json_string_value(json_object_get(policy, "choice"));
    json_t *c = json_object_get(policy, "countdown");
    double base_ms = (c ? json_number_value(c) : 1.0) * 1000.0;
    if (!choice)
        choice = "exponential";
    if (retry < 1)
        retry = 1;
    double grown = base_ms * pow(2.0, (double)(retry < 40 ? retry - 1 : 39));
    double ms;
    if (strcmp(choice, "fixed") == 0)
        ms = base_ms;
    else if (strcmp(choice, "linear") == 0)
        ms = base_ms * (double)retry;
    else if (strcmp(choice, "exponential") == 0)
        ms = grown;
    else
        ms = grown * ((double)rand_r(seed) / (double)RAND_MAX);
    if (ms > 86400000.0)
        ms = 86400000.0;
    return (int64_t)llround(ms);
}
