/* oms_journal: a ring of entries that grows up to its limit, then overwrites the oldest. */
#include "oms_journal.h"

#include "oms_alloc.h"

#include <stdlib.h>

struct oms_journal {
    json_t **ring;
    size_t alloc; /* slots allocated; grows by doubling up to limit */
    size_t limit;
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

void oms_journal_destroy(struct oms_journal *j)
{
    if (!j)
        return;
    oms_journal_clear(j);
    free(j->ring);
    free(j);
}

void oms_journal_append(struct oms_journal *j, json_t *entry)
{
    if (j->count == j->limit) {
        json_decref(j->ring[j->head]);
        j->ring[j->head] = entry;
        j->head = (j->head + 1) % j->limit;
        j->dropped++;
        return;
    }
    /* Below the limit nothing has wrapped yet: head is 0 and the entries are in order. */
    if (j->count == j->alloc) {
        size_t grown = j->alloc ? j->alloc * 2 : 64;
        j->alloc = grown < j->limit ? grown : j->limit;
        j->ring = oms_xrealloc(j->ring, j->alloc * sizeof(*j->ring));
    }
    j->ring[j->count++] = entry;
}

void oms_journal_clear(struct oms_journal *j)
{
    for (size_t i = 0; i < j->count; i++)
        json_decref(j->ring[(j->head + i) % j->limit]);
    j->head = 0;
    j->count = 0;
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

int64_t oms_journal_dropped(const struct oms_journal *j)
{
    return j->dropped;
}

json_t *oms_journal_at(const struct oms_journal *j, size_t i)
{
    return i < j->count ? j->ring[(j->head + i) % j->limit] : NULL;
}
