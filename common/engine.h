/* engine: the domain decisions of a package command, with no I/O - which transition a request
 * names, whether the package's status allows it, and what the transition does (SPEC C-3..C-9,
 * Everything it knows about statuses and transitions comes from the profile. */
#ifndef ENGINE_H
#define ENGINE_H

#include <jansson.h>
#include <stdint.h>

#include "oms_profile.h"
#include "valerr.h"

/* A command body that passed validation. */
struct engine_command {
    int64_t package;
    const struct oms_profile_transition *transition; /* borrowed from the profile */
    int sync_remote_order_status;                    /* request value, else profile default */
};

/* SPEC C-1, C-3, C-4, C-8, A-2: validates body (any JSON value) for the package named in the path.
 * Every field error is collected into errors, not only the first. Returns 0 and fills cmd, or
 * OMS_E_INVAL. */
int engine_parse_command(const struct oms_profile *p, int64_t path_package, const json_t *body,
                         struct engine_command *cmd, struct valerr *errors);

/* SPEC C-5: 0 when the transition may leave current_status; otherwise adds a message naming the
 * package's status and the allowed sources to errors and returns OMS_E_CONFLICT. */
int engine_check_source(const struct oms_profile *p, const struct oms_profile_transition *t,
                        int64_t package_id, int64_t current_status, struct valerr *errors);

/* What a transition from source does. */
struct engine_effects {
    int64_t target;
    int delete_reservations;   /* SPEC C-7, A-3 */
    int delete_discrepancies;  /* SPEC C-7, A-3 */
    int quota_delta;           /* SPEC Q-2 */
    const char *remote_status; /* SPEC C-8: mapped Omnitron status, NULL: no sync */
    const char *event_type;    /* SPEC C-9: webhook event type, NULL: none */
};

/* SPEC C-6..C-9, Q-2: fills out with what t does from source (a status t allows), the Omnitron
 * sync taken only when sync_flag is set and the profile maps the target. Cannot fail; the strings
 * are borrowed from p. */
void engine_effects(const struct oms_profile *p, const struct oms_profile_transition *t,
                    int64_t source, int sync_flag, struct engine_effects *out);

#endif
