/* invalid_cases: the broken scenario files of tests/data/invalid and the first error each must
 * produce (loading with scenario_load, then checking values against the default profile with
 * refcheck_scenario) - where (line:column), the JSON path ("" for a file that is not JSON) and a
 * fragment of the message. One table for the loader's tests and the command line's. */
#ifndef INVALID_CASES_H
#define INVALID_CASES_H

#include <stddef.h>

struct invalid_case {
    const char *file;
    int line, column;
    const char *path;
    const char *fragment;
};

extern const struct invalid_case INVALID[];
extern const size_t INVALID_COUNT;

#endif
