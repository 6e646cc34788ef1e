/* explore: `refund-harness explore` - generated cases run on the embedded reference and, with
 * --target or --target-cmd, on the system under test, compared on what the contract decides
 * (where both can be killed, some cases kill them and the crash checks judge what survived); each
 * kind of difference is shrunk once and written as a scenario file that `run` replays
 * (docs/explore.md). Exit codes as `run`: 0 nothing found, 1 differences found, 2 usage,
 * 3 the environment failed. */
#ifndef EXPLORE_H
#define EXPLORE_H

#include <stdint.h>
#include <stdio.h>

#include "explore_shrink.h"
#include "suite.h"

/* What explore runs (its options, cli.c's table). */
struct explore_options {
    const char *target_url; /* NULL: the embedded reference, checked against invariants */
    /* The system under test as a command explore starts, kills and restarts (sut.h); target_url,
     * when also given, is its URL with {port}. NULL: none. */
    const char *target_cmd;
    const char *token;         /* the target's API token; NULL: its profile's */
    const char *fixture_token; /* the target's; NULL: $REFUND_FIXTURE_TOKEN */
    const char *profile_path;  /* the embedded reference's profile; NULL: default */
    const char *out_dir;       /* case files and reports */
    const char *replay;        /* run this scenario file's case instead of generating; or NULL */
    struct suite_receivers receivers; /* receivers the user runs, with target_url */
    uint64_t seed;
    int seed_given;
    uint64_t cases;
    int cases_given;
    int64_t time_ms; /* run cases for this long instead of a number of them; 0: no limit */
    unsigned steps;  /* at most this many steps per case */
    unsigned jobs;
    int quiet;
    int no_reports;
    int strict_reference;
    /* The share of cases with a crash step, 0..100, when both sides can be killed (--target-cmd,
     * or the embedded reference's oms-reference child); crash_given: set by the user. */
    unsigned crash_percent;
    int crash_given;
    struct explore_shrink_limits shrink; /* 0 fields: the defaults */
};

/* The defaults (200 cases of at most 8 steps, one job, a crash step in 10% of them where the
 * target can be killed, reports/explore). */
void explore_options_init(struct explore_options *o);
/* Checks what the options say together (--cases or --time, --replay alone, receivers with a
 * target) and fills what they imply (the case count; a seed from the clock when none was given).
 * Returns 0, or OMS_E_INVAL after printing why on stderr (a usage error). */
int explore_options_check(struct explore_options *o);

/* Runs explore. spec_dir holds scenario.schema.json and rules.json. Prints the seed first, the
 * progress and the differences; writes the case files and reports. Returns the exit code. */
int explore_run(const struct explore_options *o, const char *spec_dir);

#endif
