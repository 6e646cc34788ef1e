/* cmdlog: the journal of the command requests the reference received - what was sent and what it
 * answered, including every validation error - kept in memory (the last CMDLOG_MAX) for a vendor
 * pointing an ERP at the sandbox (GET /_fixture/journal, `refund-harness journal`). */
#ifndef CMDLOG_H
#define CMDLOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLOG_MAX 10000

struct cmdlog;

/* Never NULL; free with cmdlog_destroy (NULL allowed). Thread-safe. */
struct cmdlog *cmdlog_create(void);
void cmdlog_destroy(struct cmdlog *l);

/* Records one request: body (first 4 KiB kept, as text) and the answer (status, body text or
 * NULL for an empty one). at_ms is the arrival time. The oldest entry goes beyond CMDLOG_MAX. */
void cmdlog_add(struct cmdlog *l, int64_t at_ms, const char *method, const char *path,
                const char *body, size_t body_len, int status, const char *answer);
/* Forgets every entry (a new fixture state starts a new journal). */
void cmdlog_clear(struct cmdlog *l);
/* The entries, oldest first, as a new array of {"seq", "at_ms", "method", "path", "body",
 * "status", "answer"} ("answer" parsed when it is JSON). */
json_t *cmdlog_json(struct cmdlog *l);

#endif
