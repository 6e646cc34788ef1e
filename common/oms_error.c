/* oms_error: error code names and messages, and the located error struct. */
#include "oms_error.h"

#include <stdio.h>
#include <string.h>

const char *oms_strerror(int code)
{
    switch (code) {
    case OMS_OK:
        return "success";
#define OMS_X_CASE(name, msg) \
    case OMS_E_##name:        \
        return msg;
        OMS_ERRNO_MAP(OMS_X_CASE)
#undef OMS_X_CASE
    default:
        return "unknown error";
    }
}

const char *oms_errname(int code)
{
    switch (code) {
    case OMS_OK:
        return "OMS_OK";
#define OMS_X_NAME(name, msg) \
    case OMS_E_##name:        \
        return "OMS_E_" #name;
        OMS_ERRNO_MAP(OMS_X_NAME)
#undef OMS_X_NAME
    default:
        return "OMS_E_UNKNOWN";
    }
}

void oms_err_clear(struct oms_err *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int oms_err_isset(const struct oms_err *err)
{
    return err && err->code != 0;
}

int oms_err_vset(struct oms_err *err, int code, const char *source, int line, int column,
                 const char *path, const char *fmt, va_list ap)
{
    if (!err || err->code != 0)
        return code;
    err->code = code ? code : OMS_E_INVAL;
    err->line = line;
    err->column = column;
    snprintf(err->source, sizeof(err->source), "%s", source ? source : "");
    snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    return code;
}

int oms_err_set(struct oms_err *err, int code, const char *source, int line, int column,
                const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    oms_err_vset(err, code, source, line, column, path, fmt, ap);
    va_end(ap);
    return code;
}

void oms_err_set_source(struct oms_err *err, const char *source)
{
    if (err && err->code != 0 && err->source[0] == '\0' && source)
        snprintf(err->source, sizeof(err->source), "%s", source);
}

char *oms_err_format(const struct oms_err *err, char *out, size_t size)
{
    size_t n = 0;
    if (size == 0)
        return out;
    out[0] = '\0';
    if (!err)
        return out;
#define OMS_APPEND(...)                                        \
    do {                                                       \
        if (n < size) {                                        \
            int w_ = snprintf(out + n, size - n, __VA_ARGS__); \
            n += w_ > 0 ? (size_t)w_ : 0;                      \
        }                                                      \
    } while (0)
    if (err->source[0]) {
        OMS_APPEND("%s", err->source);
        if (err->line > 0)
            OMS_APPEND(":%d", err->line);
        if (err->line > 0 && err->column > 0)
            OMS_APPEND(":%d", err->column);
        OMS_APPEND(": ");
    }
    if (err->path[0])
        OMS_APPEND("at %s: ", err->path);
    OMS_APPEND("%s", err->message[0] ? err->message : oms_strerror(err->code));
#undef OMS_APPEND
    return out;
}
