/* diagnose: the run-level account printed after a run - the summary line, the failures grouped by
 * their first difference with a hint at the likely cause ("97 failures: the target answered 401 -
 * is --token right?"), noted differences by rule, skip reasons counted, and why the exit status is
 * not 0. */
#ifndef DIAGNOSE_H
#define DIAGNOSE_H

#include <jansson.h>
#include <stdio.h>

#include "result.h"

/* Failures and errors grouped by their first difference, largest group first:
 * [{"count", "difference", "hint" (or null), "scenarios": [file, ...]}]. New reference. */
json_t *diagnose_groups(const struct result_run *run);

/* Prints the summary line, the groups, the notes and skips, and (when exit_code is not 0) why.
 * uncovered: --strict found rules no selected scenario exercises; known_file: the
 * --known-failures list, or NULL (then known failures and fixed ones are not mentioned). */
void diagnose_print(const struct result_run *run, int exit_code, int uncovered,
                    const char *known_file, FILE *out);

#endif
