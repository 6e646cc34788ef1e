/* profile_file: profile files among the files `refund-harness validate` is given - recognising one
 * and checking it against spec/profile.schema.json and the profile loader, with file, line,
 * column and JSON path on every error (docs/profile.md). */
#ifndef PROFILE_FILE_H
#define PROFILE_FILE_H

#include <jansson.h>
#include <stddef.h>

#include "oms_error.h"
#include "schema.h"

/* The name of the profile schema as the scenario schema's "$ref" writes it; schema_external of
 * the scenario schema gives the loaded profile schema. */
#define PROFILE_FILE_SCHEMA "profile.schema.json"

/* 1 when doc is a profile rather than a scenario: a JSON object with "statuses" or "transitions"
 * and without "when" (a scenario always has "when", a profile never does). */
int profile_file_is(const json_t *doc);

/* Reads file and, when it is a profile (profile_file_is), sets *is_profile to 1 and checks it:
 * first against schema (the profile schema), then, if that passed, with the profile loader, which
 * also checks what a schema cannot (statuses named anywhere are in the catalogue; numbers, names,
 * ids and slugs are unique). Errors - file, line, column, JSON path and what was expected - go to
 * errs (up to max, NULL allowed with max 0); returns how many were found, 0 for a valid profile.
 * A file that cannot be read, is not JSON or is not a profile gives *is_profile 0 and returns 0:
 * the scenario loader reports on it. */
size_t profile_file_check(const char *file, struct schema *schema, int *is_profile,
                          struct oms_err *errs, size_t max);

#endif
