/* explore_case: one explore case on one system - a "side", the embedded reference (with its own
 * receivers) or the system under test (--target, or --target-cmd: started here, with receivers
 * here or the user's). A case with a crash step runs on a process the side can kill and start
 * again: the --target-cmd target, or for the reference an oms-reference child (launch.h).
 * Observing a probe on the reference yields the scenario document with expectations
 * (explore_oracle); checking a document on any side runs it with the normal runner, whose tiers
 * decide what a difference is; a failed check becomes a difference kind: (what was checked, its
 * rule). */
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
    const char *profile_path;  /* the embedded reference's profile; NULL: default */
    const char *target_url;    /* NULL: the embedded reference (or, with target_cmd, the URL of the
                                  target it starts, {port} substituted; NULL: the default) */
    const char *target_cmd;    /* the system under test as a command the side starts (sut.h) */
    const char *token;         /* API token for the target; NULL: its profile's */
    const char *fixture_token; /* the target's; NULL: $REFUND_FIXTURE_TOKEN */
    const struct suite_receivers *receivers; /* receivers the user runs; NULL: start our own */
    const json_t *rules;                     /* spec/rules.json "rules" (borrowed) */
    int strict_reference;                    /* with target_url: reference-only rules fail */
};

/* Starts what the side needs (with target_cmd, the target itself) and reads its handshake and
 * profile. Returns 0 and *out, or OMS_E_ENV with err saying what did not start or answer. */
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

/* 1 when the side can run cases with crash steps (it can kill and restart what it runs them
 * on); otherwise 0 and *why (borrowed, may be NULL) says why not. */
int explore_side_killable(const struct explore_side *s, const char **why);

/* Why the embedded reference cannot run a case with a crash step (no oms-reference beside this
 * program to start as a child): a new string, or NULL when it can. */
char *explore_reference_unkillable(void);

/* Crash steps in probe, and those of them with a burst (their outcome is timing's). */
size_t explore_case_kills(const json_t *probe);
size_t explore_case_bursts(const json_t *probe);

/* Runs probe (a scenario document without expectations) on a reference side. out (zeroed, from
 * result_run_add) gets the run; with invariants, explore's own checks are in it too. *expected
 * gets the probe with every step's expectations, or NULL when the case could not run to its end,
 * or, without invariants, when the reference failed a check of its own (a crash check: the case
 * asks what it cannot give, so it cannot judge a target) - out says why. Returns 0, or OMS_E_ENV
 * when the side stopped answering or its oms-reference child could not start. */
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
