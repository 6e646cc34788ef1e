/* expect: evaluates a scenario's expectations ("then") over one span of a run - the response of
 * the span's last request, the target's state before and after, and the calls the receivers
 * recorded during the span - into result checks. Also the harness's own invariant checks
 * (SPEC ), run after every step whatever the scenario says. */
#ifndef EXPECT_H
#define EXPECT_H

#include <jansson.h>

#include "oms_profile.h"
#include "result.h"
#include "scenario.h"
#include "tier.h"

struct expect_span {
    const struct oms_profile *profile;
    const struct scenario *scenario;
    const char *then_path;        /* "$.then" or "$.when[i].then", for file:line:column */
    const json_t *response;       /* {"status", "headers" (lower-case names), "body" (text), "json"}
                                     of the span's last answer, or NULL when it sent nothing */
    const json_t *responses;      /* every answer of the span's last step (concurrent copies) */
    const json_t *before;         /* the target's state at the start of the span */
    const json_t *after;          /* and at its end */
    const json_t *omnitron_calls; /* journal entries recorded during the span */
    const json_t *webhook_calls;
    const char *webhook_prefix; /* path prefix of named receivers, "/hooks/" */
    json_t *captures;           /* $capture/$same values, kept for the whole scenario */
    const struct tier *tier; /* rule of each check and softness of reference rules; may be NULL */
    int no_outbox;           /* the target does not expose its outbox (capability "outbox") */
};

/* Why outbox checks are skipped against a target without the "outbox" capability. */
#define EXPECT_NO_OUTBOX                                                                    \
    "the target does not expose its outbox (fixture capability \"outbox\"): its calls are " \
    "checked at the receivers instead"

/* Appends one check per expectation in then (NULL: none) to checks/count, each with the rule it
 * exercises (tier_rule_for over the scenario's rules). */
void expect_check(const struct expect_span *span, const json_t *then, struct result_check **checks,
                  size_t *count);

/* SPEC on a state: available_quota = max_quota - quota, quota >= 0, and quota equals the
 * number of counting packages unless the location declares drift (then a note is added to notes
 * instead of a failure). `when` labels the checks ("after when[0]"). */
void expect_invariants(const struct oms_profile *profile, const json_t *state, const char *when,
                       struct result_check **checks, size_t *count, json_t *notes);

#endif
