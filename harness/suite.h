/* suite: a set of scenarios and running it - selection (filter, tags, rules, shard), parallel
 * jobs each with its own sandbox, console lines as scenarios finish, and the run result. */
#ifndef SUITE_H
#define SUITE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_error.h"
#include "oms_profile.h"
#include "result.h"
#include "scenario.h"

struct known_list;

struct suite {
    struct scenario **items;
    size_t count;
};

/* Receivers run elsewhere (mock-omnitron and mock-webhook started by the user); the control URLs
 * may be NULL when they are the same as the receivers'. All NULL: the harness starts its own. */
struct suite_receivers {
    const char *omnitron_url;
    const char *omnitron_control_url;
    const char *webhook_url;
    const char *webhook_control_url;
};

struct suite_options {
    const char *filter; /* glob on the scenario name or file; NULL: all */
    char **tags;        /* keep scenarios with any of these tags (any case) */
    size_t tag_count;
    char **rules; /* keep scenarios naming any of these rules (any case) */
    size_t rule_count;
    char **ids; /* keep scenarios with any of these ids (any case) */
    size_t id_count;
    char **excludes; /* drop scenarios these name (selection.h: tag:, rule:, id:, path:) */
    size_t exclude_count;
    unsigned shard_index; /* 1-based; 0: no sharding */
    unsigned shard_count;
    unsigned jobs;             /* parallel sandboxes; 0: 1 */
    int fail_fast;             /* stop starting scenarios after the first failure */
    int verbosity;             /* 0 quiet, 1 normal, 2 verbose */
    int color;                 /* ANSI colour on the console */
    int progress;              /* a progress line on a terminal */
    const char *profile_path;  /* embedded reference's profile; NULL: default */
    const char *target_url;    /* an external system under test; NULL: the embedded reference */
    const char *token;         /* API token for commands; NULL: the target profile's first */
    const char *fixture_token; /* the --target's fixture token; NULL: $REFUND_FIXTURE_TOKEN */
    int strict_reference;      /* with target_url: reference-only differences fail too */
    long wait_ms; /* with target_url: keep trying the handshake this long while the target is
                     starting (no answer, or 502/503/504); 0: one try */
    struct suite_receivers receivers; /* with target_url only */
    const struct known_list *known;   /* --known-failures; NULL: none */
    /* The harness starts the target itself (sut.h): each job runs this command with its own
     * {port} and {dir}, and crash steps can kill and restart it. target_url, when also given, is
     * the target's URL ({port} substituted); NULL: http://127.0.0.1:{port}. */
    const char *target_cmd;
    uint64_t seed; /* the run's seed for random crash moments */
};

/* Loads every file; each invalid one is reported on stderr with file:line:column, and so is a
 * file whose id an earlier file already has (naming both). With profile not NULL, the values that
 * name things of the profile are checked too (refcheck.h). A profile file (profile_file_is) is
 * checked against the profile schema the scenario schema names: with quiet_ok unset (validate) a
 * valid one is reported "ok ... (profile)" and is not a scenario; with quiet_ok set (run, list) it
 * counts as invalid, since those take scenarios. Unless quiet_ok, prints "ok  FILE" for each valid
 * scenario. Returns the number of invalid files (0: *out holds every scenario). */
size_t suite_load(char **files, size_t n, struct schema *schema, const json_t *rules,
                  const struct oms_profile *profile, struct suite *out, int quiet_ok);
void suite_cleanup(struct suite *s);

/* Keeps the selected scenarios (selection.h, then shard i of N by position) in order. Returns
 * how many were selected before sharding (so an empty selection and an empty shard differ). */
size_t suite_select(struct suite *s, const struct suite_options *opt);

/* Runs the suite against embedded sandboxes (one per job), or against opt->target_url with the
 * receivers embedded (one job: a target has one state), or against a target each job starts with
 * opt->target_cmd. Scenarios that kill the target (crash steps) run against that started target,
 * or, embedded, against an oms-reference child beside this program (its own --db); against
 * target_url alone they are skipped with the reason. Fills run (scenarios in suite order).
 * Returns 0, or OMS_E_ENV with err set when a sandbox could not start or the target did not
 * answer the handshake. */
int suite_run(const struct suite *s, const struct suite_options *opt, struct result_run *run,
              struct oms_err *err);

#endif
