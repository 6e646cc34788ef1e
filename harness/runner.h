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

struct runner_options {
    int64_t drain_timeout_ms;   /* 0: 5000 */
    const char *omnitron_token; /* sent to the target for its Omnitron calls; NULL: a default */
    const char *token;          /* the API token for commands; NULL: the profile's first */
    const json_t *capabilities; /* the target's fixture capabilities; NULL: all */
    const struct tier *tier;    /* rules and their basis; NULL: every difference fails */
    struct sut *sut;            /* the target as a process the harness can kill and restart (crash
                                   steps); NULL: scenarios with a crash step are skipped */
    const char *no_sut_reason;  /* why there is none, for the skip; NULL: a default */
    uint64_t seed;              /* the run's seed for random crash moments (crash.h) */
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

/* Runs sc on t. base is the target's own profile (from the fixture protocol). Fills out (already
 * added to a run); never fails as a call: problems become the scenario's outcome (FAIL or ERROR).
 */
void runner_run(struct target *t, const struct oms_profile *base, const struct scenario *sc,
                const struct runner_options *opt, struct result_scenario *out);

#endif
