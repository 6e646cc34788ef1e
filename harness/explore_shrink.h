/* explore_shrink: makes a failing case smaller while it still fails the same way - drops steps
 * (halves first, then one at a time; a crash step goes like any other), simplifies crash steps
 * (killed at once instead of inside a burst, half the burst, no delay, no receivers set at the
 * restart, a random moment written as its answer, an earlier answer), drops packages (and their
 * commands in bursts), locations, subscriptions, receivers' faults, items, reservations,
 * discrepancies, profile overrides and the virtual clock, then simplifies what is left (fewer
 * concurrent copies, no sync flag, smaller numbers). The caller's test decides what "the same
 * way" is; every candidate is repaired (quotas recounted, bursts kept to the case's packages)
 * before it is tested. */
#ifndef EXPLORE_SHRINK_H
#define EXPLORE_SHRINK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_profile.h"

/* 1 when candidate (a probe) still shows the difference; 0 when it does not, or cannot run. */
typedef int (*explore_shrink_test_fn)(void *arg, const json_t *candidate);

struct explore_shrink_limits {
    size_t max_candidates; /* 0: 2000 */
    int64_t max_ms;        /* 0: 60000 */
};

struct explore_shrink_stats {
    size_t candidates; /* tested */
    size_t accepted;   /* that still failed, and so were kept */
    int64_t elapsed_us;
    int exhausted; /* stopped by a limit, not because nothing smaller failed */
};

/* Returns the smallest probe found that still fails (new reference; a copy of probe when nothing
 * smaller did). p resolves statuses for the repairs. stats may be NULL. */
json_t *explore_shrink(const json_t *probe, const struct oms_profile *p,
                       explore_shrink_test_fn test, void *arg,
                       const struct explore_shrink_limits *limits,
                       struct explore_shrink_stats *stats);

#endif
