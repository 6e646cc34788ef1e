/* oms_alloc: allocation that never returns NULL; out of memory aborts with file:line (as h2o). */
#ifndef OMS_ALLOC_H
#define OMS_ALLOC_H

#include <stddef.h>

/* Each returns memory the caller owns and frees with free(); on exhaustion the process aborts
 * after printing the call site, so callers need no NULL checks. */
#define oms_xmalloc(n)     oms_xmalloc_at((n), __FILE__, __LINE__)
#define oms_xcalloc(n, s)  oms_xcalloc_at((n), (s), __FILE__, __LINE__)
#define oms_xrealloc(p, n) oms_xrealloc_at((p), (n), __FILE__, __LINE__)
#define oms_xstrdup(s)     oms_xstrdup_at((s), __FILE__, __LINE__)
#define oms_xstrndup(s, n) oms_xstrndup_at((s), (n), __FILE__, __LINE__)
#define OMS_NEW(type)      ((type *)oms_xcalloc(1, sizeof(type)))
#define OMS_ARRAY_LEN(a)   (sizeof(a) / sizeof((a)[0]))

/* Prints "fatal: <file>:<line>: <message>" on stderr and aborts: the one way out for a failure a
 * process cannot go on from (no memory, a thread, descriptor or libcurl handle that cannot be made,
 * fixed SQL that does not prepare). */
#define oms_fatal(...) oms_fatal_at(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void oms_fatal_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What the macros above call, with the call site; never NULL. */
void *oms_xmalloc_at(size_t n, const char *file, int line);
void *oms_xcalloc_at(size_t n, size_t size, const char *file, int line);
void *oms_xrealloc_at(void *p, size_t n, const char *file, int line);
/* NULL in, NULL out. */
char *oms_xstrdup_at(const char *s, const char *file, int line);
/* Copies at most n bytes of s and always terminates the copy. */
char *oms_xstrndup_at(const char *s, size_t n, const char *file, int line);

#endif
