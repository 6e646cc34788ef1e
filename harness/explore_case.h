/* explore_case: one explore case on one system - a "side", the embedded reference (with its own
 * receivers) or the system under test (--target, with receivers here or the user's). Observing a
 * probe on the reference yields the scenario document with expectations (explore_oracle);
 * checking a document on any side runs it with the normal runner, whose tiers decide what a
 * difference is; a failed check becomes a difference kind: (what was checked, its rule). */
#ifndef EXPLORE_CASE_H
#define EXPLORE_CASE_H

#include <jansson.h>

#include "oms_error.h"
#include "oms_profile.h"
#include "result.h"
#include "suite.h"
#include "tier.h"

struct explore_side;

struct explore_side_config {
    const char *profile_path;                /* the embedded reference's profile; NULL: default */
    const char *target_url;                  /* NULL: the embedded reference */
    const char *token;                       /* API token for the target; NULL: its profile's */
    const char *fixture_token;               /* the target's; NULL: $REFUND_FIXTURE_TOKEN */
    const struct suite_receivers *receivers; /* receivers the user runs; NULL: start our own */
    const json_t *rules;                     /* spec/rules.json "rules" (borrowed) */
    int strict_reference;                    /* with target_url: reference-only rules fail */
};

/* Starts what the side needs and reads its handshake and profile. Returns 0 and *out, or
 * OMS_E_ENV with err saying what did not start or answer. */
int explore_side_open(const struct explore_side_config *cfg, struct explore_side **out,
                      struct oms_err *err);
void explore_side_close(struct explore_side *s);

/* The side's profile (borrowed), its fixture capabilities (borrowed array), its URL. */
const struct oms_profile *explore_side_profile(const struct explore_side *s);
const json_t *explore_side_profile_json(const struct explore_side *s);
const json_t *explore_side_capabilities(const struct explore_side *s);
int explore_side_has(const struct explore_side *s, const char *capability);
const char *explore_side_url(const struct explore_side *s);
const char *explore_side_omnitron_url(const struct explore_side *s);
const char *explore_side_webhook_url(const struct explore_side *s);

/* Runs probe (a scenario document without expectations) on a reference side. out (zeroed, from
 * result_run_add) gets the run; with invariants, explore's own checks are in it too. *expected
 * gets the probe with every step's expectations, or NULL when the case could not run to its end
 * (out says why). Returns 0, or OMS_E_ENV when the side stopped answering. */
int explore_case_observe(struct explore_side *ref, const json_t *probe, int invariants,
                         json_t **expected, struct result_scenario *out, struct oms_err *err);

/* Runs doc (a scenario document) on a side as `run` would; file names it in the result and in
 * every check's file:line:column (positions are those of explore_case_text(doc)). Returns 0, or
 * OMS_E_ENV when the side stopped answering. */
int explore_case_check(struct explore_side *side, const json_t *doc, const char *file,
                       struct result_scenario *out, struct oms_err *err);

/* The text a case document is written as (indented, keys in order); new string. */
char *explore_case_text(const json_t *doc);

/* The difference kinds of a settled result, in order of appearance, each once: "<check> [<rule>]"
 * with ids replaced by "*" and one receiver's webhooks counted as "webhooks"
 * ("packages.*.reservations [A-3]"), or
 * "error [<first words of the error>]". New array of strings. */
json_t *explore_case_kinds(const struct result_scenario *r);

/* Webhook receivers that got calls in r although probe subscribes none of them by that name
 * (their URL can only come from an earlier case's fixture: the difference depends on what ran
 * before). New array of names (a path outside /hooks/ is listed as it is). */
json_t *explore_case_strays(const json_t *probe, const struct result_scenario *r);

/* Steps and packages (given ones and planned ones) of a probe. */
size_t explore_case_steps(const json_t *probe);
size_t explore_case_packages(const json_t *probe);

#endif
