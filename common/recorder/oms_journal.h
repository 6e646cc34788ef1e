/* oms_journal: the ordered record of what a receiver was sent, bounded so that a receiver left
 * running for days keeps a fixed amount of memory: past its limit the oldest entries are forgotten
 * and counted. Not thread-safe: the owner locks. */
#ifndef OMS_JOURNAL_H
#define OMS_JOURNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Entries kept when the owner names no limit. */
#define OMS_JOURNAL_DEFAULT_LIMIT 100000

struct oms_journal;

/* limit 0: OMS_JOURNAL_DEFAULT_LIMIT. Never NULL; free with oms_journal_destroy. */
struct oms_journal *oms_journal_create(size_t limit);
void oms_journal_destroy(struct oms_journal *j);
/* Bounds the total weight of the entries kept as well (0: no byte bound). */
void oms_journal_set_max_bytes(struct oms_journal *j, size_t max_bytes);
/* Appends entry (the journal takes the reference); at the limit the oldest entry goes first, and
 * so do as many of the oldest as the byte bound needs (the newest entry is always kept). */
void oms_journal_append(struct oms_journal *j, json_t *entry);
/* The same with the entry's weight in bytes, counted against the byte bound. */
void oms_journal_append_sized(struct oms_journal *j, json_t *entry, size_t bytes);
/* The total weight of the entries kept. */
size_t oms_journal_bytes(const struct oms_journal *j);
/* Forgets every entry and the count of dropped ones. */
void oms_journal_clear(struct oms_journal *j);
size_t oms_journal_count(const struct oms_journal *j);
size_t oms_journal_limit(const struct oms_journal *j);
/* How many entries were forgotten to stay within the limits since the last clear. */
int64_t oms_journal_dropped(const struct oms_journal *j);
/* Entry i, 0 the oldest kept (borrowed; valid until the next change), or NULL past the end. */
json_t *oms_journal_at(const struct oms_journal *j, size_t i);

#endif
