/* refcheck: the values of a scenario that name things of the profile - statuses, transition ids
 * and slugs, lifecycle actions, webhook event types - checked against the profile (with the
 * scenario's own "given.profile" overrides), so a typo such as "Wating" is an error of validate
 * with the nearest name, not a failure at run time. Request data is not checked: a command's body
 * may send an unknown slug on purpose to see the 400 (docs/scenario-format.md, "References and
 * data"), except when the step expects that command to succeed. */
#ifndef REFCHECK_H
#define REFCHECK_H

#include <stddef.h>

#include "oms_error.h"
#include "oms_profile.h"
#include "scenario.h"

/* Checks s against profile. Errors (file, line, column, JSON path, what was expected and the
 * nearest name) go to errs (up to max); returns how many were found, 0 when all is well. */
size_t refcheck_scenario(const struct scenario *s, const struct oms_profile *profile,
                         struct oms_err *errs, size_t max);

#endif
