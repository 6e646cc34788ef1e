/* oms_quota: the quota rule, decided without touching any store. */
#include "oms_quota.h"

#include "oms_error.h"

#include <string.h>

int oms_quota_delta(const struct oms_profile *p, int64_t from, int64_t to)
{
    return oms_profile_counts(p, to) - oms_profile_counts(p, from);
}

int64_t oms_quota_after(int64_t quota, int64_t delta)
{
    if (delta > 0 && quota > INT64_MAX - delta)
        return INT64_MAX;
    if (delta < 0) /* quota > 0 here, so -quota and quota + delta cannot overflow */
        return quota <= 0 || delta <= -quota ? 0 : quota + delta;
    return quota + delta < 0 ? 0 : quota + delta;
}

int64_t oms_quota_available(int64_t max_quota, int64_t quota)
{
    if (quota < 0 && max_quota > INT64_MAX + quota)
        return INT64_MAX;
    if (quota > 0 && max_quota < INT64_MIN + quota)
        return INT64_MIN;
    return max_quota - quota;
}

int oms_quota_selects_by_quota(const json_t *rules)
{
    size_t i;
    json_t *r;
    json_array_foreach((json_t *)rules, i, r)
    {
        if (json_is_string(r) && strcmp(json_string_value(r), OMS_QUOTA_SELECT_BY_QUOTA) == 0)
            return 1;
    }
    return 0;
}

int oms_quota_may_plan(int selects_by_quota, int64_t max_quota, int64_t quota)
{
    return !selects_by_quota || oms_quota_available(max_quota, quota) > 0;
}

int oms_quota_check(int64_t quota, int64_t counting_packages, int drift_declared)
{
    return drift_declared || quota == counting_packages ? 0 : OMS_E_CONFLICT;
}
