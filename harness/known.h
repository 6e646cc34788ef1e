/* known: the known-failure list of `run --known-failures FILE` (spec/known-failures.schema.json):
 * scenarios, by id, expected to fail for now, each with a reason and an optional issue. A listed
 * scenario that fails is a known failure and does not fail the run; one that passes is fixed and
 * does fail it ("remove it from the list"), so the list only shrinks. */
#ifndef KNOWN_H
#define KNOWN_H

#include <stddef.h>

#include "oms_error.h"
#include "result.h"
#include "schema.h"

struct known_failure {
    char *id;
    char *reason;
    char *issue; /* NULL when not given */
    int line;    /* of the entry's "id" in the file */
    int column;
};

struct known_list {
    char *file;
    struct known_failure *items;
    size_t count;
};

/* Reads file and checks it against schema (spec/known-failures.schema.json): JSON syntax, shape,
 * and an id listed twice, each error with file, line, column and JSON path into errs (up to max).
 * Returns 0 and fills *out (free with known_cleanup), or the number of errors. */
size_t known_load(const char *file, struct schema *schema, struct known_list *out,
                  struct oms_err *errs, size_t max);
/* Frees what known_load filled; NULL allowed. */
void known_cleanup(struct known_list *l);

/* The entry for id (borrowed), or NULL. */
const struct known_failure *known_find(const struct known_list *l, const char *id);

/* Marks a finished scenario listed in l (NULL: none): failed or errored (not for want of an
 * environment) becomes RESULT_KNOWN_FAILING, passed becomes RESULT_KNOWN_FIXED; the reason and
 * issue are copied into it. A skipped one stays as it is. */
void known_mark(const struct known_list *l, struct result_scenario *r);

#endif
