/* repro: shell commands that replay what a scenario sent - the curl that seeded the target's state
 * and the curl of each request - with secrets as shell variables ($TOKEN, $FIXTURE_TOKEN) so a
 * report can be shared, and the command line that reruns the scenario alone. */
#ifndef REPRO_H
#define REPRO_H

#include <jansson.h>
#include <stddef.h>

#include "oms_buf.h"

/* Appends s as one shell word (single quotes; bytes that are not printable ASCII go in a $'...'
 * word as \xHH). */
void repro_quote(struct oms_buf *out, const char *s, size_t len);

/* A curl command for one request to "$TARGET<path>". headers are "Name: value" lines; the one at
 * index secret_header (or none when it is (size_t)-1) is written as "Authorization: Token $TOKEN"
 * so no API token reaches a report. Returns a new string. */
char *repro_curl(const char *method, const char *path, char *const *headers, size_t header_count,
                 size_t secret_header, const char *body, size_t body_len, unsigned copies);

/* The curl that loads fixture into "$TARGET" through the fixture protocol. New string. */
char *repro_seed(const json_t *fixture);

/* "refund-harness run FILE --verbose" with the target options of the run (a token as $TOKEN).
 * target_url NULL: the embedded reference. New string. */
char *repro_rerun(const char *file, const char *target_url, int strict_reference);

#endif
