/* crash_check: what must hold after a crash step, judged from the target's state before the step
 * and after its restart and drain, what each command of the burst got, and the calls the
 * receivers recorded during the step (docs/scenario-format.md, "After a crash"):
 *   - every command answered 204 before the kill kept all its effects (SPEC C-6, C-7, C-10,
 *     Q-2), or, without a burst, the state committed before the kill is the state after it;
 *   - no package is half-applied: wholly transitioned or untouched;
 *   - the calls of every answered command arrived, with one event uuid and a valid signature, and
 *     none for a command that did not apply (O-1, O-2, O-3);
 *   - every transition the restarted target logged during the step, answered or not, has its
 *     calls (O-1): a lost call is named with its transition;
 *   - the calls still pending in the outbox when the kill came arrived (O-1; needs the outbox).
 * A call arrived when the receiver recorded at least one attempt of it, whatever it answered. */
#ifndef CRASH_CHECK_H
#define CRASH_CHECK_H

#include <jansson.h>

#include "crash.h"
#include "oms_profile.h"
#include "result.h"
#include "scenario.h"

struct crash_span {
    const struct oms_profile *profile;
    const struct scenario *scenario; /* its given.subscriptions name the receivers */
    const struct scenario_step *step;
    const struct crash_run *run;
    const json_t *before;         /* the state when the step began */
    const json_t *after;          /* after the restart and the drain */
    const json_t *omnitron_calls; /* journal entries recorded during the step */
    const json_t *webhook_calls;
    const char *webhook_prefix; /* "/hooks/" */
    int no_outbox;              /* the target does not expose its outbox */
};

/* Appends the crash checks to checks/count, each with its rule (every difference carries its own
 * rule), and returns the step's figures as a new object: the commands sent, answered (204),
 * refused, in flight, not sent; the transitions the target kept, those whose answer the kill
 * took; half-applied packages; calls expected, arrived, delivered (answered 2xx), lost and
 * duplicated (2xx deliveries beyond the first); and each command's fate. */
json_t *crash_check(const struct crash_span *span, struct result_check **checks, size_t *count);

#endif
