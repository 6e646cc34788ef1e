/* oms_attempts: what a receiver remembers of the delivery attempts it left unanswered (dropped,
 * reset, hanging), so that a transport re-send of one (the same Delivery-Id and Delivery-Attempt
 * again: libcurl silently sends a request again when a kept-alive connection dies before any
 * answer) is recognised as the attempt it repeats, answered as that attempt was, and counted apart
 * instead of as a new call. The owner decides what to remember. Bounded: the oldest attempts are
 * forgotten first. Not thread-safe: the owner locks. */
#ifndef OMS_ATTEMPTS_H
#define OMS_ATTEMPTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_http_server.h"

/* The delivery headers (docs/reference-impl.md, "Delivery"). */
#define OMS_DELIVERY_ID_HEADER      "Delivery-Id"
#define OMS_DELIVERY_ATTEMPT_HEADER "Delivery-Attempt"
/* Longest Delivery-Id taken as one (a longer value is not a delivery id). */
#define OMS_DELIVERY_ID_MAX 64

/* Attempts remembered when the owner names no capacity. */
#define OMS_ATTEMPTS_DEFAULT_CAPACITY 4096

struct oms_attempts;

/* The delivery id and attempt number of a request: 1 when it carries both headers, the id being
 * 1..OMS_DELIVERY_ID_MAX letters, digits, '-', '_' or '.' and the attempt a positive decimal
 * integer; 0 otherwise (the request is then a call of its own, whatever it repeats). id receives
 * the id, NUL-terminated. */
int oms_attempts_key(const struct oms_http_request *req, char id[OMS_DELIVERY_ID_MAX + 1],
                     int64_t *attempt);

/* capacity 0: OMS_ATTEMPTS_DEFAULT_CAPACITY. Never NULL; free with oms_attempts_destroy (NULL
 * allowed). */
struct oms_attempts *oms_attempts_create(size_t capacity);
void oms_attempts_destroy(struct oms_attempts *a);
/* Forgets every attempt. */
void oms_attempts_clear(struct oms_attempts *a);

/* Remembers attempt (id, attempt) with the journal entry it was recorded as (a reference is taken)
 * and the answer it was given (resp's status, fault, headers and body are copied). A key already
 * remembered is left as it is. */
void oms_attempts_remember(struct oms_attempts *a, const char *id, int64_t attempt, json_t *entry,
                           const struct oms_http_response *resp);
/* When (id, attempt) is remembered: fills resp with the answer that attempt was given (status,
 * fault, headers and body; resp must be fresh, as a handler receives it), adds one to the "resent"
 * count of its journal entry and returns 1. Otherwise returns 0 and resp is untouched. */
int oms_attempts_replay(struct oms_attempts *a, const char *id, int64_t attempt,
                        struct oms_http_response *resp);

#endif
