/* launch: the system under test one job of `refund-harness run` starts itself (sut.h) - the
 * --target-cmd command, or, for the embedded reference's crash scenarios, the oms-reference
 * program beside refund-harness on a database of its own - created and started when first
 * needed, started again when a scenario left it dead. */
#ifndef LAUNCH_H
#define LAUNCH_H

#include <stdint.h>

#include "oms_error.h"
#include "sut.h"
#include "target.h"

struct launch;

struct launch_config {
    const char *target_cmd; /* NULL: see embedded */
    const char *url;        /* with target_cmd: the target's URL template ({port}); NULL: default */
    const char *profile_path;  /* the embedded reference's profile; NULL: its default */
    int embedded;              /* without target_cmd: launch oms-reference from this program's
                                  directory (for crash steps); 0: nothing can be launched */
    const char *fixture_token; /* embedded: the child's fixture token; NULL: the environment's */
};

/* Never NULL (copies what it needs); nothing starts yet. Free with launch_destroy. */
struct launch *launch_create(const struct launch_config *cfg);
/* Stops a launched target and removes its directory (sut_destroy). NULL allowed. */
void launch_destroy(struct launch *l);

/* 1 when a target can be launched. */
int launch_possible(const struct launch *l);
/* Why none can be (borrowed; NULL when launch_possible, or when nothing was asked for). */
const char *launch_why(const struct launch *l);

/* Creates the target the first time (its receivers those of receivers; its oms_url is the
 * launched one) and starts it unless it runs. Returns 0, or a negative code with err; after a
 * failure every later call fails at once, so a broken command is not retried per scenario. */
int launch_ready(struct launch *l, const struct target_config *receivers, struct oms_err *err);
/* The process and the target (borrowed; NULL before launch_ready succeeded once). */
struct sut *launch_sut(struct launch *l);
struct target *launch_target(struct launch *l);

/* "refund-harness run FILE --verbose ..." for a scenario run on a launched target, or one that
 * kills its target (then with --seed seed): a new string. */
char *launch_rerun(const char *file, const char *target_cmd, const char *target_url,
                   int strict_reference, int kills, uint64_t seed);

#endif
