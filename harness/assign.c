/* assign: bipartite matching by augmenting paths (Kuhn's algorithm). */
#include "assign.h"

#include "oms_alloc.h"
#include "oms_error.h"

#include <stdlib.h>
#include <string.h>

#define NONE ((size_t)-1)

struct search {
    size_t n, m;
    const unsigned char *compat;
    size_t *owner_of; /* actual j -> expected i, or NONE */
    unsigned char *seen;
};

static int augment(struct search *s, size_t i)
{
    for (size_t j = 0; j < s->m; j++) {
        if (!s->compat[i * s->m + j] || s->seen[j])
            continue;
        s->seen[j] = 1;
        if (s->owner_of[j] == NONE || augment(s, s->owner_of[j])) {
            s->owner_of[j] = i;
            return 1;
        }
    }
    return 0;
}

int assign_pairs(size_t n, size_t m, const unsigned char *compat, size_t *pairing)
{
    if (n > m)
        return OMS_E_NOENT;
    struct search s = {n, m, compat, oms_xcalloc(m + 1, sizeof(size_t)), oms_xcalloc(m + 1, 1)};
    for (size_t j = 0; j < m; j++)
        s.owner_of[j] = NONE;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        memset(s.seen, 0, m);
        ok = augment(&s, i);
    }
    if (ok)
        for (size_t j = 0; j < m; j++)
            if (s.owner_of[j] != NONE)
                pairing[s.owner_of[j]] = j;
    free(s.owner_of);
    free(s.seen);
    return ok ? 0 : OMS_E_NOENT;
}
