/* runner: runs one scenario against a target - loads its initial state through the fixture
 * protocol, sends each step's request over HTTP, waits for the outbox to drain, reads the state
 * and the receivers' journals back, and evaluates expectations and invariants into a result. */
#ifndef RUNNER_H
#define RUNNER_H

#include <jansson.h>

#include "oms_profile.h"
#include "result.h"
#include "scenario.h"
#include "sut.h"
#include "target.h"
#include "tier.h"

/* What the runner saw at one step, for a caller that derives something from a run (explore turns
 * the reference's answers into expectations). Everything is borrowed for the call only. */
struct runner_step_view {
    size_t index;                     /* the step's position in "when" */
    const struct scenario_step *step; /* the step as the scenario holds it */
    const json_t *responses;          /* every answer of the step, as result_step.responses */
    const json_t *before;             /* the target's state before the step */
    const json_t *after;              /* and after it, the outbox drained */
    const json_t *omnitron_calls;     /* journal entries recorded during the step */
    const json_t *webhook_calls;
};

/* Called after each step that ran to its end, before its checks are settled; it may append checks
 * of its own to rs (they are settled with the step's). */
struct runner_observer {
    void (*step)(void *arg, const struct runner_step_view *view, struct result_step *rs);
    void *arg;
};

struct runner_options {
    int64_t drain_timeout_ms;   /* 0: 5000 */
    const char *omnitron_token; /* sent to the target for its Omnitron calls; NULL: a default */
    const char *token;          /* the API token for commands; NULL: the profile's first */
    const json_t *capabilities; /* the target's fixture capabilities; NULL: all */
    const struct tier *tier;    /* rules and their basis; NULL: every difference fails */
    const struct runner_observer *observer; /* NULL: none */
    struct sut *sut;           /* the target as a process the harness can kill and restart (crash
                                  steps); NULL: scenarios with a crash step are skipped */
    const char *no_sut_reason; /* why there is none, for the skip; NULL: a default */
    uint64_t seed;             /* the run's seed for random crash moments (crash.h) */
};

/* Why a scenario with a crash step is skipped against a target the harness did not start. */
#define RUNNER_NO_SUT                                                                          \
    "the scenario kills the target (a crash step), and the harness can restart only a target " \
    "it started itself: run with --target-cmd 'COMMAND' instead of --target URL alone"

/* The fixture the target receives for sc: its "given" with the receivers resolved to the target's
 * receiver URLs (named subscribers become <webhook>/hooks/<name>) and the Omnitron URL and token
 * filled in. New reference. */
json_t *runner_fixture(struct target *t, const struct scenario *sc,
                       const struct runner_options *opt);
/* The same from a "given" and the receivers' base URLs (or any text standing for them, as in a
 * reproducer script); omnitron_token NULL: a default. New reference. */
json_t *runner_fixture_for(const json_t *given, const char *omnitron_url, const char *webhook_url,
                           const char *omnitron_token);

/* Runs sc on t. base is the target's own profile (from the fixture protocol). Fills out (already
 * added to a run); never fails as a call: problems become the scenario's outcome (FAIL or ERROR).
 */
void runner_run(struct target *t, const struct oms_profile *base, const struct scenario *sc,
                const struct runner_options *opt, struct result_scenario *out);

#endif
