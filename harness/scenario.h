/* scenario: loading and checking scenario files (docs/scenario-format.md) against the scenario
 * schema, the SPEC rule catalogue and the matcher syntax. A loaded scenario keeps its document and
 * a position index, so any later message about it can name file:line:column. */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <jansson.h>
#include <stddef.h>

#include "jpos.h"
#include "oms_error.h"
#include "schema.h"

enum scenario_step_kind {
    STEP_COMMAND,   /* a request to a package's command endpoint */
    STEP_HTTP,      /* a request to any path of the target */
    STEP_LIFECYCLE, /* planning or a lifecycle action of the profile (SPEC P-2) */
    STEP_RECEIVERS, /* new behaviour for the receivers (faults, down, up) */
    STEP_CRASH,     /* kill -9 the target (now or inside a burst), restart it, check (crash.h) */
};

struct scenario_step {
    char path[48];    /* "$.when[2]" */
    const char *name; /* NULL when the step has none */
    enum scenario_step_kind kind;
    const json_t *request; /* the command/http/lifecycle/receivers/crash object, borrowed from
                              the document */
    unsigned concurrent;   /* copies sent at once; 1 for an ordinary step */
    const json_t *then;    /* NULL when the step checks nothing itself */
};

struct scenario {
    char *file;
    json_t *doc;
    struct jpos *pos;
    const char *id;   /* "id", or derived from the file name (scenario_id_from_file) */
    int id_from_file; /* the file has no "id" */
    char *id_owned;   /* the derived id's storage */
    const char *name;
    const char *description; /* NULL when absent */
    const char **rules;      /* borrowed strings */
    size_t rule_count;
    const char **tags;
    size_t tag_count;
    const json_t *given; /* never NULL (an empty object when absent) */
    struct scenario_step *steps;
    size_t step_count;
    const json_t *then; /* NULL when absent */
};

/* Loads and checks file. known_rules is the "rules" array of spec/rules.json (NULL: any rule id of
 * the right shape). Errors, each with file, line, column, JSON path and what was expected, go to
 * errs (up to max); returns 0 and *out, or the number of errors found (then *out is NULL). */
size_t scenario_load(const char *file, struct schema *schema, const json_t *known_rules,
                     struct scenario **out, struct oms_err *errs, size_t max);
/* The same on len bytes already in memory (text need not be NUL-terminated; a generated
 * scenario, a fuzz input): file names them in messages and positions. schema NULL skips the
 * schema (for documents built by the program itself, which the caller validates when it writes
 * them out); the rest is checked as scenario_load does. */
size_t scenario_load_text(const char *file, const char *text, size_t len, struct schema *schema,
                          const json_t *known_rules, struct scenario **out, struct oms_err *errs,
                          size_t max);
void scenario_destroy(struct scenario *s);

/* Loads the specification in the folder dir: the scenario schema (scenario.schema.json) and the
 * "rules" of the rule catalogue (rules.json). Returns 0 with *schema and *rules (new: free with
 * schema_destroy and json_decref), or a negative code with err naming the file and nothing
 * returned. */
int scenario_spec_load(const char *dir, struct schema **schema, json_t **rules,
                       struct oms_err *err);

/* The default id of a scenario without "id": the file name without its folders and ".json",
 * lower-cased, every run of other characters than a-z and 0-9 made one "-" (none at either end);
 * "scenario" when nothing is left. Into out (truncated to size), returned. */
char *scenario_id_from_file(const char *file, char *out, size_t size);

/* 1 when the scenario has a crash step: it needs a target the harness can kill and restart. */
int scenario_kills_target(const struct scenario *s);

/* "file:line:column" of the value at path (or of its nearest ancestor); into out. */
char *scenario_where(const struct scenario *s, const char *path, char *out, size_t size);

/* The file that marks a folder of reports (report_write_all writes it): the results.json beside
 * it is never taken for a scenario. */
#define SCENARIO_REPORT_MARKER ".refund-harness-reports"

/* Expands files and directories (recursively, *.json, sorted by path) into a new array of new
 * strings, skipping the results.json of report folders. Returns 0, or OMS_E_NOENT with err naming
 * a path that does not exist. */
int scenario_find_files(char *const *paths, size_t n, char ***files, size_t *count,
                        struct oms_err *err);
void scenario_free_files(char **files, size_t count);

#endif
