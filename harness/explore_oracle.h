/* explore_oracle: turns what the embedded reference did with a generated case into expectations
 * that say only what the contract decides (docs/spec.md): status codes and the error envelope
 * with the field at fault and the statuses a refusal names (never the reference's wording), the
 * packages' and items' statuses, reservation and discrepancy counts, quota and available quota,
 * the transition log, Omnitron calls and webhooks per receiver as multisets (bodies reduced to
 * contract fields, the event uuid captured so retries must repeat it), and the outbox rows'
 * outcomes. Each expectation carries the rule it exercises ({"$rule": [id, m]}), and an answer
 * that depends on the reference's check order is held under R-2. A crash step gets none: the
 * crash checks judge it (crash_check.h); after a kill inside a burst, which of its commands
 * applied is timing's, not the contract's, so no later expectation rests on the burst's packages,
 * their locations' quotas, or calls that met fault rules in a number timing chose. The result is
 * an ordinary scenario document, the same for every run of the probe. Also explore's own
 * invariants on a step (no 5xx, nothing half-applied, items move with their package). */
#ifndef EXPLORE_ORACLE_H
#define EXPLORE_ORACLE_H

#include <jansson.h>

#include "oms_profile.h"
#include "result.h"
#include "runner.h"

struct explore_oracle;

/* An oracle for one run of probe (a scenario document, borrowed for the oracle's life) on the
 * reference whose profile in force is profile (the base with the probe's overrides; one
 * reference is taken). invariants: also append explore's invariants to each step's checks.
 * New object. */
struct explore_oracle *explore_oracle_create(const json_t *probe, struct oms_profile *profile,
                                             int invariants);
void explore_oracle_destroy(struct explore_oracle *o);

/* The observer to pass in runner_options (borrowed from o). */
const struct runner_observer *explore_oracle_observer(struct explore_oracle *o);

/* After the run: the probe with each step's "then" (new reference), or NULL when the run did not
 * reach every step. */
json_t *explore_oracle_expected(const struct explore_oracle *o);

/* Explore's invariants on one step, appended to rs: no answer is a 5xx (SPEC E-3); a command all
 * of whose answers were refusals changed nothing and called nobody (E-3, C-5); items that had
 * their package's status still have it (C-6). */
void explore_invariants(const struct oms_profile *p, const struct runner_step_view *v,
                        struct result_step *rs);

#endif
