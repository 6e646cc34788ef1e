/* oms_buf: growable byte buffer with a hard cap. */
#include "oms_buf.h"

#include "oms_alloc.h"
#include "oms_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oms_buf_init(struct oms_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void oms_buf_cleanup(struct oms_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void oms_buf_reset(struct oms_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int reserve(struct oms_buf *b, size_t extra)
{
    if (b->max && (extra > b->max || b->len > b->max - extra))
        return OMS_E_INVAL;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = oms_xrealloc(b->data, cap);
    b->cap = cap;
    return 0;
}

int oms_buf_append(struct oms_buf *b, const void *data, size_t len)
{
    if (reserve(b, len) != 0)
        return OMS_E_INVAL;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int oms_buf_puts(struct oms_buf *b, const char *s)
{
    return oms_buf_append(b, s, strlen(s));
}

int oms_buf_vprintf(struct oms_buf *b, const char *fmt, va_list ap)
{
    /* Formatted once into the room there is; a second time only when it did not fit. */
    va_list copy;
    va_copy(copy, ap);
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, copy);
    va_end(copy);
    if (n < 0) {
        if (b->data)
            b->data[b->len] = '\0';
        return OMS_E_INVAL;
    }
    if ((size_t)n < room && (!b->max || b->len + (size_t)n <= b->max)) {
        b->len += (size_t)n;
        return 0;
    }
    if (reserve(b, (size_t)n) != 0) {
        if (b->data)
            b->data[b->len] = '\0';
        return OMS_E_INVAL;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int oms_buf_printf(struct oms_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = oms_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int oms_buf_append_stream(struct oms_buf *b, FILE *f)
{
    char chunk[8192];
    int rc = 0;
    while (rc == 0) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n == 0)
            break;
        rc = oms_buf_append(b, chunk, n);
    }
    return rc == 0 && ferror(f) ? OMS_E_IO : rc;
}

const char *oms_buf_str(const struct oms_buf *b)
{
    return b->data ? b->data : "";
}

char *oms_buf_take(struct oms_buf *b, size_t *len)
{
    char *p = b->data ? b->data : oms_xstrdup("");
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
