/* oms_buf: a growable byte buffer with a hard size cap (as curl's dynbuf). Always NUL-terminated.
 */
#ifndef OMS_BUF_H
#define OMS_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct oms_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* 0: no cap */
};

/* Prepares an empty buffer that refuses to grow beyond max bytes (0 = unbounded). */
void oms_buf_init(struct oms_buf *b, size_t max);
/* Frees the contents; the buffer is empty and reusable afterwards. NULL allowed. */
void oms_buf_cleanup(struct oms_buf *b);
/* Empties the buffer but keeps its memory. */
void oms_buf_reset(struct oms_buf *b);

/* Appends; returns 0, or OMS_E_INVAL when the cap would be exceeded (nothing is appended). */
int oms_buf_append(struct oms_buf *b, const void *data, size_t len);
int oms_buf_puts(struct oms_buf *b, const char *s);
int oms_buf_printf(struct oms_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int oms_buf_vprintf(struct oms_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Appends the rest of f (an open stream; not closed). Returns 0, OMS_E_INVAL when the cap would be
 * exceeded (what fitted before is kept), or OMS_E_IO on a read error. */
int oms_buf_append_stream(struct oms_buf *b, FILE *f);

/* Contents as a C string ("" when empty); borrowed, valid until the next change. */
const char *oms_buf_str(const struct oms_buf *b);
/* Hands the contents to the caller (free() them; never NULL) and leaves the buffer empty. */
char *oms_buf_take(struct oms_buf *b, size_t *len);

#endif
