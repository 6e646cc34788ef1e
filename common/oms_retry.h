/* oms_retry: retry policies of outbound deliveries (SPEC O-2), as subscriptions and profiles write
 * them: {"choice": "fixed"|"linear"|"exponential"|"random", "countdown": seconds,
 * "max_retries": n}. Absent keys: exponential, 1 s, the caller's default number of retries. */
#ifndef OMS_RETRY_H
#define OMS_RETRY_H

#include <jansson.h>
#include <stdint.h>

#include "oms_error.h"

/* NULL or null is a valid (default) policy. Returns 0, or OMS_E_INVAL with err naming the JSON path
 * under prefix and what was expected. */
int oms_retry_validate(const json_t *policy, const char *prefix, struct oms_err *err);

/* The delay before retry number `retry` (1 = the first retry, after the first attempt failed):
 *   fixed: countdown; linear: countdown * retry; exponential: countdown * 2^(retry-1);
 *   random: uniform in [0, countdown * 2^(retry-1)] (jitter), drawn from *seed.
 * Capped at one day. A malformed policy counts as the default. */
int64_t oms_retry_delay_ms(const json_t *policy, int64_t retry, unsigned *seed);

/* Attempts in all (the first try plus max_retries); default_max when the policy has none. */
int64_t oms_retry_max_attempts(const json_t *policy, int64_t default_max);

#endif
