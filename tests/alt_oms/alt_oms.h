/* alt_oms: a second, independent OMS for the Package Packed for Refund command, written from
 * the contract and the fixture protocol alone. It keeps every contract rule and differs from
 * oms-reference wherever the contract leaves a choice open, so the bundled suite can show that
 * it passes any correct implementation (tests/alt_target.sh, ctest integration.alt_target). */
#ifndef ALT_OMS_H
#define ALT_OMS_H

#include <jansson.h>
#include <pthread.h>

#include "alt_outbox.h"
#include "alt_profile.h"
#include "alt_store.h"
#include "oms_http_server.h"

/* The whole program state; lock guards everything below it. */
struct alt_app {
    pthread_mutex_t lock;
    json_t *base_profile; /* the profile file, which fixture overrides patch (immutable) */
    struct alt_profile *profile;
    struct alt_store *store;
    struct alt_outbox *outbox;
    char *omnitron_url;   /* NULL until a fixture names it */
    char *omnitron_token; /* NULL: no Authorization header to Omnitron */
};

/* POST /api/v1/oms/packages/{id}/command/ (SPEC C-1..C-11, E-1..E-3). id is the path segment,
 * not yet checked. */
void alt_command_handle(struct alt_app *app, const struct oms_http_request *req, const char *id,
                        struct oms_http_response *resp);
/* Everything under /_fixture/ (docs/fixture-protocol.md). */
void alt_fixture_handle(struct alt_app *app, const struct oms_http_request *req,
                        struct oms_http_response *resp);
/* Answers {"error": {key: [message]}, "status_code": status}. */
void alt_answer_error(struct oms_http_response *resp, int status, const char *key,
                      const char *message);

#endif
