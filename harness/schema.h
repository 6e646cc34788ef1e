/* schema: a validator for the subset of JSON Schema (2020-12) the scenario schema uses - type,
 * enum, const, minimum, maximum, minLength, maxLength (in characters), pattern, items, minItems,
 * maxItems, properties, patternProperties, additionalProperties, required, local $ref - plus
 * "x-exactlyOne": [keys] (exactly one of these keys must be present). Unknown keys get a
 * did-you-mean suggestion. */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "oms_error.h"

struct schema;

struct schema_issue {
    char path[OMS_ERR_PATH_MAX];
    char message[OMS_ERR_MESSAGE_MAX];
};

/* Loads a schema file. Returns 0 and *out, or a negative code with err (file, line, column). */
int schema_load(const char *path, struct schema **out, struct oms_err *err);
/* Builds a schema from a document (a new reference is kept). Never fails. */
struct schema *schema_from_json(const json_t *doc);
void schema_destroy(struct schema *s);

/* Validates doc. Fills up to max issues (in document order) and returns how many were found,
 * 0 when doc is valid. */
size_t schema_validate(struct schema *s, const json_t *doc, struct schema_issue *issues,
                       size_t max);

/* Levenshtein distance of two short strings (for suggestions); exposed for tests. */
size_t schema_edit_distance(const char *a, const char *b);

#endif
