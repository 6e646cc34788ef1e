/* oms_alloc: allocation that aborts on exhaustion instead of returning NULL. */
#include "oms_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n, const char *file, int line)
{
    fprintf(stderr, "fatal: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    abort();
}

void *oms_xmalloc_at(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n, file, line);
    return p;
}

void *oms_xcalloc_at(size_t n, size_t size, const char *file, int line)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n * size, file, line);
    return p;
}

void *oms_xrealloc_at(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n, file, line);
    return q;
}

char *oms_xstrdup_at(const char *s, const char *file, int line)
{
    if (!s)
        return NULL;
    return oms_xstrndup_at(s, strlen(s), file, line);
}

char *oms_xstrndup_at(const char *s, size_t n, const char *file, int line)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *p = oms_xmalloc_at(len + 1, file, line);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
