/* oms_journal: a ring of entries that grows up to its limit, then overwrites the oldest. */
#include "oms_journal.h"

#include "oms_alloc.h"

#include <stdlib.h>

struct oms_journal {
    json_t **ring;
    size_t *sizes; /* the weight of each entry, for the byte bound */
    size_t alloc;  /* slots allocated; grows by doubling up to limit */
    size_t limit;
    size_t max_bytes; /* 0: no byte bound */
    size_t bytes;
    size_t head; /* index of the oldest entry */
    size_t count;
    int64_t dropped;
};

struct oms_journal *oms_journal_create(size_t limit)
{
    struct oms_journal *j = OMS_NEW(struct oms_journal);
    j->limit = limit ? limit : OMS_JOURNAL_DEFAULT_LIMIT;
    return j;
}

void oms_journal_set_max_bytes(struct oms_journal *j, size_t max_bytes)
{
    j->max_bytes = max_bytes;
}

void oms_journal_destroy(struct oms_journal *j)
{
    if (!j)
        return;
    oms_journal_clear(j);
    free(j->ring);
    free(j->sizes);
    free(j);
}

static void drop_oldest(struct oms_journal *j)
{
    json_decref(j->ring[j->head]);
    j->bytes -= j->sizes[j->head];
    j->head = (j->head + 1) % j->alloc;
    j->count--;
    j->dropped++;
}

/* More slots, the entries laid out oldest first from slot 0. */
static void grow(struct oms_journal *j)
{
    size_t grown = j->alloc ? j->alloc * 2 : 64;
    grown = grown < j->limit ? grown : j->limit;
    json_t **ring = oms_xcalloc(grown, sizeof(*ring));
    size_t *sizes = oms_xcalloc(grown, sizeof(*sizes));
    for (size_t i = 0; i < j->count; i++) {
        ring[i] = j->ring[(j->head + i) % j->alloc];
        sizes[i] = j->sizes[(j->head + i) % j->alloc];
    }
    free(j->ring);
    free(j->sizes);
    j->ring = ring;
    j->sizes = sizes;
    j->alloc = grown;
    j->head = 0;
}

void oms_journal_append_sized(struct oms_journal *j, json_t *entry, size_t bytes)
{
    while (j->count > 0 && j->max_bytes && j->bytes + bytes > j->max_bytes)
        drop_oldest(j);
    if (j->count == j->limit)
        drop_oldest(j);
    if (j->count == j->alloc)
        grow(j);
    size_t at = (j->head + j->count) % j->alloc;
    j->ring[at] = entry;
    j->sizes[at] = bytes;
    j->bytes += bytes;
    j->count++;
}

void oms_journal_append(struct oms_journal *j, json_t *entry)
{
    oms_journal_append_sized(j, entry, 0);
}

void oms_journal_clear(struct oms_journal *j)
{
    for (size_t i = 0; i < j->count; i++)
        json_decref(j->ring[(j->head + i) % j->alloc]);
    j->head = 0;
    j->count = 0;
    j->bytes = 0;
    j->dropped = 0;
}

size_t oms_journal_count(const struct oms_journal *j)
{
    return j->count;
}

size_t oms_journal_limit(const struct oms_journal *j)
{
    return j->limit;
}

size_t oms_journal_bytes(const struct oms_journal *j)
{
    return j->bytes;
}

int64_t oms_journal_dropped(const struct oms_journal *j)
{
    return j->dropped;
}

json_t *oms_journal_at(const struct oms_journal *j, size_t i)
{
    return i < j->count ? j->ring[(j->head + i) % j->alloc] : NULL;
}
