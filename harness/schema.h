/* schema: a validator for the subset of JSON Schema (2020-12) the scenario and profile schemas
 * use - type, enum, const, minimum, maximum, minLength, maxLength (in characters), pattern, items,
 * minItems, maxItems, properties, patternProperties, additionalProperties, required, local $ref
 * ("#/$defs/name") and $ref to a whole schema file beside this one ("profile.schema.json") - plus
 * two keywords of our own: "x-exactlyOne": [keys] (exactly one of these keys must be present) and
 * "x-mergePatch": true (the value is an RFC 7396 merge patch of what the rest of the node
 * describes: keys may be left out and null deletes one, down to the first array). Unknown keys get
 * a did-you-mean suggestion. */
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

/* Loads a schema file, and the schema files its "$ref"s name (from the same directory). Returns
 * 0 and *out, or a negative code with err (file, line, column) and *out NULL. */
int schema_load(const char *path, struct schema **out, struct oms_err *err);
/* Builds a schema from a document (a new reference is kept). Never fails; a "$ref" to another
 * file checks nothing, as no file was loaded. */
struct schema *schema_from_json(const json_t *doc);
/* Destroys s and the schemas it loaded; NULL is allowed. */
void schema_destroy(struct schema *s);
/* The schema loaded for a "$ref" to the file name (as written in the $ref), borrowed from s; NULL
 * when s names no such file. */
struct schema *schema_external(const struct schema *s, const char *name);

/* Validates doc. Fills up to max issues (in document order) and returns how many were found,
 * 0 when doc is valid. */
size_t schema_validate(struct schema *s, const json_t *doc, struct schema_issue *issues,
                       size_t max);

/* Levenshtein distance of two short strings (for suggestions); exposed for tests. */
size_t schema_edit_distance(const char *a, const char *b);

#endif
