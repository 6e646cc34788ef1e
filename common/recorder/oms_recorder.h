/* oms_recorder: a recording HTTP receiver. Every request outside the control prefix "/__" is
 * journaled (method, path, query, headers, body, arrival time, what was answered) and answered
 * with the configured status, unless a fault rule or the inspector decides otherwise. Both mocks
 * (Omnitron, webhook) are configurations of this one library. */
#ifndef OMS_RECORDER_H
#define OMS_RECORDER_H

#include <jansson.h>

#include "oms_error.h"
#include "oms_http_server.h"

struct oms_recorder;

/* Called for every recorded request before it is answered. body_json is the parsed body or NULL.
 * To answer differently from the configured status, fill resp (status, body) and return 1;
 * return 0 to leave the answer to the recorder. */
typedef int (*oms_recorder_inspect_fn)(void *ctx, const struct oms_http_request *req,
                                       const json_t *body_json, struct oms_http_response *resp);

struct oms_recorder_config {
    const char *name;                /* "omnitron", "webhook": shown in the journal and logs */
    const char *bind;                /* NULL: 127.0.0.1 */
    unsigned port;                   /* 0: ephemeral */
    unsigned control_port;           /* the control-only listener; 0: ephemeral */
    int status;                      /* answered by default, e.g. 200 */
    const char *body;                /* default answer body (JSON text) or NULL for none */
    oms_recorder_inspect_fn inspect; /* optional */
    void *inspect_ctx;
    void (*inspect_free)(void *ctx); /* optional: frees inspect_ctx when the recorder stops */
    size_t journal_limit;            /* entries kept, the oldest forgotten past it; 0: 100000 */
    /* Bytes of bodies the journal keeps in all, the oldest entries forgotten past it (counted as
     * dropped); 0: OMS_RECORDER_DEFAULT_JOURNAL_BYTES. */
    size_t journal_bytes;
    /* A body longer than this is kept truncated to it, with its full length and SHA-256
     * ("body_length", "body_sha256", "body_truncated": true); 0: the default below. */
    size_t journal_body_bytes;
    /* X-Fixture-Token the /__ control endpoints require, on both listeners; NULL:
     * $REFUND_FIXTURE_TOKEN, else a random one (oms_recorder_fixture_token). */
    const char *fixture_token;
    struct oms_http_limits limits; /* both listeners; 0 fields: the server defaults */
};

#define OMS_RECORDER_DEFAULT_JOURNAL_BYTES      (64 * 1024 * 1024)
#define OMS_RECORDER_DEFAULT_JOURNAL_BODY_BYTES (1024 * 1024)
/* Largest request body a receiver reads (413 past it). */
#define OMS_RECORDER_MAX_BODY (16 * 1024 * 1024)

/* Starts the receiver. Returns 0 and *out, or a negative code with err set (nothing running). */
int oms_recorder_start(const struct oms_recorder_config *cfg, struct oms_recorder **out,
                       struct oms_err *err);
/* Stops and frees. NULL allowed. */
void oms_recorder_stop(struct oms_recorder *r);

/* The port the receiver listens on (the one chosen when 0 was asked for). */
unsigned oms_recorder_port(const struct oms_recorder *r);
/* Base URL such as "http://127.0.0.1:40123"; borrowed. It stays the same while the receiver is
 * down and after it comes back. */
const char *oms_recorder_url(const struct oms_recorder *r);
/* Base URL of the control-only listener, which serves the /__ endpoints even while the receiver
 * is down (refusing connections); borrowed. */
const char *oms_recorder_control_url(const struct oms_recorder *r);
/* The fixture token the control endpoints require (borrowed), and whether it was made up at start
 * (so the program prints it once). */
const char *oms_recorder_fixture_token(const struct oms_recorder *r);
int oms_recorder_fixture_token_generated(const struct oms_recorder *r);

/* The journal as a JSON array of entries (new reference), oldest first; path_filter (NULL for
 * all) keeps entries whose path equals it. Same shape as GET /__journal. */
json_t *oms_recorder_journal(struct oms_recorder *r, const char *path_filter);
/* Number of entries kept (recorded since the last clear, at most the limit). */
size_t oms_recorder_count(struct oms_recorder *r);
/* Forgets every entry (and the attempts remembered to recognise re-sends). */
void oms_recorder_clear(struct oms_recorder *r);
/* Transport re-sends recognised since the last clear: requests repeating the Delivery-Id and
 * Delivery-Attempt of an attempt already recorded, which were answered as that attempt was and
 * not recorded again (its entry's "resent" counts them; oms_attempts.h). */
int64_t oms_recorder_resent(struct oms_recorder *r);
/* Entries forgotten since the last clear because the journal was at its limit. A check that reads
 * the journal must not trust it when this is not 0. */
int64_t oms_recorder_dropped(struct oms_recorder *r);

/* Applies a behaviour document (the body of PUT /__behaviour):
 *   {"status": 204, "body": {...}|null, "faults": [{"status": 503, "times": 2}, ...],
 *    "down": true|false, "down_ms": N}
 * Fault rules are used in order, each for `times` requests (default 1), before the default status
 * applies again. A "status" given here is answered to every request without fault (an inspector,
 * such as mock_omnitron's, no longer decides). A rule is one of: {"status": N}, {"delay_ms": D}
 * (then the default answer), or a transport fault: {"drop": true} (read the request, close without
 * answering), {"reset": true} (close with a TCP reset), {"truncate": true} (the default answer's
 * head and half its body - half its head when it has none - then close), {"hang": true} (never
 * answer; the connection closes when the client gives up or the listener's request timeout passes).
 * A rule with "path": "/hooks/a" applies only to requests to that exact path (one failing
 * subscriber among several); requests to other paths pass over it to the next rule that applies.
 * "down": true closes the main
 * listener (connections are refused) until "down": false; "down_ms" does so for N ms. Returns once
 * the listener is down or up. On a bad document returns OMS_E_INVAL with err naming the JSON
 * path, and nothing changes. */
int oms_recorder_configure(struct oms_recorder *r, const json_t *behaviour, struct oms_err *err);
/* Back to the start-up behaviour (up, no faults) and an empty journal. */
void oms_recorder_reset(struct oms_recorder *r);

/* Answers one request as the main listener would, control endpoints included, without a socket
 * (for in-process tests and fuzzing): a delay is left in resp->delay_ms, not waited for, and a
 * "down" document is carried out without waiting for the listener. */
void oms_recorder_handle(struct oms_recorder *r, const struct oms_http_request *req,
                         struct oms_http_response *resp);

#endif
