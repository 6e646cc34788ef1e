/* oms_json: jansson helpers for loading with located errors, JSON paths and strict getters. */
#ifndef OMS_JSON_H
#define OMS_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_error.h"

/* Parses a whole file. Returns a new reference, or NULL with err set to the file, line, column
 * and jansson's reason. Duplicate object keys are rejected (a repeated key is always a typo). */
json_t *oms_json_load_file(const char *filename, struct oms_err *err);
/* Parses len bytes; source names the input in errors (e.g. "request body"). Same contract. */
json_t *oms_json_load_buf(const char *data, size_t len, const char *source, struct oms_err *err);

/* Serialises compactly with keys in insertion order, byte for byte as jansson's json_dumps with
 * JSON_COMPACT | JSON_ENCODE_ANY. Returns a string the caller frees; never NULL (a NULL value
 * serialises as "null"). A value must not contain itself. */
char *oms_json_dumps(const json_t *value);
struct oms_buf;
/* The same, appended to b. */
void oms_json_append(struct oms_buf *b, const json_t *value);
/* len bytes of UTF-8 text as a JSON string (quoted and escaped as oms_json_dumps would), appended
 * to b. */
void oms_json_append_string(struct oms_buf *b, const char *s, size_t len);
/* An integer in decimal, appended to b. */
void oms_json_append_int(struct oms_buf *b, int64_t v);
/* Same, indented by 2 and with sorted keys, for files people read. */
char *oms_json_dumps_pretty(const json_t *value);

/* Child paths in the "$.a.b[3]" notation; write into out and return it. A key that is not a
 * plain identifier is written as ["key"]. */
char *oms_jpath_key(char *out, size_t size, const char *parent, const char *key);
char *oms_jpath_index(char *out, size_t size, const char *parent, size_t index);

/* Refuses keys of obj outside allowed (a NULL-terminated list): returns 0, or OMS_E_INVAL with err
 * (source, the key's JSON path under path) saying which key and what was expected. */
int oms_json_check_keys(const json_t *obj, const char *path, const char *const *allowed,
                        const char *source, struct oms_err *err);

/* The first object of list (an array; NULL allowed) whose integer "id" is id, or NULL. Borrowed. */
const json_t *oms_json_find_by_id(const json_t *list, int64_t id);

/* Reads an integer; true/false/reals/strings are refused. Returns 0 or OMS_E_INVAL. */
int oms_json_int(const json_t *value, int64_t *out);
/* Deep equality where 1 and 1.0 differ (jansson's json_equal) - used for exact matching. */
int oms_json_equal(const json_t *a, const json_t *b);
/* A short human name for the type of v: "object", "array", "string", "integer", "real",
 * "boolean", "null", or "missing" for NULL. Static. */
const char *oms_json_type_name(const json_t *v);

/* A JSON string of len bytes; bytes that are not valid UTF-8 become U+FFFD so any input can be
 * journaled. New reference, never NULL. */
json_t *oms_json_string_lossy(const char *data, size_t len);

/* Deep-merges patch into target (objects merge key by key, everything else replaces; a null in
 * patch deletes the key). target is changed in place. */
void oms_json_merge(json_t *target, const json_t *patch);

#endif
