/* result: the in-memory result of a run - every scenario, step and check with expected and actual
 * values. The report writers (report_junit, report_json, report_html) read only this. */
#ifndef RESULT_H
#define RESULT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum result_outcome {
    RESULT_PASS = 0,
    RESULT_FAIL,  /* a documented or assumed expectation did not hold */
    RESULT_ERROR, /* the scenario could not run (invalid against the profile, target failure) */
    RESULT_SKIP,  /* the target lacks a capability the scenario needs */
    RESULT_NOTED, /* passed, but a reference-only expectation differed (docs/spec.md, R-rules) */
};

/* Whether a scenario is listed in --known-failures (known.h), and what its outcome made of it. */
enum result_known {
    RESULT_KNOWN_NONE = 0,
    RESULT_KNOWN_FAILING, /* listed, and it failed or errored: reported, not failing the run */
    RESULT_KNOWN_FIXED,   /* listed, but it passed: fails the run until it leaves the list */
};

/* "passed", "failed", "error", "skipped", "noted". */
const char *result_outcome_name(enum result_outcome o);

enum result_check_state {
    CHECK_PASSED = 0,
    CHECK_FAILED, /* a difference under a documented or assumed rule */
    CHECK_NOTED,  /* differences only under reference-only rules, and the run does not count them */
    CHECK_SKIPPED, /* the target cannot show what the check needs (message says why) */
};

/* "passed", "failed", "noted", "skipped". */
const char *result_check_state_name(enum result_check_state s);

struct result_check {
    char *what;  /* "response.status", "packages.501.status", "invariant Q-4 at location 1" */
    char *where; /* "file:line:column" of the expectation, or "" for the harness's own checks */
    char *rule;  /* the rule the check exercises; once settled, the rule of its first difference
                    that decided the verdict. NULL when unknown */
    char *basis; /* "documented", "assumed", "reference" of that rule, or NULL when unknown */
    enum result_check_state state;
    int invariant;      /* one of the harness's own checks (SPEC ), not the scenario's */
    json_t *expected;   /* may be NULL */
    json_t *actual;     /* may be NULL */
    char *message;      /* the first difference in words, or why it was skipped; NULL if passed */
    json_t *mismatches; /* every difference: [{"path", "expected", "actual", "message", "rule"?}] */
};

struct result_step {
    char *label;       /* "when[0]: POST /api/v1/oms/packages/501/command/" */
    json_t *request;   /* {"method", "path", "headers", "body"} */
    json_t *responses; /* [{"status", "headers", "body", "elapsed_ms"}], one per copy sent */
    char *curl;        /* the shell command(s) that send it again (repro.h); may be NULL */
    json_t *crash;     /* a crash step's figures and each command's fate (crash_check.h); NULL
                          for other steps */
    struct result_check *checks;
    size_t check_count;
};

struct result_scenario {
    char *file;
    char *id; /* the scenario's stable id (the JUnit test name) */
    char *name;
    char **rules;
    size_t rule_count;
    char **tags;
    size_t tag_count;
    enum result_outcome outcome;
    char *error;     /* why it errored or was skipped; NULL otherwise */
    int environment; /* the error was the environment's (no answer), not the target's verdict */
    struct result_step *steps;
    size_t step_count;
    struct result_check *checks; /* checks of the final "then" and the harness's invariants */
    size_t check_count;
    json_t *calls;    /* the outbound calls the receivers recorded, in arrival order */
    json_t *notes;    /* array of strings: things worth knowing that are not failures (drift) */
    char *target_url; /* the system it ran against ($TARGET of the reproducer) */
    char *seed;       /* the curl that loaded its initial state; NULL when it never ran */
    char *rerun;      /* the command line that runs it alone */
    int64_t duration_us;
    enum result_known known;
    char *known_reason; /* the list's reason, when known is not NONE */
    char *known_issue;  /* its issue, or NULL */
};

struct result_run {
    struct result_scenario *scenarios;
    size_t count;
    size_t cap;
    int64_t started_ms;
    int64_t duration_us;
    char *target;         /* "embedded reference" or the target URL */
    json_t *profile;      /* the target's profile document (assumptions, statuses) */
    json_t *rules;        /* spec/rules.json "rules" */
    int strict_reference; /* reference-only differences counted as failures */
    size_t passed, failed, errors, skipped, noted;
    size_t known; /* RESULT_KNOWN_FAILING: counted here, not in failed or errors */
    size_t fixed; /* RESULT_KNOWN_FIXED: counted here and in passed */
};

/* An empty run; free with result_run_cleanup. */
void result_run_init(struct result_run *run);
void result_run_cleanup(struct result_run *run);
/* Appends a scenario (zeroed, outcome PASS) and returns it; borrowed until the next append. */
struct result_scenario *result_run_add(struct result_run *run);
/* Recounts passed/failed/errors/skipped, and known/fixed (result_known). */
void result_run_tally(struct result_run *run);

/* Appends a step to a scenario; borrowed until the next append. */
struct result_step *result_scenario_add_step(struct result_scenario *s);
/* Appends a check to an array of checks (steps and scenarios both hold one); expected and actual
 * are copied, mismatches is stolen (may be NULL). The check is FAILED when mismatches holds any
 * difference, else PASSED (the tiers may later make a failure a note). Returns the check,
 * borrowed until the next append. */
struct result_check *result_add_check(struct result_check **checks, size_t *count, const char *what,
                                      const char *where, const char *rule, const json_t *expected,
                                      const json_t *actual, json_t *mismatches);
/* Appends a SKIPPED check whose message is why. Returns it, borrowed until the next append. */
struct result_check *result_skip_check(struct result_check **checks, size_t *count,
                                       const char *what, const char *where, const char *rule,
                                       const char *why);
/* Sets the scenario's outcome from its checks (keeps ERROR/SKIP as they are): FAIL when any check
 * failed, else NOTED when any was noted, else SKIP when every check of the scenario's own (not the
 * invariants) was skipped, else PASS. */
void result_scenario_settle(struct result_scenario *s);
/* The first check of a scenario in that state (steps first, in order), or NULL. */
const struct result_check *result_first_in(const struct result_scenario *s,
                                           enum result_check_state state);
/* The first failed check of a scenario (steps first, in order), or NULL. */
const struct result_check *result_first_failure(const struct result_scenario *s);
/* Number of checks, and of checks in each state, of a scenario. */
struct result_counts {
    size_t total, passed, failed, noted, skipped;
};
void result_scenario_count(const struct result_scenario *s, struct result_counts *out);
/* Number of checks and failed checks of a scenario. */
void result_scenario_counts(const struct result_scenario *s, size_t *checks, size_t *failed);

#endif
