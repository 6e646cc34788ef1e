/* tier: the basis of every check (docs/spec.md). A check exercises one rule of the contract; the
 * rule is documented (the vendor's documentation says it), assumed (the project chose, A-n) or
 * reference (only oms-reference does it that way). A difference under a reference rule is a note
 * against another target, never a failure, unless the run is strict (the embedded reference, or
 * --strict-reference). The rule catalogue is spec/rules.json. */
#ifndef TIER_H
#define TIER_H

#include <jansson.h>

#include "result.h"

struct tier;

/* Builds the table from the "rules" array of spec/rules.json (NULL: an empty table, every rule
 * unknown and every difference a failure). strict: reference differences fail too. New object;
 * free with tier_destroy (NULL allowed). */
struct tier *tier_create(const json_t *rules, int strict);
void tier_destroy(struct tier *t);

/* "documented", "assumed", "reference" for a rule id, or NULL when the catalogue lacks it. */
const char *tier_basis(const struct tier *t, const char *rule);
/* The rule's title, or NULL. */
const char *tier_title(const struct tier *t, const char *rule);
/* 1 when differences under rule are notes in this run (reference basis, not strict). */
int tier_soft(const struct tier *t, const char *rule);
/* The same with the signature matcher_ctx.soft wants (arg is the struct tier). */
int tier_soft_cb(const char *rule, void *arg);

/* The rule a check of this kind exercises in a scenario naming rules[0..n): the first of them
 * whose catalogue entry lists the kind (or a prefix of it: "packages" covers
 * "packages.reservations") among its "checks", else rules[0], else NULL. Borrowed from rules. */
const char *tier_rule_for(const struct tier *t, const char *kind, const char *const *rules,
                          size_t n);

/* Settles a check: a failed check whose every difference falls under a soft rule becomes NOTED;
 * rule becomes the rule of the first difference that decided the verdict and basis its basis. */
void tier_settle(const struct tier *t, struct result_check *c);
/* tier_settle on every check of a scenario, then result_scenario_settle. */
void tier_settle_scenario(const struct tier *t, struct result_scenario *s);

#endif
