/* oms_error: the one table of error codes, and the located error struct (first error wins). */
#ifndef OMS_ERROR_H
#define OMS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* X(name, message). Codes are negative; 0 is success. */
#define OMS_ERRNO_MAP(X)                  \
    X(INVAL, "invalid argument or input") \
    X(NOENT, "not found")                 \
    X(EXIST, "already exists")            \
    X(IO, "input/output error")           \
    X(DB, "database error")               \
    X(HTTP, "http transport error")       \
    X(TIMEOUT, "timed out")               \
    X(CONFLICT, "conflicting state")      \
    X(UNSUPPORTED, "not supported")       \
    X(ENV, "environment failure")

enum oms_errno {
    OMS_OK = 0,
#define OMS_X_ENUM(name, msg) OMS_E_##name,
    OMS_E_FIRST_ = -100,
    OMS_ERRNO_MAP(OMS_X_ENUM)
#undef OMS_X_ENUM
};

/* Static text for a code; never NULL ("unknown error" for codes outside the table). */
const char *oms_strerror(int code);
/* Static name such as "OMS_E_INVAL"; never NULL. */
const char *oms_errname(int code);

#define OMS_ERR_SOURCE_MAX  512
#define OMS_ERR_PATH_MAX    512
#define OMS_ERR_MESSAGE_MAX 1024

/* A located error: where (source file or URL, line, column, JSON path) and what. line/column are
 * 0 when unknown; path is "" when the error is not about one JSON value. */
struct oms_err {
    int code;
    int line;
    int column;
    char source[OMS_ERR_SOURCE_MAX];
    char path[OMS_ERR_PATH_MAX];
    char message[OMS_ERR_MESSAGE_MAX];
};

/* Clears err (NULL allowed). */
void oms_err_clear(struct oms_err *err);
/* True when err holds an error. */
int oms_err_isset(const struct oms_err *err);

/* Records an error unless err already holds one (the first error wins, as in jansson), and
 * returns code so callers can write `return oms_err_set(...)`. err may be NULL. source and
 * path may be NULL. */
int oms_err_set(struct oms_err *err, int code, const char *source, int line, int column,
                const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
int oms_err_vset(struct oms_err *err, int code, const char *source, int line, int column,
                 const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

/* Fills a missing source in an error already set (e.g. a loader learns its file name late). */
void oms_err_set_source(struct oms_err *err, const char *source);

/* Formats "source:line:column: path: message" (omitting the parts that are unknown) into out.
 * Returns out. */
char *oms_err_format(const struct oms_err *err, char *out, size_t size);

#endif
