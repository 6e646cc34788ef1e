/* jpos: where each value of a JSON text starts (line and column), by JSON path, so errors about a
 * parsed document can point into the file a person edits. */
#ifndef JPOS_H
#define JPOS_H

#include <stddef.h>

struct jpos;

/* Indexes text (which must already have parsed as JSON). Never NULL; free with jpos_destroy. */
struct jpos *jpos_index(const char *text, size_t len);
void jpos_destroy(struct jpos *p);

/* Line and column (1-based) of the value at path ("$.a[0].b", as oms_jpath_* writes them). When
 * the path is not present (e.g. a missing key), the nearest present ancestor is used. Returns 0,
 * or OMS_E_NOENT when nothing matched (then line and column are 0). */
int jpos_lookup(const struct jpos *p, const char *path, int *line, int *column);

#endif
