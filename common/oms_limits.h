/* oms_limits: the policy numbers the components share, each named once here. The bounds of one
 * module alone stay named in that module (its header when callers need them). */
#ifndef OMS_LIMITS_H
#define OMS_LIMITS_H

/* The longest wait an input may ask for: a profile's delivery timeout, a receiver's delay or
 * drop rule, the harness's request and idle timeouts (10 minutes). */
#define OMS_MAX_WAIT_MS 600000

/* The longest time a server program's command-line option takes (one hour). */
#define OMS_MAX_OPTION_MS 3600000

/* How long a drain waits for the outbox when the caller names no timeout_ms. */
#define OMS_DRAIN_DEFAULT_MS 5000

/* One HTTP exchange of the clients (the harness with a target, the outbox with a receiver) when
 * the caller names no timeout. */
#define OMS_HTTP_TIMEOUT_DEFAULT_MS 10000

/* Attempts of a delivery whose retry policy names no max_retries: the first and 5 retries. */
#define OMS_DEFAULT_MAX_ATTEMPTS 6

/* The largest limits.max_body_bytes a profile may set (1 MiB). */
#define OMS_PROFILE_MAX_BODY_LIMIT (1024 * 1024)

#endif
