/* oms_alloc: allocation that aborts on exhaustion instead of returning NULL. */
#include "oms_alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oms_fatal_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fatal: %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void out_of_memory(size_t n, const char *file, int line)
{
    oms_fatal_at(file, line, "out of memory allocating %zu bytes", n);
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
