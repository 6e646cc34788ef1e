/* explore_gen: generated cases for `refund-harness explore` - an initial state drawn from the
 * profile (locations, packages in every catalogue status, reservations, discrepancies,
 * subscriptions, receivers healthy or faulty) and 1..K steps (commands well formed or not,
 * concurrent copies, repeats, lifecycle steps, receivers changing, and, where the system can be
 * killed, a crash step: kill -9 now or inside a burst of commands), as a scenario document with
 * no expectations (a "probe"). The same (seed, case number, configuration) always gives the same
 * document, kill moments included. */
#ifndef EXPLORE_GEN_H
#define EXPLORE_GEN_H

#include <jansson.h>
#include <stdint.h>

#include "oms_profile.h"

struct explore_gen_config {
    const struct oms_profile *profile; /* the target's profile: statuses, transitions, lifecycle */
    unsigned max_steps;                /* K: 1..K steps per case */
    /* Fixture capabilities of the system the cases must run on (docs/fixture-protocol.md): a
     * case never needs one it lacks. */
    int plan;              /* "plan": lifecycle.plan steps */
    int clock;             /* "clock": a virtual clock for retry schedules */
    int profile_overrides; /* "profile-overrides": given.profile */
    /* The share of cases (0..100) that get a crash step (docs/scenario-format.md, "crash"): only
     * when both sides can be killed and restarted. Its draws come after every other one, so a
     * case is the case of a run without crashes plus its crash step (and the packages, receivers
     * and settings the crash brings). */
    unsigned crash_percent;
};

/* The rules every explore case lists, in the order that gives each kind of check the rule it
 * exercises (tier_rule_for takes the first that covers it). NULL-terminated, static. */
extern const char *const EXPLORE_RULES[];

/* The command under test in profile p: the transition with slug "packed-for-refund", else the
 * transition whose target status is named "Packed for Refund", else the first one. Borrowed;
 * NULL only for a profile without transitions. */
const struct oms_profile_transition *explore_command_transition(const struct oms_profile *p);

/* Case number `index` of run `seed`: {"name", "rules", "given", "when"} (new reference). */
json_t *explore_gen_case(const struct explore_gen_config *cfg, uint64_t seed, uint64_t index);

/* Sets each location's quota to its number of counting packages (SPEC) unless it
 * declares drift, so a case stays loadable after packages were added or removed. given_or_probe
 * is a probe or its "given"; p resolves statuses (names or numbers) and the counting set. On a
 * probe (without given.generate), a crash burst listing packages keeps only those the case has
 * (one left with none kills at once), and its "after" and "concurrent" stay within them. */
void explore_gen_repair(json_t *given_or_probe, const struct oms_profile *p);

#endif
