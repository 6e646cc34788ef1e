/* explore_report: what explore leaves behind for each difference it shrank - the case as an
 * ordinary scenario file (<out>/<id>.json: schema-valid, expectations from the reference, the
 * rules its checks exercise, a name and description saying what was found and with which seed)
 * and beside it <id>.sh, the curl commands that replay it by hand - and the run's reports (JUnit,
 * results.json with an "explore" section, HTML) through the writers `run` uses. */
#ifndef EXPLORE_REPORT_H
#define EXPLORE_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "oms_error.h"
#include "result.h"
#include "tier.h"

/* What was found, for the case file's name and description. */
struct explore_finding {
    const char *kind;        /* "packages.*.reservations [A-3]" */
    const char *rule;        /* the rule of the check that differed */
    uint64_t seed;           /* the run's seed */
    uint64_t case_index;     /* the case that first showed it */
    int replayed;            /* found by --replay, not generated */
    const char *replay_file; /* with replayed */
    size_t steps_before, packages_before;
    int target;     /* found against --target (else: the reference broke an invariant) */
    int history;    /* the target also needs what an earlier case left in it */
    const char *id; /* the scenario id to write, when the schema has ids; NULL: none */
};

/* A file name for kind, unique among the names in used (which gets it): lower case, words joined
 * by '-' ("packages-reservations-a-3"). New string. */
char *explore_report_id(const char *kind, json_t *used);

/* The case file's document: expected (a probe with expectations, borrowed) with a name, a
 * description and tags, and "rules" cut to the rules its checks exercise, in the order that
 * keeps every check on the rule it had (tier resolves kinds to rules). New reference. */
json_t *explore_report_case(const json_t *expected, const struct explore_finding *f,
                            const struct tier *tier);

/* Says in doc's description that its final run did not show the difference again (the text
 * stays on one line, so positions in the file do not move). */
void explore_report_not_reproduced(json_t *doc);

/* The shell script that replays doc by hand: receivers configured through their control API,
 * the state loaded through the fixture protocol, then each step's curl from result (the run of
 * doc, for the requests exactly as sent). $TARGET, $TOKEN, $OMNITRON, $WEBHOOK come from the
 * environment; no port or token of this run is written. New string. */
char *explore_report_shell(const json_t *doc, const char *file,
                           const struct result_scenario *result);

/* Writes text to dir/name atomically (a temporary file renamed). Returns 0 or OMS_E_IO. */
int explore_report_write(const char *dir, const char *name, const char *text, struct oms_err *err);

/* report_write_all into dir, then "explore" (borrowed) added to results.json. Returns 0 or a
 * negative code with err naming the file. */
int explore_report_all(const struct result_run *run, const json_t *explore, const char *dir,
                       struct oms_err *err);

#endif
