/* matcher: compares an actual JSON value with an expected one that may hold matchers. Without
 * matchers, comparison is exact (objects: the same keys; arrays: the same length and order).
 * A matcher is an object with one key starting with '$':
 *   {"$any": true}             any value (the key must exist)
 *   {"$absent": true}          as an object member: the key must not exist
 *   {"$type": "string"}        string, integer, number, boolean, object, array or null
 *   {"$regex": "^[0-9a-f]+$"}  a string matching the POSIX extended regular expression
 *   {"$range": [min, max]}     a number in [min, max]
 *   {"$len": n | matcher}      the length of an array, string or object
 *   {"$partial": {...}}        an object of which only the named keys are checked
 *   {"$unordered": [...]}      an array with the same elements in any order
 *   {"$contains": [...]}       an array holding at least these elements, in any order
 *   {"$status": "Waiting"}     a status number (or numeric string) named by the profile
 *   {"$not": matcher}          anything that does not match
 *   {"$literal": value}        exactly value, even if it looks like a matcher
 *   {"$capture": "name"}       any value, remembered as name (if name holds one: that value)
 *   {"$same": "name"}          the value remembered as name */
#ifndef MATCHER_H
#define MATCHER_H

#include <jansson.h>

#include "oms_error.h"
#include "oms_profile.h"

/* Checks the matchers in expected are well formed (known operator, valid regex, right argument
 * types). Returns 0, or OMS_E_INVAL with err naming path + the place inside expected. */
int matcher_validate(const json_t *expected, const char *path, struct oms_err *err);

/* Compares; appends one object {"path", "expected", "actual", "message"} per difference to
 * mismatches (an array) and returns how many were added. profile resolves $status (may be NULL:
 * then $status accepts only numbers). actual NULL means "missing". */
size_t matcher_match(const struct oms_profile *profile, const json_t *expected,
                     const json_t *actual, const char *path, json_t *mismatches);

/* The same, with a table of captured values (a JSON object) that lives across calls: $capture
 * adds to it, $same reads it. Trial comparisons ($unordered, $contains, $not) leave it as it was.
 */
size_t matcher_match_captures(const struct oms_profile *profile, json_t *captures,
                              const json_t *expected, const json_t *actual, const char *path,
                              json_t *mismatches);

/* Appends one difference {"path", "expected" (null when NULL), "actual" ("(missing)" when NULL),
 * "message"} to mismatches: the shape every check of the harness reports. */
void matcher_mismatch(json_t *mismatches, const char *path, const json_t *expected,
                      const json_t *actual, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* 1 when value is a matcher object (one key starting with '$'). */
int matcher_is_matcher(const json_t *value);

#endif
