/* bad_oms: a small OMS written apart from the reference implementation, for the harness's own
 * tests. Without bugs it implements the command and the fixture protocol (state, drain, profile,
 * profile-overrides) with its state in memory; each --bug switches on one realistic integration
 * mistake, so a test can show that the harness fails it and names the check that exposes it. */
#ifndef BAD_OMS_H
#define BAD_OMS_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "oms_http_server.h"
#include "oms_profile.h"

/* The bugs, one bit each (--bug NAME). */
enum bad_bug {
    BAD_BUG_OOS_DELETES = 1u << 0,       /* deletes reservations/discrepancies from Out of Stock */
    BAD_BUG_DOUBLE_QUOTA = 1u << 1,      /* a package leaving a counting status frees two slots */
    BAD_BUG_STATUS_200 = 1u << 2,        /* success answers 200 with a JSON body, not 204 */
    BAD_BUG_WEBHOOK_NO_SUB = 1u << 3,    /* an event nobody subscribed to goes to a stale URL */
    BAD_BUG_IGNORE_SYNC_FALSE = 1u << 4, /* sync_remote_order_status: false is not honoured */
};

/* The bit of a bug name, or 0 when there is no such bug. */
unsigned bad_bug_by_name(const char *name);
/* The names of every bug, comma-separated (static), for usage texts. */
const char *bad_bug_names(void);

/* The whole program state. Everything below `lock` is guarded by it. */
struct bad_oms {
    unsigned bugs;
    struct oms_profile *base; /* the profile of --profile; never changes */
    struct oms_http_server *server;

    pthread_mutex_t lock;
    pthread_cond_t changed;      /* an outbox row was added or finished an attempt; a load ended */
    struct oms_profile *profile; /* in force: base plus the last fixture's overrides */
    char *omnitron_url;          /* NULL until a fixture names it */
    char *omnitron_token;
    /* The state in the shape GET /_fixture/state shows it; outbox rows also carry the private
     * keys "_retry" (policy) and "_next_ms" (monotonic time of the next attempt). */
    json_t *locations;
    json_t *packages;
    json_t *subscriptions;
    json_t *transition_log;
    json_t *outbox;
    int64_t next_log_id;
    int64_t next_outbox_id;
    /* BAD_BUG_WEBHOOK_NO_SUB: the target_url of the last subscription any fixture installed;
     * deliberately kept across fixture loads. */
    char *stale_hook_url;

    /* The delivery worker. */
    pthread_t worker;
    int worker_started;
    int stopping;
    int in_flight; /* the worker is performing an attempt outside the lock */
    int paused;    /* a fixture load waits: no new attempt may start */
    unsigned seed; /* for random retry policies */
};

/* Sets up the state with an empty store and the given profile (one reference is taken). */
void bad_oms_init(struct bad_oms *b, struct oms_profile *base, unsigned bugs);
/* Frees the state; the server and the worker must be stopped. */
void bad_oms_cleanup(struct bad_oms *b);

/* The HTTP entry point (oms_http_handler_fn); ctx is the struct bad_oms. */
void bad_oms_handle(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp);

/* The SPEC E-1 envelope with one message under field, as the answer. */
void bad_oms_reply_error(struct oms_http_response *resp, int status, const char *field,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* POST /api/v1/oms/packages/{id}/command/ (command.c). */
void bad_command_handle(struct bad_oms *b, int64_t package_id, const struct oms_http_request *req,
                        struct oms_http_response *resp);

/* Everything under /_fixture/ (fixture.c). */
void bad_fixture_handle(struct bad_oms *b, const struct oms_http_request *req,
                        struct oms_http_response *resp);

/* The delivery worker (delivery.c). _start returns 0 or -1 when no thread could be created;
 * _stop wakes it, waits for the attempt in flight and joins it (safe when never started). */
int bad_delivery_start(struct bad_oms *b);
void bad_delivery_stop(struct bad_oms *b);
/* With the lock held: queues one outbound call (a new outbox row, delivered after the command
 * answered) and wakes the worker. headers is stolen; retry is borrowed (NULL: the defaults). */
void bad_delivery_enqueue(struct bad_oms *b, const char *kind, const char *method, const char *url,
                          json_t *headers, const char *body, const char *event_uuid,
                          const json_t *retry);
/* With the lock held: waits until the worker is idle and holds it off (a fixture load replaces
 * the outbox afterwards); bad_delivery_resume lets it go on. */
void bad_delivery_pause(struct bad_oms *b);
void bad_delivery_resume(struct bad_oms *b);
/* With the lock held: waits until no row is pending or timeout_ms passed; the drain answer
 * {"drained", "pending", "delivered", "dead", "clock_advanced_ms"} (new reference). */
json_t *bad_delivery_drain(struct bad_oms *b, int64_t timeout_ms);

#endif
