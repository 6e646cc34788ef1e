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
 *   {"$names": ["Waiting"]}    a string (or list of strings) that names each of these statuses, by
 *                              catalogue name or by number (SPEC E-1: a refusal says which status)
 *   {"$error": {...}}          the error envelope of SPEC E-1/E-2: {"status", "field", "names",
 *                              "messages"}, each optional (see matcher.c)
 *   {"$all": [m, ...]}         every matcher in the list
 *   {"$rule": ["R-1", m]}      m, with its differences reported against that rule (and so taking
 *                              its basis: a reference-only rule makes them notes against a target)
 *   {"$not": matcher}          anything that does not match
 *   {"$literal": value}        exactly value, even if it looks like a matcher
 *   {"$capture": "name"}       any value, remembered as name (if name holds one: that value)
 *   {"$same": "name"}          the value remembered as name */
#ifndef MATCHER_H
#define MATCHER_H

#include <jansson.h>

#include "oms_error.h"
#include "oms_profile.h"

/* How one comparison runs. Only profile is needed; the rest may be zero. */
struct matcher_ctx {
    const struct oms_profile *profile; /* resolves $status and $names; NULL: numbers only */
    json_t *captures;                  /* $capture/$same values across calls; NULL: a scratch one */
    const char *rule; /* stamped as "rule" on differences not under a $rule; NULL: none */
    /* A difference whose rule is soft (a note, not a failure) does not stop two elements from
     * pairing in $unordered/$contains or an expected call from pairing with a recorded one. */
    int (*soft)(const char *rule, void *arg);
    void *soft_arg;
};

/* Checks the matchers in expected are well formed (known operator, valid regex, right argument
 * types). Returns 0, or OMS_E_INVAL with err naming path + the place inside expected. */
int matcher_validate(const json_t *expected, const char *path, struct oms_err *err);

/* Compares; appends one object {"path", "expected", "actual", "message"[, "rule"]} per difference
 * to mismatches (an array) and returns how many were added. actual NULL means "missing".
 * $capture adds to ctx->captures and $same reads it; trial comparisons ($unordered, $contains,
 * $not) leave it as it was. */
size_t matcher_run(const struct matcher_ctx *ctx, const json_t *expected, const json_t *actual,
                   const char *path, json_t *mismatches);

/* The number of differences in mismatches[from..] that are not soft under ctx. */
size_t matcher_hard_count(const struct matcher_ctx *ctx, const json_t *mismatches, size_t from);

/* matcher_run with only a profile (may be NULL) and a capture table (may be NULL). */
size_t matcher_match(const struct oms_profile *profile, const json_t *expected,
                     const json_t *actual, const char *path, json_t *mismatches);
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

/* Calls fn for every {"$rule": [id, ...]} inside expected, with the JSON path of the id; stops
 * and returns fn's value when it is not 0. */
int matcher_each_rule(const json_t *expected, const char *path,
                      int (*fn)(const char *id, const char *path, void *arg), void *arg);

/* The statuses of the profile's catalogue a text names, by name (longest first, whole words,
 * case-insensitive) or by number; writes up to max values into found, returns how many. */
size_t matcher_statuses_named(const struct oms_profile *profile, const char *text, int64_t *found,
                              size_t max);

#endif
